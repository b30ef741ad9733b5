"""DeleteFolder: delete folders (and everything in them), hard, soft or to Deleted Items.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deletefolder-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..xml import Element, add_child, create_element
from .common import EWSService, Result
from .delete_item import DELETE_TYPE_CHOICES, HARD_DELETE
from .ids import folder_id_xml


class DeleteFolder(EWSService):
    """Deletes folders with their items and subfolders. Well-known folders can't be deleted
    (``ErrorDeleteDistinguishedFolder``)."""

    SERVICE_NAME = "DeleteFolder"

    def call(self, folders: Iterable[Any], delete_type: str = HARD_DELETE) -> Iterator[Result]:
        """Yields True for each deleted folder, or the exception for it."""
        if delete_type not in DELETE_TYPE_CHOICES:
            raise ValueError(f"delete_type must be one of {DELETE_TYPE_CHOICES}, got {delete_type!r}")
        mailbox = self.account.primary_smtp_address if self.account is not None else None

        def payload(chunk: List[Element]) -> Element:
            elem = create_element("m:DeleteFolder", {"DeleteType": delete_type})
            ids = add_child(elem, "m:FolderIds")
            for f in chunk:
                ids.append(f)
            return elem

        return self.chunked(folders, payload, prepare=lambda f: folder_id_xml(f, mailbox))

    def parse_message(self, msg: Element) -> List[Any]:
        return [True]
