"""Folder data classes: the fields of each folder element kind (``BaseFolderType`` and its extensions).

These classes hold data only; behaviour that talks to the server (save, delete, children, glob, ...)
is added by other modules.
"""
from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Tuple, Union

from lxml import etree

from ..fields import (
    CharField, CharListField, ChoiceField, EWSElementField, IntegerField, RawXmlField,
)
from ..properties import (
    DISTINGUISHED_FOLDER_NAMES, DistinguishedFolderId, EffectiveRights, FolderId, ManagedFolderInformation, ParentFolderId, RetentionTag,
)
from ..properties.identified import IdentifiedElement
from ..properties.permissions import PermissionSet
from .admin_methods import FolderAdminMethods
from ..registry import FOLDER_CLASSES
from ..version import EXCHANGE_2007_SP1, EXCHANGE_2013, Build, Version
from ..queryset import QuerySetMixin
from .methods import FolderMethods
from .navigation import FolderNavigation
from .sync import FolderSyncMethods

Element = etree._Element
VersionLike = Union[Version, Build, None]

CALENDAR_SHARING_RIGHTS_CHOICES = frozenset(("None", "TimeOnly", "TimeAndSubjectAndLocation", "FullDetails"))
SHARING_RIGHTS_CHOICES = frozenset(("None", "FullDetails"))


class BaseFolder(QuerySetMixin, FolderMethods, FolderAdminMethods, FolderSyncMethods, FolderNavigation,
                 IdentifiedElement):
    """Fields every folder kind has (``BaseFolderType``).

    ``Folder(account=None, parent=None, root=None, **fields)``. ``account``, ``parent`` and ``root`` are
    never sent to the server; a saved folder's ``parent`` and ``root`` come from the account's cached
    folder tree (see :mod:`exchangelib.folders.navigation`), a new folder takes its account from its parent.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/folder
    """

    ELEMENT_NAME = ""
    REPR_FIELDS = ("_id", "name", "folder_class", "total_count", "child_folder_count")
    SET_FIELD_ELEMENT = "SetFolderField"
    DELETE_FIELD_ELEMENT = "DeleteFolderField"
    #: Well-known folder name for a DistinguishedFolderId ('inbox'), None for ordinary folders.
    DISTINGUISHED_FOLDER_ID: ClassVar[Optional[str]] = None
    #: The FolderClass of folders of this kind ('IPF.Note', 'IPF.Appointment', ...).
    CONTAINER_CLASS: ClassVar[Optional[str]] = None
    #: Default display names of this well-known folder in the languages we know, for finding it by name.
    LOCALIZED_NAMES: ClassVar[Dict[Optional[str], Tuple[str, ...]]] = {}
    #: First Exchange build that has this well-known folder.
    supported_from: ClassVar[Optional[Build]] = None
    _EXTRA_ATTRS = ("account", "parent", "root", "folder_sync_state", "item_sync_state")

    #: The account this folder belongs to.
    account: Any = None
    # ``parent`` and ``root`` are properties of FolderNavigation (read from the cached folder tree).

    _id = EWSElementField("folder:FolderId", value_cls=FolderId, is_read_only=True)
    parent_folder_id = EWSElementField("folder:ParentFolderId", value_cls=ParentFolderId, is_read_only=True)
    folder_class = CharField("folder:FolderClass", is_searchable=True)
    name = CharField("folder:DisplayName", is_searchable=True)
    total_count = IntegerField("folder:TotalCount", is_read_only=True)
    child_folder_count = IntegerField("folder:ChildFolderCount", is_read_only=True)
    managed_folder_information = EWSElementField("folder:ManagedFolderInformation",
                                                 value_cls=ManagedFolderInformation, is_read_only=True)
    effective_rights = EWSElementField("folder:EffectiveRights", value_cls=EffectiveRights, is_read_only=True,
                                       supported_from=EXCHANGE_2007_SP1)
    distinguished_folder_id = ChoiceField("folder:DistinguishedFolderId", choices=DISTINGUISHED_FOLDER_NAMES,
                                          is_read_only=True, supported_from=EXCHANGE_2013)
    policy_tag = EWSElementField("folder:PolicyTag", value_cls=RetentionTag, supported_from=EXCHANGE_2013)
    archive_tag = EWSElementField("folder:ArchiveTag", value_cls=RetentionTag, supported_from=EXCHANGE_2013)
    replica_list = CharListField("folder:ReplicaList", is_read_only=True, supported_from=EXCHANGE_2013)

    ID_CLASS = FolderId
    ID_ALIAS = "folder_id"
    EXTENDED_PROPERTY_ANCHOR = "child_folder_count"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        element_name = cls.__dict__.get("ELEMENT_NAME")
        if element_name and cls.__dict__.get("DISTINGUISHED_FOLDER_ID") is None:
            FOLDER_CLASSES.setdefault(element_name, cls)

    def __init__(self, account: Any = None, parent: Any = None, root: Any = None, **kwargs: Any):
        folder_id, changekey = self._pop_id_kwargs(kwargs)
        # A well-known folder addressed by name, possibly in another mailbox (the peer's form):
        # Folder(root=account.root, _distinguished_id=DistinguishedFolderId("calendar", mailbox=Mailbox(...)))
        distinguished = kwargs.pop("_distinguished_id", None)
        super().__init__(**kwargs)
        if distinguished is not None:
            if not isinstance(distinguished, DistinguishedFolderId):
                raise TypeError(f"_distinguished_id must be a DistinguishedFolderId, got {type(distinguished).__name__}")
            self._distinguished_id = distinguished
        if account is None and root is not None:
            account = getattr(root, "account", None)
        if account is not None:
            self.account = account
        if parent is not None:
            self.parent = parent
        if root is not None:
            self.root = root
        if folder_id is not None or changekey is not None:
            self._set_id(folder_id, changekey)

    @property
    def folder_id(self) -> Optional[str]:
        """Alias of :attr:`id`."""
        return self.id

    @classmethod
    def localized_names(cls, locale: Optional[str] = None) -> Tuple[str, ...]:
        """Default display names of this well-known folder for ``locale`` ('da', 'de_DE', ...), English first."""
        names: List[str] = list(cls.LOCALIZED_NAMES.get(None, ()))
        if locale:
            lang = locale.replace("-", "_").split("_")[0].lower()
            for n in cls.LOCALIZED_NAMES.get(lang, ()):
                if n not in names:
                    names.append(n)
        return tuple(names)


