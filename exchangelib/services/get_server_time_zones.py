"""GetServerTimeZones: the server's time zone definitions (ids and names; with full data, periods and transitions).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getservertimezones-operation
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional

from ..properties.timezones import TimeZoneDefinition
from ..version import EXCHANGE_2010
from ..xml import MNS, Element, add_child, create_element
from .common import EWSService


class GetServerTimeZones(EWSService):
    SERVICE_NAME = "GetServerTimeZones"
    supported_from = EXCHANGE_2010

    def call(self, ids: Optional[Iterable[str]] = None, return_full_timezone_data: bool = False) -> List[Any]:
        self.check_supported()
        payload = create_element("m:GetServerTimeZones",
                                 {"ReturnFullTimeZoneData": "true" if return_full_timezone_data else "false"})
        if ids is not None:
            ids = list(ids)
            if not ids:
                return []
            ids_el = add_child(payload, "m:Ids")
            for i in ids:
                add_child(ids_el, "t:Id", text=i)
        results = self._results(payload, expected=None)
        out: List[Any] = []
        for r in results:
            if isinstance(r, Exception):
                raise r
            out.extend(r)
        return out

    def parse_message(self, msg: Element) -> List[Any]:
        defs = msg.find(f"{{{MNS}}}TimeZoneDefinitions")
        return [[TimeZoneDefinition.from_xml(d) for d in (defs if defs is not None else ())]]
