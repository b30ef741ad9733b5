"""XML helpers: namespaces, a hardened parser and small element builders.

Every byte that comes from a server goes through :func:`parse`. The parser never resolves
entities, never loads a DTD, never touches the network and refuses huge trees. A document
that carries a DOCTYPE is refused outright: Exchange never sends one, so its presence means
something is wrong (or someone is attempting an entity-expansion attack).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, Union

from lxml import etree

from .errors import MalformedResponseError
from .lazy import LazyModule

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import secrets
else:
    secrets = LazyModule("secrets")

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


class ForbiddenDTDError(ParseError, MalformedResponseError):
    """The document declares a DTD or entities, which we never accept from a server. Never retried."""

    def __init__(self, message: str = "", *, status_code: Optional[int] = None) -> None:
        MalformedResponseError.__init__(self, message, status_code=status_code)


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


# Base64 payloads that EWS legitimately sends in one text node and that may exceed libxml2's 10 MB
# text-node limit: ExportItems m:Data, GetItem t:MimeContent, GetAttachment t:Content.
LARGE_BASE64_ELEMENTS = frozenset(
    f"{{{ns}}}{local}" for ns in (MNS, TNS) for local in ("Data", "MimeContent", "Content")
)
# Text shorter than this is left for the parser; only documents at least this long are scanned.
LARGE_TEXT_THRESHOLD = 1024 * 1024
# Opening tag of a candidate element, any prefix (or none): the namespace is checked after parsing.
# No nested quantifiers, and every quantified class stops at '<' or '>', so matching is linear.
_LARGE_TAG_RE = re.compile(rb"<((?:[A-Za-z_][A-Za-z0-9_.\-]*:)?(?:Data|MimeContent|Content))(?:\s[^<>]*)?(?<!/)>")
_BASE64_RUN_RE = re.compile(rb"[A-Za-z0-9+/= \t\r\n]*")  # XML whitespace only
_WS_RE = re.compile(rb"[ \t\r\n]*>")


def _cut_large_base64(data: bytes) -> Tuple[bytes, Dict[str, bytes]]:
    """Replace the base64 text of large Data/MimeContent/Content elements by unique placeholders.

    Returns the shortened document and a map placeholder -> cut-out bytes (empty if nothing was cut).
    A text is only cut when it consists of base64 characters and whitespace alone and is immediately
    followed by the matching end tag, so no markup, entity or character reference is ever removed.
    """
    cuts: Dict[str, bytes] = {}
    pieces: List[bytes] = []
    pos = 0
    nonce = secrets.token_hex(8)
    for m in _LARGE_TAG_RE.finditer(data):
        start = m.end()
        if start < pos:
            continue
        run = _BASE64_RUN_RE.match(data, start)
        end = run.end() if run else start
        if end - start < LARGE_TEXT_THRESHOLD:
            continue
        close = b"</" + m.group(1)
        if not data.startswith(close, end) or not _WS_RE.match(data, end + len(close)):
            continue
        # '_' is not a base64 character, so a placeholder never collides with a payload
        token = f"_exchangelib_large_text_{nonce}_{len(cuts)}_"
        cuts[token] = data[start:end]
        pieces.append(data[pos:start])
        pieces.append(token.encode("ascii"))
        pos = end
    if not cuts:
        return data, cuts
    pieces.append(data[pos:])
    return b"".join(pieces), cuts


def _restore_large_base64(root: Element, cuts: Dict[str, bytes]) -> bool:
    """Put the cut-out texts back. False unless every placeholder is the whole text of exactly one
    EWS Data/MimeContent/Content element (e.g. a placeholder that ended up in a comment or in an
    element of a foreign namespace)."""
    pending = dict(cuts)
    for elem in root.iter(*LARGE_BASE64_ELEMENTS):
        payload = pending.pop(elem.text, None) if elem.text else None
        if payload is None:
            if elem.text in cuts:
                return False  # the same placeholder twice: not what we cut
            continue
        # Same end-of-line normalisation the parser applies to character data
        elem.text = payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n").decode("ascii")
    return not pending


def _parse(data: bytes, parser: etree.XMLParser) -> Element:
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as e:
        raise ParseError(f"Could not parse XML: {e}") from e
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ForbiddenDTDError("XML document contains a DOCTYPE/ENTITY declaration; refusing to parse it")
    return root


def _declares_dtd(data: bytes) -> bool:
    """Whether ``data`` holds ``<!DOCTYPE`` or ``<!ENTITY`` anywhere.

    Found through the '!' (rare in EWS XML, and memchr finds it at memory speed) rather than a substring search
    that stops at every '<'; past a few hundred '!' the substring search takes over, so no input makes this slow.
    """
    i = data.find(b"!")
    for _ in range(256):
        if i == -1:
            return False
        if i and data[i - 1] == 0x3C and (data.startswith(b"DOCTYPE", i + 1) or data.startswith(b"ENTITY", i + 1)):
            return True
        i = data.find(b"!", i + 1)
    return b"<!DOCTYPE" in data or b"<!ENTITY" in data


def _has_long_text(data: bytes, length: int) -> bool:
    """Whether ``data`` may hold ``length`` bytes or more without a '<' (a text node that long). Looks at windows
    of half that length: such a run contains a whole window, and a window with a '<' near its start (every
    window of a page of items) costs one memchr of a few bytes."""
    step = max(1, length // 2)
    for start in range(0, len(data) - step + 1, step):
        if data.find(b"<", start, start + step) == -1:
            return True
    return False


def parse(data: bytes, large_text: bool = False) -> Element:
    """Parse bytes into an element tree root, refusing DTDs and entity declarations.

    The client parses with libxml2's size limits on (no huge-tree mode) first; a document that fails
    only because a text node is over 10 MB (a big message body) is parsed again without that limit
    (entities, DTDs and the network stay off; the protocol caps the response size). For the base64 text of EWS ``Data`` (ExportItems),
    ``MimeContent`` (GetItem) and ``Content`` (GetAttachment) elements in the messages/types
    namespaces: such text over :data:`LARGE_TEXT_THRESHOLD` is cut out of the bytes before parsing
    and set on the parsed element afterwards, so it has no size limit. It can hold base64 characters
    only, never markup or entity references. ``large_text=True`` lifts libxml2's limits altogether
    and is meant only for the local test server; entities, DTDs and network access stay off.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse() expects bytes, got {type(data).__name__}")
    data = bytes(data)
    # Cheap pre-check: a DOCTYPE anywhere, however long the prolog before it, is refused.
    if _declares_dtd(data):
        raise ForbiddenDTDError("XML document contains a DOCTYPE/ENTITY declaration; refusing to parse it")
    if large_text:
        return _parse(data, _LARGE_TEXT_PARSER)
    # Only a document with a text of LARGE_TEXT_THRESHOLD bytes or more can hold such a payload: most big
    # documents (a page of items) have none and skip the scan. The substring checks then look for the end tags
    # (``</m:Data>``, ``</t:MimeContent>``, ``</t:Content>``): the bare words also occur in ordinary text (an HTML
    # body's "Content-Type" meta tag, "Data" in any subject), end tags in text don't.
    if len(data) >= LARGE_TEXT_THRESHOLD and _has_long_text(data, LARGE_TEXT_THRESHOLD) \
            and (b"Data>" in data or b"Content>" in data):
        cut, cuts = _cut_large_base64(data)
        if cuts:
            try:
                root = _parse(cut, _PARSER)
            except ForbiddenDTDError:
                raise
            except ParseError:
                root = None  # report the error the untouched document gives
            if root is not None and _restore_large_base64(root, cuts):
                return root
            # Anything unexpected: parse the original bytes exactly as without this feature
    try:
        return _parse(data, _PARSER)
    except ForbiddenDTDError:
        raise
    except ParseError as e:
        if "Text node too long" not in str(e):
            raise
    # A text node over libxml2's 10 MB limit: a big message body. Entities, DTDs and the network stay off,
    # and the protocol caps the response size, so lifting the per-node limit is safe.
    return _parse(data, _LARGE_TEXT_PARSER)


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
