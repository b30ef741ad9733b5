"""The local EWS server's in-memory mailbox store.

A :class:`Store` holds mailboxes; a :class:`Mailbox` holds a folder tree and the items in it.
Items and folders are kept as the lxml elements of the EWS ``types`` namespace (``t:Message``,
``t:CalendarFolder`` ...), so the operation handlers in :mod:`exchangelib.testing.ops` work from
XML and the XSD alone, never from the client's models.

Identifiers behave like Exchange's: ``ItemId``/``FolderId`` values have Exchange's binary layout
(``AAMk...``: the mailbox GUID and the object's MAPI entry id, which holds a random 16-byte key;
see :func:`encode_id`), any well-formed id in that layout is accepted (an unknown one is "not
found", not "malformed"), and every write gives the object a new ``ChangeKey``. Alternate id
formats for ConvertId (EwsLegacyId, the SMTP-based layout of Exchange 2007; EntryId, HexEntryId,
StoreId, OwaId) carry the same entry id; see :func:`convert_id`.

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
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from lxml import etree

from ..version import API_VERSION_BUILDS, Build
from ..xml import TNS
from .errors import ResponseCodeError

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
    ("conversationhistory", "Conversation History", "msgfolderroot", "Folder", "IPF.Note.Microsoft.Conversation",
     "Exchange2013"),
    ("syncissues", "Sync Issues", "msgfolderroot", "Folder", "IPF.Note", "Exchange2013"),
    ("conflicts", "Conflicts", "syncissues", "Folder", None, "Exchange2013"),
    ("localfailures", "Local Failures", "syncissues", "Folder", None, "Exchange2013"),
    ("serverfailures", "Server Failures", "syncissues", "Folder", None, "Exchange2013"),
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
    ("mycontacts", "MyContacts", "root", "SearchFolder", "IPF.Note", "Exchange2013"),
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
    # Distinguished ids Exchange Online accepts though no published XSD lists them (see LAX_DISTINGUISHED_IDS).
    ("allitems", "AllItems", "root", "SearchFolder", "IPF", "V2018_01_08"),
    ("allcontacts", "AllContacts", "root", "SearchFolder", "IPF.Note", "V2018_01_08"),
    ("allpersonmetadata", "AllPersonMetadata", "root", "SearchFolder", "IPF.Note", "V2018_01_08"),
    ("quarantinedemail", "QuarantinedEmail", "root", "Folder", "IPF.Note", "V2018_01_08"),
    ("quarantinedemaildefaultcategory", "QuarantinedEmailDefaultCategory", "quarantinedemail", "Folder", "IPF.Note",
     "V2018_01_08"),
    ("recoverableitemssubstrateholds", "SubstrateHolds", "recoverableitemsroot", "Folder", None, "V2018_01_08"),
    ("companycontacts", "Companies", "contacts", "ContactsFolder", "IPF.Contact.Company", "V2018_01_08"),
    ("peoplecentricconversationbuddies", "PeopleCentricConversation Buddies", "contacts", "ContactsFolder",
     "IPF.Contact.PeopleCentricConversationBuddies", "V2018_01_08"),
    ("relevantcontacts", "RelevantContacts", "contacts", "ContactsFolder", "IPF.Contact", "V2018_01_08"),
    ("usercuratedcontacts", "UserCuratedContacts", "contacts", "ContactsFolder", "IPF.Contact", "V2018_01_08"),
    ("temporarysaves", "TemporarySaves", "root", "Folder", None, "V2018_01_08"),
    ("dlppolicyevaluation", "DlpPolicyEvaluation", "root", "Folder", "IPF.StoreItem.DlpPolicyEvaluation",
     "V2018_01_08"),
    ("fromfavoritesenders", "From Favorite Senders", "root", "SearchFolder", "IPF.Note", "V2018_01_08"),
    ("inference", "Inference", "root", "Folder", None, "V2018_01_08"),
    ("onenotepagepreviews", "OneNotePagePreviews", "root", "Folder", None, "V2018_01_08"),
    ("qedcdefaultretention", "QedcDefaultRetention", "root", "Folder", None, "V2018_01_08"),
    ("qedclongretention", "QedcLongRetention", "root", "Folder", None, "V2018_01_08"),
    ("qedcmediumretention", "QedcMediumRetention", "root", "Folder", None, "V2018_01_08"),
    ("qedcshortretention", "QedcShortRetention", "root", "Folder", None, "V2018_01_08"),
    ("sharepointnotifications", "SharePointNotifications", "root", "Folder", None, "V2018_01_08"),
    ("shortnotes", "ShortNotes", "root", "Folder", "IPF.ShortNotes", "V2018_01_08"),
)

# Distinguished ids newer than the newest published XSD (V2018_01_08) that Exchange Online accepts; the
# strict mode lets them through on an Exchange Online server (exchangelib.testing.lax).
LAX_DISTINGUISHED_IDS = frozenset({
    "allitems", "allcontacts", "allpersonmetadata", "quarantinedemail", "quarantinedemaildefaultcategory",
    "recoverableitemssubstrateholds", "companycontacts", "peoplecentricconversationbuddies", "relevantcontacts",
    "usercuratedcontacts", "temporarysaves", "dlppolicyevaluation", "fromfavoritesenders", "inference",
    "onenotepagepreviews", "qedcdefaultretention", "qedclongretention", "qedcmediumretention", "qedcshortretention",
    "sharepointnotifications", "shortnotes"})

# Folders every real mailbox has that have no distinguished id (Outlook's and the store's own), as
# (display name, parent: a distinguished id, or '/'-joined display names below one, element kind,
#  FolderClass, first RequestServerVersion of the Exchange release that creates them).
SYSTEM_FOLDERS: Tuple[Tuple[str, str, str, Optional[str], str], ...] = (
    ("Common Views", "root", "Folder", None, "Exchange2007"),
    ("Deferred Action", "root", "Folder", None, "Exchange2007"),
    ("Freebusy Data", "root", "Folder", None, "Exchange2007"),
    ("Schedule", "root", "Folder", None, "Exchange2007"),
    ("Shortcuts", "root", "Folder", None, "Exchange2007"),
    ("Spooler Queue", "root", "Folder", None, "Exchange2007"),
    ("Views", "root", "Folder", None, "Exchange2007"),
    ("Reminders", "root", "Folder", "Outlook.Reminder", "Exchange2007"),
    ("System", "root", "Folder", None, "Exchange2010"),
    ("ExchangeSyncData", "root", "Folder", None, "Exchange2013"),
    ("Location", "root", "Folder", None, "Exchange2013"),
    ("MailboxAssociations", "root", "Folder", None, "Exchange2013"),
    ("Sharing", "root", "Folder", "IPF.Note", "Exchange2013"),
    ("TemporarySaves", "root", "Folder", None, "Exchange2016"),
    ("Working Set", "root", "Folder", None, "Exchange2016"),
    ("People I Know", "root", "ContactsFolder", "IPF.Contact", "Exchange2016"),
    ("Audits", "recoverableitemsroot", "Folder", None, "Exchange2013"),
    ("Calendar Version Store", "recoverableitemsroot", "Folder", None, "Exchange2010_SP1"),
    ("Quick Step Settings", "msgfolderroot", "Folder", "IPF.Configuration", "Exchange2010"),
    ("Calendar Logging", "recoverableitemsroot", "Folder", None, "Exchange2013"),
    ("Conversation Action Settings", "msgfolderroot", "Folder", "IPF.Configuration", "Exchange2010"),
    ("RSS Feeds", "msgfolderroot", "Folder", "IPF.Note.OutlookHomepage", "Exchange2010"),
    ("Social Activity Notifications", "msgfolderroot", "Folder", "IPF.Note.SocialConnector.FeedItems",
     "Exchange2013"),
    ("Files", "msgfolderroot", "Folder", "IPF.Files", "Exchange2016"),
    ("GAL Contacts", "contacts", "ContactsFolder", "IPF.Contact.GalContacts", "Exchange2016"),
    ("Organizational Contacts", "contacts", "ContactsFolder", "IPF.Contact.OrganizationalContacts", "Exchange2016"),
    ("PeopleCentricConversation Buddies", "contacts", "ContactsFolder",
     "IPF.Contact.PeopleCentricConversationBuddies", "Exchange2016"),
    ("Companies", "contacts", "ContactsFolder", "IPF.Contact.Company", "Exchange2016"),
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
# Exchange Online takes these with any RequestServerVersion its schema has (they exist only there).
DISTINGUISHED_FOLDER_VERSIONS.update({d: "Exchange2013" for d in LAX_DISTINGUISHED_IDS})

# Folder element kind -> default FolderClass of a folder created without one. A generic t:Folder gets
# none, as in Exchange (it is not a mail folder unless the client says so).
DEFAULT_FOLDER_CLASS: Dict[str, Optional[str]] = {
    "Folder": None,
    "CalendarFolder": "IPF.Appointment",
    "ContactsFolder": "IPF.Contact",
    "TasksFolder": "IPF.Task",
    "SearchFolder": None,
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
_KEY_LEN = 16
_ENTRY_ID_FLAGS = b"\x00\x00\x00\x00"
_STORE_ID_MAGIC = b"\x53\x49"  # 'SI'
_OWA_ID_MAGIC = 0x52
ID_FORMATS = ("EwsLegacyId", "EwsId", "EntryId", "HexEntryId", "StoreId", "OwaId")


def _malformed(message: str = "Id is malformed.") -> ResponseCodeError:
    return ResponseCodeError("ErrorInvalidIdMalformed", message)


def _b64decode(s: str, urlsafe: bool = False) -> bytes:
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(s.encode("ascii") + b"=" * (-len(s) % 4))
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise _malformed() from None


# Exchange's EwsId layout (Exchange 2010 SP1 and later, "AAMk..."): a compression byte (0, none), the id
# storage type (3: based on the mailbox GUID; 0: on the SMTP address, as in Exchange 2007's ids), the mailbox
# GUID or address as a length-prefixed (u16, little-endian) ASCII string, a processing-instruction byte (0:
# normal), then the length-prefixed store id: the MAPI entry id of the object. An entry id is 4 flag bytes,
# the mailbox's store (provider) GUID, the object type (u16 LE: 1 folder, 7 message), then one (folder) or
# two (the item's folder, then the item) 24-byte ids: a 16-byte GUID and a 6-byte counter plus 2 padding
# bytes. This server keeps each object's 16-byte key in the GUID of the last id.
_STORAGE_SMTP = 0x00
_STORAGE_MAILBOX_GUID = 0x03
_EID_TYPE = {FOLDER: 0x0001, ITEM: 0x0007}
_EID_KIND = {v: k for k, v in _EID_TYPE.items()}
_EID_LEN = {FOLDER: 46, ITEM: 70}


def _global_id(key: bytes) -> bytes:
    return key + key[:6] + b"\x00\x00"


def real_entry_id(kind: str, key: bytes, store_guid: bytes, folder_key: Optional[bytes] = None) -> bytes:
    """The MAPI entry id of a folder (46 bytes) or an item (70 bytes, with its folder's id)."""
    out = _ENTRY_ID_FLAGS + store_guid + struct.pack("<H", _EID_TYPE[kind])
    if kind == ITEM:
        out += _global_id(folder_key or bytes(_KEY_LEN))
    return out + _global_id(key)


def _parse_real_entry_id(raw: bytes) -> Tuple[str, bytes]:
    """(kind, object key) of a well-formed folder or message entry id."""
    if len(raw) not in (46, 70) or raw[:4] != _ENTRY_ID_FLAGS:
        raise _malformed()
    (typ,) = struct.unpack("<H", raw[20:22])
    kind = _EID_KIND.get(typ) or (FOLDER if len(raw) == 46 else ITEM)
    if len(raw) != _EID_LEN[kind]:
        raise _malformed()
    return kind, raw[-24:-8]


def _pack_real(storage: int, mailbox_ref: str, store_id: bytes, processing: int = 0) -> bytes:
    ref = mailbox_ref.encode("ascii")
    return (bytes((0, storage)) + struct.pack("<H", len(ref)) + ref + bytes((processing,))
            + struct.pack("<H", len(store_id)) + store_id)


# Processing instructions: a plain object, or an occurrence of a recurring series (its store id is the
# master's entry id followed by the occurrence's original start as a FILETIME).
_NORMAL = 0x00
_RECURRENCE = 0x01
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)


