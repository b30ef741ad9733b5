"""SyncFolderItems / SyncFolderHierarchy over HTTP against the local server: folder.sync_items(),
folder.sync_hierarchy(), stored sync states across processes, paging, Ignore, SyncScope and bad states."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from exchangelib import Folder, Message
from exchangelib.errors import ErrorInvalidSyncStateData

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def inbox_folder(exchange):
    """A fresh, empty folder in John's inbox (so tests don't see each other's items)."""
    account = exchange.account("john@example.com")
    folder = Folder(parent=account.inbox, name=f"sync-{id(object())}").save()
    yield folder
    folder.delete()


def _subjects(changes):
    return sorted((t, getattr(v, "subject", None)) for t, v in changes if t in ("create", "update"))


def test_initial_sync_pages_and_resumes(inbox_folder):
    account = inbox_folder.account
    account.bulk_create(folder=inbox_folder, items=[Message(subject=f"m{i}") for i in range(7)])
    changes = list(inbox_folder.sync_items(max_changes_returned=3))
    assert sorted(v.subject for _, v in changes) == [f"m{i}" for i in range(7)]
    assert {t for t, _ in changes} == {"create"}
    state = inbox_folder.item_sync_state
    assert isinstance(state, str) and len(state) < 100  # opaque and bounded, whatever the folder holds
    # Nothing changed: nothing reported, and the state keeps working
    assert list(inbox_folder.sync_items(sync_state=state)) == []
    # A caller that stops in the middle of a page resumes from the last complete page: nothing is lost
    account.bulk_create(folder=inbox_folder, items=[Message(subject=f"n{i}") for i in range(5)])
    it = inbox_folder.sync_items(sync_state=state, max_changes_returned=2)
    first = [next(it), next(it), next(it)]  # page 1 (2 changes) and the first of page 2
    it.close()
    rest = list(inbox_folder.sync_items(sync_state=inbox_folder.item_sync_state, max_changes_returned=2))
    seen = [v.subject for _, v in first[:2] + rest]
    assert sorted(seen) == [f"n{i}" for i in range(5)]


def test_update_delete_read_flag_and_move(inbox_folder, exchange):
    account = inbox_folder.account
    a, b, c, d = account.bulk_create(folder=inbox_folder, items=[Message(subject=s) for s in "abcd"])
    list(inbox_folder.sync_items())
    state = inbox_folder.item_sync_state
    a = account.inbox.get_items([a])[0]
    a.subject = "a2"
    a.save(update_fields=["subject"])
    b = account.inbox.get_items([b])[0]
    b.is_read = True
    b.save(update_fields=["is_read"])
    gone_ids = sorted([c.id, d.id])
    account.bulk_delete([c])
    account.bulk_move([d], account.drafts)
    e = Message(account=account, folder=inbox_folder, subject="e").save()
    e.delete()  # created and deleted in between: nothing to report
    changes = list(inbox_folder.sync_items(sync_state=state))
    by_type = {}
    for t, v in changes:
        by_type.setdefault(t, []).append(v)
    assert [v.subject for v in by_type["update"]] == ["a2"]
    (rf,) = by_type["read_flag_change"]
    assert rf[0].id == b.id and rf[1] is True
    assert sorted(v.id for v in by_type["delete"]) == gone_ids  # deleted, and moved out
    assert set(by_type) == {"update", "read_flag_change", "delete"}


def test_ignore_and_only_fields(inbox_folder):
    account = inbox_folder.account
    list(inbox_folder.sync_items())
    state = inbox_folder.item_sync_state
    mine, theirs = account.bulk_create(folder=inbox_folder, items=[Message(subject="mine"),
                                                                   Message(subject="x", body="the body")])
    changes = list(inbox_folder.sync_items(sync_state=state, ignore=[mine], only_fields=["subject", "body"]))
    assert [(t, v.subject) for t, v in changes] == [("create", "x")]
    assert changes[0][1].datetime_received is None  # only the asked-for fields came back
    assert changes[0][1].body == "the body"  # unlike FindItem, SyncFolderItems returns a body asked for


