"""GetRoomLists: the organisation's room lists.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getroomlists-operation
"""
from __future__ import annotations

from typing import List

from ..properties.availability import RoomList
from ..soap import response_message_error
from ..version import EXCHANGE_2010
from ..xml import MNS, TNS, create_element
from .common import EWSService


class GetRoomLists(EWSService):
    SERVICE_NAME = "GetRoomLists"
    supported_from = EXCHANGE_2010

    def call(self) -> List[RoomList]:
        self.check_supported()
        response = self._post(create_element("m:GetRoomLists"))
        exc = response_message_error(response, self.SERVICE_NAME)
        if exc is not None:
            raise exc
        lists = response.find(f"{{{MNS}}}RoomLists")
        return [RoomList.from_xml(a) for a in (lists if lists is not None else ()) if a.tag == f"{{{TNS}}}Address"]
