"""Meeting messages: requests, responses and cancellations that the server delivers to mailboxes."""
from __future__ import annotations

from ..fields import (
    BooleanField, CharField, ChoiceField, DateTimeField, EWSElementField, EWSElementListField, IntegerField,
    RawXmlField, TimeZoneField,
)
from ..properties import AttendeesField, DeletedOccurrence, ItemId, MailboxField, OccurrenceInfo
from ..properties.mailbox import RESPONSE_TYPE_CHOICES
from ..properties.recurrence import Recurrence
from ..version import EXCHANGE_2007_SP1, EXCHANGE_2010, EXCHANGE_2013, EXCHANGE_2016
from .calendar_item import CALENDAR_ITEM_TYPE_CHOICES, FREE_BUSY_CHOICES
from .kind_methods import MeetingAnswerMethods
from .message import Message

MEETING_REQUEST_TYPE_CHOICES = frozenset((
    "None", "FullUpdate", "InformationalUpdate", "NewMeetingRequest", "Outdated", "SilentUpdate",
    "PrincipalWantsCopy",
))


class MeetingMessage(Message):
    """Base of meeting requests, responses and cancellations (``MeetingMessageType``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/meetingmessage
    """

    ELEMENT_NAME = "MeetingMessage"
    CONTAINER_CLASS = "IPF.Note"

    associated_calendar_item_id = EWSElementField("meeting:AssociatedCalendarItemId", value_cls=ItemId,
                                                  is_read_only=True)
    is_delegated = BooleanField("meeting:IsDelegated", is_read_only=True)
    is_out_of_date = BooleanField("meeting:IsOutOfDate", is_read_only=True)
    has_been_processed = BooleanField("meeting:HasBeenProcessed", is_read_only=True)
    response_type = ChoiceField("meeting:ResponseType", choices=RESPONSE_TYPE_CHOICES, is_read_only=True)
    uid = CharField("calendar:UID", is_read_only=True, supported_from=EXCHANGE_2007_SP1)
    recurrence_id = DateTimeField("calendar:RecurrenceId", is_read_only=True, supported_from=EXCHANGE_2010)
    datetime_stamp = DateTimeField("calendar:DateTimeStamp", is_read_only=True, supported_from=EXCHANGE_2007_SP1)
    is_organizer = BooleanField("calendar:IsOrganizer", is_read_only=True, supported_from=EXCHANGE_2013)


