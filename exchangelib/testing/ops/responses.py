"""Response objects in CreateItem: replies, forwards, meeting answers and meeting cancellations.

A response object (``t:ReplyToItem``, ``t:AcceptItem``, ...) names the item it answers in
``ReferenceItemId``; the server builds the real message from it, as Exchange does:

- ReplyToItem / ReplyAllToItem / ForwardItem: a Message with "RE: " / "FW: " before the original
  subject (unless given), ``NewBodyContent`` above a header block and the original body (``Body``
  replaces all of that), recipients filled in when none are given (reply: Reply-To or From;
  reply all: also the original To and Cc, minus the replier), InReplyTo/References for replies,
  the original's attachments for forwards, and a ConversationIndex extending the original's.
- AcceptItem / TentativelyAcceptItem / DeclineItem, on a MeetingRequest or on the attendee's calendar
  item: the attendee's calendar item gets MyResponseType (a declined one moves to Deleted Items), the
  answered request moves to Deleted Items, and a MeetingResponse goes to the organiser, whose calendar
  item then shows the attendee's ResponseType and LastResponseTime.
- CancelCalendarItem, on the organiser's calendar item: cancellations go to the attendees and the
  meeting moves to the organiser's Deleted Items.

``MessageDisposition`` decides what happens to the result: SaveOnly saves it in Drafts (or
SavedItemFolderId) and returns its id; SendOnly / SendAndSaveCopy send it (the copy goes to Sent Items
or SavedItemFolderId) and return an empty ``m:Items``.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responseobjects
"""
from __future__ import annotations

import base64
import html
import re
import secrets
from typing import Dict, List, Optional, Tuple, cast

from lxml import etree

from ...xml import TNS
from ..context import RequestContext, ResponseCodeError
from ..store import FolderRecord, ItemRecord, Mailbox, Store, decode_id, format_datetime
from .common import err, item_id_element, local, m_el, resolve_item
from .delivery import _cancellation, send_cancellations, send_message
from .props import get, get_text, item_type, remove_prop, set_prop
from .stamp import copy_element, restamp, stamp_new

T = f"{{{TNS}}}"

_SMART_PREFIX = {"ReplyToItem": "RE: ", "ReplyAllToItem": "RE: ", "ForwardItem": "FW: "}
# kind -> (response type, subject prefix, item class, organiser error, cancelled error, wrong item error)
_ANSWERS = {
    "AcceptItem": ("Accept", "Accepted: ", "IPM.Schedule.Meeting.Resp.Pos", "ErrorCalendarIsOrganizerForAccept",
                   "ErrorCalendarIsCancelledForAccept", "ErrorInvalidItemForOperationAcceptItem"),
    "TentativelyAcceptItem": ("Tentative", "Tentative: ", "IPM.Schedule.Meeting.Resp.Tent",
                              "ErrorCalendarIsOrganizerForTentative", "ErrorCalendarIsCancelledForTentative",
                              "ErrorInvalidItemForOperationTentative"),
    "DeclineItem": ("Decline", "Declined: ", "IPM.Schedule.Meeting.Resp.Neg", "ErrorCalendarIsOrganizerForDecline",
                    "ErrorCalendarIsCancelledForDecline", "ErrorInvalidItemForOperationDeclineItem"),
}
RESPONSE_KINDS = frozenset(_SMART_PREFIX) | frozenset(_ANSWERS) | {"CancelCalendarItem", "PostReplyItem"}
_MEETING_FIELDS = ("UID", "RecurrenceId", "Start", "End", "Location", "CalendarItemType")


def create_response(ctx: RequestContext, elem: etree._Element, disposition: Optional[str],
                    folder: Optional[FolderRecord]) -> List[etree._Element]:
    """Handle one response object of a CreateItem request; returns the ResponseMessage payload."""
    if disposition is None:
        raise err("ErrorMessageDispositionRequired", "MessageDisposition attribute is required.")
    kind = local(elem)
    ref = elem.find(T + "ReferenceItemId")
    if ref is None:
        raise err("ErrorMissingInformationReferenceItemId", "The ReferenceItemId is missing.")
    rec = resolve_item(ctx, etree.Element(T + "ItemId", dict(cast(Dict[str, str], ref.attrib))))
    mailbox = folder.mailbox if folder is not None else rec.mailbox
    if kind in _SMART_PREFIX:
        msg = _smart_response(kind, elem, rec, mailbox)
        return _finish(ctx.store, mailbox, msg, disposition, folder)
    if kind in _ANSWERS:
        return _answer(ctx.store, kind, elem, rec, mailbox, disposition, folder)
    if kind == "CancelCalendarItem":
        return _cancel(ctx.store, elem, rec, disposition, folder)
    if kind == "PostReplyItem":
        return _post_reply(ctx.store, elem, rec, disposition, folder)
    raise err("ErrorInvalidRequest", f"Response objects of type {kind} are not supported by this server.")


