"""The local EWS server's in-memory mailbox store.

A :class:`Store` holds mailboxes; a :class:`Mailbox` holds a folder tree and the items in it.
Items and folders are kept as the lxml elements of the EWS ``types`` namespace (``t:Message``,
``t:CalendarFolder`` ...), so the operation handlers in :mod:`exchangelib.testing.ops` work from
XML and the XSD alone, never from the client's models.

Identifiers behave like Exchange's: ``ItemId``/``FolderId`` values are opaque base64 strings
that encode the owning mailbox and a random 16-byte key (see :func:`encode_id`), and every write
gives the object a new ``ChangeKey``. Alternate id formats for ConvertId (EwsLegacyId, EntryId,
HexEntryId, StoreId, OwaId) encode the same key; see :func:`convert_id`.

Each new mailbox gets the folders a new Exchange mailbox has, limited to the distinguished
folder names the emulated server build knows (rule: each name is tagged with the first
Exchange version whose schema has it, see ``DEFAULT_FOLDERS``). Archive folders exist only for
mailboxes created with ``archive=True``. There are no public folders: ``publicfoldersroot``
answers ErrorNoPublicFolderReplicaAvailable, as Exchange does for an organisation without public
folder mailboxes.

The store is thread-safe through one store-wide re-entrant lock, :attr:`Store.lock`. Operation
handlers take it for the whole request.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/convertid-operation
"""
from __future__ import annotations

import base64
import binascii
import itertools
import logging
import secrets
import struct
import threading
from datetime import datetime, timezone
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from lxml import etree

from ..version import API_VERSION_BUILDS, Build
from ..xml import TNS
from .context import ResponseCodeError

log = logging.getLogger(__name__)

FOLDER = "F"
ITEM = "I"

