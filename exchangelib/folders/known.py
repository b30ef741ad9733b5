"""One class per well-known (distinguished) folder: ``DistinguishedFolderIdNameType`` in types.xsd.

Each class names its ``DISTINGUISHED_FOLDER_ID`` (``Inbox.DISTINGUISHED_FOLDER_ID == "inbox"``), the element kind
it is (``Calendar`` is a :class:`CalendarFolder`), its usual ``CONTAINER_CLASS``, its default display names in
some languages (``LOCALIZED_NAMES``, English under ``None``) and the first Exchange build that has it.
``DISTINGUISHED_FOLDER_CLASSES`` maps the id to the class.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
"""
from __future__ import annotations

from ..registry import DISTINGUISHED_FOLDER_CLASSES
from ..version import EXCHANGE_2010_SP1, EXCHANGE_2013, EXCHANGE_2016, EXCHANGE_O365
from .base import CalendarFolder, ContactsFolder, Folder, SearchFolder, TasksFolder


class RootOfHierarchy(Folder):
    """Base of the roots of the three folder trees: :class:`Root`, :class:`ArchiveRoot` and
    :class:`PublicFoldersRoot` (the peer's name; extended properties registered on :class:`Folder`
    reach these too).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """


class Root(RootOfHierarchy):
    """The root of the mailbox's folder tree (non-IPM subtree included).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "root"
    CONTAINER_CLASS = None


class MsgFolderRoot(Folder):
    """The root of the user-visible folders ("Top of Information Store").

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "msgfolderroot"
    CONTAINER_CLASS = "IPF.Note"
    LOCALIZED_NAMES = {
        None: ("Top of Information Store",),
        "da": ("Øverste niveau af informationslager",),
        "de": ("Oberste Ebene des Informationsspeichers",),
        "nl": ("Bovenste map van gegevensarchief",),
        "sv": ("Översta nivån i informationsarkivet",),
    }


class Calendar(CalendarFolder):
    """The default calendar.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "calendar"
    CONTAINER_CLASS = "IPF.Appointment"
    LOCALIZED_NAMES = {
        None: ("Calendar",),
        "da": ("Kalender",),
        "de": ("Kalender",),
        "es": ("Calendario",),
        "fr": ("Calendrier",),
        "it": ("Calendario",),
        "nl": ("Agenda",),
        "no": ("Kalender",),
        "sv": ("Kalender",),
        "fi": ("Kalenteri",),
        "pt": ("Calendário",),
        "ru": ("Календарь",),
        "ja": ("予定表",),
        "zh": ("日历",),
    }


class Contacts(ContactsFolder):
    """The default contacts folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "contacts"
    CONTAINER_CLASS = "IPF.Contact"
    LOCALIZED_NAMES = {
        None: ("Contacts",),
        "da": ("Kontaktpersoner",),
        "de": ("Kontakte",),
        "es": ("Contactos",),
        "fr": ("Contacts",),
        "it": ("Contatti",),
        "nl": ("Contactpersonen",),
        "no": ("Kontakter",),
        "sv": ("Kontakter",),
        "fi": ("Yhteystiedot",),
        "pt": ("Contatos",),
        "ru": ("Контакты",),
        "ja": ("連絡先",),
        "zh": ("联系人",),
    }


class DeletedItems(Folder):
    """The Deleted Items folder (the trash).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "deleteditems"
    CONTAINER_CLASS = "IPF.Note"
    LOCALIZED_NAMES = {
        None: ("Deleted Items",),
        "da": ("Slettet post",),
        "de": ("Gelöschte Elemente",),
        "es": ("Elementos eliminados",),
        "fr": ("Éléments supprimés",),
        "it": ("Posta eliminata",),
        "nl": ("Verwijderde items",),
        "no": ("Slettede elementer",),
        "sv": ("Borttagna objekt",),
        "fi": ("Poistetut",),
        "pt": ("Itens Excluídos",),
        "ru": ("Удаленные",),
        "ja": ("削除済みアイテム",),
        "zh": ("已删除邮件",),
    }


class Drafts(Folder):
    """The Drafts folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "drafts"
    CONTAINER_CLASS = "IPF.Note"
    LOCALIZED_NAMES = {
        None: ("Drafts",),
        "da": ("Kladder",),
        "de": ("Entwürfe",),
        "es": ("Borradores",),
        "fr": ("Brouillons",),
        "it": ("Bozze",),
        "nl": ("Concepten",),
        "no": ("Utkast",),
        "sv": ("Utkast",),
        "fi": ("Luonnokset",),
        "pt": ("Rascunhos",),
        "ru": ("Черновики",),
        "ja": ("下書き",),
        "zh": ("草稿",),
    }


