"""The SOAP layer: envelopes, ServerVersionInfo, faults, strict schema validation, versions, headers."""
from __future__ import annotations

import pytest
import requests
from lxml import etree

from exchangelib.testing.context import OPERATIONS, ResponseCodeError, SoapFault
from exchangelib.testing.server import EWSServer
from exchangelib.testing.soap import SERVER_VERSIONS, resolve_server_version
from exchangelib.testing.users import default_users
from exchangelib.xml import ENS, MNS, SOAPNS, TNS

from .conftest import GET_FOLDER, RSV_2016, get_folder_response, soap

AUTH = ("john", "Exchange-john-1")


def call(server, data, auth=AUTH):
    return requests.post(server.url, data=data, auth=auth, headers={"Content-Type": "text/xml; charset=utf-8"},
                         timeout=10)


def parse(r):
    return etree.fromstring(r.content)


def fault_of(r):
    """(faultcode, ResponseCode, Message, MessageXml dict) of a SOAP fault response."""
    assert r.status_code == 500, r.text
    assert r.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = parse(r)
    fault = root.find(f"{{{SOAPNS}}}Body/{{{SOAPNS}}}Fault")
    assert fault is not None, r.text
    detail = fault.find("detail")
    mx = detail.find(f"{{{TNS}}}MessageXml")
    values = {}
    if mx is None and detail.find(f"{{{ENS}}}Line") is not None:  # Exchange 2007 shape
        values = {"Violation": detail.findtext(f"{{{ENS}}}Message"), "LineNumber": detail.findtext(f"{{{ENS}}}Line")}
    if mx is not None:
        for child in mx:
            name = child.get("Name") or etree.QName(child).localname
            values[name] = child.text
    return (fault.findtext("faultcode"), detail.findtext(f"{{{ENS}}}ResponseCode"),
            detail.findtext(f"{{{ENS}}}Message"), values)


def test_success_response_carries_server_version_info(ews_server, fake_ops):
    r = call(ews_server, soap())
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert int(r.headers["Content-Length"]) == len(r.content)
    root = parse(r)
    svi = root.find(f"{{{SOAPNS}}}Header/{{{TNS}}}ServerVersionInfo")
    assert svi is not None
    assert (svi.get("MajorVersion"), svi.get("MinorVersion"), svi.get("MajorBuildNumber"),
            svi.get("MinorBuildNumber"), svi.get("Version")) == ("15", "1", "2507", "6", "V2017_07_11")
    assert root.find(f"{{{SOAPNS}}}Body/{{{MNS}}}GetFolderResponse") is not None


@pytest.mark.parametrize("version,major,minor,name", [
    ("2007", "8", "0", None), ("2007_SP1", "8", "1", "Exchange2007_SP1"), ("2010_SP2", "14", "2", "Exchange2010_SP2"),
    ("2013_SP1", "15", "0", "Exchange2013_SP1"), ("2019", "15", "2", "V2017_07_11"),
    ("online", "15", "20", "V2018_01_08"),
])
def test_version_emulation(fake_ops, version, major, minor, name):
    hdr = '<t:RequestServerVersion Version="Exchange2007_SP1"/>' if version != "2007" else None
    with EWSServer(default_users(), version=version) as server:
        r = call(server, soap(headers=hdr))
        assert r.status_code == 200, r.text
        svi = parse(r).find(f"{{{SOAPNS}}}Header/{{{TNS}}}ServerVersionInfo")
        assert (svi.get("MajorVersion"), svi.get("MinorVersion"), svi.get("Version")) == (major, minor, name)
        assert fake_ops.last.server_build == SERVER_VERSIONS[version].build


def test_resolve_server_version_accepts_names_aliases_and_builds():
    assert resolve_server_version("Exchange2016").name == "2016"
    assert resolve_server_version("O365").name == "online"
    assert resolve_server_version((15, 1)).max_api_version == "V2017_07_11"
    assert resolve_server_version((15, 0, 900, 1)).max_api_version == "Exchange2013_SP1"
    assert resolve_server_version((15, 0, 600, 1)).max_api_version == "Exchange2013"
    assert resolve_server_version((14, 3, 123, 4)).max_api_version == "Exchange2010_SP2"
    with pytest.raises(ValueError, match="Unknown server version"):
        resolve_server_version("2003")
    with pytest.raises(TypeError, match="build tuple"):
        resolve_server_version(15.1)
    with pytest.raises(ValueError, match="older than Exchange 2007"):
        resolve_server_version((6, 5))


