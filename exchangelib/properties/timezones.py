"""Server time zone definitions (``t:TimeZoneDefinition``): periods, transition groups and transitions.

``protocol.get_timezones(return_full_timezone_data=True)`` returns these; :meth:`TimeZoneDefinition.posix_rule`
and :meth:`EWSTimeZone.from_server_definition <exchangelib.ewsdatetime.EWSTimeZone.from_server_definition>` turn
one into a working time zone, also for a Windows id the Windows<->IANA table lacks.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/timezonedefinition
"""
from __future__ import annotations

import datetime
import re
from typing import Any, List, Optional, Tuple

from lxml import etree

from ..elements import EWSElement
from ..fields import CharField, DateTimeField, Field, IntegerField
from ..xml import TNS

Element = etree._Element
_T = f"{{{TNS}}}"
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DURATION_RE = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: Optional[str]) -> Optional[datetime.timedelta]:
    """An xs:duration of days/hours/minutes/seconds ('-PT1H', 'P0DT2H0M0.0S') as a timedelta (None if not one)."""
    m = _DURATION_RE.match((text or "").strip())
    if not m:
        return None
    sign, d, h, mi, s = m.groups()
    delta = datetime.timedelta(days=int(d or 0), hours=int(h or 0), minutes=int(mi or 0), seconds=float(s or 0))
    return -delta if sign else delta


