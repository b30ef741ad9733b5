"""Item: the fields every item kind has (``ItemType`` in types.xsd), in schema order."""
from __future__ import annotations

from typing import Any, ClassVar, Optional, Tuple, Union

from lxml import etree

from ..fields import (
    Base64Field, BooleanField, CharField, CharListField, ChoiceField, DateTimeField, EWSElementField,
    EWSElementListField, IntegerField, MimeContentField, RawXmlField, TextField,
)
from ..properties import (
    BodyField, ConversationId, EffectiveRights, Flag, ItemId, MailboxListField, MessageHeader, ParentFolderId,
    ResponseObjectsField, RetentionTag,
)
from ..properties.attachments import ATTACHMENT_CLASSES, AttachmentListField
from ..properties.identified import IdentifiedElement
from ..registry import ITEM_CLASSES
from ..version import (
    EXCHANGE_2007_SP1, EXCHANGE_2010, EXCHANGE_2010_SP2, EXCHANGE_2013, EXCHANGE_2016, Build, Version,
)
from .attachment_methods import AttachmentMethods
from .admin_methods import ItemAdminMethods
from .methods import ItemMethods

Element = etree._Element
VersionLike = Union[Version, Build, None]

SENSITIVITY_CHOICES = frozenset(("Normal", "Personal", "Private", "Confidential"))
IMPORTANCE_CHOICES = frozenset(("Low", "Normal", "High"))
ICON_INDEX_CHOICES = frozenset((
    "Default", "PostItem", "MailRead", "MailUnread", "MailReplied", "MailForwarded", "MailEncrypted",
    "MailSmimeSigned", "MailEncryptedReplied", "MailSmimeSignedReplied", "MailEncryptedForwarded",
    "MailSmimeSignedForwarded", "MailEncryptedRead", "MailSmimeSignedRead", "MailIrm", "MailIrmForwarded",
    "MailIrmReplied", "SmsSubmitted", "SmsRoutedToDeliveryPoint", "SmsRoutedToExternalMessagingSystem",
    "SmsDelivered", "OutlookDefaultForContacts", "AppointmentItem", "AppointmentRecur", "AppointmentMeet",
    "AppointmentMeetRecur", "AppointmentMeetNY", "AppointmentMeetYes", "AppointmentMeetNo",
))
INFERENCE_CLASSIFICATION_CHOICES = frozenset(("Focused", "Other"))
#: xs:language, e.g. "en-US"
LANGUAGE_TAG = r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*"



