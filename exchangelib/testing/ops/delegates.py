"""Delegates: GetDelegate, AddDelegate, UpdateDelegate, RemoveDelegate, and delegate meeting-request delivery.

A delegate is a user of the organisation with rights on the principal's Calendar, Tasks, Inbox, Contacts,
Notes and Journal folders. As in Exchange, those rights *are* folder permissions: adding a delegate with
``CalendarFolderPermissionLevel`` Reviewer writes a Reviewer entry for the delegate into the calendar's
PermissionSet (enforced by :mod:`.access`), and GetDelegate reads the levels back from the folders, so a
permission changed through UpdateFolder shows up here too (as ``Custom`` when it isn't one of the delegate
levels). Removing a delegate removes those entries.

The response element is itself a response message and holds one ``DelegateUserResponseMessageType`` per
user, in request order (GetDelegate without UserIds: every delegate).

Meeting requests delivered to the principal's Inbox are copied to the Inboxes of delegates with
``ReceiveCopiesOfMeetingMessages``, unless DeliverMeetingRequests is NoForward; with DelegatesOnly the
principal's copy moves to Deleted Items, as Exchange does.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/adddelegate-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getdelegate-operation
"""
from __future__ import annotations

import copy
import weakref
from typing import Dict, List, Optional

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext, ResponseCodeError
from ..store import FolderRecord, ItemRecord, Mailbox, Store
from .access import PRIVATE_VIEWERS, default_permission_set, normalise_permission_set
from .common import bool_attr, child, children, error_message, handler, success_message
from .delivery import DELIVERY_HOOKS, deliver
from .items import delete_record
from .props import get_text
from .rules import single_response

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"

# (permission element name in DelegatePermissions, distinguished folder)
DELEGATE_FOLDERS = (("CalendarFolderPermissionLevel", "calendar"), ("TasksFolderPermissionLevel", "tasks"),
                    ("InboxFolderPermissionLevel", "inbox"), ("ContactsFolderPermissionLevel", "contacts"),
                    ("NotesFolderPermissionLevel", "notes"), ("JournalFolderPermissionLevel", "journal"))
_LEVELS = ("None", "Editor", "Reviewer", "Author")


class _Delegates:
    def __init__(self) -> None:
        self.users: Dict[str, etree._Element] = {}  # address -> t:DelegateUser (UserId, flags; no permissions)
        self.deliver = "DelegatesAndSendInformationToMe"


_STATE: "weakref.WeakKeyDictionary[Mailbox, _Delegates]" = weakref.WeakKeyDictionary()


def delegates_of(mb: Mailbox) -> _Delegates:
    return _STATE.setdefault(mb, _Delegates())


def _principal(ctx: RequestContext, body: etree._Element) -> Mailbox:
    mb_el = child(body, "Mailbox")
    address = (mb_el.findtext(T + "EmailAddress") or "").strip() if mb_el is not None else ""
    if not address:
        raise ResponseCodeError("ErrorInvalidParameter", "The Mailbox element needs an EmailAddress.")
    return ctx.mailbox_for(address)


def _user_address(ctx: RequestContext, uid: Optional[etree._Element]) -> str:
    address = (uid.findtext(T + "PrimarySmtpAddress") or "").strip() if uid is not None else ""
    if not address:
        raise ResponseCodeError("ErrorInvalidUserInfo", "The delegate UserId needs a PrimarySmtpAddress.")
    mb = ctx.store.get_mailbox(address)
    if mb is None:
        raise ResponseCodeError("ErrorDelegateNoUser", "The delegate does not map to a user in the Active Directory.")
    return mb.primary_smtp_address


# --- folder permissions behind the delegate levels ------------------------------------------------------
def _permission_set(folder: FolderRecord) -> etree._Element:
    ps = folder.props.find(T + "PermissionSet")
    if ps is None:  # responses are put in schema order when rendered, so appending is enough
        ps = default_permission_set(folder.element_kind)
        folder.props.append(ps)
    return ps


def _entry(ps: etree._Element, address: str) -> Optional[etree._Element]:
    for perm in ps.iter(T + "Permission", T + "CalendarPermission"):
        if (perm.findtext(f"{T}UserId/{T}PrimarySmtpAddress") or "").strip().lower() == address:
            return perm
    return None


