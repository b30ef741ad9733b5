"""Attachments (``from exchangelib.attachments import FileAttachment``).

The classes live in :mod:`exchangelib.properties.attachments`; this module keeps exchangelib 5.x's import path.
"""
from .properties.attachments import Attachment, FileAttachment, ItemAttachment, ReferenceAttachment
from .properties.ids import AttachmentId

__all__ = ["Attachment", "AttachmentId", "FileAttachment", "ItemAttachment", "ReferenceAttachment"]
