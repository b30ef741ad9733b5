"""SendItem: send messages that are already saved (drafts), optionally keeping a copy.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/senditem-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional

from ..xml import Element, add_child, create_element
from ..errors import ErrorItemNotFound, OutcomeUnknownError
from .common import NOT_DONE, EWSService, Result, to_id_pair
from .exactly_once import items_gone
from .ids import folder_id_xml, item_ids_xml


class SendItem(EWSService):
    """Sends saved messages by id. The change key must be the current one (else ``ErrorStaleObject``)."""

    SERVICE_NAME = "SendItem"
    IDEMPOTENT = False  # never sent twice blindly: after a lost answer, only drafts still there are re-sent

    def call(self, ids: Iterable[Any], save_item_to_folder: bool = True,
             saved_item_folder: Optional[Any] = None) -> Iterator[Result]:
        """Yields True per sent message, or the exception for it.

        With ``save_item_to_folder`` a copy is kept in ``saved_item_folder`` (default: Sent Items).
        """
        if not isinstance(save_item_to_folder, bool):
            raise TypeError(f"save_item_to_folder must be a bool, got {save_item_to_folder!r}")
        if saved_item_folder is not None and not save_item_to_folder:
            raise ValueError("saved_item_folder can only be given when save_item_to_folder is True")
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        if saved_item_folder is not None:
            folder_id_xml(saved_item_folder, mailbox)  # fail before sending anything

        def payload(chunk: List[Any]) -> Element:
            elem = create_element("m:SendItem", {"SaveItemToFolder": "true" if save_item_to_folder else "false"})
            elem.append(item_ids_xml("m:ItemIds", chunk))
            if saved_item_folder is not None:
                add_child(elem, "m:SavedItemFolderId").append(folder_id_xml(saved_item_folder, mailbox))
            return elem

        return self.chunked(ids, payload, prepare=to_id_pair)

    def parse_message(self, msg: Element) -> List[Any]:
        return [True]

    def reconcile(self, chunk: List[Any], error: OutcomeUnknownError) -> Optional[List[Any]]:
        # A sent draft leaves its folder (moved to Sent Items with a new id, or deleted): gone means sent.
        # A draft that is still there was not sent, and only those are sent again.
        return [True if gone else NOT_DONE for gone in items_gone(self.account, chunk)]

    def resent_result(self, result: Any) -> Any:
        return True if isinstance(result, ErrorItemNotFound) else result
