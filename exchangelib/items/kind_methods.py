"""Actions of particular item kinds: sending and answering messages, answering and cancelling meetings,
completing tasks. Each mixin is added to its item classes' bases (see message.py, meeting.py, ...).
"""
from __future__ import annotations

import decimal
import logging
from typing import Any, ClassVar, Iterable, Optional

from ..properties import ItemId
from ..services import GetItem, SendItem
from ..services.create_item import SAVE_ONLY, SEND_AND_SAVE_COPY, SEND_ONLY
from ..services.shapes import ID_ONLY
from ..services.update_item import AUTO_RESOLVE
from .methods import item_reference, one_result
from .response import (
    AcceptItem, CancelCalendarItem, DeclineItem, ForwardItem, MeetingAnswer, ReplyAllToItem, ReplyToItem,
    SmartResponse, TentativelyAcceptItem,
)

log = logging.getLogger(__name__)

MESSAGE_DISPOSITIONS = (SAVE_ONLY, SEND_ONLY, SEND_AND_SAVE_COPY)
_TASK_DONE_FIELDS = ("status", "percent_complete", "complete_date", "is_complete", "status_description",
                     "change_count")


class MessageMethods:
    """Sending, replying to and forwarding messages (mixed into :class:`~exchangelib.items.Message`)."""

    _FROZEN_AFTER_SEND: ClassVar[bool] = True
    account: Any
    folder: Any
    id: Optional[str]
    changekey: Optional[str]

    def send(self, save_copy: bool = False, copy_to_folder: Any = None,
             conflict_resolution: str = AUTO_RESOLVE) -> None:
        """Send the message.

        A new message is sent at once (CreateItem, SendOnly), without a copy unless ``save_copy`` is True
        (then SendAndSaveCopy; the copy goes to ``copy_to_folder``, default Sent Items). A saved draft is
        sent with SendItem, after saving any changed fields. Afterwards the object no longer names a server
        item (``id`` is None); ``folder`` is where the copy went, if any.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/senditem-operation
        """
        if not isinstance(save_copy, bool):
            raise TypeError(f"save_copy must be a bool, got {save_copy!r}")
        if copy_to_folder is not None and not save_copy:
            raise ValueError("copy_to_folder can only be given when save_copy is True")
        account = self._require_account()  # type: ignore[attr-defined]
        if self.id is None:
            self._create(SEND_AND_SAVE_COPY if save_copy else SEND_ONLY,  # type: ignore[attr-defined]
                         folder=copy_to_folder)
        else:
            self._update(None, conflict_resolution=conflict_resolution)  # type: ignore[attr-defined]
            res = next(SendItem(account=account).call([(self.id, self.changekey)], save_item_to_folder=save_copy,
                                                      saved_item_folder=copy_to_folder))
            if isinstance(res, Exception):
                raise res
        self._forget_id(copy_to_folder if save_copy else None)  # type: ignore[attr-defined]
        self._mark_clean()  # type: ignore[attr-defined]

    def send_and_save(self, conflict_resolution: str = AUTO_RESOLVE) -> None:
        """Send the message and keep a copy: in ``item.folder`` for a new message (default Sent Items), in
        Sent Items for a saved draft.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation
        """
        copy_to = self.folder if self.id is None else None
        self.send(save_copy=True, copy_to_folder=copy_to, conflict_resolution=conflict_resolution)

    # --- replies and forwards ---------------------------------------------------------------------------
    def _smart_response(self, cls: type, subject: Optional[str], body: Optional[str], to_recipients: Any,
                        cc_recipients: Any, bcc_recipients: Any, author: Any) -> SmartResponse:
        self._require_account()  # type: ignore[attr-defined]
        ref = item_reference(self, cls.__name__)
        kwargs = {"subject": subject, "new_body": body, "to_recipients": to_recipients,
                  "cc_recipients": cc_recipients, "bcc_recipients": bcc_recipients, "author": author}
        obj = cls(account=self.account, reference_item_id=ItemId(*ref),
                  **{k: v for k, v in kwargs.items() if v is not None})
        return obj

    def create_reply(self, subject: Optional[str] = None, body: Optional[str] = None, to_recipients: Any = None,
                     cc_recipients: Any = None, bcc_recipients: Any = None, author: Any = None) -> ReplyToItem:
        """A :class:`~exchangelib.items.response.ReplyToItem` for this message, to change, ``send()`` or
        ``save()``. Unset values are filled in by Exchange: the subject becomes "RE: <subject>", the
        recipient the sender (or Reply-To), and ``body`` goes above the quoted original."""
        return self._smart_response(ReplyToItem, subject, body, to_recipients, cc_recipients,  # type: ignore
                                    bcc_recipients, author)

    def reply(self, subject: Optional[str] = None, body: Optional[str] = None, to_recipients: Any = None,
              cc_recipients: Any = None, bcc_recipients: Any = None, author: Any = None) -> None:
        """Reply to the sender (and keep a copy in Sent Items). See :meth:`create_reply`.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/replytoitem
        """
        self.create_reply(subject, body, to_recipients, cc_recipients, bcc_recipients, author).send()

    def create_reply_all(self, subject: Optional[str] = None, body: Optional[str] = None, to_recipients: Any = None,
                         cc_recipients: Any = None, bcc_recipients: Any = None, author: Any = None) -> ReplyAllToItem:
        """A :class:`~exchangelib.items.response.ReplyAllToItem`: like :meth:`create_reply`, but Exchange
        addresses it to the sender and every To and Cc recipient except you."""
        return self._smart_response(ReplyAllToItem, subject, body, to_recipients, cc_recipients,  # type: ignore
                                    bcc_recipients, author)

    def reply_all(self, subject: Optional[str] = None, body: Optional[str] = None, to_recipients: Any = None,
                  cc_recipients: Any = None, bcc_recipients: Any = None, author: Any = None) -> None:
        """Reply to the sender and all recipients (and keep a copy in Sent Items).

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/replyalltoitem
        """
        self.create_reply_all(subject, body, to_recipients, cc_recipients, bcc_recipients, author).send()

    def create_forward(self, subject: Optional[str] = None, body: Optional[str] = None, to_recipients: Any = None,
                       cc_recipients: Any = None, bcc_recipients: Any = None, author: Any = None) -> ForwardItem:
        """A :class:`~exchangelib.items.response.ForwardItem` of this message (attachments included); the
        subject defaults to "FW: <subject>" and ``body`` goes above the forwarded original."""
        return self._smart_response(ForwardItem, subject, body, to_recipients, cc_recipients,  # type: ignore
                                    bcc_recipients, author)

    def forward(self, subject: Optional[str], body: Optional[str], to_recipients: Any, cc_recipients: Any = None,
                bcc_recipients: Any = None, author: Any = None) -> None:
        """Forward the message to ``to_recipients`` (and keep a copy in Sent Items).

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/forwarditem
        """
        if not to_recipients and not cc_recipients and not bcc_recipients:
            raise ValueError("forward() needs at least one recipient (to_recipients)")
        self.create_forward(subject, body, to_recipients, cc_recipients, bcc_recipients, author).send()


