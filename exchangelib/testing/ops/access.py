"""Folder permissions: what a user who has no full access to a mailbox may do with one of its folders.

The mailbox owner, and users with full access to the mailbox (``User.delegate_to``, app-only tokens with
``full_access_as_app``, impersonation), may do everything. Anyone else gets the rights of the folder's
PermissionSet entry naming them (by PrimarySmtpAddress), else those of its ``Default`` entry; a folder
without a stored PermissionSet has Exchange's defaults: ``Default`` is None (on calendars
FreeBusyTimeOnly, which lets nobody open items through EWS).

Rights checked per operation, as Exchange does:

- GetFolder, FindFolder: the folder must be visible (``IsFolderVisible``);
- FindItem, GetItem, ExportItems, CopyItem (source), attachments: ``ReadItems`` FullDetails;
- CreateItem / MoveItem / CopyItem / UploadItems into the folder: ``CanCreateItems``; CreateFolder:
  ``CanCreateSubFolders``;
- UpdateItem, attachment changes: ``EditItems``; DeleteItem, MoveItem (source): ``DeleteItems`` (``All``, or
  ``Owned`` for items the caller created in that folder; a moved item forgets who created it);
- UpdateFolder (including its PermissionSet), DeleteFolder, EmptyFolder, MoveFolder: ``IsFolderOwner``.

A permission level other than Custom stands for a fixed set of rights (:data:`LEVEL_RIGHTS`); the server
fills them in when a client saves a PermissionSet naming levels only.
https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/delegate-access-and-ews-in-exchange
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/permissionlevel
"""
from __future__ import annotations

import weakref
from typing import Callable, Dict, List, Optional, Tuple

from lxml import etree

from ...xml import TNS
from ..context import RequestContext, ResponseCodeError
from ..store import FolderRecord, ItemRecord, Mailbox
from .public_folders import is_public

T = f"{{{TNS}}}"

# The rights in BasePermissionType order, then ReadItems.
RIGHT_NAMES = ("CanCreateItems", "CanCreateSubFolders", "IsFolderOwner", "IsFolderVisible", "IsFolderContact",
               "EditItems", "DeleteItems", "ReadItems")

_F, _T = "false", "true"
#: Permission level -> (CanCreateItems, CanCreateSubFolders, IsFolderOwner, IsFolderVisible, IsFolderContact,
#: EditItems, DeleteItems, ReadItems)
LEVEL_RIGHTS: Dict[str, Tuple[str, ...]] = {
    "None": (_F, _F, _F, _F, _F, "None", "None", "None"),
    "Owner": (_T, _T, _T, _T, _T, "All", "All", "FullDetails"),
    "PublishingEditor": (_T, _T, _F, _T, _F, "All", "All", "FullDetails"),
    "Editor": (_T, _F, _F, _T, _F, "All", "All", "FullDetails"),
    "PublishingAuthor": (_T, _T, _F, _T, _F, "Owned", "Owned", "FullDetails"),
    "Author": (_T, _F, _F, _T, _F, "Owned", "Owned", "FullDetails"),
    "NoneditingAuthor": (_T, _F, _F, _T, _F, "None", "Owned", "FullDetails"),
    "Reviewer": (_F, _F, _F, _T, _F, "None", "None", "FullDetails"),
    "Contributor": (_T, _F, _F, _T, _F, "None", "None", "None"),
    "FreeBusyTimeOnly": (_F, _F, _F, _F, _F, "None", "None", "TimeOnly"),
    "FreeBusyTimeAndSubjectAndLocation": (_F, _F, _F, _F, _F, "None", "None", "TimeAndSubjectAndLocation"),
}

# Operation -> right needed on the folder an id names (resolve_folder) or an item lives in (resolve_item).
_FOLDER_NEEDS = {"GetFolder": "visible", "FindFolder": "visible", "UpdateFolder": "owner", "DeleteFolder": "owner",
                 "EmptyFolder": "owner", "MoveFolder": "owner", "CopyFolder": "visible", "UploadItems": "create"}
_ITEM_NEEDS = {"UpdateItem": "edit", "CreateAttachment": "edit", "DeleteAttachment": "edit", "DeleteItem": "delete",
               "MoveItem": "delete", "SendItem": "delete", "ArchiveItem": "delete", "MarkAsJunk": "delete"}
