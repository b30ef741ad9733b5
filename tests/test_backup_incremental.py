"""Incremental backups through change tracking: a run after changes asks each folder what changed since its
stored sync state (SyncFolderItems) and exports exactly the new and changed items; a run over an unchanged
mailbox exports nothing; deletions are dropped (or kept with keep_deleted); moves are followed; an
interrupted run resumes from the old states without losing a change."""
from __future__ import annotations

import time

import pytest

from exchangelib import Folder, Message
from exchangelib.backup import backup_mailbox
from exchangelib.services import CreateFolder
from exchangelib.testing.ops.stamp import copy_element
from exchangelib.testing.store import decode_id
from exchangelib.xml import TNS
from tests.test_backup import counting_exports, load_manifest

JOHN = "john@example.com"
MARY = "mary@example.com"


def _folder(acc, parent, name):
    folder = next(CreateFolder(account=acc).call(parent, [Folder(name=name)]))
    assert not isinstance(folder, Exception), folder
    return folder


@pytest.fixture(scope="module")
def mailbox(_module_exchange):
    """John's mailbox with 3,000 messages in three folders (one saved through EWS per folder, the rest cloned
    from it inside the server's store, which is much faster and journals them the same way)."""
    server = _module_exchange
    john = server.account(JOHN)
    folders = [john.inbox, _folder(john, john.inbox, "Archive 2025"), _folder(john, john.inbox, "Receipts")]
    store = server.store
    for n, folder in enumerate(folders):
        (first,) = john.bulk_create(folder=folder, items=[Message(subject=f"m{n}-0", body="x" * 200)])
        with store.lock:
            rec = store.find_item(decode_id(first.id)[2])
            for i in range(1, 1000):
                clone = copy_element(rec.elem)
                clone.find(f"{{{TNS}}}Subject").text = f"m{n}-{i}"
                store.add_item(rec.folder, clone)
    return server, folders


def test_incremental_backup_exports_exactly_the_changes(exchange, mailbox, tmp_path):
    server, (inbox, archive, receipts) = mailbox
    john = exchange.account(JOHN)
    t0 = time.monotonic()
    first = backup_mailbox(john, tmp_path, chunk_size=100)
    full_seconds = time.monotonic() - t0
    assert first.exported == first.items >= 3000 and first.failed == 0
    manifest = load_manifest(tmp_path)
    holding = {e.get("folder") for e in manifest.items.values()}
    # every folder with items has a sync state (empty folders are skipped without a request)
    assert holding and all(manifest.folders[fid].get("sync_state") for fid in holding)

    # Unchanged mailbox: no ExportItems at all, and no FindItem listing of items either (settings=False: the
    # settings pass lists each folder's configuration objects with an Associated FindItem, checked below)
    exchange.reset_stats()
    with counting_exports() as exported:
        again = backup_mailbox(john, tmp_path, settings=False)
    assert exported == [] and exchange.request_count("ExportItems") == 0 and exchange.request_count("FindItem") == 0
    exchange.reset_stats()
    with counting_exports() as exported:
        backup_mailbox(john, tmp_path)
    assert exported == [] and exchange.request_count("ExportItems") == 0
    assert again.unchanged == first.items and again.exported == 0

    # 100 changes: 40 new, 30 edited, 20 deleted, 10 moved to another folder
    ids = {f.id: f.find_items(shape="Default", max_items=30) for f in (inbox, archive)}
    new = john.bulk_create(folder=receipts, items=[Message(subject=f"new {i}") for i in range(40)])
    edited = ids[inbox.id][:30]
    for item in edited:
        item.subject = item.subject + " (edited)"
    assert all(isinstance(r, tuple) for r in john.bulk_update([(i, ["subject"]) for i in edited]))
    deleted = ids[archive.id][:20]
    deleted_ids = [i.id for i in deleted]
    assert john.bulk_delete(deleted) == [True] * 20
    moving = ids[archive.id][20:30]
    moved_from = [i.id for i in moving]
    moved = john.bulk_move(moving, receipts)
    moved_to = [m[0] for m in moved]

    with counting_exports() as exported:
        t0 = time.monotonic()
        inc = backup_mailbox(john, tmp_path)
        inc_seconds = time.monotonic() - t0
    expected = {n.id for n in new} | {i.id for i in edited} | set(moved_to)
    assert len(expected) == 80 and sorted(exported) == sorted(expected)  # deletions need no download
    assert (inc.exported, inc.changed, inc.removed) == (80, 30, 30)  # 20 deleted + 10 moved out
    assert inc.items == first.items + 40 - 20
    assert inc_seconds < full_seconds
    manifest = load_manifest(tmp_path)
    assert not set(deleted_ids + moved_from) & set(manifest.items)
    assert all(manifest.items[i]["folder"] == receipts.id for i in moved_to)
    for entry in manifest.items.values():
        assert (tmp_path / entry["file"]).stat().st_size == entry["size"]