def _finish(store: Store, mailbox: Mailbox, msg: etree._Element, disposition: str,
            folder: Optional[FolderRecord]) -> List[etree._Element]:
    """Save the built message as a draft (SaveOnly) or send it (with a copy for SendAndSaveCopy)."""
    if disposition == "SaveOnly":
        target = folder or mailbox.folder("drafts")
        if target is None:
            raise err("ErrorFolderNotFound")
        stamp_new(store, mailbox, msg, draft=True)
        saved = store.add_item(target, msg)
        return [m_el("Items", [_id_only(saved)])]
    stamp_new(store, mailbox, msg, draft=False)
    save_in = (folder or mailbox.folder("sentitems")) if disposition == "SendAndSaveCopy" else None
    send_message(store, mailbox, msg, save_in)
    return [m_el("Items")]


def _id_only(rec: ItemRecord) -> etree._Element:
    el = etree.Element(rec.elem.tag)
    el.append(item_id_element(rec))
    return el


def _to_trash(store: Store, rec: ItemRecord) -> None:
    """Move an item to its mailbox's Deleted Items; one that is there already leaves it (recoverably)."""
    trash = rec.mailbox.folder("deleteditems")
    if trash is None or rec.folder is trash:
        store.soft_delete_item(rec)
    else:
        store.move_item(rec, trash)


# --- Replies and forwards --------------------------------------------------------------------------
def _mailboxes(elem: etree._Element, *containers: str) -> List[etree._Element]:
    out: List[etree._Element] = []
    for name in containers:
        c = elem.find(T + name)
        if c is not None:
            out.extend(copy_element(mb) for mb in c.iter(T + "Mailbox"))
    return out


def _address(mb: etree._Element) -> str:
    return (mb.findtext(T + "EmailAddress") or "").strip().lower()


def _recipients(name: str, mailboxes: List[etree._Element], exclude: Tuple[str, ...],
                seen: set) -> Optional[etree._Element]:
    container = etree.Element(T + name)
    for mb in mailboxes:
        addr = _address(mb)
        if not addr or addr in exclude or addr in seen:
            continue
        seen.add(addr)
        container.append(mb)
    return container if len(container) else None


def _original_sender(orig: etree._Element) -> List[etree._Element]:
    for name in ("ReplyTo", "From", "Sender", "Organizer"):
        found = _mailboxes(orig, name)
        if found:
            return found
    return []


def _header_block(orig: etree._Element) -> List[str]:
    lines = []
    sender = _original_sender(orig)
    if sender:
        lines.append("From: " + _display(sender))
    sent = get_text(orig, "DateTimeSent")
    if sent:
        lines.append("Sent: " + sent)
    to = _mailboxes(orig, "ToRecipients")
    if to:
        lines.append("To: " + _display(to))
    cc = _mailboxes(orig, "CcRecipients")
    if cc:
        lines.append("Cc: " + _display(cc))
    lines.append("Subject: " + (get_text(orig, "Subject") or ""))
    return lines


def _display(mailboxes: List[etree._Element]) -> str:
    return "; ".join((mb.findtext(T + "Name") or mb.findtext(T + "EmailAddress") or "") for mb in mailboxes)


_BODY_OPEN = re.compile(r"<body[^>]*>", re.IGNORECASE)
_BODY_INNER = re.compile(r"<body[^>]*>(.*)</body>", re.IGNORECASE | re.DOTALL)


def _html_fragment(body_type: str, text: str) -> str:
    """Body text as an HTML fragment: the inside of an HTML document's body, or escaped plain text."""
    if body_type == "HTML":
        m = _BODY_INNER.search(text)
        return m.group(1) if m else text
    return "<br>".join(html.escape(line) for line in text.replace("\r\n", "\n").split("\n"))


