"""Item actions: ArchiveItem, MarkAsJunk, MarkAllItemsAsRead; and the blocked-senders list on delivery.

ArchiveItem moves items into the mailbox's archive: into the folder named by ArchiveSourceFolderId when that
is an archive folder, else into the archive folder with the same path below the top of the information
store (created as needed, as Exchange's archiving does). Items get new ids. Without an archive the answer is
ErrorArchiveMailboxNotEnabled; items already in the archive answer ErrorCannotArchiveItemsInArchiveMailbox.

MarkAsJunk with IsJunk adds each item's sender to the mailbox's blocked senders (without IsJunk removes it)
and with MoveItem moves the item to Junk Email (or back to the Inbox) and returns MovedItemId. Later
deliveries from a blocked sender go straight to Junk Email.

MarkAllItemsAsRead sets IsRead on every item of each folder.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/archiveitem-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/markasjunk-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/markallitemsasread-operation
"""
from __future__ import annotations

import weakref
from typing import List, Optional, Set

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext
from ..store import FolderRecord, ItemRecord, Mailbox, Store
from .common import (add_result, bool_attr, bool_text, child, children, err, handler, m_el,
                     new_response, resolve_folder, resolve_item, resolve_target_folder)
from .delivery import DELIVERY_HOOKS
from .items import id_only
from .stamp import recipient_addresses

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"

_BLOCKED: "weakref.WeakKeyDictionary[Mailbox, Set[str]]" = weakref.WeakKeyDictionary()


def blocked_senders(mailbox: Mailbox) -> Set[str]:
    return _BLOCKED.setdefault(mailbox, set())


def _in_archive(folder: FolderRecord) -> bool:
    return any(f.distinguished == "archiveroot" for f in [folder, *folder.ancestors()])


def _archive_target(mb: Mailbox, source: FolderRecord) -> FolderRecord:
    if _in_archive(source):
        return source
    top = mb.folder("archivemsgfolderroot")
    if top is None:
        raise err("ErrorArchiveMailboxNotEnabled", "The archive mailbox is not enabled for this user.")
    names: List[FolderRecord] = []
    f: Optional[FolderRecord] = source
    while f is not None and f.distinguished not in ("msgfolderroot", "root"):
        names.append(f)
        f = f.parent
    target = top
    for part in reversed(names):
        found = next((c for c in target.live_children()
                      if c.display_name.casefold() == part.display_name.casefold()), None)
        if found is None:
            found = mb.create_folder(target, part.element_kind, part.display_name, part.folder_class)
        target = found
    return target


@handler("ArchiveItem")
def archive_item(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/archiveitem-operation"""
    source_el = child(body, "ArchiveSourceFolderId")
    root, msgs = new_response("ArchiveItem")
    for id_el in children(child(body, "ItemIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            source = resolve_target_folder(ctx, source_el)
            rec = resolve_item(ctx, id_el)
            if _in_archive(rec.folder):
                raise err("ErrorCannotArchiveItemsInArchiveMailbox", "The item is already in the archive mailbox.")
            target = _archive_target(rec.mailbox, source)
            new = ctx.store.move_item(rec, target)
            return [m_el("Items", [id_only(new)])]

        add_result(msgs, "ArchiveItemResponseMessage", one, error_payload=("m:Items",))
    return root


@handler("MarkAsJunk")
def mark_as_junk(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/markasjunk-operation"""
    is_junk = bool_attr(body, "IsJunk")
    move = bool_attr(body, "MoveItem")
    root, msgs = new_response("MarkAsJunk")
    for id_el in children(child(body, "ItemIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            rec = resolve_item(ctx, id_el)
            blocked = blocked_senders(rec.mailbox)
            for address in recipient_addresses(rec.elem, ("From", "Sender"))[:1]:
                (blocked.add if is_junk else blocked.discard)(address.lower())
            if not move:
                return []
            target = rec.mailbox.folder("junkemail" if is_junk else "inbox")
            if target is None:
                raise err("ErrorFolderNotFound")
            if rec.folder is not target:
                rec = ctx.store.move_item(rec, target)
            return [etree.Element(M + "MovedItemId", Id=rec.id, ChangeKey=rec.changekey)]

        add_result(msgs, "MarkAsJunkResponseMessage", one)
    return root


@handler("MarkAllItemsAsRead")
def mark_all_items_as_read(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/markallitemsasread-operation"""
    flag = "true" if bool_text(child(body, "ReadFlag")) else "false"
    root, msgs = new_response("MarkAllItemsAsRead")
    for id_el in children(child(body, "FolderIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            folder = resolve_folder(ctx, id_el)
            for rec in folder.items():
                el = rec.elem.find(T + "IsRead")
                if el is None or el.text == flag:
                    continue
                el.text = flag
                rec.touch(("IsRead",))
            return []

        add_result(msgs, "MarkAllItemsAsReadResponseMessage", one)
    return root


def junk_blocked_senders(store: Store, mb: Mailbox, rec: ItemRecord) -> None:
    """Deliveries from a blocked sender go to Junk Email; this runs before the inbox rules (which then skip it)."""
    blocked = _BLOCKED.get(mb)
    if not blocked or rec.key not in store.items or rec.folder is not mb.folder("inbox"):
        return
    senders = {a.lower() for a in recipient_addresses(rec.elem, ("From", "Sender"))[:1]}
    junk = mb.folder("junkemail")
    if senders & blocked and junk is not None:
        store.move_item(rec, junk)


DELIVERY_HOOKS.insert(0, junk_blocked_senders)
