"""Response objects (replies, forwards, meeting answers, cancellations) as CreateItem payloads: they validate
against the EWS schema, serialise in schema order, and refuse what the target server version lacks."""
from __future__ import annotations

import pytest
from lxml import etree

from exchangelib.ewsdatetime import UTC, EWSDateTime
from exchangelib.items import (AcceptItem, CancelCalendarItem, DeclineItem, ForwardItem, ReplyAllToItem, ReplyToItem,
                               TentativelyAcceptItem)
from exchangelib.properties import HTMLBody, ItemId
from exchangelib.testing.schema import validate
from exchangelib.version import EXCHANGE_2010, EXCHANGE_2016
from exchangelib.xml import add_child, create_element

REF = ItemId("AAMkAGI2", "CQAAABYA")


def create_item(obj, version=EXCHANGE_2016):
    obj.clean(version)
    elem = create_element("m:CreateItem", {"MessageDisposition": "SendAndSaveCopy"})
    add_child(elem, "m:Items").append(obj.to_xml(version))
    return elem


@pytest.mark.parametrize("cls", [ReplyToItem, ReplyAllToItem, ForwardItem, CancelCalendarItem])
def test_smart_responses_validate_with_every_field(cls):
    obj = cls(reference_item_id=REF, subject="RE: x", new_body=HTMLBody("<p>hi</p>"),
              to_recipients=["a@example.com"], cc_recipients=["b@example.com"], bcc_recipients=["c@example.com"],
              is_read_receipt_requested=True, is_delivery_receipt_requested=False, author="me@example.com")
    req = create_item(obj)
    assert validate(req) == (True, "")
    names = [etree.QName(c).localname for c in req[0][0]]
    assert names == ["Subject", "ToRecipients", "CcRecipients", "BccRecipients", "IsReadReceiptRequested",
                     "IsDeliveryReceiptRequested", "From", "ReferenceItemId", "NewBodyContent"]
    assert req[0][0].find("{*}ReferenceItemId").attrib == {"Id": "AAMkAGI2", "ChangeKey": "CQAAABYA"}


@pytest.mark.parametrize("cls", [AcceptItem, TentativelyAcceptItem, DeclineItem])
def test_meeting_answers_validate_and_version_gate_proposed_times(cls):
    start = EWSDateTime(2026, 6, 1, 14, tzinfo=UTC)
    obj = cls(reference_item_id=REF, body="See you", sensitivity="Private", to_recipients=["o@example.com"],
              proposed_start=start, proposed_end=start)
    req = create_item(obj)
    assert validate(req) == (True, "")
    names = [etree.QName(c).localname for c in req[0][0]]
    assert names == ["Sensitivity", "Body", "ToRecipients", "ReferenceItemId", "ProposedStart", "ProposedEnd"]
    with pytest.raises(ValueError, match="proposed_start is not supported by Exchange build"):
        create_item(obj, version=EXCHANGE_2010)
    obj.proposed_start = obj.proposed_end = None
    assert validate(create_item(obj, version=EXCHANGE_2010)) == (True, "")


def test_a_response_object_needs_a_reference_and_an_account_to_send():
    with pytest.raises(ValueError, match="reference_item_id is required"):
        ReplyToItem(subject="x").clean()
    with pytest.raises(ValueError, match="has no account"):
        AcceptItem(reference_item_id=REF).send()
    with pytest.raises(TypeError, match="save_copy must be a bool"):
        AcceptItem(reference_item_id=REF).send(save_copy="yes")
    with pytest.raises(AttributeError, match="no field or attribute 'new_body'"):
        AcceptItem(reference_item_id=REF).new_body = "x"
