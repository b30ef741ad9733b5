"""Generated mailboxes for scale tests: ``server.generate_mailboxes(200, items=50, seed=7)``.

Each generated mailbox belongs to a :class:`~exchangelib.testing.users.User` without a login
(``user0001@example.com``, ...), so it is opened the way an organisation-wide export opens it:
by an account that may impersonate it (``ewsadmin@example.com``) or by the OAuth app with
``full_access_as_app``. The content is built directly in the store (no HTTP round trips), stamped
exactly as CreateItem stamps items: messages in the Inbox, Sent Items and two sub-folders of the
Inbox (some with a small file attachment), calendar items, contacts and tasks.

The same ``seed`` gives the same mailboxes, folder names, subjects, bodies and attachment
contents (server-made values such as item ids, change keys and calendar UIDs differ from run to
run, as they would between two Exchange servers). The content of mailbox ``n`` depends only on
``seed`` and ``n``, so generating 50 or 500 mailboxes gives the first 50 the same content.

``python -m exchangelib.testing serve --generate 200 --generate-items 50 --seed 7`` does the same
from the command line.

Like the rest of :mod:`exchangelib.testing`, this module does not import the client's models.
"""
from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta, timezone
from typing import Any, List, Optional

from lxml import etree

from ..xml import TNS
from .ops.props import insert_ordered
from .ops.stamp import stamp_new
from .store import Mailbox, format_datetime
from .users import User


__all__ = ["generate_mailboxes", "fill_mailbox"]

T = f"{{{TNS}}}"