class MeetingAnswerMethods:
    """Answering a meeting: mixed into MeetingRequest and CalendarItem (the attendee's copy)."""

    account: Any
    id: Optional[str]
    changekey: Optional[str]

    def _answer(self, cls: type, body: Optional[str], message_disposition: str, kwargs: Any) -> Any:
        if message_disposition not in MESSAGE_DISPOSITIONS:
            raise ValueError(f"message_disposition must be one of {MESSAGE_DISPOSITIONS}, got {message_disposition!r}")
        self._require_account()  # type: ignore[attr-defined]
        ref = item_reference(self, cls.__name__)
        if body is not None:
            kwargs["body"] = body
        answer: MeetingAnswer = cls(account=self.account, reference_item_id=ItemId(*ref), **kwargs)
        if message_disposition == SAVE_ONLY:
            return answer.save()
        res = answer.send(save_copy=message_disposition == SEND_AND_SAVE_COPY)
        if cls is DeclineItem or not isinstance(self, CalendarItemMethods):
            # Exchange moved the answered request (or the declined meeting) to Deleted Items, with a new id.
            self._forget_id(self.account.trash)  # type: ignore[attr-defined]
        return res

    def accept(self, body: Optional[str] = None, message_disposition: str = SEND_AND_SAVE_COPY, **kwargs: Any) -> Any:
        """Accept the meeting: the organiser gets your answer (with ``body``) and sees you as accepted, and the
        meeting in your calendar is marked accepted. ``message_disposition``: ``SEND_AND_SAVE_COPY`` (default),
        ``SEND_ONLY`` or ``SAVE_ONLY`` (a draft answer; returned). Other keyword arguments are fields of
        :class:`~exchangelib.items.response.AcceptItem`.

        A meeting request you answered moves to Deleted Items, as in Outlook: afterwards the object has no id
        and ``folder`` is the trash. (Exchange may also give the meeting in your calendar a new id.)

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/acceptitem
        """
        return self._answer(AcceptItem, body, message_disposition, kwargs)

    def tentatively_accept(self, body: Optional[str] = None, message_disposition: str = SEND_AND_SAVE_COPY,
                           **kwargs: Any) -> Any:
        """Tentatively accept the meeting; see :meth:`accept`.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/tentativelyacceptitem
        """
        return self._answer(TentativelyAcceptItem, body, message_disposition, kwargs)

    def decline(self, body: Optional[str] = None, message_disposition: str = SEND_AND_SAVE_COPY,
                **kwargs: Any) -> Any:
        """Decline the meeting; see :meth:`accept`. The meeting leaves your calendar (to Deleted Items), and the
        object then has no id.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/declineitem
        """
        return self._answer(DeclineItem, body, message_disposition, kwargs)


