"""Item classes: construction rules, ids, CreateItem/UpdateItem payloads (schema-validated), parsing."""
from __future__ import annotations

import datetime
import decimal

import pytest
from lxml import etree

import exchangelib.items as items_module
from exchangelib.ewsdatetime import UTC, EWSDateTime, EWSTimeZone
from exchangelib.items import (
    ITEM_CLASSES, CalendarItem, Contact, DistributionList, Item, MeetingCancellation, MeetingMessage,
    MeetingRequest, MeetingResponse, Message, PostItem, Task,
)
from exchangelib.properties import (
    Attendee, EmailAddress, Flag, HTMLBody, ItemId, Mailbox, Member, PhoneNumber, PhysicalAddress,
)
from exchangelib.testing.schema import validate
from exchangelib.version import EXCHANGE_2007, EXCHANGE_2016, Version
from exchangelib.xml import TNS, add_child, create_element

T = f"{{{TNS}}}"
TZ = EWSTimeZone("Europe/Copenhagen")
ALL_ITEM_CLASSES = [Item, Message, CalendarItem, Task, Contact, DistributionList, PostItem, MeetingMessage,
                    MeetingRequest, MeetingResponse, MeetingCancellation]


def create_item_request(*items, version=None, **attrs):
    req = create_element("m:CreateItem", attrs or {"SendMeetingInvitations": "SendToNone"})
    container = add_child(req, "m:Items")
    for item in items:
        item.clean(version)
        container.append(item.to_xml(version))
    return req


def update_item_request(item, field_names, version=None):
    req = create_element("m:UpdateItem", {"ConflictResolution": "AutoResolve", "MessageDisposition": "SaveOnly",
                                          "SendMeetingInvitationsOrCancellations": "SendToNone"})
    change = add_child(add_child(req, "m:ItemChanges"), "t:ItemChange")
    change.append(item._id.to_xml())
    updates = add_child(change, "t:Updates")
    for e in item.update_xml(field_names, version):
        updates.append(e)
    return req


def seed_calendar_items():
    """The calendar items of the README example."""
    year, month, day = 2016, 3, 20
    return [CalendarItem(
        start=TZ.localize(EWSDateTime(year, month, day, hour, 30)),
        end=TZ.localize(EWSDateTime(year, month, day, hour + 1, 15)),
        subject="Test item",
        body="Hello from Python",
        location="devnull",
        categories=["foo", "bar"],
        required_attendees=[Attendee(mailbox=Mailbox(email_address="user1@example.com"), response_type="Accept")],
    ) for hour in range(7, 17)]


def test_seed_calendar_items_make_a_valid_create_item_request():
    req = create_item_request(*seed_calendar_items())
    assert validate(req) == (True, "")
    first = req[0][0]
    names = [etree.QName(c).localname for c in first]
    assert names == ["Subject", "Body", "Categories", "Start", "End", "Location", "RequiredAttendees",
                     "StartTimeZone", "EndTimeZone"]
    assert first.find(f"{T}StartTimeZone").get("Id") == "Romance Standard Time"
    assert first.find(f"{T}Start").text == "2016-03-20T07:30:00+01:00"


def test_seed_message_makes_a_valid_create_item_request():
    m = Message(
        account="a", folder="sent",
        subject="Daily motivation",
        body="All bodies are beautiful",
        to_recipients=[Mailbox(email_address="anne@example.com"), Mailbox(email_address="bob@example.com")],
        cc_recipients=["carl@example.com", "denice@example.com"],
        bcc_recipients=[Mailbox(email_address="erik@example.com"), "felicity@example.com"],
    )
    assert (m.account, m.folder) == ("a", "sent")
    req = create_item_request(m, MessageDisposition="SendAndSaveCopy")
    assert validate(req) == (True, "")
    bcc = req[0][0].find(f"{T}BccRecipients")
    assert [mb.findtext(f"{T}EmailAddress") for mb in bcc] == ["erik@example.com", "felicity@example.com"]
    m.body = HTMLBody("<html><body>Hello happy <blink>OWA user!</blink></body></html>")
    assert create_item_request(m)[0][0].find(f"{T}Body").get("BodyType") == "HTML"


