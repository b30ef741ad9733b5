"""Kerberos (Negotiate) against a real MIT KDC started in a temporary directory on 127.0.0.1.

The KDC (krb5kdc), the realm EXAMPLE.COM, the users' principals and the server's keytab for
``HTTP/127.0.0.1`` are created by the fixture. Without the MIT programs or the ``gssapi`` module the
tests are skipped with an install hint, except on CI (``CI=true``), where they must run.
"""
from __future__ import annotations

import importlib.util
import os
import re
from typing import Iterator

import pytest

from exchangelib import (DELEGATE, GSSAPI, IMPERSONATION, NTLM, Account, Configuration, Credentials,
                         KerberosCredentials)
from exchangelib.errors import UnauthorizedError
from exchangelib.protocol import Protocol
from exchangelib.testing.kdc import INSTALL_HINT, LocalKDC, kdc_binaries_missing

JOHN, MARY, ADMIN = "john@example.com", "mary@example.com", "ewsadmin@example.com"
SPN = "HTTP/127.0.0.1"


def _missing() -> str:
    missing = kdc_binaries_missing()
    if missing:
        return f"MIT Kerberos programs missing ({', '.join(missing)}): {INSTALL_HINT}"
    for module in ("gssapi", "krb5"):
        if importlib.util.find_spec(module) is None:
            return f"Python module {module!r} missing: pip install 'exchangelib[kerberos]' (after {INSTALL_HINT})"
    return ""


@pytest.fixture(scope="module")
def kdc() -> Iterator[LocalKDC]:
    why = _missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Kerberos tests must run on CI: {why}")
        pytest.skip(why)
    with LocalKDC(realm="EXAMPLE.COM") as k:
        k.add_principal("john", password="Exchange-john-1")
        k.add_principal("ewsadmin")  # a service account: random key, logs in with its keytab
        k.add_principal("stranger", password="Stranger-pw-1")  # in the realm, but no mailbox user
        k.keytab_path = k.add_service(SPN)  # type: ignore[attr-defined]
        k.admin_keytab = k.keytab("ewsadmin")  # type: ignore[attr-defined]
        yield k


@pytest.fixture
def server(kdc, make_exchange):
    return make_exchange(auth=("negotiate", "ntlm"), kerberos_keytab=kdc.keytab_path)


@pytest.fixture
def john_ccache(kdc, tmp_path) -> str:
    return kdc.kinit("john@EXAMPLE.COM", "Exchange-john-1", ccache=f"FILE:{tmp_path / 'john.ccache'}")


def account(server, credentials, auth_type=GSSAPI, address=JOHN, access_type=DELEGATE, **kwargs) -> Account:
    config = Configuration(service_endpoint=server.url, credentials=credentials, auth_type=auth_type,
                           verify=server.verify, **kwargs)
    return Account(address, config=config, access_type=access_type)


def schemes(server) -> set:
    return {r.auth_scheme for r in server.request_log if r.status == 200}


def test_login_with_a_ticket_from_the_default_credential_cache(server, john_ccache, monkeypatch):
    monkeypatch.setenv("KRB5CCNAME", john_ccache)
    acc = account(server, None)  # no credentials: whatever `kinit` left in the cache
    assert acc.inbox.name == "Inbox"
    assert acc.inbox.all().count() == 0
    assert schemes(server) == {"Kerberos"}
    assert {r.user for r in server.request_log if r.status == 200} == {JOHN}


def test_login_with_an_explicit_credential_cache(server, john_ccache):
    acc = account(server, KerberosCredentials("john@EXAMPLE.COM", ccache=john_ccache))
    assert acc.inbox.name == "Inbox"
    assert schemes(server) == {"Kerberos"}


def test_service_account_logs_in_with_its_keytab_and_impersonates(server, kdc, tmp_path, monkeypatch):
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty.ccache'}")  # no ticket anywhere: keytab only
    creds = KerberosCredentials("ewsadmin@EXAMPLE.COM", keytab=kdc.admin_keytab)
    acc = account(server, creds, access_type=IMPERSONATION)
    assert acc.inbox.name == "Inbox"
    assert {r.user for r in server.request_log if r.status == 200} == {ADMIN}
    assert schemes(server) == {"Kerberos"}


def test_password_credentials_get_a_ticket_with_the_password(server, tmp_path, monkeypatch):
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty.ccache'}")
    acc = account(server, Credentials("EXAMPLE\\john", "Exchange-john-1"))
    assert acc.inbox.name == "Inbox"
    assert schemes(server) == {"Kerberos"}


