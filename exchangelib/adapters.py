"""Plug-ins for ``requests``: a transport adapter without TLS verification and the OAuth bearer auth.

They subclass ``requests`` classes, so they live apart from :mod:`exchangelib.protocol` and
:mod:`exchangelib.transport` (which re-export them): this module, and ``requests`` with it, is imported
on first use, not by ``import exchangelib``.
"""
from __future__ import annotations

from typing import Any, Optional

import requests
import requests.adapters
import requests.auth
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .credentials import AccessTokenCredentials
from .httpio import note_connection


class NoVerifyHTTPAdapter(requests.adapters.HTTPAdapter):
    """An HTTP adapter that does not verify TLS certificates. Use only against servers you trust."""

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        super().cert_verify(conn=conn, url=url, verify=False, cert=cert)

    def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None, cert: Any = None):
        return super().get_connection_with_tls_context(request, False, proxies=proxies, cert=cert)


class BearerAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer <token>`` from AccessTokenCredentials, reading the token per request."""

    def __init__(self, credentials: AccessTokenCredentials):
        self.credentials = credentials

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.credentials.bearer_token()}"
        return r

    def __repr__(self) -> str:
        return "BearerAuth(********)"


class TLSClientAuth(requests.adapters.HTTPAdapter):
    """An HTTP adapter that presents a TLS client certificate: Certificate Based Authentication (``auth_type=CBA``).

    Set the class attributes, then make it the adapter of new protocols::

        TLSClientAuth.cert_file = "/path/client.pem"     # certificate (and key, if key_file is not set)
        TLSClientAuth.key_file = "/path/client.key"      # optional
        TLSClientAuth.key_password = os.environ["KEY_PASSWORD"]   # optional, for an encrypted key
        BaseProtocol.HTTP_ADAPTER_CLS = TLSClientAuth
        config = Configuration(server="mail.example.com", auth_type=CBA)

    or subclass it with other values to use several certificates in one process.

    https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/authentication-and-ews-in-exchange
    """

    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    key_password: Optional[str] = None

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if not self.cert_file:
            raise ValueError("TLSClientAuth.cert_file is not set: point it at the client certificate (PEM)")
        kwargs["cert_file"] = self.cert_file
        if self.key_file:
            kwargs["key_file"] = self.key_file
        if self.key_password:
            kwargs["key_password"] = self.key_password
        super().init_poolmanager(*args, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(cert_file={self.cert_file!r})"


class _TrackedHTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: Optional[float] = None) -> Any:
        return note_connection(super()._get_conn(timeout))


class _TrackedHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: Optional[float] = None) -> Any:
        return note_connection(super()._get_conn(timeout))


def track_connections(adapter: Any) -> None:
    """Let deadlines find the socket of a request sent through ``adapter`` (a requests HTTPAdapter).

    Adapters without a urllib3 pool manager (custom ones) still get the deadline checked between body
    chunks; only the wake-up of a read that is blocked is lost.
    """
    pm = getattr(adapter, "poolmanager", None)
    classes = getattr(pm, "pool_classes_by_scheme", None)
    if pm is not None and isinstance(classes, dict) and classes.get("http") is HTTPConnectionPool \
            and classes.get("https") is HTTPSConnectionPool:
        pm.pool_classes_by_scheme = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}


__all__ = ["NoVerifyHTTPAdapter", "BearerAuth", "TLSClientAuth", "track_connections"]
