"""GetDelegate, AddDelegate, UpdateDelegate and RemoveDelegate: a mailbox's delegates.

The response element is itself a response message (an error there fails the whole request) and holds one
``DelegateUserResponseMessageType`` per delegate, in request order; each becomes the :class:`DelegateUser`
or the exception for that user. GetDelegate and the others also carry ``DeliverMeetingRequests``.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getdelegate-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/adddelegate-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updatedelegate-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/removedelegate-operation
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional, Tuple

from ..properties.permissions import DELIVER_MEETING_REQUESTS, DelegateUser, UserId, UserIdField
from ..soap import response_message_error
from ..xml import MNS, Element, add_child, create_element
from .common import EWSService

_M = f"{{{MNS}}}"
_USER_ID = UserIdField(name="user_id")


def _user_id(value: Any) -> UserId:
    if isinstance(value, DelegateUser):
        value = value.user_id
    return _USER_ID.clean(value)


class _DelegateService(EWSService):
    def _payload(self, mailbox: Optional[str]) -> Element:
        payload = create_element(f"m:{self.SERVICE_NAME}")
        mb = add_child(payload, "m:Mailbox")
        add_child(mb, "t:EmailAddress", text=mailbox or self.account.primary_smtp_address)
        return payload

    def _run(self, payload: Element) -> Tuple[List[Any], Optional[str]]:
        response = self._post(payload)
        exc = response_message_error(response, self.SERVICE_NAME)
        if exc is not None:
            raise exc
        out: List[Any] = []
        messages = response.find(f"{_M}ResponseMessages")
        for msg in messages if messages is not None else ():
            err = response_message_error(msg, self.SERVICE_NAME)
            if err is not None:
                out.append(err)
                continue
            du = msg.find(f"{_M}DelegateUser")
            out.append(DelegateUser.from_xml(du, account=self.account) if du is not None else True)
        return out, response.findtext(f"{_M}DeliverMeetingRequests")

    @staticmethod
    def _add_deliver(payload: Element, deliver_meeting_requests: Optional[str]) -> None:
        if deliver_meeting_requests is None:
            return
        if deliver_meeting_requests not in DELIVER_MEETING_REQUESTS:
            raise ValueError(f"deliver_meeting_requests must be one of {DELIVER_MEETING_REQUESTS}, "
                             f"got {deliver_meeting_requests!r}")
        add_child(payload, "m:DeliverMeetingRequests", text=deliver_meeting_requests)


class GetDelegate(_DelegateService):
    """``call(user_ids=None, include_permissions=True)`` -> (delegates or exceptions, DeliverMeetingRequests)."""

    SERVICE_NAME = "GetDelegate"

    def call(self, user_ids: Optional[Iterable[Any]] = None, include_permissions: bool = True,
             mailbox: Optional[str] = None) -> Tuple[List[Any], Optional[str]]:
        payload = self._payload(mailbox)
        payload.set("IncludePermissions", "true" if include_permissions else "false")
        ids = [_user_id(u) for u in user_ids or ()]
        if ids:
            container = add_child(payload, "m:UserIds")
            for uid in ids:
                uid.add_to(container, self.version)
        return self._run(payload)


class AddDelegate(_DelegateService):
    """``call(delegates, deliver_meeting_requests=None)`` -> (one DelegateUser or exception per input, setting)."""

    SERVICE_NAME = "AddDelegate"

    def call(self, delegates: Iterable[DelegateUser], deliver_meeting_requests: Optional[str] = None,
             mailbox: Optional[str] = None) -> Tuple[List[Any], Optional[str]]:
        users = list(delegates)
        for d in users:
            if not isinstance(d, DelegateUser):
                raise TypeError(f"Expected DelegateUser objects, got {type(d).__name__}")
        if not users and self.SERVICE_NAME == "AddDelegate":
            raise ValueError("AddDelegate needs at least one DelegateUser")
        payload = self._payload(mailbox)
        if users:
            container = add_child(payload, "m:DelegateUsers")
            for d in users:
                d.clean(self.version)
                d.add_to(container, self.version)
        self._add_deliver(payload, deliver_meeting_requests)
        return self._run(payload)


class UpdateDelegate(AddDelegate):
    """Like AddDelegate, for existing delegates; with no delegates it changes only DeliverMeetingRequests."""

    SERVICE_NAME = "UpdateDelegate"


class RemoveDelegate(_DelegateService):
    """``call(users)`` -> (True or the exception per input, setting)."""

    SERVICE_NAME = "RemoveDelegate"

    def call(self, users: Iterable[Any], mailbox: Optional[str] = None) -> Tuple[List[Any], Optional[str]]:
        ids = [_user_id(u) for u in users]
        if not ids:
            raise ValueError("RemoveDelegate needs at least one user")
        payload = self._payload(mailbox)
        container = add_child(payload, "m:UserIds")
        for uid in ids:
            uid.add_to(container, self.version)
        return self._run(payload)


__all__ = ["GetDelegate", "AddDelegate", "UpdateDelegate", "RemoveDelegate"]
