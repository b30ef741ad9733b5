"""FindItem and FindFolder: traversal, restriction, sorting, paging and calendar views.

Paging follows Exchange:
- IndexedPageItemView/IndexedPageFolderView: ``Offset`` counts from the start (BasePoint
  Beginning) or from the end (BasePoint End); the response's RootFolder carries
  IndexedPagingOffset (the offset of the next page), TotalItemsInView and
  IncludesLastItemInRange.
- FractionalPageItemView: starts at TotalItemsInView * Numerator / Denominator; the response
  carries NumeratorOffset and AbsoluteDenominator.
- CalendarView: items ending on or after StartDate and starting before EndDate, sorted by Start; MaxEntriesReturned
  truncates. Recurring masters are returned as themselves: expanding occurrences is a later
  step (see :func:`calendar_instances`, the single place that will do it). Exchange refuses a
  Restriction or SortOrder next to a CalendarView ("Restrictions and sort order may not be
  specified for a CalendarView."); clients filter and sort such results themselves.
Without SortOrder, FindItem returns newest first (DateTimeReceived descending) and FindFolder
returns folders by display name, depth first for a Deep traversal.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from datetime import datetime
from typing import Any, Callable, List, Optional, Sequence, Tuple, cast

from lxml import etree

from ...xml import TNS
from ..context import RequestContext
from ..store import FolderRecord, ItemRecord, Store
from .access import visible_folders, visible_items
from .common import (Shape, add_result, child, children, err, find_path, handler, local, m_el, new_response,
                     parse_shape, resolve_folder)
from .props import get, get_text, item_type, parse_datetime, typed_values
from .recurrence import in_calendar_view, occurrences_between
from .render import check_find_item_shape, folder_items, render_folder, render_item
from .restrictions import compile_query_string, optional_restriction

T = f"{{{TNS}}}"


# --- Paging --------------------------------------------------------------------------------------
def _int_attr(el: etree._Element, name: str, default: Optional[int] = None) -> Optional[int]:
    v = el.get(name)
    if v is None:
        return default
    try:
        return int(v)
    except ValueError:
        raise err("ErrorInvalidPagingMaxRows" if name == "MaxEntriesReturned" else
                  "ErrorInvalidIndexedPagingParameters", f"{name} must be a number.") from None


def page(entries: Sequence[Any], view: Optional[etree._Element]) -> Tuple[List[Any], dict]:
    """Apply an Indexed/Fractional page view; returns (page, RootFolder attributes)."""
    total = len(entries)
    if view is None:
        return list(entries), {"TotalItemsInView": str(total), "IncludesLastItemInRange": "true"}
    max_entries = _int_attr(view, "MaxEntriesReturned")
    if max_entries is not None and max_entries <= 0:
        raise err("ErrorInvalidPagingMaxRows", "MaxEntriesReturned must be greater than zero.")
    name = local(view)
    if name.startswith("IndexedPage"):
        offset = _int_attr(view, "Offset", 0) or 0
        if offset < 0:
            raise err("ErrorInvalidIndexedPagingParameters", "Offset must not be negative.")
        if view.get("BasePoint", "Beginning") == "End":
            stop = max(total - offset, 0)
            start = 0 if max_entries is None else max(stop - max_entries, 0)
            chunk = list(entries[start:stop])
            attrs = {"IndexedPagingOffset": str(offset + len(chunk)), "TotalItemsInView": str(total),
                     "IncludesLastItemInRange": "true" if start == 0 else "false"}
            return chunk, attrs
        stop = total if max_entries is None else min(offset + max_entries, total)
        chunk = list(entries[offset:stop])
        attrs = {"IndexedPagingOffset": str(offset + len(chunk)), "TotalItemsInView": str(total),
                 "IncludesLastItemInRange": "true" if offset + len(chunk) >= total else "false"}
        return chunk, attrs
    # FractionalPage*View
    numerator = _int_attr(view, "Numerator", 0) or 0
    denominator = _int_attr(view, "Denominator", 1) or 0
    if denominator <= 0 or numerator < 0 or numerator > denominator:
        raise err("ErrorInvalidFractionalPagingParameters", "Numerator and Denominator are out of range.")
    start = total * numerator // denominator
    stop = total if max_entries is None else min(start + max_entries, total)
    chunk = list(entries[start:stop])
    attrs = {"NumeratorOffset": str(start + len(chunk)), "AbsoluteDenominator": str(total),
             "IncludesLastItemInRange": "true" if start + len(chunk) >= total else "false",
             "TotalItemsInView": str(total)}
    return chunk, attrs


# --- Sorting -------------------------------------------------------------------------------------
class _Missing:
    """Sorts before every value (Exchange puts items lacking the property first in ascending order)."""

    def __lt__(self, other: Any) -> bool:
        return not isinstance(other, _Missing)

    def __gt__(self, other: Any) -> bool:
        return False

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, _Missing)


_MISSING = _Missing()


def _sort_value(elem: etree._Element, path) -> Any:
    kind, values = typed_values(elem, path)
    if not values:
        return _MISSING
    v = values[0]
    return v.casefold() if isinstance(v, str) else v


def sort_records(records: List[ItemRecord], sort_order: Optional[etree._Element]) -> List[ItemRecord]:
    """Sort by the FieldOrders of SortOrder (first one most significant), or newest first."""
    out = sorted(records, key=lambda r: r.seq, reverse=True)
    if sort_order is None:
        return sorted(out, key=lambda r: get_text(r.elem, "DateTimeReceived") or "", reverse=True)
    orders = children(sort_order)
    for fo in reversed(orders):
        path = find_path(fo)
        if path is None:
            raise err("ErrorInvalidRequest", "A FieldOrder needs a property path.")
        descending = fo.get("Order", "Ascending") == "Descending"
        keyed = [(_sort_value(r.elem, path), r) for r in out]
        present = [k for k in keyed if not isinstance(k[0], _Missing)]
        missing = [k for k in keyed if isinstance(k[0], _Missing)]
        try:
            present.sort(key=lambda k: k[0], reverse=descending)
        except TypeError:
            present.sort(key=lambda k: str(k[0]), reverse=descending)
        keyed = (present + missing) if descending else (missing + present)
        out = [r for _, r in keyed]
    return out


# --- Calendar view -------------------------------------------------------------------------------
def calendar_instances(rec: ItemRecord, start: datetime, end: datetime) -> List[Any]:
    """The instances of a calendar item overlapping [start, end): the item itself for a single item, its
    occurrences and exceptions (:class:`~.recurrence.OccurrenceRecord`) for a recurring master."""
    if get(rec.elem, "Recurrence") is not None:
        return occurrences_between(rec, start, end)
    s, e = get_text(rec.elem, "Start"), get_text(rec.elem, "End")
    if not s or not e:
        return []
    item_start, item_end = parse_datetime(s), parse_datetime(e)
    return [rec] if in_calendar_view(item_start, item_end, start, end) else []


def _calendar_view(records: List[ItemRecord], view: etree._Element) -> Tuple[List[Any], dict]:
    try:
        start = parse_datetime(view.get("StartDate", ""))
        end = parse_datetime(view.get("EndDate", ""))
    except ValueError:
        raise err("ErrorInvalidRequest", "CalendarView StartDate and EndDate must be dateTime values.") from None
    if end < start:
        raise err("ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate")
    matching: List[Any] = []
    for r in records:
        if local(r.elem) == "CalendarItem":
            matching.extend(calendar_instances(r, start, end))
    matching.sort(key=lambda r: (parse_datetime(get_text(r.elem, "Start") or "1601-01-01T00:00:00Z"), r.seq))
    max_entries = _int_attr(view, "MaxEntriesReturned")
    total = len(matching)
    if max_entries is not None:
        if max_entries <= 0:
            raise err("ErrorInvalidPagingMaxRows", "MaxEntriesReturned must be greater than zero.")
        matching = matching[:max_entries]
    return matching, {"TotalItemsInView": str(total),
                      "IncludesLastItemInRange": "true" if len(matching) >= total else "false"}


# --- FindItem ------------------------------------------------------------------------------------
_ITEM_VIEWS = ("IndexedPageItemView", "FractionalPageItemView", "SeekToConditionPageItemView", "CalendarView",
               "ContactsView")
# Exchange's answer (ResponseClass Error) to a CalendarView combined with a Restriction or SortOrder.
_CALENDAR_VIEW_NO_RESTRICTION = "Restrictions and sort order may not be specified for a CalendarView."


@handler("FindItem")
def find_item(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation"""
    root, msgs = new_response("FindItem")
    for folder_el in children(child(body, "ParentFolderIds")):
        add_result(msgs, "FindItemResponseMessage", lambda f=folder_el: _find_items_in(ctx, body, f))
    return root


