"""Resumable mailbox backup and restore: ``python -m exchangelib backup|restore ... OUTDIR``.

A backup directory looks like this::

    OUTDIR/
      manifest.json          folders (id <-> path, name, class, parent) and items (id <-> change key <-> file)
      manifest.journal       items recorded since manifest.json was last rewritten (JSON lines)
      folders/               the backed-up folder tree, one directory per folder
        Inbox/
          Projects/
            3f2a...c1.item   one file per item: the data ExportItems returned, decoded
      deep/                  folders whose mirrored path would be too long for some file systems

How a backup run works:

1. Read the folder tree below the backup root with one Deep FindFolder (search folders are
   skipped: their items live in other folders). New folders get a directory whose name is the
   folder name made safe for every file system (see :func:`safe_name`); nothing is ever written
   outside OUTDIR, whatever names the server sends.
2. Ask each folder what changed since the last run with SyncFolderItems (IdOnly: ids and change
   keys only), from the sync state stored per folder in the manifest; a folder seen for the first
   time (or whose state the server refuses) is listed whole by the same request without a state.
   Items we have with the same change key are skipped, new and changed ones (and ones moved in) are
   exported, and items that are gone from the folder (deleted, moved out) are dropped from the
   backup (it mirrors the mailbox), or with ``--keep-deleted`` kept and marked deleted. A run over
   an unchanged mailbox therefore sends one small SyncFolderItems per folder and no ExportItems.
   A folder's new sync state is stored only once every change it reported is in the backup, so an
   interrupted or partly failed run asks again from the old state next time.
3. Export in chunks (ExportItems, chunks in parallel over the account's connections). Each item is
   written to a temporary file and renamed into place (atomic); only then is it recorded in the
   journal. A run that is killed at any point leaves a consistent backup, and the next run
   resumes: it downloads only what the manifest doesn't have yet, plus what changed since.

Restore recreates the folder tree in the target mailbox (well-known folders map onto the target's
own, other folders are matched by name under their parent or created) and uploads every item
(UploadItems). It keeps its own journal in OUTDIR, so an interrupted restore into the same mailbox
resumes without creating duplicates, even after ``kill -9`` with uploads in flight: an item is never
created by UploadItems (which has no idempotency key) but by CreateItem as a placeholder carrying a
write token derived from the backed-up id, which a later run can search for; the upload then
overwrites the placeholder (CreateAction ``Update``), which is safe to repeat.

OUTDIR may also be an fsspec URL (``s3://bucket/prefix``, ``memory://name`` ...; see
:func:`open_backup_dir` and :class:`FsspecDir`): the same layout, with the journal as numbered files
(object stores can't append) and a lease file (:class:`StoreLease`) instead of an OS lock.
:mod:`exchangelib.org` runs many of these backups at once on a Dask cluster.

Credentials come from the environment (``EXCHANGELIB_USERNAME``, ``EXCHANGELIB_PASSWORD``) or a
prompt, never from the command line, and are never logged. ``--auth kerberos`` uses the Kerberos
ticket cache (after ``kinit``) or ``--keytab``; ``--auth oauth`` logs in as an app (client
credentials, impersonating the mailbox) with ``--client-id``/``--tenant-id``/``--token-url`` (or
``EXCHANGELIB_CLIENT_ID``, ``EXCHANGELIB_TENANT_ID``, ``EXCHANGELIB_TOKEN_URL``) and either the secret
from ``EXCHANGELIB_CLIENT_SECRET`` (or a prompt) or ``--certificate``/``--private-key``
(``EXCHANGELIB_CLIENT_CERTIFICATE``; the key's password from ``EXCHANGELIB_CERTIFICATE_PASSWORD``).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/exportitems-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/uploaditems-operation
"""
from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import json
import logging
import os
import secrets
import socket
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from collections import deque
from typing import IO, Any, Callable, Deque, Dict, Generator, Iterator, List, Optional, Sequence, Tuple, Union, cast

from . import __version__
from .account import DELEGATE, IMPERSONATION, Account
from .cli import program_name
from .configuration import Configuration
from .credentials import BaseCredentials, ClientCertificate, Credentials, KerberosCredentials, OAuth2Credentials
from .backup_settings import (SETTINGS, SettingsRestoreStats, collect_settings, read_address_map, read_settings,
                              restore_settings)
from .errors import ErrorFolderExists, ErrorFolderNotFound, ErrorInvalidSyncStateData, ErrorItemNotFound, EWSError
from .ewsdatetime import EWSDateTime, EWSTimeZone
from .folders import Folder
from .items import CalendarItem, Contact, Message, Task
from .properties import Attendee, Mailbox
from .properties.attachments import FileAttachment
from .properties.rules import Actions, Conditions, Rule
from .registry import DISTINGUISHED_FOLDER_CLASSES, FOLDER_CLASSES
from .services import (CreateFolder, CreateItem, ExportItems, FindFolder, FindItem, GetFolder, SyncFolderItems,
                       UploadItems)
from .services.exactly_once import find_written
from .services.upload_items import UPDATE
from .services.shapes import ID_ONLY
from .transport import BASIC, GSSAPI, NTLM, OAUTH2
from .version import EXCHANGE_2010_SP1, EXCHANGE_2013, EXCHANGE_2016, EXCHANGE_2019, EXCHANGE_O365, Version

try:  # POSIX: one backup process per directory
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

__all__ = ["backup_mailbox", "restore_mailbox", "BackupStats", "RestoreStats", "BackupError", "Progress",
           "safe_name", "main_backup", "main_restore", "open_backup_dir", "FsspecDir", "StoreLease", "Manifest"]

FORMAT = "exchangelib-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
JOURNAL = "manifest.journal"
LOCK = ".lock"
FOLDERS_DIR = "folders"
DEEP_DIR = "deep"
ITEM_SUFFIX = ".item"
TMP_PREFIX = ".xlb-"
TMP_SUFFIX = ".tmp"
# Longest directory path (relative to OUTDIR, in characters) a folder gets before it moves to deep/.
MAX_REL_PATH = 200
# Longest folder directory name, in UTF-8 bytes (file systems allow 255).
MAX_NAME_BYTES = 100
# Rewrite manifest.json (and empty the journal) after this many journal lines or seconds.
COMPACT_LINES = 20000
COMPACT_SECONDS = 60.0
# The roots a backup can start from.
BACKUP_ROOTS = ("msgfolderroot", "root")
# The archive mailbox is backed up too, into OUTDIR/archive, starting from its top folder.
ARCHIVE_DIR = "archive"
ARCHIVE_ROOT = "archivemsgfolderroot"
_SKIPPED_FOLDER_KINDS = ("SearchFolder",)

