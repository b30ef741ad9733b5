"""Reading SOAP responses: the ServerVersionInfo header, faults, and ResponseMessage status.

Every response's ``ServerVersionInfo`` tells us the server's build. A SOAP fault becomes the
exception for its EWS ResponseCode. A ResponseMessage with ``ResponseClass="Error"`` (or "Warning")
becomes an exception *instance* that services return in place of that item's value.
"""
from __future__ import annotations

from typing import Optional, Tuple

from .errors import ResponseMessageError, SOAPError, error_for_code, message_xml_to_dict
from .version import Version
from .xml import ENS, MNS, SOAPNS, TNS, Element

_HEADER = f"{{{SOAPNS}}}Header"
_BODY = f"{{{SOAPNS}}}Body"
_FAULT = f"{{{SOAPNS}}}Fault"
_SVI = f"{{{TNS}}}ServerVersionInfo"
_RESPONSE_CODE = f"{{{MNS}}}ResponseCode"
_MESSAGE_TEXT = f"{{{MNS}}}MessageText"
_MESSAGE_XML = f"{{{MNS}}}MessageXml"


def split_envelope(root: Element) -> Tuple[Optional[Element], Element]:
    """(Header or None, Body) of a SOAP envelope. Raises SOAPError if it isn't one."""
    if root.tag != f"{{{SOAPNS}}}Envelope":
        raise SOAPError(f"Expected a SOAP Envelope, got {root.tag}")
    header = root.find(_HEADER)
    body = root.find(_BODY)
    if body is None:
        raise SOAPError("SOAP Envelope has no Body")
    return header, body


def server_version(header: Optional[Element]) -> Optional[Version]:
    """The Version described by the header's ServerVersionInfo, if present and readable."""
    if header is None:
        return None
    svi = header.find(_SVI)
    if svi is None:
        return None
    try:
        return Version.from_server_version_info(
            int(svi.get("MajorVersion", "")), int(svi.get("MinorVersion", "")),
            int(svi.get("MajorBuildNumber", "")), int(svi.get("MinorBuildNumber", "")),
            svi.get("Version"),
        )
    except (TypeError, ValueError):
        return None


def fault_to_exception(fault: Element, operation: Optional[str]) -> Exception:
    """Turn a SOAP Fault into the matching exception instance."""
    faultcode = (fault.findtext("faultcode") or "").strip()
    faultstring = (fault.findtext("faultstring") or "").strip()
    detail = fault.find("detail")
    code = None
    message = faultstring
    mxml = None
    if detail is not None:
        code = detail.findtext(f"{{{ENS}}}ResponseCode")
        message = detail.findtext(f"{{{ENS}}}Message") or faultstring
        mxml = message_xml_to_dict(detail.find(f"{{{TNS}}}MessageXml"))
    if not code and faultcode:
        code = faultcode.rsplit(":", 1)[-1]
        if not code.startswith("Error"):
            code = None
    if code:
        return error_for_code(code.strip(), message=message.strip(), operation=operation, message_xml=mxml)
    return SOAPError(f"SOAP fault from server: {faultcode} {faultstring}".strip())


def response_message_error(msg: Element, operation: Optional[str]) -> Optional[ResponseMessageError]:
    """None if the ResponseMessage succeeded, else the exception instance for its ResponseCode."""
    response_class = msg.get("ResponseClass")
    if response_class == "Success":
        return None
    code = msg.findtext(_RESPONSE_CODE) or "ErrorInternalServerError"
    if response_class == "Warning" and code == "NoError":
        return None
    return error_for_code(code, message=(msg.findtext(_MESSAGE_TEXT) or "").strip(), operation=operation,
                          message_xml=message_xml_to_dict(msg.find(_MESSAGE_XML)))
