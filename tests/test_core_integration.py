"""The client core over real HTTP against the local EWS server (strict schema mode, nothing mocked).

Covers auth-type detection and every auth type, version detection, impersonation, the retry policy
against injected faults, hardened XML parsing against a hostile server, TLS, and thread safety.
Every request the client sends is validated against the EWS XSDs by the server; the fixtures fail a
test whose requests (or the server's responses) did not validate.
"""
from __future__ import annotations

import base64
import logging
import resource
import threading
import time
from email.utils import formatdate
from typing import Iterator, List, Optional, Tuple

import pytest
import requests.adapters
from urllib3.exceptions import InsecureRequestWarning

from exchangelib import (BASIC, DELEGATE, DIGEST, IMPERSONATION, NTLM, OAUTH2, AccessTokenCredentials, Account,
                         BaseProtocol, Build, Configuration, Credentials, FaultTolerance, Message,
                         NoVerifyHTTPAdapter, ServiceAccount, Version)
from exchangelib.errors import (ErrorImpersonateUserDenied, ErrorSchemaValidation, ErrorServerBusy,
                                MalformedResponseError, RateLimitError, TransportError, UnauthorizedError)
from exchangelib.testing import (ConnectionReset, HTTPStatus, LocalExchange, ServerBusy, ServerNotClean,
                                 TruncatedResponse)
from exchangelib.xml import ForbiddenDTDError, ParseError, create_element, parse
from tests.loopback_http import one_answer

JOHN = "john@example.com"
MARY = "mary@example.com"
ADMIN = "ewsadmin@example.com"
BAD_PASSWORD = "Wrong-Pa55word-xyz"


def config(server: LocalExchange, credentials, **kwargs) -> Configuration:
    return Configuration(service_endpoint=server.url, credentials=credentials, verify=server.verify, **kwargs)


def account(server: LocalExchange, credentials, address: str = JOHN, access_type: str = DELEGATE,
            **kwargs) -> Account:
    return Account(address, config=config(server, credentials, **kwargs), access_type=access_type)


def service_account(server: LocalExchange, login: str = JOHN, max_wait: float = 5) -> ServiceAccount:
    creds = server.credentials(login)
    return ServiceAccount(username=creds.username, password=creds.password, max_wait=max_wait)


def records_since(server: LocalExchange, start: int) -> list:
    return list(server.request_log[start:])


# --------------------------------------------------------------------------------------------------------------
# Auth type detection and each auth type
# --------------------------------------------------------------------------------------------------------------

def test_auth_detection_prefers_ntlm_when_offered_ntlm_and_basic(exchange):
    acc = account(exchange, exchange.credentials(JOHN))  # no auth_type: ask the server
    assert acc.protocol.auth_type == NTLM
    assert acc.inbox.name == "Inbox"
    authenticated = [r for r in exchange.request_log if r.user is not None]
    assert authenticated and {r.auth_scheme for r in authenticated} == {"NTLM"}


def test_basic_over_plain_http_is_not_chosen_implicitly(make_exchange):
    server = make_exchange(auth=("basic",))
    acc = account(server, server.credentials(JOHN))
    with pytest.raises(UnauthorizedError) as e:
        acc.inbox
    assert "Basic" in str(e.value) and "auth_type=BASIC" in str(e.value)
    assert server.request_count() == 0  # the password was never sent
    # Asking for Basic explicitly works (the user accepted the risk)...
    explicit = account(server, server.credentials(JOHN), auth_type=BASIC)
    assert explicit.inbox.name == "Inbox"
    # ...and so does allowing detection to pick it
    allowed = account(server, server.credentials(JOHN), allow_insecure_basic=True)
    assert allowed.protocol.auth_type == BASIC
    assert allowed.inbox.name == "Inbox"
    assert {r.auth_scheme for r in server.request_log if r.user} == {"Basic"}


