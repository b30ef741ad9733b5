"""Authentication of the local EWS server over real HTTP: Basic, NTLM, Negotiate, Digest, OAuth bearer."""
from __future__ import annotations

import base64
import time

import pytest
import requests
from requests.auth import HTTPDigestAuth
from requests_ntlm import HttpNtlmAuth

from exchangelib.testing.server import EWSServer
from exchangelib.testing.users import OAuthClient, User, default_oauth_clients, default_users

from .conftest import soap

JOHN_PW = "Exchange-john-1"


def post(server, auth=None, session=None, data=None, **kw):
    return (session or requests).post(server.url, data=data or soap(), auth=auth,
                                      headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=10, **kw)


def test_401_lists_every_enabled_scheme_as_separate_headers(fake_ops):
    with EWSServer(default_users(), auth=("negotiate", "ntlm", "digest", "basic", "bearer")) as server:
        r = post(server)
        assert r.status_code == 401
        values = r.raw.headers.getlist("WWW-Authenticate")
        assert [v.split()[0] for v in values] == ["Negotiate", "NTLM", "Digest", "Basic", "Bearer"]
        assert 'Basic realm="127.0.0.1"' in values
        assert r.headers["Server"].startswith("Microsoft-IIS")


def test_401_lists_only_enabled_schemes(fake_ops):
    with EWSServer(default_users(), auth=("basic",)) as server:
        r = post(server)
        assert r.raw.headers.getlist("WWW-Authenticate") == ['Basic realm="127.0.0.1"']
        # An enabled-elsewhere scheme is refused here.
        r = post(server, auth=HttpNtlmAuth("EXAMPLE\\john", JOHN_PW))
        assert r.status_code == 401


@pytest.mark.parametrize("login", ["EXAMPLE\\john", "john", "john@example.com", "example\\JOHN",
                                   "example.com\\john"])
def test_basic_accepts_every_logon_name_form(ews_server, fake_ops, login):
    r = post(ews_server, auth=(login, JOHN_PW))
    assert r.status_code == 200, r.text
    assert fake_ops.last.caller == "john@example.com"
    assert ews_server.request_log[-1].auth_scheme == "Basic"


@pytest.mark.parametrize("login,password", [("john", "wrong"), ("OTHER\\john", JOHN_PW), ("nobody", JOHN_PW),
                                            ("room1", ""), ("j.doe@example.com", JOHN_PW)])
def test_basic_rejects_bad_credentials(ews_server, fake_ops, login, password):
    r = post(ews_server, auth=(login, password))
    assert r.status_code == 401
    assert not fake_ops.calls
    assert ews_server.request_count() == 0


def test_basic_malformed_header_is_401(ews_server, fake_ops):
    r = requests.post(ews_server.url, data=soap(), headers={"Authorization": "Basic !!!notbase64"}, timeout=10)
    assert r.status_code == 401


@pytest.mark.parametrize("login", ["EXAMPLE\\john", "john@example.com", "john"])
def test_ntlm_handshake_succeeds(ews_server, fake_ops, login):
    with requests.Session() as s:
        r = post(ews_server, auth=HttpNtlmAuth(login, JOHN_PW), session=s)
        assert r.status_code == 200, r.text
        # requests_ntlm: 401 (schemes) -> Type1 -> 401 challenge -> Type3 -> 200
        assert [h.status_code for h in r.history] == [401, 401]
        assert r.history[1].headers["WWW-Authenticate"].startswith("NTLM ")
    assert fake_ops.last.caller == "john@example.com"
    assert ews_server.request_log[-1].auth_scheme == "NTLM"


def test_ntlm_wrong_password_is_401(ews_server, fake_ops):
    with requests.Session() as s:
        r = post(ews_server, auth=HttpNtlmAuth("EXAMPLE\\john", "wrong"), session=s)
    assert r.status_code == 401
    assert not fake_ops.calls


def test_ntlm_unknown_user_and_wrong_domain_are_401(ews_server, fake_ops):
    for login in ("EXAMPLE\\nobody", "OTHERDOM\\john"):
        with requests.Session() as s:
            assert post(ews_server, auth=HttpNtlmAuth(login, JOHN_PW), session=s).status_code == 401
    assert not fake_ops.calls


def test_ntlm_authenticates_the_connection_for_keep_alive_requests(ews_server, fake_ops):
    with requests.Session() as s:
        assert post(ews_server, auth=HttpNtlmAuth("EXAMPLE\\john", JOHN_PW), session=s).status_code == 200
        # Same connection, no Authorization header at all: still john, as with IIS.
        for _ in range(3):
            r = s.post(ews_server.url, data=soap(), timeout=10)
            assert r.status_code == 200
            assert not r.history
    statuses = [rec.status for rec in ews_server.request_log]
    assert statuses == [401, 401, 200, 200, 200, 200]
    assert ews_server.request_count("GetFolder") == 4
    # A fresh connection without credentials is not authenticated.
    assert post(ews_server).status_code == 401


