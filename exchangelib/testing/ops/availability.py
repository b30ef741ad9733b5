"""GetUserAvailability: free/busy views and meeting-time suggestions, computed from the attendees' calendars.

Free/busy (``FreeBusyViewOptions``), per attendee and in request order:

- Calendar items (recurring series expanded, cancelled and Free ones left out) overlapping the time
  window make the attendee's events, with their ``LegacyFreeBusyStatus`` as busy type.
- The view returned is the one asked for, lowered to what the caller may see: the mailbox owner and
  users with delegate access see everything; others see what the mailbox's settings grant them
  (:class:`~exchangelib.testing.directory.MailboxSettings`): 'FreeBusyTimeOnly' (Exchange's default)
  turns Detailed into FreeBusy and DetailedMerged into FreeBusyMerged; 'None' answers
  ErrorNoFreeBusyAccess. Private items never show their details.
- The merged string has one digit per ``MergedFreeBusyIntervalInMinutes`` slot of the window:
  0 free, 1 tentative, 2 busy, 3 OOF, 4 working elsewhere, the strongest status in the slot winning
  (OOF > Busy > Tentative > WorkingElsewhere > Free).
- Times in the response are wall-clock times of the request's time zone without an offset, and the
  working hours come with the mailbox's own time zone, as Exchange writes them.
- An unknown address answers ErrorMailRecipientNotFound in its place; the others are unaffected.
- A distribution list (members expanded through nested lists, up to 100) answers a MergedOnly view:
  the merged free/busy of its members (the local server's choice; members outside the server have no
  data). Bigger lists answer ErrorFreeBusyDLLimitReached.

Suggestions (``SuggestionsViewOptions``): for each day of the DetailedSuggestionsWindow (days of the
request's time zone), every half hour at which a meeting of MeetingDurationInMinutes fits in the day
is rated by the share of attendees free for the whole meeting: Excellent (everyone), Good (at least
50 + GoodThreshold %), Fair (at least 50 %), Poor (less). Times outside the working hours of any
attendee are non-work times. A time where an attendee with ExcludeConflicts is busy is dropped. Each
member of a distribution list counts as one attendee, and the list's conflict data is a
GroupAttendeeConflictData (TooBigGroupAttendeeConflictData beyond 100 members).
Per day the best ones are kept (best quality first, then earliest): at most MaximumResultsByDay
work-time and MaximumNonWorkHourResultsByDay non-work-time suggestions of at least
MinimumSuggestionQuality; they are returned in time order. The day's quality is its best suggestion's.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseravailability-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/suggestionquality
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, List, Optional, Tuple

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext, ResponseCodeError
from ..directory import Directory, directory_of
from ..store import Mailbox
from .common import RESPONSE_NSMAP, child, handler
from .directory import flatten
from .find import calendar_instances
from .legacy_tz import DAY_NAMES, LegacyZone, local_text, parse_request_datetime, zone_element, zoneinfo_for
from .props import get_text, parse_datetime

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"

BUSY_DIGITS = {"Free": "0", "Tentative": "1", "Busy": "2", "OOF": "3", "WorkingElsewhere": "4", "NoData": "5"}
_STRENGTH = {"Free": 0, "WorkingElsewhere": 1, "Tentative": 2, "Busy": 3, "OOF": 4}
VIEWS = ("None", "MergedOnly", "FreeBusy", "FreeBusyMerged", "Detailed", "DetailedMerged")
_WITHOUT_DETAILS = {"Detailed": "FreeBusy", "DetailedMerged": "FreeBusyMerged"}
QUALITIES = ("Excellent", "Good", "Fair", "Poor")
#: Longest time window Exchange 2010 and later answer for (days)
MAX_WINDOW_DAYS = 62
MAX_MAILBOXES = 100
#: Largest distribution list expanded for availability (bigger ones are "too big")
MAX_GROUP_MEMBERS = 100


@dataclass
class _Event:
    start: datetime
    end: datetime
    busy: str
    elem: etree._Element
    recurring: bool
    exception: bool


def _events(mb: Mailbox, start: datetime, end: datetime) -> List[_Event]:
    calendar = mb.folder("calendar")
    if calendar is None:
        return []
    out: List[_Event] = []
    for folder in [calendar] + list(calendar.walk()):
        for rec in folder.items():
            if rec.element_kind != "CalendarItem":
                continue
            for inst in calendar_instances(rec, start, end):
                elem = inst.elem
                if get_text(elem, "IsCancelled") == "true":
                    continue
                busy = get_text(elem, "LegacyFreeBusyStatus") or "Busy"
                if busy in ("Free", "NoData"):
                    continue
                s = parse_datetime(get_text(elem, "Start") or "")
                e = parse_datetime(get_text(elem, "End") or "")
                kind = get_text(elem, "CalendarItemType") or "Single"
                out.append(_Event(s, e, busy, elem, recurring=inst is not rec, exception=kind == "Exception"))
    out.sort(key=lambda ev: (ev.start, ev.end))
    return out


def _merged(events: List[_Event], start: datetime, end: datetime, interval: timedelta) -> str:
    digits = []
    t = start
    while t < end:
        slot_end = min(t + interval, end)
        best = "Free"
        for ev in events:
            if ev.start < slot_end and ev.end > t and _STRENGTH.get(ev.busy, 3) > _STRENGTH[best]:
                best = ev.busy
        digits.append(BUSY_DIGITS[best])
        t += interval
    return "".join(digits)


def _details(ev: _Event) -> etree._Element:
    d = etree.Element(T + "CalendarEventDetails")
    private = get_text(ev.elem, "Sensitivity") in ("Private", "Confidential")
    if not private:
        etree.SubElement(d, T + "ID").text = _event_id(ev.elem)
        subject = get_text(ev.elem, "Subject")
        if subject is not None:
            etree.SubElement(d, T + "Subject").text = subject
        location = get_text(ev.elem, "Location")
        if location is not None:
            etree.SubElement(d, T + "Location").text = location
    for tag, value in (("IsMeeting", get_text(ev.elem, "IsMeeting") == "true"), ("IsRecurring", ev.recurring),
                       ("IsException", ev.exception), ("IsReminderSet", get_text(ev.elem, "ReminderIsSet") == "true"),
                       ("IsPrivate", private)):
        etree.SubElement(d, T + tag).text = "true" if value else "false"
    return d


def _event_id(elem: etree._Element) -> str:
    """Exchange sends the hex of the item's entry id; the local server sends the hex of its UID."""
    uid = get_text(elem, "UID") or ""
    return uid.encode("utf-8").hex().upper()[:96] if uid else "00"


