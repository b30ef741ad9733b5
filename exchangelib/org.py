"""Organisation-scale backup and restore on Dask: ``python -m exchangelib backup-org|restore-org``.

One task per mailbox runs the resumable single-mailbox :func:`~exchangelib.backup.backup_mailbox`
(or :func:`~exchangelib.backup.restore_mailbox`) on a ``dask.distributed`` cluster: a LocalCluster
sized to the machine by default, or any scheduler (``--scheduler tcp://host:8786``). The output is a
local directory or any fsspec URL; it looks like this::

    OUTPUT/
      org.json                 which mailbox is in which directory (kept up to date by every run)
      org-summary.json         the report of the last run: per mailbox items, bytes, failures, duration
      org-restore-summary.json the same for the last restore-org from here
      mailboxes/
        john@example.com/      the same layout, manifest and journal as ``backup`` (see exchangelib.backup)
          .lease               while a task works on the mailbox: who, until when (renewed)

Exactly once at scale:

- A mailbox is never worked on by two tasks at once: the task takes a lease in the mailbox's directory
  (:class:`~exchangelib.backup.StoreLease`), renewed while it runs. A lease whose holder's Dask worker
  has left the cluster is taken over at once; any other lease only when it has expired.
- A task whose worker dies is run again by Dask on another worker, and the single-mailbox backup
  resumes from its journal: what was recorded is not downloaded again, and each item ends up in the
  backup exactly once (written atomically, then journalled).

Throttling: Exchange budgets requests per user/app and per mailbox. Every request of every task waits
for a lease from the mailbox's ``distributed.Semaphore`` (``--max-mailbox-concurrency``, the per-mailbox
budget; the one task that holds the mailbox's lease also opens it with that many connections) and one
from the run's cluster-wide Semaphore (``--max-concurrency``, the global budget). When any request gets ``ErrorServerBusy`` (or HTTP 503/429), the
server's back-off is published in the scheduler's metadata and every worker waits it out before its
next request: the whole cluster backs off, not one thread.

Dependencies: ``pip install 'exchangelib[org]'`` (dask[distributed], fsspec); imported only here.

Credentials are any credentials object the library has (``ServiceAccount`` with the
ApplicationImpersonation role, OAuth app-only credentials ...): each mailbox is opened with
``access_type=IMPERSONATION``. They are sent to the workers with the tasks: run the scheduler and
workers on machines and networks you trust with them (Dask can use TLS between them).

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/impersonation-and-ews-in-exchange
"""
from __future__ import annotations

import argparse
import copy
import csv
import getpass
import io
import json
import logging
import os
import pickle
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

from . import __version__
from .account import IMPERSONATION, Account
from .backup import (_AUTH_CHOICES, _VERSIONS, BACKUP_ROOTS, ENV_PASSWORD, ENV_USERNAME, MANIFEST, BackupError,
                     Manifest, Progress, StoreLease, _duration, _NoPasswordOnCommandLine, _setup_logging,
                     backup_mailbox, open_backup_dir, restore_mailbox, safe_name)
from .configuration import Configuration
from .credentials import BaseCredentials, ServiceAccount
from .errors import EWSError
from .protocol import Protocol
from .retry import FaultTolerance, Retriable
from .services import ResolveNames
from .version import Version


def _inproc_on_loopback() -> None:
    """Name in-process Dask addresses (``inproc://<ip>/<pid>/<n>``) after loopback.

    Dask finds that ip by pointing a UDP socket at 8.8.8.8 (no packet is sent); with this, nothing the
    organisation commands start points anywhere but 127.0.0.0/8. Done when this module is imported, so
    in-process clusters made by the caller afterwards are covered too.
    """
    try:
        from distributed.comm import inproc  # noqa: PLC0415 - the optional extra, when it is installed
    except ImportError:
        return
    if not inproc.global_manager._ip:
        inproc.global_manager._ip = "127.0.0.1"


_inproc_on_loopback()

log = logging.getLogger(__name__)

__all__ = ["Connection", "OrgReport", "backup_org", "restore_org", "prepare_connection", "read_mailbox_list",
           "read_address_map",
           "mailboxes_from_directory", "ClusterRetryPolicy", "main_backup_org", "main_restore_org"]

T = TypeVar("T")

ORG_INDEX = "org.json"
SUMMARY = "org-summary.json"
RESTORE_SUMMARY = "org-restore-summary.json"
MAILBOX_DIR = "mailboxes"
FORMAT = "exchangelib-org"
DEFAULT_MAILBOX_CONCURRENCY = 2   # Exchange Online allows few concurrent connections per mailbox
DEFAULT_GLOBAL_CONCURRENCY = 20   # below Exchange Online's EWSMaxConcurrency of 27 per app
DEFAULT_LEASE_TTL = 60.0
_BUSY_REASONS = ("ErrorServerBusy", "HTTP 503", "HTTP 429")
BUDGET_LEASE_TIMEOUT = 10.0  # default seconds until the budget leases of a dead worker come back
_CONFIG_LOCK = threading.Lock()  # dask's configuration is global: one thread at a time changes it


def _budget_config(lease_timeout: float) -> Dict[str, str]:
    """Dask configuration for our semaphores and locks: leases expire after ``lease_timeout`` seconds unless
    renewed (every fifth of that), so the budget a dead worker held comes back that soon."""
    return {"distributed.scheduler.locks.lease-timeout": f"{lease_timeout}s"}


def _semaphore_name(run_id: str) -> str:
    return f"exchangelib-org-{run_id}-ews"


def _mailbox_semaphore_name(run_id: str, mailbox: str) -> str:
    return f"exchangelib-org-{run_id}-mailbox-{mailbox.lower()}"
_DEFAULT_BUSY_PAUSE = 2.0


def _require_dask() -> Any:
    try:
        import distributed  # optional: exchangelib[org]
    except ImportError:
        raise ImportError("Organisation backups run on Dask: pip install 'exchangelib[org]' "
                          "(dask[distributed] and fsspec)") from None
    return distributed


# --- what a worker needs to open a mailbox ----------------------------------------------------------------
class _Portable:
    """Credentials made picklable for the trip to a worker: lock objects (which can't be pickled) are
    replaced by fresh ones on arrival. Works for any credentials class of the library without knowing it."""

    _LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))

    def __init__(self, obj: Any):
        self.obj = obj

    def __getstate__(self) -> Dict[str, Any]:
        obj = self.obj
        try:
            pickle.dumps(obj)
            return {"obj": obj}
        except (TypeError, pickle.PicklingError, AttributeError):
            pass
        clone = copy.copy(obj)
        locks = {}
        for name, value in list(vars(clone).items()):
            if isinstance(value, self._LOCK_TYPES):
                locks[name] = "rlock" if isinstance(value, type(threading.RLock())) else "lock"
                delattr(clone, name)
        return {"obj": clone, "locks": locks}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        obj = state["obj"]
        for name, kind in state.get("locks", {}).items():
            setattr(obj, name, threading.RLock() if kind == "rlock" else threading.Lock())
        self.obj = obj


