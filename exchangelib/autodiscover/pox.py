"""POX autodiscover (``/autodiscover/autodiscover.xml``): the Outlook provider request and its answer.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/pox-autodiscover-request-for-exchange
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/pox-autodiscover-response-for-exchange
"""
from __future__ import annotations

from typing import Dict, Optional, cast

from lxml import etree

from ..xml import Element, ParseError, localname, parse, to_bytes
from .models import ERROR, REDIRECT_ADDRESS, REDIRECT_URL, SETTINGS, Answer, version_from_hex

REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

# Protocol types carrying an EWS URL, preferred first: EXPR is the external (Outlook Anywhere)
# configuration, EXCH the internal one.
_PROTOCOL_PREFERENCE = ("EXPR", "EXCH")


def build_request(email: str) -> bytes:
    """The POX request body for ``email``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/autodiscover-pox
    """
    root = etree.Element(f"{{{REQUEST_NS}}}Autodiscover", nsmap=cast(Dict[str, str], {None: REQUEST_NS}))
    request = etree.SubElement(root, f"{{{REQUEST_NS}}}Request")
    etree.SubElement(request, f"{{{REQUEST_NS}}}EMailAddress").text = email
    etree.SubElement(request, f"{{{REQUEST_NS}}}AcceptableResponseSchema").text = OUTLOOK_RESPONSE_NS
    return to_bytes(root)


def _child(elem: Optional[Element], name: str) -> Optional[Element]:
    """First child with this local name, in any namespace (servers differ in how they qualify)."""
    if elem is None:
        return None
    for c in elem:
        if isinstance(c.tag, str) and localname(c) == name:
            return c
    return None


def _text(elem: Optional[Element], name: str) -> Optional[str]:
    c = _child(elem, name)
    if c is None or c.text is None:
        return None
    return c.text.strip() or None


def parse_response(data: bytes) -> Answer:
    """Turn a POX autodiscover response into an :class:`Answer`. Raises ValueError if it isn't one."""
    try:
        root = parse(data)
    except ParseError as e:
        raise ValueError(f"not XML: {e}") from e
    if localname(root) != "Autodiscover":
        raise ValueError(f"root element is {localname(root)!r}, not Autodiscover")
    response = _child(root, "Response")
    if response is None:
        raise ValueError("no Response element")
    error = _child(response, "Error")
    if error is not None:
        return Answer(ERROR, error_code=_text(error, "ErrorCode"), error_message=_text(error, "Message"))
    account = _child(response, "Account")
    if account is None:
        raise ValueError("no Account element in the Response")
    error = _child(account, "Error")
    if error is not None:
        return Answer(ERROR, error_code=_text(error, "ErrorCode"), error_message=_text(error, "Message"))
    action = (_text(account, "Action") or "").lower()
    if action == "redirectaddr":
        return Answer(REDIRECT_ADDRESS, redirect=_text(account, "RedirectAddr"))
    if action == "redirecturl":
        return Answer(REDIRECT_URL, redirect=_text(account, "RedirectUrl") or _text(account, "RedirectURL"))
    if action != "settings":
        raise ValueError(f"unknown Account/Action {action!r}")
    protocols: Dict[str, Element] = {}
    for p in account:
        if not isinstance(p.tag, str) or localname(p) != "Protocol":
            continue
        ptype = _text(p, "Type") or p.get("Type") or ""
        protocols.setdefault(ptype.upper(), p)
    ews_url = version = None
    for ptype in _PROTOCOL_PREFERENCE:
        proto = protocols.get(ptype)
        if proto is None:
            continue
        ews_url = _text(proto, "EwsUrl") or _text(proto, "ASUrl")
        version = version_from_hex(_text(proto, "ServerVersion"))
        if ews_url:
            break
    if version is None:
        # Exchange puts ServerVersion in the EXCH block only: read it there when the URL came from EXPR.
        for ptype in _PROTOCOL_PREFERENCE:
            version = version_from_hex(_text(protocols.get(ptype), "ServerVersion"))
            if version is not None:
                break
    if not ews_url:
        return Answer(ERROR, error_code="NoEwsUrl", error_message="no EXPR or EXCH protocol with an EwsUrl/ASUrl")
    user = _child(response, "User")
    return Answer(SETTINGS, ews_url=ews_url, primary_smtp_address=_text(user, "AutoDiscoverSMTPAddress"),
                  display_name=_text(user, "DisplayName"), version=version)
