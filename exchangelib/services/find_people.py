"""FindPeople: search a contacts folder (or the directory) for personas, page by page.

Its ``page()`` and ``count()`` have FindItem's signatures, so :class:`~exchangelib.people.PeopleQuerySet`
pages, slices and counts with the same code as item searches.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findpeople-operation
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

from ..properties.persona import Persona
from ..soap import response_message_error
from ..version import EXCHANGE_2013
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService
from .find_item import BASE_POINT_CHOICES, BEGINNING, FindItemPage, sort_order_xml
from .ids import folder_id_xml
from .shapes import ID_ONLY

_M = f"{{{MNS}}}"
_PERSONA = f"{{{TNS}}}Persona"


class FindPeople(EWSService):
    SERVICE_NAME = "FindPeople"
    supported_from = EXCHANGE_2013

    def __init__(self, *args: Any, page_size: Optional[int] = None, base_shape: Optional[str] = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        #: When set, the BaseShape of every request, whatever page() is asked for (PeopleQuerySet uses Default)
        self.base_shape = base_shape
        if page_size is not None and (not isinstance(page_size, int) or isinstance(page_size, bool)
                                      or page_size < 1):
            raise ValueError(f"page_size must be a positive int, got {page_size!r}")
        self.page_size = page_size or self.PAGE_SIZE

    def payload(self, folder: Any, shape: str, additional_fields: Optional[List[Any]], restriction: Optional[Element],
                order_fields: Optional[Sequence[Tuple[Any, bool]]], query_string: Optional[str], offset: int,
                max_entries: Optional[int], base_point: str) -> Element:
        elem = create_element("m:FindPeople")
        shape_el = add_child(elem, "m:PersonaShape")
        add_child(shape_el, "t:BaseShape", text=shape)
        if additional_fields:
            extra = add_child(shape_el, "t:AdditionalProperties")
            for f in additional_fields:
                extra.append(f.field_path_xml())
        attrs = {"Offset": str(offset), "BasePoint": base_point}
        if max_entries is not None:
            attrs = {"MaxEntriesReturned": str(max_entries), **attrs}
        add_child(elem, "m:IndexedPageItemView", attrs)
        if restriction is not None:
            elem.append(restriction)
        if order_fields:
            elem.append(sort_order_xml(order_fields))
        parent = add_child(elem, "m:ParentFolderId")
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        parent.append(folder_id_xml(folder, mailbox))
        if query_string:
            add_child(elem, "m:QueryString", text=query_string)
        return elem


    def page(self, folder: Any, shape: str = ID_ONLY, additional_fields: Optional[List[Any]] = None,
             restriction: Optional[Element] = None, order_fields: Optional[Sequence[Tuple[Any, bool]]] = None,
             query_string: Optional[str] = None, traversal: Optional[str] = None, offset: int = 0,
             max_entries: Optional[int] = None, base_point: str = BEGINNING, **_: Any) -> FindItemPage:
        """One FindPeople request (``traversal`` is accepted for FindItem's signature and ignored)."""
        self.check_supported()
        if base_point not in BASE_POINT_CHOICES:
            raise ValueError(f"base_point must be one of {BASE_POINT_CHOICES}, got {base_point!r}")
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be an int >= 0, got {offset!r}")
        response = self._post(self.payload(folder, self.base_shape or shape, additional_fields, restriction, order_fields,
                                           query_string, offset, max_entries, base_point))
        exc = response_message_error(response, self.SERVICE_NAME)
        if exc is not None:
            raise exc
        people = response.find(f"{_M}People")
        items = [Persona.from_xml(p, account=self.account) for p in (people if people is not None else ())
                 if p.tag == _PERSONA]
        total_text = response.findtext(f"{_M}TotalNumberOfPeopleInView")
        total = int(total_text) if total_text else None
        first_text = response.findtext(f"{_M}FirstLoadedRowIndex")
        first = int(first_text) if first_text else offset
        if base_point == BEGINNING:
            includes_last = total is None or first + len(items) >= total
            next_offset: Optional[int] = first + len(items)
        else:
            includes_last = first == 0
            next_offset = offset + len(items)
        return FindItemPage(items, total, includes_last, next_offset)

    def count(self, folder: Any, restriction: Optional[Element] = None, query_string: Optional[str] = None,
              **_: Any) -> int:
        p = self.page(folder, ID_ONLY, None, restriction, None, query_string, None, 0, 1)
        return p.total_count if p.total_count is not None else len(p.items)
