"""Scheduling and directory values: free/busy views, suggestions, availability time zones, rooms and mail tips.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseravailability-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getmailtips-operation
"""
from __future__ import annotations

import datetime
from typing import Any, List, Optional

from lxml import etree

from ..elements import EWSElement
from ..fields import (BooleanField, CharField, ChoiceField, DateTimeField, EWSElementField, EWSElementListField,
                      Field, IntegerField)
from ..xml import MNS, TNS
from .mailbox import Mailbox

Element = etree._Element
_T = f"{{{TNS}}}"

DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
BUSY_TYPES = ("Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData")
#: MergedFreeBusy digit -> busy type
MERGED_FREE_BUSY = dict(enumerate(BUSY_TYPES))
FREE_BUSY_VIEWS = ("None", "MergedOnly", "FreeBusy", "FreeBusyMerged", "Detailed", "DetailedMerged")
ATTENDEE_TYPES = ("Organizer", "Required", "Optional", "Room", "Resource")
SUGGESTION_QUALITIES = ("Excellent", "Good", "Fair", "Poor")


# --- the availability service's time zone (t:SerializableTimeZone) ----------------------------------------
class TimeZoneTransition(EWSElement):
    """When a period of a :class:`TimeZone` starts each year: on the ``occurrence``-th (5 = last) ``weekday`` of
    ``iso_month`` at local ``time`` ('02:00:00'); ``bias`` (minutes) is added to the zone's bias in the period.
    ``iso_month`` 0 means the zone has no such transition."""

    ELEMENT_NAME = "StandardTime"
    bias = IntegerField(xml_name="Bias", is_required=True, default=0)
    time = CharField(xml_name="Time", is_required=True, default="00:00:00")
    occurrence = IntegerField(xml_name="DayOrder", is_required=True, default=0)
    iso_month = IntegerField(xml_name="Month", is_required=True, default=0)
    weekday = ChoiceField(xml_name="DayOfWeek", choices=DAY_NAMES, is_required=True, default="Sunday")
    year = CharField(xml_name="Year")

    def _fill_xml(self, elem: Element, version: Any, fields: Any = None) -> None:
        # Every element except Year is required by the schema: write defaults too.
        for f in type(self).FIELDS:
            value = getattr(self, f.name)
            if value is not None:
                f.add_to(elem, value, version)

    def moment(self, year: int) -> datetime.datetime:
        """The naive local date-time of this transition in ``year``."""
        first = datetime.date(year, self.iso_month, 1)
        delta = (DAY_NAMES.index(self.weekday) - first.isoweekday() % 7) % 7
        day = first + datetime.timedelta(days=delta + 7 * (min(self.occurrence, 5) - 1))
        while day.month != self.iso_month:
            day -= datetime.timedelta(days=7)
        h, m, s = (int(float(p)) for p in (self.time.split(":") + ["0", "0"])[:3])
        return datetime.datetime(day.year, day.month, day.day, h, m, s)


class StandardTime(TimeZoneTransition):
    ELEMENT_NAME = "StandardTime"


class DaylightTime(TimeZoneTransition):
    ELEMENT_NAME = "DaylightTime"


