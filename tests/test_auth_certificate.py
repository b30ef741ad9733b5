"""TLS client certificates (Certificate Based Authentication, ``auth_type=CBA``) against the local server over https.

https://learn.microsoft.com/en-us/exchange/architecture/client-access/certificate-based-authentication
"""
from __future__ import annotations

import pytest

from exchangelib import CBA, DELEGATE, Account, BaseProtocol, Configuration, TLSClientAuth
from exchangelib.errors import TransportError, UnauthorizedError
from exchangelib.protocol import Protocol

JOHN, MARY = "john@example.com", "mary@example.com"


def cert_adapter(cert: str, key: str, password: str = None) -> type:
    """A TLSClientAuth subclass for one certificate (several can be used in one process)."""
    return type("JohnCert", (TLSClientAuth,), {"cert_file": cert, "key_file": key, "key_password": password})


def cba_account(server, address: str = JOHN) -> Account:
    config = Configuration(service_endpoint=server.url, auth_type=CBA, verify=server.ca_path)
    return Account(address, config=config, access_type=DELEGATE)


def test_client_certificate_logs_in_its_user(make_exchange, tmp_path):
    server = make_exchange(tls=True, client_certificates="required")
    cert, key = server.issue_client_certificate(JOHN, directory=str(tmp_path))
    BaseProtocol.HTTP_ADAPTER_CLS = cert_adapter(cert, key)
    account = cba_account(server)
    assert account.inbox.name == "Inbox"
    assert account.inbox.all().count() == 0
    ok = [r for r in server.request_log if r.status == 200]
    assert ok and {(r.user, r.auth_scheme) for r in ok} == {(JOHN, "Certificate")}


def test_encrypted_key(make_exchange, tmp_path):
    server = make_exchange(tls=True, client_certificates="required")
    cert, key = server.issue_client_certificate(MARY, directory=str(tmp_path), password="Key-pass-1")
    BaseProtocol.HTTP_ADAPTER_CLS = cert_adapter(cert, key, "Key-pass-1")
    assert cba_account(server, MARY).inbox.name == "Inbox"
    assert {r.user for r in server.request_log if r.status == 200} == {MARY}
    assert "Key-pass-1" not in repr(BaseProtocol.HTTP_ADAPTER_CLS())


def test_without_a_certificate(make_exchange):
    required = make_exchange(tls=True, client_certificates="required")
    with pytest.raises(TransportError, match="TLS"):
        cba_account(required).inbox  # noqa: B018 - the TLS handshake is refused
    optional = make_exchange(tls=True, client_certificates="optional", auth=("ntlm",))
    with pytest.raises(UnauthorizedError):
        cba_account(optional).inbox  # noqa: B018 - TLS works, but nobody logged in
    # ... while password logins keep working on the optional server
    assert optional.account(JOHN).inbox.name == "Inbox"


def test_certificates_do_not_share_protocols(make_exchange, tmp_path):
    server = make_exchange(tls=True, client_certificates="required")
    config = Configuration(service_endpoint=server.url, auth_type=CBA, verify=server.ca_path)
    john = server.issue_client_certificate(JOHN, directory=str(tmp_path / "j"))
    mary = server.issue_client_certificate(MARY, directory=str(tmp_path / "m"))
    BaseProtocol.HTTP_ADAPTER_CLS = TLSClientAuth
    TLSClientAuth.cert_file, TLSClientAuth.key_file = john
    try:
        p1 = Protocol.for_config(config)
        TLSClientAuth.cert_file, TLSClientAuth.key_file = mary
        p2 = Protocol.for_config(config)
    finally:
        TLSClientAuth.cert_file = TLSClientAuth.key_file = None
    assert p1 is not p2


def test_server_option_needs_tls():
    from exchangelib.testing import LocalExchange

    with pytest.raises(ValueError, match="tls=True"):
        LocalExchange(client_certificates="required")


def test_serve_command_client_certificates_need_tls():
    import io
    import threading

    from exchangelib.testing.__main__ import main as serve_main

    with pytest.raises(SystemExit):
        serve_main(["serve", "--client-certificates", "required"], out=io.StringIO(), stop=threading.Event())
