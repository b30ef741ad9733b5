"""SOAP envelopes, SOAP headers and HTTP authentication.

``wrap()`` puts a request body element into a SOAP envelope with the EWS headers
(``RequestServerVersion``, ``ExchangeImpersonation``, ``TimeZoneContext``, ``MailboxCulture``).
``get_auth_instance()`` turns an auth type and credentials into a ``requests`` auth object, and
``choose_auth_type()`` picks the strongest scheme a server offers in its ``WWW-Authenticate`` headers:
Kerberos (``Negotiate``) when a ticket can be had, else NTLM, Digest, and Basic only over https.
``CBA`` (certificate based authentication) sends no Authorization header: the TLS client certificate of
:class:`~exchangelib.protocol.TLSClientAuth` authenticates.

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/ews-schema-versions-in-exchange
"""
from __future__ import annotations

import importlib.util
import logging
import re
from typing import TYPE_CHECKING, Any, Iterable, List, Optional
from urllib.parse import urlsplit

from .credentials import AccessTokenCredentials, BaseCredentials, Credentials, KerberosCredentials
from .errors import UnauthorizedError
from .identity import IMPERSONATION_ID_TYPES, PRIMARY_SMTP_ADDRESS, PRINCIPAL_NAME, SID, SMTP_ADDRESS  # noqa: F401
from .lazy import LazyModule
from .xml import MNS, SOAPNS, TNS, Element, add_child, create_element, to_bytes

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import inspect
else:
    inspect = LazyModule("inspect")

if TYPE_CHECKING:
    import requests
    import requests.auth

    from . import adapters as _adapters
    from .adapters import BearerAuth
else:
    # requests is imported with the first request, not by ``import exchangelib``
    requests = LazyModule("requests")
    _adapters = LazyModule("exchangelib.adapters")

    def __getattr__(name: str) -> Any:
        if name == "BearerAuth":  # defined with requests, in exchangelib.adapters
            return _adapters.BearerAuth
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

log = logging.getLogger(__name__)

# Auth types
NOAUTH = "no authentication"
NTLM = "NTLM"
BASIC = "basic"
DIGEST = "digest"
OAUTH2 = "OAuth 2.0"
GSSAPI = "gssapi"
SSPI = "sspi"
CBA = "CBA"  # Certificate Based Authentication: a TLS client certificate, no Authorization header

AUTH_TYPES = (NOAUTH, NTLM, BASIC, DIGEST, OAUTH2, GSSAPI, SSPI, CBA)
# Strongest first. Basic is the last resort and never chosen for plain http unless explicitly allowed.
_PASSWORD_PREFERENCE = (NTLM, DIGEST, BASIC)

# WWW-Authenticate scheme name (lowercase) -> our auth type
_SCHEME_TO_AUTH = {"ntlm": NTLM, "negotiate": NTLM, "digest": DIGEST, "basic": BASIC, "bearer": OAUTH2}

CONTENT_TYPE = "text/xml; charset=utf-8"


def get_auth_instance(auth_type: str, credentials: Optional[BaseCredentials],
                      hostname: Optional[str] = None) -> Optional[requests.auth.AuthBase]:
    """A requests auth object for the auth type. Raises ValueError/TypeError naming what doesn't fit.

    ``hostname`` (of the EWS URL) names the Kerberos service principal ``HTTP/<hostname>`` for GSSAPI/SSPI.
    """
    if auth_type in (NOAUTH, CBA):
        return None
    if auth_type not in AUTH_TYPES:
        raise ValueError(f"Unsupported auth_type {auth_type!r}; choose one of {AUTH_TYPES}")
    if auth_type == OAUTH2:
        if not isinstance(credentials, AccessTokenCredentials):
            raise TypeError(f"auth_type {OAUTH2!r} needs OAuth 2.0 credentials (OAuth2Credentials, "
                            f"OAuth2AuthorizationCodeCredentials, AccessTokenCredentials...), "
                            f"got {type(credentials).__name__}")
        return _adapters.BearerAuth(credentials)
    if auth_type in (GSSAPI, SSPI):
        if credentials is not None and not isinstance(credentials, (Credentials, KerberosCredentials)):
            raise TypeError(f"auth_type {auth_type!r} needs KerberosCredentials, username/password Credentials or "
                            f"None (the default credential cache), got {type(credentials).__name__}")
        # pyspnego's Kerberos support (gssapi) is an optional extra: import it when Kerberos is first used
        from .negotiate import HttpNegotiateAuth  # noqa: PLC0415

        return HttpNegotiateAuth(credentials, hostname=hostname, sspi=auth_type == SSPI)
    if not isinstance(credentials, Credentials):
        raise TypeError(f"auth_type {auth_type!r} needs username/password Credentials, "
                        f"got {type(credentials).__name__}")
    if auth_type == NTLM:
        # requests_ntlm pulls in pyspnego and cryptography (~0.1 s): import it when NTLM is first used
        from requests_ntlm import HttpNtlmAuth  # noqa: PLC0415

        return HttpNtlmAuth(credentials.username, credentials.password)
    if auth_type == BASIC:
        return requests.auth.HTTPBasicAuth(credentials.username, credentials.password)
    return requests.auth.HTTPDigestAuth(credentials.username, credentials.password)


def parse_www_authenticate(headers: Iterable[str]) -> List[str]:
    """Scheme names (lowercase) offered in one or more WWW-Authenticate header values."""
    schemes = []
    for value in headers:
        # A single header may list several challenges separated by commas; scheme names are the tokens
        # that start a challenge (followed by a space, a comma or the end).
        for m in re.finditer(r'(?:^|,)\s*([A-Za-z][A-Za-z0-9_-]*)(?=\s|,|$)(?!\s*=)', value):
            name = m.group(1).lower()
            if name not in schemes:
                schemes.append(name)
    return schemes


