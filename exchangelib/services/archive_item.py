"""ArchiveItem: move items from the primary mailbox to the archive mailbox (Exchange 2013 and later).

The items land in the archive folder that mirrors the folder path named by ``ArchiveSourceFolderId``
(a folder of the archive itself is used as it is). A mailbox without an archive answers
``ErrorArchiveMailboxNotEnabled``.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/archiveitem-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..version import EXCHANGE_2013
from ..xml import Element, add_child, create_element
from .common import EWSService, Result, to_id_pair
from .get_item import parse_items_container
from .ids import folder_id_xml, item_ids_xml


class ArchiveItem(EWSService):
    """``call(ids, to_folder)`` yields, per input, an item holding the archived copy's id (or None), or the
    exception for that input."""

    SERVICE_NAME = "ArchiveItem"
    supported_from = EXCHANGE_2013

    def call(self, ids: Iterable[Any], to_folder: Any) -> Iterator[Result]:
        self.check_supported()
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        folder_id_xml(to_folder, mailbox)  # a folder without an id fails here, before anything is sent

        def payload(chunk: List[Any]) -> Element:
            elem = create_element("m:ArchiveItem")
            add_child(elem, "m:ArchiveSourceFolderId").append(folder_id_xml(to_folder, mailbox))
            elem.append(item_ids_xml("m:ItemIds", chunk))
            return elem

        return self.chunked(ids, payload, prepare=to_id_pair)

    def parse_message(self, msg: Element) -> List[Any]:
        items = parse_items_container(msg, self.account)
        return items[:1] if items else [None]
