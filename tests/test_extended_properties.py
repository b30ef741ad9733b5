"""Extended properties over HTTP (seed 002, "Extended properties"): every addressing form, every
property type of the schema (arrays included) round-tripped, and registered properties used like any
other field: create, read, update, filter, order, only()."""
from __future__ import annotations

import decimal
import uuid
from contextlib import contextmanager
from typing import Iterator, List, Tuple

import pytest

from exchangelib import (
    BaseFolder, CalendarItem, Contact, EWSDateTime, EWSTimeZone, ExtendedProperty, Folder, Message,
)
from exchangelib.ewsdatetime import UTC
from exchangelib.properties.extended import PROPERTY_TYPES

TZ = EWSTimeZone.timezone("Europe/Copenhagen")


@contextmanager
def registered(*regs: Tuple[type, str, type]) -> Iterator[None]:
    done: List[Tuple[type, str]] = []
    try:
        for model, name, prop in regs:
            model.register(name, prop)
            done.append((model, name))
        yield
    finally:
        for model, name in reversed(done):
            model.deregister(name)


@pytest.fixture
def account(exchange):
    return exchange.account("john@example.com")


def _fresh(account, item):
    (fresh,) = account.fetch([item])
    assert not isinstance(fresh, Exception), fresh
    return fresh


# --- the seed's definitions -------------------------------------------------------------------------------
class LunchMenu(ExtendedProperty):
    property_set_id = '12345678-1234-1234-1234-123456781234'
    property_name = 'Catering from the cafeteria'
    property_type = 'String'


class PublicLunchMenu(ExtendedProperty):
    distinguished_property_set_id = 'PublicStrings'
    property_name = 'Catering from the cafeteria'
    property_type = 'String'


class Flag(ExtendedProperty):
    property_tag = 0x1090
    property_type = 'Integer'


class MyMeetingArray(ExtendedProperty):
    property_set_id = '00062004-0000-0000-C000-000000000046'
    property_type = 'BinaryArray'
    property_id = 32852


class VoteResponse(ExtendedProperty):
    distinguished_property_set_id = 'Common'
    property_id = 0x00008524
    property_type = 'String'


class FolderSize(ExtendedProperty):
    property_tag = 0x0e08
    property_type = 'Integer'


def test_seed_example_lunch_menu_on_calendar_items(account):
    with registered((CalendarItem, 'lunch_menu', LunchMenu)):
        item = CalendarItem(account=account, folder=account.calendar, subject='Lunch with the menu',
                            start=TZ.localize(EWSDateTime(2026, 4, 1, 12)), end=TZ.localize(EWSDateTime(2026, 4, 1, 13)),
                            lunch_menu='Foie gras et consommé de légumes')
        item.save()
        menus = [i.lunch_menu for i in account.calendar.all() if i.subject == 'Lunch with the menu']
        assert menus == ['Foie gras et consommé de légumes']
    assert 'lunch_menu' not in CalendarItem.FIELDS and not hasattr(CalendarItem, 'lunch_menu')
    with pytest.raises(TypeError, match="unexpected keyword argument 'lunch_menu'"):
        CalendarItem(lunch_menu='x')
    # Once deregistered, the property is simply not read any more
    assert 'lunch_menu' not in _fresh(account, item).__dict__


def test_each_addressing_form_of_the_seed_round_trips(account):
    with registered((Message, 'lunch_menu', LunchMenu), (Message, 'public_menu', PublicLunchMenu),
                    (Message, 'flag_status', Flag), (Message, 'meeting_array', MyMeetingArray),
                    (Message, 'vote', VoteResponse)):
        m = Message(account=account, folder=account.drafts, subject='addressing forms', lunch_menu='GUID and name',
                    public_menu='PublicStrings and name', flag_status=2, meeting_array=[b'\x01\x02', b'\xff'],
                    vote='Approve')
        m.save()
        fresh = _fresh(account, m)
        assert (fresh.lunch_menu, fresh.public_menu, fresh.flag_status, fresh.meeting_array, fresh.vote) == (
            'GUID and name', 'PublicStrings and name', 2, [b'\x01\x02', b'\xff'], 'Approve')
        # Two definitions with the same name in different property sets are different properties
        assert fresh.lunch_menu != fresh.public_menu


def test_property_tags_and_ids_given_as_hex_strings():
    class HexTag(ExtendedProperty):
        property_tag = '0x1090'
        property_type = 'Integer'

    class HexId(ExtendedProperty):
        distinguished_property_set_id = 'Common'
        property_id = '0x8524'
        property_type = 'String'

    with registered((Message, 'hex_tag', HexTag), (Message, 'hex_id', HexId)):
        assert HexTag.property_tag == 0x1090 and HexId.property_id == 0x8524
        assert HexTag.key() == Flag.key() and HexId.key() == VoteResponse.key()
        uri = Message.FIELDS['hex_tag'].field_path_xml()
        assert uri.get('PropertyTag') == '0x1090' and uri.get('PropertyType') == 'Integer'


