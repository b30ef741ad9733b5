"""Retry rules, all in one place.

A request may fail in a way that is worth retrying: the server says it is busy (``ErrorServerBusy``,
with a ``BackOffMilliseconds`` hint), answers HTTP 503/429 (maybe with ``Retry-After``) or an HTTP 500
whose body is an ``ErrorServerBusy`` fault, drops the connection, or sends a truncated response.

:class:`FailFast` (the default for plain :class:`~exchangelib.credentials.Credentials`) never retries:
the caller gets the error at once. :class:`FaultTolerance` (the default for
:class:`~exchangelib.credentials.ServiceAccount`) waits and retries with exponential back-off,
honouring the server's hint, and raises :class:`~exchangelib.errors.RateLimitError` once the next wait
would take the total past ``max_wait``.

Two kinds of failure get special rules:

* A failure to *connect* (connection refused, DNS name not found, connect timeout) is not
  throttling: the request never reached a server. It fails at once under both policies, unless the
  caller gives :class:`FaultTolerance` a ``max_connect_wait`` budget (seconds) for riding out a server
  restart.
* A failure *after the request was sent* (connection dropped, response cut short, read timeout) is
  ambiguous for a write: the server may have done it. Such a request is retried only when it is
  idempotent; for other writes :meth:`RetryPolicy.run` raises
  :class:`~exchangelib.errors.OutcomeUnknownError` and the service decides (see
  :mod:`exchangelib.exactly_once`).
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

from .errors import OutcomeUnknownError, RateLimitError
from .lazy import LazyModule

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import random
else:
    random = LazyModule("random")

log = logging.getLogger(__name__)
T = TypeVar("T")


class Retriable(Exception):
    """Internal signal: the attempt failed in a retriable way. ``hint`` is the server's wait in seconds."""

    #: ``kind``: SERVER (throttling or an unavailable server; the request was not carried out), CONNECT (no
    #: connection could be made; nothing was sent) or SENT (the request went out and its answer was lost: the
    #: server may have carried it out).
    SERVER = "server"
    CONNECT = "connect"
    SENT = "sent"

    def __init__(self, reason: str, hint: Optional[float] = None, error: Optional[BaseException] = None,
                 kind: str = SERVER, retry: bool = True):
        super().__init__(reason)
        self.retry = retry
        self.reason = reason
        self.hint = hint
        self.error = error
        self.kind = kind


class RetryPolicy:
    """Decides whether and how long to wait before the next attempt."""

    fail_fast = True
    max_wait: float = 0
    #: Seconds in total that failures to connect (refused, DNS) may be retried; 0 = fail at once.
    max_connect_wait: float = 0

    def next_wait(self, attempt: int, hint: Optional[float]) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, attempt_fn: Callable[[], T], sleep: Callable[[float], None] = time.sleep,
            operation: Optional[str] = None, idempotent: bool = True) -> T:
        """Call ``attempt_fn`` until it returns, retrying on :class:`Retriable` as the policy allows.

        ``operation`` (e.g. 'GetItem') names the request in log messages and in the RateLimitError.
        ``idempotent=False`` marks a write that must not be sent twice: a failure after it was sent
        raises :class:`~exchangelib.errors.OutcomeUnknownError` at once instead of being retried.
        """
        what = f"{operation} request" if operation else "request"
        waited = 0.0
        connect_waited = 0.0
        attempt = 0
        while True:
            try:
                return attempt_fn()
            except Retriable as r:
                if r.kind == Retriable.SENT and not idempotent:
                    raise OutcomeUnknownError(
                        f"The {what} was sent, but its answer was lost ({r.error or r.reason}); the server may or "
                        f"may not have carried it out, so it was not sent again.",
                        operation=operation, cause=r.error) from r.error
                if not r.retry:
                    if r.error is not None:
                        raise r.error
                    raise
                if r.kind == Retriable.CONNECT:
                    wait = self.next_wait(attempt, None) if self.max_connect_wait > 0 else 0.0
                    if self.max_connect_wait <= 0 or connect_waited + wait > self.max_connect_wait:
                        if r.error is not None:
                            raise r.error
                        raise
                    log.warning("Could not connect for a %s (%s); retrying in %.2fs", what, r.reason, wait)
                    sleep(wait)
                    connect_waited += wait
                    attempt += 1
                    continue
                if self.fail_fast:
                    if r.error is not None:
                        raise r.error
                    raise
                wait = self.next_wait(attempt, r.hint)
                if waited + wait > self.max_wait:
                    raise RateLimitError(
                        f"Gave up the {what} after waiting {waited:.1f}s in total for a server that keeps "
                        f"failing ({r.reason}); the next wait of {wait:.1f}s would pass "
                        f"max_wait={self.max_wait:g}s. Try again later or raise max_wait.",
                        wait=wait, max_wait=self.max_wait, operation=operation,
                    ) from r.error
                log.warning("Server trouble (%s) on a %s; retrying in %.2fs (attempt %d, %.1fs waited so far)",
                            r.reason, what, wait, attempt + 1, waited)
                sleep(wait)
                waited += wait
                attempt += 1


class FailFast(RetryPolicy):
    """Never retry; raise the server's error at once."""

    fail_fast = True

    def next_wait(self, attempt: int, hint: Optional[float]) -> float:
        return 0.0

    def __repr__(self) -> str:
        return "FailFast()"


class FaultTolerance(RetryPolicy):
    """Retry with exponential back-off (with jitter) for at most ``max_wait`` seconds in total per request.

    ``max_connect_wait`` (default 0: fail at once) is the separate budget for failures to connect.

    When the server gives a hint (``BackOffMilliseconds`` or ``Retry-After``), exactly that is waited.
    """

    fail_fast = False

    def __init__(self, max_wait: float = 3600, base: float = 1.0, cap: float = 300.0, max_connect_wait: float = 0):
        if max_wait <= 0:
            raise ValueError(f"FaultTolerance.max_wait must be > 0, got {max_wait!r}")
        if max_connect_wait < 0:
            raise ValueError(f"FaultTolerance.max_connect_wait must be >= 0, got {max_connect_wait!r}")
        self.max_wait = float(max_wait)
        self.max_connect_wait = float(max_connect_wait)
        self.base = float(base)
        self.cap = float(cap)

    def next_wait(self, attempt: int, hint: Optional[float]) -> float:
        if hint is not None and hint > 0:
            return hint  # The server knows best how long it needs
        backoff = min(self.cap, self.base * (2 ** attempt))
        return backoff * (0.5 + random.random() / 2)  # jitter spreads the retries of parallel workers

    def __repr__(self) -> str:
        # Protocol.for_config keys its cache on this repr: every setting that changes behaviour belongs here
        extra = f", max_connect_wait={self.max_connect_wait}" if self.max_connect_wait else ""
        return f"FaultTolerance(max_wait={self.max_wait}, base={self.base}, cap={self.cap}{extra})"
