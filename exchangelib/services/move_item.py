"""MoveItem: move items to another folder. Exchange gives a moved item a new id.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/moveitem-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional

from ..xml import Element, add_child, create_element
from ..errors import ErrorItemNotFound, OutcomeUnknownError
from .common import NOT_DONE, EWSService, Result, to_id_pair
from .exactly_once import items_gone
from .get_item import parse_items_container
from .ids import folder_id_xml, item_ids_xml


class MoveItem(EWSService):
    """Moves items (items, ``(id, changekey)`` tuples or id strings) into ``to_folder``."""

    SERVICE_NAME = "MoveItem"
    IDEMPOTENT = False

    def call(self, ids: Iterable[Any], to_folder: Any) -> Iterator[Result]:
        """Yields, per input, an item holding the new id and change key (``None`` when the server
        doesn't return new ids, as Exchange 2007 and 2010 don't), or the exception for that input."""
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        folder_id_xml(to_folder, mailbox)  # a target without an id fails here, before anything is sent

        def payload(chunk: List[Any]) -> Element:
            elem = create_element(f"m:{self.SERVICE_NAME}")
            add_child(elem, "m:ToFolderId").append(folder_id_xml(to_folder, mailbox))
            elem.append(item_ids_xml("m:ItemIds", chunk))
            return elem

        return self.chunked(ids, payload, prepare=to_id_pair)

    def parse_message(self, msg: Element) -> List[Any]:
        items = parse_items_container(msg, self.account)
        return items[:1] if items else [None]

    def reconcile(self, chunk: List[Any], error: OutcomeUnknownError) -> Optional[List[Any]]:
        if self.SERVICE_NAME != "MoveItem":
            return None  # a copy leaves the original in place: nothing tells whether it was made
        # Moved items get a new id, which is lost with the answer: reported as moved, id unknown (None)
        return [None if gone else NOT_DONE for gone in items_gone(self.account, chunk)]

    def resent_result(self, result: Any) -> Any:
        return None if isinstance(result, ErrorItemNotFound) and self.SERVICE_NAME == "MoveItem" else result
