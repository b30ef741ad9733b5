"""The base of every EWS operation: build a payload, post it, read ResponseMessages, chunk and page.

A service yields one result per input, in input order: the parsed value, or the exception *instance*
for that input's ResponseMessage error. One failing item never hides the others. A chunk that fails
as a whole (after the protocol's retries) yields that exception once for each of its inputs.

Writes that must not happen twice set ``IDEMPOTENT = False``. The protocol then never re-sends them
after an ambiguous failure (the request went out, the answer was lost); it raises
OutcomeUnknownError instead, and :meth:`EWSService.reconcile` finds out, per input, what the server
did (a search for the write tokens of created items, a GetItem of moved or deleted ones). Inputs
found done are reported done; the others are sent again (when the retry policy allows) or reported
with the error, so every input is done at most once and its result tells the truth.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable, Iterator, List, NamedTuple, Optional, TypeVar, Union

from ..errors import EWSError, OutcomeUnknownError, RateLimitError, TransportError
from ..soap import response_message_error
from ..version import Build, Version
from ..xml import MNS, Element

log = logging.getLogger(__name__)

T = TypeVar("T")
Result = Union[Any, Exception]

_RESPONSE_MESSAGES = f"{{{MNS}}}ResponseMessages"
#: Name prefix of the protocol's pool threads (see Protocol.thread_pool).
POOL_THREAD_PREFIX = "exchangelib"


class EWSService:
    """Base class of the EWS operations. Subclasses set SERVICE_NAME and build the payload."""

    SERVICE_NAME: str = ""
    supported_from: Optional[Build] = None
    # Tuning knobs, as the peer documents them: set ``EWSService.PAGE_SIZE`` / ``EWSService.CHUNK_SIZE``
    # to change every service's default at once (a subclass only overrides where its payloads differ,
    # e.g. GetAttachment's smaller chunks).
    #: Items per page of paging services (FindItem, FindFolder).
    PAGE_SIZE = 100
    #: Inputs per request of chunked services (GetItem, CreateItem, DeleteItem, ...).
    CHUNK_SIZE = 100
    #: False for writes that must never be sent twice blindly (see the module docstring)
    IDEMPOTENT = True

    def __init__(self, account: Any = None, protocol: Any = None, chunk_size: Optional[int] = None):
        if account is None and protocol is None:
            raise ValueError(f"{type(self).__name__} needs an account or a protocol")
        self.account = account
        self.protocol = protocol if protocol is not None else account.protocol
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        self.chunk_size = chunk_size or self.CHUNK_SIZE

    # --- version ----------------------------------------------------------------------------------------
    @property
    def version(self) -> Version:
        if self.account is not None:
            return self.account.version
        return self.protocol.version

    def check_supported(self) -> None:
        if self.supported_from is not None and not self.version.supports(self.supported_from):
            raise NotImplementedError(f"{self.SERVICE_NAME} needs Exchange build {self.supported_from} or later; "
                                      f"the server is {self.version.build}")

    # --- sending ----------------------------------------------------------------------------------------
    def _post(self, payload: Element) -> Element:
        """Post one payload and return the response body's first child (e.g. m:GetItemResponse)."""
        kwargs = {}
        if self.account is not None:
            kwargs = self.account.soap_header_kwargs()
        _, body = self.protocol.post(payload, api_version=self.version.api_version, operation=self.SERVICE_NAME,
                                     idempotent=self.IDEMPOTENT, **kwargs)
        if not len(body):
            raise TransportError(f"{self.SERVICE_NAME}: empty SOAP body in response")
        return body[0]

    def _response_messages(self, response: Element) -> List[Element]:
        messages = response.find(_RESPONSE_MESSAGES)
        if messages is None:
            raise TransportError(f"{self.SERVICE_NAME}: response has no ResponseMessages element")
        return list(messages)

    def _results(self, payload: Element, expected: Optional[int] = None) -> List[Result]:
        """Post and turn each ResponseMessage into parse_message(msg) or its exception instance."""
        response = self._post(payload)
        out: List[Result] = []
        for msg in self._response_messages(response):
            exc = response_message_error(msg, self.SERVICE_NAME)
            if exc is not None:
                out.append(exc)
                continue
            out.extend(self.parse_message(msg))
        if expected is not None and len(out) != expected:
            raise TransportError(f"{self.SERVICE_NAME}: expected {expected} results, server returned {len(out)}")
        return out

    def parse_message(self, msg: Element) -> List[Any]:
        """The values one successful ResponseMessage carries (default: the message element itself)."""
        return [msg]

    # --- exactly-once writes --------------------------------------------------------------------------
    def reconcile(self, chunk: List[Any], error: OutcomeUnknownError) -> Optional[List[Any]]:
        """After an ambiguous failure of ``chunk``: per input, its result if the server did it, or NOT_DONE if
        it did not. Return None when that cannot be found out (the default): the inputs are then reported as
        OutcomeUnknownError and never sent again."""
        return None

    def resent_result(self, result: Any) -> Any:
        """The result of an input that was sent again after an ambiguous failure (e.g. ErrorItemNotFound on
        a re-sent delete means the first attempt deleted it)."""
        return result

    def unknown_error(self, given: Any, error: OutcomeUnknownError) -> OutcomeUnknownError:
        """The OutcomeUnknownError reported for one input whose outcome could not be found out."""
        return OutcomeUnknownError(
            f"{error} The {self.SERVICE_NAME} for this input may or may not have been carried out, and the library "
            f"could not check; look at the mailbox before trying it again.",
            operation=self.SERVICE_NAME, cause=error.cause)

    def _write_chunk(self, chunk: List[Any], payload_fn: Callable[[List[Any]], Element]) -> List[Result]:
        """Send a chunk of a non-idempotent write; reconcile and re-send only what was not done."""
        results: List[Any] = [None] * len(chunk)
        todo = list(range(len(chunk)))
        policy = self.protocol.retry_policy
        waited = 0.0
        attempt = 0
        while True:
            try:
                sent = self._results(payload_fn([chunk[i] for i in todo]), expected=len(todo))
            except OutcomeUnknownError as e:
                error = e
            except EWSError as e:
                for i in todo:
                    results[i] = e
                return results
            else:
                for i, res in zip(todo, sent):
                    results[i] = self.resent_result(res) if attempt else res
                return results
            log.warning("%s: the answer to a chunk of %d was lost (%s); checking what the server did",
                        self.SERVICE_NAME, len(todo), error.cause or error)
            try:
                found = self.reconcile([chunk[i] for i in todo], error)
            except EWSError as e:
                log.warning("%s: could not check what the server did: %s", self.SERVICE_NAME, e)
                found = None
            if found is None:
                for i in todo:
                    results[i] = self.unknown_error(chunk[i], error)
                return results
            rest = []
            for i, res in zip(todo, found):
                if res is NOT_DONE:
                    rest.append(i)
                else:
                    results[i] = res
            todo = rest
            if not todo:
                return results
            # What is left was certainly not done: send it again if the policy allows, else report why not
            cause = error.cause if isinstance(error.cause, EWSError) else error
            if policy.fail_fast:
                for i in todo:
                    results[i] = cause
                return results
            wait = policy.next_wait(attempt, None)
            if waited + wait > policy.max_wait:
                give_up = RateLimitError(f"Gave up re-sending {self.SERVICE_NAME} after {waited:.1f}s: {cause}",
                                         wait=wait, max_wait=policy.max_wait, operation=self.SERVICE_NAME)
                for i in todo:
                    results[i] = give_up
                return results
            time.sleep(wait)
            waited += wait
            attempt += 1

    # --- paging ---------------------------------------------------------------------------------------
    def paged(self, fetch: Callable[[int, int], Page], offset: int, limit: Optional[int] = None,
              stop_from_end: Optional[int] = None, page_size: Optional[int] = None) -> Iterator[List[Any]]:
        """Item lists of the pages from ``offset`` on, the following pages fetched concurrently (see :func:`paged`)."""
        return paged(self.protocol.submit, self.protocol.max_connections, fetch, offset,
                     page_size or getattr(self, "page_size", None) or self.PAGE_SIZE, limit=limit,
                     stop_from_end=stop_from_end)

    # --- chunking -------------------------------------------------------------------------------------
    def chunked(self, inputs: Iterable[Any], payload_fn: Callable[[List[Any]], Element],
                prepare: Optional[Callable[[Any], Any]] = None) -> Iterator[Result]:
        """Run ``payload_fn`` over chunks of ``inputs`` concurrently on the protocol's thread pool.

        Yields one result per input in input order. ``prepare`` (optional) converts or checks each input
        first; an input it rejects with TypeError/ValueError yields that exception in place and is not sent.
        At most ``max_connections`` chunks are in flight (the pool's size), and at most twice that are
        queued, so memory stays flat for long input streams.
        """
        submit = self.protocol.submit
        ahead = max(1, self.protocol.max_connections * 2)
        pending: "deque" = deque()

        def run(chunk: List[Any]) -> List[Result]:
            if not self.IDEMPOTENT:
                return self._write_chunk(chunk, payload_fn)
            try:
                return self._results(payload_fn(chunk), expected=len(chunk))
            except EWSError as e:
                return [e] * len(chunk)

        def merge(slots: List[Any], future: Any) -> Iterator[Result]:
            results = iter(future.result() if future is not None else ())
            for slot in slots:
                yield next(results) if slot is _SEND else slot

        slots: List[Any] = []
        chunk: List[Any] = []
        for x in inputs:
            if prepare is not None:
                try:
                    x = prepare(x)
                except (TypeError, ValueError) as e:
                    slots.append(e)
                    continue
            slots.append(_SEND)
            chunk.append(x)
            if len(chunk) == self.chunk_size:
                pending.append((slots, submit(run, chunk)))
                slots, chunk = [], []
                while len(pending) >= ahead:
                    yield from merge(*pending.popleft())
        if slots:
            pending.append((slots, submit(run, chunk) if chunk else None))
        while pending:
            yield from merge(*pending.popleft())