@pytest.mark.parametrize("scheme, auth_type, server_name", [
    ("ntlm", NTLM, "NTLM"), ("basic", BASIC, "Basic"), ("digest", DIGEST, "Digest"),
])
def test_each_password_auth_type_works(make_exchange, scheme, auth_type, server_name):
    server = make_exchange(auth=(scheme,))
    acc = account(server, server.credentials(JOHN), auth_type=auth_type)
    assert acc.inbox.name == "Inbox"
    records = [r for r in server.request_log if r.user is not None]
    assert records and all(r.auth_scheme == server_name and r.user == JOHN for r in records)


def test_digest_is_detected_when_it_is_the_strongest_offered(make_exchange):
    server = make_exchange(auth=("digest", "basic"))
    acc = account(server, server.credentials(JOHN))
    assert acc.protocol.auth_type == DIGEST
    assert acc.inbox.name == "Inbox"


@pytest.mark.parametrize("auth_type", [NTLM, BASIC, DIGEST])
def test_wrong_password_raises_a_clear_unauthorized_error(make_exchange, caplog, auth_type):
    server = make_exchange(auth=("ntlm", "basic", "digest"))
    creds = Credentials(username=server.credentials(JOHN).username, password=BAD_PASSWORD)
    acc = account(server, creds, auth_type=auth_type)
    caplog.set_level(logging.DEBUG, logger="exchangelib")
    with pytest.raises(UnauthorizedError) as e:
        acc.inbox
    msg = str(e.value)
    assert "rejected the credentials" in msg and "password" in msg and creds.username in msg
    assert BAD_PASSWORD not in msg and BAD_PASSWORD not in repr(e.value)
    assert BAD_PASSWORD not in caplog.text
    assert server.request_count() == 0


def test_wrong_password_is_not_retried_by_a_service_account(make_exchange):
    server = make_exchange()
    creds = ServiceAccount(username=server.credentials(JOHN).username, password=BAD_PASSWORD, max_wait=60)
    acc = account(server, creds, auth_type=BASIC)
    t0 = time.monotonic()
    with pytest.raises(UnauthorizedError):
        acc.inbox
    assert time.monotonic() - t0 < 2
    assert [r.status for r in server.request_log] == [401]


def test_bearer_app_only_with_client_credentials(exchange):
    creds = exchange.oauth_credentials()
    acc = account(exchange, creds, access_type=IMPERSONATION)  # app-only tokens must impersonate
    assert acc.protocol.auth_type == OAUTH2  # detected from the Bearer challenge
    assert acc.inbox.name == "Inbox"
    records = [r for r in exchange.request_log if r.status == 200]
    assert records and all(r.auth_scheme == "Bearer" and r.user == "app:local-app" and r.mailbox == JOHN
                           for r in records)
    assert exchange.token_requests == 1


def test_bearer_via_local_exchange_account_helper(exchange):
    acc = exchange.account(JOHN, auth_type="bearer")
    assert acc.protocol.auth_type == OAUTH2
    assert acc.inbox.name == "Inbox"


def test_client_credentials_fetch_a_new_token_when_the_server_expires_it(exchange):
    acc = account(exchange, exchange.oauth_credentials(), access_type=IMPERSONATION, auth_type=OAUTH2)
    inbox = acc.inbox
    before = exchange.token_requests
    exchange.expire_tokens()
    start = len(exchange.request_log)
    inbox.refresh()
    assert exchange.token_requests == before + 1
    assert [r.status for r in records_since(exchange, start)] == [401, 200]


class TokenSource:
    """A refresh callback handing out delegated tokens minted by the server (or a fixed bad one)."""

    def __init__(self, server: LocalExchange, bad: Optional[str] = None):
        self.server = server
        self.bad = bad
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.bad or self.server.issue_token(user=JOHN)


