"""Evaluate EWS search expressions (Restriction) and a small AQS subset (QueryString).

Restrictions compile to predicates over stored item or folder elements. Values compare as their
XSD type says: xs:dateTime as instants (values without an offset are UTC), numbers numerically,
booleans as booleans, everything else as strings. String comparisons in IsEqualTo and the
relational operators ignore case, as Exchange's store does. A multi-valued property (Categories,
recipients, attendees, array extended properties) matches when any of its values matches; a
missing property matches only IsNotEqualTo and Not(...).
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/restriction

QueryString supports this AQS subset: words (prefix match on the words of Subject, Body,
sender, recipients and Categories, ignoring case), "quoted phrases", ``property:value`` for
subject, body, from, to, cc, bcc, participants, category/categories and attachment(s), the
operators AND, OR and NOT (upper case) and a leading '-' for negation. Terms separated by spaces
must all match; OR binds weaker than AND. Anything else is matched as a plain word.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/querystring-querystringtype
"""
from __future__ import annotations

import operator
import re
import unicodedata
from typing import Any, Callable, Iterable, List, Optional, Tuple, cast

from lxml import etree

from ...xml import TNS
from ..store import FolderRecord, ItemRecord
from .common import Path, child, children, err, find_path, local, parse_path
from .props import enum_values, html_to_text, parse_value, path_kind, path_values

T = f"{{{TNS}}}"

Predicate = Callable[[etree._Element], bool]

_RELOPS = {
    "IsEqualTo": operator.eq,
    "IsNotEqualTo": operator.ne,
    "IsGreaterThan": operator.gt,
    "IsGreaterThanOrEqualTo": operator.ge,
    "IsLessThan": operator.lt,
    "IsLessThanOrEqualTo": operator.le,
}


def compile_restriction(restriction: etree._Element, type_hint: str = "ItemType") -> Predicate:
    """Compile a ``Restriction`` element (whose single child is a search expression)."""
    exprs = children(restriction)
    if len(exprs) != 1:
        raise err("ErrorInvalidRestriction", "The restriction must contain exactly one search expression.")
    return compile_expression(exprs[0], type_hint)


def compile_expression(expr: etree._Element, type_hint: str = "ItemType") -> Predicate:
    name = local(expr)
    if name in ("And", "Or"):
        subs = [compile_expression(c, type_hint) for c in children(expr)]
        if not subs:
            raise err("ErrorInvalidRestriction", f"{name} needs at least one search expression.")
        if name == "And":
            return lambda el: all(p(el) for p in subs)
        return lambda el: any(p(el) for p in subs)
    if name == "Not":
        operands = children(expr)
        if len(operands) != 1:
            raise err("ErrorInvalidRestriction", "Not needs exactly one search expression.")
        inner = compile_expression(operands[0], type_hint)
        return lambda el: not inner(el)
    path = find_path(expr)
    if path is None:
        raise err("ErrorInvalidRestriction", f"{name} needs a property path.")
    if name == "Exists":
        return lambda el: bool(path_values(el, path)[1])
    if name == "Excludes":
        bitmask = child(expr, "Bitmask")
        try:
            mask = int(parse_value("number", bitmask.get("Value") if bitmask is not None else None))
        except (ValueError, TypeError):
            raise err("ErrorInvalidValueForProperty", "The Excludes bitmask is not a number.") from None
        return _excludes(path, mask)
    if name in _RELOPS:
        return _relop(expr, path, _RELOPS[name], name == "IsNotEqualTo", type_hint)
    if name == "Contains":
        return _contains(expr, path)
    raise err("ErrorUnsupportedQueryFilter", f"The search expression {name} is not supported.")


def _typed(el: etree._Element, path: Path) -> Tuple[str, List[Any]]:
    kind, raw = path_values(el, path)
    out = []
    for r in raw:
        try:
            out.append(_key(kind, parse_value(kind, r)))
        except ValueError:
            continue
    return kind, out


def _key(kind: str, value: Any) -> Any:
    return value.casefold() if kind == "string" and isinstance(value, str) else value


def _excludes(path: Path, mask: int) -> Predicate:
    def pred(el: etree._Element) -> bool:
        _kind, values = _typed(el, path)
        ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        return bool(ints) and all(v & mask == 0 for v in ints)

    return pred


def _relop(expr: etree._Element, path: Path, op: Callable[[Any, Any], bool], negative: bool,
           type_hint: str) -> Predicate:
    operand = child(expr, "FieldURIOrConstant")
    if operand is None or not children(operand):
        raise err("ErrorInvalidRestriction", "The comparison needs a FieldURIOrConstant.")
    target = children(operand)[0]
    kind = path_kind(type_hint, path)
    if local(target) == "Constant":
        raw = target.get("Value", "")
        enum = enum_values(path)
        try:
            if enum is not None:
                if raw not in enum:
                    raise ValueError(raw)
                raw = str(enum.index(raw))
            constant = _key(kind, parse_value(kind, raw))
        except ValueError:
            raise err("ErrorInvalidValueForProperty",
                      f"The value '{raw}' is not valid for property {path}.", field_uri=path) from None

        def pred(el: etree._Element) -> bool:
            _k, values = _typed(el, path)
            if negative:
                return all(_safe(op, v, constant) for v in values)
            return any(_safe(op, v, constant) for v in values)

        return pred
    other = parse_path(target)

    def pred2(el: etree._Element) -> bool:
        _k, left = _typed(el, path)
        _k2, right = _typed(el, other)
        if negative:
            return all(_safe(op, a, b) for a in left for b in right)
        return any(_safe(op, a, b) for a in left for b in right)

    return pred2


