"""Server-set item properties: what Exchange fills in when an item is created, updated or delivered.

Each property goes to its XSD sequence position (see :mod:`.props`). ``stamp_new`` runs on
CreateItem and on delivery, ``restamp`` after every update.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem
"""
from __future__ import annotations

import base64
import binascii
import copy
import email
import email.policy
import hashlib
import re
import secrets
from datetime import datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime
from typing import Dict, Iterable, List, Optional, Tuple, cast

from lxml import etree

from ...xml import TNS
from .. import schema_tables as tables
from ..store import ATTACHMENT_TOKEN_LEN, Mailbox, Store, format_datetime
from .common import Path, err, local
from .recurrence import all_day_span, normalise_master, stamp_range_dates
from .props import (get, get_text, insert_ordered, normalise_values, parse_datetime, remove_prop, set_default,
                    set_prop)

T = f"{{{TNS}}}"

ITEM_CLASS_DEFAULT = {
    "Item": "IPM.Note", "Message": "IPM.Note", "SharingMessage": "IPM.Sharing", "CalendarItem": "IPM.Appointment",
    "Contact": "IPM.Contact", "DistributionList": "IPM.DistList", "Task": "IPM.Task", "PostItem": "IPM.Post",
    "MeetingMessage": "IPM.Schedule.Meeting", "MeetingRequest": "IPM.Schedule.Meeting.Request",
    "MeetingResponse": "IPM.Schedule.Meeting.Resp.Pos", "MeetingCancellation": "IPM.Schedule.Meeting.Canceled",
}
MESSAGE_KINDS = frozenset({"Message", "SharingMessage", "MeetingMessage", "MeetingRequest", "MeetingResponse",
                           "MeetingCancellation"})
# Item kinds this server stores (RoleMember, Network and Person are Exchange Online internals).
SUPPORTED_KINDS = frozenset(ITEM_CLASS_DEFAULT) - {"Item"}

# Properties only the server sets: CreateItem and SetItemField answer ErrorInvalidPropertySet.
READ_ONLY = frozenset({
    "ItemId", "ParentFolderId", "Size", "IsSubmitted", "IsDraft", "IsFromMe", "IsResend", "IsUnmodified",
    "DateTimeSent", "DateTimeCreated", "ResponseObjects", "DisplayCc", "DisplayTo", "DisplayBcc",
    "HasAttachments", "EffectiveRights", "LastModifiedName", "LastModifiedTime", "WebClientReadFormQueryString",
    "WebClientEditFormQueryString", "ConversationId", "UniqueBody", "StoreEntryId", "InstanceKey",
    "NormalizedBody", "TextBody", "Preview", "ConversationIndex", "ConversationTopic", "ReceivedBy",
    "ReceivedRepresenting", "Duration", "IsMeeting", "IsCancelled", "IsRecurring", "MeetingRequestWasSent",
    "CalendarItemType", "AppointmentState", "ConflictingMeetingCount", "AdjacentMeetingCount",
    "ConflictingMeetings", "AdjacentMeetings", "FirstOccurrence", "LastOccurrence", "ModifiedOccurrences",
    "DeletedOccurrences", "IsOrganizer", "OriginalStart", "RecurrenceId", "IsComplete", "ChangeCount",
    "DelegationState", "Delegator", "IsAssignmentEditable", "MyResponseType",
})

_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs)\s*:\s*)+", re.IGNORECASE)


def mailbox_element(tag: str, mb: Mailbox, single: bool = True) -> etree._Element:
    """``t:<tag>`` holding a t:Mailbox for a store mailbox (SingleRecipientType), or the bare Mailbox."""
    inner = etree.Element(T + "Mailbox")
    etree.SubElement(inner, T + "Name").text = mb.display_name
    etree.SubElement(inner, T + "EmailAddress").text = mb.primary_smtp_address
    etree.SubElement(inner, T + "RoutingType").text = "SMTP"
    etree.SubElement(inner, T + "MailboxType").text = "Mailbox"
    if not single:
        return inner
    outer = etree.Element(T + tag)
    outer.append(inner)
    return outer


