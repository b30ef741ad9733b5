"""Message: an email message (``MessageType``)."""
from __future__ import annotations

from ..fields import Base64Field, BooleanField, CharField, CharListField, EWSElementField, RawXmlField, TextField
from ..properties import MailboxField, MailboxListField, ReminderMessageData
from ..version import EXCHANGE_2013, EXCHANGE_2016
from .base import Item
from .admin_methods import MessageAdminMethods
from .kind_methods import MessageMethods


class Message(MessageMethods, MessageAdminMethods, Item):
    """An email message.

    ``Message(account=a, subject='Hi', body='Hello', to_recipients=['anne@example.com'])``.
    Recipient fields accept :class:`~exchangelib.properties.Mailbox` objects or plain address strings.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/message-ex15websvcsotherref
    """

    ELEMENT_NAME = "Message"
    CONTAINER_CLASS = "IPF.Note"
    REPR_FIELDS = ("_id", "subject", "author", "to_recipients", "datetime_received")

    sender = MailboxField("message:Sender", is_read_only_after_send=True)
    to_recipients = MailboxListField("message:ToRecipients", is_read_only_after_send=True)
    cc_recipients = MailboxListField("message:CcRecipients", is_read_only_after_send=True)
    bcc_recipients = MailboxListField("message:BccRecipients", is_read_only_after_send=True)
    is_read_receipt_requested = BooleanField("message:IsReadReceiptRequested", is_read_only_after_send=True)
    is_delivery_receipt_requested = BooleanField("message:IsDeliveryReceiptRequested", is_read_only_after_send=True)
    conversation_index = Base64Field("message:ConversationIndex", is_read_only=True)
    conversation_topic = CharField("message:ConversationTopic", is_read_only=True)
    author = MailboxField("message:From", is_read_only_after_send=True)
    message_id = CharField("message:InternetMessageId", is_read_only_after_send=True)
    is_read = BooleanField("message:IsRead")
    is_response_requested = BooleanField("message:IsResponseRequested")
    references = TextField("message:References")
    reply_to = MailboxListField("message:ReplyTo", is_read_only_after_send=True)
    received_by = MailboxField("message:ReceivedBy", is_read_only=True)
    received_representing = MailboxField("message:ReceivedRepresenting", is_read_only=True)
    approval_request_data = RawXmlField("message:ApprovalRequestData", supported_from=EXCHANGE_2013)
    voting_information = RawXmlField("message:VotingInformation", supported_from=EXCHANGE_2013)
    reminder_message_data = EWSElementField("message:ReminderMessageData", value_cls=ReminderMessageData,
                                            is_read_only=True, supported_from=EXCHANGE_2013)
    message_safety = RawXmlField("message:MessageSafety", supported_from=EXCHANGE_2016)
    sender_smtp_address = CharField(xml_name="SenderSMTPAddress", is_read_only=True, is_searchable=False,
                                    supported_from=EXCHANGE_2016)
    mailbox_guids = CharListField(xml_name="MailboxGuids", child_name="MailboxGuid", is_read_only=True,
                                  is_searchable=False, supported_from=EXCHANGE_2016)
    published_calendar_item_ics = TextField("message:PublishedCalendarItemIcs", is_read_only=True,
                                            supported_from=EXCHANGE_2013)
    published_calendar_item_name = CharField("message:PublishedCalendarItemName", is_read_only=True,
                                             supported_from=EXCHANGE_2013)


__all__ = ["Message"]
