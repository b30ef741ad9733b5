"""User configuration objects: named settings stored in a folder (``IPM.Configuration.<name>``), such as Outlook's
category master list (``CategoryList`` in the Calendar) or OWA's settings (``OWA.UserOptions`` in the root).

A configuration has any of three parts: ``dictionary`` (a dict of typed values), ``xml_data`` and
``binary_data`` (bytes). Dictionary keys and values may be ``str``, ``bool``, ``int``, ``datetime`` (aware),
``bytes`` or a list of ``str``; they keep their type through a round trip (``int`` values outside 32 bits are
sent as Integer64).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/userconfiguration
"""
from __future__ import annotations

import base64
import datetime
from typing import Any, Dict, List, Optional

from lxml import etree

from ..ewsdatetime import EWSDateTime
from ..xml import MNS, TNS, Element

_T = f"{{{TNS}}}"

PROPERTIES = ("Id", "Dictionary", "XmlData", "BinaryData", "All")


def _typed(value: Any, where: str) -> tuple:
    """(EWS dictionary object type, list of value texts) for a Python value."""
    if isinstance(value, bool):
        return "Boolean", ["true" if value else "false"]
    if isinstance(value, int):
        if -2 ** 31 <= value < 2 ** 31:
            return "Integer32", [str(value)]
        if 0 <= value < 2 ** 64 and value >= 2 ** 63:
            return "UnsignedInteger64", [str(value)]
        if -2 ** 63 <= value < 2 ** 63:
            return "Integer64", [str(value)]
        raise ValueError(f"{where}: {value} doesn't fit in 64 bits")
    if isinstance(value, str):
        return "String", [value]
    if isinstance(value, (bytes, bytearray)):
        return "ByteArray", [base64.b64encode(bytes(value)).decode("ascii")]
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError(f"{where}: datetimes must be time zone aware")
        return "DateTime", [value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return "StringArray", list(value)
    raise TypeError(f"{where}: unsupported value type {type(value).__name__} (use str, bool, int, datetime, "
                    f"bytes or a list of str)")


def _untyped(kind: str, texts: List[str]) -> Any:
    first = texts[0] if texts else ""
    if kind == "Boolean":
        return first.strip() in ("true", "1")
    if kind in ("Integer32", "UnsignedInteger32", "Integer64", "UnsignedInteger64", "Byte"):
        return int(first)
    if kind == "ByteArray":
        return base64.b64decode(first)
    if kind == "DateTime":
        return EWSDateTime.from_string(first)
    if kind == "StringArray":
        return list(texts)
    return first


class UserConfiguration:
    """A named configuration object of a folder. ``id``/``changekey`` are read-only (the item holding it).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/userconfiguration
    """

    def __init__(self, name: str, dictionary: Optional[Dict[Any, Any]] = None, xml_data: Optional[bytes] = None,
                 binary_data: Optional[bytes] = None, id: Optional[str] = None, changekey: Optional[str] = None):
        if not isinstance(name, str) or not name:
            raise ValueError(f"A user configuration needs a non-empty name, got {name!r}")
        for pname, v in (("xml_data", xml_data), ("binary_data", binary_data)):
            if v is not None and not isinstance(v, (bytes, bytearray)):
                raise TypeError(f"UserConfiguration.{pname} must be bytes, got {type(v).__name__}")
        if dictionary is not None and not isinstance(dictionary, dict):
            raise TypeError(f"UserConfiguration.dictionary must be a dict, got {type(dictionary).__name__}")
        self.name = name
        self.dictionary = dictionary
        self.xml_data = bytes(xml_data) if xml_data is not None else None
        self.binary_data = bytes(binary_data) if binary_data is not None else None
        self.id = id
        self.changekey = changekey

    # --- XML ------------------------------------------------------------------------------------------
    def fill_xml(self, elem: Element, name_element: Element) -> None:
        """Write UserConfigurationName (given, holding the folder id), Dictionary, XmlData, BinaryData."""
        elem.append(name_element)
        if self.dictionary is not None:
            d = etree.SubElement(elem, f"{_T}Dictionary")
            for k, v in self.dictionary.items():
                entry = etree.SubElement(d, f"{_T}DictionaryEntry")
                for tag, value in (("DictionaryKey", k), ("DictionaryValue", v)):
                    obj = etree.SubElement(entry, f"{_T}{tag}")
                    if value is None and tag == "DictionaryValue":
                        obj.set("{http://www.w3.org/2001/XMLSchema-instance}nil", "true")
                        continue
                    kind, texts = _typed(value, f"UserConfiguration.dictionary[{k!r}]")
                    etree.SubElement(obj, f"{_T}Type").text = kind
                    for t in texts:
                        etree.SubElement(obj, f"{_T}Value").text = t
        for tag, data in (("XmlData", self.xml_data), ("BinaryData", self.binary_data)):
            if data is not None:
                etree.SubElement(elem, f"{_T}{tag}").text = base64.b64encode(data).decode("ascii")

    @classmethod
    def from_xml(cls, elem: Element) -> "UserConfiguration":
        name_el = elem.find(f"{_T}UserConfigurationName")
        name = name_el.get("Name", "") if name_el is not None else ""
        obj = cls(name or "?")
        item_id = elem.find(f"{_T}ItemId")
        if item_id is not None:
            obj.id, obj.changekey = item_id.get("Id"), item_id.get("ChangeKey")
        d = elem.find(f"{_T}Dictionary")
        if d is not None:
            out: Dict[Any, Any] = {}
            for entry in d.findall(f"{_T}DictionaryEntry"):
                key_el, value_el = entry.find(f"{_T}DictionaryKey"), entry.find(f"{_T}DictionaryValue")
                key = _untyped(key_el.findtext(f"{_T}Type") or "String",
                               [v.text or "" for v in key_el.findall(f"{_T}Value")]) if key_el is not None else None
                value = None
                if value_el is not None and value_el.find(f"{_T}Type") is not None:
                    value = _untyped(value_el.findtext(f"{_T}Type") or "String",
                                     [v.text or "" for v in value_el.findall(f"{_T}Value")])
                out[tuple(key) if isinstance(key, list) else key] = value
            obj.dictionary = out
        for tag, attr in (("XmlData", "xml_data"), ("BinaryData", "binary_data")):
            text = elem.findtext(f"{_T}{tag}")
            if text is not None:
                setattr(obj, attr, base64.b64decode(text))
        return obj

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UserConfiguration):
            return NotImplemented
        return (self.name, self.dictionary, self.xml_data, self.binary_data) == \
            (other.name, other.dictionary, other.xml_data, other.binary_data)

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}"]
        if self.dictionary is not None:
            parts.append(f"dictionary=<{len(self.dictionary)} entries>")
        for attr in ("xml_data", "binary_data"):
            v = getattr(self, attr)
            if v is not None:
                parts.append(f"{attr}=<{len(v)} bytes>")
        return f"UserConfiguration({', '.join(parts)})"


__all__ = ["UserConfiguration", "PROPERTIES", "MNS"]
