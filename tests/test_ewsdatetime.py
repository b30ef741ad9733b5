"""EWSTimeZone / EWSDateTime / EWSDate: pytz-style API, EWS wire format, DST edges, Windows zone names."""
from __future__ import annotations

import datetime
import logging
import pickle
import re
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchangelib.errors import (
    AmbiguousTimeError, EWSError, NaiveDateTimeNotAllowed, NonExistentTimeError, UnknownTimeZone,
)
from exchangelib.ewsdatetime import UTC, UTC_NOW, EWSDate, EWSDateTime, EWSTimeZone
from exchangelib.winzone import IANA_TO_MS, MS_TO_IANA

CPH = EWSTimeZone("Europe/Copenhagen")
NY = EWSTimeZone("America/New_York")
AVAILABLE = zoneinfo.available_timezones()
ZONES = sorted(k for k in IANA_TO_MS if k in AVAILABLE)
EWS_DT_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?(Z|[+-]\d\d:\d\d)$")


def utc_instant(dt: datetime.datetime) -> datetime.datetime:
    """The naive UTC wall time of an aware datetime (avoids PEP 495's inter-zone comparison rules)."""
    return dt.replace(tzinfo=None) - dt.utcoffset()


aware_datetimes = st.datetimes(
    min_value=datetime.datetime(1800, 1, 2), max_value=datetime.datetime(2200, 12, 30),
    timezones=st.sampled_from(ZONES).map(EWSTimeZone), allow_imaginary=False,
)


# --- EWSTimeZone -----------------------------------------------------------------------------------------

def test_timezone_constructors_and_names():
    tz = EWSTimeZone.timezone("Europe/Copenhagen")
    assert tz is EWSTimeZone("Europe/Copenhagen")
    assert isinstance(tz, datetime.tzinfo) and isinstance(tz, zoneinfo.ZoneInfo)
    assert tz.key == "Europe/Copenhagen"
    assert tz.ms_id == "Romance Standard Time"
    assert tz.ms_name == "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris"
    assert repr(tz) == "EWSTimeZone(key='Europe/Copenhagen')"
    assert str(tz) == "Europe/Copenhagen"
    assert UTC.key == "UTC" and UTC.ms_id == "UTC"
    # Newer IANA names that CLDR does not list still get a Windows id
    assert EWSTimeZone("Europe/Kyiv").ms_id == "FLE Standard Time"
    assert EWSTimeZone("Asia/Kolkata").ms_id == "India Standard Time"


def test_timezone_equality_and_hash_by_key():
    fresh = EWSTimeZone.no_cache("Europe/Copenhagen")
    assert fresh is not CPH
    assert fresh == CPH and hash(fresh) == hash(CPH)
    assert EWSTimeZone.from_timezone(zoneinfo.ZoneInfo("Europe/Copenhagen")) == CPH
    assert CPH != NY
    assert len({CPH, fresh, NY}) == 2
    assert CPH != "Europe/Copenhagen"


def test_timezone_pickles():
    assert pickle.loads(pickle.dumps(CPH)) == CPH
    assert type(pickle.loads(pickle.dumps(CPH))) is EWSTimeZone


@pytest.mark.parametrize("bad", ["Europe/Nowhere", "Europe", "", "../etc/passwd", "/etc/localtime"])
def test_unknown_timezone_name(bad):
    with pytest.raises(UnknownTimeZone, match="IANA"):
        EWSTimeZone(bad)


def test_unknown_timezone_is_value_error_and_ews_error():
    with pytest.raises(ValueError):
        EWSTimeZone("Mars/Olympus_Mons")
    with pytest.raises(EWSError):
        EWSTimeZone("Mars/Olympus_Mons")
    with pytest.raises(TypeError, match="IANA time zone name"):
        EWSTimeZone(42)


def test_ms_id_missing_for_unmapped_zone():
    tz = EWSTimeZone("Antarctica/Troll")  # a real IANA zone that Windows has no id for
    assert tz.ms_name is None
    with pytest.raises(UnknownTimeZone, match="Antarctica/Troll"):
        tz.ms_id