# --- every property type ----------------------------------------------------------------------------------
NOW = EWSDateTime(2026, 3, 29, 1, 30, 15, tzinfo=UTC)
SAMPLES = {
    'ApplicationTime': decimal.Decimal('45000.25'),
    'Binary': b'\x00\x01binary\xff',
    'Boolean': True,
    'CLSID': str(uuid.UUID(int=0x1234)),
    'Currency': -(2 ** 62),
    'Double': decimal.Decimal('-1.5E+300'),
    'Error': 0x80004005,
    'Float': decimal.Decimal('3.25'),
    'Integer': -(2 ** 31),
    'Long': 2 ** 63 - 1,
    'Null': '',
    'Object': b'object bytes',
    'Short': 2 ** 15 - 1,
    'String': 'Text with æøå, <markup> & "quotes"',
    'SystemTime': TZ.localize(EWSDateTime(2026, 3, 29, 3, 30, 15)),  # just after the spring DST change
}
ARRAY_SAMPLES = {
    'ApplicationTimeArray': [decimal.Decimal('1'), decimal.Decimal('2.5')],
    'BinaryArray': [b'', b'\x00', b'abc'],
    'CLSIDArray': [str(uuid.UUID(int=1)), str(uuid.UUID(int=2))],
    'CurrencyArray': [0, -1, 2 ** 40],
    'DoubleArray': [decimal.Decimal('0.1'), decimal.Decimal('-2')],
    'FloatArray': [decimal.Decimal('1.25')],
    'IntegerArray': [1, -2, 3],
    'LongArray': [2 ** 40, -(2 ** 40)],
    'ObjectArray': [b'one', b'two'],
    'ShortArray': [-5, 5],
    'StringArray': ['one', 'two', ''],
    'SystemTimeArray': [NOW, TZ.localize(EWSDateTime(2026, 10, 25, 2, 30))],
}


def _prop_classes():
    classes = {}
    for i, ptype in enumerate(sorted(PROPERTY_TYPES)):
        classes[ptype] = type(f'Prop{ptype}', (ExtendedProperty,), {
            'property_set_id': 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', 'property_id': 0x9000 + i,
            'property_type': ptype})
    return classes


def _attr(ptype: str) -> str:
    return f"p_{ptype.lower()}"


def _same(a, b) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, EWSDateTime):
        return a.astimezone(UTC) == b.astimezone(UTC)
    return a == b and type(a) is type(b)


def test_the_samples_cover_every_property_type_of_the_schema():
    assert set(SAMPLES) | set(ARRAY_SAMPLES) == PROPERTY_TYPES
    assert len(PROPERTY_TYPES) == 27  # MapiPropertyTypeType in types.xsd


def test_every_property_type_round_trips_through_create_update_and_filter(account):
    classes = _prop_classes()
    values = {**SAMPLES, **ARRAY_SAMPLES}
    regs = [(Message, _attr(t), cls) for t, cls in classes.items()]
    with registered(*regs):
        m = Message(account=account, folder=account.drafts, subject='every type',
                    **{_attr(t): v for t, v in values.items()})
        m.save()
        fresh = _fresh(account, m)
        for ptype, value in values.items():
            assert _same(value, getattr(fresh, _attr(ptype))), ptype

        # Scalar types filter by equality; array types by containing a value
        drafts = account.drafts
        for ptype in ('String', 'Integer', 'Long', 'Short', 'Boolean', 'SystemTime', 'Double', 'CLSID'):
            assert drafts.filter(**{_attr(ptype): values[ptype]}).count() == 1, ptype
        assert drafts.filter(p_integer=5).count() == 0
        assert drafts.filter(p_stringarray__contains=['two']).count() == 1
        assert drafts.filter(p_integerarray__contains=[-2, 3]).count() == 1
        assert drafts.filter(p_integerarray__contains=[4]).count() == 0
        assert drafts.filter(p_systemtime__gte=NOW).count() == 1 and drafts.filter(p_systemtime__gt=NOW).count() == 0

        # Update one value of each kind, clear another
        fresh.p_string = 'changed'
        fresh.p_integerarray = [7]
        fresh.p_boolean = False
        fresh.p_binary = None
        fresh.save()
        again = _fresh(account, m)
        assert (again.p_string, again.p_integerarray, again.p_boolean, again.p_binary) == (
            'changed', [7], False, None)
        assert again.p_long == values['Long']  # untouched properties stay


def test_registered_properties_work_with_only_values_and_order_by(account):
    class Priority(ExtendedProperty):
        distinguished_property_set_id = 'PublicStrings'
        property_name = 'test-priority'
        property_type = 'Integer'

    with registered((Message, 'priority', Priority)):
        for n in (3, 1, 2):
            Message(account=account, folder=account.drafts, subject=f'prio {n}', priority=n).save()
        qs = account.drafts.filter(subject__startswith='prio ')
        assert list(qs.order_by('priority').values_list('priority', flat=True)) == [1, 2, 3]
        assert list(qs.order_by('-priority').values_list('subject', flat=True)) == ['prio 3', 'prio 2', 'prio 1']
        sparse = list(qs.only('priority'))
        assert sorted(i.priority for i in sparse) == [1, 2, 3]
        assert all(i.subject is None for i in sparse)  # only() asked for nothing else
        assert qs.filter(priority__gte=2).count() == 2