# --- Default folder hierarchy --------------------------------------------------------------------
# (distinguished id, English display name, parent distinguished id, element kind, FolderClass,
#  first RequestServerVersion whose schema has the distinguished id). Folders whose version is
# newer than the emulated server build are not created.
DEFAULT_FOLDERS: Tuple[Tuple[str, str, Optional[str], str, Optional[str], str], ...] = (
    ("root", "root", None, "Folder", None, "Exchange2007"),
    ("msgfolderroot", "Top of Information Store", "root", "Folder", None, "Exchange2007"),
    ("inbox", "Inbox", "msgfolderroot", "Folder", "IPF.Note", "Exchange2007"),
    ("outbox", "Outbox", "msgfolderroot", "Folder", "IPF.Note", "Exchange2007"),
    ("sentitems", "Sent Items", "msgfolderroot", "Folder", "IPF.Note", "Exchange2007"),
    ("deleteditems", "Deleted Items", "msgfolderroot", "Folder", "IPF.Note", "Exchange2007"),
    ("drafts", "Drafts", "msgfolderroot", "Folder", "IPF.Note", "Exchange2007"),
    ("junkemail", "Junk Email", "msgfolderroot", "Folder", "IPF.Note", "Exchange2007"),
    ("calendar", "Calendar", "msgfolderroot", "CalendarFolder", "IPF.Appointment", "Exchange2007"),
    ("contacts", "Contacts", "msgfolderroot", "ContactsFolder", "IPF.Contact", "Exchange2007"),
    ("tasks", "Tasks", "msgfolderroot", "TasksFolder", "IPF.Task", "Exchange2007"),
    ("notes", "Notes", "msgfolderroot", "Folder", "IPF.StickyNote", "Exchange2007"),
    ("journal", "Journal", "msgfolderroot", "Folder", "IPF.Journal", "Exchange2007"),
    ("conversationhistory", "Conversation History", "msgfolderroot", "Folder", "IPF.Note", "Exchange2013"),
    ("syncissues", "Sync Issues", "msgfolderroot", "Folder", "IPF.Note", "Exchange2013"),
    ("conflicts", "Conflicts", "syncissues", "Folder", "IPF.Note", "Exchange2013"),
    ("localfailures", "Local Failures", "syncissues", "Folder", "IPF.Note", "Exchange2013"),
    ("serverfailures", "Server Failures", "syncissues", "Folder", "IPF.Note", "Exchange2013"),
    ("recipientcache", "RecipientCache", "contacts", "ContactsFolder", "IPF.Contact.RecipientCache",
     "Exchange2013"),
    ("quickcontacts", "{06967759-274D-40B2-A3EB-D7F9E73727D7}", "contacts", "ContactsFolder",
     "IPF.Contact.MOC.QuickContacts", "Exchange2013"),
    ("imcontactlist", "{A9E2BC46-B3A0-4243-B315-60D991004455}", "contacts", "ContactsFolder",
     "IPF.Contact.MOC.ImContactList", "Exchange2013"),
    ("scheduled", "Scheduled", "msgfolderroot", "Folder", "IPF.Note", "V2018_01_08"),
    ("archive", "Archive", "msgfolderroot", "Folder", "IPF.Note", "V2018_01_08"),
    ("externalcontacts", "ExternalContacts", "contacts", "ContactsFolder", "IPF.Contact", "V2018_01_08"),
    ("searchfolders", "Finder", "root", "Folder", None, "Exchange2007"),
    ("voicemail", "Voice Mail", "searchfolders", "SearchFolder", "IPF.Note.Microsoft.Voicemail", "Exchange2007"),
    ("todosearch", "To-Do Search", "root", "SearchFolder", "IPF.Task", "Exchange2013"),
    ("mycontacts", "MyContacts", "root", "SearchFolder", "IPF.Contact", "Exchange2013"),
    ("adminauditlogs", "AdminAuditLogs", "root", "Folder", None, "Exchange2013"),
    ("directory", "Directory", "root", "Folder", None, "Exchange2013"),
    ("peopleconnect", "PeopleConnect", "root", "Folder", None, "Exchange2013"),
    ("favorites", "Favorites", "root", "SearchFolder", "IPF.Note", "Exchange2016"),
    ("recoverableitemsroot", "Recoverable Items", "root", "Folder", None, "Exchange2010_SP1"),
    ("recoverableitemsdeletions", "Deletions", "recoverableitemsroot", "Folder", None, "Exchange2010_SP1"),
    ("recoverableitemsversions", "Versions", "recoverableitemsroot", "Folder", None, "Exchange2010_SP1"),
    ("recoverableitemspurges", "Purges", "recoverableitemsroot", "Folder", None, "Exchange2010_SP1"),
    ("recoverableitemsdiscoveryholds", "DiscoveryHolds", "recoverableitemsroot", "Folder", None, "Exchange2013"),
    # Exchange Online only
    ("mecontact", "MeContact", "root", "ContactsFolder", "IPF.Contact", "V2018_01_08"),
    ("personmetadata", "PersonMetadata", "root", "Folder", None, "V2018_01_08"),
    ("teamspaceactivity", "TeamspaceActivity", "root", "Folder", None, "V2018_01_08"),
    ("teamspacemessaging", "TeamspaceMessaging", "root", "Folder", None, "V2018_01_08"),
    ("teamspaceworkitems", "TeamspaceWorkItems", "root", "Folder", None, "V2018_01_08"),
    ("orionnotes", "OrionNotes", "root", "Folder", None, "V2018_01_08"),
    ("tagitems", "TagItems", "root", "Folder", None, "V2018_01_08"),
    ("alltaggeditems", "AllTaggedItems", "root", "SearchFolder", None, "V2018_01_08"),
    ("allcategorizeditems", "AllCategorizedItems", "root", "SearchFolder", None, "V2018_01_08"),
    ("teamchat", "TeamChat", "root", "Folder", "IPF.SkypeTeams.Message", "V2018_01_08"),
    ("teamchathistory", "Team Chat", "root", "Folder", "IPF.SkypeTeams.Message", "V2018_01_08"),
    ("yammerdata", "Yammer Root", "root", "Folder", None, "V2018_01_08"),
    ("yammerroot", "YammerRoot", "yammerdata", "Folder", None, "V2018_01_08"),
    ("yammerinbound", "Inbound", "yammerroot", "Folder", "IPF.Note", "V2018_01_08"),
    ("yammeroutbound", "Outbound", "yammerroot", "Folder", "IPF.Note", "V2018_01_08"),
    ("yammerfeeds", "Feeds", "yammerroot", "Folder", "IPF.Note", "V2018_01_08"),
    ("kaizaladata", "KaizalaData", "root", "Folder", None, "V2018_01_08"),
    ("messageingestion", "MessageIngestion", "root", "Folder", None, "V2018_01_08"),
    ("onedriveroot", "OneDriveRoot", "root", "Folder", None, "V2018_01_08"),
    ("onedriverecylebin", "OneDriveRecycleBin", "onedriveroot", "Folder", None, "V2018_01_08"),
    ("onedrivesystem", "OneDriveSystem", "onedriveroot", "Folder", None, "V2018_01_08"),
    ("onedrivevolume", "OneDriveVolume", "onedriveroot", "Folder", None, "V2018_01_08"),
    ("important", "Important", "root", "SearchFolder", "IPF.Note", "V2018_01_08"),
    ("starred", "Starred", "root", "SearchFolder", "IPF.Note", "V2018_01_08"),
)

