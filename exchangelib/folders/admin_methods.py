"""Folder methods for mailbox administration: user configuration objects and marking everything read."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from ..properties.user_configuration import UserConfiguration
from ..services.find_item import ASSOCIATED
from ..services.mark_all_items_as_read import MarkAllItemsAsRead
from ..services.user_configuration import (CreateUserConfiguration, DeleteUserConfiguration, GetUserConfiguration,
                                           UpdateUserConfiguration)

_CONFIG_PREFIX = "IPM.Configuration."


class FolderAdminMethods:
    """Mixed into every folder class (needs ``_require_account``/``_require_saved`` from FolderMethods)."""

    _require_account: Any  # from FolderMethods

    # --- user configuration -------------------------------------------------------------------------------
    def get_user_configuration(self, name: str, properties: Optional[Iterable[str]] = None) -> UserConfiguration:
        """The folder's configuration object ``name`` (GetUserConfiguration). ``properties``: any of ``'Id'``,
        ``'Dictionary'``, ``'XmlData'``, ``'BinaryData'`` (default ``'All'``). Raises ErrorItemNotFound.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuserconfiguration-operation
        """
        return GetUserConfiguration(account=self._require_account()).call(self, name, properties)

    def create_user_configuration(self, name: str, dictionary: Optional[Dict[Any, Any]] = None,
                                  xml_data: Optional[bytes] = None, binary_data: Optional[bytes] = None) -> None:
        """Create a configuration object in this folder (CreateUserConfiguration); ErrorItemSave if it exists.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createuserconfiguration-operation
        """
        CreateUserConfiguration(account=self._require_account()).call(
            self, UserConfiguration(name, dictionary=dictionary, xml_data=xml_data, binary_data=binary_data))

    def update_user_configuration(self, name: str, dictionary: Optional[Dict[Any, Any]] = None,
                                  xml_data: Optional[bytes] = None, binary_data: Optional[bytes] = None) -> None:
        """Replace the given parts of an existing configuration object (UpdateUserConfiguration).

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateuserconfiguration-operation
        """
        UpdateUserConfiguration(account=self._require_account()).call(
            self, UserConfiguration(name, dictionary=dictionary, xml_data=xml_data, binary_data=binary_data))

    def delete_user_configuration(self, name: str) -> None:
        """Delete a configuration object (DeleteUserConfiguration); ErrorItemNotFound if there is none.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteuserconfiguration-operation
        """
        DeleteUserConfiguration(account=self._require_account()).call(self, name)

    def user_configuration_names(self) -> List[str]:
        """Names of the folder's configuration objects: its associated items of class ``IPM.Configuration.*``
        (FindItem with the Associated traversal)."""
        qs = self.all()  # type: ignore[attr-defined]
        qs.traversal = ASSOCIATED
        names = []
        for item_class in qs.values_list("item_class", flat=True):
            if isinstance(item_class, str) and item_class.startswith(_CONFIG_PREFIX):
                names.append(item_class[len(_CONFIG_PREFIX):])
        return names

    # --- MarkAllItemsAsRead -------------------------------------------------------------------------------
    def mark_all_items_as_read(self, read_flag: bool = True, suppress_read_receipts: bool = True) -> None:
        """Mark every item of the folder read (or unread with ``read_flag=False``) in one request
        (MarkAllItemsAsRead, Exchange 2013 and later).

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/markallitemsasread-operation
        """
        result = next(iter(MarkAllItemsAsRead(account=self._require_account()).call(
            [self], read_flag=read_flag, suppress_read_receipts=suppress_read_receipts)))
        if isinstance(result, Exception):
            raise result
        if "unread_count" in type(self).FIELDS:  # type: ignore[attr-defined]
            self._set_field("unread_count", 0 if read_flag else None)  # type: ignore[attr-defined]


__all__ = ["FolderAdminMethods"]
