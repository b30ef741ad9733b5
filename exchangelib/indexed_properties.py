"""Contact entries indexed by a label (``from exchangelib.indexed_properties import PhoneNumber``).

The classes live in :mod:`exchangelib.properties.indexed`; this module keeps exchangelib 5.x's import path.
"""
from .properties.indexed import EmailAddress, ImAddress, IndexedEntry, PhoneNumber, PhysicalAddress

__all__ = ["EmailAddress", "ImAddress", "IndexedEntry", "PhoneNumber", "PhysicalAddress"]
