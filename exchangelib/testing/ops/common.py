"""Helpers shared by the operation handlers: response messages, id resolution, shapes and paths.

Every EWS operation answers with ``m:<Operation>Response/m:ResponseMessages`` holding one
``m:<Operation>ResponseMessage`` per input, in input order. A failure of one input becomes a
ResponseMessage with ``ResponseClass="Error"``, ``MessageText``, ``ResponseCode`` and
``DescriptiveLinkKey`` 0 (plus ``MessageXml`` where Exchange sends one), in place.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsemessages
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, cast

from lxml import etree

from ...xml import MNS, TNS, XSI, add_child
from ..context import RequestContext, ResponseCodeError, SoapFault, operation
from ..lax import ONLINE_BUILD
from ..store import (DISTINGUISHED_FOLDER_VERSIONS, FOLDER, ITEM, FolderRecord, ItemRecord, Mailbox, decode_id,
                     valid_changekey_format, version_at_least)
from .access import check_folder, check_item_folder, check_private, check_target
from .public_folders import public_root

log = logging.getLogger(__name__)

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"
RESPONSE_NSMAP = {"m": MNS, "t": TNS}

# English texts Exchange uses for common response codes.
MESSAGES = {
    "ErrorItemNotFound": "The specified object was not found in the store.",
    "ErrorFolderNotFound": "The specified folder could not be found in the store.",
    "ErrorInvalidIdMalformed": "Id is malformed.",
    "ErrorInvalidIdEmpty": "Id must be non-empty.",
    "ErrorInvalidChangeKey": "The change key is invalid.",
    "ErrorIrresolvableConflict": "The send or update operation could not be performed because the change key "
                                 "passed in the request does not match the current change key for the item.",
    "ErrorStaleObject": "The change key passed in the request does not match the current change key for the item.",
    "ErrorNoPublicFolderReplicaAvailable": "There are no public folder servers available.",
    "ErrorInvalidPropertyRequest": "This property was requested, but it isn't supported.",
    "ErrorInvalidPropertySet": "Set action is invalid for property.",
    "ErrorInvalidPropertyDelete": "Delete action is invalid for property.",
    "ErrorInvalidPropertyAppend": "Append action is invalid for property.",
    "ErrorIncorrectUpdatePropertyCount": "An object within a change description must contain one and only one "
                                         "property to modify.",
}


def err(code: str, message: Optional[str] = None, **extra) -> ResponseCodeError:
    """A ResponseCodeError with Exchange's text for the code unless a message is given."""
    return ResponseCodeError(code, message or MESSAGES.get(code, code), **extra)


