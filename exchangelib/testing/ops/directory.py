"""Directory operations: GetRoomLists, GetRooms, ExpandDL and GetMailTips.

They read the store's :class:`~exchangelib.testing.directory.Directory` (room lists, distribution
lists, mailbox settings) and the mailboxes themselves.

- GetRoomLists lists every room list; GetRooms the rooms of one (ErrorNameResolutionNoResults for an
  unknown list, as Exchange answers).
- ExpandDL expands one level, as Exchange does ("recursive expansion is not supported"): members that
  are lists come back as PublicDL entries. A public list is named by its address (``SMTP:`` prefix
  allowed), a private list (a DistributionList item in a contacts folder) by its ItemId. A list with
  hidden membership, or an address that is no list, answers ErrorNameResolutionNoResults.
- GetMailTips answers per recipient, in order: OutOfOffice (the internal reply while automatic replies
  are on, with the Duration when they are scheduled), MailboxFull (used size against the quota),
  CustomMailTip, TotalMemberCount/ExternalMemberCount (distribution lists, members counted
  recursively), MaxMessageSize, DeliveryRestricted, IsModerated and InvalidRecipient (an address in
  one of the server's domains that belongs to nobody).
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getroomlists-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getrooms-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/expanddl-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getmailtips-operation
"""
from __future__ import annotations

import base64
from typing import List, Optional, Set, Tuple

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext, ResponseCodeError
from ..directory import Directory, DistributionList, directory_of
from ..store import Mailbox
from .common import RESPONSE_NSMAP, add_result, child, err, handler, m_el, new_response, resolve_item
from .oof import stored_settings
from .props import parse_datetime

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"


def _single(name: str, payload: List[etree._Element]) -> etree._Element:
    root = etree.Element(f"{M}{name}Response", nsmap=RESPONSE_NSMAP, ResponseClass="Success")
    etree.SubElement(root, M + "ResponseCode").text = "NoError"
    for p in payload:
        root.append(p)
    return root


def _single_error(name: str, e: ResponseCodeError) -> etree._Element:
    root = etree.Element(f"{M}{name}Response", nsmap=RESPONSE_NSMAP, ResponseClass="Error")
    etree.SubElement(root, M + "MessageText").text = e.message
    etree.SubElement(root, M + "ResponseCode").text = e.response_code
    etree.SubElement(root, M + "DescriptiveLinkKey").text = "0"
    return root


def address_element(tag: str, name: Optional[str], address: str, mailbox_type: str,
                    item: Optional[etree._Element] = None) -> etree._Element:
    el = etree.Element(T + tag)
    if name is not None:
        etree.SubElement(el, T + "Name").text = name
    etree.SubElement(el, T + "EmailAddress").text = address
    etree.SubElement(el, T + "RoutingType").text = "SMTP"
    etree.SubElement(el, T + "MailboxType").text = mailbox_type
    if item is not None:
        el.append(item)
    return el


def _entry(ctx: RequestContext, directory: Directory, address: str) -> Tuple[str, str]:
    """(display name, MailboxType) of a directory address."""
    dl = directory.distribution_list(address)
    if dl is not None:
        return dl.name, "PublicDL"
    mb = ctx.store.get_mailbox(address)
    if mb is not None:
        return mb.display_name, "Mailbox"
    return address, "Contact"


