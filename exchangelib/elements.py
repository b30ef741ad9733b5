"""EWSElement: the base class of every model that maps to an EWS XML element.

A subclass declares its element name and its fields, in the order of the XSD sequence::

    class ItemId(EWSElement):
        ELEMENT_NAME = "ItemId"
        id = IdField("Id", is_required=True)
        changekey = IdField("ChangeKey")

Subclasses append their own fields after their parent's, which matches how the XSD extends types
(``CalendarItemType`` extends ``ItemType``). Use :meth:`EWSElement.add_field` for the rare field
that has to go elsewhere.

Every assignment is checked by the field (wrong type -> TypeError, bad value -> ValueError, read-only
-> AttributeError, unknown attribute name -> AttributeError), so mistakes surface where they are made.
Parsing (:meth:`EWSElement.from_xml`) trusts the server: it walks the element's children once,
dispatches on the tag with a dict lookup and fills the instance dict directly.
"""
from __future__ import annotations

import copy
import datetime
import re
import sys
from collections.abc import MutableMapping
from typing import (TYPE_CHECKING, Any, ClassVar, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Type,
                    TypeVar, Union)

from lxml import etree

from .fields import (PARSE_BOOL, PARSE_CALL, PARSE_COMPACT, PARSE_DATETIME, PARSE_INT, PARSE_LIST, PARSE_SHARED,
                     PARSE_TEXT, PARSE_WRAPPED, SLOT_PREFIX, Field, FieldList, _DATETIMES)
from .lazy import LazyModule
from .packed import PACK_MIN, PackedFields
from .version import Build, Version
from .xml import MNS, TNS

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import difflib
    import html
else:
    difflib = LazyModule("difflib")
    html = LazyModule("html")

Element = etree._Element
T = TypeVar("T", bound="EWSElement")

_REPR_VALUE_LIMIT = 80
#: Longest text shown for one value in an HTML table (Jupyter); longer text ends in an ellipsis.
HTML_VALUE_LIMIT = 500
#: Most list entries shown for one value in an HTML table.
HTML_LIST_LIMIT = 10
_EWS_REFERENCE_RE = re.compile(r"https://learn\.microsoft\.com/\S+")
_WHITESPACE_RE = re.compile(r"\s+")


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


