"""GetInboxRules and UpdateInboxRules: read and change a mailbox's Inbox rules.

Both answer with a single response message (the response element itself carries ResponseClass and
ResponseCode). A failed UpdateInboxRules has ``ErrorInboxRulesValidationError`` and a list of
``RuleOperationErrors``; the raised exception gets them as ``validation_errors`` (a list of
:class:`RuleValidationError`) and names them in its text. When the mailbox still holds rules saved by
Outlook in its own format ("rule blob"), Exchange refuses updates with ``ErrorOutlookRuleBlobExists``
unless ``remove_outlook_rule_blob=True`` (the default here, as in the peer library) deletes that blob.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getinboxrules-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateinboxrules-operation
"""
from __future__ import annotations

from typing import Any, List, NamedTuple, Optional, Sequence, Tuple

from ..errors import TransportError
from ..properties.rules import Rule
from ..soap import response_message_error
from ..xml import MNS, TNS, Element, add_child, create_element
from .common import EWSService

_T = f"{{{TNS}}}"
_M = f"{{{MNS}}}"

CREATE = "CreateRuleOperation"
SET = "SetRuleOperation"
DELETE = "DeleteRuleOperation"


class RuleValidationError(NamedTuple):
    """One problem Exchange found in a rule operation: which operation (0-based index in the request), which
    part of the rule (``field_uri``, e.g. ``'Action:MoveToFolder'``), Exchange's code and text, and the value."""

    operation_index: int
    field_uri: str
    error_code: str
    error_message: str
    field_value: str

    def __str__(self) -> str:
        return f"{self.field_uri}: {self.error_code} ({self.error_message}) value={self.field_value!r}"


def _raise_single(service: EWSService, response: Element) -> None:
    exc = response_message_error(response, service.SERVICE_NAME)
    if exc is None:
        return
    errors = parse_rule_errors(response)
    if errors:
        exc.validation_errors = errors  # type: ignore[attr-defined]
        exc.message = "; ".join([exc.message] + [str(e) for e in errors] if exc.message else [str(e) for e in errors])
        exc.args = (exc.message,)
    elif exc.response_code == "ErrorOutlookRuleBlobExists":
        exc.message = (exc.message or "The mailbox has Outlook rules EWS can't represent") + \
            " (pass remove_outlook_rule_blob=True to replace them; Outlook's own rules are then deleted)"
        exc.args = (exc.message,)
    raise exc


def parse_rule_errors(response: Element) -> List[RuleValidationError]:
    out: List[RuleValidationError] = []
    errors = response.find(f"{_M}RuleOperationErrors")
    if errors is None:
        return out
    for op_err in errors.findall(f"{_T}RuleOperationError"):
        try:
            index = int(op_err.findtext(f"{_T}OperationIndex") or "0")
        except ValueError:
            index = 0
        for e in op_err.iter(f"{_T}Error"):
            out.append(RuleValidationError(index, e.findtext(f"{_T}FieldURI") or "", e.findtext(f"{_T}ErrorCode") or "",
                                           e.findtext(f"{_T}ErrorMessage") or "", e.findtext(f"{_T}FieldValue") or ""))
    return out


class GetInboxRules(EWSService):
    """``GetInboxRules(account=...).call()`` returns ``(rules, outlook_rule_blob_exists)``."""

    SERVICE_NAME = "GetInboxRules"

    def call(self, mailbox: Optional[str] = None) -> Tuple[List[Rule], bool]:
        payload = create_element("m:GetInboxRules")
        add_child(payload, "m:MailboxSmtpAddress", text=mailbox or self.account.primary_smtp_address)
        response = self._post(payload)
        _raise_single(self, response)
        blob = (response.findtext(f"{_M}OutlookRuleBlobExists") or "").strip() in ("true", "1")
        rules_el = response.find(f"{_M}InboxRules")
        rules = [] if rules_el is None else [Rule.from_xml(r, account=self.account)
                                             for r in rules_el.findall(f"{_T}Rule")]
        return rules, blob


class UpdateInboxRules(EWSService):
    """``UpdateInboxRules(account=...).call([(CREATE, rule), (SET, rule), (DELETE, rule_id)])``.

    Exchange applies all operations or none; a validation failure raises ``ErrorInboxRulesValidationError``
    with ``validation_errors``.
    """

    SERVICE_NAME = "UpdateInboxRules"

    def call(self, operations: Sequence[Tuple[str, Any]], remove_outlook_rule_blob: bool = True,
             mailbox: Optional[str] = None) -> None:
        if not operations:
            raise ValueError("UpdateInboxRules needs at least one operation")
        version = self.version
        payload = create_element("m:UpdateInboxRules")
        add_child(payload, "m:MailboxSmtpAddress", text=mailbox or self.account.primary_smtp_address)
        add_child(payload, "m:RemoveOutlookRuleBlob", text="true" if remove_outlook_rule_blob else "false")
        ops = add_child(payload, "m:Operations")
        for kind, value in operations:
            op = add_child(ops, f"t:{kind}")
            if kind == DELETE:
                rule_id = value.id if isinstance(value, Rule) else value
                if not isinstance(rule_id, str) or not rule_id:
                    raise ValueError("Deleting a rule needs its id (a Rule fetched from account.rules, or the id)")
                add_child(op, "t:RuleId", text=rule_id)
                continue
            if not isinstance(value, Rule):
                raise TypeError(f"{kind} needs a Rule, got {type(value).__name__}")
            if kind == SET and not value.id:
                raise ValueError("set_rule() needs a rule with an id; use create_rule() for a new rule")
            if kind == CREATE and value.id:
                raise ValueError(f"Rule {value.display_name!r} already has an id; use set_rule() to change it")
            op.append(value.to_request_xml(version))
        response = self._post(payload)
        if response.get("ResponseClass") is None:
            raise TransportError(f"{self.SERVICE_NAME}: the response carries no ResponseClass")
        _raise_single(self, response)


__all__ = ["GetInboxRules", "UpdateInboxRules", "RuleValidationError", "CREATE", "SET", "DELETE"]
