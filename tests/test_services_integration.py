"""EWS services over real HTTP against the local server: per-item results, chunking, paging, concurrency.

Batch operations return one result per input, in input order: the object (or True), or the exception
instance for that input. The strict server validates every request against the EWS XSDs (and its own
responses); the ``exchange`` / ``make_exchange`` fixtures fail a test that sent an invalid request.
"""
from __future__ import annotations

import datetime
import uuid
from typing import List

import pytest

from exchangelib import (NTLM, Account, Build, CalendarItem, Configuration, EWSDateTime, EWSTimeZone, Message,
                         Version)
from exchangelib.errors import (ErrorInvalidIdMalformed, ErrorIrresolvableConflict, ErrorItemNotFound,
                                ErrorNameResolutionNoResults, ErrorServerBusy, ResponseMessageError)
from exchangelib.services import ConvertId, FindFolder, FindItem, GetFolder
from exchangelib.services.update_item import NEVER_OVERWRITE
from exchangelib.testing import LocalExchange, Latency, ServerBusy

JOHN = "john@example.com"
MALFORMED_ID = "this-is-not-an-ews-id"


def tag() -> str:
    """A category unique to one test, so tests sharing the module's server don't see each other's items."""
    return f"t-{uuid.uuid4().hex[:10]}"


def make_messages(acc: Account, n: int, category: str) -> List[Message]:
    created = acc.inbox.add_items([Message(subject=f"{category} #{i}", categories=[category]) for i in range(n)])
    assert all(isinstance(m, Message) and m.id for m in created), created
    return created


def fresh_account(server: LocalExchange, **kwargs) -> Account:
    """John's account on its own Protocol (max_connections etc. as given), version known."""
    cfg = Configuration(service_endpoint=server.url, credentials=server.credentials(JOHN), auth_type=NTLM,
                        version=Version(build=Build(*server.build)), verify=server.verify, **kwargs)
    return Account(JOHN, config=cfg)


def assert_error(result, cls, operation: str) -> None:
    assert isinstance(result, cls), result
    assert isinstance(result, ResponseMessageError)
    assert result.response_code == cls.__name__
    assert result.operation == operation


# --------------------------------------------------------------------------------------------------------------
# Per-item error mapping
# --------------------------------------------------------------------------------------------------------------

def test_fetch_maps_each_input_to_its_item_or_error_in_order(exchange):
    acc = exchange.account(JOHN)
    a, b, gone = make_messages(acc, 3, tag())
    assert acc.bulk_delete([gone]) == [True]
    ids = [(a.id, a.changekey), MALFORMED_ID, (gone.id, gone.changekey), (b.id, b.changekey), ""]
    results = list(acc.fetch(ids))
    assert len(results) == 5
    assert isinstance(results[0], Message) and results[0].id == a.id and results[0].subject == a.subject
    assert_error(results[1], ErrorInvalidIdMalformed, "GetItem")
    assert_error(results[2], ErrorItemNotFound, "GetItem")
    assert isinstance(results[3], Message) and results[3].id == b.id
    assert isinstance(results[4], ValueError)  # rejected by the client, never sent
    assert exchange.request_count("GetItem") == 1


def test_folder_get_items_and_delete_items_map_errors_in_order(exchange):
    acc = exchange.account(JOHN)
    a, b, gone = make_messages(acc, 3, tag())
    assert acc.inbox.delete_items([gone]) == [True]
    got = acc.inbox.get_items([a, MALFORMED_ID, gone, b])
    assert [type(r) for r in got] == [Message, ErrorInvalidIdMalformed, ErrorItemNotFound, Message]
    assert got[0].folder is acc.inbox and got[3].subject == b.subject
    deleted = acc.bulk_delete([a, (gone.id, gone.changekey), MALFORMED_ID, b.id])
    assert deleted[0] is True and deleted[3] is True
    assert_error(deleted[1], ErrorItemNotFound, "DeleteItem")
    assert_error(deleted[2], ErrorInvalidIdMalformed, "DeleteItem")
    assert all(isinstance(r, ErrorItemNotFound) for r in acc.fetch([a, b]))


