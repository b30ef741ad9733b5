"""Registries of model classes by XML element name, filled as the model modules load.

Services parse responses through these tables instead of importing item and folder modules, so
user-facing classes (which call services) can sit above the services without an import cycle.
"""
from __future__ import annotations

from typing import Any, Dict

# The values are EWSElement subclasses; typed Any because this module can't import the models.
# Element local name ('Message', 'CalendarItem', ...) -> item class
ITEM_CLASSES: Dict[str, Any] = {}
# Element local name ('Folder', 'CalendarFolder', ...) -> folder class
FOLDER_CLASSES: Dict[str, Any] = {}
# DistinguishedFolderId value ('inbox', 'calendar', ...) -> folder class
DISTINGUISHED_FOLDER_CLASSES: Dict[str, Any] = {}
