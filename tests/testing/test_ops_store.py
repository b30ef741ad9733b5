"""The mailbox store: mailboxes, default folders per build, ids and change keys, generated tables."""
from __future__ import annotations

import base64
import runpy
import sys
import threading
from pathlib import Path

import pytest

from exchangelib.testing import schema_tables
from exchangelib.testing.context import ResponseCodeError
from exchangelib.testing.store import FOLDER, ITEM, LAX_DISTINGUISHED_IDS, Store, convert_id, decode_id, encode_id

from .opshelpers import call, codes, make_ctx, make_store, text

ROOT = Path(__file__).resolve().parents[2]


def test_mailbox_lookup_is_case_insensitive_and_resolves_aliases():
    store = make_store()
    alice = store.get_mailbox("alice@example.com")
    assert store.get_mailbox("ALICE@Example.COM") is alice
    assert store.get_mailbox("ali@example.com") is alice
    assert store.get_mailbox("SMTP:ali@example.com") is alice
    assert alice.primary_smtp_address == "alice@example.com"
    assert store.get_mailbox("nobody@example.com") is None
    assert store.get_mailbox("") is None


def test_add_mailbox_rejects_bad_input_with_clear_errors():
    store = Store((15, 1, 2507, 6))
    store.add_mailbox("a@example.com", "A")
    with pytest.raises(ValueError, match="already used"):
        store.add_mailbox("A@example.com", "Again")
    with pytest.raises(ValueError, match="primary_smtp_address"):
        store.add_mailbox("not-an-address", "X")
    with pytest.raises(TypeError, match="aliases"):
        store.add_mailbox("b@example.com", "B", aliases="b2@example.com")
    with pytest.raises(TypeError, match="server_build"):
        Store("15.1")


def test_new_mailbox_has_exchange_default_folders():
    mb = make_store().get_mailbox("alice@example.com")
    inbox = mb.folder("inbox")
    assert inbox.display_name == "Inbox" and inbox.folder_class == "IPF.Note"
    assert inbox.parent is mb.folder("msgfolderroot")
    assert mb.folder("msgfolderroot").display_name == "Top of Information Store"
    assert mb.folder("msgfolderroot").parent is mb.root
    assert mb.folder("sentitems").display_name == "Sent Items"
    assert mb.folder("deleteditems").display_name == "Deleted Items"
    assert mb.folder("junkemail").display_name == "Junk Email"
    assert (mb.folder("calendar").element_kind, mb.folder("calendar").folder_class) == \
        ("CalendarFolder", "IPF.Appointment")
    assert mb.folder("contacts").element_kind == "ContactsFolder"
    assert mb.folder("tasks").element_kind == "TasksFolder"
    assert mb.folder("conflicts").parent is mb.folder("syncissues")
    assert mb.folder("recoverableitemsdeletions").parent is mb.folder("recoverableitemsroot")
    assert mb.folder("todosearch").element_kind == "SearchFolder"
    # Exchange Online-only folders and archive folders are absent on an Exchange 2016 mailbox without archive
    assert mb.folder("teamchat") is None
    assert mb.folder("archivemsgfolderroot") is None


def test_default_folders_follow_the_emulated_build():
    old = Store((8, 1, 240, 6)).add_mailbox("a@example.com", "A")  # Exchange 2007 SP1
    assert old.folder("inbox") is not None
    assert old.folder("recoverableitemsroot") is None
    assert old.folder("conversationhistory") is None
    assert old.folder("junkemail").display_name == "Junk E-mail"
    online = Store((15, 20, 5000, 0)).add_mailbox("a@example.com", "A", archive=True)
    assert online.folder("teamchat") is not None
    assert online.folder("archivemsgfolderroot").parent is online.folder("archiveroot")
    # every id of the newest XSD, plus the newer ones Exchange Online accepts beyond it
    every_name = set(schema_tables.DISTINGUISHED_FOLDER_IDS) - {"publicfoldersroot"} | LAX_DISTINGUISHED_IDS
    assert every_name == set(online.distinguished)


