"""Logging helpers: pretty-printed (and highlighted) request/response XML, with secrets redacted.

Convention for code that logs XML (the transport does this at DEBUG level): pass one dict as the log
argument, with the XML bytes under keys starting with ``xml_`` and HTTP headers under keys ending with
``headers``::

    log.debug("EWS request to %(endpoint)s\\n%(request_headers)s\\n%(xml_request)s",
              {"endpoint": url, "request_headers": headers, "xml_request": body})

The XML may be bytes or text (the transport passes text, so any handler prints it readably);
:class:`PrettyXmlHandler` re-indents the XML, colours it when the stream is a terminal, and redacts secrets.
XML may also be attached as ``extra={"xml_response": body}``: the handler then prettifies that attribute (for
formatters using ``%(xml_response)s``) and any positional argument that is the same document
(``log.debug("Response:\\n%s", body.decode(), extra={"xml_response": body})``).

Secrets: the library's own messages never contain any, and :class:`SecretFilter` (attached on import to the
loggers of authentication libraries such as pyspnego, which logs NTLM messages at DEBUG level) redacts those
of others.

Usage::

    import logging
    from exchangelib.log import PrettyXmlHandler
    logging.basicConfig(level=logging.DEBUG, handlers=[PrettyXmlHandler()])

``PrettyXmlHandler(anonymize=True)`` also replaces email addresses, names, subjects and bodies by stable
placeholders, for logs you want to share.
"""
from __future__ import annotations

import logging
import os
import re
from typing import TYPE_CHECKING, Any, IO, Mapping, Optional, Union

from lxml import etree

from .lazy import LazyModule
from .xml import ParseError, parse, pretty_xml

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import hashlib
    import hmac
else:
    hashlib = LazyModule("hashlib")
    hmac = LazyModule("hmac")

__all__ = ["PrettyXmlHandler", "SecretFilter", "install_secret_filters", "redact_headers", "redact_xml", "redact_text",
           "anonymize_xml", "REDACTED"]

REDACTED = "********"

# Header names whose value is a secret, lower case.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
_SECRET_HEADER_WORDS = ("token", "secret", "password", "passwd", "auth", "cookie", "credential", "key")
_AUTH_SCHEMES = frozenset({"basic", "bearer", "ntlm", "negotiate", "digest", "kerberos"})

# XML element/attribute local names (lower case, without namespace) whose text is a secret.
_SECRET_NAME_RE = re.compile(
    r"(password|passwd|secret|token|assertion|credential|serializedsecuritycontext|sessionkey|cookie)",
    re.IGNORECASE)
