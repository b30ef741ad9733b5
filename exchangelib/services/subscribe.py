"""Subscribe: create a pull, push or streaming notification subscription on folders of one mailbox.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/subscribe-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence, Tuple

from ..errors import TransportError
from ..soap import response_message_error
from ..version import EXCHANGE_2010_SP1
from ..xml import MNS, Element, add_child, create_element
from .common import EWSService
from .ids import folder_ids_xml

#: The event types a subscription can ask for (StatusEvent always comes).
EVENT_TYPES = ("CopiedEvent", "CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent", "NewMailEvent",
               "FreeBusyChangedEvent")


def check_event_types(event_types: Optional[Iterable[str]]) -> Tuple[str, ...]:
    if event_types is None:
        return EVENT_TYPES
    if isinstance(event_types, str):
        raise TypeError(f"event_types must be a list of event type names, not the str {event_types!r}")
    out = tuple(event_types)
    unknown = [e for e in out if e not in EVENT_TYPES]
    if unknown or not out:
        raise ValueError(f"event_types must be a non-empty list of {EVENT_TYPES}, got {list(out)!r}")
    return out


def _minutes(name: str, value: Any, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise ValueError(f"{name} must be an int number of minutes in 1..{high}, got {value!r}")
    return value


class _Subscribe(EWSService):
    SERVICE_NAME = "Subscribe"
    REQUEST = ""

    def _request(self, folders: Sequence[Any], event_types: Iterable[str], watermark: Optional[str] = None
                 ) -> Tuple[Element, Element]:
        elem = create_element("m:Subscribe")
        request = add_child(elem, f"m:{self.REQUEST}")
        if folders:
            mailbox = self.account.primary_smtp_address if self.account is not None else None
            request.append(folder_ids_xml("t:FolderIds", folders, mailbox))
        else:
            request.set("SubscribeToAllFolders", "true")
        types = add_child(request, "t:EventTypes")
        for e in check_event_types(event_types):
            add_child(types, "t:EventType", text=e)
        if watermark:
            add_child(request, "t:Watermark", text=watermark)
        return elem, request

    def _subscribe(self, payload: Element) -> Tuple[str, Optional[str]]:
        messages = self._response_messages(self._post(payload))
        if len(messages) != 1:
            raise TransportError(f"Subscribe: expected one ResponseMessage, got {len(messages)}")
        exc = response_message_error(messages[0], self.SERVICE_NAME)
        if exc is not None:
            raise exc
        sid = messages[0].findtext(f"{{{MNS}}}SubscriptionId")
        if not sid:
            raise TransportError("Subscribe: the response has no SubscriptionId")
        return sid, messages[0].findtext(f"{{{MNS}}}Watermark")


class SubscribeToPull(_Subscribe):
    REQUEST = "PullSubscriptionRequest"

    def call(self, folders: Sequence[Any], event_types: Optional[Iterable[str]] = None,
             watermark: Optional[str] = None, timeout: int = 60) -> Tuple[str, Optional[str]]:
        """Returns ``(subscription_id, watermark)``. ``timeout``: minutes without GetEvents until it expires."""
        elem, request = self._request(folders, event_types or EVENT_TYPES, watermark)
        add_child(request, "t:Timeout", text=str(_minutes("timeout", timeout, 1440)))
        return self._subscribe(elem)


class SubscribeToPush(_Subscribe):
    REQUEST = "PushSubscriptionRequest"

    def call(self, folders: Sequence[Any], callback_url: str, event_types: Optional[Iterable[str]] = None,
             watermark: Optional[str] = None, status_frequency: int = 1) -> Tuple[str, Optional[str]]:
        """Returns ``(subscription_id, watermark)``. The server POSTs notifications to ``callback_url``."""
        if not isinstance(callback_url, str) or not callback_url.startswith(("http://", "https://")):
            raise ValueError(f"callback_url must be an http(s) URL, got {callback_url!r}")
        elem, request = self._request(folders, event_types or EVENT_TYPES, watermark)
        add_child(request, "t:StatusFrequency", text=str(_minutes("status_frequency", status_frequency, 1440)))
        add_child(request, "t:URL", text=callback_url)
        return self._subscribe(elem)


class SubscribeToStreaming(_Subscribe):
    REQUEST = "StreamingSubscriptionRequest"
    supported_from = EXCHANGE_2010_SP1

    def call(self, folders: Sequence[Any], event_types: Optional[Iterable[str]] = None) -> str:
        """Returns the subscription id (streaming subscriptions have no watermark; Exchange 2010 SP1 and later)."""
        self.check_supported()
        elem, _ = self._request(folders, event_types or EVENT_TYPES)
        return self._subscribe(elem)[0]
