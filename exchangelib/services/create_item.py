"""CreateItem: save new items, and send messages and meeting invitations.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional

from ..xml import Element, add_child, create_element
from .common import EWSService, Result
from .get_item import parse_items_container
from .ids import folder_id_xml

SAVE_ONLY = "SaveOnly"
SEND_ONLY = "SendOnly"
SEND_AND_SAVE_COPY = "SendAndSaveCopy"
MESSAGE_DISPOSITION_CHOICES = (SAVE_ONLY, SEND_ONLY, SEND_AND_SAVE_COPY)
SEND_MEETING_INVITATIONS_CHOICES = ("SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy")


class CreateItem(EWSService):
    SERVICE_NAME = "CreateItem"

    def call(self, items: Iterable[Any], folder: Any = None, message_disposition: Optional[str] = SAVE_ONLY,
             send_meeting_invitations: Optional[str] = "SendToNone") -> Iterator[Result]:
        """Yields, per item, a model instance carrying the new id/changekey (True for SendOnly), or the exception."""
        if message_disposition is not None and message_disposition not in MESSAGE_DISPOSITION_CHOICES:
            raise ValueError(f"message_disposition must be one of {MESSAGE_DISPOSITION_CHOICES}, "
                             f"got {message_disposition!r}")
        if send_meeting_invitations is not None and send_meeting_invitations not in SEND_MEETING_INVITATIONS_CHOICES:
            raise ValueError(f"send_meeting_invitations must be one of {SEND_MEETING_INVITATIONS_CHOICES}, "
                             f"got {send_meeting_invitations!r}")
        version = self.version
        mailbox = self.account.primary_smtp_address if self.account is not None else None

        def payload(chunk: List[Element]) -> Element:
            attrs = {}
            if message_disposition:
                attrs["MessageDisposition"] = message_disposition
            if send_meeting_invitations:
                attrs["SendMeetingInvitations"] = send_meeting_invitations
            elem = create_element("m:CreateItem", attrs)
            if folder is not None:
                saved = add_child(elem, "m:SavedItemFolderId")
                saved.append(folder_id_xml(folder, mailbox))
            container = add_child(elem, "m:Items")
            for item_xml in chunk:
                container.append(item_xml)
            return elem

        def prepare(item: Any) -> Element:
            if not hasattr(item, "to_xml"):
                raise TypeError(f"CreateItem expects item objects, got {type(item).__name__}")
            item.clean(version)
            return item.to_xml(version)

        return self.chunked(items, payload, prepare=prepare)

    def parse_message(self, msg: Element) -> List[Any]:
        items = parse_items_container(msg, self.account)
        return items[:1] if items else [True]