_SEND = object()  # slot marker: this input was sent; its result comes from the server
NOT_DONE: Any = object()  # reconcile(): the server did not carry out this input


def _in_pool_thread() -> bool:
    return threading.current_thread().name.startswith(POOL_THREAD_PREFIX)


class Page(NamedTuple):
    """One page of a FindItem/FindFolder response: the values, and the paging attributes of its RootFolder."""

    items: List[Any]
    total_count: Optional[int]
    includes_last: bool
    next_offset: Optional[int]


def paged(submit: Callable[..., Any], window: int, fetch: Callable[[int, int], Page], offset: int,
          page_size: int, limit: Optional[int] = None, stop_from_end: Optional[int] = None) -> Iterator[List[Any]]:
    """Yield the item lists of consecutive pages from ``offset`` on (BasePoint Beginning), in order.

    ``fetch(offset, max_entries)`` sends one request. The first page is fetched alone: it tells the total
    (TotalItemsInView), so the offsets of the following pages are known and up to ``window`` of them are
    requested at once through ``submit`` (the protocol's :meth:`~exchangelib.protocol.Protocol.submit`, so never
    more than ``max_connections`` requests are in flight, and a pool released while idle comes back). Pages come out in order; at most ``window`` fetched pages wait to be consumed,
    so memory stays flat for any folder size.

    ``limit`` caps the number of items (no page beyond it is ever requested); ``stop_from_end`` stops that
    many items before the end of the result set (a slice like ``[5:-3]``). When the server reports no
    total, pages are fetched one after another. If the folder grows while it is paged, the pages after the
    predicted last one are fetched one by one until the server says the last item was included.
    Closing the generator early cancels the pages not yet started and waits for those in flight.
    """
    start = offset
    want = page_size if limit is None else min(page_size, limit)
    if want <= 0:
        return
    p = fetch(offset, want)
    if stop_from_end is not None and limit is None:
        total = p.total_count if p.total_count is not None else start + len(p.items)
        limit = max(total - stop_from_end - start, 0)
    returned = 0

    def take(page: Page) -> List[Any]:
        nonlocal returned
        items = page.items
        if limit is not None and len(items) > limit - returned:
            items = items[:max(limit - returned, 0)]
        returned += len(items)
        return items

    yield take(p)
    if p.includes_last or not p.items or (limit is not None and returned >= limit):
        return
    offset = p.next_offset if p.next_offset is not None else offset + len(p.items)
    # From a worker of the pool itself (a search started inside a pool task), waiting for other tasks of the
    # same pool could deadlock: fetch one by one there.
    if p.total_count is not None and window > 1 and not _in_pool_thread():
        end = p.total_count if limit is None else min(p.total_count, start + limit)
        todo = iter(range(offset, end, page_size))
        pending: "deque" = deque()

        def request_next() -> None:
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((nxt, submit(fetch, nxt, min(page_size, end - nxt))))

        try:
            for _ in range(window):
                request_next()
            while pending:
                _, future = pending.popleft()
                p = future.result()
                request_next()
                yield take(p)
                if limit is not None and returned >= limit:
                    return
        finally:
            # Stopped early (or failed): cancel the pages not started, and wait for the ones in flight, so no
            # request of this search is still running when the caller moves on.
            for _, future in pending:
                future.cancel()
            for _, future in pending:
                if not future.cancelled():
                    future.exception()
        if p.includes_last or not p.items:
            return
        offset = p.next_offset if p.next_offset is not None else end
    while limit is None or returned < limit:  # one by one: no total, or the result set grew meanwhile
        want = page_size if limit is None else min(page_size, limit - returned)
        p = fetch(offset, want)
        yield take(p)
        if p.includes_last or not p.items:
            return
        offset = p.next_offset if p.next_offset is not None else offset + len(p.items)


_OCCURRENCE_ID_ELEMENTS = ("OccurrenceItemId", "RecurringMasterItemId")


def to_id_pair(i: Any) -> tuple:
    """Normalise one item reference: an item, an (id, changekey) tuple, an id object or an id str."""
    if isinstance(i, tuple):
        if len(i) != 2 or not isinstance(i[0], str) or not i[0]:
            raise ValueError(f"An id tuple must be (id, changekey), got {i!r}")
        return i
    if isinstance(i, str):
        if not i:
            raise ValueError("Empty item id")
        return i, None
    if getattr(i, "ELEMENT_NAME", None) in _OCCURRENCE_ID_ELEMENTS:
        return i  # an OccurrenceItemId / RecurringMasterItemId: serialised as it is (see item_ids_xml)
    if hasattr(i, "id") and hasattr(i, "changekey"):
        if not i.id:
            raise ValueError(f"{type(i).__name__} has no id; save it first")
        return i.id, i.changekey
    raise TypeError(f"Expected an item, an (id, changekey) tuple or an id string, got {type(i).__name__}")


def id_pairs(ids: Iterable[Any]) -> Iterator[tuple]:
    for i in ids:
        yield to_id_pair(i)
