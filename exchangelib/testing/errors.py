"""The two ways an operation of the local EWS server fails: the whole request, or one item of it.

Kept apart from :mod:`.context` so that the store (which raises :class:`ResponseCodeError` for
malformed ids) and the request context (which holds the store) import in one direction only.
"""
from __future__ import annotations

from typing import Any, Optional

__all__ = ["SoapFault", "ResponseCodeError"]


class SoapFault(Exception):
    """A whole-request failure, answered as a SOAP fault (HTTP 500) carrying an EWS ResponseCode."""

    def __init__(self, response_code: str, message: str, fault_code: str = "a:ErrorSchemaValidation",
                 http_status: int = 500, line: Optional[int] = None, position: Optional[int] = None):
        super().__init__(f"{response_code}: {message}")
        self.response_code = response_code
        self.message = message
        self.fault_code = fault_code
        self.http_status = http_status
        self.line = line
        self.position = position


class ResponseCodeError(Exception):
    """Raised inside a handler for one item's failure; the handler turns it into an Error ResponseMessage."""

    def __init__(self, response_code: str, message: str = "", **extra: Any):
        super().__init__(f"{response_code}: {message}")
        self.response_code = response_code
        self.message = message or response_code
        self.extra = extra  # e.g. back_off_ms for ErrorServerBusy -> MessageXml
