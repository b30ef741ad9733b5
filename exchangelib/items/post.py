"""PostItem: a post in a public or mail-enabled folder (``PostItemType``)."""
from __future__ import annotations

from ..fields import Base64Field, BooleanField, CharField, DateTimeField, TextField
from ..properties import MailboxField
from .base import Item


class PostItem(Item):
    """A post item (a message posted to a folder rather than sent).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/postitem
    """

    ELEMENT_NAME = "PostItem"
    CONTAINER_CLASS = "IPF.Note"

    conversation_index = Base64Field("message:ConversationIndex", is_read_only=True)
    conversation_topic = CharField("message:ConversationTopic", is_read_only=True)
    author = MailboxField("message:From", is_read_only_after_send=True)
    message_id = CharField("message:InternetMessageId", is_read_only_after_send=True)
    is_read = BooleanField("message:IsRead")
    posted_time = DateTimeField("postitem:PostedTime", is_read_only=True)
    references = TextField("message:References")
    sender = MailboxField("message:Sender", is_read_only_after_send=True)


__all__ = ["PostItem"]
