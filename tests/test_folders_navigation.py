"""Folder navigation over HTTP against the strict local server: parent, root, children, walk(), glob(),
``/``, parts, absolute, tree(), counters, ``account.folders[...]`` and the cached hierarchy.

Each test gets a fresh mailbox. Trees are built with one Account object and read back through a
second one (``reader``), so the navigation works from what the server returns, not from the
objects the test created. The ``exchange`` fixture fails a test whose requests or responses did not
validate against the EWS schema.
"""
from __future__ import annotations

import itertools
import threading
from typing import Dict

import pytest

from exchangelib import DELEGATE, Account, CalendarFolder, ContactsFolder, Folder, Message
from exchangelib.errors import ErrorFolderNotFound, ErrorNoPublicFolderReplicaAvailable
from exchangelib.folders import (ArchiveInbox, Calendar, Contacts, Inbox, MsgFolderRoot, RecipientCache, Root,
                                 SearchFolder, SyncIssues, Tasks)
from exchangelib.folders.collection import FolderTree
from exchangelib.folders.collections import FolderCollection
from exchangelib.folders.navigation import glob_escape
from exchangelib.services import FindFolder
from exchangelib.testing import LocalExchange
from exchangelib.testing.users import User

_users = itertools.count(1)


def new_account(server: LocalExchange, archive: bool = False) -> Account:
    n = next(_users)
    address = f"nav{n}@example.com"
    user = User(f"nav{n}", f"Nav-user-{n}-pw", address, f"Navigator {n}")
    if archive:
        server.store.add_mailbox(address, user.display_name, archive=True)
        server.users.add(user)
    else:
        server.add_user(user)
    return server.account(address)


def reader(account: Account) -> Account:
    """Another client of the same mailbox, with its own (empty) folder cache."""
    return Account(account.primary_smtp_address, config=account.config, access_type=DELEGATE)


def mk(parent, name: str, cls=Folder, **fields):
    f = cls(parent=parent, name=name, **fields)
    f.save()
    return f


@pytest.fixture
def account(exchange: LocalExchange) -> Account:
    return new_account(exchange)


def build_tree(account: Account) -> None:
    """Inbox/
         archive/{2026, exchangelib issues, Last Job, Mom}
         todos
         Ødd ☃ names/{a/b/{2026}, star*, what?, [x], ..}
    """
    inbox = account.inbox
    archive = mk(inbox, "archive")
    for name in ("Last Job", "exchangelib issues", "Mom", "2026"):
        mk(archive, name)
    mk(inbox, "todos")
    odd = mk(inbox, "Ødd ☃ names")
    slash = mk(odd, "a/b")
    mk(slash, "2026")
    for name in ("star*", "what?", "[x]", ".."):
        mk(odd, name)


def names(folders) -> list:
    return [f.name for f in folders]


# --- parent, root, children, walk --------------------------------------------------------------------

def test_parent_root_children_and_walk_follow_the_servers_tree(account: Account):
    build_tree(account)
    r = reader(account)
    inbox = r.inbox
    assert inbox.parent is r.msg_folder_root
    assert inbox.parent.parent is r.root
    assert r.root.parent is None
    assert inbox.root is r.root and (inbox / "archive" / "Mom").root is r.root
    children = inbox.children
    assert isinstance(children, FolderCollection) and next(children).name == "archive"  # as the peer's
    children = inbox.children
    assert names(children) == ["archive", "todos", "Ødd ☃ names"]  # by name, case-insensitively
    assert names((inbox / "archive").children) == ["2026", "exchangelib issues", "Last Job", "Mom"]
    assert names(inbox.walk()) == ["archive", "2026", "exchangelib issues", "Last Job", "Mom", "todos",
                                   "Ødd ☃ names", "..", "[x]", "a/b", "2026", "star*", "what?"]
    assert isinstance(inbox.walk(), FolderCollection) and len(inbox.walk()) == 13
    # The well-known folders found by navigating are the account's shortcut objects
    top = r.root / "Top of Information Store"
    assert top is r.msg_folder_root and isinstance(top, MsgFolderRoot)
    assert top / "Inbox" is r.inbox and isinstance(r.inbox, Inbox)
    assert top / "Calendar" is r.calendar and isinstance(r.calendar, Calendar)


