"""Measure how long ``import exchangelib`` takes, and which heavy optional modules it loads.

Run: python3 benchmarks/bench_import.py [--runs N]

Each measurement is a fresh interpreter that times ``import exchangelib`` itself (interpreter start-up
not included); the best and the median of N runs are printed for two cases:

- with bytecode caches: the package's ``.pyc`` files exist (the normal case after the first run of an
  installed package);
- without: the package is compiled from source on every import, as happens when ``.pyc`` files can't be
  written (``PYTHONDONTWRITEBYTECODE=1``, a read-only install). Dependencies keep their own caches.

The package is copied to a temporary directory for this, so the checkout is never written to. The script
also lists the slowest modules (``-X importtime``, cumulative) and any heavy optional module (pygments,
dnspython, pyspnego, cryptography, OAuth/Kerberos libraries, the local test server) that ``import
exchangelib`` pulled in: those should load only when their feature is used. Target: <= 100 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("requests", "urllib3", "pygments", "dns", "spnego", "requests_ntlm", "cryptography", "oauthlib",
         "requests_oauthlib", "requests_kerberos", "msal", "gssapi", "exchangelib.testing")

PROBE = """
import json, sys, time
t0 = time.perf_counter()
import exchangelib
elapsed = time.perf_counter() - t0
heavy = %r
loaded = sorted({h for h in heavy for m in sys.modules if m == h or m.startswith(h + ".")})
print(json.dumps({"seconds": elapsed, "heavy": loaded, "modules": len(sys.modules)}))
"""


def copy_package(dest: Path) -> None:
    shutil.copytree(REPO / "exchangelib", dest / "exchangelib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def run_probe(path: Path, write_bytecode: bool) -> Dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(path))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run([sys.executable, "-c", PROBE % (HEAVY,)], env=env, cwd=path, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def slowest_imports(path: Path, count: int = 8) -> List[Tuple[float, str]]:
    env = dict(os.environ, PYTHONPATH=str(path))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import exchangelib"], env=env, cwd=path,
                         capture_output=True, text=True, check=True).stderr
    rows = []
    for line in err.splitlines():
        parts = line[len("import time:"):].split("|") if line.startswith("import time:") else []
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # the header line, or something else on stderr
        name = parts[2].rstrip()
        depth = len(name) - len(name.lstrip())
        # Top-level imports and our own modules; deeper lines are already counted in their parents' time
        if depth <= 2 or "exchangelib" in name:
            rows.append((int(parts[1]) / 1000, name.strip()))
    return sorted(rows, reverse=True)[:count]


def measure(runs: int) -> int:
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        cached, uncached = Path(tmp) / "cached", Path(tmp) / "uncached"
        copy_package(cached)
        copy_package(uncached)
        run_probe(cached, write_bytecode=True)  # writes the .pyc files into the copy
        results: Dict[str, List[float]] = {"cached": [], "uncached": []}
        heavy: List[str] = []
        modules = 0
        for _ in range(runs):
            for name, path, write in (("cached", cached, True), ("uncached", uncached, False)):
                r = run_probe(path, write_bytecode=write)
                results[name].append(float(r["seconds"]) * 1000)  # type: ignore[arg-type]
                heavy = sorted(set(heavy) | set(r["heavy"]))  # type: ignore[arg-type]
                modules = int(r["modules"])  # type: ignore[call-overload]
        print(f"Python {sys.version.split()[0]}; best and median of {runs} fresh interpreters; "
              f"{modules} modules in sys.modules after the import")
        for name, label in (("cached", "with bytecode caches"),
                            ("uncached", "without (package compiled from source)")):
            times = results[name]
            print(f"import exchangelib:  best {min(times):7.1f} ms   median {statistics.median(times):7.1f} ms   "
                  f"{label}")
        print("heavy optional modules imported: " + (", ".join(heavy) if heavy else "none"))
        print("slowest imports (with caches, cumulative ms):")
        for ms, name in slowest_imports(cached):
            print(f"  {ms:7.1f}  {name}")
        return 1 if heavy else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per case (default 7)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return measure(args.runs)


if __name__ == "__main__":
    sys.exit(main())
