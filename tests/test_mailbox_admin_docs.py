"""The examples of the mailbox administration and migration pages run and print what they say."""
from __future__ import annotations

import pytest

from tests.docs_pages import page_examples, run_example

PAGES = ("mailbox-administration.rst", "migration.rst")


@pytest.mark.parametrize("page, code, line", [(page, code, line) for page in PAGES
                                              for code, line in page_examples(page)])
def test_example_runs_and_prints_what_it_says(page, code, line, monkeypatch):
    run_example(page, code, line, monkeypatch, every_print_checked=True)
