"""Helpers for the operation-handler tests: build requests from XML snippets, call handlers
directly (no HTTP), and validate every request and response against the EWS schema."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable, List, Optional, Sequence

from lxml import etree

import exchangelib.testing.ops  # noqa: F401  (registers the handlers)
from exchangelib.testing.context import OPERATIONS, RequestContext
from exchangelib.testing.schema import validate
from exchangelib.testing.store import Store
from exchangelib.xml import MNS, TNS

NS = {"m": MNS, "t": TNS}
_WRAP = f'<wrap xmlns:m="{MNS}" xmlns:t="{TNS}">{{}}</wrap>'


class FakeClock:
    """A clock advancing one second per call, so creation order is visible in timestamps."""

    def __init__(self, start: datetime = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)):
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make_store(build: tuple = (15, 1, 2507, 6), archive: bool = False) -> Store:
    store = Store(build, clock=FakeClock())
    store.add_mailbox("alice@example.com", "Alice Andersen", aliases=("ali@example.com",), archive=archive)
    store.add_mailbox("bob@example.com", "Bob Berg")
    store.add_mailbox("bobby@example.com", "Bobby Tables")
    return store


def make_ctx(store: Store, address: str = "alice@example.com", version: str = "Exchange2016",
             delegates: Sequence[tuple] = ()) -> RequestContext:
    mb = store.get_mailbox(address)
    return RequestContext(store=store, caller=mb.primary_smtp_address, mailbox=mb, requested_version=version,
                          server_build=store.server_build,
                          can_access=lambda caller, target: caller == target or (caller, target) in delegates)


def xml(snippet: str) -> etree._Element:
    """Parse an 'm:'/'t:'-prefixed snippet into a standalone element."""
    wrapper = etree.fromstring(_WRAP.format(snippet).encode("utf-8"))
    return etree.fromstring(etree.tostring(wrapper[0]))


def assert_valid(elem: etree._Element, what: str) -> None:
    ok, error = validate(etree.fromstring(etree.tostring(elem)))
    assert ok, f"{what} does not validate: {error}\n{etree.tostring(elem, pretty_print=True).decode()}"


def call(ctx: RequestContext, snippet: str) -> etree._Element:
    """Validate the request, run its handler, validate and return the response."""
    request = xml(snippet)
    assert_valid(request, "request")
    name = etree.QName(request).localname
    response = OPERATIONS[name](ctx, request)
    assert_valid(response, f"{name} response")
    return response


def messages(response: etree._Element) -> List[etree._Element]:
    return list(response.find(f"{{{MNS}}}ResponseMessages"))


def codes(response: etree._Element) -> List[str]:
    return [m.findtext(f"{{{MNS}}}ResponseCode") for m in messages(response)]


def classes(response: etree._Element) -> List[str]:
    return [m.get("ResponseClass") for m in messages(response)]


def find(elem: etree._Element, path: str) -> Optional[etree._Element]:
    return elem.find(path, NS)


def findall(elem: etree._Element, path: str) -> List[etree._Element]:
    return elem.findall(path, NS)


def text(elem: etree._Element, path: str) -> Optional[str]:
    return elem.findtext(path, namespaces=NS)


def item_ids(response: etree._Element) -> List[tuple]:
    """(Id, ChangeKey) of every t:ItemId in the response's Items, in order."""
    return [(e.get("Id"), e.get("ChangeKey")) for e in response.iterfind(".//m:Items/*/t:ItemId", NS)]


def item_id_xml(ids: Iterable[tuple]) -> str:
    return "".join(f'<t:ItemId Id="{i}"' + (f' ChangeKey="{ck}"' if ck else "") + "/>" for i, ck in ids)


def mailbox_xml(address: str, name: Optional[str] = None) -> str:
    inner = (f"<t:Name>{name}</t:Name>" if name else "") + f"<t:EmailAddress>{address}</t:EmailAddress>"
    return f"<t:Mailbox>{inner}</t:Mailbox>"


