"""Plug-ins for ``requests``: a transport adapter without TLS verification and the OAuth bearer auth.

They subclass ``requests`` classes, so they live apart from :mod:`exchangelib.protocol` and
:mod:`exchangelib.transport` (which re-export them): this module, and ``requests`` with it, is imported
on first use, not by ``import exchangelib``.
"""
from __future__ import annotations

from typing import Any

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
        r.headers["Authorization"] = f"Bearer {self.credentials.access_token}"
        return r

    def __repr__(self) -> str:
        return "BearerAuth(********)"


__all__ = ["NoVerifyHTTPAdapter", "BearerAuth"]
