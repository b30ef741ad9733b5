"""Extended (MAPI) properties: custom key/value data on items and folders.

Describe a property with a subclass, then register it on a model class under an attribute name::

    class LunchMenu(ExtendedProperty):
        property_set_id = '12345678-1234-1234-1234-123456781234'
        property_name = 'Catering from the cafeteria'
        property_type = 'String'

    CalendarItem.register('lunch_menu', LunchMenu)
    item = CalendarItem(subject='Lunch', lunch_menu='Foie gras')
    CalendarItem.deregister('lunch_menu')

A property is named by a tag (``property_tag = 0x1090``), or by a property set
(``property_set_id`` GUID or ``distinguished_property_set_id``) plus a ``property_name`` or
``property_id``. Values are plain Python values of the ``property_type`` (str, int, bool,
Decimal, EWSDateTime, bytes, or lists of those for ``...Array`` types).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/extendedproperty
"""
from __future__ import annotations

from typing import Any, ClassVar, Dict, Iterable, List, Optional, Tuple, Type

from lxml import etree

from ..fields import (
    Base64Field, BooleanField, CharField, DateTimeField, DecimalField, Field, GuidField, IntegerField,
)
from ..xml import TNS

Element = etree._Element

DISTINGUISHED_PROPERTY_SET_IDS = frozenset((
    "Meeting", "Appointment", "Common", "PublicStrings", "Address", "InternetHeaders", "CalendarAssistant",
    "UnifiedMessaging", "Task", "Sharing",
))
_EXTENDED_PROPERTY = f"{{{TNS}}}ExtendedProperty"
_EXTENDED_FIELD_URI = f"{{{TNS}}}ExtendedFieldURI"
_VALUE = f"{{{TNS}}}Value"
_VALUES = f"{{{TNS}}}Values"

# Base MAPI type -> field that checks and converts one value of it.
_BASE_TYPES: Dict[str, Field] = {
    "String": CharField(xml_name="Value", name="value"),
    "CLSID": GuidField(xml_name="Value", name="value"),
    "Integer": IntegerField(xml_name="Value", name="value", min=-2**31, max=2**31 - 1),
    "Short": IntegerField(xml_name="Value", name="value", min=-2**15, max=2**15 - 1),
    "Long": IntegerField(xml_name="Value", name="value", min=-2**63, max=2**63 - 1),
    "Currency": IntegerField(xml_name="Value", name="value", min=-2**63, max=2**63 - 1),
    "Error": IntegerField(xml_name="Value", name="value", min=0, max=2**32 - 1),
    "Boolean": BooleanField(xml_name="Value", name="value"),
    "Double": DecimalField(xml_name="Value", name="value"),
    "Float": DecimalField(xml_name="Value", name="value"),
    "ApplicationTime": DecimalField(xml_name="Value", name="value"),
    "SystemTime": DateTimeField(xml_name="Value", name="value"),
    "Binary": Base64Field(xml_name="Value", name="value"),
    # PT_OBJECT: EWS carries an object's bytes as base64 text, like Binary.
    "Object": Base64Field(xml_name="Value", name="value"),
    # PT_NULL: the value text is kept as it is.
    "Null": CharField(xml_name="Value", name="value"),
}
#: Every MapiPropertyTypeType value of types.xsd (there is no BooleanArray, ErrorArray or NullArray).
PROPERTY_TYPES = frozenset(list(_BASE_TYPES) + [f"{t}Array" for t in _BASE_TYPES
                                                if t not in ("Error", "Boolean", "Null")])


