"""Seed 002's "Searching" section, run as written against the local server, and docs/searching.rst's examples."""
from __future__ import annotations

import contextlib
import io
from datetime import timedelta
from pathlib import Path

import pytest

from exchangelib import Attendee, CalendarItem, Contact, EWSDateTime, EWSTimeZone, Mailbox, Q
from exchangelib.errors import DoesNotExist
from exchangelib.properties import PhysicalAddress

JOHN = "john@example.com"
DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def seeded(_module_exchange):
    account = _module_exchange.account(JOHN)
    # The seed's "Bulk operations" example builds these items.
    tz = EWSTimeZone.timezone('Europe/Copenhagen')
    year, month, day = 2016, 3, 20
    calendar_items = []
    for hour in range(7, 17):
        calendar_items.append(CalendarItem(
            start=tz.localize(EWSDateTime(year, month, day, hour, 30)),
            end=tz.localize(EWSDateTime(year, month, day, hour + 1, 15)),
            subject='Test item',
            body='Hello from Python',
            location='devnull',
            categories=['foo', 'bar'],
            required_attendees=[Attendee(
                mailbox=Mailbox(email_address='user1@example.com'),
                response_type='Accept'
            )]
        ))
    calendar_items.append(CalendarItem(start=tz.localize(EWSDateTime(2017, 6, 1, 10)),
                                       end=tz.localize(EWSDateTime(2017, 6, 1, 11)), subject='unique_string'))
    assert all(isinstance(r, CalendarItem) for r in account.bulk_create(folder=account.calendar,
                                                                          items=calendar_items))
    contacts = [Contact(given_name=n, physical_addresses=[PhysicalAddress(label='Home', street=s)])
                for n, s in (('Bo', '3 C St'), ('Al', '1 A St'), ('Cy', '2 B St'))]
    assert all(isinstance(c, Contact) for c in account.contacts.add_items(contacts))
    return account, tz, (year, month, day)


