"""ResolveNames: resolve a name or partial address to mailboxes (and contacts).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/resolvenames-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional

from ..properties import Mailbox
from ..xml import MNS, TNS, Element, add_child, create_element
from ..soap import response_message_error
from .common import EWSService, Result

SEARCH_SCOPE_CHOICES = ("ActiveDirectory", "ActiveDirectoryContacts", "Contacts", "ContactsActiveDirectory")
_RESOLUTION_SET = f"{{{MNS}}}ResolutionSet"
_MAILBOX = f"{{{TNS}}}Mailbox"


class ResolveNames(EWSService):
    SERVICE_NAME = "ResolveNames"

    def call(self, names: Iterable[str], search_scope: Optional[str] = None,
             return_full_contact_data: bool = False) -> Iterator[Result]:
        """Yields, per name, the list of matching Mailbox objects, or the exception (e.g. no results)."""
        if search_scope is not None and search_scope not in SEARCH_SCOPE_CHOICES:
            raise ValueError(f"search_scope must be one of {SEARCH_SCOPE_CHOICES}, got {search_scope!r}")
        for name in names:
            if not isinstance(name, str) or not name:
                yield ValueError(f"Names to resolve must be non-empty strings, got {name!r}")
                continue
            attrs = {"ReturnFullContactData": "true" if return_full_contact_data else "false"}
            if search_scope:
                attrs["SearchScope"] = search_scope
            elem = create_element("m:ResolveNames", attrs)
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
        out = []
        for resolution in (rs if rs is not None else ()):
            mb = resolution.find(_MAILBOX)
            if mb is not None:
                out.append(Mailbox.from_xml(mb, account=self.account))
        return [out]
