"""Item operations against the store, called directly: create/get/update/delete/send/move/copy."""
from __future__ import annotations

import base64

import pytest

from .opshelpers import (calendar_xml, call, classes, codes, create_items, find, find_items, findall,
                         get_items, item_id_xml, item_ids, make_ctx, make_store, message_xml, messages, subjects,
                         text)


def _update(ctx, item_id, changekey, updates, conflict="AlwaysOverwrite", disposition="SaveOnly", extra=""):
    ck = f' ChangeKey="{changekey}"' if changekey else ""
    disp = f' MessageDisposition="{disposition}"' if disposition else ""
    return call(ctx, f'<m:UpdateItem ConflictResolution="{conflict}"{disp}{extra}><m:ItemChanges><t:ItemChange>'
                     f'<t:ItemId Id="{item_id}"{ck}/><t:Updates>{updates}</t:Updates>'
                     f'</t:ItemChange></m:ItemChanges></m:UpdateItem>')


def _set_subject(subject):
    return (f'<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>{subject}</t:Subject>'
            f'</t:Message></t:SetItemField>')


def test_create_then_get_returns_properties_and_server_fields():
    store = make_store()
    ctx = make_ctx(store)
    r = create_items(ctx, message_xml("Quarterly report", body="See attached", to=["bob@example.com"],
                                      categories=["work"], importance="High"))
    assert codes(r) == ["NoError"]
    [(item_id, changekey)] = item_ids(r)
    assert item_id and changekey
    got = get_items(ctx, [(item_id, None)])
    msg = find(got, ".//m:Items/t:Message")
    assert text(msg, "t:Subject") == "Quarterly report"
    assert text(msg, "t:Body") == "See attached"
    assert text(msg, "t:ItemClass") == "IPM.Note"
    assert text(msg, "t:Importance") == "High"
    assert text(msg, "t:IsDraft") == "true"
    assert text(msg, "t:DateTimeCreated") == "2024-05-01T08:00:01Z"
    assert int(text(msg, "t:Size")) > 0
    assert text(msg, "t:DisplayTo") == "Bob Berg"
    assert text(msg, "t:ToRecipients/t:Mailbox/t:MailboxType") == "Mailbox"
    assert [s.text for s in findall(msg, "t:Categories/t:String")] == ["work"]
    drafts = store.get_mailbox("alice@example.com").folder("drafts")
    assert find(msg, "t:ParentFolderId").get("Id") == drafts.id


def test_get_item_shapes_idonly_default_additional_properties():
    ctx = make_ctx(make_store())
    ids = item_ids(create_items(ctx, message_xml("Shapes", categories=["x"])))
    idonly = find(get_items(ctx, ids, shape="IdOnly"), ".//t:Message")
    assert [e.tag.split("}")[1] for e in idonly] == ["ItemId"]
    extra = find(get_items(ctx, ids, shape="IdOnly", additional='<t:FieldURI FieldURI="item:Categories"/>'
                                                                '<t:FieldURI FieldURI="item:Subject"/>'),
                 ".//t:Message")
    assert [e.tag.split("}")[1] for e in extra] == ["ItemId", "Subject", "Categories"]  # schema order
    default = find(get_items(ctx, ids, shape="Default"), ".//t:Message")
    names = [e.tag.split("}")[1] for e in default]
    assert "Body" in names and "IsRead" in names and "Categories" not in names


def test_get_item_body_type_conversion():
    ctx = make_ctx(make_store())
    ids = item_ids(create_items(ctx, "<t:Message><t:Subject>html</t:Subject>"
                                     '<t:Body BodyType="HTML">&lt;html&gt;&lt;body&gt;&lt;p&gt;Hi &amp;amp; bye'
                                     "&lt;/p&gt;&lt;/body&gt;&lt;/html&gt;</t:Body></t:Message>"))
    as_text = find(get_items(ctx, ids, body_type="Text"), ".//t:Body")
    assert as_text.get("BodyType") == "Text" and as_text.text == "Hi & bye"
    best = find(get_items(ctx, ids, body_type="Best"), ".//t:Body")
    assert best.get("BodyType") == "HTML" and "<p>" in best.text
    plain_ids = item_ids(create_items(ctx, message_xml("plain", body="a &lt; b")))
    as_html = find(get_items(ctx, plain_ids, body_type="HTML"), ".//t:Body")
    assert as_html.get("BodyType") == "HTML" and "a &lt; b" in as_html.text
    text_body = find(get_items(ctx, ids, shape="IdOnly", additional='<t:FieldURI FieldURI="item:TextBody"/>'),
                     ".//t:TextBody")
    assert text_body.text == "Hi & bye"