def test_access_token_with_refresh_callback_is_refreshed_once_after_expiry(exchange):
    source = TokenSource(exchange)
    creds = AccessTokenCredentials(access_token=exchange.issue_token(user=JOHN), refresh=source, identity=JOHN)
    acc = account(exchange, creds)
    inbox = acc.inbox
    assert acc.protocol.auth_type == OAUTH2 and source.calls == 0
    exchange.expire_tokens()
    start = len(exchange.request_log)
    inbox.refresh()
    assert source.calls == 1
    assert [(r.status, r.auth_scheme) for r in records_since(exchange, start)] == [(401, None), (200, "Bearer")]
    inbox.refresh()  # the new token keeps working
    assert source.calls == 1


def test_a_refresh_that_returns_a_bad_token_ends_in_unauthorized_without_looping(exchange, caplog):
    bad = "not-a-token-the-server-issued-42"
    source = TokenSource(exchange, bad=bad)
    first = exchange.issue_token(user=JOHN)
    creds = AccessTokenCredentials(access_token=first, refresh=source, identity=JOHN)
    acc = account(exchange, creds, auth_type=OAUTH2)
    inbox = acc.inbox
    exchange.expire_tokens()
    caplog.set_level(logging.DEBUG, logger="exchangelib")
    start = len(exchange.request_log)
    with pytest.raises(UnauthorizedError) as e:
        inbox.refresh()
    assert source.calls == 1
    assert [r.status for r in records_since(exchange, start)] == [401, 401]
    assert bad not in str(e.value) and first not in str(e.value)
    assert bad not in caplog.text and first not in caplog.text
    assert "token" in str(e.value)


def test_debug_logs_show_the_xml_but_no_secrets(exchange, caplog):
    creds = exchange.credentials(JOHN)
    acc = account(exchange, creds, auth_type=BASIC, version=Version(build=Build(*exchange.build)))
    caplog.set_level(logging.DEBUG, logger="exchangelib")
    assert acc.inbox.name == "Inbox"
    assert "GetFolder" in caplog.text and "DistinguishedFolderId" in caplog.text  # DEBUG logging was on
    basic_header = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
    assert creds.password not in caplog.text and basic_header not in caplog.text


# --------------------------------------------------------------------------------------------------------------
# Version detection
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2010", "2013", "2016", "online"])
def test_version_is_detected_from_the_server(make_exchange, version):
    server = make_exchange(version=version)
    acc = account(server, server.credentials(JOHN), auth_type=NTLM)
    assert acc.version.build == Build(*server.build)
    assert acc.version.api_version == server.server_version.version_name
    # Later requests use the detected schema version, which the server accepts
    start = len(server.request_log)
    assert acc.inbox.name == "Inbox"
    assert [(r.operation, r.status) for r in records_since(server, start)] == [("GetFolder", 200)]


def test_strict_server_catches_an_invalid_request(exchange):
    """The guard every other test relies on: an invalid request is refused and recorded."""
    acc = exchange.account(JOHN)
    acc.inbox  # noqa: B018
    bad = create_element("m:GetFolder")  # FolderShape and FolderIds are required
    with pytest.raises(ErrorSchemaValidation):
        acc.protocol.post(bad, operation="GetFolder")
    assert len(exchange.schema_errors) == 1 and exchange.schema_errors[0].operation == "GetFolder"
    with pytest.raises(ServerNotClean):
        exchange.assert_clean()
    exchange.reset_stats()  # don't fail this test's teardown


def test_explicit_version_skips_the_probe(exchange):
    v = Version(build=Build(*exchange.build))
    acc = account(exchange, exchange.credentials(JOHN), auth_type=NTLM, version=v)
    assert acc.inbox.name == "Inbox"
    assert exchange.request_count() == 1
    assert exchange.request_count("ResolveNames") == 0
    assert acc.version is v


# --------------------------------------------------------------------------------------------------------------
# Impersonation
# --------------------------------------------------------------------------------------------------------------

class RecordingAdapter(requests.adapters.HTTPAdapter):
    """A transport adapter (the documented extension point) that remembers what was sent."""

    sent: List[Tuple[dict, bytes]] = []

    def send(self, request, **kwargs):
        body = request.body or b""
        RecordingAdapter.sent.append((dict(request.headers), body if isinstance(body, bytes) else body.encode()))
        return super().send(request, **kwargs)


