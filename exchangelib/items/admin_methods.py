"""Item actions for mailbox administration: archiving and junk-mail marking."""
from __future__ import annotations

from typing import Any, Optional, Tuple

from ..services.archive_item import ArchiveItem
from ..services.mark_as_junk import MarkAsJunk


def _single(results: Any) -> Any:
    res = next(iter(results))
    if isinstance(res, Exception):
        raise res
    return res


class ItemAdminMethods:
    """Mixed into every item class (uses ``_require_id``/``_set_id``/``_forget_id`` of ItemMethods)."""

    def archive(self, to_folder: Any) -> Optional[Tuple[str, str]]:
        """Move the item to the archive mailbox (ArchiveItem), into the archive folder mirroring ``to_folder``'s
        path (or ``to_folder`` itself when it is an archive folder). Afterwards the object names the archived
        item when the server returns its id. Raises ``ErrorArchiveMailboxNotEnabled`` without an archive.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/archiveitem-operation
        """
        account = self._require_id("archive")  # type: ignore[attr-defined]
        ref = (self.id, self.changekey)  # type: ignore[attr-defined]
        res = _single(ArchiveItem(account=account).call([ref], to_folder=to_folder))
        if res is not None and res.id:
            self._set_id(res.id, res.changekey)  # type: ignore[attr-defined]
            object.__setattr__(self, "folder", None)
            return res.id, res.changekey
        self._forget_id()  # type: ignore[attr-defined]
        return None


class MessageAdminMethods:
    """Mixed into messages."""

    def mark_as_junk(self, is_junk: bool = True, move_item: bool = True) -> Optional[Tuple[str, str]]:
        """Mark the message as junk (its sender joins the blocked senders) or as not junk (the sender is
        removed from them) with MarkAsJunk. With ``move_item`` it moves to Junk Email, or back to the Inbox;
        the object then has the moved item's id and ``folder``. Returns the new ``(id, changekey)`` or None.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/markasjunk-operation
        """
        account = self._require_id("mark_as_junk")  # type: ignore[attr-defined]
        ref = (self.id, self.changekey)  # type: ignore[attr-defined]
        res = _single(MarkAsJunk(account=account).call([ref], is_junk=is_junk, move_item=move_item))
        if res is None:
            return None
        self._set_id(*res)  # type: ignore[attr-defined]
        object.__setattr__(self, "folder", account.junk if is_junk else account.inbox)
        return res
