"""Exactly-once writes under injected faults (issue #20, rows 1-2 and the fault matrix).

Every test goes over HTTP to a strict LocalExchange. A fault that strikes after the server did the
work (a truncated response, a reset after the action) loses the answer; the library must find out
what happened instead of sending the write again blindly.
"""
from __future__ import annotations

import uuid

import pytest

from exchangelib import (DELEGATE, NTLM, Account, Build, Configuration, FailFast, FaultTolerance, Folder, Message,
                         Version)
from exchangelib.errors import ErrorItemNotFound, OutcomeUnknownError, TransportError
from exchangelib.services.exactly_once import find_written
from exchangelib.testing import ConnectionReset, HTTPStatus, Latency, ServerBusy, TruncatedResponse

JOHN = "john@example.com"
N = 200
CHUNK = 20


def _account(server, policy, max_connections: int = 4) -> Account:
    config = Configuration(service_endpoint=server.url, credentials=server.credentials(JOHN), auth_type=NTLM,
                           version=Version(build=Build(*server.build)), retry_policy=policy,
                           max_connections=max_connections)
    acc = Account(JOHN, config=config, access_type=DELEGATE)
    acc.inbox  # noqa: B018 - cache the folder before faults are armed
    return acc


def _tolerant(server) -> Account:
    return _account(server, FaultTolerance(max_wait=30, base=0.01, cap=0.05))


def _folder(acc: Account) -> Folder:
    f = Folder(parent=acc.inbox, name=f"eo {uuid.uuid4().hex[:8]}")
    f.save()
    return f


def _subjects(folder) -> list:
    return sorted(i.subject for i in folder.all().only("subject"))


def test_bulk_create_survives_truncated_responses_without_duplicates(exchange):
    acc = _tolerant(exchange)
    folder = _folder(acc)
    exchange.inject(TruncatedResponse(), count=4, operations="CreateItem")
    items = [Message(subject=f"m{i:04d}") for i in range(N)]
    results = acc.bulk_create(folder, items, chunk_size=CHUNK)
    assert all(isinstance(r, Message) and r.id for r in results), [r for r in results if not isinstance(r, Message)]
    assert _subjects(folder) == sorted(f"m{i:04d}" for i in range(N))  # each exactly once
    ids = {r.id for r in results}
    assert len(ids) == N
    assert exchange.request_count("FindItem") >= 4  # the reconciling searches


def test_bulk_create_under_failfast_reports_truthfully(exchange):
    acc = _account(exchange, FailFast())
    folder = _folder(acc)
    exchange.inject(TruncatedResponse(), count=1, operations="CreateItem")
    exchange.inject(ConnectionReset(after_action=False), count=1, operations="CreateItem")
    items = [Message(subject=f"f{i:03d}") for i in range(60)]
    results = acc.bulk_create(folder, items, chunk_size=CHUNK)
    on_server = set(_subjects(folder))
    for item, res in zip(items, results):
        if isinstance(res, Exception):
            # reported failed: then it must really not be there
            assert item.subject not in on_server, res
            assert isinstance(res, TransportError)
        else:
            assert item.subject in on_server
    assert len(on_server) == len([r for r in results if not isinstance(r, Exception)])
    assert any(isinstance(r, Exception) for r in results)  # the reset before the action lost a chunk


def test_outcome_unknown_says_how_to_check_when_nothing_can_be_searched(exchange):
    acc = _account(exchange, FailFast())
    exchange.inject(TruncatedResponse(), count=1, operations="CreateItem")
    res = acc.bulk_create(None, [Message(subject="sent blind", to_recipients=["mary@example.com"])],
                          message_disposition="SendOnly")
    assert isinstance(res[0], OutcomeUnknownError)
    assert "SendOnly" in str(res[0]) and res[0].write_token
    assert exchange.request_count("CreateItem") == 1  # never sent twice


def test_outcome_unknown_token_can_be_searched(exchange):
    acc = _account(exchange, FailFast())
    folder = _folder(acc)
    # the search itself fails too: the library cannot check, so it says how to
    exchange.inject(TruncatedResponse(), count=1, operations="CreateItem")
    exchange.inject(HTTPStatus(502), count=1, operations="FindItem")
    res = acc.bulk_create(folder, [Message(subject="unknown")])
    err = res[0]
    assert isinstance(err, OutcomeUnknownError)
    assert "find_written" in str(err)
    assert find_written(acc, folder, [err.write_token]).keys() == {err.write_token}


def test_retried_delete_that_was_done_reports_success(exchange):
    acc = _tolerant(exchange)
    folder = _folder(acc)
    created = acc.bulk_create(folder, [Message(subject=f"d{i}") for i in range(30)], chunk_size=10)
    exchange.inject(ConnectionReset(after_action=True), count=2, operations="DeleteItem")
    results = acc.bulk_delete(created, chunk_size=10)
    assert results == [True] * 30
    assert _subjects(folder) == []
    # a delete of an id that never existed is still an error
    assert isinstance(acc.bulk_delete([created[0]])[0], ErrorItemNotFound)


