"""Render stored items and folders into response elements according to an ItemShape/FolderShape.

Base shapes follow Exchange's documentation:
- IdOnly: the id only.
- Default: for GetItem the documented default set per item kind (ItemId, Subject, Sensitivity,
  Body, Attachments, Size, DateTimeSent, DateTimeCreated, HasAttachments, plus kind-specific
  properties); for FindItem the summary properties (everything except bodies, attachments,
  recipient and attendee lists, MIME content); for folders the table on the BaseShape page.
- AllProperties: every stored property except MimeContent (unless IncludeMimeContent) and
  extended properties (which are only returned when requested by ExtendedFieldURI).
Properties the requested RequestServerVersion does not have are never returned.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/baseshape
"""
from __future__ import annotations

import base64
import copy
import email.policy
from email.message import EmailMessage
from email.utils import format_datetime as email_date
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple, cast
from urllib.parse import quote

from lxml import etree

from ...xml import TNS
from .. import schema_tables as tables
from ..context import RequestContext
from ..store import FolderRecord, ItemRecord, encode_attachment_id, version_at_least
from .common import Path, Shape, err, folder_id_element, item_id_element, local
from .props import (ORDER, body_as, ext_path_key, extended_key, field_element_name, find_extended, html_to_text,
                    indexed_entry, insert_ordered, item_type, parse_datetime, property_version_ok)
from .recurrence import master_summary
from .restrictions import search_folder_items

T = f"{{{TNS}}}"

_ITEM_DEFAULT = ("ItemId", "Subject", "Sensitivity", "Body", "Attachments", "Size", "DateTimeSent",
                 "DateTimeCreated", "HasAttachments")
_MESSAGE_DEFAULT = ("ToRecipients", "CcRecipients", "BccRecipients", "IsReadReceiptRequested",
                    "IsDeliveryReceiptRequested", "From", "IsRead")
GET_ITEM_DEFAULT: Dict[str, Set[str]] = {
    "Message": set(_ITEM_DEFAULT + _MESSAGE_DEFAULT),
    "MeetingMessage": set(_ITEM_DEFAULT + _MESSAGE_DEFAULT + ("AssociatedCalendarItemId", "ResponseType")),
    "MeetingRequest": set(_ITEM_DEFAULT + _MESSAGE_DEFAULT + (
        "AssociatedCalendarItemId", "MeetingRequestType", "ResponseType", "Start", "End", "Location",
        "IsAllDayEvent", "Organizer", "RequiredAttendees", "OptionalAttendees", "Resources")),
    "MeetingResponse": set(_ITEM_DEFAULT + _MESSAGE_DEFAULT + ("AssociatedCalendarItemId", "ResponseType")),
    "MeetingCancellation": set(_ITEM_DEFAULT + _MESSAGE_DEFAULT + ("AssociatedCalendarItemId",)),
    "SharingMessage": set(_ITEM_DEFAULT + _MESSAGE_DEFAULT),
    "CalendarItem": set(_ITEM_DEFAULT + (
        "Start", "End", "IsAllDayEvent", "LegacyFreeBusyStatus", "Location", "IsMeeting", "IsCancelled",
        "IsRecurring", "MeetingRequestWasSent", "CalendarItemType", "MyResponseType", "Organizer",
        "RequiredAttendees", "OptionalAttendees", "Resources", "Duration")),
    "Contact": set(_ITEM_DEFAULT + (
        "FileAs", "DisplayName", "GivenName", "MiddleName", "Surname", "CompanyName", "EmailAddresses",
        "PhysicalAddresses", "PhoneNumbers", "JobTitle", "Department")),
    "DistributionList": set(_ITEM_DEFAULT + ("DisplayName", "FileAs", "Members")),
    "Task": set(_ITEM_DEFAULT + ("DueDate", "IsComplete", "PercentComplete", "StartDate", "Status", "Owner")),
    "PostItem": set(_ITEM_DEFAULT + ("From", "IsRead", "PostedTime", "ConversationTopic")),
}

