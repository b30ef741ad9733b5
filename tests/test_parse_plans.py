"""EWSElement.from_xml reads the common field kinds inline (Field.parse_plan): it must give exactly what the
fields' own from_xml gives, fall back to them for odd text, and respect subclasses that override parsing."""
from __future__ import annotations

import logging
import sys

import pytest
from lxml import etree

from exchangelib.elements import EWSElement
from exchangelib.fields import (PARSE_BOOL, PARSE_CALL, PARSE_COMPACT, PARSE_DATETIME, PARSE_INT, PARSE_LIST,
                                PARSE_SHARED, PARSE_TEXT, PARSE_WRAPPED, BooleanField, CharField, DateTimeField,
                                IntegerField)
from exchangelib.items import CalendarItem, Message
from exchangelib.properties import Mailbox
from exchangelib.properties.common import EffectiveRights
from exchangelib.registry import ITEM_CLASSES
from exchangelib.xml import TNS

T = f"{{{TNS}}}"


def _elem(xml: str) -> etree._Element:
    return etree.fromstring(f'<t:Root xmlns:t="{TNS}">{xml}</t:Root>')[0]


def _all_classes():
    seen, todo = set(), [EWSElement]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return sorted(seen, key=lambda c: (c.__module__, c.__qualname__))


def test_plans_cover_every_child_tag_and_name_the_right_kinds():
    for cls in _all_classes():
        assert set(cls._PLANS) == set(cls._PARSERS), cls
    plans = Message._PLANS
    assert plans[f"{T}Subject"][1] == PARSE_TEXT
    assert plans[f"{T}ItemClass"][1] == PARSE_SHARED
    assert plans[f"{T}IsRead"][1] == PARSE_BOOL
    assert plans[f"{T}Size"][1] == PARSE_INT
    assert plans[f"{T}DateTimeReceived"][1] == PARSE_DATETIME
    assert plans[f"{T}ItemId"][1] == PARSE_COMPACT
    assert plans[f"{T}Sender"][1] == PARSE_WRAPPED
    assert plans[f"{T}ToRecipients"][1] == PARSE_LIST
    assert plans[f"{T}Body"][1] == PARSE_CALL  # BodyField has its own from_xml
    # Compact classes store through their slots' setters
    assert callable(Mailbox._PLANS[f"{T}EmailAddress"][0])


ODD_TEXTS = ["true", "false", " true ", "1", "0", "yes", "", None, "42", " 7 ", "1_000", "-3", "x",
             "2024-03-01T09:15:27Z", "2024-03-01T09:15:27.123Z", "2024-03-01T09:15:27+02:00", "2024-03-01T09:15:27",
             "not a date"]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_inline_kinds_give_what_the_fields_give(text, caplog):
    caplog.set_level(logging.DEBUG)
    body = "" if text is None else text
    fields = {"is_read": "IsRead", "size": "Size", "datetime_received": "DateTimeReceived", "subject": "Subject",
              "item_class": "ItemClass"}
    xml = "".join(f"<t:{tag}>{body}</t:{tag}>" if text is not None else f"<t:{tag}/>" for tag in fields.values())
    msg = Message.from_xml(etree.fromstring(f'<t:Message xmlns:t="{TNS}">{xml}</t:Message>'))
    for name, tag in fields.items():
        field = Message.FIELDS[name]
        expected = field.from_xml(_elem(f"<t:{tag}>{body}</t:{tag}>" if text is not None else f"<t:{tag}/>"))
        got = msg.__dict__.get(name)
        assert got == expected and type(got) is type(expected), (name, text, got, expected)


def test_compact_values_match_the_general_path():
    xml = (f'<t:EffectiveRights xmlns:t="{TNS}"><t:CreateAssociated>false</t:CreateAssociated>'
           "<t:CreateContents>true</t:CreateContents><t:Delete> 1 </t:Delete><t:Read>junk</t:Read>"
           "</t:EffectiveRights>")
    rights = EffectiveRights.from_xml(etree.fromstring(xml))
    assert (rights.create_associated, rights.create_contents, rights.delete) == (False, True, True)
    assert rights.read is False  # unset (junk is logged and dropped): the field's default
    assert "read" not in rights.__dict__
    box = Mailbox.from_xml(etree.fromstring(
        f'<t:Mailbox xmlns:t="{TNS}"><t:Name>Anne</t:Name><t:EmailAddress>anne@example.com</t:EmailAddress>'
        "<t:ItemId Id=\"AAA\" ChangeKey=\"CK\"/><t:Unknown>x</t:Unknown></t:Mailbox>"))
    assert (box.name, box.email_address, box.item_id.id, box.item_id.changekey) == \
        ("Anne", "anne@example.com", "AAA", "CK")
    assert box.name is sys.intern("Anne")  # shared strings stay shared on the inline path


def test_wrapped_and_listed_values():
    xml = (f'<t:Message xmlns:t="{TNS}"><t:Sender><t:Mailbox><t:Name>A</t:Name>'
           "<t:EmailAddress>a@example.com</t:EmailAddress></t:Mailbox></t:Sender>"
           "<t:ToRecipients><t:Mailbox><t:EmailAddress>b@example.com</t:EmailAddress></t:Mailbox>"
           "<t:Other/><t:Mailbox><t:EmailAddress>c@example.com</t:EmailAddress></t:Mailbox></t:ToRecipients>"
           "<t:From/></t:Message>")
    msg = Message.from_xml(etree.fromstring(xml))
    assert msg.sender == Mailbox(name="A", email_address="a@example.com")
    assert [m.email_address for m in msg.to_recipients] == ["b@example.com", "c@example.com"]
    assert msg.author is None  # an empty wrapper holds no value


