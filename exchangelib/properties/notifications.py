"""Notifications and their events, as GetEvents, GetStreamingEvents and push callbacks deliver them.

A :class:`Notification` belongs to one subscription and carries ``events`` in the order they happened:
:class:`NewMailEvent`, :class:`CreatedEvent`, :class:`DeletedEvent`, :class:`ModifiedEvent`,
:class:`MovedEvent`, :class:`CopiedEvent`, :class:`FreeBusyChangedEvent` and :class:`StatusEvent`
(a heartbeat: nothing happened). Each event has the ``watermark`` to resume from after it. An event
is about an item (``item_id`` set, ``event_type == 'item'``) or a folder (``folder_id`` set,
``event_type == 'folder'``); ``parent_folder_id`` is the folder it happened in, and moves and copies
also say where the object came from (``old_item_id``/``old_folder_id``, ``old_parent_folder_id``).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/notification-ex15websvcsotherref
"""
from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Type

from ..elements import EWSElement, Element
from ..fields import BooleanField, CharField, DateTimeField, EWSElementField, IntegerField
from ..xml import MNS, TNS
from .ids import FolderId, ItemId, ParentFolderId


class Event(EWSElement):
    """Base of all notification events.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/statusevent
    """

    ELEMENT_NAME = ""
    watermark = CharField(xml_name="Watermark")


class TimestampEvent(Event):
    """An event about one item or folder (``BaseObjectChangedEventType``), e.g. a created one.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createdevent
    """

    ITEM: ClassVar[str] = "item"
    FOLDER: ClassVar[str] = "folder"

    timestamp = DateTimeField(xml_name="TimeStamp")
    folder_id = EWSElementField(xml_name="FolderId", value_cls=FolderId)
    item_id = EWSElementField(xml_name="ItemId", value_cls=ItemId)
    parent_folder_id = EWSElementField(xml_name="ParentFolderId", value_cls=ParentFolderId)

    @property
    def event_type(self) -> Optional[str]:
        """``'item'`` or ``'folder'``: what the event is about."""
        if self.item_id is not None:
            return self.ITEM
        if self.folder_id is not None:
            return self.FOLDER
        return None


class OldTimestampEvent(TimestampEvent):
    """A move or copy: also where the object came from (``MovedCopiedEventType``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/movedevent
    """

    old_folder_id = EWSElementField(xml_name="OldFolderId", value_cls=FolderId)
    old_item_id = EWSElementField(xml_name="OldItemId", value_cls=ItemId)
    old_parent_folder_id = EWSElementField(xml_name="OldParentFolderId", value_cls=ParentFolderId)


class CopiedEvent(OldTimestampEvent):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/copiedevent"""

    ELEMENT_NAME = "CopiedEvent"


class CreatedEvent(TimestampEvent):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createdevent"""

    ELEMENT_NAME = "CreatedEvent"


class DeletedEvent(TimestampEvent):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deletedevent"""

    ELEMENT_NAME = "DeletedEvent"


class ModifiedEvent(TimestampEvent):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/modifiedevent"""

    ELEMENT_NAME = "ModifiedEvent"
    unread_count = IntegerField(xml_name="UnreadCount")


class MovedEvent(OldTimestampEvent):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/movedevent"""

    ELEMENT_NAME = "MovedEvent"


class NewMailEvent(TimestampEvent):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/newmailevent"""

    ELEMENT_NAME = "NewMailEvent"


class StatusEvent(Event):
    """Nothing happened; the subscription is alive.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/statusevent
    """

    ELEMENT_NAME = "StatusEvent"


class FreeBusyChangedEvent(TimestampEvent):
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/freebusychangedevent"""

    ELEMENT_NAME = "FreeBusyChangedEvent"


EVENT_CLASSES: Dict[str, Type[Event]] = {
    c.ELEMENT_NAME: c for c in (CopiedEvent, CreatedEvent, DeletedEvent, ModifiedEvent, MovedEvent, NewMailEvent,
                                StatusEvent, FreeBusyChangedEvent)
}
_EVENT_TAGS = {f"{{{TNS}}}{name}": cls for name, cls in EVENT_CLASSES.items()}


class Notification(EWSElement):
    """The events of one subscription since ``previous_watermark`` (``more_events``: GetEvents has more).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/notification-ex15websvcsotherref
    """

    ELEMENT_NAME = "Notification"
    NAMESPACE = MNS
    _EXTRA_ATTRS = ("events",)

    subscription_id = CharField(xml_name="SubscriptionId")
    previous_watermark = CharField(xml_name="PreviousWatermark")
    more_events = BooleanField(xml_name="MoreEvents")

    #: The events, in the order they happened.
    events: List[Event] = []

    @classmethod
    def from_xml(cls, elem: Element, account: Any = None) -> "Notification":
        obj = super().from_xml(elem, account)
        events = []
        for child in elem:
            ev_cls = _EVENT_TAGS.get(child.tag)
            if ev_cls is not None:
                events.append(ev_cls.from_xml(child, account))
        obj.__dict__["events"] = events
        return obj

    @property
    def watermark(self) -> Optional[str]:
        """The watermark after the last event (where to continue from)."""
        for ev in reversed(self.events):
            if ev.watermark:
                return ev.watermark
        return self.previous_watermark


__all__ = ["Event", "TimestampEvent", "OldTimestampEvent", "CopiedEvent", "CreatedEvent", "DeletedEvent",
           "ModifiedEvent", "MovedEvent", "NewMailEvent", "StatusEvent", "FreeBusyChangedEvent", "EVENT_CLASSES",
           "Notification"]
