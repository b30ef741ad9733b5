"""Conversations: the messages of one thread, found with FindConversation and acted on as a whole.

``account.conversations`` lists the Inbox's conversations (``account.find_conversations(folder)`` any
folder's); ``conversation.items()`` fetches every message of the thread; ``move``, ``copy``, ``delete``,
``categorize``, ``flag`` and ``set_read_state`` act on all of them at once (ApplyConversationAction).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/conversation-ex15websvcsotherref
"""
from __future__ import annotations

from typing import Any, List, Optional

from ..elements import EWSElement
from ..fields import BooleanField, CharField, CharListField, ChoiceField, DateTimeField, EWSElementField, \
    EWSElementListField, IntegerField
from .common import Flag
from .ids import ConversationId, ItemId

FLAG_STATUS = ("NotFlagged", "Flagged", "Complete")
IMPORTANCE = ("Low", "Normal", "High")


class Conversation(EWSElement):
    """A conversation (thread) as FindConversation describes it. ``message_count``/``unread_count`` etc. count
    the conversation's items in the searched folder; the ``global_`` ones count them in the whole mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/conversation-ex15websvcsotherref
    """

    ELEMENT_NAME = "Conversation"
    _EXTRA_ATTRS = ("account", "folder")
    REPR_FIELDS = ("topic", "message_count", "global_message_count", "unread_count")

    conversation_id = EWSElementField(xml_name="ConversationId", value_cls=ConversationId, is_read_only=True)
    topic = CharField(xml_name="ConversationTopic", is_read_only=True)
    unique_recipients = CharListField(xml_name="UniqueRecipients", is_read_only=True)
    global_unique_recipients = CharListField(xml_name="GlobalUniqueRecipients", is_read_only=True)
    unique_unread_senders = CharListField(xml_name="UniqueUnreadSenders", is_read_only=True)
    global_unique_unread_senders = CharListField(xml_name="GlobalUniqueUnreadSenders", is_read_only=True)
    unique_senders = CharListField(xml_name="UniqueSenders", is_read_only=True)
    global_unique_senders = CharListField(xml_name="GlobalUniqueSenders", is_read_only=True)
    last_delivery_time = DateTimeField(xml_name="LastDeliveryTime", is_read_only=True)
    global_last_delivery_time = DateTimeField(xml_name="GlobalLastDeliveryTime", is_read_only=True)
    categories = CharListField(xml_name="Categories", is_read_only=True)
    global_categories = CharListField(xml_name="GlobalCategories", is_read_only=True)
    flag_status = ChoiceField(xml_name="FlagStatus", choices=FLAG_STATUS, is_read_only=True)
    global_flag_status = ChoiceField(xml_name="GlobalFlagStatus", choices=FLAG_STATUS, is_read_only=True)
    has_attachments = BooleanField(xml_name="HasAttachments", is_read_only=True)
    global_has_attachments = BooleanField(xml_name="GlobalHasAttachments", is_read_only=True)
    message_count = IntegerField(xml_name="MessageCount", is_read_only=True)
    global_message_count = IntegerField(xml_name="GlobalMessageCount", is_read_only=True)
    unread_count = IntegerField(xml_name="UnreadCount", is_read_only=True)
    global_unread_count = IntegerField(xml_name="GlobalUnreadCount", is_read_only=True)
    size = IntegerField(xml_name="Size", is_read_only=True)
    global_size = IntegerField(xml_name="GlobalSize", is_read_only=True)
    item_classes = CharListField(xml_name="ItemClasses", child_name="ItemClass", is_read_only=True)
    global_item_classes = CharListField(xml_name="GlobalItemClasses", child_name="ItemClass", is_read_only=True)
    importance = ChoiceField(xml_name="Importance", choices=IMPORTANCE, is_read_only=True)
    global_importance = ChoiceField(xml_name="GlobalImportance", choices=IMPORTANCE, is_read_only=True)
    item_ids = EWSElementListField(xml_name="ItemIds", value_cls=ItemId, is_read_only=True)
    global_item_ids = EWSElementListField(xml_name="GlobalItemIds", value_cls=ItemId, is_read_only=True)

    @property
    def id(self) -> Optional[str]:
        cid = self.conversation_id
        return cid.id if cid is not None else None

    def _require_account(self) -> Any:
        account = self.__dict__.get("account")
        if account is None or self.id is None:
            raise ValueError("This Conversation has no account or id; get it from account.conversations")
        return account

    # --- the messages ---------------------------------------------------------------------------------
    def items(self, folders_to_ignore: Optional[List[Any]] = None, max_items: Optional[int] = None) -> List[Any]:
        """Every item of the conversation in the mailbox, oldest first (GetConversationItems).

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getconversationitems-operation
        """
        return self._require_account().conversation_items(self, folders_to_ignore=folders_to_ignore,
                                                           max_items=max_items)

    # --- actions on the whole conversation ----------------------------------------------------------------
    def _act(self, action: str, context_folder: Any = None, **kwargs: Any) -> None:
        account = self._require_account()
        (res,) = account.apply_conversation_actions([dict(action=action, conversation=self,
                                                          context_folder=context_folder, **kwargs)])
        if isinstance(res, Exception):
            raise res

    def move(self, to_folder: Any, context_folder: Any = None) -> None:
        """Move the conversation's items (those in ``context_folder`` only, when given) to ``to_folder``."""
        self._act("Move", context_folder, destination_folder=to_folder)

    def copy(self, to_folder: Any, context_folder: Any = None) -> None:
        """Copy the conversation's items (those in ``context_folder`` only, when given) to ``to_folder``."""
        self._act("Copy", context_folder, destination_folder=to_folder)

    def delete(self, delete_type: str = "MoveToDeletedItems", context_folder: Any = None) -> None:
        """Delete the conversation's items: ``'HardDelete'``, ``'SoftDelete'`` or ``'MoveToDeletedItems'``."""
        self._act("Delete", context_folder, delete_type=delete_type)

    def categorize(self, categories: List[str], context_folder: Any = None) -> None:
        """Set ``categories`` on every item of the conversation (AlwaysCategorize, also applied right away)."""
        self._act("AlwaysCategorize", context_folder, categories=categories, process_right_away=True)

    def flag(self, flag: Flag, context_folder: Any = None) -> None:
        """Set a follow-up flag on every item of the conversation."""
        self._act("Flag", context_folder, flag=flag)

    def set_read_state(self, is_read: bool = True, context_folder: Any = None) -> None:
        """Mark every item of the conversation read (or unread)."""
        self._act("SetReadState", context_folder, is_read=is_read)


__all__ = ["Conversation"]
