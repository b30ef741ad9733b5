"""The lazy QuerySet against a calendar of 2,000 generated items on the local server.

Every expected result is computed in Python from the generated data, independently of the library:
lookups, Q combinations, multi-field ordering, each slicing form (and how many FindItem requests it
costs), count(), exists(), values_list(flat=True) and view().
"""
from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from exchangelib import UTC, CalendarItem, EWSDateTime, Q
from exchangelib.errors import DoesNotExist, MultipleObjectsReturned
from exchangelib.queryset import QuerySet
from exchangelib.services import FindItem
from exchangelib.testing import LocalExchange
from exchangelib.xml import MNS, TNS

JOHN = "john@example.com"
N = 2000
WORDS = ("Alpha", "alpha", "BETA", "beta", "Gamma", "delta")
CATEGORIES = ("red", "green", "blue", "Yellow")
LOCATIONS = ("Room 1", "room 2", "Hall", None)
IMPORTANCES = ("Low", "Normal", "High")
BASE = EWSDateTime(2030, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class Row:
    """What we generated for one item: the source of every expected result."""

    subject: str
    categories: List[str]
    start: EWSDateTime
    end: EWSDateTime
    location: Optional[str]
    reminder: int
    importance: str
    body: str
    id: str = field(default="")


def generate(n: int) -> List[Row]:
    rng = random.Random(20260501)
    rows = []
    for i in range(n):
        start = BASE + datetime.timedelta(minutes=15 * rng.randrange(0, 4 * 24 * 30))
        rows.append(Row(
            subject=f"{WORDS[i % len(WORDS)]} {i:04d}",
            categories=rng.sample(CATEGORIES, rng.choice((0, 1, 1, 2, 3))),
            start=start,
            end=start + datetime.timedelta(minutes=rng.choice((15, 30, 60, 120))),
            location=rng.choice(LOCATIONS),
            reminder=rng.choice((0, 5, 15, 30, 60)),
            importance=rng.choice(IMPORTANCES),
            body=f"Agenda number {i}",
        ))
    return rows


@dataclass
class Data:
    server: LocalExchange
    folder: Any
    rows: List[Row]

    def by(self, pred: Callable[[Row], bool]) -> List[str]:
        return sorted(r.subject for r in self.rows if pred(r))


@pytest.fixture(scope="module")
def data(_module_exchange: LocalExchange) -> Data:
    server = _module_exchange
    acc = server.account(JOHN)
    cal = acc.calendar
    rows = generate(N)
    items = []
    for r in rows:
        kwargs: Dict[str, Any] = dict(subject=r.subject, start=r.start, end=r.end, reminder_minutes_before_start=r.reminder,
                                      importance=r.importance, body=r.body)
        if r.categories:
            kwargs["categories"] = r.categories
        if r.location is not None:
            kwargs["location"] = r.location
        items.append(CalendarItem(**kwargs))
    created = acc.bulk_create(cal, items, chunk_size=250)
    assert all(isinstance(c, CalendarItem) for c in created), [c for c in created if isinstance(c, Exception)][:3]
    for r, c in zip(rows, created):
        r.id = c.id
    return Data(server, cal, rows)


def subjects(qs: QuerySet) -> List[str]:
    qs = qs.values_list("subject", flat=True)
    qs.page_size = 1000
    return sorted(qs)


def fold(s: Optional[str]) -> Optional[str]:
    return s.casefold() if s is not None else None


T1 = BASE + datetime.timedelta(days=7)
T2 = BASE + datetime.timedelta(days=9, hours=5)

# (lookups, Python predicate) for each lookup kind
LOOKUP_CASES = [
    ({"subject": "Alpha 0006"}, lambda r: r.subject == "Alpha 0006"),
    ({"subject__exact": "alpha 0007"}, lambda r: r.subject == "alpha 0007"),
    ({"subject__iexact": "ALPHA 0007"}, lambda r: r.subject.casefold() == "alpha 0007"),
    ({"subject__contains": "ta 01"}, lambda r: "ta 01" in r.subject),
    ({"subject__icontains": "TA 01"}, lambda r: "ta 01" in r.subject.casefold()),
    ({"subject__startswith": "beta"}, lambda r: r.subject.startswith("beta")),
    ({"subject__istartswith": "beta"}, lambda r: r.subject.casefold().startswith("beta")),
    ({"location__in": ["Hall", "room 2"]}, lambda r: r.location in ("Hall", "room 2")),
    ({"location__not": "Hall"}, lambda r: r.location != "Hall"),
    ({"start__gt": T1}, lambda r: r.start > T1),
    ({"start__gte": T1}, lambda r: r.start >= T1),
    ({"start__lt": T1}, lambda r: r.start < T1),
    ({"start__lte": T1}, lambda r: r.start <= T1),
    ({"start__range": (T1, T2)}, lambda r: T1 <= r.start <= T2),
    ({"reminder_minutes_before_start__gte": 30}, lambda r: r.reminder >= 30),
    ({"reminder_minutes_before_start__in": [0, 60]}, lambda r: r.reminder in (0, 60)),
    ({"reminder_minutes_before_start__range": (5, 15)}, lambda r: 5 <= r.reminder <= 15),
    ({"importance": "High"}, lambda r: r.importance == "High"),
    ({"importance__in": ["Low", "High"]}, lambda r: r.importance in ("Low", "High")),
    ({"subject__gt": "beta"}, lambda r: r.subject.casefold() > "beta"),  # Exchange compares text ignoring case
    ({"location__exists": True}, lambda r: r.location is not None),
    ({"location__exists": False}, lambda r: r.location is None),
    # list field (categories): a value matches when any category matches; a list means "has all of them"
    ({"categories": "red"}, lambda r: "red" in r.categories),
    ({"categories__contains": ["red", "blue"]}, lambda r: {"red", "blue"} <= set(r.categories)),
    ({"categories__in": ["red", "blue"]}, lambda r: bool({"red", "blue"} & set(r.categories))),
    ({"categories__icontains": "ELL"}, lambda r: any("ell" in c.casefold() for c in r.categories)),
    ({"categories__iexact": "yellow"}, lambda r: "yellow" in [c.casefold() for c in r.categories]),
    ({"categories__not": "red"}, lambda r: "red" not in r.categories),
    ({"categories__exists": True}, lambda r: bool(r.categories)),
    ({"categories__exists": False}, lambda r: not r.categories),
    # several lookups in one call are ANDed
    ({"location": "Hall", "reminder_minutes_before_start__lt": 15, "subject__istartswith": "a"},
     lambda r: r.location == "Hall" and r.reminder < 15 and r.subject.casefold().startswith("a")),
]


@pytest.mark.parametrize("lookups, pred", LOOKUP_CASES, ids=[",".join(c[0]) for c in LOOKUP_CASES])
def test_each_lookup_matches_what_python_computes(data, exchange, lookups, pred):
    expected = data.by(pred)
    assert expected, "the generated data should exercise this lookup"
    assert subjects(data.folder.filter(**lookups)) == expected


def test_exact_is_case_sensitive_but_iexact_is_not(data, exchange):
    assert subjects(data.folder.filter(subject="ALPHA 0007")) == []
    assert len(subjects(data.folder.filter(subject__iexact="ALPHA 0007"))) == 1


A = Q(location="Hall")
B = Q(categories="red")
C = Q(reminder_minutes_before_start__gte=30)


def a(r: Row) -> bool:
    return r.location == "Hall"


def b(r: Row) -> bool:
    return "red" in r.categories


def c(r: Row) -> bool:
    return r.reminder >= 30


Q_CASES = [
    ("A & B", A & B, lambda r: a(r) and b(r)),
    ("A | B", A | B, lambda r: a(r) or b(r)),
    ("~A", ~A, lambda r: not a(r)),
    ("~(A & B)", ~(A & B), lambda r: not (a(r) and b(r))),
    ("~(A | B)", ~(A | B), lambda r: not (a(r) or b(r))),
    ("(A | B) & ~C", (A | B) & ~C, lambda r: (a(r) or b(r)) and not c(r)),
    ("A | (B & ~C)", A | (B & ~C), lambda r: a(r) or (b(r) and not c(r))),
    ("~A | ~B | C", ~A | ~B | C, lambda r: not a(r) or not b(r) or c(r)),
    ("~~A", ~~A, a),
    ("(A & B) | (~A & C)", (A & B) | (~A & C), lambda r: (a(r) and b(r)) or (not a(r) and c(r))),
    ("Q(x=, y=)", Q(location="Hall", categories="red"), lambda r: a(r) and b(r)),
]


@pytest.mark.parametrize("name, q, pred", Q_CASES, ids=[c[0] for c in Q_CASES])
def test_q_combinations(data, exchange, name, q, pred):
    assert subjects(data.folder.filter(q)) == data.by(pred)


def test_q_mixed_with_keywords_exclude_and_chaining(data, exchange):
    qs = data.folder.filter(A | B, importance="High").exclude(C).filter(subject__icontains="a")
    expected = data.by(lambda r: (a(r) or b(r)) and r.importance == "High" and not c(r)
                       and "a" in r.subject.casefold())
    assert subjects(qs) == expected
    assert subjects(data.folder.exclude(A, B)) == data.by(lambda r: not (a(r) and b(r)))


def test_a_base_queryset_feeds_many_sub_searches(data, exchange):
    base = data.folder.filter(categories="red")
    halls = base.filter(location="Hall")
    others = base.exclude(location="Hall")
    assert subjects(halls) == data.by(lambda r: b(r) and a(r))
    assert subjects(others) == data.by(lambda r: b(r) and not a(r))
    assert subjects(base) == data.by(b)


def _sort_key(value: Any) -> Tuple[int, Any]:
    if value is None:
        return (0, "")
    return (1, value.casefold() if isinstance(value, str) else value)


def expected_order(rows: List[Row], *orders: str) -> List[str]:
    """Sort rows like Exchange: string keys ignore case; rows without the value come first ascending."""
    attr = {"location": "location", "reminder_minutes_before_start": "reminder", "subject": "subject",
            "start": "start", "end": "end", "importance": "importance"}
    out = list(rows)
    for o in reversed(orders):
        desc = o.startswith("-")
        name = attr[o.lstrip("-")]
        out.sort(key=lambda r: _sort_key(getattr(r, name)), reverse=desc)
    return [r.subject for r in out]


@pytest.mark.parametrize("orders", [
    ("subject",),
    ("-subject",),
    ("start", "subject"),
    ("-reminder_minutes_before_start", "start", "-subject"),
    ("location", "-end", "subject"),
    ("-location", "reminder_minutes_before_start", "subject"),
])
def test_order_by_one_or_many_fields_is_done_by_the_server(data, exchange, orders):
    qs = data.folder.filter(categories="green").order_by(*orders).values_list("subject", flat=True)
    qs.page_size = 1000
    rows = [r for r in data.rows if "green" in r.categories]
    assert list(qs) == expected_order(rows, *orders)
    assert exchange.request_count("GetItem") == 0


def test_reverse_flips_every_sort_key(data, exchange):
    qs = data.folder.filter(location="Hall").order_by("reminder_minutes_before_start", "-subject")
    rows = [r for r in data.rows if a(r)]
    assert list(qs.reverse().values_list("subject", flat=True)) == expected_order(
        rows, "-reminder_minutes_before_start", "subject")
    with pytest.raises(ValueError, match="order_by"):
        data.folder.all().reverse()


@pytest.fixture
def ordered(data: Data) -> Tuple[QuerySet, List[str]]:
    """Every item sorted by subject (unique), and the expected order."""
    expected = sorted((r.subject for r in data.rows), key=str.casefold)  # Exchange sorts text ignoring case
    return data.folder.order_by("subject").values_list("subject", flat=True), expected


@pytest.mark.parametrize("key, requests", [
    (slice(None, 10), 1),
    (slice(10, 20), 1),
    (slice(10, 250), 3),  # 100 + 100 + 40
    (slice(1990, None), 1),  # the page is asked for 100; the response says it holds the last item
    (slice(N, None), 1),
    (slice(-10, None), 1),  # BasePoint=End
    (slice(-250, -10), 3),  # three pages walking back from the end
    (slice(-10, N - 5), 1),
    (slice(None, -10), N // 100),  # from the start until 10 before the end: the first page tells the total
    (slice(None, -1990), 1),
    (slice(10, 20, 3), 1),
    (slice(None, None, 3), N // 100),
    (slice(-30, None, 7), 1),
    (slice(5, 5), 0),
    (slice(-5, -10), 0),
])
def test_slicing_maps_to_paging(ordered, exchange, key, requests):
    qs, expected = ordered
    result = qs[key]
    assert isinstance(result, QuerySet) and exchange.request_count() == 0  # still lazy
    assert list(result) == expected[key]
    assert exchange.request_count("FindItem") == requests


def test_indexing_fetches_one_item(ordered, exchange):
    qs, expected = ordered
    assert qs[0] == expected[0]
    assert qs[1234] == expected[1234]
    assert qs[-1] == expected[-1]
    assert qs[-77] == expected[-77]
    assert exchange.request_count("FindItem") == 4
    with pytest.raises(IndexError):
        qs[N + 5]
    with pytest.raises(IndexError):
        qs[-N - 1]
    with pytest.raises(TypeError):
        qs["1"]


def test_negative_step_and_slices_of_slices_use_python_semantics(ordered, exchange):
    qs, expected = ordered
    assert qs.all()[::-1][:3] == expected[::-1][:3]
    assert exchange.request_count("FindItem") == N // 100
    assert qs[10:50][5:8] == expected[10:50][5:8]


def test_full_iteration_pages_until_the_last_item(data, exchange):
    qs = data.folder.all().values_list("subject", flat=True)
    qs.page_size = 500
    assert sorted(qs) == sorted(r.subject for r in data.rows)
    assert exchange.request_count("FindItem") == 4  # no fifth, empty request
    exchange.reset_stats()
    qs2 = data.folder.all().values_list("subject", flat=True)
    qs2.page_size = 700
    assert len(list(qs2)) == N and exchange.request_count("FindItem") == 3


def test_only_the_pages_consumed_are_fetched(data, exchange):
    it = iter(data.folder.order_by("subject").values_list("subject", flat=True))
    first = [next(it) for _ in range(150)]
    assert first == sorted((r.subject for r in data.rows), key=str.casefold)[:150]
    it.close()  # waits for the pages still in flight
    # The two pages consumed, plus at most max_connections fetched ahead concurrently: never all 20 pages
    assert 2 <= exchange.request_count("FindItem") <= 2 + data.folder.account.protocol.max_connections


@pytest.fixture
def sent_find_items(monkeypatch) -> List[Any]:
    """The FindItem payloads the client sends (observed, not altered)."""
    sent: List[Any] = []
    original = FindItem._post

    def record(self, payload):
        sent.append(payload)
        return original(self, payload)

    monkeypatch.setattr(FindItem, "_post", record)
    return sent


def test_count_and_exists_are_one_cheap_request(data, exchange, sent_find_items):
    assert data.folder.all().count() == N
    assert data.folder.filter(location="Hall").count() == len(data.by(a))
    assert data.folder.filter(subject="nothing like this").count() == 0
    assert data.folder.all().exists() is True
    assert data.folder.filter(subject="nothing like this").exists() is False
    assert exchange.request_count("FindItem") == 5
    assert exchange.request_count("GetItem") == 0
    for payload in sent_find_items:
        assert payload.findtext(f"{{{MNS}}}ItemShape/{{{TNS}}}BaseShape") == "IdOnly"
        assert payload.find(f"{{{MNS}}}ItemShape/{{{TNS}}}AdditionalProperties") is None
        assert payload.find(f"{{{MNS}}}IndexedPageItemView").get("MaxEntriesReturned") == "1"


def test_count_of_a_slice_and_of_a_cached_queryset(ordered, exchange):
    qs, expected = ordered
    assert qs[10:25].count() == 15
    assert qs[-40:].count() == 40
    assert qs[N - 5:N + 10].count() == 5
    assert exchange.request_count("FindItem") == 3
    cached = qs.filter(location="Hall")
    n = len(list(cached))
    exchange.reset_stats()
    assert cached.count() == n and cached.exists()
    assert exchange.request_count() == 0


def test_none_matches_nothing_without_a_request(data, exchange):
    qs = data.folder.none()
    assert list(qs) == [] and qs.count() == 0 and not qs.exists() and qs.delete() == []
    assert list(data.folder.all().none().filter(location="Hall")) == []
    assert exchange.request_count() == 0


def test_results_are_cached_after_full_iteration_but_not_by_iterator(data, exchange):
    qs = data.folder.filter(location="Hall", categories="blue")
    first = list(qs)
    assert len(first) == len(data.by(lambda r: a(r) and "blue" in r.categories))
    n = exchange.request_count()
    assert list(qs) == first and len(qs) == len(first) and bool(qs)
    assert qs[0] is first[0] and qs[-1] is first[-1]
    assert exchange.request_count() == n  # served from the cache
    streamed = data.folder.filter(location="Hall", categories="blue").only("subject")
    exchange.reset_stats()
    once = [i.subject for i in streamed.iterator()]
    per_pass = exchange.request_count("FindItem")
    assert per_pass >= 1
    assert [i.subject for i in streamed.iterator()] == once
    assert exchange.request_count("FindItem") == 2 * per_pass  # nothing was cached
    assert "cached" not in repr(streamed)


def test_partial_iteration_does_not_cache(data, exchange):
    qs = data.folder.order_by("subject").only("subject")
    it = iter(qs)
    next(it)
    assert "cached" not in repr(qs)


def test_values_and_values_list(data, exchange):
    row = next(r for r in data.rows if r.location is not None and r.categories)
    got = data.folder.filter(subject=row.subject).values("subject", "location", "item_id", "categories")
    assert list(got) == [{"subject": row.subject, "location": row.location, "item_id": row.id,
                          "categories": row.categories}]
    got_list = data.folder.filter(subject=row.subject).values_list("subject", "reminder_minutes_before_start",
                                                                   "start")
    assert list(got_list) == [[row.subject, row.reminder, row.start]]
    ids = data.folder.filter(location="Hall").values_list("id", flat=True)
    assert sorted(ids) == sorted(r.id for r in data.rows if a(r))
    assert exchange.request_count("GetItem") == 0
    with pytest.raises(ValueError, match="exactly one"):
        data.folder.values_list("subject", "start", flat=True)


def test_fields_findItem_cannot_return_come_from_getitem_in_order(data, exchange):
    qs = data.folder.filter(location="room 2").order_by("-start", "subject").only("subject", "body")
    qs.chunk_size = 7
    expected = [r for r in data.rows if r.location == "room 2"]
    expected.sort(key=lambda r: r.subject.casefold())
    expected.sort(key=lambda r: r.start, reverse=True)
    expected = expected[:40]
    got = list(qs[:40])
    assert [(i.subject, str(i.body)) for i in got] == [(r.subject, r.body) for r in expected]
    assert exchange.request_count("FindItem") == 1
    assert exchange.request_count("GetItem") == 6  # ceil(40 / 7) chunks, over the thread pool
    assert all(i.folder is data.folder for i in got)


def test_full_items_by_default(data, exchange):
    row = data.rows[7]
    item = data.folder.get(subject=row.subject)
    assert isinstance(item, CalendarItem)
    assert str(item.body) == row.body and item.start == row.start and item.id == row.id
    assert item.location == row.location and item.categories == (row.categories or None)
    assert exchange.request_count("FindItem") == 1 and exchange.request_count("GetItem") == 1


def test_get_raises_when_not_exactly_one(data, exchange):
    with pytest.raises(DoesNotExist, match="No item"):
        data.folder.get(subject="no such subject")
    with pytest.raises(MultipleObjectsReturned):
        data.folder.get(location="Hall")
    hall = next(r for r in data.rows if a(r))
    assert data.folder.filter(location="Hall").values_list("id", flat=True).get(subject=hall.subject) == hall.id


def test_query_string_is_passed_to_the_server(data, exchange):
    expected = data.by(lambda r: r.subject.casefold().startswith("alpha"))
    assert subjects(data.folder.filter("subject:alpha")) == expected
    with pytest.raises(ValueError, match="QueryString"):
        data.folder.filter("subject:alpha", location="Hall")
    with pytest.raises(ValueError, match="QueryString"):
        data.folder.filter("subject:alpha").filter(location="Hall")
    with pytest.raises(ValueError, match="QueryString"):
        data.folder.filter(location="Hall").filter("subject:alpha")


def _overlaps(r: Row, start: EWSDateTime, end: EWSDateTime) -> bool:
    return r.start < end and r.end > start


def test_view_returns_items_overlapping_the_window_sorted_by_start(data, exchange):
    start = BASE + datetime.timedelta(days=3, hours=2)
    end = start + datetime.timedelta(hours=20)
    got = list(data.folder.view(start=start, end=end).values_list("subject", "start"))
    expected = [r for r in data.rows if _overlaps(r, start, end)]
    assert sorted(s for s, _ in got) == sorted(r.subject for r in expected)
    assert [s for _, s in got] == sorted(r.start for r in expected)
    assert exchange.request_count("FindItem") == 1
    capped = data.folder.view(start=start, end=end, max_items=5).values_list("subject", flat=True)
    assert len(list(capped)) == 5
    assert data.folder.view(start=start, end=end).count() == len(expected)
    with pytest.raises(ValueError, match="calendar view"):
        data.folder.view(start=start, end=end).filter(location="Hall")
    with pytest.raises(ValueError, match="before start"):
        data.folder.view(start=end, end=start)


def test_bad_queries_fail_before_any_request(data, exchange):
    f = data.folder
    with pytest.raises(ValueError, match="Unknown field 'nosuchfield'"):
        f.filter(nosuchfield=1)
    with pytest.raises(ValueError, match="not searchable"):
        f.filter(culture="da-DK")
    with pytest.raises(TypeError, match="str"):
        f.filter(subject__gt=5)
    with pytest.raises(ValueError, match="start__gt"):
        f.filter(start__gt="not a date")
    with pytest.raises(ValueError, match="text fields only"):
        f.filter(start__contains="2030")
    with pytest.raises(TypeError, match="Q objects"):
        f.exclude("subject:foo")
    with pytest.raises(ValueError, match="can't sort"):
        f.order_by("body")
    with pytest.raises(ValueError, match="Unknown field"):
        f.order_by("-nosuchfield")
    with pytest.raises(ValueError, match="Unknown field"):
        f.only("nosuchfield")
    with pytest.raises(TypeError, match="sliced"):
        f.all()[:10].filter(location="Hall")
    with pytest.raises(ValueError, match="page_size"):
        f.all().page_size = 0
    assert exchange.request_count() == 0
