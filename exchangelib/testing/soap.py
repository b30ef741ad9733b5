"""The SOAP layer of the local EWS server: envelopes, headers, faults and version emulation.

Requests are parsed with the hardened :func:`exchangelib.xml.parse` (a DOCTYPE or entity
declaration is refused and answered with an ``ErrorSchemaValidation`` fault, never expanded).

Responses look like Exchange's: a successful response carries ``s:Header/h:ServerVersionInfo``
with the emulated build; a SOAP fault (HTTP 500) carries ``faultcode`` ``a:<ResponseCode>``,
``faultstring`` and ``detail`` with ``e:ResponseCode``, ``e:Message`` and, where Exchange sends
it, ``t:MessageXml`` (``LineNumber``/``LinePosition``/``Violation`` for schema errors,
``<t:Value Name="BackOffMilliseconds">`` for throttling). Exchange 2010 and later send faults
without a SOAP header; Exchange 2007 sent ``ServerVersionInfo`` with its faults and the older
``e:Line``/``e:Position`` detail shape, and that is what a 2007 emulation does.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/serverversioninfo
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/requestserverversion
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, cast

from lxml import etree

from ..xml import ENS, MNS, SOAPNS, TNS, XSI, ForbiddenDTDError, ParseError, parse
from .errors import SoapFault

__all__ = [
    "ServerVersion", "SERVER_VERSIONS", "EXCHANGE_VERSION_TYPES", "resolve_server_version",
    "RequestEnvelope", "parse_request", "Fault", "build_response", "build_fault", "version_gate",
    "api_version_index",
]

XSD = "http://www.w3.org/2001/XMLSchema"
_ENVELOPE = f"{{{SOAPNS}}}Envelope"
_HEADER = f"{{{SOAPNS}}}Header"
_BODY = f"{{{SOAPNS}}}Body"
_XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'

# ExchangeVersionType in types.xsd, in schema order (oldest first).
EXCHANGE_VERSION_TYPES = (
    "Exchange2007", "Exchange2007_SP1", "Exchange2009", "Exchange2010", "Exchange2010_SP1", "Exchange2010_SP2",
    "Exchange2012", "Exchange2013", "Exchange2013_SP1", "Exchange2015", "Exchange2016", "V2015_10_05",
    "V2016_01_06", "V2016_04_13", "V2016_07_13", "V2016_10_10", "V2017_01_07", "V2017_04_14", "V2017_07_11",
    "V2017_10_09", "V2018_01_08",
)
_VERSION_INDEX = {v: i for i, v in enumerate(EXCHANGE_VERSION_TYPES)}


def api_version_index(name: str) -> int:
    """Position of a RequestServerVersion value in schema order; -1 if unknown."""
    return _VERSION_INDEX.get(name, -1)


@dataclass(frozen=True)
class ServerVersion:
    """One emulated Exchange release.

    ``build`` goes into ServerVersionInfo; ``version_name`` is its ``Version`` attribute (None: not
    sent, as by Exchange 2007 RTM); ``max_api_version`` is the newest RequestServerVersion the
    server's schema knows: anything newer is answered with ``ErrorInvalidServerVersion``.
    """

    name: str
    build: Tuple[int, int, int, int]
    version_name: Optional[str]
    max_api_version: str

    @property
    def is_2007(self) -> bool:
        return self.build[0] < 14

    def accepts(self, api_version: str) -> bool:
        i = api_version_index(api_version)
        return 0 <= i <= api_version_index(self.max_api_version)


SERVER_VERSIONS: Dict[str, ServerVersion] = {sv.name: sv for sv in (
    ServerVersion("2007", (8, 0, 685, 24), None, "Exchange2007"),
    ServerVersion("2007_SP1", (8, 1, 240, 6), "Exchange2007_SP1", "Exchange2007_SP1"),
    ServerVersion("2010", (14, 0, 639, 21), "Exchange2010", "Exchange2010"),
    ServerVersion("2010_SP1", (14, 1, 218, 15), "Exchange2010_SP1", "Exchange2010_SP1"),
    ServerVersion("2010_SP2", (14, 2, 247, 5), "Exchange2010_SP2", "Exchange2010_SP2"),
    ServerVersion("2013", (15, 0, 516, 32), "Exchange2013", "Exchange2013"),
    ServerVersion("2013_SP1", (15, 0, 847, 32), "Exchange2013_SP1", "Exchange2013_SP1"),
    # Exchange 2016/2019 CUs report the V2017_07_11 schema (their types.xsd ends there).
    ServerVersion("2016", (15, 1, 2507, 6), "V2017_07_11", "V2017_07_11"),
    ServerVersion("2019", (15, 2, 1118, 7), "V2017_07_11", "V2017_07_11"),
    ServerVersion("online", (15, 20, 8769, 22), "V2018_01_08", "V2018_01_08"),
)}
_ALIASES = {
    "2007_rtm": "2007", "2007sp1": "2007_SP1", "2010sp1": "2010_SP1", "2010sp2": "2010_SP2", "2010_sp3": "2010_SP2",
    "2013sp1": "2013_SP1", "o365": "online", "365": "online", "office365": "online", "exchange_online": "online",
    "exo": "online", "v2018_01_08": "online",
}


def resolve_server_version(version: object) -> ServerVersion:
    """Accept ``'2016'``, ``'2010_SP1'``, ``'Exchange2013'``, ``'online'``, a build tuple such as
    ``(15, 1, 2507, 6)`` or an object with ``as_tuple()`` (e.g. :class:`exchangelib.version.Build`)."""
    if isinstance(version, ServerVersion):
        return version
    if isinstance(version, str):
        key = version.strip()
        if key.lower().startswith("exchange"):
            key = key[len("exchange"):]
        for name in SERVER_VERSIONS:
            if name.lower() == key.lower():
                return SERVER_VERSIONS[name]
        alias = _ALIASES.get(key.lower().replace(" ", "_"))
        if alias:
            return SERVER_VERSIONS[alias]
        raise ValueError(f"Unknown server version {version!r}: use one of {sorted(SERVER_VERSIONS)} or a build tuple")
    build = version.as_tuple() if hasattr(version, "as_tuple") else version
    if (not isinstance(build, (tuple, list)) or not 2 <= len(build) <= 4
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in build)):
        raise TypeError(f"server version must be a name like '2016' or a build tuple like (15, 1, 2507, 6), "
                        f"got {version!r}")
    build = tuple(build) + (0,) * (4 - len(build))
    same = sorted((sv for sv in SERVER_VERSIONS.values() if sv.build[:2] == build[:2]), key=lambda sv: sv.build)
    if same:
        older = [sv for sv in same if sv.build <= build]
        best = older[-1] if older else same[0]
    else:
        below = sorted((sv for sv in SERVER_VERSIONS.values() if sv.build < build), key=lambda sv: sv.build)
        if not below:
            raise ValueError(f"Build {build} is older than Exchange 2007 and does not speak EWS")
        best = below[-1]
    return ServerVersion(f"build {'.'.join(map(str, build))}", build, best.version_name, best.max_api_version)


# --- faults ---------------------------------------------------------------------------------------


class Fault(SoapFault):
    """A :class:`SoapFault` with Exchange's optional ``MessageXml`` detail.

    ``message_xml`` maps ``<t:Value Name="...">`` names to values (e.g. ``BackOffMilliseconds``);
    ``violation`` is the schema-violation text for ``ErrorSchemaValidation``. ``faultstring``
    defaults to ``message``.
    """

    def __init__(self, response_code: str, message: str, http_status: int = 500, line: Optional[int] = None,
                 position: Optional[int] = None, violation: Optional[str] = None,
                 message_xml: Optional[Mapping[str, str]] = None, faultstring: Optional[str] = None,
                 headers: Sequence[Tuple[str, str]] = ()):
        super().__init__(response_code, message, fault_code=f"a:{response_code}", http_status=http_status,
                         line=line, position=position)
        self.violation = violation
        self.message_xml = dict(message_xml or {})
        self.faultstring = faultstring or message
        self.headers = list(headers)


def schema_fault(violation: str, line: Optional[int] = None, position: Optional[int] = None) -> Fault:
    """``ErrorSchemaValidation`` as Exchange words it."""
    where = f" Line {line}, position {position}." if line is not None else ""
    text = violation if violation.rstrip().endswith(".") else violation + "."
    return Fault("ErrorSchemaValidation", "The request failed schema validation.", line=line, position=position,
                 violation=violation, faultstring=f"The request failed schema validation: {text}{where}")


def _server_version_info(sv: ServerVersion) -> etree._Element:
    # Exchange puts ServerVersionInfo in the types namespace under the h: prefix.
    elem = etree.Element(f"{{{TNS}}}ServerVersionInfo", nsmap={"h": TNS, "xsd": XSD, "xsi": XSI})
    elem.set("MajorVersion", str(sv.build[0]))
    elem.set("MinorVersion", str(sv.build[1]))
    elem.set("MajorBuildNumber", str(sv.build[2]))
    elem.set("MinorBuildNumber", str(sv.build[3]))
    if sv.version_name:
        elem.set("Version", sv.version_name)
    return elem


def build_response(body_child: etree._Element, sv: ServerVersion) -> bytes:
    """Serialise a successful response: envelope, ServerVersionInfo header, body."""
    env = etree.Element(_ENVELOPE, nsmap={"s": SOAPNS})
    header = etree.SubElement(env, _HEADER)
    header.append(_server_version_info(sv))
    body = etree.SubElement(env, _BODY, nsmap={"xsi": XSI, "xsd": XSD})
    # Never move an element out of someone else's tree (appending an lxml element re-parents it).
    body.append(copy.deepcopy(body_child) if body_child.getparent() is not None else body_child)
    return _serialise(env)


def _serialise(env: etree._Element) -> bytes:
    return _XML_DECLARATION + etree.tostring(env, encoding="utf-8", xml_declaration=False)


def build_fault(fault: SoapFault, sv: ServerVersion) -> bytes:
    """Serialise a SOAP fault the way the emulated Exchange version does."""
    env = etree.Element(_ENVELOPE, nsmap={"s": SOAPNS})
    violation = getattr(fault, "violation", None)
    message_xml = getattr(fault, "message_xml", None) or {}
    faultstring = getattr(fault, "faultstring", None) or fault.message
    if sv.is_2007:
        header = etree.SubElement(env, _HEADER)
        header.append(_server_version_info(sv))
    body = etree.SubElement(env, _BODY)
    f = etree.SubElement(body, f"{{{SOAPNS}}}Fault")
    if sv.is_2007 and fault.response_code == "ErrorSchemaValidation":
        # Exchange 2007: <faultcode>Client</faultcode>, violation in e:Message, e:Line/e:Position.
        etree.SubElement(f, "faultcode").text = "s:Client"
        etree.SubElement(f, "faultstring").text = "The request failed schema validation."
        detail = etree.SubElement(f, "detail")
        _e(detail, "ResponseCode", fault.response_code)
        _e(detail, "Message", violation or fault.message)
        if fault.line is not None:
            _e(detail, "Line", str(fault.line))
            _e(detail, "Position", str(fault.position or 1))
        return _serialise(env)
    code_elem = etree.SubElement(f, "faultcode", nsmap={"a": TNS})
    # Exchange's faultcode is always a:<ResponseCode>; a non-"a:" fault_code (e.g. "s:Client") is kept.
    fc = fault.fault_code or ""
    code_elem.text = fc if fc and not fc.startswith("a:") else f"a:{fault.response_code}"
    fs = etree.SubElement(f, "faultstring")
    fs.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    fs.text = faultstring
    detail = etree.SubElement(f, "detail")
    _e(detail, "ResponseCode", fault.response_code)
    _e(detail, "Message", fault.message)
    if fault.line is not None or violation or message_xml:
        mx = etree.SubElement(detail, f"{{{TNS}}}MessageXml", nsmap={"t": TNS})
        if fault.line is not None:
            etree.SubElement(mx, f"{{{TNS}}}LineNumber").text = str(fault.line)
            etree.SubElement(mx, f"{{{TNS}}}LinePosition").text = str(fault.position or 1)
        if violation:
            etree.SubElement(mx, f"{{{TNS}}}Violation").text = violation
        for name, value in message_xml.items():
            v = etree.SubElement(mx, f"{{{TNS}}}Value")
            v.set("Name", name)
            v.text = str(value)
    return _serialise(env)


def _e(parent: etree._Element, local: str, text: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ENS}}}{local}", nsmap={"e": ENS})
    el.text = text
    return el


# --- requests -------------------------------------------------------------------------------------


@dataclass
class RequestEnvelope:
    """A parsed request: the body child (the operation element) and the EWS header elements."""

    raw: bytes
    body_child: etree._Element
    headers: Dict[str, etree._Element] = field(default_factory=dict)
    other_headers: List[etree._Element] = field(default_factory=list)

    @property
    def operation(self) -> str:
        return etree.QName(self.body_child).localname

    @property
    def namespace(self) -> Optional[str]:
        return etree.QName(self.body_child).namespace


_LINE_POS = re.compile(r"line (\d+), column (\d+)")


def parse_request(data: bytes) -> RequestEnvelope:
    """Parse a SOAP request. Raises :class:`Fault` (``ErrorSchemaValidation``) for anything unusable."""
    if not data or not data.strip():
        raise schema_fault("Root element is missing", 1, 1)
    try:
        root: etree._Element = parse(data, large_text=True)  # Exchange accepts attachments of tens of MB
    except ForbiddenDTDError:
        raise schema_fault("For security reasons DTD is prohibited in this XML document. "
                           "DTD processing is disabled", 1, 1) from None
    except ParseError as e:
        m = _LINE_POS.search(str(e))
        line, pos = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        raise schema_fault(f"The XML request could not be parsed: {str(e).split(': ', 1)[-1]}", line, pos) from None
    if root.tag != _ENVELOPE:
        raise schema_fault(f"The root element must be the SOAP 1.1 Envelope "
                           f"{{{SOAPNS}}}Envelope, not {root.tag}", cast(Optional[int], root.sourceline), 2)
    header = root.find(_HEADER)
    body = root.find(_BODY)
    if body is None:
        raise schema_fault("The SOAP envelope has no Body element", cast(Optional[int], root.sourceline), 2)
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise schema_fault(f"The SOAP Body must contain exactly one operation element, found {len(children)}",
                           cast(Optional[int], body.sourceline), 2)
    env = RequestEnvelope(raw=bytes(data), body_child=children[0])
    if header is not None:
        for h in header:
            if not isinstance(h.tag, str):
                continue
            q = etree.QName(h)
            if q.namespace == TNS:
                env.headers[q.localname] = h
            else:
                env.other_headers.append(h)
    return env


def element_position(raw: bytes, line: Optional[int], tag: Optional[str]) -> int:
    """Best-effort 1-based column of ``tag``'s start tag on ``line`` of the raw request (like .NET reports)."""
    if not line or not tag:
        return 1
    try:
        text = raw.split(b"\n")[line - 1].decode("utf-8", "replace")
    except IndexError:
        return 1
    local = tag.rsplit("}", 1)[-1]
    m = re.search(r"<(?:[\w.-]+:)?" + re.escape(local) + r"[\s/>]", text)
    return m.start() + 2 if m else 1


