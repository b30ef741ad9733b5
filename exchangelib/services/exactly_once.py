"""Write tokens: how CreateItem stays exactly-once although Exchange has no idempotency key.

Before a new item is sent, it gets a random *write token* in a named extended property
(``PublicStrings`` / ``exchangelib-write-token``, a string). When the answer to a CreateItem is
lost, the library searches the target folder for the tokens of that request (one FindItem with an
``Or`` of ``IsEqualTo`` terms): items found were created, and only the others are sent again, with
the same tokens. The token stays on the item; it is a few bytes and harmless.

:func:`find_written` is the same search for your own use, e.g. after an
:class:`~exchangelib.errors.OutcomeUnknownError` (it carries the token in ``write_token``)::

    found = find_written(account, account.drafts, [err.write_token])
    if found:  # {token: [(id, changekey)]}
        ...

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/extendedproperty
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Tuple

from lxml import etree

from ..properties.extended import ExtendedProperty, ExtendedPropertyField
from ..soap import response_message_error
from ..errors import ErrorItemNotFound, EWSError
from ..lazy import LazyModule
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService, to_id_pair
from .find_item import FindItem
from .ids import item_ids_xml
from .shapes import ID_ONLY, shape_xml

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import uuid
else:
    uuid = LazyModule("uuid")

__all__ = ["WriteToken", "WRITE_TOKEN_FIELD", "new_token", "stamp", "find_written", "items_gone", "current_ids"]


class WriteToken(ExtendedProperty):
    """The extended property that carries an item's write token."""

    distinguished_property_set_id = "PublicStrings"
    property_name = "exchangelib-write-token"
    property_type = "String"


WriteToken.validate_cls()
WRITE_TOKEN_FIELD = ExtendedPropertyField("write_token", WriteToken)

# ItemType's elements that come before ExtendedProperty (types.xsd): the token goes right after them
_BEFORE_EXTENDED_PROPERTY = frozenset(f"{{{TNS}}}{n}" for n in (
    "MimeContent", "ItemId", "ParentFolderId", "ItemClass", "Subject", "Sensitivity", "Body", "Attachments",
    "DateTimeReceived", "Size", "Categories", "Importance", "InReplyTo", "IsSubmitted", "IsDraft", "IsFromMe",
    "IsResend", "IsUnmodified", "InternetMessageHeaders", "DateTimeSent", "DateTimeCreated", "ResponseObjects",
    "ReminderDueBy", "ReminderIsSet", "ReminderNextTime", "ReminderMinutesBeforeStart", "DisplayCc", "DisplayTo",
    "DisplayBcc", "HasAttachments", "ExtendedProperty",
))
_TOKEN_NAME = WriteToken.property_name
_MAX_TOKENS_PER_SEARCH = 100


def new_token() -> str:
    return uuid.uuid4().hex


def token_of(item_xml: Element) -> Any:
    """The write token stamped on an item element, or None."""
    for ep in item_xml.iterchildren(f"{{{TNS}}}ExtendedProperty"):
        uri = ep.find(f"{{{TNS}}}ExtendedFieldURI")
        if uri is not None and uri.get("PropertyName") == _TOKEN_NAME:
            return ep.findtext(f"{{{TNS}}}Value")
    return None


# Item elements that can carry extended properties (response objects such as t:ReplyToItem cannot)
STAMPABLE = frozenset(f"{{{TNS}}}{n}" for n in (
    "Item", "Message", "CalendarItem", "Contact", "DistributionList", "Task", "PostItem", "MeetingMessage",
    "MeetingRequest", "MeetingResponse", "MeetingCancellation",
))


def stamp(item_xml: Element, token: str) -> Element:
    """Add the write token to an item element (t:Message, t:CalendarItem ...), in schema order.

    Other elements (response objects like t:ReplyToItem) are returned unchanged: they get no token.
    """
    if item_xml.tag not in STAMPABLE:
        return item_xml
    pos = 0
    for i, child in enumerate(item_xml):
        if child.tag in _BEFORE_EXTENDED_PROPERTY:
            pos = i + 1
    ep = etree.Element(f"{{{TNS}}}ExtendedProperty")
    ep.append(WriteToken.field_uri_xml())
    etree.SubElement(ep, f"{{{TNS}}}Value").text = token
    item_xml.insert(pos, ep)
    return item_xml


