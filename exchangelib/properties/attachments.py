"""Attachments: files, attached items and cloud references.

::

    FileAttachment(name='report.txt', content=b'...')
    ItemAttachment(name='Meeting', item=CalendarItem(subject='...'))

These classes hold the data and map it to XML. What needs the server is delegated to the item the
attachment belongs to (``parent_item``, see :mod:`exchangelib.items.attachment_methods`), so this model
module never imports a service: a saved file attachment's ``content`` is fetched on first access,
``fp`` streams it, and ``save(directory)`` writes it to a file without holding it in memory.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/attachments-ex15websvcsotherref
"""
from __future__ import annotations

import io
import logging
import os
import re
import tempfile
from typing import Any, Iterator, List, Optional, Union

from lxml import etree

from ..elements import EWSElement
from ..fields import Base64Field, BooleanField, CharField, DateTimeField, EWSElementField, EWSElementListField, Field, IntegerField
from ..registry import ITEM_CLASSES
from ..version import EXCHANGE_2010, EXCHANGE_2016
from ..xml import TNS
from .ids import AttachmentId

log = logging.getLogger(__name__)

Element = etree._Element

#: Element names an ItemAttachment's item can have (the choice in ``ItemAttachmentType``).
ITEM_ATTACHMENT_ELEMENTS = ("Item", "Message", "SharingMessage", "CalendarItem", "Contact", "MeetingMessage",
                            "MeetingRequest", "MeetingResponse", "MeetingCancellation", "Task", "PostItem",
                            "RoleMember", "Network", "Person")


