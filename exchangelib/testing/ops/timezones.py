"""GetServerTimeZones: the Windows time zones the server knows, with their periods and transitions.

The list is CLDR's Windows zone table (``exchangelib.winzone``, in the order of the Windows registry)
and each zone's rules come from its IANA equivalent. With ``ReturnFullTimeZoneData`` a definition
carries, as Exchange's do, a ``Standard`` period (and a ``Daylight`` one for zones with daylight
saving time), one transitions group holding the two yearly ``RecurringDayTransition`` elements
(``Occurrence`` -1 for "last"), and a transition to that group. The rules are those of the current
year; Exchange also sends the history of older rules as further groups, which the local server leaves
out. ``Ids`` limits the answer to the named zones; an unknown id answers ErrorTimeZone.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getservertimezones-operation
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import List, Optional

from lxml import etree

from ...winzone import MS_DISPLAY_NAMES, MS_TO_IANA
from ...xml import MNS, TNS
from ..context import RequestContext
from .common import add_result, bool_attr, child, err, handler, m_el, new_response
from .legacy_tz import DAY_NAMES, _transitions, zoneinfo_for

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"


def xs_duration(delta: timedelta) -> str:
    """An xs:duration such as '-PT1H' or 'PT5H30M' (Exchange's Period Bias and TimeOffset form)."""
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    h, m = divmod(abs(minutes), 60)
    if h == 0 and m == 0:
        return "PT0M"
    return f"{sign}PT{f'{h}H' if h else ''}{f'{m}M' if m else ''}"


def _recurring(to: str, moment: datetime, tz) -> etree._Element:
    before = (moment - timedelta(minutes=1)).astimezone(tz) + timedelta(minutes=1)
    day = before.date()
    occurrence = (day.day - 1) // 7 + 1
    if (day + timedelta(days=7)).month != day.month:
        occurrence = -1
    el = etree.Element(T + "RecurringDayTransition")
    etree.SubElement(el, T + "To", Kind="Period").text = to
    etree.SubElement(el, T + "TimeOffset").text = xs_duration(timedelta(hours=before.hour, minutes=before.minute))
    etree.SubElement(el, T + "Month").text = str(day.month)
    etree.SubElement(el, T + "DayOfWeek").text = DAY_NAMES[day.isoweekday() % 7]
    etree.SubElement(el, T + "Occurrence").text = str(occurrence)
    return el


def definition(ms_id: str, year: int, full: bool) -> etree._Element:
    el = etree.Element(T + "TimeZoneDefinition", Id=ms_id, Name=MS_DISPLAY_NAMES.get(ms_id, ms_id))
    if not full:
        return el
    tz = zoneinfo_for(MS_TO_IANA.get(ms_id, "UTC"))
    to_dst, to_std = _transitions(tz, year)
    jan = datetime(year, 1, 15, tzinfo=timezone.utc).astimezone(tz)
    jul = datetime(year, 7, 15, tzinfo=timezone.utc).astimezone(tz)
    std = (jan.utcoffset() or timedelta(0)) - (jan.dst() or timedelta(0))
    dst = max(jan.dst() or timedelta(0), jul.dst() or timedelta(0))
    base = f"trule:Microsoft/Registry/{ms_id}/{year}"
    periods = etree.SubElement(el, T + "Periods")
    etree.SubElement(periods, T + "Period", Bias=xs_duration(-std), Name="Standard", Id=f"{base}-Standard")
    groups = etree.SubElement(el, T + "TransitionsGroups")
    group = etree.SubElement(groups, T + "TransitionsGroup", Id="0")
    if to_dst is not None and to_std is not None:
        etree.SubElement(periods, T + "Period", Bias=xs_duration(-(std + dst)), Name="Daylight",
                         Id=f"{base}-Daylight")
        group.append(_recurring(f"{base}-Daylight", to_dst, tz))
        group.append(_recurring(f"{base}-Standard", to_std, tz))
    else:
        tr = etree.SubElement(group, T + "Transition")
        etree.SubElement(tr, T + "To", Kind="Period").text = f"{base}-Standard"
    transitions = etree.SubElement(el, T + "Transitions")
    tr = etree.SubElement(transitions, T + "Transition")
    etree.SubElement(tr, T + "To", Kind="Group").text = "0"
    return el


def _answer(ctx: RequestContext, ids: Optional[List[str]], full: bool) -> List[etree._Element]:
    year = ctx.store.now().year
    wanted = list(MS_TO_IANA) if ids is None else ids
    defs = m_el("TimeZoneDefinitions")
    for ms_id in wanted:
        if ms_id not in MS_TO_IANA:
            raise err("ErrorTimeZone", f"The time zone id {ms_id!r} is not known.")
        defs.append(definition(ms_id, year, full))
    return [defs]


@handler("GetServerTimeZones")
def get_server_time_zones(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getservertimezones-operation"""
    ids_el = child(body, "Ids")
    ids = [(i.text or "").strip() for i in ids_el if isinstance(i.tag, str)] if ids_el is not None else None
    full = bool_attr(body, "ReturnFullTimeZoneData")
    root, msgs = new_response("GetServerTimeZones")
    add_result(msgs, "GetServerTimeZonesResponseMessage", lambda: _answer(ctx, ids, full),
               error_payload=("m:TimeZoneDefinitions",))
    return root