# A fallback for text that isn't well-formed XML: JSON, form bodies, header dumps, broken XML.
_SECRET_TEXT_RES = (
    # <t:Password>...</t:Password>, <BinarySecret>...</BinarySecret>
    re.compile(r"(<(?P<tag>[\w.:-]*(?:password|passwd|secret|token|assertion|credential|sessionkey)[\w.:-]*)"
               r"(?:\s[^>]*)?>)[^<]*(</(?P=tag)\s*>)", re.IGNORECASE),
    # "access_token": "...", access_token=..., password: ...  (group 2 is the name, checked in redact_text)
    re.compile(r"""(["']?\b([\w-]*(?:password|passwd|secret|token|assertion)[\w-]*)\b["']?\s*[:=]\s*["']?)"""
               r"""([^"'&\s,;{}\[<]+)""", re.IGNORECASE),
    # Authorization: Basic ...  (keep the scheme, drop the credentials)
    re.compile(r"((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:basic|bearer|ntlm|negotiate|digest)\s+)?)"
               r"([^\"'\r\n,}]+)", re.IGNORECASE),
    re.compile(r"((?:set-)?cookie[\"']?\s*[:=]\s*[\"']?)([^\"'\r\n}]+)", re.IGNORECASE),
)
# Authentication tokens that can turn up anywhere in a message (e.g. pyspnego's DEBUG log of each NTLM step):
# NTLM messages (base64 of "NTLMSSP\0..."), the base64 payload after an auth scheme name, the step tokens that
# pyspnego logs, and JSON Web Tokens (OAuth access tokens).
_TOKEN_RES = (
    re.compile(r"TlRMTVNTUA[A-Za-z0-9+/]*={0,2}"),
    re.compile(r"(\b(?:Bearer|Basic|NTLM|Negotiate|Kerberos)\s+)([A-Za-z0-9+/._~-]{8,}={0,2})"),
    re.compile(r"(\b(?:step|TSRequest) (?:input|output): )([A-Za-z0-9+/]{8,}={0,2})"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
)

# Elements whose text is personal content, replaced when anonymizing (local names).
_PERSONAL_ELEMENTS = frozenset({
    "Subject", "ConversationTopic", "Body", "TextBody", "UniqueBody", "NormalizedBody", "Preview", "MimeContent",
    "Content", "Name", "DisplayName", "DisplayTo", "DisplayCc", "Location", "GivenName", "Surname", "Initials",
    "MiddleName", "Nickname", "CompanyName", "JobTitle", "Department", "Notes", "Value", "PersonalNotes",
    "AssistantName", "Manager", "SpouseName", "InternetMessageHeader", "Organizer", "Categories", "String",
    "QueryString", "UnresolvedEntry", "FileName", "InternetMessageId", "References",
})
# (element, attribute) local names whose value is personal: the values searched for in restrictions, names of
# attachments.
_PERSONAL_ATTRIBUTES = frozenset({("Constant", "Value"), ("FileAttachment", "Name"), ("ItemAttachment", "Name")})
_EMAIL_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _is_secret_header(name: str) -> bool:
    lower = name.lower()
    if lower in _SECRET_HEADERS or "authorization" in lower:
        return True
    return lower.startswith("x-") and any(word in lower for word in _SECRET_HEADER_WORDS)


def redact_headers(headers: Optional[Mapping[str, Any]]) -> dict:
    """Return a copy of HTTP headers with secret values replaced by ``'********'``.

    Authorization and Proxy-Authorization keep their scheme ('Bearer ********'); Cookie, Set-Cookie and
    X-... headers that look like tokens, keys or secrets are replaced entirely. Tokens in WWW-Authenticate
    (an NTLM challenge, a Kerberos answer) are redacted, the challenge parameters kept.
    """
    if headers is None:
        return {}
    result = {}
    for name, value in headers.items():
        if str(name).lower().endswith("-authenticate"):
            # WWW-Authenticate may carry an NTLM challenge or a Kerberos mutual-authentication token
            text = value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)
            result[name] = redact_text(text)
            continue
        if not _is_secret_header(str(name)):
            result[name] = value
            continue
        text = value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)
        scheme = text.split(" ", 1)[0]
        result[name] = f"{scheme} {REDACTED}" if scheme.lower() in _AUTH_SCHEMES and " " in text else REDACTED
    return result


def _redact_named_value(match: "re.Match[str]") -> str:
    if match.group(2).lower().endswith(("type", "_in", "expiry", "expires", "date", "id")):
        return match.group(0)  # token_type, expires_in, PasswordExpirationDate... describe, don't hold, a secret
    return f"{match.group(1)}{REDACTED}"


def _redact_token_after_scheme(match: "re.Match[str]") -> str:
    token = match.group(2)
    # A token has digits or base64 punctuation, or mixes cases; 'NTLM authentication' is just prose.
    looks_encoded = any(c.isdigit() or c in "+/=" for c in token) or (
        len(token) >= 16 and not token.islower() and not token.isupper() and not token.istitle())
    return f"{match.group(1)}{REDACTED}" if looks_encoded else match.group(0)


def redact_text(text: str) -> str:
    """Redact secrets that appear in free text: auth headers, cookies, tokens in JSON/form bodies, XML."""
    xml_elements, named_values, authorization, cookies = _SECRET_TEXT_RES
    text = xml_elements.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
    text = named_values.sub(_redact_named_value, text)
    text = authorization.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = cookies.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    ntlm, after_scheme, steps, jwt = _TOKEN_RES
    text = ntlm.sub(REDACTED, text)
    text = after_scheme.sub(_redact_token_after_scheme, text)
    text = steps.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return jwt.sub(REDACTED, text)