def test_from_ms_id_exact():
    assert EWSTimeZone.from_ms_id("W. Europe Standard Time") == EWSTimeZone("Europe/Berlin")
    assert EWSTimeZone.from_ms_id("Romance Standard Time").ms_id == "Romance Standard Time"
    for ms_id, iana in MS_TO_IANA.items():
        tz = EWSTimeZone.from_ms_id(ms_id, fallback=False)
        assert tz.ms_id == ms_id
        assert tz.key == ("UTC" if iana == "Etc/UTC" else iana)


@pytest.mark.parametrize("name, expected", [
    ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),
    ("(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),  # older Windows
    ("(UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien", "Europe/Berlin"),  # localized
    ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
    ("(UTC+00:00) Dublin, Edinburgh, Lissabon, London", "Europe/London"),
    ("w. europe standard time", "Europe/Berlin"),
    ("  Romance  Standard Time ", "Europe/Paris"),
    ("tzone://Microsoft/Utc", "UTC"),
    ("UTC", "UTC"),
    ("Europe/Copenhagen", "Europe/Copenhagen"),
])
def test_from_ms_id_forgiving_names_without_warning(name, expected, caplog):
    with caplog.at_level(logging.WARNING, logger="exchangelib.ewsdatetime"):
        assert EWSTimeZone.from_ms_id(name).key == expected
    assert not caplog.records


@pytest.mark.parametrize("name, expected", [
    ("(UTC+03:00) My company's zone", "Etc/GMT-3"),
    ("Custom UTC-07", "Etc/GMT+7"),
    ("(UTC+05:30) Somewhere", "Asia/Calcutta"),
    ("Customized Time Zone", "UTC"),
    ("", "UTC"),
])
def test_from_ms_id_fallback_warns_and_names_the_value(name, expected, caplog):
    with caplog.at_level(logging.WARNING, logger="exchangelib.ewsdatetime"):
        tz = EWSTimeZone.from_ms_id(name)
    assert tz.key == expected
    assert any(repr(name) in r.getMessage() for r in caplog.records), caplog.records


def test_from_ms_id_fallback_false_raises():
    with pytest.raises(UnknownTimeZone, match="Customized Time Zone"):
        EWSTimeZone.from_ms_id("Customized Time Zone", fallback=False)
    with pytest.raises(UnknownTimeZone):
        EWSTimeZone.from_ms_id("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", fallback=False)
    with pytest.raises(TypeError):
        EWSTimeZone.from_ms_id(None)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_from_ms_id_never_crashes_on_server_text(name):
    tz = EWSTimeZone.from_ms_id(name)
    assert isinstance(tz, EWSTimeZone)
    assert tz.utcoffset(datetime.datetime(2020, 1, 1)) is not None


class FakePytzZone(datetime.tzinfo):
    """Looks like a pytz zone to duck typing: has a ``zone`` name."""
    zone = "America/New_York"

    def utcoffset(self, dt):
        return datetime.timedelta(hours=-5)


def test_from_timezone_dateutil():
    dateutil_tz = pytest.importorskip("dateutil.tz", reason="python-dateutil is optional")
    assert EWSTimeZone.from_timezone(dateutil_tz.UTC) == UTC
    assert EWSTimeZone.from_timezone(dateutil_tz.gettz("Europe/Copenhagen")) == CPH


def test_from_timezone():
    assert EWSTimeZone.from_timezone(CPH) is CPH
    assert EWSTimeZone.from_timezone(zoneinfo.ZoneInfo("Europe/Copenhagen")) == CPH
    assert EWSTimeZone.from_timezone(FakePytzZone()) == NY
    assert EWSTimeZone.from_timezone(datetime.timezone.utc) == UTC
    assert EWSTimeZone.from_timezone(datetime.timezone(datetime.timedelta(hours=2))).key == "Etc/GMT-2"
    assert EWSTimeZone.from_timezone("America/New_York") == NY
    with pytest.raises(UnknownTimeZone, match="fixed offset"):
        EWSTimeZone.from_timezone(datetime.timezone(datetime.timedelta(hours=5, minutes=30)))
    with pytest.raises(TypeError):
        EWSTimeZone.from_timezone(3)

    class Weird(datetime.tzinfo):
        def utcoffset(self, dt):
            return datetime.timedelta(0)

    with pytest.raises(UnknownTimeZone, match="Weird"):
        EWSTimeZone.from_timezone(Weird())