class ExtendedProperty:
    """Describes one extended property. Subclass it and set the class attributes below.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/extendedproperty
    """

    distinguished_property_set_id: ClassVar[Optional[str]] = None
    property_set_id: ClassVar[Optional[str]] = None
    property_tag: ClassVar[Optional[Any]] = None
    property_name: ClassVar[Optional[str]] = None
    property_id: ClassVar[Optional[Any]] = None
    property_type: ClassVar[str] = "String"

    @classmethod
    def validate_cls(cls) -> None:
        """Raise ValueError if the attributes don't name a property EWS can address.

        ``property_tag`` and ``property_id`` may be given as ints or as hex/decimal strings ('0x1090');
        they are stored as ints.
        """
        n = cls.__name__
        for attr in ("property_tag", "property_id"):
            value = cls.__dict__.get(attr, getattr(cls, attr))
            if isinstance(value, str):
                try:
                    setattr(cls, attr, int(value.strip(), 0))
                except ValueError:
                    raise ValueError(f"{n}.{attr} must be an int or a hex string like '0x8524', got {value!r}") \
                        from None
            elif value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{n}.{attr} must be an int or a hex string like '0x8524', got {value!r}")
        if cls.property_id is not None and not 0 <= cls.property_id <= 0x7FFFFFFF:
            raise ValueError(f"{n}.property_id must be between 0 and 0x7FFFFFFF (an xs:int), got {cls.property_id!r}")
        if cls.property_name is not None and (not isinstance(cls.property_name, str) or not cls.property_name):
            raise ValueError(f"{n}.property_name must be a non-empty str, got {cls.property_name!r}")
        if cls.property_type not in PROPERTY_TYPES:
            raise ValueError(f"{n}.property_type must be one of {sorted(PROPERTY_TYPES)}, got {cls.property_type!r}")
        if cls.distinguished_property_set_id is not None and \
                cls.distinguished_property_set_id not in DISTINGUISHED_PROPERTY_SET_IDS:
            raise ValueError(f"{n}.distinguished_property_set_id must be one of "
                             f"{sorted(DISTINGUISHED_PROPERTY_SET_IDS)}, got {cls.distinguished_property_set_id!r}")
        has_set = cls.distinguished_property_set_id is not None or cls.property_set_id is not None
        if cls.property_tag is not None:
            if has_set or cls.property_name is not None or cls.property_id is not None:
                raise ValueError(f"{n}: property_tag can't be combined with a property set, name or id")
            if not isinstance(cls.property_tag, int) or not 0 <= cls.property_tag <= 0xFFFF:
                raise ValueError(f"{n}.property_tag must be an int 0..0xFFFF, got {cls.property_tag!r}")
            if 0x8000 <= cls.property_tag <= 0xFFFE:
                raise ValueError(f"{n}.property_tag {cls.property_tag:#x} is in the named-property range; "
                                 f"use a property set with property_id instead")
            return
        if cls.distinguished_property_set_id is not None and cls.property_set_id is not None:
            raise ValueError(f"{n}: set distinguished_property_set_id or property_set_id, not both")
        if not has_set:
            raise ValueError(f"{n} needs property_tag, or a property set (distinguished_property_set_id or "
                             f"property_set_id) with property_name or property_id")
        if (cls.property_name is None) == (cls.property_id is None):
            raise ValueError(f"{n}: with a property set, set exactly one of property_name and property_id")
        if cls.property_set_id is not None:
            GuidField(xml_name="PropertySetId", name="property_set_id").clean(cls.property_set_id)

    @classmethod
    def is_array(cls) -> bool:
        return cls.property_type.endswith("Array")

    @classmethod
    def base_field(cls) -> Field:
        return _BASE_TYPES[cls.property_type[:-5] if cls.is_array() else cls.property_type]

    @classmethod
    def uri_attributes(cls) -> List[Tuple[str, str]]:
        """The ``ExtendedFieldURI`` attributes, in schema order."""
        attrs = []
        if cls.distinguished_property_set_id is not None:
            attrs.append(("DistinguishedPropertySetId", cls.distinguished_property_set_id))
        if cls.property_set_id is not None:
            attrs.append(("PropertySetId", cls.property_set_id))
        if cls.property_tag is not None:
            attrs.append(("PropertyTag", f"{cls.property_tag:#06x}"))
        if cls.property_name is not None:
            attrs.append(("PropertyName", cls.property_name))
        if cls.property_id is not None:
            attrs.append(("PropertyId", str(cls.property_id)))
        attrs.append(("PropertyType", cls.property_type))
        return attrs

    @classmethod
    def field_uri_xml(cls) -> Element:
        elem = etree.Element(_EXTENDED_FIELD_URI, nsmap={"t": TNS})
        for k, v in cls.uri_attributes():
            elem.set(k, v)
        return elem

    @classmethod
    def key(cls) -> Tuple[Any, ...]:
        """What identifies the property on the wire (used to match server elements to registrations)."""
        return (cls.distinguished_property_set_id, (cls.property_set_id or "").lower() or None, cls.property_tag,
                cls.property_name, cls.property_id)

    @staticmethod
    def key_of(uri: Element) -> Tuple[Any, ...]:
        """The :meth:`key` of an ``ExtendedFieldURI`` element sent by a server."""
        tag = uri.get("PropertyTag")
        pid = uri.get("PropertyId")
        set_id = uri.get("PropertySetId")
        try:
            tag_value = int(tag, 0) if tag is not None else None
        except ValueError:
            tag_value = None
        return (uri.get("DistinguishedPropertySetId"), set_id.lower() if set_id else None, tag_value,
                uri.get("PropertyName"), int(pid) if pid is not None and pid.lstrip("-").isdigit() else pid)


