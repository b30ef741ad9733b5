"""FindPeople and GetPersona: people from a contacts folder or from the directory, as personas.

A persona here is one contact (a Contact item of the folder searched) or one directory entry (a
mailbox of the server, when the folder is the distinguished ``directory`` folder). Exchange links
contacts of one person into a single persona; the local server does not link, so each contact is
its own persona.

FindPeople pages with ``IndexedPageItemView`` (Offset counted from the BasePoint), filters with a
``Restriction`` over persona properties (IsEqualTo, IsNotEqualTo, the relational operators, Contains,
Exists, And, Or, Not; strings compare ignoring case) and with ``QueryString`` (every word a prefix of
a word of the display name, given name, surname or an email address), and sorts by ``SortOrder``
(default: display name). ``IdOnly`` shapes return the persona id; ``Default`` shapes the properties
the local server keeps (names, company, title, email addresses, creation time).
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findpeople-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getpersona-operation
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Callable, List, Optional, Sequence, Tuple

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext, ResponseCodeError
from ..store import ItemRecord, Mailbox
from .common import RESPONSE_NSMAP, child, children, err, handler, local, resolve_folder
from .props import get_text

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"
_MAGIC = b"PSN\x01"
# The PersonaType sequence elements the local server fills, in XSD order
_ORDER = ("PersonaId", "PersonaType", "CreationTime", "DisplayName", "FileAs", "GivenName", "Surname", "Title",
          "CompanyName", "EmailAddress", "EmailAddresses", "RelevanceScore")
Predicate = Callable[[etree._Element], bool]


# --- ids -------------------------------------------------------------------------------------------
def persona_id(kind: str, mailbox: str, key: bytes = b"") -> str:
    raw = _MAGIC + kind.encode("ascii") + mailbox.lower().encode("utf-8") + b"\x00" + key
    return base64.b64encode(raw).decode("ascii")


def _decode(value: Optional[str]) -> Tuple[str, str, bytes]:
    try:
        raw = base64.b64decode((value or "").encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise err("ErrorInvalidIdMalformed") from None
    if not raw.startswith(_MAGIC) or len(raw) < len(_MAGIC) + 2 or b"\x00" not in raw[len(_MAGIC) + 1:]:
        raise err("ErrorInvalidIdMalformed")
    kind = chr(raw[len(_MAGIC)])
    address, _, key = raw[len(_MAGIC) + 1:].partition(b"\x00")
    return kind, address.decode("utf-8", "replace"), key


# --- building personas ---------------------------------------------------------------------------------
def _address(tag: str, name: Optional[str], address: str, kind: str) -> etree._Element:
    el = etree.Element(T + tag)
    if name:
        etree.SubElement(el, T + "Name").text = name
    etree.SubElement(el, T + "EmailAddress").text = address
    etree.SubElement(el, T + "RoutingType").text = "SMTP"
    etree.SubElement(el, T + "MailboxType").text = kind
    return el


def _persona(pid: str, values: dict, addresses: Sequence[Tuple[Optional[str], str, str]]) -> etree._Element:
    p = etree.Element(T + "Persona")
    for name in _ORDER:
        if name == "PersonaId":
            etree.SubElement(p, T + "PersonaId", Id=pid)
        elif name == "EmailAddress" and addresses:
            p.append(_address("EmailAddress", *addresses[0]))
        elif name == "EmailAddresses" and addresses:
            arr = etree.SubElement(p, T + "EmailAddresses")
            for a in addresses:
                arr.append(_address("Address", *a))
        elif values.get(name) is not None:
            etree.SubElement(p, T + name).text = values[name]
    return p


def _contact_persona(rec: ItemRecord) -> etree._Element:
    values = {n: get_text(rec.elem, n) for n in ("DisplayName", "FileAs", "GivenName", "Surname", "CompanyName")}
    values["Title"] = get_text(rec.elem, "JobTitle")
    values["PersonaType"] = "Person"
    values["CreationTime"] = get_text(rec.elem, "DateTimeCreated")
    values["RelevanceScore"] = "2147483647"
    addresses = []
    for entry in rec.elem.findall(f"{T}EmailAddresses/{T}Entry"):
        text = (entry.text or "").strip()
        if text.lower().startswith("smtp:"):
            text = text[5:]
        if text:
            addresses.append((values.get("DisplayName"), text, "Contact"))
    return _persona(persona_id("c", rec.mailbox.primary_smtp_address, rec.key), values, addresses)


def _directory_persona(mb: Mailbox) -> etree._Element:
    parts = mb.display_name.split()
    values = {"DisplayName": mb.display_name, "FileAs": mb.display_name, "PersonaType": "Person",
              "GivenName": parts[0] if parts else None, "Surname": " ".join(parts[1:]) if len(parts) > 1 else None,
              "RelevanceScore": "2147483647"}
    addresses = [(mb.display_name, a, "Mailbox") for a in mb.addresses()]
    return _persona(persona_id("d", mb.primary_smtp_address), values, addresses)


def _sources(ctx: RequestContext, folder_el: Optional[etree._Element]) -> List[etree._Element]:
    if folder_el is not None:
        target = next(iter(children(folder_el)), None)
        if target is not None and local(target) == "DistinguishedFolderId" and target.get("Id") == "directory":
            return [_directory_persona(mb) for mb in ctx.store.mailboxes]
        if target is None:
            raise err("ErrorInvalidRequest", "ParentFolderId needs a folder.")
        folder = resolve_folder(ctx, target)
        if folder.distinguished == "directory":
            return [_directory_persona(mb) for mb in ctx.store.mailboxes]
    else:
        folder = ctx.mailbox.folder("contacts")  # type: ignore[assignment]
        if folder is None:
            return []
    return [_contact_persona(rec) for rec in folder.items() if rec.element_kind == "Contact"]


# --- restrictions over personas ---------------------------------------------------------------------------
def _values(p: etree._Element, uri: str) -> List[str]:
    name = uri.split(":", 1)[-1]
    if name == "PersonaId":
        el = p.find(T + "PersonaId")
        return [el.get("Id", "")] if el is not None else []
    if name == "EmailAddress":
        return [e.text or "" for e in p.findall(f"{T}EmailAddress/{T}EmailAddress")]
    if name == "EmailAddresses":
        return [e.text or "" for e in p.findall(f"{T}EmailAddresses/{T}Address/{T}EmailAddress")]
    return [e.text or "" for e in p.findall(T + name)]


def _path_uri(expr: etree._Element) -> str:
    path = expr.find(T + "FieldURI")
    if path is None or not (path.get("FieldURI") or "").startswith("persona:"):
        raise err("ErrorUnsupportedPathForQuery", "FindPeople restrictions take persona: field URIs.")
    return path.get("FieldURI") or ""


def _compile(expr: etree._Element) -> Predicate:
    kind = local(expr)
    if kind in ("And", "Or"):
        parts = [_compile(c) for c in children(expr)]
        if kind == "And":
            return lambda p: all(f(p) for f in parts)
        return lambda p: any(f(p) for f in parts)
    if kind == "Not":
        inner = _compile(children(expr)[0])
        return lambda p: not inner(p)
    uri = _path_uri(expr)
    if kind == "Exists":
        return lambda p: bool(_values(p, uri))
    if kind == "Contains":
        const_el = expr.find(T + "Constant")
        wanted = (const_el.get("Value") if const_el is not None else None) or ""
        mode = expr.get("ContainmentMode", "Substring")
        ignore_case = expr.get("ContainmentComparison", "Exact") != "Exact"
        wanted = wanted.casefold() if ignore_case else wanted

        def contains(p: etree._Element) -> bool:
            for v in _values(p, uri):
                v = v.casefold() if ignore_case else v
                if mode == "FullString":
                    hit = v == wanted
                elif mode == "Prefixed":
                    hit = v.startswith(wanted)
                elif mode == "PrefixOnWords":
                    hit = any(w.startswith(wanted) for w in v.split())
                else:
                    hit = wanted in v
                if hit:
                    return True
            return False

        return contains
    ops = {"IsEqualTo": lambda a, b: a == b, "IsNotEqualTo": lambda a, b: a != b,
           "IsGreaterThan": lambda a, b: a > b, "IsGreaterThanOrEqualTo": lambda a, b: a >= b,
           "IsLessThan": lambda a, b: a < b, "IsLessThanOrEqualTo": lambda a, b: a <= b}
    if kind not in ops:
        raise err("ErrorUnsupportedQueryFilter", f"FindPeople does not support {kind} restrictions.")
    const = expr.find(f"{T}FieldURIOrConstant/{T}Constant")
    if const is None:
        raise err("ErrorUnsupportedQueryFilter", "FindPeople restrictions compare with a constant.")
    wanted = (const.get("Value") or "").casefold()
    op = ops[kind]
    if kind == "IsNotEqualTo":
        return lambda p: all(op(v.casefold(), wanted) for v in _values(p, uri))
    return lambda p: any(op(v.casefold(), wanted) for v in _values(p, uri))


def _query_predicate(text: str) -> Predicate:
    words = [w.casefold() for w in re.split(r"\s+", text.strip()) if w]

    def match(p: etree._Element) -> bool:
        candidates: List[str] = []
        for name in ("DisplayName", "GivenName", "Surname"):
            candidates.extend((p.findtext(T + name) or "").casefold().split())
        for a in _values(p, "persona:EmailAddresses"):
            candidates.extend([a.casefold(), a.casefold().split("@", 1)[0]])
        return all(any(c.startswith(w) for c in candidates) for w in words)

    return match


def _shape(p: etree._Element, shape: Optional[etree._Element]) -> etree._Element:
    base = (shape.findtext(T + "BaseShape") or "Default").strip() if shape is not None else "Default"
    if base != "IdOnly":
        return p
    wanted = {"PersonaId"}
    extra = shape.find(T + "AdditionalProperties") if shape is not None else None
    for path in (extra if extra is not None else ()):
        if isinstance(path.tag, str) and path.get("FieldURI", "").startswith("persona:"):
            wanted.add(path.get("FieldURI", "").split(":", 1)[1])
    for c in list(p):
        if local(c) not in wanted:
            p.remove(c)
    return p


def _int(value: Optional[str], default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        raise err("ErrorInvalidPagingMaxRows", "Paging values must be integers.") from None


@handler("FindPeople")
def find_people(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findpeople-operation"""
    root = etree.Element(M + "FindPeopleResponse", nsmap=RESPONSE_NSMAP)
    try:
        people = _sources(ctx, child(body, "ParentFolderId"))
        restriction = child(body, "Restriction")
        if restriction is not None and len(children(restriction)):
            pred = _compile(children(restriction)[0])
            people = [p for p in people if pred(p)]
        query = child(body, "QueryString")
        if query is not None and (query.text or "").strip():
            qpred = _query_predicate(query.text or "")
            people = [p for p in people if qpred(p)]
        sort = child(body, "SortOrder")
        orders = [(fo.find(T + "FieldURI"), fo.get("Order", "Ascending")) for fo in children(sort)] \
            if sort is not None else []
        people.sort(key=lambda p: ((p.findtext(T + "DisplayName") or "").casefold(), _values(p, "persona:PersonaId")))
        for path, order in reversed(orders):
            uri = path.get("FieldURI", "") if path is not None else ""
            people.sort(key=lambda p: [v.casefold() for v in _values(p, uri)], reverse=order == "Descending")
        view = child(body, "IndexedPageItemView")
        total = len(people)
        offset = _int(view.get("Offset") if view is not None else None, 0)
        max_rows = _int(view.get("MaxEntriesReturned") if view is not None else None, total)
        if max_rows <= 0 or offset < 0:
            raise err("ErrorInvalidPagingMaxRows", "MaxEntriesReturned must be greater than zero.")
        if view is not None and view.get("BasePoint") == "End":
            stop = max(total - offset, 0)
            first = max(stop - max_rows, 0)
        else:
            first = min(offset, total)
            stop = min(first + max_rows, total)
        shape = child(body, "PersonaShape")
        page = [_shape(p, shape) for p in people[first:stop]]
    except ResponseCodeError as e:
        root.set("ResponseClass", "Error")
        etree.SubElement(root, M + "MessageText").text = e.message
        etree.SubElement(root, M + "ResponseCode").text = e.response_code
        etree.SubElement(root, M + "DescriptiveLinkKey").text = "0"
        return root
    root.set("ResponseClass", "Success")
    etree.SubElement(root, M + "ResponseCode").text = "NoError"
    arr = etree.SubElement(root, M + "People")
    for p in page:
        arr.append(p)
    etree.SubElement(root, M + "TotalNumberOfPeopleInView").text = str(total)
    etree.SubElement(root, M + "FirstMatchingRowIndex").text = "0"
    etree.SubElement(root, M + "FirstLoadedRowIndex").text = str(first)
    return root


