"""Credentials: who we authenticate as.

``Credentials`` carries a username and password for NTLM, Basic, Digest or Kerberos (GSSAPI) auth and
fails fast on server trouble. ``ServiceAccount`` is the same, but long-running jobs using it retry with
back-off when the server is busy or unavailable. ``KerberosCredentials`` names a Kerberos principal with a
credential cache or a keytab.

OAuth 2.0 bearer tokens: ``AccessTokenCredentials`` (a token you obtained yourself),
``OAuth2Credentials`` (client credentials, app-only), ``OAuth2AuthorizationCodeCredentials`` (delegated:
authorization code and refresh token), ``OAuth2LegacyCredentials`` (resource owner password, legacy),
``OAuth2ClientCredentials`` (client credentials with an explicit token URL) and ``MSALCredentials`` (tokens
from an MSAL application and its cache). Apps may authenticate to the token endpoint with a
``ClientCertificate`` instead of a client secret.

Secrets never appear in ``repr()`` or ``str()``. Protocols are shared per :meth:`BaseCredentials.cache_key`,
which includes a keyed hash of every secret, so different secrets never share a session or a token.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

from .errors import OAuth2TokenError, UnauthorizedError
from .identity import Identity
from .lazy import LazyModule
from .retry import FailFast, FaultTolerance, RetryPolicy

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import hashlib
    import hmac
else:
    hashlib = LazyModule("hashlib")
    hmac = LazyModule("hmac")

if TYPE_CHECKING:
    import requests
else:
    requests = LazyModule("requests")  # imported with the first request, not by ``import exchangelib``

log = logging.getLogger(__name__)

# A per-process random key: fingerprints of secrets are equal for equal secrets within this process only, and
# cannot be checked against guessed passwords by anyone who sees a fingerprint but not this key.
_FINGERPRINT_KEY = os.urandom(32)


def secret_fingerprint(*values: Any) -> str:
    """A keyed hash (HMAC-SHA256) of secret values, for cache keys: the secrets themselves are never stored."""
    h = hmac.new(_FINGERPRINT_KEY, digestmod=hashlib.sha256)
    for v in values:
        if v is None:
            data = b"\x00none"
        elif isinstance(v, bytes):
            data = b"b" + v
        else:
            data = b"s" + str(v).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()[:32]


# Types of username
EMAIL = "email"
DOMAIN = "domain"
UPN = "upn"


class BaseCredentials:
    """Base class for all credential kinds.

    ``identity`` is a hashable value naming the principal (never the secret); protocols are shared per
    (endpoint, identity, secret fingerprint).
    """

    def default_retry_policy(self) -> RetryPolicy:
        return FailFast()

    @property
    def identity(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def cache_key(self) -> tuple:
        """A key that differs when the credentials differ, without exposing the secret."""
        return (type(self).__name__, self.identity, id(self))

    def refresh(self, session: Any = None, rejected_token: Optional[str] = None) -> bool:
        """Obtain fresh secrets after the server rejected them. Returns True if something changed.

        ``rejected_token`` is the bearer token the server refused, when known: if the credentials already hold
        another one (a concurrent request refreshed it), nothing is fetched and True is returned.
        """
        return False


class Credentials(BaseCredentials):
    """A username and password.

    The username is usually ``WINDOMAIN\\\\username``; servers also accept the UPN
    (``username@corp.example.com``) or the primary SMTP address (Exchange Online requires it).
    """

    def __init__(self, username: str, password: str):
        if not isinstance(username, str) or not username:
            raise TypeError(f"Credentials.username must be a non-empty str, got {type(username).__name__}")
        if not isinstance(password, str):
            raise TypeError(f"Credentials.password must be a str, got {type(password).__name__}")
        self.username = username
        self._password = password
        if "\\" in username:
            self.type = DOMAIN
        elif "@" in username:
            self.type = EMAIL
        else:
            self.type = UPN

    @property
    def password(self) -> str:
        return self._password

    @property
    def identity(self) -> str:
        return self.username

    def cache_key(self) -> tuple:
        return (type(self).__name__, self.username.lower(), secret_fingerprint(self.username, self._password))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return type(self) is type(other) and self.cache_key() == other.cache_key()

    def __hash__(self) -> int:
        return hash(self.cache_key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(username={self.username!r}, password='********')"

    __str__ = __repr__


class ServiceAccount(Credentials):
    """Credentials for long-running jobs: requests are retried with exponential back-off.

    The server's ``BackOffMilliseconds`` and ``Retry-After`` hints are honoured. After ``max_wait``
    seconds of waiting in total for one request, :class:`~exchangelib.errors.RateLimitError` is raised.
    """

    def __init__(self, username: str, password: str, max_wait: float = 3600):
        super().__init__(username=username, password=password)
        if not isinstance(max_wait, (int, float)) or max_wait <= 0:
            raise ValueError(f"ServiceAccount.max_wait must be a positive number of seconds, got {max_wait!r}")
        self.max_wait = max_wait

    def default_retry_policy(self) -> RetryPolicy:
        return FaultTolerance(max_wait=self.max_wait)


class AccessTokenCredentials(BaseCredentials):
    """An OAuth 2.0 bearer access token, with an optional callback that returns a fresh one.

    ``refresh`` is called (with no arguments) when the server rejects the token; it returns the new
    access token as a str. It is called at most once per rejected request, so a refresh that keeps
    producing rejected tokens ends in :class:`~exchangelib.errors.UnauthorizedError` instead of looping.
    """

    def __init__(self, access_token: str, refresh: Optional[Callable[[], str]] = None, identity: str = "bearer"):
        if not isinstance(access_token, str) or not access_token:
            raise TypeError("AccessTokenCredentials.access_token must be a non-empty str")
        if refresh is not None and not callable(refresh):
            raise TypeError("AccessTokenCredentials.refresh must be callable or None")
        self._token = access_token
        self._refresh = refresh
        self._identity = identity
        self._lock: Any = threading.Lock()

    @property
    def access_token(self) -> str:
        return self._token

    @property
    def identity(self) -> str:
        return self._identity

    def cache_key(self) -> tuple:
        """Equal for the same identity and token: a web app that builds new credentials (and a new Account)
        for every request with the same token shares one Protocol, its connections and its version probe."""
        return (type(self).__name__, self._identity, secret_fingerprint(self._identity, self._token))

    def bearer_token(self) -> str:
        """The access token to send now (subclasses fetch or renew it first when needed)."""
        return self._token

    def refresh(self, session: Any = None, rejected_token: Optional[str] = None) -> bool:
        if self._refresh is None:
            return False
        with self._lock:
            if rejected_token is not None and rejected_token != self._token:
                return True  # another thread already replaced the rejected token
            new = self._refresh()
            if not isinstance(new, str) or not new:
                raise TypeError("The refresh callback must return a non-empty access token str")
            changed = new != self._token
            self._token = new
            return changed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(identity={self._identity!r}, access_token='********')"

    __str__ = __repr__


# --- OAuth 2.0 -----------------------------------------------------------------------------------------------

#: Exchange Online's EWS resource; app-only tokens ask for ``<resource>/.default``.
EWS_RESOURCE = "https://outlook.office365.com"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class ClientCertificate:
    """An app's certificate and private key, to authenticate to the token endpoint without a client secret.

    The token request then carries a client assertion: a JWT signed with the private key, whose ``x5t``
    header is the certificate's SHA-1 thumbprint (the certificate is uploaded to the app registration).

    ``certificate`` and ``private_key`` are PEM file paths or PEM bytes; ``private_key`` may be omitted when
    the certificate file holds the key too. ``password`` decrypts an encrypted key. RSA keys only (RS256),
    as Microsoft Entra ID requires. The key is read (and checked) when the first assertion is signed.

    https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth
    """

    def __init__(self, certificate: Union[str, Path, bytes], private_key: Union[str, Path, bytes, None] = None,
                 password: Union[str, bytes, None] = None):
        self._cert_pem = _read_pem(certificate, "certificate")
        self._key_pem = _read_pem(private_key, "private_key") if private_key is not None else self._cert_pem
        if password is not None and not isinstance(password, (str, bytes)):
            raise TypeError("ClientCertificate.password must be a str, bytes or None")
        self._password = password.encode("utf-8") if isinstance(password, str) else password
        if b"-----BEGIN CERTIFICATE-----" not in self._cert_pem:
            raise ValueError("ClientCertificate.certificate holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        if b"PRIVATE KEY-----" not in self._key_pem:
            raise ValueError("ClientCertificate: no PEM private key found (pass private_key= if it is in its own file)")

    def fingerprint(self) -> str:
        return secret_fingerprint(self._cert_pem, self._key_pem, self._password)

    def assertion(self, client_id: str, audience: str, lifetime: int = 600) -> str:
        """A signed client assertion JWT for ``client_id`` and the token endpoint ``audience``."""
        # cryptography takes ~40 ms to import: loaded only by apps that use certificates
        from .oauth_assertion import sign_client_assertion  # noqa: PLC0415

        return sign_client_assertion(self._cert_pem, self._key_pem, self._password, client_id, audience, lifetime)

    def __repr__(self) -> str:
        return "ClientCertificate(certificate=..., private_key='********')"

    __str__ = __repr__


def _read_pem(value: Union[str, Path, bytes], name: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (str, Path)):
        try:
            return Path(value).read_bytes()
        except OSError as e:
            raise ValueError(f"ClientCertificate.{name}: cannot read {str(value)!r}: {e.strerror}") from None
    raise TypeError(f"ClientCertificate.{name} must be a file path or PEM bytes, got {type(value).__name__}")


def _as_scopes(scope: Union[str, Iterable[str], None], default: Sequence[str]) -> Tuple[str, ...]:
    if scope is None:
        return tuple(default)
    if isinstance(scope, str):
        scopes = tuple(scope.split())
    else:
        scopes = tuple(scope)
    if not scopes or not all(isinstance(s, str) and s for s in scopes):
        raise ValueError(f"scope must be a non-empty str or list of str, got {scope!r}")
    return scopes


def _identity_name(identity: Any) -> Optional[str]:
    """A principal name from a str or an object with primary_smtp_address/smtp_address/upn."""
    if identity is None:
        return None
    if isinstance(identity, str):
        return identity
    for attr in ("primary_smtp_address", "smtp_address", "upn", "sid"):
        v = getattr(identity, attr, None)
        if v:
            return str(v)
    return str(identity)


class BaseOAuth2Credentials(AccessTokenCredentials):
    """OAuth 2.0 credentials that obtain and renew their own tokens from a token endpoint.

    Common arguments (the first five as in exchangelib 5.x):

    - ``client_id``, ``client_secret``: the app registration. Instead of a secret, pass
      ``client_certificate=ClientCertificate(...)`` (a signed JWT client assertion is sent).
    - ``tenant_id``: the directory (Microsoft Entra tenant); the token URL is
      ``{authority}/{tenant_id}/oauth2/v2.0/token`` unless ``token_url`` is given (on-premises ADFS, a local
      test server).
    - ``identity``: who the credentials act for (informational; a str or an object with
      ``primary_smtp_address``).
    - ``access_token``: a token obtained earlier (a dict as the token endpoint returned it, with
      ``access_token`` and optionally ``refresh_token`` and ``expires_at``/``expires_in``; or a str).
    - ``scope``: a str or list; each grant has a sensible default for Exchange Online.
    - ``on_token_changed``: called with the new token dict whenever a token is obtained or renewed, so an app
      can persist it (subclasses may override :meth:`on_token_auto_refreshed` instead, as in exchangelib 5.x).
    - ``refresh_skew``: seconds before expiry at which a token is renewed.

    Renewal is coordinated: threads that share the credentials wait for one token request instead of each
    sending their own, and a 401 leads to at most one renewal per rejected token (see :meth:`refresh`).

    https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth
    """

    DEFAULT_SCOPE: Tuple[str, ...] = (f"{EWS_RESOURCE}/.default",)

    def __init__(self, client_id: Optional[str], client_secret: Optional[str] = None, tenant_id: Optional[str] = None,
                 identity: Any = None, access_token: Union[Dict[str, Any], str, None] = None, *,
                 token_url: Optional[str] = None, scope: Union[str, Iterable[str], None] = None,
                 authority: str = DEFAULT_AUTHORITY, client_certificate: Optional[ClientCertificate] = None,
                 verify: Any = True, on_token_changed: Optional[Callable[[Dict[str, Any]], None]] = None,
                 refresh_skew: float = 300.0, timeout: float = 60.0):
        cls = type(self).__name__
        if client_id is not None and (not isinstance(client_id, str) or not client_id):
            raise TypeError(f"{cls}.client_id must be a non-empty str")
        if client_secret is not None and (not isinstance(client_secret, str) or not client_secret):
            raise TypeError(f"{cls}.client_secret must be a non-empty str or None")
        if client_certificate is not None and not isinstance(client_certificate, ClientCertificate):
            raise TypeError(f"{cls}.client_certificate must be a ClientCertificate, got "
                            f"{type(client_certificate).__name__}")
        if client_secret is not None and client_certificate is not None:
            raise ValueError(f"{cls}: pass client_secret or client_certificate, not both")
        if tenant_id is not None and (not isinstance(tenant_id, str) or not tenant_id or "/" in tenant_id):
            raise ValueError(f"{cls}.tenant_id must be a tenant id or domain name, got {tenant_id!r}")
        if token_url is None:
            token_url = f"{authority.rstrip('/')}/{tenant_id or 'common'}/oauth2/v2.0/token"
        if not isinstance(token_url, str) or not token_url:
            raise TypeError(f"{cls}.token_url must be a non-empty str")
        if not token_url.startswith("https://") and not _is_loopback_url(token_url):
            raise ValueError(f"{cls}.token_url must use https (plain http only on loopback), got {token_url!r}")
        if on_token_changed is not None and not callable(on_token_changed):
            raise TypeError(f"{cls}.on_token_changed must be callable or None")
        if not isinstance(refresh_skew, (int, float)) or refresh_skew < 0:
            raise ValueError(f"{cls}.refresh_skew must be a number of seconds >= 0, got {refresh_skew!r}")
        self.client_id = client_id
        self._client_secret = client_secret
        self.client_certificate = client_certificate
        self.tenant_id = tenant_id
        self.token_url = token_url
        self.scope = _as_scopes(scope, self.DEFAULT_SCOPE)
        self.verify = verify
        self.timeout = timeout
        self.refresh_skew = float(refresh_skew)
        self._on_token_changed = on_token_changed
        self._identity_obj = identity
        self._identity = _identity_name(identity) or client_id or "bearer"
        self._refresh = None
        self._lock = threading.RLock()
        self._token_info: Optional[Dict[str, Any]] = None
        self._token = ""
        self._set_token(access_token)
        # Fingerprint of the secrets given at construction: part of cache_key (tokens obtained later are not)
        info: Dict[str, Any] = self._token_info or {}
        self._initial_secrets = secret_fingerprint(client_secret, client_certificate.fingerprint()
                                                   if client_certificate else None, self._token,
                                                   info.get("refresh_token"))

    # -- public, exchangelib 5.x compatible ----------------------------------------------------------------------

    @property
    def client_secret(self) -> Optional[str]:
        return self._client_secret

    @property
    def identity(self) -> str:
        return self._identity

    @property  # type: ignore[override]
    def access_token(self) -> Optional[Dict[str, Any]]:
        """The current token as a dict (``access_token``, ``refresh_token``, ``expires_at``...), or None."""
        with self._lock:
            return dict(self._token_info) if self._token_info else None

    @access_token.setter
    def access_token(self, value: Union[Dict[str, Any], str, None]) -> None:
        with self._lock:
            self._set_token(value)

    def on_token_auto_refreshed(self, access_token: Dict[str, Any]) -> None:
        """Called with the new token dict after every token request. Calls ``on_token_changed``, if given."""
        if self._on_token_changed is not None:
            self._on_token_changed(access_token)

    # -- tokens ---------------------------------------------------------------------------------------------------

    def _set_token(self, value: Union[Dict[str, Any], str, None]) -> None:
        if value is None:
            self._token_info, self._token = None, ""
            return
        if isinstance(value, str):
            value = {"access_token": value, "token_type": "Bearer"}
        if not isinstance(value, dict) or not isinstance(value.get("access_token"), str) or not value["access_token"]:
            raise TypeError(f"{type(self).__name__}.access_token must be a dict with an 'access_token' str, a str, "
                            f"or None")
        info = dict(value)
        if "expires_at" not in info and info.get("expires_in") is not None:
            info["expires_at"] = time.time() + float(info["expires_in"])
        self._token_info, self._token = info, info["access_token"]

    def _needs_token(self) -> bool:
        info = self._token_info
        if not info:
            return True
        expires_at = info.get("expires_at")
        return expires_at is not None and time.time() >= float(expires_at) - self.refresh_skew

    def bearer_token(self) -> str:
        """The current access token, obtained or renewed first when there is none or it is about to expire.

        Threads that find the token expiring queue on one lock: the first sends the token request, the others
        then find a fresh token and send none. An app that renews tokens itself overrides :meth:`refresh`
        (``refresh(self, session)``, setting ``self.access_token``), as with exchangelib 5.x; it is called then.
        """
        if not self._needs_token():
            return self._token
        with self._lock:
            if self._needs_token():
                if type(self).refresh is not BaseOAuth2Credentials.refresh:
                    self.refresh(None)  # the app's own renewal
                    if not self._token:
                        raise UnauthorizedError(f"{type(self).__name__}.refresh() did not set an access token")
                else:
                    self._obtain()
            return self._token

    def refresh(self, session: Any = None, rejected_token: Optional[str] = None) -> bool:
        """Renew the token after the server rejected ``rejected_token``. At most one token request per rejected
        token: if another thread already replaced it, nothing is sent."""
        with self._lock:
            old = self._token
            if rejected_token is not None and old and rejected_token != old:
                return True
            self._obtain()
            return self._token != old

    def _obtain(self) -> None:
        """Get a new token (called with the lock held): refresh grant if there is a refresh token, else the
        credentials' own grant."""
        refresh_token = (self._token_info or {}).get("refresh_token")
        if refresh_token:
            form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
            data = self._request(form, what="refresh token")
        else:
            data = self._request(self._grant(), what=self._grant_name())
        if "refresh_token" not in data and refresh_token:
            data["refresh_token"] = refresh_token  # the endpoint did not rotate it: keep the one we have
        self._set_token(data)
        log.debug("Obtained an access token for %s from %s (expires in %s s)", self._identity, self.token_url,
                  data.get("expires_in"))
        self.on_token_auto_refreshed(dict(self._token_info or {}))

    def _grant_name(self) -> str:
        return "client credentials"

    def _grant(self) -> Dict[str, str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _client_auth(self) -> Dict[str, str]:
        if self.client_id is None:
            raise UnauthorizedError(f"{type(self).__name__} has no client_id, so it cannot obtain a new token; "
                                    f"give client_id (and client_secret or client_certificate), or a fresh "
                                    f"access_token")
        form = {"client_id": self.client_id}
        if self.client_certificate is not None:
            form["client_assertion_type"] = _ASSERTION_TYPE
            form["client_assertion"] = self.client_certificate.assertion(self.client_id, self.token_url)
        elif self._client_secret is not None:
            form["client_secret"] = self._client_secret
        return form

    def _request(self, grant: Dict[str, str], what: str) -> Dict[str, Any]:
        form = dict(grant)
        form.update(self._client_auth())
        form.setdefault("scope", " ".join(self.scope))
        try:
            r = requests.post(self.token_url, data=form, timeout=self.timeout, verify=self.verify,
                              headers={"Accept": "application/json"})
        except requests.exceptions.RequestException as e:
            raise UnauthorizedError(f"Could not reach the token endpoint {self.token_url}: "
                                    f"{type(e).__name__}") from None
        try:
            data = r.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if r.status_code != 200 or not isinstance(data.get("access_token"), str):
            error = str(data.get("error") or "")
            description = str(data.get("error_description") or "").splitlines()[0][:300] if data.get(
                "error_description") else ""
            if what == "refresh token" and error == "invalid_grant":
                advice = ("The refresh token was revoked or has expired: the user must sign in again (get a new "
                          "authorization code) and the new token be given to these credentials")
            elif error in ("invalid_client", "unauthorized_client"):
                advice = "Check the client id and the client secret or certificate of the app registration"
            elif error == "invalid_grant":
                advice = "Check the user's sign-in (authorization code, user name and password)"
            elif error == "invalid_scope":
                advice = f"Check the scope {' '.join(self.scope)!r} and the app's API permissions"
            else:
                advice = "Check the app registration and the token URL"
            raise OAuth2TokenError(
                f"The token endpoint {self.token_url} refused the {what} grant for client {self.client_id!r} "
                f"(HTTP {r.status_code}, {error or 'no error code'}: {description or 'no description'}). {advice}.",
                error=error, description=description, status_code=r.status_code)
        return data

    def cache_key(self) -> tuple:
        """Differs for different apps, token URLs, scopes, users and secrets: a keyed hash of the client secret,
        the certificate and key, and of any token or password given at construction is part of it."""
        return (type(self).__name__, self.client_id, self.token_url, self.scope, self._identity,
                self._initial_secrets, self._extra_key())

    def _extra_key(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        auth = "client_certificate=..." if self.client_certificate else (
            "client_secret='********'" if self._client_secret else "public client")
        return (f"{type(self).__name__}(client_id={self.client_id!r}, token_url={self.token_url!r}, "
                f"identity={self._identity!r}, {auth}, access_token='********')")

    __str__ = __repr__

    def __getstate__(self) -> Dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()


class OAuth2Credentials(BaseOAuth2Credentials):
    """OAuth 2.0 client credentials grant: the app acts as itself (app-only), for example with the
    ``full_access_as_app`` application permission and impersonation (``access_type=IMPERSONATION``).

    ``OAuth2Credentials(client_id, client_secret, tenant_id)``; see :class:`BaseOAuth2Credentials` for the
    other arguments. The default scope is ``https://outlook.office365.com/.default``.

    https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth
    """

    def __init__(self, client_id: str, client_secret: Optional[str] = None, tenant_id: Optional[str] = None,
                 identity: Any = None, access_token: Union[Dict[str, Any], str, None] = None, **kwargs: Any):
        if not isinstance(client_id, str) or not client_id:
            raise TypeError(f"{type(self).__name__}.client_id must be a non-empty str")
        super().__init__(client_id, client_secret, tenant_id, identity, access_token, **kwargs)
        if client_secret is None and self.client_certificate is None and type(self) is OAuth2Credentials:
            raise ValueError("OAuth2Credentials needs client_secret or client_certificate")

    def _obtain(self) -> None:
        # App-only tokens come without refresh tokens: always ask for a new one with the app's credentials
        if self._token_info:
            self._token_info.pop("refresh_token", None)
        super()._obtain()

    def _grant(self) -> Dict[str, str]:
        return {"grant_type": "client_credentials"}


class OAuth2ClientCredentials(OAuth2Credentials):
    """Client credentials grant with an explicit token URL: ``OAuth2ClientCredentials(client_id, client_secret,
    token_url, scope=...)``. Same as :class:`OAuth2Credentials` with ``token_url=``."""

    def __init__(self, client_id: str, client_secret: str, token_url: str,
                 scope: Union[str, Iterable[str]] = f"{EWS_RESOURCE}/.default", verify: Any = True, **kwargs: Any):
        if not isinstance(client_secret, str) or not client_secret:
            raise TypeError("OAuth2ClientCredentials.client_secret must be a non-empty str")
        if not isinstance(token_url, str) or not token_url:
            raise TypeError("OAuth2ClientCredentials.token_url must be a non-empty str")
        super().__init__(client_id, client_secret, token_url=token_url, scope=scope, verify=verify, **kwargs)

    @property  # type: ignore[override]
    def access_token(self) -> str:
        """The current access token as a str, fetched first when there is none or it is about to expire."""
        return self.bearer_token()

    @access_token.setter
    def access_token(self, value: Union[Dict[str, Any], str, None]) -> None:
        with self._lock:
            self._set_token(value)


class OAuth2LegacyCredentials(OAuth2Credentials):
    """Resource owner password credentials (ROPC) grant: the app sends the user's name and password to the
    token endpoint and acts as that user.

    Legacy: Microsoft discourages it (no MFA, no federated or passwordless users); prefer
    :class:`OAuth2AuthorizationCodeCredentials`. The default scope is
    ``https://outlook.office365.com/EWS.AccessAsUser.All``; the refresh token returned is used to renew.

    https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth
    """

    DEFAULT_SCOPE = (f"{EWS_RESOURCE}/EWS.AccessAsUser.All",)

    def __init__(self, username: str, password: str, **kwargs: Any):
        if not isinstance(username, str) or not username:
            raise TypeError("OAuth2LegacyCredentials.username must be a non-empty str")
        if not isinstance(password, str):
            raise TypeError("OAuth2LegacyCredentials.password must be a str")
        kwargs.setdefault("identity", username)
        super().__init__(**kwargs)
        self.username = username
        self._password = password

    @property
    def password(self) -> str:
        return self._password

    def _obtain(self) -> None:
        BaseOAuth2Credentials._obtain(self)  # a refresh token is used when we have one

    def _grant_name(self) -> str:
        return "password"

    def _grant(self) -> Dict[str, str]:
        return {"grant_type": "password", "username": self.username, "password": self._password}

    def _extra_key(self) -> tuple:
        return (self.username.lower(), secret_fingerprint(self.username, self._password))


class OAuth2AuthorizationCodeCredentials(BaseOAuth2Credentials):
    """Delegated OAuth 2.0: the app acts as the user who signed in and consented.

    Give the ``authorization_code`` your redirect URI received (with ``redirect_uri`` and, for PKCE, the
    ``code_verifier``), or an ``access_token`` dict from an earlier sign-in (with its ``refresh_token``).
    The code is redeemed once; later tokens come from the refresh token, which the endpoint may rotate:
    persist the new token with ``on_token_changed=`` (or override :meth:`on_token_auto_refreshed`). A
    revoked or expired refresh token raises :class:`~exchangelib.errors.OAuth2TokenError` (``invalid_grant``):
    the user must sign in again.

    ``client_id``/``client_secret`` may be omitted when only an access token is given; the token is then used
    until it expires. The default scope is ``https://outlook.office365.com/EWS.AccessAsUser.All offline_access``.

    https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth
    """

    DEFAULT_SCOPE = (f"{EWS_RESOURCE}/EWS.AccessAsUser.All", "offline_access")

    def __init__(self, authorization_code: Optional[str] = None, client_id: Optional[str] = None,
                 client_secret: Optional[str] = None, tenant_id: Optional[str] = None, identity: Any = None,
                 access_token: Union[Dict[str, Any], str, None] = None, *, redirect_uri: Optional[str] = None,
                 code_verifier: Optional[str] = None, **kwargs: Any):
        if authorization_code is not None and (not isinstance(authorization_code, str) or not authorization_code):
            raise TypeError("OAuth2AuthorizationCodeCredentials.authorization_code must be a non-empty str or None")
        if authorization_code is None and access_token is None:
            raise ValueError("OAuth2AuthorizationCodeCredentials needs an authorization_code or an access_token")
        if authorization_code is not None and client_id is None:
            raise ValueError("OAuth2AuthorizationCodeCredentials: redeeming an authorization_code needs the client_id")
        super().__init__(client_id, client_secret, tenant_id, identity, access_token, **kwargs)
        self._authorization_code = authorization_code
        self.redirect_uri = redirect_uri
        self._code_verifier = code_verifier
        self._initial_secrets = secret_fingerprint(self._initial_secrets, authorization_code, code_verifier)

    @property
    def authorization_code(self) -> Optional[str]:
        return self._authorization_code

    def _grant_name(self) -> str:
        return "authorization code"

    def _grant(self) -> Dict[str, str]:
        code, self._authorization_code = self._authorization_code, None  # a code can be redeemed only once
        if code is None:
            raise UnauthorizedError(
                f"The access token of {self._identity} has expired or was rejected and there is no refresh token or "
                f"unused authorization code to get a new one: sign the user in again")
        form = {"grant_type": "authorization_code", "code": code}
        if self.redirect_uri:
            form["redirect_uri"] = self.redirect_uri
        if self._code_verifier:
            form["code_verifier"] = self._code_verifier
        return form


class MSALCredentials(AccessTokenCredentials):
    """Tokens from an MSAL application (``pip install exchangelib[msal]``) and its token cache.

    ``app`` is a ``msal.ConfidentialClientApplication`` or ``msal.PublicClientApplication`` configured as
    you like (authority, token cache, certificate...). With ``account`` (an MSAL account dict, e.g. from
    ``app.get_accounts()``) tokens come from ``app.acquire_token_silent()`` (delegated; MSAL uses and rotates
    the refresh token in its cache); without it from ``app.acquire_token_for_client()`` (app-only). MSAL
    keeps its own cache; these credentials only ask it for a token when theirs is about to expire or was
    rejected, one thread at a time.

    https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth
    """

    def __init__(self, app: Any, scopes: Optional[Sequence[str]] = None, account: Optional[Dict[str, Any]] = None,
                 identity: Any = None, refresh_skew: float = 300.0):
        if not (hasattr(app, "acquire_token_silent") or hasattr(app, "acquire_token_for_client")):
            raise TypeError(f"MSALCredentials.app must be an MSAL client application, got {type(app).__name__}")
        default = (f"{EWS_RESOURCE}/EWS.AccessAsUser.All",) if account else (f"{EWS_RESOURCE}/.default",)
        self.app = app
        self.scopes = list(_as_scopes(scopes, default))
        self.account = account
        self.refresh_skew = float(refresh_skew)
        self._identity = str(_identity_name(identity) or (account or {}).get("username") or getattr(
            app, "client_id", "msal"))
        self._token = ""
        self._expires_at = 0.0
        self._refresh = None
        self._lock = threading.Lock()

    def bearer_token(self) -> str:
        if self._token and time.time() < self._expires_at - self.refresh_skew:
            return self._token
        with self._lock:
            if not self._token or time.time() >= self._expires_at - self.refresh_skew:
                self._acquire(force=bool(self._token))
            return self._token

    def refresh(self, session: Any = None, rejected_token: Optional[str] = None) -> bool:
        with self._lock:
            old = self._token
            if rejected_token is not None and old and rejected_token != old:
                return True
            self._acquire(force=True)
            return self._token != old

    def _acquire(self, force: bool) -> None:
        if self.account is not None:
            result = self.app.acquire_token_silent(self.scopes, account=self.account, force_refresh=force)
            if result is None:
                raise OAuth2TokenError(f"MSAL has no token for {self._identity} in its cache and cannot renew it: "
                                       f"the user must sign in again", error="interaction_required")
        else:
            if force and hasattr(self.app, "remove_tokens_for_client"):
                self.app.remove_tokens_for_client()
            result = self.app.acquire_token_for_client(scopes=self.scopes)
        if not isinstance(result, dict) or "access_token" not in result:
            error = str((result or {}).get("error") or "")
            description = str((result or {}).get("error_description") or "").splitlines()[0][:300] if (
                result or {}).get("error_description") else ""
            raise OAuth2TokenError(f"MSAL could not get a token for {self._identity} ({error or 'no error code'}: "
                                   f"{description or 'no description'})", error=error, description=description)
        self._token = result["access_token"]
        self._expires_at = time.time() + float(result.get("expires_in", 3600))

    def cache_key(self) -> tuple:
        return (type(self).__name__, id(self.app), tuple(self.scopes), self._identity)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(identity={self._identity!r}, scopes={self.scopes!r}, access_token='********')"

    __str__ = __repr__


# --- Kerberos ------------------------------------------------------------------------------------------------

class KerberosCredentials(BaseCredentials):
    """A Kerberos principal for ``auth_type=GSSAPI`` (``pip install exchangelib[kerberos]``).

    - ``KerberosCredentials()``: the default credential cache (after ``kinit``), its principal.
    - ``KerberosCredentials(principal, ccache='FILE:/path')``: that principal from that cache.
    - ``KerberosCredentials(principal, keytab='/path/app.keytab')``: a service account's keytab (tickets are
      obtained from the KDC without a password).
    - ``KerberosCredentials(principal, password=...)``: a password (prefer a keytab for services).

    ``service``/``hostname`` name the server's principal (``HTTP/<host>`` by default, host from the EWS URL);
    set ``hostname`` when the EWS host name is an alias of the host that has the keytab.
    (Plain :class:`Credentials` work with GSSAPI too: a ticket is obtained with the password, and Negotiate
    falls back to NTLM when no ticket can be had.)

    https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/authentication-and-ews-in-exchange
    """

    def __init__(self, principal: Optional[str] = None, *, ccache: Optional[str] = None, keytab: Optional[str] = None,
                 password: Optional[str] = None, service: str = "HTTP", hostname: Optional[str] = None):
        if principal is not None and (not isinstance(principal, str) or not principal):
            raise TypeError("KerberosCredentials.principal must be a non-empty str or None")
        given = [n for n, v in (("ccache", ccache), ("keytab", keytab), ("password", password)) if v is not None]
        if len(given) > 1:
            raise ValueError(f"KerberosCredentials: pass only one of ccache, keytab and password (got {given})")
        if (keytab is not None or password is not None) and principal is None:
            raise ValueError("KerberosCredentials: a keytab or password needs the principal name")
        if not isinstance(service, str) or not service or "/" in service:
            raise ValueError(f"KerberosCredentials.service must be a service name like 'HTTP', got {service!r}")
        self.principal = principal
        self.ccache = ccache
        self.keytab = str(keytab) if keytab is not None else None
        self._password = password
        self.service = service
        self.hostname = hostname

    @property
    def password(self) -> Optional[str]:
        return self._password

    @property
    def identity(self) -> str:
        return self.principal or "default Kerberos principal"

    def cache_key(self) -> tuple:
        return (type(self).__name__, self.principal, self.ccache, self.keytab, self.service, self.hostname,
                secret_fingerprint(self._password))

    def __repr__(self) -> str:
        where = (f", keytab={self.keytab!r}" if self.keytab else "") + (f", ccache={self.ccache!r}" if self.ccache
                                                                       else "")
        pw = ", password='********'" if self._password is not None else ""
        return f"{type(self).__name__}(principal={self.principal!r}{where}{pw}, service={self.service!r})"

    __str__ = __repr__


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"
