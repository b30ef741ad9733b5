"""Which modules ``import exchangelib`` loads: no HTTP stack, no local server, no optional extras.

Each check runs in a fresh interpreter (this test process has imported everything already).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[1]

#: Top-level packages (or package prefixes) that ``import exchangelib`` must not load.
NOT_ON_IMPORT = [
    # the HTTP stack: loaded with the first request
    "requests", "urllib3", "charset_normalizer", "idna", "exchangelib.adapters",
    # the local EWS server and its helpers
    "exchangelib.testing", "spnego", "cryptography",
    # autodiscover (models, file cache, DNS and HTTP discovery): loaded when an Account first uses it
    "exchangelib.autodiscover",
    # optional extras and features used by few
    "requests_ntlm", "requests_oauthlib", "oauthlib", "msal", "requests_kerberos", "gssapi", "dask",
    "distributed", "fsspec", "pygments", "dns", "IPython",
]


def fresh(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
                            "PYTHONPYCACHEPREFIX": os.environ["PYTHONPYCACHEPREFIX"]})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def loaded_by(statement: str) -> List[str]:
    """Modules in ``NOT_ON_IMPORT`` that ``statement`` loads (ignoring any the interpreter had at start-up)."""
    out = fresh(f"""
        import json, sys
        before = set(sys.modules)
        {statement}
        watch = {NOT_ON_IMPORT!r}
        new = set(sys.modules) - before
        print(json.dumps(sorted(m for m in new if any(m == w or m.startswith(w + '.') for w in watch))))
    """)
    return json.loads(out)


def test_import_exchangelib_loads_no_http_stack_server_or_extras():
    assert loaded_by("import exchangelib") == []


def test_public_names_import_without_the_http_stack():
    assert loaded_by("from exchangelib import Account, Configuration, Credentials, Message, Q, EWSDateTime") == []


def test_the_http_stack_loads_when_first_needed():
    # The check above can fail: asking for a requests-based class loads requests and urllib3
    loaded = loaded_by("from exchangelib import NoVerifyHTTPAdapter")
    assert "requests" in loaded and "urllib3" in loaded


def test_lazily_defined_names_are_the_real_classes():
    out = fresh("""
        import requests.adapters, requests.auth
        import exchangelib
        from exchangelib import *  # noqa: F403 - every name in __all__ resolves
        from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
        from exchangelib.transport import BearerAuth
        print(issubclass(NoVerifyHTTPAdapter, requests.adapters.HTTPAdapter),
              issubclass(BearerAuth, requests.auth.AuthBase),
              BaseProtocol.HTTP_ADAPTER_CLS is requests.adapters.HTTPAdapter,
              'python-requests/' + requests.__version__ in BaseProtocol.USERAGENT,
              exchangelib.NoVerifyHTTPAdapter is NoVerifyHTTPAdapter)
    """)
    assert out.split() == ["True"] * 5
