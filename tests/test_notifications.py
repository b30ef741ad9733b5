"""Notifications over HTTP against the local server: pull (Subscribe/GetEvents/Unsubscribe), streaming
(GetStreamingEvents, a real chunked response) and push (SendNotification to a loopback callback)."""
from __future__ import annotations

import threading
import time

import pytest

from exchangelib import CalendarItem, Folder, Mailbox, Message
from exchangelib.errors import (ErrorExpiredSubscription, ErrorInvalidPushSubscriptionUrl, ErrorInvalidWatermark,
                                ErrorMissedNotificationEvents, ErrorServerBusy,
                                ErrorSubscriptionDelegateAccessNotSupported, ErrorSubscriptionNotFound)
from exchangelib.ewsdatetime import UTC, EWSDateTime
from exchangelib.properties import (CopiedEvent, CreatedEvent, DeletedEvent, FreeBusyChangedEvent, ModifiedEvent,
                                    MovedEvent, NewMailEvent, StatusEvent)
from exchangelib.push import PushListener
from exchangelib.services import SendNotification
from exchangelib.retry import FaultTolerance
from exchangelib.testing import DroppedStream, ServerBusy
from exchangelib.testing.schema import load_schema, validate
from exchangelib.xml import parse


@pytest.fixture
def hub(exchange):
    """The server's notification hub, with its timing knobs restored after the test."""
    h = exchange.notifications
    saved = (h.minute, h.heartbeat, h.push_retry, h.log_size)
    yield h
    h.minute, h.heartbeat, h.push_retry, h.log_size = saved


@pytest.fixture
def john(exchange):
    return exchange.account("john@example.com")


@pytest.fixture
def mary(exchange):
    return exchange.account("mary@example.com")


def _send(sender, to, subject):
    Message(account=sender, subject=subject, to_recipients=[Mailbox(email_address=to)]).send()


def _events(notifications):
    return [e for n in notifications for e in n.events]


def test_pull_subscription_sees_new_mail_from_another_user(john, mary):
    with john.inbox.pull_subscription(event_types=["NewMailEvent"], timeout=5) as (sid, watermark):
        (first,) = john.inbox.get_events(sid, watermark)
        assert [type(e) for e in first.events] == [StatusEvent]  # nothing happened yet
        _send(mary, "john@example.com", "hello John")
        delivered = time.monotonic()
        events = _events(john.inbox.get_events(sid, watermark))
        assert time.monotonic() - delivered < 1.0
        assert [type(e) for e in events] == [NewMailEvent]
        (item,) = john.fetch([events[0].item_id])
        assert item.subject == "hello John"
        assert events[0].event_type == "item" and events[0].parent_folder_id.id == john.inbox.id
        # The same watermark reads the same events again (a lost response loses nothing) ...
        assert [e.watermark for e in _events(john.inbox.get_events(sid, watermark))] == [events[0].watermark]
        # ... and the newest one reads only what came after
        assert [type(e) for e in _events(john.inbox.get_events(sid, events[-1].watermark))] == [StatusEvent]
    with pytest.raises(ErrorSubscriptionNotFound):
        list(john.inbox.get_events(sid, watermark))  # unsubscribed on leaving the block


def test_pull_event_kinds_and_more_events(john):
    folder = Folder(parent=john.inbox, name="pull-kinds").save()
    try:
        sid, wm = folder.subscribe_to_pull()
        a, b = john.bulk_create(folder=folder, items=[Message(subject="a"), Message(subject="b")])
        a.subject = "a2"
        a.save(update_fields=["subject"])
        old_b = b.id
        john.bulk_copy([a], john.drafts)
        john.bulk_move([b], john.drafts)
        john.bulk_delete([a])
        events = _events(folder.get_events(sid, wm))
        kinds = [type(e) for e in events]
        assert kinds == [CreatedEvent, CreatedEvent, ModifiedEvent, CopiedEvent, MovedEvent, DeletedEvent]
        moved = events[4]
        assert moved.old_item_id.id == old_b and moved.old_parent_folder_id.id == folder.id
        assert moved.parent_folder_id.id == john.drafts.id
        # More than one GetEvents' worth: MoreEvents pages through them all
        wm = events[-1].watermark
        john.bulk_create(folder=folder, items=[Message(subject=f"m{i}") for i in range(60)])
        notifications = list(folder.get_events(sid, wm))
        assert len(notifications) == 2 and notifications[0].more_events and not notifications[1].more_events
        assert [type(e) for e in _events(notifications)] == [CreatedEvent] * 60
        folder.unsubscribe(sid)
    finally:
        folder.delete()