# --- rooms ---------------------------------------------------------------------------------------
@handler("GetRoomLists")
def get_room_lists(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getroomlists-operation"""
    lists = etree.Element(M + "RoomLists")
    for rl in directory_of(ctx.store).room_lists.values():
        lists.append(address_element("Address", rl.name, rl.address, "PublicDL"))
    return _single("GetRoomLists", [lists])


@handler("GetRooms")
def get_rooms(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getrooms-operation"""
    directory = directory_of(ctx.store)
    given = child(body, "RoomList")
    address = (given.findtext(T + "EmailAddress") or "").strip() if given is not None else ""
    rl = directory.room_list(address)
    if rl is None:
        return _single_error("GetRooms", err("ErrorNameResolutionNoResults", "No results were found."))
    rooms = etree.Element(M + "Rooms")
    for room in rl.rooms:
        mb = ctx.store.get_mailbox(room)
        r = etree.SubElement(rooms, T + "Room")
        r.append(address_element("Id", mb.display_name if mb else room, mb.primary_smtp_address if mb else room,
                                 "Mailbox"))
    return _single("GetRooms", [rooms])


# --- distribution lists ----------------------------------------------------------------------------
def _private_members(ctx: RequestContext, id_elem: etree._Element) -> List[etree._Element]:
    rec = resolve_item(ctx, id_elem)
    if rec.element_kind != "DistributionList":
        raise err("ErrorInvalidItemForOperationExpandDL", "The item is not a distribution list.")
    out = []
    for member in rec.elem.findall(f"{T}Members/{T}Member"):
        mb = member.find(T + "Mailbox")
        if mb is not None:
            out.append(etree.fromstring(etree.tostring(mb)))
    return out


def _expand(ctx: RequestContext, body: etree._Element) -> List[etree._Element]:
    directory = directory_of(ctx.store)
    given = child(body, "Mailbox")
    if given is None:
        raise err("ErrorInvalidRequest", "ExpandDL needs a Mailbox.")
    id_elem = given.find(T + "ItemId")
    if id_elem is not None:
        members = _private_members(ctx, id_elem)
    else:
        address = (given.findtext(T + "EmailAddress") or "").strip()
        dl = directory.distribution_list(address)
        if dl is None or dl.hidden_membership:
            raise err("ErrorNameResolutionNoResults", "No results were found.")
        members = []
        for m in dl.members:
            name, kind = _entry(ctx, directory, m)
            mb = ctx.store.get_mailbox(m)
            members.append(address_element("Mailbox", name, mb.primary_smtp_address if mb else m, kind))
    expansion = m_el("DLExpansion", TotalItemsInView=str(len(members)), IncludesLastItemInRange="true")
    for el in members:
        el.tag = T + "Mailbox"
        expansion.append(el)
    return [expansion]


@handler("ExpandDL")
def expand_dl(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/expanddl-operation"""
    root, msgs = new_response("ExpandDL")
    add_result(msgs, "ExpandDLResponseMessage", lambda: _expand(ctx, body))
    return root


def flatten(directory: Directory, dl: DistributionList) -> List[str]:
    """Every non-list member address of a list, nested lists expanded (each list once)."""
    seen: Set[str] = set()
    out: List[str] = []

    def walk(d: DistributionList) -> None:
        if d.address in seen:
            return
        seen.add(d.address)
        for m in d.members:
            inner = directory.distribution_list(m)
            if inner is not None:
                walk(inner)
            elif m not in out:
                out.append(m)

    walk(dl)
    return out


# --- mail tips -------------------------------------------------------------------------------------
_ALL_TIPS = ("OutOfOfficeMessage", "MailboxFullStatus", "CustomMailTip", "ExternalMemberCount", "TotalMemberCount",
             "MaxMessageSize", "DeliveryRestriction", "ModerationStatus", "InvalidRecipient")


def _mailbox_size(mb: Mailbox) -> int:
    return sum(len(etree.tostring(rec.elem)) for rec in mb.store.items.values() if rec.mailbox is mb)


def _oof(mb: Mailbox) -> Optional[etree._Element]:
    settings = stored_settings(mb)
    state = (settings.findtext(T + "OofState") or "Disabled").strip()
    duration = settings.find(T + "Duration")
    if state == "Disabled":
        return None
    if state == "Scheduled":
        if duration is None:
            return None
        try:
            start = parse_datetime(duration.findtext(T + "StartTime") or "")
            end = parse_datetime(duration.findtext(T + "EndTime") or "")
        except ValueError:
            return None
        if not start <= mb.store.now() < end:
            return None
    tip = etree.Element(T + "OutOfOffice")
    body = etree.SubElement(tip, T + "ReplyBody")
    etree.SubElement(body, T + "Message").text = settings.findtext(f"{T}InternalReply/{T}Message") or ""
    if state == "Scheduled" and duration is not None:
        d = etree.SubElement(tip, T + "Duration")
        etree.SubElement(d, T + "StartTime").text = duration.findtext(T + "StartTime")
        etree.SubElement(d, T + "EndTime").text = duration.findtext(T + "EndTime")
    return tip


def _local_domains(ctx: RequestContext) -> Set[str]:
    out = set()
    for mb in ctx.store.mailboxes:
        for a in mb.addresses():
            out.add(a.rsplit("@", 1)[-1])
    return out


def _tips(ctx: RequestContext, directory: Directory, sender: str, recipient: etree._Element,
          wanted: Set[str]) -> List[etree._Element]:
    address = (recipient.findtext(T + "EmailAddress") or "").strip()
    if address.lower().startswith("smtp:"):
        address = address[5:]
    if not address or "@" not in address:
        raise err("ErrorInvalidSmtpAddress", "The SMTP address format is invalid.")
    tips = etree.Element(M + "MailTips")
    name = recipient.findtext(T + "Name")
    ra = etree.SubElement(tips, T + "RecipientAddress")
    if name:
        etree.SubElement(ra, T + "Name").text = name
    etree.SubElement(ra, T + "EmailAddress").text = address
    etree.SubElement(ra, T + "RoutingType").text = "SMTP"
    etree.SubElement(tips, T + "PendingMailTips")
    mb = ctx.store.get_mailbox(address)
    dl = directory.distribution_list(address)
    values: List[Tuple[str, str]] = []
    oof = _oof(mb) if mb is not None and "OutOfOfficeMessage" in wanted else None
    if mb is not None:
        s = directory.settings(mb.primary_smtp_address)
        if "MailboxFullStatus" in wanted:
            used = s.used if s.used is not None else _mailbox_size(mb)
            values.append(("MailboxFull", "true" if s.quota is not None and used >= s.quota else "false"))
        if "CustomMailTip" in wanted and s.custom_mail_tip:
            values.append(("CustomMailTip", s.custom_mail_tip))
        if "MaxMessageSize" in wanted:
            values.append(("MaxMessageSize", str(s.max_message_size)))
    if dl is not None:
        members = flatten(directory, dl)
        domains = _local_domains(ctx)
        if "TotalMemberCount" in wanted:
            values.append(("TotalMemberCount", str(len(members))))
        if "ExternalMemberCount" in wanted:
            external = [m for m in members if m.rsplit("@", 1)[-1] not in domains]
            values.append(("ExternalMemberCount", str(len(external))))
    if dl is not None and "DeliveryRestriction" in wanted:
        restricted = bool(dl.accept_from) and sender.lower() not in dl.accept_from
        values.append(("DeliveryRestricted", "true" if restricted else "false"))
    if dl is not None and "ModerationStatus" in wanted:
        values.append(("IsModerated", "true" if dl.moderated else "false"))
    if "InvalidRecipient" in wanted:
        local = address.rsplit("@", 1)[-1].lower() in _local_domains(ctx)
        values.append(("InvalidRecipient", "true" if local and mb is None and dl is None else "false"))
    if oof is not None:
        tips.append(oof)
    for tag in ("MailboxFull", "CustomMailTip", "TotalMemberCount", "ExternalMemberCount", "MaxMessageSize",
                "DeliveryRestricted", "IsModerated", "InvalidRecipient"):
        for k, v in values:
            if k == tag:
                etree.SubElement(tips, T + k).text = v
    return [tips]


@handler("GetMailTips")
def get_mail_tips(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getmailtips-operation"""
    directory = directory_of(ctx.store)
    sending_as = child(body, "SendingAs")
    sender = (sending_as.findtext(T + "EmailAddress") or "").strip() if sending_as is not None else ""
    requested_el = child(body, "MailTipsRequested")
    requested = set((requested_el.text or "").split() if requested_el is not None else ())
    wanted = set(_ALL_TIPS) if "All" in requested else requested
    recipients = child(body, "Recipients")
    root = etree.Element(M + "GetMailTipsResponse", nsmap=RESPONSE_NSMAP, ResponseClass="Success")
    etree.SubElement(root, M + "ResponseCode").text = "NoError"
    msgs = etree.SubElement(root, M + "ResponseMessages")
    for r in (recipients if recipients is not None else ()):
        if not isinstance(r.tag, str):
            continue
        add_result(msgs, "MailTipsResponseMessageType", lambda r=r: _tips(ctx, directory, sender or ctx.caller, r,
                                                                          wanted))
    return root


# --- photos ----------------------------------------------------------------------------------------
@handler("GetUserPhoto")
def get_user_photo(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """The picture of a mailbox's user, as stored (the local server does not resize it); a mailbox without a
    picture, or an unknown address, answers ErrorItemNotFound.
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuserphoto-operation
    """
    email = child(body, "Email")
    mb = ctx.store.get_mailbox((email.text or "").strip() if email is not None else "")
    photo = directory_of(ctx.store).settings(mb.primary_smtp_address).photo if mb is not None else None
    if photo is None:
        root = _single_error("GetUserPhoto", err("ErrorItemNotFound", "The user has no photo."))
        etree.SubElement(root, M + "HasChanged").text = "false"
        return root
    changed = m_el("HasChanged")
    changed.text = "true"
    data = m_el("PictureData")
    data.text = base64.b64encode(photo).decode("ascii")
    return _single("GetUserPhoto", [changed, data])


__all__ = ["address_element", "flatten"]
