"""SyncFolderItems and SyncFolderHierarchy: the changes made to a folder's items, or to a folder tree,
since a sync state.

Every folder keeps a change journal of its items, and every mailbox one of its folders (see
:class:`~exchangelib.testing.store.Journal`). A sync state is an opaque, signed, fixed-size token
naming the mailbox, the synced folder (or hierarchy root) and a journal position, so it stays small
however much the folder holds, and the server keeps no per-client state. The changes since a state
are computed by comparing each changed object's presence at that position with its presence now:

- absent then, present now: ``Create``; present then and now: ``Update`` (``ReadFlagChange`` when
  only IsRead was written since); present then, absent now (deleted or moved out): ``Delete``;
  absent then and now (created and deleted in between): nothing.

Changes are returned in the order of each object's latest change; a page of MaxChangesReturned
changes ends at a journal position every earlier change falls before, so paging neither repeats nor
drops a change. A malformed, forged or foreign state (another folder, another mailbox, a position
this store never reached) answers ErrorInvalidSyncStateData.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderhierarchy-operation
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from typing import List, Optional, Set, Tuple

from lxml import etree

from ...xml import TNS
from ..context import RequestContext
from ..store import FOLDER, ITEM, READ, REMOVE, FolderRecord, Journal, Mailbox, Store, decode_id, encode_id
from .common import (add_result, child, children, err, handler, m_el, new_response, parse_shape,
                     resolve_target_folder, t_el)
from .render import render_folder, render_item

_STATE_MAGIC = b"XS"
_STATE_VERSION = 1
_MAC_LEN = 10
_STATE_LEN = 2 + 1 + 1 + 16 + 16 + 8 + _MAC_LEN
ITEM_STATE = b"I"
HIERARCHY_STATE = b"H"


def _invalid_state() -> Exception:
    return err("ErrorInvalidSyncStateData", "Synchronization state data is corrupt or otherwise invalid.")


def encode_state(store: Store, kind: bytes, mailbox: Mailbox, folder_key: bytes, seq: int) -> str:
    body = _STATE_MAGIC + bytes((_STATE_VERSION,)) + kind + mailbox.store_guid + folder_key + struct.pack(">Q", seq)
    mac = hmac.new(store.state_secret, body, hashlib.sha256).digest()[:_MAC_LEN]
    return base64.b64encode(body + mac).decode("ascii")


def decode_state(store: Store, value: Optional[str], kind: bytes, mailbox: Mailbox, folder_key: bytes) -> int:
    """The journal position in a sync state; ErrorInvalidSyncStateData unless it is this server's state for
    this kind of sync, mailbox and folder."""
    value = (value or "").strip()
    if not value:
        return 0  # no state: everything is new
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise _invalid_state() from None
    if len(raw) != _STATE_LEN or raw[:2] != _STATE_MAGIC or raw[2] != _STATE_VERSION:
        raise _invalid_state()
    body, mac = raw[:-_MAC_LEN], raw[-_MAC_LEN:]
    if not hmac.compare_digest(mac, hmac.new(store.state_secret, body, hashlib.sha256).digest()[:_MAC_LEN]):
        raise _invalid_state()
    if body[3:4] != kind or body[4:20] != mailbox.store_guid or body[20:36] != folder_key:
        raise _invalid_state()
    (seq,) = struct.unpack(">Q", body[36:44])
    if seq > store.journal_seq:
        raise _invalid_state()
    return seq


def _present(journal: Journal, key: bytes, seq: int) -> bool:
    e = journal.entry_at(key, seq)
    return e is not None and e[1] != REMOVE


# --- SyncFolderItems -----------------------------------------------------------------------------
def _item_changes(ctx: RequestContext, folder: FolderRecord, since: int, ignore: Set[bytes], associated_too: bool
                  ) -> List[Tuple[int, str, bytes]]:
    """(latest seq, change kind, item key) of each net change since ``since``, oldest first."""
    journal = folder.journal
    out = []
    now = ctx.store.journal_seq
    for key in journal.changed_since(since):
        latest = journal.last_seq(key)
        if key in ignore:
            out.append((latest, "", key))
            continue
        entries = journal.entries[key]
        if not associated_too and entries[-1][2]:
            out.append((latest, "", key))
            continue
        then, current = _present(journal, key, since), _present(journal, key, now)
        if not then and current:
            kind = "Create"
        elif then and current:
            kind = "ReadFlagChange" if all(op == READ for op in journal.ops_after(key, since)) else "Update"
        elif then:
            kind = "Delete"
        else:
            kind = ""
        out.append((latest, kind, key))
    return out


def _text(name: str, text: str) -> etree._Element:
    el = m_el(name)
    el.text = text
    return el


def _state_text(body: etree._Element) -> Optional[str]:
    el = child(body, "SyncState")
    return el.text if el is not None else None


@handler("SyncFolderItems")
def sync_folder_items(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation"""
    root, msgs = new_response("SyncFolderItems")

    def one() -> List[etree._Element]:
        # Unlike FindItem, properties such as Body, Attachments or the recipient lists are returned when
        # asked for by name (AdditionalProperties), as Exchange does: exchangelib 5.x asks for every field.
        shape = parse_shape(child(body, "ItemShape"))
        folder = resolve_target_folder(ctx, child(body, "SyncFolderId"))
        mb = folder.mailbox
        since = decode_state(ctx.store, _state_text(body), ITEM_STATE, mb, folder.key)
        ignore: Set[bytes] = set()
        for id_el in children(child(body, "Ignore")):
            kind, _addr, key = decode_id(id_el.get("Id"))
            if kind == ITEM:
                ignore.add(key)
        max_el = child(body, "MaxChangesReturned")
        max_changes = int((max_el.text or "512").strip()) if max_el is not None else 512
        scope_el = child(body, "SyncScope")
        associated_too = scope_el is not None and (scope_el.text or "").strip() == "NormalAndAssociatedItems"
        out = m_el("Changes")
        n = 0
        end = ctx.store.journal_seq
        last_in_range = True
        for latest, kind, key in _item_changes(ctx, folder, since, ignore, associated_too):
            if not kind:
                continue
            if n == max_changes:
                last_in_range = False
                break
            n += 1
            end_of_page = latest
            change = t_el(kind)
            out.append(change)
            if kind == "Delete":
                change.append(t_el("ItemId", Id=encode_id(ITEM, mb, key, folder.key)))  # its id while here
                continue
            rec = ctx.store.items[key]
            if kind == "ReadFlagChange":
                change.append(t_el("ItemId", Id=rec.id, ChangeKey=rec.changekey))
                change.append(t_el("IsRead", rec.elem.findtext(f"{{{TNS}}}IsRead") or "false"))
                continue
            change.append(render_item(ctx, rec, shape, find=True, whole_values=True))
        if not last_in_range:
            end = end_of_page
        return [_text("SyncState", encode_state(ctx.store, ITEM_STATE, mb, folder.key, end)),
                _text("IncludesLastItemInRange", "true" if last_in_range else "false"), out]

    add_result(msgs, "SyncFolderItemsResponseMessage", one)
    return root


