"""Code written for exchangelib 5.x runs unchanged: its public names, import paths and documented behaviour.

The name lists are exchangelib 5.6.0's ``__all__`` and the imports its documentation shows; the
behaviour tests are its documented examples, run against the local server.
"""
from __future__ import annotations

import datetime
import importlib
import uuid

import pytest

import exchangelib
from exchangelib import (UID, Account, CalendarItem, Contact, DistributionList, EWSDateTime, EWSTimeZone,
                         ExtendedProperty, FileAttachment, Folder, FolderCollection, Message, PostItem)
from exchangelib.errors import DoesNotExist, ErrorFolderNotFound
from exchangelib.folders import SingleFolderQuerySet
from exchangelib.properties import DistinguishedFolderId, Mailbox
from exchangelib.testing import LocalExchange

JOHN = "john@example.com"
MARY = "mary@example.com"

# exchangelib 5.6.0's exchangelib.__all__
PEER_TOP_LEVEL = [
    "AcceptItem", "Account", "Attendee", "BASIC", "BaseProtocol", "Body", "Build", "CBA", "CalendarItem",
    "CancelCalendarItem", "Configuration", "Contact", "Credentials", "DEEP", "DELEGATE", "DIGEST", "DLMailbox",
    "DeclineItem", "DistributionList", "EWSDate", "EWSDateTime", "EWSTimeZone", "ExtendedProperty", "FailFast",
    "FaultTolerance", "FileAttachment", "Folder", "FolderCollection", "ForwardItem", "GSSAPI", "HTMLBody",
    "IMPERSONATION", "Identity", "ItemAttachment", "ItemId", "Mailbox", "Message", "NTLM", "NoVerifyHTTPAdapter",
    "OAUTH2", "O365InteractiveConfiguration", "OAuth2AuthorizationCodeCredentials", "OAuth2Credentials",
    "OAuth2LegacyCredentials", "OofSettings", "PostItem", "PostReplyItem", "Q", "ReplyAllToItem", "ReplyToItem", "Room", "RoomList",
    "RootOfHierarchy",
    "SHALLOW", "SSPI", "TLSClientAuth", "Task", "TentativelyAcceptItem", "UID", "UTC", "UTC_NOW", "Version", "__version__",
    "close_connections", "discover",
]

