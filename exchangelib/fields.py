"""Typed fields: the declarative building blocks of every EWS model class.

A field is one line on a model class::

    class Item(EWSElement):
        subject = CharField(field_uri="item:Subject", max_length=255)

and knows four things about its attribute:

* how to check and convert a Python value (:meth:`Field.clean`), which runs on every assignment;
* how to write the value as XML (:meth:`Field.to_xml`) and read it back (:meth:`Field.from_xml`);
* how to name it in a request (:meth:`Field.field_path_xml`, the ``<t:FieldURI FieldURI=".."/>``
  element used in ``AdditionalProperties``, ``SetItemField``, sorting and restrictions);
* which Exchange versions know it (``supported_from`` / ``deprecated_from``).

Fields are data descriptors. Values live in the instance ``__dict__`` under the field name, so reading
an attribute is a dict lookup, and parsing (``EWSElement.from_xml``) can fill that dict directly without
re-validating what the server sent.

This module holds the generic field types only. Fields bound to a particular value class (mailboxes,
attendees, bodies) live next to that class in :mod:`exchangelib.properties`.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import logging
import re
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from lxml import etree

from .ewsdatetime import UTC, EWSDate, EWSDateTime, EWSTimeZone, NaiveDateTimeNotAllowed, UnknownTimeZone
from .lazy import LazyModule
from .packed import MISSING, PackedFields
from .version import Build, Version
from .xml import MNS, TNS

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import uuid
else:
    uuid = LazyModule("uuid")

log = logging.getLogger(__name__)

# Weekdays, months and week numbers of recurrence patterns (``from exchangelib.fields import MONDAY``).
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(1, 8)
DAY, WEEK_DAY, WEEKEND_DAY = 8, 9, 10
WEEKDAY_NAMES = {MONDAY: "Monday", TUESDAY: "Tuesday", WEDNESDAY: "Wednesday", THURSDAY: "Thursday",
                 FRIDAY: "Friday", SATURDAY: "Saturday", SUNDAY: "Sunday", DAY: "Day", WEEK_DAY: "Weekday",
                 WEEKEND_DAY: "WeekendDay"}
WEEKDAYS = tuple(range(MONDAY, SUNDAY + 1))
(JANUARY, FEBRUARY, MARCH, APRIL, MAY, JUNE, JULY, AUGUST, SEPTEMBER, OCTOBER, NOVEMBER,
 DECEMBER) = range(1, 13)
MONTH_NAMES = {i + 1: n for i, n in enumerate((
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December"))}
FIRST, SECOND, THIRD, FOURTH, LAST = range(1, 6)
WEEK_NUMBER_NAMES = {FIRST: "First", SECOND: "Second", THIRD: "Third", FOURTH: "Fourth", LAST: "Last"}
MONTHS = tuple(range(JANUARY, DECEMBER + 1))
WEEK_NUMBERS = tuple(range(FIRST, LAST + 1))
EXTRA_WEEKDAY_OPTIONS = (DAY, WEEK_DAY, WEEKEND_DAY)

Element = etree._Element

#: Prefix of the slot that holds a field's value in classes with compact storage (EWSElement.COMPACT).
SLOT_PREFIX = "_f_"

#: (field class, base class, method names) -> whether the field class replaced one of the base's methods
_OVERRIDES: Dict[Tuple[type, type, Tuple[str, ...]], bool] = {}

# How EWSElement.from_xml reads a field's child element without calling the field (see Field.parse_plan).
#: Call the plan's function: ``fn(child, account)`` (the general case).
PARSE_CALL = 0
#: The element's text, "" when empty.
PARSE_TEXT = 1
#: The element's text, interned (see CharField's ``shared``).
PARSE_SHARED = 2
#: ``xs:boolean`` text ("true"/"false"; anything else goes through the field's ``from_text``).
PARSE_BOOL = 3
#: ``xs:int`` text (anything ``int()`` refuses goes through the field's ``from_text``).
PARSE_INT = 4
#: ``xs:dateTime`` text (through the shared timestamp cache, else the field's ``from_text``).
PARSE_DATETIME = 5
#: The element is the value's own element, of a class with compact storage.
PARSE_COMPACT = 6
#: The value's element sits inside the field's element; the plan's argument maps tags to classes.
PARSE_WRAPPED = 7
#: A wrapper element holding a list of values; the plan's argument maps tags to classes.
PARSE_LIST = 8

#: Characters that XML 1.0 cannot carry, not even escaped. lxml would refuse them at serialisation
#: time with an unhelpful message; we refuse them at assignment time and name the field.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_FIELD_URI_TAG = f"{{{TNS}}}FieldURI"
_INDEXED_FIELD_URI_TAG = f"{{{TNS}}}IndexedFieldURI"


def _type_name(value: Any) -> str:
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _version_build(version: Union[Version, Build, None]) -> Optional[Build]:
    if version is None:
        return None
    if isinstance(version, Version):
        return version.build
    if isinstance(version, Build):
        return version
    raise TypeError(f"version must be a Version or Build instance, got {_type_name(version)}")


class Field:
    """Base class of all fields.

    :param field_uri: the ``FieldURI`` value naming this field in requests (``'item:Subject'``), from
        ``UnindexedFieldURIType`` in types.xsd. ``None`` for elements that have no field URI; such a
        field can be read but not requested, sorted or filtered on by itself.
    :param xml_name: the element (or attribute) local name. Defaults to the part of ``field_uri``
        after the colon.
    :param namespace: namespace of the element. Attributes are always unqualified.
    :param is_required: :meth:`EWSElement.clean` refuses an object without a value for this field.
    :param is_read_only: set by the server only; users can't pass it to a constructor or assign it.
    :param is_read_only_after_send: writable on a draft, frozen once the item is sent.
    :param is_searchable: can be used in a restriction (``filter()``).
    :param is_attribute: serialised as an XML attribute of the parent element.
    :param default: value returned when the field is unset. Never serialised.
    :param supported_from: first Exchange build that knows the element.
    :param deprecated_from: first Exchange build that no longer knows the element.
    """

    #: Type of the Python value (or of each list element for list fields).
    value_cls: Any = object
    #: The value is a list.
    is_list: bool = False
    #: The field is the text content of its parent element (e.g. the phone number in
    #: ``<t:Entry Key="CarPhone">555 1234</t:Entry>``).
    is_text: bool = False
    #: List field whose items are repeated directly in the parent, without a wrapper element.
    is_repeated: bool = False
    #: Field paths of this kind are ``IndexedFieldURI`` (contact dictionaries).
    is_indexed: bool = False
    #: Whether a value of this field type can be written as one ``Constant`` in a restriction.
    is_complex: bool = False
    #: Extended (MAPI) property: several fields share the ``ExtendedProperty`` element name and are told
    #: apart by their ``ExtendedFieldURI`` (see :meth:`group_parser`).
    is_extended: bool = False

    def __init__(self, field_uri: Optional[str] = None, *, xml_name: Optional[str] = None,
                 namespace: str = TNS, is_required: bool = False, is_read_only: bool = False,
                 is_read_only_after_send: bool = False, is_searchable: bool = True,
                 is_attribute: bool = False, is_text: Optional[bool] = None, default: Any = None,
                 choices: Optional[Iterable[str]] = None, supported_from: Optional[Build] = None,
                 deprecated_from: Optional[Build] = None, name: Optional[str] = None):
        if field_uri is not None and (not isinstance(field_uri, str) or ":" not in field_uri):
            raise ValueError(f"field_uri must look like 'item:Subject', got {field_uri!r}")
        if xml_name is None:
            if field_uri is None:
                raise ValueError("A field needs a field_uri or an xml_name")
            xml_name = field_uri.split(":")[-1]
        for pname, b in (("supported_from", supported_from), ("deprecated_from", deprecated_from)):
            if b is not None and not isinstance(b, Build):
                raise TypeError(f"{pname} must be a Build, got {b!r}")
        self.field_uri = field_uri
        self.xml_name = xml_name
        self.namespace = namespace
        self.is_required = is_required
        self.is_read_only = is_read_only
        self.is_read_only_after_send = is_read_only_after_send
        self.is_searchable = is_searchable
        self.is_attribute = is_attribute
        if is_text is not None:
            self.is_text = is_text
        self.default = default
        self.choices = frozenset(choices) if choices is not None else None
        self.supported_from = supported_from
        self.deprecated_from = deprecated_from
        self.name: str = name or ""
        self.owner: Optional[type] = None
        self.tag = xml_name if (is_attribute or self.is_text) else f"{{{namespace}}}{xml_name}"

    @property
    def tags(self) -> List[str]:
        """The child element tags this field reads (one, except for choice fields)."""
        return [self.tag]

    @classmethod
    def group_parser(cls, fields: List["Field"]) -> Callable[[Element, Any], Any]:
        """For fields sharing one element name: a parse function returning ``(field name, value)`` or None."""
        raise NotImplementedError(f"{cls.__name__} fields can't share an element name")

    # --- descriptor protocol -------------------------------------------------------------------
    def __set_name__(self, owner: type, name: str) -> None:
        if not self.name:
            self.name = name
        if self.owner is None:
            self.owner = owner

    # Values live in the instance dict under the field's name or, for classes with compact storage (see
    # EWSElement.COMPACT), in a slot named by slot_name(name). An unset field has no entry.
    def __get__(self, instance: Any, owner: Optional[type] = None) -> Any:
        if instance is None:
            return self
        if instance._COMPACT:
            return getattr(instance, SLOT_PREFIX + self.name, self.default)
        d = instance.__dict__
        if type(d) is PackedFields:  # a parsed item: most values are in the packed list
            i = d._index.get(self.name)
            if i is not None:
                value = d._values[i]
                return self.default if value is MISSING else value
            return dict.get(d, self.name, self.default)
        try:
            return d[self.name]
        except KeyError:
            return self.default

    def __set__(self, instance: Any, value: Any) -> None:
        where = f"{type(instance).__name__}.{self.name}"
        if self.is_read_only:
            raise AttributeError(f"{where} is read-only: its value is set by the server")
        self._store(instance, value, where)

    def _store(self, instance: Any, value: Any, where: str) -> None:
        if value is not None:
            value = self._clean(value, None, where)
        if instance._COMPACT:
            slot = SLOT_PREFIX + self.name
            if value is not None:
                object.__setattr__(instance, slot, value)
            elif hasattr(instance, slot):
                object.__delattr__(instance, slot)
            return
        if value is None:
            instance.__dict__.pop(self.name, None)
            return
        instance.__dict__[self.name] = value

    def __delete__(self, instance: Any) -> None:
        if instance._COMPACT:
            if hasattr(instance, SLOT_PREFIX + self.name):
                object.__delattr__(instance, SLOT_PREFIX + self.name)
            return
        instance.__dict__.pop(self.name, None)

    # --- validation ----------------------------------------------------------------------------
    @property
    def label(self) -> str:
        owner = self.owner.__name__ if self.owner is not None else "?"
        return f"{owner}.{self.name or self.xml_name}"

    def clean(self, value: Any, version: Union[Version, Build, None] = None) -> Any:
        """Check and convert ``value``. Raises TypeError/ValueError naming the class and field."""
        return self._clean(value, version, self.label)

    def _clean(self, value: Any, version: Union[Version, Build, None], where: str) -> Any:
        if value is None:
            if self.is_required:
                raise ValueError(f"{where} is required")
            return None
        if version is not None and not self.is_supported(version):
            raise ValueError(f"{where} is not supported by Exchange build {_version_build(version)} "
                             f"(supported from {self.supported_from}"
                             + (f", deprecated from {self.deprecated_from})" if self.deprecated_from else ")"))
        if self.is_list:
            if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset, Iterator)):
                raise TypeError(f"{where} expects a list of {self._value_desc()}, got {_type_name(value)} "
                                f"{_short(value)}")
            return [self._clean_one(v, where) for v in value]
        return self._clean_one(value, where)

    def _clean_one(self, value: Any, where: str) -> Any:
        """Check one (non-list) value. Subclasses override; the default accepts ``value_cls``."""
        if not isinstance(value, self.value_cls):
            raise TypeError(f"{where} expects {self._value_desc()}, got {_type_name(value)} {_short(value)}")
        self._check_choices(value, where)
        return value

    def _check_choices(self, value: Any, where: str) -> None:
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{where} must be one of {sorted(self.choices)}, got {value!r}")

    def _value_desc(self) -> str:
        cls = self.value_cls
        if isinstance(cls, tuple):
            return " or ".join(c.__name__ for c in cls)
        return getattr(cls, "__name__", str(cls))

    def is_supported(self, version: Union[Version, Build, None]) -> bool:
        """Whether servers of ``version`` know this field. ``None`` means "any version"."""
        build = _version_build(version)
        if build is None:
            return True
        if self.supported_from is not None and build < self.supported_from:
            return False
        if self.deprecated_from is not None and build >= self.deprecated_from:
            return False
        return True

    # --- text conversion (simple fields) -------------------------------------------------------
    def to_text(self, value: Any) -> str:
        """The value as XML text (element content or attribute value)."""
        return str(value)

    def from_text(self, text: Optional[str]) -> Any:
        """Parse XML text into a value. Lenient: server data is never rejected for being unexpected."""
        return text

    # --- XML -----------------------------------------------------------------------------------
    def to_xml(self, value: Any, version: Union[Version, Build, None] = None) -> Element:
        """This field's own element holding ``value``, e.g. ``<t:Subject>foo</t:Subject>``."""
        if self.is_attribute or self.is_text:
            raise ValueError(f"{self.label} is serialised as an attribute/text of its parent, not as an element")
        elem = etree.Element(self.tag, nsmap=_nsmap_for(self.namespace))
        self._fill(elem, value, version)
        return elem

    def add_to(self, parent: Element, value: Any, version: Union[Version, Build, None] = None) -> None:
        """Append this field's element (or elements, for repeated fields) holding ``value`` to ``parent``."""
        if self.is_attribute:
            parent.set(self.xml_name, self.to_text(value))
        elif self.is_text:
            parent.text = self.to_text(value)
        else:
            self._fill(etree.SubElement(parent, self.tag), value, version)

    def _fill(self, elem: Element, value: Any, version: Union[Version, Build, None]) -> None:
        elem.text = self.to_text(value)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        """Read the value from this field's own element ``elem``."""
        return self.from_text(elem.text)

    def parse_plan(self) -> Tuple[int, Any]:
        """``(kind, argument)``: how :meth:`EWSElement.from_xml` reads this field's element, one of the
        ``PARSE_*`` kinds. The fast kinds inline what :meth:`from_xml` would do (and give the same value);
        they apply only while a subclass doesn't override the methods they stand for. Default: call
        :meth:`from_xml`."""
        return PARSE_CALL, self.from_xml

    def _overrides(self, base: type, *names: str) -> bool:
        """Whether this field's class replaced one of ``base``'s methods ``names`` (so a fast plan of ``base``
        would skip it)."""
        cls = type(self)
        key = (cls, base, names)
        found = _OVERRIDES.get(key)
        if found is None:
            found = _OVERRIDES[key] = any(getattr(cls, n) is not getattr(base, n) for n in names)
        return found

    def field_path_xml(self) -> Element:
        """``<t:FieldURI FieldURI="item:Subject"/>``, naming this field in a request."""
        if self.field_uri is None:
            raise ValueError(f"{self.label} has no FieldURI; it can't be requested, sorted or searched by itself")
        elem = etree.Element(_FIELD_URI_TAG, nsmap={"t": TNS})
        elem.set("FieldURI", self.field_uri)
        return elem

    def to_constant(self, value: Any, version: Union[Version, Build, None] = None) -> str:
        """``value`` as text for a restriction's ``<t:Constant Value=".."/>``.

        For list fields, pass one element (e.g. one category).
        """
        if self.is_list and isinstance(value, (list, tuple)):
            raise TypeError(f"{self.label}: pass one list element to to_constant(), not a list")
        return self.to_text(self._clean_one(value, self.label))

    def __repr__(self) -> str:
        extra = []
        if self.field_uri:
            extra.append(f"field_uri={self.field_uri!r}")
        if self.is_read_only:
            extra.append("read_only")
        if self.supported_from:
            extra.append(f"supported_from={self.supported_from}")
        return f"{type(self).__name__}({self.name!r}{', ' if extra else ''}{', '.join(extra)})"


