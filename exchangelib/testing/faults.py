"""Faults to inject into the local EWS server, to test how a client copes with a bad day.

Use them with :meth:`exchangelib.testing.server.EWSServer.inject`::

    server.inject(ServerBusy(back_off_ms=2000), count=2, operations="FindItem")
    server.inject(HTTPStatus(503, retry_after=1))
    server.inject(ConnectionReset())
    server.inject(TruncatedResponse(), operations=["GetItem"])
    server.inject(Latency(250), count=None)           # every request, until cancelled

- :class:`ServerBusy` is Exchange's throttling answer. Exchange sends it as a SOAP fault (HTTP 500,
  ``a:ErrorServerBusy`` with ``<t:Value Name="BackOffMilliseconds">`` in ``t:MessageXml``);
  ``as_fault=False`` puts it in the operation's ResponseMessage instead (HTTP 200), which some
  servers do for batch operations.
- :class:`HTTPStatus` answers with a bare HTTP status (503 with ``Retry-After``, a 500 with or
  without an ErrorServerBusy body, 502 from a proxy...).
- :class:`ConnectionReset` drops the TCP connection (RST) mid-response.
- :class:`TruncatedResponse` runs the operation, then sends valid headers and half the XML.
- :class:`Latency` delays matching requests (on top of the server's global ``latency_ms``).
- :class:`SlowResponse` runs the operation, then trickles the response (headers too) a few bytes
  a second, like a stalled proxy (optionally after a first part sent at full speed).
- :class:`OversizedResponse` answers with a huge body (optionally a gzip bomb) streamed from a
  generator, so the server itself stays small.

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
"""
from __future__ import annotations

import threading
from typing import Iterable, List, Optional, Tuple, Union

from lxml import etree

from ..xml import MNS, TNS
from .soap import Fault

__all__ = ["InjectableFault", "ServerBusy", "HTTPStatus", "ConnectionReset", "TruncatedResponse", "Latency",
           "SlowResponse", "OversizedResponse", "Injection", "server_busy_fault", "concurrency_fault", "SERVER_BUSY_TEXT"]

SERVER_BUSY_TEXT = "The server cannot service this request right now. Try again later."
_HTTP_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                 503: "Service Unavailable", 504: "Gateway Timeout"}


