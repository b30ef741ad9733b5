"""The local server behaves like Exchange where clients notice (issue #19).

Each test drives the server over HTTP (strict schema mode) and checks one documented Exchange behaviour
that the server used to get wrong.
"""
from __future__ import annotations

import base64
import datetime
import struct
import uuid

import pytest
import requests
from lxml import etree

from exchangelib import (UTC, Account, CalendarItem, Contact, EWSDateTime, EWSTimeZone, ExtendedProperty,
                         FileAttachment, Folder, Mailbox, MeetingRequest, Message, Task)
from exchangelib.folders.base import BaseFolder
from exchangelib.items import SEND_ONLY_TO_ALL, SEND_TO_NONE
from exchangelib.recurrence import (AUGUST, AbsoluteYearlyPattern, DailyPattern, DailyRegeneration, Recurrence,
                                    TaskRecurrence)
from exchangelib.response_codes import (ErrorFolderExists, ErrorInvalidIdMalformed, ErrorInvalidRequest,
                                        ErrorItemNotFound, ErrorObjectTypeChanged)
from exchangelib.services import ConvertId
from exchangelib.testing.context import OPERATIONS
from exchangelib.xml import ENS, MNS, SOAPNS, TNS

JOHN = "john@example.com"
MARY = "mary@example.com"


def _code(r: requests.Response) -> str:
    root = etree.fromstring(r.content)
    return (root.findtext(f".//{{{MNS}}}ResponseCode") or root.findtext(f".//{{{ENS}}}ResponseCode") or "")


# --- item 1: the documented places where Exchange is laxer than its XSD ------------------------------------

def test_attachment_ids_with_root_item_ids_are_accepted(make_exchange):
    server = make_exchange()
    acc = server.account(JOHN)
    msg = Message(folder=acc.drafts, subject="with attachment")
    msg.attach(FileAttachment(name="a.txt", content=b"hello"))
    msg.save()
    att = msg.attachments[0]
    aid = (f'<t:AttachmentId Id="{att.attachment_id.id}" RootItemId="{msg.id}" '
           f'RootItemChangeKey="{msg.changekey}"/>')
    r = _post(server, f"<m:GetAttachment><m:AttachmentShape/><m:AttachmentIds>{aid}</m:AttachmentIds>"
                      f"</m:GetAttachment>")
    assert r.status_code == 200 and _code(r) == "NoError" and b"aGVsbG8=" in r.content
    r = _post(server, f"<m:DeleteAttachment><m:AttachmentIds>{aid}</m:AttachmentIds></m:DeleteAttachment>")
    assert r.status_code == 200 and _code(r) == "NoError"
    assert server.schema_errors == []


@pytest.mark.parametrize("version, accepted", [("online", True), ("2016", False)])
def test_exchange_online_distinguished_ids_beyond_the_xsd(make_exchange, version, accepted):
    server = make_exchange(version=version)
    r = _post(server, '<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>'
                      '<m:FolderIds><t:DistinguishedFolderId Id="allitems"/></m:FolderIds></m:GetFolder>')
    if accepted:
        assert r.status_code == 200 and _code(r) == "NoError" and b"AllItems" in r.content
        # and a V2018_01_08 id with an older RequestServerVersion, as Exchange Online clients send them
        r = _post(server, '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>'
                          '<m:FolderIds><t:DistinguishedFolderId Id="allcategorizeditems"/>'
                          '<t:DistinguishedFolderId Id="shortnotes"/></m:FolderIds></m:GetFolder>', version="Exchange2016")
        assert r.status_code == 200 and _code(r) == "NoError"
        assert server.schema_errors == []
    else:  # Exchange 2016's schema has no such id
        assert r.status_code == 500 and _code(r) == "ErrorSchemaValidation"
        server.reset_stats()


