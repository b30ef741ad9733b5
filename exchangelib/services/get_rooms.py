"""GetRooms: the rooms of a room list.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getrooms-operation
"""
from __future__ import annotations

from typing import List

from ..properties.availability import Room
from ..soap import response_message_error
from ..version import EXCHANGE_2010
from ..xml import MNS, TNS, add_child, create_element
from .common import EWSService


class GetRooms(EWSService):
    SERVICE_NAME = "GetRooms"
    supported_from = EXCHANGE_2010

    def call(self, room_list: str) -> List[Room]:
        if not isinstance(room_list, str) or "@" not in room_list:
            raise ValueError(f"room_list must be the room list's email address, got {room_list!r}")
        self.check_supported()
        payload = create_element("m:GetRooms")
        rl = add_child(payload, "m:RoomList")
        add_child(rl, "t:EmailAddress", text=room_list)
        response = self._post(payload)
        exc = response_message_error(response, self.SERVICE_NAME)
        if exc is not None:
            raise exc
        rooms = response.find(f"{{{MNS}}}Rooms")
        out = []
        for room in (rooms if rooms is not None else ()):
            rid = room.find(f"{{{TNS}}}Id")
            if rid is not None:
                out.append(Room.from_xml(rid))
        return out
