"""Shared fixtures for the whole test suite: local EWS servers in strict schema mode.

- ``exchange``: one strict :class:`~exchangelib.testing.LocalExchange` (Exchange 2016, requests *and*
  responses validated against the EWS XSDs) shared by a test module. Each test that uses it gets it
  with no armed faults and fresh statistics, and fails at teardown if the server saw an invalid
  request or response or a handler crashed during that test.
- ``make_exchange``: a factory for extra servers with other settings (version, auth schemes, TLS...);
  each is started, checked for cleanliness and stopped at the end of the test.
- ``ews_server`` / ``local_exchange``: the per-test servers of ``tests/testing/conftest.py``.

Client protocols are cached per endpoint (:meth:`Protocol.for_config`); every fixture closes and forgets
the protocols of its own server when it stops (not the whole cache, so module-scoped servers elsewhere
keep working), and no test inherits sessions, or a closed pool, from another.
"""
from __future__ import annotations

import os
import sys
import tempfile

# Byte-code caches go to a temp directory, never into the checkout: for this process (the test command starts
# Python with -B, so nothing was written before this point) and for every Python process the tests start
# (they inherit the environment). An explicit PYTHONPYCACHEPREFIX (CI sets one) is kept.
_PYCACHE = os.environ.get("PYTHONPYCACHEPREFIX") or os.path.join(
    tempfile.gettempdir(), f"exchangelib-tests-pycache-{os.getuid()}")
os.environ["PYTHONPYCACHEPREFIX"] = _PYCACHE
sys.pycache_prefix = _PYCACHE
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

from typing import Any, Callable, Iterator, List  # noqa: E402

import pytest  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

from exchangelib.protocol import BaseProtocol, Protocol  # noqa: E402
from exchangelib.testing import LocalExchange  # noqa: E402
from tests.testing.conftest import ews_server, local_exchange  # noqa: F401,E402 - re-exported fixtures

# Hypothesis keeps its example database in a temp directory: the test run writes nothing into the checkout.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), f"exchangelib-tests-hypothesis-{os.getuid()}"))


def drop_protocols(server: LocalExchange) -> None:
    """Close and forget the cached client protocols for one server's endpoint (others stay usable)."""
    with Protocol._cache_lock:
        keys = [k for k, p in Protocol._cache.items() if p.service_endpoint == server.url]
        protocols = [Protocol._cache.pop(k) for k in keys]
    for p in protocols:
        p.close()


def _strict(**kwargs: Any) -> LocalExchange:
    kwargs.setdefault("strict", True)
    kwargs.setdefault("validate_responses", True)
    return LocalExchange(**kwargs)


@pytest.fixture(scope="module")
def _module_exchange() -> Iterator[LocalExchange]:
    server = _strict()
    with server:
        yield server
        drop_protocols(server)


@pytest.fixture
def exchange(_module_exchange: LocalExchange) -> Iterator[LocalExchange]:
    """The module's strict LocalExchange, with no armed faults; asserts it stayed clean during the test."""
    server = _module_exchange
    server.clear_faults()
    server.reset_stats()
    try:
        yield server
        server.assert_clean()
    finally:
        server.clear_faults()
        server.reset_stats()


@pytest.fixture
def make_exchange() -> Iterator[Callable[..., LocalExchange]]:
    """``make_exchange(version='2010', auth=('digest',), tls=True, ...)`` -> a started strict LocalExchange."""
    servers: List[LocalExchange] = []

    def make(**kwargs: Any) -> LocalExchange:
        server = _strict(**kwargs)
        server.start()
        servers.append(server)
        return server

    try:
        yield make
        for server in servers:
            server.assert_clean()
    finally:
        for server in servers:
            if server.running:
                drop_protocols(server)
            server.stop()


@pytest.fixture(autouse=True)
def _restore_http_adapter() -> Iterator[None]:
    """Tests may swap ``BaseProtocol.HTTP_ADAPTER_CLS`` (as users do); never let that leak into the next test."""
    original = BaseProtocol.HTTP_ADAPTER_CLS
    yield
    BaseProtocol.HTTP_ADAPTER_CLS = original
