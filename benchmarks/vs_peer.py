"""Side by side with exchangelib 5.6.0 (the "peer"): the same workloads, against the same local server.

Run: python3 benchmarks/vs_peer.py [--items 2000] [--latencies 0,20] [--server-items 20000] [--repeat 3]

The peer is installed from PyPI into a virtualenv *outside the checkout* (``$XDG_CACHE_HOME`` or
``~/.cache``, then ``exchangelib-bench/peer-5.6.0``; ``--venv`` picks another place) on first use and
reused afterwards. For each latency one local EWS server process is started (``python -m
exchangelib.testing serve --no-strict``, with that much latency added to every request); this checkout
fills a folder with ``--items`` messages, then every workload runs in a fresh child process, once with
this checkout's package and once with the peer's (the peer's child never sees this checkout on its path),
best of ``--repeat`` runs. The table shows both figures and their ratio (ours / peer: below 1 is better).

Workloads:

- iterate: ``for item in folder.all().only('subject')`` over all ``--items`` messages (wall clock);
- filter: ``list(folder.filter(subject__startswith=...))``, 10 full items (FindItem + GetItem, wall);
- fetch: ``list(account.fetch(ids))`` of all messages (wall), and the client's CPU per item at 0 ms
  (process CPU of the child: building requests, HTTP, parsing; the server runs elsewhere);
- heap per parsed Message: tracemalloc growth per ``Message.from_xml`` of a 36-field GetItem message;
- import: CPU time of ``import exchangelib`` (with bytecode caches), best of 7 fresh interpreters per
  side, taken in turns.

Ours only: the lxml floor (parse + walk of the same message), and the local server's CPU per FindItem page
(100 items, IdOnly) when paging a folder of ``--items`` and of ``--server-items`` messages: it should not
grow with the folder's size.

Timings depend on the machine and on whatever else runs on it; run it a few times.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
PEER_VERSION = "5.6.0"
FOLDER = "bench-vs-peer"
BIG_FOLDER = "bench-vs-peer-big"
FILTER_PREFIX = "bench 001"  # 'bench 0010' .. 'bench 0019': 10 items when there are at least 20


def default_venv() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "exchangelib-bench" / f"peer-{PEER_VERSION}"


# --------------------------------------------------------------------------------------------------------
# Child side: runs under either package. Imports only exchangelib, lxml and the standard library.
# --------------------------------------------------------------------------------------------------------
def child(task: str, spec: Dict[str, Any]) -> Dict[str, Any]:
    import exchangelib
    from exchangelib import DELEGATE, NTLM, Account, Configuration, Credentials

    out: Dict[str, Any] = {"version": getattr(exchangelib, "__version__", "?"), "file": exchangelib.__file__}
    if task == "memory":
        import gc
        import tracemalloc

        from lxml import etree

        from exchangelib.items import Message

        data = Path(spec["doc_file"]).read_bytes()
        Message.from_xml(etree.fromstring(data)[0], None)  # warm up caches (the peer clears parsed elements)
        root = etree.fromstring(data)
        elems = list(root)
        gc.collect()
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        items = [Message.from_xml(e, None) for e in elems]
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert items[0].subject, items[0]
        out["bytes_per_item"] = (after - before) / len(items)
        return out
    config = Configuration(service_endpoint=spec["url"], credentials=Credentials(spec["user"], spec["password"]),
                           auth_type=NTLM)
    account = Account(spec["address"], config=config, autodiscover=False, access_type=DELEGATE)
    folder = account.inbox / spec["folder"]  # warm-up: version probe, NTLM handshake, folder lookup
    runs: List[float] = []
    cpu: List[float] = []
    for _ in range(spec["repeat"]):
        t0, c0 = time.perf_counter(), time.process_time()
        if task == "iterate":
            n = sum(1 for _ in folder.all().only("subject"))
        elif task == "filter":
            n = len(list(folder.filter(subject__startswith=spec["prefix"])))
        elif task == "fetch":
            ids = [tuple(i) for i in json.loads(Path(spec["ids_file"]).read_text())]
            n = sum(1 for i in account.fetch(ids) if not isinstance(i, Exception))
        else:
            raise ValueError(task)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if n != spec["expect"]:
            raise RuntimeError(f"{task}: got {n} items, expected {spec['expect']}")
    out["seconds"] = min(runs)
    out["cpu_seconds"] = min(cpu)
    out["items"] = spec["expect"]
    return out


# --------------------------------------------------------------------------------------------------------
# Driver side: this checkout's interpreter
# --------------------------------------------------------------------------------------------------------
def run_child(python: str, ours: bool, task: str, spec: Dict[str, Any]) -> Dict[str, Any]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if ours:
        env["PYTHONPATH"] = str(REPO)
    with tempfile.TemporaryDirectory(prefix="vs_peer_") as cwd:  # never the checkout for the peer
        proc = subprocess.run([python, str(Path(__file__).resolve()), "--child", task, json.dumps(spec)],
                              capture_output=True, text=True, env=env, cwd=cwd, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{'ours' if ours else 'peer'} {task} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    where = str(res.get("file", ""))
    if ours != where.startswith(str(REPO)):
        raise RuntimeError(f"{'ours' if ours else 'peer'} child imported the wrong exchangelib: {where}")
    return res


_IMPORT_PROBE = "import time; t = time.process_time(); import exchangelib; print(time.process_time() - t)"


def import_ms(pythons: Dict[str, str], runs: int = 7) -> Dict[str, float]:
    """Best CPU milliseconds of ``import exchangelib`` per side in fresh interpreters, the sides measured in
    turns. CPU time, not wall time: on a shared machine the wall time of an import mostly measures the wait
    for a core."""
    best = {side: float("inf") for side in pythons}
    with tempfile.TemporaryDirectory(prefix="vs_peer_") as cwd:
        for _ in range(runs + 1):  # the first round writes the bytecode caches
            for side, python in pythons.items():
                env = dict(os.environ)
                env.pop("PYTHONPATH", None)
                # Both sides with bytecode caches, as installed packages have; ours go to a temporary directory,
                # never into the checkout
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                env["PYTHONPYCACHEPREFIX"] = os.path.join(cwd, "pycache")
                if side == "ours":
                    env["PYTHONPATH"] = str(REPO)
                out = subprocess.run([python, "-c", _IMPORT_PROBE], capture_output=True, text=True, env=env,
                                     cwd=cwd, check=True).stdout
                best[side] = min(best[side], float(out.strip().splitlines()[-1]) * 1000)
    return best


def server_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fill(account: Any, name: str, n: int) -> Tuple[Any, List[Tuple[str, str]]]:
    from exchangelib import Folder, Message

    folder = Folder(parent=account.inbox, name=name)
    folder.save()
    ids: List[Tuple[str, str]] = []
    for start in range(0, n, 2000):
        items = [Message(subject=f"bench {i:04d}", body=f"Benchmark message {i}. " * 20, categories=["bench"])
                 for i in range(start, min(n, start + 2000))]
        created = account.bulk_create(folder=folder, items=items)
        bad = [c for c in created if isinstance(c, Exception)]
        if bad:
            raise bad[0]
        ids.extend((c.id, c.changekey) for c in created)
    return folder, ids


def page_cpu(pid: int, folder: Any, n: int) -> float:
    """The server's CPU milliseconds per 100-item IdOnly FindItem page while paging through ``folder``."""
    from exchangelib.services import FindItem

    svc = FindItem(account=folder.account, page_size=100)
    list(svc.call(folder, max_items=100))  # the first page: the server builds its index here
    c0 = server_cpu_seconds(pid)
    count = sum(1 for _ in svc.call(folder))
    assert count == n, (count, n)
    return (server_cpu_seconds(pid) - c0) * 1000 / (n / 100)


