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
2. List every folder's items with paged IdOnly FindItem requests (cheap: ids and change keys only)
   and compare them with the manifest: items we have with the same change key are skipped, new
   and changed ones are exported, and items that are gone from the server are dropped from the
   backup (it mirrors the mailbox).
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

Credentials come from the environment (``EXCHANGELIB_USERNAME``, ``EXCHANGELIB_PASSWORD``) or a
prompt, never from the command line, and are never logged.

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
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from collections import deque
from typing import IO, Any, Callable, Deque, Dict, Generator, Iterator, List, Optional, Sequence, Tuple, Union, cast

from . import __version__
from .account import DELEGATE, Account
from .configuration import Configuration
from .credentials import Credentials
from .errors import ErrorFolderExists, ErrorItemNotFound, EWSError
from .ewsdatetime import EWSDateTime, EWSTimeZone
from .folders import Folder
from .items import CalendarItem, Contact, Message, Task
from .properties import Attendee, Mailbox
from .properties.attachments import FileAttachment
from .registry import DISTINGUISHED_FOLDER_CLASSES, FOLDER_CLASSES
from .services import CreateFolder, CreateItem, ExportItems, FindFolder, FindItem, GetFolder, UploadItems
from .services.exactly_once import find_written
from .services.upload_items import UPDATE
from .services.shapes import ID_ONLY
from .transport import BASIC, NTLM
from .version import EXCHANGE_2010_SP1, EXCHANGE_2013, EXCHANGE_2016, EXCHANGE_2019, EXCHANGE_O365, Version

try:  # POSIX: one backup process per directory
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

__all__ = ["backup_mailbox", "restore_mailbox", "BackupStats", "RestoreStats", "BackupError", "Progress",
           "safe_name", "main_backup", "main_restore"]

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
    """The backup directory: every path we touch is resolved and checked to lie inside it."""

    def __init__(self, root: Union[str, Path]):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.real = Path(os.path.realpath(self.root))

    def path(self, rel: str) -> Path:
        p = self.real.joinpath(*_checked_rel(rel).split("/"))
        real = Path(os.path.realpath(p))
        if real != self.real and self.real not in real.parents:
            raise BackupError(f"{rel!r} resolves outside the backup directory (a symbolic link?); refusing it")
        return p

    def meta(self, name: str) -> Path:
        return self.real / name

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


class _Lock:
    """An exclusive lock on the backup directory (POSIX), released when the process ends, however it ends."""

    def __init__(self, d: _Dir):
        self._fd: Optional[int] = None
        if fcntl is None:  # pragma: no cover - Windows
            return
        fd = os.open(d.meta(LOCK), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise BackupError(f"Another backup or restore is running in {d.root}") from None
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

    def __init__(self, d: _Dir):
        self.dir = d
        self.meta: Dict[str, Any] = {}
        self.folders: Dict[str, Dict[str, Any]] = {}
        self.items: Dict[str, Dict[str, Any]] = {}
        self._journal: Optional[IO[str]] = None
        self._journal_lines = 0
        self._last_compact = time.monotonic()

    @property
    def exists(self) -> bool:
        return self.dir.meta(MANIFEST).exists()

    def load(self) -> "Manifest":
        path = self.dir.meta(MANIFEST)
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise BackupError(f"{path} is not a readable backup manifest: {e}") from None
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise BackupError(f"{path} is not an exchangelib backup manifest")
            if data.get("version") != FORMAT_VERSION:
                raise BackupError(f"{path} has manifest version {data.get('version')!r}; this exchangelib "
                                  f"reads version {FORMAT_VERSION}")
            self.meta = {k: v for k, v in data.items() if k not in ("folders", "items")}
            self.folders = dict(data.get("folders") or {})
            self.items = dict(data.get("items") or {})
        journal = self.dir.meta(JOURNAL)
        if journal.exists():
            with open(journal, encoding="utf-8") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        log.debug("Ignoring a torn journal line")
                        continue
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
        if self._journal is None:
            self._journal = open(self.dir.meta(JOURNAL), "a", encoding="utf-8")
        self._journal.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
        self._journal.flush()
        os.fsync(self._journal.fileno())
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
        self.dir.write_atomic(self.dir.meta(MANIFEST),
                              json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"),
                              sync=True)
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self.dir.write_atomic(self.dir.meta(JOURNAL), b"", sync=True)
        self._journal_lines = 0
        self._last_compact = time.monotonic()

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None


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
_TREE_FIELDS = ("parent_folder_id", "folder_class", "name", "distinguished_folder_id")


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
                         root_obj)
    folders = []
    for f in found:
        pid = f.parent_folder_id.id if f.parent_folder_id is not None else None
        did = getattr(f, "distinguished_folder_id", None) or well_known.get(f.id)
        folders.append(_RemoteFolder(f.id, pid, f.name or "", _kind(f), f.folder_class, did, f))
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
    interrupted: bool = False
    errors: List[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"{self.folders} folders, {self.items} items: {self.exported} exported ({self.changed} changed), "
                f"{self.unchanged} already backed up, {self.removed} removed, {self.failed} failed")
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


