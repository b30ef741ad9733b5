"""Full-fidelity migration: a mailbox with rules, delegates, permissions, categories (user configuration) and an
archive is backed up from one local server and restored into another; everything compared field by field."""
from __future__ import annotations

import pytest

from exchangelib import Folder, Message, SearchFolder
from exchangelib.backup import backup_mailbox, restore_mailbox
from exchangelib.backup_settings import read_address_map
from exchangelib.properties import Actions, Conditions, Exceptions, Rule
from exchangelib.properties.permissions import DelegatePermissions, DelegateUser, Permission, UserId
from exchangelib.services import FindFolder
from exchangelib.testing.users import User
from exchangelib.xml import TNS

CATEGORIES = b'<categories default="Red"><category name="Boss" color="0"/><category name="Invoices" color="7"/>' \
             b'</categories>'


def _mailbox(server, address="mig@example.com", archive=True):
    user = User("mig", "Mig-pw-1", address, "Migrating User")
    server.store.add_mailbox(address, user.display_name, archive=archive)
    server.users.add(user)
    return server.account(address)


def _seed(source):
    projects = Folder(parent=source.inbox, name="Projects").save()
    Message(account=source, folder=projects, subject="plan", body="the plan").save()
    Message(account=source, folder=source.archive_inbox, subject="old news", body="2019").save()
    source.create_rule(Rule(display_name="Invoices", priority=1,
                            conditions=Conditions(contains_subject_strings=["invoice"],
                                                  from_addresses=["mary@example.com"]),
                            exceptions=Exceptions(contains_body_strings=["draft"]),
                            actions=Actions(move_to_folder=projects, assign_categories=["Invoices"],
                                            stop_processing_rules=True)))
    source.create_rule(Rule(display_name="Copy boss", priority=2, is_enabled=False,
                            conditions=Conditions(from_addresses=["john@example.com"]),
                            actions=Actions(forward_to_recipients=["mary@example.com"], mark_importance="High")))
    source.add_delegate(DelegateUser(user_id="mary@example.com", receive_copies_of_meeting_messages=True,
                                     view_private_items=False,
                                     delegate_permissions=DelegatePermissions(calendar_folder_permission_level="Editor",
                                                                              tasks_folder_permission_level="Reviewer")),
                        deliver_meeting_requests="DelegatesAndMe")
    projects.refresh()
    projects.permission_set.permissions.append(Permission(user_id=UserId(primary_smtp_address="john@example.com"),
                                                          permission_level="Author"))
    projects.save(update_fields=["permission_set"])
    source.calendar.create_user_configuration("CategoryList", xml_data=CATEGORIES)
    source.root.create_user_configuration("OWA.UserOptions", dictionary={"timeformat": "HH:mm", "weekstart": 1,
                                                                          "showpreview": True})
    # a search folder as Outlook makes one: items of Projects whose subject contains "plan"
    params = (f'<t:SearchParameters xmlns:t="{TNS}" Traversal="Shallow"><t:Restriction>'
              f'<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase">'
              f'<t:FieldURI FieldURI="item:Subject"/><t:Constant Value="plan"/></t:Contains></t:Restriction>'
              f'<t:BaseFolderIds><t:FolderId Id="{projects.id}"/></t:BaseFolderIds></t:SearchParameters>')
    SearchFolder(parent=source.search_folders, name="Plans", search_parameters=params).save()


def _snapshot(account):
    """Everything a migration must carry, as plain comparable values (ids and folder ids left out)."""
    rules = []
    for r in account.rules:
        actions = r.actions
        move = actions.move_to_folder
        move_name = None
        if move is not None:
            move_name = [f.name for f in account.inbox.children if f.id == move.folder_id.id]
        rules.append((r.display_name, r.priority, r.is_enabled, r.conditions, r.exceptions,
                      actions.assign_categories, actions.forward_to_recipients, actions.mark_importance,
                      actions.stop_processing_rules, move_name))
    delegates = [(d.user_id.primary_smtp_address, d.delegate_permissions, d.receive_copies_of_meeting_messages,
                  d.view_private_items) for d in account.delegates]
    projects = account.inbox / "Projects"
    projects.refresh()
    calendar = account.calendar.refresh()

    def perms(ps):
        return sorted((p.user_id.primary_smtp_address or p.user_id.distinguished_user, p.level, p.read_items,
                       p.edit_items, p.delete_items, p.can_create_items) for p in ps.entries())

    return {
        "rules": rules,
        "delegates": delegates,
        "deliver": account.deliver_meeting_requests,
        "projects_permissions": perms(projects.permission_set),
        "calendar_permissions": perms(calendar.permission_set),
        "categories": account.calendar.get_user_configuration("CategoryList").xml_data,
        "owa": account.root.get_user_configuration("OWA.UserOptions").dictionary,
        "projects_items": sorted(m.subject for m in projects.all()),
        "archive_items": sorted(m.subject for m in account.archive_inbox.all()),
        "search_folders": sorted((f.name, sorted(m.subject for m in f.all()))
                                 for f in FindFolder(account=account).call(account.search_folders)
                                 if isinstance(f, SearchFolder) and f.search_parameters),
    }