# The archive mailbox's tree, created only for mailboxes with an archive.
ARCHIVE_FOLDERS: Tuple[Tuple[str, str, Optional[str], str, Optional[str], str], ...] = (
    ("archiveroot", "root", None, "Folder", None, "Exchange2010_SP1"),
    ("archivemsgfolderroot", "Top of Information Store", "archiveroot", "Folder", None, "Exchange2010_SP1"),
    ("archiveinbox", "Inbox", "archivemsgfolderroot", "Folder", "IPF.Note", "Exchange2013"),
    ("archivedeleteditems", "Deleted Items", "archivemsgfolderroot", "Folder", "IPF.Note", "Exchange2010_SP1"),
    ("archiverecoverableitemsroot", "Recoverable Items", "archiveroot", "Folder", None, "Exchange2010_SP1"),
    ("archiverecoverableitemsdeletions", "Deletions", "archiverecoverableitemsroot", "Folder", None,
     "Exchange2010_SP1"),
    ("archiverecoverableitemsversions", "Versions", "archiverecoverableitemsroot", "Folder", None,
     "Exchange2010_SP1"),
    ("archiverecoverableitemspurges", "Purges", "archiverecoverableitemsroot", "Folder", None, "Exchange2010_SP1"),
    ("archiverecoverableitemsdiscoveryholds", "DiscoveryHolds", "archiverecoverableitemsroot", "Folder", None,
     "Exchange2013"),
)

# Distinguished id -> first RequestServerVersion that has it (for requests naming it).
DISTINGUISHED_FOLDER_VERSIONS: Dict[str, str] = {row[0]: row[5] for row in DEFAULT_FOLDERS + ARCHIVE_FOLDERS}
DISTINGUISHED_FOLDER_VERSIONS["publicfoldersroot"] = "Exchange2007"

# Folder element kind -> default FolderClass of a folder created without one.
DEFAULT_FOLDER_CLASS = {
    "Folder": "IPF.Note",
    "CalendarFolder": "IPF.Appointment",
    "ContactsFolder": "IPF.Contact",
    "TasksFolder": "IPF.Task",
    "SearchFolder": "IPF.Note",
}

_CHANGEKEY_CLASS = {"Folder": 1, "CalendarFolder": 2, "ContactsFolder": 3, "TasksFolder": 4, "SearchFolder": 5,
                    "Message": 9, "CalendarItem": 6, "Contact": 7, "Task": 8, "DistributionList": 10,
                    "PostItem": 11, "MeetingRequest": 12, "MeetingResponse": 13, "MeetingCancellation": 14,
                    "MeetingMessage": 15}


def version_build(api_version: str) -> Build:
    """The oldest build speaking a RequestServerVersion value (unknown values count as the newest)."""
    build = API_VERSION_BUILDS.get(api_version)
    if build is None:
        return Build(99, 0)
    return build


