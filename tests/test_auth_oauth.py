"""OAuth 2.0 against the local server's token endpoint, over HTTP: client credentials (secret and certificate),
delegated authorization code with refresh, resource owner password; coordinated refresh; protocol sharing.

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth
"""
from __future__ import annotations

import base64
import datetime
import json
import threading
import time
from typing import Any, Dict, List, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from exchangelib import (DELEGATE, IMPERSONATION, OAUTH2, Account, Configuration, OAuth2AuthorizationCodeCredentials,
                         OAuth2ClientCredentials, OAuth2Credentials, OAuth2LegacyCredentials)
from exchangelib.credentials import ClientCertificate, Identity
from exchangelib.errors import OAuth2TokenError, UnauthorizedError
from exchangelib.protocol import Protocol
from exchangelib.testing import OAuthClient

JOHN = "john@example.com"
WEB_APP = "web-app"
WEB_SECRET = "web-app-Secret-7"
REDIRECT = "https://app.example.com/signin"


@pytest.fixture(scope="module")
def rsa_cert() -> Tuple[bytes, bytes]:
    return make_cert("cert-app")


def make_cert(cn: str) -> Tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
def server(make_exchange, rsa_cert):
    s = make_exchange(auth=("ntlm", "bearer"))
    s.add_oauth_client(OAuthClient(WEB_APP, WEB_SECRET, roles=(), redirect_uris=(REDIRECT,)))
    s.add_oauth_client(OAuthClient("cert-app", None, certificate=rsa_cert[0]))
    return s


def code_credentials(server, **kwargs: Any) -> OAuth2AuthorizationCodeCredentials:
    code = server.authorize(WEB_APP, JOHN, scope="EWS.AccessAsUser.All offline_access", redirect_uri=REDIRECT)
    return OAuth2AuthorizationCodeCredentials(authorization_code=code, client_id=WEB_APP, client_secret=WEB_SECRET,
                                              token_url=server.token_url, redirect_uri=REDIRECT, **kwargs)


def delegate_account(server, creds: Any, **config: Any) -> Account:
    return Account(JOHN, config=Configuration(service_endpoint=server.url, credentials=creds, auth_type=OAUTH2,
                                              **config), access_type=DELEGATE)


# --- the security regression: different secrets never share a protocol or a token --------------------------

def test_wrong_client_secret_after_a_right_one_is_refused(exchange):
    right = OAuth2ClientCredentials("local-app", "local-app-secret", exchange.token_url)
    account = Account(JOHN, config=Configuration(service_endpoint=exchange.url, credentials=right),
                      access_type=IMPERSONATION)
    assert account.inbox.name == "Inbox"
    wrong = OAuth2ClientCredentials("local-app", "not-the-secret", exchange.token_url)
    with pytest.raises(UnauthorizedError) as e:
        Account(JOHN, config=Configuration(service_endpoint=exchange.url, credentials=wrong),
                access_type=IMPERSONATION).inbox  # noqa: B018
    assert isinstance(e.value, OAuth2TokenError) and e.value.error == "invalid_client"
    assert "not-the-secret" not in str(e.value)


def test_cache_key_covers_every_secret_but_holds_none(exchange, rsa_cert):
    a = OAuth2ClientCredentials("local-app", "secret-one", exchange.token_url)
    keys = {
        a.cache_key(),
        OAuth2ClientCredentials("local-app", "secret-two", exchange.token_url).cache_key(),
        OAuth2ClientCredentials("local-app", "secret-one", exchange.token_url, scope="api://x/.default").cache_key(),
        OAuth2Credentials("local-app", client_certificate=ClientCertificate(*rsa_cert),
                          token_url=exchange.token_url).cache_key(),
        OAuth2LegacyCredentials("john", "pw-1", client_id="local-app", token_url=exchange.token_url).cache_key(),
        OAuth2LegacyCredentials("john", "pw-2", client_id="local-app", token_url=exchange.token_url).cache_key(),
        OAuth2AuthorizationCodeCredentials(access_token={"access_token": "tok-a", "refresh_token": "r-a"},
                                           client_id=WEB_APP, token_url=exchange.token_url).cache_key(),
        OAuth2AuthorizationCodeCredentials(access_token={"access_token": "tok-a", "refresh_token": "r-b"},
                                           client_id=WEB_APP, token_url=exchange.token_url).cache_key(),
    }
    assert len(keys) == 8
    assert a.cache_key() == OAuth2ClientCredentials("local-app", "secret-one", exchange.token_url).cache_key()
    for key in keys:
        for secret in ("secret-one", "secret-two", "pw-1", "pw-2", "tok-a", "r-a", "r-b"):
            assert secret not in repr(key)
    p1 = Protocol.for_config(Configuration(service_endpoint=exchange.url, credentials=a))
    p2 = Protocol.for_config(Configuration(service_endpoint=exchange.url, credentials=OAuth2ClientCredentials(
        "local-app", "secret-two", exchange.token_url)))
    assert p1 is not p2


