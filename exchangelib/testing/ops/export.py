"""ExportItems and UploadItems: whole items as opaque blobs, for backup, restore and migration.

Exchange exports an item as a proprietary FastTransfer stream. This server's stream is its own, just
as opaque to clients: a short header (magic ``ELXI``, a format version, flags) followed by the
zlib-compressed XML of the stored item element -- every property the store holds, attachments
(with embedded items) and recurrence included, server-set properties too. UploadItems reverses it:
the item comes back exactly as it was exported, with a new ItemId and ChangeKey, in the folder
given by ParentFolderId.

- ``CreateAction="CreateNew"`` always creates a new item (an ItemId in the request is ignored).
- ``"Update"`` replaces the content of the item named by ItemId (ErrorItemNotFound if it is gone);
  the item keeps its id and its folder, and gets a new ChangeKey.
- ``"UpdateOrCreate"`` updates the item named by ItemId if it exists, else creates a new one.
- ``IsAssociated`` (optional) overrides whether the item is a folder-associated item; by default
  the stream's own flag is used.

Data that is not a stream of this format (or is damaged) answers ErrorCorruptData for that item.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/exportitems-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/uploaditems-operation
"""
from __future__ import annotations

import base64
import binascii
import struct
import zlib
from typing import Dict, List, Optional, Tuple, cast

from lxml import etree

from ...xml import TNS, ParseError, parse
from ..context import RequestContext, ResponseCodeError
from ..store import ItemRecord
from .common import (add_result, bool_attr, child, children, err, handler, local, m_el, new_response, resolve_folder,
                     resolve_item)
from .stamp import SUPPORTED_KINDS

T = f"{{{TNS}}}"

MAGIC = b"ELXI"
FORMAT_VERSION = 1
_FLAG_ASSOCIATED = 0x01
_HEADER = struct.Struct(">4sBB")
# An exported item never grows beyond this when decompressed (the server's request limit is 64 MiB).
MAX_ITEM_BYTES = 96 * 1024 * 1024

CREATE_ACTIONS = ("CreateNew", "Update", "UpdateOrCreate")


def export_stream(rec: ItemRecord) -> bytes:
    """The opaque stream of one stored item (not base64-encoded)."""
    xml = etree.tostring(rec.elem, encoding="utf-8")
    flags = _FLAG_ASSOCIATED if rec.associated else 0
    return _HEADER.pack(MAGIC, FORMAT_VERSION, flags) + zlib.compress(xml, 6)


def _corrupt(why: str) -> ResponseCodeError:
    return err("ErrorCorruptData", f"The data to upload is corrupt or not an exported item: {why}.")


def read_stream(data: bytes) -> Tuple[etree._Element, bool]:
    """(item element, associated flag) of a stream made by :func:`export_stream`.

    Raises ErrorCorruptData for anything else: wrong magic, unknown format version, damaged
    compression, oversized content, unsafe or unexpected XML.
    """
    if len(data) < _HEADER.size:
        raise _corrupt("too short")
    magic, version, flags = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise _corrupt("unknown stream format")
    if version != FORMAT_VERSION:
        raise _corrupt(f"unsupported stream version {version}")
    decompressor = zlib.decompressobj()
    try:
        xml = decompressor.decompress(data[_HEADER.size:], MAX_ITEM_BYTES)
    except zlib.error:
        raise _corrupt("damaged compressed content") from None
    if decompressor.unconsumed_tail:
        raise _corrupt("item too large")
    if not decompressor.eof or decompressor.unused_data:
        raise _corrupt("truncated or trailing content")
    try:
        elem = parse(xml)
    except ParseError:
        raise _corrupt("invalid item content") from None
    if etree.QName(elem).namespace != TNS or local(elem) not in SUPPORTED_KINDS:
        raise _corrupt(f"unexpected item element {elem.tag}")
    return elem, bool(flags & _FLAG_ASSOCIATED)


def _decode_data(el: Optional[etree._Element]) -> bytes:
    text = "".join((el.text or "").split()) if el is not None else ""
    if not text:
        raise _corrupt("no data")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise _corrupt("not valid base64") from None


# --- ExportItems ---------------------------------------------------------------------------------
@handler("ExportItems")
def export_items(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/exportitems-operation"""
    root, msgs = new_response("ExportItems")
    for id_el in children(child(body, "ItemIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            if local(id_el) != "ItemId":
                raise err("ErrorInvalidIdMalformed", "ExportItems accepts ItemId elements only.")
            rec = resolve_item(ctx, id_el)
            data = m_el("Data")
            data.text = base64.b64encode(export_stream(rec)).decode("ascii")
            return [m_el("ItemId", Id=rec.id, ChangeKey=rec.changekey), data]

        add_result(msgs, "ExportItemsResponseMessage", one)
    return root


# --- UploadItems ---------------------------------------------------------------------------------
@handler("UploadItems")
def upload_items(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/uploaditems-operation"""
    root, msgs = new_response("UploadItems")
    for item_el in children(child(body, "Items")):
        add_result(msgs, "UploadItemsResponseMessage", lambda e=item_el: _upload_one(ctx, e))
    return root


def _upload_one(ctx: RequestContext, item_el: etree._Element) -> List[etree._Element]:
    store = ctx.store
    action = item_el.get("CreateAction", "")
    if action not in CREATE_ACTIONS:
        raise err("ErrorInvalidRequest", f"CreateAction must be one of {', '.join(CREATE_ACTIONS)}.")
    parent_el = child(item_el, "ParentFolderId")
    if parent_el is None:
        raise err("ErrorFolderNotFound")
    # ParentFolderId is a FolderIdType: resolve it as the FolderId it is
    folder = resolve_folder(ctx, etree.Element(T + "FolderId", dict(cast(Dict[str, str], parent_el.attrib))))
    id_el = child(item_el, "ItemId")
    elem, associated = read_stream(_decode_data(child(item_el, "Data")))
    if item_el.get("IsAssociated") is not None:
        associated = bool_attr(item_el, "IsAssociated")
    existing: Optional[ItemRecord] = None
    if action in ("Update", "UpdateOrCreate"):
        if id_el is None or not id_el.get("Id"):
            if action == "Update":
                raise err("ErrorInvalidIdEmpty", "CreateAction Update needs the ItemId of the item to update.")
        else:
            try:
                existing = resolve_item(ctx, id_el)
            except ResponseCodeError as e:
                if action == "Update" or e.response_code not in ("ErrorItemNotFound", "ErrorInvalidIdMalformed"):
                    raise
    if existing is not None:
        if existing.mailbox is not folder.mailbox:
            raise err("ErrorItemNotFound")
        existing.elem = elem
        existing.associated = associated
        existing.touch(local(c) for c in elem if isinstance(c.tag, str))
        rec = existing
    else:
        rec = store.add_item(folder, elem, associated=associated)
    return [m_el("ItemId", Id=rec.id, ChangeKey=rec.changekey)]