def test_old_servers_get_no_time_zone_elements():
    item = seed_calendar_items()[0]
    req = create_item_request(item, version=Version(EXCHANGE_2007))
    assert req[0][0].find(f"{T}StartTimeZone") is None
    assert validate(req) == (True, "")


def test_every_item_kind_makes_a_valid_create_item_request():
    for cls in ALL_ITEM_CLASSES:
        item = cls(subject=f"a {cls.__name__}", categories=["x"], importance="High")
        if cls is DistributionList:
            item.display_name = "Team"
            item.members = [Member(mailbox="a@example.com")]
        assert validate(create_item_request(item)) == (True, ""), cls


def test_contact_and_task_payloads_validate():
    c = Contact(given_name="Anne", surname="Smith", birthday=EWSDateTime(1980, 5, 1, tzinfo=UTC),
                email_addresses=[EmailAddress(label="EmailAddress1", email="anne@example.com")],
                phone_numbers=[PhoneNumber(label="MobilePhone", phone_number="+45 1234")],
                physical_addresses=[PhysicalAddress(label="Home", street="Main St 1", city="Springfield")],
                children=["Bart"])
    t = Task(subject="Report", status="InProgress", percent_complete=decimal.Decimal("12.5"),
             start_date=EWSDateTime(2020, 1, 1, tzinfo=UTC), due_date=EWSDateTime(2020, 1, 8, tzinfo=UTC))
    assert validate(create_item_request(c, t)) == (True, "")


def test_read_only_fields_are_refused_by_constructor_and_assignment():
    with pytest.raises(AttributeError, match=r"Message\.datetime_created is read-only"):
        Message(datetime_created=EWSDateTime(2020, 1, 1, tzinfo=UTC))
    m = Message()
    with pytest.raises(AttributeError, match=r"Message\.size is read-only"):
        m.size = 10
    with pytest.raises(AttributeError, match=r"Message\.changekey is read-only"):
        m.changekey = "x"


def test_library_code_can_set_read_only_fields():
    m = Message._construct(subject="x", size=10, datetime_created=EWSDateTime(2020, 1, 1, tzinfo=UTC))
    assert m.size == 10
    m._set_field("is_draft", True)
    assert m.is_draft is True
    with pytest.raises(TypeError, match=r"Message\.size"):
        m._set_field("size", "big")


def test_ids():
    m = Message(subject="x")
    assert (m.id, m.changekey, m.item_id) == (None, None, None)
    m._set_id("AAA", "CK1")
    assert (m.id, m.changekey, m.item_id) == ("AAA", "CK1", "AAA")
    assert m._id == ItemId("AAA", "CK1")
    ref = CalendarItem(id="BBB", changekey="CK2")
    assert (ref.id, ref.changekey) == ("BBB", "CK2")
    assert CalendarItem(item_id="BBB").id == "BBB"
    with pytest.raises(TypeError, match="both"):
        CalendarItem(id="A", item_id="B")
    # The id never goes into a CreateItem payload (it is read-only).
    assert m.to_xml().find(f"{T}ItemId") is None
    assert m.to_xml(include_read_only=True).find(f"{T}ItemId").get("Id") == "AAA"


def test_update_item_payloads_validate():
    item = seed_calendar_items()[0]
    item._set_id("AAA", "CK")
    item.subject = "bar"
    item.location = None
    req = update_item_request(item, ["subject", "location", "start", "required_attendees"])
    assert validate(req) == (True, "")
    set_subject, delete_location = req[0][0][1][0], req[0][0][1][1]
    assert set_subject.tag == f"{T}SetItemField" and set_subject[0].get("FieldURI") == "item:Subject"
    assert set_subject[1].tag == f"{T}CalendarItem" and set_subject[1][0].text == "bar"
    assert delete_location.tag == f"{T}DeleteItemField"
    with pytest.raises(ValueError, match="read-only"):
        item.update_xml(["datetime_created"])
    with pytest.raises(ValueError, match="has no field"):
        item.update_xml(["nope"])


