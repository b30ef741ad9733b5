"""MarkAllItemsAsRead: set the read flag of every item in folders (Exchange 2013 and later).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/markallitemsasread-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..version import EXCHANGE_2013
from ..xml import Element, add_child, create_element
from .common import EWSService, Result
from .ids import folder_id_xml


class MarkAllItemsAsRead(EWSService):
    """``call(folders, read_flag=True, suppress_read_receipts=True)`` yields True or the exception per folder."""

    SERVICE_NAME = "MarkAllItemsAsRead"
    supported_from = EXCHANGE_2013

    def call(self, folders: Iterable[Any], read_flag: bool = True,
             suppress_read_receipts: bool = True) -> Iterator[Result]:
        self.check_supported()
        mailbox = self.account.primary_smtp_address if self.account is not None else None

        def payload(chunk: List[Any]) -> Element:
            elem = create_element("m:MarkAllItemsAsRead")
            add_child(elem, "m:ReadFlag", text="true" if read_flag else "false")
            add_child(elem, "m:SuppressReadReceipts", text="true" if suppress_read_receipts else "false")
            ids = add_child(elem, "m:FolderIds")
            for f in chunk:
                ids.append(folder_id_xml(f, mailbox))
            return elem

        return self.chunked(folders, payload)

    def parse_message(self, msg: Element) -> List[Any]:
        return [True]