def _compose_body(new: Optional[etree._Element], orig: etree._Element) -> etree._Element:
    """``new`` above a header block and the original body; HTML when either part is HTML."""
    orig_body = orig.find(T + "Body")
    orig_type = orig_body.get("BodyType", "Text") if orig_body is not None else "Text"
    orig_text = (orig_body.text or "") if orig_body is not None else ""
    new_type = new.get("BodyType", "Text") if new is not None else "Text"
    new_text = (new.text or "") if new is not None else ""
    header = _header_block(orig)
    if "HTML" in (orig_type, new_type):
        top = (_html_fragment(new_type, new_text) + "\n" if new is not None else "") + \
            "<hr><div>" + "<br>".join(html.escape(line) for line in header) + "</div>\n"
        if orig_type == "HTML":
            m = _BODY_OPEN.search(orig_text)
            text = orig_text[:m.end()] + top + orig_text[m.end():] if m else top + orig_text
        else:
            text = "<html><body>" + top + _html_fragment("Text", orig_text) + "</body></html>"
        body = etree.Element(T + "Body", BodyType="HTML")
    else:
        parts = ([new_text] if new is not None else []) + [
            "-----Original Message-----\r\n" + "\r\n".join(header), orig_text]
        text = "\r\n\r\n".join(parts)
        body = etree.Element(T + "Body", BodyType="Text")
    body.text = text
    return body


def _smart_response(kind: str, elem: etree._Element, rec: ItemRecord, mailbox: Mailbox) -> etree._Element:
    orig = rec.elem
    msg = etree.Element(T + "Message")
    prefix = _SMART_PREFIX[kind]
    subject = get_text(elem, "Subject")
    if subject is None:
        original = get_text(orig, "Subject") or ""
        subject = original if original.lower().startswith(prefix.lower()) else prefix + original
    set_prop(msg, "Subject", subject)
    given_body = elem.find(T + "Body")
    if given_body is not None:
        set_prop(msg, "Body", elem=copy_element(given_body))
    else:
        set_prop(msg, "Body", elem=_compose_body(elem.find(T + "NewBodyContent"), orig))
    if kind == "ForwardItem" and get(orig, "Attachments") is not None:
        set_prop(msg, "Attachments", elem=copy_element(cast(etree._Element, get(orig, "Attachments"))))
    for name in ("ToRecipients", "CcRecipients", "BccRecipients"):
        given = elem.find(T + name)
        if given is not None:
            set_prop(msg, name, elem=copy_element(given))
    if kind != "ForwardItem":  # recipients not given are filled in from the original
        me = mailbox.addresses()
        seen = {_address(mb) for mb in msg.iter(T + "Mailbox")}
        if get(msg, "ToRecipients") is None:
            to_list = _original_sender(orig)
            if kind == "ReplyAllToItem":
                to_list += _mailboxes(orig, "ToRecipients", "RequiredAttendees")
            # Replying to a message you sent yourself goes back to you; reply-all leaves you out.
            to = _recipients("ToRecipients", to_list, me if kind == "ReplyAllToItem" else (), seen)
            if to is not None:
                set_prop(msg, "ToRecipients", elem=to)
        if kind == "ReplyAllToItem" and get(msg, "CcRecipients") is None:
            cc = _recipients("CcRecipients", _mailboxes(orig, "CcRecipients", "OptionalAttendees"), me, seen)
            if cc is not None:
                set_prop(msg, "CcRecipients", elem=cc)
    for name in ("IsReadReceiptRequested", "IsDeliveryReceiptRequested", "From"):
        if elem.find(T + name) is not None:
            set_prop(msg, name, elem=copy_element(cast(etree._Element, elem.find(T + name))))
    message_id = get_text(orig, "InternetMessageId")
    if message_id and kind != "ForwardItem":
        set_prop(msg, "InReplyTo", message_id)
        references = " ".join(p for p in (get_text(orig, "References"), message_id) if p)
        set_prop(msg, "References", references)
    index = get_text(orig, "ConversationIndex")
    if index:
        try:
            raw = base64.b64decode(index)
        except ValueError:
            raw = b""
        if raw:
            set_prop(msg, "ConversationIndex", base64.b64encode(raw + secrets.token_bytes(5)).decode("ascii"))
    return msg


