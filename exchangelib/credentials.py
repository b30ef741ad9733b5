"""Credentials: who we authenticate as.

``Credentials`` carries a username and password for NTLM, Basic or Digest auth and fails fast on
server trouble. ``ServiceAccount`` is the same, but long-running jobs using it retry with back-off
when the server is busy or unavailable. ``AccessTokenCredentials`` and
``OAuth2ClientCredentials`` authenticate with OAuth 2.0 bearer tokens.

Secrets never appear in ``repr()`` or ``str()``.
"""
from __future__ import annotations

import hashlib
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Optional
from urllib.parse import urlsplit

from .errors import UnauthorizedError
from .lazy import LazyModule
from .retry import FailFast, FaultTolerance, RetryPolicy

if TYPE_CHECKING:
    import requests
else:
    requests = LazyModule("requests")  # imported with the first request, not by ``import exchangelib``

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

    def refresh(self, session: Any = None) -> bool:
        """Obtain fresh secrets after the server rejected them. Returns True if something changed."""
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
        fingerprint = hashlib.sha256(f"{self.username}\0{self._password}".encode()).hexdigest()[:16]
        return (type(self).__name__, self.username.lower(), fingerprint)

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
        self._lock = threading.Lock()

    @property
    def access_token(self) -> str:
        return self._token

    @property
    def identity(self) -> str:
        return self._identity

    def cache_key(self) -> tuple:
        """Equal for the same identity and token: a web app that builds new credentials (and a new Account)
        for every request with the same token shares one Protocol, its connections and its version probe."""
        fingerprint = hashlib.sha256(f"{self._identity}\0{self._token}".encode()).hexdigest()[:16]
        return (type(self).__name__, self._identity, fingerprint)

    def refresh(self, session: Any = None) -> bool:
        if self._refresh is None:
            return False
        with self._lock:
            new = self._refresh()
            if not isinstance(new, str) or not new:
                raise TypeError("The refresh callback must return a non-empty access token str")
            changed = new != self._token
            self._token = new
            return changed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(identity={self._identity!r}, access_token='********')"

    __str__ = __repr__


class OAuth2ClientCredentials(AccessTokenCredentials):
    """OAuth 2.0 client-credentials grant (app-only access, e.g. ``full_access_as_app``).

    Tokens are fetched from ``token_url`` with ``client_id``/``client_secret`` and renewed shortly before
    they expire, or when the server rejects them.
    """

    def __init__(self, client_id: str, client_secret: str, token_url: str,
                 scope: str = "https://outlook.office365.com/.default", verify: Any = True):
        for name, value in (("client_id", client_id), ("client_secret", client_secret), ("token_url", token_url)):
            if not isinstance(value, str) or not value:
                raise TypeError(f"OAuth2ClientCredentials.{name} must be a non-empty str")
        if not token_url.startswith("https://") and not _is_loopback_url(token_url):
            raise ValueError("OAuth2ClientCredentials.token_url must use https (plain http only on loopback)")
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self.scope = scope
        self.verify = verify
        self._token = ""
        self._expires_at = 0.0
        self._refresh = None
        self._identity = client_id
        self._lock = threading.Lock()

    @property
    def access_token(self) -> str:
        with self._lock:
            if not self._token or time.monotonic() > self._expires_at - 30:
                self._fetch()
            return self._token

    def _fetch(self) -> None:
        r = requests.post(self.token_url, data={
            "grant_type": "client_credentials", "client_id": self.client_id,
            "client_secret": self._client_secret, "scope": self.scope,
        }, timeout=60, verify=self.verify)
        if r.status_code != 200:
            raise UnauthorizedError(f"Token endpoint {self.token_url} refused client {self.client_id!r} "
                                    f"(HTTP {r.status_code})")
        data = r.json()
        self._token = data["access_token"]
        self._expires_at = time.monotonic() + float(data.get("expires_in", 3600))

    def refresh(self, session: Any = None) -> bool:
        with self._lock:
            old = self._token
            self._fetch()
            return self._token != old

    def cache_key(self) -> tuple:
        return (type(self).__name__, self.client_id, self.token_url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_id={self.client_id!r}, token_url={self.token_url!r}, client_secret='********')"

    __str__ = __repr__


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"