class Item(AttachmentMethods, ItemMethods, ItemAdminMethods, IdentifiedElement):
    """A generic item in a mailbox folder; the base of all item kinds.

    ``Item(account=None, folder=None, **fields)``. ``account`` and ``folder`` are plain attributes
    (never sent to the server). Read-only fields (``datetime_created``, ``size``, ...) are set by the
    server and refused in the constructor and on assignment.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/item
    """

    ELEMENT_NAME = "Item"
    REPR_FIELDS: ClassVar[Optional[Tuple[str, ...]]] = ("_id", "subject", "datetime_received")
    # Exchange sends the conversation topic, the subject without RE:/FW:, with every item: usually the same text
    _SAME_TEXT = (("conversation_topic", "subject"),)
    SET_FIELD_ELEMENT = "SetItemField"
    DELETE_FIELD_ELEMENT = "DeleteItemField"
    #: Container class of folders this item kind usually lives in.
    CONTAINER_CLASS: ClassVar[Optional[str]] = None
    _EXTRA_ATTRS = ("account", "folder")

    #: The account this item belongs to (set by the library when the item is fetched or saved).
    account: Any = None
    #: The folder this item is (or will be) saved in.
    folder: Any = None

    mime_content = MimeContentField("item:MimeContent", is_read_only_after_send=True)
    _id = EWSElementField("item:ItemId", value_cls=ItemId, is_read_only=True)
    parent_folder_id = EWSElementField("item:ParentFolderId", value_cls=ParentFolderId, is_read_only=True)
    item_class = CharField("item:ItemClass", is_read_only_after_send=True, shared=True)
    subject = CharField("item:Subject", max_length=255, is_searchable=True)
    sensitivity = ChoiceField("item:Sensitivity", choices=SENSITIVITY_CHOICES)
    body = BodyField("item:Body", is_read_only_after_send=True)
    attachments = AttachmentListField("item:Attachments", value_cls=ATTACHMENT_CLASSES)
    datetime_received = DateTimeField("item:DateTimeReceived", is_read_only=True)
    size = IntegerField("item:Size", is_read_only=True)
    categories = CharListField("item:Categories", shared=True)
    importance = ChoiceField("item:Importance", choices=IMPORTANCE_CHOICES)
    in_reply_to = TextField("item:InReplyTo")
    is_submitted = BooleanField("item:IsSubmitted", is_read_only=True)
    is_draft = BooleanField("item:IsDraft", is_read_only=True)
    is_from_me = BooleanField("item:IsFromMe", is_read_only=True)
    is_resend = BooleanField("item:IsResend", is_read_only=True)
    is_unmodified = BooleanField("item:IsUnmodified", is_read_only=True)
    headers = EWSElementListField("item:InternetMessageHeaders", value_cls=MessageHeader, is_read_only=True)
    datetime_sent = DateTimeField("item:DateTimeSent", is_read_only=True)
    datetime_created = DateTimeField("item:DateTimeCreated", is_read_only=True)
    response_objects = ResponseObjectsField("item:ResponseObjects")
    reminder_due_by = DateTimeField("item:ReminderDueBy")
    reminder_is_set = BooleanField("item:ReminderIsSet")
    reminder_next_time = DateTimeField("item:ReminderNextTime", is_read_only=True, supported_from=EXCHANGE_2013)
    reminder_minutes_before_start = IntegerField("item:ReminderMinutesBeforeStart", min=0, max=2629800)
    # (in a mailbox these are mostly the owner's name or a few lists: shared strings)
    display_cc = TextField("item:DisplayCc", is_read_only=True, shared=True)
    display_to = TextField("item:DisplayTo", is_read_only=True, shared=True)
    display_bcc = TextField("item:DisplayBcc", is_read_only=True, supported_from=EXCHANGE_2013)
    has_attachments = BooleanField("item:HasAttachments", is_read_only=True)
    culture = CharField("item:Culture", is_searchable=False, regex=LANGUAGE_TAG, shared=True)
    effective_rights = EWSElementField("item:EffectiveRights", value_cls=EffectiveRights, is_read_only=True,
                                       supported_from=EXCHANGE_2007_SP1)
    last_modified_name = CharField("item:LastModifiedName", is_read_only=True, supported_from=EXCHANGE_2007_SP1,
                                   shared=True)
    last_modified_time = DateTimeField("item:LastModifiedTime", is_read_only=True,
                                       supported_from=EXCHANGE_2007_SP1)
    is_associated = BooleanField("item:IsAssociated", supported_from=EXCHANGE_2010)
    web_client_read_form_query_string = CharField("item:WebClientReadFormQueryString", is_read_only=True,
                                                  supported_from=EXCHANGE_2010)
    web_client_edit_form_query_string = CharField("item:WebClientEditFormQueryString", is_read_only=True,
                                                  supported_from=EXCHANGE_2010)
    conversation_id = EWSElementField("item:ConversationId", value_cls=ConversationId, is_read_only=True,
                                      supported_from=EXCHANGE_2010)
    unique_body = BodyField("item:UniqueBody", is_read_only=True, supported_from=EXCHANGE_2010)
    flag = EWSElementField("item:Flag", value_cls=Flag, supported_from=EXCHANGE_2013)
    store_entry_id = Base64Field("item:StoreEntryId", is_read_only=True, supported_from=EXCHANGE_2010_SP2)
    instance_key = Base64Field("item:InstanceKey", is_read_only=True, supported_from=EXCHANGE_2013)
    normalized_body = BodyField("item:NormalizedBody", is_read_only=True, supported_from=EXCHANGE_2013)
    entity_extraction_result = RawXmlField("item:EntityExtractionResult", supported_from=EXCHANGE_2013)
    policy_tag = EWSElementField("item:PolicyTag", value_cls=RetentionTag, supported_from=EXCHANGE_2013)
    archive_tag = EWSElementField("item:ArchiveTag", value_cls=RetentionTag, supported_from=EXCHANGE_2013)
    retention_date = DateTimeField("item:RetentionDate", is_read_only=True, supported_from=EXCHANGE_2013)
    preview = TextField("item:Preview", is_read_only=True, supported_from=EXCHANGE_2013)
    rights_management_license_data = RawXmlField("item:RightsManagementLicenseData", supported_from=EXCHANGE_2013)
    predicted_action_reasons = RawXmlField("item:PredictedActionReasons", supported_from=EXCHANGE_2013)
    is_clutter = BooleanField("item:IsClutter", is_read_only=True, supported_from=EXCHANGE_2013)
    block_status = BooleanField("item:BlockStatus", is_read_only=True, supported_from=EXCHANGE_2013)
    has_blocked_images = BooleanField("item:HasBlockedImages", is_read_only=True, supported_from=EXCHANGE_2013)
    text_body = BodyField("item:TextBody", is_read_only=True, supported_from=EXCHANGE_2013)
    icon_index = ChoiceField("item:IconIndex", choices=ICON_INDEX_CHOICES, is_read_only=True,
                             supported_from=EXCHANGE_2013)
    search_key = Base64Field(xml_name="SearchKey", is_read_only=True, supported_from=EXCHANGE_2016)
    sort_key = IntegerField(xml_name="SortKey", is_read_only=True, is_searchable=False, supported_from=EXCHANGE_2016)
    hashtags = CharListField("item:Hashtags", supported_from=EXCHANGE_2016)
    mentions = MailboxListField("item:Mentions", is_read_only=True, supported_from=EXCHANGE_2016)
    mentioned_me = BooleanField("item:MentionedMe", is_read_only=True, supported_from=EXCHANGE_2016)
    mentions_preview = RawXmlField("item:MentionsPreview", supported_from=EXCHANGE_2016)
    mentions_ex = RawXmlField("item:MentionsEx", supported_from=EXCHANGE_2016)
    applied_hashtags = RawXmlField("item:AppliedHashtags", supported_from=EXCHANGE_2016)
    applied_hashtags_preview = RawXmlField("item:AppliedHashtagsPreview", supported_from=EXCHANGE_2016)
    likes = RawXmlField("item:Likes", supported_from=EXCHANGE_2016)
    likes_preview = RawXmlField("item:LikesPreview", supported_from=EXCHANGE_2016)
    pending_social_activity_tag_ids = CharListField("item:PendingSocialActivityTagIds", is_read_only=True,
                                                    supported_from=EXCHANGE_2016)
    at_all_mention = BooleanField("item:AtAllMention", is_read_only=True, supported_from=EXCHANGE_2016)
    can_delete = BooleanField("item:CanDelete", is_read_only=True, supported_from=EXCHANGE_2016)
    inference_classification = ChoiceField("item:InferenceClassification", choices=INFERENCE_CLASSIFICATION_CHOICES,
                                           supported_from=EXCHANGE_2016)

    # Per-class cache of the element fields CreateItem sends (writable ones).
    ID_CLASS = ItemId
    ID_ALIAS = "item_id"
    EXTENDED_PROPERTY_ANCHOR = "has_attachments"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("ELEMENT_NAME"):
            ITEM_CLASSES[cls.ELEMENT_NAME] = cls

    def __init__(self, account: Any = None, folder: Any = None, **kwargs: Any):
        # An item can be built as a reference to a server item: Item(id=..., changekey=...).
        item_id, changekey = self._pop_id_kwargs(kwargs)
        super().__init__(**kwargs)
        if account is not None:
            self.account = account
        if folder is not None:
            self.folder = folder
        if item_id is not None or changekey is not None:
            self._set_id(item_id, changekey)

    @property
    def item_id(self) -> Optional[str]:
        """Alias of :attr:`id`."""
        return self.id


__all__ = ["Item", "SENSITIVITY_CHOICES", "IMPORTANCE_CHOICES"]