def version_at_least(api_version: str, minimum: str) -> bool:
    """Does the schema of ``api_version`` include things introduced in ``minimum``?"""
    return version_build(api_version) >= version_build(minimum)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def format_datetime(dt: datetime) -> str:
    """Format an aware datetime as Exchange does: UTC, second precision, 'Z' suffix."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Identifiers ---------------------------------------------------------------------------------
_EWS_ID_VERSION = 0x01
_LEGACY_ID_VERSION = 0x00
_KEY_LEN = 16
_ENTRY_ID_FLAGS = b"\x00\x00\x00\x00"
_ENTRY_ID_TYPE = {FOLDER: 0x0001, ITEM: 0x0007}
_ENTRY_ID_KIND = {v: k for k, v in _ENTRY_ID_TYPE.items()}
_STORE_ID_MAGIC = b"\x53\x49"  # 'SI'
_OWA_ID_MAGIC = 0x52
ID_FORMATS = ("EwsLegacyId", "EwsId", "EntryId", "HexEntryId", "StoreId", "OwaId")


def _malformed(message: str = "Id is malformed.") -> ResponseCodeError:
    return ResponseCodeError("ErrorInvalidIdMalformed", message)


def _pack_ews(version: int, kind: str, mailbox: str, key: bytes) -> bytes:
    addr = mailbox.lower().encode("utf-8")
    return bytes((version, ord(kind))) + struct.pack(">H", len(addr)) + addr + key


def _unpack_ews(raw: bytes, version: int) -> Tuple[str, str, bytes]:
    if len(raw) < 4 + _KEY_LEN or raw[0] != version or chr(raw[1]) not in (FOLDER, ITEM):
        raise _malformed()
    (addr_len,) = struct.unpack(">H", raw[2:4])
    if len(raw) != 4 + addr_len + _KEY_LEN:
        raise _malformed()
    try:
        addr = raw[4:4 + addr_len].decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed() from None
    return chr(raw[1]), addr, raw[4 + addr_len:]


def _b64decode(s: str, urlsafe: bool = False) -> bytes:
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(s.encode("ascii") + b"=" * (-len(s) % 4))
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise _malformed() from None


def encode_id(kind: str, mailbox: str, key: bytes) -> str:
    """The EwsId of an object: base64 of (format version, kind, mailbox address, 16-byte key)."""
    return base64.b64encode(_pack_ews(_EWS_ID_VERSION, kind, mailbox, key)).decode("ascii")


def decode_id(value: Optional[str]) -> Tuple[str, str, bytes]:
    """Decode an EwsId into (kind, mailbox address, key). Raises ErrorInvalidIdEmpty/ErrorInvalidIdMalformed."""
    if not value:
        raise ResponseCodeError("ErrorInvalidIdEmpty", "Id must be non-empty.")
    return _unpack_ews(_b64decode(value), _EWS_ID_VERSION)


_ATTACHMENT_ID_VERSION = 0x02
ATTACHMENT_TOKEN_LEN = 8


def encode_attachment_id(mailbox: str, item_key: bytes, token: bytes) -> str:
    """An AttachmentId: base64 of (format version, mailbox, the parent item's key, the attachment's token).

    Like Exchange's, it embeds the parent item, so it changes when the item moves.
    """
    return base64.b64encode(_pack_ews(_ATTACHMENT_ID_VERSION, ITEM, mailbox, item_key) + token).decode("ascii")


def decode_attachment_id(value: Optional[str]) -> Tuple[str, bytes, bytes]:
    """(mailbox address, parent item key, attachment token) of an AttachmentId."""
    if not value:
        raise ResponseCodeError("ErrorInvalidIdEmpty", "Id must be non-empty.")
    raw = _b64decode(value)
    if len(raw) <= ATTACHMENT_TOKEN_LEN:
        raise _malformed()
    _kind, addr, key = _unpack_ews(raw[:-ATTACHMENT_TOKEN_LEN], _ATTACHMENT_ID_VERSION)
    return addr, key, raw[-ATTACHMENT_TOKEN_LEN:]


def entry_id(kind: str, key: bytes, mailbox: "Mailbox") -> bytes:
    """A MAPI-style entry id: flags, the mailbox's store GUID, object type, object key."""
    return _ENTRY_ID_FLAGS + mailbox.store_guid + struct.pack(">H", _ENTRY_ID_TYPE[kind]) + key


def _parse_entry_id(raw: bytes) -> Tuple[str, bytes, bytes]:
    if len(raw) != 4 + 16 + 2 + _KEY_LEN or raw[:4] != _ENTRY_ID_FLAGS:
        raise _malformed()
    (typ,) = struct.unpack(">H", raw[20:22])
    if typ not in _ENTRY_ID_KIND:
        raise _malformed()
    return _ENTRY_ID_KIND[typ], raw[4:20], raw[22:]