def test_field_to_xml():
    item = CalendarItem(subject="x")
    assert etree.tostring(item.field_to_xml("subject")) == (
        f'<t:CalendarItem xmlns:t="{TNS}"><t:Subject>x</t:Subject></t:CalendarItem>').encode()
    with pytest.raises(ValueError, match="not set"):
        item.field_to_xml("location")


def test_contact_dictionary_updates_go_entry_by_entry():
    c = Contact(phone_numbers=[PhoneNumber(label="CarPhone", phone_number="555")],
                physical_addresses=[PhysicalAddress(label="Home", street="Main St")])
    c._set_id("C", "K")
    updates = c.update_xml(["phone_numbers", "physical_addresses"])
    sets = [u for u in updates if u.tag == f"{T}SetItemField"]
    assert [(u[0].get("FieldURI"), u[0].get("FieldIndex")) for u in sets] == [
        ("contacts:PhoneNumber", "CarPhone"), ("contacts:PhysicalAddress:Street", "Home")]
    entry = sets[0][1][0][0]
    assert entry.get("Key") == "CarPhone" and entry.text == "555"
    assert validate(update_item_request(c, ["phone_numbers", "physical_addresses"])) == (True, "")


def test_calendar_item_rules():
    start = TZ.localize(EWSDateTime(2020, 1, 1, 10))
    with pytest.raises(ValueError, match="end .* must not be before start"):
        CalendarItem(start=start, end=start - datetime.timedelta(hours=1)).clean()
    item = CalendarItem(start=start, end=start, start_timezone=EWSTimeZone("UTC"))
    item.clean()
    assert item.start_timezone == EWSTimeZone("UTC") and item.end_timezone.ms_id == "Romance Standard Time"


def test_task_clean_keeps_status_and_percentage_consistent():
    t = Task(status="Completed")
    t.clean()
    assert t.percent_complete == 100
    with pytest.raises(ValueError, match="due_date"):
        Task(start_date=EWSDateTime(2020, 1, 2, tzinfo=UTC), due_date=EWSDateTime(2020, 1, 1, tzinfo=UTC)).clean()
    with pytest.raises(ValueError, match=r"Task\.percent_complete must be <= 100"):
        Task(percent_complete=101)


def test_flag_rules():
    with pytest.raises(ValueError, match="complete_date"):
        Flag(flag_status="Complete").clean()
    Flag(flag_status="Flagged", start_date=EWSDateTime(2020, 1, 1, tzinfo=UTC),
         due_date=EWSDateTime(2020, 1, 2, tzinfo=UTC)).clean()


