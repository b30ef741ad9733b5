"""Unsubscribe: end a pull or streaming subscription (push subscriptions end when the callback answers
``Unsubscribe``).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/unsubscribe-operation
"""
from __future__ import annotations

from ..xml import add_child, create_element
from .common import EWSService


class Unsubscribe(EWSService):
    SERVICE_NAME = "Unsubscribe"

    def call(self, subscription_id: str) -> bool:
        if not isinstance(subscription_id, str) or not subscription_id:
            raise ValueError(f"subscription_id must be a non-empty str, got {subscription_id!r}")
        elem = create_element("m:Unsubscribe")
        add_child(elem, "m:SubscriptionId", text=subscription_id)
        (res,) = self._results(elem, expected=1)
        if isinstance(res, Exception):
            raise res
        return True
