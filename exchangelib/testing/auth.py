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
- ``Negotiate`` is accepted only when it carries raw NTLMSSP tokens; Kerberos cannot work
  against a server without a KDC, so ``negotiate`` is off unless asked for.
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
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from spnego._ntlm_raw.crypto import hmac_md5, ntowfv1, ntowfv2, rc4k
from spnego._ntlm_raw.messages import (AvFlags, AvId, Authenticate, Challenge, FileTime, Negotiate, NegotiateFlags,
                                       NTClientChallengeV2, TargetInfo)
from spnego._ntlm_raw.messages import Version as NtlmVersion
from spnego.channel_bindings import GssChannelBindings

from .users import OAuthClient, User, UserDirectory

log = logging.getLogger(__name__)

__all__ = ["SCHEMES", "Identity", "ConnectionAuth", "AuthResult", "Authenticator", "TokenStore"]

SCHEMES = ("negotiate", "ntlm", "digest", "basic", "bearer")
_NTLMSSP = b"NTLMSSP\x00"
# Exchange Online's resource id for EWS, sent in its Bearer challenges.
_EXCHANGE_RESOURCE = "00000002-0000-0ff1-ce00-000000000000"
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


@dataclass
class _Token:
    client: Optional[OAuthClient]
    user: Optional[User]
    expires_at: float
    scope: str


class TokenStore:
    """Issued access and refresh tokens. Tokens are opaque random strings."""

    def __init__(self, lifetime: float = 3600.0):
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._access: Dict[str, _Token] = {}
        self._refresh: Dict[str, _Token] = {}

    def issue(self, client: Optional[OAuthClient], user: Optional[User], scope: str,
              with_refresh: bool = False) -> Dict[str, object]:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        lifetime = self.lifetime
        with self._lock:
            self._purge(now)
            self._access[token] = _Token(client, user, now + lifetime, scope)
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
            rec = self._refresh.pop(refresh, None)
        if rec is None or time.monotonic() >= rec.expires_at:
            return None
        if rec.client is not None and rec.client.client_id != client_id:
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
                 extended_protection: bool = False, lockout_threshold: Optional[int] = None,
                 lockout_duration: float = 1800.0):
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
        self._clients: Dict[str, OAuthClient] = {}
        self._clients_lock = threading.Lock()
        for c in oauth_clients:
            self.add_client(c)
        self.netbios_domain = netbios_domain
        self.dns_domain = dns_domain
        self.computer_name = computer_name
        self.extended_protection = extended_protection
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
        if token is None or not token.startswith(_NTLMSSP) or len(token) < 12:
            conn.ntlm_pending = None
            # SPNEGO/Kerberos tokens cannot be served without a KDC.
            return self._fail(f"{scheme}: not a raw NTLMSSP token (Kerberos/SPNEGO is not supported)")
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

    def token_endpoint(self, form: Dict[str, str], authorization: Optional[str]) -> Tuple[int, Dict[str, object]]:
        """Answer a token request (``application/x-www-form-urlencoded`` fields) as Azure AD v2 does.

        Grants: ``client_credentials`` (scope must end in ``/.default``), ``password`` (ROPC, gives a
        delegated token and a refresh token) and ``refresh_token``. Client credentials may come in the
        form or as HTTP Basic. Returns (HTTP status, JSON body).
        """
        client_id = form.get("client_id", "")
        client_secret = form.get("client_secret", "")
        if authorization and authorization.lower().startswith("basic "):
            raw = _b64decode(authorization[6:])
            if raw and b":" in raw:
                cid, _, secret = raw.decode("utf-8", "replace").partition(":")
                client_id, client_secret = client_id or cid, client_secret or secret
        grant = form.get("grant_type", "")
        if grant not in ("client_credentials", "password", "refresh_token"):
            return 400, _oauth_error("unsupported_grant_type", f"The grant type {grant!r} is not supported.")
        with self._clients_lock:
            client = self._clients.get(client_id)
        if client is None:
            return 400, _oauth_error("unauthorized_client", f"Application with identifier {client_id!r} was not found.")
        if not client.check_secret(client_secret):
            return 401, _oauth_error("invalid_client", "Invalid client secret provided.")
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
            return 200, self.tokens.issue(client, user, scope)
        if grant == "password":
            user = self.directory.authenticate(form.get("username", ""), form.get("password", ""))
            if user is None:
                return 400, _oauth_error("invalid_grant",
                                         "Error validating credentials due to invalid username or password.")
            return 200, self.tokens.issue(client, user, scope or "EWS.AccessAsUser.All", with_refresh=True)
        rec = self.tokens.redeem_refresh(form.get("refresh_token", ""), client.client_id)
        if rec is None:
            return 400, _oauth_error("invalid_grant", "The refresh token is invalid or expired.")
        return 200, self.tokens.issue(client, rec.user, scope or rec.scope, with_refresh=True)


def _oauth_error(error: str, description: str) -> Dict[str, object]:
    return {"error": error, "error_description": description, "error_codes": [], "timestamp":
            time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())}
