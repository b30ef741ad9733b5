"""Folder operations: GetFolder shapes and errors, create/update/delete/empty/move/copy, counters."""
from __future__ import annotations

import pytest
from lxml import etree

from exchangelib.testing import schema_tables
from exchangelib.testing.context import OPERATIONS, SoapFault

from .opshelpers import (call, classes, codes, create_items, find, find_items, findall, make_ctx, make_store,
                         message_xml, messages, subjects, text)


def _get(ctx, ids_xml, shape="Default", additional=""):
    add = f"<t:AdditionalProperties>{additional}</t:AdditionalProperties>" if additional else ""
    return call(ctx, f"<m:GetFolder><m:FolderShape><t:BaseShape>{shape}</t:BaseShape>{add}</m:FolderShape>"
                     f"<m:FolderIds>{ids_xml}</m:FolderIds></m:GetFolder>")


def _dist(name):
    return f'<t:DistinguishedFolderId Id="{name}"/>'


def _create(ctx, parent_xml, folders_xml):
    return call(ctx, f"<m:CreateFolder><m:ParentFolderId>{parent_xml}</m:ParentFolderId>"
                     f"<m:Folders>{folders_xml}</m:Folders></m:CreateFolder>")


def _folder_ids(r):
    return [(e.get("Id"), e.get("ChangeKey")) for e in findall(r, ".//m:Folders/*/t:FolderId")]


def test_get_folder_default_shapes_per_kind():
    ctx = make_ctx(make_store())
    r = _get(ctx, _dist("inbox") + _dist("calendar") + _dist("contacts"))
    inbox, calendar, contacts = (find(m, "m:Folders/*") for m in messages(r))
    assert [e.tag.split("}")[1] for e in inbox] == ["FolderId", "DisplayName", "TotalCount", "ChildFolderCount",
                                                    "UnreadCount"]
    assert calendar.tag.endswith("CalendarFolder")
    assert [e.tag.split("}")[1] for e in calendar] == ["FolderId", "DisplayName", "ChildFolderCount"]
    assert contacts.tag.endswith("ContactsFolder") and find(contacts, "t:UnreadCount") is None
    idonly = find(_get(ctx, _dist("inbox"), shape="IdOnly"), ".//t:Folder")
    assert [e.tag.split("}")[1] for e in idonly] == ["FolderId"]
    all_props = find(_get(ctx, _dist("inbox"), shape="AllProperties"), ".//t:Folder")
    assert text(all_props, "t:FolderClass") == "IPF.Note" and find(all_props, "t:ParentFolderId") is not None
    extra = find(_get(ctx, _dist("inbox"), shape="IdOnly",
                      additional='<t:FieldURI FieldURI="folder:DistinguishedFolderId"/>'
                                 '<t:FieldURI FieldURI="folder:PermissionSet"/>'), ".//t:Folder")
    assert text(extra, "t:DistinguishedFolderId") == "inbox"
    assert text(extra, "t:PermissionSet/t:Permissions/t:Permission/t:UserId/t:DistinguishedUser") == "Default"


def test_get_folder_errors_in_place():
    store = make_store(archive=False)
    ctx = make_ctx(store)
    inbox_id = store.get_mailbox("alice@example.com").folder("inbox").id
    r = _get(ctx, _dist("publicfoldersroot") + f'<t:FolderId Id="{inbox_id}"/>' + '<t:FolderId Id="@@@"/>'
             + _dist("archivemsgfolderroot") + _dist("sentitems"))
    assert codes(r) == ["ErrorNoPublicFolderReplicaAvailable", "NoError", "ErrorInvalidIdMalformed",
                        "ErrorFolderNotFound", "NoError"]
    assert classes(r)[0] == "Error"
    other = '<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>nobody@example.com</t:EmailAddress>' \
            "</t:Mailbox></t:DistinguishedFolderId>"
    assert codes(_get(ctx, other)) == ["ErrorNonExistentMailbox"]
    bobs = '<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>bob@example.com</t:EmailAddress>' \
           "</t:Mailbox></t:DistinguishedFolderId>"
    assert codes(_get(ctx, bobs)) == ["ErrorAccessDenied"]


def test_archive_folders_exist_only_with_an_archive():
    ctx = make_ctx(make_store(archive=True))
    r = _get(ctx, _dist("archivemsgfolderroot") + _dist("archiveinbox"))
    assert codes(r) == ["NoError", "NoError"]
    assert text(r, ".//t:DisplayName") == "Top of Information Store"


