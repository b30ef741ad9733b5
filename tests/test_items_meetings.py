"""Meetings and tasks over HTTP against the strict local server: invitations reach attendees' inboxes and
calendars, attendees accept / tentatively accept / decline and the organiser sees their answers, the
organiser cancels, and tasks are completed."""
from __future__ import annotations

import decimal
import uuid

import pytest

from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone, Task
from exchangelib.properties import ItemId
from exchangelib.errors import (ErrorCalendarIsNotOrganizer, ErrorCalendarIsOrganizerForAccept,
                                ErrorInvalidItemForOperationAcceptItem, ErrorItemNotFound)
from exchangelib.items import (SAVE_ONLY, AcceptItem, SEND_ONLY, SEND_ONLY_TO_ALL, SEND_ONLY_TO_CHANGED, MeetingCancellation,
                               MeetingRequest, MeetingResponse, Message)

JOHN, MARY = "john@example.com", "mary@example.com"
TZ = EWSTimeZone.timezone("Europe/Copenhagen")


@pytest.fixture
def john(exchange):
    return exchange.account(JOHN)


@pytest.fixture
def mary(exchange):
    return exchange.account(MARY)


def invite(john, attendees=(MARY,), optional=()) -> CalendarItem:
    subject = f"Review {uuid.uuid4().hex[:8]}"
    meeting = CalendarItem(account=john, folder=john.calendar, subject=subject, location='Room 1',
                           start=TZ.localize(EWSDateTime(2026, 6, 1, 14)), end=TZ.localize(EWSDateTime(2026, 6, 1, 15)),
                           required_attendees=list(attendees), optional_attendees=list(optional) or None)
    meeting.save(send_meeting_invitations=SEND_ONLY_TO_ALL)
    return meeting


def responses(meeting: CalendarItem) -> dict:
    meeting.refresh()
    out = {}
    for a in (meeting.required_attendees or []) + (meeting.optional_attendees or []):
        out[a.mailbox.email_address] = a.response_type
    return out


def test_invitation_reaches_the_attendees_inbox_and_calendar(john, mary):
    meeting = invite(john)
    request = mary.inbox.get(subject=meeting.subject)
    assert isinstance(request, MeetingRequest)
    assert (request.start, request.end, request.location) == (meeting.start, meeting.end, 'Room 1')
    assert request.organizer.email_address == JOHN and request.author.email_address == JOHN
    assert request.meeting_request_type == 'NewMeetingRequest'
    copy = mary.calendar.get(subject=meeting.subject)
    assert copy.my_response_type == 'NoResponseReceived' and copy.legacy_free_busy_status == 'Tentative'
    assert copy.uid == meeting.refresh().uid and copy.is_organizer is False
    assert responses(meeting) == {MARY: 'Unknown'}


def test_accepting_a_meeting_request_shows_on_the_organisers_calendar_item(john, mary):
    meeting = invite(john)
    request = mary.inbox.get(subject=meeting.subject)
    request.accept(body='See you there')
    assert request.id is None and request.folder is mary.trash
    assert responses(meeting) == {MARY: 'Accept'}
    [attendee] = meeting.required_attendees
    assert attendee.last_response_time is not None and attendee.last_response_time.tzinfo is not None
    # John got Mary's answer; Mary kept a copy; her request moved to Deleted Items; her calendar says Accept
    answer = john.inbox.get(subject='Accepted: ' + meeting.subject)
    assert isinstance(answer, MeetingResponse) and answer.body == 'See you there'
    assert answer.author.email_address == MARY and answer.response_type == 'Accept'
    assert answer.associated_calendar_item_id.id == meeting.id
    assert mary.sent.filter(subject='Accepted: ' + meeting.subject).count() == 1
    assert mary.inbox.filter(subject=meeting.subject).count() == 0
    assert mary.trash.filter(subject=meeting.subject).count() == 1
    mine = mary.calendar.get(subject=meeting.subject)
    assert (mine.my_response_type, mine.legacy_free_busy_status) == ('Accept', 'Busy')


def test_answers_from_the_calendar_item_tentative_then_decline(john, mary, exchange):
    anne = exchange.account('room1@example.com')  # a mailbox without a login, opened by impersonation
    meeting = invite(john, attendees=(MARY,), optional=('room1@example.com',))
    mine = mary.calendar.get(subject=meeting.subject)
    mine.tentatively_accept(message_disposition=SEND_ONLY)
    assert responses(meeting) == {MARY: 'Tentative', 'room1@example.com': 'Unknown'}
    assert mary.sent.filter(subject='Tentative: ' + meeting.subject).count() == 0  # SEND_ONLY keeps no copy
    mine.refresh()
    assert (mine.my_response_type, mine.legacy_free_busy_status) == ('Tentative', 'Tentative')
    mine.decline(body='Sorry, double booked')
    assert mine.id is None and mine.folder is mary.trash
    assert responses(meeting) == {MARY: 'Decline', 'room1@example.com': 'Unknown'}
    assert mary.calendar.filter(subject=meeting.subject).count() == 0  # a declined meeting leaves the calendar
    assert mary.trash.filter(subject=meeting.subject).count() >= 1
    anne.inbox.get(subject=meeting.subject).decline()
    assert responses(meeting) == {MARY: 'Decline', 'room1@example.com': 'Decline'}


