"""The local EWS server: a real HTTP(S) server on 127.0.0.1 that speaks Exchange Web Services.

::

    from exchangelib.testing.server import EWSServer
    from exchangelib.testing.users import User

    with EWSServer([User("john", "secret", "john@example.com")], version="2016") as server:
        print(server.url)          # http://127.0.0.1:<port>/EWS/Exchange.asmx

It serves ``POST /EWS/Exchange.asmx`` (path matched case-insensitively, as IIS does), the OAuth 2.0
token endpoint ``POST /oauth2/v2.0/token`` (also ``/<tenant>/oauth2/v2.0/token`` and
``/oauth2/token``) and ``GET /EWS/Services.wsdl``. Each request is authenticated
(:mod:`.auth`), its SOAP envelope parsed and checked (:mod:`.soap`), validated against the EWS
schema in strict mode, and dispatched to ``OPERATIONS[<operation>](ctx, body_child)`` (see
:mod:`.context`); the operations and the mailbox store live in :mod:`.ops` and :mod:`.store`.

Strict mode records every request that fails schema validation in :attr:`EWSServer.schema_errors`
(and answers ``ErrorSchemaValidation``, as Exchange does), so a test suite can fail loudly on a
client that builds invalid XML: call :meth:`EWSServer.assert_clean` at teardown.

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/impersonation-and-ews-in-exchange
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/exchangeimpersonation
"""
from __future__ import annotations

import ipaddress
import json
import logging
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from lxml import etree

from ..xml import MNS, TNS
from . import autodiscover
from . import ops  # noqa: F401 - importing the package fills OPERATIONS
from .auth import Authenticator, ConnectionAuth, Identity
from .context import OPERATIONS, RequestContext, ResponseCodeError, SoapFault, StreamingResponse
from .faults import (ConnectionReset, DroppedStream, HTTPStatus, InjectableFault, Injection, Latency,
                     OversizedResponse, ServerBusy, SlowResponse,
                     TruncatedResponse, concurrency_fault)
from .generate import generate_mailboxes
from .lax import relax
from .notifications import NotificationHub, hub_for
from .schema import SchemaNotFound, find_schema_dir, load_schema, message_elements, validate
from .soap import (EXCHANGE_VERSION_TYPES, Fault, RequestEnvelope, ServerVersion, build_fault, build_response,
                   element_position, parse_request, resolve_server_version, schema_fault, version_gate)
from .directory import Directory, directory_of
from .store import Store
from .tls import (CertificatePaths, ClientCA, certificate_user_names, end_point_hash, issue_client_certificate,
                  make_certificates, make_client_ca, server_ssl_context)
from .users import OAuthClient, User, UserDirectory

log = logging.getLogger(__name__)

__all__ = ["EWSServer", "RequestRecord", "SchemaError", "ServerNotClean"]

EWS_PATH = "/ews/exchange.asmx"
_MAX_BODY = 64 * 1024 * 1024
_IDLE_TIMEOUT = 120  # seconds a keep-alive connection may sit idle (IIS connectionTimeout)
_MAX_LOG = 100_000  # request_log keeps (roughly) the newest this many records


class RequestRecord(NamedTuple):
    """One EWS request as the server saw it. Unpacks as ``(operation, user, status, ...)``."""

    operation: Optional[str]
    user: Optional[str]        # authenticated identity (SMTP address, or "app:<client_id>"); None if 401
    status: int                # HTTP status sent (0 if the connection was dropped on purpose)
    response_code: Optional[str] = None  # ResponseCode of a SOAP fault, if one was sent
    auth_scheme: Optional[str] = None
    mailbox: Optional[str] = None        # the mailbox acted on (differs from user when impersonating)
    duration_ms: float = 0.0


@dataclass(frozen=True)
class SchemaError:
    """A request (or response) that failed schema validation in strict mode."""

    operation: Optional[str]
    message: str
    kind: str = "request"  # 'request', 'header', 'version' or 'response'
    line: Optional[int] = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.kind} {self.operation or '?'}{where}: {self.message}"


