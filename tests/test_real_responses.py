"""The client reads real Exchange answers right (issue #19, items 4, 16, 17, 18).

Response bodies are written from the examples on Microsoft's EWS reference pages (ids shortened as
there) and replayed by :class:`tests.replay.ReplayAdapter`; everything else goes to a fresh strict local
server.
"""
from __future__ import annotations

import datetime

import pytest

from exchangelib import EWSTimeZone, FileAttachment, Message
from exchangelib.version import Build
from tests.replay import replay, soap  # noqa: F401 - fixture

JOHN = "john@example.com"
M = 'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"'
T = 'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"'


def _account(make_exchange):
    server = make_exchange()
    return server, server.account(JOHN, auth_type="basic")


# https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getattachment-operation
GET_ATTACHMENT = soap(f"""
    <m:GetAttachmentResponse {M} {T}>
      <m:ResponseMessages>
        <m:GetAttachmentResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
          <m:Attachments>
            <t:FileAttachment>
              <t:AttachmentId Id="AAAtAEFkbWluaX..."/>
              <t:Name>SomeFile</t:Name>
              <t:ContentType>text/plain</t:ContentType>
              <t:Size>5</t:Size>
              <t:IsInline>false</t:IsInline>
              <t:Content>AQIDBAU=</t:Content>
            </t:FileAttachment>
          </m:Attachments>
        </m:GetAttachmentResponseMessage>
      </m:ResponseMessages>
    </m:GetAttachmentResponse>""")


def test_file_attachment_content_keeps_the_other_fields_getattachment_returned(make_exchange, replay):
    _server, acc = _account(make_exchange)
    item = Message(account=acc, folder=acc.inbox, id="AAMkAGE...", changekey="CQAAABYA...")
    att = FileAttachment(name="SomeFile", parent_item=item)
    att._set_id("AAAtAEFkbWluaX...")
    assert att.content_type is None
    replay.answers["GetAttachment"] = GET_ATTACHMENT
    assert att.content == b"\x01\x02\x03\x04\x05"
    assert [op for op, _ in replay.replayed] == ["GetAttachment"]
    assert att.content_type == "text/plain"
    assert att.size == 5 and att.is_inline is False
    assert att.attachment_id.id == "AAAtAEFkbWluaX..."


# https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/pox-autodiscover-response-for-exchange
# (the example's namespaces are the real http:// ones; the EXPR block has no ServerVersion, as in Exchange Online)
POX_RESPONSE = b"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>First Last</DisplayName>
      <LegacyDN>/o=contoso/ou=First Administrative Group/cn=Recipients/cn=iuser885646</LegacyDN>
      <DeploymentId>644560b8-a1ce-429c-8ace-23395843f701</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type>
        <Server>MBX-SERVER.mail.internal.contoso.com</Server>
        <ServerDN>/o=contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=MBX-SERVER</ServerDN>
        <ServerVersion>73C18880</ServerVersion>
        <MdbDN>/o=contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=MBX-SERVER/cn=Microsoft Private MDB</MdbDN>
        <ASUrl>https://mail.internal.contoso.com/ews/exchange.asmx</ASUrl>
        <OOFUrl>https://mail.internal.contoso.com/ews/exchange.asmx</OOFUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>mail.contoso.com</Server>
        <ASUrl>https://mail.contoso.com/ews/exchange.asmx</ASUrl>
        <OOFUrl>https://mail.contoso.com/ews/exchange.asmx</OOFUrl>
        <EwsUrl>https://mail.contoso.com/ews/exchange.asmx</EwsUrl>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"""


def test_pox_version_comes_from_the_exch_block_when_expr_has_none():
    from exchangelib.autodiscover.pox import parse_response

    answer = parse_response(POX_RESPONSE)
    assert answer.ews_url == "https://mail.contoso.com/ews/exchange.asmx"  # EXPR (external) still preferred
    assert answer.version is not None
    assert answer.version.build == Build(15, 1, 2176)  # 0x73C18880: format 7, major 15, minor 1, build 0x880