def recipient_addresses(elem: etree._Element, names: Iterable[str]) -> List[str]:
    out = []
    for n in names:
        c = elem.find(T + n)
        if c is None:
            continue
        for mb in c.iter(T + "Mailbox"):
            addr = mb.findtext(T + "EmailAddress")
            if addr:
                out.append(addr.strip())
    return out


def attendee_addresses(elem: etree._Element) -> List[str]:
    return recipient_addresses(elem, ("RequiredAttendees", "OptionalAttendees", "Resources"))


def _display(elem: etree._Element, container: str) -> Optional[str]:
    c = elem.find(T + container)
    if c is None:
        return None
    names = []
    for mb in c.iter(T + "Mailbox"):
        names.append(mb.findtext(T + "Name") or mb.findtext(T + "EmailAddress") or "")
    return "; ".join(n for n in names if n)


def _duration(start: datetime, end: datetime) -> str:
    secs = int((end - start).total_seconds())
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    out = "P"
    if days:
        out += f"{days}D"
    if hours or minutes or seconds or not days:
        out += "T"
        if hours:
            out += f"{hours}H"
        if minutes:
            out += f"{minutes}M"
        if seconds or not (hours or minutes):
            out += f"{seconds}S"
    return out


def conversation_topic(subject: str) -> str:
    return _SUBJECT_PREFIX.sub("", subject or "").strip()


def conversation_id(topic: str) -> str:
    digest = hashlib.sha1(topic.casefold().encode("utf-8")).digest()[:16]
    return base64.b64encode(b"\x43\x4f" + digest).decode("ascii")


def new_uid() -> str:
    """A calendar UID shaped like Exchange's (a global object id in hex)."""
    return ("040000008200E00074C5B7101A82E00800000000" + secrets.token_hex(8) + "0000000000000000"
            + "10000000" + secrets.token_hex(16)).upper()


_ATTACHMENT_TYPES = {"FileAttachment": "FileAttachmentType", "ItemAttachment": "ItemAttachmentType",
                     "ReferenceAttachment": "ReferenceAttachmentType"}


def stamp_attachment(store: Store, mailbox: Mailbox, att: etree._Element, now: str) -> None:
    """Give an attachment its server-set properties; its AttachmentId holds an internal token that
    responses turn into the public id (see :func:`exchangelib.testing.store.encode_attachment_id`)."""
    kind = local(att)
    type_name = _ATTACHMENT_TYPES.get(kind, "FileAttachmentType")
    token = base64.b64encode(secrets.token_bytes(ATTACHMENT_TOKEN_LEN)).decode("ascii")
    set_prop(att, "AttachmentId", elem=etree.Element(T + "AttachmentId", Id=token), type_name=type_name)
    size = 0
    content = att.find(T + "Content")
    if kind == "FileAttachment" and content is not None:
        try:
            size = len(base64.b64decode((content.text or "").encode("ascii"), validate=True))
        except (binascii.Error, ValueError):
            raise err("ErrorInvalidValueForProperty", "The attachment content is not valid base64.")
    if kind == "ItemAttachment":
        inner = next((c for c in att if isinstance(c.tag, str) and local(c) in ITEM_CLASS_DEFAULT), None)
        if inner is None:
            raise err("ErrorInvalidItemForOperationCreateItemAttachment", "An item attachment needs an item.")
        stamp_new(store, mailbox, inner)
        size = int(get_text(inner, "Size") or 0)
    set_prop(att, "Size", str(size), type_name=type_name)
    set_prop(att, "LastModifiedTime", now, type_name=type_name)
    set_default(att, "IsInline", "false", type_name=type_name)
    if kind == "FileAttachment":
        set_default(att, "IsContactPhoto", "false", type_name=type_name)


