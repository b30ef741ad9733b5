#!/usr/bin/env python3
"""Check that the local EWS server behaves like Exchange, using another client: exchangelib 5.6.0.

::

    python tools/compat_exchangelib56.py                       # Exchange 2016 emulation
    python tools/compat_exchangelib56.py --server-version 2016,2010_SP2,2019
    python tools/compat_exchangelib56.py --server-version all  # every version the server emulates
    python tools/compat_exchangelib56.py --trace trace.log     # keep 5.6.0's request/response XML

The best existing Python EWS library is installed from PyPI into a virtualenv of its own
(``~/.cache/exchangelib/venv-compat-exchangelib-5.6.0``, or under ``$XDG_CACHE_HOME``; outside the
checkout, never a dependency of this project). For
each server version, this script starts our server (:class:`exchangelib.testing.server.EWSServer`
with strict request validation and response validation) in-process, then runs
``tools/compat/check_exchangelib56.py`` with the virtualenv's interpreter against ``server.url``:
in isolated mode (``python -I``) from a temporary directory, so the subprocess imports the PyPI
``exchangelib`` and never this repository's package of the same name.

The check creates ten calendar items (``bulk_create`` and ``item.save()``), finds them
(``filter`` on start/end/categories, ``only``, ``order_by``, ``count``, slicing, ``view``),
fetches, updates and deletes them, walks the folder tree and sends a message from john to mary.
Then (a block of its own) it drives change tracking and notifications: ``sync_items()`` across
create/update/delete, ``subscribe_to_pull()``/``get_events()`` and
``subscribe_to_streaming()``/``get_streaming_events()``.
A second workflow (``admin_steps`` in the check script) drives 5.6.0's mailbox administration calls:
Inbox rules (``create_rule``, ``rules``, ``set_rule``, ``delete_rule``), ``account.delegates``, user
configuration (create, get, update, delete), ``message.mark_as_junk()``, ``item.archive()`` (which
must answer ErrorArchiveMailboxNotEnabled: the default users have no archive), the typed
``folder.permission_set`` and the QuerySet bulk actions ``move``, ``copy`` and ``mark_as_junk``.
The report lists each step, the EWS operations 5.6.0 sent with the answers it got, and the
server's own findings: requests failing schema validation, responses failing it, handler crashes
and operations the server does not implement. Any of those, or a failed step, is a FAIL, except
the requests listed in :data:`KNOWN_CLIENT_DEVIATIONS`: things 5.6.0 sends on purpose that Exchange
rejects too, and that 5.6.0 recovers from. They are reported, not counted.

Known 5.6.0 failures (the server answers as the emulated Exchange would; 5.6.0 is wrong):

- ``2013``/``2013_SP1``: 5.6.0 asks for the distinguished folder ``favorites``, which the
  Exchange 2013 schema does not have, so ``account.root.tree()`` gets ErrorSchemaValidation.
- ``2007``/``2007_SP1``: 5.6.0 sends the ``TimeZoneContext`` header (an Exchange 2010 element)
  in every request, even after settling on API version Exchange2007_SP1.
- ``online``: 5.6.0 asks for distinguished folders (``allcontacts``, ``quarantinedemail``, ...)
  that Microsoft's published schema (V2018_01_08) lacks; Exchange Online's live schema may be newer.

Exit status: 0 PASS, 1 FAIL, 3 the virtualenv could not be set up (for example PyPI unreachable).
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence

REPO = Path(__file__).resolve().parent.parent
CHECK_SCRIPT = Path(__file__).resolve().parent / "compat" / "check_exchangelib56.py"
PACKAGE = "exchangelib"
VERSION = "5.6.0"
# Outside the checkout: running the check (or the tests) writes nothing into the repository.
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "exchangelib"
DEFAULT_VENV = CACHE_DIR / f"venv-compat-{PACKAGE}-{VERSION}"
DEFAULT_SERVER_VERSIONS = ("2016",)

EXIT_PASS, EXIT_FAIL, EXIT_SETUP = 0, 1, 3

if str(REPO) not in sys.path:  # run as a script from anywhere: our package lives at the repo root
    sys.path.insert(0, str(REPO))


class KnownDeviation(NamedTuple):
    """A request 5.6.0 sends on purpose that Exchange rejects too (and 5.6.0 recovers from)."""

    operation: str
    kind: str      # SchemaError.kind: 'request', 'header', 'version'
    pattern: str   # regular expression searched in the SchemaError message
    why: str


KNOWN_CLIENT_DEVIATIONS = (
    KnownDeviation(
        "ConvertId", "header", r"RequestServerVersion Version='Exchange2015_SP1' is not an ExchangeVersionType value",
        "5.6.0's version probe (ConvertId of a dummy id) walks down a list of API version names that includes "
        "'Exchange2015_SP1', which no Microsoft schema defines. Exchange answers ErrorInvalidServerVersion and "
        "5.6.0 tries the next name, as it does for every version the server does not support."),
)


class SetupError(Exception):
    """The virtualenv with exchangelib 5.6.0 could not be created (no network, no venv module, ...)."""


# -- virtualenv -------------------------------------------------------------------------------------

def venv_python(venv_dir: Path) -> Path:
    if os.name == "nt":  # pragma: no cover - Windows layout
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def installed_version(python: Path) -> Optional[str]:
    """The exchangelib version ``python`` imports when run isolated from a neutral directory, or None."""
    if not python.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([str(python), "-I", "-c", "import exchangelib; print(exchangelib.__version__)"],
                              cwd=tmp, capture_output=True, text=True, timeout=120)
    return proc.stdout.strip() if proc.returncode == 0 else None


@contextlib.contextmanager
def _venv_lock(venv_dir: Path) -> Iterator[None]:
    """Serialise virtualenv setup between processes (test runs in one checkout may overlap)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no cross-process lock
        yield
        return
    digest = hashlib.sha256(str(venv_dir).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"exchangelib-compat-{digest}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(venv_dir: Path, log: Callable[[str], Any] = print, pip_timeout: int = 30) -> Path:
    """Create (or reuse) a virtualenv holding exchangelib 5.6.0 and return its interpreter.

    Raises :class:`SetupError` when the virtualenv cannot be created or pip cannot install the
    package (typically: PyPI unreachable). An existing directory is replaced only if it is a
    virtualenv (has ``pyvenv.cfg``). Concurrent callers for the same directory wait for each other.
    """
    venv_dir = Path(venv_dir).resolve()
    with _venv_lock(venv_dir):
        return _ensure_venv(venv_dir, log, pip_timeout)


def _ensure_venv(venv_dir: Path, log: Callable[[str], Any], pip_timeout: int) -> Path:
    python = venv_python(venv_dir)
    if installed_version(python) == VERSION:
        log(f"Reusing {venv_dir} ({PACKAGE} {VERSION})")
        return python
    if venv_dir.exists() and any(venv_dir.iterdir()) and not (venv_dir / "pyvenv.cfg").exists():
        raise SetupError(f"{venv_dir} exists and is not a virtualenv; pass another --venv directory")
    log(f"Creating {venv_dir} and installing {PACKAGE}=={VERSION} from PyPI ...")
    t0 = time.monotonic()
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(str(venv_dir))
    except Exception as e:  # ensurepip missing (Debian without python3-venv), read-only disk, ...
        shutil.rmtree(venv_dir, ignore_errors=True)
        raise SetupError(f"could not create a virtualenv in {venv_dir}: {type(e).__name__}: {e}") from None
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet",
           "--timeout", str(pip_timeout), "--retries", "1", f"{PACKAGE}=={VERSION}"]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            shutil.rmtree(venv_dir, ignore_errors=True)
            raise SetupError(f"pip install {PACKAGE}=={VERSION} did not finish in 600 s (is PyPI reachable?)") \
                from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        shutil.rmtree(venv_dir, ignore_errors=True)
        raise SetupError(f"pip could not install {PACKAGE}=={VERSION} (is PyPI reachable?):\n{tail}")
    found = installed_version(python)
    if found != VERSION:  # not a network problem: fail loudly rather than skip
        raise RuntimeError(f"after pip install, the virtualenv {venv_dir} imports {PACKAGE} {found!r}, not {VERSION}")
    log(f"Installed {PACKAGE} {VERSION} in {time.monotonic() - t0:.1f} s")
    return python


