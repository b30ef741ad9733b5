"""Recurring tasks: completing the current instance, or moving it, splits off a one-off task.

Exchange keeps one task item for a recurring series: it describes the current instance. Two updates of
that instance generate a one-off task (UpdateItem (Task), "Updating the Current Occurrence of a Recurring
Task"): setting its status to Completed, for any series, and changing its start or due date, for a
series that does not regenerate. In both cases the store copies the instance as a separate,
non-recurring task (completed, or at its new dates) and moves the series on to its next instance
(not started again):
- a regenerating series (DailyRegeneration ... YearlyRegeneration) starts again the interval after the day
  it was completed;
- any other series moves to the next date of its pattern after the current instance; a numbered range
  counts the instance as done, and a series with no instance left is simply completed (nothing split).
Due date keeps its distance from the start date. The copy is what the user sees as done in Outlook.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/regeneration
https://learn.microsoft.com/en-us/previous-versions/office/developer/exchange-server-2010/aa564764(v=exchg.140)
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional

from lxml import etree

from ...xml import TNS
from ..store import FolderRecord, Mailbox, Store, format_datetime
from .common import local
from .props import get, get_text, parse_datetime, remove_prop, set_prop
from .recurrence import Pattern
from .stamp import copy_element, stamp_new

T = f"{{{TNS}}}"
_REGENERATION = ("DailyRegeneration", "WeeklyRegeneration", "MonthlyRegeneration", "YearlyRegeneration")


def is_completion(old: etree._Element, new: etree._Element) -> bool:
    """Does this update complete a task that was not complete?"""
    def complete(e: etree._Element) -> bool:
        pct = get_text(e, "PercentComplete")
        return get_text(e, "Status") == "Completed" or (pct is not None and pct.strip() in ("100", "100.0"))
    return complete(new) and not complete(old)


def _add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _next_start(recurrence: etree._Element, current: date, completed_on: date) -> Optional[date]:
    """The start date of the series' next instance, or None when the series has no instance left."""
    pattern = next((c for c in recurrence if isinstance(c.tag, str)), None)
    if pattern is None:
        return None
    kind = local(pattern)
    if kind in _REGENERATION:
        try:
            n = max(1, int(get_text(pattern, "Interval") or "1"))
        except ValueError:
            n = 1
        if kind == "DailyRegeneration":
            return completed_on + timedelta(days=n)
        if kind == "WeeklyRegeneration":
            return completed_on + timedelta(weeks=n)
        return _add_months(completed_on, n if kind == "MonthlyRegeneration" else 12 * n)
    for _index, d in Pattern(recurrence).dates():
        if d > current:
            return d
    return None


def _shift(elem: etree._Element, name: str, delta: timedelta) -> None:
    text = get_text(elem, name)
    if text:
        set_prop(elem, name, format_datetime(parse_datetime(text) + delta))


def split_completed(store: Store, mailbox: Mailbox, folder: FolderRecord, old: etree._Element,
                    new: etree._Element) -> bool:
    """When ``new`` completes the current instance of the recurring task ``old``: store the completed
    one-off copy in ``folder`` and turn ``new`` into the series' next instance. False when nothing was
    split (not a recurring task, not a completion, or the last instance)."""
    recurrence = get(new, "Recurrence")
    if local(new) != "Task" or recurrence is None or not is_completion(old, new):
        return False
    anchor_text = get_text(new, "StartDate") or get_text(new, "DueDate")
    if anchor_text:
        anchor = parse_datetime(anchor_text)
    else:
        anchor = datetime.combine(date.fromisoformat((get_text(recurrence, "StartDate") or "")[:10] or
                                                     store.now().date().isoformat()), time(0), tzinfo=timezone.utc)
    range_el = [c for c in recurrence if isinstance(c.tag, str)][-1]
    next_day = _next_start(recurrence, anchor.date(), store.now().date())
    count_el = range_el.find(T + "NumberOfOccurrences")
    if next_day is None or (count_el is not None and (count_el.text or "").strip() in ("", "0", "1")):
        return False  # the last instance: the series itself is completed
    one_off = copy_element(new)
    remove_prop(one_off, "Recurrence")
    for name in ("ItemId", "ParentFolderId", "IsRecurring"):
        remove_prop(one_off, name)
    set_prop(one_off, "Status", "Completed")
    set_prop(one_off, "PercentComplete", "100")
    stamp_new(store, mailbox, one_off)
    store.add_item(folder, one_off)

    delta = datetime.combine(next_day, anchor.timetz()) - anchor
    _shift(new, "StartDate", delta)
    _shift(new, "DueDate", delta)
    start_el = range_el.find(T + "StartDate")
    if start_el is not None:
        start_el.text = next_day.isoformat()
    if count_el is not None:
        count_el.text = str(int((count_el.text or "1").strip()) - 1)
    set_prop(new, "Status", "NotStarted")
    set_prop(new, "PercentComplete", "0")
    remove_prop(new, "CompleteDate")
    return True


def _is_regenerating(recurrence: etree._Element) -> bool:
    pattern = next((c for c in recurrence if isinstance(c.tag, str)), None)
    return pattern is not None and local(pattern) in _REGENERATION


def split_moved(store: Store, mailbox: Mailbox, folder: FolderRecord, old: etree._Element,
                new: etree._Element) -> bool:
    """When ``new`` moves the current instance of the non-regenerating recurring task ``old`` (a new start
    or due date): store that instance, at its new dates, as a one-off task in ``folder``, and turn ``new``
    into the series' next instance (at the pattern's next date, with ``old``'s times). False when nothing
    was split (not such a task, dates unchanged, or the last instance)."""
    recurrence = get(old, "Recurrence")
    if local(new) != "Task" or recurrence is None or get(new, "Recurrence") is None \
            or _is_regenerating(recurrence) or is_completion(old, new):
        return False
    if all(get_text(old, n) == get_text(new, n) for n in ("StartDate", "DueDate")):
        return False
    anchor_text = get_text(old, "StartDate") or get_text(old, "DueDate")
    if not anchor_text:
        return False
    anchor = parse_datetime(anchor_text)
    range_el = [c for c in recurrence if isinstance(c.tag, str)][-1]
    next_day = _next_start(recurrence, anchor.date(), store.now().date())
    count_el = range_el.find(T + "NumberOfOccurrences")
    if next_day is None or (count_el is not None and (count_el.text or "").strip() in ("", "0", "1")):
        return False  # the last instance: it just moves
    one_off = copy_element(new)
    for name in ("Recurrence", "ItemId", "ParentFolderId", "IsRecurring"):
        remove_prop(one_off, name)
    stamp_new(store, mailbox, one_off)
    store.add_item(folder, one_off)

    delta = datetime.combine(next_day, anchor.timetz()) - anchor
    for name in ("StartDate", "DueDate"):  # the series goes on from its own dates, not the moved ones
        text = get_text(old, name)
        if text:
            set_prop(new, name, format_datetime(parse_datetime(text) + delta))
        else:
            remove_prop(new, name)
    new_recurrence = get(new, "Recurrence")
    assert new_recurrence is not None  # checked on entry
    new_range = [c for c in new_recurrence if isinstance(c.tag, str)][-1]
    start_el = new_range.find(T + "StartDate")
    if start_el is not None:
        start_el.text = next_day.isoformat()
    new_count = new_range.find(T + "NumberOfOccurrences")
    if new_count is not None:
        new_count.text = str(int((new_count.text or "1").strip()) - 1)
    return True

