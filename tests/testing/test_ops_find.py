"""FindItem and FindFolder: restrictions (every operator), sorting, paging, calendar views, AQS."""
from __future__ import annotations

import pytest

from .opshelpers import (calendar_xml, call, codes, create_items, find, find_items, findall, make_ctx, make_store,
                         message_xml, messages, subjects, text)


@pytest.fixture
def inbox():
    """Alice's inbox with five messages of varied properties (created in this order)."""
    store = make_store()
    ctx = make_ctx(store)
    items = [
        message_xml("Alpha report", body="quarterly numbers", categories=["work", "finance"], importance="High",
                    is_read=False),
        message_xml("beta Release", body="release notes", categories=["work"], importance="Low", is_read=True),
        message_xml("Gamma", body="Café au lait", importance="Normal", is_read=False),
        message_xml("alpha", body="lowercase alpha", categories=["Home"], importance="High", is_read=True),
        message_xml("Délta résumé", body="accents", importance="Low", is_read=True),
    ]
    create_items(ctx, "".join(items), folder="inbox")
    return ctx


def _restricted(ctx, restriction, **kw):
    r = find_items(ctx, "inbox", shape="IdOnly", additional='<t:FieldURI FieldURI="item:Subject"/>',
                   restriction=restriction, **kw)
    assert codes(r) == ["NoError"], codes(r)
    return sorted(subjects(r))


def _const(op, uri, value):
    return (f'<t:{op}><t:FieldURI FieldURI="{uri}"/><t:FieldURIOrConstant><t:Constant Value="{value}"/>'
            f"</t:FieldURIOrConstant></t:{op}>")


def _contains(value, mode, comparison, uri="item:Subject"):
    return (f'<t:Contains ContainmentMode="{mode}" ContainmentComparison="{comparison}">'
            f'<t:FieldURI FieldURI="{uri}"/><t:Constant Value="{value}"/></t:Contains>')


def test_enumerations_compare_by_their_order(inbox):
    assert _restricted(inbox, _const("IsGreaterThan", "item:Importance", "Low")) == ["Alpha report", "Gamma", "alpha"]
    assert _restricted(inbox, _const("IsEqualTo", "item:Importance", "High")) == ["Alpha report", "alpha"]
    r = find_items(inbox, "inbox", restriction=_const("IsEqualTo", "item:Importance", "Urgent"))
    assert codes(r) == ["ErrorInvalidValueForProperty"]


def test_equality_operators_compare_strings_ignoring_case(inbox):
    assert _restricted(inbox, _const("IsEqualTo", "item:Subject", "ALPHA")) == ["alpha"]
    assert _restricted(inbox, _const("IsNotEqualTo", "item:Subject", "alpha")) == \
        ["Alpha report", "Délta résumé", "Gamma", "beta Release"]


def test_relational_operators_on_strings_booleans_and_datetimes(inbox):
    assert _restricted(inbox, _const("IsGreaterThan", "item:Subject", "delta")) == ["Délta résumé", "Gamma"]
    assert _restricted(inbox, _const("IsEqualTo", "message:IsRead", "false")) == ["Alpha report", "Gamma"]
    # Created one second apart from 08:00:01Z; a constant with an offset compares as an instant
    assert _restricted(inbox, _const("IsGreaterThan", "item:DateTimeCreated", "2024-05-01T10:00:03+02:00")) == \
        ["Délta résumé", "alpha"]
    assert _restricted(inbox, _const("IsGreaterThanOrEqualTo", "item:DateTimeCreated", "2024-05-01T08:00:04Z")) == \
        ["Délta résumé", "alpha"]
    assert _restricted(inbox, _const("IsLessThan", "item:DateTimeCreated", "2024-05-01T08:00:02Z")) == \
        ["Alpha report"]
    assert _restricted(inbox, _const("IsLessThanOrEqualTo", "item:DateTimeCreated", "2024-05-01T08:00:02Z")) == \
        ["Alpha report", "beta Release"]


