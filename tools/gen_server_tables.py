#!/usr/bin/env python3
"""Generate exchangelib/testing/schema_tables.py from Microsoft's EWS types.xsd.

The local EWS server stores items and folders as XML and must insert the elements it sets
itself (ItemId, DateTimeCreated, Size, ...) at the position the XSD sequence demands, know the
XSD type of every property to compare restriction values, and map FieldURI values to element
names. All of that is read from the schema here, so the server never depends on the client's
field definitions.

Usage: python3 tools/gen_server_tables.py [--out FILE] [path/to/ews-schema]   (default: exchangelib/schema)
"""
from __future__ import annotations

import pprint
import sys
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "exchangelib" / "testing" / "schema_tables.py"

# Prefix of an UnindexedFieldURIType value -> the complex types whose elements it names, most
# specific last. A URI 'prefix:Name' names element Name of the first of these types that has it.
URI_PREFIX_TYPES = {
    "folder": ["BaseFolderType", "FolderType", "CalendarFolderType", "ContactsFolderType", "SearchFolderType"],
    "item": ["ItemType"],
    "message": ["MessageType"],
    "sharingMessage": ["SharingMessageType"],
    "meeting": ["MeetingMessageType", "MeetingResponseMessageType", "MeetingCancellationMessageType"],
    "meetingRequest": ["MeetingRequestMessageType"],
    "calendar": ["CalendarItemType"],
    "task": ["TaskType"],
    "contacts": ["ContactItemType"],
    "distributionlist": ["DistributionListType"],
    "postitem": ["PostItemType"],
}

# FieldURI values whose element name differs from the part after the colon. Facts from the EWS
# reference pages of the FieldURI element.
URI_ELEMENT_OVERRIDES = {
    "item:MimeContentUTF8": ("ItemType", "MimeContent"),
}

# Enumerated properties whose stored numbers do not follow the schema's order of values.
NOT_ORDINAL_ENUMS = {"folder:DistinguishedFolderId", "item:IconIndex", "contacts:FileAsMapping"}

# IndexedFieldURI (DictionaryURIType) -> (owner type, container element, entry element,
# attribute holding the FieldIndex, sub-element of the entry or None).
INDEXED_FIELDS = {
    "item:InternetMessageHeader": ("ItemType", "InternetMessageHeaders", "InternetMessageHeader", "HeaderName", None),
    "contacts:ImAddress": ("ContactItemType", "ImAddresses", "Entry", "Key", None),
    "contacts:PhysicalAddress:Street": ("ContactItemType", "PhysicalAddresses", "Entry", "Key", "Street"),
    "contacts:PhysicalAddress:City": ("ContactItemType", "PhysicalAddresses", "Entry", "Key", "City"),
    "contacts:PhysicalAddress:State": ("ContactItemType", "PhysicalAddresses", "Entry", "Key", "State"),
    "contacts:PhysicalAddress:CountryOrRegion": ("ContactItemType", "PhysicalAddresses", "Entry", "Key",
                                                 "CountryOrRegion"),
    "contacts:PhysicalAddress:PostalCode": ("ContactItemType", "PhysicalAddresses", "Entry", "Key", "PostalCode"),
    "contacts:PhoneNumber": ("ContactItemType", "PhoneNumbers", "Entry", "Key", None),
    "contacts:EmailAddress": ("ContactItemType", "EmailAddresses", "Entry", "Key", None),
    "distributionlist:Members:Member": ("DistributionListType", "Members", "Member", "Key", None),
}


def _local(qn: Optional[str]) -> Optional[str]:
    if qn is None:
        return None
    return qn.split(":", 1)[1] if ":" in qn else qn