def _nsmap_for(namespace: str) -> Dict[str, str]:
    if namespace == MNS:
        return {"m": MNS, "t": TNS}
    return {"t": TNS}


# ---------------------------------------------------------------------------------------------------
# Simple value fields
# ---------------------------------------------------------------------------------------------------
_intern = sys.intern


class CharField(Field):
    """A string (``xs:string``). ``max_length`` is checked on assignment.

    ``shared=True`` marks a field with few distinct values (an item class, a culture, a routing type):
    parsed values are interned, so thousands of parsed items share one string object per value instead
    of holding a copy each. Values of a field with ``choices`` are always shared.
    """

    value_cls = str

    def __init__(self, field_uri: Optional[str] = None, *, max_length: Optional[int] = None, min_length: int = 0,
                 regex: Optional[str] = None, shared: bool = False, **kwargs: Any):
        super().__init__(field_uri, **kwargs)
        self.shared = shared or self.choices is not None
        self.regex = re.compile(regex) if regex is not None else None
        if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
            raise ValueError(f"max_length must be a positive int, got {max_length!r}")
        self.max_length = max_length
        self.min_length = min_length

    def _clean_one(self, value: Any, where: str) -> Any:
        if not isinstance(value, str):
            raise TypeError(f"{where} expects a str, got {_type_name(value)} {_short(value)}")
        m = _INVALID_XML_CHARS.search(value)
        if m:
            raise ValueError(f"{where} contains the character {m.group()!r} at position {m.start()}, "
                             f"which XML cannot carry")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"{where} is limited to {self.max_length} characters, got {len(value)}")
        if self.regex is not None and not self.regex.fullmatch(value):
            raise ValueError(f"{where} must match {self.regex.pattern!r}, got {value!r}")
        if len(value) < self.min_length:
            raise ValueError(f"{where} must not be empty" if self.min_length == 1 else
                             f"{where} needs at least {self.min_length} characters, got {len(value)}")
        self._check_choices(value, where)
        return value

    def to_text(self, value: Any) -> str:
        return value

    def from_text(self, text: Optional[str]) -> Any:
        if text is None:
            return ""
        return _intern(text) if self.shared else text

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        text = elem.text
        if text is None:
            return ""
        return _intern(text) if self.shared else text

    def parse_plan(self) -> Tuple[int, Any]:
        if self._overrides(CharField, "from_xml"):
            return super().parse_plan()
        return (PARSE_SHARED if self.shared else PARSE_TEXT), None