class _CompactValues(MutableMapping):
    """The field values of an object with compact storage, as a live dict-like view (its ``__dict__``).

    Code written for the instance dict (``obj.__dict__.get(name)``, ``d[name] = value``, iteration over the
    set fields) works unchanged on such objects; the values themselves live in slots.
    """

    __slots__ = ("_obj",)

    def __init__(self, obj: "EWSElement"):
        self._obj = obj

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self._obj, SLOT_PREFIX + name)
        except AttributeError:
            raise KeyError(name) from None

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in type(self._obj).FIELDS:
            raise AttributeError(f"{type(self._obj).__name__} has no field {name!r}")
        object.__setattr__(self._obj, SLOT_PREFIX + name, value)

    def __delitem__(self, name: str) -> None:
        try:
            object.__delattr__(self._obj, SLOT_PREFIX + name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Any:
        obj = self._obj
        return iter([f.name for f in type(obj).FIELDS if hasattr(obj, SLOT_PREFIX + f.name)])

    def __len__(self) -> int:
        obj = self._obj
        return sum(1 for f in type(obj).FIELDS if hasattr(obj, SLOT_PREFIX + f.name))

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class _ElementType(type):
    """Gives classes that set ``COMPACT = True`` (and their subclasses) one slot per field instead of an
    instance dict."""

    def __new__(mcls, name: str, bases: Tuple[type, ...], ns: Dict[str, Any], **kwargs: Any) -> Any:
        compact = ns.get("COMPACT", any(getattr(b, "COMPACT", False) for b in bases))
        if compact and "__slots__" not in ns:
            have = {s for b in bases for k in b.__mro__ for s in k.__dict__.get("__slots__", ())}
            own = [SLOT_PREFIX + k for k, v in ns.items() if isinstance(v, Field)]
            ns["__slots__"] = tuple(s for s in own if s not in have)
            ns.setdefault("__dict__", property(_CompactValues, doc="The set field values (a live view)."))
        return super().__new__(mcls, name, bases, ns, **kwargs)


class EWSElement(metaclass=_ElementType):
    """Base class of EWS models: declarative typed fields <-> lxml elements.

    Keyword arguments of the constructor are field values (positional arguments fill the fields in
    declaration order). Unknown names raise TypeError; values are checked by their field.

    Small value classes parsed by the thousand (ids, mailboxes, attendees...) set ``COMPACT = True``: their
    instances keep each set value in a slot instead of an instance dict, which takes a fraction of the
    memory. They accept no attributes besides their fields; ``__dict__`` is a live view of the set fields.
    """

    __slots__ = ()
    #: Compact storage: one slot per field, no instance dict (set in the class body; inherited).
    COMPACT: ClassVar[bool] = False
    _COMPACT: ClassVar[bool] = False

    #: Local name of the element this class maps to.
    ELEMENT_NAME: ClassVar[str] = ""
    #: Namespace of the element (types namespace unless stated).
    NAMESPACE: ClassVar[str] = TNS
    #: The fields, in XSD sequence order.
    FIELDS: ClassVar[FieldList] = FieldList()
    #: Plain (non-field, never serialised) attribute names instances accept, e.g. ``account``.
    #: Collected across the class hierarchy, so a mixin can add its own.
    _EXTRA_ATTRS: ClassVar[Tuple[str, ...]] = ()
    #: Element names of field updates (``UpdateItem`` uses SetItemField, ``UpdateFolder`` SetFolderField).
    #: Field names shown by repr() (None: every field that is set). Big models list a few key fields.
    REPR_FIELDS: ClassVar[Optional[Tuple[str, ...]]] = None
    SET_FIELD_ELEMENT: ClassVar[str] = "SetItemField"
    DELETE_FIELD_ELEMENT: ClassVar[str] = "DeleteItemField"

    # Per-class caches, rebuilt whenever FIELDS changes.
    _TAG_MAP: ClassVar[Dict[str, Field]] = {}
    _PARSERS: ClassVar[Dict[str, Tuple[Optional[str], Any, bool]]] = {}
    #: child tag -> (where the value goes, PARSE_* kind, the plan's argument, repeated): from_xml's table. "Where"
    #: is the field name (instance dict), or for compact classes the slot's setter.
    _PLANS: ClassVar[Dict[str, Tuple[Any, int, Any, bool]]] = {}
    #: Compact classes: field name -> its slot's setter (for group parsers, which name the field they read).
    _SLOT_SETTERS: ClassVar[Dict[str, Any]] = {}
    #: Pairs of field names (a, b): after parsing, a value of ``a`` equal to ``b``'s becomes ``b``'s string object.
    _SAME_TEXT: ClassVar[Tuple[Tuple[str, str], ...]] = ()
    #: Whether from_xml is EWSElement's own (a field holding such a class may parse it inline).
    _plain_from_xml: ClassVar[bool] = True
    #: Big models (more than 30 fields): parsed objects keep their values packed (see PackedFields)
    _OWN_DICT: ClassVar[bool] = False
    _ATTR_SLOTS: ClassVar[Tuple[Tuple[Field, str], ...]] = ()
    _ATTR_FIELDS: ClassVar[Tuple[Field, ...]] = ()
    _TEXT_FIELD: ClassVar[Optional[Field]] = None
    _ELEMENT_FIELDS: ClassVar[Tuple[Field, ...]] = ()
    _SETTABLE: ClassVar[FrozenSet[str]] = frozenset()
    _EXTRA_SET: ClassVar[FrozenSet[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        base_fields: Optional[FieldList] = None
        for base in cls.__bases__:
            if issubclass(base, EWSElement):
                base_fields = base.FIELDS
                break
        fields = base_fields.copy() if base_fields is not None else FieldList()
        for attr_name, value in list(cls.__dict__.items()):
            if not isinstance(value, Field):
                continue
            if value.name != attr_name:
                raise ValueError(f"{cls.__name__}.{attr_name}: a Field instance can't be shared between names")
            if attr_name in fields:
                fields.replace(value)
            else:
                fields.append(value)
        cls.FIELDS = fields
        cls._COMPACT = bool(cls.COMPACT)
        if cls._COMPACT:
            missing = [f.name for f in fields if not hasattr(cls, SLOT_PREFIX + f.name)]
            extra = [a for klass in cls.__mro__ for a in klass.__dict__.get("_EXTRA_ATTRS", ())]
            if missing or extra:
                raise TypeError(f"{cls.__name__}: compact storage needs a slot for every field and no extra "
                                f"attributes (missing slots {missing}, extra attributes {extra})")
        cls._rebuild_caches()

    @classmethod
    def _rebuild_caches(cls) -> None:
        tag_map: Dict[str, Field] = {}
        attrs: List[Field] = []
        elems: List[Field] = []
        text_field = None
        extended: List[Field] = []
        for f in cls.FIELDS:
            if f.is_attribute:
                attrs.append(f)
            elif f.is_text:
                text_field = f
            elif f.is_extended:
                elems.append(f)
                extended.append(f)
            else:
                elems.append(f)
                for tag in f.tags:
                    if tag in tag_map:
                        raise ValueError(f"{cls.__name__}: fields {tag_map[tag].name!r} and {f.name!r} "
                                         f"share the element {tag}")
                    tag_map[tag] = f
        cls._TAG_MAP = tag_map
        # (attribute name, parse function, repeated) per child tag: the from_xml hot loop reads only this.
        cls._PARSERS = {tag: (f.name, f.from_xml, f.is_repeated) for tag, f in tag_map.items()}
        if extended:
            # One element name, many fields: the parser names the field (see Field.group_parser).
            cls._PARSERS[extended[0].tag] = (None, type(extended[0]).group_parser(extended), False)
        cls._plain_from_xml = getattr(cls.from_xml, "__func__", None) is _EWS_FROM_XML
        setters: Dict[str, Any] = {}
        if cls._COMPACT:
            for f in cls.FIELDS:
                slot = SLOT_PREFIX + f.name
                member = next(k.__dict__[slot] for k in cls.__mro__ if slot in k.__dict__)
                setters[f.name] = member.__set__
        cls._SLOT_SETTERS = setters
        plans: Dict[str, Tuple[Any, int, Any, bool]] = {}
        for tag, (name, parse, repeated) in cls._PARSERS.items():
            planned = tag_map.get(tag)
            kind, arg = planned.parse_plan() if planned is not None and not repeated else (PARSE_CALL, parse)
            if kind == PARSE_CALL:
                arg = parse
            where: Any = name
            if cls._COMPACT and name is not None and not repeated:
                where = setters[name]
            plans[tag] = (where, kind, arg, repeated)
        cls._PLANS = plans
        cls._OWN_DICT = len(cls.FIELDS) > 30
        cls._ATTR_FIELDS = tuple(attrs)
        cls._ATTR_SLOTS = tuple((f, SLOT_PREFIX + f.name) for f in attrs)
        cls._TEXT_FIELD = text_field
        cls._ELEMENT_FIELDS = tuple(elems)
        settable = set(cls.FIELDS.names())
        settable.update(_own_settable(cls, fresh=True))
        for klass in cls.__mro__[1:]:
            settable.update(_own_settable(klass))
        cls._SETTABLE = frozenset(settable)
        cls._EXTRA_SET = frozenset(a for klass in cls.__mro__ for a in klass.__dict__.get("_EXTRA_ATTRS", ()))

    # --- field registry manipulation ---------------------------------------------------------------
    @classmethod
    def add_field(cls, field: Field, name: Optional[str] = None, insert_after: Optional[str] = None) -> None:
        """Add ``field`` to this class (and its subclasses) after ``insert_after``, or at the end.

        For the rare field whose XSD position isn't "after the parent's fields", and for
        registering custom (e.g. extended) properties at run time.
        """
        if not isinstance(field, Field):
            raise TypeError(f"add_field() expects a Field, got {type(field).__name__}")
        name = name or field.name
        if not name or not name.isidentifier():
            raise ValueError(f"add_field() needs a valid attribute name, got {name!r}")
        if name in cls.FIELDS or hasattr(cls, name):
            raise ValueError(f"{cls.__name__} already has an attribute named {name!r}")
        if any(klass._COMPACT for klass in [cls, *_all_subclasses(cls)]):
            raise TypeError(f"{cls.__name__} (or a subclass) has compact storage: fields can't be added at run time")
        field.name = name
        if field.owner is None:
            field.owner = cls
        setattr(cls, name, field)
        for klass in [cls, *_all_subclasses(cls)]:
            if insert_after is None:
                klass.FIELDS.append(field)
            else:
                if insert_after not in klass.FIELDS:
                    raise ValueError(f"{klass.__name__} has no field {insert_after!r} to insert after")
                klass.FIELDS.insert(klass.FIELDS.index_of(insert_after) + 1, field)
            klass._rebuild_caches()

    @classmethod
    def remove_field(cls, name: str) -> Field:
        """Remove a field added with :meth:`add_field` (from this class and its subclasses)."""
        field = cls.FIELDS.get(name)
        own = cls.__dict__.get(name)
        if field is None or own is None or own is not field:
            raise ValueError(f"{cls.__name__} has no field {name!r} of its own to remove")
        delattr(cls, name)
        for klass in [cls, *_all_subclasses(cls)]:
            if klass.FIELDS.get(name) is field:
                klass.FIELDS.remove(name)
                klass._rebuild_caches()
        return field

    @classmethod
    def supported_fields(cls, version: Union[Version, Build, None] = None) -> List[Field]:
        """The fields servers of ``version`` know (all fields if ``version`` is None)."""
        return [f for f in cls.FIELDS if f.is_supported(version)]

    @classmethod
    def qualified_tag(cls) -> str:
        """The element name in Clark notation: ``{namespace}ElementName``."""
        return f"{{{cls.NAMESPACE}}}{cls.ELEMENT_NAME}"

    # --- construction --------------------------------------------------------------------------------
    def __init__(self, *args: Any, **kwargs: Any):
        cls = type(self)
        if args:
            names = cls.FIELDS.names()
            if len(args) > len(names):
                raise TypeError(f"{cls.__name__}() takes at most {len(names)} positional arguments "
                                f"({', '.join(names)}), got {len(args)}")
            for name, value in zip(names, args):
                if name in kwargs:
                    raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
                kwargs[name] = value
        fields = cls.FIELDS
        for name, value in kwargs.items():
            if name in fields or name in cls._SETTABLE:
                setattr(self, name, value)
            else:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}"
                                f"{_suggest(name, cls.FIELDS.names())}")

    @classmethod
    def _construct(cls: Type[T], **kwargs: Any) -> T:
        """Build an instance without the read-only checks (values are still cleaned).

        For library code that creates objects the way the server describes them.
        """
        obj = cls.__new__(cls)
        for name, value in kwargs.items():
            obj._set_field(name, value)
        return obj

    def _set_field(self, name: str, value: Any) -> None:
        """Set a field, read-only or not, after cleaning the value. For library code."""
        cls = type(self)
        field = cls.FIELDS.get(name)
        if field is None:
            if name in cls._SETTABLE:
                object.__setattr__(self, name, value)
                return
            raise AttributeError(f"{cls.__name__} has no field {name!r}")
        field._store(self, value, f"{cls.__name__}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in type(self)._SETTABLE or name[:1] == "_":
            object.__setattr__(self, name, value)
            return
        if isinstance(getattr(type(self), name, None), property):
            raise AttributeError(f"{type(self).__name__}.{name} is read-only")
        raise AttributeError(f"{type(self).__name__} has no field or attribute {name!r}"
                             f"{_suggest(name, type(self).FIELDS.names())}")

    # --- validation ----------------------------------------------------------------------------------
    def clean(self, version: Union[Version, Build, None] = None) -> None:
        """Check the whole object before it is sent: required fields, version support, nested values.

        Subclasses extend this with cross-field rules (e.g. a calendar item's start before its end).
        """
        cls = type(self)
        d = self.__dict__
        for f in cls.FIELDS:
            value = d.get(f.name)
            where = f"{cls.__name__}.{f.name}"
            if value is None:
                if f.is_required and f.default is None:
                    raise ValueError(f"{where} is required")
                continue
            d[f.name] = value = f._clean(value, version, where)
            if isinstance(value, EWSElement):
                value.clean(version)
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, EWSElement):
                        v.clean(version)

    # --- XML -----------------------------------------------------------------------------------------
    def to_xml(self, version: Union[Version, Build, None] = None) -> Element:
        """This object as ``<t:ELEMENT_NAME>`` with set fields in FIELDS order; None values are skipped.

        With a ``version``, fields that version doesn't know are left out.
        """
        nsmap = {"m": MNS, "t": TNS} if self.NAMESPACE == MNS else {"t": TNS}
        elem = etree.Element(self.qualified_tag(), nsmap=nsmap)
        self._fill_xml(elem, version)
        return elem

    def add_to(self, parent: Element, version: Union[Version, Build, None] = None) -> Element:
        """Append this object's element to ``parent``; returns the new element."""
        elem = etree.SubElement(parent, self.qualified_tag())
        self._fill_xml(elem, version)
        return elem

    def _fill_xml(self, elem: Element, version: Union[Version, Build, None],
                  fields: Optional[Tuple[Field, ...]] = None) -> None:
        """Write attributes, text and child elements (``fields``, default all) of this object into ``elem``."""
        d = self.__dict__
        cls = type(self)
        for f in cls._ATTR_FIELDS:
            value = d.get(f.name)
            if value is not None and (version is None or f.is_supported(version)):
                elem.set(f.xml_name, f.to_text(value))
        tf = cls._TEXT_FIELD
        if tf is not None:
            value = d.get(tf.name)
            if value is not None:
                elem.text = tf.to_text(value)
        for f in cls._ELEMENT_FIELDS if fields is None else fields:
            value = d.get(f.name)
            if value is None or (f.is_list and not value) or (version is not None and not f.is_supported(version)):
                continue
            f.add_to(elem, value, version)

    @classmethod
    def from_xml(cls: Type[T], elem: Element, account: Any = None) -> T:
        """Build an instance from its element. Unknown child elements are ignored."""
        if cls._COMPACT:
            return _compact_from_xml(cls, elem, account)
        obj = cls.__new__(cls)
        # Big models (items) are read into a plain dict, then packed (see PackedFields): their values in a list of
        # exactly their number, the names shared with every object parsed with the same fields
        d: Dict[str, Any] = {} if cls._OWN_DICT else obj.__dict__
        for f in cls._ATTR_FIELDS:
            text = elem.get(f.xml_name)
            if text is not None:
                d[f.name] = f.from_text(text)
        tf = cls._TEXT_FIELD
        if tf is not None:
            value = tf.from_text(elem.text)
            if value is not None:
                d[tf.name] = value
        _read_children(cls, obj, d, elem, account)
        for a, b in cls._SAME_TEXT:
            # Two fields that usually hold the same text (a message's subject and conversation topic): one
            # string object instead of two equal ones.
            va = d.get(a)
            if va is not None and va == d.get(b):
                d[a] = d[b]
        if cls._OWN_DICT:
            if len(d) >= PACK_MIN:  # (d holds field values only: what else an item has is set below)
                d = PackedFields.pack(d)
            object.__setattr__(obj, "__dict__", d)
        if account is not None and "account" in cls._SETTABLE:
            d["account"] = account  # (not a field: a packed dict keeps it in the dict itself)
        return obj

    # --- updates (UpdateItem / UpdateFolder) ------------------------------------------------------
    def _get_field(self, name: str) -> Field:
        f = type(self).FIELDS.get(name)
        if f is None:
            raise ValueError(f"{type(self).__name__} has no field {name!r}")
        return f

    def field_to_xml(self, field_name: str, version: Union[Version, Build, None] = None) -> Element:
        """This object's element holding just one field: ``<t:CalendarItem><t:Subject>x</t:Subject></t:CalendarItem>``.

        This is the payload of a ``SetItemField``/``SetFolderField`` update.
        """
        f = self._get_field(field_name)
        value = self.__dict__.get(f.name)
        if value is None or (f.is_list and not value):
            raise ValueError(f"{type(self).__name__}.{field_name} is not set; delete it instead of setting it")
        elem = etree.Element(self.qualified_tag(), nsmap={"t": TNS})
        f.add_to(elem, value, version)
        return elem

    def update_xml(self, field_names: Iterable[str], version: Union[Version, Build, None] = None) -> List[Element]:
        """``SetItemField``/``DeleteItemField`` (or folder equivalents) elements for an ``<t:Updates>`` list.

        A field whose value is None (or an empty list) is deleted. Contact dictionaries (indexed
        fields) are updated entry by entry, as EWS requires.
        """
        out: List[Element] = []
        for name in field_names:
            f = self._get_field(name)
            where = f"{type(self).__name__}.{name}"
            if f.is_read_only:
                raise ValueError(f"{where} is read-only and can't be updated")
            if not f.is_supported(version):
                raise ValueError(f"{where} is not supported by Exchange build {getattr(version, 'build', version)}")
            value = self.__dict__.get(f.name)
            if f.is_indexed:
                out.extend(self._indexed_updates(f, value or [], version))
                continue
            if value is None or (f.is_list and not value):
                if f.is_required:
                    raise ValueError(f"{where} is required and can't be cleared")
                d = etree.Element(f"{{{TNS}}}{self.DELETE_FIELD_ELEMENT}", nsmap={"t": TNS})
                d.append(f.field_path_xml())
                out.append(d)
                continue
            s = etree.Element(f"{{{TNS}}}{self.SET_FIELD_ELEMENT}", nsmap={"t": TNS})
            s.append(f.field_path_xml())
            s.append(self.field_to_xml(name, version))
            out.append(s)
        return out

    def _indexed_updates(self, f: Any, entries: List[Any], version: Union[Version, Build, None]) -> List[Element]:
        """Per-entry updates of a contact dictionary: set present entries (parts), delete absent ones."""
        out: List[Element] = []
        by_label = {e.label: e for e in entries}
        subfields = f.subfields
        for label in sorted(f.labels or by_label):
            entry = by_label.get(label)
            if not subfields:
                if entry is None:
                    out.append(self._delete_path(f.field_path_xml(label)))
                else:
                    out.append(self._set_entry(f, entry, f.field_path_xml(label), version))
                continue
            for sf in subfields:
                path = f.field_path_xml(label, sf.name)
                value = entry.__dict__.get(sf.name) if entry is not None else None
                if value is None:
                    out.append(self._delete_path(path))
                else:
                    assert entry is not None  # a value came from it
                    part = type(entry)._construct(label=label)
                    part._set_field(sf.name, value)
                    out.append(self._set_entry(f, part, path, version))
        return out

    def _delete_path(self, path: Element) -> Element:
        d = etree.Element(f"{{{TNS}}}{self.DELETE_FIELD_ELEMENT}", nsmap={"t": TNS})
        d.append(path)
        return d

    def _set_entry(self, f: Any, entry: Any, path: Element, version: Union[Version, Build, None]) -> Element:
        s = etree.Element(f"{{{TNS}}}{self.SET_FIELD_ELEMENT}", nsmap={"t": TNS})
        s.append(path)
        dict_elem = etree.SubElement(etree.SubElement(s, self.qualified_tag()), f.tag)
        entry.add_to(dict_elem, version)
        return s

    # --- Python protocol -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        for f in type(self).FIELDS:
            if getattr(self, f.name) != getattr(other, f.name):
                return False
        return True

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(_hashable(getattr(self, f.name)) for f in type(self).FIELDS)))

    def __getstate__(self) -> Any:
        if type(self)._COMPACT:
            return super().__getstate__()  # type: ignore[misc]  # the slots (object's own rule)
        d = self.__dict__
        return d if type(d) is dict else dict(d.items())  # packed values travel as a plain dict

    def __copy__(self: T) -> T:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)  # (for compact classes, both are views of the slots)
        return new

    def __deepcopy__(self: T, memo: Dict[int, Any]) -> T:
        """Copy field values deeply; plain attributes (account, folder, ...) are shared, not copied."""
        cls = type(self)
        new = cls.__new__(cls)
        memo[id(self)] = new
        extra = cls._EXTRA_SET
        d = new.__dict__
        for k, v in self.__dict__.items():
            d[k] = v if k in extra else copy.deepcopy(v, memo)
        return new

    # --- display (Jupyter, tables) -------------------------------------------------------------------
    def display_text(self, limit: int = HTML_VALUE_LIMIT) -> str:
        """A short one-line text for this value, as table cells show it.

        A mailbox reads ``'Name <address>'``; other values join their set fields (``REPR_FIELDS`` when the
        class lists some), e.g. an attendee ``'Mary <mary@example.com>, Accept'``.
        """
        d = self.__dict__
        cls = type(self)
        email = d.get("email_address")
        if isinstance(email, str) and "name" in cls.FIELDS:
            name = d.get("name")
            show_name = name and name.strip().lower() != email.lower()  # servers often repeat the address
            return _shorten(f"{name} <{email}>" if show_name else email, limit)
        names = cls.REPR_FIELDS if cls.REPR_FIELDS is not None else cls.FIELDS.names()
        parts = [display_value(d.get(n), limit) for n in names if n in cls.FIELDS]
        return _shorten(", ".join(p for p in parts if p), limit)

    def html_rows(self) -> List[Tuple[str, str]]:
        """(label, text) for each set field, in field order: the rows of :meth:`_repr_html_`.

        The id is shown as two rows, ``id`` and ``changekey``.
        """
        rows: List[Tuple[str, str]] = []
        d = self.__dict__
        for f in type(self).FIELDS:
            value = d.get(f.name)
            if value is None or (isinstance(value, list) and not value):
                continue
            if f.name == "_id" and isinstance(value, EWSElement):
                for part in ("id", "changekey"):
                    text = value.__dict__.get(part)
                    if text:
                        rows.append((part, str(text)))
                continue
            rows.append((f.name.lstrip("_"), display_value(value)))
        return rows

    def _repr_html_(self) -> str:
        """An HTML table of the set fields, for Jupyter notebooks (every value is escaped)."""
        return html_table(self.html_rows(), caption=html_caption(type(self)), header=("Field", "Value"))

    def __repr__(self) -> str:
        parts = []
        d = self.__dict__
        cls = type(self)
        fields = cls.FIELDS if cls.REPR_FIELDS is None else [cls.FIELDS[n] for n in cls.REPR_FIELDS if n in cls.FIELDS]
        for f in fields:
            value = d.get(f.name)
            if value is None:
                continue
            r = repr(value)
            if len(r) > _REPR_VALUE_LIMIT:
                r = r[: _REPR_VALUE_LIMIT - 3] + "..."
            parts.append(f"{f.name.lstrip('_')}={r}")
        return f"{type(self).__name__}({', '.join(parts)})"


