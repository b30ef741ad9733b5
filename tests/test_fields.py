"""Field types: checking values, writing and reading XML, naming fields in requests."""
from __future__ import annotations

import datetime
import decimal
import logging

import pytest
from lxml import etree

from exchangelib.elements import EWSElement
from exchangelib.ewsdatetime import UTC, EWSDate, EWSDateTime, EWSTimeZone, NaiveDateTimeNotAllowed
from exchangelib.fields import (
    Base64Field, BooleanField, CharField, CharListField, ChoiceField, DateField, DateTimeField, DecimalField,
    EWSElementListField, FieldList, IndexedField, IntegerField, MimeContentField, RawXmlField, TextField,
    TimeZoneField,
)
from exchangelib.items import CalendarItem, Contact, Message
from exchangelib.properties import Body, HTMLBody, Mailbox, PhoneNumber, PhysicalAddress
from exchangelib.version import EXCHANGE_2007, EXCHANGE_2010, EXCHANGE_2013, Build, Version
from exchangelib.xml import TNS

T = f"{{{TNS}}}"


def xml(elem) -> str:
    return etree.tostring(elem, encoding="unicode")


class Sample(EWSElement):
    """A small model to exercise each field type in isolation."""

    ELEMENT_NAME = "Sample"
    name = CharField(xml_name="Name", max_length=5)
    text = TextField(xml_name="Text")
    kind = ChoiceField(xml_name="Kind", choices={"A", "B"})
    count = IntegerField(xml_name="Count", min=0, max=10)
    ratio = DecimalField(xml_name="Ratio", min=0, max=100)
    flag = BooleanField(xml_name="Flag")
    when = DateTimeField(xml_name="When")
    day = DateField(xml_name="Day")
    zone = TimeZoneField(xml_name="Zone")
    blob = Base64Field(xml_name="Blob")
    tags = CharListField(xml_name="Tags")
    raw = RawXmlField(xml_name="Raw", is_read_only=False)
    new_thing = CharField(xml_name="NewThing", supported_from=EXCHANGE_2013)


# --- clean(): errors name the class and the field -------------------------------------------------------
@pytest.mark.parametrize("field, value, exc, words", [
    ("name", 3, TypeError, ["Sample.name", "str", "int"]),
    ("name", "toolong", ValueError, ["Sample.name", "5 characters"]),
    ("name", "a\x00b", ValueError, ["Sample.name", "XML"]),
    ("kind", "C", ValueError, ["Sample.kind", "'A'", "'B'"]),
    ("count", "3", TypeError, ["Sample.count", "int"]),
    ("count", True, TypeError, ["Sample.count"]),
    ("count", 11, ValueError, ["Sample.count", "<= 10"]),
    ("count", -1, ValueError, ["Sample.count", ">= 0"]),
    ("ratio", "1.5", TypeError, ["Sample.ratio"]),
    ("ratio", float("nan"), ValueError, ["Sample.ratio", "finite"]),
    ("ratio", 101, ValueError, ["Sample.ratio"]),
    ("flag", 1, TypeError, ["Sample.flag", "bool"]),
    ("when", datetime.date(2020, 1, 1), TypeError, ["Sample.when", "datetime"]),
    ("when", "2020-01-01T00:00:00Z", TypeError, ["Sample.when"]),
    ("day", datetime.datetime(2020, 1, 1, tzinfo=UTC), TypeError, ["Sample.day", "date"]),
    ("zone", "Europe/Copenhagen", TypeError, ["Sample.zone", "EWSTimeZone"]),
    ("blob", "text", TypeError, ["Sample.blob", "bytes"]),
    ("tags", "foo", TypeError, ["Sample.tags", "list"]),
    ("tags", ["ok", 5], TypeError, ["Sample.tags"]),
    ("raw", "<t:Other xmlns:t='%s'/>" % TNS, ValueError, ["Sample.raw", "Raw"]),
    ("raw", "<not xml", ValueError, ["Sample.raw"]),
])
def test_assignment_rejects_bad_values_naming_class_and_field(field, value, exc, words):
    s = Sample()
    with pytest.raises(exc) as e:
        setattr(s, field, value)
    for w in words:
        assert w in str(e.value)
    assert getattr(s, field) is None  # nothing was stored


def test_naive_datetime_is_refused_with_a_clear_error():
    item = CalendarItem()
    with pytest.raises(NaiveDateTimeNotAllowed) as e:
        item.start = datetime.datetime(2020, 1, 1, 10, 0)
    assert isinstance(e.value, ValueError)
    assert "CalendarItem.start" in str(e.value) and "naive" in str(e.value)


def test_error_names_the_subclass_for_inherited_fields():
    with pytest.raises(TypeError, match=r"CalendarItem\.subject"):
        CalendarItem(subject=42)


