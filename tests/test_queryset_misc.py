"""QuerySet: indexed contact properties, delete(), small-page paging, the legacy API, and checks without a server."""
from __future__ import annotations

import uuid
from typing import Any, List

import pytest

from exchangelib import UTC, Calendar, Contact, EWSDateTime, Message, Q
from exchangelib.folders import Inbox
from exchangelib.properties import PhoneNumber, PhysicalAddress
from exchangelib.queryset import QuerySet
from exchangelib.restriction import FieldPath, FieldResolver
from exchangelib.testing import LocalExchange
from exchangelib.xml import TNS

JOHN = "john@example.com"


def tag() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


# --------------------------------------------------------------------------------------------------------------
# Indexed properties (contacts)
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def contacts(_module_exchange: LocalExchange) -> List[dict]:
    acc = _module_exchange.account(JOHN)
    rows = []
    items = []
    for i in range(30):
        row = {"given_name": f"Person{i:02d}",
               "car": f"+45 {i * 7 % 30:04d}" if i % 3 else None,
               "street": f"{(i * 11) % 30:02d} {'High' if i % 2 else 'Low'} Street" if i % 4 else None}
        rows.append(row)
        kwargs: dict = {"given_name": row["given_name"], "display_name": row["given_name"]}
        if row["car"]:
            kwargs["phone_numbers"] = [PhoneNumber(label="CarPhone", phone_number=row["car"]),
                                       PhoneNumber(label="HomePhone", phone_number="+45 1111")]
        if row["street"]:
            kwargs["physical_addresses"] = [PhysicalAddress(label="Home", street=row["street"], city="Aarhus")]
        items.append(Contact(**kwargs))
    created = acc.contacts.add_items(items)
    assert all(isinstance(c, Contact) for c in created), created
    return rows


def names(rows: List[dict], pred) -> List[str]:
    return sorted(r["given_name"] for r in rows if pred(r))


def test_filter_on_indexed_entries_and_parts(exchange, contacts):
    folder = exchange.account(JOHN).contacts
    car = next(r["car"] for r in contacts if r["car"])
    assert sorted(folder.filter(phone_numbers__CarPhone=car).values_list("given_name", flat=True)) == names(
        contacts, lambda r: r["car"] == car)
    assert sorted(folder.filter(phone_numbers__CarPhone__exists=True).values_list("given_name", flat=True)) == names(
        contacts, lambda r: r["car"] is not None)
    got = folder.filter(physical_addresses__Home__street__icontains="high").values_list("given_name", flat=True)
    assert sorted(got) == names(contacts, lambda r: r["street"] is not None and "high" in r["street"].casefold())
    got = folder.filter(Q(physical_addresses__Home__street__startswith="1") | Q(phone_numbers__CarPhone="+45 0007"))
    assert sorted(i.given_name for i in got) == names(
        contacts, lambda r: (r["street"] or "").startswith("1") or r["car"] == "+45 0007")


def test_order_by_an_indexed_part(exchange, contacts):
    folder = exchange.account(JOHN).contacts
    got = list(folder.all().order_by("physical_addresses__Home__street", "given_name")
               .values_list("physical_addresses__Home__street", "given_name"))
    with_street = sorted((r["street"], r["given_name"]) for r in contacts if r["street"])
    without = sorted([None, r["given_name"]] for r in contacts if not r["street"])
    assert got == without + [list(x) for x in with_street]  # items without the value come first
    desc = list(folder.all().order_by("-phone_numbers__CarPhone", "given_name").values_list(
        "phone_numbers__CarPhone", flat=True))
    cars = sorted((r["car"] for r in contacts if r["car"]), reverse=True)
    assert desc == cars + [None] * (len(contacts) - len(cars))


def test_only_fetches_just_the_indexed_entry_or_part(exchange, contacts):
    folder = exchange.account(JOHN).contacts
    first = next(r for r in contacts if r["car"] and r["street"])
    item = folder.filter(given_name=first["given_name"]).only("phone_numbers__CarPhone").get()
    assert item.phone_numbers == [PhoneNumber(label="CarPhone", phone_number=first["car"])]  # not HomePhone
    assert item.given_name is None
    item = folder.filter(given_name=first["given_name"]).only("physical_addresses__Home__street").get()
    assert [(a.label, a.street, a.city) for a in item.physical_addresses] == [("Home", first["street"], None)]
    item = folder.filter(given_name=first["given_name"]).only("physical_addresses__Home").get()
    assert [(a.street, a.city) for a in item.physical_addresses] == [(first["street"], "Aarhus")]
    item = folder.filter(given_name=first["given_name"]).only("phone_numbers").get()
    assert {p.label for p in item.phone_numbers} == {"CarPhone", "HomePhone"}
    assert exchange.request_count("GetItem") == 0


def test_indexed_paths_are_checked_before_any_request(exchange, contacts):
    folder = exchange.account(JOHN).contacts
    with pytest.raises(ValueError, match="label must be one of"):
        folder.filter(phone_numbers__NoSuchPhone="1")
    with pytest.raises(ValueError, match="no part 'planet'"):
        folder.filter(physical_addresses__Home__planet="Mars")
    with pytest.raises(ValueError, match="several parts"):
        folder.filter(physical_addresses__Home="x")
    with pytest.raises(ValueError, match="search one entry"):
        folder.filter(phone_numbers="x")
    with pytest.raises(ValueError, match="not an indexed field"):
        folder.filter(given_name__Home="x")
    with pytest.raises(ValueError, match="can't sort"):
        folder.order_by("physical_addresses__Home")
    assert exchange.request_count() == 0


# --------------------------------------------------------------------------------------------------------------
# Paging with small pages, delete(), legacy API
# --------------------------------------------------------------------------------------------------------------