# --- Post replies ------------------------------------------------------------------------------------
def _post_reply(store: Store, elem: etree._Element, rec: ItemRecord, disposition: str,
                folder: Optional[FolderRecord]) -> List[etree._Element]:
    """A PostReplyItem: a new PostItem ("RE: ..."), saved in the given folder or the original's folder.

    Posts are never sent: any disposition but SaveOnly is refused, as Exchange does.
    """
    if disposition != "SaveOnly":
        raise err("ErrorInvalidRequest", "A PostReplyItem can only be saved (MessageDisposition SaveOnly).")
    orig = rec.elem
    post = etree.Element(T + "PostItem")
    subject = get_text(elem, "Subject")
    if subject is None:
        original = get_text(orig, "Subject") or ""
        subject = original if original.lower().startswith("re: ") else "RE: " + original
    set_prop(post, "Subject", subject)
    given_body = elem.find(T + "Body")
    if given_body is not None:
        set_prop(post, "Body", elem=copy_element(given_body))
    else:
        set_prop(post, "Body", elem=_compose_body(elem.find(T + "NewBodyContent"), orig))
    topic = get_text(orig, "ConversationTopic") or get_text(orig, "Subject")
    if topic:
        set_prop(post, "ConversationTopic", topic)
    message_id = get_text(orig, "InternetMessageId")
    if message_id:
        set_prop(post, "InReplyTo", message_id)
        set_prop(post, "References", " ".join(p for p in (get_text(orig, "References"), message_id) if p))
    target = folder or rec.folder
    stamp_new(store, target.mailbox, post, draft=False)
    saved = store.add_item(target, post)
    return [m_el("Items", [_id_only(saved)])]


# --- Meeting answers -------------------------------------------------------------------------------
def _calendar_item_of(store: Store, request: ItemRecord) -> Optional[ItemRecord]:
    """The attendee's calendar item a meeting request belongs to (by AssociatedCalendarItemId, else UID)."""
    assoc = request.elem.find(T + "AssociatedCalendarItemId")
    if assoc is not None:
        try:
            _kind, _addr, key = decode_id(assoc.get("Id"))
        except ResponseCodeError:  # a malformed id: fall back to the UID
            key = b""
        found = store.find_item(key) if key else None
        if found is not None and found.mailbox is request.mailbox and not found.soft_deleted:
            return found
    uid = get_text(request.elem, "UID")
    return _by_uid(request.mailbox, uid) if uid else None


def _by_uid(mb: Mailbox, uid: str) -> Optional[ItemRecord]:
    for folder in mb.all_folders():
        if folder.element_kind != "CalendarFolder" or folder.distinguished == "deleteditems":
            continue
        for rec in folder.items():
            if get_text(rec.elem, "UID") == uid:
                return rec
    return None


def _answer(store: Store, kind: str, elem: etree._Element, rec: ItemRecord, mailbox: Mailbox, disposition: str,
            folder: Optional[FolderRecord]) -> List[etree._Element]:
    response_type, prefix, item_class, organiser_error, cancelled_error, invalid_error = _ANSWERS[kind]
    if rec.element_kind == "MeetingRequest":
        request: Optional[ItemRecord] = rec
        cal = _calendar_item_of(store, rec)
    elif rec.element_kind == "CalendarItem":
        request, cal = None, rec
    else:
        raise err(invalid_error, "The item is not a meeting request or a calendar item.")
    meeting = cal.elem if cal is not None else rec.elem
    organizer = meeting.find(f"{T}Organizer/{T}Mailbox/{T}EmailAddress")
    organizer_address = (organizer.text or "").strip().lower() if organizer is not None else ""
    if get_text(meeting, "IsOrganizer") == "true" or organizer_address in rec.mailbox.addresses():
        raise err(organiser_error, "The organizer of a meeting can't respond to it.")
    if get_text(meeting, "IsCancelled") == "true":
        raise err(cancelled_error, "The meeting has been cancelled.")

    now = format_datetime(store.now())
    response = _meeting_response(elem, meeting, prefix, item_class, response_type, organizer_address)
    if disposition == "SaveOnly":
        result = _finish(store, mailbox, response, disposition, folder)
    else:
        organiser_mb = store.get_mailbox(organizer_address) if organizer_address else None
        organiser_cal = _by_uid(organiser_mb, get_text(meeting, "UID") or "") if organiser_mb else None
        if organiser_cal is not None:
            set_prop(response, "AssociatedCalendarItemId",
                     elem=item_id_element(organiser_cal, "AssociatedCalendarItemId"))
        stamp_new(store, mailbox, response, draft=False)
        save_in = (folder or mailbox.folder("sentitems")) if disposition == "SendAndSaveCopy" else None
        saved = send_message(store, mailbox, response, save_in)
        if saved is not None:  # the sender's copy must not point into the organiser's mailbox
            remove_prop(saved.elem, "AssociatedCalendarItemId")
        if organiser_cal is not None:
            record_answer(store, organiser_cal, rec.mailbox, response_type, now)
        result = [m_el("Items")]

    if cal is not None:
        if kind == "DeclineItem":
            _to_trash(store, cal)
        else:
            busy = "Tentative" if response_type == "Tentative" else (
                (get_text(request.elem, "IntendedFreeBusyStatus") if request is not None else None) or "Busy")
            set_prop(cal.elem, "MyResponseType", response_type)
            set_prop(cal.elem, "LegacyFreeBusyStatus", busy)
            set_prop(cal.elem, "AppointmentReplyTime", now)
            restamp(store, cal.mailbox, cal.elem)
            cal.touch(("MyResponseType", "LegacyFreeBusyStatus", "AppointmentReplyTime"))
    if request is not None:
        _to_trash(store, request)
    return result


