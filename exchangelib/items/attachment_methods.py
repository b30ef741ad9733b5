"""What items do with attachments: attach, detach, and fetch or stream them from the server.

:class:`AttachmentMethods` is mixed into :class:`~exchangelib.items.base.Item`. On a new item,
``attach()`` and ``detach()`` only change the ``attachments`` list, which CreateItem sends along with
the item. On a saved item they act at once (CreateAttachment / DeleteAttachment), and the item's
change key is updated from the server's answer, as every attachment change is a write to the item.

The attachment models (:mod:`exchangelib.properties.attachments`) call back into this mixin through
their ``parent_item`` to download content (``_fetch_attachment``, ``_stream_attachment``).

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-add-attachments-by-using-ews-in-exchange
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Union

from ..errors import EWSError
from ..properties.attachments import Attachment, FileAttachment, ItemAttachment
from ..services.create_attachment import CreateAttachment
from ..services.delete_attachment import DeleteAttachment
from ..services.get_attachment import GetAttachment
from ..services.get_item import GetItem
from ..services.shapes import ID_ONLY

log = logging.getLogger(__name__)

AttachmentsArg = Union[Attachment, Iterable[Attachment]]


def _as_attachments(value: Any, method: str) -> List[Attachment]:
    items = [value] if isinstance(value, Attachment) else value
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"{method}() expects an attachment or a list of attachments, "
                        f"got {type(value).__name__}") from None
    for a in items:
        if not isinstance(a, Attachment):
            raise TypeError(f"{method}() expects FileAttachment or ItemAttachment objects, got {type(a).__name__}")
    return items


class AttachmentMethods:
    """Attachment handling for items (needs ``account``, ``id``, ``changekey``, ``attachments``, ``_set_id``)."""

    account: Any
    folder: Any
    attachments: Any
    id: Optional[str]
    changekey: Optional[str]
    _set_id: Any
    _set_field: Any

    @classmethod
    def from_xml(cls, elem: Any, account: Any = None) -> Any:
        obj = super().from_xml(elem, account)  # type: ignore[misc]
        attachments = obj.__dict__.get("attachments")
        if attachments:
            for a in attachments:
                a.parent_item = obj
        return obj

    # --- attach / detach ------------------------------------------------------------------------------
    def attach(self, attachments: AttachmentsArg) -> None:
        """Add one attachment or a list of them.

        On a new item they are sent with the item when it is saved. On a saved item they are created on the
        server at once (CreateAttachment); each gets its ``attachment_id`` and the item its new change key.
        An attachment belongs to one item: attaching it to a second one raises ValueError.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createattachment-operation
        """
        new = _as_attachments(attachments, "attach")
        current = list(self.attachments or [])
        for a in new:
            if a.parent_item is not None and a.parent_item is not self:
                raise ValueError(f"{type(a).__name__} {a.name!r} already belongs to another item; detach it "
                                 f"there first, or attach a copy")
            if any(a is c for c in current):
                raise ValueError(f"{type(a).__name__} {a.name!r} is already attached to this item")
            if a.attachment_id is not None:
                raise ValueError(f"{type(a).__name__} {a.name!r} is saved on another item; attach a new "
                                 f"attachment instead")
        if self.id is None:
            for a in new:
                a.parent_item = self
            self._set_field("attachments", current + new)
            return
        self._create_attachments(new)

    def detach(self, attachments: AttachmentsArg) -> None:
        """Remove one attachment or a list of them from this item.

        On a saved item they are deleted on the server at once (DeleteAttachment) and the item gets its new
        change key. Detaching an attachment the item doesn't have raises ValueError.
        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteattachment-operation
        """
        gone = _as_attachments(attachments, "detach")
        current = list(self.attachments or [])
        for a in gone:
            if not any(a is c for c in current):
                raise ValueError(f"{type(a).__name__} {a.name!r} is not attached to this "
                                 f"{type(self).__name__}")
        saved = [a for a in gone if a.attachment_id is not None]
        if saved and self.id is None:
            raise ValueError(f"This {type(self).__name__} has no id, but {saved[0].name!r} has an attachment id")
        errors: List[Exception] = []
        removed: List[Attachment] = [a for a in gone if a.attachment_id is None]
        if saved:
            results = list(DeleteAttachment(account=self._attachment_account(), chunk_size=len(saved)).call(saved))
            changekey = None
            for a, res in zip(saved, results):
                if isinstance(res, Exception):
                    errors.append(res)
                    continue
                removed.append(a)
                if res is not None and res.changekey:
                    changekey = res.changekey
            if changekey:
                self._set_id(self.id, changekey)
        for a in removed:
            a.parent_item = None
            a._set_field("attachment_id", None)
        self._set_field("attachments", [c for c in current if not any(c is r for r in removed)] or None)
        if errors:
            raise errors[0]

    def _create_attachments(self, new: Sequence[Attachment]) -> None:
        account = self._attachment_account()
        for a in new:
            a.parent_item = self
        results = list(CreateAttachment(account=account, chunk_size=max(1, len(new))).call(self, new))
        errors: List[Exception] = []
        created: List[Attachment] = []
        changekey = None
        for a, res in zip(new, results):
            if isinstance(res, Exception) or res is None:
                a.parent_item = None
                errors.append(res if isinstance(res, Exception) else
                              EWSError(f"CreateAttachment returned no id for {a.name!r}"))
                continue
            a._set_id(res.id, res.root_id, res.root_changekey)
            created.append(a)
            if res.root_changekey:
                changekey = res.root_changekey
        if changekey:
            self._set_id(self.id, changekey)
        current = [c for c in (self.attachments or []) if not any(c is n for n in new)]
        self._set_field("attachments", (current + created) or None)
        if errors:
            raise errors[0]

    def _attachment_account(self) -> Any:
        if self.account is None and getattr(getattr(self, "folder", None), "account", None) is not None:
            object.__setattr__(self, "account", self.folder.account)
        if self.account is None:
            raise ValueError(f"This {type(self).__name__} has no account; fetch or save it through an Account "
                             f"to change its attachments on the server")
        return self.account

    # --- hooks for save() ------------------------------------------------------------------------------
    def _attachment_ids_from(self, created: Any) -> None:
        """After CreateItem: take the ids of the attachments sent inline from the created item's answer."""
        answered = created.__dict__.get("attachments") or [] if created is not None else []
        mine = [a for a in (self.attachments or []) if a.attachment_id is None]
        for a, b in zip(mine, answered):
            if b.attachment_id is not None and type(a) is type(b):
                a._set_field("attachment_id", b.attachment_id)
            a.parent_item = self

    def _save_attachments(self) -> None:
        """Called by ``save()`` once the item exists on the server: make every attachment in ``attachments``
        exist there too.

        Attachments sent inline with CreateItem whose ids the answer didn't carry get them from a GetItem
        (matched by kind and name, in order); the others are created with CreateAttachment.
        """
        if self.id is None:
            return
        pending = [a for a in (self.attachments or []) if a.attachment_id is None]
        if not pending:
            return
        known = {a.attachment_id.id for a in (self.attachments or []) if a.attachment_id is not None}
        on_server = [a for a in self._server_attachments() if a.attachment_id is not None
                     and a.attachment_id.id not in known]
        still: List[Attachment] = []
        for a in pending:
            match = next((s for s in on_server if type(s) is type(a) and s.name == a.name), None)
            if match is None:
                still.append(a)
                continue
            on_server.remove(match)
            a._set_field("attachment_id", match.attachment_id)
            a.parent_item = self
        if still:
            self._create_attachments(still)

    def _server_attachments(self) -> List[Attachment]:
        fields = [type(self).FIELDS["attachments"]]  # type: ignore[attr-defined]
        res = next(GetItem(account=self._attachment_account()).call([(self.id, self.changekey)], shape=ID_ONLY,
                                                                     additional_fields=fields))
        if isinstance(res, Exception):
            raise res
        return list(res.attachments or []) if res is not None else []

    # --- downloads (called by the attachment models) ---------------------------------------------------------
    def _fetch_attachment(self, attachment: Attachment) -> None:
        """Fill in a saved attachment's content (file) or item (item attachment) with GetAttachment."""
        if isinstance(attachment, FileAttachment):
            # Read the content off the stream: a big file's base64 text never becomes one XML text node.
            metadata: List[Any] = []
            content = b"".join(GetAttachment(account=self._attachment_account()).stream_file_content(
                attachment, on_metadata=metadata.append))
            attachment._set_field("content", content)
            if metadata:  # the other fields of the answer (content type, size ...) fill what is still unset
                self._fill_attachment_fields(attachment, FileAttachment.from_xml(metadata[0], account=self.account))
            return
        res = next(GetAttachment(account=self._attachment_account()).call([attachment]))
        if isinstance(res, Exception):
            raise res
        if res is None:
            raise EWSError(f"GetAttachment returned nothing for {attachment.name!r}")
        if isinstance(attachment, ItemAttachment):
            item = res.__dict__.get("item")
            if item is not None:
                item.account = self.account
            attachment._set_field("item", item)
        self._fill_attachment_fields(attachment, res)

    @staticmethod
    def _fill_attachment_fields(attachment: Attachment, res: Any) -> None:
        for f in type(attachment).FIELDS:
            if f.name not in ("content", "item", "attachment_id") and attachment.__dict__.get(f.name) is None \
                    and res.__dict__.get(f.name) is not None:
                attachment._set_field(f.name, res.__dict__[f.name])

    def _stream_attachment(self, attachment: Attachment) -> Iterator[bytes]:
        """The content of a saved file attachment, in chunks, straight from the HTTP response."""
        return GetAttachment(account=self._attachment_account()).stream_file_content(attachment)


__all__ = ["AttachmentMethods"]