class _DurationField(Field):
    value_cls = datetime.timedelta

    def to_text(self, value: Any) -> str:
        minutes = int(value.total_seconds() // 60)
        sign = "-" if minutes < 0 else ""
        h, m = divmod(abs(minutes), 60)
        return f"{sign}PT{h}H{m}M"

    def from_text(self, text: Optional[str]) -> Any:
        return parse_duration(text)


class Period(EWSElement):
    """A period of a zone: ``bias`` (add it to local time to get UTC), ``name`` ('Standard', 'Daylight') and ``id``."""

    ELEMENT_NAME = "Period"
    bias = _DurationField(xml_name="Bias", is_attribute=True)
    name = CharField(xml_name="Name", is_attribute=True)
    id = CharField(xml_name="Id", is_attribute=True)


class Transition(EWSElement):
    """A switch to a period or a group (``to``, ``kind`` 'Period' or 'Group'), right away."""

    ELEMENT_NAME = "Transition"
    to = CharField(xml_name="To")
    kind = CharField(xml_name="Kind", is_attribute=True)

    @classmethod
    def from_xml(cls, elem: Element, account: Any = None) -> "Transition":
        obj = super().from_xml(elem, account)
        to = elem.find(f"{_T}To")
        if to is not None:
            obj.__dict__["kind"] = to.get("Kind")
        return obj


class AbsoluteDateTransition(Transition):
    """A switch at one moment (``date_time``)."""

    ELEMENT_NAME = "AbsoluteDateTransition"
    date_time = DateTimeField(xml_name="DateTime")


class RecurringDayTransition(Transition):
    """A yearly switch on the ``occurrence``-th (-1: last) ``day_of_week`` of ``month`` at local ``time_offset``."""

    ELEMENT_NAME = "RecurringDayTransition"
    time_offset = _DurationField(xml_name="TimeOffset")
    month = IntegerField(xml_name="Month")
    day_of_week = CharField(xml_name="DayOfWeek")
    occurrence = IntegerField(xml_name="Occurrence")


class RecurringDateTransition(Transition):
    """A yearly switch on ``day`` of ``month`` at local ``time_offset``."""

    ELEMENT_NAME = "RecurringDateTransition"
    time_offset = _DurationField(xml_name="TimeOffset")
    month = IntegerField(xml_name="Month")
    day = IntegerField(xml_name="Day")


_TRANSITION_CLASSES = {c.qualified_tag(): c for c in (Transition, AbsoluteDateTransition, RecurringDayTransition,
                                                      RecurringDateTransition)}


def _transitions(elem: Optional[Element]) -> List[Transition]:
    return [_TRANSITION_CLASSES[c.tag].from_xml(c) for c in (elem if elem is not None else ())
            if c.tag in _TRANSITION_CLASSES]


class TransitionsGroup(EWSElement):
    """A named set of transitions (usually a year's two recurring switches)."""

    ELEMENT_NAME = "TransitionsGroup"
    id = CharField(xml_name="Id", is_attribute=True)
    _EXTRA_ATTRS = ("transitions",)
    transitions: List[Transition]


class TimeZoneDefinition(EWSElement):
    """A server's time zone: ``id`` (the Windows id), ``name`` and, with full data, ``periods``,
    ``transitions_groups`` and ``transitions``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/timezonedefinition
    """

    ELEMENT_NAME = "TimeZoneDefinition"
    id = CharField(xml_name="Id", is_attribute=True)
    name = CharField(xml_name="Name", is_attribute=True)
    _EXTRA_ATTRS = ("periods", "transitions_groups", "transitions")

    @classmethod
    def from_xml(cls, elem: Element, account: Any = None) -> "TimeZoneDefinition":
        obj = super().from_xml(elem, account)
        periods = elem.find(f"{_T}Periods")
        obj.periods = [Period.from_xml(p) for p in (periods if periods is not None else ()) if p.tag == f"{_T}Period"]
        groups = []
        groups_el = elem.find(f"{_T}TransitionsGroups")
        for g in (groups_el if groups_el is not None else []):
            group = TransitionsGroup.from_xml(g)
            group.transitions = _transitions(g)
            groups.append(group)
        obj.transitions_groups = groups
        obj.transitions = _transitions(elem.find(f"{_T}Transitions"))
        return obj

    def __init__(self, *args: Any, **kwargs: Any):
        self.periods: List[Period] = kwargs.pop("periods", [])
        self.transitions_groups: List[TransitionsGroup] = kwargs.pop("transitions_groups", [])
        self.transitions: List[Transition] = kwargs.pop("transitions", [])
        super().__init__(*args, **kwargs)

    def current_group(self, now: Optional[datetime.datetime] = None) -> Optional[TransitionsGroup]:
        """The transitions group in effect at ``now`` (default: now): the target of the last transition to a
        group that has started."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        chosen = None
        for t in self.transitions:
            if t.kind != "Group":
                continue
            if isinstance(t, AbsoluteDateTransition) and t.date_time is not None and t.date_time > now:
                continue
            chosen = t.to
        return next((g for g in self.transitions_groups if g.id == chosen), None)

    def posix_rule(self) -> Tuple[str, int, str]:
        """(POSIX TZ rule, standard UTC offset in seconds, standard abbreviation) of the rules in effect now."""
        periods = {p.id: p for p in self.periods}
        group = self.current_group()
        recurring = [t for t in (group.transitions if group else []) if isinstance(t, RecurringDayTransition)]
        if group is None or not periods:
            raise ValueError(f"Time zone definition {self.id!r} has no periods or transitions; ask with "
                             f"return_full_timezone_data=True")
        std_target = next((t.to for t in group.transitions if not isinstance(t, RecurringDayTransition)), None)
        if len(recurring) < 2:
            period = periods.get(std_target) if std_target else next(iter(periods.values()))
            if period is None or period.bias is None:
                raise ValueError(f"Time zone definition {self.id!r} has no usable standard period")
            name = _abbr(-period.bias)
            return f"{name}{_posix_offset(period.bias)}", int(-period.bias.total_seconds()), name.strip("<>")
        biases = {t.to: periods[t.to].bias for t in recurring if t.to in periods}
        if len(biases) < 2:
            raise ValueError(f"Time zone definition {self.id!r} refers to unknown periods")
        # Standard time is the period with the larger bias (the smaller UTC offset)
        std_t, dst_t = sorted(recurring[:2], key=lambda t: biases[t.to], reverse=True)
        std_bias, dst_bias = biases[std_t.to], biases[dst_t.to]
        std_name, dst_name = _abbr(-std_bias), _abbr(-dst_bias)
        rule = (f"{std_name}{_posix_offset(std_bias)}{dst_name}{_posix_offset(dst_bias)},"
                f"{_posix_date(dst_t)},{_posix_date(std_t)}")
        return rule, int(-std_bias.total_seconds()), std_name.strip("<>")


def _abbr(offset: datetime.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return f"<{sign}{h:02d}{m:02d}>"


def _posix_offset(bias: datetime.timedelta) -> str:
    minutes = int(bias.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h}:{m:02d}"


def _posix_date(t: RecurringDayTransition) -> str:
    week = 5 if (t.occurrence or 1) < 0 or (t.occurrence or 1) >= 5 else t.occurrence
    day = _DAYS.index(t.day_of_week) if t.day_of_week in _DAYS else 0
    offset = t.time_offset or datetime.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return f"M{t.month}.{week}.{day}/{minutes // 60}:{minutes % 60:02d}"


__all__ = ["TimeZoneDefinition", "Period", "TransitionsGroup", "Transition", "AbsoluteDateTransition",
           "RecurringDayTransition", "RecurringDateTransition", "parse_duration"]
