"""The README example, end to end, against a local EWS server started for the occasion.

Everything below the "connection" block is the library's classic first example, unchanged: build ten
calendar items, create them, find them by time range and categories, fetch them, delete them. The
connection goes to :class:`exchangelib.testing.LocalExchange` over real HTTP with NTLM auth.
"""
from __future__ import annotations

from typing import Optional

from exchangelib import (DELEGATE, NTLM, Account, Configuration, Credentials, EWSDateTime, EWSTimeZone, IdOnly, Q,
                         Restriction)
from exchangelib.folders import Calendar, CalendarItem
from exchangelib.testing import LocalExchange


def run_demo(version: str = "2016", verbose: bool = False, out=print) -> int:
    with LocalExchange(version=version, auth=("ntlm",)) as server:
        user = server.users[0]
        out(f"Local EWS server (Exchange {version}) listening on {server.url}")
        out(f"Connecting as {user.username} to {user.primary_smtp_address} with NTLM\n")

        # --- connection: the only part that differs from a real deployment -----------------------------
        credentials = Credentials(username=user.username, password=user.password)
        config = Configuration(service_endpoint=server.url, credentials=credentials, auth_type=NTLM)
        account = Account(primary_smtp_address=user.primary_smtp_address, config=config, access_type=DELEGATE)
        # -------------------------------------------------------------------------------------------------

        year, month, day = 2016, 3, 20
        tz = EWSTimeZone.timezone('Europe/Copenhagen')

        calendar_items = []
        for hour in range(7, 17):
            calendar_items.append(CalendarItem(
                start=tz.localize(EWSDateTime(year, month, day, hour, 30)),
                end=tz.localize(EWSDateTime(year, month, day, hour + 1, 15)),
                subject='Test item',
                body='Hello from Python',
                location='devnull',
                categories=['foo', 'bar'],
            ))

        res = account.calendar.add_items(calendar_items)
        out(f"add_items: created {sum(1 for r in res if not isinstance(r, Exception))} of {len(res)} items")
        for r in res[:3]:
            out(f"  {r.subject} {r.start} - {r.end}  id={r.id[:24]}...")

        ids = account.calendar.find_items(
            start__lt=tz.localize(EWSDateTime(year, month, day + 1)),
            end__gt=tz.localize(EWSDateTime(year, month, day)),
            categories__contains=['foo', 'bar'],
            shape=IdOnly,
        )
        out(f"find_items (start/end window, categories foo+bar): {len(ids)} ids")

        # The same search as a Q object and as a Python-like expression string
        q = Q(subject__iexact='test item') & ~Q(subject__startswith='baz')
        out(f"find_items with a Q object: {len(account.calendar.find_items(q, shape=IdOnly))} ids")
        expr = "start < '2016-03-21T00:00:00Z' and end > '2016-03-19T00:00:00Z' and categories in ('foo', 'bar')"
        out(f"find_items with an expression string: {len(account.calendar.find_items(expr, shape=IdOnly))} ids")
        out(f"  (parsed as {Restriction(expr).q!r})")

        items = account.calendar.get_items(ids)
        out(f"get_items: fetched {len(items)} items")
        for item in items:
            out(f"  {item.start.astimezone(tz)}  {item.end.astimezone(tz)}  {item.subject!r}  {item.location!r}  "
                f"categories={item.categories}")

        res = account.calendar.delete_items(ids)
        out(f"delete_items: {sum(1 for r in res if r is True)} deleted")
        left = account.calendar.find_items(categories__contains=['foo', 'bar'], shape=IdOnly)
        out(f"items left with those categories: {len(left)}")
        ok = len(ids) == 10 and len(items) == 10 and not left and not server.schema_errors
        out("\nDemo finished: " + ("OK" if ok else "FAILED"))
        return 0 if ok else 1


def main(version: Optional[str] = None) -> int:  # pragma: no cover - convenience
    return run_demo(version or "2016")
