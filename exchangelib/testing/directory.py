"""The local server's directory beyond mailboxes: room lists, distribution lists and per-mailbox settings.

Exchange keeps these in Active Directory; the local server keeps them next to the mailbox store::

    from exchangelib.testing import LocalExchange
    from exchangelib.testing.directory import DistributionList, MailboxSettings, RoomList

    with LocalExchange(
        room_lists=[RoomList("rooms@example.com", "All rooms", ["room1@example.com"])],
        distribution_lists=[DistributionList("team@example.com", "Team", ["john@example.com", "mary@example.com"])],
        mailbox_settings={"mary@example.com": MailboxSettings(time_zone="Europe/Copenhagen")},
    ) as server:
        ...

- A :class:`RoomList` names room mailboxes (mailboxes of the server, usually users without a
  password). GetRoomLists lists the room lists, GetRooms a list's rooms.
- A :class:`DistributionList` has members that are mailbox addresses, other lists' addresses (nested
  lists, cycles allowed: Exchange does not forbid them) or external addresses. ExpandDL returns one
  level; a list with ``hidden_membership`` cannot be expanded (ExpandDL answers
  ErrorNameResolutionNoResults, as Exchange does for a group whose membership is hidden).
- :class:`MailboxSettings` are what Exchange keeps per mailbox and the availability and mail-tips
  services read: the mailbox's time zone and working hours, who sees calendar details in free/busy,
  the mailbox quota and the maximum message size.

Like the rest of :mod:`exchangelib.testing`, this module does not import the client's models.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Dict, Iterable, List, Optional, Sequence, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

__all__ = ["RoomList", "DistributionList", "MailboxSettings", "Directory", "directory_of", "WEEKDAYS",
           "DEFAULT_MAX_MESSAGE_SIZE"]

WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
#: Exchange 2013+'s default maximum message size for the organisation (MaxSendSize), 10 MB, in bytes.
DEFAULT_MAX_MESSAGE_SIZE = 10 * 1024 * 1024
#: Free/busy detail levels a mailbox grants others (Exchange's calendar permission levels for free/busy).
FREE_BUSY_LEVELS = ("None", "FreeBusyTimeOnly", "FreeBusyTimeAndSubjectAndLocation", "Full")


def _address(value: object, what: str) -> str:
    if not isinstance(value, str) or value.count("@") != 1 or not value.strip():
        raise ValueError(f"{what} must be an SMTP address, got {value!r}")
    return value.strip().lower()


def _addresses(values: Iterable[str], what: str) -> Tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be an iterable of SMTP addresses, not a str")
    return tuple(_address(v, what) for v in values)


@dataclass
class RoomList:
    """A room list (a distribution group of room mailboxes): its address, display name and rooms."""

    address: str
    name: str
    rooms: Sequence[str] = ()

    def __post_init__(self) -> None:
        self.address = _address(self.address, "RoomList.address")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"RoomList.name must be a non-empty str, got {self.name!r}")
        self.rooms = _addresses(self.rooms, "RoomList.rooms")


@dataclass
class DistributionList:
    """A distribution list: address, display name and member addresses (mailboxes, lists or external).

    ``hidden_membership``: the list's members are hidden from the address book; ExpandDL refuses it.
    ``moderated``: mail to it is moderated (a mail tip says so). ``delivery_restricted``: only senders in
    ``accept_from`` may send to it.
    """

    address: str
    name: str
    members: Sequence[str] = ()
    hidden_membership: bool = False
    moderated: bool = False
    accept_from: Sequence[str] = ()

    def __post_init__(self) -> None:
        self.address = _address(self.address, "DistributionList.address")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"DistributionList.name must be a non-empty str, got {self.name!r}")
        self.members = _addresses(self.members, "DistributionList.members")
        self.accept_from = _addresses(self.accept_from, "DistributionList.accept_from")


@dataclass
class MailboxSettings:
    """Per-mailbox settings the availability and mail-tips services read.

    - ``time_zone``: the mailbox's time zone (IANA name like 'Europe/Copenhagen' or a Windows id);
      working hours are wall-clock times in it.
    - ``working_days``, ``work_start``/``work_end`` (minutes after midnight): working hours, by default
      Monday to Friday 08:00-17:00 as for a new Exchange mailbox.
    - ``free_busy_default``: what other users see in free/busy ('None', 'FreeBusyTimeOnly' — Exchange's
      default —, 'FreeBusyTimeAndSubjectAndLocation' or 'Full'); ``free_busy_details``: addresses that
      get 'FreeBusyTimeAndSubjectAndLocation' regardless (like a calendar permission granted to them).
    - ``quota``: ProhibitSendReceiveQuota in bytes (None: unlimited); ``used``: the mailbox size in bytes
      counted against it (None: computed from the stored items).
    - ``max_message_size``: MaxReceiveSize in bytes. ``custom_mail_tip``: an administrator's mail tip.
    - ``photo``: the user's picture (JPEG bytes) for GetUserPhoto, returned as stored for every size.
    - ``auto_accept``: the mailbox (a room) answers meeting requests itself, accepting when it is free and
      declining otherwise (see :mod:`exchangelib.testing.ops.booking`).
    """

    time_zone: str = "UTC"
    working_days: Sequence[str] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
    work_start: int = 8 * 60
    work_end: int = 17 * 60
    free_busy_default: str = "FreeBusyTimeOnly"
    free_busy_details: Collection[str] = frozenset()
    quota: Optional[int] = None
    used: Optional[int] = None
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    custom_mail_tip: Optional[str] = None
    photo: Optional[bytes] = None
    auto_accept: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.time_zone, str) or not self.time_zone:
            raise ValueError(f"MailboxSettings.time_zone must be a time zone name, got {self.time_zone!r}")
        if isinstance(self.working_days, str):
            raise TypeError("MailboxSettings.working_days must be an iterable of weekday names, not a str")
        self.working_days = tuple(self.working_days)
        for d in self.working_days:
            if d not in WEEKDAYS:
                raise ValueError(f"MailboxSettings.working_days entries must be one of {WEEKDAYS}, got {d!r}")
        if not (isinstance(self.work_start, int) and isinstance(self.work_end, int)
                and 0 <= self.work_start < self.work_end <= 1440):
            raise ValueError("MailboxSettings.work_start/work_end must be minutes after midnight with start < end")
        if self.free_busy_default not in FREE_BUSY_LEVELS:
            raise ValueError(f"MailboxSettings.free_busy_default must be one of {FREE_BUSY_LEVELS}")
        self.free_busy_details = frozenset(_addresses(self.free_busy_details, "MailboxSettings.free_busy_details"))
        for name in ("quota", "used"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 0):
                raise ValueError(f"MailboxSettings.{name} must be a non-negative int (bytes) or None")
        if self.photo is not None and not isinstance(self.photo, bytes):
            raise TypeError("MailboxSettings.photo must be bytes (a JPEG image) or None")
        if not isinstance(self.max_message_size, int) or self.max_message_size <= 0:
            raise ValueError("MailboxSettings.max_message_size must be a positive int (bytes)")

    def free_busy_level(self, viewer: str) -> str:
        """What ``viewer`` (an SMTP address) may see of this mailbox's calendar in free/busy."""
        if viewer.lower() in self.free_busy_details and self.free_busy_default in ("None", "FreeBusyTimeOnly"):
            return "FreeBusyTimeAndSubjectAndLocation"
        return self.free_busy_default


