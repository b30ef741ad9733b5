"""The cached folder hierarchy of a mailbox: ``account.folders``.

A :class:`FolderTree` holds the folders below one root (the mailbox's ``root``, the archive's
``archiveroot`` or ``publicfoldersroot``), read once and kept:

- a mailbox or archive tree is read with one paged ``FindFolder`` Deep traversal from its root
  the first time anything navigates it (``parent``, ``children``, ``walk()``, ``glob()``, ``/``,
  ``tree()``, ``account.folders[Calendar]``);
- the public folder tree is read one level at a time, as Exchange allows no Deep traversal there;
- every folder id maps to one Python object, so ``account.inbox`` is the object you reach with
  ``account.root / 'Top of Information Store' / 'Inbox'``, and a reload updates those objects in
  place instead of replacing them;
- creating, renaming, moving and deleting folders through the folder methods update the cache, so
  it stays coherent without a reload; ``account.root.refresh()`` (or ``account.folders.refresh()``)
  throws it away and reads it again, for changes made by someone else.

``account.folders[Calendar]`` lists the folders of a kind; see :meth:`FolderTree.__getitem__`.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findfolder-operation
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from ..errors import EWSError
from ..response_codes import ErrorAccessDenied
from ..properties import ParentFolderId
from ..properties.extended import registered_property_paths
from ..registry import DISTINGUISHED_FOLDER_CLASSES, FOLDER_CLASSES
from ..services import FindFolder, GetFolder
from ..services.shapes import ID_ONLY
from ..version import EXCHANGE_2013
from .base import BaseFolder, Folder

log = logging.getLogger(__name__)

MAILBOX_ROOT = "root"
ARCHIVE_ROOT = "archiveroot"
PUBLIC_FOLDERS_ROOT = "publicfoldersroot"
TREE_ROOTS = (MAILBOX_ROOT, ARCHIVE_ROOT, PUBLIC_FOLDERS_ROOT)

# What the tree reads of each folder. Navigation needs the first three; the counters come along
# because they cost nothing extra and are what people look at.
_TREE_FIELD_NAMES = ("parent_folder_id", "folder_class", "name", "total_count", "child_folder_count",
                     "unread_count", "distinguished_folder_id")

FolderLike = Any


def tree_root_of(distinguished_id: str) -> str:
    """The distinguished id of the root of the tree a well-known folder lives in."""
    if distinguished_id == PUBLIC_FOLDERS_ROOT:
        return PUBLIC_FOLDERS_ROOT
    if distinguished_id.startswith("archive") and distinguished_id != "archive":  # 'archive' is in the mailbox
        return ARCHIVE_ROOT
    return MAILBOX_ROOT


def _tree_fields(version: Any) -> List[Any]:
    """What the tree reads of each folder: its place and counts, and every registered extended property
    (a folder size registered as in the seed example must be there when the folder comes from walk())."""
    fields: List[Any] = []
    for name in _TREE_FIELD_NAMES:
        f = Folder.FIELDS.get(name)
        if f is not None and f.is_supported(version):
            fields.append(f)
    fields.extend(registered_property_paths(FOLDER_CLASSES.values()))
    return fields


def _sort_key(folder: FolderLike) -> Tuple[str, str]:
    name = folder.name or ""
    return name.casefold(), name


def _recast(folder: FolderLike, cls: Any) -> FolderLike:
    """The same folder data as an instance of the more specific class ``cls`` (``Folder`` -> ``Inbox``)."""
    obj = cls.__new__(cls)
    obj.__dict__.update(folder.__dict__)
    return obj


def _copy_fields(src: FolderLike, dst: FolderLike, names: Any) -> None:
    dst_fields = type(dst).FIELDS
    for name in names:
        if name in dst_fields and name in type(src).FIELDS:
            dst._set_field(name, src.__dict__.get(name))


class FolderTree:
    """The cached folders below one root folder. ``account.folders`` is the mailbox's tree.

    ``FolderTree(account, root_id='root', deep=None)``: ``deep`` (default: True except for public
    folders) reads the whole tree with one Deep traversal; otherwise each folder's children are
    read when first needed.

    Reading: ``tree.root``, ``tree[CalendarFolder]``, ``tree.get(folder_id)``, ``iter(tree)``
    (every folder, the root first, depth first), ``len(tree)``, ``folder in tree``,
    ``tree.distinguished(Inbox)``. Refreshing: ``tree.refresh()``.
    """

    def __init__(self, account: Any, root_id: str = MAILBOX_ROOT, deep: Optional[bool] = None,
                 _family: Optional["FolderTree"] = None):
        if root_id not in TREE_ROOTS:
            raise ValueError(f"FolderTree root_id must be one of {TREE_ROOTS}, got {root_id!r}")
        self.account = account
        self.root_id = root_id
        self.deep = (root_id != PUBLIC_FOLDERS_ROOT) if deep is None else bool(deep)
        # The trees of one account share one lock (a move can touch two of them) and know each other.
        self._lock: Any = _family._lock if _family is not None else threading.RLock()
        self._siblings: Dict[str, FolderTree] = _family._siblings if _family is not None else {}
        self._siblings.setdefault(root_id, self)
        self._root: Optional[FolderLike] = None
        self._by_id: Dict[str, FolderLike] = {}
        self._children: Dict[str, List[FolderLike]] = {}  # parent id -> children, for parents we have listed
        self._distinguished: Dict[str, FolderLike] = {}
        self._loaded = False  # deep trees: the whole tree has been read

    def __repr__(self) -> str:
        state = "loaded" if self.is_loaded else "not loaded"
        return f"<FolderTree {self.root_id!r} of {self.account}: {len(self._by_id)} folders, {state}>"

    # --- the trees of one account ------------------------------------------------------------------
    def sibling(self, root_id: str) -> "FolderTree":
        """The tree of the same account below another root ('root', 'archiveroot', 'publicfoldersroot')."""
        with self._lock:
            tree = self._siblings.get(root_id)
            if tree is None:
                tree = FolderTree(self.account, root_id, _family=self)
            return tree

    def tree_for(self, folder: FolderLike) -> "FolderTree":
        """The tree ``folder`` belongs to (the one that registered it, else found from its kind or parent)."""
        tree = folder.__dict__.get("_tree")
        if tree is not None:
            return tree
        did = type(folder).DISTINGUISHED_FOLDER_ID
        if did:
            return self.sibling(tree_root_of(did))
        parent = folder.__dict__.get("_parent")
        if parent is not None:
            return self.tree_for(parent)
        if folder.id is not None:
            for tree in list(self._siblings.values()):
                if folder.id in tree._by_id:
                    return tree
        return self.sibling(MAILBOX_ROOT)

    # --- reading ---------------------------------------------------------------------------------
    @property
    def is_loaded(self) -> bool:
        """Has the hierarchy been read (for a shallow tree: at least the root's children)?"""
        return self._loaded or (self._root is not None and self._root.id in self._children)

    @property
    def root(self) -> FolderLike:
        """The root folder of this tree (fetched with GetFolder on first use)."""
        root = self._root
        if root is None:
            root = self.distinguished(self.root_id)
        return root

    def is_root(self, folder: FolderLike) -> bool:
        """Is ``folder`` this tree's root?"""
        if type(folder).DISTINGUISHED_FOLDER_ID == self.root_id:
            return True
        root = self._root
        return root is not None and (folder is root or (folder.id is not None and folder.id == root.id))

    def distinguished(self, folder: Union[str, type, FolderLike]) -> FolderLike:
        """The well-known folder by class (``Inbox``), instance or id (``'inbox'``), fetched once.

        Raises the server's error when the mailbox has no such folder (``ErrorFolderNotFound``; for
        public folders on a server without them ``ErrorNoPublicFolderReplicaAvailable``).
        """
        did = folder if isinstance(folder, str) else getattr(folder, "DISTINGUISHED_FOLDER_ID", None)
        if not did or did not in DISTINGUISHED_FOLDER_CLASSES:
            raise ValueError(f"Expected a well-known folder class or distinguished folder id, got {folder!r}")
        home = tree_root_of(did)
        if home != self.root_id:
            return self.sibling(home).distinguished(did)
        with self._lock:
            known = self._distinguished.get(did)
            if known is not None:
                return known
            cls = DISTINGUISHED_FOLDER_CLASSES[did]
            result = next(GetFolder(account=self.account).call([cls(account=self.account)]))
            if isinstance(result, Exception):
                raise result
            if result is None:
                raise EWSError(f"GetFolder returned no folder for the well-known folder {did!r}")
            return self._register_distinguished(did, result)

    def get(self, folder_id: str) -> Optional[FolderLike]:
        """The cached folder with this id, or None (reads the tree first if needed)."""
        self._ensure_loaded()
        return self._by_id.get(folder_id)

    def __contains__(self, folder: object) -> bool:
        fid = folder if isinstance(folder, str) else getattr(folder, "id", None)
        return fid is not None and self.get(fid) is not None

    def __iter__(self) -> Iterator[FolderLike]:
        """Every folder of the tree: the root, then the rest depth first, siblings by name."""
        root = self.root
        yield root
        yield from self.walk(root)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:  # a tree always has its root; don't read the whole tree to say so
        return True

    def __getitem__(self, folder_cls: type) -> List[FolderLike]:
        """The folders of one kind, in tree order.

        - A generic kind (``Folder``, ``CalendarFolder``, ``ContactsFolder``, ``TasksFolder``,
          ``SearchFolder``): every folder that is an instance of it.
        - A well-known folder class (``Calendar``, ``Contacts``, ``Inbox``...): the well-known folder
          first, then every other folder of the same element kind holding the same items (its
          ``FolderClass`` is the class's ``CONTAINER_CLASS`` or a sub-class of it, such as
          ``IPF.Appointment.Birthday``; a calendar, contacts or tasks folder without a FolderClass
          counts too). ``account.folders[Calendar]`` is every calendar. Well-known folders without a
          container class (``Root``, ``RecoverableItemsRoot``...) list only themselves.
        """
        if not (isinstance(folder_cls, type) and issubclass(folder_cls, BaseFolder)):
            raise TypeError(f"account.folders[...] takes a folder class such as Calendar or CalendarFolder, "
                            f"got {folder_cls!r}")
        did = folder_cls.DISTINGUISHED_FOLDER_ID
        if not did:
            return [f for f in self if isinstance(f, folder_cls)]
        if tree_root_of(did) != self.root_id:
            return self.sibling(tree_root_of(did))[folder_cls]
        everything = list(self)
        default = self._distinguished.get(did)
        if default is None:
            default = next((f for f in everything if type(f).DISTINGUISHED_FOLDER_ID == did), None)
        container = folder_cls.CONTAINER_CLASS
        out = [default] if default is not None else []
        if container is None:
            return out
        for f in everything:
            if f is default or f.ELEMENT_NAME != folder_cls.ELEMENT_NAME:
                continue
            fc = f.folder_class
            if fc is None:  # no FolderClass: a calendar/contacts/tasks folder is still one, a plain Folder is not
                if f.ELEMENT_NAME != Folder.ELEMENT_NAME:
                    out.append(f)
            elif fc == container or fc.startswith(container + "."):
                out.append(f)
        return out

    # --- navigation (used by the folder objects) ------------------------------------------------------
    def children_of(self, folder: FolderLike) -> List[FolderLike]:
        """The child folders of ``folder``, sorted by name (case-insensitively)."""
        fid = folder.id
        if fid is None:
            return []
        with self._lock:
            if self.deep:
                self._ensure_loaded()
            if not self.deep and fid not in self._children:
                self._list_children(folder)
            return sorted(self._children.get(fid, ()), key=_sort_key)

    def walk(self, folder: FolderLike) -> Iterator[FolderLike]:
        """Every folder below ``folder``, depth first (pre-order), siblings by name."""
        for child in self.children_of(folder):
            yield child
            yield from self.walk(child)

    def parent_of(self, folder: FolderLike) -> Optional[FolderLike]:
        """The parent of a saved folder, or None (for the root, or a folder outside this tree)."""
        if folder.id is None or self.is_root(folder):
            return None
        self._ensure_loaded()
        with self._lock:
            twin: FolderLike = self._by_id.get(folder.id, folder)
            pid = twin.parent_folder_id.id if twin.parent_folder_id is not None else None
            if pid is None:
                return None
            parent = self._by_id.get(pid)
            if parent is None and not self.deep:
                parent = self._fetch_by_id(pid)
            return parent

    # --- keeping the cache coherent (used by the folder methods) --------------------------------------
    def add(self, folder: FolderLike, parent: FolderLike) -> None:
        """Record a folder just created under ``parent``."""
        with self._lock:
            folder._tree = self
            folder._set_field("parent_folder_id", ParentFolderId(parent.id))
            self._by_id[folder.id] = folder
            self._children.setdefault(folder.id, [])
            siblings = self._children.get(parent.id)
            if siblings is not None and all(c.id != folder.id for c in siblings):
                siblings.append(folder)
            self._bump_child_count(parent, +1)

    def remove(self, folder: FolderLike) -> None:
        """Forget a deleted folder and everything below it."""
        with self._lock:
            parent = self._cached_parent(folder)
            twin = self._by_id.get(folder.id, folder)
            self._forget(twin)
            if twin is not folder:
                self._forget(folder)
            if parent is not None:
                self._bump_child_count(parent, -1)

    def move(self, folder: FolderLike, new_parent: FolderLike) -> None:
        """Record that ``folder`` now lives below ``new_parent`` (possibly in another tree)."""
        target = self.tree_for(new_parent)
        with self._lock:
            old_parent = self._cached_parent(folder)
            twin: FolderLike = self._by_id.get(folder.id, folder)
            for f in {id(twin): twin, id(folder): folder}.values():
                f._set_field("parent_folder_id", ParentFolderId(new_parent.id))
                f.__dict__["_parent"] = new_parent
            if old_parent is not None:
                siblings = self._children.get(old_parent.id)
                if siblings is not None:
                    siblings[:] = [c for c in siblings if c.id != folder.id]
                self._bump_child_count(old_parent, -1)
            if target is not self:
                # Another tree (e.g. the archive): what was below the folder is re-read there when needed.
                self._forget(twin)
                target._invalidate()
            with target._lock:
                target._by_id[twin.id] = twin
                twin._tree = target
                new_siblings = target._children.get(new_parent.id)
                if new_siblings is not None and all(c.id != twin.id for c in new_siblings):
                    new_siblings.append(twin)
                target._bump_child_count(new_parent, +1)

    def updated(self, folder: FolderLike, field_names: Any = None) -> None:
        """Copy fields just saved or re-read on ``folder`` to the cached object with the same id, if another,
        and follow a changed parent."""
        with self._lock:
            twin = self._by_id.get(folder.id) if folder.id else None
            if twin is None:
                return
            if twin is not folder:
                _copy_fields(folder, twin, field_names if field_names is not None else
                             [f.name for f in type(folder).FIELDS if f.name in folder.__dict__])
                twin._set_id(folder.id, folder.changekey)
            new_pid = twin.parent_folder_id.id if twin.parent_folder_id is not None else None
            known_parent = next((p for p, kids in self._children.items() if any(c is twin for c in kids)), None)
            if known_parent is not None and new_pid != known_parent:
                self._children[known_parent] = [c for c in self._children[known_parent] if c is not twin]
                if new_pid in self._children:
                    self._children[new_pid].append(twin)

    def refresh(self) -> None:
        """Forget the cached hierarchy and read it again (also re-reads the root's fields)."""
        self.root.refresh()

    def reload(self) -> None:
        """Read the hierarchy again (library use: ``root.refresh()`` calls this)."""
        with self._lock:
            self._invalidate()
            if self.deep:
                self._ensure_loaded()

    # --- internals -----------------------------------------------------------------------------------
    def _invalidate(self) -> None:
        with self._lock:
            self._loaded = False
            self._children = {}

    def _ensure_loaded(self) -> None:
        if self._loaded or not self.deep:
            return
        with self._lock:
            if self._loaded or not self.deep:
                return
            try:
                self._load()
            except ErrorAccessDenied as e:
                # A delegate with rights on some folders but not on the root (reading the tree from the root needs
                # at least FolderVisible there): go folder by folder from the ones the user may see
                log.info("Can't read the folder tree of %s from its root (%s); reading it folder by folder",
                         self.account, e)
                self.deep = False

    def _find(self, parent: FolderLike, traversal: str) -> List[FolderLike]:
        account = self.account
        return list(FindFolder(account=account).call(parent, shape=ID_ONLY, additional_fields=_tree_fields(
            account.version), traversal=traversal))

    def _load(self) -> None:
        """One paged Deep FindFolder from the root; objects of folders we already know are reused."""
        root = self.root
        found = self._find(root, "Deep")
        ids_to_distinguished = {}
        if self.account.version.build < EXCHANGE_2013:  # no DistinguishedFolderId element before 2013
            ids_to_distinguished = self._distinguished_ids()
        by_id: Dict[str, FolderLike] = {root.id: root}
        adopted = []
        for f in found:
            obj = self._adopt(f, f.distinguished_folder_id or ids_to_distinguished.get(f.id))
            by_id[obj.id] = obj
            adopted.append(obj)
        children: Dict[str, List[FolderLike]] = {fid: [] for fid in by_id}
        for obj in adopted:
            pid = obj.parent_folder_id.id if obj.parent_folder_id is not None else None
            if pid in children:
                children[pid].append(obj)
            else:
                log.debug("Folder %r has a parent outside the tree below %r", obj.name, self.root_id)
        self._by_id = by_id
        self._children = children
        self._distinguished = {did: f for did, f in self._distinguished.items() if by_id.get(f.id) is f}
        for obj in adopted:
            did = type(obj).DISTINGUISHED_FOLDER_ID or obj.distinguished_folder_id
            if did:
                self._distinguished.setdefault(did, obj)
        self._loaded = True
        log.debug("Read %d folders below %r of %s", len(by_id), self.root_id, self.account)

    def _list_children(self, folder: FolderLike) -> None:
        """Shallow trees: read one folder's children."""
        kids = [self._adopt(f, f.distinguished_folder_id) for f in self._find(folder, "Shallow")]
        for k in kids:
            self._by_id[k.id] = k
        self._children[folder.id] = kids

    def _fetch_by_id(self, folder_id: str) -> Optional[FolderLike]:
        probe = Folder(account=self.account, id=folder_id)
        result = next(GetFolder(account=self.account).call([probe], shape=ID_ONLY,
                                                           additional_fields=_tree_fields(self.account.version)))
        if isinstance(result, Exception) or result is None:
            return None
        obj = self._adopt(result, result.distinguished_folder_id)
        self._by_id[obj.id] = obj
        return obj

    def _distinguished_ids(self) -> Dict[str, str]:
        """Before Exchange 2013 folders don't say which well-known folder they are: ask by name, in one request."""
        build = self.account.version.build
        wanted = [cls for did, cls in DISTINGUISHED_FOLDER_CLASSES.items()
                  if tree_root_of(did) == self.root_id and (cls.supported_from is None or build >= cls.supported_from)]
        try:
            results = list(GetFolder(account=self.account).call([cls(account=self.account) for cls in wanted],
                                                                shape=ID_ONLY))
        except EWSError as e:
            log.debug("Could not map well-known folder ids: %s", e)
            return {}
        return {res.id: cls.DISTINGUISHED_FOLDER_ID for cls, res in zip(wanted, results)
                if res is not None and not isinstance(res, Exception)}

    def _adopt(self, fresh: FolderLike, did: Optional[str]) -> FolderLike:
        """The cached object for a folder just read: the known object updated in place, or a new one."""
        cls = type(fresh)
        dcls = DISTINGUISHED_FOLDER_CLASSES.get(did) if did else None
        if dcls is not None and issubclass(dcls, cls):
            cls = dcls
        known = self._by_id.get(fresh.id)
        if known is None and did:
            known = self._distinguished.get(did)
        if known is not None and isinstance(known, cls):
            _copy_fields(fresh, known, _TREE_FIELD_NAMES)
            known._set_id(fresh.id, fresh.changekey)
            obj = known
        else:
            obj = fresh if type(fresh) is cls else _recast(fresh, cls)
        obj._tree = self
        return obj

    def _register_distinguished(self, did: str, fetched: FolderLike) -> FolderLike:
        known = self._by_id.get(fetched.id)
        if known is not None and type(known) is type(fetched):
            _copy_fields(fetched, known, [f.name for f in type(fetched).FIELDS if f.name in fetched.__dict__])
            known._set_id(fetched.id, fetched.changekey)
            obj = known
        else:
            obj = fetched
            if known is not None:  # a more specific class than the tree had: swap the objects
                for kids in self._children.values():
                    kids[:] = [obj if c is known else c for c in kids]
            self._by_id[obj.id] = obj
        obj._tree = self
        self._distinguished[did] = obj
        if did == self.root_id:
            self._root = obj
        return obj

    def _cached_parent(self, folder: FolderLike) -> Optional[FolderLike]:
        """The parent as far as the cache knows, without reading anything from the server."""
        twin: FolderLike = self._by_id.get(folder.id, folder) if folder.id else folder
        pid = twin.parent_folder_id.id if twin.parent_folder_id is not None else None
        parent = self._by_id.get(pid) if pid else None
        return parent if parent is not None else folder.__dict__.get("_parent")

    def _bump_child_count(self, parent: FolderLike, delta: int) -> None:
        """Keep ``child_folder_count`` of the parent (and of its cached twin) in step with our changes."""
        twin = self._by_id.get(parent.id) if parent.id else None
        for f in {id(parent): parent, id(twin): twin}.values():
            if f is not None and f.child_folder_count is not None:
                f._set_field("child_folder_count", max(0, f.child_folder_count + delta))

    def _forget(self, folder: FolderLike, detach: bool = True) -> None:
        """Drop a folder and its subtree from the maps (``detach``: also from its parent's child list)."""
        fid = folder.id
        if fid is None:
            return
        for child in self._children.pop(fid, ()):
            if child.id != fid:
                self._forget(child, detach=False)
        if self._by_id.get(fid) is folder:
            del self._by_id[fid]
        for did in [d for d, f in self._distinguished.items() if f.id == fid]:
            del self._distinguished[did]
        if not detach:
            return
        pid = folder.parent_folder_id.id if folder.parent_folder_id is not None else None
        lists = [self._children[pid]] if pid in self._children else []
        if not any(c.id == fid for kids in lists for c in kids):
            lists = list(self._children.values())  # the recorded parent is stale: look everywhere
        for kids in lists:
            if any(c.id == fid for c in kids):
                kids[:] = [c for c in kids if c.id != fid]


__all__ = ["FolderTree", "TREE_ROOTS", "MAILBOX_ROOT", "ARCHIVE_ROOT", "PUBLIC_FOLDERS_ROOT", "tree_root_of"]
