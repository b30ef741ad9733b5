"""Responses with base64 payloads over libxml2's 10 MB text-node limit (ExportItems m:Data, GetItem
t:MimeContent, GetAttachment t:Content) parse, while the parser keeps its other limits and protections."""
from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import os
from email.message import EmailMessage

import pytest

from exchangelib import FileAttachment, Message
from exchangelib.testing import LocalExchange
from exchangelib.xml import MNS, SOAPNS, TNS, ForbiddenDTDError, ParseError, _restore_large_base64, parse

BIG = 12 * 1024 * 1024  # raw bytes; its base64 is ~16 MB, well over libxml2's 10 MB text-node limit


def _envelope(body: bytes, extra_ns: bytes = b"") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAPNS}" xmlns:m="{MNS}" '
            f'xmlns:t="{TNS}" ').encode() + extra_ns + b"><s:Body>" + body + b"</s:Body></s:Envelope>"


@pytest.fixture(scope="module")
def b64() -> bytes:
    return base64.b64encode(os.urandom(11 * 1024 * 1024))  # ~14.7 MB of base64


def test_large_export_data_parses(b64):
    root = parse(_envelope(b"<m:ExportItemsResponse><m:Data>" + b64 + b"</m:Data><m:Other>x</m:Other>"
                           b"</m:ExportItemsResponse>"))
    data = root.find(f"{{{SOAPNS}}}Body/{{{MNS}}}ExportItemsResponse/{{{MNS}}}Data")
    assert data.text.encode() == b64
    assert data.getnext().text == "x"


def test_other_prefixes_and_default_namespace(b64):
    doc = _envelope(b"<msg:R><typ:MimeContent CharacterSet='UTF-8'>" + b64 + b"</typ:MimeContent>"
                    b"<Content xmlns='" + TNS.encode() + b"'>" + b64[:2_000_000] + b"</Content></msg:R>",
                    extra_ns=f'xmlns:msg="{MNS}" xmlns:typ="{TNS}"'.encode())
    root = parse(doc)
    mime = root.find(f".//{{{TNS}}}MimeContent")
    assert mime.text.encode() == b64 and mime.get("CharacterSet") == "UTF-8"
    assert root.find(f".//{{{TNS}}}Content").text.encode() == b64[:2_000_000]


def test_several_large_payloads_and_line_breaks(b64):
    wrapped = b"\r\n".join(b64[i:i + 76] for i in range(0, 3_000_000, 76))
    doc = _envelope(b"<m:R><t:Content>" + wrapped + b"</t:Content><t:Content>" + b64 + b"</t:Content></m:R>")
    first, second = parse(doc).iter(f"{{{TNS}}}Content")
    assert "\r" not in first.text and first.text.encode() == wrapped.replace(b"\r\n", b"\n")
    assert base64.b64decode(first.text) == base64.b64decode(b"".join(wrapped.split()))
    assert second.text.encode() == b64


def test_large_text_in_foreign_namespace_parses_intact(b64):
    # Since issue #20 any text node over 10 MB parses (a message body can be that big); the protocol caps
    # the response size instead, and entities and DTDs stay refused.
    doc = _envelope(b"<m:R><x:Data xmlns:x='urn:other'>" + b64 + b"</x:Data></m:R>")
    assert parse(doc).find(".//{urn:other}Data").text.encode() == b64


def test_large_non_base64_text_parses_intact(b64):
    for payload, text in ((b64[:5_000_000] + b"-" + b64[5_000_000:], b64[:5_000_000] + b"-" + b64[5_000_000:]),
                          (b64[:5_000_000] + b"&amp;" + b64[5_000_000:], b64[:5_000_000] + b"&" + b64[5_000_000:])):
        assert parse(_envelope(b"<m:R><m:Data>" + payload + b"</m:Data></m:R>")).find(
            f".//{{{MNS}}}Data").text.encode() == text
    assert parse(_envelope(b"<m:R><t:Subject>" + b64 + b"</t:Subject></m:R>")).find(
        f".//{{{TNS}}}Subject").text.encode() == b64


def test_large_mixed_content_parses_intact(b64):
    doc = _envelope(b"<m:R><m:Data>" + b64 + b"<m:X/>" + b64[:10] + b"</m:Data></m:R>")
    data = parse(doc).find(f".//{{{MNS}}}Data")
    assert data.text.encode() == b64 and data[0].tail.encode() == b64[:10]


