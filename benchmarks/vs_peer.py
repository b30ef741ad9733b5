"""Side by side with exchangelib 5.6.0 (the "peer"): the same workloads, against the same local server.

Run: python3 benchmarks/vs_peer.py [--items 2000] [--latencies 0,20] [--server-items 20000] [--repeat 3]
     [--getitem-items 1000]

The peer is installed from PyPI into a virtualenv *outside the checkout* (``$XDG_CACHE_HOME`` or
``~/.cache``, then ``exchangelib-bench/peer-5.6.0``; ``--venv`` picks another place) on first use and
reused afterwards. For each latency one local EWS server process is started (``python -m
exchangelib.testing serve --no-strict``, with that much latency added to every request); this checkout
fills a folder with ``--items`` messages, then every workload runs in a fresh child process, once with
this checkout's package and once with the peer's (the peer's child never sees this checkout on its path),
best of ``--repeat`` runs. The table shows both figures and their ratio (ours / peer: below 1 is better).

Workloads:

- iterate: ``for item in folder.all().only('subject')`` over all ``--items`` messages (wall clock);
- filter: ``list(folder.filter(subject__startswith=...))``, 10 full items (FindItem + GetItem, wall). FindItem
  cannot return bodies or recipient lists (Microsoft's FindItem reference), so every client needs a GetItem
  after it: two round trips one after the other, so at L ms of added latency a run takes at least 2 x L for
  either library. Each child counts the requests it sends (by wrapping ``requests.adapters.HTTPAdapter.send``,
  which both libraries use; the server runs in another process and keeps its statistics to itself), and the
  table lists them per run with the "round-trip floor of the ratio", (our sequential round trips x L) / the
  peer's time: the best ours / peer ratio any client that has to make those round trips could reach.
  "Sequential" counts the disjoint time spans a run's authenticated requests cover (overlapping requests
  share one); NTLM's 401 legs are listed apart, the server adds no latency to them;
- fetch: ``list(account.fetch(ids))`` of all messages (wall), and the client's CPU per item at 0 ms
  (process CPU of the child: building requests, HTTP, parsing; the server runs elsewhere);
- GetItem response -> items: CPU microseconds per item (best of ``max(--repeat, 5)`` rounds after a warm-up,
  ``time.process_time``) to turn the bytes of one GetItem response into a list of Message objects, without
  HTTP and without the server. Both sides get the same bytes, built by the driver: an ``s:Envelope`` with a
  ``ServerVersionInfo`` header and ``--getitem-items`` successful GetItemResponseMessages, each with one
  ``t:Message`` (bench_parse.MESSAGE with its indentation removed: Exchange sends none). Ours runs
  ``Protocol._handle_response`` (``xml.parse``, ``soap.split_envelope``, the Fault and ErrorServerBusy
  checks, ``soap.server_version``; called with a stand-in response of status 200; reading the body off the
  socket, ``httpio.read_capped``, is HTTP and left out), then what
  ``EWSService._post``/``_results`` and ``GetItem.parse_message`` do per ResponseMessage:
  ``soap.response_message_error`` and ``services.get_item.parse_items_container(msg, None)``. The peer runs,
  on a ``GetItem`` service of an ``Account`` built without network (the version given in its
  Configuration), the steps of its ``EWSService._get_response_xml`` after the HTTP request and of
  ``GetItem.call``: ``_get_soap_parts`` (``util.to_xml``, lxml with its recovering parser),
  ``_update_api_version``, ``_get_soap_messages``, ``_get_elements_in_response`` and ``_elems_to_objs``
  (``Message.from_xml(elem, account)``), given a ``util.DummyResponse`` holding the bytes, as its own
  ``EWSService.parse()`` does. Its HTTP path hands ``to_xml`` a ``requests`` response instead, whose
  ``iter_content()`` cuts the body into 1-byte chunks; that costs more and is printed on its own line. Under
  the table: the lxml floor of the same bytes (``etree.fromstring`` + a walk over every element, timed in turns
  with the library in each side's own process) and ours / floor (the goal is at most 2), and a bare Python
  reader of the same bytes (the parse,
  then each element's tag looked up in a dict and its text read, nothing built or converted): the least any
  pure-Python code on lxml pays that reads every element, which puts the goal in proportion;
  These children run with ``MALLOC_TRIM_THRESHOLD_`` set, so glibc keeps freed heap memory: otherwise it
  hands the memory at the top of the heap back to the system and the next parse faults it in again, page by
  page, which can double libxml2's time depending on what else the process allocated before (the same
  ``etree.fromstring`` took 17 or 33 us per item in two processes); this way every figure is CPU work;
- heap per parsed Message: tracemalloc growth per ``Message.from_xml`` of a 36-field GetItem message;
- import: CPU time of ``import exchangelib`` (with bytecode caches), best of 7 fresh interpreters per
  side, taken in turns.

Ours only: the older lxml floor (parse + walk of bench_parse.MESSAGE x 2000, indented, in a bare m:Items: the
heap row's document, not what either library parses in the fetch rows), and the local server's CPU per FindItem page
(100 items, IdOnly) when paging a folder of ``--items`` and of ``--server-items`` messages: it should not
grow with the folder's size.

Timings depend on the machine and on whatever else runs on it; run it a few times.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
PEER_VERSION = "5.6.0"
FOLDER = "bench-vs-peer"
BIG_FOLDER = "bench-vs-peer-big"
FILTER_PREFIX = "bench 001"  # 'bench 0010' .. 'bench 0019': 10 items when there are at least 20


def default_venv() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "exchangelib-bench" / f"peer-{PEER_VERSION}"


# --------------------------------------------------------------------------------------------------------
# Child side: runs under either package. Imports only exchangelib, requests, lxml and the standard library.
# --------------------------------------------------------------------------------------------------------
_BODY_CHILD = re.compile(rb"<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)")


class RequestCounter:
    """Counts the HTTP requests a child sends, by wrapping ``requests.adapters.HTTPAdapter.send`` (both
    libraries send through a plain HTTPAdapter; NTLM's handshake legs go through it too, not through
    ``Session.send``). A request answered 401 is an authentication leg (the server adds its latency only to
    authenticated EWS requests); every other one is an EWS round trip, named by the first element in its SOAP
    body. ``waves`` is the number of disjoint time spans those round trips cover: requests that overlap in time
    share one span, so it is the number of latencies a run must wait through one after the other."""

    def __init__(self) -> None:
        import requests.adapters

        self.calls: List[Tuple[str, int, float, float]] = []
        original = requests.adapters.HTTPAdapter.send
        calls = self.calls

        def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
            m = _BODY_CHILD.search(body[:4096])
            t0 = time.perf_counter()
            response = original(adapter, request, *args, **kwargs)
            calls.append((m.group(1).decode() if m else "?", response.status_code, t0, time.perf_counter()))
            return response

        requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]

    def reset(self) -> None:
        self.calls.clear()

    def summary(self) -> Dict[str, Any]:
        ews = sorted((c for c in self.calls if c[1] != 401), key=lambda c: c[2])
        by_op: Dict[str, int] = {}
        for op, *_ in ews:
            by_op[op] = by_op.get(op, 0) + 1
        waves, end = 0, float("-inf")
        for _, _, t0, t1 in ews:
            if t0 >= end:
                waves += 1
                end = t1
            else:
                end = max(end, t1)
        return {"ews": len(ews), "by_op": by_op, "waves": waves, "auth": len(self.calls) - len(ews)}


def getitem_path(side: str) -> Callable[[bytes], List[Any]]:
    """A function from the bytes of a GetItem response to the list of its items, through the library's own
    response-handling functions, without HTTP (see the module docstring for what each side runs)."""
    if side == "ours":
        from types import SimpleNamespace

        from exchangelib.protocol import Protocol
        from exchangelib.services.get_item import parse_items_container
        from exchangelib.soap import response_message_error
        from exchangelib.xml import MNS

        # _handle_response reads only the status (and headers, on a 503/429) of the response, and the
        # endpoint (in error messages) of the protocol
        stub_protocol = SimpleNamespace(service_endpoint="https://127.0.0.1/EWS/Exchange.asmx")
        stub_response = SimpleNamespace(status_code=200, headers={})
        response_messages = f"{{{MNS}}}ResponseMessages"

        def ours(data: bytes) -> List[Any]:
            # Protocol._attempt -> _handle_response: parse, split_envelope, Fault, ErrorServerBusy, server_version
            _, body, _ = Protocol._handle_response(stub_protocol, stub_response, data, "GetItem")  # type: ignore
            response = body[0]  # EWSService._post
            out: List[Any] = []
            for msg in list(response.find(response_messages)):  # EWSService._response_messages / _results
                exc = response_message_error(msg, "GetItem")
                if exc is not None:
                    out.append(exc)
                    continue
                items = parse_items_container(msg, None)  # GetItem.parse_message
                out.extend(items[:1] if items else [None])
            return out

        return ours

    import requests

    from exchangelib import DELEGATE, Account, Configuration, Credentials, Version
    from exchangelib.services import GetItem
    from exchangelib.util import DummyResponse
    from exchangelib.version import EXCHANGE_2016

    # An account that never touches the network: the version is given, so nothing is probed
    config = Configuration(service_endpoint="https://127.0.0.1/EWS/Exchange.asmx", credentials=Credentials("u", "p"),
                           version=Version(build=EXCHANGE_2016))
    account = Account("john@example.com", config=config, autodiscover=False, access_type=DELEGATE)
    svc = GetItem(account=account)

    def peer(data: bytes, response: Any) -> List[Any]:
        # EWSService._get_response_xml after its HTTP request, then GetItem.call's _get_elements_in_response /
        # _elems_to_objs (GetItem._elem_to_obj: Message.from_xml(elem, account))
        header, body = svc._get_soap_parts(response=response)
        if header is not None:
            svc._update_api_version(api_version=account.version.api_version, header=header)
        messages = svc._get_soap_messages(body=body)
        return list(svc._elems_to_objs(svc._get_elements_in_response(response=messages)))

    if side == "peer":  # DummyResponse, as the peer's own EWSService.parse(): iter_content() is the bytes
        return lambda data: peer(data, DummyResponse(content=data, status_code=200))

    def as_http(data: bytes) -> List[Any]:
        # What a non-streamed requests.Response hands the peer: iter_content() slices the read body into
        # 1-byte chunks, which its BytesGeneratorIO feeds to lxml
        r = requests.models.Response()
        r._content, r._content_consumed, r.status_code = data, True, 200
        return peer(data, r)

    return as_http


def child(task: str, spec: Dict[str, Any]) -> Dict[str, Any]:
    import exchangelib

    out: Dict[str, Any] = {"version": getattr(exchangelib, "__version__", "?"), "file": exchangelib.__file__}
    if task == "getitem":
        import gc

        data = Path(spec["doc_file"]).read_bytes()
        convert = getitem_path(spec["variant"])
        first = convert(data)  # warm-up: imports, caches
        if len(first) != spec["expect"] or getattr(first[0], "subject", None) != spec["subject"] \
                or any(isinstance(i, Exception) or type(i).__name__ != "Message" for i in first):
            raise RuntimeError(f"getitem: got {len(first)} results, the first {first[0]!r}")
        del first
        # The lxml floor and the bare reader are timed in this process too, in turns with the library: how fast
        # libxml2 builds a tree depends on the state of the C heap (glibc gives freed memory at the top of the heap
        # back to the system, and a later parse faults those pages in again), so each side is set beside a floor
        # measured in the same conditions.
        best = floor = bare = float("inf")
        for _ in range(spec["rounds"]):
            gc.collect()
            t = time.process_time()
            items = convert(data)
            best = min(best, time.process_time() - t)
            del items
            gc.collect()
            floor = min(floor, _floor_once(data))
            gc.collect()
            bare = min(bare, _bare_once(data))
        out["us_per_item"] = best / spec["expect"] * 1e6
        out["floor_us"] = floor / spec["expect"] * 1e6
        out["bare_us"] = bare / spec["expect"] * 1e6
        return out
    from exchangelib import DELEGATE, NTLM, Account, Configuration, Credentials

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
    counter = RequestCounter()
    folder = account.inbox / spec["folder"]  # warm-up: version probe, NTLM handshake, folder lookup
    runs: List[float] = []
    cpu: List[float] = []
    sent: List[Dict[str, Any]] = []
    for _ in range(spec["repeat"]):
        counter.reset()
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
        sent.append(counter.summary())
        if n != spec["expect"]:
            raise RuntimeError(f"{task}: got {n} items, expected {spec['expect']}")
    out["seconds"] = min(runs)
    out["cpu_seconds"] = min(cpu)
    out["requests"] = sent[runs.index(min(runs))]  # of the run whose time is shown
    out["requests_all_runs"] = sent
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
    if task == "getitem":
        # Pure CPU of the response path, on both sides alike: glibc keeps freed heap memory instead of handing
        # it back to the system (which a later parse would fault in again, page by page, at a cost that depends
        # on what else the process allocated before).
        env.setdefault("MALLOC_TRIM_THRESHOLD_", str(1 << 30))
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


def _floor_once(doc: bytes) -> float:
    """CPU seconds of ``etree.fromstring(doc)`` plus a walk over every element (the lxml floor), once."""
    from lxml import etree

    t = time.process_time()
    root = etree.fromstring(doc)
    for _ in root.iter():
        pass
    return time.process_time() - t


def _bare_once(doc: bytes) -> float:
    """CPU seconds of the least any Python code pays that turns every element into something, once:
    ``etree.fromstring(doc)``, then for every element its tag looked up in a dict (as any dispatcher on element
    names does) and its text read. No objects are built and nothing is converted: the lower bound of a pure-Python
    reader on lxml, to set beside the floor."""
    from lxml import etree

    names: Dict[str, int] = {}
    get = names.get
    t = time.process_time()
    root = etree.fromstring(doc)
    for e in root.iter():
        get(e.tag)
        e.text
    return time.process_time() - t


def lxml_floor_us(doc: bytes, items: Optional[int] = None) -> float:
    """Best CPU microseconds per item of the lxml floor (see _floor_once); ``items`` defaults to the number of
    children of the root."""
    from lxml import etree

    best = min(_floor_once(doc) for _ in range(5))
    return best / (items or len(etree.fromstring(doc))) * 1e6


def getitem_response(message: str, n: int) -> bytes:
    """A GetItem response of ``n`` copies of ``message`` as Exchange writes one: an envelope with its
    ServerVersionInfo header, one successful GetItemResponseMessage per item (one per requested id), no
    whitespace between elements. The indentation inside ``message`` is removed (whitespace-only text of
    elements that have children and whitespace-only tails); text content stays as it is."""
    from lxml import etree

    from exchangelib.xml import MNS, SOAPNS, TNS

    elem = etree.fromstring(message.encode())
    for e in elem.iter():
        if len(e) and e.text is not None and not e.text.strip():
            e.text = None
        if e.tail is not None and not e.tail.strip():
            e.tail = None
    one = etree.tostring(elem, encoding="unicode")
    declaration = f' xmlns:t="{TNS}"'
    if one.count(declaration) != 1:
        raise ValueError("expected one declaration of the t: prefix, on the message")
    one = one.replace(declaration, "", 1)  # declared once, on m:GetItemResponse, as Exchange does
    xsi_xsd = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
    head = (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAPNS}"><s:Header>'
            f'<h:ServerVersionInfo MajorVersion="15" MinorVersion="20" MajorBuildNumber="7452" MinorBuildNumber="50" '
            f'Version="V2018_01_08" xmlns:h="{TNS}" xmlns="{TNS}" {xsi_xsd}/></s:Header><s:Body {xsi_xsd}>'
            f'<m:GetItemResponse xmlns:m="{MNS}" xmlns:t="{TNS}"><m:ResponseMessages>')
    each = (f'<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
            f'<m:Items>{one}</m:Items></m:GetItemResponseMessage>')
    return (head + each * n + "</m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>").encode()


def ratio(ours: Optional[float], peer: Optional[float]) -> str:
    return f"{ours / peer:.2f}" if ours is not None and peer else "-"


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=2000, help="messages in the iterated/fetched folder (>= 20)")
    p.add_argument("--latencies", default="0,20", help="added server latencies in ms, comma-separated")
    p.add_argument("--server-items", type=int, default=20000, help="messages in the big folder (0: skip)")
    p.add_argument("--repeat", type=int, default=3, help="runs per workload; the best is shown")
    p.add_argument("--getitem-items", type=int, default=1000,
                   help="messages in the GetItem response parsed by both sides (the 'GetItem response' row)")
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
        response = getitem_response(MESSAGE, args.getitem_items)
        response_file = os.path.join(tmp, "getitem.xml")
        Path(response_file).write_bytes(response)
        gi_spec = {"doc_file": response_file, "expect": args.getitem_items, "rounds": max(args.repeat, 5),
                   "subject": "Quarterly numbers, final version"}
        gi_runs = {variant: run_child(ours_python if variant == "ours" else peer_python, variant == "ours",
                                      "getitem", dict(gi_spec, variant=variant,
                                                      rounds=gi_spec["rounds"] if variant != "peer-http" else 3))
                   for variant in ("ours", "peer", "peer-http")}
        getitem = {variant: run["us_per_item"] for variant, run in gi_runs.items()}
        response_floor, bare = gi_runs["ours"]["floor_us"], gi_runs["ours"]["bare_us"]
        peer_floor = gi_runs["peer"]["floor_us"]
        imp = import_ms({"ours": ours_python, "peer": peer_python})
        per_page: Dict[str, float] = {}
        results: Dict[Tuple[str, float, str], Dict[str, Any]] = {}
        latencies = [float(x) for x in args.latencies.split(",") if x.strip()]
        for latency in latencies:
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
        rows.append(("GetItem response -> items, CPU per item (us)", getitem["ours"], getitem["peer"], "us"))
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
    print(f"\nGetItem response of {args.getitem_items} messages, {len(response)} bytes without indentation:")
    print(f"  lxml floor (etree.fromstring + walk of the same bytes, timed in turns in each side's process): "
          f"{response_floor:.1f} us per item beside ours, {peer_floor:.1f} beside the peer")
    print(f"  ours / lxml floor: {getitem['ours'] / response_floor:.2f} (goal <= 2); "
          f"peer / lxml floor: {getitem['peer'] / peer_floor:.2f}")
    print(f"  bare Python reader (the parse, then every element's tag looked up and text read, nothing built): "
          f"{bare:.1f} us per item = {bare / response_floor:.2f} x the floor")
    print(f"  peer fed as its HTTP path feeds it (requests' iter_content(), 1-byte chunks): "
          f"{getitem['peer-http']:.1f} us per item")
    print(f"lxml floor of bench_parse.MESSAGE x 2000, indented, in a bare m:Items (the heap row's document): "
          f"{floor:.1f} us per item")
    print("\nfilter(), 10 full items: EWS requests per run (NTLM 401 legs counted apart) and the round-trip floor "
          "of the ratio,\n(sequential round trips x latency) / peer's time")
    for latency in latencies:
        counts = {side: results[("filter", latency, side)]["requests"] for side in ("ours", "peer")}
        waves = counts["ours"]["waves"]
        peer_s = results[("filter", latency, "peer")]["seconds"]
        for side, c in counts.items():
            ops = ", ".join(f"{op} {k}" for op, k in sorted(c["by_op"].items()))
            seen = sorted({(r["ews"], r["waves"]) for r in results[("filter", latency, side)]["requests_all_runs"]})
            varies = f" (runs differ: requests, sequential = {seen})" if len(seen) > 1 else ""
            print(f"  {latency:g} ms, {side}: {c['ews']} requests ({ops}), {c['waves']} sequential, "
                  f"{c['auth']} auth legs{varies}")
        print(f"  {latency:g} ms: round-trip floor of the ratio {waves} x {latency:g} ms / {peer_s:.3f} s = "
              f"{waves * latency / 1000 / peer_s:.2f} (measured ratio "
              f"{ratio(results[('filter', latency, 'ours')]['seconds'], peer_s)})")
    for size, ms in per_page.items():
        print(f"local server CPU per 100-item FindItem page, folder of {size} items: {ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
