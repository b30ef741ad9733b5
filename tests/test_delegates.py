"""Delegates over HTTP: GetDelegate/AddDelegate/UpdateDelegate/RemoveDelegate, folder rights they grant, and
meeting requests copied to delegates."""
from __future__ import annotations

import datetime
import uuid

import pytest

from exchangelib import UTC, CalendarItem, EWSDateTime
from exchangelib.errors import (ErrorAccessDenied, ErrorDelegateAlreadyExists, ErrorDelegateCannotAddOwner,
                                ErrorDelegateNoUser, ErrorNotDelegate)
from exchangelib.properties.permissions import DelegatePermissions, DelegateUser

START = EWSDateTime(2026, 4, 6, 14, tzinfo=UTC)


@pytest.fixture
def john(exchange):
    account = exchange.account("john@example.com")
    yield account
    for d in account.delegates:
        account.remove_delegate(d)
    account.deliver_meeting_requests = "DelegatesAndSendInformationToMe"


def _reviewer(**kwargs):
    return DelegateUser(user_id="ewsadmin@example.com", receive_copies_of_meeting_messages=True,
                        delegate_permissions=DelegatePermissions(calendar_folder_permission_level="Reviewer"),
                        **kwargs)


def test_reviewer_delegate_can_read_but_not_modify_the_calendar(exchange, john):
    tag = uuid.uuid4().hex[:6]
    item = CalendarItem(account=john, folder=john.calendar, subject=f"Budget {tag}", start=START,
                        end=START + datetime.timedelta(hours=1)).save()
    try:
        (added,) = john.add_delegate(_reviewer())
        assert added.delegate_permissions.calendar_folder_permission_level == "Reviewer"
        delegate = exchange.account("john@example.com", login="ewsadmin@example.com")
        calendar = delegate.folders.distinguished("calendar")
        seen = calendar.get(subject=f"Budget {tag}")
        assert seen.id == item.id and seen.start == START
        with pytest.raises(ErrorAccessDenied):
            CalendarItem(account=delegate, folder=calendar, subject="mine now", start=START,
                         end=START + datetime.timedelta(hours=1)).save()
        seen.subject = "moved to Friday"
        with pytest.raises(ErrorAccessDenied):
            seen.save()
        with pytest.raises(ErrorAccessDenied):
            seen.delete()
        with pytest.raises(ErrorAccessDenied):  # no level on the Inbox
            delegate.folders.distinguished("inbox")
        assert john.calendar.get(subject__startswith=f"Budget {tag}").subject == f"Budget {tag}"
        # The level is a folder permission: the calendar's PermissionSet shows it
        entry = john.calendar.refresh().permission_set.get("ewsadmin@example.com")
        assert entry.calendar_permission_level == "Reviewer" and entry.read_items == "FullDetails"
    finally:
        item.delete()


def test_delegates_read_back_and_per_input_errors(john):
    john.add_delegate(_reviewer(view_private_items=False), deliver_meeting_requests="DelegatesAndMe")
    (d,) = john.delegates
    assert d.user_id.primary_smtp_address == "ewsadmin@example.com"
    assert d.user_id.display_name == "EWS Service Account"
    perms = d.delegate_permissions
    assert (perms.calendar_folder_permission_level, perms.inbox_folder_permission_level) == ("Reviewer", "None")
    assert (d.receive_copies_of_meeting_messages, d.view_private_items) == (True, False)
    assert john.deliver_meeting_requests == "DelegatesAndMe"
    results = john.add_delegate([DelegateUser(user_id="ewsadmin@example.com"),
                                 DelegateUser(user_id="nobody@example.com"),
                                 DelegateUser(user_id="john@example.com"),
                                 DelegateUser(user_id="mary@example.com")])
    assert [type(r) for r in results[:3]] == [ErrorDelegateAlreadyExists, ErrorDelegateNoUser,
                                              ErrorDelegateCannotAddOwner]
    assert isinstance(results[3], DelegateUser)  # one bad input never loses the others
    assert sorted(x.user_id.primary_smtp_address for x in john.delegates) == ["ewsadmin@example.com",
                                                                              "mary@example.com"]


