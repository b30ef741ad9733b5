"""CalendarItem: an appointment or meeting (``CalendarItemType``)."""
from __future__ import annotations

from typing import Any

from ..ewsdatetime import EWSTimeZone
from ..fields import (
    BooleanField, CharField, ChoiceField, DateTimeField, EWSElementField, EWSElementListField, IntegerField,
    RawXmlField, TimeZoneField,
)
from ..properties import AttendeesField, DeletedOccurrence, MailboxField, OccurrenceInfo
from ..properties.mailbox import RESPONSE_TYPE_CHOICES
from ..properties.recurrence import Recurrence
from ..version import EXCHANGE_2007_SP1, EXCHANGE_2010, EXCHANGE_2013, EXCHANGE_2016
from .base import Item, VersionLike
from .kind_methods import CalendarItemMethods
from .occurrence_methods import OccurrenceMethods

FREE_BUSY_CHOICES = frozenset(("Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData"))
CALENDAR_ITEM_TYPE_CHOICES = frozenset(("Single", "Occurrence", "Exception", "RecurringMaster"))
CONFERENCE_TYPES = (0, 1, 2)  # NetMeeting, NetShow, Chat


class CalendarItem(CalendarItemMethods, OccurrenceMethods, Item):
    """An appointment or meeting in a calendar.

    ``CalendarItem(start=tz.localize(EWSDateTime(2016, 3, 20, 8, 30)), end=..., subject='Lunch')``.
    ``start``/``end`` must be time zone aware; when you save, their time zone is sent as
    ``start_timezone``/``end_timezone`` unless you set those yourself.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendaritem
    """

    ELEMENT_NAME = "CalendarItem"
    CONTAINER_CLASS = "IPF.Appointment"
    REPR_FIELDS = ("_id", "subject", "start", "end", "location")

    uid = CharField("calendar:UID", is_read_only_after_send=True, supported_from=EXCHANGE_2007_SP1)
    recurrence_id = DateTimeField("calendar:RecurrenceId", is_read_only=True, supported_from=EXCHANGE_2010)
    datetime_stamp = DateTimeField("calendar:DateTimeStamp", is_read_only=True, supported_from=EXCHANGE_2007_SP1)
    start = DateTimeField("calendar:Start")
    end = DateTimeField("calendar:End")
    original_start = DateTimeField("calendar:OriginalStart", is_read_only=True)
    is_all_day = BooleanField("calendar:IsAllDayEvent")
    legacy_free_busy_status = ChoiceField("calendar:LegacyFreeBusyStatus", choices=FREE_BUSY_CHOICES)
    location = CharField("calendar:Location", max_length=255)
    when = CharField("calendar:When")
    is_meeting = BooleanField("calendar:IsMeeting", is_read_only=True)
    is_cancelled = BooleanField("calendar:IsCancelled", is_read_only=True)
    is_recurring = BooleanField("calendar:IsRecurring", is_read_only=True)
    meeting_request_was_sent = BooleanField("calendar:MeetingRequestWasSent", is_read_only=True)
    is_response_requested = BooleanField("calendar:IsResponseRequested")
    type = ChoiceField("calendar:CalendarItemType", choices=CALENDAR_ITEM_TYPE_CHOICES, is_read_only=True)
    my_response_type = ChoiceField("calendar:MyResponseType", choices=RESPONSE_TYPE_CHOICES, is_read_only=True)
    organizer = MailboxField("calendar:Organizer", is_read_only=True)
    required_attendees = AttendeesField("calendar:RequiredAttendees")
    optional_attendees = AttendeesField("calendar:OptionalAttendees")
    resources = AttendeesField("calendar:Resources")
    inbox_reminders = RawXmlField("calendar:InboxReminders", supported_from=EXCHANGE_2013)
    conflicting_meeting_count = IntegerField("calendar:ConflictingMeetingCount", is_read_only=True)
    adjacent_meeting_count = IntegerField("calendar:AdjacentMeetingCount", is_read_only=True)
    conflicting_meetings = RawXmlField("calendar:ConflictingMeetings")
    adjacent_meetings = RawXmlField("calendar:AdjacentMeetings")
    duration = CharField("calendar:Duration", is_read_only=True)
    timezone = CharField("calendar:TimeZone", is_read_only=True)
    appointment_reply_time = DateTimeField("calendar:AppointmentReplyTime", is_read_only=True)
    appointment_sequence_number = IntegerField("calendar:AppointmentSequenceNumber", is_read_only=True)
    appointment_state = IntegerField("calendar:AppointmentState", is_read_only=True)
    recurrence = EWSElementField("calendar:Recurrence", value_cls=Recurrence)
    first_occurrence = EWSElementField("calendar:FirstOccurrence", value_cls=OccurrenceInfo, is_read_only=True)
    last_occurrence = EWSElementField("calendar:LastOccurrence", value_cls=OccurrenceInfo, is_read_only=True)
    modified_occurrences = EWSElementListField("calendar:ModifiedOccurrences", value_cls=OccurrenceInfo,
                                               is_read_only=True)
    deleted_occurrences = EWSElementListField("calendar:DeletedOccurrences", value_cls=DeletedOccurrence,
                                              is_read_only=True)
    meeting_timezone = RawXmlField("calendar:MeetingTimeZone")
    start_timezone = TimeZoneField("calendar:StartTimeZone", supported_from=EXCHANGE_2010)
    end_timezone = TimeZoneField("calendar:EndTimeZone", supported_from=EXCHANGE_2010)
    conference_type = IntegerField("calendar:ConferenceType", min=0, max=2)
    allow_new_time_proposal = BooleanField("calendar:AllowNewTimeProposal")
    is_online_meeting = BooleanField("calendar:IsOnlineMeeting")
    meeting_workspace_url = CharField("calendar:MeetingWorkspaceUrl")
    net_show_url = CharField("calendar:NetShowUrl")
    enhanced_location = RawXmlField("calendar:EnhancedLocation", supported_from=EXCHANGE_2016)
    start_wall_clock = DateTimeField("calendar:StartWallClock", is_read_only=True, supported_from=EXCHANGE_2016)
    end_wall_clock = DateTimeField("calendar:EndWallClock", is_read_only=True, supported_from=EXCHANGE_2016)
    start_timezone_id = CharField("calendar:StartTimeZoneId", is_read_only=True, supported_from=EXCHANGE_2016)
    end_timezone_id = CharField("calendar:EndTimeZoneId", is_read_only=True, supported_from=EXCHANGE_2016)
    intended_free_busy_status = ChoiceField(xml_name="IntendedFreeBusyStatus", choices=FREE_BUSY_CHOICES,
                                            is_read_only=True, is_searchable=False, supported_from=EXCHANGE_2013)
    join_online_meeting_url = CharField("calendar:JoinOnlineMeetingUrl", is_read_only=True,
                                        supported_from=EXCHANGE_2013)
    online_meeting_settings = RawXmlField("calendar:OnlineMeetingSettings", supported_from=EXCHANGE_2013)
    is_organizer = BooleanField("calendar:IsOrganizer", is_read_only=True, supported_from=EXCHANGE_2013)
    calendar_activity_data = RawXmlField("calendar:CalendarActivityData", supported_from=EXCHANGE_2016)
    do_not_forward_meeting = BooleanField("calendar:DoNotForwardMeeting", supported_from=EXCHANGE_2016)

    def clean(self, version: VersionLike = None) -> None:
        super().clean(version)
        start, end = self.start, self.end
        if start is not None and end is not None and end < start:
            raise ValueError(f"CalendarItem.end ({end}) must not be before start ({start})")
        # Tell the server which zone the meeting is in (it matters for recurrences and for how
        # clients show the item), unless the caller chose one.
        for dt, tz_field in ((start, "start_timezone"), (end, "end_timezone")):
            if dt is None or self.__dict__.get(tz_field) is not None:
                continue
            if not type(self).FIELDS[tz_field].is_supported(version):
                continue
            tz = dt.tzinfo
            if isinstance(tz, EWSTimeZone) and _has_ms_id(tz):
                self.__dict__[tz_field] = tz


def _has_ms_id(tz: Any) -> bool:
    try:
        return bool(tz.ms_id)
    except (ValueError, KeyError, AttributeError):
        return False


__all__ = ["CalendarItem", "FREE_BUSY_CHOICES", "CALENDAR_ITEM_TYPE_CHOICES"]
