"""The availability service's time zones: ``t:SerializableTimeZone`` (a bias and two yearly transitions).

GetUserAvailability names its time zone the Windows-registry way: ``Bias`` (minutes to add to local
time to get UTC), ``StandardTime`` and ``DaylightTime`` each with their own extra Bias and the
yearly moment the period starts (``Time`` of local wall clock, on the ``DayOrder``-th (5 = last)
``DayOfWeek`` of ``Month``; Month 0 means the zone has no daylight saving time).
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/timezone-availability

The server reads the request's zone with :class:`LegacyZone` and describes a mailbox's zone (an
IANA or Windows id) with :func:`zone_element`, from the IANA rules of the year asked about.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from ...winzone import MS_TO_IANA
from ...xml import TNS
from ..context import ResponseCodeError

T = f"{{{TNS}}}"
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DT_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _nth_weekday(year: int, month: int, weekday_sun0: int, order: int) -> date:
    """The ``order``-th (1..4, 5 = last) weekday (0 = Sunday) of a month."""
    first = date(year, month, 1)
    delta = (weekday_sun0 - (first.isoweekday() % 7)) % 7
    day = first + timedelta(days=delta + 7 * (min(order, 5) - 1))
    while day.month != month:
        day -= timedelta(days=7)
    return day


class _Rule:
    def __init__(self, elem: Optional[etree._Element]):
        def num(name: str) -> int:
            text = (elem.findtext(T + name) or "0").strip() if elem is not None else "0"
            try:
                return int(text)
            except ValueError:
                raise ResponseCodeError("ErrorInvalidRequest", f"TimeZone {name} is not a number: {text!r}") \
                    from None

        self.bias = num("Bias")
        self.month = num("Month")
        self.order = num("DayOrder")
        day = (elem.findtext(T + "DayOfWeek") or "Sunday").strip() if elem is not None else "Sunday"
        self.weekday = DAY_NAMES.index(day) if day in DAY_NAMES else 0
        time_text = (elem.findtext(T + "Time") or "00:00:00").strip() if elem is not None else "00:00:00"
        parts = (time_text.split(":") + ["0", "0"])[:3]
        try:
            self.time = timedelta(hours=int(parts[0]), minutes=int(parts[1]), seconds=int(float(parts[2])))
        except ValueError:
            raise ResponseCodeError("ErrorInvalidRequest", f"TimeZone Time is not hh:mm:ss: {time_text!r}") from None

    def local_moment(self, year: int) -> datetime:
        return datetime.combine(_nth_weekday(year, self.month, self.weekday, self.order), datetime.min.time()) \
            + self.time


class LegacyZone:
    """A ``t:SerializableTimeZone``: converts between UTC and the zone's local wall clock."""

    def __init__(self, elem: Optional[etree._Element]):
        self.bias = 0
        if elem is not None:
            try:
                self.bias = int((elem.findtext(T + "Bias") or "0").strip())
            except ValueError:
                raise ResponseCodeError("ErrorInvalidRequest", "TimeZone Bias is not a number") from None
        self.standard = _Rule(elem.find(T + "StandardTime") if elem is not None else None)
        self.daylight = _Rule(elem.find(T + "DaylightTime") if elem is not None else None)
        self.has_dst = bool(self.standard.month and self.daylight.month)

    def _offset_for_local(self, local: datetime) -> timedelta:
        """UTC offset in effect at a local wall-clock time (the standard offset in the skipped hour)."""
        if not self.has_dst:
            return -timedelta(minutes=self.bias + self.standard.bias)
        to_dst = self.daylight.local_moment(local.year)
        to_std = self.standard.local_moment(local.year)
        if to_dst < to_std:
            in_dst = to_dst <= local < to_std
        else:  # southern hemisphere: daylight time spans the new year
            in_dst = not (to_std <= local < to_dst)
        return -timedelta(minutes=self.bias + (self.daylight.bias if in_dst else self.standard.bias))

    def to_utc(self, local: datetime) -> datetime:
        return (local - self._offset_for_local(local)).replace(tzinfo=timezone.utc)

    def to_local(self, utc: datetime) -> datetime:
        naive = utc.astimezone(timezone.utc).replace(tzinfo=None)
        std = -timedelta(minutes=self.bias + self.standard.bias)
        guess = naive + std
        offset = self._offset_for_local(guess)
        if offset != std:
            candidate = naive + offset
            if self._offset_for_local(candidate) == offset:
                return candidate
        return guess


