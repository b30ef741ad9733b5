"""The README's main job: seed 000's example, run through real HTTP and NTLM against the local server."""
import subprocess
import sys
from pathlib import Path

from exchangelib.demo import run_demo

REPO = Path(__file__).resolve().parents[1]


def test_seed_example_runs_end_to_end_in_process():
    lines = []
    assert run_demo(version="2016", out=lines.append) == 0
    text = "\n".join(lines)
    assert "add_items: created 10 of 10 items" in text
    assert "find_items (start/end window, categories foo+bar): 10 ids" in text
    assert "find_items with an expression string: 10 ids" in text
    assert "get_items: fetched 10 items" in text
    assert "delete_items: 10 deleted" in text
    assert "items left with those categories: 0" in text
    assert "Connecting as john to john@example.com with NTLM" in text


def test_readme_main_command_exits_zero():
    """`python3 -m exchangelib demo` is the README's main command."""
    r = subprocess.run([sys.executable, "-m", "exchangelib", "demo"], cwd=REPO, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Demo finished: OK" in r.stdout


def test_seed_example_against_older_and_newer_servers():
    for version in ("2010", "online"):
        lines = []
        assert run_demo(version=version, out=lines.append) == 0, "\n".join(lines)
