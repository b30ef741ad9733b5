"""Inbox rules: GetInboxRules, UpdateInboxRules, and running the rules on local delivery.

Rules are kept per mailbox as ``t:Rule`` elements with a server-made RuleId, ordered by Priority. Like
Exchange, priorities stay 1..n without gaps: a rule created or set with priority p is placed at position
p and the others move down. UpdateInboxRules applies all its operations or none; each problem is reported
as a ``t:RuleOperationError`` with the operation's index, the rule part (``Action:MoveToFolder``...) and
a RuleValidationErrorCode, under ``ErrorInboxRulesValidationError``.

A mailbox can be given an Outlook rule blob (:func:`set_outlook_rule_blob`, as when Outlook saved rules in
its own format): GetInboxRules then says ``OutlookRuleBlobExists`` and UpdateInboxRules answers
``ErrorOutlookRuleBlobExists`` unless the request sets ``RemoveOutlookRuleBlob``.

On delivery to the Inbox, the enabled rules run in priority order: a rule acts when all of its
conditions match and none of its exceptions do. Actions: AssignCategories, MarkImportance, MarkAsRead,
ForwardToRecipients / ForwardAsAttachmentToRecipients (a new message from the mailbox owner),
RedirectToRecipients (the original, still from its sender), CopyToFolder, MoveToFolder, Delete (to
Deleted Items), PermanentDelete, ServerReplyWithMessage (the template item's subject and body go back to the
sender), StopProcessingRules. Messages created by rules are delivered with rules
too, up to a small depth, so two mailboxes forwarding to each other don't loop forever.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getinboxrules-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateinboxrules-operation
"""
from __future__ import annotations

import base64
import copy
import functools
import secrets
import threading
import weakref
from datetime import datetime
from typing import Callable, Dict, List, Optional, Tuple

from lxml import etree

from ...xml import MNS, TNS
from ..context import RequestContext, ResponseCodeError
from ..store import FOLDER, FolderRecord, ItemRecord, Mailbox, Store, decode_id
from .common import RESPONSE_NSMAP, bool_text, child, children, handler, local
from .delivery import DELIVERY_HOOKS, deliver, local_mailboxes, send_message
from .items import delete_record
from .props import body_as, get, get_text, parse_datetime, remove_prop, set_prop
from .stamp import copy_element, recipient_addresses, restamp, strip_server_properties

T = f"{{{TNS}}}"
M = f"{{{MNS}}}"

# Mailbox -> its rules (t:Rule elements, in priority order) and whether an Outlook rule blob exists.
_RULES: "weakref.WeakKeyDictionary[Mailbox, List[etree._Element]]" = weakref.WeakKeyDictionary()
_BLOB: "weakref.WeakKeyDictionary[Mailbox, bool]" = weakref.WeakKeyDictionary()
_MAX_DEPTH = 3
_depth = threading.local()


def mailbox_rules(mailbox: Mailbox) -> List[etree._Element]:
    """The mailbox's rules in priority order (the stored list; callers hold the store lock)."""
    return _RULES.setdefault(mailbox, [])


def set_outlook_rule_blob(mailbox: Mailbox, exists: bool = True) -> None:
    """Pretend Outlook saved rules in its own format in this mailbox (or remove that blob)."""
    _BLOB[mailbox] = exists


# --- single-message responses -----------------------------------------------------------------------
def single_response(name: str, fn: Callable[[etree._Element], None]) -> etree._Element:
    """``m:<name>Response`` that is itself the response message (ResponseClass, ResponseCode, payload)."""
    root = etree.Element(f"{M}{name}Response", nsmap=RESPONSE_NSMAP)
    payload = etree.Element(f"{M}Payload")
    try:
        fn(payload)
    except ResponseCodeError as e:
        root.set("ResponseClass", "Error")
        etree.SubElement(root, M + "MessageText").text = e.message
        etree.SubElement(root, M + "ResponseCode").text = e.response_code
        etree.SubElement(root, M + "DescriptiveLinkKey").text = "0"
        for p in e.extra.get("payload") or ():
            root.append(p)
        return root
    root.set("ResponseClass", "Success")
    etree.SubElement(root, M + "ResponseCode").text = "NoError"
    for c in list(payload):
        root.append(c)
    return root