def set_folder_level(folder: FolderRecord, address: str, level: str, display_name: str = "") -> None:
    """Give ``address`` the delegate ``level`` on ``folder`` (None removes the entry)."""
    ps = _permission_set(folder)
    old = _entry(ps, address)
    arr = next(iter(children(ps)))
    if old is not None:
        parent = old.getparent()
        if parent is not None:
            parent.remove(old)
    if level == "None":
        folder.touch()
        return
    calendar = folder.element_kind == "CalendarFolder"
    perm = etree.SubElement(arr, T + ("CalendarPermission" if calendar else "Permission"))
    uid = etree.SubElement(perm, T + "UserId")
    etree.SubElement(uid, T + "PrimarySmtpAddress").text = address
    if display_name:
        etree.SubElement(uid, T + "DisplayName").text = display_name
    etree.SubElement(perm, T + ("CalendarPermissionLevel" if calendar else "PermissionLevel")).text = level
    normalise_permission_set(folder.element_kind, ps)
    folder.touch()


def folder_level(folder: FolderRecord, address: str) -> str:
    ps = folder.props.find(T + "PermissionSet")
    perm = _entry(ps, address) if ps is not None else None
    if perm is None:
        return "None"
    level = perm.findtext(T + "PermissionLevel") or perm.findtext(T + "CalendarPermissionLevel") or "None"
    return level if level in _LEVELS else "Custom"


# --- rendering ---------------------------------------------------------------------------------------------
def _render(store: Store, principal: Mailbox, stored: etree._Element, with_permissions: bool) -> etree._Element:
    out = etree.Element(M + "DelegateUser")
    uid = copy.deepcopy(stored.find(T + "UserId"))
    assert uid is not None  # stored delegates always have one
    address = (uid.findtext(T + "PrimarySmtpAddress") or "").lower()
    user = store.get_mailbox(address)
    for c in list(uid):
        uid.remove(c)
    etree.SubElement(uid, T + "PrimarySmtpAddress").text = address
    etree.SubElement(uid, T + "DisplayName").text = user.display_name if user is not None else address
    out.append(uid)
    if with_permissions:
        perms = etree.SubElement(out, T + "DelegatePermissions")
        for tag, dist in DELEGATE_FOLDERS:
            folder = principal.folder(dist)
            etree.SubElement(perms, T + tag).text = folder_level(folder, address) if folder is not None else "None"
    for tag in ("ReceiveCopiesOfMeetingMessages", "ViewPrivateItems"):
        etree.SubElement(out, T + tag).text = get_text(stored, tag) or "false"
    return out


def _respond(name: str, fn) -> etree._Element:
    """Run ``fn(messages)`` inside the single response; messages is the m:ResponseMessages container."""

    def run(payload: etree._Element) -> None:
        msgs = etree.SubElement(payload, M + "ResponseMessages")
        extra = fn(msgs)
        if not len(msgs):
            payload.remove(msgs)
        if extra is not None:
            payload.append(extra)

    root = single_response(name, run)
    return root


def _one(msgs: etree._Element, fn) -> None:
    try:
        user = fn()
    except ResponseCodeError as e:
        error_message(msgs, "DelegateUserResponseMessageType", e)
        return
    success_message(msgs, "DelegateUserResponseMessageType", [user] if user is not None else [])


def _deliver_element(state: _Delegates) -> etree._Element:
    el = etree.Element(M + "DeliverMeetingRequests")
    el.text = state.deliver
    return el


def _apply(ctx: RequestContext, principal: Mailbox, state: _Delegates, du: etree._Element, adding: bool
           ) -> etree._Element:
    address = _user_address(ctx, du.find(T + "UserId"))
    if address in principal.addresses():
        raise ResponseCodeError("ErrorDelegateCannotAddOwner", "The owner of the mailbox can't be a delegate.")
    if adding and address in state.users:
        raise ResponseCodeError("ErrorDelegateAlreadyExists", "The delegate already exists.")
    if not adding and address not in state.users:
        raise ResponseCodeError("ErrorNotDelegate", "The user is not a delegate of the mailbox.")
    stored = state.users.get(address)
    if stored is None:
        stored = etree.Element(T + "DelegateUser")
        uid = etree.SubElement(stored, T + "UserId")
        etree.SubElement(uid, T + "PrimarySmtpAddress").text = address
    for tag in ("ReceiveCopiesOfMeetingMessages", "ViewPrivateItems"):
        given = du.find(T + tag)
        if given is not None:
            old = stored.find(T + tag)
            if old is not None:
                stored.remove(old)
            etree.SubElement(stored, T + tag).text = "true" if (given.text or "").strip() in ("true", "1") else "false"
    perms = du.find(T + "DelegatePermissions")
    user = ctx.store.get_mailbox(address)
    name = user.display_name if user is not None else ""
    for tag, dist in DELEGATE_FOLDERS:
        level = perms.findtext(T + tag) if perms is not None else None
        folder = principal.folder(dist)
        if folder is None:
            continue
        if level is None and adding:
            level = "None"
        if level is not None and level != "Custom":
            set_folder_level(folder, address, level.strip(), name)
    state.users[address] = stored
    return _render(ctx.store, principal, stored, True)