def test_interrupted_incremental_run_resumes_from_the_old_state(exchange, tmp_path):
    john = exchange.account(MARY)  # a small mailbox: quick full backups
    folder = _folder(john, john.inbox, "Resume")
    john.bulk_create(folder=folder, items=[Message(subject=f"r{i}") for i in range(10)])
    backup_mailbox(john, tmp_path)
    state_before = load_manifest(tmp_path).folders[folder.id]["sync_state"]
    john.bulk_create(folder=folder, items=[Message(subject=f"later {i}") for i in range(300)])
    with counting_exports() as first_part:
        stopped = backup_mailbox(john, tmp_path, chunk_size=10, stop=lambda s: s.exported >= 20)
    assert stopped.interrupted and 20 <= len(first_part) < 300
    assert load_manifest(tmp_path).folders[folder.id]["sync_state"] == state_before  # not moved on
    with counting_exports() as second_part:
        done = backup_mailbox(john, tmp_path)
    assert not set(first_part) & set(second_part)
    assert len(first_part) + len(second_part) == 300 and not done.interrupted
    assert load_manifest(tmp_path).folders[folder.id]["sync_state"] != state_before


def test_keep_deleted_keeps_the_file_and_marks_it(exchange, tmp_path):
    john = exchange.account(MARY)  # a small mailbox: quick full backups
    folder = _folder(john, john.inbox, "Keep deleted")
    a, b = john.bulk_create(folder=folder, items=[Message(subject="a"), Message(subject="b")])
    backup_mailbox(john, tmp_path, keep_deleted=True)
    b_id = b.id
    john.bulk_delete([b])
    stats = backup_mailbox(john, tmp_path, keep_deleted=True)
    entry = load_manifest(tmp_path).items[b_id]
    assert entry["deleted"] and (tmp_path / entry["file"]).exists()
    assert stats.removed == 1
    # ... and a later run neither drops it nor counts it again
    later = backup_mailbox(john, tmp_path, keep_deleted=True)
    assert later.removed == 0 and load_manifest(tmp_path).items[b_id]["deleted"] == entry["deleted"]


def test_a_refused_state_falls_back_to_a_full_listing(exchange, tmp_path):
    john = exchange.account(MARY)  # a small mailbox: quick full backups
    folder = _folder(john, john.inbox, "Refused")
    john.bulk_create(folder=folder, items=[Message(subject=f"x{i}") for i in range(5)])
    other = _folder(john, john.inbox, "Other")
    john.bulk_create(folder=other, items=[Message(subject="y")])
    backup_mailbox(john, tmp_path)
    manifest = load_manifest(tmp_path)
    manifest.folders[folder.id]["sync_state"] = manifest.folders[other.id]["sync_state"]  # another folder's
    manifest.save()
    with counting_exports() as exported:
        stats = backup_mailbox(john, tmp_path)
    assert exported == [] and stats.failed == 0 and stats.removed == 0
    assert load_manifest(tmp_path).folders[folder.id]["sync_state"] != manifest.folders[other.id]["sync_state"]