def _find_items_in(ctx: RequestContext, body: etree._Element, folder_el: etree._Element) -> List[etree._Element]:
    shape = parse_shape(child(body, "ItemShape"))
    check_find_item_shape(shape)
    folder = resolve_folder(ctx, folder_el)
    view = next((c for c in children(body) if local(c) in _ITEM_VIEWS), None)
    sort_order = child(body, "SortOrder")
    if view is not None and local(view) == "CalendarView" and (
            child(body, "Restriction") is not None or sort_order is not None):
        raise err("ErrorInvalidRestriction", _CALENDAR_VIEW_NO_RESTRICTION)
    if child(body, "GroupBy") is not None or child(body, "DistinguishedGroupBy") is not None:
        raise err("ErrorInvalidOperation", "Grouping is not supported by this server.")
    calendar = view is not None and local(view) == "CalendarView"
    # private items stay hidden from most delegates (per caller: after the shared, cached result set)
    records = visible_items(ctx, _matching(ctx.store, folder, body, sort_order, calendar))
    if view is not None and local(view) == "CalendarView":
        chunk, attrs = _calendar_view(records, view)
    else:
        if view is not None and local(view) == "ContactsView":
            records = _contacts_view(records, view)
            view = None
        elif view is not None and local(view) == "SeekToConditionPageItemView":
            raise err("ErrorInvalidOperation", "SeekToConditionPageItemView is not supported by this server.")
        chunk, attrs = page(records, view)
    root_folder = m_el("RootFolder", **attrs)
    items = etree.SubElement(root_folder, f"{{{TNS}}}Items")
    for rec in chunk:
        items.append(render_item(ctx, rec, shape, find=True))
    return [root_folder]