def test_free_busy_changed_on_calendar(john):
    with john.calendar.pull_subscription(event_types=["FreeBusyChangedEvent"]) as (sid, wm):
        start = EWSDateTime(2030, 1, 1, 9, tzinfo=UTC)
        CalendarItem(account=john, folder=john.calendar, subject="meeting", start=start,
                     end=start.replace(hour=10)).save()
        assert [type(e) for e in _events(john.calendar.get_events(sid, wm))] == [FreeBusyChangedEvent]


def test_pull_errors(exchange, hub, john, mary):
    sid, wm = john.inbox.subscribe_to_pull(timeout=1)
    with pytest.raises(ErrorInvalidWatermark):
        list(john.inbox.get_events(sid, wm[:-4] + "AAAA"))  # forged
    mary_sid, mary_wm = mary.inbox.subscribe_to_pull()
    with pytest.raises(ErrorInvalidWatermark):
        list(john.inbox.get_events(sid, mary_wm))  # another mailbox's
    with exchange.store.lock:
        future = hub.watermark(exchange.store.get_mailbox("john@example.com"), hub.seq + 1000)
    with pytest.raises(ErrorInvalidWatermark):
        list(john.inbox.get_events(sid, future))  # correctly signed, but from the future
    with pytest.raises(ErrorSubscriptionNotFound):
        list(john.inbox.get_events("bm90IGEgc3Vic2NyaXB0aW9u", wm))
    with pytest.raises(ValueError, match="event_types"):
        john.inbox.subscribe_to_pull(event_types=["NoSuchEvent"])
    with pytest.raises(ErrorSubscriptionDelegateAccessNotSupported):
        Folder(account=mary, id=john.inbox.id).subscribe_to_pull()
    # A pull subscription expires `timeout` minutes after the last GetEvents
    hub.minute = 0.05
    time.sleep(0.12)
    with pytest.raises(ErrorExpiredSubscription):
        list(john.inbox.get_events(sid, wm))
    mary.inbox.unsubscribe(mary_sid)
    # Events that fall out of the server's log before they were read: ErrorMissedNotificationEvents
    hub.minute, hub.log_size = 60.0, 3
    sid, wm = john.drafts.subscribe_to_pull()
    john.bulk_create(folder=john.drafts, items=[Message(subject=f"x{i}") for i in range(5)])
    with pytest.raises(ErrorMissedNotificationEvents):
        list(john.drafts.get_events(sid, wm))


def test_streaming_sees_new_mail_within_a_second(hub, john, mary):
    hub.heartbeat = 0.2
    with john.inbox.streaming_subscription(event_types=["NewMailEvent"]) as sid:
        sent_at = []

        def deliver_later():
            time.sleep(0.4)
            _send(mary, "john@example.com", "streamed")
            sent_at.append(time.monotonic())

        t = threading.Thread(target=deliver_later)
        t.start()
        got = next(iter(john.inbox.get_streaming_events(sid, connection_timeout=1, max_notifications_returned=1)))
        arrived = time.monotonic()
        t.join()
        assert [type(e) for e in got.events] == [NewMailEvent]
        assert arrived - sent_at[0] < 1.0
        assert next(iter(john.fetch([got.events[0].item_id]))).subject == "streamed"


def test_streaming_closes_after_connection_timeout_with_heartbeats(exchange, hub, john):
    hub.minute, hub.heartbeat = 0.6, 0.1  # a 'minute' of 0.6 s, heartbeats every 0.1 s
    with john.drafts.streaming_subscription() as sid:
        t0 = time.monotonic()
        assert list(john.drafts.get_streaming_events(sid, connection_timeout=1)) == []
        assert 0.5 < time.monotonic() - t0 < 3
    assert exchange.request_count("GetStreamingEvents") == 1
    with pytest.raises(ErrorSubscriptionNotFound):
        list(john.drafts.get_streaming_events(sid, connection_timeout=1))


