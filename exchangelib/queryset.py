"""The lazy QuerySet: Django-style searching of a folder's items.

``folder.filter(subject__startswith='Invoice').order_by('-datetime_received')[:10]`` builds a
QuerySet without sending anything. Iterating it runs the search: FindItem (restriction, server-side
sorting, paging with ``IndexedPageItemView``), followed by GetItem in chunks over the protocol's thread
pool when fields FindItem cannot return (bodies, attachments, recipient lists) are wanted.

- Each chained call returns a new QuerySet; a base QuerySet can feed many sub-searches.
- A fully iterated QuerySet caches its results; ``iterator()`` streams without caching.
- Slicing maps to paging: ``qs[:10]``, ``qs[10:20]``, ``qs[-10:]`` (counted from the end with
  ``BasePoint="End"``), ``qs[5]``, ``qs[::3]``; only the pages needed are fetched.
- ``count()`` and ``exists()`` send one IdOnly request for a single item and read ``TotalItemsInView``.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation
"""
from __future__ import annotations

import datetime
import logging
from collections import deque
from itertools import islice
from typing import TYPE_CHECKING, Any, Deque, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from .elements import display_value, html_table
from .errors import DoesNotExist, ErrorItemNotFound, EWSError, MultipleObjectsReturned
from .ewsdatetime import UTC, EWSDateTime
from .lazy import LazyModule
from .restriction import FieldPath, FieldResolver, Q, restriction_xml
from .services import DeleteItem, FindItem, GetItem
from .services.find_item import (BEGINNING, END, FIND_ITEM_UNSUPPORTED_URIS, ITEM_TRAVERSAL_CHOICES, SHALLOW,
                                 FindItemPage)
from .services.shapes import ALL_PROPERTIES, ID_ONLY
from .xml import Element

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import html
else:
    html = LazyModule("html")

log = logging.getLogger(__name__)

ITEMS = "items"
VALUES = "values"
VALUES_LIST = "values_list"
FLAT = "flat"

#: Most columns of item fields in that table, when ``only()``/``values()`` don't say which fields.
HTML_COLUMNS = 5


def _positive_int_or_none(name: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"QuerySet.{name} must be a positive int or None, got {value!r}")
    return value


def _aware(name: str, value: Any) -> EWSDateTime:
    if not isinstance(value, datetime.datetime):
        raise TypeError(f"view() {name} must be an aware EWSDateTime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"view() {name} is the naive datetime {value!r}; localize it, e.g. tz.localize(dt)")
    return value if isinstance(value, EWSDateTime) else EWSDateTime.from_datetime(value)


def _sort_value(value: Any) -> Any:
    """A sort key for a field value: lists (categories) compare element-wise, strings case-insensitively."""
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, (list, tuple)):
        return tuple(_sort_value(v) for v in value)
    return value


# FindItem cuts streamable values to this many characters / bytes.
FIND_ITEM_TEXT_LIMIT = 255
FIND_ITEM_BYTES_LIMIT = 512


def _maybe_cut(value: Any) -> bool:
    """Could FindItem have cut this value short? (It is as long as FindItem's limit, or longer.)"""
    if isinstance(value, str):
        return len(value) >= FIND_ITEM_TEXT_LIMIT
    if isinstance(value, bytes):
        return len(value) >= FIND_ITEM_BYTES_LIMIT
    if isinstance(value, (list, tuple)):
        return any(_maybe_cut(v) for v in value)
    return False