def backup_mailbox(account: Account, outdir: Union[str, Path], *, root: str = "msgfolderroot",
                   chunk_size: Optional[int] = None, page_size: int = 1000,
                   progress: Union[Progress, bool, None] = None,
                   stop: Optional[Callable[[BackupStats], bool]] = None) -> BackupStats:
    """Back up (or bring up to date) ``account``'s mailbox in ``outdir``; see the module docstring.

    ``root`` is the well-known folder to start from ('msgfolderroot': the folders users see; 'root':
    everything). ``chunk_size`` items per ExportItems request, ``page_size`` per FindItem page.
    ``progress``: True for a bar on stderr, or a :class:`Progress`. ``stop(stats)`` is called after each
    exported item; returning True ends the run early, cleanly (the next run resumes).
    Returns :class:`BackupStats`.
    """
    if root not in BACKUP_ROOTS:
        raise ValueError(f"root must be one of {BACKUP_ROOTS}, got {root!r}")
    if account.version.build < EXCHANGE_2010_SP1:
        raise NotImplementedError(f"Backups need ExportItems (Exchange 2010 SP1 or later); the server is "
                                  f"{account.version.build}")
    d = _Dir(outdir)
    lock = _Lock(d)
    manifest = Manifest(d)
    try:
        manifest.load()
        return _Backup(account, d, manifest, root, chunk_size, page_size, _progress(progress), stop).run()
    finally:
        manifest.close()
        lock.release()