def _fill_attachments(store: Store, mailbox: Mailbox, elem: etree._Element, now: str) -> None:
    atts = elem.find(T + "Attachments")
    if atts is None:
        return
    for att in atts:
        if isinstance(att.tag, str):
            stamp_attachment(store, mailbox, att, now)


def _from_mime(elem: etree._Element) -> None:
    """Fill Subject, Body, recipients, From and InternetMessageId from MimeContent the client sent."""
    mime = elem.find(T + "MimeContent")
    if mime is None or not (mime.text or "").strip():
        return
    try:
        raw = base64.b64decode(cast(str, mime.text).encode("ascii"))  # non-empty: checked above
    except (binascii.Error, ValueError):
        raise err("ErrorMimeContentConversionFailed", "The MIME content is not valid base64.")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if get(elem, "Subject") is None and msg["Subject"] is not None:
        set_prop(elem, "Subject", str(msg["Subject"]))
    if get(elem, "Body") is None:
        part = msg.get_body(preferencelist=("html", "plain"))
        if part is not None:
            body = etree.Element(T + "Body", BodyType="HTML" if part.get_content_subtype() == "html" else "Text")
            try:
                body.text = part.get_content()
            except (LookupError, UnicodeDecodeError):
                body.text = ""
            set_prop(elem, "Body", elem=body)
    kind = local(elem)
    if kind in MESSAGE_KINDS:
        for header, prop in (("To", "ToRecipients"), ("Cc", "CcRecipients")):
            if get(elem, prop) is None and msg[header]:
                cont = etree.Element(T + prop)
                for name, addr in getaddresses([str(msg[header])]):
                    m = etree.SubElement(cont, T + "Mailbox")
                    if name:
                        etree.SubElement(m, T + "Name").text = name
                    etree.SubElement(m, T + "EmailAddress").text = addr
                    etree.SubElement(m, T + "RoutingType").text = "SMTP"
                set_prop(elem, prop, elem=cont)
        if get(elem, "From") is None and msg["From"]:
            name, addr = getaddresses([str(msg["From"])])[0]
            f = etree.Element(T + "From")
            m = etree.SubElement(f, T + "Mailbox")
            if name:
                etree.SubElement(m, T + "Name").text = name
            etree.SubElement(m, T + "EmailAddress").text = addr
            etree.SubElement(m, T + "RoutingType").text = "SMTP"
            set_prop(elem, "From", elem=f)
        if get(elem, "InternetMessageId") is None and msg["Message-ID"]:
            set_prop(elem, "InternetMessageId", str(msg["Message-ID"]).strip())
        if msg["Date"]:
            try:
                sent = parsedate_to_datetime(str(msg["Date"]))
                if sent.tzinfo is not None:
                    set_prop(elem, "DateTimeSent", format_datetime(sent))
            except (TypeError, ValueError):
                pass


# Element name -> a FieldURI naming it (for MessageXml in errors)
_NAME_TO_URI: Dict[str, str] = {}
for _uri, (_owner, _name) in tables.FIELD_URIS.items():
    _NAME_TO_URI.setdefault(_name, _uri)


def field_path(name: str) -> Optional[Path]:
    uri = _NAME_TO_URI.get(name)
    return Path("FieldURI", uri=uri) if uri else None


# Exchange's length limits (characters). Subject is cut to its limit; the contact name parts are refused.
SUBJECT_LIMIT = 255
CONTACT_NAME_LIMITS = {"GivenName": 255, "MiddleName": 255, "Surname": 255}


def check_lengths(elem: etree._Element, code: str = "ErrorInvalidPropertySet") -> None:
    """Refuse over-long contact name parts (``code``: ErrorInvalidPropertySet on create, ErrorPropertyUpdate
    on update), as Exchange does."""
    if local(elem) != "Contact":
        return
    for name, limit in CONTACT_NAME_LIMITS.items():
        if len(get_text(elem, name) or "") > limit:
            raise err(code, f"The property {name} is longer than {limit} characters.", field_uri=field_path(name))


