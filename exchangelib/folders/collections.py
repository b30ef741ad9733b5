"""``FolderCollection``: several folders searched as one.

``folder.children``, ``folder.walk()`` and ``folder.glob(...)`` return one, and so can you::

    FolderCollection(account=account, folders=[account.inbox, account.calendar]).filter(subject="foo")

It is an iterable of folders (with ``len()``, indexing and ``next()``, as the generators these
methods used to return), plus the folder search API (``all``, ``filter``, ``exclude``, ``get``,
``order_by``, ``only``, ``values``, ``values_list``, ``view``). Results come folder by folder, each
folder's sorted and paged on its own, which is also how Exchange answers one FindItem naming several
folders (a result set per folder); slicing, ``count()`` and ``exists()`` cover the whole collection.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional, Tuple

from ..queryset import QuerySet, QuerySetMixin
from ..registry import ITEM_CLASSES
from ..services.find_item import ASSOCIATED, SHALLOW, SOFT_DELETED
from ..services.folders import GetFolder
from .sync import FolderSyncMethods

#: FindFolder traversal: the whole subtree (with SHALLOW, the peer's constants live here too).
DEEP = "Deep"
FOLDER_TRAVERSAL_CHOICES = (SHALLOW, DEEP, SOFT_DELETED)

__all__ = ["FolderCollection", "SingleFolderQuerySet", "DEEP", "SHALLOW", "SOFT_DELETED", "ASSOCIATED", "FOLDER_TRAVERSAL_CHOICES"]


class FolderCollection(QuerySetMixin, FolderSyncMethods):
    """A collection of folders of one account, searchable as one.

    ``folders`` may be any iterable (a generator too): it is read once, on first use. Subscriptions
    (``subscribe_to_pull()`` and the others) cover all its folders in one subscription; ``sync_items()``
    and ``sync_hierarchy()`` need a collection of exactly one folder, since a sync state is per folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem
    """

    def __init__(self, account: Any, folders: Iterable[Any]):
        if account is None:
            raise ValueError("FolderCollection needs the account the folders belong to")
        if isinstance(folders, (str, bytes)) or not hasattr(folders, "__iter__"):
            raise TypeError(f"FolderCollection(folders=...) takes an iterable of folders, got {type(folders).__name__}")
        self.account = account
        self._source: Optional[Iterable[Any]] = folders
        self._folders: Optional[Tuple[Any, ...]] = None
        self._cursor: Optional[Iterator[Any]] = None

    @property
    def folders(self) -> Tuple[Any, ...]:
        """The folders, as a tuple (the iterable given is read on first access)."""
        if self._folders is None:
            folders = tuple(self._source or ())
            for f in folders:
                if not hasattr(f, "supported_item_models"):
                    raise TypeError(f"FolderCollection holds folders, got {type(f).__name__} {f!r}")
            self._folders, self._source = folders, None
        return self._folders

    # --- a sequence of folders ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        return iter(self.folders)

    def __next__(self) -> Any:
        # Kept so code written when children/walk() returned generators (``next(folder.children)``) works.
        if self._cursor is None:
            self._cursor = iter(self.folders)
        return next(self._cursor)

    def __len__(self) -> int:
        return len(self.folders)

    def __getitem__(self, index: Any) -> Any:
        return self.folders[index]

    def __bool__(self) -> bool:
        return bool(self.folders)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FolderCollection):
            return self.folders == other.folders
        if isinstance(other, (list, tuple)):
            return list(self.folders) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        names = ", ".join(repr(getattr(f, "name", None)) for f in self.folders[:10])
        more = f", ... ({len(self.folders)} folders)" if len(self.folders) > 10 else ""
        return f"FolderCollection([{names}{more}])"

    # --- what QuerySet needs --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"{len(self.folders)} folders"

    @property
    def supported_item_models(self) -> Tuple[type, ...]:
        """The item classes of all the folders (so fields of any of them can be searched)."""
        seen: List[type] = []
        for f in self.folders:
            for m in f.supported_item_models:
                if m not in seen:
                    seen.append(m)
        if not seen:  # an empty collection matches nothing, but its lookups are still checked
            seen = list(dict.fromkeys(ITEM_CLASSES.values()))
        return tuple(seen)

    def all(self) -> QuerySet:
        qs = QuerySet(self)
        return qs if self.folders else qs.none()

    # --- change tracking and notifications ------------------------------------------------------------
    def _require_account(self) -> Any:
        return self.account

    def _subscription_folders(self) -> List[Any]:
        if not self.folders:
            raise ValueError("This FolderCollection has no folders to subscribe to (use account.subscribe_to_pull() "
                             "and the like for every folder of the mailbox)")
        return list(self.folders)

    def _single(self, method: str) -> Any:
        if len(self.folders) != 1:
            raise ValueError(f"{method}() works on one folder (a sync state is per folder); this FolderCollection "
                             f"has {len(self.folders)}")
        return self.folders[0]

    def sync_items(self, *args: Any, **kwargs: Any) -> Iterator[Tuple[str, Any]]:
        """The one folder's :meth:`~exchangelib.folders.BaseFolder.sync_items`."""
        return self._single("sync_items").sync_items(*args, **kwargs)

    def sync_hierarchy(self, *args: Any, **kwargs: Any) -> Iterator[Tuple[str, Any]]:
        """The one folder's :meth:`~exchangelib.folders.BaseFolder.sync_hierarchy`."""
        return self._single("sync_hierarchy").sync_hierarchy(*args, **kwargs)


class SingleFolderQuerySet:
    """One folder, to look up on the server: ``SingleFolderQuerySet(account, folder).resolve()``.

    The peer library's way to reach a well-known folder of another mailbox you have rights to::

        shared = SingleFolderQuerySet(account=john, folder=Folder(
            root=john.root, _distinguished_id=DistinguishedFolderId("calendar", mailbox=Mailbox(
                email_address="mary@example.com")))).resolve()

    ``resolve()`` sends GetFolder and returns the folder as the server describes it (id, name, class,
    counts), ready to search.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getfolder
    """

    def __init__(self, account: Any, folder: Any):
        if account is None:
            raise ValueError("SingleFolderQuerySet needs an account")
        self.account = account
        self.folder = folder

    def resolve(self) -> Any:
        """The folder, fetched from the server (GetFolder); raises the server's error, e.g. ErrorAccessDenied."""
        res = next(GetFolder(account=self.account).call([self.folder]))
        if isinstance(res, Exception):
            raise res
        res.account = self.account
        return res

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """Same as :meth:`resolve` (no lookups are supported on a single folder)."""
        if args or kwargs:
            raise ValueError("SingleFolderQuerySet.get() takes no lookups: it names exactly one folder")
        return self.resolve()