# --- Result sets, cached for paging ------------------------------------------------------------
#: Folders with at least this many items keep their filtered, sorted result sets between requests, so
#: paging through a big folder costs the same per page whatever its size (smaller folders are cheap to
#: recompute, and recomputing keeps the server's behaviour easy to follow).
CACHE_MIN_ITEMS = 500
#: Result sets kept per store (least recently used dropped first); each holds one reference per item.
CACHED_VIEWS = 16
_views: "weakref.WeakKeyDictionary[Store, OrderedDict]" = weakref.WeakKeyDictionary()
_views_lock = threading.Lock()


def _matching(store: Store, folder: FolderRecord, body: etree._Element, sort_order: Optional[etree._Element],
              calendar: bool) -> List[ItemRecord]:
    """The folder's items that match the request's Restriction/QueryString, sorted as asked (unsorted for a
    CalendarView). Big folders reuse the result of an identical earlier search while no item has changed
    (``store.generation``), instead of filtering and sorting everything for every page."""
    traversal = body.get("Traversal", "Shallow")
    if calendar or traversal == "SoftDeleted" or folder.element_kind == "SearchFolder" \
            or len(folder.item_keys) < CACHE_MIN_ITEMS or child(body, "QueryString") is not None:
        # (a QueryString may be relative to the current time, e.g. received:today: never reused)
        return _compute_matching(folder, body, sort_order, calendar, traversal)
    parts = [child(body, "Restriction"), sort_order]
    key = (folder.key, traversal, store.generation,
           *(etree.tostring(e, method="c14n") if e is not None else None for e in parts))
    with _views_lock:
        cache = _views.setdefault(store, OrderedDict())
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
    records = _compute_matching(folder, body, sort_order, calendar, traversal)
    with _views_lock:
        for k in [k for k in cache if k[2] != store.generation]:  # stale: an item changed since
            del cache[k]
        cache[key] = records
        while len(cache) > CACHED_VIEWS:
            cache.popitem(last=False)
    return records


