"""Account: one mailbox on an Exchange server, and the entry point for everything done to it."""
from __future__ import annotations

import locale as stdlib_locale
import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from .configuration import Configuration
from .credentials import BaseCredentials
from .errors import EWSError
from .ewsdatetime import EWSTimeZone
from .folders import Folder
from .folders.collection import FolderTree
from .folders.sync import FolderSyncMethods
from .identity import Identity
from .items import ITEM_CLASSES
from .lazy import LazyModule
from .protocol import Protocol
from .settings import OofSettings
from .services import (CopyItem, CreateItem, DeleteItem, ExportItems, GetItem, MoveItem, ResolveNames, SendItem,
                       UpdateItem, UploadItems)
from .services.create_item import SAVE_ONLY
from .services.get_mail_tips import GetMailTips
from .services.get_persona import GetPersona
from .services.get_user_oof_settings import GetUserOofSettings
from .services.inbox_rules import CREATE as RULE_CREATE, DELETE as RULE_DELETE, SET as RULE_SET
from .services.inbox_rules import GetInboxRules, UpdateInboxRules
from .properties.permissions import DelegateUser
from .properties.rules import Rule
from .services.archive_item import ArchiveItem
from .services.conversations import ApplyConversationAction, FindConversation, GetConversationItems
from .services.mark_as_junk import MarkAsJunk
from .services.delegates import AddDelegate, GetDelegate, RemoveDelegate, UpdateDelegate
from .services.set_user_oof_settings import SetUserOofSettings
from .services.delete_item import HARD_DELETE
from .services.shapes import ALL_PROPERTIES, ID_ONLY
from .services.update_item import AUTO_RESOLVE
from .services.upload_items import CREATE_NEW
from .transport import PRIMARY_SMTP_ADDRESS
from .version import EXCHANGE_2010, Version

if TYPE_CHECKING:
    from . import autodiscover
else:
    # Autodiscover (its models, file cache and DNS/HTTP discovery) loads when an Account first uses it
    autodiscover = LazyModule("exchangelib.autodiscover")

log = logging.getLogger(__name__)

DELEGATE = "delegate"
IMPERSONATION = "impersonation"
ACCESS_TYPES = (DELEGATE, IMPERSONATION)


class _WellKnown:
    """``account.<name>``: a well-known folder, by its distinguished id."""

    def __init__(self, folder_id: str):
        self.folder_id = folder_id

    def __set_name__(self, owner: type, name: str) -> None:
        self.__doc__ = f"The well-known folder '{self.folder_id}' (DistinguishedFolderId)."

    def __get__(self, account: Any, owner: Optional[type] = None) -> Any:
        if account is None:
            return self
        return account._distinguished(self.folder_id)


class _AllFolders(FolderSyncMethods):
    """Every folder of a mailbox, for subscriptions (``SubscribeToAllFolders``)."""

    def __init__(self, account: "Account"):
        self.account = account

    def _require_account(self) -> Any:
        return self.account

    def _subscription_folders(self) -> List[Any]:
        return []  # no FolderIds: Subscribe's SubscribeToAllFolders="true"


