"""GetAttachment: fetch attachments by id, whole or as a stream of bytes.

:meth:`GetAttachment.call` returns attachment objects (a file's ``content``, an attached item with
all its properties). :meth:`GetAttachment.stream_file_content` reads one file attachment's content
straight off the HTTP response, decoding the base64 ``<t:Content>`` text as it arrives, so a file of
any size passes through a few hundred kilobytes of memory. The stream has the protections of a normal
request, adapted to a download that may rightly be big and slow: a :class:`~exchangelib.httpio.StreamDeadline`
(no stall longer than min(TIMEOUT, deadline), at least ``min_stream_rate`` on average after ``deadline``
seconds, the consumer's own time not counted) and the ``max_attachment_stream_size`` cap. A stream that
breaks, stalls or overflows raises; it never ends quietly with part of the file.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getattachment-operation
"""
from __future__ import annotations

import base64
import binascii
import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, cast

from lxml import etree

from ..errors import DeadlineExceededError, EWSError, MalformedResponseError, ResponseTooLargeError, TransportError
from ..httpio import StreamDeadline, iter_capped
from ..lazy import LazyModule
from ..properties.attachments import ATTACHMENT_CLASSES
from ..retry import Retriable
from ..soap import response_message_error
from ..transport import OAUTH2, bearer_token_of, refresh_credentials, wrap
from ..xml import MNS, SOAPNS, TNS, Element, add_child, create_element
from .common import EWSService, Result
from .delete_attachment import attachment_id_text, attachment_ids_xml

if TYPE_CHECKING:
    import requests
    import urllib3.exceptions
else:
    requests = LazyModule("requests")  # imported with the first request, not by ``import exchangelib``
    urllib3 = LazyModule("urllib3")

log = logging.getLogger(__name__)

_ATTACHMENTS = f"{{{MNS}}}Attachments"
_CLASSES = {c.qualified_tag(): c for c in ATTACHMENT_CLASSES}

#: Bytes read from the socket at a time while streaming.
STREAM_CHUNK_SIZE = 64 * 1024


