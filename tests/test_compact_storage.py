"""Compact storage of small value objects (ids, mailboxes, attendees, effective rights): the same public API
as dict-backed models, a fraction of the memory."""
from __future__ import annotations

import copy
import pickle
import sys
import tracemalloc

import pytest

from exchangelib import Attendee, Mailbox, Message
from exchangelib.elements import EWSElement
from exchangelib.fields import CharField
from exchangelib.properties.common import EffectiveRights
from exchangelib.properties.ids import ItemId, ParentFolderId
from exchangelib.xml import MNS, TNS, parse

COMPACT = [ItemId, ParentFolderId, Mailbox, Attendee, EffectiveRights]


@pytest.mark.parametrize("cls", COMPACT)
def test_compact_classes_have_no_instance_dict(cls):
    assert cls._COMPACT
    assert cls.__dictoffset__ == 0  # no per-instance dict is ever allocated


def test_values_read_write_and_validate_like_any_model():
    m = Mailbox(name="Anne", email_address="anne@example.com")
    assert (m.name, m.email_address, m.routing_type) == ("Anne", "anne@example.com", "SMTP")  # default
    m.name = None
    assert m.name is None and "name" not in m.__dict__
    with pytest.raises(TypeError, match="Mailbox.name"):
        m.name = 42
    with pytest.raises(AttributeError, match="no field or attribute 'nmae'"):
        m.nmae = "x"
    with pytest.raises(ValueError, match="mailbox_type"):
        m.mailbox_type = "Nonsense"
    assert dict(m.__dict__) == {"email_address": "anne@example.com"}
    assert repr(m) == "Mailbox(email_address='anne@example.com')"


def test_copy_deepcopy_pickle_equality_and_hash():
    a = Attendee(mailbox=Mailbox(name="Bob", email_address="bob@example.com"), response_type="Accept")
    for other in (copy.copy(a), copy.deepcopy(a), pickle.loads(pickle.dumps(a))):
        assert other == a and hash(other) == hash(a)
        assert other.mailbox.email_address == "bob@example.com" and other.response_type == "Accept"
    deep = copy.deepcopy(a)
    deep.mailbox.name = "Robert"
    assert a.mailbox.name == "Bob"  # a deep copy shares nothing
    i = ItemId("AAA=", "CK")
    assert pickle.loads(pickle.dumps(i)) == i and tuple(i) == ("AAA=", "CK")


def test_parsed_and_serialised_the_same_way():
    xml = (f'<t:Message xmlns:t="{TNS}"><t:ItemId Id="AAA=" ChangeKey="CK"/>'
           "<t:EffectiveRights><t:Delete>true</t:Delete><t:Read>true</t:Read></t:EffectiveRights>"
           "<t:From><t:Mailbox><t:Name>Anne</t:Name><t:EmailAddress>anne@example.com</t:EmailAddress>"
           "</t:Mailbox></t:From></t:Message>")
    m = Message.from_xml(parse(f'<m:X xmlns:m="{MNS}">{xml}</m:X>'.encode())[0])
    assert (m.id, m.changekey) == ("AAA=", "CK")
    assert m.effective_rights.delete is True and m.effective_rights.modify is False and "read" in m.effective_rights
    assert m.author == Mailbox(name="Anne", email_address="anne@example.com")
    back = m.author.to_xml()
    assert back.findtext(f"{{{TNS}}}EmailAddress") == "anne@example.com"


def test_fields_cannot_be_added_to_compact_classes():
    with pytest.raises(TypeError, match="compact storage"):
        Mailbox.add_field(CharField(xml_name="Nickname"), name="nickname")


def test_compact_objects_take_less_memory_than_dict_backed_ones():
    class DictMailbox(EWSElement):  # the same fields, the default (dict) storage
        ELEMENT_NAME = "Mailbox"
        name = CharField(xml_name="Name", shared=True)
        email_address = CharField(xml_name="EmailAddress", shared=True)
        routing_type = CharField(xml_name="RoutingType", shared=True)

    elem = parse(f'<t:Mailbox xmlns:t="{TNS}"><t:Name>Anne</t:Name><t:EmailAddress>anne@example.com'
                 f'</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></t:Mailbox>'.encode())

    def measure(cls):
        cls.from_xml(elem)
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        objs = [cls.from_xml(elem) for _ in range(2000)]
        after, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(objs) == 2000
        return (after - before) / 2000

    compact, dict_backed = measure(Mailbox), measure(DictMailbox)
    assert compact < 0.6 * dict_backed, (compact, dict_backed)
    assert sys.getsizeof(Mailbox()) < 120
