"""Scheduling over HTTP against a strict local server: free/busy, suggestions, rooms and the booking flow."""
from __future__ import annotations

import datetime
from datetime import timedelta

import pytest

from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
from exchangelib.errors import ErrorMailRecipientNotFound, ErrorNoFreeBusyAccess
from exchangelib.properties.availability import FreeBusyView, IndividualAttendeeConflictData, Room, RoomList, TimeZone
from exchangelib.recurrence import DailyPattern, Recurrence, WeeklyPattern
from exchangelib.testing import LocalExchange, MailboxSettings, RoomList as ServerRoomList, User, default_users

TZ = EWSTimeZone("Europe/Copenhagen")
WORKDAY = dict(time_zone="Europe/Copenhagen", work_start=9 * 60, work_end=17 * 60)


@pytest.fixture(scope="module")
def server():
    users = list(default_users()) + [User("room2", None, "room2@example.com", "Conference Room 2")]
    srv = LocalExchange(
        users=users, strict=True, validate_responses=True,
        room_lists=[ServerRoomList("rooms@example.com", "All rooms", ["room1@example.com", "room2@example.com"]),
                    ServerRoomList("small@example.com", "Small rooms", ["room2@example.com"])],
        mailbox_settings={a: MailboxSettings(**WORKDAY, auto_accept=a.startswith("room")) for a in
                          ("john@example.com", "mary@example.com", "room1@example.com", "room2@example.com")},
    )
    with srv:
        yield srv


@pytest.fixture
def exchange(server):
    server.reset_stats()
    yield server
    server.assert_clean()


def local(y, m, d, h=0, mi=0):
    return TZ.localize(EWSDateTime(y, m, d, h, mi))


def test_room_lists_and_rooms(exchange):
    protocol = exchange.account("john@example.com").protocol
    lists = protocol.get_roomlists()
    assert [(rl.name, rl.email_address) for rl in lists] == [("All rooms", "rooms@example.com"),
                                                             ("Small rooms", "small@example.com")]
    assert all(isinstance(rl, RoomList) for rl in lists)
    rooms = protocol.get_rooms(lists[0])
    assert [(r.name, r.email_address) for r in rooms] == [("Conference Room 1", "room1@example.com"),
                                                          ("Conference Room 2", "room2@example.com")]
    assert all(isinstance(r, Room) for r in rooms)
    assert [r.email_address for r in protocol.get_rooms("small@example.com")] == ["room2@example.com"]
    with pytest.raises(Exception) as e:
        protocol.get_rooms("nolist@example.com")
    assert type(e.value).__name__ == "ErrorNameResolutionNoResults"


