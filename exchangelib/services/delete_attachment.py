"""DeleteAttachment: remove attachments from items by attachment id.

The response names the item each attachment belonged to with its new change key.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteattachment-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..properties.ids import AttachmentId, RootItemId
from ..xml import MNS, Element, add_child, create_element
from .common import EWSService, Result

_ROOT_ITEM_ID = f"{{{MNS}}}RootItemId"


def attachment_id_text(value: Any) -> str:
    """The id string of an attachment, an AttachmentId or a plain id string."""
    if isinstance(value, str):
        if not value:
            raise ValueError("Empty attachment id")
        return value
    if isinstance(value, AttachmentId):
        return value.id
    aid = getattr(value, "attachment_id", None)
    if isinstance(aid, AttachmentId) and aid.id:
        return aid.id
    if hasattr(value, "attachment_id"):
        raise ValueError(f"{type(value).__name__} {getattr(value, 'name', '')!r} has no attachment id: it was "
                         f"never saved on the server")
    raise TypeError(f"Expected an attachment, an AttachmentId or an id string, got {type(value).__name__}")


def attachment_ids_xml(ids: Iterable[str]) -> Element:
    container = create_element("m:AttachmentIds")
    for i in ids:
        add_child(container, "t:AttachmentId", {"Id": i})
    return container


class DeleteAttachment(EWSService):
    """``DeleteAttachment(account=...).call(attachments)`` yields, per attachment, the
    :class:`~exchangelib.properties.ids.RootItemId` (id and new change key of the item it belonged to), or
    the exception."""

    SERVICE_NAME = "DeleteAttachment"

    def call(self, attachments: Iterable[Any]) -> Iterator[Result]:
        def payload(chunk: List[str]) -> Element:
            elem = create_element("m:DeleteAttachment")
            elem.append(attachment_ids_xml(chunk))
            return elem

        return self.chunked(attachments, payload, prepare=attachment_id_text)

    def parse_message(self, msg: Element) -> List[Any]:
        root = msg.find(_ROOT_ITEM_ID)
        return [RootItemId.from_xml(root) if root is not None else None]