@pytest.fixture
def recording_adapter() -> Iterator[type]:
    RecordingAdapter.sent = []
    BaseProtocol.HTTP_ADAPTER_CLS = RecordingAdapter  # restored by the autouse fixture in conftest
    yield RecordingAdapter
    RecordingAdapter.sent = []


def test_impersonation_opens_the_target_mailbox(exchange, recording_adapter):
    admin = account(exchange, exchange.credentials(ADMIN), address=JOHN, access_type=IMPERSONATION, auth_type=NTLM)
    created = admin.inbox.add_items([Message(subject="created while impersonating")])[0]
    assert not isinstance(created, Exception)
    ews = [r for r in exchange.request_log if r.status == 200]
    assert ews and all(r.user == ADMIN and r.mailbox == JOHN for r in ews)
    # John sees the item in his own inbox
    john = exchange.account(JOHN)
    [fetched] = john.fetch([(created.id, created.changekey)])
    assert fetched.subject == "created while impersonating"
    assert fetched.parent_folder_id.id == john.inbox.id
    # What went over the wire: the SOAP header and the routing hint
    soap_requests = [(h, b) for h, b in recording_adapter.sent if b"CreateItem" in b]
    assert soap_requests
    for headers, body in soap_requests:
        assert b"<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>john@example.com" in body
        assert headers.get("X-AnchorMailbox") == JOHN


def test_delegate_requests_carry_the_anchor_mailbox_but_no_impersonation(exchange, recording_adapter):
    mary = account(exchange, exchange.credentials(MARY), address=JOHN, auth_type=NTLM)  # mary is john's delegate
    assert mary.inbox.name == "Inbox"
    soap_requests = [(h, b) for h, b in recording_adapter.sent if b"GetFolder" in b]
    assert soap_requests
    for headers, body in soap_requests:
        assert b"ExchangeImpersonation" not in body
        assert headers.get("X-AnchorMailbox") == JOHN


def test_impersonation_without_the_right_is_denied(exchange):
    acc = account(exchange, exchange.credentials(JOHN), address=MARY, access_type=IMPERSONATION, auth_type=NTLM)
    with pytest.raises(ErrorImpersonateUserDenied) as e:
        acc.inbox
    assert e.value.response_code == "ErrorImpersonateUserDenied"
    # With a known version the denial comes from the operation itself
    acc2 = account(exchange, exchange.credentials(JOHN), address=MARY, access_type=IMPERSONATION, auth_type=NTLM,
                   version=Version(build=Build(*exchange.build)))
    with pytest.raises(ErrorImpersonateUserDenied) as e:
        acc2.inbox
    assert e.value.operation == "GetFolder"


# --------------------------------------------------------------------------------------------------------------
# Retry policy: FaultTolerance (ServiceAccount) vs FailFast (Credentials)
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture
def patient(exchange) -> Account:
    """John's inbox through a ServiceAccount (FaultTolerance), version and auth already known."""
    acc = account(exchange, service_account(exchange), auth_type=NTLM, version=Version(build=Build(*exchange.build)))
    acc.inbox  # noqa: B018 - fetch and cache the folder before faults are armed
    exchange.reset_stats()
    return acc


@pytest.fixture
def quick_retry(exchange) -> Account:
    """FaultTolerance with a tiny exponential base, for faults that carry no wait hint."""
    acc = account(exchange, exchange.credentials(JOHN), auth_type=NTLM, version=Version(build=Build(*exchange.build)),
                  retry_policy=FaultTolerance(max_wait=5, base=0.02, cap=0.1))
    acc.inbox  # noqa: B018
    exchange.reset_stats()
    return acc


