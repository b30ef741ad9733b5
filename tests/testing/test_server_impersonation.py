"""ExchangeImpersonation and delegate access on the local EWS server."""
from __future__ import annotations

import pytest
import requests

from exchangelib.testing.server import EWSServer
from exchangelib.testing.users import User, default_users

from .conftest import RSV_2016, soap
from .test_server_soap import fault_of

ADMIN = ("EXAMPLE\\ewsadmin", "Exchange-admin-1")
JOHN = ("john", "Exchange-john-1")


def impersonating(kind, value):
    return (f"{RSV_2016}<t:ExchangeImpersonation><t:ConnectingSID><t:{kind}>{value}</t:{kind}>"
            f"</t:ConnectingSID></t:ExchangeImpersonation>")


def call(server, headers, auth):
    return requests.post(server.url, data=soap(headers=headers), auth=auth, timeout=10)


@pytest.mark.parametrize("kind,value", [
    ("PrimarySmtpAddress", "mary@example.com"), ("PrimarySmtpAddress", "MARY@example.com"),
    ("SmtpAddress", "mary@example.com"), ("PrincipalName", "mary@example.com"),
])
def test_impersonation_allowed(ews_server, fake_ops, kind, value):
    r = call(ews_server, impersonating(kind, value), ADMIN)
    assert r.status_code == 200, r.text
    assert fake_ops.last.caller == "mary@example.com"
    assert fake_ops.last.mailbox.primary_smtp_address == "mary@example.com"
    rec = ews_server.request_log[-1]
    assert (rec.user, rec.mailbox) == ("ewsadmin@example.com", "mary@example.com")


def test_impersonation_by_sid_and_of_mailbox_without_login(ews_server, fake_ops):
    mary = ews_server.user("mary@example.com")
    assert call(ews_server, impersonating("SID", mary.sid), ADMIN).status_code == 200
    assert fake_ops.last.caller == "mary@example.com"
    assert call(ews_server, impersonating("PrimarySmtpAddress", "room1@example.com"), ADMIN).status_code == 200
    assert fake_ops.last.caller == "room1@example.com"


def test_impersonation_by_alias_needs_smtp_address_not_primary(ews_server, fake_ops):
    assert call(ews_server, impersonating("SmtpAddress", "j.doe@example.com"), ADMIN).status_code == 200
    assert fake_ops.last.caller == "john@example.com"
    _, code, _, mx = fault_of(call(ews_server, impersonating("PrimarySmtpAddress", "j.doe@example.com"), ADMIN))
    assert code == "ErrorNonExistentMailbox" and mx == {"SmtpAddress": "j.doe@example.com"}


def test_impersonation_denied_without_the_role(ews_server, fake_ops):
    faultcode, code, message, _ = fault_of(call(ews_server, impersonating("PrimarySmtpAddress", "mary@example.com"),
                                                JOHN))
    assert (faultcode, code) == ("a:ErrorImpersonateUserDenied", "ErrorImpersonateUserDenied")
    assert message == "The account does not have permission to impersonate the requested user."
    assert not fake_ops.calls


def test_impersonation_of_unknown_mailbox(ews_server, fake_ops):
    r = call(ews_server, impersonating("PrimarySmtpAddress", "ghost@example.com"), ADMIN)
    faultcode, code, message, mx = fault_of(r)
    assert code == "ErrorNonExistentMailbox"
    assert message == "The SMTP address has no mailbox associated with it."
    assert mx == {"SmtpAddress": "ghost@example.com"}


def test_impersonation_rights_can_be_limited_to_some_mailboxes(fake_ops):
    users = list(default_users()) + [User("helpdesk", "pw-helpdesk", "helpdesk@example.com",
                                          can_impersonate=["mary@example.com"])]
    with EWSServer(users) as server:
        auth = ("helpdesk", "pw-helpdesk")
        assert call(server, impersonating("PrimarySmtpAddress", "mary@example.com"), auth).status_code == 200
        _, code, _, _ = fault_of(call(server, impersonating("PrimarySmtpAddress", "john@example.com"), auth))
        assert code == "ErrorImpersonateUserDenied"


def test_delegate_access_rules_reach_the_handler(ews_server, fake_ops):
    # mary may open john's mailbox (delegate_to), john may not open mary's.
    assert call(ews_server, RSV_2016, ("mary", "Exchange-mary-1")).status_code == 200
    ctx = fake_ops.last
    assert ctx.can_access(ctx.caller, "john@example.com")
    assert ctx.mailbox_for("john@example.com").primary_smtp_address == "john@example.com"
    assert call(ews_server, RSV_2016, JOHN).status_code == 200
    ctx = fake_ops.last
    assert not ctx.can_access(ctx.caller, "mary@example.com")
    assert ctx.can_access(ctx.caller, "J.Doe@example.com")  # own alias


def test_app_token_with_full_access_opens_every_mailbox(ews_server, fake_ops):
    token = ews_server.issue_token(client_id="local-app")
    r = requests.post(ews_server.url, data=soap(headers=impersonating("PrimarySmtpAddress", "john@example.com")),
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200
    assert fake_ops.last.can_access("john@example.com", "mary@example.com")
