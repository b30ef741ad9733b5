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

# Body formats FindItem accepts in AdditionalProperties but never returns ("FindItem does not return any
# of the message body formats"); other streamable properties come back cut to 512 bytes / 255 characters.
# https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation
FIND_ITEM_SILENT_URIS = frozenset({"item:Body", "item:UniqueBody", "item:NormalizedBody", "item:TextBody"})
FIND_ITEM_SILENT = frozenset(tables.FIELD_URIS[u][1] for u in FIND_ITEM_SILENT_URIS if u in tables.FIELD_URIS)
FIND_STREAM_CHARS = 255
FIND_STREAM_BYTES = 512
# Properties FindItem cannot return (Exchange answers ErrorInvalidPropertyRequest when asked).
FIND_ITEM_FORBIDDEN_URIS = frozenset({
    "item:MimeContent", "item:MimeContentUTF8", "item:Attachments", "message:ToRecipients", "message:CcRecipients", "message:BccRecipients",
    "message:ReplyTo", "calendar:RequiredAttendees", "calendar:OptionalAttendees", "calendar:Resources",
    "calendar:ConflictingMeetings", "calendar:AdjacentMeetings", "calendar:ModifiedOccurrences",
    "calendar:DeletedOccurrences", "distributionlist:Members", "contacts:DirectReports",
})
FIND_ITEM_FORBIDDEN = frozenset(tables.FIELD_URIS[u][1] for u in FIND_ITEM_FORBIDDEN_URIS
                                if u in tables.FIELD_URIS) | FIND_ITEM_SILENT
# Single mailboxes FindItem returns with the Name only in old schema versions.
_SUMMARY_MAILBOXES = ("From", "Sender", "Organizer", "ReceivedBy", "ReceivedRepresenting")
# Computed properties returned only when asked for by FieldURI (or IncludeMimeContent)
_ON_REQUEST = frozenset({"UniqueBody", "NormalizedBody", "TextBody", "Preview", "MimeContent", "InstanceKey",
                         "StoreEntryId"})

def check_find_item_shape(shape: Shape) -> None:
    """FindItem refuses attachment, MIME and recipient-list properties; it accepts body formats (and omits them)."""
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


class _Parts:
    """The child elements of one rendered item or folder, put in the XSD's sequence order at the end."""

    def __init__(self, order: Dict[str, int], version: str, folder: bool = False):
        self.order = order
        self.version = version
        self.folder = folder
        self._parts: List[Tuple[int, int, etree._Element]] = []

    def add(self, name: str, el: etree._Element) -> None:
        if self.folder and name not in self.order:
            return
        if not property_version_ok(name, self.version, folder=self.folder):
            return
        self._parts.append((self.order.get(name, 10 ** 6), len(self._parts), el))

    def element(self, tag: str) -> etree._Element:
        out = etree.Element(tag)
        for _pos, _i, el in sorted(self._parts, key=lambda t: (t[0], t[1])):
            out.append(el)
        return out


def _text_el(name: str, text: str) -> etree._Element:
    e = etree.Element(T + name)
    e.text = text
    return e


class _ItemSelection:
    """Which properties of an item an ItemShape asks for."""

    def __init__(self, shape: Shape, kind: str, type_name: str, find: bool, whole_values: bool = False):
        self.find = find
        # FindItem cuts streamable values short and leaves out body formats even when asked for them;
        # SyncFolderItems (``whole_values``) lists items like FindItem but returns what is asked for, whole.
        self.cut = find and not whole_values
        if shape.base == "IdOnly":
            self.wanted: Optional[Set[str]] = {"ItemId"}
        elif shape.base == "Default" and not find:
            self.wanted = set(GET_ITEM_DEFAULT.get(kind, _ITEM_DEFAULT))
        else:
            self.wanted = None  # all stored properties
        self.explicit: Set[str] = set()
        self.indexed: List[Path] = []
        self.ext_keys: Set[Any] = set()
        for p in shape.additional:
            if p.kind == "FieldURI":
                name = field_element_name(p.uri, type_name)
                if name:
                    self.explicit.add(name)
            elif p.kind == "IndexedFieldURI":
                self.indexed.append(p)
            else:
                self.ext_keys.add(ext_path_key(p))
        if shape.include_mime:
            self.explicit.add("MimeContent")
        if self.cut:
            self.explicit -= FIND_ITEM_SILENT

    def want(self, name: str) -> bool:
        if name in self.explicit:
            return True
        if name in _ON_REQUEST or (self.find and name in FIND_ITEM_FORBIDDEN):
            return False
        return self.wanted is None or name in self.wanted