def check_client_properties(elem: etree._Element, allow: Iterable[str] = ()) -> None:
    """Refuse server-only properties and over-long values in a CreateItem item, as Exchange does."""
    allowed = set(allow)
    for c in elem:
        if isinstance(c.tag, str) and local(c) in READ_ONLY and local(c) not in allowed:
            raise err("ErrorInvalidPropertySet", field_uri=field_path(local(c)))
    check_lengths(elem)


def stamp_new(store: Store, mailbox: Mailbox, elem: etree._Element, *, draft: bool = False,
              created: Optional[str] = None) -> etree._Element:
    """Fill in the server-set properties of a new item element (modified in place, returned)."""
    if local(elem) == "Item":
        elem.tag = T + "Message"  # Exchange never returns the base Item element
    kind = local(elem)
    if kind not in SUPPORTED_KINDS:
        raise err("ErrorInvalidRequest", f"Items of type {kind} are not supported by this server.")
    _from_mime(elem)
    normalise_values(elem)
    now = format_datetime(store.now())
    created = created or now
    set_default(elem, "ItemClass", ITEM_CLASS_DEFAULT[kind])
    set_default(elem, "Sensitivity", "Normal")
    set_prop(elem, "DateTimeReceived", created)
    set_default(elem, "Importance", "Normal")
    set_prop(elem, "IsSubmitted", "false")
    set_prop(elem, "IsDraft", "true" if draft else "false")
    set_prop(elem, "IsFromMe", "false")
    set_prop(elem, "IsResend", "false")
    set_prop(elem, "IsUnmodified", "false" if draft or kind not in MESSAGE_KINDS else "true")
    set_prop(elem, "DateTimeCreated", created)
    is_calendar = kind == "CalendarItem"
    set_default(elem, "ReminderIsSet", "true" if is_calendar else "false")
    set_default(elem, "ReminderMinutesBeforeStart", "15" if is_calendar else "0")
    set_default(elem, "Culture", "en-US")
    _fill_attachments(store, mailbox, elem, now)
    if kind in MESSAGE_KINDS or kind == "PostItem":
        topic = conversation_topic(get_text(elem, "Subject") or "")
        set_prop(elem, "ConversationId", elem=etree.Element(T + "ConversationId", Id=conversation_id(topic)))
        set_prop(elem, "ConversationTopic", topic)
        set_default(elem, "ConversationIndex", base64.b64encode(b"\x01" + secrets.token_bytes(21)).decode())
    if kind in MESSAGE_KINDS:
        set_default(elem, "IsReadReceiptRequested", "false")
        set_default(elem, "IsDeliveryReceiptRequested", "false")
        set_default(elem, "IsRead", "true" if draft or kind == "Message" else "false")
    if kind == "PostItem":
        set_default(elem, "PostedTime", now)
        set_default(elem, "IsRead", "true")
        set_prop(elem, "From", elem=mailbox_element("From", mailbox))
        set_prop(elem, "Sender", elem=mailbox_element("Sender", mailbox))
    if is_calendar:
        set_default(elem, "UID", new_uid())
        set_default(elem, "DateTimeStamp", now)
        set_default(elem, "IsAllDayEvent", "false")
        set_default(elem, "LegacyFreeBusyStatus", "Busy")
        set_default(elem, "IsCancelled", "false")
        set_default(elem, "MeetingRequestWasSent", "false")
        set_default(elem, "IsResponseRequested", "true")
        set_default(elem, "AppointmentSequenceNumber", "0")
        if get(elem, "Organizer") is None:
            set_prop(elem, "Organizer", elem=mailbox_element("Organizer", mailbox))
        organizer = (elem.find(f"{T}Organizer/{T}Mailbox/{T}EmailAddress"))
        is_organizer = organizer is None or (organizer.text or "").lower() in mailbox.addresses()
        set_default(elem, "MyResponseType", "Organizer" if is_organizer else "NoResponseReceived")
        set_default(elem, "IsOrganizer", "true" if is_organizer else "false")
    if kind == "Task":
        set_default(elem, "ChangeCount", "1")
        set_default(elem, "DelegationState", "NoMatch")
        set_default(elem, "IsAssignmentEditable", "0")
        set_default(elem, "IsTeamTask", "false")
        set_default(elem, "Owner", mailbox.display_name)
        set_default(elem, "IsRecurring", "false")
    if kind == "Contact":
        given, surname = get_text(elem, "GivenName"), get_text(elem, "Surname")
        if get(elem, "DisplayName") is None:
            full = " ".join(p for p in (given, surname) if p)
            if full:
                set_prop(elem, "DisplayName", full)
        if get(elem, "FileAs") is None:
            file_as = ", ".join(p for p in (surname, given) if p) or get_text(elem, "DisplayName") or \
                get_text(elem, "CompanyName")
            if file_as:
                set_prop(elem, "FileAs", file_as)
    if kind == "DistributionList":
        if get(elem, "DisplayName") is None:
            set_prop(elem, "DisplayName", get_text(elem, "Subject") or "")
        set_default(elem, "FileAs", get_text(elem, "DisplayName") or "")
    restamp(store, mailbox, elem, now=now)
    return elem


