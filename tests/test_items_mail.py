"""Sending mail over HTTP against the strict local server: send, send_and_save, drafts, reply, reply all,
forward, and the server-set timestamps of messages (seed 002 "Creating, updating, deleting, sending and
moving" and "Message timestamp fields")."""
from __future__ import annotations

import uuid

import pytest

from exchangelib import EWSDateTime, HTMLBody, Mailbox, Message
from exchangelib.ewsdatetime import EWSTimeZone
from exchangelib.items import ReplyToItem
from exchangelib.properties import Body, FileAttachment

JOHN, MARY = "john@example.com", "mary@example.com"


def tag() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def john(exchange):
    return exchange.account(JOHN)


@pytest.fixture
def mary(exchange):
    return exchange.account(MARY)


def addresses(mailboxes) -> list:
    return [m.email_address for m in mailboxes or []]


def test_a_message_sent_by_john_arrives_in_marys_inbox_with_its_fields_intact(john, mary):
    subject = f"Quarterly numbers {tag()}"
    inbox = mary.inbox.refresh()
    unread, total = inbox.unread_count, inbox.total_count
    Message(
        account=john, subject=subject, body=HTMLBody('<html><body><p>All <b>green</b>.</p></body></html>'),
        to_recipients=[Mailbox(email_address=MARY), 'anne@example.org'], cc_recipients=['carl@example.org'],
        bcc_recipients=['erik@example.org'], importance='High', categories=['finance', 'q3'],
        is_read_receipt_requested=True,
    ).send()
    got = mary.inbox.get(subject=subject)
    assert isinstance(got, Message)
    assert got.body == '<html><body><p>All <b>green</b>.</p></body></html>' and isinstance(got.body, HTMLBody)
    assert addresses(got.to_recipients) == [MARY, 'anne@example.org']
    assert addresses(got.cc_recipients) == ['carl@example.org']
    assert got.bcc_recipients is None  # Bcc is never delivered
    assert got.author.email_address == JOHN and got.sender.email_address == JOHN
    assert got.author.name == 'John Doe'
    # the sender's categories stay with the sender, as in Exchange
    assert (got.importance, got.categories, got.is_read_receipt_requested) == ('High', None, True)
    assert got.is_read is False and got.is_draft is False and got.message_id
    inbox.refresh()
    assert (inbox.unread_count, inbox.total_count) == (unread + 1, total + 1)
    got.is_read = True
    got.save()
    assert inbox.refresh().unread_count == unread
    # send() keeps no copy
    assert john.sent.filter(subject=subject).count() == 0
    assert john.drafts.filter(subject=subject).count() == 0
    got.delete()
    assert inbox.refresh().total_count == total


def test_seed_send_examples(john, mary):
    a = john
    subject = f'Daily motivation {tag()}'
    # If you don't want a local copy:
    m = Message(
        account=a,
        subject=subject,
        body='All bodies are beautiful',
        to_recipients=[Mailbox(email_address='anne@example.com'), Mailbox(email_address=MARY)],
        cc_recipients=['carl@example.com', 'denice@example.com'],  # Simple strings work, too
        bcc_recipients=[Mailbox(email_address='erik@example.com'), 'felicity@example.com'],  # Or a mix of both
    )
    m.send()
    assert m.id is None and m.folder is None
    assert mary.inbox.get(subject=subject).body == 'All bodies are beautiful'

    # Or, if you want a copy in e.g. the 'Sent' folder
    saved_subject = subject + ' (saved)'
    m = Message(
        account=a,
        folder=a.sent,
        subject=saved_subject,
        body='All bodies are beautiful',
        to_recipients=[Mailbox(email_address=MARY)]
    )
    m.send_and_save()
    copy = a.sent.get(subject=saved_subject)
    assert copy.is_draft is False and copy.is_read is True and addresses(copy.to_recipients) == [MARY]
    assert mary.inbox.get(subject=saved_subject).author.email_address == JOHN
    m.body = HTMLBody('<html><body>Hello happy <blink>OWA user!</blink></body></html>')
    assert m.body.body_type == 'HTML'


def test_send_and_save_puts_the_copy_in_the_items_folder(john, mary):
    archive_subject = f"archived {tag()}"
    Message(account=john, folder=john.inbox, subject=archive_subject, to_recipients=[MARY]).send_and_save()
    assert john.inbox.filter(subject=archive_subject).count() == 1
    assert john.sent.filter(subject=archive_subject).count() == 0
    plain = Message(account=john, subject=archive_subject + " 2", to_recipients=[MARY])
    plain.send(save_copy=True)
    assert john.sent.filter(subject=archive_subject + " 2").count() == 1


def test_a_draft_is_saved_edited_and_sent(john, mary):
    subject = f"draft {tag()}"
    draft = Message(account=john, subject=subject, body='first version', to_recipients=[MARY])
    draft.save()
    assert draft.folder is john.drafts and john.drafts.get(subject=subject).is_draft is True
    draft.body = 'second version'
    draft.send_and_save()  # saves the change, then SendItem with a copy in Sent Items
    assert draft.id is None
    assert john.drafts.filter(subject=subject).count() == 0
    assert john.sent.get(subject=subject).body == 'second version'
    assert mary.inbox.get(subject=subject).body == 'second version'

    other = Message(account=john, subject=subject + ' b', to_recipients=[MARY])
    other.save()
    other.send()  # a saved draft sent without a copy
    assert john.drafts.filter(subject=subject + ' b').count() == 0
    assert john.sent.filter(subject=subject + ' b').count() == 0
    assert mary.inbox.filter(subject=subject + ' b').count() == 1


