"""Q objects and restrictions: boolean search expressions turned into EWS ``Restriction`` XML.

``Q(subject__icontains='foo') | ~Q(start__lt=dt)`` builds a small tree, like Django's Q. Lookups
are resolved against the item classes being searched, so a misspelt field, a lookup on a field that
isn't searchable, or a value of the wrong type raises before any request is sent.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/restriction
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Type

from .ewsdatetime import UTC, EWSDateTime
from .xml import Element, add_child, create_element

# Lookup names
LOOKUP_EXACT = "exact"
LOOKUP_IEXACT = "iexact"
LOOKUP_CONTAINS = "contains"
LOOKUP_ICONTAINS = "icontains"
LOOKUP_STARTSWITH = "startswith"
LOOKUP_ISTARTSWITH = "istartswith"
LOOKUP_IN = "in"
LOOKUP_NOT = "not"
LOOKUP_GT = "gt"
LOOKUP_GTE = "gte"
LOOKUP_LT = "lt"
LOOKUP_LTE = "lte"
LOOKUP_RANGE = "range"
LOOKUP_EXISTS = "exists"
LOOKUPS = (LOOKUP_EXACT, LOOKUP_IEXACT, LOOKUP_CONTAINS, LOOKUP_ICONTAINS, LOOKUP_STARTSWITH, LOOKUP_ISTARTSWITH,
           LOOKUP_IN, LOOKUP_NOT, LOOKUP_GT, LOOKUP_GTE, LOOKUP_LT, LOOKUP_LTE, LOOKUP_RANGE, LOOKUP_EXISTS)
_ORDERED = {LOOKUP_GT: "IsGreaterThan", LOOKUP_GTE: "IsGreaterThanOrEqualTo", LOOKUP_LT: "IsLessThan",
            LOOKUP_LTE: "IsLessThanOrEqualTo"}
_STRING_LOOKUPS = {LOOKUP_IEXACT: ("FullString", "IgnoreCase"), LOOKUP_CONTAINS: ("Substring", "Exact"),
                   LOOKUP_ICONTAINS: ("Substring", "IgnoreCase"), LOOKUP_STARTSWITH: ("Prefixed", "Exact"),
                   LOOKUP_ISTARTSWITH: ("Prefixed", "IgnoreCase")}


#: Deepest nesting of And/Or/Not groups sent to the server (after flattening chains of the same operator).
MAX_RESTRICTION_DEPTH = 50


class Q:
    """A node of a boolean search expression.

    Leaves hold one lookup (``field__lookup=value``); inner nodes combine children with AND, OR or NOT.
    ``Q()`` with no arguments matches everything.
    """

    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    NEVER = "NEVER"  # Matches nothing (from QuerySet.none())

    __slots__ = ("conn_type", "children", "field_path", "lookup", "value", "query_string")

    def __init__(self, *args: Any, conn_type: str = AND, **kwargs: Any):
        if conn_type not in (self.AND, self.OR, self.NOT, self.NEVER):
            raise ValueError(f"Q conn_type must be AND, OR, NOT or NEVER, got {conn_type!r}")
        self.conn_type = conn_type
        self.children: List[Q] = []
        self.field_path: Optional[str] = None
        self.lookup: Optional[str] = None
        self.value: Any = None
        self.query_string: Optional[str] = None
        for a in args:
            if isinstance(a, Q):
                self.children.append(a)
            elif isinstance(a, str):
                raise TypeError("Q() takes Q objects and keyword lookups; pass a query string to filter() instead")
            else:
                raise TypeError(f"Q() positional arguments must be Q objects, got {type(a).__name__}")
        leaves = [Q._leaf(k, v) for k, v in sorted(kwargs.items())]
        if len(leaves) == 1 and not self.children and conn_type == self.AND:
            leaf = leaves[0]
            self.field_path, self.lookup, self.value = leaf.field_path, leaf.lookup, leaf.value
        else:
            self.children.extend(leaves)

    @classmethod
    def _leaf(cls, key: str, value: Any) -> "Q":
        if not isinstance(key, str) or not key:
            raise ValueError(f"Invalid lookup {key!r}")
        parts = key.split("__")
        lookup = LOOKUP_EXACT
        if len(parts) > 1 and parts[-1] in LOOKUPS:
            lookup = parts.pop()
        q = cls.__new__(cls)
        q.conn_type = cls.AND
        q.children = []
        q.field_path = "__".join(parts)
        q.lookup = lookup
        q.value = value
        q.query_string = None
        if lookup == LOOKUP_RANGE:
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise ValueError(f"{key}: a range lookup needs a (start, end) pair, got {value!r}")
        if lookup == LOOKUP_IN and (isinstance(value, (str, bytes)) or not isinstance(value, Iterable)):
            raise ValueError(f"{key}: an 'in' lookup needs a list, tuple or set of values, got {value!r}")
        if lookup == LOOKUP_EXISTS and not isinstance(value, bool):
            raise ValueError(f"{key}: an 'exists' lookup needs True or False, got {value!r}")
        return q

    @property
    def is_leaf(self) -> bool:
        return self.field_path is not None

    def is_empty(self) -> bool:
        return not self.is_leaf and not self.children and self.conn_type in (self.AND, self.OR)

    def is_never(self) -> bool:
        return self.conn_type == self.NEVER

    # --- combining --------------------------------------------------------------------------------------
    def _combine(self, other: "Q", conn_type: str) -> "Q":
        if not isinstance(other, Q):
            raise TypeError(f"Cannot combine Q with {type(other).__name__}")
        if other.is_empty():
            return self
        if self.is_empty():
            return other
        # Flatten chains (a | b | c ..., or filter() after filter()) into one node, so thousands of terms
        # make a wide tree, not a deep one
        children: List[Q] = []
        for q in (self, other):
            if not q.is_leaf and q.conn_type == conn_type:
                children.extend(q.children)
            else:
                children.append(q)
        return Q._node(conn_type, children)

    @classmethod
    def _node(cls, conn_type: str, children: List["Q"]) -> "Q":
        """An inner node over known-good children, without re-checking each one."""
        q = cls.__new__(cls)
        q.conn_type = conn_type
        q.children = children
        q.field_path = q.lookup = q.value = q.query_string = None
        return q

    def __and__(self, other: "Q") -> "Q":
        return self._combine(other, self.AND)

    def __or__(self, other: "Q") -> "Q":
        return self._combine(other, self.OR)

    def __invert__(self) -> "Q":
        if self.conn_type == self.NOT and not self.is_leaf and len(self.children) == 1:
            return self.children[0]
        return Q(self, conn_type=self.NOT)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Q) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        try:
            return self._repr()
        except RecursionError:
            return f"Q(<{sum(1 for _ in self.leaves())} lookups nested too deep to show>)"

    def _repr(self) -> str:
        if self.is_leaf:
            return f"Q({self.field_path}__{self.lookup}={self.value!r})"
        if self.conn_type == self.NEVER:
            return "Q(NEVER)"
        if self.conn_type == self.NOT:
            return f"~{self.children[0]._repr()}" if len(self.children) == 1 else \
                f"NOT({', '.join(c._repr() for c in self.children)})"
        return f"{self.conn_type}({', '.join(c._repr() for c in self.children)})"

    # --- validation and XML -----------------------------------------------------------------------------
    def leaves(self) -> Iterable["Q"]:
        stack: List[Q] = [self]
        while stack:
            q = stack.pop()
            if q.is_leaf:
                yield q
            stack.extend(reversed(q.children))

    def normalized(self) -> "Q":
        """An equivalent Q without redundant nesting: nested AND in AND (and OR in OR) merged, single-child
        groups and double negations removed. Iterative, so any depth works. Raises ValueError when what is
        left is nested deeper than MAX_RESTRICTION_DEPTH."""
        done: Dict[int, Q] = {}
        depth: Dict[int, int] = {}
        stack: List[Tuple[Q, bool]] = [(self, False)]
        while stack:
            q, expanded = stack.pop()
            if q.is_leaf or q.conn_type == q.NEVER or not q.children:
                done[id(q)], depth[id(q)] = q, 0
                continue
            if not expanded:
                stack.append((q, True))
                stack.extend((c, False) for c in q.children if id(c) not in done)
                continue
            kids = [done[id(c)] for c in q.children]
            kid_depth = [depth[id(c)] for c in q.children]
            if q.conn_type == q.NOT:
                if len(kids) == 1 and not kids[0].is_leaf and kids[0].conn_type == q.NOT and len(kids[0].children) == 1:
                    inner = kids[0].children[0]
                    done[id(q)], depth[id(q)] = inner, max(kid_depth[0] - 2, 0)
                    continue
                new = Q._node(q.NOT, kids)
                done[id(q)], depth[id(q)] = new, max(kid_depth) + 1
                continue
            flat: List[Q] = []
            d = 0
            for k, kd in zip(kids, kid_depth):
                if k.is_empty():
                    continue
                if not k.is_leaf and k.conn_type == q.conn_type:
                    flat.extend(k.children)
                    d = max(d, kd)
                else:
                    flat.append(k)
                    d = max(d, kd + 1)
            if len(flat) == 1:
                done[id(q)], depth[id(q)] = flat[0], max(d - 1, 0)
            else:
                done[id(q)], depth[id(q)] = Q._node(q.conn_type, flat), d
        if depth[id(self)] > MAX_RESTRICTION_DEPTH:
            raise ValueError(f"The search expression is nested {depth[id(self)]} levels deep; EWS restrictions can "
                             f"be nested at most {MAX_RESTRICTION_DEPTH} levels. Chains of and/or are flattened "
                             f"automatically; simplify alternating and/or/not groups.")
        return done[id(self)]

    def to_xml(self, resolver: "FieldResolver", version: Any) -> Optional[Element]:
        """The search expression element (IsEqualTo, And, ...), or None when the Q matches everything.

        The Q is normalized first (see :meth:`normalized`): any width works, and a ValueError says when the
        nesting is too deep."""
        return self.normalized()._to_xml(resolver, version)

    def _to_xml(self, resolver: "FieldResolver", version: Any) -> Optional[Element]:
        if self.is_leaf:
            return _leaf_xml(self, resolver, version)
        if self.conn_type == self.NEVER:
            raise ValueError("A Q that matches nothing has no XML form; don't send the request at all")
        exprs = [e for e in (c._to_xml(resolver, version) for c in self.children) if e is not None]
        if self.conn_type == self.NOT:
            if len(exprs) != 1:
                inner = _group("t:And", exprs) if exprs else None
                if inner is None:
                    raise ValueError("~Q() (NOT of match-everything) matches nothing")
                exprs = [inner]
            elem = create_element("t:Not")
            elem.append(exprs[0])
            return elem
        if not exprs:
            return None
        if len(exprs) == 1:
            return exprs[0]
        return _group("t:And" if self.conn_type == self.AND else "t:Or", exprs)


def _group(name: str, exprs: Sequence[Element]) -> Element:
    elem = create_element(name)
    for e in exprs:
        elem.append(e)
    return elem


#: Names that reach an item's id and changekey (held together in the ``item:ItemId`` element).
ID_ALIASES = {"id": "id", "item_id": "id", "changekey": "changekey"}


class FieldPath:
    """A field, or one entry (or one part of an entry) of an indexed contact field, named by a path.

    Paths are what ``filter()``, ``order_by()``, ``only()`` and ``values()`` accept: ``'subject'``,
    ``'phone_numbers'`` (the whole dictionary), ``'phone_numbers__CarPhone'`` (one entry),
    ``'physical_addresses__Home__street'`` (one part of an entry), and ``'id'``/``'item_id'``/
    ``'changekey'``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/indexedfielduri
    """

    __slots__ = ("field", "label", "subfield", "attr")

    def __init__(self, field: Any, label: Optional[str] = None, subfield: Any = None, attr: Optional[str] = None):
        self.field = field
        self.label = label
        self.subfield = subfield
        self.attr = attr  # for the id aliases: the item attribute to read ('id' or 'changekey')

    @classmethod
    def from_string(cls, path: str, model_classes: Sequence[Type[Any]]) -> "FieldPath":
        """Resolve ``path`` against the model classes being searched (first class that has the field wins)."""
        if not isinstance(path, str) or not path:
            raise ValueError(f"A field path must be a non-empty str, got {path!r}")
        name, _, rest = path.partition("__")
        if name in ID_ALIASES and not rest:
            for klass in model_classes:
                f = klass.FIELDS.get("_id")
                if f is not None:
                    return cls(f, attr=ID_ALIASES[name])
        field = None
        for klass in model_classes:
            field = klass.FIELDS.get(name)
            if field is not None:
                break
        if field is None or name.startswith("_"):
            names = sorted({f.name for k in model_classes for f in k.FIELDS if not f.name.startswith("_")}
                           | set(ID_ALIASES))
            raise ValueError(f"Unknown field {name!r} for {'/'.join(c.__name__ for c in model_classes)}; "
                             f"valid fields are: {', '.join(names)}")
        if not rest:
            return cls(field)
        if not getattr(field, "is_indexed", False):
            raise ValueError(f"Field {name!r} is not an indexed field; cannot look up {rest!r} inside it "
                             f"(or {rest.split('__')[-1]!r} is not a lookup: valid lookups are {', '.join(LOOKUPS)})")
        label, _, sub_name = rest.partition("__")
        labels = field.labels
        if labels is not None and label not in labels:
            raise ValueError(f"Field {name!r}: label must be one of {sorted(labels)}, got {label!r}")
        subfield = None
        if sub_name:
            parts = {f.name: f for f in field.subfields}
            subfield = parts.get(sub_name)
            if subfield is None:
                raise ValueError(f"Field {name!r}: entries have no part {sub_name!r}"
                                 + (f"; parts are {sorted(parts)}" if parts else "; they hold a single value"))
        return cls(field, label, subfield)

    @property
    def path(self) -> str:
        """The path string this FieldPath stands for (canonical form)."""
        if self.attr is not None:
            return self.attr
        parts = [self.field.name]
        if self.label is not None:
            parts.append(self.label)
        if self.subfield is not None:
            parts.append(self.subfield.name)
        return "__".join(parts)

    @property
    def is_multipart(self) -> bool:
        """An entry of a dictionary whose entries have several parts (a postal address), no part named."""
        return self.label is not None and self.subfield is None and bool(self.field.subfields)

    @property
    def value_field(self) -> Any:
        """The field describing one compared value: the part, the entry's text, or the field itself."""
        if self.subfield is not None:
            return self.subfield
        if self.label is not None:
            text = self.field.value_cls._TEXT_FIELD
            return text if text is not None else self.field
        return self.field

    @property
    def is_text(self) -> bool:
        """The compared values are free text (not an enumeration, date, number...)."""
        f = self.value_field
        cls = f.value_cls
        return (isinstance(cls, type) and issubclass(cls, str) and getattr(f, "choices", None) is None
                and not getattr(f, "is_complex", False))

    @property
    def field_uri(self) -> Optional[str]:
        return self.field.field_uri

    def field_path_xml(self) -> Element:
        """The path element: ``t:FieldURI`` or ``t:IndexedFieldURI``."""
        if self.label is not None:
            return self.field.field_path_xml(self.label, self.subfield.name if self.subfield is not None else None)
        return self.field.field_path_xml()

    def expand(self) -> List["FieldPath"]:
        """The paths to request for this path's data: a multi-part entry asks for each of its parts."""
        if self.is_multipart:
            return [FieldPath(self.field, self.label, f) for f in self.field.subfields]
        return [self]

    def get_value(self, item: Any) -> Any:
        """This path's value on ``item``: one entry's text or part for indexed paths, None when absent."""
        if self.attr is not None:
            return getattr(item, self.attr)
        value = getattr(item, self.field.name, None)
        if self.label is None:
            return value
        for entry in value or ():
            if entry.label != self.label:
                continue
            if self.subfield is not None:
                return getattr(entry, self.subfield.name)
            text = type(entry)._TEXT_FIELD
            if text is not None and not self.field.subfields:
                return getattr(entry, text.name)
            return entry
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldPath) and (self.field, self.label, self.subfield, self.attr) == (
            other.field, other.label, other.subfield, other.attr)

    def __hash__(self) -> int:
        return hash((id(self.field), self.label, id(self.subfield), self.attr))

    def __repr__(self) -> str:
        return f"FieldPath({self.path!r})"


