"""FindItem: search a folder, with restrictions, sorting, paging and calendar views.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation
"""
from __future__ import annotations

from typing import Any, Iterator, List, Optional, Sequence, Tuple

from ..registry import ITEM_CLASSES
from ..soap import response_message_error
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService
from .ids import folder_id_xml
from .shapes import ID_ONLY, shape_xml

SHALLOW = "Shallow"
SOFT_DELETED = "SoftDeleted"
ASSOCIATED = "Associated"
ITEM_TRAVERSAL_CHOICES = (SHALLOW, SOFT_DELETED, ASSOCIATED)
_ROOT_FOLDER = f"{{{MNS}}}RootFolder"
_ITEMS = f"{{{TNS}}}Items"


def sort_order_xml(order_fields: Sequence[Tuple[Any, bool]]) -> Element:
    """``<m:SortOrder>`` from (field path element or Field, descending) pairs."""
    elem = create_element("m:SortOrder")
    for path, descending in order_fields:
        fo = add_child(elem, "t:FieldOrder", {"Order": "Descending" if descending else "Ascending"})
        fo.append(path if isinstance(path, Element) else path.field_path_xml())
    return elem


class FindItem(EWSService):
    """Yields items page by page. After the first page, ``total_count`` holds TotalItemsInView."""

    SERVICE_NAME = "FindItem"
    PAGE_SIZE = 100

    def __init__(self, *args: Any, page_size: Optional[int] = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if page_size is not None and (not isinstance(page_size, int) or page_size < 1):
            raise ValueError(f"page_size must be a positive int, got {page_size!r}")
        self.page_size = page_size or self.PAGE_SIZE
        self.total_count: Optional[int] = None
        self.requests_sent = 0

    def payload(self, folder: Any, shape: str, additional_fields: Optional[List[Any]], restriction: Optional[Element],
                order_fields: Optional[Sequence[Tuple[Any, bool]]], query_string: Optional[str], traversal: str,
                offset: int, max_entries: int, base_point: str = "Beginning",
                calendar_view: Optional[Tuple[str, str]] = None) -> Element:
        elem = create_element("m:FindItem", {"Traversal": traversal})
        elem.append(shape_xml("m:ItemShape", shape, additional_fields))
        if calendar_view is not None:
            start, end = calendar_view
            add_child(elem, "m:CalendarView", {"MaxEntriesReturned": str(max_entries), "StartDate": start,
                                                "EndDate": end})
        else:
            add_child(elem, "m:IndexedPageItemView", {"MaxEntriesReturned": str(max_entries), "Offset": str(offset),
                                                       "BasePoint": base_point})
        if restriction is not None:
            elem.append(restriction)
        if order_fields:
            elem.append(sort_order_xml(order_fields))
        parents = add_child(elem, "m:ParentFolderIds")
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        parents.append(folder_id_xml(folder, mailbox))
        if query_string:
            add_child(elem, "m:QueryString", text=query_string)
        return elem

    def call(self, folder: Any, shape: str = ID_ONLY, additional_fields: Optional[List[Any]] = None,
             restriction: Optional[Element] = None, order_fields: Optional[Sequence[Tuple[Any, bool]]] = None,
             query_string: Optional[str] = None, traversal: str = SHALLOW, offset: int = 0,
             max_items: Optional[int] = None, base_point: str = "Beginning",
             calendar_view: Optional[Tuple[str, str]] = None) -> Iterator[Any]:
        if traversal not in ITEM_TRAVERSAL_CHOICES:
            raise ValueError(f"traversal must be one of {ITEM_TRAVERSAL_CHOICES}, got {traversal!r}")
        if offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset!r}")
        returned = 0
        while True:
            want = self.page_size if max_items is None else min(self.page_size, max_items - returned)
            if want <= 0:
                return
            if calendar_view is not None:
                want = max_items or 1000000
            payload = self.payload(folder, shape, additional_fields, restriction, order_fields, query_string,
                                   traversal, offset, want, base_point, calendar_view)
            response = self._post(payload)
            self.requests_sent += 1
            messages = self._response_messages(response)
            if len(messages) != 1:
                raise ValueError(f"FindItem: expected one ResponseMessage, got {len(messages)}")
            exc = response_message_error(messages[0], self.SERVICE_NAME)
            if exc is not None:
                raise exc
            root = messages[0].find(_ROOT_FOLDER)
            if root is None:
                return
            if self.total_count is None and root.get("TotalItemsInView") is not None:
                self.total_count = int(root.get("TotalItemsInView"))
            items = root.find(_ITEMS)
            n = 0
            for elem in (items if items is not None else ()):
                cls = ITEM_CLASSES.get(elem.tag.rsplit("}", 1)[-1])
                if cls is None:
                    raise ValueError(f"Server returned an item kind we don't know: {elem.tag}")
                n += 1
                returned += 1
                yield cls.from_xml(elem, account=self.account)
            if calendar_view is not None or root.get("IncludesLastItemInRange", "true") == "true" or n == 0:
                return
            next_offset = root.get("IndexedPagingOffset")
            offset = int(next_offset) if next_offset is not None else offset + n
