"""GetFolder and FindFolder: read folders by id and list a folder's subfolders.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getfolder-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findfolder-operation
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Iterator, List, Optional

from ..registry import FOLDER_CLASSES
from ..soap import response_message_error
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService, Page, Result
from .ids import folder_id_xml, folder_ids_xml
from .shapes import ALL_PROPERTIES, shape_xml

_FOLDERS_M = f"{{{MNS}}}Folders"
_FOLDERS_T = f"{{{TNS}}}Folders"
_ROOT_FOLDER = f"{{{MNS}}}RootFolder"
FOLDER_TRAVERSAL_CHOICES = ("Shallow", "Deep", "SoftDeleted")


def parse_folder(elem: Element, account: Any, requested: Any = None) -> Any:
    """A folder model from a t:Folder/t:CalendarFolder/... element, as specific as the request allows."""
    cls = FOLDER_CLASSES.get(elem.tag.rsplit("}", 1)[-1])
    if cls is None:
        raise ValueError(f"Server returned a folder kind we don't know: {elem.tag}")
    if requested is not None and isinstance(requested, cls) and type(requested) is not cls:
        cls = type(requested)
    folder = cls.from_xml(elem, account=account)
    # Carry over a parent the caller set explicitly (reading ``.parent`` would load the folder tree).
    explicit_parent = requested.__dict__.get("_parent") if requested is not None else None
    if explicit_parent is not None:
        folder.parent = explicit_parent
    return folder


class GetFolder(EWSService):
    SERVICE_NAME = "GetFolder"

    def call(self, folders: Iterable[Any], shape: str = ALL_PROPERTIES,
             additional_fields: Optional[List[Any]] = None) -> Iterator[Result]:
        """Yields one folder object per input, or the exception.

        The object is of the input's class when that is a more specific kind of what the server reports
        (``Calendar`` for a ``CalendarFolder``), else of the reported kind.
        """
        folders = list(folders)
        mailbox = self.account.primary_smtp_address if self.account is not None else None

        def payload(chunk: List[Element]) -> Element:
            elem = create_element("m:GetFolder")
            elem.append(shape_xml("m:FolderShape", shape, additional_fields))
            ids = add_child(elem, "m:FolderIds")
            for f in chunk:
                ids.append(f)
            return elem

        results = self.chunked(folders, payload, prepare=lambda f: folder_id_xml(f, mailbox))
        for requested, res in zip(folders, results):
            if isinstance(res, Exception) or res is None:
                yield res
                continue
            yield parse_folder(res, self.account, requested=requested)

    def parse_message(self, msg: Element) -> List[Any]:
        container = msg.find(_FOLDERS_M)
        if container is None or not len(container):
            return [None]
        return [container[0]]


class FindFolder(EWSService):
    """Lists subfolders of one parent, paging with IndexedPageFolderView.

    After the first page has told the total, the following pages are requested concurrently over the
    protocol's thread pool (at most ``max_connections`` at once); folders still come out in order.
    """

    SERVICE_NAME = "FindFolder"

    def call(self, parent: Any, shape: str = ALL_PROPERTIES, additional_fields: Optional[List[Any]] = None,
             traversal: str = "Shallow", restriction: Optional[Element] = None,
             page_size: Optional[int] = None) -> Iterator[Any]:
        if traversal not in FOLDER_TRAVERSAL_CHOICES:
            raise ValueError(f"traversal must be one of {FOLDER_TRAVERSAL_CHOICES}, got {traversal!r}")
        page_size = page_size or self.PAGE_SIZE

        def fetch(offset: int, want: int) -> Page:
            return self.page(parent, shape, additional_fields, traversal, restriction, offset, want)

        for folders in self.paged(fetch, 0, page_size=page_size):
            yield from folders

    def page(self, parent: Any, shape: str = ALL_PROPERTIES, additional_fields: Optional[List[Any]] = None,
             traversal: str = "Shallow", restriction: Optional[Element] = None, offset: int = 0,
             max_entries: Optional[int] = None) -> Page:
        """Send one FindFolder request for ``max_entries`` folders (default: PAGE_SIZE) from ``offset``."""
        if max_entries is None:
            max_entries = self.PAGE_SIZE
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        elem = create_element("m:FindFolder", {"Traversal": traversal})
        elem.append(shape_xml("m:FolderShape", shape, additional_fields))
        add_child(elem, "m:IndexedPageFolderView", {"MaxEntriesReturned": str(max_entries), "Offset": str(offset),
                                                     "BasePoint": "Beginning"})
        if restriction is not None:
            elem.append(copy.deepcopy(restriction))  # pages are built concurrently; append() would move it
        elem.append(folder_ids_xml("m:ParentFolderIds", [parent], mailbox))
        messages = self._response_messages(self._post(elem))
        exc = response_message_error(messages[0], self.SERVICE_NAME)
        if exc is not None:
            raise exc
        root = messages[0].find(_ROOT_FOLDER)
        if root is None:
            return Page([], 0, True, None)
        container = root.find(_FOLDERS_T)
        folders = [parse_folder(f, self.account) for f in (container if container is not None else ())]
        total = root.get("TotalItemsInView")
        nxt = root.get("IndexedPagingOffset")
        return Page(folders, int(total) if total is not None else None,
                    root.get("IncludesLastItemInRange", "true") == "true", int(nxt) if nxt is not None else None)
