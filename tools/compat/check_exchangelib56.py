"""Drive the local EWS server with exchangelib 5.6.0 from PyPI (run inside its own virtualenv).

This script is run by ``tools/compat_exchangelib56.py`` with the virtualenv's interpreter in
isolated mode (``python -I``) and a temporary working directory, so ``import exchangelib`` finds the
PyPI release, never this repository's package of the same name. It only uses 5.6.0's ordinary
public API, the way a user of that library talks to a real Exchange server.

Each step is run, timed and recorded; the results are written as JSON to ``--out``::

    {"exchangelib": {"version": "5.6.0", "file": ...}, "steps": [{"name": ..., "ok": true,
     "detail": ..., "seconds": ...}, ...]}

Exit status: 0 if every step passed, 1 if any failed, 2 if the wrong ``exchangelib`` was imported.
"""
from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid

N_BULK = 8  # items created with bulk_create; two more are created with item.save()
N_SAVE = 2


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", required=True, help="EWS URL, e.g. http://127.0.0.1:PORT/EWS/Exchange.asmx")
    p.add_argument("--username", required=True, help="logon name, e.g. EXAMPLE\\john")
    p.add_argument("--smtp", required=True, help="primary SMTP address of that user")
    p.add_argument("--recipient-username", help="logon name of a second user who receives a message")
    p.add_argument("--recipient-smtp", help="SMTP address of the second user")
    p.add_argument("--out", required=True, help="write the JSON results here")
    p.add_argument("--expected-version", default="5.6.0")
    p.add_argument("--trace", help="write 5.6.0's DEBUG log (every request and response XML) to this file")
    # Passwords come from the environment (COMPAT_PASSWORD, COMPAT_RECIPIENT_PASSWORD), not argv.
    return p.parse_args(argv)