# Imports shown in exchangelib 5.6.0's documentation (module -> names).
PEER_DOCUMENTED_IMPORTS = {
    "exchangelib.folders": ["Calendar", "Folder", "SingleFolderQuerySet", "FolderCollection", "DEEP", "SHALLOW",
                            "RootOfHierarchy", "Inbox"],
    "exchangelib.properties": ["DistinguishedFolderId", "Mailbox", "ItemId", "UID", "DLMailbox", "AlternateId",
                               "EWS_ID", "OWA_ID", "Actions", "Conditions", "Exceptions", "Rule", "CopiedEvent",
                               "CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent", "NewMailEvent",
                               "StatusEvent", "FreeBusyChangedEvent", "PermissionSet", "Permission",
                               "CalendarPermission", "UserId", "EmailAddress",
                               "PhoneNumber", "PhysicalAddress", "Attendee", "Body", "HTMLBody"],
    "exchangelib.autodiscover": ["Autodiscovery", "clear_cache", "discover"],
    "exchangelib.protocol": ["BaseProtocol", "NoVerifyHTTPAdapter", "FaultTolerance", "FailFast",
                             "close_connections"],
    "exchangelib.items": ["SEND_ONLY_TO_ALL", "SEND_ONLY_TO_CHANGED", "SEND_TO_ALL_AND_SAVE_COPY", "MeetingRequest",
                          "MeetingCancellation", "SAVE_ONLY", "SEND_ONLY", "SEND_AND_SAVE_COPY", "HARD_DELETE",
                          "SOFT_DELETE", "MOVE_TO_DELETED_ITEMS", "ALL_OCCURRENCES", "SPECIFIED_OCCURRENCE_ONLY",
                          "AUTO_RESOLVE", "ALWAYS_OVERWRITE", "NEVER_OVERWRITE", "SEND_TO_NONE",
                          "SEND_TO_CHANGED_AND_SAVE_COPY", "SHALLOW", "ASSOCIATED", "SOFT_DELETED", "Contact",
                          "Message", "CalendarItem", "PostReplyItem"],
    "exchangelib.indexed_properties": ["EmailAddress", "PhoneNumber", "PhysicalAddress"],
    "exchangelib.attachments": ["FileAttachment", "ItemAttachment"],
    "exchangelib.extended_properties": ["ExtendedProperty"],
    "exchangelib.fields": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY",
                           "JANUARY", "DECEMBER", "FIRST", "LAST", "WEEKDAYS", "MONTHS", "WEEK_NUMBERS", "DAY",
                           "WEEK_DAY", "WEEKEND_DAY"],
    "exchangelib.recurrence": ["Recurrence", "WeeklyPattern", "DailyPattern", "AbsoluteMonthlyPattern",
                               "RelativeMonthlyPattern", "AbsoluteYearlyPattern", "RelativeYearlyPattern",
                               "NoEndPattern", "EndDatePattern", "NumberedPattern"],
    "exchangelib.errors": ["ErrorItemNotFound", "ErrorFolderNotFound", "ErrorAccessDenied", "ErrorServerBusy",
                           "DoesNotExist", "MultipleObjectsReturned", "UnauthorizedError", "TransportError",
                           "RateLimitError", "ErrorNonExistentMailbox", "ErrorInvalidIdMalformed"],
    "exchangelib.util": ["PrettyXmlHandler"],
    "exchangelib.winzone": ["MS_TIMEZONE_TO_IANA_MAP"],
    "exchangelib.ewsdatetime": ["EWSDate", "EWSDateTime", "EWSTimeZone", "UTC", "UTC_NOW"],
    "exchangelib.services": ["EWSService", "GetItem", "FindItem", "CreateItem", "UpdateItem", "DeleteItem",
                             "ResolveNames", "ExportItems", "UploadItems", "ConvertId", "SendNotification",
                             "SyncFolderItems", "SyncFolderHierarchy", "GetUserAvailability", "ExpandDL"],
    "exchangelib.account": ["Account", "Identity", "DELEGATE", "IMPERSONATION"],
    "exchangelib.configuration": ["Configuration"],
    "exchangelib.credentials": ["Credentials", "BaseCredentials"],
    "exchangelib.version": ["Build", "Version"],
    "exchangelib.restriction": ["Q"],
    "exchangelib.queryset": ["QuerySet"],
}


def test_every_peer_top_level_name_is_exported():
    missing = [n for n in PEER_TOP_LEVEL if not hasattr(exchangelib, n)]
    assert missing == []
    not_listed = [n for n in PEER_TOP_LEVEL if n != "__version__" and n not in exchangelib.__all__]
    assert not_listed == []


@pytest.mark.parametrize("module", sorted(PEER_DOCUMENTED_IMPORTS))
def test_documented_import_paths(module):
    mod = importlib.import_module(module)
    missing = [n for n in PEER_DOCUMENTED_IMPORTS[module] if not hasattr(mod, n)]
    assert missing == [], f"from {module} import {', '.join(missing)} fails"


def test_tuning_knobs_and_class_attributes():
    from exchangelib.autodiscover import Autodiscovery
    from exchangelib.services import EWSService, FindItem, GetItem

    assert EWSService.PAGE_SIZE == 100 and EWSService.CHUNK_SIZE == 100
    old = EWSService.PAGE_SIZE, EWSService.CHUNK_SIZE
    try:  # the peer documents changing the defaults globally on EWSService
        EWSService.PAGE_SIZE, EWSService.CHUNK_SIZE = 25, 7
        assert FindItem(protocol=object()).page_size == 25
        assert GetItem(protocol=object()).chunk_size == 7
    finally:
        EWSService.PAGE_SIZE, EWSService.CHUNK_SIZE = old
    assert isinstance(Autodiscovery.DNS_RESOLVER_ATTRS, dict)
    assert Autodiscovery.INITIAL_RETRY_POLICY.fail_fast


