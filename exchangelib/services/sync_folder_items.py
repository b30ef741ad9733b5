"""SyncFolderItems: the items created, changed, read/unread-flagged and deleted in a folder since a sync state.

One request returns at most MaxChangesReturned (1..512) changes, the new SyncState and
IncludesLastItemInRange; :meth:`SyncFolderItems.call` pages until the last change, updating
:attr:`SyncFolderItems.sync_state` after each page so a caller that stops half-way can resume.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Iterator, List, Optional, Tuple

from ..errors import MalformedResponseError, TransportError
from ..properties import ItemId
from ..registry import ITEM_CLASSES
from ..soap import response_message_error
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService, id_pairs
from .ids import folder_id_xml
from .shapes import ID_ONLY, shape_xml

log = logging.getLogger(__name__)

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
READ_FLAG_CHANGE = "read_flag_change"
CHANGE_TYPES = (CREATE, UPDATE, DELETE, READ_FLAG_CHANGE)
NORMAL_ITEMS = "NormalItems"
NORMAL_AND_ASSOCIATED_ITEMS = "NormalAndAssociatedItems"
SYNC_SCOPE_CHOICES = (NORMAL_ITEMS, NORMAL_AND_ASSOCIATED_ITEMS)
MAX_CHANGES_LIMIT = 512

_CHANGE_TAGS = {f"{{{TNS}}}Create": CREATE, f"{{{TNS}}}Update": UPDATE, f"{{{TNS}}}Delete": DELETE,
                f"{{{TNS}}}ReadFlagChange": READ_FLAG_CHANGE}
_ITEM_ID = f"{{{TNS}}}ItemId"
_IS_READ = f"{{{TNS}}}IsRead"


class SyncPage:
    """What one Sync* response carried: the new state, whether it was the last page, the changes."""

    def __init__(self, sync_state: str, includes_last: bool, changes: List[Tuple[str, Any]]):
        self.sync_state = sync_state
        self.includes_last = includes_last
        self.changes = changes


def read_sync_message(service: EWSService, response: Element, last_tag: str) -> Tuple[str, bool, Element]:
    """(SyncState, IncludesLast..., Changes element) of a Sync* response; raises the message's error."""
    messages = service._response_messages(response)
    if len(messages) != 1:
        raise TransportError(f"{service.SERVICE_NAME}: expected one ResponseMessage, got {len(messages)}")
    msg = messages[0]
    exc = response_message_error(msg, service.SERVICE_NAME)
    if exc is not None:
        raise exc
    state = msg.findtext(f"{{{MNS}}}SyncState")
    if not state:
        raise TransportError(f"{service.SERVICE_NAME}: the response has no SyncState")
    last = (msg.findtext(f"{{{MNS}}}{last_tag}") or "true").strip() == "true"
    changes = msg.find(f"{{{MNS}}}Changes")
    return state, last, changes if changes is not None else create_element("m:Changes")