# --- Handler registration ------------------------------------------------------------------------
Handler = Callable[[RequestContext, etree._Element], etree._Element]


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register an operation handler; the handler runs under the store lock."""

    def register(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def wrapped(ctx: RequestContext, body: etree._Element) -> etree._Element:
            with ctx.store.lock:
                ctx.operation = name
                log.debug("%s for %s (as %s, %s)", name, ctx.mailbox.primary_smtp_address, ctx.caller,
                          ctx.requested_version)
                return fn(ctx, body)

        operation(name)(wrapped)
        return wrapped

    return register


# --- Response building ---------------------------------------------------------------------------
def new_response(operation_name: str) -> Tuple[etree._Element, etree._Element]:
    """Create ``m:<Op>Response`` and its ``m:ResponseMessages``; returns both."""
    root = etree.Element(f"{M}{operation_name}Response", nsmap=RESPONSE_NSMAP)
    return root, etree.SubElement(root, f"{M}ResponseMessages")


def _message_xml(msg: etree._Element, extra: Dict) -> None:
    children: List[etree._Element] = []
    if extra.get("field_uri"):
        children.append(path_element(extra["field_uri"]))
    if "back_off_ms" in extra:
        v = etree.Element(f"{T}Value", Name="BackOffMilliseconds")
        v.text = str(int(extra["back_off_ms"]))
        children.append(v)
    for k, val in (extra.get("values") or {}).items():
        v = etree.Element(f"{T}Value", Name=k)
        v.text = str(val)
        children.append(v)
    if children:
        mx = etree.SubElement(msg, f"{M}MessageXml")
        for c in children:
            mx.append(c)


def error_message(container: etree._Element, msg_name: str, exc: ResponseCodeError,
                  response_class: str = "Error") -> etree._Element:
    msg = etree.SubElement(container, f"{M}{msg_name}", ResponseClass=response_class)
    etree.SubElement(msg, f"{M}MessageText").text = exc.message
    etree.SubElement(msg, f"{M}ResponseCode").text = exc.response_code
    etree.SubElement(msg, f"{M}DescriptiveLinkKey").text = "0"
    _message_xml(msg, exc.extra)
    for p in exc.extra.get("payload") or ():
        msg.append(p)
    return msg


def success_message(container: etree._Element, msg_name: str,
                    payload: Iterable[etree._Element] = ()) -> etree._Element:
    msg = etree.SubElement(container, f"{M}{msg_name}", ResponseClass="Success")
    etree.SubElement(msg, f"{M}ResponseCode").text = "NoError"
    for p in payload:
        msg.append(p)
    return msg


def add_result(container: etree._Element, msg_name: str, fn: Callable[..., Iterable[etree._Element]],
               error_payload: Sequence[str] = ()) -> etree._Element:
    """Run ``fn`` for one input; add its payload as a Success message, or its error in place.

    ``error_payload`` names empty elements the schema requires after the error fields (for
    example 'm:Items' in ItemInfoResponseMessageType), as Exchange sends them.
    """
    try:
        payload = list(fn())
    except ResponseCodeError as e:
        if e.response_code not in ("ErrorItemNotFound", "ErrorFolderNotFound"):
            log.debug("%s: %s %s", msg_name, e.response_code, e.message)
        msg = error_message(container, msg_name, e)
        if not e.extra.get("payload"):
            for name in error_payload:
                add_child(msg, name)
        return msg
    return success_message(container, msg_name, payload)


def m_el(name: str, children: Iterable[etree._Element] = (), **attrs: str) -> etree._Element:
    el = etree.Element(f"{M}{name}", **cast(Dict[str, Any], attrs))
    for c in children:
        el.append(c)
    return el


def t_el(name: str, text: Optional[str] = None, **attrs: str) -> etree._Element:
    el = etree.Element(f"{T}{name}", **cast(Dict[str, Any], attrs))
    if text is not None:
        el.text = text
    return el


def xsi_type(elem: etree._Element, type_name: str) -> None:
    elem.set(f"{{{XSI}}}type", type_name)


# --- Small readers -------------------------------------------------------------------------------
def bool_attr(elem: etree._Element, name: str, default: bool = False) -> bool:
    v = elem.get(name)
    if v is None:
        return default
    return v.strip() in ("true", "1")


def bool_text(elem: Optional[etree._Element], default: bool = False) -> bool:
    if elem is None or elem.text is None:
        return default
    return elem.text.strip() in ("true", "1")


def child(elem: etree._Element, name: str) -> Optional[etree._Element]:
    """First child ``t:name`` or ``m:name``."""
    found = elem.find(T + name)
    if found is None:
        found = elem.find(M + name)
    return found


def children(elem: Optional[etree._Element]) -> List[etree._Element]:
    if elem is None:
        return []
    return [c for c in elem if isinstance(c.tag, str)]


def local(elem: etree._Element) -> str:
    return elem.tag.rpartition("}")[2]  # (cheaper than building an etree.QName, and this runs per element)


def schema_fault(message: str) -> SoapFault:
    return SoapFault("ErrorSchemaValidation", f"The request failed schema validation: {message}")


# --- Folder and item ids -------------------------------------------------------------------------
def _open_mailbox(ctx: RequestContext, addr: Optional[str]) -> Tuple[Mailbox, bool]:
    """(mailbox, restricted): a mailbox the caller has no full access to is still opened, restricted to what
    its folders' permissions grant (see :mod:`.access`)."""
    try:
        return ctx.mailbox_for(addr), False
    except ResponseCodeError as e:
        mb = ctx.store.get_mailbox(addr) if e.response_code == "ErrorAccessDenied" else None
        if mb is None:
            raise
        return mb, True


open_mailbox = _open_mailbox  # for handlers that decode ids themselves (attachments)


