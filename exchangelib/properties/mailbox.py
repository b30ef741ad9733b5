"""Mailboxes and attendees, and the fields that hold them (they accept plain email strings)."""
from __future__ import annotations

import re
from typing import Any, Optional

from ..elements import EWSElement
from ..fields import ChoiceField, CharField, DateTimeField, EWSElementField, EWSElementListField
from ..version import EXCHANGE_2013
from .ids import ItemId

MAILBOX_TYPE_CHOICES = frozenset(("Unknown", "OneOff", "Mailbox", "PublicDL", "PrivateDL", "Contact",
                                  "PublicFolder", "GroupMailbox", "ImplicitContact", "User"))
RESPONSE_TYPE_CHOICES = frozenset(("Unknown", "Organizer", "Tentative", "Accept", "Decline", "NoResponseReceived"))


class Mailbox(EWSElement):
    """A mailbox user or other mail-enabled object (``EmailAddressType``).

    ``Mailbox(email_address='anne@example.com')``; ``Mailbox('Anne', 'anne@example.com')``.
    Two mailboxes are equal when their email addresses are equal ignoring case.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/mailbox
    """

    ELEMENT_NAME = "Mailbox"
    COMPACT = True  # several per parsed message: slots, no instance dict
    REPR_FIELDS = ("name", "email_address")
    name = CharField(xml_name="Name", shared=True)
    email_address = CharField(xml_name="EmailAddress", min_length=1, shared=True)
    routing_type = CharField(xml_name="RoutingType", min_length=1, default="SMTP", shared=True)
    mailbox_type = ChoiceField(xml_name="MailboxType", choices=MAILBOX_TYPE_CHOICES)
    item_id = EWSElementField(xml_name="ItemId", value_cls=ItemId)
    original_display_name = CharField(xml_name="OriginalDisplayName", supported_from=EXCHANGE_2013)

    def clean(self, version: Any = None) -> None:
        super().clean(version)
        if self.email_address is None and self.item_id is None:
            raise ValueError("Mailbox needs an email_address or an item_id")
        if self.email_address is not None:
            check_address(self.email_address, "Mailbox.email_address", self.routing_type)

    def _key(self) -> Any:
        if self.email_address:
            return self.email_address.lower()
        return (self.name, self.item_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mailbox):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        if self.name and self.email_address:
            return f"{self.name} <{self.email_address}>"
        return self.email_address or self.name or ""


# One '@'; a local part without spaces or specials (or a quoted one); dot-separated, non-empty domain labels
# (Unicode letters allowed for internationalised domains), or an address literal in brackets.
_SPECIALS = r'\s@"(),:;<>\[\]\\'
_SMTP_RE = re.compile(rf'^(?:[^{_SPECIALS}]+|"[^"\\]*")@(?:[^{_SPECIALS}.]+(?:\.[^{_SPECIALS}.]+)*|\[[0-9A-Fa-f:.]+\])$')


def check_address(value: str, where: str, routing_type: Optional[str] = "SMTP") -> None:
    """Reject an SMTP address that cannot be valid (``a@b@c``, ``user@``, ``a b@c.com``, ``x@y..z``).

    Only addresses with an '@' are checked: names that Exchange resolves ('Anne Smith', an alias) and
    EX/X500 addresses ('/o=Org/ou=.../cn=anne') are left to the server, which reports those it cannot
    resolve (a non-delivery report for sent mail).
    """
    if routing_type not in (None, "SMTP"):
        return
    bare = value.strip()
    if bare[:5].lower() == "smtp:":
        bare = bare[5:]
    if "@" not in bare or bare.startswith("/"):
        return
    if len(bare) > 320 or not _SMTP_RE.match(bare):
        hint = (" For a name with an address, use Mailbox(name='Anne', email_address='anne@example.com')."
                if "<" in bare else "")
        raise ValueError(f"{where}: {value!r} is not a valid SMTP address (expected one '@' between a local part "
                         f"and a domain, without spaces). Display names and EX/X500 addresses are accepted as "
                         f"they are.{hint}")


def _to_mailbox(value: Any, where: str) -> Any:
    if isinstance(value, str):
        if not value:
            raise ValueError(f"{where}: an email address must not be empty")
        check_address(value, where)
        return Mailbox(email_address=value)
    return value


class MailboxField(EWSElementField):
    """One recipient (``SingleRecipientType``: ``<t:From><t:Mailbox>..</t:Mailbox></t:From>``).

    Accepts a :class:`Mailbox` or an email address string.
    """

    def __init__(self, field_uri: Optional[str] = None, *, wrapped: bool = True, **kwargs: Any):
        kwargs.setdefault("is_searchable", True)
        super().__init__(field_uri, value_cls=Mailbox, wrapped=wrapped, **kwargs)

    def _convert(self, value: Any, where: str) -> Any:
        return _to_mailbox(value, where)

    def to_constant(self, value: Any, version: Any = None) -> str:
        return self._clean_one(value, self.label).email_address or ""


class MailboxListField(EWSElementListField):
    """A list of recipients (``ArrayOfRecipientsType``). Items may be Mailbox objects or address strings."""

    def __init__(self, field_uri: Optional[str] = None, **kwargs: Any):
        kwargs.setdefault("is_searchable", True)
        super().__init__(field_uri, value_cls=Mailbox, **kwargs)

    def _convert(self, value: Any, where: str) -> Any:
        return _to_mailbox(value, where)

    def to_constant(self, value: Any, version: Any = None) -> str:
        return self._clean_one(value, self.label).email_address or ""


class Attendee(EWSElement):
    """A meeting attendee: a mailbox and its response.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/attendee
    """

    ELEMENT_NAME = "Attendee"
    COMPACT = True
    mailbox = MailboxField(xml_name="Mailbox", wrapped=False, is_required=True)
    response_type = ChoiceField(xml_name="ResponseType", choices=RESPONSE_TYPE_CHOICES)
    last_response_time = DateTimeField(xml_name="LastResponseTime")
    proposed_start = DateTimeField(xml_name="ProposedStart", supported_from=EXCHANGE_2013)
    proposed_end = DateTimeField(xml_name="ProposedEnd", supported_from=EXCHANGE_2013)

    def __hash__(self) -> int:
        return hash((self.mailbox, self.response_type, self.last_response_time))

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)


class AttendeesField(EWSElementListField):
    """A list of attendees. Items may be Attendee objects, Mailbox objects or address strings."""

    def __init__(self, field_uri: Optional[str] = None, **kwargs: Any):
        kwargs.setdefault("is_searchable", True)
        super().__init__(field_uri, value_cls=Attendee, **kwargs)

    def _convert(self, value: Any, where: str) -> Any:
        value = _to_mailbox(value, where)
        if isinstance(value, Mailbox):
            return Attendee(mailbox=value)
        return value

    def to_constant(self, value: Any, version: Any = None) -> str:
        return self._clean_one(value, self.label).mailbox.email_address or ""


__all__ = ["MAILBOX_TYPE_CHOICES", "RESPONSE_TYPE_CHOICES", "Mailbox", "MailboxField", "MailboxListField",
           "Attendee", "AttendeesField"]