class SyncFolderItems(EWSService):
    """Sync one folder's items. ``sync_state`` holds the newest state after each page."""

    SERVICE_NAME = "SyncFolderItems"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sync_state: Optional[str] = None
        self.includes_last_item_in_range: Optional[bool] = None

    def payload(self, folder: Any, shape: str, additional_fields: Optional[List[Any]], sync_state: Optional[str],
                ignore: Optional[Iterable[Any]], max_changes_returned: int, sync_scope: Optional[str]) -> Element:
        elem = create_element("m:SyncFolderItems")
        elem.append(shape_xml("m:ItemShape", shape, additional_fields))
        target = add_child(elem, "m:SyncFolderId")
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        target.append(folder_id_xml(folder, mailbox))
        if sync_state:
            add_child(elem, "m:SyncState", text=sync_state)
        if ignore:
            ign = add_child(elem, "m:Ignore")
            for item_id, changekey in id_pairs(ignore):
                attrs = {"Id": item_id}
                if changekey:
                    attrs["ChangeKey"] = changekey
                add_child(ign, "t:ItemId", attrs)
        add_child(elem, "m:MaxChangesReturned", text=str(max_changes_returned))
        if sync_scope:
            add_child(elem, "m:SyncScope", text=sync_scope)
        return elem

    def page(self, folder: Any, shape: str = ID_ONLY, additional_fields: Optional[List[Any]] = None,
             sync_state: Optional[str] = None, ignore: Optional[Iterable[Any]] = None,
             max_changes_returned: int = MAX_CHANGES_LIMIT, sync_scope: Optional[str] = None) -> SyncPage:
        """Send one request; return its page of ``(change_type, value)`` pairs."""
        response = self._post(self.payload(folder, shape, additional_fields, sync_state, ignore,
                                           max_changes_returned, sync_scope))
        state, last, container = read_sync_message(self, response, "IncludesLastItemInRange")
        changes: List[Tuple[str, Any]] = []
        for elem in container:
            change_type = _CHANGE_TAGS.get(elem.tag)
            if change_type is None:
                continue
            if change_type == DELETE:
                changes.append((DELETE, ItemId.from_xml(_child(elem, _ITEM_ID))))
            elif change_type == READ_FLAG_CHANGE:
                changes.append((READ_FLAG_CHANGE, (ItemId.from_xml(_child(elem, _ITEM_ID)),
                                                   (elem.findtext(_IS_READ) or "").strip() in ("true", "1"))))
            else:
                item_elem = elem[0]
                cls = ITEM_CLASSES.get(item_elem.tag.rsplit("}", 1)[-1])
                if cls is None:
                    raise ValueError(f"Server returned an item kind we don't know: {item_elem.tag}")
                changes.append((change_type, cls.from_xml(item_elem, account=self.account)))
        log.debug("SyncFolderItems: %d changes, last page: %s", len(changes), last)
        return SyncPage(state, last, changes)

    def call(self, folder: Any, shape: str = ID_ONLY, additional_fields: Optional[List[Any]] = None,
             sync_state: Optional[str] = None, ignore: Optional[Iterable[Any]] = None,
             max_changes_returned: Optional[int] = None, sync_scope: Optional[str] = None
             ) -> Iterator[Tuple[str, Any]]:
        """Yield every change since ``sync_state``, page by page (``self.sync_state`` follows each page)."""
        if max_changes_returned is None:
            max_changes_returned = MAX_CHANGES_LIMIT
        if (not isinstance(max_changes_returned, int) or isinstance(max_changes_returned, bool)
                or not 1 <= max_changes_returned <= MAX_CHANGES_LIMIT):
            raise ValueError(f"max_changes_returned must be an int in 1..{MAX_CHANGES_LIMIT}, "
                             f"got {max_changes_returned!r}")
        if sync_scope is not None and sync_scope not in SYNC_SCOPE_CHOICES:
            raise ValueError(f"sync_scope must be one of {SYNC_SCOPE_CHOICES}, got {sync_scope!r}")
        if sync_state is not None and not isinstance(sync_state, str):
            raise TypeError(f"sync_state must be a str (a state a previous sync returned), got "
                            f"{type(sync_state).__name__}")
        ignore = list(ignore) if ignore is not None else None
        self.sync_state = sync_state
        while True:
            p = self.page(folder, shape, additional_fields, self.sync_state, ignore, max_changes_returned, sync_scope)
            self.includes_last_item_in_range = p.includes_last
            for change in p.changes:
                yield change
            # Only after the page's changes were all consumed: a caller that stops mid-page resumes before it
            unchanged = p.sync_state == self.sync_state
            self.sync_state = p.sync_state
            if p.includes_last or (unchanged and not p.changes):
                return


def _child(elem: Element, tag: str) -> Element:
    found = elem.find(tag)
    if found is None:
        raise MalformedResponseError(f"{elem.tag} has no {tag}")
    return found