def _mailbox_of(ctx: RequestContext, id_elem: etree._Element) -> Tuple[Mailbox, bool]:
    mb_el = child(id_elem, "Mailbox")
    addr = None
    if mb_el is not None:
        addr_el = child(mb_el, "EmailAddress")
        addr = addr_el.text.strip() if addr_el is not None and addr_el.text else None
    return _open_mailbox(ctx, addr)


def resolve_folder(ctx: RequestContext, id_elem: etree._Element, _target: bool = False) -> FolderRecord:
    """Resolve a ``t:FolderId`` or ``t:DistinguishedFolderId`` to a folder the caller may open."""
    folder, restricted = _resolve_folder(ctx, id_elem)
    if restricted:
        (check_target if _target else check_folder)(ctx, folder)
    return folder


def _resolve_folder(ctx: RequestContext, id_elem: etree._Element) -> Tuple[FolderRecord, bool]:
    name = local(id_elem)
    if name == "DistinguishedFolderId":
        dist = id_elem.get("Id", "")
        min_version = DISTINGUISHED_FOLDER_VERSIONS.get(dist)
        # Exchange Online takes every id its schema knows whatever RequestServerVersion says (testing/lax.py).
        online = tuple(ctx.server_build[:2]) >= ONLINE_BUILD
        if min_version is None or not (online or version_at_least(ctx.requested_version, min_version)):
            raise schema_fault(f"The 'Id' attribute is invalid - The value '{dist}' is invalid according to its "
                               f"datatype 'DistinguishedFolderIdNameType' in schema version "
                               f"{ctx.requested_version} - The Enumeration constraint failed.")
        mb, restricted = _mailbox_of(ctx, id_elem)
        if dist == "publicfoldersroot":  # ErrorNoPublicFolderReplicaAvailable unless the store has them
            root = public_root(ctx.store)
            return root, _open_mailbox(ctx, root.mailbox.primary_smtp_address)[1]
        folder = mb.folder(dist)
        if folder is None:
            raise err("ErrorFolderNotFound")
        return folder, restricted
    if name == "FolderId":
        kind, addr, key = decode_id(id_elem.get("Id"))
        if kind != FOLDER or ctx.store.get_mailbox(addr) is None:  # a well-formed id of nothing we hold
            raise err("ErrorFolderNotFound")
        mb, restricted = _open_mailbox(ctx, addr)
        folder = ctx.store.find_folder(key)
        if folder is None or folder.mailbox is not mb:
            raise err("ErrorFolderNotFound")
        ck = id_elem.get("ChangeKey")
        if ck is not None and ck != "" and not valid_changekey_format(ck):
            raise err("ErrorInvalidChangeKey")
        return folder, restricted
    if name == "AddressListId":
        raise err("ErrorInvalidOperation", "Address lists are not supported by this server.")
    raise err("ErrorInvalidIdMalformed")


def resolve_target_folder(ctx: RequestContext, target: Optional[etree._Element]) -> FolderRecord:
    """Resolve a TargetFolderIdType element (its single child is the folder id)."""
    if target is None:
        raise err("ErrorFolderNotFound")
    kids = children(target)
    if not kids:
        raise err("ErrorFolderNotFound")
    return resolve_folder(ctx, kids[0], _target=True)


