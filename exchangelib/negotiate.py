"""HTTP Negotiate (SPNEGO/Kerberos) authentication for ``auth_type=GSSAPI`` (and ``SSPI`` on Windows).

Kerberos comes from pyspnego with its optional Kerberos support (``pip install exchangelib[kerberos]``:
``gssapi`` and ``krb5`` on Linux and macOS; Windows uses SSPI natively). No cryptography is done here.

The flow, as Windows clients do it against IIS: a request is sent; the server answers ``401`` with
``WWW-Authenticate: Negotiate``; we get a service ticket for ``HTTP/<host>`` (from the credential
cache, a keytab or a password) and send it on the same connection in ``Authorization: Negotiate``;
the server's answer carries its mutual-authentication token, which we verify. Over https the Kerberos
authenticator is bound to the server's TLS certificate (channel binding, ``tls-server-end-point``,
for Exchange's Extended Protection). When no ticket can be had and the credentials have a password,
we fall back to NTLM for the rest of the session.

Tokens and tickets are never logged.
"""
from __future__ import annotations

import base64
import logging
import threading
from typing import Any, Optional, Union

import requests
import requests.auth
import spnego
from requests_ntlm import HttpNtlmAuth
from spnego.channel_bindings import GssChannelBindings

from .credentials import Credentials, KerberosCredentials
from .errors import UnauthorizedError

log = logging.getLogger(__name__)

__all__ = ["HttpNegotiateAuth", "kerberos_available", "kerberos_principal"]


def kerberos_principal(username: str) -> str:
    """The Kerberos principal of a Windows logon name: ``DOMAIN\\\\john`` -> ``john`` (default realm),
    ``john@corp.example.com`` -> ``john@CORP.EXAMPLE.COM``."""
    if "\\" in username:
        return username.split("\\", 1)[1]
    if "@" in username:
        user, _, realm = username.rpartition("@")
        return f"{user}@{realm.upper()}"
    return username


def _spnego_credentials(credentials: Union[Credentials, KerberosCredentials, None]) -> Any:
    """The pyspnego credential for our credentials (None: the default credential cache)."""
    if credentials is None:
        return None
    if isinstance(credentials, KerberosCredentials):
        if credentials.keytab is not None:
            return spnego.KerberosKeytab(keytab=credentials.keytab, principal=credentials.principal)
        if credentials.password is not None:
            return spnego.Password(username=credentials.principal or "", password=credentials.password)
        if credentials.ccache is not None or credentials.principal is not None:
            return spnego.KerberosCCache(ccache=credentials.ccache or "", principal=credentials.principal)
        return None
    return spnego.Password(username=kerberos_principal(credentials.username), password=credentials.password)


def kerberos_available(credentials: Optional[Credentials]) -> bool:
    """True when the credential cache holds a ticket-granting ticket for the user (no network traffic).

    Used by auth-type detection: with a password but no ticket, NTLM is chosen, as Windows clients do
    when they cannot reach a domain controller.
    """
    try:
        import gssapi  # noqa: PLC0415 - the optional Kerberos extra; absent means no Kerberos
    except ImportError:
        return False
    try:
        name = None
        if credentials is not None:
            name = gssapi.Name(kerberos_principal(credentials.username), gssapi.NameType.kerberos_principal)
        creds = gssapi.Credentials(name=name, usage="initiate")
        return bool(creds.lifetime)
    except Exception as e:  # noqa: BLE001 - any GSSAPI failure means: no ticket to be had
        log.debug("No Kerberos ticket in the credential cache (%s)", type(e).__name__)
        return False


def _end_point_hash(cert_der: bytes) -> bytes:
    """RFC 5929 tls-server-end-point: the certificate's hash with its signature hash (MD5/SHA-1 -> SHA-256)."""
    # cryptography is a dependency; loaded only for Kerberos over https
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415

    cert = x509.load_der_x509_certificate(cert_der)
    try:
        algorithm = cert.signature_hash_algorithm
    except Exception:  # noqa: BLE001 - unsupported signature algorithm
        algorithm = None
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(cert_der)
    return digest.finalize()


def _channel_bindings(response: requests.Response) -> Optional[GssChannelBindings]:
    """Channel bindings for the TLS connection a response came over (None over plain http)."""
    if not response.url.lower().startswith("https://"):
        return None
    try:
        raw: Any = response.raw
        sock = raw._fp.fp.raw._sock  # the connection's TLS socket (urllib3 HTTPResponse internals)
        cert = sock.getpeercert(True)
    except AttributeError:
        log.debug("Could not get the server certificate for Kerberos channel binding")
        return None
    if not cert:
        return None
    return GssChannelBindings(application_data=b"tls-server-end-point:" + _end_point_hash(cert))