# --- version gates --------------------------------------------------------------------------------

# Notable operations and elements newer than some servers, with the first RequestServerVersion value
# whose schema has them. An older emulated server answers ErrorSchemaValidation, as its schema would.
_OPERATION_GATES = {
    "ConvertId": "Exchange2007_SP1", "GetDelegate": "Exchange2007_SP1", "AddDelegate": "Exchange2007_SP1",
    "RemoveDelegate": "Exchange2007_SP1", "UpdateDelegate": "Exchange2007_SP1",
    "GetServerTimeZones": "Exchange2010", "GetRoomLists": "Exchange2010", "GetRooms": "Exchange2010",
    "GetUserConfiguration": "Exchange2010", "CreateUserConfiguration": "Exchange2010",
    "UpdateUserConfiguration": "Exchange2010", "DeleteUserConfiguration": "Exchange2010",
    "GetMailTips": "Exchange2010", "GetServiceConfiguration": "Exchange2010", "GetSharingMetadata": "Exchange2010",
    "GetSharingFolder": "Exchange2010", "RefreshSharingFolder": "Exchange2010",
    "FindConversation": "Exchange2010_SP1", "ApplyConversationAction": "Exchange2010_SP1",
    "GetStreamingEvents": "Exchange2010_SP1", "GetInboxRules": "Exchange2010_SP1",
    "UpdateInboxRules": "Exchange2010_SP1", "ExportItems": "Exchange2010_SP1", "UploadItems": "Exchange2010_SP1",
    "GetPasswordExpirationDate": "Exchange2010_SP2",
    "FindPeople": "Exchange2013", "GetPersona": "Exchange2013", "GetUserPhoto": "Exchange2013",
    "GetConversationItems": "Exchange2013", "ArchiveItem": "Exchange2013", "MarkAsJunk": "Exchange2013",
    "GetUserRetentionPolicyTags": "Exchange2013", "GetAppManifests": "Exchange2013",
    "SearchMailboxes": "Exchange2013", "GetSearchableMailboxes": "Exchange2013",
    "GetNonIndexableItemDetails": "Exchange2013", "GetNonIndexableItemStatistics": "Exchange2013",
    "SetHoldOnMailboxes": "Exchange2013", "GetHoldOnMailboxes": "Exchange2013",
    "GetDiscoverySearchConfiguration": "Exchange2013", "MarkAllItemsAsRead": "Exchange2013",
}
_HEADER_GATES = {"TimeZoneContext": "Exchange2010", "DateTimePrecision": "Exchange2010_SP2",
                 "ManagementRole": "Exchange2013"}
