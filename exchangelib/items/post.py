"""PostItem: a post in a public or mail-enabled folder (``PostItemType``)."""
from __future__ import annotations

from typing import Any, Optional

from ..fields import Base64Field, BooleanField, CharField, DateTimeField, TextField
from ..properties import ItemId, MailboxField
from .base import Item
from .methods import item_reference
from .response import PostReplyItem


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

    def create_post_reply(self, subject: Optional[str] = None, body: Optional[str] = None) -> PostReplyItem:
        """A :class:`~exchangelib.items.response.PostReplyItem` answering this post, to change and ``save()``.

        Unset values are filled in by Exchange: the subject becomes "RE: <subject>" and ``body`` goes
        above the original post.
        """
        if self.account is None:
            raise ValueError("PostItem has no account: only saved posts can be answered")
        ref = item_reference(self, "PostReplyItem")
        kwargs = {"subject": subject, "new_body": body}
        return PostReplyItem(account=self.account, reference_item_id=ItemId(*ref),
                             **{k: v for k, v in kwargs.items() if v is not None})

    def post_reply(self, subject: Optional[str] = None, body: Optional[str] = None, folder: Any = None) -> Any:
        """Post a reply to this post in ``folder`` (default: this post's folder). Returns the new PostItem.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/postreplyitem
        """
        return self.create_post_reply(subject, body).save(folder)


__all__ = ["PostItem"]