class FieldResolver:
    """Finds the FieldPath for a lookup path among the model classes being searched."""

    def __init__(self, model_classes: Sequence[Type[Any]]):
        self.model_classes = tuple(model_classes)

    def resolve(self, field_path: str) -> FieldPath:
        """The FieldPath for 'subject' or an indexed path like 'phone_numbers__CarPhone'."""
        return FieldPath.from_string(field_path, self.model_classes)


def _coerce(field: Any, value: Any) -> Any:
    """Expression strings carry dates as text: turn '2016-01-02T03:04:05[Z]' into the field's type.

    A date-time without an offset is taken as UTC, as Exchange takes restriction constants.
    """
    value_cls = getattr(field, "value_cls", None)
    if not isinstance(value, str) or value_cls is None or value_cls is str or not hasattr(value_cls, "from_string"):
        return value
    if value_cls is EWSDateTime:
        text = value[:-1] if value.endswith("TZ") else value  # tolerate the old README's '...:05T' typo form
        try:
            return EWSDateTime.from_string(text)
        except ValueError:
            return EWSDateTime.from_string(text, tz=UTC)
    return value_cls.from_string(value)


def _constant(fp: FieldPath, value: Any, version: Any, q: Q) -> str:
    field = fp.field if fp.label is None else fp.value_field
    try:
        if fp.label is not None:
            if not isinstance(value, str):
                raise TypeError(f"an entry of {fp.field.name!r} holds text; pass a str, got {type(value).__name__}")
            return field.to_constant(value, version) if field is not fp.field else value
        return field.to_constant(_coerce(field, value), version)
    except (TypeError, ValueError) as e:
        raise type(e)(f"Invalid value for lookup {q.field_path}__{q.lookup}: {e}") from None


