"""SetUserOofSettings: change a mailbox's out-of-office settings.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/setuseroofsettings-operation
"""
from __future__ import annotations

from typing import Optional

from ..settings import OofSettings
from ..xml import create_element
from .common import EWSService
from .get_user_oof_settings import check_single_response, oof_mailbox_xml


class SetUserOofSettings(EWSService):
    """``SetUserOofSettings(account=...).call(settings)`` saves :class:`OofSettings` for the mailbox."""

    SERVICE_NAME = "SetUserOofSettingsRequest"

    def call(self, settings: OofSettings, mailbox: Optional[str] = None) -> None:
        if not isinstance(settings, OofSettings):
            raise TypeError(f"oof_settings must be an OofSettings instance, got {type(settings).__name__}")
        address = mailbox or self.account.primary_smtp_address
        payload = create_element("m:SetUserOofSettingsRequest")
        payload.append(oof_mailbox_xml(address))
        payload.append(settings.to_xml(self.version))
        check_single_response(self, self._post(payload))