class _Backup:
    def __init__(self, account: Account, d: _Dir, manifest: Manifest, root: str, chunk_size: Optional[int],
                 page_size: int, progress: Progress, stop: Optional[Callable[[BackupStats], bool]]):
        self.account = account
        self.dir = d
        self.manifest = manifest
        self.root = root
        self.chunk_size = chunk_size
        self.page_size = page_size
        self.progress = progress
        self.stop = stop
        self.stats = BackupStats()
        self.folder_dirs: Dict[str, Path] = {}
        self.gone_dirs: List[str] = []  # directories of folders that are gone from the mailbox

    def run(self) -> BackupStats:
        m = self.manifest
        owner = m.meta.get("mailbox")
        address = self.account.primary_smtp_address
        if owner and owner.casefold() != address.casefold():
            raise BackupError(f"{self.dir.root} holds the backup of {owner}, not {address}; use another directory")
        if m.meta.get("root") and m.meta["root"] != self.root:
            raise BackupError(f"{self.dir.root} holds a backup from {m.meta['root']!r}, not {self.root!r}")
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
        except KeyboardInterrupt:
            self.stats.interrupted = True
            raise
        finally:
            m.save(completed=_now() if not self.stats.interrupted and not self.stats.failed
                   else m.meta.get("completed"))
        return self.stats

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
            self.dir.path(entry["path"]).mkdir(parents=True, exist_ok=True)
            # Checked again now that it exists: a planted symbolic link is refused here
            self.folder_dirs[f.id] = self.dir.path(entry["path"])
        m.meta.update(mailbox=self.account.primary_smtp_address, root=self.root,
                      server=self.account.protocol.service_endpoint, server_build=str(self.account.version.build),
                      exchangelib=__version__)
        m.save()
        self.stats.folders = len(keep)
        return keep

    # -- step 2: the cheap pass --
    def _scan(self, folders: List[_RemoteFolder]) -> List[Tuple[str, Optional[str], str]]:
        """(item id, change key, folder id) of the items to export; drops items that are gone."""
        m = self.manifest
        seen: Dict[str, None] = {}
        pending: List[Tuple[str, Optional[str], str]] = []
        complete = True
        scan = Progress(stream=self.progress.stream, tty=self.progress.tty, interval=self.progress.interval,
                        unit="folders") if not isinstance(self.progress, _NoProgress) else _NoProgress()
        scan.start(len(folders), "Listing")
        for f in folders:
            try:
                finder = FindItem(account=self.account, page_size=self.page_size)
                for item in finder.call(f.obj, shape=ID_ONLY):
                    iid, ck = item.id, item.changekey
                    seen[iid] = None
                    entry = m.items.get(iid)
                    if entry is not None and entry.get("ck") == ck and entry.get("folder") == f.id \
                            and self._file_ok(entry):
                        self.stats.unchanged += 1
                        continue
                    if entry is not None and entry.get("ck") != ck:
                        self.stats.changed += 1
                    pending.append((iid, ck, f.id))
            except EWSError as e:  # keep what we have of this folder; drop nothing this run
                complete = False
                self.stats.errors.append(f"Could not list folder {f.name!r}: {e}")
                log.warning("Could not list the items of folder %r: %s", f.name, e)
            scan.advance()
        scan.finish()
        self.stats.items = len(seen)
        gone = [iid for iid in m.items if iid not in seen]
        if gone and complete:
            self._drop(gone)
        return pending

    def _remove_gone_dirs(self) -> None:
        """Remove the (now empty) directories of folders that are gone, unless a folder uses them again."""
        in_use = {e["path"] for e in self.manifest.folders.values()}
        for rel in sorted(self.gone_dirs, key=lambda r: r.count("/"), reverse=True):
            if any(p == rel or p.startswith(rel + "/") for p in in_use):
                continue
            try:
                self.dir.path(rel).rmdir()
            except (OSError, BackupError):
                pass  # not empty (files we don't know about) or already gone: leave it

    def _file_ok(self, entry: Dict[str, Any]) -> bool:
        try:
            return self.dir.path(entry["file"]).stat().st_size == entry.get("size")
        except (OSError, BackupError):
            return False

    def _drop(self, ids: List[str]) -> None:
        m = self.manifest
        records = []
        for iid in ids:
            entry = m.items.get(iid)
            if entry is None:
                continue
            self._unlink(entry.get("file"))
            records.append({"op": "drop", "id": iid})
        m.record(records)
        self.stats.removed += len(records)

    def _unlink(self, rel: Optional[str]) -> None:
        if not rel:
            return
        try:
            self.dir.path(rel).unlink()
        except (OSError, BackupError):
            pass

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
        self.dir.write_atomic(self.folder_dirs[folder_id] / name, data)
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

    def summary(self) -> str:
        text = (f"{self.folders_created} folders created, {self.folders_matched} matched; {self.uploaded} items "
                f"uploaded, {self.skipped} already restored, {self.failed} failed")
        return text + (" -- interrupted" if self.interrupted else "")


class _Corrupt(ValueError):
    pass


def restore_mailbox(account: Account, outdir: Union[str, Path], *, chunk_size: Optional[int] = None,
                    progress: Union[Progress, bool, None] = None,
                    stop: Optional[Callable[[RestoreStats], bool]] = None, resume: bool = True) -> RestoreStats:
    """Restore the backup in ``outdir`` into ``account``'s mailbox: missing folders are created, every
    item is uploaded as a new item. With ``resume`` (the default), a journal in ``outdir`` remembers what
    was restored into which mailbox, so running it again after an interruption skips what is there
    already. ``stop(stats)`` is called after each item; returning True ends the run early.
    Returns :class:`RestoreStats` (``id_map``: backed-up item id -> new (id, changekey)).
    """
    if not (Path(outdir) / MANIFEST).is_file():
        raise BackupError(f"{outdir} has no {MANIFEST}: not a backup directory")
    d = _Dir(outdir)
    if account.version.build < EXCHANGE_2010_SP1:
        raise NotImplementedError(f"Restoring needs UploadItems (Exchange 2010 SP1 or later); the server is "
                                  f"{account.version.build}")
    lock = _Lock(d)
    manifest = Manifest(d)
    try:
        manifest.load()
        return _Restore(account, d, manifest, chunk_size, _progress(progress), stop, resume).run()
    finally:
        manifest.close()
        lock.release()


