"""exchangelib: a synchronous, object-oriented client for Microsoft Exchange Web Services (EWS).

Start with :class:`Account`, :class:`Credentials` and :class:`Configuration`; for tests without an
Exchange server, see :class:`exchangelib.testing.LocalExchange`.
"""
__version__ = "0.1.0"

from .account import DELEGATE, IMPERSONATION, Account  # noqa: E402
from .configuration import Configuration  # noqa: E402
from .credentials import (AccessTokenCredentials, BaseCredentials, Credentials, OAuth2ClientCredentials,  # noqa: E402
                          ServiceAccount)
from .errors import EWSError  # noqa: E402
from .ewsdatetime import UTC, UTC_NOW, EWSDate, EWSDateTime, EWSTimeZone  # noqa: E402
from .folders import (BaseFolder, Calendar, CalendarFolder, ContactsFolder, Folder, SearchFolder,  # noqa: E402
                      TasksFolder)
from .items import (CalendarItem, Contact, DistributionList, Item, MeetingCancellation, MeetingRequest,  # noqa: E402
                    MeetingResponse, Message, PostItem, Task)
from .properties import Attendee, Body, HTMLBody, Mailbox  # noqa: E402
from .properties.attachments import FileAttachment, ItemAttachment  # noqa: E402
from .properties.extended import ExtendedProperty  # noqa: E402
from .protocol import BaseProtocol, Protocol  # noqa: E402
from .restriction import Q, Restriction  # noqa: E402
from .retry import FailFast, FaultTolerance  # noqa: E402
from .settings import OofSettings  # noqa: E402
from .services.shapes import ALL_PROPERTIES as AllProperties  # noqa: E402
from .services.shapes import DEFAULT as Default  # noqa: E402
from .services.shapes import ID_ONLY as IdOnly  # noqa: E402
from .transport import BASIC, DIGEST, GSSAPI, NOAUTH, NTLM, OAUTH2, SSPI  # noqa: E402
from .version import Build, Version  # noqa: E402

__all__ = [
    "__version__",
    "Account", "DELEGATE", "IMPERSONATION",
    "Configuration",
    "BaseCredentials", "Credentials", "ServiceAccount", "AccessTokenCredentials", "OAuth2ClientCredentials",
    "EWSError",
    "EWSDate", "EWSDateTime", "EWSTimeZone", "UTC", "UTC_NOW",
    "BaseFolder", "Folder", "Calendar", "CalendarFolder", "ContactsFolder", "SearchFolder", "TasksFolder",
    "Item", "CalendarItem", "Contact", "DistributionList", "MeetingCancellation", "MeetingRequest",
    "MeetingResponse", "Message", "PostItem", "Task",
    "Attendee", "Body", "HTMLBody", "Mailbox", "FileAttachment", "ItemAttachment", "ExtendedProperty",
    "BaseProtocol", "NoVerifyHTTPAdapter", "Protocol",
    "Q", "Restriction",
    "FailFast", "FaultTolerance",
    "OofSettings",
    "AllProperties", "Default", "IdOnly",
    "BASIC", "DIGEST", "GSSAPI", "NOAUTH", "NTLM", "OAUTH2", "SSPI",
    "Build", "Version",
]


def __getattr__(name: str):  # noqa: E302
    # NoVerifyHTTPAdapter subclasses a requests class: requests is imported only when it is first asked for
    if name == "NoVerifyHTTPAdapter":
        from . import protocol
        return protocol.NoVerifyHTTPAdapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
