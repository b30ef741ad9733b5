"""Injected faults, throttling, latency and concurrency, as a client sees them over HTTP."""
from __future__ import annotations

import threading
import time

import pytest
import requests
from lxml import etree

from exchangelib.testing.faults import ConnectionReset, HTTPStatus, Latency, ServerBusy, TruncatedResponse
from exchangelib.testing.server import EWSServer
from exchangelib.testing.users import default_users
from exchangelib.xml import MNS, TNS

from .conftest import RSV_2016, get_folder_response, soap
from .test_server_soap import fault_of

AUTH = ("john", "Exchange-john-1")


def call(server, auth=AUTH, data=None, session=None):
    return (session or requests).post(server.url, data=data or soap(), auth=auth, timeout=10)


def test_server_busy_is_a_soap_fault_with_back_off(ews_server, fake_ops):
    ews_server.inject(ServerBusy(back_off_ms=2500))
    faultcode, code, message, mx = fault_of(call(ews_server))
    assert (faultcode, code) == ("a:ErrorServerBusy", "ErrorServerBusy")
    assert message == "The server cannot service this request right now. Try again later."
    assert mx == {"BackOffMilliseconds": "2500"}
    assert not fake_ops.calls
    # count=1: the next request goes through.
    assert call(ews_server).status_code == 200
    assert [r.status for r in ews_server.request_log if r.user] == [500, 200]
    assert ews_server.request_log[-2].response_code == "ErrorServerBusy"


def test_server_busy_in_the_response_message(ews_server, fake_ops):
    ews_server.inject(ServerBusy(back_off_ms=100, as_fault=False))
    r = call(ews_server)
    assert r.status_code == 200
    msg = etree.fromstring(r.content).find(f".//{{{MNS}}}GetFolderResponseMessage")
    assert msg.get("ResponseClass") == "Error"
    assert msg.findtext(f"{{{MNS}}}ResponseCode") == "ErrorServerBusy"
    value = msg.find(f"{{{MNS}}}MessageXml/{{{TNS}}}Value")
    assert (value.get("Name"), value.text) == ("BackOffMilliseconds", "100")
    assert ews_server.response_schema_errors == []  # still a valid GetFolderResponse


def test_http_503_with_retry_after(ews_server, fake_ops):
    ews_server.inject(HTTPStatus(503, retry_after=7), count=2)
    for _ in range(2):
        r = call(ews_server)
        assert r.status_code == 503 and r.headers["Retry-After"] == "7"
    assert call(ews_server).status_code == 200
    assert len(fake_ops.calls) == 1


def test_http_500_with_and_without_server_busy_body(ews_server, fake_ops):
    ews_server.inject(HTTPStatus(500))
    r = call(ews_server)
    assert r.status_code == 500 and r.headers["Content-Type"] == "text/html" and b"Fault" not in r.content
    ews_server.inject(HTTPStatus(500, server_busy=True, back_off_ms=42))
    _, code, _, mx = fault_of(call(ews_server))
    assert code == "ErrorServerBusy" and mx["BackOffMilliseconds"] == "42"
    assert not fake_ops.calls


@pytest.mark.parametrize("mid_response", [True, False])
def test_connection_reset(ews_server, fake_ops, mid_response):
    ews_server.inject(ConnectionReset(mid_response=mid_response))
    with pytest.raises(requests.exceptions.ConnectionError):
        call(ews_server)
    assert not fake_ops.calls
    assert ews_server.request_log[-1].status == 0
    assert call(ews_server).status_code == 200


def test_truncated_response_with_full_content_length(ews_server, fake_ops):
    ews_server.inject(TruncatedResponse())
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        call(ews_server)
    assert len(fake_ops.calls) == 1  # the operation ran; the network failed afterwards


def test_truncated_response_with_matching_content_length(ews_server, fake_ops):
    ews_server.inject(TruncatedResponse(declare_full_length=False))
    r = call(ews_server)
    assert r.status_code == 200
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(r.content)


def test_faults_limited_to_operations_and_users(ews_server, fake_ops):
    fake_ops.register("ResolveNames", lambda ctx, elem: get_folder_response(ctx, elem))
    inj = ews_server.inject(HTTPStatus(503), count=None, operations="ResolveNames", users=["mary@example.com"])
    resolve = soap('<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>x</m:UnresolvedEntry>'
                   '</m:ResolveNames>')
    assert call(ews_server).status_code == 200
    assert call(ews_server, data=resolve).status_code == 200  # john: not targeted
    mary = ("mary", "Exchange-mary-1")
    assert call(ews_server, auth=mary, data=resolve).status_code == 503
    assert call(ews_server, auth=mary, data=resolve).status_code == 503
    assert inj.hits == 2
    inj.cancel()
    ews_server.response_schema_errors.clear()  # the stand-in ResolveNames handler answers a GetFolderResponse
    assert call(ews_server, auth=mary, data=resolve).status_code == 200
    ews_server.response_schema_errors.clear()


