"""A local Exchange Web Services server for tests: ``with LocalExchange() as server: ...``.

Everything is imported lazily, so ``import exchangelib.testing.schema`` (or ``.server``) does not
pull in the rest, and only :class:`LocalExchange` needs the client classes.

- :class:`LocalExchange` (``exchangelib.testing.local``): the server with default users and
  ``server.account(...)`` returning ready client accounts.
- :class:`EWSServer` (``exchangelib.testing.server``): the server alone.
- :class:`User`, :class:`OAuthClient`: accounts and OAuth apps.
- :class:`LocalKDC` (``exchangelib.testing.kdc``): a throw-away MIT Kerberos KDC for Kerberos logins.
- Faults to inject: :class:`ServerBusy`, :class:`HTTPStatus`, :class:`ConnectionReset`,
  :class:`TruncatedResponse`, :class:`Latency`.
"""
from __future__ import annotations

import importlib
from typing import Any, Dict

_EXPORTS: Dict[str, str] = {
    "LocalExchange": "local",
    "EWSServer": "server",
    "RequestRecord": "server",
    "SchemaError": "server",
    "ServerNotClean": "server",
    "User": "users",
    "OAuthClient": "users",
    "ALL": "users",
    "default_users": "users",
    "default_oauth_clients": "users",
    "ServerBusy": "faults",
    "HTTPStatus": "faults",
    "ConnectionReset": "faults",
    "TruncatedResponse": "faults",
    "DroppedStream": "faults",
    "Latency": "faults",
    "SlowResponse": "faults",
    "OversizedResponse": "faults",
    "SERVER_VERSIONS": "soap",
    "SoapFault": "context",
    "ResponseCodeError": "context",
    "RequestContext": "context",
    "operation": "context",
    "RoomList": "directory",
    "DistributionList": "directory",
    "MailboxSettings": "directory",
}
_EXPORTS["LocalKDC"] = "kdc"

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'exchangelib.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(__all__))