# --- delegated: authorization code, refresh, rotation, revocation ----------------------------------------------

def test_authorization_code_then_refresh_with_token_callback(server):
    seen: List[Dict[str, Any]] = []
    creds = code_credentials(server, on_token_changed=seen.append)
    account = delegate_account(server, creds)
    assert account.inbox.name == "Inbox"
    assert len(seen) == 1 and seen[0]["refresh_token"] and seen[0]["expires_at"] > time.time()
    assert creds.authorization_code is None  # redeemed once
    first = seen[0]
    server.expire_tokens()
    assert account.inbox.all().count() == 0
    assert len(seen) == 2 and seen[1]["access_token"] != first["access_token"]
    assert seen[1]["refresh_token"] != first["refresh_token"]  # rotated
    # The rotated-out refresh token is dead
    r = requests.post(server.token_url, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                              "client_id": WEB_APP, "client_secret": WEB_SECRET}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # A new process resumes from the persisted token, without the code
    resumed = OAuth2AuthorizationCodeCredentials(client_id=WEB_APP, client_secret=WEB_SECRET,
                                                 token_url=server.token_url, access_token=seen[-1])
    assert delegate_account(server, resumed).inbox.name == "Inbox"


def test_revoked_refresh_token_raises_a_clear_error_after_one_attempt(server):
    creds = code_credentials(server)
    account = delegate_account(server, creds)
    assert account.inbox.name == "Inbox"
    assert server.revoke_refresh_tokens(user=JOHN) == 1
    server.expire_tokens()
    before = server.token_requests
    with pytest.raises(OAuth2TokenError) as e:
        account.inbox.all().count()
    assert e.value.error == "invalid_grant" and "sign in again" in str(e.value)
    assert server.token_requests - before == 1  # one refresh attempt, no loop