_intern = sys.intern
_BOOLEANS = {"true": True, "false": False}
#: class -> the attribute names its own body makes settable (_EXTRA_ATTRS, properties with a setter). Read once per
#: class: every subclass's _rebuild_caches needs them of its whole MRO.
_OWN_SETTABLE: Dict[type, FrozenSet[str]] = {}


def _own_settable(klass: type, fresh: bool = False) -> FrozenSet[str]:
    names = None if fresh else _OWN_SETTABLE.get(klass)
    if names is None:
        d = klass.__dict__
        names = frozenset([*d.get("_EXTRA_ATTRS", ()),
                           *(k for k, v in d.items() if isinstance(v, property) and v.fset is not None)])
        _OWN_SETTABLE[klass] = names
    return names


_EWS_FROM_XML = EWSElement.from_xml.__func__  # type: ignore[attr-defined]


def _compact_from_xml(cls: Any, elem: Element, account: Any) -> Any:
    """EWSElement.from_xml for classes with compact storage: the same walk, storing into slots."""
    obj = cls.__new__(cls)
    for f, attr_slot in cls._ATTR_SLOTS:
        text = elem.get(f.xml_name)
        if text is not None:
            object.__setattr__(obj, attr_slot, f.from_text(text))
    tf = cls._TEXT_FIELD
    if tf is not None:
        value = tf.from_text(elem.text)
        if value is not None:
            object.__setattr__(obj, SLOT_PREFIX + tf.name, value)
    _read_children(cls, obj, None, elem, account)
    return obj