def _render_item_ids(rec: ItemRecord, stored: etree._Element, sel: _ItemSelection, parts: _Parts,
                     embedded: bool) -> None:
    """ItemId, ParentFolderId, EffectiveRights, IsAssociated and the OWA links: what the store computes."""
    if sel.want("ItemId") and not embedded:
        parts.add("ItemId", item_id_element(rec))
    if sel.want("ParentFolderId") and not embedded:
        parts.add("ParentFolderId", folder_id_element(rec.folder, "ParentFolderId"))
    if sel.want("EffectiveRights"):
        parts.add("EffectiveRights", _rights(items=True))
    if sel.want("IsAssociated") and stored.find(T + "IsAssociated") is None:
        parts.add("IsAssociated", _text_el("IsAssociated", "true" if rec.associated else "false"))
    if embedded:
        return
    for name, form in (("WebClientReadFormQueryString", "Read"), ("WebClientEditFormQueryString", "Edit")):
        if sel.want(name):
            parts.add(name, _text_el(name, f"?ItemID={quote(rec.id, safe='')}&exvsurl=1&viewmodel={form}MessageItem"))


def _render_on_request(ctx: RequestContext, rec: ItemRecord, stored: etree._Element, sel: _ItemSelection,
                       shape: Shape, parts: _Parts) -> None:
    """Properties returned only when named: MIME content, the body variants, InstanceKey, StoreEntryId."""
    explicit = sel.explicit
    if not explicit & _ON_REQUEST:
        return
    if "MimeContent" in explicit:
        parts.add("MimeContent", mime_content(stored))
    body = stored.find(T + "Body")
    if body is not None:
        normalized = shape.normalized_body_type if shape.normalized_body_type != "Best" else "HTML"
        for name, wanted_type in (("UniqueBody", shape.unique_body_type), ("NormalizedBody", normalized),
                                  ("TextBody", "Text")):
            if name in explicit:
                parts.add(name, _body(body, name, wanted_type, ctx))
        if "Preview" in explicit:
            text = html_to_text(body.text or "") if body.get("BodyType") == "HTML" else body.text or ""
            parts.add("Preview", _text_el("Preview", text[:255]))
    if "InstanceKey" in explicit:
        parts.add("InstanceKey", _text_el("InstanceKey", base64.b64encode(rec.key).decode("ascii")))
    if "StoreEntryId" in explicit:
        parts.add("StoreEntryId", _text_el("StoreEntryId", base64.b64encode(rec.mailbox.store_guid).decode("ascii")))


def _render_series_summary(rec: ItemRecord, stored: etree._Element, sel: _ItemSelection, parts: _Parts) -> None:
    """A recurring calendar master's occurrence summary, computed from the series (never stored)."""
    if local(stored) != "CalendarItem" or stored.find(T + "Recurrence") is None:
        return
    for name, el in master_summary(rec).items():
        if sel.want(name):
            parts.add(name, el)


# Stored children that are never copied as they are: computed by the renderers above.
_COMPUTED = frozenset({"MimeContent", "ItemId", "ParentFolderId", "EffectiveRights", "InstanceKey", "StoreEntryId",
                       "WebClientReadFormQueryString", "WebClientEditFormQueryString", "UniqueBody",
                       "NormalizedBody", "TextBody", "Preview"})


def _truncate_streamable(el: etree._Element) -> etree._Element:
    """FindItem's copy of a text property: the first 255 characters of a longer value."""
    text = el.text
    if len(el) == 0 and text and len(text) > FIND_STREAM_CHARS:
        el = _copy(el)
        el.text = text[:FIND_STREAM_CHARS]
    return el


def _truncate_extended(ep: etree._Element) -> etree._Element:
    """FindItem's copy of a string or binary extended property: 255 characters / 512 bytes of each value."""
    uri = ep.find(T + "ExtendedFieldURI")
    kind = (uri.get("PropertyType") or "") if uri is not None else ""
    if kind not in ("String", "StringArray", "Binary", "BinaryArray"):
        return ep
    for v in ep.iter(T + "Value"):
        text = v.text or ""
        if kind.startswith("String") and len(text) > FIND_STREAM_CHARS:
            v.text = text[:FIND_STREAM_CHARS]
        elif kind.startswith("Binary") and len(text) > FIND_STREAM_BYTES * 4 // 3:
            try:
                raw = base64.b64decode(text)
            except ValueError:
                continue
            if len(raw) > FIND_STREAM_BYTES:
                v.text = base64.b64encode(raw[:FIND_STREAM_BYTES]).decode("ascii")
    return ep


def _stored_property(ctx: RequestContext, rec: ItemRecord, c: etree._Element, name: str, shape: Shape,
                     summary_names: bool) -> etree._Element:
    """The response element of one stored property (bodies converted, attachments as metadata)."""
    if name == "Body":
        return _body(c, "Body", shape.body_type, ctx)
    if summary_names and name in _SUMMARY_MAILBOXES:
        return _summary_mailbox(c)
    if name == "Attachments":
        return attachments_metadata(rec, c)
    return _copy(c)


