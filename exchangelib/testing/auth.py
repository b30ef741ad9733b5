"""HTTP authentication for the local EWS server: Basic, NTLM, Digest and OAuth 2.0 bearer tokens.

Behaviour follows IIS in front of Exchange:

- A request without usable credentials gets ``401`` with one ``WWW-Authenticate`` header per
  enabled scheme (``Negotiate``, ``NTLM``, ``Digest``, ``Basic realm="..."``, ``Bearer ...``).
- NTLM authenticates the *connection*: ``Type 1`` gets a ``401`` carrying the challenge, a valid
  ``Type 3`` authenticates the request and every later keep-alive request on that connection,
  until the client starts a new handshake. Only NTLMv2 responses are accepted (like a domain with
  "Send NTLMv2 response only / refuse LM & NTLM"). The MIC is checked when the client says it
  sent one, and with ``extended_protection`` the TLS channel binding must match (Exchange's
  Extended Protection). Verification is done here with pyspnego's NTLM message classes and
  crypto helpers, so each server has its own user list (pyspnego's acceptor reads a
  process-global credential file).
- ``Negotiate`` carries raw NTLMSSP tokens, or Kerberos (raw or SPNEGO) when the server has a keytab
  (``kerberos_keytab``; see :mod:`.kerberos` and :class:`~exchangelib.testing.kdc.LocalKDC`). The client
  principal ``john@EXAMPLE.COM`` maps to the user whose UPN it is, or to ``john`` in the realm of the
  server's DNS domain. Like IIS (``authPersistNonNTLM``), a Kerberos login lasts for the connection.
  ``negotiate`` is off unless asked for.
- Bearer tokens come from the server's own token endpoint (:meth:`Authenticator.token_endpoint`),
  expire after ``token_lifetime`` seconds, and an unknown or expired token is answered with
  ``401`` and ``WWW-Authenticate: Bearer ... error="invalid_token"``.

Passwords, tokens and Authorization headers are never logged.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from spnego._ntlm_raw.crypto import hmac_md5, ntowfv1, ntowfv2, rc4k
from spnego._ntlm_raw.messages import (AvFlags, AvId, Authenticate, Challenge, FileTime, Negotiate, NegotiateFlags,
                                       NTClientChallengeV2, TargetInfo)
from spnego._ntlm_raw.messages import Version as NtlmVersion
from spnego.channel_bindings import GssChannelBindings

from .oauth import ASSERTION_TYPE, AssertionVerifier
from .users import OAuthClient, User, UserDirectory

log = logging.getLogger(__name__)

__all__ = ["SCHEMES", "Identity", "ConnectionAuth", "AuthResult", "Authenticator", "TokenStore"]

SCHEMES = ("negotiate", "ntlm", "digest", "basic", "bearer")
_NTLMSSP = b"NTLMSSP\x00"
# Exchange Online's resource id for EWS, sent in its Bearer challenges.
_EXCHANGE_RESOURCE = "00000002-0000-0ff1-ce00-000000000000"
_EWS_RESOURCE = "https://outlook.office365.com"
DELEGATED_EWS_SCOPE = "EWS.AccessAsUser.All"
_OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
_BEARER_PARAMS = (f'client_id="{_EXCHANGE_RESOURCE}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", '
                  'token_types="app_asserted_user_v1 service_asserted_app_v1"')


@dataclass(frozen=True)
class Identity:
    """Who made the request: a user (any scheme) or an OAuth app acting app-only."""

    scheme: str
    user: Optional[User] = None
    client: Optional[OAuthClient] = None

    @property
    def app_only(self) -> bool:
        return self.user is None

    @property
    def name(self) -> str:
        """For logs and the request log: the user's SMTP address, or ``app:<client_id>``."""
        if self.user is not None:
            return self.user.smtp_address
        return f"app:{self.client.client_id if self.client else '?'}"


@dataclass
class _NtlmPending:
    scheme: str
    negotiate: bytes
    challenge: bytes
    server_challenge: bytes


@dataclass
class ConnectionAuth:
    """Per-connection authentication state (NTLM authenticates connections, not requests)."""

    ntlm_pending: Optional[_NtlmPending] = None
    ntlm_identity: Optional[Identity] = None
    # tls-server-end-point hash of the certificate this connection was served with, if TLS.
    tls_end_point: Optional[bytes] = None
    # The user a verified TLS client certificate of this connection maps to (Certificate Based Authentication).
    certificate_identity: Optional["Identity"] = None