def resolve_item(ctx: RequestContext, id_elem: etree._Element, check_changekey: bool = False) -> ItemRecord:
    """Resolve ``t:ItemId`` (or an occurrence/master id) to an item the caller may open.

    With ``check_changekey``, a ChangeKey that is not the item's current one raises ErrorStaleObject.
    """
    name = local(id_elem)
    if name in ("ItemId", "ParentItemId"):
        raw_id = id_elem.get("Id")
    elif name == "OccurrenceItemId":
        raw_id = id_elem.get("RecurringMasterId")
    elif name == "RecurringMasterItemId":
        raw_id = id_elem.get("OccurrenceId")
    else:
        raise err("ErrorInvalidIdMalformed")
    kind, addr, key = decode_id(raw_id)
    if kind != ITEM or ctx.store.get_mailbox(addr) is None:  # a well-formed id of nothing we hold
        raise err("ErrorItemNotFound")
    mb, restricted = _open_mailbox(ctx, addr)
    rec = ctx.store.find_item(key)
    if rec is None or rec.mailbox is not mb:
        raise err("ErrorItemNotFound")
    if restricted:
        check_item_folder(ctx, rec.folder, rec)
        check_private(ctx, rec)
    ck = id_elem.get("ChangeKey")
    if ck:
        if not valid_changekey_format(ck):
            raise err("ErrorInvalidChangeKey")
        if check_changekey and ck != rec.changekey:
            raise err("ErrorStaleObject")
    if name == "OccurrenceItemId":
        # Recurrence expansion is not modelled yet: only a recurring master has occurrences.
        if rec.elem.find(T + "Recurrence") is None:
            raise err("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                      "The occurrence index is out of the recurrence range.")
    return rec


def folder_id_element(folder: FolderRecord, tag: str = "FolderId", with_changekey: bool = True) -> etree._Element:
    el = etree.Element(T + tag, Id=folder.id)
    if with_changekey:
        el.set("ChangeKey", folder.changekey)
    return el


def item_id_element(rec: ItemRecord, tag: str = "ItemId") -> etree._Element:
    return etree.Element(T + tag, Id=rec.id, ChangeKey=rec.changekey)


# --- Property paths ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Path:
    """A FieldURI, IndexedFieldURI or ExtendedFieldURI from a request."""

    kind: str  # 'FieldURI' | 'IndexedFieldURI' | 'ExtendedFieldURI'
    uri: str = ""
    index: str = ""
    ext: Tuple[Tuple[str, str], ...] = ()

    @property
    def ext_attrs(self) -> Dict[str, str]:
        return dict(self.ext)

    def __str__(self) -> str:
        if self.kind == "IndexedFieldURI":
            return f"{self.uri}[{self.index}]"
        if self.kind == "ExtendedFieldURI":
            return "ExtendedFieldURI(" + ", ".join(f"{k}={v}" for k, v in self.ext) + ")"
        return self.uri


PATH_TAGS = (T + "FieldURI", T + "IndexedFieldURI", T + "ExtendedFieldURI")


def parse_path(elem: etree._Element) -> Path:
    name = local(elem)
    if name == "FieldURI":
        return Path("FieldURI", uri=elem.get("FieldURI", ""))
    if name == "IndexedFieldURI":
        return Path("IndexedFieldURI", uri=elem.get("FieldURI", ""), index=elem.get("FieldIndex", ""))
    if name == "ExtendedFieldURI":
        return Path("ExtendedFieldURI", ext=tuple(sorted(cast(Dict[str, str], elem.attrib).items())))
    raise err("ErrorInvalidRequest", f"Unexpected path element {name}")


def find_path(parent: etree._Element) -> Optional[Path]:
    for c in parent:
        if c.tag in PATH_TAGS:
            return parse_path(c)
    return None


def path_element(path: Path) -> etree._Element:
    if path.kind == "FieldURI":
        return etree.Element(T + "FieldURI", FieldURI=path.uri)
    if path.kind == "IndexedFieldURI":
        return etree.Element(T + "IndexedFieldURI", FieldURI=path.uri, FieldIndex=path.index)
    return etree.Element(T + "ExtendedFieldURI", **cast(Dict[str, Any], path.ext_attrs))


# --- Shapes --------------------------------------------------------------------------------------
@dataclass
class Shape:
    """An ItemShape or FolderShape."""

    base: str = "Default"
    include_mime: bool = False
    body_type: str = "Best"
    unique_body_type: str = "Best"
    normalized_body_type: str = "Best"
    additional: List[Path] = field(default_factory=list)


def parse_shape(elem: Optional[etree._Element]) -> Shape:
    shape = Shape()
    if elem is None:
        return shape
    base = child(elem, "BaseShape")
    if base is not None and base.text:
        shape.base = base.text.strip()
        if shape.base == "PcxPeopleSearch":
            shape.base = "Default"
    shape.include_mime = bool_text(child(elem, "IncludeMimeContent"))
    for attr, tag in (("body_type", "BodyType"), ("unique_body_type", "UniqueBodyType"),
                      ("normalized_body_type", "NormalizedBodyType")):
        el = child(elem, tag)
        if el is not None and el.text:
            setattr(shape, attr, el.text.strip())
    props = child(elem, "AdditionalProperties")
    if props is not None:
        shape.additional = [parse_path(p) for p in props if isinstance(p.tag, str)]
    return shape
