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
