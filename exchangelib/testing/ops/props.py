"""Schema-driven access to the properties of stored items and folders.

Uses the tables generated from types.xsd (:mod:`exchangelib.testing.schema_tables`) to put child
elements at their XSD sequence position, find the XSD type of a property, map FieldURI values to
element names and read typed values for restrictions and sorting.
"""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple, cast

from lxml import etree

from ...xml import TNS
from .. import schema_tables as tables
from ..store import version_at_least
from .common import Path, err

T = f"{{{TNS}}}"

ITEM_ELEMENTS: Dict[str, str] = tables.ITEM_ELEMENTS
FOLDER_ELEMENTS: Dict[str, str] = tables.FOLDER_ELEMENTS
SEQUENCES = tables.SEQUENCES

# type name -> {element name: position}
ORDER: Dict[str, Dict[str, int]] = {t: {n: i for i, (n, _) in enumerate(seq)} for t, seq in SEQUENCES.items()}
# type name -> {element name: XSD type}
CHILD_TYPES: Dict[str, Dict[str, str]] = {t: dict(seq) for t, seq in SEQUENCES.items()}

# Properties added after Exchange 2007, by element name, with the first RequestServerVersion that
# has them. From the "introduced in" notes of Microsoft's EWS element reference pages; the XSD
# itself carries no version information. Properties not listed exist since Exchange2007.
ITEM_PROPERTY_VERSIONS: Dict[str, str] = {
    "EffectiveRights": "Exchange2007_SP1", "LastModifiedName": "Exchange2007_SP1",
    "LastModifiedTime": "Exchange2007_SP1", "UID": "Exchange2007_SP1", "RecurrenceId": "Exchange2007_SP1",
    "DateTimeStamp": "Exchange2007_SP1",
    "IsAssociated": "Exchange2010", "WebClientReadFormQueryString": "Exchange2010",
    "WebClientEditFormQueryString": "Exchange2010", "ConversationId": "Exchange2010", "UniqueBody": "Exchange2010",
    "StartTimeZone": "Exchange2010", "EndTimeZone": "Exchange2010", "HasPicture": "Exchange2010",
    "StoreEntryId": "Exchange2010_SP2", "PhoneticFullName": "Exchange2010_SP2",
    "PhoneticFirstName": "Exchange2010_SP2", "PhoneticLastName": "Exchange2010_SP2", "Alias": "Exchange2010_SP2",
    "Notes": "Exchange2010_SP2", "Photo": "Exchange2010_SP2", "UserSMIMECertificate": "Exchange2010_SP2",
    "MSExchangeCertificate": "Exchange2010_SP2", "DirectoryId": "Exchange2010_SP2",
    "ManagerMailbox": "Exchange2010_SP2", "DirectReports": "Exchange2010_SP2",
    "ReminderNextTime": "Exchange2013", "DisplayBcc": "Exchange2013", "Flag": "Exchange2013",
    "InstanceKey": "Exchange2013", "NormalizedBody": "Exchange2013", "EntityExtractionResult": "Exchange2013",
    "PolicyTag": "Exchange2013", "ArchiveTag": "Exchange2013", "RetentionDate": "Exchange2013",
    "Preview": "Exchange2013", "RightsManagementLicenseData": "Exchange2013",
    "PredictedActionReasons": "Exchange2013", "IsClutter": "Exchange2013", "BlockStatus": "Exchange2013",
    "HasBlockedImages": "Exchange2013", "TextBody": "Exchange2013", "IconIndex": "Exchange2013",
    "ApprovalRequestData": "Exchange2013", "VotingInformation": "Exchange2013",
    "ReminderMessageData": "Exchange2013", "EnhancedLocation": "Exchange2013",
    "StartWallClock": "Exchange2013", "EndWallClock": "Exchange2013", "StartTimeZoneId": "Exchange2013",
    "EndTimeZoneId": "Exchange2013", "IntendedFreeBusyStatus": "Exchange2013",
    "JoinOnlineMeetingUrl": "Exchange2013", "OnlineMeetingSettings": "Exchange2013", "IsOrganizer": "Exchange2013",
    "ChangeHighlights": "Exchange2013", "ProposedStart": "Exchange2013", "ProposedEnd": "Exchange2013",
    "SearchKey": "Exchange2016", "SortKey": "Exchange2016", "Hashtags": "Exchange2016",
    "Mentions": "Exchange2016", "MentionedMe": "Exchange2016", "MentionsPreview": "Exchange2016",
    "MentionsEx": "Exchange2016", "AppliedHashtags": "Exchange2016", "AppliedHashtagsPreview": "Exchange2016",
    "Likes": "Exchange2016", "LikesPreview": "Exchange2016", "PendingSocialActivityTagIds": "Exchange2016",
    "AtAllMention": "Exchange2016", "CanDelete": "Exchange2016", "InferenceClassification": "Exchange2016",
    "MessageSafety": "Exchange2016", "SenderSMTPAddress": "Exchange2016", "MailboxGuids": "Exchange2016",
    "PublishedCalendarItemIcs": "Exchange2016", "PublishedCalendarItemName": "Exchange2016",
    "CalendarActivityData": "Exchange2016", "DoNotForwardMeeting": "Exchange2016",
}
FOLDER_PROPERTY_VERSIONS: Dict[str, str] = {
    "EffectiveRights": "Exchange2007_SP1", "ManagedFolderInformation": "Exchange2007_SP1",
    "PermissionSet": "Exchange2007_SP1", "SharingEffectiveRights": "Exchange2007_SP1",
    "DistinguishedFolderId": "Exchange2013", "PolicyTag": "Exchange2013", "ArchiveTag": "Exchange2013",
    "ReplicaList": "Exchange2016", "SourceId": "Exchange2016", "AccountName": "Exchange2016",
}
# Contact properties after DirectReports in ContactItemType are Exchange Online additions.
_contact_seq = [n for n, _ in SEQUENCES["ContactItemType"]]
for _n in _contact_seq[_contact_seq.index("AccountName"):]:
    ITEM_PROPERTY_VERSIONS.setdefault(_n, "Exchange2016")


