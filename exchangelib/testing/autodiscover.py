"""Autodiscover for the local EWS server: SOAP ``autodiscover.svc`` and POX ``autodiscover.xml``.

:func:`handle` answers one autodiscover HTTP request for an :class:`~.server.EWSServer`'s users,
authenticated with the server's own authenticator (like the EWS endpoint). Alias addresses resolve
to the primary address. What it answers is configured per server with :func:`settings_for`::

    ad = settings_for(server)
    ad.ews_url = "https://mail.example.com/EWS/Exchange.asmx"    # default: server.url
    ad.protocols = ("pox",)                                      # offer only POX (404 on .svc)
    ad.redirect_addresses["old@example.com"] = "new@example.org"  # RedirectAddress / redirectAddr
    ad.redirect_urls["john@example.com"] = "https://other/autodiscover/autodiscover.svc"

:class:`AutodiscoverFrontend` is a small HTTP(S) server that serves only the autodiscover paths
for a server, on its own loopback address and port: tests use one per simulated host
(``example.com``, ``autodiscover.example.com``, an SRV target...). It records every request
(:attr:`AutodiscoverFrontend.requests`), and can instead answer everything with a redirect
(the plain-http ``autodiscover.<domain>`` host).

Like the rest of :mod:`exchangelib.testing`, this module does not import the client's models.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getusersettings-operation-soap
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/pox-autodiscover-response-for-exchange
"""
from __future__ import annotations

import hashlib
import logging
import socket
import ssl
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Protocol, Sequence, Tuple, Union, cast
from urllib.parse import urlsplit

from lxml import etree

from ..xml import SOAPNS, XSI, ParseError, parse
from .auth import Authenticator, ConnectionAuth
from .soap import EXCHANGE_VERSION_TYPES, ServerVersion, api_version_index
from .users import User, UserDirectory

log = logging.getLogger(__name__)

__all__ = ["AUTODISCOVER_PATHS", "is_autodiscover_path", "AutodiscoverHost", "AutodiscoverRequest", "AutodiscoverReply",
           "AutodiscoverSettings", "settings_for", "handle", "AutodiscoverFrontend", "FrontendRecord"]

AD_NS = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
WSA_NS = "http://www.w3.org/2005/08/addressing"
POX_REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
POX_RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
POX_OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
SOAP_ACTION = "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings"

class AutodiscoverHost(Protocol):
    """What autodiscover needs from the EWS server it answers for (:class:`~.server.EWSServer` has it).

    Declared here so that this module does not import the server module (which imports this one).
    """

    users: UserDirectory
    authenticator: Authenticator
    server_version: ServerVersion

    @property
    def url(self) -> str: ...


AUTODISCOVER_PATHS = ("/autodiscover/autodiscover.svc", "/autodiscover/autodiscover.xml")
_HTML_404 = b"<!DOCTYPE html><html><head><title>404 - Not Found</title></head><body><h1>404</h1></body></html>"
_HTML_401 = (b"<!DOCTYPE html><html><head><title>401 - Unauthorized</title></head><body>"
             b"<h1>401 - Unauthorized: Access is denied due to invalid credentials.</h1></body></html>")


def is_autodiscover_path(path: str) -> bool:
    """True for the two autodiscover paths (case-insensitive, query string ignored).

    Any path ending in ``/autodiscover.svc`` or ``/autodiscover.xml`` counts, so tests can give each
    redirect hop its own URL on one host.
    """
    p = urlsplit(path).path.lower()
    return p.endswith("/autodiscover.svc") or p.endswith("/autodiscover.xml")


@dataclass
class AutodiscoverRequest:
    """One HTTP request, as the HTTP layer hands it to :func:`handle`."""

    method: str
    path: str
    headers: Union[Mapping[str, str], Message]  # http.server hands over an email Message
    body: bytes = b""
    conn_auth: ConnectionAuth = field(default_factory=ConnectionAuth)

    def header(self, name: str) -> Optional[str]:
        getter = getattr(self.headers, "get", None)
        value = getter(name) if getter else None
        if value is None:
            for k, v in self.headers.items():
                if k.lower() == name.lower():
                    return v
        return value


