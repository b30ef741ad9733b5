"""The Authentication page's examples run against the local server and print what their comments say.

The Kerberos example needs MIT Kerberos (a real KDC): without it, it is skipped with the install hint,
except on CI (``CI=true``), where it must run.
"""
from __future__ import annotations

import importlib.util
import os

import pytest

from exchangelib.testing.kdc import INSTALL_HINT, kdc_binaries_missing
from tests.docs_pages import page_examples, run_example
from tests.test_examples import REAL_SERVER_MARKER

PAGE = "authentication.rst"


@pytest.mark.parametrize("code, line", [pytest.param(c, n, id=f"line {n}") for c, n in page_examples(PAGE)
                                        if not c.startswith(REAL_SERVER_MARKER)])
def test_authentication_page_examples(code, line, monkeypatch):
    if "LocalKDC" in code and (kdc_binaries_missing() or importlib.util.find_spec("gssapi") is None):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the Kerberos example must run on CI: {INSTALL_HINT}; pip install 'exchangelib[kerberos]'")
        pytest.skip(f"{INSTALL_HINT}; pip install 'exchangelib[kerberos]'")
    run_example(PAGE, code, line, monkeypatch, every_print_checked=True)