def test_mime_content_is_generated_on_request():
    ctx = make_ctx(make_store())
    ids = item_ids(create_items(ctx, message_xml("Mime me", body="Body text", to=["bob@example.com"])))
    r = call(ctx, "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
                  "<t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>"
                  f"<m:ItemIds>{item_id_xml(ids)}</m:ItemIds></m:GetItem>")
    mime = base64.b64decode(text(r, ".//t:MimeContent")).decode()
    assert "Subject: Mime me" in mime and "Body text" in mime and "bob@example.com" in mime


def test_create_from_mime_content_fills_properties():
    ctx = make_ctx(make_store())
    raw = (b"From: Carl <carl@else.com>\r\nTo: bob@example.com\r\nSubject: From MIME\r\n"
           b"Message-ID: <abc@else.com>\r\n\r\nMime body\r\n")
    ids = item_ids(create_items(ctx, f"<t:Message><t:MimeContent>{base64.b64encode(raw).decode()}</t:MimeContent>"
                                     "</t:Message>"))
    msg = find(get_items(ctx, ids), ".//t:Message")
    assert text(msg, "t:Subject") == "From MIME"
    assert text(msg, "t:Body").strip() == "Mime body"
    assert text(msg, "t:From/t:Mailbox/t:EmailAddress") == "carl@else.com"
    assert text(msg, "t:InternetMessageId") == "<abc@else.com>"


def test_per_item_errors_stay_in_place():
    ctx = make_ctx(make_store())
    ids = item_ids(create_items(ctx, message_xml("one") + message_xml("two")))
    unknown = base64.b64encode(base64.b64decode(ids[0][0])[:-16] + b"\x00" * 16).decode()
    r = get_items(ctx, [ids[0], ("garbage!!", None), (unknown, None), ids[1]])
    assert codes(r) == ["NoError", "ErrorInvalidIdMalformed", "ErrorItemNotFound", "NoError"]
    assert classes(r) == ["Success", "Error", "Error", "Success"]
    err = messages(r)[1]
    assert text(err, "m:MessageText") == "Id is malformed." and text(err, "m:DescriptiveLinkKey") == "0"
    assert find(err, "m:Items") is not None  # the schema requires it, Exchange sends it empty
    assert [text(m, ".//t:Subject") for m in messages(r)] == ["one", None, None, "two"]


def test_create_rejects_missing_disposition_and_read_only_properties_per_item():
    ctx = make_ctx(make_store())
    r = create_items(ctx, message_xml("x"), disposition=None)
    assert codes(r) == ["ErrorMessageDispositionRequired"]
    r = create_items(ctx, message_xml("ok") + "<t:Message><t:Subject>bad</t:Subject>"
                                             "<t:DateTimeCreated>2020-01-01T00:00:00Z</t:DateTimeCreated></t:Message>")
    assert codes(r) == ["NoError", "ErrorInvalidPropertySet"]
    assert find(messages(r)[1], "m:MessageXml/t:FieldURI").get("FieldURI") == "item:DateTimeCreated"
    r = create_items(ctx, calendar_xml("no attr", "2024-05-02T10:00:00Z", "2024-05-02T11:00:00Z"),
                     folder="calendar", disposition=None)
    assert codes(r) == ["ErrorSendMeetingInvitationsRequired"]
    r = create_items(ctx, calendar_xml("wrong folder", "2024-05-02T10:00:00Z", "2024-05-02T11:00:00Z"),
                     folder="inbox", disposition=None, invitations="SendToNone")
    assert codes(r) == ["ErrorCannotCreateCalendarItemInNonCalendarFolder"]


def test_calendar_item_server_fields_and_bad_dates():
    ctx = make_ctx(make_store())
    r = create_items(ctx, calendar_xml("Meeting", "2024-05-02T10:00:00+02:00", "2024-05-02T11:30:00+02:00",
                                       location="Room 1"), folder="calendar", disposition=None,
                     invitations="SendToNone")
    item = find(get_items(ctx, item_ids(r)), ".//t:CalendarItem")
    assert text(item, "t:Start") == "2024-05-02T08:00:00Z"  # stored and returned in UTC
    assert text(item, "t:End") == "2024-05-02T09:30:00Z"
    assert text(item, "t:ItemClass") == "IPM.Appointment"
    assert text(item, "t:CalendarItemType") == "Single"
    assert text(item, "t:MyResponseType") == "Organizer"
    assert text(item, "t:IsMeeting") == "false"
    assert text(item, "t:Duration") == "PT1H30M"
    assert text(item, "t:Organizer/t:Mailbox/t:EmailAddress") == "alice@example.com"
    assert len(text(item, "t:UID")) > 40
    bad = create_items(ctx, calendar_xml("Backwards", "2024-05-02T10:00:00Z", "2024-05-02T09:00:00Z"),
                       folder="calendar", disposition=None, invitations="SendToNone")
    assert codes(bad) == ["ErrorCalendarEndDateIsEarlierThanStartDate"]


