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


# --- recurrence -------------------------------------------------------------------------------------------
def test_seed_recurrence_example_validates_and_round_trips():
    from exchangelib.properties.recurrence import MONDAY, WEDNESDAY, Recurrence, WeeklyPattern
    start = TZ.localize(EWSDateTime(2017, 9, 1, 11))
    item = CalendarItem(folder="cal", start=start, end=start + datetime.timedelta(hours=2),
                        subject="Hello Recurrence",
                        recurrence=Recurrence(pattern=WeeklyPattern(interval=3, weekdays=[MONDAY, WEDNESDAY]),
                                              start=start.date(), number=7))
    req = create_item_request(item)
    assert validate(req) == (True, "")
    rec = req[0][0].find(f"{T}Recurrence")
    assert rec[0].findtext(f"{T}DaysOfWeek") == "Monday Wednesday"
    assert rec[1].tag == f"{T}NumberedRecurrence" and rec[1].findtext(f"{T}NumberOfOccurrences") == "7"
    back = CalendarItem.from_xml(item.to_xml()).recurrence
    assert back == item.recurrence and (back.start, back.number, back.end) == (start.date(), 7, None)


@pytest.mark.parametrize("pattern", [
    "AbsoluteYearlyPattern(day_of_month=24, month=DECEMBER)",
    "RelativeYearlyPattern(weekday=FRIDAY, week_number=LAST, month='March')",
    "AbsoluteMonthlyPattern(interval=2, day_of_month=31)",
    "RelativeMonthlyPattern(interval=1, weekday=WEEKEND_DAY, week_number=FIRST)",
    "WeeklyPattern(interval=1, weekdays=['Tuesday', SATURDAY], first_day_of_week=MONDAY)",
    "DailyPattern(interval=4)",
])
@pytest.mark.parametrize("bounds", ["dict(number=3)", "dict(end=EWSDate(2021, 1, 1))", "dict()"])
def test_every_recurrence_pattern_and_boundary_validates(pattern, bounds):
    from exchangelib.ewsdatetime import EWSDate
    from exchangelib.properties import recurrence as r
    ns = {**vars(r), "EWSDate": EWSDate}
    rec = r.Recurrence(pattern=eval(pattern, ns), start=EWSDate(2020, 1, 1), **eval(bounds, ns))
    item = CalendarItem(subject="r", recurrence=rec)
    assert validate(create_item_request(item)) == (True, "")
    assert CalendarItem.from_xml(item.to_xml()).recurrence == rec


def test_recurrence_errors():
    from exchangelib.ewsdatetime import EWSDate
    from exchangelib.properties.recurrence import (
        DailyPattern, DailyRegeneration, EndDatePattern, Recurrence, TaskRecurrence, WeeklyPattern,
    )
    with pytest.raises(ValueError, match=r"WeeklyPattern\.weekdays must be one of"):
        WeeklyPattern(interval=1, weekdays=["Funday"])
    with pytest.raises(ValueError, match="twice"):
        WeeklyPattern(interval=1, weekdays=[1, 1])
    with pytest.raises(ValueError, match=r"DailyPattern\.interval must be >= 1"):
        DailyPattern(interval=0)
    with pytest.raises(TypeError, match="not both"):
        Recurrence(pattern=DailyPattern(interval=1), start=EWSDate(2020, 1, 1), end=EWSDate(2020, 2, 1), number=3)
    with pytest.raises(ValueError, match="must not be before start"):
        EndDatePattern(start=EWSDate(2020, 2, 1), end=EWSDate(2020, 1, 1)).clean()
    with pytest.raises(TypeError, match=r"Recurrence\.pattern"):
        Recurrence(pattern=DailyRegeneration(interval=2), start=EWSDate(2020, 1, 1))
    with pytest.raises(ValueError, match=r"Recurrence\.boundary is required"):
        Recurrence(pattern=DailyPattern(interval=1)).clean()
    task = Task(subject="water plants", recurrence=TaskRecurrence(pattern=DailyRegeneration(interval=2),
                                                                  start=EWSDate(2020, 1, 1)))
    assert validate(create_item_request(task)) == (True, "")