def _compare(op: str, fp: FieldPath, value: Any, version: Any, q: Q) -> Element:
    elem = create_element(f"t:{op}")
    elem.append(fp.field_path_xml())
    c = add_child(elem, "t:FieldURIOrConstant")
    add_child(c, "t:Constant", {"Value": _constant(fp, value, version, q)})
    return elem


def _contains(mode: str, comparison: str, fp: FieldPath, value: Any, version: Any, q: Q) -> Element:
    elem = create_element("t:Contains", {"ContainmentMode": mode, "ContainmentComparison": comparison})
    elem.append(fp.field_path_xml())
    add_child(elem, "t:Constant", {"Value": _constant(fp, value, version, q)})
    return elem


def _equals(fp: FieldPath, value: Any, version: Any, q: Q) -> Element:
    """Equality. Exchange's IsEqualTo ignores case on strings, so text uses Contains(FullString, Exact)."""
    if fp.is_text:
        if not isinstance(value, str):
            raise TypeError(f"{q.field_path}__{q.lookup} needs str values, got {type(value).__name__} {value!r}")
        return _contains("FullString", "Exact", fp, value, version, q)
    return _compare("IsEqualTo", fp, value, version, q)


def _check_leaf_path(q: Q, fp: Any, version: Any) -> None:
    """Refuse a leaf whose field path cannot be searched on the server, saying what to search instead."""
    field = fp.field
    if fp.attr is not None or not field.is_searchable:
        raise ValueError(f"Field {fp.path!r} is not searchable on the server")
    if hasattr(field, "is_supported") and version is not None and not field.is_supported(version):
        raise ValueError(f"Field {field.name!r} is not supported by the server's version {version}")
    if fp.is_multipart:
        raise ValueError(f"{q.field_path}: entries of {field.name!r} have several parts; search one of them, e.g. "
                         f"{field.name}__{fp.label}__{field.subfields[0].name}")
    if fp.label is None and getattr(field, "is_indexed", False) and q.lookup != LOOKUP_EXISTS:
        labels = sorted(field.labels or ())
        raise ValueError(f"{q.field_path}: search one entry of {field.name!r}, e.g. "
                         f"{field.name}__{labels[0] if labels else 'Label'}"
                         + (f"__{field.subfields[0].name}" if field.subfields else ""))