class Schema:
    def __init__(self, path: Path):
        self.doc = etree.parse(str(path))
        root = self.doc.getroot()
        self.complex: Dict[str, etree._Element] = {}
        self.simple: Dict[str, etree._Element] = {}
        self.groups: Dict[str, etree._Element] = {}
        self.elements: Dict[str, etree._Element] = {}
        for child in root:
            if not isinstance(child.tag, str):
                continue
            name = child.get("name")
            tag = etree.QName(child).localname
            if tag == "complexType":
                self.complex[name] = child
            elif tag == "simpleType":
                self.simple[name] = child
            elif tag == "group":
                self.groups[name] = child
            elif tag == "element":
                self.elements[name] = child

    # --- simple types ---------------------------------------------------------------------
    def builtin_of(self, type_qn: str) -> str:
        """Resolve a simple type name to the xs: builtin it restricts (lists and unions -> xs:string)."""
        seen = set()
        while True:
            if type_qn.startswith("xs:"):
                return type_qn
            name = _local(type_qn)
            if name in seen or name not in self.simple:
                return "xs:string"
            seen.add(name)
            st = self.simple[name]
            union = st.find(f"{{{XS}}}union")
            if union is not None:
                # A union of restrictions of one builtin (e.g. ReminderMinutesBeforeStartType) takes that builtin
                bases = {self.builtin_of(r.get("base")) for r in union.iter(f"{{{XS}}}restriction") if r.get("base")}
                bases |= {self.builtin_of(m) for m in (union.get("memberTypes") or "").split()}
                return bases.pop() if len(bases) == 1 else "xs:string"
            restr = st.find(f"{{{XS}}}restriction")
            if restr is None or restr.get("base") is None:
                return "xs:string"
            type_qn = restr.get("base")

    def enumeration(self, name: str) -> List[str]:
        st = self.simple[name]
        return [e.get("value") for e in st.iter(f"{{{XS}}}enumeration")]

    # --- complex types --------------------------------------------------------------------
    def child_type(self, el: etree._Element) -> str:
        t = el.get("type")
        if t is None:
            # Anonymous type: treat complex ones as opaque, simple ones as string
            return "anonymous"
        name = _local(t)
        if t.startswith("xs:"):
            return t
        if name in self.simple:
            return self.builtin_of(t)
        return name

    def _particles(self, node: etree._Element, out: List[Tuple[str, str]], raw: bool = False) -> None:
        for child in node:
            if not isinstance(child.tag, str):
                continue
            tag = etree.QName(child).localname
            if tag == "element":
                if child.get("ref"):
                    ref = _local(child.get("ref"))
                    g = self.elements.get(ref)
                    out.append((ref, self.child_type(g) if g is not None else "anonymous"))
                else:
                    out.append((child.get("name"), child.get("type", "") if raw else self.child_type(child)))
            elif tag in ("sequence", "choice", "all"):
                self._particles(child, out, raw)
            elif tag == "group":
                self._particles(self.groups[_local(child.get("ref"))], out, raw)

    def declared_type(self, type_name: str, element: str) -> Optional[str]:
        """The type attribute of ``element`` as declared in ``type_name`` or its bases."""
        ct = self.complex[type_name]
        cc = ct.find(f"{{{XS}}}complexContent")
        nodes = [ct]
        if cc is not None:
            ext = cc.find(f"{{{XS}}}extension")
            if ext is not None:
                found = self.declared_type(_local(ext.get("base")), element)
                if found:
                    return found
                nodes = [ext]
            else:
                nodes = [cc.find(f"{{{XS}}}restriction")]
        out: List[Tuple[str, str]] = []
        for n in nodes:
            self._particles(n, out, raw=True)
        return dict(out).get(element)

    def enumeration_of(self, type_qn: Optional[str]) -> Optional[List[str]]:
        """Enumeration values of a simple type restricting xs:string by enumeration, else None."""
        name = _local(type_qn)
        if not type_qn or type_qn.startswith("xs:") or name not in self.simple:
            return None
        restr = self.simple[name].find(f"{{{XS}}}restriction")
        if restr is None:
            return None
        values = [e.get("value") for e in restr.findall(f"{{{XS}}}enumeration")]
        return values or None

    def sequence(self, type_name: str) -> List[Tuple[str, str]]:
        """The type's child elements (name, type) in document order, extension bases first."""
        ct = self.complex[type_name]
        out: List[Tuple[str, str]] = []
        cc = ct.find(f"{{{XS}}}complexContent")
        if cc is not None:
            ext = cc.find(f"{{{XS}}}extension")
            if ext is not None:
                out.extend(self.sequence(_local(ext.get("base"))))
                self._particles(ext, out)
            else:
                self._particles(cc.find(f"{{{XS}}}restriction"), out)
        elif ct.find(f"{{{XS}}}simpleContent") is not None:
            pass
        else:
            self._particles(ct, out)
        # An element may appear in several choice branches; keep its first position
        seen: Set[str] = set()
        uniq = []
        for n, t in out:
            if n not in seen:
                seen.add(n)
                uniq.append((n, t))
        return uniq

    def simple_content_base(self, type_name: str) -> Optional[str]:
        ct = self.complex[type_name]
        sc = ct.find(f"{{{XS}}}simpleContent")
        if sc is None:
            return None
        for tag in ("extension", "restriction"):
            e = sc.find(f"{{{XS}}}{tag}")
            if e is not None:
                base = e.get("base")
                if _local(base) in self.complex:
                    return self.simple_content_base(_local(base))
                return self.builtin_of(base)
        return None

    def array_members(self, type_name: str) -> Dict[str, str]:
        return dict(self.sequence(type_name))


