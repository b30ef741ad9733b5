"""The contract between the local server's HTTP layer (server.py) and its operations (ops/).

The HTTP layer authenticates the caller, reads the SOAP headers, validates the body in strict
mode and then calls ``OPERATIONS[local name of the body child](ctx, body_child)``. A handler
returns the response element (for example ``m:GetItemResponse``) or raises :class:`SoapFault`
for a failure of the whole request. Per-item failures are ResponseMessages with
ResponseClass="Error" inside the normal response, built by the handler.

This module, like everything under ``exchangelib.testing``, must not import the client's
models or services.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

from lxml.etree import _Element

from .errors import ResponseCodeError, SoapFault
from .store import Mailbox, Store

__all__ = ["SoapFault", "ResponseCodeError", "RequestContext", "StreamingResponse", "Handler", "OPERATIONS", "operation"]


@dataclass
class RequestContext:
    """Everything a handler needs to know about the request being served."""

    store: "Store"
    # The authenticated user's primary SMTP address (lowercase).
    caller: str
    # The mailbox operations act on by default: the caller's own, or the impersonated one.
    mailbox: "Mailbox"
    # The RequestServerVersion the client asked for, e.g. 'Exchange2016'.
    requested_version: str
    # The build the server emulates, as a 4-tuple, e.g. (15, 1, 2507, 6).
    server_build: tuple
    # Windows time zone id from TimeZoneContext, if given.
    time_zone_id: Optional[str] = None
    # Culture from MailboxCulture, if given.
    culture: Optional[str] = None
    # DateTimePrecision header value ('Seconds' or 'Milliseconds'), if given.
    date_time_precision: Optional[str] = None
    # Callable(caller_smtp, target_smtp) -> bool: may the caller open the target mailbox (delegate access)?
    can_access: Callable[[str, str], bool] = field(default=lambda caller, target: caller == target)
    # The operation being served (e.g. 'GetItem'); set by the handler registry. Folder permission checks use it.
    operation: str = ""

    def mailbox_for(self, smtp_address: Optional[str]) -> "Mailbox":
        """Resolve an explicit <t:Mailbox> in a folder id to a store mailbox, checking delegate access.

        Raises ResponseCodeError('ErrorNonExistentMailbox') or ('ErrorAccessDenied').
        """
        if not smtp_address:
            return self.mailbox
        mb = self.store.get_mailbox(smtp_address)
        if mb is None:
            raise ResponseCodeError("ErrorNonExistentMailbox", f"No mailbox with SMTP address {smtp_address}")
        if mb is not self.mailbox and not self.can_access(self.caller, mb.primary_smtp_address):
            raise ResponseCodeError("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        return mb


class StreamingResponse:
    """What a handler returns when its response goes out as a stream of SOAP envelopes over one chunked
    HTTP response (GetStreamingEvents): ``parts`` yields ``(response body element, commit)``; the
    server writes and flushes each envelope as its own chunk, then calls ``commit`` (if not None)."""

    def __init__(self, parts: Iterator[Tuple["_Element", Optional[Callable[[], None]]]]):
        self.parts = parts


Handler = Callable[[RequestContext, "_Element"], Any]  # returns the response element or a StreamingResponse

# Filled by exchangelib.testing.ops: operation local name (e.g. 'GetItem') -> handler.
OPERATIONS: Dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    """Decorator registering a handler for one EWS operation."""

    def register(fn: Handler) -> Handler:
        OPERATIONS[name] = fn
        return fn

    return register