def test_localzone(monkeypatch):
    import tzlocal

    monkeypatch.setattr(tzlocal, "get_localzone_name", lambda: "Europe/Copenhagen")
    assert EWSTimeZone.localzone() == CPH
    assert EWSDateTime(2020, 1, 1, 12, tzinfo=UTC).astimezone().tzinfo == CPH

    def broken():
        raise LookupError("no /etc/localtime")

    monkeypatch.setattr(tzlocal, "get_localzone_name", broken)
    with pytest.raises(UnknownTimeZone, match="TZ environment variable"):
        EWSTimeZone.localzone()


# --- localize / normalize (pytz style) ------------------------------------------------------------------

def test_localize_returns_ewsdatetime_with_ewstimezone():
    dt = CPH.localize(EWSDateTime(2017, 9, 5, 8, 30))
    assert type(dt) is EWSDateTime and dt.tzinfo is CPH
    assert dt.ewsformat() == "2017-09-05T08:30:00+02:00"
    assert type(CPH.localize(datetime.datetime(2017, 1, 5, 8, 30))) is EWSDateTime
    assert CPH.localize(datetime.datetime(2017, 1, 5, 8, 30)).ewsformat() == "2017-01-05T08:30:00+01:00"


def test_localize_rejects_aware_and_non_datetime():
    with pytest.raises(ValueError, match="naive"):
        CPH.localize(EWSDateTime(2017, 9, 5, tzinfo=UTC))
    with pytest.raises(TypeError):
        CPH.localize(datetime.date(2017, 9, 5))


@pytest.mark.parametrize("tz, wall, is_dst, expected", [
    # Copenhagen, clocks go back 03:00 CEST -> 02:00 CET on 2023-10-29: 02:30 happens twice
    (CPH, (2023, 10, 29, 2, 30), False, "2023-10-29T02:30:00+01:00"),
    (CPH, (2023, 10, 29, 2, 30), True, "2023-10-29T02:30:00+02:00"),
    # Copenhagen, clocks go forward 02:00 CET -> 03:00 CEST on 2023-03-26: 02:30 does not exist
    (CPH, (2023, 3, 26, 2, 30), False, "2023-03-26T03:30:00+02:00"),
    (CPH, (2023, 3, 26, 2, 30), True, "2023-03-26T01:30:00+01:00"),
    # New York, back 02:00 EDT -> 01:00 EST on 2023-11-05; forward 02:00 EST -> 03:00 EDT on 2023-03-12
    (NY, (2023, 11, 5, 1, 30), False, "2023-11-05T01:30:00-05:00"),
    (NY, (2023, 11, 5, 1, 30), True, "2023-11-05T01:30:00-04:00"),
    (NY, (2023, 3, 12, 2, 30), False, "2023-03-12T03:30:00-04:00"),
    (NY, (2023, 3, 12, 2, 30), True, "2023-03-12T01:30:00-05:00"),
    # Just outside the transitions nothing is ambiguous
    (CPH, (2023, 10, 29, 3, 0), True, "2023-10-29T03:00:00+01:00"),
    (NY, (2023, 3, 12, 3, 0), False, "2023-03-12T03:00:00-04:00"),
])
def test_localize_dst_edges(tz, wall, is_dst, expected):
    dt = tz.localize(EWSDateTime(*wall), is_dst=is_dst)
    assert dt.ewsformat() == expected
    assert dt.tzinfo is tz
    # The result is a real wall time: converting via UTC gives it back unchanged
    assert dt.astimezone(UTC).astimezone(tz).ewsformat() == expected