def test_bulk_update_maps_conflicts_and_missing_items_in_order(exchange):
    acc = exchange.account(JOHN)
    ok, stale, gone = make_messages(acc, 3, tag())
    old_changekey = stale.changekey
    stale.subject = "first edit"
    assert isinstance(acc.bulk_update([(stale, ["subject"])])[0], tuple)
    assert stale.changekey != old_changekey  # every write changes the changekey
    stale._set_id(stale.id, old_changekey)
    acc.bulk_delete([gone])
    ok.subject, stale.subject, gone.subject = "updated", "second edit", "too late"
    results = acc.bulk_update([(ok, ["subject"]), (stale, ["subject"]), (gone, ["subject"]), (ok, "subject")],
                              conflict_resolution=NEVER_OVERWRITE)
    assert results[0] == (ok.id, ok.changekey)
    assert_error(results[1], ErrorIrresolvableConflict, "UpdateItem")
    assert_error(results[2], ErrorItemNotFound, "UpdateItem")
    assert isinstance(results[3], TypeError)  # field names given as a str: caught before sending
    [fetched] = acc.fetch([ok.id])
    assert fetched.subject == "updated"


def test_bulk_create_reports_each_item(exchange):
    acc = exchange.account(JOHN)
    category = tag()
    tz = EWSTimeZone.timezone("Europe/Copenhagen")
    start = tz.localize(EWSDateTime(2024, 3, 20, 9, 0))
    items = [Message(subject="ok", categories=[category]), "not an item",
             CalendarItem(subject="meeting", start=start, end=start + datetime.timedelta(hours=1),
                          categories=[category])]
    results = acc.bulk_create(folder=acc.inbox, items=items[:2])
    assert isinstance(results[0], Message) and results[0].id
    assert isinstance(results[1], TypeError)
    [cal] = acc.calendar.add_items(items[2:])
    assert isinstance(cal, CalendarItem) and cal.id
    [back] = acc.fetch([cal])
    assert back.start == start and back.subject == "meeting"


def test_a_whole_chunk_failing_yields_its_error_for_each_of_its_inputs(exchange):
    acc = fresh_account(exchange, max_connections=1)  # plain Credentials: FailFast
    items = make_messages(acc, 5, tag())
    exchange.inject(ServerBusy(back_off_ms=1000), count=1, operations="GetItem")
    results = list(acc.fetch(items, chunk_size=2))
    assert [type(r) for r in results] == [ErrorServerBusy, ErrorServerBusy, Message, Message, Message]
    assert results[0].back_off == 1.0
    assert [r.id for r in results[2:]] == [m.id for m in items[2:]]


# --------------------------------------------------------------------------------------------------------------
# Chunking, paging and bounded concurrency
# --------------------------------------------------------------------------------------------------------------

def test_fetch_is_chunked_and_concurrency_is_bounded_by_max_connections(exchange):
    acc = fresh_account(exchange, max_connections=3)
    items = make_messages(acc, 24, tag())
    exchange.reset_stats()
    with exchange.inject(Latency(40), count=None, operations="GetItem"):
        results = list(acc.fetch(items, chunk_size=2))
    assert [r.id for r in results] == [m.id for m in items]
    assert [r.subject for r in results] == [m.subject for m in items]
    assert exchange.request_count("GetItem") == 12
    assert exchange.max_concurrency_seen == 3  # parallel, but never more than max_connections


def test_max_connections_one_is_sequential(exchange):
    acc = fresh_account(exchange, max_connections=1)
    items = make_messages(acc, 6, tag())
    exchange.reset_stats()
    with exchange.inject(Latency(20), count=None, operations="GetItem"):
        results = list(acc.fetch(items, chunk_size=1))
    assert [r.id for r in results] == [m.id for m in items]
    assert exchange.max_concurrency_seen == 1


