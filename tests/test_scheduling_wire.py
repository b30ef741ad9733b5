"""Responses written the way Exchange writes them (not the way our local server does) parse correctly.

The XML below follows the shapes of Exchange's answers: default-namespace declarations on inner elements,
local times without an offset in availability responses, time zone definitions with the history of rules
(several transition groups, AbsoluteDateTransition with milliseconds, 'P0DT...' durations).
"""
from __future__ import annotations

import datetime

from lxml import etree

from exchangelib import EWSTimeZone
from exchangelib.errors import ErrorMailRecipientNotFound
from exchangelib.properties import TimeZoneDefinition
from exchangelib.services import GetUserAvailability
from exchangelib.testing import LocalExchange

M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"

AVAILABILITY = f"""<GetUserAvailabilityResponse xmlns="{M}">
  <FreeBusyResponseArray>
    <FreeBusyResponse>
      <ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage>
      <FreeBusyView>
        <FreeBusyViewType xmlns="{T}">Detailed</FreeBusyViewType>
        <CalendarEventArray xmlns="{T}">
          <CalendarEvent>
            <StartTime>2026-10-26T09:00:00</StartTime>
            <EndTime>2026-10-26T10:30:00</EndTime>
            <BusyType>Busy</BusyType>
            <CalendarEventDetails>
              <ID>00000000A4F1</ID><Subject>Review</Subject><Location>Room 4</Location>
              <IsMeeting>true</IsMeeting><IsRecurring>false</IsRecurring><IsException>false</IsException>
              <IsReminderSet>true</IsReminderSet><IsPrivate>false</IsPrivate>
            </CalendarEventDetails>
          </CalendarEvent>
        </CalendarEventArray>
        <WorkingHours xmlns="{T}">
          <TimeZone>
            <Bias>480</Bias>
            <StandardTime><Bias>0</Bias><Time>02:00:00</Time><DayOrder>1</DayOrder><Month>11</Month>
              <DayOfWeek>Sunday</DayOfWeek></StandardTime>
            <DaylightTime><Bias>-60</Bias><Time>02:00:00</Time><DayOrder>2</DayOrder><Month>3</Month>
              <DayOfWeek>Sunday</DayOfWeek></DaylightTime>
          </TimeZone>
          <WorkingPeriodArray>
            <WorkingPeriod><DayOfWeek>Monday Tuesday Wednesday Thursday Friday</DayOfWeek>
              <StartTimeInMinutes>480</StartTimeInMinutes><EndTimeInMinutes>1020</EndTimeInMinutes></WorkingPeriod>
          </WorkingPeriodArray>
        </WorkingHours>
      </FreeBusyView>
    </FreeBusyResponse>
    <FreeBusyResponse>
      <ResponseMessage ResponseClass="Error">
        <MessageText>The e-mail address cannot be found.</MessageText>
        <ResponseCode>ErrorMailRecipientNotFound</ResponseCode><DescriptiveLinkKey>0</DescriptiveLinkKey>
      </ResponseMessage>
      <FreeBusyView><FreeBusyViewType xmlns="{T}">None</FreeBusyViewType></FreeBusyView>
    </FreeBusyResponse>
  </FreeBusyResponseArray>
</GetUserAvailabilityResponse>"""

PACIFIC = f"""<TimeZoneDefinition xmlns="{T}" Name="(UTC-08:00) Pacific Time (US &amp; Canada)" Id="Pacific Standard Time">
  <Periods>
    <Period Bias="P0DT8H0M0.0S" Name="Standard" Id="trule:Microsoft/Registry/Pacific Standard Time/2006-Standard"/>
    <Period Bias="P0DT7H0M0.0S" Name="Daylight" Id="trule:Microsoft/Registry/Pacific Standard Time/2006-Daylight"/>
    <Period Bias="P0DT8H0M0.0S" Name="Standard" Id="trule:Microsoft/Registry/Pacific Standard Time/2007-Standard"/>
    <Period Bias="P0DT7H0M0.0S" Name="Daylight" Id="trule:Microsoft/Registry/Pacific Standard Time/2007-Daylight"/>
  </Periods>
  <TransitionsGroups>
    <TransitionsGroup Id="0">
      <RecurringDayTransition><To Kind="Period">trule:Microsoft/Registry/Pacific Standard Time/2006-Daylight</To>
        <TimeOffset>P0DT2H0M0.0S</TimeOffset><Month>4</Month><DayOfWeek>Sunday</DayOfWeek><Occurrence>1</Occurrence>
      </RecurringDayTransition>
      <RecurringDayTransition><To Kind="Period">trule:Microsoft/Registry/Pacific Standard Time/2006-Standard</To>
        <TimeOffset>P0DT2H0M0.0S</TimeOffset><Month>10</Month><DayOfWeek>Sunday</DayOfWeek><Occurrence>-1</Occurrence>
      </RecurringDayTransition>
    </TransitionsGroup>
    <TransitionsGroup Id="1">
      <RecurringDayTransition><To Kind="Period">trule:Microsoft/Registry/Pacific Standard Time/2007-Daylight</To>
        <TimeOffset>P0DT2H0M0.0S</TimeOffset><Month>3</Month><DayOfWeek>Sunday</DayOfWeek><Occurrence>2</Occurrence>
      </RecurringDayTransition>
      <RecurringDayTransition><To Kind="Period">trule:Microsoft/Registry/Pacific Standard Time/2007-Standard</To>
        <TimeOffset>P0DT2H0M0.0S</TimeOffset><Month>11</Month><DayOfWeek>Sunday</DayOfWeek><Occurrence>1</Occurrence>
      </RecurringDayTransition>
    </TransitionsGroup>
  </TransitionsGroups>
  <Transitions>
    <Transition><To Kind="Group">0</To></Transition>
    <AbsoluteDateTransition><To Kind="Group">1</To><DateTime>2007-01-01T08:00:00.000Z</DateTime>
    </AbsoluteDateTransition>
  </Transitions>
</TimeZoneDefinition>"""