def test_update_changes_changekey_and_stale_changekey_conflicts():
    ctx = make_ctx(make_store())
    [(item_id, ck1)] = item_ids(create_items(ctx, message_xml("v1")))
    r = _update(ctx, item_id, ck1, _set_subject("v2"), conflict="NeverOverwrite")
    assert codes(r) == ["NoError"]
    [(same_id, ck2)] = item_ids(r)
    assert same_id == item_id and ck2 != ck1
    assert text(r, ".//m:ConflictResults/t:Count") == "0"
    stale = _update(ctx, item_id, ck1, _set_subject("v3"), conflict="NeverOverwrite")
    assert codes(stale) == ["ErrorIrresolvableConflict"]
    assert text(get_items(ctx, [(item_id, None)]), ".//t:Subject") == "v2"
    forced = _update(ctx, item_id, ck1, _set_subject("v4"), conflict="AlwaysOverwrite")
    assert codes(forced) == ["NoError"]
    assert text(get_items(ctx, [(item_id, None)]), ".//t:Subject") == "v4"


def test_auto_resolve_applies_unless_the_same_property_changed():
    ctx = make_ctx(make_store())
    [(item_id, ck1)] = item_ids(create_items(ctx, message_xml("base", importance="Low")))
    assert codes(_update(ctx, item_id, ck1, _set_subject("changed by someone"))) == ["NoError"]
    importance = ('<t:SetItemField><t:FieldURI FieldURI="item:Importance"/><t:Message><t:Importance>High'
                  "</t:Importance></t:Message></t:SetItemField>")
    assert codes(_update(ctx, item_id, ck1, importance, conflict="AutoResolve")) == ["NoError"]
    assert codes(_update(ctx, item_id, ck1, _set_subject("mine"), conflict="AutoResolve")) == \
        ["ErrorIrresolvableConflict"]
    msg = find(get_items(ctx, [(item_id, None)]), ".//t:Message")
    assert (text(msg, "t:Subject"), text(msg, "t:Importance")) == ("changed by someone", "High")


def test_update_append_delete_and_invalid_changes():
    ctx = make_ctx(make_store())
    [(item_id, _)] = item_ids(create_items(ctx, message_xml("append", body="Hello", to=["bob@example.com"],
                                                            categories=["a"])))
    append = ('<t:AppendToItemField><t:FieldURI FieldURI="message:ToRecipients"/><t:Message><t:ToRecipients>'
              "<t:Mailbox><t:EmailAddress>bobby@example.com</t:EmailAddress></t:Mailbox></t:ToRecipients>"
              "</t:Message></t:AppendToItemField>"
              '<t:AppendToItemField><t:FieldURI FieldURI="item:Body"/><t:Message><t:Body BodyType="Text">'
              " world</t:Body></t:Message></t:AppendToItemField>"
              '<t:DeleteItemField><t:FieldURI FieldURI="item:Categories"/></t:DeleteItemField>')
    assert codes(_update(ctx, item_id, None, append)) == ["NoError"]
    msg = find(get_items(ctx, [(item_id, None)]), ".//t:Message")
    assert [e.text for e in findall(msg, "t:ToRecipients/t:Mailbox/t:EmailAddress")] == \
        ["bob@example.com", "bobby@example.com"]
    assert text(msg, "t:DisplayTo") == "Bob Berg; Bobby Tables"
    assert text(msg, "t:Body") == "Hello world"
    assert find(msg, "t:Categories") is None
    read_only = ('<t:SetItemField><t:FieldURI FieldURI="item:DateTimeCreated"/><t:Message><t:DateTimeCreated>'
                 "2020-01-01T00:00:00Z</t:DateTimeCreated></t:Message></t:SetItemField>")
    two = ('<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>a</t:Subject>'
           "<t:Sensitivity>Private</t:Sensitivity></t:Message></t:SetItemField>")
    bad_append = ('<t:AppendToItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>x</t:Subject>'
                  "</t:Message></t:AppendToItemField>")
    r = call(ctx, '<m:UpdateItem ConflictResolution="AlwaysOverwrite" MessageDisposition="SaveOnly">'
                  "<m:ItemChanges>"
                  + "".join(f'<t:ItemChange><t:ItemId Id="{item_id}"/><t:Updates>{u}</t:Updates></t:ItemChange>'
                            for u in (read_only, two, bad_append, _set_subject("fine")))
                  + "</m:ItemChanges></m:UpdateItem>")
    assert codes(r) == ["ErrorInvalidPropertySet", "ErrorIncorrectUpdatePropertyCount",
                        "ErrorInvalidPropertyAppend", "NoError"]