def test_distinguished_name_newer_than_the_requested_version_is_a_schema_error():
    ctx = make_ctx(make_store(), version="Exchange2010")
    request = ('<m:GetFolder xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
               'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:FolderShape>'
               '<t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>'
               '<t:DistinguishedFolderId Id="conversationhistory"/></m:FolderIds></m:GetFolder>')
    with pytest.raises(SoapFault) as exc:
        OPERATIONS["GetFolder"](ctx, etree.fromstring(request))
    assert exc.value.response_code == "ErrorSchemaValidation"


def test_create_update_and_delete_folder():
    store = make_store()
    ctx = make_ctx(store)
    r = _create(ctx, _dist("inbox"), "<t:Folder><t:DisplayName>Projects</t:DisplayName></t:Folder>"
                                     "<t:Folder><t:FolderClass>IPF.Appointment</t:FolderClass>"
                                     "<t:DisplayName>inbox-sub</t:DisplayName></t:Folder>"
                                     "<t:Folder><t:DisplayName>projects</t:DisplayName></t:Folder>")
    assert codes(r) == ["NoError", "NoError", "ErrorFolderExists"]
    assert [m.tag.split("}")[1] for m in findall(r, ".//m:Folders/*")] == ["Folder", "CalendarFolder"]
    (projects_id, ck), _ = _folder_ids(r)
    got = find(_get(ctx, f'<t:FolderId Id="{projects_id}"/>', shape="AllProperties"), ".//t:Folder")
    # a generic folder created without a class has none, as in Exchange (it is not a mail folder)
    assert (text(got, "t:DisplayName"), text(got, "t:FolderClass")) == ("Projects", None)
    assert text(_get(ctx, _dist("inbox")), ".//t:ChildFolderCount") == "2"
    rename = ('<m:UpdateFolder><m:FolderChanges><t:FolderChange>'
              f'<t:FolderId Id="{projects_id}" ChangeKey="{ck}"/><t:Updates><t:SetFolderField>'
              '<t:FieldURI FieldURI="folder:DisplayName"/><t:Folder><t:DisplayName>Archive 2024</t:DisplayName>'
              "</t:Folder></t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>")
    r = call(ctx, rename)
    assert codes(r) == ["NoError"]
    [(same_id, new_ck)] = _folder_ids(r)
    assert same_id == projects_id and new_ck != ck
    assert text(_get(ctx, f'<t:FolderId Id="{projects_id}"/>'), ".//t:DisplayName") == "Archive 2024"
    r = call(ctx, f'<m:DeleteFolder DeleteType="HardDelete"><m:FolderIds><t:FolderId Id="{projects_id}"/>'
                  f"{_dist('inbox')}</m:FolderIds></m:DeleteFolder>")
    assert codes(r) == ["NoError", "ErrorDeleteDistinguishedFolder"]
    assert codes(_get(ctx, f'<t:FolderId Id="{projects_id}"/>')) == ["ErrorFolderNotFound"]


def test_update_folder_refuses_read_only_fields():
    ctx = make_ctx(make_store())
    r = call(ctx, '<m:UpdateFolder><m:FolderChanges><t:FolderChange><t:DistinguishedFolderId Id="inbox"/>'
                  '<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:TotalCount"/><t:Folder>'
                  "<t:TotalCount>3</t:TotalCount></t:Folder></t:SetFolderField></t:Updates></t:FolderChange>"
                  "</m:FolderChanges></m:UpdateFolder>")
    assert codes(r) == ["ErrorInvalidPropertySet"]


