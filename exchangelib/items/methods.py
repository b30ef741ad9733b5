"""What items do on the server: save (create or update), delete, move, copy and refresh.

:class:`ItemMethods` is mixed into :class:`~exchangelib.items.base.Item`, so the item classes stay
declarative lists of fields. Kind-specific actions (sending messages, answering meetings, completing
tasks) live in :mod:`exchangelib.items.kind_methods`; the behaviour of response objects (replies,
meeting answers) is :class:`ResponseObjectMethods` here.

Changed fields are tracked on assignment: ``item.subject = 'x'`` marks ``subject`` as changed, and
``item.save()`` on a saved item sends exactly the changed fields (UpdateItem). A list changed in place
(``item.categories.append('x')``) is not seen; assign the list again or name it in ``update_fields``.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem-operation
"""
from __future__ import annotations

import logging
from typing import Any, ClassVar, Dict, FrozenSet, Iterable, List, Optional, Tuple

from ..errors import EWSError
from ..ewsdatetime import EWSTimeZone
from ..services import CopyItem, CreateItem, DeleteItem, GetItem, MoveItem, UpdateItem
from ..services.create_item import SAVE_ONLY, SEND_AND_SAVE_COPY, SEND_ONLY
from ..services.delete_item import HARD_DELETE, MOVE_TO_DELETED_ITEMS, SOFT_DELETE
from ..services.shapes import ALL_PROPERTIES
from ..services.update_item import AUTO_RESOLVE

log = logging.getLogger(__name__)

SEND_TO_NONE = "SendToNone"
ALL_OCCURRENCES = "AllOccurrences"

# Where save() creates an item that has no folder: the account's folder of this name, by item kind
# (the most specific class in the MRO wins). Exchange itself uses the same defaults.
_DEFAULT_FOLDERS: Dict[str, str] = {
    "CalendarItem": "calendar", "Contact": "contacts", "DistributionList": "contacts", "Task": "tasks",
    "PostItem": "inbox", "Message": "drafts", "Item": "drafts",
}
# Fields GetItem with AllProperties leaves out; refresh() asks for them when the item holds a value.
_ON_REQUEST_ONLY = ("mime_content", "unique_body", "normalized_body", "text_body", "preview", "instance_key",
                    "store_entry_id")
_DELETE_METHODS = {HARD_DELETE: "delete", SOFT_DELETE: "soft_delete", MOVE_TO_DELETED_ITEMS: "move_to_trash"}
# Calendar fields that define whom a meeting update goes to (used when invitations are asked for but no
# field changed).
_ATTENDEE_FIELDS = ("required_attendees", "optional_attendees", "resources")


def one_result(results: Iterable[Any]) -> Any:
    """The single result of a service call for one input; raises it if it is an exception."""
    res = next(iter(results))
    if isinstance(res, Exception):
        raise res
    return res