def _restriction(tokens: List[str]) -> Element:
    restriction = create_element("m:Restriction")
    parent = add_child(restriction, "t:Or") if len(tokens) > 1 else restriction
    for token in tokens:
        eq = add_child(parent, "t:IsEqualTo")
        eq.append(WriteToken.field_uri_xml())
        const = add_child(eq, "t:FieldURIOrConstant")
        add_child(const, "t:Constant", {"Value": token})
    return restriction


class _FindTokens(EWSService):
    """FindItem for write tokens, read straight from the response XML (any item kind)."""

    SERVICE_NAME = "FindItem"

    def call(self, folder: Any, tokens: List[str]) -> Dict[str, List[Tuple[str, str]]]:
        found: Dict[str, List[Tuple[str, str]]] = {}
        finder = FindItem(account=self.account)
        for start in range(0, len(tokens), _MAX_TOKENS_PER_SEARCH):
            batch = tokens[start:start + _MAX_TOKENS_PER_SEARCH]
            offset = 0
            while True:
                payload = finder.payload(folder, ID_ONLY, [WRITE_TOKEN_FIELD], _restriction(batch), None, None,
                                         "Shallow", offset, 2 * len(batch))
                messages = self._response_messages(self._post(payload))
                exc = response_message_error(messages[0], "FindItem") if messages else None
                if exc is not None:
                    raise exc
                root = messages[0].find(f"{{{MNS}}}RootFolder")
                if root is None:
                    break
                items = root.find(f"{{{TNS}}}Items")
                n = 0
                for elem in (items if items is not None else ()):
                    n += 1
                    iid = elem.find(f"{{{TNS}}}ItemId")
                    token = None
                    for ep in elem.iterchildren(f"{{{TNS}}}ExtendedProperty"):
                        token = ep.findtext(f"{{{TNS}}}Value")
                    if iid is not None and iid.get("Id") and token:
                        found.setdefault(token, []).append((iid.get("Id") or "", iid.get("ChangeKey") or ""))
                if root.get("IncludesLastItemInRange", "true") == "true" or not n:
                    break
                offset += n
        return found


def find_written(account: Any, folder: Any, tokens: Iterable[str]) -> Dict[str, List[Tuple[str, str]]]:
    """Items in ``folder`` that carry one of the write ``tokens``: ``{token: [(id, changekey), ...]}``.

    A token missing from the answer was not created in that folder. More than one id for a token would
    mean a duplicate (which the library's own writes never produce).
    """
    return _FindTokens(account=account).call(folder, [t for t in tokens if t])


class _CurrentIds(EWSService):
    """GetItem IdOnly by id alone (no change key): the current (id, changekey) of each item, or the error."""

    SERVICE_NAME = "GetItem"

    def call(self, ids: List[Any]) -> List[Any]:
        def payload(chunk: List[Any]) -> Element:
            elem = create_element("m:GetItem")
            elem.append(shape_xml("m:ItemShape", ID_ONLY, None))
            elem.append(item_ids_xml("m:ItemIds", chunk))
            return elem

        pairs = []
        for i in ids:
            pair = to_id_pair(i)
            pairs.append((pair[0], None) if isinstance(pair, tuple) else pair)
        # Inline, not on the thread pool: this runs inside a pool thread (a chunk being reconciled), and
        # waiting there for other pool work could starve the pool
        out: List[Any] = []
        for start in range(0, len(pairs), self.chunk_size):
            chunk = pairs[start:start + self.chunk_size]
            try:
                out.extend(self._results(payload(chunk), expected=len(chunk)))
            except EWSError as e:
                out.extend([e] * len(chunk))
        return out

    def parse_message(self, msg: Element) -> List[Any]:
        items = msg.find(f"{{{MNS}}}Items")
        iid = items[0].find(f"{{{TNS}}}ItemId") if items is not None and len(items) else None
        return [(iid.get("Id"), iid.get("ChangeKey")) if iid is not None else None]


def current_ids(account: Any, ids: List[Any]) -> List[Any]:
    """Per id (item, (id, changekey) or id string): the item's current ``(id, changekey)``, or the error
    (ErrorItemNotFound when no item has that id any more)."""
    return _CurrentIds(account=account).call(ids)


def items_gone(account: Any, ids: List[Any]) -> List[bool]:
    """Per id: True if no item has that id any more (it was moved, sent or deleted), False if it is still
    there. Raises on any other error."""
    out = []
    for res in current_ids(account, ids):
        if isinstance(res, ErrorItemNotFound):
            out.append(True)
        elif isinstance(res, Exception):
            raise res
        else:
            out.append(False)
    return out