def test_numbers_compare_numerically(inbox):
    sizes = find_items(inbox, "inbox", shape="IdOnly", additional='<t:FieldURI FieldURI="item:Size"/>')
    values = sorted(int(e.text) for e in findall(sizes, ".//t:Size"))
    threshold = values[2]
    got = _restricted(inbox, _const("IsGreaterThanOrEqualTo", "item:Size", str(threshold)))
    assert len(got) == 3
    # '9' < '10' numerically even though '9' > '10' as strings
    assert _restricted(inbox, _const("IsLessThan", "item:Size", "9")) == []


def test_multi_valued_categories_match_any_value(inbox):
    assert _restricted(inbox, _const("IsEqualTo", "item:Categories", "finance")) == ["Alpha report"]
    assert _restricted(inbox, _contains("work", "FullString", "IgnoreCase", "item:Categories")) == \
        ["Alpha report", "beta Release"]
    assert _restricted(inbox, '<t:Exists><t:FieldURI FieldURI="item:Categories"/></t:Exists>') == \
        ["Alpha report", "alpha", "beta Release"]
    assert _restricted(inbox, '<t:Not><t:Exists><t:FieldURI FieldURI="item:Categories"/></t:Exists></t:Not>') == \
        ["Délta résumé", "Gamma"]


@pytest.mark.parametrize("mode,comparison,value,expected", [
    ("FullString", "Exact", "alpha", ["alpha"]),
    ("FullString", "IgnoreCase", "ALPHA", ["alpha"]),
    ("Prefixed", "Exact", "Alpha", ["Alpha report"]),
    ("Prefixed", "IgnoreCase", "alpha", ["Alpha report", "alpha"]),
    ("Substring", "Exact", "elea", ["beta Release"]),
    ("Substring", "IgnoreCase", "HA R", ["Alpha report"]),
    ("PrefixOnWords", "IgnoreCase", "rep", ["Alpha report"]),
    ("PrefixOnWords", "IgnoreCase", "eport", []),
    ("ExactPhrase", "IgnoreCase", "alpha report", ["Alpha report"]),
    ("ExactPhrase", "IgnoreCase", "alpha rep", []),
    ("Substring", "IgnoreNonSpacingCharacters", "Delta", ["Délta résumé"]),
    ("Substring", "Exact", "Delta", []),
    ("Substring", "IgnoreCaseAndNonSpacingCharacters", "RESUME", ["Délta résumé"]),
    ("Substring", "Loose", "resume", ["Délta résumé"]),
])
def test_contains_modes_and_comparisons(inbox, mode, comparison, value, expected):
    assert _restricted(inbox, _contains(value, mode, comparison)) == expected


def test_contains_on_body_and_boolean_logic(inbox):
    assert _restricted(inbox, _contains("cafe", "Substring", "IgnoreCaseAndNonSpacingCharacters", "item:Body")) == \
        ["Gamma"]
    both = ("<t:And>" + _const("IsEqualTo", "item:Importance", "High") + _const("IsEqualTo", "message:IsRead", "true")
            + "</t:And>")
    assert _restricted(inbox, both) == ["alpha"]
    either = ("<t:Or>" + _const("IsEqualTo", "item:Subject", "Gamma") + _contains("beta", "Prefixed", "IgnoreCase")
              + "</t:Or>")
    assert _restricted(inbox, either) == ["Gamma", "beta Release"]
    assert _restricted(inbox, "<t:Not>" + either + "</t:Not>") == ["Alpha report", "Délta résumé", "alpha"]