class ItemMethods:
    """Server actions of every item. Needs ``account``/``folder`` attributes and the item id helpers."""

    account: Any
    folder: Any
    id: Optional[str]
    changekey: Optional[str]
    FIELDS: Any
    _set_id: Any
    _set_field: Any
    #: Messages freeze some fields once sent (``is_read_only_after_send``); other kinds don't.
    _FROZEN_AFTER_SEND: ClassVar[bool] = False

    # --- change tracking -------------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)  # checks the value; raises before we mark it
        if name in type(self).FIELDS:
            self._mark_dirty(name)

    def __delattr__(self, name: str) -> None:
        super().__delattr__(name)
        if name in type(self).FIELDS:
            self._mark_dirty(name)

    def _mark_dirty(self, name: str) -> None:
        # An immutable set: copy.copy(item) must not share later changes with the original.
        d = self.__dict__
        d["_dirty"] = d.get("_dirty", frozenset()) | {name}

    @property
    def changed_fields(self) -> List[str]:
        """Names of the fields assigned since the item was created, saved, fetched or refreshed, in field order."""
        dirty: FrozenSet[str] = self.__dict__.get("_dirty") or frozenset()
        return [n for n in type(self).FIELDS.names() if n in dirty]

    def _mark_clean(self, names: Optional[Iterable[str]] = None) -> None:
        if names is None:
            self.__dict__.pop("_dirty", None)
            return
        dirty = self.__dict__.get("_dirty")
        if dirty:
            self.__dict__["_dirty"] = dirty.difference(names)

    # --- plumbing -------------------------------------------------------------------------------------
    def _require_account(self) -> Any:
        account = self.account
        if account is None and self.folder is not None:
            account = getattr(self.folder, "account", None)
            if account is not None:
                object.__setattr__(self, "account", account)
        if account is None:
            raise ValueError(f"{type(self).__name__} has no account; create it with account=... or with "
                             f"folder=<a folder of an account>")
        return account

    def _require_id(self, action: str) -> Any:
        account = self._require_account()
        if not self.id:
            raise ValueError(f"{type(self).__name__} has no id: save() it before calling {action}()")
        return account

    def _default_folder(self, account: Any) -> Any:
        for klass in type(self).__mro__:
            attr = _DEFAULT_FOLDERS.get(klass.__dict__.get("ELEMENT_NAME", ""))
            if attr:
                return getattr(account, attr)
        return account.drafts

    def _forget_id(self, folder: Any = None) -> None:
        """The server copy is gone or has an id we don't know: the object no longer names a server item."""
        self._set_id(None)
        object.__setattr__(self, "folder", folder)

    # Hooks for attachment support (AttachmentMethods overrides them).
    def _attachment_ids_from(self, created: Any) -> None:
        """After CreateItem: learn the ids of attachments sent inline, from the created item's answer."""

    def _save_attachments(self) -> None:
        """After save(): make the attachments in ``attachments`` exist on the server."""

    # --- save -----------------------------------------------------------------------------------------
    def save(self, update_fields: Optional[Iterable[str]] = None, conflict_resolution: str = AUTO_RESOLVE,
             send_meeting_invitations: str = SEND_TO_NONE) -> Any:
        """Create the item on the server if it has no id yet, else save its changes. Returns the item.

        Creating (CreateItem) puts the item in ``item.folder``, or the account's folder for its kind
        (calendar, contacts, tasks, Drafts for messages); a message is saved as a draft, not sent.
        Updating (UpdateItem) sends the fields assigned since the item was fetched or saved, or exactly
        ``update_fields``; a field that is None is deleted on the server. After either, ``item.id`` and
        ``item.changekey`` are the server's current ones.

        ``send_meeting_invitations`` (calendar items): ``SEND_TO_NONE`` (default), ``SEND_ONLY_TO_ALL``,
        ``SEND_TO_ALL_AND_SAVE_COPY``, and for updates also ``SEND_ONLY_TO_CHANGED`` and
        ``SEND_TO_CHANGED_AND_SAVE_COPY``. ``conflict_resolution`` (updates): ``AUTO_RESOLVE`` (default),
        ``NEVER_OVERWRITE`` or ``ALWAYS_OVERWRITE``; a conflict raises ``ErrorIrresolvableConflict``.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem-operation
        """
        if self.id is None:
            if update_fields is not None:
                raise ValueError(f"{type(self).__name__} has not been created yet; save() it without update_fields")
            self._create(message_disposition=SAVE_ONLY, send_meeting_invitations=send_meeting_invitations)
        else:
            self._update(update_fields, conflict_resolution=conflict_resolution,
                         send_meeting_invitations=send_meeting_invitations)
        self._save_attachments()
        return self

    def _create(self, message_disposition: str, send_meeting_invitations: str = SEND_TO_NONE,
                folder: Any = None) -> Any:
        """CreateItem for this item. Returns the server's answer (an item holding the new id, or True
        when the item was sent without a copy)."""
        account = self._require_account()
        if message_disposition == SAVE_ONLY and folder is None:
            folder = self.folder if self.folder is not None else self._default_folder(account)
        res = one_result(CreateItem(account=account).call(
            [self], folder=folder, message_disposition=message_disposition,
            send_meeting_invitations=send_meeting_invitations))
        if message_disposition != SAVE_ONLY:
            return res
        if res is True or not getattr(res, "id", None):
            raise EWSError(f"CreateItem did not return the id of the new {type(self).__name__}")
        self._set_id(res.id, res.changekey)
        object.__setattr__(self, "folder", folder)
        self._mark_clean()
        self._attachment_ids_from(res)
        return res

    def _update_names(self, update_fields: Optional[Iterable[str]], send_meeting_invitations: str) -> List[str]:
        cls = type(self)
        if update_fields is not None:
            if isinstance(update_fields, str):
                raise TypeError(f"update_fields must be a list of field names, not the str {update_fields!r}")
            names = list(dict.fromkeys(update_fields))
            for name in names:
                f = cls.FIELDS.get(name)
                if f is None:
                    raise ValueError(f"{cls.__name__} has no field {name!r}")
                if f.is_read_only:
                    raise ValueError(f"{cls.__name__}.{name} is read-only: its value is set by the server")
            if "attachments" in names:
                raise ValueError(f"{cls.__name__}.attachments can't be updated with save(); use attach() and "
                                 f"detach()")
            if not names:
                raise ValueError("update_fields is empty; name at least one field")
        else:
            names = [n for n in self.changed_fields if n != "attachments" and not cls.FIELDS[n].is_read_only]
            if not names and send_meeting_invitations != SEND_TO_NONE and "required_attendees" in cls.FIELDS:
                # Nothing changed, but the caller wants the meeting sent: send who is invited.
                names = [n for n in _ATTENDEE_FIELDS if self.__dict__.get(n)] or ["subject"]
        if self._FROZEN_AFTER_SEND and self.__dict__.get("is_draft") is False:
            frozen = [n for n in names if cls.FIELDS[n].is_read_only_after_send]
            if frozen:
                raise ValueError(f"{cls.__name__}.{frozen[0]} can't be changed once the message is sent or "
                                 f"received (it is not a draft)")
        return names

    def _update(self, update_fields: Optional[Iterable[str]], conflict_resolution: str = AUTO_RESOLVE,
                send_meeting_invitations: str = SEND_TO_NONE) -> None:
        account = self._require_account()
        version = account.version
        self.clean(version)  # type: ignore[attr-defined]  # cross-field rules may adjust (and mark) fields
        names = self._update_names(update_fields, send_meeting_invitations)
        if not names:
            log.debug("%s %s: nothing changed, nothing to save", type(self).__name__, self.id)
            return
        names = self._with_timezones(names, version)
        res = one_result(UpdateItem(account=account).call(
            [(self, names)], conflict_resolution=conflict_resolution, message_disposition=SAVE_ONLY,
            send_meeting_invitations_or_cancellations=send_meeting_invitations))
        if res is not None and res.id:
            self._set_id(res.id, res.changekey)
        self._mark_clean(names)

    def _with_timezones(self, names: List[str], version: Any) -> List[str]:
        """A new ``start``/``end`` in a named zone also moves the meeting's zone, unless the caller set it."""
        out = list(names)
        for dt_name, tz_name in (("start", "start_timezone"), ("end", "end_timezone")):
            f = type(self).FIELDS.get(tz_name)
            if dt_name not in names or tz_name in names or f is None or f.is_read_only or not f.is_supported(version):
                continue
            dt = self.__dict__.get(dt_name)
            tz = getattr(dt, "tzinfo", None)
            if not isinstance(tz, EWSTimeZone) or tz.key == "UTC":
                continue
            try:
                if not tz.ms_id:
                    continue
            except (EWSError, ValueError, KeyError):
                continue
            self.__dict__[tz_name] = tz
            out.append(tz_name)
        return out

    # --- delete, move, copy ---------------------------------------------------------------------------
    def _delete(self, delete_type: str, send_meeting_cancellations: str, affected_task_occurrences: str,
                suppress_read_receipts: Optional[bool]) -> None:
        account = self._require_id(_DELETE_METHODS[delete_type])
        one_result(DeleteItem(account=account).call(
            [(self.id, self.changekey)], delete_type=delete_type, send_meeting_cancellations=send_meeting_cancellations,
            affected_task_occurrences=affected_task_occurrences, suppress_read_receipts=suppress_read_receipts))

    def delete(self, send_meeting_cancellations: str = SEND_TO_NONE,
               affected_task_occurrences: str = ALL_OCCURRENCES, suppress_read_receipts: Optional[bool] = None) -> None:
        """Delete the item for good (DeleteItem, HardDelete). Afterwards the object has no id.

        ``send_meeting_cancellations`` (``SEND_TO_NONE``, ``SEND_ONLY_TO_ALL``, ``SEND_TO_ALL_AND_SAVE_COPY``)
        tells a meeting's attendees; ``affected_task_occurrences`` (``ALL_OCCURRENCES`` or
        ``SPECIFIED_OCCURRENCE_ONLY``) applies to recurring tasks.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteitem-operation
        """
        self._delete(HARD_DELETE, send_meeting_cancellations, affected_task_occurrences, suppress_read_receipts)
        self._forget_id()

    def soft_delete(self, send_meeting_cancellations: str = SEND_TO_NONE,
                    affected_task_occurrences: str = ALL_OCCURRENCES,
                    suppress_read_receipts: Optional[bool] = None) -> None:
        """Delete the item, but keep it recoverable (DeleteItem, SoftDelete): Exchange moves it to the
        Recoverable Items folder (the "dumpster"). Afterwards the object has no id."""
        self._delete(SOFT_DELETE, send_meeting_cancellations, affected_task_occurrences, suppress_read_receipts)
        self._forget_id()

    def move_to_trash(self, send_meeting_cancellations: str = SEND_TO_NONE,
                      affected_task_occurrences: str = ALL_OCCURRENCES,
                      suppress_read_receipts: Optional[bool] = None) -> None:
        """Move the item to Deleted Items (DeleteItem, MoveToDeletedItems). Exchange gives it a new id there,
        which it doesn't return: afterwards the object has no id and ``folder`` is the account's trash.
        An item already in Deleted Items is deleted from the mailbox (recoverable)."""
        account = self._require_account()
        self._delete(MOVE_TO_DELETED_ITEMS, send_meeting_cancellations, affected_task_occurrences,
                     suppress_read_receipts)
        self._forget_id(account.trash)

    def move(self, to_folder: Any) -> None:
        """Move the item to ``to_folder`` (MoveItem). The item gets the new id and change key Exchange gives
        the moved item, and ``folder`` becomes ``to_folder``.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/moveitem-operation
        """
        account = self._require_id("move")
        res = one_result(MoveItem(account=account).call([(self.id, self.changekey)], to_folder=to_folder))
        if res is not None and res.id:
            self._set_id(res.id, res.changekey)
            object.__setattr__(self, "folder", to_folder)
        else:  # Exchange 2007/2010 don't return the new id
            self._forget_id(to_folder)

    def copy(self, to_folder: Any) -> Any:
        """Copy the item to ``to_folder`` (CopyItem) and return the copy, read back from the server.

        Returns None when the server doesn't return new ids (Exchange 2007 and 2010). Unsaved changes of this
        object are not part of the copy: the server copies what it has.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/copyitem-operation
        """
        account = self._require_id("copy")
        res = one_result(CopyItem(account=account).call([(self.id, self.changekey)], to_folder=to_folder))
        if res is None or not res.id:
            return None
        fresh = one_result(GetItem(account=account).call([(res.id, res.changekey)], shape=ALL_PROPERTIES,
                                                          additional_fields=self._extra_fields(account.version)))
        if fresh is None:
            raise EWSError(f"GetItem returned no item for the copy of {type(self).__name__} {self.id}")
        object.__setattr__(fresh, "folder", to_folder)
        return fresh

    # --- refresh --------------------------------------------------------------------------------------
    def _extra_fields(self, version: Any) -> List[Any]:
        """Fields to request on top of AllProperties: extended properties, and on-request fields we hold."""
        out = []
        d = self.__dict__
        for f in type(self).FIELDS:
            if not f.is_supported(version):
                continue
            if f.is_extended or (f.name in _ON_REQUEST_ONLY and d.get(f.name) is not None):
                out.append(f)
        return out

    def refresh(self) -> Any:
        """Read the item again from the server (GetItem) and replace every field with the server's value,
        in place; unsaved changes are dropped. Returns the item.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getitem-operation
        """
        account = self._require_id("refresh")
        fresh = one_result(GetItem(account=account).call([(self.id, None)], shape=ALL_PROPERTIES,
                                                          additional_fields=self._extra_fields(account.version)))
        if fresh is None:
            raise EWSError(f"GetItem returned no item for {type(self).__name__} {self.id}")
        self._replace_fields(fresh)
        return self

    def _replace_fields(self, fresh: Any, names: Optional[Iterable[str]] = None) -> None:
        """Take the values of ``names`` (default: every field) from ``fresh``, a newer copy of this item."""
        d = self.__dict__
        src = fresh.__dict__
        mine = type(self).FIELDS
        theirs = type(fresh).FIELDS
        for name in (names if names is not None else mine.names()):
            if name not in mine:
                continue
            value = src.get(name) if name in theirs else None
            if value is None:
                d.pop(name, None)
            else:
                d[name] = value
        attachments = d.get("attachments")
        for a in attachments or ():
            if hasattr(a, "parent_item"):
                a.parent_item = self
        self._mark_clean(names)


