"""Attachments over HTTP against the local server (seed 002, "Attachments").

File and item attachments on every item kind, attached to new items (sent inline with CreateItem) and
to saved ones (CreateAttachment / DeleteAttachment, with the item's change key kept current); content
fetched lazily; nested item attachments; inline images; streaming (``fp``, ``save()``), including a
50 MB file streamed through a client whose memory stays flat.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from exchangelib import (
    Account, CalendarItem, Configuration, Contact, Credentials, EWSDateTime, EWSTimeZone, FileAttachment, HTMLBody,
    ItemAttachment, Message, NTLM, PostItem, Task,
)
from exchangelib.errors import ErrorInvalidAttachmentId, ErrorIrresolvableConflict
from exchangelib.items import NEVER_OVERWRITE
from exchangelib.properties.attachments import safe_filename

TZ = EWSTimeZone.timezone("Europe/Copenhagen")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def account(exchange):
    return exchange.account("john@example.com")


def _fresh(account, item):
    (fresh,) = account.fetch([item])
    assert not isinstance(fresh, Exception), fresh
    return fresh


def _server_changekey(account, item) -> str:
    return _fresh(account, item).changekey


# --- the seed's walk-through ---------------------------------------------------------------------------
def test_seed_example_create_attach_detach_and_read_back(exchange, account, tmp_path):
    item = Message(account=account, folder=account.drafts, subject='Seed attachments', body='See attached')
    binary_file_content = 'Hello from unicode æøå'.encode('utf-8')
    my_file = FileAttachment(name='my_file.txt', content=binary_file_content)
    item.attach(my_file)
    my_calendar_item = CalendarItem(subject='Lunch', start=TZ.localize(EWSDateTime(2026, 5, 4, 12)),
                                    end=TZ.localize(EWSDateTime(2026, 5, 4, 13)))
    my_appointment = ItemAttachment(name='my_appointment', item=my_calendar_item)
    item.attach(my_appointment)
    assert exchange.request_count("CreateAttachment") == 0  # a new item sends them inline with CreateItem
    item.save()
    assert exchange.request_count("CreateAttachment") == 0
    assert my_file.attachment_id is not None and my_appointment.attachment_id is not None

    # Add an attachment on an existing item: created at once, and the item's change key moves on
    before = item.changekey
    my_other_file = FileAttachment(name='my_other_file.txt', content=binary_file_content)
    item.attach(my_other_file)
    assert exchange.request_count("CreateAttachment") == 1
    assert my_other_file.attachment_id is not None
    assert item.changekey != before and item.changekey == _server_changekey(account, item)

    # Remove the attachment again
    before = item.changekey
    item.detach(my_file)
    assert my_file.attachment_id is None and my_file.parent_item is None
    assert item.changekey != before and item.changekey == _server_changekey(account, item)

    # Process attachments on existing items, as the seed does
    saved = []
    for found in account.drafts.filter(subject='Seed attachments'):
        for attachment in found.attachments:
            if isinstance(attachment, FileAttachment):
                local_path = os.path.join(tmp_path, attachment.name)
                with open(local_path, 'wb') as f:
                    f.write(attachment.content)
                saved.append(local_path)
            elif isinstance(attachment, ItemAttachment):
                assert isinstance(attachment.item, CalendarItem)
                assert attachment.item.subject == 'Lunch'
                assert attachment.item.start == my_calendar_item.start
    assert [os.path.basename(p) for p in saved] == ['my_other_file.txt']
    assert Path(saved[0]).read_bytes() == binary_file_content


def test_the_change_key_after_attach_and_detach_is_current(account):
    item = Message(account=account, folder=account.drafts, subject='ck')
    item.save()
    item.attach([FileAttachment(name='a.txt', content=b'a'), FileAttachment(name='b.txt', content=b'b')])
    # Saving with NeverOverwrite only works with the server's current change key
    item.subject = 'ck 2'
    item.save(conflict_resolution=NEVER_OVERWRITE)
    item.detach(item.attachments[0])
    item.subject = 'ck 3'
    item.save(conflict_resolution=NEVER_OVERWRITE)
    stale = _fresh(account, item)
    item.attach(FileAttachment(name='c.txt', content=b'c'))
    stale.subject = 'from a stale copy'
    with pytest.raises(ErrorIrresolvableConflict):
        stale.save(conflict_resolution=NEVER_OVERWRITE)


@pytest.mark.parametrize("make", [
    lambda a: Message(account=a, folder=a.drafts, subject='kind message'),
    lambda a: CalendarItem(account=a, folder=a.calendar, subject='kind calendar',
                           start=TZ.localize(EWSDateTime(2026, 6, 1, 9)), end=TZ.localize(EWSDateTime(2026, 6, 1, 10))),
    lambda a: Task(account=a, folder=a.tasks, subject='kind task'),
    lambda a: Contact(account=a, folder=a.contacts, given_name='Kind', surname='Contact'),
    lambda a: PostItem(account=a, folder=a.inbox, subject='kind post'),
], ids=["Message", "CalendarItem", "Task", "Contact", "PostItem"])
def test_every_item_kind_takes_file_and_item_attachments(account, make):
    item = make(account)
    item.attach(FileAttachment(name='inline.bin', content=b'\x00\x01\xff' * 100))
    item.save()
    item.attach(ItemAttachment(name='later', item=Message(subject='attached later', body='body text')))
    fresh = _fresh(account, item)
    assert type(fresh) is type(item)
    by_name = {a.name: a for a in fresh.attachments}
    assert set(by_name) == {'inline.bin', 'later'}
    assert by_name['inline.bin'].content == b'\x00\x01\xff' * 100
    assert by_name['inline.bin'].size == 300
    assert by_name['later'].item.subject == 'attached later' and by_name['later'].item.body == 'body text'
    assert fresh.has_attachments is True


def test_content_is_fetched_once_and_only_when_read(exchange, account):
    item = Message(account=account, folder=account.drafts, subject='lazy')
    item.attach(FileAttachment(name='lazy.txt', content=b'lazy content', content_type='text/plain'))
    item.save()
    fresh = _fresh(account, item)
    (att,) = fresh.attachments
    assert (att.name, att.content_type, att.size) == ('lazy.txt', 'text/plain', 12)
    assert exchange.request_count("GetAttachment") == 0
    assert 'lazy content' not in repr(att)  # a repr never downloads or dumps the file
    assert att == _fresh(account, item).attachments[0]  # neither does comparing
    assert exchange.request_count("GetAttachment") == 0
    assert att.content == b'lazy content'
    assert att.content == b'lazy content'
    assert exchange.request_count("GetAttachment") == 1


def test_nested_item_attachments_are_full_items_with_their_own_attachments(account):
    innermost = Message(subject='innermost')
    innermost.attach(FileAttachment(name='deep.txt', content=b'deep down'))
    inner = Task(subject='inner task')
    inner.attach(FileAttachment(name='inner.txt', content=b'inner file'))
    inner.attach(ItemAttachment(name='innermost', item=innermost))
    outer = Message(account=account, folder=account.drafts, subject='outer')
    outer.attach(ItemAttachment(name='inner', item=inner))
    outer.save()

    (att,) = _fresh(account, outer).attachments
    task = att.item
    assert isinstance(task, Task) and task.subject == 'inner task'
    files = {a.name: a for a in task.attachments}
    assert files['inner.txt'].content == b'inner file'
    deeper = files['innermost'].item
    assert isinstance(deeper, Message) and deeper.subject == 'innermost'
    (deep_file,) = deeper.attachments
    assert deep_file.content == b'deep down'
    with deep_file.fp as fp:
        assert fp.read() == b'deep down'


def test_inline_image_referenced_from_an_html_body(account):
    logo = FileAttachment(name='logo.png', content=b'\x89PNG\r\n\x1a\nfake', is_inline=True, content_id='logo-1',
                          content_type='image/png')
    message = Message(account=account, folder=account.drafts, subject='with logo')
    message.attach(logo)
    message.body = HTMLBody('<html><body>Hello logo: <img src="cid:logo-1"></body></html>')
    message.save()
    fresh = _fresh(account, message)
    (att,) = fresh.attachments
    assert (att.is_inline, att.content_id, att.content_type) == (True, 'logo-1', 'image/png')
    assert isinstance(fresh.body, HTMLBody) and 'cid:logo-1' in fresh.body
    # The seed's form: attach to a saved message, then give it the HTML body
    message.attach(FileAttachment(name='logo2.png', content=b'png'))
    message.body = HTMLBody('<html><body><img src="cid:logo2.png"></body></html>')
    message.save()
    assert {a.name for a in _fresh(account, message).attachments} == {'logo.png', 'logo2.png'}


def test_attachments_appended_to_a_saved_item_are_created_by_save(exchange, account):
    item = Message(account=account, folder=account.drafts, subject='appended')
    item.save()
    late = FileAttachment(name='late.txt', content=b'late')
    late.parent_item = item
    item.attachments = [late]
    item.save()
    assert late.attachment_id is not None
    assert [a.name for a in _fresh(account, item).attachments] == ['late.txt']


def test_attachment_mistakes_raise_clear_errors(account):
    item = Message(account=account, folder=account.drafts, subject='mistakes')
    other = Message(account=account, folder=account.drafts, subject='other')
    f = FileAttachment(name='f.txt', content=b'f')
    item.attach(f)
    with pytest.raises(ValueError, match="already attached to this item"):
        item.attach(f)
    with pytest.raises(ValueError, match="already belongs to another item"):
        other.attach(f)
    with pytest.raises(TypeError, match="FileAttachment or ItemAttachment"):
        item.attach("report.txt")
    with pytest.raises(ValueError, match="is not attached to this Message"):
        other.detach(f)
    item.detach(f)  # on a new item, just gone from the list
    assert item.attachments == []  # never None (the peer behaves so too)
    with pytest.raises(TypeError, match=r"ItemAttachment\.item expects an item"):
        ItemAttachment(name='x', item=f)
    # A file attachment not connected to an account has no content to fetch
    detached = FileAttachment(name='x')
    assert detached.content is None
    with pytest.raises(ValueError, match="not saved on the server"):
        detached.fp


def test_a_deleted_attachment_cannot_be_downloaded(account):
    item = Message(account=account, folder=account.drafts, subject='gone')
    item.attach(FileAttachment(name='gone.txt', content=b'gone soon'))
    item.save()
    stale = _fresh(account, item).attachments[0]
    item.detach(item.attachments[0])
    with pytest.raises(ErrorInvalidAttachmentId):
        stale.fp.read()
    with pytest.raises(ErrorInvalidAttachmentId):
        stale.content


# --- streaming to files ------------------------------------------------------------------------------
def test_fp_streams_and_can_stop_early_without_breaking_the_connection(account):
    data = os.urandom(300_000)
    item = Message(account=account, folder=account.drafts, subject='fp')
    item.attach(FileAttachment(name='data.bin', content=data))
    item.save()
    att = _fresh(account, item).attachments[0]
    with att.fp as fp:
        assert fp.read(10) == data[:10]  # stop after ten bytes: the rest of the response is dropped
    with att.fp as fp:
        assert fp.read() == data
    assert account.drafts.filter(subject='fp').count() == 1  # the session pool still works


def test_save_writes_inside_the_directory_only(account, tmp_path):
    item = Message(account=account, folder=account.drafts, subject='save')
    for name in ('report.txt', '../../escape.txt', '/etc/passwd', 'C:\\Windows\\evil.dll', '..', 'con.txt',
                 'a|b?.txt'):
        item.attach(FileAttachment(name=name, content=name.encode('utf-8', 'replace')))
    item.save()
    target = tmp_path / 'out'
    target.mkdir()
    written = [Path(a.save(target)) for a in _fresh(account, item).attachments]
    assert all(p.parent == target for p in written)
    assert sorted(p.name for p in written) == sorted(
        ['report.txt', 'escape.txt', 'passwd', 'evil.dll', 'attachment', '_con.txt', 'a_b_.txt'])
    assert sorted(os.listdir(tmp_path)) == ['out']  # nothing landed next to the target
    assert (target / 'escape.txt').read_bytes() == b'../../escape.txt'
    assert not any(n.endswith('.part') for n in os.listdir(target))  # no temporary files left


def test_save_keeps_existing_files_unless_told_and_never_follows_symlinks(account, tmp_path):
    item = Message(account=account, folder=account.drafts, subject='save twice')
    item.attach(FileAttachment(name='same.txt', content=b'new'))
    item.save()
    att = _fresh(account, item).attachments[0]
    (tmp_path / 'same.txt').write_bytes(b'old')
    assert Path(att.save(tmp_path)).name == 'same (1).txt'
    assert Path(att.save(tmp_path)).name == 'same (2).txt'
    assert (tmp_path / 'same.txt').read_bytes() == b'old'
    assert Path(att.save(tmp_path, overwrite=True)).read_bytes() == b'new'
    assert Path(att.save(tmp_path, filename='renamed.bin')).name == 'renamed.bin'

    outside = tmp_path.parent / f'{tmp_path.name}-outside.txt'
    outside.write_bytes(b'must stay')
    target = tmp_path / 'links'
    target.mkdir()
    (target / 'same.txt').symlink_to(outside)
    assert Path(att.save(target)).name == 'same (1).txt'
    att.save(target, overwrite=True)  # replaces the link itself, not what it points to
    assert outside.read_bytes() == b'must stay'
    assert not (target / 'same.txt').is_symlink() and (target / 'same.txt').read_bytes() == b'new'
    with pytest.raises(ValueError, match="not an existing directory"):
        att.save(tmp_path / 'missing')
    outside.unlink()


def test_safe_filename_reduces_any_name_to_one_component():
    assert safe_filename('../../a/b/c.txt') == 'c.txt'
    assert safe_filename('..\\..\\x.exe') == 'x.exe'
    assert safe_filename('') == 'attachment'
    assert safe_filename('aux') == '_aux'
    long = safe_filename('é' * 300 + '.pdf')
    assert long.endswith('.pdf') and len(long.encode('utf-8')) <= 255


# --- a 50 MB attachment, streamed with flat client memory -----------------------------------------------
_SERVE_BIG = r'''
import base64, sys
from exchangelib import FileAttachment, Message
from exchangelib.testing import LocalExchange
T = '{http://schemas.microsoft.com/exchange/services/2006/types}'
size = int(sys.argv[1])
with LocalExchange(strict=True, validate_responses=True) as server:
    account = server.account('john@example.com')
    m = Message(account=account, folder=account.drafts, subject='big attachment')
    m.attach(FileAttachment(name='big.bin', content=b'placeholder'))
    m.save()
    # The server keeps the file in its store (it is another process: its memory is not measured)
    rec = next(r for r in server.store.items.values() if r.elem.findtext(T + 'Subject') == 'big attachment')
    att = rec.elem.find(f'{T}Attachments/{T}FileAttachment')
    block = bytes(range(256)) * 4096
    data = (block * (size // len(block) + 1))[:size]
    att.find(T + 'Content').text = base64.b64encode(data).decode('ascii')
    att.find(T + 'Size').text = str(size)
    del data
    user = server.user('john@example.com')
    print(server.url, user.logon_name, user.password, flush=True)
    sys.stdin.read()
    print('clean' if not server.schema_errors and not server.internal_errors else 'NOT CLEAN', flush=True)
'''


def _rss() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


@pytest.mark.skipif(not os.path.exists('/proc/self/statm'), reason="measures RSS through /proc")
def test_a_50_mb_attachment_streams_through_flat_client_memory(tmp_path):
    size = 50 * 1000 * 1000
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')]))
    server = subprocess.Popen([sys.executable, '-c', _SERVE_BIG, str(size)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env, cwd=str(tmp_path))
    try:
        url, login, password = server.stdout.readline().split()
        config = Configuration(service_endpoint=url, credentials=Credentials(login, password), auth_type=NTLM)
        account = Account('john@example.com', config=config)
        item = account.drafts.get(subject='big attachment')
        (att,) = item.attachments
        assert att.size == size

        block = bytes(range(256)) * 4096
        expected = hashlib.sha256()
        left = size
        while left:
            part = block[:left]
            expected.update(part)
            left -= len(part)

        got = hashlib.sha256()
        n = 0
        rss_before = _rss()
        tracemalloc.start()
        t0 = time.monotonic()
        try:
            with att.fp as fp:
                while True:
                    chunk = fp.read(1 << 20)
                    if not chunk:
                        break
                    got.update(chunk)
                    n += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        elapsed = time.monotonic() - t0
        rss_growth = _rss() - rss_before
        assert n == size and got.hexdigest() == expected.hexdigest()
        assert peak < 8 * 1024 * 1024, f"Python allocations peaked at {peak / 1e6:.1f} MB while streaming 50 MB"
        assert rss_growth < 16 * 1024 * 1024, f"RSS grew by {rss_growth / 1e6:.1f} MB while streaming 50 MB"
        assert elapsed < 15

        # save() streams too: straight into a file
        tracemalloc.start()
        try:
            path = att.save(tmp_path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert os.path.getsize(path) == size and peak < 8 * 1024 * 1024
        account.protocol.close()
    finally:
        out, _ = server.communicate('', timeout=30)
    assert out.strip() == 'clean'


def test_large_attachment_upload_is_accepted_by_the_local_server(exchange):
    """A 12 MB attachment (a text node past libxml2's 10 MB default limit) goes up and comes back intact."""
    account = exchange.account("john@example.com")
    content = bytes(range(256)) * (12 * 1024 * 4)  # 12 MiB
    m = Message(account=account, folder=account.drafts, subject="large attachment upload")
    m.save()
    m.attach(FileAttachment(name="big.bin", content=content))
    fresh = account.drafts.get(subject="large attachment upload")
    att = fresh.attachments[0]
    digest = hashlib.sha256()
    with att.fp as fp:
        for chunk in iter(lambda: fp.read(1 << 20), b""):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()
    m.delete()
