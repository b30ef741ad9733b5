"""Starting and stopping the server, TLS, keep-alive, and the command line."""
from __future__ import annotations

import io
import socket
import ssl
import threading
import time

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from exchangelib.testing.__main__ import main as cli_main
from exchangelib.testing.server import EWSServer
from exchangelib.testing.users import User, default_users

from .conftest import soap

AUTH = ("john", "Exchange-john-1")


def test_context_manager_starts_and_stops_without_leaking_threads(fake_ops):
    before = threading.active_count()
    with EWSServer(default_users()) as server:
        port = server.port
        assert server.running and server.url == f"http://127.0.0.1:{port}/EWS/Exchange.asmx"
        with requests.Session() as s:  # leave a keep-alive connection open across stop()
            assert s.post(server.url, data=soap(), auth=AUTH, timeout=10).status_code == 200
            t0 = time.monotonic()
            server.stop()
            assert time.monotonic() - t0 < 5
    assert not server.running
    assert threading.active_count() == before
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(f"http://127.0.0.1:{port}/EWS/Exchange.asmx", data=soap(), timeout=2)
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        server.port


def test_stop_interrupts_latency_sleep(fake_ops):
    server = EWSServer(default_users(), latency_ms=60_000).start()
    t = threading.Thread(target=lambda: _swallow(lambda: requests.post(server.url, data=soap(), auth=AUTH, timeout=30)))
    t.start()
    deadline = time.monotonic() + 10
    while server.max_concurrency_seen < 1 and time.monotonic() < deadline:  # the request is in its sleep
        time.sleep(0.01)
    assert server.max_concurrency_seen == 1, "the request never reached the server"
    t0 = time.monotonic()
    server.stop()
    assert time.monotonic() - t0 < 5
    t.join(10)
    assert not t.is_alive()


def _swallow(fn):
    try:
        fn()
    except requests.RequestException:
        pass


def test_two_servers_side_by_side_have_separate_users(fake_ops):
    with EWSServer([User("a", "pw-a", "a@one.example")]) as one, \
            EWSServer([User("a", "pw-other", "a@two.example")]) as two:
        assert one.port != two.port
        for server, pw, addr in ((one, "pw-a", "a@one.example"), (two, "pw-other", "a@two.example")):
            with requests.Session() as s:
                r = s.post(server.url, data=soap(), auth=HttpNtlmAuth("EXAMPLE\\a", pw), timeout=10)
                assert r.status_code == 200
                assert fake_ops.last.caller == addr
        with requests.Session() as s:
            assert s.post(one.url, data=soap(), auth=HttpNtlmAuth("EXAMPLE\\a", "pw-other"),
                          timeout=10).status_code == 401


def test_constructor_validates_arguments():
    with pytest.raises(ValueError, match="loopback"):
        EWSServer(default_users(), host="0.0.0.0")
    with pytest.raises(ValueError, match="Unknown auth scheme"):
        EWSServer(default_users(), auth=("kerberos",))
    with pytest.raises(TypeError, match="sequence of scheme names"):
        EWSServer(default_users(), auth="ntlm")
    with pytest.raises(ValueError, match="max_concurrency"):
        EWSServer(default_users(), max_concurrency=0)
    with pytest.raises(ValueError, match="already belongs"):
        EWSServer([User("a", "x", "a@example.com"), User("b", "y", "A@example.com")])
    with pytest.raises(ValueError, match="username"):
        User("EXAMPLE\\john", "x", "john@example.com")


def test_chunked_request_body(ews_server, fake_ops):
    def chunks():
        data = soap()
        for i in range(0, len(data), 100):
            yield data[i:i + 100]

    r = requests.post(ews_server.url, data=chunks(), auth=AUTH, timeout=10)
    assert r.status_code == 200


# --- TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server():
    with EWSServer(default_users(), tls=True, extended_protection=True) as server:
        yield server


def test_tls_verifies_against_the_servers_ca(tls_server, fake_ops):
    assert tls_server.url.startswith("https://127.0.0.1:")
    r = requests.post(tls_server.url, data=soap(), auth=AUTH, verify=tls_server.ca_path, timeout=10)
    assert r.status_code == 200
    r = requests.post(tls_server.url.replace("127.0.0.1", "localhost"), data=soap(), auth=AUTH,
                      verify=tls_server.ca_path, timeout=10)
    assert r.status_code == 200


def test_tls_default_verification_fails(tls_server):
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(tls_server.url, data=soap(), auth=AUTH, timeout=10)
    # The server survives the refused handshake.
    assert requests.get(tls_server.base_url + "/nothing", verify=tls_server.ca_path, timeout=10).status_code == 404


def test_plain_http_to_tls_port_fails(tls_server):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(tls_server.url.replace("https:", "http:"), data=soap(), timeout=5)


def test_ntlm_with_channel_binding_over_tls(tls_server, fake_ops):
    with requests.Session() as s:
        r = s.post(tls_server.url, data=soap(), auth=HttpNtlmAuth("EXAMPLE\\john", "Exchange-john-1"),
                   verify=tls_server.ca_path, timeout=10)
        assert r.status_code == 200
    # Extended Protection: an NTLM login without channel binding is refused.
    with requests.Session() as s:
        r = s.post(tls_server.url, data=soap(), auth=HttpNtlmAuth("EXAMPLE\\john", "Exchange-john-1", send_cbt=False),
                   verify=tls_server.ca_path, timeout=10)
        assert r.status_code == 401


def test_tls_certificate_names_localhost(tls_server):
    ctx = ssl.create_default_context(cafile=tls_server.ca_path)
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


# --- command line ---------------------------------------------------------------------------------


def test_cli_serve_prints_endpoint_and_accounts(fake_ops):
    out = io.StringIO()
    stop = threading.Event()
    rc = []
    t = threading.Thread(target=lambda: rc.append(cli_main(
        ["serve", "--version", "2019", "--user", "alice@example.org:alice-pw", "--admin", "svc@example.org:svc-pw",
         "--auth", "basic"], out=out, stop=stop)))
    t.start()
    deadline = time.monotonic() + 10
    while "Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    text = out.getvalue()
    url = next(line.split(": ", 1)[1].strip() for line in text.splitlines() if "EWS endpoint" in line)
    r = requests.post(url, data=soap(), auth=("alice", "alice-pw"), timeout=10)
    stop.set()
    t.join(10)
    assert rc == [0]
    assert r.status_code == 200
    assert "Exchange 2019" in text and "alice@example.org" in text and "alice-pw" in text
    assert "svc-pw [may impersonate all]" in text


def test_cli_rejects_bad_user_spec():
    with pytest.raises(SystemExit):
        cli_main(["serve", "--user", "nopassword@example.org"], out=io.StringIO(), stop=threading.Event())


def test_stop_with_a_client_stuck_before_the_tls_handshake():
    server = EWSServer(default_users(), tls=True).start()
    before = threading.active_count()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)  # connects, never says hello
    time.sleep(0.2)
    t0 = time.monotonic()
    server.stop()
    assert time.monotonic() - t0 < 3
    sock.close()
    assert threading.active_count() <= before