def _safe(op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    try:
        return bool(op(a, b))
    except TypeError:
        return op is operator.ne


def _fold(s: str, ignore_case: bool, ignore_nonspacing: bool, loose: bool) -> str:
    if ignore_nonspacing:
        s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
    if ignore_case:
        s = s.casefold()
    if loose:
        s = " ".join(s.split())
    return s


def _contains(expr: etree._Element, path: Path) -> Predicate:
    constant_el = child(expr, "Constant")
    if constant_el is None:
        raise err("ErrorInvalidRestriction", "Contains needs a Constant.")
    mode = expr.get("ContainmentMode", "FullString")
    comparison = expr.get("ContainmentComparison", "Exact")
    ignore_case = "IgnoreCase" in comparison or comparison.startswith("Loose")
    ignore_nonspacing = "NonSpac" in comparison or "IgnoreNonSpace" in comparison or comparison == "Loose"
    loose = comparison.startswith("Loose")
    needle = _fold(constant_el.get("Value", ""), ignore_case, ignore_nonspacing, loose)
    if mode == "FullString":
        def match(v: str) -> bool:
            return v == needle
    elif mode == "Prefixed":
        def match(v: str) -> bool:
            return v.startswith(needle)
    elif mode == "Substring":
        def match(v: str) -> bool:
            return needle in v
    elif mode == "PrefixOnWords":
        rx = re.compile(r"(?<!\w)" + re.escape(needle))

        def match(v: str) -> bool:
            return rx.search(v) is not None
    elif mode == "ExactPhrase":
        rx2 = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")

        def match(v: str) -> bool:
            return rx2.search(v) is not None
    else:
        raise err("ErrorInvalidRestriction", f"Unknown ContainmentMode {mode}.")

    def pred(el: etree._Element) -> bool:
        _kind, values = path_values(el, path, raw=True)
        return any(match(_fold(v, ignore_case, ignore_nonspacing, loose)) for v in values)

    return pred


# --- Search folders ------------------------------------------------------------------------------
def search_folder_items(folder: FolderRecord) -> List[ItemRecord]:
    """The items a client-created search folder shows (built-in search folders stay empty)."""
    if folder.search is None:
        return []
    pred, bases, deep = folder.search
    seen = set()
    out = []
    for base in bases:
        if base.key not in folder.mailbox.folders:
            continue
        scope = [base] + (list(base.walk()) if deep else [])
        for f in scope:
            if f.element_kind == "SearchFolder":
                continue
            for rec in f.items():
                if rec.key not in seen and pred(rec.elem):
                    seen.add(rec.key)
                    out.append(rec)
    return out


# --- QueryString (AQS subset) --------------------------------------------------------------------
_AQS_TOKEN = re.compile(r'(-)?(?:(\w+):)?(?:"([^"]*)"|(\S+))')
_AQS_FIELDS = {
    "subject": ("Subject",), "body": ("Body",), "from": ("From", "Sender"), "to": ("ToRecipients",),
    "cc": ("CcRecipients",), "bcc": ("BccRecipients",), "category": ("Categories",),
    "categories": ("Categories",), "participants": ("From", "Sender", "ToRecipients", "CcRecipients",
                                                    "BccRecipients"),
    "attachment": ("Attachments",), "attachments": ("Attachments",),
}
_AQS_DEFAULT = ("Subject", "Body", "From", "Sender", "ToRecipients", "CcRecipients", "Categories")


def _aqs_texts(el: etree._Element, names: Tuple[str, ...]) -> List[str]:
    out = []
    for n in names:
        for prop in el.findall(T + n):
            if n == "Body":
                text = prop.text or ""
                out.append(html_to_text(text) if prop.get("BodyType") == "HTML" else text)
            elif n == "Attachments":
                out.extend(a.findtext(T + "Name") or "" for a in prop)
            else:
                out.append(" ".join(t for t in cast(Iterable[str], prop.itertext())))
    return out


def compile_query_string(text: str) -> Predicate:
    """Compile the supported AQS subset (see the module docstring) into a predicate."""
    groups: List[List[Tuple[bool, Tuple[str, ...], str, bool]]] = [[]]
    negate_next = False
    for m in _AQS_TOKEN.finditer(text or ""):
        minus, prop, phrase, word = m.groups()
        if word in ("AND",) and not prop:
            continue
        if word == "OR" and not prop:
            groups.append([])
            continue
        if word == "NOT" and not prop:
            negate_next = True
            continue
        value = phrase if phrase is not None else word
        fields = _AQS_FIELDS.get((prop or "").lower(), _AQS_DEFAULT) if prop else _AQS_DEFAULT
        if prop and prop.lower() not in _AQS_FIELDS:
            value = f"{prop}:{value}"
        groups[-1].append((bool(minus) or negate_next, fields, value.casefold(), phrase is not None))
        negate_next = False
    groups = [g for g in groups if g]
    if not groups:
        return lambda el: True

    def term_matches(el: etree._Element, fields: Tuple[str, ...], value: str, is_phrase: bool) -> bool:
        rx = re.compile(r"(?<!\w)" + re.escape(value) + (r"(?!\w)" if is_phrase else ""))
        return any(rx.search(t.casefold()) for t in _aqs_texts(el, fields))

    def pred(el: etree._Element) -> bool:
        for group in groups:
            if all(term_matches(el, f, v, p) != neg for neg, f, v, p in group):
                return True
        return False

    return pred


def optional_restriction(parent: etree._Element, type_hint: str = "ItemType") -> Optional[Predicate]:
    r = child(parent, "Restriction")
    return compile_restriction(r, type_hint) if r is not None else None