def main(argv: List[str]) -> int:
    args = list(argv[1:])
    out = OUT
    if args[:1] == ["--out"]:
        out = Path(args[1])
        args = args[2:]
    schema_dir = Path(args[0]) if args else ROOT / "exchangelib" / "schema"
    s = Schema(schema_dir / "types.xsd")

    item_elements = s.array_members("ArrayOfRealItemsType")
    folder_elements = s.array_members("ArrayOfFoldersType")

    # Every complex type reachable from the item and folder types
    sequences: Dict[str, Tuple[Tuple[str, str], ...]] = {}
    simple_content: Dict[str, str] = {}
    todo = list(item_elements.values()) + list(folder_elements.values()) + ["BaseFolderType"]
    while todo:
        t = todo.pop()
        if t in sequences or t not in s.complex:
            continue
        seq = tuple(s.sequence(t))
        sequences[t] = seq
        base = s.simple_content_base(t)
        if base:
            simple_content[t] = base
        for _, ct in seq:
            if ct in s.complex and ct not in sequences:
                todo.append(ct)

    field_uris: Dict[str, Tuple[str, str]] = {}
    unresolved = []
    for uri in s.enumeration("UnindexedFieldURIType"):
        if uri in URI_ELEMENT_OVERRIDES:
            field_uris[uri] = URI_ELEMENT_OVERRIDES[uri]
            continue
        prefix, _, name = uri.partition(":")
        owners = URI_PREFIX_TYPES.get(prefix)
        if not owners:
            continue  # conversation:, persona:, rolemember:, network:, ... - not stored as items by this server
        for owner in owners:
            if owner not in sequences:
                sequences[owner] = tuple(s.sequence(owner))
            if name in dict(sequences[owner]):
                field_uris[uri] = (owner, name)
                break
        else:
            unresolved.append(uri)

    # FieldURIs whose property is an enumeration: Exchange stores these as numbers in schema order
    # (Importance Low < Normal < High, ...), which is how they sort and compare.
    field_enums: Dict[str, Tuple[str, ...]] = {}
    for uri, (owner, name) in field_uris.items():
        if uri in NOT_ORDINAL_ENUMS:
            continue
        values = s.enumeration_of(s.declared_type(owner, name))
        if values:
            field_enums[uri] = tuple(values)

    distinguished = tuple(s.enumeration("DistinguishedFolderIdNameType"))
    body_types = tuple(s.enumeration("BodyTypeResponseType"))

    lines = [
        '"""Tables read from Microsoft\'s EWS types.xsd for the local server. GENERATED - do not edit.',
        "",
        "Regenerate with: python3 tools/gen_server_tables.py",
        '"""',
        "# flake8: noqa",
        "from __future__ import annotations",
        "",
        "# Item element name (child of t:Items) -> XSD complex type",
        f"ITEM_ELEMENTS = {pprint.pformat(item_elements, width=110)}",
        "",
        "# Folder element name (child of t:Folders) -> XSD complex type",
        f"FOLDER_ELEMENTS = {pprint.pformat(folder_elements, width=110)}",
        "",
        "# Complex type -> its child elements in XSD sequence order (extension bases flattened),",
        "# each as (element name, type). Types are a complex type name, an xs: builtin for simple",
        "# types (restrictions resolved to their builtin base) or 'anonymous'.",
        f"SEQUENCES = {pprint.pformat(sequences, width=110)}",
        "",
        "# Complex types with simple content (e.g. BodyType) -> builtin type of their text",
        f"SIMPLE_CONTENT = {pprint.pformat(simple_content, width=110)}",
        "",
        "# UnindexedFieldURIType value -> (complex type that first declares it, element name)",
        f"FIELD_URIS = {pprint.pformat(field_uris, width=110)}",
        "",
        "# FieldURI -> enumeration values in schema order, for properties of an enumerated type",
        f"FIELD_ENUMS = {pprint.pformat(field_enums, width=110)}",
        "",
        "# UnindexedFieldURIType values that name no element in the schema (calculated properties)",
        f"UNRESOLVED_FIELD_URIS = {pprint.pformat(tuple(unresolved), width=110)}",
        "",
        "# DictionaryURIType value -> (owner type, container element, entry element, index attribute,",
        "# sub-element of the entry or None)",
        f"INDEXED_FIELD_URIS = {pprint.pformat(INDEXED_FIELDS, width=110)}",
        "",
        "# Every DistinguishedFolderIdNameType value, in schema order",
        f"DISTINGUISHED_FOLDER_IDS = {pprint.pformat(distinguished, width=110)}",
        "",
        f"BODY_TYPES = {body_types!r}",
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out} ({len(sequences)} types, {len(field_uris)} field URIs, unresolved: {unresolved})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
