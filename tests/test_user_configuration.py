"""User configuration objects (Get/Create/Update/DeleteUserConfiguration) over HTTP."""
from __future__ import annotations

import uuid

import pytest

from exchangelib import UTC, EWSDateTime, Folder
from exchangelib.errors import ErrorAccessDenied, ErrorItemNotFound, ErrorItemSave
from exchangelib.properties.user_configuration import UserConfiguration


@pytest.fixture
def name():
    return f"Test.{uuid.uuid4().hex[:8]}"


def test_dictionary_xml_and_binary_round_trip_with_types(exchange, name):
    cal = exchange.account("john@example.com").calendar
    values = {"count": 7, "flag": False, "text": "blue", "names": ["a", "b"], "blob": b"\x00\xff",
              "when": EWSDateTime(2026, 5, 1, 12, tzinfo=UTC), "big": 2 ** 40, "nothing": None}
    cal.create_user_configuration(name, dictionary=values, xml_data=b"<x/>", binary_data=b"\x01\x02\x03")
    try:
        got = cal.get_user_configuration(name)
        assert isinstance(got, UserConfiguration) and got.name == name and got.id
        assert got.dictionary == values
        assert type(got.dictionary["flag"]) is bool and type(got.dictionary["count"]) is int
        assert (got.xml_data, got.binary_data) == (b"<x/>", b"\x01\x02\x03")
        only_xml = cal.get_user_configuration(name, properties=["XmlData"])
        assert (only_xml.xml_data, only_xml.dictionary, only_xml.binary_data) == (b"<x/>", None, None)
        assert name in cal.user_configuration_names()
    finally:
        cal.delete_user_configuration(name)


def test_update_replaces_given_parts_only(exchange, name):
    inbox = exchange.account("john@example.com").inbox
    inbox.create_user_configuration(name, dictionary={"v": 1}, xml_data=b"<old/>")
    inbox.update_user_configuration(name, dictionary={"v": 2, "w": "x"})
    got = inbox.get_user_configuration(name)
    assert got.dictionary == {"v": 2, "w": "x"} and got.xml_data == b"<old/>"
    inbox.delete_user_configuration(name)
    assert name not in inbox.user_configuration_names()


def test_errors(exchange, name):
    root = exchange.account("john@example.com").root
    with pytest.raises(ErrorItemNotFound):
        root.get_user_configuration(name)
    with pytest.raises(ErrorItemNotFound):
        root.update_user_configuration(name, xml_data=b"<x/>")
    with pytest.raises(ErrorItemNotFound):
        root.delete_user_configuration(name)
    root.create_user_configuration(name, binary_data=b"1")
    try:
        with pytest.raises(ErrorItemSave):
            root.create_user_configuration(name)
        with pytest.raises(ValueError, match="properties"):
            root.get_user_configuration(name, properties=["Everything"])
        with pytest.raises(TypeError, match="unsupported value type"):
            root.update_user_configuration(name, dictionary={"x": 1.5})
        with pytest.raises(TypeError, match="bytes"):
            root.update_user_configuration(name, xml_data="<x/>")
    finally:
        root.delete_user_configuration(name)


def test_other_users_need_folder_rights(exchange, name):
    john = exchange.account("john@example.com")
    john.calendar.create_user_configuration(name, xml_data=b"<secret/>")
    try:
        outsider = exchange.account("john@example.com", login="ewsadmin@example.com")
        with pytest.raises(ErrorAccessDenied):  # Default has FreeBusyTimeOnly on calendars
            Folder(account=outsider, folder_id=john.calendar.id).get_user_configuration(name)
        delegate = exchange.account("john@example.com", login="mary@example.com")  # full access
        assert delegate.calendar.get_user_configuration(name).xml_data == b"<secret/>"
    finally:
        john.calendar.delete_user_configuration(name)