def convert_id(store: "Store", value: str, source_format: str, dest_format: str,
               mailbox_address: str) -> Tuple[str, str]:
    """Convert an id between the ConvertId formats. Returns (new id, mailbox address).

    EwsId and EwsLegacyId carry the mailbox; the entry-id based formats take it from
    ``mailbox_address`` (the AlternateId's Mailbox attribute), as Exchange does.
    """
    if source_format not in ID_FORMATS or dest_format not in ID_FORMATS:
        raise ResponseCodeError("ErrorInvalidRequest", "Unknown id format.")
    if not value:
        raise ResponseCodeError("ErrorInvalidIdEmpty", "Id must be non-empty.")
    if source_format == "EwsId":
        kind, addr, key = decode_id(value)
    elif source_format == "EwsLegacyId":
        kind, addr, key = _unpack_ews(_b64decode(value), _LEGACY_ID_VERSION)
    else:
        if source_format == "EntryId":
            raw = _b64decode(value)
        elif source_format == "HexEntryId":
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raise _malformed() from None
        elif source_format == "StoreId":
            raw = _b64decode(value)
            if raw[:2] != _STORE_ID_MAGIC or len(raw) < 4:
                raise _malformed()
            (n,) = struct.unpack(">H", raw[2:4])
            raw = raw[4:]
            if len(raw) != n:
                raise _malformed()
        else:  # OwaId
            raw = _b64decode(value, urlsafe=True)
            if not raw or raw[0] != _OWA_ID_MAGIC:
                raise _malformed()
            raw = raw[1:]
        kind, _guid, key = _parse_entry_id(raw)
        addr = mailbox_address
    mb = store.get_mailbox(addr)
    if mb is None:
        raise ResponseCodeError("ErrorNonExistentMailbox", f"No mailbox with SMTP address {addr}")
    addr = mb.primary_smtp_address
    if dest_format == "EwsId":
        return encode_id(kind, addr, key), addr
    if dest_format == "EwsLegacyId":
        return base64.b64encode(_pack_ews(_LEGACY_ID_VERSION, kind, addr, key)).decode("ascii"), addr
    raw = entry_id(kind, key, mb)
    if dest_format == "EntryId":
        return base64.b64encode(raw).decode("ascii"), addr
    if dest_format == "HexEntryId":
        return raw.hex().upper(), addr
    if dest_format == "StoreId":
        return base64.b64encode(_STORE_ID_MAGIC + struct.pack(">H", len(raw)) + raw).decode("ascii"), addr
    return base64.urlsafe_b64encode(bytes((_OWA_ID_MAGIC,)) + raw).decode("ascii").rstrip("="), addr


def valid_changekey_format(value: str) -> bool:
    """Is ``value`` shaped like a ChangeKey this server hands out?"""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return len(raw) == 30 and struct.unpack("<I", raw[4:8])[0] == 22


# --- Records -------------------------------------------------------------------------------------
class _Versioned:
    """Something with an id and a ChangeKey that changes on every write."""

    kind_code = ITEM
    key: bytes
    mailbox: "Mailbox"
    element_kind: str
    change_number: int
    change_guid: bytes

    @property
    def id(self) -> str:
        return encode_id(self.kind_code, self.mailbox.primary_smtp_address, self.key)

    @property
    def changekey(self) -> str:
        cls = _CHANGEKEY_CLASS.get(self.element_kind, 9)
        raw = struct.pack("<II", cls, 22) + self.change_guid + self.change_number.to_bytes(6, "big")
        return base64.b64encode(raw).decode("ascii")


