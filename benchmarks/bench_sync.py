"""Change tracking figures: initial sync throughput, incremental vs full backup, notification latency.

Run: python3 benchmarks/bench_sync.py [--items 3000] [--changes 100] [--deliveries 20]

Against an in-process LocalExchange without schema validation (strict=False), with ``--items``
messages in one folder:

- ``sync_items()`` from no state (every item a 'create'; pages of 512): items per second;
- a full backup (``backup_mailbox`` into an empty directory), then ``--changes`` edits and an
  incremental backup into the same directory: wall seconds and the EWS requests each run sent;
- streaming and pull notification latency: mail sent by one user, the NewMailEvent seen by the other
  (median and worst of ``--deliveries`` deliveries, in milliseconds).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from exchangelib import Folder, Mailbox, Message  # noqa: E402
from exchangelib.backup import backup_mailbox  # noqa: E402
from exchangelib.properties import NewMailEvent  # noqa: E402
from exchangelib.testing import LocalExchange  # noqa: E402


def requests(server: LocalExchange) -> dict:
    out: dict = {}
    for rec in list(server.request_log):
        if rec.operation:
            out[rec.operation] = out.get(rec.operation, 0) + 1
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=3000)
    p.add_argument("--changes", type=int, default=100)
    p.add_argument("--deliveries", type=int, default=20)
    args = p.parse_args()
    with LocalExchange(strict=False) as server:
        john = server.account("john@example.com")
        mary = server.account("mary@example.com")
        folder = Folder(parent=john.inbox, name="bench").save()
        john.bulk_create(folder=folder, items=[Message(subject=f"m{i}", body="x" * 500) for i in range(args.items)])

        t0 = time.perf_counter()
        n = sum(1 for _ in folder.sync_items())
        dt = time.perf_counter() - t0
        print(f"sync_items from no state: {n} items in {dt:.2f}s = {n / dt:,.0f} items/s")

        with tempfile.TemporaryDirectory() as out:
            server.reset_stats()
            t0 = time.perf_counter()
            full = backup_mailbox(john, out)
            full_s = time.perf_counter() - t0
            full_req = requests(server)
            items = folder.find_items(shape="Default", max_items=args.changes)
            for item in items:
                item.subject += " (edited)"
            john.bulk_update([(i, ["subject"]) for i in items])
            server.reset_stats()
            t0 = time.perf_counter()
            inc = backup_mailbox(john, out)
            inc_s = time.perf_counter() - t0
            inc_req = requests(server)
        print(f"full backup: {full.exported} items exported in {full_s:.2f}s, requests {full_req}")
        print(f"incremental after {args.changes} changes: {inc.exported} exported in {inc_s:.2f}s "
              f"({inc_s / full_s:.2f}x the full run), requests {inc_req}")

        def deliver(started: list) -> float:
            started.append(time.perf_counter())
            Message(account=mary, subject="ping", to_recipients=[Mailbox(email_address="john@example.com")]).send()
            return time.perf_counter()

        latencies = []
        with john.inbox.streaming_subscription(event_types=["NewMailEvent"]) as sid:
            for _ in range(args.deliveries):
                started: list = []
                t = threading.Timer(0.05, deliver, args=(started,))
                t.start()
                for _notification in john.inbox.get_streaming_events(sid, max_notifications_returned=1):
                    latencies.append((time.perf_counter() - started[0]) * 1000)
                t.join()
        print(f"streaming NewMail latency (from the start of send()): median {statistics.median(latencies):.1f} ms, "
              f"worst {max(latencies):.1f} ms over {len(latencies)} deliveries")

        latencies = []
        with john.inbox.pull_subscription(event_types=["NewMailEvent"]) as (sid, wm):
            for _ in range(args.deliveries):
                sent_at = deliver([])
                while True:
                    ns = list(john.inbox.get_events(sid, wm))
                    wm = ns[-1].watermark or wm
                    if any(isinstance(e, NewMailEvent) for n in ns for e in n.events):
                        break
                latencies.append((time.perf_counter() - sent_at) * 1000)
        print(f"pull NewMail latency (one GetEvents after delivery): median {statistics.median(latencies):.1f} ms, "
              f"worst {max(latencies):.1f} ms")


if __name__ == "__main__":
    main()
