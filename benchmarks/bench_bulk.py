"""Bulk throughput and streaming memory: items/s for bulk_create, fetch and export, and peak RSS of a big fetch.

Run: python3 benchmarks/bench_bulk.py [--items 2000] [--latencies 0,20] [--rss-items 20000]

For each added latency the local EWS server is started in a *separate process* (``python -m
exchangelib.testing serve --latency-ms N --no-strict``, so neither its store nor schema validation
counts), and one client account with the default ``max_connections`` creates ``--items`` messages
(``account.bulk_create``), fetches them all (``account.fetch``, a generator) and exports them
(``account.export``). Each figure is items per second of wall-clock time.

Peak RSS: a child process creates ``--rss-items`` messages and writes their ids to a file; a second,
fresh child reads the ids, notes its RSS, then streams ``account.fetch`` over all of them, keeping
nothing, and reports its peak RSS (``ru_maxrss``) and the growth over the baseline. A flat stream
means the peak stays close to the baseline however many items go past.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from exchangelib import NTLM, Account, Configuration, Credentials, Message  # noqa: E402

USER, PASSWORD, ADDRESS = "EXAMPLE\\john", "Exchange-john-1", "john@example.com"


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def start_server(latency_ms: float) -> Tuple[subprocess.Popen, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "exchangelib.testing", "serve", "--no-strict", "--auth", "ntlm",
                             "--latency-ms", str(latency_ms)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "EWS endpoint" in line:
            return proc, line.split(":", 1)[1].strip()
    proc.terminate()
    raise RuntimeError("The local EWS server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def account_for(url: str) -> Account:
    config = Configuration(service_endpoint=url, credentials=Credentials(USER, PASSWORD), auth_type=NTLM)
    return Account(ADDRESS, config=config)


def messages(n: int, tag: str) -> List[Message]:
    return [Message(subject=f"{tag} {i}", body=f"Benchmark message {i}. " * 20, categories=["bench"])
            for i in range(n)]


def create(account: Account, n: int, tag: str) -> List[Tuple[str, str]]:
    ids = []
    for start in range(0, n, 5000):  # bounded batches: don't hold 20,000 item objects at once
        created = account.bulk_create(folder=account.inbox, items=messages(min(5000, n - start), tag))
        errors = [c for c in created if isinstance(c, Exception)]
        if errors:
            raise errors[0]
        ids.extend((c.id, c.changekey) for c in created)
    return ids


def throughput(url: str, n: int) -> Dict[str, float]:
    account = account_for(url)
    account.inbox  # noqa: B018 - warm up: version probe, NTLM handshake, folder lookup
    out = {}
    t = time.perf_counter()
    ids = create(account, n, "throughput")
    out["bulk_create"] = n / (time.perf_counter() - t)
    t = time.perf_counter()
    fetched = sum(1 for item in account.fetch(ids) if not isinstance(item, Exception))
    out["fetch"] = n / (time.perf_counter() - t)
    assert fetched == n, fetched
    t = time.perf_counter()
    exported = sum(1 for d in account.export(ids) if isinstance(d, str))
    out["export"] = n / (time.perf_counter() - t)
    assert exported == n, exported
    account.protocol.close()
    return out


def child_create(url: str, n: int, ids_file: str) -> int:
    ids = create(account_for(url), n, "rss")
    Path(ids_file).write_text(json.dumps(ids))
    return 0


def child_fetch(url: str, ids_file: str) -> int:
    ids = [tuple(i) for i in json.loads(Path(ids_file).read_text())]
    account = account_for(url)
    account.inbox  # noqa: B018 - warm up
    baseline = rss_mb()
    t = time.perf_counter()
    n = 0
    for item in account.fetch(ids):
        if isinstance(item, Exception):
            raise item
        n += 1
    elapsed = time.perf_counter() - t
    print(json.dumps({"items": n, "baseline_mb": baseline, "peak_mb": peak_rss_mb(), "seconds": elapsed}))
    return 0


def rss_run(n: int) -> Dict[str, float]:
    proc, url = start_server(0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ids_file = os.path.join(tmp, "ids.json")
            env = dict(os.environ, PYTHONPATH=str(REPO))
            subprocess.run([sys.executable, __file__, "--child-create", url, "--rss-items", str(n), "--ids-file",
                            ids_file], check=True, env=env)
            res = subprocess.run([sys.executable, __file__, "--child-fetch", url, "--ids-file", ids_file],
                                 check=True, env=env, capture_output=True, text=True)
            return json.loads(res.stdout.strip().splitlines()[-1])
    finally:
        stop_server(proc)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=2000, help="items per throughput run")
    p.add_argument("--latencies", default="0,20", help="added server latencies in ms, comma-separated")
    p.add_argument("--rss-items", type=int, default=20000, help="items in the peak-RSS fetch (0: skip)")
    p.add_argument("--child-create", metavar="URL", help=argparse.SUPPRESS)
    p.add_argument("--child-fetch", metavar="URL", help=argparse.SUPPRESS)
    p.add_argument("--ids-file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_create:
        return child_create(args.child_create, args.rss_items, args.ids_file)
    if args.child_fetch:
        return child_fetch(args.child_fetch, args.ids_file)

    print(f"{args.items} messages per run, default max_connections; items/s (wall clock)")
    print(f"{'latency':>8} {'bulk_create':>12} {'fetch':>9} {'export':>9}")
    for latency in [float(x) for x in args.latencies.split(",") if x.strip()]:
        proc, url = start_server(latency)
        try:
            r = throughput(url, args.items)
        finally:
            stop_server(proc)
        print(f"{latency:>6.0f}ms {r['bulk_create']:>12.0f} {r['fetch']:>9.0f} {r['export']:>9.0f}", flush=True)
    if args.rss_items:
        r = rss_run(args.rss_items)
        print(f"\nfetch of {r['items']} items, one by one: {r['items'] / r['seconds']:.0f} items/s; RSS before "
              f"{r['baseline_mb']:.1f} MiB, peak {r['peak_mb']:.1f} MiB ({r['peak_mb'] - r['baseline_mb']:+.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
