"""LocalExchange: defaults, credentials and ready client objects (uses the client classes)."""
from __future__ import annotations

import pytest
import requests

from exchangelib.account import DELEGATE, IMPERSONATION, Account
from exchangelib.credentials import Credentials, OAuth2ClientCredentials
from exchangelib.testing import LocalExchange
from exchangelib.transport import NTLM, OAUTH2

from .conftest import soap


def test_defaults(local_exchange):
    assert local_exchange.strict  # the XSDs are available in this checkout
    assert [u.primary_smtp_address for u in local_exchange.users] == [
        "john@example.com", "mary@example.com", "ewsadmin@example.com", "room1@example.com"]
    assert local_exchange.users[0].username == "john"
    assert local_exchange.server_version.name == "2016"


def test_credentials_work_over_http(local_exchange, fake_ops):
    creds = local_exchange.credentials("john@example.com")
    assert isinstance(creds, Credentials) and creds.username == "EXAMPLE\\john"
    r = requests.post(local_exchange.url, data=soap(), auth=(creds.username, creds.password), timeout=10)
    assert r.status_code == 200
    with pytest.raises(ValueError, match="without a login"):
        local_exchange.credentials("room1@example.com")
    with pytest.raises(KeyError):
        local_exchange.credentials("ghost@example.com")


def test_account_is_built_lazily_and_cached(local_exchange):
    acc = local_exchange.account("john@example.com")
    assert isinstance(acc, Account)
    assert acc is local_exchange.account("JOHN@example.com")
    assert acc.access_type == DELEGATE
    assert acc.config.service_endpoint == local_exchange.url and acc.config.auth_type == NTLM
    assert acc.config.credentials.username == "EXAMPLE\\john"
    # A mailbox without a login is opened by impersonation from an account that has the right.
    room = local_exchange.account("room1@example.com")
    assert room.access_type == IMPERSONATION and room.config.credentials.username == "EXAMPLE\\ewsadmin"
    # Delegate access by another user.
    delegate = local_exchange.account("john@example.com", login="mary@example.com")
    assert delegate is not acc and delegate.config.credentials.username == "EXAMPLE\\mary"


def test_oauth_credentials_fetch_tokens_from_the_local_token_endpoint(local_exchange, fake_ops):
    creds = local_exchange.oauth_credentials()
    assert isinstance(creds, OAuth2ClientCredentials) and creds.token_url == local_exchange.token_url
    token = creds.access_token
    hdr = ('<t:RequestServerVersion Version="Exchange2016"/><t:ExchangeImpersonation><t:ConnectingSID>'
           '<t:PrimarySmtpAddress>mary@example.com</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>')
    r = requests.post(local_exchange.url, data=soap(headers=hdr), headers={"Authorization": f"Bearer {token}"},
                      timeout=10)
    assert r.status_code == 200
    assert fake_ops.last.caller == "mary@example.com"
    app = local_exchange.account("mary@example.com", auth_type="bearer")
    assert app.access_type == IMPERSONATION and app.config.auth_type == OAUTH2


def test_tls_local_exchange_configures_verification():
    with LocalExchange(tls=True) as server:
        acc = server.account("john@example.com")
        assert acc.config.verify == server.ca_path
        assert server.verify == server.ca_path


def test_account_needs_a_running_server():
    server = LocalExchange()
    with pytest.raises(RuntimeError, match="not running"):
        server.account("john@example.com")
