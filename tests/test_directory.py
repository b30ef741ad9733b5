"""Directory operations over HTTP against a strict local server: ExpandDL, mail tips, ResolveNames in exchangelib
5.x's form, server time zones, convert_ids and free/busy permissions."""
from __future__ import annotations

import datetime
from datetime import timedelta

import pytest

from exchangelib import CalendarItem, Contact, EWSDateTime, EWSTimeZone, Message, OofSettings
from exchangelib.properties import AlternateId
from exchangelib.errors import (ErrorInvalidIdMalformed, ErrorMailRecipientNotFound, ErrorNameResolutionNoResults,
                                ErrorNoFreeBusyAccess)
from exchangelib.properties import EmailAddress, Mailbox
from exchangelib.properties.availability import DLMailbox, MailTips
from exchangelib.services.convert_id import ID_FORMATS
from exchangelib.testing import DistributionList, LocalExchange, MailboxSettings, default_users

TZ = EWSTimeZone("Europe/Copenhagen")
JOHN, MARY = "john@example.com", "mary@example.com"


@pytest.fixture(scope="module")
def server():
    srv = LocalExchange(
        strict=True, validate_responses=True,
        distribution_lists=[
            DistributionList("all@example.com", "Everyone", ["team@example.com", "admins@example.com",
                                                             "partner@elsewhere.org"]),
            DistributionList("team@example.com", "Team", [JOHN, MARY, "all@example.com"]),  # a cycle
            DistributionList("admins@example.com", "Admins", ["ewsadmin@example.com", JOHN], moderated=True,
                             accept_from=["ewsadmin@example.com"]),
            DistributionList("secret@example.com", "Secret", [JOHN], hidden_membership=True),
            DistributionList("outer@example.com", "Outer", ["secret@example.com", MARY]),
        ],
        mailbox_settings={
            MARY: MailboxSettings(quota=1000, used=5000, max_message_size=5 * 1024 * 1024,
                                  custom_mail_tip="Mary reads mail on Mondays", free_busy_default="None",
                                  free_busy_details=[]),
            "ewsadmin@example.com": MailboxSettings(free_busy_details=[JOHN]),
        },
    )
    with srv:
        yield srv


@pytest.fixture
def exchange(server):
    server.reset_stats()
    yield server
    server.assert_clean()


def test_expand_dl_one_level_as_exchange_does(exchange):
    protocol = exchange.account(JOHN).protocol
    members = protocol.expand_dl("team@example.com")
    assert [(m.name, m.email_address, m.mailbox_type) for m in members] == [
        ("John Doe", JOHN, "Mailbox"), ("Mary Major", MARY, "Mailbox"), ("Everyone", "all@example.com", "PublicDL")]
    # A DLMailbox (exchangelib 5.x's argument type) works the same
    assert protocol.expand_dl(DLMailbox(email_address="SMTP:admins@example.com", mailbox_type="PublicDL")) == [
        Mailbox(email_address="ewsadmin@example.com"), Mailbox(email_address=JOHN)]


def test_expand_dl_recursive_survives_a_cycle(exchange):
    protocol = exchange.account(JOHN).protocol
    members = protocol.expand_dl_recursive("all@example.com")
    assert [m.email_address for m in members] == [
        "partner@elsewhere.org", JOHN, MARY, "ewsadmin@example.com"]
    assert [m.mailbox_type for m in members] == ["Contact", "Mailbox", "Mailbox", "Mailbox"]
    # Each list was expanded once, although team and all contain each other
    assert exchange.request_count("ExpandDL") == 3


def test_expand_dl_refuses_hidden_and_unknown_lists(exchange):
    protocol = exchange.account(JOHN).protocol
    for address in ("secret@example.com", "nolist@example.com", MARY):
        with pytest.raises(ErrorNameResolutionNoResults):
            protocol.expand_dl(address)
    # Recursively, a nested list that cannot be expanded stays an entry
    assert [(m.email_address, m.mailbox_type) for m in protocol.expand_dl_recursive("outer@example.com")] == [
        (MARY, "Mailbox"), ("secret@example.com", "PublicDL")]


def test_expand_private_distribution_list_by_item_id(exchange):
    from exchangelib.items.contact import DistributionList as PrivateDL
    from exchangelib.properties import ItemId, Member
    acc = exchange.account(JOHN)
    dl = PrivateDL(account=acc, folder=acc.contacts, display_name="Book club",
                   members=[Member(mailbox=Mailbox(email_address=MARY)),
                            Member(mailbox=Mailbox(email_address="reader@elsewhere.org"))])
    dl.save()
    got = acc.protocol.expand_dl(DLMailbox(item_id=ItemId(dl.id, dl.changekey), mailbox_type="PrivateDL"))
    assert [m.email_address for m in got] == [MARY, "reader@elsewhere.org"]


