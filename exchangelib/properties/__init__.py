"""Value types of the EWS model: ids, mailboxes, attendees, bodies, contact entries and small records."""
from __future__ import annotations

from .attachments import (
    ATTACHMENT_CLASSES, Attachment, FileAttachment, ItemAttachment, ReferenceAttachment,
)
from .body import BODY_CLASSES, Body, BodyField, HTMLBody
from .common import (
    AbchEmailAddress, CompleteName, ContactUrl, DeletedOccurrence, EffectiveRights, Flag, ManagedFolderInformation,
    Member, MessageHeader, OccurrenceInfo, ReminderMessageData, ResponseObjectsField, RetentionTag,
)
from .extended import UID, ExtendedProperty
from .distinguished import DISTINGUISHED_FOLDER_NAMES, DistinguishedFolderId
from .ids import (
    AttachmentId, ConversationId, FolderId, ItemId, OccurrenceItemId, ParentFolderId, ParentItemId,
    RecurringMasterItemId, RootItemId,
)
from .indexed import EmailAddress, ImAddress, IndexedEntry, PhoneNumber, PhysicalAddress
from .mailbox import Attendee, AttendeesField, Mailbox, MailboxField, MailboxListField
from .notifications import (
    CopiedEvent, CreatedEvent, DeletedEvent, Event, FreeBusyChangedEvent, ModifiedEvent, MovedEvent, NewMailEvent,
    Notification, StatusEvent, TimestampEvent,
)
from .rules import Actions, Address, Conditions, CopyToFolder, Exceptions, MoveToFolder, Rule  # noqa: E402
from .permissions import (CalendarPermission, DelegatePermissions, DelegateUser, Permission,  # noqa: E402
                          PermissionSet, UserId)
from .user_configuration import UserConfiguration  # noqa: E402
from .conversation import Conversation  # noqa: E402

__all__ = [
    "ATTACHMENT_CLASSES", "Attachment", "FileAttachment", "ItemAttachment", "ReferenceAttachment",
    "Body", "HTMLBody", "BodyField", "BODY_CLASSES",
    "AbchEmailAddress", "CompleteName", "ContactUrl", "DeletedOccurrence", "EffectiveRights", "Flag",
    "ManagedFolderInformation", "Member", "MessageHeader", "OccurrenceInfo", "ReminderMessageData",
    "ResponseObjectsField", "RetentionTag",
    "DISTINGUISHED_FOLDER_NAMES", "DistinguishedFolderId", "ExtendedProperty", "UID",
    "AttachmentId", "ConversationId", "FolderId", "ItemId", "OccurrenceItemId", "ParentFolderId", "ParentItemId",
    "RecurringMasterItemId", "RootItemId",
    "EmailAddress", "ImAddress", "IndexedEntry", "PhoneNumber", "PhysicalAddress",
    "Attendee", "AttendeesField", "Mailbox", "MailboxField", "MailboxListField",
    "Event", "TimestampEvent", "CopiedEvent", "CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent",
    "NewMailEvent", "StatusEvent", "FreeBusyChangedEvent", "Notification",
    "Actions", "Address", "Conditions", "CopyToFolder", "Exceptions", "MoveToFolder", "Rule",
    "CalendarPermission", "DelegatePermissions", "DelegateUser", "Permission", "PermissionSet", "UserId",
    "UserConfiguration", "Conversation",
]

# Scheduling and directory (issue 14)
from .alternate_id import (ENTRY_ID, EWS_ID, EWS_LEGACY_ID, HEX_ENTRY_ID, ID_FORMATS, OWA_ID, STORE_ID,  # noqa: E402
                           AlternateId)
from .availability import (CalendarEvent, CalendarEventDetails, DLMailbox, FreeBusyView, MailTips,  # noqa: E402
                           OutOfOffice, Room, RoomList, Suggestion, SuggestionDayResult, TimeZone, WorkingPeriod)
from .persona import Persona  # noqa: E402
from .timezones import TimeZoneDefinition  # noqa: E402

__all__ += ["AlternateId", "CalendarEvent", "CalendarEventDetails", "DLMailbox", "FreeBusyView", "MailTips",
            "OutOfOffice", "Room", "RoomList", "Suggestion", "SuggestionDayResult", "TimeZone", "WorkingPeriod",
            "Persona", "TimeZoneDefinition", "ID_FORMATS", "EWS_LEGACY_ID", "EWS_ID", "ENTRY_ID", "HEX_ENTRY_ID",
            "STORE_ID", "OWA_ID"]