class ResponseObjectMethods:
    """Sending or saving a response object (a reply, a forward, a meeting answer or cancellation).

    A response object is a CreateItem payload that names the item it answers (``reference_item_id``);
    Exchange builds the actual message from it.
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responseobjects
    """

    account: Any

    def _require_account(self) -> Any:
        if self.account is None:
            raise ValueError(f"{type(self).__name__} has no account; create it with account=...")
        return self.account

    def send(self, save_copy: bool = True, copy_to_folder: Any = None) -> Any:
        """Send it (CreateItem with SendAndSaveCopy, or SendOnly when ``save_copy`` is False).

        The copy goes to ``copy_to_folder`` (default: Sent Items). Returns the saved copy's item if the
        server names it, else None.
        """
        if not isinstance(save_copy, bool):
            raise TypeError(f"save_copy must be a bool, got {save_copy!r}")
        if copy_to_folder is not None and not save_copy:
            raise ValueError("copy_to_folder can only be given when save_copy is True")
        disposition = SEND_AND_SAVE_COPY if save_copy else SEND_ONLY
        return self._create(disposition, copy_to_folder)

    def save(self, folder: Any = None) -> Any:
        """Save it unsent (CreateItem with SaveOnly) in ``folder`` (default: Drafts). Returns the saved item."""
        res = self._create(SAVE_ONLY, folder)
        if res is None:
            raise EWSError(f"CreateItem did not return the saved {type(self).__name__}")
        return res

    def _create(self, message_disposition: str, folder: Any) -> Any:
        account = self._require_account()
        res = one_result(CreateItem(account=account).call([self], folder=folder,
                                                          message_disposition=message_disposition))
        if res is True or res is None:
            return None
        if folder is not None:
            object.__setattr__(res, "folder", folder)
        return res


def item_reference(item: Any, action: str) -> Tuple[str, Optional[str]]:
    """(id, changekey) of a saved item, for a response object's ``reference_item_id``."""
    if not getattr(item, "id", None):
        raise ValueError(f"{type(item).__name__} has no id: only saved items can be answered ({action})")
    return item.id, item.changekey


__all__ = ["ItemMethods", "ResponseObjectMethods", "one_result", "item_reference"]