def test_seed_searching_section_as_written(exchange, seeded):
    account, tz, (year, month, day) = seeded
    my_folder = my_calendar = my_huge_folder = account.calendar
    my_contacts = account.contacts

    # Let's get the calendar items we just created.
    all_items = my_folder.all()  # Get everything
    all_items_without_caching = my_folder.all().iterator()  # Get everything, but don't cache
    filtered_items = my_folder.filter(subject__contains='foo').exclude(categories__icontains='bar')  # Chaining
    items_for_2017 = my_calendar.filter(start__range=(
        tz.localize(EWSDateTime(2017, 1, 1)),
        tz.localize(EWSDateTime(2018, 1, 1))
    ))  # Filter by a date range
    # Same as filter() but throws an error if exactly one item isn't returned
    item = my_folder.get(subject='unique_string')
    assert item.subject == 'unique_string'
    assert len(all_items) == 11 and len(list(all_items_without_caching)) == 11
    assert list(filtered_items) == []
    assert [i.subject for i in items_for_2017] == ['unique_string']

    ordered_items = my_folder.all().order_by('subject')
    reverse_ordered_items = my_folder.all().order_by('-subject')
    sorted_by_home_street = my_contacts.all().order_by('physical_addresses__Home__street')  # Indexed properties
    dont_do_this = my_huge_folder.all().order_by('subject', 'categories')[:10]  # This is efficient
    assert [i.subject for i in ordered_items][-1] == 'unique_string'
    assert [i.subject for i in reverse_ordered_items][0] == 'unique_string'
    assert [c.given_name for c in sorted_by_home_street] == ['Al', 'Cy', 'Bo']
    assert len(list(dont_do_this)) == 10

    n = my_folder.all().count()  # Efficient counting
    folder_is_empty = not my_folder.all().exists()  # Efficient tasting
    assert n == 11 and folder_is_empty is False

    sparse_items = my_folder.all().only('subject', 'start')
    assert {i.subject for i in sparse_items} == {'Test item', 'unique_string'}
    assert all(i.location is None and i.start is not None for i in sparse_items)
    sparse_items = my_contacts.all().only('phone_numbers')
    sparse_items = my_contacts.all().only('phone_numbers__CarPhone')
    sparse_items = my_contacts.all().only('physical_addresses__Home__street')
    assert sorted(c.physical_addresses[0].street for c in sparse_items) == ['1 A St', '2 B St', '3 C St']

    ids_as_dict = my_folder.all().values('item_id', 'changekey')  # Return values as dicts, not objects
    values_as_list = my_folder.all().values_list('subject', 'body')  # Return values as nested lists
    all_subjects = my_contacts.all().values_list('physical_addresses__Home__street', flat=True)  # A flat list
    assert all(set(d) == {'item_id', 'changekey'} and d['item_id'] for d in ids_as_dict)
    assert sorted(map(str, (v[1] for v in values_as_list if v[0] == 'Test item'))) == ['Hello from Python'] * 10
    assert sorted(all_subjects) == ['1 A St', '2 B St', '3 C St']

    everything = list(my_folder.all().order_by('-datetime_received', 'start'))
    first_ten_emails = my_folder.all().order_by('-datetime_received', 'start')[:10]  # Efficient
    last_ten_emails = my_folder.all().order_by('-datetime_received', 'start')[:-10]  # Efficient, but convoluted
    next_ten_emails = my_folder.all().order_by('-datetime_received', 'start')[10:20]  # Still quite efficient
    eviction_warning = my_folder.all().order_by('-datetime_received', 'start')[9]
    some_random_emails = my_folder.all().order_by('-datetime_received', 'start')[::3]  # This is just stupid
    ids = [i.id for i in everything]
    assert [i.id for i in first_ten_emails] == ids[:10]
    assert [i.id for i in last_ten_emails] == ids[:-10]
    assert [i.id for i in next_ten_emails] == ids[10:20]
    assert eviction_warning.id == ids[9]
    assert [i.id for i in some_random_emails] == ids[::3]

    qs = account.calendar.all()
    dt, dt1, dt2 = (tz.localize(EWSDateTime(year, month, day, h)) for h in (12, 9, 14))
    expectations = [
        (qs.filter(subject='foo'), 0),
        (qs.filter(start__range=(dt1, dt2)), 5),  # 9:30 ... 13:30
        (qs.filter(subject__in=('foo', 'bar')), 0),
        (qs.filter(subject__not='foo'), 11),
        (qs.filter(start__gt=dt), 6),  # 12:30 ... 16:30, and unique_string in 2017
        (qs.filter(start__gte=dt), 6),
        (qs.filter(start__lt=dt), 5),
        (qs.filter(start__lte=dt), 5),
        (qs.filter(subject__exact='foo'), 0),
        (qs.filter(subject__iexact='TEST ITEM'), 10),
        (qs.filter(subject__contains='item'), 10),
        (qs.filter(subject__icontains='ITEM'), 10),
        (qs.filter(subject__startswith='Test'), 10),
        (qs.filter(subject__istartswith='test'), 10),
        (qs.filter(categories__exists=True), 10),
        (qs.filter(categories__exists=False), 1),
    ]
    for got, count in expectations:
        assert got.count() == count, got

    items = my_folder.filter('subject:XXX')
    assert list(items) == []
    q = (Q(subject__iexact='foo') | Q(subject__contains='bar')) & ~Q(subject__startswith='baz')
    items = my_folder.filter(q)
    assert list(items) == []

    items = account.calendar.filter(
        start__lt=tz.localize(EWSDateTime(year, month, day + 1)),
        end__gt=tz.localize(EWSDateTime(year, month, day)),
        categories__contains=['foo', 'bar'],
    )
    printed = [(item.start, item.end, item.subject, item.body, item.location) for item in items]
    assert len(printed) == 10 and all(p[3] == 'Hello from Python' and p[4] == 'devnull' for p in printed)

    items = account.calendar.view(
        start=tz.localize(EWSDateTime(year, month, day)),
        end=tz.localize(EWSDateTime(year, month, day)) + timedelta(days=1),
    )
    printed = [(item.start, item.end, item.subject, item.body, item.location) for item in items]
    assert [p[0] for p in printed] == sorted(p[0] for p in printed) and len(printed) == 10

    status_report = my_folder.all().delete()  # Delete the items returned by the QuerySet
    assert status_report == [True] * 11
    with pytest.raises(DoesNotExist):
        my_folder.get(subject='unique_string')


def _python_blocks(path: Path):
    from tests.test_docs import code_blocks
    return [(code, line) for language, code, line in code_blocks(path.read_text(encoding="utf-8"))
            if language == "python"]


@pytest.mark.parametrize("code, line", _python_blocks(DOCS / "searching.rst"),
                         ids=lambda x: str(x) if isinstance(x, int) else "")
def test_searching_page_examples_run(code, line):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"searching.rst:{line}", "exec"), {"__name__": "docs_example"})
    lines = out.getvalue().splitlines()
    for marker, expected in (("q = (Q(", "['FOO', 'a bar', 'foo']"), (".delete()", "[True, True]"),
                             ("remote.count()", "5"), ("reverse()", "['Message 29']"), ("len(qs)", "12")):
        if marker in code:
            assert expected in lines, lines
