"""Notification subscriptions of the local EWS server: pull, push and streaming.

The :class:`NotificationHub` listens to the store's change events (see
:class:`~exchangelib.testing.store.ChangeEvent`) and keeps, per mailbox, a bounded log of them
numbered by a store-wide sequence. A *watermark* is an opaque, signed token for a position in that
log (mailbox + sequence number), so a subscription reads "the events after this watermark" and a
client that lost a response asks again with the same watermark without losing anything.

- Pull (``GetEvents``): the events after the given watermark, at most :data:`MAX_EVENTS_PER_GET` per
  call (``MoreEvents`` says there are more), or a ``StatusEvent`` when there is nothing new. A pull
  subscription expires ``Timeout`` minutes after its last GetEvents (ErrorExpiredSubscription).
- Streaming (``GetStreamingEvents``): one long HTTP response, chunked, one SOAP envelope per chunk,
  flushed as changes happen (in another request or thread); a ``ConnectionStatus`` OK heartbeat when
  nothing happens for :attr:`NotificationHub.heartbeat` seconds, and ``Closed`` after
  ``ConnectionTimeout`` minutes. A streaming subscription's position advances only once a chunk was
  written and flushed, so events of a chunk cut off by a dropped connection come again on the next.
  A streaming subscription without a connection for :data:`STREAMING_IDLE_MINUTES` expires.
- Push: a worker thread POSTs ``SendNotification`` envelopes to the subscription's URL (loopback
  addresses only) when events arrive, and a ``StatusEvent`` every ``StatusFrequency`` minutes. An
  ``Unsubscribe`` answer ends the subscription; a failed delivery is retried after
  :attr:`NotificationHub.push_retry` seconds, doubling, and the subscription ends after
  :data:`PUSH_ATTEMPTS` failures in a row.

Events that fall out of a mailbox's log before a subscription read them make its next read answer
ErrorMissedNotificationEvents (the client must resynchronise, e.g. with SyncFolderItems).

Time is in minutes in the protocol; :attr:`NotificationHub.minute` (seconds per minute, 60 by default)
lets tests run expiry, status frequency and connection timeouts quickly.

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import ipaddress
import logging
import secrets
import struct
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, Iterator, List, Optional, Set, Tuple
from urllib.parse import urlsplit

from lxml import etree

from ..xml import MNS, SOAPNS, TNS, ParseError, parse
from .context import ResponseCodeError
from .store import ChangeEvent, FolderRecord, Mailbox, Store, decode_id, format_datetime

log = logging.getLogger(__name__)

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"
EVENT_TYPES = ("CopiedEvent", "CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent", "NewMailEvent",
               "FreeBusyChangedEvent")
MAX_EVENTS_PER_GET = 50
LOG_SIZE = 10_000
PUSH_ATTEMPTS = 4
STREAMING_IDLE_MINUTES = 30  # a streaming subscription without a connection for this long expires
PULL, PUSH, STREAMING = "pull", "push", "streaming"
_WM_MAGIC = b"XW"
_SUB_MAGIC = b"XU"
_MAC_LEN = 10


def _err(code: str, message: str) -> ResponseCodeError:
    return ResponseCodeError(code, message)


@dataclass
class LoggedEvent:
    seq: int
    timestamp: str
    event: ChangeEvent


@dataclass
class StreamPart:
    """One envelope of a streaming response: notifications (or None: a heartbeat), the connection
    status ('OK' or 'Closed'), what to call once it is delivered, or the error that ends the stream."""

    notifications: Optional[etree._Element] = None
    status: str = "OK"
    commit: Optional[Callable[[], None]] = None
    error: Optional[ResponseCodeError] = None
    subscription_ids: Tuple[str, ...] = ()


@dataclass
class Subscription:
    id: str
    kind: str
    mailbox: Mailbox
    owner: str
    event_types: frozenset
    folder_keys: Optional[Set[bytes]]  # None: all folders
    cursor: int  # sequence of the last event the subscriber has
    timeout_minutes: int = 30
    last_used: float = field(default_factory=time.monotonic)
    status_frequency: int = 30
    url: str = ""
    caller_data: Optional[str] = None
    missed: bool = False
    stream_token: int = 0  # the current streaming connection; a newer one closes the older
    streams: int = 0  # streaming connections open right now
    closed: bool = False

    def matches(self, event: ChangeEvent) -> bool:
        if event.name not in self.event_types:
            return False
        if self.folder_keys is None:
            return True
        for f in (event.parent, event.old_parent):
            if f is not None and f.key in self.folder_keys:
                return True
        if event.is_folder:
            try:
                return decode_id(event.object_id)[2] in self.folder_keys
            except ResponseCodeError:
                return False
        return False


class NotificationHub:
    """Subscriptions and event logs of one store. All state is guarded by the store's lock."""

    def __init__(self, store: Store):
        self.store = store
        self.cond = threading.Condition(store.lock)
        self.logs: Dict[str, Deque[LoggedEvent]] = {}
        self.subscriptions: Dict[str, Subscription] = {}
        self.expired: Dict[str, str] = {}  # id -> why it ended (for ErrorExpiredSubscription)
        self._seq = 0
        #: Seconds per protocol "minute" (subscription timeouts, status frequency, connection timeouts).
        self.minute = 60.0
        #: Seconds without events after which a streaming connection sends a ConnectionStatus OK heartbeat.
        self.heartbeat = 30.0
        #: Seconds before the first retry of a failed push delivery (doubling after each failure).
        self.push_retry = 30.0
        #: Events kept per mailbox.
        self.log_size = LOG_SIZE
        #: Push deliveries made: (subscription id, HTTP status or 0, answer) tuples, newest last.
        self.push_log: List[Tuple[str, int, str]] = []
        self._stopping = False
        self._threads: List[threading.Thread] = []
        store.event_sinks.append(self._on_event)

    # -- events ----------------------------------------------------------------------------------
    def _on_event(self, event: ChangeEvent) -> None:
        with self.cond:  # the store's (re-entrant) lock: handlers hold it already, direct store users may not
            self._log(event)
            if (not event.is_folder and event.parent is not None and event.parent.element_kind == "CalendarFolder"
                    and event.name in ("CreatedEvent", "ModifiedEvent", "DeletedEvent", "MovedEvent",
                                       "CopiedEvent")):
                self._log(event._replace(name="FreeBusyChangedEvent", old_id=None, old_parent=None))
            self.cond.notify_all()

    def _log(self, event: ChangeEvent) -> None:
        addr = event.mailbox.primary_smtp_address
        log_ = self.logs.get(addr)
        if log_ is None:
            log_ = self.logs[addr] = deque()
        self._seq += 1
        log_.append(LoggedEvent(self._seq, format_datetime(self.store.now()), event))
        while len(log_) > self.log_size:
            dropped = log_.popleft()
            for sub in self.subscriptions.values():
                if sub.mailbox is event.mailbox and sub.cursor < dropped.seq and sub.matches(dropped.event):
                    sub.missed = True

    @property
    def seq(self) -> int:
        return self._seq

    # -- tokens ------------------------------------------------------------------------------------
    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self.store.state_secret, body, hashlib.sha256).digest()[:_MAC_LEN]

    def watermark(self, mailbox: Mailbox, seq: int) -> str:
        body = _WM_MAGIC + mailbox.store_guid + struct.pack(">Q", seq)
        return base64.b64encode(body + self._mac(body)).decode("ascii")

    def parse_watermark(self, mailbox: Mailbox, value: Optional[str]) -> int:
        bad = _err("ErrorInvalidWatermark", "The watermark is invalid.")
        try:
            raw = base64.b64decode((value or "").strip().encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise bad from None
        if len(raw) != 2 + 16 + 8 + _MAC_LEN or raw[:2] != _WM_MAGIC:
            raise bad
        body, mac = raw[:-_MAC_LEN], raw[-_MAC_LEN:]
        if not hmac.compare_digest(mac, self._mac(body)) or body[2:18] != mailbox.store_guid:
            raise bad
        (seq,) = struct.unpack(">Q", body[18:26])
        if seq > self._seq:
            raise bad  # from the future
        return seq

    # -- subscriptions -----------------------------------------------------------------------------
    def subscribe(self, kind: str, mailbox: Mailbox, owner: str, event_types: frozenset,
                  folders: Optional[List[FolderRecord]], watermark: Optional[str] = None, timeout: int = 30,
                  status_frequency: int = 30, url: str = "", caller_data: Optional[str] = None) -> Subscription:
        if kind == PUSH:
            _check_push_url(url)
        cursor = self.parse_watermark(mailbox, watermark) if watermark else self._seq
        log_ = self.logs.get(mailbox.primary_smtp_address)
        if watermark and log_ and log_[0].seq > cursor + 1 and cursor < self._seq:
            raise _err("ErrorInvalidWatermark", "The watermark is older than the events this server keeps.")
        raw = _SUB_MAGIC + mailbox.store_guid + secrets.token_bytes(16)
        sub = Subscription(id=base64.b64encode(raw).decode("ascii"), kind=kind, mailbox=mailbox, owner=owner,
                           event_types=event_types,
                           folder_keys=None if folders is None else {f.key for f in folders}, cursor=cursor,
                           timeout_minutes=timeout, status_frequency=status_frequency, url=url,
                           caller_data=caller_data)
        self.subscriptions[sub.id] = sub
        log.debug("New %s subscription for %s: %s", kind, mailbox.primary_smtp_address, sorted(event_types))
        if kind == PUSH:
            self._start_push_worker(sub)
        return sub

    def _start_push_worker(self, sub: Subscription) -> None:
        t = threading.Thread(target=self._push_worker, args=(sub,), name="EWSServer:push", daemon=True)
        self._threads.append(t)
        t.start()

    def get(self, subscription_id: Optional[str], caller: str, kind: Optional[str] = None) -> Subscription:
        self._expire()
        sid = (subscription_id or "").strip()
        sub = self.subscriptions.get(sid)
        if sub is None:
            if sid in self.expired:
                raise _err("ErrorExpiredSubscription", f"The subscription has expired ({self.expired[sid]}).")
            raise _err("ErrorSubscriptionNotFound", "The specified subscription was not found.")
        if sub.owner != caller:
            raise _err("ErrorSubscriptionAccessDenied", "A subscription can only be used by the account that "
                                                        "created it.")
        if kind is not None and sub.kind != kind:
            raise _err("ErrorInvalidSubscription", f"The subscription is a {sub.kind} subscription; this operation "
                                                   f"needs a {kind} one.")
        return sub

    def end(self, sub: Subscription, why: Optional[str] = None) -> None:
        """End a subscription. With ``why``, later uses answer ErrorExpiredSubscription (else
        ErrorSubscriptionNotFound)."""
        sub.closed = True
        self.subscriptions.pop(sub.id, None)
        if why:
            self.expired[sub.id] = why
            while len(self.expired) > 10_000:
                self.expired.pop(next(iter(self.expired)))
        self.cond.notify_all()

    def _expire(self) -> None:
        now = time.monotonic()
        for sub in list(self.subscriptions.values()):
            if sub.kind == PULL and now - sub.last_used > sub.timeout_minutes * self.minute:
                self.end(sub, f"no GetEvents for {sub.timeout_minutes} minute(s)")
            elif sub.kind == STREAMING and not sub.streams and \
                    now - sub.last_used > STREAMING_IDLE_MINUTES * self.minute:
                self.end(sub, f"no streaming connection for {STREAMING_IDLE_MINUTES} minutes")

    # -- reading events ----------------------------------------------------------------------------
    def pending(self, sub: Subscription, after: int, limit: int = MAX_EVENTS_PER_GET) -> Tuple[List[LoggedEvent], bool]:
        """Up to ``limit`` matching events after ``after``, and whether more remain."""
        if sub.missed:
            raise _err("ErrorMissedNotificationEvents", "Events were lost before they could be delivered; "
                                                        "resynchronise (SyncFolderItems) and subscribe again.")
        out: List[LoggedEvent] = []
        log_ = self.logs.get(sub.mailbox.primary_smtp_address) or ()
        for le in reversed(log_):
            if le.seq <= after:
                break
            if sub.matches(le.event):
                out.append(le)
        out.reverse()
        return out[:limit], len(out) > limit

    def notification(self, sub: Subscription, previous: int, events: List[LoggedEvent], more: bool,
                     namespace: str = M) -> etree._Element:
        """A ``Notification`` element (``m:`` in GetEvents and SendNotification, ``t:`` inside streaming
        ``m:Notifications``); a StatusEvent at the current position when ``events`` is empty."""
        n = etree.Element(f"{namespace}Notification", nsmap={"m": MNS, "t": TNS})
        etree.SubElement(n, f"{T}SubscriptionId").text = sub.id
        etree.SubElement(n, f"{T}PreviousWatermark").text = self.watermark(sub.mailbox, previous)
        etree.SubElement(n, f"{T}MoreEvents").text = "true" if more else "false"
        if not events:
            st = etree.SubElement(n, f"{T}StatusEvent")
            etree.SubElement(st, f"{T}Watermark").text = self.watermark(sub.mailbox, max(previous, self._seq))
        for le in events:
            n.append(self._event_element(sub.mailbox, le))
        return n

    def _event_element(self, mailbox: Mailbox, le: LoggedEvent) -> etree._Element:
        ev = le.event
        el = etree.Element(f"{T}{ev.name}")
        etree.SubElement(el, f"{T}Watermark").text = self.watermark(mailbox, le.seq)
        etree.SubElement(el, f"{T}TimeStamp").text = le.timestamp
        tag = "FolderId" if ev.is_folder else "ItemId"
        etree.SubElement(el, f"{T}{tag}", Id=ev.object_id)
        if ev.parent is not None:
            etree.SubElement(el, f"{T}ParentFolderId", Id=ev.parent.id)
        else:  # the root folder has no parent: name itself, as Exchange does
            etree.SubElement(el, f"{T}ParentFolderId", Id=ev.object_id)
        if ev.name in ("MovedEvent", "CopiedEvent"):
            etree.SubElement(el, f"{T}Old{tag}", Id=ev.old_id or ev.object_id)
            old_parent = ev.old_parent or ev.parent
            etree.SubElement(el, f"{T}OldParentFolderId", Id=old_parent.id if old_parent else ev.object_id)
        return el

    # -- streaming ---------------------------------------------------------------------------------
    def stream(self, subs: List[Subscription], minutes: int) -> Iterator[StreamPart]:
        """The parts of a streaming response. A part's ``commit`` (parts with notifications) marks its
        events delivered; the server calls it once the part is written and flushed."""
        with self.cond:
            for sub in subs:
                sub.streams += 1
        try:
            yield from self._stream(subs, minutes)
        finally:
            with self.cond:
                now = time.monotonic()
                for sub in subs:
                    sub.streams -= 1
                    sub.last_used = now

    def _stream(self, subs: List[Subscription], minutes: int) -> Iterator[StreamPart]:
        deadline = time.monotonic() + minutes * self.minute
        with self.cond:
            for sub in subs:
                sub.stream_token += 1
            tokens = {sub.id: sub.stream_token for sub in subs}
        yield StreamPart()
        last_sent = time.monotonic()
        while True:
            batch: List[Tuple[Subscription, int, List[LoggedEvent], bool]] = []
            error: Optional[ResponseCodeError] = None
            with self.cond:
                for _ in range(2):
                    live = [s for s in subs if not s.closed and s.stream_token == tokens[s.id]]
                    if self._stopping or not live:
                        return
                    try:
                        for sub in live:
                            events, more = self.pending(sub, sub.cursor)
                            if events:
                                batch.append((sub, sub.cursor, events, more))
                    except ResponseCodeError as e:
                        error = e
                    if batch or error:
                        break
                    wait = min(deadline, last_sent + self.heartbeat) - time.monotonic()
                    if wait > 0:
                        self.cond.wait(wait)
            if error is not None:
                yield StreamPart(status="Closed", error=error, subscription_ids=tuple(s.id for s in subs))
                return
            if batch:
                notifications = etree.Element(f"{M}Notifications", nsmap={"m": MNS, "t": TNS})
                for sub, previous, events, more in batch:
                    notifications.append(self.notification(sub, previous, events, more, namespace=T))

                def commit(batch: List[Tuple[Subscription, int, List[LoggedEvent], bool]] = batch) -> None:
                    with self.cond:
                        for sub, _previous, events, _more in batch:
                            sub.cursor = max(sub.cursor, events[-1].seq)

                yield StreamPart(notifications, "OK", commit)
                last_sent = time.monotonic()
            now = time.monotonic()
            if now >= deadline:
                yield StreamPart(status="Closed")
                return
            if not batch and now - last_sent >= self.heartbeat:
                yield StreamPart()
                last_sent = now

    # -- push --------------------------------------------------------------------------------------
    def _push_worker(self, sub: Subscription) -> None:
        failures = 0
        last_delivery = time.monotonic()
        retry_at = 0.0
        while True:
            with self.cond:
                while True:
                    if self._stopping or sub.closed:
                        return
                    try:
                        events, more = self.pending(sub, sub.cursor)
                    except ResponseCodeError:
                        self.end(sub, "events were lost")
                        return
                    now = time.monotonic()
                    status_due = now - last_delivery >= sub.status_frequency * self.minute
                    if (events or status_due) and now >= retry_at:
                        break
                    wake = retry_at if retry_at > now else last_delivery + sub.status_frequency * self.minute
                    if not events:
                        wake = min(wake, last_delivery + sub.status_frequency * self.minute)
                    self.cond.wait(max(0.001, wake - now))
                previous = sub.cursor
                body = _send_notification(self.notification(sub, previous, events, more))
            status, answer = _post(sub.url, body)
            with self.cond:
                self.push_log.append((sub.id, status, answer))
                if status == 200 and answer in ("OK", "Unsubscribe"):
                    failures = 0
                    last_delivery = time.monotonic()
                    if events:
                        sub.cursor = max(sub.cursor, events[-1].seq)
                    if answer == "Unsubscribe":
                        self.end(sub, "the push client answered Unsubscribe")
                        return
                    continue
                failures += 1
                where = urlsplit(sub.url)  # without the query: callback URLs may carry a token
                log.info("Push notification to %s://%s%s failed (%s %s), attempt %d", where.scheme, where.netloc,
                         where.path, status, answer, failures)
                if failures >= PUSH_ATTEMPTS:
                    self.end(sub, f"{failures} push deliveries failed")
                    return
                retry_at = time.monotonic() + self.push_retry * (2 ** (failures - 1))

    def shutdown(self) -> None:
        with self.cond:
            self._stopping = True
            self.cond.notify_all()
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()

    def restart(self) -> None:
        """After :meth:`shutdown` (the server stopped): deliver to push subscriptions again."""
        with self.cond:
            if not self._stopping:
                return
            self._stopping = False
            for sub in self.subscriptions.values():
                if sub.kind == PUSH:
                    self._start_push_worker(sub)


def _check_push_url(url: str) -> None:
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    ok = parts.scheme in ("http", "https") and bool(host)
    if ok:
        try:
            ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = False
    if not ok:
        raise _err("ErrorInvalidPushSubscriptionUrl", "The push subscription URL is invalid: the local server "
                                                      "only calls back http(s) URLs on a loopback address.")


def _send_notification(notification: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAPNS}}}Envelope", nsmap={"soap": SOAPNS})
    body = etree.SubElement(env, f"{{{SOAPNS}}}Body")
    sn = etree.SubElement(body, f"{M}SendNotification", nsmap={"m": MNS, "t": TNS})
    msgs = etree.SubElement(sn, f"{M}ResponseMessages")
    msg = etree.SubElement(msgs, f"{M}SendNotificationResponseMessage", ResponseClass="Success")
    etree.SubElement(msg, f"{M}ResponseCode").text = "NoError"
    msg.append(notification)
    return b'<?xml version="1.0" encoding="utf-8"?>' + etree.tostring(env, encoding="utf-8")


def _post(url: str, body: bytes, timeout: float = 10.0) -> Tuple[int, str]:
    """POST a SendNotification; return (HTTP status or 0, SubscriptionStatus text or an error description)."""
    parts = urlsplit(url)
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    try:
        conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
        try:
            conn.request("POST", parts.path or "/", body=body,
                         headers={"Content-Type": "text/xml; charset=utf-8", "User-Agent": "ExchangeServicesClient"})
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
    except OSError as e:
        return 0, f"{type(e).__name__}: {e}"
    if r.status != 200:
        return r.status, ""
    try:
        root = parse(data)
    except ParseError:
        return r.status, "unreadable answer"
    status = root.find(f".//{M}SubscriptionStatus")
    return r.status, (status.text or "").strip() if status is not None else "no SubscriptionStatus"


_HUBS: "weakref.WeakKeyDictionary[Store, NotificationHub]" = weakref.WeakKeyDictionary()
_HUBS_LOCK = threading.Lock()


def hub_for(store: Store) -> NotificationHub:
    """The notification hub of a store (created on first use)."""
    with _HUBS_LOCK:
        hub = _HUBS.get(store)
        if hub is None:
            hub = _HUBS[store] = NotificationHub(store)
        return hub
