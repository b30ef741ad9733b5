"""Does the client's memory stay flat over many thousands of requests through one Protocol?

Run: python3 benchmarks/bench_protocol_memory.py [--requests 20000] [--threads 8] [--max-connections 4]

Starts the local EWS server in a *separate process* (so its mailbox store and request log don't count),
then sends GetFolder and GetItem requests (alternating) from several threads through one shared
Account/Protocol over real HTTP with NTLM. Every ``--interval`` requests it prints the process' current
RSS (VmRSS from /proc/self/status, or ru_maxrss where /proc is missing), the number of live Python
objects, and the request rate of that interval. The summary compares the first checkpoint (after the
warm-up: sessions, TLS/NTLM state, caches) with the last one.

Reading the figures: a flat live-object count means no Python-level leak. RSS may still creep up by a
MiB or two before levelling off: that is glibc giving each thread its own malloc arena, not a leak;
run with ``MALLOC_ARENA_MAX=1`` and the RSS line is flat.
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from exchangelib import NTLM, Account, Configuration, Credentials, Message  # noqa: E402


def rss_mb() -> float:
    """Current resident set size in MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def start_server(version: str) -> Tuple[subprocess.Popen, str]:
    """Run ``python -m exchangelib.testing serve`` and return (process, EWS endpoint)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-m", "exchangelib.testing", "serve", "--no-strict", "--auth", "ntlm",
                             "--version", version], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
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


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--max-connections", type=int, default=4)
    p.add_argument("--interval", type=int, default=2000)
    p.add_argument("--version", default="2016", help="Exchange version the server emulates")
    args = p.parse_args(argv)

    proc, url = start_server(args.version)
    try:
        config = Configuration(service_endpoint=url, credentials=Credentials("EXAMPLE\\john", "Exchange-john-1"),
                               auth_type=NTLM, max_connections=args.max_connections)
        account = Account("john@example.com", config=config)
        inbox = account.inbox
        saved = inbox.add_items([Message(subject=f"benchmark {i}", body="x" * 200) for i in range(10)])
        ids = [(m.id, m.changekey) for m in saved]
        print(f"server {url}, {args.threads} threads, max_connections={args.max_connections}, "
              f"{args.requests} requests (GetFolder/GetItem alternating)")
        print(f"{'requests':>9} {'RSS MiB':>8} {'objects':>9} {'req/s':>7}")

        lock = threading.Lock()
        state = {"sent": 0, "last_t": time.monotonic(), "errors": 0}
        checkpoints: List[Tuple[int, float, int]] = []

        def checkpoint(n: int) -> None:
            now = time.monotonic()
            rate = args.interval / (now - state["last_t"])
            state["last_t"] = now
            gc.collect()
            objects = len(gc.get_objects())
            rss = rss_mb()
            checkpoints.append((n, rss, objects))
            print(f"{n:>9} {rss:>8.1f} {objects:>9} {rate:>7.0f}", flush=True)

        def worker() -> None:
            while True:
                with lock:
                    if state["sent"] >= args.requests:
                        return
                    state["sent"] += 1
                    n = state["sent"]
                try:
                    if n % 2:
                        inbox.refresh()
                    else:
                        result = next(account.fetch([ids[n % len(ids)]]))
                        if isinstance(result, Exception):
                            raise result
                except Exception as e:  # noqa: BLE001 - count and keep going; reported at the end
                    with lock:
                        state["errors"] += 1
                    print(f"request {n} failed: {e!r}", file=sys.stderr)
                if n % args.interval == 0:
                    with lock:
                        checkpoint(n)

        t0 = time.monotonic()
        state["last_t"] = t0
        threads = [threading.Thread(target=worker, name=f"bench-{i}") for i in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        account.protocol.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    print(f"\n{args.requests} requests in {elapsed:.1f} s: {args.requests / elapsed:.0f} requests/s, "
          f"{state['errors']} errors")
    if len(checkpoints) >= 2:
        (n0, rss0, obj0), (n1, rss1, obj1) = checkpoints[0], checkpoints[-1]
        print(f"RSS after {n0} requests: {rss0:.1f} MiB; after {n1}: {rss1:.1f} MiB "
              f"({rss1 - rss0:+.1f} MiB, {(rss1 - rss0) * 1024 / max(1, n1 - n0) * 1000:+.1f} KiB per 1000 requests); "
              f"live objects {obj0} -> {obj1} ({obj1 - obj0:+d})")
    return 1 if state["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
