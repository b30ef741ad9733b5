"""FindItem: search a folder, with restrictions, sorting, paging and calendar views.

Paging uses ``IndexedPageItemView``: ``Offset`` counts from the start of the result set
(BasePoint ``Beginning``) or backwards from its end (BasePoint ``End``). Each response's RootFolder
carries ``TotalItemsInView``, ``IncludesLastItemInRange`` and ``IndexedPagingOffset`` (the offset of
the next page, counted from the same base point). A ``CalendarView`` has no offset: it returns the
items (and, for recurring series, the occurrences) overlapping [StartDate, EndDate), at most
MaxEntriesReturned of them.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/indexedpageitemview
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarview
"""
from __future__ import annotations

import copy
import threading
from typing import Any, Iterator, List, Optional, Sequence, Tuple

from ..registry import ITEM_CLASSES
from ..soap import response_message_error
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService, Page
from .ids import folder_id_xml
from .shapes import ID_ONLY, shape_xml

SHALLOW = "Shallow"
SOFT_DELETED = "SoftDeleted"
ASSOCIATED = "Associated"
ITEM_TRAVERSAL_CHOICES = (SHALLOW, SOFT_DELETED, ASSOCIATED)
BEGINNING = "Beginning"
END = "End"
BASE_POINT_CHOICES = (BEGINNING, END)
_ROOT_FOLDER = f"{{{MNS}}}RootFolder"
_ITEMS = f"{{{TNS}}}Items"

#: Properties FindItem does not return: bodies (accepted in the request, never in the answer),
#: attachments, MIME content and the recipient/attendee/member lists (refused with
#: ErrorInvalidPropertyRequest). Ask GetItem for them.
FIND_ITEM_UNSUPPORTED_URIS = frozenset({
    "item:Body", "item:MimeContent", "item:MimeContentUTF8", "item:Attachments", "item:UniqueBody",
    "item:NormalizedBody", "item:TextBody", "message:ToRecipients", "message:CcRecipients",
    "message:BccRecipients", "message:ReplyTo", "calendar:RequiredAttendees", "calendar:OptionalAttendees",
    "calendar:Resources", "calendar:ConflictingMeetings", "calendar:AdjacentMeetings",
    "calendar:ModifiedOccurrences", "calendar:DeletedOccurrences", "distributionlist:Members",
    "contacts:DirectReports",
})


def sort_order_xml(order_fields: Sequence[Tuple[Any, bool]]) -> Element:
    """``<m:SortOrder>`` from (path, descending) pairs.

    A path is a ready path element or anything with ``field_path_xml()`` (a Field or a FieldPath).
    The first pair is the most significant sort key.
    """
    elem = create_element("m:SortOrder")
    for path, descending in order_fields:
        fo = add_child(elem, "t:FieldOrder", {"Order": "Descending" if descending else "Ascending"})
        # Copy ready elements: appending would move them out of a payload built (maybe in another thread) before
        fo.append(copy.deepcopy(path) if isinstance(path, Element) else path.field_path_xml())
    return elem


#: One response page: the items, and the paging attributes of the response's RootFolder.
FindItemPage = Page