class FolderRecord(_Versioned):
    """One folder. ``props`` is a ``t:<kind>`` element holding the client-settable properties
    (DisplayName, FolderClass, ExtendedProperty, PermissionSet, SearchParameters); counts and
    ids are computed when a folder is rendered."""

    kind_code = FOLDER

    def __init__(self, mailbox: "Mailbox", key: bytes, parent: Optional["FolderRecord"], element_kind: str,
                 props: etree._Element, distinguished: Optional[str] = None):
        self.mailbox = mailbox
        self.key = key
        self.parent = parent
        self.element_kind = element_kind
        self.props = props
        self.distinguished = distinguished
        self.children: Dict[bytes, FolderRecord] = {}
        self.item_keys: Dict[bytes, None] = {}
        self.soft_deleted = False
        # For search folders created by clients: (predicate on item elements, base folders, deep?)
        self.search: Optional[Tuple[Callable[[etree._Element], bool], List["FolderRecord"], bool]] = None
        self.change_guid = secrets.token_bytes(16)
        self.change_number = mailbox.store.next_change_number()
        self.seq = mailbox.store.next_seq()

    def touch(self) -> None:
        """Record a write: new ChangeKey."""
        self.change_number = self.mailbox.store.next_change_number()

    @property
    def display_name(self) -> str:
        el = self.props.find(f"{{{TNS}}}DisplayName")
        return (el.text or "") if el is not None else ""

    @property
    def folder_class(self) -> Optional[str]:
        el = self.props.find(f"{{{TNS}}}FolderClass")
        return el.text if el is not None else None

    def live_children(self) -> List["FolderRecord"]:
        """Child folders that are not soft-deleted."""
        return [c for c in self.children.values() if not c.soft_deleted]

    def items(self, associated: bool = False) -> List["ItemRecord"]:
        """The folder's items in creation order: normal ones or associated (FAI) ones."""
        out = []
        for k in self.item_keys:
            rec = self.mailbox.store.items[k]
            if rec.associated == associated and not rec.soft_deleted:
                out.append(rec)
        return out

    def soft_deleted_items(self) -> List["ItemRecord"]:
        """Items soft-deleted from this folder (hidden in place, or moved to Recoverable Items)."""
        return sorted((rec for rec in self.mailbox.store.items.values() if rec.deleted_from is self),
                      key=lambda r: r.seq)

    def ancestors(self) -> Iterator["FolderRecord"]:
        f = self.parent
        while f is not None:
            yield f
            f = f.parent

    def walk(self, include_soft_deleted: bool = False) -> Iterator["FolderRecord"]:
        """Descendants, depth first, siblings in display-name order (not including self)."""
        kids = self.children.values() if include_soft_deleted else self.live_children()
        for child in sorted(kids, key=lambda f: (f.display_name.casefold(), f.seq)):
            yield child
            yield from child.walk(include_soft_deleted)

    def __repr__(self) -> str:
        return f"FolderRecord({self.distinguished or self.display_name!r}, {self.element_kind})"


class ItemRecord(_Versioned):
    """One item: ``elem`` is the stored ``t:Message``/``t:CalendarItem``/... element, complete with
    the server-set properties in schema order."""

    def __init__(self, mailbox: "Mailbox", key: bytes, folder: FolderRecord, elem: etree._Element,
                 associated: bool = False):
        self.mailbox = mailbox
        self.key = key
        self.folder = folder
        self.elem = elem
        self.associated = associated
        self.soft_deleted = False
        self.deleted_from: Optional[FolderRecord] = None
        self.change_guid = secrets.token_bytes(16)
        self.change_number = mailbox.store.next_change_number()
        self.seq = mailbox.store.next_seq()
        # (changekey, names of properties written) per write, newest last; for AutoResolve conflicts
        self.history: List[Tuple[str, frozenset]] = [(self.changekey, frozenset())]

    @property
    def element_kind(self) -> str:  # type: ignore[override]
        return self.elem.tag.rpartition("}")[2]

    def touch(self, changed: Iterable[str] = ()) -> None:
        """Record a write of the named properties: new ChangeKey."""
        self.change_number = self.mailbox.store.next_change_number()
        self.history.append((self.changekey, frozenset(changed)))
        del self.history[:-50]

    def changed_since(self, changekey: str) -> Optional[frozenset]:
        """Names of properties written after the version with this ChangeKey; None if unknown."""
        for i, (ck, _) in enumerate(self.history):
            if ck == changekey:
                out: frozenset = frozenset()
                for _, names in self.history[i + 1:]:
                    out |= names
                return out
        return None

    def __repr__(self) -> str:
        return f"ItemRecord({self.element_kind}, folder={self.folder!r})"