def make_messages(acc: Any, n: int, category: str) -> List[Message]:
    created = acc.inbox.add_items([Message(subject=f"{category} #{i:02d}", categories=[category]) for i in range(n)])
    assert all(isinstance(m, Message) for m in created), created
    return created


def test_small_pages_forward_and_backward(exchange):
    acc = exchange.account(JOHN)
    category = tag()
    make_messages(acc, 11, category)
    expected = [f"{category} #{i:02d}" for i in range(11)]

    def qs() -> QuerySet:
        q = acc.inbox.filter(categories=category).order_by("subject").values_list("subject", flat=True)
        q.page_size = 3
        return q

    for key, requests in ((slice(None), 4), (slice(-7, None), 3), (slice(-20, None), 4), (slice(2, -2), 3),
                          (slice(-4, 9), 2), (slice(-4, -9), 0)):
        exchange.reset_stats()
        assert list(qs()[key]) == expected[key], key
        assert exchange.request_count("FindItem") == requests, key
    assert qs()[-11] == expected[0]


def test_delete_returns_one_result_per_item_and_removes_them(exchange):
    acc = exchange.account(JOHN)
    category = tag()
    make_messages(acc, 8, category)
    qs = acc.inbox.filter(categories=category).order_by("subject")
    assert qs[:3].delete() == [True, True, True]
    left = list(acc.inbox.filter(categories=category).order_by("subject").values_list("subject", flat=True))
    assert left == [f"{category} #{i:02d}" for i in range(3, 8)]
    results = acc.inbox.filter(categories=category).delete()
    assert results == [True] * 5
    assert not acc.inbox.filter(categories=category).exists()
    assert exchange.request_count("DeleteItem") == 2


def test_legacy_find_items_still_works_with_ordering(exchange):
    acc = exchange.account(JOHN)
    category = tag()
    created = make_messages(acc, 4, category)
    ids = acc.inbox.find_items(f"categories in ('{category}')", order_by=["-subject"])
    assert ids == [(m.id, m.changekey) for m in reversed(created)]
    items = acc.inbox.get_items(ids)
    assert [m.subject for m in items] == [m.subject for m in reversed(created)]
    assert acc.inbox.delete_items(ids) == [True] * 4


def test_view_on_a_calendar_with_an_empty_window(exchange):
    acc = exchange.account(JOHN)
    start = EWSDateTime(1999, 1, 1, tzinfo=UTC)
    assert list(acc.calendar.view(start=start, end=start)) == []
    assert acc.calendar.view(start=start, end=start).count() == 0


# --------------------------------------------------------------------------------------------------------------
# No server needed
# --------------------------------------------------------------------------------------------------------------

def test_queryset_is_lazy_and_describes_itself():
    qs = Calendar().filter(subject__startswith="a").exclude(location="x").order_by("-start", "subject")[:5]
    assert repr(qs) == ("QuerySet(folder=Calendar, q=AND(Q(subject__startswith='a'), ~Q(location__exact='x')), "
                        "order_by=-start, subject, slice=[:5])")
    with pytest.raises(ValueError, match="has no account"):
        list(qs)


def test_chaining_returns_new_querysets():
    base = Calendar().all()
    a = base.filter(subject="a")
    b = base.only("subject")
    assert base.q.is_empty() and base.only_fields is None
    assert a is not base and b is not base and a.only_fields is None


def test_text_equality_is_sent_as_a_case_sensitive_full_string_match():
    resolver = FieldResolver(Calendar().supported_item_models)
    elem = Q(subject="Foo").to_xml(resolver, None)
    assert elem.tag == f"{{{TNS}}}Contains"
    assert (elem.get("ContainmentMode"), elem.get("ContainmentComparison")) == ("FullString", "Exact")
    elem = Q(reminder_minutes_before_start=5).to_xml(resolver, None)
    assert elem.tag == f"{{{TNS}}}IsEqualTo"
    elem = Q(importance="High").to_xml(resolver, None)  # an enumeration: compared as a value
    assert elem.tag == f"{{{TNS}}}IsEqualTo"


def test_field_paths():
    models = (Contact,)
    fp = FieldPath.from_string("physical_addresses__Home__street", models)
    assert fp.path == "physical_addresses__Home__street" and fp.is_text
    xml = fp.field_path_xml()
    assert (xml.get("FieldURI"), xml.get("FieldIndex")) == ("contacts:PhysicalAddress:Street", "Home")
    assert len(FieldPath.from_string("physical_addresses__Home", models).expand()) == 5
    assert FieldPath.from_string("item_id", models).get_value(Contact(id="abc", changekey="ck")) == "abc"
    c = Contact(phone_numbers=[PhoneNumber(label="CarPhone", phone_number="1")])
    assert FieldPath.from_string("phone_numbers__CarPhone", models).get_value(c) == "1"
    assert FieldPath.from_string("phone_numbers__Pager", models).get_value(c) is None


def test_settings_and_argument_checks():
    qs = Inbox().all()
    qs.page_size = 5
    qs.chunk_size = 2
    clone = qs.filter(subject="x")
    assert (clone.page_size, clone.chunk_size) == (5, 2)
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="page_size"):
            qs.page_size = bad
    with pytest.raises(ValueError, match="step"):
        qs[::0]
    with pytest.raises(TypeError):
        qs[1.5]
    with pytest.raises(ValueError, match="at least one"):
        qs.only()
    with pytest.raises(ValueError, match="needs at least one"):
        qs.values()
    with pytest.raises(TypeError, match="aware"):
        Calendar().view(start="2020-01-01", end="2020-01-02")
    with pytest.raises(ValueError, match="naive"):
        import datetime
        Calendar().view(start=datetime.datetime(2020, 1, 1), end=datetime.datetime(2020, 1, 2))