def test_mail_tips_report_oof_invalid_recipient_and_limits(exchange):
    john, mary = exchange.account(JOHN), exchange.account(MARY)
    mary.oof_settings = OofSettings(state=OofSettings.ENABLED, internal_reply="Back on Monday",
                                    external_reply="Away")
    try:
        tips = john.mail_tips([MARY, "nobody@example.com", "someone@elsewhere.org", "all@example.com",
                               "admins@example.com"])
    finally:
        mary.oof_settings = OofSettings(state=OofSettings.DISABLED)
    assert all(isinstance(t, MailTips) for t in tips)
    mary_tips, nobody, external, everyone, admins = tips
    assert mary_tips.recipient_address.email_address == MARY
    assert mary_tips.out_of_office.reply_body == "Back on Monday" and mary_tips.out_of_office.start is None
    assert mary_tips.mailbox_full is True and mary_tips.max_message_size == 5 * 1024 * 1024
    assert mary_tips.custom_mail_tip == "Mary reads mail on Mondays" and mary_tips.invalid_recipient is False
    assert nobody.invalid_recipient is True and nobody.out_of_office is None
    assert external.invalid_recipient is False  # other domains are not the server's to judge
    assert (everyone.total_member_count, everyone.external_member_count) == (4, 1)
    assert admins.is_moderated is True and admins.delivery_restricted is True
    # After the OOF is switched off, the tip is gone; the 5.x-style property reads one's own tips
    assert john.mail_tips([MARY])[0].out_of_office is None
    assert john.mail_tips.mailbox_full is False and john.mail_tips.recipient_address.email_address == JOHN


def test_mail_tips_scheduled_oof_carries_its_period(exchange):
    mary = exchange.account(MARY)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = EWSDateTime.from_datetime(now - timedelta(hours=1))
    end = EWSDateTime.from_datetime(now + timedelta(days=2))
    mary.oof_settings = OofSettings(state=OofSettings.SCHEDULED, internal_reply="Conference", start=start, end=end)
    try:
        [tip] = exchange.account(JOHN).mail_tips([MARY], mail_tips_requested="OutOfOfficeMessage")
    finally:
        mary.oof_settings = OofSettings(state=OofSettings.DISABLED)
    assert tip.out_of_office.reply_body == "Conference"
    assert (tip.out_of_office.start, tip.out_of_office.end) == (start, end)
    assert tip.max_message_size is None  # only what was asked for


def test_resolve_names_in_the_peers_form(exchange):
    protocol = exchange.account(JOHN).protocol
    results = protocol.resolve_names(["john@example.com", "nothing-like-this", "ma"])
    assert results[0] == Mailbox(email_address=JOHN)
    assert isinstance(results[1], ErrorNameResolutionNoResults)
    assert [m.email_address for m in results[2:]] == [MARY]
    pairs = protocol.resolve_names(["Mary"], return_full_contact_data=True, search_scope="ActiveDirectory",
                                   shape="Default")
    [(mailbox, contact)] = pairs
    assert mailbox.email_address == MARY and contact.display_name == "Mary Major"
    # Ambiguous: every candidate comes back, from the directory and from John's contacts
    acc = exchange.account(JOHN)
    Contact(account=acc, folder=acc.contacts, display_name="Mary Contrary", given_name="Mary",
            email_addresses=[EmailAddress(label="EmailAddress1", email="contrary@elsewhere.org")]).save()
    both = protocol.resolve_names(["mary"])
    assert {(m.email_address, m.mailbox_type) for m in both} == {(MARY, "Mailbox"),
                                                                 ("contrary@elsewhere.org", "Contact")}