def test_permission_children_in_any_order(make_exchange):
    server = make_exchange()
    acc = server.account(JOHN)
    folder = Folder(parent=acc.inbox, name="shared")
    folder.save()
    perm = ("<t:Permission><t:UserId><t:PrimarySmtpAddress>mary@example.com</t:PrimarySmtpAddress></t:UserId>"
            "<t:PermissionLevel>Reviewer</t:PermissionLevel><t:CanCreateItems>false</t:CanCreateItems></t:Permission>")
    r = _post(server, f'<m:UpdateFolder><m:FolderChanges><t:FolderChange><t:FolderId Id="{folder.id}"/><t:Updates>'
                      f'<t:SetFolderField><t:FieldURI FieldURI="folder:PermissionSet"/><t:Folder><t:PermissionSet>'
                      f'<t:Permissions>{perm}</t:Permissions></t:PermissionSet></t:Folder></t:SetFolderField>'
                      f'</t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>')
    assert r.status_code == 200 and _code(r) == "NoError"
    assert server.schema_errors == []


def test_rule_without_is_enabled_passes_strict_validation(make_exchange):
    server = make_exchange()
    rule = ("<t:CreateRuleOperation><t:Rule><t:DisplayName>move</t:DisplayName><t:Priority>1</t:Priority>"
            "<t:Actions><t:Delete>true</t:Delete></t:Actions></t:Rule></t:CreateRuleOperation>")
    r = _post(server, f"<m:UpdateInboxRules><m:RemoveOutlookRuleBlob>true</m:RemoveOutlookRuleBlob>"
                      f"<m:Operations>{rule}</m:Operations></m:UpdateInboxRules>")
    assert _code(r) != "ErrorSchemaValidation"
    assert server.schema_errors == []
    server.reset_stats()


# --- item 2: folder classes ------------------------------------------------------------------------------

def _post(server, body: str, version: str = "Exchange2016") -> requests.Response:
    """An EWS request as any client may send it (the XML is given here, not built by our client)."""
    envelope = (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAPNS}" xmlns:m="{MNS}" '
                f'xmlns:t="{TNS}"><s:Header><t:RequestServerVersion Version="{version}"/></s:Header>'
                f'<s:Body>{body}</s:Body></s:Envelope>')
    creds = server.credentials(JOHN)
    return requests.post(server.url, data=envelope.encode(), auth=(creds.username, creds.password),
                         headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=10)


def test_generic_folder_without_class_has_none_and_class_cannot_change(make_exchange):
    server = make_exchange()
    r = _post(server, '<m:CreateFolder><m:ParentFolderId><t:DistinguishedFolderId Id="inbox"/>'
                                   '</m:ParentFolderId><m:Folders><t:Folder><t:DisplayName>generic</t:DisplayName>'
                                   '</t:Folder></m:Folders></m:CreateFolder>')
    assert r.status_code == 200 and b'ResponseClass="Success"' in r.content
    acc = server.account(JOHN)
    generic = next(f for f in acc.inbox.children if f.name == "generic")
    assert generic.folder_class is None  # not silently a mail folder
    mail = Folder(parent=acc.inbox, name="mail", folder_class="IPF.Note")
    mail.save()
    mail.folder_class = "IPF.Appointment"
    with pytest.raises(ErrorObjectTypeChanged):
        mail.save(update_fields=["folder_class"])
    again = server.account(JOHN, auth_type="basic")
    assert next(f for f in again.inbox.children if f.name == "mail").folder_class == "IPF.Note"


def test_built_in_folders_report_exchanges_classes(make_exchange):
    acc = make_exchange().account(JOHN)
    classes = {f.name: f.folder_class for f in acc.root.walk()}
    assert classes["Conversation History"] == "IPF.Note.Microsoft.Conversation"
    assert classes["Conflicts"] is None and classes["Local Failures"] is None and classes["Server Failures"] is None
    assert classes["MyContacts"] == "IPF.Note"
    assert classes["Inbox"] == "IPF.Note" and classes["Calendar"] == "IPF.Appointment"