def test_backup_and_restore_carry_everything_and_restore_twice_adds_nothing(make_exchange, tmp_path):
    source_server, target_server = make_exchange(), make_exchange()
    source, target = _mailbox(source_server), _mailbox(target_server)
    _seed(source)
    expected = _snapshot(source)
    assert expected["rules"][0][-1] == ["Projects"] and expected["delegates"]  # the seed took
    assert expected["search_folders"] == [("Plans", ["plan"])]

    backed = backup_mailbox(source, tmp_path / "bk")
    assert backed.settings_saved and backed.archive is not None and backed.archive.items == 1
    restored = restore_mailbox(target, tmp_path / "bk")
    assert restored.failed == 0 and restored.settings is not None, restored.errors
    assert restored.settings.unmapped == [] and restored.errors == []
    assert (restored.settings.rules_created, restored.settings.delegates_added) == (2, 1)
    assert restored.settings.search_folders == 1
    assert restored.archive is not None and restored.archive.uploaded == 1
    assert _snapshot(target) == expected

    again = restore_mailbox(target, tmp_path / "bk")
    assert (again.settings.rules_created, again.settings.rules_updated) == (0, 2)
    assert (again.settings.delegates_added, again.settings.delegates_updated) == (0, 1)
    assert again.uploaded == 0 and again.skipped >= 1 and again.settings.search_folders == 0
    assert _snapshot(target) == expected  # nothing duplicated


def test_address_map_and_unmapped_addresses_are_reported(make_exchange, tmp_path):
    source_server, target_server = make_exchange(), make_exchange()
    source = _mailbox(source_server, archive=False)
    target = _mailbox(target_server, archive=False)
    source_server.add_user(User("temp", "Temp-pw-1", "temp@example.com", "Only On The Source"))
    source.create_rule(Rule(display_name="fwd", actions=Actions(forward_to_recipients=["mary@example.com"])))
    source.add_delegate([DelegateUser(user_id="mary@example.com",
                                      delegate_permissions=DelegatePermissions(calendar_folder_permission_level="Reviewer")),
                         DelegateUser(user_id="temp@example.com",
                                      delegate_permissions=DelegatePermissions(inbox_folder_permission_level="Editor"))])
    backup_mailbox(source, tmp_path / "bk")
    mapping = tmp_path / "map.txt"
    mapping.write_text("# moves\nmary@example.com = john@example.com\n")
    restored = restore_mailbox(target, tmp_path / "bk", address_map=read_address_map(str(mapping)))
    (rule,) = target.rules
    assert [a.email_address for a in rule.actions.forward_to_recipients] == ["john@example.com"]
    assert [d.user_id.primary_smtp_address for d in target.delegates] == ["john@example.com"]
    assert target.calendar.refresh().permission_set.get("john@example.com").calendar_permission_level == "Reviewer"
    # the user the target doesn't have is reported (from the inbox permissions and the delegates), not dropped silently
    assert restored.settings.unmapped == ["temp@example.com"]
    assert "not mapped: temp@example.com" in restored.summary()
    assert target.inbox.refresh().permission_set.get("temp@example.com") is None


def test_restoring_an_archive_into_a_mailbox_without_one_says_so(make_exchange, tmp_path):
    source_server, target_server = make_exchange(), make_exchange()
    source = _mailbox(source_server)
    Message(account=source, folder=source.archive_inbox, subject="kept").save()
    backup_mailbox(source, tmp_path / "bk")
    target = _mailbox(target_server, archive=False)
    stats = restore_mailbox(target, tmp_path / "bk")
    assert stats.archive is None
    assert any("no archive" in e for e in stats.errors)


def test_map_file_errors(tmp_path):
    bad = tmp_path / "map.txt"
    bad.write_text("mary@example.com john@example.com\n")
    with pytest.raises(ValueError, match="map.txt:1"):
        read_address_map(str(bad))


def test_command_line_restore_with_an_address_map(tmp_path):
    from tests.test_backup import cli_env, run_cli
    env = cli_env()
    assert run_cli("backup", str(tmp_path / "bk"), env=env).returncode == 0
    assert (tmp_path / "bk" / "settings.json").is_file()
    mapping = tmp_path / "map.txt"
    mapping.write_text("mary@example.com=ewsadmin@example.com\n")
    res = run_cli("restore", "--map", str(mapping), str(tmp_path / "bk"), env=env)
    assert res.returncode == 0, res.stderr
    assert "settings: rules 1 created" in res.stdout and "1 user configurations" in res.stdout
    bad = run_cli("restore", "--map", str(tmp_path / "missing.txt"), str(tmp_path / "bk"), env=env)
    assert bad.returncode == 2 and "missing.txt" in bad.stderr