class Directory:
    """Room lists, distribution lists and mailbox settings of one store (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.room_lists: Dict[str, RoomList] = {}
        self.distribution_lists: Dict[str, DistributionList] = {}
        self._settings: Dict[str, MailboxSettings] = {}

    def add_room_list(self, room_list: RoomList) -> RoomList:
        if not isinstance(room_list, RoomList):
            raise TypeError(f"add_room_list() expects a RoomList, got {type(room_list).__name__}")
        with self._lock:
            self.room_lists[room_list.address] = room_list
        return room_list

    def add_distribution_list(self, dl: DistributionList) -> DistributionList:
        if not isinstance(dl, DistributionList):
            raise TypeError(f"add_distribution_list() expects a DistributionList, got {type(dl).__name__}")
        with self._lock:
            self.distribution_lists[dl.address] = dl
        return dl

    def distribution_list(self, address: Optional[str]) -> Optional[DistributionList]:
        if not address:
            return None
        address = address.strip().lower()
        if address.startswith("smtp:"):
            address = address[5:]
        return self.distribution_lists.get(address)

    def room_list(self, address: Optional[str]) -> Optional[RoomList]:
        if not address:
            return None
        return self.room_lists.get(address.strip().lower())

    def settings(self, address: str) -> MailboxSettings:
        """The settings of a mailbox (Exchange's defaults until configured)."""
        with self._lock:
            s = self._settings.get(address.lower())
            if s is None:
                s = self._settings[address.lower()] = MailboxSettings()
            return s

    def configure(self, address: str, settings: MailboxSettings) -> MailboxSettings:
        if not isinstance(settings, MailboxSettings):
            raise TypeError(f"configure() expects MailboxSettings, got {type(settings).__name__}")
        with self._lock:
            self._settings[_address(address, "mailbox address")] = settings
        return settings

    def is_room(self, address: str) -> bool:
        address = address.lower()
        return any(address in rl.rooms for rl in self.room_lists.values())

    def all_rooms(self) -> List[str]:
        out: List[str] = []
        for rl in self.room_lists.values():
            out.extend(r for r in rl.rooms if r not in out)
        return out


_DIRECTORIES: "weakref.WeakKeyDictionary[Store, Directory]" = weakref.WeakKeyDictionary()
_DIRECTORIES_LOCK = threading.Lock()


def directory_of(store: "Store") -> Directory:
    """The directory belonging to a store (created empty on first use)."""
    with _DIRECTORIES_LOCK:
        d = _DIRECTORIES.get(store)
        if d is None:
            d = _DIRECTORIES[store] = Directory()
        return d