# --- item 3: a real mailbox's hierarchy, per version --------------------------------------------------------

@pytest.mark.parametrize("version, at_least, present, absent", [
    ("2010", 25, {"Common Views", "Schedule", "Spooler Queue", "System", "RSS Feeds"},
     {"To-Do Search", "GAL Contacts", "AllItems"}),
    ("2016", 60, {"Common Views", "Deferred Action", "Finder", "Freebusy Data", "Recoverable Items", "Audits",
                  "Schedule", "Shortcuts", "Spooler Queue", "System", "TemporarySaves", "Views", "To-Do Search",
                  "People I Know", "GAL Contacts", "RecipientCache"}, {"AllItems", "QuarantinedEmail"}),
    ("online", 80, {"AllItems", "AllContacts", "QuarantinedEmail", "GAL Contacts", "TemporarySaves"}, set()),
])
def test_deep_folder_tree_matches_a_real_mailbox(make_exchange, version, at_least, present, absent):
    acc = make_exchange(version=version).account(JOHN)
    names = [f.name for f in acc.root.walk()]
    assert len(names) >= at_least
    assert present <= set(names)
    assert not absent & set(names)
    if version != "2010":
        contacts = next(f for f in acc.root.walk() if f.name == "Contacts")
        assert {"GAL Contacts", "RecipientCache"} <= {c.name for c in contacts.children}


# --- item 15: the duplicate-folder answer is the documented one --------------------------------------------

def test_duplicate_folder_error_is_exchanges(exchange):
    acc = exchange.account(JOHN)
    Folder(parent=acc.inbox, name="dup-once").save()
    with pytest.raises(ErrorFolderExists) as info:
        Folder(parent=acc.inbox, name="DUP-ONCE").save()  # names compare case-insensitively
    # MessageText of the CreateFolder error example on Microsoft's ErrorFolderExists documentation
    assert str(info.value).endswith("A folder with the specified name already exists.")


# --- item 7: delivery does not copy the sender's categories -------------------------------------------------

def test_delivered_mail_has_none_of_the_senders_categories(make_exchange):
    server = make_exchange()
    john, mary = server.account(JOHN), server.account(MARY)
    Message(account=john, folder=john.sent, subject="categorised", body="hi", categories=["Secret project"],
            to_recipients=[Mailbox(email_address=MARY)]).send_and_save()
    [sent] = [m for m in john.sent.all() if m.subject == "categorised"]
    assert sent.categories == ["Secret project"]  # the sender keeps them on their own copy
    [received] = [m for m in mary.inbox.all() if m.subject == "categorised"]
    assert not received.categories


# --- item 10: CalendarView boundaries ---------------------------------------------------------------------

def test_calendar_view_boundaries_follow_the_documented_rule(make_exchange):
    # An item ending before StartDate, or starting on or after EndDate, is left out; all others are in.
    acc = make_exchange().account(JOHN)
    t = lambda h, m=0: EWSDateTime(2026, 3, 2, h, m, tzinfo=UTC)  # noqa: E731
    for subject, start, end in (("ends at view start", t(8), t(9)), ("ends before", t(7), t(8, 59)),
                                ("starts at view end", t(10), t(11)), ("inside", t(9, 15), t(9, 45)),
                                ("zero length at start", t(9), t(9)), ("zero length at end", t(10), t(10))):
        CalendarItem(account=acc, folder=acc.calendar, subject=subject, start=start, end=end).save()
    seen = {i.subject for i in acc.calendar.view(start=t(9), end=t(10))}
    assert seen == {"ends at view start", "inside", "zero length at start"}


# --- item 6: FindItem takes item:Body but returns no body, and cuts long values ----------------------------

class LongNote(ExtendedProperty):
    distinguished_property_set_id = "PublicStrings"
    property_name = "fidelity-long-note"
    property_type = "String"


