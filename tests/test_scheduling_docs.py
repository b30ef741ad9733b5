"""The examples of docs/scheduling.rst run against the local server and print what they say."""
from __future__ import annotations

import pytest

from tests.docs_pages import page_examples, run_example

EXAMPLES = page_examples("scheduling.rst")


def test_the_page_has_examples():
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("code, line", EXAMPLES, ids=[f"line{line}" for _, line in EXAMPLES])
def test_example_runs_and_prints_what_it_says(code, line, monkeypatch):
    run_example("scheduling.rst", code, line, monkeypatch, every_print_checked=True)
