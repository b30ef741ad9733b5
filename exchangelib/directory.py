"""Scheduling and directory operations that are not about one mailbox: they live on the Protocol.

``account.protocol.get_free_busy_info(...)``, ``get_roomlists()``, ``get_rooms(...)``, ``expand_dl(...)``,
``resolve_names(...)``, ``get_timezones(...)`` and ``convert_ids(...)`` have the names and arguments of
exchangelib 5.x, so code written for it runs unchanged. :class:`DirectoryMethods` is mixed into
:class:`~exchangelib.protocol.Protocol`.
"""
from __future__ import annotations

import datetime
import logging
from typing import Any, Iterable, Iterator, List, Optional, Set, Tuple, Union

from .errors import ErrorNameResolutionNoResults
from .ewsdatetime import EWSTimeZone
from .properties import Mailbox
from .properties.availability import DLMailbox, FreeBusyView, Room, RoomList, SuggestionDayResult
from .properties.alternate_id import AlternateId
from .properties.timezones import TimeZoneDefinition
from .services.convert_id import ConvertId
from .services.expand_dl import ExpandDL
from .services.get_room_lists import GetRoomLists
from .services.get_rooms import GetRooms
from .services.get_server_time_zones import GetServerTimeZones
from .services.get_user_availability import GetUserAvailability, SuggestionOptions
from .services.get_user_photo import GetUserPhoto
from .services.resolve_names import ResolveNames

log = logging.getLogger(__name__)

#: The attendee tuples of get_free_busy_info: (Account or address, attendee type, exclude conflicts)
AttendeeSpec = Tuple[Any, str, bool]


def _address(who: Any) -> str:
    if isinstance(who, str):
        return who
    for attr in ("primary_smtp_address", "email_address"):
        value = getattr(who, attr, None)
        if isinstance(value, str) and value:
            return value
    raise TypeError(f"Expected an Account, a Mailbox or an email address, got {type(who).__name__}")


def _mailbox_data(accounts: Iterable[AttendeeSpec]) -> List[Tuple[str, str, bool]]:
    out = []
    for spec in accounts:
        if not isinstance(spec, tuple) or len(spec) != 3:
            raise ValueError(f"Attendees are (account_or_address, attendee_type, exclude_conflicts) tuples, "
                             f"got {spec!r}")
        who, attendee_type, exclude = spec
        out.append((_address(who), attendee_type, bool(exclude)))
    return out


