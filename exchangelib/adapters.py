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

from .credentials import AccessTokenCredentials


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


__all__ = ["NoVerifyHTTPAdapter", "BearerAuth", "TLSClientAuth"]
