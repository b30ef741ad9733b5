"""What recurring calendar items do: fetch one occurrence of a series, or the series from an occurrence.

:class:`OccurrenceMethods` is mixed into :class:`~exchangelib.items.calendar_item.CalendarItem`. An
occurrence is a normal CalendarItem (``type == 'Occurrence'``, or ``'Exception'`` once changed) with its
own id: change it with ``save()`` to make it an exception, or ``delete()`` it to remove it from the series.

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-access-a-recurring-series-by-using-ews
"""
from __future__ import annotations

from typing import Any, Optional

from ..errors import ErrorItemNotFound
from ..properties.ids import OccurrenceItemId, RecurringMasterItemId
from ..services.get_item import GetItem
from ..services.shapes import ALL_PROPERTIES


class OccurrenceMethods:
    """Recurring-series navigation for calendar items (needs ``account``, ``folder``, ``id``, ``changekey``)."""

    account: Any
    folder: Any
    id: Optional[str]
    changekey: Optional[str]

    def occurrence(self, index: int) -> Any:
        """Occurrence number ``index`` (1 is the first) of this recurring master, fetched from the server.

        Raises ``ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange`` beyond the series' end, and
        ``ErrorCalendarOccurrenceIsDeletedFromRecurrence`` for a deleted occurrence.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/occurrenceitemid
        """
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"occurrence() expects an int index (1 is the first), got {type(index).__name__}")
        if index < 1:
            raise ValueError(f"occurrence() indexes start at 1, got {index}")
        ref = OccurrenceItemId(recurring_master_id=self._series_id("occurrence"), instance_index=str(index))
        if self.changekey:
            ref.changekey = self.changekey
        return self._get_one(ref)

    def recurring_master(self) -> Any:
        """The recurring master of this occurrence or exception, fetched from the server.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurringmasteritemid
        """
        return self._get_one(RecurringMasterItemId(occurrence_id=self._series_id("recurring_master")))

    def _series_id(self, method: str) -> str:
        if self.account is None:
            raise ValueError(f"{type(self).__name__} has no account; {method}() needs an item fetched or saved "
                             f"through an Account")
        if not self.id:
            raise ValueError(f"{type(self).__name__} has no id: save() it before calling {method}()")
        return self.id

    def _get_one(self, ref: Any) -> Any:
        res = next(GetItem(account=self.account).call([ref], shape=ALL_PROPERTIES))
        if isinstance(res, Exception):
            raise res
        if res is None:
            raise ErrorItemNotFound("GetItem returned no item")
        res.folder = self.folder
        return res


__all__ = ["OccurrenceMethods"]