@pytest.mark.parametrize("tz, wall, exc", [
    (CPH, (2023, 10, 29, 2, 30), AmbiguousTimeError),
    (CPH, (2023, 3, 26, 2, 30), NonExistentTimeError),
    (NY, (2023, 11, 5, 1, 30), AmbiguousTimeError),
    (NY, (2023, 3, 12, 2, 0), NonExistentTimeError),
])
def test_localize_is_dst_none_raises(tz, wall, exc):
    with pytest.raises(exc, match=tz.key):
        tz.localize(EWSDateTime(*wall), is_dst=None)
    assert tz.localize(EWSDateTime(2023, 6, 1, 12), is_dst=None).ewsformat()[-6:] in ("+02:00", "-04:00")


def test_normalize_after_arithmetic_across_dst():
    before = CPH.localize(EWSDateTime(2023, 3, 26, 1, 30))
    # Wall-clock arithmetic lands in the gap; normalize gives the real time one hour later in UTC terms
    landed = before + datetime.timedelta(hours=1)
    normal = CPH.normalize(landed)
    assert type(normal) is EWSDateTime
    assert normal.ewsformat() == "2023-03-26T03:30:00+02:00"
    assert CPH.normalize(EWSDateTime(2023, 1, 1, 12, tzinfo=UTC)).ewsformat() == "2023-01-01T13:00:00+01:00"
    with pytest.raises(NaiveDateTimeNotAllowed):
        CPH.normalize(EWSDateTime(2023, 1, 1))


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(2100, 1, 1)),
       st.sampled_from(ZONES), st.booleans())
def test_localize_keeps_existing_wall_times(naive, key, is_dst):
    tz = EWSTimeZone(key)
    dt = tz.localize(naive, is_dst=is_dst)
    assert dt.tzinfo is tz
    round_tripped = tz.fromutc(utc_instant(dt).replace(tzinfo=tz))
    if round_tripped.replace(tzinfo=None, fold=0) == naive:
        # The wall time exists: localize must not move it
        assert dt.replace(tzinfo=None, fold=0) == naive
    else:
        # It was in a gap: localize moved it to a real wall time
        assert dt.replace(tzinfo=None, fold=0) != naive
        assert round_tripped.replace(fold=0) == dt.replace(fold=0)


# --- EWSDateTime -------------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(aware_datetimes)
def test_ewsformat_from_string_round_trip(dt):
    dt = EWSDateTime.from_datetime(dt)
    text = dt.ewsformat()
    assert EWS_DT_RE.match(text), text
    parsed = EWSDateTime.from_string(text)
    assert type(parsed) is EWSDateTime and parsed.tzinfo is UTC
    assert utc_instant(parsed) == utc_instant(dt)
    # A UTC value is written with 'Z', and writing the parsed value again is stable
    assert parsed.ewsformat() == EWSDateTime.from_string(parsed.ewsformat()).ewsformat()
    assert parsed.ewsformat().endswith("Z")


@settings(max_examples=200, deadline=None)
@given(aware_datetimes,
       st.timedeltas(min_value=datetime.timedelta(days=-3000), max_value=datetime.timedelta(days=3000)))
def test_arithmetic_keeps_types(dt, delta):
    dt = EWSDateTime.from_datetime(dt)
    assert type(dt + delta) is EWSDateTime
    assert type(delta + dt) is EWSDateTime
    assert type(dt - delta) is EWSDateTime
    assert type(dt - (dt - delta)) is datetime.timedelta
    assert type(dt.date() + delta) is EWSDate
    assert isinstance((dt + delta).tzinfo, EWSTimeZone)