def test_fault_shape_of_modern_exchange_has_no_header(ews_server, fake_ops):
    ews_server_errors_before = len(ews_server.schema_errors)
    r = call(ews_server, soap(GET_FOLDER.replace("IdOnly", "Everything")))
    code, response_code, message, mx = fault_of(r)
    assert (code, response_code, message) == ("a:ErrorSchemaValidation", "ErrorSchemaValidation",
                                              "The request failed schema validation.")
    root = parse(r)
    assert root.find(f"{{{SOAPNS}}}Header") is None  # Exchange 2010+ faults carry no ServerVersionInfo
    fs = root.find(f".//{{{SOAPNS}}}Fault/faultstring")
    assert fs.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert "Everything" in fs.text and "BaseShape" in mx["Violation"]
    # The bad value is on line 5 of the request (soap() puts the body element on line 5).
    assert mx["LineNumber"] == "5"
    assert int(mx["LinePosition"]) > 1
    assert not fake_ops.calls
    # Strict mode recorded it for the test suite...
    assert len(ews_server.schema_errors) == ews_server_errors_before + 1
    err = ews_server.schema_errors[-1]
    assert err.operation == "GetFolder" and err.kind == "request" and err.line == 5
    with pytest.raises(AssertionError, match="invalid request"):
        ews_server.assert_clean()
    ews_server.schema_errors.clear()  # ...and this test provoked it on purpose.


def test_exchange_2007_schema_fault_shape(fake_ops):
    with EWSServer(default_users(), version="2007") as server:
        r = call(server, soap(GET_FOLDER.replace('Id="inbox"', 'Id="inboxx"'), headers=None))
        assert r.status_code == 500
        root = parse(r)
        assert root.find(f"{{{SOAPNS}}}Header/{{{TNS}}}ServerVersionInfo") is not None
        detail = root.find(f".//{{{SOAPNS}}}Fault/detail")
        assert detail.findtext(f"{{{ENS}}}ResponseCode") == "ErrorSchemaValidation"
        assert "inboxx" in detail.findtext(f"{{{ENS}}}Message")
        assert detail.findtext(f"{{{ENS}}}Line") == "5"


def test_invalid_header_element_is_rejected(ews_server, fake_ops):
    hdr = RSV_2016 + "<t:DateTimePrecision>Minutes</t:DateTimePrecision>"
    _, response_code, _, mx = fault_of(call(ews_server, soap(headers=hdr)))
    assert response_code == "ErrorSchemaValidation" and "Minutes" in mx["Violation"]
    assert ews_server.schema_errors[-1].kind == "header"
    ews_server.schema_errors.clear()


def test_non_strict_server_passes_invalid_requests_through(fake_ops):
    with EWSServer(default_users(), strict=False) as server:
        r = call(server, soap(GET_FOLDER.replace("IdOnly", "Everything")))
        assert r.status_code == 200
        assert server.schema_errors == []


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:ResolveNames
 xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" ReturnFullContactData="false">
<m:UnresolvedEntry>&lol3;</m:UnresolvedEntry></m:ResolveNames></s:Body></s:Envelope>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:ResolveNames
 xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" ReturnFullContactData="false">
