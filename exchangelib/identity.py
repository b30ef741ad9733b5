"""``Identity``: who a request acts for (``ExchangeImpersonation/ConnectingSID``), by SID, UPN or address.

Exchange resolves the impersonated principal on every request. Naming it by SID or UPN saves the
server a directory lookup by address, as Microsoft recommends for busy impersonating applications::

    account.identity.sid = "S-1-5-21-..."
    account.identity.upn = "john@corp.example.com"

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/connectingsid
"""
from __future__ import annotations

from typing import Optional, Tuple

# The ways ConnectingSID can name a principal (its child element names).
SMTP_ADDRESS = "SmtpAddress"
PRIMARY_SMTP_ADDRESS = "PrimarySmtpAddress"
PRINCIPAL_NAME = "PrincipalName"
SID = "SID"
IMPERSONATION_ID_TYPES = (PRIMARY_SMTP_ADDRESS, SMTP_ADDRESS, PRINCIPAL_NAME, SID)

__all__ = ["Identity", "IMPERSONATION_ID_TYPES", "PRIMARY_SMTP_ADDRESS", "SMTP_ADDRESS", "PRINCIPAL_NAME", "SID"]

# Most specific first: the first one set is sent.
_ORDER = (("sid", SID), ("upn", PRINCIPAL_NAME), ("primary_smtp_address", PRIMARY_SMTP_ADDRESS),
          ("smtp_address", SMTP_ADDRESS))


class Identity:
    """A principal, named by any of ``sid``, ``upn``, ``primary_smtp_address`` and ``smtp_address``.

    ``account.identity`` names the mailbox an impersonating request acts for; OAuth credentials take
    one too (``OAuth2Credentials(..., identity=Identity(...))``), as in exchangelib 5.x, to name their
    principal in messages and keep credentials of different users apart.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/connectingsid
    """

    __slots__ = ("primary_smtp_address", "smtp_address", "upn", "sid")

    def __init__(self, primary_smtp_address: Optional[str] = None, smtp_address: Optional[str] = None,
                 upn: Optional[str] = None, sid: Optional[str] = None):
        self.primary_smtp_address = primary_smtp_address
        self.smtp_address = smtp_address
        self.upn = upn
        self.sid = sid

    def __setattr__(self, name: str, value: Optional[str]) -> None:
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError(f"Identity.{name} must be a non-empty str or None, got {value!r}")
        object.__setattr__(self, name, value)

    def connecting_sid(self) -> Optional[Tuple[str, str]]:
        """``(element name, value)`` for ConnectingSID: the most specific name set (SID, UPN, address)."""
        for attr, element in _ORDER:
            value = getattr(self, attr)
            if value:
                return element, value
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Identity):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, a) for a in self.__slots__))

    def __repr__(self) -> str:
        args = ", ".join(f"{a}={getattr(self, a)!r}" for a in self.__slots__ if getattr(self, a) is not None)
        return f"Identity({args})"