def test_saving_an_answer_as_a_draft_tells_nobody(john, mary):
    meeting = invite(john)
    request = mary.inbox.get(subject=meeting.subject)
    draft = request.accept(message_disposition=SAVE_ONLY)
    assert isinstance(draft, MeetingResponse) and draft.id
    assert mary.drafts.get(subject='Accepted: ' + meeting.subject).id == draft.id
    assert responses(meeting) == {MARY: 'Unknown'}
    assert john.inbox.filter(subject='Accepted: ' + meeting.subject).count() == 0


def test_answer_errors(john, mary):
    meeting = invite(john)
    with pytest.raises(ErrorCalendarIsOrganizerForAccept):
        meeting.accept()
    note = Message(account=mary, folder=mary.inbox, subject='not a meeting')
    note.save()
    with pytest.raises(ErrorInvalidItemForOperationAcceptItem):
        AcceptItem(account=mary, reference_item_id=ItemId(note.id, note.changekey)).send()
    with pytest.raises(ValueError, match="message_disposition"):
        mary.inbox.get(subject=meeting.subject).decline(message_disposition='Later')
    with pytest.raises(ErrorCalendarIsNotOrganizer):
        mary.calendar.get(subject=meeting.subject).cancel()
    note.delete()


def test_the_organiser_cancels_the_meeting(john, mary):
    meeting = invite(john)
    meeting_id = meeting.id
    meeting.cancel(body='Postponed, sorry')
    assert meeting.id is None and meeting.folder is john.trash
    with pytest.raises(ErrorItemNotFound):
        CalendarItem(account=john, id=meeting_id).refresh()
    assert john.calendar.filter(subject=meeting.subject).count() == 0
    assert john.trash.filter(subject=meeting.subject).count() == 1
    notice = mary.inbox.get(subject='Canceled: ' + meeting.subject)
    assert isinstance(notice, MeetingCancellation) and notice.body == 'Postponed, sorry'
    assert mary.calendar.get(subject='Canceled: ' + meeting.subject).is_cancelled is True
    assert john.sent.filter(subject='Canceled: ' + meeting.subject).count() == 1


def test_deleting_with_cancellations_and_updating_with_invitations(john, mary):
    meeting = invite(john)
    meeting.optional_attendees = ['room1@example.com']
    meeting.save(send_meeting_invitations=SEND_ONLY_TO_CHANGED)
    assert responses(meeting) == {MARY: 'Unknown', 'room1@example.com': 'Unknown'}
    assert mary.inbox.filter(subject=meeting.subject).count() == 1  # only the new attendee was invited again
    meeting.delete(send_meeting_cancellations=SEND_ONLY_TO_ALL)
    assert isinstance(mary.inbox.get(subject='Canceled: ' + meeting.subject), MeetingCancellation)


def test_task_complete(john):
    task = Task(account=john, subject=f"Write report {uuid.uuid4().hex[:8]}", status='InProgress',
                percent_complete=decimal.Decimal(30))
    task.save()
    assert task.complete() is task
    assert (task.status, task.percent_complete, task.is_complete) == ('Completed', decimal.Decimal(100), True)
    assert task.complete_date is not None and task.complete_date.tzinfo is not None
    [fresh] = list(john.fetch([task]))
    assert (fresh.status, fresh.percent_complete, fresh.complete_date) == ('Completed', 100, task.complete_date)
    new = Task(account=john, subject='done already').complete()
    assert new.id and new.is_complete is True and new.folder is john.tasks
    assert john.bulk_delete([task, new]) == [True, True]


@pytest.mark.parametrize("version", ["2007_SP1", "2010", "2013"])
def test_item_actions_validate_on_older_server_versions(make_exchange, version):
    """Saves, sends, replies, meeting answers, cancellation, moves and copies, on servers of every era."""
    server = make_exchange(version=version)
    john, mary = server.account(JOHN), server.account(MARY)
    meeting = invite(john)
    meeting.location = 'Room 9'
    meeting.save(send_meeting_invitations=SEND_ONLY_TO_ALL)
    update = mary.inbox.filter(subject=meeting.subject).order_by('-datetime_received')[0]
    assert update.meeting_request_type == 'InformationalUpdate' and update.location == 'Room 9'
    update.tentatively_accept(body='Maybe')
    assert responses(meeting) == {MARY: 'Tentative'}
    meeting.cancel()
    Message(account=john, subject='hello', body='b', to_recipients=[MARY]).send()
    hello = mary.inbox.get(subject='hello')
    hello.reply_all(body='hi')
    hello.forward(None, 'fyi', [JOHN])
    assert sorted(m.subject for m in john.inbox.filter(subject__startswith='RE: hello')) == ['RE: hello']
    copy = hello.copy(mary.drafts)
    hello.move(mary.trash)
    task = Task(account=john, subject='t')
    task.complete()
    assert task.is_complete is True
    assert hello.folder is mary.trash
    if copy is None:  # a server that returns no new ids: the moved object no longer names its item
        assert hello.id is None
    else:
        assert copy.subject == 'hello' and hello.refresh().subject == 'hello'
    assert server.schema_errors == []
