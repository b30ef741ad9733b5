"""The archive mailbox and public folders through the ordinary folder API, end to end over HTTP."""
from __future__ import annotations

import pytest

from exchangelib import Folder, Message, PostItem
from exchangelib.errors import ErrorAccessDenied, ErrorFolderNotFound, ErrorNoPublicFolderReplicaAvailable
from exchangelib.properties.permissions import Permission
from exchangelib.testing.ops.public_folders import enable_public_folders
from exchangelib.testing.users import User


def test_archive_mailbox_works_like_the_primary(make_exchange):
    server = make_exchange()
    user = User("arc", "Arc-pw-1", "arc@example.com", "Archie")
    server.store.add_mailbox(user.primary_smtp_address, user.display_name, archive=True)
    server.users.add(user)
    account = server.account("arc@example.com")
    assert account.archive_root.id and account.archive_msg_folder_root.id
    years = Folder(parent=account.archive_msg_folder_root, name="2019").save()
    Message(account=account, folder=years, subject="old", body="kept").save()
    assert [m.subject for m in years.all()] == ["old"]
    assert "2019" in [f.name for f in account.archive_msg_folder_root.children]
    assert account.archive_inbox.all().count() == 0
    with pytest.raises(ErrorFolderNotFound):  # john has no archive
        server.account("john@example.com").archive_root


def test_public_folders_hierarchy_with_items(make_exchange):
    server = make_exchange()
    john, mary = server.account("john@example.com"), server.account("mary@example.com")
    with pytest.raises(ErrorNoPublicFolderReplicaAvailable):
        john.public_folders_root
    enable_public_folders(server.store, default_level="PublishingEditor")
    root = john.public_folders_root
    team = Folder(parent=root, name="Team").save()
    sub = Folder(parent=team, name="Minutes").save()
    PostItem(account=john, folder=sub, subject="Monday", body="notes").save()
    # another user sees the same hierarchy and items (permissions are inherited from the root)
    mary_team = [f for f in mary.public_folders_root.children if f.name == "Team"][0]
    mary_sub = [f for f in mary_team.children if f.name == "Minutes"][0]
    assert [p.subject for p in mary_sub.all()] == ["Monday"]
    PostItem(account=mary, folder=mary_sub, subject="Tuesday", body="more").save()
    assert sorted(p.subject for p in sub.all()) == ["Monday", "Tuesday"]


def test_public_folder_permissions_apply(make_exchange):
    server = make_exchange()
    # Default: Author (read and create items; no subfolders); John owns the hierarchy
    enable_public_folders(server.store, owners=["john@example.com"])
    john, mary = server.account("john@example.com"), server.account("mary@example.com")
    with pytest.raises(ErrorAccessDenied):
        Folder(parent=mary.public_folders_root, name="Mine").save()
    shared = Folder(parent=john.public_folders_root, name="Shared").save()
    mary_shared = [f for f in mary.public_folders_root.children if f.name == "Shared"][0]
    PostItem(account=john, folder=shared, subject="announcement", body="!").save()
    post = PostItem(account=mary, folder=mary_shared, subject="question", body="?").save()
    post.subject = "question, edited"
    post.save(update_fields=["subject"])  # an Author edits its own items...
    theirs = mary_shared.get(subject="announcement")
    theirs.subject = "edited"
    with pytest.raises(ErrorAccessDenied):  # ...and nobody else's
        theirs.save(update_fields=["subject"])
    entry = john.public_folders_root.refresh().permission_set.get("john@example.com")
    assert isinstance(entry, Permission) and entry.permission_level == "Owner"
    assert sorted(p.subject for p in shared.all()) == ["announcement", "question, edited"]
