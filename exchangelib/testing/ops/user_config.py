"""User configuration objects: Get/Create/Update/DeleteUserConfiguration.

Like Exchange, a configuration is an associated (FAI) item of its folder with ItemClass
``IPM.Configuration.<Name>``, so FindItem with the Associated traversal lists them; its Dictionary, XmlData
and BinaryData are kept beside the item. Names are unique per folder (case-insensitive): creating a second
one answers ErrorItemSave; reading, updating or deleting a missing one ErrorItemNotFound. Update replaces
the parts the request carries and keeps the others. Access follows the folder's permissions (reading
needs ReadItems, writing EditItems/CanCreateItems, see :mod:`.access`).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuserconfiguration-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createuserconfiguration-operation
"""
from __future__ import annotations

import copy
import weakref
from typing import Dict, List, Optional

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext
from ..store import FolderRecord, ItemRecord
from .access import check
from .common import add_result, child, children, err, handler, item_id_element, new_response, resolve_folder
from .stamp import restamp, stamp_new

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"
PREFIX = "IPM.Configuration."
_PARTS = ("Dictionary", "XmlData", "BinaryData")

# Associated item -> {part name: element}
_DATA: "weakref.WeakKeyDictionary[ItemRecord, Dict[str, etree._Element]]" = weakref.WeakKeyDictionary()


def _find(folder: FolderRecord, name: str) -> Optional[ItemRecord]:
    wanted = (PREFIX + name).casefold()
    for rec in folder.items(associated=True):
        if (rec.elem.findtext(T + "ItemClass") or "").casefold() == wanted and rec in _DATA:
            return rec
    return None


def _name_and_folder(ctx: RequestContext, name_el: Optional[etree._Element], write: bool) -> tuple:
    if name_el is None:
        raise err("ErrorInvalidRequest", "UserConfigurationName is required.")
    name = (name_el.get("Name") or "").strip()
    ids = children(name_el)
    if not name or not ids:
        raise err("ErrorInvalidRequest", "UserConfigurationName needs a Name and a folder.")
    folder = resolve_folder(ctx, ids[0])
    if write and ctx.caller.lower() not in folder.mailbox.addresses() and not ctx.can_access(
            ctx.caller, folder.mailbox.primary_smtp_address):
        check(ctx, folder, "edit")
    return name, folder


@handler("GetUserConfiguration")
def get_user_configuration(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuserconfiguration-operation"""
    root, msgs = new_response("GetUserConfiguration")

    def one() -> List[etree._Element]:
        name, folder = _name_and_folder(ctx, child(body, "UserConfigurationName"), write=False)
        props_el = child(body, "UserConfigurationProperties")
        wanted = set(((props_el.text if props_el is not None else None) or "All").split())
        rec = _find(folder, name)
        if rec is None:
            raise err("ErrorItemNotFound")
        out = etree.Element(M + "UserConfiguration")
        name_el = etree.SubElement(out, T + "UserConfigurationName", Name=name)
        name_el.append(etree.Element(T + "FolderId", Id=folder.id, ChangeKey=folder.changekey))
        if wanted & {"Id", "All"}:
            out.append(item_id_element(rec))
        for part in _PARTS:
            if wanted & {part, "All"} and part in _DATA[rec]:
                out.append(copy.deepcopy(_DATA[rec][part]))
        return [out]

    add_result(msgs, "GetUserConfigurationResponseMessage", one)
    return root


def _write(ctx: RequestContext, body: etree._Element, creating: bool) -> List[etree._Element]:
    conf = child(body, "UserConfiguration")
    if conf is None:
        raise err("ErrorInvalidRequest", "UserConfiguration is required.")
    name, folder = _name_and_folder(ctx, conf.find(T + "UserConfigurationName"), write=True)
    rec = _find(folder, name)
    if creating:
        if rec is not None:
            raise err("ErrorItemSave", f"A user configuration named {name} already exists in the folder.")
        elem = etree.Element(T + "Message")
        etree.SubElement(elem, T + "ItemClass").text = PREFIX + name
        etree.SubElement(elem, T + "Subject").text = name
        stamp_new(ctx.store, folder.mailbox, elem)
        rec = ctx.store.add_item(folder, elem, associated=True)
        _DATA[rec] = {}
    elif rec is None:
        raise err("ErrorItemNotFound")
    parts = _DATA[rec]
    for part in _PARTS:
        given = conf.find(T + part)
        if given is not None:
            parts[part] = copy.deepcopy(given)
    restamp(ctx.store, folder.mailbox, rec.elem)
    rec.touch(tuple(p for p in _PARTS if conf.find(T + p) is not None))
    return []


@handler("CreateUserConfiguration")
def create_user_configuration(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createuserconfiguration-operation"""
    root, msgs = new_response("CreateUserConfiguration")
    add_result(msgs, "CreateUserConfigurationResponseMessage", lambda: _write(ctx, body, True))
    return root


@handler("UpdateUserConfiguration")
def update_user_configuration(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateuserconfiguration-operation"""
    root, msgs = new_response("UpdateUserConfiguration")
    add_result(msgs, "UpdateUserConfigurationResponseMessage", lambda: _write(ctx, body, False))
    return root


@handler("DeleteUserConfiguration")
def delete_user_configuration(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteuserconfiguration-operation"""
    root, msgs = new_response("DeleteUserConfiguration")

    def one() -> List[etree._Element]:
        name, folder = _name_and_folder(ctx, child(body, "UserConfigurationName"), write=True)
        rec = _find(folder, name)
        if rec is None:
            raise err("ErrorItemNotFound")
        ctx.store.remove_item(rec)
        _DATA.pop(rec, None)
        return []

    add_result(msgs, "DeleteUserConfigurationResponseMessage", one)
    return root