class GetAttachment(EWSService):
    """``GetAttachment(account=...).call(ids)`` yields, per id, the attachment (FileAttachment with content,
    ItemAttachment with its item) or the exception. Ids are attachments, AttachmentId objects or id strings."""

    SERVICE_NAME = "GetAttachment"
    CHUNK_SIZE = 10  # attachments are big: fewer per request

    def call(self, ids: Iterable[Any], include_mime_content: bool = False, body_type: Optional[str] = None,
             additional_fields: Optional[Iterable[Any]] = None) -> Iterator[Result]:
        extra = list(additional_fields or ())

        def payload(chunk: List[str]) -> Element:
            return self._payload(chunk, include_mime_content, body_type, extra)

        return self.chunked(ids, payload, prepare=attachment_id_text)

    @staticmethod
    def _payload(ids: List[str], include_mime_content: bool = False, body_type: Optional[str] = None,
                 additional_fields: Iterable[Any] = ()) -> Element:
        elem = create_element("m:GetAttachment")
        shape = add_child(elem, "m:AttachmentShape")
        if include_mime_content:
            add_child(shape, "t:IncludeMimeContent", text="true")
        if body_type:
            add_child(shape, "t:BodyType", text=body_type)
        paths = [f if isinstance(f, etree._Element) else f.field_path_xml() for f in additional_fields]
        if paths:
            props = add_child(shape, "t:AdditionalProperties")
            for p in paths:
                props.append(p)
        elem.append(attachment_ids_xml(ids))
        return elem

    def parse_message(self, msg: Element) -> List[Any]:
        container = msg.find(_ATTACHMENTS)
        if container is None:
            return [None]
        for child in container:
            cls = _CLASSES.get(child.tag)
            if cls is not None:
                return [cls.from_xml(child, account=self.account)]
        return [None]

    # --- streaming ----------------------------------------------------------------------------------
    def stream_file_content(self, attachment: Any,
                            on_metadata: Optional[Callable[[Element], None]] = None) -> Iterator[bytes]:
        """Yield the decoded content of one file attachment in chunks, never holding it whole.

        Raises the EWS exception if the server refuses (e.g. ErrorInvalidAttachmentId) before any byte
        is yielded. Stopping early (closing the generator) closes the HTTP connection. When the whole
        answer was read, ``on_metadata`` gets a ``t:FileAttachment`` element with every other field the
        server returned (name, content type, size ...), without the content.
        """
        attachment_id = attachment_id_text(attachment)
        protocol = self.protocol
        kwargs: Dict[str, Any] = self.account.soap_header_kwargs() if self.account is not None else {}
        headers: Dict[str, str] = {}
        anchor = kwargs.pop("anchor_mailbox", None)
        if anchor:
            headers["X-AnchorMailbox"] = anchor
        if kwargs.get("impersonation"):
            headers["X-AnchorMailbox"] = kwargs["impersonation"][1]
        data = wrap(self._payload([attachment_id]), self.version.api_version, **kwargs)
        # Only the request (up to the response headers) is retried; a stream that fails midway raises.
        session, response, deadline = protocol.retry_policy.run(lambda: self._open_stream(data, headers))
        parser = _ContentStreamParser(self.SERVICE_NAME)
        limit = protocol.max_attachment_stream_size
        ok = False
        try:
            t0 = time.monotonic()
            total = 0
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > limit:
                raise ResponseTooLargeError(f"The response is larger than the limit of {limit} bytes", limit=limit)
            for raw in iter_capped(response.raw, response.headers.get("Content-Encoding", ""), limit, deadline,
                                   STREAM_CHUNK_SIZE, partial=True):
                for out in parser.feed(raw):
                    total += len(out)
                    deadline.pause()  # the consumer's time with a chunk is not the server's
                    yield out
                    deadline.resume()
            if deadline.expired:  # the body "ended" because the deadline shut the connection down
                raise self._stream_deadline_error(deadline)
            deadline.disarm()
            for out in parser.close():
                total += len(out)
                yield out
            ok = True
            if on_metadata is not None:
                on_metadata(parser.metadata())
            log.debug("GetAttachment streamed %d bytes in %.3fs", total, time.monotonic() - t0)
        except ResponseTooLargeError as e:
            raise ResponseTooLargeError(
                f"The {self.SERVICE_NAME} stream from {protocol.service_endpoint} was stopped: {e}; the download is "
                f"incomplete. If the attachment is legitimately that big, raise the protocol's "
                f"max_attachment_stream_size.", limit=e.limit) from e
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError,
                MalformedResponseError) as e:
            if deadline.expired:
                raise self._stream_deadline_error(deadline) from e
            if isinstance(e, MalformedResponseError):
                raise
            raise TransportError(f"The connection to {protocol.service_endpoint} broke while streaming an "
                                 f"attachment ({type(e).__name__}: {e}); the download is incomplete") from e
        finally:
            deadline.disarm()
            response.close()
            if ok:
                protocol.release_session(session)
            else:
                protocol.retire_session(session)

    def _stream_deadline_error(self, deadline: StreamDeadline) -> DeadlineExceededError:
        protocol = self.protocol
        if deadline.cause == "rate":
            what = (f"got only {deadline.received} bytes, slower than the minimum of {protocol.min_stream_rate:g} "
                    f"bytes/s allowed after its deadline of {protocol.deadline:g} s")
            knobs = "the protocol's deadline or lower its min_stream_rate"
        else:
            what = f"sent nothing for {deadline.stall:g} s, its stall limit (min(TIMEOUT, deadline))"
            knobs = "the protocol's deadline (and TIMEOUT)"
        return DeadlineExceededError(
            f"The {self.SERVICE_NAME} stream from {protocol.service_endpoint} {what}, so the download was "
            f"abandoned and nothing more of it is returned. The server is too slow or stalled; raise {knobs} if "
            f"it is just busy.", deadline=protocol.deadline)

    def _open_stream(self, data: bytes, headers: Dict[str, str], refreshed: bool = False) -> Any:
        """POST with a streamed response; returns (session, response, deadline) for a 200, raises otherwise.

        The deadline is armed from the moment the request is sent, so reaching the response headers counts
        against it too."""
        protocol = self.protocol
        session = protocol.get_session()
        deadline = StreamDeadline(protocol.deadline, protocol.min_stream_rate, stall=protocol.TIMEOUT)
        deadline.arm()
        try:
            with deadline.tracking():
                r = session.post(protocol.service_endpoint, data=data, headers=headers, timeout=protocol.TIMEOUT,
                                 allow_redirects=False, verify=protocol.verify, stream=True)
        except requests.exceptions.SSLError as e:
            deadline.disarm()
            protocol.retire_session(session)
            if deadline.expired:
                raise self._stream_deadline_error(deadline) from e
            raise TransportError(f"TLS with {protocol.service_endpoint} failed: {e}") from e
        except (requests.exceptions.ConnectionError, requests.exceptions.ReadTimeout) as e:
            deadline.disarm()
            protocol.retire_session(session)
            if deadline.expired:  # not retried: the next attempt would hit the same wall
                raise self._stream_deadline_error(deadline) from e
            raise Retriable(f"connection error: {type(e).__name__}", error=TransportError(
                f"Connection to {protocol.service_endpoint} failed: {e}")) from e
        except BaseException:
            deadline.disarm()
            protocol.retire_session(session)
            raise
        if r.status_code == 200:
            return session, r, deadline
        # Not a stream: read it like any answer (capped, within the deadline) and let the protocol turn it into
        # the right exception (or a retry).
        try:
            content = protocol._read_content(r, deadline)
        except BaseException:
            deadline.disarm()
            r.close()
            protocol.retire_session(session)
            raise
        deadline.disarm()
        r.close()
        if deadline.expired:
            protocol.retire_session(session)
            raise self._stream_deadline_error(deadline)
        if r.status_code == 401:
            # An OAuth token the server no longer takes: one refresh and one more try, as for every request
            retry = (not refreshed and protocol.credentials is not None and protocol.auth_type == OAUTH2
                     and refresh_credentials(protocol.credentials, session, bearer_token_of(r)))
            protocol.release_session(session)
            if retry:
                return self._open_stream(data, headers, refreshed=True)
            raise protocol._unauthorized(refreshed)
        protocol.release_session(session)
        protocol._handle_response(r, content, self.SERVICE_NAME)
        raise TransportError(f"{self.SERVICE_NAME}: HTTP {r.status_code} from {protocol.service_endpoint}")