def test_update_indexed_and_extended_properties():
    ctx = make_ctx(make_store())
    contact = ('<t:Contact><t:GivenName>Carla</t:GivenName><t:EmailAddresses><t:Entry Key="EmailAddress1">'
               "carla@else.com</t:Entry></t:EmailAddresses><t:Surname>Cruz</t:Surname></t:Contact>")
    r = create_items(ctx, contact, folder="contacts", disposition=None)
    [(item_id, _)] = item_ids(r)
    updates = ('<t:SetItemField><t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="MobilePhone"/>'
               '<t:Contact><t:PhoneNumbers><t:Entry Key="MobilePhone">+45 1234</t:Entry></t:PhoneNumbers>'
               "</t:Contact></t:SetItemField>"
               '<t:SetItemField><t:IndexedFieldURI FieldURI="contacts:PhysicalAddress:City" FieldIndex="Home"/>'
               '<t:Contact><t:PhysicalAddresses><t:Entry Key="Home"><t:City>Aarhus</t:City></t:Entry>'
               "</t:PhysicalAddresses></t:Contact></t:SetItemField>"
               '<t:SetItemField><t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" '
               'PropertyName="Color" PropertyType="String"/><t:Contact><t:ExtendedProperty><t:ExtendedFieldURI '
               'PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="Color" PropertyType="String"/>'
               "<t:Value>blue</t:Value></t:ExtendedProperty></t:Contact></t:SetItemField>")
    assert codes(_update(ctx, item_id, None, updates, disposition=None)) == ["NoError"]
    got = find(get_items(ctx, [(item_id, None)]), ".//t:Contact")
    assert text(got, "t:DisplayName") == "Carla Cruz" and text(got, "t:FileAs") == "Cruz, Carla"
    assert text(got, "t:PhoneNumbers/t:Entry[@Key='MobilePhone']") == "+45 1234"
    assert text(got, "t:PhysicalAddresses/t:Entry[@Key='Home']/t:City") == "Aarhus"
    assert find(got, "t:ExtendedProperty") is None  # only returned when asked for
    ext = ('<t:ExtendedFieldURI PropertySetId="C11FF724-AA03-4555-9952-8FA248A11C3E" PropertyName="Color" '
           'PropertyType="String"/>')
    asked = find(get_items(ctx, [(item_id, None)], shape="IdOnly",
                           additional=ext + '<t:IndexedFieldURI FieldURI="contacts:PhoneNumber" '
                                            'FieldIndex="MobilePhone"/>'), ".//t:Contact")
    assert text(asked, "t:ExtendedProperty/t:Value") == "blue"
    assert [e.get("Key") for e in findall(asked, "t:PhoneNumbers/t:Entry")] == ["MobilePhone"]


def test_responses_omit_properties_the_requested_version_lacks():
    store = make_store()
    ids = item_ids(create_items(make_ctx(store), message_xml("versions")))
    new = find(get_items(make_ctx(store, version="Exchange2016"), ids), ".//t:Message")
    old = find(get_items(make_ctx(store, version="Exchange2007_SP1"), ids), ".//t:Message")
    assert find(new, "t:ConversationId") is not None and find(new, "t:IsAssociated") is not None
    assert find(old, "t:ConversationId") is None and find(old, "t:IsAssociated") is None
    assert find(old, "t:LastModifiedTime") is not None  # Exchange2007_SP1 has it
    ancient = find(get_items(make_ctx(store, version="Exchange2007"), ids), ".//t:Message")
    assert find(ancient, "t:LastModifiedTime") is None and find(ancient, "t:EffectiveRights") is None
    body = find(get_items(make_ctx(store, version="Exchange2010"), ids), ".//t:Body")
    assert body.get("IsTruncated") is None


def test_send_delivers_to_local_recipients_only_and_hides_bcc():
    store = make_store()
    alice, bob, bobby = (make_ctx(store, a) for a in ("alice@example.com", "bob@example.com",
                                                        "bobby@example.com"))
    r = create_items(alice, message_xml("Lunch?", to=["BOB@example.com", "someone@external.org"],
                                        bcc=["bobby@example.com"]), disposition="SendAndSaveCopy")
    assert codes(r) == ["NoError"] and item_ids(r) == []  # Exchange returns no id for sent mail
    received = find(find_items(bob, "inbox", shape="AllProperties"), ".//t:Message")
    assert text(received, "t:Subject") == "Lunch?"
    assert text(received, "t:IsRead") == "false"
    assert text(received, "t:From/t:Mailbox/t:EmailAddress") == "alice@example.com"
    assert text(received, "t:ReceivedBy/t:Mailbox/t:EmailAddress") == "bob@example.com"
    full = find(get_items(bob, [(find(received, "t:ItemId").get("Id"), None)]), ".//t:Message")
    assert find(full, "t:BccRecipients") is None
    assert subjects(find_items(bobby, "inbox")) == ["Lunch?"]
    sent = find(find_items(alice, "sentitems", shape="AllProperties"), ".//t:Message")
    assert text(sent, "t:IsDraft") == "false" and text(sent, "t:IsRead") == "true"
    assert text(sent, "t:InternetMessageId") == text(received, "t:InternetMessageId")
    assert subjects(find_items(alice, "drafts")) == []
    only = create_items(alice, message_xml("No copy", to=["bob@example.com"]), disposition="SendOnly")
    assert codes(only) == ["NoError"]
    assert len(subjects(find_items(alice, "sentitems"))) == 1
    assert subjects(find_items(bob, "inbox")) == ["No copy", "Lunch?"]