class DirectoryMethods:
    """Protocol methods for scheduling and the directory (see the module docstring)."""

    def get_free_busy_info(self, accounts: Iterable[AttendeeSpec], start: datetime.datetime, end: datetime.datetime,
                           merged_free_busy_interval: int = 30,
                           requested_view: str = "DetailedMerged") -> List[Union[FreeBusyView, Exception]]:
        """Free/busy information of attendees between ``start`` and ``end`` (aware datetimes).

        ``accounts``: ``(account_or_address, attendee_type, exclude_conflicts)`` tuples, ``attendee_type`` one of
        'Organizer', 'Required', 'Optional', 'Room', 'Resource'. Returns one :class:`FreeBusyView` per attendee,
        in order, or the exception for that attendee (e.g. ErrorMailRecipientNotFound, ErrorNoFreeBusyAccess).
        Event times are in ``start``'s time zone. ``requested_view``: 'MergedOnly', 'FreeBusy',
        'FreeBusyMerged', 'Detailed' or 'DetailedMerged'; the server may return less than asked for.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseravailability-operation
        """
        views, _ = GetUserAvailability(protocol=self).call(
            _mailbox_data(accounts), start, end, merged_free_busy_interval=merged_free_busy_interval,
            requested_view=requested_view)
        return views

    def get_meeting_suggestions(self, accounts: Iterable[AttendeeSpec], start: datetime.datetime,
                                end: datetime.datetime, meeting_duration: int = 30, good_threshold: int = 25,
                                max_results_per_day: int = 10, max_non_work_hour_results_per_day: int = 0,
                                min_quality: str = "Fair") -> List[SuggestionDayResult]:
        """Meeting times for the attendees between ``start`` and ``end``: one :class:`SuggestionDayResult` per
        day, each with its :class:`~exchangelib.properties.availability.Suggestion` list (``meeting_time``,
        ``quality``, ``is_work_time``, per-attendee ``conflicts``).
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/suggestionsviewoptions
        """
        options = SuggestionOptions(meeting_duration, good_threshold, max_results_per_day,
                                    max_non_work_hour_results_per_day, min_quality)
        _, days = GetUserAvailability(protocol=self).call(_mailbox_data(accounts), start, end, requested_view=None,
                                                          suggestions=options)
        return days or []

    def get_roomlists(self) -> List[RoomList]:
        """The organisation's room lists.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getroomlists-operation
        """
        return GetRoomLists(protocol=self).call()

    def get_rooms(self, roomlist: Union[str, RoomList]) -> List[Room]:
        """The rooms of a room list (its address or a :class:`RoomList`).
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getrooms-operation
        """
        return GetRooms(protocol=self).call(room_list=_address(roomlist))

    def expand_dl(self, distribution_list: Union[str, Mailbox]) -> List[Mailbox]:
        """The members of a distribution list, one level deep: nested lists are members with
        ``mailbox_type`` 'PublicDL' (see :meth:`expand_dl_recursive`). ``distribution_list`` is an address or a
        :class:`DLMailbox` (a private list by ``item_id``).
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/expanddl-operation
        """
        if isinstance(distribution_list, str):
            distribution_list = DLMailbox(email_address=distribution_list, mailbox_type="PublicDL")
        elif isinstance(distribution_list, Mailbox) and not isinstance(distribution_list, DLMailbox):
            distribution_list = DLMailbox(email_address=distribution_list.email_address,
                                          mailbox_type=distribution_list.mailbox_type or "PublicDL",
                                          item_id=distribution_list.item_id)
        return ExpandDL(protocol=self).call(distribution_list=distribution_list)

    def expand_dl_recursive(self, distribution_list: Union[str, Mailbox]) -> List[Mailbox]:
        """Every member of a distribution list that is not itself a list, nested lists expanded.

        Each list is expanded once, so lists that contain each other (cycles) end. Members are unique by
        address, in the order first met. A nested list that cannot be expanded (hidden membership) is kept
        as an entry.
        """
        out: List[Mailbox] = []
        seen_members: Set[str] = set()
        seen_lists: Set[str] = set()
        pending: List[Union[str, Mailbox]] = [distribution_list]
        while pending:
            dl = pending.pop(0)
            key = _address(dl).lower() if not (isinstance(dl, Mailbox) and not dl.email_address) else repr(dl)
            if key in seen_lists:
                continue
            seen_lists.add(key)
            try:
                members = self.expand_dl(dl)
            except ErrorNameResolutionNoResults:
                if dl is distribution_list:
                    raise
                log.debug("Nested distribution list %s cannot be expanded; keeping it as a member", key)
                if isinstance(dl, Mailbox) and key not in seen_members:
                    seen_members.add(key)
                    out.append(dl)
                continue
            for m in members:
                if m.mailbox_type in ("PublicDL", "PrivateDL"):
                    pending.append(m)
                    continue
                mkey = (m.email_address or repr(m.item_id)).lower()
                if mkey not in seen_members:
                    seen_members.add(mkey)
                    out.append(m)
        return out

    def resolve_names(self, names: Iterable[str], parent_folders: Optional[Iterable[Any]] = None,
                      return_full_contact_data: bool = False, search_scope: Optional[str] = None,
                      shape: Optional[str] = None) -> List[Any]:
        """Resolve names or partial addresses, as exchangelib 5.x does: a flat list with, per name, every
        candidate (:class:`Mailbox`, or ``(Mailbox, Contact or None)`` with ``return_full_contact_data``) or
        the exception (ErrorNameResolutionNoResults for a name nothing matches).

        ``search_scope``: 'ActiveDirectory', 'ActiveDirectoryContacts', 'Contacts' or
        'ContactsActiveDirectory'; ``shape`` (Exchange 2010 SP2+): 'IdOnly', 'Default' or 'AllProperties';
        ``parent_folders``: contacts folders to search.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/resolvenames-operation
        """
        out: List[Any] = []
        for res in ResolveNames(protocol=self).call(names, search_scope=search_scope,
                                                    return_full_contact_data=return_full_contact_data,
                                                    contact_data_shape=shape, parent_folders=parent_folders,
                                                    with_contacts=return_full_contact_data):
            if isinstance(res, Exception):
                out.append(res)
            else:
                out.extend(res)
        return out

    def get_timezones(self, timezones: Optional[Iterable[Any]] = None,
                      return_full_timezone_data: bool = False) -> Iterator[TimeZoneDefinition]:
        """The server's time zone definitions: all of them, or those of ``timezones`` (Windows ids, or
        EWSTimeZone/tzinfo objects). With ``return_full_timezone_data`` each carries its periods and
        transitions; ``EWSTimeZone.from_server_definition(d)`` makes a usable zone of one.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getservertimezones-operation
        """
        ids = None
        if timezones is not None:
            ids = []
            for tz in timezones:
                if isinstance(tz, str):
                    ids.append(tz)
                    continue
                zone = tz if isinstance(tz, EWSTimeZone) else EWSTimeZone.from_timezone(tz)
                ids.append(zone.ms_id)
        return iter(GetServerTimeZones(protocol=self).call(ids=ids,
                                                           return_full_timezone_data=return_full_timezone_data))

    def get_user_photo(self, email: Union[str, Any], size: str = "HR96x96") -> bytes:
        """The picture of a user (an address, Account or Mailbox) as image bytes, in a size from 'HR48x48' to
        'HR1920xN' (Exchange 2013 and later). Raises ErrorItemNotFound when the user has none.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuserphoto-operation
        """
        return GetUserPhoto(protocol=self).call(_address(email), size=size)

    def convert_ids(self, ids: Iterable[Any], destination_format: str) -> Iterator[Any]:
        """Convert item and folder ids between formats ('EwsId', 'EwsLegacyId', 'EntryId', 'HexEntryId',
        'StoreId', 'OwaId'). ``ids`` are ``AlternateId`` objects or ``(id, format, mailbox)`` triples. Yields,
        per input and in order, an ``AlternateId`` in the new format, or the exception for that id.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/convertid-operation
        """
        triples = [(i.id, i.format, i.mailbox) if isinstance(i, AlternateId) else i for i in ids]
        for res in ConvertId(protocol=self).call(triples, destination_format=destination_format):
            if isinstance(res, Exception) or res is None:
                yield res
            else:
                yield AlternateId(id=res[0], format=res[1], mailbox=res[2])


__all__ = ["DirectoryMethods", "AlternateId"]