def item_type(elem_or_kind: Any) -> str:
    """XSD type of an item element (or element local name), e.g. 'MessageType'."""
    kind = elem_or_kind if isinstance(elem_or_kind, str) else etree.QName(elem_or_kind).localname
    return ITEM_ELEMENTS.get(kind) or FOLDER_ELEMENTS.get(kind) or "ItemType"


def has_property(type_name: str, name: str) -> bool:
    return name in ORDER.get(type_name, ())


def property_version_ok(name: str, requested_version: str, folder: bool = False) -> bool:
    table = FOLDER_PROPERTY_VERSIONS if folder else ITEM_PROPERTY_VERSIONS
    minimum = table.get(name)
    return minimum is None or version_at_least(requested_version, minimum)


def insert_ordered(parent: etree._Element, new: etree._Element, type_name: Optional[str] = None) -> etree._Element:
    """Insert ``new`` into ``parent`` at its XSD sequence position (after equal-named siblings)."""
    type_name = type_name or item_type(parent)
    order = ORDER.get(type_name, {})
    pos = order.get(etree.QName(new).localname)
    if pos is None:
        parent.append(new)
        return new
    for i, c in enumerate(parent):
        if not isinstance(c.tag, str):
            continue
        cpos = order.get(etree.QName(c).localname, -1)
        if cpos > pos:
            parent.insert(i, new)
            return new
    parent.append(new)
    return new


def get(parent: etree._Element, name: str) -> Optional[etree._Element]:
    return parent.find(T + name)


def get_text(parent: etree._Element, name: str) -> Optional[str]:
    el = parent.find(T + name)
    return el.text if el is not None else None


def set_prop(parent: etree._Element, name: str, text: Optional[str] = None,
             elem: Optional[etree._Element] = None, type_name: Optional[str] = None) -> etree._Element:
    """Replace (or add) the child ``name`` with ``elem`` or a new element holding ``text``."""
    remove_prop(parent, name)
    if elem is None:
        elem = etree.Element(T + name)
        if text is not None:
            elem.text = text
    return insert_ordered(parent, elem, type_name)


def set_default(parent: etree._Element, name: str, text: str, type_name: Optional[str] = None) -> None:
    """Add child ``name`` with ``text`` unless the client already set it."""
    if parent.find(T + name) is None:
        set_prop(parent, name, text, type_name=type_name)