def _meeting_response(elem: etree._Element, meeting: etree._Element, prefix: str, item_class: str,
                      response_type: str, organizer_address: str) -> etree._Element:
    response = etree.Element(T + "MeetingResponse")
    set_prop(response, "ItemClass", item_class)
    set_prop(response, "Subject", prefix + (get_text(meeting, "Subject") or ""))
    for name in ("Sensitivity", "Body", "ToRecipients", "CcRecipients", "BccRecipients", "IsReadReceiptRequested",
                 "IsDeliveryReceiptRequested"):
        given = elem.find(T + name)
        if given is not None:
            set_prop(response, name, elem=copy_element(given))
    if response.find(T + "ToRecipients") is None and organizer_address:
        set_prop(response, "ToRecipients", elem=_recipients("ToRecipients", _mailboxes(meeting, "Organizer"), (), set()))
    set_prop(response, "IsDelegated", "false")
    set_prop(response, "IsOutOfDate", "false")
    set_prop(response, "HasBeenProcessed", "false")
    set_prop(response, "ResponseType", response_type)
    type_name = item_type("MeetingResponse")
    for name in _MEETING_FIELDS:
        value = meeting.find(T + name)
        if value is not None:
            set_prop(response, name, elem=copy_element(value), type_name=type_name)
    return response


def record_answer(store: Store, cal: ItemRecord, attendee: Mailbox, response_type: str, when: str) -> None:
    """On the organiser's calendar item, set the attendee's ResponseType and LastResponseTime."""
    addresses = attendee.addresses()
    changed = False
    for att in cal.elem.iter(T + "Attendee"):
        mb = att.find(T + "Mailbox")
        if mb is None or _address(mb) not in addresses:
            continue
        set_prop(att, "ResponseType", response_type, type_name="AttendeeType")
        set_prop(att, "LastResponseTime", when, type_name="AttendeeType")
        changed = True
    if changed:
        restamp(store, cal.mailbox, cal.elem)
        cal.touch(("RequiredAttendees", "OptionalAttendees", "Resources"))


# --- Cancellations ---------------------------------------------------------------------------------
def _cancel(store: Store, elem: etree._Element, rec: ItemRecord, disposition: str,
            folder: Optional[FolderRecord]) -> List[etree._Element]:
    if rec.element_kind != "CalendarItem":
        raise err("ErrorInvalidItemForOperationCancelItem", "Only calendar items can be cancelled.")
    if get_text(rec.elem, "IsOrganizer") == "false":
        raise err("ErrorCalendarIsNotOrganizer", "Only the organizer of a meeting can cancel it.")
    body = elem.find(T + "NewBodyContent")
    if body is not None:
        body = copy_element(body)
        body.tag = T + "Body"
    elif elem.find(T + "Body") is not None:
        body = copy_element(cast(etree._Element, elem.find(T + "Body")))
    subject = get_text(elem, "Subject") or "Canceled: " + (get_text(rec.elem, "Subject") or "")
    if disposition == "SaveOnly":
        draft = _cancellation(rec.elem, rec.mailbox, subject, body)
        recipients = _mailboxes(rec.elem, "RequiredAttendees", "OptionalAttendees", "Resources")
        to = _recipients("ToRecipients", recipients, rec.mailbox.addresses(), set())
        remove_prop(draft, "CcRecipients")
        if to is not None:
            set_prop(draft, "ToRecipients", elem=to)
        return _finish(store, rec.mailbox, draft, disposition, folder)
    send_cancellations(store, rec, save_copy=disposition == "SendAndSaveCopy", subject=subject, body=body)
    _to_trash(store, rec)
    return [m_el("Items")]


__all__ = ["RESPONSE_KINDS", "create_response", "record_answer"]
