"""Conversations: FindConversation, GetConversationItems, ApplyConversationAction.

A conversation is the set of the mailbox's items sharing a ConversationId (the store derives it from the
subject without its RE:/FW: prefixes, see :func:`.stamp.conversation_id`). FindConversation lists the
conversations with items in a folder, newest first; its plain counters are about the items in that folder,
the ``Global*`` ones about the whole mailbox. GetConversationItems returns one node per item, oldest first by
default. ApplyConversationAction acts on the conversation's items (only those in ContextFolderId when given):
Move, Copy, Delete, SetReadState, Flag, AlwaysCategorize/AlwaysMove/AlwaysDelete (which also apply to items
of the conversation delivered later; with ProcessRightAway, at once to the existing ones too; AlwaysCategorize
without categories and AlwaysDelete with EnableAlwaysDelete false stop them).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findconversation-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getconversationitems-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/applyconversationaction-operation
"""
from __future__ import annotations

import copy
import weakref
from typing import Dict, List, Optional, Tuple

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext, ResponseCodeError
from ..store import FolderRecord, ItemRecord, Mailbox, Store
from .common import add_result, bool_text, child, children, err, handler, m_el, new_response, parse_shape, resolve_folder
from .delivery import DELIVERY_HOOKS
from .items import delete_record
from .props import get_text, set_prop
from .render import render_item
from .rules import single_response
from .stamp import copy_element, restamp

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"

# Mailbox -> conversation id -> standing actions {"categories": [...], "move": FolderRecord, "delete": str}
_ALWAYS: "weakref.WeakKeyDictionary[Mailbox, Dict[str, Dict[str, object]]]" = weakref.WeakKeyDictionary()


def _conversation_of(rec: ItemRecord) -> Optional[str]:
    el = rec.elem.find(T + "ConversationId")
    return el.get("Id") if el is not None else None


def mailbox_items(mb: Mailbox) -> List[ItemRecord]:
    out = []
    for folder in mb.all_folders():
        if folder.element_kind == "SearchFolder" or folder.soft_deleted:
            continue
        out.extend(folder.items())
    return out


def _received(rec: ItemRecord) -> str:
    return get_text(rec.elem, "DateTimeReceived") or get_text(rec.elem, "DateTimeCreated") or ""


def _strings(tag: str, values: List[str], child_tag: str = "String") -> Optional[etree._Element]:
    if not values:
        return None
    el = etree.Element(T + tag)
    for v in values:
        etree.SubElement(el, T + child_tag).text = v
    return el


def _unique(values: List[str]) -> List[str]:
    seen: Dict[str, None] = {}
    for v in values:
        if v:
            seen.setdefault(v, None)
    return list(seen)


def _names(recs: List[ItemRecord], containers: Tuple[str, ...], unread_only: bool = False) -> List[str]:
    out = []
    for r in recs:
        if unread_only and get_text(r.elem, "IsRead") != "false":
            continue
        for c in containers:
            el = r.elem.find(T + c)
            if el is None:
                continue
            for mb in el.iter(T + "Mailbox"):
                out.append(mb.findtext(T + "Name") or mb.findtext(T + "EmailAddress") or "")
    return _unique(out)


def _render_conversation(cid: str, local_items: List[ItemRecord], all_items: List[ItemRecord]) -> etree._Element:
    conv = etree.Element(T + "Conversation")
    etree.SubElement(conv, T + "ConversationId", Id=cid)
    newest = max(all_items, key=_received)
    etree.SubElement(conv, T + "ConversationTopic").text = get_text(newest.elem, "ConversationTopic") or ""
    parts: List[Optional[etree._Element]] = []
    for tag, fn in (("UniqueRecipients", lambda rs: _names(rs, ("ToRecipients", "CcRecipients"))),
                    ("UniqueUnreadSenders", lambda rs: _names(rs, ("From",), unread_only=True)),
                    ("UniqueSenders", lambda rs: _names(rs, ("From",)))):
        parts.append(_strings(tag, fn(local_items)))
        parts.append(_strings("Global" + tag, fn(all_items)))
    for p in parts:
        if p is not None:
            conv.append(p)
    etree.SubElement(conv, T + "LastDeliveryTime").text = _received(max(local_items, key=_received))
    etree.SubElement(conv, T + "GlobalLastDeliveryTime").text = _received(newest)
    for tag, recs in (("Categories", local_items), ("GlobalCategories", all_items)):
        cats = _unique([s.text or "" for r in recs for s in r.elem.findall(f"{T}Categories/{T}String")])
        el = _strings(tag, cats)
        if el is not None:
            conv.append(el)
    for tag, recs in (("FlagStatus", local_items), ("GlobalFlagStatus", all_items)):
        flags = [r.elem.findtext(f"{T}Flag/{T}FlagStatus") for r in recs]
        status = "Flagged" if "Flagged" in flags else ("Complete" if "Complete" in flags else "NotFlagged")
        etree.SubElement(conv, T + tag).text = status
    for tag, recs in (("HasAttachments", local_items), ("GlobalHasAttachments", all_items)):
        etree.SubElement(conv, T + tag).text = "true" if any(
            get_text(r.elem, "HasAttachments") == "true" for r in recs) else "false"
    for tag, recs in (("MessageCount", local_items), ("GlobalMessageCount", all_items)):
        etree.SubElement(conv, T + tag).text = str(len(recs))
    for tag, recs in (("UnreadCount", local_items), ("GlobalUnreadCount", all_items)):
        etree.SubElement(conv, T + tag).text = str(sum(1 for r in recs if get_text(r.elem, "IsRead") == "false"))
    for tag, recs in (("Size", local_items), ("GlobalSize", all_items)):
        etree.SubElement(conv, T + tag).text = str(sum(int(get_text(r.elem, "Size") or 0) for r in recs))
    for tag, recs in (("ItemClasses", local_items), ("GlobalItemClasses", all_items)):
        el = _strings(tag, _unique([get_text(r.elem, "ItemClass") or "" for r in recs]), "ItemClass")
        if el is not None:
            conv.append(el)
    order = {"Low": 0, "Normal": 1, "High": 2}
    for tag, recs in (("Importance", local_items), ("GlobalImportance", all_items)):
        etree.SubElement(conv, T + tag).text = max((get_text(r.elem, "Importance") or "Normal" for r in recs),
                                                   key=lambda v: order.get(v, 1))
    for tag, recs in (("ItemIds", local_items), ("GlobalItemIds", all_items)):
        ids = etree.SubElement(conv, T + tag)
        for r in sorted(recs, key=_received):
            etree.SubElement(ids, T + "ItemId", Id=r.id, ChangeKey=r.changekey)
    return conv


