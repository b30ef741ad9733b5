"""The autodiscover result cache: in memory, and in a per-user JSON file shared by processes.

Entries are keyed by the email domain and the credentials' *identity* (user name or OAuth client
id, never a secret or anything derived from one), and inside that by the address asked for.
They expire after ``ttl`` seconds.

The file lives in ``$EXCHANGELIB_CACHE_DIR``, else ``$XDG_CACHE_HOME/exchangelib``, else
``~/.cache/exchangelib`` (``%LOCALAPPDATA%\\exchangelib`` on Windows), as ``autodiscover.json``
(mode 0600, directory 0700). It is plain JSON, validated field by field when read: a corrupt or
tampered file is ignored, never executed. Writers take an exclusive ``fcntl`` lock on
``autodiscover.json.lock`` (where available), re-read the file, merge and replace it atomically
(write a temp file, then ``os.replace``), so concurrent processes never see a half-written file
or lose each other's entries.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Union

from ..credentials import BaseCredentials
from .models import AutodiscoverResult

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

__all__ = ["AutodiscoverCache", "default_cache_dir", "cache_key", "DEFAULT_TTL"]

DEFAULT_TTL = 24 * 3600.0
FILE_NAME = "autodiscover.json"
FORMAT_VERSION = 1
MAX_ENTRIES = 2000


def default_cache_dir() -> Path:
    """Where the file cache lives; see the module docstring."""
    env = os.environ.get("EXCHANGELIB_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "exchangelib"
    if os.name == "nt":  # pragma: no cover
        base = os.environ.get("LOCALAPPDATA")
        if base:
            return Path(base) / "exchangelib"
    return Path.home() / ".cache" / "exchangelib"


def identity_of(credentials: Optional[BaseCredentials]) -> str:
    """The credentials' principal (never the secret): 'Credentials:DOMAIN\\user', 'anonymous'..."""
    if credentials is None:
        return "anonymous"
    try:
        ident = credentials.identity
    except NotImplementedError:
        ident = "?"
    kind = type(credentials).__name__
    client_id = getattr(credentials, "client_id", None)
    if client_id:
        ident = f"{client_id}@{getattr(credentials, 'token_url', '')}"
    return f"{kind}:{str(ident).lower()}"