# -- running the check ------------------------------------------------------------------------------

def run_check(python: Path, version: str = "2016", timeout: float = 300,
              trace: Optional[Path] = None) -> Dict[str, Any]:
    """Start a strict local server emulating ``version``, run the check script with ``python``
    against it and return the report (a JSON-able dict; ``report['passed']`` is the verdict)."""
    from exchangelib.testing.server import EWSServer
    from exchangelib.testing.users import default_users

    users = {u.username: u for u in default_users()}
    john, mary = users["john"], users["mary"]
    report: Dict[str, Any] = {"server_version": version}
    with EWSServer(list(users.values()), version=version, strict=True, validate_responses=True) as server, \
            tempfile.TemporaryDirectory(prefix="compat56-") as tmp:
        setup_scheduling_directory(server)
        out_file = Path(tmp) / "result.json"
        cmd = [str(python), "-I", str(CHECK_SCRIPT), "--endpoint", server.url,
               "--username", john.logon_name, "--smtp", john.primary_smtp_address,
               "--recipient-username", mary.logon_name, "--recipient-smtp", mary.primary_smtp_address,
               "--out", str(out_file), "--expected-version", VERSION]
        if trace is not None:
            cmd += ["--trace", str(Path(trace).resolve())]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        # Passwords travel in the environment, not on the command line. A fixed local time zone
        # (not UTC, not the items' zone) makes the TimeZoneContext header and offsets non-trivial.
        env.update(COMPAT_PASSWORD=john.password or "", COMPAT_RECIPIENT_PASSWORD=mary.password or "",
                   TZ="America/New_York", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        t0 = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
            report["returncode"] = proc.returncode
            report["stderr"] = proc.stderr[-4000:]
        except subprocess.TimeoutExpired as e:
            report["returncode"] = None
            stderr = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
            report["stderr"] = f"timed out after {timeout} s\n{stderr[-4000:]}"
        report["seconds"] = round(time.monotonic() - t0, 2)
        if out_file.exists():
            report.update(json.loads(out_file.read_text()))
        report.setdefault("steps", [])
        report["server"] = {"build": ".".join(map(str, server.build))}
        report["server"].update(classify_server_findings(server))
        ops: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for rec in list(server.request_log):
            if rec.user is None:  # NTLM handshake legs and 401s
                continue
            ops[rec.operation or "?"][rec.response_code or f"HTTP {rec.status}"] += 1
        report["operations"] = {op: dict(codes) for op, codes in sorted(ops.items())}
    report["passed"] = passed(report)
    return report


def classify_server_findings(server: Any) -> Dict[str, List[str]]:
    """The server's recorded problems, with schema errors split into known 5.6.0 deviations and the rest."""
    schema, known = [], []
    for e in server.schema_errors:
        dev = next((d for d in KNOWN_CLIENT_DEVIATIONS
                    if d.operation == e.operation and d.kind == e.kind and re.search(d.pattern, e.message)), None)
        if dev is None:
            schema.append(str(e))
        else:
            known.append(f"{e} -- {dev.why}")
    return {
        "schema_errors": schema,
        "known_client_deviations": sorted(set(known)),
        "response_schema_errors": [str(e) for e in server.response_schema_errors],
        "internal_errors": list(server.internal_errors),
        "unimplemented_operations": sorted(set(server.unimplemented_operations)),
    }


FAILING_FINDINGS = ("schema_errors", "response_schema_errors", "internal_errors", "unimplemented_operations")


def passed(report: Dict[str, Any]) -> bool:
    """PASS: the check ran, every step passed, and the server recorded nothing but known deviations."""
    srv = report.get("server", {})
    return (bool(report.get("steps")) and report.get("returncode") == 0 and not report.get("error")
            and all(s["ok"] for s in report["steps"]) and not any(srv.get(k) for k in FAILING_FINDINGS))


def format_report(report: Dict[str, Any]) -> str:
    """A human-readable PASS/FAIL table for one server version."""
    lines: List[str] = []
    el = report.get("exchangelib") or {}
    srv = report.get("server", {})
    lines.append(f"== exchangelib {el.get('version') or '?'} (PyPI, Python {report.get('python', '?')}) against the "
                 f"local EWS server emulating Exchange {report['server_version']} (build {srv.get('build', '?')})")
    if report.get("error"):
        lines.append(f"ERROR: {report['error']}")
    width = max([len(s["name"]) for s in report["steps"]] + [20])
    lines.append(f"  {'step':<{width}}  result  seconds  detail")
    for s in report["steps"]:
        detail = s["detail"].strip()
        first = detail.splitlines()[0] if detail else ""
        lines.append(f"  {s['name']:<{width}}  {'PASS' if s['ok'] else 'FAIL':<6}  {s['seconds']:>7.2f}  {first}")
        if not s["ok"] and "\n" in detail:
            lines.extend("      " + d for d in detail.splitlines()[1:])
    lines.append("  EWS operations 5.6.0 sent (SOAP fault code or HTTP status: count):")
    for op, codes in report.get("operations", {}).items():
        lines.append(f"    {op:<20} " + ", ".join(f"{c}: {n}" for c, n in sorted(codes.items())))
    for key, title in (("schema_errors", "requests failing schema validation"),
                       ("response_schema_errors", "responses failing schema validation"),
                       ("internal_errors", "server handler crashes"),
                       ("unimplemented_operations", "operations the server does not implement"),
                       ("known_client_deviations", "known 5.6.0 deviations (Exchange rejects them too; not counted)")):
        found = srv.get(key) or []
        lines.append(f"  {title}: {len(found) or 'none'}")
        lines.extend(f"    - {e}" for e in found)
    if report.get("returncode") not in (0, 1) and report.get("stderr"):
        lines.append(f"  check script exited with {report.get('returncode')}; stderr:")
        lines.extend("    " + x for x in report["stderr"].strip().splitlines()[-30:])
    n_ok = sum(1 for s in report["steps"] if s["ok"])
    lines.append(f"  {'PASS' if report['passed'] else 'FAIL'}: {n_ok}/{len(report['steps'])} steps passed "
                 f"in {report.get('seconds', 0):.1f} s")
    return "\n".join(lines)


def server_versions(spec: str) -> List[str]:
    """Parse ``--server-version``: a comma-separated list, or ``all``."""
    from exchangelib.testing.soap import SERVER_VERSIONS

    names = list(SERVER_VERSIONS) if spec.strip() == "all" else [v.strip() for v in spec.split(",") if v.strip()]
    unknown = [v for v in names if v not in SERVER_VERSIONS]
    if unknown or not names:
        raise ValueError(f"--server-version: unknown version(s) {unknown or spec!r}; choose from "
                         f"{', '.join(SERVER_VERSIONS)} or 'all'")
    return names


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help=f"virtualenv for {PACKAGE} {VERSION} (default: {DEFAULT_VENV})")
    parser.add_argument("--server-version", default=",".join(DEFAULT_SERVER_VERSIONS),
                        help="comma-separated Exchange versions to emulate, or 'all' (default: 2016)")
    parser.add_argument("--trace", type=Path,
                        help="write 5.6.0's DEBUG log (every request and response XML) to this file; with several "
                             "versions, the version name is added to the file name")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON after the tables")
    parser.add_argument("--timeout", type=float, default=300, help="seconds one check may take (default 300)")
    parser.add_argument("--auth", action="store_true",
                        help="instead: log in with 5.6.0's OAuth2Credentials and GSSAPI (see run_auth_check)")
    args = parser.parse_args(argv)
    # The server's own warnings (one per invalid request) are summarised in the report instead.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    try:
        versions = server_versions(args.server_version)
    except ValueError as e:
        parser.error(str(e))
    t0 = time.monotonic()
    try:
        python = ensure_venv(args.venv)
    except SetupError as e:
        print(f"SETUP FAILED: {e}", file=sys.stderr)
        return EXIT_SETUP
    if args.auth:
        auth_report = run_auth_check(python, timeout=args.timeout)
        print(format_report(auth_report), flush=True)
        return EXIT_PASS if auth_report["passed"] else EXIT_FAIL
    reports = []
    for v in versions:
        trace = args.trace
        if trace is not None and len(versions) > 1:
            trace = trace.with_name(f"{trace.stem}-{v}{trace.suffix}")
        report = run_check(python, version=v, timeout=args.timeout, trace=trace)
        print(format_report(report), flush=True)
        reports.append(report)
    if len(reports) > 1:
        print("== summary")
        for r in reports:
            n_ok = sum(1 for s in r["steps"] if s["ok"])
            print(f"  Exchange {r['server_version']:<10} {'PASS' if r['passed'] else 'FAIL'}  "
                  f"{n_ok}/{len(r['steps'])} steps")
    ok = all(r["passed"] for r in reports)
    print(f"{'PASS' if ok else 'FAIL'} (total {time.monotonic() - t0:.1f} s including virtualenv setup)")
    if args.json:
        print(json.dumps(reports, indent=1))
    return EXIT_PASS if ok else EXIT_FAIL


