"""Folder operations: GetFolder, CreateFolder, UpdateFolder, DeleteFolder, EmptyFolder, MoveFolder, CopyFolder.

FindFolder lives in :mod:`.find`.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getfolder-operation
"""
from __future__ import annotations

from typing import List, Optional

from lxml import etree

from ...xml import TNS
from ..context import RequestContext
from ..store import DEFAULT_FOLDER_CLASS, REMOVE, FolderRecord, Mailbox
from .access import normalise_permission_set
from .common import (add_result, bool_attr, child, children, err, folder_id_element, handler, local, m_el,
                     new_response, parse_shape, resolve_folder, resolve_target_folder)
from .items import apply_update, delete_record
from .props import get, get_text, item_type
from .render import render_folder
from .restrictions import compile_restriction
from .stamp import copy_element

T = f"{{{TNS}}}"

# Folder properties a client may not set.
FOLDER_READ_ONLY = frozenset({"FolderId", "ParentFolderId", "TotalCount", "ChildFolderCount", "UnreadCount",
                              "EffectiveRights", "DistinguishedFolderId", "ManagedFolderInformation",
                              "SharingEffectiveRights", "ReplicaList"})
_FOLDER_ID_TAGS = (T + "FolderId", T + "DistinguishedFolderId")


def kind_for_class(kind: str, folder_class: Optional[str]) -> str:
    """A generic Folder with a calendar/contacts/tasks class is that kind of folder, as in Exchange."""
    if kind != "Folder" or not folder_class:
        return kind
    for prefix, k in (("IPF.Appointment", "CalendarFolder"), ("IPF.Contact", "ContactsFolder"),
                      ("IPF.Task", "TasksFolder")):
        if folder_class == prefix or folder_class.startswith(prefix + "."):
            return k
    return kind


def id_only(folder: FolderRecord) -> etree._Element:
    el = etree.Element(T + folder.element_kind)
    el.append(folder_id_element(folder))
    return el


def _name_taken(parent: FolderRecord, name: str, exclude: Optional[FolderRecord] = None) -> bool:
    wanted = name.casefold()
    return any(c.display_name.casefold() == wanted for c in parent.live_children() if c is not exclude)


