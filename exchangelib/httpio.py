"""Bounded HTTP reads: an overall deadline per request and a cap on the (decompressed) response size.

``requests`` timeouts apply to each socket operation, so a server that sends one byte a second
never times out. :class:`Deadline` arms a timer for the whole request (connect, send, headers and
body); when it fires, the socket in use is shut down, which wakes the blocked read at once.
One daemon thread serves every deadline of the process.

:func:`read_capped` reads a streamed response body in chunks and decompresses it itself (gzip or
deflate), so neither the bytes on the wire nor the inflated bytes can pass ``limit``: a 1 MB gzip
bomb stops after ``limit`` bytes of output instead of filling the memory. :func:`iter_capped` is the
same read, chunk by chunk, for bodies that are consumed as they arrive (a streamed attachment).

:class:`StreamDeadline` is the deadline of such a streamed body, which may legitimately take long: the
server must keep it moving (no gap longer than ``stall`` seconds between chunks) and keep up a minimum
throughput (``seconds`` plus one second per ``min_rate`` bytes received), while the time the consumer
spends between chunks (:meth:`StreamDeadline.pause`) does not count.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import zlib
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple

from .errors import ResponseTooLargeError
from .lazy import LazyModule

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import inspect
    import socket
else:
    inspect = LazyModule("inspect")
    socket = LazyModule("socket")

log = logging.getLogger(__name__)

_current = threading.local()  # .deadline: the Deadline of the request this thread is sending


def note_connection(conn: Any) -> Any:
    """Remember ``conn`` as the connection of the request this thread is sending (see track_connections)."""
    d = getattr(_current, "deadline", None)
    if d is not None:
        d._conn = conn
    return conn


#: read() functions of response classes -> whether they take decode_content (inspect.signature costs ~30 us,
#: and this is asked once per response)
_DECODE_CONTENT: Dict[Any, bool] = {}


def _takes_decode_content(read: Any) -> bool:
    func = getattr(read, "__func__", None)  # a method of the response's class: its answer is the class's
    if func is not None:
        known = _DECODE_CONTENT.get(func)
        if known is not None:
            return known
    try:
        params = inspect.signature(read).parameters
    except (TypeError, ValueError):
        return True  # no signature to read: assume urllib3's
    takes = "decode_content" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
    if func is not None and len(_DECODE_CONTENT) < 64:
        _DECODE_CONTENT[func] = takes
    return takes


class _Watchdog:
    """One thread that fires expired deadlines, earliest first."""

    def __init__(self) -> None:
        self._heap: List[Tuple[float, int, "Deadline"]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: Optional[threading.Thread] = None

    def add(self, d: "Deadline") -> None:
        with self._cond:
            heapq.heappush(self._heap, (d.at, next(self._seq), d))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="exchangelib-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    if not self._cond.wait(timeout=30) and not self._heap:
                        self._thread = None
                        return
                    continue
                at, _, d = self._heap[0]
                now = time.monotonic()
                if at > now:
                    self._cond.wait(timeout=at - now)
                    continue
                heapq.heappop(self._heap)
            d.fire()


_WATCHDOG = _Watchdog()


class Deadline:
    """``with Deadline(seconds):`` around one request sent on this thread. ``expired`` says whether it fired."""

    def __init__(self, seconds: Optional[float]):
        self.seconds = seconds
        self.at = time.monotonic() + (seconds or 0)
        self.done = False
        self.expired = False
        self._lock = threading.Lock()
        self._conn: Any = None
        self._raw: Any = None  # the urllib3 response, once the headers are in
        self.paused = False
        self._queued = False  # in the watchdog's heap (at most once)

    def __enter__(self) -> "Deadline":
        _current.deadline = self
        self.arm()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.disarm()
        _current.deadline = None

    def arm(self) -> None:
        """Start watching (``with deadline:`` does this, and tracks the connection too)."""
        if self.seconds:
            with self._lock:
                if self._queued:
                    return
                self._queued = True
            _WATCHDOG.add(self)

    def disarm(self) -> None:
        with self._lock:
            self.done = True

    @contextmanager
    def tracking(self) -> Iterator["Deadline"]:
        """While sending the request: remember the connection it uses, so :meth:`fire` can shut it down."""
        previous = getattr(_current, "deadline", None)
        _current.deadline = self
        try:
            yield self
        finally:
            _current.deadline = previous

    def progress(self, nbytes: int) -> None:
        """``nbytes`` more of the body arrived (a plain deadline does not care)."""

    def remaining(self) -> Optional[float]:
        if not self.seconds:
            return None
        return self.at - time.monotonic()

    def check(self) -> bool:
        """True (and marked expired) if the deadline has passed."""
        if self.seconds and not self.paused and self._should_fire(time.monotonic()):
            self.expired = True
        return self.expired

    def _should_fire(self, now: float) -> bool:
        return now >= self.at

    def fire(self) -> None:
        requeue = False
        with self._lock:
            if self.done:
                return
            if self.paused:
                self._queued = False  # resume() queues it again
                return
            if not self._should_fire(time.monotonic()):
                requeue = True  # moved later since it was queued (a stream made progress): look again then
            else:
                self.expired = True
            conn = self._conn
            raw = self._raw
        if requeue:
            _WATCHDOG.add(self)
            return
        sock = getattr(conn, "sock", None)
        if sock is None and raw is not None:
            # http.client hands the socket over to the response when the server said "Connection: close"
            fp = getattr(getattr(raw, "_fp", None), "fp", None)
            sock = getattr(getattr(fp, "raw", None), "_sock", None)
        if sock is not None:
            log.debug("Deadline of %ss passed: shutting the connection down", self.seconds)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class StreamDeadline(Deadline):
    """The deadline of a response body that is consumed while it arrives, and may rightly take long.

    Time counts only while the reader waits for the server (not between :meth:`pause` and :meth:`resume`,
    while the consumer works on a chunk). The server must send something at least every ``stall``
    seconds, and keep up ``min_rate`` bytes a second on average after a grace of ``seconds``: the
    body's waiting time may not pass ``seconds + received / min_rate``. ``cause`` says which bound fired
    (``"stall"`` or ``"rate"``). ``min_rate=None``: only the stall bound; ``seconds=None``: no deadline at all.
    """

    def __init__(self, seconds: Optional[float], min_rate: Optional[float] = None, stall: Optional[float] = None):
        super().__init__(seconds)
        self.min_rate = min_rate if min_rate and min_rate > 0 else None
        self.stall = min(stall, seconds) if (stall and seconds) else seconds
        self.received = 0
        self.cause: Optional[str] = None
        self._start = self._last = time.monotonic()  # wall-clock times, shifted by the time spent paused
        self._paused_at = 0.0
        self.at = self._compute_at()

    def _compute_at(self) -> float:
        if not self.seconds:
            return float("inf")
        stall = self._last + (self.stall or self.seconds)
        if not self.min_rate:
            return stall  # no rate bound: only the stall bound
        return min(self._start + self.seconds + self.received / self.min_rate, stall)

    def _should_fire(self, now: float) -> bool:
        if now < self.at:
            return False
        self.cause = "stall" if now >= self._last + (self.stall or 0) else "rate"
        return True

    def progress(self, nbytes: int) -> None:
        with self._lock:
            self.received += nbytes
            self._last = time.monotonic()
            self.at = self._compute_at()  # only ever later: the watchdog looks again when the old time comes

    def pause(self) -> None:
        """The consumer has a chunk: its time is not the server's."""
        with self._lock:
            if self.paused or self.done:
                return
            self.paused = True
            self._paused_at = time.monotonic()

    def resume(self) -> None:
        with self._lock:
            if not self.paused or self.done:
                return
            idle = time.monotonic() - self._paused_at
            self._start += idle
            self._last += idle
            self.at = self._compute_at()
            self.paused = False
        self.arm()  # unless still queued: then the watchdog finds the new time when the old one comes


