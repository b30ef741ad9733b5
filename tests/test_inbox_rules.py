"""Inbox rules over HTTP: typed models in, typed models out, and the server running them on delivery."""
from __future__ import annotations

import uuid

import pytest

from exchangelib import Folder, Message
from exchangelib.errors import ErrorInboxRulesValidationError, ErrorOutlookRuleBlobExists
from exchangelib.properties import Actions, Conditions, Exceptions, FolderId, MoveToFolder, Rule
from exchangelib.properties.rules import Address
from exchangelib.testing.ops.rules import set_outlook_rule_blob


@pytest.fixture
def john(exchange):
    account = exchange.account("john@example.com")
    yield account
    for r in account.rules:
        account.delete_rule(r)


def _send(exchange, subject, to="john@example.com", body="hello"):
    sender = exchange.account("ewsadmin@example.com")
    Message(account=sender, subject=subject, body=body, to_recipients=[to]).send(save_copy=False)


def _subjects(folder, tag):
    return sorted(m.subject for m in folder.filter(subject__contains=tag))


def test_forwarding_rule_created_through_the_api_forwards_delivered_mail(exchange, john):
    tag = uuid.uuid4().hex[:8]
    rule = Rule(display_name="Forward invoices", conditions=Conditions(contains_subject_strings=["invoice"]),
                actions=Actions(forward_to_recipients=["mary@example.com"]))
    john.create_rule(rule)
    assert rule.id and rule.priority == 1
    _send(exchange, f"Invoice {tag}")
    _send(exchange, f"Lunch {tag}")
    mary = exchange.account("mary@example.com")
    assert _subjects(mary.inbox, tag) == [f"FW: Invoice {tag}"]
    forwarded = mary.inbox.get(subject=f"FW: Invoice {tag}")
    assert forwarded.sender.email_address == "john@example.com"
    assert _subjects(john.inbox, tag) == [f"Invoice {tag}", f"Lunch {tag}"]  # forwarding keeps the original


def test_rules_read_back_as_typed_models(john):
    rule = Rule(display_name="Typed", priority=1, is_enabled=True,
                conditions=Conditions(from_addresses=["boss@example.com"], importance="High", has_attachments=True),
                exceptions=Exceptions(contains_body_strings=["newsletter"]),
                actions=Actions(move_to_folder=john.junk, assign_categories=["Boss"], mark_as_read=True,
                                stop_processing_rules=True))
    john.create_rule(rule)
    (got,) = john.rules
    assert isinstance(got, Rule) and got.id == rule.id
    assert got.conditions.from_addresses == [Address(email_address="boss@example.com")]
    assert (got.conditions.importance, got.conditions.has_attachments) == ("High", True)
    assert got.exceptions.contains_body_strings == ["newsletter"]
    assert isinstance(got.actions.move_to_folder, MoveToFolder)
    assert got.actions.move_to_folder.folder_id.id == john.junk.id
    assert got.actions.assign_categories == ["Boss"] and got.actions.stop_processing_rules is True
    assert got.is_not_supported is None or got.is_not_supported is False


def test_move_mark_read_categorise_stop_processing_and_exceptions(exchange, john):
    tag = uuid.uuid4().hex[:8]
    folder = Folder(parent=john.inbox, name=f"Sorted {tag}").save()
    try:
        john.create_rule(Rule(display_name="second", actions=Actions(forward_to_recipients=["mary@example.com"])))
        john.create_rule(Rule(display_name="first", priority=1,
                              conditions=Conditions(contains_subject_strings=[f"sort {tag}"]),
                              exceptions=Exceptions(contains_subject_strings=["keep"]),
                              actions=Actions(move_to_folder=folder, mark_as_read=True, assign_categories=["Auto"],
                                              stop_processing_rules=True)))
        assert [(r.display_name, r.priority) for r in john.rules] == [("first", 1), ("second", 2)]
        _send(exchange, f"sort {tag} please")
        _send(exchange, f"sort {tag} keep")
        moved = folder.get(subject=f"sort {tag} please")
        assert moved.is_read is True and moved.categories == ["Auto"]
        assert _subjects(john.inbox, tag) == [f"sort {tag} keep"]
        # 'first' stopped processing for the moved message; the kept one went on to 'second'
        assert _subjects(exchange.account("mary@example.com").inbox, tag) == [f"FW: sort {tag} keep"]
    finally:
        folder.delete()


def test_delete_copy_redirect_and_disabled_rules(exchange, john):
    tag = uuid.uuid4().hex[:8]
    john.create_rule(Rule(display_name="trash it", conditions=Conditions(contains_body_strings=[f"trash{tag}"]),
                          actions=Actions(delete=True)))
    john.create_rule(Rule(display_name="redirect", conditions=Conditions(contains_subject_strings=[f"redir {tag}"]),
                          actions=Actions(redirect_to_recipients=["mary@example.com"], copy_to_folder=john.drafts)))
    off = Rule(display_name="off", is_enabled=False, actions=Actions(permanent_delete=True))
    john.create_rule(off)
    _send(exchange, f"bin {tag}", body=f"this is trash{tag}")
    _send(exchange, f"redir {tag}")
    assert _subjects(john.trash, tag) == [f"bin {tag}"]
    assert _subjects(john.drafts, tag) == [f"redir {tag}"]
    redirected = exchange.account("mary@example.com").inbox.get(subject=f"redir {tag}")
    assert redirected.sender.email_address == "ewsadmin@example.com"  # a redirect keeps the original sender
    assert _subjects(john.inbox, tag) == [f"redir {tag}"]  # the disabled PermanentDelete rule did nothing


