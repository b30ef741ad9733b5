"""SyncFolderHierarchy: the folders created, changed and deleted below a folder since a sync state.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderhierarchy-operation
"""
from __future__ import annotations

import logging
from typing import Any, Iterator, List, Optional, Tuple

from ..errors import MalformedResponseError
from ..properties import FolderId
from ..xml import TNS, Element, add_child, create_element
from .common import EWSService
from .folders import parse_folder
from .ids import folder_id_xml
from .shapes import ID_ONLY, shape_xml
from .sync_folder_items import CREATE, DELETE, UPDATE, read_sync_message

log = logging.getLogger(__name__)

CHANGE_TYPES = (CREATE, UPDATE, DELETE)
_CHANGE_TAGS = {f"{{{TNS}}}Create": CREATE, f"{{{TNS}}}Update": UPDATE, f"{{{TNS}}}Delete": DELETE}
_FOLDER_ID = f"{{{TNS}}}FolderId"


class SyncFolderHierarchy(EWSService):
    """Sync the folder tree below one folder. ``sync_state`` holds the newest state after each page."""

    SERVICE_NAME = "SyncFolderHierarchy"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sync_state: Optional[str] = None
        self.includes_last_folder_in_range: Optional[bool] = None

    def payload(self, folder: Any, shape: str, additional_fields: Optional[List[Any]],
                sync_state: Optional[str]) -> Element:
        elem = create_element("m:SyncFolderHierarchy")
        elem.append(shape_xml("m:FolderShape", shape, additional_fields))
        if folder is not None:
            target = add_child(elem, "m:SyncFolderId")
            mailbox = self.account.primary_smtp_address if self.account is not None else None
            target.append(folder_id_xml(folder, mailbox))
        if sync_state:
            add_child(elem, "m:SyncState", text=sync_state)
        return elem

    def call(self, folder: Any, shape: str = ID_ONLY, additional_fields: Optional[List[Any]] = None,
             sync_state: Optional[str] = None) -> Iterator[Tuple[str, Any]]:
        """Yield ``(change_type, folder)`` (a :class:`FolderId` for deletions) until the last change."""
        if sync_state is not None and not isinstance(sync_state, str):
            raise TypeError(f"sync_state must be a str (a state a previous sync returned), got "
                            f"{type(sync_state).__name__}")
        self.sync_state = sync_state
        while True:
            response = self._post(self.payload(folder, shape, additional_fields, self.sync_state))
            state, last, container = read_sync_message(self, response, "IncludesLastFolderInRange")
            self.includes_last_folder_in_range = last
            for elem in container:
                change_type = _CHANGE_TAGS.get(elem.tag)
                if change_type is None:
                    continue
                if change_type == DELETE:
                    yield DELETE, FolderId.from_xml(_child(elem, _FOLDER_ID))
                else:
                    yield change_type, parse_folder(elem[0], self.account)
            self.sync_state = state
            if last:
                return


def _child(elem: Element, tag: str) -> Element:
    found = elem.find(tag)
    if found is None:
        raise MalformedResponseError(f"{elem.tag} has no {tag}")
    return found