@pytest.mark.parametrize("as_fault", [True, False], ids=["soap-fault", "response-message"])
def test_server_busy_back_off_is_honoured(exchange, patient, as_fault):
    exchange.inject(ServerBusy(back_off_ms=150, as_fault=as_fault), count=2, operations="GetFolder")
    t0 = time.monotonic()
    patient.inbox.refresh()
    elapsed = time.monotonic() - t0
    assert elapsed >= 0.3  # two waits of BackOffMilliseconds
    assert elapsed < 3
    assert [r.status for r in exchange.request_log] == ([500, 500, 200] if as_fault else [200, 200, 200])
    assert exchange.request_count("GetFolder") == 3


def test_http_503_with_retry_after_is_retried_after_the_wait(exchange, patient):
    exchange.inject(HTTPStatus(503, retry_after=1), count=1, operations="GetFolder")
    t0 = time.monotonic()
    patient.inbox.refresh()
    assert time.monotonic() - t0 >= 1.0
    assert [r.status for r in exchange.request_log] == [503, 200]


def test_retry_after_as_http_date_is_understood(exchange):
    # Without understanding the date, back-off would start at 5-10 s and pass max_wait at once.
    acc = account(exchange, exchange.credentials(JOHN), auth_type=NTLM, version=Version(build=Build(*exchange.build)),
                  retry_policy=FaultTolerance(max_wait=3, base=10))
    inbox = acc.inbox
    exchange.reset_stats()
    exchange.inject(HTTPStatus(503, retry_after=formatdate(time.time() + 2, usegmt=True)), operations="GetFolder")
    t0 = time.monotonic()
    inbox.refresh()
    assert 0.5 <= time.monotonic() - t0 < 2.5  # the date has whole seconds: 1-2 s from now
    assert [r.status for r in exchange.request_log] == [503, 200]


def test_http_500_with_server_busy_body_is_retried(exchange, patient):
    exchange.inject(HTTPStatus(500, server_busy=True, back_off_ms=100), count=1, operations="GetFolder")
    t0 = time.monotonic()
    patient.inbox.refresh()
    assert time.monotonic() - t0 >= 0.1
    assert [r.status for r in exchange.request_log] == [500, 200]


@pytest.mark.parametrize("fault", [
    ConnectionReset(mid_response=True), ConnectionReset(mid_response=False),
    TruncatedResponse(declare_full_length=True), TruncatedResponse(declare_full_length=False),
], ids=repr)
def test_dropped_and_truncated_responses_are_retried(exchange, quick_retry, fault):
    exchange.inject(fault, count=2, operations="GetFolder")
    folder = quick_retry.inbox.refresh()
    assert folder.name == "Inbox"
    assert exchange.request_count("GetFolder") == 3


def test_give_up_raises_rate_limit_error_when_max_wait_is_exceeded(exchange):
    acc = account(exchange, service_account(exchange, max_wait=0.5), auth_type=NTLM,
                  version=Version(build=Build(*exchange.build)))
    inbox = acc.inbox
    exchange.reset_stats()
    exchange.inject(ServerBusy(back_off_ms=200), count=None, operations="GetFolder")
    t0 = time.monotonic()
    with pytest.raises(RateLimitError) as e:
        inbox.refresh()
    elapsed = time.monotonic() - t0
    assert 0.4 <= elapsed < 3  # waited 2 x 200 ms; a third wait would pass max_wait
    assert exchange.request_count("GetFolder") == 3
    assert e.value.max_wait == 0.5 and e.value.wait == pytest.approx(0.2)
    assert "max_wait" in str(e.value)
    assert isinstance(e.value.__cause__, ErrorServerBusy)


def test_give_up_at_once_when_the_server_asks_for_more_than_max_wait(exchange):
    acc = account(exchange, service_account(exchange, max_wait=1), auth_type=NTLM,
                  version=Version(build=Build(*exchange.build)))
    inbox = acc.inbox
    exchange.reset_stats()
    exchange.inject(HTTPStatus(503, retry_after=30), count=None, operations="GetFolder")
    t0 = time.monotonic()
    with pytest.raises(RateLimitError) as e:
        inbox.refresh()
    assert time.monotonic() - t0 < 1
    assert e.value.wait == 30
    assert exchange.request_count("GetFolder") == 1