def test_a_new_folder_takes_account_and_parent_before_it_is_saved(account: Account):
    f = Folder(parent=account.inbox, name="draft")
    assert f.account is account and f.parent is account.inbox
    assert f.root is account.root
    assert list(f.children) == [] and list(f.walk()) == []
    assert f.absolute == "/root/Top of Information Store/Inbox/draft"
    with pytest.raises(TypeError, match="parent must be a folder"):
        Folder(parent="inbox", name="x")


# --- glob ------------------------------------------------------------------------------------------------

def test_glob_forms_from_the_seed(account: Account):
    build_tree(account)
    inbox = reader(account).inbox
    archive = inbox / "archive"
    assert inbox.glob("arch*") == [archive]
    assert inbox.glob("*/2026") == [archive / "2026"]
    assert inbox.glob("**/2026") == [archive / "2026", inbox / "Ødd ☃ names" / "a/b" / "2026"]
    assert names(inbox.glob("*")) == ["archive", "todos", "Ødd ☃ names"]
    assert inbox.glob("**")[0] is inbox and len(inbox.glob("**")) == 1 + len(list(inbox.walk()))
    assert inbox.glob("[at]*") == [archive, inbox / "todos"]
    assert inbox.glob("[!at]*") == [inbox / "Ødd ☃ names"]
    assert inbox.glob("?odos") == [inbox / "todos"]
    assert inbox.glob("nothing*") == []
    assert inbox.glob("ARCHIVE") == []  # names are matched case-sensitively, as in a Unix shell


def test_glob_walks_up_and_from_the_root(account: Account):
    build_tree(account)
    r = reader(account)
    inbox = r.inbox
    archive = inbox / "archive"
    assert archive.glob("..") == [inbox]
    assert archive.glob("../todos") == [inbox / "todos"]
    assert archive.glob("../../Inbox/archive/Mom") == [archive / "Mom"]
    assert r.root.glob("..") == []  # nothing above the root
    # A leading '/' starts above the root, so absolute paths work as patterns
    assert archive.glob("/root/Top of Information Store/Inbox") == [inbox]
    assert archive.glob("/root") == [r.root]
    assert archive.glob("/*/Top*/In*") == [inbox]
    assert archive.glob("/**/Mom") == [archive / "Mom"]
    assert inbox.glob("todos/") == [inbox / "todos"] and inbox.glob("archive//Mom") == [archive / "Mom"]


def test_names_with_slashes_and_glob_characters_are_found_exactly(account: Account):
    build_tree(account)
    odd = reader(account).inbox / "Ødd ☃ names"
    by_name: Dict[str, Folder] = {f.name: f for f in odd.children}
    assert sorted(by_name) == ["..", "[x]", "a/b", "star*", "what?"]
    for name, folder in by_name.items():
        if name != "..":
            assert odd / name is folder  # '/' takes the whole string as one name
        assert odd.glob(glob_escape(name)) == [folder]
    slash = by_name["a/b"]
    assert odd / "a/b" / "2026" is next(slash.children)
    assert odd.glob("a\\/b") == [slash]
    assert odd.glob("a/b") == []  # a child 'a' with a child 'b': there is none
    assert odd.glob("a?b") == [slash] and odd.glob("*/2026") == [next(slash.children)]
    assert odd.glob("star\\*") == [by_name["star*"]]
    assert odd.glob("what\\?") == [by_name["what?"]]
    assert odd.glob("\\[x]") == [by_name["[x]"]] and odd.glob("[[]x]") == [by_name["[x]"]]
    assert odd.glob("[x]") == []  # a character class: a folder named 'x'
    assert odd.glob("\\..") == [by_name[".."]] and odd.glob("..") == [odd.parent]
    assert odd / ".." is odd.parent  # '..' is always the parent for '/'