# Properties FindItem cannot return (Exchange answers ErrorInvalidPropertyRequest when asked).
FIND_ITEM_FORBIDDEN_URIS = frozenset({
    "item:Body", "item:MimeContent", "item:MimeContentUTF8", "item:Attachments", "item:UniqueBody",
    "item:NormalizedBody", "message:ToRecipients", "message:CcRecipients", "message:BccRecipients",
    "message:ReplyTo", "calendar:RequiredAttendees", "calendar:OptionalAttendees", "calendar:Resources",
    "calendar:ConflictingMeetings", "calendar:AdjacentMeetings", "calendar:ModifiedOccurrences",
    "calendar:DeletedOccurrences", "distributionlist:Members", "contacts:DirectReports",
})
FIND_ITEM_FORBIDDEN = frozenset(tables.FIELD_URIS[u][1] for u in FIND_ITEM_FORBIDDEN_URIS
                                if u in tables.FIELD_URIS)
# Single mailboxes FindItem returns with the Name only in old schema versions.
_SUMMARY_MAILBOXES = ("From", "Sender", "Organizer", "ReceivedBy", "ReceivedRepresenting")
# Computed properties returned only when asked for by FieldURI (or IncludeMimeContent)
_ON_REQUEST = frozenset({"UniqueBody", "NormalizedBody", "TextBody", "Preview", "MimeContent", "InstanceKey",
                         "StoreEntryId"})

def check_find_item_shape(shape: Shape) -> None:
    """FindItem refuses body, attachment and recipient-list properties, as Exchange does."""
    for p in shape.additional:
        if p.kind == "FieldURI" and p.uri in FIND_ITEM_FORBIDDEN_URIS:
            raise err("ErrorInvalidPropertyRequest", field_uri=p)


def _rights(items: bool) -> etree._Element:
    el = etree.Element(T + "EffectiveRights")
    for name, _ in tables.SEQUENCES["EffectiveRightsType"]:
        value = "false" if items and name.startswith("Create") else "true"
        etree.SubElement(el, T + name).text = value
    return el


def _body(stored: etree._Element, tag: str, wanted: str, ctx: RequestContext) -> etree._Element:
    body_type, text = body_as(stored, wanted)
    el = etree.Element(T + tag, BodyType=body_type)
    if version_at_least(ctx.requested_version, "Exchange2013"):
        el.set("IsTruncated", "false")
    el.text = text
    return el


def mime_content(elem: etree._Element) -> etree._Element:
    """The stored MimeContent, or an RFC 5322 rendering of the item element."""
    stored = elem.find(T + "MimeContent")
    if stored is not None:
        return copy.deepcopy(stored)  # re-parsing would hit libxml2's 10 MB text limit on big MIME
    msg = EmailMessage(policy=email.policy.SMTP)

    def addr_list(name: str) -> str:
        c = elem.find(T + name)
        if c is None:
            return ""
        out = []
        for mb in c.iter(T + "Mailbox"):
            n, a = mb.findtext(T + "Name"), mb.findtext(T + "EmailAddress")
            out.append(f'"{n}" <{a}>' if n and a else (a or n or ""))
        return ", ".join(o for o in out if o)

    for header, name in (("From", "From"), ("Sender", "Sender"), ("To", "ToRecipients"), ("Cc", "CcRecipients")):
        v = addr_list(name)
        if v:
            msg[header] = v
    msg["Subject"] = elem.findtext(T + "Subject") or ""
    when = elem.findtext(T + "DateTimeSent") or elem.findtext(T + "DateTimeCreated")
    if when:
        msg["Date"] = email_date(parse_datetime(when))
    mid = elem.findtext(T + "InternetMessageId")
    if mid:
        msg["Message-ID"] = mid
    body = elem.find(T + "Body")
    text = body.text or "" if body is not None else ""
    if body is not None and body.get("BodyType") == "HTML":
        msg.set_content(text, subtype="html")
    else:
        msg.set_content(text)
    el = etree.Element(T + "MimeContent", CharacterSet="UTF-8")
    el.text = base64.b64encode(msg.as_bytes()).decode("ascii")
    return el


