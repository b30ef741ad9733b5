"""Receive push notifications in a script: a tiny HTTP listener on a loopback address.

::

    from exchangelib.push import PushListener

    with PushListener() as listener:                       # http://127.0.0.1:<free port>/
        subscription_id, watermark = account.inbox.subscribe_to_push(listener.url)
        for notification in listener.notifications(timeout=60):
            for event in notification.events:
                print(type(event).__name__, event.item_id)
            if done:
                listener.unsubscribe = True    # the next callback is answered "Unsubscribe"

In a web application, use :class:`~exchangelib.services.SendNotification` in your view instead::

    ws = SendNotification(protocol=None)
    for notification in ws.parse(request.body):
        ...
    return HttpResponse(ws.ok_payload(), content_type="text/xml; charset=utf-8")

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/push-notifications-mailbox-events-and-ews-in-exchange
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Optional

from .errors import EWSError
from .properties.notifications import Notification
from .services.send_notification import SendNotification

log = logging.getLogger(__name__)

__all__ = ["PushListener"]

_MAX_BODY = 16 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s - %s", self.address_string(), format % args)

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        listener = self.server.listener
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= _MAX_BODY:
            self.send_error(400)
            return
        body = self.rfile.read(length)
        ws = SendNotification(protocol=None)
        try:
            notifications = list(ws.parse(body))
        except EWSError as e:
            log.warning("PushListener: unreadable notification: %s", e)
            self.send_error(400)
            return
        for n in notifications:
            listener.queue.put(n)
        answer = ws.unsubscribe_payload() if listener.unsubscribe else ws.ok_payload()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    listener: "PushListener"


class PushListener:
    """An HTTP listener for push notifications on ``host`` (a loopback address by default) and ``port``
    (0: a free one). Received notifications queue up; read them with :meth:`notifications` or :meth:`get`.
    Set :attr:`unsubscribe` to answer the next callbacks with ``Unsubscribe``, ending the subscription."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: str = "/"):
        self.host = host
        self.port = port
        self.path = path if path.startswith("/") else "/" + path
        self.queue: "queue.Queue[Notification]" = queue.Queue()
        self.unsubscribe = False
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        """The callback URL to pass to ``subscribe_to_push()``."""
        if self._server is None:
            raise RuntimeError("PushListener is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def start(self) -> "PushListener":
        self._server = _Server((self.host, self.port), _Handler)
        self._server.listener = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="PushListener", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "PushListener":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def get(self, timeout: Optional[float] = None) -> Notification:
        """The next notification; raises ``queue.Empty`` after ``timeout`` seconds without one."""
        return self.queue.get(timeout=timeout)

    def notifications(self, timeout: float = 60.0) -> Iterator[Notification]:
        """Yield notifications as they arrive, until ``timeout`` seconds pass without one."""
        while True:
            try:
                yield self.queue.get(timeout=timeout)
            except queue.Empty:
                return

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> Optional[Notification]:
        """The first notification for which ``predicate(notification)`` is true, or None after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                n = self.queue.get(timeout=left)
            except queue.Empty:
                return None
            if predicate(n):
                return n
