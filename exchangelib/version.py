"""Exchange server builds and EWS API versions.

A :class:`Build` is the server's product build (``15.1.2507.6``); a :class:`Version` pairs a
build with the ``RequestServerVersion`` string we send. Fields and services declare the first
build that supports them with a ``Build`` constant from this module.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/requestserverversion
"""
from __future__ import annotations

import functools
from typing import Optional, Tuple


@functools.total_ordering
class Build:
    """An Exchange build number: ``Build(15, 1, 2507, 6)``. Comparable and hashable."""

    __slots__ = ("major_version", "minor_version", "major_build", "minor_build")

    def __init__(self, major_version: int, minor_version: int, major_build: int = 0, minor_build: int = 0):
        for name, value in (("major_version", major_version), ("minor_version", minor_version),
                            ("major_build", major_build), ("minor_build", minor_build)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"Build.{name} must be an int, got {value!r}")
            if value < 0:
                raise ValueError(f"Build.{name} must be >= 0, got {value!r}")
        self.major_version = major_version
        self.minor_version = minor_version
        self.major_build = major_build
        self.minor_build = minor_build

    @classmethod
    def from_string(cls, s: str) -> "Build":
        """Parse '15.1.2507.6' (2 to 4 dot-separated numbers)."""
        parts = s.strip().split(".")
        if not 2 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
            raise ValueError(f"{s!r} is not a build number like '15.1.2507.6'")
        return cls(*(int(p) for p in parts))

    def as_tuple(self) -> Tuple[int, int, int, int]:
        return self.major_version, self.minor_version, self.major_build, self.minor_build

    def api_version(self) -> str:
        """The newest RequestServerVersion value a server of this build accepts."""
        for build, api_version in reversed(API_VERSIONS):
            if self >= build:
                return api_version
        raise ValueError(f"Build {self} is older than Exchange 2007 and does not speak EWS")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Build):
            return NotImplemented
        return self.as_tuple() == other.as_tuple()

    def __lt__(self, other: "Build") -> bool:
        if not isinstance(other, Build):
            return NotImplemented
        return self.as_tuple() < other.as_tuple()

    def __hash__(self) -> int:
        return hash(self.as_tuple())

    def __str__(self) -> str:
        return ".".join(str(n) for n in self.as_tuple())

    def __repr__(self) -> str:
        return f"Build({self.major_version}, {self.minor_version}, {self.major_build}, {self.minor_build})"


EXCHANGE_2007 = Build(8, 0)
EXCHANGE_2007_SP1 = Build(8, 1)
EXCHANGE_2010 = Build(14, 0)
EXCHANGE_2010_SP1 = Build(14, 1)
EXCHANGE_2010_SP2 = Build(14, 2)
EXCHANGE_2013 = Build(15, 0)
EXCHANGE_2013_SP1 = Build(15, 0, 847)
EXCHANGE_2016 = Build(15, 1)
EXCHANGE_2019 = Build(15, 2)
EXCHANGE_O365 = Build(15, 20)

# (first build, RequestServerVersion value), oldest first. Values from ExchangeVersionType in types.xsd.
API_VERSIONS = (
    (EXCHANGE_2007, "Exchange2007"),
    (EXCHANGE_2007_SP1, "Exchange2007_SP1"),
    (EXCHANGE_2010, "Exchange2010"),
    (EXCHANGE_2010_SP1, "Exchange2010_SP1"),
    (EXCHANGE_2010_SP2, "Exchange2010_SP2"),
    (EXCHANGE_2013, "Exchange2013"),
    (EXCHANGE_2013_SP1, "Exchange2013_SP1"),
    (EXCHANGE_2016, "Exchange2016"),
    (EXCHANGE_O365, "V2018_01_08"),
)
API_VERSION_BUILDS = {api: build for build, api in API_VERSIONS}
# Servers also report intermediate schema names; map each to the oldest build that uses it.
API_VERSION_BUILDS.update({
    "Exchange2009": EXCHANGE_2010, "Exchange2012": EXCHANGE_2013, "Exchange2015": EXCHANGE_2016,
    "V2015_10_05": EXCHANGE_2016, "V2016_01_06": EXCHANGE_2016, "V2016_04_13": EXCHANGE_2016,
    "V2016_07_13": EXCHANGE_2016, "V2016_10_10": EXCHANGE_2016, "V2017_01_07": EXCHANGE_2016,
    "V2017_04_14": EXCHANGE_2016, "V2017_07_11": EXCHANGE_2016, "V2017_10_09": EXCHANGE_2016,
    "V2018_01_08": EXCHANGE_O365,
})


class Version:
    """A server build and the EWS schema version string to request: ``Version(build=Build(15, 0, 12, 34))``."""

    __slots__ = ("build", "api_version")

    def __init__(self, build: Build, api_version: Optional[str] = None):
        if not isinstance(build, Build):
            raise TypeError(f"Version.build must be a Build instance, got {build!r}")
        if api_version is None:
            api_version = build.api_version()
        elif api_version not in API_VERSION_BUILDS:
            raise ValueError(f"Version.api_version {api_version!r} is not a known RequestServerVersion value "
                             f"(one of {sorted(API_VERSION_BUILDS)})")
        self.build = build
        self.api_version = api_version

    @classmethod
    def from_api_version(cls, api_version: str) -> "Version":
        try:
            return cls(build=API_VERSION_BUILDS[api_version], api_version=api_version)
        except KeyError:
            raise ValueError(f"Unknown RequestServerVersion value {api_version!r}") from None

    @classmethod
    def from_server_version_info(cls, major: int, minor: int, major_build: int, minor_build: int,
                                 api_version: Optional[str]) -> "Version":
        """Build a Version from the attributes of a response's ``ServerVersionInfo`` element."""
        build = Build(major, minor, major_build, minor_build)
        if api_version and api_version not in API_VERSION_BUILDS:
            api_version = None  # A newer schema name than we know: request the newest we know for the build
        return cls(build=build, api_version=api_version)

    def supports(self, build: Optional[Build]) -> bool:
        return build is None or self.build >= build

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return (self.build, self.api_version) == (other.build, other.api_version)

    def __hash__(self) -> int:
        return hash((self.build, self.api_version))

    def __repr__(self) -> str:
        return f"Version(build={self.build!r}, api_version={self.api_version!r})"
