"""The resource booking attendant: rooms that answer meeting requests themselves.

A mailbox whose :class:`~exchangelib.testing.directory.MailboxSettings` has ``auto_accept=True`` (as
Exchange's ``Set-CalendarProcessing -AutomateProcessing AutoAccept`` makes a room) answers each
meeting request as it is delivered: when none of the meeting's instances in the booking window (the
next 180 days from the meeting's start) overlaps another busy appointment in its calendar, it
accepts (its copy shows Busy, the organizer's item shows the room's Accept); otherwise it declines
(its copy is removed and the organizer's item shows Decline). Exchange also mails the answer to the
organizer; the local server only records it on the organizer's item.
https://learn.microsoft.com/en-us/exchange/recipients/room-mailboxes
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Tuple

from ...xml import TNS
from ..directory import directory_of
from ..store import ItemRecord, Mailbox, Store, format_datetime
from .find import calendar_instances
from .props import get_text, parse_datetime, set_prop

T = f"{{{TNS}}}"
#: How far ahead a room looks at a recurring meeting's instances (Exchange's default BookingWindowInDays)
BOOKING_WINDOW = timedelta(days=180)


def _spans(rec: ItemRecord, start: datetime, end: datetime) -> List[Tuple[datetime, datetime]]:
    out = []
    for inst in calendar_instances(rec, start, end):
        s, e = get_text(inst.elem, "Start"), get_text(inst.elem, "End")
        if s and e:
            out.append((parse_datetime(s), parse_datetime(e)))
    return out


def _conflicts(mb: Mailbox, meeting: ItemRecord) -> bool:
    start_text = get_text(meeting.elem, "Start")
    if not start_text:
        return False
    start = parse_datetime(start_text)
    wanted = _spans(meeting, start, start + BOOKING_WINDOW)
    if not wanted:
        return False
    lo, hi = min(s for s, _ in wanted), max(e for _, e in wanted)
    uid = get_text(meeting.elem, "UID")
    calendar = mb.folder("calendar")
    for rec in (calendar.items() if calendar is not None else []):
        if rec is meeting or rec.element_kind != "CalendarItem" or (uid and get_text(rec.elem, "UID") == uid):
            continue
        if get_text(rec.elem, "IsCancelled") == "true" or get_text(rec.elem, "LegacyFreeBusyStatus") == "Free":
            continue
        for s2, e2 in _spans(rec, lo, hi):
            if any(s < e2 and s2 < e for s, e in wanted):
                return True
    return False


def _record(organizer_item: ItemRecord, room: Mailbox, response: str, when: str) -> None:
    for tag in ("RequiredAttendees", "OptionalAttendees", "Resources"):
        for att in organizer_item.elem.findall(f"{T}{tag}/{T}Attendee"):
            address = (att.findtext(f"{T}Mailbox/{T}EmailAddress") or "").lower()
            if address in room.addresses():
                set_prop(att, "ResponseType", response, type_name="AttendeeType")
                set_prop(att, "LastResponseTime", when, type_name="AttendeeType")
    organizer_item.touch(("RequiredAttendees", "OptionalAttendees", "Resources"))


def book(store: Store, room: Mailbox, copy: ItemRecord, organizer_item: ItemRecord) -> None:
    """Answer a delivered meeting request on behalf of an auto-accepting mailbox (no-op for the others)."""
    if not directory_of(store).settings(room.primary_smtp_address).auto_accept:
        return
    when = format_datetime(store.now())
    if _conflicts(room, copy):
        store.remove_item(copy)
        _record(organizer_item, room, "Decline", when)
        return
    set_prop(copy.elem, "LegacyFreeBusyStatus", "Busy")
    set_prop(copy.elem, "MyResponseType", "Accept")
    copy.touch(("LegacyFreeBusyStatus", "MyResponseType"))
    _record(organizer_item, room, "Accept", when)


__all__ = ["book", "BOOKING_WINDOW"]

