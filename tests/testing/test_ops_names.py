"""ResolveNames and ConvertId."""
from __future__ import annotations

from .opshelpers import (call, classes, codes, create_items, find, findall, get_items, item_ids, make_ctx,
                         make_store, message_xml, messages, text)


def _resolve(ctx, entry, full=False, scope=None):
    attrs = f' ReturnFullContactData="{"true" if full else "false"}"'
    if scope:
        attrs += f' SearchScope="{scope}"'
    return call(ctx, f"<m:ResolveNames{attrs}><m:UnresolvedEntry>{entry}</m:UnresolvedEntry></m:ResolveNames>")


def _addresses(r):
    return [e.text for e in findall(r, ".//m:ResolutionSet/t:Resolution/t:Mailbox/t:EmailAddress")]


def test_resolve_exact_address_and_alias():
    ctx = make_ctx(make_store())
    r = _resolve(ctx, "SMTP:ali@example.com")
    assert codes(r) == ["NoError"] and classes(r) == ["Success"]
    assert _addresses(r) == ["alice@example.com"]
    rset = find(r, ".//m:ResolutionSet")
    assert (rset.get("TotalItemsInView"), rset.get("IncludesLastItemInRange")) == ("1", "true")
    assert text(r, ".//t:Mailbox/t:Name") == "Alice Andersen"
    assert text(r, ".//t:Mailbox/t:MailboxType") == "Mailbox"
    assert find(r, ".//t:Contact") is None


def test_resolve_by_name_prefix_and_full_contact_data():
    ctx = make_ctx(make_store())
    r = _resolve(ctx, "ande", full=True)
    assert _addresses(r) == ["alice@example.com"]
    contact = find(r, ".//t:Resolution/t:Contact")
    assert text(contact, "t:DisplayName") == "Alice Andersen"
    assert text(contact, "t:Surname") == "Andersen"
    assert text(contact, "t:EmailAddresses/t:Entry[@Key='EmailAddress1']") == "SMTP:alice@example.com"
    assert text(contact, "t:ContactSource") == "ActiveDirectory"


def test_resolve_ambiguous_and_unknown():
    ctx = make_ctx(make_store())
    r = _resolve(ctx, "bob")
    assert codes(r) == ["ErrorNameResolutionMultipleResults"] and classes(r) == ["Warning"]
    assert text(messages(r)[0], "m:MessageText") == "Multiple results were found."
    assert _addresses(r) == ["bob@example.com", "bobby@example.com"]
    assert find(r, ".//m:ResolutionSet").get("TotalItemsInView") == "2"
    none = _resolve(ctx, "zelda")
    assert codes(none) == ["ErrorNameResolutionNoResults"]
    assert text(messages(none)[0], "m:MessageText") == "No results were found."


def test_resolve_finds_personal_contacts_by_scope():
    ctx = make_ctx(make_store())
    create_items(ctx, '<t:Contact><t:GivenName>Zelda</t:GivenName><t:EmailAddresses>'
                      '<t:Entry Key="EmailAddress1">zelda@hyrule.org</t:Entry></t:EmailAddresses>'
                      "<t:Surname>Hyrule</t:Surname></t:Contact>", folder="contacts", disposition=None)
    r = _resolve(ctx, "zel", full=True, scope="ActiveDirectoryContacts")
    assert codes(r) == ["NoError"]
    assert _addresses(r) == ["zelda@hyrule.org"]
    assert text(r, ".//t:Mailbox/t:MailboxType") == "Contact"
    assert find(r, ".//t:Mailbox/t:ItemId") is not None
    assert text(r, ".//t:Contact/t:ContactSource") == "Store"
    assert codes(_resolve(ctx, "zel", scope="ActiveDirectory")) == ["ErrorNameResolutionNoResults"]
    both = _resolve(ctx, "a", scope="ContactsActiveDirectory")  # 'a' prefixes alice and nothing else
    assert _addresses(both) == ["alice@example.com"]


def _convert(ctx, sources, dest):
    srcs = "".join(f'<t:AlternateId Format="{fmt}" Id="{value}" Mailbox="{mb}"/>' for fmt, value, mb in sources)
    return call(ctx, f'<m:ConvertId DestinationFormat="{dest}"><m:SourceIds>{srcs}</m:SourceIds></m:ConvertId>')


def test_convert_id_round_trips_item_ids_through_every_format():
    ctx = make_ctx(make_store())
    [(item_id, _)] = item_ids(create_items(ctx, message_xml("convert me")))
    value, fmt = item_id, "EwsId"
    for dest in ("HexEntryId", "EntryId", "StoreId", "OwaId", "EwsLegacyId", "EwsId"):
        r = _convert(ctx, [(fmt, value, "alice@example.com")], dest)
        assert codes(r) == ["NoError"]
        alt = find(r, ".//m:AlternateId")
        assert alt.get("Format") == dest and alt.get("Mailbox") == "alice@example.com"
        assert alt.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "t:AlternateIdType"
        value, fmt = alt.get("Id"), dest
        if dest == "HexEntryId":
            assert all(c in "0123456789ABCDEF" for c in value)
    assert value == item_id
    assert text(get_items(ctx, [(value, None)]), ".//t:Subject") == "convert me"


def test_convert_id_errors_in_place():
    ctx = make_ctx(make_store())
    inbox = ctx.mailbox.folder("inbox").id
    hex_id = find(_convert(ctx, [("EwsId", inbox, "alice@example.com")], "HexEntryId"), ".//m:AlternateId").get("Id")
    r = _convert(ctx, [("EwsId", "%%%", "alice@example.com"), ("EwsId", inbox, "alice@example.com"),
                       ("HexEntryId", "ZZZZ", "alice@example.com"), ("HexEntryId", "00" * 38, "alice@example.com"),
                       ("HexEntryId", hex_id, "nobody@example.com")], "EntryId")
    assert codes(r) == ["ErrorInvalidIdMalformed", "NoError", "ErrorInvalidIdMalformed", "ErrorInvalidIdMalformed",
                        "ErrorNonExistentMailbox"]
