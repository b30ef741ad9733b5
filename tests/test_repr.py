"""How objects look: short plain reprs without secrets, and HTML tables and trees for Jupyter.

Jupyter calls ``_repr_html_()`` to display a value. An item shows as a two-column table of its set
fields, a folder as a table of counters with its subfolders as a tree, a QuerySet as a table of its
first rows (fetching no more than those rows). All text is escaped: a subject like ``<script>`` is text.
"""
from __future__ import annotations

import datetime
import re
from typing import Iterator, List, Tuple

import lxml.html
import pytest
import requests.adapters

from exchangelib import (NTLM, OAUTH2, AccessTokenCredentials, Account, Attendee, BaseProtocol, CalendarItem,
                         Configuration, Credentials, EWSDateTime, EWSTimeZone, Folder, HTMLBody, Mailbox, Message,
                         ServiceAccount)
from exchangelib.elements import HTML_LIST_LIMIT, display_value
from exchangelib.folders import navigation
from exchangelib.queryset import QuerySet
from exchangelib.testing import ServerBusy
from exchangelib.transport import BearerAuth
from exchangelib.xml import MNS, TNS, parse

JOHN = "john@example.com"
TZ = EWSTimeZone.timezone("Europe/Copenhagen")
NASTY = '<script>alert("x")</script> & <b>bold</b>'


def html_tree(markup: str):
    return lxml.html.fragment_fromstring(markup, create_parent="div")


def table_rows(markup: str) -> List[List[str]]:
    return [[cell.text_content() for cell in tr.xpath("./th|./td")] for tr in html_tree(markup).iter("tr")]


def meeting(n: int = 0, **kwargs) -> CalendarItem:
    defaults = dict(subject=f"Meeting {n}", start=TZ.localize(EWSDateTime(2026, 3, 2, 9, n % 60)),
                    end=TZ.localize(EWSDateTime(2026, 3, 2, 10, n % 60)), location="Room 1")
    defaults.update(kwargs)
    return CalendarItem(**defaults)


class RecordingAdapter(requests.adapters.HTTPAdapter):
    """Remembers the (operation, body) of every EWS request, to count what was asked for."""

    sent: List[Tuple[str, bytes]] = []

    def send(self, request, **kwargs):
        body = request.body or b""
        body = body if isinstance(body, bytes) else body.encode()
        m = re.search(rb"<s:Body><m:(\w+)", body)
        RecordingAdapter.sent.append((m.group(1).decode() if m else "", body))
        return super().send(request, **kwargs)


@pytest.fixture
def account(exchange) -> Iterator[Account]:
    """A fresh account whose protocol records requests; the calendar and inbox are emptied afterwards."""
    RecordingAdapter.sent = []
    BaseProtocol.HTTP_ADAPTER_CLS = RecordingAdapter  # restored by conftest's autouse fixture
    acc = Account(JOHN, config=Configuration(service_endpoint=exchange.url, credentials=exchange.credentials(JOHN),
                                             auth_type=NTLM))
    yield acc
    for folder in (acc.calendar, acc.drafts):
        folder.all().delete()
    for f in list(acc.drafts.children):
        f.delete()


def sent(operation: str) -> List[bytes]:
    return [body for op, body in RecordingAdapter.sent if op == operation]


# --------------------------------------------------------------------------------------------------------------
# Plain reprs
# --------------------------------------------------------------------------------------------------------------

def test_item_repr_is_short_and_names_the_item():
    item = meeting(subject="Budget", body="x" * 100_000, required_attendees=[f"u{n}@example.com" for n in range(50)])
    text = repr(item)
    assert text.startswith("CalendarItem(") and "subject='Budget'" in text and "location='Room 1'" in text
    assert len(text) < 400 and "xxxxxxxxxx" not in text


def test_long_values_are_cut_in_reprs():
    text = repr(Message(subject="s" * 255))
    assert "s" * 70 in text and "s" * 100 not in text and "..." in text


def test_reprs_never_show_secrets(exchange):
    password, token, secret = "Pa55-word-X1", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJqb2huIn0.sig", "client-Secret-42"
    creds = [Credentials("EXAMPLE\\john", password), ServiceAccount("EXAMPLE\\john", password),
             AccessTokenCredentials(access_token=token, identity=JOHN)]
    oauth = exchange.oauth_credentials()
    fetched = oauth.access_token  # a real token, fetched from the server
    things = creds + [oauth, BearerAuth(creds[2]), Configuration(service_endpoint=exchange.url, credentials=creds[0])]
    acc = Account(JOHN, config=Configuration(service_endpoint=exchange.url, credentials=oauth, auth_type=OAUTH2))
    things += [acc, acc.protocol, exchange]
    for thing in things:
        for text in (repr(thing), str(thing)):
            for s in (password, token, secret, fetched, "local-app-secret", exchange.credentials(JOHN).password):
                assert s not in text, (type(thing).__name__, text)
    assert "********" in repr(creds[0]) and "********" in repr(oauth)