_INFLATE_STEP = 1 << 20


def _too_many_tags(max_tags: int, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(f"The response has more than {max_tags} XML tags (max_response_tags)", limit=limit)


def read_capped(raw: Any, content_encoding: str, limit: int, deadline: Optional[Deadline] = None,
                chunk_size: int = 65536, max_tags: Optional[int] = None) -> bytes:
    """Read a urllib3 response body, decompressing gzip/deflate ourselves, up to ``limit`` bytes of output.

    Raises ResponseTooLargeError as soon as the output would pass ``limit``, or hold more than ``max_tags``
    '<' characters (counted as it comes in). Stops reading (returns what was read) when ``deadline`` has
    expired; the caller checks ``deadline.expired``.
    """
    return b"".join(iter_capped(raw, content_encoding, limit, deadline, chunk_size, max_tags))


def iter_capped(raw: Any, content_encoding: str, limit: int, deadline: Optional[Deadline] = None,
                chunk_size: int = 65536, max_tags: Optional[int] = None, partial: bool = False) -> Iterator[bytes]:
    """:func:`read_capped`, yielding the (decompressed) body chunk by chunk instead of joining it.

    Each chunk read off the wire is reported to ``deadline.progress()``. When ``deadline`` has expired
    the iteration just stops: the caller checks ``deadline.expired`` before trusting the end of the body.
    ``partial=True`` returns whatever has arrived (up to ``chunk_size``) instead of waiting for a full
    chunk, where the response can (urllib3's ``read1``), so every byte that arrives counts as progress.
    """
    tags = 0
    if deadline is not None:
        deadline._raw = raw
    enc = (content_encoding or "").strip().lower()
    decomp = zlib.decompressobj(wbits=47) if enc in ("gzip", "x-gzip", "deflate") else None
    total = 0
    # urllib3's response takes decode_content (we inflate ourselves); a plain file object (a custom transport
    # adapter's, a test double's) has no such argument and returns the bytes as they are
    plain = not _takes_decode_content(raw.read)
    read = raw.read
    if partial and not plain and callable(getattr(raw, "read1", None)):
        read = raw.read1
    while True:
        if deadline is not None and deadline.check():
            return
        chunk = read(chunk_size) if plain else read(chunk_size, decode_content=False)
        if not chunk:
            break
        if deadline is not None:
            deadline.progress(len(chunk))
        if decomp is None:
            total += len(chunk)
            if total > limit:
                raise ResponseTooLargeError(f"The response is larger than the limit of {limit} bytes", limit=limit)
            if max_tags is not None:
                tags += chunk.count(b"<")
                if tags > max_tags:
                    raise _too_many_tags(max_tags, limit)
            yield chunk
            continue
        # Inflate at most 1 MiB at a time: a small chunk of a bomb never turns into a big buffer at once
        pending = chunk
        while pending:
            data = decomp.decompress(pending, min(limit - total + 1, _INFLATE_STEP))
            pending = decomp.unconsumed_tail
            total += len(data)
            if total > limit:
                raise ResponseTooLargeError(f"The decompressed response is larger than the limit of {limit} bytes",
                                            limit=limit)
            if max_tags is not None:
                tags += data.count(b"<")
                if tags > max_tags:
                    raise _too_many_tags(max_tags, limit)
            if data:
                yield data
    if decomp is not None:
        data = decomp.flush()
        total += len(data)
        if total > limit:
            raise ResponseTooLargeError(f"The decompressed response is larger than the limit of {limit} bytes",
                                        limit=limit)
        if data:
            yield data