def test_free_busy_errors_stay_in_place_and_follow_permissions(exchange):
    john = exchange.account(JOHN)
    admin = exchange.account("ewsadmin@example.com")
    start = TZ.localize(EWSDateTime(2026, 6, 1, 8))
    CalendarItem(account=admin, folder=admin.calendar, subject="Budget", location="Room 7", start=start,
                 end=start + timedelta(hours=1)).save()
    CalendarItem(account=admin, folder=admin.calendar, subject="Dentist", sensitivity="Private",
                 start=start + timedelta(hours=2), end=start + timedelta(hours=3)).save()
    views = john.protocol.get_free_busy_info(
        [("ewsadmin@example.com", "Required", False), (MARY, "Required", False), ("ghost@example.com", "Required",
                                                                                  False)],
        start, start + timedelta(hours=8), requested_view="Detailed")
    admin_view, mary_error, ghost_error = views
    # The admin granted John details; the private item shows none
    assert admin_view.view_type == "Detailed" and admin_view.merged is None
    budget, dentist = admin_view.calendar_events
    assert (budget.details.subject, budget.details.location, budget.details.is_private) == ("Budget", "Room 7", False)
    assert (dentist.details.subject, dentist.details.is_private) == (None, True)
    assert isinstance(mary_error, ErrorNoFreeBusyAccess)
    assert isinstance(ghost_error, ErrorMailRecipientNotFound)
    with pytest.raises(ValueError):
        john.protocol.get_free_busy_info([(JOHN, "Boss", False)], start, start + timedelta(hours=1))


def test_server_time_zones_and_a_zone_built_from_a_definition(exchange):
    protocol = exchange.account(JOHN).protocol
    names = list(protocol.get_timezones())
    assert len(names) > 100 and names[0].periods == []
    assert {d.id for d in names} >= {"W. Europe Standard Time", "Pacific Standard Time", "UTC"}
    [pst] = protocol.get_timezones([EWSTimeZone("America/Los_Angeles")], return_full_timezone_data=True)
    assert pst.id == "Pacific Standard Time" and {p.name for p in pst.periods} == {"Standard", "Daylight"}
    assert EWSTimeZone.from_server_definition(pst) == EWSTimeZone("America/Los_Angeles")
    # A zone rebuilt from the server's rules alone (as for a Windows id the IANA table lacks) converts the same
    built = EWSTimeZone.from_server_definition(pst, prefer_known=False)
    assert built.ms_id == "Pacific Standard Time" and "Pacific" in built.ms_name
    real = EWSTimeZone("America/Los_Angeles")
    for month, day, hour in ((1, 15, 12), (3, 8, 1), (3, 8, 3), (7, 1, 12), (11, 1, 0), (11, 1, 3), (12, 31, 23)):
        naive = datetime.datetime(datetime.date.today().year, month, day, hour)
        assert naive.replace(tzinfo=built).utcoffset() == naive.replace(tzinfo=real).utcoffset(), naive
    [ist] = protocol.get_timezones(["India Standard Time"], return_full_timezone_data=True)
    india = EWSTimeZone.from_server_definition(ist, prefer_known=False)
    assert datetime.datetime(2026, 7, 1, tzinfo=india).utcoffset() == timedelta(hours=5, minutes=30)
    with pytest.raises(Exception) as e:
        list(protocol.get_timezones(["Atlantis Standard Time"]))
    assert type(e.value).__name__ == "ErrorTimeZone"


def test_convert_ids_round_trips_through_every_format(exchange):
    acc = exchange.account(JOHN)
    msg = Message(account=acc, folder=acc.drafts, subject="ids").save()
    protocol = acc.protocol
    current = AlternateId(id=msg.id, format="EwsId", mailbox=JOHN)
    seen = {}
    for fmt in ID_FORMATS + ("EwsId",):
        [converted] = protocol.convert_ids([current], destination_format=fmt)
        assert isinstance(converted, AlternateId) and converted.format == fmt
        assert converted.mailbox.lower() == JOHN
        seen.setdefault(fmt, converted.id)
        assert seen[fmt] == converted.id  # the same object always has the same id in one format
        current = converted
    assert current.id == msg.id
    assert len(set(seen.values())) == len(ID_FORMATS)
    # Triples work too, and a bad id fails in its place
    results = list(protocol.convert_ids([(seen["HexEntryId"], "HexEntryId", JOHN), ("bad!", "EwsId", JOHN)],
                                        "EwsId"))
    assert results[0].id == msg.id and isinstance(results[1], ErrorInvalidIdMalformed)


def test_default_server_has_a_room_list(make_exchange):
    server = make_exchange()
    protocol = server.account(JOHN).protocol
    [rl] = protocol.get_roomlists()
    assert [r.email_address for r in protocol.get_rooms(rl.email_address)] == ["room1@example.com"]
    assert [u.primary_smtp_address for u in default_users()][-1] == "room1@example.com"


def test_old_servers_lack_room_lists(make_exchange):
    server = make_exchange(version="2007_SP1")
    with pytest.raises(NotImplementedError):
        server.account(JOHN).protocol.get_roomlists()