class TextField(CharField):
    """A string without a length limit (notes, long descriptions)."""


class GuidField(CharField):
    """A GUID (``GuidType``) as a string, e.g. ``'3f2504e0-4f89-11d3-9a0c-0305e82c3301'``.

    ``uuid.UUID`` values are accepted and converted.
    """

    _PATTERN = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")

    def __init__(self, field_uri: Optional[str] = None, **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        super().__init__(field_uri, **kwargs)

    def _clean_one(self, value: Any, where: str) -> Any:
        if isinstance(value, uuid.UUID):
            value = str(value)
        value = super()._clean_one(value, where)
        if not self._PATTERN.match(value):
            raise ValueError(f"{where} expects a GUID like '3f2504e0-4f89-11d3-9a0c-0305e82c3301', got {value!r}")
        return value


class URIField(CharField):
    """A URI (``xs:anyURI``), e.g. a web page address. Malformed ``%`` escapes are refused."""

    _BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")

    def _clean_one(self, value: Any, where: str) -> Any:
        value = super()._clean_one(value, where)
        if self._BAD_ESCAPE.search(value):
            raise ValueError(f"{where}: {value!r} is not a valid URI ('%' must start a %XX escape)")
        return value


class IdField(CharField):
    """An identifier attribute (``Id="..."``, ``ChangeKey="..."``)."""

    def __init__(self, xml_name: str, **kwargs: Any):
        kwargs.setdefault("is_attribute", True)
        kwargs.setdefault("is_searchable", False)
        super().__init__(None, xml_name=xml_name, **kwargs)


class ChoiceField(CharField):
    """A string restricted to ``choices`` (an XSD enumeration).

    Assignment checks the value; parsing accepts anything, so a value a newer server introduces
    doesn't break reading.
    """

    def __init__(self, field_uri: Optional[str] = None, *, choices: Iterable[str], **kwargs: Any):
        super().__init__(field_uri, choices=choices, **kwargs)


class TextContentField(CharField):
    """The text content of the parent element (``<t:Entry Key="CarPhone">555 1234</t:Entry>``)."""

    is_text = True

    def __init__(self, xml_name: str = "#text", **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        super().__init__(None, xml_name=xml_name, **kwargs)


class BooleanField(Field):
    """``xs:boolean``. Only real ``bool`` values are accepted."""

    value_cls = bool

    def to_text(self, value: Any) -> str:
        return "true" if value else "false"

    def from_text(self, text: Optional[str]) -> Any:
        if text == "true":
            return True
        if text == "false":
            return False
        if text is None:
            return None
        t = text.strip()
        if t in ("true", "1"):
            return True
        if t in ("false", "0"):
            return False
        log.warning("Unexpected boolean value %r for %s; treating as unset", text, self.label)
        return None

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        return self.from_text(elem.text)

    def parse_plan(self) -> Tuple[int, Any]:
        if self._overrides(BooleanField, "from_xml", "from_text"):
            return super().parse_plan()
        return PARSE_BOOL, self


class IntegerField(Field):
    """An integer (``xs:int``/``xs:long``) with optional inclusive ``min``/``max``."""

    value_cls = int

    def __init__(self, field_uri: Optional[str] = None, *, min: Optional[int] = None,
                 max: Optional[int] = None, **kwargs: Any):
        super().__init__(field_uri, **kwargs)
        self.min = min
        self.max = max

    def _clean_one(self, value: Any, where: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{where} expects an int, got {_type_name(value)} {_short(value)}")
        if self.min is not None and value < self.min:
            raise ValueError(f"{where} must be >= {self.min}, got {value}")
        if self.max is not None and value > self.max:
            raise ValueError(f"{where} must be <= {self.max}, got {value}")
        return int(value)

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: Optional[str]) -> Any:
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            log.warning("Unexpected integer value %r for %s; treating as unset", text, self.label)
            return None

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        return self.from_text(elem.text)

    def parse_plan(self) -> Tuple[int, Any]:
        if self._overrides(IntegerField, "from_xml", "from_text"):
            return super().parse_plan()
        return PARSE_INT, self


class DecimalField(Field):
    """A decimal number (``xs:double``/``xs:decimal``) held as :class:`decimal.Decimal`.

    ``int`` and ``float`` values are accepted and converted.
    """

    value_cls = decimal.Decimal

    def __init__(self, field_uri: Optional[str] = None, *, min: Optional[Any] = None,
                 max: Optional[Any] = None, **kwargs: Any):
        super().__init__(field_uri, **kwargs)
        self.min = None if min is None else decimal.Decimal(str(min))
        self.max = None if max is None else decimal.Decimal(str(max))

    def _clean_one(self, value: Any, where: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
            raise TypeError(f"{where} expects a Decimal, int or float, got {_type_name(value)} {_short(value)}")
        d = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
        if not d.is_finite():
            raise ValueError(f"{where} must be a finite number, got {value!r}")
        if self.min is not None and d < self.min:
            raise ValueError(f"{where} must be >= {self.min}, got {value}")
        if self.max is not None and d > self.max:
            raise ValueError(f"{where} must be <= {self.max}, got {value}")
        return d

    def to_text(self, value: Any) -> str:
        return format(value, "f")

    def from_text(self, text: Optional[str]) -> Any:
        if text is None:
            return None
        try:
            return decimal.Decimal(text.strip())
        except decimal.InvalidOperation:
            log.warning("Unexpected decimal value %r for %s; treating as unset", text, self.label)
            return None


class DateTimeField(Field):
    """A point in time (``xs:dateTime``) held as an aware :class:`EWSDateTime`.

    Naive datetimes are refused: EWS needs to know the time zone. Servers send UTC (``...Z``).
    """

    value_cls = EWSDateTime

    def _clean_one(self, value: Any, where: str) -> Any:
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"{where} expects an aware EWSDateTime, got {_type_name(value)} {_short(value)}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDateTimeNotAllowed(f"{where} got the naive datetime {value!r}; EWS needs a time zone. "
                               f"Use tz.localize(dt) or pass tzinfo")
        if not isinstance(value, EWSDateTime):
            value = EWSDateTime.from_datetime(value)
        return value

    def to_text(self, value: Any) -> str:
        return value.ewsformat()

    def from_text(self, text: Optional[str], account: Any = None) -> Any:
        if not text:
            return None
        try:
            return _parse_datetime(text)
        except NaiveDateTimeNotAllowed:
            # Some server values carry no offset (e.g. attachment LastModifiedTime). They are wall
            # time in the request's time zone: the account's default zone, else UTC.
            tz = getattr(account, "default_timezone", None) or UTC
            log.debug("%s: %r has no UTC offset; reading it as %s", self.label, text, tz)
            return EWSDateTime.from_string(text, tz=tz)
        except ValueError:
            log.warning("Unexpected date-time value %r for %s; treating as unset", text, self.label)
            return None

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        return self.from_text(elem.text, account)

    def parse_plan(self) -> Tuple[int, Any]:
        if self._overrides(DateTimeField, "from_xml", "from_text"):
            return super().parse_plan()
        return PARSE_DATETIME, self

    def to_constant(self, value: Any, version: Union[Version, Build, None] = None) -> str:
        value = self._clean_one(value, self.label)
        return value.astimezone(UTC).ewsformat()


_UTC_Z_LEN = len("2016-01-01T10:00:00Z")
_new_datetime = datetime.datetime.__new__


#: Recently parsed server timestamps (text -> value). Datetimes are immutable, so items share them: an item's
#: received/created/modified times are often the same second, and so are those of mail that arrived together.
_DATETIMES: Dict[str, EWSDateTime] = {}
_DATETIMES_MAX = 4096


def _parse_datetime(text: str) -> EWSDateTime:
    """Parse an xs:dateTime. The common server form '2016-01-01T10:00:00Z' takes a fast path."""
    dt = _DATETIMES.get(text)
    if dt is not None:
        return dt
    dt = None
    if len(text) == _UTC_Z_LEN and text[19] == "Z" and text[10] == "T":
        try:
            # datetime.__new__ directly: UTC is already an EWSTimeZone, nothing to convert.
            dt = _new_datetime(EWSDateTime, int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]),
                               int(text[14:16]), int(text[17:19]), 0, UTC)
        except ValueError:
            pass
    if dt is None:
        dt = EWSDateTime.from_string(text)
    if len(_DATETIMES) >= _DATETIMES_MAX:
        _DATETIMES.clear()
    _DATETIMES[text] = dt
    return dt