def test_local_server_pox_answer_carries_the_version_in_exch_only(make_exchange):
    import requests as rq
    from exchangelib.autodiscover.pox import build_request, parse_response

    server = make_exchange(version="2019")
    r = rq.post(server.url.replace("/EWS/Exchange.asmx", "/autodiscover/autodiscover.xml"),
                data=build_request(JOHN), auth=(server.credentials(JOHN).username, server.credentials(JOHN).password),
                headers={"Content-Type": "text/xml"}, verify=server.verify)
    assert r.status_code == 200
    assert r.content.count(b"<ServerVersion>") == 1
    assert parse_response(r.content).version.build.major_version == 15


# --- item 18: every zone id GetServerTimeZones lists, and the zone of a real calendar item ------------------

# The Id of every TimeZoneDefinition in Exchange Online's GetServerTimeZones answer, with the zone's standard
# UTC offset today (Windows' current display names: e.g. Amman, Damascus and Volgograd moved to +03:00,
# Greenland to -02:00 and Asuncion to -03:00). Two are Windows "- Old" zones that CLDR does not list.
SERVER_TIME_ZONES = """
-12:00 Dateline Standard Time
-11:00 UTC-11
-10:00 Aleutian Standard Time
-10:00 Hawaiian Standard Time
-09:30 Marquesas Standard Time
-09:00 Alaskan Standard Time
-09:00 UTC-09
-08:00 Pacific Standard Time (Mexico)
-08:00 UTC-08
-08:00 Pacific Standard Time
-07:00 US Mountain Standard Time
-07:00 Mountain Standard Time (Mexico)
-07:00 Mountain Standard Time
-07:00 Yukon Standard Time
-06:00 Central America Standard Time
-06:00 Central Standard Time
-06:00 Easter Island Standard Time
-06:00 Central Standard Time (Mexico)
-06:00 Canada Central Standard Time
-05:00 SA Pacific Standard Time
-05:00 Eastern Standard Time (Mexico)
-05:00 Eastern Standard Time
-05:00 Haiti Standard Time
-05:00 Cuba Standard Time
-05:00 US Eastern Standard Time
-05:00 Turks And Caicos Standard Time
-03:00 Paraguay Standard Time
-04:00 Atlantic Standard Time
-04:00 Venezuela Standard Time
-04:00 Central Brazilian Standard Time
-04:00 SA Western Standard Time
-04:00 Pacific SA Standard Time
-03:30 Newfoundland Standard Time
-03:00 Tocantins Standard Time
-03:00 E. South America Standard Time
-03:00 SA Eastern Standard Time
-03:00 Argentina Standard Time
-02:00 Greenland Standard Time
-03:00 Montevideo Standard Time
-03:00 Magallanes Standard Time
-03:00 Saint Pierre Standard Time
-03:00 Bahia Standard Time
-02:00 UTC-02
-01:00 Azores Standard Time
-01:00 Cape Verde Standard Time
+00:00 UTC
+00:00 GMT Standard Time
+00:00 Greenwich Standard Time
+00:00 Sao Tome Standard Time
+01:00 Morocco Standard Time
+01:00 W. Europe Standard Time
+01:00 Central Europe Standard Time
+01:00 Romance Standard Time
+01:00 Central European Standard Time
+01:00 W. Central Africa Standard Time
+03:00 Jordan Standard Time
+02:00 GTB Standard Time
+02:00 Middle East Standard Time
+02:00 Egypt Standard Time
+02:00 E. Europe Standard Time
+03:00 Syria Standard Time
+02:00 West Bank Standard Time
+02:00 South Africa Standard Time
+02:00 FLE Standard Time
+02:00 Israel Standard Time
+02:00 South Sudan Standard Time
+02:00 Kaliningrad Standard Time
+02:00 Sudan Standard Time
+02:00 Libya Standard Time
+02:00 Namibia Standard Time
+03:00 Arabic Standard Time
+03:00 Turkey Standard Time
+03:00 Arab Standard Time
+03:00 Belarus Standard Time
+03:00 Russian Standard Time
+03:00 E. Africa Standard Time
+03:30 Iran Standard Time
+04:00 Arabian Standard Time
+04:00 Astrakhan Standard Time
+04:00 Azerbaijan Standard Time
+04:00 Russia Time Zone 3
+04:00 Mauritius Standard Time
+04:00 Saratov Standard Time
+04:00 Georgian Standard Time
+03:00 Volgograd Standard Time
+04:00 Caucasus Standard Time
+04:30 Afghanistan Standard Time
+05:00 West Asia Standard Time
+05:00 Ekaterinburg Standard Time
+05:00 Pakistan Standard Time
+05:00 Qyzylorda Standard Time
+05:30 India Standard Time
+05:30 Sri Lanka Standard Time
+05:45 Nepal Standard Time
+06:00 Central Asia Standard Time
+06:00 Bangladesh Standard Time
+06:00 Omsk Standard Time
+06:30 Myanmar Standard Time
+07:00 SE Asia Standard Time
+07:00 Altai Standard Time
+07:00 W. Mongolia Standard Time
+07:00 North Asia Standard Time
+07:00 N. Central Asia Standard Time
+07:00 Tomsk Standard Time
+08:00 China Standard Time
+08:00 North Asia East Standard Time
+08:00 Singapore Standard Time
+08:00 W. Australia Standard Time
+08:00 Taipei Standard Time
+08:00 Ulaanbaatar Standard Time
+08:45 Aus Central W. Standard Time
+09:00 Transbaikal Standard Time
+09:00 Tokyo Standard Time
+09:00 North Korea Standard Time
+09:00 Korea Standard Time
+09:00 Yakutsk Standard Time
+09:30 Cen. Australia Standard Time
+09:30 AUS Central Standard Time
+10:00 E. Australia Standard Time
+10:00 AUS Eastern Standard Time
+10:00 West Pacific Standard Time
+10:00 Tasmania Standard Time
+10:00 Vladivostok Standard Time
+10:30 Lord Howe Standard Time
+11:00 Bougainville Standard Time
+11:00 Russia Time Zone 10
+11:00 Magadan Standard Time
+11:00 Norfolk Standard Time
+11:00 Sakhalin Standard Time
+11:00 Central Pacific Standard Time
+12:00 Russia Time Zone 11
+12:00 New Zealand Standard Time
+12:00 UTC+12
+12:00 Fiji Standard Time
+12:45 Chatham Islands Standard Time
+13:00 UTC+13
+13:00 Tonga Standard Time
+13:00 Samoa Standard Time
+14:00 Line Islands Standard Time
-02:00 Mid-Atlantic Standard Time
+12:00 Kamchatka Standard Time
"""


