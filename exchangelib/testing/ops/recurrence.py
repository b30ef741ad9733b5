"""Recurring calendar items: expansion into occurrences, occurrence ids, exceptions and deletions.

Exchange stores one item for a series, the *recurring master*, and expands its pattern when asked
(CalendarView, OccurrenceItemId, FirstOccurrence ...). This module does the same:

- Occurrences keep the master's wall-clock start time in the master's time zone (``StartTimeZone``,
  else ``MeetingTimeZone``, else UTC), so across a daylight saving change their UTC times shift by
  the change, and they last as long as the master.
- Patterns follow the EWS definitions: Daily every *n* days from the range's StartDate; Weekly on the
  given days of every *n*-th week, weeks starting on FirstDayOfWeek (default Sunday) and counted from
  the week holding StartDate; AbsoluteMonthly on a day of every *n*-th month (the last day of shorter
  months); RelativeMonthly on the first..fourth or last Day/Weekday/WeekendDay/<weekday> of every
  *n*-th month; the Yearly patterns the same once a year in Month. Occurrences before StartDate are
  skipped; NumberedRecurrence counts occurrences (deleted ones included), EndDateRecurrence ends on
  EndDate (inclusive, local date).
- Creating or changing a master moves its Start/End to the first occurrence, as Exchange does.
- An occurrence's ItemId encodes the master and the occurrence's original start. Changing an
  occurrence makes it an *exception*, stored in the master; deleting one records its original start.
  Both are kept inside the stored master element under a private namespace that is never rendered,
  so exporting the master carries them. Changing the master's pattern or times drops them.

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/recurrence-patterns-and-ews
"""
from __future__ import annotations

import calendar
import copy
from datetime import date, datetime, time, timedelta, timezone
from typing import Dict, Iterator, List, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from ...winzone import MS_TO_IANA
from ...xml import TNS
from ..context import RequestContext, ResponseCodeError
from ..store import ItemRecord, Mailbox, decode_occurrence_id, encode_occurrence_id, format_datetime
from .common import item_id_element, local, resolve_item
from .props import get, get_text, parse_datetime, remove_prop, set_prop


T = f"{{{TNS}}}"
#: Namespace of the server's private bookkeeping inside stored masters (never sent to clients).
PRIVATE_NS = "urn:x-exchangelib-local-server:recurrence"
P = f"{{{PRIVATE_NS}}}"

_WEEKDAYS = {"Monday": 0, "Tuesday": 1, "Wednesday": 2, "Thursday": 3, "Friday": 4, "Saturday": 5, "Sunday": 6}
_INDEX = {"First": 0, "Second": 1, "Third": 2, "Fourth": 3, "Last": -1}
_MONTHS = {name: i for i, name in enumerate(calendar.month_name) if name}
_PATTERNS = ("RelativeYearlyRecurrence", "AbsoluteYearlyRecurrence", "RelativeMonthlyRecurrence",
             "AbsoluteMonthlyRecurrence", "WeeklyRecurrence", "DailyRecurrence")
#: Safety net for endless loops over patterns that never match.
_MAX_STEPS = 100_000
#: Properties whose change resets a series' exceptions and deletions.
SERIES_PROPERTIES = frozenset({"Recurrence", "Start", "End", "StartTimeZone", "EndTimeZone", "MeetingTimeZone",
                               "IsAllDayEvent"})


def _invalid(message: str) -> ResponseCodeError:
    return ResponseCodeError("ErrorCalendarInvalidRecurrence", message)


# --- time zones ----------------------------------------------------------------------------------
def zone_of(elem: etree._Element) -> timezone:
    """The time zone a master's wall-clock times are in."""
    names = []
    stz = get(elem, "StartTimeZone")
    if stz is not None:
        names.append(stz.get("Id") or stz.get("Name"))
    mtz = get(elem, "MeetingTimeZone")
    if mtz is not None:
        names.append(mtz.get("TimeZoneName"))
    for name in names:
        if not name:
            continue
        iana = MS_TO_IANA.get(name, name)
        try:
            return ZoneInfo(iana)  # type: ignore[return-value]
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return timezone.utc


def all_day_span(elem: etree._Element, start: datetime, end: datetime) -> Tuple[datetime, datetime]:
    """Exchange's all-day event times: start moves back to midnight and end on to the following midnight
    (at least one day after the start), in the event's time zone; returned in UTC."""
    tz = zone_of(elem)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    first = local_start.date()
    last = local_end.date() if local_end.time() == time(0) else local_end.date() + timedelta(days=1)
    if last <= first:
        last = first + timedelta(days=1)
    return (datetime.combine(first, time(0), tzinfo=tz).astimezone(timezone.utc),
            datetime.combine(last, time(0), tzinfo=tz).astimezone(timezone.utc))


