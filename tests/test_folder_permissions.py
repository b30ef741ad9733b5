"""Folder permissions as typed models, saved through folder.save(), and enforced by the server for other users."""
from __future__ import annotations

import datetime
import uuid

import pytest

from exchangelib import UTC, CalendarItem, EWSDateTime, Folder, Message
from exchangelib.errors import ErrorAccessDenied
from exchangelib.properties.permissions import CalendarPermission, Permission, PermissionSet, UserId
from exchangelib.services import FindFolder

START = EWSDateTime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def john(exchange):
    return exchange.account("john@example.com")


@pytest.fixture
def outsider(exchange):
    """ewsadmin opening John's mailbox without impersonation: only folder permissions let it in."""
    return exchange.account("john@example.com", login="ewsadmin@example.com")


def _grant(folder, user, level):
    folder.refresh()
    ps = folder.permission_set
    entries = ps.calendar_permissions if ps.calendar_permissions else ps.permissions
    entries[:] = [p for p in entries if p.user_id.primary_smtp_address != user]
    cls = CalendarPermission if ps.calendar_permissions else Permission
    entries.append(cls(user_id=user, **{cls.LEVEL_FIELD: level}))
    folder.save(update_fields=["permission_set"])


def test_new_folders_have_default_and_anonymous_entries(john):
    ps = john.calendar.refresh().permission_set
    assert isinstance(ps, PermissionSet)
    assert ps.get("Default").calendar_permission_level == "FreeBusyTimeOnly"
    assert ps.get("Anonymous").calendar_permission_level == "None"
    inbox_ps = john.inbox.refresh().permission_set
    assert [p.permission_level for p in inbox_ps.permissions] == ["None", "None"]


def test_levels_are_expanded_into_rights_and_round_trip(john):
    folder = Folder(parent=john.inbox, name=f"Shared {uuid.uuid4().hex[:6]}").save()
    try:
        _grant(folder, "mary@example.com", "Author")
        entry = folder.refresh().permission_set.get("mary@example.com")
        assert isinstance(entry, Permission) and entry.permission_level == "Author"
        assert (entry.can_create_items, entry.can_create_subfolders, entry.is_folder_visible) == (True, False, True)
        assert (entry.edit_items, entry.delete_items, entry.read_items) == ("Owned", "Owned", "FullDetails")
        custom = Permission(user_id=UserId(primary_smtp_address="ewsadmin@example.com"), read_items="FullDetails",
                            is_folder_visible=True, can_create_items=True)
        assert custom.permission_level == "Custom"
        folder.permission_set.permissions.append(custom)
        folder.save(update_fields=["permission_set"])
        got = folder.refresh().permission_set.get("EWSADMIN@example.com")
        assert (got.permission_level, got.can_create_items, got.edit_items) == ("Custom", True, "None")
    finally:
        folder.delete()


def test_none_sees_nothing(john, outsider):
    with pytest.raises(ErrorAccessDenied):
        outsider.folders.distinguished("inbox")
    msg = Message(account=john, folder=john.drafts, subject="private").save()
    try:
        (res,) = list(outsider.fetch([msg.id]))
        assert isinstance(res, ErrorAccessDenied)
    finally:
        msg.delete()


def test_reviewer_reads_but_cannot_write(john, outsider, exchange):
    tag = uuid.uuid4().hex[:6]
    item = CalendarItem(account=john, folder=john.calendar, subject=f"Board {tag}", start=START,
                        end=START + datetime.timedelta(hours=1)).save()
    _grant(john.calendar, "ewsadmin@example.com", "Reviewer")
    try:
        cal = outsider.folders.distinguished("calendar")
        seen = cal.get(subject=f"Board {tag}")
        assert seen.id == item.id
        with pytest.raises(ErrorAccessDenied):
            CalendarItem(account=outsider, folder=cal, subject="sneaky", start=START,
                         end=START + datetime.timedelta(hours=1)).save()
        seen.subject = "changed"
        with pytest.raises(ErrorAccessDenied):
            seen.save()
        with pytest.raises(ErrorAccessDenied):
            seen.delete()
        cal.refresh()  # a reviewer sees the folder and its permissions...
        assert cal.permission_set.get("ewsadmin@example.com").calendar_permission_level == "Reviewer"
        with pytest.raises(ErrorAccessDenied):  # ...but changing them needs IsFolderOwner
            cal.save(update_fields=["permission_set"])
        assert john.calendar.get(subject__startswith=f"Board {tag}").id == item.id  # unchanged
    finally:
        _grant(john.calendar, "ewsadmin@example.com", "None")
        item.delete()