def test_associated_items_only_with_sync_scope(exchange, inbox_folder):
    account = inbox_folder.account
    store = exchange.store
    with store.lock:
        mb = store.get_mailbox("john@example.com")
        folder = store.find_folder(next(k for k, f in mb.folders.items() if f.id == inbox_folder.id))
        elem = next(iter(store.items.values())).elem.__copy__()
        store.add_item(folder, elem, associated=True)
    assert list(inbox_folder.sync_items(sync_state=None)) == []
    inbox_folder.item_sync_state = None
    assert [t for t, _ in inbox_folder.sync_items(sync_scope="NormalAndAssociatedItems")] == ["create"]
    with pytest.raises(ValueError, match="sync_scope"):
        list(inbox_folder.sync_items(sync_scope="All"))
    with pytest.raises(ValueError, match="max_changes_returned"):
        list(inbox_folder.sync_items(max_changes_returned=513))


def test_bad_and_foreign_states_are_refused(exchange, inbox_folder):
    account = inbox_folder.account
    list(inbox_folder.sync_items())
    state = inbox_folder.item_sync_state
    with pytest.raises(ErrorInvalidSyncStateData):
        list(account.calendar.sync_items(sync_state=state))  # another folder's state
    mary = exchange.account("mary@example.com")
    with pytest.raises(ErrorInvalidSyncStateData):
        list(mary.inbox.sync_items(sync_state=state))  # another mailbox's
    for bad in ("not base64!", "AAAA", state[:-4] + "AAAA"):
        with pytest.raises(ErrorInvalidSyncStateData):
            list(inbox_folder.sync_items(sync_state=bad))
    with pytest.raises(ErrorInvalidSyncStateData):
        list(account.root.sync_hierarchy(sync_state=state))  # an item state is no hierarchy state


def test_sync_hierarchy(inbox_folder):
    account = inbox_folder.account
    changes = list(inbox_folder.sync_hierarchy())
    assert changes == []
    state = inbox_folder.folder_sync_state
    sub = Folder(parent=inbox_folder, name="child").save()
    gone = Folder(parent=inbox_folder, name="gone").save()
    first = list(inbox_folder.sync_hierarchy(sync_state=state))
    assert sorted((t, f.name) for t, f in first) == [("create", "child"), ("create", "gone")]
    state = inbox_folder.folder_sync_state
    sub.name = "renamed"
    sub.save()
    gone_id = gone.id
    gone.delete()
    second = list(inbox_folder.sync_hierarchy(sync_state=state))
    assert [(t, f.name) for t, f in second if t == "update"] == [("update", "renamed")]
    assert [f.id for t, f in second if t == "delete"] == [gone_id]
    # A folder moved elsewhere leaves this tree (a delete here) and joins the other (a create there)
    list(account.drafts.sync_hierarchy())
    drafts_state, here_state = account.drafts.folder_sync_state, inbox_folder.folder_sync_state
    sub.move(account.drafts)
    assert [(t, f.id) for t, f in inbox_folder.sync_hierarchy(sync_state=here_state)] == [("delete", sub.id)]
    assert [(t, f.name) for t, f in account.drafts.sync_hierarchy(sync_state=drafts_state)] == [("create", "renamed")]
    # The whole mailbox: the well-known folders are there
    names = {f.name for t, f in account.root.sync_hierarchy() if t == "create"}
    assert {"Inbox", "Calendar", "renamed"} <= names


_SECOND_PROCESS = textwrap.dedent('''
    import json, sys
    from exchangelib import Account, Configuration, Credentials, DELEGATE, Folder
    from exchangelib.properties import FolderId
    url, password, folder_id, state = sys.argv[1:5]
    config = Configuration(service_endpoint=url, credentials=Credentials("EXAMPLE\\\\john", password),
                           auth_type="NTLM")
    account = Account("john@example.com", config=config, access_type=DELEGATE, autodiscover=False)
    folder = Folder(account=account, id=folder_id)
    out = [(t, v.subject if t != "delete" else v.id) for t, v in folder.sync_items(sync_state=state)]
    print(json.dumps({"changes": out, "state": folder.item_sync_state}))
''')


