"""ResolveNames: resolve a name or partial address to mailboxes (and contacts).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/resolvenames-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional

from ..properties import Mailbox
from ..registry import ITEM_CLASSES
from ..soap import response_message_error
from ..version import EXCHANGE_2010_SP2
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService, Result
from .ids import folder_ids_xml

SEARCH_SCOPE_CHOICES = ("ActiveDirectory", "ActiveDirectoryContacts", "Contacts", "ContactsActiveDirectory")
SHAPE_CHOICES = ("IdOnly", "Default", "AllProperties")
_RESOLUTION_SET = f"{{{MNS}}}ResolutionSet"
_MAILBOX = f"{{{TNS}}}Mailbox"
_CONTACT = f"{{{TNS}}}Contact"


class ResolveNames(EWSService):
    SERVICE_NAME = "ResolveNames"

    def call(self, names: Iterable[str], search_scope: Optional[str] = None,
             return_full_contact_data: bool = False, contact_data_shape: Optional[str] = None,
             parent_folders: Optional[Iterable[Any]] = None, with_contacts: bool = False) -> Iterator[Result]:
        """Yields, per name, the list of matching Mailbox objects (or, with ``with_contacts``, of
        ``(Mailbox, Contact or None)`` pairs), or the exception (e.g. ErrorNameResolutionNoResults)."""
        if search_scope is not None and search_scope not in SEARCH_SCOPE_CHOICES:
            raise ValueError(f"search_scope must be one of {SEARCH_SCOPE_CHOICES}, got {search_scope!r}")
        if contact_data_shape is not None:
            if contact_data_shape not in SHAPE_CHOICES:
                raise ValueError(f"shape must be one of {SHAPE_CHOICES}, got {contact_data_shape!r}")
            if not self.version.supports(EXCHANGE_2010_SP2):
                raise NotImplementedError("ResolveNames' ContactDataShape needs Exchange 2010 SP2 or later")
        folders = list(parent_folders) if parent_folders is not None else None
        self._with_contacts = with_contacts
        for name in names:
            if not isinstance(name, str) or not name:
                yield ValueError(f"Names to resolve must be non-empty strings, got {name!r}")
                continue
            attrs = {"ReturnFullContactData": "true" if return_full_contact_data else "false"}
            if search_scope:
                attrs["SearchScope"] = search_scope
            if contact_data_shape:
                attrs["ContactDataShape"] = contact_data_shape
            elem = create_element("m:ResolveNames", attrs)
            if folders:
                elem.append(folder_ids_xml("m:ParentFolderIds", folders))
            add_child(elem, "m:UnresolvedEntry", text=name)
            for msg in self._response_messages(self._post(elem)):
                code = msg.findtext(f"{{{MNS}}}ResponseCode")
                if msg.get("ResponseClass") == "Warning" and code == "ErrorNameResolutionMultipleResults":
                    yield from self.parse_message(msg)  # ambiguous, but the candidates are what the caller wants
                    continue
                exc = response_message_error(msg, self.SERVICE_NAME)
                yield exc if exc is not None else self.parse_message(msg)[0]

    def parse_message(self, msg: Element) -> List[Any]:
        rs = msg.find(_RESOLUTION_SET)
        out: List[Any] = []
        for resolution in (rs if rs is not None else ()):
            mb = resolution.find(_MAILBOX)
            if mb is None:
                continue
            mailbox = Mailbox.from_xml(mb, account=self.account)
            if getattr(self, "_with_contacts", False):
                contact = resolution.find(_CONTACT)
                contact_cls = ITEM_CLASSES["Contact"]
                out.append((mailbox, contact_cls.from_xml(contact, account=self.account) if contact is not None
                            else None))
            else:
                out.append(mailbox)
        return [out]
