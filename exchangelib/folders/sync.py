"""Change tracking on folders: ``sync_items()`` and ``sync_hierarchy()`` (SyncFolderItems /
SyncFolderHierarchy), and notifications: pull, push and streaming subscriptions.

Sync states are opaque strings. Store ``folder.item_sync_state`` (or ``folder.folder_sync_state``)
after a sync and pass it back later, in this process or another, to get only what changed since::

    for change_type, item in account.inbox.sync_items(sync_state=saved_state):
        ...                                    # 'create', 'update', 'delete', 'read_flag_change'
    saved_state = account.inbox.item_sync_state

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/mailbox-synchronization-and-ews-in-exchange
https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/notification-subscriptions-mailbox-events-and-ews-in-exchange
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional, Tuple

from ..services.shapes import DEFAULT, ID_ONLY
from ..services.sync_folder_hierarchy import SyncFolderHierarchy
from ..services.sync_folder_items import SyncFolderItems


class FolderSyncMethods:
    """Mixed into every folder class (needs ``self.account``)."""

    account: Any
    _require_account: Any
    #: The state the last ``sync_hierarchy()`` reached (None before the first). Opaque; store it to resume.
    folder_sync_state: Optional[str] = None
    #: The state the last ``sync_items()`` reached (None before the first). Opaque; store it to resume.
    item_sync_state: Optional[str] = None

    def sync_items(self, sync_state: Optional[str] = None, only_fields: Optional[Iterable[str]] = None,
                   ignore: Optional[Iterable[Any]] = None, max_changes_returned: Optional[int] = None,
                   sync_scope: Optional[str] = None) -> Iterator[Tuple[str, Any]]:
        """Yield ``(change_type, value)`` for every item change in this folder since ``sync_state``.

        ``change_type`` is ``'create'`` or ``'update'`` (value: the item, with ``only_fields`` or the
        default summary fields), ``'delete'`` (value: its :class:`~exchangelib.properties.ItemId`) or
        ``'read_flag_change'`` (value: ``(ItemId, is_read)``). Without ``sync_state`` (and no
        :attr:`item_sync_state` from an earlier call) every item counts as created. Pages of
        ``max_changes_returned`` (1..512) are fetched as you iterate; :attr:`item_sync_state` is updated
        after each fully consumed page, so stopping early and calling again resumes without losing changes.
        ``ignore`` lists items whose changes you don't want reported (e.g. ones you created yourself).
        ``sync_scope``: ``'NormalItems'`` (default) or ``'NormalAndAssociatedItems'``.
        A state of another folder or mailbox raises ``ErrorInvalidSyncStateData``.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation
        """
        account = self._require_account()
        if sync_state is None:
            sync_state = self.item_sync_state
        if only_fields is None:
            shape, additional = DEFAULT, None
        else:
            if isinstance(only_fields, str):
                raise TypeError("only_fields must be a list of field names, not a str")
            shape, additional = ID_ONLY, account._field_objects(list(only_fields))
        svc = SyncFolderItems(account=account)
        changes = svc.call(self, shape=shape, additional_fields=additional, sync_state=sync_state, ignore=ignore,
                           max_changes_returned=max_changes_returned, sync_scope=sync_scope)
        for change in changes:
            # The state of the last fully consumed page: resuming from it repeats at most this page
            self.item_sync_state = svc.sync_state
            yield change
        self.item_sync_state = svc.sync_state

    def sync_hierarchy(self, sync_state: Optional[str] = None,
                       only_fields: Optional[Iterable[str]] = None) -> Iterator[Tuple[str, Any]]:
        """Yield ``(change_type, folder)`` for every folder created, updated or deleted below this folder since
        ``sync_state`` (deleted ones as a :class:`~exchangelib.properties.FolderId`); the new state is in
        :attr:`folder_sync_state` once the changes are consumed.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderhierarchy-operation
        """
        account = self._require_account()
        if sync_state is None:
            sync_state = self.folder_sync_state
        additional = None
        if only_fields is not None:
            if isinstance(only_fields, str):
                raise TypeError("only_fields must be a list of field names, not a str")
            fields = type(self).FIELDS  # type: ignore[attr-defined]
            additional = []
            for name in only_fields:
                f = fields.get(name)
                if f is None:
                    raise ValueError(f"Unknown folder field {name!r}")
                additional.append(f)
        svc = SyncFolderHierarchy(account=account)
        for change_type, folder in svc.call(self, shape=DEFAULT if only_fields is None else ID_ONLY,
                                            additional_fields=additional, sync_state=sync_state):
            if change_type != "delete":
                folder.account = account
            yield change_type, folder
        self.folder_sync_state = svc.sync_state
