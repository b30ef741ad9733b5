"""account.export() / account.upload() (ExportItems / UploadItems) against the strict local server.

The round trip must be lossless: an item exported from one mailbox and uploaded into another reads
back field by field the same as the original, apart from what identifies it (ids, folder, the web
links that embed the id).
"""
from __future__ import annotations

import base64
import struct
import uuid
import zlib
from typing import Any, Dict, List

import pytest
from lxml import etree

from exchangelib import (Attendee, CalendarItem, Contact, EWSDate, EWSDateTime, EWSTimeZone, HTMLBody, Mailbox,
                         Message, Task)
from exchangelib.elements import EWSElement
from exchangelib.errors import ErrorCorruptData, ErrorInvalidIdMalformed, ErrorItemNotFound, ResponseMessageError
from exchangelib.properties.attachments import FileAttachment, ItemAttachment
from exchangelib.properties.recurrence import Recurrence, WeeklyPattern
from exchangelib.services import ExportItems, FindItem, UploadItems
from exchangelib.services.upload_items import UPDATE, UPDATE_OR_CREATE
from exchangelib.testing import ResponseCodeError
from exchangelib.testing.ops import export as export_op
from exchangelib.testing.store import decode_id
from exchangelib.xml import TNS

JOHN = "john@example.com"
MARY = "mary@example.com"
TZ = EWSTimeZone.timezone("Europe/Copenhagen")
T = f"{{{TNS}}}"

# Fields that identify an item or its place rather than describe it: new on every upload.
IDENTITY_FIELDS = frozenset({"_id", "item_id", "parent_folder_id", "attachment_id",
                             "web_client_read_form_query_string", "web_client_edit_form_query_string"})


def comparable(value: Any) -> Any:
    """A value with the identity fields left out, recursively (attachments and attached items included)."""
    if isinstance(value, EWSElement):
        return (type(value).__name__, {f.name: comparable(getattr(value, f.name, None)) for f in type(value).FIELDS
                                       if f.name not in IDENTITY_FIELDS})
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    return value


def assert_same_item(original: Any, copy: Any) -> None:
    assert type(copy) is type(original)
    for f in type(original).FIELDS:
        if f.name in IDENTITY_FIELDS:
            continue
        assert comparable(getattr(copy, f.name, None)) == comparable(getattr(original, f.name, None)), \
            f"{type(original).__name__}.{f.name} differs after the round trip"
    assert copy.id != original.id


def stored(server, item_id: str) -> etree._Element:
    """The item element the local server keeps for an id."""
    _kind, _mailbox, key = decode_id(item_id)
    return server.store.find_item(key).elem


def rich_items(category: str) -> Dict[str, List[Any]]:
    message = Message(subject="Quarterly numbers", body=HTMLBody("<p>See <b>attached</b></p>"),
                      categories=[category, "finance"], importance="High",
                      to_recipients=[Mailbox(email_address=MARY)],
                      cc_recipients=[Mailbox(email_address="someone@elsewhere.example")],
                      attachments=[FileAttachment(name="numbers.csv", content=b"q1,q2\n\x00\x01\xff,2\n"),
                                   ItemAttachment(name="forwarded", item=Message(subject="inner", body="inner body"))])
    meeting = CalendarItem(subject="Weekly sync", body="Agenda", location="Room 7", categories=[category],
                           start=TZ.localize(EWSDateTime(2026, 3, 2, 10)), end=TZ.localize(EWSDateTime(2026, 3, 2, 11)),
                           required_attendees=[Attendee(mailbox=Mailbox(email_address=MARY), response_type="Accept")],
                           optional_attendees=[Attendee(mailbox=Mailbox(email_address="bob@elsewhere.example"))],
                           recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[1]),
                                                 start=EWSDate(2026, 3, 2), number=10))
    contact = Contact(given_name="Mary", surname="Smith", company_name="Example", categories=[category])
    task = Task(subject="File the report", body="before Friday", categories=[category])
    return {"inbox": [message], "calendar": [meeting], "contacts": [contact], "tasks": [task]}


def create(acc, items_by_folder: Dict[str, List[Any]]) -> List[Any]:
    out = []
    for folder_name, items in items_by_folder.items():
        created = acc.bulk_create(folder=getattr(acc, folder_name), items=items)
        assert all(not isinstance(c, Exception) for c in created), created
        out.extend(created)
    return out


