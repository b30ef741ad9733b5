"""GetMailTips: what Exchange knows about recipients before a message is sent (OOF, full mailbox, size limit...).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getmailtips-operation
"""
from __future__ import annotations

from typing import Any, Iterable, List

from ..properties.availability import MailTips
from ..soap import response_message_error
from ..version import EXCHANGE_2010
from ..xml import MNS, add_child, create_element
from .common import EWSService, Result

MAIL_TIP_TYPES = ("All", "OutOfOfficeMessage", "MailboxFullStatus", "CustomMailTip", "ExternalMemberCount",
                  "TotalMemberCount", "MaxMessageSize", "DeliveryRestriction", "ModerationStatus", "InvalidRecipient",
                  "Scope", "RecipientSuggestions", "PreferAccessibleContent")


class GetMailTips(EWSService):
    SERVICE_NAME = "GetMailTips"
    supported_from = EXCHANGE_2010

    def call(self, sending_as: str, recipients: Iterable[str], mail_tips_requested: str = "All") -> List[Result]:
        """One MailTips (or exception) per recipient address, in order."""
        requested = mail_tips_requested.split() if isinstance(mail_tips_requested, str) else list(mail_tips_requested)
        for r in requested:
            if r not in MAIL_TIP_TYPES:
                raise ValueError(f"mail_tips_requested entries must be from {MAIL_TIP_TYPES}, got {r!r}")
        addresses = list(recipients)
        if not addresses:
            return []
        for a in addresses:
            if not isinstance(a, str) or not a:
                raise ValueError(f"Recipients must be email address strings, got {a!r}")
        self.check_supported()
        payload = create_element("m:GetMailTips")
        sa = add_child(payload, "m:SendingAs")
        add_child(sa, "t:EmailAddress", text=sending_as)
        rs = add_child(payload, "m:Recipients")
        for a in addresses:
            mb = add_child(rs, "t:Mailbox")
            add_child(mb, "t:EmailAddress", text=a)
        add_child(payload, "m:MailTipsRequested", text=" ".join(requested))
        response = self._post(payload)
        exc = response_message_error(response, self.SERVICE_NAME)
        if exc is not None:
            raise exc
        out: List[Any] = []
        msgs = response.find(f"{{{MNS}}}ResponseMessages")
        for msg in (msgs if msgs is not None else ()):
            err = response_message_error(msg, self.SERVICE_NAME)
            if err is not None:
                out.append(err)
                continue
            tips = msg.find(f"{{{MNS}}}MailTips")
            out.append(MailTips.from_xml(tips, account=self.account) if tips is not None else None)
        return out