def _exists_leaf(q: Q, fp: Any, version: Any) -> Element:
    exists = create_element("t:Exists")
    exists.append(fp.field_path_xml())
    return exists if q.value else _group("t:Not", [exists])


def _in_leaf(q: Q, fp: Any, version: Any) -> Element:
    values = list(q.value)
    if not values:
        raise ValueError(f"{q.field_path}__in: the list of values is empty; it would match nothing")
    exprs = [_equals(fp, v, version, q) for v in values]
    return exprs[0] if len(exprs) == 1 else _group("t:Or", exprs)


def _range_leaf(q: Q, fp: Any, version: Any) -> Element:
    start, end = q.value
    return _group("t:And", [_compare("IsGreaterThanOrEqualTo", fp, start, version, q),
                            _compare("IsLessThanOrEqualTo", fp, end, version, q)])


def _all_values_leaf(q: Q, fp: Any, version: Any) -> Element:
    # On a multi-valued property a comparison matches when any value matches. A list of values means
    # the item has every one of them.
    values = list(q.value)
    if not values:
        raise ValueError(f"{q.field_path}__{q.lookup}: empty list of values")
    exprs = [_equals(fp, v, version, q) for v in values]
    return exprs[0] if len(exprs) == 1 else _group("t:And", exprs)


