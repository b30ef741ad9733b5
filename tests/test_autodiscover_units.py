"""Autodiscover pieces on their own: parsers, SRV ordering, the host map, the cache file, the DNS
server and the local server's autodiscover handler."""
from __future__ import annotations

import base64
import collections
import json
import random
import socket
import threading

import dns.message
import dns.query
import dns.rcode
import pytest
import requests

from exchangelib.autodiscover import AutodiscoverCache, AutodiscoverResult, Autodiscovery, HostMap, srv_order
from exchangelib.autodiscover import pox, soap
from exchangelib.autodiscover.models import ERROR, REDIRECT_ADDRESS, REDIRECT_URL, SETTINGS, version_from_hex
from exchangelib.credentials import AccessTokenCredentials, Credentials
from exchangelib.testing.autodiscover import (AutodiscoverRequest, AutodiscoverSettings, handle,
                                              is_autodiscover_path, settings_for)
from exchangelib.testing.dns import DNSServer
from exchangelib.testing.server import EWSServer
from exchangelib.testing.users import default_users
from exchangelib.version import Build
from exchangelib.xml import ForbiddenDTDError, parse

AD = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def soap_response(user_response: str, code: str = "NoError") -> bytes:
    return f"""<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:a="http://www.w3.org/2005/08/addressing">
  <s:Header><a:Action s:mustUnderstand="1">{soap.ACTION}Response</a:Action></s:Header>
  <s:Body><GetUserSettingsResponseMessage xmlns="{AD}">
    <Response xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
      <ErrorCode>{code}</ErrorCode><ErrorMessage/>
      <UserResponses><UserResponse>{user_response}</UserResponse></UserResponses>
    </Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>""".encode()


def setting(name: str, value: str) -> str:
    return f'<UserSetting i:type="StringSetting"><Name>{name}</Name><Value>{value}</Value></UserSetting>'


# --- SOAP -------------------------------------------------------------------------------------------------

def test_soap_request_shape():
    root = parse(soap.build_request("john@example.com", "https://example.com/autodiscover/autodiscover.svc"))
    assert root.findtext(f"{{{SOAP_ENV}}}Header/{{{AD}}}RequestedServerVersion") == "Exchange2010"
    assert root.findtext(f"{{{SOAP_ENV}}}Header/{{http://www.w3.org/2005/08/addressing}}Action") == soap.ACTION
    req = root.find(f"{{{SOAP_ENV}}}Body/{{{AD}}}GetUserSettingsRequestMessage/{{{AD}}}Request")
    assert req.findtext(f"{{{AD}}}Users/{{{AD}}}User/{{{AD}}}Mailbox") == "john@example.com"
    settings = [s.text for s in req.iterfind(f"{{{AD}}}RequestedSettings/{{{AD}}}Setting")]
    assert {"ExternalEwsUrl", "InternalEwsUrl", "AutoDiscoverSMTPAddress", "CasVersion"} <= set(settings)


def test_soap_settings_prefers_external_url_and_reads_version():
    answer = soap.parse_response(soap_response(
        "<ErrorCode>NoError</ErrorCode><ErrorMessage>No error.</ErrorMessage><RedirectTarget i:nil='true'/>"
        "<UserSettingErrors/><UserSettings>"
        + setting("InternalEwsUrl", "https://int.example.com/EWS/Exchange.asmx")
        + setting("ExternalEwsUrl", "https://ext.example.com/EWS/Exchange.asmx")
        + setting("AutoDiscoverSMTPAddress", "john@example.com")
        + setting("UserDisplayName", "John")
        + setting("CasVersion", "15.01.2507.006")
        + setting("EwsSupportedSchemas", "Exchange2007, Exchange2010, Exchange2016")
        + "</UserSettings>"))
    assert answer.kind == SETTINGS
    assert answer.ews_url == "https://ext.example.com/EWS/Exchange.asmx"
    assert answer.primary_smtp_address == "john@example.com"
    assert answer.version.build == Build(15, 1, 2507, 6)
    assert answer.version.api_version == "Exchange2016"


