"""Every Python example in README.rst and docs/*.rst runs against the local server, so the docs can't drift.

Each ``.. code-block:: python`` is executed on its own, in a fresh namespace (so every example must be
complete: imports, a server, the work). The docs' conventions:

- An example that starts with the comment ``# Needs a real Exchange server: not run by the example tests.``
  is not run (it connects somewhere else); it must still compile (tests/test_docs.py checks that).
- An example that defines ``test_...`` functions is a pytest file: it is run with pytest, in a subprocess,
  and every test in it must pass.

Every :class:`~exchangelib.testing.LocalExchange` an example starts must be stopped by it, and must be
clean when it stops: each request the example sent and each response valid against the EWS schema, no
server handler crashed.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest

from exchangelib.testing import LocalExchange
from tests.conftest import drop_protocols
from tests.test_docs import code_blocks

REPO = Path(__file__).resolve().parent.parent
REAL_SERVER_MARKER = "# Needs a real Exchange server: not run by the example tests."

#: Pages whose features are still being built: their examples may fail for now. The lead empties this at
#: integration.
PAGES_IN_PROGRESS: set = set()

#: Pages whose examples another test already runs, with stricter checks of what they print.
COVERED_ELSEWHERE = {
    "folders.rst": "tests/test_folders_docs.py::test_example_runs_and_prints_what_it_says",
    "searching.rst": "tests/test_queryset_seed.py::test_searching_page_examples_run",
    "scheduling.rst": "tests/test_scheduling_docs.py::test_example_runs_and_prints_what_it_says",
    "notifications.rst": "tests/test_notifications_docs.py::test_example_runs_and_prints_what_it_says",
    "mailbox-administration.rst": "tests/test_mailbox_admin_docs.py::test_example_runs_and_prints_what_it_says",
    "migration.rst": "tests/test_mailbox_admin_docs.py::test_example_runs_and_prints_what_it_says",
    "migrating.rst": "tests/test_org.py::test_migrating_page_examples_print_what_they_say",
}
COVERED_ELSEWHERE["authentication.rst"] = "tests/test_auth_docs.py::test_authentication_page_examples"


def rst_files() -> List[Path]:
    return [REPO / "README.rst"] + sorted((REPO / "docs").glob("*.rst"))


def python_examples(path: Path) -> List[Tuple[str, int]]:
    return [(code, line) for language, code, line in code_blocks(path.read_text(encoding="utf-8"))
            if language == "python"]


def shown_output(path: Path, line: int) -> Optional[str]:
    """The output the page shows for the example at ``line``: the ``text`` block right after it, when the
    prose just before that block ends with "prints:" (the docs' convention); None when it shows none."""
    text = path.read_text(encoding="utf-8")
    blocks = code_blocks(text)
    lines = text.splitlines()
    for n, (language, _code, start) in enumerate(blocks):
        if start != line or language != "python" or n + 1 == len(blocks):
            continue
        next_language, output, next_start = blocks[n + 1]
        if next_language != "text":
            return None
        directive = next_start - 2  # the ``.. code-block:: text`` line (0-based)
        prose = [ln for ln in lines[:directive] if ln.strip()]
        return output if prose and prose[-1].rstrip().endswith("prints:") else None
    return None


def matches_shown_output(printed: str, shown: str) -> bool:
    """Line by line; a line that is just ``...`` stands for any number of lines."""
    pattern = "\n".join(".*?" if ln.strip() == "..." else re.escape(ln.rstrip()) for ln in shown.splitlines())
    printed = "\n".join(ln.rstrip() for ln in printed.strip("\n").splitlines())
    return re.fullmatch(pattern, printed, re.S) is not None


def runnable_examples() -> Iterator[object]:
    for path in rst_files():
        if path.name in COVERED_ELSEWHERE:
            continue
        marks = []
        if path.name in PAGES_IN_PROGRESS:
            marks.append(pytest.mark.xfail(reason=f"{path.name}: its feature is still being built", strict=False))
        for code, line in python_examples(path):
            if code.startswith(REAL_SERVER_MARKER):
                continue
            yield pytest.param(path, code, line, id=f"{path.name}:{line}", marks=marks)


@pytest.fixture
def tracked_servers(monkeypatch) -> Iterator[List[LocalExchange]]:
    """Every LocalExchange started during the test; each must be clean when the example stops it."""
    started: List[LocalExchange] = []
    stopped: List[LocalExchange] = []
    original_start, original_stop = LocalExchange.start, LocalExchange.stop

    def start(self: LocalExchange, *args, **kwargs):
        started.append(self)
        return original_start(self, *args, **kwargs)

    def stop(self: LocalExchange) -> None:
        check = self.running and self not in stopped
        stopped.append(self)
        try:
            if check:
                self.assert_clean()
        finally:
            if self.running:
                drop_protocols(self)
            original_stop(self)

    monkeypatch.setattr(LocalExchange, "start", start)
    monkeypatch.setattr(LocalExchange, "stop", stop)
    yield started
    left_running = [s for s in started if s.running]
    for server in left_running:
        drop_protocols(server)
        original_stop(server)
    assert not left_running, "the example started a LocalExchange and did not stop it"


@contextlib.contextmanager
def logging_restored() -> Iterator[None]:
    """Examples may configure logging (the troubleshooting page does): undo it afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


def run_as_pytest_file(code: str, name: str, tmp_path: Path) -> None:
    test_file = tmp_path / f"test_{re.sub(r'[^A-Za-z0-9]+', '_', name)}.py"
    test_file.write_text(code, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\b\d+ passed\b", proc.stdout) and "failed" not in proc.stdout, proc.stdout


@pytest.mark.parametrize("path, code, line", list(runnable_examples()))
def test_example_runs(path: Path, code: str, line: int, tracked_servers, tmp_path):
    name = f"{path.name}:{line}"
    if re.search(r"^def test_\w+\(", code, re.M):
        run_as_pytest_file(code, name, tmp_path)
        return
    out = io.StringIO()
    with logging_restored(), contextlib.redirect_stdout(out):
        exec(compile(code, name, "exec"), {"__name__": "docs_example"})
    shown = shown_output(path, line)
    if shown is not None:
        assert matches_shown_output(out.getvalue(), shown), \
            f"{name} printed:\n{out.getvalue()}\nbut the page shows:\n{shown}"


def test_shown_output_matching():
    assert matches_shown_output("a\nb\nc\nd\n", "a\n...\nd")
    assert not matches_shown_output("a\nb\n", "a\nc")
    assert matches_shown_output("x  \n", "x")


def test_pages_show_output_for_some_examples():
    """The convention is in use (a typo in "prints:" would silently turn every check off)."""
    shown = [(p.name, line) for p in rst_files() for code, line in python_examples(p) if shown_output(p, line)]
    assert any(name == "quickstart.rst" for name, _ in shown)
    assert len(shown) >= 2


def test_every_page_with_examples_is_covered():
    """Each page's examples are run here or by the test named in COVERED_ELSEWHERE, and no list is stale."""
    names = {p.name for p in rst_files()}
    assert set(COVERED_ELSEWHERE) <= names and PAGES_IN_PROGRESS <= names
    for path in rst_files():
        examples = python_examples(path)
        if path.name in COVERED_ELSEWHERE:
            test_file = REPO / COVERED_ELSEWHERE[path.name].split("::")[0]
            assert test_file.is_file() and path.name in test_file.read_text(encoding="utf-8")
            assert examples, f"{path.name} has no examples any more: remove it from COVERED_ELSEWHERE"


def test_real_server_examples_are_marked_exactly():
    """A typo in the marker comment would make an example run (and fail) or, worse, look run when it isn't."""
    for path in rst_files():
        for code, line in python_examples(path):
            first = code.splitlines()[0]
            if first.startswith("#") and "real exchange" in first.lower():
                assert first == REAL_SERVER_MARKER, f"{path.name}:{line}: {first!r}"