def test_uid_global_object_id_follows_ms_oxocal():
    goid = UID.to_global_object_id("040000008200E00074C5B7101A82E00800000000ABCD")
    assert goid == bytes.fromhex("040000008200E00074C5B7101A82E00800000000ABCD")  # an Outlook id is its bytes
    goid = UID.to_global_object_id("my-uid@example.com")
    assert goid[:16] == bytes.fromhex("040000008200E00074C5B7101A82E008")
    assert goid[16:36] == bytes(20)
    size = int.from_bytes(goid[36:40], "little")
    assert goid[40:] == b"vCal-Uid\x01\x00\x00\x00my-uid@example.com\x00" and size == len(goid) - 40
    with pytest.raises(ValueError, match="UID string"):
        UID.to_global_object_id("")


# --------------------------------------------------------------------------------------------------------------
# Documented behaviour, against the local server
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture
def john(exchange: LocalExchange) -> Account:
    return exchange.account(JOHN)


def _tag() -> str:
    return f"compat-{uuid.uuid4().hex[:8]}"


def test_get_by_id_and_changekey(john):
    t = _tag()
    m = Message(account=john, folder=john.inbox, subject=t, body="hi")
    m.save()
    got = john.inbox.get(id=m.id, changekey=m.changekey)
    assert got.subject == t and got.id == m.id and got.body == "hi"
    assert john.inbox.get(id=m.id).subject == t
    assert john.inbox.all().only("subject").get(id=m.id).body is None  # only() is honoured
    gone = m.id
    m.delete()
    with pytest.raises(DoesNotExist, match="No item with id"):
        john.inbox.get(id=gone)


def test_attachments_is_a_list_never_none(john):
    t = _tag()
    Message(account=john, folder=john.inbox, subject=t).save()
    found = john.inbox.get(subject=t)
    assert found.attachments == []
    for a in found.attachments:  # the loop users write must not crash
        raise AssertionError(a)
    assert Message().attachments == []
    found.delete()


def test_calendar_view_order_by_sorts_client_side(john):
    tz = EWSTimeZone("Europe/Copenhagen")
    start = EWSDateTime(2031, 3, 3, 8, 0, tzinfo=tz)
    t = _tag()
    subjects = [f"{t} c", f"{t} a", f"{t} b"]
    items = [CalendarItem(account=john, folder=john.calendar, subject=s, start=start + datetime.timedelta(hours=i),
                          end=start + datetime.timedelta(hours=i, minutes=30)) for i, s in enumerate(subjects)]
    john.bulk_create(folder=john.calendar, items=items)
    view = john.calendar.view(start=start, end=start + datetime.timedelta(hours=4))
    assert [i.subject for i in view] == subjects  # by start, as Exchange returns a view
    assert [i.subject for i in view.order_by("subject")] == sorted(subjects)
    assert [i.subject for i in view.order_by("-subject")] == sorted(subjects, reverse=True)
    assert list(view.order_by("-subject").values_list("subject", flat=True))[:2] == sorted(subjects)[::-1][:2]
    assert [i.subject for i in view.only("start").order_by("subject")[:1]] == [sorted(subjects)[0]]
    with pytest.raises(ValueError, match="no restriction with a calendar view"):
        view.filter(subject="x")
    john.bulk_delete(ids=items)


def test_values_list_on_an_indexed_property_gives_none_for_items_without_it(john):
    t = _tag()
    folder = Folder(parent=john.contacts, name=t, folder_class="IPF.Contact")
    folder.save()
    from exchangelib.indexed_properties import PhoneNumber

    Contact(account=john, folder=folder, display_name=f"{t} with", given_name="with",
            phone_numbers=[PhoneNumber(label="CarPhone", phone_number="123")]).save()
    Contact(account=john, folder=folder, display_name=f"{t} without", given_name="without").save()
    DistributionList(account=john, folder=folder, display_name=f"{t} list").save()
    values = sorted(folder.all().values_list("phone_numbers__CarPhone", flat=True), key=str)
    assert values == ["123", None, None]
    folder.delete()


