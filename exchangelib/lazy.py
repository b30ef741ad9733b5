"""Modules imported on first use, so that ``import exchangelib`` stays quick.

``requests`` (with urllib3, charset_normalizer, idna, certifi, http.client and email) is most of what
an import of the package would otherwise cost, yet nothing needs it before the first request. A module
that uses it writes::

    from typing import TYPE_CHECKING
    from .lazy import LazyModule

    if TYPE_CHECKING:
        import requests
    else:
        requests = LazyModule("requests")

and then uses ``requests.Session()``, ``requests.exceptions.SSLError``... as usual: the first attribute
access imports the real module (under the import lock, so threads are safe). Type checkers see the real
module. Classes that must subclass a lazily imported class live in :mod:`exchangelib.adapters`, which is
itself loaded on first use.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Callable, Generic, Optional, TypeVar

V = TypeVar("V")


class LazyModule:
    """Stands in for the module ``name`` until an attribute is read, then imports it and delegates."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module: Optional[ModuleType] = None

    def _load(self) -> ModuleType:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<LazyModule {self._name!r} ({state})>"


class LazyClassAttribute(Generic[V]):
    """A class attribute whose default value is computed on first read (e.g. from a lazily imported module).

    Assigning the attribute on the class (``BaseProtocol.HTTP_ADAPTER_CLS = MyAdapter``) replaces it with a
    plain value, as for any class attribute.
    """

    def __init__(self, compute: Callable[[], V]):
        self._compute = compute

    def __get__(self, obj: Any, owner: Any = None) -> V:
        return self._compute()
