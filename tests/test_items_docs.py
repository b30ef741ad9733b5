"""The examples of docs/items.rst run against the local server and print what their comments say.

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

ITEMS_RST = Path(__file__).resolve().parent.parent / "docs" / "items.rst"
_PRINT_WITH_RESULT = re.compile(r"^\s*print\(.*\)\s+# (?P<expected>.*)$")


def examples() -> List[Tuple[str, int]]:
    return [(code, line) for language, code, line in code_blocks(ITEMS_RST.read_text(encoding="utf-8"))
            if language == "python" and "LocalExchange" in code]


def test_the_page_has_runnable_examples():
    assert len(examples()) >= 4


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

    exec(compile(code, f"{ITEMS_RST.name}:{line}", "exec"), {"print": record, "__name__": "docs_example"})
    assert servers, "the example should use LocalExchange"
    expected = [_PRINT_WITH_RESULT.match(ln) for ln in code.splitlines() if ln.lstrip().startswith("print(")]
    assert all(m is not None for m in expected), "every print() of an example says what it prints"
    assert printed == [m.group("expected") for m in expected]
