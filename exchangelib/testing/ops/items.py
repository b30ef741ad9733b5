"""Item operations: GetItem, CreateItem, UpdateItem, DeleteItem, SendItem, MoveItem, CopyItem.

Each input gets one ResponseMessage, in input order; a failing input gets an Error message in
place and the others still run.

Conflict resolution in UpdateItem (a ChangeKey that is not the item's current one):
NeverOverwrite answers ErrorIrresolvableConflict; AutoResolve applies the change unless one of
the properties it writes was written since the version the ChangeKey names (or that version is
too old to know), and then answers ErrorIrresolvableConflict; AlwaysOverwrite applies it. A
missing ChangeKey always applies.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, cast

from lxml import etree

from ...xml import TNS
from .. import schema_tables as tables
from ..context import RequestContext
from ..store import FolderRecord, ItemRecord, Store
from .access import record_creator
from .common import (Path, add_result, bool_text, child, children, err, find_path, handler, item_id_element, local,
                     m_el, new_response, parse_shape, resolve_item, resolve_target_folder, t_el)
from .delivery import attendee_set, send_cancellations, send_invitations, send_message
from .props import (CHILD_TYPES, ORDER, ext_path_key, field_element_name, find_extended, get, get_text,
                    insert_ordered, item_type, remove_prop, set_prop)
from .recurrence import SERIES_PROPERTIES, OccurrenceRecord, delete_occurrence, resolve_item_or_occurrence
from .recurrence import reset as reset_series
from .render import public_attachment_id, render_item
from .responses import RESPONSE_KINDS, create_response
from .stamp import (MESSAGE_KINDS, READ_ONLY, check_client_properties, check_lengths, copy_element, restamp,
                    stamp_new)
from .tasks import split_completed, split_moved

T = f"{{{TNS}}}"

_ID_TAGS = (T + "ItemId", T + "OccurrenceItemId", T + "RecurringMasterItemId")
_SEND_TO_ALL = ("SendOnlyToAll", "SendToAllAndSaveCopy")
_SEND_TO_CHANGED = ("SendOnlyToChanged", "SendToChangedAndSaveCopy")
# AppendToItemField works on these properties only.
_APPENDABLE = frozenset({"ToRecipients", "CcRecipients", "BccRecipients", "ReplyTo", "RequiredAttendees",
                         "OptionalAttendees", "Resources", "Body", "Members"})
# Properties DeleteItemField may not remove.
_NOT_DELETABLE = frozenset({"Start", "End", "ItemClass", "UID"})
# Default folder for a new item of each kind (SaveOnly, no SavedItemFolderId).
_DEFAULT_FOLDER = {"CalendarItem": "calendar", "Contact": "contacts", "DistributionList": "contacts",
                   "Task": "tasks", "PostItem": "inbox"}
_FOLDER_KIND_RULES = {
    "CalendarItem": ("CalendarFolder", "ErrorCannotCreateCalendarItemInNonCalendarFolder",
                     "Calendar items can only be created in calendar folders."),
    "Contact": ("ContactsFolder", "ErrorCannotCreateContactInNonContactFolder",
                "Contacts can only be created in contact folders."),
    "DistributionList": ("ContactsFolder", "ErrorCannotCreateContactInNonContactFolder",
                         "Distribution lists can only be created in contact folders."),
    "Task": ("TasksFolder", "ErrorCannotCreateTaskInNonTaskFolder", "Tasks can only be created in task folders."),
}


def id_only(rec: ItemRecord, with_attachments: bool = False) -> etree._Element:
    """The item element with just its ItemId; with ``with_attachments`` also the ids of its attachments
    (CreateItem answers so: a client learns the ids of the attachments it sent inline)."""
    el = etree.Element(rec.elem.tag)
    el.append(item_id_element(rec))
    atts = rec.elem.find(T + "Attachments") if with_attachments else None
    if atts is not None and len(atts):
        out = etree.SubElement(el, T + "Attachments")
        for a in atts:
            if isinstance(a.tag, str):
                etree.SubElement(out, a.tag).append(public_attachment_id(rec, a, root_ids=True))
    return el


def _required(code: str, attribute: str, what: str) -> Exception:
    return err(code, f"{attribute} attribute is required for {what}.")


# --- GetItem -------------------------------------------------------------------------------------
@handler("GetItem")
def get_item(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getitem-operation"""
    shape = parse_shape(child(body, "ItemShape"))
    root, msgs = new_response("GetItem")
    for id_el in children(child(body, "ItemIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            rec = resolve_item_or_occurrence(ctx, id_el)
            return [m_el("Items", [render_item(ctx, rec, shape)])]

        add_result(msgs, "GetItemResponseMessage", one, error_payload=("m:Items",))
    return root


# --- CreateItem ----------------------------------------------------------------------------------
def _check_folder_kind(kind: str, folder: FolderRecord) -> None:
    rule = _FOLDER_KIND_RULES.get(kind)
    if rule and folder.element_kind != rule[0]:
        raise err(rule[1], rule[2])


@handler("CreateItem")
def create_item(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation"""
    disposition = body.get("MessageDisposition")
    invitations = body.get("SendMeetingInvitations")
    saved_el = child(body, "SavedItemFolderId")
    root, msgs = new_response("CreateItem")
    for item_el in children(child(body, "Items")):
        add_result(msgs, "CreateItemResponseMessage",
                   lambda e=item_el: _create_one(ctx, e, disposition, invitations, saved_el),
                   error_payload=("m:Items",))
    return root


def _create_one(ctx: RequestContext, item_el: etree._Element, disposition: Optional[str],
                invitations: Optional[str], saved_el: Optional[etree._Element]) -> List[etree._Element]:
    store = ctx.store
    elem = copy_element(item_el)
    kind = "Message" if local(elem) == "Item" else local(elem)
    if kind in RESPONSE_KINDS:  # a reply, forward, meeting answer or cancellation
        return create_response(ctx, elem, disposition,
                               resolve_target_folder(ctx, saved_el) if saved_el is not None else None)
    is_message = kind in MESSAGE_KINDS
    if is_message and disposition is None:
        raise err("ErrorMessageDispositionRequired", "MessageDisposition attribute is required.")
    if kind == "CalendarItem" and invitations is None:
        raise _required("ErrorSendMeetingInvitationsRequired", "SendMeetingInvitations", "calendar items")
    check_client_properties(elem, allow=("IsAssociated",))
    folder = resolve_target_folder(ctx, saved_el) if saved_el is not None else None
    mailbox = folder.mailbox if folder is not None else ctx.mailbox
    if is_message and disposition in ("SendOnly", "SendAndSaveCopy"):
        stamp_new(store, mailbox, elem, draft=False)
        save_in = None
        if disposition == "SendAndSaveCopy":
            save_in = folder or mailbox.folder("sentitems")
        send_message(store, mailbox, elem, save_in)
        return [m_el("Items")]
    if folder is None:
        folder = mailbox.folder(_DEFAULT_FOLDER.get(kind, "drafts"))
        if folder is None:
            raise err("ErrorFolderNotFound")
    _check_folder_kind(kind, folder)
    associated = bool_text(get(elem, "IsAssociated"))
    stamp_new(store, mailbox, elem, draft=is_message)
    rec = store.add_item(folder, elem, associated=associated)
    record_creator(rec, ctx.caller)
    if kind == "CalendarItem" and invitations in _SEND_TO_ALL and get_text(elem, "IsMeeting") == "true":
        send_invitations(store, rec, save_copy=invitations.endswith("SaveCopy"))
    return [m_el("Items", [id_only(rec, with_attachments=True)])]


# --- UpdateItem ----------------------------------------------------------------------------------
@handler("UpdateItem")
def update_item(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem-operation"""
    options: Dict[str, Any] = {
        "conflict": body.get("ConflictResolution", "AutoResolve"),
        "disposition": body.get("MessageDisposition"),
        "invitations": body.get("SendMeetingInvitationsOrCancellations"),
        "saved_el": child(body, "SavedItemFolderId"),
    }
    root, msgs = new_response("UpdateItem")
    for change in children(child(body, "ItemChanges")):
        add_result(msgs, "UpdateItemResponseMessage", lambda c=change: _update_one(ctx, c, **options),
                   error_payload=("m:Items",))
    return root


def _conflict_results(count: int = 0) -> etree._Element:
    return m_el("ConflictResults", [t_el("Count", str(count))])


def _update_one(ctx: RequestContext, change: etree._Element, conflict: str, disposition: Optional[str],
                invitations: Optional[str], saved_el: Optional[etree._Element]) -> List[etree._Element]:
    store = ctx.store
    id_el = next((c for c in change if c.tag in _ID_TAGS), None)
    if id_el is None:
        raise err("ErrorInvalidIdEmpty")
    rec = resolve_item_or_occurrence(ctx, id_el)
    kind = rec.element_kind
    type_name = item_type(kind)
    is_message = kind in MESSAGE_KINDS
    if is_message and disposition is None:
        raise err("ErrorMessageDispositionRequired", "MessageDisposition attribute is required.")
    if kind == "CalendarItem" and invitations is None:
        raise _required("ErrorSendMeetingInvitationsOrCancellationsRequired",
                        "SendMeetingInvitationsOrCancellations", "calendar items")
    new_elem = copy_element(rec.elem)
    written: Set[str] = set()
    for upd in children(child(change, "Updates")):
        written |= apply_update(new_elem, type_name, upd)
    changekey = id_el.get("ChangeKey")
    if changekey and changekey != rec.changekey and conflict != "AlwaysOverwrite":
        changed = rec.changed_since(changekey) if conflict == "AutoResolve" else None
        if changed is None or changed & written:
            raise err("ErrorIrresolvableConflict")
    if isinstance(rec, OccurrenceRecord):
        if "Recurrence" in written:
            raise err("ErrorInvalidPropertySet", "An occurrence's recurrence can't be set; change the master.")
    elif kind == "CalendarItem" and written & SERIES_PROPERTIES:
        reset_series(new_elem)  # a changed pattern or time drops the exceptions and deletions
    old_attendees = attendee_set(rec.elem)
    check_lengths(new_elem, "ErrorPropertyUpdate")
    if kind == "Task" and not isinstance(rec, OccurrenceRecord):
        # completing the current instance of a recurring task, or moving one of a non-regenerating series
        if not split_completed(store, rec.mailbox, rec.folder, rec.elem, new_elem):
            split_moved(store, rec.mailbox, rec.folder, rec.elem, new_elem)
    restamp(store, rec.mailbox, new_elem)
    rec.elem = new_elem
    rec.touch(written)
    if is_message and disposition in ("SendOnly", "SendAndSaveCopy"):
        save_in = None
        if disposition == "SendAndSaveCopy":
            save_in = resolve_target_folder(ctx, saved_el) if saved_el is not None else \
                rec.mailbox.folder("sentitems")
        send_message(store, rec.mailbox, copy_element(rec.elem), save_in)
        store.remove_item(rec)
        return [m_el("Items"), _conflict_results()]
    if kind == "CalendarItem" and get_text(rec.elem, "IsOrganizer") != "false" and invitations not in (
            None, "SendToNone"):
        new_attendees = attendee_set(rec.elem)
        removed = [a for a in old_attendees if a not in new_attendees]
        added = [a for a in new_attendees if a not in old_attendees]
        was_sent = get_text(rec.elem, "MeetingRequestWasSent") == "true"
        save_copy = invitations.endswith("SaveCopy")
        if invitations in _SEND_TO_ALL and new_attendees:
            send_invitations(store, rec, update=was_sent, save_copy=save_copy)
        elif invitations in _SEND_TO_CHANGED and added:
            send_invitations(store, rec, added, update=False, save_copy=save_copy)
        if removed:
            send_cancellations(store, rec, removed, save_copy=save_copy)
    return [m_el("Items", [id_only(rec)]), _conflict_results()]


def _value_item(upd: etree._Element) -> Optional[etree._Element]:
    for c in upd:
        if isinstance(c.tag, str) and c.tag not in (T + "FieldURI", T + "IndexedFieldURI", T + "ExtendedFieldURI"):
            return c
    return None


def _error_for(op: str) -> str:
    return {"SetItemField": "ErrorInvalidPropertySet", "SetFolderField": "ErrorInvalidPropertySet",
            "AppendToItemField": "ErrorInvalidPropertyAppend", "AppendToFolderField": "ErrorInvalidPropertyAppend",
            }.get(op, "ErrorInvalidPropertyDelete")


def apply_update(elem: etree._Element, type_name: str, upd: etree._Element,
                 read_only: frozenset = READ_ONLY) -> Set[str]:
    """Apply one Set/Append/Delete change description to ``elem``; returns the property names written.

    Shared by UpdateItem and UpdateFolder (whose change descriptions have the same shape).
    """
    op = local(upd)
    path = find_path(upd)
    if path is None:
        raise err("ErrorInvalidRequest", "The change description has no property path.")
    deleting = op.startswith("Delete")
    appending = op.startswith("Append")
    value = None if deleting else _value_item(upd)
    if path.kind == "FieldURI":
        name = field_element_name(path.uri, type_name)
        if name is None or name in read_only:
            raise err(_error_for(op), field_uri=path)
        if deleting:
            if name in _NOT_DELETABLE:
                raise err("ErrorInvalidPropertyDelete", field_uri=path)
            remove_prop(elem, name)
            return {name}
        props = children(value)
        if len(props) != 1 or local(props[0]) != name:
            raise err("ErrorIncorrectUpdatePropertyCount", field_uri=path)
        new = copy_element(props[0])
        existing = get(elem, name)
        if appending:
            if name not in _APPENDABLE:
                raise err("ErrorInvalidPropertyAppend", field_uri=path)
            if existing is not None:
                if name == "Body":
                    existing.text = (existing.text or "") + (new.text or "")
                else:
                    for c in list(new):
                        existing.append(c)
                return {name}
        set_prop(elem, name, elem=new, type_name=type_name)
        return {name}
    if path.kind == "IndexedFieldURI":
        spec = tables.INDEXED_FIELD_URIS.get(path.uri)
        if spec is None or spec[1] not in ORDER.get(type_name, {}):
            raise err(_error_for(op), field_uri=path)
        if appending:
            raise err("ErrorInvalidPropertyAppend", field_uri=path)
        _owner, container_name, entry_name, index_attr, sub = spec
        container_type = CHILD_TYPES[type_name][container_name]
        entry_type = CHILD_TYPES.get(container_type, {}).get(entry_name, "")
        container = get(elem, container_name)
        entry = None
        if container is not None:
            entry = next((e for e in container.findall(T + entry_name) if e.get(index_attr) == path.index), None)
        if deleting:
            if entry is not None:
                assert container is not None  # entry was found inside it
                if sub:
                    remove_prop(entry, sub)
                    if len(entry) == 0:
                        container.remove(entry)
                else:
                    container.remove(entry)
                if container is not None and len(container) == 0:
                    elem.remove(container)
            return {container_name}
        given_container = value.find(T + container_name) if value is not None else None
        given = children(given_container)
        if len(children(value)) != 1 or len(given) != 1 or given[0].get(index_attr) != path.index:
            raise err("ErrorIncorrectUpdatePropertyCount", field_uri=path)
        if container is None:
            container = set_prop(elem, container_name, elem=etree.Element(T + container_name), type_name=type_name)
        if sub:
            sub_el = given[0].find(T + sub)
            if sub_el is None or len(given[0]) != 1:
                raise err("ErrorIncorrectUpdatePropertyCount", field_uri=path)
            if entry is None:
                entry = etree.SubElement(container, T + entry_name, **cast(Dict[str, Any], {index_attr: path.index}))
            set_prop(entry, sub, elem=copy_element(sub_el), type_name=entry_type)
        else:
            if entry is not None:
                container.replace(entry, copy_element(given[0]))
            else:
                container.append(copy_element(given[0]))
        return {container_name}
    # ExtendedFieldURI
    key = ext_path_key(path)
    if appending:
        raise err("ErrorInvalidPropertyAppend", field_uri=path)
    existing = find_extended(elem, key)
    if deleting:
        if existing is not None:
            elem.remove(existing)
        return {f"ExtendedProperty:{key}"}
    props = children(value)
    if len(props) != 1 or local(props[0]) != "ExtendedProperty":
        raise err("ErrorIncorrectUpdatePropertyCount", field_uri=path)
    uri = props[0].find(T + "ExtendedFieldURI")
    if uri is None or ext_path_key(
            Path("ExtendedFieldURI", ext=tuple(sorted(cast(Dict[str, str], uri.attrib).items())))) != key:
        raise err("ErrorIncorrectUpdatePropertyCount", field_uri=path)
    if existing is not None:
        elem.replace(existing, copy_element(props[0]))
    else:
        insert_ordered(elem, copy_element(props[0]), type_name)
    return {f"ExtendedProperty:{key}"}


# --- DeleteItem ----------------------------------------------------------------------------------
def delete_record(store: Store, rec: ItemRecord, delete_type: str) -> None:
    """Delete an item as DeleteType says (HardDelete, SoftDelete or MoveToDeletedItems)."""
    if delete_type == "HardDelete":
        store.remove_item(rec)
        return
    trash = rec.mailbox.folder("deleteditems")
    dumpster_root = rec.mailbox.folder("recoverableitemsroot")
    in_dumpster = dumpster_root is not None and (rec.folder is dumpster_root or dumpster_root in
                                                 list(rec.folder.ancestors()))
    if delete_type == "SoftDelete" or trash is None or rec.folder is trash or in_dumpster:
        store.soft_delete_item(rec)
        return
    store.move_item(rec, trash)


@handler("DeleteItem")
def delete_item(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteitem-operation"""
    delete_type = body.get("DeleteType", "HardDelete")
    cancellations = body.get("SendMeetingCancellations")
    affected = body.get("AffectedTaskOccurrences")
    root, msgs = new_response("DeleteItem")
    for id_el in children(child(body, "ItemIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            rec = resolve_item_or_occurrence(ctx, id_el)
            kind = rec.element_kind
            if kind == "CalendarItem" and cancellations is None:
                raise _required("ErrorSendMeetingCancellationsRequired", "SendMeetingCancellations",
                                "calendar items")
            if kind == "Task" and affected is None:
                raise _required("ErrorAffectedTaskOccurrencesRequired", "AffectedTaskOccurrences", "task items")
            if kind == "CalendarItem" and cancellations in _SEND_TO_ALL and \
                    get_text(rec.elem, "IsMeeting") == "true" and get_text(rec.elem, "IsOrganizer") != "false":
                send_cancellations(ctx.store, rec, save_copy=cancellations.endswith("SaveCopy"))
            if isinstance(rec, OccurrenceRecord):
                delete_occurrence(rec)
            else:
                delete_record(ctx.store, rec, delete_type)
            return []

        add_result(msgs, "DeleteItemResponseMessage", one)
    return root


# --- SendItem ------------------------------------------------------------------------------------
@handler("SendItem")
def send_item(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/senditem-operation"""
    save = body.get("SaveItemToFolder", "true") in ("true", "1")
    saved_el = child(body, "SavedItemFolderId")
    root, msgs = new_response("SendItem")
    for id_el in children(child(body, "ItemIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            rec = resolve_item(ctx, id_el, check_changekey=True)
            if rec.element_kind not in MESSAGE_KINDS:
                raise err("ErrorInvalidItemForOperationSendItem",
                          "The item is not valid for the SendItem operation.")
            if not save and saved_el is not None:
                raise err("ErrorInvalidSendItemSaveSettings",
                          "SavedItemFolderId can only be given when SaveItemToFolder is true.")
            target = None
            if save:
                target = resolve_target_folder(ctx, saved_el) if saved_el is not None else \
                    rec.mailbox.folder("sentitems")
            send_message(ctx.store, rec.mailbox, copy_element(rec.elem), target)
            ctx.store.remove_item(rec)
            return []

        add_result(msgs, "SendItemResponseMessage", one)
    return root


# --- MoveItem / CopyItem -------------------------------------------------------------------------
def _move_or_copy(ctx: RequestContext, body: etree._Element, operation_name: str) -> etree._Element:
    target_el = child(body, "ToFolderId")
    return_ids = bool_text(child(body, "ReturnNewItemIds"), default=True)
    root, msgs = new_response(operation_name)
    for id_el in children(child(body, "ItemIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            target = resolve_target_folder(ctx, target_el)
            rec = resolve_item(ctx, id_el)
            if operation_name == "MoveItem":
                new = ctx.store.move_item(rec, target)
            else:
                new = ctx.store.copy_item(rec, target, copy_element(rec.elem))
                restamp(ctx.store, target.mailbox, new.elem)
            return [m_el("Items", [id_only(new)] if return_ids else [])]

        add_result(msgs, f"{operation_name}ResponseMessage", one, error_payload=("m:Items",))
    return root


@handler("MoveItem")
def move_item(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/moveitem-operation"""
    return _move_or_copy(ctx, body, "MoveItem")


@handler("CopyItem")
def copy_item(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/copyitem-operation"""
    return _move_or_copy(ctx, body, "CopyItem")