# A zone that dropped daylight saving time: its last group switches straight to one period
NO_MORE_DST = f"""<TimeZoneDefinition xmlns="{T}" Name="(UTC+03:00) Somewhere" Id="Somewhere Standard Time">
  <Periods>
    <Period Bias="-P0DT2H0M0.0S" Name="Standard" Id="Std-old"/>
    <Period Bias="-P0DT3H0M0.0S" Name="Daylight" Id="Dlt-old"/>
    <Period Bias="-P0DT3H0M0.0S" Name="Standard" Id="Std-new"/>
  </Periods>
  <TransitionsGroups>
    <TransitionsGroup Id="0">
      <RecurringDayTransition><To Kind="Period">Dlt-old</To><TimeOffset>PT3H</TimeOffset><Month>3</Month>
        <DayOfWeek>Sunday</DayOfWeek><Occurrence>-1</Occurrence></RecurringDayTransition>
      <RecurringDayTransition><To Kind="Period">Std-old</To><TimeOffset>PT4H</TimeOffset><Month>10</Month>
        <DayOfWeek>Sunday</DayOfWeek><Occurrence>-1</Occurrence></RecurringDayTransition>
    </TransitionsGroup>
    <TransitionsGroup Id="1"><Transition><To Kind="Period">Std-new</To></Transition></TransitionsGroup>
  </TransitionsGroups>
  <Transitions>
    <Transition><To Kind="Group">0</To></Transition>
    <AbsoluteDateTransition><To Kind="Group">1</To><DateTime>2014-10-26T00:00:00.000Z</DateTime>
    </AbsoluteDateTransition>
  </Transitions>
</TimeZoneDefinition>"""


def test_an_exchange_availability_response_reads_in_the_callers_zone():
    tz = EWSTimeZone("America/Los_Angeles")
    with LocalExchange() as server:
        svc = GetUserAvailability(protocol=server.account("john@example.com").protocol)
        views, days = svc.parse_response(etree.fromstring(AVAILABILITY), tz, 2, False)
    view, missing = views
    assert days is None and isinstance(missing, ErrorMailRecipientNotFound)
    [event] = view.calendar_events
    assert event.start == tz.localize(datetime.datetime(2026, 10, 26, 9)) and event.start.utcoffset().days == -1
    assert (event.details.subject, event.details.location, event.details.is_reminder_set) == ("Review", "Room 4", True)
    assert [(p.weekdays[0], p.start, p.end) for p in view.working_hours] == [
        ("Monday", datetime.time(8), datetime.time(17))]
    zone = view.working_hours_timezone
    assert zone.utcoffset(datetime.datetime(2026, 7, 1, 12)) == datetime.timedelta(hours=-7)
    assert zone.utcoffset(datetime.datetime(2026, 12, 1, 12)) == datetime.timedelta(hours=-8)


def test_a_definition_with_a_history_of_rules_uses_the_current_ones():
    pst = TimeZoneDefinition.from_xml(etree.fromstring(PACIFIC))
    assert [g.id for g in pst.transitions_groups] == ["0", "1"] and pst.current_group().id == "1"
    built = EWSTimeZone.from_server_definition(pst, prefer_known=False)
    real = EWSTimeZone("America/Los_Angeles")
    t = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    while t.year == 2026:
        assert t.astimezone(built).utcoffset() == t.astimezone(real).utcoffset(), t
        t += datetime.timedelta(hours=7)
    gone = EWSTimeZone.from_server_definition(TimeZoneDefinition.from_xml(etree.fromstring(NO_MORE_DST)))
    assert gone.ms_id == "Somewhere Standard Time" and gone.ms_name == "(UTC+03:00) Somewhere"
    for month in (1, 7):
        assert datetime.datetime(2026, month, 1, tzinfo=gone).utcoffset() == datetime.timedelta(hours=3)