def test_send_item_sends_a_saved_draft():
    store = make_store()
    alice, bob = make_ctx(store), make_ctx(store, "bob@example.com")
    [(item_id, ck)] = item_ids(create_items(alice, message_xml("Draft", to=["ali@example.com", "bob@example.com"])))
    r = call(alice, f'<m:SendItem SaveItemToFolder="true"><m:ItemIds>{item_id_xml([(item_id, ck)])}</m:ItemIds>'
                    "</m:SendItem>")
    assert codes(r) == ["NoError"]
    assert subjects(find_items(alice, "drafts")) == []
    assert subjects(find_items(alice, "sentitems")) == ["Draft"]
    assert subjects(find_items(alice, "inbox")) == ["Draft"]  # alias resolves to alice herself
    assert subjects(find_items(bob, "inbox")) == ["Draft"]
    gone = call(alice, f'<m:SendItem SaveItemToFolder="false"><m:ItemIds>{item_id_xml([(item_id, None)])}'
                       "</m:ItemIds></m:SendItem>")
    assert codes(gone) == ["ErrorItemNotFound"]


def test_send_item_with_stale_changekey_is_refused():
    ctx = make_ctx(make_store())
    [(item_id, ck)] = item_ids(create_items(ctx, message_xml("Draft")))
    _update(ctx, item_id, None, _set_subject("edited"))
    r = call(ctx, f'<m:SendItem SaveItemToFolder="false"><m:ItemIds>{item_id_xml([(item_id, ck)])}</m:ItemIds>'
                  "</m:SendItem>")
    assert codes(r) == ["ErrorStaleObject"]


def test_update_with_send_disposition_sends_the_draft():
    store = make_store()
    alice, bob = make_ctx(store), make_ctx(store, "bob@example.com")
    [(item_id, ck)] = item_ids(create_items(alice, message_xml("draft")))
    to = ('<t:SetItemField><t:FieldURI FieldURI="message:ToRecipients"/><t:Message><t:ToRecipients><t:Mailbox>'
          "<t:EmailAddress>bob@example.com</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message>"
          "</t:SetItemField>")
    r = _update(alice, item_id, ck, to, disposition="SendAndSaveCopy")
    assert codes(r) == ["NoError"] and item_ids(r) == []
    assert subjects(find_items(bob, "inbox")) == ["draft"]
    assert subjects(find_items(alice, "sentitems")) == ["draft"]


def test_meeting_invitations_reach_attendees_and_cancellations_follow():
    store = make_store()
    alice, bob = make_ctx(store), make_ctx(store, "bob@example.com")
    r = create_items(alice, calendar_xml("Planning", "2024-05-03T09:00:00Z", "2024-05-03T10:00:00Z",
                                         required=["bob@example.com", "guest@else.org"]),
                     folder="calendar", disposition=None, invitations="SendToAllAndSaveCopy")
    [(cal_id, _)] = item_ids(r)
    organizer = find(get_items(alice, [(cal_id, None)]), ".//t:CalendarItem")
    assert text(organizer, "t:IsMeeting") == "true"
    assert text(organizer, "t:MeetingRequestWasSent") == "true"
    assert text(organizer, "t:RequiredAttendees/t:Attendee/t:ResponseType") == "Unknown"
    request = find(find_items(bob, "inbox", shape="AllProperties"), ".//t:MeetingRequest")
    assert text(request, "t:ItemClass") == "IPM.Schedule.Meeting.Request"
    assert text(request, "t:MeetingRequestType") == "NewMeetingRequest"
    assert text(request, "t:Start") == "2024-05-03T09:00:00Z"
    copy_id = find(request, "t:AssociatedCalendarItemId").get("Id")
    copy = find(get_items(bob, [(copy_id, None)]), ".//t:CalendarItem")
    assert text(copy, "t:MyResponseType") == "NoResponseReceived"
    assert text(copy, "t:UID") == text(organizer, "t:UID")
    assert text(copy, "t:Organizer/t:Mailbox/t:EmailAddress") == "alice@example.com"
    assert [e.tag.split("}")[1] for e in findall(find_items(alice, "sentitems"), ".//t:Items/*")] == \
        ["MeetingRequest"]  # SendToAllAndSaveCopy keeps a copy
    r = call(alice, f'<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendOnlyToAll">'
                    f"<m:ItemIds>{item_id_xml([(cal_id, None)])}</m:ItemIds></m:DeleteItem>")
    assert codes(r) == ["NoError"]
    assert find(find_items(bob, "inbox"), ".//t:MeetingCancellation") is not None
    cancelled = find(get_items(bob, [(copy_id, None)]), ".//t:CalendarItem")
    assert text(cancelled, "t:IsCancelled") == "true"
    assert text(cancelled, "t:Subject") == "Canceled: Planning"