def _exact_leaf(q: Q, fp: Any, version: Any) -> Element:
    return _equals(fp, q.value, version, q)


def _not_leaf(q: Q, fp: Any, version: Any) -> Element:
    if fp.is_text:
        return _group("t:Not", [_equals(fp, q.value, version, q)])
    return _compare("IsNotEqualTo", fp, q.value, version, q)


def _ordered_leaf(q: Q, fp: Any, version: Any) -> Element:
    return _compare(_ORDERED[str(q.lookup)], fp, q.value, version, q)


def _string_leaf(q: Q, fp: Any, version: Any) -> Element:
    lookup, value = str(q.lookup), q.value
    if not fp.is_text:
        raise ValueError(f"{q.field_path}__{lookup}: '{lookup}' works on text fields only; "
                         f"{fp.path!r} holds {fp.value_field._value_desc()}")
    if not isinstance(value, str):
        raise TypeError(f"{q.field_path}__{lookup} needs a str value, got {type(value).__name__}")
    mode, comparison = _STRING_LOOKUPS[lookup]
    return _contains(mode, comparison, fp, value, version, q)


_LEAF_BUILDERS: Dict[str, Callable[[Q, Any, Any], Element]] = {
    LOOKUP_EXISTS: _exists_leaf, LOOKUP_IN: _in_leaf, LOOKUP_RANGE: _range_leaf, LOOKUP_EXACT: _exact_leaf,
    LOOKUP_NOT: _not_leaf,
}


