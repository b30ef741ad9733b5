"""SendNotification: the request Exchange POSTs to a push subscription's callback URL.

It runs backwards compared to the other operations: the *server* sends it and your web application
answers. :meth:`SendNotification.parse` turns the request body into
:class:`~exchangelib.properties.Notification` objects, and :meth:`SendNotification.ok_payload` /
:meth:`SendNotification.unsubscribe_payload` are the response bodies to send back (HTTP 200,
``Content-Type: text/xml; charset=utf-8``): ``OK`` keeps the subscription, ``Unsubscribe`` ends it.
Works from any web framework (Django, Flask...); see also :class:`exchangelib.push.PushListener`.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/sendnotification
"""
from __future__ import annotations

from typing import Any, Iterator

from ..errors import MalformedResponseError
from ..properties.notifications import Notification
from ..soap import response_message_error, split_envelope
from ..xml import MNS, SOAPNS, Element, add_child, create_element, parse, to_bytes
from .common import EWSService

OK = "OK"
UNSUBSCRIBE = "Unsubscribe"
STATUS_CHOICES = (OK, UNSUBSCRIBE)
_NOTIFICATION = f"{{{MNS}}}Notification"
_SEND_NOTIFICATION = f"{{{MNS}}}SendNotification"


class SendNotification(EWSService):
    """Parse push notifications and build the answers. Needs no account: ``SendNotification(protocol=None)``."""

    SERVICE_NAME = "SendNotification"
    OK = OK
    UNSUBSCRIBE = UNSUBSCRIBE
    STATUS_CHOICES = STATUS_CHOICES

    def __init__(self, account: Any = None, protocol: Any = None, chunk_size: Any = None):
        self.account = account
        self.protocol = protocol if protocol is not None or account is None else account.protocol
        self.chunk_size = chunk_size or self.CHUNK_SIZE

    def parse(self, body: bytes) -> Iterator[Notification]:
        """The notifications in a SendNotification request body (bytes, as the web framework received them).

        Raises :class:`~exchangelib.errors.MalformedResponseError` for a body that is not a
        SendNotification envelope, and the response code's exception for an error message in it.
        """
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            _, soap_body = split_envelope(parse(body))
        except Exception as e:
            raise MalformedResponseError(f"Not a SendNotification request: {e}") from e
        request = soap_body.find(_SEND_NOTIFICATION)
        if request is None:
            raise MalformedResponseError("Not a SendNotification request: the SOAP body has no m:SendNotification")
        messages = request.find(f"{{{MNS}}}ResponseMessages")
        for msg in (messages if messages is not None else ()):
            exc = response_message_error(msg, self.SERVICE_NAME)
            if exc is not None:
                raise exc
            for n in msg.findall(_NOTIFICATION):
                yield Notification.from_xml(n, account=self.account)

    def get_payload(self, status: str) -> Element:
        if status not in STATUS_CHOICES:
            raise ValueError(f"status must be one of {STATUS_CHOICES}, got {status!r}")
        payload = create_element("m:SendNotificationResult")
        add_child(payload, "m:SubscriptionStatus", text=status)
        return payload

    def wrap(self, content: Element) -> bytes:
        envelope = create_element("s:Envelope", nsmap={"s": SOAPNS, "m": MNS})
        add_child(envelope, "s:Body").append(content)
        return to_bytes(envelope)

    def ok_payload(self) -> bytes:
        """The answer that keeps the subscription."""
        return self.wrap(self.get_payload(OK))

    def unsubscribe_payload(self) -> bytes:
        """The answer that ends the subscription."""
        return self.wrap(self.get_payload(UNSUBSCRIBE))
