"""FindConversation, GetConversationItems and ApplyConversationAction (Exchange 2010 SP1 and later;
GetConversationItems 2013 and later).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findconversation-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getconversationitems-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/applyconversationaction-operation
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from ..errors import TransportError
from ..properties.common import Flag
from ..properties.conversation import Conversation
from ..registry import ITEM_CLASSES
from ..soap import response_message_error
from ..version import EXCHANGE_2010_SP1, EXCHANGE_2013
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService
from .ids import folder_id_xml
from .shapes import ALL_PROPERTIES, shape_xml

_M = f"{{{MNS}}}"
_T = f"{{{TNS}}}"

ACTIONS = ("AlwaysCategorize", "AlwaysDelete", "AlwaysMove", "Delete", "Move", "Copy", "SetReadState",
           "SetRetentionPolicy", "Flag")
DELETE_TYPES = ("HardDelete", "SoftDelete", "MoveToDeletedItems")


def _conversation_id(value: Any) -> str:
    cid = getattr(value, "id", value)
    if not isinstance(cid, str) or not cid:
        raise ValueError(f"Expected a Conversation or a conversation id, got {value!r}")
    return cid


class FindConversation(EWSService):
    """``call(folder, query_string=None, max_items=None)`` -> the folder's conversations, newest first."""

    SERVICE_NAME = "FindConversation"
    supported_from = EXCHANGE_2010_SP1

    def call(self, folder: Any, query_string: Optional[str] = None, max_items: Optional[int] = None,
             offset: int = 0) -> List[Conversation]:
        self.check_supported()
        payload = create_element("m:FindConversation")
        if max_items is not None:
            add_child(payload, "m:IndexedPageItemView", {"MaxEntriesReturned": str(max_items), "Offset": str(offset),
                                                         "BasePoint": "Beginning"})
        mailbox = self.account.primary_smtp_address
        add_child(payload, "m:ParentFolderId").append(folder_id_xml(folder, mailbox))
        if query_string:
            if not self.version.supports(EXCHANGE_2013):
                raise NotImplementedError("FindConversation with a query string needs Exchange 2013 or later")
            add_child(payload, "m:QueryString", text=query_string)
        response = self._post(payload)
        exc = response_message_error(response, self.SERVICE_NAME)
        if exc is not None:
            raise exc
        container = response.find(f"{_M}Conversations")
        out = []
        for elem in container if container is not None else ():
            conv = Conversation.from_xml(elem, account=self.account)
            conv.account = self.account
            conv.folder = folder
            out.append(conv)
        return out


class GetConversationItems(EWSService):
    """``call(conversations, folders_to_ignore=None, max_items=None)`` -> per conversation, its items (oldest
    first) or the exception."""

    SERVICE_NAME = "GetConversationItems"
    supported_from = EXCHANGE_2013

    def call(self, conversations: Iterable[Any], folders_to_ignore: Optional[List[Any]] = None,
             max_items: Optional[int] = None, shape: str = ALL_PROPERTIES) -> List[Any]:
        self.check_supported()
        ids = [_conversation_id(c) for c in conversations]
        if not ids:
            return []
        payload = create_element("m:GetConversationItems")
        payload.append(shape_xml("m:ItemShape", shape))
        mailbox = self.account.primary_smtp_address
        if folders_to_ignore:
            container = add_child(payload, "m:FoldersToIgnore")
            for f in folders_to_ignore:
                container.append(folder_id_xml(f, mailbox))
        if max_items is not None:
            add_child(payload, "m:MaxItemsToReturn", text=str(max_items))
        add_child(payload, "m:SortOrder", text="DateOrderAscending")
        convs = add_child(payload, "m:Conversations")
        for cid in ids:
            add_child(add_child(convs, "t:Conversation"), "t:ConversationId", {"Id": cid})
        return self._results(payload, expected=len(ids))

    def parse_message(self, msg: Element) -> List[Any]:
        conv = msg.find(f"{_M}Conversation")
        if conv is None:
            raise TransportError(f"{self.SERVICE_NAME}: a success message without a Conversation")
        items = []
        for node in conv.iter(f"{_T}ConversationNode"):
            container = node.find(f"{_T}Items")
            for elem in container if container is not None else ():
                cls = ITEM_CLASSES.get(elem.tag.rsplit("}", 1)[-1])
                if cls is not None:
                    items.append(cls.from_xml(elem, account=self.account))
        return [items]


class ApplyConversationAction(EWSService):
    """``call([{action, conversation, context_folder, destination_folder, categories, is_read, delete_type, flag,
    process_right_away}, ...])`` -> True or the exception per action."""

    SERVICE_NAME = "ApplyConversationAction"
    supported_from = EXCHANGE_2010_SP1

    def call(self, actions: Iterable[Dict[str, Any]]) -> List[Any]:
        self.check_supported()
        actions = list(actions)
        if not actions:
            return []
        mailbox = self.account.primary_smtp_address
        payload = create_element("m:ApplyConversationAction")
        container = add_child(payload, "m:ConversationActions")
        for a in actions:
            action = a.get("action")
            if action not in ACTIONS:
                raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
            el = add_child(container, "t:ConversationAction")
            add_child(el, "t:Action", text=action)
            add_child(el, "t:ConversationId", {"Id": _conversation_id(a.get("conversation"))})
            if a.get("context_folder") is not None:
                add_child(el, "t:ContextFolderId").append(folder_id_xml(a["context_folder"], mailbox))
            if a.get("process_right_away") is not None:
                add_child(el, "t:ProcessRightAway", text="true" if a["process_right_away"] else "false")
            if action in ("Move", "Copy", "AlwaysMove"):
                if a.get("destination_folder") is None:
                    raise ValueError(f"{action} needs a destination_folder")
                add_child(el, "t:DestinationFolderId").append(folder_id_xml(a["destination_folder"], mailbox))
            if action in ("AlwaysCategorize",):
                cats = add_child(el, "t:Categories")
                for c in a.get("categories") or []:
                    if not isinstance(c, str):
                        raise TypeError(f"categories must be str, got {type(c).__name__}")
                    add_child(cats, "t:String", text=c)
            if action == "SetReadState":
                add_child(el, "t:IsRead", text="true" if a.get("is_read", True) else "false")
            if action == "Delete":
                delete_type = a.get("delete_type") or "MoveToDeletedItems"
                if delete_type not in DELETE_TYPES:
                    raise ValueError(f"delete_type must be one of {DELETE_TYPES}, got {delete_type!r}")
                add_child(el, "t:DeleteType", text=delete_type)
            if action == "Flag":
                flag = a.get("flag")
                if not isinstance(flag, Flag):
                    raise TypeError("The Flag action needs a Flag")
                flag.add_to(el, self.version)
        return self._results(payload, expected=len(actions))

    def parse_message(self, msg: Element) -> List[Any]:
        return [True]


__all__ = ["FindConversation", "GetConversationItems", "ApplyConversationAction", "ACTIONS"]
