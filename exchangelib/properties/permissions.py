"""Folder permissions as typed models: :class:`PermissionSet`, :class:`Permission`, :class:`CalendarPermission`,
:class:`UserId`.

Read them from ``folder.permission_set`` and write them with ``folder.save(update_fields=['permission_set'])``::

    ps = account.calendar.permission_set
    ps.calendar_permissions.append(CalendarPermission(user_id=UserId(primary_smtp_address='mary@example.com'),
                                                      calendar_permission_level='Reviewer'))
    account.calendar.save(update_fields=['permission_set'])

A permission level other than ``Custom`` stands for a fixed set of rights, which Exchange fills in; for
``Custom`` give the rights (``can_create_items``, ``edit_items``, ``read_items``...) yourself.
Calendars use ``calendar_permissions`` (:class:`CalendarPermission`, with the extra free/busy levels), other
folders ``permissions``. Every set has entries for the ``Default`` and ``Anonymous`` users.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/permissionset-permissionsettype
"""
from __future__ import annotations

from typing import Any, Optional

from ..elements import EWSElement
from ..fields import BooleanField, CharField, CharListField, ChoiceField, EWSElementField, EWSElementListField

PERMISSION_ACTIONS = ("None", "Owned", "All")
PERMISSION_LEVELS = ("None", "Owner", "PublishingEditor", "Editor", "PublishingAuthor", "Author", "NoneditingAuthor",
                     "Reviewer", "Contributor", "Custom")
CALENDAR_PERMISSION_LEVELS = PERMISSION_LEVELS[:-1] + ("FreeBusyTimeOnly", "FreeBusyTimeAndSubjectAndLocation",
                                                       "Custom")
READ_ACCESS = ("None", "FullDetails")
CALENDAR_READ_ACCESS = ("None", "TimeOnly", "TimeAndSubjectAndLocation", "FullDetails")
DEFAULT = "Default"
ANONYMOUS = "Anonymous"


class UserId(EWSElement):
    """A user a permission or delegate entry is for: a mailbox (``primary_smtp_address``, or ``sid``) or one of
    the distinguished users ``'Default'`` (everyone in the organisation) and ``'Anonymous'``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/userid
    """

    ELEMENT_NAME = "UserId"
    REPR_FIELDS = ("primary_smtp_address", "distinguished_user", "display_name")
    sid = CharField(xml_name="SID")
    primary_smtp_address = CharField(xml_name="PrimarySmtpAddress")
    display_name = CharField(xml_name="DisplayName")
    distinguished_user = ChoiceField(xml_name="DistinguishedUser", choices=(DEFAULT, ANONYMOUS))
    external_user_identity = CharField(xml_name="ExternalUserIdentity")

    def key(self) -> Any:
        """What identifies the user: the distinguished name, else the address (lower case), else the SID."""
        if self.distinguished_user:
            return self.distinguished_user
        if self.primary_smtp_address:
            return self.primary_smtp_address.lower()
        return self.sid or self.external_user_identity