# --- Scheduling and directory (issue 14) ---------------------------------------------------------------------
KNOWN_CLIENT_DEVIATIONS = KNOWN_CLIENT_DEVIATIONS + (
    KnownDeviation("GetMailTips", "request", r"GetMailTips'?: (Character content|Missing child element)",
                   "5.6.0's account.mail_tips writes 'All' as text of m:GetMailTips instead of sending an "
                   "m:MailTipsRequested element; Exchange answers ErrorSchemaValidation too (5.6.0 does not recover: "
                   "the property raises)"),
)


def setup_scheduling_directory(server: Any) -> None:
    """The room list and distribution lists the check's scheduling steps expect (see
    ``scheduling_steps`` in tools/compat/check_exchangelib56.py)."""
    from exchangelib.testing.directory import DistributionList, RoomList

    server.directory.add_room_list(RoomList("compat-rooms@example.com", "Compat rooms", ["room1@example.com"]))
    server.directory.add_distribution_list(DistributionList("compat-team@example.com", "Compat team",
                                                            ["john@example.com", "compat-leads@example.com"]))
    server.directory.add_distribution_list(DistributionList("compat-leads@example.com", "Compat leads",
                                                            ["mary@example.com", "compat-team@example.com"]))


# == Authentication workflows (issue 16) ==========================================================
# exchangelib 5.6.0's OAuth2Credentials (client credentials and authorization code) and, where
# requests-gssapi installs into the virtualenv, its GSSAPI (Kerberos) login, against our server over
# TLS with a real MIT KDC (exchangelib.testing.kdc.LocalKDC) when MIT Kerberos is installed.
# ``python tools/compat_exchangelib56.py --auth``.

