"""What folders do: the item API of a folder (add, find, get, delete items), refreshing counters, and
creating, renaming, moving, emptying and deleting the folder itself.

Kept apart from the folder *data* classes (``base.py``, ``known.py``) so the declarative models stay
free of network logic; :class:`~exchangelib.folders.base.BaseFolder` mixes this in.
"""
from __future__ import annotations

import logging
from typing import Any, ClassVar, Iterable, List, Optional, Tuple, Union

from ..errors import ErrorFolderNotFound, EWSError
from ..people import PeopleQuerySet
from ..registry import ITEM_CLASSES
from ..restriction import FieldPath, Q, Restriction, restriction_xml
from ..services import (CreateFolder, DeleteFolder, DeleteItem, EmptyFolder, FindFolder, FindItem, GetFolder,
                        MoveFolder, UpdateFolder)
from ..services.delete_item import HARD_DELETE, MOVE_TO_DELETED_ITEMS
from ..services.shapes import ALL_PROPERTIES, DEFAULT, ID_ONLY, SHAPE_CHOICES

log = logging.getLogger(__name__)

# Which item kinds live in which kind of folder, by FolderClass prefix
_ITEM_KINDS_BY_CONTAINER = (
    ("IPF.Appointment", ("CalendarItem",)),
    ("IPF.Contact", ("Contact", "DistributionList")),
    ("IPF.Task", ("Task",)),
    ("IPF.Note", ("Message", "MeetingRequest", "MeetingResponse", "MeetingCancellation", "PostItem")),
    ("IPF.Post", ("PostItem", "Message")),
)
_ALL_KINDS = ("Message", "CalendarItem", "Contact", "DistributionList", "Task", "PostItem", "MeetingRequest",
              "MeetingResponse", "MeetingCancellation")