def test_send_argument_errors(john):
    m = Message(account=john, subject='x')
    with pytest.raises(TypeError, match="save_copy must be a bool"):
        m.send(save_copy='yes')
    with pytest.raises(ValueError, match="copy_to_folder can only be given"):
        m.send(copy_to_folder=john.sent)


def test_message_timestamps_are_server_set_aware_and_read_only(john, mary):
    subject = f"timestamps {tag()}"
    with pytest.raises(AttributeError, match="datetime_sent is read-only"):
        Message(account=john, subject=subject, datetime_sent=EWSDateTime.now(EWSTimeZone('UTC')))
    Message(account=john, subject=subject, to_recipients=[MARY]).send()
    got = mary.inbox.get(subject=subject)
    stamps = [got.datetime_created, got.datetime_sent, got.datetime_received, got.last_modified_time]
    assert all(isinstance(t, EWSDateTime) and t.utcoffset() is not None for t in stamps), stamps
    assert got.datetime_sent <= got.datetime_received
    for name in ('datetime_created', 'datetime_sent', 'datetime_received', 'last_modified_time'):
        with pytest.raises(AttributeError, match="read-only"):
            setattr(got, name, EWSDateTime.now(EWSTimeZone('UTC')))
    with pytest.raises(ValueError, match="read-only"):
        got.save(update_fields=['datetime_sent'])
    before = got.last_modified_time
    got.is_read = True
    got.save()
    got.refresh()
    assert got.last_modified_time >= before and got.datetime_sent == stamps[1]


# --------------------------------------------------------------------------------------------------------------
# Replies and forwards
# --------------------------------------------------------------------------------------------------------------

def _thread(john, mary, anne_cc: bool = True) -> Message:
    subject = f"Status {tag()}"
    Message(account=john, subject=subject, body='All green.', to_recipients=[MARY, 'anne@example.org'],
            cc_recipients=['carl@example.org'] if anne_cc else None).send()
    return mary.inbox.get(subject=subject)


def test_reply_goes_to_the_sender_with_the_original_quoted(john, mary):
    status = _thread(john, mary)
    status.reply(body='Thanks!')
    reply = john.inbox.get(subject='RE: ' + status.subject)
    assert addresses(reply.to_recipients) == [JOHN] and reply.cc_recipients is None
    assert reply.author.email_address == MARY
    assert reply.body.startswith('Thanks!') and 'All green.' in reply.body and 'Subject: ' + status.subject in reply.body
    assert reply.in_reply_to == status.message_id and status.message_id in reply.references
    assert reply.conversation_id == status.conversation_id
    assert mary.sent.filter(subject='RE: ' + status.subject).count() == 1  # a copy is kept


def test_reply_with_explicit_subject_and_recipients(john, mary):
    status = _thread(john, mary)
    status.reply(subject='Re: custom', body='Only to Anne', to_recipients=['anne@example.org', JOHN])
    reply = john.inbox.get(subject='Re: custom')
    assert addresses(reply.to_recipients) == ['anne@example.org', JOHN]


def test_reply_all_goes_to_everyone_but_me(john, mary):
    status = _thread(john, mary)
    status.reply_all(body='Thanks all')
    reply = john.inbox.get(subject='RE: ' + status.subject)
    assert addresses(reply.to_recipients) == [JOHN, 'anne@example.org']
    assert addresses(reply.cc_recipients) == ['carl@example.org']


def test_forward_sends_the_message_and_its_attachments_on(john, mary):
    subject = f"Report {tag()}"
    m = Message(account=john, subject=subject, body=HTMLBody('<p>See attached</p>'), to_recipients=[MARY])
    m.attach(FileAttachment(name='report.txt', content=b'numbers'))
    m.send()
    report = mary.inbox.get(subject=subject)
    report.forward(subject=None, body='FYI', to_recipients=[JOHN])
    fwd = john.inbox.get(subject='FW: ' + subject)
    assert addresses(fwd.to_recipients) == [JOHN]
    assert isinstance(fwd.body, HTMLBody) and 0 <= fwd.body.index('FYI') < fwd.body.index('<p>See attached</p>')
    [att] = fwd.attachments
    assert att.name == 'report.txt' and att.content == b'numbers'
    with pytest.raises(ValueError, match="at least one recipient"):
        report.forward('x', 'y', [])


def test_create_reply_can_be_edited_and_saved_as_a_draft(john, mary):
    status = _thread(john, mary)
    reply = status.create_reply(body='Draft answer')
    assert isinstance(reply, ReplyToItem) and reply.reference_item_id.id == status.id
    reply.cc_recipients = ['boss@example.org']
    draft = reply.save()
    assert draft.id and draft.folder is None
    saved = mary.drafts.get(subject='RE: ' + status.subject)
    assert saved.is_draft is True and addresses(saved.to_recipients) == [JOHN]
    assert addresses(saved.cc_recipients) == ['boss@example.org'] and isinstance(saved.body, Body)
    saved.send()
    assert john.inbox.filter(subject='RE: ' + status.subject).count() == 1


def test_replying_to_an_unsaved_message_is_refused(john):
    with pytest.raises(ValueError, match="only saved items can be answered"):
        Message(account=john, subject='x').reply(body='y')
