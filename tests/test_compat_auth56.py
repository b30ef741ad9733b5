"""exchangelib 5.6.0's own authentication against our server: OAuth2Credentials (client credentials with
impersonation, a wrong secret refused), OAuth2AuthorizationCodeCredentials, and GSSAPI with a Kerberos ticket
from a real MIT KDC (when MIT Kerberos is installed and requests-gssapi builds in the virtualenv)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from exchangelib.testing.kdc import kdc_binaries_missing

REPO = Path(__file__).resolve().parent.parent


def _driver():
    spec = importlib.util.spec_from_file_location("compat_exchangelib56", REPO / "tools" / "compat_exchangelib56.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_exchangelib_56_logs_in_with_oauth_and_kerberos():
    driver = _driver()
    try:
        python = driver.ensure_venv(driver.DEFAULT_VENV, log=lambda msg: None)
    except driver.SetupError as e:
        pytest.skip(f"exchangelib 5.6.0 could not be installed from PyPI: {e}")
    report = driver.run_auth_check(python, timeout=120)
    text = driver.format_report(report)
    assert report["passed"], text
    steps = {s["name"]: s for s in report["steps"]}
    assert steps["OAuth2Credentials: client credentials, impersonation"]["ok"], text
    assert steps["OAuth2Credentials: wrong client secret refused"]["ok"], text
    assert steps["OAuth2AuthorizationCodeCredentials: delegated"]["ok"], text
    if not kdc_binaries_missing() and importlib.util.find_spec("gssapi") is not None:
        gss = steps["GSSAPI: Kerberos ticket cache"]
        if not gss["detail"].startswith("not run: requests-gssapi did not install"):
            assert any("[Kerberos]" in op for op in report["operations"]), text
