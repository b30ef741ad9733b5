"""Subscribe, Unsubscribe, GetEvents and GetStreamingEvents (the subscriptions themselves live in
:mod:`exchangelib.testing.notifications`).

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/subscribe-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/unsubscribe-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getevents-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getstreamingevents-operation
"""
from __future__ import annotations

import time
from typing import Callable, Iterator, List, Optional, Tuple

from lxml import etree

from ..context import RequestContext, ResponseCodeError, StreamingResponse
from ..notifications import PULL, PUSH, STREAMING, NotificationHub, StreamPart, Subscription, hub_for
from .common import (add_result, bool_attr, child, children, err, error_message, handler, local, m_el, new_response,
                     resolve_folder, success_message, t_el)


def _text(name: str, text: str) -> etree._Element:
    el = m_el(name)
    el.text = text
    return el


def _str(elem: Optional[etree._Element]) -> str:
    return (elem.text or "").strip() if elem is not None else ""


def _int(elem: Optional[etree._Element], default: int) -> int:
    if elem is None or not (elem.text or "").strip():
        return default
    return int((elem.text or "").strip())


@handler("Subscribe")
def subscribe(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/subscribe-operation"""
    hub = hub_for(ctx.store)
    request = children(body)[0]
    kind = {"PullSubscriptionRequest": PULL, "PushSubscriptionRequest": PUSH,
            "StreamingSubscriptionRequest": STREAMING}[local(request)]
    root, msgs = new_response("Subscribe")

    def one() -> List[etree._Element]:
        folders = None
        if not bool_attr(request, "SubscribeToAllFolders"):
            folders = [resolve_folder(ctx, f) for f in children(child(request, "FolderIds"))]
            if not folders:
                raise err("ErrorInvalidSubscriptionRequest", "Name the folders to subscribe to, or set "
                                                             "SubscribeToAllFolders.")
            for f in folders:
                if f.mailbox is not ctx.mailbox:
                    raise err("ErrorSubscriptionDelegateAccessNotSupported",
                              "Subscriptions are not supported for delegate user access.")
        event_types = frozenset((e.text or "").strip() for e in children(child(request, "EventTypes")))
        sub = hub.subscribe(kind, ctx.mailbox, ctx.caller, event_types, folders,
                            watermark=_str(child(request, "Watermark")) or None,
                            timeout=_int(child(request, "Timeout"), 30),
                            status_frequency=_int(child(request, "StatusFrequency"), 30),
                            url=_str(child(request, "URL")), caller_data=_str(child(request, "CallerData")) or None)
        out = [_text("SubscriptionId", sub.id)]
        if kind != STREAMING:
            out.append(_text("Watermark", hub.watermark(sub.mailbox, sub.cursor)))
        return out

    add_result(msgs, "SubscribeResponseMessage", one)
    return root


@handler("Unsubscribe")
def unsubscribe(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/unsubscribe-operation"""
    hub = hub_for(ctx.store)
    root, msgs = new_response("Unsubscribe")

    def one() -> List[etree._Element]:
        sub = hub.get(_str(child(body, "SubscriptionId")), ctx.caller)
        if sub.kind == PUSH:
            raise err("ErrorInvalidSubscription", "A push subscription ends when its client answers Unsubscribe.")
        hub.end(sub)
        return []

    add_result(msgs, "UnsubscribeResponseMessage", one)
    return root


@handler("GetEvents")
def get_events(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getevents-operation"""
    hub = hub_for(ctx.store)
    root, msgs = new_response("GetEvents")

    def one() -> List[etree._Element]:
        sub = hub.get(_str(child(body, "SubscriptionId")), ctx.caller, PULL)
        after = hub.parse_watermark(sub.mailbox, _str(child(body, "Watermark")))
        sub.last_used = time.monotonic()
        events, more = hub.pending(sub, after)
        if events:
            sub.cursor = max(sub.cursor, events[-1].seq)
        return [hub.notification(sub, after, events, more)]

    add_result(msgs, "GetEventsResponseMessage", one)
    return root


def _streaming_part(hub: NotificationHub, part: StreamPart) -> etree._Element:
    root, msgs = new_response("GetStreamingEvents")
    name = "GetStreamingEventsResponseMessage"
    if part.error is not None:
        msg = error_message(msgs, name, part.error)
        msg.append(m_el("ErrorSubscriptionIds", [t_el("SubscriptionId", i) for i in part.subscription_ids]))
    else:
        msg = success_message(msgs, name, [part.notifications] if part.notifications is not None else [])
    msg.append(_text("ConnectionStatus", part.status))
    return root


@handler("GetStreamingEvents")  # type: ignore[arg-type]  # answers with a StreamingResponse
def get_streaming_events(ctx: RequestContext, body: etree._Element) -> object:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getstreamingevents-operation"""
    hub = hub_for(ctx.store)
    ids = [(e.text or "").strip() for e in children(child(body, "SubscriptionIds"))]
    minutes = _int(child(body, "ConnectionTimeout"), 30)
    subs: List[Subscription] = []
    bad: List[str] = []
    error: Optional[ResponseCodeError] = None
    for sid in ids:
        try:
            subs.append(hub.get(sid, ctx.caller, STREAMING))
        except ResponseCodeError as e:
            bad.append(sid)
            error = error or e
    if error is not None:
        root = _streaming_part(hub, StreamPart(status="Closed", error=error, subscription_ids=tuple(bad)))
        return root

    def parts() -> Iterator[Tuple[etree._Element, Optional[Callable[[], None]]]]:
        for part in hub.stream(subs, minutes):
            yield _streaming_part(hub, part), part.commit

    return StreamingResponse(parts())