class Attachment(EWSElement):
    """Fields every attachment kind has (``AttachmentType``).

    ``parent_item`` (not a field) is the item the attachment belongs to, when known.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/attachments-ex15websvcsotherref
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

    # Equality looks at what is loaded: comparing attachments never downloads their content.
    def _loaded(self) -> tuple:
        d = self.__dict__
        return tuple(d.get(f.name, f.default) for f in type(self).FIELDS)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._loaded() == other._loaded()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.attachment_id, self.name, self.size))

    def _server_parent(self) -> Any:
        """The item that can fetch this attachment from the server, or None if there is none."""
        parent = self.parent_item
        if self.attachment_id is None or parent is None or getattr(parent, "account", None) is None:
            return None
        return parent if hasattr(parent, "_fetch_attachment") else None

    def _require_server_parent(self) -> Any:
        parent = self._server_parent()
        if parent is None:
            what = f"{type(self).__name__} {self.name!r}"
            if self.attachment_id is None:
                raise ValueError(f"{what} is not saved on the server; there is nothing to download")
            raise ValueError(f"{what} is not connected to an account: read attachments from items fetched "
                             f"through an Account")
        return parent


class _LazyContentField(Base64Field):
    """A file attachment's content: downloaded (GetAttachment) the first time a saved attachment's is read."""

    def __get__(self, instance: Any, owner: Optional[type] = None) -> Any:
        if instance is None:
            return self
        d = instance.__dict__
        if self.name not in d:
            parent = instance._server_parent()
            if parent is not None:
                parent._fetch_attachment(instance)
        return d.get(self.name, self.default)


class FileAttachment(Attachment):
    """A file attached to an item. ``content`` is the file's bytes.

    On an attachment read from the server, ``content`` is downloaded the first time it is read. For big
    files use :attr:`fp` (a file object streaming from the server) or :meth:`save` instead, which never
    hold the whole file in memory.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/fileattachment
    """

    ELEMENT_NAME = "FileAttachment"
    is_contact_photo = BooleanField(xml_name="IsContactPhoto", supported_from=EXCHANGE_2010)
    content = _LazyContentField(xml_name="Content")

    @property
    def fp(self) -> io.BufferedReader:
        """A new read-only binary file object over the content, streamed from the server in chunks.

        Use it as a context manager (``with attachment.fp as f: ...``); closing it early ends the download.
        Content already in memory (a new attachment, or one whose ``content`` was read) is served from there.
        """
        content = self.__dict__.get("content")
        if content is not None:
            return io.BufferedReader(io.BytesIO(content))
        parent = self._require_server_parent()
        return io.BufferedReader(_ChunkStream(parent._stream_attachment(self)), buffer_size=_STREAM_BUFFER)

    def save(self, directory: Union[str, "os.PathLike[str]"], filename: Optional[str] = None,
             overwrite: bool = False) -> str:
        """Write the file into ``directory`` (which must exist) and return the path written.

        The name is ``filename`` or the attachment's ``name``, reduced to a plain file name: directory parts,
        ``..``, control characters and names Windows reserves are removed, so the file always lands
        directly inside ``directory``. An existing file is kept and the new one gets a `` (1)``, `` (2)`` ...
        suffix, unless ``overwrite=True``. The content is streamed to a temporary file in the same directory
        and renamed into place when complete, so a failed download leaves nothing behind.
        """
        target_dir = os.path.realpath(os.fspath(directory))
        if not os.path.isdir(target_dir):
            raise ValueError(f"FileAttachment.save(): {os.fspath(directory)!r} is not an existing directory")
        name = safe_filename(filename if filename is not None else (self.name or ""), default="attachment")
        fd, tmp = tempfile.mkstemp(prefix=".exchangelib-", suffix=".part", dir=target_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in self._chunks():
                    out.write(chunk)
            return _place(tmp, target_dir, name, overwrite)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def _chunks(self) -> Iterator[bytes]:
        content = self.__dict__.get("content")
        if content is not None:
            yield content
            return
        parent = self._server_parent()
        if parent is None:
            if self.attachment_id is None:
                raise ValueError(f"FileAttachment {self.name!r} has no content")
            self._require_server_parent()
        yield from parent._stream_attachment(self)

    def __repr__(self) -> str:
        # Never dump the whole file into a repr (and never download it for one).
        content = self.__dict__.get("content")
        size = len(content) if content is not None else self.size
        return (f"FileAttachment(name={self.name!r}, content_type={self.content_type!r}, "
                f"attachment_id={self.attachment_id!r}, content=<{size} bytes>)")


_STREAM_BUFFER = 256 * 1024


class _ChunkStream(io.RawIOBase):
    """A raw binary stream over an iterator of byte chunks (closing it closes the iterator)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buffer))
        b[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        super().close()


_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_MAX_NAME_BYTES = 255


def safe_filename(name: str, default: str = "attachment") -> str:
    """``name`` reduced to one safe file name component (no directories, no ``..``, no control characters)."""
    if not isinstance(name, str):
        raise TypeError(f"A file name must be a str, got {type(name).__name__}")
    base = re.split(r"[/\\]", name)[-1]
    base = _UNSAFE_CHARS.sub("_", base).strip().strip(".")
    if not base:
        base = default
    if _WINDOWS_RESERVED.match(base):
        base = f"_{base}"
    while len(base.encode("utf-8")) > _MAX_NAME_BYTES:
        stem, ext = os.path.splitext(base)
        base = (stem[:-1] + ext) if len(stem) > 1 else base[:-1]
    return base


def _place(tmp: str, directory: str, name: str, overwrite: bool) -> str:
    """Move the finished temporary file to ``directory/name`` (or a free variant of it)."""
    stem, ext = os.path.splitext(name)
    n = 0
    while True:
        candidate = name if n == 0 else f"{stem} ({n}){ext}"
        final = os.path.join(directory, candidate)
        if os.path.dirname(os.path.abspath(final)) != directory:  # belt and braces: never outside
            raise ValueError(f"Refusing to write {candidate!r} outside {directory!r}")
        if overwrite:
            if os.path.isdir(final):
                raise ValueError(f"FileAttachment.save(): {final!r} is a directory")
            os.replace(tmp, final)
            return final
        try:
            os.link(tmp, final)  # fails if the name exists: no check-then-write race
        except FileExistsError:
            n += 1
            continue
        except OSError:
            if os.path.lexists(final):
                n += 1
                continue
            os.replace(tmp, final)  # file systems without hard links
            return final
        os.unlink(tmp)
        return final


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
        local = elem.tag.rpartition("}")[2]
        cls = ITEM_CLASSES.get(local)
        if cls is None:
            # SharingMessage, RoleMember, ...: kinds we don't model read as the closest base we have.
            cls = ITEM_CLASSES.get("Message" if local == "SharingMessage" else "Item")
        return cls.from_xml(elem, account) if cls is not None else None

    def to_text(self, value: Any) -> str:
        raise ValueError(f"{self.label} can't be written as plain text")


class _LazyItemField(ItemField):
    """An item attachment's item: fetched (GetAttachment, with all its properties) on first access."""

    def __get__(self, instance: Any, owner: Optional[type] = None) -> Any:
        if instance is None:
            return self
        d = instance.__dict__
        if self.name not in d:
            parent = instance._server_parent()
            if parent is not None:
                parent._fetch_attachment(instance)
        return d.get(self.name, self.default)


class ItemAttachment(Attachment):
    """An item (message, calendar item, ...) attached to another item.

    On an attachment read from the server, ``item`` is fetched the first time it is read: a full item,
    with its own attachments.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/itemattachment
    """

    ELEMENT_NAME = "ItemAttachment"
    item = _LazyItemField()


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


class AttachmentListField(EWSElementListField):
    """``item.attachments``: always a list, empty on an item without attachments (never None).

    The empty list is kept on the instance on first read, so ``item.attachments.append(...)`` on a new
    item behaves like ``attach()`` before the first save. It is not a change to save: an empty list is
    never serialised.
    """

    def __get__(self, instance: Any, owner: Optional[type] = None) -> Any:
        if instance is None:
            return self
        d = instance.__dict__
        value = d.get(self.name)
        if value is None:
            value = d[self.name] = []
        return value

__all__ = ["Attachment", "FileAttachment", "ItemAttachment", "ReferenceAttachment", "ItemField",
           "ATTACHMENT_CLASSES", "ITEM_ATTACHMENT_ELEMENTS", "safe_filename"]
