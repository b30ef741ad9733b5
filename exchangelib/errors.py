"""Every exception the library raises.

``EWSError`` is the root. Under it:

* ``TransportError`` - HTTP or connection problems (``RedirectError``, ``SOAPError``, ``MalformedResponseError``);
* ``UnauthorizedError`` - the server rejected the credentials;
* ``RateLimitError`` - we gave up waiting for a throttling server;
* ``ResponseMessageError`` - an error ResponseCode in an EWS response, with one subclass per code
  (``ErrorItemNotFound``, ``ErrorServerBusy`` with its ``back_off`` ...), generated from the schema into
  :mod:`exchangelib.response_codes` and re-exported here;
* value errors that are also ``ValueError``/``TypeError`` (``NaiveDateTimeNotAllowed``, ``UnknownTimeZone``,
  ``InvalidTypeError`` ...) and the query errors ``DoesNotExist`` and ``MultipleObjectsReturned``.

Use ``error_for_code(code, message, operation, message_xml)`` to turn a ResponseCode into an exception.
This module imports nothing from the package except the generated ``response_codes``.
"""
from __future__ import annotations

import datetime
from typing import Any, Optional, Tuple, Type, Union
from urllib.parse import urlsplit

from .response_codes import *  # noqa: F401,F403 - re-export every generated class
from .response_codes import __all__ as _response_code_names
from .response_codes import EWSError

__all__ = list(_response_code_names) + [
    "TransportError", "RedirectError", "SOAPError", "MalformedResponseError", "UnauthorizedError",
    "RateLimitError", "AutoDiscoverFailed", "NaiveDateTimeNotAllowed", "UnknownTimeZone", "InvalidTimeError",
    "AmbiguousTimeError", "NonExistentTimeError", "DoesNotExist", "MultipleObjectsReturned", "InvalidTypeError",
    "StreamInterrupted",
    "OutcomeUnknownError", "ResponseTooLargeError", "DeadlineExceededError",
]
__all__ += ["OAuth2TokenError"]


# --- transport ---------------------------------------------------------------------------------------------

