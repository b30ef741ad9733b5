"""UpdateItem: change fields of existing items (SetItemField / DeleteItemField).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple

from ..xml import Element, add_child, create_element
from .common import EWSService, Result
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
    SERVICE_NAME = "UpdateItem"

    def call(self, items: Iterable[Tuple[Any, Sequence[str]]], conflict_resolution: str = AUTO_RESOLVE,
             message_disposition: Optional[str] = None,
             send_meeting_invitations_or_cancellations: Optional[str] = None,
             suppress_read_receipts: Optional[bool] = None) -> Iterator[Result]:
        """``items`` are (item, field names) pairs. Yields the item id holder per input, or the exception."""
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
