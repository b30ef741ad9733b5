"""Another client against our server: exchangelib 5.6.0 from PyPI must work with the local EWS server.

The slow test installs exchangelib 5.6.0 into a cache virtualenv outside the checkout (reused later)
and runs ``tools/compat_exchangelib56.py``'s check: create, find, fetch, update and delete calendar
items and send a message, against a strict server that validates every request and response. When
PyPI cannot be reached the test is skipped and says why.

The fast tests cover what the check relies on: it refuses to run with any other ``exchangelib``
(ours has the same name), it fails when the server saw an invalid request, and the server fixes the
check led to (boolean values in Exchange's canonical form, ``favorites`` gated by version).
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest
import requests
from lxml import etree

from exchangelib.testing.server import EWSServer, SchemaError
from exchangelib.testing.users import default_users
from exchangelib.xml import MNS, TNS

REPO = Path(__file__).resolve().parent.parent
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


def _load_driver() -> ModuleType:
    path = REPO / "tools" / "compat_exchangelib56.py"
    spec = importlib.util.spec_from_file_location("compat_exchangelib56", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


driver = _load_driver()


# -- the check itself ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compat_python() -> Path:
    """The interpreter of a virtualenv holding exchangelib 5.6.0 (created on first use)."""
    try:
        return driver.ensure_venv(driver.DEFAULT_VENV, log=lambda msg: None)
    except driver.SetupError as e:
        pytest.skip(f"exchangelib 5.6.0 could not be installed from PyPI, so the compatibility check cannot "
                    f"run here: {e}")


@pytest.mark.slow
@pytest.mark.parametrize("version", ["2016", "2010_SP2", "2019"])
def test_exchangelib_56_manages_calendar_items_on_the_local_server(compat_python: Path, version: str) -> None:
    report = driver.run_check(compat_python, version=version, timeout=120)
    text = driver.format_report(report)
    assert report["exchangelib"]["version"] == "5.6.0", text
    assert report["passed"], text
    steps = {s["name"]: s for s in report["steps"]}
    # 5.6.0 found the server's build with its version probe.
    assert report["server"]["build"] in steps["connect (version probe)"]["detail"], text
    for name in ("bulk_create", "item.save() (create)", "filter(start__lt, end__gt, categories__contains)",
                 ".only('subject').order_by('start')", ".count()", "slicing", "account.fetch(ids)",
                 "item.save(update_fields=['subject'])", "bulk_delete", "item.delete()", "deleted items are gone",
                 "account.root.tree()", "recipient finds the message in Inbox"):
        assert steps[name]["ok"], text
    for op in ("ConvertId", "CreateItem", "FindItem", "GetItem", "UpdateItem", "DeleteItem", "GetFolder"):
        assert op in report["operations"], text


def test_check_script_refuses_any_exchangelib_but_5_6_0(tmp_path: Path) -> None:
    # This interpreter imports our own package (or none): the check must not run the steps with it.
    out = tmp_path / "result.json"
    # (-I ignores PYTHONPYCACHEPREFIX: -B keeps this interpreter from writing byte-code into the checkout)
    proc = subprocess.run([sys.executable, "-I", "-B", str(driver.CHECK_SCRIPT), "--endpoint", "http://127.0.0.1:9/EWS",
                           "--username", "EXAMPLE\\john", "--smtp", "john@example.com", "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    result = json.loads(out.read_text())
    assert "wrong exchangelib" in result["error"]
    assert result["steps"] == []


class _Findings:
    def __init__(self, schema_errors=(), response_schema_errors=(), internal_errors=(), unimplemented=()):
        self.schema_errors = list(schema_errors)
        self.response_schema_errors = list(response_schema_errors)
        self.internal_errors = list(internal_errors)
        self.unimplemented_operations = list(unimplemented)


def _report(server: _Findings) -> dict:
    report = {"server_version": "2016", "returncode": 0, "steps": [{"name": "x", "ok": True, "detail": "",
                                                                    "seconds": 0.0}],
              "server": {"build": "15.1.2507.6", **driver.classify_server_findings(server)}}
    report["passed"] = driver.passed(report)
    return report


def test_check_fails_when_the_server_saw_an_invalid_request_or_crashed() -> None:
    assert _report(_Findings())["passed"]
    invalid = SchemaError("CreateItem", "Element 'Foo': This element is not expected.", "request", 3)
    failed = _report(_Findings(schema_errors=[invalid]))
    assert not failed["passed"]
    assert "FAIL" in driver.format_report(failed) and "Element 'Foo'" in driver.format_report(failed)
    assert not _report(_Findings(internal_errors=["GetItem: KeyError: 'x'"]))["passed"]
    assert not _report(_Findings(unimplemented=["GetServerTimeZones"]))["passed"]
    bad_response = SchemaError("GetItem", "Element 'Bar': not expected", "response")
    assert not _report(_Findings(response_schema_errors=[bad_response]))["passed"]


def test_check_reports_but_does_not_count_5_6_0s_invented_version_name() -> None:
    probe = SchemaError("ConvertId", "RequestServerVersion Version='Exchange2015_SP1' is not an ExchangeVersionType "
                                     "value", "header", 2)
    report = _report(_Findings(schema_errors=[probe]))
    assert report["passed"]
    assert report["server"]["schema_errors"] == []
    assert "Exchange2015_SP1" in report["server"]["known_client_deviations"][0]
    # The same invalid version name from any other operation still fails the check.
    other = SchemaError("GetItem", probe.message, "header", 2)
    assert not _report(_Findings(schema_errors=[other]))["passed"]


def test_server_versions_option() -> None:
    assert driver.server_versions("2016, 2019") == ["2016", "2019"]
    assert "2010_SP2" in driver.server_versions("all")
    with pytest.raises(ValueError, match="2017"):
        driver.server_versions("2017")


# -- server fixes found by the check ------------------------------------------------------------------

def _envelope(body: str, version: str = "Exchange2016") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP_NS}" xmlns:m="{MNS}" '
            f'xmlns:t="{TNS}"><s:Header><t:RequestServerVersion Version="{version}"/></s:Header>'
            f'<s:Body>{body}</s:Body></s:Envelope>').encode()


def _post(server: EWSServer, body: str, version: str = "Exchange2016") -> etree._Element:
    john = server.user("john@example.com")
    r = requests.post(server.url, data=_envelope(body, version), auth=(john.logon_name, john.password),
                      headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30)
    return etree.fromstring(r.content)


@pytest.fixture
def server_2016() -> Iterator[EWSServer]:
    with EWSServer(default_users(), version="2016", auth=("basic",), validate_responses=True) as server:
        yield server


def test_booleans_sent_as_1_and_0_come_back_as_true_and_false(server_2016: EWSServer) -> None:
    # xs:boolean allows 1/0 in a request; Exchange always answers true/false (5.6.0 sends 1/0).
    created = _post(server_2016, (
        '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>'
        '<t:Subject>Booleans</t:Subject><t:ReminderIsSet>1</t:ReminderIsSet>'
        '<t:Start>2031-01-01T10:00:00Z</t:Start><t:End>2031-01-01T11:00:00Z</t:End>'
        '<t:IsAllDayEvent>0</t:IsAllDayEvent></t:CalendarItem></m:Items></m:CreateItem>'))
    item_id = created.find(f".//{{{TNS}}}ItemId")
    assert item_id is not None, etree.tostring(created)
    got = _post(server_2016, (
        '<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape>'
        f'<m:ItemIds><t:ItemId Id="{item_id.get("Id")}"/></m:ItemIds></m:GetItem>'))
    assert got.findtext(f".//{{{TNS}}}ReminderIsSet") == "true"
    assert got.findtext(f".//{{{TNS}}}IsAllDayEvent") == "false"
    server_2016.assert_clean()


_GET_FAVORITES = ('<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>'
                  '<m:FolderIds><t:DistinguishedFolderId Id="favorites"/></m:FolderIds></m:GetFolder>')


def _fault_code(envelope: etree._Element) -> str:
    return envelope.findtext(f".//{{{TNS}}}ResponseCode") or envelope.findtext(".//faultcode") or ""


def test_favorites_folder_is_refused_by_exchange_2013_and_recorded() -> None:
    # The Exchange 2013 schema's DistinguishedFolderIdNameType ends at 'peopleconnect'.
    with EWSServer(default_users(), version="2013", auth=("basic",)) as server:
        answer = _post(server, _GET_FAVORITES, version="Exchange2013")
        assert "ErrorSchemaValidation" in _fault_code(answer)
        assert [(e.operation, e.kind) for e in server.schema_errors] == [("GetFolder", "version")]
        assert "favorites" in server.schema_errors[0].message


def test_favorites_folder_needs_exchange_2016_in_the_request(server_2016: EWSServer) -> None:
    refused = _post(server_2016, _GET_FAVORITES, version="Exchange2013")
    assert "ErrorSchemaValidation" in _fault_code(refused)
    assert [(e.operation, e.kind) for e in server_2016.schema_errors] == [("GetFolder", "version")]
    server_2016.schema_errors.clear()
    found = _post(server_2016, _GET_FAVORITES, version="Exchange2016")
    assert found.findtext(f".//{{{MNS}}}ResponseCode") == "NoError"
    server_2016.assert_clean()


@pytest.mark.parametrize("extra", [
    '<m:Restriction><t:Exists><t:FieldURI FieldURI="item:Subject"/></t:Exists></m:Restriction>',
    '<m:SortOrder><t:FieldOrder Order="Descending"><t:FieldURI FieldURI="calendar:Start"/></t:FieldOrder>'
    '</m:SortOrder>',
], ids=["restriction", "sort-order"])
def test_calendar_view_refuses_a_restriction_or_sort_order(server_2016: EWSServer, extra: str) -> None:
    # 5.6.0 sends both for view().filter() / view().order_by(); Exchange refuses them with this text.
    answer = _post(server_2016, (
        '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
        '<m:CalendarView StartDate="2031-01-01T00:00:00Z" EndDate="2031-01-08T00:00:00Z"/>' + extra
        + '<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>'))
    message = answer.find(f".//{{{MNS}}}FindItemResponseMessage")
    assert message.get("ResponseClass") == "Error"
    assert message.findtext(f"{{{MNS}}}ResponseCode") == "ErrorInvalidRestriction"
    assert message.findtext(f"{{{MNS}}}MessageText") == ("Restrictions and sort order may not be specified for a "
                                                         "CalendarView.")
    server_2016.assert_clean()