# --- patterns ------------------------------------------------------------------------------------
def _date(text: Optional[str]) -> date:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        raise _invalid(f"{text!r} is not a valid date.") from None


def _int(el: etree._Element, name: str, minimum: int, maximum: int) -> int:
    try:
        v = int(get_text(el, name) or "")
    except ValueError:
        raise _invalid(f"{name} must be a number.") from None
    if not minimum <= v <= maximum:
        raise _invalid(f"{name} must be between {minimum} and {maximum}.")
    return v


def _month_days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _relative_day(year: int, month: int, which: str, index: int) -> Optional[date]:
    """The index-th (0..3, or -1 for last) day of a kind ('Monday'.., 'Day', 'Weekday', 'WeekendDay')."""
    days = [date(year, month, d) for d in range(1, _month_days(year, month) + 1)]
    if which == "Day":
        matching = days
    elif which == "Weekday":
        matching = [d for d in days if d.weekday() < 5]
    elif which == "WeekendDay":
        matching = [d for d in days if d.weekday() >= 5]
    else:
        matching = [d for d in days if d.weekday() == _WEEKDAYS[which]]
    if index == -1:
        return matching[-1]
    return matching[index] if index < len(matching) else None


class Pattern:
    """A parsed Recurrence element: yields the local dates of the series, in order."""

    def __init__(self, recurrence: etree._Element):
        kids = [c for c in recurrence if isinstance(c.tag, str)]
        if len(kids) != 2:
            raise _invalid("A recurrence needs a pattern and a range.")
        self.pattern, self.range = kids
        self.kind = local(self.pattern)
        if self.kind not in _PATTERNS:
            raise _invalid(f"{self.kind} is not a calendar recurrence pattern.")
        self.start = _date(get_text(self.range, "StartDate"))
        range_kind = local(self.range)
        self.end: Optional[date] = None
        self.count: Optional[int] = None
        if range_kind == "EndDateRecurrence":
            self.end = _date(get_text(self.range, "EndDate"))
            if self.end < self.start:
                raise _invalid("The recurrence EndDate is before its StartDate.")
        elif range_kind == "NumberedRecurrence":
            self.count = _int(self.range, "NumberOfOccurrences", 1, 999)
        p = self.pattern
        if self.kind in ("DailyRecurrence", "WeeklyRecurrence", "AbsoluteMonthlyRecurrence",
                         "RelativeMonthlyRecurrence"):
            self.interval = _int(p, "Interval", 1, 999)
        if self.kind == "WeeklyRecurrence":
            names = (get_text(p, "DaysOfWeek") or "").split()
            if not names or any(n not in _WEEKDAYS for n in names):
                raise _invalid("A weekly recurrence needs DaysOfWeek from Monday to Sunday.")
            self.weekdays = {_WEEKDAYS[n] for n in names}
            self.first_day = _WEEKDAYS.get((get_text(p, "FirstDayOfWeek") or "Sunday").strip(), 6)
        if self.kind in ("AbsoluteMonthlyRecurrence", "AbsoluteYearlyRecurrence"):
            self.day_of_month = _int(p, "DayOfMonth", 1, 31)
        if self.kind in ("RelativeMonthlyRecurrence", "RelativeYearlyRecurrence"):
            self.which = (get_text(p, "DaysOfWeek") or "").strip()
            if self.which not in _WEEKDAYS and self.which not in ("Day", "Weekday", "WeekendDay"):
                raise _invalid(f"{self.which!r} is not a day of the week.")
            self.index = _INDEX.get((get_text(p, "DayOfWeekIndex") or "").strip(), 0)
        if self.kind in ("AbsoluteYearlyRecurrence", "RelativeYearlyRecurrence"):
            month = (get_text(p, "Month") or "").strip()
            if month not in _MONTHS:
                raise _invalid(f"{month!r} is not a month.")
            self.month = _MONTHS[month]

    def _candidates(self) -> Iterator[date]:
        """Pattern dates from the start of the range onwards (unbounded)."""
        s = self.start
        kind = self.kind
        if kind == "DailyRecurrence":
            d = s
            while True:
                yield d
                d += timedelta(days=self.interval)
        elif kind == "WeeklyRecurrence":
            week = s - timedelta(days=(s.weekday() - self.first_day) % 7)
            while True:
                for offset in range(7):
                    d = week + timedelta(days=offset)
                    if d >= s and d.weekday() in self.weekdays:
                        yield d
                week += timedelta(days=7 * self.interval)
        elif kind in ("AbsoluteMonthlyRecurrence", "RelativeMonthlyRecurrence"):
            year, month = s.year, s.month
            while year <= 9999:
                found = self._in_month(year, month)
                if found is not None and found >= s:
                    yield found
                month += self.interval
                year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        else:  # yearly
            year = s.year
            while year <= 9999:
                found = self._in_month(year, self.month)
                if found is not None and found >= s:
                    yield found
                year += 1

    def _in_month(self, year: int, month: int) -> Optional[date]:
        if self.kind in ("AbsoluteMonthlyRecurrence", "AbsoluteYearlyRecurrence"):
            return date(year, month, min(self.day_of_month, _month_days(year, month)))
        return _relative_day(year, month, self.which, self.index)

    def dates(self) -> Iterator[Tuple[int, date]]:
        """(1-based instance index, local date) of every instance of the series, deleted ones included."""
        n = 0
        steps = 0
        try:
            for d in self._candidates():
                steps += 1
                if steps > _MAX_STEPS:
                    return
                if self.end is not None and d > self.end:
                    return
                n += 1
                yield n, d
                if self.count is not None and n >= self.count:
                    return
        except (OverflowError, ValueError):  # past year 9999
            return

    @property
    def is_endless(self) -> bool:
        return self.end is None and self.count is None


