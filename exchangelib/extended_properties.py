"""Extended (MAPI) properties (``from exchangelib.extended_properties import ExtendedProperty``).

The classes live in :mod:`exchangelib.properties.extended`; this module keeps exchangelib 5.x's import path.
"""
from .properties.extended import UID, ExtendedProperty

__all__ = ["ExtendedProperty", "UID"]