def test_booking_flow_across_dst(exchange):
    """Find a room, ask free/busy for two people and the room over a week with recurring meetings across the
    DST change of 29 March 2026, pick a suggested slot, book it and see everyone busy afterwards."""
    john, mary = exchange.account("john@example.com"), exchange.account("mary@example.com")
    room1_owner = exchange.account("room1@example.com")
    # John: a daily stand-up 09:00-09:30 Copenhagen time, from the Wednesday before the DST change
    CalendarItem(account=john, folder=john.calendar, subject="Stand-up", start=local(2026, 3, 25, 9),
                 end=local(2026, 3, 25, 9, 30),
                 recurrence=Recurrence(pattern=DailyPattern(interval=1), start=local(2026, 3, 25).date(),
                                       number=10)).save()
    # Mary: weekly on Mondays and Tuesdays 10:00-12:00, tentatively
    CalendarItem(account=mary, folder=mary.calendar, subject="Planning", start=local(2026, 3, 23, 10),
                 end=local(2026, 3, 23, 12), legacy_free_busy_status="Tentative",
                 recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=["Monday", "Tuesday"]),
                                       start=local(2026, 3, 23).date(), number=6)).save()
    # The room is taken 13:00-14:00 on Monday 30 March
    CalendarItem(account=room1_owner, folder=room1_owner.calendar, subject="Board", start=local(2026, 3, 30, 13),
                 end=local(2026, 3, 30, 14)).save()

    protocol = john.protocol
    room = protocol.get_rooms(protocol.get_roomlists()[0])[0]
    start, end = local(2026, 3, 25), local(2026, 4, 1)
    attendees = [(john, "Organizer", False), ("mary@example.com", "Required", False),
                 (room.email_address, "Room", False)]
    john_fb, mary_fb, room_fb = protocol.get_free_busy_info(attendees, start, end, merged_free_busy_interval=30)
    # Every stand-up is at 09:00 local time, before and after the change of UTC offset
    standups = john_fb.calendar_events
    assert len(standups) == 7
    assert {(e.start.astimezone(TZ).hour, e.start.astimezone(TZ).minute) for e in standups} == {(9, 0)}
    assert standups[2].start.utcoffset() == timedelta(hours=1) and standups[5].start.utcoffset() == timedelta(hours=2)
    assert all(e.busy_type == "Busy" and e.details.subject == "Stand-up" and e.details.is_recurring for e in standups)
    # The merged string has one digit per half hour of real time: the night of the change is an hour short
    def slot(dt):
        # (aware datetimes of one tzinfo subtract as wall clock: compare the instants)
        utc = datetime.timezone.utc
        return int((dt.astimezone(utc) - start.astimezone(utc)).total_seconds() // 1800)

    assert len(john_fb.merged) == 7 * 48 - 2
    for day in range(25, 32):
        assert john_fb.merged[slot(local(2026, 3, day, 9))] == "2"
        assert john_fb.merged[slot(local(2026, 3, day, 8, 30))] == "0"
        assert john_fb.merged[slot(local(2026, 3, day, 9, 30))] == "0"
    # Mary shares only free/busy times with John (Exchange's default): no details, tentative status
    assert mary_fb.view_type == "FreeBusyMerged"
    assert [(e.start, e.busy_type, e.details) for e in mary_fb.calendar_events] == [
        (local(2026, 3, 30, 10), "Tentative", None), (local(2026, 3, 31, 10), "Tentative", None)]
    assert mary_fb.merged_busy_types[slot(local(2026, 3, 30, 10))] == "Tentative"
    assert mary_fb.merged_busy_types[slot(local(2026, 3, 30, 12))] == "Free"
    assert [(e.start, e.end) for e in room_fb.calendar_events] == [(local(2026, 3, 30, 13), local(2026, 3, 30, 14))]
    # Working hours come in each attendee's own time zone
    assert [(p.weekdays, p.start, p.end) for p in john_fb.working_hours] == [
        (["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], datetime.time(9), datetime.time(17))]
    assert john_fb.working_hours_timezone.bias == -60 and john_fb.working_hours_timezone.has_dst

    # Suggestions for a one-hour meeting on Monday 30 March
    days = protocol.get_meeting_suggestions(attendees, local(2026, 3, 30), local(2026, 3, 31), meeting_duration=60)
    assert len(days) == 1 and days[0].date == local(2026, 3, 30)
    suggestions = days[0].suggestions
    assert [s.meeting_time for s in suggestions] == sorted(s.meeting_time for s in suggestions)
    assert all(s.is_work_time for s in suggestions)
    excellent = [s for s in suggestions if s.quality == "Excellent"]
    # 09:00 clashes with the stand-up, 10:00-12:00 with planning, 13:00 with the board: noon is the first free hour
    assert excellent[0].meeting_time == local(2026, 3, 30, 12)
    assert days[0].day_quality == "Excellent"
    assert all(isinstance(c, IndividualAttendeeConflictData) and c.busy_type == "Free"
               for c in excellent[0].conflicts)
    at_ten = [s for s in suggestions if s.meeting_time == local(2026, 3, 30, 10)]
    # Two of three free (Mary is tentative): at least 50 % but less than 50 + GoodThreshold (25) % is Fair
    assert at_ten and at_ten[0].quality == "Fair"
    assert [c.busy_type for c in at_ten[0].conflicts] == ["Free", "Tentative", "Free"]
    # Book the slot with Mary and the room, sending invitations
    slot = excellent[0].meeting_time
    review = CalendarItem(account=john, folder=john.calendar, subject="Design review", start=slot,
                          end=slot + timedelta(hours=1), required_attendees=["mary@example.com"],
                          resources=[room.email_address])
    review.save(send_meeting_invitations="SendToAllAndSaveCopy")
    after = protocol.get_free_busy_info(attendees, local(2026, 3, 30, 12), local(2026, 3, 30, 13),
                                        merged_free_busy_interval=60)
    # The organizer is busy, Mary tentative until she answers, the room (auto-accepting) busy
    assert [fb.merged for fb in after] == ["2", "1", "2"]
    review.refresh()
    assert [(a.mailbox.email_address, a.response_type) for a in review.resources] == [(room.email_address, "Accept")]
    # Mary tries the same room at the same time: the room declines and keeps its calendar as it was
    clash = CalendarItem(account=mary, folder=mary.calendar, subject="Clash", start=slot + timedelta(minutes=30),
                         end=slot + timedelta(hours=2), resources=[room.email_address])
    clash.save(send_meeting_invitations="SendToAllAndSaveCopy")
    clash.refresh()
    assert clash.resources[0].response_type == "Decline"
    [room_view] = protocol.get_free_busy_info([(room.email_address, "Room", False)], slot, slot + timedelta(hours=2),
                                              merged_free_busy_interval=60, requested_view="Detailed")
    # The review and the board meeting, not the declined clash
    assert [(e.start, e.end) for e in room_view.calendar_events] == [(slot, slot + timedelta(hours=1)),
                                                                     (local(2026, 3, 30, 13), local(2026, 3, 30, 14))]
    days = protocol.get_meeting_suggestions(attendees, local(2026, 3, 30), local(2026, 3, 31), meeting_duration=60)
    assert slot not in [s.meeting_time for s in days[0].suggestions if s.quality == "Excellent"]