class Inbox(Folder):
    """The Inbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "inbox"
    CONTAINER_CLASS = "IPF.Note"
    LOCALIZED_NAMES = {
        None: ("Inbox",),
        "da": ("Indbakke",),
        "de": ("Posteingang",),
        "es": ("Bandeja de entrada",),
        "fr": ("Boîte de réception",),
        "it": ("Posta in arrivo",),
        "nl": ("Postvak IN",),
        "no": ("Innboks",),
        "sv": ("Inkorgen",),
        "fi": ("Saapuneet",),
        "pt": ("Caixa de Entrada",),
        "ru": ("Входящие",),
        "ja": ("受信トレイ",),
        "zh": ("收件箱",),
    }


class Journal(Folder):
    """The Journal folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "journal"
    CONTAINER_CLASS = "IPF.Journal"
    LOCALIZED_NAMES = {
        None: ("Journal",),
        "da": ("Journal",),
        "de": ("Journal",),
        "es": ("Diario",),
        "fr": ("Journal",),
        "nl": ("Logboek",),
        "sv": ("Dagbok",),
    }


class Notes(Folder):
    """The Notes folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "notes"
    CONTAINER_CLASS = "IPF.StickyNote"
    LOCALIZED_NAMES = {
        None: ("Notes",),
        "da": ("Noter",),
        "de": ("Notizen",),
        "es": ("Notas",),
        "fr": ("Notes",),
        "nl": ("Notities",),
        "sv": ("Anteckningar",),
    }


class Outbox(Folder):
    """The Outbox: messages waiting to be sent.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "outbox"
    CONTAINER_CLASS = "IPF.Note"
    LOCALIZED_NAMES = {
        None: ("Outbox",),
        "da": ("Udbakke",),
        "de": ("Postausgang",),
        "es": ("Bandeja de salida",),
        "fr": ("Boîte d'envoi",),
        "it": ("Posta in uscita",),
        "nl": ("Postvak UIT",),
        "no": ("Utboks",),
        "sv": ("Utkorgen",),
        "fi": ("Lähtevät",),
        "pt": ("Caixa de Saída",),
    }


class SentItems(Folder):
    """The Sent Items folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "sentitems"
    CONTAINER_CLASS = "IPF.Note"
    LOCALIZED_NAMES = {
        None: ("Sent Items",),
        "da": ("Sendt post",),
        "de": ("Gesendete Elemente",),
        "es": ("Elementos enviados",),
        "fr": ("Éléments envoyés",),
        "it": ("Posta inviata",),
        "nl": ("Verzonden items",),
        "no": ("Sendte elementer",),
        "sv": ("Skickade objekt",),
        "fi": ("Lähetetyt",),
        "pt": ("Itens Enviados",),
    }


class Tasks(TasksFolder):
    """The default tasks folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "tasks"
    CONTAINER_CLASS = "IPF.Task"
    LOCALIZED_NAMES = {
        None: ("Tasks",),
        "da": ("Opgaver",),
        "de": ("Aufgaben",),
        "es": ("Tareas",),
        "fr": ("Tâches",),
        "it": ("Attività",),
        "nl": ("Taken",),
        "no": ("Oppgaver",),
        "sv": ("Uppgifter",),
        "fi": ("Tehtävät",),
        "pt": ("Tarefas",),
    }