def _parse_real(raw: bytes) -> Tuple[str, str, bytes, int, bytes, bytes]:
    """(kind, mailbox GUID or address, key, processing instruction, bytes after the entry id in the store id,
    bytes after the store id) of an id in Exchange's layout. Raises ErrorInvalidIdMalformed."""
    if len(raw) < 6 or raw[0] != 0 or raw[1] not in (_STORAGE_SMTP, _STORAGE_MAILBOX_GUID):
        raise _malformed()
    (n,) = struct.unpack("<H", raw[2:4])
    try:
        ref = raw[4:4 + n].decode("ascii")
    except UnicodeDecodeError:
        raise _malformed() from None
    rest = raw[4 + n:]
    if len(ref) != n or len(rest) < 3 or rest[0] not in (_NORMAL, _RECURRENCE):
        raise _malformed()
    (m,) = struct.unpack("<H", rest[1:3])
    store_id, tail = rest[3:3 + m], rest[3 + m:]
    if len(store_id) != m:
        raise _malformed()
    eid_len = 46 if len(store_id) == 46 else 70
    kind, key = _parse_real_entry_id(store_id[:eid_len])
    return kind, ref, key, rest[0], store_id[eid_len:], tail


def encode_id(kind: str, mailbox: "Mailbox", key: bytes, folder_key: Optional[bytes] = None,
              legacy: bool = False) -> str:
    """The EwsId of an object in Exchange's layout (see above); ``legacy`` gives the SMTP-based EwsLegacyId."""
    store_id = real_entry_id(kind, key, mailbox.store_guid, folder_key)
    if legacy:
        raw = _pack_real(_STORAGE_SMTP, mailbox.primary_smtp_address, store_id)
    else:
        raw = _pack_real(_STORAGE_MAILBOX_GUID, mailbox.guid, store_id)
    return base64.b64encode(raw).decode("ascii")


