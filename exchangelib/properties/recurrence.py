"""Recurrence of calendar items and tasks: a pattern (how often) and a boundary (how long).

::

    Recurrence(pattern=WeeklyPattern(interval=3, weekdays=[MONDAY, WEDNESDAY]), start=EWSDate(2017, 9, 1), number=7)

Weekdays, months and week numbers are ints (``MONDAY == 1`` ... ``SUNDAY == 7``, ``JANUARY == 1``,
``FIRST == 1`` ... ``LAST == 5``); their English names are accepted too. ``DAY``, ``WEEK_DAY`` and
``WEEKEND_DAY`` are the pseudo-weekdays EWS allows in relative patterns.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurrence-recurrencetype
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from lxml import etree

from ..elements import EWSElement
from ..fields import (APRIL, AUGUST, DAY, DECEMBER, FEBRUARY, FIRST, FOURTH, FRIDAY, JANUARY, JULY, JUNE, LAST,
                      MARCH, MAY, MONDAY, MONTH_NAMES, NOVEMBER, OCTOBER, SATURDAY, SECOND, SEPTEMBER, SUNDAY, THIRD,
                      THURSDAY, TUESDAY, WEDNESDAY, WEEK_DAY, WEEK_NUMBER_NAMES, WEEKDAY_NAMES, WEEKDAYS,
                      WEEKEND_DAY, DateField, ElementChoiceField, Field, IntegerField)

Element = etree._Element


class _NamedIntField(Field):
    """An int stored in XML by name (weekday, month, week number). Accepts the int or the name."""

    value_cls = int
    names: Dict[int, str] = {}

    def __init__(self, field_uri: Optional[str] = None, *, allowed: Optional[Tuple[int, ...]] = None, **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        super().__init__(field_uri, **kwargs)
        self.allowed = allowed if allowed is not None else tuple(self.names)
        self._by_name = {v.lower(): k for k, v in self.names.items()}

    def _clean_one(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            number = self._by_name.get(value.lower())
            if number is None:
                raise ValueError(f"{where} must be one of {[self.names[a] for a in self.allowed]}, got {value!r}")
            value = number
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{where} expects an int or a name, got {type(value).__name__} {value!r}")
        if value not in self.allowed:
            raise ValueError(f"{where} must be one of {list(self.allowed)} "
                             f"({', '.join(self.names[a] for a in self.allowed)}), got {value!r}")
        return value

    def to_text(self, value: Any) -> str:
        return self.names[value]

    def from_text(self, text: Optional[str]) -> Any:
        return self._by_name.get((text or "").strip().lower())

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        return self.from_text(elem.text)


class WeekdayField(_NamedIntField):
    """One day of the week (``DayOfWeekType``); may include DAY, WEEK_DAY, WEEKEND_DAY."""

    names = WEEKDAY_NAMES


class MonthField(_NamedIntField):
    """A month, 1-12 (``MonthNamesType``)."""

    names = MONTH_NAMES


class WeekNumberField(_NamedIntField):
    """Which week of the month: FIRST..FOURTH or LAST (``DayOfWeekIndexType``)."""

    names = WEEK_NUMBER_NAMES


class WeekdaysField(WeekdayField):
    """A list of weekdays, written space-separated (``DaysOfWeekType``)."""

    is_list = True

    def to_text(self, value: Any) -> str:
        return " ".join(self.names[v] for v in value)

    def _fill(self, elem: Element, value: Any, version: Any) -> None:
        elem.text = self.to_text(value)

    def from_text(self, text: Optional[str]) -> Any:
        out = [self._by_name.get(t.lower()) for t in (text or "").split()]
        return [v for v in out if v is not None]

    def _clean(self, value: Any, version: Any, where: str) -> Any:
        value = super()._clean(value, version, where)
        if value is not None:
            if not value:
                raise ValueError(f"{where} needs at least one weekday")
            if len(set(value)) != len(value):
                raise ValueError(f"{where} lists a weekday twice: {value}")
        return value

    def to_constant(self, value: Any, version: Any = None) -> str:
        return self.names[self._clean_one(value, self.label)]


class Pattern(EWSElement):
    """Base class of recurrence patterns."""


class AbsoluteYearlyPattern(Pattern):
    """Every year on a date: ``AbsoluteYearlyPattern(day_of_month=24, month=DECEMBER)``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/absoluteyearlyrecurrence
    """

    ELEMENT_NAME = "AbsoluteYearlyRecurrence"
    day_of_month = IntegerField(xml_name="DayOfMonth", min=1, max=31, is_required=True)
    month = MonthField(xml_name="Month", is_required=True)


class RelativeYearlyPattern(Pattern):
    """Every year on e.g. the last Friday of March: ``RelativeYearlyPattern(weekday=FRIDAY, week_number=LAST,
    month=MARCH)``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/relativeyearlyrecurrence
    """

    ELEMENT_NAME = "RelativeYearlyRecurrence"
    weekday = WeekdayField(xml_name="DaysOfWeek", is_required=True)
    week_number = WeekNumberField(xml_name="DayOfWeekIndex", is_required=True)
    month = MonthField(xml_name="Month", is_required=True)


class AbsoluteMonthlyPattern(Pattern):
    """Every ``interval`` months on a day of the month.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/absolutemonthlyrecurrence
    """

    ELEMENT_NAME = "AbsoluteMonthlyRecurrence"
    interval = IntegerField(xml_name="Interval", min=1, max=99, is_required=True)
    day_of_month = IntegerField(xml_name="DayOfMonth", min=1, max=31, is_required=True)


class RelativeMonthlyPattern(Pattern):
    """Every ``interval`` months on e.g. the second Tuesday.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/relativemonthlyrecurrence
    """

    ELEMENT_NAME = "RelativeMonthlyRecurrence"
    interval = IntegerField(xml_name="Interval", min=1, max=99, is_required=True)
    weekday = WeekdayField(xml_name="DaysOfWeek", is_required=True)
    week_number = WeekNumberField(xml_name="DayOfWeekIndex", is_required=True)


class WeeklyPattern(Pattern):
    """Every ``interval`` weeks on the given weekdays.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/weeklyrecurrence
    """

    ELEMENT_NAME = "WeeklyRecurrence"
    interval = IntegerField(xml_name="Interval", min=1, max=99, is_required=True)
    weekdays = WeekdaysField(xml_name="DaysOfWeek", allowed=WEEKDAYS, is_required=True)
    first_day_of_week = WeekdayField(xml_name="FirstDayOfWeek", allowed=WEEKDAYS)


class DailyPattern(Pattern):
    """Every ``interval`` days.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/dailyrecurrence
    """

    ELEMENT_NAME = "DailyRecurrence"
    interval = IntegerField(xml_name="Interval", min=1, max=999, is_required=True)


class Regeneration(Pattern):
    """Base of task regeneration patterns: the next task is due ``interval`` units after the last is done."""

    interval = IntegerField(xml_name="Interval", min=1, max=999, is_required=True)


class DailyRegeneration(Regeneration):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/dailyregeneration"""

    ELEMENT_NAME = "DailyRegeneration"