def test_ntlm_type3_without_challenge_is_refused(ews_server, fake_ops):
    # A Type 3 message sent on a connection that never got a challenge.
    bogus = base64.b64encode(b"NTLMSSP\x00\x03\x00\x00\x00" + b"\x00" * 60).decode()
    r = requests.post(ews_server.url, data=soap(), headers={"Authorization": f"NTLM {bogus}"}, timeout=10)
    assert r.status_code == 401


def test_kerberos_token_under_negotiate_is_refused(fake_ops):
    with EWSServer(default_users(), auth=("negotiate", "ntlm")) as server:
        token = base64.b64encode(b"\x60\x82\x01\x00" + b"\x06\x09*\x86H\x86\xf7\x12\x01\x02\x02" + b"\x00" * 20)
        r = requests.post(server.url, data=soap(), headers={"Authorization": f"Negotiate {token.decode()}"},
                          timeout=10)
        assert r.status_code == 401
        assert "Negotiate" in r.raw.headers.getlist("WWW-Authenticate")


def test_negotiate_with_raw_ntlm_tokens(fake_ops):
    # With only Negotiate offered, requests_ntlm runs NTLM under the Negotiate scheme name, as IIS allows.
    with EWSServer(default_users(), auth=("negotiate",)) as server, requests.Session() as s:
        r = post(server, auth=HttpNtlmAuth("EXAMPLE\\john", JOHN_PW), session=s)
        assert r.status_code == 200
        assert r.history[-1].headers["WWW-Authenticate"].startswith("Negotiate ")
        assert server.request_log[-1].auth_scheme == "Negotiate"


def test_digest_auth(fake_ops):
    with EWSServer(default_users(), auth=("digest",)) as server:
        with requests.Session() as s:
            assert post(server, auth=HTTPDigestAuth("john", JOHN_PW), session=s).status_code == 200
            assert post(server, auth=HTTPDigestAuth("john", "nope"), session=s).status_code == 401
        assert [(r.status, r.auth_scheme) for r in server.request_log if r.user] == [(200, "Digest")]


# --- OAuth 2.0 ------------------------------------------------------------------------------------


def get_token(server, **form):
    data = {"grant_type": "client_credentials", "client_id": "local-app", "client_secret": "local-app-secret",
            "scope": "https://outlook.office365.com/.default"}
    data.update(form)
    return requests.post(server.token_url, data={k: v for k, v in data.items() if v is not None}, timeout=10)


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "text/xml; charset=utf-8"}


IMPERSONATE_JOHN = ('<t:RequestServerVersion Version="Exchange2016"/><t:ExchangeImpersonation><t:ConnectingSID>'
                    '<t:PrimarySmtpAddress>john@example.com</t:PrimarySmtpAddress></t:ConnectingSID>'
                    '</t:ExchangeImpersonation>')


def test_token_endpoint_client_credentials(ews_server, fake_ops):
    r = get_token(ews_server)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    data = r.json()
    assert data["token_type"] == "Bearer" and data["expires_in"] == 3600 and data["access_token"]
    assert "refresh_token" not in data
    # App-only tokens act through impersonation, like full_access_as_app in Exchange Online.
    r = requests.post(ews_server.url, data=soap(headers=IMPERSONATE_JOHN), headers=bearer(data["access_token"]),
                      timeout=10)
    assert r.status_code == 200, r.text
    assert fake_ops.last.caller == "john@example.com"
    rec = ews_server.request_log[-1]
    assert (rec.user, rec.auth_scheme, rec.mailbox) == ("app:local-app", "Bearer", "john@example.com")


def test_token_endpoint_also_serves_tenant_paths_and_basic_client_auth(ews_server):
    url = f"{ews_server.base_url}/my-tenant-id/oauth2/v2.0/token"
    r = requests.post(url, data={"grant_type": "client_credentials", "scope": "https://outlook.office365.com/.default"},
                      auth=("local-app", "local-app-secret"), timeout=10)
    assert r.status_code == 200 and r.json()["access_token"]


@pytest.mark.parametrize("form,status,error", [
    ({"client_secret": "wrong"}, 401, "invalid_client"),
    ({"client_id": "unknown-app"}, 400, "unauthorized_client"),
    ({"scope": "EWS.AccessAsUser.All"}, 400, "invalid_scope"),
    ({"scope": None}, 400, "invalid_request"),
    ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, 400, "unsupported_grant_type"),
    ({"grant_type": "authorization_code", "code": "not-issued"}, 400, "invalid_grant"),
])
def test_token_endpoint_errors(ews_server, form, status, error):
    r = get_token(ews_server, **form)
    assert r.status_code == status
    assert r.json()["error"] == error
    assert "access_token" not in r.json()


def test_app_only_token_without_impersonation_is_refused(ews_server, fake_ops):
    token = get_token(ews_server).json()["access_token"]
    r = requests.post(ews_server.url, data=soap(), headers=bearer(token), timeout=10)
    assert r.status_code == 500
    assert "ErrorInvalidExchangeImpersonationHeaderData" in r.text
    assert not fake_ops.calls


