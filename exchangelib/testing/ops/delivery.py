"""Local mail delivery: sending messages and meeting invitations/cancellations between store mailboxes.

A sent message is delivered to the Inbox of every To/Cc/Bcc recipient that is a mailbox of the
store (primary address, alias, or a display name that matches exactly one mailbox). Recipients in a
domain no store mailbox uses are external mail: not delivered, as Exchange hands them to transport.
Recipients that cannot be delivered (a malformed address, a name that resolves to no mailbox, an
address in a local domain without a mailbox) get the sender a non-delivery report in the Inbox, as
Exchange does ("Undeliverable: <subject>", item class REPORT.IPM.Note.NDR, with the 5.1.x status
for each). Delivered copies carry no Bcc line and none of the
sender's categories.

Meeting invitations put a MeetingRequest into each local attendee's Inbox and a tentative copy
of the meeting into the attendee's Calendar (linked by UID and AssociatedCalendarItemId);
cancellations put a MeetingCancellation into the Inbox and mark the attendee's copy cancelled.
"""
from __future__ import annotations

import logging
import re
import secrets
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from lxml import etree

from ...xml import TNS
from ..store import FolderRecord, ItemRecord, Mailbox, Store, format_datetime
from .booking import book
from .common import item_id_element, local
from .props import ORDER, get, get_text, item_type, remove_prop, set_prop
from .stamp import (attendee_addresses, copy_element, mailbox_element, recipient_addresses, restamp, stamp_new,
                    strip_server_properties)

T = f"{{{TNS}}}"
log = logging.getLogger(__name__)

#: Called as ``hook(store, mailbox, record)`` after a received message lands in a mailbox's Inbox (not for
#: deliveries into another folder). Inbox rules (:mod:`.rules`) register here.
DELIVERY_HOOKS: List[Callable[[Store, Mailbox, ItemRecord], None]] = []


def resolve_recipient(store: Store, address: str) -> Optional[Mailbox]:
    """A store mailbox by address or alias, or by a display name that only one mailbox has."""
    mb = store.get_mailbox(address)
    if mb is None and "@" not in address:
        matches = [m for m in store.mailboxes if m.display_name.casefold() == address.strip().casefold()]
        mb = matches[0] if len(matches) == 1 else None
    return mb


# local@domain, one '@', no spaces, dot-separated non-empty domain labels
_SMTP_RE = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)*$")


def undeliverable(store: Store, address: str) -> Optional[str]:
    """The NDR status text for a recipient that cannot be delivered, or None (local or external)."""
    if resolve_recipient(store, address) is not None:
        return None
    bare = address.strip()
    if bare[:5].lower() == "smtp:":
        bare = bare[5:]
    if "@" not in bare:
        return "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found (the name resolves to no mailbox)"
    if not _SMTP_RE.match(bare):
        return "550 5.1.3 STOREDRV.Submit; invalid recipient address"
    domain = bare.rsplit("@", 1)[1].lower()
    if any(m.primary_smtp_address.lower().endswith("@" + domain) for m in store.mailboxes):
        return "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"
    return None  # an external domain: handed to transport


def _non_delivery_report(store: Store, sender: Mailbox, original: etree._Element,
                         failures: List[Tuple[str, str]]) -> None:
    domain = sender.primary_smtp_address.split("@", 1)[1]
    ndr = etree.Element(T + "Message")
    set_prop(ndr, "ItemClass", "REPORT.IPM.Note.NDR")
    set_prop(ndr, "Subject", "Undeliverable: " + (get_text(original, "Subject") or ""))
    lines = ["Your message couldn't be delivered to these recipients:", ""]
    lines += [f"{a}: {why}" for a, why in failures]
    body = etree.Element(T + "Body", BodyType="Text")
    body.text = "\n".join(lines)
    set_prop(ndr, "Body", elem=body)
    to = etree.Element(T + "ToRecipients")
    to.append(mailbox_element("Mailbox", sender, single=False))
    set_prop(ndr, "ToRecipients", elem=to)
    postmaster = etree.Element(T + "From")
    inner = etree.SubElement(postmaster, T + "Mailbox")
    etree.SubElement(inner, T + "Name").text = "Microsoft Outlook"
    etree.SubElement(inner, T + "EmailAddress").text = f"postmaster@{domain}"
    etree.SubElement(inner, T + "RoutingType").text = "SMTP"
    etree.SubElement(inner, T + "MailboxType").text = "OneOff"
    set_prop(ndr, "From", elem=postmaster)
    set_prop(ndr, "DateTimeSent", format_datetime(store.now()))
    deliver(store, sender, ndr, None)


