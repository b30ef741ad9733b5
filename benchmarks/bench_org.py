"""Organisation backup throughput on Dask: mailboxes/hour and items/s with 1 and with 2 workers.

Run: python3 benchmarks/bench_org.py [--mailboxes 40] [--items 30] [--latency-ms 20] [--workers 1,2]
     [--threads-per-worker 4] [--max-concurrency 20] [--max-mailbox-concurrency 2]

The local EWS server runs in a *separate process* (``python -m exchangelib.testing serve --generate N
--generate-items M --latency-ms L --no-strict``: every request waits L ms, as over a WAN; schema
validation off, so the server's own CPU counts little). For each worker count a fresh LocalCluster of
that many worker processes (``--threads-per-worker`` mailboxes at once each) backs up every mailbox
into a new temporary directory with ``backup_org`` and the given budgets. The cluster's start-up is not
timed; the figures are wall-clock time of the backup run itself: mailboxes per hour and items per
second, plus the server's peak concurrency and throttled-request count as a check on the budgets
(read from ``org-summary.json``; the server process is not asked).

Needs ``pip install 'exchangelib[org]'``. Keep the runs short on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

import distributed  # noqa: E402

from exchangelib.credentials import ServiceAccount  # noqa: E402
from exchangelib.org import Connection, backup_org  # noqa: E402
from exchangelib.version import EXCHANGE_2016, Version  # noqa: E402


def start_server(args: argparse.Namespace) -> (subprocess.Popen, str):
    cmd = [sys.executable, "-m", "exchangelib.testing", "serve", "--no-strict", "--auth", "ntlm,basic",
           "--generate", str(args.mailboxes), "--generate-items", str(args.items), "--seed", "1",
           "--latency-ms", str(args.latency_ms)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if "EWS endpoint" in line:
            url = line.split(":", 1)[1].strip()
        if line.startswith("Press Ctrl-C"):
            break
    if not url:
        proc.kill()
        raise SystemExit("the local server did not start")
    return proc, url


def run(args: argparse.Namespace, url: str, workers: int) -> Dict[str, float]:
    conn = Connection(url, ServiceAccount("EXAMPLE\\ewsadmin", "Exchange-admin-1"), version=Version(EXCHANGE_2016))
    addresses = [f"user{i:04d}@example.com" for i in range(1, args.mailboxes + 1)]
    out = tempfile.mkdtemp(prefix="bench-org-")
    try:
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=args.threads_per_worker,
                                      processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, \
                distributed.Client(cluster) as client:
            client.run(lambda: __import__("exchangelib.org"))  # imports are start-up, not backup time
            t0 = time.perf_counter()
            report = backup_org(addresses, out, conn, client=client, max_concurrency=args.max_concurrency,
                                max_mailbox_concurrency=args.max_mailbox_concurrency, progress=False)
            wall = time.perf_counter() - t0
        totals = json.loads((Path(out) / "org-summary.json").read_text())["totals"]
        assert report.complete == args.mailboxes, report.summary()
        return {"workers": workers, "wall_s": wall, "mailboxes_per_hour": args.mailboxes * 3600 / wall,
                "items_per_s": totals["items"] / wall, "items": totals["items"], "busy": totals["server_busy"]}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mailboxes", type=int, default=40)
    p.add_argument("--items", type=int, default=30)
    p.add_argument("--latency-ms", type=float, default=20)
    p.add_argument("--workers", default="1,2")
    p.add_argument("--threads-per-worker", type=int, default=4)
    p.add_argument("--max-concurrency", type=int, default=20)
    p.add_argument("--max-mailbox-concurrency", type=int, default=2)
    args = p.parse_args(argv)
    proc, url = start_server(args)
    try:
        print(f"{args.mailboxes} mailboxes x {args.items} items, {args.latency_ms:g} ms latency, "
              f"{args.threads_per_worker} mailboxes at once per worker, budgets: {args.max_concurrency} requests "
              f"in the cluster, {args.max_mailbox_concurrency} per mailbox")
        print(f"{'workers':>8} {'wall s':>8} {'mailboxes/h':>12} {'items/s':>9} {'busy':>5}")
        for n in [int(x) for x in args.workers.split(",")]:
            r = run(args, url, n)
            print(f"{r['workers']:>8} {r['wall_s']:>8.2f} {r['mailboxes_per_hour']:>12.0f} {r['items_per_s']:>9.1f} "
                  f"{r['busy']:>5}")
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
