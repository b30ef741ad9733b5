"""The resumable mailbox backup and restore (``python -m exchangelib backup|restore``).

A mailbox of 2,000 items in nested folders is backed up by the real command in a subprocess, which is
killed half-way; the next run downloads only what the first didn't record (the server counts every
exported id). Changed items are fetched again, deleted ones dropped. A restore into an empty mailbox
on a fresh server reproduces every item field by field. Folder names the server sends can't make the
backup write outside its directory, and the password never appears in argv or output.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from exchangelib import (Attendee, CalendarItem, Contact, EWSDate, EWSDateTime, EWSTimeZone, Folder, Mailbox, Message,
                         Task)
from exchangelib.backup import (ITEM_SUFFIX, MAX_NAME_BYTES, BackupError, Manifest, Progress, _Dir, _Lock,
                                _remote_tree, backup_mailbox, item_file_name, restore_mailbox, safe_name)
from exchangelib.properties.attachments import FileAttachment
from exchangelib.properties.recurrence import DailyPattern, Recurrence
from exchangelib.services import CreateFolder, FindItem
from exchangelib.testing import LocalExchange
from exchangelib.testing.context import OPERATIONS
from exchangelib.testing.ops.export import read_stream
from exchangelib.testing.store import decode_id
from exchangelib.xml import TNS
from tests.test_export_upload import assert_same_item

REPO = Path(__file__).resolve().parents[1]
JOHN = "john@example.com"
MARY = "mary@example.com"
T = f"{{{TNS}}}"
TZ = EWSTimeZone.timezone("Europe/Copenhagen")
BULK = 500  # messages per folder in the big mailbox (4 folders: 2,000 messages)


# --- helpers ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def counting_exports() -> Iterator[List[str]]:
    """Every item id the local server is asked to export while the block runs."""
    seen: List[str] = []
    original = OPERATIONS["ExportItems"]

    def counting(ctx: Any, body: etree._Element) -> etree._Element:
        seen.extend(el.get("Id") for el in body.iter(f"{T}ItemId"))
        return original(ctx, body)

    OPERATIONS["ExportItems"] = counting
    try:
        yield seen
    finally:
        OPERATIONS["ExportItems"] = original


def load_manifest(outdir: Path) -> Manifest:
    return Manifest(_Dir(outdir)).load()


def make_folder(acc: Any, parent: Any, name: str) -> Any:
    folder = next(CreateFolder(account=acc).call(parent, [Folder(name=name)]))
    assert not isinstance(folder, Exception), folder
    return folder


def mailbox_item_ids(acc: Any) -> Set[str]:
    _root, folders = _remote_tree(acc, "msgfolderroot")
    return {i.id for f in folders if f.kind != "SearchFolder" for i in FindItem(account=acc).call(f.obj)}


def name_paths(acc: Any) -> Dict[str, Any]:
    """'Inbox/Projects/2026' -> folder, for every folder below msgfolderroot."""
    _root, folders = _remote_tree(acc, "msgfolderroot")
    by_id = {f.id: f for f in folders}
    out = {}
    for f in folders:
        parts, g = [], f
        while g is not None:
            parts.append(g.name)
            g = by_id.get(g.parent)
        out["/".join(reversed(parts))] = f
    return out


def stored(server: LocalExchange, item_id: str) -> etree._Element:
    _kind, _mailbox, key = decode_id(item_id)
    return server.store.find_item(key).elem


def run_cli(*args: str, env: Dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exchangelib", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, cwd=REPO)


def cli_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGELIB_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


# --- the big mailbox ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big(_module_exchange: LocalExchange) -> LocalExchange:
    """John's mailbox: 2,000 messages in Inbox, Inbox/Projects, Inbox/Projects/2026 and .../2026/Q1, plus a
    recurring meeting with attendees, a message with an attachment, a contact and a task."""
    server = _module_exchange
    john = server.account(JOHN)
    projects = make_folder(john, john.inbox, "Projects")
    year = make_folder(john, projects, "2026")
    quarter = make_folder(john, year, "Q1")
    for n, folder in enumerate((john.inbox, projects, year, quarter)):
        created = john.bulk_create(folder=folder, items=[
            Message(subject=f"Message {n}-{i}", body=f"Body of message {i} " * 10, categories=["bulk", f"f{n}"])
            for i in range(BULK)])
        assert all(not isinstance(c, Exception) for c in created)
    john.bulk_create(folder=john.calendar, items=[CalendarItem(
        subject="Daily stand-up", start=TZ.localize(EWSDateTime(2026, 3, 2, 9)),
        end=TZ.localize(EWSDateTime(2026, 3, 2, 9, 15)), categories=["team"],
        required_attendees=[Attendee(mailbox=Mailbox(email_address=MARY), response_type="Accept")],
        recurrence=Recurrence(pattern=DailyPattern(interval=1), start=EWSDate(2026, 3, 2), number=20))])
    john.bulk_create(folder=john.inbox, items=[Message(
        subject="With attachment", attachments=[FileAttachment(name="a.bin", content=bytes(range(256)) * 40)])])
    john.bulk_create(folder=john.contacts, items=[Contact(given_name="Mary", surname="Smith")])
    john.bulk_create(folder=john.tasks, items=[Task(subject="Restore drill", categories=["ops"])])
    return server


# --- kill and resume ------------------------------------------------------------------------------------
def test_killed_backup_resumes_without_downloading_again(exchange, big, tmp_path):
    user = exchange.user(JOHN)
    outdir = tmp_path / "backup"
    env = cli_env(EXCHANGELIB_PASSWORD=user.password)
    exchange.latency_ms = 15  # slow enough that we can kill the run half-way
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "exchangelib", "backup", "--server", exchange.url, "--user", user.logon_name,
             "--email", JOHN, "--auth", "ntlm", "--chunk-size", "20", str(outdir)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO)
        journal = outdir / "manifest.journal"
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if journal.exists() and journal.read_bytes().count(b"\n") >= 600:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        _out, err = proc.communicate(timeout=30)
    finally:
        exchange.latency_ms = 0
    assert proc.returncode == -signal.SIGKILL, f"the backup finished before we could kill it: {err!r}"

    killed = load_manifest(outdir)
    had = dict(killed.items)
    total = len(mailbox_item_ids(exchange.account(JOHN)))
    assert 600 <= len(had) < total
    for entry in had.values():  # whatever the manifest lists is complete on disk
        assert (outdir / entry["file"]).stat().st_size == entry["size"]

    with counting_exports() as exported:
        stats = backup_mailbox(exchange.account(JOHN), outdir)
    assert not set(exported) & set(had), "items the first run had recorded were downloaded again"
    assert len(exported) == total - len(had) == stats.exported
    assert stats.unchanged == len(had) and stats.items == total and stats.failed == 0 and not stats.interrupted
    final = load_manifest(outdir)
    assert set(final.items) == mailbox_item_ids(exchange.account(JOHN))
    for entry in final.items.values():
        assert (outdir / entry["file"]).stat().st_size == entry["size"]
    assert not [p for p in outdir.rglob("*") if p.name.endswith(".tmp")], "temporary files left behind"
    assert json.loads((outdir / "manifest.json").read_text())["completed"]
    forget_truncated_requests(exchange)


def forget_truncated_requests(server: LocalExchange) -> None:
    """A client killed while sending leaves a truncated request the server can't parse (no operation name):
    that is the kill, not an invalid request of ours. Anything else still fails the test at teardown."""
    server.schema_errors[:] = [e for e in server.schema_errors if e.operation is not None or e.kind != "request"]


def test_stop_hook_interrupts_cleanly_and_the_next_run_finishes(exchange, big, tmp_path):
    john = exchange.account(JOHN)
    with counting_exports() as exported:
        stats = backup_mailbox(john, tmp_path, chunk_size=30, stop=lambda s: s.exported >= 250)
    # Requests already on their way when it stopped are taken in and recorded, not thrown away
    assert stats.interrupted and 250 <= stats.exported == len(exported) < stats.items
    assert len(load_manifest(tmp_path).items) == stats.exported
    with counting_exports() as exported_again:
        again = backup_mailbox(john, tmp_path)
    assert not set(exported) & set(exported_again)
    assert again.unchanged == stats.exported and len(exported_again) == again.exported
    assert again.exported + stats.exported == again.items and not again.interrupted


def test_changed_items_are_fetched_again_and_deleted_ones_dropped(exchange, big, tmp_path):
    john = exchange.account(JOHN)
    folder = make_folder(john, john.inbox, "Churn")
    keep, change, delete = john.bulk_create(folder=folder, items=[
        Message(subject="keep"), Message(subject="change me"), Message(subject="delete me")])
    first = backup_mailbox(john, tmp_path)
    assert first.exported == first.items
    before = load_manifest(tmp_path)
    deleted_file = tmp_path / before.items[delete.id]["file"]
    assert deleted_file.exists()

    change.subject = "changed"
    assert isinstance(john.bulk_update([(change, ["subject"])])[0], tuple)
    assert john.bulk_delete([delete]) == [True]
    (new,) = john.bulk_create(folder=folder, items=[Message(subject="new")])

    with counting_exports() as exported:
        second = backup_mailbox(john, tmp_path)
    assert sorted(exported) == sorted([change.id, new.id])
    assert (second.exported, second.changed, second.removed) == (2, 1, 1)
    assert second.unchanged == first.items - 2
    after = load_manifest(tmp_path)
    assert delete.id not in after.items and not deleted_file.exists()
    assert second.folders == first.folders
    assert after.items[change.id]["ck"] == change.changekey != before.items[change.id]["ck"]
    elem, _ = read_stream((tmp_path / after.items[change.id]["file"]).read_bytes())
    assert elem.findtext(f"{T}Subject") == "changed"
    assert after.items[keep.id] == before.items[keep.id]


# --- restore ------------------------------------------------------------------------------------------
def test_restore_into_an_empty_mailbox_reproduces_every_item(exchange, big, tmp_path, make_exchange):
    john = exchange.account(JOHN)
    backup = backup_mailbox(john, tmp_path)
    assert backup.failed == 0
    target_server = make_exchange()
    target = target_server.account(JOHN)
    assert mailbox_item_ids(target) == set()

    stats = restore_mailbox(target, tmp_path, chunk_size=40)
    assert stats.failed == 0 and stats.uploaded == backup.items == len(stats.id_map)
    assert stats.folders_created >= 4  # Projects, 2026, Q1 (+ any other test's folders)

    # The folder tree: every backed-up folder exists under the same names
    source_paths, target_paths = name_paths(john), name_paths(target)
    assert set(source_paths) <= set(target_paths)
    for path in ("Inbox/Projects/2026/Q1", "Calendar", "Contacts", "Tasks"):
        assert target_paths[path].kind == source_paths[path].kind

    # Every item, field by field, in the folder of the same name
    src_ids, dst_ids = list(stats.id_map), [i for i, _ck in stats.id_map.values()]
    folder_path = {f.id: p for p, f in source_paths.items()}
    target_folder_path = {f.id: p for p, f in target_paths.items()}
    for original, copy in zip(john.fetch(src_ids), target.fetch(dst_ids)):
        assert_same_item(original, copy)
        assert target_folder_path[copy.parent_folder_id.id] == folder_path[original.parent_folder_id.id]
    for src, dst in zip(src_ids, dst_ids):  # what GetItem doesn't show (attachment content) is there too
        assert etree.tostring(stored(target_server, dst), method="c14n") == \
            etree.tostring(stored(exchange, src), method="c14n")
    assert FindItem(account=target).count(target_paths["Inbox/Projects/2026/Q1"].obj) == BULK

    # Restoring again into the same mailbox creates no duplicates
    again = restore_mailbox(target, tmp_path)
    assert (again.uploaded, again.skipped, again.folders_created) == (0, stats.uploaded, 0)
    assert len(mailbox_item_ids(target)) == stats.uploaded


def test_restore_stopped_half_way_resumes_without_duplicates(exchange, tmp_path, make_exchange):
    mary = exchange.account(MARY)
    folder = make_folder(mary, mary.inbox, "Half")
    mary.bulk_create(folder=folder, items=[Message(subject=f"half {i}") for i in range(200)])
    backup_mailbox(mary, tmp_path)
    target = make_exchange().account(MARY)
    total = len(load_manifest(tmp_path).items)
    first = restore_mailbox(target, tmp_path, chunk_size=10, stop=lambda s: s.uploaded >= 25)
    assert first.interrupted and 25 <= first.uploaded < total
    second = restore_mailbox(target, tmp_path, chunk_size=10)
    assert second.skipped == first.uploaded and second.uploaded + first.uploaded == total
    assert len(mailbox_item_ids(target)) == total  # no duplicates


def test_restore_killed_twice_resumes_without_duplicates(exchange, tmp_path, make_exchange):
    """kill -9 while uploads are in flight (the server finishes them; their answers die with the process),
    twice: the next run creates nothing twice (issue #20)."""
    mary = exchange.account(MARY)
    folder = make_folder(mary, mary.inbox, "Killed")
    mary.bulk_create(folder=folder, items=[Message(subject=f"killed {i}") for i in range(300)])
    backup_mailbox(mary, tmp_path)
    total = len(load_manifest(tmp_path).items)
    target_server = make_exchange(latency_ms=20)  # slow enough to kill it with requests in flight
    user = target_server.user(MARY)
    journals = []
    for kill_at in (60, 160):
        proc = subprocess.Popen(
            [sys.executable, "-m", "exchangelib", "restore", "--server", target_server.url, "--user", user.logon_name,
             "--email", MARY, "--auth", "ntlm", "--chunk-size", "10", str(tmp_path)],
            env=cli_env(EXCHANGELIB_PASSWORD=user.password), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, cwd=REPO)
        deadline = time.monotonic() + 60
        journal = None
        while proc.poll() is None and time.monotonic() < deadline:
            journal = journal or next(iter(tmp_path.glob("restore-*.journal")), None)
            if journal is not None and journal.read_bytes().count(b'"id"') >= kill_at:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, f"the restore finished before we could kill it: {err!r}"
        journals.append(journal)
        forget_truncated_requests(target_server)
    target_server.latency_ms = 0
    target = target_server.account(MARY)
    stats = restore_mailbox(target, tmp_path, chunk_size=10)
    assert stats.failed == 0 and stats.skipped + stats.uploaded == total
    subjects = [i.subject for f in _remote_tree(target, "msgfolderroot")[1] if f.kind != "SearchFolder"
                for i in FindItem(account=target).call(f.obj, additional_fields=[Message.FIELDS["subject"]])]
    assert len(subjects) == total  # no duplicates, no placeholders left
    assert "exchangelib restore in progress" not in subjects
    assert len(set(subjects)) == len(subjects)


# --- hostile folder names and directories -------------------------------------------------------------------
EVIL_NAMES = ["..", ".", "../../../escape", "/etc/passwd", "a/b", "a\\b", "C:\\Windows", "CON", "con.txt", "nul",
              "LPT1", "Case", "case", "CASE", "x" * 300, "\u00e9", "e\u0301", ".hidden", "trailing. ", "   ",
              "foo.item", "tab\tname", "\u202eevil", "manifest.json", "deep", "folders", "\U0001f4c1 files",
              "\u00e9" * 200]


def test_evil_folder_names_never_escape_outdir(make_exchange, tmp_path):
    server = make_exchange()
    mary = server.account(MARY)
    store_mb = server.store.get_mailbox(MARY)
    inbox_rec = store_mb.folder("inbox")
    made = []
    for name in EVIL_NAMES:  # straight into the server's store: no CreateFolder validation in the way
        rec = store_mb.create_folder(inbox_rec, "Folder", name, "IPF.Note")
        made.append(rec)
        mary.bulk_create(folder=Folder(account=mary, id=rec.id), items=[Message(subject=f"in {name[:100]!r}")])
    nested = store_mb.create_folder(made[0], "Folder", "..", "IPF.Note")
    mary.bulk_create(folder=Folder(account=mary, id=nested.id), items=[Message(subject="nested")])

    outdir = tmp_path / "out"
    outside = tmp_path / "outside-marker"
    outside.mkdir()
    before = {p for p in tmp_path.rglob("*") if outdir not in p.parents and p != outdir}
    stats = backup_mailbox(mary, outdir)
    assert stats.failed == 0 and stats.exported == len(EVIL_NAMES) + 1
    after = {p for p in tmp_path.rglob("*") if outdir not in p.parents and p != outdir}
    assert after == before, f"written outside the backup directory: {after - before}"
    real_out = os.path.realpath(outdir)
    for dirpath, dirs, files in os.walk(outdir):
        for n in dirs + files:
            assert os.path.realpath(os.path.join(dirpath, n)).startswith(real_out + os.sep)
            assert len(n.encode("utf-8")) <= 255

    manifest = load_manifest(outdir)
    evil = [manifest.folders[rec.id] for rec in made] + [manifest.folders[nested.id]]
    paths = [e["path"] for e in evil]
    keys = {unicodedata.normalize("NFC", p).casefold() for p in paths}
    assert len(keys) == len(paths), "two folders share a directory (case or normalisation collision)"
    for path in paths:
        assert path.startswith(("folders/Inbox/", "deep/"))
        for part in path.split("/"):
            assert safe_name(part) == part and part not in (".", "..")
    assert [e["name"] for e in evil] == EVIL_NAMES + [".."]
    for entry in manifest.items.values():
        assert (outdir / entry["file"]).is_file()

    # Restore puts every folder back under its exact name
    target = make_exchange().account(MARY)
    restored = restore_mailbox(target, outdir)
    assert restored.failed == 0 and restored.uploaded == stats.exported
    target_paths = name_paths(target)
    # Exchange compares folder names case-insensitively: two of Case/case/CASE get a number
    cases = sorted(p for p in target_paths if p.casefold().startswith("inbox/case"))
    assert len(cases) == 3 and sum(p[len("Inbox/"):] in ("Case", "case", "CASE") for p in cases) == 1
    for path in [f"Inbox/{name}" for name in EVIL_NAMES if name.casefold() != "case"] + cases:
        folder = target_paths.get(path)
        assert folder is not None, path
        assert FindItem(account=target).count(folder.obj) == 1
    assert "Inbox/../.." in target_paths


def test_a_planted_symlink_is_refused(make_exchange, tmp_path):
    mary = make_exchange().account(MARY)
    mary.bulk_create(folder=mary.inbox, items=[Message(subject="secret")])
    outdir, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (outdir / "folders").mkdir(parents=True)
    elsewhere.mkdir()
    os.symlink(elsewhere, outdir / "folders" / "Inbox")
    with pytest.raises(BackupError, match="outside the backup directory"):
        backup_mailbox(mary, outdir)
    assert list(elsewhere.iterdir()) == []


def test_a_tampered_manifest_cannot_point_outside(make_exchange, tmp_path):
    mary = make_exchange().account(MARY)
    (tmp_path / "manifest.json").write_text(json.dumps({
        "format": "exchangelib-backup", "version": 1, "mailbox": MARY, "root": "msgfolderroot", "folders": {},
        "items": {"x": {"ck": "y", "folder": "f", "file": "folders/../../../etc/passwd", "size": 1}}}))
    with pytest.raises(BackupError, match="not a relative path inside"):
        restore_mailbox(mary, tmp_path)
    with pytest.raises(BackupError, match="not a relative path inside"):
        backup_mailbox(mary, tmp_path)


def test_a_backup_directory_belongs_to_one_mailbox_and_one_run_at_a_time(make_exchange, tmp_path):
    server = make_exchange()
    mary, john = server.account(MARY), server.account(JOHN)
    backup_mailbox(mary, tmp_path)
    with pytest.raises(BackupError, match=f"holds the backup of {MARY}"):
        backup_mailbox(john, tmp_path)
    lock = _Lock(_Dir(tmp_path))
    try:
        with pytest.raises(BackupError, match="Another backup"):
            backup_mailbox(mary, tmp_path)
    finally:
        lock.release()
    with pytest.raises(BackupError, match="not a backup directory"):
        restore_mailbox(mary, tmp_path / "empty")
    assert not (tmp_path / "empty").exists()


# --- the manifest, names, progress ------------------------------------------------------------------------
def test_a_torn_journal_line_from_a_killed_run_is_ignored(tmp_path):
    m = Manifest(_Dir(tmp_path)).load()
    m.save(mailbox=MARY)
    m.record([{"op": "item", "id": f"id{i}", "ck": "c", "folder": "f", "file": f"folders/{i}.item", "size": 1}
              for i in range(3)])
    m.record([{"op": "drop", "id": "id1"}])
    m.close()
    with open(tmp_path / "manifest.journal", "a") as f:
        f.write('{"op": "item", "id": "half-writ')
    again = Manifest(_Dir(tmp_path)).load()
    assert sorted(again.items) == ["id0", "id2"] and again.meta["mailbox"] == MARY
    again.save()
    assert (tmp_path / "manifest.journal").read_bytes() == b""
    assert sorted(json.loads((tmp_path / "manifest.json").read_text())["items"]) == ["id0", "id2"]


@pytest.mark.parametrize("name, expected", [
    ("Inbox", "Inbox"), ("..", "__"), (".", "_"), ("", "_"), ("a/b", "a_b"), ("a\\b", "a_b"), ("C:\\x", "C__x"),
    ("CON", "_CON"), ("con.txt", "_con.txt"), ("Com1", "_Com1"), ("lpt9.log", "_lpt9.log"), ("CONSOLE", "CONSOLE"),
    (".hidden", "_hidden"), ("end. ", "end__"), ("nul\x00byte", "nul_byte"), ("foo.item", "foo.item_"),
    ("e\u0301", "\u00e9"), ("tab\tx", "tab_x"), ("\u202eevil", "_evil"),
])
def test_safe_name_examples(name, expected):
    assert safe_name(name) == expected


def test_safe_name_shortens_long_names_and_keeps_them_apart():
    a, b = safe_name("x" * 300 + "a"), safe_name("x" * 300 + "b")
    assert a != b and len(a.encode()) <= MAX_NAME_BYTES and a.startswith("xxxx")
    long_multibyte = safe_name("\u00e9" * 300)
    assert len(long_multibyte.encode()) <= MAX_NAME_BYTES and "\ufffd" not in long_multibyte


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_safe_name_always_gives_one_harmless_component(name):
    out = safe_name(name)
    assert out and out not in (".", "..")
    assert not set(out) & set('/\\:*?"<>|\x00')
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in out)
    assert not out.startswith((".", " ")) and not out.endswith((".", " "))
    assert len(out.encode("utf-8")) <= MAX_NAME_BYTES
    assert out.split(".")[0].rstrip().upper() not in ("CON", "PRN", "AUX", "NUL", "COM1", "LPT1")
    assert not out.casefold().endswith(ITEM_SUFFIX)
    assert safe_name(out) == out