def test_delete_types_and_required_attributes():
    store = make_store()
    ctx = make_ctx(store)
    ids = item_ids(create_items(ctx, message_xml("hard") + message_xml("soft") + message_xml("trash")))

    def delete(ids_, delete_type, extra=""):
        return call(ctx, f'<m:DeleteItem DeleteType="{delete_type}"{extra}><m:ItemIds>{item_id_xml(ids_)}'
                         "</m:ItemIds></m:DeleteItem>")

    assert codes(delete([ids[0]], "HardDelete")) == ["NoError"]
    assert codes(delete([ids[1]], "SoftDelete")) == ["NoError"]
    assert codes(delete([ids[2]], "MoveToDeletedItems")) == ["NoError"]
    assert subjects(find_items(ctx, "drafts")) == []
    assert subjects(find_items(ctx, "deleteditems")) == ["trash"]
    assert subjects(find_items(ctx, "drafts", traversal="SoftDeleted")) == ["soft"]
    assert subjects(find_items(ctx, "recoverableitemsdeletions")) == ["soft"]
    assert codes(get_items(ctx, [ids[0]])) == ["ErrorItemNotFound"]
    task = create_items(ctx, "<t:Task><t:Subject>t</t:Subject></t:Task>", folder="tasks", disposition=None)
    assert codes(delete(item_ids(task), "HardDelete")) == ["ErrorAffectedTaskOccurrencesRequired"]
    assert codes(delete(item_ids(task), "HardDelete", ' AffectedTaskOccurrences="AllOccurrences"')) == ["NoError"]
    cal = create_items(ctx, calendar_xml("c", "2024-05-03T09:00:00Z", "2024-05-03T10:00:00Z"), folder="calendar",
                       disposition=None, invitations="SendToNone")
    assert codes(delete(item_ids(cal), "HardDelete")) == ["ErrorSendMeetingCancellationsRequired"]


def test_soft_delete_on_exchange_2007_hides_the_item_in_place():
    store = make_store(build=(8, 1, 240, 6))
    ctx = make_ctx(store, version="Exchange2007_SP1")
    ids = item_ids(create_items(ctx, message_xml("old school")))
    call(ctx, f'<m:DeleteItem DeleteType="SoftDelete"><m:ItemIds>{item_id_xml(ids)}</m:ItemIds></m:DeleteItem>')
    assert subjects(find_items(ctx, "drafts")) == []
    assert subjects(find_items(ctx, "drafts", traversal="SoftDeleted")) == ["old school"]


def test_move_and_copy_items_return_new_ids():
    store = make_store()
    ctx = make_ctx(store)
    ids = item_ids(create_items(ctx, message_xml("mover") + message_xml("copier")))

    def op(name, ids_, folder="inbox", extra=""):
        return call(ctx, f'<m:{name}><m:ToFolderId><t:DistinguishedFolderId Id="{folder}"/></m:ToFolderId>'
                         f"<m:ItemIds>{item_id_xml(ids_)}</m:ItemIds>{extra}</m:{name}>")

    moved = op("MoveItem", [ids[0]])
    assert codes(moved) == ["NoError"]
    [(new_id, _)] = item_ids(moved)
    assert new_id != ids[0][0]
    assert codes(get_items(ctx, [ids[0]])) == ["ErrorItemNotFound"]
    copied = op("CopyItem", [ids[1]], extra="<m:ReturnNewItemIds>false</m:ReturnNewItemIds>")
    assert codes(copied) == ["NoError"] and item_ids(copied) == []
    assert sorted(subjects(find_items(ctx, "inbox"))) == ["copier", "mover"]
    assert subjects(find_items(ctx, "drafts")) == ["copier"]
    missing = op("MoveItem", [ids[1]], folder="publicfoldersroot")
    assert codes(missing) == ["ErrorNoPublicFolderReplicaAvailable"]


def test_delegate_access_to_another_mailbox_is_checked():
    store = make_store()
    bob_ids = item_ids(create_items(make_ctx(store, "bob@example.com"), message_xml("bob's")))
    stranger = make_ctx(store, "alice@example.com")
    assert codes(get_items(stranger, bob_ids)) == ["ErrorAccessDenied"]
    delegate = make_ctx(store, "alice@example.com", delegates=[("alice@example.com", "bob@example.com")])
    assert codes(get_items(delegate, bob_ids)) == ["NoError"]
    r = call(delegate, '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
                       '</m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="drafts"><t:Mailbox>'
                       "<t:EmailAddress>bob@example.com</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
                       "</m:ParentFolderIds></m:FindItem>")
    assert text(r, ".//m:RootFolder").strip() == "" and find(r, ".//m:RootFolder").get("TotalItemsInView") == "1"