def test_find_item_accepts_body_returns_none_and_cuts_streamable_values(make_exchange):
    server = make_exchange()
    acc = server.account(JOHN)
    Message.register("long_note", LongNote)
    try:
        Message(account=acc, folder=acc.drafts, subject="long", body="the body", long_note="n" * 1000).save()
        r = _post(server, '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
                          '<t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/>'
                          '<t:FieldURI FieldURI="item:Body"/><t:ExtendedFieldURI '
                          'DistinguishedPropertySetId="PublicStrings" PropertyName="fidelity-long-note" '
                          'PropertyType="String"/></t:AdditionalProperties></m:ItemShape><m:ParentFolderIds>'
                          '<t:DistinguishedFolderId Id="drafts"/></m:ParentFolderIds></m:FindItem>')
        assert r.status_code == 200 and _code(r) == "NoError"
        root = etree.fromstring(r.content)
        assert root.find(f".//{{{TNS}}}Message/{{{TNS}}}Body") is None  # no body format comes back
        value = root.findtext(f".//{{{TNS}}}ExtendedProperty/{{{TNS}}}Value")
        assert value == "n" * 255  # the first 255 characters of a streamable property
        # Our QuerySet never hands out the cut value as the whole one: it reads such an item again.
        [(subject, note)] = list(acc.drafts.filter(subject="long").values_list("subject", "long_note"))
        assert (subject, note) == ("long", "n" * 1000)
        assert [i.long_note for i in acc.drafts.filter(subject="long").only("long_note")] == ["n" * 1000]
    finally:
        Message.deregister("long_note")


# --- item 5: Exchange's length limits -----------------------------------------------------------------------

def _create_raw(server, folder: str, item: str, disposition: str = "") -> requests.Response:
    return _post(server, f'<m:CreateItem{disposition}><m:SavedItemFolderId><t:DistinguishedFolderId Id="{folder}"/>'
                         f'</m:SavedItemFolderId><m:Items>{item}</m:Items></m:CreateItem>')


def test_subject_is_cut_to_255_and_long_contact_names_are_refused(make_exchange):
    # Sent as raw XML: our own client already refuses such values before sending.
    server = make_exchange()
    acc = server.account(JOHN)
    r = _create_raw(server, "drafts", f"<t:Message><t:Subject>{'s' * 4000}</t:Subject></t:Message>",
                    ' MessageDisposition="SaveOnly"')
    assert _code(r) == "NoError"
    assert [m.subject for m in acc.drafts.all()] == ["s" * 255]  # Exchange keeps the first 255 characters
    r = _create_raw(server, "contacts", f"<t:Contact><t:GivenName>{'g' * 256}</t:GivenName></t:Contact>")
    assert _code(r) == "ErrorInvalidPropertySet"
    c = Contact(account=acc, folder=acc.contacts, given_name="g" * 255, display_name="at the limit")
    c.save()
    r = _post(server, f'<m:UpdateItem ConflictResolution="AlwaysOverwrite"><m:ItemChanges><t:ItemChange>'
                      f'<t:ItemId Id="{c.id}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="contacts:Surname"/>'
                      f'<t:Contact><t:Surname>{"n" * 300}</t:Surname></t:Contact></t:SetItemField></t:Updates>'
                      f'</t:ItemChange></m:ItemChanges></m:UpdateItem>')
    assert _code(r) == "ErrorPropertyUpdate"
    assert [(x.given_name, x.surname) for x in acc.contacts.all()] == [("g" * 255, None)]


# --- item 8: Exchange's IsRecurring table -------------------------------------------------------------------