class FolderMethods:
    """Mixed into every folder class. Needs ``self.account`` (set when folders are fetched via an Account)."""

    account: Any
    id: Optional[str]
    changekey: Optional[str]
    _folder_tree: Any  # from FolderNavigation
    _set_id: Any
    _set_field: Any
    FIELDS: ClassVar[Any]  # from EWSElement
    DISTINGUISHED_FOLDER_ID: ClassVar[Optional[str]]  # from BaseFolder

    def _require_account(self) -> Any:
        if self.account is None:
            raise ValueError(f"{type(self).__name__} {getattr(self, 'name', '')!r} has no account; get folders "
                             f"through an Account (e.g. account.calendar) to use them")
        return self.account

    @property
    def supported_item_models(self) -> Tuple[type, ...]:
        """The item classes that live in this folder, most specific first (used to resolve search fields)."""
        container = getattr(self, "folder_class", None) or getattr(type(self), "CONTAINER_CLASS", None) or ""
        for prefix, kinds in _ITEM_KINDS_BY_CONTAINER:
            if container.startswith(prefix):
                return tuple(ITEM_CLASSES[k] for k in kinds if k in ITEM_CLASSES)
        return tuple(ITEM_CLASSES[k] for k in _ALL_KINDS if k in ITEM_CLASSES)

    def people(self) -> Any:
        """The personas of this folder (FindPeople), as a lazy QuerySet: ``account.contacts.people().filter(
        surname='Major')``; the distinguished ``directory`` folder holds the organisation's people.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findpeople-operation
        """
        self._require_account()
        return PeopleQuerySet(self)

    # --- the classic item API -------------------------------------------------------------------------
    def add_items(self, items: Iterable[Any], chunk_size: Optional[int] = None) -> List[Any]:
        """Create items in this folder. Returns, per item, the saved item or the exception for it."""
        return self._require_account().bulk_create(folder=self, items=items, chunk_size=chunk_size)

    def find_items(self, *args: Union[Q, str, Restriction], shape: str = ID_ONLY,
                   order_by: Optional[Iterable[str]] = None, max_items: Optional[int] = None,
                   page_size: Optional[int] = None, **lookups: Any) -> List[Any]:
        """Search this folder.

        Accepts keyword lookups (``start__lt=dt, categories__contains=['a']``), Q objects, a
        :class:`~exchangelib.restriction.Restriction`, or a Python-like expression string, combined with AND.
        With ``shape=IdOnly`` returns ``(id, changekey)`` tuples; with ``Default``/``AllProperties``, items.
        """
        if shape not in SHAPE_CHOICES:
            raise ValueError(f"shape must be one of {SHAPE_CHOICES}, got {shape!r}")
        account = self._require_account()
        q = Q(**lookups)
        for a in args:
            if isinstance(a, str):
                a = Restriction(a)
            if isinstance(a, Restriction):
                a = a.q
            if not isinstance(a, Q):
                raise TypeError(f"find_items() takes Q objects, Restriction objects or expression strings, "
                                f"got {type(a).__name__}")
            q = q & a
        models = self.supported_item_models
        restriction = restriction_xml(q, models, account.version)
        order_fields = []
        for name in order_by or ():
            descending = name.startswith("-")
            order_fields.append((FieldPath.from_string(name[1:] if descending else name, models), descending))
        svc = FindItem(account=account, page_size=page_size)
        # FindItem cannot return every property (e.g. Body); AllProperties is served by FindItem + GetItem.
        find_shape = ID_ONLY if shape in (ID_ONLY, ALL_PROPERTIES) else DEFAULT
        found = list(svc.call(self, shape=find_shape, restriction=restriction, order_fields=order_fields,
                              max_items=max_items))
        if shape == ID_ONLY:
            return [(i.id, i.changekey) for i in found]
        if shape == DEFAULT:
            for i in found:
                i.folder = self
            return found
        return self.get_items(found)

    def get_items(self, ids: Iterable[Any], only_fields: Optional[Iterable[str]] = None) -> List[Any]:
        """Fetch items by id: items, ``(id, changekey)`` tuples or id strings. Exceptions in place of failures."""
        return list(self._require_account().fetch(ids, only_fields=only_fields, folder=self))

    def delete_items(self, ids: Iterable[Any], delete_type: str = "HardDelete",
                     send_meeting_cancellations: str = "SendToNone",
                     affected_task_occurrences: str = "AllOccurrences") -> List[Any]:
        """Delete items by id. Returns True per deleted input, or the exception for it."""
        return list(DeleteItem(account=self._require_account()).call(
            ids, delete_type=delete_type, send_meeting_cancellations=send_meeting_cancellations,
            affected_task_occurrences=affected_task_occurrences))

    # --- refreshing -----------------------------------------------------------------------------------
    def refresh(self) -> "FolderMethods":
        """Re-read this folder's fields (name, counters...) from the server.

        On a root folder (``account.root.refresh()``) this also throws away the cached folder
        hierarchy and reads it again.
        """
        account = self._require_account()
        if self.id is None and type(self).DISTINGUISHED_FOLDER_ID is None:
            raise ValueError(f"{type(self).__name__} {getattr(self, 'name', None)!r} has not been saved; "
                             f"there is nothing to refresh")
        # AllProperties leaves out the permissions; ask for them too (a typed PermissionSet)
        extra = [type(self).FIELDS["permission_set"]] if "permission_set" in type(self).FIELDS else None
        fresh = next(GetFolder(account=account).call([self], shape=ALL_PROPERTIES, additional_fields=extra))
        if isinstance(fresh, Exception):
            raise fresh
        if fresh is None:
            raise EWSError(f"GetFolder returned no folder for {type(self).__name__} {getattr(self, 'name', None)!r}")
        for f in type(self).FIELDS:
            if f.name in type(fresh).FIELDS:
                self._set_field(f.name, getattr(fresh, f.name))
        tree = self._folder_tree()
        if tree.is_root(self):
            tree.reload()
        else:
            tree.updated(self)
        return self

    # --- creating, changing and deleting the folder itself -----------------------------------------------
    def save(self, update_fields: Optional[Iterable[str]] = None) -> "FolderMethods":
        """Create the folder (CreateFolder) if it has no id yet, else save changed fields (UpdateFolder).

        A new folder needs a parent and a name: ``Folder(parent=account.inbox, name='Projects').save()``;
        without a ``folder_class`` it gets its kind's (``IPF.Note`` for a ``Folder``, ``IPF.Appointment``
        for a ``CalendarFolder``...). Its counters start at 0.
        On an existing folder ``save()`` sends every writable field that has a value (the name, the folder
        class, retention tags...) except ``permission_set``; ``save(update_fields=['name'])`` sends only
        those, and clears fields that are None. Exchange's errors are raised, e.g. ``ErrorFolderExists``
        when the parent already has a folder of that name.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createfolder-operation
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updatefolder-operation
        """
        if self.id is None:
            if update_fields is not None:
                raise ValueError(f"{type(self).__name__} has not been created yet; save() it without update_fields")
            return self._create()
        return self._update(update_fields)

    def _create(self) -> "FolderMethods":
        cls_name = type(self).__name__
        if type(self).DISTINGUISHED_FOLDER_ID:
            raise ValueError(f"{cls_name} is a well-known folder that always exists; get it from the account "
                             f"(e.g. account.folders.distinguished({cls_name})) instead of creating it")
        parent = self.__dict__.get("_parent")
        if parent is None:
            raise ValueError(f"{cls_name}(parent=..., name=...) needs a parent folder to be created in")
        if not getattr(self, "name", None):
            raise ValueError(f"{cls_name}.name is required to create a folder")
        account = self._require_account()
        if getattr(self, "folder_class", None) is None and type(self).CONTAINER_CLASS:  # type: ignore[attr-defined]
            # Say what the folder holds (IPF.Note for a plain Folder), so it is known here and in Outlook.
            self.folder_class = type(self).CONTAINER_CLASS  # type: ignore[attr-defined]
        tree = self._folder_tree()
        if parent.id is None:  # e.g. Inbox(account=...): use the cached, fetched object instead
            parent = tree.distinguished(parent)
            self.__dict__["_parent"] = parent
        result = next(CreateFolder(account=account).call(parent, [self]))
        if isinstance(result, Exception):
            raise result
        self._set_id(result.id, result.changekey)
        # A new folder is empty; say so instead of leaving the counters unknown.
        for counter in ("total_count", "child_folder_count", "unread_count"):
            if counter in type(self).FIELDS:
                self._set_field(counter, 0)
        tree.add(self, parent)
        return self

    def _update(self, update_fields: Optional[Iterable[str]]) -> "FolderMethods":
        account = self._require_account()
        version = account.version
        if update_fields is None:
            names = [f.name for f in type(self).FIELDS
                     if not f.is_read_only and f.is_supported(version) and f.name != "permission_set"
                     and self.__dict__.get(f.name) is not None]
        else:
            if isinstance(update_fields, str):
                raise TypeError(f"update_fields must be a list of field names, not the str {update_fields!r}")
            names = list(update_fields)
            for name in names:
                if name not in type(self).FIELDS:
                    raise ValueError(f"{type(self).__name__} has no field {name!r}")
        if not names:
            raise ValueError(f"{type(self).__name__} has no fields to save")
        result = next(UpdateFolder(account=account).call([(self, names)]))
        if isinstance(result, Exception):
            raise result
        if result is not None and result.id:
            self._set_id(result.id, result.changekey)
        self._folder_tree().updated(self, names)
        return self

    def delete(self, delete_type: str = HARD_DELETE) -> None:
        """Delete the folder with everything in it (DeleteFolder).

        ``delete_type``: ``'HardDelete'`` (default; gone for good), ``'SoftDelete'`` (kept in the dumpster)
        or ``'MoveToDeletedItems'`` (the folder moves into Deleted Items and keeps its id). After a hard or
        soft delete the object has no id any more; ``save()`` would create the folder again. Deleting a
        well-known folder raises ``ErrorDeleteDistinguishedFolder``.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deletefolder-operation
        """
        account = self._require_saved()
        tree = self._folder_tree()
        trash = None
        if delete_type == MOVE_TO_DELETED_ITEMS:
            # Exchange moves the folder into Deleted Items, unless it is in there already: then it is deleted.
            trash = tree.distinguished("archivedeleteditems" if tree.root_id == "archiveroot" else "deleteditems")
            if any(p.id == trash.id for p in self.parts[:-1]):  # type: ignore[attr-defined]
                trash = None
        result = next(DeleteFolder(account=account).call([self], delete_type=delete_type))
        if isinstance(result, Exception):
            raise result
        if trash is not None:
            tree.move(self, trash)
            return
        tree.remove(self)
        self._set_id(None)

    def empty(self, delete_type: str = HARD_DELETE, delete_sub_folders: bool = False) -> None:
        """Delete every item in the folder (EmptyFolder); with ``delete_sub_folders=True`` its subfolders too.

        Exchange refuses to empty some folders (the root, search folders): ``ErrorCannotEmptyFolder``.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/emptyfolder-operation
        """
        account = self._require_saved()
        result = next(EmptyFolder(account=account).call([self], delete_type=delete_type,
                                                        delete_sub_folders=delete_sub_folders))
        if isinstance(result, Exception):
            raise result
        for counter in ("total_count", "unread_count"):
            if counter in type(self).FIELDS and self.__dict__.get(counter) is not None:
                self._set_field(counter, 0)
        if delete_sub_folders:
            tree = self._folder_tree()
            for child in list(self.children):  # type: ignore[attr-defined]
                if not type(child).DISTINGUISHED_FOLDER_ID:  # well-known folders are never deleted
                    tree.remove(child)

    @property
    def is_distinguished(self) -> bool:
        """Whether this is a well-known folder (Inbox, Calendar, ...), which Exchange never deletes."""
        return bool(type(self).DISTINGUISHED_FOLDER_ID) or self.__dict__.get("_distinguished_id") is not None

    @property
    def is_deletable(self) -> bool:
        """Whether ``delete()`` can succeed: not for well-known folders."""
        return not self.is_distinguished

    def test_access(self) -> bool:
        """Check that this folder can be read (one FindItem for a single id); raises the server's error if not."""
        account = self._require_saved()
        FindItem(account=account).page(self, ID_ONLY, None, None, None, None, "Shallow", 0, 1)
        return True

    def bulk_create(self, items: Iterable[Any], *args: Any, **kwargs: Any) -> List[Any]:
        """``account.bulk_create(folder=self, items=items, ...)``."""
        return self._require_account().bulk_create(self, items, *args, **kwargs)

    def wipe(self, page_size: Optional[int] = None, chunk_size: Optional[int] = None) -> None:
        """Delete every item in this folder and below it, and every subfolder that is not a well-known one.

        Tries one EmptyFolder with ``delete_sub_folders=True``; where Exchange refuses that (the root,
        some system folders), the items are deleted page by page (``page_size``/``chunk_size`` as in
        ``QuerySet.delete``) and each subfolder is wiped, then deleted unless it is a well-known folder.
        """
        try:
            self.empty(delete_sub_folders=True)
            return
        except EWSError as e:
            log.debug("EmptyFolder refused on %r (%s); wiping item by item", getattr(self, "name", None), e)
        self.all().delete(page_size=page_size, chunk_size=chunk_size)  # type: ignore[attr-defined]
        for child in list(self.children):  # type: ignore[attr-defined]
            child.wipe(page_size=page_size, chunk_size=chunk_size)
            if not type(child).DISTINGUISHED_FOLDER_ID:
                child.delete()

    def __floordiv__(self, name: str) -> Any:
        """``folder // 'child'``: the subfolder with exactly this name, asked of the server (FindFolder).

        Like ``/``, but it never builds the account's cached folder tree: quicker in a mailbox with very
        many folders when you know the path. ``'..'`` is the parent. Raises ErrorFolderNotFound.
        """
        if not isinstance(name, str):
            raise TypeError(f"folder // name needs a folder name (str), got {type(name).__name__}")
        if name == "..":
            return self.parent  # type: ignore[attr-defined]
        account = self._require_saved()
        restriction = restriction_xml(Q(name=name), (type(self),), account.version)
        for found in FindFolder(account=account).call(self, restriction=restriction):
            if isinstance(found, Exception):
                raise found
            found.account = account
            found.__dict__["_parent"] = self
            return found
        raise ErrorFolderNotFound(f"No subfolder named {name!r} in {getattr(self, 'name', None)!r}")

    def move(self, to_folder: Any) -> None:
        """Move the folder, with its items and subfolders, below ``to_folder`` (MoveFolder).

        Moving a well-known folder raises ``ErrorMoveDistinguishedFolder``; a name already used in the
        target raises ``ErrorFolderExists``.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/movefolder-operation
        """
        if not isinstance(to_folder, FolderMethods):
            raise TypeError(f"move() needs a folder to move into, got {type(to_folder).__name__}")
        account = self._require_saved()
        result = next(MoveFolder(account=account).call([self], to_folder=to_folder))
        if isinstance(result, Exception):
            raise result
        if result is not None and result.id:
            self._set_id(result.id, result.changekey)
        self._folder_tree().move(self, to_folder)

    def _require_saved(self) -> Any:
        account = self._require_account()
        if self.id is None:
            raise ValueError(f"{type(self).__name__} {getattr(self, 'name', None)!r} has not been saved; "
                             f"save() it first")
        return account