class DateField(Field):
    """A calendar date (``xs:date``) held as :class:`EWSDate`."""

    value_cls = EWSDate

    def _clean_one(self, value: Any, where: str) -> Any:
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            raise TypeError(f"{where} expects an EWSDate (a date, not a datetime), got {_type_name(value)} "
                            f"{_short(value)}")
        if not isinstance(value, EWSDate):
            value = EWSDate.from_date(value)
        return value

    def to_text(self, value: Any) -> str:
        return value.ewsformat()

    def from_text(self, text: Optional[str]) -> Any:
        if not text:
            return None
        return EWSDate.from_string(text)


class TimeZoneField(Field):
    """A time zone element with an ``Id`` attribute holding the Windows zone name.

    ``<t:StartTimeZone Id="Romance Standard Time"/>`` <-> :class:`EWSTimeZone`. Names we can't map
    (display names, custom zones) never break parsing: :meth:`EWSTimeZone.from_ms_id` falls back
    and logs a warning.
    """

    value_cls = EWSTimeZone
    is_complex = True

    def __init__(self, field_uri: Optional[str] = None, **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        super().__init__(field_uri, **kwargs)

    def _clean_one(self, value: Any, where: str) -> Any:
        if isinstance(value, EWSTimeZone):
            return value
        if isinstance(value, datetime.tzinfo):
            try:
                return EWSTimeZone.from_timezone(value)
            except (TypeError, ValueError) as e:
                raise ValueError(f"{where}: cannot use time zone {value!r}: {e}") from None
        raise TypeError(f"{where} expects an EWSTimeZone, got {_type_name(value)} {_short(value)}")

    def _fill(self, elem: Element, value: Any, version: Union[Version, Build, None]) -> None:
        elem.set("Id", value.ms_id)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        ms_id, name = elem.get("Id"), elem.get("Name")
        if ms_id:
            try:
                return EWSTimeZone.from_ms_id(ms_id, fallback=False)
            except UnknownTimeZone:
                pass
        # An Id we don't know: the display name ('(UTC+12:00) ...') carries the place names and the offset,
        # which the forgiving lookup uses; only then guess from the Id itself.
        if name:
            return EWSTimeZone.from_ms_id(name)
        return EWSTimeZone.from_ms_id(ms_id) if ms_id else None

    def to_text(self, value: Any) -> str:
        return value.ms_id


class Base64Field(Field):
    """Binary data (``xs:base64Binary``) held as ``bytes``."""

    value_cls = bytes

    def __init__(self, field_uri: Optional[str] = None, **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        super().__init__(field_uri, **kwargs)

    def _clean_one(self, value: Any, where: str) -> Any:
        if isinstance(value, (bytearray, memoryview)):
            value = bytes(value)
        if not isinstance(value, bytes):
            raise TypeError(f"{where} expects bytes, got {_type_name(value)} {_short(value)}")
        return value

    def to_text(self, value: Any) -> str:
        return base64.b64encode(value).decode("ascii")

    def from_text(self, text: Optional[str]) -> Any:
        if text is None:
            return b""
        try:
            return base64.b64decode(text)
        except (binascii.Error, ValueError):
            log.warning("Invalid base64 data for %s; treating as unset", self.label)
            return None


class MimeContentField(Base64Field):
    """The item's MIME stream (``<t:MimeContent CharacterSet="UTF-8">base64</t:MimeContent>``) as bytes."""


class CharListField(Field):
    """A list of strings in a wrapper element (``ArrayOfStringsType``, e.g. Categories).

    ``<t:Categories><t:String>foo</t:String><t:String>bar</t:String></t:Categories>``
    """

    value_cls = str
    is_list = True

    def __init__(self, field_uri: Optional[str] = None, *, child_name: str = "String", shared: bool = False,
                 **kwargs: Any):
        super().__init__(field_uri, **kwargs)
        self.child_name = child_name
        self.child_tag = f"{{{self.namespace}}}{child_name}"
        self._item = CharField(xml_name=child_name)
        #: Few distinct values (categories): parsed strings are interned, see CharField's ``shared``.
        self.shared = shared

    def _clean_one(self, value: Any, where: str) -> Any:
        return self._item._clean_one(value, where)

    def _fill(self, elem: Element, value: Any, version: Union[Version, Build, None]) -> None:
        for v in value:
            etree.SubElement(elem, self.child_tag).text = v

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        tag = self.child_tag
        if self.shared:
            values = [_intern(c.text or "") for c in elem if c.tag == tag]
        else:
            values = [c.text or "" for c in elem if c.tag == tag]
        # A list grown by appending keeps room for more; a parsed one is rarely extended: keep the exact size
        return values if len(values) > 16 else list(values)

    def to_text(self, value: Any) -> str:
        return value


class Base64ListField(Field):
    """A list of binary values in a wrapper element (``ArrayOfBinaryType``)."""

    value_cls = bytes
    is_list = True

    def __init__(self, field_uri: Optional[str] = None, *, child_name: str = "Base64Binary", **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        super().__init__(field_uri, **kwargs)
        self.child_tag = f"{{{self.namespace}}}{child_name}"
        self._item = Base64Field(xml_name=child_name)

    def _clean_one(self, value: Any, where: str) -> Any:
        return self._item._clean_one(value, where)

    def _fill(self, elem: Element, value: Any, version: Union[Version, Build, None]) -> None:
        for v in value:
            etree.SubElement(elem, self.child_tag).text = self._item.to_text(v)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        tag = self.child_tag
        return [self._item.from_text(c.text) for c in elem if c.tag == tag]

    def to_text(self, value: Any) -> str:
        return self._item.to_text(value)


# ---------------------------------------------------------------------------------------------------
# Fields holding EWSElement values
# ---------------------------------------------------------------------------------------------------
class EWSElementField(Field):
    """A field whose value is an :class:`~exchangelib.elements.EWSElement`.

    By default the field's element *is* the value's element, renamed to ``xml_name``
    (``<t:ParentFolderId Id=".."/>`` holds a FolderId). With ``wrapped=True`` the value's own
    element sits inside the field's element (``<t:Organizer><t:Mailbox>..</t:Mailbox></t:Organizer>``).
    """

    is_complex = True

    def __init__(self, field_uri: Optional[str] = None, *, value_cls: Any, wrapped: bool = False,
                 **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        super().__init__(field_uri, **kwargs)
        self.value_cls = value_cls
        self.wrapped = wrapped

    def _convert(self, value: Any, where: str) -> Any:
        """Hook for friendly conversions (e.g. str -> Mailbox). Default: none."""
        return value

    def _clean_one(self, value: Any, where: str) -> Any:
        value = self._convert(value, where)
        if not isinstance(value, self.value_cls):
            raise TypeError(f"{where} expects {self._value_desc()}, got {_type_name(value)} {_short(value)}")
        return value

    def _fill(self, elem: Element, value: Any, version: Union[Version, Build, None]) -> None:
        if self.wrapped:
            value.add_to(elem, version)
        else:
            value._fill_xml(elem, version)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        if self.wrapped:
            classes = self.child_classes()
            for child in elem:
                cls = classes.get(child.tag)
                if cls is not None:
                    return cls.from_xml(child, account)
            return None
        return self.value_cls.from_xml(elem, account)

    def parse_plan(self) -> Tuple[int, Any]:
        if self._overrides(EWSElementField, "from_xml"):
            return super().parse_plan()
        if self.wrapped:
            return PARSE_WRAPPED, self.child_classes()
        cls = self.value_cls
        if getattr(cls, "COMPACT", False) and getattr(cls, "_plain_from_xml", False):
            return PARSE_COMPACT, cls
        return PARSE_CALL, cls.from_xml

    def child_classes(self) -> Dict[str, Any]:
        """Element tag -> value class, for the elements inside a wrapper."""
        tag_map = self.__dict__.get("_tag_map")
        if tag_map is None:
            classes = self.value_cls if isinstance(self.value_cls, tuple) else (self.value_cls,)
            tag_map = self.__dict__["_tag_map"] = {c.qualified_tag(): c for c in classes}
        return tag_map

    def to_text(self, value: Any) -> str:
        raise ValueError(f"{self.label} holds a {self._value_desc()} and can't be written as plain text")


class EWSElementListField(EWSElementField):
    """A list of :class:`EWSElement` values.

    Wrapped (the default): ``<t:RequiredAttendees><t:Attendee/>..</t:RequiredAttendees>``.
    ``value_cls`` may be a tuple of classes; children are dispatched on their element name.
    With ``wrapped=False`` the items repeat directly inside the parent element.
    """

    is_list = True

    def __init__(self, field_uri: Optional[str] = None, *, value_cls: Any, wrapped: bool = True,
                 **kwargs: Any):
        super().__init__(field_uri, value_cls=value_cls, wrapped=wrapped, **kwargs)
        self.is_repeated = not wrapped

    def _classes(self) -> Tuple[Any, ...]:
        return self.value_cls if isinstance(self.value_cls, tuple) else (self.value_cls,)

    def add_to(self, parent: Element, value: Any, version: Union[Version, Build, None] = None) -> None:
        if self.wrapped:
            super().add_to(parent, value, version)
        else:
            for v in value:
                v._fill_xml(etree.SubElement(parent, self.tag), version)

    def to_xml(self, value: Any, version: Union[Version, Build, None] = None) -> Element:
        if not self.wrapped:
            raise ValueError(f"{self.label} repeats directly inside its parent; use add_to(parent, ...)")
        return super().to_xml(value, version)

    def _fill(self, elem: Element, value: Any, version: Union[Version, Build, None]) -> None:
        for v in value:
            v.add_to(elem, version)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        if not self.wrapped:
            # ``elem`` is one of the repeated elements: return the single item.
            return self._classes()[0].from_xml(elem, account)
        classes = self.child_classes()
        out = []
        for child in elem:
            cls = classes.get(child.tag)
            if cls is not None:
                out.append(cls.from_xml(child, account))
        return out

    def parse_plan(self) -> Tuple[int, Any]:
        if not self.wrapped or self._overrides(EWSElementListField, "from_xml"):
            return PARSE_CALL, self.from_xml
        return PARSE_LIST, self.child_classes()


class ElementChoiceField(Field):
    """A child element that is one of several element kinds (an XSD ``choice``), e.g. a recurrence pattern.

    The value is an instance of one of ``value_cls``; its own element name is used.
    """

    is_complex = True

    def __init__(self, *, value_cls: Tuple[Any, ...], xml_name: str, **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        super().__init__(None, xml_name=xml_name, **kwargs)
        self.value_cls = value_cls
        self._classes = {c.qualified_tag(): c for c in value_cls}

    @property
    def tags(self) -> List[str]:
        return list(self._classes)

    def add_to(self, parent: Element, value: Any, version: Any = None) -> None:
        value.add_to(parent, version)

    def to_xml(self, value: Any, version: Any = None) -> Element:
        return value.to_xml(version)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        cls = self._classes.get(elem.tag)
        return cls.from_xml(elem, account) if cls is not None else None

    def to_text(self, value: Any) -> str:
        raise ValueError(f"{self.label} can't be written as plain text")


class RawXmlField(Field):
    """An element we keep as XML text instead of modelling it (rare, read-only server data).

    The value is a ``str`` holding the serialised element, e.g. ``'<t:Likes xmlns:t="..">..</t:Likes>'``.
    Parse it with :func:`exchangelib.xml.parse` if you need it.
    """

    value_cls = str
    is_complex = True

    def __init__(self, field_uri: Optional[str] = None, **kwargs: Any):
        kwargs.setdefault("is_searchable", False)
        kwargs.setdefault("is_read_only", True)
        super().__init__(field_uri, **kwargs)

    def _clean_one(self, value: Any, where: str) -> Any:
        if not isinstance(value, str):
            raise TypeError(f"{where} expects the element as an XML string, got {_type_name(value)}")
        try:
            root = etree.fromstring(value.encode("utf-8"), parser=_RAW_PARSER)
        except etree.XMLSyntaxError as e:
            raise ValueError(f"{where}: not a well-formed XML element: {e}") from None
        if root.tag != self.tag:
            raise ValueError(f"{where}: expected a {self.xml_name} element, got {root.tag}")
        return value

    def add_to(self, parent: Element, value: Any, version: Union[Version, Build, None] = None) -> None:
        parent.append(self.to_xml(value, version))

    def to_xml(self, value: Any, version: Union[Version, Build, None] = None) -> Element:
        return etree.fromstring(value.encode("utf-8"), parser=_RAW_PARSER)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        return etree.tostring(elem, encoding="unicode", with_tail=False)


_RAW_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class IndexedField(EWSElementListField):
    """A contact dictionary: ``<t:PhoneNumbers><t:Entry Key="CarPhone">..</t:Entry></t:PhoneNumbers>``.

    The value is a list of entry elements (``value_cls``), each with a ``label`` (the ``Key``).
    The whole dictionary has an ordinary field URI (``contacts:PhoneNumbers``); one entry is named by
    ``<t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="CarPhone"/>``, and for
    multi-part entries (addresses) one part by ``FieldURI="contacts:PhysicalAddress:Street"``.
    """

    is_indexed = True

    def __init__(self, field_uri: Optional[str] = None, *, value_cls: Any, indexed_uri: str,
                 **kwargs: Any):
        kwargs.setdefault("is_searchable", True)
        super().__init__(field_uri, value_cls=value_cls, wrapped=True, **kwargs)
        self.indexed_uri = indexed_uri

    @property
    def labels(self) -> Optional[frozenset]:
        label_field = self.value_cls.FIELDS.get("label")
        return label_field.choices if label_field is not None else None

    @property
    def subfields(self) -> List[Field]:
        """The parts of a multi-part entry (e.g. street, city), empty for single-value entries."""
        return [f for f in self.value_cls.FIELDS if not f.is_attribute and not f.is_text]

    def _clean(self, value: Any, version: Union[Version, Build, None], where: str) -> Any:
        value = super()._clean(value, version, where)
        if value:
            seen = set()
            for entry in value:
                if entry.label in seen:
                    raise ValueError(f"{where} has two entries with label {entry.label!r}")
                seen.add(entry.label)
        return value

    def field_path_xml(self, label: Optional[str] = None, subfield: Optional[str] = None) -> Element:
        """The field path: the whole dictionary, one entry (``label``), or one part of an entry."""
        if label is None:
            if subfield is not None:
                raise ValueError(f"{self.label}: a subfield needs a label")
            return super().field_path_xml()
        labels = self.labels
        if labels is not None and label not in labels:
            raise ValueError(f"{self.label}: label must be one of {sorted(labels)}, got {label!r}")
        uri = self.indexed_uri
        if subfield is not None:
            sub = self.value_cls.FIELDS.get(subfield)
            if sub is None or sub not in self.subfields:
                raise ValueError(f"{self.label}: subfield must be one of "
                                 f"{[f.name for f in self.subfields]}, got {subfield!r}")
            uri = f"{uri}:{sub.xml_name}"
        elif self.subfields:
            raise ValueError(f"{self.label}: entries have several parts; name one of "
                             f"{[f.name for f in self.subfields]}")
        elem = etree.Element(_INDEXED_FIELD_URI_TAG, nsmap={"t": TNS})
        elem.set("FieldURI", uri)
        elem.set("FieldIndex", label)
        return elem

    def indexed_field_path_xml(self, label: str) -> Element:
        """Field path for a lookup suffix: ``'CarPhone'`` or ``'Home__street'`` (label, then part)."""
        entry_label, _, subfield = label.partition("__")
        return self.field_path_xml(entry_label, subfield or None)

    def to_constant(self, value: Any, version: Union[Version, Build, None] = None) -> str:
        if isinstance(value, str):
            return value
        raise TypeError(f"{self.label}: a restriction compares one entry's text; pass a str")


# ---------------------------------------------------------------------------------------------------
# FieldList
# ---------------------------------------------------------------------------------------------------
class FieldList(Sequence):
    """An ordered, name-indexed list of fields (a model class's ``FIELDS``)."""

    __slots__ = ("_fields", "_by_name")

    def __init__(self, fields: Iterable[Field] = ()):
        self._fields: List[Field] = []
        self._by_name: Dict[str, Field] = {}
        for f in fields:
            self.append(f)

    def append(self, field: Field) -> None:
        self.insert(len(self._fields), field)

    def insert(self, index: int, field: Field) -> None:
        if not isinstance(field, Field):
            raise TypeError(f"FieldList holds Field instances, got {_type_name(field)}")
        if field.name in self._by_name:
            raise ValueError(f"Field {field.name!r} is already in this list")
        self._fields.insert(index, field)
        self._by_name[field.name] = field

    def replace(self, field: Field) -> None:
        """Swap the field of the same name, keeping its position."""
        old = self._by_name[field.name]
        self._fields[self._fields.index(old)] = field
        self._by_name[field.name] = field

    def remove(self, name: str) -> Field:
        f = self._by_name.pop(name)
        self._fields.remove(f)
        return f

    def index_of(self, name: str) -> int:
        return self._fields.index(self._by_name[name])

    def get(self, name: str, default: Optional[Field] = None) -> Optional[Field]:
        return self._by_name.get(name, default)

    def names(self) -> List[str]:
        return [f.name for f in self._fields]

    def copy(self) -> "FieldList":
        return FieldList(self._fields)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str):
            return self._by_name[index]
        return self._fields[index]

    def __iter__(self) -> Iterator[Field]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._by_name
        return item in self._fields

    def __repr__(self) -> str:
        return f"FieldList({self.names()})"


__all__ = [
    "Field", "CharField", "TextField", "GuidField", "URIField", "IdField", "ChoiceField", "TextContentField",
    "BooleanField", "IntegerField", "DecimalField", "DateTimeField", "DateField", "TimeZoneField", "Base64Field",
    "MimeContentField", "CharListField", "Base64ListField", "EWSElementField", "EWSElementListField",
    "ElementChoiceField",
    "RawXmlField", "IndexedField", "FieldList",
    "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY", "DAY", "WEEK_DAY", "WEEKEND_DAY",
    "WEEKDAYS", "WEEKDAY_NAMES", "EXTRA_WEEKDAY_OPTIONS", "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE",
    "JULY", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER", "MONTHS", "MONTH_NAMES", "FIRST", "SECOND",
    "THIRD", "FOURTH", "LAST", "WEEK_NUMBERS", "WEEK_NUMBER_NAMES",
]
