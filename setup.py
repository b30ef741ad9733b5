"""Packaging for exchangelib: a synchronous, object-oriented client for Exchange Web Services."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
VERSION = re.search(r'^__version__ = "([^"]+)"', (HERE / "exchangelib" / "__init__.py").read_text(), re.M).group(1)

# Organisation-scale backup/restore on a Dask cluster (python -m exchangelib backup-org / restore-org); the
# tests run it with a real LocalCluster and fsspec's memory file system, so the test extra has it too.
ORG_EXTRA = ["dask[distributed]>=2024.1", "fsspec>=2023.1"]

setup(
    # name, description, readme, license, classifiers and the console script are in pyproject.toml.
    version=VERSION,
    packages=find_packages(exclude=("tests", "tests.*", "tools", "benchmarks")),
    package_data={"exchangelib": ["py.typed", "schema/*.xsd", "schema/*.wsdl", "schema/NOTICE.md"]},
    install_requires=[
        "requests>=2.31",
        "requests_ntlm>=1.2",
        "lxml>=6.1",
        "tzlocal>=4.0",
        "dnspython>=2.4",
        "pygments>=2.15",
        "tzdata; sys_platform == 'win32'",
        # The local EWS server's NTLM acceptor and the hardened NTLM helpers
        "pyspnego>=0.10",
        "cryptography>=41",
    ],
    extras_require={
        # The type checker and its stubs are pinned: a newer mypy may report new errors on unchanged code.
        "test": ["pytest>=7", "hypothesis>=6.80", "tzdata", "sphinx>=7", "mypy==2.4.1", "lxml-stubs==0.5.1",
                 "types-requests==2.33.0.20261030"] + ORG_EXTRA,
        "docs": ["sphinx>=7"],
        "dev": ["pytest>=7", "hypothesis>=6.80", "tzdata", "sphinx>=7", "mypy>=1.5"],
        # Kerberos (auth_type=GSSAPI, Negotiate): pyspnego's Kerberos backend; needs libkrb5-dev and a C compiler
        "kerberos": ["pyspnego[kerberos]>=0.10", "gssapi>=1.8", "krb5>=0.5"],
        # Plug an MSAL application and its token cache into MSALCredentials
        "msal": ["msal>=1.20"],
        "org": ORG_EXTRA,
    },
)