def decode_id(value: Optional[str]) -> Tuple[str, str, bytes]:
    """Decode an EwsId into (kind, mailbox GUID or address, key): any well-formed id in Exchange's layout,
    GUID- or SMTP-based. Raises ErrorInvalidIdEmpty/ErrorInvalidIdMalformed. (Store.get_mailbox takes both.)"""
    if not value:
        raise ResponseCodeError("ErrorInvalidIdEmpty", "Id must be non-empty.")
    kind, ref, key, processing, extra, tail = _parse_real(_b64decode(value))
    if processing != _NORMAL or extra or tail:
        raise _malformed()  # an occurrence or attachment id where an item or folder id belongs
    return kind, ref, key


def encode_occurrence_id(mailbox: "Mailbox", master_key: bytes, folder_key: Optional[bytes],
                         original_start: datetime) -> str:
    """The ItemId of one occurrence: the master's EwsId with the Recurrence processing instruction and the
    occurrence's original start (FILETIME, 100 ns since 1601) after the master's entry id."""
    ticks = (original_start - _FILETIME_EPOCH) // timedelta(microseconds=1) * 10
    store_id = real_entry_id(ITEM, master_key, mailbox.store_guid, folder_key) + struct.pack("<q", ticks)
    return base64.b64encode(_pack_real(_STORAGE_MAILBOX_GUID, mailbox.guid, store_id, _RECURRENCE)).decode("ascii")


