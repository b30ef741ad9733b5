"""Personas: people as FindPeople and GetPersona describe them (Exchange 2013 and later).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/persona
"""
from __future__ import annotations

from typing import Any, Optional

from ..elements import EWSElement
from ..fields import CharField, DateTimeField, EWSElementField, EWSElementListField, IntegerField
from ..version import EXCHANGE_2013
from .ids import ItemId
from .mailbox import Mailbox


class PersonaId(ItemId):
    """The id of a persona."""

    ELEMENT_NAME = "PersonaId"


class PersonaEmailAddress(Mailbox):
    """One of a persona's email addresses."""

    ELEMENT_NAME = "Address"


class Persona(EWSElement):
    """A person: the contacts and directory entries Exchange links into one (read-only).

    Find them with ``folder.people()`` (FindPeople) and fetch them by id with ``account.fetch_personas(ids)``
    (GetPersona). ``id``/``changekey`` are those of ``persona_id``.
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/persona
    """

    ELEMENT_NAME = "Persona"
    REPR_FIELDS = ("display_name", "email_address")
    _EXTRA_ATTRS = ("account", "folder")
    persona_id = EWSElementField("persona:PersonaId", xml_name="PersonaId", value_cls=PersonaId, is_read_only=True,
                                 supported_from=EXCHANGE_2013)
    persona_type = CharField("persona:PersonaType", is_read_only=True)
    creation_time = DateTimeField("persona:CreationTime", is_read_only=True)
    display_name = CharField("persona:DisplayName", is_read_only=True)
    file_as = CharField("persona:FileAs", is_read_only=True)
    given_name = CharField("persona:GivenName", is_read_only=True)
    surname = CharField("persona:Surname", is_read_only=True)
    title = CharField("persona:Title", is_read_only=True)
    company_name = CharField("persona:CompanyName", is_read_only=True)
    email_address = EWSElementField("persona:EmailAddress", xml_name="EmailAddress", value_cls=Mailbox,
                                    is_read_only=True)
    email_addresses = EWSElementListField("persona:EmailAddresses", xml_name="EmailAddresses",
                                          value_cls=PersonaEmailAddress, is_read_only=True)
    im_address = CharField("persona:ImAddress", is_read_only=True)
    home_city = CharField("persona:HomeCity", is_read_only=True)
    work_city = CharField("persona:WorkCity", is_read_only=True)
    relevance_score = IntegerField("persona:RelevanceScore", is_read_only=True)

    @property
    def id(self) -> Optional[str]:
        return self.persona_id.id if self.persona_id is not None else None

    @property
    def changekey(self) -> Optional[str]:
        return self.persona_id.changekey if self.persona_id is not None else None

    account: Any = None
    folder: Any = None


__all__ = ["Persona", "PersonaId", "PersonaEmailAddress"]
