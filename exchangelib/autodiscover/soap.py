"""SOAP autodiscover (``/autodiscover/autodiscover.svc``): the GetUserSettings request and its answer.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getusersettings-operation-soap
"""
from __future__ import annotations

from typing import Dict, Optional

from ..xml import AUTODISCOVER_NS, SOAPNS, XSI, Element, ParseError, add_child, create_element, parse, to_bytes
from .models import ERROR, REDIRECT_ADDRESS, REDIRECT_URL, SETTINGS, Answer, version_from_cas

WSA_NS = "http://www.w3.org/2005/08/addressing"
ACTION = "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings"
# The oldest autodiscover SOAP version; every server that has autodiscover.svc accepts it.
REQUESTED_SERVER_VERSION = "Exchange2010"
SETTINGS_REQUESTED = ("AutoDiscoverSMTPAddress", "UserDisplayName", "ExternalEwsUrl", "InternalEwsUrl",
                      "CasVersion", "EwsSupportedSchemas")

_A = f"{{{AUTODISCOVER_NS}}}"


def build_request(email: str, url: str) -> bytes:
    """The GetUserSettings SOAP envelope asking for ``email``'s EWS settings, addressed to ``url``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getusersettingsrequestmessage-soap
    """
    envelope = create_element("s:Envelope", nsmap={"s": SOAPNS, "a": AUTODISCOVER_NS, "wsa": WSA_NS, "xsi": XSI})
    header = add_child(envelope, "s:Header")
    add_child(header, "a:RequestedServerVersion", text=REQUESTED_SERVER_VERSION)
    action = add_child(header, f"{{{WSA_NS}}}Action")
    action.text = ACTION
    to = add_child(header, f"{{{WSA_NS}}}To")
    to.text = url
    body = add_child(envelope, "s:Body")
    msg = add_child(body, "a:GetUserSettingsRequestMessage")
    request = add_child(msg, "a:Request")
    users = add_child(request, "a:Users")
    user = add_child(users, "a:User")
    add_child(user, "a:Mailbox", text=email)
    settings = add_child(request, "a:RequestedSettings")
    for name in SETTINGS_REQUESTED:
        add_child(settings, "a:Setting", text=name)
    return to_bytes(envelope)


def _text(elem: Optional[Element], name: str) -> Optional[str]:
    if elem is None:
        return None
    child = elem.find(_A + name)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def parse_response(data: bytes) -> Answer:
    """Turn a GetUserSettings response into an :class:`Answer`. Raises ValueError if it isn't one."""
    try:
        root = parse(data)
    except ParseError as e:
        raise ValueError(f"not XML: {e}") from e
    body = root.find(f"{{{SOAPNS}}}Body")
    if root.tag != f"{{{SOAPNS}}}Envelope" or body is None:
        raise ValueError("not a SOAP envelope")
    fault = body.find(f"{{{SOAPNS}}}Fault")
    if fault is not None:
        reason = (fault.findtext("faultstring") or fault.findtext("faultcode") or "SOAP fault").strip()
        return Answer(ERROR, error_code="SoapFault", error_message=reason)
    msg = body.find(_A + "GetUserSettingsResponseMessage")
    response = msg.find(_A + "Response") if msg is not None else None
    if response is None:
        raise ValueError("no GetUserSettingsResponseMessage/Response in the SOAP body")
    code = _text(response, "ErrorCode") or "NoError"
    if code != "NoError":
        return Answer(ERROR, error_code=code, error_message=_text(response, "ErrorMessage"))
    user_responses = response.find(_A + "UserResponses")
    user_response = user_responses.find(_A + "UserResponse") if user_responses is not None else None
    if user_response is None:
        raise ValueError("no UserResponse in GetUserSettingsResponse")
    code = _text(user_response, "ErrorCode") or "NoError"
    if code == "RedirectAddress":
        return Answer(REDIRECT_ADDRESS, redirect=_text(user_response, "RedirectTarget"), error_code=code)
    if code == "RedirectUrl":
        return Answer(REDIRECT_URL, redirect=_text(user_response, "RedirectTarget"), error_code=code)
    if code != "NoError":
        return Answer(ERROR, error_code=code, error_message=_text(user_response, "ErrorMessage"))
    settings: Dict[str, str] = {}
    container = user_response.find(_A + "UserSettings")
    for setting in (container if container is not None else ()):
        name, value = _text(setting, "Name"), _text(setting, "Value")
        if name and value:
            settings[name] = value
    ews_url = settings.get("ExternalEwsUrl") or settings.get("InternalEwsUrl")
    if not ews_url:
        errors = user_response.find(_A + "UserSettingErrors")
        detail = ""
        if errors is not None and len(errors):
            detail = "; ".join(f"{_text(e, 'SettingName')}: {_text(e, 'ErrorCode')}" for e in errors)
        return Answer(ERROR, error_code="NoEwsUrl",
                      error_message=f"the answer has no ExternalEwsUrl or InternalEwsUrl setting {detail}".strip())
    return Answer(SETTINGS, ews_url=ews_url, primary_smtp_address=settings.get("AutoDiscoverSMTPAddress"),
                  display_name=settings.get("UserDisplayName"),
                  version=version_from_cas(settings.get("CasVersion"), settings.get("EwsSupportedSchemas")))