# --- '/', parts, absolute -----------------------------------------------------------------------------

def test_slash_operator_parts_and_absolute(account: Account):
    build_tree(account)
    r = reader(account)
    mom = r.root / "Top of Information Store" / "Inbox" / "archive" / "Mom"
    assert names(mom.parts) == ["root", "Top of Information Store", "Inbox", "archive", "Mom"]
    assert mom.parts[0] is r.root and mom.parts[-1] is mom
    assert mom.absolute == "/root/Top of Information Store/Inbox/archive/Mom"
    assert mom / ".." / ".." is r.inbox
    assert r.root.absolute == "/root" and r.root.parts == [r.root]
    slash = r.inbox / "Ødd ☃ names" / "a/b"
    assert slash.absolute == "/root/Top of Information Store/Inbox/Ødd ☃ names/a\\/b"
    assert r.inbox.glob(slash.absolute) == [slash]  # the escaped path is also a pattern that finds it
    with pytest.raises(ErrorFolderNotFound, match="No subfolder named 'Dad'"):
        r.inbox / "archive" / "Dad"
    with pytest.raises(ErrorFolderNotFound, match="root folder"):
        r.root / ".."
    with pytest.raises(TypeError, match="folder name"):
        r.inbox / 3


# --- tree() ---------------------------------------------------------------------------------------------

def test_tree_is_drawn_with_box_drawing_characters(account: Account):
    demo = mk(account.msg_folder_root, "root")
    mk(mk(demo, "inbox"), "todos")
    archive = mk(demo, "archive")
    for name in ("Last Job", "exchangelib issues", "Mom"):
        mk(archive, name)
    mk(mk(archive, "line\nbreak"), "leaf")
    expected = (
        "root\n"
        "├── archive\n"
        "│   ├── exchangelib issues\n"
        "│   ├── Last Job\n"
        "│   ├── line\\nbreak\n"
        "│   │   └── leaf\n"
        "│   └── Mom\n"
        "└── inbox\n"
        "    └── todos"
    )
    assert demo.tree() == expected  # from the objects just created
    assert (reader(account).msg_folder_root / "root").tree() == expected  # and as the server reports it
    assert (demo / "inbox" / "todos").tree() == "todos"


def test_root_tree_shows_the_whole_mailbox(account: Account):
    mk(account.inbox, "todos")
    lines = reader(account).root.tree().splitlines()
    assert lines[0] == "root"
    top = next(i for i, line in enumerate(lines) if line[4:] == "Top of Information Store")
    assert lines[top][:4] in ("├── ", "└── ")
    indent = "│   " if lines[top].startswith("├") else "    "
    assert indent + "├── Inbox" in lines and indent + "│   └── todos" in lines
    assert all(line[:4] in ("├── ", "└── ", "│   ", "    ") for line in lines[1:])


# --- counters ---------------------------------------------------------------------------------------------

def test_counters_and_refresh(account: Account):
    inbox = account.inbox
    assert (inbox.total_count, inbox.unread_count, inbox.child_folder_count) == (0, 0, 0)
    results = inbox.add_items([Message(subject="one", is_read=False), Message(subject="two", is_read=False),
                               Message(subject="three", is_read=True)])
    assert not any(isinstance(r, Exception) for r in results)
    mk(inbox, "sub")
    assert inbox.child_folder_count == 1  # kept in step by save()
    assert inbox.total_count == 0  # items added elsewhere: not known until refresh()
    assert inbox.refresh() is inbox
    assert (inbox.total_count, inbox.unread_count, inbox.child_folder_count) == (3, 2, 1)
    # The tree carries the counters too
    fresh = reader(account).root / "Top of Information Store" / "Inbox"
    assert (fresh.total_count, fresh.unread_count, fresh.child_folder_count) == (3, 2, 1)
    with pytest.raises(ValueError, match="has not been saved"):
        Folder(parent=inbox, name="never saved").refresh()