class TimeZone(EWSElement):
    """A time zone as the availability service writes it: ``bias`` (minutes added to local time to get UTC)
    and the yearly starts of standard and daylight time.

    ``TimeZone.from_tzinfo(tz, for_year)`` describes any tzinfo; :meth:`utcoffset` reads it back.
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/timezone-availability
    """

    ELEMENT_NAME = "TimeZone"
    bias = IntegerField(xml_name="Bias", is_required=True)
    standard_time = EWSElementField(xml_name="StandardTime", value_cls=StandardTime, is_required=True)
    daylight_time = EWSElementField(xml_name="DaylightTime", value_cls=DaylightTime, is_required=True)

    @classmethod
    def from_tzinfo(cls, tz: datetime.tzinfo, for_year: int) -> "TimeZone":
        """The rules ``tz`` follows in ``for_year`` (found by scanning the year for offset changes)."""
        utc = datetime.timezone.utc
        jan = datetime.datetime(for_year, 1, 15, tzinfo=utc).astimezone(tz)
        jul = datetime.datetime(for_year, 7, 15, tzinfo=utc).astimezone(tz)
        zero = datetime.timedelta(0)
        std_offset = (jan.utcoffset() or zero) - (jan.dst() or zero)
        dst_delta = max(jan.dst() or zero, jul.dst() or zero)
        to_dst = to_std = None
        t = datetime.datetime(for_year, 1, 1, tzinfo=utc)
        end = datetime.datetime(for_year + 1, 1, 1, tzinfo=utc)
        prev = t.astimezone(tz).dst() or zero
        while t < end:  # weekly steps, then bisection to the minute
            nxt = min(t + datetime.timedelta(days=7), end)
            cur = nxt.astimezone(tz).dst() or zero
            if cur != prev:
                lo, hi = t, nxt
                while hi - lo > datetime.timedelta(minutes=1):
                    mid = lo + (hi - lo) / 2
                    lo, hi = (mid, hi) if (mid.astimezone(tz).dst() or zero) == prev else (lo, mid)
                hi = hi.replace(second=0, microsecond=0)
                to_dst, to_std = (hi, to_std) if cur > prev else (to_dst, hi)
                prev = cur
            t = nxt
        bias = -int(std_offset.total_seconds() // 60)
        if to_dst is None or to_std is None:
            return cls(bias=bias, standard_time=StandardTime(), daylight_time=DaylightTime())
        return cls(bias=bias, standard_time=cls._transition(StandardTime, to_std, tz, 0),
                   daylight_time=cls._transition(DaylightTime, to_dst, tz, -int(dst_delta.total_seconds() // 60)))

    @staticmethod
    def _transition(cls: Any, moment: datetime.datetime, tz: datetime.tzinfo, bias: int) -> Any:
        # The wall clock at the change, read in the offset that ends there
        local = (moment - datetime.timedelta(minutes=1)).astimezone(tz) + datetime.timedelta(minutes=1)
        day = local.date()
        occurrence = 5 if (day + datetime.timedelta(days=7)).month != day.month else (day.day - 1) // 7 + 1
        return cls(bias=bias, time=local.strftime("%H:%M:%S"), occurrence=occurrence, iso_month=day.month,
                   weekday=DAY_NAMES[day.isoweekday() % 7])

    @property
    def has_dst(self) -> bool:
        return bool(self.standard_time and self.daylight_time and self.standard_time.iso_month
                    and self.daylight_time.iso_month)

    def utcoffset(self, local: datetime.datetime) -> datetime.timedelta:
        """The UTC offset in effect at the naive local time ``local``."""
        std = self.standard_time.bias if self.standard_time else 0
        if not self.has_dst:
            return -datetime.timedelta(minutes=self.bias + std)
        to_dst, to_std = self.daylight_time.moment(local.year), self.standard_time.moment(local.year)
        in_dst = (to_dst <= local < to_std) if to_dst < to_std else not (to_std <= local < to_dst)
        return -datetime.timedelta(minutes=self.bias + (self.daylight_time.bias if in_dst else std))


# --- free/busy -------------------------------------------------------------------------------------------
class CalendarEventDetails(EWSElement):
    """What a calendar event is, when the mailbox lets the caller see it.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendareventdetails
    """

    ELEMENT_NAME = "CalendarEventDetails"
    id = CharField(xml_name="ID")
    subject = CharField(xml_name="Subject")
    location = CharField(xml_name="Location")
    is_meeting = BooleanField(xml_name="IsMeeting")
    is_recurring = BooleanField(xml_name="IsRecurring")
    is_exception = BooleanField(xml_name="IsException")
    is_reminder_set = BooleanField(xml_name="IsReminderSet")
    is_private = BooleanField(xml_name="IsPrivate")


class CalendarEvent(EWSElement):
    """One busy period of an attendee: ``start``, ``end``, ``busy_type`` and (Detailed views) ``details``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarevent
    """

    ELEMENT_NAME = "CalendarEvent"
    start = DateTimeField(xml_name="StartTime")
    end = DateTimeField(xml_name="EndTime")
    busy_type = ChoiceField(xml_name="BusyType", choices=BUSY_TYPES)
    details = EWSElementField(xml_name="CalendarEventDetails", value_cls=CalendarEventDetails)


class _DaysField(Field):
    """A space-separated list of weekday names in one element (``t:DaysOfWeekType``)."""

    value_cls = str
    is_list = True

    def to_text(self, value: Any) -> str:
        return " ".join(value)

    def from_text(self, text: Optional[str]) -> Any:
        return (text or "").split()


class _MinutesField(Field):
    """Minutes after midnight in XML, a :class:`datetime.time` in Python."""

    value_cls = datetime.time

    def to_text(self, value: Any) -> str:
        return str(value.hour * 60 + value.minute)

    def from_text(self, text: Optional[str]) -> Any:
        if not text:
            return None
        minutes = int(text)
        if minutes >= 1440:
            return datetime.time(23, 59, 59)
        return datetime.time(minutes // 60, minutes % 60)


class WorkingPeriod(EWSElement):
    """Working hours on some weekdays: ``weekdays`` (names) from ``start`` to ``end`` (times of day in the
    attendee's own time zone, :attr:`FreeBusyView.working_hours_timezone`).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/workingperiod
    """

    ELEMENT_NAME = "WorkingPeriod"
    weekdays = _DaysField(xml_name="DayOfWeek")
    start = _MinutesField(xml_name="StartTimeInMinutes")
    end = _MinutesField(xml_name="EndTimeInMinutes")


class FreeBusyView(EWSElement):
    """An attendee's availability: ``view_type`` (what the server agreed to show), ``merged`` (one digit per
    interval: see :attr:`merged_busy_types`), ``calendar_events``, ``working_hours`` and
    ``working_hours_timezone``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/freebusyview
    """

    ELEMENT_NAME = "FreeBusyView"
    NAMESPACE = MNS
    view_type = ChoiceField(xml_name="FreeBusyViewType", choices=FREE_BUSY_VIEWS)
    merged = CharField(xml_name="MergedFreeBusy")
    calendar_events = EWSElementListField(xml_name="CalendarEventArray", value_cls=CalendarEvent)
    working_hours = EWSElementListField(xml_name="WorkingPeriodArray", value_cls=WorkingPeriod)
    working_hours_timezone = EWSElementField(xml_name="TimeZone", value_cls=TimeZone)

    @classmethod
    def from_xml(cls, elem: Element, account: Any = None) -> "FreeBusyView":
        obj = super().from_xml(elem, account)
        wh = elem.find(f"{_T}WorkingHours")
        if wh is not None:  # the working hours and their zone are nested one level deeper
            inner = super().from_xml(wh, account)
            for name in ("working_hours", "working_hours_timezone"):
                value = getattr(inner, name)
                if value is not None:
                    obj.__dict__[name] = value
        return obj

    @property
    def merged_busy_types(self) -> List[str]:
        """:attr:`merged` as busy type names ('Free', 'Tentative', 'Busy', 'OOF', 'WorkingElsewhere', 'NoData')."""
        return [MERGED_FREE_BUSY.get(int(c), "NoData") for c in (self.merged or "") if c.isdigit()]


# --- suggestions -----------------------------------------------------------------------------------------
class IndividualAttendeeConflictData(EWSElement):
    """An attendee's status at a suggested time."""

    ELEMENT_NAME = "IndividualAttendeeConflictData"
    busy_type = ChoiceField(xml_name="BusyType", choices=BUSY_TYPES)


class GroupAttendeeConflictData(EWSElement):
    """A distribution list's members' statuses at a suggested time."""

    ELEMENT_NAME = "GroupAttendeeConflictData"
    number_of_members = IntegerField(xml_name="NumberOfMembers")
    number_of_members_available = IntegerField(xml_name="NumberOfMembersAvailable")
    number_of_members_with_conflict = IntegerField(xml_name="NumberOfMembersWithConflict")
    number_of_members_with_no_data = IntegerField(xml_name="NumberOfMembersWithNoData")


class UnknownAttendeeConflictData(EWSElement):
    """An attendee the server could not find."""

    ELEMENT_NAME = "UnknownAttendeeConflictData"


class TooBigGroupAttendeeConflictData(EWSElement):
    """A distribution list too big to look at."""

    ELEMENT_NAME = "TooBigGroupAttendeeConflictData"


CONFLICT_DATA_CLASSES = (IndividualAttendeeConflictData, GroupAttendeeConflictData, UnknownAttendeeConflictData,
                         TooBigGroupAttendeeConflictData)


class Suggestion(EWSElement):
    """A meeting time: ``meeting_time``, ``is_work_time``, ``quality`` and per attendee (request order) the
    conflict data (``conflicts``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/suggestion
    """

    ELEMENT_NAME = "Suggestion"
    meeting_time = DateTimeField(xml_name="MeetingTime")
    is_work_time = BooleanField(xml_name="IsWorkTime")
    quality = ChoiceField(xml_name="SuggestionQuality", choices=SUGGESTION_QUALITIES)
    conflicts = EWSElementListField(xml_name="AttendeeConflictDataArray", value_cls=CONFLICT_DATA_CLASSES)


class SuggestionDayResult(EWSElement):
    """The suggestions of one day (``date``, midnight in the request's time zone) and its ``day_quality``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/suggestiondayresult
    """

    ELEMENT_NAME = "SuggestionDayResult"
    date = DateTimeField(xml_name="Date")
    day_quality = ChoiceField(xml_name="DayQuality", choices=SUGGESTION_QUALITIES)
    suggestions = EWSElementListField(xml_name="SuggestionArray", value_cls=Suggestion)


# --- rooms and distribution lists ---------------------------------------------------------------------------
class RoomList(Mailbox):
    """A room list (a distribution group of rooms), as GetRoomLists returns it.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/roomlists
    """

    ELEMENT_NAME = "Address"


class Room(Mailbox):
    """A room mailbox, as GetRooms returns it.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/room
    """

    ELEMENT_NAME = "Id"


class DLMailbox(Mailbox):
    """A distribution list to expand: a public one by ``email_address``, a private one (a contacts-folder
    item) by ``item_id``. ``mailbox_type`` is 'PublicDL' or 'PrivateDL'.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/mailbox-expanddl
    """

    ELEMENT_NAME = "Mailbox"


# --- mail tips -------------------------------------------------------------------------------------------
class OutOfOffice(EWSElement):
    """The automatic reply a recipient has on: ``reply_body`` and, when scheduled, ``start`` and ``end``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/outofoffice
    """

    ELEMENT_NAME = "OutOfOffice"
    reply_body = CharField(xml_name="ReplyBody")
    start = DateTimeField(xml_name="StartTime")
    end = DateTimeField(xml_name="EndTime")

    @classmethod
    def from_xml(cls, elem: Element, account: Any = None) -> "OutOfOffice":
        obj = cls.__new__(cls)
        d = obj.__dict__
        body = elem.find(f"{_T}ReplyBody")
        if body is not None:
            d["reply_body"] = body.findtext(f"{_T}Message") or ""
        duration = elem.find(f"{_T}Duration")
        if duration is not None:
            for name, tag in (("start", "StartTime"), ("end", "EndTime")):
                value = cls.FIELDS[name].from_text(duration.findtext(f"{_T}{tag}"), account)
                if value is not None:
                    d[name] = value
        return obj


class MailTips(EWSElement):
    """What Exchange tells a sender about a recipient before sending.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/mailtips
    """

    ELEMENT_NAME = "MailTips"
    recipient_address = EWSElementField(xml_name="RecipientAddress", value_cls=Mailbox)
    pending_mail_tips = CharField(xml_name="PendingMailTips")
    out_of_office = EWSElementField(xml_name="OutOfOffice", value_cls=OutOfOffice)
    mailbox_full = BooleanField(xml_name="MailboxFull")
    custom_mail_tip = CharField(xml_name="CustomMailTip")
    total_member_count = IntegerField(xml_name="TotalMemberCount")
    external_member_count = IntegerField(xml_name="ExternalMemberCount")
    max_message_size = IntegerField(xml_name="MaxMessageSize")
    delivery_restricted = BooleanField(xml_name="DeliveryRestricted")
    is_moderated = BooleanField(xml_name="IsModerated")
    invalid_recipient = BooleanField(xml_name="InvalidRecipient")


__all__ = [
    "TimeZoneTransition", "StandardTime", "DaylightTime", "TimeZone", "CalendarEventDetails", "CalendarEvent",
    "WorkingPeriod", "FreeBusyView", "IndividualAttendeeConflictData", "GroupAttendeeConflictData",
    "UnknownAttendeeConflictData", "TooBigGroupAttendeeConflictData", "Suggestion", "SuggestionDayResult",
    "RoomList", "Room", "DLMailbox", "OutOfOffice", "MailTips", "BUSY_TYPES", "FREE_BUSY_VIEWS", "ATTENDEE_TYPES",
    "SUGGESTION_QUALITIES", "MERGED_FREE_BUSY",
]