def test_plain_credentials_fail_fast_with_the_back_off_hint(exchange):
    acc = exchange.account(JOHN)  # plain Credentials -> FailFast
    inbox = acc.inbox
    exchange.reset_stats()
    exchange.inject(ServerBusy(back_off_ms=1500), count=1, operations="GetFolder")
    t0 = time.monotonic()
    with pytest.raises(ErrorServerBusy) as e:
        inbox.refresh()
    assert time.monotonic() - t0 < 1
    assert e.value.back_off == 1.5
    assert e.value.operation == "GetFolder"
    assert exchange.request_count("GetFolder") == 1
    assert inbox.refresh().name == "Inbox"  # nothing is broken afterwards


def test_plain_credentials_fail_fast_on_503(exchange):
    inbox = exchange.account(JOHN).inbox
    exchange.inject(HTTPStatus(503, retry_after=5), count=1, operations="GetFolder")
    with pytest.raises(TransportError) as e:
        inbox.refresh()
    assert "503" in str(e.value)


# --------------------------------------------------------------------------------------------------------------
# Hardened parsing: a hostile server
# --------------------------------------------------------------------------------------------------------------

_ENVELOPE = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
             b'<s:Body><x>&%s;</x></s:Body></s:Envelope>')
BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
                  + b"".join(b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%s;" % (str(i - 1).encode() if i > 1 else b""))
                                                           * 10) for i in range(1, 10))
                  + b"]>\n" + _ENVELOPE % b"lol9")
EXTERNAL_ENTITY = (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
                   + _ENVELOPE % b"xxe")
PARAMETER_ENTITY = (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">'
                    b' %remote;]>\n' + _ENVELOPE % b"lol")


HostileServer = one_answer  # answers every POST with the same payload


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY],
                         ids=["billion-laughs", "external-entity", "parameter-entity"])
@pytest.mark.parametrize("status", [200, 500])
def test_entity_payload_from_the_server_is_rejected_not_expanded(payload, status):
    rss_before = _max_rss_mb()
    with HostileServer(payload, status=status) as hostile:
        # A patient retry policy: a hostile payload must still fail at once, not be retried
        cfg = Configuration(service_endpoint=hostile.url, credentials=Credentials("EXAMPLE\\john", "pw-1"),
                            auth_type=BASIC, version=Version(build=Build(15, 1, 2507, 6)),
                            retry_policy=FaultTolerance(max_wait=30))
        acc = Account(JOHN, config=cfg)
        t0 = time.monotonic()
        with pytest.raises(MalformedResponseError) as e:
            acc.inbox
        assert time.monotonic() - t0 < 2
        assert hostile.hits == 1
    assert "DOCTYPE" in str(e.value)
    assert "lollol" not in str(e.value)
    assert _max_rss_mb() - rss_before < 50  # a billion "lol"s would be gigabytes


def test_entity_payload_during_version_detection_is_rejected():
    with HostileServer(BILLION_LAUGHS) as hostile:
        cfg = Configuration(service_endpoint=hostile.url, credentials=Credentials("EXAMPLE\\john", "pw-1"),
                            auth_type=BASIC)
        with pytest.raises(MalformedResponseError):
            Account(JOHN, config=cfg).version
        assert hostile.hits == 1


def test_parse_refuses_entity_declarations():
    for payload in (BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY):
        with pytest.raises(ForbiddenDTDError):
            parse(payload)


def test_parse_refuses_a_doctype_hidden_behind_a_long_prolog():
    padding = b"<!--" + b"x" * 10000 + b"-->\n"
    with pytest.raises(ForbiddenDTDError):
        parse(b'<?xml version="1.0"?>\n' + padding + EXTERNAL_ENTITY.split(b"\n", 1)[1])


