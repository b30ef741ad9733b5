"""ResolveNames: resolve a name or address against the store's mailboxes and the caller's contacts.

Matching: an exact address (primary or alias, with or without an ``SMTP:`` prefix) resolves to
that mailbox alone. Otherwise a mailbox matches when the text is a case-insensitive prefix of its
display name, of a word of its display name, of an address or of an address's local part; a
contact matches the same way on DisplayName, GivenName, Surname and its email addresses.
SearchScope picks the sources and their order (ActiveDirectory, ActiveDirectoryContacts,
Contacts, ContactsActiveDirectory). At most 100 resolutions are returned. An ambiguous name answers
ErrorNameResolutionMultipleResults with ResponseClass="Warning" and the candidates in the ResolutionSet.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/resolvenamesresponsemessage
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/resolvenames-operation
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext, ResponseCodeError
from ..store import FolderRecord, ItemRecord, Mailbox
from .common import (bool_attr, child, children, err, error_message, handler, item_id_element, m_el, new_response,
                     resolve_folder, success_message)
from .props import get_text, insert_ordered

T = f"{{{TNS}}}"
MAX_RESOLUTIONS = 100


def _matches(query: str, names: List[str], addresses: List[str]) -> bool:
    for n in names:
        n = n.casefold()
        if n.startswith(query) or any(w.startswith(query) for w in n.split()):
            return True
    for a in addresses:
        a = a.casefold()
        if a.startswith(query) or a.split("@", 1)[0].startswith(query):
            return True
    return False


def _mailbox_matches(ctx: RequestContext, query: str) -> List[Mailbox]:
    exact = ctx.store.get_mailbox(query)
    if exact is not None:
        return [exact]
    return sorted((mb for mb in ctx.store.mailboxes if _matches(query, [mb.display_name], list(mb.addresses()))),
                  key=lambda mb: (mb.display_name.casefold(), mb.primary_smtp_address))


def _contact_addresses(rec: ItemRecord) -> List[str]:
    out = []
    for entry in rec.elem.findall(f"{T}EmailAddresses/{T}Entry"):
        text = (entry.text or "").strip()
        if text.lower().startswith("smtp:"):
            text = text[5:]
        if text:
            out.append(text)
    return out


def _contact_matches(folders: List[FolderRecord], query: str) -> List[ItemRecord]:
    out = []
    for folder in folders:
        for rec in folder.items():
            if rec.element_kind not in ("Contact", "DistributionList"):
                continue
            names = [get_text(rec.elem, n) or "" for n in ("DisplayName", "GivenName", "Surname", "FileAs")]
            addresses = _contact_addresses(rec)
            if any(a.casefold() == query for a in addresses) or _matches(query, [n for n in names if n], addresses):
                out.append(rec)
    return out


def _email(tag: str, name: str, address: Optional[str], mailbox_type: str,
           item: Optional[ItemRecord] = None) -> etree._Element:
    mb = etree.Element(T + tag)
    etree.SubElement(mb, T + "Name").text = name
    if address:
        etree.SubElement(mb, T + "EmailAddress").text = address
        etree.SubElement(mb, T + "RoutingType").text = "SMTP"
    etree.SubElement(mb, T + "MailboxType").text = mailbox_type
    if item is not None:
        mb.append(item_id_element(item))
    return mb


def _directory_contact(mb: Mailbox) -> etree._Element:
    contact = etree.Element(T + "Contact")

    def add(name: str, text: str) -> etree._Element:
        el = etree.Element(T + name)
        el.text = text
        return insert_ordered(contact, el, "ContactItemType")

    add("DisplayName", mb.display_name)
    parts = mb.display_name.split()
    if parts:
        add("GivenName", parts[0])
    if len(parts) > 1:
        add("Surname", " ".join(parts[1:]))
    emails = etree.Element(T + "EmailAddresses")
    for i, addr in enumerate(mb.addresses()[:3]):
        entry = etree.SubElement(emails, T + "Entry", Key=f"EmailAddress{i + 1}")
        entry.text = ("SMTP:" if i == 0 else "smtp:") + addr
    insert_ordered(contact, emails, "ContactItemType")
    add("ContactSource", "ActiveDirectory")
    return contact


def _store_contact(rec: ItemRecord) -> etree._Element:
    contact = etree.Element(T + "Contact")
    for name in ("DisplayName", "GivenName", "CompanyName", "EmailAddresses", "PhysicalAddresses",
                 "PhoneNumbers", "JobTitle", "Surname"):
        el = rec.elem.find(T + name)
        if el is not None:
            insert_ordered(contact, etree.fromstring(etree.tostring(el)), "ContactItemType")
    src = etree.Element(T + "ContactSource")
    src.text = "Store"
    insert_ordered(contact, src, "ContactItemType")
    return contact


@handler("ResolveNames")
def resolve_names(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/resolvenames-operation"""
    root, msgs = new_response("ResolveNames")
    try:
        payload = _resolve(ctx, body)
    except ResponseCodeError as e:
        # An ambiguous name is a Warning carrying every candidate, as Exchange answers it
        warning = e.response_code == "ErrorNameResolutionMultipleResults"
        error_message(msgs, "ResolveNamesResponseMessage", e, response_class="Warning" if warning else "Error")
        return root
    success_message(msgs, "ResolveNamesResponseMessage", payload)
    return root


