"""Parsed big models (items) keep their field values packed (exchangelib.packed.PackedFields): a dict subclass
installed as the instance dict. It must behave like the dict it replaces, everywhere, and take less memory."""
from __future__ import annotations

import copy
import gc
import pickle
import sys
import tracemalloc
from pathlib import Path

import pytest
from lxml import etree

from exchangelib import EWSDateTime, Mailbox, Message
from exchangelib.packed import PackedFields
from exchangelib.xml import MNS, TNS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_parse import MESSAGE  # noqa: E402 - the 36-field GetItem message of the benchmarks


def _parse(n: int = 1) -> list:
    doc = f'<m:Items xmlns:m="{MNS}" xmlns:t="{TNS}">{MESSAGE * n}</m:Items>'.encode()
    return [Message.from_xml(e) for e in etree.fromstring(doc)]


def test_parsed_items_are_packed_and_share_their_layout():
    a, b = _parse(2)
    assert type(a.__dict__) is PackedFields
    assert a.__dict__._index is b.__dict__._index  # one name index for every message with these fields
    assert a.__dict__._values is not b.__dict__._values
    assert len(a.__dict__) == 36 and a.subject == "Quarterly numbers, final version"
    assert Message(subject="new").__dict__.__class__ is dict  # only parsed items are packed


def test_packed_items_take_far_less_memory_than_dict_backed_ones():
    items = _parse(300)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    plain = [dict(i.__dict__.items()) for i in items]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    dict_bytes = (after - before) / len(plain)
    packed_bytes = sys.getsizeof(items[0].__dict__) + sys.getsizeof(items[0].__dict__._values)
    assert packed_bytes < dict_bytes * 0.6, (packed_bytes, dict_bytes)


def test_behaves_like_the_dict_it_replaces():
    item, = _parse(1)
    d = item.__dict__
    reference = dict(d.items())
    assert d == reference and reference == d and not (d != reference)
    assert list(d) == list(reference) and list(d.keys()) == list(reference)
    assert list(d.values()) == list(reference.values()) and list(d.items()) == list(reference.items())
    assert d.copy() == reference and type(d.copy()) is dict
    assert ("subject" in d, "reminder_due_by" in d, "nope" in d) == (True, False, False)
    assert d.get("reminder_due_by", 5) == 5 and d["size"] == 18342
    with pytest.raises(KeyError):
        d["reminder_due_by"]
    assert repr(d) == repr(reference) and {**d} == reference and dict(d) == reference
    assert (d | {"x": 1})["x"] == 1 and ({"x": 1} | d)["subject"] == item.subject
    assert list(reversed(d)) == list(reversed(list(reference)))
    assert pickle.loads(pickle.dumps(d)) == reference

    # Writes: packed keys in place, new keys in the dict itself
    d["subject"] = "changed"
    d["x_extra"] = 1
    assert d["subject"] == "changed" and d["x_extra"] == 1 and len(d) == 37
    assert d.pop("subject") == "changed" and "subject" not in d and d.pop("subject", "gone") == "gone"
    with pytest.raises(KeyError):
        del d["subject"]
    assert d.setdefault("subject", "again") == "again" and d["subject"] == "again"
    del d["x_extra"]
    d.update({"size": 1}, importance="High")
    d |= {"is_read": False}
    assert (d["size"], d["importance"], d["is_read"]) == (1, "High", False)
    k, v = d.popitem()
    assert k not in d and len(d) == 35
    d.clear()
    assert len(d) == 0 and list(d) == [] and d == {}


def test_items_with_packed_values_work_as_before():
    item, = _parse(1)
    assert item.changed_fields == []
    item.subject = "New subject"
    item.importance = "High"
    item.categories = None  # clearing a field deletes it
    assert item.subject == "New subject" and item.categories is None
    assert item.changed_fields == ["subject", "categories", "importance"]  # in field order
    item.reminder_due_by = EWSDateTime(2024, 3, 2, 9, tzinfo=item.datetime_sent.tzinfo)  # not sent: a new key
    assert item.reminder_due_by.day == 2
    item.folder = "somewhere"  # a plain attribute, not a field: Python's own lookup finds it
    assert item.folder == "somewhere" and vars(item)["folder"] == "somewhere"

    for twin in (copy.copy(item), copy.deepcopy(item), pickle.loads(pickle.dumps(item))):
        assert twin.subject == "New subject" and twin.categories is None and twin.size == 18342
        assert twin.sender == Mailbox(name="Anne Smith", email_address="anne@example.com")
        assert twin == item and twin.folder == "somewhere" and twin.changed_fields == item.changed_fields
    clone = copy.deepcopy(item)
    clone.subject = "only the clone"
    assert item.subject == "New subject"
    assert "New subject" in repr(item) and item.to_xml().findtext(f"{{{TNS}}}Subject") == "New subject"


def test_an_account_given_to_the_parser_is_a_plain_attribute():
    doc = f'<m:Items xmlns:m="{MNS}" xmlns:t="{TNS}">{MESSAGE}</m:Items>'.encode()
    sentinel = object()
    item = Message.from_xml(etree.fromstring(doc)[0], account=sentinel)
    assert type(item.__dict__) is PackedFields
    assert item.account is sentinel and "account" not in item.__dict__._index and item.__dict__["account"] is sentinel


def test_items_with_few_fields_keep_a_plain_dict():
    """Searches with only() parse a few fields per item: a small dict is small already, so they aren't packed."""
    item = Message.from_xml(etree.fromstring(
        f'<t:Message xmlns:t="{TNS}"><t:ItemId Id="AAMk" ChangeKey="CQ"/><t:Subject>s</t:Subject></t:Message>'))
    assert type(item.__dict__) is dict and item.subject == "s"


def test_made_like_a_dict_it_is_one():
    d = PackedFields({"a": 1}, b=2)
    assert d == {"a": 1, "b": 2} and len(d) == 2 and d.get("a") == 1 and list(d) == ["a", "b"]
    assert PackedFields.fromkeys(["x", "y"], 0) == {"x": 0, "y": 0}
    assert copy.copy(_parse(1)[0].__dict__) == dict(_parse(1)[0].__dict__.items())
