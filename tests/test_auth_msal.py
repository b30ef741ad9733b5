"""MSALCredentials: tokens from an MSAL application (``exchangelib[msal]``) against the local server over https.

The local server answers MSAL's OpenID Connect discovery (``/<tenant>/v2.0/.well-known/openid-configuration``)
and its token requests, like Microsoft Entra ID.
"""
from __future__ import annotations

import importlib.util
import os
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from exchangelib import IMPERSONATION, Account, Configuration, MSALCredentials
from exchangelib.errors import OAuth2TokenError

JOHN = "john@example.com"


@pytest.fixture
def msal():
    if importlib.util.find_spec("msal") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("msal must be installed on CI: pip install 'exchangelib[msal]'")
        pytest.skip("msal is not installed: pip install 'exchangelib[msal]'")
    import msal

    return msal


def msal_app(msal, server, secret: str = "local-app-secret"):
    http = requests.Session()
    http.verify, http.trust_env = server.ca_path, False  # trust_env: $REQUESTS_CA_BUNDLE would win over verify
    return msal.ConfidentialClientApplication("local-app", client_credential=secret,
                                              authority=f"{server.base_url}/local-tenant", validate_authority=False,
                                              instance_discovery=False, http_client=http)


def test_app_only_tokens_from_msal_and_its_cache(msal, make_exchange):
    server = make_exchange(tls=True, auth=("bearer",))
    creds = MSALCredentials(msal_app(msal, server))
    account = Account(JOHN, config=Configuration(service_endpoint=server.url, credentials=creds,
                                                 verify=server.ca_path), access_type=IMPERSONATION)
    assert account.inbox.name == "Inbox"
    assert account.inbox.all().count() == 0
    assert server.token_requests == 1  # the token is reused
    server.expire_tokens()  # rejected by the server: MSAL's cached token is dropped and a new one fetched once
    assert account.inbox.all().count() == 0
    assert server.token_requests == 2
    assert "local-app-secret" not in repr(creds)


def test_msal_errors_are_reported_as_token_errors(msal, make_exchange):
    server = make_exchange(tls=True, auth=("bearer",))
    creds = MSALCredentials(msal_app(msal, server, secret="Wrong-secret-3"))
    with pytest.raises(OAuth2TokenError) as e:
        Account(JOHN, config=Configuration(service_endpoint=server.url, credentials=creds, verify=server.ca_path),
                access_type=IMPERSONATION).inbox  # noqa: B018
    assert e.value.error == "invalid_client" and "Wrong-secret-3" not in str(e.value)


# The test-only authorize endpoint answers with a query-string redirect, not a form post
@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_delegated_tokens_from_msals_cache_with_refresh(msal, make_exchange):
    from exchangelib import DELEGATE

    server = make_exchange(tls=True, auth=("bearer",))
    app = msal_app(msal, server)
    # MSAL's auth code flow: the user signs in at the authorize URL (the local server's test sign-in takes the
    # login_hint), the redirect URI receives code and state; MSAL checks state, PKCE and the ID token's nonce.
    flow = app.initiate_auth_code_flow(["https://outlook.office365.com/EWS.AccessAsUser.All"],
                                       redirect_uri="https://app.example.com/signin", login_hint=JOHN)
    redirect = requests.get(flow["auth_uri"], allow_redirects=False, timeout=10, verify=server.ca_path)
    assert redirect.status_code == 302
    auth_response = {k: v[0] for k, v in parse_qs(urlsplit(redirect.headers["Location"]).query).items()}
    signed_in = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert "access_token" in signed_in, signed_in.get("error_description")
    (user,) = app.get_accounts(username=JOHN)  # MSAL built the account from client_info and the ID token
    creds = MSALCredentials(app, account=user)
    account = Account(JOHN, config=Configuration(service_endpoint=server.url, credentials=creds,
                                                 verify=server.ca_path), access_type=DELEGATE)
    assert account.inbox.name == "Inbox"
    assert server.token_requests == 1  # the token MSAL cached at sign-in
    server.expire_tokens()  # rejected: MSAL renews it with the refresh token in its cache, once
    assert account.inbox.all().count() == 0
    assert server.token_requests == 2


# The test-only authorize endpoint answers with a query-string redirect, not a form post
@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_o365_interactive_configuration_signs_in_then_reuses_msals_cache(msal, make_exchange):
    """exchangelib 5.x's O365InteractiveConfiguration: MSAL's interactive sign-in, with the local server's
    test sign-in page standing in for the browser (the user named by login_hint signs in and consents)."""
    from exchangelib import DELEGATE, O365InteractiveConfiguration
    from exchangelib.testing.users import OAuthClient, default_oauth_clients

    server = make_exchange(tls=True, auth=("bearer",), oauth_clients=[
        *default_oauth_clients(), OAuthClient("local-public-app", None, roles=(), redirect_uris=("http://localhost",))])
    http = requests.Session()
    http.verify, http.trust_env = server.ca_path, False
    signed_in = []

    class BrowserlessApp(msal.PublicClientApplication):
        def acquire_token_interactive(self, scopes, login_hint=None, **kwargs):
            flow = self.initiate_auth_code_flow(scopes, redirect_uri="http://localhost", login_hint=login_hint)
            redirect = http.get(flow["auth_uri"], allow_redirects=False, timeout=10)
            auth_response = {k: v[0] for k, v in parse_qs(urlsplit(redirect.headers["Location"]).query).items()}
            signed_in.append(login_hint)
            return self.acquire_token_by_auth_code_flow(flow, auth_response)

    app = BrowserlessApp("local-public-app", authority=f"{server.base_url}/local-tenant", validate_authority=False,
                         instance_discovery=False, http_client=http)
    config = O365InteractiveConfiguration(client_id="local-public-app", username=JOHN, app=app,
                                          service_endpoint=server.url, verify=server.ca_path)
    account = Account(JOHN, config=config, access_type=DELEGATE, autodiscover=False)
    assert account.inbox.all().count() == 0 and signed_in == [JOHN]
    # A second configuration finds the user in MSAL's cache: no second sign-in
    O365InteractiveConfiguration(client_id="local-public-app", username=JOHN, app=app,
                                 service_endpoint=server.url, verify=server.ca_path)
    assert signed_in == [JOHN]
    assert O365InteractiveConfiguration.SERVER == "outlook.office365.com"
    with pytest.raises(ValueError, match="the user's address"):
        O365InteractiveConfiguration(client_id="x", username="john")
