"""Where Exchange accepts more than its published XSD: the strict mode's documented exceptions.

Strict mode validates every request against Microsoft's EWS schema. Real Exchange is laxer in a few
places that real clients rely on; refusing those would make the local server stricter than the thing it
emulates. When a request fails validation, :func:`relax` rewrites a copy of it for exactly these cases;
if the rewritten copy validates, the request is accepted (and the handler gets the normalised copy).
Nothing else is ever let through. The list (also in docs/local-server.rst):

1. ``t:AttachmentId`` with ``RootItemId``/``RootItemChangeKey`` in GetAttachment and DeleteAttachment
   (the XSD's ``RequestAttachmentIdType`` has only ``Id``; the ids CreateAttachment returns carry both,
   and clients send them back as they are).
2. ``t:DistinguishedFolderId`` values newer than the newest published XSD that Exchange Online accepts
   (``allitems``, ``allcontacts``, ``quarantinedemail`` ...; see
   :data:`~exchangelib.testing.store.LAX_DISTINGUISHED_IDS`), on an Exchange Online server only; and
   there, any distinguished id whatever the request's RequestServerVersion (clients send
   ``Exchange2016`` with V2018 ids such as ``allcategorizeditems``; checked in ops/common.py).
3. The children of ``t:Permission``/``t:CalendarPermission`` in any order (the XSD has a sequence).
4. ``t:Rule`` without ``IsEnabled`` in UpdateInboxRules (Exchange takes it as enabled).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/attachmentid
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
"""
from __future__ import annotations

import copy
from typing import Callable, List, Optional, Tuple

from lxml import etree

from ..xml import MNS, TNS
from . import schema_tables as tables
from .store import LAX_DISTINGUISHED_IDS

__all__ = ["LAX_RULES", "relax"]

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"
ONLINE_BUILD = (15, 20)


def _root_item_ids(body: etree._Element, build: Tuple[int, ...]) -> bool:
    if body.tag not in (M + "GetAttachment", M + "DeleteAttachment"):
        return False
    changed = False
    ids = body.find(M + "AttachmentIds")
    for aid in ids.iterchildren(T + "AttachmentId") if ids is not None else ():
        for attr in ("RootItemId", "RootItemChangeKey"):
            if attr in aid.attrib:
                del aid.attrib[attr]
                changed = True
    return changed


def _permission_order(body: etree._Element, build: Tuple[int, ...]) -> bool:
    changed = False
    for kind in ("PermissionType", "CalendarPermissionType"):
        order = {name: i for i, (name, _) in enumerate(tables.SEQUENCES[kind])}
        tag = T + kind[:-4]
        for perm in body.iter(tag):
            kids = [c for c in perm if isinstance(c.tag, str)]
            ranked = sorted(kids, key=lambda c: order.get(etree.QName(c).localname, len(order)))
            if ranked != kids:
                for c in kids:
                    perm.remove(c)
                perm.extend(ranked)
                changed = True
    return changed


def _rule_enabled(body: etree._Element, build: Tuple[int, ...]) -> bool:
    if body.tag != M + "UpdateInboxRules":
        return False
    changed = False
    for rule in body.iter(T + "Rule"):
        if rule.find(T + "IsEnabled") is None:
            priority = rule.find(T + "Priority")
            enabled = etree.Element(T + "IsEnabled")
            enabled.text = "true"
            if priority is not None:
                priority.addnext(enabled)
            else:
                rule.append(enabled)
            changed = True
    return changed


def _online_folder_ids(body: etree._Element, build: Tuple[int, ...]) -> bool:
    """Validation only: the copy names ``root`` instead (the handler keeps the real id)."""
    if tuple(build[:2]) < ONLINE_BUILD:
        return False
    changed = False
    for el in body.iter(T + "DistinguishedFolderId"):
        if el.get("Id") in LAX_DISTINGUISHED_IDS:
            el.set("Id", "root")
            changed = True
    return changed


Rule = Callable[[etree._Element, Tuple[int, ...]], bool]
# (name, rule, whether the handler gets the rewritten request); the order is the documented one.
LAX_RULES: List[Tuple[str, Rule, bool]] = [
    ("AttachmentId with RootItemId/RootItemChangeKey", _root_item_ids, True),
    ("Exchange Online distinguished folder ids beyond the XSD", _online_folder_ids, False),
    ("Permission children in any order", _permission_order, True),
    ("Rule without IsEnabled", _rule_enabled, True),
]


def relax(body: etree._Element, build: Tuple[int, ...]) -> Optional[Tuple[etree._Element, etree._Element]]:
    """``(request for the handler, request to validate)`` with Exchange's laxness applied, or None when no
    rule applies (the request is then as invalid as it looked)."""
    handled = copy.deepcopy(body)
    applied = False
    for _name, rule, for_handler in LAX_RULES:
        if for_handler:
            applied = rule(handled, build) or applied
    checked = copy.deepcopy(handled)
    for _name, rule, for_handler in LAX_RULES:
        if not for_handler:
            applied = rule(checked, build) or applied
    return (handled, checked) if applied else None
