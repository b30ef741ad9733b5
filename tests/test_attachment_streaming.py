"""Streamed attachment downloads (``attachment.fp``, ``attachment.save()``) have the protections of a normal
request: a server that stalls or trickles ends the download with DeadlineExceededError, an oversized stream
with ResponseTooLargeError, a cut connection with an error -- never with short content handed out as whole.
A legitimately big download, and a consumer slower than the deadline, still get the whole file.

Also the streaming notifications path (``Protocol.post_streaming``): one envelope is capped in size, and
one that is started but trickles in is abandoned after the deadline.

Over HTTP against LocalExchange with injected faults, or a hostile loopback server.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time

import pytest

from exchangelib import (BASIC, DELEGATE, NTLM, Account, Build, Configuration, Credentials, FailFast, FileAttachment,
                         Message, Version)
from exchangelib.errors import (DeadlineExceededError, MalformedResponseError, ResponseTooLargeError,
                                StreamInterrupted, TransportError)
from exchangelib.protocol import BaseProtocol
from exchangelib.testing import OversizedResponse, SlowResponse, TruncatedResponse
from exchangelib.xml import create_element
from tests.loopback_http import LoopbackHTTP

JOHN = "john@example.com"
MB = 1024 * 1024


@pytest.fixture
def acc(exchange):
    config = Configuration(service_endpoint=exchange.url, credentials=exchange.credentials(JOHN), auth_type=NTLM,
                           version=Version(build=Build(*exchange.build)), retry_policy=FailFast())
    account = Account(JOHN, config=config, access_type=DELEGATE)
    p = account.protocol
    yield account
    p.deadline, p.max_attachment_stream_size, p.min_stream_rate = (
        p.DEADLINE, p.MAX_ATTACHMENT_STREAM_SIZE, p.MIN_STREAM_RATE)


def _attachment(account, content: bytes, subject: str):
    item = Message(account=account, folder=account.drafts, subject=subject)
    item.attach(FileAttachment(name="data.bin", content=content))
    item.save()
    (fresh,) = account.fetch([item])
    (att,) = fresh.attachments
    return att


def _read_all(att, sink=None) -> bytes:
    out = bytearray()
    with att.fp as fp:
        for chunk in iter(lambda: fp.read(64 * 1024), b""):
            out += chunk
            if sink is not None:
                sink.append(len(out))
    return bytes(out)


def _left_files(path) -> list:
    return sorted(os.listdir(path))


# --- deadline -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault,fast", [
    (SlowResponse(bytes_per_second=20, headers_too=False), False),     # headers, then a trickle
    (SlowResponse(bytes_per_second=0.01, headers_too=False), False),   # headers, then nothing
    (SlowResponse(bytes_per_second=0.01, headers_too=False, fast_bytes=MB), True),  # stops half-way
], ids=["trickle", "stall-after-headers", "stall-half-way"])
def test_a_stalled_attachment_stream_ends_with_the_deadline_error(exchange, acc, tmp_path, fault, fast, caplog):
    content = os.urandom(2 * MB)
    att = _attachment(acc, content, "stalled stream")
    acc.protocol.deadline = 1.0
    exchange.reset_stats()
    exchange.inject(fault, operations="GetAttachment")
    got = []
    t0 = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="exchangelib"), pytest.raises(DeadlineExceededError) as e:
        _read_all(att, got)
    elapsed = time.monotonic() - t0
    assert elapsed < 10, elapsed
    if not fast:
        assert 0.9 <= elapsed, elapsed
    else:
        assert got and got[-1] < len(content)  # part of the file came, and then the error: never a short "whole"
    msg = str(e.value)
    assert "GetAttachment" in msg and "deadline" in msg and "stall" in msg
    assert e.value.deadline == 1.0
    assert exchange.request_count("GetAttachment") == 1  # a stream is not retried midway
    password = exchange.user(JOHN).password
    assert password not in msg and password not in caplog.text

    # save() fails the same way and leaves nothing behind
    exchange.inject(fault, operations="GetAttachment")
    with pytest.raises(DeadlineExceededError):
        att.save(tmp_path)
    assert _left_files(tmp_path) == []

    acc.protocol.deadline = acc.protocol.DEADLINE
    assert _read_all(att) == content  # the session pool still works


def test_a_trickle_above_the_stall_limit_ends_on_the_minimum_rate(exchange, acc):
    # One byte every 0.2 s: never a gap of 1 s, but far below min_stream_rate once the 1 s grace is spent
    att = _attachment(acc, os.urandom(64 * 1024), "trickle rate")
    acc.protocol.deadline = 1.0
    exchange.inject(SlowResponse(bytes_per_second=5, headers_too=False, fast_bytes=100), operations="GetAttachment")
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceededError) as e:
        _read_all(att)
    assert time.monotonic() - t0 < 10
    assert "min_stream_rate" in str(e.value) and "deadline" in str(e.value)


def test_a_slow_consumer_is_not_the_servers_stall(exchange, acc):
    """The deadline bounds the server, not the caller: time spent between reads does not count."""
    content = os.urandom(400 * 1024)
    att = _attachment(acc, content, "slow consumer")
    acc.protocol.deadline = 0.3
    out = bytearray()
    with att.fp as fp:
        for chunk in iter(lambda: fp.read(128 * 1024), b""):
            out += chunk
            time.sleep(0.5)  # longer than the deadline, after each read
    assert bytes(out) == content


def test_a_5_mb_attachment_streams_intact_under_a_short_deadline(exchange, acc, tmp_path):
    content = os.urandom(5 * MB)
    att = _attachment(acc, content, "five megabytes")
    acc.protocol.deadline = 1.0
    acc.protocol.max_attachment_stream_size = 8 * MB  # 5 MB of file is ~6.7 MB of base64: fits
    assert hashlib.sha256(_read_all(att)).digest() == hashlib.sha256(content).digest()
    path = att.save(tmp_path)
    with open(path, "rb") as f:
        assert f.read() == content


# --- size cap -------------------------------------------------------------------------------------------------

def test_an_attachment_stream_over_the_cap_is_refused(exchange, acc, tmp_path):
    content = os.urandom(3 * MB)
    att = _attachment(acc, content, "over the cap")
    acc.protocol.max_attachment_stream_size = 2 * MB
    exchange.reset_stats()
    with pytest.raises(ResponseTooLargeError) as e:
        _read_all(att)
    assert "max_attachment_stream_size" in str(e.value) and e.value.limit == 2 * MB
    with pytest.raises(ResponseTooLargeError):
        att.save(tmp_path)
    assert _left_files(tmp_path) == []
    assert exchange.request_count("GetAttachment") == 2  # once per try, never retried
    # max_response_size (buffered responses) does not limit streams, which are never held in memory
    acc.protocol.max_attachment_stream_size = acc.protocol.MAX_ATTACHMENT_STREAM_SIZE
    acc.protocol.max_response_size = 1 * MB
    try:
        assert _read_all(att) == content
    finally:
        acc.protocol.max_response_size = acc.protocol.MAX_RESPONSE_SIZE


@pytest.mark.parametrize("gzip,declare", [(False, True), (False, False), (True, False)],
                         ids=["content-length", "streamed", "gzip-bomb"])
def test_an_oversized_stream_from_the_server_is_refused(exchange, acc, gzip, declare):
    att = _attachment(acc, b"small", "oversized answer")
    acc.protocol.max_attachment_stream_size = 2 * MB
    exchange.inject(OversizedResponse(50 * MB, gzip=gzip, declare_length=declare), operations="GetAttachment")
    t0 = time.monotonic()
    with pytest.raises(ResponseTooLargeError) as e:
        _read_all(att)
    assert time.monotonic() - t0 < 10
    assert "max_attachment_stream_size" in str(e.value)


# --- a cut connection -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("declare_full_length", [True, False], ids=["connection-closed-early", "body-cut-short"])
def test_a_stream_cut_midway_raises_instead_of_returning_short_content(exchange, acc, tmp_path, declare_full_length):
    content = os.urandom(5 * MB)
    att = _attachment(acc, content, "cut stream")
    exchange.inject(TruncatedResponse(declare_full_length=declare_full_length), operations="GetAttachment")
    got = []
    with pytest.raises(TransportError) as e:
        _read_all(att, got)
    assert got and got[-1] < len(content)  # part of it came, then the error
    if not declare_full_length:
        assert isinstance(e.value, MalformedResponseError)
    exchange.inject(TruncatedResponse(declare_full_length=declare_full_length), operations="GetAttachment")
    with pytest.raises(TransportError):
        att.save(tmp_path)
    assert _left_files(tmp_path) == []
    assert _read_all(att) == content


# --- the defaults ---------------------------------------------------------------------------------------------

def test_defaults_pass_the_largest_exchange_online_attachment():
    # A 150 MB file is 200 MB of base64 on the wire
    assert BaseProtocol.MAX_ATTACHMENT_STREAM_SIZE > 150 * 1000 * 1000 * 4 // 3 + MB
    assert BaseProtocol.MIN_STREAM_RATE and BaseProtocol.MIN_STREAM_RATE <= 64 * 1024


# --- streaming notifications: Protocol.post_streaming ----------------------------------------------------------

def _ChunkedAnswer(chunks) -> LoopbackHTTP:  # noqa: N802
    """A loopback server answering a POST with a chunked 200 whose chunks come from ``chunks(stop)``."""

    def answer(handler, stop) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for piece in chunks(stop):
            handler.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")

    return LoopbackHTTP(answer)


_HEAD = (b'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
         b'<s:Body><m:GetStreamingEventsResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/'
         b'messages">')


def _protocol(url: str):
    cfg = Configuration(service_endpoint=url, credentials=Credentials("EXAMPLE\\john", "pw-secret-1"),
                        auth_type=BASIC, version=Version(build=Build(15, 1, 2507, 6)), retry_policy=FailFast())
    return Account(JOHN, config=cfg, autodiscover=False).protocol


def _post_streaming(protocol):
    return list(protocol.post_streaming(create_element("m:GetStreamingEvents"), operation="GetStreamingEvents"))


def test_one_endless_streamed_envelope_is_capped():
    def chunks(stop):
        yield _HEAD
        filler = b"<x>" + b"a" * 65536 + b"</x>"
        while not stop.is_set():
            yield filler

    with _ChunkedAnswer(chunks) as server:
        p = _protocol(server.url)
        p.max_response_size = 1 * MB
        try:
            t0 = time.monotonic()
            with pytest.raises(ResponseTooLargeError) as e:
                _post_streaming(p)
            assert time.monotonic() - t0 < 10
            assert "max_response_size" in str(e.value) and "pw-secret-1" not in str(e.value)
        finally:
            p.close()


def test_a_streamed_envelope_that_trickles_in_is_abandoned():
    def chunks(stop):
        yield _HEAD
        while not stop.wait(0.1):
            yield b" "  # never finishes the envelope, never silent long enough for the read timeout

    with _ChunkedAnswer(chunks) as server:
        p = _protocol(server.url)
        p.deadline = 1.0
        try:
            t0 = time.monotonic()
            with pytest.raises(StreamInterrupted) as e:
                _post_streaming(p)
            assert time.monotonic() - t0 < 10
            assert "deadline" in str(e.value)
        finally:
            p.close()


# --- StreamDeadline on its own -----------------------------------------------------------------------------------

def test_stream_deadline_bounds_stalls_and_rate_but_not_pauses():
    from exchangelib.httpio import StreamDeadline

    # Without a rate bound, steady progress keeps it alive past ``seconds``; silence ends it
    d = StreamDeadline(1.0, None)
    for _ in range(30):  # 1.5 s
        time.sleep(0.05)
        d.progress(1)
        assert not d.check()
    time.sleep(1.2)
    assert d.check() and d.cause == "stall"

    # With a rate bound, a trickle ends it after the grace, though no gap is a stall
    d = StreamDeadline(0.3, min_rate=1_000_000)
    t0 = time.monotonic()
    while not d.check():
        time.sleep(0.05)
        d.progress(1)
        assert time.monotonic() - t0 < 5
    assert d.cause == "rate" and 0.25 <= time.monotonic() - t0

    # Time between pause() and resume() is the caller's: it never counts
    d = StreamDeadline(0.2, min_rate=1_000_000)
    d.pause()
    time.sleep(0.4)
    assert not d.check()
    d.resume()
    assert not d.check()
    d.disarm()