def _render_stored(ctx: RequestContext, rec: ItemRecord, stored: etree._Element, sel: _ItemSelection,
                   shape: Shape, parts: _Parts) -> None:
    """The stored properties the shape asks for, and the requested extended properties."""
    summary_names = sel.find and not version_at_least(ctx.requested_version, "Exchange2010")
    if sel.wanted is not None and not sel.ext_keys:
        # A few named properties (IdOnly or Default plus additional ones, as most searches ask): look them up
        # instead of going through every stored property
        for name in (sel.wanted | sel.explicit) - _COMPUTED:
            if name == "ExtendedProperty" or not sel.want(name):
                continue
            for c in stored.iterchildren(T + name):
                el = _stored_property(ctx, rec, c, name, shape, summary_names)
                parts.add(name, _truncate_streamable(el) if sel.cut else el)
        return
    for c in stored:
        if not isinstance(c.tag, str) or not c.tag.startswith(T):
            continue  # the server's private bookkeeping (e.g. a series' exceptions) is never shown
        name = local(c)
        if name == "ExtendedProperty":
            uri = c.find(T + "ExtendedFieldURI")
            if uri is not None and extended_key(dict(cast(Dict[str, str], uri.attrib))) in sel.ext_keys:
                parts.add(name, _truncate_extended(_copy(c)) if sel.cut else _copy(c))
        elif name not in _COMPUTED and sel.want(name):
            el = _stored_property(ctx, rec, c, name, shape, summary_names)
            parts.add(name, _truncate_streamable(el) if sel.cut else el)


def _add_indexed_entry(cont: etree._Element, target: etree._Element, index_attr: str, sub: Optional[str]) -> None:
    """Put one dictionary entry (or one part of a physical address) into a rendered container."""
    entry = target.getparent() if sub else target
    assert entry is not None  # a sub-entry always sits inside its entry
    existing = [e for e in cont if e.get(index_attr) == entry.get(index_attr)]
    if not sub:
        if not existing:
            cont.append(_copy(entry))
        return
    holder = existing[0] if existing else etree.SubElement(
        cont, entry.tag, **cast(Dict[str, Any], {index_attr: entry.get(index_attr, "")}))
    if holder.find(T + sub) is None:
        insert_ordered(holder, _copy(target), "PhysicalAddressDictionaryEntryType")


def _render_indexed(stored: etree._Element, sel: _ItemSelection, parts: _Parts) -> None:
    """Single entries of indexed properties (an email address, a phone number, part of an address)."""
    containers: Dict[str, etree._Element] = {}
    for p in sel.indexed:
        spec = tables.INDEXED_FIELD_URIS.get(p.uri)
        if spec is None or spec[1] not in parts.order:
            continue
        _owner, container_name, _entry_name, index_attr, sub = spec
        if sel.want(container_name) and stored.find(T + container_name) is not None:
            continue  # the whole container is returned anyway
        target = indexed_entry(stored, p)
        if target is None:
            continue
        cont = containers.get(container_name)
        if cont is None:
            cont = containers[container_name] = etree.Element(T + container_name)
            parts.add(container_name, cont)
        _add_indexed_entry(cont, target, index_attr, sub)


def render_item(ctx: RequestContext, rec: ItemRecord, shape: Shape, find: bool = False,
                elem: Optional[etree._Element] = None, whole_values: bool = False) -> etree._Element:
    """The response element of one item for the given shape (GetItem, or FindItem with ``find``; with
    ``whole_values`` too, as SyncFolderItems lists items: named properties come back, and whole).

    ``elem`` renders an item embedded in one of ``rec``'s attachments instead (it has no ids).
    """
    embedded = elem is not None
    stored = rec.elem if elem is None else elem
    kind = local(stored)
    type_name = item_type(kind)
    sel = _ItemSelection(shape, kind, type_name, find, whole_values)
    parts = _Parts(ORDER[type_name], ctx.requested_version)
    _render_item_ids(rec, stored, sel, parts, embedded)
    _render_on_request(ctx, rec, stored, sel, shape, parts)
    if not embedded:
        _render_series_summary(rec, stored, sel, parts)
    _render_stored(ctx, rec, stored, sel, shape, parts)
    _render_indexed(stored, sel, parts)
    return parts.element(stored.tag)


def public_attachment_id(rec: ItemRecord, stored: etree._Element, root_ids: bool = False) -> etree._Element:
    """The public AttachmentId element for a stored attachment of ``rec``."""
    token_el = stored.find(T + "AttachmentId")
    token = base64.b64decode(token_el.get("Id", "")) if token_el is not None else b""
    el = etree.Element(T + "AttachmentId",
                       Id=encode_attachment_id(rec.mailbox, rec.key, rec.folder.key, token))
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