@dataclass
class Connection:
    """How to open any mailbox of the organisation, on any worker: the EWS endpoint, credentials that may
    impersonate (any credentials object of the library), and optionally the auth type, the server
    version (saves a probe per mailbox) and ``verify`` (a CA bundle path or False)."""

    service_endpoint: str
    credentials: BaseCredentials
    auth_type: Optional[str] = None
    version: Optional[Version] = None
    verify: Any = True

    def __post_init__(self) -> None:
        if not isinstance(self.credentials, BaseCredentials):
            raise TypeError(f"Connection.credentials must be a credentials object of exchangelib, got "
                            f"{type(self.credentials).__name__}")

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["credentials"] = _Portable(self.credentials)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        state = dict(state)
        creds = state["credentials"]
        state["credentials"] = creds.obj if isinstance(creds, _Portable) else creds
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"Connection({self.service_endpoint!r}, credentials={self.credentials!r})"

    def account(self, address: str, max_connections: Optional[int] = None,
                retry_policy: Optional[Any] = None) -> Account:
        config = Configuration(service_endpoint=self.service_endpoint, credentials=self.credentials,
                               auth_type=self.auth_type, version=self.version, verify=self.verify,
                               max_connections=max_connections,
                               retry_policy=retry_policy or self.credentials.default_retry_policy())
        return Account(primary_smtp_address=address, config=config, access_type=IMPERSONATION)


# --- throttling shared by the cluster -------------------------------------------------------------------
class _ClusterBudget:
    """The cluster-wide request budgets and back-off of one run, as seen from one task.

    ``before()`` waits out a cluster-wide pause, then makes sure the calling thread holds one lease of the
    mailbox's Semaphore (``per_mailbox`` requests at once for this mailbox, over the whole cluster) and one
    of the run's global Semaphore (``global_limit``); ``after()`` marks them idle. A thread that sends its
    next request soon reuses its leases (no round trip to the scheduler); leases idle for ``idle_release``
    seconds are given back by a background thread, so idle threads never sit on the budget. Requests in
    flight never exceed the leases held, and leases held never exceed each Semaphore's ``max_leases`` --
    also while a worker the cluster gave up on is still finishing requests for the same mailbox.
    """

    def __init__(self, run_id: str, global_limit: Optional[int], lease_timeout: float = BUDGET_LEASE_TIMEOUT,
                 mailbox: Optional[str] = None, per_mailbox: Optional[int] = None, idle_release: float = 0.2,
                 pause_refresh: float = 0.5):
        distributed = _require_dask()
        import dask  # comes with distributed

        self.run_id = run_id
        self.sems: List[Any] = []  # acquired in this order: the mailbox's, then the global one
        wanted = []
        if mailbox and per_mailbox:
            wanted.append((_mailbox_semaphore_name(run_id, mailbox), per_mailbox))
        if global_limit:
            wanted.append((_semaphore_name(run_id), global_limit))
        # Leases expire unless refreshed (every lease_timeout / 5 seconds), whatever the cluster's
        # configuration says; the first registration of a semaphore fixes its timeout (see _run())
        with _CONFIG_LOCK, dask.config.set(_budget_config(lease_timeout)):
            for name, limit in wanted:
                sem = distributed.Semaphore(max_leases=limit, name=name)
                sem.register()
                self.sems.append(sem)
        self.pause_key = ["exchangelib-org", run_id, "pause"]  # in the scheduler's metadata
        self.worker = distributed.get_worker()  # now, in the task's thread: requests run in other threads
        self.idle_release = idle_release
        self.pause_refresh = pause_refresh
        self._lock = threading.Lock()
        self._leases: Dict[int, Optional[float]] = {}  # thread id -> idle since (None: in use)
        self._pause_until = 0.0
        self._pause_read = 0.0
        self._stop = threading.Event()
        self._reaper: Optional[threading.Thread] = None
        self.busy_seen = 0
        self.paused_for = 0.0

    # -- pause --
    def _read_pause(self) -> float:
        now = time.monotonic()
        if now - self._pause_read >= self.pause_refresh:
            self._pause_read = now
            try:
                value = _on_scheduler("get_metadata", self.worker, keys=self.pause_key, default=0.0)
                self._pause_until = max(self._pause_until, float(value or 0))
            except Exception as e:  # not set yet, or the scheduler is slow: go on with what we know
                log.debug("Could not read the cluster pause: %s", e)
        return self._pause_until

    def wait_pause(self) -> None:
        while True:
            left = self._read_pause() - time.time()
            if left <= 0:
                return
            log.info("The cluster backs off for %.2fs (ErrorServerBusy)", left)
            self.paused_for += left
            time.sleep(left)

    def pause(self, seconds: float) -> None:
        """Make every worker wait ``seconds`` before its next request."""
        until = time.time() + seconds
        with self._lock:
            self.busy_seen += 1
            if until <= self._pause_until:
                return
            self._pause_until = until
        try:
            current = float(_on_scheduler("get_metadata", self.worker, keys=self.pause_key, default=0.0) or 0)
            if until > current:
                _on_scheduler("set_metadata", self.worker, keys=self.pause_key, value=until)
        except Exception as e:  # this worker still waits; the others may not
            log.warning("Could not tell the cluster to back off: %s", e)
        log.warning("Server busy: the whole cluster backs off for %.2fs", seconds)

    # -- leases --
    def before(self) -> None:
        self.wait_pause()
        if not self.sems:
            return
        me = threading.get_ident()
        with self._lock:
            if me in self._leases:
                self._leases[me] = None  # reuse this thread's leases
                return
        taken = []
        try:
            for sem in self.sems:
                sem.acquire()
                taken.append(sem)
        except BaseException:
            for sem in reversed(taken):
                _release(sem)
            raise
        with self._lock:
            self._leases[me] = None
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="exchangelib-org-budget", daemon=True)
                self._reaper.start()

    def after(self) -> None:
        if not self.sems:
            return
        with self._lock:
            me = threading.get_ident()
            if me in self._leases:
                self._leases[me] = time.monotonic()

    def _reap(self) -> None:
        while not self._stop.wait(self.idle_release / 2):
            now = time.monotonic()
            with self._lock:
                idle = [t for t, since in self._leases.items()
                        if since is not None and now - since >= self.idle_release]
                for t in idle:
                    del self._leases[t]
            for _ in idle:
                self._release_one()

    def _release_one(self) -> None:
        for sem in reversed(self.sems):
            _release(sem)

    def close(self) -> None:
        self._stop.set()
        if self._reaper is not None:
            self._reaper.join(timeout=5)
        with self._lock:
            n = len(self._leases)
            self._leases.clear()
        for _ in range(n):
            self._release_one()
        for sem in self.sems:
            try:  # stop refreshing our (now released) leases; close() would delete the semaphore for everyone
                sem.refresh_callback.stop()
            except Exception:
                pass


