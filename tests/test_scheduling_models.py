"""Scheduling models without a server: XSD field order, and the availability time zone on both sides.

The client describes a zone as a ``t:SerializableTimeZone`` (:meth:`TimeZone.from_tzinfo`) and the local
server reads it with its own code (:class:`exchangelib.testing.ops.legacy_tz.LegacyZone`); both must agree
with the IANA rules at every instant of the year, DST changes included.
"""
from __future__ import annotations

import datetime

import pytest

from exchangelib.ewsdatetime import EWSTimeZone
from exchangelib.properties.availability import (CalendarEvent, CalendarEventDetails, GroupAttendeeConflictData,
                                                 IndividualAttendeeConflictData, MailTips, StandardTime, Suggestion,
                                                 SuggestionDayResult, TimeZone, WorkingPeriod)
from exchangelib.properties.persona import Persona
from exchangelib.testing.ops.legacy_tz import LegacyZone, zone_element
from tests.test_schema_order import _flatten, complex_types  # noqa: F401 - the fixture is used by name

UTC = datetime.timezone.utc
ZONES = ["Europe/Copenhagen", "America/New_York", "Australia/Sydney", "America/Santiago", "Asia/Kolkata",
         "Pacific/Chatham", "UTC", "America/St_Johns"]

MODELS = [(StandardTime, "SerializableTimeZoneTime"), (TimeZone, "SerializableTimeZone"),
          (CalendarEventDetails, "CalendarEventDetails"), (CalendarEvent, "CalendarEvent"),
          (WorkingPeriod, "WorkingPeriod"), (Suggestion, "Suggestion"), (SuggestionDayResult, "SuggestionDayResult"),
          (IndividualAttendeeConflictData, "IndividualAttendeeConflictData"),
          (GroupAttendeeConflictData, "GroupAttendeeConflictData"), (MailTips, "MailTips"), (Persona, "PersonaType")]


@pytest.mark.parametrize("model, type_name", MODELS, ids=[m[0].__name__ for m in MODELS])
def test_fields_follow_the_xsd_sequence(complex_types, model, type_name):  # noqa: F811
    xsd, _ = _flatten(complex_types, type_name)
    ours = [f.xml_name for f in model.FIELDS if not f.is_attribute]
    # Every field is in the sequence, in its order (MailTips leaves out a few newer elements)
    assert [e for e in xsd if e in ours] == ours


def _instants(year: int):
    t = datetime.datetime(year, 1, 1, tzinfo=UTC)
    while t.year == year:
        yield t
        t += datetime.timedelta(hours=5, minutes=17)


@pytest.mark.parametrize("key", ZONES)
def test_client_zone_description_and_server_reading_agree_with_iana(key):
    tz = EWSTimeZone(key)
    described = TimeZone.from_tzinfo(tz, 2026)
    server_side = LegacyZone(described.to_xml())
    for t in _instants(2026):
        local = t.astimezone(tz).replace(tzinfo=None)
        assert server_side.to_local(t) == local, t
        assert described.utcoffset(local) == t.astimezone(tz).utcoffset(), t
        if local.replace(tzinfo=tz).utcoffset() == t.astimezone(tz).utcoffset() and not t.astimezone(tz).fold:
            assert server_side.to_utc(local) == t, t


@pytest.mark.parametrize("key", ZONES)
def test_server_zone_description_read_back_by_the_client(key):
    tz = EWSTimeZone(key)
    parsed = TimeZone.from_xml(zone_element(key, 2026))
    assert parsed == TimeZone.from_tzinfo(tz, 2026)
    assert parsed.has_dst == (key not in ("Asia/Kolkata", "UTC"))


def test_working_period_times_and_days_round_trip():
    wp = WorkingPeriod.from_xml(WorkingPeriod(weekdays=["Monday", "Friday"], start=datetime.time(8, 30),
                                              end=datetime.time(16)).to_xml())
    assert (wp.weekdays, wp.start, wp.end) == (["Monday", "Friday"], datetime.time(8, 30), datetime.time(16))
