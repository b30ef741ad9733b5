"""GetUserConfiguration, CreateUserConfiguration, UpdateUserConfiguration, DeleteUserConfiguration.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuserconfiguration-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createuserconfiguration-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateuserconfiguration-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteuserconfiguration-operation
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional

from ..errors import TransportError
from ..properties.user_configuration import PROPERTIES, UserConfiguration
from ..xml import MNS, Element, add_child, create_element
from .common import EWSService
from .ids import folder_id_xml

_M = f"{{{MNS}}}"


class _UserConfigService(EWSService):
    def _name(self, tag: str, name: str, folder: Any) -> Element:
        if not isinstance(name, str) or not name:
            raise ValueError(f"A user configuration name must be a non-empty str, got {name!r}")
        elem = create_element(tag, {"Name": name})
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        elem.append(folder_id_xml(folder, mailbox))
        return elem

    def _one(self, payload: Element) -> Any:
        (res,) = self._results(payload, expected=1)
        if isinstance(res, Exception):
            raise res
        return res


class GetUserConfiguration(_UserConfigService):
    """``call(folder, name, properties='All')`` -> :class:`UserConfiguration` (raises ErrorItemNotFound)."""

    SERVICE_NAME = "GetUserConfiguration"

    def call(self, folder: Any, name: str, properties: Optional[Iterable[str]] = None) -> UserConfiguration:
        props: List[str] = ["All"] if properties is None else (
            [properties] if isinstance(properties, str) else list(properties))
        for p in props:
            if p not in PROPERTIES:
                raise ValueError(f"properties must be from {PROPERTIES}, got {p!r}")
        if not props:
            raise ValueError("properties must name at least one of " + ", ".join(PROPERTIES))
        payload = create_element("m:GetUserConfiguration")
        payload.append(self._name("m:UserConfigurationName", name, folder))
        add_child(payload, "m:UserConfigurationProperties", text=" ".join(props))
        msg = self._one(payload)
        elem = msg.find(f"{_M}UserConfiguration")
        if elem is None:
            raise TransportError(f"{self.SERVICE_NAME}: the response carries no UserConfiguration")
        return UserConfiguration.from_xml(elem)


class CreateUserConfiguration(_UserConfigService):
    """``call(folder, configuration)`` creates it (ErrorItemSave when the folder has one of that name)."""

    SERVICE_NAME = "CreateUserConfiguration"

    def call(self, folder: Any, configuration: UserConfiguration) -> None:
        if not isinstance(configuration, UserConfiguration):
            raise TypeError(f"Expected a UserConfiguration, got {type(configuration).__name__}")
        payload = create_element(f"m:{self.SERVICE_NAME}")
        elem = add_child(payload, "m:UserConfiguration")
        configuration.fill_xml(elem, self._name("t:UserConfigurationName", configuration.name, folder))
        self._one(payload)


class UpdateUserConfiguration(CreateUserConfiguration):
    """``call(folder, configuration)`` replaces the parts given (ErrorItemNotFound when there is none)."""

    SERVICE_NAME = "UpdateUserConfiguration"


class DeleteUserConfiguration(_UserConfigService):
    """``call(folder, name)`` deletes it (ErrorItemNotFound when there is none)."""

    SERVICE_NAME = "DeleteUserConfiguration"

    def call(self, folder: Any, name: str) -> None:
        payload = create_element("m:DeleteUserConfiguration")
        payload.append(self._name("m:UserConfigurationName", name, folder))
        self._one(payload)


__all__ = ["GetUserConfiguration", "CreateUserConfiguration", "UpdateUserConfiguration", "DeleteUserConfiguration"]
