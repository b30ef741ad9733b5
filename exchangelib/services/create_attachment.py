"""CreateAttachment: add attachments to an item that already exists on the server.

Each new attachment gets an id; the response also carries the item's new change key
(``RootItemChangeKey``), since adding an attachment is a write to the item.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createattachment-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..properties.attachments import Attachment
from ..properties.ids import AttachmentId
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService, Result, to_id_pair

_ATTACHMENTS = f"{{{MNS}}}Attachments"
_ATTACHMENT_ID = f"{{{TNS}}}AttachmentId"


class CreateAttachment(EWSService):
    """``CreateAttachment(account=...).call(parent, attachments)`` yields, per attachment, its new
    :class:`~exchangelib.properties.ids.AttachmentId` (with ``root_id``/``root_changekey``), or the exception.

    ``parent`` is the item (or an ``(id, changekey)`` tuple) the attachments are added to.
    """

    SERVICE_NAME = "CreateAttachment"
    IDEMPOTENT = False

    def call(self, parent: Any, attachments: Iterable[Any]) -> Iterator[Result]:
        item_id, changekey = to_id_pair(parent)
        version = self.version

        def prepare(attachment: Any) -> Element:
            if not isinstance(attachment, Attachment):
                raise TypeError(f"CreateAttachment expects FileAttachment or ItemAttachment objects, "
                                f"got {type(attachment).__name__}")
            attachment.clean(version)
            return attachment.to_xml(version)

        def payload(chunk: List[Element]) -> Element:
            elem = create_element("m:CreateAttachment")
            attrs = {"Id": item_id}
            if changekey:
                attrs["ChangeKey"] = changekey
            add_child(elem, "m:ParentItemId", attrs)
            container = add_child(elem, "m:Attachments")
            for att_xml in chunk:
                container.append(att_xml)
            return elem

        # One request for all: every attachment in a request changes the same item's change key, and
        # Exchange answers each one with the change key it had after that attachment was added.
        return self.chunked(attachments, payload, prepare=prepare)

    def parse_message(self, msg: Element) -> List[Any]:
        container = msg.find(_ATTACHMENTS)
        if container is None or not len(container):
            return [None]
        aid = container[0].find(_ATTACHMENT_ID)
        return [AttachmentId.from_xml(aid) if aid is not None else None]