def _release(sem: Any) -> None:
    try:
        sem.release()
    except Exception as e:  # the scheduler forgets the lease when it times out anyway
        log.debug("Could not release a budget lease: %s", e)


class ClusterRetryPolicy(FaultTolerance):
    """The retry policy of organisation runs: every attempt takes a lease of the cluster-wide budget, and
    ErrorServerBusy / HTTP 503 / 429 make the whole cluster back off (then the request is retried, waiting
    at most ``max_wait`` seconds in total, as :class:`~exchangelib.retry.FaultTolerance` does)."""

    def __init__(self, budget: _ClusterBudget, name: str, max_wait: float = 3600):
        super().__init__(max_wait=max_wait)
        self.budget = budget
        self.name = name

    def run(self, attempt_fn: Callable[[], T], sleep: Callable[[float], None] = time.sleep,
            operation: Optional[str] = None, idempotent: bool = True) -> T:
        budget = self.budget

        def guarded() -> T:
            budget.before()
            try:
                return attempt_fn()
            except Retriable as r:
                if r.reason.startswith(_BUSY_REASONS):
                    budget.pause(r.hint if r.hint and r.hint > 0 else _DEFAULT_BUSY_PAUSE)
                raise
            finally:
                budget.after()

        def cluster_sleep(seconds: float) -> None:
            sleep(seconds)
            budget.wait_pause()

        return super().run(guarded, cluster_sleep, operation, idempotent)

    def __repr__(self) -> str:
        # Protocol.for_config keys its cache on this: one protocol per mailbox task
        return f"ClusterRetryPolicy(run={self.budget.run_id!r}, name={self.name!r}, max_wait={self.max_wait})"


def _forget_protocol(protocol: Protocol) -> None:
    with Protocol._cache_lock:
        for k in [k for k, p in Protocol._cache.items() if p is protocol]:
            Protocol._cache.pop(k)
    protocol.close()


# --- the tasks ------------------------------------------------------------------------------------------
@dataclass
class _Settings:
    run_id: str
    output: str
    global_limit: Optional[int]
    per_mailbox: int
    root: str = "msgfolderroot"
    chunk_size: Optional[int] = None
    lease_ttl: float = DEFAULT_LEASE_TTL
    max_wait: float = 3600.0
    budget_lease_timeout: float = BUDGET_LEASE_TIMEOUT
    scheduler: Optional[str] = None


def mailbox_dir(address: str) -> str:
    """The directory (relative to the output) of a mailbox's backup."""
    return f"{MAILBOX_DIR}/{safe_name(address.strip().lower())}"


def _absolute(location: Any) -> str:
    """A local path made absolute (workers may have another working directory); URLs unchanged."""
    text = str(location)
    return text if "://" in text else os.path.abspath(text)


def _join(base: str, rel: str) -> str:
    return base.rstrip("/") + "/" + rel if "://" in base else os.path.join(base, *rel.split("/"))


def _workers_alive() -> Optional[set]:
    try:
        return set(_on_scheduler("identity", n_workers=-1)["workers"])
    except Exception as e:
        log.debug("Could not ask the scheduler for its workers: %s", e)
        return None


def _on_scheduler(method: str, worker: Any = None, **kwargs: Any) -> Any:
    """Call a scheduler RPC through a worker's own connection (default: the worker running this task). A
    client would do too, but a client made inside a task becomes the process' default client and outlives
    in-process clusters."""
    from distributed import get_worker
    from distributed.utils import sync

    worker = worker or get_worker()
    return sync(worker.loop, getattr(worker.scheduler, method), **kwargs)


def _holder() -> Dict[str, Any]:
    holder: Dict[str, Any] = {}
    try:
        from distributed import get_worker
        w = get_worker()
        holder["worker"] = w.address
        holder["scheduler"] = str(w.scheduler.address)
    except (ImportError, ValueError):
        pass
    return holder


def _take_lease(d: Any, settings: _Settings) -> StoreLease:
    """The mailbox directory's lease: taken over at once from a dead worker, waited for from a live one."""
    me = _holder()

    def is_gone(holder: Dict[str, Any]) -> bool:
        addr = holder.get("worker")
        if not addr or holder.get("scheduler") != me.get("scheduler"):
            return False
        alive = _workers_alive()
        return alive is not None and addr not in alive

    deadline = time.monotonic() + settings.lease_ttl * 1.5
    while True:
        lease = StoreLease(d, ttl=settings.lease_ttl, holder=me, is_gone=is_gone)
        try:
            return lease.acquire()
        except BackupError:
            if time.monotonic() > deadline:
                raise
            time.sleep(min(1.0, settings.lease_ttl / 10))


