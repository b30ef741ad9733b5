"""UpdateFolder: change fields of existing folders (SetFolderField / DeleteFolderField).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updatefolder-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Sequence, Tuple

from ..xml import Element, add_child, create_element
from .common import EWSService, Result
from .create_folder import folders_in_message
from .ids import folder_id_xml


def folder_change_xml(folder: Any, field_names: Sequence[str], version: Any, mailbox: Any = None) -> Element:
    """One ``t:FolderChange``: SetFolderField for set values, DeleteFolderField for cleared ones."""
    if isinstance(field_names, str):
        raise TypeError(f"Field names for {type(folder).__name__} must be a list, not the str {field_names!r}")
    names = list(dict.fromkeys(field_names))
    if not names:
        raise ValueError(f"No fields to update on {type(folder).__name__}")
    change = create_element("t:FolderChange")
    change.append(folder_id_xml(folder, mailbox))
    updates = add_child(change, "t:Updates")
    for u in folder.update_xml(names, version):
        updates.append(u)
    return change


class UpdateFolder(EWSService):
    """Updates (folder, field names) pairs; each yields the folder's new id/change key holder."""

    SERVICE_NAME = "UpdateFolder"

    def call(self, folders: Iterable[Tuple[Any, Sequence[str]]]) -> Iterator[Result]:
        """``folders`` are (folder, field names) pairs. Yields a folder object with the new change key per
        input, or the exception for it."""
        version = self.version
        mailbox = self.account.primary_smtp_address if self.account is not None else None

        def prepare(pair: Tuple[Any, Sequence[str]]) -> Element:
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise TypeError(f"UpdateFolder expects (folder, field names) pairs, got {pair!r}")
            folder, names = pair
            return folder_change_xml(folder, names, version, mailbox)

        def payload(chunk: List[Element]) -> Element:
            elem = create_element("m:UpdateFolder")
            changes = add_child(elem, "m:FolderChanges")
            for change in chunk:
                changes.append(change)
            return elem

        return self.chunked(folders, payload, prepare=prepare)

    def parse_message(self, msg: Element) -> List[Any]:
        return folders_in_message(msg, self.account)