def _working_hours(directory: Directory, mb: Mailbox, year: int) -> etree._Element:
    s = directory.settings(mb.primary_smtp_address)
    wh = etree.Element(T + "WorkingHours")
    wh.append(zone_element(s.time_zone, year))
    periods = etree.SubElement(wh, T + "WorkingPeriodArray")
    if s.working_days:
        p = etree.SubElement(periods, T + "WorkingPeriod")
        etree.SubElement(p, T + "DayOfWeek").text = " ".join(s.working_days)
        etree.SubElement(p, T + "StartTimeInMinutes").text = str(s.work_start)
        etree.SubElement(p, T + "EndTimeInMinutes").text = str(s.work_end)
    return wh


def _is_work_time(directory: Directory, mb: Mailbox, start: datetime, end: datetime) -> bool:
    s = directory.settings(mb.primary_smtp_address)
    tz = zoneinfo_for(s.time_zone)
    ls, le = start.astimezone(tz), (end - timedelta(seconds=1)).astimezone(tz)
    if ls.date() != le.date():
        return False
    if DAY_NAMES[ls.isoweekday() % 7] not in s.working_days:
        return False
    minutes_s = ls.hour * 60 + ls.minute
    minutes_e = le.hour * 60 + le.minute + 1
    return s.work_start <= minutes_s and minutes_e <= s.work_end


def _int(elem: Optional[etree._Element], name: str, default: int, lo: int, hi: int, code: str) -> int:
    text = elem.findtext(T + name) if elem is not None else None
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise ResponseCodeError(code, f"{name} must be an integer.") from None
    if not lo <= value <= hi:
        raise ResponseCodeError(code, f"{name} must be between {lo} and {hi}.")
    return value


@dataclass
class _Attendee:
    address: str
    attendee_type: str
    exclude_conflicts: bool
    mailbox: Optional[Mailbox]
    #: For a distribution list: its members (nested lists expanded), the server's mailboxes and the rest
    members: Optional[List[Mailbox]] = None
    members_without_data: int = 0


