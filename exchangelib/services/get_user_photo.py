"""GetUserPhoto: a user's picture from the directory (Exchange 2013 and later).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuserphoto-operation
"""
from __future__ import annotations

import base64

from ..errors import TransportError
from ..soap import response_message_error
from ..version import EXCHANGE_2013
from ..xml import MNS, add_child, create_element
from .common import EWSService

PHOTO_SIZES = ("HR48x48", "HR64x64", "HR96x96", "HR120x120", "HR240x240", "HR360x360", "HR432x432", "HR504x504",
               "HR648x648", "HR1024xN", "HR1920xN")


class GetUserPhoto(EWSService):
    SERVICE_NAME = "GetUserPhoto"
    supported_from = EXCHANGE_2013

    def call(self, email: str, size: str = "HR96x96") -> bytes:
        if size not in PHOTO_SIZES:
            raise ValueError(f"size must be one of {PHOTO_SIZES}, got {size!r}")
        if not isinstance(email, str) or "@" not in email:
            raise ValueError(f"email must be an email address, got {email!r}")
        self.check_supported()
        payload = create_element("m:GetUserPhoto")
        add_child(payload, "m:Email", text=email)
        add_child(payload, "m:SizeRequested", text=size)
        response = self._post(payload)
        exc = response_message_error(response, self.SERVICE_NAME)
        if exc is not None:
            raise exc
        data = response.findtext(f"{{{MNS}}}PictureData")
        if data is None:
            raise TransportError(f"{self.SERVICE_NAME}: the response carries no PictureData")
        return base64.b64decode(data)