def test_parsed_lists_have_no_spare_room():
    xml = (f'<t:Message xmlns:t="{TNS}"><t:Categories><t:String>a</t:String><t:String>b</t:String>'
           "</t:Categories><t:ToRecipients><t:Mailbox><t:EmailAddress>b@example.com</t:EmailAddress></t:Mailbox>"
           "</t:ToRecipients></t:Message>")
    msg = Message.from_xml(etree.fromstring(xml))
    for value in (msg.categories, msg.to_recipients):
        assert sys.getsizeof(value) == sys.getsizeof(list(value))
        value.append(value[0])  # still an ordinary list
    assert msg.categories == ["a", "b", "a"]


def test_conversation_topic_shares_the_subject_string_when_equal():
    same = Message.from_xml(etree.fromstring(
        f'<t:Message xmlns:t="{TNS}"><t:Subject>Budget</t:Subject><t:ConversationTopic>Budget</t:ConversationTopic>'
        "</t:Message>"))
    assert same.conversation_topic == "Budget" and same.conversation_topic is same.subject
    other = Message.from_xml(etree.fromstring(
        f'<t:Message xmlns:t="{TNS}"><t:Subject>RE: Budget</t:Subject>'
        "<t:ConversationTopic>Budget</t:ConversationTopic></t:Message>"))
    assert (other.subject, other.conversation_topic) == ("RE: Budget", "Budget")
    only_topic = Message.from_xml(etree.fromstring(
        f'<t:Message xmlns:t="{TNS}"><t:ConversationTopic>Standup</t:ConversationTopic></t:Message>'))
    assert only_topic.conversation_topic == "Standup" and only_topic.subject is None
    # Kinds without the field parse as before
    assert CalendarItem.from_xml(etree.fromstring(
        f'<t:CalendarItem xmlns:t="{TNS}"><t:Subject>Standup</t:Subject></t:CalendarItem>')).subject == "Standup"


def test_overridden_parsing_is_called_not_inlined():
    class Upper(CharField):
        def from_xml(self, elem, account=None):
            return (elem.text or "").upper()

    class Flag(BooleanField):
        def from_text(self, text):
            return text == "yes"

    class Count(IntegerField):
        def from_text(self, text):
            return 100 + int(text)

    class Stamp(DateTimeField):
        def from_text(self, text, account=None):
            return "stamp:" + text

    class Probe(EWSElement):
        ELEMENT_NAME = "Probe"
        shout = Upper(xml_name="Shout")
        flag = Flag(xml_name="Flag")
        count = Count(xml_name="Count")
        stamp = Stamp(xml_name="Stamp")

    assert {p[1] for p in Probe._PLANS.values()} == {PARSE_CALL}
    probe = Probe.from_xml(etree.fromstring(
        f'<t:Probe xmlns:t="{TNS}"><t:Shout>hi</t:Shout><t:Flag>yes</t:Flag><t:Count>1</t:Count>'
        "<t:Stamp>2024-01-01T00:00:00Z</t:Stamp></t:Probe>"))
    assert (probe.shout, probe.flag, probe.count, probe.stamp) == ("HI", True, 101, "stamp:2024-01-01T00:00:00Z")


def _reference(cls, elem):
    """What from_xml gave before the inline kinds: every child through its field's own from_xml."""
    d = {}
    for f in cls._ATTR_FIELDS:
        if elem.get(f.xml_name) is not None:
            d[f.name] = f.from_text(elem.get(f.xml_name))
    for child in elem:
        name, parse, repeated = cls._PARSERS.get(child.tag, (None, None, None))
        if parse is None:
            continue
        value = parse(child, None)
        if value is None:
            continue
        if name is None:
            name, value = value
        if repeated:
            d.setdefault(name, []).append(value)
        else:
            d[name] = value
    return d


def test_every_item_kind_parses_a_real_layout_like_the_fields_do():
    """A sample of each item kind, with every common field kind, parses to what the fields themselves give."""
    for name, cls in sorted(ITEM_CLASSES.items()):
        elem = etree.fromstring(
            f'<t:{cls.ELEMENT_NAME} xmlns:t="{TNS}"><t:ItemId Id="AAMk" ChangeKey="CQ"/>'
            '<t:ParentFolderId Id="AQMk" ChangeKey="AQ"/><t:ItemClass>IPM.X</t:ItemClass><t:Subject>s</t:Subject>'
            "<t:Sensitivity>Normal</t:Sensitivity><t:Body BodyType=\"HTML\">&lt;p&gt;b&lt;/p&gt;</t:Body>"
            "<t:DateTimeReceived>2024-03-01T09:15:27Z</t:DateTimeReceived><t:Size>12</t:Size>"
            "<t:Categories><t:String>a</t:String></t:Categories><t:IsSubmitted>false</t:IsSubmitted>"
            "<t:DateTimeCreated>2024-03-01T09:15:27+01:00</t:DateTimeCreated><t:DisplayCc/>"
            "<t:EffectiveRights><t:Delete>true</t:Delete><t:Read>true</t:Read></t:EffectiveRights>"
            "<t:IsAssociated>false</t:IsAssociated><t:ConversationId Id=\"AAQk\"/>"
            f"<t:Unknown><t:Deep/></t:Unknown></t:{cls.ELEMENT_NAME}>")
        obj = cls.from_xml(elem)
        assert obj.__dict__ == _reference(cls, elem), name
        assert obj.size == 12 and obj.is_associated is False and obj.subject == "s"
