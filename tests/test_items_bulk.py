"""account.bulk_move, bulk_copy and bulk_send over HTTP (seed 002 "Bulk operations"): one result per input,
in input order, with the exception for a bad input in its place and the others done."""
from __future__ import annotations

import uuid

import pytest

from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone, Message
from exchangelib.errors import ErrorInvalidIdMalformed, ErrorItemNotFound, ErrorStaleObject
from exchangelib.folders import CalendarFolder, Folder

JOHN, MARY = "john@example.com", "mary@example.com"
BAD_ID = "this-is-not-an-ews-id"
TZ = EWSTimeZone.timezone("Europe/Copenhagen")


def tag() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def john(exchange):
    return exchange.account(JOHN)


def messages(account, folder, n: int, category: str):
    return folder.add_items([Message(subject=f"{category} #{i}", categories=[category]) for i in range(n)])


def test_seed_bulk_move_of_calendar_items_to_another_calendar(john):
    account = john
    category = tag()
    calendar_items = [CalendarItem(start=TZ.localize(EWSDateTime(2016, 3, 20, hour, 30)),
                                   end=TZ.localize(EWSDateTime(2016, 3, 20, hour + 1, 15)),
                                   subject='Test item', categories=[category]) for hour in range(7, 10)]
    account.bulk_create(folder=account.calendar, items=calendar_items)
    other_calendar = CalendarFolder(parent=account.calendar, name=f"other {category}")
    other_calendar.save()
    calendar_ids = [(i.item_id, i.changekey) for i in calendar_items]
    new_ids = account.bulk_move(ids=calendar_ids, to_folder=other_calendar)
    assert all(isinstance(i, tuple) and i[0] not in dict(calendar_ids) for i in new_ids), new_ids
    assert sorted(i.id for i in other_calendar.all()) == sorted(i for i, _ in new_ids)
    assert account.calendar.filter(categories__contains=[category]).count() == 0
    assert account.bulk_delete(new_ids) == [True] * 3
    other_calendar.delete()


def test_bulk_move_reports_a_bad_id_in_place_and_moves_the_others(john):
    category = tag()
    a, b, c = messages(john, john.inbox, 3, category)
    target = Folder(parent=john.inbox, name=f"moved {category}")
    target.save()
    b_id = b.id
    john.bulk_delete([b])
    results = john.bulk_move([a, BAD_ID, (b_id, None), c], to_folder=target)
    assert isinstance(results[1], ErrorInvalidIdMalformed) and isinstance(results[2], ErrorItemNotFound)
    assert isinstance(results[0], tuple) and isinstance(results[3], tuple)
    # item objects passed in follow the move
    assert (a.id, a.changekey) == results[0] and a.folder is target and c.id == results[3][0]
    assert sorted(i.subject for i in target.all()) == [f"{category} #0", f"{category} #2"]
    assert john.inbox.filter(categories__contains=[category]).count() == 0
    target.delete()


def test_bulk_copy_reports_a_bad_id_in_place_and_keeps_the_originals(john):
    category = tag()
    a, b = messages(john, john.inbox, 2, category)
    target = Folder(parent=john.inbox, name=f"copies {category}")
    target.save()
    results = john.bulk_copy([(a.id, a.changekey), BAD_ID, b.id], to_folder=target)
    assert isinstance(results[1], ErrorInvalidIdMalformed)
    assert {r[0] for r in (results[0], results[2])}.isdisjoint({a.id, b.id})
    assert sorted(i.subject for i in target.all()) == [f"{category} #0", f"{category} #1"]
    assert john.inbox.filter(categories__contains=[category]).count() == 2
    assert (a.folder, a.id) == (john.inbox, a.id)  # copying leaves the inputs alone
    target.delete()
    assert john.bulk_delete([a, b]) == [True, True]


def test_bulk_send_sends_drafts_and_reports_bad_ones_in_place(john, exchange):
    mary = exchange.account(MARY)
    category = tag()
    drafts = john.drafts.add_items([Message(subject=f"{category} #{i}", categories=[category], to_recipients=[MARY])
                                    for i in range(3)])
    stale = (drafts[2].id, drafts[2].changekey)
    drafts[2].subject = f"{category} #2 edited"
    drafts[2].save()
    message_ids = [(d.id, d.changekey) for d in drafts[:2]] + [BAD_ID, stale]
    new_ids = john.bulk_send(ids=message_ids, save_copy=False)
    assert new_ids[:2] == [True, True]
    assert isinstance(new_ids[2], ErrorInvalidIdMalformed) and isinstance(new_ids[3], ErrorStaleObject)
    # (delivered copies carry none of the sender's categories, as in Exchange: find them by subject)
    assert sorted(m.subject for m in mary.inbox.filter(subject__startswith=category)) == [
        f"{category} #0", f"{category} #1"]
    assert john.sent.filter(categories__contains=[category]).count() == 0
    assert john.bulk_send([drafts[2]]) == [True]  # save_copy defaults to True
    assert [m.subject for m in john.sent.filter(categories__contains=[category])] == [f"{category} #2 edited"]
    assert john.drafts.filter(categories__contains=[category]).count() == 0


def test_bulk_send_argument_errors(john):
    with pytest.raises(ValueError, match="saved_item_folder"):
        john.bulk_send([BAD_ID], save_copy=False, copy_to_folder=john.sent)
    with pytest.raises(TypeError, match="bool"):
        john.bulk_send([BAD_ID], save_copy="no")


def test_seed_bulk_create_with_field_pairs_updates_items(exchange):
    """Seed 002 writes ``account.bulk_create(items=[(i, ('start', 'subject')) for i in calendar_items])``."""
    from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone

    account = exchange.account("john@example.com")
    tz = EWSTimeZone.timezone("Europe/Copenhagen")
    items = [CalendarItem(subject=f"seed bulk {n}", start=tz.localize(EWSDateTime(2016, 3, 20, 7 + n, 30)),
                          end=tz.localize(EWSDateTime(2016, 3, 20, 8 + n, 15))) for n in range(3)]
    created = account.bulk_create(folder=account.calendar, items=items)
    assert all(not isinstance(c, Exception) for c in created)
    for i in items:
        i.subject = i.subject + " (updated)"
    updated_ids = account.bulk_create(items=[(i, ("start", "subject")) for i in items])
    assert [u[0] for u in updated_ids] == [i.id for i in items]
    fetched = list(account.fetch(ids=[(i.id, i.changekey) for i in items], only_fields=["subject"]))
    assert [f.subject for f in fetched] == [f"seed bulk {n} (updated)" for n in range(3)]
    account.bulk_delete(ids=items)
