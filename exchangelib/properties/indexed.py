"""Entries of the contact dictionaries (email addresses, phone numbers, IM addresses, postal addresses).

Each entry is an ``<t:Entry Key="...">`` element; ``label`` is the key. Use them in a list::

    Contact(phone_numbers=[PhoneNumber(label='MobilePhone', phone_number='+45 1234 5678')])
"""
from __future__ import annotations

from ..elements import EWSElement
from ..fields import CharField, ChoiceField, TextContentField
from .mailbox import MAILBOX_TYPE_CHOICES

EMAIL_ADDRESS_LABELS = frozenset(("EmailAddress1", "EmailAddress2", "EmailAddress3"))
PHONE_NUMBER_LABELS = frozenset((
    "AssistantPhone", "BusinessFax", "BusinessPhone", "BusinessPhone2", "Callback", "CarPhone", "CompanyMainPhone",
    "HomeFax", "HomePhone", "HomePhone2", "Isdn", "MobilePhone", "OtherFax", "OtherTelephone", "Pager",
    "PrimaryPhone", "RadioPhone", "Telex", "TtyTddPhone", "BusinessMobile", "IPPhone", "Mms", "Msn",
))
IM_ADDRESS_LABELS = frozenset(("ImAddress1", "ImAddress2", "ImAddress3"))
PHYSICAL_ADDRESS_LABELS = frozenset(("Home", "Business", "Other"))


class IndexedEntry(EWSElement):
    """Base class of dictionary entries; ``label`` is the entry's ``Key`` attribute."""

    ELEMENT_NAME = "Entry"


class EmailAddress(IndexedEntry):
    """One of a contact's (up to three) email addresses.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/entry-emailaddress
    """

    label = ChoiceField(xml_name="Key", is_attribute=True, is_required=True, choices=EMAIL_ADDRESS_LABELS)
    name = CharField(xml_name="Name", is_attribute=True)
    routing_type = CharField(xml_name="RoutingType", is_attribute=True, shared=True)
    mailbox_type = ChoiceField(xml_name="MailboxType", is_attribute=True, choices=MAILBOX_TYPE_CHOICES)
    email = TextContentField(is_required=True)


class PhoneNumber(IndexedEntry):
    """One of a contact's phone numbers.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/entry-phonenumber
    """

    label = ChoiceField(xml_name="Key", is_attribute=True, is_required=True, choices=PHONE_NUMBER_LABELS)
    phone_number = TextContentField(is_required=True)


class ImAddress(IndexedEntry):
    """One of a contact's instant messaging addresses.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/entry-imaddress
    """

    label = ChoiceField(xml_name="Key", is_attribute=True, is_required=True, choices=IM_ADDRESS_LABELS)
    im_address = TextContentField(is_required=True)


class PhysicalAddress(IndexedEntry):
    """One of a contact's postal addresses (Home, Business, Other).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/entry-physicaladdress
    """

    label = ChoiceField(xml_name="Key", is_attribute=True, is_required=True, choices=PHYSICAL_ADDRESS_LABELS)
    street = CharField(xml_name="Street")
    city = CharField(xml_name="City")
    state = CharField(xml_name="State")
    country = CharField(xml_name="CountryOrRegion")
    zipcode = CharField(xml_name="PostalCode")


__all__ = ["EMAIL_ADDRESS_LABELS", "PHONE_NUMBER_LABELS", "IM_ADDRESS_LABELS", "PHYSICAL_ADDRESS_LABELS",
           "IndexedEntry", "EmailAddress", "PhoneNumber", "ImAddress", "PhysicalAddress"]