AUTH_CHECK_SCRIPT = Path(__file__).resolve().parent / "compat" / "check_auth_exchangelib56.py"


def ensure_requests_gssapi(python: Path, log: Callable[[str], Any] = print) -> Optional[str]:
    """Install requests-gssapi (5.6.0's GSSAPI dependency; builds gssapi against libkrb5) into the virtualenv.
    Returns None when it is importable, else why not."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run([str(python), "-I", "-c", "import requests_gssapi"], cwd=tmp, capture_output=True,
                               timeout=120)
        if probe.returncode == 0:
            return None
        log("Installing requests-gssapi into the virtualenv (builds gssapi; needs libkrb5-dev and a compiler) ...")
        proc = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                               "--quiet", "requests-gssapi"], cwd=tmp, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        return "requests-gssapi did not install: " + " ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
    return None


def run_auth_check(python: Path, timeout: float = 300, gssapi: bool = True) -> Dict[str, Any]:
    """Start a strict TLS server (and a KDC, if possible), run the auth check with 5.6.0, return the report."""
    from exchangelib.testing.kdc import LocalKDC, kdc_binaries_missing
    from exchangelib.testing.server import EWSServer
    from exchangelib.testing.users import default_oauth_clients, default_users

    users = {u.username: u for u in default_users()}
    report: Dict[str, Any] = {"server_version": "2016 (auth)"}
    why_no_gssapi = None
    if gssapi:
        if kdc_binaries_missing():
            why_no_gssapi = "MIT Kerberos is not installed"
        elif importlib.util.find_spec("gssapi") is None:  # our server's Kerberos acceptor needs it
            why_no_gssapi = "the gssapi module is not installed here: pip install 'exchangelib[kerberos]'"
        else:
            why_no_gssapi = ensure_requests_gssapi(python)
    use_gssapi = gssapi and why_no_gssapi is None
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="compat56-auth-"))
        server_kwargs: Dict[str, Any] = {}
        env_extra: Dict[str, str] = {}
        if use_gssapi:
            kdc = stack.enter_context(LocalKDC(realm="EXAMPLE.COM"))
            kdc.add_principal("john", password=users["john"].password)
            server_kwargs["kerberos_keytab"] = kdc.add_service("HTTP/127.0.0.1")
            kdc.kinit("john", users["john"].password or "")
            env_extra.update({k: v for k, v in kdc.env.items() if k != "KRB5_TRACE"})
        server = stack.enter_context(EWSServer(
            list(users.values()), version="2016", strict=True, validate_responses=True, tls=True,
            auth=("negotiate", "ntlm", "bearer"), oauth_clients=default_oauth_clients(), **server_kwargs))
        client = default_oauth_clients()[0]
        out_file = Path(tmp) / "result.json"
        cmd = [str(python), "-I", str(AUTH_CHECK_SCRIPT), "--endpoint", server.url, "--token-url", server.token_url,
               "--authorize-url", server.authorize_url, "--client-id", client.client_id,
               "--smtp", users["john"].primary_smtp_address, "--out", str(out_file), "--expected-version", VERSION]
        if use_gssapi:
            cmd.append("--gssapi")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "KRB5"))}
        env.update(env_extra, COMPAT_CLIENT_SECRET=client.client_secret or "", REQUESTS_CA_BUNDLE=server.ca_path or "",
                   NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        t0 = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
            report["returncode"] = proc.returncode
            report["stderr"] = proc.stderr[-4000:]
        except subprocess.TimeoutExpired:
            report["returncode"] = None
            report["stderr"] = f"timed out after {timeout} s"
        report["seconds"] = round(time.monotonic() - t0, 2)
        if out_file.exists():
            report.update(json.loads(out_file.read_text()))
        report.setdefault("steps", [])
        if why_no_gssapi:
            report["steps"].append({"name": "GSSAPI: Kerberos ticket cache", "ok": True, "seconds": 0.0,
                                    "detail": f"not run: {why_no_gssapi}"})
        report["server"] = {"build": ".".join(map(str, server.build))}
        report["server"].update(classify_server_findings(server))
        ops: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for rec in list(server.request_log):
            if rec.user is None:
                continue
            ops[f"{rec.operation or '?'} [{rec.auth_scheme}]"][rec.response_code or f"HTTP {rec.status}"] += 1
        report["operations"] = {op: dict(codes) for op, codes in sorted(ops.items())}
    report["passed"] = passed(report)
    return report


if __name__ == "__main__":
    sys.exit(main())
