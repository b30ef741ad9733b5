"""exchangelib: a synchronous, object-oriented client for Microsoft Exchange Web Services (EWS).

Start with :class:`Account`, :class:`Credentials` and :class:`Configuration`; for tests without an
Exchange server, see :class:`exchangelib.testing.LocalExchange`.
"""
__version__ = "0.1.0"

from .account import DELEGATE, IMPERSONATION, Account  # noqa: E402
from .configuration import Configuration, O365InteractiveConfiguration  # noqa: E402
from .credentials import (AccessTokenCredentials, BaseCredentials, Credentials, OAuth2ClientCredentials,  # noqa: E402
                          ServiceAccount)
from .errors import EWSError  # noqa: E402
from .ewsdatetime import UTC, UTC_NOW, EWSDate, EWSDateTime, EWSTimeZone  # noqa: E402
from .folders import (DEEP, SHALLOW, BaseFolder, Calendar, CalendarFolder, ContactsFolder, Folder,  # noqa: E402
                      FolderCollection, RootOfHierarchy, SearchFolder, TasksFolder)
from .identity import Identity  # noqa: E402
from .items import (AcceptItem, CalendarItem, CancelCalendarItem, Contact, DeclineItem,  # noqa: E402
                    DistributionList, ForwardItem, Item, MeetingCancellation, MeetingRequest, MeetingResponse, Message,
                    PostItem, PostReplyItem, ReplyAllToItem, ReplyToItem, Task, TentativelyAcceptItem)
from .properties import Attendee, Body, DLMailbox, HTMLBody, ItemId, Mailbox  # noqa: E402
from .properties.attachments import FileAttachment, ItemAttachment  # noqa: E402
from .properties.extended import UID, ExtendedProperty  # noqa: E402
from .protocol import BaseProtocol, Protocol, close_connections  # noqa: E402
from .restriction import Q, Restriction  # noqa: E402
from .retry import FailFast, FaultTolerance  # noqa: E402
from .settings import OofSettings  # noqa: E402
from .services.shapes import ALL_PROPERTIES as AllProperties  # noqa: E402
from .services.shapes import DEFAULT as Default  # noqa: E402
from .services.shapes import ID_ONLY as IdOnly  # noqa: E402
from .transport import BASIC, DIGEST, GSSAPI, NOAUTH, NTLM, OAUTH2, SSPI  # noqa: E402
from .version import Build, Version  # noqa: E402
from .credentials import (BaseOAuth2Credentials, ClientCertificate, Identity, KerberosCredentials,  # noqa: E402
                          MSALCredentials, OAuth2AuthorizationCodeCredentials, OAuth2Credentials,
                          OAuth2LegacyCredentials)
from .transport import CBA  # noqa: E402

__all__ = [
    "__version__",
    "Account", "DELEGATE", "IMPERSONATION", "Identity", "discover", "close_connections",
    "Configuration", "O365InteractiveConfiguration",
    "BaseCredentials", "Credentials", "ServiceAccount", "AccessTokenCredentials", "OAuth2ClientCredentials",
    "EWSError",
    "EWSDate", "EWSDateTime", "EWSTimeZone", "UTC", "UTC_NOW",
    "BaseFolder", "Folder", "Calendar", "CalendarFolder", "ContactsFolder", "SearchFolder", "TasksFolder",
    "FolderCollection", "RootOfHierarchy", "DEEP", "SHALLOW",
    "Item", "CalendarItem", "Contact", "DistributionList", "MeetingCancellation", "MeetingRequest",
    "MeetingResponse", "Message", "PostItem", "Task",
    "AcceptItem", "TentativelyAcceptItem", "DeclineItem", "CancelCalendarItem", "ForwardItem", "ReplyToItem",
    "ReplyAllToItem", "PostReplyItem",
    "Attendee", "Body", "HTMLBody", "Mailbox", "DLMailbox", "ItemId", "UID", "FileAttachment", "ItemAttachment",
    "ExtendedProperty",
    "BaseProtocol", "NoVerifyHTTPAdapter", "Protocol",
    "Q", "Restriction",
    "FailFast", "FaultTolerance",
    "OofSettings",
    "AllProperties", "Default", "IdOnly",
    "BASIC", "DIGEST", "GSSAPI", "NOAUTH", "NTLM", "OAUTH2", "SSPI",
    "Build", "Version",
]

# Scheduling and directory (issue 14): the names exchangelib 5.x exports at the top level
from .properties.availability import Room, RoomList  # noqa: E402

__all__ += ["Room", "RoomList"]

# Authentication for real deployments (issue 16)
__all__ += ["BaseOAuth2Credentials", "OAuth2Credentials", "OAuth2AuthorizationCodeCredentials", "OAuth2LegacyCredentials",
            "MSALCredentials", "ClientCertificate", "KerberosCredentials", "TLSClientAuth", "CBA"]


def __getattr__(name: str):  # noqa: E302
    # Classes that subclass requests classes: requests is imported only when one is first asked for
    if name in ("NoVerifyHTTPAdapter", "TLSClientAuth"):
        from . import adapters
        return getattr(adapters, name)
    if name == "discover":  # autodiscover (DNS, HTTP, its file cache) loads when first used
        from .autodiscover import discover
        return discover
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