def test_excludes_bitmask_and_two_field_comparison(inbox):
    ext = '<t:ExtendedFieldURI PropertyTag="0x0E07" PropertyType="Integer"/>'
    create_items(inbox, message_xml("flags 1", extra="<t:ExtendedProperty>" + ext + "<t:Value>1</t:Value>"
                                                     "</t:ExtendedProperty>")
                 + message_xml("flags 8", extra="<t:ExtendedProperty>" + ext + "<t:Value>8</t:Value>"
                                                "</t:ExtendedProperty>"), folder="inbox")
    excludes = f'<t:Excludes>{ext}<t:Bitmask Value="0x1"/></t:Excludes>'
    assert _restricted(inbox, excludes) == ["flags 8"]
    greater = f'<t:IsGreaterThan>{ext}<t:FieldURIOrConstant><t:Constant Value="4"/></t:FieldURIOrConstant>' \
              "</t:IsGreaterThan>"
    assert _restricted(inbox, greater) == ["flags 8"]
    same = ('<t:IsEqualTo><t:FieldURI FieldURI="item:DateTimeCreated"/><t:FieldURIOrConstant>'
            '<t:FieldURI FieldURI="item:DateTimeReceived"/></t:FieldURIOrConstant></t:IsEqualTo>')
    assert len(_restricted(inbox, same)) == 7


def test_invalid_restriction_constant_is_an_error(inbox):
    r = find_items(inbox, "inbox", restriction=_const("IsGreaterThan", "item:DateTimeCreated", "yesterday"))
    assert codes(r) == ["ErrorInvalidValueForProperty"]


def test_sorting_on_several_fields(inbox):
    sort = ('<t:FieldOrder Order="Descending"><t:FieldURI FieldURI="item:Importance"/></t:FieldOrder>'
            '<t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:Subject"/></t:FieldOrder>')
    r = find_items(inbox, "inbox", shape="IdOnly", additional='<t:FieldURI FieldURI="item:Subject"/>', sort=sort)
    # Importance sorts by its stored number (High > Normal > Low), then subject ascending ignoring case
    assert subjects(r) == ["alpha", "Alpha report", "Gamma", "beta Release", "Délta résumé"]
    by_date = find_items(inbox, "inbox", shape="IdOnly", additional='<t:FieldURI FieldURI="item:Subject"/>',
                         sort='<t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:DateTimeCreated"/>'
                              "</t:FieldOrder>")
    assert subjects(by_date) == ["Alpha report", "beta Release", "Gamma", "alpha", "Délta résumé"]
    default = find_items(inbox, "inbox", shape="IdOnly", additional='<t:FieldURI FieldURI="item:Subject"/>')
    assert subjects(default) == list(reversed(subjects(by_date)))  # newest first


def test_indexed_paging_from_beginning_and_end(inbox):
    sort = '<t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:DateTimeCreated"/></t:FieldOrder>'

    def page(offset, base="Beginning", max_entries=2):
        r = find_items(inbox, "inbox", shape="IdOnly", additional='<t:FieldURI FieldURI="item:Subject"/>', sort=sort,
                       view=f'<m:IndexedPageItemView MaxEntriesReturned="{max_entries}" Offset="{offset}" '
                            f'BasePoint="{base}"/>')
        root = find(r, ".//m:RootFolder")
        return (subjects(r), root.get("IndexedPagingOffset"), root.get("TotalItemsInView"),
                root.get("IncludesLastItemInRange"))

    assert page(0) == (["Alpha report", "beta Release"], "2", "5", "false")
    assert page(2) == (["Gamma", "alpha"], "4", "5", "false")
    assert page(4) == (["Délta résumé"], "5", "5", "true")
    assert page(9) == ([], "9", "5", "true")
    assert page(0, "End") == (["alpha", "Délta résumé"], "2", "5", "false")
    assert page(4, "End") == (["Alpha report"], "5", "5", "true")
    r = find_items(inbox, "inbox", view='<m:IndexedPageItemView MaxEntriesReturned="0" Offset="0" '
                                        'BasePoint="Beginning"/>')
    assert codes(r) == ["ErrorInvalidPagingMaxRows"]


def test_fractional_paging(inbox):
    r = find_items(inbox, "inbox", shape="IdOnly",
                   view='<m:FractionalPageItemView MaxEntriesReturned="2" Numerator="1" Denominator="2"/>')
    root = find(r, ".//m:RootFolder")
    assert (root.get("NumeratorOffset"), root.get("AbsoluteDenominator"), root.get("IncludesLastItemInRange")) == \
        ("4", "5", "false")
    assert len(findall(r, ".//t:Items/t:Message")) == 2