def _summary_mailbox(el: etree._Element) -> etree._Element:
    summary = etree.Element(el.tag)
    for mb in el:
        m = etree.SubElement(summary, T + "Mailbox")
        name = mb.findtext(T + "Name")
        if name is not None:
            etree.SubElement(m, T + "Name").text = name
    return summary


def _copy(el: etree._Element) -> etree._Element:
    return copy.deepcopy(el)


def render_item(ctx: RequestContext, rec: ItemRecord, shape: Shape, find: bool = False,
                elem: Optional[etree._Element] = None) -> etree._Element:
    """The response element of one item for the given shape (GetItem, or FindItem with ``find``).

    ``elem`` renders an item embedded in one of ``rec``'s attachments instead (it has no ids).
    """
    embedded = elem is not None
    stored = rec.elem if elem is None else elem
    kind = local(stored)
    type_name = item_type(kind)
    order = ORDER[type_name]
    req = ctx.requested_version
    if shape.base == "IdOnly":
        wanted: Optional[Set[str]] = {"ItemId"}
    elif shape.base == "Default" and not find:
        wanted = set(GET_ITEM_DEFAULT.get(kind, _ITEM_DEFAULT))
    else:
        wanted = None  # all stored properties
    explicit: Set[str] = set()
    indexed: List[Path] = []
    ext_keys = set()
    for p in shape.additional:
        if p.kind == "FieldURI":
            name = field_element_name(p.uri, type_name)
            if name:
                explicit.add(name)
        elif p.kind == "IndexedFieldURI":
            indexed.append(p)
        else:
            ext_keys.add(ext_path_key(p))
    if shape.include_mime:
        explicit.add("MimeContent")

    def want(name: str) -> bool:
        if name in explicit:
            return True
        if name in _ON_REQUEST or (find and name in FIND_ITEM_FORBIDDEN):
            return False
        return wanted is None or name in wanted

    parts: List[Tuple[int, int, etree._Element]] = []

    def add(name: str, el: etree._Element) -> None:
        if not property_version_ok(name, req):
            return
        parts.append((order.get(name, 10 ** 6), len(parts), el))

    if want("ItemId") and not embedded:
        add("ItemId", item_id_element(rec))
    if want("ParentFolderId") and not embedded:
        add("ParentFolderId", folder_id_element(rec.folder, "ParentFolderId"))
    if want("EffectiveRights"):
        add("EffectiveRights", _rights(items=True))
    if want("IsAssociated") and stored.find(T + "IsAssociated") is None:
        e = etree.Element(T + "IsAssociated")
        e.text = "true" if rec.associated else "false"
        add("IsAssociated", e)
    for name, form in (("WebClientReadFormQueryString", "Read"), ("WebClientEditFormQueryString", "Edit")):
        if want(name) and not embedded:
            e = etree.Element(T + name)
            e.text = f"?ItemID={quote(rec.id, safe='')}&exvsurl=1&viewmodel={form}MessageItem"
            add(name, e)
    if "MimeContent" in explicit:
        add("MimeContent", mime_content(stored))
    body = stored.find(T + "Body")
    if body is not None:
        normalized = shape.normalized_body_type if shape.normalized_body_type != "Best" else "HTML"
        for name, wanted_type in (("UniqueBody", shape.unique_body_type), ("NormalizedBody", normalized),
                                  ("TextBody", "Text")):
            if name in explicit:
                add(name, _body(body, name, wanted_type, ctx))
        if "Preview" in explicit:
            e = etree.Element(T + "Preview")
            e.text = (html_to_text(body.text or "") if body.get("BodyType") == "HTML" else body.text or "")[:255]
            add("Preview", e)
    if "InstanceKey" in explicit:
        e = etree.Element(T + "InstanceKey")
        e.text = base64.b64encode(rec.key).decode("ascii")
        add("InstanceKey", e)
    if "StoreEntryId" in explicit:
        e = etree.Element(T + "StoreEntryId")
        e.text = base64.b64encode(rec.mailbox.store_guid).decode("ascii")
        add("StoreEntryId", e)

    summary_names = find and not version_at_least(req, "Exchange2010")
    if kind == "CalendarItem" and not embedded and stored.find(T + "Recurrence") is not None:
        # A recurring master's occurrence summary is computed from the series, never stored.
        for name, el in master_summary(rec).items():
            if want(name):
                add(name, el)
    for c in stored:
        if not isinstance(c.tag, str) or not c.tag.startswith(T):
            continue  # the server's private bookkeeping (e.g. a series' exceptions) is never shown
        name = local(c)
        if name == "ExtendedProperty":
            uri = c.find(T + "ExtendedFieldURI")
            if uri is not None and extended_key(dict(cast(Dict[str, str], uri.attrib))) in ext_keys:
                add(name, _copy(c))
            continue
        if name in ("MimeContent", "ItemId", "ParentFolderId", "EffectiveRights", "InstanceKey",
                    "StoreEntryId", "WebClientReadFormQueryString", "WebClientEditFormQueryString",
                    "UniqueBody", "NormalizedBody", "TextBody", "Preview"):
            continue
        if not want(name):
            continue
        if name == "Body":
            add(name, _body(c, "Body", shape.body_type, ctx))
        elif summary_names and name in _SUMMARY_MAILBOXES:
            add(name, _summary_mailbox(c))
        elif name == "Attachments":
            add(name, attachments_metadata(rec, c))
        else:
            add(name, _copy(c))

    if indexed:
        containers: Dict[str, etree._Element] = {}
        for p in indexed:
            spec = tables.INDEXED_FIELD_URIS.get(p.uri)
            if spec is None or spec[1] not in order:
                continue
            _owner, container_name, entry_name, index_attr, sub = spec
            if want(container_name) and stored.find(T + container_name) is not None:
                continue  # the whole container is returned anyway
            target = indexed_entry(stored, p)
            if target is None:
                continue
            cont = containers.get(container_name)
            if cont is None:
                cont = etree.Element(T + container_name)
                containers[container_name] = cont
                add(container_name, cont)
            entry = target.getparent() if sub else target
            assert entry is not None  # a sub-entry always sits inside its entry
            existing = [e for e in cont if e.get(index_attr) == entry.get(index_attr)]
            if sub:
                holder = existing[0] if existing else etree.SubElement(
                    cont, entry.tag, **cast(Dict[str, Any], {index_attr: entry.get(index_attr, "")}))
                if holder.find(T + sub) is None:
                    insert_ordered(holder, _copy(target), "PhysicalAddressDictionaryEntryType")
            elif not existing:
                cont.append(_copy(entry))
    out = etree.Element(stored.tag)
    for _pos, _i, el in sorted(parts, key=lambda t: (t[0], t[1])):
        out.append(el)
    return out