def test_conversions_users_expect():
    s = Sample(ratio=12, tags=("a", "b"), blob=bytearray(b"\x00\x01"))
    assert s.ratio == decimal.Decimal(12) and isinstance(s.ratio, decimal.Decimal)
    assert s.tags == ["a", "b"] and isinstance(s.tags, list)
    assert s.blob == b"\x00\x01" and type(s.blob) is bytes
    aware = datetime.datetime(2020, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    s.when = aware
    assert isinstance(s.when, EWSDateTime) and s.when == aware
    s.day = datetime.date(2020, 5, 1)
    assert isinstance(s.day, EWSDate)
    s.zone = datetime.timezone.utc
    assert isinstance(s.zone, EWSTimeZone)
    m = Message(to_recipients=["anne@example.com", Mailbox(email_address="bob@example.com")], body="hi",
                sender="carl@example.com")
    assert [r.email_address for r in m.to_recipients] == ["anne@example.com", "bob@example.com"]
    assert isinstance(m.sender, Mailbox) and m.sender.email_address == "carl@example.com"
    assert isinstance(m.body, Body) and m.body.body_type == "Text"
    m.body = HTMLBody("<b>x</b>")
    assert m.body.body_type == "HTML"


def test_setting_none_unsets_the_field():
    s = Sample(name="abc")
    s.name = None
    assert s.name is None and "name" not in s.__dict__


# --- XML --------------------------------------------------------------------------------------------------
def test_simple_fields_write_text():
    f = Sample.FIELDS
    assert xml(f["flag"].to_xml(True)) == f'<t:Flag xmlns:t="{TNS}">true</t:Flag>'
    assert f["count"].to_xml(7).text == "7"
    assert f["ratio"].to_xml(decimal.Decimal("1E+2")).text == "100"
    assert f["when"].to_xml(EWSDateTime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)).text == "2020-01-02T03:04:05Z"
    assert f["day"].to_xml(EWSDate(2020, 1, 2)).text == "2020-01-02"
    assert f["blob"].to_xml(b"hi").text == "aGk="
    tags = f["tags"].to_xml(["a", "b"])
    assert [(c.tag, c.text) for c in tags] == [(f"{T}String", "a"), (f"{T}String", "b")]


def test_simple_fields_read_leniently():
    f = Sample.FIELDS
    e = etree.Element(f"{T}X")
    e.text = "1"
    assert f["flag"].from_xml(e) is True
    e.text = "not-a-number"
    assert f["count"].from_xml(e) is None  # logged, not raised: server data never breaks parsing
    e.text = "C"
    assert f["kind"].from_xml(e) == "C"  # a value a newer server introduced is kept
    e.text = "2020-01-02T03:04:05.123+02:00"
    dt = f["when"].from_xml(e)
    assert dt == EWSDateTime(2020, 1, 2, 1, 4, 5, 123000, tzinfo=UTC)
    e.text = "yesterday"
    assert f["when"].from_xml(e) is None
    e.text = "2020-01-02T03:04:05"  # no offset: wall time in the account's zone
    account = type("A", (), {"default_timezone": EWSTimeZone("Europe/Copenhagen")})()
    assert f["when"].from_xml(e, account) == EWSDateTime(2020, 1, 2, 2, 4, 5, tzinfo=UTC)
    e.text = None
    assert f["name"].from_xml(e) == ""
    assert f["blob"].from_xml(e) == b""


def test_timezone_field_reads_unknown_windows_names_without_crashing(caplog):
    f = Sample.FIELDS["zone"]
    elem = etree.Element(f"{T}Zone", Id="Romance Standard Time")
    assert f.from_xml(elem).ms_id == "Romance Standard Time"
    with caplog.at_level(logging.WARNING):
        weird = f.from_xml(etree.Element(f"{T}Zone", Id="Customized Time Zone 42"))
    assert isinstance(weird, EWSTimeZone)
    assert f.to_xml(EWSTimeZone("Europe/Copenhagen")).get("Id") == "Romance Standard Time"


def test_element_and_list_fields_round_trip_through_their_element():
    m = Message(to_recipients=["a@example.com", "b@example.com"], sender="c@example.com")
    to = Message.FIELDS["to_recipients"]
    elem = to.to_xml(m.to_recipients)
    assert [c.tag for c in elem] == [f"{T}Mailbox", f"{T}Mailbox"]
    assert to.from_xml(elem) == m.to_recipients
    sender = Message.FIELDS["sender"]
    elem = sender.to_xml(m.sender)
    assert elem.tag == f"{T}Sender" and elem[0].tag == f"{T}Mailbox"
    assert sender.from_xml(elem) == m.sender


def test_raw_xml_field_keeps_unmodelled_elements():
    f = Message.FIELDS["voting_information"]
    src = f'<t:VotingInformation xmlns:t="{TNS}"><t:UserOptions/></t:VotingInformation>'
    value = f.from_xml(etree.fromstring(src))
    assert etree.fromstring(value).tag == f"{T}VotingInformation"
    assert xml(f.to_xml(value)) == xml(etree.fromstring(src))