def _target_mailbox(ctx: RequestContext, body: etree._Element) -> Mailbox:
    address = (get_text_any(body, "MailboxSmtpAddress") or "").strip()
    return ctx.mailbox_for(address or None)


def get_text_any(parent: etree._Element, name: str) -> Optional[str]:
    el = child(parent, name)
    return el.text if el is not None else None


# --- GetInboxRules ------------------------------------------------------------------------------------
@handler("GetInboxRules")
def get_inbox_rules(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getinboxrules-operation"""

    def run(out: etree._Element) -> None:
        mb = _target_mailbox(ctx, body)
        etree.SubElement(out, M + "OutlookRuleBlobExists").text = "true" if _BLOB.get(mb) else "false"
        rules = etree.SubElement(out, M + "InboxRules")
        for r in mailbox_rules(mb):
            rules.append(copy.deepcopy(r))

    return single_response("GetInboxRules", run)


# --- UpdateInboxRules ---------------------------------------------------------------------------------
class _Invalid(Exception):
    def __init__(self, field_uri: str, code: str, message: str, value: str = ""):
        super().__init__(message)
        self.field_uri, self.code, self.message, self.value = field_uri, code, message, value


def _new_rule_id() -> str:
    return base64.b64encode(b"\x01\x00\x00\x00" + secrets.token_bytes(8)).decode("ascii")


def _check_folder(ctx: RequestContext, mb: Mailbox, action: etree._Element, uri: str) -> None:
    ids = children(action)
    if len(ids) != 1:
        raise _Invalid(uri, "InvalidFolderId", "A folder action needs one folder id.")
    id_el = ids[0]
    if local(id_el) == "DistinguishedFolderId":
        if mb.folder(id_el.get("Id", "")) is None:
            raise _Invalid(uri, "FolderDoesNotExist", "The folder doesn't exist.", id_el.get("Id", ""))
        return
    try:
        kind, _addr, key = decode_id(id_el.get("Id"))
    except ResponseCodeError:
        raise _Invalid(uri, "InvalidFolderId", "The folder id is malformed.", id_el.get("Id", "")) from None
    folder = ctx.store.find_folder(key)
    if kind != FOLDER or folder is None or folder.mailbox is not mb or folder.soft_deleted:
        raise _Invalid(uri, "FolderDoesNotExist", "The folder doesn't exist.", id_el.get("Id", ""))


def _validate(ctx: RequestContext, mb: Mailbox, rule: etree._Element) -> None:
    if not (get_text(rule, "DisplayName") or "").strip():
        raise _Invalid("DisplayName", "EmptyValueFound", "The rule needs a display name.")
    actions = get(rule, "Actions")
    if actions is None or not children(actions):
        raise _Invalid("Actions", "MissingAction", "The rule needs at least one action.")
    for a in children(actions):
        name = local(a)
        uri = f"Action:{name}"
        if name in ("MoveToFolder", "CopyToFolder"):
            _check_folder(ctx, mb, a, uri)
        elif name == "ServerReplyWithMessage" and _template(ctx.store, mb, a) is None:
            raise _Invalid(uri, "InvalidValue", "The reply template doesn't exist.", a.get("Id", ""))
        elif name.endswith("Recipients"):
            addrs = [e.findtext(T + "EmailAddress") for e in a.findall(T + "Address")]
            if not addrs:
                raise _Invalid(uri, "EmptyValueFound", "The action needs at least one recipient.")
            for addr in addrs:
                if not addr or "@" not in addr:
                    raise _Invalid(uri, "InvalidAddress", "The address is not valid.", addr or "")
    for part, prefix in (("Conditions", "Condition"), ("Exceptions", "Exception")):
        preds = get(rule, part)
        if preds is None:
            continue
        size = get(preds, "WithinSizeRange")
        if size is not None:
            lo, hi = get_text(size, "MinimumSize"), get_text(size, "MaximumSize")
            if lo is None and hi is None:
                raise _Invalid(f"{prefix}:WithinSizeRange", "MissingRangeValue", "The size range is empty.")
            if lo is not None and hi is not None and int(lo) > int(hi):
                raise _Invalid(f"{prefix}:WithinSizeRange", "InvalidSizeRange",
                               "The minimum size is larger than the maximum size.", f"{lo}-{hi}")
        dates = get(preds, "WithinDateRange")
        if dates is not None:
            lo, hi = get_text(dates, "StartDateTime"), get_text(dates, "EndDateTime")
            if lo is None and hi is None:
                raise _Invalid(f"{prefix}:WithinDateRange", "MissingRangeValue", "The date range is empty.")
            if lo is not None and hi is not None and parse_datetime(lo) > parse_datetime(hi):
                raise _Invalid(f"{prefix}:WithinDateRange", "InvalidDateRange",
                               "The start date is after the end date.", f"{lo}/{hi}")


def _place(rules: List[etree._Element], rule: etree._Element) -> None:
    """Insert at the rule's priority and renumber 1..n."""
    try:
        priority = int(get_text(rule, "Priority") or "1")
    except ValueError:
        priority = 1
    rules.insert(max(0, min(priority - 1, len(rules))), rule)
    _renumber(rules)


def _renumber(rules: List[etree._Element]) -> None:
    for n, r in enumerate(rules, 1):
        el = get(r, "Priority")
        if el is None:  # DisplayName is required and comes first (after RuleId)
            el = etree.Element(T + "Priority")
            name = get(r, "DisplayName")
            r.insert(r.index(name) + 1 if name is not None else 0, el)
        el.text = str(n)


# xs:boolean elements of RuleType, RulePredicatesType and RuleActionsType
RULE_BOOLEANS = frozenset({
    "IsEnabled", "IsNotSupported", "IsInError", "HasAttachments", "IsApprovalRequest", "IsAutomaticForward",
    "IsAutomaticReply", "IsEncrypted", "IsMeetingRequest", "IsMeetingResponse", "IsNDR", "IsPermissionControlled",
    "IsReadReceipt", "IsSigned", "IsVoicemail", "NotSentToMe", "SentCcMe", "SentOnlyToMe", "SentToMe",
    "SentToOrCcMe", "Delete", "MarkAsRead", "PermanentDelete", "StopProcessingRules"})


def canonical_booleans(elem: etree._Element, names: frozenset) -> None:
    """Write xs:boolean values ('1', ' 0 ') as Exchange returns them: 'true'/'false'."""
    for el in elem.iter():
        if isinstance(el.tag, str) and local(el) in names and el.text is not None:
            el.text = "true" if el.text.strip() in ("true", "1") else "false"


def _stored_rule(rule_el: etree._Element, rule_id: str) -> etree._Element:
    new = copy_element(rule_el)
    new.tag = T + "Rule"
    canonical_booleans(new, RULE_BOOLEANS)
    for name in ("RuleId", "IsNotSupported", "IsInError"):
        remove_prop(new, name)
    rid = etree.Element(T + "RuleId")
    rid.text = rule_id
    new.insert(0, rid)
    return new


@handler("UpdateInboxRules")
def update_inbox_rules(ctx: RequestContext, body: etree._Element) -> etree._Element:
    """https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateinboxrules-operation"""

    def run(out: etree._Element) -> None:
        mb = _target_mailbox(ctx, body)
        if _BLOB.get(mb):
            if not bool_text(child(body, "RemoveOutlookRuleBlob")):
                raise ResponseCodeError("ErrorOutlookRuleBlobExists",
                                        "The Outlook rule blob exists in the mailbox; the request must remove it.")
        rules = [copy.deepcopy(r) for r in mailbox_rules(mb)]
        errors: List[Tuple[int, _Invalid]] = []
        touched: Dict[str, int] = {}
        for index, op in enumerate(children(child(body, "Operations"))):
            kind = local(op)
            try:
                if kind == "DeleteRuleOperation":
                    rid = (get_text(op, "RuleId") or "").strip()
                    _no_duplicate(touched, rid, index)
                    found = _find(rules, rid)
                    rules.remove(found)
                    _renumber(rules)
                    continue
                rule_el = get(op, "Rule")
                if rule_el is None:
                    raise _Invalid("Conditions", "MissingParameter", "The operation has no rule.")
                rid = (get_text(rule_el, "RuleId") or "").strip()
                if kind == "CreateRuleOperation" and rid:
                    raise _Invalid("RuleId", "CreateWithRuleId", "A new rule must not have a RuleId.", rid)
                _validate(ctx, mb, rule_el)
                if kind == "CreateRuleOperation":
                    _place(rules, _stored_rule(rule_el, _new_rule_id()))
                else:
                    _no_duplicate(touched, rid, index)
                    rules.remove(_find(rules, rid))
                    _place(rules, _stored_rule(rule_el, rid))
            except _Invalid as e:
                errors.append((index, e))
        if errors:
            raise ResponseCodeError("ErrorInboxRulesValidationError",
                                    "Validation error occurred while processing inbox rules.",
                                    payload=[_errors_element(errors)])
        _RULES[mb] = rules
        _BLOB[mb] = False

    return single_response("UpdateInboxRules", run)


def _no_duplicate(touched: Dict[str, int], rid: str, index: int) -> None:
    if rid in touched:
        raise _Invalid("RuleId", "DuplicatedOperationOnTheSameRule", "The rule is changed twice in one request.",
                       rid)
    touched[rid] = index


def _find(rules: List[etree._Element], rid: str) -> etree._Element:
    for r in rules:
        if get_text(r, "RuleId") == rid:
            return r
    raise _Invalid("RuleId", "RuleNotFound", "The rule doesn't exist.", rid)


def _errors_element(errors: List[Tuple[int, _Invalid]]) -> etree._Element:
    out = etree.Element(M + "RuleOperationErrors")
    for index, e in errors:
        op = etree.SubElement(out, T + "RuleOperationError")
        etree.SubElement(op, T + "OperationIndex").text = str(index)
        arr = etree.SubElement(op, T + "ValidationErrors")
        er = etree.SubElement(arr, T + "Error")
        etree.SubElement(er, T + "FieldURI").text = e.field_uri
        etree.SubElement(er, T + "ErrorCode").text = e.code
        etree.SubElement(er, T + "ErrorMessage").text = e.message
        etree.SubElement(er, T + "FieldValue").text = e.value
    return out


# --- Running the rules on delivery --------------------------------------------------------------------
def _strings(preds: etree._Element, name: str) -> Optional[List[str]]:
    el = get(preds, name)
    if el is None:
        return None
    return [(s.text or "").casefold() for s in el.findall(T + "String")]


def _addresses(preds: etree._Element, name: str) -> Optional[List[str]]:
    el = get(preds, name)
    if el is None:
        return None
    return [(a.findtext(T + "EmailAddress") or "").strip().lower() for a in el.findall(T + "Address")]


def _mailbox_texts(elem: etree._Element, names: Tuple[str, ...]) -> List[str]:
    out = []
    for n in names:
        c = elem.find(T + n)
        if c is None:
            continue
        for m in c.iter(T + "Mailbox"):
            out.append(((m.findtext(T + "Name") or "") + " " + (m.findtext(T + "EmailAddress") or "")).casefold())
    return out


def _body_text(elem: etree._Element) -> str:
    b = get(elem, "Body")
    return body_as(b, "Text")[1].casefold() if b is not None else ""


def _contains(haystack: str, needles: List[str]) -> bool:
    return any(n and n in haystack for n in needles)


def _flag(preds: etree._Element, name: str) -> Optional[bool]:
    el = get(preds, name)
    return None if el is None else bool_text(el)


def _matches(preds: etree._Element, mb: Mailbox, elem: etree._Element) -> bool:
    """Do all predicates in ``preds`` hold for the message?"""
    subject = (get_text(elem, "Subject") or "").casefold()
    mine = set(mb.addresses())
    to = {a.lower() for a in recipient_addresses(elem, ("ToRecipients",))}
    cc = {a.lower() for a in recipient_addresses(elem, ("CcRecipients",))}
    sender = {a.lower() for a in recipient_addresses(elem, ("From",))}
    kind = local(elem)
    checks: List[Callable[[], bool]] = []

    def strings(name: str, fn: Callable[[List[str]], bool]) -> None:
        values = _strings(preds, name)
        if values is not None:
            checks.append(lambda: fn(values))

    strings("ContainsSubjectStrings", lambda v: _contains(subject, v))
    strings("ContainsBodyStrings", lambda v: _contains(_body_text(elem), v))
    strings("ContainsSubjectOrBodyStrings", lambda v: _contains(subject, v) or _contains(_body_text(elem), v))
    strings("ContainsSenderStrings", lambda v: any(_contains(s, v) for s in _mailbox_texts(elem, ("From",))))
    strings("ContainsRecipientStrings",
            lambda v: any(_contains(s, v) for s in _mailbox_texts(elem, ("ToRecipients", "CcRecipients"))))
    strings("ContainsHeaderStrings", lambda v: _contains(
        " ".join(f"{h.get('HeaderName', '')}: {h.text or ''}" for h in elem.iter(T + "InternetMessageHeader"))
        .casefold(), v))
    strings("Categories", lambda v: bool(set(v) & {(s.text or "").casefold()
                                                   for s in elem.findall(f"{T}Categories/{T}String")}))
    strings("ItemClasses", lambda v: (get_text(elem, "ItemClass") or "").casefold() in v)
    from_addrs = _addresses(preds, "FromAddresses")
    if from_addrs is not None:
        checks.append(lambda: bool(sender & set(from_addrs)))
    sent_to = _addresses(preds, "SentToAddresses")
    if sent_to is not None:
        checks.append(lambda: bool((to | cc) & set(sent_to)))
    flag_checks: Tuple[Tuple[str, Callable[[], bool]], ...] = (
            ("SentToMe", lambda: bool(to & mine)),
            ("SentCcMe", lambda: bool(cc & mine)),
            ("SentOnlyToMe", lambda: bool(to) and to <= mine and not cc),
            ("NotSentToMe", lambda: not (to & mine)),
            ("SentToOrCcMe", lambda: bool((to | cc) & mine)),
            ("HasAttachments", lambda: (get_text(elem, "HasAttachments") or "false") == "true"),
            ("IsMeetingRequest", lambda: kind == "MeetingRequest"),
            ("IsMeetingResponse", lambda: kind == "MeetingResponse"),
    )
    for name, fn in flag_checks:
        wanted = _flag(preds, name)
        if wanted is not None:
            checks.append(functools.partial(_equals, fn, wanted))
    for name in ("IsApprovalRequest", "IsAutomaticForward", "IsAutomaticReply", "IsEncrypted", "IsNDR",
                 "IsPermissionControlled", "IsReadReceipt", "IsSigned", "IsVoicemail"):
        wanted = _flag(preds, name)
        if wanted is not None:  # a local message is none of these
            checks.append(functools.partial(_equals, _false, wanted))
    for name in ("Importance", "Sensitivity"):
        value = get_text(preds, name)
        if value is not None:
            checks.append(functools.partial(_equals, functools.partial(_text_or_normal, elem, name), value))
    if get(preds, "FlaggedForAction") is not None or get(preds, "FromConnectedAccounts") is not None \
            or get(preds, "MessageClassifications") is not None:
        checks.append(lambda: False)
    size = get(preds, "WithinSizeRange")
    if size is not None:
        kb = int(get_text(elem, "Size") or 0) / 1024
        lo, hi = get_text(size, "MinimumSize"), get_text(size, "MaximumSize")
        checks.append(lambda: (lo is None or kb >= int(lo)) and (hi is None or kb <= int(hi)))
    dates = get(preds, "WithinDateRange")
    if dates is not None:
        received = parse_datetime(get_text(elem, "DateTimeReceived") or "1970-01-01T00:00:00Z")
        lo_t, hi_t = get_text(dates, "StartDateTime"), get_text(dates, "EndDateTime")
        checks.append(lambda: _between(received, lo_t, hi_t))
    return all(c() for c in checks)


def _equals(fn: Callable[[], object], wanted: object) -> bool:
    return fn() == wanted


def _false() -> bool:
    return False


def _text_or_normal(elem: etree._Element, name: str) -> str:
    return get_text(elem, name) or "Normal"


def _between(when: datetime, lo: Optional[str], hi: Optional[str]) -> bool:
    return (lo is None or when >= parse_datetime(lo)) and (hi is None or when <= parse_datetime(hi))


def _rule_folder(store: Store, mb: Mailbox, action: etree._Element) -> Optional[FolderRecord]:
    for id_el in children(action):
        if local(id_el) == "DistinguishedFolderId":
            return mb.folder(id_el.get("Id", ""))
        try:
            _kind, _addr, key = decode_id(id_el.get("Id"))
        except ResponseCodeError:
            return None
        folder = store.find_folder(key)
        return folder if folder is not None and folder.mailbox is mb and not folder.soft_deleted else None
    return None


def _forward(store: Store, mb: Mailbox, elem: etree._Element, addresses: List[str], as_attachment: bool) -> None:
    fwd = etree.Element(T + "Message")
    set_prop(fwd, "Subject", "FW: " + (get_text(elem, "Subject") or ""))
    body = get(elem, "Body")
    if body is not None and not as_attachment:
        set_prop(fwd, "Body", elem=copy_element(body))
    if as_attachment:
        atts = etree.Element(T + "Attachments")
        att = etree.SubElement(atts, T + "ItemAttachment")
        etree.SubElement(att, T + "Name").text = get_text(elem, "Subject") or "Message"
        att.append(strip_server_properties(copy_element(elem)))
        set_prop(fwd, "Attachments", elem=atts)
    to = etree.Element(T + "ToRecipients")
    for a in addresses:
        m = etree.SubElement(to, T + "Mailbox")
        etree.SubElement(m, T + "EmailAddress").text = a
    set_prop(fwd, "ToRecipients", elem=to)
    send_message(store, mb, fwd, save_in=None)


def _template(store: Store, mb: Mailbox, id_el: etree._Element) -> Optional[ItemRecord]:
    try:
        kind, _addr, key = decode_id(id_el.get("Id"))
    except ResponseCodeError:
        return None
    rec = store.find_item(key)
    return rec if rec is not None and rec.mailbox is mb else None


def _reply_with_template(store: Store, mb: Mailbox, elem: etree._Element, id_el: etree._Element) -> None:
    """ServerReplyWithMessage: send the template message's subject and body back to the sender."""
    template = _template(store, mb, id_el)
    senders = recipient_addresses(elem, ("From",))[:1]
    if template is None or not senders or senders[0].lower() in mb.addresses():
        return
    reply = etree.Element(T + "Message")
    set_prop(reply, "Subject", get_text(template.elem, "Subject") or "RE: " + (get_text(elem, "Subject") or ""))
    body = get(template.elem, "Body")
    if body is not None:
        set_prop(reply, "Body", elem=copy_element(body))
    to = etree.Element(T + "ToRecipients")
    etree.SubElement(etree.SubElement(to, T + "Mailbox"), T + "EmailAddress").text = senders[0]
    set_prop(reply, "ToRecipients", elem=to)
    send_message(store, mb, reply, save_in=None)


def _redirect(store: Store, mb: Mailbox, elem: etree._Element, addresses: List[str]) -> None:
    for target in local_mailboxes(store, addresses):
        if target is not mb:
            deliver(store, target, elem, mb)


def run_rules(store: Store, mb: Mailbox, rec: ItemRecord) -> None:
    """Apply the mailbox's enabled rules to a message just delivered to its Inbox."""
    rules = _RULES.get(mb)
    if not rules or rec.key not in store.items or rec.folder is not mb.folder("inbox"):
        return
    depth = getattr(_depth, "value", 0)
    if depth >= _MAX_DEPTH:
        return
    _depth.value = depth + 1
    try:
        for rule in list(rules):
            if not bool_text(get(rule, "IsEnabled")):
                continue
            conditions, exceptions = get(rule, "Conditions"), get(rule, "Exceptions")
            if conditions is not None and not _matches(conditions, mb, rec.elem):
                continue
            if exceptions is not None and children(exceptions) and _matches_any(exceptions, mb, rec.elem):
                continue
            actions = get(rule, "Actions")
            if actions is None:
                continue
            new_rec, stop = _act(store, mb, rec, actions)
            if new_rec is None or stop:
                return
            rec = new_rec
    finally:
        _depth.value = depth


def _matches_any(preds: etree._Element, mb: Mailbox, elem: etree._Element) -> bool:
    """Exceptions: the rule is skipped when any one of them holds."""
    for p in children(preds):
        single = etree.Element(T + "Exceptions")
        single.append(copy.deepcopy(p))
        if _matches(single, mb, elem):
            return True
    return False


def _act(store: Store, mb: Mailbox, rec: ItemRecord, actions: etree._Element) -> Tuple[Optional[ItemRecord], bool]:
    """Run one rule's actions; returns the (possibly moved) record, or None when it is gone, and whether to stop."""
    elem = rec.elem
    changed = []
    if bool_text(get(actions, "MarkAsRead")):
        set_prop(elem, "IsRead", "true")
        changed.append("IsRead")
    importance = get_text(actions, "MarkImportance")
    if importance:
        set_prop(elem, "Importance", importance)
        changed.append("Importance")
    cats = get(actions, "AssignCategories")
    if cats is not None:
        have = [s.text or "" for s in elem.findall(f"{T}Categories/{T}String")]
        for s in cats.findall(T + "String"):
            if (s.text or "") not in have:
                have.append(s.text or "")
        new = etree.Element(T + "Categories")
        for c in have:
            etree.SubElement(new, T + "String").text = c
        set_prop(elem, "Categories", elem=new)
        changed.append("Categories")
    if changed:
        restamp(store, mb, elem)
        rec.touch(changed)
    for name, as_attachment in (("ForwardToRecipients", False), ("ForwardAsAttachmentToRecipients", True)):
        addrs = _addresses(actions, name)
        if addrs:
            _forward(store, mb, elem, addrs, as_attachment)
    redirect = _addresses(actions, "RedirectToRecipients")
    if redirect:
        _redirect(store, mb, elem, redirect)
    template_id = get(actions, "ServerReplyWithMessage")
    if template_id is not None:
        _reply_with_template(store, mb, elem, template_id)
    copy_to = get(actions, "CopyToFolder")
    if copy_to is not None:
        target = _rule_folder(store, mb, copy_to)
        if target is not None:
            dup = store.add_item(target, copy_element(elem))
            restamp(store, mb, dup.elem)
    stop = bool_text(get(actions, "StopProcessingRules"))
    if bool_text(get(actions, "PermanentDelete")):
        store.remove_item(rec)
        return None, True
    if bool_text(get(actions, "Delete")):
        delete_record(store, rec, "MoveToDeletedItems")
        return None, True
    move_to = get(actions, "MoveToFolder")
    if move_to is not None:
        target = _rule_folder(store, mb, move_to)
        if target is not None and target is not rec.folder:
            rec = store.move_item(rec, target)
    return rec, stop


DELIVERY_HOOKS.append(run_rules)
