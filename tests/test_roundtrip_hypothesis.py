"""Property tests: random valid values survive to_xml -> bytes -> parse -> from_xml unchanged.

Also: random CalendarItem and Message objects serialise into a CreateItem request that validates
against Microsoft's schema.
"""
from __future__ import annotations

import decimal
from typing import Any, Dict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from exchangelib.properties.permissions import Permission
from exchangelib.elements import EWSElement
from exchangelib.ewsdatetime import UTC, EWSDate, EWSDateTime, EWSTimeZone
from exchangelib.fields import (
    Base64Field, Base64ListField, BooleanField, CharField, CharListField, DateField, DateTimeField, DecimalField,
    ElementChoiceField, EWSElementField, EWSElementListField, Field, GuidField, IndexedField, IntegerField, RawXmlField,
    TimeZoneField, URIField,
)
from exchangelib.folders import CalendarFolder, ContactsFolder, Folder, SearchFolder, TasksFolder
from exchangelib.items import (
    CalendarItem, Contact, DistributionList, Item, MeetingCancellation, MeetingMessage, MeetingRequest,
    MeetingResponse, Message, PostItem, Task,
)
from exchangelib.properties import (
    Attendee, Body, BodyField, EffectiveRights, HTMLBody, ItemId, PhoneNumber, ResponseObjectsField, RetentionTag,
)
from exchangelib.properties.attachments import FileAttachment, ItemAttachment, ItemField
from exchangelib.properties.recurrence import (
    MonthField, NumberedPattern, Recurrence, RelativeYearlyPattern, WeekdayField, WeekdaysField, WeeklyPattern,
    WeekNumberField,
)
from exchangelib.testing.schema import validate
from exchangelib.xml import TNS, add_child, create_element, parse

SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text XML can carry: no control characters except tab/newline/CR, no surrogates, no U+FFFE/U+FFFF.
XML_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff",
                                          min_codepoint=0x20) | st.sampled_from("\t\n\r"), max_size=40)
ZONES = [EWSTimeZone.from_ms_id(ms_id) for ms_id in (
    "UTC", "Romance Standard Time", "Eastern Standard Time", "Tokyo Standard Time", "India Standard Time",
    "AUS Eastern Standard Time")]
RESPONSE_OBJECTS = ["AcceptItem", "TentativelyAcceptItem", "DeclineItem", "ReplyToItem", "ForwardItem",
                    "ReplyAllToItem", "CancelCalendarItem", "RemoveItem", "SuppressReadReceipt", "PostReplyItem"]


def datetimes() -> st.SearchStrategy:
    return st.builds(
        lambda dt, tz: tz.localize(EWSDateTime.from_datetime(dt)),
        st.datetimes(min_value=__import__("datetime").datetime(1900, 1, 2),
                     max_value=__import__("datetime").datetime(9999, 12, 30)),
        st.sampled_from(ZONES))