def decode_occurrence_id(value: Optional[str]) -> Optional[Tuple[str, bytes, datetime]]:
    """(mailbox GUID or address, master key, original start) of an occurrence id; None for any other id."""
    try:
        raw = base64.b64decode((value or "").encode("ascii"), validate=True)
        kind, ref, key, processing, extra, tail = _parse_real(raw)
    except (ResponseCodeError, binascii.Error, ValueError, UnicodeEncodeError):
        return None
    if kind != ITEM or processing != _RECURRENCE or len(extra) != 8 or tail:
        return None
    (ticks,) = struct.unpack("<q", extra)
    return ref, key, _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


ATTACHMENT_TOKEN_LEN = 8


def encode_attachment_id(mailbox: "Mailbox", item_key: bytes, folder_key: Optional[bytes], tokens: bytes) -> str:
    """An AttachmentId as Exchange builds one: the parent item's EwsId followed by the length-prefixed
    attachment part (here the tokens of the attachment and, for an attachment of an attached item, of
    every attachment on the way down). Like Exchange's, it changes when the item moves."""
    raw = base64.b64decode(encode_id(ITEM, mailbox, item_key, folder_key))
    return base64.b64encode(raw + struct.pack("<H", len(tokens)) + tokens).decode("ascii")


def decode_attachment_id(value: Optional[str]) -> Tuple[str, bytes, bytes]:
    """(mailbox GUID or address, parent item key, attachment tokens) of an AttachmentId."""
    if not value:
        raise ResponseCodeError("ErrorInvalidIdEmpty", "Id must be non-empty.")
    kind, ref, key, processing, extra, tail = _parse_real(_b64decode(value))
    if kind != ITEM or processing != _NORMAL or extra or len(tail) < 2:
        raise _malformed()
    (n,) = struct.unpack("<H", tail[:2])
    tokens = tail[2:]
    if len(tokens) != n or not n or n % ATTACHMENT_TOKEN_LEN:
        raise _malformed()
    return ref, key, tokens


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
    if source_format in ("EwsId", "EwsLegacyId"):
        kind, addr, key = decode_id(value)
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
        kind, key = _parse_real_entry_id(raw)
        addr = mailbox_address
    mb = store.get_mailbox(addr)
    if mb is None:
        raise ResponseCodeError("ErrorNonExistentMailbox", f"No mailbox with SMTP address {addr}")
    addr = mb.primary_smtp_address
    rec = store.find_item(key) if kind == ITEM else None
    folder_key = rec.folder.key if rec is not None else None
    if dest_format in ("EwsId", "EwsLegacyId"):
        return encode_id(kind, mb, key, folder_key, legacy=dest_format == "EwsLegacyId"), addr
    raw = real_entry_id(kind, key, mb.store_guid, folder_key)
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