<m:UnresolvedEntry>&xxe;</m:UnresolvedEntry></m:ResolveNames></s:Body></s:Envelope>"""


@pytest.mark.parametrize("payload", [ENTITY_BOMB, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_entity_payloads_are_rejected_not_expanded(ews_server, fake_ops, payload):
    fake_ops.register("ResolveNames", get_folder_response)
    r = call(ews_server, payload)
    _, response_code, _, mx = fault_of(r)
    assert response_code == "ErrorSchemaValidation"
    assert "DTD is prohibited" in mx["Violation"]
    assert b"lollol" not in r.content and b"root:" not in r.content
    assert not fake_ops.calls
    ews_server.schema_errors.clear()


@pytest.mark.parametrize("payload,needle", [
    (b"", "Root element is missing"),
    (b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body>", "could not be parsed"),
    (b"<Envelope><Body/></Envelope>", "SOAP 1.1 Envelope"),
    (b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'/>", "no Body"),
    (b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body/></s:Envelope>", "exactly one"),
])
def test_malformed_requests_get_schema_faults(ews_server, fake_ops, payload, needle):
    _, response_code, _, mx = fault_of(call(ews_server, payload))
    assert response_code == "ErrorSchemaValidation"
    assert needle in mx["Violation"]
    ews_server.schema_errors.clear()


def test_missing_request_server_version_means_exchange2007(ews_server, fake_ops):
    assert call(ews_server, soap(headers=None)).status_code == 200
    assert fake_ops.last.requested_version == "Exchange2007"
    assert call(ews_server, soap(headers='<t:RequestServerVersion Version="Exchange2013_SP1"/>')).status_code == 200
    assert fake_ops.last.requested_version == "Exchange2013_SP1"


def test_request_version_newer_than_server_is_invalid_server_version(fake_ops):
    with EWSServer(default_users(), version="2010_SP1") as server:
        assert call(server, soap(headers='<t:RequestServerVersion Version="Exchange2010_SP1"/>')).status_code == 200
        code, response_code, message, _ = fault_of(call(server, soap(headers=RSV_2016)))
        assert (code, response_code) == ("a:ErrorInvalidServerVersion", "ErrorInvalidServerVersion")
        assert message == "The specified server version is invalid."
        assert server.schema_errors == []  # a legitimate probe, not a client bug


def test_unknown_request_server_version_value(ews_server, fake_ops):
    r = call(ews_server, soap(headers='<t:RequestServerVersion Version="Exchange2007_SP2"/>'))
    _, response_code, _, _ = fault_of(r)
    assert response_code == "ErrorInvalidServerVersion"
    assert ews_server.schema_errors[-1].kind == "header"  # not in ExchangeVersionType: the client is wrong
    ews_server.schema_errors.clear()


def test_online_accepts_newest_schema_version(fake_ops):
    with EWSServer(default_users(), version="online") as server:
        assert call(server, soap(headers='<t:RequestServerVersion Version="V2018_01_08"/>')).status_code == 200


@pytest.mark.parametrize("version,body,headers,needle", [
    ("2010", GET_FOLDER.replace("<t:BaseShape>IdOnly</t:BaseShape>",
                                "<t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
                                "<t:FieldURI FieldURI=\"item:TextBody\"/></t:AdditionalProperties>"),
     '<t:RequestServerVersion Version="Exchange2010"/>', "item:TextBody"),
    ("2010", GET_FOLDER.replace('Id="inbox"', 'Id="conversationhistory"'),
     '<t:RequestServerVersion Version="Exchange2010"/>', "conversationhistory"),
    ("2007_SP1", GET_FOLDER, '<t:RequestServerVersion Version="Exchange2007_SP1"/><t:TimeZoneContext>'
     '<t:TimeZoneDefinition Id="UTC"/></t:TimeZoneContext>', "TimeZoneContext"),
    ("2016", GET_FOLDER.replace('Id="inbox"', 'Id="teamchat"'), RSV_2016, "teamchat"),
])
def test_elements_newer_than_the_server_fail_schema_validation(fake_ops, version, body, headers, needle):
    with EWSServer(default_users(), version=version) as server:
        _, response_code, _, mx = fault_of(call(server, soap(body, headers)))
        assert response_code == "ErrorSchemaValidation"
        assert needle in mx["Violation"]
        assert server.schema_errors and server.schema_errors[-1].kind == "version"
        assert not fake_ops.calls


def test_operation_newer_than_the_server(fake_ops):
    fake_ops.register("GetServerTimeZones", get_folder_response)
    with EWSServer(default_users(), version="2007_SP1") as server:
        body = '<m:GetServerTimeZones ReturnFullTimeZoneData="false"/>'
        r = call(server, soap(body, '<t:RequestServerVersion Version="Exchange2007_SP1"/>'))
        _, response_code, _, mx = fault_of(r)
        assert response_code == "ErrorSchemaValidation" and "GetServerTimeZones" in mx["Violation"]


def test_header_values_reach_the_handler(ews_server, fake_ops):
    hdr = (RSV_2016 + '<t:MailboxCulture>da-DK</t:MailboxCulture><t:TimeZoneContext>'
           '<t:TimeZoneDefinition Id="Romance Standard Time"/></t:TimeZoneContext>'
           '<t:DateTimePrecision>Milliseconds</t:DateTimePrecision>')
    assert call(ews_server, soap(headers=hdr)).status_code == 200
    ctx = fake_ops.last
    assert (ctx.time_zone_id, ctx.culture, ctx.date_time_precision) == ("Romance Standard Time", "da-DK",
                                                                        "Milliseconds")
    assert ctx.mailbox.primary_smtp_address == "john@example.com"


def test_path_is_case_insensitive_and_unknown_paths_404(ews_server, fake_ops):
    url = ews_server.url.replace("/EWS/Exchange.asmx", "/ews/EXCHANGE.ASMX")
    assert requests.post(url, data=soap(), auth=AUTH, timeout=10).status_code == 200
    assert requests.post(ews_server.base_url + "/owa/", data=soap(), auth=AUTH, timeout=10).status_code == 404
    wsdl = requests.get(ews_server.base_url + "/EWS/Services.wsdl", auth=AUTH, timeout=10)
    assert wsdl.status_code == 200 and b"wsdl:definitions" in wsdl.content
    assert requests.get(ews_server.base_url + "/EWS/Services.wsdl", timeout=10).status_code == 401


def test_unimplemented_operation(ews_server, fake_ops, monkeypatch):
    monkeypatch.delitem(OPERATIONS, "GetUserPhoto", raising=False)
    body = ('<m:GetUserPhoto><m:Email>john@example.com</m:Email>'
            '<m:SizeRequested>HR48x48</m:SizeRequested></m:GetUserPhoto>')
    _, response_code, message, _ = fault_of(call(ews_server, soap(body)))
    assert response_code == "ErrorInvalidRequest" and "GetUserPhoto" in message
    assert ews_server.unimplemented_operations == ["GetUserPhoto"]


def test_unknown_operation_element_is_an_invalid_request_not_a_schema_error(ews_server, fake_ops):
    # Exchange answers an element that is no EWS operation with ErrorInvalidRequest; a schema-validation
    # fault would send version-probing clients down through every older RequestServerVersion.
    faultcode, response_code, _message, _ = fault_of(call(ews_server, soap("<m:Xyz/>")))
    assert (faultcode, response_code) == ("a:ErrorInvalidRequest", "ErrorInvalidRequest")
    assert ews_server.schema_errors == []


def test_handler_faults_and_crashes(ews_server, fake_ops):
    def raise_fault(ctx, elem):
        raise SoapFault("ErrorInvalidRequest", "Nope.")

    fake_ops.register("GetFolder", raise_fault)
    code, response_code, message, _ = fault_of(call(ews_server, soap()))
    assert (code, response_code, message) == ("a:ErrorInvalidRequest", "ErrorInvalidRequest", "Nope.")

    def raise_code(ctx, elem):
        raise ResponseCodeError("ErrorServerBusy", "Busy.", BackOffMilliseconds=1234)

    fake_ops.register("GetFolder", raise_code)
    _, response_code, _, mx = fault_of(call(ews_server, soap()))
    assert response_code == "ErrorServerBusy" and mx == {"BackOffMilliseconds": "1234"}

    def crash(ctx, elem):
        raise KeyError("boom")

    fake_ops.register("GetFolder", crash)
    _, response_code, _, _ = fault_of(call(ews_server, soap()))
    assert response_code == "ErrorInternalServerError"
    assert ews_server.internal_errors == ["GetFolder: KeyError: 'boom'"]
    with pytest.raises(AssertionError, match="handler crashed"):
        ews_server.assert_clean()
    ews_server.internal_errors.clear()


def test_validate_responses_records_invalid_responses(ews_server, fake_ops):
    def bad_response(ctx, elem):
        resp = get_folder_response(ctx, elem)
        resp[0][0].set("ResponseClass", "Splendid")
        return resp

    fake_ops.register("GetFolder", bad_response)
    assert call(ews_server, soap()).status_code == 200  # sent anyway...
    assert ews_server.response_schema_errors and "Splendid" in ews_server.response_schema_errors[0].message
    ews_server.response_schema_errors.clear()


def test_strict_server_needs_the_schema(tmp_path):
    from exchangelib.testing.schema import SchemaNotFound

    with pytest.raises(SchemaNotFound, match="no types.xsd"):
        EWSServer(default_users(), strict=True, schema_dir=tmp_path)
    server = EWSServer(default_users(), strict=False, schema_dir=tmp_path)
    assert not server.strict