class RedactAuthorization(logging.Filter):
    """Mask Authorization header values (NTLM/Basic/Bearer tokens) in 5.6.0's debug log."""

    _HEADER = re.compile(r"""(Authorization['"]?\s*[:=]\s*['"]?)([A-Za-z]+) [^'"\s,}]+""", re.IGNORECASE)

    def filter(self, record):
        message = record.getMessage()
        redacted = self._HEADER.sub(r"\1\2 ********", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class Steps:
    """Runs named steps, recording pass/fail, a short detail and the time each took."""

    def __init__(self):
        self.results = []

    def run(self, name, fn, needs=()):
        missing = [n for n in needs if not self.passed(n)]
        if missing:
            self.results.append({"name": name, "ok": False, "seconds": 0.0,
                                 "detail": f"not run: needs {', '.join(missing)}"})
            return None
        t0 = time.monotonic()
        try:
            detail = fn()
            ok = True
        except Exception as e:  # record and go on: one failure must not hide the others
            ok = False
            tb = traceback.format_exc(limit=6)
            detail = f"{type(e).__name__}: {e}"[:800] + "\n" + tb[-1500:]
        self.results.append({"name": name, "ok": ok, "seconds": round(time.monotonic() - t0, 3),
                             "detail": "" if detail is None else str(detail)})
        return ok

    def passed(self, name):
        return any(r["name"] == name and r["ok"] for r in self.results)


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = {"exchangelib": {}, "python": sys.version.split()[0], "steps": []}
    try:
        import exchangelib
        version, where = getattr(exchangelib, "__version__", "?"), getattr(exchangelib, "__file__", "?")
    except ImportError as e:
        version, where = None, f"not importable: {e}"
    out["exchangelib"] = {"version": version, "file": where}
    if version != args.expected_version or "site-packages" not in str(where):
        # Never test the server with the wrong client (e.g. this repository's package of the same name).
        out["error"] = (f"imported the wrong exchangelib: version {version} from {where} "
                        f"(expected {args.expected_version} from the virtualenv's site-packages)")
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
        return 2
    from exchangelib import (DELEGATE, NTLM, Account, CalendarItem, Configuration, Credentials, EWSDateTime,
                             EWSTimeZone, Mailbox, Message)
    from exchangelib.items import SEND_TO_NONE

    if args.trace:
        handler = logging.FileHandler(args.trace, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler.addFilter(RedactAuthorization())
        lib_log = logging.getLogger("exchangelib")
        lib_log.setLevel(logging.DEBUG)
        lib_log.addHandler(handler)

    steps = Steps()
    state = {}
    tz = EWSTimeZone("Europe/Copenhagen")
    # Items in a week of their own, far from "now", so the time-range search finds exactly ours.
    base = EWSDateTime(2031, 3, 3, 8, 0, tzinfo=tz)
    category = f"compat-{uuid.uuid4().hex[:8]}"

    def make_account(username, password, smtp, auth_type=NTLM):
        config = Configuration(service_endpoint=args.endpoint, credentials=Credentials(username, password),
                               auth_type=auth_type)
        return Account(primary_smtp_address=smtp, config=config, autodiscover=False, access_type=DELEGATE)

    def connect():
        account = make_account(args.username, os.environ["COMPAT_PASSWORD"], args.smtp)
        state["account"] = account
        version = account.version  # triggers 5.6.0's version guessing
        return f"server build {version.build}, API version {version.api_version}"

    steps.run("connect (version probe)", connect)

    def root_tree():
        tree = state["account"].root.tree()
        for name in ("Calendar", "Inbox", "Sent Items", "Deleted Items"):
            check(name in tree, f"{name!r} missing from root.tree():\n{tree}")
        return f"{len(tree.splitlines())} folders"

    steps.run("account.root.tree()", root_tree, needs=["connect (version probe)"])

    def inbox():
        box = state["account"].inbox
        n = box.total_count
        check(box.name == "Inbox", f"inbox is named {box.name!r}")
        m = box.all().count()
        check(m == n, f"inbox.total_count={n} but inbox.all().count()={m}")
        walked = state["account"].root / "Top of Information Store" / "Inbox"
        check(walked.id == box.id, "root / 'Top of Information Store' / 'Inbox' is not account.inbox")
        return f"Inbox ({box.id[:12]}...), {n} items"

    steps.run("account.inbox", inbox, needs=["connect (version probe)"])

    def calendar_folder():
        cal = state["account"].calendar
        check(cal.name == "Calendar", f"calendar is named {cal.name!r}")
        return f"Calendar, {cal.total_count} items"

    steps.run("account.calendar", calendar_folder, needs=["connect (version probe)"])

    def new_item(i):
        start = base + datetime.timedelta(days=i // 3, hours=2 * (i % 3))
        return CalendarItem(account=state["account"], folder=state["account"].calendar,
                            subject=f"Compat meeting {i:02d}", body=f"Created by exchangelib 5.6.0, item {i}",
                            start=start, end=start + datetime.timedelta(minutes=45),
                            location=f"Room {i}", categories=[category, "compat"])

    def bulk_create():
        account = state["account"]
        items = [new_item(i) for i in range(N_BULK)]
        results = account.bulk_create(folder=account.calendar, items=items, send_meeting_invitations=SEND_TO_NONE)
        errors = [r for r in results if isinstance(r, Exception)]
        check(not errors, f"bulk_create returned errors: {errors!r}")
        check(len(results) == N_BULK, f"bulk_create returned {len(results)} results for {N_BULK} items")
        state["created"] = [(r.id, r.changekey) for r in results]
        return f"{len(results)} items created"

    steps.run("bulk_create", bulk_create, needs=["account.calendar"])

    def save_items():
        saved = []
        for i in range(N_BULK, N_BULK + N_SAVE):
            item = new_item(i)
            item.save(send_meeting_invitations=SEND_TO_NONE)
            check(item.id and item.changekey, "save() left the item without an id/changekey")
            saved.append(item)
        state["saved"] = saved
        return f"{len(saved)} items saved"

    steps.run("item.save() (create)", save_items, needs=["account.calendar"])

    def qs():
        cal = state["account"].calendar
        return cal.filter(start__lt=base + datetime.timedelta(days=7), end__gt=base - datetime.timedelta(hours=1),
                          categories__contains=[category])

    def find_filter():
        found = list(qs())
        subjects = sorted(i.subject for i in found)
        check(len(found) == N_BULK + N_SAVE, f"filter() found {len(found)} items: {subjects}")
        check(subjects == [f"Compat meeting {i:02d}" for i in range(N_BULK + N_SAVE)], f"subjects: {subjects}")
        for item in found:
            check(item.start.tzinfo is not None and item.end - item.start == datetime.timedelta(minutes=45),
                  f"{item.subject}: start={item.start!r} end={item.end!r}")
            check(category in (item.categories or []), f"{item.subject}: categories={item.categories!r}")
        state["found"] = found
        return f"{len(found)} items (start__lt, end__gt, categories__contains)"

    steps.run("filter(start__lt, end__gt, categories__contains)", find_filter,
              needs=["bulk_create", "item.save() (create)"])

    def only_order_by():
        items = list(qs().only("subject").order_by("start"))
        subjects = [i.subject for i in items]
        check(subjects == [f"Compat meeting {i:02d}" for i in range(N_BULK + N_SAVE)],
              f"order_by('start') gave {subjects}")
        check(all(i.location is None for i in items), "only('subject') also returned location")
        rev = [i.subject for i in qs().only("subject").order_by("-start")]
        check(rev == subjects[::-1], f"order_by('-start') gave {rev}")
        return "subjects in start order, other fields left out"

    steps.run(".only('subject').order_by('start')", only_order_by,
              needs=["filter(start__lt, end__gt, categories__contains)"])

    def count():
        n = qs().count()
        check(n == N_BULK + N_SAVE, f"count() = {n}")
        return f"count() = {n}"

    steps.run(".count()", count, needs=["filter(start__lt, end__gt, categories__contains)"])

    def slicing():
        ordered = qs().only("subject").order_by("start")
        part = [i.subject for i in ordered[2:5]]
        check(part == [f"Compat meeting {i:02d}" for i in (2, 3, 4)], f"[2:5] gave {part}")
        first = ordered[0].subject
        check(first == "Compat meeting 00", f"[0] gave {first!r}")
        last = [i.subject for i in ordered[N_BULK + N_SAVE - 2:]]
        check(last == [f"Compat meeting {i:02d}" for i in (N_BULK + N_SAVE - 2, N_BULK + N_SAVE - 1)],
              f"[{N_BULK + N_SAVE - 2}:] gave {last}")
        check(ordered.exists(), "exists() is False")
        return "[2:5], [0], [8:] and exists() as expected"

    steps.run("slicing", slicing, needs=["filter(start__lt, end__gt, categories__contains)"])

    def calendar_view():
        cal = state["account"].calendar
        view = cal.view(start=base - datetime.timedelta(hours=1), end=base + datetime.timedelta(days=7))
        # A CalendarView takes no Restriction or SortOrder on Exchange: filter client-side.
        items = [i for i in view if category in (i.categories or [])]
        subjects = [i.subject for i in items]
        check(subjects == [f"Compat meeting {i:02d}" for i in range(N_BULK + N_SAVE)],
              f"view() gave {subjects} (expected our items, in start order)")
        try:
            list(view.filter(categories__contains=[category]))
        except Exception as e:  # Exchange: "Restrictions and sort order may not be specified for a CalendarView."
            check("CalendarView" in str(e), f"view().filter() failed differently: {type(e).__name__}: {e}")
        else:
            raise AssertionError("view().filter() was accepted; Exchange refuses a Restriction with a CalendarView")
        return f"{len(items)} occurrences in start order; view().filter() refused as by Exchange"

    steps.run("calendar.view(start, end)", calendar_view,
              needs=["filter(start__lt, end__gt, categories__contains)"])

    def fetch():
        account = state["account"]
        ids = list(state["created"]) + [(i.id, i.changekey) for i in state["saved"]]
        items = list(account.fetch(ids=ids))
        errors = [i for i in items if isinstance(i, Exception)]
        check(not errors, f"fetch returned errors: {errors!r}")
        subjects = [i.subject for i in items]
        check(subjects == [f"Compat meeting {i:02d}" for i in range(N_BULK + N_SAVE)],
              f"fetch returned items out of order or wrong: {subjects}")
        for n, item in enumerate(items):
            check(isinstance(item, CalendarItem), f"fetched a {type(item).__name__}")
            expected = new_item(n)
            check(item.start == expected.start and item.end == expected.end,
                  f"{item.subject}: start/end {item.start}/{item.end}, expected {expected.start}/{expected.end}")
            check(item.location == f"Room {n}", f"{item.subject}: location={item.location!r}")
            check(item.body and f"item {n}" in item.body, f"{item.subject}: body={item.body!r}")
            check(sorted(item.categories or []) == sorted([category, "compat"]),
                  f"{item.subject}: categories={item.categories!r}")
            check(item.organizer is not None and item.organizer.email_address.lower() == args.smtp.lower(),
                  f"{item.subject}: organizer={item.organizer!r}")
        state["fetched"] = items
        return f"{len(items)} items, fields round-trip"

    steps.run("account.fetch(ids)", fetch, needs=["bulk_create", "item.save() (create)"])

    def update():
        account = state["account"]
        item = state["fetched"][0]
        old_ck = item.changekey
        item.subject = "Compat meeting 00 (renamed)"
        item.save(update_fields=["subject"])
        check(item.changekey != old_ck, "the change key did not change on update")
        again = list(account.fetch(ids=[(item.id, item.changekey)]))[0]
        check(not isinstance(again, Exception), f"refetch failed: {again!r}")
        check(again.subject == "Compat meeting 00 (renamed)", f"subject after update: {again.subject!r}")
        check(again.location == "Room 0", f"update changed another field: location={again.location!r}")
        return "subject updated, change key changed"

    steps.run("item.save(update_fields=['subject'])", update, needs=["account.fetch(ids)"])

    def bulk_delete():
        account = state["account"]
        fetched = state["fetched"]
        to_delete = fetched[:N_BULK]
        results = account.bulk_delete(ids=to_delete)
        check(results == [True] * len(to_delete), f"bulk_delete returned {results!r}")
        return f"{len(results)} items deleted"

    steps.run("bulk_delete", bulk_delete, needs=["account.fetch(ids)"])

    def item_delete():
        for item in state["fetched"][N_BULK:]:
            item.delete()
        return f"{N_SAVE} items deleted"

    steps.run("item.delete()", item_delete, needs=["account.fetch(ids)"])

    def gone():
        n = qs().count()
        check(n == 0, f"{n} items are still found after deleting them")
        ids = list(state["created"][:1])
        res = list(state["account"].fetch(ids=ids))
        check(len(res) == 1 and isinstance(res[0], Exception) and type(res[0]).__name__ == "ErrorItemNotFound",
              f"fetching a deleted item gave {res!r}")
        return "0 found; fetching a deleted id gives ErrorItemNotFound"

    steps.run("deleted items are gone", gone, needs=["bulk_delete", "item.delete()"])

    if args.recipient_smtp:
        subject = f"Compat message {uuid.uuid4().hex[:8]}"

        def send():
            account = state["account"]
            m = Message(account=account, folder=account.sent, subject=subject, body="Hello from exchangelib 5.6.0",
                        to_recipients=[Mailbox(email_address=args.recipient_smtp)])
            m.send_and_save()
            sent = list(account.sent.filter(subject=subject))
            check(len(sent) == 1, f"{len(sent)} copies in Sent Items")
            return "sent, copy saved in Sent Items"

        steps.run("Message.send_and_save() john -> mary", send, needs=["connect (version probe)"])

        def received():
            # No auth_type this time: 5.6.0 reads the schemes from an unauthenticated request's 401.
            mary = make_account(args.recipient_username, os.environ["COMPAT_RECIPIENT_PASSWORD"], args.recipient_smtp,
                                auth_type=None)
            got = list(mary.inbox.filter(subject=subject))
            check(len(got) == 1, f"{len(got)} messages with that subject in the recipient's inbox")
            msg = got[0]
            check(msg.sender is not None and msg.sender.email_address.lower() == args.smtp.lower(),
                  f"sender={msg.sender!r}")
            check(msg.body and "Hello from exchangelib 5.6.0" in msg.body, f"body={msg.body!r}")
            msg.delete()
            check(mary.protocol.auth_type == NTLM, f"auth type guessed from the 401: {mary.protocol.auth_type!r}")
            return "delivered to the recipient's Inbox (auth type guessed from the 401: NTLM)"

        steps.run("recipient finds the message in Inbox", received, needs=["Message.send_and_save() john -> mary"])

    scheduling_steps(steps, state, args, base, tz)  # scheduling and directory (issue 14), below
    run_sync_and_notification_steps(steps, state, args)
    run_workflow_matrix(steps, state, args, base)  # issue #19: the broader matrix (block at the end)
    admin_steps(steps, state, args)  # issue 15: rules, delegates, user configuration, archive, mark_as_junk

    out["steps"] = steps.results
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    return 0 if all(r["ok"] for r in steps.results) else 1


# --- Scheduling and directory (issue 14): free/busy, rooms, distribution lists, mail tips, time zones ---------
# The driver (tools/compat_exchangelib56.py, setup_scheduling_directory) gives the server these entries.
ROOM_LIST = "compat-rooms@example.com"
ROOM = "room1@example.com"
TEAM_DL = "compat-team@example.com"
LEADS_DL = "compat-leads@example.com"


def scheduling_steps(steps, state, args, base, tz):
    """5.6.0's scheduling and directory calls, as its documentation shows them."""
    from exchangelib import CalendarItem
    from exchangelib.items import SEND_TO_NONE

    def timezones():
        protocol = state["account"].protocol
        names = list(protocol.get_timezones())
        ids = {d.id for d in names}
        check(len(names) > 100 and "W. Europe Standard Time" in ids, f"{len(names)} time zones: {sorted(ids)[:5]}")
        [full] = list(protocol.get_timezones(timezones=[tz], return_full_timezone_data=True))
        check(full.id == "Romance Standard Time" and full.periods, f"full definition: {full!r}")
        return f"{len(names)} zones; {full.id} with {len(full.periods)} periods"

    steps.run("protocol.get_timezones()", timezones, needs=["connect (version probe)"])

    def free_busy():
        account = state["account"]
        start = base + datetime.timedelta(days=30, hours=2)  # 10:00 local
        item = CalendarItem(account=account, folder=account.calendar, subject="Compat busy", start=start,
                            end=start + datetime.timedelta(hours=1))
        item.save(send_meeting_invitations=SEND_TO_NONE)
        try:
            day = start - datetime.timedelta(hours=2)
            attendees = [(account, "Organizer", False), (ROOM, "Room", False)]
            if args.recipient_smtp:
                attendees.append((args.recipient_smtp, "Required", False))
            views = list(account.protocol.get_free_busy_info(accounts=attendees, start=day,
                                                             end=day + datetime.timedelta(hours=8),
                                                             merged_free_busy_interval=60,
                                                             requested_view="DetailedMerged"))
            check(len(views) == len(attendees), f"{len(views)} views for {len(attendees)} attendees")
            mine = views[0]
            check(mine.merged == "00200000", f"merged free/busy {mine.merged!r}")
            events = mine.calendar_events or []
            check(len(events) == 1 and events[0].start == start and events[0].busy_type == "Busy",
                  f"calendar events {events!r}")
            check(events[0].details is not None and events[0].details.subject == "Compat busy",
                  f"details {events[0].details!r}")
            check(views[1].merged == "00000000", f"room merged {views[1].merged!r}")
            check(mine.working_hours, f"working hours {mine.working_hours!r}")
        finally:
            item.delete()
        return f"merged {mine.merged}, event at {events[0].start}, {len(mine.working_hours)} working periods"

    steps.run("protocol.get_free_busy_info()", free_busy, needs=["connect (version probe)"])

    def rooms():
        protocol = state["account"].protocol
        lists = list(protocol.get_roomlists())
        check([rl.email_address for rl in lists] == [ROOM_LIST], f"room lists {lists!r}")
        found = list(protocol.get_rooms(ROOM_LIST))
        check([r.email_address for r in found] == [ROOM], f"rooms {found!r}")
        return f"{lists[0].name}: {found[0].name}"

    steps.run("protocol.get_roomlists() / get_rooms()", rooms, needs=["connect (version probe)"])

    def expand():
        members = state["account"].protocol.expand_dl(TEAM_DL)
        got = [(m.email_address, m.mailbox_type) for m in members]
        check(got == [(args.smtp, "Mailbox"), (LEADS_DL, "PublicDL")], f"members {got!r}")
        return f"{len(members)} members, nested list as PublicDL"

    steps.run("protocol.expand_dl()", expand, needs=["connect (version probe)"])

    def mail_tips():
        # 5.6.0 writes MailTipsRequested's value ('All') as text of m:GetMailTips instead of in an
        # m:MailTipsRequested element, which the schema forbids: Exchange answers ErrorSchemaValidation, and
        # so does the local server. The step passes when the server refuses exactly that.
        try:
            tips = state["account"].mail_tips
        except Exception as e:
            check(type(e).__name__ == "ErrorSchemaValidation"
                  and ("MailTipsRequested" in str(e) or "element-only" in str(e)),
                  f"mail_tips failed differently: {type(e).__name__}: {e}")
            return "refused as Exchange refuses it: 5.6.0 sends no MailTipsRequested element (a 5.6.0 bug)"
        check(tips.recipient_address.email_address.lower() == args.smtp.lower(), f"tips {tips!r}")
        check(tips.max_message_size and tips.max_message_size > 0, f"max_message_size {tips.max_message_size!r}")
        return f"max message size {tips.max_message_size}, mailbox full {tips.mailbox_full}"

    steps.run("account.mail_tips", mail_tips, needs=["connect (version probe)"])


# --- sync and notifications (issue 13): SyncFolderItems, pull and streaming subscriptions --------------------
def run_sync_and_notification_steps(steps, state, args):
    """5.6.0's sync_items(), subscribe_to_pull()/get_events() and subscribe_to_streaming()/
    get_streaming_events() against the local server, on a folder of its own."""
    from exchangelib import Folder, Message
    from exchangelib.properties import CreatedEvent, DeletedEvent, ModifiedEvent, StatusEvent

    sync = {}

    def make_folder():
        account = state["account"]
        folder = Folder(parent=account.inbox, name=f"Compat sync {uuid.uuid4().hex[:8]}")
        folder.save()
        sync["folder"] = folder
        return "created"

    steps.run("sync: a folder to sync", make_folder, needs=["connect (version probe)"])

    def sync_items():
        account, folder = state["account"], sync["folder"]
        a, b, c = (Message(account=account, folder=folder, subject=f"sync {n}") for n in "abc")
        for m in (a, b, c):
            m.save()
        first = list(folder.sync_items())
        check(sorted(t for t, _ in first) == ["create"] * 3, f"first sync: {first!r}")
        state_1 = folder.item_sync_state
        check(isinstance(state_1, str) and state_1, f"item_sync_state={state_1!r}")
        a.subject = "sync a (changed)"
        a.save(update_fields=["subject"])
        b_id = b.id
        b.delete()
        d = Message(account=account, folder=folder, subject="sync d")
        d.save()
        second = list(folder.sync_items(sync_state=state_1))
        kinds = sorted(t for t, _ in second)
        check(kinds == ["create", "delete", "update"], f"second sync: {kinds} {second!r}")
        deleted = [v for t, v in second if t == "delete"][0]
        check(deleted.id == b_id, f"deleted id {deleted.id!r} is not {b_id!r}")
        check(list(folder.sync_items()) == [], "a third sync from the stored state reported changes")
        return "create x3, then update/delete/create, then nothing"

    steps.run("sync: folder.sync_items()", sync_items, needs=["sync: a folder to sync"])

    def pull():
        account, folder = state["account"], sync["folder"]
        subscription_id, watermark = folder.subscribe_to_pull(event_types=["CreatedEvent", "ModifiedEvent",
                                                                           "DeletedEvent"])
        idle = list(folder.get_events(subscription_id, watermark))
        check(idle and all(isinstance(e, StatusEvent) for n in idle for e in n.events), f"idle: {idle!r}")
        m = Message(account=account, folder=folder, subject="pull me")
        m.save()
        m.subject = "pull me (changed)"
        m.save(update_fields=["subject"])
        m.delete()
        events = [e for n in folder.get_events(subscription_id, watermark) for e in n.events]
        kinds = [type(e) for e in events]
        check(kinds == [CreatedEvent, ModifiedEvent, DeletedEvent], f"events: {kinds}")
        folder.unsubscribe(subscription_id)
        return "StatusEvent when idle, then Created/Modified/Deleted"

    steps.run("notifications: subscribe_to_pull + get_events", pull, needs=["sync: a folder to sync"])

    def streaming():
        account, folder = state["account"], sync["folder"]
        subscription_id = folder.subscribe_to_streaming(event_types=["CreatedEvent"])
        Message(account=account, folder=folder, subject="streamed").save()
        t0 = time.monotonic()
        got = list(folder.get_streaming_events(subscription_id, connection_timeout=1, max_notifications_returned=1))
        events = [e for n in got for e in n.events]
        check(events and isinstance(events[0], CreatedEvent), f"streamed: {got!r}")
        folder.unsubscribe(subscription_id)
        return f"CreatedEvent streamed in {time.monotonic() - t0:.2f}s"

    steps.run("notifications: subscribe_to_streaming + get_streaming_events", streaming,
              needs=["sync: a folder to sync"])

    def cleanup():
        sync["folder"].delete()
        return "deleted"

    steps.run("sync: delete the folder", cleanup, needs=["sync: a folder to sync"])


# ===================================================================================================================
# Workflow matrix (issue #19): folders incl. generic folders and moves, extended properties on folders,
# attachments incl. item attachments, recurring and all-day calendar items, calendar views at their boundaries,
# contacts with long fields, recurring tasks. Each step uses 5.6.0's public API only and checks what Exchange does.
# ===================================================================================================================

def run_workflow_matrix(steps, state, args, base):
    from exchangelib import (CalendarItem, Contact, EWSDate, EWSDateTime, EWSTimeZone, ExtendedProperty,
                             FileAttachment, ItemAttachment, Message, Task)
    from exchangelib.folders import Folder
    from exchangelib.items import SEND_TO_NONE
    from exchangelib.recurrence import DailyPattern, DailyRegeneration, Recurrence, TaskRecurrence

    tag = uuid.uuid4().hex[:6]
    need = ["connect (version probe)"]

    def folders():
        account = state["account"]
        top = Folder(parent=account.inbox, name=f"matrix {tag}")
        top.save()
        child = Folder(parent=top, name="generic child")
        child.save()
        other = Folder(parent=account.inbox, name=f"matrix target {tag}")
        other.save()
        fresh = [f for f in account.inbox.children if f.name == f"matrix {tag}"]
        check(len(fresh) == 1, f"new folder not found under Inbox: {[f.name for f in account.inbox.children]}")
        check(fresh[0].folder_class is None, f"a folder created without a class reads {fresh[0].folder_class!r}")
        child.move(other)
        account.root.refresh()
        moved = account.inbox / f"matrix target {tag}" / "generic child"
        check(moved.id == child.id or moved.name == "generic child", "moved folder not found under its new parent")
        state["matrix_folder"] = top
        for f in (other, top):
            f.delete()
        return "generic folder (no FolderClass), subfolder moved, folders deleted"

    steps.run("matrix: generic folders and moves", folders, needs=need)

    def folder_size():
        class FolderSize(ExtendedProperty):
            property_tag = 0x0E08
            property_type = "Integer"

        account = state["account"]
        Folder.register("size", FolderSize)
        try:
            f = Folder(parent=account.inbox, name=f"sized {tag}")
            f.save()
            for n in range(3):
                Message(account=account, folder=f, subject=f"sized {n}", body="x" * 1000).save()
            f.refresh()
            sizes = [i.size for i in f.all()]
            check(f.size == sum(sizes) and f.size > 3000, f"folder size {f.size}, item sizes {sizes}")
            walked = [x for x in account.inbox.walk() if x.name == f"sized {tag}"]
            f.delete()
            return f"0x0E08 = {sum(sizes)} bytes for 3 items ({len(walked)} found by walk())"
        finally:
            Folder.deregister("size")

    steps.run("matrix: extended property on a folder (0x0E08)", folder_size, needs=need)

    def attachments():
        account = state["account"]
        m = Message(account=account, folder=account.drafts, subject=f"attachments {tag}", body="see attached")
        m.attach(FileAttachment(name="data.csv", content=b"a,b\n1,2\n", content_type="text/csv"))
        inner = Message(subject="the attached message", body="inner body")
        m.attach(ItemAttachment(name="attached message", item=inner))
        m.save()
        got = list(account.fetch(ids=[(m.id, m.changekey)]))[0]
        files = [a for a in got.attachments if isinstance(a, FileAttachment)]
        items = [a for a in got.attachments if isinstance(a, ItemAttachment)]
        check(len(files) == 1 and files[0].content == b"a,b\n1,2\n", f"file attachments: {files!r}")
        check(files[0].content_type == "text/csv", f"content_type={files[0].content_type!r}")
        check(len(items) == 1 and items[0].item.subject == "the attached message",
              f"item attachments: {[getattr(a.item, 'subject', None) for a in items]}")
        got.delete()
        return "file (content, content type) and item attachment round-trip"

    steps.run("matrix: file and item attachments", attachments, needs=need)

    def calendar_kinds():
        account = state["account"]
        tz = EWSTimeZone("Europe/Copenhagen")
        start = EWSDateTime(2031, 5, 5, 9, 0, tzinfo=tz)
        series = CalendarItem(account=account, folder=account.calendar, subject=f"series {tag}", start=start,
                              end=start + datetime.timedelta(hours=1),
                              recurrence=Recurrence(pattern=DailyPattern(interval=1), start=start.date(), number=5))
        series.save(send_meeting_invitations=SEND_TO_NONE)
        all_day = CalendarItem(account=account, folder=account.calendar, subject=f"all day {tag}", is_all_day=True,
                               start=EWSDateTime(2031, 5, 12, 10, 0, tzinfo=tz),
                               end=EWSDateTime(2031, 5, 12, 15, 0, tzinfo=tz))
        all_day.save(send_meeting_invitations=SEND_TO_NONE)
        view = [i for i in account.calendar.view(start=start - datetime.timedelta(hours=1),
                                                 end=start + datetime.timedelta(days=10))
                if i.subject in (f"series {tag}", f"all day {tag}")]
        occurrences = [i for i in view if i.subject == f"series {tag}"]
        check(len(occurrences) == 5 and all(o.type == "Occurrence" for o in occurrences),
              f"view() gave {[(o.subject, o.type) for o in view]}")
        [day] = [i for i in view if i.subject == f"all day {tag}"]
        local_start = day.start.astimezone(tz) if isinstance(day.start, datetime.datetime) else day.start
        check(getattr(local_start, "hour", 0) == 0, f"all-day start {day.start!r} is not midnight")
        master = [i for i in account.calendar.filter(subject=f"series {tag}")][0]
        check(master.type == "RecurringMaster", f"master type {master.type!r}")
        for item in (master, day):
            item.delete()
        return "5 occurrences in view(); all-day event starts at midnight"

    steps.run("matrix: recurring and all-day calendar items", calendar_kinds, needs=need)

    def view_boundaries():
        account = state["account"]
        t0 = EWSDateTime(2031, 6, 2, 9, 0, tzinfo=EWSTimeZone("UTC"))
        made = []
        for subject, s, e in (("ends at start", -60, 0), ("starts at end", 60, 120), ("inside", 10, 20)):
            item = CalendarItem(account=account, folder=account.calendar, subject=f"{subject} {tag}",
                                start=t0 + datetime.timedelta(minutes=s), end=t0 + datetime.timedelta(minutes=e))
            item.save(send_meeting_invitations=SEND_TO_NONE)
            made.append(item)
        seen = sorted(i.subject for i in account.calendar.view(start=t0, end=t0 + datetime.timedelta(hours=1))
                      if i.subject.endswith(tag))
        for item in made:
            item.delete()
        check(seen == [f"ends at start {tag}", f"inside {tag}"], f"view() boundaries gave {seen}")
        return "an item ending at StartDate is in, one starting at EndDate is out"

    steps.run("matrix: calendar view boundaries", view_boundaries, needs=need)

    def contacts():
        account = state["account"]
        c = Contact(account=account, folder=account.contacts, given_name="G" * 255, surname="S" * 255,
                    display_name=f"long names {tag}", company_name="C" * 1000)
        c.save()
        got = list(account.fetch(ids=[(c.id, c.changekey)]))[0]
        check((got.given_name, got.surname, got.company_name) == ("G" * 255, "S" * 255, "C" * 1000),
              "long contact fields did not round-trip")
        got.delete()
        return "255-character names and a 1000-character company name round-trip"

    steps.run("matrix: contacts with long fields", contacts, needs=need)

    def tasks():
        account = state["account"]
        t = Task(account=account, folder=account.tasks, subject=f"regenerating {tag}",
                 start_date=EWSDate(2031, 7, 1),
                 recurrence=TaskRecurrence(pattern=DailyRegeneration(interval=3), start=EWSDate(2031, 7, 1)))
        t.save()
        t.complete()  # 5.6.0's helper: status Completed, 100 percent, saved
        mine = [x for x in account.tasks.all() if x.subject == f"regenerating {tag}"]
        states = sorted((x.status, bool(x.is_recurring)) for x in mine)
        check(states == [("Completed", False), ("NotStarted", True)], f"tasks after completing: {states}")
        for x in mine:
            x.delete()
        return "completing a regenerating task split off a completed one-off"

    steps.run("matrix: recurring tasks", tasks, needs=need)


# --- Mailbox administration workflow (issue 15): 5.6.0's rules, delegates, user configuration, archive and
# mark_as_junk calls. Kept apart from the workflow above so either can change without touching the other.
def admin_steps(steps, state, args):
    from exchangelib import Message
    from exchangelib.properties import Actions, Conditions, Rule

    needs = ["connect (version probe)"]
    tag = uuid.uuid4().hex[:8]

    def rules():
        account = state["account"]
        before = len(account.rules)
        rule = Rule(account=account, display_name=f"compat rule {tag}", priority=1, is_enabled=True,
                    conditions=Conditions(contains_subject_strings=[f"compat-{tag}"]),
                    actions=Actions(move_to_folder=account.junk, stop_processing_rules=True))
        account.create_rule(rule)
        check(rule.id, "create_rule() left the rule without an id")
        got = [r for r in account.rules if r.id == rule.id]
        check(len(got) == 1 and got[0].display_name == rule.display_name, f"rules after create: {account.rules!r}")
        check(got[0].conditions.contains_subject_strings == [f"compat-{tag}"],
              f"conditions read back: {got[0].conditions!r}")
        rule.is_enabled = False
        account.set_rule(rule)
        check([r.is_enabled for r in account.rules if r.id == rule.id] == [False], "set_rule() did not disable it")
        account.delete_rule(rule)
        check(len(account.rules) == before, "delete_rule() left the rule")
        return "create_rule, rules, set_rule, delete_rule"

    steps.run("inbox rules (create/get/set/delete)", rules, needs=needs)

    def delegates():
        found = state["account"].delegates
        check(isinstance(found, list), f"account.delegates gave {found!r}")
        return f"{len(found)} delegates"

    steps.run("account.delegates (GetDelegate)", delegates, needs=needs)

    def user_configuration():
        account = state["account"]
        name = f"Compat.{tag}"
        account.calendar.create_user_configuration(name=name, dictionary={"theme": "dark", "count": 3},
                                                   xml_data=b"<settings/>", binary_data=b"\x01\x02")
        conf = account.calendar.get_user_configuration(name=name)
        check(conf.dictionary == {"theme": "dark", "count": 3}, f"dictionary read back: {conf.dictionary!r}")
        check(conf.xml_data == b"<settings/>" and conf.binary_data == b"\x01\x02",
              f"xml/binary read back: {conf.xml_data!r} {conf.binary_data!r}")
        account.calendar.update_user_configuration(name=name, dictionary={"theme": "light"})
        conf = account.calendar.get_user_configuration(name=name)
        check(conf.dictionary == {"theme": "light"}, f"dictionary after update: {conf.dictionary!r}")
        account.calendar.delete_user_configuration(name=name)
        return "create, get, update, delete"

    steps.run("user configuration (Create/Get/Update/Delete)", user_configuration, needs=needs)

    def exchange_2013():
        return state["account"].version.build.major_version >= 15

    def mark_as_junk():
        account = state["account"]
        if not exchange_2013():
            return "skipped: MarkAsJunk is Exchange 2013 and later"
        m = Message(account=account, folder=account.inbox, subject=f"compat junk {tag}", body="spam")
        m.save()
        m.mark_as_junk(is_junk=True, move_item=True)
        check(account.junk.filter(subject=f"compat junk {tag}").count() == 1, "the message is not in Junk Email")
        check(account.inbox.filter(subject=f"compat junk {tag}").count() == 0, "the message is still in the Inbox")
        account.junk.filter(subject=f"compat junk {tag}").delete()
        return "moved to Junk Email"

    steps.run("message.mark_as_junk()", mark_as_junk, needs=needs)

    def archive():
        account = state["account"]
        if not exchange_2013():
            return "skipped: ArchiveItem is Exchange 2013 and later"
        m = Message(account=account, folder=account.inbox, subject=f"compat archive {tag}", body="old")
        m.save()
        try:
            m.archive(to_folder=account.inbox)
        except Exception as e:  # the default users have no archive mailbox: Exchange answers this error
            # (5.6.0 has no class for this code and raises TransportError naming it)
            check("ErrorArchiveMailboxNotEnabled" in f"{type(e).__name__} {e}", f"archive() failed with {e!r}")
        else:
            raise AssertionError("archive() succeeded for a mailbox without an archive")
        m.delete()
        return "ErrorArchiveMailboxNotEnabled for a mailbox without an archive, as Exchange answers"

    steps.run("item.archive() (ArchiveItem)", archive, needs=needs)

    def permissions():
        account = state["account"]
        ps = account.calendar.permission_set
        check(ps is not None and ps.calendar_permissions, f"calendar permission_set: {ps!r}")
        default = [p for p in ps.calendar_permissions if p.user_id.distinguished_user == "Default"]
        check(len(default) == 1 and default[0].calendar_permission_level == "FreeBusyTimeOnly",
              f"Default entry: {default!r}")
        return "calendar PermissionSet with Default FreeBusyTimeOnly"

    steps.run("folder.permission_set (typed)", permissions, needs=needs)

    def queryset_bulk():
        account = state["account"]
        subject = f"compat bulk {tag}"
        for n in range(3):
            Message(account=account, folder=account.inbox, subject=subject, body=str(n)).save()
        moved = account.inbox.filter(subject=subject).move(account.junk)
        check(len(moved) == 3 and not any(isinstance(r, Exception) for r in moved), f"qs.move gave {moved!r}")
        check(account.junk.filter(subject=subject).count() == 3, "moved items are not in Junk Email")
        copied = account.junk.filter(subject=subject).copy(account.inbox)
        check(len(copied) == 3, f"qs.copy gave {copied!r}")
        if exchange_2013():
            junk = account.inbox.filter(subject=subject).mark_as_junk(is_junk=True, move_item=True)
            check(len(junk) == 3, f"qs.mark_as_junk gave {junk!r}")
            check(account.junk.filter(subject=subject).count() == 6, "mark_as_junk did not move the copies")
        account.junk.filter(subject=subject).delete()
        account.inbox.filter(subject=subject).delete()
        return "qs.move, qs.copy" + (", qs.mark_as_junk" if exchange_2013() else "")

    steps.run("QuerySet move/copy/mark_as_junk", queryset_bulk, needs=needs)


if __name__ == "__main__":
    sys.exit(main())