# --- Change journals -----------------------------------------------------------------------------
# Journal operations. An item's entries live in its folder's journal; a folder's in its mailbox's
# hierarchy journal (with the parent folder's key, so a folder's place at any point can be replayed).
ADD = "add"
CHANGE = "change"
READ = "read"  # a write that changed only IsRead
MOVE = "move"  # folders only: a new parent
REMOVE = "remove"


class Journal:
    """A change log: per object key its ``(seq, op, extra)`` entries (oldest first), and the keys
    ordered by their latest change, so "what changed after seq N" is a walk from the newest end.

    ``seq`` values come from :meth:`Store.next_journal_seq` (store-wide, increasing). Sync states
    (see :mod:`exchangelib.testing.ops.sync`) are a position in this log, so they stay small
    whatever the folder holds.
    """

    def __init__(self) -> None:
        self.entries: Dict[bytes, List[Tuple[int, str, object]]] = {}
        self.latest: "OrderedDict[bytes, int]" = OrderedDict()

    def record(self, seq: int, key: bytes, op: str, extra: object = None) -> None:
        entries = self.entries.setdefault(key, [])
        last = entries[-1] if entries else None
        # Writes in a row collapse into the newest (keeping an object's entries few however often it is
        # written): presence never changes between them, and "only IsRead changed since s" gives the same
        # answer for every s. A CHANGE is never folded into a later READ, which would turn it into one.
        if last is not None and last[2] == extra and (
                (op == CHANGE and last[1] in (CHANGE, READ)) or (op == READ and last[1] == READ)):
            entries[-1] = (seq, op, extra)
        else:
            entries.append((seq, op, extra))
        self.latest[key] = seq
        self.latest.move_to_end(key)

    def changed_since(self, seq: int) -> List[bytes]:
        """Keys with an entry after ``seq``, ordered by their latest entry (oldest first)."""
        out = []
        for key in reversed(self.latest):
            if self.latest[key] <= seq:
                break
            out.append(key)
        out.reverse()
        return out

    def entry_at(self, key: bytes, seq: int) -> Optional[Tuple[int, str, object]]:
        """The newest entry of ``key`` at or before ``seq`` (None: the object did not exist yet)."""
        last = None
        for e in self.entries.get(key, ()):
            if e[0] > seq:
                break
            last = e
        return last

    def ops_after(self, key: bytes, seq: int) -> List[str]:
        return [e[1] for e in self.entries.get(key, ()) if e[0] > seq]

    def last_seq(self, key: bytes) -> int:
        return self.latest.get(key, 0)