def test_round_trip_into_another_mailbox_is_lossless(exchange):
    john, mary = exchange.account(JOHN), exchange.account(MARY)
    category = f"rt-{uuid.uuid4().hex[:8]}"
    by_folder = rich_items(category)
    originals = create(john, by_folder)
    folders = [getattr(mary, name) for name, items in by_folder.items() for _ in items]

    data = john.export(originals)
    assert all(isinstance(d, str) and base64.b64decode(d, validate=True) for d in data), data
    new_ids = mary.upload(list(zip(folders, data)))
    assert all(isinstance(i, tuple) and i[0] and i[1] for i in new_ids), new_ids

    before = list(john.fetch(originals))
    after = list(mary.fetch(new_ids))
    for original, copy in zip(before, after):
        assert_same_item(original, copy)
    # ... and the values are the ones we set, not two empty fields that happen to agree
    msg, meeting, contact, task = after
    assert msg.body == "<p>See <b>attached</b></p>" and msg.categories == [category, "finance"]
    assert [a.name for a in msg.attachments] == ["numbers.csv", "forwarded"]
    # GetItem leaves attachment content out (as Exchange does): look in the server's store instead. The
    # uploaded item holds exactly what the original holds.
    for original, (new_id, _) in zip(originals, new_ids):
        stored_before, stored_after = stored(exchange, original.id), stored(exchange, new_id)
        assert etree.tostring(stored_after, method="c14n") == etree.tostring(stored_before, method="c14n")
    content = stored(exchange, new_ids[0][0]).find(f"{T}Attachments/{T}FileAttachment/{T}Content").text
    assert base64.b64decode(content) == b"q1,q2\n\x00\x01\xff,2\n"
    inner = stored(exchange, new_ids[0][0]).find(f"{T}Attachments/{T}ItemAttachment/{T}Message/{T}Subject")
    assert inner.text == "inner"
    assert [a.mailbox.email_address for a in meeting.required_attendees] == [MARY]
    assert meeting.recurrence.boundary.number == 10 and meeting.recurrence.pattern.weekdays == [1]
    assert (contact.given_name, contact.surname) == ("Mary", "Smith")
    assert task.subject == "File the report" and task.categories == [category]
    # Each copy landed in the folder it was uploaded to
    assert [c.parent_folder_id.id for c in after] == [f.id for f in folders]


def test_upload_into_the_same_mailbox_creates_a_second_item(exchange):
    john = exchange.account(JOHN)
    category = f"same-{uuid.uuid4().hex[:8]}"
    (original,) = john.bulk_create(folder=john.inbox, items=[Message(subject="twice", categories=[category])])
    (data,) = john.export([original])
    ((new_id, new_ck),) = john.upload([(john.inbox, data)])
    assert new_id != original.id
    found = list(FindItem(account=john).call(john.inbox))
    assert {original.id, new_id} <= {i.id for i in found}
    # Raw bytes are accepted too (what a backup file holds)
    ((third_id, _),) = john.upload([(john.inbox, base64.b64decode(data))])
    assert third_id not in (original.id, new_id)


def test_bad_inputs_fail_in_place_and_the_others_succeed(exchange):
    john, mary = exchange.account(JOHN), exchange.account(MARY)
    a, b, gone = john.bulk_create(folder=john.inbox, items=[Message(subject=f"m{i}") for i in range(3)])
    assert john.bulk_delete([gone]) == [True]

    exported = john.export([a, "not-an-id", gone, b])
    assert isinstance(exported[0], str) and isinstance(exported[3], str)
    assert isinstance(exported[1], ErrorInvalidIdMalformed)
    assert isinstance(exported[2], ErrorItemNotFound)
    assert exported[2].operation == "ExportItems"

    corrupt = base64.b64encode(b"not an exported item at all").decode()
    results = mary.upload([(mary.inbox, exported[0]), (mary.inbox, corrupt), ("x", "y", "z", "w"),
                           (mary.inbox, 42), (mary.inbox, exported[3])])
    assert isinstance(results[0], tuple) and isinstance(results[4], tuple)
    assert isinstance(results[1], ErrorCorruptData) and results[1].operation == "UploadItems"
    assert isinstance(results[2], TypeError)
    assert isinstance(results[3], TypeError)
    subjects = sorted(i.subject for i in mary.fetch([results[0], results[4]]))
    assert subjects == ["m0", "m1"]


def test_upload_validates_its_arguments(exchange):
    john = exchange.account(JOHN)
    (item,) = john.bulk_create(folder=john.inbox, items=[Message(subject="args")])
    (data,) = john.export([item])
    with pytest.raises(ValueError, match="create_action"):
        john.upload([(john.inbox, data)], create_action="Replace")
    with pytest.raises(TypeError, match="is_associated"):
        john.upload([(john.inbox, data)], is_associated="yes")
    unsaved = type(john.inbox)()  # a well-known folder object without an id
    results = john.upload([(unsaved, data), (john.inbox, "%%% not base64"), (john.inbox, "")])
    assert isinstance(results[0], ValueError) and "id" in str(results[0])
    assert isinstance(results[1], ValueError) and "base64" in str(results[1])
    assert isinstance(results[2], ValueError)
    # Update needs the id of the item to overwrite
    (res,) = john.upload([(john.inbox, data)], create_action=UPDATE)
    assert isinstance(res, ValueError) and "item_id" in str(res)
    assert exchange.request_count("UploadItems") == 0  # nothing invalid was sent