def test_ids_are_opaque_base64_and_round_trip():
    store = make_store()
    inbox = store.get_mailbox("alice@example.com").folder("inbox")
    raw = base64.b64decode(inbox.id)
    assert not inbox.id.isdigit() and len(raw) > 16
    alice = store.get_mailbox("alice@example.com")
    kind, mailbox_ref, key = decode_id(encode_id(ITEM, alice, b"k" * 16, folder_key=inbox.key))
    assert (kind, store.get_mailbox(mailbox_ref), key) == (ITEM, alice, b"k" * 16)
    kind, mailbox_ref, key = decode_id(encode_id(FOLDER, alice, b"f" * 16, legacy=True))  # SMTP-based layout
    assert (kind, mailbox_ref, key) == (FOLDER, "alice@example.com", b"f" * 16)
    for bad in ("not base64!", base64.b64encode(b"short").decode(), base64.b64encode(b"\x07" * 40).decode()):
        with pytest.raises(ResponseCodeError) as exc:
            decode_id(bad)
        assert exc.value.response_code == "ErrorInvalidIdMalformed"
    with pytest.raises(ResponseCodeError) as exc:
        decode_id("")
    assert exc.value.response_code == "ErrorInvalidIdEmpty"


def test_convert_id_formats_round_trip_through_every_format():
    store = make_store()
    inbox = store.get_mailbox("alice@example.com").folder("inbox")
    formats = ["EwsLegacyId", "EntryId", "HexEntryId", "StoreId", "OwaId", "EwsId"]
    value, fmt = inbox.id, "EwsId"
    seen = set()
    for dest in formats:
        value, address = convert_id(store, value, fmt, dest, "alice@example.com")
        assert address == "alice@example.com"
        seen.add(value)
        fmt = dest
    assert value == inbox.id
    assert len(seen) == len(formats)


def test_folder_changekey_changes_when_the_folder_is_written():
    store = make_store()
    ctx = make_ctx(store)
    inbox = store.get_mailbox("alice@example.com").folder("inbox")
    before = inbox.changekey
    call(ctx, '<m:CreateFolder><m:ParentFolderId><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderId>'
              '<m:Folders><t:Folder><t:DisplayName>Sub</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>')
    assert inbox.changekey != before


def test_store_is_safe_for_concurrent_requests():
    store = make_store()
    errors = []

    def worker(n: int) -> None:
        try:
            ctx = make_ctx(store)
            for i in range(10):
                r = call(ctx, '<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message>'
                              f'<t:Subject>t{n}-{i}</t:Subject></t:Message></m:Items></m:CreateItem>')
                assert codes(r) == ["NoError"]
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    r = call(make_ctx(store), '<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>'
                              '<m:FolderIds><t:DistinguishedFolderId Id="drafts"/></m:FolderIds></m:GetFolder>')
    assert text(r, ".//t:TotalCount") == "40"


def test_generated_tables_are_up_to_date(tmp_path):
    out = tmp_path / "tables.py"
    argv = sys.argv
    try:
        sys.argv = ["gen_server_tables.py", "--out", str(out)]
        with pytest.raises(SystemExit) as exc:
            runpy.run_path(str(ROOT / "tools" / "gen_server_tables.py"), run_name="__main__")
        assert exc.value.code == 0
    finally:
        sys.argv = argv
    committed = (ROOT / "exchangelib" / "testing" / "schema_tables.py").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed


def test_tables_flatten_extension_bases_in_xsd_order():
    message = [name for name, _ in schema_tables.SEQUENCES["MessageType"]]
    assert message[:5] == ["MimeContent", "ItemId", "ParentFolderId", "ItemClass", "Subject"]
    assert message.index("InferenceClassification") < message.index("Sender") < message.index("IsRead")
    assert schema_tables.FIELD_URIS["item:Subject"] == ("ItemType", "Subject")
    assert schema_tables.FIELD_URIS["calendar:Start"] == ("CalendarItemType", "Start")
    assert schema_tables.FIELD_URIS["folder:UnreadCount"] == ("FolderType", "UnreadCount")
    # Not every URI is 'prefix:ElementName'
    assert schema_tables.FIELD_URIS["item:MimeContentUTF8"] == ("ItemType", "MimeContent")
    assert dict(schema_tables.SEQUENCES["ItemType"])["ReminderMinutesBeforeStart"] == "xs:int"