def test_methods_return_ewsdatetime_and_ewsdate():
    dt = CPH.localize(EWSDateTime(2017, 9, 5, 8, 30))
    assert type(dt.astimezone(UTC)) is EWSDateTime
    assert dt.astimezone(datetime.timezone.utc).tzinfo is UTC  # foreign tzinfo objects are converted
    assert dt.astimezone(zoneinfo.ZoneInfo("America/New_York")).tzinfo == NY
    assert type(dt.replace(hour=9)) is EWSDateTime
    assert dt.replace(tzinfo=datetime.timezone.utc).tzinfo is UTC
    assert type(dt.date()) is EWSDate and dt.date() == EWSDate(2017, 9, 5)
    assert type(EWSDateTime.now()) is EWSDateTime and EWSDateTime.now().tzinfo is None
    assert EWSDateTime.now(CPH).tzinfo is CPH
    assert EWSDateTime.now(datetime.timezone.utc).tzinfo is UTC
    assert EWSDateTime.fromtimestamp(0, datetime.timezone.utc) == EWSDateTime(1970, 1, 1, tzinfo=UTC)
    assert EWSDateTime.fromtimestamp(0, UTC).ewsformat() == "1970-01-01T00:00:00Z"
    combined = EWSDateTime.combine(EWSDate(2017, 9, 5), datetime.time(8, 30), tzinfo=CPH)
    assert type(combined) is EWSDateTime and combined == dt
    assert dt - CPH.localize(EWSDateTime(2017, 9, 5, 7, 30)) == datetime.timedelta(hours=1)
    assert EWSDateTime(2017, 9, 5, tzinfo=zoneinfo.ZoneInfo("Europe/Copenhagen")).tzinfo is CPH


def test_utc_now():
    now = UTC_NOW()
    assert type(now) is EWSDateTime and now.tzinfo is UTC
    assert abs(now - datetime.datetime.now(datetime.timezone.utc)) < datetime.timedelta(seconds=5)


def test_pickle_ewsdatetime():
    dt = CPH.localize(EWSDateTime(2023, 10, 29, 2, 30))
    copy = pickle.loads(pickle.dumps(dt))
    assert type(copy) is EWSDateTime and copy.tzinfo is CPH and copy.fold == dt.fold
    assert copy.ewsformat() == dt.ewsformat()


