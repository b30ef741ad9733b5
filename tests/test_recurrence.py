"""Recurring calendar items and tasks over HTTP (seed 002, "Recurring calendar items").

Every pattern is expanded by the local server across daylight saving changes and compared with an
expectation computed here independently: a day-by-day walk over the calendar with a predicate per
pattern, then the wall-clock time made into an instant with the standard library's zoneinfo.
"""
from __future__ import annotations

import calendar as cal
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, List, Optional
from zoneinfo import ZoneInfo

import pytest

from exchangelib import CalendarItem, EWSDate, EWSDateTime, EWSTimeZone, Task
from exchangelib.errors import (
    ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange, ErrorCalendarOccurrenceIsDeletedFromRecurrence,
    ErrorRecurrenceHasNoOccurrence,
)
from exchangelib.recurrence import (
    AUGUST, DAY, FEBRUARY, FIRST, FRIDAY, LAST, MARCH, MONDAY, OCTOBER, SECOND, SUNDAY, THURSDAY, TUESDAY,
    WEDNESDAY, WEEK_DAY, WEEKEND_DAY, AbsoluteMonthlyPattern, AbsoluteYearlyPattern, DailyPattern,
    DailyRegeneration, EndDatePattern, NoEndPattern, NumberedPattern, Recurrence, RelativeMonthlyPattern,
    RelativeYearlyPattern, TaskRecurrence, WeeklyPattern,
)

UTC = timezone.utc


@pytest.fixture
def account(exchange):
    return exchange.account("john@example.com")


# --- the independent expectation -----------------------------------------------------------------------
def walk(first: date, matches: Callable[[date], bool], count: Optional[int] = None, until: Optional[date] = None,
         horizon_days: int = 3 * 366) -> List[date]:
    """Every date from ``first`` on where ``matches`` holds, up to ``count`` of them or until ``until``."""
    out = []
    for n in range(horizon_days):
        d = first + timedelta(days=n)
        if until is not None and d > until:
            break
        if matches(d):
            out.append(d)
            if count is not None and len(out) == count:
                break
    return out


def nth_in_month(d: date, weekday_test: Callable[[date], bool]) -> int:
    """1-based rank of ``d`` among the days of its month passing ``weekday_test`` (0 if it doesn't pass)."""
    if not weekday_test(d):
        return 0
    return sum(1 for day in range(1, d.day + 1) if weekday_test(d.replace(day=day)))


def is_last_in_month(d: date, weekday_test: Callable[[date], bool]) -> bool:
    days_in_month = cal.monthrange(d.year, d.month)[1]
    return weekday_test(d) and not any(weekday_test(d.replace(day=day)) for day in range(d.day + 1, days_in_month + 1))


def months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def instants(dates: List[date], wall: time, zone: str) -> List[datetime]:
    tz = ZoneInfo(zone)
    return [datetime.combine(d, wall, tzinfo=tz).astimezone(UTC) for d in dates]


