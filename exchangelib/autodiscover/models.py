"""Value objects shared by the autodiscover modules: what a server answered, and what discovery found."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, cast
from urllib.parse import urlsplit

from ..version import API_VERSION_BUILDS, API_VERSIONS, Build, Version

# Kinds of Answer
SETTINGS = "settings"
REDIRECT_ADDRESS = "redirect_address"
REDIRECT_URL = "redirect_url"
ERROR = "error"


@dataclass
class Answer:
    """One autodiscover server's answer (SOAP GetUserSettings or POX), protocol-neutral.

    ``kind`` is ``settings`` (then ``ews_url`` etc. are set), ``redirect_address``/``redirect_url``
    (``redirect`` holds the address or URL) or ``error`` (``error_code``/``error_message``).
    """

    kind: str
    ews_url: Optional[str] = None
    primary_smtp_address: Optional[str] = None
    display_name: Optional[str] = None
    version: Optional[Version] = None
    redirect: Optional[str] = None
    error_code: Optional[str] = None
    error_message: Optional[str] = None


@dataclass
class AutodiscoverResult:
    """What autodiscover found for an email address.

    ``ews_url``: the EWS endpoint. ``auth_type``: the auth type that worked at the autodiscover
    endpoint (use it for EWS too), or None if it was not needed. ``version``: the server version if the
    server told us. ``primary_smtp_address``: the mailbox's primary address (an alias resolves to it).
    ``autodiscover_url``: the autodiscover endpoint that answered; ``protocol``: ``'soap'`` or ``'pox'``.
    ``from_cache``: True when this came from the cache without asking a server.
    """

    email: str
    ews_url: str
    primary_smtp_address: str
    auth_type: Optional[str] = None
    version: Optional[Version] = None
    display_name: Optional[str] = None
    autodiscover_url: Optional[str] = None
    protocol: Optional[str] = None
    created: float = field(default_factory=time.time)
    from_cache: bool = False

    @property
    def server(self) -> str:
        """The host name of the EWS endpoint."""
        return urlsplit(self.ews_url).hostname or ""

    def to_json(self) -> Dict[str, Any]:
        """A JSON-safe dict (no secrets: nothing here is one)."""
        return {
            "email": self.email, "ews_url": self.ews_url, "primary_smtp_address": self.primary_smtp_address,
            "auth_type": self.auth_type, "display_name": self.display_name,
            "autodiscover_url": self.autodiscover_url, "protocol": self.protocol, "created": self.created,
            "build": str(self.version.build) if self.version else None,
            "api_version": self.version.api_version if self.version else None,
        }

    @classmethod
    def from_json(cls, data: Any) -> "AutodiscoverResult":
        """Rebuild from :meth:`to_json` output; raises ValueError on anything malformed."""
        if not isinstance(data, dict):
            raise ValueError("cache entry is not an object")

        def text(name: str, required: bool = False) -> Optional[str]:
            v = data.get(name)
            if v is None and not required:
                return None
            if not isinstance(v, str) or not v:
                raise ValueError(f"cache entry field {name!r} is not a non-empty string")
            return v

        version = None
        build, api = text("build"), text("api_version")
        if build:
            version = Version(Build.from_string(build), api if api in API_VERSION_BUILDS else None)
        created = data.get("created")
        if not isinstance(created, (int, float)) or isinstance(created, bool):
            raise ValueError("cache entry field 'created' is not a number")
        ews_url = text("ews_url", required=True)
        assert ews_url is not None  # required=True raises instead of returning None
        if not ews_url.startswith(("https://", "http://")):
            raise ValueError("cache entry field 'ews_url' is not an http(s) URL")
        return cls(email=cast(str, text("email", required=True)), ews_url=ews_url,
                   primary_smtp_address=cast(str, text("primary_smtp_address", required=True)), auth_type=text("auth_type"),
                   version=version, display_name=text("display_name"), autodiscover_url=text("autodiscover_url"),
                   protocol=text("protocol"), created=float(created))


def version_from_cas(cas_version: Optional[str], schemas: Optional[str]) -> Optional[Version]:
    """A Version from SOAP settings ``CasVersion`` ('15.01.2507.006') and ``EwsSupportedSchemas``.

    The build decides the RequestServerVersion we will send (the newest one we know for it); the schema
    list is only used when there is no build.
    """
    if cas_version:
        try:
            return Version(Build.from_string(cas_version))
        except (ValueError, TypeError):
            pass
    if schemas:
        offered = {s.strip() for s in schemas.split(",")}
        known = [api for _, api in API_VERSIONS if api in offered]
        if known:
            return Version.from_api_version(known[-1])
    return None


def version_from_hex(value: Optional[str]) -> Optional[Version]:
    """A Version from a POX ``ServerVersion`` (hex: 4 bits format, 6 bits major, 6 bits minor,
    1 flag bit, 15 bits build)."""
    if not value:
        return None
    try:
        n = int(value.strip(), 16)
    except ValueError:
        return None
    build = Build((n >> 22) & 0x3F, (n >> 16) & 0x3F, n & 0x7FFF, 0)
    try:
        return Version(build)
    except ValueError:
        return None