def test_queryset_repr_sends_nothing(exchange, account):
    qs = account.calendar.filter(subject__startswith="Meet").order_by("-start").only("subject")[:5]
    RecordingAdapter.sent = []
    text = repr(qs)
    assert RecordingAdapter.sent == []
    assert text.startswith("QuerySet(folder=Calendar 'Calendar'") and "order_by=-start" in text
    assert "slice=[:5]" in text and "only=subject" in text


# --------------------------------------------------------------------------------------------------------------
# Display values
# --------------------------------------------------------------------------------------------------------------

def test_display_value():
    assert display_value(None) == ""
    assert display_value(Mailbox(name="Mary Major", email_address="mary@example.com")) == \
        "Mary Major <mary@example.com>"
    assert display_value(Mailbox(email_address="mary@example.com")) == "mary@example.com"
    assert display_value(Attendee(mailbox=Mailbox(email_address="bo@example.com"), response_type="Accept")) == \
        "bo@example.com, Accept"
    many = [f"c{n}" for n in range(HTML_LIST_LIMIT + 5)]
    assert display_value(many) == ", ".join(many[:HTML_LIST_LIMIT]) + ", \u2026 (5 more)"
    assert display_value(b"\x00" * 2048) == "2048 bytes"
    assert display_value("line one\n\n  line two") == "line one line two"
    assert display_value("y" * 1000, limit=10) == "y" * 9 + "\u2026"
    assert display_value(datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.timezone.utc)) == \
        "2026-01-02 03:04:00+00:00"


# --------------------------------------------------------------------------------------------------------------
# Items in Jupyter
# --------------------------------------------------------------------------------------------------------------

def test_item_html_is_a_table_of_set_fields():
    item = Message(subject=NASTY, body=HTMLBody("<p>Hello <img src=x onerror=alert(1)></p>"),
                   to_recipients=["mary@example.com", Mailbox(name="Bo", email_address="bo@example.com")],
                   categories=["a", "b"], importance="High")
    markup = item._repr_html_()
    tree = html_tree(markup)
    assert not tree.xpath("//script|//img|//p|//tbody//b")  # nothing from the values became markup
    rows = dict(row for row in table_rows(markup) if len(row) == 2)
    assert rows["subject"] == NASTY
    assert rows["body"] == "<p>Hello <img src=x onerror=alert(1)></p>"
    assert rows["to_recipients"] == "mary@example.com, Bo <bo@example.com>"
    assert rows["categories"] == "a, b" and rows["importance"] == "High"
    assert "datetime_received" not in rows  # only fields that are set
    caption = tree.xpath("//caption")[0]
    assert caption.text_content().startswith("Message")
    assert caption.xpath(".//a/@href")[0].startswith("https://learn.microsoft.com/")


def test_saved_item_html_shows_id_changekey_and_server_fields(account):
    item = account.calendar.add_items([meeting(body="b" * 5000)])[0]
    fetched = account.calendar.get(subject="Meeting 0")
    rows = dict(r for r in table_rows(fetched._repr_html_()) if len(r) == 2)
    assert rows["id"] == item.id and rows["changekey"] == item.changekey
    assert rows["start"] == "2026-03-02 08:00:00+00:00"  # shown in UTC, as the server returns it
    assert len(rows["body"]) <= 500 and rows["body"].endswith("\u2026")
    assert int(rows["size"]) > 5000


# --------------------------------------------------------------------------------------------------------------
# Folders in Jupyter
# --------------------------------------------------------------------------------------------------------------

def test_folder_html_has_counters_and_the_tree(account):
    parent = Folder(parent=account.drafts, name="Projects <2026>")
    parent.save()
    for name in ("Alpha", "Beta & Gamma"):
        Folder(parent=parent, name=name).save()
    account.drafts.add_items([Message(subject="draft")])
    account.drafts.refresh()
    markup = account.drafts._repr_html_()
    rows = dict(r for r in table_rows(markup) if len(r) == 2)
    assert rows["path"] == "/root/Top of Information Store/Drafts"
    assert rows["items"] == "1" and rows["subfolders"] == "1"
    tree = html_tree(markup)
    (top,) = tree.xpath("//ul/li")[:1]
    assert top.text == "Projects <2026> (0)"
    assert [li.text for li in top.xpath("./ul/li")] == ["Alpha (0)", "Beta & Gamma (0)"]


