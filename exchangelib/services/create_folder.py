"""CreateFolder: create folders under one parent folder.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createfolder-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..xml import MNS, Element, add_child, create_element
from .common import EWSService, Result
from .folders import parse_folder
from .ids import folder_id_xml

_FOLDERS_M = f"{{{MNS}}}Folders"


def folders_in_message(msg: Element, account: Any) -> List[Any]:
    """The folder a Create/Update/Move/CopyFolder ResponseMessage carries (its ``m:Folders`` child).

    Returns ``[folder]``, or ``[None]`` when the server sent no folder element.
    """
    container = msg.find(_FOLDERS_M)
    if container is None or not len(container):
        return [None]
    return [parse_folder(container[0], account)]


class CreateFolder(EWSService):
    """Creates folders (``Folder``, ``CalendarFolder``, ...) with their set, writable fields."""

    SERVICE_NAME = "CreateFolder"
    IDEMPOTENT = False

    def call(self, parent: Any, folders: Iterable[Any]) -> Iterator[Result]:
        """Yields, per folder, a folder object carrying the new id and change key, or the exception.

        ``parent`` is a folder with an id, or a well-known folder class instance (``Inbox()``).
        """
        version = self.version
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        folder_id_xml(parent, mailbox)  # a parent without an id fails here, before anything is sent

        def prepare(folder: Any) -> Element:
            if not hasattr(folder, "to_xml") or not hasattr(folder, "DISTINGUISHED_FOLDER_ID"):
                raise TypeError(f"CreateFolder expects folder objects, got {type(folder).__name__}")
            folder.clean(version)
            return folder.to_xml(version)

        def payload(chunk: List[Element]) -> Element:
            elem = create_element("m:CreateFolder")
            add_child(elem, "m:ParentFolderId").append(folder_id_xml(parent, mailbox))
            container = add_child(elem, "m:Folders")
            for folder_xml in chunk:
                container.append(folder_xml)
            return elem

        return self.chunked(folders, payload, prepare=prepare)

    def parse_message(self, msg: Element) -> List[Any]:
        return folders_in_message(msg, self.account)
