"""MoveFolder: move folders (with their items and subfolders) under another folder.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/movefolder-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..xml import Element, add_child, create_element
from .common import EWSService, Result
from .create_folder import folders_in_message
from .ids import folder_id_xml


class MoveFolder(EWSService):
    """Moves folders under ``to_folder``. Well-known folders can't be moved (``ErrorMoveDistinguishedFolder``)."""

    SERVICE_NAME = "MoveFolder"
    IDEMPOTENT = False

    def call(self, folders: Iterable[Any], to_folder: Any) -> Iterator[Result]:
        """Yields, per folder, a folder object with its id and change key after the move, or the exception."""
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        folder_id_xml(to_folder, mailbox)  # a target without an id fails here, before anything is sent

        def payload(chunk: List[Element]) -> Element:
            elem = create_element("m:MoveFolder")
            add_child(elem, "m:ToFolderId").append(folder_id_xml(to_folder, mailbox))
            ids = add_child(elem, "m:FolderIds")
            for f in chunk:
                ids.append(f)
            return elem

        return self.chunked(folders, payload, prepare=lambda f: folder_id_xml(f, mailbox))

    def parse_message(self, msg: Element) -> List[Any]:
        return folders_in_message(msg, self.account)