def test_injection_as_context_manager(ews_server, fake_ops):
    with ews_server.inject(HTTPStatus(502), count=None):
        assert call(ews_server).status_code == 502
        assert call(ews_server).status_code == 502
    assert call(ews_server).status_code == 200


def test_inject_validates_arguments(ews_server):
    with pytest.raises(TypeError, match="ServerBusy"):
        ews_server.inject("busy")
    with pytest.raises(ValueError, match="count"):
        ews_server.inject(ServerBusy(), count=0)
    with pytest.raises(ValueError, match="back_off_ms"):
        ServerBusy(back_off_ms=-1)
    with pytest.raises(ValueError, match="status"):
        HTTPStatus(99)


def test_latency_injection_and_global_latency(ews_server, fake_ops):
    with requests.Session() as s:
        call(ews_server, session=s)  # warm up the connection
        ews_server.inject(Latency(150))
        t0 = time.monotonic()
        assert call(ews_server, session=s).status_code == 200
        assert time.monotonic() - t0 >= 0.15
        t0 = time.monotonic()
        call(ews_server, session=s)
        assert time.monotonic() - t0 < 0.15
        ews_server.latency_ms = 100
        t0 = time.monotonic()
        call(ews_server, session=s)
        assert time.monotonic() - t0 >= 0.1


def run_concurrently(n, fn):
    results = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # surfaced by the assertions below
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_twenty_concurrent_clients(ews_server, fake_ops):
    ews_server.latency_ms = 50
    logins = [("john", "Exchange-john-1"), ("mary", "Exchange-mary-1"), ("ewsadmin", "Exchange-admin-1")]
    results = run_concurrently(20, lambda i: call(ews_server, auth=logins[i % 3]).status_code)
    assert results == [200] * 20
    assert ews_server.request_count("GetFolder") == 20
    assert ews_server.max_concurrency_seen > 1
    assert {c.caller for c in fake_ops.calls} == {"john@example.com", "mary@example.com", "ewsadmin@example.com"}


@pytest.mark.parametrize("mode", ["fault", "503"])
def test_concurrency_limit_per_mailbox_is_throttled(fake_ops, mode):
    with EWSServer(default_users(), max_concurrency=2, concurrency_response=mode, latency_ms=300) as server:
        mary = ("mary", "Exchange-mary-1")
        results = run_concurrently(7, lambda i: call(server, auth=mary if i == 0 else AUTH))
        # Mary has her own budget: john's burst does not throttle her.
        assert results[0].status_code == 200
        johns = results[1:]
        assert sum(r.status_code == 200 for r in johns) >= 2
        throttled = [r for r in johns if r.status_code != 200]
        assert throttled
        if mode == "fault":
            _, code, message, mx = fault_of(throttled[0])
            assert code == "ErrorServerBusy" and "concurrent connections" in message
            assert mx["Policy"] == "MaxConcurrency" and mx["MaxConcurrencyLimit"] == "2"
            assert int(mx["BackOffMilliseconds"]) > 0
        else:
            assert {r.status_code for r in throttled} == {503}
            assert throttled[0].headers["Retry-After"]
        assert server.max_concurrency_seen == 3  # two of john's + mary's


def test_concurrency_limit_per_caller_spans_the_mailboxes_it_impersonates(fake_ops):
    """An app (here: the impersonating service account) has one budget for all mailboxes it opens."""
    with EWSServer(default_users(), max_app_concurrency=2, latency_ms=300) as server:
        admin = ("ewsadmin", "Exchange-admin-1")
        targets = ["john@example.com", "mary@example.com", "room1@example.com", "john@example.com"]
        def imp(address):
            return soap(headers=RSV_2016 + f"<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>"
                                           f"{address}</t:PrimarySmtpAddress></t:ConnectingSID>"
                                           f"</t:ExchangeImpersonation>")
        results = run_concurrently(4, lambda i: call(server, auth=admin, data=imp(targets[i])))
        ok = [r for r in results if r.status_code == 200]
        assert len(ok) == 2
        assert {fault_of(r)[1] for r in results if r.status_code != 200} == {"ErrorServerBusy"}
        assert server.throttled_requests == 2
        assert server.peak_concurrency_by_caller == {"ewsadmin@example.com": 2}
        assert max(server.peak_concurrency_by_mailbox.values()) <= 2
        server.reset_stats()
        assert server.peak_concurrency_by_caller == {} and server.throttled_requests == 0