# Elements in the types namespace (item/folder properties, ids).
_ELEMENT_GATES = {
    "UniqueBody": "Exchange2010", "NormalizedBody": "Exchange2010", "ConversationId": "Exchange2010",
    "StartTimeZone": "Exchange2010", "EndTimeZone": "Exchange2010", "StoreEntryId": "Exchange2010_SP1",
    "RetentionDate": "Exchange2010_SP1", "TextBody": "Exchange2013", "Preview": "Exchange2013",
    "InstanceKey": "Exchange2013", "StartTimeZoneId": "Exchange2013", "EndTimeZoneId": "Exchange2013",
}
# FieldURI values naming those properties.
_FIELD_URI_GATES: Dict[Optional[str], str] = {
    "item:UniqueBody": "Exchange2010", "item:NormalizedBody": "Exchange2010", "item:ConversationId":
    "Exchange2010", "calendar:StartTimeZone": "Exchange2010", "calendar:EndTimeZone": "Exchange2010",
    "item:StoreEntryId": "Exchange2010_SP1", "item:RetentionDate": "Exchange2010_SP1",
    "item:TextBody": "Exchange2013", "item:Preview": "Exchange2013", "item:InstanceKey": "Exchange2013",
    "calendar:StartTimeZoneId": "Exchange2013", "calendar:EndTimeZoneId": "Exchange2013",
}
_ONLINE_FOLDERS = (
    "teamspaceactivity", "teamspacemessaging", "teamspaceworkitems", "scheduled", "orionnotes", "tagitems",
    "alltaggeditems", "allcategorizeditems", "externalcontacts", "teamchat", "teamchathistory", "yammerdata",
    "yammerroot", "yammerinbound", "yammeroutbound", "yammerfeeds", "kaizaladata", "messageingestion",
    "onedriveroot", "onedriverecylebin", "onedrivesystem", "onedrivevolume", "important", "starred", "archive",
)
_FOLDER_GATES = dict(
    {f: "Exchange2010_SP1" for f in (
        "recoverableitemsroot", "recoverableitemsdeletions", "recoverableitemsversions", "recoverableitemspurges",
        "archiveroot", "archivemsgfolderroot", "archivedeleteditems", "archiverecoverableitemsroot",
        "archiverecoverableitemsdeletions", "archiverecoverableitemsversions", "archiverecoverableitemspurges")},
    **{f: "Exchange2013" for f in (
        "recoverableitemsdiscoveryholds", "archiveinbox", "archiverecoverableitemsdiscoveryholds", "syncissues",
        "conflicts", "localfailures", "serverfailures", "recipientcache", "quickcontacts", "conversationhistory",
        "adminauditlogs", "todosearch", "mycontacts", "directory", "imcontactlist", "peopleconnect")},
    # The Exchange 2013 schema's DistinguishedFolderIdNameType ends at peopleconnect; favorites came later.
    favorites="Exchange2016",
    **{f: "V2018_01_08" for f in _ONLINE_FOLDERS},
)


