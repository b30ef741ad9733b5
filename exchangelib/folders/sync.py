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

from contextlib import contextmanager
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ..properties.notifications import Notification
from ..services.get_events import GetEvents
from ..services.get_streaming_events import GetStreamingEvents
from ..services.shapes import DEFAULT, ID_ONLY
from ..services.subscribe import SubscribeToPull, SubscribeToPush, SubscribeToStreaming
from ..services.sync_folder_hierarchy import SyncFolderHierarchy
from ..services.sync_folder_items import SyncFolderItems
from ..services.unsubscribe import Unsubscribe


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

    # --- notifications ------------------------------------------------------------------------------------
    def _subscription_folders(self) -> List[Any]:
        return [self]

    def subscribe_to_pull(self, event_types: Optional[Iterable[str]] = None, watermark: Optional[str] = None,
                          timeout: int = 60) -> Tuple[str, Optional[str]]:
        """Create a pull subscription on this folder; returns ``(subscription_id, watermark)``.

        Read events with :meth:`get_events`. ``event_types``: names from
        :data:`exchangelib.services.subscribe.EVENT_TYPES` (default: all). ``watermark`` resumes an earlier
        subscription's position. ``timeout``: minutes (1..1440) without a GetEvents before Exchange drops
        the subscription.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/subscribe-operation
        """
        return SubscribeToPull(account=self._require_account()).call(
            self._subscription_folders(), event_types=event_types, watermark=watermark, timeout=timeout)

    def subscribe_to_push(self, callback_url: str, event_types: Optional[Iterable[str]] = None,
                          watermark: Optional[str] = None, status_frequency: int = 1) -> Tuple[str, Optional[str]]:
        """Create a push subscription: Exchange POSTs notifications to ``callback_url`` (parse them with
        :class:`~exchangelib.services.SendNotification` or :class:`~exchangelib.push.PushListener`), and a
        status notification every ``status_frequency`` minutes. Returns ``(subscription_id, watermark)``.
        """
        return SubscribeToPush(account=self._require_account()).call(
            self._subscription_folders(), callback_url=callback_url, event_types=event_types, watermark=watermark,
            status_frequency=status_frequency)

    def subscribe_to_streaming(self, event_types: Optional[Iterable[str]] = None) -> str:
        """Create a streaming subscription; returns its id. Read it with :meth:`get_streaming_events`."""
        return SubscribeToStreaming(account=self._require_account()).call(
            self._subscription_folders(), event_types=event_types)

    def get_events(self, subscription_id: str, watermark: str) -> Iterator[Notification]:
        """Yield the pull subscription's notifications after ``watermark`` until there are no more events.

        Each :class:`~exchangelib.properties.Notification` has ``events``; keep the last event's
        ``watermark`` (``notification.watermark``) for the next call. When nothing happened the server
        answers with one notification holding a :class:`~exchangelib.properties.StatusEvent`.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getevents-operation
        """
        svc = GetEvents(account=self._require_account())
        while True:
            notification = svc.call(subscription_id=subscription_id, watermark=watermark)
            yield notification
            watermark = notification.watermark or watermark
            if not notification.more_events:
                return

    def get_streaming_events(self, subscription_id_or_ids: Union[str, Sequence[str]], connection_timeout: int = 1,
                             max_notifications_returned: Optional[int] = None) -> Iterator[Notification]:
        """Yield notifications of streaming subscriptions as they happen, over one HTTP response kept open for
        ``connection_timeout`` minutes (1..30); stops after ``max_notifications_returned`` notifications if
        given. A dropped connection is reopened transparently without losing or repeating events.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getstreamingevents-operation
        """
        ids = [subscription_id_or_ids] if isinstance(subscription_id_or_ids, str) else list(subscription_id_or_ids)
        return GetStreamingEvents(account=self._require_account()).call(
            ids, connection_timeout=connection_timeout, max_notifications_returned=max_notifications_returned)

    def unsubscribe(self, subscription_id: str) -> None:
        """End a pull or streaming subscription.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/unsubscribe-operation
        """
        Unsubscribe(account=self._require_account()).call(subscription_id)

    @contextmanager
    def pull_subscription(self, **kwargs: Any) -> Iterator[Tuple[str, Optional[str]]]:
        """``with folder.pull_subscription() as (subscription_id, watermark):`` - unsubscribes on exit."""
        subscription_id, watermark = self.subscribe_to_pull(**kwargs)
        try:
            yield subscription_id, watermark
        finally:
            self.unsubscribe(subscription_id)

    @contextmanager
    def push_subscription(self, **kwargs: Any) -> Iterator[Tuple[str, Optional[str]]]:
        """``with folder.push_subscription(callback_url=...) as (subscription_id, watermark):``.

        A push subscription can't be ended by the client: it ends when the callback answers Unsubscribe
        (or stops answering), so nothing happens on exit.
        """
        yield self.subscribe_to_push(**kwargs)

    @contextmanager
    def streaming_subscription(self, **kwargs: Any) -> Iterator[str]:
        """``with folder.streaming_subscription() as subscription_id:`` - unsubscribes on exit."""
        subscription_id = self.subscribe_to_streaming(**kwargs)
        try:
            yield subscription_id
        finally:
            self.unsubscribe(subscription_id)