def _negotiate_token(response: requests.Response) -> Optional[bytes]:
    for value in response.headers.get("WWW-Authenticate", "").split(","):
        scheme, _, data = value.strip().partition(" ")
        if scheme.lower() == "negotiate" and data.strip():
            try:
                return base64.b64decode(data.strip())
            except ValueError:
                return None
    return None


class HttpNegotiateAuth(requests.auth.AuthBase):
    """requests auth for ``Authorization: Negotiate`` with Kerberos, falling back to NTLM when allowed.

    ``credentials``: :class:`~exchangelib.credentials.KerberosCredentials`, username/password
    :class:`~exchangelib.credentials.Credentials` (a ticket is obtained with the password; NTLM if that
    fails), or None (the default credential cache). The service principal is ``<service>/<hostname>``:
    ``HTTP/<host of the EWS URL>`` unless the KerberosCredentials say otherwise.
    """

    def __init__(self, credentials: Union[Credentials, KerberosCredentials, None], hostname: Optional[str] = None,
                 sspi: bool = False):
        self.credentials = credentials
        service, host = "HTTP", hostname
        if isinstance(credentials, KerberosCredentials):
            service = credentials.service
            host = credentials.hostname or hostname
        self.service = service
        self.hostname = host or "unspecified"
        # SSPI (Windows) negotiates Kerberos or NTLM itself; elsewhere we ask for Kerberos and fall back ourselves
        self.protocol = "negotiate" if sspi else "kerberos"
        self._fallback: Optional[HttpNtlmAuth] = None
        self._lock = threading.Lock()

    @property
    def spn(self) -> str:
        return f"{self.service}/{self.hostname}"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        fallback = self._fallback
        if fallback is not None:
            return fallback(r)
        r.register_hook("response", self._on_response)
        return r

    def _context(self, bindings: Optional[GssChannelBindings]) -> Any:
        return spnego.client(_spnego_credentials(self.credentials), hostname=self.hostname, service=self.service,
                             channel_bindings=bindings, protocol=self.protocol,
                             context_req=spnego.ContextReq.mutual_auth | spnego.ContextReq.sequence_detect)

    def _on_response(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        if r.status_code != 401:
            return r
        sent = r.request.headers.get("Authorization", "") if r.request is not None else ""
        if isinstance(sent, str) and sent.lower().startswith("negotiate "):
            return r  # our ticket was refused: let the caller report the 401
        offered = [v.strip().split(" ", 1)[0].lower() for v in r.headers.get("WWW-Authenticate", "").split(",")]
        if "negotiate" not in offered:
            return self._fall_back(r, kwargs, "the server does not offer Negotiate")
        bindings = _channel_bindings(r)
        try:
            ctx = self._context(bindings)
            token = ctx.step()
        except Exception as e:  # noqa: BLE001 - pyspnego, gssapi and krb5 raise their own error types
            return self._fall_back(r, kwargs, f"no Kerberos ticket for {self.spn}: {type(e).__name__}: "
                                              f"{_first_line(e)}")
        _ = r.content
        r.raw.release_conn()
        prep = r.request.copy()
        prep.headers["Authorization"] = "Negotiate " + base64.b64encode(token).decode("ascii")
        r2 = r.connection.send(prep, **kwargs)
        r2.history.append(r)
        r2.request = prep
        if r2.status_code != 401:
            server_token = _negotiate_token(r2)
            if server_token is not None and not ctx.complete:
                try:
                    ctx.step(server_token)
                except Exception as e:  # noqa: BLE001
                    raise UnauthorizedError(f"Kerberos mutual authentication of {self.spn} failed: the server did "
                                            f"not prove its identity ({type(e).__name__})") from None
        else:
            log.debug("The server refused the Kerberos ticket for %s", self.spn)
        return r2

    def _fall_back(self, r: requests.Response, kwargs: Any, reason: str) -> requests.Response:
        creds = self.credentials
        if not isinstance(creds, Credentials):
            raise UnauthorizedError(f"Kerberos authentication to {r.url} is not possible: {reason}. Get a ticket "
                                    f"(kinit, or a keytab) for a principal the server knows, and check that the "
                                    f"service principal {self.spn} exists")
        log.debug("Negotiate: %s; falling back to NTLM", reason)
        with self._lock:
            if self._fallback is None:
                self._fallback = HttpNtlmAuth(creds.username, creds.password)
            fallback = self._fallback
        return fallback.response_hook(r, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(spn={self.spn!r}, credentials={self.credentials!r})"


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else ""