def test_set_and_delete_rule(john):
    rule = Rule(display_name="Flag", actions=Actions(mark_importance="High"))
    john.create_rule(rule)
    rule.display_name = "Flag renamed"
    rule.is_enabled = False
    john.set_rule(rule)
    (got,) = john.rules
    assert (got.id, got.display_name, got.is_enabled) == (rule.id, "Flag renamed", False)
    got.delete()  # read rules carry their account
    assert john.rules == [] and got.id is None
    saved = Rule(account=john, display_name="Saved", actions=Actions(mark_as_read=True)).save()  # the peer's way
    assert saved.id and [r.display_name for r in john.rules] == ["Saved"]
    saved.display_name = "Saved again"
    saved.save()
    assert [r.display_name for r in john.rules] == ["Saved again"]
    with pytest.raises(ValueError, match="no account"):
        Rule(display_name="orphan", actions=Actions(delete=True)).save()


def test_validation_errors_name_the_rule_part(john):
    folder = Folder(parent=john.inbox, name=f"Gone {uuid.uuid4().hex[:8]}").save()
    folder_id = folder.id
    folder.delete()
    bad = Rule(display_name="to nowhere", actions=Actions(move_to_folder=MoveToFolder(folder_id=FolderId(id=folder_id))))
    with pytest.raises(ErrorInboxRulesValidationError) as e:
        john.create_rule(bad)
    (err,) = e.value.validation_errors
    assert (err.field_uri, err.error_code, err.operation_index) == ("Action:MoveToFolder", "FolderDoesNotExist", 0)
    assert "Action:MoveToFolder" in str(e.value) and "FolderDoesNotExist" in str(e.value)
    with pytest.raises(ErrorInboxRulesValidationError, match="MissingAction"):
        john.create_rule(Rule(display_name="no actions", actions=Actions()))
    assert john.rules == []


def test_client_side_mistakes_raise_before_sending(john):
    with pytest.raises(ValueError, match="needs a rule with an id"):
        john.set_rule(Rule(display_name="x", actions=Actions(delete=True)))
    with pytest.raises(ValueError, match="needs a rule with an id"):
        john.delete_rule(Rule(display_name="x"))
    with pytest.raises(TypeError):
        Conditions(importance=5)
    with pytest.raises(ValueError, match="Conditions.importance"):
        Conditions(importance="Urgent")
    with pytest.raises(TypeError, match="create_rule"):
        john.create_rule("a rule")


def test_outlook_rule_blob_is_reported_clearly(exchange, john):
    mb = exchange.store.get_mailbox("john@example.com")
    set_outlook_rule_blob(mb, True)
    try:
        assert john.outlook_rule_blob_exists is True
        with pytest.raises(ErrorOutlookRuleBlobExists, match="remove_outlook_rule_blob=True"):
            john.create_rule(Rule(display_name="x", actions=Actions(delete=True)), remove_outlook_rule_blob=False)
        john.create_rule(Rule(display_name="x", actions=Actions(delete=True)))  # the default removes the blob
        assert john.outlook_rule_blob_exists is False
    finally:
        set_outlook_rule_blob(mb, False)


def test_forward_as_attachment(exchange, john):
    tag = uuid.uuid4().hex[:8]
    john.create_rule(Rule(display_name="evidence", conditions=Conditions(contains_subject_strings=[f"phish {tag}"]),
                          actions=Actions(forward_as_attachment_to_recipients=["mary@example.com"])))
    _send(exchange, f"phish {tag}", body="click here")
    fwd = exchange.account("mary@example.com").inbox.get(subject=f"FW: phish {tag}")
    (att,) = fwd.attachments
    assert att.item.subject == f"phish {tag}" and att.item.body == "click here"


def test_server_reply_with_a_template(exchange, john):
    from exchangelib.properties import ItemId
    tag = uuid.uuid4().hex[:8]
    template = Message(account=john, folder=john.drafts, subject=f"Away {tag}", body="Back on Monday").save()
    try:
        john.create_rule(Rule(display_name="auto reply", conditions=Conditions(contains_subject_strings=[tag]),
                              actions=Actions(server_reply_with_message=ItemId(id=template.id))))
        _send(exchange, f"question {tag}")
        reply = exchange.account("ewsadmin@example.com").inbox.get(subject=f"Away {tag}")
        assert reply.body == "Back on Monday" and reply.sender.email_address == "john@example.com"
        gone = Message(account=john, folder=john.drafts, subject=f"gone {tag}").save()
        gone_id = gone.id
        gone.delete()  # a well-formed id of an item that no longer exists
        with pytest.raises(ErrorInboxRulesValidationError, match="ServerReplyWithMessage"):
            john.create_rule(Rule(display_name="bad", actions=Actions(server_reply_with_message=ItemId(
                id=gone_id))))
    finally:
        template.delete()
        exchange.account("ewsadmin@example.com").inbox.filter(subject=f"Away {tag}").delete()