@dataclass
class AutodiscoverReply:
    """What to send back: status, body, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "text/xml; charset=utf-8"
    headers: List[Tuple[str, str]] = field(default_factory=list)


@dataclass
class AutodiscoverSettings:
    """How a server answers autodiscover requests (see the module docstring).

    - ``protocols``: which of ``'soap'`` and ``'pox'`` are served (the other path answers 404).
    - ``ews_url``: the EWS URL handed out (default: the server's own :attr:`~.server.EWSServer.url`).
    - ``redirect_addresses``: address -> address answered with RedirectAddress / redirectAddr.
    - ``redirect_urls``: address, or request path (a key starting with ``/``), -> URL answered with
      RedirectUrl / redirectUrl. Path keys are checked first.
    - ``require_auth``: authenticate requests with the server's authenticator (default True).
    - ``internal_ews_url``: also hand out this InternalEwsUrl / EXCH EwsUrl (default: ``ews_url``).
    """

    protocols: Sequence[str] = ("soap", "pox")
    ews_url: Optional[str] = None
    internal_ews_url: Optional[str] = None
    redirect_addresses: Dict[str, str] = field(default_factory=dict)
    redirect_urls: Dict[str, str] = field(default_factory=dict)
    require_auth: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.protocols, str):
            raise TypeError("AutodiscoverSettings.protocols must be a sequence like ('soap', 'pox'), not a str")
        bad = [p for p in self.protocols if p not in ("soap", "pox")]
        if bad:
            raise ValueError(f"AutodiscoverSettings.protocols: unknown protocol(s) {bad}; use 'soap' and/or 'pox'")

    def redirect_url_for(self, address: str, path: str) -> Optional[str]:
        by_path = {k.lower(): v for k, v in self.redirect_urls.items() if k.startswith("/")}
        url = by_path.get(urlsplit(path).path.lower())
        if url is None:
            url = {k.lower(): v for k, v in self.redirect_urls.items() if not k.startswith("/")}.get(address.lower())
        return url

    def redirect_address_for(self, address: str) -> Optional[str]:
        return {k.lower(): v for k, v in self.redirect_addresses.items()}.get(address.lower())


_SETTINGS: "weakref.WeakKeyDictionary[Any, AutodiscoverSettings]" = weakref.WeakKeyDictionary()
_SETTINGS_LOCK = threading.Lock()


def settings_for(server: "AutodiscoverHost") -> AutodiscoverSettings:
    """The (mutable) autodiscover settings of a server, created with defaults on first use."""
    with _SETTINGS_LOCK:
        s = _SETTINGS.get(server)
        if s is None:
            s = _SETTINGS[server] = AutodiscoverSettings()
        return s


# --- dispatch ------------------------------------------------------------------------------------------

def handle(server: "AutodiscoverHost", request: AutodiscoverRequest,
           settings: Optional[AutodiscoverSettings] = None) -> AutodiscoverReply:
    """Answer one request to an autodiscover path for ``server``'s users."""
    settings = settings or settings_for(server)
    path = urlsplit(request.path).path.lower()
    protocol = "soap" if path.endswith(".svc") else "pox" if path.endswith(".xml") else None
    if protocol is None or protocol not in settings.protocols:
        return AutodiscoverReply(404, _HTML_404, "text/html")
    if settings.require_auth:
        result = server.authenticator.authenticate(request.conn_auth, request.header("Authorization"))
        if result.identity is None:
            if not result.handshake:
                log.info("Autodiscover request rejected with 401: %s", result.reason)
            return AutodiscoverReply(401, _HTML_401, "text/html", headers=list(result.headers))
    if protocol == "soap":
        if request.method != "POST":
            return AutodiscoverReply(405, b"Method Not Allowed", "text/plain", headers=[("Allow", "POST")])
        return _soap(server, settings, request)
    if request.method != "POST":
        # Exchange answers a GET of autodiscover.xml (after authentication) with error 600.
        return AutodiscoverReply(200, _pox_error("600", "Invalid Request"))
    return _pox(server, settings, request)


def _ews_urls(server: "AutodiscoverHost", settings: AutodiscoverSettings) -> Tuple[str, str]:
    external = settings.ews_url or server.url
    return external, settings.internal_ews_url or external


def _cas_version(build: Tuple[int, ...]) -> str:
    """'15.01.2507.006', as Exchange formats CasVersion."""
    major, minor, major_build, minor_build = (tuple(build) + (0, 0, 0, 0))[:4]
    return f"{major}.{minor:02d}.{major_build:04d}.{minor_build:03d}"


def _supported_schemas(server: "AutodiscoverHost") -> str:
    last = api_version_index(server.server_version.max_api_version)
    return ", ".join(EXCHANGE_VERSION_TYPES[:last + 1])


def _legacy_dn(user: "User") -> str:
    return f"/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={user.username}"


def _deployment_id(server: "AutodiscoverHost") -> str:
    return str(uuid.UUID(bytes=hashlib.sha256(f"deployment:{id(server)}".encode()).digest()[:16]))


# --- SOAP ----------------------------------------------------------------------------------------------

_A = f"{{{AD_NS}}}"


def _soap(server: "AutodiscoverHost", settings: AutodiscoverSettings, request: AutodiscoverRequest) -> AutodiscoverReply:
    try:
        root = parse(request.body)
    except ParseError:
        return _soap_fault("a:InvalidRequest", "The request body is not XML.")
    body = root.find(f"{{{SOAPNS}}}Body")
    msg = body.find(_A + "GetUserSettingsRequestMessage") if body is not None else None
    req = msg.find(_A + "Request") if msg is not None else None
    if req is None:
        return _soap_fault("a:ActionNotSupported", "Only GetUserSettings is implemented by the local server.")
    mailboxes = [(m.text or "").strip() for m in req.iterfind(f"{_A}Users/{_A}User/{_A}Mailbox")]
    requested = [(s.text or "").strip() for s in req.iterfind(f"{_A}RequestedSettings/{_A}Setting")]

    env = etree.Element(f"{{{SOAPNS}}}Envelope", nsmap={"s": SOAPNS, "a": WSA_NS})
    header = etree.SubElement(env, f"{{{SOAPNS}}}Header")
    action = etree.SubElement(header, f"{{{WSA_NS}}}Action", {f"{{{SOAPNS}}}mustUnderstand": "1"})
    action.text = SOAP_ACTION + "Response"
    svi = etree.SubElement(header, _A + "ServerVersionInfo", nsmap=cast(Dict[str, str], {None: AD_NS, "i": XSI}))
    build = tuple(server.server_version.build) + (0, 0, 0, 0)
    for name, value in zip(("MajorVersion", "MinorVersion", "MajorBuildNumber", "MinorBuildNumber"), build):
        etree.SubElement(svi, _A + name).text = str(value)
    etree.SubElement(svi, _A + "Version").text = server.server_version.max_api_version
    sbody = etree.SubElement(env, f"{{{SOAPNS}}}Body")
    rmsg = etree.SubElement(sbody, _A + "GetUserSettingsResponseMessage", nsmap=cast(Dict[str, str], {None: AD_NS}))
    response = etree.SubElement(rmsg, _A + "Response", nsmap={"i": XSI})
    if not mailboxes or not requested:
        _e(response, "ErrorCode", "InvalidRequest")
        _e(response, "ErrorMessage", "The request must name at least one user and one setting.")
        etree.SubElement(response, _A + "UserResponses")
        return AutodiscoverReply(200, _serialise(env))
    _e(response, "ErrorCode", "NoError")
    etree.SubElement(response, _A + "ErrorMessage")
    user_responses = etree.SubElement(response, _A + "UserResponses")
    for address in mailboxes:
        _soap_user_response(server, settings, request.path, address, requested, user_responses)
    return AutodiscoverReply(200, _serialise(env))


def _soap_user_response(server: "AutodiscoverHost", settings: AutodiscoverSettings, path: str, address: str,
                        requested: List[str], parent: etree._Element) -> None:
    ur = etree.SubElement(parent, _A + "UserResponse")
    redirect_addr = settings.redirect_address_for(address)
    redirect_url = settings.redirect_url_for(address, path)
    user = server.users.by_smtp(address) if "@" in address else None
    if redirect_addr:
        code, message, target = "RedirectAddress", f"Redirection address: {redirect_addr}", redirect_addr
    elif redirect_url:
        code, message, target = "RedirectUrl", f"Redirection URL: {redirect_url}", redirect_url
    elif user is None:
        code, message, target = "InvalidUser", f"Invalid user: '{address}'", None
    else:
        code, message, target = "NoError", "No error.", None
    _e(ur, "ErrorCode", code)
    _e(ur, "ErrorMessage", message)
    rt = etree.SubElement(ur, _A + "RedirectTarget")
    if target:
        rt.text = target
    else:
        rt.set(f"{{{XSI}}}nil", "true")
    errors = etree.SubElement(ur, _A + "UserSettingErrors")
    values = etree.SubElement(ur, _A + "UserSettings")
    if user is None or code != "NoError":
        return
    external, internal = _ews_urls(server, settings)
    available = {
        "UserDisplayName": user.display_name or user.username,
        "UserDN": _legacy_dn(user),
        "UserDeploymentId": _deployment_id(server),
        "AutoDiscoverSMTPAddress": user.primary_smtp_address,
        "ExternalEwsUrl": external,
        "InternalEwsUrl": internal,
        "EwsSupportedSchemas": _supported_schemas(server),
        "CasVersion": _cas_version(server.server_version.build),
        "ExternalMailboxServer": urlsplit(external).hostname or "",
        "InternalMailboxServer": urlsplit(internal).hostname or "",
    }
    for name in requested:
        if name in available:
            us = etree.SubElement(values, _A + "UserSetting", {f"{{{XSI}}}type": "StringSetting"})
            _e(us, "Name", name)
            _e(us, "Value", available[name])
        else:
            err = etree.SubElement(errors, _A + "UserSettingError")
            _e(err, "ErrorCode", "InvalidSetting")
            _e(err, "ErrorMessage", f"The requested setting, {name}, isn't available on the local server.")
            _e(err, "SettingName", name)


def _soap_fault(code: str, message: str) -> AutodiscoverReply:
    env = etree.Element(f"{{{SOAPNS}}}Envelope", nsmap={"s": SOAPNS, "a": AD_NS})
    body = etree.SubElement(env, f"{{{SOAPNS}}}Body")
    fault = etree.SubElement(body, f"{{{SOAPNS}}}Fault")
    etree.SubElement(fault, "faultcode").text = code
    etree.SubElement(fault, "faultstring").text = message
    return AutodiscoverReply(500, _serialise(env))


def _e(parent: etree._Element, local: str, text: str) -> etree._Element:
    el = etree.SubElement(parent, _A + local)
    el.text = text
    return el


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


# --- POX -----------------------------------------------------------------------------------------------

def _pox_error(code: str, message: str) -> bytes:
    root = etree.Element(f"{{{POX_RESPONSE_NS}}}Autodiscover", nsmap=cast(Dict[str, str], {None: POX_RESPONSE_NS}))
    response = etree.SubElement(root, f"{{{POX_RESPONSE_NS}}}Response")
    error = etree.SubElement(response, f"{{{POX_RESPONSE_NS}}}Error",
                             Time=time.strftime("%H:%M:%S.0000000", time.gmtime()), Id=str(uuid.uuid4().int % 10**10))
    etree.SubElement(error, f"{{{POX_RESPONSE_NS}}}ErrorCode").text = code
    etree.SubElement(error, f"{{{POX_RESPONSE_NS}}}Message").text = message
    etree.SubElement(error, f"{{{POX_RESPONSE_NS}}}DebugData")
    return _serialise(root)


def _server_version_hex(build: Tuple[int, ...]) -> str:
    major, minor, major_build = (tuple(build) + (0, 0, 0))[:3]
    n = (7 << 28) | ((major & 0x3F) << 22) | ((minor & 0x3F) << 16) | (1 << 15) | (major_build & 0x7FFF)
    return f"{n:08X}"


def _pox(server: "AutodiscoverHost", settings: AutodiscoverSettings, request: AutodiscoverRequest) -> AutodiscoverReply:
    try:
        root = parse(request.body)
    except ParseError:
        return AutodiscoverReply(200, _pox_error("600", "Invalid Request"))
    req = root.find(f"{{{POX_REQUEST_NS}}}Request")
    address = (req.findtext(f"{{{POX_REQUEST_NS}}}EMailAddress") or "").strip() if req is not None else ""
    schema = (req.findtext(f"{{{POX_REQUEST_NS}}}AcceptableResponseSchema") or "").strip() if req is not None else ""
    if not address:
        return AutodiscoverReply(200, _pox_error("600", "Invalid Request"))
    if schema != POX_OUTLOOK_NS:
        return AutodiscoverReply(200, _pox_error("601", "Provider is not available"))

    o = f"{{{POX_OUTLOOK_NS}}}"
    doc = etree.Element(f"{{{POX_RESPONSE_NS}}}Autodiscover", nsmap=cast(Dict[str, str], {None: POX_RESPONSE_NS}))
    response = etree.SubElement(doc, o + "Response", nsmap=cast(Dict[str, str], {None: POX_OUTLOOK_NS}))
    redirect_addr = settings.redirect_address_for(address)
    redirect_url = settings.redirect_url_for(address, request.path)
    if redirect_addr or redirect_url:
        account = etree.SubElement(response, o + "Account")
        etree.SubElement(account, o + "AccountType").text = "email"
        if redirect_addr:
            etree.SubElement(account, o + "Action").text = "redirectAddr"
            etree.SubElement(account, o + "RedirectAddr").text = redirect_addr
        else:
            etree.SubElement(account, o + "Action").text = "redirectUrl"
            etree.SubElement(account, o + "RedirectUrl").text = redirect_url
        return AutodiscoverReply(200, _serialise(doc))
    user = server.users.by_smtp(address) if "@" in address else None
    if user is None:
        return AutodiscoverReply(200, _pox_error("500", "The email address can't be found."))
    external, internal = _ews_urls(server, settings)
    u = etree.SubElement(response, o + "User")
    etree.SubElement(u, o + "DisplayName").text = user.display_name or user.username
    etree.SubElement(u, o + "LegacyDN").text = _legacy_dn(user)
    etree.SubElement(u, o + "AutoDiscoverSMTPAddress").text = user.primary_smtp_address
    etree.SubElement(u, o + "DeploymentId").text = _deployment_id(server)
    account = etree.SubElement(response, o + "Account")
    etree.SubElement(account, o + "AccountType").text = "email"
    etree.SubElement(account, o + "Action").text = "settings"
    etree.SubElement(account, o + "MicrosoftOnline").text = "False"
    version_hex = _server_version_hex(server.server_version.build)
    for ptype, url in (("EXCH", internal), ("EXPR", external)):
        p = etree.SubElement(account, o + "Protocol")
        etree.SubElement(p, o + "Type").text = ptype
        etree.SubElement(p, o + "Server").text = urlsplit(url).hostname or ""
        if ptype == "EXCH":  # as in Exchange's answers, only the EXCH block carries the version
            etree.SubElement(p, o + "ServerVersion").text = version_hex
        etree.SubElement(p, o + "ASUrl").text = url
        etree.SubElement(p, o + "EwsUrl").text = url
        etree.SubElement(p, o + "OOFUrl").text = url
    return AutodiscoverReply(200, _serialise(doc))


# --- a standalone front end per simulated host -----------------------------------------------------------

class FrontendRecord(NamedTuple):
    """One request a front end received."""

    method: str
    host: str                 # the Host header, as sent
    path: str
    authorization: Optional[str]  # the auth *scheme* of the Authorization header ('NTLM', 'Basic'...), or None
    tls: bool
    status: int


class AutodiscoverFrontend:
    """An HTTP(S) server on a loopback address that serves only the autodiscover paths for ``server``.

    ``ssl_context``: serve HTTPS with it (see :func:`~.tls.server_ssl_context`); None: plain HTTP.
    ``redirect_to``: answer *every* request with ``302 Location: <redirect_to>`` (the plain-http
    ``autodiscover.<domain>`` host), authenticating nobody. ``settings``: answers for this host only
    (default: the server's :func:`settings_for`). ``host``/``port``: where to listen.
    """

    def __init__(self, server: "AutodiscoverHost", *, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: Optional[ssl.SSLContext] = None, redirect_to: Optional[str] = None,
                 settings: Optional[AutodiscoverSettings] = None, redirect_status: int = 302):
        if not host.startswith("127.") and host not in ("::1", "localhost"):
            raise ValueError(f"AutodiscoverFrontend.host must be a loopback address, got {host!r}")
        self.server = server
        self.host = host
        self._requested_port = port
        self.ssl_context = ssl_context
        self.redirect_to = redirect_to
        self.redirect_status = redirect_status
        self.settings = settings
        self.requests: List[FrontendRecord] = []
        self._lock = threading.Lock()
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("AutodiscoverFrontend is not running")
        return self._httpd.server_address[1]

    @property
    def address(self) -> str:
        """``ip:port``, e.g. for a :class:`~exchangelib.autodiscover.HostMap` entry."""
        return f"{self.host}:{self.port}"

    def start(self) -> "AutodiscoverFrontend":
        httpd = _FrontendHTTPServer((self.host, self._requested_port), _FrontendHandler)
        httpd.frontend = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"AutodiscoverFrontend:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "AutodiscoverFrontend":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, rec: FrontendRecord) -> None:
        with self._lock:
            self.requests.append(rec)

    def __repr__(self) -> str:
        where = self.address if self._httpd else "not running"
        return f"AutodiscoverFrontend({where}, tls={self.ssl_context is not None}, redirect_to={self.redirect_to!r})"


class _FrontendHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    frontend: AutodiscoverFrontend

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("Autodiscover front end: connection from %s ended with an error", client_address, exc_info=True)


class _FrontendHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _FrontendHTTPServer

    def setup(self) -> None:
        self.conn_auth = ConnectionAuth()
        ctx = self.server.frontend.ssl_context
        if ctx is not None:
            self.request.settimeout(10)
            self.request = ctx.wrap_socket(self.request, server_side=True)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def version_string(self) -> str:
        return "Microsoft-IIS/10.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("autodiscover front end %s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fe = self.server.frontend
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if 0 < length <= 16 * 1024 * 1024 else b""
        authz = self.headers.get("Authorization")
        if fe.redirect_to is not None:
            reply = AutodiscoverReply(fe.redirect_status, b"", "text/html", headers=[("Location", fe.redirect_to)])
        elif is_autodiscover_path(self.path):
            try:
                reply = handle(fe.server, AutodiscoverRequest(method, self.path, self.headers, body, self.conn_auth),
                               fe.settings)
            except Exception:  # a bug in the handler: answer 500 and keep the log
                log.exception("Autodiscover handler crashed on %s %s", method, self.path)
                reply = AutodiscoverReply(500, b"Internal Server Error", "text/plain")
        else:
            reply = AutodiscoverReply(404, _HTML_404, "text/html")
        fe._record(FrontendRecord(method, self.headers.get("Host") or "", self.path,
                                  authz.split(" ", 1)[0] if authz else None, fe.ssl_context is not None, reply.status))
        self.send_response_only(reply.status, None)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