def test_negotiate_falls_back_to_ntlm_without_a_ticket(server, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty.ccache'}")
    caplog.set_level("DEBUG", logger="exchangelib.negotiate")
    # mary has a mailbox and a Windows password, but no Kerberos principal: no ticket can be had
    acc = account(server, Credentials("EXAMPLE\\mary", server.user(MARY).password), address=MARY)
    assert acc.inbox.name == "Inbox"
    assert schemes(server) == {"NTLM"}
    assert "falling back to NTLM" in caplog.text


def test_auth_type_detection_prefers_kerberos_when_a_ticket_is_cached(server, john_ccache, tmp_path, monkeypatch):
    password = server.user(JOHN).password
    monkeypatch.setenv("KRB5CCNAME", john_ccache)
    acc = account(server, Credentials("EXAMPLE\\john", password), auth_type=None)
    assert acc.protocol.auth_type == GSSAPI and acc.inbox.name == "Inbox"
    assert schemes(server) == {"Kerberos"}
    Protocol.clear_cache()
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty.ccache'}")
    acc = account(server, Credentials("EXAMPLE\\john", password), auth_type=None)
    assert acc.protocol.auth_type == NTLM and acc.inbox.name == "Inbox"


def test_no_credentials_and_no_auth_type_uses_the_ticket_cache(server, john_ccache, monkeypatch):
    monkeypatch.setenv("KRB5CCNAME", john_ccache)
    acc = account(server, None, auth_type=None)
    assert acc.protocol.auth_type == GSSAPI and acc.inbox.name == "Inbox"


def test_kerberos_over_tls_with_extended_protection(kdc, make_exchange, john_ccache):
    server = make_exchange(auth=("negotiate",), kerberos_keytab=kdc.keytab_path, tls=True, extended_protection=True)
    acc = account(server, KerberosCredentials("john@EXAMPLE.COM", ccache=john_ccache))
    assert acc.inbox.name == "Inbox"
    assert schemes(server) == {"Kerberos"}


def test_channel_binding_to_another_certificate_is_refused(kdc, make_exchange, john_ccache, monkeypatch):
    from exchangelib import negotiate

    server = make_exchange(auth=("negotiate",), kerberos_keytab=kdc.keytab_path, tls=True, extended_protection=True)
    monkeypatch.setattr(negotiate, "_end_point_hash", lambda cert: b"\0" * 32)  # as if a TLS proxy were in between
    with pytest.raises(UnauthorizedError, match="rejected"):
        account(server, KerberosCredentials("john@EXAMPLE.COM", ccache=john_ccache)).inbox  # noqa: B018


def test_no_ticket_and_no_password_is_a_clear_error(server, tmp_path):
    creds = KerberosCredentials("john@EXAMPLE.COM", ccache=f"FILE:{tmp_path / 'empty.ccache'}")
    with pytest.raises(UnauthorizedError) as e:
        account(server, creds).inbox  # noqa: B018
    assert "kinit" in str(e.value) and SPN in str(e.value)


def test_principal_without_a_mailbox_user_is_refused(server, kdc, tmp_path):
    ccache = kdc.kinit("stranger@EXAMPLE.COM", "Stranger-pw-1", ccache=f"FILE:{tmp_path / 's.ccache'}")
    with pytest.raises(UnauthorizedError, match="rejected"):
        account(server, KerberosCredentials("stranger@EXAMPLE.COM", ccache=ccache)).inbox  # noqa: B018


def test_no_tickets_or_passwords_in_debug_log_or_reprs(server, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty.ccache'}")
    caplog.set_level("DEBUG")
    creds = KerberosCredentials("john@EXAMPLE.COM", password="Exchange-john-1")
    acc = account(server, creds)
    assert acc.inbox.all().count() == 0
    text = caplog.text + repr(creds) + repr(acc.protocol) + str(acc.protocol.credentials)
    assert "Exchange-john-1" not in text
    assert not re.search(r"Negotiate YI[A-Za-z0-9+/]{20}", text)  # no Kerberos AP-REQ/AP-REP in any header
    assert not re.search(r"oYG[A-Za-z0-9+/]{20}|YI[GI][A-Za-z0-9+/]{40}", text)
    assert "Negotiate" in caplog.text  # the headers were logged, redacted


def test_backup_over_kerberos_from_the_ticket_cache(server, john_ccache, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from exchangelib import Message

    john = server.account(JOHN, auth_type="ntlm")
    john.bulk_create(folder=john.inbox, items=[Message(subject=f"krb {i}") for i in range(3)])
    repo = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGELIB_")}
    env.update(PYTHONPATH=str(repo), KRB5CCNAME=john_ccache)  # KRB5_CONFIG points at the test KDC
    res = subprocess.run([sys.executable, "-m", "exchangelib", "backup", "--server", server.url, "--auth", "kerberos",
                          "--email", JOHN, str(tmp_path / "b")], env=env, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL, cwd=repo)
    assert res.returncode == 0, res.stderr
    assert "3 exported" in res.stdout
    assert {r.auth_scheme for r in server.request_log if r.status == 200 and r.operation == "ExportItems"} == {
        "Kerberos"}


def test_wrong_kerberos_password_is_refused_without_showing_it(server, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty.ccache'}")
    caplog.set_level("DEBUG")
    wrong = "Wr0ng-kerberos-" + "x" * 12
    with pytest.raises(UnauthorizedError) as e:
        account(server, KerberosCredentials("john@EXAMPLE.COM", password=wrong)).inbox  # noqa: B018
    assert "kinit" in str(e.value)
    assert wrong not in str(e.value) + repr(e.value) + caplog.text


def test_serve_command_accepts_kerberos_with_a_keytab(kdc, john_ccache):
    import io
    import threading
    import time

    from exchangelib.testing.__main__ import main as serve_main

    out, stop, rc, url = io.StringIO(), threading.Event(), [], None
    t = threading.Thread(target=lambda: rc.append(serve_main(
        ["serve", "--auth", "ntlm", "--kerberos-keytab", kdc.keytab_path], out=out, stop=stop)))
    t.start()
    try:
        deadline = time.monotonic() + 10
        while "Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        text = out.getvalue()
        assert "negotiate, ntlm" in text
        url = next(line.split(": ", 1)[1].strip() for line in text.splitlines() if "EWS endpoint" in line)
        config = Configuration(service_endpoint=url, auth_type=GSSAPI,
                               credentials=KerberosCredentials("john@EXAMPLE.COM", ccache=john_ccache))
        assert Account(JOHN, config=config, access_type=DELEGATE).inbox.name == "Inbox"
    finally:
        stop.set()
        t.join(10)
        with Protocol._cache_lock:  # the server is gone: forget its protocols
            for key in [k for k, p in Protocol._cache.items() if p.service_endpoint == url]:
                Protocol._cache.pop(key).close()
    assert rc == [0]