def cache_key(domain: str, credentials: Optional[BaseCredentials]) -> str:
    """A stable key for (email domain, credentials identity)."""
    raw = f"{domain.lower().rstrip('.')}\0{identity_of(credentials)}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class AutodiscoverCache:
    """Autodiscover results in memory and (unless ``directory=False``) in a JSON file.

    ``directory``: where the file goes (default :func:`default_cache_dir`; ``False``: memory only).
    ``ttl``: seconds an entry stays valid.
    """

    def __init__(self, directory: Union[str, Path, None, bool] = None, ttl: float = DEFAULT_TTL):
        if not isinstance(ttl, (int, float)) or ttl <= 0:
            raise ValueError(f"AutodiscoverCache.ttl must be a positive number of seconds, got {ttl!r}")
        self.ttl = float(ttl)
        if directory is False:
            self.directory: Optional[Path] = None
        elif directory is None or directory is True:
            self.directory = default_cache_dir()
        else:
            self.directory = Path(directory)
        self._memory: Dict[str, Dict[str, Dict[str, Any]]] = {}
        self._lock = threading.RLock()
        #: Counters, for tests and diagnostics.
        self.hits = 0
        self.misses = 0

    @property
    def path(self) -> Optional[Path]:
        return self.directory / FILE_NAME if self.directory is not None else None

    # --- public API ---------------------------------------------------------------------------------
    def get(self, email: str, credentials: Optional[BaseCredentials]) -> Optional[AutodiscoverResult]:
        """The cached, unexpired result for ``email`` with these credentials, or None."""
        key = cache_key(_domain(email), credentials)
        addr = email.lower()
        now = time.time()
        with self._lock:
            record = self._memory.get(key, {}).get(addr)
            if record is None or not self._fresh(record, now):
                record = self._read_file().get(key, {}).get(addr)
                if record is not None and self._fresh(record, now):
                    self._memory.setdefault(key, {})[addr] = record
                else:
                    record = None
            if record is None:
                self.misses += 1
                return None
            try:
                result = AutodiscoverResult.from_json(record)
            except (ValueError, TypeError) as e:
                log.warning("Ignoring a malformed autodiscover cache entry: %s", e)
                self.misses += 1
                return None
            self.hits += 1
        result.from_cache = True
        return result

    def put(self, email: str, credentials: Optional[BaseCredentials], result: AutodiscoverResult) -> None:
        """Store ``result`` for ``email`` (and for its primary address) with these credentials."""
        record = result.to_json()
        key = cache_key(_domain(email), credentials)
        addresses = {email.lower()}
        if result.primary_smtp_address and _domain(result.primary_smtp_address) == _domain(email):
            addresses.add(result.primary_smtp_address.lower())
        with self._lock:
            for addr in addresses:
                self._memory.setdefault(key, {})[addr] = record

            def update(data: Dict[str, Dict[str, Any]]) -> None:
                for addr in addresses:
                    data.setdefault(key, {})[addr] = record

            self._update_file(update)

    def forget(self, email: str, credentials: Optional[BaseCredentials]) -> None:
        """Drop every entry for ``email``'s domain with these credentials (e.g. the endpoint stopped working)."""
        key = cache_key(_domain(email), credentials)
        with self._lock:
            self._memory.pop(key, None)
            self._update_file(lambda data: data.pop(key, None))

    def clear(self) -> None:
        """Forget everything, in memory and on disk."""
        with self._lock:
            self._memory.clear()
            self._update_file(lambda data: data.clear())

    def clear_memory(self) -> None:
        """Forget the in-memory copy only (the next get() reads the file)."""
        with self._lock:
            self._memory.clear()

    # --- internals ----------------------------------------------------------------------------------
    def _fresh(self, record: Dict[str, Any], now: float) -> bool:
        created = record.get("created") if isinstance(record, dict) else None
        return isinstance(created, (int, float)) and 0 <= now - created < self.ttl

    def _read_file(self) -> Dict[str, Dict[str, Any]]:
        path = self.path
        if path is None:
            return {}
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as e:
            log.warning("Cannot read the autodiscover cache %s: %s", path, e)
            return {}
        return _validated(raw, path)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        assert self.directory is not None
        lock_path = self.directory / (FILE_NAME + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _update_file(self, change: Any) -> None:
        if self.directory is None:
            return
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            with self._file_lock():
                data = self._read_file()
                change(data)
                self._prune(data)
                self._write(data)
        except OSError as e:
            log.warning("Cannot update the autodiscover cache in %s: %s", self.directory, e)

    def _prune(self, data: Dict[str, Dict[str, Any]]) -> None:
        now = time.time()
        for key in list(data):
            entries = {a: r for a, r in data[key].items() if self._fresh(r, now)}
            if entries:
                data[key] = entries
            else:
                del data[key]
        count = sum(len(v) for v in data.values())
        if count > MAX_ENTRIES:  # drop the oldest domains first
            for key in sorted(data, key=lambda k: min(r["created"] for r in data[k].values())):
                count -= len(data.pop(key))
                if count <= MAX_ENTRIES:
                    break

    def _write(self, data: Dict[str, Dict[str, Any]]) -> None:
        assert self.directory is not None
        payload = json.dumps({"format": FORMAT_VERSION, "entries": data}, sort_keys=True, indent=1).encode()
        fd, tmp = tempfile.mkstemp(prefix=".autodiscover-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.directory / FILE_NAME)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def __repr__(self) -> str:
        return f"AutodiscoverCache(directory={str(self.directory) if self.directory else None!r}, ttl={self.ttl:g})"


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _validated(raw: bytes, path: Path) -> Dict[str, Dict[str, Any]]:
    """Parse the cache file, keeping only well-formed entries (anything else is dropped with a warning)."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        log.warning("Ignoring the corrupt autodiscover cache %s: %s", path, e)
        return {}
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_VERSION or not isinstance(doc.get("entries"), dict):
        log.warning("Ignoring the autodiscover cache %s: unknown format", path)
        return {}
    out: Dict[str, Dict[str, Any]] = {}
    for key, entries in doc["entries"].items():
        if not isinstance(key, str) or not isinstance(entries, dict):
            continue
        good = {}
        for addr, record in entries.items():
            if not isinstance(addr, str):
                continue
            try:
                AutodiscoverResult.from_json(record)
            except (ValueError, TypeError):
                continue
            good[addr] = record
        if good:
            out[key] = good
    return out