# --- attachments -------------------------------------------------------------------------------------------
def test_attachments_serialise_inline_and_parse():
    from exchangelib.properties import FileAttachment, ItemAttachment
    content = "Hello from unicode æøå".encode("utf-8")
    m = Message(subject="with files", attachments=[
        FileAttachment(name="my_file.txt", content=content, content_type="text/plain"),
        ItemAttachment(name="my_appointment", item=CalendarItem(subject="inner", start=TZ.localize(
            EWSDateTime(2020, 1, 1, 10)))),
    ])
    req = create_item_request(m)
    assert validate(req) == (True, "")
    back = Message.from_xml(m.to_xml())
    f, i = back.attachments
    assert isinstance(f, FileAttachment) and f.content == content and f.name == "my_file.txt"
    assert isinstance(i, ItemAttachment) and isinstance(i.item, CalendarItem) and i.item.subject == "inner"
    assert "bytes" in repr(f) and "Hello" not in repr(f)
    with pytest.raises(TypeError, match=r"ItemAttachment\.item expects an item"):
        ItemAttachment(item="not an item")


def test_attachment_from_get_item_response():
    from exchangelib.properties import FileAttachment
    src = f"""<t:Message xmlns:t="{TNS}"><t:Attachments>
      <t:FileAttachment><t:AttachmentId Id="ATT1" RootItemId="MSG" RootItemChangeKey="CK"/><t:Name>a.pdf</t:Name>
      <t:ContentType>application/pdf</t:ContentType><t:Size>1234</t:Size>
      <t:LastModifiedTime>2020-01-01T10:00:00</t:LastModifiedTime><t:IsInline>false</t:IsInline>
      <t:IsContactPhoto>false</t:IsContactPhoto></t:FileAttachment>
      <t:ItemAttachment><t:AttachmentId Id="ATT2"/><t:Name>fwd</t:Name></t:ItemAttachment>
    </t:Attachments><t:HasAttachments>true</t:HasAttachments></t:Message>"""
    m = Message.from_xml(etree.fromstring(src))
    f = m.attachments[0]
    assert isinstance(f, FileAttachment) and f.attachment_id.id == "ATT1" and f.attachment_id.root_id == "MSG"
    assert f.size == 1234 and f.content is None and m.has_attachments is True
    assert f.last_modified_time == EWSDateTime(2020, 1, 1, 10, tzinfo=UTC)  # no offset sent: read as UTC
    assert m.attachments[1].item is None