def _resolve(ctx: RequestContext, body: etree._Element) -> List[etree._Element]:
    entry = child(body, "UnresolvedEntry")
    text = (entry.text or "").strip() if entry is not None else ""
    if text.lower().startswith("smtp:"):
        text = text[5:]
    query = text.casefold()
    full = bool_attr(body, "ReturnFullContactData")
    scope = body.get("SearchScope", "ActiveDirectoryContacts")
    parents = child(body, "ParentFolderIds")
    resolutions: List[Tuple[str, object]] = []
    directory: List[Tuple[str, object]] = []
    contacts: List[Tuple[str, object]] = []
    if query:
        if "ActiveDirectory" in scope:
            directory = [("mailbox", mb) for mb in _mailbox_matches(ctx, query)]
        if "Contacts" in scope:
            if parents is not None:
                folders = [resolve_folder(ctx, f) for f in children(parents)]
            else:
                contacts_folder = ctx.mailbox.folder("contacts")
                folders = [contacts_folder] + list(contacts_folder.walk()) if contacts_folder is not None else []
            contacts = [("contact", rec) for rec in _contact_matches(folders, query)]
    resolutions = contacts + directory if scope.startswith("Contacts") else directory + contacts
    if not resolutions:
        raise err("ErrorNameResolutionNoResults", "No results were found.")
    resolutions = resolutions[:MAX_RESOLUTIONS]
    rset = m_el("ResolutionSet", TotalItemsInView=str(len(resolutions)), IncludesLastItemInRange="true")
    for kind, obj in resolutions:
        res = etree.SubElement(rset, T + "Resolution")
        if kind == "mailbox":
            assert isinstance(obj, Mailbox)
            res.append(_email("Mailbox", obj.display_name, obj.primary_smtp_address, "Mailbox"))
            if full:
                res.append(_directory_contact(obj))
        else:
            assert isinstance(obj, ItemRecord)
            addresses = _contact_addresses(obj)
            name = get_text(obj.elem, "DisplayName") or get_text(obj.elem, "FileAs") or ""
            mailbox_type = "PrivateDL" if obj.element_kind == "DistributionList" else "Contact"
            res.append(_email("Mailbox", name, addresses[0] if addresses else None, mailbox_type, obj))
            if full and obj.element_kind == "Contact":
                res.append(_store_contact(obj))
    if len(resolutions) > 1:
        raise err("ErrorNameResolutionMultipleResults", "Multiple results were found.", payload=[rset])
    return [rset]
