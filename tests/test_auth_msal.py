"""MSALCredentials: tokens from an MSAL application (``exchangelib[msal]``) against the local server over https.

The local server answers MSAL's OpenID Connect discovery (``/<tenant>/v2.0/.well-known/openid-configuration``)
and its token requests, like Microsoft Entra ID.
"""
from __future__ import annotations

import importlib.util
import os

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