def test_parse_get_item_calendar_item():
    src = f"""<t:CalendarItem xmlns:t="{TNS}">
      <t:ItemId Id="AAMkAD" ChangeKey="DwAAAB"/>
      <t:ParentFolderId Id="AAMkCAL" ChangeKey="AQAAAA=="/>
      <t:ItemClass>IPM.Appointment</t:ItemClass>
      <t:Subject>Test item</t:Subject>
      <t:Sensitivity>Normal</t:Sensitivity>
      <t:Body BodyType="Text">Hello from Python</t:Body>
      <t:DateTimeReceived>2016-03-20T06:00:00Z</t:DateTimeReceived>
      <t:Size>1024</t:Size>
      <t:Categories><t:String>foo</t:String><t:String>bar</t:String></t:Categories>
      <t:ResponseObjects><t:CancelCalendarItem/><t:ForwardItem/></t:ResponseObjects>
      <t:HasAttachments>false</t:HasAttachments>
      <t:UID>040000008200E00074C5B7101A82E008</t:UID>
      <t:Start>2016-03-20T06:30:00Z</t:Start>
      <t:End>2016-03-20T07:15:00Z</t:End>
      <t:IsAllDayEvent>false</t:IsAllDayEvent>
      <t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus>
      <t:Location>devnull</t:Location>
      <t:IsMeeting>true</t:IsMeeting>
      <t:CalendarItemType>Single</t:CalendarItemType>
      <t:MyResponseType>Organizer</t:MyResponseType>
      <t:Organizer><t:Mailbox><t:Name>John</t:Name><t:EmailAddress>john@example.com</t:EmailAddress>
        <t:RoutingType>SMTP</t:RoutingType></t:Mailbox></t:Organizer>
      <t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress></t:Mailbox>
        <t:ResponseType>Accept</t:ResponseType><t:LastResponseTime>2016-03-19T10:00:00Z</t:LastResponseTime>
        </t:Attendee></t:RequiredAttendees>
      <t:StartTimeZone Id="Romance Standard Time" Name="(UTC+01:00) Brussels, Copenhagen, Madrid, Paris"/>
      <t:EndTimeZone Id="Some Custom Zone"/>
      <t:SomeFutureElement>ignored</t:SomeFutureElement>
    </t:CalendarItem>"""
    cls = ITEM_CLASSES["CalendarItem"]
    item = cls.from_xml(etree.fromstring(src), account="acct")
    assert isinstance(item, CalendarItem) and item.account == "acct"
    assert (item.id, item.changekey, item.size, item.type) == ("AAMkAD", "DwAAAB", 1024, "Single")
    assert item.start == TZ.localize(EWSDateTime(2016, 3, 20, 7, 30)) and item.start.tzinfo == UTC
    assert item.organizer == Mailbox(email_address="john@example.com")
    assert item.required_attendees[0].response_type == "Accept"
    assert item.response_objects == ["CancelCalendarItem", "ForwardItem"]
    assert item.start_timezone.ms_id == "Romance Standard Time"
    assert isinstance(item.end_timezone, EWSTimeZone)  # unknown zone name: a fallback, not a crash
    assert item.categories == ["foo", "bar"] and item.body == "Hello from Python"


def test_registry_docstrings_and_exports():
    assert {c.ELEMENT_NAME: c for c in ALL_ITEM_CLASSES} == {k: v for k, v in ITEM_CLASSES.items()
                                                             if k in {c.ELEMENT_NAME for c in ALL_ITEM_CLASSES}}
    for cls in ALL_ITEM_CLASSES:
        assert "https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/" in cls.__doc__
    from exchangelib.folders import Calendar, CalendarItem as FolderCalendarItem  # the old README import
    assert FolderCalendarItem is CalendarItem and Calendar.DISTINGUISHED_FOLDER_ID == "calendar"
    assert (items_module.SEND_ONLY_TO_ALL, items_module.SEND_ONLY_TO_CHANGED) == ("SendOnlyToAll", "SendOnlyToChanged")
    assert (items_module.ID_ONLY, items_module.DEFAULT, items_module.ALL_PROPERTIES) == (
        "IdOnly", "Default", "AllProperties")
    assert items_module.ALL_OCCURRENCIES == "AllOccurrences"
    assert items_module.HARD_DELETE == "HardDelete" and items_module.MOVE_TO_DELETED_ITEMS == "MoveToDeletedItems"


def test_writable_fields_and_versions():
    names = [f.name for f in Message.writable_fields(Version(EXCHANGE_2016))]
    assert "subject" in names and "to_recipients" in names and "datetime_sent" not in names
    old = [f.name for f in Message.writable_fields(Version(EXCHANGE_2007))]
    assert "is_associated" not in old
    with pytest.raises(ValueError, match="not supported by Exchange build"):
        Message(is_associated=True).clean(Version(EXCHANGE_2007))
