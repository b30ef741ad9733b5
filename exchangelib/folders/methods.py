"""What folders do: the item API of a folder (add, find, get, delete items) and refreshing counters.

Kept apart from the folder *data* classes (``base.py``, ``known.py``) so the declarative models stay
free of network logic; :class:`~exchangelib.folders.base.BaseFolder` mixes this in.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional, Tuple, Union

from ..errors import EWSError
from ..registry import ITEM_CLASSES
from ..restriction import Q, Restriction, restriction_xml
from ..services import DeleteItem, FindItem, GetFolder
from ..services.shapes import ALL_PROPERTIES, DEFAULT, ID_ONLY, SHAPE_CHOICES

# Which item kinds live in which kind of folder, by FolderClass prefix
_ITEM_KINDS_BY_CONTAINER = (
    ("IPF.Appointment", ("CalendarItem",)),
    ("IPF.Contact", ("Contact", "DistributionList")),
    ("IPF.Task", ("Task",)),
    ("IPF.Note", ("Message", "MeetingRequest", "MeetingResponse", "MeetingCancellation", "PostItem")),
    ("IPF.Post", ("PostItem", "Message")),
)
_ALL_KINDS = ("Message", "CalendarItem", "Contact", "DistributionList", "Task", "PostItem", "MeetingRequest",
              "MeetingResponse", "MeetingCancellation")


class FolderMethods:
    """Mixed into every folder class. Needs ``self.account`` (set when folders are fetched via an Account)."""

    account: Any

    def _require_account(self) -> Any:
        if self.account is None:
            raise ValueError(f"{type(self).__name__} {getattr(self, 'name', '')!r} has no account; get folders "
                             f"through an Account (e.g. account.calendar) to use them")
        return self.account

    @property
    def supported_item_models(self) -> Tuple[type, ...]:
        """The item classes that live in this folder, most specific first (used to resolve search fields)."""
        container = getattr(self, "folder_class", None) or getattr(type(self), "CONTAINER_CLASS", None) or ""
        for prefix, kinds in _ITEM_KINDS_BY_CONTAINER:
            if container.startswith(prefix):
                return tuple(ITEM_CLASSES[k] for k in kinds if k in ITEM_CLASSES)
        return tuple(ITEM_CLASSES[k] for k in _ALL_KINDS if k in ITEM_CLASSES)

    # --- the classic item API -------------------------------------------------------------------------
    def add_items(self, items: Iterable[Any], chunk_size: Optional[int] = None) -> List[Any]:
        """Create items in this folder. Returns, per item, the saved item or the exception for it."""
        return self._require_account().bulk_create(folder=self, items=items, chunk_size=chunk_size)

    def find_items(self, *args: Union[Q, str, Restriction], shape: str = ID_ONLY,
                   order_by: Optional[Iterable[str]] = None, max_items: Optional[int] = None,
                   page_size: Optional[int] = None, **lookups: Any) -> List[Any]:
        """Search this folder.

        Accepts keyword lookups (``start__lt=dt, categories__contains=['a']``), Q objects, a
        :class:`~exchangelib.restriction.Restriction`, or a Python-like expression string, combined with AND.
        With ``shape=IdOnly`` returns ``(id, changekey)`` tuples; with ``Default``/``AllProperties``, items.
        """
        if shape not in SHAPE_CHOICES:
            raise ValueError(f"shape must be one of {SHAPE_CHOICES}, got {shape!r}")
        account = self._require_account()
        q = Q(**lookups)
        for a in args:
            if isinstance(a, str):
                a = Restriction(a)
            if isinstance(a, Restriction):
                a = a.q
            if not isinstance(a, Q):
                raise TypeError(f"find_items() takes Q objects, Restriction objects or expression strings, "
                                f"got {type(a).__name__}")
            q = q & a
        models = self.supported_item_models
        restriction = restriction_xml(q, models, account.version)
        order_fields = []
        for name in order_by or ():
            descending = name.startswith("-")
            field, _ = _resolve(models, name.lstrip("-"))
            order_fields.append((field, descending))
        svc = FindItem(account=account, page_size=page_size)
        # FindItem cannot return every property (e.g. Body); AllProperties is served by FindItem + GetItem.
        find_shape = ID_ONLY if shape in (ID_ONLY, ALL_PROPERTIES) else DEFAULT
        found = list(svc.call(self, shape=find_shape, restriction=restriction, order_fields=order_fields,
                              max_items=max_items))
        if shape == ID_ONLY:
            return [(i.id, i.changekey) for i in found]
        if shape == DEFAULT:
            for i in found:
                i.folder = self
            return found
        return self.get_items(found)

    def get_items(self, ids: Iterable[Any], only_fields: Optional[Iterable[str]] = None) -> List[Any]:
        """Fetch items by id: items, ``(id, changekey)`` tuples or id strings. Exceptions in place of failures."""
        return list(self._require_account().fetch(ids, only_fields=only_fields, folder=self))

    def delete_items(self, ids: Iterable[Any], delete_type: str = "HardDelete",
                     send_meeting_cancellations: str = "SendToNone",
                     affected_task_occurrences: str = "AllOccurrences") -> List[Any]:
        """Delete items by id. Returns True per deleted input, or the exception for it."""
        return list(DeleteItem(account=self._require_account()).call(
            ids, delete_type=delete_type, send_meeting_cancellations=send_meeting_cancellations,
            affected_task_occurrences=affected_task_occurrences))

    # --- refreshing -----------------------------------------------------------------------------------
    def refresh(self) -> "FolderMethods":
        """Re-read this folder's fields (names, counters) from the server."""
        account = self._require_account()
        fresh = next(GetFolder(account=account).call([self], shape=ALL_PROPERTIES))
        if isinstance(fresh, EWSError):
            raise fresh
        for f in type(self).FIELDS:
            if f.name in type(fresh).FIELDS:
                self._set_field(f.name, getattr(fresh, f.name))
        return self


def _resolve(models: Tuple[type, ...], name: str) -> Tuple[Any, Optional[str]]:
    field_name, _, label = name.partition("__")
    for cls in models:
        f = cls.FIELDS.get(field_name)
        if f is not None:
            return f, (label or None)
    raise ValueError(f"Unknown field {field_name!r} to order by")