class Mailbox:
    """One user's mailbox: a folder tree (plus an optional archive tree) and its items."""

    def __init__(self, store: "Store", primary_smtp_address: str, display_name: str,
                 aliases: Sequence[str] = (), archive: bool = False):
        self.store = store
        self.primary_smtp_address = primary_smtp_address.lower()
        self.display_name = display_name
        self.aliases = tuple(a.lower() for a in aliases)
        self.has_archive = archive
        self.store_guid = secrets.token_bytes(16)
        self.folders: Dict[bytes, FolderRecord] = {}
        self.distinguished: Dict[str, FolderRecord] = {}
        self._create_default_folders(DEFAULT_FOLDERS)
        if archive:
            self._create_default_folders(ARCHIVE_FOLDERS)

    # -- folders --
    def _create_default_folders(self, table: Sequence[Tuple[str, str, Optional[str], str, Optional[str], str]]
                                ) -> None:
        server = Build(*self.store.server_build)
        for dist_id, name, parent_id, kind, folder_class, min_version in table:
            if server < version_build(min_version):
                continue
            if dist_id == "junkemail" and server < version_build("Exchange2013"):
                name = "Junk E-mail"
            parent = self.distinguished.get(parent_id) if parent_id else None
            if parent_id and parent is None:
                continue
            folder = self.create_folder(parent, kind, name, folder_class, distinguished=dist_id)
            self.distinguished[dist_id] = folder

    def create_folder(self, parent: Optional[FolderRecord], kind: str, display_name: str = "",
                      folder_class: Optional[str] = None, distinguished: Optional[str] = None,
                      extra: Iterable[etree._Element] = (), props: Optional[etree._Element] = None) -> FolderRecord:
        """Create a folder under ``parent``. ``extra`` are further property elements, in schema order;
        ``props`` replaces the whole property element (DisplayName, FolderClass, ...)."""
        if props is None:
            props = etree.Element(f"{{{TNS}}}{kind}")
            if folder_class:
                etree.SubElement(props, f"{{{TNS}}}FolderClass").text = folder_class
            etree.SubElement(props, f"{{{TNS}}}DisplayName").text = display_name
            for e in extra:
                props.append(e)
        folder = FolderRecord(self, self.store.new_key(), parent, kind, props, distinguished)
        self.folders[folder.key] = folder
        self.store.folders[folder.key] = folder
        if parent is not None:
            parent.children[folder.key] = folder
            parent.touch()
        return folder

    def folder(self, distinguished_id: str) -> Optional[FolderRecord]:
        """The folder with a DistinguishedFolderId ('inbox', 'calendar', ...), or None."""
        return self.distinguished.get(distinguished_id)

    @property
    def root(self) -> FolderRecord:
        """The mailbox's root folder (the non-IPM subtree; 'root')."""
        return self.distinguished["root"]

    def all_folders(self) -> List[FolderRecord]:
        """Every folder of the mailbox, the archive tree included."""
        return list(self.folders.values())

    def remove_folder(self, folder: FolderRecord) -> None:
        """Hard-delete a folder, its subfolders and all their items."""
        for child in list(folder.children.values()):
            self.remove_folder(child)
        for k in list(folder.item_keys):
            self.store.remove_item(self.store.items[k])
        for rec in folder.soft_deleted_items():
            self.store.remove_item(rec)
        if folder.parent is not None:
            folder.parent.children.pop(folder.key, None)
            folder.parent.touch()
        self.folders.pop(folder.key, None)
        self.store.folders.pop(folder.key, None)
        if folder.distinguished and self.distinguished.get(folder.distinguished) is folder:
            del self.distinguished[folder.distinguished]

    def move_folder(self, folder: FolderRecord, new_parent: FolderRecord) -> None:
        """Move a folder (and its subtree) under ``new_parent``; folder ids stay, change keys change."""
        if folder.parent is not None:
            folder.parent.children.pop(folder.key, None)
            folder.parent.touch()
        folder.parent = new_parent
        new_parent.children[folder.key] = folder
        new_parent.touch()
        folder.touch()

    # -- addresses --
    def addresses(self) -> Tuple[str, ...]:
        """Primary SMTP address first, then the aliases (all lower case)."""
        return (self.primary_smtp_address,) + self.aliases

    def __repr__(self) -> str:
        return f"Mailbox({self.primary_smtp_address!r})"


