"""Item bodies: :class:`Body` (plain text) and :class:`HTMLBody`, both ``str`` subclasses."""
from __future__ import annotations

from typing import Any, Optional

from lxml import etree

from ..fields import CharField

Element = etree._Element


class Body(str):
    """A plain-text body. Behaves like ``str``; ``body_type`` says how EWS should treat it.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/body
    """

    __slots__ = ()  # no per-instance dict
    body_type = "Text"

    def __add__(self, other: str) -> "Body":
        return type(self)(str.__add__(self, other))

    def __mod__(self, other: Any) -> "Body":
        return type(self)(str.__mod__(self, other))

    def format(self, *args: Any, **kwargs: Any) -> "Body":
        return type(self)(str.format(self, *args, **kwargs))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"


class HTMLBody(Body):
    """An HTML body: ``item.body = HTMLBody('<html><body>Hello</body></html>')``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/body
    """

    __slots__ = ()
    body_type = "HTML"


BODY_CLASSES = {"Text": Body, "HTML": HTMLBody}


class BodyField(CharField):
    """``<t:Body BodyType="HTML">...</t:Body>`` <-> :class:`Body` / :class:`HTMLBody`. Plain str becomes Body."""

    value_cls = Body

    def _clean_one(self, value: Any, where: str) -> Any:
        value = super()._clean_one(value, where)
        if not isinstance(value, Body):
            value = Body(value)
        return value

    def _fill(self, elem: Element, value: Any, version: Any) -> None:
        elem.set("BodyType", value.body_type)
        elem.text = str(value)

    def from_xml(self, elem: Element, account: Any = None) -> Any:
        return BODY_CLASSES.get(elem.get("BodyType", ""), Body)(elem.text or "")

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: Optional[str]) -> Any:
        return Body(text or "")


__all__ = ["Body", "HTMLBody", "BodyField", "BODY_CLASSES"]
