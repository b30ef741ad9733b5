"""Memory and time bounds against a hostile server: oversized responses, gzip bombs, a slow drip.

Run: python3 benchmarks/bench_hostile.py [--cap-mb 64] [--deadline 3] [--size-mb 200] [--bomb-mb 1024]

The local EWS server runs in this process and injects one fault per case; each client case runs in
a fresh child process, so its peak RSS (ru_maxrss) is its own. For each case the child prints the
error it got, the time to that error, its RSS before the request and its peak RSS after.

Cases:
- ``oversized``: a ``--size-mb`` response of tiny elements with Content-Length (refused from the header);
- ``oversized-stream``: the same without Content-Length (refused while streaming, at the cap);
- ``gzip-bomb``: gzip that inflates to ``--bomb-mb`` (inflated by the client in chunks, up to the cap);
- ``tiny-elements``: 50 MB of ``<e/>`` under a cap of 64 MiB: refused by ``max_response_tags``;
- ``slow-headers`` / ``slow-body``: the response at 2 bytes/s: ``DeadlineExceededError`` at the deadline.

Peak RSS should stay near the baseline plus the cap, and time-to-error near the deadline.

``--matrix N`` instead runs the exactly-once fault matrix with N items per fault (the test suite uses
200): bulk create, update, move, send and delete under each injected fault, then counts what is on
the server. Every count must equal what was asked for, and every result must be a success.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

MB = 1024 * 1024


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args: argparse.Namespace) -> None:
    from exchangelib import DELEGATE, NTLM, Account, Build, Configuration, Credentials, FailFast, Version

    cfg = Configuration(service_endpoint=args.url, credentials=Credentials(os.environ["BENCH_USER"],
                                                                           os.environ["BENCH_PASSWORD"]),
                        auth_type=NTLM, version=Version(build=Build(15, 1, 2507, 6)), retry_policy=FailFast())
    acc = Account("john@example.com", config=cfg, access_type=DELEGATE)
    inbox = acc.inbox
    acc.protocol.max_response_size = args.cap_mb * MB
    acc.protocol.deadline = args.deadline
    before = _rss_mb()
    t0 = time.monotonic()
    try:
        list(inbox.all()[:1])  # FindItem: the request the server answers badly
        error = "no error"
    except Exception as e:  # noqa: BLE001 - we report whatever it was
        text = str(e).split(" was refused: ", 1)[-1].split(" It was not retried")[0]
        error = f"{type(e).__name__}: {text[:80]}"
    elapsed = time.monotonic() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"error": error, "seconds": elapsed, "rss_before_mb": before, "peak_rss_mb": peak}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cap-mb", type=int, default=64, help="max_response_size for the client, MiB")
    p.add_argument("--deadline", type=float, default=3.0, help="the client's deadline per request, seconds")
    p.add_argument("--size-mb", type=int, default=200, help="size of the oversized responses, MiB")
    p.add_argument("--bomb-mb", type=int, default=1024, help="inflated size of the gzip bomb, MiB")
    p.add_argument("--matrix", type=int, metavar="N", help="run the exactly-once fault matrix with N items per fault")
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.case:
        child(args)
        return
    if args.matrix:
        matrix(args.matrix)
        return

    from exchangelib.testing import LocalExchange, OversizedResponse, SlowResponse

    cases = [
        ("oversized", lambda: OversizedResponse(args.size_mb * MB, declare_length=True)),
        ("oversized-stream", lambda: OversizedResponse(args.size_mb * MB)),
        ("gzip-bomb", lambda: OversizedResponse(args.bomb_mb * MB, gzip=True)),
        ("tiny-elements", lambda: OversizedResponse(50 * MB)),
        ("slow-headers", lambda: SlowResponse(bytes_per_second=2)),
        ("slow-body", lambda: SlowResponse(bytes_per_second=2, headers_too=False)),
    ]
    print(f"client cap {args.cap_mb} MiB, deadline {args.deadline:g} s; every case in a fresh process")
    print(f"{'case':<18}{'time to error':>14}{'RSS before':>12}{'peak RSS':>10}  error")
    with LocalExchange() as server:
        creds = server.credentials("john@example.com")
        env = dict(os.environ, BENCH_USER=creds.username, BENCH_PASSWORD=creds.password)
        for name, fault in cases:
            server.clear_faults()
            server.inject(fault(), count=None, operations="FindItem")
            cmd = [sys.executable, __file__, "--case", name, "--url", server.url, "--cap-mb", str(args.cap_mb),
                   "--deadline", str(args.deadline)]
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
            out, _ = proc.communicate(timeout=600)
            server.clear_faults()
            try:
                r = json.loads(out.strip().splitlines()[-1])
            except (ValueError, IndexError):
                print(f"{name:<18} child failed: {out!r}")
                continue
            print(f"{name:<18}{r['seconds']:>12.2f} s{r['rss_before_mb']:>9.0f} MB{r['peak_rss_mb']:>7.0f} MB  "
                  f"{r['error']}")


def matrix(n: int) -> None:
    import logging
    import uuid

    logging.getLogger("exchangelib").setLevel(logging.ERROR)  # the retries' warnings would drown the table

    from exchangelib import DELEGATE, NTLM, Account, Build, Configuration, FaultTolerance, Folder, Message, Version
    from exchangelib.testing import (ConnectionReset, HTTPStatus, Latency, LocalExchange, ServerBusy,
                                     TruncatedResponse)

    faults = {
        "busy": lambda: ServerBusy(back_off_ms=10),
        "http500-busy": lambda: HTTPStatus(500, server_busy=True, back_off_ms=10),
        "http503": lambda: HTTPStatus(503, retry_after=0),
        "reset-before": lambda: ConnectionReset(after_action=False),
        "reset-after": lambda: ConnectionReset(after_action=True),
        "truncated": lambda: TruncatedResponse(),
        "latency": lambda: Latency(30),
        "concurrency": None,
    }
    print(f"{'fault':<14}{'created':>9}{'updated':>9}{'moved':>7}{'sent':>6}{'deleted':>9}{'not ok':>8}{'seconds':>9}")
    with LocalExchange() as server:
        cfg = Configuration(service_endpoint=server.url, credentials=server.credentials("john@example.com"),
                            auth_type=NTLM, version=Version(build=Build(*server.build)), max_connections=4,
                            retry_policy=FaultTolerance(max_wait=60, base=0.01, cap=0.05))
        acc = Account("john@example.com", config=cfg, access_type=DELEGATE)
        mary = server.account("mary@example.com")
        for name, fault in faults.items():
            server.clear_faults()
            server.max_concurrency = 1 if fault is None else None
            server.throttle_back_off_ms = 10

            def arm(op: str, fault=fault) -> None:
                if fault is not None:
                    server.inject(fault(), count=max(3, n // 200), operations=op)

            t0 = time.monotonic()
            tag = uuid.uuid4().hex[:8]
            src, dst = Folder(parent=acc.inbox, name=f"src {tag}"), Folder(parent=acc.inbox, name=f"dst {tag}")
            src.save()
            dst.save()
            arm("CreateItem")
            created = acc.bulk_create(src, [Message(subject=f"{tag} {i}", to_recipients=["mary@example.com"])
                                            for i in range(n)], chunk_size=50)
            bad = sum(isinstance(r, Exception) for r in created)
            ok = [r for r in created if not isinstance(r, Exception)]
            arm("UpdateItem")
            for it in ok:
                it.importance = "High"
            bad += sum(isinstance(r, Exception) for r in acc.bulk_update([(it, ["importance"]) for it in ok]))
            arm("MoveItem")
            bad += sum(isinstance(r, Exception) for r in acc.bulk_move(ok[: len(ok) // 2], dst))
            arm("SendItem")
            to_send = ok[len(ok) // 2: len(ok) // 2 + n // 10]
            bad += sum(isinstance(r, Exception) for r in acc.bulk_send(to_send))
            on_server = src.all().count() + dst.all().count() + len(to_send)
            high = src.filter(importance="High").count() + dst.filter(importance="High").count() + len(to_send)
            moved = dst.all().count()
            delivered = mary.inbox.filter(subject__startswith=tag).count()
            arm("DeleteItem")
            left = list(src.all().only("id")) + list(dst.all().only("id"))
            bad += sum(isinstance(r, Exception) for r in acc.bulk_delete(left))
            remaining = src.all().count() + dst.all().count()
            server.max_concurrency = None
            print(f"{name:<14}{on_server:>9}{high:>9}{moved:>7}{delivered:>6}{len(left) - remaining:>9}{bad:>8}"
                  f"{time.monotonic() - t0:>9.1f}")


if __name__ == "__main__":
    main()
