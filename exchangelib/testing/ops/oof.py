"""Out-of-office settings: GetUserOofSettings and SetUserOofSettings.

These two operations come from the availability service and answer differently from the rest of
EWS: a single ``m:ResponseMessage`` instead of a ResponseMessages list, and a request element
named ``...Request``. The mailbox is a ``t:Mailbox`` with an ``t:Address`` child.

A new mailbox's settings are Disabled, audience All, empty replies and a one-day Duration starting
at the next full hour, which is what Exchange shows for a mailbox that never set them. Exchange
keeps the Duration and both reply texts when a Set request leaves them out.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseroofsettings-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/setuseroofsettings-operation
"""
from __future__ import annotations

import copy
import weakref
from datetime import timedelta
from typing import Callable, Dict

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext, ResponseCodeError
from ..store import Mailbox, format_datetime
from .common import RESPONSE_NSMAP, child, handler, local
from .props import parse_datetime

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"

# Mailbox -> its stored t:OofSettings element. Weak keys: a mailbox dropped from a store takes its settings.
_SETTINGS: "weakref.WeakKeyDictionary[Mailbox, etree._Element]" = weakref.WeakKeyDictionary()
_KEPT = ("Duration", "InternalReply", "ExternalReply")
# The sequence of UserOofSettings in types.xsd
_ORDER = ("OofState", "ExternalAudience", "Duration", "InternalReply", "ExternalReply", "DeclineMeetingReply",
          "DeclineEventsForScheduledOOF", "DeclineAllEventsForScheduledOOF", "CreateOOFEvent", "OOFEventSubject",
          "AutoDeclineFutureRequestsWhenOOF", "OOFEventID", "EventsToDeleteIDs")


def _default(mailbox: Mailbox) -> etree._Element:
    now = mailbox.store.now().replace(minute=0, second=0) + timedelta(hours=1)
    el = etree.Element(T + "OofSettings")
    etree.SubElement(el, T + "OofState").text = "Disabled"
    etree.SubElement(el, T + "ExternalAudience").text = "All"
    duration = etree.SubElement(el, T + "Duration")
    etree.SubElement(duration, T + "StartTime").text = format_datetime(now)
    etree.SubElement(duration, T + "EndTime").text = format_datetime(now + timedelta(days=1))
    for name in ("InternalReply", "ExternalReply"):
        etree.SubElement(etree.SubElement(el, T + name), T + "Message")
    return el


def stored_settings(mailbox: Mailbox) -> etree._Element:
    """The mailbox's current settings element (created with the defaults on first use)."""
    el = _SETTINGS.get(mailbox)
    if el is None:
        el = _SETTINGS[mailbox] = _default(mailbox)
    return el


def _target(ctx: RequestContext, body: etree._Element) -> Mailbox:
    mb = child(body, "Mailbox")
    address = (mb.findtext(T + "Address") or "").strip() if mb is not None else ""
    if not address:
        raise ResponseCodeError("ErrorInvalidParameter", "The Mailbox element needs an Address.")
    return ctx.mailbox_for(address)


def _respond(name: str, fn: Callable[[], Dict[str, etree._Element]]) -> etree._Element:
    root = etree.Element(f"{M}{name}Response", nsmap=RESPONSE_NSMAP)
    msg = etree.SubElement(root, M + "ResponseMessage")
    try:
        extra = fn()
    except ResponseCodeError as e:
        msg.set("ResponseClass", "Error")
        etree.SubElement(msg, M + "MessageText").text = e.message
        etree.SubElement(msg, M + "ResponseCode").text = e.response_code
        etree.SubElement(msg, M + "DescriptiveLinkKey").text = "0"
        return root
    msg.set("ResponseClass", "Success")
    etree.SubElement(msg, M + "ResponseCode").text = "NoError"
    for el in extra.values():
        root.append(el)
    return root


@handler("GetUserOofSettingsRequest")
def get_user_oof_settings(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseroofsettings-operation"""

    def run() -> Dict[str, etree._Element]:
        mailbox = _target(ctx, body)
        allow = etree.Element(M + "AllowExternalOof")
        allow.text = "All"
        return {"settings": copy.deepcopy(stored_settings(mailbox)), "allow": allow}

    return _respond("GetUserOofSettings", run)


@handler("SetUserOofSettingsRequest")
def set_user_oof_settings(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/setuseroofsettings-operation"""

    def run() -> Dict[str, etree._Element]:
        mailbox = _target(ctx, body)
        given = child(body, "UserOofSettings")
        if given is None:
            raise ResponseCodeError("ErrorInvalidParameter", "UserOofSettings is required.")
        state = (given.findtext(T + "OofState") or "").strip()
        duration = given.find(T + "Duration")
        if duration is not None:
            try:
                start = parse_datetime(duration.findtext(T + "StartTime") or "")
                end = parse_datetime(duration.findtext(T + "EndTime") or "")
            except ValueError:
                raise ResponseCodeError("ErrorInvalidScheduledOofDuration",
                                        "The Duration is not a valid time span.") from None
            if end <= start:
                raise ResponseCodeError("ErrorInvalidScheduledOofDuration",
                                        "The Duration end time must be after the start time.")
        elif state == "Scheduled" and stored_settings(mailbox).find(T + "Duration") is None:
            raise ResponseCodeError("ErrorInvalidScheduledOofDuration", "A scheduled OOF needs a Duration.")
        # What the request leaves out keeps its stored value; the result is in schema order.
        old = stored_settings(mailbox)
        parts = {local(c): c for c in given if isinstance(c.tag, str)}
        for name in _KEPT:
            kept = old.find(T + name)
            if name not in parts and kept is not None:
                parts[name] = kept
        new = etree.Element(T + "OofSettings")
        for name in _ORDER:
            if name in parts:
                new.append(copy.deepcopy(parts[name]))
        _SETTINGS[mailbox] = new
        return {}

    return _respond("SetUserOofSettings", run)
