"""Measure how long turning a GetItem <t:Message> element into a Message object takes.

Run: python3 benchmarks/bench_parse.py [count]

Prints CPU microseconds per item for (a) lxml parsing + walking the raw XML, and (b) our Message.from_xml
on already-parsed elements, plus the total of both. The message is shaped like an Exchange Online
GetItem (AllProperties) response: 36 populated fields, three of them mailboxes. Target: <= 120 us/item.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from exchangelib.items import Message
from exchangelib.xml import MNS, TNS, parse

MESSAGE = f"""<t:Message xmlns:t="{TNS}">
  <t:ItemId Id="AAMkADQ2ZjFhZDM0LTM5ZGYtNGE0Yy1hZDg3LTc2OGQ0YmM3OTBlYgBGAAAAAAC7rY4AMUbHTrJjxuM4l5QXBwBxk4GS1bBASrw2JzMhQ6NnAAAAAAEMAABxk4GS1bBASrw2JzMhQ6NnAAAB9tC9AAA=" ChangeKey="CQAAABYAAABxk4GS1bBASrw2JzMhQ6NnAAAB+rcu"/>
  <t:ParentFolderId Id="AAMkADQ2ZjFhZDM0LTM5ZGYtNGE0Yy1hZDg3LTc2OGQ0YmM3OTBlYgAuAAAAAAC7rY4AMUbHTrJjxuM4l5QXAQBxk4GS1bBASrw2JzMhQ6NnAAAAAAEMAAA=" ChangeKey="AQAAAA=="/>
  <t:ItemClass>IPM.Note</t:ItemClass>
  <t:Subject>Quarterly numbers, final version</t:Subject>
  <t:Sensitivity>Normal</t:Sensitivity>
  <t:Body BodyType="HTML">&lt;html&gt;&lt;body&gt;&lt;p&gt;Hi all, please find the numbers attached. Regards, Anne&lt;/p&gt;&lt;/body&gt;&lt;/html&gt;</t:Body>
  <t:DateTimeReceived>2024-03-01T09:15:27Z</t:DateTimeReceived>
  <t:Size>18342</t:Size>
  <t:Categories><t:String>Finance</t:String><t:String>Q1</t:String></t:Categories>
  <t:Importance>Normal</t:Importance>
  <t:IsSubmitted>false</t:IsSubmitted>
  <t:IsDraft>false</t:IsDraft>
  <t:IsFromMe>false</t:IsFromMe>
  <t:IsResend>false</t:IsResend>
  <t:IsUnmodified>true</t:IsUnmodified>
  <t:DateTimeSent>2024-03-01T09:15:20Z</t:DateTimeSent>
  <t:DateTimeCreated>2024-03-01T09:15:27Z</t:DateTimeCreated>
  <t:ReminderIsSet>false</t:ReminderIsSet>
  <t:ReminderMinutesBeforeStart>0</t:ReminderMinutesBeforeStart>
  <t:DisplayCc/>
  <t:DisplayTo>John Doe</t:DisplayTo>
  <t:HasAttachments>false</t:HasAttachments>
  <t:Culture>en-US</t:Culture>
  <t:EffectiveRights><t:CreateAssociated>false</t:CreateAssociated><t:CreateContents>false</t:CreateContents><t:CreateHierarchy>false</t:CreateHierarchy><t:Delete>true</t:Delete><t:Modify>true</t:Modify><t:Read>true</t:Read><t:ViewPrivateItems>true</t:ViewPrivateItems></t:EffectiveRights>
  <t:LastModifiedName>Anne Smith</t:LastModifiedName>
  <t:LastModifiedTime>2024-03-01T09:15:27Z</t:LastModifiedTime>
  <t:IsAssociated>false</t:IsAssociated>
  <t:ConversationId Id="AAQkADQ2ZjFhZDM0LTM5ZGYtNGE0Yy1hZDg3LTc2OGQ0YmM3OTBlYgAQAHx3dbpjVyJJpHr6cMUGtzo="/>
  <t:Sender><t:Mailbox><t:Name>Anne Smith</t:Name><t:EmailAddress>anne@example.com</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:Sender>
  <t:ToRecipients><t:Mailbox><t:Name>John Doe</t:Name><t:EmailAddress>john@example.com</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:ToRecipients>
  <t:IsReadReceiptRequested>false</t:IsReadReceiptRequested>
  <t:ConversationIndex>AQHaa7xYfHd1umNXIkmkevpwxQa3Og==</t:ConversationIndex>
  <t:ConversationTopic>Quarterly numbers, final version</t:ConversationTopic>
  <t:From><t:Mailbox><t:Name>Anne Smith</t:Name><t:EmailAddress>anne@example.com</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:From>
  <t:InternetMessageId>&lt;DB9PR02MB7225A1B2C3@DB9PR02MB7225.eurprd02.prod.outlook.com&gt;</t:InternetMessageId>
  <t:IsRead>true</t:IsRead>
</t:Message>"""


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    doc = (f'<m:Items xmlns:m="{MNS}" xmlns:t="{TNS}">' + MESSAGE * count + "</m:Items>").encode()

    # CPU time, best of a few rounds: the machine may be busy with other work.
    parse_times, build_times = [], []
    for _ in range(5):
        t0 = time.process_time()
        root = parse(doc)
        n = sum(1 for _ in root.iter())
        t1 = time.process_time()
        items = [Message.from_xml(elem) for elem in root]
        t2 = time.process_time()
        parse_times.append(t1 - t0)
        build_times.append(t2 - t1)
        del items
    items = [Message.from_xml(elem) for elem in root]
    assert len(items) == count and items[0].subject == "Quarterly numbers, final version", items[0]
    p, b = min(parse_times), min(build_times)
    print(f"lxml parse + walk: {p / count * 1e6:7.1f} us/item ({n // count} XML nodes per item)")
    print(f"Message.from_xml:  {b / count * 1e6:7.1f} us/item "
          f"({sum(1 for f in Message.FIELDS if items[0].__dict__.get(f.name) is not None)} fields set)")
    print(f"total:             {(p + b) / count * 1e6:7.1f} us/item  ({count} items, best of 5)")

if __name__ == "__main__":
    main()