class Series:
    """A recurring master's pattern with its times: start/end of every instance in UTC."""

    def __init__(self, elem: etree._Element):
        rec_el = get(elem, "Recurrence")
        if rec_el is None:
            raise _invalid("The item is not a recurring master.")
        self.pattern = Pattern(rec_el)
        self.zone = zone_of(elem)
        start = parse_datetime(get_text(elem, "Start") or "")
        end = parse_datetime(get_text(elem, "End") or get_text(elem, "Start") or "")
        self.duration = end - start
        self.time_of_day: time = start.astimezone(self.zone).time()

    def at(self, d: date) -> Tuple[datetime, datetime]:
        """(start, end) in UTC of the instance on local date ``d``."""
        local_start = datetime.combine(d, self.time_of_day).replace(tzinfo=self.zone)
        start = local_start.astimezone(timezone.utc)
        return start, start + self.duration

    def instances(self) -> Iterator[Tuple[int, datetime, datetime]]:
        """(index, original start, original end) in UTC for each instance of the pattern."""
        for index, d in self.pattern.dates():
            start, end = self.at(d)
            yield index, start, end


# --- private bookkeeping in the master -----------------------------------------------------------
def _private(elem: etree._Element, name: str, create: bool = False) -> Optional[etree._Element]:
    el = elem.find(P + name)
    if el is None and create:
        el = etree.SubElement(elem, P + name, nsmap={"x": PRIVATE_NS})
    return el


def exceptions(master: etree._Element) -> Dict[str, etree._Element]:
    """Original start ('...Z') -> stored exception element."""
    holder = _private(master, "Exceptions")
    if holder is None:
        return {}
    return {(get_text(e, "OriginalStart") or ""): e for e in holder}


def deleted_starts(master: etree._Element) -> List[str]:
    holder = _private(master, "Deleted")
    return [d.text or "" for d in holder] if holder is not None else []


def reset(master: etree._Element) -> None:
    """Forget exceptions and deletions (the series itself changed)."""
    for name in ("Exceptions", "Deleted"):
        el = _private(master, name)
        if el is not None:
            master.remove(el)


def strip_private(elem: etree._Element) -> etree._Element:
    for c in list(elem):
        if isinstance(c.tag, str) and c.tag.startswith(P):
            elem.remove(c)
    return elem


# --- normalising a master on create/update -------------------------------------------------------
def normalise_master(elem: etree._Element) -> None:
    """Check a master's recurrence and move its Start/End onto the first instance (as Exchange does)."""
    if get(elem, "Recurrence") is None:
        return
    series = Series(elem)
    first = next(series.instances(), None)
    if first is None:
        raise ResponseCodeError("ErrorRecurrenceHasNoOccurrence", "The recurrence pattern has no occurrences.")
    _index, start, end = first
    set_prop(elem, "Start", format_datetime(start))
    set_prop(elem, "End", format_datetime(end))