# Each case: (id, pattern, range start, range kwargs, zone, wall-clock time, predicate)
# The spans below cross 29 March and 25 October 2026 (EU) or 8 March and 1 November 2026 (US).
CASES = [
    ("daily-every-3-days", DailyPattern(interval=3), date(2026, 3, 20), dict(number=10), "Europe/Copenhagen",
     time(11, 0), lambda s: lambda d: (d - s).days % 3 == 0),
    ("weekly-tue-thu-every-2-weeks-from-monday", WeeklyPattern(interval=2, weekdays=[TUESDAY, THURSDAY],
                                                                 first_day_of_week=MONDAY),
     date(2026, 3, 12), dict(number=9), "Europe/Copenhagen", time(8, 15),
     lambda s: lambda d: d.weekday() in (1, 3) and ((d - (s - timedelta(days=s.weekday()))).days // 7) % 2 == 0),
    ("weekly-sat-sun-every-2-weeks-from-sunday", WeeklyPattern(interval=2, weekdays=[6, SUNDAY]),
     date(2026, 10, 17), dict(end=date(2026, 12, 31)), "Europe/Copenhagen", time(9, 0),
     lambda s: lambda d: d.weekday() in (5, 6)
     and ((d - (s - timedelta(days=(s.weekday() + 1) % 7))).days // 7) % 2 == 0),
    ("absolute-monthly-31st-every-2-months", AbsoluteMonthlyPattern(interval=2, day_of_month=31),
     date(2026, 1, 10), dict(number=8), "Europe/Copenhagen", time(23, 30),
     lambda s: lambda d: months_between(s, d) % 2 == 0 and d.day == min(31, cal.monthrange(d.year, d.month)[1])),
    ("relative-monthly-last-sunday", RelativeMonthlyPattern(interval=1, weekday=SUNDAY, week_number=LAST),
     date(2026, 1, 1), dict(number=12), "Europe/Copenhagen", time(11, 0),
     lambda s: lambda d: is_last_in_month(d, lambda x: x.weekday() == 6)),
    ("relative-monthly-second-weekday-every-3-months", RelativeMonthlyPattern(interval=3, weekday=WEEK_DAY,
                                                                              week_number=SECOND),
     date(2026, 2, 1), dict(end=date(2027, 6, 30)), "America/New_York", time(7, 45),
     lambda s: lambda d: months_between(s, d) % 3 == 0 and nth_in_month(d, lambda x: x.weekday() < 5) == 2),
    ("relative-monthly-first-weekend-day", RelativeMonthlyPattern(interval=1, weekday=WEEKEND_DAY, week_number=FIRST),
     date(2026, 2, 15), dict(number=11), "America/New_York", time(10, 0),
     lambda s: lambda d: nth_in_month(d, lambda x: x.weekday() >= 5) == 1),
    ("relative-monthly-last-day", RelativeMonthlyPattern(interval=1, weekday=DAY, week_number=LAST),
     date(2026, 2, 1), dict(number=10), "Europe/Copenhagen", time(12, 0),
     lambda s: lambda d: d.day == cal.monthrange(d.year, d.month)[1]),
    ("absolute-yearly-feb-29", AbsoluteYearlyPattern(day_of_month=29, month=FEBRUARY), date(2026, 7, 1),
     dict(number=4), "Europe/Copenhagen", time(10, 0),
     lambda s: lambda d: d.month == 2 and d.day == cal.monthrange(d.year, 2)[1]),
    ("relative-yearly-last-sunday-of-march", RelativeYearlyPattern(weekday=SUNDAY, week_number=LAST, month=MARCH),
     date(2026, 1, 1), dict(number=3), "Europe/Copenhagen", time(11, 0),
     lambda s: lambda d: d.month == 3 and is_last_in_month(d, lambda x: x.weekday() == 6)),
    ("relative-yearly-first-friday-of-october", RelativeYearlyPattern(weekday=FRIDAY, week_number=FIRST,
                                                                      month=OCTOBER),
     date(2026, 1, 1), dict(end=date(2029, 12, 31)), "America/New_York", time(18, 0),
     lambda s: lambda d: d.month == 10 and nth_in_month(d, lambda x: x.weekday() == 4) == 1),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_pattern_expands_like_the_independent_computation(account, case):
    name, pattern, first, rng, zone, wall, predicate = case
    tz = EWSTimeZone.timezone(zone)
    until = rng.get("end")
    expected_dates = walk(first, predicate(first), count=rng.get("number"), until=until, horizon_days=4 * 366)
    assert len(expected_dates) >= 3, "the case itself should produce occurrences"
    expected_starts = instants(expected_dates, wall, zone)
    duration = timedelta(minutes=45)

    # Give the item a start on the range's first day even if the pattern doesn't match it: Exchange
    # moves a new master onto its first occurrence.
    start = tz.localize(EWSDateTime.combine(first, wall))
    item = CalendarItem(account=account, folder=account.calendar, subject=f'pattern {name}', start=start,
                        end=start + duration, recurrence=Recurrence(pattern=pattern, start=EWSDate.from_date(first),
                                                                    **{k: (EWSDate.from_date(v) if k == 'end' else v)
                                                                       for k, v in rng.items()}))
    item.save()
    master = account.calendar.get(subject=f'pattern {name}')
    # Exchange's (documented, odd) IsRecurring table: false on the organizer's own master
    assert master.type == 'RecurringMaster' and master.is_recurring is False
    assert master.start == expected_starts[0]
    assert master.first_occurrence.start == expected_starts[0]
    assert master.last_occurrence.start == expected_starts[-1]
    assert master.last_occurrence.end == expected_starts[-1] + duration

    window_start = datetime.combine(first, time(0), tzinfo=UTC)
    window_end = expected_starts[-1] + timedelta(days=40)
    got = [o for o in account.calendar.view(start=window_start, end=window_end)
           if o.subject == f'pattern {name}']
    assert [o.start for o in got] == expected_starts
    assert all(o.end - o.start == duration for o in got)
    assert all(o.type == 'Occurrence' for o in got)
    # The wall-clock time is the same in the item's zone on both sides of a DST change ...
    assert {o.start.astimezone(tz).time() for o in got} == {wall}
    # ... so the UTC times differ where the zone's offset differs: every case crosses a DST change
    # between the start the item was given and its occurrences, or among the occurrences
    offsets = {o.start.astimezone(tz).utcoffset() for o in got} | {start.utcoffset()}
    assert len(offsets) == 2, f"{name} should straddle a DST change"


def test_seed_example_mondays_and_wednesdays_every_third_week(account):
    tz = EWSTimeZone.timezone('Europe/Copenhagen')
    start = tz.localize(EWSDateTime(2017, 9, 1, 11))
    end = start + timedelta(hours=2)
    item = CalendarItem(
        account=account,
        folder=account.calendar,
        start=start,
        end=end,
        subject='Hello Recurrence',
        recurrence=Recurrence(
            pattern=WeeklyPattern(interval=3, weekdays=[MONDAY, WEDNESDAY]),
            start=start.date(),
            number=7
        ),
    )
    item.save()

    masters = list(account.calendar.filter(start__lt=end + timedelta(weeks=12), end__gt=start,
                                           subject='Hello Recurrence'))
    assert len(masters) == 1
    master = masters[0]
    assert master.recurrence == item.recurrence
    assert master.modified_occurrences is None and master.deleted_occurrences is None

    # Weeks start on Sunday; the week of 1 September has no Monday/Wednesday on or after it, so the
    # series runs every third week from 17 September: 4 three-week periods hold the 7 occurrences.
    days = [(9, 18), (9, 20), (10, 9), (10, 11), (10, 30), (11, 1), (11, 20)]
    expected = [tz.localize(EWSDateTime(2017, m, d, 11)) for m, d in days]
    occurrences = list(account.calendar.view(start=start, end=start + timedelta(days=4 * 3 * 7)))
    assert [o.start for o in occurrences] == expected
    assert [o.subject for o in occurrences] == ['Hello Recurrence'] * 7
    assert master.first_occurrence.start == expected[0] and master.last_occurrence.start == expected[-1]
    assert [o.start.astimezone(tz).hour for o in occurrences] == [11] * 7  # across the 29 October DST change


def test_occurrences_by_index_exceptions_and_deletions(exchange, account):
    tz = EWSTimeZone.timezone('Europe/Copenhagen')
    start = tz.localize(EWSDateTime(2026, 10, 20, 9))
    master = CalendarItem(account=account, folder=account.calendar, subject='daily series', start=start,
                          end=start + timedelta(hours=1),
                          recurrence=Recurrence(pattern=DailyPattern(interval=1), start=start.date(), number=10))
    master.save()
    third = master.occurrence(3)
    assert third.type == 'Occurrence' and third.id != master.id
    assert third.start == tz.localize(EWSDateTime(2026, 10, 22, 9)) and third.original_start == third.start
    assert third.subject == 'daily series'
    assert third.recurring_master().id == master.id

    # Changing an occurrence makes it an exception; the master lists it as modified
    third.subject = 'moved standup'
    third.start = third.start + timedelta(hours=3)
    third.end = third.end + timedelta(hours=3)
    third.save()
    assert third.changekey  # the exception has a current change key
    # Deleting another removes it from the series
    seventh = master.occurrence(7)
    seventh.delete()
    with pytest.raises(ErrorCalendarOccurrenceIsDeletedFromRecurrence):
        master.occurrence(7)
    with pytest.raises(ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange):
        master.occurrence(11)

    master.refresh()
    (modified,) = master.modified_occurrences
    assert modified.start == tz.localize(EWSDateTime(2026, 10, 22, 12))
    assert modified.original_start == tz.localize(EWSDateTime(2026, 10, 22, 9))
    (deleted,) = master.deleted_occurrences
    assert deleted.start == tz.localize(EWSDateTime(2026, 10, 26, 9))  # after the 25 October DST change
    assert master.first_occurrence.start == start
    assert master.last_occurrence.start == tz.localize(EWSDateTime(2026, 10, 29, 9))

    view = list(account.calendar.view(start=start, end=start + timedelta(days=10)))
    mine = [o for o in view if o.subject in ('daily series', 'moved standup')]
    assert len(mine) == 9
    assert {o.recurring_master().id for o in mine} == {master.id}
    assert [(o.subject, o.type) for o in mine if o.type == 'Exception'] == [('moved standup', 'Exception')]
    assert tz.localize(EWSDateTime(2026, 10, 26, 9)) not in [o.start for o in mine]
    fetched = master.occurrence(3)
    assert (fetched.type, fetched.subject) == ('Exception', 'moved standup')

    # Changing the series' pattern starts it afresh: exceptions and deletions are gone
    master.recurrence = Recurrence(pattern=DailyPattern(interval=2), start=start.date(), number=3)
    master.save()
    master.refresh()
    assert master.modified_occurrences is None and master.deleted_occurrences is None
    assert master.last_occurrence.start == tz.localize(EWSDateTime(2026, 10, 24, 9))

    # Deleting the master deletes the series
    master.delete()
    assert not [o for o in account.calendar.view(start=start, end=start + timedelta(days=10))
                if o.subject == 'daily series']


def test_endless_series_and_end_dates(account):
    tz = EWSTimeZone.timezone('America/New_York')
    start = tz.localize(EWSDateTime(2026, 1, 5, 16))
    endless = CalendarItem(account=account, folder=account.calendar, subject='forever', start=start,
                           end=start + timedelta(minutes=30),
                           recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[MONDAY]),
                                                 start=start.date()))
    endless.save()
    assert isinstance(endless.recurrence.boundary, NoEndPattern)
    far = tz.localize(EWSDateTime(2030, 6, 1))
    got = [o.start for o in account.calendar.view(start=far, end=far + timedelta(days=14)) if o.subject == 'forever']
    assert got == [tz.localize(EWSDateTime(2030, 6, 3, 16)), tz.localize(EWSDateTime(2030, 6, 10, 16))]
    fresh = account.calendar.get(subject='forever')
    assert fresh.first_occurrence.start == start and fresh.last_occurrence is None

    # An end date is inclusive, in the item's own calendar
    until = CalendarItem(account=account, folder=account.calendar, subject='until friday', start=start,
                         end=start + timedelta(minutes=30),
                         recurrence=Recurrence(pattern=DailyPattern(interval=1), start=start.date(),
                                               end=EWSDate(2026, 1, 9)))
    until.save()
    fresh = account.calendar.get(subject='until friday')
    assert isinstance(fresh.recurrence.boundary, EndDatePattern)
    assert fresh.last_occurrence.start == tz.localize(EWSDateTime(2026, 1, 9, 16))


def test_a_series_without_occurrences_and_bad_ranges_are_refused(account):
    tz = EWSTimeZone.timezone('Europe/Copenhagen')
    start = tz.localize(EWSDateTime(2026, 5, 5, 10))  # a Tuesday
    with pytest.raises(ValueError, match=r"EndDatePattern.end .* must not be before start"):
        CalendarItem(account=account, folder=account.calendar, subject='x', start=start, end=start,
                     recurrence=Recurrence(pattern=DailyPattern(interval=1), start=start.date(),
                                           end=EWSDate(2026, 5, 1))).save()
    with pytest.raises(ErrorRecurrenceHasNoOccurrence):
        CalendarItem(account=account, folder=account.calendar, subject='never', start=start, end=start,
                     recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[MONDAY]), start=start.date(),
                                           end=EWSDate(2026, 5, 7))).save()
    with pytest.raises(TypeError, match="end= or number=, not both"):
        Recurrence(pattern=DailyPattern(interval=1), start=start.date(), end=start.date(), number=3)
    with pytest.raises(ValueError, match="must be one of"):
        WeeklyPattern(interval=1, weekdays=[DAY])
    with pytest.raises(ValueError, match="needs at least one weekday"):
        WeeklyPattern(interval=1, weekdays=[])
    with pytest.raises(ValueError, match="must be <= 31"):
        AbsoluteMonthlyPattern(interval=1, day_of_month=32)
    single = CalendarItem(account=account, folder=account.calendar, subject='single', start=start, end=start)
    single.save()
    with pytest.raises(ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange):
        single.occurrence(1)
    with pytest.raises(ValueError, match="indexes start at 1"):
        single.occurrence(0)


def test_recurring_tasks(account):
    due = EWSDateTime(2026, 8, 3, 12, tzinfo=EWSTimeZone('UTC'))
    task = Task(account=account, folder=account.tasks, subject='water the plants', due_date=due,
                recurrence=TaskRecurrence(pattern=AbsoluteYearlyPattern(day_of_month=3, month=AUGUST),
                                          start=EWSDate(2026, 8, 3), number=5))
    task.save()
    regen = Task(account=account, folder=account.tasks, subject='after completion',
                 recurrence=TaskRecurrence(pattern=DailyRegeneration(interval=4), start=EWSDate(2026, 8, 3)))
    regen.save()
    by_subject = {t.subject: t for t in account.tasks.all()}
    got = by_subject['water the plants']
    assert got.is_recurring is True
    assert got.recurrence == task.recurrence
    assert isinstance(got.recurrence.boundary, NumberedPattern) and got.recurrence.number == 5
    assert by_subject['after completion'].recurrence.pattern == DailyRegeneration(interval=4)
    plain = Task(account=account, folder=account.tasks, subject='once')
    plain.save()
    assert account.tasks.get(subject='once').is_recurring is False