class SecretFilter(logging.Filter):
    """A logging filter that redacts secrets in the messages of the logger it is attached to.

    The library's own loggers never log secrets. Some libraries it uses for authentication do, at DEBUG
    level: pyspnego logs every NTLM/SPNEGO message in base64, and an NTLM authenticate message is enough
    to attack the password offline. :func:`install_secret_filters` attaches this filter to those loggers
    (it is done when :mod:`exchangelib` is imported), so a ``logging.basicConfig(level=logging.DEBUG)``
    shows that authentication happened, but not the tokens.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logging module's business, not ours
            return True
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


#: Loggers of third-party authentication libraries that log tokens or NTLM messages at DEBUG level.
#: A filter on a logger only sees records created by that very logger, so each module's logger is named.
THIRD_PARTY_SECRET_LOGGERS = (
    "spnego", "spnego._ntlm", "spnego._negotiate", "spnego._gss", "spnego._sspi", "spnego._credssp",
    "spnego._context", "requests_ntlm", "requests_ntlm.requests_ntlm", "requests_kerberos",
    "requests_kerberos.kerberos_", "requests_oauthlib", "requests_oauthlib.oauth2_session", "oauthlib",
    "oauthlib.oauth2.rfc6749.clients.base", "msal", "msal.application", "msal.token_cache",
    "urllib3.connectionpool",
)
_SECRET_FILTER = SecretFilter()


def install_secret_filters(names: "tuple[str, ...]" = THIRD_PARTY_SECRET_LOGGERS) -> None:
    """Attach a :class:`SecretFilter` to the named loggers (idempotent; imports none of those libraries)."""
    for name in names:
        logger = logging.getLogger(name)
        if _SECRET_FILTER not in logger.filters:
            logger.addFilter(_SECRET_FILTER)


# Names that match _SECRET_NAME_RE but describe a secret rather than hold one (PasswordExpirationDate, TokenType).
_NOT_SECRET_SUFFIXES = ("Date", "Type", "Attempted", "Completed", "Source", "Requests", "Request", "Id")


def _is_secret_name(name: str) -> bool:
    local = _local(name)
    return bool(_SECRET_NAME_RE.search(local)) and not local.endswith(_NOT_SECRET_SUFFIXES)


def _redact_tree(root: etree._Element) -> bool:
    changed = False
    for elem in root.iter():
        if not isinstance(elem.tag, str):
            continue
        # Only leaves hold values; a container's secret children are matched by their own names.
        if not len(elem) and elem.text and _is_secret_name(elem.tag):
            elem.text = REDACTED
            changed = True
        for attr in elem.attrib:
            if _is_secret_name(str(attr)):
                elem.set(attr, REDACTED)
                changed = True
    return changed


def _serialize_like(root: etree._Element, original: bytes) -> bytes:
    return etree.tostring(root, encoding="utf-8", xml_declaration=original.lstrip().startswith(b"<?xml"))


def redact_xml(data: Union[bytes, str]) -> bytes:
    """Return the XML with the text of password/secret/token elements and attributes replaced by '********'.

    Matches element and attribute names containing password, secret, token, assertion or credential (e.g.
    ``BinarySecret``, ``t:Password``, ``access_token``). Input that isn't well-formed XML (JSON token responses,
    form bodies) is redacted textually instead.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        root = parse(raw)
    except ParseError:
        return redact_text(raw.decode("utf-8", errors="replace")).encode("utf-8")
    if not _redact_tree(root):
        return raw
    return _serialize_like(root, raw)


class _Anonymizer:
    """Stable placeholders for personal data: equal inputs get equal placeholders within one handler.

    Placeholders are a keyed hash with a random per-instance key, so they can't be reversed by guessing.
    """

    def __init__(self) -> None:
        self._key = os.urandom(16)

    def _digest(self, value: str) -> str:
        return hmac.new(self._key, value.casefold().encode("utf-8"), hashlib.sha256).hexdigest()[:8]

    def email(self, match: "re.Match[str]") -> str:
        return f"user-{self._digest(match.group(0))}@example.invalid"

    def text(self, kind: str, value: str) -> str:
        return f"[{kind} {self._digest(value)}]"

    def emails_in(self, value: str) -> str:
        return _EMAIL_RE.sub(self.email, value)

    def tree(self, root: etree._Element) -> None:
        for elem in root.iter():
            if not isinstance(elem.tag, str):
                continue
            local = _local(elem.tag)
            if local in _PERSONAL_ELEMENTS and elem.text and elem.text.strip() and not len(elem):
                elem.text = self.text(local, elem.text)
            elif elem.text:
                elem.text = self.emails_in(elem.text)
            if elem.tail:
                elem.tail = self.emails_in(elem.tail)
            for attr, value in elem.attrib.items():
                value = str(value)
                if (local, _local(attr)) in _PERSONAL_ATTRIBUTES and value.strip():
                    elem.set(attr, self.text(_local(attr), value))
                    continue
                new = self.emails_in(value)
                if new != value:
                    elem.set(attr, new)


def anonymize_xml(data: Union[bytes, str], anonymizer: Optional[_Anonymizer] = None) -> bytes:
    """Replace email addresses, names, subjects, bodies and similar personal text by placeholders.

    Secrets are redacted too. Pass the same ``anonymizer`` to keep placeholders stable across documents.
    """
    anonymizer = anonymizer or _Anonymizer()
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        root = parse(raw)
    except ParseError:
        return anonymizer.emails_in(redact_text(raw.decode("utf-8", errors="replace"))).encode("utf-8")
    _redact_tree(root)
    anonymizer.tree(root)
    return _serialize_like(root, raw)


def _as_bytes(value: Union[bytes, bytearray, str]) -> bytes:
    return value.encode("utf-8", errors="replace") if isinstance(value, str) else bytes(value)


