"""DistinguishedFolderId: a well-known folder by name, optionally in another user's mailbox."""
from __future__ import annotations

from typing import Any, Optional

from ..elements import EWSElement
from ..fields import ChoiceField, IdField
from .mailbox import MailboxField

#: Values of ``DistinguishedFolderIdNameType`` in types.xsd (well-known folder names).
DISTINGUISHED_FOLDER_NAMES = frozenset((
    "calendar", "contacts", "deleteditems", "drafts", "inbox", "journal", "notes", "outbox", "sentitems",
    "tasks", "msgfolderroot", "publicfoldersroot", "root", "junkemail", "searchfolders", "voicemail",
    "recoverableitemsroot", "recoverableitemsdeletions", "recoverableitemsversions", "recoverableitemspurges",
    "recoverableitemsdiscoveryholds", "archiveroot", "archivemsgfolderroot", "archivedeleteditems",
    "archiveinbox", "archiverecoverableitemsroot", "archiverecoverableitemsdeletions",
    "archiverecoverableitemsversions", "archiverecoverableitemspurges", "archiverecoverableitemsdiscoveryholds",
    "syncissues", "conflicts", "localfailures", "serverfailures", "recipientcache", "quickcontacts",
    "conversationhistory", "adminauditlogs", "todosearch", "mycontacts", "directory", "imcontactlist",
    "peopleconnect", "favorites", "mecontact", "personmetadata", "teamspaceactivity", "teamspacemessaging",
    "teamspaceworkitems", "scheduled", "orionnotes", "tagitems", "alltaggeditems", "allcategorizeditems",
    "externalcontacts", "teamchat", "teamchathistory", "yammerdata", "yammerroot", "yammerinbound",
    "yammeroutbound", "yammerfeeds", "kaizaladata", "messageingestion", "onedriveroot", "onedriverecylebin",
    "onedrivesystem", "onedrivevolume", "important", "starred", "archive",
))


class DistinguishedFolderId(EWSElement):
    """A well-known folder by name (``'inbox'``), optionally in another user's mailbox.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
    """

    ELEMENT_NAME = "DistinguishedFolderId"
    id = ChoiceField(xml_name="Id", is_attribute=True, is_required=True, choices=DISTINGUISHED_FOLDER_NAMES)
    changekey = IdField("ChangeKey")
    mailbox = MailboxField(xml_name="Mailbox", wrapped=False)

    def __init__(self, id: Optional[str] = None, changekey: Optional[str] = None, mailbox: Any = None,
                 **kwargs: Any):
        super().__init__(id=id, changekey=changekey, mailbox=mailbox, **kwargs)

    def __hash__(self) -> int:
        return hash((self.id, self.changekey, self.mailbox))

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)


__all__ = ["DISTINGUISHED_FOLDER_NAMES", "DistinguishedFolderId"]
