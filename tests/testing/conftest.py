"""Fixtures for the local EWS server's tests, reusable by the whole test suite.

- ``ews_server``: a strict :class:`~exchangelib.testing.server.EWSServer` (requests and responses
  validated against the EWS XSDs) with the default accounts; at teardown it fails the test if the
  server saw an invalid request, produced an invalid response or a handler crashed.
- ``local_exchange``: the same guarantees for :class:`~exchangelib.testing.LocalExchange`, which
  hands out ready client accounts (``local_exchange.account('john@example.com')``).

The project's top-level ``tests/conftest.py`` can reuse them with
``from tests.testing.conftest import ews_server, local_exchange  # noqa: F401``.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterator, List, Optional

import pytest
from lxml import etree

import exchangelib.testing
from exchangelib.testing.context import OPERATIONS, RequestContext
from exchangelib.testing.server import EWSServer
from exchangelib.testing.users import default_oauth_clients, default_users
from exchangelib.xml import MNS, TNS

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
RSV_2016 = '<t:RequestServerVersion Version="Exchange2016"/>'
GET_FOLDER = ('<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>'
              '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>')


def soap(body: str = GET_FOLDER, headers: Optional[str] = RSV_2016) -> bytes:
    """A SOAP 1.1 request envelope around an EWS operation element (given as XML text)."""
    header = f"<s:Header>{headers}</s:Header>" if headers is not None else ""
    return (f'<?xml version="1.0" encoding="utf-8"?>\n'
            f'<s:Envelope xmlns:s="{SOAP_NS}" xmlns:m="{MNS}" xmlns:t="{TNS}">\n'
            f'{header}\n<s:Body>\n{body}\n</s:Body>\n</s:Envelope>').encode()


def get_folder_response(ctx: RequestContext, request: etree._Element) -> etree._Element:
    """A minimal valid GetFolderResponse (a stand-in for the real operation handlers)."""
    resp = etree.Element(f"{{{MNS}}}GetFolderResponse", nsmap={"m": MNS, "t": TNS})
    msgs = etree.SubElement(resp, f"{{{MNS}}}ResponseMessages")
    msg = etree.SubElement(msgs, f"{{{MNS}}}GetFolderResponseMessage", ResponseClass="Success")
    etree.SubElement(msg, f"{{{MNS}}}ResponseCode").text = "NoError"
    folders = etree.SubElement(msg, f"{{{MNS}}}Folders")
    folder = etree.SubElement(folders, f"{{{TNS}}}Folder")
    etree.SubElement(folder, f"{{{TNS}}}FolderId", Id=ctx.mailbox.primary_smtp_address, ChangeKey="AQ==")
    return resp


class FakeOperations:
    """Registers stand-in handlers for the duration of a test and remembers each call's context."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.monkeypatch = monkeypatch
        self.calls: List[RequestContext] = []

    def register(self, name: str, handler: Callable[[RequestContext, etree._Element], etree._Element]) -> None:
        def recording(ctx: RequestContext, elem: etree._Element) -> etree._Element:
            self.calls.append(ctx)
            return handler(ctx, elem)

        self.monkeypatch.setitem(OPERATIONS, name, recording)

    @property
    def last(self) -> RequestContext:
        return self.calls[-1]


@pytest.fixture
def fake_ops(monkeypatch: pytest.MonkeyPatch) -> FakeOperations:
    fake = FakeOperations(monkeypatch)
    fake.register("GetFolder", get_folder_response)
    return fake


@pytest.fixture
def ews_server() -> Iterator[EWSServer]:
    """A strict local EWS server with the default accounts; fails the test if it saw invalid XML or crashed."""
    with EWSServer(default_users(), oauth_clients=default_oauth_clients(), strict=True,
                   validate_responses=True) as server:
        yield server
        server.assert_clean()


@pytest.fixture
def local_exchange() -> Iterator["exchangelib.testing.LocalExchange"]:
    """A strict LocalExchange (client accounts via ``.account(address)``); fails the test on invalid XML."""
    with exchangelib.testing.LocalExchange(strict=True, validate_responses=True) as server:
        yield server
        server.assert_clean()


@pytest.fixture
def creds() -> Dict[str, str]:
    return {u.primary_smtp_address: u.password for u in default_users() if u.password}