def test_streaming_subscription_without_a_connection_expires(hub, john):
    hub.minute = 0.02  # 30 'minutes' without a connection: 0.6 s
    sid = john.drafts.subscribe_to_streaming()
    time.sleep(0.8)
    with pytest.raises(ErrorExpiredSubscription):
        list(john.drafts.get_streaming_events(sid, connection_timeout=1))


def test_streaming_reports_missed_events(hub, john):
    hub.log_size = 3
    with john.drafts.streaming_subscription(event_types=["CreatedEvent"]) as sid:
        john.bulk_create(folder=john.drafts, items=[Message(subject=f"lost {i}") for i in range(5)])
        with pytest.raises(ErrorMissedNotificationEvents):
            list(john.drafts.get_streaming_events(sid, connection_timeout=1))


def test_streaming_connection_dropped_mid_response_resumes_without_loss_or_duplicates(exchange, hub, john):
    hub.minute, hub.heartbeat = 3.0, 0.2
    folder = john.drafts
    with folder.streaming_subscription(event_types=["CreatedEvent"]) as sid:
        # The first connection delivers one notification, then dies half-way through the next one
        exchange.inject(DroppedStream(after=1), operations="GetStreamingEvents")
        john.bulk_create(folder=folder, items=[Message(subject="first")])

        def more_later():
            time.sleep(0.5)
            john.bulk_create(folder=folder, items=[Message(subject="second")])
            time.sleep(0.5)
            john.bulk_create(folder=folder, items=[Message(subject="third")])

        t = threading.Thread(target=more_later)
        t.start()
        stream = folder.get_streaming_events(sid, connection_timeout=1, max_notifications_returned=3)
        events = _events(stream)
        t.join()
        subjects = [i.subject for i in john.fetch([e.item_id for e in events])]
        assert subjects == ["first", "second", "third"]
        assert exchange.request_count("GetStreamingEvents") == 2  # one reconnection


def test_push_subscription_callback_receives_events(exchange, hub, john, mary):
    hub.minute = 0.3  # status notifications every 0.3 s
    with PushListener() as listener:
        sid, wm = john.inbox.subscribe_to_push(listener.url, event_types=["NewMailEvent"], status_frequency=1)
        _send(mary, "john@example.com", "pushed")
        n = listener.wait_for(lambda n: any(isinstance(e, NewMailEvent) for e in n.events), timeout=5)
        assert n is not None and n.subscription_id == sid
        assert next(iter(john.fetch([n.events[0].item_id]))).subject == "pushed"
        # With nothing happening, status notifications keep coming
        assert listener.wait_for(lambda n: isinstance(n.events[0], StatusEvent), timeout=5) is not None
        # Answering Unsubscribe ends the subscription
        listener.unsubscribe = True
        listener.wait_for(lambda n: True, timeout=5)
        deadline = time.monotonic() + 5
        while sid in hub.subscriptions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sid not in hub.subscriptions
        assert (sid, 200, "Unsubscribe") in hub.push_log


def test_push_retries_then_gives_up_on_a_dead_callback(exchange, hub, john):
    hub.minute, hub.push_retry = 0.2, 0.05
    with PushListener() as listener:
        url = listener.url
    sid, _ = john.inbox.subscribe_to_push(url)  # nobody listens there any more
    deadline = time.monotonic() + 5
    while sid in hub.subscriptions and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sid not in hub.subscriptions
    assert len([r for r in hub.push_log if r[0] == sid]) == 4  # attempts, with back-off in between


def test_push_url_must_be_loopback(john):
    with pytest.raises(ErrorInvalidPushSubscriptionUrl):
        john.inbox.subscribe_to_push("http://192.0.2.1/callback")
    with pytest.raises(ValueError, match="callback_url"):
        john.inbox.subscribe_to_push("ftp://127.0.0.1/x")


