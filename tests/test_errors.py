"""Exception hierarchy, one class per EWS ResponseCode, error_for_code() and ErrorServerBusy.back_off."""
from __future__ import annotations

import datetime
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from exchangelib import errors, response_codes
from exchangelib.errors import (
    RESPONSE_CODE_CLASSES, AmbiguousTimeError, AutoDiscoverFailed, DoesNotExist, EWSError, ErrorAccessDenied,
    ErrorInternalServerError, ErrorItemNotFound, ErrorServerBusy, InvalidTypeError, MalformedResponseError,
    MultipleObjectsReturned, NaiveDateTimeNotAllowed, NonExistentTimeError, RateLimitError, RedirectError,
    ResponseMessageError, SOAPError, TransportError, UnauthorizedError, UnknownTimeZone, error_for_code,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_DIR = os.path.join(REPO, "exchangelib", "schema")
MNS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TNS = "http://schemas.microsoft.com/exchange/services/2006/types"


def _load_generator():
    sys.path.insert(0, os.path.join(REPO, "tools"))
    try:
        import gen_response_codes
    finally:
        sys.path.pop(0)
    return gen_response_codes


@pytest.fixture(scope="module")
def schema_codes():
    return _load_generator().read_codes(SCHEMA_DIR)


def test_committed_module_is_up_to_date(schema_codes):
    with open(response_codes.__file__, encoding="utf-8") as f:
        committed = f.read()
    assert _load_generator().generate(SCHEMA_DIR) == committed, "run: python3 tools/gen_response_codes.py"


def test_every_schema_code_has_a_class(schema_codes):
    assert len(schema_codes) > 400 and "ErrorItemNotFound" in schema_codes
    for code in schema_codes:
        if code == "NoError":
            assert "NoError" not in RESPONSE_CODE_CLASSES
            continue
        cls = RESPONSE_CODE_CLASSES[code]
        assert cls.__name__ == code and cls.response_code == code
        assert issubclass(cls, ResponseMessageError) and issubclass(cls, EWSError)
        assert getattr(errors, code) is cls  # re-exported: from exchangelib.errors import ErrorXxx
        assert code in errors.__all__
    assert set(RESPONSE_CODE_CLASSES) == set(schema_codes) - {"NoError"}


def test_error_for_code_returns_the_matching_class():
    e = error_for_code("ErrorItemNotFound", "The specified object was not found in the store.", "GetItem")
    assert type(e) is ErrorItemNotFound
    assert (e.response_code, e.message, e.operation, e.message_xml) == (
        "ErrorItemNotFound", "The specified object was not found in the store.", "GetItem", None)
    text = str(e)
    assert "ErrorItemNotFound" in text and "GetItem" in text and "not found in the store" in text
    assert "fetch it again" in text  # tells the user what to do next
    with pytest.raises(ErrorItemNotFound):
        raise e


def test_error_for_unknown_code_keeps_the_code():
    e = error_for_code("ErrorSomethingNew", "Brand new failure", "FindItem")
    assert type(e) is ResponseMessageError
    assert e.response_code == "ErrorSomethingNew"
    assert str(e) == "ErrorSomethingNew in FindItem: Brand new failure"


def test_user_raised_error_without_details():
    e = ErrorAccessDenied()
    assert str(e) .startswith("ErrorAccessDenied") and e.operation is None and e.message == ""
    assert str(ErrorInternalServerError("boom")) == "ErrorInternalServerError: boom"


def test_server_busy_back_off_from_dict():
    e = error_for_code("ErrorServerBusy", "The server cannot service this request right now. Try again later.",
                       "FindItem", {"BackOffMilliseconds": "297749"})
    assert type(e) is ErrorServerBusy
    assert e.back_off == pytest.approx(297.749)
    assert "297.749 seconds" in str(e)


def test_server_busy_back_off_from_message_xml_element():
    response = etree.fromstring(f"""
      <m:GetItemResponseMessage xmlns:m="{MNS}" xmlns:t="{TNS}" ResponseClass="Error">
        <m:MessageText>The server cannot service this request right now. Try again later.</m:MessageText>
        <m:ResponseCode>ErrorServerBusy</m:ResponseCode>
        <m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>
        <m:MessageXml>
          <t:Value Name="BackOffMilliseconds">5000</t:Value>
        </m:MessageXml>
      </m:GetItemResponseMessage>""".encode())
    message_xml = response.find(f"{{{MNS}}}MessageXml")
    e = error_for_code(response.findtext(f"{{{MNS}}}ResponseCode"), response.findtext(f"{{{MNS}}}MessageText"),
                       "GetItem", message_xml)
    assert isinstance(e, ErrorServerBusy)
    assert e.back_off == 5.0
    assert e.message_xml == {"BackOffMilliseconds": "5000"}


@pytest.mark.parametrize("message_xml", [None, {}, {"BackOffMilliseconds": "soon"}, {"BackOffMilliseconds": "-5"}])
def test_server_busy_without_usable_back_off(message_xml):
    e = error_for_code("ErrorServerBusy", "Busy", "GetItem", message_xml)
    assert e.back_off is None
    assert "wait and retry" in str(e)


def test_server_busy_explicit_back_off():
    assert ErrorServerBusy("Busy", back_off=2).back_off == 2.0


def test_message_xml_element_details():
    xml = etree.fromstring(f"""
      <m:MessageXml xmlns:m="{MNS}" xmlns:t="{TNS}">
        <t:FieldURI FieldURI="item:Subject"/>
        <t:ExceptionType>Microsoft.Exchange.Data.Storage.ObjectNotFoundException</t:ExceptionType>
        <t:Value Name="A">1</t:Value><t:Value Name="A">2</t:Value>
      </m:MessageXml>""".encode())
    e = error_for_code("ErrorInvalidPropertyRequest", "The property is invalid", "GetItem", xml)
    assert e.message_xml == {
        "FieldURI": {"FieldURI": "item:Subject"},
        "ExceptionType": "Microsoft.Exchange.Data.Storage.ObjectNotFoundException",
        "A": ["1", "2"],
    }
    with pytest.raises(TypeError, match="message_xml"):
        error_for_code("ErrorItemNotFound", "x", None, 42)


def test_errors_pickle_with_their_details():
    for e in [
        error_for_code("ErrorServerBusy", "Busy", "GetItem", {"BackOffMilliseconds": "1500"}),
        error_for_code("ErrorItemNotFound", "gone", "GetItem"),
        error_for_code("ErrorNew", "new", "GetItem"),
        RedirectError("https://mail.example.com/EWS/Exchange.asmx"),
        RateLimitError(wait=10, max_wait=5),
        InvalidTypeError("start", 3, datetime.datetime),
    ]:
        copy = pickle.loads(pickle.dumps(e))
        assert type(copy) is type(e) and str(copy) == str(e) and vars(copy) == vars(e)


def test_hierarchy():
    for cls in (TransportError, UnauthorizedError, RateLimitError, AutoDiscoverFailed, ResponseMessageError,
                NaiveDateTimeNotAllowed, UnknownTimeZone, DoesNotExist, MultipleObjectsReturned, InvalidTypeError):
        assert issubclass(cls, EWSError), cls
    for cls in (RedirectError, SOAPError, MalformedResponseError):
        assert issubclass(cls, TransportError), cls
    for cls in (NaiveDateTimeNotAllowed, UnknownTimeZone, AmbiguousTimeError, NonExistentTimeError):
        assert issubclass(cls, ValueError), cls
    assert issubclass(InvalidTypeError, TypeError)
    assert issubclass(ErrorServerBusy, ResponseMessageError)
    assert errors.EWSError is response_codes.EWSError


def test_transport_errors_carry_details():
    e = RedirectError("https://mail.example.com/EWS/Exchange.asmx", status_code=302)
    assert (e.url, e.server, e.has_ssl, e.status_code) == (
        "https://mail.example.com/EWS/Exchange.asmx", "mail.example.com", True, 302)
    assert "mail.example.com" in str(e)
    s = SOAPError(fault_code="a:ErrorSchemaValidation", fault_string="The request failed schema validation")
    assert str(s) == "The request failed schema validation" and s.fault_code == "a:ErrorSchemaValidation"


def test_rate_limit_error_message():
    e = RateLimitError(wait=300.0, max_wait=60)
    assert (e.wait, e.max_wait) == (300.0, 60)
    assert "300" in str(e) and "max_wait=60" in str(e)
    assert str(RateLimitError("custom")) == "custom"


def test_invalid_type_error_message_names_parameter_and_types():
    e = InvalidTypeError("start", "2017-01-01", (datetime.datetime, datetime.date))
    assert str(e) == "'start' must be of type datetime or date, got str"
    assert (e.name, e.value, e.valid_types) == ("start", "2017-01-01", (datetime.datetime, datetime.date))
    assert "s3cret" not in str(InvalidTypeError("password", b"s3cret", str))  # values are never echoed
    assert str(InvalidTypeError("plain message")) == "plain message"


def test_errors_module_imports_nothing_else_from_the_package():
    """errors.py sits at the bottom of the layering: it may import only the generated response_codes module."""
    import ast

    for name in ("errors.py", "response_codes.py"):
        tree = ast.parse((Path(REPO) / "exchangelib" / name).read_text(encoding="utf-8"))
        internal = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("exchangelib")):
                internal.add(node.module or "")
            elif isinstance(node, ast.Import):
                internal.update(a.name for a in node.names if a.name.startswith("exchangelib"))
        assert internal <= {"response_codes"}, f"{name} imports {internal}"
