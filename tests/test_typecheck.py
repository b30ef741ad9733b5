"""The package type-checks cleanly with the pinned mypy (config in mypy.ini)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_mypy_reports_no_errors(tmp_path):
    pytest.importorskip("mypy", reason="mypy is part of the [test] extra")
    r = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")], cwd=REPO,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "Success: no issues found" in r.stdout
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