class MeetingRequest(MeetingAnswerMethods, MeetingMessage):
    """An invitation to a meeting, as delivered to an attendee.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/meetingrequest
    """

    ELEMENT_NAME = "MeetingRequest"

    meeting_request_type = ChoiceField("meetingRequest:MeetingRequestType", choices=MEETING_REQUEST_TYPE_CHOICES,
                                       is_read_only=True)
    intended_free_busy_status = ChoiceField("meetingRequest:IntendedFreeBusyStatus", choices=FREE_BUSY_CHOICES,
                                            is_read_only=True)
    start = DateTimeField("calendar:Start", is_read_only=True)
    end = DateTimeField("calendar:End", is_read_only=True)
    original_start = DateTimeField("calendar:OriginalStart", is_read_only=True)
    is_all_day = BooleanField("calendar:IsAllDayEvent", is_read_only=True)
    legacy_free_busy_status = ChoiceField("calendar:LegacyFreeBusyStatus", choices=FREE_BUSY_CHOICES,
                                          is_read_only=True)
    location = CharField("calendar:Location", is_read_only=True)
    when = CharField("calendar:When", is_read_only=True)
    is_meeting = BooleanField("calendar:IsMeeting", is_read_only=True)
    is_cancelled = BooleanField("calendar:IsCancelled", is_read_only=True)
    is_recurring = BooleanField("calendar:IsRecurring", is_read_only=True)
    meeting_request_was_sent = BooleanField("calendar:MeetingRequestWasSent", is_read_only=True)
    type = ChoiceField("calendar:CalendarItemType", choices=CALENDAR_ITEM_TYPE_CHOICES, is_read_only=True)
    my_response_type = ChoiceField("calendar:MyResponseType", choices=RESPONSE_TYPE_CHOICES, is_read_only=True)
    organizer = MailboxField("calendar:Organizer", is_read_only=True)
    required_attendees = AttendeesField("calendar:RequiredAttendees", is_read_only=True)
    optional_attendees = AttendeesField("calendar:OptionalAttendees", is_read_only=True)
    resources = AttendeesField("calendar:Resources", is_read_only=True)
    conflicting_meeting_count = IntegerField("calendar:ConflictingMeetingCount", is_read_only=True)
    adjacent_meeting_count = IntegerField("calendar:AdjacentMeetingCount", is_read_only=True)
    conflicting_meetings = RawXmlField("calendar:ConflictingMeetings")
    adjacent_meetings = RawXmlField("calendar:AdjacentMeetings")
    duration = CharField("calendar:Duration", is_read_only=True)
    timezone = CharField("calendar:TimeZone", is_read_only=True)
    appointment_reply_time = DateTimeField("calendar:AppointmentReplyTime", is_read_only=True)
    appointment_sequence_number = IntegerField("calendar:AppointmentSequenceNumber", is_read_only=True)
    appointment_state = IntegerField("calendar:AppointmentState", is_read_only=True)
    recurrence = EWSElementField("calendar:Recurrence", value_cls=Recurrence, is_read_only=True)
    first_occurrence = EWSElementField("calendar:FirstOccurrence", value_cls=OccurrenceInfo, is_read_only=True)
    last_occurrence = EWSElementField("calendar:LastOccurrence", value_cls=OccurrenceInfo, is_read_only=True)
    modified_occurrences = EWSElementListField("calendar:ModifiedOccurrences", value_cls=OccurrenceInfo,
                                               is_read_only=True)
    deleted_occurrences = EWSElementListField("calendar:DeletedOccurrences", value_cls=DeletedOccurrence,
                                              is_read_only=True)
    meeting_timezone = RawXmlField("calendar:MeetingTimeZone")
    start_timezone = TimeZoneField("calendar:StartTimeZone", is_read_only=True, supported_from=EXCHANGE_2010)
    end_timezone = TimeZoneField("calendar:EndTimeZone", is_read_only=True, supported_from=EXCHANGE_2010)
    conference_type = IntegerField("calendar:ConferenceType", is_read_only=True)
    allow_new_time_proposal = BooleanField("calendar:AllowNewTimeProposal", is_read_only=True)
    is_online_meeting = BooleanField("calendar:IsOnlineMeeting", is_read_only=True)
    meeting_workspace_url = CharField("calendar:MeetingWorkspaceUrl", is_read_only=True)
    net_show_url = CharField("calendar:NetShowUrl", is_read_only=True)
    enhanced_location = RawXmlField("calendar:EnhancedLocation", supported_from=EXCHANGE_2016)
    change_highlights = RawXmlField("meetingRequest:ChangeHighlights", supported_from=EXCHANGE_2013)
    start_wall_clock = DateTimeField("calendar:StartWallClock", is_read_only=True, supported_from=EXCHANGE_2016)
    end_wall_clock = DateTimeField("calendar:EndWallClock", is_read_only=True, supported_from=EXCHANGE_2016)
    start_timezone_id = CharField("calendar:StartTimeZoneId", is_read_only=True, supported_from=EXCHANGE_2016)
    end_timezone_id = CharField("calendar:EndTimeZoneId", is_read_only=True, supported_from=EXCHANGE_2016)
    do_not_forward_meeting = BooleanField("calendar:DoNotForwardMeeting", is_read_only=True,
                                          supported_from=EXCHANGE_2016)


class MeetingResponse(MeetingMessage):
    """An attendee's answer (accept, tentative, decline) to a meeting request, as delivered to the organizer.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/meetingresponse
    """

    ELEMENT_NAME = "MeetingResponse"

    start = DateTimeField("calendar:Start", is_read_only=True)
    end = DateTimeField("calendar:End", is_read_only=True)
    location = CharField("calendar:Location", is_read_only=True)
    recurrence = EWSElementField("calendar:Recurrence", value_cls=Recurrence, is_read_only=True)
    type = CharField("calendar:CalendarItemType", is_read_only=True)
    proposed_start = DateTimeField("meeting:ProposedStart", is_read_only=True, supported_from=EXCHANGE_2013)
    proposed_end = DateTimeField("meeting:ProposedEnd", is_read_only=True, supported_from=EXCHANGE_2013)
    enhanced_location = RawXmlField("calendar:EnhancedLocation", supported_from=EXCHANGE_2016)


class MeetingCancellation(MeetingMessage):
    """A notice that a meeting was cancelled, as delivered to an attendee.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/meetingcancellation
    """

    ELEMENT_NAME = "MeetingCancellation"

    start = DateTimeField("calendar:Start", is_read_only=True)
    end = DateTimeField("calendar:End", is_read_only=True)
    location = CharField("calendar:Location", is_read_only=True)
    recurrence = EWSElementField("calendar:Recurrence", value_cls=Recurrence, is_read_only=True)
    type = CharField("calendar:CalendarItemType", is_read_only=True)
    enhanced_location = RawXmlField("calendar:EnhancedLocation", supported_from=EXCHANGE_2016)
    do_not_forward_meeting = BooleanField("calendar:DoNotForwardMeeting", is_read_only=True,
                                          supported_from=EXCHANGE_2016)


__all__ = ["MeetingMessage", "MeetingRequest", "MeetingResponse", "MeetingCancellation",
           "MEETING_REQUEST_TYPE_CHOICES"]
