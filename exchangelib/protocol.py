"""Protocols: one per (EWS endpoint, credentials), holding a session pool and a thread pool.

A :class:`Protocol` owns a pool of ``requests.Session`` objects (at most ``max_connections``, so
never more requests in flight than that) and a thread pool of the same size that services use to
run chunks in parallel. Protocols are shared: every :class:`~exchangelib.account.Account` with the
same endpoint, credentials and auth type gets the same one, which makes creating an Account per web
request cheap.

``post()`` sends one SOAP request and applies the retry policy (see :mod:`exchangelib.retry`).

To use a proxy or custom TLS settings, set ``BaseProtocol.HTTP_ADAPTER_CLS`` to your own
``requests`` transport adapter class. :class:`NoVerifyHTTPAdapter` skips TLS verification — only
for test servers you trust. :class:`TLSClientAuth` presents a TLS client certificate (``auth_type=CBA``).
"""
from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional, Tuple, Type
from urllib.parse import urlsplit

from . import __version__
from .credentials import BaseCredentials, secret_fingerprint
from .directory import DirectoryMethods
from .errors import (DeadlineExceededError, ErrorInvalidSchemaVersionForMailboxVersion, ErrorInvalidServerVersion,
                     ErrorServerBusy, MalformedResponseError, ResponseMessageError, ResponseTooLargeError, SOAPError,
                     StreamInterrupted, TransportError, UnauthorizedError)
from .httpio import Deadline, read_capped
from .lazy import LazyClassAttribute, LazyModule
from .log import redact_headers, redact_xml
from .retry import FailFast, FaultTolerance, Retriable, RetryPolicy
from .soap import fault_to_exception, response_message_error, server_version, split_envelope
from .transport import (CONTENT_TYPE, GSSAPI, NOAUTH, OAUTH2, bearer_token_of, check_endpoint_url, choose_auth_type,
                        get_auth_instance, kerberos_ticket_available, parse_www_authenticate, refresh_credentials,
                        www_authenticate_values, wrap)
from .version import API_VERSIONS, Version
from .xml import MNS, ForbiddenDTDError, ParseError, add_child, create_element, parse

if TYPE_CHECKING:
    import queue
    from concurrent import futures as _futures
    from concurrent.futures import ThreadPoolExecutor
    from email import utils as email_utils

    import requests
    import requests.adapters
    import urllib3.exceptions

    from . import adapters as _adapters
    from .adapters import NoVerifyHTTPAdapter, TLSClientAuth
