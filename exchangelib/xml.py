"""XML helpers: namespaces, a hardened parser and small element builders.

Every byte that comes from a server goes through :func:`parse`. The parser never resolves
entities, never loads a DTD, never touches the network and refuses huge trees. A document
that carries a DOCTYPE is refused outright: Exchange never sends one, so its presence means
something is wrong (or someone is attempting an entity-expansion attack).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Union

from lxml import etree

MNS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TNS = "http://schemas.microsoft.com/exchange/services/2006/types"
ENS = "http://schemas.microsoft.com/exchange/services/2006/errors"
SOAPNS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
AUTODISCOVER_NS = "http://schemas.microsoft.com/exchange/2010/Autodiscover"

NSMAP = {"m": MNS, "t": TNS, "s": SOAPNS}
PREFIXES = {"m": MNS, "t": TNS, "s": SOAPNS, "e": ENS, "xsi": XSI, "a": AUTODISCOVER_NS}

Element = etree._Element


class ParseError(ValueError):
    """The bytes could not be parsed as a safe XML document."""


class ForbiddenDTDError(ParseError):
    """The document declares a DTD or entities, which we never accept from a server."""


def _make_parser(large_text: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=large_text,
        remove_blank_text=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


_PARSER = _make_parser()
_LARGE_TEXT_PARSER = _make_parser(large_text=True)


def parse(data: bytes, large_text: bool = False) -> Element:
    """Parse bytes into an element tree root, refusing DTDs and entity declarations.

    The client always parses with libxml2's size limits on (no huge-tree mode): a text node over
    10 MB is refused. ``large_text=True`` lifts those limits and is meant only for the local test
    server, which must accept large attachment uploads; entities, DTDs and network access stay off.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse() expects bytes, got {type(data).__name__}")
    data = bytes(data)
    # Cheap pre-check on the prolog: a DOCTYPE can only appear before the root element.
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise ForbiddenDTDError("XML document contains a DOCTYPE/ENTITY declaration; refusing to parse it")
    try:
        root = etree.fromstring(data, parser=_LARGE_TEXT_PARSER if large_text else _PARSER)
    except etree.XMLSyntaxError as e:
        raise ParseError(f"Could not parse XML: {e}") from e
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ForbiddenDTDError("XML document contains a DOCTYPE/ENTITY declaration; refusing to parse it")
    return root


def qname(name: str) -> str:
    """Turn 't:Subject' into Clark notation '{types-ns}Subject'. Clark notation passes through."""
    if name.startswith("{"):
        return name
    prefix, _, local = name.partition(":")
    if not local:
        raise ValueError(f"Element name {name!r} has no namespace prefix")
    return f"{{{PREFIXES[prefix]}}}{local}"


def create_element(name: str, attrs: Optional[Mapping[str, str]] = None, text: Optional[str] = None,
                   nsmap: Optional[Mapping[str, str]] = None) -> Element:
    """Create an element from a prefixed name ('m:GetItem') with optional attributes and text."""
    if nsmap is None:
        # Declare the EWS prefixes on every element we create: readable logs, no ns0/ns1 prefixes
        nsmap = {"m": MNS, "t": TNS}
    elem = etree.Element(qname(name), nsmap=nsmap)
    if attrs:
        for k, v in attrs.items():
            elem.set(k, v)
    if text is not None:
        elem.text = text
    return elem


def add_child(parent: Element, name: str, attrs: Optional[Mapping[str, str]] = None,
              text: Optional[str] = None) -> Element:
    elem = etree.SubElement(parent, qname(name))
    if attrs:
        for k, v in attrs.items():
            elem.set(k, v)
    if text is not None:
        elem.text = text
    return elem


def add_children(parent: Element, children: Iterable[Element]) -> Element:
    for c in children:
        parent.append(c)
    return parent


def to_bytes(elem: Element, pretty: bool = False, xml_declaration: bool = True) -> bytes:
    return etree.tostring(elem, encoding="utf-8", xml_declaration=xml_declaration, pretty_print=pretty)


def localname(elem_or_tag: Union[Element, str]) -> str:
    tag = elem_or_tag if isinstance(elem_or_tag, str) else elem_or_tag.tag
    return tag.rsplit("}", 1)[-1]


def pretty_xml(data: bytes) -> bytes:
    """Re-indent an XML document for humans. Returns the input unchanged if it isn't parseable."""
    try:
        root = parse(data)
    except ParseError:
        return data
    for elem in root.iter():
        if isinstance(elem.tag, str) and elem.text is not None and not elem.text.strip() and len(elem):
            elem.text = None
        if elem.tail is not None and not elem.tail.strip():
            elem.tail = None
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)
