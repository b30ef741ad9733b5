"""A tiny authoritative DNS server on loopback, for autodiscover's SRV step in tests.

::

    with DNSServer() as dns_server:
        dns_server.add_srv("_autodiscover._tcp.example.com", "mail.example.net", port=8443)
        dns_server.add_a("mail.example.net", "127.0.0.3")
        discover("john@example.com", creds, dns_nameserver=dns_server.address, ...)
        dns_server.queries   # [('_autodiscover._tcp.example.com', 'SRV')]

It answers UDP queries for the names it was given (SRV, A, AAAA, TXT, CNAME), with NXDOMAIN for
unknown names, and records every question it receives. It uses dnspython's message classes and
listens on a loopback address only.
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import Dict, List, Optional, Tuple

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

log = logging.getLogger(__name__)

__all__ = ["DNSServer"]


def _norm(name: str) -> str:
    return name.lower().rstrip(".") + "."


class DNSServer:
    """A UDP DNS server on ``host`` (a loopback address) and a free port unless ``port`` is given."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ttl: int = 60):
        if not host.startswith("127.") and host != "::1":
            raise ValueError(f"DNSServer.host must be a loopback address, got {host!r}")
        self.host = host
        self._requested_port = port
        self.ttl = ttl
        self._records: Dict[Tuple[str, int], List[str]] = {}
        self._lock = threading.Lock()
        #: Every question received, as (name without trailing dot, type name), in order.
        self.queries: List[Tuple[str, str]] = []
        self._sock: Optional[socket.socket] = None
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()

    # --- records ------------------------------------------------------------------------------------
    def add(self, name: str, rdtype: str, rdata: str) -> None:
        """Add a record in zone-file syntax, e.g. ``add('x.example.com', 'A', '127.0.0.2')``."""
        t = dns.rdatatype.from_text(rdtype)
        dns.rrset.from_text(_norm(name), self.ttl, "IN", t, rdata)  # validates the rdata now
        with self._lock:
            self._records.setdefault((_norm(name), t), []).append(rdata)

    def add_srv(self, name: str, target: str, port: int, priority: int = 0, weight: int = 0) -> None:
        """An SRV record; ``target='.'`` means "no such service"."""
        tgt = "." if target == "." else _norm(target)
        self.add(name, "SRV", f"{priority} {weight} {port} {tgt}")

    def add_a(self, name: str, address: str) -> None:
        self.add(name, "AAAA" if ":" in address else "A", address)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self.queries.clear()

    def queried(self, name: str) -> bool:
        """Was ``name`` asked about (any type)?"""
        n = name.lower().rstrip(".")
        with self._lock:
            return any(q == n for q, _ in self.queries)

    # --- lifecycle ----------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("DNSServer is not running")
        return self._sock.getsockname()[1]

    @property
    def address(self) -> Tuple[str, int]:
        """(host, port), as ``dns_nameserver=`` for autodiscover takes it."""
        return self.host, self.port

    def start(self) -> "DNSServer":
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((self.host, self._requested_port))
        sock.settimeout(0.05)
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"DNSServer:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "DNSServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- serving ------------------------------------------------------------------------------------
    def _serve(self) -> None:
        assert self._sock is not None
        sock = self._sock
        while not self._stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            try:
                reply = self._answer(data)
            except Exception:  # a malformed query: drop it, as servers do
                log.debug("DNSServer: dropping a malformed query from %s", peer, exc_info=True)
                continue
            try:
                sock.sendto(reply, peer)
            except OSError:
                pass

    def _answer(self, data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        for q in query.question:
            name = q.name.to_text().lower()
            with self._lock:
                self.queries.append((name.rstrip("."), dns.rdatatype.to_text(q.rdtype)))
                known = any(n == name for n, _ in self._records)
                rdatas = list(self._records.get((name, q.rdtype), ()))
            if rdatas:
                rrset = dns.rrset.from_text_list(q.name, self.ttl, dns.rdataclass.IN, q.rdtype, rdatas)
                response.answer.append(rrset)
            elif not known:
                response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self._sock else "not running"
        return f"DNSServer({where})"
