"""CreateItem: save new items, and send messages and meeting invitations.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional

from ..errors import OutcomeUnknownError
from ..registry import ITEM_CLASSES
from ..xml import Element, add_child, create_element
from .common import NOT_DONE, EWSService, Result
from .exactly_once import find_written, new_token, stamp, token_of
from .get_item import parse_items_container
from .ids import folder_id_xml

SAVE_ONLY = "SaveOnly"
SEND_ONLY = "SendOnly"
SEND_AND_SAVE_COPY = "SendAndSaveCopy"
MESSAGE_DISPOSITION_CHOICES = (SAVE_ONLY, SEND_ONLY, SEND_AND_SAVE_COPY)
SEND_MEETING_INVITATIONS_CHOICES = ("SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy")
# Where Exchange saves an item created without SavedItemFolderId, by item element (account attribute)
_DEFAULT_FOLDERS = {"CalendarItem": "calendar", "Contact": "contacts", "DistributionList": "contacts", "Task": "tasks",
                    "PostItem": "inbox", "Message": "drafts", "Item": "drafts"}


class CreateItem(EWSService):
    """Exactly-once: every item carries a write token (see :mod:`.exactly_once`). After a lost answer, the
    items found in the target folder are reported created and only the others are sent again. With
    ``SendOnly`` no copy is kept to look for, so such items are reported as OutcomeUnknownError and never
    sent twice."""

    SERVICE_NAME = "CreateItem"
    IDEMPOTENT = False

    def call(self, items: Iterable[Any], folder: Any = None, message_disposition: Optional[str] = SAVE_ONLY,
             send_meeting_invitations: Optional[str] = "SendToNone",
             write_tokens: Optional[Iterable[str]] = None) -> Iterator[Result]:
        """Yields, per item, a model instance carrying the new id/changekey (True for SendOnly), or the exception.

        ``write_tokens`` (one per item, in order) replaces the random write tokens, e.g. with tokens derived
        from a source item, so that even a later run can find what an interrupted one created.
        """
        if message_disposition is not None and message_disposition not in MESSAGE_DISPOSITION_CHOICES:
            raise ValueError(f"message_disposition must be one of {MESSAGE_DISPOSITION_CHOICES}, "
                             f"got {message_disposition!r}")
        if send_meeting_invitations is not None and send_meeting_invitations not in SEND_MEETING_INVITATIONS_CHOICES:
            raise ValueError(f"send_meeting_invitations must be one of {SEND_MEETING_INVITATIONS_CHOICES}, "
                             f"got {send_meeting_invitations!r}")
        version = self.version
        mailbox = self.account.primary_smtp_address if self.account is not None else None
        self._folder = folder
        self._disposition = message_disposition
        tokens = iter(write_tokens) if write_tokens is not None else None

        def payload(chunk: List[Element]) -> Element:
            attrs = {}
            if message_disposition:
                attrs["MessageDisposition"] = message_disposition
            if send_meeting_invitations:
                attrs["SendMeetingInvitations"] = send_meeting_invitations
            elem = create_element("m:CreateItem", attrs)
            if folder is not None:
                saved = add_child(elem, "m:SavedItemFolderId")
                saved.append(folder_id_xml(folder, mailbox))
            container = add_child(elem, "m:Items")
            for item_xml in chunk:
                container.append(item_xml)
            return elem

        def prepare(item: Any) -> Element:
            if not hasattr(item, "to_xml"):
                raise TypeError(f"CreateItem expects item objects, got {type(item).__name__}")
            token = next(tokens) if tokens is not None else new_token()
            item.clean(version)
            return stamp(item.to_xml(version), token)

        return self.chunked(items, payload, prepare=prepare)

    def parse_message(self, msg: Element) -> List[Any]:
        items = parse_items_container(msg, self.account)
        return items[:1] if items else [True]

    def _search_folder(self, item_xml: Element) -> Any:
        """The folder where the created item (or the sent item's copy) ends up, or None if none is kept."""
        if self._disposition == SEND_ONLY or self.account is None:
            return None
        if self._folder is not None:
            return self._folder
        if self._disposition == SEND_AND_SAVE_COPY:
            return self.account.sent
        name = _DEFAULT_FOLDERS.get(item_xml.tag.rsplit("}", 1)[-1])
        return getattr(self.account, name) if name else None

    def reconcile(self, chunk: List[Element], error: OutcomeUnknownError) -> Optional[List[Any]]:
        by_folder: dict = {}
        for i, item_xml in enumerate(chunk):
            folder = self._search_folder(item_xml)
            token = token_of(item_xml)
            if folder is None or token is None:
                return None  # nowhere to look: unknown
            by_folder.setdefault(id(folder), (folder, []))[1].append((i, token))
        out: List[Any] = [NOT_DONE] * len(chunk)
        for folder, entries in by_folder.values():
            found = find_written(self.account, folder, [t for _, t in entries])
            for i, token in entries:
                ids = found.get(token)
                if ids:
                    if self._disposition not in (SAVE_ONLY, None):
                        out[i] = True  # sent; the copy is in Sent Items
                        continue
                    item_id, changekey = ids[0]
                    tag = chunk[i].tag.rsplit("}", 1)[-1]
                    cls = ITEM_CLASSES.get(tag)
                    elem = create_element(f"t:{tag}")
                    add_child(elem, "t:ItemId", {"Id": item_id, "ChangeKey": changekey})
                    out[i] = cls.from_xml(elem, account=self.account) if cls is not None else True
        return out

    def unknown_error(self, given: Element, error: OutcomeUnknownError) -> OutcomeUnknownError:
        token = token_of(given)
        where = self._search_folder(given)
        how = (f"search {where!r} with exchangelib.services.exactly_once.find_written(account, folder, "
               f"[{token!r}])" if where is not None else
               "look in the recipients' mailboxes or ask them: a SendOnly message keeps no copy to search")
        return OutcomeUnknownError(
            f"The answer to CreateItem was lost ({error.cause or error}); the item may or may not exist. It was not "
            f"sent again. To check, {how}.", operation=self.SERVICE_NAME, write_token=token, cause=error.cause)