def test_update_overwrites_in_place_and_update_or_create_falls_back_to_create(exchange):
    john = exchange.account(JOHN)
    old, target, gone = john.bulk_create(folder=john.inbox, items=[
        Message(subject="old content", body="v1"), Message(subject="to be overwritten"), Message(subject="gone")])
    data = john.export([old, gone])
    assert john.bulk_delete([gone]) == [True]

    ((tid, tck),) = john.upload([(john.inbox, data[0], target)], create_action=UPDATE)
    assert tid == target.id and tck != target.changekey
    (fetched,) = john.fetch([tid])
    assert fetched.subject == "old content" and fetched.body == "v1"

    (missing,) = john.upload([(john.inbox, data[1], gone)], create_action=UPDATE)
    assert isinstance(missing, ErrorItemNotFound)
    ((nid, _),) = john.upload([(john.inbox, data[1], gone)], create_action=UPDATE_OR_CREATE)
    assert nid != gone.id
    (recreated,) = john.fetch([nid])
    assert recreated.subject == "gone"


def test_associated_items_stay_hidden_from_normal_views(exchange):
    john = exchange.account(JOHN)
    category = f"fai-{uuid.uuid4().hex[:8]}"
    (item,) = john.bulk_create(folder=john.inbox, items=[Message(subject="config", categories=[category])])
    (data,) = john.export([item])
    ((new_id, _),) = john.upload([(john.inbox, data)], is_associated=True)
    normal = {i.id for i in FindItem(account=john).call(john.inbox)}
    associated = {i.id for i in FindItem(account=john).call(john.inbox, traversal="Associated")}
    assert new_id not in normal and new_id in associated


def test_chunks_run_concurrently_and_keep_input_order(exchange):
    john = exchange.account(JOHN)
    items = john.bulk_create(folder=john.inbox, items=[Message(subject=f"order {i}") for i in range(23)])
    data = list(ExportItems(account=john, chunk_size=5).call(items))
    assert exchange.request_count("ExportItems") == 5
    ids = list(UploadItems(account=john, chunk_size=4).call([(john.inbox, d) for d in data]))
    assert exchange.request_count("UploadItems") == 6
    assert [i.subject for i in john.fetch(ids)] == [f"order {i}" for i in range(23)]


def test_exchange_2010_rtm_has_no_export(make_exchange):
    server = make_exchange(version="2010")
    john = server.account(JOHN)
    (item,) = john.bulk_create(folder=john.inbox, items=[Message(subject="old server")])
    with pytest.raises(NotImplementedError, match="ExportItems"):
        john.export([item])
    with pytest.raises(NotImplementedError, match="UploadItems"):
        john.upload([(john.inbox, "AAAA")])
    assert server.request_count("ExportItems") == 0


# --- the local server's stream format -----------------------------------------------------------------
def _stream(xml: bytes, magic: bytes = b"ELXI", version: int = 1, flags: int = 0) -> bytes:
    return struct.pack(">4sBB", magic, version, flags) + zlib.compress(xml)


GOOD = b'<t:Message xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:Subject>x</t:Subject>' \
       b'</t:Message>'


def test_server_stream_reader_accepts_its_own_format():
    elem, associated = export_op.read_stream(_stream(GOOD, flags=1))
    assert etree.QName(elem).localname == "Message" and elem[0].text == "x" and associated is True


@pytest.mark.parametrize("data, why", [
    (b"", "too short"),
    (_stream(GOOD, magic=b"FTS0"), "format"),
    (_stream(GOOD, version=9), "version"),
    (_stream(GOOD)[:-4], "truncated"),
    (_stream(GOOD) + b"junk", "trailing"),
    (struct.pack(">4sBB", b"ELXI", 1, 0) + b"\x78\x9c garbage", "damaged"),
    (_stream(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><t:Message xmlns:t="x">&a;</t:Message>'),
     "invalid"),
    (_stream(b'<Message><Subject>x</Subject></Message>'), "unexpected"),
    (_stream(b'<t:Folder xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"/>'), "unexpected"),
])
def test_server_stream_reader_refuses_anything_else(data, why):
    with pytest.raises(ResponseCodeError) as e:
        export_op.read_stream(data)
    assert e.value.response_code == "ErrorCorruptData" and why in e.value.message


def test_server_stream_reader_refuses_decompression_bombs(monkeypatch):
    monkeypatch.setattr(export_op, "MAX_ITEM_BYTES", 10_000)
    bomb = GOOD.replace(b"x</t:Subject>", b"x" * 50_000 + b"</t:Subject>")
    with pytest.raises(ResponseCodeError, match="too large"):
        export_op.read_stream(_stream(bomb))


def test_exported_errors_are_response_message_errors(exchange):
    john = exchange.account(JOHN)
    (res,) = john.export(["AAAA"])
    assert isinstance(res, ResponseMessageError)
