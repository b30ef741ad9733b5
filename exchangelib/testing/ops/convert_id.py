"""ConvertId: convert item and folder ids between EwsId, EwsLegacyId, EntryId, HexEntryId, StoreId and OwaId.

The conversion is pure: it does not check that the object exists, as in Exchange. Formats that
do not carry the mailbox (the entry-id based ones) take it from the AlternateId's Mailbox
attribute. Public folder ids (AlternatePublicFolderId, AlternatePublicFolderItemId) are answered
with ErrorInvalidIdMalformed, as this server has no public folders.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/convertid-operation
"""
from __future__ import annotations

from typing import List, cast

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext
from ..store import convert_id as convert
from .common import add_result, child, children, err, handler, local, new_response, xsi_type


@handler("ConvertId")
def convert_id(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/convertid-operation"""
    destination = body.get("DestinationFormat", "EwsId")
    root, msgs = new_response("ConvertId")
    for source in children(child(body, "SourceIds")):
        def one(source: etree._Element = source) -> List[etree._Element]:
            if local(source) != "AlternateId":
                raise err("ErrorInvalidIdMalformed", "Public folder ids are not supported by this server.")
            new_id, address = convert(ctx.store, source.get("Id", ""), source.get("Format", ""), destination,
                                      source.get("Mailbox", ""))
            out = etree.Element(f"{{{MNS}}}AlternateId", nsmap={"t": TNS})
            xsi_type(out, "t:AlternateIdType")
            out.set("Format", destination)
            out.set("Id", new_id)
            out.set("Mailbox", address)
            if source.get("IsArchive") is not None:
                out.set("IsArchive", cast(str, source.get("IsArchive")))
            return [out]

        add_result(msgs, "ConvertIdResponseMessage", one)
    return root