_CONTENT = f"{{{TNS}}}Content"
_FILE_ATTACHMENT = f"{{{TNS}}}FileAttachment"
_RESPONSE_MESSAGE = f"{{{MNS}}}GetAttachmentResponseMessage"
_FAULT = f"{{{SOAPNS}}}Fault"
# Text we keep while streaming (everything else but the content is small and ignored).
_KEEP_TEXT = frozenset({f"{{{MNS}}}ResponseCode", f"{{{MNS}}}MessageText"})
#: Most text and fields kept besides the content (name, content type, error text...): a few hundred bytes in
#: a real answer; the bound keeps a hostile one from filling the memory with "metadata".
_MAX_KEPT = 1024 * 1024


class _Base64Stream:
    """Decode base64 text that arrives in arbitrary pieces."""

    def __init__(self) -> None:
        self._pending: List[str] = []
        self._size = 0

    def add(self, text: str, flush_at: int = STREAM_CHUNK_SIZE) -> Optional[bytes]:
        self._pending.append(text)
        self._size += len(text)
        if self._size < flush_at:
            return None
        return self._decode(final=False)

    def _decode(self, final: bool) -> Optional[bytes]:
        text = "".join(self._pending)
        if any(c in text for c in " \r\n\t"):
            text = "".join(text.split())
        usable = len(text) if final else len(text) - len(text) % 4
        head, tail = text[:usable], text[usable:]
        self._pending = [tail] if tail else []
        self._size = len(tail)
        if not head:
            return None
        try:
            return base64.b64decode(head, validate=True)
        except (binascii.Error, ValueError) as e:
            raise MalformedResponseError(f"GetAttachment: the attachment content is not valid base64: {e}") from e

    def finish(self) -> Optional[bytes]:
        return self._decode(final=True)