def _publish(run_id: str) -> Callable[[str, int], None]:
    """A function that tells the client how many items a mailbox task has done (at most twice a second),
    as a Dask worker event the client subscribes to."""
    try:
        from distributed import get_worker
        worker = get_worker()
    except (ImportError, ValueError):  # not on a Dask worker: no live progress, the rest works
        return lambda address, n: None
    topic = f"exchangelib-org-{run_id}-progress"
    last = [0.0]

    def send(address: str, n: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5:
            last[0] = now
            try:
                worker.log_event(topic, {"mailbox": address, "done": n})
            except Exception as e:
                log.debug("Could not report progress: %s", e)
    return send


def _backup_task(address: str, conn: Connection, settings: _Settings) -> Dict[str, Any]:
    """One mailbox: take its lease, back it up (resuming from its journal), report."""
    t0 = time.time()
    rel = mailbox_dir(address)
    d = open_backup_dir(_join(settings.output, rel))
    result: Dict[str, Any] = {"mailbox": address, "dir": rel, "status": "failed", "items": 0, "exported": 0,
                              "unchanged": 0, "removed": 0, "failed": 0, "bytes": 0, "bytes_exported": 0,
                              "errors": [], "worker": _holder().get("worker"), "started": t0}
    lease = None
    budget = None
    account = None
    try:
        resumed = d.read_meta(MANIFEST) is not None
        lease = _take_lease(d, settings)
        result["took_over_from"] = (lease.taken_over or {}).get("worker") if lease.taken_over else None
        budget = _ClusterBudget(settings.run_id, settings.global_limit, settings.budget_lease_timeout,
                                mailbox=address, per_mailbox=settings.per_mailbox)
        policy = ClusterRetryPolicy(budget, name=address, max_wait=settings.max_wait)
        account = conn.account(address, max_connections=settings.per_mailbox, retry_policy=policy)
        publish = _publish(settings.run_id)

        def stop(stats: Any) -> bool:
            publish(address, stats.exported + stats.unchanged)
            if lease is not None and not lease.held:
                raise BackupError(f"Lost the lease on {address}'s backup to another worker")
            return False

        stats = backup_mailbox(account, d, root=settings.root, chunk_size=settings.chunk_size, progress=False,
                               stop=stop)
        m = Manifest(d).load()
        m.close()
        result.update(status="complete" if not stats.failed else "incomplete", items=stats.items,
                      exported=stats.exported, unchanged=stats.unchanged, removed=stats.removed,
                      failed=stats.failed, bytes_exported=stats.bytes_exported,
                      bytes=sum(int(e.get("size") or 0) for e in m.items.values()), errors=stats.errors[:20],
                      resumed=resumed, busy=budget.busy_seen, paused_s=round(budget.paused_for, 3))
    except (BackupError, EWSError, OSError, ValueError, NotImplementedError) as e:
        result["errors"] = [f"{type(e).__name__}: {e}"]
        log.warning("Backup of %s failed: %s", address, e)
    finally:
        if account is not None:
            _forget_protocol(account.protocol)
        if budget is not None:
            budget.close()
        if lease is not None:
            lease.release()
    result["duration_s"] = round(time.time() - t0, 3)
    return result


def _target_lock(run_id: str, target: str, lease_timeout: float) -> Any:
    """A cluster-wide lock on a target mailbox for this run (acquired)."""
    distributed = _require_dask()
    import dask  # comes with distributed

    with _CONFIG_LOCK, dask.config.set(_budget_config(lease_timeout)):  # a dead worker's lock comes back soon
        lock = distributed.Lock(name=f"exchangelib-org-{run_id}-target-{target.lower()}")
        lock.register()  # the lease timeout is fixed now
    lock.acquire()
    return lock


def _restore_task(source: str, target: str, conn: Connection, settings: _Settings) -> Dict[str, Any]:
    t0 = time.time()
    rel = mailbox_dir(source)
    result: Dict[str, Any] = {"mailbox": source, "target": target, "dir": rel, "status": "failed", "uploaded": 0,
                              "skipped": 0, "failed": 0, "folders_created": 0, "errors": [],
                              "worker": _holder().get("worker")}
    lease = budget = account = target_lock = None
    try:
        d = open_backup_dir(_join(settings.output, rel), create=False)
        lease = _take_lease(d, settings)
        # Several backups may be restored into one mailbox (an address map that merges mailboxes): one at a
        # time, so the mailbox's connection budget holds across the cluster
        target_lock = _target_lock(settings.run_id, target, settings.budget_lease_timeout)
        budget = _ClusterBudget(settings.run_id, settings.global_limit, settings.budget_lease_timeout,
                                mailbox=target, per_mailbox=settings.per_mailbox)
        policy = ClusterRetryPolicy(budget, name=target, max_wait=settings.max_wait)
        account = conn.account(target, max_connections=settings.per_mailbox, retry_policy=policy)
        stats = restore_mailbox(account, d, chunk_size=settings.chunk_size, progress=False)
        result.update(status="complete" if not stats.failed else "incomplete", uploaded=stats.uploaded,
                      skipped=stats.skipped, failed=stats.failed, folders_created=stats.folders_created,
                      errors=stats.errors[:20], busy=budget.busy_seen, paused_s=round(budget.paused_for, 3))
    except (BackupError, EWSError, OSError, ValueError, NotImplementedError) as e:
        result["errors"] = [f"{type(e).__name__}: {e}"]
        log.warning("Restore of %s into %s failed: %s", source, target, e)
    finally:
        if account is not None:
            _forget_protocol(account.protocol)
        if budget is not None:
            budget.close()
        if target_lock is not None:
            target_lock.release()
        if lease is not None:
            lease.release()
    result["duration_s"] = round(time.time() - t0, 3)
    return result


# --- the client side ------------------------------------------------------------------------------------
@dataclass
class OrgReport:
    """What an organisation run did; :meth:`to_json` is the machine-readable summary."""

    command: str
    output: str
    started: float
    finished: float = 0.0
    scheduler: Optional[str] = None
    dashboard: Optional[str] = None
    workers: int = 0
    budget: Dict[str, Any] = field(default_factory=dict)
    mailboxes: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return max(self.finished - self.started, 1e-9)

    @property
    def complete(self) -> int:
        return sum(1 for m in self.mailboxes if m.get("status") == "complete")

    @property
    def failed(self) -> int:
        return len(self.mailboxes) - self.complete

    @property
    def items(self) -> int:
        key = "items" if self.command == "backup-org" else "uploaded"
        return sum(int(m.get(key) or 0) for m in self.mailboxes)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "format": FORMAT, "command": self.command, "exchangelib": __version__, "output": self.output,
            "scheduler": self.scheduler, "dashboard": self.dashboard, "workers": self.workers,
            "started": _iso(self.started), "finished": _iso(self.finished), "duration_s": round(self.duration, 3),
            "budget": self.budget,
            "totals": {"mailboxes": len(self.mailboxes), "complete": self.complete, "failed": self.failed,
                       "items": self.items, "bytes": sum(int(m.get("bytes") or 0) for m in self.mailboxes),
                       "item_failures": sum(int(m.get("failed") or 0) for m in self.mailboxes),
                       "items_per_s": round(self.items / self.duration, 2),
                       "mailboxes_per_hour": round(len(self.mailboxes) * 3600 / self.duration, 1),
                       "server_busy": sum(int(m.get("busy") or 0) for m in self.mailboxes)},
            "mailboxes": sorted(self.mailboxes, key=lambda m: m["mailbox"]),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=False)

    def summary(self) -> str:
        d = self.to_dict()["totals"]
        what = f"{d['items']} items, {d['bytes']} bytes" if self.command == "backup-org" else \
            f"{d['items']} items uploaded"
        return (f"{d['complete']}/{d['mailboxes']} mailboxes complete, {d['failed']} failed; {what} in "
                f"{_duration(self.duration)} ({d['items_per_s']} items/s, {d['mailboxes_per_hour']} mailboxes/hour)")


def _iso(t: float) -> Optional[str]:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else None


class _OrgProgress(Progress):
    """Mailboxes done of all, with items per second over the whole cluster."""

    def __init__(self, **kwargs: Any):
        super().__init__(unit="mailboxes", **kwargs)
        self.items = 0

    def line(self) -> str:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        return super().line() + f", {self.items} items ({self.items / elapsed:.1f} items/s)"


