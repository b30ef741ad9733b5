"""MarkAsJunk: mark items as junk (adding their senders to the blocked senders) or not junk, optionally moving
them to Junk Email or back to the Inbox (Exchange 2013 and later).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/markasjunk-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..properties.ids import ItemId
from ..version import EXCHANGE_2013
from ..xml import MNS, TNS, Element, create_element
from .common import EWSService, Result, to_id_pair
from .ids import item_ids_xml

_MOVED = f"{{{MNS}}}MovedItemId"
_T_MOVED = f"{{{TNS}}}MovedItemId"


class MarkAsJunk(EWSService):
    """``call(ids, is_junk=True, move_item=True)`` yields, per input, the moved item's ``(id, changekey)`` (None
    when it was not moved), or the exception for that input."""

    SERVICE_NAME = "MarkAsJunk"
    supported_from = EXCHANGE_2013

    def call(self, ids: Iterable[Any], is_junk: bool = True, move_item: bool = True) -> Iterator[Result]:
        self.check_supported()
        if not isinstance(is_junk, bool) or not isinstance(move_item, bool):
            raise TypeError("is_junk and move_item must be bool")

        def payload(chunk: List[Any]) -> Element:
            elem = create_element("m:MarkAsJunk", {"IsJunk": "true" if is_junk else "false",
                                                   "MoveItem": "true" if move_item else "false"})
            elem.append(item_ids_xml("m:ItemIds", chunk))
            return elem

        return self.chunked(ids, payload, prepare=to_id_pair)

    def parse_message(self, msg: Element) -> List[Any]:
        moved = msg.find(_MOVED)
        if moved is None:
            moved = msg.find(_T_MOVED)
        if moved is None:
            return [None]
        item_id = ItemId.from_xml(moved)
        return [(item_id.id, item_id.changekey)]
