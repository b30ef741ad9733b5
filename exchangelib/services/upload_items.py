"""UploadItems: create (or overwrite) items from data ExportItems produced.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/uploaditems-operation
"""
from __future__ import annotations

import base64
import binascii
from typing import Any, Iterable, Iterator, List, Optional

from ..errors import TransportError
from ..version import EXCHANGE_2010_SP1
from ..xml import MNS, Element, add_child, create_element
from .common import EWSService, Result, to_id_pair

CREATE_NEW = "CreateNew"
UPDATE = "Update"
UPDATE_OR_CREATE = "UpdateOrCreate"
CREATE_ACTION_CHOICES = (CREATE_NEW, UPDATE, UPDATE_OR_CREATE)

_ITEM_ID = f"{{{MNS}}}ItemId"


def _folder_id(folder: Any) -> str:
    if isinstance(folder, str) and folder:
        return folder
    fid = getattr(folder, "id", None)
    if isinstance(fid, str) and fid:
        return fid
    if hasattr(folder, "DISTINGUISHED_FOLDER_ID") or hasattr(folder, "folder_class"):
        raise ValueError(f"UploadItems needs a folder with an id (ParentFolderId takes no well-known names); "
                         f"{folder!r} has none: use the account's folder (account.inbox) or fetch it first")
    raise TypeError(f"UploadItems: expected a folder or a folder id string, got {type(folder).__name__}")


def _data_text(data: Any) -> str:
    if isinstance(data, (bytes, bytearray, memoryview)):
        if not data:
            raise ValueError("UploadItems: the data is empty")
        return base64.b64encode(bytes(data)).decode("ascii")
    if isinstance(data, str):
        text = data.strip()
        if not text:
            raise ValueError("UploadItems: the data is empty")
        try:
            base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise ValueError("UploadItems: data given as str must be the base64 text account.export() returned; "
                             "pass raw bytes as bytes") from None
        return text
    raise TypeError(f"UploadItems: data must be the str account.export() returned (or its decoded bytes), "
                    f"got {type(data).__name__}")


class UploadItems(EWSService):
    """``UploadItems(account=...).call(items, create_action=CREATE_NEW)``: one new (or updated) item per input.

    Each input is ``(folder, data)`` or ``(folder, data, item_id)``: ``folder`` a folder with an id (or a
    folder id string), ``data`` what :class:`ExportItems` returned (base64 ``str``, or its decoded
    ``bytes``), ``item_id`` (an item, ``(id, changekey)`` tuple or id string) the item to overwrite with
    ``create_action=UPDATE`` or ``UPDATE_OR_CREATE``. Yields ``(id, changekey)`` per input, or the
    exception. ``is_associated`` sets the IsAssociated attribute (default: the server decides from the
    data). Exchange 2010 SP1 and later.
    """

    SERVICE_NAME = "UploadItems"
    IDEMPOTENT = False
    supported_from = EXCHANGE_2010_SP1
    CHUNK_SIZE = 50

    def call(self, items: Iterable[Any], create_action: str = CREATE_NEW,
             is_associated: Optional[bool] = None) -> Iterator[Result]:
        if create_action not in CREATE_ACTION_CHOICES:
            raise ValueError(f"create_action must be one of {CREATE_ACTION_CHOICES}, got {create_action!r}")
        if is_associated is not None and not isinstance(is_associated, bool):
            raise TypeError(f"is_associated must be a bool or None, got {type(is_associated).__name__}")
        self.check_supported()
        # Overwriting a given item with the same data twice gives the same result: only creating is unsafe to
        # repeat (a lost answer to CreateNew is reported as OutcomeUnknownError, never re-sent)
        self.IDEMPOTENT = create_action == UPDATE

        def prepare(x: Any) -> Element:
            if not isinstance(x, tuple) or len(x) not in (2, 3):
                raise TypeError(f"UploadItems: each input must be a (folder, data) or (folder, data, item_id) "
                                f"tuple, got {type(x).__name__}")
            folder_id = _folder_id(x[0])
            text = _data_text(x[1])
            item_id = x[2] if len(x) == 3 else None
            if create_action == UPDATE and item_id is None:
                raise ValueError("UploadItems: create_action=Update needs (folder, data, item_id) inputs")
            attrs = {"CreateAction": create_action}
            if is_associated is not None:
                attrs["IsAssociated"] = "true" if is_associated else "false"
            elem = create_element("t:Item", attrs)
            add_child(elem, "t:ParentFolderId", {"Id": folder_id})
            if item_id is not None and create_action != CREATE_NEW:
                iid, changekey = to_id_pair(item_id)
                id_attrs = {"Id": iid}
                if changekey:
                    id_attrs["ChangeKey"] = changekey
                add_child(elem, "t:ItemId", id_attrs)
            add_child(elem, "t:Data", text=text)
            return elem

        def payload(chunk: List[Element]) -> Element:
            elem = create_element("m:UploadItems")
            container = add_child(elem, "m:Items")
            for item_xml in chunk:
                container.append(item_xml)
            return elem

        return self.chunked(items, payload, prepare=prepare)

    def parse_message(self, msg: Element) -> List[Any]:
        item_id = msg.find(_ITEM_ID)
        if item_id is None or not item_id.get("Id"):
            return [TransportError("UploadItems: a successful response message carries no ItemId")]
        return [(item_id.get("Id"), item_id.get("ChangeKey"))]
