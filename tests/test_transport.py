"""SOAP envelope building, auth-type choice and credential handling (no network)."""
import pytest

from exchangelib.configuration import Configuration
from exchangelib.credentials import AccessTokenCredentials, Credentials, ServiceAccount
from exchangelib.errors import UnauthorizedError
from exchangelib.retry import FailFast, FaultTolerance
from exchangelib.testing.schema import validate
from exchangelib.transport import (BASIC, DIGEST, NTLM, OAUTH2, choose_auth_type, parse_www_authenticate, wrap)
from exchangelib.xml import SOAPNS, create_element, add_child, parse


def _get_folder():
    elem = create_element("m:GetFolder")
    shape = add_child(elem, "m:FolderShape")
    add_child(shape, "t:BaseShape", text="IdOnly")
    ids = add_child(elem, "m:FolderIds")
    add_child(ids, "t:DistinguishedFolderId", {"Id": "inbox"})
    return elem


@pytest.mark.parametrize("imp", [None, ("PrimarySmtpAddress", "john@example.com"), ("SmtpAddress", "j@example.com"),
                                 ("PrincipalName", "john@corp.example.com"), ("SID", "S-1-5-21-1-2-3-1001")])
def test_envelope_headers_validate_against_the_schema(imp):
    data = wrap(_get_folder(), "Exchange2016", impersonation=imp, timezone_id="Romance Standard Time",
                culture="da-DK")
    root = parse(data)
    header = root.find(f"{{{SOAPNS}}}Header")
    names = [h.tag.rsplit("}", 1)[1] for h in header]
    assert names[0] == "RequestServerVersion"
    assert ("ExchangeImpersonation" in names) == (imp is not None)
    for h in header:
        ok, err = validate(h)
        assert ok, err
    body_child = root.find(f"{{{SOAPNS}}}Body")[0]
    ok, err = validate(body_child)
    assert ok, err


def test_bad_impersonation_type_rejected():
    with pytest.raises(ValueError, match="Impersonation id type"):
        wrap(_get_folder(), "Exchange2016", impersonation=("Nickname", "x"))


def test_parse_www_authenticate_handles_iis_headers():
    assert parse_www_authenticate(["Negotiate", "NTLM", 'Basic realm="mail.example.com"']) == [
        "negotiate", "ntlm", "basic"]
    assert parse_www_authenticate(['Bearer authorization_uri="https://x", error="invalid_token"']) == ["bearer"]
    assert parse_www_authenticate(['Digest realm="x", nonce="abc", qop="auth", Basic realm="y"']) == [
        "digest", "basic"]


def test_choose_strongest_offered():
    creds = Credentials("EXAMPLE\\john", "pw")
    assert choose_auth_type(["basic", "ntlm"], creds, "https://h/EWS/Exchange.asmx") == NTLM
    assert choose_auth_type(["basic", "digest"], creds, "https://h/EWS/Exchange.asmx") == DIGEST
    assert choose_auth_type(["basic"], creds, "https://h/EWS/Exchange.asmx") == BASIC
    token = AccessTokenCredentials("abc")
    assert choose_auth_type(["ntlm", "bearer"], token, "https://h/EWS/Exchange.asmx") == OAUTH2
    with pytest.raises(UnauthorizedError):
        choose_auth_type(["ntlm"], token, "https://h/EWS/Exchange.asmx")


def test_basic_over_plain_http_is_never_chosen_implicitly():
    creds = Credentials("john", "pw")
    with pytest.raises(UnauthorizedError, match="unencrypted"):
        choose_auth_type(["basic"], creds, "http://h/EWS/Exchange.asmx")
    assert choose_auth_type(["basic"], creds, "http://h/EWS/Exchange.asmx", allow_insecure_basic=True) == BASIC
    assert choose_auth_type(["basic", "ntlm"], creds, "http://h/EWS/Exchange.asmx") == NTLM


def test_secrets_never_in_reprs():
    c = Credentials("EXAMPLE\\john", "hunter2-secret")
    s = ServiceAccount("EXAMPLE\\john", "hunter2-secret")
    t = AccessTokenCredentials("eyJ-token-value")
    cfg = Configuration(server="mail.example.com", credentials=c)
    for obj in (c, s, t, cfg):
        assert "hunter2" not in repr(obj) and "hunter2" not in str(obj)
        assert "eyJ-token" not in repr(obj)


def test_retry_policy_follows_credentials_kind():
    assert isinstance(Configuration(server="h", credentials=Credentials("a", "b")).retry_policy, FailFast)
    assert isinstance(Configuration(server="h", credentials=ServiceAccount("a", "b")).retry_policy, FaultTolerance)


def test_configuration_validation():
    assert Configuration(server="mail.example.com").service_endpoint == "https://mail.example.com/EWS/Exchange.asmx"
    old_style = Configuration(server="mail.example.com", username="EXAMPLE\\john", password="pw", auth_type=NTLM)
    assert old_style.credentials.username == "EXAMPLE\\john" and old_style.auth_type == NTLM
    with pytest.raises(ValueError):
        Configuration(server="mail.example.com", service_endpoint="https://x/EWS/Exchange.asmx")
    with pytest.raises(ValueError):
        Configuration(service_endpoint="ftp://x")
    with pytest.raises(ValueError):
        Configuration(server="h", auth_type="kerberos-ish")
    with pytest.raises(ValueError):
        Configuration(server="h", max_connections=0)
    with pytest.raises(TypeError):
        Configuration(server="h", credentials=("user", "pw"))


@pytest.mark.parametrize("url", ["https://john:Secret-pw-1@mail.example.com/EWS/Exchange.asmx",
                                 "http://john@127.0.0.1:8080/EWS/Exchange.asmx",
                                 "https://:Secret-pw-1@mail.example.com/EWS/Exchange.asmx"])
def test_credentials_in_the_endpoint_url_are_refused_without_repeating_them(url):
    from exchangelib import Configuration, Credentials
    from exchangelib.protocol import Protocol

    for make in (lambda: Configuration(service_endpoint=url, credentials=Credentials("EXAMPLE\\john", "x")),
                 lambda: Protocol(url, Credentials("EXAMPLE\\john", "x"), auth_type="NTLM")):
        with pytest.raises(ValueError) as info:
            make()
        message = str(info.value)
        assert "Secret-pw-1" not in message and "john@" not in message and "john:" not in message
        assert "***@" in message and "Credentials(" in message