def test_serve_command_sets_up_room_lists_and_groups():
    import io
    import threading
    import time

    from exchangelib import Account, Configuration, Credentials
    from exchangelib.protocol import Protocol
    from exchangelib.testing.__main__ import main as cli_main

    out, stop, rc = io.StringIO(), threading.Event(), []
    t = threading.Thread(target=lambda: rc.append(cli_main(
        ["serve", "--room-list", "floor2@example.com:Second floor:blue@example.com,room1@example.com",
         "--distribution-list", "team@example.com:Team:john@example.com,mary@example.com"], out=out, stop=stop)))
    t.start()
    try:
        deadline = time.monotonic() + 10
        while "Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        text = out.getvalue()
        url = next(line.split(": ", 1)[1].strip() for line in text.splitlines() if "EWS endpoint" in line)
        assert "Room list    : floor2@example.com (Second floor)" in text
        config = Configuration(service_endpoint=url, credentials=Credentials("EXAMPLE\\john", "Exchange-john-1"))
        protocol = Account(JOHN, config=config).protocol
        try:
            [rl] = protocol.get_roomlists()
            assert rl.email_address == "floor2@example.com"
            assert [(r.name, r.email_address) for r in protocol.get_rooms(rl)] == [
                ("Blue", "blue@example.com"), ("Conference Room 1", "room1@example.com")]
            assert [m.email_address for m in protocol.expand_dl("team@example.com")] == [JOHN, MARY]
        finally:
            protocol.close()
            with Protocol._cache_lock:
                for k in [k for k, p in Protocol._cache.items() if p is protocol]:
                    Protocol._cache.pop(k)
    finally:
        stop.set()
        t.join(10)
    assert rc == [0]


def test_a_distribution_list_as_attendee(exchange):
    john, mary = exchange.account(JOHN), exchange.account(MARY)
    start = TZ.localize(EWSDateTime(2026, 10, 5, 9))
    CalendarItem(account=mary, folder=mary.calendar, subject="Mary busy", start=start,
                 end=start + timedelta(hours=1)).save()
    CalendarItem(account=john, folder=john.calendar, subject="John busy", start=start + timedelta(hours=1),
                 end=start + timedelta(hours=2)).save()
    # team: John, Mary, and (through 'all') partner@elsewhere.org and ewsadmin, who has no appointments
    [team] = john.protocol.get_free_busy_info([("team@example.com", "Required", False)], start,
                                              start + timedelta(hours=3), merged_free_busy_interval=60)
    assert team.view_type == "MergedOnly" and team.merged == "220" and team.calendar_events is None
    [day] = john.protocol.get_meeting_suggestions([(JOHN, "Organizer", False), ("team@example.com", "Required",
                                                                                False)],
                                                  start, start + timedelta(hours=3), meeting_duration=60,
                                                  max_non_work_hour_results_per_day=5, min_quality="Poor")
    by_time = {s.meeting_time: s for s in day.suggestions}
    nine = by_time[start]
    _, group = nine.conflicts
    assert (group.number_of_members, group.number_of_members_available, group.number_of_members_with_conflict,
            group.number_of_members_with_no_data) == (4, 2, 1, 1)
    # John counts twice (organizer, and member of the list): 3 of 4 attendees free at 09:00
    assert nine.quality == "Good"
    assert by_time[start + timedelta(hours=2)].quality == "Excellent"
    # Mary with ExcludeConflicts: no time at which she is busy is suggested
    [day] = john.protocol.get_meeting_suggestions([(JOHN, "Organizer", False), (MARY, "Required", True)],
                                                  start, start + timedelta(hours=3), meeting_duration=60,
                                                  max_non_work_hour_results_per_day=5, min_quality="Poor")
    times = [s.meeting_time for s in day.suggestions]
    assert start not in times and start + timedelta(minutes=30) not in times
    assert start + timedelta(hours=1) in times  # John is busy then, but he may be


def test_user_photo(make_exchange):
    from exchangelib.errors import ErrorItemNotFound
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"
    server = make_exchange(mailbox_settings={MARY: MailboxSettings(photo=jpeg)})
    protocol = server.account(JOHN).protocol
    assert protocol.get_user_photo(MARY, size="HR48x48") == jpeg
    assert protocol.get_user_photo(server.account(MARY)) == jpeg
    with pytest.raises(ErrorItemNotFound):
        protocol.get_user_photo(JOHN)
    with pytest.raises(ValueError):
        protocol.get_user_photo(MARY, size="huge")
    old = make_exchange(version="2010_SP2", mailbox_settings={MARY: MailboxSettings(photo=jpeg)})
    with pytest.raises(NotImplementedError):
        old.account(JOHN).protocol.get_user_photo(MARY)
