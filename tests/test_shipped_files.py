"""The package is self-contained: it ships the EWS schema, and validation works from anywhere.

Microsoft's files in ``exchangelib/schema`` must stay byte-identical to the project's reference
copy; that comparison runs where the reference copy (``../shared``) is present and is the only
place the tests look there.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exchangelib.testing import schema as schema_mod
from exchangelib.testing.schema import SHIPPED_SCHEMA_DIR, SchemaNotFound, find_schema_dir

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared"
SHIPPED = ["types.xsd", "messages.xsd", "Services.wsdl", "ews-all.xsd", "xml-namespace.xsd"]
# The digests SOURCE/NOTICE name: they hold whether or not the reference copy is around.
MICROSOFT_SHA256 = {
    "Services.wsdl": "5ce0ecc3d47210d19479a20ec7f05ffad62b7a814c889e3a5fc99839e61a9f3f",
    "messages.xsd": "d93cf4bff8b7d08faacca980be7dd2b1f7ecca446b59aed767ff1d829090f2da",
    "types.xsd": "7d0039cd054e5efc5eb6db74a73e523bd3c4eba6c01ae0bb7f64378642a95d1b",
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_schema_files_are_shipped_with_a_notice():
    for name in SHIPPED:
        assert (SHIPPED_SCHEMA_DIR / name).is_file(), name
    notice = (SHIPPED_SCHEMA_DIR / "NOTICE.md").read_text()
    assert "Microsoft Corporation holds the copyright" in notice
    for name, digest in MICROSOFT_SHA256.items():
        assert _sha256(SHIPPED_SCHEMA_DIR / name) == digest, f"{name} is not Microsoft's unmodified file"
        assert digest in notice


@pytest.mark.skipif(not (REFERENCE / "ews-schema").is_dir(), reason="no reference copy next to this checkout")
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_schema_equals_the_reference_copy(name):
    assert (SHIPPED_SCHEMA_DIR / name).read_bytes() == (REFERENCE / "ews-schema" / name).read_bytes()


@pytest.mark.skipif(not (REFERENCE / "tz").is_dir(), reason="no reference copy next to this checkout")
def test_kept_cldr_table_equals_the_reference_copy():
    assert (REPO / "tools" / "data" / "windowsZones.xml").read_bytes() == \
        (REFERENCE / "tz" / "windowsZones.xml").read_bytes()


def test_shipped_copy_is_used_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("EWS_SCHEMA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # the cwd plays no part
    assert find_schema_dir() == SHIPPED_SCHEMA_DIR


def test_environment_override(monkeypatch, tmp_path):
    for name in SHIPPED:
        (tmp_path / name).write_bytes((SHIPPED_SCHEMA_DIR / name).read_bytes())
    monkeypatch.setenv("EWS_SCHEMA_DIR", str(tmp_path))
    assert find_schema_dir() == tmp_path
    monkeypatch.setenv("EWS_SCHEMA_DIR", str(tmp_path / "missing"))
    with pytest.raises(SchemaNotFound, match="EWS_SCHEMA_DIR=.*missing.*unset it"):
        find_schema_dir()


def test_installed_package_validates_from_any_directory(tmp_path):
    """A user's script, run from an unrelated directory, gets a strict server that refuses bad requests."""
    script = """
import requests
from exchangelib.testing import LocalExchange
with LocalExchange(auth=("basic",)) as server:
    assert server.strict and server.schema_dir is not None, (server.strict, server.schema_dir)
    body = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
            'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>'
            '<t:RequestServerVersion Version="Exchange2016"/></s:Header><s:Body>'
            '<m:GetFolder><m:FolderShape><t:BaseShape>Everything</t:BaseShape></m:FolderShape>'
            '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></s:Body></s:Envelope>')
    user = next(iter(server.users))
    r = requests.post(server.url, data=body.encode(), auth=(user.username, user.password),
                      headers={"Content-Type": "text/xml"})
    assert "ErrorSchemaValidation" in r.text, r.text[:500]
    print("strict-ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "EWS_SCHEMA_DIR"}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "strict-ok" in out.stdout