def test_parse_refuses_undeclared_entities_and_deep_nesting():
    with pytest.raises(ParseError):
        parse(_ENVELOPE % b"lol9")
    with pytest.raises(ParseError):
        parse(b"<a>" * 5000 + b"</a>" * 5000)
    with pytest.raises(TypeError):
        parse("<a/>")  # type: ignore[arg-type]


def test_parse_keeps_escaped_markup_as_text():
    root = parse(b"<a>&lt;!DOCTYPE x&gt; &amp;lol;</a>")
    assert root.text == "<!DOCTYPE x> &lol;"


# --------------------------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture
def tls_server(make_exchange, monkeypatch) -> LocalExchange:
    # requests lets $REQUESTS_CA_BUNDLE replace a session's verify setting; the client must not let it
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.utils.DEFAULT_CA_BUNDLE_PATH)
    return make_exchange(tls=True)


def test_tls_with_the_servers_ca_works(tls_server):
    assert tls_server.url.startswith("https://")
    acc = tls_server.account(JOHN)
    assert acc.inbox.name == "Inbox"
    detected = account(tls_server, tls_server.credentials(MARY), address=JOHN)  # auth detection over TLS too
    assert detected.protocol.auth_type == NTLM
    assert detected.inbox.name == "Inbox"
    bearer = tls_server.account(JOHN, auth_type="bearer")  # token endpoint over TLS
    assert bearer.inbox.name == "Inbox"


def test_tls_without_the_ca_fails_clearly_and_is_not_retried(tls_server):
    creds = service_account(tls_server, max_wait=60)
    for auth_type in (None, NTLM):  # with and without auth detection
        acc = Account(JOHN, config=Configuration(service_endpoint=tls_server.url, credentials=creds,
                                                 auth_type=auth_type))
        t0 = time.monotonic()
        with pytest.raises(TransportError) as e:
            acc.inbox
        assert time.monotonic() - t0 < 2
        assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)
        assert "verify=" in str(e.value)
    assert tls_server.request_log == []


def test_no_verify_adapter_skips_verification(tls_server):
    BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
    acc = Account(JOHN, config=Configuration(service_endpoint=tls_server.url,
                                             credentials=tls_server.credentials(JOHN), auth_type=NTLM))
    with pytest.warns(InsecureRequestWarning):  # the user is told that nothing was verified
        assert acc.inbox.name == "Inbox"


def test_ntlm_with_channel_binding_over_tls(make_exchange):
    server = make_exchange(tls=True, extended_protection=True)
    acc = account(server, server.credentials(JOHN), auth_type=NTLM)
    assert acc.inbox.name == "Inbox"


# --------------------------------------------------------------------------------------------------------------
# One protocol, many threads
# --------------------------------------------------------------------------------------------------------------

def test_protocol_is_shared_and_thread_safe(exchange):
    a1 = account(exchange, exchange.credentials(JOHN), auth_type=NTLM, max_connections=3)
    a2 = account(exchange, exchange.credentials(JOHN), auth_type=NTLM, max_connections=3)
    assert a1.protocol is a2.protocol
    inbox = a1.inbox
    errors: List[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                assert inbox.refresh().name == "Inbox"
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert exchange.request_count("GetFolder") >= 80
    assert exchange.max_concurrency_seen <= 3
    assert a1.protocol._sessions_created <= 3


def test_closed_protocol_refuses_requests_and_a_new_one_is_made(exchange):
    cfg = config(exchange, exchange.credentials(JOHN), auth_type=NTLM)
    acc = Account(JOHN, config=cfg)
    assert acc.inbox.name == "Inbox"
    with acc.protocol:
        pass  # the context manager closes it
    with pytest.raises(TransportError, match="closed"):
        acc.inbox.refresh()
    fresh = Account(JOHN, config=cfg)
    assert fresh.protocol is not acc.protocol
    assert fresh.inbox.name == "Inbox"