class PublicFoldersRoot(RootOfHierarchy):
    """The root of the public folders.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "publicfoldersroot"
    CONTAINER_CLASS = "IPF.Note"
    LOCALIZED_NAMES = {None: ("Public Folders",)}


class JunkEmail(Folder):
    """The Junk Email folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "junkemail"
    CONTAINER_CLASS = "IPF.Note"
    LOCALIZED_NAMES = {
        None: ("Junk Email", "Junk E-mail"),
        "da": ("Uønsket e-mail",),
        "de": ("Junk-E-Mail",),
        "es": ("Correo no deseado",),
        "fr": ("Courrier indésirable",),
        "it": ("Posta indesiderata",),
        "nl": ("Ongewenste e-mail",),
        "no": ("Søppelpost",),
        "sv": ("Skräppost",),
        "fi": ("Roskaposti",),
    }


class SearchFolders(Folder):
    """The folder that holds the user's search folders ("Finder").

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "searchfolders"
    CONTAINER_CLASS = None
    LOCALIZED_NAMES = {None: ("Finder",)}


class VoiceMail(Folder):
    """The voice mail folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "voicemail"
    CONTAINER_CLASS = "IPF.Note.Microsoft.Voicemail"
    LOCALIZED_NAMES = {None: ("Voice Mail",)}


class RecoverableItemsRoot(Folder):
    """The root of the Recoverable Items (dumpster) folders.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "recoverableitemsroot"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2010_SP1
    LOCALIZED_NAMES = {None: ("Recoverable Items",)}


class RecoverableItemsDeletions(Folder):
    """Soft-deleted items (Recoverable Items/Deletions).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "recoverableitemsdeletions"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2010_SP1
    LOCALIZED_NAMES = {None: ("Deletions",)}


class RecoverableItemsVersions(Folder):
    """Earlier versions of changed items kept for holds.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "recoverableitemsversions"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2010_SP1
    LOCALIZED_NAMES = {None: ("Versions",)}


class RecoverableItemsPurges(Folder):
    """Purged items kept for holds.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "recoverableitemspurges"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2010_SP1
    LOCALIZED_NAMES = {None: ("Purges",)}


class RecoverableItemsDiscoveryHolds(Folder):
    """Items kept by eDiscovery holds.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "recoverableitemsdiscoveryholds"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("DiscoveryHolds",)}


class ArchiveRoot(RootOfHierarchy):
    """The root of the archive mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archiveroot"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2010_SP1


class ArchiveMsgFolderRoot(Folder):
    """The root of the user-visible folders of the archive mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archivemsgfolderroot"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_2010_SP1


class ArchiveDeletedItems(Folder):
    """Deleted Items of the archive mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archivedeleteditems"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_2010_SP1
    LOCALIZED_NAMES = {None: ("Deleted Items",)}


class ArchiveInbox(Folder):
    """The Inbox of the archive mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archiveinbox"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Inbox",)}


class ArchiveRecoverableItemsRoot(Folder):
    """Recoverable Items root of the archive mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archiverecoverableitemsroot"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2010_SP1


class ArchiveRecoverableItemsDeletions(Folder):
    """Recoverable Items/Deletions of the archive mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archiverecoverableitemsdeletions"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2010_SP1


class ArchiveRecoverableItemsVersions(Folder):
    """Recoverable Items/Versions of the archive mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archiverecoverableitemsversions"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2010_SP1


class ArchiveRecoverableItemsPurges(Folder):
    """Recoverable Items/Purges of the archive mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archiverecoverableitemspurges"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2010_SP1


class ArchiveRecoverableItemsDiscoveryHolds(Folder):
    """Recoverable Items/DiscoveryHolds of the archive mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archiverecoverableitemsdiscoveryholds"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2013


class SyncIssues(Folder):
    """The Sync Issues folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "syncissues"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Sync Issues",)}


class Conflicts(Folder):
    """Sync Issues/Conflicts.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "conflicts"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Conflicts",)}


class LocalFailures(Folder):
    """Sync Issues/Local Failures.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "localfailures"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Local Failures",)}


class ServerFailures(Folder):
    """Sync Issues/Server Failures.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "serverfailures"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Server Failures",)}


class RecipientCache(ContactsFolder):
    """Addresses the user has sent to (used for auto-complete).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "recipientcache"
    CONTAINER_CLASS = "IPF.Contact.RecipientCache"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Recipient Cache",)}


class QuickContacts(ContactsFolder):
    """Contacts of Lync/Skype for Business.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "quickcontacts"
    CONTAINER_CLASS = "IPF.Contact.MOC.QuickContacts"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Quick Contacts",)}


