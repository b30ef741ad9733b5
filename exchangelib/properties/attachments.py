"""Attachments (data only): files, attached items and cloud references.

::

    FileAttachment(name='report.txt', content=b'...')
    ItemAttachment(name='Meeting', item=CalendarItem(subject='...'))

Creating, fetching and deleting attachments on the server is done by other modules; these classes
hold the data and map it to XML.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/attachments-ex15websvcsotherref
"""
from __future__ import annotations

from typing import Any, List, Optional

from lxml import etree

from ..elements import EWSElement
from ..fields import Base64Field, BooleanField, CharField, DateTimeField, EWSElementField, Field, IntegerField
from ..registry import ITEM_CLASSES
from ..version import EXCHANGE_2010, EXCHANGE_2016
from ..xml import TNS
from .ids import AttachmentId

Element = etree._Element

#: Element names an ItemAttachment's item can have (the choice in ``ItemAttachmentType``).
ITEM_ATTACHMENT_ELEMENTS = ("Item", "Message", "SharingMessage", "CalendarItem", "Contact", "MeetingMessage",
                            "MeetingRequest", "MeetingResponse", "MeetingCancellation", "Task", "PostItem",
                            "RoleMember", "Network", "Person")


class Attachment(EWSElement):
    """Fields every attachment kind has (``AttachmentType``).

    ``parent_item`` (not a field) is the item the attachment belongs to, when known.
    """

    _EXTRA_ATTRS = ("parent_item",)
    parent_item: Any = None

    attachment_id = EWSElementField(xml_name="AttachmentId", value_cls=AttachmentId, is_read_only=True)
    name = CharField(xml_name="Name")
    content_type = CharField(xml_name="ContentType")
    content_id = CharField(xml_name="ContentId")
    content_location = CharField(xml_name="ContentLocation")
    attachment_original_url = CharField(xml_name="AttachmentOriginalUrl", is_read_only=True,
                                        supported_from=EXCHANGE_2016)
    size = IntegerField(xml_name="Size", is_read_only=True)
    last_modified_time = DateTimeField(xml_name="LastModifiedTime", is_read_only=True)
    is_inline = BooleanField(xml_name="IsInline")

    def __init__(self, **kwargs: Any):
        parent_item = kwargs.pop("parent_item", None)
        super().__init__(**kwargs)
        if parent_item is not None:
            self.parent_item = parent_item

    def _set_id(self, id: Optional[str], root_id: Optional[str] = None, root_changekey: Optional[str] = None) -> None:
        """Record the id the server gave this attachment (library use)."""
        self._set_field("attachment_id", AttachmentId._construct(id=id, root_id=root_id,
                                                                 root_changekey=root_changekey) if id else None)


class FileAttachment(Attachment):
    """A file attached to an item. ``content`` is the file's bytes.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/fileattachment
    """

    ELEMENT_NAME = "FileAttachment"
    is_contact_photo = BooleanField(xml_name="IsContactPhoto", supported_from=EXCHANGE_2010)
    content = Base64Field(xml_name="Content")

    def __repr__(self) -> str:
        # Never dump the whole file into a repr.
        size = len(self.content) if self.content is not None else None
        return (f"FileAttachment(name={self.name!r}, content_type={self.content_type!r}, "
                f"attachment_id={self.attachment_id!r}, content=<{size} bytes>)")


class ItemField(Field):
    """An item inside an ItemAttachment; its element name says which item kind it is."""

    is_complex = True

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        super().__init__(None, xml_name="Item", **kwargs)
        self.value_cls = EWSElement

    @property
    def tags(self) -> List[str]:
        return [f"{{{TNS}}}{name}" for name in ITEM_ATTACHMENT_ELEMENTS]

    def _clean_one(self, value: Any, where: str) -> Any:
        if not isinstance(value, EWSElement) or value.ELEMENT_NAME not in ITEM_ATTACHMENT_ELEMENTS:
            raise TypeError(f"{where} expects an item (Message, CalendarItem, ...), got {type(value).__name__}")
        return value

    def add_to(self, parent: Element, value: Any, version: Any = None) -> None:
        elem = etree.SubElement(parent, value.qualified_tag())
        # An attached item is written like a new item: only the fields a user can set.
        writable = getattr(value, "_WRITABLE_ELEMENT_FIELDS", None)
        value._fill_xml(elem, version, writable)

    def to_xml(self, value: Any, version: Any = None) -> Element:
        return value.to_xml(version)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        local = etree.QName(elem).localname
        cls = ITEM_CLASSES.get(local)
        if cls is None:
            # SharingMessage, RoleMember, ...: kinds we don't model read as the closest base we have.
            cls = ITEM_CLASSES.get("Message" if local == "SharingMessage" else "Item")
        return cls.from_xml(elem, account) if cls is not None else None

    def to_text(self, value: Any) -> str:
        raise ValueError(f"{self.label} can't be written as plain text")


class ItemAttachment(Attachment):
    """An item (message, calendar item, ...) attached to another item.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/itemattachment
    """

    ELEMENT_NAME = "ItemAttachment"
    item = ItemField()


class ReferenceAttachment(Attachment):
    """A link to a file in cloud storage (OneDrive, SharePoint) shown as an attachment (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/referenceattachment
    """

    ELEMENT_NAME = "ReferenceAttachment"
    attach_long_path_name = CharField(xml_name="AttachLongPathName", supported_from=EXCHANGE_2016)
    provider_type = CharField(xml_name="ProviderType", supported_from=EXCHANGE_2016)
    provider_endpoint_url = CharField(xml_name="ProviderEndpointUrl", supported_from=EXCHANGE_2016)
    attachment_thumbnail_url = CharField(xml_name="AttachmentThumbnailUrl", supported_from=EXCHANGE_2016)
    attachment_preview_url = CharField(xml_name="AttachmentPreviewUrl", supported_from=EXCHANGE_2016)
    permission_type = IntegerField(xml_name="PermissionType", supported_from=EXCHANGE_2016)
    original_permission_type = IntegerField(xml_name="OriginalPermissionType", supported_from=EXCHANGE_2016)
    attachment_is_folder = BooleanField(xml_name="AttachmentIsFolder", supported_from=EXCHANGE_2016)


ATTACHMENT_CLASSES = (ItemAttachment, FileAttachment, ReferenceAttachment)

__all__ = ["Attachment", "FileAttachment", "ItemAttachment", "ReferenceAttachment", "ItemField",
           "ATTACHMENT_CLASSES", "ITEM_ATTACHMENT_ELEMENTS"]