def test_send_is_never_sent_twice(exchange):
    acc = _tolerant(exchange)
    mary = exchange.account("mary@example.com")
    subject = f"once {uuid.uuid4().hex[:8]}"
    drafts = acc.bulk_create(acc.drafts, [Message(subject=f"{subject} {i}", to_recipients=["mary@example.com"])
                                          for i in range(10)])
    exchange.inject(TruncatedResponse(), count=1, operations="SendItem")
    exchange.inject(ConnectionReset(after_action=False), count=1, operations="SendItem")
    assert acc.bulk_send(drafts, chunk_size=5) == [True] * 10
    got = sorted(m.subject for m in mary.inbox.filter(subject__startswith=subject))
    assert got == sorted(f"{subject} {i}" for i in range(10))


# --------------------------------------------------------------------------------------------------------
# The fault matrix: every write under every fault ends done exactly once and reported truthfully
# --------------------------------------------------------------------------------------------------------

FAULTS = {
    "busy": lambda: ServerBusy(back_off_ms=10),
    "http500-busy": lambda: HTTPStatus(500, server_busy=True, back_off_ms=10),
    "http503": lambda: HTTPStatus(503, retry_after=0),
    "reset-before": lambda: ConnectionReset(after_action=False),
    "reset-after": lambda: ConnectionReset(after_action=True),
    "truncated": lambda: TruncatedResponse(),
    "truncated-short-length": lambda: TruncatedResponse(declare_full_length=False),
    "latency": lambda: Latency(30),
    "concurrency-limit": None,  # the server's EWSMaxConcurrency budget: ErrorServerBusy beyond 1 request at once
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_matrix(exchange, fault):
    acc = _tolerant(exchange)
    src = _folder(acc)
    dst = _folder(acc)
    mary = exchange.account("mary@example.com")
    tag = uuid.uuid4().hex[:8]

    def arm(op):
        if FAULTS[fault] is not None:
            exchange.inject(FAULTS[fault](), count=3, operations=op)

    if FAULTS[fault] is None:
        exchange.max_concurrency, exchange.throttle_back_off_ms = 1, 10
    try:
        _matrix(exchange, acc, src, dst, mary, tag, arm, fault)
    finally:
        exchange.max_concurrency = None
    if FAULTS[fault] is None:
        assert any(r.response_code == "ErrorServerBusy" for r in exchange.request_log)


def _matrix(exchange, acc, src, dst, mary, tag, arm, fault):

    # create
    arm("CreateItem")
    items = [Message(subject=f"{tag} {i:04d}", to_recipients=["mary@example.com"]) for i in range(N)]
    created = acc.bulk_create(src, items, chunk_size=CHUNK)
    assert all(isinstance(r, Message) for r in created), fault
    names = sorted(f"{tag} {i:04d}" for i in range(N))
    assert _subjects(src) == names

    # update
    arm("UpdateItem")
    for it in created:
        it.importance = "High"
    updated = acc.bulk_update([(it, ["importance"]) for it in created], chunk_size=CHUNK)
    assert all(isinstance(r, tuple) for r in updated), fault
    assert {i.importance for i in src.all().only("importance")} == {"High"}

    # move half
    arm("MoveItem")
    moved = acc.bulk_move(created[: N // 2], dst, chunk_size=CHUNK)
    assert not [r for r in moved if isinstance(r, Exception)], fault
    assert _subjects(dst) == names[: N // 2]
    assert _subjects(src) == names[N // 2:]

    # send the other half (from a folder that is not Drafts: SendItem does not care)
    arm("SendItem")
    to_send = created[N // 2: N // 2 + 40]
    sent = acc.bulk_send(to_send, chunk_size=CHUNK // 2)
    assert sent == [True] * len(to_send), fault
    got = sorted(m.subject for m in mary.inbox.filter(subject__startswith=tag).only("subject"))
    assert got == names[N // 2: N // 2 + 40]  # each delivered once

    # delete everything left
    arm("DeleteItem")
    left = [i for i in src.all().only("id")] + [i for i in dst.all().only("id")]
    deleted = acc.bulk_delete(left, chunk_size=CHUNK)
    assert deleted == [True] * len(left), fault
    assert _subjects(src) == [] and _subjects(dst) == []


def test_reconciling_does_not_starve_the_thread_pool(exchange):
    """The check after a lost answer runs inside a pool thread: it must not wait for the pool itself."""
    import threading

    # one worker: a nested submit would wait for itself
    acc = _account(exchange, FaultTolerance(max_wait=30, base=0.01, cap=0.05), max_connections=1)
    folder = _folder(acc)
    created = acc.bulk_create(folder, [Message(subject=f"s{i}") for i in range(6)], chunk_size=2)
    exchange.inject(ConnectionReset(after_action=True), count=3, operations=["DeleteItem", "MoveItem", "SendItem"])
    out = []
    t = threading.Thread(target=lambda: out.append(acc.bulk_delete(created, chunk_size=2)), daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive(), "bulk_delete hung while reconciling"
    assert out == [[True] * 6]
