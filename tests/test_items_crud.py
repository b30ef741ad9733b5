"""Item life cycle over HTTP against the strict local server: save (create/update), refresh, delete, soft
delete, move to trash, move and copy, for every item kind.

Every request and response is validated against the EWS schema; the ``exchange`` fixture fails a test
whose server saw an invalid request or crashed.
"""
from __future__ import annotations

import datetime
import decimal
import uuid

import pytest

from exchangelib import (CalendarItem, Contact, DistributionList, EWSDateTime, EWSTimeZone, HTMLBody, Mailbox,
                         Message, PostItem, Task)
from exchangelib.errors import ErrorIrresolvableConflict, ErrorItemNotFound
from exchangelib.folders import CalendarFolder, ContactsFolder, Folder, TasksFolder
from exchangelib.items import (ALWAYS_OVERWRITE, NEVER_OVERWRITE, SEND_ONLY_TO_ALL, SEND_ONLY_TO_CHANGED, Item)
from exchangelib.properties import Attendee, EmailAddress, Member, PhoneNumber

JOHN = "john@example.com"
TZ = EWSTimeZone.timezone("Europe/Copenhagen")


def tag() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def at(day: int, hour: int) -> EWSDateTime:
    return TZ.localize(EWSDateTime(2026, 3, day, hour, 0))


def server_copy(account, item):
    """The item as the server has it now (a fresh GetItem)."""
    [fresh] = list(account.fetch([(item.id, None)]))
    if isinstance(fresh, Exception):
        raise fresh
    return fresh


def gone(account, item_id: str) -> bool:
    [res] = list(account.fetch([(item_id, None)]))
    return isinstance(res, ErrorItemNotFound)


@pytest.fixture
def john(exchange):
    return exchange.account(JOHN)


# --------------------------------------------------------------------------------------------------------------
# Seed 002, "Creating, updating, deleting, sending and moving", line by line
# --------------------------------------------------------------------------------------------------------------

def test_seed_calendar_item_create_and_update_lines(john):
    account = john
    item = CalendarItem(folder=account.calendar, subject='foo')
    item.save()  # This gives the item an 'item_id' and a 'changekey' value
    assert item.id and item.changekey and item.item_id == item.id
    assert item.account is account and item.folder is account.calendar
    first_ck = item.changekey
    item.save(send_meeting_invitations=SEND_ONLY_TO_ALL)  # Send a meeting invitation to attendees
    assert item.changekey != first_ck  # nothing changed locally, but the invitation request was a write
    item.subject = 'bar'
    assert 'subject' in [f.name for f in CalendarItem.FIELDS]
    item.save()  # When the items has an item_id, this will update the item
    assert server_copy(account, item).subject == 'bar'
    ck = item.changekey
    item.save(update_fields=['subject'])  # Only updates certain fields
    assert item.changekey != ck
    item.save(send_meeting_invitations=SEND_ONLY_TO_CHANGED)
    assert server_copy(account, item).changekey == item.changekey  # the object is current after every save
    item_id = item.id
    item.delete()  # Hard deletion
    assert item.id is None and gone(account, item_id)


def test_seed_delete_variants_land_where_exchange_puts_them(john):
    account = john
    category = tag()

    def make(subject: str) -> CalendarItem:
        i = CalendarItem(folder=account.calendar, subject=subject, categories=[category],
                         start=at(2, 9), end=at(2, 10), required_attendees=['mary@example.com'])
        i.save(send_meeting_invitations=SEND_ONLY_TO_ALL)
        return i

    a, b, c, d = make('hard'), make('soft'), make('trash'), make('moved')
    a_id, b_id = a.id, b.id
    a.delete(send_meeting_cancellations=SEND_ONLY_TO_ALL)  # Send meeting cancellations to all attendees
    assert gone(account, a_id)
    b.soft_delete()  # Delete, but keep a copy in the recoverable items folder
    assert b.id is None and gone(account, b_id)
    deletions = account.folders.distinguished('recoverableitemsdeletions')
    assert [i.subject for i in deletions.filter(categories__contains=[category])] == ['soft']
    c.move_to_trash()  # Move to the trash folder
    assert c.id is None and c.folder is account.trash
    d.move(account.trash)  # Also moves the item to the trash folder
    assert d.folder is account.trash and server_copy(account, d).subject == 'moved'
    assert sorted(i.subject for i in account.trash.filter(categories__contains=[category])) == ['moved', 'trash']
    assert account.calendar.filter(categories__contains=[category]).count() == 0
    assert account.bulk_delete(list(account.trash.filter(categories__contains=[category]))) == [True, True]


