"""Folder kinds and well-known folders.

``from exchangelib.folders import Calendar, CalendarItem`` works (item classes are re-exported here
for compatibility with older examples).
"""
from __future__ import annotations

from ..items import (
    CalendarItem, Contact, DistributionList, Item, MeetingCancellation, MeetingMessage, MeetingRequest,
    MeetingResponse, Message, PostItem, Task,
)
from ..registry import DISTINGUISHED_FOLDER_CLASSES, FOLDER_CLASSES
from .base import BaseFolder, CalendarFolder, ContactsFolder, Folder, SearchFolder, TasksFolder
from ..properties import DistinguishedFolderId, FolderId
from .collection import FolderTree
from .collections import (ASSOCIATED, DEEP, FOLDER_TRAVERSAL_CHOICES, SHALLOW, SOFT_DELETED,  # noqa: F401
                          FolderCollection, SingleFolderQuerySet)
from .known import *  # noqa: F401,F403 - one class per distinguished folder
from .known import KNOWN_FOLDER_CLASSES
from .known import __all__ as _known_all
from .navigation import glob_escape

__all__ = [
    "BaseFolder", "Folder", "CalendarFolder", "ContactsFolder", "SearchFolder", "TasksFolder",
    "FOLDER_CLASSES", "DISTINGUISHED_FOLDER_CLASSES", "KNOWN_FOLDER_CLASSES", "FolderTree", "glob_escape",
    "FolderCollection", "SingleFolderQuerySet", "DEEP", "SHALLOW", "SOFT_DELETED", "ASSOCIATED",
    "FOLDER_TRAVERSAL_CHOICES", "DistinguishedFolderId", "FolderId",
    "Item", "Message", "CalendarItem", "Task", "Contact", "DistributionList", "PostItem", "MeetingMessage",
    "MeetingRequest", "MeetingResponse", "MeetingCancellation",
    *_known_all,
]