def test_folder_collection_searches_many_folders(john, exchange):
    t = _tag()
    Message(account=john, folder=john.inbox, subject=t).save()
    Message(account=john, folder=john.drafts, subject=t).save()
    Message(account=john, folder=john.junk, subject=t).save()
    coll = FolderCollection(account=john, folders=[john.inbox, john.drafts])
    exchange.reset_stats()
    assert sorted(m.subject for m in coll.filter(subject=t)) == [t, t]
    assert exchange.request_count("FindItem") == 2  # one result set per folder
    assert {m.folder.name for m in coll.filter(subject=t)} == {john.inbox.name, john.drafts.name}
    assert [m.subject for m in coll.filter(subject=t)[1:]] == [t] and len(list(coll.filter(subject=t)[-1:])) == 1
    assert coll.filter(subject=t).exists() and not coll.filter(subject=t + "x").exists()
    assert coll.filter(subject=t).count() == 2
    assert len(coll) == 2 and list(coll) == [john.inbox, john.drafts]
    assert FolderCollection(account=john, folders=[]).filter(subject=t).count() == 0
    # children / walk() / glob() return collections that search too
    parent = Folder(parent=john.inbox, name=t)
    parent.save()
    child = Folder(parent=parent, name="sub")
    child.save()
    Message(account=john, folder=child, subject=t).save()
    assert [m.subject for m in parent.children.filter(subject=t)] == [t]
    assert [m.subject for m in parent.walk().filter(subject=t)] == [t]
    assert [m.subject for m in parent.glob("s*").filter(subject=t)] == [t]
    john.inbox.filter(subject=t).delete()
    john.drafts.filter(subject=t).delete()
    john.junk.filter(subject=t).delete()
    parent.delete()


def test_floordiv_finds_a_subfolder_without_the_cache(john):
    t = _tag()
    parent = Folder(parent=john.inbox, name=t)
    parent.save()
    Folder(parent=parent, name="deeper").save()
    found = john.inbox // t // "deeper"
    assert found.name == "deeper" and found.account is john
    with pytest.raises(ErrorFolderNotFound, match="nope"):
        john.inbox // t // "nope"
    parent.delete()


