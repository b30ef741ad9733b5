"""ExpandDL: the members of a distribution list, one level deep (nested lists come back as entries).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/expanddl-operation
"""
from __future__ import annotations

from typing import Any, List

from ..properties import Mailbox
from ..properties.availability import DLMailbox
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService

_MAILBOX = f"{{{TNS}}}Mailbox"


class ExpandDL(EWSService):
    SERVICE_NAME = "ExpandDL"

    def call(self, distribution_list: DLMailbox) -> List[Mailbox]:
        """The list's members (raises the error of the ResponseMessage, e.g. ErrorNameResolutionNoResults)."""
        payload = create_element("m:ExpandDL")
        mb = add_child(payload, "m:Mailbox")
        if distribution_list.email_address:
            add_child(mb, "t:EmailAddress", text=distribution_list.email_address)
            add_child(mb, "t:RoutingType", text=distribution_list.routing_type or "SMTP")
        if distribution_list.mailbox_type:
            add_child(mb, "t:MailboxType", text=distribution_list.mailbox_type)
        if distribution_list.item_id is not None:
            mb.append(distribution_list.item_id.to_xml())
        results = self._results(payload, expected=1)
        if isinstance(results[0], Exception):
            raise results[0]
        return results[0]

    def parse_message(self, msg: Element) -> List[Any]:
        expansion = msg.find(f"{{{MNS}}}DLExpansion")
        members = [Mailbox.from_xml(m, account=self.account) for m in (expansion if expansion is not None else ())
                   if m.tag == _MAILBOX]
        return [members]