class Folder(BaseFolder):
    """A generic mail folder (``FolderType``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/folder
    """

    ELEMENT_NAME = "Folder"
    CONTAINER_CLASS: ClassVar[Optional[str]] = "IPF.Note"

    permission_set = EWSElementField("folder:PermissionSet", value_cls=PermissionSet)
    unread_count = IntegerField("folder:UnreadCount", is_read_only=True)


class CalendarFolder(BaseFolder):
    """A calendar folder (``CalendarFolderType``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarfolder
    """

    ELEMENT_NAME = "CalendarFolder"
    CONTAINER_CLASS = "IPF.Appointment"

    sharing_effective_rights = ChoiceField("folder:SharingEffectiveRights", choices=CALENDAR_SHARING_RIGHTS_CHOICES,
                                           is_read_only=True, supported_from=EXCHANGE_2013)
    permission_set = EWSElementField("folder:PermissionSet", value_cls=PermissionSet)


class ContactsFolder(BaseFolder):
    """A contacts folder (``ContactsFolderType``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/contactsfolder
    """

    ELEMENT_NAME = "ContactsFolder"
    CONTAINER_CLASS = "IPF.Contact"

    sharing_effective_rights = ChoiceField("folder:SharingEffectiveRights", choices=SHARING_RIGHTS_CHOICES,
                                           is_read_only=True, supported_from=EXCHANGE_2013)
    permission_set = EWSElementField("folder:PermissionSet", value_cls=PermissionSet)
    source_id = CharField(xml_name="SourceId", is_read_only=True, is_searchable=False, supported_from=EXCHANGE_2013)
    account_name = CharField(xml_name="AccountName", is_read_only=True, is_searchable=False,
                             supported_from=EXCHANGE_2013)


class SearchFolder(Folder):
    """A search folder (``SearchFolderType``): a saved search shown as a folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/searchfolder
    """

    ELEMENT_NAME = "SearchFolder"
    CONTAINER_CLASS: ClassVar[Optional[str]] = None

    # The search's definition as XML (``<t:SearchParameters Traversal=".."><t:Restriction>..``); writable, so search
    # folders can be created (and migrated) with it.
    search_parameters = RawXmlField("folder:SearchParameters", is_read_only=False)


class TasksFolder(Folder):
    """A tasks folder (``TasksFolderType``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/tasksfolder
    """

    ELEMENT_NAME = "TasksFolder"
    CONTAINER_CLASS = "IPF.Task"


__all__ = [
    "BaseFolder", "Folder", "CalendarFolder", "ContactsFolder", "SearchFolder", "TasksFolder", "FOLDER_CLASSES",
    "CALENDAR_SHARING_RIGHTS_CHOICES", "SHARING_RIGHTS_CHOICES",
]