def test_item_file_names_are_stable_and_distinct():
    assert item_file_name("AAMk/x+y==") == item_file_name("AAMk/x+y==")
    assert item_file_name("a") != item_file_name("A")
    assert item_file_name("a").endswith(ITEM_SUFFIX) and "/" not in item_file_name("a/b")


def test_progress_bar_on_a_terminal_redraws_one_line():
    out = io.StringIO()
    p = Progress(stream=out, tty=True)
    p.start(40, "Exporting")
    p._last = -1e9  # draw the next update whatever the clock says
    p.advance(10)
    text = out.getvalue()
    assert text.startswith("\rExporting [") and "10/40" in text and " 25.0%" in text and "items/s" in text
    assert "ETA " in text and "\n" not in text
    p.advance(30)
    p.finish()
    assert out.getvalue().endswith("\n") and "40/40" in out.getvalue() and "done" in out.getvalue()


def test_progress_bar_in_a_log_prints_plain_lines_now_and_then():
    out = io.StringIO()
    p = Progress(stream=out, tty=False, interval=3600)
    p.start(1000, "Exporting")
    for _ in range(999):
        p.advance()
    assert out.getvalue() == ""  # nothing until the interval passes (or the end)
    p.advance()
    p.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "\r" not in out.getvalue() and "1000/1000" in lines[0] and "items/s" in lines[0]