def test_entity_payload_still_refused(b64):
    doc = (b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa">]>' + _envelope(
        b"<m:R><m:Data>" + b64 + b"</m:Data><m:X>&a;</m:X></m:R>").split(b"?>", 1)[1])
    with pytest.raises(ForbiddenDTDError):
        parse(doc)


def test_doctype_after_long_prolog_still_refused(b64):
    # The DOCTYPE sits beyond the cheap 4 KB pre-check; the parser's own docinfo check catches it
    doc = (b'<?xml version="1.0"?>' + b"<!--" + b"c" * 5000 + b"-->" + b'<!DOCTYPE s:Envelope [<!ENTITY a "b">]>'
           + _envelope(b"<m:R><m:Data>" + b64 + b"</m:Data></m:R>").split(b"?>", 1)[1])
    with pytest.raises(ForbiddenDTDError):
        parse(doc)


def test_placeholder_in_comment_falls_back_to_normal_limits(b64):
    # A candidate inside a comment is not an element; the document gets the normal treatment
    doc = _envelope(b"<m:R><!--<m:Data>" + b64 + b"</m:Data>--><m:X>y</m:X></m:R>")
    with pytest.raises(ParseError):  # the >10 MB comment is refused as before
        parse(doc)


def test_small_documents_unchanged():
    root = parse(_envelope(b"<m:R><m:Data>QUJD</m:Data></m:R>"))
    assert root.find(f".//{{{MNS}}}Data").text == "QUJD"
    with pytest.raises(ParseError):
        parse(_envelope(b"<m:R><m:Data>QUJD</m:R>"))


def test_malformed_large_document_reports_parse_error(b64):
    with pytest.raises(ParseError):
        parse(_envelope(b"<m:R><m:Data>" + b64 + b"</m:Data><m:Broken></m:R>"))


def test_export_upload_and_mime_content_with_large_attachment():
    content = os.urandom(BIG)
    digest = hashlib.sha256(content).hexdigest()
    with LocalExchange() as server:
        account = server.account("john@example.com")
        m = Message(account=account, folder=account.drafts, subject="big attachment")
        m.save()
        m.attach(FileAttachment(name="big.bin", content=content))

        exported = account.export([m])
        assert not isinstance(exported[0], Exception), exported[0]
        assert len(exported[0]) > 10 * 1024 * 1024
        new = account.upload([(account.drafts, exported[0])])
        assert not isinstance(new[0], Exception), new[0]
        uploaded = next(iter(account.fetch([new[0]])))
        assert uploaded.subject == "big attachment"
        (att,) = uploaded.attachments
        assert att.name == "big.bin"
        h = hashlib.sha256()
        with att.fp as fp:
            for chunk in iter(lambda: fp.read(1024 * 1024), b""):
                h.update(chunk)
        assert h.hexdigest() == digest

        # The local server renders MIME without attachments, so store a message created from big MIME
        msg = EmailMessage()
        msg["Subject"] = "big mime"
        msg.set_content("see attachment")
        msg.add_attachment(content, maintype="application", subtype="octet-stream", filename="big.bin")
        raw = msg.as_bytes()
        assert len(raw) > BIG
        item = Message(account=account, folder=account.drafts, mime_content=raw)
        item.save()
        (fetched,) = list(account.fetch([item], only_fields=["mime_content"]))
        assert not isinstance(fetched, Exception), fetched
        assert fetched.mime_content == raw
        parsed = email.message_from_bytes(fetched.mime_content, policy=email.policy.default)
        (part,) = parsed.iter_attachments()
        assert hashlib.sha256(part.get_content()).hexdigest() == digest


def test_restore_refuses_a_placeholder_seen_twice_or_missing():
    root = parse(_envelope(b"<m:R><m:Data>_tok_</m:Data><t:Content>_tok_</t:Content></m:R>"))
    assert not _restore_large_base64(root, {"_tok_": b"QUJD"})
    root = parse(_envelope(b"<m:R><m:Data>_tok_</m:Data></m:R>"))
    assert not _restore_large_base64(root, {"_tok_": b"QUJD", "_other_": b"QUJD"})
    root = parse(_envelope(b"<m:R><m:Data>_tok_</m:Data></m:R>"))
    assert _restore_large_base64(root, {"_tok_": b"QU\r\nJD"})
    assert root.find(f".//{{{MNS}}}Data").text == "QU\nJD"