def test_is_recurring_follows_exchanges_table(make_exchange):
    server = make_exchange()
    john, mary = server.account(JOHN), server.account(MARY)
    start = EWSDateTime(2026, 6, 1, 9, tzinfo=UTC)
    single = CalendarItem(account=john, folder=john.calendar, subject="single", start=start,
                          end=start + datetime.timedelta(hours=1))
    single.save()
    master = CalendarItem(account=john, folder=john.calendar, subject="weekly sync", start=start,
                          end=start + datetime.timedelta(hours=1), required_attendees=[MARY],
                          recurrence=Recurrence(pattern=DailyPattern(interval=1), start=start.date(), number=5))
    master.save(send_meeting_invitations=SEND_ONLY_TO_ALL)
    second = master.occurrence(2)
    second.subject = "moved sync"
    second.save(send_meeting_invitations=SEND_TO_NONE)
    got = {i.subject: i.is_recurring for i in john.calendar.all()}
    assert got == {"single": False, "weekly sync": False}  # the organizer's master: false (sic)
    view = {(o.subject, o.type): o.is_recurring
            for o in john.calendar.view(start=start, end=start + datetime.timedelta(days=3))}
    assert view[("weekly sync", "Occurrence")] is True and view[("moved sync", "Exception")] is True
    [request] = [m for m in mary.inbox.all() if isinstance(m, MeetingRequest)]
    assert request.is_recurring is True  # meeting requests: true
    [attendee_copy] = [i for i in mary.calendar.all() if i.subject == "weekly sync"]
    assert attendee_copy.type == "RecurringMaster" and attendee_copy.is_recurring is True  # attendees: true


# --- item 9: all-day events span whole days in their zone ---------------------------------------------------

def test_all_day_event_times_move_to_midnight_in_the_events_zone(make_exchange):
    acc = make_exchange().account(JOHN)
    tz = EWSTimeZone("Europe/Copenhagen")
    item = CalendarItem(account=acc, folder=acc.calendar, subject="offsite", is_all_day=True,
                        start=EWSDateTime(2026, 3, 10, 10, 30, tzinfo=tz), end=EWSDateTime(2026, 3, 10, 15, tzinfo=tz),
                        start_timezone=tz, end_timezone=tz)
    item.save()
    two_days = CalendarItem(account=acc, folder=acc.calendar, subject="conference", is_all_day=True,
                            start=EWSDateTime(2026, 3, 28, 0, tzinfo=tz), end=EWSDateTime(2026, 3, 30, 0, tzinfo=tz),
                            start_timezone=tz, end_timezone=tz)  # midnight to midnight stays, across the DST change
    two_days.save()
    got = {i.subject: (i.start.astimezone(tz), i.end.astimezone(tz)) for i in acc.calendar.all()}
    assert got["offsite"] == (EWSDateTime(2026, 3, 10, 0, tzinfo=tz), EWSDateTime(2026, 3, 11, 0, tzinfo=tz))
    assert got["conference"] == (EWSDateTime(2026, 3, 28, 0, tzinfo=tz), EWSDateTime(2026, 3, 30, 0, tzinfo=tz))


# --- item 4: recurrence range dates carry the series zone's offset, as Exchange sends them -----------------

@pytest.mark.parametrize("version, rsv, expected", [
    ("2016", "Exchange2016", ("2026-03-02+01:00", "2026-04-30+02:00")),  # Copenhagen: winter, then summer time
    ("2007_SP1", "Exchange2007_SP1", ("2026-03-02", "2026-04-30")),
])
def test_recurrence_range_dates_as_exchange_sends_them(make_exchange, version, rsv, expected):
    server = make_exchange(version=version)
    acc = server.account(JOHN)
    tz = EWSTimeZone("Europe/Copenhagen")
    start = EWSDateTime(2026, 3, 2, 9, tzinfo=tz)
    zones = dict(start_timezone=tz, end_timezone=tz) if version != "2007_SP1" else {}  # 2007 has neither
    item = CalendarItem(account=acc, folder=acc.calendar, subject="series", start=start,
                        end=start + datetime.timedelta(hours=1), **zones,
                        recurrence=Recurrence(pattern=DailyPattern(interval=1), start=start.date(),
                                              end=EWSDateTime(2026, 4, 30, 9, tzinfo=tz).date()))
    item.save()
    r = _post(server, f'<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>'
                      f'<t:FieldURI FieldURI="calendar:Recurrence"/></t:AdditionalProperties></m:ItemShape>'
                      f'<m:ItemIds><t:ItemId Id="{item.id}"/></m:ItemIds></m:GetItem>', version=rsv)
    root = etree.fromstring(r.content)
    got = (root.findtext(f".//{{{TNS}}}StartDate"), root.findtext(f".//{{{TNS}}}EndDate"))
    assert got == expected
    # and our client reads every form back as the same dates
    [fresh] = acc.fetch([(item.id, item.changekey)])
    assert (fresh.recurrence.boundary.start, fresh.recurrence.boundary.end) == (start.date(), datetime.date(2026, 4, 30))


