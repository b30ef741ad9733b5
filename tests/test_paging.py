"""Concurrent paging of FindItem/FindFolder over the protocol's pool, early stops, and flat memory.

The folders are filled directly in the local server's store (thousands of items over CreateItem would make
these tests slow); every search goes over HTTP as usual. Timings are never asserted: the server counts
overlapping requests, and tracemalloc measures memory.
"""
from __future__ import annotations

import copy
import gc
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
from lxml import etree

from exchangelib import DELEGATE, NTLM, Account, Configuration, Credentials, Folder
from exchangelib.services import FindFolder
from exchangelib.testing import LocalExchange
from exchangelib.errors import EWSError
from exchangelib.testing.faults import HTTPStatus, Latency
from exchangelib.testing.ops.stamp import stamp_new
from exchangelib.xml import TNS

REPO = Path(__file__).resolve().parents[1]
JOHN = "john@example.com"
T = f"{{{TNS}}}"


def seed_messages(server: LocalExchange, folder_name: str, n: int, tag: str) -> Tuple[Account, str]:
    """Put ``n`` messages with subjects '<tag> 000000'... in a new folder of john's mailbox; returns the account
    and the folder name."""
    store = server.store
    mb = store.get_mailbox(JOHN)
    folder = mb.create_folder(mb.folder("inbox"), "Folder", display_name=folder_name)
    template = etree.Element(T + "Message")
    etree.SubElement(template, T + "Subject").text = ""
    stamp_new(store, mb, template)
    subject = template.find(T + "Subject")
    with store.lock:
        for i in range(n):
            subject.text = f"{tag} {i:06d}"
            store.add_item(folder, copy.deepcopy(template))
    return server.account(JOHN), folder_name


def subfolder(account: Account, name: str):
    return account.inbox / name


@pytest.fixture(scope="module")
def big(_module_exchange: LocalExchange) -> Iterator[Tuple[Account, str]]:
    yield seed_messages(_module_exchange, "paging-1000", 1000, "msg")


def expected(n: int, tag: str = "msg") -> List[str]:
    return [f"{tag} {i:06d}" for i in range(n)]


def test_pages_are_fetched_concurrently_and_come_out_in_order(big, exchange):
    account, name = big
    folder = subfolder(account, name)
    qs = folder.all().order_by("subject").only("subject")
    qs.page_size = 100
    exchange.reset_stats()
    with exchange.inject(Latency(40), count=None, operations="FindItem"):
        subjects = [i.subject for i in qs]
    assert subjects == expected(1000)
    assert exchange.request_count("FindItem") == 10
    overlapping = exchange.max_concurrency_by_operation["FindItem"]
    assert overlapping >= 2, "pages after the first should be requested at the same time"
    assert overlapping <= account.protocol.max_connections


def test_iterator_streams_in_order_with_default_order(big, exchange):
    account, name = big
    folder = subfolder(account, name)
    # Without order_by the server returns newest first; all items share one DateTimeReceived, so the
    # newest-created (highest number) come first.
    got = list(folder.all().values_list("subject", flat=True).iterator())
    assert sorted(got) == expected(1000)
    assert len(set(got)) == 1000


def test_slices_request_only_the_pages_needed(big, exchange):
    account, name = big
    folder = subfolder(account, name)
    qs = folder.all().order_by("subject").only("subject")
    qs.page_size = 100
    exchange.reset_stats()
    assert [i.subject for i in qs[:250]] == expected(250)
    assert exchange.request_count("FindItem") == 3
    exchange.reset_stats()
    assert [i.subject for i in qs[420:470]] == expected(470)[420:]
    assert exchange.request_count("FindItem") == 1
    exchange.reset_stats()
    assert qs[999].subject == "msg 000999"
    assert exchange.request_count("FindItem") == 1
    exchange.reset_stats()
    assert [i.subject for i in qs[990:-3]] == expected(997)[990:]
    assert exchange.request_count("FindItem") == 1


def test_get_stops_after_two_items(big, exchange):
    account, name = big
    folder = subfolder(account, name)
    exchange.reset_stats()
    assert folder.get(subject="msg 000500").subject == "msg 000500"
    assert exchange.request_count("FindItem") == 1
    exchange.reset_stats()
    with pytest.raises(Exception) as e:
        folder.filter(subject__startswith="msg").get()
    assert type(e.value).__name__ == "MultipleObjectsReturned"
    assert exchange.request_count("FindItem") == 1


def test_breaking_out_leaves_no_request_running(big, exchange):
    account, name = big
    folder = subfolder(account, name)
    qs = folder.all().order_by("subject").only("subject")
    qs.page_size = 50
    exchange.reset_stats()
    with exchange.inject(Latency(20), count=None, operations="FindItem"):
        it = qs.iterator()
        first = [next(it).subject for _ in range(120)]
        it.close()
        sent = exchange.request_count("FindItem")
    assert first == expected(120)
    # First page, then at most max_connections ahead: never the whole folder (20 pages)
    assert 3 <= sent <= 3 + account.protocol.max_connections
    assert exchange.request_count("FindItem") == sent  # nothing completed after close()


def test_full_items_overlap_getitem_with_the_next_finditem_pages(big, exchange):
    account, name = big
    folder = subfolder(account, name)
    qs = folder.all().order_by("subject")  # full items: FindItem ids, then GetItem in chunks
    qs.page_size = 100
    qs.chunk_size = 100
    exchange.reset_stats()
    with exchange.inject(Latency(30), count=None, operations="FindItem"):
        subjects = [i.subject for i in qs]
    assert subjects == expected(1000)
    ops = [r.operation for r in exchange.request_log if r.user is not None]
    assert ops.count("FindItem") == 10 and ops.count("GetItem") == 10
    # A GetItem finished before the last FindItem did: the two are pipelined, not run one after the other
    last_find = max(i for i, op in enumerate(ops) if op == "FindItem")
    assert any(op == "GetItem" for op in ops[:last_find])


def test_findfolder_pages_concurrently(exchange):
    account = exchange.account(JOHN)
    target = Folder(parent=account.inbox, name="many-subfolders")
    target.save()
    store = exchange.store
    mb = store.get_mailbox(JOHN)
    with store.lock:
        parent = next(f for f in mb.all_folders() if f.display_name == "many-subfolders")
        for i in range(45):
            mb.create_folder(parent, "Folder", display_name=f"sub {i:03d}")
    exchange.reset_stats()
    with exchange.inject(Latency(40), count=None, operations="FindFolder"):
        names = [f.name for f in FindFolder(account=account).call(target, page_size=10)]
    assert names == [f"sub {i:03d}" for i in range(45)]
    assert exchange.request_count("FindFolder") == 5
    assert exchange.max_concurrency_by_operation["FindFolder"] >= 2


# The server for the memory test runs in its own process, so tracemalloc sees only the client (tracing the
# server's allocations too would make the test ten times slower, and measure the wrong thing).
SERVER_SCRIPT = """
import sys
from tests.test_paging import JOHN, seed_messages
from exchangelib.testing import LocalExchange
server = LocalExchange(strict=True, validate_responses=False)
with server:
    seed_messages(server, "paging-20000", 20000, "big")
    user = server.user(JOHN)
    print(server.url, user.logon_name, user.password, sep="\\n", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def server_process() -> Iterator[Tuple[str, str, str]]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env, cwd=str(REPO))
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        assert all(lines), f"the server process did not start (exit code {proc.poll()})"
        yield lines[0], lines[1], lines[2]
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_memory_stays_flat_while_iterating_20000_items(server_process):
    url, login, password = server_process
    config = Configuration(service_endpoint=url, credentials=Credentials(login, password), auth_type=NTLM)
    account = Account(JOHN, config=config, autodiscover=False, access_type=DELEGATE)
    try:
        qs = subfolder(account, "paging-20000").all().only("subject")
        qs.page_size = 250
        gc.collect()
        tracemalloc.start()
        try:
            n = 0
            base = 0
            for item in qs.iterator():
                if n == 0:
                    # Measure the steady state from the first item on (connections and caches are set up)
                    tracemalloc.reset_peak()
                    base, _ = tracemalloc.get_traced_memory()
                    assert item.subject.startswith("big ")
                n += 1
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        account.protocol.close()
    assert n == 20_000
    grown = peak - base
    # Keeping 20,000 parsed items would take well over 10 MB; streaming holds a few pages at a time (the
    # one being consumed and at most max_connections fetched ahead of it).
    assert grown < 6_000_000, f"peak grew by {grown} bytes while iterating"


def test_searches_run_inside_pool_tasks_do_not_deadlock(big, exchange):
    _, name = big
    config = Configuration(service_endpoint=exchange.url, credentials=exchange.credentials(JOHN), auth_type=NTLM,
                           max_connections=2)
    account = Account(JOHN, config=config, autodiscover=False, access_type=DELEGATE)
    try:
        folder = subfolder(account, name)
        pool = account.protocol.thread_pool

        def search() -> List[str]:
            qs = folder.all().order_by("subject").only("subject")
            qs.page_size = 100
            return [i.subject for i in qs]

        # Both workers run a search; pages fetched concurrently from there would wait for each other forever
        futures = [pool.submit(search) for _ in range(2)]
        assert [f.result(timeout=60) for f in futures] == [expected(1000)] * 2
    finally:
        account.protocol.close()


def test_a_failing_page_raises_in_order_and_leaves_nothing_running(big, exchange):
    account, name = big
    folder = subfolder(account, name)
    qs = folder.all().order_by("subject").only("subject")
    qs.page_size = 100
    got: List[str] = []
    it = qs.iterator()
    got.append(next(it).subject)  # the first page is in
    exchange.reset_stats()
    with exchange.inject(Latency(20), count=None, operations="FindItem"):
        exchange.inject(HTTPStatus(500), count=1, operations="FindItem")  # one of the following pages fails
        with pytest.raises(EWSError):
            for item in it:
                got.append(item.subject)
        sent = exchange.request_count("FindItem")
    # Everything before the failed page came out, in order; the error came where that page belonged
    assert got == expected(len(got)) and len(got) % 100 == 0 and 100 <= len(got) < 1000
    assert sent <= 1 + account.protocol.max_connections + len(got) // 100
    assert exchange.request_count("FindItem") == sent  # nothing was still running after the error