def test_editor_may_write(john, outsider):
    folder = Folder(parent=john.inbox, name=f"Team {uuid.uuid4().hex[:6]}").save()
    try:
        _grant(folder, "ewsadmin@example.com", "Editor")
        with pytest.raises(ErrorAccessDenied):  # the grant is for this folder only
            outsider.folders.distinguished("inbox")
        shared = Folder(account=outsider, folder_id=folder.id)
        note = Message(account=outsider, folder=shared, subject="from a colleague").save()
        note.subject = "edited"
        note.save(update_fields=["subject"])
        assert folder.get(subject="edited").id == note.id
        note.delete()
        assert folder.all().count() == 0
    finally:
        folder.delete()


def test_find_folder_shows_other_users_only_visible_folders(john, outsider):
    tag = uuid.uuid4().hex[:6]
    shown = Folder(parent=john.inbox, name=f"Shown {tag}").save()
    hidden = Folder(parent=john.inbox, name=f"Hidden {tag}").save()
    try:
        _grant(john.inbox, "ewsadmin@example.com", "Reviewer")
        _grant(shown, "ewsadmin@example.com", "Reviewer")
        # (FindFolder directly here; navigation through the Account's folder tree: see the delegate test below)
        names = [f.name for f in FindFolder(account=outsider).call(outsider.folders.distinguished("inbox"))]
        assert f"Shown {tag}" in names and f"Hidden {tag}" not in names
        assert {f"Shown {tag}", f"Hidden {tag}"} <= {f.name for f in john.inbox.children}
    finally:
        _grant(john.inbox, "ewsadmin@example.com", "None")
        shown.delete()
        hidden.delete()


def test_attachments_follow_the_folder_permissions(john, outsider):
    from exchangelib import FileAttachment
    folder = Folder(parent=john.inbox, name=f"Files {uuid.uuid4().hex[:6]}").save()
    try:
        msg = Message(account=john, folder=folder, subject="with file")
        msg.attach(FileAttachment(name="a.txt", content=b"hello"))
        msg.save()
        _grant(folder, "ewsadmin@example.com", "Reviewer")
        theirs = Folder(account=outsider, folder_id=folder.id).get(subject="with file")
        (att,) = theirs.attachments
        assert att.content == b"hello"  # a reviewer reads attachments...
        with pytest.raises(ErrorAccessDenied):  # ...but can't add any
            theirs.attach(FileAttachment(name="b.txt", content=b"no"))
    finally:
        folder.delete()


def test_author_changes_only_its_own_items(john, outsider):
    folder = Folder(parent=john.inbox, name=f"Authors {uuid.uuid4().hex[:6]}").save()
    try:
        Message(account=john, folder=folder, subject="johns").save()
        _grant(folder, "ewsadmin@example.com", "Author")
        shared = Folder(account=outsider, folder_id=folder.id)
        mine = Message(account=outsider, folder=shared, subject="mine").save()
        mine.subject = "mine, edited"
        mine.save(update_fields=["subject"])  # EditItems=Owned: its own item
        johns = shared.get(subject="johns")
        johns.subject = "hijacked"
        with pytest.raises(ErrorAccessDenied):
            johns.save(update_fields=["subject"])
        with pytest.raises(ErrorAccessDenied):
            johns.delete()
        mine.delete()  # DeleteItems=Owned
        assert sorted(m.subject for m in folder.all()) == ["johns"]
    finally:
        folder.delete()


def test_a_delegate_without_rights_on_the_root_navigates_below_its_folders(john, outsider):
    """Real delegations often grant a folder and its subfolders, not the mailbox root: the folder tree then can't be
    read from the root (ErrorAccessDenied), and navigation goes folder by folder from what the user may see."""
    name = f"Projects {uuid.uuid4().hex[:6]}"
    top = Folder(parent=john.inbox, name=name).save()
    sub = Folder(parent=top, name="Alpha").save()
    hidden = Folder(parent=top, name="Private").save()
    try:
        for folder in (john.inbox, top, sub):
            _grant(folder, "ewsadmin@example.com", "Reviewer")
        Message(account=john, folder=sub, subject="spec").save()
        with pytest.raises(ErrorAccessDenied):
            outsider.root.refresh()  # really no rights on the root
        inbox = outsider.inbox
        assert [f.name for f in inbox.children] == [name]
        projects = inbox / name
        assert projects.id == top.id
        assert [f.name for f in projects.children] == ["Alpha"]  # 'Private' is not visible to this user
        alpha = projects / "Alpha"
        assert [m.subject for m in alpha.all()] == ["spec"]
        assert [f.name for f in projects.walk()] == ["Alpha"]
        assert [f.name for f in inbox.glob(f"{name}/*")] == ["Alpha"]
        assert alpha.parent.id == top.id
        with pytest.raises(Exception):
            outsider.inbox / "Private"
    finally:
        hidden.delete()
        sub.delete()
        top.delete()
        _grant(john.inbox, "ewsadmin@example.com", "None")