class QuerySet:
    """A lazy search of one folder's items. Get one from a folder: ``folder.all()``, ``folder.filter(...)``.

    ``page_size`` (items per FindItem request, default 100) and ``chunk_size`` (items per GetItem
    request, default 100) can be set on the instance; clones keep them.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem
    """

    def __init__(self, folder: Any, page_size: Optional[int] = None, chunk_size: Optional[int] = None):
        if folder is None:
            raise ValueError("QuerySet needs a folder")
        self.folder = folder
        self.q = Q()
        self.query_string: Optional[str] = None
        self.only_fields: Optional[Tuple[FieldPath, ...]] = None
        self.order_fields: Tuple[Tuple[FieldPath, bool], ...] = ()
        self.return_format = ITEMS
        self.return_paths: Tuple[Tuple[str, FieldPath], ...] = ()
        self.calendar_view: Optional[Tuple[EWSDateTime, EWSDateTime]] = None
        self.traversal = SHALLOW
        self.is_none = False
        self.page_size = page_size
        self.chunk_size = chunk_size
        self._slice: Optional[slice] = None
        self._cache: Optional[List[Any]] = None

    # --- settings -----------------------------------------------------------------------------------
    @property
    def page_size(self) -> Optional[int]:
        """Items per FindItem request (None: the service default, 100)."""
        return self._page_size

    @page_size.setter
    def page_size(self, value: Optional[int]) -> None:
        self._page_size = _positive_int_or_none("page_size", value)

    @property
    def chunk_size(self) -> Optional[int]:
        """Items per GetItem request when full items are fetched (None: the service default, 100)."""
        return self._chunk_size

    @chunk_size.setter
    def chunk_size(self, value: Optional[int]) -> None:
        self._chunk_size = _positive_int_or_none("chunk_size", value)

    @property
    def depth(self) -> str:
        """The FindItem traversal (``SHALLOW``, ``ASSOCIATED`` for hidden items, ``SOFT_DELETED``); the peer's name."""
        return self.traversal

    @depth.setter
    def depth(self, value: str) -> None:
        if value not in ITEM_TRAVERSAL_CHOICES:
            raise ValueError(f"depth must be one of {ITEM_TRAVERSAL_CHOICES}, got {value!r}")
        self.traversal = value

    @property
    def model_classes(self) -> Tuple[type, ...]:
        """The item classes whose fields can be searched, sorted and requested in this folder."""
        return tuple(self.folder.supported_item_models)

    @property
    def account(self) -> Any:
        account = getattr(self.folder, "account", None)
        if account is None:
            raise ValueError(f"{type(self.folder).__name__} {getattr(self.folder, 'name', '')!r} has no account; "
                             f"get folders through an Account (e.g. account.calendar) to search them")
        return account

    # --- cloning ------------------------------------------------------------------------------------
    def _clone(self) -> "QuerySet":
        new = QuerySet.__new__(QuerySet)
        new.__dict__.update(self.__dict__)
        new._cache = None
        return new

    def _check_unsliced(self, method: str) -> None:
        if self._slice is not None:
            raise TypeError(f"Cannot call {method}() on a sliced QuerySet; call {method}() before slicing")

    def _path(self, name: str) -> FieldPath:
        return FieldPath.from_string(name, self.model_classes)

    # --- chaining -----------------------------------------------------------------------------------
    def all(self) -> "QuerySet":
        """A copy of this QuerySet (it will run its own search)."""
        return self._clone()

    def none(self) -> "QuerySet":
        """A QuerySet that matches nothing and never sends a request."""
        new = self._clone()
        new.is_none = True
        return new

    def filter(self, *args: Union[Q, str], **kwargs: Any) -> "QuerySet":
        """Narrow the search: keyword lookups and Q objects (ANDed), or one AQS QueryString as a plain str.

        ``filter(subject__icontains='foo', start__gte=dt)``, ``filter(Q(a=1) | ~Q(b=2))``,
        ``filter('subject:foo')``. A lookup on an unknown or unsearchable field, or with a value of the
        wrong type, raises here, before any request.
        """
        self._check_unsliced("filter")
        strings = [a for a in args if isinstance(a, str)]
        if strings:
            if len(args) != 1 or kwargs:
                raise ValueError("A QueryString (a plain str passed to filter()) can't be combined with other "
                                 "filters in the same call")
            if self.query_string is not None or not self.q.is_empty():
                raise ValueError("A QueryString (a plain str passed to filter()) can't be combined with other "
                                 "filters: this QuerySet is already filtered")
            self._check_no_view("filter")
            new = self._clone()
            new.query_string = strings[0]
            return new
        return self._narrow(self._q_from(args, kwargs, "filter"), "filter")

    def exclude(self, *args: Q, **kwargs: Any) -> "QuerySet":
        """Leave out the items matching the lookups / Q objects (``~Q(...)``)."""
        self._check_unsliced("exclude")
        q = self._q_from(args, kwargs, "exclude")
        if q.is_empty():
            raise ValueError("exclude() needs at least one lookup or Q object")
        return self._narrow(~q, "exclude")

    def _q_from(self, args: Sequence[Any], kwargs: Dict[str, Any], method: str) -> Q:
        for a in args:
            if not isinstance(a, Q):
                raise TypeError(f"{method}() takes Q objects and keyword lookups, got {type(a).__name__} {a!r}")
        return Q(*args, **kwargs)

    def _narrow(self, q: Q, method: str) -> "QuerySet":
        if q.is_empty():
            return self._clone()
        if self.query_string is not None:
            raise ValueError(f"{method}(): this QuerySet is filtered by a QueryString, which can't be combined "
                             f"with other filters")
        self._check_no_view(method)
        q.to_xml(FieldResolver(self.model_classes), None)  # validate field names, lookups and values now
        new = self._clone()
        new.q = self.q & q
        return new

    def _check_no_view(self, method: str) -> None:
        if self.calendar_view is not None:
            raise ValueError(f"{method}(): Exchange allows no restriction with a calendar view; filter the "
                             f"view's results in Python, or use filter(start__lt=..., end__gt=...) instead of view()")

    def get(self, *args: Union[Q, str], **kwargs: Any) -> Any:
        """The single item matching the lookups. Raises DoesNotExist or MultipleObjectsReturned.

        ``get(id=..., changekey=...)`` (changekey optional) fetches that item directly (GetItem); Exchange
        can't search on ids.
        """
        if not args and "id" in kwargs and set(kwargs) <= {"id", "changekey"}:
            return self._get_by_id(kwargs["id"], kwargs.get("changekey"))
        qs = self.filter(*args, **kwargs) if (args or kwargs) else self
        if qs._cache is not None:
            found = list(qs._cache[:2])
        else:
            found = list(qs._clone()[:2]) if qs._slice is None else list(islice(iter(qs), 2))
        if not found:
            raise DoesNotExist(f"No item in {qs._where()} matches {qs._describe_filter()}")
        if len(found) > 1:
            raise MultipleObjectsReturned(f"More than one item in {qs._where()} matches {qs._describe_filter()}; "
                                          f"narrow the filter or iterate the QuerySet instead of get()")
        return found[0]

    def _get_by_id(self, item_id: Any, changekey: Any) -> Any:
        if not isinstance(item_id, str) or not item_id:
            raise ValueError(f"get(id=...) needs an item id string, got {item_id!r}")
        if changekey is not None and not isinstance(changekey, str):
            raise ValueError(f"get(changekey=...) needs a change key string, got {changekey!r}")
        paths = self._wanted_paths()
        if paths is None:
            shape, additional = ALL_PROPERTIES, None
        else:
            shape = ID_ONLY
            additional = [p for fp in paths if fp.attr is None for p in fp.expand()] or None
        res = next(GetItem(account=self.account).call([(item_id, changekey)], shape=shape,
                                                      additional_fields=additional))
        if isinstance(res, ErrorItemNotFound):
            raise DoesNotExist(f"No item with id {item_id!r} in {self._where()}: {res}")
        if isinstance(res, Exception):
            raise res
        res.folder = self.folder
        if self.return_format == ITEMS:
            return res
        return next(self._format(iter([res])))

    def order_by(self, *names: str) -> "QuerySet":
        """Sort by one or more fields (most significant first); prefix '-' for descending.

        The server sorts, except on a calendar view (``view(...).order_by(...)``), where Exchange allows
        no sort order: the view's items are then sorted here, after they arrive. Indexed entries work
        too: ``order_by('physical_addresses__Home__street')``. ``order_by()`` with no names removes the
        ordering.
        """
        self._check_unsliced("order_by")
        order = []
        for name in names:
            if not isinstance(name, str) or not name.lstrip("-"):
                raise ValueError(f"order_by() takes field names like 'subject' or '-start', got {name!r}")
            descending = name.startswith("-")
            fp = self._path(name[1:] if descending else name)
            self._check_requestable(fp, "order_by")
            if fp.attr is not None or fp.is_multipart or fp.field.field_uri in FIND_ITEM_UNSUPPORTED_URIS:
                raise ValueError(f"order_by(): Exchange can't sort on {fp.path!r}")
            order.append((fp, descending))
        new = self._clone()
        new.order_fields = tuple(order)
        return new

    def reverse(self) -> "QuerySet":
        """The same search with every sort order flipped (needs an ``order_by()``)."""
        self._check_unsliced("reverse")
        if not self.order_fields:
            raise ValueError("reverse() needs an order_by() first: without one, Exchange picks the order")
        new = self._clone()
        new.order_fields = tuple((fp, not desc) for fp, desc in self.order_fields)
        return new

    def only(self, *names: str) -> "QuerySet":
        """Fetch only these fields (plus id and changekey). Indexed entries and parts work too."""
        if not names:
            raise ValueError("only() needs at least one field name")
        paths = []
        for name in names:
            fp = self._path(name)
            self._check_requestable(fp, "only")
            paths.append(fp)
        new = self._clone()
        new.only_fields = tuple(paths)
        return new

    def values(self, *names: str) -> "QuerySet":
        """Return dicts of these fields' values (``{'subject': ..., 'item_id': ...}``) instead of items."""
        return self._values(names, VALUES, "values")

    def values_list(self, *names: str, flat: bool = False) -> "QuerySet":
        """Return lists of these fields' values; with ``flat=True`` (one field) the bare values."""
        if flat and len(names) != 1:
            raise ValueError(f"values_list(flat=True) takes exactly one field name, got {len(names)}")
        return self._values(names, FLAT if flat else VALUES_LIST, "values_list")

    def _values(self, names: Sequence[str], fmt: str, method: str) -> "QuerySet":
        if not names:
            raise ValueError(f"{method}() needs at least one field name")
        paths = []
        for name in names:
            fp = self._path(name)
            self._check_requestable(fp, method)
            paths.append((name, fp))
        new = self._clone()
        new.return_format = fmt
        new.return_paths = tuple(paths)
        return new

    def view(self, start: datetime.datetime, end: datetime.datetime, max_items: Optional[int] = None) -> "QuerySet":
        """Calendar items (and occurrences of recurring ones) overlapping [start, end): a CalendarView.

        Exchange allows no restriction, QueryString or sort order with a calendar view; the items come
        sorted by start. ``max_items`` caps the number of items the server returns.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarview
        """
        self._check_unsliced("view")
        start, end = _aware("start", start), _aware("end", end)
        if end < start:
            raise ValueError(f"view(): end ({end}) must not be before start ({start})")
        if not self.q.is_empty() or self.query_string is not None:
            raise ValueError("view(): Exchange allows no restriction with a calendar view; call view() on an "
                             "unfiltered QuerySet (a sort order is fine: it is applied to the view's items here)")
        new = self._clone()
        new.calendar_view = (start, end)
        if max_items is not None:
            new = new[:_positive_int_or_none("max_items", max_items)]
        return new

    def _check_requestable(self, fp: FieldPath, method: str) -> None:
        if fp.attr is None and fp.field.field_uri is None and not fp.field.is_extended:
            raise ValueError(f"{method}(): {fp.path!r} has no field URI, so it can't be requested or sorted on")

    # --- evaluation ---------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        if self._cache is not None:
            yield from self._cache
            return
        results: List[Any] = []
        for r in self._results():
            results.append(r)
            yield r
        self._cache = results

    def iterator(self) -> Iterator[Any]:
        """Stream the results without caching them (memory stays flat however many items there are)."""
        if self._cache is not None:
            return iter(self._cache)
        return self._results()

    def _fill_cache(self) -> List[Any]:
        if self._cache is None:
            for _ in self:
                pass
        return self._cache  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._fill_cache())

    def __bool__(self) -> bool:
        return bool(self._fill_cache())

    def __getitem__(self, key: Union[int, slice]) -> Any:
        if isinstance(key, bool) or not isinstance(key, (int, slice)):
            raise TypeError(f"QuerySet indices must be ints or slices, got {type(key).__name__}")
        if isinstance(key, slice):
            for part in (key.start, key.stop, key.step):
                if part is not None and (not isinstance(part, int) or isinstance(part, bool)):
                    raise TypeError(f"QuerySet slice values must be ints or None, got {part!r}")
            if key.step == 0:
                raise ValueError("slice step cannot be zero")
            _check_offset(key.start)
            if self._cache is not None or self._slice is not None or (key.step or 1) < 0:
                return self._fill_cache()[key]
            new = self._clone()
            new._slice = key
            return new
        _check_offset(key)
        if self._cache is not None or self._slice is not None:
            return self._fill_cache()[key]
        one = self._clone()
        one._slice = slice(key, key + 1 if key != -1 else None)
        found = list(one)
        if not found:
            raise IndexError(f"QuerySet index {key} out of range")
        return found[0]

    def count(self, page_size: Optional[int] = None) -> int:
        """The number of matching items: one request for a single id (no item data), or the cache's size.

        ``page_size`` is accepted for code written for exchangelib 5.x, which counted by paging through
        ids; Exchange's TotalItemsInView makes that unnecessary, so it is not used.
        """
        if self._cache is not None:
            return len(self._cache)
        if self.is_none:
            return 0
        if self._collection() is not None:
            total = sum(sub.count() for sub in self._per_folder())
            return len(range(total)[self._slice]) if self._slice is not None else total
        svc = self._find_service()
        if self.calendar_view is not None:
            p = svc.page(self.folder, ID_ONLY, None, None, None, None, self.traversal,
                         calendar_view=self._calendar_view_text())
            total = p.total_count if p.total_count is not None else len(p.items)
        else:
            total = svc.count(self.folder, restriction=self._restriction(), query_string=self.query_string,
                              traversal=self.traversal)
        if self._slice is not None:
            return len(range(total)[self._slice])
        return total

    def exists(self) -> bool:
        """Whether anything matches: one request for at most one id."""
        if self._cache is not None:
            return bool(self._cache)
        if self.is_none:
            return False
        if self._collection() is not None:
            return any(sub.exists() for sub in self._per_folder()) if self._slice is None else self.count() > 0
        if self._slice is not None or self.calendar_view is not None:
            return self.count() > 0
        p = self._find_service().page(self.folder, ID_ONLY, None, self._restriction(), None, self.query_string,
                                      self.traversal, 0, 1)
        return bool(p.items)

    def delete(self, delete_type: str = "HardDelete", send_meeting_cancellations: str = "SendToNone",
               affected_task_occurrences: str = "AllOccurrences",
               suppress_read_receipts: Optional[bool] = None, page_size: Optional[int] = None,
               chunk_size: Optional[int] = None) -> List[Any]:
        """Delete the matching items. Returns one result per item: True, or the exception for that item.

        All ids are collected before the first delete, so paging isn't disturbed by the deletions.
        ``page_size`` (ids per FindItem page) and ``chunk_size`` (ids per DeleteItem request) override
        this QuerySet's settings for this call.
        """
        if self.is_none:
            return []
        source = self
        if page_size is not None or chunk_size is not None:
            source = self._clone()
            source.page_size = page_size if page_size is not None else self.page_size
            source.chunk_size = chunk_size if chunk_size is not None else self.chunk_size
        if self._cache is not None and self.return_format == ITEMS:
            ids = [(i.id, i.changekey) for i in self._cache]
        else:
            ids = [(i.id, i.changekey) for i in source._found(id_only=True)]
        self._cache = None
        if not ids:
            return []
        return list(DeleteItem(account=self.account, chunk_size=source.chunk_size).call(
            ids, delete_type=delete_type, send_meeting_cancellations=send_meeting_cancellations,
            affected_task_occurrences=affected_task_occurrences, suppress_read_receipts=suppress_read_receipts))

    # --- bulk actions (issue 15): ids are collected first, then sent in chunks through the account's bulk path ---
    def _matching_ids(self) -> List[Tuple[str, Optional[str]]]:
        if self.is_none:
            return []
        if self._cache is not None and self.return_format == ITEMS:
            ids = [(i.id, i.changekey) for i in self._cache]
        else:
            ids = [(i.id, i.changekey) for i in self._found(id_only=True)]
        self._cache = None
        return ids

    def move(self, to_folder: Any) -> List[Any]:
        """Move the matching items to ``to_folder`` (MoveItem, chunked). Returns, per item, its new
        ``(id, changekey)`` or the exception for it."""
        return self.account.bulk_move(self._matching_ids(), to_folder=to_folder, chunk_size=self.chunk_size)

    def copy(self, to_folder: Any) -> List[Any]:
        """Copy the matching items to ``to_folder`` (CopyItem, chunked). Returns, per item, the copy's
        ``(id, changekey)`` or the exception."""
        return self.account.bulk_copy(self._matching_ids(), to_folder=to_folder, chunk_size=self.chunk_size)

    def send(self, save_copy: bool = True, copy_to_folder: Any = None) -> List[Any]:
        """Send the matching (draft) messages (SendItem, chunked). Returns True or the exception per item."""
        return self.account.bulk_send(self._matching_ids(), save_copy=save_copy, copy_to_folder=copy_to_folder,
                                      chunk_size=self.chunk_size)

    def archive(self, to_folder: Any) -> List[Any]:
        """Move the matching items to the archive mailbox (ArchiveItem, chunked)."""
        return self.account.bulk_archive(self._matching_ids(), to_folder=to_folder, chunk_size=self.chunk_size)

    def mark_as_junk(self, is_junk: bool = True, move_item: bool = True) -> List[Any]:
        """Mark the matching items as junk or not junk (MarkAsJunk, chunked)."""
        return self.account.bulk_mark_as_junk(self._matching_ids(), is_junk=is_junk, move_item=move_item,
                                              chunk_size=self.chunk_size)

    # --- the search ---------------------------------------------------------------------------------
    def _find_service(self) -> FindItem:
        return FindItem(account=self.account, page_size=self.page_size)

    def _restriction(self) -> Optional[Element]:
        return restriction_xml(self.q, self.model_classes, self.account.version)

    def _calendar_view_text(self) -> Tuple[str, str]:
        start, end = self.calendar_view  # type: ignore[misc]
        return start.astimezone(UTC).ewsformat(), end.astimezone(UTC).ewsformat()

    def _wanted_paths(self) -> Optional[Tuple[FieldPath, ...]]:
        """The paths to fetch; None means full items."""
        if self.return_format != ITEMS:
            return tuple(fp for _, fp in self.return_paths)
        return self.only_fields

    def _results(self) -> Iterator[Any]:
        if self.is_none:
            return iter(())
        items = self._sorted_view() if self.calendar_view is not None and self.order_fields else self._items()
        return self._format(items)

    def _format(self, items: Iterator[Any]) -> Iterator[Any]:
        if self.return_format == ITEMS:
            return items
        paths = self.return_paths
        if self.return_format == VALUES:
            return ({name: fp.get_value(i) for name, fp in paths} for i in items)
        if self.return_format == VALUES_LIST:
            return ([fp.get_value(i) for _, fp in paths] for i in items)
        fp = paths[0][1]
        return (fp.get_value(i) for i in items)

    def _sorted_view(self) -> Iterator[Any]:
        """A calendar view sorted here: Exchange returns a view's items by start and takes no sort order."""
        clone = self._clone()
        clone.order_fields, clone._slice, clone.return_format, clone.return_paths = (), None, ITEMS, ()
        paths = self._wanted_paths()
        if paths is not None:  # the sort fields must come back too
            clone.only_fields = tuple(paths) + tuple(fp for fp, _ in self.order_fields if fp not in paths)
        items = list(clone._items())
        for fp, descending in reversed(self.order_fields):  # stable sorts, least significant key first
            present = [i for i in items if fp.get_value(i) is not None]
            missing = [i for i in items if fp.get_value(i) is None]
            present.sort(key=lambda i: _sort_value(fp.get_value(i)), reverse=descending)
            items = present + missing  # items without a value go last, as Exchange sorts them
        return iter(items[self._slice] if self._slice is not None else items)

    def _items(self) -> Iterator[Any]:
        """Model items in result order: from FindItem alone, or FindItem ids + GetItem in chunks."""
        paths = self._wanted_paths()
        version = self.account.version
        additional: List[FieldPath] = []
        needs_get = paths is None
        for fp in paths or ():
            if fp.attr is not None:
                continue  # ids always come back
            if not fp.field.is_supported(version):
                raise ValueError(f"Field {fp.path!r} is not supported by the server's version {version}")
            if fp.field.field_uri in FIND_ITEM_UNSUPPORTED_URIS:
                needs_get = True
            additional.extend(fp.expand())
        if not needs_get:
            return self._complete_cut_values(self._found(additional=additional), list(paths or ()), additional)
        found = self._found(id_only=True)
        shape, extra = (ALL_PROPERTIES, None) if paths is None else (ID_ONLY, additional)
        return self._get_items(found, shape, extra)

    def _complete_cut_values(self, found: Iterator[Any], paths: List[FieldPath],
                             additional: List[FieldPath]) -> Iterator[Any]:
        """FindItem returns only the first 255 characters (512 bytes) of a long text or binary value. An
        item with a value that long is read again with GetItem, so no cut value passes for the whole one.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation"""
        for item in found:
            if any(_maybe_cut(fp.get_value(item)) for fp in paths if fp.attr is None):
                whole = list(self._get_items(iter([item]), ID_ONLY, additional))
                if not whole:
                    continue  # deleted in between
                item = whole[0]
            yield item

    def _get_items(self, found: Iterator[Any], shape: str, additional: Optional[List[FieldPath]]) -> Iterator[Any]:
        svc = GetItem(account=self.account, chunk_size=self.chunk_size)
        folders: Deque[Any] = deque()  # each found item's folder, in order (GetItem answers in input order)

        def noting_folders() -> Iterator[Any]:
            for i in found:
                folders.append(i.folder)
                yield i

        for res in svc.call(noting_folders(), shape=shape, additional_fields=additional):
            folder = folders.popleft() if folders else self.folder
            if isinstance(res, ErrorItemNotFound):
                log.debug("Skipping an item that was deleted between FindItem and GetItem: %s", res)
                continue
            if isinstance(res, Exception):
                raise res
            if res is None:
                continue
            res.folder = folder
            yield res

    def _found(self, additional: Optional[List[FieldPath]] = None, id_only: bool = False) -> Iterator[Any]:
        """FindItem results for this QuerySet's slice, in order, fetching only the pages needed."""
        if self._collection() is not None:
            return self._found_in_collection(additional, id_only)
        svc = self._find_service()
        kw: Dict[str, Any] = dict(shape=ID_ONLY, additional_fields=None if id_only else (additional or None),
                                  traversal=self.traversal)
        if self.calendar_view is not None:
            return self._tag(self._found_in_view(svc, kw))
        kw.update(restriction=self._restriction(), order_fields=list(self.order_fields) or None,
                  query_string=self.query_string)
        s = self._slice
        if s is None:
            return self._tag(self._forward(svc, kw, 0, None))
        step = s.step or 1
        start, stop = s.start, s.stop
        if start is None or start >= 0:
            start = start or 0
            if stop is None:
                found = self._forward(svc, kw, start, None)
            elif stop >= 0:
                found = self._forward(svc, kw, start, stop - start) if stop > start else iter(())
            else:
                found = self._forward(svc, kw, start, None, stop_from_end=-stop)
        else:
            found = self._backward(svc, kw, -start, stop)
        if step != 1:
            found = islice(found, None, None, step)
        return self._tag(found)

    # --- several folders (a FolderCollection) --------------------------------------------------------
    def _collection(self) -> Optional[Tuple[Any, ...]]:
        return getattr(self.folder, "folders", None)

    def _per_folder(self) -> Iterator["QuerySet"]:
        """This search (unsliced) on each folder of the collection, in the collection's order."""
        for f in self._collection() or ():
            sub = self._clone()
            sub.folder, sub._slice = f, None
            yield sub

    def _found_in_collection(self, additional: Optional[List[FieldPath]], id_only: bool) -> Iterator[Any]:
        """Each folder's results in turn, as Exchange answers a FindItem over several folders: one result
        set per folder, each sorted and paged on its own. A slice applies to the whole sequence."""
        found: Iterator[Any] = (i for sub in self._per_folder() for i in sub._found(additional, id_only))
        s = self._slice
        if s is None:
            return found
        if any(v is not None and v < 0 for v in (s.start, s.stop)):
            return iter(list(found)[s])
        return islice(found, s.start, s.stop, s.step)

    def _tag(self, items: Iterator[Any]) -> Iterator[Any]:
        folder = self.folder
        for i in items:
            i.folder = folder
            yield i

    def _found_in_view(self, svc: FindItem, kw: Dict[str, Any]) -> Iterator[Any]:
        s = self._slice
        view = self._calendar_view_text()
        if s is not None and (s.start or 0) == 0 and s.stop is not None and s.stop >= 0 and (s.step or 1) == 1:
            if s.stop == 0:
                return iter(())
            return iter(svc.page(self.folder, max_entries=s.stop, calendar_view=view, **kw).items)
        items = svc.page(self.folder, calendar_view=view, **kw).items
        return iter(items[s] if s is not None else items)

    def _page(self, svc: FindItem, kw: Dict[str, Any], offset: int, want: int, base_point: str) -> FindItemPage:
        return svc.page(self.folder, offset=offset, max_entries=want, base_point=base_point, **kw)

    def _forward(self, svc: FindItem, kw: Dict[str, Any], offset: int, limit: Optional[int],
                 stop_from_end: Optional[int] = None) -> Iterator[Any]:
        """Page from ``offset`` on: ``limit`` items, or up to ``stop_from_end`` items before the end, or all.

        After the first page, the following ones are fetched concurrently (bounded by ``max_connections``)
        and come out in order; no page beyond ``limit`` is requested.
        """
        def fetch(off: int, want: int) -> FindItemPage:
            return self._page(svc, kw, off, want, BEGINNING)

        for items in svc.paged(fetch, offset, limit, stop_from_end=stop_from_end):
            yield from items

    def _backward(self, svc: FindItem, kw: Dict[str, Any], from_end: int, stop: Optional[int]) -> Iterator[Any]:
        """The slice [-from_end:stop]: pages walk back from the end (BasePoint End), then come out in order."""
        end_offset = 0
        if stop is not None and stop < 0:
            end_offset = -stop
        wanted = from_end - end_offset
        if wanted <= 0:
            return
        pages: List[List[Any]] = []
        got = 0
        offset = end_offset
        total: Optional[int] = None
        while got < wanted:
            p = self._page(svc, kw, offset, min(svc.page_size, wanted - got), END)
            if total is None:
                total = p.total_count
            pages.append(p.items)
            got += len(p.items)
            if p.includes_last or not p.items:
                break
            offset = p.next_offset if p.next_offset is not None else offset + len(p.items)
        items = [i for page in reversed(pages) for i in page]
        if stop is not None and stop >= 0:
            # [-n:stop]: keep the items whose position from the start is below stop
            total = total if total is not None else len(items)
            first = max(total - from_end, 0)
            items = items[:max(stop - first, 0)]
        yield from items

    # --- Jupyter --------------------------------------------------------------------------------------
    #: Rows shown when a QuerySet is displayed in Jupyter (:meth:`_repr_html_`).
    HTML_ROWS = 20

    def _html_columns(self) -> List[Tuple[str, Optional[FieldPath]]]:
        """(heading, path) of the preview table's columns; a None path means 'the whole value'."""
        if self.return_format == FLAT:
            return [(self.return_paths[0][0], None)]
        if self.return_format != ITEMS:
            return [(name, None) for name, _ in self.return_paths]
        if self.only_fields is not None:
            return [(fp.path, fp) for fp in self.only_fields]
        columns: List[Tuple[str, Optional[FieldPath]]] = []
        for model in self.model_classes:
            for name in getattr(model, "REPR_FIELDS", None) or ("subject",):
                if name.startswith("_") or any(c == name for c, _ in columns) or len(columns) >= HTML_COLUMNS:
                    continue
                try:
                    fp = self._path(name)
                    self._check_requestable(fp, "only")
                except ValueError:
                    continue
                columns.append((name, fp))
        return columns

    def _head(self, n: int) -> List[Any]:
        """The first ``n`` results, asking the server for no more than ``n`` (this QuerySet's cache is untouched)."""
        s = self._slice
        clone = self._clone()
        if s is None:
            clone._slice = slice(0, n)
        elif (s.step or 1) == 1 and (s.start or 0) >= 0 and (s.stop is None or s.stop >= 0):
            start = s.start or 0
            clone._slice = slice(start, start + n if s.stop is None else min(s.stop, start + n))
        return list(islice(clone.iterator(), n))

    def _repr_html_(self) -> str:
        """For Jupyter: a table of the first :attr:`HTML_ROWS` results.

        This runs the search, but fetches at most that many items, and only the fields shown (the
        ``only()``/``values()`` fields, else a few summary fields of the folder's item kinds). When the
        page is full, one more small request counts the matches. The QuerySet itself stays unevaluated
        (its cache is not filled); a QuerySet that was already evaluated is shown from its cache.
        """
        n = self.HTML_ROWS
        columns = self._html_columns()
        try:
            if self._cache is not None:
                rows, total = self._cache[:n], len(self._cache)
            elif self.is_none:
                rows, total = [], 0
            else:
                preview = self
                if self.return_format == ITEMS and self.only_fields is None and columns:
                    preview = self._clone()
                    preview.only_fields = tuple(fp for _, fp in columns if fp is not None)
                rows = preview._head(n)
                total = len(rows) if len(rows) < n else preview.count()
        except (EWSError, ValueError) as e:  # show why, instead of a traceback in the middle of a notebook
            return (f"<p><b>QuerySet</b> on {html.escape(self._where())}: the search failed: "
                    f"{html.escape(str(e))}</p>")
        kinds = {type(r) for r in rows} if self.return_format == ITEMS else set()
        show_kind = len(kinds) > 1
        header = ["#"] + (["type"] if show_kind else []) + [c for c, _ in columns]
        table_rows = []
        for number, row in enumerate(rows):
            cells = [str(number)] + ([type(row).__name__] if show_kind else [])
            for c, (name, fp) in enumerate(columns):
                if self.return_format == VALUES:
                    value = row.get(name)
                elif self.return_format == VALUES_LIST:
                    value = row[c]
                elif self.return_format == FLAT:
                    value = row
                else:
                    value = fp.get_value(row) if fp is not None else row
                cells.append(display_value(value, limit=100))
            table_rows.append(cells)
        shown = f"{len(rows)} of {total}" if total != len(rows) else str(total)
        caption = (f"<b>QuerySet</b> on {html.escape(self._where())}: {shown} "
                   f"{'result' if total == 1 else 'results'}")
        return html_table(table_rows, caption=caption, header=header)

    # --- description ----------------------------------------------------------------------------------
    def _where(self) -> str:
        name = getattr(self.folder, "name", None)
        return f"{type(self.folder).__name__} {name!r}" if name else type(self.folder).__name__

    def _describe_filter(self) -> str:
        if self.query_string is not None:
            return f"QueryString {self.query_string!r}"
        return repr(self.q) if not self.q.is_empty() else "everything"

    def __repr__(self) -> str:
        parts = [f"folder={self._where()}"]
        if self.is_none:
            parts.append("none")
        if not self.q.is_empty():
            parts.append(f"q={self.q!r}")
        if self.query_string is not None:
            parts.append(f"query_string={self.query_string!r}")
        if self.calendar_view is not None:
            parts.append(f"view=({self.calendar_view[0]}, {self.calendar_view[1]})")
        if self.order_fields:
            parts.append("order_by=" + ", ".join(("-" if d else "") + fp.path for fp, d in self.order_fields))
        if self.only_fields is not None:
            parts.append("only=" + ", ".join(fp.path for fp in self.only_fields))
        if self.return_format != ITEMS:
            parts.append(f"{self.return_format}=" + ", ".join(name for name, _ in self.return_paths))
        if self._slice is not None:
            s = self._slice
            parts.append(f"slice=[{'' if s.start is None else s.start}:{'' if s.stop is None else s.stop}"
                         f"{'' if s.step is None else ':' + str(s.step)}]")
        if self._cache is not None:
            parts.append(f"cached={len(self._cache)}")
        return f"QuerySet({', '.join(parts)})"