_RECIPIENT_PROPS = ("ToRecipients", "CcRecipients", "BccRecipients", "ReplyTo", "From", "Sender", "Organizer",
                    "RequiredAttendees", "OptionalAttendees", "Resources", "ReceivedBy", "ReceivedRepresenting")


def resolve_recipients(store: Store, elem: etree._Element) -> None:
    """Complete recipient mailboxes as Exchange stores them: Name, RoutingType and MailboxType."""
    for prop in _RECIPIENT_PROPS:
        container = elem.find(T + prop)
        if container is None:
            continue
        for mb in container.iter(T + "Mailbox"):
            address = mb.findtext(T + "EmailAddress")
            local_mb = store.get_mailbox(address) if address else None
            if mb.find(T + "Name") is None and (local_mb is not None or address):
                insert_ordered(mb, _text(T + "Name", local_mb.display_name if local_mb else cast(str, address)),
                               "EmailAddressType")
            if address and mb.find(T + "RoutingType") is None:
                insert_ordered(mb, _text(T + "RoutingType", "SMTP"), "EmailAddressType")
            if address and mb.find(T + "MailboxType") is None:
                insert_ordered(mb, _text(T + "MailboxType", "Mailbox" if local_mb else "OneOff"),
                               "EmailAddressType")


def restamp(store: Store, mailbox: Mailbox, elem: etree._Element, now: Optional[str] = None) -> None:
    """Recompute derived properties after a write: display lists, flags, calendar/task state, size."""
    kind = local(elem)
    now = now or format_datetime(store.now())
    normalise_values(elem)
    subject = get_text(elem, "Subject")
    if subject is not None and len(subject) > SUBJECT_LIMIT:
        set_prop(elem, "Subject", subject[:SUBJECT_LIMIT])  # Exchange keeps the first 255 characters
    resolve_recipients(store, elem)
    atts = get(elem, "Attachments")
    set_prop(elem, "HasAttachments", "true" if atts is not None and len(atts) else "false")
    if kind in MESSAGE_KINDS:
        for name, container in (("DisplayTo", "ToRecipients"), ("DisplayCc", "CcRecipients")):
            set_prop(elem, name, _display(elem, container) or "")
        if get(elem, "BccRecipients") is not None:
            set_prop(elem, "DisplayBcc", _display(elem, "BccRecipients") or "")
        else:
            remove_prop(elem, "DisplayBcc")
    if kind == "CalendarItem":
        set_prop(elem, "DisplayTo", _display(elem, "RequiredAttendees") or "")
        set_prop(elem, "DisplayCc", _display(elem, "OptionalAttendees") or "")
        start_s, end_s = get_text(elem, "Start"), get_text(elem, "End")
        start = parse_datetime(start_s) if start_s else store.now()
        end = parse_datetime(end_s) if end_s else start + timedelta(minutes=30)
        if end < start:
            raise err("ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate")
        if get_text(elem, "IsAllDayEvent") == "true":
            start, end = all_day_span(elem, start, end)
            start_s = end_s = None  # written below
        if not start_s:
            set_prop(elem, "Start", format_datetime(start))
        if not end_s:
            set_prop(elem, "End", format_datetime(end))
        recurring = get(elem, "Recurrence") is not None
        if recurring:
            normalise_master(elem)  # validates the pattern; Start/End move to the first occurrence
            stamp_range_dates(elem, with_offset=store.server_build[0] >= 14)
            start, end = (parse_datetime(cast(str, get_text(elem, "Start"))),
                          parse_datetime(cast(str, get_text(elem, "End"))))
        # Exchange's documented table: a recurring master is IsRecurring=false in the organizer's calendar,
        # true in attendees' copies (and in meeting requests); occurrences and exceptions are true.
        # https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isrecurring
        set_prop(elem, "IsRecurring", "true" if recurring and get_text(elem, "IsOrganizer") == "false" else "false")
        set_prop(elem, "CalendarItemType", "RecurringMaster" if recurring else "Single")
        is_meeting = bool(attendee_addresses(elem))
        set_prop(elem, "IsMeeting", "true" if is_meeting else "false")
        set_prop(elem, "Duration", _duration(start, end))
        organizer = get_text(elem, "IsOrganizer") != "false"
        state = 0 if not is_meeting else (1 if organizer else 3)
        if get_text(elem, "IsCancelled") == "true":
            state |= 4
        set_prop(elem, "AppointmentState", str(state))
        for att in elem.iter(T + "Attendee"):
            if att.find(T + "ResponseType") is None:
                insert_ordered(att, _text(T + "ResponseType", "Unknown"), "AttendeeType")
    if kind == "MeetingRequest":  # a request for a series is recurring (see the IsRecurring table above)
        set_prop(elem, "IsRecurring", "true" if get(elem, "Recurrence") is not None else "false")
    if kind == "Task":
        status = get_text(elem, "Status")
        pct = get_text(elem, "PercentComplete")
        try:
            pct_v = float(pct) if pct is not None else None
        except ValueError:
            raise err("ErrorInvalidValueForProperty", "PercentComplete must be a number.")
        if pct_v is not None and not 0 <= pct_v <= 100:
            raise err("ErrorInvalidPercentCompleteValue", "PercentComplete must be between 0 and 100.")
        if status == "Completed" or pct_v == 100:
            set_prop(elem, "Status", "Completed")
            set_prop(elem, "PercentComplete", "100")
            set_default(elem, "CompleteDate", now)
        else:
            set_default(elem, "Status", "NotStarted")
            set_default(elem, "PercentComplete", "0")
            remove_prop(elem, "CompleteDate")
        set_prop(elem, "IsComplete", "true" if get_text(elem, "Status") == "Completed" else "false")
        set_prop(elem, "IsRecurring", "true" if get(elem, "Recurrence") is not None else "false")
        stamp_range_dates(elem, with_offset=store.server_build[0] >= 14)
    set_prop(elem, "LastModifiedName", mailbox.display_name)
    set_prop(elem, "LastModifiedTime", now)
    set_prop(elem, "Size", "0")
    set_prop(elem, "Size", str(len(etree.tostring(elem))))


def _text(tag: str, text: str) -> etree._Element:
    e = etree.Element(tag)
    e.text = text
    return e


def copy_element(elem: etree._Element) -> etree._Element:
    return copy.deepcopy(elem)


def strip_server_properties(elem: etree._Element, keep: Tuple[str, ...] = ()) -> etree._Element:
    """Remove the server-set properties (before copying an item into another mailbox or folder)."""
    for c in list(elem):
        if isinstance(c.tag, str) and local(c) in READ_ONLY and local(c) not in keep:
            elem.remove(c)
    return elem