@handler("FindConversation")
def find_conversation(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findconversation-operation"""

    def run(out: etree._Element) -> None:
        parent = children(child(body, "ParentFolderId"))
        if not parent:
            raise ResponseCodeError("ErrorInvalidRequest", "ParentFolderId is required.")
        folder = resolve_folder(ctx, parent[0])
        query = _text(child(body, "QueryString")).casefold()
        groups: Dict[str, List[ItemRecord]] = {}
        for rec in folder.items():
            cid = _conversation_of(rec)
            if cid is None:
                continue
            if query and query not in (get_text(rec.elem, "Subject") or "").casefold():
                continue
            groups.setdefault(cid, []).append(rec)
        everything: Dict[str, List[ItemRecord]] = {}
        for rec in mailbox_items(folder.mailbox):
            cid = _conversation_of(rec)
            if cid in groups:
                everything.setdefault(cid, []).append(rec)
        ordered = sorted(groups, key=lambda c: max(_received(r) for r in groups[c]), reverse=True)
        view = child(body, "IndexedPageItemView")
        offset = int(view.get("Offset", "0")) if view is not None else 0
        limit = int(view.get("MaxEntriesReturned", "0")) if view is not None and view.get("MaxEntriesReturned") \
            else None
        page = ordered[offset:offset + limit if limit is not None else None]
        convs = etree.SubElement(out, M + "Conversations")
        for cid in page:
            convs.append(_render_conversation(cid, groups[cid], everything.get(cid, groups[cid])))
        etree.SubElement(out, M + "TotalConversationsInView").text = str(len(ordered))
        etree.SubElement(out, M + "IndexedOffset").text = str(offset + len(page))

    return single_response("FindConversation", run)


@handler("GetConversationItems")
def get_conversation_items(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getconversationitems-operation"""
    shape = parse_shape(child(body, "ItemShape"))
    ignore = {resolve_folder(ctx, f).key for f in children(child(body, "FoldersToIgnore"))}
    max_el = child(body, "MaxItemsToReturn")
    max_items = int(max_el.text) if max_el is not None and max_el.text else None
    order_el = child(body, "SortOrder")
    descending = order_el is not None and (order_el.text or "").endswith("Descending")
    root, msgs = new_response("GetConversationItems")
    for conv_el in children(child(body, "Conversations")):
        def one(conv_el: etree._Element = conv_el) -> List[etree._Element]:
            cid_el = conv_el.find(T + "ConversationId")
            cid = cid_el.get("Id") if cid_el is not None else None
            recs = [r for r in mailbox_items(ctx.mailbox) if _conversation_of(r) == cid and r.folder.key not in ignore]
            if not recs:
                raise err("ErrorItemNotFound")
            recs.sort(key=_received, reverse=descending)
            if max_items is not None:
                recs = recs[:max_items]
            out = m_el("Conversation")
            etree.SubElement(out, T + "ConversationId", Id=cid or "")
            nodes = etree.SubElement(out, T + "ConversationNodes")
            for r in recs:
                node = etree.SubElement(nodes, T + "ConversationNode")
                mid = get_text(r.elem, "InternetMessageId")
                if mid:
                    etree.SubElement(node, T + "InternetMessageId").text = mid
                etree.SubElement(node, T + "Items").append(render_item(ctx, r, shape))
            etree.SubElement(out, T + "CanDelete").text = "true"
            return [out]

        add_result(msgs, "GetConversationItemsResponseMessage", one)
    return root


def _text(el: Optional[etree._Element]) -> str:
    return (el.text or "").strip() if el is not None else ""


def _target(ctx: RequestContext, el: Optional[etree._Element]) -> Optional[FolderRecord]:
    ids = children(el)
    return resolve_folder(ctx, ids[0]) if ids else None


def _categorize(store: Store, rec: ItemRecord, categories: List[str]) -> None:
    cats = etree.Element(T + "Categories")
    for c in categories:
        etree.SubElement(cats, T + "String").text = c
    set_prop(rec.elem, "Categories", elem=cats)
    restamp(store, rec.mailbox, rec.elem)
    rec.touch(("Categories",))


def _apply_one(ctx: RequestContext, action_el: etree._Element) -> List[etree._Element]:
    action = _text(child(action_el, "Action"))
    cid_el = child(action_el, "ConversationId")
    cid = cid_el.get("Id") if cid_el is not None else None
    context = _target(ctx, child(action_el, "ContextFolderId"))
    destination = _target(ctx, child(action_el, "DestinationFolderId"))
    recs = [r for r in mailbox_items(ctx.mailbox) if _conversation_of(r) == cid
            and (context is None or r.folder is context)]
    right_away = bool_text(child(action_el, "ProcessRightAway"))
    store = ctx.store
    if action in ("Move", "Copy", "AlwaysMove") and destination is None:
        raise err("ErrorInvalidRequest", f"The {action} action needs a DestinationFolderId.")
    if action == "Move" or (action == "AlwaysMove" and right_away):
        for r in recs:
            if r.folder is not destination:
                store.move_item(r, destination)  # type: ignore[arg-type]
    elif action == "Copy":
        for r in recs:
            new = store.add_item(destination, copy_element(r.elem))  # type: ignore[arg-type]
            restamp(store, new.mailbox, new.elem)
    elif action == "Delete" or (action == "AlwaysDelete" and right_away):
        delete_type = _text(child(action_el, "DeleteType")) or "MoveToDeletedItems"
        for r in recs:
            delete_record(store, r, delete_type)
    elif action == "SetReadState":
        flag = "true" if bool_text(child(action_el, "IsRead"), default=True) else "false"
        for r in recs:
            set_prop(r.elem, "IsRead", flag)
            r.touch(("IsRead",))
    elif action == "Flag":
        flag_el = child(action_el, "Flag")
        if flag_el is None:
            raise err("ErrorInvalidRequest", "The Flag action needs a Flag.")
        for r in recs:
            set_prop(r.elem, "Flag", elem=copy.deepcopy(flag_el))
            restamp(store, r.mailbox, r.elem)
            r.touch(("Flag",))
    elif action == "AlwaysCategorize":
        cats = [s.text or "" for s in children(child(action_el, "Categories"))]
        if right_away:
            for r in recs:
                _categorize(store, r, cats)
    elif action not in ("SetRetentionPolicy",):
        raise err("ErrorInvalidRequest", f"Unknown conversation action {action}.")
    if action.startswith("Always") and cid:
        # Exchange's way of clearing a standing action: AlwaysCategorize without categories, AlwaysDelete with
        # EnableAlwaysDelete false.
        standing = _ALWAYS.setdefault(ctx.mailbox, {}).setdefault(cid, {})
        if action == "AlwaysCategorize":
            cats = [s.text or "" for s in children(child(action_el, "Categories"))]
            if cats:
                standing["categories"] = cats
            else:
                standing.pop("categories", None)
        elif action == "AlwaysMove":
            standing["move"] = destination
        elif bool_text(child(action_el, "EnableAlwaysDelete"), default=True):
            standing["delete"] = "MoveToDeletedItems"
        else:
            standing.pop("delete", None)
    return []


@handler("ApplyConversationAction")
def apply_conversation_action(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/applyconversationaction-operation"""
    root, msgs = new_response("ApplyConversationAction")
    for action_el in children(child(body, "ConversationActions")):
        add_result(msgs, "ApplyConversationActionResponseMessage", lambda a=action_el: _apply_one(ctx, a))
    return root


def standing_actions(store: Store, mb: Mailbox, rec: ItemRecord) -> None:
    """Items of a conversation with standing (Always...) actions get them on delivery."""
    actions = _ALWAYS.get(mb, {}).get(_conversation_of(rec) or "")
    if not actions or rec.key not in store.items:
        return
    cats = actions.get("categories")
    if isinstance(cats, list):
        _categorize(store, rec, cats)
    target = actions.get("move")
    if isinstance(target, FolderRecord) and target is not rec.folder:
        store.move_item(rec, target)
    elif actions.get("delete"):
        delete_record(store, rec, "MoveToDeletedItems")


DELIVERY_HOOKS.append(standing_actions)

__all__ = ["find_conversation", "get_conversation_items", "apply_conversation_action"]