def remove_prop(parent: etree._Element, name: str) -> None:
    for old in parent.findall(T + name):
        parent.remove(old)


def field_element_name(uri: str, type_name: str) -> Optional[str]:
    """Element name of a FieldURI within an item/folder type, or None if the type lacks it."""
    entry = tables.FIELD_URIS.get(uri)
    if entry is None:
        return None
    name = entry[1]
    return name if has_property(type_name, name) else None


def is_known_field_uri(uri: str) -> bool:
    return uri in tables.FIELD_URIS


def property_xsd_type(type_name: str, name: str) -> str:
    return CHILD_TYPES.get(type_name, {}).get(name, "xs:string")


# --- Bodies --------------------------------------------------------------------------------------
_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_HEAD = re.compile(r"<\s*(head|style|script)\b.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)


def html_to_text(markup: str) -> str:
    """A plain-text rendering of an HTML body (tags dropped, line breaks kept)."""
    text = _HEAD.sub("", markup)
    text = _BLOCK_TAGS.sub("\n", text)
    text = html.unescape(_TAGS.sub("", text))
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\r\n".join(lines).strip()


def text_to_html(text: str) -> str:
    """An HTML rendering of a plain-text body, shaped like Exchange's conversion."""
    lines = text.replace("\r\n", "\n").split("\n")
    body = "\r\n".join(f"<div>{html.escape(line) if line else '&nbsp;'}</div>" for line in lines)
    return ("<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n"
            f"</head>\r\n<body>\r\n{body}\r\n</body>\r\n</html>\r\n")


def body_as(el: etree._Element, wanted: str) -> Tuple[str, str]:
    """(BodyType, text) of a stored Body element converted to 'HTML', 'Text' or 'Best' (as stored)."""
    stored_type = el.get("BodyType", "Text")
    text = el.text or ""
    if wanted == "Best" or wanted == stored_type:
        return stored_type, text
    if wanted == "Text":
        return "Text", html_to_text(text)
    return "HTML", text_to_html(text)


# --- Typed values --------------------------------------------------------------------------------
_NUMERIC = {"xs:int", "xs:long", "xs:short", "xs:byte", "xs:integer", "xs:unsignedInt", "xs:unsignedShort",
            "xs:unsignedLong", "xs:nonNegativeInteger", "xs:positiveInteger", "xs:double", "xs:float",
            "xs:decimal"}
_DT_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")


def parse_datetime(text: str) -> datetime:
    """Parse xs:dateTime/xs:date; values without an offset are taken as UTC. Raises ValueError."""
    m = _DT_RE.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an xs:dateTime")
    y, mo, d, h, mi, s, frac, tz = m.groups()
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])) * sign
        return (dt - offset).replace(tzinfo=timezone.utc)
    return dt.replace(tzinfo=timezone.utc)


def value_kind(xsd_type: str) -> str:
    """'datetime' | 'number' | 'boolean' | 'string' for an XSD simple type name."""
    if xsd_type in ("xs:dateTime", "xs:date"):
        return "datetime"
    if xsd_type in _NUMERIC:
        return "number"
    if xsd_type == "xs:boolean":
        return "boolean"
    return "string"


def parse_value(kind: str, text: Optional[str]) -> Any:
    """Turn text into a comparable Python value of ``kind``. Raises ValueError for bad text."""
    text = "" if text is None else text
    if kind == "datetime":
        return parse_datetime(text)
    if kind == "number":
        t = text.strip()
        if t.lower().startswith("0x"):
            return int(t, 16)
        v = float(t)
        return int(v) if v.is_integer() else v
    if kind == "boolean":
        t = text.strip().lower()
        if t in ("true", "1"):
            return True
        if t in ("false", "0"):
            return False
        raise ValueError(f"{text!r} is not a boolean")
    return text


_EXT_KINDS = {
    "ApplicationTime": "number", "Binary": "string", "Boolean": "boolean", "CLSID": "string",
    "Currency": "number", "Double": "number", "Error": "number", "Float": "number", "Integer": "number",
    "Long": "number", "Null": "string", "Object": "string", "Short": "number", "SystemTime": "datetime",
    "String": "string",
}