def _read_children(cls: Any, obj: Any, d: Optional[Dict[str, Any]], elem: Element, account: Any) -> None:
    """The hot loop of every response: read ``elem``'s children into ``obj`` by the class's ``_PLANS``, into the
    instance dict ``d``, or (``d`` None: compact classes) into slots through their setters. For the common field
    kinds (text, booleans, integers, timestamps, nested ids and mailboxes) it does what the field's ``from_xml``
    would do without calling it (see :meth:`Field.parse_plan`)."""
    plans = cls._PLANS
    for child in elem:
        p = plans.get(child.tag)
        if p is None:
            continue
        where, kind, arg, repeated = p
        value: Any
        if kind == PARSE_TEXT:
            text = child.text
            value = "" if text is None else text
        elif kind == PARSE_SHARED:
            text = child.text
            value = "" if text is None else _intern(text)
        elif kind == PARSE_BOOL:
            text = child.text
            value = _BOOLEANS.get(text)  # type: ignore[arg-type]
            if value is None:
                value = arg.from_text(text)
        elif kind == PARSE_DATETIME:
            text = child.text
            value = _DATETIMES.get(text)  # type: ignore[arg-type]
            if value is None:
                value = arg.from_text(text, account)
        elif kind == PARSE_INT:
            text = child.text
            try:
                value = int(text)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                value = arg.from_text(text)
        elif kind == PARSE_COMPACT:
            value = _compact_from_xml(arg, child, account)
        elif kind == PARSE_WRAPPED:
            value = _wrapped(arg, child, account)
        elif kind == PARSE_LIST:
            value = _listed(arg, child, account)
        else:
            value = arg(child, account)
            if value is None:
                continue
            if where is None:  # a group parser names the field it read
                where, value = value
                if d is None and not repeated:
                    where = cls._SLOT_SETTERS[where]
        if value is None:
            continue
        if d is not None:
            if repeated:
                d.setdefault(where, []).append(value)
            else:
                d[where] = value
        elif not repeated:
            where(obj, value)
        else:
            slot = SLOT_PREFIX + where
            values = getattr(obj, slot, None)
            if values is None:
                object.__setattr__(obj, slot, [value])
            else:
                values.append(value)


