"""Item kinds (Message, CalendarItem, Task, Contact, ...) and the option constants of item operations."""
from __future__ import annotations

from ..registry import ITEM_CLASSES
from .base import Item
from .calendar_item import CalendarItem
from .contact import Contact, DistributionList
from .meeting import MeetingCancellation, MeetingMessage, MeetingRequest, MeetingResponse
from .message import Message
from .post import PostItem
from .response import (AcceptItem, CancelCalendarItem, DeclineItem, ForwardItem, PostReplyItem, ReplyAllToItem,
                       ReplyToItem, TentativelyAcceptItem)
from ..services.find_item import ASSOCIATED, ITEM_TRAVERSAL_CHOICES, SHALLOW, SOFT_DELETED  # noqa: F401
from .task import Task

ITEM_CLASSES.setdefault(Item.ELEMENT_NAME, Item)

# MessageDisposition (CreateItem/UpdateItem/SendItem)
SAVE_ONLY = "SaveOnly"
SEND_ONLY = "SendOnly"
SEND_AND_SAVE_COPY = "SendAndSaveCopy"
MESSAGE_DISPOSITION_CHOICES = (SAVE_ONLY, SEND_ONLY, SEND_AND_SAVE_COPY)

# SendMeetingInvitations (CreateItem), SendMeetingInvitationsOrCancellations (UpdateItem),
# SendMeetingCancellations (DeleteItem)
SEND_TO_NONE = "SendToNone"
SEND_ONLY_TO_ALL = "SendOnlyToAll"
SEND_ONLY_TO_CHANGED = "SendOnlyToChanged"
SEND_TO_ALL_AND_SAVE_COPY = "SendToAllAndSaveCopy"
SEND_TO_CHANGED_AND_SAVE_COPY = "SendToChangedAndSaveCopy"
SEND_MEETING_INVITATIONS_CHOICES = (SEND_TO_NONE, SEND_ONLY_TO_ALL, SEND_TO_ALL_AND_SAVE_COPY)
SEND_MEETING_INVITATIONS_AND_CANCELLATIONS_CHOICES = (
    SEND_TO_NONE, SEND_ONLY_TO_ALL, SEND_ONLY_TO_CHANGED, SEND_TO_ALL_AND_SAVE_COPY, SEND_TO_CHANGED_AND_SAVE_COPY)
SEND_MEETING_CANCELLATIONS_CHOICES = (SEND_TO_NONE, SEND_ONLY_TO_ALL, SEND_TO_ALL_AND_SAVE_COPY)

# DeleteType (DeleteItem)
HARD_DELETE = "HardDelete"
SOFT_DELETE = "SoftDelete"
MOVE_TO_DELETED_ITEMS = "MoveToDeletedItems"
DELETE_TYPE_CHOICES = (HARD_DELETE, SOFT_DELETE, MOVE_TO_DELETED_ITEMS)

# ConflictResolution (UpdateItem)
NEVER_OVERWRITE = "NeverOverwrite"
AUTO_RESOLVE = "AutoResolve"
ALWAYS_OVERWRITE = "AlwaysOverwrite"
CONFLICT_RESOLUTION_CHOICES = (NEVER_OVERWRITE, AUTO_RESOLVE, ALWAYS_OVERWRITE)

# AffectedTaskOccurrences (DeleteItem on tasks). The misspelling is kept for compatibility.
ALL_OCCURRENCIES = "AllOccurrences"
ALL_OCCURRENCES = ALL_OCCURRENCIES
SPECIFIED_OCCURRENCE_ONLY = "SpecifiedOccurrenceOnly"
AFFECTED_TASK_OCCURRENCES_CHOICES = (ALL_OCCURRENCIES, SPECIFIED_OCCURRENCE_ONLY)

# BaseShape (GetItem/FindItem/GetFolder/FindFolder)
ID_ONLY = "IdOnly"
DEFAULT = "Default"
ALL_PROPERTIES = "AllProperties"
SHAPE_CHOICES = (ID_ONLY, DEFAULT, ALL_PROPERTIES)

__all__ = [
    "ITEM_CLASSES", "Item", "Message", "CalendarItem", "Task", "Contact", "DistributionList", "PostItem",
    "MeetingMessage", "MeetingRequest", "MeetingResponse", "MeetingCancellation",
    "ReplyToItem", "ReplyAllToItem", "ForwardItem", "AcceptItem", "TentativelyAcceptItem", "DeclineItem",
    "PostReplyItem", "SHALLOW", "ASSOCIATED", "SOFT_DELETED", "ITEM_TRAVERSAL_CHOICES",
    "CancelCalendarItem",
    "SAVE_ONLY", "SEND_ONLY", "SEND_AND_SAVE_COPY", "MESSAGE_DISPOSITION_CHOICES",
    "SEND_TO_NONE", "SEND_ONLY_TO_ALL", "SEND_ONLY_TO_CHANGED", "SEND_TO_ALL_AND_SAVE_COPY",
    "SEND_TO_CHANGED_AND_SAVE_COPY", "SEND_MEETING_INVITATIONS_CHOICES",
    "SEND_MEETING_INVITATIONS_AND_CANCELLATIONS_CHOICES", "SEND_MEETING_CANCELLATIONS_CHOICES",
    "HARD_DELETE", "SOFT_DELETE", "MOVE_TO_DELETED_ITEMS", "DELETE_TYPE_CHOICES",
    "NEVER_OVERWRITE", "AUTO_RESOLVE", "ALWAYS_OVERWRITE", "CONFLICT_RESOLUTION_CHOICES",
    "ALL_OCCURRENCIES", "ALL_OCCURRENCES", "SPECIFIED_OCCURRENCE_ONLY", "AFFECTED_TASK_OCCURRENCES_CHOICES",
    "ID_ONLY", "DEFAULT", "ALL_PROPERTIES", "SHAPE_CHOICES",
]
