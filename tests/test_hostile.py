"""The client under hostile conditions (issue #20): deadlines, size caps, huge text nodes, DTDs,
NTLM 401, connection failures. Over HTTP against LocalExchange with injected faults, or a hostile
loopback server."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from exchangelib import (BASIC, DELEGATE, NTLM, Account, Build, Configuration, Credentials, FailFast, FaultTolerance,
                         Message, ServiceAccount, Version)
from exchangelib.errors import (DeadlineExceededError, ResponseTooLargeError, TransportError, UnauthorizedError)
from exchangelib.protocol import Protocol
from exchangelib.testing import OversizedResponse, SlowResponse
from exchangelib.xml import ForbiddenDTDError
from tests.loopback_http import one_answer

JOHN = "john@example.com"


def _account(server, policy=None, **kwargs) -> Account:
    config = Configuration(service_endpoint=server.url, credentials=server.credentials(JOHN), auth_type=NTLM,
                           version=Version(build=Build(*server.build)),
                           retry_policy=policy or FaultTolerance(max_wait=30, base=0.01, cap=0.05), **kwargs)
    acc = Account(JOHN, config=config, access_type=DELEGATE)
    acc.inbox  # noqa: B018
    server.reset_stats()
    return acc


# --- row 3: an overall deadline per request ----------------------------------------------------------------

@pytest.mark.parametrize("headers_too", [True, False], ids=["slow-headers", "slow-body"])
def test_slow_server_hits_the_deadline(exchange, headers_too):
    acc = _account(exchange)
    acc.protocol.deadline = 1.0
    try:
        exchange.inject(SlowResponse(bytes_per_second=20, headers_too=headers_too), count=None,
                        operations="GetFolder")
        t0 = time.monotonic()
        with pytest.raises(DeadlineExceededError) as e:
            acc.inbox.refresh()
        elapsed = time.monotonic() - t0
    finally:
        exchange.clear_faults()
        acc.protocol.deadline = acc.protocol.DEADLINE
    assert 0.9 <= elapsed < 3, elapsed
    assert "deadline" in str(e.value)
    assert exchange.request_count("GetFolder") == 1, exchange.request_log  # not retried, even under FaultTolerance


# --- row 4: response size caps ------------------------------------------------------------------------------

@pytest.mark.parametrize("gzip,declare", [(False, True), (False, False), (True, False)],
                         ids=["content-length", "streamed", "gzip-bomb"])
def test_oversized_response_is_refused_without_retry(exchange, gzip, declare):
    acc = _account(exchange)
    acc.protocol.max_response_size = 2 * 1024 * 1024
    try:
        exchange.inject(OversizedResponse(50 * 1024 * 1024, gzip=gzip, declare_length=declare), count=None,
                        operations="GetFolder")
        t0 = time.monotonic()
        with pytest.raises(ResponseTooLargeError) as e:
            acc.inbox.refresh()
        assert time.monotonic() - t0 < 5
    finally:
        exchange.clear_faults()
        acc.protocol.max_response_size = acc.protocol.MAX_RESPONSE_SIZE
    assert e.value.limit == 2 * 1024 * 1024
    assert "max_response_size" in str(e.value)
    assert exchange.request_count("GetFolder") == 1


def test_many_tiny_elements_are_refused(exchange):
    acc = _account(exchange)
    acc.protocol.max_response_tags = 100_000
    try:
        exchange.inject(OversizedResponse(2 * 1024 * 1024), operations="GetFolder")
        with pytest.raises(ResponseTooLargeError, match="max_response_tags"):
            acc.inbox.refresh()
    finally:
        acc.protocol.max_response_tags = acc.protocol.MAX_RESPONSE_TAGS


# --- row 5: bodies over libxml2's 10 MB text node limit -----------------------------------------------------

def test_body_over_ten_megabytes_reads_back(exchange):
    acc = _account(exchange, policy=FailFast())
    body = "x" * 10_000_001
    m = Message(account=acc, folder=acc.drafts, subject="big body", body=body)
    m.save()
    m.refresh()
    assert len(m.body) == len(body)
    got = next(iter(acc.fetch([m])))
    assert got.body == body
    listed = [i for i in acc.drafts.filter(subject="big body").only("body")]
    assert [len(i.body) for i in listed] == [len(body)]
    m.delete()


# --- row 7: a DOCTYPE after a long prolog -------------------------------------------------------------------

_OneAnswer = one_answer


def _hostile_account(url: str, auth_type=BASIC, policy=None) -> Account:
    cfg = Configuration(service_endpoint=url, credentials=Credentials("EXAMPLE\\john", "pw-1"), auth_type=auth_type,
                        version=Version(build=Build(15, 1, 2507, 6)),
                        retry_policy=policy or FaultTolerance(max_wait=30, base=0.01, cap=0.05))
    return Account(JOHN, config=cfg)


def test_doctype_after_a_long_prolog_is_refused_and_not_retried():
    payload = (b'<?xml version="1.0"?>\n<!--' + b"p" * 8192 + b'-->\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n'
               b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&a;</s:Body></s:Envelope>')
    with _OneAnswer(payload) as hostile:
        with pytest.raises(ForbiddenDTDError) as e:
            _hostile_account(hostile.url).inbox  # noqa: B018
        assert hostile.hits == 1
    assert "DOCTYPE" in str(e.value)
    assert isinstance(e.value, TransportError)


# --- row 8: NTLM server that always answers 401 -------------------------------------------------------------

def test_ntlm_always_401_is_unauthorized():
    page = b"<html><body>401 - Unauthorized</body></html>"
    with _OneAnswer(page, status=401, headers=[("WWW-Authenticate", "NTLM")]) as hostile:
        with pytest.raises(UnauthorizedError) as e:
            _hostile_account(hostile.url, auth_type=NTLM).inbox  # noqa: B018
    assert "pw-1" not in str(e.value)


# --- row 10: connection refused fails fast; a caller-set budget retries -------------------------------------

def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("auth_type", [BASIC, None], ids=["explicit-auth", "detected-auth"])
def test_connection_refused_fails_fast_with_service_account(auth_type):
    url = f"http://127.0.0.1:{_closed_port()}/EWS/Exchange.asmx"
    cfg = Configuration(service_endpoint=url, credentials=ServiceAccount("EXAMPLE\\john", "pw-1", max_wait=3600),
                        auth_type=auth_type, version=Version(build=Build(15, 1, 2507, 6)))
    t0 = time.monotonic()
    with pytest.raises(TransportError) as e:
        Account(JOHN, config=cfg).inbox  # noqa: B018
    assert time.monotonic() - t0 < 2
    assert "127.0.0.1" in str(e.value)


@pytest.mark.parametrize("auth_type", [BASIC, None], ids=["explicit-auth", "detected-auth"])
def test_connect_retry_budget_is_the_callers(auth_type):
    url = f"http://127.0.0.1:{_closed_port()}/EWS/Exchange.asmx"
    policy = FaultTolerance(max_wait=3600, base=0.2, cap=0.2, max_connect_wait=1.0)
    p = Protocol(url, Credentials("EXAMPLE\\john", "pw-1"), auth_type=auth_type,
                 version=Version(build=Build(15, 1, 2507, 6)), retry_policy=policy)
    from exchangelib.xml import create_element
    t0 = time.monotonic()
    with pytest.raises(TransportError):
        p.post(create_element("m:ResolveNames"), operation="ResolveNames")
    elapsed = time.monotonic() - t0
    p.close()
    assert 0.5 <= elapsed < 2.5, elapsed


# --- row 6: wide and deep restrictions ----------------------------------------------------------------------

def test_thousands_of_or_terms_and_chained_filters_work(exchange):
    import functools
    import operator

    from exchangelib import Q
    from exchangelib.restriction import ExpressionError, parse_expression

    acc = _account(exchange, policy=FailFast())
    folder = acc.drafts
    tag = f"wide{time.monotonic_ns()}"
    acc.bulk_create(folder, [Message(subject=f"{tag}-{i}") for i in (5, 2999, 4000)])
    q = functools.reduce(operator.or_, [Q(subject=f"{tag}-{i}") for i in range(3000)])
    assert sorted(m.subject for m in folder.filter(q)) == [f"{tag}-2999", f"{tag}-5"]

    nested = Q(subject=f"{tag}-5")
    for _ in range(5000):
        nested = Q(nested)
    assert [m.subject for m in folder.filter(nested)] == [f"{tag}-5"]

    qs = folder.filter(subject__startswith=tag)
    for i in range(5000):
        qs = qs.filter(~Q(subject=f"{tag}-x{i}"))
    assert qs.count() == 3

    with pytest.raises(ExpressionError, match="nested more than"):
        parse_expression("(" * 5000 + f"subject == '{tag}-5'" + ")" * 5000)
    parsed = parse_expression("(" * 150 + f"subject == '{tag}-5'" + ")" * 150)
    assert [m.subject for m in folder.filter(parsed)] == [f"{tag}-5"]

    deep = Q(subject="a")
    for i in range(5000):
        deep = (deep & Q(subject=f"b{i}")) | Q(subject=f"c{i}")
    with pytest.raises(ValueError, match="nested .* levels deep"):
        folder.filter(deep)
    assert repr(deep).startswith("Q(<")  # repr does not crash either


# --- row 12: a slice beyond EWS's offset range --------------------------------------------------------------

def test_huge_slice_offset_is_a_client_side_value_error(exchange):
    acc = _account(exchange, policy=FailFast())
    with pytest.raises(ValueError, match="offset .* out of range"):
        list(acc.inbox.all()[10 ** 12:])
    with pytest.raises(ValueError, match="offset"):
        acc.inbox.all()[10 ** 12]
    assert exchange.request_count("FindItem") == 0
    assert list(acc.inbox.all()[2 ** 31 - 1:]) == []


# --- row 11: recipients that cannot be valid, and unresolvable ones -----------------------------------------

def test_invalid_smtp_address_is_rejected_on_assignment():
    for bad in ("a@b@c", "user@", "a b@example.com", "x@y..z"):
        with pytest.raises(ValueError, match="to_recipients.*not a valid SMTP address"):
            Message(to_recipients=["mary@example.com", bad])
        m = Message()
        with pytest.raises(ValueError, match="cc_recipients"):
            m.cc_recipients = [bad]
    # what Exchange resolves stays allowed
    m = Message(to_recipients=["Mary Smith", "not-an-email", "/o=Org/ou=Exchange/cn=Recipients/cn=mary",
                               "smtp:mary@example.com", "anne@münchen.de"])
    assert len(m.to_recipients) == 5


def test_unresolvable_recipients_get_the_sender_a_non_delivery_report(exchange):
    acc = _account(exchange, policy=FailFast())
    mary = exchange.account("mary@example.com")
    subject = f"ndr {time.monotonic_ns()}"
    Message(account=acc, subject=subject, body="hello",
            to_recipients=["not-an-email", "nobody@example.com", "mary@example.com", "someone@external.example.org"]
            ).send()
    assert [m.subject for m in mary.inbox.filter(subject=subject)] == [subject]
    ndrs = list(acc.inbox.filter(subject=f"Undeliverable: {subject}"))
    assert len(ndrs) == 1
    ndr = ndrs[0]
    assert ndr.item_class == "REPORT.IPM.Note.NDR"
    assert "not-an-email" in ndr.body and "nobody@example.com" in ndr.body
    assert "external.example.org" not in ndr.body and "mary@" not in ndr.body


# --- row 9: idle protocols release their threads and sockets ------------------------------------------------

def _pool_workers() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("exchangelib_"))  # ThreadPoolExecutor names


def test_idle_protocols_release_threads_and_sockets(exchange, monkeypatch):
    monkeypatch.setattr(Protocol, "IDLE_TIMEOUT", 0.3)
    protocols = []
    accounts = []
    peak = 0
    for i in range(15):
        # a different max_connections per account: distinct cached protocols, as with one OAuth token per user
        acc = _account(exchange, policy=FailFast(), max_connections=2 + i)
        accounts.append(acc)
        protocols.append(acc.protocol)
        acc.bulk_create(acc.drafts, [Message(subject=f"idle {i}")])
        peak = max(peak, _pool_workers())
    assert len({id(p) for p in protocols}) == 15
    assert peak >= 3  # worker threads were there (the oldest get released while we go on)
    deadline = time.monotonic() + 10  # the janitor may be in a tick of up to 5 s taken before IDLE_TIMEOUT changed
    while time.monotonic() < deadline and _pool_workers():
        time.sleep(0.1)
    assert _pool_workers() == 0
    assert all(p._sessions_created == 0 and p._thread_pool is None for p in protocols)
    # and they still work
    assert accounts[0].bulk_create(accounts[0].drafts, [Message(subject="idle again")])[0].id


# --- local server: bounded connections, account lockout -----------------------------------------------------

def test_server_bounds_its_connection_threads_and_answers_503(make_exchange):
    server = make_exchange(max_connections=4)
    base = threading.active_count()
    socks = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and then nothing more
        socks.append(s)
    try:
        refused = 0
        time.sleep(0.3)
        for s in socks:
            s.settimeout(0.05)
            try:
                data = s.recv(100)
            except socket.timeout:
                continue  # held open by one of the 4 connection threads
            assert data.startswith(b"HTTP/1.1 503 Service Unavailable"), data
            refused += 1
        assert refused == 16
        assert server.rejected_connections == 16
        assert threading.active_count() <= base + 4
    finally:
        for s in socks:
            s.close()
    # clients keep working once connections free up; a retry policy rides out the 503s meanwhile
    acc = _account(server, policy=FaultTolerance(max_wait=10, base=0.05, cap=0.2))
    assert acc.inbox.total_count >= 0


def test_lockout_policy_locks_the_account_after_bad_passwords(make_exchange):
    server = make_exchange(lockout_threshold=3, lockout_duration=0.5)
    good = server.credentials(JOHN)

    def inbox(password):
        cfg = Configuration(service_endpoint=server.url, credentials=Credentials(good.username, password),
                            auth_type=NTLM, version=Version(build=Build(*server.build)), retry_policy=FailFast())
        return Account(JOHN, config=cfg, access_type=DELEGATE).inbox

    for _ in range(3):
        with pytest.raises(UnauthorizedError):
            inbox("Wrong-pa55word")
    with pytest.raises(UnauthorizedError):
        inbox(good.password)  # locked: even the right password is refused
    time.sleep(0.6)
    assert inbox(good.password).name
    # a success resets the count: two more bad ones do not lock
    for _ in range(2):
        with pytest.raises(UnauthorizedError):
            inbox("Wrong-pa55word")
    assert inbox(good.password).name


def test_idle_protocol_without_thread_pool_closes_its_connections(exchange, monkeypatch):
    monkeypatch.setattr(Protocol, "IDLE_TIMEOUT", 0.3)
    acc = _account(exchange, policy=FailFast(), max_connections=21)
    acc.inbox.refresh()  # a single request: a session, no thread pool
    assert acc.protocol._sessions_created >= 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and acc.protocol._sessions_created:
        time.sleep(0.1)
    assert acc.protocol._sessions_created == 0
    acc.inbox.refresh()