def test_find_items_pages_through_all_results(exchange):
    acc = exchange.account(JOHN)
    category = tag()
    items = make_messages(acc, 7, category)
    exchange.reset_stats()
    found = acc.inbox.find_items(categories__contains=[category], page_size=3)
    assert sorted(found) == sorted((m.id, m.changekey) for m in items)
    assert exchange.request_count("FindItem") == 3
    svc = FindItem(account=acc, page_size=3)
    first_two = list(svc.call(acc.inbox, max_items=2))
    assert len(first_two) == 2 and svc.requests_sent == 1
    assert svc.total_count is not None and svc.total_count >= 7


def test_find_items_with_all_properties_fetches_full_items(exchange):
    acc = exchange.account(JOHN)
    category = tag()
    make_messages(acc, 2, category)
    full = acc.inbox.find_items(categories__contains=[category], shape="AllProperties")
    assert sorted(m.subject for m in full) == [f"{category} #0", f"{category} #1"]
    assert all(m.categories == [category] for m in full)


# --------------------------------------------------------------------------------------------------------------
# Folders, names, ids
# --------------------------------------------------------------------------------------------------------------

def test_get_folder_maps_a_bad_folder_id_in_place(exchange):
    acc = exchange.account(JOHN)
    inbox = acc.inbox

    class Broken:
        id, changekey = MALFORMED_ID, None

    results = list(GetFolder(account=acc).call([inbox, Broken(), acc.calendar]))
    assert results[0].id == inbox.id and results[0].name == "Inbox"
    assert_error(results[1], ErrorInvalidIdMalformed, "GetFolder")
    assert results[2].id == acc.calendar.id


def test_find_folder_lists_the_well_known_folders_with_paging(exchange):
    acc = exchange.account(JOHN)
    names = {f.name for f in FindFolder(account=acc).call(acc.msg_folder_root, page_size=2)}
    assert {"Inbox", "Calendar", "Contacts", "Drafts"} <= names
    assert exchange.request_count("FindFolder") >= 3


def test_resolve_names_returns_mailboxes_or_the_error_per_name(exchange):
    acc = exchange.account(JOHN)
    results = acc.resolve_names(["john", "no-such-person-xyz", "mary@example.com"])
    assert [mb.email_address for mb in results[0]] == [JOHN]
    assert_error(results[1], ErrorNameResolutionNoResults, "ResolveNames")
    assert [mb.email_address for mb in results[2]] == ["mary@example.com"]


def test_convert_id_round_trip(exchange):
    acc = exchange.account(JOHN)
    [m] = make_messages(acc, 1, tag())
    converted = list(ConvertId(account=acc).call([(m.id, "EwsId", JOHN), (MALFORMED_ID, "EwsId", JOHN)], "EntryId"))
    entry_id, fmt, mailbox = converted[0]
    assert fmt == "EntryId" and mailbox == JOHN and entry_id != m.id
    assert_error(converted[1], ErrorInvalidIdMalformed, "ConvertId")
    [(back, fmt, _)] = list(ConvertId(account=acc).call([(entry_id, "EntryId", JOHN)], "EwsId"))
    assert back == m.id and fmt == "EwsId"


# --------------------------------------------------------------------------------------------------------------
# Requests for every server version validate against the schema
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2007_SP1", "2010", "2013", "online"])
def test_item_life_cycle_validates_on_each_server_version(make_exchange, version):
    server = make_exchange(version=version)
    acc = server.account(JOHN)
    category = tag()
    created = make_messages(acc, 2, category)
    assert len(acc.inbox.find_items(categories__contains=[category])) == 2
    created[0].subject = "edited"
    assert isinstance(acc.bulk_update([(created[0], ["subject"])])[0], tuple)
    fetched = list(acc.fetch(created))
    assert [m.subject for m in fetched] == ["edited", f"{category} #1"]
    assert acc.bulk_delete(created) == [True, True]
    assert acc.inbox.find_items(categories__contains=[category]) == []
    assert server.schema_errors == []


def test_app_only_bearer_account_runs_the_services(exchange):
    acc = exchange.account(JOHN, auth_type="bearer")
    category = tag()
    created = make_messages(acc, 2, category)
    assert len(list(acc.fetch(created))) == 2
    assert acc.bulk_delete(created) == [True, True]
    assert {r.user for r in exchange.request_log if r.status == 200} == {"app:local-app"}
