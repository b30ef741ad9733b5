"""ConvertId: convert item and folder ids between formats (EwsId, EwsLegacyId, EntryId, HexEntryId, OwaId, StoreId).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/convertid-operation
"""
from __future__ import annotations

from typing import Iterable, Iterator, List, Optional, Tuple

from ..properties.alternate_id import ID_FORMATS
from ..xml import MNS, Element, add_child, create_element
from .common import EWSService, Result

_ALTERNATE = ("AlternateId", "AlternatePublicFolderId", "AlternatePublicFolderItemId")


class ConvertId(EWSService):
    SERVICE_NAME = "ConvertId"

    def call(self, ids: Iterable[Tuple[str, str, str]], destination_format: str) -> Iterator[Result]:
        """``ids`` are (id, format, mailbox) triples. Yields (id, format, mailbox) in the new format, or the exception."""
        if destination_format not in ID_FORMATS:
            raise ValueError(f"destination_format must be one of {ID_FORMATS}, got {destination_format!r}")

        def prepare(triple: Tuple[str, str, str]) -> Element:
            if not isinstance(triple, tuple) or len(triple) != 3:
                raise TypeError(f"ConvertId expects (id, format, mailbox) triples, got {triple!r}")
            id_, fmt, mailbox = triple
            if fmt not in ID_FORMATS:
                raise ValueError(f"Id format must be one of {ID_FORMATS}, got {fmt!r}")
            return create_element("t:AlternateId", {"Format": fmt, "Id": id_, "Mailbox": mailbox})

        def payload(chunk: List[Element]) -> Element:
            elem = create_element("m:ConvertId", {"DestinationFormat": destination_format})
            source = add_child(elem, "m:SourceIds")
            for a in chunk:
                source.append(a)
            return elem

        return self.chunked(ids, payload, prepare=prepare)

    def parse_message(self, msg: Element) -> List[Optional[Tuple[Optional[str], Optional[str], Optional[str]]]]:
        alt = msg.find(f"{{{MNS}}}AlternateId")
        if alt is None:
            return [None]
        return [(alt.get("Id"), alt.get("Format"), alt.get("Mailbox"))]
