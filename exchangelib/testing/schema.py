"""Find and compile Microsoft's EWS XSDs for request/response validation.

The package ships Microsoft's schema files (``exchangelib/schema/``, see its ``NOTICE.md``), so
validation works wherever the package is installed. ``$EWS_SCHEMA_DIR`` overrides the shipped copy
(for example to validate against another server build's XSDs). The compiled schema is cached per
process; compiling takes a fraction of a second.
"""
from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import Any, FrozenSet, Iterable, Optional, Tuple, cast

from lxml import etree

_WRAPPER = b"""<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="http://www.w3.org/XML/1998/namespace" schemaLocation="xml-namespace.xsd"/>
  <xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/messages" schemaLocation="messages.xsd"/>
</xs:schema>"""

_lock = threading.Lock()


class SchemaNotFound(RuntimeError):
    """The EWS XSD files could not be found."""


#: The copy of Microsoft's EWS schema files shipped inside the package.
SHIPPED_SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schema"


def find_schema_dir() -> Optional[Path]:
    """Return the directory holding types.xsd and messages.xsd, or None.

    ``$EWS_SCHEMA_DIR`` when set (it must then hold the files: a wrong override is an error, not a
    silent fallback), else the copy shipped in the package.
    """
    env = os.environ.get("EWS_SCHEMA_DIR")
    if env:
        c = Path(env)
        if not ((c / "types.xsd").is_file() and (c / "messages.xsd").is_file()):
            raise SchemaNotFound(f"EWS_SCHEMA_DIR={env!r} has no types.xsd and messages.xsd; unset it to use the "
                                 f"schema files shipped with exchangelib")
        return c
    c = SHIPPED_SCHEMA_DIR
    if (c / "types.xsd").is_file() and (c / "messages.xsd").is_file():
        return c
    return None


@functools.lru_cache(maxsize=None)
def _compile(schema_dir: str) -> etree.XMLSchema:
    d = Path(schema_dir)
    if (d / "ews-all.xsd").is_file() and (d / "xml-namespace.xsd").is_file():
        return etree.XMLSchema(etree.parse(str(d / "ews-all.xsd")))
    if not (d / "xml-namespace.xsd").is_file():
        raise SchemaNotFound(f"{d} has no xml-namespace.xsd next to types.xsd; cannot compile the EWS schema offline")
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    wrapper = etree.fromstring(_WRAPPER, parser=parser, base_url=str(d / "wrapper.xsd"))
    return etree.XMLSchema(wrapper)


@functools.lru_cache(maxsize=None)
def _message_elements(schema_dir: str) -> FrozenSet[str]:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    tree = etree.parse(str(Path(schema_dir) / "messages.xsd"), parser=parser)
    xs = "{http://www.w3.org/2001/XMLSchema}"
    return frozenset(e.get("name", "") for e in tree.getroot().iterchildren(xs + "element"))


def message_elements(schema_dir: Path) -> FrozenSet[str]:
    """The global elements of messages.xsd: every operation (``GetItem`` ...) and response element."""
    return _message_elements(str(Path(schema_dir).resolve()))


def load_schema(schema_dir: Optional[Path] = None) -> etree.XMLSchema:
    """Compile (once per process) and return the EWS schema. Raises SchemaNotFound if absent."""
    d = schema_dir or find_schema_dir()
    if d is None:
        raise SchemaNotFound("EWS schema not found: set EWS_SCHEMA_DIR to a directory with types.xsd and messages.xsd")
    with _lock:  # libxml2 schema compilation is not guaranteed thread-safe
        return _compile(str(Path(d).resolve()))


def validate(elem: etree._Element, schema: Optional[etree.XMLSchema] = None) -> Tuple[bool, str]:
    """Validate one SOAP body child (e.g. m:GetFolder) or a t: header element.

    Returns (ok, error message). Thread-safe: XMLSchema.validate keeps state in error_log, so we
    serialise calls on one compiled schema.
    """
    schema = schema or load_schema()
    with _lock:
        ok = schema.validate(elem)
        err = "" if ok else "; ".join(f"line {e.line}: {e.message}" for e in cast(Iterable[Any], schema.error_log))
    return ok, err
