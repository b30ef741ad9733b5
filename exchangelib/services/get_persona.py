"""GetPersona: one persona by id, with every property the server has.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getpersona-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..errors import EWSError
from ..properties.persona import Persona
from ..soap import response_message_error
from ..version import EXCHANGE_2013
from ..xml import MNS, add_child, create_element
from .common import EWSService, Result, to_id_pair


class GetPersona(EWSService):
    SERVICE_NAME = "GetPersona"
    supported_from = EXCHANGE_2013

    def call(self, personas: Iterable[Any]) -> Iterator[Result]:
        """Yields, per id (a Persona, an ``(id, changekey)`` tuple or an id string), the Persona or the exception.
        GetPersona takes one id per request."""
        self.check_supported()
        for p in personas:
            try:
                pid, changekey = to_id_pair(p)
            except (TypeError, ValueError) as e:
                yield e
                continue
            payload = create_element("m:GetPersona")
            attrs = {"Id": pid}
            if changekey:
                attrs["ChangeKey"] = changekey
            add_child(payload, "m:PersonaId", attrs)
            try:
                response = self._post(payload)
            except EWSError as e:
                yield e
                continue
            exc = response_message_error(response, self.SERVICE_NAME)
            if exc is not None:
                yield exc
                continue
            elem = response.find(f"{{{MNS}}}Persona")
            yield Persona.from_xml(elem, account=self.account) if elem is not None else None