def test_task_status_and_percent_complete_stay_consistent():
    ctx = make_ctx(make_store())
    r = create_items(ctx, "<t:Task><t:Subject>do it</t:Subject><t:PercentComplete>100</t:PercentComplete></t:Task>",
                     folder="tasks", disposition=None)
    task = find(get_items(ctx, item_ids(r)), ".//t:Task")
    assert (text(task, "t:Status"), text(task, "t:IsComplete")) == ("Completed", "true")
    assert text(task, "t:CompleteDate") is not None
    fresh = find(get_items(ctx, item_ids(create_items(ctx, "<t:Task><t:Subject>later</t:Subject></t:Task>",
                                                      folder="tasks", disposition=None))), ".//t:Task")
    assert (text(fresh, "t:Status"), text(fresh, "t:PercentComplete")) == ("NotStarted", "0")


def _attachment_xml(name="notes.txt", content=b"hello file"):
    return (f"<t:FileAttachment><t:Name>{name}</t:Name><t:ContentType>text/plain</t:ContentType>"
            f"<t:Content>{base64.b64encode(content).decode()}</t:Content></t:FileAttachment>")


def test_attachments_create_get_delete():
    ctx = make_ctx(make_store())
    [(item_id, ck)] = item_ids(create_items(ctx, message_xml("with files")))
    r = call(ctx, f'<m:CreateAttachment><m:ParentItemId Id="{item_id}"/><m:Attachments>{_attachment_xml()}'
                  "<t:ItemAttachment><t:Name>fwd</t:Name><t:Message><t:Subject>inner</t:Subject>"
                  '<t:Body BodyType="Text">inner body</t:Body></t:Message></t:ItemAttachment>'
                  "</m:Attachments></m:CreateAttachment>")
    assert codes(r) == ["NoError", "NoError"]
    file_id, item_att_id = (e for e in findall(r, ".//m:Attachments/*/t:AttachmentId"))
    assert file_id.get("RootItemId") == item_id and file_id.get("RootItemChangeKey") != ck
    msg = find(get_items(ctx, [(item_id, None)]), ".//t:Message")
    assert text(msg, "t:HasAttachments") == "true"
    listed = find(msg, "t:Attachments/t:FileAttachment")
    assert (text(listed, "t:Name"), text(listed, "t:Size")) == ("notes.txt", "10")
    assert find(listed, "t:Content") is None  # GetItem lists attachments without content
    assert find(listed, "t:AttachmentId").get("Id") == file_id.get("Id")
    got = call(ctx, f'<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id="{file_id.get("Id")}"/>'
                    f'<t:AttachmentId Id="{item_att_id.get("Id")}"/><t:AttachmentId Id="junk!"/>'
                    "</m:AttachmentIds></m:GetAttachment>")
    assert codes(got) == ["NoError", "NoError", "ErrorInvalidIdMalformed"]
    assert base64.b64decode(text(got, ".//t:FileAttachment/t:Content")) == b"hello file"
    assert text(got, ".//t:ItemAttachment/t:Message/t:Subject") == "inner"
    assert text(got, ".//t:ItemAttachment/t:Message/t:Body") == "inner body"
    deleted = call(ctx, f'<m:DeleteAttachment><m:AttachmentIds><t:AttachmentId Id="{file_id.get("Id")}"/>'
                        f'<t:AttachmentId Id="{file_id.get("Id")}"/></m:AttachmentIds></m:DeleteAttachment>')
    assert codes(deleted) == ["NoError", "ErrorInvalidAttachmentId"]
    assert find(deleted, ".//m:RootItemId").get("RootItemId") == item_id


def test_attachments_sent_with_a_message_reach_the_recipient():
    store = make_store()
    alice, bob = make_ctx(store), make_ctx(store, "bob@example.com")
    items = ("<t:Message><t:Subject>report</t:Subject><t:Body BodyType=\"Text\">see file</t:Body><t:Attachments>"
             + _attachment_xml("r.csv", b"a,b") + "</t:Attachments><t:ToRecipients>"
             "<t:Mailbox><t:EmailAddress>bob@example.com</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message>")
    assert codes(create_items(alice, items, disposition="SendOnly")) == ["NoError"]
    received = find(find_items(bob, "inbox", shape="IdOnly", additional='<t:FieldURI FieldURI="item:HasAttachments"/>'),
                    ".//t:Message")
    assert text(received, "t:HasAttachments") == "true"
    full = find(get_items(bob, [(find(received, "t:ItemId").get("Id"), None)]), ".//t:Message")
    att_id = find(full, "t:Attachments/t:FileAttachment/t:AttachmentId").get("Id")
    got = call(bob, f'<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id="{att_id}"/></m:AttachmentIds>'
                    "</m:GetAttachment>")
    assert base64.b64decode(text(got, ".//t:Content")) == b"a,b"
    assert codes(call(alice, f'<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id="{att_id}"/></m:AttachmentIds>'
                             "</m:GetAttachment>")) == ["ErrorAccessDenied"]