def public_attachment_id(rec: ItemRecord, stored: etree._Element, root_ids: bool = False) -> etree._Element:
    """The public AttachmentId element for a stored attachment of ``rec``."""
    token_el = stored.find(T + "AttachmentId")
    token = base64.b64decode(token_el.get("Id", "")) if token_el is not None else b""
    el = etree.Element(T + "AttachmentId",
                       Id=encode_attachment_id(rec.mailbox.primary_smtp_address, rec.key, token))
    if root_ids:
        el.set("RootItemId", rec.id)
        el.set("RootItemChangeKey", rec.changekey)
    return el


def attachments_metadata(rec: ItemRecord, atts: etree._Element) -> etree._Element:
    """GetItem returns attachment metadata (id, name, type, size ...), never the content."""
    out = etree.Element(atts.tag)
    for a in atts:
        if not isinstance(a.tag, str):
            continue
        meta = etree.SubElement(out, a.tag)
        for c in a:
            if not isinstance(c.tag, str):
                continue
            name = local(c)
            if name == "AttachmentId":
                meta.append(public_attachment_id(rec, a))
            elif name != "Content" and name not in tables.ITEM_ELEMENTS:
                meta.append(_copy(c))
    return out


# --- Folders -------------------------------------------------------------------------------------
_FOLDER_DEFAULT = {
    "Folder": ("FolderId", "DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"),
    "SearchFolder": ("FolderId", "DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"),
    "TasksFolder": ("FolderId", "DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"),
    "ContactsFolder": ("FolderId", "DisplayName", "TotalCount", "ChildFolderCount"),
    "CalendarFolder": ("FolderId", "DisplayName", "ChildFolderCount"),
}
_FOLDER_ALL = ("FolderId", "ParentFolderId", "FolderClass", "DisplayName", "TotalCount", "ChildFolderCount",
               "EffectiveRights", "UnreadCount", "SearchParameters", "SharingEffectiveRights")