class _Cluster:
    """A Dask client: on ``scheduler`` if given, else on a new LocalCluster (closed at the end)."""

    def __init__(self, scheduler: Optional[str] = None, client: Any = None, n_workers: Optional[int] = None,
                 threads_per_worker: Optional[int] = None, processes: bool = True):
        distributed = _require_dask()
        self.cluster = None
        self.own_client = client is None
        if client is not None:
            self.client = client
        elif scheduler:
            self.client = distributed.Client(scheduler)
        else:
            import dask  # comes with distributed

            n = n_workers or max(1, min(os.cpu_count() or 1, 8))
            # processes: on loopback only (in-process workers talk without sockets and take no host)
            where = {"host": "127.0.0.1"} if processes else {}
            # The scheduler looks for expired budget leases (of workers that died) every 2 s, not 10 s
            with dask.config.set({"distributed.scheduler.locks.lease-validation-interval": "2s"}):
                self.cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=threads_per_worker or 4,
                                                        processes=processes, dashboard_address="127.0.0.1:0",
                                                        **where)
            self.client = distributed.Client(self.cluster)

    @property
    def scheduler(self) -> str:
        return str(self.client.scheduler.address)

    @property
    def dashboard(self) -> Optional[str]:
        try:
            return self.client.dashboard_link
        except Exception:
            return None

    def workers(self) -> int:
        try:
            return len(self.client.scheduler_info()["workers"])
        except Exception:
            return 0

    def close(self) -> None:
        if self.own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _run(cluster: _Cluster, command: str, output: str, submit: Callable[[Any], List[Tuple[str, Any]]],
         run_id: str, budget: Dict[str, Any], progress: Union[Progress, bool, None],
         on_done: Optional[Callable[[Dict[str, Any]], None]] = None) -> OrgReport:
    distributed = _require_dask()
    client = cluster.client
    report = OrgReport(command=command, output=output, started=time.time(), scheduler=cluster.scheduler,
                       dashboard=cluster.dashboard, workers=cluster.workers(), budget=budget)
    client.set_metadata(["exchangelib-org", run_id, "pause"], 0.0)
    if budget.get("global"):  # the first registration fixes the semaphore's lease timeout
        import dask  # comes with distributed

        with _CONFIG_LOCK, dask.config.set(_budget_config(budget["lease_timeout_s"])):
            sem = distributed.Semaphore(max_leases=budget["global"], name=_semaphore_name(run_id),
                                        scheduler_rpc=client.scheduler, loop=client.loop)
            sem.register()
            sem.refresh_callback.stop()  # it holds no leases
    live: Dict[str, int] = {}
    live_lock = threading.Lock()
    topic = f"exchangelib-org-{run_id}-progress"

    def on_event(event: Any) -> None:
        try:
            msg = event[1]
            with live_lock:
                live[msg["mailbox"]] = int(msg["done"])
        except (TypeError, KeyError, IndexError, ValueError):
            pass

    try:
        client.subscribe_topic(topic, on_event)
    except Exception as e:  # no live item counts; mailboxes are still counted
        log.debug("No live progress: %s", e)
    bar = progress if isinstance(progress, Progress) else (_OrgProgress() if progress else None)
    futures = submit(client)
    by_future = {f: name for name, f in futures}
    done_items = 0
    if bar is not None:
        bar.start(len(futures), "Mailboxes" if command == "backup-org" else "Restoring")
    pending = set(by_future)
    try:
        while pending:
            finished = {f for f in pending if f.done()}
            if not finished:
                time.sleep(0.2)
            pending -= finished
            for f in finished:
                name = by_future[f]
                try:
                    res = f.result()
                except Exception as e:  # the task itself died too often (KilledWorker) or crashed
                    res = {"mailbox": name, "status": "failed", "errors": [f"{type(e).__name__}: {e}"]}
                report.mailboxes.append(res)
                with live_lock:
                    live.pop(name, None)
                done_items += int(res.get("items" if command == "backup-org" else "uploaded") or 0)
                if on_done is not None:
                    on_done(res)
                if bar is not None:
                    bar.advance()
            if bar is not None and isinstance(bar, _OrgProgress):
                with live_lock:
                    bar.items = done_items + sum(live.values())
                bar.advance(0)
    finally:
        try:
            client.unsubscribe_topic(topic)
        except Exception:
            pass
        _forget_run(client, run_id, budget.get("global"))
        if bar is not None:
            if isinstance(bar, _OrgProgress):
                bar.items = done_items
            bar.finish()
    report.finished = time.time()
    return report


def _forget_run(client: Any, run_id: str, global_limit: Optional[int]) -> None:
    """Remove the run's semaphores and pause time from the scheduler (a long-lived one would keep them)."""
    distributed = _require_dask()
    try:
        client.run_on_scheduler(_close_semaphores, prefix=f"exchangelib-org-{run_id}-")
    except Exception as e:  # e.g. a scheduler without exchangelib: at least the global one goes
        log.debug("Could not remove the run's semaphores in one go: %s", e)
        try:
            if global_limit:
                distributed.Semaphore(max_leases=global_limit, name=_semaphore_name(run_id),
                                      scheduler_rpc=client.scheduler, loop=client.loop).close()
        except Exception as e2:
            log.debug("Could not remove the run's semaphore: %s", e2)
    try:
        client.set_metadata(["exchangelib-org", run_id], None)
    except Exception as e:
        log.debug("Could not remove the run's pause time: %s", e)


