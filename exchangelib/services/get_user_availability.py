"""GetUserAvailability: free/busy information and meeting-time suggestions for a set of attendees.

Times go out as wall-clock times of the request's time zone (a ``t:SerializableTimeZone`` describing the
caller's zone for the year asked about) and come back the same way, as Exchange writes them; they are
read back as aware datetimes in that zone. One FreeBusyResponse per attendee, in request order: the
view or the exception (unknown address, no permission) in its place.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseravailability-operation
"""
from __future__ import annotations

import datetime
from typing import Any, Iterable, List, NamedTuple, Optional, Tuple

from ..errors import TransportError
from ..ewsdatetime import EWSTimeZone
from ..properties.availability import (ATTENDEE_TYPES, FREE_BUSY_VIEWS, SUGGESTION_QUALITIES, FreeBusyView,
                                       SuggestionDayResult, TimeZone)
from ..soap import response_message_error
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService

_M = f"{{{MNS}}}"
_T = f"{{{TNS}}}"


class SuggestionOptions(NamedTuple):
    """What GetUserAvailability's SuggestionsViewOptions asks for."""

    meeting_duration: int = 30
    good_threshold: int = 25
    max_results_per_day: int = 10
    max_non_work_hour_results_per_day: int = 0
    min_quality: str = "Fair"


class _Zone:
    """Stands in for an account when parsing: naive times in the response are wall clock of this zone."""

    def __init__(self, tz: EWSTimeZone):
        self.default_timezone = tz


def _local(dt: datetime.datetime, tz: EWSTimeZone) -> str:
    return dt.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S")


def _window(parent: Element, tag: str, start: datetime.datetime, end: datetime.datetime,
            tz: EWSTimeZone) -> None:
    w = add_child(parent, tag)
    add_child(w, "t:StartTime", text=_local(start, tz))
    add_child(w, "t:EndTime", text=_local(end, tz))


class GetUserAvailability(EWSService):
    SERVICE_NAME = "GetUserAvailabilityRequest"

    def call(self, mailbox_data: Iterable[Tuple[str, str, bool]], start: datetime.datetime, end: datetime.datetime,
             merged_free_busy_interval: Optional[int] = 30, requested_view: Optional[str] = "DetailedMerged",
             suggestions: Optional[SuggestionOptions] = None) -> Tuple[List[Any], Optional[List[SuggestionDayResult]]]:
        """Returns (a FreeBusyView or exception per attendee, the suggestion days or None)."""
        data = list(mailbox_data)
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be time zone aware datetimes")
        if end <= start:
            raise ValueError(f"end ({end}) must be after start ({start})")
        if not data:
            raise ValueError("Give at least one attendee")
        tz = EWSTimeZone.from_timezone(start.tzinfo)
        payload = create_element("m:GetUserAvailabilityRequest")
        payload.append(TimeZone.from_tzinfo(tz, start.astimezone(tz).year).to_xml())
        array = add_child(payload, "m:MailboxDataArray")
        for address, attendee_type, exclude_conflicts in data:
            if attendee_type not in ATTENDEE_TYPES:
                raise ValueError(f"attendee_type must be one of {ATTENDEE_TYPES}, got {attendee_type!r}")
            md = add_child(array, "t:MailboxData")
            email = add_child(md, "t:Email")
            add_child(email, "t:Address", text=address)
            add_child(md, "t:AttendeeType", text=attendee_type)
            add_child(md, "t:ExcludeConflicts", text="true" if exclude_conflicts else "false")
        if requested_view is not None:
            if requested_view not in FREE_BUSY_VIEWS or requested_view == "None":
                raise ValueError(f"requested_view must be one of {FREE_BUSY_VIEWS[1:]}, got {requested_view!r}")
            if not isinstance(merged_free_busy_interval, int) or not 5 <= merged_free_busy_interval <= 1440:
                raise ValueError("merged_free_busy_interval must be an int from 5 to 1440 (minutes)")
            opts = add_child(payload, "t:FreeBusyViewOptions")
            _window(opts, "t:TimeWindow", start, end, tz)
            add_child(opts, "t:MergedFreeBusyIntervalInMinutes", text=str(merged_free_busy_interval))
            add_child(opts, "t:RequestedView", text=requested_view)
        if suggestions is not None:
            if suggestions.min_quality not in SUGGESTION_QUALITIES:
                raise ValueError(f"min_quality must be one of {SUGGESTION_QUALITIES}")
            sv = add_child(payload, "t:SuggestionsViewOptions")
            add_child(sv, "t:GoodThreshold", text=str(suggestions.good_threshold))
            add_child(sv, "t:MaximumResultsByDay", text=str(suggestions.max_results_per_day))
            add_child(sv, "t:MaximumNonWorkHourResultsByDay", text=str(suggestions.max_non_work_hour_results_per_day))
            add_child(sv, "t:MeetingDurationInMinutes", text=str(suggestions.meeting_duration))
            add_child(sv, "t:MinimumSuggestionQuality", text=suggestions.min_quality)
            _window(sv, "t:DetailedSuggestionsWindow", start, end, tz)
        self.check_supported()
        return self.parse_response(self._post(payload), tz, len(data) if requested_view is not None else None,
                                   suggestions is not None)

    def parse_response(self, response: Element, tz: EWSTimeZone, attendees: Optional[int],
                       suggestions: bool) -> Tuple[List[Any], Optional[List[SuggestionDayResult]]]:
        """Read ``m:GetUserAvailabilityResponse``; its naive times are wall clock of ``tz``. ``attendees``: how many
        FreeBusyResponses to expect (None: no free/busy was asked for)."""
        zone = _Zone(tz)
        views: List[Any] = []
        array_el = response.find(f"{_M}FreeBusyResponseArray")
        for fbr in (array_el if array_el is not None else ()):
            msg = fbr.find(f"{_M}ResponseMessage")
            exc = response_message_error(msg, self.SERVICE_NAME) if msg is not None else None
            if exc is not None:
                views.append(exc)
                continue
            view = fbr.find(f"{_M}FreeBusyView")
            views.append(FreeBusyView.from_xml(view, zone) if view is not None else None)
        if attendees is not None and len(views) != attendees:
            raise TransportError(f"{self.SERVICE_NAME}: asked about {attendees} attendees, got {len(views)} answers")
        days: Optional[List[SuggestionDayResult]] = None
        if suggestions:
            sr = response.find(f"{_M}SuggestionsResponse")
            if sr is None:
                raise TransportError(f"{self.SERVICE_NAME}: the response has no SuggestionsResponse")
            msg = sr.find(f"{_M}ResponseMessage")
            exc = response_message_error(msg, self.SERVICE_NAME) if msg is not None else None
            if exc is not None:
                raise exc
            arr = sr.find(f"{_M}SuggestionDayResultArray")
            days = [SuggestionDayResult.from_xml(d, zone) for d in (arr if arr is not None else ())]
        return views, days