def _wrapped(classes: Dict[str, Any], elem: Element, account: Any) -> Any:
    """The value inside a wrapper element (``<t:Sender><t:Mailbox>..</t:Mailbox></t:Sender>``)."""
    for child in elem:
        cls = classes.get(child.tag)
        if cls is not None:
            if cls._COMPACT and cls._plain_from_xml:
                return _compact_from_xml(cls, child, account)
            return cls.from_xml(child, account)
    return None


def _listed(classes: Dict[str, Any], elem: Element, account: Any) -> List[Any]:
    """The values inside a list's wrapper element (``<t:ToRecipients><t:Mailbox/>..</t:ToRecipients>``)."""
    out = []
    for child in elem:
        cls = classes.get(child.tag)
        if cls is not None:
            if cls._COMPACT and cls._plain_from_xml:
                out.append(_compact_from_xml(cls, child, account))
            else:
                out.append(cls.from_xml(child, account))
    # A list grown by appending keeps room for more; parsed lists are rarely extended, so keep the exact size
    return out if len(out) > 16 else list(out)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\u2026"


def display_value(value: Any, limit: int = HTML_VALUE_LIMIT) -> str:
    """A field value as short one-line text for tables (not escaped): None is ``''``, lists are joined with
    ``', '`` (at most :data:`HTML_LIST_LIMIT` entries), text is cut at ``limit`` characters with an ellipsis,
    bytes are shown as their size, EWS values through :meth:`EWSElement.display_text`."""
    if value is None:
        return ""
    if isinstance(value, EWSElement):
        return value.display_text(limit)
    if isinstance(value, (list, tuple)):
        shown = [display_value(v, limit) for v in value[:HTML_LIST_LIMIT]]
        more = len(value) - len(shown)
        text = ", ".join(shown) + (f", \u2026 ({more} more)" if more > 0 else "")
        return _shorten(text, limit)
    if isinstance(value, (bytes, bytearray)):
        return f"{len(value)} bytes"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, str):  # text, bodies, and the XML of RawXmlFields
        return _shorten(_WHITESPACE_RE.sub(" ", str(value)).strip(), limit)
    return _shorten(str(value), limit)


