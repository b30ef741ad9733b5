#!/usr/bin/env python3
"""Generate exchangelib/response_codes.py: one exception class per EWS ResponseCode.

Usage (from the repository root)::

    python3 tools/gen_response_codes.py [path/to/ews-schema] [-o exchangelib/response_codes.py]

The codes are the enumeration values of ``ResponseCodeType`` in the EWS schema (messages.xsd; types.xsd is
searched too). The default schema directory is the copy shipped in the package, ``exchangelib/schema``.

The generated module is self-contained: it starts with the exception root ``EWSError`` and the
``ResponseMessageError`` base (their source is the BASE_SOURCE template below), so that
``exchangelib.errors`` can import and re-export it without an import cycle.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional

from lxml import etree

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCHEMA_DIR = os.path.join(REPO_ROOT, "exchangelib", "schema")
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, "exchangelib", "response_codes.py")
XS = "http://www.w3.org/2001/XMLSchema"

# Codes that are not errors.
NOT_ERRORS = frozenset({"NoError"})
# Codes whose class is written by hand in BASE_SOURCE.
HAND_WRITTEN = frozenset({"ErrorServerBusy"})

# What to do next, for the codes users meet most. Shown after the server's message.
HINTS: Dict[str, str] = {
    "ErrorAccessDenied": "The account lacks permission for this folder or item; check its delegate or "
                         "folder permissions.",
    "ErrorImpersonateUserDenied": "The service account needs the ApplicationImpersonation role (or use "
                                  "access_type=DELEGATE).",
    "ErrorNonExistentMailbox": "Check the primary SMTP address of the mailbox.",
    "ErrorItemNotFound": "The item was deleted or moved, or its id is stale; fetch it again.",
    "ErrorFolderNotFound": "The folder was deleted or moved, or its id is stale; fetch it again.",
    "ErrorIrresolvableConflict": "The item changed on the server since it was read (stale changekey); "
                                 "refresh it and retry.",
    "ErrorChangeKeyRequiredForWriteOperations": "Fetch the item to get its current changekey before "
                                                "updating it.",
    "ErrorInvalidSchemaVersionForMailboxVersion": "The requested server version is wrong for this mailbox; "
                                                  "let the version be detected or set a lower one.",
    "ErrorInvalidServerVersion": "The requested server version is not supported; set a lower version.",
    "ErrorExceededConnectionCount": "Too many concurrent connections; lower max_connections.",
    "ErrorTooManyObjectsOpened": "The server is throttling open objects; retry later with fewer "
                                 "concurrent requests.",
    "ErrorTimeoutExpired": "The server timed out; retry, perhaps with smaller pages or chunks.",
    "ErrorInternalServerTransientError": "A transient server error; retry later.",
    "ErrorMailboxStoreUnavailable": "The mailbox database is temporarily unavailable; retry later.",
    "ErrorMailboxMoveInProgress": "The mailbox is being moved; retry later.",
    "ErrorQuotaExceeded": "The mailbox is over its storage quota; free some space.",
    "ErrorSendAsDenied": "The account may not send as this address; grant Send As or use the account's "
                         "own address.",
    "ErrorNameResolutionNoResults": "No mailbox or contact matches the name.",
    "ErrorInvalidIdMalformed": "The id is malformed; ids must come from the server unchanged.",
}

BASE_SOURCE = '''
__all__ = ["EWSError", "ResponseMessageError", "RESPONSE_CODE_CLASSES", "error_for_code", "message_xml_to_dict"]


class EWSError(Exception):
    """Root of every exception this library raises."""


MessageXml = Union[Mapping[str, Any], Any]


def message_xml_to_dict(xml: Optional[MessageXml]) -> Optional[Dict[str, Any]]:
    """Turn a response's ``m:MessageXml`` element into a dict (a dict or None passes through).

    ``<t:Value Name="BackOffMilliseconds">5000</t:Value>`` becomes ``{"BackOffMilliseconds": "5000"}``; other
    children are keyed by local name with their text, their attributes (a dict) or their children (a nested
    dict) as value. Repeated keys collect their values in a list.
    """
    if xml is None:
        return None
    if isinstance(xml, Mapping):
        return dict(xml)
    if not hasattr(xml, "iterchildren"):
        raise TypeError(f"message_xml must be a dict or an XML element, got {type(xml).__name__}")
    result: Dict[str, Any] = {}
    for child in xml:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        local = child.tag.rsplit("}", 1)[-1]
        text = (child.text or "").strip()
        if local == "Value" and child.get("Name"):
            key, value = child.get("Name"), text
        elif len(child):
            key, value = local, message_xml_to_dict(child)
        elif text or not child.attrib:
            key, value = local, text
        else:
            key, value = local, dict(child.attrib)
        if key in result:
            if not isinstance(result[key], list):
                result[key] = [result[key]]
            result[key].append(value)
        else:
            result[key] = value
    return result


class ResponseMessageError(EWSError):
    """An error ResponseCode in an EWS response message; there is one subclass per code.

    Attributes: ``response_code`` (e.g. 'ErrorItemNotFound'), ``message`` (the server's MessageText),
    ``operation`` (e.g. 'GetItem', or None) and ``message_xml`` (a dict of the MessageXml details, or None).

    EWS reference: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode
    """

    #: The EWS ResponseCode this class stands for (None on the generic base class).
    response_code: Optional[str] = None
    #: What to do next, when we know.
    hint: Optional[str] = None

    def __init__(self, message: str = "", *, response_code: Optional[str] = None, operation: Optional[str] = None,
                 message_xml: Optional[MessageXml] = None) -> None:
        super().__init__(message)
        self.message = message or ""
        if response_code is not None:
            self.response_code = response_code
        self.operation = operation
        self.message_xml = message_xml_to_dict(message_xml)

    def _details(self) -> List[str]:
        return [self.hint] if self.hint else []

    def __str__(self) -> str:
        code = self.response_code or type(self).__name__
        text = f"{code} in {self.operation}" if self.operation else code
        if self.message:
            text = f"{text}: {self.message}"
        details = self._details()
        if details:
            text = f"{text} ({' '.join(details)})"
        return text

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(message={self.message!r}, response_code={self.response_code!r}, "
                f"operation={self.operation!r})")


class ErrorServerBusy(ResponseMessageError):
    """ErrorServerBusy: the server is throttling this account.

    ``back_off`` is the number of seconds the server asks us to wait (from the MessageXml value
    'BackOffMilliseconds'), or None if it did not say.

    EWS reference: https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
    """

    response_code = "ErrorServerBusy"
    hint = "The server is throttling requests; wait and retry."

    def __init__(self, message: str = "", *, back_off: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        if back_off is None and self.message_xml:
            raw = self.message_xml.get("BackOffMilliseconds")
            try:
                back_off = int(raw) / 1000 if raw is not None else None
            except (TypeError, ValueError):
                back_off = None
        if back_off is not None and back_off < 0:
            back_off = None
        self.back_off: Optional[float] = None if back_off is None else float(back_off)

    def _details(self) -> List[str]:
        if self.back_off is None:
            return super()._details()
        return [f"The server is throttling requests; wait {self.back_off:g} seconds before retrying."]
'''

FOOTER_SOURCE = '''

def error_for_code(code: str, message: str = "", operation: Optional[str] = None,
                   message_xml: Optional[MessageXml] = None) -> ResponseMessageError:
    """Return an exception instance for an EWS ResponseCode (unknown codes give a ResponseMessageError)."""
    cls = RESPONSE_CODE_CLASSES.get(code)
    if cls is None:
        return ResponseMessageError(message, response_code=code, operation=operation, message_xml=message_xml)
    return cls(message, operation=operation, message_xml=message_xml)
'''


def read_codes(schema_dir: str) -> List[str]:
    """The enumeration values of ResponseCodeType, in schema order."""
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    for name in ("messages.xsd", "types.xsd"):
        path = os.path.join(schema_dir, name)
        if not os.path.exists(path):
            continue
        root = etree.parse(path, parser).getroot()
        simple_type = root.find(f"{{{XS}}}simpleType[@name='ResponseCodeType']")
        if simple_type is None:
            continue
        codes = [e.get("value") for e in simple_type.iter(f"{{{XS}}}enumeration")]
        if len(set(codes)) != len(codes):
            raise ValueError(f"{path}: duplicate ResponseCodeType values")
        bad = [c for c in codes if not c.isidentifier()]
        if bad:
            raise ValueError(f"{path}: ResponseCodeType values that aren't identifiers: {bad}")
        return codes
    raise ValueError(f"No ResponseCodeType simpleType in {schema_dir}")


def render(codes: List[str]) -> str:
    unknown_hints = sorted(set(HINTS) - set(codes))
    if unknown_hints:
        raise ValueError(f"HINTS names codes that the schema does not have: {unknown_hints}")
    error_codes = [c for c in codes if c not in NOT_ERRORS]
    lines = [
        '"""One exception class per EWS ResponseCode, plus the exception root and base classes.',
        "",
        "GENERATED FILE, DO NOT EDIT. Generated by tools/gen_response_codes.py from ResponseCodeType in the EWS",
        "schema (messages.xsd); the base classes come from the template in that script.",
        "Regenerate with: python3 tools/gen_response_codes.py",
        "",
        "Import these from :mod:`exchangelib.errors`, which re-exports everything here.",
        '"""',
        "from __future__ import annotations",
        "",
        "from typing import Any, Dict, List, Mapping, Optional, Type, Union",
    ]
    lines.append(BASE_SOURCE.rstrip("\n"))
    for code in error_codes:
        if code in HAND_WRITTEN:
            continue
        lines += ["", "", f"class {code}(ResponseMessageError):", f'    """{code}"""', ""]
        lines.append(f"    response_code = {code!r}")
        hint = HINTS.get(code)
        if hint is not None:
            lines.append(f"    hint = {hint!r}")
    lines += ["", "", "# ResponseCode -> exception class, for every error code in the schema.",
              "RESPONSE_CODE_CLASSES: Dict[str, Type[ResponseMessageError]] = {"]
    lines += [f"    {code!r}: {code}," for code in error_codes]
    lines.append("}")
    lines.append(FOOTER_SOURCE.rstrip("\n"))
    # A literal list, so that type checkers see what ``from .response_codes import *`` exports.
    lines += ["", "__all__ += ["]
    lines += [f"    {code!r}," for code in error_codes]
    lines.append("]")
    return "\n".join(lines) + "\n"


def generate(schema_dir: str = DEFAULT_SCHEMA_DIR) -> str:
    """Read the schema in ``schema_dir`` and return the text of the generated module."""
    return render(read_codes(schema_dir))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("schema_dir", nargs="?", default=DEFAULT_SCHEMA_DIR, help="directory holding messages.xsd")
    ap.add_argument("-o", "--output", default=DEFAULT_OUTPUT, help="output module path, or '-' for stdout")
    args = ap.parse_args(argv)
    text = generate(args.schema_dir)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
