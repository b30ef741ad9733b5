"""Kept for compatibility with code written against the seed documents
(``from exchangelib.util import PrettyXmlHandler``). New code should import from :mod:`exchangelib.log`."""
from __future__ import annotations

from .log import PrettyXmlHandler

__all__ = ["PrettyXmlHandler"]
