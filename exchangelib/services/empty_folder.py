"""EmptyFolder: delete every item in folders, optionally their subfolders too.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/emptyfolder-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..xml import Element, add_child, create_element
from .common import EWSService, Result
from .delete_item import DELETE_TYPE_CHOICES, HARD_DELETE
from .ids import folder_id_xml


class EmptyFolder(EWSService):
    """Empties folders. Exchange refuses to empty some (the root, search folders): ``ErrorCannotEmptyFolder``."""

    SERVICE_NAME = "EmptyFolder"

    def call(self, folders: Iterable[Any], delete_type: str = HARD_DELETE,
             delete_sub_folders: bool = False) -> Iterator[Result]:
        """Yields True for each emptied folder, or the exception for it."""
        if delete_type not in DELETE_TYPE_CHOICES:
            raise ValueError(f"delete_type must be one of {DELETE_TYPE_CHOICES}, got {delete_type!r}")
        if not isinstance(delete_sub_folders, bool):
            raise TypeError(f"delete_sub_folders must be a bool, got {delete_sub_folders!r}")
        mailbox = self.account.primary_smtp_address if self.account is not None else None

        def payload(chunk: List[Element]) -> Element:
            elem = create_element("m:EmptyFolder", {"DeleteType": delete_type,
                                                    "DeleteSubFolders": "true" if delete_sub_folders else "false"})
            ids = add_child(elem, "m:FolderIds")
            for f in chunk:
                ids.append(f)
            return elem

        return self.chunked(folders, payload, prepare=lambda f: folder_id_xml(f, mailbox))

    def parse_message(self, msg: Element) -> List[Any]:
        return [True]
