"""Serialising item and folder references: ItemId, FolderId, DistinguishedFolderId."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from ..xml import Element, add_child, create_element
from .common import id_pairs


def item_ids_xml(tag: str, ids: Iterable[Any]) -> Element:
    """``<m:ItemIds>`` (or another container tag) holding one t:ItemId per id (or the OccurrenceItemId /
    RecurringMasterItemId objects given)."""
    container = create_element(tag)
    for pair in id_pairs(ids):
        if not isinstance(pair, tuple):  # OccurrenceItemId / RecurringMasterItemId
            pair.add_to(container)
            continue
        item_id, changekey = pair
        attrs = {"Id": item_id}
        if changekey:
            attrs["ChangeKey"] = changekey
        add_child(container, "t:ItemId", attrs)
    return container


def folder_id_xml(folder: Any, mailbox: Optional[str] = None) -> Element:
    """A t:FolderId for a folder with an id, else a t:DistinguishedFolderId (with the owner's mailbox)."""
    fid = getattr(folder, "id", None)
    if fid:
        attrs = {"Id": fid}
        if getattr(folder, "changekey", None):
            attrs["ChangeKey"] = folder.changekey
        return create_element("t:FolderId", attrs)
    named = folder.__dict__.get("_distinguished_id") if hasattr(folder, "__dict__") else None
    if named is not None:  # a DistinguishedFolderId given by the caller, maybe in another mailbox
        elem = create_element("t:DistinguishedFolderId", {"Id": named.id})
        if named.changekey:
            elem.set("ChangeKey", named.changekey)
        owner = named.mailbox.email_address if named.mailbox is not None else mailbox
        if owner:
            mb = add_child(elem, "t:Mailbox")
            add_child(mb, "t:EmailAddress", text=owner)
        return elem
    distinguished = getattr(folder, "DISTINGUISHED_FOLDER_ID", None)
    if not distinguished:
        raise ValueError(f"{folder!r} has neither an id nor a distinguished folder id; save or fetch it first")
    elem = create_element("t:DistinguishedFolderId", {"Id": distinguished})
    if mailbox:
        mb = add_child(elem, "t:Mailbox")
        add_child(mb, "t:EmailAddress", text=mailbox)
    return elem


def folder_ids_xml(tag: str, folders: Iterable[Any], mailbox: Optional[str] = None) -> Element:
    container = create_element(tag)
    for f in folders:
        container.append(folder_id_xml(f, mailbox))
    return container