class _Restore:
    def __init__(self, account: Account, d: _Dir, manifest: Manifest, chunk_size: Optional[int],
                 progress: Progress, stop: Optional[Callable[[RestoreStats], bool]], resume: bool):
        self.account = account
        self.dir = d
        self.manifest = manifest
        self.chunk_size = chunk_size
        self.progress = progress
        self.stop = stop
        self.resume = resume
        self.stats = RestoreStats()
        target = f"{account.protocol.service_endpoint}|{account.primary_smtp_address.casefold()}"
        self.journal_path = d.meta(f"restore-{hashlib.sha256(target.encode('utf-8')).hexdigest()[:16]}.journal")
        self.target = target
        self.placeholders: Dict[str, Tuple[str, Optional[str]]] = {}  # src -> placeholder (id, changekey)
        self.intents: set = set()  # srcs an earlier run may have created a placeholder for

    def run(self) -> RestoreStats:
        folder_map = self._folders()
        done = self._load_journal() if self.resume else {}
        journal: Optional[IO[str]] = None
        if self.resume:
            try:
                journal = open(self.journal_path, "a", encoding="utf-8")
            except OSError as e:
                log.warning("Cannot write the restore journal %s (%s): an interrupted restore would start over",
                            self.journal_path, e)
        try:
            self._upload(folder_map, done, journal)
        finally:
            if journal is not None:
                journal.close()
        return self.stats

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
        if not self.journal_path.exists():
            return done
        with open(self.journal_path, encoding="utf-8") as f:
            for line in f:
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

    def _write(self, journal: Optional[IO[str]], records: List[Dict[str, Any]]) -> None:
        if journal is None or not records:
            return
        journal.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
        journal.flush()
        os.fsync(journal.fileno())

    def _ensure_placeholders(self, batch: List[Tuple[str, Dict[str, Any]]], folder_map: Dict[str, Any],
                             journal: Optional[IO[str]]) -> None:
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
                self._write(journal, records + [{"intent": missing}])
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
            self._write(journal, records)

    def _upload(self, folder_map: Dict[str, Any], done: Dict[str, Tuple[str, Optional[str]]],
                journal: Optional[IO[str]]) -> None:
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
                self._ensure_placeholders(batch, folder_map, journal)
                self._upload_batch(batch, folder_map, journal, stopping)
        finally:
            progress.finish()

    def _upload_batch(self, batch: List[Tuple[str, Dict[str, Any]]], folder_map: Dict[str, Any],
                      journal: Optional[IO[str]], stopping: List[bool]) -> None:
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
                    if journal is not None:  # at once: a killed run must not upload this one again
                        journal.write(json.dumps({"src": iid, "id": res[0], "ck": res[1]}) + "\n")
                        journal.flush()
                self.progress.advance()
                if not stopping and self.stop is not None and self.stop(self.stats):
                    self.stats.interrupted = True
                    stopping.append(True)
        finally:
            results.close()

    def _read(self, entry: Dict[str, Any]) -> bytes:
        data = self.dir.path(entry["file"]).read_bytes()
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
_AUTH_CHOICES = {"ntlm": NTLM, "basic": BASIC}
_VERSIONS = {"2010_SP1": EXCHANGE_2010_SP1, "2013": EXCHANGE_2013, "2016": EXCHANGE_2016, "2019": EXCHANGE_2019,
             "O365": EXCHANGE_O365}


class _NoPasswordOnCommandLine(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None) -> None:
        parser.error(f"passwords are not accepted on the command line (other users can read it there): set "
                     f"{ENV_PASSWORD} or answer the prompt")