def test_folder_html_tree_is_limited(account, monkeypatch):
    for n in range(4):
        Folder(parent=account.drafts, name=f"F{n}").save()
    monkeypatch.setattr(navigation, "HTML_TREE_LIMIT", 2)
    markup = account.drafts._repr_html_()
    assert len(html_tree(markup).xpath("//li")) == 2
    assert "\u2026 and 2 more folders" in markup


def test_folder_without_account_shows_its_fields():
    markup = Folder(name="Offline", folder_class="IPF.Note")._repr_html_()
    assert dict(r for r in table_rows(markup) if len(r) == 2) == {"folder class": "IPF.Note"}
    assert "Offline" in html_tree(markup).xpath("//caption")[0].text_content()


# --------------------------------------------------------------------------------------------------------------
# QuerySets in Jupyter
# --------------------------------------------------------------------------------------------------------------

def max_entries(body: bytes) -> int:
    view = parse(body).find(f".//{{{MNS}}}IndexedPageItemView")
    return int(view.get("MaxEntriesReturned"))


def test_queryset_html_shows_the_first_rows_and_fetches_no_more(account):
    account.calendar.add_items([meeting(n, subject=f"Meeting {n:02d}" + (" <x>" if n == 3 else "")) for n in range(30)])
    qs = account.calendar.all().order_by("subject")
    RecordingAdapter.sent = []
    markup = qs._repr_html_()
    rows = table_rows(markup)
    assert rows[0] == ["#", "subject", "start", "end", "location"]
    assert len(rows) == 1 + QuerySet.HTML_ROWS
    assert rows[1][:2] == ["0", "Meeting 00"] and rows[4][1] == "Meeting 03 <x>"
    assert rows[1][4] == "Room 1"
    assert "20 of 30 results" in html_tree(markup).xpath("//caption")[0].text_content()
    # One FindItem for the 20 rows (fields FindItem can return: no GetItem), one tiny one for the count
    finds = sent("FindItem")
    assert [op for op, _ in RecordingAdapter.sent] == ["FindItem", "FindItem"]
    assert sorted(max_entries(b) for b in finds) == [1, QuerySet.HTML_ROWS]
    assert qs._cache is None  # displaying is not evaluating


def test_queryset_html_of_a_sliced_and_cached_queryset(account):
    account.calendar.add_items([meeting(n) for n in range(5)])
    sliced = account.calendar.all().order_by("subject")[1:3]
    RecordingAdapter.sent = []
    rows = table_rows(sliced._repr_html_())
    assert [r[1] for r in rows[1:]] == ["Meeting 1", "Meeting 2"]
    assert [max_entries(b) for b in sent("FindItem")] == [2]  # a short page: no count needed
    evaluated = account.calendar.all().order_by("subject")
    list(evaluated)
    RecordingAdapter.sent = []
    rows = table_rows(evaluated._repr_html_())
    assert len(rows) == 6 and RecordingAdapter.sent == []  # shown from the cache


def test_queryset_html_of_values_and_only(account):
    account.calendar.add_items([meeting(n) for n in range(3)])
    values = account.calendar.all().order_by("subject").values("subject", "location")
    assert table_rows(values._repr_html_())[:2] == [["#", "subject", "location"], ["0", "Meeting 0", "Room 1"]]
    flat = account.calendar.all().order_by("subject").values_list("subject", flat=True)
    assert table_rows(flat._repr_html_())[1] == ["0", "Meeting 0"]
    only = account.calendar.all().order_by("subject").only("subject", "categories")
    assert table_rows(only._repr_html_())[0] == ["#", "subject", "categories"]


def test_queryset_html_fetches_only_the_rows_shown_when_getitem_is_needed(account):
    account.drafts.add_items([Message(subject=f"Draft {n}", to_recipients=[f"u{n}@example.com"]) for n in range(25)])
    RecordingAdapter.sent = []
    rows = table_rows(account.drafts.all()._repr_html_())
    assert rows[0] == ["#", "subject", "author", "to_recipients", "datetime_received"]
    assert len(rows) == 21 and all(re.fullmatch(r"u\d+@example\.com", r[3]) for r in rows[1:])
    requested = sum(len(parse(b).findall(f".//{{{TNS}}}ItemId")) for b in sent("GetItem"))
    assert requested == QuerySet.HTML_ROWS


def test_queryset_html_reports_a_failed_search(exchange, account):
    qs = account.calendar.all()
    account.calendar  # noqa: B018 - fetched before the fault is armed
    exchange.inject(ServerBusy(back_off_ms=3000), count=1, operations="FindItem")
    markup = qs._repr_html_()
    assert "the search failed" in markup and "ErrorServerBusy" in markup and "wait 3 seconds" in markup


def test_none_queryset_html_sends_nothing(account):
    qs = account.calendar.none()
    RecordingAdapter.sent = []
    assert "0 results" in qs._repr_html_() and RecordingAdapter.sent == []