class _StreamTarget:
    """An lxml parser target: follows the response, passes Content text to a base64 decoder."""

    def __init__(self, operation: str, sink: Callable[[bytes], None]):
        self.operation = operation
        self.sink = sink
        self.depth_in_content = False
        self.file_depth = 0
        self.decoder = _Base64Stream()
        self.text: Dict[str, List[str]] = {}
        self.current: Optional[str] = None
        self.response_class: Optional[str] = None
        self.saw_message = False
        self.saw_content = False
        self.fault = False
        # The file attachment's other fields (direct children but Content): [tag, attributes, text parts]
        self.fields: List[Tuple[str, Dict[str, str], List[str]]] = []
        self.field_depth = 0
        self.kept = 0  # characters (and fields, at 256 each) kept besides the content

    def _keep(self, n: int) -> None:
        self.kept += n
        if self.kept > _MAX_KEPT:
            raise MalformedResponseError(f"GetAttachment: the attachment's fields besides its content are larger "
                                         f"than {_MAX_KEPT} bytes, which no real attachment has; refused")

    def start(self, tag: str, attrib: Dict[str, str]) -> None:
        if tag == _RESPONSE_MESSAGE:
            self.saw_message = True
            self.response_class = attrib.get("ResponseClass")
        elif tag == _FAULT:
            self.fault = True
        elif tag == _FILE_ATTACHMENT:
            self.file_depth += 1
        elif tag == _CONTENT and self.file_depth == 1 and self.field_depth == 0:
            self.depth_in_content = True
            self.saw_content = True
        elif self.file_depth == 1:
            if self.field_depth == 0:
                self._keep(256)
                self.fields.append((tag, dict(attrib), []))
            self.field_depth += 1
        if tag in _KEEP_TEXT:
            self.current = tag
            self.text[tag] = []

    def end(self, tag: str) -> None:
        if tag == _CONTENT and self.depth_in_content:
            self.depth_in_content = False
            out = self.decoder.finish()
            if out:
                self.sink(out)
        elif tag == _FILE_ATTACHMENT:
            self.file_depth -= 1
        elif self.file_depth == 1 and self.field_depth:
            self.field_depth -= 1
        elif tag in _KEEP_TEXT:
            self.current = None
            if tag == f"{{{MNS}}}ResponseCode" and self.response_class not in (None, "Success"):
                self._raise_error()

    def data(self, text: str) -> None:
        if self.depth_in_content:
            out = self.decoder.add(text)
            if out:
                self.sink(out)
        elif self.field_depth == 1:
            self._keep(len(text))
            self.fields[-1][2].append(text)
        elif self.current is not None:
            self._keep(len(text))
            self.text[self.current].append(text)

    def doctype(self, *args: Any) -> None:
        raise MalformedResponseError("Refused a GetAttachment response with a DOCTYPE declaration")

    def comment(self, text: str) -> None:
        pass

    def pi(self, target: str, data: Optional[str] = None) -> None:
        pass

    def close(self) -> None:
        return None

    def _raise_error(self) -> None:
        msg = etree.Element(_RESPONSE_MESSAGE, ResponseClass=self.response_class or "Error")
        for tag, parts in self.text.items():
            etree.SubElement(msg, tag).text = "".join(parts)
        exc = response_message_error(msg, self.operation)
        if exc is not None:
            raise exc


class _ContentStreamParser:
    """Feed raw response bytes; get decoded content chunks back."""

    def __init__(self, operation: str):
        self._out: List[bytes] = []
        self._target = _StreamTarget(operation, self._out.append)
        self._parser = etree.XMLParser(target=cast(Any, self._target), resolve_entities=False, no_network=True,
                                       load_dtd=False, huge_tree=True, remove_comments=True, remove_pis=True)

    def metadata(self) -> Element:
        """A ``t:FileAttachment`` element with the fields read besides the content (simple fields only)."""
        el = etree.Element(_FILE_ATTACHMENT)
        for tag, attrib, text in self._target.fields:
            child = etree.SubElement(el, tag, attrib)
            child.text = "".join(text) or None
        return el

    def _drain(self) -> List[bytes]:
        out, self._out[:] = list(self._out), []
        return out

    def feed(self, data: bytes) -> List[bytes]:
        try:
            self._parser.feed(data)
        except etree.XMLSyntaxError as e:
            raise MalformedResponseError(f"GetAttachment: unreadable response: {e}") from e
        return self._drain()

    def close(self) -> List[bytes]:
        try:
            self._parser.close()
        except etree.XMLSyntaxError as e:
            raise MalformedResponseError(f"GetAttachment: unreadable response: {e}") from e
        t = self._target
        if t.fault:
            raise TransportError("GetAttachment: the server answered a SOAP fault in a successful HTTP response")
        if not t.saw_message:
            raise MalformedResponseError("GetAttachment: the response has no GetAttachmentResponseMessage")
        if not t.saw_content:
            raise EWSError("GetAttachment: the attachment has no content to stream (is it a file attachment?)")
        return self._drain()