class PrettyXmlHandler(logging.StreamHandler):
    """A StreamHandler that pretty-prints the XML in log records and redacts secrets.

    XML is found in a record's dict argument under keys starting with ``xml_`` (or in such ``extra``
    attributes); header dicts under keys ending with ``headers`` are redacted with :func:`redact_headers`,
    and the final message is passed through :func:`redact_text` as a safety net.

    :param stream: where to write (default ``sys.stderr``).
    :param anonymize: also replace email addresses, names, subjects and bodies by stable placeholders.
    :param highlight: colour the XML with pygments; the default (None) colours only when the stream is a TTY.
    """

    def __init__(self, stream: Optional[IO[str]] = None, *, anonymize: bool = False,
                 highlight: Optional[bool] = None) -> None:
        super().__init__(stream)
        self.anonymize = anonymize
        self.highlight = highlight
        self._anonymizer = _Anonymizer()

    def is_tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty and isatty())
        except (ValueError, OSError):  # closed stream
            return False

    def _use_colour(self) -> bool:
        return self.is_tty() if self.highlight is None else self.highlight

    def prettify_xml(self, data: Union[bytes, bytearray, str]) -> str:
        """Redact (and maybe anonymize), re-indent and maybe highlight one XML document; returns text.

        Data that isn't XML (e.g. a JSON token response) is redacted textually and returned as is.
        """
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        cleaned = anonymize_xml(raw, self._anonymizer) if self.anonymize else redact_xml(raw)
        pretty = pretty_xml(cleaned)
        text = pretty.decode("utf-8", errors="replace").rstrip("\n")
        # pretty_xml returns its input unchanged when it isn't XML; don't colour JSON and the like as XML
        is_xml = pretty != cleaned or cleaned.lstrip().startswith(b"<")
        if is_xml and self._use_colour():
            text = self.highlight_xml(text)
        return text

    @staticmethod
    def highlight_xml(text: str) -> str:
        """Colour XML for a terminal with pygments."""
        # pygments is imported here, on first use, so that `import exchangelib` stays fast.
        from pygments import highlight
        from pygments.formatters.terminal import TerminalFormatter
        from pygments.lexers.html import XmlLexer

        return highlight(text, XmlLexer(), TerminalFormatter()).rstrip("\n")

    def _clean_text(self, value: str) -> str:
        value = redact_text(value)
        return self._anonymizer.emails_in(value) if self.anonymize else value

    def _clean_value(self, key: str, value: Any) -> Any:
        if key.startswith("xml_") and isinstance(value, (bytes, bytearray, str)):
            return self.prettify_xml(value)
        if key.endswith("headers") and isinstance(value, Mapping):
            return redact_headers(value)
        return value

    def prepare_record(self, record: logging.LogRecord) -> logging.LogRecord:
        """Return a copy of ``record`` whose message has its XML prettified and its secrets redacted.

        The message is formatted with the XML replaced by markers, redacted with :func:`redact_text` (and
        anonymized if asked), and then the cleaned XML is put in place of the markers.
        """
        new = logging.makeLogRecord(record.__dict__)
        xml_parts: dict = {}

        def marker_for(value: Union[bytes, bytearray, str]) -> str:
            marker = f"\x00xml{len(xml_parts)}\x00"
            xml_parts[marker] = self.prettify_xml(value)
            return marker

        # XML passed as extra attributes: prettify them for formatters that use %(xml_...)s, and also where the
        # same document is a positional argument of the message.
        extras = {key: value for key, value in record.__dict__.items()
                  if key.startswith("xml_") and isinstance(value, (bytes, bytearray, str))}
        extra_markers = {}
        for key, value in extras.items():
            marker = marker_for(value)
            extra_markers[_as_bytes(value)] = marker
            setattr(new, key, xml_parts[marker])
        for key, value in record.__dict__.items():
            if key.endswith("headers"):
                setattr(new, key, self._clean_value(key, value))

        if isinstance(record.args, Mapping):
            args = {}
            for name, arg in record.args.items():
                if str(name).startswith("xml_") and isinstance(arg, (bytes, bytearray, str)):
                    args[name] = marker_for(arg)
                else:
                    args[name] = self._clean_value(str(name), arg)
            new.args = args
        elif isinstance(record.args, tuple) and extra_markers:
            new.args = tuple(
                extra_markers.get(_as_bytes(a), a) if isinstance(a, (bytes, bytearray, str)) else a
                for a in record.args
            )
        message = self._clean_text(new.getMessage())
        for marker, xml in xml_parts.items():
            message = message.replace(marker, xml)
        new.msg, new.args = message, None
        return new

    def format(self, record: logging.LogRecord) -> str:
        return super().format(self.prepare_record(record))


install_secret_filters()