else:
    # requests (and urllib3) are imported with the first request, not by ``import exchangelib``; the modules
    # for the session and thread pools and for Retry-After dates when a Protocol first needs them
    requests = LazyModule("requests")
    urllib3 = LazyModule("urllib3")
    queue = LazyModule("queue")
    email_utils = LazyModule("email.utils")
    _futures = LazyModule("concurrent.futures")
    _adapters = LazyModule("exchangelib.adapters")

    def __getattr__(name: str) -> Any:
        if name in ("NoVerifyHTTPAdapter", "TLSClientAuth"):  # defined with requests, in exchangelib.adapters
            return getattr(_adapters, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

log = logging.getLogger(__name__)
xml_log = logging.getLogger("exchangelib.xml")


def _default_adapter_class() -> "Type[requests.adapters.HTTPAdapter]":
    return requests.adapters.HTTPAdapter


def _default_user_agent() -> str:
    return f"exchangelib/{__version__} (python-requests/{requests.__version__})"


def _adapter_key(adapter_cls: Any) -> tuple:
    """What of the adapter class changes how we authenticate (its client certificate), for the protocol cache."""
    cert = getattr(adapter_cls, "cert_file", None)
    if cert is None:
        return (adapter_cls,)
    return (adapter_cls, cert, getattr(adapter_cls, "key_file", None),
            secret_fingerprint(getattr(adapter_cls, "key_password", None)))


class BaseProtocol:
    """Connection handling shared by EWS and autodiscover protocols."""

    # The requests adapter class used for new sessions. Replace it for proxies or custom TLS handling.
    # (both computed on first use: reading them imports requests)
    HTTP_ADAPTER_CLS: "Type[requests.adapters.HTTPAdapter]" = LazyClassAttribute(  # type: ignore[assignment]
        _default_adapter_class)
    USERAGENT: str = LazyClassAttribute(_default_user_agent)  # type: ignore[assignment]
    TIMEOUT = 120  # seconds, per socket operation (connect, each read)
    #: Seconds one HTTP request may take in all (connect, send, headers and body), however the server
    #: trickles its bytes. None: no overall limit. Set per protocol with ``protocol.deadline``.
    DEADLINE: Optional[float] = 600
    #: Largest response body accepted, in bytes, after decompression. Set per protocol with
    #: ``protocol.max_response_size``. Bigger responses raise ResponseTooLargeError and are not retried.
    MAX_RESPONSE_SIZE = 512 * 1024 * 1024
    #: Most tags ('<' characters) accepted in one response: bounds the memory of the parsed tree (50 MB of
    #: tiny elements would need over a GB). Legitimate responses stay far below it (item bodies are escaped).
    MAX_RESPONSE_TAGS = 4_000_000
    #: Largest streamed attachment download accepted (``attachment.fp``, ``attachment.save()``), in bytes of
    #: response body after decompression: the file travels as base64, 4/3 of its size, so the default passes
    #: files up to about 760 MB, far above Exchange Online's 150 MB message limit, while stopping an endless
    #: stream before it fills a disk. These bytes are never held in memory, hence a limit apart from
    #: max_response_size. Set per protocol with ``protocol.max_attachment_stream_size``.
    MAX_ATTACHMENT_STREAM_SIZE = 1024 * 1024 * 1024
    #: A streamed download may take longer than ``deadline`` only by keeping up this average rate, in bytes
    #: per second (16 KiB/s = 128 kbit/s: below it a link is as good as stalled). Its waiting time may not
    #: pass ``deadline + received / min_stream_rate``, and no gap between two reads may pass
    #: min(TIMEOUT, deadline). Set per protocol with ``protocol.min_stream_rate``; None: no rate bound.
    MIN_STREAM_RATE: Optional[float] = 16 * 1024
    DEFAULT_MAX_CONNECTIONS = 4

    def __init__(self, service_endpoint: str, credentials: Optional[BaseCredentials], auth_type: Optional[str],
                 max_connections: Optional[int] = None, retry_policy: Optional[RetryPolicy] = None,
                 verify: Any = True, allow_insecure_basic: bool = False):
        self.service_endpoint = check_endpoint_url(service_endpoint, f"{type(self).__name__} service_endpoint")
        self.credentials = credentials
        self._auth_type = auth_type
        self.max_connections = max_connections or self.DEFAULT_MAX_CONNECTIONS
        self.retry_policy = retry_policy or (credentials.default_retry_policy() if credentials else FailFast())
        self.verify = verify
        self.allow_insecure_basic = allow_insecure_basic
        self.deadline: Optional[float] = self.DEADLINE
        self.max_response_size: int = self.MAX_RESPONSE_SIZE
        self.max_response_tags: int = self.MAX_RESPONSE_TAGS
        self.max_attachment_stream_size: int = self.MAX_ATTACHMENT_STREAM_SIZE
        self.min_stream_rate: Optional[float] = self.MIN_STREAM_RATE
        self._session_pool: "queue.LifoQueue[requests.Session]" = queue.LifoQueue()
        self._last_used = time.monotonic()
        self._sessions_created = 0
        self._pool_lock = threading.Lock()
        # Held while the auth type is detected over the network: callers that need it wait for the one probe,
        # the session and thread pools (and the idle janitor) don't
        self._auth_lock = threading.Lock()
        self._closed = False

    # --- auth -------------------------------------------------------------------------------------------
    @property
    def auth_type(self) -> str:
        if self._auth_type is None:
            with self._auth_lock:
                if self._auth_type is None:
                    self._auth_type = self._detect_auth_type()
        return self._auth_type

    def _detect_auth_type(self) -> str:
        """Ask the server, without credentials, which schemes it offers, and pick the strongest."""
        if self.credentials is None and not kerberos_ticket_available(None):
            return NOAUTH  # (with a Kerberos ticket in the credential cache, the server may offer Negotiate)

        def probe() -> requests.Response:
            with requests.Session() as s:
                s.mount("http://", self.HTTP_ADAPTER_CLS())
                s.mount("https://", self.HTTP_ADAPTER_CLS())
                try:
                    return s.post(self.service_endpoint, data=b"", headers={"Content-Type": CONTENT_TYPE,
                                                                            "User-Agent": self.USERAGENT},
                                  timeout=self.TIMEOUT, verify=self.verify, allow_redirects=False)
                except requests.exceptions.SSLError as e:
                    raise TransportError(_tls_failure(self.service_endpoint, e)) from e
                except requests.exceptions.RequestException as e:
                    error = TransportError(f"Could not reach {self.service_endpoint} to detect the auth type: {e}")
                    if _is_connect_failure(e):  # the same rule as for every request: the caller's budget
                        raise Retriable(f"could not connect: {type(e).__name__}", kind=Retriable.CONNECT,
                                        error=error) from e
                    raise error from e

        r = self.retry_policy.run(probe, operation="auth type detection")
        if r.status_code != 401:
            log.debug("Endpoint %s answered %s without credentials; assuming no auth", self.service_endpoint,
                      r.status_code)
            return NOAUTH
        offered = parse_www_authenticate(www_authenticate_values(r))
        if self.credentials is None:
            auth_type = GSSAPI if "negotiate" in offered else NOAUTH
            log.debug("Server %s offers %s; using %s with the Kerberos credential cache", self.service_endpoint,
                      offered, auth_type)
            return auth_type
        auth_type = choose_auth_type(offered, self.credentials, self.service_endpoint, self.allow_insecure_basic)
        log.debug("Server %s offers %s; using %s", self.service_endpoint, offered, auth_type)
        return auth_type

    # --- sessions ---------------------------------------------------------------------------------------
    def create_session(self) -> requests.Session:
        session = requests.Session()
        adapter = self.HTTP_ADAPTER_CLS(pool_connections=1, pool_maxsize=1, max_retries=0)
        _adapters.track_connections(adapter)  # deadlines can find each request's socket
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.update({"User-Agent": self.USERAGENT, "Content-Type": CONTENT_TYPE,
                                "Accept-Encoding": "gzip, deflate"})
        session.auth = get_auth_instance(self.auth_type, self.credentials,
                                         hostname=urlsplit(self.service_endpoint).hostname)
        session.verify = self.verify
        return session

    def get_session(self) -> requests.Session:
        """Take a session from the pool, creating one if fewer than max_connections exist; else wait."""
        self._last_used = time.monotonic()
        if self._closed:
            raise TransportError(f"Protocol for {self.service_endpoint} is closed")
        try:
            return self._session_pool.get(block=False)
        except queue.Empty:
            pass
        with self._pool_lock:
            if self._sessions_created < self.max_connections:
                self._sessions_created += 1
                create = True
            else:
                create = False
        if create:
            try:
                return self.create_session()
            except Exception:
                with self._pool_lock:
                    self._sessions_created -= 1
                raise
        return self._session_pool.get(block=True)

    def release_session(self, session: requests.Session) -> None:
        self._last_used = time.monotonic()
        if self._closed:
            session.close()
            return
        self._session_pool.put(session)

    def retire_session(self, session: requests.Session) -> None:
        """Close a broken session and free its slot."""
        session.close()
        with self._pool_lock:
            self._sessions_created -= 1

    def close_idle_sessions(self) -> None:
        """Close the sessions (and their sockets) waiting in the pool; sessions in use are not touched."""
        while True:
            try:
                session = self._session_pool.get(block=False)
            except queue.Empty:
                return
            self.retire_session(session)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                s = self._session_pool.get(block=False)
            except queue.Empty:
                break
            s.close()

    def __enter__(self) -> "BaseProtocol":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(service_endpoint={self.service_endpoint!r}, auth_type={self._auth_type!r}, "
                f"max_connections={self.max_connections}, credentials={self.credentials!r})")


class _Janitor:
    """One daemon thread that releases the threads and sockets of protocols left idle for
    ``Protocol.IDLE_TIMEOUT`` seconds (e.g. one per OAuth token of a web app's many users), so what a
    process holds is bounded by what it is using."""

    _lock = threading.Lock()
    _protocols: "weakref.WeakSet[Protocol]" = weakref.WeakSet()
    _thread: Optional[threading.Thread] = None
    _wake = threading.Event()  # set by watch(): a new protocol, and maybe a new IDLE_TIMEOUT, to look at

    @classmethod
    def watch(cls, protocol: "Protocol") -> None:
        with cls._lock:
            cls._protocols.add(protocol)
            if cls._thread is None or not cls._thread.is_alive():
                cls._thread = threading.Thread(target=cls._run, name="exchangelib-janitor", daemon=True)
                cls._thread.start()
        cls._wake.set()

    @classmethod
    def _run(cls) -> None:
        while True:
            cls._wake.wait(max(0.05, min(Protocol.IDLE_TIMEOUT / 4, 5)))
            cls._wake.clear()
            with cls._lock:
                watched = list(cls._protocols)
                if not watched:
                    cls._thread = None
                    return
            for p in watched:
                if p._thread_pool is None and p._sessions_created == 0:
                    with cls._lock:
                        cls._protocols.discard(p)
                    continue
                if p.release_idle_resources(idle_for=Protocol.IDLE_TIMEOUT):
                    log.debug("Released the idle threads and connections of %s", p.service_endpoint)


class Protocol(DirectoryMethods, BaseProtocol):
    """An EWS endpoint with credentials: sessions, a thread pool, version detection and the retry loop."""

    _cache: Dict[Tuple, "Protocol"] = {}
    _cache_lock = threading.Lock()
    #: Most protocols kept for reuse by :meth:`for_config`. The least recently used one is forgotten (not
    #: closed: accounts still using it keep working) when more are needed, e.g. by a web app that sees a new
    #: OAuth token for every user every hour.
    MAX_CACHED_PROTOCOLS = 256
    #: Seconds without a request after which a protocol's threads and pooled connections are released
    #: (they come back on the next request).
    IDLE_TIMEOUT: float = 60

    def __init__(self, service_endpoint: str, credentials: Optional[BaseCredentials], auth_type: Optional[str] = None,
                 version: Optional[Version] = None, max_connections: Optional[int] = None,
                 retry_policy: Optional[RetryPolicy] = None, verify: Any = True, allow_insecure_basic: bool = False):
        super().__init__(service_endpoint, credentials, auth_type, max_connections=max_connections,
                         retry_policy=retry_policy, verify=verify, allow_insecure_basic=allow_insecure_basic)
        self._version = version
        self._version_lock = threading.Lock()
        self._thread_pool: Optional[ThreadPoolExecutor] = None

    @classmethod
    def for_config(cls, config: Any) -> "Protocol":
        """The shared Protocol for a Configuration (created on first use)."""
        # Everything in the Configuration that changes how requests are sent is part of the key
        key = (config.service_endpoint, config.credentials.cache_key() if config.credentials else None,
               config.auth_type, config.version, config.max_connections, repr(config.retry_policy),
               str(config.verify), bool(config.allow_insecure_basic), _adapter_key(cls.HTTP_ADAPTER_CLS))
        with cls._cache_lock:
            p = cls._cache.pop(key, None)  # re-inserted below: the dict's order is least recently used first
            if p is None or p._closed:
                p = cls(service_endpoint=config.service_endpoint, credentials=config.credentials,
                        auth_type=config.auth_type, version=config.version, max_connections=config.max_connections,
                        retry_policy=config.retry_policy, verify=config.verify,
                        allow_insecure_basic=config.allow_insecure_basic)
            cls._cache[key] = p
            while len(cls._cache) > cls.MAX_CACHED_PROTOCOLS:
                oldest = next(iter(cls._cache))
                log.debug("Forgetting the least recently used protocol for %s", cls._cache.pop(oldest).service_endpoint)
            return p

    @classmethod
    def clear_cache(cls) -> None:
        with cls._cache_lock:
            protocols = list(cls._cache.values())
            cls._cache.clear()
        for p in protocols:
            p.close()

    def create_session(self) -> requests.Session:
        _Janitor.watch(self)  # its pooled connections are closed when left idle
        return super().create_session()

    def _pool(self) -> ThreadPoolExecutor:
        """The thread pool, made (again, if it was released while idle) on demand. Call with _pool_lock held."""
        self._last_used = time.monotonic()
        if self._thread_pool is None:
            self._thread_pool = _futures.ThreadPoolExecutor(max_workers=self.max_connections,
                                                            thread_name_prefix="exchangelib")
            _Janitor.watch(self)
        return self._thread_pool

    @property
    def thread_pool(self) -> ThreadPoolExecutor:
        """The pool itself; to run work on it, prefer :meth:`submit` (safe against an idle release in between)."""
        with self._pool_lock:
            return self._pool()

    def submit(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the thread pool (created again if it was released while idle)."""
        with self._pool_lock:
            return self._pool().submit(fn, *args)

    def release_idle_resources(self, idle_for: float = 0) -> bool:
        """Shut down the thread pool and close the pooled connections if nothing used them for ``idle_for``
        seconds. The protocol stays usable: both come back on the next request. Returns True if released."""
        with self._pool_lock:
            if time.monotonic() - self._last_used < idle_for:
                return False
            pool, self._thread_pool = self._thread_pool, None
        if pool is not None:
            pool.shutdown(wait=False)  # work already queued still runs; idle threads exit
        self.close_idle_sessions()
        return True

    def close(self) -> None:
        super().close()
        if self._thread_pool is not None:
            self._thread_pool.shutdown(wait=False)
            self._thread_pool = None

    # --- version ----------------------------------------------------------------------------------------
    @property
    def version(self) -> Version:
        return self.get_version()

    @version.setter
    def version(self, value: Version) -> None:
        self._version = value

    def get_version(self, impersonation: Optional[tuple] = None, anchor_mailbox: Optional[str] = None) -> Version:
        """The server's Version, probing the server on first use (unless a version was configured).

        ``impersonation``/``anchor_mailbox`` go into the probe request: app-only OAuth tokens are only
        accepted together with an ExchangeImpersonation header, so an Account passes its own.
        """
        if self._version is None:
            with self._version_lock:
                if self._version is None:
                    self._version = self._detect_version(impersonation, anchor_mailbox)
        return self._version

    def _detect_version(self, impersonation: Optional[tuple] = None, anchor_mailbox: Optional[str] = None) -> Version:
        """Probe with a cheap request at the newest schema version, stepping down while the server refuses it.

        The server's ServerVersionInfo header then tells us its build.
        """
        probe = create_element("m:ResolveNames", {"ReturnFullContactData": "false"})
        add_child(probe, "m:UnresolvedEntry", text="exchangelib-version-probe")
        last_error: Optional[Exception] = None
        for _, api_version in reversed(API_VERSIONS):
            try:
                header, body, _ = self._post_once_with_retries(probe, api_version, impersonation=impersonation,
                                                               operation="ResolveNames", anchor_mailbox=anchor_mailbox)
            except (ErrorInvalidServerVersion, ErrorInvalidSchemaVersionForMailboxVersion) as e:
                last_error = e
                continue
            except ResponseMessageError as e:
                if e.response_code == "ErrorSchemaValidation":
                    last_error = e
                    continue
                raise
            v = server_version(header)
            if v is None:
                return Version.from_api_version(api_version)
            log.debug("Server %s is build %s, API %s", self.service_endpoint, v.build, v.api_version)
            return v
        raise TransportError(f"Could not detect the server version of {self.service_endpoint}: {last_error}")

    # --- sending ----------------------------------------------------------------------------------------
    def post(self, payload: Any, api_version: Optional[str] = None, impersonation: Optional[tuple] = None,
             timezone_id: Optional[str] = None, culture: Optional[str] = None, operation: Optional[str] = None,
             anchor_mailbox: Optional[str] = None, idempotent: bool = True):
        """Send one request body element; return (header, body) of the response envelope.

        Whole-request failures (SOAP faults, HTTP errors) raise; retriable ones go through the retry policy.
        ``idempotent=False`` (writes that must not happen twice): a failure after the request was sent raises
        OutcomeUnknownError instead of being retried.
        The ServerVersionInfo of every response updates ``self.version``'s build when it differs.
        """
        api_version = api_version or self.version.api_version
        header, body, v = self._post_once_with_retries(payload, api_version, impersonation, timezone_id, culture,
                                                       operation, anchor_mailbox, idempotent)
        if v is not None and self._version is not None and v.build != self._version.build:
            log.debug("Server build changed from %s to %s", self._version.build, v.build)
            self._version = Version(build=v.build, api_version=self._version.api_version)
        return header, body

    def _post_once_with_retries(self, payload: Any, api_version: str, impersonation: Optional[tuple] = None,
                                timezone_id: Optional[str] = None, culture: Optional[str] = None,
                                operation: Optional[str] = None, anchor_mailbox: Optional[str] = None,
                                idempotent: bool = True):
        data = wrap(payload, api_version, impersonation=impersonation, timezone_id=timezone_id, culture=culture)
        headers = {}
        if anchor_mailbox:
            headers["X-AnchorMailbox"] = anchor_mailbox
        if impersonation:
            headers["X-AnchorMailbox"] = impersonation[1]
        return self.retry_policy.run(lambda: self._attempt(data, headers, operation), operation=operation,
                                     idempotent=idempotent)

    def _attempt(self, data: bytes, headers: Dict[str, str], operation: Optional[str]):
        session = self.get_session()
        retired = False
        refreshed = False
        try:
            while True:
                if xml_log.isEnabledFor(logging.DEBUG):
                    xml_log.debug("EWS %(operation)s request to %(endpoint)s\n%(xml_request)s",
                                  {"operation": operation, "endpoint": self.service_endpoint,
                                   "xml_request": _log_text(redact_xml(data))})
                t0 = time.monotonic()
                deadline = Deadline(self.deadline)
                try:
                    with deadline:
                        # verify passed per request: requests lets $REQUESTS_CA_BUNDLE override session.verify
                        r = session.post(self.service_endpoint, data=data, headers=headers, timeout=self.TIMEOUT,
                                         allow_redirects=False, verify=self.verify, stream=True)
                        try:
                            content = self._read_content(r, deadline)
                        finally:
                            r.close()
                    if deadline.expired:
                        raise OSError("deadline passed")
                except requests.exceptions.SSLError as e:
                    if deadline.expired:
                        self.retire_session(session)
                        retired = True
                        raise self._deadline_error(operation) from e
                    # A certificate that does not verify will not verify on the next attempt either
                    raise TransportError(_tls_failure(self.service_endpoint, e)) from e
                except ResponseTooLargeError as e:
                    self.retire_session(session)
                    retired = True
                    raise ResponseTooLargeError(
                        f"The {operation or 'EWS'} response from {self.service_endpoint} was refused: {e}. It was "
                        f"not retried (the next attempt would fetch the same). Ask for less per request (chunk_size, "
                        f"page_size, only()) or raise the protocol's max_response_size / max_response_tags.",
                        limit=e.limit) from e
                except PermissionError as e:
                    # requests_ntlm raises this when the server answers 401 to the NTLM handshake
                    self.retire_session(session)
                    retired = True
                    raise self._unauthorized(False) from e
                except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
                    self.retire_session(session)
                    retired = True
                    if deadline.expired:
                        # Not retried (the next attempt would hit the same wall); a write reports its outcome
                        # as unknown
                        raise Retriable("deadline passed", error=self._deadline_error(operation),
                                        kind=Retriable.SENT, retry=False) from e
                    if _is_connect_failure(e):
                        raise Retriable(f"could not connect: {type(e).__name__}", kind=Retriable.CONNECT,
                                        error=TransportError(f"Could not connect to {self.service_endpoint}: {e}")) \
                            from e
                    if isinstance(e, requests.exceptions.RequestException) and not isinstance(
                            e, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
                                requests.exceptions.ContentDecodingError, requests.exceptions.Timeout)):
                        raise TransportError(f"Request to {self.service_endpoint} failed: {e}") from e
                    raise Retriable(f"connection error: {type(e).__name__}", kind=Retriable.SENT,
                                    error=TransportError(f"Connection to {self.service_endpoint} failed: {e}")) from e
                log.debug("%s %s -> HTTP %s in %.3fs (%d bytes), headers %s", operation, self.service_endpoint,
                          r.status_code, time.monotonic() - t0, len(content), redact_headers(dict(r.headers)))
                if r.status_code == 401:
                    if not refreshed and self.credentials is not None and self.auth_type == OAUTH2:
                        refreshed = True
                        if refresh_credentials(self.credentials, session, bearer_token_of(r)):
                            continue  # one retry with the new token; never loop
                    raise self._unauthorized(refreshed)
                break
            if content and xml_log.isEnabledFor(logging.DEBUG):
                xml_log.debug("EWS %(operation)s response from %(endpoint)s (HTTP %(status)s)\n%(xml_response)s",
                              {"operation": operation, "endpoint": self.service_endpoint, "status": r.status_code,
                               "xml_response": _log_text(redact_xml(content))})
            return self._handle_response(r, content, operation)
        finally:
            if not retired:
                self.release_session(session)

    def post_streaming(self, payload: Any, api_version: Optional[str] = None, impersonation: Optional[tuple] = None,
                       operation: Optional[str] = None, read_timeout: Optional[float] = None) -> Iterator[Any]:
        """Send one request whose response is a stream of SOAP envelopes (GetStreamingEvents) and yield each
        envelope's body child as it arrives, without buffering the whole response.

        A response that is not a stream (an error, a fault) is handled like :meth:`post`'s. A connection
        that drops mid-stream raises :class:`StreamInterrupted`; the caller decides whether to reconnect.

        The connection legitimately stays open for the subscription's lifetime, so no overall deadline
        applies; instead ``read_timeout`` bounds the silence between two reads, each envelope is capped
        by ``max_response_size`` and ``max_response_tags`` (ResponseTooLargeError), and an envelope that
        has begun must be complete within ``deadline`` seconds (else StreamInterrupted). The stream is
        asked for uncompressed (a compressed one is refused: no inflating of unbounded chunks).
        """
        api_version = api_version or self.version.api_version
        data = wrap(payload, api_version, impersonation=impersonation)
        headers = {"X-AnchorMailbox": impersonation[1]} if impersonation else {}
        headers["Accept-Encoding"] = "identity"
        session = self.get_session()
        r = None
        done = False
        try:
            for attempt in range(2):
                try:
                    r = session.post(self.service_endpoint, data=data, headers=headers, stream=True,
                                     verify=self.verify, timeout=(self.TIMEOUT, read_timeout or self.TIMEOUT),
                                     allow_redirects=False)
                except requests.exceptions.SSLError as e:
                    raise TransportError(_tls_failure(self.service_endpoint, e)) from e
                except requests.exceptions.RequestException as e:
                    raise StreamInterrupted(f"{operation}: could not connect to {self.service_endpoint}: {e}") from e
                if r.status_code != 401:
                    break
                r.close()
                # An expired OAuth token: one retry with a fresh one, as post() does; never loop
                if attempt or self.credentials is None or self.auth_type != OAUTH2 \
                        or not self.credentials.refresh(session):
                    raise UnauthorizedError(f"The server at {self.service_endpoint} rejected the credentials of "
                                            f"{self.credentials.identity if self.credentials else 'nobody'} "
                                            f"(HTTP 401, auth type {self.auth_type})")
            assert r is not None
            if r.status_code != 200 or "chunked" not in (r.headers.get("Transfer-Encoding") or "").lower():
                # One plain answer: read like post()'s, capped and within the deadline
                deadline = Deadline(self.deadline)
                try:
                    with deadline:
                        content = self._read_content(r, deadline)
                except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
                    if deadline.expired:
                        raise self._deadline_error(operation) from e
                    raise StreamInterrupted(f"{operation}: the answer from {self.service_endpoint} broke off: "
                                            f"{type(e).__name__}") from e
                if deadline.expired:
                    raise self._deadline_error(operation)
                try:
                    header, body, _ = self._handle_response(r, content, operation)
                except Retriable as e:
                    raise (e.error or TransportError(e.reason)) from None
                yield body[0]
                done = True
                return
            encoding = (r.headers.get("Content-Encoding") or "identity").strip().lower()
            if encoding != "identity":
                raise TransportError(f"{operation}: {self.service_endpoint} compressed the stream ({encoding}) "
                                     f"although asked not to; refused")
            limit, max_tags = self.max_response_size, self.max_response_tags
            buffer = bytearray()
            scan_from = 0  # where the next envelope end may begin in buffer
            started: Optional[float] = None  # when the envelope now in the buffer began to arrive
            try:
                for chunk in r.iter_content(chunk_size=None):
                    buffer += chunk
                    while True:
                        m = _ENVELOPE_END.search(buffer, scan_from)
                        if m is None:
                            # an end tag not complete yet starts at the last '<' (no tag can follow it)
                            last = buffer.rfind(b"<", scan_from)
                            scan_from = last if last >= 0 else len(buffer)
                            break
                        envelope = bytes(buffer[:m.end()])
                        del buffer[:m.end()]
                        scan_from, started = 0, None
                        if envelope.count(b"<") > max_tags:
                            raise ResponseTooLargeError(
                                f"{operation}: a streamed envelope from {self.service_endpoint} has more than "
                                f"{max_tags} XML tags; raise the protocol's max_response_tags if it is legitimate",
                                limit=limit)
                        if xml_log.isEnabledFor(logging.DEBUG):
                            xml_log.debug("EWS %(operation)s streamed envelope\n%(xml_response)s",
                                          {"operation": operation, "xml_response": _log_text(redact_xml(envelope))})
                        try:
                            _, body = split_envelope(parse(envelope))
                        except (ParseError, SOAPError) as e:
                            raise StreamInterrupted(f"{operation}: unreadable envelope in the stream: {e}") from e
                        fault = body.find("{http://schemas.xmlsoap.org/soap/envelope/}Fault")
                        if fault is not None:
                            raise fault_to_exception(fault, operation)
                        yield body[0]
                    if len(buffer) > limit:
                        raise ResponseTooLargeError(
                            f"{operation}: a streamed envelope from {self.service_endpoint} is larger than the "
                            f"limit of {limit} bytes; the stream was closed. Raise the protocol's "
                            f"max_response_size if it is legitimate.", limit=limit)
                    if started is None:  # between envelopes: drop the whitespace, note when the next one begins
                        blank = len(buffer) - len(buffer.lstrip())
                        if blank:
                            del buffer[:blank]
                            scan_from = max(0, scan_from - blank)
                        if buffer:
                            started = time.monotonic()
                    elif self.deadline and time.monotonic() - started > self.deadline:
                        raise StreamInterrupted(
                            f"{operation}: an envelope of the stream from {self.service_endpoint} was still "
                            f"incomplete after the protocol's deadline of {self.deadline:g} s (the server "
                            f"trickles or stalls); raise the deadline if it is just slow")
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
                raise StreamInterrupted(f"{operation}: the stream from {self.service_endpoint} broke off: "
                                        f"{type(e).__name__}") from e
            if buffer.strip():
                raise StreamInterrupted(f"{operation}: the stream from {self.service_endpoint} ended in the middle "
                                        f"of an envelope")
            done = True
        finally:
            if r is not None:
                r.close()
            if done:
                self.release_session(session)
            else:  # stopped early or broken: the connection's state is unknown
                self.retire_session(session)

    def _read_content(self, r: requests.Response, deadline: Deadline) -> bytes:
        limit = self.max_response_size
        length = r.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            raise ResponseTooLargeError(f"The response is larger than the limit of {limit} bytes", limit=limit)
        return read_capped(r.raw, r.headers.get("Content-Encoding", ""), limit, deadline,
                           max_tags=self.max_response_tags)

    def _deadline_error(self, operation: Optional[str]) -> DeadlineExceededError:
        return DeadlineExceededError(
            f"The {operation or 'EWS'} request to {self.service_endpoint} took longer than its deadline of "
            f"{self.deadline:g} s and was abandoned. The server is too slow or stalled; raise the protocol's "
            f"deadline if it is just busy.", deadline=self.deadline)

    def _unauthorized(self, refreshed: bool) -> UnauthorizedError:
        if self.auth_type == OAUTH2:
            advice = ("Check the access token and its scope; a refresh callback, if any, was tried once"
                      if refreshed else "Check the access token and its scope")
        elif self.auth_type == GSSAPI:
            advice = ("Check that the Kerberos principal is a user of the server (klist), and that the "
                      "server's keytab holds the current keys of its service principal HTTP/<host>")
        else:
            advice = "Check the username, the password and the auth type"
        return UnauthorizedError(
            f"The server at {self.service_endpoint} rejected the credentials of "
            f"{self.credentials.identity if self.credentials else 'nobody'} "
            f"(HTTP 401, auth type {self.auth_type}). {advice}.")

    def _handle_response(self, r: requests.Response, content: bytes, operation: Optional[str]):
        status = r.status_code
        if status in (503, 429):
            raise Retriable(f"HTTP {status}", hint=_retry_after(r), error=TransportError(
                f"The server at {self.service_endpoint} is unavailable (HTTP {status}). Try again later, or use "
                f"ServiceAccount credentials / a FaultTolerance retry policy to wait automatically."))
        if status in (301, 302, 303, 307, 308):
            raise TransportError(f"The server redirected {self.service_endpoint} to {r.headers.get('Location')!r}; "
                                 f"use the new URL as service_endpoint (redirects are not followed with credentials)")
        if status not in (200, 500):
            raise TransportError(f"Unexpected HTTP {status} from {self.service_endpoint}: {content[:200]!r}")
        try:
            root = parse(content)
            header, body = split_envelope(root)
        except ForbiddenDTDError as e:
            # Not a transient glitch: a DTD/entity payload is refused, never retried
            raise ForbiddenDTDError(f"Refused the response from {self.service_endpoint}: {e}",
                                    status_code=status) from e
        except (ParseError, SOAPError) as e:
            if status == 500:
                raise TransportError(f"HTTP 500 from {self.service_endpoint} with an unreadable body: {e}") from e
            # The server answered 200: it may have done the work before its answer got mangled
            raise Retriable(f"malformed response: {e}", kind=Retriable.SENT,
                            error=SOAPError(f"Malformed response from {self.service_endpoint}: {e}")) from e
        fault = body.find("{http://schemas.xmlsoap.org/soap/envelope/}Fault")
        if fault is not None:
            exc = fault_to_exception(fault, operation)
            if isinstance(exc, ErrorServerBusy):
                raise Retriable("ErrorServerBusy", hint=exc.back_off, error=exc)
            raise exc
        if status == 500:
            raise TransportError(f"HTTP 500 from {self.service_endpoint} without a SOAP fault")
        busy = _busy_response_message(body, operation)
        if busy is not None:
            raise Retriable("ErrorServerBusy", hint=busy.back_off, error=busy)
        return header, body, server_version(header)


_RM_CODE = f"{{{MNS}}}ResponseCode"
_ENVELOPE_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?Envelope\s*>")


def _busy_response_message(body: Any, operation: Optional[str]) -> Optional[ErrorServerBusy]:
    """Exchange throttles a whole request by answering ErrorServerBusy in its ResponseMessage(s)."""
    response = body[0] if len(body) else None
    if response is None:
        return None
    messages = response.find(f"{{{MNS}}}ResponseMessages")
    if messages is None or not len(messages):
        return None
    first = messages[0]
    if first.findtext(_RM_CODE) != "ErrorServerBusy":
        return None
    exc = response_message_error(first, operation)
    return exc if isinstance(exc, ErrorServerBusy) else None


def _log_text(xml: bytes) -> str:
    """XML for a log message as text, so that any handler shows it readably (not as a bytes repr)."""
    return xml.decode("utf-8", errors="replace")


def _retry_after(r: requests.Response) -> Optional[float]:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    v = (r.headers.get("Retry-After") or "").strip()
    if not v:
        return None
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    try:
        when = email_utils.parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_connect_failure(e: BaseException) -> bool:
    """True when no connection was made (refused, unreachable, DNS failure, connect timeout): nothing was sent."""
    if isinstance(e, requests.exceptions.ConnectTimeout):
        return True
    seen = 0
    cur: Optional[BaseException] = e
    while cur is not None and seen < 10:
        if isinstance(cur, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
                            ConnectionRefusedError)):
            return True
        nxt = getattr(cur, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else cur.__context__
        cur = nxt
        seen += 1
    return False


def _tls_failure(endpoint: str, e: Exception) -> str:
    return (f"TLS with {endpoint} failed: {e}. If the server uses a private CA or a self-signed certificate, "
            f"pass verify='/path/to/ca.pem' in the Configuration (verify=False disables the check: test servers only).")


def close_connections() -> None:
    """Close the idle HTTP connections and the worker threads of every cached protocol.

    For the end of a script, before a fork, or after a burst of work, while no request is in flight:
    accounts stay usable and open new connections (and threads) when they next send a request.
    """
    with Protocol._cache_lock:
        protocols = list(Protocol._cache.values())
    for p in protocols:
        p.release_idle_resources()