def local_mailboxes(store: Store, addresses: Iterable[str]) -> List[Mailbox]:
    """Unique store mailboxes among ``addresses``, in order of first appearance."""
    seen: Dict[str, Mailbox] = {}
    for a in addresses:
        mb = resolve_recipient(store, a)
        if mb is not None and mb.primary_smtp_address not in seen:
            seen[mb.primary_smtp_address] = mb
    return list(seen.values())


def send_message(store: Store, sender: Mailbox, elem: etree._Element,
                 save_in: Optional[FolderRecord]) -> Optional[ItemRecord]:
    """Send a message element (not stored yet): deliver it locally; optionally save a sent copy.

    Returns the saved copy's record, if any.
    """
    now = format_datetime(store.now())
    if get(elem, "From") is None:
        set_prop(elem, "From", elem=mailbox_element("From", sender))
    if get(elem, "Sender") is None:
        set_prop(elem, "Sender", elem=mailbox_element("Sender", sender))
    if get(elem, "InternetMessageId") is None:
        domain = sender.primary_smtp_address.split("@", 1)[1]
        set_prop(elem, "InternetMessageId", f"<{secrets.token_hex(16)}@{domain}>")
    set_prop(elem, "DateTimeSent", now)
    recipients = recipient_addresses(elem, ("ToRecipients", "CcRecipients", "BccRecipients"))
    for mb in local_mailboxes(store, recipients):
        deliver(store, mb, elem, sender)
    failures = [(a, why) for a in dict.fromkeys(recipients) for why in (undeliverable(store, a),) if why]
    saved = None
    if save_in is not None:
        copy = strip_server_properties(copy_element(elem), keep=("DateTimeSent",))
        stamp_new(store, save_in.mailbox, copy, draft=False)
        set_prop(copy, "IsRead", "true")
        set_prop(copy, "IsFromMe", "true")
        set_prop(copy, "IsUnmodified", "true")
        restamp(store, save_in.mailbox, copy)
        saved = store.add_item(save_in, copy)
    if failures:
        _non_delivery_report(store, sender, elem, failures)
    log.debug("%s sent a message to %d local and %d total recipients", sender.primary_smtp_address,
              len(local_mailboxes(store, recipients)), len(recipients))
    return saved


def deliver(store: Store, mb: Mailbox, elem: etree._Element, sender: Optional[Mailbox],
            folder: Optional[FolderRecord] = None) -> Optional[ItemRecord]:
    """Put a received copy of ``elem`` into ``mb``'s Inbox (or ``folder``)."""
    target = folder or mb.folder("inbox")
    if target is None:
        return None
    copy = strip_server_properties(copy_element(elem), keep=("DateTimeSent", "ConversationIndex"))
    remove_prop(copy, "BccRecipients")
    remove_prop(copy, "MimeContent")
    remove_prop(copy, "Categories")  # the sender's categories are the sender's own: Exchange never sends them
    stamp_new(store, mb, copy, draft=False)
    set_prop(copy, "IsRead", "false")
    set_prop(copy, "IsFromMe", "true" if mb is sender else "false")
    set_prop(copy, "IsUnmodified", "true")
    if "ReceivedBy" in ORDER[item_type(copy)]:
        set_prop(copy, "ReceivedBy", elem=mailbox_element("ReceivedBy", mb))
        set_prop(copy, "ReceivedRepresenting", elem=mailbox_element("ReceivedRepresenting", mb))
    restamp(store, mb, copy)
    rec = store.add_item(target, copy)
    store.new_mail(rec)
    if folder is None:
        for hook in DELIVERY_HOOKS:
            hook(store, mb, rec)
    return rec


