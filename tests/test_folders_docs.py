"""The examples of docs/folders.rst run against the local server and print what their comments say.

Every ``print(...)  # text`` line in an example must print exactly ``text``; each example's server
must end clean (every request and response valid against the EWS schema, no handler crash).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from exchangelib.testing import LocalExchange
from tests.test_docs import code_blocks

FOLDERS_RST = Path(__file__).resolve().parent.parent / "docs" / "folders.rst"
_PRINT_WITH_RESULT = re.compile(r"^\s*print\(.*\)\s+# (?P<expected>.*)$")


def examples() -> List[Tuple[str, int]]:
    return [(code, line) for language, code, line in code_blocks(FOLDERS_RST.read_text(encoding="utf-8"))
            if language == "python"]


def test_the_page_has_runnable_examples():
    assert len(examples()) >= 5


@pytest.mark.parametrize("code,line", examples(), ids=lambda v: str(v) if isinstance(v, int) else None)
def test_example_runs_and_prints_what_it_says(code: str, line: int, monkeypatch):
    servers: List[LocalExchange] = []
    original_stop = LocalExchange.stop

    def stop_after_checking(self: LocalExchange) -> None:
        servers.append(self)
        try:
            self.assert_clean()
        finally:
            original_stop(self)

    monkeypatch.setattr(LocalExchange, "stop", stop_after_checking)
    printed: List[str] = []

    def record(*args: Any) -> None:
        printed.append(" ".join(str(a) for a in args))

    exec(compile(code, f"{FOLDERS_RST.name}:{line}", "exec"), {"print": record, "__name__": "docs_example"})
    assert servers, "the example should use LocalExchange"
    print_lines = [ln for ln in code.splitlines() if ln.lstrip().startswith("print(")]
    assert len(print_lines) == len(printed)
    for source, output in zip(print_lines, printed):
        m = _PRINT_WITH_RESULT.match(source)
        if m:
            assert output == m.group("expected"), source
