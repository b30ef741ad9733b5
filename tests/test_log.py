"""PrettyXmlHandler and redaction: readable DEBUG logs that never show secrets."""
from __future__ import annotations

import io
import logging
import re
import subprocess
import sys

import pytest

from exchangelib.log import PrettyXmlHandler, anonymize_xml, redact_headers, redact_text, redact_xml

SOAP = b"""<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" \
xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>\
<t:RequestServerVersion Version="Exchange2016"/></s:Header><s:Body><m:GetItem><m:ItemShape>\
<t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="AAMk=" ChangeKey="CQAA"/>\
</m:ItemIds></m:GetItem></s:Body></s:Envelope>"""

PERSONAL = b"""<m:Items xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" \
xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:Message>\
<t:Subject>Quarterly numbers</t:Subject><t:Body BodyType="Text">Hi Anna, see attached. Call me.</t:Body>\
<t:From><t:Mailbox><t:Name>John Smith</t:Name><t:EmailAddress>john.smith@contoso.com</t:EmailAddress>\
</t:Mailbox></t:From><t:ToRecipients><t:Mailbox><t:EmailAddress>John.Smith@contoso.com</t:EmailAddress>\
</t:Mailbox></t:ToRecipients><t:InReplyTo>&lt;abc@mail.contoso.com&gt;</t:InReplyTo>\
<t:ItemId Id="AAMk=" ChangeKey="CQAA"/></t:Message></m:Items>"""

PASSWORD = "hunter2-S3cret"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.signature"


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def make_logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"test_log.{id(handler)}")
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger


def log_request(logger, body=SOAP, headers=None):
    logger.debug("EWS request to %(endpoint)s\n%(request_headers)s\n%(xml_request)s",
                 {"endpoint": "https://mail.example.com/EWS/Exchange.asmx",
                  "request_headers": headers or {"Content-Type": "text/xml; charset=utf-8"},
                  "xml_request": body})


def test_debug_xml_is_pretty_printed():
    stream = io.StringIO()
    log_request(make_logger(PrettyXmlHandler(stream)))
    out = stream.getvalue()
    assert out.startswith("EWS request to https://mail.example.com/EWS/Exchange.asmx\n")
    assert "\n  <s:Header>\n    <t:RequestServerVersion Version=\"Exchange2016\"/>\n  </s:Header>\n" in out
    assert "\n        <t:BaseShape>AllProperties</t:BaseShape>\n" in out
    assert "b'" not in out  # text, not a bytes repr
    assert "\x1b[" not in out  # no colours when the stream is not a terminal


def test_tty_gets_colours_and_same_text():
    plain, tty = io.StringIO(), FakeTTY()
    log_request(make_logger(PrettyXmlHandler(plain)))
    log_request(make_logger(PrettyXmlHandler(tty)))
    coloured = tty.getvalue()
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain.getvalue()


def test_highlight_can_be_forced_either_way():
    forced_on, forced_off = io.StringIO(), FakeTTY()
    log_request(make_logger(PrettyXmlHandler(forced_on, highlight=True)))
    log_request(make_logger(PrettyXmlHandler(forced_off, highlight=False)))
    assert "\x1b[" in forced_on.getvalue() and "\x1b[" not in forced_off.getvalue()


def test_non_xml_payload_is_left_alone_but_redacted():
    stream = FakeTTY()
    make_logger(PrettyXmlHandler(stream)).debug(
        "Token response: %(xml_response)s",
        {"xml_response": f'{{"token_type": "Bearer", "access_token": "{TOKEN}", "expires_in": 3599}}'.encode()})
    out = stream.getvalue()
    assert TOKEN not in out
    assert out == 'Token response: {"token_type": "Bearer", "access_token": "********", "expires_in": 3599}\n'


def test_authorization_password_and_tokens_never_appear():
    import base64
    basic = base64.b64encode(f"DOMAIN\\alice:{PASSWORD}".encode()).decode()
    body = SOAP.replace(b"<s:Header>", f"<s:Header><t:BinarySecret>{PASSWORD}</t:BinarySecret>"
                                       f"<t:access_token>{TOKEN}</t:access_token>".encode())
    for handler_kwargs in ({}, {"anonymize": True}):
        stream = FakeTTY()
        logger = make_logger(PrettyXmlHandler(stream, **handler_kwargs))
        log_request(logger, body, headers={"Authorization": f"Basic {basic}", "Cookie": f"X-BackEndCookie={TOKEN}",
                                           "X-AnchorMailbox": "alice@example.com"})
        logger.debug("Got token for %s: %s", "alice", f"access_token={TOKEN}&refresh_token=r-{TOKEN}")
        logger.debug("Retrying with headers %(headers)s", {"headers": {"authorization": f"Bearer {TOKEN}"}})
        logger.debug("raw header dump: Authorization: NTLM TlRMTVNTUAADAAAAGAAYAHAAAAA", extra={})
        out = stream.getvalue()
        for secret in (PASSWORD, TOKEN, basic, "TlRMTVNTUAADAAAAGAAYAHAAAAA"):
            assert secret not in out, (handler_kwargs, secret)
        assert "Basic ********" in out and "Bearer ********" in out


