"""Time zone aware dates and times for EWS, built on the standard library's :mod:`zoneinfo`.

EWS wants every date-time with a UTC offset and names time zones by their Windows id
('Romance Standard Time'), while Python names them by IANA key ('Europe/Copenhagen'). This module
bridges the two:

* :class:`EWSTimeZone` is a :class:`zoneinfo.ZoneInfo` with a pytz-style API (``timezone()``,
  ``localize()``, ``normalize()``) and the Windows id/display name (``ms_id``, ``ms_name``).
* :class:`EWSDateTime` and :class:`EWSDate` are :class:`datetime.datetime` and :class:`datetime.date`
  subclasses whose arithmetic keeps their type, and which read and write the EWS wire format.

Example::

    tz = EWSTimeZone('Europe/Copenhagen')
    start = tz.localize(EWSDateTime(2017, 9, 5, 8, 30))
    start.ewsformat()           # '2017-09-05T08:30:00+02:00'
    EWSDateTime.from_string('2017-09-05T06:30:00Z') == start   # True
"""
from __future__ import annotations

import datetime
import io
import logging
import re
import struct
import threading
import zoneinfo
from typing import Any, Dict, Optional, Union

from .errors import AmbiguousTimeError, NaiveDateTimeNotAllowed, NonExistentTimeError, UnknownTimeZone
from .winzone import IANA_TO_MS, MS_DISPLAY_NAMES, MS_TO_IANA

__all__ = [
    "EWSTimeZone", "EWSDateTime", "EWSDate", "UTC", "UTC_NOW",
    "UnknownTimeZone", "NaiveDateTimeNotAllowed", "AmbiguousTimeError", "NonExistentTimeError",
]

log = logging.getLogger(__name__)

_ZERO = datetime.timedelta(0)
# Windows ids arrive in a few decorated forms, e.g. 'tzone://Microsoft/Utc' in meeting requests.
_MS_ID_PREFIXES = ("tzone://Microsoft/",)
# '(UTC+01:00) Amsterdam, ...', 'UTC-11', '(GMT-05:00) Eastern Time', '(UTC) Coordinated Universal Time'
_OFFSET_IN_NAME_RE = re.compile(r"(?:UTC|GMT)\s*(?:([+-])\s*(\d{1,2})(?::?(\d\d))?)?(?![A-Za-z])", re.IGNORECASE)
_DISPLAY_PREFIX_RE = re.compile(r"^\(\s*(?:UTC|GMT)[^)]*\)\s*", re.IGNORECASE)


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


# Lookup tables for forgiving Windows id matching, built once from the generated tables.
_MS_ID_BY_NORM: Dict[str, str] = {_norm(k): k for k in MS_TO_IANA}
_MS_ID_BY_DISPLAY_NAME: Dict[str, str] = {}
for _ms_id, _display in MS_DISPLAY_NAMES.items():
    _MS_ID_BY_DISPLAY_NAME.setdefault(_norm(_display), _ms_id)
for _ms_id, _display in MS_DISPLAY_NAMES.items():
    # The part after the offset prefix, so '(GMT+01:00) Amsterdam, ...' (older Windows) matches too.
    _MS_ID_BY_DISPLAY_NAME.setdefault(_norm(_DISPLAY_PREFIX_RE.sub("", _display)), _ms_id)
del _ms_id, _display

# Results of forgiving from_ms_id() lookups, so each unknown name is resolved (and warned about) once.
_FALLBACK_CACHE: Dict[str, "EWSTimeZone"] = {}
_FALLBACK_LOCK = threading.Lock()
# Zones for Windows ids that share an IANA zone with another Windows id (see EWSTimeZone.ms_id).
_OWN_ID_ZONES: Dict[str, "EWSTimeZone"] = {}


def _fmt_offset(offset: datetime.timedelta) -> str:
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