def test_unknown_bearer_token_is_401_invalid_token(ews_server, fake_ops):
    r = requests.post(ews_server.url, data=soap(headers=IMPERSONATE_JOHN), headers=bearer("not-a-token"), timeout=10)
    assert r.status_code == 401
    assert any('error="invalid_token"' in v for v in r.raw.headers.getlist("WWW-Authenticate"))


def test_bearer_token_expires_and_a_new_one_works(fake_ops):
    with EWSServer(default_users(), oauth_clients=default_oauth_clients(), token_lifetime=0.3) as server:
        data = get_token(server).json()
        assert data["expires_in"] == 0.3
        token = data["access_token"]
        ok = requests.post(server.url, data=soap(headers=IMPERSONATE_JOHN), headers=bearer(token), timeout=10)
        assert ok.status_code == 200
        time.sleep(0.4)
        expired = requests.post(server.url, data=soap(headers=IMPERSONATE_JOHN), headers=bearer(token), timeout=10)
        assert expired.status_code == 401
        assert any('error="invalid_token"' in v for v in expired.raw.headers.getlist("WWW-Authenticate"))
        fresh = get_token(server).json()["access_token"]
        assert fresh != token
        again = requests.post(server.url, data=soap(headers=IMPERSONATE_JOHN), headers=bearer(fresh), timeout=10)
        assert again.status_code == 200


def test_expire_tokens_forces_refresh(ews_server, fake_ops):
    token = ews_server.issue_token(user="mary@example.com")
    assert requests.post(ews_server.url, data=soap(), headers=bearer(token), timeout=10).status_code == 200
    ews_server.expire_tokens()
    assert requests.post(ews_server.url, data=soap(), headers=bearer(token), timeout=10).status_code == 401


def test_password_and_refresh_token_grants_give_delegated_tokens(ews_server, fake_ops):
    r = get_token(ews_server, grant_type="password", username="mary@example.com", password="Exchange-mary-1",
                  scope="https://outlook.office365.com/EWS.AccessAsUser.All offline_access")
    assert r.status_code == 200
    data = r.json()
    assert data["refresh_token"]
    resp = requests.post(ews_server.url, data=soap(), headers=bearer(data["access_token"]), timeout=10)
    assert resp.status_code == 200
    assert fake_ops.last.caller == "mary@example.com"
    # A delegated token must not carry an impersonation header (Exchange Online's rule).
    resp = requests.post(ews_server.url, data=soap(headers=IMPERSONATE_JOHN), headers=bearer(data["access_token"]),
                         timeout=10)
    assert resp.status_code == 500 and "ErrorInvalidExchangeImpersonationHeaderData" in resp.text
    # The refresh token is single-use.
    r2 = get_token(ews_server, grant_type="refresh_token", refresh_token=data["refresh_token"], scope=None)
    assert r2.status_code == 200 and r2.json()["access_token"] != data["access_token"]
    r3 = get_token(ews_server, grant_type="refresh_token", refresh_token=data["refresh_token"], scope=None)
    assert r3.status_code == 400 and r3.json()["error"] == "invalid_grant"
    bad = get_token(ews_server, grant_type="password", username="mary@example.com", password="x", scope="x")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_app_without_full_access_role_may_not_impersonate(fake_ops):
    clients = [OAuthClient("weak-app", "s3cret", roles=())]
    with EWSServer(default_users(), oauth_clients=clients) as server:
        token = get_token(server, client_id="weak-app", client_secret="s3cret").json()["access_token"]
        r = requests.post(server.url, data=soap(headers=IMPERSONATE_JOHN), headers=bearer(token), timeout=10)
        assert r.status_code == 500 and "ErrorImpersonateUserDenied" in r.text


def test_user_bound_client_credentials_act_as_that_user(fake_ops):
    clients = [OAuthClient("mary-app", "s3cret", roles=(), user="mary@example.com")]
    with EWSServer(default_users(), oauth_clients=clients) as server:
        token = get_token(server, client_id="mary-app", client_secret="s3cret").json()["access_token"]
        assert requests.post(server.url, data=soap(), headers=bearer(token), timeout=10).status_code == 200
        assert fake_ops.last.caller == "mary@example.com"


def test_secrets_never_in_reprs():
    u = User("bob", "hunter2", "bob@example.com")
    c = OAuthClient("app", "topsecret")
    assert "hunter2" not in repr(u) and "topsecret" not in repr(c)


def test_secrets_never_logged(fake_ops, caplog):
    caplog.set_level("DEBUG", logger="exchangelib")
    with EWSServer(default_users(), oauth_clients=default_oauth_clients()) as server:
        post(server, auth=("john", "wrong-password-xyz"))
        with requests.Session() as s:
            post(server, auth=HttpNtlmAuth("EXAMPLE\\john", JOHN_PW), session=s)
        token = get_token(server).json()["access_token"]
        requests.post(server.url, data=soap(), headers=bearer(token), timeout=10)
    text = caplog.text
    assert caplog.records  # logging happened
    for secret in ("wrong-password-xyz", JOHN_PW, token, "local-app-secret"):
        assert secret not in text