def test_code_is_single_use_and_bound_to_redirect_uri(server):
    code = server.authorize(WEB_APP, JOHN, redirect_uri=REDIRECT)
    form = {"grant_type": "authorization_code", "code": code, "client_id": WEB_APP, "client_secret": WEB_SECRET,
            "redirect_uri": "https://evil.example.com/"}
    r = requests.post(server.token_url, data=form, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    form["redirect_uri"] = REDIRECT  # the failed redemption used the code up
    assert requests.post(server.token_url, data=form, timeout=10).json()["error"] == "invalid_grant"
    with pytest.raises(ValueError, match="redirect URI"):
        server.authorize(WEB_APP, JOHN, redirect_uri="https://evil.example.com/")


def test_authorize_endpoint_redirects_with_code_and_state_and_checks_pkce(server):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(__import__("hashlib").sha256(verifier.encode()).digest()).rstrip(b"=")
    r = requests.get(server.authorize_url, params={
        "client_id": WEB_APP, "response_type": "code", "redirect_uri": REDIRECT, "state": "xyz",
        "scope": "https://outlook.office365.com/EWS.AccessAsUser.All offline_access", "login_hint": JOHN,
        "code_challenge": challenge.decode(), "code_challenge_method": "S256"}, allow_redirects=False, timeout=10)
    assert r.status_code == 302
    location = urlsplit(r.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    q = parse_qs(location.query)
    assert q["state"] == ["xyz"]
    wrong = OAuth2AuthorizationCodeCredentials(q["code"][0], WEB_APP, WEB_SECRET, token_url=server.token_url,
                                               redirect_uri=REDIRECT, code_verifier="w" * 50)
    with pytest.raises(OAuth2TokenError, match="code_verifier"):
        delegate_account(server, wrong).inbox  # noqa: B018
    r = requests.get(server.authorize_url, params={"client_id": WEB_APP, "redirect_uri": REDIRECT, "login_hint": JOHN,
                                                   "code_challenge": challenge.decode(),
                                                   "code_challenge_method": "S256"}, allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    right = OAuth2AuthorizationCodeCredentials(code, WEB_APP, WEB_SECRET, token_url=server.token_url,
                                               redirect_uri=REDIRECT, code_verifier=verifier)
    assert delegate_account(server, right).inbox.name == "Inbox"


# --- coordinated refresh ----------------------------------------------------------------------------------------

def _slow_token_endpoint(server, monkeypatch) -> None:
    """Token requests take 0.2 s, so that threads that need a token at the same time really overlap."""
    original = server.authenticator.token_endpoint

    def slow(*args: Any, **kwargs: Any):
        time.sleep(0.2)
        return original(*args, **kwargs)

    monkeypatch.setattr(server.authenticator, "token_endpoint", slow)


def _hammer(account: Account, n: int) -> List[Any]:
    barrier = threading.Barrier(n)
    results: List[Any] = [None] * n

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = account.inbox.all().count()
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            results[i] = e

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.parametrize("how", ["expiry seen by the client", "401 from the server"])
def test_sixteen_threads_at_expiry_make_one_token_request(server, monkeypatch, how):
    creds = code_credentials(server)
    account = delegate_account(server, creds, max_connections=16)
    assert account.inbox.name == "Inbox"
    if how == "expiry seen by the client":
        info = creds.access_token
        info["expires_at"] = time.time() + 10  # inside the refresh skew: renew before use
        creds.access_token = info
    else:
        server.expire_tokens()  # the client thinks its token is good; every thread gets 401 with it
    _slow_token_endpoint(server, monkeypatch)
    before = server.token_requests
    results = _hammer(account, 16)
    assert results == [0] * 16
    assert server.token_requests - before == 1


def test_a_rejected_fresh_token_is_not_refreshed_again(server, monkeypatch):
    creds = OAuth2ClientCredentials("local-app", "local-app-secret", server.token_url)
    account = Account(JOHN, config=Configuration(service_endpoint=server.url, credentials=creds),
                      access_type=IMPERSONATION)
    assert account.inbox.name == "Inbox"
    # Every token the server issues from now on is rejected at once (e.g. a role removed from the app)
    original = server.authenticator.tokens.issue

    def issue_dead(*args: Any, **kwargs: Any):
        body = original(*args, **kwargs)
        server.authenticator.tokens.revoke(body["access_token"])
        return body

    monkeypatch.setattr(server.authenticator.tokens, "issue", issue_dead)
    server.expire_tokens()
    before = server.token_requests
    with pytest.raises(UnauthorizedError, match="rejected"):
        account.inbox.all().count()
    assert server.token_requests - before == 1


# --- certificate client assertion, legacy ROPC, scopes and roles -----------------------------------------------

def test_certificate_client_assertion(server, rsa_cert, issued_tokens_local):
    cert = ClientCertificate(*rsa_cert)
    creds = OAuth2Credentials("cert-app", client_certificate=cert, token_url=server.token_url)
    account = Account(JOHN, config=Configuration(service_endpoint=server.url, credentials=creds),
                      access_type=IMPERSONATION)
    assert account.inbox.name == "Inbox"
    assertion = issued_tokens_local[-1]
    header = json.loads(base64.urlsafe_b64decode(assertion.split(".")[0] + "=="))
    assert header["alg"] == "RS256" and header["x5t"]
    assert "BEGIN" not in repr(creds) and "PRIVATE" not in repr(cert)
    other = ClientCertificate(*make_cert("someone-else"))
    bad = OAuth2Credentials("cert-app", client_certificate=other, token_url=server.token_url)
    with pytest.raises(OAuth2TokenError) as e:
        Account(JOHN, config=Configuration(service_endpoint=server.url, credentials=bad),
                access_type=IMPERSONATION).inbox  # noqa: B018
    assert e.value.error == "invalid_client" and "AADSTS700027" in str(e.value)


@pytest.fixture
def issued_tokens_local(monkeypatch) -> List[str]:
    """The client assertions the server verifies during the test."""
    from exchangelib.testing.oauth import AssertionVerifier

    seen: List[str] = []
    original = AssertionVerifier.verify

    def verify(self, assertion: str, *args: Any):
        seen.append(assertion)
        return original(self, assertion, *args)

    monkeypatch.setattr(AssertionVerifier, "verify", verify)
    return seen


def test_assertion_replay_is_refused(server, rsa_cert):
    assertion = ClientCertificate(*rsa_cert).assertion("cert-app", server.token_url)
    form = {"grant_type": "client_credentials", "scope": "https://outlook.office365.com/.default",
            "client_id": "cert-app", "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    assert requests.post(server.token_url, data=form, timeout=10).status_code == 200
    r = requests.post(server.token_url, data=form, timeout=10)
    assert r.status_code == 401 and "replayed" in r.json()["error_description"]


def test_legacy_password_grant(server):
    user = server.user(JOHN)
    creds = OAuth2LegacyCredentials(JOHN, user.password, client_id=WEB_APP, client_secret=WEB_SECRET,
                                    token_url=server.token_url)
    assert delegate_account(server, creds).inbox.name == "Inbox"
    assert user.password not in repr(creds)
    bad = OAuth2LegacyCredentials(JOHN, "wrong-pw", client_id=WEB_APP, client_secret=WEB_SECRET,
                                  token_url=server.token_url)
    with pytest.raises(OAuth2TokenError, match="invalid_grant"):
        delegate_account(server, bad).inbox  # noqa: B018


def test_delegated_scope_must_be_consented_and_carry_ews_permission(server):
    server.add_oauth_client(OAuthClient("mail-read-app", "s3cret-app", roles=(), delegated_scopes=("Mail.Read",)))
    creds = OAuth2LegacyCredentials(JOHN, server.user(JOHN).password, client_id="mail-read-app",
                                    client_secret="s3cret-app", token_url=server.token_url)
    with pytest.raises(OAuth2TokenError) as e:
        delegate_account(server, creds).inbox  # noqa: B018
    assert e.value.error == "invalid_grant" and "AADSTS65001" in e.value.description
    # A token the app may have, but without EWS.AccessAsUser.All, is refused by EWS
    creds = OAuth2LegacyCredentials(JOHN, server.user(JOHN).password, client_id="mail-read-app",
                                    client_secret="s3cret-app", token_url=server.token_url,
                                    scope="https://outlook.office365.com/Mail.Read")
    with pytest.raises(UnauthorizedError, match="rejected"):
        delegate_account(server, creds).inbox  # noqa: B018


def test_app_without_full_access_role_cannot_impersonate(server):
    creds = OAuth2Credentials(WEB_APP, WEB_SECRET, token_url=server.token_url)
    from exchangelib.errors import ErrorImpersonateUserDenied

    with pytest.raises(ErrorImpersonateUserDenied):
        Account(JOHN, config=Configuration(service_endpoint=server.url, credentials=creds),
                access_type=IMPERSONATION).inbox  # noqa: B018


def test_argument_errors_name_the_problem(rsa_cert):
    with pytest.raises(ValueError, match="https"):
        OAuth2Credentials("app", "s", token_url="http://login.example.com/token")
    with pytest.raises(ValueError, match="client_secret or client_certificate"):
        OAuth2Credentials("app", "s", client_certificate=ClientCertificate(*rsa_cert))
    with pytest.raises(ValueError, match="authorization_code or an access_token"):
        OAuth2AuthorizationCodeCredentials(client_id="app")
    with pytest.raises(ValueError, match="private key"):
        ClientCertificate(rsa_cert[0])
    assert OAuth2Credentials("app", "s", tenant_id="contoso.onmicrosoft.com").token_url == \
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"


def test_app_that_renews_tokens_itself_as_with_exchangelib_5(server):
    """exchangelib 5.x's documented pattern: only an access token, and a subclass whose refresh(session) sets a
    new one. It is called before an expired token is used and once after a 401."""
    issued: List[str] = []

    def fresh_token() -> str:
        issued.append(server.issue_token(user=JOHN))
        return issued[-1]

    class AppRenews(OAuth2AuthorizationCodeCredentials):
        def refresh(self, session):
            self.access_token = {"access_token": fresh_token(), "expires_in": 3600}

    creds = AppRenews(access_token={"access_token": fresh_token(), "expires_at": time.time() - 1},
                      identity=Identity(primary_smtp_address=JOHN))
    account = delegate_account(server, creds)
    assert account.inbox.name == "Inbox" and len(issued) == 2  # expired at the start: renewed before use
    server.expire_tokens()
    assert account.inbox.all().count() == 0 and len(issued) == 3  # rejected: renewed once, then accepted
    assert creds.identity == JOHN and JOHN in repr(creds)


@pytest.mark.parametrize("auth", ["NTLM", "basic"])
def test_wrong_password_after_a_right_one_is_refused(exchange, auth):
    from exchangelib import Credentials

    user = exchange.user(JOHN)
    right = Credentials(user.logon_name, user.password)
    config = Configuration(service_endpoint=exchange.url, credentials=right, auth_type=auth)
    assert Account(JOHN, config=config, access_type=DELEGATE).inbox.name == "Inbox"
    wrong = Configuration(service_endpoint=exchange.url, credentials=Credentials(user.logon_name, "Not-the-pw-1"),
                          auth_type=auth)
    with pytest.raises(UnauthorizedError):
        Account(JOHN, config=wrong, access_type=DELEGATE).inbox  # noqa: B018


def test_an_attachment_download_refreshes_a_rejected_token_once(server):
    """The streamed GetAttachment follows the rule of every request: a 401 for an OAuth token gets one refresh."""
    from exchangelib import FileAttachment, Message

    seen: List[Dict[str, Any]] = []
    creds = code_credentials(server, on_token_changed=seen.append)
    account = delegate_account(server, creds)
    item = Message(account=account, folder=account.inbox, subject="with a file")
    item.attach(FileAttachment(name="data.bin", content=b"\x01\x02" * 50_000))
    item.save()
    attachment = list(account.fetch([item]))[0]
    server.expire_tokens()  # the client still thinks its token is good: the download's first answer is 401
    before = len(seen)
    with attachment.attachments[0].fp as fp:
        assert fp.read() == b"\x01\x02" * 50_000
    assert len(seen) == before + 1  # exactly one refresh