def _standard_offset(tz) -> str:
    """The zone's offset outside daylight saving time in 2026, as '+hh:mm'."""
    offsets = [(d.dst(), d.utcoffset()) for d in (datetime.datetime(2026, m, 15, 12, tzinfo=tz) for m in (1, 7))]
    standard = [o for dst, o in offsets if not dst] or [min(o for _, o in offsets)]
    minutes = int(standard[0].total_seconds() // 60)
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def test_every_zone_exchange_lists_converts_to_its_offset():
    rows = [line.split(" ", 1) for line in SERVER_TIME_ZONES.strip().splitlines()]
    assert len(rows) == 141
    wrong = {}
    for offset, ms_id in rows:
        tz = EWSTimeZone.from_ms_id(ms_id, fallback=False)  # a known id: never a guess, never UTC by default
        if _standard_offset(tz) != offset or tz.ms_id != ms_id:
            wrong[ms_id] = (_standard_offset(tz), tz.ms_id)
    assert wrong == {}


def _get_item_response(items: str) -> bytes:
    """A successful GetItem response holding ``items`` (the elements inside m:Items)."""
    return soap(f"""
    <m:GetItemResponse {M} {T}>
      <m:ResponseMessages>
        <m:GetItemResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
          <m:Items>{items}</m:Items>
        </m:GetItemResponseMessage>
      </m:ResponseMessages>
    </m:GetItemResponse>""")


# https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getitem-operation-calendar-item
# (a calendar item as Exchange Online returns it, with the zone elements it sends from Exchange 2010 on)
def _calendar_item_response(zone_attrs: str) -> bytes:
    return _get_item_response(f"""
            <t:CalendarItem>
              <t:ItemId Id="AAMkADFmNDBjNWM0LWNhY2EtNDY2Yi04YTViLTM0MDljMWY4MzJhMgBGAAAAAACZs1" ChangeKey="DwAAABYA"/>
              <t:Subject>Planning Meeting</t:Subject>
              <t:Start>2026-01-14T21:00:00Z</t:Start>
              <t:End>2026-01-14T22:00:00Z</t:End>
              <t:StartTimeZone {zone_attrs}/>
              <t:EndTimeZone {zone_attrs}/>
            </t:CalendarItem>
""")


@pytest.mark.parametrize("zone_attrs", [
    'Id="Kamchatka Standard Time" Name="(UTC+12:00) Petropavlovsk-Kamchatsky - Old"',
    # an Id we cannot know (a customized zone): the display name's place names and offset decide
    'Id="Customized Time Zone" Name="(UTC+12:00) Petropavlovsk-Kamchatsky - Old"',
])
def test_calendar_item_zone_is_read_from_id_or_name_and_kept(make_exchange, replay, zone_attrs):
    _server, acc = _account(make_exchange)
    replay.answers["GetItem"] = _calendar_item_response(zone_attrs)
    [item] = acc.fetch([("AAMkADFmNDBjNWM0LWNhY2EtNDY2Yi04YTViLTM0MDljMWY4MzJhMgBGAAAAAACZs1", "DwAAABYA")])
    assert item.start_timezone.ms_id == item.end_timezone.ms_id == "Kamchatka Standard Time"  # saved back as is
    local_start = item.start.astimezone(item.start_timezone)
    assert local_start.utcoffset() == datetime.timedelta(hours=12) and local_start.hour == 9


def test_mid_atlantic_is_not_utc():
    tz = EWSTimeZone.from_ms_id("Mid-Atlantic Standard Time")
    assert tz.ms_id == "Mid-Atlantic Standard Time"
    assert datetime.datetime(2026, 1, 15, 12, tzinfo=tz).utcoffset() == datetime.timedelta(hours=-2)


# --- item 4: recurrence dates in every form Exchange sends -------------------------------------------------

# A recurring master as in the GetItem calendar example, with the range dates in the forms real servers
# send: with the series zone's offset (Exchange 2010 and later), 'Z' for a zero offset, or bare.
def _recurring_master_response(start_date: str, end_date: str) -> bytes:
    return _get_item_response(f"""
            <t:CalendarItem>
              <t:ItemId Id="AAMkADFmNDBjNWM0LWNhY2EtNDY2Yi04YTViLTM0MDljMWY4MzJhMgBGAAAAAACZs2" ChangeKey="DwAAABYA"/>
              <t:Subject>Weekly status</t:Subject>
              <t:Start>2016-01-04T17:00:00Z</t:Start>
              <t:End>2016-01-04T18:00:00Z</t:End>
              <t:CalendarItemType>RecurringMaster</t:CalendarItemType>
              <t:Recurrence>
                <t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek>
                  <t:FirstDayOfWeek>Sunday</t:FirstDayOfWeek></t:WeeklyRecurrence>
                <t:EndDateRecurrence><t:StartDate>{start_date}</t:StartDate><t:EndDate>{end_date}</t:EndDate>
                </t:EndDateRecurrence>
              </t:Recurrence>
            </t:CalendarItem>
""")


@pytest.mark.parametrize("start_date, end_date", [
    ("2016-01-04-08:00", "2016-02-29-08:00"), ("2016-01-04Z", "2016-02-29Z"), ("2016-01-04", "2016-02-29"),
    ("2016-01-04+05:30", "2016-02-29+05:30"),
])
def test_recurrence_dates_are_read_in_every_form(make_exchange, replay, start_date, end_date):
    _server, acc = _account(make_exchange)
    replay.answers["GetItem"] = _recurring_master_response(start_date, end_date)
    [item] = acc.fetch([("AAMkADFmNDBjNWM0LWNhY2EtNDY2Yi04YTViLTM0MDljMWY4MzJhMgBGAAAAAACZs2", "DwAAABYA")])
    assert (item.recurrence.boundary.start, item.recurrence.boundary.end) == (
        datetime.date(2016, 1, 4), datetime.date(2016, 2, 29))