def test_find_item_refuses_recipient_lists_and_omits_bodies():
    ctx = make_ctx(make_store())
    r = find_items(ctx, "inbox", additional='<t:FieldURI FieldURI="message:ToRecipients"/>')
    assert codes(r) == ["ErrorInvalidPropertyRequest"]
    assert find(messages(r)[0], "m:MessageXml/t:FieldURI").get("FieldURI") == "message:ToRecipients"
    create_items(ctx, message_xml("with body", body="secret body"), folder="inbox")
    r = find_items(ctx, "inbox", additional='<t:FieldURI FieldURI="item:Body"/>')  # accepted, as by Exchange
    assert codes(r) == ["NoError"] and find(find(r, ".//t:Message"), "t:Body") is None
    create_items(ctx, message_xml("summary", body="secret body", to=["bob@example.com"]), folder="inbox")
    full = find(find_items(ctx, "inbox", shape="AllProperties"), ".//t:Message")
    assert find(full, "t:Body") is None and find(full, "t:ToRecipients") is None
    assert text(full, "t:DisplayTo") == "Bob Berg"


def test_find_in_several_folders_reports_each_in_place():
    ctx = make_ctx(make_store())
    r = call(ctx, '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
                  '<m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/><t:FolderId Id="bogus"/>'
                  '<t:DistinguishedFolderId Id="drafts"/></m:ParentFolderIds></m:FindItem>')
    assert codes(r) == ["NoError", "ErrorInvalidIdMalformed", "NoError"]


def test_calendar_view_returns_overlapping_items_sorted_by_start():
    ctx = make_ctx(make_store())
    create_items(ctx, calendar_xml("late", "2024-05-02T15:00:00Z", "2024-05-02T16:00:00Z")
                 + calendar_xml("early", "2024-05-02T08:00:00Z", "2024-05-02T09:00:00Z")
                 + calendar_xml("spanning", "2024-05-01T22:00:00Z", "2024-05-02T08:30:00Z")
                 + calendar_xml("outside", "2024-05-03T08:00:00Z", "2024-05-03T09:00:00Z")
                 + calendar_xml("touching end", "2024-05-01T20:00:00Z", "2024-05-02T00:00:00Z"),
                 folder="calendar", disposition=None, invitations="SendToNone")
    view = '<m:CalendarView StartDate="2024-05-02T00:00:00Z" EndDate="2024-05-03T00:00:00Z"/>'
    r = find_items(ctx, "calendar", shape="IdOnly", additional='<t:FieldURI FieldURI="item:Subject"/>', view=view)
    # an item ending exactly at StartDate is in the view: only items ending *before* it are left out
    assert subjects(r) == ["touching end", "spanning", "early", "late"]
    limited = find_items(ctx, "calendar", shape="IdOnly", additional='<t:FieldURI FieldURI="item:Subject"/>',
                         view=view.replace("/>", ' MaxEntriesReturned="2"/>'))
    assert subjects(limited) == ["touching end", "spanning"]
    assert find(limited, ".//m:RootFolder").get("IncludesLastItemInRange") == "false"
    backwards = find_items(ctx, "calendar", view='<m:CalendarView StartDate="2024-05-03T00:00:00Z" '
                                                 'EndDate="2024-05-02T00:00:00Z"/>')
    assert codes(backwards) == ["ErrorCalendarEndDateIsEarlierThanStartDate"]


def test_calendar_restriction_like_the_seed_example():
    ctx = make_ctx(make_store())
    create_items(ctx, "".join(calendar_xml(f"Test item {h}", f"2016-03-20T{h:02d}:30:00+01:00",
                                           f"2016-03-20T{h + 1:02d}:15:00+01:00", categories=["foo", "bar"])
                              for h in range(7, 17)) + calendar_xml("other", "2016-03-20T10:00:00Z",
                                                                    "2016-03-20T11:00:00Z"),
                 folder="calendar", disposition=None, invitations="SendToNone")
    restriction = ("<t:And>" + _const("IsLessThan", "calendar:Start", "2016-03-21T00:00:00+01:00")
                   + _const("IsGreaterThan", "calendar:End", "2016-03-20T00:00:00+01:00")
                   + _const("IsEqualTo", "item:Categories", "foo") + _const("IsEqualTo", "item:Categories", "bar")
                   + "</t:And>")
    r = find_items(ctx, "calendar", shape="IdOnly", restriction=restriction)
    assert find(r, ".//m:RootFolder").get("TotalItemsInView") == "10"


