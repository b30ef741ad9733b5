"""ExportItems: each item as an opaque, full-fidelity blob (base64 text), for backup and migration.

The blob is the server's own serialisation of the whole item (on Exchange a FastTransfer stream):
every property, attachments and recurrence included. Store it as it is; UploadItems turns it back
into an item, in the same or another mailbox or server.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/exportitems-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List

from ..errors import TransportError
from ..version import EXCHANGE_2010_SP1
from ..xml import MNS, Element, create_element
from .common import EWSService, Result, to_id_pair
from .ids import item_ids_xml

_DATA = f"{{{MNS}}}Data"
_ITEM_ID = f"{{{MNS}}}ItemId"


class ExportItems(EWSService):
    """``ExportItems(account=...).call(ids)`` yields, per id, the item's data as base64 text, or the exception.

    Ids may be items, ``(id, changekey)`` tuples or id strings. Exchange 2010 SP1 and later.
    """

    SERVICE_NAME = "ExportItems"
    supported_from = EXCHANGE_2010_SP1
    # Exported items can be large (attachments): fewer per request than the metadata services.
    CHUNK_SIZE = 50
    _with_ids = False

    def call(self, ids: Iterable[Any], with_ids: bool = False) -> Iterator[Result]:
        """Yields the data per input; with ``with_ids``, ``(id, changekey, data)`` with the item's id and change
        key *at the moment it was exported* (what a backup should remember)."""
        self.check_supported()
        self._with_ids = with_ids

        def payload(chunk: List[Any]) -> Element:
            elem = create_element("m:ExportItems")
            elem.append(item_ids_xml("m:ItemIds", chunk))
            return elem

        return self.chunked(ids, payload, prepare=to_id_pair)

    def parse_message(self, msg: Element) -> List[Any]:
        data = msg.find(_DATA)
        if data is None or not data.text:
            return [TransportError("ExportItems: a successful response message carries no Data")]
        if not self._with_ids:
            return [data.text.strip()]
        item_id = msg.find(_ITEM_ID)
        if item_id is None:
            return [(None, None, data.text.strip())]
        return [(item_id.get("Id"), item_id.get("ChangeKey"), data.text.strip())]