def test_meeting_update_invites_added_and_cancels_removed_attendees():
    store = make_store()
    alice, bob, bobby = (make_ctx(store, a) for a in ("alice@example.com", "bob@example.com",
                                                        "bobby@example.com"))
    r = create_items(alice, calendar_xml("Sync", "2024-05-06T09:00:00Z", "2024-05-06T09:30:00Z",
                                         required=["bob@example.com"]),
                     folder="calendar", disposition=None, invitations="SendOnlyToAll")
    [(cal_id, ck)] = item_ids(r)
    swap = ('<t:SetItemField><t:FieldURI FieldURI="calendar:RequiredAttendees"/><t:CalendarItem>'
            "<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>bobby@example.com</t:EmailAddress>"
            "</t:Mailbox></t:Attendee></t:RequiredAttendees></t:CalendarItem></t:SetItemField>")
    r = _update(alice, cal_id, ck, swap, disposition=None,
                extra=' SendMeetingInvitationsOrCancellations="SendOnlyToChanged"')
    assert codes(r) == ["NoError"]
    assert [e.tag.split("}")[1] for e in findall(find_items(bob, "inbox"), ".//t:Items/*")] == \
        ["MeetingCancellation", "MeetingRequest"]
    assert [e.tag.split("}")[1] for e in findall(find_items(bobby, "inbox"), ".//t:Items/*")] == ["MeetingRequest"]
    missing = _update(alice, cal_id, None, swap, disposition=None)
    assert codes(missing) == ["ErrorSendMeetingInvitationsOrCancellationsRequired"]


_EXTRA = "".join(f'<t:FieldURI FieldURI="{u}"/>' for u in (
    "item:UniqueBody", "item:TextBody", "item:NormalizedBody", "item:Preview", "item:InstanceKey",
    "item:StoreEntryId", "item:MimeContent", "item:EffectiveRights", "item:WebClientReadFormQueryString"))


@pytest.mark.parametrize("version", ["Exchange2007_SP1", "Exchange2010_SP2", "Exchange2013", "Exchange2016",
                                     "V2018_01_08"])
def test_every_item_kind_renders_valid_xml_in_every_version(version):
    store = make_store(build=(15, 20, 5000, 0))
    ctx = make_ctx(store, version=version)
    create_items(ctx, message_xml("m", to=["bob@example.com"], cc=["x@else.org"], categories=["c"]), folder="inbox")
    create_items(ctx, calendar_xml("c", "2024-05-06T09:00:00Z", "2024-05-06T10:00:00Z", required=["bob@example.com"],
                                   location="here"), folder="calendar", disposition=None,
                 invitations="SendToAllAndSaveCopy")
    create_items(ctx, '<t:Contact><t:FileAs>Doe, Jane</t:FileAs><t:GivenName>Jane</t:GivenName>'
                      '<t:EmailAddresses><t:Entry Key="EmailAddress1">jane@else.org</t:Entry></t:EmailAddresses>'
                      '<t:PhysicalAddresses><t:Entry Key="Business"><t:Street>Main 1</t:Street>'
                      "<t:City>Oslo</t:City></t:Entry></t:PhysicalAddresses><t:PhoneNumbers>"
                      '<t:Entry Key="BusinessPhone">123</t:Entry></t:PhoneNumbers>'
                      "<t:Birthday>1990-01-02T00:00:00Z</t:Birthday><t:Surname>Doe</t:Surname></t:Contact>"
                      "<t:DistributionList><t:DisplayName>Team</t:DisplayName><t:Members><t:Member>"
                      "<t:Mailbox><t:EmailAddress>bob@example.com</t:EmailAddress></t:Mailbox></t:Member>"
                      "</t:Members></t:DistributionList>", folder="contacts", disposition=None)
    create_items(ctx, "<t:Task><t:Subject>t</t:Subject><t:DueDate>2024-06-01T00:00:00Z</t:DueDate>"
                      "<t:Status>InProgress</t:Status></t:Task>", folder="tasks", disposition=None)
    create_items(ctx, "<t:PostItem><t:Subject>p</t:Subject></t:PostItem>", folder="inbox", disposition=None)
    bob = make_ctx(store, "bob@example.com", version=version)
    for who, folder in ((ctx, "inbox"), (ctx, "calendar"), (ctx, "contacts"), (ctx, "tasks"), (ctx, "sentitems"),
                        (bob, "inbox"), (bob, "calendar")):
        found = find_items(who, folder, shape="AllProperties")  # validated by call()
        assert codes(found) == ["NoError"]
        ids = [(e.get("Id"), None) for e in findall(found, ".//t:Items/*/t:ItemId")]
        assert ids, folder
        assert codes(get_items(who, ids, additional=_EXTRA)) == ["NoError"] * len(ids)
        assert codes(get_items(who, ids, shape="Default", body_type="HTML")) == ["NoError"] * len(ids)