def parse_request_datetime(text: Optional[str], zone: LegacyZone) -> datetime:
    """An xs:dateTime of the request: with an offset it is an instant; without one, local time in ``zone``."""
    m = _DT_RE.match((text or "").strip())
    if not m:
        raise ResponseCodeError("ErrorInvalidRequest", f"{text!r} is not an xs:dateTime")
    y, mo, d, h, mi, s, _frac, tz = m.groups()
    dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s))
    if tz is None:
        return zone.to_utc(dt)
    if tz == "Z":
        return dt.replace(tzinfo=timezone.utc)
    sign = 1 if tz[0] == "+" else -1
    return (dt - sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))).replace(tzinfo=timezone.utc)


def local_text(utc: datetime, zone: LegacyZone) -> str:
    """How Exchange writes times in availability responses: the zone's wall clock, without an offset."""
    return zone.to_local(utc).strftime("%Y-%m-%dT%H:%M:%S")


def zoneinfo_for(name: str) -> ZoneInfo:
    """A ZoneInfo for an IANA name or a Windows id (UTC when neither is known)."""
    for candidate in (name, MS_TO_IANA.get(name, "")):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def _transitions(tz: ZoneInfo, year: int) -> Tuple[Optional[datetime], Optional[datetime]]:
    """(start of daylight time, start of standard time) in ``year``, as UTC instants (None: no DST)."""
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    to_dst = to_std = None
    prev = start.astimezone(tz).dst() or timedelta(0)
    t = start
    while t.year == year:
        nxt = min(t + timedelta(days=7), datetime(year + 1, 1, 1, tzinfo=timezone.utc))
        cur = nxt.astimezone(tz).dst() or timedelta(0)
        if cur != prev:
            lo, hi = t, nxt
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if (mid.astimezone(tz).dst() or timedelta(0)) == prev:
                    lo = mid
                else:
                    hi = mid
            hi = hi.replace(second=0, microsecond=0)
            if cur > prev:
                to_dst = hi
            else:
                to_std = hi
            prev = cur
        t = nxt
    return to_dst, to_std


def _rule_element(tag: str, tz: ZoneInfo, moment: Optional[datetime], bias: int) -> etree._Element:
    el = etree.Element(T + tag)
    etree.SubElement(el, T + "Bias").text = str(bias)
    if moment is None:
        etree.SubElement(el, T + "Time").text = "00:00:00"
        etree.SubElement(el, T + "DayOrder").text = "0"
        etree.SubElement(el, T + "Month").text = "0"
        etree.SubElement(el, T + "DayOfWeek").text = "Sunday"
        return el
    # Wall clock just before the change, i.e. in the offset being left
    before = (moment - timedelta(minutes=1)).astimezone(tz) + timedelta(minutes=1)
    day = before.date()
    order = (day.day - 1) // 7 + 1
    if (day + timedelta(days=7)).month != day.month:
        order = 5
    etree.SubElement(el, T + "Time").text = before.strftime("%H:%M:%S")
    etree.SubElement(el, T + "DayOrder").text = str(order)
    etree.SubElement(el, T + "Month").text = str(day.month)
    etree.SubElement(el, T + "DayOfWeek").text = DAY_NAMES[day.isoweekday() % 7]
    return el


def zone_element(name: str, year: int, tag: str = "TimeZone") -> etree._Element:
    """A ``t:SerializableTimeZone`` element describing ``name`` (IANA or Windows id) in ``year``."""
    tz = zoneinfo_for(name)
    to_dst, to_std = _transitions(tz, year)
    jan = datetime(year, 1, 15, tzinfo=timezone.utc).astimezone(tz)
    jul = datetime(year, 7, 15, tzinfo=timezone.utc).astimezone(tz)
    std_offset = (jan.utcoffset() or timedelta(0)) - (jan.dst() or timedelta(0))
    dst_delta = max(jan.dst() or timedelta(0), jul.dst() or timedelta(0))
    el = etree.Element(T + tag)
    etree.SubElement(el, T + "Bias").text = str(int(-std_offset.total_seconds() // 60))
    if to_dst is None or to_std is None:
        el.append(_rule_element("StandardTime", tz, None, 0))
        el.append(_rule_element("DaylightTime", tz, None, 0))
    else:
        el.append(_rule_element("StandardTime", tz, to_std, 0))
        el.append(_rule_element("DaylightTime", tz, to_dst, int(-dst_delta.total_seconds() // 60)))
    return el
