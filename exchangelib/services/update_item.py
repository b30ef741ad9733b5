"""UpdateItem: change fields of existing items (SetItemField / DeleteItemField).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple

from ..errors import OutcomeUnknownError
from ..registry import ITEM_CLASSES
from ..xml import TNS, Element, add_child, create_element
from .common import NOT_DONE, EWSService, Result
from .exactly_once import current_ids
from .create_item import MESSAGE_DISPOSITION_CHOICES
from .get_item import parse_items_container

NEVER_OVERWRITE = "NeverOverwrite"
AUTO_RESOLVE = "AutoResolve"
ALWAYS_OVERWRITE = "AlwaysOverwrite"
CONFLICT_RESOLUTION_CHOICES = (NEVER_OVERWRITE, AUTO_RESOLVE, ALWAYS_OVERWRITE)
SEND_MEETING_INVITATIONS_OR_CANCELLATIONS_CHOICES = (
    "SendToNone", "SendOnlyToAll", "SendOnlyToChanged", "SendToAllAndSaveCopy", "SendToChangedAndSaveCopy")


def item_changes_xml(item: Any, field_names: Sequence[str], version: Any) -> Element:
    """One t:ItemChange: SetItemField for set values, DeleteItemField for cleared ones (see EWSElement.update_xml)."""
    if not item.id:
        raise ValueError(f"{type(item).__name__} has no id; it must be created before it can be updated")
    change = create_element("t:ItemChange")
    attrs = {"Id": item.id}
    if item.changekey:
        attrs["ChangeKey"] = item.changekey
    add_child(change, "t:ItemId", attrs)
    updates = add_child(change, "t:Updates")
    names = list(dict.fromkeys(field_names))
    for name in names:
        if type(item).FIELDS.get(name) is None:
            raise ValueError(f"{type(item).__name__} has no field {name!r}")
        if name == "attachments":
            raise ValueError(f"{type(item).__name__}.attachments can't be updated; use attach() and detach()")
    for elem in item.update_xml(names, version):
        updates.append(elem)
    if not len(updates):
        raise ValueError(f"No fields to update on {type(item).__name__}")
    return change


class UpdateItem(EWSService):
    """Exactly-once: after a lost answer, items whose change key moved on are reported updated and only the
    others are sent again (see :meth:`reconcile`). Updates that send mail are never repeated."""

    SERVICE_NAME = "UpdateItem"
    IDEMPOTENT = False
    _sends = False

    def call(self, items: Iterable[Tuple[Any, Sequence[str]]], conflict_resolution: str = AUTO_RESOLVE,
             message_disposition: Optional[str] = None,
             send_meeting_invitations_or_cancellations: Optional[str] = None,
             suppress_read_receipts: Optional[bool] = None) -> Iterator[Result]:
        """``items`` are (item, field names) pairs. Yields the item id holder per input, or the exception."""
        # An update that sends mail must never be repeated: a lost answer is reported as OutcomeUnknownError
        self._sends = message_disposition in ("SendOnly", "SendAndSaveCopy")
        if conflict_resolution not in CONFLICT_RESOLUTION_CHOICES:
            raise ValueError(f"conflict_resolution must be one of {CONFLICT_RESOLUTION_CHOICES}, "
                             f"got {conflict_resolution!r}")
        if message_disposition is not None and message_disposition not in MESSAGE_DISPOSITION_CHOICES:
            raise ValueError(f"message_disposition must be one of {MESSAGE_DISPOSITION_CHOICES}")
        if (send_meeting_invitations_or_cancellations is not None
                and send_meeting_invitations_or_cancellations not in SEND_MEETING_INVITATIONS_OR_CANCELLATIONS_CHOICES):
            raise ValueError("send_meeting_invitations_or_cancellations must be one of "
                             f"{SEND_MEETING_INVITATIONS_OR_CANCELLATIONS_CHOICES}")
        version = self.version

        def prepare(pair: Tuple[Any, Sequence[str]]) -> Element:
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise TypeError(f"UpdateItem expects (item, field names) pairs, got {pair!r}")
            item, fields = pair
            if isinstance(fields, str):
                raise TypeError(f"Field names for {type(item).__name__} must be a list, not the str {fields!r}")
            return item_changes_xml(item, fields, version)

        def payload(chunk: List[Element]) -> Element:
            attrs = {"ConflictResolution": conflict_resolution}
            if message_disposition:
                attrs["MessageDisposition"] = message_disposition
            if send_meeting_invitations_or_cancellations:
                attrs["SendMeetingInvitationsOrCancellations"] = send_meeting_invitations_or_cancellations
            if suppress_read_receipts is not None:
                attrs["SuppressReadReceipts"] = "true" if suppress_read_receipts else "false"
            elem = create_element("m:UpdateItem", attrs)
            changes = add_child(elem, "m:ItemChanges")
            for change in chunk:
                changes.append(change)
            return elem

        return self.chunked(items, payload, prepare=prepare)

    def parse_message(self, msg: Element) -> List[Any]:
        items = parse_items_container(msg, self.account)
        return items[:1] if items else [None]

    def reconcile(self, chunk: List[Element], error: OutcomeUnknownError) -> Optional[List[Any]]:
        """An item whose change key moved on since the one we sent was updated (by us: the answer was lost);
        one whose change key is unchanged was not, and is sent again."""
        if self._sends:
            return None
        sent = []
        for change in chunk:
            iid = change.find(f"{{{TNS}}}ItemId")
            if iid is None or not iid.get("ChangeKey"):
                return None  # occurrence ids, or no change key to compare: cannot tell
            sent.append((iid.get("Id"), iid.get("ChangeKey")))
        out: List[Any] = []
        for (item_id, changekey), now in zip(sent, current_ids(self.account, [p for p in sent])):
            if isinstance(now, Exception):
                out.append(now)
            elif now[1] == changekey:
                out.append(NOT_DONE)
            else:
                elem = create_element("t:Item")
                add_child(elem, "t:ItemId", {"Id": now[0], "ChangeKey": now[1]})
                out.append(ITEM_CLASSES["Item"].from_xml(elem, account=self.account))
        return out