def test_sync_loop_across_processes_sees_changes_of_another_user_exactly_once(exchange, inbox_folder, tmp_path):
    account = inbox_folder.account
    account.bulk_create(folder=inbox_folder, items=[Message(subject="old1"), Message(subject="old2")])
    list(inbox_folder.sync_items())
    state_file = tmp_path / "state.txt"
    state_file.write_text(inbox_folder.item_sync_state)
    # Mary, John's delegate, changes John's folder between the two processes' syncs
    mary = exchange.account("mary@example.com")
    folder_as_mary = Folder(account=mary, id=inbox_folder.id)
    created = mary.bulk_create(folder=folder_as_mary, items=[Message(subject=f"new{i}") for i in range(3)])
    old = [i for i in folder_as_mary.find_items(shape="Default") if i.subject.startswith("old")]
    old[0].subject = "old1-edited"
    old[0].save(update_fields=["subject"])
    mary.bulk_delete([old[1]])
    mary.bulk_delete([created[2]])  # created and deleted between the syncs: not reported

    user = exchange.user("john@example.com")
    r = subprocess.run([sys.executable, "-c", _SECOND_PROCESS, exchange.url, user.password, inbox_folder.id,
                        state_file.read_text()], capture_output=True, text=True, timeout=60,
                       env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
                            "PYTHONPYCACHEPREFIX": os.environ["PYTHONPYCACHEPREFIX"]})
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    changes = [tuple(c) for c in out["changes"]]
    assert sorted(c for c in changes if c[0] != "delete") == [("create", "new0"), ("create", "new1"),
                                                                ("update", "old1-edited")]
    assert [c for c in changes if c[0] == "delete"] == [("delete", old[1].id)]
    # The state the second process stored continues here: nothing is reported twice
    assert list(inbox_folder.sync_items(sync_state=out["state"])) == []


def test_sync_states_survive_a_server_restart(make_exchange):
    server = make_exchange()
    account = server.account("john@example.com")
    account.bulk_create(folder=account.drafts, items=[Message(subject="before")])
    list(account.drafts.sync_items())
    state = account.drafts.item_sync_state
    server.stop()
    server.start()  # same store, new port: the stored state still works
    account = server.account("john@example.com")
    account.bulk_create(folder=account.drafts, items=[Message(subject="after")])
    assert [(t, i.subject) for t, i in account.drafts.sync_items(sync_state=state)] == [("create", "after")]


def test_many_writes_keep_an_items_journal_small_and_the_answers_right(exchange, inbox_folder):
    account = inbox_folder.account
    (item,) = account.bulk_create(folder=inbox_folder, items=[Message(subject="v0")])
    list(inbox_folder.sync_items())
    before_reads = inbox_folder.item_sync_state
    item = inbox_folder.get_items([item])[0]
    for n in range(1, 30):
        item.subject = f"v{n}"
        item.save(update_fields=["subject"])
    list(inbox_folder.sync_items(sync_state=before_reads))
    after_edits = inbox_folder.item_sync_state
    for flag in (True, False, True):
        item.is_read = flag
        item.save(update_fields=["is_read"])
    # From before the edits: an update; from after them: only the read flag changed
    assert [t for t, _ in inbox_folder.sync_items(sync_state=before_reads)] == ["update"]
    assert [t for t, _ in inbox_folder.sync_items(sync_state=after_edits)] == ["read_flag_change"]
    with exchange.store.lock:
        journal = next(f for f in exchange.store.folders.values() if f.id == inbox_folder.id).journal
        assert max(len(e) for e in journal.entries.values()) <= 3  # add, the last edit, the last flag change