def extended_kind(property_type: str) -> Tuple[str, bool]:
    """(value kind, is array) of a MapiPropertyTypeType value."""
    if property_type.endswith("Array"):
        return _EXT_KINDS.get(property_type[:-5], "string"), True
    return _EXT_KINDS.get(property_type, "string"), False


# --- Extended properties -------------------------------------------------------------------------
_DIST_SET_GUIDS = {
    "meeting": "6ed8da90-450b-101b-98da-00aa003f1305",
    "appointment": "00062002-0000-0000-c000-000000000046",
    "common": "00062008-0000-0000-c000-000000000046",
    "publicstrings": "00020329-0000-0000-c000-000000000046",
    "address": "00062004-0000-0000-c000-000000000046",
    "internetheaders": "00020386-0000-0000-c000-000000000046",
    "calendarassistant": "11000e07-b51b-40d6-af21-caa85edab1d0",
    "unifiedmessaging": "4442858e-a9e3-4e80-b900-317a210cc15b",
    "task": "00062003-0000-0000-c000-000000000046",
    "sharing": "00062040-0000-0000-c000-000000000046",
}


def extended_key(attrs: Dict[str, str]) -> Tuple:
    """Identity of an extended property, ignoring how the request spelled it."""
    tag = attrs.get("PropertyTag")
    if tag is not None:
        t = tag.strip().lower()
        try:
            return ("tag", int(t, 16) if t.startswith("0x") else int(t))
        except ValueError:
            return ("tag", t)
    set_id = attrs.get("PropertySetId") or ""
    dist = attrs.get("DistinguishedPropertySetId")
    if dist:
        set_id = _DIST_SET_GUIDS.get(dist.lower(), dist.lower())
    set_id = set_id.lower()
    if attrs.get("PropertyName") is not None:
        return ("name", set_id, attrs["PropertyName"])
    return ("id", set_id, attrs.get("PropertyId"))


def ext_path_key(path: Path) -> Tuple:
    return extended_key(path.ext_attrs)


def find_extended(parent: etree._Element, key: Tuple) -> Optional[etree._Element]:
    for ep in parent.findall(T + "ExtendedProperty"):
        uri = ep.find(T + "ExtendedFieldURI")
        if uri is not None and extended_key(dict(cast(Dict[str, str], uri.attrib))) == key:
            return ep
    return None


def extended_values(ep: etree._Element) -> List[str]:
    v = ep.find(T + "Value")
    if v is not None:
        return [v.text or ""]
    vals = ep.find(T + "Values")
    return [x.text or "" for x in vals] if vals is not None else []


# --- Reading a property's values -----------------------------------------------------------------
def _mailbox_strings(mb: etree._Element) -> List[str]:
    out = []
    for n in ("Name", "EmailAddress"):
        t = mb.findtext(T + n)
        if t:
            out.append(t)
    return out


def element_values(el: etree._Element, xsd_type: str) -> List[str]:
    """The comparable string values of a stored property element (several for multi-valued ones)."""
    if xsd_type == "BodyType" and el.get("BodyType") == "HTML":
        return [html_to_text(el.text or "")]
    if xsd_type in tables.SIMPLE_CONTENT or xsd_type.startswith("xs:") or xsd_type == "anonymous":
        return [el.text or ""]
    if xsd_type == "ArrayOfStringsType":
        return [s.text or "" for s in el]
    if xsd_type in ("ArrayOfRecipientsType", "SingleRecipientType", "EmailAddressType"):
        mbs = [el] if xsd_type == "EmailAddressType" else list(el)
        out: List[str] = []
        for mb in mbs:
            out.extend(_mailbox_strings(mb))
        return out
    if xsd_type == "NonEmptyArrayOfAttendeesType":
        out = []
        for att in el:
            att_mb = att.find(T + "Mailbox")
            if att_mb is not None:
                out.extend(_mailbox_strings(att_mb))
        return out
    if xsd_type in ("ItemIdType", "FolderIdType"):
        return [el.get("Id", "")]
    # Other complex values compare on their text content
    return ["".join(cast(Iterable[str], el.itertext()))]


