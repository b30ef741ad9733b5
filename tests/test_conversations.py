"""Conversations over HTTP: FindConversation, GetConversationItems, ApplyConversationAction."""
from __future__ import annotations

import uuid

import pytest

from exchangelib import Folder, Message
from exchangelib.properties.common import Flag
from exchangelib.properties.conversation import Conversation


@pytest.fixture
def thread(exchange):
    """A three-message thread (plus an unrelated message) delivered to John; returns (john, topic)."""
    topic = f"Budget {uuid.uuid4().hex[:6]}"
    mary = exchange.account("mary@example.com")
    for subject, body in ((topic, "first"), (f"RE: {topic}", "second"), (f"RE: RE: {topic}", "third"),
                          (f"Lunch {topic[-6:]}", "unrelated")):
        Message(account=mary, subject=subject, body=body, to_recipients=["john@example.com"]).send(save_copy=False)
    return exchange.account("john@example.com"), topic


def _conversation(account, topic, folder=None):
    (conv,) = [c for c in account.find_conversations(folder) if c.topic == topic]
    return conv


def test_find_conversation_groups_a_thread(thread):
    john, topic = thread
    conv = _conversation(john, topic)
    assert isinstance(conv, Conversation) and conv.id
    assert (conv.message_count, conv.global_message_count, conv.unread_count) == (3, 3, 3)
    assert conv.unique_senders == ["Mary Major"] and len(conv.item_ids) == 3
    assert any(c.id == conv.id for c in john.conversations)  # account.conversations: the Inbox's
    items = conv.items()
    assert [i.body for i in items] == ["first", "second", "third"]  # oldest first
    assert {i.conversation_id.id for i in items} == {conv.id}


def test_conversation_actions_move_every_message_of_a_thread(thread):
    john, topic = thread
    folder = Folder(parent=john.inbox, name=f"Thread {topic}").save()
    try:
        conv = _conversation(john, topic)
        conv.move(folder, context_folder=john.inbox)
        assert sorted(m.body for m in folder.all()) == ["first", "second", "third"]
        assert john.inbox.filter(subject__contains=topic).count() == 0
        assert john.inbox.filter(subject=f"Lunch {topic[-6:]}").count() == 1  # not part of the thread
        moved = _conversation(john, topic, folder)
        assert moved.id == conv.id and moved.message_count == 3
    finally:
        folder.delete()


def test_categorize_flag_read_copy_delete(thread):
    john, topic = thread
    conv = _conversation(john, topic)
    conv.categorize(["Finance"])
    conv.flag(Flag(flag_status="Flagged"))
    conv.set_read_state(True)
    items = conv.items()
    assert all(i.categories == ["Finance"] and i.is_read and i.flag.flag_status == "Flagged" for i in items)
    refreshed = _conversation(john, topic)
    assert (refreshed.unread_count, refreshed.categories, refreshed.flag_status) == (0, ["Finance"], "Flagged")
    conv.copy(john.drafts)
    assert john.drafts.filter(subject__contains=topic).count() == 3
    conv.delete(delete_type="HardDelete")
    assert john.drafts.filter(subject__contains=topic).count() == 0
    assert john.inbox.filter(subject__contains=topic).count() == 0
    assert [c for c in john.conversations if c.topic == topic] == []


def test_always_categorize_applies_to_later_messages(exchange, thread):
    john, topic = thread
    conv = _conversation(john, topic)
    conv.categorize(["Tracked"])
    Message(account=exchange.account("mary@example.com"), subject=f"RE: {topic}", body="fourth",
            to_recipients=["john@example.com"]).send(save_copy=False)
    (latest,) = [m for m in john.inbox.filter(subject=f"RE: {topic}") if m.body == "fourth"]
    assert latest.categories == ["Tracked"]
    john.apply_conversation_actions([{"action": "AlwaysCategorize", "conversation": conv, "categories": []}])
    Message(account=exchange.account("mary@example.com"), subject=f"RE: {topic}", body="fifth",
            to_recipients=["john@example.com"]).send(save_copy=False)
    (fifth,) = [m for m in john.inbox.filter(subject=f"RE: {topic}") if m.body == "fifth"]
    assert fifth.categories is None  # the standing action was cleared
    conv.delete(delete_type="HardDelete")


def test_bad_arguments(thread):
    john, topic = thread
    conv = _conversation(john, topic)
    with pytest.raises(ValueError, match="action must be one of"):
        john.apply_conversation_actions([{"action": "Archive", "conversation": conv}])
    with pytest.raises(ValueError, match="delete_type"):
        conv.delete(delete_type="Shred")
    with pytest.raises(ValueError, match="Conversation"):
        Conversation().items()
    conv.delete(delete_type="HardDelete")