# --------------------------------------------------------------------------------------------------------------
# Every item kind: create, read back field for field, update, move, copy, delete
# --------------------------------------------------------------------------------------------------------------

def _kinds(account, category: str):
    """(item, folder kind to move to, fields to compare, a field update, a field to clear) per item kind."""
    return [
        (Message(subject='msg', body=HTMLBody('<html><body><b>hi</b></body></html>'), importance='High',
                 categories=[category], to_recipients=['mary@example.com'], cc_recipients=['anne@example.org'],
                 is_read_receipt_requested=True, sensitivity='Private'),
         Folder, ['subject', 'body', 'importance', 'categories', 'to_recipients', 'cc_recipients',
                  'is_read_receipt_requested', 'sensitivity'], ('subject', 'msg v2'), 'cc_recipients'),
        (CalendarItem(subject='cal', start=at(3, 9), end=at(3, 10), location='Room 1', categories=[category],
                      body='Agenda', is_all_day=False, legacy_free_busy_status='OOF',
                      reminder_minutes_before_start=30, reminder_is_set=True,
                      required_attendees=[Attendee(mailbox=Mailbox(email_address='anne@example.org'))]),
         CalendarFolder, ['subject', 'start', 'end', 'location', 'categories', 'body', 'is_all_day',
                          'legacy_free_busy_status', 'reminder_minutes_before_start', 'reminder_is_set'],
         ('location', 'Room 2'), 'body'),
        (Task(subject='task', status='InProgress', percent_complete=decimal.Decimal(40), categories=[category],
              start_date=at(4, 8), due_date=at(6, 17), body='Steps', importance='Low', mileage='12 km'),
         TasksFolder, ['subject', 'status', 'percent_complete', 'categories', 'start_date', 'due_date', 'body',
                       'importance', 'mileage'], ('percent_complete', decimal.Decimal(60)), 'mileage'),
        (Contact(given_name='Anne', surname='Smith', company_name='ACME', job_title='CTO', categories=[category],
                 email_addresses=[EmailAddress(label='EmailAddress1', email='anne@example.org')],
                 phone_numbers=[PhoneNumber(label='MobilePhone', phone_number='+45 1234 5678')]),
         ContactsFolder, ['given_name', 'surname', 'company_name', 'job_title', 'categories', 'email_addresses',
                          'phone_numbers', 'display_name'], ('job_title', 'CEO'), 'company_name'),
        (DistributionList(display_name='Team', categories=[category],
                          members=[Member(mailbox=Mailbox(email_address='anne@example.org')),
                                   Member(mailbox=Mailbox(email_address='bob@example.org'))]),
         ContactsFolder, ['display_name', 'categories'], ('display_name', 'Team B'), None),
        (PostItem(subject='post', body='Posted', categories=[category], importance='High'),
         Folder, ['subject', 'body', 'categories', 'importance'], ('subject', 'post v2'), 'body'),
    ]


def _same(field: str, want, got) -> bool:
    if field in ('to_recipients', 'cc_recipients'):
        return [m.email_address for m in want] == [m.email_address for m in got]
    if field in ('email_addresses', 'phone_numbers'):
        return [(e.label, str(e)) for e in want] == [(e.label, str(e)) for e in got]
    return want == got


@pytest.mark.parametrize("index", range(6), ids=["Message", "CalendarItem", "Task", "Contact", "DistributionList",
                                                  "PostItem"])