class TransportError(EWSError):
    """The HTTP exchange with the server failed: connection problems, unexpected HTTP status, bad payload.

    ``status_code`` is the HTTP status when there was a response (else None).
    """

    def __init__(self, message: str = "", *, status_code: Optional[int] = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RedirectError(TransportError):
    """The server answered with a redirect the library does not follow by itself.

    ``url`` is the redirect target; ``server`` its host name and ``has_ssl`` whether it uses https.
    """

    def __init__(self, url: str, message: Optional[str] = None, *, status_code: Optional[int] = None) -> None:
        super().__init__(message or f"Redirected to {url!r}", status_code=status_code)
        self.url = url
        parts = urlsplit(url)
        self.server: Optional[str] = parts.hostname
        self.has_ssl = parts.scheme == "https"

    def __reduce__(self) -> Any:
        return type(self), (self.url, str(self)), self.__dict__


class SOAPError(TransportError):
    """The server returned a SOAP fault instead of a response (``fault_code``, ``fault_string``)."""

    def __init__(self, message: str = "", *, fault_code: Optional[str] = None, fault_string: Optional[str] = None,
                 status_code: Optional[int] = None) -> None:
        super().__init__(message or fault_string or fault_code or "SOAP fault", status_code=status_code)
        self.fault_code = fault_code
        self.fault_string = fault_string


class StreamInterrupted(TransportError):
    """A streamed response (GetStreamingEvents) broke off: the connection dropped or an envelope was cut.
    ``folder.get_streaming_events()`` reconnects by itself; you see this only if reconnecting fails too."""


class MalformedResponseError(TransportError):
    """The server's response could not be understood (not XML, not SOAP, or not the expected shape)."""


class ResponseTooLargeError(TransportError):
    """A response (or its decompressed body) was larger than the protocol's ``max_response_size``.

    It is never retried: the next attempt would fetch the same bytes. Ask for fewer items per request
    (``chunk_size``, ``page_size``, ``only()``) or raise ``max_response_size`` on the protocol.
    ``limit`` is the cap in bytes.
    """

    def __init__(self, message: str = "", *, limit: Optional[int] = None, status_code: Optional[int] = None) -> None:
        super().__init__(message or f"The response is larger than the limit of {limit} bytes", status_code=status_code)
        self.limit = limit


class DeadlineExceededError(TransportError):
    """One HTTP request (connect, send, headers and body together) took longer than the protocol's
    ``deadline`` in seconds, so it was abandoned. ``deadline`` holds the limit."""

    def __init__(self, message: str = "", *, deadline: Optional[float] = None) -> None:
        super().__init__(message or f"The request took longer than its deadline of {deadline} s")
        self.deadline = deadline


class OutcomeUnknownError(TransportError):
    """A write reached the server, but its answer was lost (connection dropped, response cut short,
    deadline passed), and the library could not find out whether the server carried it out.

    The write was *not* sent again, so it happened at most once. The message says how to check.
    ``operation`` is the EWS operation (``'CreateItem'``, ``'SendItem'`` ...); ``write_token`` is the
    token the library stored on a created item (search for it with
    :func:`exchangelib.exactly_once.find_written`), or None; ``cause`` is the underlying error.
    """

    def __init__(self, message: str = "", *, operation: Optional[str] = None, write_token: Optional[str] = None,
                 cause: Optional[BaseException] = None) -> None:
        super().__init__(message or f"The outcome of the {operation or 'write'} request is unknown: {cause}")
        self.operation = operation
        self.write_token = write_token
        self.cause = cause

    def __reduce__(self) -> Any:
        return type(self), (str(self),), self.__dict__


# --- authentication and throttling ------------------------------------------------------------------------

class UnauthorizedError(EWSError):
    """The server rejected the credentials. Check the username (often 'DOMAIN\\user' or an email address),
    the password or token, and the auth type."""


class OAuth2TokenError(UnauthorizedError):
    """The OAuth 2.0 token endpoint refused to issue a token.

    ``error`` is the OAuth error code (``invalid_grant``, ``invalid_client``, ``unauthorized_client``...),
    ``description`` the endpoint's explanation and ``status_code`` its HTTP status. ``invalid_grant`` on a
    refresh means the refresh token was revoked or expired: the user has to sign in again.
    """

    def __init__(self, message: str, error: str = "", description: str = "", status_code: int = 0):
        super().__init__(message)
        self.error = error
        self.description = description
        self.status_code = status_code


class RateLimitError(EWSError):
    """The server kept throttling us and waiting longer would exceed ``max_wait`` seconds.

    ``wait`` is how long the server last asked us to wait, in seconds; ``operation`` the EWS operation
    that was given up (e.g. 'GetItem'), when known. The last error from the server is ``__cause__``.
    """

    def __init__(self, message: str = "", *, wait: Optional[float] = None, max_wait: Optional[float] = None,
                 operation: Optional[str] = None) -> None:
        if not message:
            message = "The server is throttling requests"
            if wait is not None:
                message += f" and asked us to wait {wait:g} s"
            if max_wait is not None:
                message += f", more than max_wait={max_wait:g} s allows"
            message += "; retry later or raise max_wait in the retry policy"
        super().__init__(message)
        self.wait = wait
        self.max_wait = max_wait
        self.operation = operation


class AutoDiscoverFailed(EWSError):
    """Autodiscover could not find the EWS endpoint. Give the server or service endpoint explicitly."""


# --- values ----------------------------------------------------------------------------------------------

class NaiveDateTimeNotAllowed(EWSError, ValueError):
    """A datetime without a time zone was used where EWS needs one; ``local_dt`` holds the offending value."""

    def __init__(self, message: str = "", *, local_dt: Optional[datetime.datetime] = None) -> None:
        super().__init__(message or f"Naive datetime {local_dt!r} is not allowed; make it timezone-aware")
        self.local_dt = local_dt


class UnknownTimeZone(EWSError, ValueError):
    """A time zone name or object that cannot be mapped between IANA and Windows."""


class InvalidTimeError(EWSError, ValueError):
    """A local time that is ambiguous or does not exist in its time zone."""


class AmbiguousTimeError(InvalidTimeError):
    """A local time that occurs twice (when clocks go back); pass is_dst=True/False to choose."""


class NonExistentTimeError(InvalidTimeError):
    """A local time that is skipped (when clocks go forward); pass is_dst=True/False to choose."""


class DoesNotExist(EWSError):
    """A query that should return one object (e.g. ``.get()``) found none."""


class MultipleObjectsReturned(EWSError):
    """A query that should return one object (e.g. ``.get()``) found several."""


_MISSING: Any = object()


class InvalidTypeError(EWSError, TypeError):
    """A value of the wrong type was given.

    Either ``InvalidTypeError('message')`` or ``InvalidTypeError(name, value, valid_types)``, which says
    ``"'name' must be of type <valid_types>, got <value type>"``; the latter sets ``name``, ``value`` and
    ``valid_types``.
    """

    def __init__(self, name: str, value: Any = _MISSING,
                 valid_types: Union[Type[Any], Tuple[Type[Any], ...], None] = None) -> None:
        self.name = name
        self.value = None if value is _MISSING else value
        self.valid_types = valid_types
        if value is _MISSING:
            super().__init__(name)
            return
        if isinstance(valid_types, tuple):
            expected = " or ".join(_type_name(t) for t in valid_types)
        elif valid_types is not None:
            expected = _type_name(valid_types)
        else:
            expected = "another type"
        super().__init__(f"{name!r} must be of type {expected}, got {type(value).__name__}")


def _type_name(t: Any) -> str:
    return getattr(t, "__name__", str(t))