# --- GetFolder -----------------------------------------------------------------------------------
@handler("GetFolder")
def get_folder(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getfolder-operation"""
    shape = parse_shape(child(body, "FolderShape"))
    root, msgs = new_response("GetFolder")
    for id_el in children(child(body, "FolderIds")):
        add_result(msgs, "GetFolderResponseMessage",
                   lambda e=id_el: [m_el("Folders", [render_folder(ctx, resolve_folder(ctx, e), shape)])],
                   error_payload=("m:Folders",))
    return root


# --- CreateFolder --------------------------------------------------------------------------------
def _search_spec(ctx: RequestContext, params: etree._Element):
    restriction = child(params, "Restriction")
    predicate = compile_restriction(restriction) if restriction is not None else (lambda el: True)
    bases = [resolve_folder(ctx, f) for f in children(child(params, "BaseFolderIds"))]
    return predicate, bases, params.get("Traversal", "Shallow") == "Deep"


@handler("CreateFolder")
def create_folder(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createfolder-operation"""
    parent_el = child(body, "ParentFolderId")
    root, msgs = new_response("CreateFolder")
    for folder_el in children(child(body, "Folders")):
        add_result(msgs, "CreateFolderResponseMessage", lambda f=folder_el: _create_one(ctx, parent_el, f),
                   error_payload=("m:Folders",))
    return root


def _create_one(ctx: RequestContext, parent_el: Optional[etree._Element], folder_el: etree._Element
                ) -> List[etree._Element]:
    parent = resolve_target_folder(ctx, parent_el)
    for c in children(folder_el):
        if local(c) in FOLDER_READ_ONLY:
            raise err("ErrorInvalidPropertySet")
    name = get_text(folder_el, "DisplayName")
    if not name:
        raise err("ErrorInvalidRequest", "A folder needs a DisplayName.")
    if _name_taken(parent, name):
        raise err("ErrorFolderExists", "A folder with the specified name already exists.")
    requested_kind = local(folder_el)
    folder_class = get_text(folder_el, "FolderClass") or DEFAULT_FOLDER_CLASS.get(requested_kind)
    kind = kind_for_class(requested_kind, folder_class)
    search = None
    if kind == "SearchFolder":
        params = get(folder_el, "SearchParameters")
        if params is None:
            raise err("ErrorInvalidRequest", "A search folder needs SearchParameters.")
        search = _search_spec(ctx, params)
    props = copy_element(folder_el)
    props.tag = T + kind
    new_permissions = get(props, "PermissionSet")
    if new_permissions is not None:
        normalise_permission_set(kind, new_permissions, known=lambda a: ctx.store.get_mailbox(a) is not None)
    if get(props, "FolderClass") is None and folder_class:
        fc = etree.Element(T + "FolderClass")
        fc.text = folder_class
        props.insert(0, fc)
    folder = parent.mailbox.create_folder(parent, kind, props=props)
    folder.search = search
    return [m_el("Folders", [id_only(folder)])]


# --- UpdateFolder --------------------------------------------------------------------------------
@handler("UpdateFolder")
def update_folder(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updatefolder-operation"""
    root, msgs = new_response("UpdateFolder")
    for change in children(child(body, "FolderChanges")):
        add_result(msgs, "UpdateFolderResponseMessage", lambda c=change: _update_one(ctx, c),
                   error_payload=("m:Folders",))
    return root


def _update_one(ctx: RequestContext, change: etree._Element) -> List[etree._Element]:
    id_el = next((c for c in change if c.tag in _FOLDER_ID_TAGS), None)
    if id_el is None:
        raise err("ErrorInvalidIdEmpty")
    folder = resolve_folder(ctx, id_el)
    type_name = item_type(folder.element_kind)
    new_props = copy_element(folder.props)
    for upd in children(child(change, "Updates")):
        apply_update(new_props, type_name, upd, read_only=FOLDER_READ_ONLY)
    old_class, new_class = get_text(folder.props, "FolderClass"), get_text(new_props, "FolderClass")
    if new_class != old_class and (old_class or kind_for_class("Folder", new_class) != folder.element_kind):
        # Exchange never changes a folder's class (its kind) once set.
        raise err("ErrorObjectTypeChanged", "Object type changed.")
    permission_set = get(new_props, "PermissionSet")
    if permission_set is not None:
        normalise_permission_set(folder.element_kind, permission_set,
                                 known=lambda a: ctx.store.get_mailbox(a) is not None)
    name = get_text(new_props, "DisplayName")
    if not name:
        raise err("ErrorInvalidPropertyDelete", "A folder must keep its DisplayName.")
    if folder.parent is not None and name != folder.display_name and _name_taken(folder.parent, name, folder):
        raise err("ErrorFolderExists", "A folder with the specified name already exists.")
    params = get(new_props, "SearchParameters")
    if folder.element_kind == "SearchFolder" and params is not None:
        folder.search = _search_spec(ctx, params)
    folder.props = new_props
    folder.touch()
    return [m_el("Folders", [id_only(folder)])]


# --- DeleteFolder / EmptyFolder ------------------------------------------------------------------
def _delete_folder(folder: FolderRecord, delete_type: str) -> None:
    mb: Mailbox = folder.mailbox
    if delete_type == "HardDelete":
        mb.remove_folder(folder)
        return
    trash = mb.folder("deleteditems")
    if delete_type == "SoftDelete" or trash is None or trash is folder.parent or trash in folder.ancestors():
        folder.soft_deleted = True
        mb.store.folder_changed(folder, REMOVE)
        if folder.parent is not None:
            folder.parent.touch()
        return
    mb.move_folder(folder, trash)


@handler("DeleteFolder")
def delete_folder(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deletefolder-operation"""
    delete_type = body.get("DeleteType", "HardDelete")
    root, msgs = new_response("DeleteFolder")
    for id_el in children(child(body, "FolderIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            folder = resolve_folder(ctx, id_el)
            if folder.distinguished:
                raise err("ErrorDeleteDistinguishedFolder", "Distinguished folders cannot be deleted.")
            _delete_folder(folder, delete_type)
            return []

        add_result(msgs, "DeleteFolderResponseMessage", one)
    return root


@handler("EmptyFolder")
def empty_folder(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/emptyfolder-operation"""
    delete_type = body.get("DeleteType", "HardDelete")
    delete_subfolders = bool_attr(body, "DeleteSubFolders")
    root, msgs = new_response("EmptyFolder")
    for id_el in children(child(body, "FolderIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            folder = resolve_folder(ctx, id_el)
            if folder.element_kind == "SearchFolder" or folder.distinguished in ("root", "msgfolderroot",
                                                                                "archiveroot", "searchfolders"):
                raise err("ErrorCannotEmptyFolder", "The folder cannot be emptied.")
            for rec in folder.items():
                delete_record(ctx.store, rec, delete_type)
            if delete_subfolders:
                for sub in folder.live_children():
                    if not sub.distinguished:
                        _delete_folder(sub, delete_type)
            return []

        add_result(msgs, "EmptyFolderResponseMessage", one)
    return root


# --- MoveFolder / CopyFolder ---------------------------------------------------------------------
def _copy_tree(src: FolderRecord, parent: FolderRecord) -> FolderRecord:
    store = src.mailbox.store
    new = parent.mailbox.create_folder(parent, src.element_kind, props=copy_element(src.props))
    new.search = src.search
    for associated in (False, True):
        for rec in src.items(associated=associated):
            store.add_item(new, copy_element(rec.elem), associated=associated)
    for sub in sorted(src.live_children(), key=lambda f: f.seq):
        _copy_tree(sub, new)
    return new


def _move_or_copy(ctx: RequestContext, body: etree._Element, operation_name: str) -> etree._Element:
    target_el = child(body, "ToFolderId")
    root, msgs = new_response(operation_name)
    for id_el in children(child(body, "FolderIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            target = resolve_target_folder(ctx, target_el)
            folder = resolve_folder(ctx, id_el)
            if operation_name == "MoveFolder" and folder.distinguished:
                raise err("ErrorMoveDistinguishedFolder", "Cannot move distinguished folder.")
            if folder.mailbox is not target.mailbox:
                raise err("ErrorCrossMailboxMoveCopy", "Folders cannot be moved or copied between mailboxes.")
            if target is folder or folder in target.ancestors():
                raise err("ErrorMoveCopyFailed", "A folder cannot be moved or copied into itself.")
            if _name_taken(target, folder.display_name, folder):
                raise err("ErrorFolderExists", "A folder with the specified name already exists.")
            if operation_name == "MoveFolder":
                folder.mailbox.move_folder(folder, target)
                result = folder
            else:
                result = _copy_tree(folder, target)
            return [m_el("Folders", [id_only(result)])]

        add_result(msgs, f"{operation_name}ResponseMessage", one, error_payload=("m:Folders",))
    return root


@handler("MoveFolder")
def move_folder(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/movefolder-operation"""
    return _move_or_copy(ctx, body, "MoveFolder")


@handler("CopyFolder")
def copy_folder(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/copyfolder-operation"""
    return _move_or_copy(ctx, body, "CopyFolder")