def test_soft_deleted_and_moved_folders():
    store = make_store()
    ctx = make_ctx(store)
    ids = _folder_ids(_create(ctx, _dist("inbox"), "<t:Folder><t:DisplayName>Soft</t:DisplayName></t:Folder>"
                                                   "<t:Folder><t:DisplayName>Trash me</t:DisplayName></t:Folder>"))
    call(ctx, f'<m:DeleteFolder DeleteType="SoftDelete"><m:FolderIds><t:FolderId Id="{ids[0][0]}"/></m:FolderIds>'
              "</m:DeleteFolder>")
    call(ctx, f'<m:DeleteFolder DeleteType="MoveToDeletedItems"><m:FolderIds><t:FolderId Id="{ids[1][0]}"/>'
              "</m:FolderIds></m:DeleteFolder>")

    def names(parent, traversal="Shallow"):
        r = call(ctx, f'<m:FindFolder Traversal="{traversal}"><m:FolderShape><t:BaseShape>Default</t:BaseShape>'
                      f"</m:FolderShape><m:ParentFolderIds>{_dist(parent)}</m:ParentFolderIds></m:FindFolder>")
        return [e.text for e in findall(r, ".//t:DisplayName")]

    assert names("inbox") == []
    assert names("inbox", "SoftDeleted") == ["Soft"]
    assert names("deleteditems") == ["Trash me"]


def test_empty_folder_deletes_items_and_optionally_subfolders():
    ctx = make_ctx(make_store())
    create_items(ctx, message_xml("a") + message_xml("b"), folder="inbox")
    _create(ctx, _dist("inbox"), "<t:Folder><t:DisplayName>Keep?</t:DisplayName></t:Folder>")
    r = call(ctx, '<m:EmptyFolder DeleteType="HardDelete" DeleteSubFolders="false"><m:FolderIds>'
                  f'{_dist("inbox")}</m:FolderIds></m:EmptyFolder>')
    assert codes(r) == ["NoError"]
    got = find(_get(ctx, _dist("inbox")), ".//t:Folder")
    assert (text(got, "t:TotalCount"), text(got, "t:ChildFolderCount")) == ("0", "1")
    call(ctx, '<m:EmptyFolder DeleteType="HardDelete" DeleteSubFolders="true"><m:FolderIds>'
              f'{_dist("inbox")}</m:FolderIds></m:EmptyFolder>')
    assert text(_get(ctx, _dist("inbox")), ".//t:ChildFolderCount") == "0"
    r = call(ctx, '<m:EmptyFolder DeleteType="HardDelete" DeleteSubFolders="true"><m:FolderIds>'
                  f'{_dist("msgfolderroot")}</m:FolderIds></m:EmptyFolder>')
    assert codes(r) == ["ErrorCannotEmptyFolder"]


def test_move_and_copy_folder_trees():
    ctx = make_ctx(make_store())
    [(src_id, _)] = _folder_ids(_create(ctx, _dist("inbox"),
                                        "<t:Folder><t:DisplayName>Source</t:DisplayName></t:Folder>"))
    _create(ctx, f'<t:FolderId Id="{src_id}"/>', "<t:Folder><t:DisplayName>Child</t:DisplayName></t:Folder>")
    call(ctx, '<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId>'
              f'<t:FolderId Id="{src_id}"/></m:SavedItemFolderId><m:Items>{message_xml("inside")}</m:Items>'
              "</m:CreateItem>")
    copied = call(ctx, f'<m:CopyFolder><m:ToFolderId>{_dist("drafts")}</m:ToFolderId><m:FolderIds>'
                       f'<t:FolderId Id="{src_id}"/></m:FolderIds></m:CopyFolder>')
    assert codes(copied) == ["NoError"]
    [(copy_id, _)] = _folder_ids(copied)
    assert copy_id != src_id
    assert subjects(find_items(ctx, folder_xml=f'<t:FolderId Id="{copy_id}"/>')) == ["inside"]
    moved = call(ctx, f'<m:MoveFolder><m:ToFolderId>{_dist("sentitems")}</m:ToFolderId><m:FolderIds>'
                      f'<t:FolderId Id="{src_id}"/>{_dist("inbox")}<t:FolderId Id="{copy_id}"/>'
                      "</m:FolderIds></m:MoveFolder>")
    # The copy is also called 'Source': it cannot join the moved original under Sent Items
    assert codes(moved) == ["NoError", "ErrorMoveDistinguishedFolder", "ErrorFolderExists"]
    assert _folder_ids(moved)[0][0] == src_id  # a moved folder keeps its id
    into_itself = call(ctx, f'<m:MoveFolder><m:ToFolderId><t:FolderId Id="{src_id}"/></m:ToFolderId>'
                            f'<m:FolderIds><t:FolderId Id="{src_id}"/></m:FolderIds></m:MoveFolder>')
    assert codes(into_itself) == ["ErrorMoveCopyFailed"]
    deep = call(ctx, '<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape>'
                     f"</m:FolderShape><m:ParentFolderIds>{_dist('sentitems')}</m:ParentFolderIds></m:FindFolder>")
    assert [e.text for e in findall(deep, ".//t:DisplayName")] == ["Source", "Child"]
    assert subjects(find_items(ctx, folder_xml=f'<t:FolderId Id="{src_id}"/>')) == ["inside"]