def test_a_property_registered_on_one_kind_does_not_disturb_others(account):
    with registered((Message, 'lunch_menu', LunchMenu)):
        c = Contact(account=account, folder=account.contacts, given_name='Ext', surname='Prop')
        c.save()
        assert _fresh(account, c).given_name == 'Ext'
        assert not hasattr(Contact, 'lunch_menu')


# --- folders ----------------------------------------------------------------------------------------------
def test_folder_size_from_the_seed(account):
    with registered((Folder, 'size', FolderSize)):
        my_folder = Folder(parent=account.inbox, name='Sized folder')
        my_folder.save()
        for n in range(3):
            Message(account=account, folder=my_folder, subject=f'sized {n}', body='x' * 1000).save()
        my_folder.refresh()
        sizes = [i.size for i in my_folder.all()]
        assert my_folder.size == sum(sizes) and my_folder.size > 3000
        assert not hasattr(account.calendar, 'size')  # a CalendarFolder is not a Folder (as in the schema)


def test_properties_registered_on_base_folder_reach_every_folder_kind(account):
    class ContentCount(ExtendedProperty):
        property_tag = 0x3602
        property_type = 'Integer'

    with registered((BaseFolder, 'content_count', ContentCount)):
        CalendarItem(account=account, folder=account.calendar, subject='counted',
                     start=TZ.localize(EWSDateTime(2026, 1, 5, 9)), end=TZ.localize(EWSDateTime(2026, 1, 5, 10))).save()
        account.calendar.refresh()
        assert account.calendar.content_count == account.calendar.all().count() >= 1


# --- definitions and values that are wrong -----------------------------------------------------------------
def _prop(**attrs) -> type:
    return type('Bad', (ExtendedProperty,), attrs)


@pytest.mark.parametrize("attrs,message", [
    (dict(property_tag=0x1090, property_type='Strng'), "property_type must be one of"),
    (dict(property_tag=0x1090, property_type='BooleanArray'), "property_type must be one of"),
    (dict(property_type='String'), "needs property_tag, or a property set"),
    (dict(property_tag=0x1090, property_set_id='12345678-1234-1234-1234-123456781234'), "can't be combined"),
    (dict(property_tag=0x10000), r"property_tag must be an int 0\.\.0xFFFF"),
    (dict(property_tag='0xnope'), "must be an int or a hex string"),
    (dict(property_tag=0x8524), "named-property range"),
    (dict(distinguished_property_set_id='Publicstrings', property_name='x'), "distinguished_property_set_id must"),
    (dict(distinguished_property_set_id='Common', property_set_id='12345678-1234-1234-1234-123456781234',
          property_id=1), "not both"),
    (dict(property_set_id='12345678-1234-1234-1234-123456781234'), "exactly one of property_name and property_id"),
    (dict(property_set_id='12345678-1234-1234-1234-123456781234', property_name='x', property_id=1),
     "exactly one of"),
    (dict(property_set_id='not-a-guid', property_name='x'), "GUID"),
    (dict(distinguished_property_set_id='Common', property_id=-1), "property_id must be between"),
    (dict(distinguished_property_set_id='Common', property_name=''), "property_name must be a non-empty str"),
])
def test_invalid_definitions_are_refused_at_registration(attrs, message):
    with pytest.raises(ValueError, match=message):
        Message.register('bad_prop', _prop(**attrs))
    assert 'bad_prop' not in Message.FIELDS


def test_registration_mistakes():
    with pytest.raises(TypeError, match="ExtendedProperty subclass"):
        Message.register('x', str)
    with pytest.raises(ValueError, match="already has an attribute named 'subject'"):
        Message.register('subject', LunchMenu)
    with pytest.raises(ValueError, match="not a valid public attribute name"):
        Message.register('not valid', LunchMenu)
    with registered((Message, 'lunch_menu', LunchMenu)):
        with pytest.raises(ValueError, match="names the same property as Message.lunch_menu"):
            Message.register('same_menu', type('Same', (LunchMenu,), {}))
    with pytest.raises(ValueError, match="no registered extended property 'lunch_menu'"):
        Message.deregister('lunch_menu')
    with pytest.raises(ValueError, match="no registered extended property 'subject'"):
        Message.deregister('subject')


def test_values_are_checked_on_assignment():
    classes = _prop_classes()
    with registered((Message, 'p_short', classes['Short']), (Message, 'p_intarr', classes['IntegerArray']),
                    (Message, 'p_text', classes['String']), (Message, 'p_time', classes['SystemTime'])):
        m = Message()
        with pytest.raises(TypeError, match="Message.p_text expects a str"):
            m.p_text = 5
        with pytest.raises(ValueError, match=r"Message.p_short must be <= 32767"):
            m.p_short = 2 ** 15
        with pytest.raises(TypeError, match="Message.p_intarr expects an int"):
            m.p_intarr = [1, 'two']
        with pytest.raises(ValueError, match="at least one value"):
            m.p_intarr = []
        with pytest.raises(ValueError, match="naive"):
            from datetime import datetime
            m.p_time = datetime(2020, 1, 1)