def _parser(command: str) -> argparse.ArgumentParser:
    verb = "Back up a mailbox into" if command == "backup" else "Restore a backup from"
    p = argparse.ArgumentParser(
        prog=f"python -m exchangelib {command}",
        description=f"{verb} OUTDIR. Without --server, a local EWS server with a sample mailbox is used, so you "
                    f"can try it. The password is read from ${ENV_PASSWORD} or prompted for.")
    p.add_argument("outdir", metavar="OUTDIR", help="the backup directory")
    p.add_argument("--server", help="EWS URL (https://mail.example.com/EWS/Exchange.asmx) or host name")
    p.add_argument("--user", help=f"login name, e.g. 'EXAMPLE\\john' or john@example.com (default: ${ENV_USERNAME})")
    p.add_argument("--email", help="the mailbox's primary SMTP address (default: --user if it is an address)")
    p.add_argument("--auth", choices=sorted(_AUTH_CHOICES), help="authentication (default: detected)")
    p.add_argument("--version", choices=sorted(_VERSIONS), dest="server_version",
                   help="Exchange version of the server (default: detected)")
    p.add_argument("--ca-file", help="CA bundle to verify the server's TLS certificate with")
    p.add_argument("--max-connections", type=int, default=None, help="parallel requests (default: 4)")
    p.add_argument("--chunk-size", type=int, default=None, help="items per request (default: 50)")
    if command == "backup":
        p.add_argument("--root", choices=BACKUP_ROOTS, default="msgfolderroot",
                       help="where to start: the folders users see (default) or the whole mailbox")
    p.add_argument("--no-progress", action="store_true", help="don't show a progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens (never the password)")
    p.add_argument("--password", nargs="?", action=_NoPasswordOnCommandLine, help=argparse.SUPPRESS)
    return p


def _connect(args: argparse.Namespace) -> Account:
    user = args.user or os.environ.get(ENV_USERNAME)
    if not user:
        if not sys.stdin.isatty():
            raise SystemExit(f"error: give --user or set {ENV_USERNAME}")
        user = input("Username: ").strip()
    email = args.email or (user if "@" in user else None)
    if not email:
        raise SystemExit("error: --email is needed when --user is not an email address")
    password = os.environ.get(ENV_PASSWORD)
    if password is None:
        try:
            password = getpass.getpass(f"Password for {user}: ")
        except EOFError:
            raise SystemExit(f"error: no password: set {ENV_PASSWORD} or run in a terminal to be asked") from None
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
    config = Configuration(credentials=Credentials(username=user, password=password), **kwargs)
    return Account(primary_smtp_address=email, config=config, access_type=DELEGATE)


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
                                   progress=progress)
        else:
            stats = _local_backup(args, progress)
    except KeyboardInterrupt:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return 130
    except (BackupError, EWSError, OSError, ValueError, NotImplementedError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"Backup of {args.outdir}: {stats.summary()}")
    for line in stats.errors[:20]:
        print(f"  {line}", file=sys.stderr)
    return _exit_code(stats.failed, stats.interrupted)


def main_restore(argv: Optional[List[str]] = None) -> int:
    """``python -m exchangelib restore [--server URL|HOST] [--user USER] [--email ADDRESS] ... OUTDIR``."""
    args = _parser("restore").parse_args(argv)
    _setup_logging(args.verbose)
    progress = not args.no_progress
    try:
        if args.server:
            account = _connect(args)
            stats = restore_mailbox(account, args.outdir, chunk_size=args.chunk_size, progress=progress)
        else:
            stats = _local_restore(args, progress)
    except KeyboardInterrupt:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return 130
    except (BackupError, EWSError, OSError, ValueError, NotImplementedError) as e:
        print(f"error: {e}", file=sys.stderr)
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


def _local_restore(args: argparse.Namespace, progress: bool) -> RestoreStats:
    with _local_server() as server:
        address = args.email or "john@example.com"
        account = server.account(address)
        print(f"No --server given: restoring into an empty mailbox ({address}) on a local EWS server at "
              f"{server.url}", file=sys.stderr)
        stats = restore_mailbox(account, args.outdir, chunk_size=args.chunk_size, progress=progress, resume=False)
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