def test_mime_content_is_bytes():
    f = MimeContentField("item:MimeContent")
    e = etree.Element(f"{T}MimeContent", CharacterSet="UTF-8")
    e.text = "U3ViamVjdDogaGk="
    assert f.from_xml(e) == b"Subject: hi"


# --- field paths and restriction constants -----------------------------------------------------------------
def test_field_path_xml():
    assert xml(Message.FIELDS["subject"].field_path_xml()) == f'<t:FieldURI xmlns:t="{TNS}" FieldURI="item:Subject"/>'
    with pytest.raises(ValueError, match="no FieldURI"):
        Sample.FIELDS["name"].field_path_xml()


def test_indexed_field_paths():
    phones = Contact.FIELDS["phone_numbers"]
    assert isinstance(phones, IndexedField)
    p = phones.field_path_xml("CarPhone")
    assert p.tag == f"{T}IndexedFieldURI" and p.get("FieldURI") == "contacts:PhoneNumber"
    assert p.get("FieldIndex") == "CarPhone"
    assert phones.field_path_xml().get("FieldURI") == "contacts:PhoneNumbers"
    addr = Contact.FIELDS["physical_addresses"]
    p = addr.indexed_field_path_xml("Home__street")
    assert (p.get("FieldURI"), p.get("FieldIndex")) == ("contacts:PhysicalAddress:Street", "Home")
    with pytest.raises(ValueError, match="label must be one of"):
        phones.field_path_xml("Mobile")
    with pytest.raises(ValueError, match="several parts"):
        addr.field_path_xml("Home")
    with pytest.raises(ValueError, match="subfield must be one of"):
        addr.field_path_xml("Home", "planet")


def test_indexed_field_refuses_duplicate_labels():
    with pytest.raises(ValueError, match="two entries with label 'CarPhone'"):
        Contact(phone_numbers=[PhoneNumber(label="CarPhone", phone_number="1"),
                               PhoneNumber(label="CarPhone", phone_number="2")])
    with pytest.raises(ValueError, match="PhysicalAddress.label"):
        PhysicalAddress(label="Moon")


def test_to_constant():
    f = CalendarItem.FIELDS
    tz = EWSTimeZone("Europe/Copenhagen")
    assert f["start"].to_constant(tz.localize(EWSDateTime(2020, 6, 1, 12))) == "2020-06-01T10:00:00Z"
    assert f["is_all_day"].to_constant(False) == "false"
    assert f["categories"].to_constant("foo") == "foo"
    assert f["required_attendees"].to_constant("anne@example.com") == "anne@example.com"
    assert Message.FIELDS["sender"].to_constant(Mailbox(email_address="x@example.com")) == "x@example.com"
    with pytest.raises(TypeError, match="list element"):
        f["categories"].to_constant(["foo"])
    with pytest.raises(NaiveDateTimeNotAllowed):
        f["start"].to_constant(datetime.datetime(2020, 1, 1))


# --- versions and the field list ----------------------------------------------------------------------------
def test_version_support():
    f = Sample.FIELDS["new_thing"]
    assert not f.is_supported(Version(EXCHANGE_2010))
    assert f.is_supported(Version(EXCHANGE_2013)) and f.is_supported(None)
    old = CharField(xml_name="Old", deprecated_from=EXCHANGE_2010)
    assert old.is_supported(EXCHANGE_2007) and not old.is_supported(Build(15, 0))
    with pytest.raises(ValueError, match="not supported"):
        Sample(new_thing="x").clean(Version(EXCHANGE_2010))
    # Serialising for an old server leaves out what it doesn't know.
    elem = Sample(name="a", new_thing="x").to_xml(Version(EXCHANGE_2010))
    assert [c.tag for c in elem] == [f"{T}Name"]


def test_field_list():
    fl = FieldList([CharField(xml_name="A", name="a"), CharField(xml_name="B", name="b")])
    assert len(fl) == 2 and "a" in fl and fl.get("b").xml_name == "B" and fl.get("zzz") is None
    assert fl.names() == ["a", "b"] and fl["a"] is fl[0]
    with pytest.raises(ValueError, match="already"):
        fl.append(CharField(xml_name="A", name="a"))
    assert "subject" in repr(CalendarItem.FIELDS)


def test_field_definition_errors():
    with pytest.raises(ValueError):
        CharField()
    with pytest.raises(ValueError, match="field_uri"):
        CharField("Subject")
    with pytest.raises(TypeError):
        CharField(xml_name="X", supported_from="2010")
    with pytest.raises(ValueError):
        CharField(xml_name="X", max_length=0)


def test_list_field_of_elements_dispatches_on_tag():
    f = EWSElementListField(xml_name="People", value_cls=(Mailbox,))
    elem = etree.fromstring(f'<t:People xmlns:t="{TNS}"><t:Mailbox><t:EmailAddress>a@b.c</t:EmailAddress>'
                            f'</t:Mailbox><t:Unknown/></t:People>')
    assert f.from_xml(elem) == [Mailbox(email_address="a@b.c")]