_TARGET_NEEDS = {"CreateFolder": "create_subfolder", "CopyFolder": "create_subfolder",
                 "MoveFolder": "create_subfolder"}


def entry_rights(perm: etree._Element) -> Dict[str, str]:
    """The rights a stored Permission/CalendarPermission element grants (its level fills what's missing)."""
    level = perm.findtext(T + "PermissionLevel") or perm.findtext(T + "CalendarPermissionLevel") or "None"
    base = dict(zip(RIGHT_NAMES, LEVEL_RIGHTS.get(level, LEVEL_RIGHTS["None"])))
    if level == "Custom":
        base = dict(zip(RIGHT_NAMES, LEVEL_RIGHTS["None"]))
        for name in RIGHT_NAMES:
            text = perm.findtext(T + name)
            if text is not None:
                base[name] = text.strip()
    return base


def _entry_for(folder: FolderRecord, caller: str) -> Optional[etree._Element]:
    ps = folder.props.find(T + "PermissionSet")
    if ps is None and is_public(folder.mailbox):  # public folders have their parent's permissions
        for parent in folder.ancestors():
            ps = parent.props.find(T + "PermissionSet")
            if ps is not None:
                break
    if ps is None:
        return None
    default = None
    for perm in ps.iter(T + "Permission", T + "CalendarPermission"):
        uid = perm.find(T + "UserId")
        if uid is None:
            continue
        address = (uid.findtext(T + "PrimarySmtpAddress") or "").strip().lower()
        if address and address == caller:
            return perm
        if (uid.findtext(T + "DistinguishedUser") or "").strip() == "Default":
            default = perm
    return default


def folder_rights(folder: FolderRecord, caller: str) -> Dict[str, str]:
    """The rights ``caller`` (an SMTP address, lower case) has on ``folder`` through its PermissionSet."""
    mb = folder.mailbox
    if caller in mb.addresses():
        return dict(zip(RIGHT_NAMES, LEVEL_RIGHTS["Owner"]))
    entry = _entry_for(folder, caller)
    if entry is None:
        level = "FreeBusyTimeOnly" if folder.element_kind == "CalendarFolder" else "None"
        return dict(zip(RIGHT_NAMES, LEVEL_RIGHTS[level]))
    return entry_rights(entry)


# Item -> the address of the user who created it (for the Owned rights)
_CREATORS: "weakref.WeakKeyDictionary[ItemRecord, str]" = weakref.WeakKeyDictionary()


def record_creator(rec: ItemRecord, caller: str) -> None:
    """Remember who created an item (CreateItem), for the Owned edit/delete rights."""
    _CREATORS[rec] = caller.lower()


def _allowed(rights: Dict[str, str], need: str, owned: bool = False) -> bool:
    if need == "visible":
        return rights["IsFolderVisible"] == "true" or rights["ReadItems"] == "FullDetails"
    if need == "read":
        return rights["ReadItems"] == "FullDetails"
    if need == "create":
        return rights["CanCreateItems"] == "true"
    if need == "create_subfolder":
        return rights["CanCreateSubFolders"] == "true"
    if need == "edit":
        return rights["EditItems"] == "All" or (owned and rights["EditItems"] == "Owned")
    if need == "delete":
        return rights["DeleteItems"] == "All" or (owned and rights["DeleteItems"] == "Owned")
    return rights["IsFolderOwner"] == "true"


def check(ctx: RequestContext, folder: FolderRecord, need: str, rec: Optional[ItemRecord] = None) -> None:
    """Raise ErrorAccessDenied unless the caller has the right ``need`` on ``folder`` (for ``rec``, an item in it)."""
    caller = ctx.caller.lower()
    owned = rec is not None and _CREATORS.get(rec) == caller
    if not _allowed(folder_rights(folder, caller), need, owned):
        raise ResponseCodeError("ErrorAccessDenied", "Access is denied. Check credentials and try again.")


def check_folder(ctx: RequestContext, folder: FolderRecord) -> None:
    check(ctx, folder, _FOLDER_NEEDS.get(getattr(ctx, "operation", ""), "read"))


def check_target(ctx: RequestContext, folder: FolderRecord) -> None:
    check(ctx, folder, _TARGET_NEEDS.get(getattr(ctx, "operation", ""), "create"))


def check_item_folder(ctx: RequestContext, folder: FolderRecord, rec: Optional[ItemRecord] = None) -> None:
    check(ctx, folder, _ITEM_NEEDS.get(getattr(ctx, "operation", ""), "read"), rec)


