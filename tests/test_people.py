"""People over HTTP against a strict local server: folder.people() (FindPeople) and account.fetch_personas
(GetPersona)."""
from __future__ import annotations

import pytest

from exchangelib import Contact
from exchangelib.errors import ErrorInvalidIdMalformed, ErrorItemNotFound
from exchangelib.folders import Directory
from exchangelib.properties import EmailAddress
from exchangelib.properties.persona import Persona

NAMES = [("Anna", "Berg"), ("Bo", "Major"), ("Carl", "Major"), ("Dora", "Nilsen"), ("Emil", "Major")]


@pytest.fixture(scope="module")
def people_account(_module_exchange):
    acc = _module_exchange.account("mary@example.com")
    for given, surname in NAMES:
        Contact(account=acc, folder=acc.contacts, display_name=f"{given} {surname}", given_name=given,
                surname=surname, company_name="Acme" if surname == "Major" else "Other",
                email_addresses=[EmailAddress(label="EmailAddress1", email=f"{given.lower()}@partner.org")]).save()
    return acc


def test_people_search_filters_sorts_and_pages(exchange, people_account):
    qs = people_account.contacts.people()
    assert [p.display_name for p in qs] == [f"{g} {s}" for g, s in NAMES]
    assert all(isinstance(p, Persona) and p.id and p.persona_type == "Person" for p in qs)
    majors = qs.filter(surname="Major").order_by("-given_name")
    assert list(majors.values_list("given_name", flat=True)) == ["Emil", "Carl", "Bo"]
    assert majors.count() == 3 and qs.exclude(company_name="Acme").count() == 2
    assert [p.given_name for p in qs.filter(given_name__istartswith="d")] == ["Dora"]
    assert [p.email_address.email_address for p in qs.filter("carl")] == ["carl@partner.org"]
    # Small pages: slices fetch only what they need, from either end
    fresh = people_account.contacts.people()
    fresh.page_size = 2
    exchange.reset_stats()
    assert [p.given_name for p in fresh[1:4]] == ["Bo", "Carl", "Dora"]
    assert exchange.request_count("FindPeople") == 2
    assert [p.given_name for p in fresh[-2:]] == ["Dora", "Emil"]
    assert qs.filter(surname="Nobody").exists() is False
    # only(): ids plus the named properties
    slim = list(qs.only("display_name"))
    assert slim[0].display_name == "Anna Berg" and slim[0].email_address is None and slim[0].id


def test_directory_people_and_fetch_personas(exchange, people_account):
    directory = people_account.folders.distinguished(Directory)
    gal = {p.display_name: p for p in directory.people()}
    assert {"John Doe", "Mary Major", "EWS Service Account", "Conference Room 1"} <= set(gal)
    anna = people_account.contacts.people().get(given_name="Anna")
    got = list(people_account.fetch_personas([anna, gal["John Doe"].id, "not-an-id!", ]))
    assert got[0].display_name == "Anna Berg" and got[0].company_name == "Other"
    assert [a.email_address for a in got[0].email_addresses] == ["anna@partner.org"]
    assert got[1].email_address.email_address == "john@example.com"
    assert isinstance(got[2], ErrorInvalidIdMalformed)
    contact = people_account.contacts.get(given_name="Dora")
    dora = people_account.contacts.people().get(given_name="Dora")
    contact.delete()
    [gone] = people_account.fetch_personas([dora])
    assert isinstance(gone, ErrorItemNotFound)


def test_people_need_exchange_2013(make_exchange):
    server = make_exchange(version="2010_SP2")
    acc = server.account("john@example.com")
    with pytest.raises(NotImplementedError):
        list(acc.contacts.people())
