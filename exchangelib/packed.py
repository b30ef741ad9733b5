"""PackedFields: the instance dict of a parsed big model (an item), holding its field values in a list.

A parsed message sets about 36 of its 95 fields. An ordinary dict of 36 entries takes about 830 bytes (a
64-slot table of 16-byte entries). Here the values take 8 bytes each in a list of exactly their number, and
the field names live once, in an index shared by every object parsed with the same fields in the same order
(a "layout"): about 420 bytes in all. Objects with fewer than ``PACK_MIN`` values (a search with ``only()``)
stay plain dicts: a small dict is small already.

``PackedFields`` is a dict subclass, installed as the object's ``__dict__``, so everything that works with
the instance dict keeps working: reading, writing, deleting, ``in``, iteration, ``len()``, ``==``,
``copy()``, ``update()``, pickling (as a plain dict). A write to a packed field changes the list in place; a
new key goes to the dict itself. Attributes that are not fields (``account``, ``folder``...) always live in
the dict itself, where Python's own attribute lookup finds them; fields are read through their descriptors
(:class:`~exchangelib.fields.Field`), which look in the list first.
"""
from __future__ import annotations

from collections.abc import ItemsView, KeysView, Mapping, ValuesView
from typing import Any, Dict, Iterator, List, Tuple

#: Marks a packed field whose value was deleted.
MISSING: Any = object()

#: Field names in parse order -> their index (name -> position in the values list), shared by all objects
#: with that layout. Bounded: past the limit, new layouts get an index of their own.
_LAYOUTS: Dict[Tuple[str, ...], Dict[str, int]] = {}
_LAYOUTS_MAX = 1024
#: Objects with fewer values stay plain dicts: a small dict's table is small, and packing costs a little time.
PACK_MIN = 12
_new_dict = dict.__new__


class PackedFields(dict):
    """A dict whose packed keys (``_index``: name -> position) keep their values in ``_values``; other keys live
    in the dict itself. See the module's documentation."""

    __slots__ = ("_index", "_values")
    _index: Dict[str, int]
    _values: List[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Made like a dict (PackedFields(...), fromkeys()): nothing packed, everything in the dict itself
        self._index = {}
        self._values = []
        dict.__init__(self, *args, **kwargs)

    @classmethod
    def pack(cls, values: Dict[str, Any]) -> "PackedFields":
        """A PackedFields holding ``values`` (field names only: other attributes go in with ``dict.__setitem__``)."""
        names = tuple(values)
        index = _LAYOUTS.get(names)
        if index is None:
            index = {name: i for i, name in enumerate(names)}
            if len(_LAYOUTS) < _LAYOUTS_MAX:
                _LAYOUTS[names] = index
        obj = _new_dict(cls)
        obj._index = index
        obj._values = list(values.values())
        return obj

    # --- single keys ---------------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        i = self._index.get(key)
        if i is not None:
            v = self._values[i]
            if v is MISSING:
                raise KeyError(key)
            return v
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        i = self._index.get(key)
        if i is not None:
            v = self._values[i]
            return default if v is MISSING else v
        return dict.get(self, key, default)

    def __contains__(self, key: Any) -> bool:
        i = self._index.get(key)
        if i is not None:
            return self._values[i] is not MISSING
        return dict.__contains__(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        i = self._index.get(key)
        if i is not None:
            self._values[i] = value
        else:
            dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        i = self._index.get(key)
        if i is not None:
            if self._values[i] is MISSING:
                raise KeyError(key)
            self._values[i] = MISSING
        else:
            dict.__delitem__(self, key)

    def pop(self, key: Any, *default: Any) -> Any:
        i = self._index.get(key)
        if i is not None:
            v = self._values[i]
            if v is not MISSING:
                self._values[i] = MISSING
                return v
            if default:
                return default[0]
            raise KeyError(key)
        return dict.pop(self, key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        i = self._index.get(key)
        if i is not None:
            v = self._values[i]
            if v is MISSING:
                self._values[i] = v = default
            return v
        return dict.setdefault(self, key, default)

    # --- the whole mapping ---------------------------------------------------------------------------
    def _pairs(self) -> Iterator[Tuple[Any, Any]]:
        values = self._values
        for k, i in self._index.items():
            v = values[i]
            if v is not MISSING:
                yield k, v
        yield from dict.items(self)

    def __iter__(self) -> Iterator[Any]:
        return (k for k, _ in self._pairs())

    def __reversed__(self) -> Iterator[Any]:
        return reversed(list(self))

    def __len__(self) -> int:
        return sum(1 for v in self._values if v is not MISSING) + dict.__len__(self)

    def keys(self) -> KeysView:  # type: ignore[override]
        return KeysView(self)

    def values(self) -> ValuesView:  # type: ignore[override]
        return ValuesView(self)

    def items(self) -> ItemsView:  # type: ignore[override]
        return ItemsView(self)

    def copy(self) -> Dict[Any, Any]:
        """A plain dict with the same contents."""
        return dict(self._pairs())

    def update(self, other: Any = (), **kwargs: Any) -> None:  # type: ignore[override]
        if isinstance(other, Mapping):
            pairs: Any = other.items()
        elif hasattr(other, "keys"):
            pairs = [(k, other[k]) for k in other.keys()]
        else:
            pairs = other
        for k, v in pairs:
            self[k] = v
        for k, v in kwargs.items():
            self[k] = v

    def clear(self) -> None:
        self._values[:] = [MISSING] * len(self._values)
        dict.clear(self)

    def popitem(self) -> Tuple[Any, Any]:
        if dict.__len__(self):
            return dict.popitem(self)
        for k, i in reversed(list(self._index.items())):
            v = self._values[i]
            if v is not MISSING:
                self._values[i] = MISSING
                return k, v
        raise KeyError("popitem(): dictionary is empty")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self._pairs()) == (other if type(other) is dict else dict(other.items()))

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        out = dict(self._pairs())
        out.update(other.items())
        return out

    def __ror__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        out = dict(other.items())
        out.update(self._pairs())
        return out

    def __ior__(self, other: Any) -> "PackedFields":
        self.update(other)
        return self

    def __repr__(self) -> str:
        return repr(dict(self._pairs()))

    def __reduce__(self) -> Any:
        return dict, (dict(self._pairs()),)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.__reduce__()


__all__ = ["PackedFields", "MISSING"]
