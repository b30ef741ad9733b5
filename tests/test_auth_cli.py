"""``python -m exchangelib backup --auth oauth``: app-only OAuth from options and environment, secrets never on
the command line or in the output. (``--auth kerberos`` is tested with the KDC in test_auth_kerberos.py.)"""
from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from exchangelib import Message
from exchangelib.testing import OAuthClient

REPO = Path(__file__).resolve().parents[1]
MARY = "mary@example.com"


def run_cli(*args: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exchangelib", *args], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, cwd=REPO)


def cli_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGELIB_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def test_backup_over_oauth_with_a_secret_from_the_environment(make_exchange, tmp_path):
    server = make_exchange(auth=("ntlm", "bearer"))
    mary = server.account(MARY)
    mary.bulk_create(folder=mary.inbox, items=[Message(subject=f"oauth {i}") for i in range(4)])
    common = ("--server", server.url, "--auth", "oauth", "--email", MARY, "--token-url", server.token_url)
    res = run_cli("backup", *common, "--client-id", "local-app", str(tmp_path / "b"),
                  env=cli_env(EXCHANGELIB_CLIENT_SECRET="local-app-secret"))
    assert res.returncode == 0, res.stderr
    assert "4 exported" in res.stdout and "local-app-secret" not in res.stdout + res.stderr
    assert any(r.user == "app:local-app" and r.auth_scheme == "Bearer" for r in server.request_log)
    # The client id may come from the environment too; a wrong secret fails cleanly, without echoing it
    wrong = run_cli("backup", *common, str(tmp_path / "c"),
                    env=cli_env(EXCHANGELIB_CLIENT_ID="local-app", EXCHANGELIB_CLIENT_SECRET="Wrong-secret-99"))
    assert wrong.returncode == 2 and "invalid_client" in wrong.stderr
    assert "Wrong-secret-99" not in wrong.stdout + wrong.stderr
    refused = run_cli("backup", *common, "--client-id", "local-app", "--client-secret", "On-the-cmdline-1",
                      str(tmp_path / "d"), env=cli_env())
    assert refused.returncode == 2 and "EXCHANGELIB_CLIENT_SECRET" in refused.stderr
    assert "On-the-cmdline-1" not in refused.stdout + refused.stderr
    no_secret = run_cli("backup", *common, "--client-id", "local-app", str(tmp_path / "e"), env=cli_env())
    assert no_secret.returncode != 0 and "EXCHANGELIB_CLIENT_SECRET" in no_secret.stderr


def test_backup_and_restore_over_oauth_with_a_certificate(make_exchange, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backup-app")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "app.pem").write_bytes(cert_pem)
    (tmp_path / "app.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"Key-password-5")))
    source = make_exchange(auth=("bearer",))
    source.add_oauth_client(OAuthClient("backup-app", None, certificate=cert_pem))
    mary = source.account(MARY, auth_type="bearer")
    mary.bulk_create(folder=mary.inbox, items=[Message(subject=f"cert {i}") for i in range(3)])
    env = cli_env(EXCHANGELIB_CERTIFICATE_PASSWORD="Key-password-5", EXCHANGELIB_CLIENT_ID="backup-app")
    args = ("--auth", "oauth", "--email", MARY, "--certificate", str(tmp_path / "app.pem"),
            "--private-key", str(tmp_path / "app.key"))
    res = run_cli("backup", "--server", source.url, "--token-url", source.token_url, *args, str(tmp_path / "b"),
                  env=env)
    assert res.returncode == 0, res.stderr
    assert "3 exported" in res.stdout and "Key-password-5" not in res.stdout + res.stderr
    target = make_exchange(auth=("bearer",))
    target.add_oauth_client(OAuthClient("backup-app", None, certificate=cert_pem))
    res = run_cli("restore", "--server", target.url, "--token-url", target.token_url, *args, str(tmp_path / "b"),
                  env=env)
    assert res.returncode == 0, res.stderr
    assert sorted(m.subject for m in target.account(MARY, auth_type="bearer").inbox.all()) == [
        "cert 0", "cert 1", "cert 2"]
