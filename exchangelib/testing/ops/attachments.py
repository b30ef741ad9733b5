"""Attachment operations: CreateAttachment, GetAttachment, DeleteAttachment.

Attachment ids embed the parent item (see :func:`exchangelib.testing.store.encode_attachment_id`).
A malformed id answers ErrorInvalidIdMalformed, an id whose item is gone ErrorItemNotFound, and an
id whose item exists but no longer has the attachment ErrorInvalidAttachmentId.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getattachment-operation
"""
from __future__ import annotations

import base64
from typing import List, Optional, Tuple, cast

from lxml import etree

from ...xml import TNS
from .. import schema_tables as tables
from ..context import RequestContext
from ..store import ATTACHMENT_TOKEN_LEN, ItemRecord, decode_attachment_id, encode_attachment_id, format_datetime
from .access import check_item_folder
from .common import (Shape, add_result, bool_text, child, children, err, handler, local, m_el, new_response,
                     open_mailbox, parse_shape, resolve_item)
from .props import get, insert_ordered
from .render import public_attachment_id, render_item
from .stamp import copy_element, restamp, stamp_attachment

T = f"{{{TNS}}}"


def _decode_attachment_id(value: str) -> Tuple[str, bytes, List[bytes]]:
    """(mailbox GUID or address, parent item key, token path) of an attachment id.

    A top-level attachment's id holds one token; an attachment of an attached item holds the tokens of
    every attachment on the way down (like Exchange's, the id of a nested attachment is its parent
    attachment's id with more tacked on)."""
    address, key, tokens = decode_attachment_id(value)
    return address, key, [tokens[i:i + ATTACHMENT_TOKEN_LEN] for i in range(0, len(tokens), ATTACHMENT_TOKEN_LEN)]


def _token_of(att: etree._Element) -> bytes:
    aid = att.find(T + "AttachmentId")
    return base64.b64decode(aid.get("Id", "")) if aid is not None else b""


def _find_attachment(ctx: RequestContext, value: str) -> Tuple[ItemRecord, etree._Element, List[bytes]]:
    """The item record, the stored attachment element and its token path."""
    address, key, path = _decode_attachment_id(value)
    _mb, restricted = open_mailbox(ctx, address)
    rec = ctx.store.find_item(key)
    if rec is None:
        raise err("ErrorItemNotFound")
    if restricted:  # another user: the folder's permissions decide (see .access)
        check_item_folder(ctx, rec.folder, rec)
    holder: Optional[etree._Element] = rec.elem
    found: Optional[etree._Element] = None
    for depth, token in enumerate(path):
        if depth:
            assert found is not None  # the previous level was found (else the loop stopped)
            holder = next((c for c in found if isinstance(c.tag, str) and local(c) in tables.ITEM_ELEMENTS), None)
            if holder is None:
                break
        assert holder is not None  # the item, or the item attachment found above
        found = next((a for a in children(get(holder, "Attachments")) if _token_of(a) == token), None)
        if found is None:
            break
    if found is None:
        raise err("ErrorInvalidAttachmentId", "The attachment id is not valid.")
    return rec, found, path


def _public_id(rec: ItemRecord, path: List[bytes], root_ids: bool = False) -> etree._Element:
    el = etree.Element(T + "AttachmentId", Id=encode_attachment_id(rec.mailbox, rec.key, rec.folder.key,
                                                                    b"".join(path)))
    if root_ids:
        el.set("RootItemId", rec.id)
        el.set("RootItemChangeKey", rec.changekey)
    return el


@handler("CreateAttachment")
def create_attachment(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createattachment-operation"""
    parent_el = child(body, "ParentItemId")
    root, msgs = new_response("CreateAttachment")
    for att_el in children(child(body, "Attachments")):
        def one(att_el: etree._Element = att_el) -> List[etree._Element]:
            rec = resolve_item(ctx, cast(etree._Element, parent_el))
            att = copy_element(att_el)
            store = ctx.store
            stamp_attachment(store, rec.mailbox, att, format_datetime(store.now()))
            atts = get(rec.elem, "Attachments")
            if atts is None:
                atts = insert_ordered(rec.elem, etree.Element(T + "Attachments"))
            atts.append(att)
            restamp(store, rec.mailbox, rec.elem)
            rec.touch(("Attachments",))
            result = etree.Element(att.tag)
            result.append(public_attachment_id(rec, att, root_ids=True))
            return [m_el("Attachments", [result])]

        add_result(msgs, "CreateAttachmentResponseMessage", one, error_payload=("m:Attachments",))
    return root


@handler("GetAttachment")
def get_attachment(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getattachment-operation"""
    shape_el = child(body, "AttachmentShape")
    item_shape = parse_shape(shape_el) if shape_el is not None else Shape()
    item_shape.base = "AllProperties"
    item_shape.include_mime = bool_text(child(shape_el, "IncludeMimeContent")) if shape_el is not None else False
    root, msgs = new_response("GetAttachment")
    for id_el in children(child(body, "AttachmentIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            rec, att, path = _find_attachment(ctx, id_el.get("Id", ""))
            out = etree.Element(att.tag)
            for c in att:
                if not isinstance(c.tag, str):
                    continue
                if local(c) == "AttachmentId":
                    out.append(_public_id(rec, path))
                elif local(c) in tables.ITEM_ELEMENTS:
                    out.append(_render_embedded(ctx, rec, c, item_shape, path))
                else:
                    out.append(copy_element(c))
            return [m_el("Attachments", [out])]

        add_result(msgs, "GetAttachmentResponseMessage", one, error_payload=("m:Attachments",))
    return root


def _render_embedded(ctx: RequestContext, rec: ItemRecord, item: etree._Element, shape: Shape,
                     path: List[bytes]) -> etree._Element:
    """An attached item with all its properties (it has no ItemId of its own); the ids of its own
    attachments extend ``path``, so GetAttachment can fetch them too."""
    rendered = render_item(ctx, rec, shape, elem=item)
    stored = children(get(item, "Attachments"))
    shown = children(get(rendered, "Attachments"))
    for st, sh in zip(stored, shown):
        aid = sh.find(T + "AttachmentId")
        if aid is not None:
            sh.replace(aid, _public_id(rec, path + [_token_of(st)]))
    return rendered


@handler("DeleteAttachment")
def delete_attachment(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteattachment-operation"""
    root, msgs = new_response("DeleteAttachment")
    for id_el in children(child(body, "AttachmentIds")):
        def one(id_el: etree._Element = id_el) -> List[etree._Element]:
            rec, att, _path = _find_attachment(ctx, id_el.get("Id", ""))
            atts = att.getparent()
            assert atts is not None  # the stored attachment sits in its item's t:Attachments
            atts.remove(att)
            if len(atts) == 0:
                cast(etree._Element, atts.getparent()).remove(atts)
            restamp(ctx.store, rec.mailbox, rec.elem)
            rec.touch(("Attachments",))
            return [m_el("RootItemId", RootItemId=rec.id, RootItemChangeKey=rec.changekey)]

        add_result(msgs, "DeleteAttachmentResponseMessage", one)
    return root