def test_convert_to_and_from_plain_datetime():
    plain = datetime.datetime(2017, 9, 5, 8, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Copenhagen"))
    dt = EWSDateTime.from_datetime(plain)
    assert type(dt) is EWSDateTime and dt.tzinfo is CPH and dt == plain
    back = dt.to_datetime()
    assert type(back) is datetime.datetime and type(back.tzinfo) is zoneinfo.ZoneInfo and back == plain
    assert EWSDateTime.from_datetime(dt) is dt
    assert EWSDateTime.from_datetime(datetime.datetime(2017, 9, 5)).tzinfo is None
    with pytest.raises(TypeError):
        EWSDateTime.from_datetime(datetime.date(2017, 9, 5))


@pytest.mark.parametrize("text, expected_utc", [
    ("2016-01-01T10:00:00Z", (2016, 1, 1, 10, 0, 0, 0)),
    ("2016-01-01T10:00:00+01:00", (2016, 1, 1, 9, 0, 0, 0)),
    ("2016-01-01T00:30:00+01:00", (2015, 12, 31, 23, 30, 0, 0)),
    ("2016-01-01T10:00:00-05:30", (2016, 1, 1, 15, 30, 0, 0)),
    ("2016-01-01T10:00:00.5Z", (2016, 1, 1, 10, 0, 0, 500000)),
    ("2016-01-01T10:00:00.1234567Z", (2016, 1, 1, 10, 0, 0, 123456)),  # Exchange sends 7 digits
    ("2016-01-01T10:00:00.000Z", (2016, 1, 1, 10, 0, 0, 0)),
    ("2016-01-01T24:00:00Z", (2016, 1, 2, 0, 0, 0, 0)),
])
def test_from_string(text, expected_utc):
    dt = EWSDateTime.from_string(text)
    assert dt == EWSDateTime(*expected_utc, tzinfo=UTC)
    assert dt.tzinfo is UTC


def test_from_string_naive():
    with pytest.raises(NaiveDateTimeNotAllowed, match="tz="):
        EWSDateTime.from_string("2016-01-01T10:00:00")
    dt = EWSDateTime.from_string("2016-07-01T10:00:00", tz=CPH)
    assert dt.tzinfo is CPH and dt.ewsformat() == "2016-07-01T10:00:00+02:00"
    assert EWSDateTime.from_string("2016-07-01T10:00:00", tz=zoneinfo.ZoneInfo("Europe/Copenhagen")).tzinfo is CPH


@pytest.mark.parametrize("bad", [
    "2016-01-01", "2016-01-01 10:00:00Z", "2016-13-01T10:00:00Z", "2016-01-01T10:00Z", "2016-01-01T10:00:00+1:00",
    "2016-01-01T10:00:00+25:00", "2016-01-01T24:30:00Z", "yesterday", "2016-01-01T10:00:00Z\n",
    "２０16-01-01T10:00:00Z",
])
def test_from_string_rejects_garbage(bad):
    with pytest.raises(ValueError):
        EWSDateTime.from_string(bad)


def test_ewsformat():
    assert EWSDateTime(2017, 9, 5, 8, 30, tzinfo=UTC).ewsformat() == "2017-09-05T08:30:00Z"
    assert EWSDateTime(2017, 9, 5, 8, 30, 1, 20, tzinfo=UTC).ewsformat() == "2017-09-05T08:30:01.000020Z"
    assert NY.localize(EWSDateTime(2017, 1, 5, 8, 30)).ewsformat() == "2017-01-05T08:30:00-05:00"
    assert EWSTimeZone("Asia/Kolkata").localize(EWSDateTime(2017, 1, 5)).ewsformat() == "2017-01-05T00:00:00+05:30"
    # London in winter has offset 0 but is not UTC; either form is a valid xs:dateTime for the same instant
    assert EWSTimeZone("Europe/London").localize(EWSDateTime(2017, 1, 5)).ewsformat() == "2017-01-05T00:00:00Z"
    # Local mean time before 1890 has offsets with seconds, which xs:dateTime cannot carry -> written in UTC
    assert CPH.localize(EWSDateTime(1850, 1, 1, 12)).ewsformat() == "1850-01-01T11:09:40Z"
    with pytest.raises(NaiveDateTimeNotAllowed, match="naive") as e:
        EWSDateTime(2017, 9, 5).ewsformat()
    assert e.value.local_dt == datetime.datetime(2017, 9, 5)
    assert isinstance(e.value, ValueError)


# --- EWSDate -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2017-09-05", "2017-09-05Z", "2017-09-05+01:00", "2017-09-05-08:00"])
def test_ewsdate_from_string(text):
    d = EWSDate.from_string(text)
    assert type(d) is EWSDate and d == datetime.date(2017, 9, 5)
    assert d.ewsformat() == "2017-09-05"


@pytest.mark.parametrize("bad", ["2017-9-5", "2017-09-05T00:00:00", "2017-02-30", "", "05/09/2017"])
def test_ewsdate_from_string_rejects(bad):
    with pytest.raises(ValueError):
        EWSDate.from_string(bad)


def test_ewsdate_arithmetic_and_conversion():
    d = EWSDate(2017, 9, 5)
    assert type(d + datetime.timedelta(days=1)) is EWSDate
    assert type(d - datetime.timedelta(days=1)) is EWSDate
    assert d - EWSDate(2017, 9, 1) == datetime.timedelta(days=4)
    assert type(EWSDate.today()) is EWSDate
    assert EWSDate.from_date(datetime.date(2017, 9, 5)) == d and type(EWSDate.from_date(d)) is EWSDate
    assert type(d.to_date()) is datetime.date and d.to_date() == d
    assert EWSDate(5, 1, 2).ewsformat() == "0005-01-02"
    with pytest.raises(TypeError, match="date"):
        EWSDate.from_date(datetime.datetime(2017, 9, 5))
    with pytest.raises(TypeError):
        EWSDate.from_date("2017-09-05")