# --- account.folders[...] ---------------------------------------------------------------------------------

def test_folders_by_kind(account: Account):
    holidays = mk(account.calendar, "Holidays", CalendarFolder)
    birthdays = mk(account.msg_folder_root, "Birthdays", CalendarFolder, folder_class="IPF.Appointment.Birthday")
    mk(account.inbox, "not a calendar")
    r = reader(account)
    calendars = r.folders[Calendar]
    assert calendars[0] is r.calendar  # the default calendar first
    assert sorted(f.id for f in calendars) == sorted([r.calendar.id, holidays.id, birthdays.id])
    assert all(isinstance(f, CalendarFolder) for f in calendars)
    assert {f.id for f in r.folders[CalendarFolder]} == {f.id for f in calendars}
    contacts = r.folders[Contacts]
    assert contacts[0] is r.contacts and any(isinstance(f, RecipientCache) for f in contacts)
    assert all(isinstance(f, ContactsFolder) for f in contacts)
    assert r.folders[Tasks] == [r.tasks]
    assert r.folders[Root] == [r.root]
    assert all(isinstance(f, SearchFolder) for f in r.folders[SearchFolder]) and r.folders[SearchFolder]
    assert "not a calendar" in names(r.folders[Folder]) and "not a calendar" in names(r.folders[Inbox])
    assert len(r.folders) == len(list(r.folders)) == 1 + len(list(r.root.walk()))
    assert r.inbox in r.folders and r.folders.get(holidays.id).name == "Holidays"
    with pytest.raises(TypeError, match="folder class"):
        r.folders["calendar"]


def test_items_go_to_the_calendar_chosen_from_account_folders(account: Account):
    mk(account.calendar, "Team", CalendarFolder)
    team = next(f for f in reader(account).folders[Calendar] if f.name == "Team")
    assert team.parent.name == "Calendar" and team.absolute.endswith("/Calendar/Team")


# --- the cache ----------------------------------------------------------------------------------------------

def test_hierarchy_is_read_once_until_the_root_is_refreshed(exchange: LocalExchange, account: Account):
    build_tree(account)
    r = reader(account)
    exchange.reset_stats()
    inbox = r.inbox
    list(r.root.walk())
    inbox.glob("**/2026")
    r.root.tree()
    _ = (inbox / "archive" / "Mom").absolute, r.folders[Calendar], inbox.parent
    assert exchange.request_count("FindFolder") == 1

    # Someone else changes the mailbox: the cache doesn't notice...
    mk(account.inbox / "archive", "Dad")
    (account.inbox / "todos").delete()
    assert names((inbox / "archive").children) == ["2026", "exchangelib issues", "Last Job", "Mom"]
    # ...until the root is refreshed
    archive_before = inbox / "archive"
    exchange.reset_stats()
    r.root.refresh()
    assert exchange.request_count("FindFolder") == 1
    assert names((inbox / "archive").children) == ["2026", "Dad", "exchangelib issues", "Last Job", "Mom"]
    assert "todos" not in names(inbox.children)
    # The same objects are kept across a reload
    assert inbox / "archive" is archive_before and r.root / "Top of Information Store" / "Inbox" is inbox
    r.folders.refresh()
    assert exchange.request_count("FindFolder") == 2


