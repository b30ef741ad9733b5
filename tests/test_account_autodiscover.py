"""Seed 002's ``Account(..., autodiscover=True)``: alias addresses resolve to the primary, results are cached."""
from __future__ import annotations

import pytest

from exchangelib import DELEGATE, Account, Credentials
from exchangelib.autodiscover import discovery as discovery_module
from exchangelib.errors import AutoDiscoverFailed
from exchangelib.protocol import BaseProtocol, Protocol
from exchangelib.testing.autodiscover import AutodiscoverSettings
from exchangelib.testing.server import EWSServer
from exchangelib.testing.users import default_users

from .test_autodiscover import JOHN, World, pki  # noqa: F401 - fixtures reused


@pytest.fixture
def strict_world(pki, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("EXCHANGELIB_CACHE_DIR", str(tmp_path / "cache"))
    discovery_module.set_default_cache(None)
    with EWSServer(default_users(), strict=None, validate_responses=True) as server:
        w = World(server, pki, tmp_path)
        w.serve("example.com", settings=AutodiscoverSettings())
        w.hosts.add(f"127.0.0.1:{server.port}", ("127.0.0.1", server.port))  # the EWS endpoint itself
        # Route every connection through the test host map; trust the test CA for verify=True.
        monkeypatch.setattr(BaseProtocol, "HTTP_ADAPTER_CLS", w.hosts.adapter_class())
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki["ca"])
        yield w
        w.close()
        Protocol.clear_cache()
        server.assert_clean()
    discovery_module.set_default_cache(None)


def test_alias_address_resolves_to_primary_and_opens_the_mailbox(strict_world):
    account = Account(primary_smtp_address="j.doe@example.com", credentials=JOHN, autodiscover=True,
                      access_type=DELEGATE)
    assert account.primary_smtp_address == "john@example.com"
    assert account.protocol.service_endpoint == strict_world.ews.url
    assert account.inbox.name == "Inbox"
    # The seed's way to cache the result by hand:
    assert account.protocol.auth_type == "NTLM"


def test_second_account_uses_the_cached_result(strict_world):
    Account(primary_smtp_address="john@example.com", credentials=JOHN, autodiscover=True)
    before = len(strict_world.all_requests())
    again = Account(primary_smtp_address="john@example.com", credentials=JOHN, autodiscover=True)
    assert len(strict_world.all_requests()) == before  # no autodiscover request the second time
    assert again.inbox.name == "Inbox"


def test_wrong_password_fails_discovery_clearly(strict_world):
    with pytest.raises(AutoDiscoverFailed) as e:
        Account(primary_smtp_address="john@example.com", credentials=Credentials("EXAMPLE\\john", "wrong-pw"),
                autodiscover=True)
    assert "wrong-pw" not in str(e.value)