class Account:
    """A mailbox: ``Account(primary_smtp_address, credentials=..., config=..., access_type=DELEGATE)``.

    With ``access_type=DELEGATE`` the credentials' owner opens the mailbox with delegate rights (or it is
    their own). With ``IMPERSONATION`` the requests are sent as the mailbox owner using the
    ``ExchangeImpersonation`` header, which needs the ApplicationImpersonation role.

    ``default_timezone`` (an EWSTimeZone, default: the machine's) is sent in ``TimeZoneContext`` and
    used for naive dates; ``locale`` (e.g. 'en-US') is sent as ``MailboxCulture``.
    """

    def __init__(self, primary_smtp_address: str, fullname: Optional[str] = None, access_type: Optional[str] = None,
                 autodiscover: bool = False, credentials: Optional[BaseCredentials] = None,
                 config: Optional[Configuration] = None, locale: Optional[str] = None,
                 default_timezone: Optional[EWSTimeZone] = None):
        if not isinstance(primary_smtp_address, str) or "@" not in primary_smtp_address:
            raise ValueError(f"primary_smtp_address must be an email address, got {primary_smtp_address!r}")
        if access_type is None:
            access_type = DELEGATE
        if access_type not in ACCESS_TYPES:
            raise ValueError(f"access_type must be DELEGATE or IMPERSONATION, got {access_type!r}")
        if config is not None and not isinstance(config, Configuration):
            raise TypeError(f"config must be a Configuration, got {type(config).__name__}")
        if credentials is not None and not isinstance(credentials, BaseCredentials):
            raise TypeError(f"credentials must be a Credentials instance, got {type(credentials).__name__}")
        if default_timezone is not None and not isinstance(default_timezone, EWSTimeZone):
            default_timezone = EWSTimeZone.from_timezone(default_timezone)
        self.primary_smtp_address = primary_smtp_address
        #: Who requests act for under IMPERSONATION; set ``identity.sid`` or ``identity.upn`` to spare the
        #: server a directory lookup per request.
        self.identity = Identity(primary_smtp_address=primary_smtp_address)
        self.fullname = fullname
        self.access_type = access_type
        self.locale = locale or _default_locale()
        self.default_timezone = default_timezone or EWSTimeZone.localzone()
        if autodiscover:
            config = self._autodiscover(credentials, config)
        if config is None:
            raise ValueError("Account needs a config=Configuration(...) (or autodiscover=True)")
        if credentials is not None and config.credentials is None:
            config.credentials = credentials
            config.retry_policy = config.retry_policy or credentials.default_retry_policy()
        if config.service_endpoint is None:
            raise ValueError("The Configuration has no server or service_endpoint")
        self.config = config
        self.protocol = Protocol.for_config(config)
        self._folders = FolderTree(self)
        log.debug("Added account %s on %s", self.primary_smtp_address, self.protocol.service_endpoint)

    def _autodiscover(self, credentials: Optional[BaseCredentials], config: Optional[Configuration]) -> Configuration:
        """Find the EWS endpoint for the address; alias addresses resolve to the primary address."""
        creds = credentials or (config.credentials if config else None)
        verify = config.verify if config else True
        result = autodiscover.discover(self.primary_smtp_address, creds,
                                       auth_type=config.auth_type if config else None, verify=verify,
                                       validate=lambda r: autodiscover.check_endpoint(r, verify=verify))
        self.primary_smtp_address = result.primary_smtp_address
        self.identity.primary_smtp_address = result.primary_smtp_address
        return Configuration(service_endpoint=result.ews_url, credentials=creds,
                             auth_type=result.auth_type or (config.auth_type if config else None),
                             version=result.version or (config.version if config else None),
                             retry_policy=config.retry_policy if config else None,
                             max_connections=config.max_connections if config else None, verify=verify)

    # --- protocol plumbing ------------------------------------------------------------------------------
    @property
    def version(self) -> Version:
        # The version probe carries this account's impersonation header: app-only OAuth tokens need one.
        if self.access_type == IMPERSONATION:
            return self.protocol.get_version(impersonation=self._connecting_sid())
        return self.protocol.get_version(anchor_mailbox=self.primary_smtp_address)

    def soap_header_kwargs(self) -> Dict[str, Any]:
        """SOAP header values services send for this account."""
        kwargs: Dict[str, Any] = {}
        if self.version.build >= EXCHANGE_2010:  # Exchange 2007 has neither TimeZoneContext nor MailboxCulture
            kwargs["timezone_id"] = self._timezone_ms_id()
            kwargs["culture"] = self.locale
        if self.access_type == IMPERSONATION:
            kwargs["impersonation"] = self._connecting_sid()
        else:
            kwargs["anchor_mailbox"] = self.primary_smtp_address
        return kwargs

    def _connecting_sid(self) -> Tuple[str, str]:
        return self.identity.connecting_sid() or (PRIMARY_SMTP_ADDRESS, self.primary_smtp_address)

    def _timezone_ms_id(self) -> Optional[str]:
        try:
            return self.default_timezone.ms_id
        except EWSError:  # a zone without a Windows equivalent: let the server use its own default
            return None

    # --- folders -----------------------------------------------------------------------------------------
    @property
    def folders(self) -> FolderTree:
        """The mailbox's folder hierarchy, read once and cached: ``account.folders[Calendar]`` lists every
        calendar, ``account.folders.distinguished(SyncIssues)`` gets any well-known folder.
        ``account.root.refresh()`` reads the hierarchy again."""
        return self._folders

    def _distinguished(self, folder_id: str) -> Folder:
        """A well-known folder (fetched once; the same object the folder tree holds)."""
        return self._folders.distinguished(folder_id)

    @cached_property
    def root(self) -> Folder:
        return self._distinguished("root")

    @cached_property
    def msg_folder_root(self) -> Folder:
        return self._distinguished("msgfolderroot")

    @cached_property
    def calendar(self) -> Folder:
        return self._distinguished("calendar")

    @cached_property
    def inbox(self) -> Folder:
        return self._distinguished("inbox")

    @cached_property
    def outbox(self) -> Folder:
        return self._distinguished("outbox")

    @cached_property
    def sent(self) -> Folder:
        return self._distinguished("sentitems")

    @cached_property
    def trash(self) -> Folder:
        return self._distinguished("deleteditems")

    @cached_property
    def drafts(self) -> Folder:
        return self._distinguished("drafts")

    @cached_property
    def junk(self) -> Folder:
        return self._distinguished("junkemail")

    @cached_property
    def tasks(self) -> Folder:
        return self._distinguished("tasks")

    @cached_property
    def contacts(self) -> Folder:
        return self._distinguished("contacts")

    @cached_property
    def journal(self) -> Folder:
        return self._distinguished("journal")

    @cached_property
    def notes(self) -> Folder:
        return self._distinguished("notes")

    @cached_property
    def search_folders(self) -> Folder:
        return self._distinguished("searchfolders")

    @cached_property
    def recoverable_items_root(self) -> Folder:
        """The dumpster's root (Exchange 2010 SP1 and later)."""
        return self._distinguished("recoverableitemsroot")

    @cached_property
    def public_folders_root(self) -> Folder:
        """The root of the public folders. Raises ErrorNoPublicFolderReplicaAvailable where there are none."""
        return self._distinguished("publicfoldersroot")

    @cached_property
    def archive_root(self) -> Folder:
        """The root of the archive mailbox. Raises ErrorFolderNotFound when the mailbox has no archive."""
        return self._distinguished("archiveroot")

    @cached_property
    def archive_msg_folder_root(self) -> Folder:
        """The top of the archive's visible folders. Raises ErrorFolderNotFound without an archive."""
        return self._distinguished("archivemsgfolderroot")

    @cached_property
    def archive_inbox(self) -> Folder:
        """The archive's Inbox (Exchange 2013 and later). Raises ErrorFolderNotFound without an archive."""
        return self._distinguished("archiveinbox")

    @cached_property
    def archive_deleted_items(self) -> Folder:
        """The archive's Deleted Items. Raises ErrorFolderNotFound without an archive."""
        return self._distinguished("archivedeleteditems")

    # --- items: bulk ------------------------------------------------------------------------------------
    # More well-known folders, by the peer library's attribute names (each is the folder object,
    # found by its DistinguishedFolderId; ErrorFolderNotFound where the server has none).
    admin_audit_logs = _WellKnown("adminauditlogs")
    conflicts = _WellKnown("conflicts")
    conversation_history = _WellKnown("conversationhistory")
    directory = _WellKnown("directory")
    favorites = _WellKnown("favorites")
    im_contact_list = _WellKnown("imcontactlist")
    local_failures = _WellKnown("localfailures")
    my_contacts = _WellKnown("mycontacts")
    people_connect = _WellKnown("peopleconnect")
    quick_contacts = _WellKnown("quickcontacts")
    recipient_cache = _WellKnown("recipientcache")
    recoverable_items_deletions = _WellKnown("recoverableitemsdeletions")
    recoverable_items_purges = _WellKnown("recoverableitemspurges")
    recoverable_items_versions = _WellKnown("recoverableitemsversions")
    server_failures = _WellKnown("serverfailures")
    sync_issues = _WellKnown("syncissues")
    todo_search = _WellKnown("todosearch")
    voice_mail = _WellKnown("voicemail")
    archive_recoverable_items_root = _WellKnown("archiverecoverableitemsroot")
    archive_recoverable_items_deletions = _WellKnown("archiverecoverableitemsdeletions")
    archive_recoverable_items_purges = _WellKnown("archiverecoverableitemspurges")
    archive_recoverable_items_versions = _WellKnown("archiverecoverableitemsversions")

    # --- notifications for the whole mailbox (SubscribeToAllFolders) ---------------------------------------
    def _all_folders(self) -> "_AllFolders":
        return _AllFolders(self)

    def subscribe_to_pull(self, **kwargs: Any) -> Tuple[str, Optional[str]]:
        """A pull subscription on every folder of the mailbox; see :meth:`Folder.subscribe_to_pull`."""
        return self._all_folders().subscribe_to_pull(**kwargs)

    def subscribe_to_push(self, callback_url: str, **kwargs: Any) -> Tuple[str, Optional[str]]:
        """A push subscription on every folder of the mailbox; see :meth:`Folder.subscribe_to_push`."""
        return self._all_folders().subscribe_to_push(callback_url, **kwargs)

    def subscribe_to_streaming(self, **kwargs: Any) -> str:
        """A streaming subscription on every folder of the mailbox; see :meth:`Folder.subscribe_to_streaming`."""
        return self._all_folders().subscribe_to_streaming(**kwargs)

    def pull_subscription(self, **kwargs: Any) -> Any:
        """``with account.pull_subscription() as (subscription_id, watermark):`` on every folder."""
        return self._all_folders().pull_subscription(**kwargs)

    def push_subscription(self, **kwargs: Any) -> Any:
        """``with account.push_subscription(callback_url=...) as (subscription_id, watermark):``."""
        return self._all_folders().push_subscription(**kwargs)

    def streaming_subscription(self, **kwargs: Any) -> Any:
        """``with account.streaming_subscription() as subscription_id:`` on every folder."""
        return self._all_folders().streaming_subscription(**kwargs)

    def get_events(self, subscription_id: str, watermark: str) -> Any:
        """The notifications of a pull subscription; see :meth:`Folder.get_events`."""
        return self._all_folders().get_events(subscription_id, watermark)

    def get_streaming_events(self, subscription_id_or_ids: Any, **kwargs: Any) -> Any:
        """The notifications of streaming subscriptions; see :meth:`Folder.get_streaming_events`."""
        return self._all_folders().get_streaming_events(subscription_id_or_ids, **kwargs)

    def unsubscribe(self, subscription_id: str) -> None:
        """End a pull or streaming subscription."""
        self._all_folders().unsubscribe(subscription_id)

    @property
    def domain(self) -> str:
        """The domain part of the primary SMTP address."""
        return self.primary_smtp_address.split("@", 1)[1]

    def bulk_create(self, folder: Any = None, items: Iterable[Any] = (), message_disposition: str = SAVE_ONLY,
                    send_meeting_invitations: str = "SendToNone", chunk_size: Optional[int] = None) -> List[Any]:
        """Create items in ``folder``. Returns, per item, the item (with id/changekey set) or the exception.

        Without a folder, Exchange saves each item in the default folder for its kind. For compatibility with
        an older README, ``bulk_create(items=[(item, field_names), ...])`` without a folder updates those
        items, exactly like :meth:`bulk_update`.
        """
        items = list(items)
        if folder is None and items and all(isinstance(i, tuple) and len(i) == 2 for i in items):
            return self.bulk_update(items=items, chunk_size=chunk_size)
        results = CreateItem(account=self, chunk_size=chunk_size).call(
            items, folder=folder, message_disposition=message_disposition,
            send_meeting_invitations=send_meeting_invitations)
        out: List[Any] = []
        for item, res in zip(items, results):
            if isinstance(res, Exception) or res is True:
                out.append(res)
                continue
            item._set_id(res.id, res.changekey)
            item.account = self
            item.folder = folder
            item._mark_clean()  # what the server has now is what the item holds
            if getattr(item, "attachments", None):
                item._attachment_ids_from(res)  # ids of the attachments sent inline
            out.append(item)
        return out

    def bulk_update(self, items: Iterable[Tuple[Any, Sequence[str]]], conflict_resolution: str = AUTO_RESOLVE,
                    message_disposition: Optional[str] = SAVE_ONLY,
                    send_meeting_invitations_or_cancellations: Optional[str] = "SendToNone",
                    suppress_read_receipts: Optional[bool] = None, chunk_size: Optional[int] = None) -> List[Any]:
        """Update (item, field names) pairs. Returns (id, changekey) per input or the exception.

        Exchange requires ``message_disposition`` for messages and ``send_meeting_invitations_or_cancellations``
        for calendar items; the defaults (SaveOnly, SendToNone) change nothing else.
        """
        pairs = list(items)
        results = UpdateItem(account=self, chunk_size=chunk_size).call(
            pairs, conflict_resolution=conflict_resolution, message_disposition=message_disposition,
            send_meeting_invitations_or_cancellations=send_meeting_invitations_or_cancellations,
            suppress_read_receipts=suppress_read_receipts)
        out: List[Any] = []
        for pair, res in zip(pairs, results):
            if isinstance(res, Exception) or res is None:
                out.append(res)
                continue
            item = pair[0]
            item._set_id(res.id, res.changekey)
            item._mark_clean(pair[1])
            out.append((res.id, res.changekey))
        return out

    def bulk_delete(self, ids: Iterable[Any], delete_type: str = HARD_DELETE,
                    send_meeting_cancellations: str = "SendToNone",
                    affected_task_occurrences: str = "AllOccurrences", suppress_read_receipts: Optional[bool] = None,
                    chunk_size: Optional[int] = None) -> List[Any]:
        """Delete items by id. Returns True per deleted input, or the exception."""
        return list(DeleteItem(account=self, chunk_size=chunk_size).call(
            ids, delete_type=delete_type, send_meeting_cancellations=send_meeting_cancellations,
            affected_task_occurrences=affected_task_occurrences, suppress_read_receipts=suppress_read_receipts))

    def bulk_move(self, ids: Iterable[Any], to_folder: Any, chunk_size: Optional[int] = None) -> List[Any]:
        """Move items (items, ``(id, changekey)`` tuples or id strings) to ``to_folder`` (MoveItem).

        Returns, per input and in order, the moved item's new ``(id, changekey)`` (None when the server doesn't
        return new ids, as Exchange 2007/2010 don't), or the exception for that input. Item objects passed in
        get their new id and ``folder``.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/moveitem-operation
        """
        return self._moved_or_copied(MoveItem, ids, to_folder, chunk_size, update_inputs=True)

    def bulk_copy(self, ids: Iterable[Any], to_folder: Any, chunk_size: Optional[int] = None) -> List[Any]:
        """Copy items to ``to_folder`` (CopyItem). Returns, per input and in order, the copy's
        ``(id, changekey)`` (None when the server doesn't return new ids), or the exception for that input.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/copyitem-operation
        """
        return self._moved_or_copied(CopyItem, ids, to_folder, chunk_size, update_inputs=False)

    def _moved_or_copied(self, service: Any, ids: Iterable[Any], to_folder: Any, chunk_size: Optional[int],
                         update_inputs: bool) -> List[Any]:
        inputs = list(ids)
        out: List[Any] = []
        for given, res in zip(inputs, service(account=self, chunk_size=chunk_size).call(inputs, to_folder=to_folder)):
            if isinstance(res, Exception):
                out.append(res)
                continue
            pair = (res.id, res.changekey) if res is not None and res.id else None
            if update_inputs and hasattr(given, "_set_id") and hasattr(given, "folder"):
                given._set_id(*(pair or (None,)))
                given.folder = to_folder
            out.append(pair)
        return out

    def bulk_send(self, ids: Iterable[Any], save_copy: bool = True, copy_to_folder: Any = None,
                  chunk_size: Optional[int] = None) -> List[Any]:
        """Send saved draft messages by id (SendItem): items, ``(id, changekey)`` tuples or id strings.

        With ``save_copy`` (default) a copy goes to ``copy_to_folder`` (default: Sent Items). Returns True per
        sent input, or the exception for it (``ErrorStaleObject`` when a change key is out of date).
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/senditem-operation
        """
        return list(SendItem(account=self, chunk_size=chunk_size).call(
            ids, save_item_to_folder=save_copy, saved_item_folder=copy_to_folder))

    def bulk_archive(self, ids: Iterable[Any], to_folder: Any, chunk_size: Optional[int] = None) -> List[Any]:
        """Move items to the archive mailbox (ArchiveItem), into the archive folder mirroring ``to_folder``.
        Returns, per input and in order, the archived item's ``(id, changekey)`` (None when the server doesn't say)
        or the exception for that input.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/archiveitem-operation
        """
        out: List[Any] = []
        for res in ArchiveItem(account=self, chunk_size=chunk_size).call(ids, to_folder=to_folder):
            out.append(res if isinstance(res, Exception) or res is None or not res.id else (res.id, res.changekey))
        return out

    def bulk_mark_as_junk(self, ids: Iterable[Any], is_junk: bool = True, move_item: bool = True,
                          chunk_size: Optional[int] = None) -> List[Any]:
        """Mark items as junk or not junk (MarkAsJunk). Returns, per input, the moved item's ``(id, changekey)``,
        None when it was not moved, or the exception for that input.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/markasjunk-operation
        """
        return list(MarkAsJunk(account=self, chunk_size=chunk_size).call(ids, is_junk=is_junk, move_item=move_item))

    def fetch(self, ids: Iterable[Any], only_fields: Optional[Sequence[str]] = None, folder: Any = None,
              chunk_size: Optional[int] = None) -> Iterator[Any]:
        """Stream full items for ids (items, (id, changekey) tuples or id strings), in order.

        ``only_fields`` limits the fields fetched (names of item fields). Yields the item or the exception.
        """
        if only_fields is None:
            shape, additional = ALL_PROPERTIES, None
        else:
            shape, additional = ID_ONLY, self._field_objects(only_fields)
        for res in GetItem(account=self, chunk_size=chunk_size).call(ids, shape=shape, additional_fields=additional):
            if not isinstance(res, Exception) and res is not None and folder is not None:
                res.folder = folder
            yield res

    def _field_objects(self, names: Sequence[str]) -> List[Any]:
        fields = []
        for name in names:
            found = None
            for cls in ITEM_CLASSES.values():
                f = cls.FIELDS.get(name)
                if f is not None:
                    found = f
                    break
            if found is None:
                raise ValueError(f"Unknown item field {name!r}")
            fields.append(found)
        return fields

    def export(self, items: Iterable[Any], chunk_size: Optional[int] = None) -> List[Any]:
        """Export items (items, ``(id, changekey)`` tuples or id strings) as opaque full-fidelity data.

        Returns, per input and in order, the item's data as a base64 ``str`` (every field, attachment and
        recurrence) or the exception for that item. ``upload()`` turns the data back into items.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/exportitems-operation
        """
        return list(ExportItems(account=self, chunk_size=chunk_size).call(items))

    def upload(self, data: Iterable[Tuple[Any, ...]], create_action: str = CREATE_NEW,
               is_associated: Optional[bool] = None, chunk_size: Optional[int] = None) -> List[Any]:
        """Create items from exported data: ``account.upload([(folder, data), ...])``.

        ``folder`` is a folder with an id (``account.inbox``, a folder you fetched or created) and ``data``
        what ``export()`` returned. Returns, per input and in order, the new item's ``(id, changekey)`` or
        the exception. With ``create_action='Update'`` or ``'UpdateOrCreate'`` inputs are
        ``(folder, data, item_id)`` and overwrite that item.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/uploaditems-operation
        """
        return list(UploadItems(account=self, chunk_size=chunk_size).call(
            data, create_action=create_action, is_associated=is_associated))

    # --- mailbox settings ---------------------------------------------------------------------------------
    @property
    def oof_settings(self) -> OofSettings:
        """The mailbox's out-of-office settings, read from the server on each access (GetUserOofSettings).

        Assign an :class:`~exchangelib.settings.OofSettings` to change them (SetUserOofSettings).
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseroofsettings-operation
        """
        return GetUserOofSettings(account=self).call(self.primary_smtp_address)

    @oof_settings.setter
    def oof_settings(self, value: OofSettings) -> None:
        SetUserOofSettings(account=self).call(value, self.primary_smtp_address)

    # --- inbox rules ----------------------------------------------------------------------------------------
    @property
    def rules(self) -> List[Rule]:
        """The mailbox's Inbox rules in priority order, read from the server on each access (GetInboxRules).

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getinboxrules-operation
        """
        return GetInboxRules(account=self).call()[0]

    @property
    def outlook_rule_blob_exists(self) -> bool:
        """Whether Outlook keeps rules in its own format in this mailbox; changing rules through EWS deletes them."""
        return GetInboxRules(account=self).call()[1]

    def create_rule(self, rule: Rule, remove_outlook_rule_blob: bool = True) -> Rule:
        """Create an Inbox rule (UpdateInboxRules with a CreateRuleOperation); sets ``rule.id``.

        Problems Exchange finds raise ``ErrorInboxRulesValidationError`` whose ``validation_errors`` name the part
        of the rule (e.g. ``Action:MoveToFolder`` / ``FolderDoesNotExist``).
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateinboxrules-operation
        """
        if not isinstance(rule, Rule):
            raise TypeError(f"create_rule() needs a Rule, got {type(rule).__name__}")
        before = {r.id for r in self.rules}
        UpdateInboxRules(account=self).call([(RULE_CREATE, rule)], remove_outlook_rule_blob=remove_outlook_rule_blob)
        new = [r for r in self.rules if r.id not in before and r.display_name == rule.display_name]
        if len(new) != 1:
            raise EWSError(f"Created rule {rule.display_name!r} but could not find its id afterwards")
        rule._set_field("id", new[0].id)
        rule._set_field("priority", new[0].priority)
        rule.account = self
        return rule

    def set_rule(self, rule: Rule, remove_outlook_rule_blob: bool = True) -> Rule:
        """Replace an existing rule (it needs its ``id``) with this one (SetRuleOperation)."""
        if not isinstance(rule, Rule):
            raise TypeError(f"set_rule() needs a Rule, got {type(rule).__name__}")
        UpdateInboxRules(account=self).call([(RULE_SET, rule)], remove_outlook_rule_blob=remove_outlook_rule_blob)
        rule.account = self
        return rule

    def delete_rule(self, rule: Rule, remove_outlook_rule_blob: bool = True) -> None:
        """Delete a rule (DeleteRuleOperation); afterwards ``rule.id`` is None."""
        if not isinstance(rule, Rule):
            raise TypeError(f"delete_rule() needs a Rule, got {type(rule).__name__}")
        if not rule.id:
            raise ValueError("delete_rule() needs a rule with an id (from account.rules or create_rule())")
        UpdateInboxRules(account=self).call([(RULE_DELETE, rule)], remove_outlook_rule_blob=remove_outlook_rule_blob)
        rule._set_field("id", None)

    # --- conversations -----------------------------------------------------------------------------------------
    @property
    def conversations(self) -> List[Any]:
        """The Inbox's conversations, newest first (FindConversation); see :meth:`find_conversations`."""
        return self.find_conversations(self.inbox)

    def find_conversations(self, folder: Any = None, query_string: Optional[str] = None,
                           max_items: Optional[int] = None) -> List[Any]:
        """The conversations with items in ``folder`` (default: the Inbox), newest first (FindConversation).
        Each :class:`~exchangelib.properties.conversation.Conversation` has ``items()``, ``move()``, ``copy()``,
        ``delete()``, ``categorize()``, ``flag()`` and ``set_read_state()``.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findconversation-operation
        """
        return FindConversation(account=self).call(folder if folder is not None else self.inbox,
                                                   query_string=query_string, max_items=max_items)

    def conversation_items(self, conversation: Any, folders_to_ignore: Optional[List[Any]] = None,
                           max_items: Optional[int] = None) -> List[Any]:
        """Every item of a conversation in the mailbox, oldest first (GetConversationItems).

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getconversationitems-operation
        """
        (res,) = GetConversationItems(account=self).call([conversation], folders_to_ignore=folders_to_ignore,
                                                         max_items=max_items)
        if isinstance(res, Exception):
            raise res
        return res

    def apply_conversation_actions(self, actions: Iterable[Dict[str, Any]]) -> List[Any]:
        """Apply actions to whole conversations (ApplyConversationAction): dicts with ``action`` ('Move', 'Copy',
        'Delete', 'AlwaysCategorize', 'SetReadState', 'Flag'...), ``conversation`` and the action's arguments
        (``destination_folder``, ``context_folder``, ``categories``, ``is_read``, ``delete_type``, ``flag``).
        Returns True or the exception per action.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/applyconversationaction-operation
        """
        return ApplyConversationAction(account=self).call(actions)

    # --- delegates ---------------------------------------------------------------------------------------------
    @property
    def delegates(self) -> List[Any]:
        """The mailbox's delegates with their folder levels (GetDelegate), read on each access.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getdelegate-operation
        """
        return GetDelegate(account=self).call(include_permissions=True)[0]

    @property
    def deliver_meeting_requests(self) -> Optional[str]:
        """Where meeting requests go when the mailbox has delegates: ``'DelegatesOnly'``, ``'DelegatesAndMe'``,
        ``'DelegatesAndSendInformationToMe'`` or ``'NoForward'``. Assign to change it (UpdateDelegate)."""
        return GetDelegate(account=self).call(include_permissions=False)[1]

    @deliver_meeting_requests.setter
    def deliver_meeting_requests(self, value: str) -> None:
        UpdateDelegate(account=self).call([], deliver_meeting_requests=value)

    def add_delegate(self, delegates: Any, deliver_meeting_requests: Optional[str] = None) -> List[Any]:
        """Add one or more :class:`~exchangelib.properties.permissions.DelegateUser` (AddDelegate). Their folder
        levels become permissions on the Calendar, Tasks, Inbox, Contacts, Notes and Journal folders.
        Returns, per input, the delegate as the server now has it, or the exception for it
        (``ErrorDelegateAlreadyExists``, ``ErrorDelegateNoUser``...).

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/adddelegate-operation
        """
        users = [delegates] if isinstance(delegates, DelegateUser) else list(delegates)
        return AddDelegate(account=self).call(users, deliver_meeting_requests=deliver_meeting_requests)[0]

    def update_delegate(self, delegates: Any, deliver_meeting_requests: Optional[str] = None) -> List[Any]:
        """Change existing delegates (UpdateDelegate): only the levels and flags that are set change.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updatedelegate-operation
        """
        users = [delegates] if isinstance(delegates, DelegateUser) else list(delegates)
        return UpdateDelegate(account=self).call(users, deliver_meeting_requests=deliver_meeting_requests)[0]

    def remove_delegate(self, users: Any) -> List[Any]:
        """Remove delegates (RemoveDelegate): DelegateUser objects, UserIds or addresses. Returns True or the
        exception per input. Their folder permissions are removed too.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/removedelegate-operation
        """
        items = [users] if isinstance(users, (str, DelegateUser)) else list(users)
        return RemoveDelegate(account=self).call(items)[0]

    def resolve_names(self, names: Iterable[str], return_full_contact_data: bool = False) -> List[Any]:
        return list(ResolveNames(account=self).call(names, return_full_contact_data=return_full_contact_data))

    def fetch_personas(self, ids: Iterable[Any]) -> Iterator[Any]:
        """Personas by id (GetPersona): Persona objects, ``(id, changekey)`` tuples or id strings. Yields, per
        input and in order, the Persona with every property the server has, or the exception for that id.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getpersona-operation
        """
        return GetPersona(account=self).call(ids)

    @property
    def mail_tips(self) -> "MailTipsLookup":
        """Mail tips (GetMailTips): ``account.mail_tips(recipients, mail_tips_requested='All')`` returns one
        :class:`~exchangelib.properties.availability.MailTips` (or the exception) per recipient address, in order,
        as seen by this mailbox as sender. ``account.mail_tips.out_of_office`` (any attribute) reads the tips of
        the account's own mailbox, as exchangelib 5.x's ``account.mail_tips`` property does.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getmailtips-operation
        """
        return MailTipsLookup(self)

    def __repr__(self) -> str:
        return f"Account({self.primary_smtp_address!r}, access_type={self.access_type!r})"

    def __str__(self) -> str:
        return self.primary_smtp_address


class MailTipsLookup:
    """What ``account.mail_tips`` returns: callable for any recipients, and a stand-in for the account's own tips."""

    __slots__ = ("_account", "_own")

    def __init__(self, account: Account):
        self._account = account
        self._own: Any = None

    def __call__(self, recipients: Iterable[Any], mail_tips_requested: str = "All") -> List[Any]:
        addresses = [r if isinstance(r, str) else getattr(r, "email_address", None) or
                     getattr(r, "primary_smtp_address", None) or r for r in recipients]
        return GetMailTips(account=self._account).call(sending_as=self._account.primary_smtp_address,
                                                       recipients=addresses, mail_tips_requested=mail_tips_requested)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._own is None:
            [own] = self([self._account.primary_smtp_address])
            if isinstance(own, Exception):
                raise own
            self._own = own
        return getattr(self._own, name)

    def __repr__(self) -> str:
        return f"MailTipsLookup({self._account.primary_smtp_address!r})"


def _default_locale() -> str:
    loc = stdlib_locale.getlocale()[0]
    if not loc or loc in ("C", "POSIX"):
        return "en-US"
    return loc.replace("_", "-")


__all__ = ["Account", "DELEGATE", "IMPERSONATION", "EWSError"]
