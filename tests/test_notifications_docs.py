"""The examples of docs/notifications.rst run against the local server and print what their comments say;
the Django view example answers a real push notification the server sent."""
from __future__ import annotations

import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from exchangelib import Message, Task
from exchangelib.properties import CreatedEvent
from exchangelib.xml import parse
from tests.docs_pages import page_examples, run_example

PAGE = "notifications.rst"
EXAMPLES = page_examples(PAGE, needs="LocalExchange")
(VIEW,) = page_examples(PAGE, needs="def exchange_callback")


def test_the_page_has_runnable_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("code,line", EXAMPLES, ids=lambda v: str(v) if isinstance(v, int) else None)
def test_example_runs_and_prints_what_it_says(code: str, line: int, monkeypatch):
    run_example(PAGE, code, line, monkeypatch, every_print_checked=True)


def test_the_django_view_example_answers_a_real_push_notification(exchange):
    bodies: "queue.Queue[bytes]" = queue.Queue()

    class Capture(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            bodies.put(body)
            ns = {"HttpResponse": lambda content, content_type: (content, content_type), "handle": handled.append}
            exec(compile(VIEW[0], f"{PAGE}:{VIEW[1]}", "exec"), ns)
            answer, content_type = ns["exchange_callback"](type("Request", (), {"body": body})())
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    handled: list = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        account = exchange.account("john@example.com")
        sid, _ = account.tasks.subscribe_to_push(f"http://127.0.0.1:{httpd.server_address[1]}/exchange/callback",
                                                 event_types=["CreatedEvent"])
        account.bulk_create(folder=account.drafts, items=[Message(subject="elsewhere")])  # not subscribed
        account.bulk_create(folder=account.tasks, items=[Task(subject="pushed")])
        body = bodies.get(timeout=10)
        assert parse(body).find(".//{http://schemas.microsoft.com/exchange/services/2006/messages}SendNotification") \
            is not None
        hub = exchange.notifications
        deadline = time.monotonic() + 5
        while not any(r[0] == sid for r in hub.push_log) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (sid, 200, "OK") in hub.push_log  # the view's answer kept the subscription
        assert [type(e) for e in handled] == [CreatedEvent]
    finally:
        httpd.shutdown()
        httpd.server_close()