@dataclass
class AuthResult:
    """Outcome of authenticating one request.

    ``identity`` is set on success. Otherwise answer ``401`` with ``headers`` (a list of
    ``(name, value)``); ``reason`` says why, for the server log (never contains secrets).
    """

    identity: Optional[Identity] = None
    headers: List[Tuple[str, str]] = field(default_factory=list)
    reason: str = ""
    handshake: bool = False  # True when the 401 is an NTLM challenge (an expected step, not a failure)
    # Headers for the successful response (Kerberos mutual authentication: WWW-Authenticate: Negotiate <token>)
    response_headers: List[Tuple[str, str]] = field(default_factory=list)


@dataclass
class _Token:
    client: Optional[OAuthClient]
    user: Optional[User]
    expires_at: float
    scope: str
    roles: Tuple[str, ...] = ()


@dataclass
class _Code:
    client_id: str
    user: User
    scope: str
    redirect_uri: Optional[str]
    code_challenge: Optional[str]
    code_challenge_method: str
    expires_at: float
    nonce: Optional[str] = None


class TokenStore:
    """Issued access tokens, refresh tokens and authorization codes. All are opaque random strings.

    Refresh tokens rotate: redeeming one invalidates it and issues a new one. :meth:`revoke_refresh_tokens`
    invalidates a user's (or a client's) refresh tokens, as "revoke sessions" does in Entra ID.
    """

    def __init__(self, lifetime: float = 3600.0):
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._access: Dict[str, _Token] = {}
        self._refresh: Dict[str, _Token] = {}
        self._codes: Dict[str, _Code] = {}

    def issue(self, client: Optional[OAuthClient], user: Optional[User], scope: str,
              with_refresh: bool = False, roles: Tuple[str, ...] = ()) -> Dict[str, object]:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        lifetime = self.lifetime
        with self._lock:
            self._purge(now)
            self._access[token] = _Token(client, user, now + lifetime, scope, tuple(roles))
            body: Dict[str, object] = {
                "token_type": "Bearer",
                "scope": scope,
                "expires_in": int(lifetime) if float(lifetime).is_integer() else lifetime,
                "ext_expires_in": int(lifetime) if float(lifetime).is_integer() else lifetime,
                "access_token": token,
            }
            if with_refresh:
                refresh = secrets.token_urlsafe(32)
                self._refresh[refresh] = _Token(client, user, now + 90 * 86400, scope)
                body["refresh_token"] = refresh
        return body

    def lookup(self, token: str) -> Tuple[Optional[_Token], str]:
        """(token record, '') if valid, else (None, reason)."""
        with self._lock:
            rec = self._access.get(token)
        if rec is None:
            return None, "unknown access token"
        if time.monotonic() >= rec.expires_at:
            return None, "access token expired"
        return rec, ""

    def redeem_refresh(self, refresh: str, client_id: str) -> Optional[_Token]:
        with self._lock:
            rec = self._refresh.get(refresh)
            if rec is None or time.monotonic() >= rec.expires_at:
                return None
            if rec.client is not None and rec.client.client_id != client_id:
                return None
            del self._refresh[refresh]  # rotation: each refresh token is good for one redemption
        return rec

    def revoke_refresh_tokens(self, user: Optional[User] = None, client_id: Optional[str] = None) -> int:
        """Invalidate the refresh tokens of a user and/or a client (all when both are None). Returns how many."""
        with self._lock:
            dead = [t for t, rec in self._refresh.items()
                    if (user is None or rec.user is user)
                    and (client_id is None or (rec.client is not None and rec.client.client_id == client_id))]
            for t in dead:
                del self._refresh[t]
        return len(dead)

    def issue_code(self, client_id: str, user: User, scope: str, redirect_uri: Optional[str],
                   code_challenge: Optional[str] = None, code_challenge_method: str = "plain",
                   nonce: Optional[str] = None) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            for c in [c for c, rec in self._codes.items() if rec.expires_at < now]:
                del self._codes[c]
            self._codes[code] = _Code(client_id, user, scope, redirect_uri, code_challenge, code_challenge_method,
                                      now + 600, nonce)
        return code

    def redeem_code(self, code: str) -> Optional[_Code]:
        with self._lock:
            rec = self._codes.pop(code, None)  # single use, even when the redemption then fails
        if rec is None or time.monotonic() >= rec.expires_at:
            return None
        return rec

    def expire_all(self) -> None:
        """Make every issued access token expired (to test a client's refresh logic)."""
        with self._lock:
            for rec in self._access.values():
                rec.expires_at = 0.0

    def revoke(self, token: str) -> bool:
        with self._lock:
            return self._access.pop(token, None) is not None

    def _purge(self, now: float) -> None:
        # Keep expired tokens for a while so they're reported as expired rather than unknown.
        dead = [t for t, rec in self._access.items() if rec.expires_at < now - 3600]
        for t in dead:
            del self._access[t]


