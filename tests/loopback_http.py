"""A small HTTP server on 127.0.0.1 whose answers a test writes itself: for answers the local EWS server would
never give (a DOCTYPE after a long prolog, an endless chunked stream...)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


class LoopbackHTTP:
    """``with LoopbackHTTP(answer) as server:`` serves ``server.url``; every POST body is read, counted in
    ``hits``, and ``answer(handler, stop)`` writes the response (``stop`` is set when the server stops)."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler, threading.Event], None]):
        self.stop = threading.Event()
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.hits += 1
                try:
                    answer(self, outer.stop)
                except OSError:
                    pass  # the client went away

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/EWS/Exchange.asmx"

    def __enter__(self) -> "LoopbackHTTP":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def one_answer(payload: bytes, status: int = 200, headers: Any = ()) -> LoopbackHTTP:
    """A loopback server answering every POST with ``payload`` (``status``, extra ``headers``), counting hits."""

    def answer(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        handler.send_response(status)
        for k, v in headers:
            handler.send_header(k, v)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    return LoopbackHTTP(answer)
