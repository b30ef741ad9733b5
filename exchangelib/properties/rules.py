"""Inbox rules as typed models: a :class:`Rule` has :class:`Conditions`, :class:`Exceptions` and :class:`Actions`.

::

    rule = Rule(display_name='Forward invoices', priority=1, is_enabled=True,
                conditions=Conditions(contains_subject_strings=['invoice']),
                actions=Actions(forward_to_recipients=['books@example.com'], stop_processing_rules=True))
    account.create_rule(rule)      # rule.id is set afterwards

Addresses may be given as strings; folders in ``move_to_folder``/``copy_to_folder`` as folder objects
(``account.junk``), as :class:`~exchangelib.properties.FolderId` or :class:`DistinguishedFolderId`, or as
:class:`MoveToFolder`/:class:`CopyToFolder`.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/rule-ruletype
"""
from __future__ import annotations

from typing import Any, Optional

from ..elements import EWSElement
from ..fields import BooleanField, CharField, CharListField, ChoiceField, DateTimeField, EWSElementField, \
    EWSElementListField, IntegerField
from .distinguished import DistinguishedFolderId
from .ids import FolderId, ItemId
from .mailbox import Mailbox

IMPORTANCE_CHOICES = ("Low", "Normal", "High")
SENSITIVITY_CHOICES = ("Normal", "Personal", "Private", "Confidential")
FLAGGED_FOR_ACTION_CHOICES = ("Any", "Call", "DoNotForward", "FollowUp", "FYI", "Forward", "NoResponseNecessary",
                              "Read", "Reply", "ReplyToAll", "Review")


class Address(Mailbox):
    """One entry of an address list in a rule (``<t:Address>``, an ``EmailAddressType``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/address-emailaddresstype
    """

    ELEMENT_NAME = "Address"


