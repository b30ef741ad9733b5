"""``LocalExchange``: the local EWS server with sensible defaults and ready-made client accounts.

Test your own code without an Exchange server, as moto does for AWS::

    from exchangelib.testing import LocalExchange

    with LocalExchange(version="2016") as server:
        account = server.account("john@example.com")     # a ready exchangelib Account (NTLM)
        account.inbox.all().count()
        print(server.url, server.users[0].password)

Default accounts (see :func:`exchangelib.testing.users.default_users`): ``john@example.com``,
``mary@example.com`` (may open John's mailbox as a delegate), ``ewsadmin@example.com`` (may
impersonate everyone) and ``room1@example.com`` (a mailbox without a login). The OAuth app
``local-app`` / ``local-app-secret`` has ``full_access_as_app``.

This module imports the client (Account, Configuration, Credentials); the server itself
(:mod:`exchangelib.testing.server`) does not.
"""
from __future__ import annotations

import threading
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

from ..account import DELEGATE, IMPERSONATION, Account
from ..configuration import Configuration
from ..credentials import Credentials, OAuth2ClientCredentials
from ..transport import BASIC, GSSAPI, NTLM, OAUTH2
from .directory import DistributionList, MailboxSettings, RoomList
from .server import EWSServer
from .users import OAuthClient, User, default_oauth_clients, default_users

__all__ = ["LocalExchange"]

_AUTH_TYPES = {"ntlm": NTLM, "basic": BASIC, "bearer": OAUTH2, "kerberos": GSSAPI, "negotiate": GSSAPI}