class ExtendedPropertyField(Field):
    """A registered extended property, read and written as an ``<t:ExtendedProperty>`` element."""

    is_complex = False
    is_extended = True

    def __init__(self, name: str, property_cls: Type[ExtendedProperty], **kwargs: Any):
        if not (isinstance(property_cls, type) and issubclass(property_cls, ExtendedProperty)):
            raise TypeError(f"register() expects an ExtendedProperty subclass, got {property_cls!r}")
        property_cls.validate_cls()
        kwargs.setdefault("is_searchable", True)
        super().__init__(None, xml_name="ExtendedProperty", name=name, **kwargs)
        self.property_cls = property_cls
        self.is_list = property_cls.is_array()
        self._base = property_cls.base_field()
        self.value_cls = self._base.value_cls

    def _clean_one(self, value: Any, where: str) -> Any:
        return self._base._clean_one(value, where)

    def _clean(self, value: Any, version: Any, where: str) -> Any:
        value = super()._clean(value, version, where)
        if self.is_list and value == []:
            raise ValueError(f"{where}: an array property needs at least one value")
        return value

    def field_path_xml(self) -> Element:
        return self.property_cls.field_uri_xml()

    def _fill(self, elem: Element, value: Any, version: Any) -> None:
        elem.append(self.property_cls.field_uri_xml())
        if self.is_list:
            values = etree.SubElement(elem, _VALUES)
            for v in value:
                etree.SubElement(values, _VALUE).text = self._base.to_text(v)
        else:
            etree.SubElement(elem, _VALUE).text = self._base.to_text(value)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        if self.is_list:
            values = elem.find(_VALUES)
            if values is None:
                return None
            return [self._read(v, account) for v in values]
        v = elem.find(_VALUE)
        return self._read(v, account) if v is not None else None

    def _read(self, v: Element, account: Any) -> Any:
        return self._base.from_xml(v, account)

    def to_constant(self, value: Any, version: Any = None) -> str:
        return self._base.to_constant(value, version)

    def to_text(self, value: Any) -> str:
        return self._base.to_text(value)

    @classmethod
    def group_parser(cls, fields: List[Field]) -> Any:
        """A parse function for ``<t:ExtendedProperty>`` children that dispatches on the ExtendedFieldURI.

        It returns ``(attribute name, value)``, or None for properties that aren't registered.
        """
        return _extended_property_parser(fields)


def _extended_property_parser(fields: List[Any]) -> Any:
    by_key = {f.property_cls.key(): f for f in fields}

    def parse(elem: Element, account: Any = None) -> Optional[Tuple[str, Any]]:
        uri = elem.find(_EXTENDED_FIELD_URI)
        if uri is None:
            return None
        f = by_key.get(ExtendedProperty.key_of(uri))
        if f is None:
            return None
        value = f.from_xml(elem, account)
        return None if value is None else (f.name, value)

    return parse


# Bumped on every register/deregister, so cached lists of registered properties know when to rebuild.
_generation = 0
_paths_cache: Dict[Tuple[int, Tuple[int, ...]], List[Type[ExtendedProperty]]] = {}