def _close_semaphores(dask_scheduler: Any = None, prefix: str = "") -> int:
    """On the scheduler: close the semaphores (and locks) whose names start with ``prefix``."""
    import warnings

    ext = dask_scheduler.extensions["semaphores"]
    names = [n for n in list(ext.max_leases) if isinstance(n, str) and n.startswith(prefix)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # leases of workers that died: gone with it
        for name in names:
            ext.close(name=name)
    return len(names)


def _write_json(output: str, name: str, doc: Dict[str, Any]) -> None:
    d = open_backup_dir(output)
    d.write_meta(name, json.dumps(doc, indent=1, sort_keys=True).encode("utf-8"))


def _read_index(output: str) -> Dict[str, Any]:
    d = open_backup_dir(output)
    raw = d.read_meta(ORG_INDEX)
    if not raw:
        return {"format": FORMAT, "version": 1, "mailboxes": {}}
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise BackupError(f"{output}/{ORG_INDEX} is not readable: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("mailboxes"), dict):
        raise BackupError(f"{output}/{ORG_INDEX} is not an exchangelib organisation index")
    return doc


def _check_budget(global_limit: Optional[int], per_mailbox: int) -> None:
    if global_limit is not None and (not isinstance(global_limit, int) or global_limit < 1):
        raise ValueError(f"max_concurrency must be a positive int or None, got {global_limit!r}")
    if not isinstance(per_mailbox, int) or per_mailbox < 1:
        raise ValueError(f"max_mailbox_concurrency must be a positive int, got {per_mailbox!r}")


def backup_org(mailboxes: Iterable[str], output: str, connection: Connection, *, scheduler: Optional[str] = None,
               client: Any = None, n_workers: Optional[int] = None, threads_per_worker: Optional[int] = None,
               processes: bool = True, max_concurrency: Optional[int] = DEFAULT_GLOBAL_CONCURRENCY,
               max_mailbox_concurrency: int = DEFAULT_MAILBOX_CONCURRENCY, root: str = "msgfolderroot",
               chunk_size: Optional[int] = None, lease_ttl: float = DEFAULT_LEASE_TTL, max_wait: float = 3600,
               progress: Union[Progress, bool, None] = None, retries: int = 2,
               budget_lease_timeout: float = BUDGET_LEASE_TIMEOUT) -> OrgReport:
    """Back up (or bring up to date) every mailbox in ``mailboxes`` into ``output`` (a directory or fsspec
    URL), one resumable task per mailbox on a Dask cluster; see the module docstring.

    The cluster: ``client`` (a ``distributed.Client``), else ``scheduler`` (its address), else a new
    LocalCluster of ``n_workers`` workers (default: the machine's cores) with ``threads_per_worker`` threads
    each, in processes unless ``processes=False``. ``max_concurrency``: requests in flight over the whole
    cluster (None: no limit); ``max_mailbox_concurrency``: connections per mailbox. ``retries``: how often
    Dask runs a task again that raised (a task whose worker died is run again in any case). ``lease_ttl``:
    seconds a mailbox's lease lasts unless renewed; ``budget_lease_timeout``: seconds until the budget
    leases a dead worker held come back (shorter means sooner, but a worker too busy to renew its leases
    in time loses them and the budget may be overbooked).
    Returns an :class:`OrgReport`; ``org.json`` and ``org-summary.json`` are written into ``output``.
    """
    _check_budget(max_concurrency, max_mailbox_concurrency)
    if root not in BACKUP_ROOTS:
        raise ValueError(f"root must be one of {BACKUP_ROOTS}, got {root!r}")
    addresses = _unique(mailboxes)
    if not addresses:
        raise ValueError("backup_org: no mailboxes to back up")
    run_id = secrets.token_hex(6)
    output = _absolute(output)
    index = _read_index(output)
    for a in addresses:
        index["mailboxes"][a] = mailbox_dir(a)
    index["updated"] = _iso(time.time())
    _write_json(output, ORG_INDEX, index)
    connection = prepare_connection(connection, addresses[0])
    cluster = _Cluster(scheduler, client, n_workers, threads_per_worker, processes)
    try:
        if cluster.dashboard and progress:
            print(f"Dask dashboard: {cluster.dashboard}", file=sys.stderr)
        log.info("Dask dashboard: %s", cluster.dashboard)
        settings = _Settings(run_id=run_id, output=output, global_limit=max_concurrency,
                             per_mailbox=max_mailbox_concurrency, root=root, chunk_size=chunk_size,
                             lease_ttl=lease_ttl, max_wait=max_wait, scheduler=cluster.scheduler,
                             budget_lease_timeout=budget_lease_timeout)

        def submit(client: Any) -> List[Tuple[str, Any]]:
            conn = client.scatter(connection, broadcast=True, hash=False)
            return [(a, client.submit(_backup_task, a, conn, settings, key=f"backup-{a}-{run_id}", pure=False,
                                      retries=retries)) for a in addresses]

        report = _run(cluster, "backup-org", output, submit, run_id,
                      {"global": max_concurrency, "per_mailbox": max_mailbox_concurrency,
                       "lease_timeout_s": budget_lease_timeout}, progress)
    finally:
        cluster.close()
    _write_json(output, SUMMARY, report.to_dict())
    return report


def restore_org(source: str, connection: Connection, *, address_map: Optional[Dict[str, str]] = None,
                mailboxes: Optional[Iterable[str]] = None, scheduler: Optional[str] = None, client: Any = None,
                n_workers: Optional[int] = None, threads_per_worker: Optional[int] = None, processes: bool = True,
                max_concurrency: Optional[int] = DEFAULT_GLOBAL_CONCURRENCY,
                max_mailbox_concurrency: int = DEFAULT_MAILBOX_CONCURRENCY, chunk_size: Optional[int] = None,
                lease_ttl: float = DEFAULT_LEASE_TTL, max_wait: float = 3600,
                progress: Union[Progress, bool, None] = None, retries: int = 2,
                budget_lease_timeout: float = BUDGET_LEASE_TIMEOUT) -> OrgReport:
    """Restore the mailboxes backed up in ``source`` (by :func:`backup_org`), each into the mailbox that
    ``address_map`` maps it to (see :func:`read_address_map`; unmapped addresses keep their address).
    ``mailboxes`` restricts it to some of them. Resumable like the single-mailbox restore: a mailbox is
    never restored twice into the same target. Same cluster and budget parameters as :func:`backup_org`.
    The report is also written to ``org-restore-summary.json`` in ``source``.
    """
    _check_budget(max_concurrency, max_mailbox_concurrency)
    source = _absolute(source)
    index = _read_index(source)
    known = dict(index["mailboxes"])
    if not known:
        raise BackupError(f"{source} has no {ORG_INDEX} listing backed-up mailboxes")
    wanted = _unique(mailboxes) if mailboxes is not None else sorted(known)
    missing = [a for a in wanted if a not in known]
    if missing:
        raise BackupError(f"{source} holds no backup of {', '.join(missing[:5])}"
                          f"{' ...' if len(missing) > 5 else ''}")
    pairs = [(a, map_address(a, address_map or {})) for a in wanted]
    connection = prepare_connection(connection, pairs[0][1])
    run_id = secrets.token_hex(6)
    cluster = _Cluster(scheduler, client, n_workers, threads_per_worker, processes)
    try:
        if cluster.dashboard and progress:
            print(f"Dask dashboard: {cluster.dashboard}", file=sys.stderr)
        settings = _Settings(run_id=run_id, output=source, global_limit=max_concurrency,
                             per_mailbox=max_mailbox_concurrency, chunk_size=chunk_size, lease_ttl=lease_ttl,
                             budget_lease_timeout=budget_lease_timeout,
                             max_wait=max_wait, scheduler=cluster.scheduler)

        def submit(client: Any) -> List[Tuple[str, Any]]:
            conn = client.scatter(connection, broadcast=True, hash=False)
            return [(src, client.submit(_restore_task, src, dst, conn, settings, key=f"restore-{src}-{run_id}",
                                        pure=False, retries=retries)) for src, dst in pairs]

        report = _run(cluster, "restore-org", source, submit, run_id,
                      {"global": max_concurrency, "per_mailbox": max_mailbox_concurrency,
                       "lease_timeout_s": budget_lease_timeout}, progress)
    finally:
        cluster.close()
    _write_json(source, RESTORE_SUMMARY, report.to_dict())
    return report


# --- mailbox lists --------------------------------------------------------------------------------------
def _unique(addresses: Iterable[str]) -> List[str]:
    seen: Dict[str, None] = {}
    for a in addresses:
        if not isinstance(a, str) or a.count("@") != 1 or any(c.isspace() for c in a.strip()):
            raise ValueError(f"Not an email address: {a!r}")
        seen.setdefault(a.strip().lower(), None)
    return list(seen)


def read_mailbox_list(text: str) -> List[str]:
    """Addresses from a mailbox list: one per line, or the first column of a CSV file (a header row whose
    first cell has no '@' is skipped); blank lines and lines starting with '#' are ignored."""
    out: List[str] = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        cell = row[0].strip()
        if "@" not in cell and not out:
            continue  # a header
        out.append(cell)
    return _unique(out)


def read_address_map(text: str) -> Dict[str, str]:
    """An address map for :func:`restore_org`: CSV rows ``source,target``. ``*@old.example,*@new.example``
    maps a whole domain. Blank lines and '#' comments are ignored."""
    out: Dict[str, str] = {}
    for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 2 or "@" not in row[0] or "@" not in row[1]:
            if n == 1 and "@" not in row[0]:
                continue  # a header
            raise ValueError(f"Address map line {n}: expected 'source,target' addresses, got {','.join(row)!r}")
        src, dst = row[0].strip().lower(), row[1].strip()
        if src.startswith("*@") != dst.startswith("*@"):
            raise ValueError(f"Address map line {n}: map a domain ('*@old,*@new') or an address, not one to the other")
        out[src] = dst
    return out


def map_address(address: str, address_map: Dict[str, str]) -> str:
    a = address.lower()
    if a in address_map:
        return address_map[a]
    domain_rule = address_map.get("*@" + a.split("@", 1)[1])
    if domain_rule:
        return a.split("@", 1)[0] + "@" + domain_rule[2:]
    return address


def mailboxes_from_directory(account: Account, queries: Sequence[str]) -> List[str]:
    """Mailbox addresses the directory returns for each query (ResolveNames in the ActiveDirectory scope:
    names and addresses that start with the query). Exchange returns at most 100 names per query: a query
    that hits that limit is reported, use narrower ones (e.g. 'a', 'b', ... or 'sales-').
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/resolvenames-operation
    """
    out: List[str] = []
    for query, res in zip(queries, ResolveNames(account=account).call(queries, search_scope="ActiveDirectory")):
        if isinstance(res, Exception):
            log.warning("Directory query %r: %s", query, res)
            continue
        found = [mb.email_address for mb in res
                 if mb.email_address and (getattr(mb, "mailbox_type", None) in (None, "Mailbox"))]
        if len(res) >= 100:
            log.warning("Directory query %r returned %d names, the most Exchange returns: some mailboxes may be "
                        "missing; use narrower queries", query, len(res))
        out.extend(found)
    return _unique(out)


# --- command line ---------------------------------------------------------------------------------------
def _parser(command: str) -> argparse.ArgumentParser:
    backup = command == "backup-org"
    p = argparse.ArgumentParser(
        prog=f"python -m exchangelib {command}",
        description=("Back up many mailboxes on a Dask cluster into OUTPUT (a directory or an fsspec URL such as "
                     "s3://bucket/prefix)" if backup else "Restore the mailboxes backed up in SOURCE") +
        f". The service account that may impersonate the mailboxes logs in with ${ENV_USERNAME} and "
        f"${ENV_PASSWORD}. Without --server, a local EWS server with generated mailboxes is used, so you can "
        f"try it.")
    p.add_argument("output", metavar="OUTPUT" if backup else "SOURCE",
                   help="backup directory or fsspec URL (file://, memory://, s3://, abfs://, gcs:// ...)")
    p.add_argument("--mailboxes", metavar="FILE",
                   help="file with the addresses, one per line or the first column of a CSV file"
                        + ("" if backup else " (default: every mailbox in SOURCE)"))
    if backup:
        p.add_argument("--from-directory", action="append", default=[], metavar="QUERY",
                       help="add the mailboxes whose names or addresses start with QUERY (ResolveNames; repeatable: "
                            "Exchange returns at most 100 names per query)")
        p.add_argument("--directory-as", metavar="ADDRESS",
                       help="mailbox to send the directory queries as (default: the first address of --mailboxes, "
                            "or --user if it is an address)")
        p.add_argument("--root", choices=BACKUP_ROOTS, default="msgfolderroot",
                       help="where to start in each mailbox (default: the folders users see)")
    else:
        p.add_argument("--map", metavar="FILE",
                       help="CSV of 'source,target' addresses ('*@old.example,*@new.example' for a domain)")
    p.add_argument("--server", help="EWS URL (https://mail.example.com/EWS/Exchange.asmx) or host name")
    p.add_argument("--user", help=f"the service account's login (default: ${ENV_USERNAME})")
    p.add_argument("--auth", choices=sorted(_AUTH_CHOICES), help="authentication (default: detected)")
    p.add_argument("--version", choices=sorted(_VERSIONS), dest="server_version",
                   help="Exchange version of the server (default: detected once)")
    p.add_argument("--ca-file", help="CA bundle to verify the server's TLS certificate with")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler (tcp://host:8786); default: a local cluster sized to this machine")
    p.add_argument("--workers", type=int, help="local cluster: number of worker processes (default: cores)")
    p.add_argument("--threads-per-worker", type=int, help="local cluster: mailboxes per worker at once (4)")
    p.add_argument("--max-concurrency", type=int, default=DEFAULT_GLOBAL_CONCURRENCY,
                   help=f"requests in flight over the whole cluster ({DEFAULT_GLOBAL_CONCURRENCY})")
    p.add_argument("--max-mailbox-concurrency", type=int, default=DEFAULT_MAILBOX_CONCURRENCY,
                   help=f"connections per mailbox ({DEFAULT_MAILBOX_CONCURRENCY})")
    p.add_argument("--chunk-size", type=int, help="items per request (default: 50)")
    p.add_argument("--summary", metavar="FILE", help="also write the JSON summary here ('-': standard output)")
    p.add_argument("--generate", type=int, default=20, help=argparse.SUPPRESS)
    p.add_argument("--no-progress", action="store_true", help="don't show a progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens (never the password)")
    p.add_argument("--password", nargs="?", action=_NoPasswordOnCommandLine, help=argparse.SUPPRESS)
    return p


def _connection(args: argparse.Namespace) -> Connection:
    user = args.user or os.environ.get(ENV_USERNAME)
    if not user:
        raise SystemExit(f"error: give --user or set {ENV_USERNAME}")
    password = os.environ.get(ENV_PASSWORD)
    if password is None:
        try:
            password = getpass.getpass(f"Password for {user}: ")
        except EOFError:
            raise SystemExit(f"error: no password: set {ENV_PASSWORD} or run in a terminal to be asked") from None
    server = args.server
    endpoint = server if server.startswith(("https://", "http://")) else f"https://{server}/EWS/Exchange.asmx"
    return Connection(service_endpoint=endpoint, credentials=ServiceAccount(username=user, password=password),
                      auth_type=_AUTH_CHOICES[args.auth] if args.auth else None,
                      version=Version(build=_VERSIONS[args.server_version]) if args.server_version else None,
                      verify=args.ca_file or True)


def prepare_connection(conn: Connection, probe_address: str) -> Connection:
    """The connection with its auth type and server version filled in, detected once here (the version with
    a request that impersonates ``probe_address``), so that each mailbox task doesn't probe the server again.
    """
    if conn.version is not None and conn.auth_type is not None:
        return conn
    account = conn.account(probe_address)
    try:
        version = conn.version or account.version
        auth_type = conn.auth_type or account.protocol.auth_type
    finally:
        _forget_protocol(account.protocol)
    return Connection(conn.service_endpoint, conn.credentials, auth_type, version, conn.verify)


def _print_report(report: OrgReport, args: argparse.Namespace) -> int:
    print(f"{report.command} of {report.output}: {report.summary()}")
    for m in report.mailboxes:
        if m.get("status") != "complete":
            print(f"  {m['mailbox']}: {m.get('status')}: {'; '.join(m.get('errors') or [])[:300]}", file=sys.stderr)
    if args.summary == "-":
        print(report.to_json())
    elif args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            f.write(report.to_json())
    return 0 if not report.failed else 1


def _quiet_dask(verbose: bool) -> None:
    """Dask logs every worker start and stop at INFO; a command-line user wants the progress bar."""
    if not verbose:
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # read by the worker processes
        logging.getLogger("distributed").setLevel(logging.WARNING)


def _read_file(path: str) -> str:
    with open(path, encoding="utf-8-sig") as f:
        return f.read()


def main_backup_org(argv: Optional[List[str]] = None) -> int:
    """``python -m exchangelib backup-org [--mailboxes FILE] [--from-directory QUERY] [--scheduler ADDR] ...
    OUTPUT``."""
    args = _parser("backup-org").parse_args(argv)
    _setup_logging(args.verbose)
    _quiet_dask(args.verbose)
    try:
        _require_dask()
        addresses = read_mailbox_list(_read_file(args.mailboxes)) if args.mailboxes else []
        if args.server:
            conn = _connection(args)
            if args.from_directory:
                probe = args.directory_as or (addresses[0] if addresses else conn.credentials.identity)
                if "@" not in probe:
                    raise SystemExit("error: --from-directory needs --directory-as ADDRESS, --mailboxes, or a "
                                     "--user that is an address")
                account = conn.account(probe)
                try:
                    addresses = _unique(addresses + mailboxes_from_directory(account, args.from_directory))
                finally:
                    _forget_protocol(account.protocol)
            if not addresses:
                raise SystemExit("error: no mailboxes: give --mailboxes FILE and/or --from-directory QUERY")
            conn = prepare_connection(conn, addresses[0])
            report = _backup_org_args(args, addresses, conn)
        else:
            report = _local_backup_org(args, addresses)
    except KeyboardInterrupt:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return 130
    except (BackupError, EWSError, OSError, ValueError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return _print_report(report, args)


def _backup_org_args(args: argparse.Namespace, addresses: List[str], conn: Connection) -> OrgReport:
    return backup_org(addresses, args.output, conn, scheduler=args.scheduler, n_workers=args.workers,
                      threads_per_worker=args.threads_per_worker, max_concurrency=args.max_concurrency,
                      max_mailbox_concurrency=args.max_mailbox_concurrency, root=args.root,
                      chunk_size=args.chunk_size, progress=not args.no_progress)


def main_restore_org(argv: Optional[List[str]] = None) -> int:
    """``python -m exchangelib restore-org [--map FILE] [--mailboxes FILE] [--scheduler ADDR] ... SOURCE``."""
    args = _parser("restore-org").parse_args(argv)
    _setup_logging(args.verbose)
    _quiet_dask(args.verbose)
    try:
        _require_dask()
        addresses = read_mailbox_list(_read_file(args.mailboxes)) if args.mailboxes else None
        address_map = read_address_map(_read_file(args.map)) if args.map else {}
        if args.server:
            conn = _connection(args)
            probe = map_address((addresses or sorted(_read_index(args.output)["mailboxes"]) or ["x@x"])[0],
                                address_map)
            conn = prepare_connection(conn, probe)
            report = restore_org(args.output, conn, address_map=address_map, mailboxes=addresses,
                                 scheduler=args.scheduler, n_workers=args.workers,
                                 threads_per_worker=args.threads_per_worker, max_concurrency=args.max_concurrency,
                                 max_mailbox_concurrency=args.max_mailbox_concurrency, chunk_size=args.chunk_size,
                                 progress=not args.no_progress)
        else:
            report = _local_restore_org(args, addresses, address_map)
    except KeyboardInterrupt:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return 130
    except (BackupError, EWSError, OSError, ValueError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return _print_report(report, args)


# --- trying it without a server -------------------------------------------------------------------------
def _local_connection(server: Any) -> Connection:
    admin = server.user("ewsadmin@example.com")
    return Connection(service_endpoint=server.url, credentials=ServiceAccount(admin.logon_name, admin.password),
                      version=server.account("ewsadmin@example.com").version)


def _local_backup_org(args: argparse.Namespace, addresses: List[str]) -> OrgReport:
    from .testing import LocalExchange  # the try-it mode only

    with LocalExchange(auth=("ntlm",)) as server:
        users = server.generate_mailboxes(args.generate, items=20, seed=0)
        if not addresses:
            addresses = [u.primary_smtp_address for u in users]
        print(f"No --server given: backing up {len(addresses)} generated mailboxes on a local EWS server at "
              f"{server.url}", file=sys.stderr)
        return _backup_org_args(args, addresses, _local_connection(server))


def _local_restore_org(args: argparse.Namespace, addresses: Optional[List[str]],
                       address_map: Dict[str, str]) -> OrgReport:
    from .testing import LocalExchange, User  # the try-it mode only

    index = _read_index(args.output)
    wanted = addresses or sorted(index["mailboxes"])
    with LocalExchange(auth=("ntlm",)) as server:
        for n, a in enumerate(wanted, 1):
            target = map_address(a, address_map)
            if target.lower() not in server.users:
                server.add_user(User(f"restored{n:04d}", None, target))
        print(f"No --server given: restoring into {len(wanted)} empty mailboxes on a local EWS server at "
              f"{server.url}", file=sys.stderr)
        return restore_org(args.output, _local_connection(server), address_map=address_map, mailboxes=wanted,
                           scheduler=args.scheduler, n_workers=args.workers,
                           threads_per_worker=args.threads_per_worker, max_concurrency=args.max_concurrency,
                           max_mailbox_concurrency=args.max_mailbox_concurrency, chunk_size=args.chunk_size,
                           progress=not args.no_progress)