class FindItem(EWSService):
    """Search one folder. ``call()`` yields items page by page; ``page()`` fetches exactly one page.

    After the first page, ``total_count`` holds TotalItemsInView; ``requests_sent`` counts requests.
    Once the first page has told the total, the following pages are requested concurrently over the
    protocol's thread pool (at most ``max_connections`` at once) and still come out in order.
    """

    SERVICE_NAME = "FindItem"

    def __init__(self, *args: Any, page_size: Optional[int] = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if page_size is not None and (not isinstance(page_size, int) or isinstance(page_size, bool)
                                      or page_size < 1):
            raise ValueError(f"page_size must be a positive int, got {page_size!r}")
        self.page_size = page_size or self.PAGE_SIZE
        self.total_count: Optional[int] = None
        self.requests_sent = 0
        self._lock = threading.Lock()  # pages may be fetched from several threads at once

    def payload(self, folder: Any, shape: str, additional_fields: Optional[List[Any]], restriction: Optional[Element],
                order_fields: Optional[Sequence[Tuple[Any, bool]]], query_string: Optional[str], traversal: str,
                offset: int, max_entries: Optional[int], base_point: str = BEGINNING,
                calendar_view: Optional[Tuple[str, str]] = None) -> Element:
        elem = create_element("m:FindItem", {"Traversal": traversal})
        elem.append(shape_xml("m:ItemShape", shape, additional_fields))
        if calendar_view is not None:
            start, end = calendar_view
            attrs = {"StartDate": start, "EndDate": end}
            if max_entries is not None:
                attrs = {"MaxEntriesReturned": str(max_entries), **attrs}
            add_child(elem, "m:CalendarView", attrs)
        else:
            attrs = {"Offset": str(offset), "BasePoint": base_point}
            if max_entries is not None:
                attrs = {"MaxEntriesReturned": str(max_entries), **attrs}
            add_child(elem, "m:IndexedPageItemView", attrs)
        if restriction is not None:
            # A copy: pages are built concurrently from one restriction, and append() would move it
            elem.append(copy.deepcopy(restriction))
        if order_fields:
            elem.append(sort_order_xml(order_fields))
        parents = add_child(elem, "m:ParentFolderIds")
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        parents.append(folder_id_xml(folder, mailbox))
        if query_string:
            add_child(elem, "m:QueryString", text=query_string)
        return elem

    def page(self, folder: Any, shape: str = ID_ONLY, additional_fields: Optional[List[Any]] = None,
             restriction: Optional[Element] = None, order_fields: Optional[Sequence[Tuple[Any, bool]]] = None,
             query_string: Optional[str] = None, traversal: str = SHALLOW, offset: int = 0,
             max_entries: Optional[int] = None, base_point: str = BEGINNING,
             calendar_view: Optional[Tuple[str, str]] = None) -> FindItemPage:
        """Send one FindItem request and return its page.

        With ``base_point=END``, ``offset`` counts back from the end of the result set and the page holds
        the ``max_entries`` items just before that point, in result order.
        """
        if traversal not in ITEM_TRAVERSAL_CHOICES:
            raise ValueError(f"traversal must be one of {ITEM_TRAVERSAL_CHOICES}, got {traversal!r}")
        if base_point not in BASE_POINT_CHOICES:
            raise ValueError(f"base_point must be one of {BASE_POINT_CHOICES}, got {base_point!r}")
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be an int >= 0, got {offset!r}")
        if max_entries is not None and (not isinstance(max_entries, int) or max_entries < 1):
            raise ValueError(f"max_entries must be a positive int, got {max_entries!r}")
        payload = self.payload(folder, shape, additional_fields, restriction, order_fields, query_string,
                               traversal, offset, max_entries, base_point, calendar_view)
        response = self._post(payload)
        with self._lock:
            self.requests_sent += 1
        messages = self._response_messages(response)
        if len(messages) != 1:
            raise ValueError(f"FindItem: expected one ResponseMessage, got {len(messages)}")
        exc = response_message_error(messages[0], self.SERVICE_NAME)
        if exc is not None:
            raise exc
        root = messages[0].find(_ROOT_FOLDER)
        if root is None:
            return FindItemPage([], 0, True, None)
        total = root.get("TotalItemsInView")
        total_count = int(total) if total is not None else None
        with self._lock:
            if self.total_count is None:
                self.total_count = total_count
        next_offset = root.get("IndexedPagingOffset")
        container = root.find(_ITEMS)
        items = []
        for elem in (container if container is not None else ()):
            cls = ITEM_CLASSES.get(elem.tag.rsplit("}", 1)[-1])
            if cls is None:
                raise ValueError(f"Server returned an item kind we don't know: {elem.tag}")
            items.append(cls.from_xml(elem, account=self.account))
        return FindItemPage(items, total_count, root.get("IncludesLastItemInRange", "true") == "true",
                            int(next_offset) if next_offset is not None else None)

    def call(self, folder: Any, shape: str = ID_ONLY, additional_fields: Optional[List[Any]] = None,
             restriction: Optional[Element] = None, order_fields: Optional[Sequence[Tuple[Any, bool]]] = None,
             query_string: Optional[str] = None, traversal: str = SHALLOW, offset: int = 0,
             max_items: Optional[int] = None, base_point: str = BEGINNING,
             calendar_view: Optional[Tuple[str, str]] = None) -> Iterator[Any]:
        """Yield matching items from ``offset`` on, page by page, until ``max_items`` or the last item.

        Pages are fetched as the caller consumes them, a few ahead and concurrently (see :func:`paged`);
        no page beyond ``max_items`` is requested. With ``calendar_view`` one request is sent (a
        CalendarView cannot be paged). With ``base_point=END`` pages walk backwards from the end, one by
        one, so items come page by page from the end (each page in result order).
        """
        if max_items is not None and max_items <= 0:
            return
        if calendar_view is not None:
            yield from self.page(folder, shape, additional_fields, restriction, order_fields, query_string,
                                 traversal, 0, max_items, calendar_view=calendar_view).items
            return
        if base_point == BEGINNING:
            def fetch(off: int, want: int) -> Page:
                return self.page(folder, shape, additional_fields, restriction, order_fields, query_string,
                                 traversal, off, want)

            for items in self.paged(fetch, offset, max_items):
                yield from items
            return
        returned = 0
        while True:
            want = self.page_size if max_items is None else min(self.page_size, max_items - returned)
            p = self.page(folder, shape, additional_fields, restriction, order_fields, query_string, traversal,
                          offset, want, base_point)
            returned += len(p.items)
            yield from p.items
            if p.includes_last or not p.items or (max_items is not None and returned >= max_items):
                return
            offset = p.next_offset if p.next_offset is not None else offset + len(p.items)


    def count(self, folder: Any, restriction: Optional[Element] = None, query_string: Optional[str] = None,
              traversal: str = SHALLOW) -> int:
        """The number of matching items, from TotalItemsInView of one IdOnly request for a single item."""
        p = self.page(folder, ID_ONLY, None, restriction, None, query_string, traversal, 0, 1)
        return p.total_count if p.total_count is not None else len(p.items)