def stamp_range_dates(elem: etree._Element, with_offset: bool) -> None:
    """Write a recurrence range's StartDate/EndDate as Exchange sends them: from Exchange 2010 on, an
    xs:date with the series zone's UTC offset on that day ('2016-01-01-08:00', '2016-01-01Z' for offset 0);
    Exchange 2007 sends the bare date."""
    rec = get(elem, "Recurrence")
    if rec is None:
        return
    tz = zone_of(elem)
    for el in rec.iter(T + "StartDate", T + "EndDate"):
        day = _date(el.text)
        if not with_offset:
            el.text = day.isoformat()
            continue
        offset = datetime.combine(day, time(0), tzinfo=tz).utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        el.text = day.isoformat() + ("Z" if minutes == 0 else f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")


# --- occurrence ids ------------------------------------------------------------------------------
# Occurrence ids have Exchange's layout (the master's EwsId with the Recurrence processing instruction and
# the original start): see exchangelib.testing.store.encode_occurrence_id.


# --- occurrences as records ----------------------------------------------------------------------
class OccurrenceRecord:
    """One occurrence (or exception) of a recurring master, shaped like an ItemRecord for the handlers.

    ``elem`` is the rendered occurrence; assigning it (UpdateItem) stores the new version as an
    exception in the master. Its change key is the master's: every change to the series changes both.
    """

    associated = False
    soft_deleted = False
    deleted_from = None

    def __init__(self, master: ItemRecord, index: int, original_start: datetime, elem: etree._Element):
        self.master = master
        self.index = index
        self.original_start = original_start
        self._elem = elem

    # ItemRecord look-alike
    @property
    def elem(self) -> etree._Element:
        return self._elem

    @elem.setter
    def elem(self, new: etree._Element) -> None:
        store_exception(self.master, self.original_start, new)
        shown = occurrence_element(self.master, self.index, self.original_start)
        self._elem = shown if shown is not None else new

    mailbox = property(lambda self: self.master.mailbox)
    folder = property(lambda self: self.master.folder)
    key = property(lambda self: self.master.key)
    seq = property(lambda self: self.master.seq)
    changekey = property(lambda self: self.master.changekey)
    element_kind = "CalendarItem"

    @property
    def id(self) -> str:
        return encode_occurrence_id(self.master.mailbox, self.master.key, self.master.folder.key, self.original_start)

    def touch(self, changed: Tuple[str, ...] = ()) -> None:
        self.master.touch(changed)

    def changed_since(self, changekey: str) -> Optional[frozenset]:
        return self.master.changed_since(changekey)

    def __repr__(self) -> str:
        return f"OccurrenceRecord({self.index}, {format_datetime(self.original_start)}, master={self.master!r})"


def _base_occurrence(master: ItemRecord) -> etree._Element:
    elem = strip_private(copy.deepcopy(master.elem))
    for name in ("Recurrence", "FirstOccurrence", "LastOccurrence", "ModifiedOccurrences", "DeletedOccurrences"):
        remove_prop(elem, name)
    return elem


def occurrence_element(master: ItemRecord, index: int, original_start: datetime) -> Optional[etree._Element]:
    """The element of one instance: the stored exception, or the master shifted to the instance's times.
    None when the instance was deleted."""
    key = format_datetime(original_start)
    if key in deleted_starts(master.elem):
        return None
    exc = exceptions(master.elem).get(key)
    if exc is not None:
        elem = strip_private(copy.deepcopy(exc))
        set_prop(elem, "CalendarItemType", "Exception")
    else:
        series = Series(master.elem)
        elem = _base_occurrence(master)
        set_prop(elem, "Start", key)
        set_prop(elem, "End", format_datetime(original_start + series.duration))
        set_prop(elem, "CalendarItemType", "Occurrence")
    set_prop(elem, "RecurrenceId", key)
    set_prop(elem, "OriginalStart", key)
    set_prop(elem, "IsRecurring", "true")
    return elem


def occurrence_by_index(master: ItemRecord, index: int) -> OccurrenceRecord:
    """Instance ``index`` (1-based) of a master, as OccurrenceItemId names it."""
    if get(master.elem, "Recurrence") is None or local(master.elem) != "CalendarItem":
        raise ResponseCodeError("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                                "The item is not a recurring master.")
    if index < 1:
        raise ResponseCodeError("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                                "The occurrence index is out of the recurrence range.")
    for i, start, _end in Series(master.elem).instances():
        if i == index:
            elem = occurrence_element(master, i, start)
            if elem is None:
                raise ResponseCodeError("ErrorCalendarOccurrenceIsDeletedFromRecurrence",
                                        "The occurrence was deleted from the recurrence.")
            return OccurrenceRecord(master, i, start, elem)
        if i > index:
            break
    raise ResponseCodeError("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                            "The occurrence index is out of the recurrence range.")


def occurrence_by_start(master: ItemRecord, original_start: datetime) -> OccurrenceRecord:
    if get(master.elem, "Recurrence") is not None:
        for i, start, _end in Series(master.elem).instances():
            if start == original_start:
                elem = occurrence_element(master, i, start)
                if elem is None:
                    raise ResponseCodeError("ErrorCalendarOccurrenceIsDeletedFromRecurrence",
                                            "The occurrence was deleted from the recurrence.")
                return OccurrenceRecord(master, i, start, elem)
            if start > original_start:
                break
    raise ResponseCodeError("ErrorItemNotFound", "The specified object was not found in the store.")


def in_calendar_view(item_start: datetime, item_end: datetime, start: datetime, end: datetime) -> bool:
    """Exchange's CalendarView rule: an item ending before StartDate, or starting on or after EndDate,
    is left out; everything else is in (an item ending exactly at StartDate is in).
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarview"""
    return item_end >= start and item_start < end


def occurrences_between(master: ItemRecord, start: datetime, end: datetime) -> List[OccurrenceRecord]:
    """The visible instances (occurrences and exceptions) overlapping [start, end), by their current times."""
    out: List[OccurrenceRecord] = []
    excs = exceptions(master.elem)
    series = Series(master.elem)
    slack = abs(series.duration) + timedelta(days=1)
    visited = set()

    def consider(index: int, o_start: datetime) -> None:
        elem = occurrence_element(master, index, o_start)
        if elem is None:
            return
        s = parse_datetime(get_text(elem, "Start") or "")
        e = parse_datetime(get_text(elem, "End") or "")
        if in_calendar_view(s, e, start, end):
            out.append(OccurrenceRecord(master, index, o_start, elem))

    for index, o_start, _o_end in series.instances():
        if o_start >= end + slack:
            break
        visited.add(format_datetime(o_start))
        if o_start + slack < start and format_datetime(o_start) not in excs:
            continue
        consider(index, o_start)
    # Exceptions moved into the window from a slot beyond it
    for key in excs:
        if key not in visited:
            try:
                occ = occurrence_by_start(master, parse_datetime(key))
            except (ResponseCodeError, ValueError):
                continue
            consider(occ.index, occ.original_start)
    return out


# --- changing the series -------------------------------------------------------------------------
def store_exception(master: ItemRecord, original_start: datetime, elem: etree._Element) -> None:
    """Keep ``elem`` as the exception replacing the instance that started at ``original_start``."""
    key = format_datetime(original_start)
    elem = strip_private(copy.deepcopy(elem))
    for name in ("ItemId", "ParentFolderId", "Recurrence"):
        remove_prop(elem, name)
    set_prop(elem, "OriginalStart", key)
    holder = _private(master.elem, "Exceptions", create=True)
    assert holder is not None
    for old in list(holder):
        if get_text(old, "OriginalStart") == key:
            holder.remove(old)
    holder.append(elem)


def delete_occurrence(occ: OccurrenceRecord) -> None:
    """Remove one instance from its series (DeleteItem on an occurrence or exception)."""
    key = format_datetime(occ.original_start)
    holder = _private(occ.master.elem, "Exceptions")
    if holder is not None:
        for old in list(holder):
            if get_text(old, "OriginalStart") == key:
                holder.remove(old)
    deleted = _private(occ.master.elem, "Deleted", create=True)
    assert deleted is not None
    if key not in deleted_starts(occ.master.elem):
        etree.SubElement(deleted, P + "Start").text = key
    occ.master.touch(("DeletedOccurrences",))


def _occurrence_info(tag: str, occ: OccurrenceRecord) -> etree._Element:
    el = etree.Element(T + tag)
    el.append(item_id_element(occ))  # type: ignore[arg-type]  # an OccurrenceRecord has id and changekey
    for name, value in (("Start", get_text(occ.elem, "Start")), ("End", get_text(occ.elem, "End")),
                        ("OriginalStart", format_datetime(occ.original_start))):
        etree.SubElement(el, T + name).text = value
    return el


def master_summary(master: ItemRecord) -> Dict[str, etree._Element]:
    """FirstOccurrence, LastOccurrence (not for endless series), ModifiedOccurrences and DeletedOccurrences."""
    out: Dict[str, etree._Element] = {}
    try:
        series = Series(master.elem)
    except ResponseCodeError:
        return out
    first = last = None
    for index, start, _end in series.instances():
        elem = occurrence_element(master, index, start)
        if elem is not None:
            occ = OccurrenceRecord(master, index, start, elem)
            first = first or occ
            last = occ
        if series.pattern.is_endless and first is not None:
            break
    if first is not None:
        out["FirstOccurrence"] = _occurrence_info("FirstOccurrence", first)
    if last is not None and not series.pattern.is_endless:
        out["LastOccurrence"] = _occurrence_info("LastOccurrence", last)
    excs = exceptions(master.elem)
    if excs:
        modified = etree.Element(T + "ModifiedOccurrences")
        for key in sorted(excs):
            try:
                occ = occurrence_by_start(master, parse_datetime(key))
            except ResponseCodeError:
                continue
            modified.append(_occurrence_info("Occurrence", occ))
        if len(modified):
            out["ModifiedOccurrences"] = modified
    deleted = deleted_starts(master.elem)
    if deleted:
        dl = etree.Element(T + "DeletedOccurrences")
        for key in sorted(deleted):
            etree.SubElement(etree.SubElement(dl, T + "DeletedOccurrence"), T + "Start").text = key
        out["DeletedOccurrences"] = dl
    return out


# --- resolving ids that may name occurrences -----------------------------------------------------
def resolve_item_or_occurrence(ctx: RequestContext, id_elem: etree._Element, check_changekey: bool = False):
    """Like :func:`~.common.resolve_item`, but also for occurrence ids, OccurrenceItemId (master id and
    instance index) and RecurringMasterItemId (an occurrence's id, answered with its master)."""
    name = local(id_elem)
    if name == "OccurrenceItemId":
        master_el = etree.Element(T + "ItemId", Id=id_elem.get("RecurringMasterId", ""))
        ck = id_elem.get("ChangeKey")
        if ck:
            master_el.set("ChangeKey", ck)
        master = _master_record(ctx, master_el, check_changekey)
        try:
            index = int(id_elem.get("InstanceIndex", ""))
        except ValueError:
            raise ResponseCodeError("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                                    "The occurrence index is not a number.") from None
        return occurrence_by_index(master, index)
    if name == "RecurringMasterItemId":
        occ_id = id_elem.get("OccurrenceId", "")
        occ = decode_occurrence_id(occ_id)
        if occ is None:
            # An id of something that is not an occurrence: Exchange refuses it.
            rec = resolve_item(ctx, etree.Element(T + "ItemId", Id=occ_id))
            raise ResponseCodeError("ErrorCalendarCannotUseIdForRecurringMasterId" if rec is not None else
                                    "ErrorItemNotFound", "The id is not the id of an occurrence.")
        return _master_of(ctx, occ)
    occ = decode_occurrence_id(id_elem.get("Id"))
    if occ is not None:
        master = _master_of(ctx, occ)
        ck = id_elem.get("ChangeKey")
        if check_changekey and ck and ck != master.changekey:
            raise ResponseCodeError("ErrorStaleObject", "The change key does not match the current change key.")
        return occurrence_by_start(master, occ[2])
    return resolve_item(ctx, id_elem, check_changekey=check_changekey)


def _master_record(ctx: RequestContext, id_elem: etree._Element, check_changekey: bool) -> ItemRecord:
    rec = resolve_item(ctx, id_elem, check_changekey=check_changekey)
    if get(rec.elem, "Recurrence") is None or local(rec.elem) != "CalendarItem":
        raise ResponseCodeError("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                                "The item is not a recurring master.")
    return rec


def _master_of(ctx: RequestContext, occ: Tuple[str, bytes, datetime]) -> ItemRecord:
    address, key, _start = occ
    mailbox: Mailbox = ctx.mailbox_for(address)
    rec = ctx.store.find_item(key)
    if rec is None or rec.mailbox is not mailbox or rec.soft_deleted:
        raise ResponseCodeError("ErrorItemNotFound", "The specified object was not found in the store.")
    return rec


__all__ = ["PRIVATE_NS", "OccurrenceRecord", "Series", "Pattern", "normalise_master", "occurrence_by_index",
           "occurrence_by_start", "occurrences_between", "store_exception", "delete_occurrence", "master_summary",
           "resolve_item_or_occurrence", "encode_occurrence_id", "decode_occurrence_id", "reset", "strip_private",
           "SERIES_PROPERTIES", "zone_of"]