class QuerySetMixin:
    """The search API of folders: each method starts a new :class:`QuerySet` on this folder."""

    def all(self) -> QuerySet:
        """Every item in the folder, lazily."""
        return QuerySet(self)

    def none(self) -> QuerySet:
        """A QuerySet that matches nothing (no request is ever sent)."""
        return QuerySet(self).none()

    def filter(self, *args: Union[Q, str], **kwargs: Any) -> QuerySet:
        """Items matching keyword lookups, Q objects, or one AQS QueryString (see :meth:`QuerySet.filter`)."""
        return QuerySet(self).filter(*args, **kwargs)

    def exclude(self, *args: Q, **kwargs: Any) -> QuerySet:
        """Items not matching the lookups / Q objects."""
        return QuerySet(self).exclude(*args, **kwargs)

    def get(self, *args: Union[Q, str], **kwargs: Any) -> Any:
        """The one item matching the lookups; DoesNotExist / MultipleObjectsReturned otherwise."""
        return QuerySet(self).get(*args, **kwargs)

    def order_by(self, *names: str) -> QuerySet:
        """Every item, sorted by the server on these fields ('-' prefix: descending)."""
        return QuerySet(self).order_by(*names)

    def only(self, *names: str) -> QuerySet:
        """Every item, with only these fields fetched."""
        return QuerySet(self).only(*names)

    def values(self, *names: str) -> QuerySet:
        """Dicts of these fields' values, one per item."""
        return QuerySet(self).values(*names)

    def values_list(self, *names: str, flat: bool = False) -> QuerySet:
        """Lists of these fields' values (or bare values with ``flat=True``), one per item."""
        return QuerySet(self).values_list(*names, flat=flat)

    def view(self, start: datetime.datetime, end: datetime.datetime, max_items: Optional[int] = None) -> QuerySet:
        """Calendar items and occurrences overlapping [start, end) (a CalendarView)."""
        return QuerySet(self).view(start=start, end=end, max_items=max_items)


__all__ = ["QuerySet", "QuerySetMixin", "ITEMS", "VALUES", "VALUES_LIST", "FLAT"]


#: The largest paging offset EWS accepts: IndexedPageItemView's Offset is an xs:int.
MAX_OFFSET = 2 ** 31 - 1


def _check_offset(offset: Optional[int]) -> None:
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValueError(f"QuerySet offset {offset} is out of range: EWS pages to offsets of at most {MAX_OFFSET} "
                         f"(IndexedPageItemView Offset is an xs:int)")
