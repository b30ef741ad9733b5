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
from .extended import ExtendedProperty
from .distinguished import DISTINGUISHED_FOLDER_NAMES, DistinguishedFolderId
from .ids import (
    AttachmentId, ConversationId, FolderId, ItemId, OccurrenceItemId, ParentFolderId, ParentItemId,
    RecurringMasterItemId, RootItemId,
)
from .indexed import EmailAddress, ImAddress, IndexedEntry, PhoneNumber, PhysicalAddress
from .mailbox import Attendee, AttendeesField, Mailbox, MailboxField, MailboxListField
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
    "DISTINGUISHED_FOLDER_NAMES", "DistinguishedFolderId", "ExtendedProperty",
    "AttachmentId", "ConversationId", "FolderId", "ItemId", "OccurrenceItemId", "ParentFolderId", "ParentItemId",
    "RecurringMasterItemId", "RootItemId",
    "EmailAddress", "ImAddress", "IndexedEntry", "PhoneNumber", "PhysicalAddress",
    "Attendee", "AttendeesField", "Mailbox", "MailboxField", "MailboxListField",
    "Actions", "Address", "Conditions", "CopyToFolder", "Exceptions", "MoveToFolder", "Rule",
    "CalendarPermission", "DelegatePermissions", "DelegateUser", "Permission", "PermissionSet", "UserId",
    "UserConfiguration", "Conversation",
]
