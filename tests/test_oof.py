"""Out-of-office settings: ``account.oof_settings`` read and written over HTTP (seed 002, "Out of Facility")."""
from __future__ import annotations

import pytest

from exchangelib import EWSDateTime, EWSTimeZone, OofSettings
from exchangelib.errors import ErrorAccessDenied
from exchangelib.ewsdatetime import UTC
from exchangelib.services import GetUserOofSettings
from tests.testing.opshelpers import call, make_ctx, make_store

TZ = EWSTimeZone.timezone("Europe/Copenhagen")


@pytest.fixture
def account(exchange):
    return exchange.account("john@example.com")


def test_a_new_mailbox_has_replies_switched_off(exchange):
    settings = exchange.account("room1@example.com").oof_settings
    assert settings.state == OofSettings.DISABLED
    assert settings.external_audience == "All"
    assert settings.internal_reply == "" and settings.external_reply == ""


def test_seed_example_scheduled_then_disabled(account):
    start, end = TZ.localize(EWSDateTime(2017, 11, 1, 11)), TZ.localize(EWSDateTime(2017, 12, 1, 11))
    account.oof_settings = OofSettings(
        state=OofSettings.SCHEDULED,
        external_audience='Known',
        internal_reply="I'm in the pub. See ya guys!",
        external_reply="I'm having a business dinner in town",
        start=start,
        end=end,
    )
    got = account.oof_settings
    assert (got.state, got.external_audience) == ("Scheduled", "Known")
    assert got.internal_reply == "I'm in the pub. See ya guys!"
    assert got.external_reply == "I'm having a business dinner in town"
    assert (got.start, got.end) == (start, end)
    assert got.start.tzinfo is UTC  # instants come back in UTC, equal to what was sent

    account.oof_settings = OofSettings(state=OofSettings.DISABLED, internal_reply='', external_reply='')
    got = account.oof_settings
    assert got.state == "Disabled"
    assert (got.internal_reply, got.external_reply) == ("", "")
    assert got.external_audience == "All"  # the default audience when none is given


def test_enabled_without_a_period_keeps_replies_with_markup(account):
    account.oof_settings = OofSettings(state=OofSettings.ENABLED, external_audience="None",
                                       internal_reply="<b>Away</b> & back soon", external_reply="Gone fishing")
    got = account.oof_settings
    assert got.state == "Enabled" and got.external_audience == "None"
    assert got.internal_reply == "<b>Away</b> & back soon" and got.external_reply == "Gone fishing"


def test_a_delegate_reads_the_owners_settings_but_a_stranger_may_not(exchange):
    john = exchange.account("john@example.com")
    john.oof_settings = OofSettings(state=OofSettings.ENABLED, internal_reply="john is out", external_reply="")
    mary = exchange.account("mary@example.com")
    assert GetUserOofSettings(account=mary).call("john@example.com").internal_reply == "john is out"
    with pytest.raises(ErrorAccessDenied):
        GetUserOofSettings(account=john).call("mary@example.com")


@pytest.mark.parametrize("kwargs,message", [
    (dict(state=OofSettings.SCHEDULED), "SCHEDULED state needs both start and end"),
    (dict(state=OofSettings.SCHEDULED, start=TZ.localize(EWSDateTime(2020, 1, 2))), "SCHEDULED state needs"),
    (dict(state=OofSettings.SCHEDULED, start=TZ.localize(EWSDateTime(2020, 1, 2)),
          end=TZ.localize(EWSDateTime(2020, 1, 1))), r"end \(.*\) must be after start"),
    (dict(state=OofSettings.ENABLED, start=TZ.localize(EWSDateTime(2020, 1, 2)),
          end=TZ.localize(EWSDateTime(2020, 1, 2))), "must be after start"),
    (dict(state=OofSettings.ENABLED, end=TZ.localize(EWSDateTime(2020, 1, 2))), "both start and end, or neither"),
    (dict(state="Sometimes"), "OofSettings.state must be one of"),
    (dict(state=OofSettings.ENABLED, external_audience="Everybody"), "OofSettings.external_audience must be one"),
    (dict(internal_reply="x"), "OofSettings.state is required"),
])
def test_invalid_combinations_are_refused_before_anything_is_sent(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OofSettings(**kwargs)


def test_naive_datetimes_and_wrong_types_are_refused(account):
    from datetime import datetime
    with pytest.raises(ValueError, match="naive"):
        OofSettings(state=OofSettings.SCHEDULED, start=datetime(2020, 1, 1), end=datetime(2020, 1, 2))
    with pytest.raises(TypeError, match="OofSettings instance"):
        account.oof_settings = {"state": "Enabled"}


def test_a_change_after_construction_is_checked_again_before_sending(exchange, account):
    settings = OofSettings(state=OofSettings.ENABLED)
    settings.state = OofSettings.SCHEDULED
    before = exchange.request_count("SetUserOofSettingsRequest")
    with pytest.raises(ValueError, match="SCHEDULED state needs"):
        account.oof_settings = settings
    assert exchange.request_count("SetUserOofSettingsRequest") == before


# --- the server on its own (requests a client would refuse to build) ------------------------------------
_SET = """<m:SetUserOofSettingsRequest><t:Mailbox><t:Address>alice@example.com</t:Address></t:Mailbox>
  <t:UserOofSettings><t:OofState>{state}</t:OofState><t:ExternalAudience>All</t:ExternalAudience>{duration}
  </t:UserOofSettings></m:SetUserOofSettingsRequest>"""
_GET = "<m:GetUserOofSettingsRequest><t:Mailbox><t:Address>alice@example.com</t:Address></t:Mailbox>" \
       "</m:GetUserOofSettingsRequest>"


def _code(response) -> str:
    return response.findtext("{*}ResponseMessage/{*}ResponseCode")


def test_server_refuses_an_inverted_period_and_keeps_what_a_set_leaves_out():
    ctx = make_ctx(make_store())
    bad = "<t:Duration><t:StartTime>2020-01-02T00:00:00Z</t:StartTime><t:EndTime>2020-01-01T00:00:00Z</t:EndTime>" \
          "</t:Duration>"
    assert _code(call(ctx, _SET.format(state="Scheduled", duration=bad))) == "ErrorInvalidScheduledOofDuration"
    good = bad.replace("2020-01-02", "2019-12-31")
    assert _code(call(ctx, _SET.format(state="Scheduled", duration=good))) == "NoError"
    # A later Set without Duration keeps the stored period, as Exchange does
    assert _code(call(ctx, _SET.format(state="Enabled", duration=""))) == "NoError"
    got = call(ctx, _GET)
    assert got.findtext("{*}OofSettings/{*}OofState") == "Enabled"
    assert got.findtext("{*}OofSettings/{*}Duration/{*}StartTime") == "2019-12-31T00:00:00Z"