def test_search_folder_shows_matching_items():
    ctx = make_ctx(make_store())
    create_items(ctx, message_xml("urgent: pay", importance="High") + message_xml("fyi"), folder="inbox")
    r = _create(ctx, _dist("searchfolders"),
                "<t:SearchFolder><t:DisplayName>Important</t:DisplayName><t:SearchParameters Traversal=\"Deep\">"
                '<t:Restriction><t:IsEqualTo><t:FieldURI FieldURI="item:Importance"/><t:FieldURIOrConstant>'
                '<t:Constant Value="High"/></t:FieldURIOrConstant></t:IsEqualTo></t:Restriction>'
                f'<t:BaseFolderIds>{_dist("msgfolderroot")}</t:BaseFolderIds></t:SearchParameters></t:SearchFolder>')
    assert codes(r) == ["NoError"]
    [(sf_id, _)] = _folder_ids(r)
    assert subjects(find_items(ctx, folder_xml=f'<t:FolderId Id="{sf_id}"/>')) == ["urgent: pay"]
    assert text(_get(ctx, f'<t:FolderId Id="{sf_id}"/>'), ".//t:TotalCount") == "1"


def test_counters_follow_reads_moves_and_deletes():
    store = make_store()
    ctx = make_ctx(store)
    bob = make_ctx(store, "bob@example.com")
    for i in range(3):
        create_items(ctx, message_xml(f"m{i}", to=["bob@example.com"]), disposition="SendOnly")
    got = find(_get(bob, _dist("inbox")), ".//t:Folder")
    assert (text(got, "t:TotalCount"), text(got, "t:UnreadCount")) == ("3", "3")
    r = find_items(bob, "inbox", shape="IdOnly")
    first = find(r, ".//t:ItemId")
    call(bob, '<m:UpdateItem ConflictResolution="AlwaysOverwrite" MessageDisposition="SaveOnly"><m:ItemChanges>'
              f'<t:ItemChange><t:ItemId Id="{first.get("Id")}"/><t:Updates><t:SetItemField>'
              '<t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message>'
              "</t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>")
    got = find(_get(bob, _dist("inbox")), ".//t:Folder")
    assert (text(got, "t:TotalCount"), text(got, "t:UnreadCount")) == ("3", "2")
    call(bob, f'<m:DeleteItem DeleteType="MoveToDeletedItems"><m:ItemIds><t:ItemId Id="{first.get("Id")}"/>'
              "</m:ItemIds></m:DeleteItem>")
    got = find(_get(bob, _dist("inbox") + _dist("deleteditems")), ".//m:ResponseMessages")
    assert [text(f, "t:TotalCount") for f in findall(got, ".//t:Folder")] == ["2", "1"]


def test_every_distinguished_folder_renders_valid_xml_with_all_properties():
    store = make_store(build=(15, 20, 5000, 0), archive=True)
    ctx = make_ctx(store, version="V2018_01_08")
    ids = "".join(_dist(n) for n in schema_tables.DISTINGUISHED_FOLDER_IDS)
    r = _get(ctx, ids, shape="AllProperties",  # call() validates the response against the schema
             additional='<t:FieldURI FieldURI="folder:PermissionSet"/>'
                        '<t:FieldURI FieldURI="folder:DistinguishedFolderId"/>'
                        '<t:FieldURI FieldURI="folder:SharingEffectiveRights"/>')
    assert codes(r).count("NoError") == len(schema_tables.DISTINGUISHED_FOLDER_IDS) - 1
    assert codes(r)[schema_tables.DISTINGUISHED_FOLDER_IDS.index("publicfoldersroot")] == \
        "ErrorNoPublicFolderReplicaAvailable"
    deep = call(ctx, '<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape>'
                     f'</m:FolderShape><m:ParentFolderIds>{_dist("root")}</m:ParentFolderIds></m:FindFolder>')
    names = [e.text for e in findall(deep, ".//t:DisplayName")]
    assert "Top of Information Store" in names and "Inbox" in names and "Recoverable Items" in names