def lxml_floor_us(doc: bytes) -> float:
    from lxml import etree

    best = float("inf")
    for _ in range(5):
        t = time.process_time()
        root = etree.fromstring(doc)
        n = sum(1 for _ in root.iter())
        best = min(best, time.process_time() - t)
    return best / len(root) * 1e6 if n else 0.0


def ratio(ours: Optional[float], peer: Optional[float]) -> str:
    return f"{ours / peer:.2f}" if ours is not None and peer else "-"


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=2000, help="messages in the iterated/fetched folder (>= 20)")
    p.add_argument("--latencies", default="0,20", help="added server latencies in ms, comma-separated")
    p.add_argument("--server-items", type=int, default=20000, help="messages in the big folder (0: skip)")
    p.add_argument("--repeat", type=int, default=3, help="runs per workload; the best is shown")
    p.add_argument("--venv", type=Path, default=None, help=f"the peer's virtualenv (default {default_venv()})")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], json.loads(args.child[1]))))
        return 0
    if args.items < 20:
        p.error("--items must be at least 20")

    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "tools"))
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_bulk import ADDRESS, PASSWORD, USER, account_for, start_server, stop_server
    from bench_parse import MESSAGE
    from compat_exchangelib56 import ensure_venv

    from exchangelib.xml import MNS, TNS

    venv = (args.venv or default_venv()).expanduser().resolve()
    if str(venv).startswith(str(REPO)):
        p.error("the peer's virtualenv must live outside the checkout")
    peer_python = str(ensure_venv(venv, log=lambda m: print(m, file=sys.stderr)))
    ours_python = sys.executable

    rows: List[Tuple[str, Optional[float], Optional[float], str]] = []
    with tempfile.TemporaryDirectory(prefix="vs_peer_") as tmp:
        doc = (f'<m:Items xmlns:m="{MNS}" xmlns:t="{TNS}">' + MESSAGE * 2000 + "</m:Items>").encode()
        doc_file = os.path.join(tmp, "items.xml")
        Path(doc_file).write_bytes(doc)
        mem = {side: run_child(py, side == "ours", "memory", {"doc_file": doc_file})["bytes_per_item"]
               for side, py in (("ours", ours_python), ("peer", peer_python))}
        imp = import_ms({"ours": ours_python, "peer": peer_python})
        per_page: Dict[str, float] = {}
        results: Dict[Tuple[str, float, str], Dict[str, Any]] = {}
        for latency in [float(x) for x in args.latencies.split(",") if x.strip()]:
            proc, url = start_server(latency)
            try:
                account = account_for(url)
                folder, ids = fill(account, FOLDER, args.items)
                ids_file = os.path.join(tmp, "ids.json")
                Path(ids_file).write_text(json.dumps(ids))
                base = {"url": url, "user": USER, "password": PASSWORD, "address": ADDRESS, "folder": FOLDER,
                        "repeat": args.repeat}
                tasks = {"iterate": dict(base, expect=args.items),
                         "filter": dict(base, expect=10, prefix=FILTER_PREFIX),
                         "fetch": dict(base, expect=len(ids), ids_file=ids_file)}
                for task, spec in tasks.items():
                    for side, py in (("ours", ours_python), ("peer", peer_python)):
                        results[(task, latency, side)] = run_child(py, side == "ours", task, spec)
                if latency == 0:
                    per_page[f"{args.items}"] = page_cpu(proc.pid, folder, args.items)
                    if args.server_items:
                        big, _ = fill(account, BIG_FOLDER, args.server_items)
                        per_page[f"{args.server_items}"] = page_cpu(proc.pid, big, args.server_items)
                account.protocol.close()
            finally:
                stop_server(proc)
            for task, label in (("iterate", f"iterate {args.items} items, only('subject')"),
                                ("filter", "filter(), 10 full items"),
                                ("fetch", f"fetch {len(ids)} ids")):
                o, q = results[(task, latency, "ours")]["seconds"], results[(task, latency, "peer")]["seconds"]
                rows.append((f"{label}, {latency:g} ms latency (wall s)", o, q, "s"))
            if latency == 0:
                o = results[("fetch", 0, "ours")]["cpu_seconds"] / len(ids) * 1e6
                q = results[("fetch", 0, "peer")]["cpu_seconds"] / len(ids) * 1e6
                rows.append(("fetch: client CPU per item, 0 ms (us)", o, q, "us"))
        rows.append(("heap per parsed Message, 36 fields (bytes)", mem["ours"], mem["peer"], "B"))
        rows.append(("import exchangelib, CPU (ms)", imp["ours"], imp["peer"], "ms"))
        floor = lxml_floor_us(doc)

    width = max(len(r[0]) for r in rows)
    print(f"exchangelib (this checkout) vs exchangelib {PEER_VERSION}; best of {args.repeat}; "
          f"{os.cpu_count()} CPUs; ratio = ours / peer")
    print(f"{'measure':<{width}}  {'ours':>10}  {'peer':>10}  {'ratio':>6}")
    for label, o, q, unit in rows:
        fmt = "{:>10.3f}" if unit == "s" else "{:>10.0f}" if unit in ("B",) else "{:>10.1f}"
        print(f"{label:<{width}}  {fmt.format(o)}  {fmt.format(q)}  {ratio(o, q):>6}")
    print(f"\nlxml floor (parse + walk of the same message): {floor:.1f} us per item")
    for size, ms in per_page.items():
        print(f"local server CPU per 100-item FindItem page, folder of {size} items: {ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