def test_every_item_kind_round_trips_updates_moves_copies_and_deletes(john, index):
    account = john
    category = tag()
    item, folder_cls, compare, (upd_field, upd_value), cleared = _kinds(account, category)[index]
    item.account = account
    item.save()
    home = item.folder
    assert item.id and item.changekey and home is not None

    # Read back field for field
    fresh = server_copy(account, item)
    assert type(fresh) is type(item)
    for name in compare:
        want = getattr(item, name)
        if name == 'display_name' and want is None:
            want = 'Anne Smith'  # Exchange composes it from the name parts
        assert _same(name, want, getattr(fresh, name)), (name, getattr(item, name), getattr(fresh, name))
    if isinstance(item, DistributionList):
        assert [m.mailbox.email_address for m in fresh.members] == ['anne@example.org', 'bob@example.org']

    # Update one field, clear another (DeleteItemField)
    setattr(item, upd_field, upd_value)
    if cleared:
        setattr(item, cleared, None)
    assert item.changed_fields == sorted([upd_field] + ([cleared] if cleared else []),
                                         key=type(item).FIELDS.names().index)
    item.save()
    assert item.changed_fields == []
    fresh = server_copy(account, item)
    assert getattr(fresh, upd_field) == upd_value
    if cleared:
        assert getattr(fresh, cleared) in (None, [])
    assert fresh.changekey == item.changekey

    # Move to a new folder of the right kind, then copy back home
    target = folder_cls(parent=home, name=f"target {category}")
    target.save()
    old_id = item.id
    item.move(target)
    assert item.folder is target and item.id != old_id and gone(account, old_id)
    assert [i.id for i in target.all()] == [item.id]
    copy = item.copy(home)
    assert type(copy) is type(item) and copy.id not in (None, item.id) and copy.folder is home
    assert getattr(copy, upd_field) == upd_value
    assert [i.id for i in home.filter(categories__contains=[category])] == [copy.id]
    target.refresh()
    assert target.total_count == 1

    # Delete both
    ids = (item.id, copy.id)
    item.delete()
    copy.delete()
    assert all(gone(account, i) for i in ids)
    target.refresh()
    assert target.total_count == 0
    target.delete()


def test_new_items_go_to_the_default_folder_of_their_kind(john):
    account = john
    category = tag()
    expected = [(Message(subject='d', categories=[category]), account.drafts),
                (CalendarItem(subject='c', start=at(5, 9), end=at(5, 10), categories=[category]), account.calendar),
                (Task(subject='t', categories=[category]), account.tasks),
                (Contact(given_name='X', categories=[category]), account.contacts),
                (DistributionList(display_name='L', categories=[category]), account.contacts)]
    for item, folder in expected:
        item.account = account
        item.save()
        assert item.folder is folder
        assert item.id in [i.id for i in folder.filter(categories__contains=[category])]
    draft = server_copy(account, expected[0][0])
    assert draft.is_draft is True
    assert all(r is True for r in account.bulk_delete([i for i, _ in expected]))


# --------------------------------------------------------------------------------------------------------------
# What save() sends, and conflicts
# --------------------------------------------------------------------------------------------------------------

def test_save_sends_only_the_changed_fields(john):
    """Two copies of one item: saving the stale copy doesn't undo the other copy's change."""
    account = john
    item = Message(account=account, folder=account.inbox, subject='one', categories=[tag()], importance='Low')
    item.save()
    other = server_copy(account, item)
    item.subject = 'changed by item'
    item.save()
    other.importance = 'High'  # `other` still has subject 'one' and an old change key
    other.save()
    fresh = server_copy(account, item)
    assert (fresh.subject, fresh.importance) == ('changed by item', 'High')
    item.delete()


def test_saving_an_unchanged_item_sends_nothing(john, exchange):
    account = john
    item = Task(account=account, subject='still', categories=[tag()])
    item.save()
    ck = item.changekey
    before = len(exchange.request_log)
    item.save()
    assert item.changekey == ck
    assert [r for r in exchange.request_log[before:] if r.operation == 'UpdateItem'] == []
    item.delete()


def test_update_fields_sends_named_fields_and_none_clears_them(john):
    account = john
    item = CalendarItem(account=account, subject='s', location='here', start=at(7, 9), end=at(7, 10),
                        categories=[tag()])
    item.save()
    item.subject = 'local only'
    item.location = None
    item.save(update_fields=['location'])
    fresh = server_copy(account, item)
    assert fresh.location is None and fresh.subject == 's'
    assert item.changed_fields == ['subject']  # still unsaved
    item.save()
    assert server_copy(account, item).subject == 'local only'
    item.delete()


def test_conflict_resolution(john):
    account = john
    item = Message(account=account, folder=account.inbox, subject='v1', categories=[tag()])
    item.save()
    stale = server_copy(account, item)
    item.subject = 'v2'
    item.save()
    stale.subject = 'v3'
    with pytest.raises(ErrorIrresolvableConflict):
        stale.save(conflict_resolution=NEVER_OVERWRITE)
    with pytest.raises(ErrorIrresolvableConflict):
        stale.save()  # AUTO_RESOLVE: the same field changed on the server
    stale.save(conflict_resolution=ALWAYS_OVERWRITE)
    assert server_copy(account, item).subject == 'v3'
    item.refresh()
    assert item.subject == 'v3' and item.changekey == stale.changekey
    item.delete()


