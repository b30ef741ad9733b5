"""GetEvents: the events of a pull subscription after a watermark.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getevents-operation
"""
from __future__ import annotations

from ..errors import TransportError
from ..properties.notifications import Notification
from ..xml import MNS, add_child, create_element
from .common import EWSService

_NOTIFICATION = f"{{{MNS}}}Notification"


class GetEvents(EWSService):
    SERVICE_NAME = "GetEvents"

    def call(self, subscription_id: str, watermark: str) -> Notification:
        """One Notification: the events after ``watermark`` (``more_events``: ask again for the rest)."""
        for name, value in (("subscription_id", subscription_id), ("watermark", watermark)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty str, got {value!r}")
        elem = create_element("m:GetEvents")
        add_child(elem, "m:SubscriptionId", text=subscription_id)
        add_child(elem, "m:Watermark", text=watermark)
        (res,) = self._results(elem, expected=1)
        if isinstance(res, Exception):
            raise res
        n = res.find(_NOTIFICATION)
        if n is None:
            raise TransportError("GetEvents: the response has no Notification")
        return Notification.from_xml(n, account=self.account)