def register_extended_property(model_cls: Any, attr_name: str, property_cls: Type[ExtendedProperty],
                               anchor: str) -> None:
    """Add an extended property field to ``model_cls`` at its schema position (after ``anchor`` and any
    extended properties already registered)."""
    global _generation
    if not isinstance(attr_name, str) or not attr_name.isidentifier() or attr_name.startswith("_"):
        raise ValueError(f"{model_cls.__name__}.register(): {attr_name!r} is not a valid public attribute name")
    if not (isinstance(property_cls, type) and issubclass(property_cls, ExtendedProperty)):
        raise TypeError(f"{model_cls.__name__}.register({attr_name!r}, ...) expects an ExtendedProperty subclass, "
                        f"got {property_cls!r}")
    property_cls.validate_cls()
    if attr_name in model_cls.FIELDS or hasattr(model_cls, attr_name):
        raise ValueError(f"{model_cls.__name__} already has an attribute named {attr_name!r}")
    key = property_cls.key()
    for klass in _with_subclasses(model_cls):
        for f in klass.FIELDS:
            if f.is_extended and f.property_cls.key() == key:
                raise ValueError(f"{model_cls.__name__}.register(): {property_cls.__name__} names the same property "
                                 f"as {klass.__name__}.{f.name}, registered already; deregister that first")
    after = anchor
    for f in model_cls.FIELDS:
        if f.is_extended:
            after = f.name
    model_cls.add_field(ExtendedPropertyField(attr_name, property_cls), insert_after=after)
    _generation += 1


def _with_subclasses(cls: Any) -> List[Any]:
    out: List[Any] = []
    todo = [cls]
    while todo:
        c = todo.pop()
        if c not in out:
            out.append(c)
            todo.extend(c.__subclasses__())
    return out


def deregister_extended_property(model_cls: Any, attr_name: str) -> None:
    global _generation
    f = model_cls.FIELDS.get(attr_name)
    if f is None or not f.is_extended:
        raise ValueError(f"{model_cls.__name__} has no registered extended property {attr_name!r}")
    model_cls.remove_field(attr_name)
    _generation += 1


def registered_property_paths(model_classes: Iterable[type]) -> List[Element]:
    """``ExtendedFieldURI`` elements of every property registered on ``model_classes``, without repeats.

    Exchange returns extended properties only when a request names them, so shapes that ask for whole
    items or folders add these (see :func:`exchangelib.services.shapes.shape_xml`).
    """
    classes = tuple(model_classes)
    cache_key = (_generation, tuple(id(c) for c in classes))
    props = _paths_cache.get(cache_key)
    if props is None:
        seen = set()
        props = []
        for cls in classes:
            for f in getattr(cls, "FIELDS", ()):
                if f.is_extended and f.property_cls.key() not in seen:
                    seen.add(f.property_cls.key())
                    props.append(f.property_cls)
        if len(_paths_cache) > 64:
            _paths_cache.clear()
        _paths_cache[cache_key] = props
    # New elements every time: an lxml element can sit in one request only.
    return [p.field_uri_xml() for p in props]


# PidLidGlobalObjectId's fixed 16-byte prefix (MS-OXOCAL 2.2.1.27).
_GOID_PREFIX = bytes.fromhex("040000008200E00074C5B7101A82E008")


class UID(ExtendedProperty):
    """A meeting's global object id (PidLidGlobalObjectId), to find a calendar item by its iCalendar UID.

    ::

        CalendarItem.register("global_object_id", UID)
        account.calendar.filter(global_object_id=UID.to_global_object_id(ical_uid))

    https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxocal/1d3aac05-a7b9-45cc-a213-47f0a0a2c5c1
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/extendedproperty
    """

    distinguished_property_set_id = "Meeting"
    property_id = 0x0003
    property_type = "Binary"

    @staticmethod
    def to_global_object_id(uid: str) -> bytes:
        """The PidLidGlobalObjectId bytes Exchange stores for a meeting with iCalendar UID ``uid``.

        A UID Outlook made (hex, starting with the global-object-id prefix) is its bytes; any other UID
        is wrapped as MS-OXOCAL describes: the prefix, zero instance date, creation time and reserved
        bytes, then the length and ``vCal-Uid`` + version 1 + the UID + NUL.
        """
        if not isinstance(uid, str) or not uid:
            raise ValueError(f"UID.to_global_object_id() needs a UID string, got {uid!r}")
        try:
            raw = bytes.fromhex(uid)
        except ValueError:
            raw = b""
        if raw.startswith(_GOID_PREFIX):
            return raw
        data = b"vCal-Uid" + (1).to_bytes(4, "little") + uid.encode("utf-8") + b"\x00"
        return _GOID_PREFIX + bytes(4) + bytes(8) + bytes(8) + len(data).to_bytes(4, "little") + data


__all__ = ["ExtendedProperty", "ExtendedPropertyField", "UID", "DISTINGUISHED_PROPERTY_SET_IDS", "PROPERTY_TYPES",
           "register_extended_property", "deregister_extended_property", "registered_property_paths"]