def _attendees(ctx: RequestContext, body: etree._Element) -> List[_Attendee]:
    array = child(body, "MailboxDataArray")
    out = []
    for md in (array if array is not None else ()):
        if not isinstance(md.tag, str):
            continue
        address = (md.findtext(f"{T}Email/{T}Address") or "").strip()
        kind = (md.findtext(T + "AttendeeType") or "Required").strip()
        exclude = (md.findtext(T + "ExcludeConflicts") or "false").strip() in ("true", "1")
        att = _Attendee(address, kind, exclude, ctx.store.get_mailbox(address))
        dl = directory_of(ctx.store).distribution_list(address) if att.mailbox is None else None
        if dl is not None and not dl.hidden_membership:
            addresses = flatten(directory_of(ctx.store), dl)
            found = [ctx.store.get_mailbox(a) for a in addresses]
            att.members = [m for m in found if m is not None]
            att.members_without_data = len(found) - len(att.members)
        out.append(att)
    if len(out) > MAX_MAILBOXES:
        raise ResponseCodeError("ErrorInvalidParameter", f"At most {MAX_MAILBOXES} mailboxes may be queried.")
    return out


def _window(elem: Optional[etree._Element], zone: LegacyZone) -> Tuple[datetime, datetime]:
    start = parse_request_datetime(elem.findtext(T + "StartTime") if elem is not None else None, zone)
    end = parse_request_datetime(elem.findtext(T + "EndTime") if elem is not None else None, zone)
    if end <= start:
        raise ResponseCodeError("ErrorInvalidTimeInterval", "The end of the time window must be after its start.")
    if end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise ResponseCodeError("ErrorTimeIntervalTooBig",
                                f"The time window may be at most {MAX_WINDOW_DAYS} days long.")
    return start, end


def _error(parent: etree._Element, tag: str, code: str, text: str) -> None:
    msg = etree.SubElement(parent, M + tag, ResponseClass="Error")
    etree.SubElement(msg, M + "MessageText").text = text
    etree.SubElement(msg, M + "ResponseCode").text = code
    etree.SubElement(msg, M + "DescriptiveLinkKey").text = "0"


def _may_see(ctx: RequestContext, directory: Directory, mb: Mailbox) -> str:
    if mb is ctx.mailbox or mb.primary_smtp_address == ctx.caller or ctx.can_access(ctx.caller,
                                                                                     mb.primary_smtp_address):
        return "Full"
    return directory.settings(mb.primary_smtp_address).free_busy_level(ctx.caller)


def _free_busy(ctx: RequestContext, directory: Directory, att: _Attendee, options: etree._Element,
               zone: LegacyZone) -> etree._Element:
    resp = etree.Element(M + "FreeBusyResponse")
    start, end = _window(options.find(T + "TimeWindow"), zone)
    interval = timedelta(minutes=_int(options, "MergedFreeBusyIntervalInMinutes", 30, 5, 1440,
                                      "ErrorInvalidMergedFreeBusyInterval"))
    view = (options.findtext(T + "RequestedView") or "Detailed").strip()
    if view not in VIEWS or view == "None":
        raise ResponseCodeError("ErrorInvalidFreeBusyViewType", f"The requested view {view!r} is not valid.")
    mb = att.mailbox
    if att.members is not None:
        return _group_free_busy(resp, att, start, end, interval)
    if mb is None:
        _error(resp, "ResponseMessage", "ErrorMailRecipientNotFound",
               f"The e-mail address {att.address or '(empty)'} cannot be found in the directory.")
        fbv = etree.SubElement(resp, M + "FreeBusyView")
        etree.SubElement(fbv, T + "FreeBusyViewType").text = "None"
        return resp
    level = _may_see(ctx, directory, mb)
    if level == "None":
        _error(resp, "ResponseMessage", "ErrorNoFreeBusyAccess",
               f"{ctx.caller} does not have permission to see the free/busy information of {mb.primary_smtp_address}.")
        fbv = etree.SubElement(resp, M + "FreeBusyView")
        etree.SubElement(fbv, T + "FreeBusyViewType").text = "None"
        return resp
    if level == "FreeBusyTimeOnly":
        view = _WITHOUT_DETAILS.get(view, view)
    msg = etree.SubElement(resp, M + "ResponseMessage", ResponseClass="Success")
    etree.SubElement(msg, M + "ResponseCode").text = "NoError"
    events = _events(mb, start, end)
    fbv = etree.SubElement(resp, M + "FreeBusyView")
    etree.SubElement(fbv, T + "FreeBusyViewType").text = view
    if view in ("MergedOnly", "FreeBusyMerged", "DetailedMerged"):
        etree.SubElement(fbv, T + "MergedFreeBusy").text = _merged(events, start, end, interval)
    if view != "MergedOnly":
        arr = etree.SubElement(fbv, T + "CalendarEventArray")
        for ev in events:
            ce = etree.SubElement(arr, T + "CalendarEvent")
            etree.SubElement(ce, T + "StartTime").text = local_text(ev.start, zone)
            etree.SubElement(ce, T + "EndTime").text = local_text(ev.end, zone)
            etree.SubElement(ce, T + "BusyType").text = ev.busy
            if view.startswith("Detailed"):
                ce.append(_details(ev))
    fbv.append(_working_hours(directory, mb, zone.to_local(start).year))
    return resp