class ChangeEvent(NamedTuple):
    """A change, as notification subscriptions see it (see :mod:`exchangelib.testing.notifications`)."""

    name: str  # 'CreatedEvent', 'ModifiedEvent', ... (EWS NotificationEventTypeType without Status)
    mailbox: "Mailbox"
    is_folder: bool
    object_id: str
    parent: Optional["FolderRecord"]
    old_id: Optional[str] = None
    old_parent: Optional["FolderRecord"] = None


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
        folder = getattr(self, "folder", None)
        folder_key = folder.key if folder is not None else None
        # Rendered for every item of every page: remembered until the object moves to another folder or mailbox
        cached = self.__dict__.get("_id_memo")
        if cached is not None and cached[0] == folder_key and cached[1] is self.mailbox:
            return cached[2]
        value = encode_id(self.kind_code, self.mailbox, self.key, folder_key)
        self.__dict__["_id_memo"] = (folder_key, self.mailbox, value)
        return value

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
        # The folder's item change journal (SyncFolderItems reads it)
        self.journal = Journal()
        self.change_guid = secrets.token_bytes(16)
        self.change_number = mailbox.store.next_change_number()
        self.seq = mailbox.store.next_seq()

    def touch(self) -> None:
        """Record a write: new ChangeKey."""
        self.change_number = self.mailbox.store.next_change_number()
        self.mailbox.store.folder_changed(self, CHANGE)

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
        changed = frozenset(changed)
        self.history.append((self.changekey, changed))
        del self.history[:-50]
        self.mailbox.store.item_changed(self, read_only=changed == frozenset(("IsRead",)))

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
        # The mailbox GUID that EwsIds carry ('AAMk...'), derived from the address so it is stable.
        self.guid = str(uuid.uuid5(uuid.NAMESPACE_URL, "mailbox:" + self.primary_smtp_address))
        self.folders: Dict[bytes, FolderRecord] = {}
        self.distinguished: Dict[str, FolderRecord] = {}
        # The folder hierarchy's change journal (SyncFolderHierarchy reads it); entries carry the parent's key
        self.hierarchy_journal = Journal()
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
        if table is DEFAULT_FOLDERS:
            self._create_system_folders(server)

    def _create_system_folders(self, server: Build) -> None:
        for name, parent_id, kind, folder_class, min_version in SYSTEM_FOLDERS:
            parent = self.distinguished.get(parent_id)
            if parent is None or server < version_build(min_version):
                continue
            if any(c.display_name == name for c in parent.live_children()):
                continue  # Exchange Online has it as a distinguished folder already
            self.create_folder(parent, kind, name, folder_class)

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
        self.store.folder_changed(folder, ADD)
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
        self.store.folder_changed(folder, REMOVE)
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
        old_parent = folder.parent
        folder.parent = new_parent
        new_parent.children[folder.key] = folder
        new_parent.touch()
        folder.change_number = self.store.next_change_number()
        self.store.folder_changed(folder, MOVE, old_parent=old_parent)

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
        self._journal_seq = 0
        # Secret that signs sync states and watermarks (so a forged or foreign one is refused)
        self.state_secret = secrets.token_bytes(32)
        # Callables receiving every ChangeEvent (notification subscriptions), called under the lock
        self.event_sinks: List[Callable[[ChangeEvent], None]] = []
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

    def next_journal_seq(self) -> int:
        self._journal_seq += 1
        return self._journal_seq

    @property
    def journal_seq(self) -> int:
        """The newest journal position handed out."""
        return self._journal_seq

    # -- change journals and events --
    def emit(self, event: ChangeEvent) -> None:
        for sink in list(self.event_sinks):
            sink(event)

    def _journal_item(self, rec: "ItemRecord", folder: "FolderRecord", op: str) -> None:
        self.generation += 1  # an item came or went: cached FindItem result sets are stale
        folder.journal.record(self.next_journal_seq(), rec.key, op, rec.associated)

    def item_changed(self, rec: "ItemRecord", read_only: bool = False) -> None:
        """An item was written (``read_only``: only its IsRead flag)."""
        if rec.key not in self.items:
            return
        self._journal_item(rec, rec.folder, READ if read_only else CHANGE)
        self.emit(ChangeEvent("ModifiedEvent", rec.mailbox, False, rec.id, rec.folder))

    def folder_changed(self, folder: "FolderRecord", op: str, old_parent: Optional["FolderRecord"] = None) -> None:
        """A folder was created (ADD), written (CHANGE), moved (MOVE) or deleted (REMOVE)."""
        mb = folder.mailbox
        mb.hierarchy_journal.record(self.next_journal_seq(), folder.key, op,
                                    folder.parent.key if folder.parent is not None else None)
        name = {ADD: "CreatedEvent", CHANGE: "ModifiedEvent", MOVE: "MovedEvent", REMOVE: "DeletedEvent"}[op]
        self.emit(ChangeEvent(name, mb, True, folder.id, folder.parent, folder.id if op == MOVE else None,
                              old_parent))

    def new_mail(self, rec: "ItemRecord") -> None:
        """Raise a NewMailEvent for an item just delivered to ``rec.folder``."""
        self.emit(ChangeEvent("NewMailEvent", rec.mailbox, False, rec.id, rec.folder))

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
            self._addresses[mb.guid] = mb  # ids name mailboxes by GUID
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
        self._journal_item(rec, folder, ADD)
        self.emit(ChangeEvent("CreatedEvent", rec.mailbox, False, rec.id, folder))
        return rec

    def copy_item(self, rec: ItemRecord, folder: FolderRecord, elem: etree._Element) -> ItemRecord:
        """Store ``elem`` (a copy of ``rec``'s element) in ``folder``: a CopiedEvent, not a CreatedEvent."""
        new = ItemRecord(folder.mailbox, self.new_key(), folder, elem, rec.associated)
        self.items[new.key] = new
        folder.item_keys[new.key] = None
        self._journal_item(new, folder, ADD)
        self.emit(ChangeEvent("CopiedEvent", new.mailbox, False, new.id, folder, rec.id, rec.folder))
        return new

    def remove_item(self, rec: ItemRecord, event: bool = True) -> None:
        """Hard-delete an item."""
        present = self.items.pop(rec.key, None) is not None
        rec.folder.item_keys.pop(rec.key, None)
        if present and not rec.soft_deleted:
            self._journal_item(rec, rec.folder, REMOVE)
            if event:
                self.emit(ChangeEvent("DeletedEvent", rec.mailbox, False, rec.id, rec.folder))

    def move_item(self, rec: ItemRecord, folder: FolderRecord, event: str = "MovedEvent") -> ItemRecord:
        """Move an item; like Exchange, the moved item gets a new id. Returns the new record."""
        self.remove_item(rec, event=False)
        new = ItemRecord(folder.mailbox, self.new_key(), folder, rec.elem, rec.associated)
        self.items[new.key] = new
        folder.item_keys[new.key] = None
        self._journal_item(new, folder, ADD)
        if event == "MovedEvent":
            self.emit(ChangeEvent("MovedEvent", new.mailbox, False, new.id, folder, rec.id, rec.folder))
        else:
            self.emit(ChangeEvent(event, rec.mailbox, False, rec.id, rec.folder))
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
            rec = self.move_item(rec, dumpster, event="DeletedEvent")
        else:
            rec.soft_deleted = True
            self._journal_item(rec, origin, REMOVE)
            self.emit(ChangeEvent("DeletedEvent", rec.mailbox, False, rec.id, origin))
        rec.deleted_from = origin
        return rec

    def find_item(self, key: bytes) -> Optional[ItemRecord]:
        return self.items.get(key)

    def find_folder(self, key: bytes) -> Optional[FolderRecord]:
        return self.folders.get(key)

    def __repr__(self) -> str:
        return f"Store(server_build={self.server_build!r}, mailboxes={len(self._mailboxes)})"
