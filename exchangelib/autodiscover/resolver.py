"""Name resolution overrides: send connections for chosen host names to chosen addresses.

Autodiscover talks to host names derived from an email address (``example.com``,
``autodiscover.example.com``, the target of an SRV record...). Tests, and users with split DNS,
need those names to reach other addresses without editing ``/etc/hosts``. A :class:`HostMap`
does that at the connection level, inside a ``requests`` transport adapter:

* the socket connects to the mapped address (and port, if the entry gives one);
* everything else still uses the original name: the ``Host`` header, TLS SNI and the
  certificate's hostname check. A mapped name is therefore exactly as safe as a resolved one: a
  server whose certificate is not valid for the *name* is refused.

::

    hosts = HostMap({"example.com": "127.0.0.2:8443", "mail.example.com": "127.0.0.3"}, strict=True)
    session.mount("https://", hosts.adapter())
    BaseProtocol.HTTP_ADAPTER_CLS = hosts.adapter_class()   # the EWS traffic too

Entries are ``name -> "ip"`` (keep the port of the URL) or ``name -> "ip:port"`` / ``(ip, port)``
(any port of that name goes there). An entry ``"name:port"`` maps only that port. With
``strict=True`` a name without an entry is refused without touching the network (and without
a DNS query); every attempt, mapped or not, is recorded in :attr:`HostMap.attempts`.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, Type, Union

from ..lazy import LazyModule

if TYPE_CHECKING:
    import requests.adapters
    from urllib3 import connection as _conn
    from urllib3 import connectionpool as _pool
    from urllib3 import exceptions as _exc
    from urllib3.util import connection as urllib3_connection
else:
    # requests and urllib3 are imported when a map is first used, not by ``import exchangelib``
    requests = LazyModule("requests")
    _conn = LazyModule("urllib3.connection")
    _pool = LazyModule("urllib3.connectionpool")
    _exc = LazyModule("urllib3.exceptions")
    urllib3_connection = LazyModule("urllib3.util.connection")

log = logging.getLogger(__name__)

__all__ = ["HostMap", "Target"]

Target = Union[str, Tuple[str, int]]


def _parse_target(name: str, target: Target) -> Tuple[str, Optional[int]]:
    if isinstance(target, tuple):
        if len(target) != 2 or not isinstance(target[0], str) or not isinstance(target[1], int):
            raise TypeError(f"HostMap entry for {name!r} must be 'ip', 'ip:port' or (ip, port), got {target!r}")
        host, port = target
    elif isinstance(target, str):
        host, port = target, None
        if target.startswith("["):  # [::1]:8443
            end = target.find("]")
            host = target[1:end]
            rest = target[end + 1:]
            if rest.startswith(":"):
                port = int(rest[1:])
        elif target.count(":") == 1:
            host, _, p = target.partition(":")
            if not p.isdigit():
                raise ValueError(f"HostMap entry for {name!r}: bad port in {target!r}")
            port = int(p)
    else:
        raise TypeError(f"HostMap entry for {name!r} must be 'ip', 'ip:port' or (ip, port), got {target!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"HostMap entry for {name!r} must map to an IP address, got {host!r}") from None
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"HostMap entry for {name!r}: port must be in 1..65535, got {port}")
    return host, port


class HostMap:
    """Maps host names (and optionally ports) to socket addresses; see the module docstring.

    ``entries``: ``{"name": "ip" | "ip:port" | (ip, port)}``; a key ``"name:port"`` matches only
    that port. ``strict``: refuse names without an entry instead of resolving them normally.
    """

    def __init__(self, entries: Optional[Mapping[str, Target]] = None, strict: bool = False):
        self.strict = bool(strict)
        self._lock = threading.Lock()
        self._entries: Dict[Tuple[str, Optional[int]], Tuple[str, Optional[int]]] = {}
        #: Every connection attempt as ``(host, port)``, in order, whether mapped, resolved or refused.
        self.attempts: List[Tuple[str, int]] = []
        for name, target in (entries or {}).items():
            self.add(name, target)

    def add(self, name: str, target: Target) -> None:
        """Map ``name`` (or ``name:port``) to ``target``."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"HostMap names must be non-empty str, got {name!r}")
        host, _, p = name.rpartition(":") if name.count(":") == 1 else (name, "", "")
        port: Optional[int] = None
        if p:
            if not p.isdigit():
                raise ValueError(f"HostMap name {name!r}: bad port")
            port = int(p)
        else:
            host = name
        with self._lock:
            self._entries[(host.lower().rstrip("."), port)] = _parse_target(name, target)

    def remove(self, name: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == name.lower().rstrip(".")]:
                del self._entries[key]

    def lookup(self, host: str, port: int) -> Optional[Tuple[str, int]]:
        """The socket address for ``host:port``, or None when there is no entry."""
        key = host.lower().rstrip(".")
        with self._lock:
            target = self._entries.get((key, port)) or self._entries.get((key, None))
        if target is None:
            return None
        ip, mapped_port = target
        return ip, mapped_port if mapped_port is not None else port

    def hosts_tried(self) -> List[str]:
        """Distinct host names of :attr:`attempts`, in first-tried order."""
        seen: List[str] = []
        for host, _ in list(self.attempts):
            if host not in seen:
                seen.append(host)
        return seen

    # --- connection plumbing ----------------------------------------------------------------------
    def _connect(self, conn: _conn.HTTPConnection) -> socket.socket:
        host = conn._dns_host  # the URL's host without IPv6 brackets
        port = conn.port
        with self._lock:
            self.attempts.append((host, port))
        target = self.lookup(host, port)
        if target is None:
            if self.strict:
                log.debug("HostMap: refusing %s:%s (no entry, strict)", host, port)
                raise _exc.NewConnectionError(conn, f"Failed to establish a new connection: {host!r} is not in the "
                                               f"HostMap (strict mode refuses other names)")
            return _conn.HTTPConnection._new_conn(conn)
        log.debug("HostMap: %s:%s -> %s:%s", host, port, *target)
        try:
            sock = urllib3_connection.create_connection(target, conn.timeout, source_address=conn.source_address,
                                                        socket_options=conn.socket_options)
        except socket.timeout as e:
            raise _exc.ConnectTimeoutError(conn, f"Connection to {host} ({target[0]}:{target[1]}) timed out. "
                                            f"(connect timeout={conn.timeout})") from e
        except OSError as e:
            raise _exc.NewConnectionError(conn, f"Failed to establish a new connection to {host} "
                                           f"({target[0]}:{target[1]}): {e}") from e
        sys.audit("http.client.connect", conn, conn.host, conn.port)
        return sock

    def pool_classes(self) -> Dict[str, type]:
        """urllib3 pool classes whose connections go through this map (for a PoolManager)."""
        host_map = self

        class _Conn(_conn.HTTPConnection):
            def _new_conn(self) -> socket.socket:
                return host_map._connect(self)

        class _TLSConn(_conn.HTTPSConnection):
            def _new_conn(self) -> socket.socket:
                return host_map._connect(self)

        class _Pool(_pool.HTTPConnectionPool):
            ConnectionCls = _Conn

        class _TLSPool(_pool.HTTPSConnectionPool):
            ConnectionCls = _TLSConn

        return {"http": _Pool, "https": _TLSPool}

    def adapter_class(self, base: Optional[Type[requests.adapters.HTTPAdapter]] = None
                      ) -> Type[requests.adapters.HTTPAdapter]:
        """A ``requests`` adapter class (subclass of ``base``, default HTTPAdapter) bound to this map.

        Suitable for ``BaseProtocol.HTTP_ADAPTER_CLS``. Proxies are not supported through it.
        """
        base = base or requests.adapters.HTTPAdapter
        if not (isinstance(base, type) and issubclass(base, requests.adapters.HTTPAdapter)):
            raise TypeError(f"HostMap.adapter_class(base=...) needs an HTTPAdapter subclass, got {base!r}")
        host_map = self

        class HostMapAdapter(base):  # type: ignore[misc, valid-type]
            def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                super().init_poolmanager(*args, **kwargs)
                self.poolmanager.pool_classes_by_scheme = host_map.pool_classes()

        HostMapAdapter.__qualname__ = HostMapAdapter.__name__ = f"HostMapAdapter[{base.__name__}]"
        return HostMapAdapter

    def adapter(self, base: Optional[Type[requests.adapters.HTTPAdapter]] = None,
                **kwargs: Any) -> requests.adapters.HTTPAdapter:
        """An adapter instance; mount it on a session for ``http://`` and ``https://``."""
        return self.adapter_class(base)(**kwargs)

    def __repr__(self) -> str:
        with self._lock:
            entries = {f"{h}:{p}" if p else h: f"{ip}:{tp}" if tp else ip for (h, p), (ip, tp) in self._entries.items()}
        return f"HostMap({entries!r}, strict={self.strict})"