def test_extra_attributes_are_prettified_for_formatters():
    stream = io.StringIO()
    handler = PrettyXmlHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s|%(xml_response)s"))
    make_logger(handler).debug("response", extra={"xml_response": b"<a><b>x</b><Password>p</Password></a>"})
    assert stream.getvalue() == "response|<?xml version='1.0' encoding='utf-8'?>\n<a>\n  <b>x</b>\n  " \
                                "<Password>********</Password>\n</a>\n"


def test_redact_headers():
    headers = {"Authorization": "Bearer abc.def", "Proxy-Authorization": "Basic Zm9vOmJhcg==", "Cookie": "a=b",
               "Set-Cookie": "exchangecookie=123; path=/", "X-Auth-Token": "t0k", "X-Api-Key": "k",
               "Content-Type": "text/xml", "X-AnchorMailbox": "alice@example.com", "WWW-Authenticate": "NTLM"}
    original = dict(headers)
    assert redact_headers(headers) == {
        "Authorization": "Bearer ********", "Proxy-Authorization": "Basic ********", "Cookie": "********",
        "Set-Cookie": "********", "X-Auth-Token": "********", "X-Api-Key": "********",
        "Content-Type": "text/xml", "X-AnchorMailbox": "alice@example.com", "WWW-Authenticate": "NTLM",
    }
    assert headers == original  # the input is not modified
    assert redact_headers({"authorization": "opaque"}) == {"authorization": "********"}
    assert redact_headers(None) == {}


def test_redact_xml():
    xml = (b'<r xmlns:t="urn:t"><t:Password>p1</t:Password><t:BinarySecret>p2</t:BinarySecret>'
           b'<Item client_secret="p3" Id="keep"/><PasswordExpirationDate>2030-01-01</PasswordExpirationDate>'
           b'<TokenType>CallerIdentity</TokenType><Subject>keep me</Subject></r>')
    out = redact_xml(xml)
    for secret in (b"p1", b"p2", b"p3"):
        assert secret not in out.replace(b"Expiration", b"")
    for kept in (b'Id="keep"', b"2030-01-01", b"CallerIdentity", b"keep me"):
        assert kept in out
    assert redact_xml(SOAP) == SOAP  # nothing to redact: returned unchanged
    assert b"p4" not in redact_xml(b"<broken><Password>p4</Password>")  # not well-formed: textual fallback


@pytest.mark.parametrize("text", [
    'Authorization: Bearer abc', '{"refresh_token": "abc", "x": 1}', "grant_type=password&password=abc&x=1",
    "client_secret=abc", "<t:Password>abc</t:Password>", "Set-Cookie: session=abc",
])
def test_redact_text(text):
    assert "abc" not in redact_text(text)
    assert "********" in redact_text(text)


def test_anonymize_replaces_personal_data_with_stable_placeholders():
    stream = io.StringIO()
    logger = make_logger(PrettyXmlHandler(stream, anonymize=True))
    logger.debug("EWS response\n%(xml_response)s", {"xml_response": PERSONAL})
    logger.debug("again\n%(xml_response)s", {"xml_response": PERSONAL})
    out = stream.getvalue()
    for personal in ("Quarterly numbers", "Anna", "John Smith", "john.smith@contoso.com", "John.Smith@contoso.com",
                     "abc@mail.contoso.com"):
        assert personal not in out, personal
    first, second = out.split("again\n")
    assert first.split("\n", 1)[1] == second  # same input -> same placeholders
    assert 'ChangeKey="CQAA"' in out and 'BodyType="Text"' in out  # structure and ids are kept
    emails = set(re.findall(r"user-\w+@example\.invalid", out))
    assert len(emails) == 2  # one per distinct address (case-insensitive), the In-Reply-To one separate


def test_anonymize_xml_function():
    out = anonymize_xml(PERSONAL)
    assert b"Quarterly" not in out and b"contoso" not in out and b"[Subject " in out


def test_pygments_is_not_imported_until_colours_are_needed():
    code = ("import sys, io, logging, exchangelib.log, exchangelib.util; "
            "h = exchangelib.util.PrettyXmlHandler(io.StringIO()); "
            "r = logging.LogRecord('x', 10, 'f', 1, '%(xml_request)s', ({'xml_request': b'<a/>'},), None); "
            "h.emit(r); print('pygments' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_util_reexport():
    from exchangelib import util
    assert util.PrettyXmlHandler is PrettyXmlHandler


def test_positional_xml_with_matching_extra_is_prettified():
    stream = io.StringIO()
    body = SOAP.replace(b"<s:Header>", f"<s:Header><t:BinarySecret>{PASSWORD}</t:BinarySecret>".encode())
    make_logger(PrettyXmlHandler(stream)).debug("Request to %s (%s):\n%s", "https://x/EWS", "GetItem", body.decode(),
                                                extra={"xml_request": body, "operation": "GetItem"})
    out = stream.getvalue()
    assert out.startswith("Request to https://x/EWS (GetItem):\n<?xml")
    assert "\n  <s:Header>\n    <t:BinarySecret>********</t:BinarySecret>\n" in out
    assert PASSWORD not in out


def test_plain_handler_output_is_unchanged_for_records_without_xml():
    stream = io.StringIO()
    make_logger(PrettyXmlHandler(stream)).info("Found %d items in %s", 3, "Inbox")
    assert stream.getvalue() == "Found 3 items in Inbox\n"
