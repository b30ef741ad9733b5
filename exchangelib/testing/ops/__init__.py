"""Operation handlers of the local EWS server.

Importing this package registers every handler in
:data:`exchangelib.testing.context.OPERATIONS` (operation local name -> handler). A handler takes
the :class:`~exchangelib.testing.context.RequestContext` and the SOAP body child (for example
``m:GetItem``) and returns the response body child (``m:GetItemResponse``).
"""
from __future__ import annotations

from ..context import OPERATIONS
# imported to register their handlers
from . import attachments, convert_id, export, find, folders, items, names, oof  # noqa: F401
from . import availability, directory, people, timezones  # noqa: F401  (scheduling and directory, issue 14)
from . import notify, sync  # noqa: F401
# issue 15: mailbox administration
from . import conversations, delegates, item_actions, rules, user_config  # noqa: F401

__all__ = ["OPERATIONS"]
