"""Bounded HTTP reads: an overall deadline per request and a cap on the (decompressed) response size.

``requests`` timeouts apply to each socket operation, so a server that sends one byte a second
never times out. :class:`Deadline` arms a timer for the whole request (connect, send, headers and
body); when it fires, the socket in use is shut down, which wakes the blocked read at once.
One daemon thread serves every deadline of the process.

:func:`read_capped` reads a streamed response body in chunks and decompresses it itself (gzip or
deflate), so neither the bytes on the wire nor the inflated bytes can pass ``limit``: a 1 MB gzip
bomb stops after ``limit`` bytes of output instead of filling the memory.
"""
from __future__ import annotations

import heapq
import inspect
import itertools
import logging
import socket
import threading
import time
import zlib
from typing import Any, Dict, List, Optional, Tuple

from .errors import ResponseTooLargeError

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

    def __enter__(self) -> "Deadline":
        _current.deadline = self
        if self.seconds:
            _WATCHDOG.add(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self.done = True
        _current.deadline = None

    def remaining(self) -> Optional[float]:
        if not self.seconds:
            return None
        return self.at - time.monotonic()

    def check(self) -> bool:
        """True (and marked expired) if the deadline has passed."""
        if self.seconds and time.monotonic() >= self.at:
            self.expired = True
        return self.expired

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            conn = self._conn
            raw = self._raw
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
    tags = 0
    if deadline is not None:
        deadline._raw = raw
    enc = (content_encoding or "").strip().lower()
    decomp = zlib.decompressobj(wbits=47) if enc in ("gzip", "x-gzip", "deflate") else None
    out: List[bytes] = []
    total = 0
    # urllib3's response takes decode_content (we inflate ourselves); a plain file object (a custom transport
    # adapter's, a test double's) has no such argument and returns the bytes as they are
    plain = not _takes_decode_content(raw.read)
    while True:
        if deadline is not None and deadline.check():
            return b""
        chunk = raw.read(chunk_size) if plain else raw.read(chunk_size, decode_content=False)
        if not chunk:
            break
        if decomp is None:
            total += len(chunk)
            if total > limit:
                raise ResponseTooLargeError(f"The response is larger than the limit of {limit} bytes", limit=limit)
            if max_tags is not None:
                tags += chunk.count(b"<")
                if tags > max_tags:
                    raise _too_many_tags(max_tags, limit)
            out.append(chunk)
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
            out.append(data)
    if decomp is not None:
        data = decomp.flush()
        total += len(data)
        if total > limit:
            raise ResponseTooLargeError(f"The decompressed response is larger than the limit of {limit} bytes",
                                        limit=limit)
        out.append(data)
    return b"".join(out)