def _leaf_xml(q: Q, resolver: FieldResolver, version: Any) -> Element:
    assert q.field_path is not None  # only called for leaves
    fp = resolver.resolve(q.field_path)
    _check_leaf_path(q, fp, version)
    lookup = str(q.lookup)
    is_list = getattr(fp.field, "is_list", False) and fp.label is None
    if is_list and lookup in (LOOKUP_EXACT, LOOKUP_CONTAINS) and isinstance(q.value, (list, tuple, set, frozenset)):
        return _all_values_leaf(q, fp, version)
    builder = _LEAF_BUILDERS.get(lookup)
    if builder is None:
        builder = _ordered_leaf if lookup in _ORDERED else _string_leaf if lookup in _STRING_LOOKUPS else None
    if builder is None:  # pragma: no cover - LOOKUPS is exhaustive
        raise ValueError(f"Unsupported lookup {lookup!r}")
    return builder(q, fp, version)


def restriction_xml(q: Q, model_classes: Sequence[Type[Any]], version: Any) -> Optional[Element]:
    """An ``m:Restriction`` element for the Q, or None when it matches everything."""
    expr = q.to_xml(FieldResolver(model_classes), version)
    if expr is None:
        return None
    r = create_element("m:Restriction")
    r.append(expr)
    return r


