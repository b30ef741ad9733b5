"""Accounts known to the local EWS server: people who log in, and OAuth applications.

A :class:`User` is an Active Directory account with a mailbox. It logs in with any of the forms
Exchange accepts: ``EXAMPLE\\john`` (down-level logon name), ``john`` (bare sAMAccountName),
``john@example.com`` (UPN) or, as Exchange Online does, the primary SMTP address. Rights are
per user: ``can_impersonate`` (the ApplicationImpersonation role, for some mailboxes or all) and
``delegate_to`` (mailboxes this user may open as a delegate, e.g. via FullAccess permission).

An :class:`OAuthClient` is an app registration for the server's token endpoint: either app-only
(roles such as ``full_access_as_app``) or bound to a user (a delegated token acts as that user).

Like the rest of :mod:`exchangelib.testing`, this module does not import the client's models.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, Iterator, List, Optional, Tuple, Union

__all__ = ["ALL", "User", "OAuthClient", "UserDirectory", "FULL_ACCESS_ROLES", "default_users",
           "default_oauth_clients"]

# Sentinel for "every mailbox" in User.can_impersonate / User.delegate_to.
ALL = "*"

# App roles that give an app-only token the right to impersonate (and open) every mailbox.
FULL_ACCESS_ROLES = frozenset({"full_access_as_app", "EWS.AccessAsApp"})

_RightsArg = Union[str, bool, Iterable[str], None]


def _normalise_rights(value: _RightsArg, owner: str, name: str) -> Union[str, FrozenSet[str]]:
    if value is True or value == ALL:
        return ALL
    if value is None or value is False:
        return frozenset()
    if isinstance(value, str):
        raise TypeError(f"{owner}.{name} must be '*', True or an iterable of SMTP addresses, got the str {value!r}")
    out = set()
    for v in value:
        if not isinstance(v, str) or "@" not in v:
            raise ValueError(f"{owner}.{name} entries must be SMTP addresses, got {v!r}")
        out.add(v.lower())
    if ALL in out:
        return ALL
    return frozenset(out)


def _sid_for(username: str, domain: str) -> str:
    """A stable, realistic-looking account SID derived from the logon name."""
    digest = hashlib.sha256(f"{domain.upper()}\\{username.lower()}".encode()).digest()
    sub = [int.from_bytes(digest[i:i + 4], "little") for i in (0, 4, 8)]
    rid = 1100 + int.from_bytes(digest[12:14], "little")
    return f"S-1-5-21-{sub[0]}-{sub[1]}-{sub[2]}-{rid}"


@dataclass(eq=False)
class User:
    """An account on the local server, with a mailbox.

    ``password=None`` makes a mailbox that cannot log in (a shared or resource mailbox), which
    is still a valid target for impersonation and delegate access.

    ``can_impersonate``: ``'*'``/``True`` for every mailbox, or SMTP addresses of the mailboxes this
    account may impersonate. ``delegate_to``: ``'*'`` or the SMTP addresses of mailboxes this user may
    open without impersonation (delegate / FullAccess).
    """

    username: str
    password: Optional[str]
    primary_smtp_address: str
    display_name: Optional[str] = None
    aliases: Tuple[str, ...] = ()
    domain: str = "EXAMPLE"
    can_impersonate: _RightsArg = ()
    delegate_to: _RightsArg = ()
    upn: Optional[str] = None
    sid: Optional[str] = None

    def __post_init__(self) -> None:
        if not isinstance(self.username, str) or not self.username or any(c in self.username for c in "\\@/:"):
            raise ValueError(f"User.username must be a bare account name like 'john', got {self.username!r}")
        if self.password is not None and not isinstance(self.password, str):
            raise TypeError(f"User.password must be a str or None, got {type(self.password).__name__}")
        if not isinstance(self.primary_smtp_address, str) or self.primary_smtp_address.count("@") != 1:
            raise ValueError(f"User.primary_smtp_address must be an SMTP address, got {self.primary_smtp_address!r}")
        if not isinstance(self.domain, str) or not self.domain or "\\" in self.domain:
            raise ValueError(f"User.domain must be a NetBIOS domain name like 'EXAMPLE', got {self.domain!r}")
        if isinstance(self.aliases, str):
            raise TypeError("User.aliases must be an iterable of SMTP addresses, not a str")
        aliases = tuple(self.aliases)
        for a in aliases:
            if not isinstance(a, str) or a.count("@") != 1:
                raise ValueError(f"User.aliases entries must be SMTP addresses, got {a!r}")
        self.aliases = aliases
        self.primary_smtp_address = self.primary_smtp_address.strip()
        if self.display_name is None:
            self.display_name = self.username.capitalize()
        if self.upn is None:
            self.upn = f"{self.username}@{self.primary_smtp_address.split('@', 1)[1]}"
        if self.sid is None:
            self.sid = _sid_for(self.username, self.domain)
        self.can_impersonate = _normalise_rights(self.can_impersonate, "User", "can_impersonate")
        self.delegate_to = _normalise_rights(self.delegate_to, "User", "delegate_to")

    @property
    def smtp_address(self) -> str:
        """The primary SMTP address, lowercased (the identity used throughout the server)."""
        return self.primary_smtp_address.lower()

    @property
    def logon_name(self) -> str:
        """The down-level logon name, ``DOMAIN\\username`` (what NTLM clients send)."""
        return f"{self.domain}\\{self.username}"

    @property
    def dns_domain(self) -> str:
        return self.upn.split("@", 1)[1] if self.upn else self.primary_smtp_address.split("@", 1)[1]

    def addresses(self) -> Tuple[str, ...]:
        """All SMTP addresses of this mailbox, lowercased: primary first, then aliases."""
        return (self.smtp_address,) + tuple(a.lower() for a in self.aliases)

    def may_impersonate(self, target: "User") -> bool:
        if self.can_impersonate == ALL:
            return True
        return target.smtp_address in self.can_impersonate  # type: ignore[operator]

    def may_open(self, target_smtp: str) -> bool:
        target_smtp = target_smtp.lower()
        if target_smtp in self.addresses():
            return True
        if self.delegate_to == ALL:
            return True
        return target_smtp in self.delegate_to  # type: ignore[operator]

    def check_password(self, password: str) -> bool:
        if self.password is None:
            return False
        return hmac.compare_digest(self.password.encode("utf-8"), password.encode("utf-8"))

    def __repr__(self) -> str:
        return (f"User(username={self.username!r}, primary_smtp_address={self.primary_smtp_address!r}, "
                f"domain={self.domain!r}, password='********')")


@dataclass(eq=False)
class OAuthClient:
    """An app registration for the server's OAuth 2.0 token endpoint.

    ``roles`` are the application permissions of app-only tokens (client-credentials grant):
    ``full_access_as_app`` (or ``EWS.AccessAsApp``) lets the app impersonate every mailbox, as in
    Exchange Online. ``user`` (an SMTP address) makes client-credentials tokens delegated: they act
    as that user instead of as the app. Password, authorization-code and refresh-token grants give
    delegated tokens for the user who signed in, with the requested scopes that are among
    ``delegated_scopes`` (the consented delegated permissions; EWS needs ``EWS.AccessAsUser.All``).

    The app authenticates with ``client_secret``, or with a client assertion signed by the key of
    ``certificate`` (PEM bytes of the certificate uploaded to the app registration). A public client
    (``client_secret=None`` and no certificate) may only use the authorization code, password and
    refresh token grants. ``redirect_uris``, when given, are the only ones the authorize endpoint and
    the authorization-code grant accept.
    """

    client_id: str
    client_secret: Optional[str]
    roles: Tuple[str, ...] = ("full_access_as_app",)
    user: Optional[str] = None
    certificate: Optional[bytes] = None
    delegated_scopes: Tuple[str, ...] = ("EWS.AccessAsUser.All",)
    redirect_uris: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.client_id, str) or not self.client_id:
            raise TypeError("OAuthClient.client_id must be a non-empty str")
        if self.client_secret is not None and (not isinstance(self.client_secret, str) or not self.client_secret):
            raise TypeError("OAuthClient.client_secret must be a non-empty str, or None for a public client or an "
                            "app that authenticates with its certificate")
        if self.certificate is not None and (not isinstance(self.certificate, bytes)
                                             or b"-----BEGIN CERTIFICATE-----" not in self.certificate):
            raise ValueError("OAuthClient.certificate must be the PEM bytes of a certificate")
        for name in ("roles", "delegated_scopes", "redirect_uris"):
            if isinstance(getattr(self, name), str):
                raise TypeError(f"OAuthClient.{name} must be an iterable of str, not a str")
            setattr(self, name, tuple(getattr(self, name)))
        if self.user is not None and (not isinstance(self.user, str) or "@" not in self.user):
            raise ValueError(f"OAuthClient.user must be an SMTP address or None, got {self.user!r}")

    @property
    def full_access(self) -> bool:
        return bool(FULL_ACCESS_ROLES.intersection(self.roles))

    @property
    def public(self) -> bool:
        return self.client_secret is None and self.certificate is None

    def check_secret(self, secret: str) -> bool:
        if self.client_secret is None:
            return False
        return hmac.compare_digest(self.client_secret.encode("utf-8"), secret.encode("utf-8"))

    def __repr__(self) -> str:
        auth = ("client_secret='********'" if self.client_secret is not None
                else "certificate=..." if self.certificate is not None else "public client")
        return f"OAuthClient(client_id={self.client_id!r}, roles={self.roles!r}, user={self.user!r}, {auth})"


class UserDirectory:
    """A thread-safe lookup of users by logon name, SMTP address, UPN and SID."""

    def __init__(self, users: Iterable[User] = ()):
        self._lock = threading.RLock()
        self._users: List[User] = []
        self._by_smtp: Dict[str, User] = {}
        for u in users:
            self.add(u)

    def add(self, user: User) -> User:
        if not isinstance(user, User):
            raise TypeError(f"UserDirectory.add() expects a User, got {type(user).__name__}")
        with self._lock:
            for addr in user.addresses():
                if addr in self._by_smtp:
                    raise ValueError(f"SMTP address {addr!r} already belongs to {self._by_smtp[addr].username!r}")
            for other in self._users:
                if other.username.lower() == user.username.lower() and other.domain.lower() == user.domain.lower():
                    raise ValueError(f"Logon name {user.logon_name!r} already exists")
            self._users.append(user)
            for addr in user.addresses():
                self._by_smtp[addr] = user
        return user

    def __iter__(self) -> Iterator[User]:
        with self._lock:
            return iter(list(self._users))

    def __len__(self) -> int:
        return len(self._users)

    def __contains__(self, smtp_address: object) -> bool:
        return isinstance(smtp_address, str) and smtp_address.lower() in self._by_smtp

    def __getitem__(self, key: Union[int, str]) -> User:
        """``directory[0]`` (in the order added) or ``directory['john@example.com']``."""
        if isinstance(key, int):
            with self._lock:
                return self._users[key]
        user = self.by_smtp(key)
        if user is None:
            raise KeyError(key)
        return user

    def by_smtp(self, address: str, primary_only: bool = False) -> Optional[User]:
        """The user owning this SMTP address (primary or alias), case-insensitive."""
        user = self._by_smtp.get(address.strip().lower())
        if user is not None and primary_only and user.smtp_address != address.strip().lower():
            return None
        return user

    def by_upn(self, upn: str) -> Optional[User]:
        upn = upn.strip().lower()
        with self._lock:
            for u in self._users:
                if u.upn and u.upn.lower() == upn:
                    return u
        return None

    def by_sid(self, sid: str) -> Optional[User]:
        sid = sid.strip().upper()
        with self._lock:
            for u in self._users:
                if u.sid and u.sid.upper() == sid:
                    return u
        return None

    def find_login(self, login: str) -> Optional[User]:
        """Resolve a logon name as Exchange does: ``DOMAIN\\user``, ``user``, UPN or primary SMTP address."""
        if not isinstance(login, str) or not login.strip():
            return None
        login = login.strip()
        with self._lock:
            if "\\" in login:
                domain, _, name = login.partition("\\")
                domain = domain.lower()
                for u in self._users:
                    if u.username.lower() == name.lower() and domain in (u.domain.lower(), u.dns_domain.lower()):
                        return u
                return None
            if "@" in login:
                return self.by_upn(login) or self.by_smtp(login, primary_only=True)
            matches = [u for u in self._users if u.username.lower() == login.lower()]
            return matches[0] if len(matches) == 1 else None

    def authenticate(self, login: str, password: str) -> Optional[User]:
        """The user if the logon name resolves and the password matches, else None."""
        user = self.find_login(login)
        if user is None or not user.check_password(password):
            return None
        return user


def default_users() -> Tuple[User, ...]:
    """The accounts ``LocalExchange`` and ``python -m exchangelib.testing serve`` start with."""
    return (
        User("john", "Exchange-john-1", "john@example.com", "John Doe", aliases=("j.doe@example.com",)),
        User("mary", "Exchange-mary-1", "mary@example.com", "Mary Major", delegate_to=("john@example.com",)),
        User("ewsadmin", "Exchange-admin-1", "ewsadmin@example.com", "EWS Service Account", can_impersonate=ALL),
        User("room1", None, "room1@example.com", "Conference Room 1"),
    )


def default_oauth_clients() -> Tuple[OAuthClient, ...]:
    """An app-only client with ``full_access_as_app``, as registered in Azure AD for Exchange Online."""
    return (OAuthClient("local-app", "local-app-secret", roles=("full_access_as_app",)),)