class WeeklyRegeneration(Regeneration):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/weeklyregeneration"""

    ELEMENT_NAME = "WeeklyRegeneration"


class MonthlyRegeneration(Regeneration):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/monthlyregeneration"""

    ELEMENT_NAME = "MonthlyRegeneration"


class YearlyRegeneration(Regeneration):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/yearlyregeneration"""

    ELEMENT_NAME = "YearlyRegeneration"


class Boundary(EWSElement):
    """Base class of recurrence ranges; ``start`` is the first date of the series."""

    start = DateField(xml_name="StartDate", is_required=True)


class NoEndPattern(Boundary):
    """A series without end.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/noendrecurrence
    """

    ELEMENT_NAME = "NoEndRecurrence"


class EndDatePattern(Boundary):
    """A series that ends on a date.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/enddaterecurrence
    """

    ELEMENT_NAME = "EndDateRecurrence"
    end = DateField(xml_name="EndDate", is_required=True)

    def clean(self, version: Any = None) -> None:
        super().clean(version)
        if self.end < self.start:
            raise ValueError(f"EndDatePattern.end ({self.end}) must not be before start ({self.start})")


class NumberedPattern(Boundary):
    """A series of ``number`` occurrences.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/numberedrecurrence
    """

    ELEMENT_NAME = "NumberedRecurrence"
    number = IntegerField(xml_name="NumberOfOccurrences", min=1, max=999, is_required=True)


PATTERN_CLASSES = (RelativeYearlyPattern, AbsoluteYearlyPattern, RelativeMonthlyPattern, AbsoluteMonthlyPattern,
                   WeeklyPattern, DailyPattern)
REGENERATION_CLASSES = (DailyRegeneration, WeeklyRegeneration, MonthlyRegeneration, YearlyRegeneration)
BOUNDARY_CLASSES = (NoEndPattern, EndDatePattern, NumberedPattern)


class _RecurrenceBase(EWSElement):
    """Shared constructor of Recurrence and TaskRecurrence."""

    ELEMENT_NAME = "Recurrence"
    PATTERN_CLASSES: Tuple[type, ...] = ()
    boundary: Any  # a field of the subclasses (annotation only, for type checkers)

    def __init__(self, pattern: Any = None, boundary: Any = None, *, start: Any = None, end: Any = None,
                 number: Optional[int] = None):
        if boundary is not None and (start is not None or end is not None or number is not None):
            raise TypeError(f"{type(self).__name__}(): pass either boundary= or start=/end=/number=, not both")
        if boundary is None and start is not None:
            if end is not None and number is not None:
                raise TypeError(f"{type(self).__name__}(): pass end= or number=, not both")
            if number is not None:
                boundary = NumberedPattern(start=start, number=number)
            elif end is not None:
                boundary = EndDatePattern(start=start, end=end)
            else:
                boundary = NoEndPattern(start=start)
        elif boundary is None and (end is not None or number is not None):
            raise TypeError(f"{type(self).__name__}(): end= and number= need start=")
        super().__init__(pattern=pattern, boundary=boundary)

    @property
    def start(self) -> Any:
        return self.boundary.start if self.boundary is not None else None

    @property
    def end(self) -> Any:
        return getattr(self.boundary, "end", None)

    @property
    def number(self) -> Optional[int]:
        return getattr(self.boundary, "number", None)


class Recurrence(_RecurrenceBase):
    """How a calendar item repeats: a pattern and a boundary.

    ``Recurrence(pattern=DailyPattern(interval=1), start=EWSDate(2020, 1, 1), number=5)``; pass ``end=`` for
    a series ending on a date, neither for an endless one, or ``boundary=`` for an explicit range object.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurrence-recurrencetype
    """

    PATTERN_CLASSES = PATTERN_CLASSES

    pattern = ElementChoiceField(value_cls=PATTERN_CLASSES, xml_name="Pattern", is_required=True)
    boundary = ElementChoiceField(value_cls=BOUNDARY_CLASSES, xml_name="Boundary", is_required=True)


class TaskRecurrence(_RecurrenceBase):
    """How a task repeats: like :class:`Recurrence`, plus regeneration patterns (repeat after completion).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurrence-taskrecurrencetype
    """

    PATTERN_CLASSES = PATTERN_CLASSES + REGENERATION_CLASSES

    pattern = ElementChoiceField(value_cls=PATTERN_CLASSES + REGENERATION_CLASSES, xml_name="Pattern",
                                 is_required=True)
    boundary = ElementChoiceField(value_cls=BOUNDARY_CLASSES, xml_name="Boundary", is_required=True)


__all__ = [
    "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY", "DAY", "WEEK_DAY", "WEEKEND_DAY",
    "WEEKDAYS", "WEEKDAY_NAMES", "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST",
    "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER", "MONTH_NAMES", "FIRST", "SECOND", "THIRD", "FOURTH", "LAST",
    "WEEK_NUMBER_NAMES", "Pattern", "AbsoluteYearlyPattern", "RelativeYearlyPattern", "AbsoluteMonthlyPattern",
    "RelativeMonthlyPattern", "WeeklyPattern", "DailyPattern", "Regeneration", "DailyRegeneration",
    "WeeklyRegeneration", "MonthlyRegeneration", "YearlyRegeneration", "Boundary", "NoEndPattern",
    "EndDatePattern", "NumberedPattern", "Recurrence", "TaskRecurrence",
    "PATTERN_CLASSES", "REGENERATION_CLASSES", "BOUNDARY_CLASSES",
]