def folder_items(folder: FolderRecord) -> List[ItemRecord]:
    """The items a folder shows: its own, or a search folder's matches."""
    if folder.element_kind == "SearchFolder":
        return search_folder_items(folder)
    return folder.items()


def unread_count(items: Iterable[ItemRecord]) -> int:
    return sum(1 for r in items if r.elem.findtext(T + "IsRead") == "false")


def _default_permissions(folder: FolderRecord) -> etree._Element:
    calendar = folder.element_kind == "CalendarFolder"
    ps = etree.Element(T + ("PermissionSet"))
    arr = etree.SubElement(ps, T + ("CalendarPermissions" if calendar else "Permissions"))
    for user, level in (("Default", "FreeBusyTimeOnly" if calendar else "None"), ("Anonymous", "None")):
        p = etree.SubElement(arr, T + ("CalendarPermission" if calendar else "Permission"))
        uid = etree.SubElement(p, T + "UserId")
        etree.SubElement(uid, T + "DistinguishedUser").text = user
        for n in ("CanCreateItems", "CanCreateSubFolders", "IsFolderOwner"):
            etree.SubElement(p, T + n).text = "false"
        etree.SubElement(p, T + "IsFolderVisible").text = "false"
        etree.SubElement(p, T + "IsFolderContact").text = "false"
        etree.SubElement(p, T + "EditItems").text = "None"
        etree.SubElement(p, T + "DeleteItems").text = "None"
        etree.SubElement(p, T + "ReadItems").text = "TimeOnly" if calendar and user == "Default" else "None"
        etree.SubElement(p, T + ("CalendarPermissionLevel" if calendar else "PermissionLevel")).text = level
    return ps


# MAPI properties the store computes for folders (by property tag): the total size of the items in
# bytes (PR_MESSAGE_SIZE), the item count (PR_CONTENT_COUNT), the unread count (PR_CONTENT_UNREAD) and
# whether there are subfolders (PR_SUBFOLDERS).
_COMPUTED_FOLDER_TAGS = {0x0E08: "size", 0x3602: "count", 0x3603: "unread", 0x360A: "subfolders"}


def _computed_folder_property(folder: FolderRecord, path: Path) -> Optional[etree._Element]:
    key = ext_path_key(path)
    what = _COMPUTED_FOLDER_TAGS.get(key[1]) if key[0] == "tag" else None
    if what is None:
        return None
    items = folder_items(folder)
    if what == "size":
        value = str(sum(int(r.elem.findtext(T + "Size") or 0) for r in items))
    elif what == "count":
        value = str(len(items))
    elif what == "unread":
        value = str(unread_count(items))
    else:
        value = "true" if folder.live_children() else "false"
    ep = etree.Element(T + "ExtendedProperty")
    ep.append(etree.Element(T + "ExtendedFieldURI", **cast(Dict[str, Any], path.ext_attrs)))
    etree.SubElement(ep, T + "Value").text = value
    return ep