_WINDOWS_RESERVED = frozenset(["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
                              + [f"COM{i}" for i in range(10)] + [f"LPT{i}" for i in range(10)]
                              + [f"COM{c}" for c in "\u00b9\u00b2\u00b3"] + [f"LPT{c}" for c in "\u00b9\u00b2\u00b3"])
_FORBIDDEN_CHARS = frozenset('/\\:*?"<>|')
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


class BackupError(EWSError):
    """The backup directory can't be used: another mailbox's backup, a damaged manifest, a lock held."""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- file names -------------------------------------------------------------------------------------
def safe_name(name: Optional[str]) -> str:
    """A folder name as one directory name that is safe on Linux, macOS and Windows.

    Path separators, ``:*?"<>|``, control and invisible formatting characters become ``_``; leading dots
    and spaces and trailing dots and spaces are replaced (so ``.``, ``..`` and hidden names can't occur);
    Windows device names (``CON``, ``nul.txt``, ``COM1`` ...) get a ``_`` prefix; names ending in
    ``.item`` get a ``_`` suffix (item files end so); very long names are shortened and marked with a
    hash of the full name. The result is never empty and never longer than ``MAX_NAME_BYTES`` bytes.
    """
    name = unicodedata.normalize("NFC", name or "")
    chars = []
    for c in name:
        if c in _FORBIDDEN_CHARS or unicodedata.category(c) in _UNSAFE_CATEGORIES:
            chars.append("_")
        else:
            chars.append(c)
    out = "".join(chars)
    stripped = out.lstrip(". ")
    out = "_" * (len(out) - len(stripped)) + stripped
    stripped = out.rstrip(". ")
    out = stripped + "_" * (len(out) - len(stripped))
    if not out:
        out = "_"
    if out.split(".")[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        out = "_" + out
    if out.casefold().endswith(ITEM_SUFFIX):
        out += "_"
    if len(out.encode("utf-8")) > MAX_NAME_BYTES:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        budget = MAX_NAME_BYTES - len(digest) - 1
        cut = out.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(". ")
        out = f"{cut}~{digest}"
    return out


def _name_key(name: str) -> str:
    """Two directory names that a case-insensitive or normalising file system would confuse map to one key."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def item_file_name(item_id: str) -> str:
    """The file name of an item in the backup (stable: the same id always gives the same name)."""
    return hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:32] + ITEM_SUFFIX


def _checked_rel(rel: Any) -> str:
    """A relative path from a manifest, refused unless it is plainly inside the backup directory."""
    if not isinstance(rel, str) or not rel or "\x00" in rel or "\\" in rel or rel.startswith("/"):
        raise BackupError(f"Manifest path {rel!r} is not a relative path inside the backup directory")
    parts = rel.split("/")
    if any(p in ("", ".", "..") or ":" in p for p in parts):  # ':' could name a Windows drive
        raise BackupError(f"Manifest path {rel!r} is not a relative path inside the backup directory")
    if parts[0] not in (FOLDERS_DIR, DEEP_DIR):
        raise BackupError(f"Manifest path {rel!r} is outside the folders of the backup")
    return rel


class _Dir:
    """The backup directory on a local disk: every path we touch is resolved and checked to lie inside it.

    The backup code uses only the methods below the line (relative paths, bytes, journal lines), so a
    backup can live anywhere that offers them: see :class:`FsspecDir` for fsspec URLs.
    """

    def __init__(self, root: Union[str, Path]):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.real = Path(os.path.realpath(self.root))
        self._journals: Dict[str, IO[str]] = {}
        self.lease: Optional["StoreLease"] = None  # set while a StoreLease is held on this directory

    def path(self, rel: str) -> Path:
        p = self.real.joinpath(*_checked_rel(rel).split("/"))
        real = Path(os.path.realpath(p))
        if real != self.real and self.real not in real.parents:
            raise BackupError(f"{rel!r} resolves outside the backup directory (a symbolic link?); refusing it")
        return p

    def meta(self, name: str) -> Path:
        return self.real / name

    def sub(self, name: str, create: bool = True) -> Optional["_Dir"]:
        """The backup directory ``name`` inside this one (the archive mailbox's); None if it doesn't exist
        and ``create`` is False."""
        if "/" in name or name in ("", ".", ".."):
            raise BackupError(f"{name!r} is not a directory name")
        target = self.real / name
        if not create and not target.is_dir():
            return None
        return _Dir(target)

    def write_atomic(self, target: Path, data: bytes, sync: bool = False) -> None:
        """Write ``data`` to a temporary file next to ``target`` and rename it into place."""
        tmp = target.parent / f"{TMP_PREFIX}{target.name}.{secrets.token_hex(4)}{TMP_SUFFIX}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                if sync:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def remove_temp_files(self) -> int:
        """Delete temporary files a killed run left behind."""
        n = 0
        for dirpath, _dirs, files in os.walk(self.real):
            for f in files:
                if f.startswith(TMP_PREFIX) and f.endswith(TMP_SUFFIX):
                    try:
                        os.unlink(os.path.join(dirpath, f))
                        n += 1
                    except OSError:
                        pass
        return n

    # --- what the backup code uses -----------------------------------------------------------------
    def __str__(self) -> str:
        return str(self.root)

    def lock(self) -> "Any":
        """Exclusive use of the directory for one backup or restore (released by ``.release()``).

        An OS lock on ``.lock``. When the caller holds the directory's :class:`StoreLease` (an organisation
        run), a previous holder may still be finishing a write in this process (a worker the cluster gave
        up on): its next write fails on the lost lease and lets go, so we wait for it, up to the lease's
        lifetime. Otherwise a live lease of someone else means another run is busy here.
        """
        if self.lease is not None and self.lease.held:
            return _Lock(self, wait=self.lease.ttl)
        lock = _Lock(self)
        other = StoreLease(self).current()
        if other is not None and float(other.get("expires") or 0) > time.time():
            lock.release()
            holder = other.get("holder") if isinstance(other.get("holder"), dict) else {}
            raise BackupError(f"Another backup or restore is running in {self.root} (lease held by "
                              f"{_describe_holder(holder or {})})")
        return lock

    def ensure_dir(self, rel: str) -> None:
        self.path(rel).mkdir(parents=True, exist_ok=True)
        self.path(rel)  # checked again now that it exists: a planted symbolic link is refused here

    def size(self, rel: str) -> Optional[int]:
        """The size of a file, None if it is missing (or can't be used)."""
        try:
            return self.path(rel).stat().st_size
        except (OSError, BackupError):
            return None

    def remove(self, rel: str) -> None:
        try:
            self.path(rel).unlink()
        except (OSError, BackupError):
            pass

    def remove_dir(self, rel: str) -> None:
        """Remove an empty directory (a directory that isn't empty is left alone)."""
        try:
            self.path(rel).rmdir()
        except (OSError, BackupError):
            pass

    def read(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def write(self, rel: str, data: bytes) -> None:
        self.write_atomic(self.path(rel), data)

    def read_meta(self, name: str) -> Optional[bytes]:
        try:
            return self.meta(name).read_bytes()
        except FileNotFoundError:
            return None

    def write_meta(self, name: str, data: bytes) -> None:
        _fence(self, name)
        self.write_atomic(self.meta(name), data, sync=True)

    def remove_meta(self, name: str) -> None:
        try:
            self.meta(name).unlink()
        except FileNotFoundError:
            pass

    def journal_lines(self, name: str) -> Iterator[str]:
        """The lines of a journal (an append-only file of JSON lines), oldest first."""
        try:
            f = open(self.meta(name), encoding="utf-8")
        except FileNotFoundError:
            return
        with f:
            yield from f

    def journal_append(self, name: str, text: str, sync: bool = True) -> None:
        """Append lines to a journal; with ``sync`` they are on disk when this returns."""
        _fence(self, name)
        f = self._journals.get(name)
        if f is None:
            f = self._journals[name] = open(self.meta(name), "a", encoding="utf-8")
        f.write(text)
        f.flush()
        if sync:
            os.fsync(f.fileno())

    def journal_compact(self, name: str) -> None:
        """Nothing to do: a local journal is one file."""

    def journal_reset(self, name: str) -> None:
        """Empty a journal (after what it recorded was saved elsewhere)."""
        f = self._journals.pop(name, None)
        if f is not None:
            f.close()
        self.write_atomic(self.meta(name), b"", sync=True)

    def close(self) -> None:
        for f in self._journals.values():
            f.close()
        self._journals.clear()


class FsspecDir:
    """A backup directory in any fsspec file system (``s3://bucket/backups/john``, ``memory://x``, ...).

    The same layout as on a local disk, with two differences object stores force on us: files are
    written in one ``pipe`` (object stores replace an object atomically, so there are no temporary
    files), and a journal, which can't be appended to there, is a series of numbered files
    (``manifest.journal.000001``, ...) that are read in order and removed when the manifest is saved.
    Exclusive use is a lease file (``.lease``, see :class:`StoreLease`) instead of an OS lock.
    """

    def __init__(self, fs: Any, root: str, url: Optional[str] = None, create: bool = True):
        self.fs = fs
        self.root = root.rstrip("/") or "/"
        self.url = url or root
        self._seq: Dict[str, int] = {}
        self.lease: Optional["StoreLease"] = None  # set by a caller that took the lease itself
        if create:
            try:
                fs.makedirs(self.root, exist_ok=True)
            except (OSError, NotImplementedError):  # object stores have no directories
                pass

    def __str__(self) -> str:
        return self.url

    def _p(self, rel: str) -> str:
        return f"{self.root}/{_checked_rel(rel)}"

    def _m(self, name: str) -> str:
        if "/" in name or name in ("", ".", ".."):
            raise BackupError(f"{name!r} is not a file name")
        return f"{self.root}/{name}"

    def sub(self, name: str, create: bool = True) -> Optional["FsspecDir"]:
        """The backup directory ``name`` inside this one; None if it holds no manifest and ``create`` is False."""
        root = self._m(name)
        if not create and not self.fs.exists(f"{root}/{MANIFEST}"):
            return None
        return FsspecDir(self.fs, root, url=f"{self.url.rstrip('/')}/{name}", create=create)

    def lock(self) -> Any:
        if self.lease is not None and self.lease.held:
            return _NoLock()  # the caller holds the lease for this run
        lease = StoreLease(self)
        lease.acquire()
        return lease

    def ensure_dir(self, rel: str) -> None:
        try:
            self.fs.makedirs(self._p(rel), exist_ok=True)
        except (OSError, NotImplementedError):
            pass

    def size(self, rel: str) -> Optional[int]:
        try:
            return int(self.fs.size(self._p(rel)))
        except (OSError, BackupError, KeyError, TypeError, ValueError):
            return None

    def remove(self, rel: str) -> None:
        try:
            self.fs.rm_file(self._p(rel))
        except (OSError, BackupError, KeyError):
            pass

    def remove_dir(self, rel: str) -> None:
        try:
            if not self.fs.ls(self._p(rel), detail=False):
                self.fs.rmdir(self._p(rel))
        except (OSError, BackupError, KeyError, NotImplementedError):
            pass

    def read(self, rel: str) -> bytes:
        return bytes(self.fs.cat_file(self._p(rel)))

    def write(self, rel: str, data: bytes) -> None:
        self.fs.pipe_file(self._p(rel), data)

    def read_meta(self, name: str) -> Optional[bytes]:
        try:
            return bytes(self.fs.cat_file(self._m(name)))
        except (FileNotFoundError, KeyError):
            return None

    def write_meta(self, name: str, data: bytes) -> None:
        _fence(self, name)
        self.fs.pipe_file(self._m(name), data)

    def remove_meta(self, name: str) -> None:
        try:
            self.fs.rm_file(self._m(name))
        except (FileNotFoundError, KeyError):
            pass

    def remove_temp_files(self) -> int:
        return 0  # nothing is ever written under a temporary name

    def _segments(self, name: str) -> List[Tuple[int, str]]:
        try:
            paths = self.fs.ls(self.root, detail=False)
        except (FileNotFoundError, KeyError):
            return []
        prefix = name + "."
        out = []
        for p in paths:
            base = str(p).rstrip("/").rsplit("/", 1)[-1]
            if base.startswith(prefix) and base[len(prefix):].isdigit():
                out.append((int(base[len(prefix):]), str(p)))
        return sorted(out)

    def journal_lines(self, name: str) -> Iterator[str]:
        for _, p in self._segments(name):
            try:
                text = bytes(self.fs.cat_file(p)).decode("utf-8", "replace")
            except (FileNotFoundError, KeyError):
                continue
            yield from text.splitlines(keepends=True)

    def journal_append(self, name: str, text: str, sync: bool = True) -> None:
        _fence(self, name)
        seq = self._seq.get(name)
        if seq is None:
            segments = self._segments(name)
            seq = segments[-1][0] if segments else 0
        seq += 1
        self._seq[name] = seq
        self.fs.pipe_file(self._m(f"{name}.{seq:06d}"), text.encode("utf-8"))

    def journal_compact(self, name: str) -> None:
        """Rewrite a journal's segments as one (what they say is unchanged; a crash half-way leaves
        lines twice, which reading tolerates)."""
        segments = self._segments(name)
        if len(segments) < 2:
            return
        text = "".join(self.journal_lines(name))
        seq = segments[-1][0] + 1
        self.fs.pipe_file(self._m(f"{name}.{seq:06d}"), text.encode("utf-8"))
        self._seq[name] = seq
        for _, p in segments:
            try:
                self.fs.rm_file(p)
            except (FileNotFoundError, KeyError):
                pass

    def journal_reset(self, name: str) -> None:
        for _, p in self._segments(name):
            try:
                self.fs.rm_file(p)
            except (FileNotFoundError, KeyError):
                pass
        self._seq[name] = 0

    def close(self) -> None:
        pass


def _fence(d: Any, name: str) -> None:
    """Refuse to write the manifest or a journal once the lease on the directory is lost (to a worker that
    took it over from us because the cluster believed us dead): our view of the backup is stale."""
    lease = getattr(d, "lease", None)
    if lease is not None and name != LEASE:
        lease.verify()


class _NoLock:
    def release(self) -> None:
        pass


LEASE = ".lease"


class StoreLease:
    """A lease on a backup directory, kept in the directory itself: exclusive use for one run.

    The lease file says who holds it (``holder``: host, process, Dask worker ...) and until when; the
    holder renews it every ``ttl / 3`` seconds from a background thread. Someone else may take it over
    when it has expired (its holder died without releasing it), or at once when ``is_gone(holder)``
    says the holder is gone (e.g. a Dask worker the scheduler no longer knows). After writing the file
    it is read back ``settle`` seconds later: if another writer won the race, we lost the lease.
    """

    def __init__(self, d: Any, ttl: float = 60.0, holder: Optional[Dict[str, Any]] = None,
                 is_gone: Optional[Callable[[Dict[str, Any]], bool]] = None, settle: float = 0.05):
        self.dir = d
        self.ttl = float(ttl)
        self.holder = dict(holder or {})
        self.holder.setdefault("host", _hostname())
        self.holder.setdefault("pid", os.getpid())
        self.is_gone = is_gone
        self.settle = settle
        self.token = secrets.token_hex(8)
        self.held = False
        self.taken_over: Optional[Dict[str, Any]] = None  # the holder whose lease we took over, if any
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def current(self) -> Optional[Dict[str, Any]]:
        raw = self.dir.read_meta(LEASE)
        if not raw:
            return None
        try:
            rec = json.loads(raw)
        except ValueError:
            return None
        return rec if isinstance(rec, dict) else None

    def _write(self) -> None:
        rec = {"token": self.token, "expires": time.time() + self.ttl, "holder": self.holder}
        self.dir.write_meta(LEASE, json.dumps(rec).encode("utf-8"))

    def acquire(self) -> "StoreLease":
        rec = self.current()
        if rec is not None and rec.get("token") != self.token:
            alive = float(rec.get("expires") or 0) > time.time()
            raw_holder = rec.get("holder")
            holder: Dict[str, Any] = raw_holder if isinstance(raw_holder, dict) else {}
            if alive and self.is_gone is not None and self.is_gone(holder):
                alive = False
            if alive:
                raise BackupError(f"Another backup or restore is running in {self.dir} (lease held by "
                                  f"{_describe_holder(holder)} for {float(rec['expires']) - time.time():.0f}s more)")
            self.taken_over = holder
            log.info("Taking over the lease on %s from %s", self.dir, _describe_holder(holder))
        self._write()
        if self.settle:
            time.sleep(self.settle)
        rec = self.current()
        if rec is None or rec.get("token") != self.token:
            raise BackupError(f"Another backup or restore took the lease on {self.dir} at the same time")
        self.held = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew, name="exchangelib-lease", daemon=True)
        self._thread.start()
        self.dir.lease = self
        return self

    def verify(self) -> None:
        """Raise :class:`BackupError` unless the lease file still names us."""
        if self.held:
            rec = self.current()
            if rec is not None and rec.get("token") == self.token:
                return
            self.held = False
        holder = (self.current() or {}).get("holder") or {}
        raise BackupError(f"Lost the lease on {self.dir} to {_describe_holder(holder)}: stopping, it carries on")

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                rec = self.current()
                if rec is not None and rec.get("token") != self.token:
                    log.error("Lost the lease on %s to %s", self.dir, _describe_holder(rec.get("holder") or {}))
                    self.held = False
                    return
                self._write()
            except Exception as e:  # a store hiccup: try again at the next tick, before the lease runs out
                log.warning("Could not renew the lease on %s: %s", self.dir, e)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.held:
            self.held = False
            try:
                rec = self.current()
                if rec is not None and rec.get("token") == self.token:
                    self.dir.remove_meta(LEASE)
            except Exception as e:
                log.warning("Could not remove the lease file in %s: %s", self.dir, e)
        if getattr(self.dir, "lease", None) is self:
            self.dir.lease = None


def _hostname() -> str:
    try:
        return socket.gethostname()
    except OSError:  # pragma: no cover
        return "?"


def _describe_holder(holder: Dict[str, Any]) -> str:
    parts = [f"{k}={holder[k]}" for k in ("worker", "host", "pid") if holder.get(k) is not None]
    return ", ".join(parts) or "someone"


def open_backup_dir(location: Union[str, Path, Any], create: bool = True) -> Any:
    """The backup directory at ``location``: a local path, a ``file://`` URL, any fsspec URL
    (``s3://bucket/prefix``, ``memory://name`` ...; needs ``pip install exchangelib[org]`` or fsspec and the
    file system's own package), or an already opened directory object (returned as it is).
    ``create=False`` raises :class:`BackupError` instead of creating a missing directory."""
    if isinstance(location, (_Dir, FsspecDir)):
        return location
    if isinstance(location, Path) or "://" not in str(location):
        path = Path(location)
        if not create and not path.is_dir():
            raise BackupError(f"{location} has no {MANIFEST}: not a backup directory")
        return _Dir(path)
    url = str(location)
    if url.startswith("file://"):
        return open_backup_dir(Path(url[len("file://"):]), create=create)
    try:
        import fsspec  # optional: exchangelib[org]
    except ImportError:
        raise BackupError(f"{url}: writing to fsspec URLs needs fsspec: pip install 'exchangelib[org]'") from None
    fs, path = fsspec.core.url_to_fs(url)
    if not create and not fs.exists(f"{path.rstrip('/')}/{MANIFEST}"):
        raise BackupError(f"{url} has no {MANIFEST}: not a backup directory")
    return FsspecDir(fs, path, url=url, create=create)


class _Lock:
    """An exclusive lock on the backup directory (POSIX), released when the process ends, however it ends."""

    def __init__(self, d: _Dir, wait: float = 0.0):
        self._fd: Optional[int] = None
        if fcntl is None:  # pragma: no cover - Windows
            return
        fd = os.open(d.meta(LOCK), os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise BackupError(f"Another backup or restore is running in {d.root}") from None
                time.sleep(0.1)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# --- manifest ---------------------------------------------------------------------------------------
class Manifest:
    """``manifest.json`` plus the journal of items recorded since it was written.

    ``folders``: folder id -> {name, parent, kind, class, distinguished, path}; ``items``: item id ->
    {ck, folder, file, size, sha256, t}. Journal lines are ``{"op": "item", "id": ..., ...}`` or
    ``{"op": "drop", "id": ...}``; a torn last line (a killed run) is ignored.
    """

    def __init__(self, d: Any):
        self.dir = d
        self.meta: Dict[str, Any] = {}
        self.folders: Dict[str, Dict[str, Any]] = {}
        self.items: Dict[str, Dict[str, Any]] = {}
        self._exists: Optional[bool] = None
        self._journal_lines = 0
        self._last_compact = time.monotonic()

    @property
    def exists(self) -> bool:
        if self._exists is None:
            self._exists = self.dir.read_meta(MANIFEST) is not None
        return self._exists

    def load(self) -> "Manifest":
        where = f"{self.dir}/{MANIFEST}"
        try:
            raw = self.dir.read_meta(MANIFEST)
        except OSError as e:
            raise BackupError(f"{where} is not a readable backup manifest: {e}") from None
        self._exists = raw is not None
        if raw is not None:
            try:
                data = json.loads(raw.decode("utf-8"))
            except ValueError as e:
                raise BackupError(f"{where} is not a readable backup manifest: {e}") from None
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise BackupError(f"{where} is not an exchangelib backup manifest")
            if data.get("version") != FORMAT_VERSION:
                raise BackupError(f"{where} has manifest version {data.get('version')!r}; this exchangelib "
                                  f"reads version {FORMAT_VERSION}")
            self.meta = {k: v for k, v in data.items() if k not in ("folders", "items")}
            self.folders = dict(data.get("folders") or {})
            self.items = dict(data.get("items") or {})
        for line in self.dir.journal_lines(JOURNAL):
            try:
                rec = json.loads(line)
            except ValueError:
                log.debug("Ignoring a torn journal line")
                continue
            if isinstance(rec, dict):
                self._apply(rec)
            self._journal_lines += 1
        for fid, entry in self.folders.items():
            _checked_rel(entry.get("path"))
        for iid, entry in self.items.items():
            _checked_rel(entry.get("file"))
        return self

    def _apply(self, rec: Dict[str, Any]) -> None:
        op, iid = rec.get("op"), rec.get("id")
        if not isinstance(iid, str):
            return
        if op == "item":
            self.items[iid] = {k: v for k, v in rec.items() if k not in ("op", "id")}
        elif op == "drop":
            self.items.pop(iid, None)

    def record(self, records: Sequence[Dict[str, Any]]) -> None:
        """Apply and append journal records (after the files they name are in place), durably."""
        if not records:
            return
        for rec in records:
            self._apply(rec)
        self.dir.journal_append(JOURNAL, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
        self._journal_lines += len(records)
        if self._journal_lines >= COMPACT_LINES or time.monotonic() - self._last_compact > COMPACT_SECONDS:
            self.save()

    def save(self, **meta: Any) -> None:
        """Rewrite manifest.json atomically with everything known, then empty the journal."""
        self.meta.update(meta)
        self.meta["format"] = FORMAT
        self.meta["version"] = FORMAT_VERSION
        self.meta["updated"] = _now()
        doc = dict(self.meta, folders=self.folders, items=self.items)
        self.dir.write_meta(MANIFEST, json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        self._exists = True
        self.dir.journal_reset(JOURNAL)
        self._journal_lines = 0
        self._last_compact = time.monotonic()

    def close(self) -> None:
        self.dir.close()


# --- progress ---------------------------------------------------------------------------------------
class Progress:
    """A progress bar on a stream (stderr by default) with items/s and ETA.

    On a terminal the line is redrawn in place (``\\r``) at most ten times a second; otherwise a plain line
    is printed every ``interval`` seconds and at the end, so logs stay readable.
    """

    def __init__(self, stream: Optional[IO[str]] = None, tty: Optional[bool] = None, interval: float = 10.0,
                 width: int = 24, unit: str = "items"):
        self.stream = stream if stream is not None else sys.stderr
        self.unit = unit
        self.tty = bool(tty) if tty is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval
        self.width = width
        self.label = ""
        self.total = 0
        self.done = 0
        self._start = 0.0
        self._last = 0.0
        self._drawn = False

    def start(self, total: int, label: str) -> None:
        self.total, self.done, self.label = total, 0, label
        self._start = self._last = time.monotonic()
        self._drawn = False
        if self.tty:
            self._draw()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= (0.1 if self.tty else self.interval):
            self._last = now
            self._draw()

    def finish(self) -> None:
        self._draw()
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        """The text of the bar as it stands."""
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = self.done / elapsed
        total = max(self.total, 1)
        frac = min(self.done / total, 1.0) if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        if self.done >= self.total:
            eta = "done"
        elif rate > 0:
            eta = "ETA " + _duration((self.total - self.done) / rate)
        else:
            eta = "ETA --:--"
        return (f"{self.label} [{bar}] {self.done}/{self.total} {frac * 100:5.1f}% "
                f"{rate:7.1f} {self.unit}/s {eta} ({_duration(elapsed)} elapsed)")

    def _draw(self) -> None:
        text = self.line()
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._drawn = True


class _NoProgress(Progress):
    def __init__(self) -> None:
        super().__init__(stream=sys.stderr, tty=False)

    def _draw(self) -> None:
        pass


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


def _progress(progress: Union[Progress, bool, None]) -> Progress:
    if isinstance(progress, Progress):
        return progress
    return Progress() if progress else _NoProgress()


# --- reading the folder tree ------------------------------------------------------------------------
_TREE_FIELDS = ("parent_folder_id", "folder_class", "name", "distinguished_folder_id", "total_count")


def _tree_fields(account: Account) -> List[Any]:
    version = account.version
    out = []
    for name in _TREE_FIELDS:
        f = Folder.FIELDS.get(name)
        if f is not None and f.is_supported(version):
            out.append(f)
    return out


@dataclass
class _RemoteFolder:
    id: str
    parent: Optional[str]
    name: str
    kind: str
    folder_class: Optional[str]
    distinguished: Optional[str]
    obj: Any = field(repr=False, default=None)
    total: Optional[int] = None  # items in the folder when the tree was read (None: unknown)


def _remote_tree(account: Account, root_did: str) -> Tuple[_RemoteFolder, List[_RemoteFolder]]:
    """The root folder and every folder below it (parents before children)."""
    fields = _tree_fields(account)
    root_cls = DISTINGUISHED_FOLDER_CLASSES.get(root_did)
    if root_cls is None:
        raise ValueError(f"Unknown well-known folder {root_did!r}")
    root_obj = next(GetFolder(account=account).call([root_cls(account=account)], shape=ID_ONLY,
                                                    additional_fields=fields))
    if isinstance(root_obj, Exception):
        raise root_obj
    found = list(FindFolder(account=account).call(root_obj, shape=ID_ONLY, additional_fields=fields,
                                                  traversal="Deep"))
    # Before Exchange 2013 folders don't say which well-known folder they are: ask, in one request
    well_known = _distinguished_ids(account, root_did) if account.version.build < EXCHANGE_2013 else {}
    root = _RemoteFolder(root_obj.id, None, root_obj.name or "", _kind(root_obj), root_obj.folder_class, root_did,
                         root_obj, getattr(root_obj, "total_count", None))
    folders = []
    for f in found:
        pid = f.parent_folder_id.id if f.parent_folder_id is not None else None
        did = getattr(f, "distinguished_folder_id", None) or well_known.get(f.id)
        folders.append(_RemoteFolder(f.id, pid, f.name or "", _kind(f), f.folder_class, did, f,
                                     getattr(f, "total_count", None)))
    return root, _parents_first(root.id, folders)


def _kind(folder: Any) -> str:
    for cls in type(folder).__mro__:
        name = cls.__dict__.get("ELEMENT_NAME")
        if name:
            return name
    return "Folder"


def _distinguished_ids(account: Account, root_did: str) -> Dict[str, str]:
    """Folder id -> well-known name, for the well-known folders the server has (one GetFolder request)."""
    build = account.version.build
    wanted = [cls for did, cls in DISTINGUISHED_FOLDER_CLASSES.items()
              if did != root_did and not did.startswith("archive") and did != "publicfoldersroot"
              and (cls.supported_from is None or build >= cls.supported_from)]
    if not wanted:
        return {}
    try:
        results = list(GetFolder(account=account).call([cls(account=account) for cls in wanted], shape=ID_ONLY))
    except EWSError as e:
        log.debug("Could not map well-known folder ids: %s", e)
        return {}
    return {res.id: cls.DISTINGUISHED_FOLDER_ID for cls, res in zip(wanted, results)
            if res is not None and not isinstance(res, Exception)}


def _parents_first(root_id: str, folders: List[_RemoteFolder]) -> List[_RemoteFolder]:
    by_parent: Dict[Optional[str], List[_RemoteFolder]] = {}
    ids = {f.id for f in folders}
    for f in folders:
        parent = f.parent if f.parent in ids else root_id
        by_parent.setdefault(parent, []).append(f)
    out: List[_RemoteFolder] = []
    stack = [root_id]
    while stack:
        pid = stack.pop()
        kids = by_parent.get(pid, [])
        out.extend(kids)
        stack.extend(k.id for k in reversed(kids))
    return out


# --- backup -----------------------------------------------------------------------------------------
@dataclass
class BackupStats:
    """What a backup run did."""

    folders: int = 0          # folders backed up
    items: int = 0            # items the mailbox has (in those folders)
    exported: int = 0         # items downloaded in this run (new + changed)
    changed: int = 0          # of which: changed since the last run
    unchanged: int = 0        # items the backup already had
    removed: int = 0          # items gone from the mailbox, dropped from the backup
    failed: int = 0           # items that could not be exported (tried again next run)
    bytes_exported: int = 0   # bytes of the items downloaded in this run
    interrupted: bool = False
    errors: List[str] = field(default_factory=list)
    settings_saved: bool = False  # rules, delegates, permissions, user configurations (settings.json)
    archive: Optional["BackupStats"] = None  # the archive mailbox's backup, when it has one

    def summary(self) -> str:
        text = (f"{self.folders} folders, {self.items} items: {self.exported} exported ({self.changed} changed), "
                f"{self.unchanged} already backed up, {self.removed} removed, {self.failed} failed")
        if self.settings_saved:
            text += "; settings saved"
        if self.archive is not None:
            text += f"; archive: {self.archive.summary()}"
        return text + (" -- interrupted" if self.interrupted else "")


class _FolderPaths:
    """Assigns each folder a directory (stable across runs) with a name no sibling's name collides with."""

    def __init__(self, folders: Dict[str, Dict[str, Any]]):
        self.taken: Dict[str, set] = {}
        for entry in folders.values():
            self._take(entry["path"])

    def _take(self, rel: str) -> None:
        parent, _, name = rel.rpartition("/")
        self.taken.setdefault(parent, set()).add(_name_key(name))

    def assign(self, parent_rel: Optional[str], name: str, folder_id: str) -> str:
        if parent_rel is None:
            rel = FOLDERS_DIR
            self._take(rel)
            return rel
        base = safe_name(name)
        taken = self.taken.setdefault(parent_rel, set())
        candidate, n = base, 1
        while _name_key(candidate) in taken:
            n += 1
            candidate = f"{base}~{n}"
        rel = f"{parent_rel}/{candidate}"
        if len(rel) > MAX_REL_PATH:
            rel = f"{DEEP_DIR}/{hashlib.sha256(folder_id.encode('utf-8')).hexdigest()[:24]}"
            candidate = rel.rsplit("/", 1)[1]
            parent_rel = DEEP_DIR
            taken = self.taken.setdefault(parent_rel, set())
        taken.add(_name_key(candidate))
        return rel


def backup_mailbox(account: Account, outdir: Union[str, Path, Any], *, root: str = "msgfolderroot",
                   chunk_size: Optional[int] = None, page_size: int = 1000,
                   progress: Union[Progress, bool, None] = None,
                   stop: Optional[Callable[[BackupStats], bool]] = None, keep_deleted: bool = False,
                   settings: bool = True, archive: bool = True) -> BackupStats:
    """Back up (or bring up to date) ``account``'s mailbox in ``outdir``; see the module docstring.

    ``root`` is the well-known folder to start from ('msgfolderroot': the folders users see; 'root':
    everything). ``chunk_size`` items per ExportItems request, ``page_size`` per FindItem page.
    ``progress``: True for a bar on stderr, or a :class:`Progress`. ``stop(stats)`` is called after each
    exported item; returning True ends the run early, cleanly (the next run resumes).
    ``keep_deleted``: items deleted from the mailbox stay in the backup, marked ``deleted`` in the
    manifest (with the time the run noticed), instead of being removed.
    With ``settings`` (default) the mailbox's Inbox rules, delegates, folder permissions and user
    configurations are saved too (``settings.json``, see :mod:`exchangelib.backup_settings`); with ``archive``
    (default) an archive mailbox, when there is one, is backed up into ``OUTDIR/archive``.
    Returns :class:`BackupStats`.
    """
    if root not in BACKUP_ROOTS + (ARCHIVE_ROOT,):
        raise ValueError(f"root must be one of {BACKUP_ROOTS}, got {root!r}")
    if account.version.build < EXCHANGE_2010_SP1:
        raise NotImplementedError(f"Backups need ExportItems (Exchange 2010 SP1 or later); the server is "
                                  f"{account.version.build}")
    d = open_backup_dir(outdir)
    lock = d.lock()
    manifest = Manifest(d)
    try:
        manifest.load()
        stats = _Backup(account, d, manifest, root, chunk_size, page_size, _progress(progress), stop,
                        keep_deleted, settings).run()
    finally:
        manifest.close()
        lock.release()
    if archive and root != ARCHIVE_ROOT and not stats.interrupted and _has_archive(account):
        stats.archive = backup_mailbox(account, d.sub(ARCHIVE_DIR), root=ARCHIVE_ROOT, chunk_size=chunk_size,
                                       page_size=page_size, progress=progress, keep_deleted=keep_deleted,
                                       settings=settings, archive=False)
    return stats


def _has_archive(account: Account) -> bool:
    """Does the mailbox have an archive? (GetFolder of its top folder answers ErrorFolderNotFound if not.)"""
    cls = DISTINGUISHED_FOLDER_CLASSES[ARCHIVE_ROOT]
    res = next(GetFolder(account=account).call([cls(account=account)], shape=ID_ONLY))
    if isinstance(res, ErrorFolderNotFound):
        return False
    if isinstance(res, Exception):
        log.warning("Could not tell whether %s has an archive: %s", account.primary_smtp_address, res)
        return False
    return True


class _Backup:
    def __init__(self, account: Account, d: Any, manifest: Manifest, root: str, chunk_size: Optional[int],
                 page_size: int, progress: Progress, stop: Optional[Callable[[BackupStats], bool]],
                 keep_deleted: bool = False, settings: bool = True):
        self.settings = settings
        self.account = account
        self.dir = d
        self.manifest = manifest
        self.root = root
        self.chunk_size = chunk_size
        self.page_size = page_size
        self.progress = progress
        self.stop = stop
        self.stats = BackupStats()
        self.gone_dirs: List[str] = []  # directories of folders that are gone from the mailbox
        self.keep_deleted = keep_deleted
        # folder id -> the sync state reached by this run's scan (stored once the folder's exports are done)
        self.sync_states: Dict[str, Optional[str]] = {}
        self.failed_folders: set = set()

    def run(self) -> BackupStats:
        m = self.manifest
        owner = m.meta.get("mailbox")
        address = self.account.primary_smtp_address
        if owner and owner.casefold() != address.casefold():
            raise BackupError(f"{self.dir} holds the backup of {owner}, not {address}; use another directory")
        if m.meta.get("root") and m.meta["root"] != self.root:
            raise BackupError(f"{self.dir} holds a backup from {m.meta['root']!r}, not {self.root!r}")
        stale = self.dir.remove_temp_files()
        if stale:
            log.info("Removed %d temporary files of an interrupted run", stale)
        if not m.exists:
            m.meta["created"] = _now()
        folders = self._sync_folders()
        pending = self._scan(folders)
        self._remove_gone_dirs()
        try:
            self._export(pending)
            if self.settings and not self.stats.interrupted:
                self._save_settings()
        except KeyboardInterrupt:
            self.stats.interrupted = True
            raise
        finally:
            if not self.stats.interrupted:
                # A folder's new state is kept only when all of its changes are in the backup; otherwise the
                # next run asks again from the old state (and skips what this run already stored).
                for fid, state in self.sync_states.items():
                    if fid in m.folders and fid not in self.failed_folders:
                        m.folders[fid]["sync_state"] = state
            m.save(completed=_now() if not self.stats.interrupted and not self.stats.failed
                   else m.meta.get("completed"))
        return self.stats

    # -- step 4: settings (rules, delegates, permissions, user configurations) --
    def _save_settings(self) -> None:
        doc = collect_settings(self.account, list(self.manifest.folders), mailbox_settings=self.root != ARCHIVE_ROOT)
        self.dir.write_meta(SETTINGS, json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        self.stats.settings_saved = True

    # -- step 1: folders --
    def _sync_folders(self) -> List[_RemoteFolder]:
        m = self.manifest
        root, remote = _remote_tree(self.account, self.root)
        keep = [root]
        skipped = set()
        for f in remote:  # parents come first: a skipped (search) folder's subfolders are skipped too
            if f.kind in _SKIPPED_FOLDER_KINDS or f.parent in skipped:
                skipped.add(f.id)
            else:
                keep.append(f)
        present = {f.id for f in keep}
        for fid in [fid for fid in m.folders if fid not in present]:
            log.info("Folder %r is gone from the mailbox", m.folders[fid].get("name"))
            self.gone_dirs.append(m.folders.pop(fid)["path"])
        paths = _FolderPaths(m.folders)
        for f in keep:
            entry = m.folders.get(f.id)
            if entry is None:
                parent_rel = None if f is root else m.folders[f.parent if f.parent in m.folders else root.id]["path"]
                entry = {"path": paths.assign(parent_rel, f.name, f.id)}
                m.folders[f.id] = entry
            entry.update(name=f.name, parent=None if f is root else (f.parent if f.parent in present else root.id),
                         kind=f.kind, folder_class=f.folder_class, distinguished=f.distinguished)
            self.dir.ensure_dir(entry["path"])
        m.meta.update(mailbox=self.account.primary_smtp_address, root=self.root,
                      server=self.account.protocol.service_endpoint, server_build=str(self.account.version.build),
                      exchangelib=__version__)
        m.save()
        self.stats.folders = len(keep)
        return keep

    # -- step 2: the cheap pass --
    def _scan(self, folders: List[_RemoteFolder]) -> List[Tuple[str, Optional[str], str]]:
        """(item id, change key, folder id) of the items to export; drops items that are gone.

        A folder backed up before has a stored sync state: SyncFolderItems then reports only what changed
        since (created, changed, deleted, moved in or out). A folder without one (or whose state the server
        no longer accepts) is listed whole, with the same request starting from no state.
        """
        m = self.manifest
        known: Dict[str, Dict[str, Optional[str]]] = {}
        for iid, have in m.items.items():
            if not have.get("deleted"):
                known.setdefault(have.get("folder") or "", {})[iid] = have.get("ck")
        seen: Dict[str, None] = {}
        pending: List[Tuple[str, Optional[str], str]] = []
        complete = True
        scan = Progress(stream=self.progress.stream, tty=self.progress.tty, interval=self.progress.interval,
                        unit="folders") if not isinstance(self.progress, _NoProgress) else _NoProgress()
        scan.start(len(folders), "Listing")
        for f in folders:
            if f.total == 0:  # the folder tree says it is empty: no FindItem round trip (most folders are)
                scan.advance()
                continue
            try:
                current = self._current_items(f, known.get(f.id, {}))
            except EWSError as e:  # keep what we have of this folder; drop nothing this run
                complete = False
                self.stats.errors.append(f"Could not list folder {f.name!r}: {e}")
                log.warning("Could not list the items of folder %r: %s", f.name, e)
                scan.advance()
                continue
            for iid, ck in current.items():
                seen[iid] = None
                entry = m.items.get(iid)
                if entry is not None and entry.get("ck") == ck and entry.get("folder") == f.id \
                        and not entry.get("deleted") and self._file_ok(entry):
                    self.stats.unchanged += 1
                    continue
                if entry is not None and entry.get("ck") != ck:
                    self.stats.changed += 1
                pending.append((iid, ck, f.id))
            scan.advance()
        scan.finish()
        self.stats.items = len(seen)
        gone = [iid for iid, have in m.items.items() if iid not in seen and not have.get("deleted")]
        if gone and complete:
            self._drop(gone)
        return pending

    def _current_items(self, f: _RemoteFolder, known: Dict[str, Optional[str]]) -> Dict[str, Optional[str]]:
        """Item id -> change key of every item the folder holds now (from the changes since its sync state)."""
        state = self.manifest.folders[f.id].get("sync_state")
        svc = SyncFolderItems(account=self.account)
        try:
            try:
                changes = list(svc.call(f.obj, shape=ID_ONLY, sync_state=state))
            except ErrorInvalidSyncStateData:
                if state is None:
                    raise
                log.info("The server no longer accepts the sync state of folder %r; listing it whole", f.name)
                state = None
                changes = list(svc.call(f.obj, shape=ID_ONLY, sync_state=None))
        except ErrorInvalidSyncStateData:
            raise
        except EWSError as e:  # a folder the server can't sync: list it instead
            log.info("SyncFolderItems failed on folder %r (%s); listing it with FindItem", f.name, e)
            finder = FindItem(account=self.account, page_size=self.page_size)
            return {item.id: item.changekey for item in finder.call(f.obj, shape=ID_ONLY)}
        self.sync_states[f.id] = svc.sync_state
        current: Dict[str, Optional[str]] = {} if state is None else dict(known)
        for change_type, value in changes:
            if change_type == "delete":
                current.pop(value.id, None)
            elif change_type == "read_flag_change":
                current[value[0].id] = value[0].changekey
            else:
                current[value.id] = value.changekey
        return current

    def _remove_gone_dirs(self) -> None:
        """Remove the (now empty) directories of folders that are gone, unless a folder uses them again."""
        in_use = {e["path"] for e in self.manifest.folders.values()}
        for rel in sorted(self.gone_dirs, key=lambda r: r.count("/"), reverse=True):
            if any(p == rel or p.startswith(rel + "/") for p in in_use):
                continue
            self.dir.remove_dir(rel)  # not empty (files we don't know about) or already gone: left alone

    def _file_ok(self, entry: Dict[str, Any]) -> bool:
        try:
            return self.dir.size(entry["file"]) == entry.get("size")
        except BackupError:
            return False

    def _drop(self, ids: List[str]) -> None:
        m = self.manifest
        records = []
        for iid in ids:
            entry = m.items.get(iid)
            if entry is None:
                continue
            if self.keep_deleted:  # keep the file; remember when the item left the mailbox
                records.append(dict(entry, op="item", id=iid, deleted=_now()))
                continue
            self._unlink(entry.get("file"))
            records.append({"op": "drop", "id": iid})
        m.record(records)
        self.stats.removed += len(records)

    def _unlink(self, rel: Optional[str]) -> None:
        if not rel:
            return
        self.dir.remove(rel)

    # -- step 3: export --
    def _export(self, pending: List[Tuple[str, Optional[str], str]]) -> None:
        m = self.manifest
        progress = self.progress
        progress.start(len(pending), "Exporting")
        if not pending:
            progress.finish()
            return
        service = ExportItems(account=self.account, chunk_size=self.chunk_size)
        flush_every = service.chunk_size
        records: List[Dict[str, Any]] = []
        stopping: List[bool] = []

        def inputs() -> Iterator[Tuple[str, Optional[str]]]:
            for iid, ck, _ in pending:
                if stopping:  # asked to stop: send nothing more, but take in what is on its way
                    return
                yield iid, ck

        # the services' call() are generators: close() stops the chunks still queued
        results = cast(Generator[Any, None, None], service.call(inputs(), with_ids=True))
        try:
            for (iid, ck, folder_id), res in zip(pending, results):
                if isinstance(res, Exception):
                    if not isinstance(res, ErrorItemNotFound):
                        self.failed_folders.add(folder_id)
                    self._failed(iid, res)
                else:
                    records.append(self._store(iid, ck, folder_id, res))
                    self.stats.exported += 1
                progress.advance()
                if len(records) >= flush_every:
                    m.record(records)
                    records = []
                if not stopping and self.stop is not None and self.stop(self.stats):
                    self.stats.interrupted = True
                    stopping.append(True)
        finally:
            m.record(records)
            results.close()
            progress.finish()

    def _store(self, iid: str, scanned_ck: Optional[str], folder_id: str,
               res: Tuple[Optional[str], Optional[str], str]) -> Dict[str, Any]:
        _rid, changekey, text = res
        changekey = changekey or scanned_ck
        data = base64.b64decode(text)
        name = item_file_name(iid)
        rel = f"{self.manifest.folders[folder_id]['path']}/{name}"
        self.dir.write(rel, data)
        self.stats.bytes_exported += len(data)
        old = self.manifest.items.get(iid)
        if old is not None and old.get("file") != rel:
            self._unlink(old.get("file"))
        return {"op": "item", "id": iid, "ck": changekey, "folder": folder_id, "file": rel, "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(), "t": _now()}

    def _failed(self, iid: str, exc: Exception) -> None:
        if isinstance(exc, ErrorItemNotFound):  # deleted since the scan
            if iid in self.manifest.items:
                self._drop([iid])
            return
        self.stats.failed += 1
        self.stats.errors.append(f"{iid}: {exc}")
        log.warning("Could not export item %s: %s", iid, exc)


# --- restore ----------------------------------------------------------------------------------------
@dataclass
class RestoreStats:
    """What a restore run did."""

    folders_created: int = 0
    folders_matched: int = 0
    uploaded: int = 0
    skipped: int = 0          # restored by an earlier (interrupted) run into the same mailbox
    failed: int = 0
    interrupted: bool = False
    errors: List[str] = field(default_factory=list)
    # backed-up item id -> (new id, new change key) in the target mailbox
    id_map: Dict[str, Tuple[str, Optional[str]]] = field(default_factory=dict, repr=False)
    settings: Optional[SettingsRestoreStats] = None  # rules, delegates, permissions, user configurations
    archive: Optional["RestoreStats"] = None  # the archive mailbox's restore, when the backup has one

    def summary(self) -> str:
        text = (f"{self.folders_created} folders created, {self.folders_matched} matched; {self.uploaded} items "
                f"uploaded, {self.skipped} already restored, {self.failed} failed")
        if self.settings is not None:
            text += f"; settings: {self.settings.summary()}"
        if self.archive is not None:
            text += f"; archive: {self.archive.summary()}"
        return text + (" -- interrupted" if self.interrupted else "")


class _Corrupt(ValueError):
    pass


def restore_mailbox(account: Account, outdir: Union[str, Path, Any], *, chunk_size: Optional[int] = None,
                    progress: Union[Progress, bool, None] = None,
                    stop: Optional[Callable[[RestoreStats], bool]] = None, resume: bool = True,
                    address_map: Optional[Dict[str, str]] = None, settings: bool = True,
                    archive: bool = True) -> RestoreStats:
    """Restore the backup in ``outdir`` into ``account``'s mailbox: missing folders are created, every
    item is uploaded as a new item. With ``resume`` (the default), a journal in ``outdir`` remembers what
    was restored into which mailbox, so running it again after an interruption skips what is there
    already. ``stop(stats)`` is called after each item; returning True ends the run early.
    With ``settings`` (default) the saved rules, delegates, folder permissions and user configurations are
    re-created (again without duplicates on a second run); ``address_map`` (old address -> new) rewrites the
    addresses in them, and what the target can't take is listed in ``stats.settings.unmapped``. With
    ``archive`` (default) a backed-up archive mailbox is restored into the target's archive.
    Returns :class:`RestoreStats` (``id_map``: backed-up item id -> new (id, changekey)).
    """
    d = open_backup_dir(outdir, create=False)
    if d.read_meta(MANIFEST) is None:
        raise BackupError(f"{outdir} has no {MANIFEST}: not a backup directory")
    if account.version.build < EXCHANGE_2010_SP1:
        raise NotImplementedError(f"Restoring needs UploadItems (Exchange 2010 SP1 or later); the server is "
                                  f"{account.version.build}")
    lock = d.lock()
    manifest = Manifest(d)
    try:
        manifest.load()
        stats = _Restore(account, d, manifest, chunk_size, _progress(progress), stop, resume, address_map,
                         settings).run()
    finally:
        manifest.close()
        lock.release()
    archive_dir = d.sub(ARCHIVE_DIR, create=False) if archive and not stats.interrupted else None
    if archive_dir is not None and archive_dir.read_meta(MANIFEST) is not None:
        if _has_archive(account):
            stats.archive = restore_mailbox(account, archive_dir, chunk_size=chunk_size, progress=progress,
                                            resume=resume, address_map=address_map, settings=settings,
                                            archive=False)
        else:
            stats.errors.append(f"The backup has an archive mailbox, but {account.primary_smtp_address} has no "
                                f"archive: the archive was not restored")
    return stats


class _Restore:
    def __init__(self, account: Account, d: Any, manifest: Manifest, chunk_size: Optional[int],
                 progress: Progress, stop: Optional[Callable[[RestoreStats], bool]], resume: bool,
                 address_map: Optional[Dict[str, str]] = None, settings: bool = True):
        self.address_map = address_map
        self.settings = settings
        self.account = account
        self.dir = d
        self.manifest = manifest
        self.chunk_size = chunk_size
        self.progress = progress
        self.stop = stop
        self.resume = resume
        self.stats = RestoreStats()
        target = f"{account.protocol.service_endpoint}|{account.primary_smtp_address.casefold()}"
        self.journal_name = f"restore-{hashlib.sha256(target.encode('utf-8')).hexdigest()[:16]}.journal"
        self._journal_broken = False
        self.target = target
        self.placeholders: Dict[str, Tuple[str, Optional[str]]] = {}  # src -> placeholder (id, changekey)
        self.intents: set = set()  # srcs an earlier run may have created a placeholder for

    def run(self) -> RestoreStats:
        folder_map = self._folders()
        done = self._load_journal() if self.resume else {}
        try:
            self._upload(folder_map, done)
        finally:
            if self.resume and not self._journal_broken:
                try:
                    self.dir.journal_compact(self.journal_name)
                except OSError as e:
                    log.debug("Could not compact the restore journal: %s", e)
        saved = read_settings(self.dir.read_meta(SETTINGS)) if self.settings else None
        if saved is not None and not self.stats.interrupted:
            self.stats.settings = restore_settings(self.account, saved, folder_map, self.address_map)
            self.stats.errors.extend(self.stats.settings.errors)
        return self.stats

    def _journal(self, line: str) -> None:
        if not self.resume or self._journal_broken:
            return
        try:
            self.dir.journal_append(self.journal_name, line, sync=False)
        except OSError as e:
            self._journal_broken = True
            log.warning("Cannot write the restore journal %s in %s (%s): an interrupted restore would start over",
                        self.journal_name, self.dir, e)

    def _folders(self) -> Dict[str, Any]:
        """Backed-up folder id -> target folder (found or created)."""
        m = self.manifest
        root_did = m.meta.get("root") or "msgfolderroot"
        root, remote = _remote_tree(self.account, root_did)
        by_distinguished = {f.distinguished: f for f in remote if f.distinguished}
        children: Dict[Tuple[str, str], _RemoteFolder] = {}
        children_folded: Dict[Tuple[str, str], _RemoteFolder] = {}
        for f in remote:
            if f.distinguished:  # well-known folders are matched by what they are, not by name
                continue
            children.setdefault((f.parent or "", f.name), f)
            children_folded.setdefault((f.parent or "", f.name.casefold()), f)
        src_root = [fid for fid, e in m.folders.items() if e.get("parent") is None]
        mapping: Dict[str, Any] = {fid: root.obj for fid in src_root}
        order = _parents_first(src_root[0] if src_root else "", [
            _RemoteFolder(fid, e.get("parent"), e.get("name") or "", e.get("kind") or "Folder",
                          e.get("folder_class"), e.get("distinguished")) for fid, e in m.folders.items()
            if e.get("parent") is not None])
        claimed: set = set()  # target folders a backed-up folder was mapped onto
        for f in order:
            parent = mapping.get(f.parent or "") or root.obj
            target = by_distinguished.get(f.distinguished) if f.distinguished else None
            if target is None:
                target = children.get((parent.id, f.name)) or children_folded.get((parent.id, f.name.casefold()))
            if target is not None and target.id not in claimed:
                claimed.add(target.id)
                mapping[f.id] = target.obj
                self.stats.folders_matched += 1
                continue
            mapping[f.id] = self._create_folder(parent, f)
        return mapping

    def _create_folder(self, parent: Any, f: _RemoteFolder) -> Any:
        """Create a folder; if the name is taken (Exchange compares names case-insensitively, so a backup
        from elsewhere may hold 'Case' and 'case'), the next free 'name (2)', 'name (3)' ..."""
        cls = FOLDER_CLASSES.get(f.kind) or Folder
        name = f.name
        for n in range(2, 1000):
            new = cls(name=name, folder_class=f.folder_class) if f.folder_class else cls(name=name)
            res = next(CreateFolder(account=self.account).call(parent, [new]))
            if not isinstance(res, ErrorFolderExists):
                break
            name = f"{f.name} ({n})"
        if isinstance(res, Exception):
            raise res
        if name != f.name:
            log.warning("Folder %r restored as %r: the name is taken in the target mailbox", f.name, name)
        self.stats.folders_created += 1
        log.info("Created folder %r", name)
        return res

    def _load_journal(self) -> Dict[str, Tuple[str, Optional[str]]]:
        """Items restored by earlier runs (src -> (id, changekey)); also fills ``self.placeholders`` and
        ``self.intents`` (see :meth:`_upload`)."""
        done: Dict[str, Tuple[str, Optional[str]]] = {}
        for line in self.dir.journal_lines(self.journal_name):
            try:
                rec = json.loads(line)
                if "intent" in rec:
                    self.intents.update(rec["intent"])
                elif "ph" in rec:
                    self.placeholders[rec["src"]] = (rec["ph"], rec.get("ck"))
                else:
                    done[rec["src"]] = (rec["id"], rec.get("ck"))
            except (ValueError, KeyError, TypeError):
                continue
        return done

    def _token(self, src: str) -> str:
        """The write token of the placeholder for a backed-up item in this target mailbox (deterministic)."""
        return hashlib.sha256(f"{self.target}|{src}".encode("utf-8")).hexdigest()[:32]

    def _write(self, records: List[Dict[str, Any]]) -> None:
        """Journal records, on stable storage when this returns (a killed run must find them)."""
        if not records or not self.resume or self._journal_broken:
            return
        try:
            self.dir.journal_append(self.journal_name,
                                    "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records), sync=True)
        except OSError as e:
            self._journal_broken = True
            log.warning("Cannot write the restore journal %s in %s (%s): an interrupted restore would start over",
                        self.journal_name, self.dir, e)

    def _ensure_placeholders(self, batch: List[Tuple[str, Dict[str, Any]]], folder_map: Dict[str, Any]) -> None:
        """Make sure every item of the batch has a placeholder item in its target folder, created exactly once:

        1. items an interrupted run meant to create placeholders for (``intent`` records) are looked up by
           their deterministic write tokens, so a placeholder created just before a kill is found, not made
           again;
        2. an ``intent`` record is written (and synced) before the others are created;
        3. each new placeholder's id is journaled at once.
        """
        by_folder: Dict[str, List[str]] = {}
        for iid, entry in batch:
            if iid not in self.placeholders:
                by_folder.setdefault(entry["folder"], []).append(iid)
        for src_folder, iids in by_folder.items():
            folder = folder_map[src_folder]
            records: List[Dict[str, Any]] = []
            maybe = [i for i in iids if i in self.intents]
            if maybe:
                found = find_written(self.account, folder, [self._token(i) for i in maybe])
                for i in maybe:
                    ids = found.get(self._token(i))
                    if ids:
                        self.placeholders[i] = ids[0]
                        records.append({"src": i, "ph": ids[0][0], "ck": ids[0][1]})
            missing = [i for i in iids if i not in self.placeholders]
            if missing:
                self._write(records + [{"intent": missing}])
                records = []
                self.intents.update(missing)
                placeholders = [Message(subject="exchangelib restore in progress") for _ in missing]
                results = CreateItem(account=self.account, chunk_size=self.chunk_size).call(
                    placeholders, folder=folder, write_tokens=[self._token(i) for i in missing])
                for i, res in zip(missing, results):
                    if isinstance(res, Exception):
                        continue  # reported when its upload is skipped
                    self.placeholders[i] = (res.id, res.changekey)
                    records.append({"src": i, "ph": res.id, "ck": res.changekey})
            self._write(records)

    def _upload(self, folder_map: Dict[str, Any], done: Dict[str, Tuple[str, Optional[str]]]) -> None:
        """Upload every item not restored yet, exactly once even if this process is killed at any point.

        UploadItems has no idempotency key, so an item is never created by it: each item first gets a
        placeholder (CreateItem with a write token derived from the backed-up id and the target mailbox, see
        :meth:`_ensure_placeholders`), and the upload then *overwrites* that placeholder (CreateAction
        ``Update``), which is safe to repeat. A killed run leaves at worst placeholders, which the next run
        finds and fills.
        """
        m = self.manifest
        todo = []
        for iid, entry in sorted(m.items.items(), key=lambda kv: (kv[1].get("file") or "")):
            if entry.get("deleted"):  # kept by --keep-deleted: no longer in the mailbox that was backed up
                continue
            if iid in done:
                self.stats.skipped += 1
                self.stats.id_map[iid] = done[iid]
                continue
            if entry.get("folder") not in folder_map:
                self._failed(iid, BackupError(f"its folder {entry.get('folder')!r} is not in the manifest"))
                continue
            todo.append((iid, entry))
        batch_size = (self.chunk_size or UploadItems.CHUNK_SIZE) * max(1, self.account.protocol.max_connections) * 2
        stopping: List[bool] = []
        progress = self.progress
        progress.start(len(todo), "Uploading")
        try:
            for start in range(0, len(todo), batch_size):
                if stopping:
                    break
                batch = todo[start:start + batch_size]
                self._ensure_placeholders(batch, folder_map)
                self._upload_batch(batch, folder_map, stopping)
        finally:
            progress.finish()

    def _upload_batch(self, batch: List[Tuple[str, Dict[str, Any]]], folder_map: Dict[str, Any],
                      stopping: List[bool]) -> None:
        sent: Deque[str] = deque()

        def inputs() -> Iterator[Tuple[Any, bytes, Tuple[str, Optional[str]]]]:
            for iid, entry in batch:
                if stopping:  # asked to stop: upload nothing more, but record what is on its way
                    return
                if iid not in self.placeholders:
                    self._failed(iid, BackupError("no placeholder item could be created for it"))
                    self.progress.advance()
                    continue
                try:
                    data = self._read(entry)
                except (OSError, BackupError, _Corrupt) as e:
                    self._failed(iid, e)
                    self.progress.advance()
                    continue
                sent.append(iid)
                yield folder_map[entry["folder"]], data, self.placeholders[iid]

        results = cast(Generator[Any, None, None],
                       UploadItems(account=self.account, chunk_size=self.chunk_size).call(inputs(), create_action=UPDATE))
        try:
            for res in results:
                iid = sent.popleft()
                if isinstance(res, Exception):
                    self._failed(iid, res)
                else:
                    self.stats.uploaded += 1
                    self.stats.id_map[iid] = res
                    # at once: a killed run must not upload this one again
                    self._journal(json.dumps({"src": iid, "id": res[0], "ck": res[1]}) + "\n")
                self.progress.advance()
                if not stopping and self.stop is not None and self.stop(self.stats):
                    self.stats.interrupted = True
                    stopping.append(True)
        finally:
            results.close()

    def _read(self, entry: Dict[str, Any]) -> bytes:
        data = self.dir.read(entry["file"])
        expected = entry.get("sha256")
        if expected and hashlib.sha256(data).hexdigest() != expected:
            raise _Corrupt(f"{entry['file']} is damaged (its checksum doesn't match the manifest)")
        return data

    def _failed(self, iid: str, exc: Exception) -> None:
        self.stats.failed += 1
        self.stats.errors.append(f"{iid}: {exc}")
        log.warning("Could not restore item %s: %s", iid, exc)


# --- command line -----------------------------------------------------------------------------------
ENV_USERNAME = "EXCHANGELIB_USERNAME"
ENV_PASSWORD = "EXCHANGELIB_PASSWORD"
ENV_CLIENT_ID = "EXCHANGELIB_CLIENT_ID"
ENV_TENANT_ID = "EXCHANGELIB_TENANT_ID"
ENV_TOKEN_URL = "EXCHANGELIB_TOKEN_URL"
ENV_CLIENT_SECRET = "EXCHANGELIB_CLIENT_SECRET"
ENV_CLIENT_CERTIFICATE = "EXCHANGELIB_CLIENT_CERTIFICATE"
ENV_CERTIFICATE_PASSWORD = "EXCHANGELIB_CERTIFICATE_PASSWORD"
_AUTH_CHOICES = {"ntlm": NTLM, "basic": BASIC, "kerberos": GSSAPI, "oauth": OAUTH2}
_VERSIONS = {"2010_SP1": EXCHANGE_2010_SP1, "2013": EXCHANGE_2013, "2016": EXCHANGE_2016, "2019": EXCHANGE_2019,
             "O365": EXCHANGE_O365}


class _NoPasswordOnCommandLine(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None) -> None:
        if option_string == "--client-secret":
            parser.error(f"client secrets are not accepted on the command line (other users can read it there): "
                         f"set {ENV_CLIENT_SECRET} or answer the prompt")
        parser.error(f"passwords are not accepted on the command line (other users can read it there): set "
                     f"{ENV_PASSWORD} or answer the prompt")


def _parser(command: str) -> argparse.ArgumentParser:
    directory = "OUTDIR" if command == "backup" else "BACKUPDIR"
    verb = "Back up a mailbox into" if command == "backup" else "Restore a mailbox from the backup in"
    p = argparse.ArgumentParser(
        prog=f"{program_name()} {command}",
        description=f"{verb} {directory}. Without --server, a local EWS server with a sample mailbox is used, so "
                    f"you can try it. The password is read from ${ENV_PASSWORD} or prompted for.")
    p.add_argument("outdir", metavar=directory,
                   help="the backup directory" + (" (made by the backup command)" if command == "restore" else ""))
    p.add_argument("--server", help="EWS URL (https://mail.example.com/EWS/Exchange.asmx) or host name")
    p.add_argument("--user", help=f"login name, e.g. 'EXAMPLE\\john' or john@example.com (default: ${ENV_USERNAME})")
    p.add_argument("--email", help="the mailbox's primary SMTP address (default: --user if it is an address)")
    p.add_argument("--auth", choices=sorted(_AUTH_CHOICES),
                   help="authentication (default: detected from what the server offers, with the password)")
    p.add_argument("--keytab", help="--auth kerberos: log in with this keytab (default: the ticket cache)")
    p.add_argument("--client-id", help=f"--auth oauth: the app's client id (default: ${ENV_CLIENT_ID})")
    p.add_argument("--tenant-id", help=f"--auth oauth: the tenant (default: ${ENV_TENANT_ID})")
    p.add_argument("--token-url", help=f"--auth oauth: the token endpoint (default: ${ENV_TOKEN_URL}, else "
                                       f"Microsoft Entra ID's for the tenant)")
    p.add_argument("--certificate", help=f"--auth oauth: authenticate the app with this certificate (PEM) "
                                         f"instead of a secret (default: ${ENV_CLIENT_CERTIFICATE})")
    p.add_argument("--private-key", help="--auth oauth: the certificate's private key, if not in --certificate")
    p.add_argument("--server-version", choices=sorted(_VERSIONS), dest="server_version",
                   help="Exchange version of the server (default: detected)")
    p.add_argument("--version", choices=sorted(_VERSIONS), dest="server_version", help=argparse.SUPPRESS)
    p.add_argument("--ca-file", help="CA bundle to verify the server's TLS certificate with")
    p.add_argument("--max-connections", type=int, default=None, help="parallel requests (default: 4)")
    p.add_argument("--chunk-size", type=int, default=None, help="items per request (default: 50)")
    if command == "backup":
        p.add_argument("--root", choices=BACKUP_ROOTS, default="msgfolderroot",
                       help="where to start: the folders users see (default) or the whole mailbox")
    if command == "backup":
        p.add_argument("--keep-deleted", action="store_true",
                       help="keep items deleted from the mailbox in the backup (marked deleted) instead of removing "
                            "them")
    if command == "restore":
        p.add_argument("--map", metavar="FILE", dest="address_map",
                       help="rewrite addresses in rules, delegates and permissions: lines of old@domain=new@domain")
    p.add_argument("--no-progress", action="store_true", help="don't show a progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens (never the password)")
    p.add_argument("--password", nargs="?", action=_NoPasswordOnCommandLine, help=argparse.SUPPRESS)
    p.add_argument("--client-secret", nargs="?", action=_NoPasswordOnCommandLine, help=argparse.SUPPRESS)
    return p


def _secret(env: str, prompt: str, what: str) -> str:
    value = os.environ.get(env)
    if value is None:
        try:
            value = getpass.getpass(prompt)
        except EOFError:
            raise SystemExit(f"error: no {what}: set {env} or run in a terminal to be asked") from None
    return value


def _oauth_credentials(args: argparse.Namespace) -> OAuth2Credentials:
    client_id = args.client_id or os.environ.get(ENV_CLIENT_ID)
    if not client_id:
        raise SystemExit(f"error: --auth oauth needs --client-id or {ENV_CLIENT_ID}")
    tenant_id = args.tenant_id or os.environ.get(ENV_TENANT_ID)
    token_url = args.token_url or os.environ.get(ENV_TOKEN_URL)
    if not tenant_id and not token_url:
        raise SystemExit(f"error: --auth oauth needs --tenant-id ({ENV_TENANT_ID}) or --token-url ({ENV_TOKEN_URL})")
    kwargs: Dict[str, Any] = {"tenant_id": tenant_id, "token_url": token_url}
    if args.ca_file and token_url:
        kwargs["verify"] = args.ca_file
    certificate = args.certificate or os.environ.get(ENV_CLIENT_CERTIFICATE)
    if certificate:
        kwargs["client_certificate"] = ClientCertificate(certificate, args.private_key,
                                                         os.environ.get(ENV_CERTIFICATE_PASSWORD))
        return OAuth2Credentials(client_id, **kwargs)
    secret = _secret(ENV_CLIENT_SECRET, f"Client secret of {client_id}: ", "client secret")
    return OAuth2Credentials(client_id, secret, **kwargs)


def _connect(args: argparse.Namespace) -> Account:
    access_type = DELEGATE
    credentials: Optional[BaseCredentials]
    if args.auth == "oauth":
        # App-only: the app impersonates the mailbox (full_access_as_app)
        email = args.email
        if not email:
            raise SystemExit("error: --auth oauth needs --email (the mailbox to open)")
        credentials, access_type = _oauth_credentials(args), IMPERSONATION
    elif args.auth == "kerberos":
        user = args.user or os.environ.get(ENV_USERNAME)
        email = args.email or (user if user and "@" in user else None)
        if not email:
            raise SystemExit("error: --auth kerberos needs --email (the mailbox to open)")
        if args.keytab and not user:
            raise SystemExit("error: --keytab needs --user (the principal in the keytab)")
        credentials = KerberosCredentials(user, keytab=args.keytab) if user else None
    else:
        user = args.user or os.environ.get(ENV_USERNAME)
        if not user:
            if not sys.stdin.isatty():
                raise SystemExit(f"error: give --user or set {ENV_USERNAME}")
            user = input("Username: ").strip()
        email = args.email or (user if "@" in user else None)
        if not email:
            raise SystemExit("error: --email is needed when --user is not an email address")
        password = _secret(ENV_PASSWORD, f"Password for {user}: ", "password")
        credentials = Credentials(username=user, password=password)
    server = args.server
    kwargs: Dict[str, Any] = {}
    if server.startswith(("https://", "http://")):
        kwargs["service_endpoint"] = server
    else:
        kwargs["server"] = server
    if args.auth:
        kwargs["auth_type"] = _AUTH_CHOICES[args.auth]
    if args.server_version:
        kwargs["version"] = Version(build=_VERSIONS[args.server_version])
    if args.ca_file:
        kwargs["verify"] = args.ca_file
    if args.max_connections:
        kwargs["max_connections"] = args.max_connections
    config = Configuration(credentials=credentials, **kwargs)
    return Account(primary_smtp_address=email, config=config, access_type=access_type)


def _cli_message(e: BaseException, args: argparse.Namespace) -> str:
    """The error text for the command line: library advice (``verify=...``) said in option names."""
    text = str(e)
    if "TLS with" in text and "failed" in text:
        short = text.split(": ", 1)[0]
        hint = "If the server uses a private CA or a self-signed certificate, pass --ca-file CA.pem."
        if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
            hint = (f"The server does not speak TLS: if it serves plain http, give the URL with its scheme, "
                    f"--server http://{(args.server or '').split('://')[-1]}/EWS/Exchange.asmx . " + hint)
        return f"{short}. {hint}"
    return text


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


def _exit_code(failed: int, interrupted: bool) -> int:
    if interrupted:
        return 130
    return 1 if failed else 0


def main_backup(argv: Optional[List[str]] = None) -> int:
    """``python -m exchangelib backup [--server URL|HOST] [--user USER] [--email ADDRESS] ... OUTDIR``."""
    args = _parser("backup").parse_args(argv)
    _setup_logging(args.verbose)
    progress = not args.no_progress
    try:
        if args.server:
            account = _connect(args)
            stats = backup_mailbox(account, args.outdir, root=args.root, chunk_size=args.chunk_size,
                                   progress=progress, keep_deleted=args.keep_deleted)
        else:
            stats = _local_backup(args, progress)
    except KeyboardInterrupt:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return 130
    except (BackupError, EWSError, OSError, ValueError, NotImplementedError) as e:
        print(f"error: {_cli_message(e, args)}", file=sys.stderr)
        return 2
    print(f"Backup of {args.outdir}: {stats.summary()}")
    for line in stats.errors[:20]:
        print(f"  {line}", file=sys.stderr)
    return _exit_code(stats.failed, stats.interrupted)


def main_restore(argv: Optional[List[str]] = None) -> int:
    """``python -m exchangelib restore [--server URL|HOST] [--user USER] [--email ADDRESS] ... BACKUPDIR``."""
    args = _parser("restore").parse_args(argv)
    _setup_logging(args.verbose)
    progress = not args.no_progress
    try:
        address_map = read_address_map(args.address_map) if args.address_map else None
        if args.server:
            account = _connect(args)
            stats = restore_mailbox(account, args.outdir, chunk_size=args.chunk_size, progress=progress,
                                    address_map=address_map)
        else:
            stats = _local_restore(args, progress, address_map)
    except KeyboardInterrupt:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return 130
    except (BackupError, EWSError, OSError, ValueError, NotImplementedError) as e:
        print(f"error: {_cli_message(e, args)}", file=sys.stderr)
        return 2
    print(f"Restore from {args.outdir}: {stats.summary()}")
    for line in stats.errors[:20]:
        print(f"  {line}", file=sys.stderr)
    return _exit_code(stats.failed, stats.interrupted)


# --- trying it without a server ---------------------------------------------------------------------
def _local_server() -> Any:
    # Imported here, not at the top: the local server is only needed for the try-it mode.
    from .testing import LocalExchange

    return LocalExchange(auth=("ntlm",))


def _local_backup(args: argparse.Namespace, progress: bool) -> BackupStats:
    with _local_server() as server:
        address = args.email or "john@example.com"
        account = server.account(address)
        print(f"No --server given: backing up a sample mailbox ({address}) on a local EWS server at {server.url}",
              file=sys.stderr)
        seed_sample_mailbox(account)
        return backup_mailbox(account, args.outdir, root=args.root, chunk_size=args.chunk_size, progress=progress)


def _local_restore(args: argparse.Namespace, progress: bool,
                   address_map: Optional[Dict[str, str]] = None) -> RestoreStats:
    with _local_server() as server:
        address = args.email or "john@example.com"
        account = server.account(address)
        print(f"No --server given: restoring into an empty mailbox ({address}) on a local EWS server at "
              f"{server.url}", file=sys.stderr)
        stats = restore_mailbox(account, args.outdir, chunk_size=args.chunk_size, progress=progress, resume=False,
                                address_map=address_map)
        for f in _remote_tree(account, "msgfolderroot")[1]:
            n = FindItem(account=account).count(f.obj)
            if n:
                print(f"  {f.name}: {n} items", file=sys.stderr)
        return stats


def seed_sample_mailbox(account: Account) -> None:
    """A few folders and items of each kind, for trying backup/restore against the local server."""
    inbox = account.inbox
    projects = next(CreateFolder(account=account).call(inbox, [Folder(name="Projects")]))
    if isinstance(projects, Exception):
        raise projects
    archive = next(CreateFolder(account=account).call(projects, [Folder(name="2025 / old")]))
    if isinstance(archive, Exception):
        raise archive
    tz = EWSTimeZone.timezone("Europe/Copenhagen")
    messages = [Message(subject=f"Status report {i}", body=f"Week {i}: all good.", categories=["reports"])
                for i in range(1, 21)]
    messages[0].attachments = [FileAttachment(name="notes.txt", content=b"remember the milk\n")]
    account.bulk_create(folder=inbox, items=messages[:10])
    account.bulk_create(folder=projects, items=messages[10:16])
    account.bulk_create(folder=archive, items=messages[16:])
    account.bulk_create(folder=account.calendar, items=[
        CalendarItem(subject="Planning", start=tz.localize(EWSDateTime(2026, 3, 2, 10, 0)),
                     end=tz.localize(EWSDateTime(2026, 3, 2, 11, 0)), location="Room 1", categories=["work"],
                     required_attendees=[Attendee(mailbox=Mailbox(email_address="mary@example.com"))]),
    ])
    account.bulk_create(folder=account.contacts, items=[Contact(given_name="Mary", surname="Smith")])
    account.bulk_create(folder=account.tasks, items=[Task(subject="Back up the mailbox")])
    # Settings a migration must carry: an Inbox rule and Outlook's category list
    account.create_rule(Rule(display_name="Reports to Projects",
                             conditions=Conditions(contains_subject_strings=["Status report"]),
                             actions=Actions(move_to_folder=projects, forward_to_recipients=["mary@example.com"])))
    account.calendar.create_user_configuration(
        "CategoryList", xml_data=b'<categories><category name="reports" color="7"/><category name="work"/></categories>')