# --- extended properties ----------------------------------------------------------------------------------
def test_extended_properties_register_use_and_deregister():
    from exchangelib.folders import Folder
    from exchangelib.properties import ExtendedProperty

    class LunchMenu(ExtendedProperty):
        property_set_id = "12345678-1234-1234-1234-123456781234"
        property_name = "Catering from the cafeteria"
        property_type = "String"

    class FlagTag(ExtendedProperty):
        property_tag = 0x1090
        property_type = "Integer"

    class MyMeetingArray(ExtendedProperty):
        property_set_id = "00062004-0000-0000-C000-000000000046"
        property_type = "BinaryArray"
        property_id = 32852

    class VoteResponse(ExtendedProperty):
        distinguished_property_set_id = "Common"
        property_id = 0x00008524
        property_type = "String"

    CalendarItem.register("lunch_menu", LunchMenu)
    CalendarItem.register("flag_tag", FlagTag)
    CalendarItem.register("meeting_array", MyMeetingArray)
    Message.register("vote_response", VoteResponse)
    try:
        item = CalendarItem(subject="x", lunch_menu="Foie gras et consommé de légumes", flag_tag=2,
                            meeting_array=[b"a", b"bc"], culture="en-US")
        req = create_item_request(item)
        assert validate(req) == (True, "")
        names = [etree.QName(c).localname for c in req[0][0]]
        assert names == ["Subject", "ExtendedProperty", "ExtendedProperty", "ExtendedProperty", "Culture"]
        back = CalendarItem.from_xml(item.to_xml())
        assert (back.lunch_menu, back.flag_tag, back.meeting_array) == (
            "Foie gras et consommé de légumes", 2, [b"a", b"bc"])
        # A server writes the tag in its own way and sends properties we didn't register: both are fine.
        src = f"""<t:Message xmlns:t="{TNS}">
          <t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x1090" PropertyType="Integer"/>
            <t:Value>1</t:Value></t:ExtendedProperty>
          <t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="Common" PropertyId="34084"
            PropertyType="String"/><t:Value>Yes</t:Value></t:ExtendedProperty></t:Message>"""
        m = Message.from_xml(etree.fromstring(src))
        assert m.vote_response == "Yes"
        path = Message.FIELDS["vote_response"].field_path_xml()
        assert (path.tag, path.get("PropertyId")) == (f"{T}ExtendedFieldURI", "34084")
        with pytest.raises(TypeError, match=r"CalendarItem\.flag_tag"):
            item.flag_tag = "two"
        with pytest.raises(ValueError, match="already has"):
            CalendarItem.register("subject", LunchMenu)
        assert "lunch_menu" not in Message.FIELDS  # registered on CalendarItem only
    finally:
        CalendarItem.deregister("lunch_menu")
        CalendarItem.deregister("flag_tag")
        CalendarItem.deregister("meeting_array")
        Message.deregister("vote_response")
    assert "lunch_menu" not in CalendarItem.FIELDS
    with pytest.raises(TypeError, match="unexpected keyword argument 'lunch_menu'"):
        CalendarItem(lunch_menu="x")
    with pytest.raises(ValueError, match="no registered extended property"):
        CalendarItem.deregister("subject")

    class FolderSize(ExtendedProperty):
        property_tag = 0x0E08
        property_type = "Integer"

    Folder.register("size", FolderSize)
    try:
        assert Folder.FIELDS.names().index("size") == Folder.FIELDS.names().index("child_folder_count") + 1
    finally:
        Folder.deregister("size")


@pytest.mark.parametrize("attrs, message", [
    (dict(property_type="Integer"), "needs property_tag"),
    (dict(property_tag=0x1090, property_name="x"), "can't be combined"),
    (dict(property_tag=0x8001), "named-property range"),
    (dict(distinguished_property_set_id="Common"), "exactly one of property_name and property_id"),
    (dict(distinguished_property_set_id="Nope", property_id=1), "distinguished_property_set_id must be one of"),
    (dict(property_set_id="not-a-guid", property_id=1), "GUID"),
    (dict(property_tag=1, property_type="Text"), "property_type must be one of"),
])
def test_extended_property_definitions_are_checked(attrs, message):
    from exchangelib.properties import ExtendedProperty
    bad = type("Bad", (ExtendedProperty,), attrs)
    with pytest.raises(ValueError, match=message):
        Message.register("bad_prop", bad)
    assert "bad_prop" not in Message.FIELDS


def test_copying_an_item_shares_the_account_but_not_the_values():
    import copy
    account = object()
    m = Message(account=account, subject="x", to_recipients=["a@example.com"], categories=["c"])
    c = copy.deepcopy(m)
    assert c == m and c.account is account
    c.categories.append("d")
    c.to_recipients[0].name = "Anne"
    assert m.categories == ["c"] and m.to_recipients[0].name is None
    assert copy.copy(m).account is account


def test_repr_is_short_and_shows_key_fields():
    m = Message._construct(subject="Quarterly numbers", body="x" * 5000, to_recipients=["john@example.com"],
                           size=18342)
    m._set_id("AAMkADQ2ZjFhZDM0LTM5ZGYtNGE0Yy1hZDg3LTc2OGQ0YmM3OTBlYgBGAAAAAAC7rY4AMUbH", "CQAAABYAAABxk4GS")
    r = repr(m)
    assert r.startswith("Message(id=ItemId(id='AAMkADQ2Zj...") and "subject='Quarterly numbers'" in r
    assert "john@example.com" in r and "xxxx" not in r and len(r) < 300