def _group_free_busy(resp: etree._Element, att: _Attendee, start: datetime, end: datetime,
                     interval: timedelta) -> etree._Element:
    """A distribution list: the merged free/busy of its members (MergedOnly: no events, no working hours)."""
    if len(att.members or ()) + att.members_without_data > MAX_GROUP_MEMBERS:
        _error(resp, "ResponseMessage", "ErrorFreeBusyDLLimitReached",
               f"The distribution list {att.address} has more than {MAX_GROUP_MEMBERS} members.")
        fbv = etree.SubElement(resp, M + "FreeBusyView")
        etree.SubElement(fbv, T + "FreeBusyViewType").text = "None"
        return resp
    msg = etree.SubElement(resp, M + "ResponseMessage", ResponseClass="Success")
    etree.SubElement(msg, M + "ResponseCode").text = "NoError"
    events = [ev for m in att.members or () for ev in _events(m, start, end)]
    fbv = etree.SubElement(resp, M + "FreeBusyView")
    etree.SubElement(fbv, T + "FreeBusyViewType").text = "MergedOnly"
    etree.SubElement(fbv, T + "MergedFreeBusy").text = _merged(events, start, end, interval)
    return resp


def _quality(available: int, total: int, good_threshold: int) -> str:
    if total == 0 or available == total:
        return "Excellent"
    share = available * 100 / total
    if share >= 50 + good_threshold:
        return "Good"
    if share >= 50:
        return "Fair"
    return "Poor"


def _busy_between(events: List[_Event], start: datetime, end: datetime) -> str:
    best = "Free"
    for ev in events:
        if ev.start < end and ev.end > start and _STRENGTH.get(ev.busy, 3) > _STRENGTH[best]:
            best = ev.busy
    return best