class LocalExchange(EWSServer):
    """A started-on-demand local EWS server with default users and client helpers.

    Same parameters as :class:`~exchangelib.testing.server.EWSServer`; ``users=None`` and
    ``oauth_clients=None`` mean the defaults, and ``strict=None`` means strict schema validation
    against the EWS XSDs shipped with the package (``EWS_SCHEMA_DIR`` overrides them).

    The directory (see :mod:`exchangelib.testing.directory`): ``room_lists`` (:class:`RoomList`
    objects; with the default users, ``None`` means one list ``rooms@example.com`` holding
    ``room1@example.com``), ``distribution_lists`` (:class:`DistributionList` objects) and
    ``mailbox_settings`` (address -> :class:`MailboxSettings`: time zone, working hours, free/busy
    sharing, quota, maximum message size).
    """

    def __init__(self, users: Optional[Iterable[User]] = None, version: Any = "2016", strict: Optional[bool] = None,
                 tls: bool = False, auth: Sequence[str] = ("ntlm", "basic", "bearer"),
                 oauth_clients: Optional[Iterable[OAuthClient]] = None,
                 room_lists: Optional[Iterable[RoomList]] = None,
                 distribution_lists: Iterable[DistributionList] = (),
                 mailbox_settings: Optional[Dict[str, MailboxSettings]] = None, **kwargs: Any):
        super().__init__(list(default_users() if users is None else users), version=version, strict=strict, tls=tls,
                         auth=auth, oauth_clients=default_oauth_clients() if oauth_clients is None else oauth_clients,
                         **kwargs)
        if room_lists is None:
            room_lists = [RoomList("rooms@example.com", "All rooms", ["room1@example.com"])] if users is None else []
        for rl in room_lists:
            self.directory.add_room_list(rl)
        for dl in distribution_lists:
            self.directory.add_distribution_list(dl)
        for address, settings in (mailbox_settings or {}).items():
            self.directory.configure(address, settings)
        self._accounts: Dict[Tuple, Account] = {}
        self._accounts_lock = threading.Lock()

    @property
    def verify(self) -> Any:
        """What clients pass as ``verify``: the CA file over TLS, else True."""
        return self.ca_path or True

    def credentials(self, address_or_login: str) -> Credentials:
        """Client credentials (``DOMAIN\\username`` and password) for a user."""
        user = self.user(address_or_login)
        if user.password is None:
            raise ValueError(f"{user.primary_smtp_address} is a mailbox without a login; use another account with "
                             f"delegate or impersonation rights to open it")
        return Credentials(username=user.logon_name, password=user.password)

    def oauth_credentials(self, client_id: str = "local-app") -> OAuth2ClientCredentials:
        """Client-credentials OAuth for an app registered on this server (fetches tokens from :attr:`token_url`)."""
        client = {c.client_id: c for c in self.authenticator.clients}.get(client_id)
        if client is None:
            raise KeyError(f"No OAuth client {client_id!r} on this server")
        if client.client_secret is None:
            raise ValueError(f"OAuth client {client_id!r} has no client secret: use OAuth2Credentials with its "
                             f"client_certificate, or OAuth2AuthorizationCodeCredentials for a public client")
        return OAuth2ClientCredentials(client_id=client.client_id, client_secret=client.client_secret,
                                       token_url=self.token_url, verify=self.verify)

    def config(self, login: Optional[str] = None, auth_type: Optional[str] = None,
               client_id: str = "local-app") -> Configuration:
        """A client Configuration for this server: ``login``'s password over ``auth_type`` (default NTLM),
        or OAuth client credentials when ``auth_type`` is ``'bearer'``/OAUTH2."""
        auth = _AUTH_TYPES.get(auth_type.lower(), auth_type) if isinstance(auth_type, str) else auth_type
        if auth is None:
            auth = NTLM if "ntlm" in self.authenticator.schemes else (
                BASIC if "basic" in self.authenticator.schemes else OAUTH2)
        if auth == OAUTH2:
            creds: Any = self.oauth_credentials(client_id)
        else:
            if login is None:
                raise ValueError("config() needs login= for password authentication")
            creds = self.credentials(login)
        return Configuration(service_endpoint=self.url, credentials=creds, auth_type=auth, verify=self.verify)

    def account(self, primary_smtp_address: str, access_type: Optional[str] = None, login: Optional[str] = None,
                auth_type: Optional[str] = None) -> Account:
        """A client Account for a mailbox on this server (built on first use, then cached).

        By default the mailbox owner logs in (DELEGATE access to their own mailbox). ``login`` names
        another user (delegate access, or IMPERSONATION with ``access_type=IMPERSONATION``). A mailbox
        without a login, or ``auth_type='bearer'`` (app-only OAuth), uses impersonation by an account
        with that right.
        """
        if not self.running:
            raise RuntimeError("LocalExchange is not running: use it as a context manager or call start()")
        target = self.user(primary_smtp_address)
        auth = _AUTH_TYPES.get(auth_type.lower(), auth_type) if isinstance(auth_type, str) else auth_type
        if auth == OAUTH2:
            access_type = IMPERSONATION
        elif login is None:
            if target.password is not None:
                login = target.primary_smtp_address
            else:
                admins = [u for u in self.users if u.password is not None and u.may_impersonate(target)]
                if not admins:
                    raise ValueError(f"{target.primary_smtp_address} has no login and no user may impersonate it")
                login = admins[0].primary_smtp_address
                access_type = access_type or IMPERSONATION
        access_type = access_type or DELEGATE
        key = (target.smtp_address, access_type, login and self.user(login).smtp_address, auth)
        with self._accounts_lock:
            acc = self._accounts.get(key)
            if acc is None:
                acc = Account(primary_smtp_address=target.primary_smtp_address,
                              config=self.config(login=login, auth_type=auth), autodiscover=False,
                              access_type=access_type)
                self._accounts[key] = acc
        return acc

    def stop(self) -> None:
        with self._accounts_lock:
            accounts, self._accounts = list(self._accounts.values()), {}
        for acc in accounts:
            protocol = getattr(acc, "protocol", None)
            if protocol is not None and hasattr(protocol, "close"):
                protocol.close()
        super().stop()

    def __enter__(self) -> "LocalExchange":
        self.start()
        return self