def test_soap_schema_list_alone_gives_a_version():
    answer = soap.parse_response(soap_response(
        "<ErrorCode>NoError</ErrorCode><UserSettings>"
        + setting("InternalEwsUrl", "https://int.example.com/EWS/Exchange.asmx")
        + setting("EwsSupportedSchemas", "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1")
        + "</UserSettings>"))
    assert answer.ews_url == "https://int.example.com/EWS/Exchange.asmx"
    assert answer.version.api_version == "Exchange2010_SP1"


@pytest.mark.parametrize("code,kind", [("RedirectAddress", REDIRECT_ADDRESS), ("RedirectUrl", REDIRECT_URL)])
def test_soap_redirects(code, kind):
    answer = soap.parse_response(soap_response(
        f"<ErrorCode>{code}</ErrorCode><RedirectTarget>x@example.org</RedirectTarget>"))
    assert answer.kind == kind and answer.redirect == "x@example.org"


def test_soap_errors():
    answer = soap.parse_response(soap_response("<ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user"
                                               "</ErrorMessage>"))
    assert (answer.kind, answer.error_code, answer.error_message) == (ERROR, "InvalidUser", "Invalid user")
    assert soap.parse_response(soap_response("", code="ServerBusy")).error_code == "ServerBusy"
    no_url = soap.parse_response(soap_response("<ErrorCode>NoError</ErrorCode><UserSettingErrors><UserSettingError>"
                                               "<ErrorCode>InvalidSetting</ErrorCode><SettingName>ExternalEwsUrl"
                                               "</SettingName></UserSettingError></UserSettingErrors>"))
    assert no_url.kind == ERROR and "ExternalEwsUrl: InvalidSetting" in no_url.error_message
    fault = soap.parse_response(f"<s:Envelope xmlns:s='{SOAP_ENV}'><s:Body><s:Fault><faultcode>a:x</faultcode>"
                                f"<faultstring>Nope</faultstring></s:Fault></s:Body></s:Envelope>".encode())
    assert fault.kind == ERROR and fault.error_message == "Nope"


@pytest.mark.parametrize("data", [b"<html>hello</html>", b"not xml", b"<s:Envelope xmlns:s='x'/>"])
def test_soap_garbage_is_a_value_error(data):
    with pytest.raises(ValueError):
        soap.parse_response(data)


def test_soap_dtd_is_refused():
    evil = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&e;</s:Body></s:Envelope>')
    with pytest.raises(ValueError) as info:
        soap.parse_response(evil)
    assert isinstance(info.value.__cause__, ForbiddenDTDError)


# --- POX --------------------------------------------------------------------------------------------------

POX_OK = b"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User><DisplayName>First Last</DisplayName><AutoDiscoverSMTPAddress>first@contoso.com</AutoDiscoverSMTPAddress></User>
    <Account>
      <AccountType>email</AccountType><Action>settings</Action>
      <Protocol Type="mapiHttp" Version="1"><MailStore><InternalUrl>https://x/mapi</InternalUrl></MailStore></Protocol>
      <Protocol><Type>EXCH</Type><ServerVersion>738180DA</ServerVersion>
        <ASUrl>https://internal.contoso.com/ews/exchange.asmx</ASUrl></Protocol>
      <Protocol><Type>EXPR</Type><ServerVersion>738180DA</ServerVersion>
        <EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl></Protocol>
    </Account>
  </Response>