class EWSTimeZone(zoneinfo.ZoneInfo):
    """An IANA time zone (a :class:`zoneinfo.ZoneInfo`) that also knows its Windows time zone id.

    Create one with ``EWSTimeZone('Europe/Copenhagen')``, the pytz-style ``EWSTimeZone.timezone(...)``,
    ``EWSTimeZone.localzone()``, ``EWSTimeZone.from_ms_id('W. Europe Standard Time')`` or
    ``EWSTimeZone.from_timezone(any_tzinfo)``. Instances are cached per key and compare equal by key.

    EWS reference: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/starttimezone
    """

    def __new__(cls, key: str) -> "EWSTimeZone":
        if isinstance(key, EWSTimeZone):
            return key
        if not isinstance(key, str):
            raise TypeError(f"EWSTimeZone() expects an IANA time zone name (str), got {type(key).__name__}")
        try:
            return super().__new__(cls, key)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as e:
            raise UnknownTimeZone(
                f"No IANA time zone named {key!r}. Use a name like 'Europe/Copenhagen', or "
                f"EWSTimeZone.from_ms_id() for Windows ids like 'Romance Standard Time'"
            ) from e

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r})"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, EWSTimeZone):
            return self is other or (self.key is not None and self.key == other.key)
        return NotImplemented

    def __ne__(self, other: Any) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self.key) if self.key is not None else id(self)

    # --- Windows names -------------------------------------------------------------------------------------

    @property
    def ms_id(self) -> str:
        """The Windows time zone id, e.g. 'Romance Standard Time'. Raises UnknownTimeZone if there is none.

        A zone read from a Windows id that is not the IANA zone's usual one (e.g. 'Kamchatka Standard Time',
        an old Windows zone with Asia/Kamchatka's offsets) keeps that id, so saving an item back does not
        change its zone."""
        own = self.__dict__.get("_server_ms_id") or self.__dict__.get("_ms_id")  # from a server definition / id
        if own:
            return own
        try:
            return IANA_TO_MS[self.key]
        except KeyError:
            raise UnknownTimeZone(
                f"No Windows time zone id is known for {self.key!r}; EWS cannot use it. Pick a zone listed in "
                f"exchangelib.winzone.IANA_TO_MS"
            ) from None

    @property
    def ms_name(self) -> Optional[str]:
        """The Windows display name, e.g. '(UTC+01:00) Brussels, Copenhagen, Madrid, Paris', or None."""
        if self.__dict__.get("_server_ms_name"):
            return self.__dict__["_server_ms_name"]
        ms_id = self.__dict__.get("_ms_id") or IANA_TO_MS.get(self.key)
        return MS_DISPLAY_NAMES.get(ms_id) if ms_id else None

    @classmethod
    def from_server_definition(cls, definition: Any, prefer_known: bool = True) -> "EWSTimeZone":
        """A zone from a server's full time zone definition (``protocol.get_timezones(...,
        return_full_timezone_data=True)``): its periods and the transitions in effect now.

        A Windows id the IANA table knows gives that IANA zone (unless ``prefer_known`` is False); any
        other id gives a zone that follows the server's rules, with ``ms_id``/``ms_name`` from the
        definition, so it converts times and can be sent back to that server.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/timezonedefinition
        """
        ms_id = getattr(definition, "id", None)
        if prefer_known and ms_id in MS_TO_IANA:
            return cls(MS_TO_IANA[ms_id])
        rule, std_offset, std_name = definition.posix_rule()
        zone = cls.from_file(io.BytesIO(_tzif_from_rule(rule, std_offset, std_name)), key=ms_id or rule)
        zone.__dict__["_server_ms_id"] = ms_id
        zone.__dict__["_server_ms_name"] = getattr(definition, "name", None)
        return zone

    # --- constructors --------------------------------------------------------------------------------------

    @classmethod
    def timezone(cls, location: str) -> "EWSTimeZone":
        """pytz-style constructor: ``EWSTimeZone.timezone('Europe/Copenhagen')``."""
        return cls(location)

    @classmethod
    def localzone(cls) -> "EWSTimeZone":
        """The local time zone of this machine (via tzlocal, honouring the TZ environment variable)."""
        # tzlocal costs ~15 ms to import and is only needed here, so it is imported on first use.
        import tzlocal

        try:
            name = tzlocal.get_localzone_name()
        except Exception as e:  # tzlocal raises various errors on odd system configurations
            raise UnknownTimeZone(f"Could not determine the local time zone ({e}); set the TZ environment "
                                  f"variable to an IANA name, e.g. TZ=Europe/Copenhagen") from e
        if not name:
            raise UnknownTimeZone("Could not determine the local time zone; set the TZ environment variable to "
                                  "an IANA name, e.g. TZ=Europe/Copenhagen")
        return cls(name)

    @classmethod
    def from_ms_id(cls, ms_id: str, *, fallback: bool = True) -> "EWSTimeZone":
        """Return the zone for a Windows time zone id such as 'W. Europe Standard Time'.

        Servers do not always send a proper id. With ``fallback=True`` (the default) this never raises for a
        string: it also accepts ids in another case or spacing, display names ('(UTC+01:00) Amsterdam, Berlin,
        ...'), IANA names, and otherwise uses the UTC offset in the name (a fixed-offset 'Etc/GMT-1' style zone)
        or finally UTC. The last two lose daylight saving rules, so they log a warning naming the value.
        With ``fallback=False`` only exact Windows ids are accepted; anything else raises UnknownTimeZone.
        """
        if not isinstance(ms_id, str):
            raise TypeError(f"from_ms_id() expects a Windows time zone id (str), got {type(ms_id).__name__}")
        iana = MS_TO_IANA.get(ms_id)
        if iana is not None:
            if iana == "Etc/UTC":
                return UTC
            if IANA_TO_MS.get(iana, ms_id) != ms_id:
                return cls._with_ms_id(iana, ms_id)
            return cls(iana)
        if not fallback:
            raise UnknownTimeZone(f"Unknown Windows time zone id {ms_id!r}")
        try:
            return _FALLBACK_CACHE[ms_id]
        except KeyError:
            pass
        tz = cls._guess_from_ms_name(ms_id)
        with _FALLBACK_LOCK:
            if len(_FALLBACK_CACHE) > 1000:  # bound memory if a server sends many distinct custom names
                _FALLBACK_CACHE.clear()
            _FALLBACK_CACHE[ms_id] = tz
        return tz

    @classmethod
    def _with_ms_id(cls, iana: str, ms_id: str) -> "EWSTimeZone":
        """The IANA zone, as a separate instance that reports ``ms_id`` as its Windows id (one per id)."""
        with _FALLBACK_LOCK:
            tz = _OWN_ID_ZONES.get(ms_id)
            if tz is None:
                tz = cls.no_cache(iana)
                tz.__dict__["_ms_id"] = ms_id
                _OWN_ID_ZONES[ms_id] = tz
        return tz

    @classmethod
    def _guess_from_ms_name(cls, name: str) -> "EWSTimeZone":
        stripped = name.strip()
        for prefix in _MS_ID_PREFIXES:
            if stripped.startswith(prefix):
                stripped = stripped[len(prefix):]
        norm = _norm(stripped)
        ms_id = _MS_ID_BY_NORM.get(norm) or _MS_ID_BY_DISPLAY_NAME.get(norm) \
            or _MS_ID_BY_DISPLAY_NAME.get(_norm(_DISPLAY_PREFIX_RE.sub("", stripped)))
        if ms_id is not None:
            log.debug("Mapped Windows time zone name %r to %r", name, ms_id)
            return cls.from_ms_id(ms_id)
        if stripped in IANA_TO_MS:
            log.debug("Windows time zone name %r is an IANA name", name)
            return cls(stripped)
        offset = _offset_from_name(stripped)
        if offset is not None:
            ms_id = _best_display_name_match(offset, stripped)
            if ms_id is not None:
                # E.g. a localized display name: '(UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien'
                log.info("Mapped Windows time zone name %r to %r by its offset and place names", name, ms_id)
                return cls(MS_TO_IANA[ms_id])
            tz = cls._for_offset(offset)
            if tz is not None:
                log.warning("Unknown Windows time zone %r; using %r from the UTC offset in its name "
                            "(daylight saving time rules may differ)", name, tz.key)
                return tz
        log.warning("Unknown Windows time zone %r; treating it as UTC", name)
        return UTC

    @classmethod
    def _fixed_offset_zone(cls, offset: datetime.timedelta) -> Optional["EWSTimeZone"]:
        """UTC or the Etc/GMT-N zone with exactly this offset, if there is one."""
        if offset == _ZERO:
            return UTC
        seconds = int(offset.total_seconds())
        if seconds % 3600 == 0 and -12 <= seconds // 3600 <= 14:
            # Note the POSIX sign convention of the Etc zones: Etc/GMT-1 is UTC+01:00.
            hours = seconds // 3600
            return cls(f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}")
        return None

    @classmethod
    def _for_offset(cls, offset: datetime.timedelta) -> Optional["EWSTimeZone"]:
        """A zone with this offset: UTC or Etc/GMT-N for whole hours, else the first Windows zone with it."""
        fixed = cls._fixed_offset_zone(offset)
        if fixed is not None:
            return fixed
        prefix = f"(UTC{_fmt_offset(offset)})"
        for ms_id, display in MS_DISPLAY_NAMES.items():
            if display.startswith(prefix):
                return cls(MS_TO_IANA[ms_id])
        return None

    @classmethod
    def from_pytz(cls, tz: datetime.tzinfo) -> "EWSTimeZone":
        """A pytz zone as an EWSTimeZone (same as :meth:`from_timezone`, kept for exchangelib 5.x code)."""
        return cls.from_timezone(tz)

    @classmethod
    def from_dateutil(cls, tz: datetime.tzinfo) -> "EWSTimeZone":
        """A dateutil zone as an EWSTimeZone (same as :meth:`from_timezone`, kept for exchangelib 5.x code)."""
        return cls.from_timezone(tz)

    @classmethod
    def from_zoneinfo(cls, tz: datetime.tzinfo) -> "EWSTimeZone":
        """A :class:`zoneinfo.ZoneInfo` as an EWSTimeZone (same as :meth:`from_timezone`)."""
        return cls.from_timezone(tz)

    @classmethod
    def from_datetime(cls, tz: datetime.tzinfo) -> "EWSTimeZone":
        """A :class:`datetime.timezone` (e.g. ``datetime.timezone.utc``) as an EWSTimeZone (see :meth:`from_timezone`)."""
        return cls.from_timezone(tz)

    @classmethod
    def from_timezone(cls, tz: Union[datetime.tzinfo, str]) -> "EWSTimeZone":
        """Convert another time zone object to an EWSTimeZone.

        Accepts EWSTimeZone, :class:`zoneinfo.ZoneInfo`, pytz zones (anything with a ``zone`` name), dateutil's
        ``tz.UTC``/``tz.gettz(name)``/``tz.tzlocal()``, ``datetime.timezone.utc`` and whole-hour
        ``datetime.timezone`` offsets, or an IANA name. Raises UnknownTimeZone for anything else.
        """
        if isinstance(tz, EWSTimeZone):
            return tz
        if isinstance(tz, str):
            return cls(tz)
        if not isinstance(tz, datetime.tzinfo):
            raise TypeError(f"from_timezone() expects a tzinfo instance, got {type(tz).__name__}")
        key = getattr(tz, "key", None)  # zoneinfo and its backport
        if isinstance(key, str):
            return cls(key)
        zone = getattr(tz, "zone", None)  # pytz
        if isinstance(zone, str):
            return cls(zone)
        if isinstance(tz, datetime.timezone):
            fixed = cls._fixed_offset_zone(tz.utcoffset(None))
            if fixed is not None:
                return fixed
            raise UnknownTimeZone(f"No IANA time zone has the fixed offset of {tz!r}; use a named zone")
        type_name = type(tz).__name__
        if type_name == "tzutc":  # dateutil.tz.UTC
            return UTC
        if type_name == "tzlocal":  # dateutil.tz.tzlocal()
            return cls.localzone()
        filename = getattr(tz, "_filename", None)  # dateutil.tz.gettz(name) -> tzfile
        if isinstance(filename, str):
            for candidate in (filename, filename.split("zoneinfo/", 1)[-1]):
                if candidate and not candidate.startswith("/"):
                    try:
                        return cls(candidate)
                    except UnknownTimeZone:
                        pass
        raise UnknownTimeZone(f"Cannot convert time zone {tz!r} ({type_name}) to an EWSTimeZone; pass an IANA "
                              f"name or a zoneinfo.ZoneInfo")

    # --- pytz-style helpers --------------------------------------------------------------------------------

    def localize(self, dt: datetime.datetime, is_dst: Optional[bool] = False) -> "EWSDateTime":
        """Attach this zone to a naive datetime, like pytz's ``localize()``.

        For a wall time that occurs twice (clocks going back), ``is_dst`` picks the daylight saving (True) or
        the standard time (False) instance. For a wall time that does not exist (clocks going forward),
        ``is_dst=False`` reads it with the offset before the jump and ``is_dst=True`` with the one after, and
        the result is returned as the real wall time (02:30 -> 03:30 resp. 01:30 on a one-hour jump).
        ``is_dst=None`` raises AmbiguousTimeError / NonExistentTimeError in those two cases.
        """
        if not isinstance(dt, datetime.datetime):
            raise TypeError(f"localize() expects a datetime.datetime, got {type(dt).__name__}")
        if dt.tzinfo is not None:
            raise ValueError(f"localize() expects a naive datetime, but tzinfo is already set: {dt!r}")
        first = EWSDateTime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tzinfo=self)
        second = first.replace(fold=1)
        off_first, off_second = first.utcoffset(), second.utcoffset()
        if off_first == off_second:
            return first
        # zoneinfo: fold=0 uses the offset from before the transition, fold=1 the one after.
        assert off_first is not None and off_second is not None  # an aware datetime in this zone
        ambiguous = off_first > off_second
        if is_dst is None:
            if ambiguous:
                raise AmbiguousTimeError(f"{dt} is ambiguous in time zone {self.key!r} (it occurs twice)")
            raise NonExistentTimeError(f"{dt} does not exist in time zone {self.key!r} (clocks skip it)")
        dst_first, dst_second = bool(first.dst()), bool(second.dst())
        if dst_first != dst_second:
            chosen = first if dst_first == bool(is_dst) else second
        else:  # an offset change that isn't a DST switch; treat is_dst=True as "the earlier reading"
            chosen = first if is_dst else second
        return chosen if ambiguous else self.normalize(chosen)

    def normalize(self, dt: datetime.datetime) -> "EWSDateTime":
        """Return ``dt`` as a real wall time in this zone (pytz-style). ``dt`` must be timezone-aware."""
        if not isinstance(dt, datetime.datetime):
            raise TypeError(f"normalize() expects a datetime.datetime, got {type(dt).__name__}")
        offset = dt.utcoffset()
        if offset is None:
            raise NaiveDateTimeNotAllowed(f"normalize() needs a timezone-aware datetime, got {dt!r}", local_dt=dt)
        utc_wall = EWSDateTime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond) - offset
        return EWSDateTime.from_datetime(self.fromutc(utc_wall.replace(tzinfo=self)))


