"""Django/Flask-style back ends: a new Account for every web request, many requests at once.

A threaded web server handles each request in its own thread and builds its own Credentials,
Configuration and Account (nothing shared but what the library shares itself). These tests run such
"requests" against the local server (strict schema mode) and check that

- every request gets the right answer, from the right mailbox;
- creating an Account is cheap: it sends nothing, and all accounts with the same endpoint and
  credentials share one Protocol (one connection pool, one version probe, one OAuth token);
- no more than ``max_connections`` requests per Protocol are ever in flight.
"""
from __future__ import annotations

import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Tuple

import pytest

from exchangelib import (DELEGATE, IMPERSONATION, NTLM, OAUTH2, AccessTokenCredentials, Account, Configuration,
                         Credentials, Message)
from exchangelib.protocol import Protocol
from exchangelib.testing import LocalExchange, ServerBusy
from tests.conftest import drop_protocols

USERS = ["john@example.com", "mary@example.com"]
THREADS = 16
REQUESTS_PER_THREAD = 3
MAX_CONNECTIONS = 3


def protocols_for(server: LocalExchange) -> List[Protocol]:
    with Protocol._cache_lock:
        return [p for p in Protocol._cache.values() if p.service_endpoint == server.url]


class WebApp:
    """What a view function does: build an Account from the request's user, do some work, answer."""

    def __init__(self, server: LocalExchange, credentials_for: Callable[[str], Any], access_type: str = DELEGATE,
                 auth_type: str = NTLM):
        self.server = server
        self.credentials_for = credentials_for
        self.access_type = access_type
        self.auth_type = auth_type
        self.protocols: List[Protocol] = []
        self.lock = threading.Lock()

    def account(self, user: str) -> Account:
        config = Configuration(service_endpoint=self.server.url, credentials=self.credentials_for(user),
                               auth_type=self.auth_type, max_connections=MAX_CONNECTIONS)
        account = Account(user, config=config, access_type=self.access_type)
        with self.lock:
            self.protocols.append(account.protocol)
        return account

    def handle(self, user: str) -> Tuple[str, str, int, str]:
        """Create a draft with a unique subject, find it, read it back, delete it."""
        account = self.account(user)
        subject = f"request {uuid.uuid4().hex}"
        created = account.drafts.add_items([Message(subject=subject, body=f"for {user}")])
        assert not isinstance(created[0], Exception), created[0]
        found = list(account.drafts.filter(subject=subject))
        deleted = account.bulk_delete([(m.id, m.changekey) for m in found])
        return user, subject, len(found), f"{found[0].subject}|{found[0].body}|{deleted}"


def run_requests(app: WebApp, users: List[str]) -> List[Tuple[str, str, int, str]]:
    jobs = [users[n % len(users)] for n in range(THREADS * REQUESTS_PER_THREAD)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(app.handle, jobs))


def check_answers(results: List[Tuple[str, str, int, str]]) -> None:
    assert len(results) == THREADS * REQUESTS_PER_THREAD
    for user, subject, count, seen in results:
        assert count == 1, (user, subject)  # the request's own draft, and only that one
        assert seen == f"{subject}|for {user}|[True]"


def requests_per_version_probe(server: LocalExchange) -> int:
    """How many ResolveNames requests one version detection takes (it steps down from the newest schema)."""
    before = server.request_count("ResolveNames")
    with Protocol(server.url, server.credentials(USERS[0]), auth_type=NTLM) as p:
        p.get_version()
    return server.request_count("ResolveNames") - before


def password_credentials(server: LocalExchange) -> Callable[[str], Credentials]:
    def make(user: str) -> Credentials:
        c = server.credentials(user)
        return Credentials(username=c.username, password=c.password)  # a new object per request
    return make


def test_threaded_requests_with_password_accounts_share_one_protocol_per_user(exchange):
    probe = requests_per_version_probe(exchange)
    exchange.reset_stats()
    app = WebApp(exchange, password_credentials(exchange))
    check_answers(run_requests(app, USERS))

    by_user: Dict[str, set] = {}
    for p in app.protocols:
        by_user.setdefault(p.credentials.username, set()).add(id(p))
    assert len(by_user) == len(USERS)
    assert all(len(ids) == 1 for ids in by_user.values()), "one Protocol per endpoint and credentials"
    assert len(protocols_for(exchange)) == len(USERS)
    for p in protocols_for(exchange):
        assert p._sessions_created <= MAX_CONNECTIONS
    # Two protocols, each with at most MAX_CONNECTIONS requests in flight
    assert exchange.max_concurrency_seen <= MAX_CONNECTIONS * len(USERS)
    # The server version was probed once per protocol, not once per request
    assert exchange.request_count("ResolveNames") == probe * len(USERS)


def test_threaded_requests_stay_within_max_connections_when_the_server_is_slow(make_exchange):
    server = make_exchange(latency_ms=20)
    app = WebApp(server, password_credentials(server))
    check_answers(run_requests(app, USERS[:1]))
    (protocol,) = protocols_for(server)
    assert protocol._sessions_created == MAX_CONNECTIONS  # all slots were used...
    assert server.max_concurrency_seen == MAX_CONNECTIONS  # ...and never more than that at once