# --- item 12: ids in Exchange's binary layout, generated, accepted and converted ---------------------------

# A well-formed mailbox-GUID-based EwsId of an item in a mailbox this server does not hold.
FOREIGN_ITEM_ID = ("AAMkAGI2NGVhZTVlLTI1OGMtNDI4My1iZmE5LTA5OGJlZGZjNmFiMABGAAAAAAAYQ4/9D+FkR4Z6bI5JYV9HBwBvHIbMSMGCQqG"
                   "2Q0xx/cy8AAAAAAENAABvHIbMSMGCQqG2Q0xx/cy8AAAo/HzcAAA=")


def _layout(ews_id: str):
    raw = base64.b64decode(ews_id)
    (n,) = struct.unpack("<H", raw[2:4])
    (m,) = struct.unpack("<H", raw[5 + n:7 + n])
    return raw[:2], raw[4:4 + n].decode("ascii"), raw[7 + n:], m


def test_ids_have_exchanges_layout_and_convert_between_formats(make_exchange):
    server = make_exchange()
    acc = server.account(JOHN)
    m = Message(account=acc, folder=acc.drafts, subject="id layout")
    m.save()
    assert m.id.startswith("AAMk") and acc.drafts.id.startswith("AAMk")
    header, mailbox_guid, entry_id, length = _layout(m.id)
    assert header == b"\x00\x03" and str(uuid.UUID(mailbox_guid)) == mailbox_guid
    assert length == len(entry_id) == 70 and entry_id[:4] == b"\x00\x00\x00\x00" and entry_id[20:22] == b"\x07\x00"
    _header, _guid, folder_entry_id, _length = _layout(acc.drafts.id)
    assert len(folder_entry_id) == 46 and folder_entry_id[20:22] == b"\x01\x00"

    convert = ConvertId(account=acc)
    [(hex_id, fmt, _mb)] = list(convert.call([(m.id, "EwsId", JOHN)], "HexEntryId"))
    assert fmt == "HexEntryId" and bytes.fromhex(hex_id) == entry_id  # the MAPI entry id itself
    [(legacy, _fmt, _mb)] = list(convert.call([(hex_id, "HexEntryId", JOHN)], "EwsLegacyId"))
    assert _layout(legacy)[:2] == (b"\x00\x00", JOHN)  # Exchange 2007's SMTP-based layout
    [(back, _fmt, _mb)] = list(convert.call([(legacy, "EwsLegacyId", JOHN)], "EwsId"))
    assert back == m.id
    assert [i.subject for i in acc.fetch([(back, None)])] == ["id layout"]

    # attachment ids are the item's id with the attachment part after it; occurrence ids carry the
    # Recurrence processing instruction and the master's entry id
    m.attach(FileAttachment(name="a.txt", content=b"x"))
    att_raw = base64.b64decode(m.attachments[0].attachment_id.id)
    assert att_raw[:2] == b"\x00\x03" and att_raw[:4 + 36 + 3 + 70][4:40] == mailbox_guid.encode()
    start = EWSDateTime(2026, 9, 1, 9, tzinfo=UTC)
    master = CalendarItem(account=acc, folder=acc.calendar, subject="ids", start=start,
                          end=start + datetime.timedelta(hours=1),
                          recurrence=Recurrence(pattern=DailyPattern(interval=1), start=start.date(), number=3))
    master.save()
    occurrence = master.occurrence(2)
    occ_header, occ_guid, occ_store_id, occ_length = _layout(occurrence.id)
    assert occurrence.id.startswith("AAMk") and base64.b64decode(occurrence.id)[40] == 1  # processing: Recurrence
    assert occ_length == 78 and occ_store_id[:70] == _layout(master.id)[2]
    assert list(acc.fetch([(occurrence.id, None)]))[0].start == start + datetime.timedelta(days=1)