# --- SyncFolderHierarchy -------------------------------------------------------------------------
def _in_scope(journal: Journal, key: bytes, seq: int, root_key: bytes) -> bool:
    """Was folder ``key`` below the folder ``root_key`` at journal position ``seq``?"""
    e = journal.entry_at(key, seq)
    if e is None or e[1] == REMOVE:
        return False
    parent = e[2]
    for _ in range(256):  # a folder tree is far shallower; guards against a cycle
        if parent is None:
            return False
        if parent == root_key:
            return True
        pe = journal.entry_at(parent, seq)  # type: ignore[arg-type]
        if pe is None or pe[1] == REMOVE:
            return False
        parent = pe[2]
    return False


@handler("SyncFolderHierarchy")
def sync_folder_hierarchy(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderhierarchy-operation"""
    root, msgs = new_response("SyncFolderHierarchy")

    def one() -> List[etree._Element]:
        shape = parse_shape(child(body, "FolderShape"))
        target = child(body, "SyncFolderId")
        sync_root = resolve_target_folder(ctx, target) if target is not None else ctx.mailbox.root
        mb = sync_root.mailbox
        since = decode_state(ctx.store, _state_text(body), HIERARCHY_STATE, mb, sync_root.key)
        journal = mb.hierarchy_journal
        now = ctx.store.journal_seq
        out = m_el("Changes")
        for key in journal.changed_since(since):
            then, current = _in_scope(journal, key, since, sync_root.key), _in_scope(journal, key, now, sync_root.key)
            if current:
                folder = mb.folders[key]
                change = t_el("Update" if then else "Create")
                change.append(render_folder(ctx, folder, shape))
                out.append(change)
            elif then:
                change = t_el("Delete")
                change.append(t_el("FolderId", Id=encode_id(FOLDER, mb, key)))
                out.append(change)
        return [_text("SyncState", encode_state(ctx.store, HIERARCHY_STATE, mb, sync_root.key, now)),
                _text("IncludesLastFolderInRange", "true"), out]

    add_result(msgs, "SyncFolderHierarchyResponseMessage", one)
    return root
