"""Generated mailboxes (``server.generate_mailboxes`` / ``serve --generate``): reachable by impersonation,
the same content for the same seed."""
from __future__ import annotations

import io
import threading

import pytest

from exchangelib.testing import LocalExchange
from exchangelib.testing.__main__ import main as serve_main


def _subjects(server, address):
    account = server.account(address)
    return sorted(i.subject or "" for f in (account.inbox, account.calendar, account.tasks)
                  for i in f.all().only("subject"))


def test_generated_mailboxes_have_the_same_content_for_the_same_seed():
    with LocalExchange(strict=True) as a, LocalExchange(strict=True) as b:
        users = a.generate_mailboxes(3, items=12, seed=5)
        b.generate_mailboxes(3, items=12, seed=5)
        assert [u.primary_smtp_address for u in users] == ["user0001@example.com", "user0002@example.com",
                                                          "user0003@example.com"]
        account = a.account("user0002@example.com")  # no login: opened by impersonation
        assert account.access_type == "impersonation"
        total = sum(f.total_count for f in account.msg_folder_root.walk())
        assert total == 12
        assert (account.inbox / "Projects" / "Archive").name == "Archive"
        assert _subjects(a, "user0002@example.com") == _subjects(b, "user0002@example.com")
        assert _subjects(a, "user0001@example.com") != _subjects(a, "user0002@example.com")
        a.assert_clean()
    with LocalExchange(strict=True) as c:
        c.generate_mailboxes(2, items=12, seed=6)
        with LocalExchange(strict=True) as d:
            d.generate_mailboxes(2, items=12, seed=5)
            assert _subjects(c, "user0002@example.com") != _subjects(d, "user0002@example.com")


def test_generate_refuses_nonsense():
    with LocalExchange(strict=False) as s:
        with pytest.raises(ValueError, match="count"):
            s.generate_mailboxes(-1)


def test_serve_generates_mailboxes_and_summarises_them():
    out = io.StringIO()
    stop = threading.Event()
    stop.set()  # describe, then stop at once
    assert serve_main(["serve", "--no-strict", "--generate", "30", "--generate-items", "2", "--seed", "3"],
                      out=out, stop=stop) == 0
    assert "30 generated mailboxes without a login: user0001@example.com ... user0030@example.com" in out.getvalue()