def www_authenticate_values(response: requests.Response) -> List[str]:
    """All WWW-Authenticate header values of a response, even when repeated."""
    raw = getattr(response.raw, "headers", None)
    if raw is not None and hasattr(raw, "getlist"):
        values = raw.getlist("WWW-Authenticate")
        if values:
            return list(values)
    v = response.headers.get("WWW-Authenticate")
    return [v] if v else []


def choose_auth_type(offered: Iterable[str], credentials: Optional[BaseCredentials], endpoint: str,
                     allow_insecure_basic: bool = False) -> str:
    """Pick the strongest auth type the server offers that the credentials can do.

    Basic over plain http is refused unless ``allow_insecure_basic`` is set: it would send the password
    in the clear.
    """
    offered_types = []
    for scheme in offered:
        t = _SCHEME_TO_AUTH.get(scheme.lower())
        if t and t not in offered_types:
            offered_types.append(t)
    if isinstance(credentials, AccessTokenCredentials):
        if OAUTH2 in offered_types:
            return OAUTH2
        raise UnauthorizedError(f"The server at {endpoint} does not offer OAuth 2.0 bearer auth "
                                f"(it offers {offered_types or 'nothing we recognise'})")
    negotiate = any(s.lower() == "negotiate" for s in offered)
    if isinstance(credentials, KerberosCredentials):
        if negotiate:
            return GSSAPI
        raise UnauthorizedError(f"The server at {endpoint} does not offer Negotiate (Kerberos) auth "
                                f"(it offers {list(offered) or 'nothing'})")
    if negotiate and isinstance(credentials, Credentials) and kerberos_ticket_available(credentials):
        return GSSAPI
    plain_http = urlsplit(endpoint).scheme == "http"
    for t in _PASSWORD_PREFERENCE:
        if t not in offered_types:
            continue
        if t == BASIC and plain_http and not allow_insecure_basic:
            continue
        return t
    if BASIC in offered_types and plain_http:
        raise UnauthorizedError(
            f"The server at {endpoint} offers only Basic auth over plain http, which would send the password "
            f"unencrypted. Use https, or pass auth_type=BASIC explicitly to accept the risk.")
    raise UnauthorizedError(f"No supported auth scheme offered by {endpoint}: server offers {list(offered)}")


def kerberos_ticket_available(credentials: Optional[Credentials]) -> bool:
    """True when Kerberos is installed and the credential cache holds a ticket for the credentials' user (for
    the default principal when ``credentials`` is None). Never raises: without Kerberos, NTLM is used."""
    if importlib.util.find_spec("gssapi") is None:
        return False  # the Kerberos extra is not installed: don't import pyspnego for nothing
    from .negotiate import kerberos_available  # noqa: PLC0415 - optional extra, imported when needed

    return kerberos_available(credentials)


def wrap(content: Element, api_version: str, impersonation: Optional[tuple] = None,
         timezone_id: Optional[str] = None, culture: Optional[str] = None) -> bytes:
    """Build a SOAP envelope around a request body element and serialise it.

    ``impersonation`` is ``(id_type, value)`` with id_type one of IMPERSONATION_ID_TYPES.
    """
    envelope = create_element("s:Envelope", nsmap={"s": SOAPNS, "m": MNS, "t": TNS})
    header = add_child(envelope, "s:Header")
    add_child(header, "t:RequestServerVersion", {"Version": api_version})
    if impersonation:
        id_type, value = impersonation
        if id_type not in IMPERSONATION_ID_TYPES:
            raise ValueError(f"Impersonation id type {id_type!r} must be one of {IMPERSONATION_ID_TYPES}")
        imp = add_child(header, "t:ExchangeImpersonation")
        sid = add_child(imp, "t:ConnectingSID")
        add_child(sid, f"t:{id_type}", text=value)
    if culture:
        add_child(header, "t:MailboxCulture", text=culture)
    if timezone_id:
        tzc = add_child(header, "t:TimeZoneContext")
        add_child(tzc, "t:TimeZoneDefinition", {"Id": timezone_id})
    body = add_child(envelope, "s:Body")
    body.append(content)
    return to_bytes(envelope)


def check_endpoint_url(url: Any, where: str) -> str:
    """``url`` if it is an http(s) URL without a user name or password in it; else ValueError naming ``where``.

    Credentials in the URL would end up in every log line and error message that names the endpoint; they belong
    in the credentials object. The message never repeats them.
    """
    if not isinstance(url, str):
        raise TypeError(f"{where} must be a URL string, got {type(url).__name__}")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        shown = parts._replace(netloc=f"***@{parts.netloc.rpartition('@')[2]}").geturl()
        raise ValueError(f"{where} must not carry a user name or password ({shown}): they would show in logs and "
                         f"error messages. Pass them as credentials, e.g. Credentials(username, password)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{where} must be an http(s) URL, got {url!r}")
    return url


def refresh_credentials(credentials: BaseCredentials, session: Any, rejected: Optional[str]) -> bool:
    """``credentials.refresh()``, telling it the rejected token unless it is an app's own ``refresh(self, session)``
    written for exchangelib 5.x (which returns None: then retry if the token changed)."""
    if "rejected_token" in inspect.signature(credentials.refresh).parameters:
        return bool(credentials.refresh(session, rejected_token=rejected))
    result = credentials.refresh(session)
    if result is None:
        return rejected is None or getattr(credentials, "_token", None) != rejected
    return bool(result)


def bearer_token_of(r: Any) -> Optional[str]:
    """The bearer token a request was sent with (to tell the credentials which token the server rejected)."""
    value = r.request.headers.get("Authorization", "") if r.request is not None else ""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value[7:] if value.startswith("Bearer ") else None