def test_threads_sharing_an_account_read_the_hierarchy_once(exchange: LocalExchange, account: Account):
    build_tree(account)
    r = reader(account)
    exchange.reset_stats()
    results: list = []

    def navigate() -> None:
        results.append((names(r.root.walk()), (r.inbox / "archive" / "Mom").absolute))

    threads = [threading.Thread(target=navigate) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all(res == results[0] for res in results)
    assert exchange.request_count("FindFolder") == 1


def test_find_folder_pages_through_big_trees(exchange: LocalExchange, account: Account, monkeypatch):
    for i in range(7):
        mk(mk(account.inbox, f"f{i}"), "leaf")
    everything = names(reader(account).folders)
    monkeypatch.setattr(FindFolder, "PAGE_SIZE", 4)
    exchange.reset_stats()
    paged = reader(account)
    assert names(paged.folders) == everything
    assert exchange.request_count("FindFolder") == -(-(len(everything) - 1) // 4)  # the root itself isn't found
    assert [f.name for f in paged.inbox.glob("*/leaf")] == ["leaf"] * 7


def test_a_shallow_tree_reads_one_level_at_a_time(exchange: LocalExchange, account: Account):
    build_tree(account)
    deep_names = names(reader(account).root.walk())
    tree = FolderTree(reader(account), deep=False)
    exchange.reset_stats()
    inbox = tree.root / "Top of Information Store" / "Inbox"
    assert exchange.request_count("FindFolder") == 2  # root's and Top of Information Store's children
    assert names(tree.walk(tree.root)) == deep_names
    listed = exchange.request_count("FindFolder")
    assert names(tree.walk(tree.root)) == deep_names
    assert exchange.request_count("FindFolder") == listed  # each level is read once
    assert tree.parent_of(inbox).name == "Top of Information Store"


def test_exchange_2010_finds_well_known_folders_without_distinguished_folder_id(make_exchange):
    server = make_exchange(version="2010_SP2")
    account = new_account(server)
    mk(account.calendar, "Holidays", CalendarFolder)
    r = reader(account)
    inbox = r.root / "Top of Information Store" / "Inbox"
    assert isinstance(inbox, Inbox) and inbox is r.inbox
    assert [f.name for f in r.folders[Calendar]] == ["Calendar", "Holidays"]
    assert r.folders[Calendar][0] is r.calendar


# --- archive and public folders -------------------------------------------------------------------------

def test_archive_mailbox_has_its_own_tree(exchange: LocalExchange):
    account = new_account(exchange, archive=True)
    root = account.archive_root
    assert root.parent is None and root.root is root
    inbox = account.archive_inbox
    assert isinstance(inbox, ArchiveInbox)
    assert inbox.parent is account.archive_msg_folder_root and inbox.root is root
    assert inbox.absolute == "/root/Top of Information Store/Inbox"
    kept = mk(inbox, "2019")
    assert (reader(account).archive_inbox / "2019").id == kept.id
    assert kept.root is root and kept.parent is inbox
    assert root.tree().splitlines()[:3] == ["root", "├── Recoverable Items", "│   ├── Deletions"]
    assert inbox not in account.folders  # the mailbox's tree doesn't hold the archive
    mail = account.folders[ArchiveInbox]  # the archive's mail folders, its Inbox first
    assert mail[0] is inbox and names(mail) == ["Inbox", "Deleted Items", "2019"]


def test_missing_archive_and_public_folders_raise_what_exchange_answers(account: Account):
    with pytest.raises(ErrorFolderNotFound):
        account.archive_root
    with pytest.raises(ErrorFolderNotFound):
        account.archive_inbox
    with pytest.raises(ErrorNoPublicFolderReplicaAvailable):
        account.public_folders_root
    with pytest.raises(ValueError, match="well-known folder"):
        account.folders.distinguished("no-such-folder")


def test_other_well_known_folders(account: Account):
    assert account.journal.name == "Journal" and account.notes.name == "Notes"
    assert account.search_folders.parent is account.root
    assert account.recoverable_items_root.name == "Recoverable Items"
    for shortcut, name in (("calendar", "Calendar"), ("trash", "Deleted Items"), ("drafts", "Drafts"),
                           ("inbox", "Inbox"), ("outbox", "Outbox"), ("sent", "Sent Items"),
                           ("junk", "Junk Email"), ("tasks", "Tasks"), ("contacts", "Contacts")):
        folder = getattr(account, shortcut)
        assert folder.name == name and folder.parent is account.msg_folder_root, shortcut
    assert account.folders.distinguished(SyncIssues) is account.msg_folder_root / "Sync Issues"