class Store:
    """All mailboxes of the local server. ``server_build`` is the emulated Exchange build, e.g. (15, 1, 2507, 6).

    ``clock`` returns the current time as an aware datetime (defaults to the system clock); tests
    may pass a fake one.
    """

    def __init__(self, server_build: tuple = (15, 1, 2507, 6), clock: Optional[Callable[[], datetime]] = None):
        if not isinstance(server_build, tuple) or not 2 <= len(server_build) <= 4:
            raise TypeError(f"Store.server_build must be a tuple like (15, 1, 2507, 6), got {server_build!r}")
        self.server_build = tuple(server_build) + (0,) * (4 - len(server_build))
        Build(*self.server_build)  # validates the numbers
        self.lock = threading.RLock()
        self._clock = clock or utcnow
        self._seq = itertools.count(1)
        self._change_numbers = itertools.count(1)
        self._mailboxes: Dict[str, Mailbox] = {}
        self._addresses: Dict[str, Mailbox] = {}
        self.folders: Dict[bytes, FolderRecord] = {}
        self.items: Dict[bytes, ItemRecord] = {}
        #: Grows with every write to any item (create, change, move, delete): views computed from the items
        #: (FindItem's sorted result sets) stay valid while it is unchanged.
        self.generation = 0

    # -- bookkeeping --
    def now(self) -> datetime:
        dt = self._clock()
        if dt.tzinfo is None:
            raise ValueError("Store clock must return an aware datetime")
        return dt.astimezone(timezone.utc).replace(microsecond=0)

    def next_seq(self) -> int:
        return next(self._seq)

    def next_change_number(self) -> int:
        self.generation += 1
        return next(self._change_numbers)

    def new_key(self) -> bytes:
        while True:
            key = secrets.token_bytes(_KEY_LEN)
            if key not in self.items and key not in self.folders:
                return key

    # -- mailboxes --
    def add_mailbox(self, primary_smtp_address: str, display_name: str, aliases: Sequence[str] = (),
                    archive: bool = False) -> Mailbox:
        """Create a mailbox with Exchange's default folders. Addresses are matched case-insensitively."""
        if not isinstance(primary_smtp_address, str) or "@" not in primary_smtp_address:
            raise ValueError(f"Store.add_mailbox: primary_smtp_address must be an email address, "
                             f"got {primary_smtp_address!r}")
        if not isinstance(display_name, str):
            raise TypeError(f"Store.add_mailbox: display_name must be a str, got {display_name!r}")
        if isinstance(aliases, str):
            raise TypeError("Store.add_mailbox: aliases must be a sequence of addresses, not a str")
        with self.lock:
            addresses = [primary_smtp_address.lower()] + [a.lower() for a in aliases]
            for a in addresses:
                if a in self._addresses:
                    raise ValueError(f"Store.add_mailbox: address {a!r} is already used by "
                                     f"{self._addresses[a].primary_smtp_address!r}")
            mb = Mailbox(self, primary_smtp_address, display_name, aliases, archive=archive)
            self._mailboxes[mb.primary_smtp_address] = mb
            for a in addresses:
                self._addresses[a] = mb
            log.debug("Created mailbox %s", mb.primary_smtp_address)
            return mb

    def get_mailbox(self, address: Optional[str]) -> Optional[Mailbox]:
        """Find a mailbox by primary address or alias, case-insensitively."""
        if not address:
            return None
        address = address.strip()
        if address[:5].lower() == "smtp:":
            address = address[5:]
        return self._addresses.get(address.lower())

    @property
    def mailboxes(self) -> List[Mailbox]:
        return list(self._mailboxes.values())

    # -- items --
    def add_item(self, folder: FolderRecord, elem: etree._Element, associated: bool = False) -> ItemRecord:
        """Store an item element (already stamped with its server-set properties) in ``folder``."""
        rec = ItemRecord(folder.mailbox, self.new_key(), folder, elem, associated)
        self.items[rec.key] = rec
        folder.item_keys[rec.key] = None
        return rec

    def remove_item(self, rec: ItemRecord) -> None:
        """Hard-delete an item."""
        self.generation += 1
        self.items.pop(rec.key, None)
        rec.folder.item_keys.pop(rec.key, None)

    def move_item(self, rec: ItemRecord, folder: FolderRecord) -> ItemRecord:
        """Move an item; like Exchange, the moved item gets a new id. Returns the new record."""
        self.remove_item(rec)
        new = ItemRecord(folder.mailbox, self.new_key(), folder, rec.elem, rec.associated)
        self.items[new.key] = new
        folder.item_keys[new.key] = None
        return new

    def soft_delete_item(self, rec: ItemRecord) -> ItemRecord:
        """Soft-delete an item. Where the build has Recoverable Items (Exchange 2010 SP1+), the item
        moves to Recoverable Items\\Deletions; on older builds it stays in its folder, hidden from
        normal views (Exchange 2007's dumpster). Either way a SoftDeleted traversal of the original
        folder finds it."""
        dumpster = rec.mailbox.folder("recoverableitemsdeletions")
        origin = rec.folder
        if dumpster is not None:
            if rec.folder is dumpster:
                return rec
            rec = self.move_item(rec, dumpster)
        else:
            rec.soft_deleted = True
            self.generation += 1
        rec.deleted_from = origin
        return rec

    def find_item(self, key: bytes) -> Optional[ItemRecord]:
        return self.items.get(key)

    def find_folder(self, key: bytes) -> Optional[FolderRecord]:
        return self.folders.get(key)

    def __repr__(self) -> str:
        return f"Store(server_build={self.server_build!r}, mailboxes={len(self._mailboxes)})"