</Autodiscover>"""


def test_pox_request_shape():
    root = parse(pox.build_request("john@example.com"))
    ns = "{" + pox.REQUEST_NS + "}"
    assert root.findtext(f"{ns}Request/{ns}EMailAddress") == "john@example.com"
    assert root.findtext(f"{ns}Request/{ns}AcceptableResponseSchema") == pox.OUTLOOK_RESPONSE_NS


def test_pox_settings_prefers_expr_and_decodes_server_version():
    answer = pox.parse_response(POX_OK)
    assert answer.kind == SETTINGS
    assert answer.ews_url == "https://mail.contoso.com/EWS/Exchange.asmx"
    assert answer.primary_smtp_address == "first@contoso.com"
    assert answer.display_name == "First Last"
    assert answer.version.build == Build(14, 1, 218, 0)  # 0x738180DA, Microsoft's documented example


def test_pox_internal_only():
    data = POX_OK.replace(b"<Type>EXPR</Type>", b"<Type>WEB</Type>")
    assert pox.parse_response(data).ews_url == "https://internal.contoso.com/ews/exchange.asmx"


def test_pox_redirects_and_errors():
    def account(inner: str) -> bytes:
        return (f'<Autodiscover xmlns="{pox.RESPONSE_NS}"><Response xmlns="{pox.OUTLOOK_RESPONSE_NS}"><Account>'
                f"<AccountType>email</AccountType>{inner}</Account></Response></Autodiscover>").encode()

    a = pox.parse_response(account("<Action>redirectAddr</Action><RedirectAddr>y@example.org</RedirectAddr>"))
    assert (a.kind, a.redirect) == (REDIRECT_ADDRESS, "y@example.org")
    a = pox.parse_response(account("<Action>redirectUrl</Action><RedirectUrl>https://h/autodiscover/autodiscover.xml"
                                   "</RedirectUrl>"))
    assert (a.kind, a.redirect) == (REDIRECT_URL, "https://h/autodiscover/autodiscover.xml")
    err = pox.parse_response(f'<Autodiscover xmlns="{pox.RESPONSE_NS}"><Response><Error Time="1" Id="2">'
                             f'<ErrorCode>500</ErrorCode><Message>The email address can\'t be found.</Message>'
                             f'<DebugData/></Error></Response></Autodiscover>'.encode())
    assert (err.kind, err.error_code) == (ERROR, "500")
    with pytest.raises(ValueError):
        pox.parse_response(account("<Action>dance</Action>"))


def test_version_from_hex_rejects_garbage():
    assert version_from_hex("zz") is None
    assert version_from_hex(None) is None


# --- SRV ordering -----------------------------------------------------------------------------------------

def test_srv_order_priority_then_weight():
    records = [(10, 0, "c", 443), (0, 90, "heavy", 443), (0, 10, "light", 443), (20, 5, "d", 8443)]
    firsts = collections.Counter(srv_order(records, random.Random(i))[0][0] for i in range(2000))
    assert set(firsts) == {"heavy", "light"}
    assert 0.84 < firsts["heavy"] / 2000 < 0.96  # weight 90 of 100
    order = srv_order(records, random.Random(1))
    assert [h for h, _ in order[2:]] == ["c", "d"] and order[3] == ("d", 8443)


def test_srv_order_zero_weights_and_duplicates():
    order = srv_order([(0, 0, "a", 443), (0, 0, "b", 443), (0, 0, "a", 443)], random.Random(3))
    assert sorted(order) == [("a", 443), ("b", 443)]


# --- host map ---------------------------------------------------------------------------------------------

class _Echo:
    """A one-shot HTTP server answering 200 with the Host header it got."""

    def __init__(self, ip: str = "127.0.0.7"):
        self.sock = socket.socket()
        self.sock.bind((ip, 0))
        self.sock.listen(4)
        self.address = self.sock.getsockname()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(4096)
        host = [l for l in data.split(b"\r\n") if l.lower().startswith(b"host:")][0].split(b":", 1)[1].strip()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(host), host))
        conn.close()
        self.sock.close()


def test_host_map_connects_to_the_mapped_address_keeping_the_host_header():
    echo = _Echo()
    hosts = HostMap({"mail.example.com": f"{echo.address[0]}:{echo.address[1]}"}, strict=True)
    with requests.Session() as s:
        s.mount("http://", hosts.adapter())
        r = s.get("http://mail.example.com/EWS/Exchange.asmx", timeout=5)
    assert r.text == "mail.example.com"
    assert hosts.attempts == [("mail.example.com", 80)]


def test_host_map_ip_only_entry_keeps_the_url_port():
    echo = _Echo()
    hosts = HostMap({"srv.example.net": echo.address[0]}, strict=True)
    with requests.Session() as s:
        s.mount("http://", hosts.adapter())
        r = s.get(f"http://srv.example.net:{echo.address[1]}/", timeout=5)
    assert r.text == f"srv.example.net:{echo.address[1]}"


def test_strict_host_map_refuses_unknown_names_without_dns(monkeypatch):
    def no_dns(*args, **kwargs):
        raise AssertionError("DNS must not be used")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    hosts = HostMap(strict=True)
    with requests.Session() as s:
        s.mount("https://", hosts.adapter())
        with pytest.raises(requests.exceptions.ConnectionError, match="not in the HostMap"):
            s.get("https://autodiscover.com/", timeout=5)
    assert hosts.hosts_tried() == ["autodiscover.com"]


@pytest.mark.parametrize("target", ["mail.example.com", "127.0.0.1:99999", "127.0.0.1:x", 42])
def test_host_map_rejects_bad_entries(target):
    with pytest.raises((ValueError, TypeError)):
        HostMap({"example.com": target})


def test_host_map_port_specific_entry_wins():
    hosts = HostMap({"example.com": "127.0.0.2:1000", "example.com:80": "127.0.0.3:2000"})
    assert hosts.lookup("EXAMPLE.com.", 80) == ("127.0.0.3", 2000)
    assert hosts.lookup("example.com", 443) == ("127.0.0.2", 1000)
    assert hosts.lookup("other.com", 443) is None


# --- argument checks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,exc,match", [
    ({"email": "not-an-address"}, ValueError, "email address"),
    ({"email": "john@exa mple.com"}, ValueError, "email address"),
    ({"email": "john@-bad_domain.com"}, ValueError, "not a valid host name"),
    ({"auth_type": "kerberos-ish"}, ValueError, "auth_type"),
    ({"host_map": {"example.com": "127.0.0.1"}}, TypeError, "HostMap"),
    ({"dns_nameserver": "ns.example.com"}, ValueError, "IP address"),
    ({"max_redirects": -1}, ValueError, "max_redirects"),
])
def test_bad_arguments_are_named(kwargs, exc, match):
    kwargs.setdefault("email", "john@example.com")
    with pytest.raises(exc, match=match):
        Autodiscovery(**kwargs)


def test_oauth_credentials_need_bearer():
    runner = Autodiscovery("john@example.com", AccessTokenCredentials("tok"))
    assert runner._choose_auth(["ntlm", "basic"])[0] is None
    assert runner._choose_auth(["ntlm", "bearer"])[0] == "OAuth 2.0"
    assert Autodiscovery("john@example.com", None)._choose_auth(["ntlm"])[0] is None


# --- cache file -------------------------------------------------------------------------------------------

def _result(**kw):
    base = dict(email="john@example.com", ews_url="https://mail.example.com/EWS/Exchange.asmx",
                primary_smtp_address="john@example.com", auth_type="NTLM")
    base.update(kw)
    return AutodiscoverResult(**base)


def test_cache_file_is_plain_json_without_secrets(tmp_path):
    creds = Credentials("EXAMPLE\\john", "s3cret-pa55")
    cache = AutodiscoverCache(tmp_path)
    cache.put("john@example.com", creds, _result())
    text = (tmp_path / "autodiscover.json").read_text()
    doc = json.loads(text)
    assert doc["format"] == 1
    assert "s3cret" not in text and "pa55" not in text
    assert AutodiscoverCache(tmp_path).get("JOHN@example.com", creds).ews_url == _result().ews_url
    # the same user with a changed password still hits: the key is the identity, not the secret
    assert AutodiscoverCache(tmp_path).get("john@example.com", Credentials("EXAMPLE\\john", "new")) is not None
    assert AutodiscoverCache(tmp_path).get("john@example.com", Credentials("EXAMPLE\\mary", "x")) is None


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"format": 99, "entries": {}}',
                                     b'{"format": 1, "entries": {"k": {"john@example.com": {"ews_url": 5}}}}',
                                     b"\xff\xfe"])
def test_corrupt_cache_file_is_ignored_and_replaced(tmp_path, content):
    (tmp_path / "autodiscover.json").write_bytes(content)
    cache = AutodiscoverCache(tmp_path)
    assert cache.get("john@example.com", None) is None
    cache.put("john@example.com", None, _result())
    assert AutodiscoverCache(tmp_path).get("john@example.com", None) is not None


def test_cache_forget_and_clear(tmp_path):
    cache = AutodiscoverCache(tmp_path)
    cache.put("john@example.com", None, _result())
    cache.put("mary@example.com", None, _result(email="mary@example.com", primary_smtp_address="mary@example.com"))
    cache.put("olga@other.org", None, _result(email="olga@other.org", primary_smtp_address="olga@other.org"))
    cache.forget("john@example.com", None)
    fresh = AutodiscoverCache(tmp_path)
    assert fresh.get("mary@example.com", None) is None  # the whole domain's entry is dropped
    assert fresh.get("olga@other.org", None) is not None
    cache.clear()
    assert AutodiscoverCache(tmp_path).get("olga@other.org", None) is None


def test_cache_concurrent_writers_keep_every_entry(tmp_path):
    def write(i: int) -> None:
        AutodiscoverCache(tmp_path).put(f"user{i}@d{i}.example.com", None, _result(
            email=f"user{i}@d{i}.example.com", primary_smtp_address=f"user{i}@d{i}.example.com"))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader = AutodiscoverCache(tmp_path)
    assert all(reader.get(f"user{i}@d{i}.example.com", None) for i in range(12))
    assert not list(tmp_path.glob(".autodiscover-*.tmp"))


def test_memory_only_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EXCHANGELIB_CACHE_DIR", str(tmp_path))
    cache = AutodiscoverCache(directory=False)
    cache.put("john@example.com", None, _result())
    assert cache.get("john@example.com", None).from_cache
    assert not (tmp_path / "autodiscover.json").exists()


def test_cache_ttl_must_be_positive():
    with pytest.raises(ValueError, match="ttl"):
        AutodiscoverCache(directory=False, ttl=0)


def test_result_json_roundtrip_and_validation():
    r = _result(display_name="John", protocol="soap", autodiscover_url="https://example.com/autodiscover/a.svc")
    again = AutodiscoverResult.from_json(json.loads(json.dumps(r.to_json())))
    assert again.to_json() == r.to_json()
    with pytest.raises(ValueError):
        AutodiscoverResult.from_json({**r.to_json(), "ews_url": "file:///etc/passwd"})


# --- DNS server -------------------------------------------------------------------------------------------

def test_dns_server_answers_srv_and_a_and_records_queries():
    with DNSServer() as server:
        server.add_srv("_autodiscover._tcp.example.com", "mail.example.net", port=8443, priority=1, weight=5)
        server.add_a("mail.example.net", "127.0.0.3")
        host, port = server.address
        srv = dns.query.udp(dns.message.make_query("_autodiscover._tcp.example.com", "SRV"), host, port=port,
                            timeout=2)
        rr = srv.answer[0][0]
        assert (rr.priority, rr.weight, rr.port, str(rr.target)) == (1, 5, 8443, "mail.example.net.")
        a = dns.query.udp(dns.message.make_query("mail.example.net", "A"), host, port=port, timeout=2)
        assert a.answer[0][0].address == "127.0.0.3"
        missing = dns.query.udp(dns.message.make_query("nope.example.com", "A"), host, port=port, timeout=2)
        assert missing.rcode() == dns.rcode.NXDOMAIN
        assert server.queries == [("_autodiscover._tcp.example.com", "SRV"), ("mail.example.net", "A"),
                                  ("nope.example.com", "A")]
        assert server.queried("mail.example.net.")


def test_dns_server_only_on_loopback():
    with pytest.raises(ValueError, match="loopback"):
        DNSServer(host="0.0.0.0")


# --- the local server's handler -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server():
    with EWSServer(default_users(), strict=False, auth=("basic", "ntlm")) as s:
        yield s


def _basic(login: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


JOHN_BASIC = _basic("EXAMPLE\\john", "Exchange-john-1")


@pytest.mark.parametrize("path,expected", [("/autodiscover/autodiscover.svc", True),
                                           ("/Autodiscover/AutoDiscover.XML?x=1", True),
                                           ("/EWS/Exchange.asmx", False), ("/autodiscover/", False)])
def test_autodiscover_paths(path, expected):
    assert is_autodiscover_path(path) is expected


def test_handler_requires_authentication_like_ews(server):
    reply = handle(server, AutodiscoverRequest("POST", "/autodiscover/autodiscover.svc", {}, b""))
    assert reply.status == 401
    assert ("WWW-Authenticate", "NTLM") in reply.headers
    reply = handle(server, AutodiscoverRequest("POST", "/autodiscover/autodiscover.xml",
                                               _basic("EXAMPLE\\john", "bad"), pox.build_request("john@example.com")))
    assert reply.status == 401


def test_handler_soap_alias_resolves_to_primary(server):
    body = soap.build_request("j.doe@example.com", "https://example.com/autodiscover/autodiscover.svc")
    reply = handle(server, AutodiscoverRequest("POST", "/autodiscover/autodiscover.svc", JOHN_BASIC, body))
    assert reply.status == 200
    answer = soap.parse_response(reply.body)
    assert answer.kind == SETTINGS
    assert answer.primary_smtp_address == "john@example.com"
    assert answer.ews_url == server.url
    assert answer.version.build == Build(*server.build)


def test_handler_unknown_user(server):
    body = soap.build_request("nobody@example.com", "https://x")
    answer = soap.parse_response(handle(server, AutodiscoverRequest(
        "POST", "/autodiscover/autodiscover.svc", JOHN_BASIC, body)).body)
    assert (answer.kind, answer.error_code) == (ERROR, "InvalidUser")
    answer = pox.parse_response(handle(server, AutodiscoverRequest(
        "POST", "/autodiscover/autodiscover.xml", JOHN_BASIC, pox.build_request("nobody@example.com"))).body)
    assert (answer.kind, answer.error_code) == (ERROR, "500")


def test_handler_pox_settings_and_wrong_schema(server):
    reply = handle(server, AutodiscoverRequest("POST", "/autodiscover/autodiscover.xml", JOHN_BASIC,
                                               pox.build_request("mary@example.com")))
    answer = pox.parse_response(reply.body)
    assert answer.kind == SETTINGS and answer.primary_smtp_address == "mary@example.com"
    assert answer.version.build.as_tuple()[:3] == tuple(server.build[:3])
    wrong = pox.build_request("mary@example.com").replace(b"outlook/responseschema/2006a",
                                                          b"mobilesync/responseschema/2006")
    answer = pox.parse_response(handle(server, AutodiscoverRequest(
        "POST", "/autodiscover/autodiscover.xml", JOHN_BASIC, wrong)).body)
    assert (answer.kind, answer.error_code) == (ERROR, "601")
    got = handle(server, AutodiscoverRequest("GET", "/autodiscover/autodiscover.xml", JOHN_BASIC))
    assert pox.parse_response(got.body).error_code == "600"


def test_handler_settings_per_server_and_single_protocol(server):
    s = settings_for(server)
    assert settings_for(server) is s
    s.protocols = ("soap",)
    try:
        reply = handle(server, AutodiscoverRequest("POST", "/autodiscover/autodiscover.xml", JOHN_BASIC,
                                                   pox.build_request("john@example.com")))
        assert reply.status == 404
    finally:
        s.protocols = ("soap", "pox")
    with pytest.raises(ValueError, match="protocol"):
        AutodiscoverSettings(protocols=("rest",))


def test_handler_malformed_requests(server):
    reply = handle(server, AutodiscoverRequest("POST", "/autodiscover/autodiscover.svc", JOHN_BASIC, b"<oops"))
    assert reply.status == 500 and soap.parse_response(reply.body).kind == ERROR
    reply = handle(server, AutodiscoverRequest("POST", "/autodiscover/autodiscover.xml", JOHN_BASIC, b"<oops"))
    assert pox.parse_response(reply.body).error_code == "600"