class UserIdField(EWSElementField):
    """A :class:`UserId`; an address string becomes ``UserId(primary_smtp_address=...)``."""

    def __init__(self, field_uri: Optional[str] = None, **kwargs: Any):
        kwargs.setdefault("xml_name", "UserId")
        super().__init__(field_uri, value_cls=UserId, **kwargs)

    def _convert(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            if value in (DEFAULT, ANONYMOUS):
                return UserId(distinguished_user=value)
            if "@" not in value:
                raise ValueError(f"{where}: expected an email address, 'Default' or 'Anonymous', got {value!r}")
            return UserId(primary_smtp_address=value)
        return value


class BasePermission(EWSElement):
    """The rights every permission entry has (``BasePermissionType``)."""

    user_id = UserIdField(is_required=True)
    can_create_items = BooleanField(xml_name="CanCreateItems")
    can_create_subfolders = BooleanField(xml_name="CanCreateSubFolders")
    is_folder_owner = BooleanField(xml_name="IsFolderOwner")
    is_folder_visible = BooleanField(xml_name="IsFolderVisible")
    is_folder_contact = BooleanField(xml_name="IsFolderContact")
    edit_items = ChoiceField(xml_name="EditItems", choices=PERMISSION_ACTIONS)
    delete_items = ChoiceField(xml_name="DeleteItems", choices=PERMISSION_ACTIONS)

    LEVEL_FIELD = ""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.__dict__.get(self.LEVEL_FIELD) is None:  # a level is required; rights alone mean Custom
            setattr(self, self.LEVEL_FIELD, "Custom")

    @property
    def level(self) -> Optional[str]:
        """The permission level, whichever kind of entry this is."""
        return self.__dict__.get(self.LEVEL_FIELD)


class Permission(BasePermission):
    """One user's rights on a non-calendar folder.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/permission
    """

    ELEMENT_NAME = "Permission"
    LEVEL_FIELD = "permission_level"
    REPR_FIELDS = ("user_id", "permission_level")
    read_items = ChoiceField(xml_name="ReadItems", choices=READ_ACCESS)
    permission_level = ChoiceField(xml_name="PermissionLevel", choices=PERMISSION_LEVELS, is_required=True)


class CalendarPermission(BasePermission):
    """One user's rights on a calendar folder (with the free/busy-only levels).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarpermission
    """

    ELEMENT_NAME = "CalendarPermission"
    LEVEL_FIELD = "calendar_permission_level"
    REPR_FIELDS = ("user_id", "calendar_permission_level")
    read_items = ChoiceField(xml_name="ReadItems", choices=CALENDAR_READ_ACCESS)
    calendar_permission_level = ChoiceField(xml_name="CalendarPermissionLevel", choices=CALENDAR_PERMISSION_LEVELS,
                                            is_required=True)


class PermissionSet(EWSElement):
    """The permissions of a folder (``PermissionSetType``, or ``CalendarPermissionSetType`` on calendars).

    ``unknown_entries`` are entries whose user can no longer be resolved (read-only).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/permissionset-permissionsettype
    """

    ELEMENT_NAME = "PermissionSet"
    permissions = EWSElementListField(xml_name="Permissions", value_cls=Permission)
    calendar_permissions = EWSElementListField(xml_name="CalendarPermissions", value_cls=CalendarPermission)
    unknown_entries = CharListField(xml_name="UnknownEntries", child_name="UnknownEntry", is_read_only=True)

    def _fill_xml(self, elem: Any, version: Any, fields: Any = None) -> None:
        # The XSD requires the array even when it is empty (one class stands for both set types).
        d, own = self.__dict__, type(self).FIELDS
        written = False
        for name in ("permissions", "calendar_permissions"):
            if d.get(name):
                own[name].add_to(elem, d[name], version)
                written = True
        if not written:
            own["permissions"].add_to(elem, [], version)
        if d.get("unknown_entries"):
            own["unknown_entries"].add_to(elem, d["unknown_entries"], version)

    def clean(self, version: Any = None) -> None:
        super().clean(version)
        if self.permissions and self.calendar_permissions:
            raise ValueError("A PermissionSet has permissions (other folders) or calendar_permissions (calendars), "
                             "not both")

    def entries(self) -> list:
        """The entries, whichever kind the folder has."""
        return list(self.calendar_permissions or []) or list(self.permissions or [])

    def get(self, user: Any) -> Optional[BasePermission]:
        """The entry for a user (an address, ``'Default'``, ``'Anonymous'`` or a UserId), or None."""
        key = UserIdField()._convert(user, "PermissionSet.get").key()
        for p in self.entries():
            if p.user_id is not None and p.user_id.key() == key:
                return p
        return None


DELEGATE_LEVELS = ("None", "Editor", "Reviewer", "Author", "Custom")
DELIVER_MEETING_REQUESTS = ("DelegatesOnly", "DelegatesAndMe", "DelegatesAndSendInformationToMe", "NoForward")


class DelegatePermissions(EWSElement):
    """A delegate's level on each of the principal's default folders: ``'None'``, ``'Reviewer'``, ``'Author'``,
    ``'Editor'`` or (read only) ``'Custom'`` when the folder's permission entry is not one of these.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/delegatepermissions
    """

    ELEMENT_NAME = "DelegatePermissions"
    calendar_folder_permission_level = ChoiceField(xml_name="CalendarFolderPermissionLevel", choices=DELEGATE_LEVELS)
    tasks_folder_permission_level = ChoiceField(xml_name="TasksFolderPermissionLevel", choices=DELEGATE_LEVELS)
    inbox_folder_permission_level = ChoiceField(xml_name="InboxFolderPermissionLevel", choices=DELEGATE_LEVELS)
    contacts_folder_permission_level = ChoiceField(xml_name="ContactsFolderPermissionLevel", choices=DELEGATE_LEVELS)
    notes_folder_permission_level = ChoiceField(xml_name="NotesFolderPermissionLevel", choices=DELEGATE_LEVELS)
    journal_folder_permission_level = ChoiceField(xml_name="JournalFolderPermissionLevel", choices=DELEGATE_LEVELS)


class DelegateUser(EWSElement):
    """A delegate of a mailbox: who (``user_id``; an address string works), their folder levels, and whether they
    get copies of meeting messages and may see private items.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/delegateuser
    """

    ELEMENT_NAME = "DelegateUser"
    REPR_FIELDS = ("user_id", "delegate_permissions", "receive_copies_of_meeting_messages")
    user_id = UserIdField(is_required=True)
    delegate_permissions = EWSElementField(xml_name="DelegatePermissions", value_cls=DelegatePermissions)
    receive_copies_of_meeting_messages = BooleanField(xml_name="ReceiveCopiesOfMeetingMessages")
    view_private_items = BooleanField(xml_name="ViewPrivateItems")


__all__ = ["DelegatePermissions", "DelegateUser", "DELEGATE_LEVELS", "DELIVER_MEETING_REQUESTS", "UserId",
           "UserIdField", "BasePermission", "Permission", "CalendarPermission", "PermissionSet", "PERMISSION_LEVELS", "CALENDAR_PERMISSION_LEVELS", "PERMISSION_ACTIONS", "DEFAULT", "ANONYMOUS"]