def value_strategy(field: Field, writable_only: bool = False) -> st.SearchStrategy:
    """Random valid values for ``field``."""
    if isinstance(field, IndexedField):
        labels = sorted(field.labels)
        return st.lists(st.sampled_from(labels), min_size=1, max_size=3, unique=True).flatmap(
            lambda ls: st.tuples(*[element_strategy(field.value_cls, label=lb) for lb in ls]).map(list))
    if isinstance(field, EWSElementListField):
        classes = field.value_cls if isinstance(field.value_cls, tuple) else (field.value_cls,)
        return st.lists(st.one_of(*[element_strategy(c) for c in classes]), min_size=1, max_size=3)
    if isinstance(field, EWSElementField):
        return element_strategy(field.value_cls)
    if isinstance(field, ElementChoiceField):
        return st.one_of(*[element_strategy(c) for c in field.value_cls])
    if isinstance(field, WeekdaysField):
        return st.lists(st.sampled_from(field.allowed), min_size=1, max_size=7, unique=True)
    if isinstance(field, (WeekdayField, MonthField, WeekNumberField)):
        return st.sampled_from(field.allowed)
    if isinstance(field, RawXmlField):
        return st.just(f'<t:{field.xml_name} xmlns:t="{TNS}"/>')
    if isinstance(field, ItemField):
        return st.sampled_from([Message, Task]).flatmap(lambda c: element_strategy(c, writable_only=True))
    if isinstance(field, ResponseObjectsField):
        return st.lists(st.sampled_from(RESPONSE_OBJECTS), min_size=1, max_size=4)
    if isinstance(field, BodyField):
        return st.builds(lambda t, html: (HTMLBody if html else Body)(t), XML_TEXT, st.booleans())
    if isinstance(field, CharListField):
        return st.lists(XML_TEXT, min_size=1, max_size=4)
    if isinstance(field, Base64ListField):
        return st.lists(st.binary(max_size=30), min_size=1, max_size=3)
    if isinstance(field, URIField):
        return st.from_regex(r"https?://[a-z]{1,10}\.example/[a-zA-Z0-9/._~-]{0,10}(%[0-9A-F]{2})?", fullmatch=True)
    if isinstance(field, GuidField):
        return st.uuids().map(str)
    if isinstance(field, CharField):
        if field.choices is not None:
            return st.sampled_from(sorted(field.choices))
        if field.regex is not None:
            return st.from_regex(field.regex, fullmatch=True)
        text = XML_TEXT if field.max_length is None else st.text(
            alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xD7FF), max_size=field.max_length)
        return text.filter(bool) if (field.is_attribute or field.min_length) else text
    if isinstance(field, BooleanField):
        return st.booleans()
    if isinstance(field, IntegerField):
        return st.integers(min_value=field.min if field.min is not None else -2**31,
                           max_value=field.max if field.max is not None else 2**31 - 1)
    if isinstance(field, DecimalField):
        return st.decimals(min_value=field.min if field.min is not None else -10**6,
                           max_value=field.max if field.max is not None else 10**6,
                           allow_nan=False, allow_infinity=False, places=3)
    if isinstance(field, DateTimeField):
        return datetimes()
    if isinstance(field, DateField):
        return st.dates().map(EWSDate.from_date)
    if isinstance(field, TimeZoneField):
        return st.sampled_from(ZONES)
    if isinstance(field, Base64Field):
        return st.binary(max_size=40)
    raise AssertionError(f"No strategy for {field!r}")  # a new field type needs a strategy here


def element_strategy(cls: type, writable_only: bool = False, **fixed: Any) -> st.SearchStrategy:
    """Random instances of ``cls``: required fields always set, others sometimes."""
    required: Dict[str, st.SearchStrategy] = {}
    optional: Dict[str, st.SearchStrategy] = {}
    for f in cls.FIELDS:
        if f.name in fixed or (writable_only and f.is_read_only):
            continue
        (required if f.is_required else optional)[f.name] = value_strategy(f, writable_only)
    return st.fixed_dictionaries(required, optional=optional).map(lambda kw: cls._construct(**kw, **fixed))


def round_trip(obj: EWSElement) -> EWSElement:
    kwargs = {"include_read_only": True} if hasattr(obj, "writable_fields") else {}
    data = etree.tostring(obj.to_xml(None, **kwargs))
    return type(obj).from_xml(parse(data))


def normalised(obj: EWSElement) -> Dict[str, Any]:
    """Field values for comparison; empty lists count as unset (they are not serialised)."""
    out = {}
    for f in type(obj).FIELDS:
        v = getattr(obj, f.name)
        if isinstance(v, list) and not v:
            v = None
        if f.is_text and v == "":
            v = None  # an element's empty text and no text are the same thing in XML
        if isinstance(v, EWSElement):
            v = normalised(v)
        elif isinstance(v, list) and v and isinstance(v[0], EWSElement):
            v = [normalised(x) for x in v]
        elif isinstance(v, EWSTimeZone):
            v = v.ms_id
        elif isinstance(v, EWSDateTime):
            # Compare instants in UTC: Python never equates an ambiguous (fold) local time with another zone.
            v = v.astimezone(UTC)
        elif isinstance(v, Body):
            v = (type(v).__name__, str(v))
        out[f.name] = v
    return out


