"""GetStreamingEvents: notifications of streaming subscriptions over one long-lived HTTP response.

The server keeps the response open for ``connection_timeout`` minutes (1..30) and sends one SOAP
envelope per chunk: notifications as changes happen, ``ConnectionStatus`` OK heartbeats in between
and ``Closed`` at the end. :meth:`GetStreamingEvents.call` yields each
:class:`~exchangelib.properties.Notification` as its envelope arrives. If the connection drops, it
reconnects for the rest of the time (the server sends again what it could not deliver) and skips
events it already yielded, so no event is lost or repeated.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getstreamingevents-operation
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, Iterator, List, Optional, Sequence

from ..errors import ErrorServerBusy, StreamInterrupted, TransportError
from ..properties.notifications import Notification
from ..soap import response_message_error
from ..version import EXCHANGE_2010_SP1
from ..xml import MNS, TNS, add_child, create_element
from .common import EWSService

log = logging.getLogger(__name__)

_MESSAGES = f"{{{MNS}}}ResponseMessages"
_NOTIFICATIONS = f"{{{MNS}}}Notifications"
_NOTIFICATION = f"{{{TNS}}}Notification"
_STATUS = f"{{{MNS}}}ConnectionStatus"
_ERROR_IDS = f"{{{MNS}}}ErrorSubscriptionIds"
OK = "OK"
CLOSED = "Closed"
_SEEN_LIMIT = 10_000


class GetStreamingEvents(EWSService):
    SERVICE_NAME = "GetStreamingEvents"
    supported_from = EXCHANGE_2010_SP1
    #: Reconnect attempts in a row without receiving anything before giving up.
    MAX_RECONNECTS = 3

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        #: Reconnections made after a dropped connection.
        self.reconnects = 0
        self.connection_status: Optional[str] = None
        #: Subscription ids the server reported as failed with the last error.
        self.error_subscription_ids: List[str] = []

    def call(self, subscription_ids: Sequence[str], connection_timeout: int = 1,
             max_notifications_returned: Optional[int] = None) -> Iterator[Notification]:
        self.check_supported()
        if isinstance(subscription_ids, str):
            subscription_ids = [subscription_ids]
        subscription_ids = list(subscription_ids)
        if not subscription_ids or not all(isinstance(s, str) and s for s in subscription_ids):
            raise ValueError(f"subscription_ids must be subscription id strings, got {subscription_ids!r}")
        if not isinstance(connection_timeout, int) or isinstance(connection_timeout, bool) \
                or not 1 <= connection_timeout <= 30:
            raise ValueError(f"connection_timeout must be an int number of minutes in 1..30, got "
                             f"{connection_timeout!r}")
        if max_notifications_returned is not None and (not isinstance(max_notifications_returned, int)
                                                       or max_notifications_returned < 1):
            raise ValueError(f"max_notifications_returned must be a positive int, got {max_notifications_returned!r}")
        deadline = time.monotonic() + connection_timeout * 60
        seen: "OrderedDict[str, None]" = OrderedDict()  # watermarks of events already yielded
        returned = 0
        failures = 0
        while True:
            minutes = max(1, min(30, int((deadline - time.monotonic()) // 60) or 1))
            try:
                for notification in self._connection(subscription_ids, minutes):
                    failures = 0
                    fresh = []
                    for ev in notification.events:
                        if ev.watermark and ev.watermark in seen:
                            continue
                        if ev.watermark:
                            seen[ev.watermark] = None
                            if len(seen) > _SEEN_LIMIT:
                                seen.popitem(last=False)
                        fresh.append(ev)
                    if not fresh:
                        continue
                    notification.__dict__["events"] = fresh
                    yield notification
                    returned += 1
                    if max_notifications_returned is not None and returned >= max_notifications_returned:
                        return
                return  # the server closed the connection normally
            except StreamInterrupted as e:
                failures += 1
                if failures > self.MAX_RECONNECTS or time.monotonic() >= deadline:
                    raise
                self.reconnects += 1
                log.info("Streaming connection dropped (%s); reconnecting", e)
            except ErrorServerBusy as e:
                # Throttled when (re)connecting: a retrying policy (ServiceAccount) waits as asked and goes on
                failures += 1
                wait = e.back_off if e.back_off is not None else 1.0
                if self.protocol.retry_policy.fail_fast or failures > self.MAX_RECONNECTS \
                        or time.monotonic() + wait >= deadline:
                    raise
                log.info("Streaming connection throttled; reconnecting in %.1fs", wait)
                time.sleep(wait)
                self.reconnects += 1

    def _connection(self, subscription_ids: List[str], minutes: int) -> Iterator[Notification]:
        elem = create_element("m:GetStreamingEvents")
        ids = add_child(elem, "m:SubscriptionIds")
        for s in subscription_ids:
            add_child(ids, "t:SubscriptionId", text=s)
        add_child(elem, "m:ConnectionTimeout", text=str(minutes))
        kwargs = self.account.soap_header_kwargs() if self.account is not None else {}
        impersonation = kwargs.get("impersonation")
        for response in self.protocol.post_streaming(elem, api_version=self.version.api_version,
                                                     impersonation=impersonation, operation=self.SERVICE_NAME,
                                                     read_timeout=max(self.protocol.TIMEOUT, minutes * 60 + 30)):
            messages = response.find(_MESSAGES)
            if messages is None:
                raise TransportError("GetStreamingEvents: response has no ResponseMessages element")
            for msg in messages:
                exc = response_message_error(msg, self.SERVICE_NAME)
                if exc is not None:
                    ids_el = msg.find(_ERROR_IDS)
                    self.error_subscription_ids = [e.text or "" for e in ids_el] if ids_el is not None else []
                    raise exc
                self.connection_status = msg.findtext(_STATUS)
                container = msg.find(_NOTIFICATIONS)
                for n in (container if container is not None else ()):
                    if n.tag == _NOTIFICATION:
                        yield Notification.from_xml(n, account=self.account)
                if self.connection_status == CLOSED:
                    return