def test_wipe_deletes_items_and_subfolders(john):
    t = _tag()
    top = Folder(parent=john.inbox, name=t)
    top.save()
    sub = Folder(parent=top, name="sub")
    sub.save()
    Message(account=john, folder=top, subject=t).save()
    Message(account=john, folder=sub, subject=t).save()
    top.wipe()
    assert top.all().count() == 0
    john.root.refresh()
    assert [f.name for f in (john.inbox // t).children] == []
    top.delete()


def test_queryset_delete_takes_page_and_chunk_size(john, exchange):
    t = _tag()
    john.bulk_create(folder=john.inbox, items=[Message(subject=t) for _ in range(7)])
    exchange.reset_stats()
    results = john.inbox.filter(subject=t).delete(page_size=3, chunk_size=2)
    assert results == [True] * 7
    assert exchange.request_count("FindItem") == 3 and exchange.request_count("DeleteItem") == 4
    assert john.inbox.filter(subject=t).count() == 0


def test_identity_sid_is_sent_for_impersonation(exchange):
    from exchangelib import IMPERSONATION, Configuration

    users = {u.primary_smtp_address: u for u in exchange.users}
    app = exchange.account(JOHN)
    config = Configuration(service_endpoint=exchange.url, credentials=app.protocol.credentials,
                           auth_type=app.protocol.auth_type, version=app.version)
    mary = Account(MARY, config=config, access_type=IMPERSONATION)
    assert mary.identity.primary_smtp_address == MARY
    mary.identity.sid = users[MARY].sid
    assert mary._connecting_sid() == ("SID", users[MARY].sid)
    mary.identity.sid = None
    mary.identity.upn = "nobody-at-all@example.com"
    assert mary._connecting_sid() == ("PrincipalName", "nobody-at-all@example.com")
    with pytest.raises(ValueError, match="non-empty str"):
        mary.identity.sid = ""


def test_create_forward_draft_then_send(john, exchange):
    t = _tag()
    m = Message(account=john, folder=john.inbox, subject=t, body="original")
    m.save()
    draft = m.create_forward(subject=f"Fwd: {t}", body="look", to_recipients=[MARY]).save(john.drafts)
    forward_draft = john.drafts.get(id=draft.id, changekey=draft.changekey)
    forward_draft.attach(FileAttachment(name="my_file.txt", content=b"hello world"))
    forward_draft.send()
    mary = exchange.account(MARY)
    got = mary.inbox.get(subject=f"Fwd: {t}")
    assert [a.name for a in got.attachments] == ["my_file.txt"]
    got.delete()
    m.delete()


def test_post_reply(john):
    t = _tag()
    post = PostItem(account=john, folder=john.inbox, subject=t, body="first post")
    post.save()
    reply = post.post_reply(body="a reply")
    assert reply is not None
    found = john.inbox.get(subject=f"RE: {t}")
    assert isinstance(found, PostItem) and "a reply" in found.body and "first post" in found.body
    with pytest.raises(TypeError, match="posted to a folder, not sent"):
        post.create_post_reply().send()
    john.inbox.filter(subject__contains=t).delete()


def test_single_folder_queryset_resolves_a_distinguished_folder(john):
    own = SingleFolderQuerySet(account=john, folder=Folder(
        root=john.root, _distinguished_id=DistinguishedFolderId(id="calendar", mailbox=Mailbox(
            email_address=JOHN)))).resolve()
    assert own.id == john.calendar.id and own.account is john
    with pytest.raises(TypeError, match="DistinguishedFolderId"):
        Folder(_distinguished_id="calendar")


def test_close_connections_keeps_accounts_usable(john):
    john.inbox.all().count()
    exchangelib.close_connections()
    assert john.protocol._session_pool.qsize() == 0
    assert john.inbox.all().count() >= 0  # new connections on demand


def test_uid_extended_property_registers_and_searches(john):
    CalendarItem.register("global_object_id", UID)
    try:
        assert issubclass(UID, ExtendedProperty)
        t = _tag()
        start = EWSDateTime(2031, 5, 5, 9, tzinfo=EWSTimeZone("UTC"))
        goid = UID.to_global_object_id(f"{t}@example.com")
        item = CalendarItem(account=john, folder=john.calendar, subject=t, start=start,
                            end=start + datetime.timedelta(hours=1), global_object_id=goid)
        item.save()
        assert john.calendar.get(global_object_id=goid).subject == t
        item.delete()
    finally:
        CalendarItem.deregister("global_object_id")


def test_subscriptions_on_the_account_and_on_folder_collections(john, exchange):
    from exchangelib.properties import NewMailEvent

    sub_all, watermark = john.subscribe_to_pull()
    coll = FolderCollection(account=john, folders=[john.inbox, john.drafts])
    sub_coll, wm_coll = coll.subscribe_to_pull()
    t = _tag()
    Message(account=exchange.account(MARY), subject=t, to_recipients=[JOHN]).send()
    for sub, wm, where in ((sub_all, watermark, john), (sub_coll, wm_coll, coll)):
        events = [e for n in where.get_events(sub, wm) for e in n.events]
        assert any(isinstance(e, NewMailEvent) for e in events), events
        where.unsubscribe(sub)
    with pytest.raises(ValueError, match="one folder"):
        list(coll.sync_items())
    single = FolderCollection(account=john, folders=[john.inbox])
    assert any(item.subject == t for change, item in single.sync_items() if change == "create")
    john.inbox.filter(subject=t).delete()