def _get_persona(ctx: RequestContext, body: etree._Element) -> etree._Element:
    pid = child(body, "PersonaId")
    if pid is None:
        raise err("ErrorInvalidRequest", "GetPersona needs a PersonaId.")
    kind, address, key = _decode(pid.get("Id"))
    if kind == "d":
        mb = ctx.store.get_mailbox(address)
        if mb is None:
            raise err("ErrorItemNotFound")
        return _directory_persona(mb)
    owner = ctx.mailbox_for(address)
    rec = ctx.store.find_item(key)
    if rec is None or rec.mailbox is not owner or rec.element_kind != "Contact":
        raise err("ErrorItemNotFound")
    return _contact_persona(rec)


@handler("GetPersona")
def get_persona(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getpersona-operation"""
    root = etree.Element(M + "GetPersonaResponseMessage", nsmap=RESPONSE_NSMAP)
    try:
        persona = _get_persona(ctx, body)
    except ResponseCodeError as e:
        root.set("ResponseClass", "Error")
        etree.SubElement(root, M + "MessageText").text = e.message
        etree.SubElement(root, M + "ResponseCode").text = e.response_code
        etree.SubElement(root, M + "DescriptiveLinkKey").text = "0"
        # The schema requires a Persona even in an error response
        etree.SubElement(etree.SubElement(root, M + "Persona"), T + "PersonaId", Id=pid_text(body))
        return root
    root.set("ResponseClass", "Success")
    etree.SubElement(root, M + "ResponseCode").text = "NoError"
    persona.tag = M + "Persona"
    root.append(persona)
    return root


def pid_text(body: etree._Element) -> str:
    pid = child(body, "PersonaId")
    return (pid.get("Id") if pid is not None else None) or "AA=="