def version_gate(env: RequestEnvelope, sv: ServerVersion) -> Optional[Fault]:
    """An ``ErrorSchemaValidation`` fault if the request uses something the emulated server's schema lacks."""
    limit = api_version_index(sv.max_api_version)

    def too_new(first: str) -> bool:
        return api_version_index(first) > limit

    op = env.operation
    if op in _OPERATION_GATES and too_new(_OPERATION_GATES[op]):
        line = cast(Optional[int], env.body_child.sourceline)
        return schema_fault(f"The element '{op}' in namespace '{MNS}' is not declared (it needs "
                            f"{_OPERATION_GATES[op]}; this server's schema is {sv.max_api_version})",
                            line, element_position(env.raw, line, op))
    for name, elem in env.headers.items():
        if name in _HEADER_GATES and too_new(_HEADER_GATES[name]):
            line = cast(Optional[int], elem.sourceline)
            return schema_fault(f"The element '{name}' in namespace '{TNS}' is not declared (it needs "
                                f"{_HEADER_GATES[name]}; this server's schema is {sv.max_api_version})",
                                line, element_position(env.raw, line, name))
    for elem in env.body_child.iter():
        if not isinstance(elem.tag, str):
            continue
        q = etree.QName(elem)
        if q.namespace != TNS:
            continue
        first = None
        what = ""
        if q.localname in _ELEMENT_GATES and too_new(_ELEMENT_GATES[q.localname]):
            first = _ELEMENT_GATES[q.localname]
            parent = elem.getparent()
            what = (f"The element '{etree.QName(parent).localname}' in namespace '{etree.QName(parent).namespace}' "
                    f"has invalid child element '{q.localname}' in namespace '{TNS}'")
        elif q.localname in ("FieldURI", "IndexedFieldURI") and too_new(_FIELD_URI_GATES.get(elem.get("FieldURI"),
                                                                                                "Exchange2007")):
            first = _FIELD_URI_GATES[elem.get("FieldURI")]
            what = (f"The 'FieldURI' attribute is invalid - The value '{elem.get('FieldURI')}' is invalid according "
                    f"to its datatype '{TNS}:UnindexedFieldURIType' - The Enumeration constraint failed")
        elif q.localname == "DistinguishedFolderId" and too_new(_FOLDER_GATES.get(elem.get("Id", ""), "Exchange2007")):
            first = _FOLDER_GATES[elem.get("Id", "")]
            what = (f"The 'Id' attribute is invalid - The value '{elem.get('Id')}' is invalid according to its "
                    f"datatype '{TNS}:DistinguishedFolderIdNameType' - The Enumeration constraint failed")
        if first:
            line = cast(Optional[int], elem.sourceline)
            return schema_fault(f"{what} (it needs {first}; this server's schema is {sv.max_api_version})",
                                line, element_position(env.raw, line, elem.tag))
    return None