def normalise_permission_set(kind: str, ps: etree._Element, known: Optional[Callable[[str], bool]] = None) -> None:
    """Fill each entry's rights from its level (Custom entries keep theirs), in schema order, as Exchange
    returns them after a save. Raises ErrorInvalidPermissionSettings for a level the folder kind lacks, and
    (with ``known``, which says whether an address is a user of the organisation) ErrorInvalidUserInfo for an
    entry naming an unknown user."""
    calendar = kind == "CalendarFolder"
    level_tag = "CalendarPermissionLevel" if calendar else "PermissionLevel"
    for perm in ps.iter(T + "Permission", T + "CalendarPermission"):
        level = (perm.findtext(T + level_tag) or "").strip()
        if level.startswith("FreeBusy") and not calendar:
            raise ResponseCodeError("ErrorInvalidPermissionSettings",
                                    f"The permission level {level} is valid for calendar folders only.")
        rights = entry_rights(perm)
        uid = perm.find(T + "UserId")
        address = (uid.findtext(T + "PrimarySmtpAddress") or "").strip() if uid is not None else ""
        if address and known is not None and not known(address):
            raise ResponseCodeError("ErrorInvalidUserInfo", f"The user {address} was not found.")
        for c in list(perm):
            if c is not uid:
                perm.remove(c)
        for name in RIGHT_NAMES:
            etree.SubElement(perm, T + name).text = rights[name]
        etree.SubElement(perm, T + level_tag).text = level or "None"


def default_permission_set(kind: str) -> etree._Element:
    """A new folder's PermissionSet: Default and Anonymous users (Default sees free/busy on calendars)."""
    calendar = kind == "CalendarFolder"
    ps = etree.Element(T + "PermissionSet")
    arr = etree.SubElement(ps, T + ("CalendarPermissions" if calendar else "Permissions"))
    for user, level in (("Default", "FreeBusyTimeOnly" if calendar else "None"), ("Anonymous", "None")):
        perm = etree.SubElement(arr, T + ("CalendarPermission" if calendar else "Permission"))
        etree.SubElement(etree.SubElement(perm, T + "UserId"), T + "DistinguishedUser").text = user
        etree.SubElement(perm, T + ("CalendarPermissionLevel" if calendar else "PermissionLevel")).text = level
    normalise_permission_set(kind, ps)
    return ps


def visible_folders(ctx: RequestContext, folders: List[FolderRecord]) -> List[FolderRecord]:
    """The folders of a FindFolder answer the caller may see: all for the owner and full-access users, else only
    those whose permissions make them visible (as Exchange hides the others)."""
    if not folders:
        return folders
    mb = folders[0].mailbox
    caller = ctx.caller.lower()
    if caller in mb.addresses() or ctx.can_access(ctx.caller, mb.primary_smtp_address):
        return folders
    return [f for f in folders if _allowed(folder_rights(f, caller), "visible")]


#: ``fn(mailbox, caller)`` -> may ``caller`` see the mailbox's private items (Sensitivity Private)? The owner and
#: full-access users always may; delegates with ViewPrivateItems are added by :mod:`.delegates`.
PRIVATE_VIEWERS: List[Callable[[Mailbox, str], bool]] = []


def _restricted(ctx: RequestContext, mb: Mailbox) -> bool:
    caller = ctx.caller.lower()
    return caller not in mb.addresses() and not ctx.can_access(ctx.caller, mb.primary_smtp_address)


def may_see_private(ctx: RequestContext, mb: Mailbox) -> bool:
    if not _restricted(ctx, mb):
        return True
    return any(fn(mb, ctx.caller.lower()) for fn in PRIVATE_VIEWERS)


def is_private(rec: ItemRecord) -> bool:
    return (rec.elem.findtext(T + "Sensitivity") or "").strip() == "Private"


def visible_items(ctx: RequestContext, records: List[ItemRecord]) -> List[ItemRecord]:
    """FindItem's records without the private items the caller may not see (as Exchange hides them from
    delegates without ViewPrivateItems)."""
    if not records or may_see_private(ctx, records[0].mailbox):
        return records
    return [r for r in records if not is_private(r)]


def check_private(ctx: RequestContext, rec: ItemRecord) -> None:
    if is_private(rec) and not may_see_private(ctx, rec.mailbox):
        raise ResponseCodeError("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
