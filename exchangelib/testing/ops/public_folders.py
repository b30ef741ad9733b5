"""Public folders for the local server: an organisation-wide folder tree every user can reach.

A new store has none: ``publicfoldersroot`` answers ErrorNoPublicFolderReplicaAvailable, as Exchange does
for an organisation without public folder mailboxes. :func:`enable_public_folders` adds a public folder
mailbox (like Exchange's, it is a mailbox without a login) whose root is the ``publicfoldersroot`` of every
user. Access to it goes through folder permissions (:mod:`.access`): the root's ``Default`` entry is
``default_level`` (Author, as in Exchange, unless told otherwise), and a folder without its own
PermissionSet has its parent's, as public folders inherit their parent's permissions when created.

::

    from exchangelib.testing.ops.public_folders import enable_public_folders
    enable_public_folders(server.store, default_level="PublishingEditor")
    account.public_folders_root.children   # the public folder hierarchy, items in it work as usual
"""
from __future__ import annotations

import weakref
from typing import Optional, Sequence

from lxml import etree

from ...xml import TNS
from ..context import ResponseCodeError
from ..store import FolderRecord, Mailbox, Store

T = f"{{{TNS}}}"
PUBLIC_ROOT = "publicfoldersroot"
DEFAULT_ADDRESS = "publicfolders@public.invalid"

_PUBLIC: "weakref.WeakKeyDictionary[Store, Mailbox]" = weakref.WeakKeyDictionary()


def enable_public_folders(store: Store, default_level: str = "Author", owners: Sequence[str] = (),
                          address: str = DEFAULT_ADDRESS) -> FolderRecord:
    """Give the store a public folder hierarchy (once); returns its root folder. ``owners`` (addresses) get the
    Owner level on the root, as an administrator would give them."""
    with store.lock:
        mb = _PUBLIC.get(store)
        if mb is not None:
            root = mb.folder(PUBLIC_ROOT)
            assert root is not None
            return root
        mb = store.add_mailbox(address, "Public Folders")
        root = mb.create_folder(None, "Folder", "IPM_SUBTREE", "IPF.Note", distinguished=PUBLIC_ROOT)
        mb.distinguished[PUBLIC_ROOT] = root
        ps = etree.SubElement(root.props, T + "PermissionSet")
        arr = etree.SubElement(ps, T + "Permissions")
        for user, level in (("Default", default_level), ("Anonymous", "None")):
            perm = etree.SubElement(arr, T + "Permission")
            etree.SubElement(etree.SubElement(perm, T + "UserId"), T + "DistinguishedUser").text = user
            etree.SubElement(perm, T + "PermissionLevel").text = level
        for owner in owners:
            perm = etree.SubElement(arr, T + "Permission")
            etree.SubElement(etree.SubElement(perm, T + "UserId"), T + "PrimarySmtpAddress").text = owner.lower()
            etree.SubElement(perm, T + "PermissionLevel").text = "Owner"
        _PUBLIC[store] = mb
        return root


def public_mailbox(store: Store) -> Optional[Mailbox]:
    return _PUBLIC.get(store)


def is_public(mailbox: Mailbox) -> bool:
    return _PUBLIC.get(mailbox.store) is mailbox


def public_root(store: Store) -> FolderRecord:
    """The public folder root, or ErrorNoPublicFolderReplicaAvailable."""
    mb = _PUBLIC.get(store)
    root = mb.folder(PUBLIC_ROOT) if mb is not None else None
    if root is None:
        raise ResponseCodeError("ErrorNoPublicFolderReplicaAvailable", "There are no public folder servers available.")
    return root


__all__ = ["enable_public_folders", "public_mailbox", "public_root", "is_public", "PUBLIC_ROOT"]