def test_query_string_subset(inbox):
    def q(query):
        r = find_items(inbox, "inbox", shape="IdOnly", additional='<t:FieldURI FieldURI="item:Subject"/>',
                       query=query)
        assert codes(r) == ["NoError"]
        return sorted(subjects(r))

    assert q("alpha") == ["Alpha report", "alpha"]
    assert q("subject:alpha") == ["Alpha report", "alpha"]
    assert q("body:quarterly") == ["Alpha report"]
    assert q('"release notes"') == ["beta Release"]
    assert q("alpha NOT report") == ["alpha"]
    assert q("gamma OR beta") == ["Gamma", "beta Release"]
    assert q("category:home") == ["alpha"]
    assert q("zzz") == []


def test_associated_traversal_lists_only_associated_items():
    ctx = make_ctx(make_store())
    create_items(ctx, message_xml("normal") + "<t:Message><t:Subject>hidden config</t:Subject>"
                                              "<t:IsAssociated>true</t:IsAssociated></t:Message>", folder="inbox")
    assert subjects(find_items(ctx, "inbox")) == ["normal"]
    assert subjects(find_items(ctx, "inbox", traversal="Associated")) == ["hidden config"]


# --- FindFolder ----------------------------------------------------------------------------------
def _find_folders(ctx, traversal="Shallow", parent="msgfolderroot", restriction="", view="", shape="Default"):
    return call(ctx, f'<m:FindFolder Traversal="{traversal}"><m:FolderShape><t:BaseShape>{shape}</t:BaseShape>'
                     f"</m:FolderShape>{view}"
                     + (f"<m:Restriction>{restriction}</m:Restriction>" if restriction else "")
                     + f'<m:ParentFolderIds><t:DistinguishedFolderId Id="{parent}"/></m:ParentFolderIds>'
                       "</m:FindFolder>")


def _names(r):
    return [e.text for e in findall(r, ".//m:RootFolder/t:Folders/*/t:DisplayName")]


def test_find_folder_shallow_deep_and_paging():
    ctx = make_ctx(make_store())
    shallow = _names(_find_folders(ctx))
    assert shallow == sorted(shallow, key=str.casefold)
    assert "Inbox" in shallow and "Conflicts" not in shallow
    deep = _names(_find_folders(ctx, "Deep"))
    assert deep.index("Sync Issues") < deep.index("Conflicts") < deep.index("Tasks")
    r = _find_folders(ctx, view='<m:IndexedPageFolderView MaxEntriesReturned="3" Offset="1" BasePoint="Beginning"/>')
    root = find(r, ".//m:RootFolder")
    assert _names(r) == shallow[1:4]
    assert (root.get("IndexedPagingOffset"), root.get("TotalItemsInView"), root.get("IncludesLastItemInRange")) == \
        ("4", str(len(shallow)), "false")


def test_find_folder_restriction_on_display_name_and_counts():
    ctx = make_ctx(make_store())
    create_items(ctx, message_xml("unread", is_read=False) + message_xml("read", is_read=True), folder="inbox")
    r = _find_folders(ctx, restriction=_contains("box", "Substring", "IgnoreCase", "folder:DisplayName"))
    assert _names(r) == ["Inbox", "Outbox"]
    r = _find_folders(ctx, restriction=_const("IsGreaterThan", "folder:TotalCount", "0"))
    assert _names(r) == ["Inbox"]
    inbox = find(r, ".//t:Folder")
    assert (text(inbox, "t:TotalCount"), text(inbox, "t:UnreadCount")) == ("2", "1")