class InjectableFault:
    """Base class of injectable faults."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


def server_busy_fault(back_off_ms: int, message: Optional[str] = None) -> Fault:
    """The ErrorServerBusy SOAP fault, as Exchange sends it when throttling."""
    return Fault("ErrorServerBusy", message or SERVER_BUSY_TEXT,
                 message_xml={"BackOffMilliseconds": str(int(back_off_ms))})


def concurrency_fault(limit: int, back_off_ms: int) -> Fault:
    """ErrorServerBusy for too many concurrent requests (the ``EWSMaxConcurrency`` budget)."""
    detail = (f"This operation exceeds the throttling budget for policy part 'MaxConcurrency', policy value "
              f"'{limit}',  Budget type: 'Ews'.  Suggested backoff time {int(back_off_ms)} ms.")
    return Fault("ErrorServerBusy", "You have exceeded the available concurrent connections for your account. "
                                    "Try again once your other requests have completed.",
                 message_xml={"Policy": "MaxConcurrency", "MaxConcurrencyLimit": str(limit),
                              "ErrorMessage": detail, "BackOffMilliseconds": str(int(back_off_ms))})


class ServerBusy(InjectableFault):
    """Exchange throttling: ``ErrorServerBusy`` with a ``BackOffMilliseconds`` hint.

    ``as_fault=True`` (default, what Exchange does): SOAP fault, HTTP 500. ``as_fault=False``: an
    HTTP 200 response whose single ResponseMessage has ``ResponseClass="Error"`` and
    ``ResponseCode`` ErrorServerBusy. The operation is not executed either way.
    """

    def __init__(self, back_off_ms: int = 30000, as_fault: bool = True, message: Optional[str] = None):
        if not isinstance(back_off_ms, int) or isinstance(back_off_ms, bool) or back_off_ms < 0:
            raise ValueError(f"ServerBusy.back_off_ms must be a non-negative int, got {back_off_ms!r}")
        self.back_off_ms = back_off_ms
        self.as_fault = as_fault
        self.message = message

    def fault(self) -> Fault:
        return server_busy_fault(self.back_off_ms, self.message)

    def response_message(self, operation: str) -> etree._Element:
        """``m:<Op>Response`` with one ErrorServerBusy ResponseMessage (for ``as_fault=False``)."""
        resp = etree.Element(f"{{{MNS}}}{operation}Response", nsmap={"m": MNS, "t": TNS})
        msgs = etree.SubElement(resp, f"{{{MNS}}}ResponseMessages")
        msg = etree.SubElement(msgs, f"{{{MNS}}}{operation}ResponseMessage")
        msg.set("ResponseClass", "Error")
        etree.SubElement(msg, f"{{{MNS}}}MessageText").text = self.message or SERVER_BUSY_TEXT
        etree.SubElement(msg, f"{{{MNS}}}ResponseCode").text = "ErrorServerBusy"
        etree.SubElement(msg, f"{{{MNS}}}DescriptiveLinkKey").text = "0"
        mx = etree.SubElement(msg, f"{{{MNS}}}MessageXml")
        v = etree.SubElement(mx, f"{{{TNS}}}Value")
        v.set("Name", "BackOffMilliseconds")
        v.text = str(self.back_off_ms)
        return resp


class HTTPStatus(InjectableFault):
    """Answer with an HTTP status instead of running the operation.

    ``retry_after`` (seconds) adds a ``Retry-After`` header. ``server_busy=True`` sends the
    ErrorServerBusy SOAP fault as the body (with ``back_off_ms``); otherwise the body is a short
    IIS-style HTML page, or ``body`` if given.
    """

    def __init__(self, status: int, retry_after: Optional[Union[int, str]] = None, server_busy: bool = False,
                 back_off_ms: int = 30000, body: Optional[bytes] = None):
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"HTTPStatus.status must be an HTTP status code, got {status!r}")
        if body is not None and not isinstance(body, bytes):
            raise TypeError("HTTPStatus.body must be bytes or None")
        self.status = status
        self.retry_after = retry_after
        self.server_busy = server_busy
        self.back_off_ms = back_off_ms
        self.body = body

    @property
    def reason(self) -> str:
        return _HTTP_REASONS.get(self.status, "Error")

    def headers(self) -> List[Tuple[str, str]]:
        h = []
        if self.retry_after is not None:
            h.append(("Retry-After", str(self.retry_after)))
        return h

    def html(self) -> bytes:
        return (f"<!DOCTYPE html><html><head><title>{self.status} {self.reason}</title></head>"
                f"<body><h1>{self.status} - {self.reason}</h1></body></html>").encode()


class ConnectionReset(InjectableFault):
    """Drop the connection with a TCP reset.

    ``mid_response=True`` (default) sends the status line and part of the headers first;
    ``False`` resets before sending anything. ``after_action=False`` (default) resets before the
    operation runs; ``True`` runs it first, so the work is done but the client never hears of it.
    """

    def __init__(self, mid_response: bool = True, after_action: bool = False):
        self.mid_response = mid_response
        self.after_action = after_action


class TruncatedResponse(InjectableFault):
    """Run the operation, then send valid headers and only the first half of the XML, and close.

    ``declare_full_length=True`` (default): Content-Length announces the whole body, so the client
    sees the connection end early. ``False``: Content-Length matches the half that is sent, so the
    HTTP exchange looks complete and the client must notice the broken XML.
    """

    def __init__(self, declare_full_length: bool = True):
        self.declare_full_length = declare_full_length


class DroppedStream(InjectableFault):
    """For a streamed response (GetStreamingEvents): deliver ``after`` chunks with notifications, then
    reset the connection half-way through the next one (its events are not marked delivered)."""

    def __init__(self, after: int = 1):
        self.after = after


class Latency(InjectableFault):
    """Delay matching requests by ``ms`` milliseconds before they are processed."""

    def __init__(self, ms: float):
        if not isinstance(ms, (int, float)) or isinstance(ms, bool) or ms < 0:
            raise ValueError(f"Latency.ms must be a non-negative number, got {ms!r}")
        self.ms = ms


class SlowResponse(InjectableFault):
    """Run the operation, then send the response (status line, headers and body) at ``bytes_per_second``.

    ``headers_too=False`` sends the headers at once and trickles only the body. ``fast_bytes`` sends that
    many bytes of the body at full speed first (a download that stalls half-way: a tiny
    ``bytes_per_second`` such as 0.01 is a server that stops sending).
    """

    def __init__(self, bytes_per_second: float = 1.0, headers_too: bool = True, fast_bytes: int = 0):
        if not isinstance(bytes_per_second, (int, float)) or isinstance(bytes_per_second, bool) \
                or bytes_per_second <= 0:
            raise ValueError(f"SlowResponse.bytes_per_second must be a positive number, got {bytes_per_second!r}")
        if not isinstance(fast_bytes, int) or isinstance(fast_bytes, bool) or fast_bytes < 0:
            raise ValueError(f"SlowResponse.fast_bytes must be a non-negative int, got {fast_bytes!r}")
        self.bytes_per_second = bytes_per_second
        self.headers_too = headers_too
        self.fast_bytes = fast_bytes


class OversizedResponse(InjectableFault):
    """Answer HTTP 200 with ``size`` bytes of well-formed XML made of tiny elements, without running the
    operation.

    ``gzip=True`` sends it gzip-compressed (``Content-Encoding: gzip``): a few hundred KB on the wire
    that inflate to ``size`` bytes. ``declare_length=True`` announces the size in Content-Length
    (plain bodies only); otherwise the body ends when the connection closes.
    """

    def __init__(self, size: int, gzip: bool = False, declare_length: bool = False):
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"OversizedResponse.size must be a positive int, got {size!r}")
        self.size = size
        self.gzip = gzip
        self.declare_length = declare_length and not gzip

    def chunks(self, chunk_size: int = 1 << 16) -> Iterable[bytes]:
        """The (uncompressed) body, chunk by chunk: an envelope around ``<e/>`` elements."""
        head = (b'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
                b'envelope/"><s:Body><x>')
        tail = b"</x></s:Body></s:Envelope>"
        filler = self.size - len(head) - len(tail)
        yield head
        unit = b"<e/>" * (chunk_size // 4)
        while filler > 0:
            piece = unit[:filler]
            filler -= len(piece)
            if len(piece) % 4:
                piece = piece[: len(piece) - len(piece) % 4] + b" " * (len(piece) % 4)
            yield piece
        yield tail


class Injection:
    """A fault armed on a server. ``count=None`` means until cancelled.

    Usable as a context manager: the fault is removed on exit. ``hits`` counts how often it fired.
    """

    def __init__(self, fault: InjectableFault, count: Optional[int] = 1,
                 operations: Union[None, str, Iterable[str]] = None, users: Union[None, str, Iterable[str]] = None,
                 _owner: Optional[object] = None):
        if not isinstance(fault, InjectableFault):
            raise TypeError(f"inject() expects a fault such as ServerBusy(), got {type(fault).__name__}")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError(f"inject(count=...) must be a positive int or None (forever), got {count!r}")
        self.fault = fault
        self.remaining = count
        self.operations = _name_set(operations, "operations", lower=False)
        self.users = _name_set(users, "users", lower=True)
        self.hits = 0
        self._lock = threading.Lock()
        self._owner = _owner
        self.cancelled = False

    def matches(self, operation: Optional[str], user: Optional[str]) -> bool:
        if self.operations is not None and operation not in self.operations:
            return False
        if self.users is not None and (user or "").lower() not in self.users:
            return False
        return True

    def take(self, operation: Optional[str], user: Optional[str]) -> bool:
        """Fire once if this injection applies to the request; thread-safe."""
        if self.cancelled or not self.matches(operation, user):
            return False
        with self._lock:
            if self.remaining is not None:
                if self.remaining <= 0:
                    return False
                self.remaining -= 1
            self.hits += 1
            return True

    @property
    def exhausted(self) -> bool:
        return self.cancelled or (self.remaining is not None and self.remaining <= 0)

    def cancel(self) -> None:
        self.cancelled = True
        owner = self._owner
        if owner is not None and hasattr(owner, "_remove_injection"):
            owner._remove_injection(self)

    def __enter__(self) -> "Injection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    def __repr__(self) -> str:
        return (f"Injection({self.fault!r}, remaining={self.remaining}, operations={self.operations}, "
                f"hits={self.hits})")


def _name_set(value: Union[None, str, Iterable[str]], what: str, lower: bool) -> Optional[frozenset]:
    if value is None:
        return None
    if isinstance(value, str):
        value = (value,)
    out = set()
    for v in value:
        if not isinstance(v, str) or not v:
            raise TypeError(f"inject({what}=...) must be a str or an iterable of str, got {v!r}")
        out.add(v.lower() if lower else v)
    return frozenset(out)
