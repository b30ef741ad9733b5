"""``LocalKDC``: a throw-away MIT Kerberos KDC on 127.0.0.1, for testing Kerberos (Negotiate) logins.

::

    from exchangelib.testing import LocalExchange
    from exchangelib.testing.kdc import LocalKDC

    with LocalKDC(realm="EXAMPLE.COM") as kdc:              # krb5kdc in a temporary directory
        kdc.add_principal("john", password="Exchange-john-1")
        keytab = kdc.add_service("HTTP/127.0.0.1")          # the EWS server's key
        with LocalExchange(auth=("negotiate", "ntlm"), kerberos_keytab=keytab) as server:
            kdc.kinit("john", "Exchange-john-1")            # a ticket in the KDC's credential cache
            ...                                             # Configuration(auth_type=GSSAPI) logs in

While running, ``KRB5_CONFIG`` and ``KRB5CCNAME`` point at the KDC's files (they are process-wide:
Kerberos libraries read them); :meth:`stop` restores them. Needs the Debian packages ``krb5-kdc``,
``krb5-admin-server`` (``kdb5_util``, ``kadmin.local``) and ``krb5-user`` (``kinit``);
:func:`kdc_binaries_missing` names the missing ones. Nothing listens beyond 127.0.0.1.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

__all__ = ["LocalKDC", "kdc_binaries_missing", "INSTALL_HINT"]

_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")
_BINARIES = {"krb5kdc": "krb5-kdc", "kdb5_util": "krb5-kdc", "kadmin.local": "krb5-admin-server",
             "kinit": "krb5-user", "kdestroy": "krb5-user"}
INSTALL_HINT = "install MIT Kerberos: sudo apt-get install -y krb5-kdc krb5-admin-server krb5-user libkrb5-dev"


def _which(name: str) -> Optional[str]:
    found = shutil.which(name)
    if found:
        return found
    for d in _SBIN:
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None


def kdc_binaries_missing() -> List[str]:
    """The MIT Kerberos programs LocalKDC needs that are not installed (empty when all are)."""
    return [name for name in _BINARIES if _which(name) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalKDC:
    """An MIT ``krb5kdc`` for ``realm`` on a free port of 127.0.0.1, with its database in a temporary directory."""

    def __init__(self, realm: str = "EXAMPLE.COM", directory: Optional[str] = None):
        if not realm or realm != realm.upper():
            raise ValueError(f"LocalKDC.realm must be an upper-case realm name like 'EXAMPLE.COM', got {realm!r}")
        self.realm = realm
        self._given_dir = directory
        self.dir: Optional[Path] = None
        self.port = 0
        self._proc: Optional[subprocess.Popen] = None
        self._saved_env: Dict[str, Optional[str]] = {}

    @property
    def env(self) -> Dict[str, str]:
        """The environment Kerberos programs and libraries need to use this KDC."""
        assert self.dir is not None, "LocalKDC is not running"
        return {"KRB5_CONFIG": str(self.dir / "krb5.conf"), "KRB5_KDC_PROFILE": str(self.dir / "kdc.conf"),
                "KRB5CCNAME": f"FILE:{self.dir / 'ccache'}", "KRB5_TRACE": str(self.dir / "trace.log")}

    @property
    def ccache(self) -> str:
        return self.env["KRB5CCNAME"]

    def _run(self, *args: str, stdin: Optional[str] = None) -> str:
        env = dict(os.environ, **self.env)
        exe = _which(args[0]) or args[0]
        r = subprocess.run([exe, *args[1:]], input=stdin, capture_output=True, text=True, env=env, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
        return r.stdout

    def start(self) -> "LocalKDC":
        missing = kdc_binaries_missing()
        if missing:
            raise FileNotFoundError(f"LocalKDC needs {', '.join(missing)}: {INSTALL_HINT}")
        self.dir = Path(self._given_dir or tempfile.mkdtemp(prefix="exchangelib-kdc-"))
        self.port = _free_port()
        realm, d = self.realm, self.dir
        (d / "krb5.conf").write_text(f"""[libdefaults]
    default_realm = {realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    udp_preference_limit = 1
    ticket_lifetime = 10h
    forwardable = true

[realms]
    {realm} = {{
        kdc = 127.0.0.1:{self.port}
    }}

[domain_realm]
    127.0.0.1 = {realm}
    localhost = {realm}
""")
        (d / "kdc.conf").write_text(f"""[kdcdefaults]
    kdc_ports = {self.port}
    kdc_tcp_ports = {self.port}

[realms]
    {realm} = {{
        database_name = {d / 'principal'}
        key_stash_file = {d / 'stash'}
        acl_file = {d / 'kadm5.acl'}
        max_life = 10h
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}

[logging]
    kdc = FILE:{d / 'kdc.log'}
""")
        (d / "kadm5.acl").write_text("")
        for name, value in self.env.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            if name != "KRB5_TRACE":
                os.environ[name] = value
        self._run("kdb5_util", "create", "-s", "-r", realm, "-P", "kdc-master-" + os.urandom(8).hex())
        env = dict(os.environ, **self.env)
        env.pop("KRB5_TRACE", None)
        self._proc = subprocess.Popen([_which("krb5kdc") or "krb5kdc", "-n", "-r", realm], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"krb5kdc exited with {self._proc.returncode}; see {d / 'kdc.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("krb5kdc did not start listening within 10 s")
        return self

    def add_principal(self, name: str, password: Optional[str] = None) -> str:
        """Create ``name@REALM`` with a password (or a random key). Returns the full principal name."""
        if password is None:
            self._run("kadmin.local", "-r", self.realm, "-q", f"addprinc -randkey {name}")
        else:
            self._run("kadmin.local", "-r", self.realm, "-q", f"addprinc -pw {password} {name}")
        return f"{name}@{self.realm}"

    def keytab(self, name: str, path: Optional[str] = None) -> str:
        """Export ``name``'s keys into a keytab file (new keys: earlier keytabs of it stop working)."""
        assert self.dir is not None, "LocalKDC is not running"
        path = path or str(self.dir / (name.replace("/", "_") + ".keytab"))
        self._run("kadmin.local", "-r", self.realm, "-q", f"ktadd -k {path} {name}")
        return path

    def add_service(self, name: str) -> str:
        """Create a service principal such as ``HTTP/127.0.0.1`` with a random key; return its keytab's path."""
        self.add_principal(name)
        return self.keytab(name)

    def kinit(self, principal: str, password: str, ccache: Optional[str] = None) -> str:
        """Get a TGT for ``principal`` into ``ccache`` (default: :attr:`ccache`). Returns the cache name."""
        ccache = ccache or self.ccache
        self._run("kinit", "-c", ccache, principal, stdin=password + "\n")
        return ccache

    def kdestroy(self, ccache: Optional[str] = None) -> None:
        try:
            self._run("kdestroy", "-c", ccache or self.ccache)
        except RuntimeError:
            pass  # no cache: nothing to destroy

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
            self._proc = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        if self.dir is not None and self._given_dir is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self) -> "LocalKDC":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalKDC(realm={self.realm!r}, port={self.port}, running={self._proc is not None})"
