"""CopyItem: copy items to a folder; each copy is a new item with its own id.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/copyitem-operation
"""
from __future__ import annotations

from .move_item import MoveItem


class CopyItem(MoveItem):
    """Copies items (items, ``(id, changekey)`` tuples or id strings) into ``to_folder``.

    ``call(ids, to_folder)`` yields, per input, an item holding the copy's id and change key (``None``
    when the server doesn't return new ids), or the exception for that input. The request has the same
    shape as MoveItem's.
    """

    SERVICE_NAME = "CopyItem"