def _suggestions(ctx: RequestContext, directory: Directory, attendees: List[_Attendee], options: etree._Element,
                 zone: LegacyZone) -> etree._Element:
    start, end = _window(options.find(T + "DetailedSuggestionsWindow"), zone)
    good = _int(options, "GoodThreshold", 25, 1, 49, "ErrorInvalidParameter")
    per_day = _int(options, "MaximumResultsByDay", 10, 0, 48, "ErrorInvalidParameter")
    per_day_off = _int(options, "MaximumNonWorkHourResultsByDay", 0, 0, 48, "ErrorInvalidParameter")
    duration = timedelta(minutes=_int(options, "MeetingDurationInMinutes", 30, 30, 1440, "ErrorInvalidParameter"))
    minimum = (options.findtext(T + "MinimumSuggestionQuality") or "Fair").strip()
    if minimum not in QUALITIES:
        raise ResponseCodeError("ErrorInvalidParameter", f"Unknown MinimumSuggestionQuality {minimum!r}.")
    known = [a for a in attendees if a.mailbox is not None]
    events = {id(a): _events(a.mailbox, start - duration, end + duration) for a in known}  # type: ignore[arg-type]
    people = [a for a in known if a.attendee_type not in ("Room", "Resource")]
    groups = [a for a in attendees if a.members is not None
              and len(a.members) + a.members_without_data <= MAX_GROUP_MEMBERS]
    member_events = {id(a): [_events(m, start - duration, end + duration) for m in a.members or ()] for a in groups}
    # Each member of a list counts as one attendee
    total = len(known) + sum(len(a.members or ()) for a in groups)
    step = timedelta(minutes=30)
    resp = etree.Element(M + "SuggestionsResponse")
    msg = etree.SubElement(resp, M + "ResponseMessage", ResponseClass="Success")
    etree.SubElement(msg, M + "ResponseCode").text = "NoError"
    days = etree.SubElement(resp, M + "SuggestionDayResultArray")
    local_day = zone.to_local(start).replace(hour=0, minute=0, second=0)
    last_local = zone.to_local(end)
    while local_day < last_local:
        day_start = max(zone.to_utc(local_day), start)
        day_end = min(zone.to_utc(local_day + timedelta(days=1)), end)
        candidates = []
        t = day_start
        while t + duration <= day_end:
            conflicts: List[Any] = []
            available = 0
            dropped = False
            for a in attendees:
                if a.members is not None:
                    if id(a) not in member_events:
                        conflicts.append("TooBig")
                        continue
                    statuses = [_busy_between(evs, t, t + duration) for evs in member_events[id(a)]]
                    free = statuses.count("Free")
                    available += free
                    conflicts.append((len(statuses) + a.members_without_data, free, len(statuses) - free,
                                      a.members_without_data))
                    if a.exclude_conflicts and free < len(statuses):
                        dropped = True
                    continue
                if a.mailbox is None:
                    conflicts.append(None)
                    continue
                busy = _busy_between(events[id(a)], t, t + duration)
                conflicts.append(busy)
                if busy == "Free":
                    available += 1
                elif a.exclude_conflicts:
                    dropped = True
            if not dropped:
                quality = _quality(available, total, good)
                work = all(_is_work_time(directory, a.mailbox, t, t + duration)  # type: ignore[arg-type]
                           for a in people) if people else True
                if QUALITIES.index(quality) <= QUALITIES.index(minimum):
                    candidates.append((t, quality, work, conflicts))
            t += step
        ranked = sorted(candidates, key=lambda c: (QUALITIES.index(c[1]), c[0]))
        kept = [c for c in ranked if c[2]][:per_day] + [c for c in ranked if not c[2]][:per_day_off]
        kept.sort(key=lambda c: c[0])
        day = etree.SubElement(days, T + "SuggestionDayResult")
        etree.SubElement(day, T + "Date").text = local_day.strftime("%Y-%m-%dT%H:%M:%S")
        best = min((QUALITIES.index(c[1]) for c in kept), default=QUALITIES.index("Poor"))
        etree.SubElement(day, T + "DayQuality").text = QUALITIES[best]
        arr = etree.SubElement(day, T + "SuggestionArray")
        for t0, quality, work, conflicts in kept:
            s = etree.SubElement(arr, T + "Suggestion")
            etree.SubElement(s, T + "MeetingTime").text = local_text(t0, zone)
            etree.SubElement(s, T + "IsWorkTime").text = "true" if work else "false"
            etree.SubElement(s, T + "SuggestionQuality").text = quality
            cda = etree.SubElement(s, T + "AttendeeConflictDataArray")
            for status in conflicts:
                if status is None:
                    etree.SubElement(cda, T + "UnknownAttendeeConflictData")
                elif status == "TooBig":
                    etree.SubElement(cda, T + "TooBigGroupAttendeeConflictData")
                elif isinstance(status, tuple):
                    grp = etree.SubElement(cda, T + "GroupAttendeeConflictData")
                    for tag, n in zip(("NumberOfMembers", "NumberOfMembersAvailable", "NumberOfMembersWithConflict",
                                       "NumberOfMembersWithNoData"), status):
                        etree.SubElement(grp, T + tag).text = str(n)
                else:
                    ind = etree.SubElement(cda, T + "IndividualAttendeeConflictData")
                    etree.SubElement(ind, T + "BusyType").text = status
        local_day += timedelta(days=1)
    return resp


@handler("GetUserAvailabilityRequest")
def get_user_availability(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseravailability-operation"""
    directory = directory_of(ctx.store)
    zone = LegacyZone(child(body, "TimeZone"))
    attendees = _attendees(ctx, body)
    fb_options = child(body, "FreeBusyViewOptions")
    sg_options = child(body, "SuggestionsViewOptions")
    if fb_options is None and sg_options is None:
        raise ResponseCodeError("ErrorInvalidRequest", "FreeBusyViewOptions or SuggestionsViewOptions is required.")
    root = etree.Element(M + "GetUserAvailabilityResponse", nsmap=RESPONSE_NSMAP)
    if fb_options is not None:
        _window(fb_options.find(T + "TimeWindow"), zone)  # a bad window fails the whole request
        array = etree.SubElement(root, M + "FreeBusyResponseArray")
        for att in attendees:
            try:
                array.append(_free_busy(ctx, directory, att, fb_options, zone))
            except ResponseCodeError as e:
                resp = etree.SubElement(array, M + "FreeBusyResponse")
                _error(resp, "ResponseMessage", e.response_code, e.message)
    if sg_options is not None:
        try:
            root.append(_suggestions(ctx, directory, attendees, sg_options, zone))
        except ResponseCodeError as e:
            resp = etree.SubElement(root, M + "SuggestionsResponse")
            _error(resp, "ResponseMessage", e.response_code, e.message)
    return root