# --- Meetings ------------------------------------------------------------------------------------
_NOT_COPIED_TO_REQUEST = frozenset({
    "ItemId", "ParentFolderId", "ItemClass", "DateTimeReceived", "Size", "IsSubmitted", "IsDraft", "IsFromMe",
    "IsResend", "IsUnmodified", "DateTimeSent", "DateTimeCreated", "DisplayCc", "DisplayTo", "DisplayBcc",
    "HasAttachments", "EffectiveRights", "LastModifiedName", "LastModifiedTime", "ConversationId",
    "MyResponseType", "IsOrganizer", "MeetingRequestWasSent", "AppointmentState", "ReminderIsSet",
    "ReminderMinutesBeforeStart", "ReminderDueBy", "ExtendedProperty", "MimeContent", "Categories",
})


def _attendee_mailboxes(elem: etree._Element, tag: str) -> Optional[etree._Element]:
    c = elem.find(T + tag)
    if c is None:
        return None
    out = etree.Element(T + ("ToRecipients" if tag == "RequiredAttendees" else "CcRecipients"))
    for mb in c.iter(T + "Mailbox"):
        out.append(copy_element(mb))
    return out if len(out) else None


def _meeting_message(kind: str, cal: etree._Element, organizer: Mailbox) -> etree._Element:
    msg = etree.Element(T + kind)
    order = ORDER[item_type(kind)]
    for c in cal:
        if isinstance(c.tag, str) and local(c) in order and local(c) not in _NOT_COPIED_TO_REQUEST:
            msg.append(copy_element(c))
    for tag in ("RequiredAttendees", "OptionalAttendees"):
        recips = _attendee_mailboxes(cal, tag)
        if recips is not None and local(recips) in order:
            set_prop(msg, local(recips), elem=recips)
    set_prop(msg, "From", elem=mailbox_element("From", organizer))
    set_prop(msg, "Sender", elem=mailbox_element("Sender", organizer))
    return msg


def _attendee_calendar_item(store: Store, mb: Mailbox, uid: str) -> Optional[ItemRecord]:
    cal = mb.folder("calendar")
    if cal is None:
        return None
    for rec in cal.items():
        if rec.elem.findtext(T + "UID") == uid:
            return rec
    return None


def _save_sent_copy(store: Store, sender: Mailbox, msg: etree._Element) -> None:
    """Keep a copy of a sent meeting message in the sender's Sent Items (the *AndSaveCopy modes)."""
    sent = sender.folder("sentitems")
    if sent is None:
        return
    copy = strip_server_properties(copy_element(msg))
    stamp_new(store, sender, copy)
    set_prop(copy, "IsRead", "true")
    set_prop(copy, "IsFromMe", "true")
    restamp(store, sender, copy)
    store.add_item(sent, copy)