def render_folder(ctx: RequestContext, folder: FolderRecord, shape: Shape) -> etree._Element:
    """The response element of one folder for the given FolderShape."""
    kind = folder.element_kind
    type_name = item_type(kind)
    order = ORDER[type_name]
    req = ctx.requested_version
    if shape.base == "IdOnly":
        wanted = {"FolderId"}
    elif shape.base == "Default":
        wanted = set(_FOLDER_DEFAULT.get(kind, _FOLDER_DEFAULT["Folder"]))
    else:
        wanted = set(_FOLDER_ALL)
        wanted.update(local(c) for c in folder.props if isinstance(c.tag, str) and local(c) not in (
            "ExtendedProperty", "PermissionSet"))
    ext_keys = set()
    ext_paths: List[Path] = []
    for p in shape.additional:
        if p.kind == "FieldURI":
            name = field_element_name(p.uri, type_name)
            if name:
                wanted.add(name)
        elif p.kind == "ExtendedFieldURI":
            ext_keys.add(ext_path_key(p))
            ext_paths.append(p)
    parts: List[Tuple[int, int, etree._Element]] = []

    def add(name: str, el: etree._Element) -> None:
        if name not in order or not property_version_ok(name, req, folder=True):
            return
        parts.append((order[name], len(parts), el))

    def text_el(name: str, text: str) -> etree._Element:
        e = etree.Element(T + name)
        e.text = text
        return e

    items: Optional[List[ItemRecord]] = None
    if "FolderId" in wanted:
        add("FolderId", folder_id_element(folder))
    if "ParentFolderId" in wanted and folder.parent is not None:
        add("ParentFolderId", folder_id_element(folder.parent, "ParentFolderId"))
    if "TotalCount" in wanted or "UnreadCount" in wanted:
        items = folder_items(folder)
    if "TotalCount" in wanted:
        add("TotalCount", text_el("TotalCount", str(len(items or []))))
    if "ChildFolderCount" in wanted:
        add("ChildFolderCount", text_el("ChildFolderCount", str(len(folder.live_children()))))
    if "UnreadCount" in wanted:
        add("UnreadCount", text_el("UnreadCount", str(unread_count(items or []))))
    if "EffectiveRights" in wanted:
        add("EffectiveRights", _rights(items=False))
    if "DistinguishedFolderId" in wanted and folder.distinguished:
        add("DistinguishedFolderId", text_el("DistinguishedFolderId", folder.distinguished))
    if "SharingEffectiveRights" in wanted and kind in ("CalendarFolder", "ContactsFolder"):
        add("SharingEffectiveRights", text_el("SharingEffectiveRights", "FullDetails"))
    if "PermissionSet" in wanted and folder.props.find(T + "PermissionSet") is None:
        add("PermissionSet", _default_permissions(folder))
    for c in folder.props:
        if not isinstance(c.tag, str):
            continue
        name = local(c)
        if name == "ExtendedProperty":
            uri = c.find(T + "ExtendedFieldURI")
            if uri is not None and extended_key(dict(cast(Dict[str, str], uri.attrib))) in ext_keys:
                add(name, _copy(c))
        elif name in wanted:
            add(name, _copy(c))
    for p in ext_paths:
        if find_extended(folder.props, ext_path_key(p)) is None:
            computed = _computed_folder_property(folder, p)
            if computed is not None:
                add("ExtendedProperty", computed)
    out = etree.Element(T + kind)
    for _pos, _i, el in sorted(parts, key=lambda t: (t[0], t[1])):
        out.append(el)
    return out
