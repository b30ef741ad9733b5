"""Small value types used by items and folders (rights, flags, names, reminders, headers, occurrences)."""
from __future__ import annotations

from typing import Any, List, Optional

from lxml import etree

from ..elements import EWSElement
from ..fields import (
    BooleanField, CharField, ChoiceField, DateTimeField, EWSElementField, Field, GuidField, IntegerField,
    TextContentField,
)
from ..version import EXCHANGE_2010
from .ids import ItemId
from .mailbox import MailboxField

Element = etree._Element

FLAG_STATUS_CHOICES = frozenset(("NotFlagged", "Flagged", "Complete"))
MEMBER_STATUS_CHOICES = frozenset(("Unrecognized", "Normal", "Demoted"))
CONTACT_URL_TYPE_CHOICES = frozenset(("Personal", "Business", "Attachment", "EbcDisplayDefinition", "EbcFinalImage",
                                      "EbcLogo", "Feed", "Image", "InternalMarker", "Other"))
ABCH_EMAIL_TYPE_CHOICES = frozenset(("Personal", "Business", "Other", "Passport"))


class EffectiveRights(EWSElement):
    """What the connecting user may do with an item or folder (read-only, set by the server).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/effectiverights
    """

    ELEMENT_NAME = "EffectiveRights"
    COMPACT = True  # one per parsed item or folder: slots, no instance dict
    create_associated = BooleanField(xml_name="CreateAssociated", default=False)
    create_contents = BooleanField(xml_name="CreateContents", default=False)
    create_hierarchy = BooleanField(xml_name="CreateHierarchy", default=False)
    delete = BooleanField(xml_name="Delete", default=False)
    modify = BooleanField(xml_name="Modify", default=False)
    read = BooleanField(xml_name="Read", default=False)
    view_private_items = BooleanField(xml_name="ViewPrivateItems", supported_from=EXCHANGE_2010)

    def _fill_xml(self, elem: Element, version: Any, fields: Any = None) -> None:
        # The six rights are required by the schema; write False for unset ones.
        d = self.__dict__
        for f in type(self).FIELDS if fields is None else fields:
            value = d.get(f.name, f.default)
            if value is None or (version is not None and not f.is_supported(version)):
                continue
            f.add_to(elem, value, version)

    def __contains__(self, item: str) -> bool:
        """``'read' in folder.effective_rights``."""
        return bool(getattr(self, item, False))


class Flag(EWSElement):
    """A follow-up flag on an item.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/flag
    """

    ELEMENT_NAME = "Flag"
    flag_status = ChoiceField(xml_name="FlagStatus", choices=FLAG_STATUS_CHOICES, is_required=True)
    start_date = DateTimeField(xml_name="StartDate")
    due_date = DateTimeField(xml_name="DueDate")
    complete_date = DateTimeField(xml_name="CompleteDate")

    def clean(self, version: Any = None) -> None:
        super().clean(version)
        if self.flag_status == "Flagged" and (self.start_date is None) != (self.due_date is None):
            raise ValueError("Flag: start_date and due_date must be set together")
        if self.flag_status == "Complete" and self.complete_date is None:
            raise ValueError("Flag: complete_date is required when flag_status is 'Complete'")


class CompleteName(EWSElement):
    """All the parts of a contact's name (read-only; set the parts on the Contact instead).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/completename
    """

    ELEMENT_NAME = "CompleteName"
    title = CharField(xml_name="Title")
    first_name = CharField(xml_name="FirstName")
    middle_name = CharField(xml_name="MiddleName")
    last_name = CharField(xml_name="LastName")
    suffix = CharField(xml_name="Suffix")
    initials = CharField(xml_name="Initials")
    full_name = CharField(xml_name="FullName")
    nickname = CharField(xml_name="Nickname")
    yomi_first_name = CharField(xml_name="YomiFirstName")
    yomi_last_name = CharField(xml_name="YomiLastName")


class ReminderMessageData(EWSElement):
    """The data of a reminder message about a calendar item.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/remindermessagedata
    """

    ELEMENT_NAME = "ReminderMessageData"
    reminder_text = CharField(xml_name="ReminderText")
    location = CharField(xml_name="Location")
    start_time = DateTimeField(xml_name="StartTime")
    end_time = DateTimeField(xml_name="EndTime")
    associated_calendar_item_id = EWSElementField(xml_name="AssociatedCalendarItemId", value_cls=ItemId)


class MessageHeader(EWSElement):
    """One Internet message header (``name: value``) of a received message.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/internetmessageheader
    """

    ELEMENT_NAME = "InternetMessageHeader"
    name = CharField(xml_name="HeaderName", is_attribute=True, is_required=True)
    value = TextContentField()