def ews_reference_url(cls: type) -> Optional[str]:
    """The EWS reference link in a class's docstring, or None."""
    m = _EWS_REFERENCE_RE.search(cls.__doc__ or "")
    return m.group(0).rstrip(".,;)") if m else None


def html_caption(cls: type, extra: str = "") -> str:
    """``<b>ClassName</b>`` plus a link to its EWS reference page, as HTML (``extra`` is escaped text)."""
    caption = f"<b>{html.escape(cls.__name__)}</b>"
    if extra:
        caption += f" {html.escape(extra)}"
    url = ews_reference_url(cls)
    if url:
        caption += f' <a href="{html.escape(url)}" target="_blank" rel="noopener">EWS reference</a>'
    return caption


_CELL = 'style="text-align:left; vertical-align:top"'


def html_table(rows: Iterable[Sequence[str]], caption: str = "", header: Sequence[str] = (),
               row_labels: bool = True) -> str:
    """A plain HTML table. ``rows`` hold text (escaped here); ``caption`` is HTML. With ``row_labels``, the
    first cell of each row is a header cell."""
    out = ['<table class="exchangelib">']
    if caption:
        out.append(f'<caption style="text-align:left">{caption}</caption>')
    if header:
        out.append("<thead><tr>" + "".join(f"<th {_CELL}>{html.escape(h)}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = []
        for n, text in enumerate(row):
            tag = "th" if row_labels and n == 0 else "td"
            cells.append(f"<{tag} {_CELL}>{html.escape(text)}</{tag}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _all_subclasses(cls: Type[T]) -> List[Type[T]]:
    out: List[Type[T]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    # A class reachable through two parents appears once.
    seen: Dict[int, Type[T]] = {}
    for c in out:
        seen.setdefault(id(c), c)
    return list(seen.values())


def _suggest(name: str, candidates: List[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


__all__ = ["EWSElement", "display_value", "html_table", "html_caption", "ews_reference_url"]