def _b64decode(value: str) -> Optional[bytes]:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _parse_auth_params(s: str) -> Dict[str, str]:
    """Parse ``k=v, k="quoted, value"`` pairs (Digest). Backslashes are kept unless escaping a quote."""
    out: Dict[str, str] = {}
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i] in " ,\t":
            i += 1
        start = i
        while i < n and s[i] not in "=,":
            i += 1
        key = s[start:i].strip().lower()
        if i >= n or s[i] != "=":
            if key:
                out[key] = ""
            continue
        i += 1
        if i < n and s[i] == '"':
            i += 1
            buf = []
            while i < n and s[i] != '"':
                if s[i] == "\\" and i + 1 < n and s[i + 1] == '"':
                    i += 1
                buf.append(s[i])
                i += 1
            i += 1
            out[key] = "".join(buf)
        else:
            start = i
            while i < n and s[i] != ",":
                i += 1
            out[key] = s[start:i].strip()
    return out


class Authenticator:
    """Authenticates requests against a :class:`UserDirectory` with the enabled schemes.

    One instance per server; thread-safe. ``schemes`` is a subset of :data:`SCHEMES`.
    """

    def __init__(self, directory: UserDirectory, schemes: Sequence[str] = ("ntlm", "basic", "bearer"),
                 realm: str = "127.0.0.1", oauth_clients: Iterable[OAuthClient] = (),
                 token_lifetime: float = 3600.0, netbios_domain: str = "EXAMPLE",
                 dns_domain: str = "example.com", computer_name: str = "EXCH01",
                 extended_protection: bool = False, kerberos_keytab: Optional[str] = None,
                 lockout_threshold: Optional[int] = None, lockout_duration: float = 1800.0):
        if isinstance(schemes, str):
            raise TypeError(f"auth must be a sequence of scheme names from {SCHEMES}, not the str {schemes!r}")
        schemes = tuple(s.lower() for s in schemes)
        unknown = [s for s in schemes if s not in SCHEMES]
        if unknown:
            raise ValueError(f"Unknown auth scheme(s) {unknown}: choose from {SCHEMES}")
        if not schemes:
            raise ValueError("auth must enable at least one scheme")
        if not isinstance(token_lifetime, (int, float)) or token_lifetime <= 0:
            raise ValueError(f"token_lifetime must be a positive number of seconds, got {token_lifetime!r}")
        self.directory = directory
        self.schemes = schemes
        self.realm = realm
        self.tokens = TokenStore(float(token_lifetime))
        self.assertions = AssertionVerifier()
        self._clients: Dict[str, OAuthClient] = {}
        self._clients_lock = threading.Lock()
        for c in oauth_clients:
            self.add_client(c)
        self.netbios_domain = netbios_domain
        self.dns_domain = dns_domain
        self.computer_name = computer_name
        self.extended_protection = extended_protection
        self.kerberos: Optional[Any] = None
        if kerberos_keytab is not None:
            if "negotiate" not in schemes:
                raise ValueError("kerberos_keytab needs the 'negotiate' auth scheme")
            # gssapi is the optional Kerberos extra: imported only by servers that accept Kerberos
            from .kerberos import KerberosAcceptor  # noqa: PLC0415

            self.kerberos = KerberosAcceptor(kerberos_keytab)
        self._digest_nonces: Dict[str, float] = {}
        self._digest_lock = threading.Lock()
        if lockout_threshold is not None and (not isinstance(lockout_threshold, int)
                                              or isinstance(lockout_threshold, bool) or lockout_threshold < 1):
            raise ValueError(f"lockout_threshold must be a positive int or None, got {lockout_threshold!r}")
        if not isinstance(lockout_duration, (int, float)) or lockout_duration <= 0:
            raise ValueError(f"lockout_duration must be a positive number of seconds, got {lockout_duration!r}")
        self.lockout_threshold = lockout_threshold
        self.lockout_duration = float(lockout_duration)
        self._failures: Dict[str, int] = {}
        self._locked_until: Dict[str, float] = {}
        self._lockout_lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------------

    def add_client(self, client: OAuthClient) -> OAuthClient:
        if not isinstance(client, OAuthClient):
            raise TypeError(f"Expected an OAuthClient, got {type(client).__name__}")
        with self._clients_lock:
            if client.client_id in self._clients:
                raise ValueError(f"OAuth client_id {client.client_id!r} already registered")
            self._clients[client.client_id] = client
        return client

    @property
    def clients(self) -> Tuple[OAuthClient, ...]:
        with self._clients_lock:
            return tuple(self._clients.values())

    # -- account lockout (Active Directory's policy) ------------------------------------------

    def is_locked(self, user: User) -> bool:
        """True while ``user`` is locked out after ``lockout_threshold`` bad passwords in a row."""
        if self.lockout_threshold is None:
            return False
        key = user.logon_name.lower()
        with self._lockout_lock:
            until = self._locked_until.get(key)
            if until is None:
                return False
            if time.monotonic() >= until:  # the lockout duration passed: unlocked, counter reset
                del self._locked_until[key]
                self._failures.pop(key, None)
                return False
            return True

    def _bad_password(self, user: User) -> None:
        if self.lockout_threshold is None:
            return
        key = user.logon_name.lower()
        with self._lockout_lock:
            n = self._failures.get(key, 0) + 1
            self._failures[key] = n
            if n >= self.lockout_threshold:
                self._locked_until[key] = time.monotonic() + self.lockout_duration
                log.info("Account %s locked out after %d bad passwords", user.logon_name, n)

    def _good_password(self, user: User) -> None:
        if self.lockout_threshold is not None:
            with self._lockout_lock:
                self._failures.pop(user.logon_name.lower(), None)

    def unlock(self, login: str) -> None:
        """Unlock an account at once (what an administrator does), resetting its bad-password count."""
        with self._lockout_lock:
            self._locked_until.pop(login.lower(), None)
            self._failures.pop(login.lower(), None)

    # -- 401 challenges ------------------------------------------------------------------------

    def challenge_headers(self, bearer_error: Optional[str] = None) -> List[Tuple[str, str]]:
        """One WWW-Authenticate header per enabled scheme, in IIS order."""
        headers = []
        for scheme in SCHEMES:
            if scheme not in self.schemes:
                continue
            if scheme == "negotiate":
                headers.append(("WWW-Authenticate", "Negotiate"))
            elif scheme == "ntlm":
                headers.append(("WWW-Authenticate", "NTLM"))
            elif scheme == "digest":
                headers.append(("WWW-Authenticate", self._digest_challenge()))
            elif scheme == "basic":
                headers.append(("WWW-Authenticate", f'Basic realm="{self.realm}"'))
            elif scheme == "bearer":
                value = f"Bearer {_BEARER_PARAMS}"
                if bearer_error:
                    value += f', error="{bearer_error}"'
                headers.append(("WWW-Authenticate", value))
        return headers

    def _fail(self, reason: str, bearer_error: Optional[str] = None) -> AuthResult:
        return AuthResult(headers=self.challenge_headers(bearer_error), reason=reason)

    # -- entry point ---------------------------------------------------------------------------

    def authenticate(self, conn: ConnectionAuth, authorization: Optional[str]) -> AuthResult:
        """Authenticate one request given its Authorization header (or None)."""
        if not authorization or not authorization.strip():
            if conn.ntlm_identity is not None:
                return AuthResult(identity=conn.ntlm_identity)
            if conn.certificate_identity is not None:
                return AuthResult(identity=conn.certificate_identity)
            return self._fail("no credentials")
        scheme, _, value = authorization.strip().partition(" ")
        scheme_l = scheme.lower()
        if scheme_l not in self.schemes:
            return self._fail(f"scheme {scheme!r} not enabled")
        if scheme_l in ("ntlm", "negotiate"):
            return self._ntlm(conn, scheme, value)
        # Any other scheme on this connection replaces an earlier NTLM login.
        conn.ntlm_identity = None
        conn.ntlm_pending = None
        if scheme_l == "basic":
            return self._basic(value)
        if scheme_l == "bearer":
            return self._bearer(value)
        return self._digest(value)

    # -- Basic ---------------------------------------------------------------------------------

    def _basic(self, value: str) -> AuthResult:
        raw = _b64decode(value)
        if raw is None or b":" not in raw:
            return self._fail("malformed Basic credentials")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        login, _, password = text.partition(":")
        known = self.directory.find_login(login)
        if known is not None and self.is_locked(known):
            return self._fail(f"Basic: the account {login!r} is locked out")
        user = self.directory.authenticate(login, password)
        if user is None:
            if known is not None:
                self._bad_password(known)
            return self._fail(f"Basic: bad user name or password for {login!r}")
        self._good_password(user)
        return AuthResult(identity=Identity("Basic", user=user))

    # -- Bearer --------------------------------------------------------------------------------

    def _bearer(self, value: str) -> AuthResult:
        token = value.strip()
        if not token:
            return self._fail("empty bearer token", bearer_error="invalid_token")
        rec, reason = self.tokens.lookup(token)
        if rec is None:
            return self._fail(f"Bearer: {reason}", bearer_error="invalid_token")
        if rec.user is not None and DELEGATED_EWS_SCOPE not in _scope_names(rec.scope):
            # Exchange Online accepts delegated tokens only with the EWS.AccessAsUser.All permission
            return self._fail(f"Bearer: delegated token without {DELEGATED_EWS_SCOPE} (scope {rec.scope!r})",
                              bearer_error="insufficient_scope")
        return AuthResult(identity=Identity("Bearer", user=rec.user, client=rec.client))

    # -- Digest (RFC 2617, MD5, qop=auth) --------------------------------------------------------

    def _digest_challenge(self) -> str:
        nonce = secrets.token_hex(16)
        with self._digest_lock:
            now = time.monotonic()
            for n in [n for n, t in self._digest_nonces.items() if t < now - 300]:
                del self._digest_nonces[n]
            self._digest_nonces[nonce] = now
        return f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}", charset=utf-8'

    def _digest(self, value: str) -> AuthResult:
        p = _parse_auth_params(value)
        nonce = p.get("nonce", "")
        with self._digest_lock:
            known = nonce in self._digest_nonces
        if not known:
            return self._fail("Digest: unknown or stale nonce")
        login = p.get("username", "")
        user = self.directory.find_login(login)
        if user is None or user.password is None:
            return self._fail(f"Digest: unknown user {login!r}")
        if self.is_locked(user):
            return self._fail(f"Digest: the account {login!r} is locked out")
        if p.get("realm") != self.realm or p.get("algorithm", "MD5").upper() != "MD5":
            return self._fail("Digest: wrong realm or algorithm")

        def md5(s: str) -> str:
            return hashlib.md5(s.encode("utf-8")).hexdigest()  # noqa: S324 - the protocol mandates MD5

        ha1 = md5(f"{login}:{self.realm}:{user.password}")
        ha2 = md5(f"POST:{p.get('uri', '')}")
        if p.get("qop") == "auth":
            expected = md5(f"{ha1}:{nonce}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}")
        else:
            expected = md5(f"{ha1}:{nonce}:{ha2}")
        if not hmac.compare_digest(expected, p.get("response", "")):
            self._bad_password(user)
            return self._fail(f"Digest: bad response for {login!r}")
        self._good_password(user)
        return AuthResult(identity=Identity("Digest", user=user))

    # -- NTLM ----------------------------------------------------------------------------------

    def _ntlm(self, conn: ConnectionAuth, scheme: str, value: str) -> AuthResult:
        token = _b64decode(value)
        if token is not None and scheme.lower() == "negotiate" and not token.startswith(_NTLMSSP):
            conn.ntlm_pending = None
            return self._kerberos(conn, token)
        if token is None or not token.startswith(_NTLMSSP) or len(token) < 12:
            conn.ntlm_pending = None
            return self._fail(f"{scheme}: not a raw NTLMSSP token")
        msg_type = int.from_bytes(token[8:12], "little")
        if msg_type == 1:
            conn.ntlm_identity = None
            try:
                challenge, server_challenge = self._ntlm_challenge(token)
            except Exception as e:  # malformed negotiate message
                conn.ntlm_pending = None
                return self._fail(f"{scheme}: malformed NTLM negotiate message ({type(e).__name__})")
            conn.ntlm_pending = _NtlmPending(scheme, token, challenge, server_challenge)
            b64 = base64.b64encode(challenge).decode()
            return AuthResult(headers=[("WWW-Authenticate", f"{scheme} {b64}")], reason="NTLM challenge sent",
                              handshake=True)
        if msg_type == 3:
            pending, conn.ntlm_pending = conn.ntlm_pending, None
            if pending is None:
                return self._fail(f"{scheme}: authenticate message without a challenge on this connection")
            try:
                user, reason = self._ntlm_verify(pending, token, conn.tls_end_point)
            except Exception as e:  # malformed authenticate message
                user, reason = None, f"malformed NTLM authenticate message ({type(e).__name__})"
            if user is None:
                return self._fail(f"{scheme}: {reason}")
            identity = Identity(scheme.upper() if scheme.lower() == "ntlm" else "Negotiate", user=user)
            conn.ntlm_identity = identity
            return AuthResult(identity=identity)
        conn.ntlm_pending = None
        return self._fail(f"{scheme}: unexpected NTLM message type {msg_type}")

    # -- Kerberos (Negotiate) ------------------------------------------------------------------

    def _kerberos(self, conn: ConnectionAuth, token: bytes) -> AuthResult:
        if self.kerberos is None:
            return self._fail("Negotiate: a Kerberos/SPNEGO token, but this server has no keytab")
        bindings = conn.tls_end_point if self.extended_protection else None
        principal, answer, reason = self.kerberos.accept(token, bindings)
        if principal is None:
            return self._fail(f"Negotiate: {reason}")
        user = self._kerberos_user(principal)
        if user is None:
            return self._fail(f"Negotiate: Kerberos principal {principal!r} is not a user of this server")
        identity = Identity("Kerberos", user=user)
        conn.ntlm_identity = identity
        headers = [("WWW-Authenticate", "Negotiate " + base64.b64encode(answer).decode())] if answer else []
        return AuthResult(identity=identity, response_headers=headers)

    def _kerberos_user(self, principal: str) -> Optional[User]:
        name, _, realm = principal.rpartition("@")
        if not name:
            return None
        user = self.directory.by_upn(f"{name}@{realm.lower()}")
        if user is None and realm.lower() == self.dns_domain.lower() and "/" not in name:
            user = self.directory.find_login(name)
        return user

    def _ntlm_challenge(self, token: bytes) -> Tuple[bytes, bytes]:
        negotiate = Negotiate.unpack(token)
        flags = (negotiate.flags | NegotiateFlags.request_target | NegotiateFlags.ntlm
                 | NegotiateFlags.always_sign | NegotiateFlags.target_info | NegotiateFlags.target_type_domain)
        if flags & NegotiateFlags.unicode:
            flags &= ~NegotiateFlags.oem
        if flags & NegotiateFlags.extended_session_security:
            flags &= ~NegotiateFlags.lm_key
        server_challenge = os.urandom(8)
        info = TargetInfo()
        info[AvId.nb_domain_name] = self.netbios_domain
        info[AvId.nb_computer_name] = self.computer_name
        info[AvId.dns_domain_name] = self.dns_domain
        info[AvId.dns_computer_name] = f"{self.computer_name.lower()}.{self.dns_domain}"
        info[AvId.dns_tree_name] = self.dns_domain
        info[AvId.timestamp] = FileTime.now()
        version = NtlmVersion(10, 0, 17763) if flags & NegotiateFlags.version else None
        challenge = Challenge(flags, server_challenge, target_name=self.netbios_domain, target_info=info,
                              version=version)
        return challenge.pack(), server_challenge

    def _ntlm_verify(self, pending: _NtlmPending, token: bytes,
                     tls_end_point: Optional[bytes]) -> Tuple[Optional[User], str]:
        auth = Authenticate.unpack(token)
        user_name = auth.user_name or ""
        domain = auth.domain_name or ""
        if not user_name:
            return None, "anonymous NTLM logon refused"
        nt_response = auth.nt_challenge_response or b""
        if len(nt_response) <= 24:
            return None, f"NTLMv1/LM response from {user_name!r} refused (NTLMv2 only)"
        login = f"{domain}\\{user_name}" if domain else user_name
        user = self.directory.find_login(login)
        if user is None or user.password is None:
            return None, f"unknown user {login!r}"
        if self.is_locked(user):
            return None, f"the account {login!r} is locked out"
        response_key = ntowfv2(user_name, ntowfv1(user.password), domain)
        nt_proof, blob = nt_response[:16], nt_response[16:]
        expected = hmac_md5(response_key, pending.server_challenge + blob)
        if not hmac.compare_digest(expected, nt_proof):
            self._bad_password(user)
            return None, f"bad password for {login!r}"
        self._good_password(user)
        client_info = NTClientChallengeV2.unpack(blob[:-4] if blob.endswith(b"\x00" * 4) else blob).av_pairs

        if self.extended_protection and tls_end_point is not None:
            bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + tls_end_point)
            sent = client_info.get(AvId.channel_bindings)
            if sent != hashlib.md5(bindings.pack()).digest():  # noqa: S324 - NTLM mandates MD5
                return None, f"channel binding mismatch for {login!r} (Extended Protection)"

        flags = client_info.get(AvId.flags, AvFlags(0))
        if flags & AvFlags.mic:
            session_base_key = hmac_md5(response_key, nt_proof)
            if auth.flags & NegotiateFlags.key_exch and auth.encrypted_random_session_key:
                exported = rc4k(session_base_key, auth.encrypted_random_session_key)
            else:
                exported = session_base_key
            sent_mic = auth.mic
            auth.mic = b"\x00" * 16
            mic = hmac_md5(exported, pending.negotiate + pending.challenge + auth.pack())
            if sent_mic is None or not hmac.compare_digest(mic, sent_mic):
                return None, f"bad NTLM MIC from {login!r}"
        return user, ""

    # -- OAuth 2.0 token endpoint ---------------------------------------------------------------

    def authorize(self, client_id: str, user: User, scope: str = "", redirect_uri: Optional[str] = None,
                  code_challenge: Optional[str] = None, code_challenge_method: str = "plain",
                  nonce: Optional[str] = None) -> str:
        """Test-only stand-in for the sign-in page: an authorization code for ``user`` (who consents).

        Raises ValueError (with an OAuth error code first) for an unknown client, a redirect URI the client
        did not register, or scopes it may not have.
        """
        with self._clients_lock:
            client = self._clients.get(client_id)
        if client is None:
            raise ValueError(f"unauthorized_client: application with identifier {client_id!r} was not found")
        if client.redirect_uris and redirect_uri not in client.redirect_uris:
            raise ValueError(f"invalid_request: the redirect URI {redirect_uri!r} is not registered for {client_id!r}")
        if code_challenge_method not in ("plain", "S256"):
            raise ValueError(f"invalid_request: code_challenge_method {code_challenge_method!r} (plain or S256)")
        granted, error = self._delegated_scope(client, scope)
        if error:
            raise ValueError(error)
        return self.tokens.issue_code(client_id, user, granted, redirect_uri, code_challenge, code_challenge_method,
                                      nonce)

    def _delegated_scope(self, client: OAuthClient, scope: str) -> Tuple[str, str]:
        """(granted scope string, '') or ('', error) for a delegated grant's requested scopes."""
        requested = scope.split() or [f"{_EWS_RESOURCE}/{DELEGATED_EWS_SCOPE}"]
        granted: List[str] = []
        for s in requested:
            name = s.rsplit("/", 1)[-1]
            if name == ".default":
                granted.extend(f"{_EWS_RESOURCE}/{d}" for d in client.delegated_scopes)
            elif name in _OIDC_SCOPES:
                granted.append(name)
            elif name in client.delegated_scopes:
                granted.append(f"{_EWS_RESOURCE}/{name}")
            else:
                return "", (f"invalid_grant: AADSTS65001: The user or administrator has not consented to use the "
                            f"application with ID {client.client_id!r} for the permission {name!r}.")
        return " ".join(dict.fromkeys(granted)), ""

    def token_endpoint(self, form: Dict[str, str], authorization: Optional[str],
                       audience: str = "") -> Tuple[int, Dict[str, object]]:
        """Answer a token request (``application/x-www-form-urlencoded`` fields) as Microsoft Entra ID does.

        Grants: ``client_credentials`` (scope must end in ``/.default``; the token carries the app's roles),
        ``authorization_code`` (codes from :meth:`authorize`, single use, bound to the redirect URI and an
        optional PKCE challenge), ``password`` (ROPC) and ``refresh_token`` (rotating). Delegated grants
        give a refresh token and the requested scopes the app may have. The app authenticates with its
        secret (form or HTTP Basic), with a client assertion signed by its registered certificate
        (``audience`` is the URL the request was sent to), or not at all if it is a public client (not
        for client credentials). Returns (HTTP status, JSON body).
        """
        client_id = form.get("client_id", "")
        client_secret = form.get("client_secret", "")
        if authorization and authorization.lower().startswith("basic "):
            raw = _b64decode(authorization[6:])
            if raw and b":" in raw:
                cid, _, secret = raw.decode("utf-8", "replace").partition(":")
                client_id, client_secret = client_id or cid, client_secret or secret
        grant = form.get("grant_type", "")
        if grant not in ("client_credentials", "password", "refresh_token", "authorization_code"):
            return 400, _oauth_error("unsupported_grant_type", f"The grant type {grant!r} is not supported.")
        with self._clients_lock:
            client = self._clients.get(client_id)
        if client is None:
            return 400, _oauth_error("unauthorized_client", f"Application with identifier {client_id!r} was not found.")
        assertion = form.get("client_assertion", "")
        if assertion:
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                return 400, _oauth_error("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.")
            if client.certificate is None:
                return 401, _oauth_error("invalid_client", "AADSTS700027: No certificate is registered for the "
                                                           "application.")
            ok, why = self.assertions.verify(assertion, client.certificate, client.client_id, audience)
            if not ok:
                log.info("Token request of %s refused: %s", client.client_id, why)
                return 401, _oauth_error("invalid_client", why)
        elif client_secret:
            if not client.check_secret(client_secret):
                return 401, _oauth_error("invalid_client", "Invalid client secret provided.")
        elif not client.public:
            return 401, _oauth_error("invalid_client", "AADSTS7000218: The request body must contain the following "
                                                       "parameter: 'client_assertion' or 'client_secret'.")
        elif grant == "client_credentials":
            return 401, _oauth_error("invalid_client", "A public client cannot use the client credentials grant.")
        scope = form.get("scope", "").strip()
        if grant == "client_credentials":
            if not scope:
                return 400, _oauth_error("invalid_request", "The request body must contain the 'scope' parameter.")
            if not all(s.endswith("/.default") for s in scope.split()):
                return 400, _oauth_error("invalid_scope", "Client credential flows must have a scope value "
                                                          "with /.default suffixed to the resource identifier.")
            user = None
            if client.user is not None:
                user = self.directory.by_smtp(client.user)
                if user is None:
                    return 400, _oauth_error("invalid_grant",
                                             f"The user {client.user!r} of this client does not exist.")
                scope = f"{scope} {_EWS_RESOURCE}/{DELEGATED_EWS_SCOPE}"
            return 200, self.tokens.issue(client, user, scope, roles=client.roles)
        if grant == "password":
            user = self.directory.authenticate(form.get("username", ""), form.get("password", ""))
            if user is None:
                return 400, _oauth_error("invalid_grant",
                                         "Error validating credentials due to invalid username or password.")
            granted, error = self._delegated_scope(client, scope)
            if error:
                code, _, text = error.partition(": ")
                return 400, _oauth_error(code, text)
            return 200, self._delegated(form, client, user, granted, audience)
        if grant == "authorization_code":
            code_rec = self.tokens.redeem_code(form.get("code", ""))
            if code_rec is None or code_rec.client_id != client.client_id:
                return 400, _oauth_error("invalid_grant", "AADSTS70008: The provided authorization code is invalid, "
                                                          "was already redeemed or has expired.")
            if code_rec.redirect_uri is not None and form.get("redirect_uri") != code_rec.redirect_uri:
                return 400, _oauth_error("invalid_grant", "AADSTS50148: The redirect_uri does not match the one the "
                                                          "authorization code was issued for.")
            if code_rec.code_challenge is not None:
                verifier = form.get("code_verifier", "")
                if code_rec.code_challenge_method == "S256":
                    derived = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                else:
                    derived = verifier
                if not verifier or not hmac.compare_digest(derived, code_rec.code_challenge):
                    return 400, _oauth_error("invalid_grant", "AADSTS50148: The code_verifier does not match the "
                                                              "code_challenge of the authorization request.")
            return 200, self._delegated(form, client, code_rec.user, code_rec.scope, audience, code_rec.nonce)
        rec = self.tokens.redeem_refresh(form.get("refresh_token", ""), client.client_id)
        if rec is None:
            return 400, _oauth_error("invalid_grant", "AADSTS700082: The refresh token is invalid, was revoked or has "
                                                      "expired. The user must sign in again.")
        if scope:
            granted, error = self._delegated_scope(client, scope)
            if error:
                code, _, text = error.partition(": ")
                return 400, _oauth_error(code, text)
        else:
            granted = rec.scope
        assert rec.user is not None
        return 200, self._delegated(form, client, rec.user, granted, audience)

    def _delegated(self, form: Dict[str, str], client: OAuthClient, user: User, scope: str,
                   audience: str, nonce: Optional[str] = None) -> Dict[str, object]:
        """A delegated token response; with ``client_info=1`` (MSAL) the account's ids, with ``openid`` an ID token.

        The ID token is unsigned (``alg: none``): this is a test server, and clients must not trust ID tokens
        for access decisions anyway.
        """
        body = self.tokens.issue(client, user, scope, with_refresh=True)
        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"user:{user.smtp_address}"))
        tid = str(uuid.uuid5(uuid.NAMESPACE_DNS, self.dns_domain))
        if form.get("client_info") == "1":
            body["client_info"] = _b64url(json.dumps({"uid": oid, "utid": tid}).encode())
        if "openid" in _scope_names(scope):
            now = int(time.time())
            issuer = audience.rsplit("/oauth2/", 1)[0] + "/v2.0" if "/oauth2/" in audience else audience
            claims = {"ver": "2.0", "iss": issuer, "aud": client.client_id, "sub": oid, "oid": oid, "tid": tid,
                      "preferred_username": user.smtp_address, "name": user.display_name or user.smtp_address,
                      "iat": now, "nbf": now, "exp": now + int(self.tokens.lifetime)}
            if nonce:
                claims["nonce"] = nonce
            body["id_token"] = (_b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "."
                                + _b64url(json.dumps(claims).encode()) + ".")
        return body


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _scope_names(scope: str) -> List[str]:
    """``https://outlook.office365.com/EWS.AccessAsUser.All offline_access`` -> the permission names."""
    return [s.rsplit("/", 1)[-1] for s in scope.split()]


def _oauth_error(error: str, description: str) -> Dict[str, object]:
    return {"error": error, "error_description": description, "error_codes": [], "timestamp":
            time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())}
