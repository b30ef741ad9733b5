"""Creating, renaming, moving, emptying and deleting folders over HTTP against the strict local server.

Each test gets a fresh mailbox. What a change did is checked twice: in the cached tree of the
Account that made it, and through a second Account (``reader``) that reads the hierarchy from the
server, so the cache and the server must agree.
"""
from __future__ import annotations

import itertools

import pytest

from exchangelib import DELEGATE, Account, CalendarFolder, Folder, Message, TasksFolder
from exchangelib.errors import (ErrorCannotEmptyFolder, ErrorDeleteDistinguishedFolder, ErrorFolderExists,
                                ErrorFolderNotFound, ErrorInvalidPropertyDelete, ErrorMoveCopyFailed,
                                ErrorMoveDistinguishedFolder)
from exchangelib.folders import Inbox
from exchangelib.testing import LocalExchange
from exchangelib.testing.users import User

_users = itertools.count(1)


@pytest.fixture
def account(exchange: LocalExchange) -> Account:
    n = next(_users)
    user = exchange.add_user(User(f"crud{n}", f"Crud-user-{n}-pw", f"crud{n}@example.com", f"Folder Maker {n}"))
    return exchange.account(user.primary_smtp_address)


def reader(account: Account) -> Account:
    """Another client of the same mailbox, with its own (empty) folder cache."""
    return Account(account.primary_smtp_address, config=account.config, access_type=DELEGATE)


def names(folders) -> list:
    return [f.name for f in folders]


def test_create_rename_delete_as_in_the_seed(account: Account):
    inbox = account.inbox
    f = Folder(parent=account.inbox, name="My New Folder")
    assert f.save() is f
    assert f.id and f.changekey and f.folder_class == "IPF.Note"
    assert (f.total_count, f.child_folder_count, f.unread_count) == (0, 0, 0)
    assert inbox / "My New Folder" is f and f.parent is inbox
    assert inbox.child_folder_count == 1
    assert "My New Folder" in names(reader(account).inbox.children)

    changekey = f.changekey
    f.name = "My New Subfolder"
    f.save()
    assert f.changekey != changekey
    assert inbox / "My New Subfolder" is f
    with pytest.raises(ErrorFolderNotFound):
        inbox / "My New Folder"
    assert names(reader(account).inbox.children) == ["My New Subfolder"]

    f.delete()
    assert f.id is None
    assert list(inbox.children) == [] and inbox.child_folder_count == 0
    assert list(reader(account).inbox.children) == []


def test_folders_of_other_kinds(account: Account):
    cal = CalendarFolder(parent=account.calendar, name="Holidays")
    cal.save()
    tasks = TasksFolder(parent=account.tasks, name="Chores")
    tasks.save()
    r = reader(account)
    fetched = r.calendar / "Holidays"
    assert isinstance(fetched, CalendarFolder) and fetched.folder_class == "IPF.Appointment"
    assert isinstance(r.tasks / "Chores", TasksFolder)
    assert cal.folder_class == "IPF.Appointment" and tasks.folder_class == "IPF.Task"


def test_existing_names_raise_folder_exists(account: Account):
    Folder(parent=account.inbox, name="Taken").save()
    dup = Folder(parent=account.inbox, name="taken")  # Exchange compares names case-insensitively
    with pytest.raises(ErrorFolderExists):
        dup.save()
    assert dup.id is None and names(account.inbox.children) == ["Taken"]
    other = Folder(parent=account.inbox, name="Other")
    other.save()
    other.name = "Taken"
    with pytest.raises(ErrorFolderExists):
        other.save()
    assert names(reader(account).inbox.children) == ["Other", "Taken"]


def test_well_known_folders_cannot_be_deleted_moved_or_created(account: Account):
    with pytest.raises(ErrorDeleteDistinguishedFolder):
        account.inbox.delete()
    with pytest.raises(ErrorMoveDistinguishedFolder):
        account.inbox.move(account.trash)
    assert account.inbox.parent is account.msg_folder_root
    with pytest.raises(ValueError, match="well-known folder"):
        Inbox(account=account).save()


def test_save_needs_a_parent_and_a_name(account: Account):
    with pytest.raises(ValueError, match="needs a parent"):
        Folder(account=account, name="orphan").save()
    with pytest.raises(ValueError, match="name is required"):
        Folder(parent=account.inbox).save()
    with pytest.raises(ValueError, match="has not been created yet"):
        Folder(parent=account.inbox, name="x").save(update_fields=["name"])
    unsaved = Folder(parent=account.inbox, name="unsaved")
    for call in (unsaved.delete, unsaved.empty, lambda: unsaved.move(account.drafts)):
        with pytest.raises(ValueError, match="has not been saved"):
            call()
    assert list(account.inbox.children) == []