def test_start_in_a_new_zone_moves_the_meeting_zone(john):
    account = john
    item = CalendarItem(account=account, subject='tz', start=at(8, 9), end=at(8, 10), categories=[tag()])
    item.save()
    assert server_copy(account, item).start_timezone.ms_id == TZ.ms_id  # 'Romance Standard Time'
    london = EWSTimeZone.timezone('Europe/London')
    item.start = london.localize(EWSDateTime(2026, 3, 8, 7, 0))
    item.end = london.localize(EWSDateTime(2026, 3, 8, 9, 0))
    item.save()
    fresh = server_copy(account, item)
    assert fresh.start_timezone.ms_id == fresh.end_timezone.ms_id == london.ms_id
    assert fresh.start == item.start
    item.delete()


# --------------------------------------------------------------------------------------------------------------
# refresh, read-only fields, clear errors
# --------------------------------------------------------------------------------------------------------------

def test_refresh_reloads_every_field_in_place_and_drops_local_changes(john):
    account = john
    item = Message(account=account, folder=account.inbox, subject='orig', body='b', categories=[tag()])
    item.save()
    assert item.datetime_created is None  # server-set fields arrive with a read
    other = server_copy(account, item)
    other.subject = 'from elsewhere'
    other.body = None
    other.save()
    item.importance = 'High'  # a local change refresh() throws away
    same_object = item.refresh()
    assert same_object is item
    assert (item.subject, item.body, item.importance) == ('from elsewhere', None, 'Normal')
    assert item.changekey == other.changekey and item.changed_fields == []
    assert isinstance(item.datetime_created, EWSDateTime) and item.datetime_created.tzinfo is not None
    item.delete()


def test_clear_errors_for_misuse(john):
    account = john
    with pytest.raises(ValueError, match="has no account"):
        Message(subject='x').save()
    new = Message(account=account, subject='x')
    with pytest.raises(ValueError, match="not been created"):
        new.save(update_fields=['subject'])
    for action in (new.delete, new.soft_delete, new.move_to_trash, new.refresh,
                   lambda: new.move(account.trash), lambda: new.copy(account.trash)):
        with pytest.raises(ValueError, match="has no id"):
            action()
    with pytest.raises(AttributeError, match="read-only"):
        new.datetime_created = EWSDateTime.now(TZ)
    new.save()
    with pytest.raises(TypeError, match="list of field names"):
        new.save(update_fields='subject')
    with pytest.raises(ValueError, match="no field 'subjekt'"):
        new.save(update_fields=['subjekt'])
    with pytest.raises(ValueError, match="Message.size is read-only"):
        new.save(update_fields=['size'])
    with pytest.raises(ValueError, match="attach"):
        new.save(update_fields=['attachments'])
    with pytest.raises(ValueError, match="SendToNone"):
        CalendarItem(account=account, subject='x').save(send_meeting_invitations='SendOnlyToChanged')
    new.delete()


def test_a_received_message_keeps_its_recipients(john, exchange):
    account = john
    subject = f"frozen {tag()}"
    Message(account=exchange.account('mary@example.com'), subject=subject, to_recipients=[JOHN]).send()
    received = account.inbox.get(subject=subject)
    received.to_recipients = ['someone@example.org']
    with pytest.raises(ValueError, match="to_recipients can't be changed once the message is sent"):
        received.save()
    received.is_read = True  # flags are fine
    received.save(update_fields=['is_read'])
    assert server_copy(account, received).is_read is True
    received.delete()


def test_item_base_class_and_generic_items_are_saved_as_messages(john):
    account = john
    item = Item(account=account, folder=account.inbox, subject='generic', categories=[tag()])
    item.save()
    fresh = server_copy(account, item)
    assert isinstance(fresh, Message) and fresh.subject == 'generic'
    item.delete()


def test_timestamps_are_datetimes_near_now(john):
    account = john
    item = Task(account=account, subject='ts', categories=[tag()])
    item.save()
    item.refresh()
    now = datetime.datetime.now(datetime.timezone.utc)
    for name in ('datetime_created', 'datetime_received', 'last_modified_time'):
        value = getattr(item, name)
        assert isinstance(value, EWSDateTime) and abs((value - now).total_seconds()) < 300, name
    item.delete()