def test_a_well_formed_real_id_of_something_else_is_not_found_rather_than_malformed(make_exchange):
    acc = make_exchange().account(JOHN)
    [result] = acc.fetch([(FOREIGN_ITEM_ID, None)])
    assert isinstance(result, ErrorItemNotFound)
    [converted] = list(ConvertId(account=acc).call([(FOREIGN_ITEM_ID, "EwsId", JOHN)], "HexEntryId"))
    assert not isinstance(converted, ErrorInvalidIdMalformed)


# --- item 11: completing a recurring task splits off the completed instance --------------------------------

def test_completing_recurring_tasks_splits_off_a_one_off(make_exchange):
    acc = make_exchange().account(JOHN)
    start = EWSDateTime(2026, 8, 3, 9, tzinfo=UTC)
    regen = Task(account=acc, folder=acc.tasks, subject="water the plants", start_date=start,
                 due_date=start + datetime.timedelta(days=1),
                 recurrence=TaskRecurrence(pattern=DailyRegeneration(interval=4), start=start.date()))
    regen.save()
    yearly = Task(account=acc, folder=acc.tasks, subject="renew the domain", start_date=start, due_date=start,
                  recurrence=TaskRecurrence(pattern=AbsoluteYearlyPattern(day_of_month=3, month=AUGUST),
                                            start=start.date(), number=3))
    yearly.save()
    for task in (regen, yearly):
        task.status = "Completed"
        task.save(update_fields=["status"])
    tasks = sorted(acc.tasks.all(), key=lambda t: (t.subject, t.is_recurring))
    summary = [(t.subject, t.status, t.is_recurring) for t in tasks]
    assert summary == [("renew the domain", "Completed", False), ("renew the domain", "NotStarted", True),
                       ("water the plants", "Completed", False), ("water the plants", "NotStarted", True)]
    series = {t.subject: t for t in tasks if t.is_recurring}
    today = datetime.datetime.now(datetime.timezone.utc).date()
    # a regenerating series starts again its interval after the day it was completed (due date kept 1 day on)
    assert series["water the plants"].start_date.date() == today + datetime.timedelta(days=4)
    assert series["water the plants"].due_date - series["water the plants"].start_date == datetime.timedelta(days=1)
    # a pattern series moves to its next date, and the numbered range counts the done instance
    assert series["renew the domain"].start_date == EWSDateTime(2027, 8, 3, 9, tzinfo=UTC)
    assert series["renew the domain"].recurrence.boundary.number == 2