def _compute_matching(folder: FolderRecord, body: etree._Element, sort_order: Optional[etree._Element],
                      calendar: bool, traversal: str) -> List[ItemRecord]:
    if traversal == "Associated":
        records = folder.items(associated=True)
    elif traversal == "SoftDeleted":
        records = folder.soft_deleted_items()
    else:
        records = folder_items(folder)
    predicate: Optional[Callable[[etree._Element], bool]] = optional_restriction(body, item_type("Message"))
    if predicate is not None:
        records = [r for r in records if predicate(r.elem)]
    query = child(body, "QueryString")
    if query is not None and (query.text or "").strip():
        qpred = compile_query_string(cast(str, query.text))  # non-empty: checked just above
        records = [r for r in records if qpred(r.elem)]
    return records if calendar else sort_records(records, sort_order)


def _contacts_view(records: List[ItemRecord], view: etree._Element) -> List[ItemRecord]:
    """ContactsView: contacts whose display name sorts between InitialName and FinalName."""
    initial = (view.get("InitialName") or "").casefold()
    final = (view.get("FinalName") or "").casefold()
    out = []
    for r in records:
        name = (get_text(r.elem, "DisplayName") or get_text(r.elem, "FileAs") or "").casefold()
        if initial and name < initial:
            continue
        if final and name > final:
            continue
        out.append(r)
    out.sort(key=lambda r: (get_text(r.elem, "DisplayName") or "").casefold())
    max_entries = _int_attr(view, "MaxEntriesReturned")
    return out[:max_entries] if max_entries else out


# --- FindFolder ----------------------------------------------------------------------------------
@handler("FindFolder")
def find_folder(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findfolder-operation"""
    root, msgs = new_response("FindFolder")
    for folder_el in children(child(body, "ParentFolderIds")):
        add_result(msgs, "FindFolderResponseMessage", lambda f=folder_el: _find_folders_in(ctx, body, f))
    return root


def _find_folders_in(ctx: RequestContext, body: etree._Element, folder_el: etree._Element) -> List[etree._Element]:
    shape: Shape = parse_shape(child(body, "FolderShape"))
    parent = resolve_folder(ctx, folder_el)
    traversal = body.get("Traversal", "Shallow")
    if traversal == "Deep":
        folders = list(parent.walk())
    elif traversal == "SoftDeleted":
        folders = sorted((f for f in parent.children.values() if f.soft_deleted),
                         key=lambda f: (f.display_name.casefold(), f.seq))
    else:
        folders = sorted(parent.live_children(), key=lambda f: (f.display_name.casefold(), f.seq))
    folders = visible_folders(ctx, folders)  # another user sees only what the permissions show
    predicate = optional_restriction(body, "FolderType")
    rendered_full: List[Tuple[FolderRecord, etree._Element]] = []
    if predicate is not None:
        full = Shape(base="AllProperties")
        for f in folders:
            rendered_full.append((f, render_folder(ctx, f, full)))
        folders = [f for f, el in rendered_full if predicate(el)]
    view = next((c for c in children(body) if local(c) in ("IndexedPageFolderView", "FractionalPageFolderView")),
                None)
    chunk, attrs = page(folders, view)
    root_folder = m_el("RootFolder", **attrs)
    out = etree.SubElement(root_folder, f"{{{TNS}}}Folders")
    for f in chunk:
        out.append(render_folder(ctx, f, shape))
    return [root_folder]

