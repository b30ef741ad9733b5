"""DeleteItem: delete items by id, hard, soft or to Deleted Items.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteitem-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional

from ..xml import Element, create_element
from ..errors import ErrorItemNotFound, OutcomeUnknownError
from .common import NOT_DONE, EWSService, Result, to_id_pair
from .exactly_once import items_gone
from .ids import item_ids_xml

HARD_DELETE = "HardDelete"
SOFT_DELETE = "SoftDelete"
MOVE_TO_DELETED_ITEMS = "MoveToDeletedItems"
DELETE_TYPE_CHOICES = (HARD_DELETE, SOFT_DELETE, MOVE_TO_DELETED_ITEMS)
SEND_TO_NONE = "SendToNone"
CALENDAR_CREATE_OR_DELETE_CHOICES = ("SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy")
AFFECTED_TASK_OCCURRENCES_CHOICES = ("AllOccurrences", "SpecifiedOccurrenceOnly")


class DeleteItem(EWSService):
    SERVICE_NAME = "DeleteItem"
    IDEMPOTENT = False

    def call(self, ids: Iterable[Any], delete_type: str = HARD_DELETE,
             send_meeting_cancellations: str = SEND_TO_NONE,
             affected_task_occurrences: str = "AllOccurrences",
             suppress_read_receipts: Optional[bool] = None) -> Iterator[Result]:
        """Yields True for each deleted id, or the exception for that id."""
        if delete_type not in DELETE_TYPE_CHOICES:
            raise ValueError(f"delete_type must be one of {DELETE_TYPE_CHOICES}, got {delete_type!r}")
        if send_meeting_cancellations not in CALENDAR_CREATE_OR_DELETE_CHOICES:
            raise ValueError(f"send_meeting_cancellations must be one of {CALENDAR_CREATE_OR_DELETE_CHOICES}, "
                             f"got {send_meeting_cancellations!r}")
        if affected_task_occurrences not in AFFECTED_TASK_OCCURRENCES_CHOICES:
            raise ValueError(f"affected_task_occurrences must be one of {AFFECTED_TASK_OCCURRENCES_CHOICES}, "
                             f"got {affected_task_occurrences!r}")

        def payload(chunk: List[Any]) -> Element:
            attrs = {"DeleteType": delete_type, "SendMeetingCancellations": send_meeting_cancellations,
                     "AffectedTaskOccurrences": affected_task_occurrences}
            if suppress_read_receipts is not None:
                attrs["SuppressReadReceipts"] = "true" if suppress_read_receipts else "false"
            elem = create_element("m:DeleteItem", attrs)
            elem.append(item_ids_xml("m:ItemIds", chunk))
            return elem

        return self.chunked(ids, payload, prepare=to_id_pair)

    def parse_message(self, msg: Element) -> List[Any]:
        return [True]

    def reconcile(self, chunk: List[Any], error: OutcomeUnknownError) -> Optional[List[Any]]:
        return [True if gone else NOT_DONE for gone in items_gone(self.account, chunk)]

    def resent_result(self, result: Any) -> Any:
        # Re-sent after a lost answer: "not found" means the first attempt deleted it
        return True if isinstance(result, ErrorItemNotFound) else result