def _tzif_from_rule(rule: str, std_offset: int, std_name: str) -> bytes:
    """A minimal TZif version 2 file without transitions whose footer (a POSIX TZ rule) describes every year."""
    chars = std_name.encode("ascii") + b"\0"
    header = b"TZif2" + b"\0" * 15
    block = struct.pack(">6l", 0, 0, 0, 0, 1, len(chars)) + struct.pack(">lbb", std_offset, 0, 0) + chars
    return header + block + header + block + b"\n" + rule.encode("ascii") + b"\n"


def _words(text: str) -> set:
    return set(re.findall(r"\w{3,}", text.casefold()))


def _best_display_name_match(offset: datetime.timedelta, name: str) -> Optional[str]:
    """The Windows id whose display name has this offset and shares the most place names with ``name``."""
    prefixes = (f"(UTC{_fmt_offset(offset)})", "(UTC)") if offset == _ZERO else (f"(UTC{_fmt_offset(offset)})",)
    wanted = _words(_DISPLAY_PREFIX_RE.sub("", name)) - {"utc", "gmt", "time", "standard"}
    best, best_score = None, 0
    for ms_id, display in MS_DISPLAY_NAMES.items():
        if display.startswith(prefixes):
            score = len(wanted & _words(_DISPLAY_PREFIX_RE.sub("", display)))
            if score > best_score:
                best, best_score = ms_id, score
    return best


