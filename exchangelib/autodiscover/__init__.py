"""Autodiscover: from an email address and credentials to the EWS endpoint, safely and cached.

::

    from exchangelib.autodiscover import discover

    result = discover("john@example.com", credentials)
    result.ews_url               # 'https://mail.example.com/EWS/Exchange.asmx'
    result.auth_type             # 'NTLM'
    result.version               # Version(build=Build(15, 1, 2507, 6), api_version='Exchange2016')
    result.primary_smtp_address  # an alias resolves to the primary address

Modules: :mod:`.discovery` (the algorithm), :mod:`.soap` and :mod:`.pox` (the two protocols),
:mod:`.cache` (memory + per-user file cache), :mod:`.resolver` (name-resolution overrides for
tests and split DNS).

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/autodiscover-for-exchange
"""
from __future__ import annotations

from .cache import AutodiscoverCache, default_cache_dir
from .discovery import (MAX_REDIRECTS, Autodiscovery, check_endpoint, clear_cache, discover, get_default_cache,
                        set_default_cache, srv_order)
from .models import AutodiscoverResult
from .resolver import HostMap

__all__ = ["discover", "Autodiscovery", "AutodiscoverResult", "AutodiscoverCache", "HostMap", "check_endpoint",
           "clear_cache", "get_default_cache", "set_default_cache", "default_cache_dir", "srv_order",
           "MAX_REDIRECTS"]