_FIRST = ("Ada", "Bjorn", "Chloe", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jana", "Kemal", "Lea",
          "Mateo", "Nora", "Olek", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara")
_LAST = ("Andersen", "Brandt", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova", "Jensen",
         "Kowalski", "Larsen", "Moreau", "Nielsen", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Weber")
_TOPICS = ("budget", "roadmap", "release", "hiring", "offsite", "invoice", "contract", "backup", "migration",
           "security review", "quarterly report", "customer visit", "training", "onboarding", "audit")
_WORDS = ("the", "plan", "we", "agreed", "next", "week", "numbers", "look", "good", "please", "review", "attached",
          "draft", "before", "Friday", "thanks", "meeting", "notes", "from", "today", "action", "items", "owner",
          "deadline", "status", "update", "risk", "mitigation", "team", "customer")


def _el(tag: str, text: Optional[str] = None, **attrib: str) -> etree._Element:
    e = etree.Element(T + tag, attrib)
    if text is not None:
        e.text = text
    return e


def _add(item: etree._Element, type_name: str, child: etree._Element) -> None:
    insert_ordered(item, child, type_name)


def _mailbox_el(tag: str, name: str, address: str) -> etree._Element:
    outer = _el(tag)
    mb = etree.SubElement(outer, T + "Mailbox")
    etree.SubElement(mb, T + "Name").text = name
    etree.SubElement(mb, T + "EmailAddress").text = address
    return outer


def _text(rng: random.Random, lo: int, hi: int) -> str:
    n = rng.randint(lo, hi)
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize() + "."


def _message(rng: random.Random, i: int, owner: str, peer: str, attach: bool) -> etree._Element:
    msg = _el("Message")
    _add(msg, "MessageType", _el("Subject", f"{rng.choice(_TOPICS).capitalize()} #{i}: {_text(rng, 2, 6)}"))
    _add(msg, "MessageType", _el("Body", _text(rng, 20, 300), BodyType="Text"))
    if attach:
        atts = _el("Attachments")
        att = etree.SubElement(atts, T + "FileAttachment")
        etree.SubElement(att, T + "Name").text = f"notes-{i}.txt"
        etree.SubElement(att, T + "ContentType").text = "text/plain"
        etree.SubElement(att, T + "Content").text = base64.b64encode(
            _text(rng, 50, 400).encode("utf-8")).decode("ascii")
        _add(msg, "MessageType", atts)
    if rng.random() < 0.3:
        cats = _el("Categories")
        etree.SubElement(cats, T + "String").text = rng.choice(("work", "personal", "follow-up"))
        _add(msg, "MessageType", cats)
    to = _el("ToRecipients")
    mb = etree.SubElement(to, T + "Mailbox")
    etree.SubElement(mb, T + "EmailAddress").text = peer
    _add(msg, "MessageType", to)
    _add(msg, "MessageType", _mailbox_el("From", owner, owner))
    return msg


def _calendar_item(rng: random.Random, i: int, start: datetime) -> etree._Element:
    item = _el("CalendarItem")
    _add(item, "CalendarItemType", _el("Subject", f"{rng.choice(_TOPICS).capitalize()} meeting {i}"))
    _add(item, "CalendarItemType", _el("Body", _text(rng, 5, 60), BodyType="Text"))
    _add(item, "CalendarItemType", _el("Start", format_datetime(start)))
    _add(item, "CalendarItemType", _el("End", format_datetime(start + timedelta(minutes=rng.choice((30, 60))))))
    _add(item, "CalendarItemType", _el("Location", f"Room {rng.randint(1, 9)}"))
    return item


def _contact(rng: random.Random, i: int, domain: str) -> etree._Element:
    given, surname = rng.choice(_FIRST), rng.choice(_LAST)
    item = _el("Contact")
    _add(item, "ContactItemType", _el("GivenName", given))
    _add(item, "ContactItemType", _el("Surname", surname))
    emails = _el("EmailAddresses")
    etree.SubElement(emails, T + "Entry", Key="EmailAddress1").text = f"{given}.{surname}{i}@{domain}".lower()
    _add(item, "ContactItemType", emails)
    _add(item, "ContactItemType", _el("CompanyName", f"{surname} & Co"))
    return item


def _task(rng: random.Random, i: int) -> etree._Element:
    item = _el("Task")
    _add(item, "TaskType", _el("Subject", f"Follow up on the {rng.choice(_TOPICS)} ({i})"))
    _add(item, "TaskType", _el("Body", _text(rng, 5, 40), BodyType="Text"))
    return item


def fill_mailbox(server: Any, mailbox: Mailbox, items: int, seed: int, n: int = 0) -> int:
    """Put ``items`` generated items (and two sub-folders of the Inbox) into a mailbox; returns the count.

    The mix: about 60% messages (Inbox, Sent Items, Inbox/Projects, Inbox/Projects/Archive), 20% calendar
    items, 10% contacts, 10% tasks. ``seed`` and ``n`` (the mailbox's number) choose the content.
    """
    rng = random.Random(f"{seed}:{n}")
    store = server.store
    owner = mailbox.primary_smtp_address
    domain = owner.split("@", 1)[1]
    with store.lock:
        inbox = mailbox.folder("inbox")
        projects = mailbox.create_folder(inbox, "Folder", "Projects", "IPF.Note")
        archive = mailbox.create_folder(projects, "Folder", "Archive", "IPF.Note")
        targets = [(inbox, 0.35), (mailbox.folder("sentitems"), 0.1), (projects, 0.1), (archive, 0.05),
                   (mailbox.folder("calendar"), 0.2), (mailbox.folder("contacts"), 0.1), (mailbox.folder("tasks"), 0.1)]
        base = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
        for i in range(items):
            r = rng.random()
            acc = 0.0
            folder = targets[0][0]
            for f, share in targets:
                acc += share
                if r < acc:
                    folder = f
                    break
            if folder is mailbox.folder("calendar"):
                elem = _calendar_item(rng, i, base + timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 8)))
            elif folder is mailbox.folder("contacts"):
                elem = _contact(rng, i, domain)
            elif folder is mailbox.folder("tasks"):
                elem = _task(rng, i)
            else:
                peer = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}@{domain}".lower()
                elem = _message(rng, i, owner, peer, attach=rng.random() < 0.15)
            stamp_new(store, mailbox, elem)
            assert folder is not None  # every mailbox has the well-known folders used above
            store.add_item(folder, elem)
    return items


def generate_mailboxes(server: Any, count: int, items: int = 20, seed: int = 0, prefix: str = "user",
                       domain: str = "example.com", start: int = 1) -> List[User]:
    """Add ``count`` mailboxes ``<prefix><nnnn>@<domain>`` (numbered from ``start``) with ``items`` generated
    items each; returns their users. See the module docstring."""
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"generate_mailboxes: count must be a non-negative int, got {count!r}")
    if not isinstance(items, int) or items < 0:
        raise ValueError(f"generate_mailboxes: items must be a non-negative int, got {items!r}")
    users = []
    for n in range(start, start + count):
        rng = random.Random(f"{seed}:name:{n}")
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        user = server.add_user(User(f"{prefix}{n:04d}", None, f"{prefix}{n:04d}@{domain}", name))
        mailbox = server.store.get_mailbox(user.primary_smtp_address)
        assert mailbox is not None
        fill_mailbox(server, mailbox, items, seed, n)
        users.append(user)
    return users
