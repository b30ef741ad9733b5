"""GetItem: fetch items by id.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getitem-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional

from ..registry import ITEM_CLASSES
from ..xml import MNS, Element, create_element
from .common import EWSService, Result, to_id_pair
from .ids import item_ids_xml
from .shapes import ALL_PROPERTIES, shape_xml

_ITEMS = f"{{{MNS}}}Items"


def parse_items_container(msg: Element, account: Any) -> List[Any]:
    """Items inside a ResponseMessage's m:Items, as model instances."""
    container = msg.find(_ITEMS)
    if container is None:
        return []
    out = []
    for elem in container:
        cls = ITEM_CLASSES.get(elem.tag.rsplit("}", 1)[-1])
        if cls is None:
            raise ValueError(f"Server returned an item kind we don't know: {elem.tag}")
        out.append(cls.from_xml(elem, account=account))
    return out


class GetItem(EWSService):
    SERVICE_NAME = "GetItem"

    def call(self, ids: Iterable[Any], shape: str = ALL_PROPERTIES, additional_fields: Optional[List[Any]] = None,
             body_type: Optional[str] = None) -> Iterator[Result]:
        def payload(chunk: List[Any]) -> Element:
            elem = create_element("m:GetItem")
            elem.append(shape_xml("m:ItemShape", shape, additional_fields, body_type))
            elem.append(item_ids_xml("m:ItemIds", chunk))
            return elem

        return self.chunked(ids, payload, prepare=to_id_pair)

    def parse_message(self, msg: Element) -> List[Any]:
        items = parse_items_container(msg, self.account)
        return items[:1] if items else [None]