def _folder_wanted(folder: FolderRecord, shape: Shape, type_name: str) -> Tuple[Set[str], List[Path]]:
    """The folder properties a FolderShape asks for, and the extended properties it names."""
    kind = folder.element_kind
    if shape.base == "IdOnly":
        wanted = {"FolderId"}
    elif shape.base == "Default":
        wanted = set(_FOLDER_DEFAULT.get(kind, _FOLDER_DEFAULT["Folder"]))
    else:
        wanted = set(_FOLDER_ALL)
        wanted.update(local(c) for c in folder.props if isinstance(c.tag, str) and local(c) not in (
            "ExtendedProperty", "PermissionSet"))
    ext_paths: List[Path] = []
    for p in shape.additional:
        if p.kind == "FieldURI":
            name = field_element_name(p.uri, type_name)
            if name:
                wanted.add(name)
        elif p.kind == "ExtendedFieldURI":
            ext_paths.append(p)
    return wanted, ext_paths


def _render_folder_counts(folder: FolderRecord, wanted: Set[str], parts: _Parts) -> None:
    """TotalCount, ChildFolderCount and UnreadCount, computed from the store."""
    items = folder_items(folder) if "TotalCount" in wanted or "UnreadCount" in wanted else []
    if "TotalCount" in wanted:
        parts.add("TotalCount", _text_el("TotalCount", str(len(items))))
    if "ChildFolderCount" in wanted:
        parts.add("ChildFolderCount", _text_el("ChildFolderCount", str(len(folder.live_children()))))
    if "UnreadCount" in wanted:
        parts.add("UnreadCount", _text_el("UnreadCount", str(unread_count(items))))


# Ids newer than the published XSD (Exchange Online's allitems ...) are accepted but never rendered.
_XSD_DISTINGUISHED_IDS = frozenset(tables.DISTINGUISHED_FOLDER_IDS)


def _render_folder_computed(folder: FolderRecord, wanted: Set[str], parts: _Parts) -> None:
    """Ids, rights, the distinguished id and default permissions: what the store computes for a folder."""
    kind = folder.element_kind
    if "FolderId" in wanted:
        parts.add("FolderId", folder_id_element(folder))
    if "ParentFolderId" in wanted and folder.parent is not None:
        parts.add("ParentFolderId", folder_id_element(folder.parent, "ParentFolderId"))
    if "EffectiveRights" in wanted:
        parts.add("EffectiveRights", _rights(items=False))
    if "DistinguishedFolderId" in wanted and folder.distinguished in _XSD_DISTINGUISHED_IDS:
        parts.add("DistinguishedFolderId", _text_el("DistinguishedFolderId", folder.distinguished))
    if "SharingEffectiveRights" in wanted and kind in ("CalendarFolder", "ContactsFolder"):
        parts.add("SharingEffectiveRights", _text_el("SharingEffectiveRights", "FullDetails"))
    if "PermissionSet" in wanted and folder.props.find(T + "PermissionSet") is None:
        parts.add("PermissionSet", _default_permissions(folder))


def _render_folder_stored(folder: FolderRecord, wanted: Set[str], ext_paths: List[Path], parts: _Parts) -> None:
    """Stored folder properties, requested extended properties, and the store-computed MAPI ones."""
    ext_keys = {ext_path_key(p) for p in ext_paths}
    for c in folder.props:
        if not isinstance(c.tag, str):
            continue
        name = local(c)
        if name == "ExtendedProperty":
            uri = c.find(T + "ExtendedFieldURI")
            if uri is not None and extended_key(dict(cast(Dict[str, str], uri.attrib))) in ext_keys:
                parts.add(name, _copy(c))
        elif name in wanted:
            parts.add(name, _copy(c))
    for p in ext_paths:
        if find_extended(folder.props, ext_path_key(p)) is None:
            computed = _computed_folder_property(folder, p)
            if computed is not None:
                parts.add("ExtendedProperty", computed)


def render_folder(ctx: RequestContext, folder: FolderRecord, shape: Shape) -> etree._Element:
    """The response element of one folder for the given FolderShape."""
    type_name = item_type(folder.element_kind)
    wanted, ext_paths = _folder_wanted(folder, shape, type_name)
    parts = _Parts(ORDER[type_name], ctx.requested_version, folder=True)
    _render_folder_computed(folder, wanted, parts)
    _render_folder_counts(folder, wanted, parts)
    _render_folder_stored(folder, wanted, ext_paths, parts)
    return parts.element(T + folder.element_kind)