# --- every field type on its own -------------------------------------------------------------------------
FIELD_SAMPLES = {}
for _cls in (Item, Message, CalendarItem, Task, Contact, DistributionList, PostItem, MeetingRequest, Folder,
             CalendarFolder, ContactsFolder, ItemAttachment, FileAttachment, Recurrence, WeeklyPattern,
             RelativeYearlyPattern, RetentionTag, EffectiveRights, Attendee, PhoneNumber, NumberedPattern, ItemId,
             Permission):
    for _f in _cls.FIELDS:
        FIELD_SAMPLES.setdefault(type(_f), (_cls, _f))


@pytest.mark.parametrize("field_type", sorted(FIELD_SAMPLES, key=lambda t: t.__name__),
                         ids=lambda t: t.__name__)
def test_each_field_type_round_trips(field_type):
    cls, field = FIELD_SAMPLES[field_type]

    @SETTINGS
    @given(value=value_strategy(field))
    def check(value):
        value = field.clean(value)
        parent = etree.Element(f"{{{TNS}}}Parent", nsmap={"t": TNS})
        field.add_to(parent, value, None)
        reparsed = parse(etree.tostring(parent))
        if field.is_attribute:
            back = field.from_text(reparsed.get(field.xml_name))
        elif field.is_text:
            back = field.from_text(reparsed.text)
        else:
            (child,) = reparsed
            back = field.from_xml(child)
        holder_a, holder_b = cls._construct(), cls._construct()
        holder_a._set_field(field.name, value)
        holder_b._set_field(field.name, back)
        assert normalised(holder_a)[field.name] == normalised(holder_b)[field.name]

    check()


def test_every_field_type_in_use_is_covered():
    # Every field type reachable from the item and folder classes (nested value classes included) must
    # appear in FIELD_SAMPLES, and so be round-tripped above.
    seen_classes, used = set(), set()
    todo = [Item, Message, CalendarItem, Task, Contact, DistributionList, PostItem, MeetingMessage, MeetingRequest,
            MeetingResponse, MeetingCancellation, Folder, CalendarFolder, ContactsFolder, SearchFolder, TasksFolder]
    while todo:
        cls = todo.pop()
        if cls in seen_classes:
            continue
        seen_classes.add(cls)
        for f in cls.FIELDS:
            used.add(type(f))
            value_cls = f.value_cls if isinstance(f.value_cls, tuple) else (f.value_cls,)
            todo.extend(c for c in value_cls if isinstance(c, type) and issubclass(c, EWSElement)
                        and c is not EWSElement)
    assert used <= set(FIELD_SAMPLES), used - set(FIELD_SAMPLES)


# --- whole items and folders -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [Item, Message, CalendarItem, Task, Contact, DistributionList, PostItem,
                                 MeetingMessage, MeetingRequest, MeetingResponse, MeetingCancellation, Folder,
                                 CalendarFolder, ContactsFolder, SearchFolder, TasksFolder],
                         ids=lambda c: c.__name__)
def test_random_models_round_trip(cls):
    @SETTINGS
    @given(obj=element_strategy(cls))
    def check(obj):
        assert normalised(round_trip(obj)) == normalised(obj)

    check()


def _create_item(item: EWSElement) -> etree._Element:
    req = create_element("m:CreateItem", {"MessageDisposition": "SaveOnly", "SendMeetingInvitations": "SendToNone"})
    add_child(req, "m:Items").append(item.to_xml(None))
    return req


@pytest.mark.parametrize("cls", [CalendarItem, Message, Task, Contact], ids=lambda c: c.__name__)
def test_random_items_make_valid_create_item_requests(cls):
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(item=element_strategy(cls, writable_only=True))
    def check(item):
        ok, err = validate(_create_item(item))
        assert ok, err

    check()


def test_decimal_strategy_sanity():
    # A guard that the strategies produce what the fields accept (otherwise tests would test nothing).
    assert Task.FIELDS["percent_complete"].clean(decimal.Decimal("12.500")) == decimal.Decimal("12.5")
    assert EWSDateTime(2020, 1, 1, tzinfo=UTC).ewsformat() == "2020-01-01T00:00:00Z"
