"""GetUserOofSettings: read a mailbox's out-of-office settings.

Unlike most operations, the response has a single ``m:ResponseMessage`` (no ResponseMessages list)
followed by ``t:OofSettings``.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseroofsettings-operation
"""
from __future__ import annotations

from typing import Any, Optional

from ..errors import TransportError
from ..settings import OofSettings
from ..soap import response_message_error
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService

_RESPONSE_MESSAGE = f"{{{MNS}}}ResponseMessage"
_OOF_SETTINGS = f"{{{TNS}}}OofSettings"


def oof_mailbox_xml(address: str) -> Element:
    """``<t:Mailbox><t:Address>..</t:Address></t:Mailbox>`` (the availability schema's EmailAddress)."""
    mailbox = create_element("t:Mailbox")
    add_child(mailbox, "t:Address", text=address)
    return mailbox


def check_single_response(service: EWSService, response: Element) -> None:
    """Raise the error of a response's single ``m:ResponseMessage``, if it has one."""
    msg = response.find(_RESPONSE_MESSAGE)
    if msg is None:
        return
    exc = response_message_error(msg, service.SERVICE_NAME)
    if exc is not None:
        raise exc


class GetUserOofSettings(EWSService):
    """``GetUserOofSettings(account=...).call(address)`` returns the mailbox's :class:`OofSettings`."""

    SERVICE_NAME = "GetUserOofSettingsRequest"

    def call(self, mailbox: Optional[str] = None) -> Any:
        address = mailbox or self.account.primary_smtp_address
        payload = create_element("m:GetUserOofSettingsRequest")
        payload.append(oof_mailbox_xml(address))
        response = self._post(payload)
        check_single_response(self, response)
        settings = response.find(_OOF_SETTINGS)
        if settings is None:
            raise TransportError(f"{self.SERVICE_NAME}: the response carries no OofSettings")
        return OofSettings.from_xml(settings, account=self.account)
