"""Configuration: where the EWS endpoint is and how to talk to it."""
from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlsplit

from .credentials import EWS_RESOURCE, BaseCredentials, Credentials, MSALCredentials
from .errors import UnauthorizedError
from .retry import RetryPolicy
from .transport import AUTH_TYPES, OAUTH2, check_endpoint_url
from .version import Build, Version


class Configuration:
    """Connection settings for an :class:`~exchangelib.account.Account` when not using autodiscover.

    Give either ``server`` (a host name; the endpoint becomes ``https://<server>/EWS/Exchange.asmx``) or
    ``service_endpoint`` (a full URL). ``auth_type`` and ``version`` are detected from the server when
    omitted. ``username``/``password`` is an older shorthand for ``credentials=Credentials(...)``.

    ``verify`` is passed to requests: ``True`` (default), ``False`` (don't!), or a CA bundle path.
    ``allow_insecure_basic`` lets auth-type detection choose Basic over plain http.
    """

    def __init__(self, credentials: Optional[BaseCredentials] = None, server: Optional[str] = None,
                 service_endpoint: Optional[str] = None, auth_type: Optional[str] = None,
                 version: Optional[Version] = None, retry_policy: Optional[RetryPolicy] = None,
                 max_connections: Optional[int] = None, username: Optional[str] = None,
                 password: Optional[str] = None, verify: Any = True, allow_insecure_basic: bool = False):
        if username is not None or password is not None:
            if credentials is not None:
                raise ValueError("Configuration: pass either credentials or username/password, not both")
            if username is None or password is None:
                raise ValueError("Configuration: username and password must be given together")
            credentials = Credentials(username=username, password=password)
        if credentials is not None and not isinstance(credentials, BaseCredentials):
            raise TypeError(f"Configuration.credentials must be a Credentials instance, got {type(credentials).__name__}")
        if server and service_endpoint:
            raise ValueError("Configuration: pass either server or service_endpoint, not both")
        if server is not None:
            if not isinstance(server, str) or not server or "/" in server:
                raise ValueError(f"Configuration.server must be a host name like 'mail.example.com', got {server!r}")
            service_endpoint = f"https://{server}/EWS/Exchange.asmx"
        if service_endpoint is not None:
            check_endpoint_url(service_endpoint, "Configuration.service_endpoint")
        if auth_type is not None and auth_type not in AUTH_TYPES:
            raise ValueError(f"Configuration.auth_type {auth_type!r} is not one of {AUTH_TYPES}")
        if version is not None and not isinstance(version, Version):
            if isinstance(version, Build):
                version = Version(build=version)
            else:
                raise TypeError(f"Configuration.version must be a Version, got {type(version).__name__}")
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise TypeError(f"Configuration.retry_policy must be a RetryPolicy, got {type(retry_policy).__name__}")
        if max_connections is not None and (not isinstance(max_connections, int) or max_connections < 1):
            raise ValueError(f"Configuration.max_connections must be a positive int, got {max_connections!r}")
        self.credentials = credentials
        self.service_endpoint = service_endpoint
        self.auth_type = auth_type
        self.version = version
        self.retry_policy = retry_policy or (credentials.default_retry_policy() if credentials else None)
        self.max_connections = max_connections
        self.verify = verify
        self.allow_insecure_basic = allow_insecure_basic

    @property
    def server(self) -> Optional[str]:
        return urlsplit(self.service_endpoint).hostname if self.service_endpoint else None

    def __repr__(self) -> str:
        return (f"Configuration(service_endpoint={self.service_endpoint!r}, auth_type={self.auth_type!r}, "
                f"version={self.version!r}, credentials={self.credentials!r}, max_connections={self.max_connections})")


class O365InteractiveConfiguration(Configuration):
    """Exchange Online for a signed-in user: an interactive Microsoft sign-in through MSAL (delegated OAuth).

    ``O365InteractiveConfiguration(client_id=..., username="john@example.com")`` (exchangelib 5.x's
    name) uses MSAL's ``PublicClientApplication`` (``pip install exchangelib[msal]``): a token from MSAL's
    cache for ``username`` if it has one, else MSAL's interactive sign-in in the browser (it needs a
    "Mobile and desktop" redirect URI ``http://localhost`` on the app registration and the delegated
    ``EWS.AccessAsUser.All`` permission). MSAL then keeps the token fresh with its refresh token.
    ``app`` is an MSAL application of your own (another authority, a persistent token cache);
    ``server`` / ``service_endpoint`` default to Exchange Online's; other arguments are Configuration's.

    https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth
    """

    SERVER = "outlook.office365.com"
    AUTHORITY = "https://login.microsoftonline.com/organizations"
    SCOPES = (f"{EWS_RESOURCE}/EWS.AccessAsUser.All",)

    def __init__(self, client_id: str, username: str, app: Any = None, authority: Optional[str] = None,
                 **kwargs: Any):
        if not isinstance(username, str) or "@" not in username:
            raise ValueError(f"O365InteractiveConfiguration.username must be the user's address, got {username!r}")
        if app is None:
            if not isinstance(client_id, str) or not client_id:
                raise ValueError("O365InteractiveConfiguration needs the app registration's client_id")
            try:
                import msal  # noqa: PLC0415 - the optional extra, loaded only here
            except ImportError:
                raise ImportError("O365InteractiveConfiguration needs MSAL: pip install 'exchangelib[msal]'") from None
            app = msal.PublicClientApplication(client_id, authority=authority or self.AUTHORITY)
        scopes = list(self.SCOPES)
        accounts = app.get_accounts(username=username)
        result = app.acquire_token_silent(scopes, account=accounts[0]) if accounts else None
        if not result or "access_token" not in result:
            result = app.acquire_token_interactive(scopes, login_hint=username)
        if not result or "access_token" not in result:
            raise UnauthorizedError(f"Interactive sign-in of {username} failed: "
                                    f"{(result or {}).get('error', 'no token')}: "
                                    f"{(result or {}).get('error_description', '')}".rstrip(": "))
        accounts = app.get_accounts(username=username)
        if not accounts:
            raise UnauthorizedError(f"MSAL signed in, but has no account for {username} in its cache")
        credentials = MSALCredentials(app, scopes=scopes, account=accounts[0], identity=username)
        if "server" not in kwargs and "service_endpoint" not in kwargs:
            kwargs["server"] = self.SERVER
        kwargs.setdefault("auth_type", OAUTH2)
        super().__init__(credentials=credentials, **kwargs)