class ConversationHistory(Folder):
    """Saved Lync/Skype/Teams conversations.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "conversationhistory"
    CONTAINER_CLASS = "IPF.Note.Microsoft.Conversation"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Conversation History",)}


class AdminAuditLogs(Folder):
    """Administrator audit log entries.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "adminauditlogs"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("AdminAuditLogs",)}


class ToDoSearch(SearchFolder):
    """The To-Do search folder (flagged items and tasks).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "todosearch"
    CONTAINER_CLASS = "IPF.Task"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("To-Do Search",)}


class MyContacts(ContactsFolder):
    """All the user's contact folders, aggregated.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "mycontacts"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("My Contacts",)}


class Directory(Folder):
    """The organisation's directory, as a folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "directory"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Directory",)}


class IMContactList(ContactsFolder):
    """The instant messaging contact list.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "imcontactlist"
    CONTAINER_CLASS = "IPF.Contact.MOC.ImContactList"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("IM Contact List",)}


class PeopleConnect(Folder):
    """Contacts from connected social networks.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "peopleconnect"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("PeopleConnect",)}


class Favorites(Folder):
    """The user's favourite folders.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "favorites"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_2013
    LOCALIZED_NAMES = {None: ("Favorites",)}


class MeContact(ContactsFolder):
    """The user's own contact card.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "mecontact"
    CONTAINER_CLASS = "IPF.Contact"
    supported_from = EXCHANGE_O365  # first in the V2018_01_08 schema


class PersonMetadata(Folder):
    """Metadata about people the user interacts with.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "personmetadata"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365  # first in the V2018_01_08 schema


