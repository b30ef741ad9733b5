"""Parsing does no avoidable work and parsed items share their low-variety strings."""
from __future__ import annotations

import base64

import exchangelib.xml as xml
from exchangelib.items import Message
from exchangelib.xml import MNS, TNS, parse


def _doc(body: str) -> bytes:
    return (f'<m:Items xmlns:m="{MNS}" xmlns:t="{TNS}">{body}</m:Items>').encode()


def test_big_html_body_mentioning_content_type_skips_the_base64_scan(monkeypatch):
    calls = []
    original = xml._cut_large_base64
    monkeypatch.setattr(xml, "_cut_large_base64", lambda data: calls.append(len(data)) or original(data))
    html = "&lt;meta http-equiv=&quot;Content-Type&quot; content=&quot;text/html&quot;&gt; Data " * 20_000
    doc = _doc(f'<t:Message><t:Body BodyType="HTML">{html}</t:Body></t:Message>')
    assert len(doc) > xml.LARGE_TEXT_THRESHOLD
    root = parse(doc)
    assert "Content-Type" in root[0][0].text
    assert calls == []
    # ...while a big MimeContent still takes the path that lifts libxml2's text-node limit
    mime = base64.b64encode(b"x" * (xml.LARGE_TEXT_THRESHOLD + 10)).decode()
    root = parse(_doc(f"<t:Message><t:MimeContent CharacterSet=\"UTF-8\">{mime}</t:MimeContent></t:Message>"))
    assert calls and root[0][0].text == mime


def test_parsed_items_share_strings_of_low_variety_fields():
    one = ('<t:Message><t:ParentFolderId Id="AAMkADQ2ZjFhZDM0LTM5ZGYtNGE0Yy1hZDg3LTc2OGQ0YmM3OTBlYgAuAAAAAAC7rY4A'
           'MUbHTrJjxuM4l5QXAQBxk4GS1bBASrw2JzMhQ6NnAAAAAAEMAAA=" ChangeKey="AQAAAA=="/>'
           "<t:ItemClass>IPM.Note</t:ItemClass><t:Sensitivity>Normal</t:Sensitivity>"
           "<t:Categories><t:String>Finance</t:String></t:Categories>"
           "<t:Culture>en-US</t:Culture><t:DisplayTo>John Doe</t:DisplayTo>"
           "<t:Sender><t:Mailbox><t:Name>Anne Smith</t:Name>"
           "<t:EmailAddress>anne@example.com</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType>"
           "<t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:Sender></t:Message>")
    root = parse(_doc(one * 2))
    a, b = (Message.from_xml(e) for e in root)
    assert a.item_class == "IPM.Note" and a.sender.email_address == "anne@example.com"
    for get in (lambda m: m.item_class, lambda m: m.sensitivity, lambda m: m.culture, lambda m: m.sender.name,
                lambda m: m.sender.email_address, lambda m: m.sender.routing_type,
                lambda m: m.sender.mailbox_type, lambda m: m.categories[0], lambda m: m.parent_folder_id.id,
                lambda m: m.parent_folder_id.changekey, lambda m: m.display_to):
        assert get(a) is get(b)


def test_parsed_timestamps_are_shared_and_correct():
    one = ("<t:Message><t:DateTimeReceived>2024-03-01T09:15:27Z</t:DateTimeReceived>"
           "<t:DateTimeSent>2024-03-01T09:15:20Z</t:DateTimeSent>"
           "<t:DateTimeCreated>2024-03-01T09:15:27Z</t:DateTimeCreated></t:Message>")
    a, b = (Message.from_xml(e) for e in parse(_doc(one * 2)))
    assert a.datetime_received == a.datetime_created and a.datetime_received is a.datetime_created
    assert a.datetime_received is b.datetime_received
    assert a.datetime_sent.isoformat() == "2024-03-01T09:15:20+00:00" and a.datetime_sent.tzinfo is not None


def test_dtd_pre_check_finds_declarations_anywhere_and_nothing_else():
    assert xml._declares_dtd(b'<?xml version="1.0"?>' + b"<!--" + b"c" * 9000 + b'--><!DOCTYPE x [<!ENTITY a "b">]><x/>')
    assert xml._declares_dtd(b"<a>" + b"wow!" * 1000 + b"</a><!ENTITY e 'x'>")  # past the '!' budget: still found
    assert not xml._declares_dtd(_doc('<t:Message><t:Body BodyType="HTML">&lt;!DOCTYPE html&gt;&lt;!-- hi! --&gt;'
                                      "</t:Body></t:Message>"))  # an HTML body's DOCTYPE is text, not markup
    # A page of ordinary items with an HTML body that starts with its own (escaped) DOCTYPE parses
    root = parse(_doc('<t:Message><t:Body BodyType="HTML">&lt;!DOCTYPE html&gt;&lt;p&gt;Hi!&lt;/p&gt;</t:Body>'
                      "</t:Message>"))
    assert root[0][0].text == "<!DOCTYPE html><p>Hi!</p>"


def test_long_text_gate_of_the_base64_scan():
    t = 1000
    assert xml._has_long_text(b"<a>" + b"x" * t + b"</a>", t)
    assert xml._has_long_text(b"<a>" + b"<b/>" * 700 + b"x" * t + b"</a>", t)  # anywhere in the document
    assert not xml._has_long_text(b"<a>" + (b"x" * (t // 2 - 10) + b"<b/>") * 50 + b"</a>", t)