def _offset_from_name(name: str) -> Optional[datetime.timedelta]:
    match = _OFFSET_IN_NAME_RE.search(name)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if sign is None:
        return _ZERO
    delta = datetime.timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta > datetime.timedelta(hours=14):
        return None
    return -delta if sign == "-" else delta


def _coerce_tzinfo(tz: Optional[datetime.tzinfo]) -> Optional[datetime.tzinfo]:
    """Turn a convertible tzinfo into an EWSTimeZone; leave other tzinfo objects (and None) alone."""
    if tz is None or isinstance(tz, EWSTimeZone):
        return tz
    try:
        return EWSTimeZone.from_timezone(tz)
    except (UnknownTimeZone, TypeError):
        return tz


class EWSDateTime(datetime.datetime):
    """A :class:`datetime.datetime` that reads and writes the EWS format and keeps its type in arithmetic.

    A ``tzinfo`` given to the constructor (or to ``now()``, ``replace()``, ``astimezone()``...) is converted to
    an :class:`EWSTimeZone` when possible. Create aware values with ``tz.localize(EWSDateTime(...))`` or
    ``EWSDateTime(..., tzinfo=tz)``; EWS rejects naive ones.

    EWS reference: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/start
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> "EWSDateTime":
        # (bytes, tzinfo) is the pickle form; leave it untouched.
        if len(args) >= 8 and not isinstance(args[0], (bytes, str)):
            args = args[:7] + (_coerce_tzinfo(args[7]),) + args[8:]
        elif "tzinfo" in kwargs:
            kwargs["tzinfo"] = _coerce_tzinfo(kwargs["tzinfo"])
        return super().__new__(cls, *args, **kwargs)

    @classmethod
    def now(cls, tz: Optional[datetime.tzinfo] = None) -> "EWSDateTime":
        """The current time; aware in ``tz`` if given (prefer ``EWSDateTime.now(UTC)`` or ``UTC_NOW()``)."""
        return super().now(tz=_coerce_tzinfo(tz))

    @classmethod
    def fromtimestamp(cls, t: float, tz: Optional[datetime.tzinfo] = None) -> "EWSDateTime":
        return super().fromtimestamp(t, tz=_coerce_tzinfo(tz))

    @classmethod
    def from_datetime(cls, d: datetime.datetime) -> "EWSDateTime":
        """Convert a plain :class:`datetime.datetime` (aware or naive) to an EWSDateTime."""
        if not isinstance(d, datetime.datetime):
            raise TypeError(f"from_datetime() expects a datetime.datetime, got {type(d).__name__}")
        if type(d) is cls:
            return d
        return cls(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond, tzinfo=d.tzinfo, fold=d.fold)

    def to_datetime(self) -> datetime.datetime:
        """This value as a plain :class:`datetime.datetime` (with a plain ZoneInfo if it has an EWSTimeZone)."""
        tz = self.tzinfo
        if isinstance(tz, EWSTimeZone) and tz.key is not None:
            tz = zoneinfo.ZoneInfo(tz.key)
        return datetime.datetime(self.year, self.month, self.day, self.hour, self.minute, self.second,
                                 self.microsecond, tzinfo=tz, fold=self.fold)

    @classmethod
    def from_string(cls, date_string: str, tz: Optional[datetime.tzinfo] = None) -> "EWSDateTime":
        """Parse an EWS date-time ('2016-01-01T10:00:00Z', '...+01:00', fractional seconds allowed).

        Values with an offset are returned in UTC. A value without an offset raises NaiveDateTimeNotAllowed
        unless ``tz`` is given, in which case it is read as wall time in ``tz``.
        """
        if not isinstance(date_string, str):
            raise TypeError(f"from_string() expects a str, got {type(date_string).__name__}")
        match = _DATETIME_RE.fullmatch(date_string)
        if match is None:
            raise ValueError(f"{date_string!r} is not an EWS date-time (expected e.g. '2016-01-01T10:00:00Z')")
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        microsecond = int((fraction or "")[:6].ljust(6, "0"))
        day_carry = False
        if hour == "24":  # xs:dateTime allows 24:00:00 for the end of a day
            if minute != "00" or second != "00" or microsecond:
                raise ValueError(f"{date_string!r} is not a valid date-time")
            hour, day_carry = "0", True
        args = (int(year), int(month), int(day), int(hour), int(minute), int(second), microsecond)
        if zone is None:
            if tz is None:
                raise NaiveDateTimeNotAllowed(
                    f"{date_string!r} has no UTC offset; pass tz= to say which time zone it is in",
                    local_dt=datetime.datetime(*args))
            tz = EWSTimeZone.from_timezone(tz)
            naive = datetime.datetime(*args)
            if day_carry:
                naive += datetime.timedelta(days=1)
            return tz.localize(naive)
        value = cls(*args, tzinfo=UTC)
        if day_carry:
            value += datetime.timedelta(days=1)
        if zone not in ("Z", "z"):
            sign, hh, mm = zone[0], int(zone[1:3]), int(zone[4:6])
            if hh > 14 or mm > 59:
                raise ValueError(f"{date_string!r} has an invalid UTC offset")
            offset = datetime.timedelta(hours=hh, minutes=mm)
            value = value - offset if sign == "+" else value + offset
        return value

    def ewsformat(self) -> str:
        """Format for EWS: '2017-09-05T06:30:00Z' in UTC, else with the offset ('2017-09-05T08:30:00+02:00').

        Microseconds are included only when non-zero. Naive values raise NaiveDateTimeNotAllowed.
        """
        offset = self.utcoffset()
        if offset is None:
            raise NaiveDateTimeNotAllowed(
                f"{self!r} is naive; EWS needs a timezone-aware value (use tz.localize(dt) or tzinfo=UTC)",
                local_dt=self)
        value = self
        if offset and offset.seconds % 60:
            # Historic local mean time offsets have seconds, which xs:dateTime cannot express; use UTC.
            value = self - offset
            offset = _ZERO
        text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
                f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
        if value.microsecond:
            text += f".{value.microsecond:06d}"
        return text + ("Z" if not offset else _fmt_offset(offset))

    def replace(self, *args: Any, **kwargs: Any) -> "EWSDateTime":
        """Like :meth:`datetime.datetime.replace`; a new ``tzinfo`` is converted to an EWSTimeZone if possible."""
        if len(args) >= 8:
            args = args[:7] + (_coerce_tzinfo(args[7]),) + args[8:]
        elif "tzinfo" in kwargs:
            kwargs["tzinfo"] = _coerce_tzinfo(kwargs["tzinfo"])
        return super().replace(*args, **kwargs)

    def astimezone(self, tz: Optional[datetime.tzinfo] = None) -> "EWSDateTime":
        """Convert to another zone; with no argument, to the local zone as an EWSTimeZone."""
        if tz is None:
            tz = EWSTimeZone.localzone()
        return super().astimezone(_coerce_tzinfo(tz))

    def date(self) -> "EWSDate":
        return EWSDate(self.year, self.month, self.day)


class EWSDate(datetime.date):
    """A :class:`datetime.date` that reads and writes the EWS format and keeps its type in arithmetic.

    EWS reference: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/startdate
    """

    __slots__ = ()

    @classmethod
    def from_date(cls, d: datetime.date) -> "EWSDate":
        """Convert a plain :class:`datetime.date` to an EWSDate."""
        if isinstance(d, datetime.datetime):
            raise TypeError("from_date() expects a datetime.date, got a datetime; use dt.date() to drop the time")
        if not isinstance(d, datetime.date):
            raise TypeError(f"from_date() expects a datetime.date, got {type(d).__name__}")
        if type(d) is cls:
            return d
        return cls(d.year, d.month, d.day)

    def to_date(self) -> datetime.date:
        """This value as a plain :class:`datetime.date`."""
        return datetime.date(self.year, self.month, self.day)

    @classmethod
    def from_string(cls, date_string: str) -> "EWSDate":
        """Parse an EWS date: '2017-09-05', also with the zone suffix EWS sometimes adds ('2017-09-05Z',
        '2017-09-05+01:00'), which is ignored."""
        if not isinstance(date_string, str):
            raise TypeError(f"from_string() expects a str, got {type(date_string).__name__}")
        match = _DATE_RE.fullmatch(date_string)
        if match is None:
            raise ValueError(f"{date_string!r} is not an EWS date (expected e.g. '2017-09-05')")
        year, month, day = match.groups()
        return cls(int(year), int(month), int(day))

    def ewsformat(self) -> str:
        """Format for EWS: 'YYYY-MM-DD'."""
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


_DATETIME_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)?", re.ASCII)
_DATE_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:Z|z|[+-]\d\d:\d\d)?", re.ASCII)

UTC = EWSTimeZone("UTC")


def UTC_NOW() -> EWSDateTime:  # noqa: N802 - public name kept from the seed API
    """The current time as a timezone-aware EWSDateTime in UTC."""
    return EWSDateTime.now(tz=UTC)
