"""Replaying real Exchange answers through the client.

:class:`ReplayAdapter` is a requests transport adapter (the documented extension point) that answers
chosen EWS operations with a fixed response body - written from Microsoft's documented examples - and
passes every other request on to the real (local) server. Client-reading tests use it to check that we
read what real Exchange sends, not only what our own server sends.
"""
from __future__ import annotations

import io
import re
from typing import Dict, Iterator, List, Tuple

import pytest
import requests
from requests.adapters import HTTPAdapter

from exchangelib.protocol import BaseProtocol

SOAP_HEADER = """<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header>
    <h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6"
        Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"
        xmlns="http://schemas.microsoft.com/exchange/services/2006/types"
        xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
  </s:Header>
  <s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
"""
SOAP_FOOTER = """
  </s:Body>
</s:Envelope>"""


def soap(body: str) -> bytes:
    """A whole SOAP response around one body child (namespaces m: and t: declared on it by the caller)."""
    return (SOAP_HEADER + body + SOAP_FOOTER).encode("utf-8")


class ReplayAdapter(HTTPAdapter):
    """Answers requests whose SOAP body holds ``<m:Operation`` with the recorded answer for that operation."""

    answers: Dict[str, bytes] = {}
    replayed: List[Tuple[str, bytes]] = []

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:  # type: ignore[override]
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        for operation, answer in type(self).answers.items():
            if re.search(rb"<(\w+:)?" + operation.encode() + rb"[ >/]", body):
                type(self).replayed.append((operation, body))
                return self._answer(request, answer)
        return super().send(request, **kwargs)

    @staticmethod
    def _answer(request: requests.PreparedRequest, content: bytes, status: int = 200) -> requests.Response:
        r = requests.Response()
        r.status_code = status
        r.headers["Content-Type"] = "text/xml; charset=utf-8"
        r.raw = io.BytesIO(content)
        r.request = request
        r.url = request.url or ""
        r.reason = "OK"
        return r


@pytest.fixture
def replay() -> Iterator[type]:
    """Use the replaying adapter for protocols created in this test (the conftest restores the default)."""
    ReplayAdapter.answers = {}
    ReplayAdapter.replayed = []
    BaseProtocol.HTTP_ADAPTER_CLS = ReplayAdapter
    yield ReplayAdapter
    ReplayAdapter.answers = {}
    ReplayAdapter.replayed = []