def test_creating_an_account_per_request_sends_nothing(exchange):
    app = WebApp(exchange, password_credentials(exchange))
    assert app.account(USERS[0]).inbox.name == "Inbox"  # the first request detects the server version
    exchange.reset_stats()
    accounts = [app.account(USERS[0]) for _ in range(200)]
    assert exchange.request_count() == 0
    assert len({id(a.protocol) for a in accounts}) == 1


def test_threaded_app_only_oauth_fetches_one_token(exchange):
    before = exchange.token_requests
    app = WebApp(exchange, lambda user: exchange.oauth_credentials(), access_type=IMPERSONATION, auth_type=OAUTH2)
    check_answers(run_requests(app, USERS))
    assert len({id(p) for p in app.protocols}) == 1  # one app, one protocol for every mailbox
    assert exchange.token_requests - before == 1
    records = [r for r in exchange.request_log if r.status == 200]
    assert {r.mailbox for r in records} == set(USERS)  # each request acted on its own user's mailbox


def test_threaded_delegated_tokens_share_a_protocol_per_token(exchange):
    probe = requests_per_version_probe(exchange)
    exchange.reset_stats()
    tokens = {user: exchange.issue_token(user=user) for user in USERS}
    app = WebApp(exchange, lambda user: AccessTokenCredentials(access_token=tokens[user], identity=user),
                 auth_type=OAUTH2)
    check_answers(run_requests(app, USERS))
    assert len({id(p) for p in app.protocols}) == len(USERS)
    assert exchange.request_count("ResolveNames") == probe * len(USERS)


def test_the_protocol_cache_is_bounded(exchange, monkeypatch):
    monkeypatch.setattr(Protocol, "MAX_CACHED_PROTOCOLS", 3)
    accounts = [Account(USERS[0], config=Configuration(
        service_endpoint=exchange.url, auth_type=OAUTH2,
        credentials=AccessTokenCredentials(access_token=exchange.issue_token(user=USERS[0]), identity=USERS[0])))
        for _ in range(5)]  # five different tokens, as after five hourly token renewals
    assert len(protocols_for(exchange)) == 3
    # A forgotten protocol is not closed: the account that uses it keeps working
    assert accounts[0].protocol not in protocols_for(exchange)
    assert accounts[0].inbox.name == "Inbox"


def test_throttled_threads_each_get_their_error_and_the_others_succeed(exchange):
    """Under a threaded server one throttled request fails with a clear error; the rest are unaffected."""
    app = WebApp(exchange, password_credentials(exchange))
    app.account(USERS[0]).inbox  # noqa: B018 - warm up: version probe, sessions
    exchange.inject(ServerBusy(back_off_ms=2000), count=2, operations="FindItem")
    outcomes: List[Any] = []
    lock = threading.Lock()

    def request() -> None:
        try:
            result: Any = app.handle(USERS[0])
        except Exception as e:  # noqa: BLE001 - collected and checked below
            result = e
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) == 8 and len(errors) == 2
    for e in errors:
        assert type(e).__name__ == "ErrorServerBusy" and e.back_off == 2.0 and e.operation == "FindItem"
    check_answers_subset = [o for o in outcomes if not isinstance(o, Exception)]
    assert all(count == 1 for _, _, count, _ in check_answers_subset)
    # The drafts of the failed requests were created but not cleaned up: tidy them for the next test
    leftover = list(app.account(USERS[0]).drafts.all())
    assert len(leftover) == 2
    app.account(USERS[0]).bulk_delete([(m.id, m.changekey) for m in leftover])


@pytest.fixture(autouse=True)
def _fresh_protocols(exchange):
    """Each test starts with no cached protocol for the module's server (so it can count them)."""
    drop_protocols(exchange)
    yield
    drop_protocols(exchange)


def test_a_slow_auth_type_probe_does_not_hold_up_the_pools():
    """Detecting the auth type waits for the server; the thread pool and the idle janitor must not wait with it."""
    answer = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            answer.wait(10)
            conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    p = Protocol(f"http://127.0.0.1:{listener.getsockname()[1]}/EWS/Exchange.asmx",
                 Credentials("EXAMPLE\\john", "secret-pw"), auth_type=None)
    try:
        detected = []
        prober = threading.Thread(target=lambda: detected.append(p.auth_type), daemon=True)
        prober.start()
        time.sleep(0.3)  # the probe is waiting for the server now
        assert prober.is_alive() and not detected
        t0 = time.monotonic()
        assert p.submit(lambda: 42).result(timeout=5) == 42
        assert p.release_idle_resources() is True
        assert time.monotonic() - t0 < 2
        answer.set()
        prober.join(10)
        assert detected == [NTLM]
    finally:
        answer.set()
        p.close()
        listener.close()
