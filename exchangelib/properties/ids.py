"""Identifiers of items and folders: ItemId, FolderId, DistinguishedFolderId and friends."""
from __future__ import annotations

from typing import Any, Optional

from ..elements import EWSElement
from ..fields import IdField



class _IdPair(EWSElement):
    """An ``Id``/``ChangeKey`` attribute pair. Hashable and comparable by value."""

    COMPACT = True  # parsed once or more per item: slots, no instance dict

    id = IdField("Id", is_required=True)
    changekey = IdField("ChangeKey")

    def __init__(self, id: Optional[str] = None, changekey: Optional[str] = None, **kwargs: Any):
        super().__init__(id=id, changekey=changekey, **kwargs)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id, self.changekey))

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)

    def __iter__(self) -> Any:
        """Unpack as ``(id, changekey)``."""
        return iter((self.id, self.changekey))

    def __repr__(self) -> str:
        # Ids are long base64 strings; show enough to tell them apart in a listing.
        def short(s: Optional[str]) -> str:
            return repr(s) if s is None or len(s) <= 24 else repr(f"{s[:10]}...{s[-10:]}")
        return f"{type(self).__name__}(id={short(self.id)}, changekey={short(self.changekey)})"


class ItemId(_IdPair):
    """The id and change key of an item.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/itemid
    """

    ELEMENT_NAME = "ItemId"


class ParentItemId(ItemId):
    """The id of the item an attachment belongs to.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/parentitemid
    """

    ELEMENT_NAME = "ParentItemId"


class RootItemId(_IdPair):
    """The id of the top-level item an attachment belongs to (attributes RootItemId/RootItemChangeKey).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/rootitemid
    """

    ELEMENT_NAME = "RootItemId"
    id = IdField("RootItemId", is_required=True)
    changekey = IdField("RootItemChangeKey")


class ConversationId(ItemId):
    """The id of the conversation an item belongs to.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/conversationid
    """

    ELEMENT_NAME = "ConversationId"


class OccurrenceItemId(EWSElement):
    """One occurrence of a recurring item, by the master's id and the occurrence's 1-based index.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/occurrenceitemid
    """

    ELEMENT_NAME = "OccurrenceItemId"
    COMPACT = True
    recurring_master_id = IdField("RecurringMasterId", is_required=True)
    changekey = IdField("ChangeKey")
    instance_index = IdField("InstanceIndex", is_required=True)


class RecurringMasterItemId(EWSElement):
    """The recurring master of an occurrence, by the occurrence's id.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurringmasteritemid
    """

    ELEMENT_NAME = "RecurringMasterItemId"
    COMPACT = True
    occurrence_id = IdField("OccurrenceId", is_required=True)
    changekey = IdField("ChangeKey")


class FolderId(_IdPair):
    """The id and change key of a folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/folderid
    """

    ELEMENT_NAME = "FolderId"


class ParentFolderId(FolderId):
    """The id of the folder that holds an item or folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/parentfolderid
    """

    ELEMENT_NAME = "ParentFolderId"
    # The same for every item of a folder: parsed ids share one string object
    id = IdField("Id", is_required=True, shared=True)
    changekey = IdField("ChangeKey", shared=True)


class AttachmentId(EWSElement):
    """The id of an attachment, with the id of the item it belongs to.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/attachmentid
    """

    ELEMENT_NAME = "AttachmentId"
    COMPACT = True
    id = IdField("Id", is_required=True)
    root_id = IdField("RootItemId")
    root_changekey = IdField("RootItemChangeKey")

    def __hash__(self) -> int:
        return hash((self.id, self.root_id, self.root_changekey))

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)


__all__ = [
    "ItemId", "ParentItemId", "RootItemId", "ConversationId", "OccurrenceItemId",
    "RecurringMasterItemId", "FolderId", "ParentFolderId", "AttachmentId",
]