class CalendarItemMethods(MeetingAnswerMethods):
    """Calendar item actions: the attendee's answers (from :class:`MeetingAnswerMethods`) and the
    organiser's :meth:`cancel`."""

    def cancel(self, body: Optional[str] = None, message_disposition: str = SEND_AND_SAVE_COPY,
               **kwargs: Any) -> Any:
        """Cancel the meeting (organiser only): every attendee gets a cancellation with ``body``, and the
        meeting moves to your Deleted Items (the object then has no id). Raises
        ``ErrorCalendarIsNotOrganizer`` for an attendee's copy. Other keyword arguments are fields of
        :class:`~exchangelib.items.response.CancelCalendarItem`.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/cancelcalendaritem
        """
        if message_disposition not in MESSAGE_DISPOSITIONS:
            raise ValueError(f"message_disposition must be one of {MESSAGE_DISPOSITIONS}, got {message_disposition!r}")
        account = self._require_account()  # type: ignore[attr-defined]
        ref = item_reference(self, "CancelCalendarItem")
        if body is not None:
            kwargs["new_body"] = body
        cancellation = CancelCalendarItem(account=account, reference_item_id=ItemId(*ref), **kwargs)
        if message_disposition == SAVE_ONLY:
            return cancellation.save()
        res = cancellation.send(save_copy=message_disposition == SEND_AND_SAVE_COPY)
        self._forget_id(account.trash)  # type: ignore[attr-defined]
        return res


class TaskMethods:
    """Task actions (mixed into :class:`~exchangelib.items.Task`)."""

    id: Optional[str]
    changekey: Optional[str]
    status: Any
    percent_complete: Any

    def complete(self) -> Any:
        """Mark the task done, as Outlook does: status ``Completed`` and 100 % complete; the server sets
        ``complete_date`` and ``is_complete``, which are read back. A new task is created completed.
        Returns the task.

        https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/status
        """
        self.status = "Completed"
        self.percent_complete = decimal.Decimal(100)
        if self.id is None:
            self.save()  # type: ignore[attr-defined]
        else:
            self.save(update_fields=["status", "percent_complete"])  # type: ignore[attr-defined]
        self._reload(_TASK_DONE_FIELDS)
        return self

    def _reload(self, names: Iterable[str]) -> None:
        """Read just the fields ``names`` again from the server."""
        account = self._require_account()  # type: ignore[attr-defined]
        version = account.version
        all_fields = type(self).FIELDS  # type: ignore[attr-defined]
        wanted = [all_fields[n] for n in names if n in all_fields and all_fields[n].is_supported(version)]
        fresh = one_result(GetItem(account=account).call([(self.id, None)], shape=ID_ONLY, additional_fields=wanted))
        if fresh is not None:
            self._replace_fields(fresh, [f.name for f in wanted])  # type: ignore[attr-defined]


__all__ = ["MessageMethods", "MeetingAnswerMethods", "CalendarItemMethods", "TaskMethods", "MESSAGE_DISPOSITIONS"]