def create_items(ctx: RequestContext, items_xml: str, folder: Optional[str] = None,
                 disposition: Optional[str] = "SaveOnly", invitations: Optional[str] = None) -> etree._Element:
    attrs = ""
    if disposition:
        attrs += f' MessageDisposition="{disposition}"'
    if invitations:
        attrs += f' SendMeetingInvitations="{invitations}"'
    saved = f'<m:SavedItemFolderId><t:DistinguishedFolderId Id="{folder}"/></m:SavedItemFolderId>' if folder else ""
    return call(ctx, f"<m:CreateItem{attrs}>{saved}<m:Items>{items_xml}</m:Items></m:CreateItem>")


def message_xml(subject: str, body: str = "Hello", to: Sequence[str] = (), cc: Sequence[str] = (),
                bcc: Sequence[str] = (), categories: Sequence[str] = (), importance: Optional[str] = None,
                is_read: Optional[bool] = None, extra: str = "") -> str:
    parts = [f"<t:Subject>{subject}</t:Subject>", f'<t:Body BodyType="Text">{body}</t:Body>']
    if categories:
        parts.append("<t:Categories>" + "".join(f"<t:String>{c}</t:String>" for c in categories)
                     + "</t:Categories>")
    if importance:
        parts.append(f"<t:Importance>{importance}</t:Importance>")
    parts.append(extra)
    for tag, addrs in (("ToRecipients", to), ("CcRecipients", cc), ("BccRecipients", bcc)):
        if addrs:
            parts.append(f"<t:{tag}>" + "".join(mailbox_xml(a) for a in addrs) + f"</t:{tag}>")
    if is_read is not None:
        parts.append(f"<t:IsRead>{'true' if is_read else 'false'}</t:IsRead>")
    return "<t:Message>" + "".join(parts) + "</t:Message>"


def calendar_xml(subject: str, start: str, end: str, required: Sequence[str] = (), location: str = "",
                 categories: Sequence[str] = ()) -> str:
    parts = [f"<t:Subject>{subject}</t:Subject>"]
    if categories:
        parts.append("<t:Categories>" + "".join(f"<t:String>{c}</t:String>" for c in categories)
                     + "</t:Categories>")
    parts.append(f"<t:Start>{start}</t:Start><t:End>{end}</t:End>")
    if location:
        parts.append(f"<t:Location>{location}</t:Location>")
    if required:
        parts.append("<t:RequiredAttendees>" + "".join(
            f"<t:Attendee>{mailbox_xml(a)}</t:Attendee>" for a in required) + "</t:RequiredAttendees>")
    return "<t:CalendarItem>" + "".join(parts) + "</t:CalendarItem>"


def find_items(ctx: RequestContext, folder: str = "inbox", shape: str = "Default", additional: str = "",
               restriction: str = "", sort: str = "", view: str = "", traversal: str = "Shallow",
               query: str = "", folder_xml: Optional[str] = None) -> etree._Element:
    add = f"<t:AdditionalProperties>{additional}</t:AdditionalProperties>" if additional else ""
    parent = folder_xml or f'<t:DistinguishedFolderId Id="{folder}"/>'
    return call(ctx, f'<m:FindItem Traversal="{traversal}"><m:ItemShape><t:BaseShape>{shape}</t:BaseShape>{add}'
                     f"</m:ItemShape>{view}"
                     + (f"<m:Restriction>{restriction}</m:Restriction>" if restriction else "")
                     + (f"<m:SortOrder>{sort}</m:SortOrder>" if sort else "")
                     + f"<m:ParentFolderIds>{parent}</m:ParentFolderIds>"
                     + (f"<m:QueryString>{query}</m:QueryString>" if query else "") + "</m:FindItem>")


def subjects(response: etree._Element) -> List[str]:
    return [e.findtext(f"{{{TNS}}}Subject") for e in response.iterfind(".//m:RootFolder/t:Items/*", NS)]


def get_items(ctx: RequestContext, ids: Iterable[tuple], shape: str = "AllProperties", additional: str = "",
              body_type: str = "") -> etree._Element:
    add = f"<t:AdditionalProperties>{additional}</t:AdditionalProperties>" if additional else ""
    bt = f"<t:BodyType>{body_type}</t:BodyType>" if body_type else ""
    return call(ctx, f"<m:GetItem><m:ItemShape><t:BaseShape>{shape}</t:BaseShape>{bt}{add}</m:ItemShape>"
                     f"<m:ItemIds>{item_id_xml(ids)}</m:ItemIds></m:GetItem>")
