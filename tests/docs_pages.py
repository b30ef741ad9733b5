"""Running a docs page's examples against the local server and checking what they print.

Every ``print(...)  # text`` line in an example must print exactly ``text``; each example's server
must end clean (every request and response valid against the EWS schema, no handler crash).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, List, Tuple

from exchangelib.testing import LocalExchange
from tests.test_docs import code_blocks

DOCS = Path(__file__).resolve().parent.parent / "docs"
_PRINT_WITH_RESULT = re.compile(r"^\s*print\(.*\)\s+# (?P<expected>.*)$")


def page_examples(page: str, needs: str = "") -> List[Tuple[str, int]]:
    """(code, line) of the page's Python blocks (those containing ``needs``, if given)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return [(code, line) for language, code, line in code_blocks(text) if language == "python" and needs in code]


def run_example(page: str, code: str, line: int, monkeypatch: Any, every_print_checked: bool = False) -> None:
    """Execute one example; its servers must end clean and its commented prints must print what they say.

    With ``every_print_checked`` each print() must carry a ``# expected`` comment.
    """
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

    exec(compile(code, f"{page}:{line}", "exec"), {"print": record, "__name__": "docs_example"})
    assert servers, "the example should use LocalExchange"
    print_lines = [ln for ln in code.splitlines() if ln.lstrip().startswith("print(")]
    assert len(print_lines) == len(printed)
    for source, output in zip(print_lines, printed):
        m = _PRINT_WITH_RESULT.match(source)
        assert m is not None or not every_print_checked, f"this print() doesn't say what it prints: {source}"
        if m:
            assert output == m.group("expected"), source
