"""The examples of docs/items.rst run against the local server and print what their comments say."""
from __future__ import annotations

import pytest

from tests.docs_pages import page_examples, run_example

EXAMPLES = page_examples("items.rst", needs="LocalExchange")


def test_the_page_has_runnable_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("code,line", EXAMPLES, ids=lambda v: str(v) if isinstance(v, int) else None)
def test_example_runs_and_prints_what_it_says(code: str, line: int, monkeypatch):
    run_example("items.rst", code, line, monkeypatch, every_print_checked=True)