# --- The Python-like expression language of the legacy find_items() API ----------------------------------
#
#   start < '2016-01-02T03:04:05Z' and end > '2016-01-01T03:04:05Z' and categories in ('foo', 'bar')
#   subject == 'foo' or not (subject startswith 'bar')   -- also: !=, <=, >=, "not in", "contains", "exists"
#
# Parsed with a small tokenizer and a recursive-descent parser: nothing is ever eval()'ed.

class ExpressionError(ValueError):
    """A search expression string could not be parsed. ``position`` is the 0-based offset of the problem."""

    def __init__(self, message: str, expression: str, position: int):
        pointer = f"\n  {expression}\n  {' ' * position}^"
        super().__init__(f"{message} at position {position}:{pointer}")
        self.expression = expression
        self.position = position


_COMPARISONS = {"==": LOOKUP_EXACT, "=": LOOKUP_EXACT, "!=": LOOKUP_NOT, "<": LOOKUP_LT, "<=": LOOKUP_LTE,
                ">": LOOKUP_GT, ">=": LOOKUP_GTE, "contains": LOOKUP_CONTAINS, "icontains": LOOKUP_ICONTAINS,
                "startswith": LOOKUP_STARTSWITH, "istartswith": LOOKUP_ISTARTSWITH, "iexact": LOOKUP_IEXACT}


def _tokenize(s: str) -> List[Tuple[str, Any, int]]:
    spec = [
        ("ws", r"\s+"), ("str", r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""), ("num", r"-?\d+(?:\.\d+)?(?![\w.:-])"),
        ("op", r"==|!=|<=|>=|<|>|="), ("lpar", r"\("), ("rpar", r"\)"), ("comma", r","),
        ("name", r"[A-Za-z_][A-Za-z0-9_]*"),
    ]
    regex = re.compile("|".join(f"(?P<{n}>{p})" for n, p in spec))
    tokens: List[Tuple[str, Any, int]] = []
    pos = 0
    while pos < len(s):
        m = regex.match(s, pos)
        if m is None:
            raise ExpressionError(f"Unexpected character {s[pos]!r}", s, pos)
        kind = m.lastgroup
        assert kind is not None  # every alternative of the regex is a named group
        text = m.group()
        if kind == "str":
            tokens.append(("value", re.sub(r"\\(.)", r"\1", text[1:-1]), pos))
        elif kind == "num":
            tokens.append(("value", float(text) if "." in text else int(text), pos))
        elif kind == "name" and text in ("True", "False", "None"):
            tokens.append(("value", {"True": True, "False": False, "None": None}[text], pos))
        elif kind != "ws":
            tokens.append((kind, text, pos))
        pos = m.end()
    tokens.append(("end", None, len(s)))
    return tokens


_MAX_PARSE_DEPTH = 200  # well below Python's recursion limit