def test_update_and_remove(exchange, john):
    john.add_delegate(_reviewer())
    (updated,) = john.update_delegate(DelegateUser(
        user_id="ewsadmin@example.com", delegate_permissions=DelegatePermissions(calendar_folder_permission_level="Editor",
                                                                                 tasks_folder_permission_level="Author")))
    assert updated.delegate_permissions.calendar_folder_permission_level == "Editor"
    assert updated.delegate_permissions.tasks_folder_permission_level == "Author"
    assert updated.receive_copies_of_meeting_messages is True  # flags not given stay
    delegate = exchange.account("john@example.com", login="ewsadmin@example.com")
    calendar = delegate.folders.distinguished("calendar")
    mine = CalendarItem(account=delegate, folder=calendar, subject="editor wrote this", start=START,
                        end=START + datetime.timedelta(hours=1)).save()
    mine.delete()
    assert john.remove_delegate(["ewsadmin@example.com", "mary@example.com"])[0] is True
    assert isinstance(john.remove_delegate("mary@example.com")[0], ErrorNotDelegate)
    assert john.delegates == []
    assert john.calendar.refresh().permission_set.get("ewsadmin@example.com") is None


def test_meeting_requests_are_copied_to_delegates(exchange, john):
    tag = uuid.uuid4().hex[:6]
    john.add_delegate(_reviewer(), deliver_meeting_requests="DelegatesOnly")
    mary = exchange.account("mary@example.com")
    meeting = CalendarItem(account=mary, folder=mary.calendar, subject=f"Sync {tag}", start=START,
                           end=START + datetime.timedelta(hours=1), required_attendees=["john@example.com"])
    meeting.save(send_meeting_invitations="SendToAllAndSaveCopy")
    try:
        admin = exchange.account("ewsadmin@example.com")
        assert [m.subject for m in admin.inbox.filter(subject=f"Sync {tag}")] == [f"Sync {tag}"]
        assert john.inbox.filter(subject=f"Sync {tag}").count() == 0  # DelegatesOnly: the principal's copy...
        assert john.trash.filter(subject=f"Sync {tag}").count() == 1  # ...goes to Deleted Items
        john.deliver_meeting_requests = "NoForward"
        assert john.deliver_meeting_requests == "NoForward"
    finally:
        meeting.delete()


def test_bad_arguments(john):
    with pytest.raises(ValueError, match="deliver_meeting_requests"):
        john.add_delegate(_reviewer(), deliver_meeting_requests="Everyone")
    with pytest.raises(ValueError, match="email address"):
        DelegateUser(user_id="not an address")
    with pytest.raises(ValueError, match="CalendarFolderPermissionLevel|calendar_folder_permission_level"):
        DelegatePermissions(calendar_folder_permission_level="Owner")


def test_private_items_only_for_delegates_who_may_view_them(exchange, john):
    tag = uuid.uuid4().hex[:6]
    private = CalendarItem(account=john, folder=john.calendar, subject=f"Doctor {tag}", sensitivity="Private",
                           start=START, end=START + datetime.timedelta(hours=1)).save()
    public = CalendarItem(account=john, folder=john.calendar, subject=f"Standup {tag}",
                          start=START, end=START + datetime.timedelta(hours=1)).save()
    try:
        john.add_delegate(_reviewer(view_private_items=False))
        delegate = exchange.account("john@example.com", login="ewsadmin@example.com")
        calendar = delegate.folders.distinguished("calendar")
        assert [i.subject for i in calendar.filter(subject__contains=tag)] == [f"Standup {tag}"]
        (res,) = list(delegate.fetch([private.id]))
        assert isinstance(res, ErrorAccessDenied)
        john.update_delegate(DelegateUser(user_id="ewsadmin@example.com", view_private_items=True))
        assert sorted(i.subject for i in calendar.filter(subject__contains=tag)) == [f"Doctor {tag}", f"Standup {tag}"]
    finally:
        private.delete()
        public.delete()