def indexed_entry(parent: etree._Element, path: Path, create: bool = False) -> Optional[etree._Element]:
    """The element an IndexedFieldURI points at in ``parent`` (the entry, or its sub-element)."""
    spec = tables.INDEXED_FIELD_URIS.get(path.uri)
    if spec is None:
        raise err("ErrorInvalidPropertyRequest", field_uri=path)
    _owner, container_name, entry_name, index_attr, sub = spec
    container = parent.find(T + container_name)
    if container is None:
        return None
    for entry in container.findall(T + entry_name):
        key = entry.get(index_attr, "")
        if key == path.index or (index_attr == "HeaderName" and key.lower() == path.index.lower()):
            if sub is None:
                return entry
            return entry.find(T + sub)
    return None


def enum_values(path: Path) -> Optional[Tuple[str, ...]]:
    """The ordered values of an enumerated property (Importance, Sensitivity, ...), else None."""
    return tables.FIELD_ENUMS.get(path.uri) if path.kind == "FieldURI" else None


def path_values(elem: etree._Element, path: Path, raw: bool = False) -> Tuple[str, List[str]]:
    """(value kind, values) of a path on an item/folder element; values empty if absent.

    Enumerated properties come back as their ordinal numbers (kind 'number'), which is how
    Exchange compares and sorts them, unless ``raw`` is set.
    """
    type_name = item_type(elem)
    if path.kind == "FieldURI":
        name = field_element_name(path.uri, type_name)
        if name is None:
            if not is_known_field_uri(path.uri):
                raise err("ErrorInvalidPropertyRequest", field_uri=path)
            return "string", []
        xsd_type = property_xsd_type(type_name, name)
        kind = value_kind(tables.SIMPLE_CONTENT.get(xsd_type, xsd_type))
        el = elem.find(T + name)
        if el is None:
            return kind, []
        values = element_values(el, xsd_type)
        enum = None if raw else enum_values(path)
        if enum is not None:
            return "number", [str(enum.index(v)) if v in enum else v for v in values]
        return kind, values
    if path.kind == "IndexedFieldURI":
        el = indexed_entry(elem, path)
        return "string", ([] if el is None else [el.text or ""])
    attrs = path.ext_attrs
    kind, _array = extended_kind(attrs.get("PropertyType", "String"))
    ep = find_extended(elem, extended_key(attrs))
    return kind, ([] if ep is None else extended_values(ep))


def typed_values(elem: etree._Element, path: Path) -> Tuple[str, List[Any]]:
    kind, raw = path_values(elem, path)
    out = []
    for r in raw:
        try:
            out.append(parse_value(kind, r))
        except ValueError:
            continue
    return kind, out


def path_kind(type_name: str, path: Path) -> str:
    """Value kind of a path for a given item/folder type (string when unknown)."""
    if path.kind == "FieldURI":
        entry = tables.FIELD_URIS.get(path.uri)
        if entry is None:
            return "string"
        if path.uri in tables.FIELD_ENUMS:
            return "number"
        owner, name = entry
        xsd_type = property_xsd_type(owner, name)
        return value_kind(tables.SIMPLE_CONTENT.get(xsd_type, xsd_type))
    if path.kind == "ExtendedFieldURI":
        return extended_kind(path.ext_attrs.get("PropertyType", "String"))[0]
    return "string"


_BOOLEAN_FORMS = {"1": "true", "0": "false", "true": "true", "false": "false"}


def normalise_values(elem: etree._Element) -> None:
    """Rewrite an item's top-level properties in the canonical form Exchange returns them in.

    xs:dateTime values become UTC 'Z' form; xs:boolean values given as ``1``/``0`` (which the
    schema allows in requests) become ``true``/``false``, the only form Exchange writes.
    """
    types = CHILD_TYPES.get(item_type(elem), {})
    for c in elem:
        if not isinstance(c.tag, str):
            continue
        xsd_type = types.get(etree.QName(c).localname)
        if xsd_type == "xs:boolean" and c.text:
            c.text = _BOOLEAN_FORMS.get(c.text.strip(), c.text)
        elif xsd_type == "xs:dateTime" and c.text:
            try:
                c.text = parse_datetime(c.text).strftime("%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                raise err("ErrorInvalidValueForProperty",
                          f"The value '{c.text}' of property {etree.QName(c).localname} is not a valid date.")