class TeamSpaceActivity(Folder):
    """Team space activity (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "teamspaceactivity"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class TeamSpaceMessaging(Folder):
    """Team space messaging (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "teamspacemessaging"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class TeamSpaceWorkItems(Folder):
    """Team space work items (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "teamspaceworkitems"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class Scheduled(Folder):
    """Messages scheduled to reappear in the Inbox (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "scheduled"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_O365
    LOCALIZED_NAMES = {None: ("Scheduled",)}


class OrionNotes(Folder):
    """Sticky notes of Outlook on the web (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "orionnotes"
    CONTAINER_CLASS = "IPF.StickyNote"
    supported_from = EXCHANGE_O365


class TagItems(Folder):
    """Tagged items (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "tagitems"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class AllTaggedItems(SearchFolder):
    """All tagged items (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "alltaggeditems"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class AllCategorizedItems(SearchFolder):
    """All items with a category (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "allcategorizeditems"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class ExternalContacts(ContactsFolder):
    """Contacts from outside the organisation (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "externalcontacts"
    CONTAINER_CLASS = "IPF.Contact"
    supported_from = EXCHANGE_O365


class TeamChat(Folder):
    """Teams chat messages (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "teamchat"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class TeamChatHistory(Folder):
    """Teams chat history (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "teamchathistory"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class YammerData(Folder):
    """Yammer data (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "yammerdata"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class YammerRoot(Folder):
    """The root of the Yammer folders (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "yammerroot"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class YammerInbound(Folder):
    """Inbound Yammer messages (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "yammerinbound"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class YammerOutbound(Folder):
    """Outbound Yammer messages (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "yammeroutbound"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class YammerFeeds(Folder):
    """Yammer feeds (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "yammerfeeds"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class KaizalaData(Folder):
    """Kaizala data (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "kaizaladata"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class MessageIngestion(Folder):
    """Messages ingested from third-party sources (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "messageingestion"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class OneDriveRoot(Folder):
    """The root of OneDrive data (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "onedriveroot"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class OneDriveRecycleBin(Folder):
    """The OneDrive recycle bin (Exchange Online; the id is spelt "recylebin" in the schema).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "onedriverecylebin"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class OneDriveSystem(Folder):
    """OneDrive system data (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "onedrivesystem"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class OneDriveVolume(Folder):
    """A OneDrive volume (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "onedrivevolume"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class Important(SearchFolder):
    """Items marked important (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "important"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class Starred(SearchFolder):
    """Starred items (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "starred"
    CONTAINER_CLASS = None
    supported_from = EXCHANGE_O365


class Archive(Folder):
    """The one-click Archive folder of the primary mailbox (Exchange Online).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    DISTINGUISHED_FOLDER_ID = "archive"
    CONTAINER_CLASS = "IPF.Note"
    supported_from = EXCHANGE_O365
    LOCALIZED_NAMES = {None: ("Archive",)}


KNOWN_FOLDER_CLASSES = (
    Root, MsgFolderRoot, Calendar, Contacts, DeletedItems, Drafts, Inbox, Journal, Notes, Outbox, SentItems, Tasks,
    PublicFoldersRoot, JunkEmail, SearchFolders, VoiceMail, RecoverableItemsRoot, RecoverableItemsDeletions,
    RecoverableItemsVersions, RecoverableItemsPurges, RecoverableItemsDiscoveryHolds, ArchiveRoot,
    ArchiveMsgFolderRoot, ArchiveDeletedItems, ArchiveInbox, ArchiveRecoverableItemsRoot,
    ArchiveRecoverableItemsDeletions, ArchiveRecoverableItemsVersions, ArchiveRecoverableItemsPurges,
    ArchiveRecoverableItemsDiscoveryHolds, SyncIssues, Conflicts, LocalFailures, ServerFailures, RecipientCache,
    QuickContacts, ConversationHistory, AdminAuditLogs, ToDoSearch, MyContacts, Directory, IMContactList,
    PeopleConnect, Favorites, MeContact, PersonMetadata, TeamSpaceActivity, TeamSpaceMessaging, TeamSpaceWorkItems,
    Scheduled, OrionNotes, TagItems, AllTaggedItems, AllCategorizedItems, ExternalContacts, TeamChat,
    TeamChatHistory, YammerData, YammerRoot, YammerInbound, YammerOutbound, YammerFeeds, KaizalaData,
    MessageIngestion, OneDriveRoot, OneDriveRecycleBin, OneDriveSystem, OneDriveVolume, Important, Starred, Archive,
)
for _cls in KNOWN_FOLDER_CLASSES:
    DISTINGUISHED_FOLDER_CLASSES[_cls.DISTINGUISHED_FOLDER_ID] = _cls
del _cls

__all__ = ["KNOWN_FOLDER_CLASSES", "DISTINGUISHED_FOLDER_CLASSES", "RootOfHierarchy", "Root", "MsgFolderRoot", "Calendar", "Contacts",
    "DeletedItems", "Drafts", "Inbox", "Journal", "Notes", "Outbox", "SentItems", "Tasks", "PublicFoldersRoot",
    "JunkEmail", "SearchFolders", "VoiceMail", "RecoverableItemsRoot", "RecoverableItemsDeletions",
    "RecoverableItemsVersions", "RecoverableItemsPurges", "RecoverableItemsDiscoveryHolds", "ArchiveRoot",
    "ArchiveMsgFolderRoot", "ArchiveDeletedItems", "ArchiveInbox", "ArchiveRecoverableItemsRoot",
    "ArchiveRecoverableItemsDeletions", "ArchiveRecoverableItemsVersions", "ArchiveRecoverableItemsPurges",
    "ArchiveRecoverableItemsDiscoveryHolds", "SyncIssues", "Conflicts", "LocalFailures", "ServerFailures",
    "RecipientCache", "QuickContacts", "ConversationHistory", "AdminAuditLogs", "ToDoSearch", "MyContacts",
    "Directory", "IMContactList", "PeopleConnect", "Favorites", "MeContact", "PersonMetadata", "TeamSpaceActivity",
    "TeamSpaceMessaging", "TeamSpaceWorkItems", "Scheduled", "OrionNotes", "TagItems", "AllTaggedItems",
    "AllCategorizedItems", "ExternalContacts", "TeamChat", "TeamChatHistory", "YammerData", "YammerRoot",
    "YammerInbound", "YammerOutbound", "YammerFeeds", "KaizalaData", "MessageIngestion", "OneDriveRoot",
    "OneDriveRecycleBin", "OneDriveSystem", "OneDriveVolume", "Important", "Starred", "Archive"]