class _Parser:
    def __init__(self, s: str):
        self.s = s
        self.tokens = _tokenize(s)
        self.i = 0
        self.depth = 0

    def peek(self) -> Tuple[str, Any, int]:
        return self.tokens[self.i]

    def take(self) -> Tuple[str, Any, int]:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def is_word(self, word: str) -> bool:
        kind, text, _ = self.peek()
        return kind == "name" and text == word

    def parse(self) -> Q:
        q = self.or_expr()
        kind, text, pos = self.peek()
        if kind != "end":
            raise ExpressionError(f"Unexpected {text!r}", self.s, pos)
        return q

    def or_expr(self) -> Q:
        q = self.and_expr()
        while self.is_word("or"):
            self.take()
            q = q | self.and_expr()
        return q

    def and_expr(self) -> Q:
        q = self.not_expr()
        while self.is_word("and"):
            self.take()
            q = q & self.not_expr()
        return q

    def not_expr(self) -> Q:
        kind, _, pos = self.peek()
        if self.is_word("not") or kind == "lpar":
            self.depth += 1
            if self.depth > _MAX_PARSE_DEPTH:
                raise ExpressionError(f"Parentheses and 'not' nested more than {_MAX_PARSE_DEPTH} deep", self.s, pos)
            try:
                if self.is_word("not"):
                    self.take()
                    return ~self.not_expr()
                self.take()
                q = self.or_expr()
                kind, text, pos = self.take()
                if kind != "rpar":
                    raise ExpressionError("Expected ')'", self.s, pos)
                return q
            finally:
                self.depth -= 1
        return self.comparison()

    def comparison(self) -> Q:
        kind, field, pos = self.take()
        if kind != "name" or field in ("and", "or", "not", "in"):
            raise ExpressionError(f"Expected a field name, got {field!r}", self.s, pos)
        kind, op, pos = self.take()
        negate = False
        if kind == "name" and op == "not":
            kind, op, pos2 = self.take()
            if not (kind == "name" and op == "in"):
                raise ExpressionError("Expected 'in' after 'not'", self.s, pos2)
            negate = True
        if kind == "name" and op == "exists":
            exists_kw: Dict[str, Any] = {f"{field}__exists": True}
            return Q(**exists_kw)
        if kind == "name" and op == "in":
            values = self.value_list()
            in_kw: Dict[str, Any] = {f"{field}__in": values}
            q = Q(**in_kw)
            return ~q if negate else q
        if kind not in ("op", "name") or op not in _COMPARISONS:
            raise ExpressionError(f"Expected a comparison operator after {field!r}, got {op!r}", self.s, pos)
        value = self.value()
        return Q(**{f"{field}__{_COMPARISONS[op]}": value})

    def value(self) -> Any:
        kind, value, pos = self.take()
        if kind != "value":
            raise ExpressionError(f"Expected a quoted string, a number, True, False or None, got {value!r}", self.s, pos)
        return value

    def value_list(self) -> List[Any]:
        kind, text, pos = self.take()
        if kind != "lpar":
            raise ExpressionError("Expected '(' to start a list of values", self.s, pos)
        values = [self.value()]
        while True:
            kind, text, pos = self.take()
            if kind == "rpar":
                return values
            if kind != "comma":
                raise ExpressionError("Expected ',' or ')' in a list of values", self.s, pos)
            if self.peek()[0] == "rpar":
                self.take()
                return values
            values.append(self.value())


def parse_expression(expression: str) -> Q:
    """Parse a Python-like search expression into a Q, safely (no eval). Raises ExpressionError."""
    if not isinstance(expression, str):
        raise TypeError(f"A search expression must be a str, got {type(expression).__name__}")
    if not expression.strip():
        raise ExpressionError("Empty search expression", expression, 0)
    return _Parser(expression).parse()


class Restriction:
    """A restriction for the legacy search API: built from a Q or a search expression string.

    >>> Restriction("subject == 'foo' and categories in ('a', 'b')").q
    AND(Q(subject__exact='foo'), Q(categories__in=['a', 'b']))
    """

    def __init__(self, q: Any):
        if isinstance(q, str):
            q = parse_expression(q)
        if not isinstance(q, Q):
            raise TypeError(f"Restriction needs a Q or an expression string, got {type(q).__name__}")
        self.q = q

    def to_xml(self, model_classes: Sequence[Type[Any]], version: Any) -> Optional[Element]:
        return restriction_xml(self.q, model_classes, version)

    def __repr__(self) -> str:
        return f"Restriction({self.q!r})"