class ServerNotClean(AssertionError):
    """Raised by :meth:`EWSServer.assert_clean`: invalid requests/responses or handler crashes were seen."""


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/xml; charset=utf-8"
    headers: List[Tuple[str, str]] = field(default_factory=list)
    action: Optional[InjectableFault] = None  # ConnectionReset / TruncatedResponse
    response_code: Optional[str] = None
    mailbox: Optional[str] = None
    # A streamed response (GetStreamingEvents): (envelope bytes, commit once delivered) per chunk
    stream: Optional[Iterator[Tuple[bytes, Optional[Callable[[], None]]]]] = None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EWSServer:
    """A local Exchange Web Services server on a free loopback port.

    Parameters (all keyword-only except ``users``):

    - ``users``: :class:`~exchangelib.testing.users.User` accounts (each gets a mailbox).
    - ``version``: emulated Exchange: ``'2007'``, ``'2007_SP1'``, ``'2010'``, ``'2010_SP1'``,
      ``'2010_SP2'``, ``'2013'``, ``'2013_SP1'``, ``'2016'``, ``'2019'``, ``'online'`` or a build tuple.
    - ``strict``: validate every request against the EWS XSDs; invalid ones get
      ``ErrorSchemaValidation`` and are recorded in :attr:`schema_errors`. Raises
      :class:`~exchangelib.testing.schema.SchemaNotFound` at construction if the XSDs are missing.
      ``None`` (the default) means strict: the package ships the XSDs (``EWS_SCHEMA_DIR`` overrides them).
    - ``validate_responses``: validate each response body too; failures go to
      :attr:`response_schema_errors`.
    - ``tls``: serve HTTPS with a throw-away CA (clients verify with ``verify=server.ca_path``).
    - ``auth``: enabled schemes, from ``('negotiate', 'ntlm', 'digest', 'basic', 'bearer')``.
    - ``oauth_clients``, ``token_lifetime``: OAuth apps and access-token lifetime in seconds.
    - ``latency_ms``: delay added to every EWS request (settable later).
    - ``max_concurrency``: concurrent EWS requests allowed per mailbox (EWSMaxConcurrency); excess
      requests get ErrorServerBusy (``concurrency_response='fault'``) or HTTP 503 (``'503'``).
    - ``max_app_concurrency``: concurrent EWS requests allowed per caller (the user or OAuth app that
      authenticated, whichever mailboxes it impersonates), as Exchange Online budgets an app; excess
      requests are answered like ``max_concurrency``. The peaks are in :attr:`peak_concurrency_by_mailbox`
      and :attr:`peak_concurrency_by_caller`; :attr:`throttled_requests` counts the refused ones.
    - ``extended_protection``: over TLS, require NTLM channel binding to the server certificate (and check
      the Kerberos channel bindings a client sends).
    - ``kerberos_keytab``: accept Kerberos in ``Negotiate`` (enable the ``'negotiate'`` scheme) with the
      keys of ``HTTP/<host>`` in this keytab; client principals map to users by UPN or logon name.
    - ``client_certificates``: with ``tls=True``, ``'optional'`` or ``'required'``: TLS client certificates
      issued by :meth:`issue_client_certificate` log their user in (Certificate Based Authentication);
      ``'required'`` refuses TLS connections without one.
    - ``max_connections``: open client connections served at once (each has a thread, like an IIS
      worker); a connection beyond it is answered ``503 Service Unavailable`` (with ``Retry-After``) and
      closed at once, without a thread. Counted in :attr:`rejected_connections`. ``None``: unbounded.
    - ``lockout_threshold``, ``lockout_duration``: Active Directory's account lockout policy. After
      ``lockout_threshold`` bad passwords in a row an account is locked for ``lockout_duration``
      seconds: every logon, even with the right password, gets 401. ``None`` (default): no lockout.
      :meth:`unlock` ends a lockout early.
    """

    def __init__(self, users: Optional[Iterable[User]] = None, *, version: Any = "2016",
                 strict: Optional[bool] = True, validate_responses: bool = False, tls: bool = False,
                 auth: Sequence[str] = ("ntlm", "basic", "bearer"), oauth_clients: Iterable[OAuthClient] = (),
                 token_lifetime: float = 3600.0, host: str = "127.0.0.1", port: int = 0, latency_ms: float = 0,
                 max_concurrency: Optional[int] = None, throttle_back_off_ms: int = 5000,
                 max_app_concurrency: Optional[int] = None,
                 concurrency_response: str = "fault", extended_protection: bool = False,
                 schema_dir: Optional[Union[str, Path]] = None, netbios_domain: str = "EXAMPLE",
                 dns_domain: str = "example.com", kerberos_keytab: Optional[Union[str, Path]] = None,
                 client_certificates: Optional[str] = None, max_connections: Optional[int] = 256,
                 lockout_threshold: Optional[int] = None, lockout_duration: float = 1800.0):
        if not isinstance(host, str) or not _is_loopback(host):
            raise ValueError(f"EWSServer.host must be a loopback address such as '127.0.0.1', got {host!r}: "
                             f"the local server has well-known passwords and must not be reachable from outside")
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"EWSServer.port must be an int in 0..65535 (0 = pick a free port), got {port!r}")
        if max_concurrency is not None and (not isinstance(max_concurrency, int) or max_concurrency < 1):
            raise ValueError(f"EWSServer.max_concurrency must be a positive int or None, got {max_concurrency!r}")
        if max_app_concurrency is not None and (not isinstance(max_app_concurrency, int) or max_app_concurrency < 1):
            raise ValueError(f"EWSServer.max_app_concurrency must be a positive int or None, "
                             f"got {max_app_concurrency!r}")
        if concurrency_response not in ("fault", "503"):
            raise ValueError(f"EWSServer.concurrency_response must be 'fault' or '503', got {concurrency_response!r}")
        if client_certificates not in (None, "optional", "required"):
            raise ValueError(f"EWSServer.client_certificates must be None, 'optional' or 'required', got "
                             f"{client_certificates!r}")
        if client_certificates and not tls:
            raise ValueError("EWSServer.client_certificates needs tls=True")
        self.client_certificates = client_certificates
        self._client_ca: Optional[ClientCA] = None
        if max_connections is not None and (not isinstance(max_connections, int) or isinstance(max_connections, bool)
                                            or max_connections < 1):
            raise ValueError(f"EWSServer.max_connections must be a positive int or None, got {max_connections!r}")
        self.max_connections = max_connections
        self.rejected_connections = 0
        self._connections = 0
        self.server_version: ServerVersion = resolve_server_version(version)
        self.host = host
        self._requested_port = port
        self.tls = bool(tls)
        self.extended_protection = bool(extended_protection)
        self.latency_ms = latency_ms
        self.max_concurrency = max_concurrency
        self.max_app_concurrency = max_app_concurrency
        self.throttle_back_off_ms = throttle_back_off_ms
        self.concurrency_response = concurrency_response

        self._schema = None
        schema_path = Path(schema_dir) if schema_dir else find_schema_dir()
        if strict is None:
            strict = schema_path is not None
        self.strict = bool(strict)
        self.validate_responses = bool(validate_responses)
        self.schema_dir = schema_path
        if schema_dir is not None and not (Path(schema_dir) / "types.xsd").is_file():
            if self.strict or self.validate_responses:
                raise SchemaNotFound(f"EWSServer(schema_dir={str(schema_dir)!r}): that directory has no types.xsd "
                                     f"and messages.xsd (Microsoft's EWS schema files)")
        if self.strict or self.validate_responses:
            if schema_path is None:
                raise SchemaNotFound(
                    "EWSServer(strict=True or validate_responses=True) needs Microsoft's EWS schema files "
                    "(types.xsd, messages.xsd): set EWS_SCHEMA_DIR to their directory, or pass strict=False")
            self._schema = load_schema(schema_path)
        else:
            log.warning("EWSServer: running without schema validation (strict=False); invalid requests will not "
                        "be detected")

        self.users = UserDirectory()
        self.store = Store(self.server_version.build)
        self.authenticator = Authenticator(
            self.users, schemes=auth, realm=host, oauth_clients=oauth_clients, token_lifetime=token_lifetime,
            netbios_domain=netbios_domain, dns_domain=dns_domain, extended_protection=extended_protection,
            kerberos_keytab=str(kerberos_keytab) if kerberos_keytab is not None else None,
            lockout_threshold=lockout_threshold, lockout_duration=lockout_duration)
        for u in users or ():
            self.add_user(u)

        self.schema_errors: List[SchemaError] = []
        self.response_schema_errors: List[SchemaError] = []
        self.internal_errors: List[str] = []
        self.unimplemented_operations: List[str] = []
        self.request_log: List[RequestRecord] = []
        self.max_concurrency_seen = 0
        #: The most requests of each operation that were in progress at the same time (since reset_stats()).
        self.max_concurrency_by_operation: Dict[str, int] = {}
        self._inflight_by_operation: Dict[str, int] = {}
        #: the most requests that ran at once for each mailbox / each authenticated caller (user or "app:<id>")
        self.peak_concurrency_by_mailbox: Dict[str, int] = {}
        self.peak_concurrency_by_caller: Dict[str, int] = {}
        #: requests refused because a concurrency budget was used up
        self.throttled_requests = 0
        self.token_requests = 0
        self._lock = threading.Lock()
        self._inflight = 0
        self._inflight_by_mailbox: Dict[str, int] = {}
        self._inflight_by_caller: Dict[str, int] = {}
        self._injections: List[Injection] = []
        self._handlers: set = set()
        self._stopping = threading.Event()
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._tmpdir: Optional[str] = None
        self._certs: Optional[CertificatePaths] = None
        self._ssl_context: Optional[ssl.SSLContext] = None
        self._end_point_hash: Optional[bytes] = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "EWSServer":
        """Bind, start serving in a background thread and return self."""
        if self._httpd is not None:
            raise RuntimeError("EWSServer is already running")
        self._stopping.clear()
        self.notifications.restart()
        if self.tls:
            self._tmpdir = tempfile.mkdtemp(prefix="exchangelib-tls-")
            self._certs = make_certificates(self._tmpdir)
            self._ssl_context = server_ssl_context(self._certs)
            if self.client_certificates:
                self._client_ca = make_client_ca(self._tmpdir)
                self._ssl_context.verify_mode = (ssl.CERT_REQUIRED if self.client_certificates == "required"
                                                 else ssl.CERT_OPTIONAL)
                self._ssl_context.load_verify_locations(self._client_ca.path)
            self._end_point_hash = end_point_hash(self._certs.cert_der)
        httpd_cls = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._httpd = httpd_cls((self.host, self._requested_port), _Handler)
        self._httpd.ews = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                        name=f"EWSServer:{self.port}", daemon=True)
        self._thread.start()
        log.info("Local EWS server (Exchange %s) listening on %s", self.server_version.name, self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join all threads. Idempotent."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        self.notifications.shutdown()
        httpd.shutdown()
        with self._lock:
            handlers = list(self._handlers)
        for h in handlers:
            h.abort_connection()
        httpd.server_close()  # joins the request threads (block_on_close)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        log.info("Local EWS server on port %s stopped", httpd.server_address[1])

    def __enter__(self) -> "EWSServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def notifications(self) -> NotificationHub:
        """The store's notification subscriptions; its ``minute``, ``heartbeat`` and ``push_retry``
        settings (seconds) make timeouts and heartbeats quick in tests."""
        return hub_for(self.store)

    # -- addresses ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("EWSServer is not running: call start() or use it as a context manager")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The EWS service endpoint, e.g. ``http://127.0.0.1:54321/EWS/Exchange.asmx``."""
        return f"{self.base_url}/EWS/Exchange.asmx"

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint."""
        return f"{self.base_url}/oauth2/v2.0/token"

    @property
    def ca_path(self) -> Optional[str]:
        """PEM file of the CA that signed the server certificate (TLS only), for ``verify=``."""
        return self._certs.ca_path if self._certs else None

    @property
    def build(self) -> Tuple[int, int, int, int]:
        return self.server_version.build

    @property
    def directory(self) -> Directory:
        """Room lists, distribution lists and mailbox settings (see :mod:`exchangelib.testing.directory`)."""
        return directory_of(self.store)

    # -- accounts -------------------------------------------------------------------------------

    def issue_client_certificate(self, user: str, directory: Optional[str] = None,
                                 password: Optional[str] = None) -> Tuple[str, str]:
        """A TLS client certificate for ``user`` (their UPN and address in it), from this server's client CA.

        Returns the paths of the certificate and its key (encrypted with ``password`` if given), written to
        ``directory`` (default: the server's temporary directory, removed at :meth:`stop`). Needs a running
        server started with ``client_certificates``.
        """
        if self._client_ca is None or self._tmpdir is None:
            raise RuntimeError("issue_client_certificate() needs a running server with tls=True and "
                               "client_certificates='optional' or 'required'")
        u = self.user(user)
        upn = u.upn or f"{u.username}@{u.dns_domain}"
        return issue_client_certificate(self._client_ca, upn, u.primary_smtp_address, directory or self._tmpdir,
                                        password)

    def _certificate_identity(self, cert_der: Optional[bytes]) -> Optional[Identity]:
        """The user a verified client certificate names (UPN first, then e-mail), as Exchange's CBA maps it."""
        if not cert_der:
            return None
        upn, email = certificate_user_names(cert_der)
        user = (self.users.by_upn(upn) if upn else None) or (self.users.by_smtp(email) if email else None)
        if user is None:
            log.info("TLS client certificate for %s / %s maps to no user", upn, email)
            return None
        return Identity("Certificate", user=user)

    def add_user(self, user: User) -> User:
        """Add an account and create its mailbox."""
        self.users.add(user)
        self.store.add_mailbox(user.primary_smtp_address, user.display_name or user.username,
                               aliases=tuple(user.aliases))
        return user

    def generate_mailboxes(self, count: int, items: int = 20, seed: int = 0, prefix: str = "user",
                           domain: str = "example.com", start: int = 1) -> List[User]:
        """Add ``count`` mailboxes without a login (``user0001@example.com`` ...) holding ``items``
        generated items each, the same for the same ``seed``; see :mod:`exchangelib.testing.generate`."""
        return generate_mailboxes(self, count, items=items, seed=seed, prefix=prefix, domain=domain, start=start)

    def add_oauth_client(self, client: OAuthClient) -> OAuthClient:
        return self.authenticator.add_client(client)

    def user(self, address_or_login: str) -> User:
        """Look up a user by SMTP address or logon name; KeyError if unknown."""
        u = self.users.by_smtp(address_or_login) or self.users.find_login(address_or_login)
        if u is None:
            raise KeyError(f"No user {address_or_login!r} on this server")
        return u

    def issue_token(self, client_id: Optional[str] = None, user: Optional[str] = None) -> str:
        """Mint an access token directly (no HTTP): app-only for ``client_id``, or delegated for ``user``."""
        client = None
        if client_id is not None:
            client = {c.client_id: c for c in self.authenticator.clients}.get(client_id)
            if client is None:
                raise KeyError(f"No OAuth client {client_id!r}")
        u = self.user(user) if user else None
        if client is None and u is None:
            raise ValueError("issue_token() needs a client_id or a user")
        scope = ("https://outlook.office365.com/EWS.AccessAsUser.All" if u is not None
                 else "https://outlook.office365.com/.default")
        roles = client.roles if client is not None and u is None else ()
        return str(self.authenticator.tokens.issue(client, u, scope, roles=roles)["access_token"])

    def authorize(self, client_id: str, user: str, scope: str = "", redirect_uri: Optional[str] = None,
                  code_challenge: Optional[str] = None, code_challenge_method: str = "plain") -> str:
        """Test-only sign-in: an authorization code with which ``client_id`` acts as ``user`` (who consents).

        What a web app's redirect URI receives after the user signed in at ``/oauth2/v2.0/authorize``; the
        same is served over HTTP at :attr:`authorize_url` (``login_hint`` names the user). Redeem the code at
        :attr:`token_url` with the ``authorization_code`` grant within 10 minutes, once.
        """
        try:
            return self.authenticator.authorize(client_id, self.user(user), scope, redirect_uri, code_challenge,
                                                code_challenge_method)
        except ValueError as e:
            raise ValueError(f"authorize({client_id!r}, {user!r}) refused: {e}") from None

    def revoke_refresh_tokens(self, user: Optional[str] = None, client_id: Optional[str] = None) -> int:
        """Invalidate refresh tokens (of a user, of a client, or all), as revoking sessions in Entra ID does.
        Access tokens stay valid until they expire. Returns how many were revoked."""
        return self.authenticator.tokens.revoke_refresh_tokens(self.user(user) if user else None, client_id)

    @property
    def authorize_url(self) -> str:
        """The test-only authorize endpoint (``GET``, answers with a redirect carrying ``code`` and ``state``)."""
        return f"{self.base_url}/oauth2/v2.0/authorize"

    def expire_tokens(self) -> None:
        """Expire every access token issued so far (clients must fetch new ones)."""
        self.authenticator.tokens.expire_all()

    # -- fault injection ------------------------------------------------------------------------

    def inject(self, fault: InjectableFault, count: Optional[int] = 1,
               operations: Union[None, str, Iterable[str]] = None,
               users: Union[None, str, Iterable[str]] = None) -> Injection:
        """Arm a fault for the next ``count`` matching EWS requests (``None``: until cancelled).

        ``operations`` limits it to operation names (``'GetItem'``), ``users`` to identities (SMTP
        addresses). Returns the :class:`~exchangelib.testing.faults.Injection`; use it as a context
        manager or call ``cancel()``.
        """
        inj = Injection(fault, count=count, operations=operations, users=users, _owner=self)
        with self._lock:
            self._injections.append(inj)
        return inj

    def unlock(self, login: str) -> None:
        """End an account lockout now (``lockout_threshold``), as an administrator would."""
        self.authenticator.unlock(login)

    def clear_faults(self) -> None:
        with self._lock:
            injections, self._injections = self._injections, []
        for inj in injections:
            inj.cancelled = True

    def _remove_injection(self, inj: Injection) -> None:
        with self._lock:
            if inj in self._injections:
                self._injections.remove(inj)

    def _take_faults(self, operation: str, user: str) -> Tuple[float, Optional[InjectableFault]]:
        """(extra latency in ms, the first non-latency fault) for this request."""
        with self._lock:
            injections = list(self._injections)
        latency = 0.0
        chosen = None
        for inj in injections:
            if isinstance(inj.fault, Latency):
                if inj.take(operation, user):
                    latency += inj.fault.ms
            elif chosen is None and inj.take(operation, user):
                chosen = inj.fault
        with self._lock:
            self._injections = [i for i in self._injections if not i.exhausted]
        return latency, chosen

    # -- statistics -----------------------------------------------------------------------------

    def request_count(self, operation: Optional[str] = None) -> int:
        """Authenticated EWS requests served (all, or of one operation). NTLM/401 round trips don't count."""
        with self._lock:
            return sum(1 for r in self.request_log
                       if r.user is not None and (operation is None or r.operation == operation))

    def reset_stats(self) -> None:
        """Forget the request log, concurrency high-water mark and recorded errors."""
        with self._lock:
            self.request_log.clear()
            self.max_concurrency_seen = 0
            self.max_concurrency_by_operation.clear()
            self.peak_concurrency_by_mailbox.clear()
            self.peak_concurrency_by_caller.clear()
            self.throttled_requests = 0
            self.schema_errors.clear()
            self.response_schema_errors.clear()
            self.internal_errors.clear()
            self.unimplemented_operations.clear()

    def assert_clean(self) -> None:
        """Raise :class:`ServerNotClean` listing invalid requests, invalid responses and handler crashes."""
        problems = [f"invalid request: {e}" for e in self.schema_errors]
        problems += [f"invalid response: {e}" for e in self.response_schema_errors]
        problems += [f"handler crashed: {e}" for e in self.internal_errors]
        if problems:
            raise ServerNotClean("The local EWS server saw problems:\n  " + "\n  ".join(problems))

    def _record(self, rec: RequestRecord) -> None:
        with self._lock:
            self.request_log.append(rec)
            if len(self.request_log) > _MAX_LOG:  # a long-running `serve` must not grow without bound
                del self.request_log[: _MAX_LOG // 10]

    def _schema_error(self, err: SchemaError, response: bool = False) -> None:
        log.warning("EWS schema error: %s", err)
        with self._lock:
            (self.response_schema_errors if response else self.schema_errors).append(err)

    # -- request processing ---------------------------------------------------------------------

    def _sleep(self, ms: float) -> None:
        if ms > 0:
            self._stopping.wait(ms / 1000.0)

    def _fault_reply(self, fault: SoapFault, headers: Sequence[Tuple[str, str]] = ()) -> _Reply:
        return _Reply(fault.http_status, build_fault(fault, self.server_version),
                      headers=list(headers) + list(getattr(fault, "headers", [])),
                      response_code=fault.response_code)

    def _handle_ews(self, conn: ConnectionAuth, authorization: Optional[str],
                    body: bytes) -> Tuple[_Reply, Optional[str], Optional[Identity]]:
        """Process one EWS POST. Returns (reply, operation name, identity)."""
        result = self.authenticator.authenticate(conn, authorization)
        if result.identity is None:
            if not result.handshake:
                log.info("EWS request rejected with 401: %s", result.reason)
            return _Reply(401, _UNAUTHORIZED_HTML, "text/html", headers=result.headers), None, None
        identity = result.identity
        reply, op = self._handle_authenticated(body, identity)
        reply.headers = list(reply.headers) + result.response_headers
        return reply, op, identity

    def _handle_authenticated(self, body: bytes, identity: Identity) -> Tuple[_Reply, Optional[str]]:
        try:
            env = parse_request(body)
        except Fault as f:
            if self.strict:
                self._schema_error(SchemaError(None, f.violation or f.message, "request", f.line))
            return self._fault_reply(f), None
        op = env.operation
        try:
            return self._handle_envelope(env, identity), op
        except SoapFault as f:
            return self._fault_reply(f), op

    def _handle_envelope(self, env: RequestEnvelope, identity: Identity) -> _Reply:
        sv = self.server_version
        op = env.operation

        # RequestServerVersion: absent means the original Exchange 2007 schema.
        rsv = env.headers.get("RequestServerVersion")
        requested = "Exchange2007"
        if rsv is not None:
            requested = rsv.get("Version") or ""
            if requested not in EXCHANGE_VERSION_TYPES:
                if self.strict:
                    self._schema_error(SchemaError(op, f"RequestServerVersion Version={requested!r} is not an "
                                                       f"ExchangeVersionType value", "header",
                                                   cast(Optional[int], rsv.sourceline)))
                raise Fault("ErrorInvalidServerVersion", "The specified server version is invalid.")
            if not sv.accepts(requested):
                raise Fault("ErrorInvalidServerVersion", "The specified server version is invalid.")

        if env.namespace == MNS and op not in OPERATIONS and self._schema is not None and self.schema_dir \
                and op not in message_elements(self.schema_dir):
            # Exchange answers an element that is no operation at all as an invalid request, not a schema error
            # (which would make clients retry with older RequestServerVersions).
            raise Fault("ErrorInvalidRequest", "The request is invalid.")
        if self._schema is not None and self.strict:
            for name, elem in env.headers.items():
                ok, err = validate(elem, self._schema)
                if not ok:
                    line = cast(Optional[int], elem.sourceline)
                    self._schema_error(SchemaError(op, err, "header", line))
                    raise schema_fault(_strip_line(err), line, element_position(env.raw, line, elem.tag))
            ok, err = validate(env.body_child, self._schema)
            relaxed = None if ok else relax(env.body_child, tuple(sv.build))
            if relaxed is not None and validate(relaxed[1], self._schema)[0]:
                ok, env.body_child = True, relaxed[0]  # one of Exchange's documented laxities (testing/lax.py)
            if not ok:
                line = _first_line(err) or cast(Optional[int], env.body_child.sourceline)
                self._schema_error(SchemaError(op, err, "request", line))
                raise schema_fault(_strip_line(err), line, element_position(env.raw, line, _first_tag(err)))
        elif env.namespace != MNS:
            raise schema_fault(f"The element '{op}' in namespace '{env.namespace}' is not an EWS operation",
                               cast(Optional[int], env.body_child.sourceline), 2)

        gate = version_gate(env, sv)
        if gate is not None:
            self._schema_error(SchemaError(op, gate.violation or gate.message, "version", gate.line))
            raise gate

        target = self._impersonation_target(env, identity)
        acting = target or identity.user
        assert acting is not None  # app-only identities must impersonate (checked above)
        mailbox = self.store.get_mailbox(acting.primary_smtp_address)
        if mailbox is None:
            raise Fault("ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.",
                        message_xml={"SmtpAddress": acting.primary_smtp_address})

        tz = env.headers.get("TimeZoneContext")
        tz_def = tz.find(f"{{{TNS}}}TimeZoneDefinition") if tz is not None else None
        culture = env.headers.get("MailboxCulture")
        precision = env.headers.get("DateTimePrecision")

        def can_access(caller: str, target_smtp: str) -> bool:
            if identity.app_only:
                return bool(identity.client and identity.client.full_access)
            u = self.users.by_smtp(caller)
            return bool(u and u.may_open(target_smtp))

        ctx = RequestContext(store=self.store, caller=acting.smtp_address, mailbox=mailbox,
                             requested_version=requested, server_build=sv.build,
                             time_zone_id=tz_def.get("Id") if tz_def is not None else None,
                             culture=(culture.text or "").strip() or None if culture is not None else None,
                             can_access=can_access,
                             date_time_precision=(precision.text or "").strip() if precision is not None else None)
        return self._run_throttled(env, identity, ctx, acting.smtp_address)

    def _impersonation_target(self, env: RequestEnvelope, identity: Identity) -> Optional[User]:
        imp = env.headers.get("ExchangeImpersonation")
        if imp is None:
            if identity.app_only:
                raise Fault("ErrorInvalidExchangeImpersonationHeaderData",
                            "ExchangeImpersonation SOAP header must be present for this type of OAuth token.")
            return None
        if identity.scheme == "Bearer" and not identity.app_only:
            raise Fault("ErrorInvalidExchangeImpersonationHeaderData",
                        "ExchangeImpersonation SOAP header must not exist for this type of OAuth token.")
        sid_elem = imp.find(f"{{{TNS}}}ConnectingSID")
        kind, value = None, ""
        if sid_elem is not None:
            for child in sid_elem:
                if isinstance(child.tag, str):
                    kind, value = etree.QName(child).localname, (child.text or "").strip()
                    break
        if kind is None or not value:
            raise Fault("ErrorInvalidExchangeImpersonationHeaderData",
                        "The impersonation header must name the account in ConnectingSID.")
        if kind == "PrimarySmtpAddress":
            target = self.users.by_smtp(value, primary_only=True)
        elif kind == "SmtpAddress":
            target = self.users.by_smtp(value)
        elif kind == "PrincipalName":
            target = self.users.by_upn(value)
        elif kind == "SID":
            target = self.users.by_sid(value)
        else:
            raise Fault("ErrorInvalidExchangeImpersonationHeaderData", f"Unknown ConnectingSID type {kind!r}.")
        if target is None or self.store.get_mailbox(target.primary_smtp_address) is None:
            name = {"PrincipalName": "PrincipalName", "SID": "SID"}.get(kind, "SmtpAddress")
            raise Fault("ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.",
                        message_xml={name: value})
        if identity.app_only:
            allowed = bool(identity.client and identity.client.full_access)
        else:
            caller = identity.user
            allowed = caller is not None and (caller is target or caller.may_impersonate(target))
        if not allowed:
            raise Fault("ErrorImpersonateUserDenied", "The account does not have permission to impersonate the "
                                                      "requested user.")
        return target

    def _run_throttled(self, env: RequestEnvelope, identity: Identity, ctx: RequestContext, key: str) -> _Reply:
        caller = identity.name
        with self._lock:
            limit = None
            if self.max_concurrency is not None and self._inflight_by_mailbox.get(key, 0) >= self.max_concurrency:
                limit = self.max_concurrency
            elif self.max_app_concurrency is not None and \
                    self._inflight_by_caller.get(caller, 0) >= self.max_app_concurrency:
                limit = self.max_app_concurrency
            if limit is not None:
                self.throttled_requests += 1
            else:
                n = self._inflight_by_mailbox[key] = self._inflight_by_mailbox.get(key, 0) + 1
                if n > self.peak_concurrency_by_mailbox.get(key, 0):
                    self.peak_concurrency_by_mailbox[key] = n
                n = self._inflight_by_caller[caller] = self._inflight_by_caller.get(caller, 0) + 1
                if n > self.peak_concurrency_by_caller.get(caller, 0):
                    self.peak_concurrency_by_caller[caller] = n
                self._inflight += 1
                self.max_concurrency_seen = max(self.max_concurrency_seen, self._inflight)
                op = env.operation or ""
                n_op = self._inflight_by_operation[op] = self._inflight_by_operation.get(op, 0) + 1
                self.max_concurrency_by_operation[op] = max(self.max_concurrency_by_operation.get(op, 0), n_op)
        if limit is not None:
            log.info("Throttling %s (caller %s): more than %s concurrent requests", key, caller, limit)
            if self.concurrency_response == "503":
                return _Reply(503, HTTPStatus(503).html(), "text/html",
                              headers=[("Retry-After", str(max(1, self.throttle_back_off_ms // 1000)))])
            raise concurrency_fault(limit, self.throttle_back_off_ms)
        try:
            extra_ms, fault = self._take_faults(env.operation, identity.name)
            self._sleep(float(self.latency_ms or 0) + extra_ms)
            reply = self._apply_fault(fault, env) if fault is not None else None
            if reply is None:
                reply = self._dispatch(env, ctx)
                if isinstance(fault, (TruncatedResponse, DroppedStream, ConnectionReset, SlowResponse)):
                    reply.action = fault
            reply.mailbox = ctx.mailbox.primary_smtp_address.lower()
            return reply
        finally:
            with self._lock:
                self._inflight -= 1
                op = env.operation or ""
                self._inflight_by_operation[op] -= 1
                n = self._inflight_by_mailbox.get(key, 1) - 1
                if n:
                    self._inflight_by_mailbox[key] = n
                else:
                    self._inflight_by_mailbox.pop(key, None)
                n = self._inflight_by_caller.get(caller, 1) - 1
                if n:
                    self._inflight_by_caller[caller] = n
                else:
                    self._inflight_by_caller.pop(caller, None)

    def _apply_fault(self, fault: InjectableFault, env: RequestEnvelope) -> Optional[_Reply]:
        """The reply an injected fault produces, or None if the operation should still run."""
        if isinstance(fault, ServerBusy):
            if fault.as_fault:
                return self._fault_reply(fault.fault())
            return _Reply(200, build_response(fault.response_message(env.operation), self.server_version),
                          response_code=None)
        if isinstance(fault, HTTPStatus):
            if fault.server_busy:
                reply = self._fault_reply(ServerBusy(fault.back_off_ms).fault())
                reply.status = fault.status
            elif fault.body is not None:
                reply = _Reply(fault.status, fault.body, "text/xml; charset=utf-8")
            else:
                reply = _Reply(fault.status, fault.html(), "text/html")
            reply.headers.extend(fault.headers())
            return reply
        if isinstance(fault, ConnectionReset) and not fault.after_action:
            return _Reply(0, action=fault)
        if isinstance(fault, OversizedResponse):
            return _Reply(200, action=fault)
        return None  # TruncatedResponse, ConnectionReset(after_action=True): run the operation first

    def _dispatch(self, env: RequestEnvelope, ctx: RequestContext) -> _Reply:
        op = env.operation
        handler = OPERATIONS.get(op)
        if handler is None:
            log.warning("The local EWS server does not implement %s", op)
            with self._lock:
                self.unimplemented_operations.append(op)
            raise Fault("ErrorInvalidRequest", f"The request is invalid: the local EWS server does not implement "
                                               f"the {op} operation.")
        try:
            response = handler(ctx, env.body_child)
        except SoapFault as f:
            if f.response_code == "ErrorSchemaValidation" and self.strict:
                # A check the handler makes against the *requested* version's schema (for example a
                # DistinguishedFolderId value newer than RequestServerVersion): a schema error too.
                self._schema_error(SchemaError(op, f.message, "version", f.line))
            raise
        except ResponseCodeError as e:
            raise Fault(e.response_code, e.message,
                        message_xml={k: str(v) for k, v in e.extra.items()} if e.extra else None) from None
        except Exception as e:
            log.exception("Handler for %s crashed", op)
            with self._lock:
                self.internal_errors.append(f"{op}: {type(e).__name__}: {e}")
            raise Fault("ErrorInternalServerError", "An internal server error occurred. The operation failed.") \
                from None
        if isinstance(response, StreamingResponse):
            return _Reply(200, stream=self._envelopes(op, response))
        if not isinstance(response, etree._Element):
            with self._lock:
                self.internal_errors.append(f"{op}: handler returned {type(response).__name__}, not an element")
            raise Fault("ErrorInternalServerError", "An internal server error occurred. The operation failed.")
        if self.validate_responses and self._schema is not None:
            ok, err = validate(response, self._schema)
            if not ok:
                self._schema_error(SchemaError(op, err, "response", _first_line(err)), response=True)
        return _Reply(200, build_response(response, self.server_version))

    def _envelopes(self, op: str, response: StreamingResponse) -> Iterator[Tuple[bytes, Optional[Callable[[], None]]]]:
        for elem, commit in response.parts:
            if self.validate_responses and self._schema is not None:
                ok, err = validate(elem, self._schema)
                if not ok:
                    self._schema_error(SchemaError(op, err, "response", _first_line(err)), response=True)
            yield build_response(elem, self.server_version), commit

    def _handle_openid_configuration(self, path: str) -> _Reply:
        """OpenID Connect discovery for ``/<tenant>/v2.0/.well-known/openid-configuration`` (as MSAL reads it)."""
        prefix = path[: -len("/v2.0/.well-known/openid-configuration")]
        tenant = prefix.strip("/") or "common"
        base = f"{self.base_url}{prefix}"
        return _json_reply(200, {
            "issuer": f"{self.base_url}/{tenant}/v2.0",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials", "password", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "private_key_jwt"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        })

    def _handle_authorize(self, query: str) -> _Reply:
        """Test-only authorize endpoint: the user named by ``login_hint`` signs in and consents at once."""
        q = dict(parse_qsl(query, keep_blank_values=True))
        redirect_uri = q.get("redirect_uri") or None
        if q.get("response_type", "code") != "code":
            return _json_reply(400, {"error": "unsupported_response_type",
                                     "error_description": "Only response_type=code is supported."})
        user = self.users.find_login(q.get("login_hint", "")) or self.users.by_smtp(q.get("login_hint", ""))
        if user is None:
            return _json_reply(400, {"error": "invalid_request",
                                     "error_description": "login_hint must name a user of this server (test-only "
                                                          "sign-in)."})
        try:
            code = self.authenticator.authorize(q.get("client_id", ""), user, q.get("scope", ""), redirect_uri,
                                                q.get("code_challenge") or None,
                                                q.get("code_challenge_method") or "plain", q.get("nonce") or None)
        except ValueError as e:
            error, _, description = str(e).partition(": ")
            return _json_reply(400, {"error": error, "error_description": description})
        params: Dict[str, object] = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        if redirect_uri is None:
            return _json_reply(200, params)
        sep = "&" if "?" in redirect_uri else "?"
        return _Reply(302, b"", "text/html", headers=[("Location", redirect_uri + sep + urlencode(params))])

    def _handle_token(self, body: bytes, content_type: str, authorization: Optional[str],
                      path: str = "/oauth2/v2.0/token") -> _Reply:
        with self._lock:
            self.token_requests += 1
        data: Dict[str, object]
        if "application/x-www-form-urlencoded" not in content_type.lower():
            status, data = 400, {"error": "invalid_request",
                                 "error_description": "The request body must be application/x-www-form-urlencoded."}
        else:
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            status, data = self.authenticator.token_endpoint(form, authorization, audience=f"{self.base_url}{path}")
        return _Reply(status, json.dumps(data).encode(), "application/json; charset=utf-8",
                      headers=[("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache")])

    def __repr__(self) -> str:
        where = self.url if self.running else "not running"
        return (f"EWSServer(version={self.server_version.name!r}, strict={self.strict}, "
                f"auth={self.authenticator.schemes}, {where})")


def _json_reply(status: int, data: Dict[str, object]) -> _Reply:
    return _Reply(status, json.dumps(data).encode(), "application/json; charset=utf-8",
                  headers=[("Cache-Control", "no-store, no-cache")])


def _first_line(err: str) -> Optional[int]:
    if err.startswith("line "):
        try:
            return int(err[5:err.index(":")])
        except ValueError:
            return None
    return None


def _strip_line(err: str) -> str:
    first = err.split("; line ", 1)[0]
    if first.startswith("line ") and ": " in first:
        first = first.split(": ", 1)[1]
    return first


def _first_tag(err: str) -> Optional[str]:
    start = err.find("Element '")
    if start < 0:
        return None
    end = err.find("'", start + 9)
    return err[start + 9:end] if end > 0 else None


_UNAUTHORIZED_HTML = (b"<!DOCTYPE html><html><head><title>401 - Unauthorized</title></head><body>"
                      b"<h1>401 - Unauthorized: Access is denied due to invalid credentials.</h1></body></html>")
_NOT_FOUND_HTML = b"<!DOCTYPE html><html><head><title>404 - Not Found</title></head><body><h1>404</h1></body></html>"


_BUSY_HTML = b"<html><head><title>Service Unavailable</title></head><body><h2>HTTP Error 503. The service is " \
             b"unavailable.</h2></body></html>"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # listen() backlog: bursts of parallel clients must not be refused
    allow_reuse_address = True
    ews: EWSServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("Connection from %s ended with an error", client_address, exc_info=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on a new thread, unless ``max_connections`` are open: then answer 503."""
        ews = self.ews
        with ews._lock:
            over = ews.max_connections is not None and ews._connections >= ews.max_connections
            if over:
                ews.rejected_connections += 1
            else:
                ews._connections += 1
        if not over:
            super().process_request(request, client_address)
            return
        log.info("Refusing a connection from %s: %s connections open", client_address, ews.max_connections)
        try:
            if ews._ssl_context is None:  # over TLS there is no way to answer before the handshake: just close
                request.settimeout(0.2)
                try:
                    request.recv(65536)  # take the request off the wire, so closing does not reset the answer
                except OSError:
                    pass
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nRetry-After: 1\r\n"
                                b"Connection: close\r\nContent-Length: " + str(len(_BUSY_HTML)).encode() +
                                b"\r\n\r\n" + _BUSY_HTML)
        except OSError:
            pass
        self.shutdown_request(request)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.ews._lock:
                self.ews._connections -= 1


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_TIMEOUT
    server: _HTTPServer

    # -- connection setup / teardown -------------------------------------------------------------

    def setup(self) -> None:
        ews = self.server.ews
        self.conn_auth = ConnectionAuth()
        with ews._lock:
            ews._handlers.add(self)
        try:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if ews._ssl_context is not None:
                self.request.settimeout(10)
                # Handshake after self.request is the TLS socket, so stop() can interrupt a stalled one.
                self.request = ews._ssl_context.wrap_socket(self.request, server_side=True,
                                                            do_handshake_on_connect=False)
                self.request.do_handshake()
                self.conn_auth.tls_end_point = ews._end_point_hash
                if ews._client_ca is not None:
                    self.conn_auth.certificate_identity = ews._certificate_identity(
                        self.request.getpeercert(binary_form=True))
            super().setup()
        except BaseException:
            with ews._lock:
                ews._handlers.discard(self)
            raise

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            ews = self.server.ews
            with ews._lock:
                ews._handlers.discard(self)
            if ews._ssl_context is not None:
                try:
                    self.connection.close()
                except OSError:
                    pass

    def abort_connection(self) -> None:
        """Unblock a thread waiting on this connection (server shutdown)."""
        try:
            # self.request: the raw socket during the TLS handshake, the TLS socket afterwards.
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- BaseHTTPRequestHandler hooks ------------------------------------------------------------

    def version_string(self) -> str:
        return "Microsoft-IIS/10.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s - %s", self.address_string(), format % args)

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._serve("POST")

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._serve("GET")

    # -- request handling ------------------------------------------------------------------------

    def _read_body(self) -> Optional[bytes]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > _MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            return None
        data = self.rfile.read(length) if length > 0 else b""
        if len(data) < length:
            # The client went away mid-request (killed, connection dropped): nothing to answer or validate
            raise ConnectionAbortedError(f"request body ended after {len(data)} of {length} bytes")
        return data

    def _serve(self, method: str) -> None:
        ews = self.server.ews
        path = urlsplit(self.path).path.lower()
        t0 = time.monotonic()
        try:
            body = self._read_body()
        except ConnectionAbortedError as e:
            log.debug("Local EWS server: %s", e)
            self.close_connection = True
            return
        except (ValueError, OSError):
            self._write(_Reply(400, b"Bad Request", "text/plain"), close=True)
            return
        if body is None:
            self._write(_Reply(413, b"Request Entity Too Large", "text/plain"), close=True)
            return
        op = identity = None
        try:
            if path == EWS_PATH and method == "POST":
                reply, op, identity = ews._handle_ews(self.conn_auth, self.headers.get("Authorization"), body)
            elif path.endswith(("/oauth2/token", "/oauth2/v2.0/token")) and method == "POST":
                reply = ews._handle_token(body, self.headers.get("Content-Type") or "",
                                          self.headers.get("Authorization"), urlsplit(self.path).path)
                self._write(reply)
                return
            elif path.endswith("/v2.0/.well-known/openid-configuration") and method == "GET":
                self._write(ews._handle_openid_configuration(urlsplit(self.path).path))
                return
            elif path.endswith("/oauth2/v2.0/authorize") and method == "GET":
                self._write(ews._handle_authorize(urlsplit(self.path).query))
                return
            elif autodiscover.is_autodiscover_path(path):
                ad = autodiscover.handle(ews, autodiscover.AutodiscoverRequest(method, self.path, self.headers, body,
                                                                               self.conn_auth))
                self._write(_Reply(ad.status, ad.body, ad.content_type, headers=ad.headers))
                return
            elif method == "GET" and path in (EWS_PATH, "/ews/services.wsdl", "/ews/types.xsd", "/ews/messages.xsd"):
                reply = self._get(path)
                self._write(reply)
                return
            else:
                self._write(_Reply(404, _NOT_FOUND_HTML, "text/html"))
                return
        except Exception as e:  # a bug in the server itself: answer like Exchange would, and record it
            log.exception("Local EWS server failed on %s %s", method, self.path)
            with ews._lock:
                ews.internal_errors.append(f"server: {type(e).__name__}: {e}")
            reply = ews._fault_reply(Fault("ErrorInternalServerError",
                                           "An internal server error occurred. The operation failed."))
        # Record before answering, so a client that has its response can rely on the log.
        status = 0 if isinstance(reply.action, ConnectionReset) else reply.status
        ews._record(RequestRecord(op, identity.name if identity else None, status, reply.response_code,
                                  identity.scheme if identity else None, reply.mailbox,
                                  (time.monotonic() - t0) * 1000))
        self._write(reply)

    def _get(self, path: str) -> _Reply:
        ews = self.server.ews
        result = ews.authenticator.authenticate(self.conn_auth, self.headers.get("Authorization"))
        if result.identity is None:
            return _Reply(401, _UNAUTHORIZED_HTML, "text/html", headers=result.headers)
        if path == EWS_PATH:
            return _Reply(200, b"<!DOCTYPE html><html><head><title>Service</title></head><body>"
                               b"<p>You have created a service.</p></body></html>", "text/html")
        name = {"/ews/services.wsdl": "Services.wsdl", "/ews/types.xsd": "types.xsd",
                "/ews/messages.xsd": "messages.xsd"}[path]
        if ews.schema_dir is not None and (ews.schema_dir / name).is_file():
            return _Reply(200, (ews.schema_dir / name).read_bytes(), "text/xml")
        return _Reply(404, _NOT_FOUND_HTML, "text/html")

    def _write(self, reply: _Reply, close: bool = False) -> int:
        """Send the reply (or misbehave as an injected fault says). Returns the status sent (0 if none)."""
        action = reply.action
        if reply.stream is not None:
            return self._write_stream(reply)
        if isinstance(action, ConnectionReset):
            if action.mid_response:
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Le")
                    self.wfile.flush()
                except OSError:
                    pass
            self._reset()
            return 0
        if isinstance(action, OversizedResponse):
            return self._write_oversized(action)
        if isinstance(action, SlowResponse):
            return self._write_slowly(reply, action)
        self.send_response_only(reply.status, None)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", reply.content_type)
        body = reply.body
        if isinstance(action, TruncatedResponse):
            half = body[: len(body) // 2]
            self.send_header("Content-Length", str(len(body) if action.declare_full_length else len(half)))
            body = half
            close = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("request-id", str(uuid.uuid4()))
        self.send_header("X-Powered-By", "ASP.NET")
        for name, value in reply.headers:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        return reply.status

    def _write_stream(self, reply: _Reply) -> int:
        """Send a streamed response: chunked transfer encoding, one flushed chunk per SOAP envelope.

        A part's commit runs once its chunk is flushed. With a :class:`DroppedStream` fault the
        connection is reset half-way through a chunk carrying notifications, which then is not committed.
        """
        assert reply.stream is not None
        action = reply.action
        self.send_response_only(reply.status, None)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", str(uuid.uuid4()))
        self.send_header("X-Powered-By", "ASP.NET")
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        delivered = 0
        try:
            for body, commit in reply.stream:
                if isinstance(action, DroppedStream) and commit is not None and delivered >= action.after:
                    half = body[: len(body) // 2]
                    self.wfile.write(b"%x\r\n" % len(body) + half)
                    self.wfile.flush()
                    self._reset()
                    return 0
                self.wfile.write(b"%x\r\n" % len(body) + body + b"\r\n")
                self.wfile.flush()
                if commit is not None:
                    commit()
                    delivered += 1
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            log.debug("Streaming response ended: the client went away")
        finally:
            close = getattr(reply.stream, "close", None)
            if close is not None:
                close()
        return reply.status

    def _write_oversized(self, action: OversizedResponse) -> int:
        head = [b"HTTP/1.1 200 OK", b"Content-Type: text/xml; charset=utf-8", b"Connection: close"]
        if action.declare_length:
            head.append(f"Content-Length: {action.size}".encode())
        if action.gzip:
            head.append(b"Content-Encoding: gzip")
        self.close_connection = True
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31) if action.gzip else None
        try:
            self.wfile.write(b"\r\n".join(head) + b"\r\n\r\n")
            for chunk in action.chunks():
                data = compressor.compress(chunk) if compressor is not None else chunk
                if data:
                    self.wfile.write(data)
            if compressor is not None:
                self.wfile.write(compressor.flush())
            self.wfile.flush()
        except OSError:
            pass  # the client gave up reading, as it should
        return 200

    def _write_slowly(self, reply: _Reply, action: SlowResponse) -> int:
        head = (f"HTTP/1.1 {reply.status} OK\r\nContent-Type: {reply.content_type}\r\n"
                f"Content-Length: {len(reply.body)}\r\nConnection: close\r\n\r\n").encode()
        self.close_connection = True
        delay = 1.0 / action.bytes_per_second
        ews = self.server.ews
        try:
            data = head + reply.body
            fast = action.fast_bytes + len(head) if action.fast_bytes or not action.headers_too else 0
            if fast:
                self.wfile.write(data[:fast])
                self.wfile.flush()
            for i in range(fast, len(data)):
                if not ews.running:
                    break
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                if ews._stopping.wait(delay):  # a slow trickle must not hold up stop()
                    break
        except OSError:
            pass  # the client hung up
        return reply.status

    def _reset(self) -> None:
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass
