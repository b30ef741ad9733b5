"""Organisation backups on Dask (``backup-org`` / ``restore-org``): real LocalClusters, real HTTP against
strict local servers with 50 generated mailboxes, per-item hash comparison with what the server holds."""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import signal
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from lxml import etree

distributed = pytest.importorskip("distributed")  # exchangelib[org]
dask = pytest.importorskip("dask")
fsspec = pytest.importorskip("fsspec")

from exchangelib.backup import (BackupError, FsspecDir, StoreLease, _Dir, backup_mailbox,  # noqa: E402
                                open_backup_dir)
from exchangelib.credentials import ServiceAccount  # noqa: E402
from exchangelib.org import (Connection, _OrgProgress, backup_org, main_backup_org, map_address,  # noqa: E402
                             read_address_map, read_mailbox_list, restore_org)
from exchangelib.testing import LocalExchange, ServerBusy, User  # noqa: E402
from exchangelib.testing.ops.export import export_stream  # noqa: E402

from .conftest import drop_protocols  # noqa: E402
from .docs_pages import page_examples, run_example  # noqa: E402

N = 50
ITEMS = 8
MAILBOXES = [f"user{i:04d}@example.com" for i in range(1, N + 1)]
GLOBAL, PER_MAILBOX = 4, 2   # the client's budgets ...
SERVER_APP, SERVER_MAILBOX = 4, 2   # ... and the server's: anything more gets ErrorServerBusy


def _server(**kwargs) -> LocalExchange:
    return LocalExchange(strict=True, max_concurrency=SERVER_MAILBOX, max_app_concurrency=SERVER_APP,
                         throttle_back_off_ms=200, **kwargs)


def _connection(server: LocalExchange) -> Connection:
    admin = server.user("ewsadmin@example.com")
    return Connection(server.url, ServiceAccount(admin.logon_name, admin.password),
                      version=server.account("ewsadmin@example.com").version)


def server_items(server: LocalExchange, address: str, canonical: bool = False) -> Dict[str, Tuple[str, str]]:
    """item id -> (folder path, sha256 of the item as ExportItems sends it) for the folders users see;
    ``canonical``: of the item's canonical XML (``<a></a>`` and ``<a/>`` are the same item)."""
    mb = server.store.get_mailbox(address)
    top = mb.folder("msgfolderroot")
    out = {}
    for folder in [top] + list(top.walk()):
        if folder.element_kind == "SearchFolder":
            continue
        path = "/".join(f.display_name for f in reversed([folder] + list(folder.ancestors())))
        for rec in folder.items():
            data = etree.tostring(rec.elem, method="c14n") if canonical else export_stream(rec)
            out[rec.id] = (path, hashlib.sha256(data).hexdigest())
    return out


def assert_backed_up_exactly_once(server: LocalExchange, d, address: str) -> None:
    """The backup holds every item of the mailbox once, byte for byte, and nothing else."""
    manifest = json.loads(d.read_meta("manifest.json"))
    lines = [json.loads(x) for x in d.journal_lines("manifest.journal") if x.strip()]
    assert lines == []  # a complete run leaves everything in manifest.json
    expected = server_items(server, address)
    assert len(expected) == ITEMS
    assert {iid: e["sha256"] for iid, e in manifest["items"].items()} == {k: v[1] for k, v in expected.items()}
    for iid, entry in manifest["items"].items():
        assert hashlib.sha256(d.read(entry["file"])).hexdigest() == entry["sha256"]
    files = [e["file"] for e in manifest["items"].values()]
    assert len(set(files)) == len(files) == ITEMS


def item_files(root: Path) -> List[Path]:
    return [p for p in root.rglob("*.item")]


def assert_budget_kept(server: LocalExchange) -> None:
    assert server.throttled_requests == 0
    assert 1 <= max(server.peak_concurrency_by_caller.values()) <= GLOBAL
    assert max(server.peak_concurrency_by_mailbox.values()) <= PER_MAILBOX


@pytest.fixture(scope="module")
def org_server():
    with _server() as server:
        server.generate_mailboxes(N, items=ITEMS, seed=18)
        yield server
        server.assert_clean()
        drop_protocols(server)


@pytest.fixture(scope="module")
def thread_cluster():
    """Two in-process workers with two threads each."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def memory_backup(org_server, thread_cluster):
    """All 50 mailboxes backed up into fsspec's memory file system by the threaded cluster."""
    org_server.reset_stats()
    url = f"memory://org-{os.getpid()}-{time.monotonic_ns()}"
    report = backup_org(MAILBOXES, url, _connection(org_server), client=thread_cluster, max_concurrency=GLOBAL,
                        max_mailbox_concurrency=PER_MAILBOX, chunk_size=4, progress=False)
    stats = (org_server.throttled_requests, dict(org_server.peak_concurrency_by_caller),
             dict(org_server.peak_concurrency_by_mailbox))
    yield url, report, stats
    fsspec.filesystem("memory").rm(url[len("memory://"):], recursive=True)


# --- the memory file system, two threaded workers -----------------------------------------------------------
def test_fifty_mailboxes_into_fsspec_memory_each_item_once_within_the_budget(org_server, memory_backup):
    url, report, (throttled, by_caller, by_mailbox) = memory_backup
    assert report.complete == N and report.failed == 0
    assert throttled == 0 and max(by_caller.values()) <= GLOBAL and max(by_mailbox.values()) <= PER_MAILBOX
    assert len({m["worker"] for m in report.mailboxes}) == 2  # both workers took mailboxes
    for address in MAILBOXES:
        assert_backed_up_exactly_once(org_server, open_backup_dir(f"{url}/mailboxes/{address}", create=False), address)
    summary = json.loads(fsspec.filesystem("memory").cat_file(f"{url[len('memory://'):]}/org-summary.json"))
    assert summary["totals"]["mailboxes"] == N and summary["totals"]["complete"] == N
    assert summary["totals"]["items"] == N * ITEMS
    assert summary["totals"]["bytes"] == sum(m["bytes"] for m in summary["mailboxes"]) > 0
    assert summary["budget"] == {"global": GLOBAL, "per_mailbox": PER_MAILBOX, "lease_timeout_s": 10.0}
    one = summary["mailboxes"][0]
    assert one["mailbox"] == MAILBOXES[0] and one["items"] == ITEMS and one["failed"] == 0 and one["duration_s"] > 0
    index = json.loads(fsspec.filesystem("memory").cat_file(f"{url[len('memory://'):]}/org.json"))
    assert index["mailboxes"][MAILBOXES[1]] == f"mailboxes/{MAILBOXES[1]}"


def test_a_second_run_downloads_nothing_that_is_unchanged(org_server, memory_backup, thread_cluster):
    url, _, _ = memory_backup
    some = MAILBOXES[:4]
    account = org_server.account(some[0])
    item = account.inbox.all()[0]
    item.subject = "changed since the backup"
    item.save()
    report = backup_org(some, url, _connection(org_server), client=thread_cluster, max_concurrency=GLOBAL,
                        max_mailbox_concurrency=PER_MAILBOX, progress=False)
    by = {m["mailbox"]: m for m in report.mailboxes}
    assert by[some[0]]["exported"] == 1 and by[some[0]]["unchanged"] == ITEMS - 1
    assert all(by[a]["exported"] == 0 and by[a]["unchanged"] == ITEMS and by[a]["resumed"] for a in some[1:])
    assert_backed_up_exactly_once(org_server, open_backup_dir(f"{url}/mailboxes/{some[0]}"), some[0])


def test_restore_org_reproduces_the_mailboxes_in_a_second_server(org_server, memory_backup, thread_cluster):
    url, _, _ = memory_backup
    amap = read_address_map("source,target\nuser0001@example.com,alice@example.org\n*@example.com,*@example.net\n")
    with _server() as target:
        target.generate_mailboxes(N, items=0, seed=18, domain="example.net")  # empty, other domain
        target.add_user(User("alice", None, "alice@example.org"))
        report = restore_org(url, _connection(target), address_map=amap, client=thread_cluster,
                             max_concurrency=GLOBAL, max_mailbox_concurrency=PER_MAILBOX, progress=False)
        assert report.complete == N and report.items == N * ITEMS
        assert_budget_kept(target)
        summary = json.loads(open_backup_dir(url).read_meta("org-restore-summary.json"))
        assert summary["command"] == "restore-org" and summary["totals"]["items"] == N * ITEMS
        assert {m["target"] for m in summary["mailboxes"]} == {map_address(a, amap) for a in MAILBOXES}
        for address in MAILBOXES:
            dest = map_address(address, amap)
            assert dest == ("alice@example.org" if address == MAILBOXES[0] else address.replace(".com", ".net"))
            source = sorted(server_items(org_server, address, canonical=True).values())
            restored = sorted(server_items(target, dest, canonical=True).values())
            assert restored == source  # same folders, every item byte for byte
        # Two backups merged into one mailbox: one after the other, within the mailbox's budget
        target.reset_stats()
        target.add_user(User("merged", None, "merged@example.org"))
        merge = {a: "merged@example.org" for a in MAILBOXES[1:3]}
        merged = restore_org(url, _connection(target), address_map=merge, mailboxes=MAILBOXES[1:3],
                             client=thread_cluster, max_concurrency=GLOBAL, max_mailbox_concurrency=PER_MAILBOX,
                             progress=False)
        assert merged.complete == 2 and len(server_items(target, "merged@example.org")) == 2 * ITEMS
        assert_budget_kept(target)
        # Again: a restore never uploads an item twice into the same mailbox
        again = restore_org(url, _connection(target), address_map=amap, mailboxes=MAILBOXES[:3],
                            client=thread_cluster, progress=False)
        assert [m["uploaded"] for m in again.mailboxes] == [0, 0, 0]
        assert [m["skipped"] for m in again.mailboxes] == [ITEMS] * 3
        assert sum(len(server_items(target, map_address(a, amap))) for a in MAILBOXES[:3]) == 3 * ITEMS
        target.assert_clean()
        drop_protocols(target)


def test_server_busy_makes_the_whole_cluster_back_off(thread_cluster):
    with _server(latency_ms=40) as server:
        server.generate_mailboxes(6, items=ITEMS, seed=1)
        conn = _connection(server)
        server.inject(ServerBusy(back_off_ms=1500), count=1, operations="ExportItems")
        t0 = time.monotonic()
        report = backup_org([f"user{i:04d}@example.com" for i in range(1, 7)], f"memory://busy-{os.getpid()}",
                            conn, client=thread_cluster, max_concurrency=GLOBAL, max_mailbox_concurrency=1,
                            progress=False)
        assert report.complete == 6
        assert report.to_dict()["totals"]["server_busy"] == 1
        assert time.monotonic() - t0 >= 1.5
        waited = [m for m in report.mailboxes if m["paused_s"] > 0.2]
        assert len(waited) >= 2  # not only the task that was told to back off
        drop_protocols(server)


# --- a local directory, two worker processes, one killed mid-run ----------------------------------------
def test_a_worker_killed_mid_run_still_leaves_every_mailbox_complete_exactly_once(org_server, tmp_path):
    org_server.reset_stats()
    org_server.latency_ms = 1
    killed: List[dict] = []

    def kill_one_mid_mailbox() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for lease in tmp_path.glob("mailboxes/*/.lease"):
                journal = lease.parent / "manifest.journal"
                try:
                    holder = json.loads(lease.read_text())["holder"]
                    if journal.exists() and journal.stat().st_size > 0:  # part of the mailbox is recorded
                        os.kill(holder["pid"], signal.SIGKILL)
                        killed.append(dict(holder, mailbox=lease.parent.name))
                        return
                except (OSError, ValueError, KeyError):
                    continue
            time.sleep(0.02)

    # The scheduler looks for the dead worker's expired budget leases twice a second
    quick_leases = {"distributed.scheduler.locks.lease-validation-interval": "0.5s"}
    try:
        with dask.config.set(quick_leases), \
                distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
                                         dashboard_address="127.0.0.1:0") as cluster, \
                distributed.Client(cluster) as client:
            killer = threading.Thread(target=kill_one_mid_mailbox)
            killer.start()
            report = backup_org(MAILBOXES, str(tmp_path), _connection(org_server), client=client,
                                max_concurrency=GLOBAL, max_mailbox_concurrency=PER_MAILBOX, chunk_size=2,
                                lease_ttl=30, budget_lease_timeout=3, progress=False)
            killer.join()
    finally:
        org_server.latency_ms = 0
    assert killed, "no worker was killed mid-mailbox"
    assert report.complete == N and report.failed == 0
    victim = next(m for m in report.mailboxes if m["mailbox"] == killed[0]["mailbox"])
    assert victim["took_over_from"] == killed[0]["worker"]  # the lease of the dead worker was taken over at once
    assert victim["resumed"] and victim["exported"] < ITEMS  # ... and the journal was used
    for address in MAILBOXES:
        assert_backed_up_exactly_once(org_server, _Dir(tmp_path / "mailboxes" / address), address)
        assert not (tmp_path / "mailboxes" / address / ".lease").exists()
    assert len(item_files(tmp_path)) == N * ITEMS
    assert_budget_kept(org_server)


# --- leases, lists, the command line ----------------------------------------------------------------------
def test_a_lease_is_exclusive_taken_over_when_dead_and_fences_a_stale_holder():
    fs = fsspec.filesystem("memory")
    d1 = FsspecDir(fs, f"/lease-{os.getpid()}")
    d2 = FsspecDir(fs, f"/lease-{os.getpid()}")
    first = StoreLease(d1, ttl=30, holder={"worker": "tcp://127.0.0.1:1"}).acquire()
    with pytest.raises(BackupError, match="lease held by worker=tcp://127.0.0.1:1"):
        StoreLease(d2, ttl=30).acquire()
    second = StoreLease(d2, ttl=30, is_gone=lambda holder: holder.get("worker") == "tcp://127.0.0.1:1").acquire()
    assert second.taken_over["worker"] == "tcp://127.0.0.1:1"
    with pytest.raises(BackupError, match="Lost the lease"):
        d1.write_meta("manifest.json", b"{}")  # the old holder can't overwrite the new one's manifest
    with pytest.raises(BackupError, match="Lost the lease"):
        d1.journal_append("manifest.journal", "{}\n")
    d2.write_meta("manifest.json", b"{}")
    first.release()
    assert json.loads(d2.read_meta(".lease"))["token"] == second.token  # the loser leaves it alone
    second.release()
    assert d2.read_meta(".lease") is None
    expired = StoreLease(d1, ttl=0.01)
    expired._write()
    time.sleep(0.05)
    StoreLease(d2, ttl=30).acquire().release()  # an expired lease is taken


def test_mailbox_lists_and_address_maps():
    assert read_mailbox_list("# all staff\nJohn@Example.com\n\nmary@example.com\njohn@example.com\n") == [
        "john@example.com", "mary@example.com"]
    assert read_mailbox_list("address,name\na@x.org,A\nb@x.org,B\n") == ["a@x.org", "b@x.org"]
    with pytest.raises(ValueError, match="Not an email address"):
        read_mailbox_list("a@x.org\nnot an address\n")
    amap = read_address_map("a@x.org,b@y.org\n*@old.org,*@new.org\n")
    assert map_address("A@x.org", amap) == "b@y.org"
    assert map_address("c@old.org", amap) == "c@new.org"
    assert map_address("c@other.org", amap) == "c@other.org"
    with pytest.raises(ValueError, match="line 1"):
        read_address_map("*@old.org,new@new.org\n")


def test_command_line_with_the_directory_and_an_existing_scheduler(org_server, thread_cluster, tmp_path,
                                                                   monkeypatch):
    admin = org_server.user("ewsadmin@example.com")
    monkeypatch.setenv("EXCHANGELIB_USERNAME", admin.logon_name)
    monkeypatch.setenv("EXCHANGELIB_PASSWORD", admin.password)
    (tmp_path / "list.txt").write_text("john@example.com\n")
    out = io.StringIO()
    with redirect_stdout(out):
        code = main_backup_org([str(tmp_path / "out"), "--server", org_server.url, "--mailboxes",
                                str(tmp_path / "list.txt"), "--from-directory", "user004", "--scheduler",
                                thread_cluster.scheduler.address, "--no-progress", "--summary", "-"])
    assert code == 0
    text = out.getvalue()
    assert admin.password not in text
    summary = json.loads(text[text.index("{"):])
    assert sorted(m["mailbox"] for m in summary["mailboxes"]) == ["john@example.com"] + [
        f"user{i:04d}@example.com" for i in range(40, 50)]
    assert summary["scheduler"] == thread_cluster.scheduler.address
    assert (tmp_path / "out" / "mailboxes" / "user0045@example.com" / "manifest.json").is_file()


def test_app_only_oauth_credentials_travel_to_the_workers(org_server, thread_cluster):
    """Any credentials object works, including OAuth app-only ones that hold a lock (not picklable as such)."""
    creds = org_server.oauth_credentials()  # client credentials of an app with full_access_as_app
    conn = Connection(org_server.url, creds, version=org_server.account("ewsadmin@example.com").version)
    copy = pickle.loads(pickle.dumps(conn))  # what a worker in another process gets
    assert copy.credentials.client_id == creds.client_id and copy.credentials is not creds
    assert "local-app-secret" not in repr(copy)
    org_server.reset_stats()
    report = backup_org(MAILBOXES[:3], f"memory://oauth-{os.getpid()}", copy, client=thread_cluster,
                        max_concurrency=GLOBAL, max_mailbox_concurrency=PER_MAILBOX, progress=False)
    assert report.complete == 3 and report.items == 3 * ITEMS
    assert set(org_server.peak_concurrency_by_caller) == {"app:local-app"}
    assert_budget_kept(org_server)


@pytest.mark.parametrize("code, line", page_examples("migrating.rst"))
def test_migrating_page_examples_print_what_they_say(code, line, monkeypatch):
    run_example("migrating.rst", code, line, monkeypatch, every_print_checked=True)


def test_single_mailbox_backup_to_an_object_store_resumes_from_its_journal_segments(org_server, monkeypatch):
    """FsspecDir: the journal is numbered files (object stores can't append); a run killed before it could
    save its manifest is resumed from them."""
    address = MAILBOXES[-1]
    account = _connection(org_server).account(address, max_connections=PER_MAILBOX)  # within the server's budget
    url = f"memory://single-{os.getpid()}-{time.monotonic_ns()}"
    saves: List[str] = []
    write_meta = FsspecDir.write_meta

    def killed_at_the_final_save(self, name, data):
        if name == "manifest.json":
            saves.append(name)
            if len(saves) > 1:  # the first save (the folder tree) goes through, the final one never happens
                raise OSError("the process was killed")
        return write_meta(self, name, data)

    monkeypatch.setattr(FsspecDir, "write_meta", killed_at_the_final_save)
    with pytest.raises(OSError, match="killed"):
        backup_mailbox(account, url, chunk_size=2)
    monkeypatch.undo()
    d = open_backup_dir(url, create=False)
    assert json.loads(d.read_meta("manifest.json"))["items"] == {}
    segments = [p for p in fsspec.filesystem("memory").ls(url[len("memory://"):], detail=False) if ".journal." in p]
    assert len(segments) == ITEMS // 2  # one numbered journal file per chunk of two items
    again = backup_mailbox(account, url)
    assert again.exported == 0 and again.unchanged == ITEMS  # everything came back from the journal
    assert_backed_up_exactly_once(org_server, d, address)
    assert not [p for p in fsspec.filesystem("memory").ls(url[len("memory://"):], detail=False)
                if ".journal." in p]  # the manifest was saved: the journal files are gone
    with pytest.raises(BackupError, match="not a backup directory"):
        open_backup_dir(f"memory://nothing-here-{os.getpid()}", create=False)


def test_a_local_directory_waits_for_a_fenced_holder_and_refuses_plain_runs_during_a_lease(tmp_path):
    old_dir, new_dir, plain_dir = _Dir(tmp_path), _Dir(tmp_path), _Dir(tmp_path)
    old = StoreLease(old_dir, ttl=30, holder={"worker": "tcp://127.0.0.1:1"}).acquire()
    old_lock = old_dir.lock()  # the old holder is running a backup
    new = StoreLease(new_dir, ttl=30, is_gone=lambda holder: True).acquire()  # the cluster gave up on it
    with pytest.raises(BackupError, match="Lost the lease"):
        old_dir.journal_append("manifest.journal", "{}\n")  # its next write fails ...
    threading.Timer(0.3, old_lock.release).start()  # ... and it lets go of the directory
    t0 = time.monotonic()
    new_lock = new_dir.lock()  # waits for that instead of failing
    assert time.monotonic() - t0 >= 0.2
    new_lock.release()
    with pytest.raises(BackupError, match="lease held by"):
        plain_dir.lock()  # a single-mailbox run can't start while the lease is held (by another machine, say)
    new.release()
    old.release()
    plain_dir.lock().release()


def test_the_progress_line_counts_mailboxes_and_items():
    out = io.StringIO()
    bar = _OrgProgress(stream=out, tty=True)
    bar.start(4, "Mailboxes")
    bar.items = 120
    bar.advance()
    line = bar.line()
    assert line.startswith("Mailboxes [") and " 1/4 " in line and "mailboxes/s" in line
    assert ", 120 items (" in line and "items/s)" in line and "ETA" in line
    bar.finish()
    assert out.getvalue().endswith("\n") and "\r" in out.getvalue()