@handler("GetDelegate")
def get_delegate(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getdelegate-operation"""
    with_permissions = bool_attr(body, "IncludePermissions")

    def run(msgs: etree._Element) -> etree._Element:
        principal = _principal(ctx, body)
        state = delegates_of(principal)
        ids = children(child(body, "UserIds"))
        if not ids:
            for stored in state.users.values():
                _one(msgs, lambda s=stored: _render(ctx.store, principal, s, with_permissions))
        for uid in ids:
            def one(uid: etree._Element = uid) -> etree._Element:
                address = _user_address(ctx, uid)
                if address not in state.users:
                    raise ResponseCodeError("ErrorNotDelegate", "The user is not a delegate of the mailbox.")
                return _render(ctx.store, principal, state.users[address], with_permissions)
            _one(msgs, one)
        return _deliver_element(state)

    return _respond("GetDelegate", run)


@handler("AddDelegate")
def add_delegate(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/adddelegate-operation"""
    return _add_or_update(ctx, body, "AddDelegate", adding=True)


@handler("UpdateDelegate")
def update_delegate(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updatedelegate-operation"""
    return _add_or_update(ctx, body, "UpdateDelegate", adding=False)


def _add_or_update(ctx: RequestContext, body: etree._Element, name: str, adding: bool) -> etree._Element:
    def run(msgs: etree._Element) -> None:
        principal = _principal(ctx, body)
        state = delegates_of(principal)
        for du in children(child(body, "DelegateUsers")):
            _one(msgs, lambda du=du: _apply(ctx, principal, state, du, adding))
        deliver_el = child(body, "DeliverMeetingRequests")
        if deliver_el is not None and deliver_el.text:
            state.deliver = deliver_el.text.strip()
        return None

    return _respond(name, run)


@handler("RemoveDelegate")
def remove_delegate(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/removedelegate-operation"""

    def run(msgs: etree._Element) -> None:
        principal = _principal(ctx, body)
        state = delegates_of(principal)
        for uid in children(child(body, "UserIds")):
            def one(uid: etree._Element = uid) -> None:
                address = _user_address(ctx, uid)
                if address not in state.users:
                    raise ResponseCodeError("ErrorNotDelegate", "The user is not a delegate of the mailbox.")
                for _tag, dist in DELEGATE_FOLDERS:
                    folder = principal.folder(dist)
                    if folder is not None:
                        set_folder_level(folder, address, "None")
                del state.users[address]
                return None
            _one(msgs, one)
        return None

    return _respond("RemoveDelegate", run)


# --- meeting requests go to delegates -------------------------------------------------------------------
def forward_meeting_requests(store: Store, mb: Mailbox, rec: ItemRecord) -> None:
    state = _STATE.get(mb)
    if rec.key not in store.items or rec.folder is not mb.folder("inbox"):  # an inbox rule moved it away
        return
    if state is None or not state.users or rec.element_kind != "MeetingRequest" or state.deliver == "NoForward":
        return
    copied = False
    for address, stored in state.users.items():
        if get_text(stored, "ReceiveCopiesOfMeetingMessages") != "true":
            continue
        delegate = store.get_mailbox(address)
        inbox = delegate.folder("inbox") if delegate is not None else None
        if delegate is not None and inbox is not None:
            deliver(store, delegate, rec.elem, mb, folder=inbox)
            copied = True
    if copied and state.deliver == "DelegatesOnly" and rec.key in store.items:
        delete_record(store, rec, "MoveToDeletedItems")


DELIVERY_HOOKS.append(forward_meeting_requests)


def _views_private_items(mb: Mailbox, caller: str) -> bool:
    state = _STATE.get(mb)
    stored = state.users.get(caller) if state is not None else None
    return stored is not None and get_text(stored, "ViewPrivateItems") == "true"


PRIVATE_VIEWERS.append(_views_private_items)