def test_update_fields(account: Account):
    f = Folder(parent=account.inbox, name="before")
    f.save()
    f.name = "after"
    f.save(update_fields=["name"])
    assert (reader(account).inbox / "after").id == f.id
    with pytest.raises(TypeError, match="list of field names"):
        f.save(update_fields="name")
    with pytest.raises(ValueError, match="no field 'colour'"):
        f.save(update_fields=["colour"])
    with pytest.raises(ValueError, match="read-only"):
        f.save(update_fields=["total_count"])
    f.name = None
    with pytest.raises(ErrorInvalidPropertyDelete):  # Exchange won't let a folder lose its name
        f.save(update_fields=["name"])


def test_a_renamed_folder_found_through_another_object_updates_the_cache(account: Account):
    Folder(parent=account.inbox, name="old").save()
    r = reader(account)
    cached = r.inbox / "old"
    # A second object for the same folder (as if fetched separately) saves the rename
    twin = Folder(account=r, id=cached.id, changekey=cached.changekey, name="new")
    twin.save(update_fields=["name"])
    assert cached.name == "new" and cached.changekey == twin.changekey
    assert r.inbox / "new" is cached


def test_delete_to_deleted_items_and_soft_delete(account: Account):
    f = Folder(parent=account.inbox, name="Old stuff")
    f.save()
    folder_id = f.id
    f.delete(delete_type="MoveToDeletedItems")
    assert f.id == folder_id  # still exists, now in Deleted Items
    assert f.parent is account.trash and f.absolute == "/root/Top of Information Store/Deleted Items/Old stuff"
    assert account.trash / "Old stuff" is f and list(account.inbox.children) == []
    assert (reader(account).trash / "Old stuff").id == folder_id
    f.delete(delete_type="SoftDelete")
    assert f.id is None and list(account.trash.children) == []
    assert list(reader(account).trash.children) == []
    with pytest.raises(ValueError, match="delete_type"):
        Folder(parent=account.inbox, name="x").save().delete(delete_type="Shred")


def test_delete_takes_the_subtree_with_it(account: Account):
    top = Folder(parent=account.inbox, name="top").save()
    mid = Folder(parent=top, name="mid").save()
    Folder(parent=mid, name="leaf").save()
    assert len(account.inbox.glob("**")) == 4
    top.delete()
    assert account.inbox.glob("**") == [account.inbox]
    assert account.folders.get(mid.id) is None
    assert reader(account).inbox.glob("**/leaf") == []


def test_empty(account: Account):
    f = Folder(parent=account.inbox, name="Full").save()
    sub = Folder(parent=f, name="Sub").save()
    f.add_items([Message(subject=s, is_read=False) for s in ("a", "b")])
    f.refresh()
    assert (f.total_count, f.unread_count) == (2, 2)
    f.empty()
    assert (f.total_count, f.unread_count) == (0, 0)
    assert f.find_items() == [] and f / "Sub" is sub
    f.refresh()
    assert (f.total_count, f.child_folder_count) == (0, 1)
    f.empty(delete_sub_folders=True)
    assert list(f.children) == [] and account.folders.get(sub.id) is None
    assert list((reader(account).inbox / "Full").children) == []
    with pytest.raises(ErrorCannotEmptyFolder):
        account.root.empty()
    with pytest.raises(TypeError, match="delete_sub_folders"):
        f.empty(delete_sub_folders="yes")


def test_move(account: Account):
    f = Folder(parent=account.inbox, name="Wandering").save()
    Folder(parent=f, name="child").save()
    f.move(account.drafts)
    assert f.parent is account.drafts and account.drafts / "Wandering" is f
    assert f.absolute == "/root/Top of Information Store/Drafts/Wandering"
    assert (f / "child").absolute == "/root/Top of Information Store/Drafts/Wandering/child"
    assert list(account.inbox.children) == []
    assert (account.inbox.child_folder_count, account.drafts.child_folder_count) == (0, 1)
    r = reader(account)
    assert names(r.drafts.walk()) == ["Wandering", "child"] and list(r.inbox.children) == []
    with pytest.raises(ErrorMoveCopyFailed):
        f.move(f / "child")  # into itself
    Folder(parent=account.inbox, name="Wandering").save()
    with pytest.raises(ErrorFolderExists):
        f.move(account.inbox)
    assert f.parent is account.drafts
    with pytest.raises(TypeError, match="folder to move into"):
        f.move("inbox")


def test_cache_stays_coherent_without_any_reload(exchange: LocalExchange, account: Account):
    inbox = account.inbox
    list(inbox.children)  # read the tree once
    exchange.reset_stats()
    a = Folder(parent=inbox, name="a").save()
    b = Folder(parent=a, name="b").save()
    b.name = "b2"
    b.save()
    b.move(inbox)
    a.delete()
    assert names(inbox.walk()) == ["b2"] and inbox.glob("**/b2") == [b]
    assert exchange.request_count("FindFolder") == 0
    # ...and matches what the server reports
    assert names(reader(account).inbox.walk()) == ["b2"]