# --- the command line ---------------------------------------------------------------------------------------
def test_the_password_never_comes_from_argv_and_is_never_printed(make_exchange, tmp_path):
    server = make_exchange()
    user = server.user(MARY)
    mary = server.account(MARY)
    mary.bulk_create(folder=mary.inbox, items=[Message(subject=f"cli {i}") for i in range(5)])
    env = cli_env(EXCHANGELIB_PASSWORD=user.password, EXCHANGELIB_USERNAME=user.logon_name)
    res = run_cli("backup", "--server", server.url, "--email", MARY, "-v", str(tmp_path / "b"), env=env)
    assert res.returncode == 0, res.stderr
    assert "5 exported" in res.stdout
    assert user.password not in res.stdout + res.stderr
    assert user.password not in (tmp_path / "b" / "manifest.json").read_text()
    assert "Exporting [" in res.stderr and "items/s" in res.stderr  # the progress bar, as plain lines

    refused = run_cli("backup", "--server", server.url, "--password", "hunter2-secret", str(tmp_path / "c"),
                      env=cli_env(EXCHANGELIB_USERNAME=user.logon_name))
    assert refused.returncode == 2 and "not accepted on the command line" in refused.stderr
    assert "hunter2-secret" not in refused.stderr + refused.stdout
    no_password = run_cli("backup", "--server", server.url, "--user", user.logon_name, "--email", MARY,
                          str(tmp_path / "d"), env=cli_env())
    assert no_password.returncode != 0 and "EXCHANGELIB_PASSWORD" in no_password.stderr
    wrong = run_cli("backup", "--server", server.url, "--email", MARY, str(tmp_path / "e"),
                    env=cli_env(EXCHANGELIB_PASSWORD="wrong-password-123", EXCHANGELIB_USERNAME=user.logon_name))
    assert wrong.returncode == 2 and "wrong-password-123" not in wrong.stdout + wrong.stderr


def test_without_a_server_it_backs_up_and_restores_a_sample_mailbox(tmp_path):
    env = cli_env()
    res = run_cli("backup", str(tmp_path), env=env)
    assert res.returncode == 0, res.stderr
    assert "local EWS server" in res.stderr and "0 failed" in res.stdout
    manifest = load_manifest(tmp_path)
    assert len(manifest.items) >= 20
    names = {e["name"] for e in manifest.folders.values()}
    assert {"Inbox", "Projects", "2025 / old", "Calendar"} <= names
    assert (tmp_path / "folders" / "Inbox" / "Projects" / "2025 _ old").is_dir()
    restored = run_cli("restore", str(tmp_path), env=env)
    assert restored.returncode == 0, restored.stderr
    assert f"{len(manifest.items)} items uploaded" in restored.stdout
    assert "2025 / old: 4 items" in restored.stderr