def test_moving_a_pattern_task_splits_off_a_one_off_but_a_regenerating_task_just_moves(make_exchange):
    """UpdateItem (Task): a new start or due date on the current instance of a non-regenerating series makes that
    instance a one-off task and moves the series on; a regenerating series' instance just moves."""
    acc = make_exchange().account(JOHN)
    start = EWSDateTime(2026, 8, 3, 9, tzinfo=UTC)
    weekly = Task(account=acc, folder=acc.tasks, subject="team report", start_date=start,
                  due_date=start + datetime.timedelta(days=1),
                  recurrence=TaskRecurrence(pattern=AbsoluteYearlyPattern(day_of_month=3, month=AUGUST),
                                            start=start.date(), number=3))
    weekly.save()
    regen = Task(account=acc, folder=acc.tasks, subject="water the cactus", start_date=start, due_date=start,
                 recurrence=TaskRecurrence(pattern=DailyRegeneration(interval=4), start=start.date()))
    regen.save()
    moved = start + datetime.timedelta(days=2)
    for task in (weekly, regen):
        task.start_date, task.due_date = moved, moved + datetime.timedelta(days=1)
        task.save(update_fields=["start_date", "due_date"])
    tasks = sorted(acc.tasks.all(), key=lambda t: (t.subject, t.is_recurring))
    summary = [(t.subject, t.is_recurring, t.start_date) for t in tasks]
    assert summary == [
        ("team report", False, moved),                                  # the moved instance, now a one-off
        ("team report", True, EWSDateTime(2027, 8, 3, 9, tzinfo=UTC)),  # the series, on its next date
        ("water the cactus", True, moved),                              # regenerating: the instance just moved
    ]
    series = next(t for t in tasks if t.subject == "team report" and t.is_recurring)
    assert series.recurrence.boundary.number == 2
    assert series.due_date - series.start_date == datetime.timedelta(days=1)


# --- item 14: the folder size property (0x0E08) counts the items a folder holds ----------------------------

class FolderSize(ExtendedProperty):
    property_tag = 0x0E08
    property_type = "Integer"


def test_folder_size_property_reads_the_items_sizes(make_exchange):
    server = make_exchange()
    john, mary = server.account(JOHN), server.account(MARY)
    BaseFolder.register("size_on_disk", FolderSize)
    try:
        Message(account=john, subject="to mary", body="x" * 2000, to_recipients=[Mailbox(email_address=MARY)]).send()
        Contact(account=mary, folder=mary.contacts, given_name="Ann", display_name="Ann").save()
        CalendarItem(account=mary, folder=mary.calendar, subject="c", start=EWSDateTime(2026, 1, 5, 9, tzinfo=UTC),
                     end=EWSDateTime(2026, 1, 5, 10, tzinfo=UTC)).save()
        reader = server.account(MARY, auth_type="basic")  # a fresh account: its folder tree is read now
        sizes = {f.name: f.size_on_disk for f in reader.root.walk() if f.name in ("Inbox", "Contacts", "Calendar",
                                                                                    "Drafts")}
        items = {"Inbox": mary.inbox, "Contacts": mary.contacts, "Calendar": mary.calendar, "Drafts": mary.drafts}
        assert sizes == {name: sum(i.size for i in folder.all()) for name, folder in items.items()}
        assert sizes["Inbox"] > 2000 and sizes["Contacts"] > 0 and sizes["Calendar"] > 0 and sizes["Drafts"] == 0
    finally:
        BaseFolder.deregister("size_on_disk")


# --- item 13: an operation the server lacks never sends a client down through every version ---------------

def test_unimplemented_operation_stops_a_version_probe_at_once(make_exchange, monkeypatch):
    server = make_exchange()
    monkeypatch.delitem(OPERATIONS, "ResolveNames")  # the operation the version probe uses
    acc = Account(JOHN, config=server.config(login=JOHN, auth_type="basic"), autodiscover=False)
    with pytest.raises(ErrorInvalidRequest):
        acc.version
    codes = [r.response_code for r in server.request_log if r.operation == "ResolveNames"]
    # versions newer than the server's are refused as such; the first it knows ends the probe
    assert codes[-1] == "ErrorInvalidRequest" and codes.count("ErrorInvalidRequest") == 1
    assert set(codes[:-1]) <= {"ErrorInvalidServerVersion"}
    server.reset_stats()  # (the unimplemented operation is recorded; that is the point of this test)