def send_invitations(store: Store, rec: ItemRecord, addresses: Optional[Iterable[str]] = None,
                     update: bool = False, save_copy: bool = False) -> None:
    """Send meeting requests for a calendar item to its local attendees (or only to ``addresses``)."""
    organizer = rec.mailbox
    cal = rec.elem
    uid = get_text(cal, "UID") or ""
    targets = local_mailboxes(store, attendee_addresses(cal) if addresses is None else addresses)
    for mb in targets:
        if mb is organizer:
            continue
        copy = _attendee_calendar_item(store, mb, uid)
        attendee_item = strip_server_properties(copy_element(cal), keep=("UID",))
        remove_prop(attendee_item, "Categories")
        for name in ("MyResponseType", "IsOrganizer", "AppointmentState"):
            remove_prop(attendee_item, name)
        set_prop(attendee_item, "LegacyFreeBusyStatus", "Tentative")
        set_prop(attendee_item, "MyResponseType", "NoResponseReceived")
        set_prop(attendee_item, "IsOrganizer", "false")
        if copy is None:
            stamp_new(store, mb, attendee_item)
            calendar = mb.folder("calendar")
            if calendar is None:
                continue
            copy = store.add_item(calendar, attendee_item)
        else:
            old_response = get_text(copy.elem, "MyResponseType") or "NoResponseReceived"
            stamp_new(store, mb, attendee_item, created=get_text(copy.elem, "DateTimeCreated"))
            set_prop(attendee_item, "MyResponseType", old_response)
            copy.elem = attendee_item
            copy.touch()
        request = _request(cal, organizer, update)
        set_prop(request, "AssociatedCalendarItemId", elem=item_id_element(copy, "AssociatedCalendarItemId"))
        deliver(store, mb, request, organizer)
        book(store, mb, copy, rec)  # rooms that accept or decline by themselves (booking.py)
    if save_copy:
        _save_sent_copy(store, organizer, _request(cal, organizer, update))
    set_prop(cal, "MeetingRequestWasSent", "true")
    restamp(store, organizer, cal)
    rec.touch(("MeetingRequestWasSent",))


def _request(cal: etree._Element, organizer: Mailbox, update: bool) -> etree._Element:
    request = _meeting_message("MeetingRequest", cal, organizer)
    set_prop(request, "IsDelegated", "false")
    set_prop(request, "IsOutOfDate", "false")
    set_prop(request, "HasBeenProcessed", "true")
    set_prop(request, "ResponseType", "NoResponseReceived")
    set_prop(request, "MeetingRequestType", "InformationalUpdate" if update else "NewMeetingRequest")
    set_prop(request, "IntendedFreeBusyStatus", get_text(cal, "LegacyFreeBusyStatus") or "Busy")
    return request


def _cancellation(cal: etree._Element, organizer: Mailbox, subject: str,
                  body: Optional[etree._Element] = None) -> etree._Element:
    cancellation = _meeting_message("MeetingCancellation", cal, organizer)
    set_prop(cancellation, "Subject", subject)
    if body is not None:
        set_prop(cancellation, "Body", elem=copy_element(body))
    set_prop(cancellation, "ResponseType", "NoResponseReceived")
    return cancellation


def send_cancellations(store: Store, rec: ItemRecord, addresses: Optional[Iterable[str]] = None,
                       save_copy: bool = False, subject: Optional[str] = None,
                       body: Optional[etree._Element] = None) -> None:
    """Send meeting cancellations for a calendar item to its local attendees (or only to ``addresses``).

    ``subject`` and ``body`` (a t:Body element) replace the defaults ("Canceled: <subject>", the meeting's body).
    """
    organizer = rec.mailbox
    cal = rec.elem
    uid = get_text(cal, "UID") or ""
    targets = local_mailboxes(store, attendee_addresses(cal) if addresses is None else addresses)
    subject = subject or "Canceled: " + (get_text(cal, "Subject") or "")
    for mb in targets:
        if mb is organizer:
            continue
        copy = _attendee_calendar_item(store, mb, uid)
        cancellation = _cancellation(cal, organizer, subject, body)
        if copy is not None:
            set_prop(copy.elem, "IsCancelled", "true")
            set_prop(copy.elem, "Subject", subject)
            set_prop(copy.elem, "LegacyFreeBusyStatus", "Free")
            restamp(store, mb, copy.elem)
            copy.touch(("IsCancelled", "Subject", "LegacyFreeBusyStatus"))
            set_prop(cancellation, "AssociatedCalendarItemId",
                     elem=item_id_element(copy, "AssociatedCalendarItemId"))
        deliver(store, mb, cancellation, organizer)
    if save_copy:
        _save_sent_copy(store, organizer, _cancellation(cal, organizer, subject, body))


def attendee_set(elem: etree._Element) -> Tuple[str, ...]:
    return tuple(a.lower() for a in attendee_addresses(elem))
