"""ArchiveItem, MarkAsJunk and MarkAllItemsAsRead over HTTP, one by one and as QuerySet bulk actions."""
from __future__ import annotations

import itertools
import uuid

import pytest

from exchangelib import Message
from exchangelib.errors import ErrorArchiveMailboxNotEnabled, ErrorCannotArchiveItemsInArchiveMailbox
from exchangelib.testing.users import User

_n = itertools.count(1)


@pytest.fixture
def archived(exchange):
    """A fresh mailbox with an archive."""
    n = next(_n)
    user = User(f"arch{n}", f"Arch-pw-{n}", f"arch{n}@example.com", f"Archie {n}")
    exchange.store.add_mailbox(user.primary_smtp_address, user.display_name, archive=True)
    exchange.users.add(user)
    return exchange.account(user.primary_smtp_address)


def _deliver(exchange, to, *subjects, sender="ewsadmin@example.com"):
    account = exchange.account(sender)
    for s in subjects:
        Message(account=account, subject=s, body="text", to_recipients=[to]).send(save_copy=False)


def test_archive_moves_an_item_into_the_mirrored_archive_folder(exchange, archived):
    _deliver(exchange, archived.primary_smtp_address, "keep me")
    item = archived.inbox.get(subject="keep me")
    old_id = item.id
    new = item.archive(archived.inbox)
    assert new is not None and item.id == new[0] != old_id
    assert archived.inbox.all().count() == 0
    (moved,) = archived.archive_inbox.all()
    assert moved.subject == "keep me" and moved.id == item.id
    with pytest.raises(ErrorCannotArchiveItemsInArchiveMailbox):
        moved.archive(archived.archive_inbox)


def test_archive_creates_missing_folders_and_needs_an_archive(exchange, archived):
    from exchangelib import Folder
    project = Folder(parent=archived.inbox, name="Project X").save()
    Message(account=archived, folder=project, subject="spec").save()
    results = project.all().archive(project)
    assert len(results) == 1 and isinstance(results[0], tuple)
    assert project.all().count() == 0
    mirror = archived.archive_inbox / "Project X"
    assert [m.subject for m in mirror.all()] == ["spec"]
    john = exchange.account("john@example.com")
    draft = Message(account=john, folder=john.drafts, subject=f"no archive {uuid.uuid4().hex[:6]}").save()
    try:
        with pytest.raises(ErrorArchiveMailboxNotEnabled):
            draft.archive(john.drafts)
    finally:
        draft.delete()


def test_mark_as_junk_moves_and_blocks_the_sender(exchange, archived):
    _deliver(exchange, archived.primary_smtp_address, "buy now")
    msg = archived.inbox.get(subject="buy now")
    moved = msg.mark_as_junk()
    assert moved == (msg.id, msg.changekey) and msg.folder.id == archived.junk.id
    assert [m.subject for m in archived.junk.all()] == ["buy now"]
    _deliver(exchange, archived.primary_smtp_address, "buy more")  # the sender is blocked now
    assert sorted(m.subject for m in archived.junk.all()) == ["buy more", "buy now"]
    assert archived.inbox.all().count() == 0
    results = archived.junk.filter(subject="buy more").mark_as_junk(is_junk=False, move_item=True)
    assert len(results) == 1 and isinstance(results[0], tuple)
    _deliver(exchange, archived.primary_smtp_address, "welcome back")  # unblocked
    assert sorted(m.subject for m in archived.inbox.all()) == ["buy more", "welcome back"]
    stay = archived.inbox.get(subject="welcome back")
    assert stay.mark_as_junk(is_junk=True, move_item=False) is None  # blocks, doesn't move
    assert archived.inbox.filter(subject="welcome back").count() == 1


def test_mark_all_items_as_read(exchange, archived):
    _deliver(exchange, archived.primary_smtp_address, "a", "b", "c")
    inbox = archived.inbox
    assert inbox.refresh().unread_count == 3
    inbox.mark_all_items_as_read()
    assert inbox.unread_count == 0 and inbox.refresh().unread_count == 0
    assert all(m.is_read for m in inbox.all())
    inbox.mark_all_items_as_read(read_flag=False)
    assert inbox.refresh().unread_count == 3


def test_queryset_bulk_move_copy_send(exchange, archived):
    tag = uuid.uuid4().hex[:6]
    for i in range(5):
        Message(account=archived, folder=archived.drafts, subject=f"{tag} {i}",
                to_recipients=["john@example.com"]).save()
    qs = archived.drafts.filter(subject__startswith=tag)
    qs.chunk_size = 2  # several requests, one result per item in order
    copies = qs.copy(archived.inbox)
    assert len(copies) == 5 and all(isinstance(c, tuple) for c in copies)
    moved = archived.inbox.filter(subject__startswith=tag).move(archived.junk)
    assert len(moved) == 5 and archived.inbox.all().count() == 0
    assert archived.junk.filter(subject__startswith=tag).count() == 5
    assert archived.drafts.filter(subject__startswith=tag).send() == [True] * 5
    john = exchange.account("john@example.com")
    assert john.inbox.filter(subject__startswith=tag).count() == 5
    john.inbox.filter(subject__startswith=tag).delete()
    assert archived.drafts.all().none().move(archived.junk) == []