def test_send_notification_parser_and_answers_are_schema_valid(exchange):
    schema = load_schema(exchange.schema_dir)
    ws = SendNotification(protocol=None)
    for payload, status in ((ws.ok_payload(), "OK"), (ws.unsubscribe_payload(), "Unsubscribe")):
        body = parse(payload)[0][0]
        ok, err = validate(body, schema)
        assert ok, err
        assert body[0].text == status
    with pytest.raises(ValueError):
        ws.get_payload("Maybe")
    with pytest.raises(Exception, match="SendNotification"):
        list(ws.parse(b"<a/>"))


def test_streaming_needs_exchange_2010_sp1(make_exchange):
    server = make_exchange(version="2010")
    account = server.account("john@example.com")
    with pytest.raises(NotImplementedError, match="GetStreamingEvents|Subscribe"):
        account.inbox.subscribe_to_streaming()
    sid, wm = account.inbox.subscribe_to_pull()  # pull subscriptions work on every version
    assert [type(e) for n in account.inbox.get_events(sid, wm) for e in n.events] == [StatusEvent]


def test_a_new_pull_subscription_resumes_from_an_old_watermark(john):
    sid, wm = john.drafts.subscribe_to_pull(event_types=["CreatedEvent"])
    john.drafts.unsubscribe(sid)
    john.bulk_create(folder=john.drafts, items=[Message(subject="while nobody listened")])
    sid2, wm2 = john.drafts.subscribe_to_pull(event_types=["CreatedEvent"], watermark=wm)
    assert wm2 == wm
    events = _events(john.drafts.get_events(sid2, wm2))
    assert [type(e) for e in events] == [CreatedEvent]
    john.drafts.unsubscribe(sid2)


def test_push_deliveries_continue_after_a_server_restart(make_exchange):
    server = make_exchange()
    account = server.account("john@example.com")
    with PushListener() as listener:
        account.drafts.subscribe_to_push(listener.url, event_types=["CreatedEvent"])
        server.stop()
        server.start()
        account = server.account("john@example.com")
        account.bulk_create(folder=account.drafts, items=[Message(subject="after restart")])
        assert listener.wait_for(lambda n: isinstance(n.events[0], CreatedEvent), timeout=5) is not None



def test_streaming_fetches_a_new_oauth_token_when_the_old_one_expired(exchange):
    account = exchange.account("john@example.com", auth_type="bearer")
    with account.drafts.streaming_subscription(event_types=["CreatedEvent"]) as sid:
        account.bulk_create(folder=account.drafts, items=[Message(subject="token")])
        before = exchange.token_requests
        exchange.expire_tokens()
        got = list(account.drafts.get_streaming_events(sid, connection_timeout=1, max_notifications_returned=1))
        assert [type(e) for n in got for e in n.events] == [CreatedEvent]
        assert exchange.token_requests >= before + 1


def test_a_retrying_policy_waits_out_throttling_of_the_streaming_connection(exchange, hub, john, monkeypatch):
    hub.heartbeat = 0.2
    monkeypatch.setattr(john.protocol, "retry_policy", FaultTolerance(max_wait=10))
    with john.drafts.streaming_subscription(event_types=["CreatedEvent"]) as sid:
        john.bulk_create(folder=john.drafts, items=[Message(subject="after the pause")])
        exchange.inject(ServerBusy(back_off_ms=200), operations="GetStreamingEvents")
        t0 = time.monotonic()
        got = list(john.drafts.get_streaming_events(sid, connection_timeout=1, max_notifications_returned=1))
        assert [type(e) for n in got for e in n.events] == [CreatedEvent]
        assert time.monotonic() - t0 >= 0.2
        assert exchange.request_count("GetStreamingEvents") == 2
    monkeypatch.undo()
    exchange.inject(ServerBusy(back_off_ms=200), operations="GetStreamingEvents")
    sid = john.drafts.subscribe_to_streaming()
    with pytest.raises(ErrorServerBusy):  # plain Credentials fail fast
        list(john.drafts.get_streaming_events(sid, connection_timeout=1))
    john.drafts.unsubscribe(sid)