class AddressListField(EWSElementListField):
    """A list of :class:`Address` (``ArrayOfEmailAddressesType``); plain address strings are accepted."""

    def __init__(self, field_uri: Optional[str] = None, **kwargs: Any):
        super().__init__(field_uri, value_cls=Address, **kwargs)

    def _convert(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            if not value:
                raise ValueError(f"{where}: an email address must not be empty")
            return Address(email_address=value)
        if type(value) is Mailbox:
            return Address(name=value.name, email_address=value.email_address, routing_type=value.routing_type,
                           mailbox_type=value.mailbox_type)
        return value


class WithinDateRange(EWSElement):
    """The received-between predicate (``RulePredicateDateRangeType``); both ends are optional.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/withindaterange
    """

    ELEMENT_NAME = "WithinDateRange"
    start_date_time = DateTimeField(xml_name="StartDateTime")
    end_date_time = DateTimeField(xml_name="EndDateTime")


class WithinSizeRange(EWSElement):
    """The size predicate in kilobytes (``RulePredicateSizeRangeType``); both ends are optional.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/withinsizerange
    """

    ELEMENT_NAME = "WithinSizeRange"
    minimum_size = IntegerField(xml_name="MinimumSize", min=0)
    maximum_size = IntegerField(xml_name="MaximumSize", min=0)


class Conditions(EWSElement):
    """What a message must match for a rule to act (``RulePredicatesType``). Every set predicate must match.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/conditions
    """

    ELEMENT_NAME = "Conditions"
    categories = CharListField(xml_name="Categories")
    contains_body_strings = CharListField(xml_name="ContainsBodyStrings")
    contains_header_strings = CharListField(xml_name="ContainsHeaderStrings")
    contains_recipient_strings = CharListField(xml_name="ContainsRecipientStrings")
    contains_sender_strings = CharListField(xml_name="ContainsSenderStrings")
    contains_subject_or_body_strings = CharListField(xml_name="ContainsSubjectOrBodyStrings")
    contains_subject_strings = CharListField(xml_name="ContainsSubjectStrings")
    flagged_for_action = ChoiceField(xml_name="FlaggedForAction", choices=FLAGGED_FOR_ACTION_CHOICES)
    from_addresses = AddressListField(xml_name="FromAddresses")
    from_connected_accounts = CharListField(xml_name="FromConnectedAccounts")
    has_attachments = BooleanField(xml_name="HasAttachments")
    importance = ChoiceField(xml_name="Importance", choices=IMPORTANCE_CHOICES)
    is_approval_request = BooleanField(xml_name="IsApprovalRequest")
    is_automatic_forward = BooleanField(xml_name="IsAutomaticForward")
    is_automatic_reply = BooleanField(xml_name="IsAutomaticReply")
    is_encrypted = BooleanField(xml_name="IsEncrypted")
    is_meeting_request = BooleanField(xml_name="IsMeetingRequest")
    is_meeting_response = BooleanField(xml_name="IsMeetingResponse")
    is_ndr = BooleanField(xml_name="IsNDR")
    is_permission_controlled = BooleanField(xml_name="IsPermissionControlled")
    is_read_receipt = BooleanField(xml_name="IsReadReceipt")
    is_signed = BooleanField(xml_name="IsSigned")
    is_voicemail = BooleanField(xml_name="IsVoicemail")
    item_classes = CharListField(xml_name="ItemClasses")
    message_classifications = CharListField(xml_name="MessageClassifications")
    not_sent_to_me = BooleanField(xml_name="NotSentToMe")
    sent_cc_me = BooleanField(xml_name="SentCcMe")
    sent_only_to_me = BooleanField(xml_name="SentOnlyToMe")
    sent_to_addresses = AddressListField(xml_name="SentToAddresses")
    sent_to_me = BooleanField(xml_name="SentToMe")
    sent_to_or_cc_me = BooleanField(xml_name="SentToOrCcMe")
    sensitivity = ChoiceField(xml_name="Sensitivity", choices=SENSITIVITY_CHOICES)
    within_date_range = EWSElementField(xml_name="WithinDateRange", value_cls=WithinDateRange)
    within_size_range = EWSElementField(xml_name="WithinSizeRange", value_cls=WithinSizeRange)


class Exceptions(Conditions):
    """Predicates that stop a rule from acting even when its conditions match (``RulePredicatesType``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/exceptions
    """

    ELEMENT_NAME = "Exceptions"


class CopyToFolder(EWSElement):
    """The folder of a rule's copy action (``TargetFolderIdType``): one of ``folder_id``/``distinguished_folder_id``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/copytofolder
    """

    ELEMENT_NAME = "CopyToFolder"
    folder_id = EWSElementField(xml_name="FolderId", value_cls=FolderId)
    distinguished_folder_id = EWSElementField(xml_name="DistinguishedFolderId", value_cls=DistinguishedFolderId)

    def clean(self, version: Any = None) -> None:
        super().clean(version)
        if (self.folder_id is None) == (self.distinguished_folder_id is None):
            raise ValueError(f"{type(self).__name__} needs exactly one of folder_id and distinguished_folder_id")


class MoveToFolder(CopyToFolder):
    """The folder of a rule's move action.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/movetofolder
    """

    ELEMENT_NAME = "MoveToFolder"


class FolderActionField(EWSElementField):
    """A rule's target folder. Accepts a folder object (with an id or a well-known name), a FolderId, a
    DistinguishedFolderId, or the action's own class."""

    def _convert(self, value: Any, where: str) -> Any:
        cls = self.value_cls
        if isinstance(value, FolderId):
            return cls(folder_id=FolderId(id=value.id, changekey=value.changekey))
        if isinstance(value, DistinguishedFolderId):
            return cls(distinguished_folder_id=value)
        if not isinstance(value, EWSElement) or not hasattr(value, "DISTINGUISHED_FOLDER_ID"):
            return value
        # A folder object: its id if it has one, else its well-known name.
        folder_id = getattr(value, "id", None)
        if folder_id:
            return cls(folder_id=FolderId(id=folder_id, changekey=getattr(value, "changekey", None)))
        name = type(value).DISTINGUISHED_FOLDER_ID
        if not name:
            raise ValueError(f"{where}: the folder {value!r} has no id; save or fetch it first")
        return cls(distinguished_folder_id=DistinguishedFolderId(id=name))


class Actions(EWSElement):
    """What a rule does with a matching message (``RuleActionsType``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/actions
    """

    ELEMENT_NAME = "Actions"
    assign_categories = CharListField(xml_name="AssignCategories")
    copy_to_folder = FolderActionField(xml_name="CopyToFolder", value_cls=CopyToFolder)
    delete = BooleanField(xml_name="Delete")
    forward_as_attachment_to_recipients = AddressListField(xml_name="ForwardAsAttachmentToRecipients")
    forward_to_recipients = AddressListField(xml_name="ForwardToRecipients")
    mark_importance = ChoiceField(xml_name="MarkImportance", choices=IMPORTANCE_CHOICES)
    mark_as_read = BooleanField(xml_name="MarkAsRead")
    move_to_folder = FolderActionField(xml_name="MoveToFolder", value_cls=MoveToFolder)
    permanent_delete = BooleanField(xml_name="PermanentDelete")
    redirect_to_recipients = AddressListField(xml_name="RedirectToRecipients")
    send_sms_alert_to_recipients = AddressListField(xml_name="SendSMSAlertToRecipients")
    server_reply_with_message = EWSElementField(xml_name="ServerReplyWithMessage", value_cls=ItemId)
    stop_processing_rules = BooleanField(xml_name="StopProcessingRules")


class Rule(EWSElement):
    """One Inbox rule (``RuleType``). ``display_name``, ``priority`` (1 runs first) and ``is_enabled`` are required
    by Exchange; ``priority`` defaults to 1 and ``is_enabled`` to True when the rule is sent.

    ``id`` is set by the server. ``is_not_supported`` and ``is_in_error`` are read-only: rules created by a
    client that EWS can't represent, or that point at something gone (e.g. a deleted folder).
    ``rule.save()`` creates or updates the rule, ``rule.delete()`` removes it (both need ``account``).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/rule-ruletype
    """

    ELEMENT_NAME = "Rule"
    _EXTRA_ATTRS = ("account",)
    REPR_FIELDS = ("id", "display_name", "priority", "is_enabled")

    id = CharField(xml_name="RuleId")
    display_name = CharField(xml_name="DisplayName", is_required=True)
    priority = IntegerField(xml_name="Priority", min=1, default=1)
    is_enabled = BooleanField(xml_name="IsEnabled", default=True)
    is_not_supported = BooleanField(xml_name="IsNotSupported", is_read_only=True)
    is_in_error = BooleanField(xml_name="IsInError", is_read_only=True)
    conditions = EWSElementField(xml_name="Conditions", value_cls=Conditions)
    exceptions = EWSElementField(xml_name="Exceptions", value_cls=Exceptions)
    actions = EWSElementField(xml_name="Actions", value_cls=Actions)

    def __init__(self, *args: Any, account: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.account = account

    def to_request_xml(self, version: Any = None, with_id: bool = True) -> Any:
        """``<t:Rule>`` for an UpdateInboxRules operation: the required elements always present, read-only ones
        left out."""
        self.clean(version)
        copy = type(self).__new__(type(self))
        copy.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("is_not_supported", "is_in_error")})
        copy.__dict__.setdefault("priority", self.priority)
        copy.__dict__.setdefault("is_enabled", self.is_enabled)
        if not with_id:
            copy.__dict__.pop("id", None)
        return copy.to_xml(version)

    def save(self) -> "Rule":
        """Create the rule (no id yet) or replace it on the server (UpdateInboxRules)."""
        account = self._require_account()
        if self.id is None:
            account.create_rule(self)
        else:
            account.set_rule(self)
        return self

    def delete(self) -> None:
        """Delete the rule from the server (UpdateInboxRules with a DeleteRuleOperation)."""
        self._require_account().delete_rule(self)

    def _require_account(self) -> Any:
        account = self.__dict__.get("account")
        if account is None:
            raise ValueError("This Rule has no account; use account.create_rule(rule) / account.set_rule(rule)")
        return account


__all__ = ["Address", "AddressListField", "WithinDateRange", "WithinSizeRange", "Conditions", "Exceptions",
           "CopyToFolder", "MoveToFolder", "Actions", "Rule", "IMPORTANCE_CHOICES", "SENSITIVITY_CHOICES",
           "FLAGGED_FOR_ACTION_CHOICES"]
