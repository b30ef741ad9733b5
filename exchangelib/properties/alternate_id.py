"""AlternateId: an item or folder id in one of ConvertId's formats."""
from __future__ import annotations

#: ConvertId's id formats (IdFormatType)
EWS_LEGACY_ID, EWS_ID, ENTRY_ID, HEX_ENTRY_ID, STORE_ID, OWA_ID = (
    "EwsLegacyId", "EwsId", "EntryId", "HexEntryId", "StoreId", "OwaId")
ID_FORMATS = (EWS_LEGACY_ID, EWS_ID, ENTRY_ID, HEX_ENTRY_ID, STORE_ID, OWA_ID)


class AlternateId:
    """An id in one of ConvertId's formats: ``AlternateId(id=..., format='EntryId', mailbox='a@example.com')``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/alternateid
    """

    __slots__ = ("id", "format", "mailbox")

    def __init__(self, id: str, format: str, mailbox: str):  # noqa: A002 - the EWS attribute names
        if format not in ID_FORMATS:
            raise ValueError(f"AlternateId.format must be one of {ID_FORMATS}, got {format!r}")
        if not isinstance(id, str) or not id:
            raise ValueError("AlternateId.id must be a non-empty str")
        self.id = id
        self.format = format
        self.mailbox = mailbox

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AlternateId):
            return NotImplemented
        return (self.id, self.format, (self.mailbox or "").lower()) == \
            (other.id, other.format, (other.mailbox or "").lower())

    def __hash__(self) -> int:
        return hash((self.id, self.format, (self.mailbox or "").lower()))

    def __repr__(self) -> str:
        return f"AlternateId(id={self.id!r}, format={self.format!r}, mailbox={self.mailbox!r})"


__all__ = ["AlternateId", "ID_FORMATS", "EWS_LEGACY_ID", "EWS_ID", "ENTRY_ID", "HEX_ENTRY_ID", "STORE_ID", "OWA_ID"]