class RetentionTag(EWSElement):
    """A retention or archive policy tag: a GUID and whether it was set explicitly.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/policytag
    """

    ELEMENT_NAME = "PolicyTag"
    is_explicit = BooleanField(xml_name="IsExplicit", is_attribute=True, is_required=True)
    id = GuidField(xml_name="#text", is_text=True, is_required=True)


class OccurrenceInfo(EWSElement):
    """One occurrence of a recurring series (first, last or a modified occurrence).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/occurrence
    """

    ELEMENT_NAME = "Occurrence"
    item_id = EWSElementField(xml_name="ItemId", value_cls=ItemId, is_required=True)
    start = DateTimeField(xml_name="Start", is_required=True)
    end = DateTimeField(xml_name="End", is_required=True)
    original_start = DateTimeField(xml_name="OriginalStart", is_required=True)


class DeletedOccurrence(EWSElement):
    """A deleted occurrence of a recurring series, by its start time.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deletedoccurrence
    """

    ELEMENT_NAME = "DeletedOccurrence"
    start = DateTimeField(xml_name="Start", is_required=True)


class Member(EWSElement):
    """A member of a distribution list.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/member-membertype
    """

    ELEMENT_NAME = "Member"
    key = CharField(xml_name="Key", is_attribute=True)
    mailbox = MailboxField(xml_name="Mailbox", wrapped=False, is_required=True)
    status = ChoiceField(xml_name="Status", choices=MEMBER_STATUS_CHOICES, default="Normal")

    def __hash__(self) -> int:
        return hash((self.key, self.mailbox))

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)


class ContactUrl(EWSElement):
    """A URL stored on a contact.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/contacturl
    """

    ELEMENT_NAME = "Url"
    type = ChoiceField(xml_name="Type", choices=CONTACT_URL_TYPE_CHOICES, is_required=True)
    name = CharField(xml_name="Name")
    address = CharField(xml_name="Address")


class AbchEmailAddress(EWSElement):
    """An address-book (ABCH) email address of a contact.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/abchemailaddresses
    """

    ELEMENT_NAME = "Email"
    type = ChoiceField(xml_name="Type", choices=ABCH_EMAIL_TYPE_CHOICES, is_required=True)
    address = CharField(xml_name="Address", is_required=True)
    is_messenger_enabled = BooleanField(xml_name="IsMessengerEnabled")
    capabilities = IntegerField(xml_name="Capabilities")


class ManagedFolderInformation(EWSElement):
    """Managed (messaging records management) folder information.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/managedfolderinformation
    """

    ELEMENT_NAME = "ManagedFolderInformation"
    can_delete = BooleanField(xml_name="CanDelete")
    can_rename_or_move = BooleanField(xml_name="CanRenameOrMove")
    must_display_comment = BooleanField(xml_name="MustDisplayComment")
    has_quota = BooleanField(xml_name="HasQuota")
    is_managed_folders_root = BooleanField(xml_name="IsManagedFoldersRoot")
    managed_folder_id = CharField(xml_name="ManagedFolderId")
    comment = CharField(xml_name="Comment")
    storage_quota = IntegerField(xml_name="StorageQuota")
    folder_size = IntegerField(xml_name="FolderSize")
    home_page = CharField(xml_name="HomePage")


class ResponseObjectsField(Field):
    """The responses the server allows on an item (``ReplyToItem``, ``AcceptItem``, ...), as a list of names.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responseobjects
    """

    value_cls = str
    is_list = True
    is_complex = True

    def __init__(self, field_uri: Optional[str] = None, **kwargs: Any):
        kwargs.setdefault("is_read_only", True)
        kwargs.setdefault("is_searchable", False)
        super().__init__(field_uri, **kwargs)

    def _fill(self, elem: Element, value: Any, version: Any) -> None:
        for name in value:
            etree.SubElement(elem, f"{{{self.namespace}}}{name}")

    def from_xml(self, elem: Element, account: Any = None) -> List[str]:
        return [c.tag.rpartition("}")[2] for c in elem if isinstance(c.tag, str)]


__all__ = [
    "FLAG_STATUS_CHOICES", "MEMBER_STATUS_CHOICES", "EffectiveRights", "Flag", "CompleteName",
    "ReminderMessageData", "MessageHeader", "RetentionTag", "OccurrenceInfo", "DeletedOccurrence", "Member",
    "ContactUrl", "AbchEmailAddress", "ManagedFolderInformation", "ResponseObjectsField",
]
