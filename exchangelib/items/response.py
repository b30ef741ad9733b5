"""Response objects: replies, forwards, meeting answers and cancellations (CreateItem payloads).

A response object names the item it answers in ``reference_item_id``; Exchange builds the real message
from it (subject prefix, quoted original, recipients when none are given). Usually you don't build
these yourself: ``message.reply(...)``, ``meeting_request.accept()`` or ``calendar_item.cancel()`` do.
``message.create_reply(...)`` returns the object so you can change it before ``send()`` or ``save()``.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responseobjects
"""
from __future__ import annotations

from typing import Any

from ..elements import EWSElement
from ..fields import BooleanField, CharField, ChoiceField, DateTimeField, EWSElementField
from ..properties import BodyField, ItemId, MailboxField, MailboxListField
from ..version import EXCHANGE_2013
from .base import SENSITIVITY_CHOICES
from .methods import ResponseObjectMethods


class ResponseObject(ResponseObjectMethods, EWSElement):
    """Base of all response objects: ``account`` is where it is sent from (never serialised)."""

    ELEMENT_NAME = ""
    _EXTRA_ATTRS = ("account",)

    #: The account that sends or saves the response.
    account: Any = None


class SmartResponse(ResponseObject):
    """A reply, reply-all, forward or meeting cancellation (``SmartResponseType``).

    ``new_body`` is put above the quoted original; ``body`` (if set) replaces the whole body instead.
    """

    subject = CharField("item:Subject", max_length=255)
    body = BodyField("item:Body")
    to_recipients = MailboxListField("message:ToRecipients")
    cc_recipients = MailboxListField("message:CcRecipients")
    bcc_recipients = MailboxListField("message:BccRecipients")
    is_read_receipt_requested = BooleanField("message:IsReadReceiptRequested")
    is_delivery_receipt_requested = BooleanField("message:IsDeliveryReceiptRequested")
    author = MailboxField("message:From")
    reference_item_id = EWSElementField(xml_name="ReferenceItemId", value_cls=ItemId, is_required=True)
    new_body = BodyField(xml_name="NewBodyContent")


class ReplyToItem(SmartResponse):
    """A reply to the sender of a message.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/replytoitem
    """

    ELEMENT_NAME = "ReplyToItem"


class ReplyAllToItem(SmartResponse):
    """A reply to the sender and all recipients of a message.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/replyalltoitem
    """

    ELEMENT_NAME = "ReplyAllToItem"


class ForwardItem(SmartResponse):
    """A forward of a message (with its attachments) to new recipients.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/forwarditem
    """

    ELEMENT_NAME = "ForwardItem"


class CancelCalendarItem(SmartResponse):
    """The organiser's cancellation of a meeting; ``new_body`` is the text attendees get.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/cancelcalendaritem
    """

    ELEMENT_NAME = "CancelCalendarItem"


class MeetingAnswer(ResponseObject):
    """An attendee's answer to a meeting (``MeetingRegistrationResponseObjectType``)."""

    item_class = CharField("item:ItemClass", shared=True)
    sensitivity = ChoiceField("item:Sensitivity", choices=SENSITIVITY_CHOICES)
    body = BodyField("item:Body")
    sender = MailboxField("message:Sender")
    to_recipients = MailboxListField("message:ToRecipients")
    cc_recipients = MailboxListField("message:CcRecipients")
    bcc_recipients = MailboxListField("message:BccRecipients")
    is_read_receipt_requested = BooleanField("message:IsReadReceiptRequested")
    is_delivery_receipt_requested = BooleanField("message:IsDeliveryReceiptRequested")
    author = MailboxField("message:From")
    reference_item_id = EWSElementField(xml_name="ReferenceItemId", value_cls=ItemId, is_required=True)
    proposed_start = DateTimeField(xml_name="ProposedStart", supported_from=EXCHANGE_2013)
    proposed_end = DateTimeField(xml_name="ProposedEnd", supported_from=EXCHANGE_2013)


class AcceptItem(MeetingAnswer):
    """Accepts a meeting request (or the meeting in the attendee's calendar).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/acceptitem
    """

    ELEMENT_NAME = "AcceptItem"


class TentativelyAcceptItem(MeetingAnswer):
    """Tentatively accepts a meeting request (or the meeting in the attendee's calendar).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/tentativelyacceptitem
    """

    ELEMENT_NAME = "TentativelyAcceptItem"


class DeclineItem(MeetingAnswer):
    """Declines a meeting request (or the meeting in the attendee's calendar).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/declineitem
    """

    ELEMENT_NAME = "DeclineItem"


class PostReplyItem(ResponseObject):
    """A reply posted to a folder in answer to a :class:`~exchangelib.items.PostItem` (a discussion reply).

    Exchange saves it as a new PostItem, by default in the original's folder: "RE: <subject>",
    ``new_body`` above the original. Use ``post.create_post_reply(...)`` or ``post.post_reply(...)``;
    ``save(folder)`` (SaveOnly) is the only disposition a post takes.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/postreplyitem
    """

    ELEMENT_NAME = "PostReplyItem"

    subject = CharField("item:Subject", max_length=255)
    body = BodyField("item:Body")
    reference_item_id = EWSElementField(xml_name="ReferenceItemId", value_cls=ItemId, is_required=True)
    new_body = BodyField(xml_name="NewBodyContent")

    def send(self, save_copy: bool = True, copy_to_folder: Any = None) -> Any:
        raise TypeError("A PostReplyItem is posted to a folder, not sent: use save(), which posts it in the "
                        "original's folder, or save(folder)")


RESPONSE_OBJECT_CLASSES = (ReplyToItem, ReplyAllToItem, ForwardItem, CancelCalendarItem, AcceptItem,
                           TentativelyAcceptItem, DeclineItem, PostReplyItem)

__all__ = ["ResponseObject", "SmartResponse", "ReplyToItem", "ReplyAllToItem", "ForwardItem", "CancelCalendarItem",
           "MeetingAnswer", "AcceptItem", "TentativelyAcceptItem", "DeclineItem", "PostReplyItem",
           "RESPONSE_OBJECT_CLASSES"]
