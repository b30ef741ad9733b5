"""Mailbox settings in a backup: Inbox rules, delegates, folder permissions, user configurations and the
definitions of the search folders users made (in Finder; their base folders are mapped on restore).

:func:`exchangelib.backup.backup_mailbox` saves them in ``OUTDIR/settings.json`` after the items;
:func:`exchangelib.backup.restore_mailbox` re-creates them in the target mailbox after the items. Each
value is kept as the EWS XML of its typed model (``Rule``, ``DelegateUser``, ``PermissionSet``,
``UserConfiguration``), so nothing the models know is lost.

Restoring is idempotent: rules are matched by display name (and replaced), delegates by user (updated),
permission sets are written whole, user configurations are updated when they exist. Addresses (rule
conditions and actions, delegates, permission entries) go through an optional address map, for a move
to another domain; whatever the target server refuses (a user it doesn't know) is reported in
:attr:`SettingsRestoreStats.unmapped`, never silently dropped. Folder references in rules (move/copy
actions) are mapped onto the restored folders.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional

from lxml import etree

from .errors import ErrorItemNotFound, EWSError
from .folders import Folder
from .properties.ids import FolderId
from .properties.permissions import DelegateUser, PermissionSet
from .properties.rules import Actions, Address, Conditions, CopyToFolder, Rule
from .properties.user_configuration import UserConfiguration
from .folders import SearchFolder
from .services import CreateFolder, FindFolder, GetFolder
from .services.delegates import GetDelegate
from .services.shapes import ALL_PROPERTIES, ID_ONLY
from .xml import TNS, parse

log = logging.getLogger(__name__)

SETTINGS = "settings.json"
SETTINGS_FORMAT = 1
# Key of the mailbox root's user configurations (the root is not part of the backed-up folder tree)
ROOT_KEY = "@root"
_T = f"{{{TNS}}}"


def _xml(elem: Any) -> str:
    return etree.tostring(elem, encoding="unicode")


def _elem(text: str) -> Any:
    return parse(text.encode("utf-8"))


def read_address_map(path: str) -> Dict[str, str]:
    """Read ``old@example.com=new@example.org`` lines (blank lines and ``#`` comments are ignored)."""
    out: Dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            old, sep, new = line.partition("=")
            if not sep or "@" not in old or "@" not in new:
                raise ValueError(f"{path}:{n}: expected old@domain=new@domain, got {line!r}")
            out[old.strip().lower()] = new.strip()
    return out


# --- backup ----------------------------------------------------------------------------------------------
def collect_settings(account: Any, folder_ids: Iterable[str], mailbox_settings: bool = True) -> Dict[str, Any]:
    """Read the settings of a mailbox (rules, delegates: only with ``mailbox_settings``) and of the folders."""
    version = account.version
    out: Dict[str, Any] = {"format": SETTINGS_FORMAT, "mailbox": account.primary_smtp_address}
    if mailbox_settings:
        out["rules"] = [_xml(r.to_xml(version)) for r in account.rules]
        delegates, deliver = GetDelegate(account=account).call(include_permissions=True)
        out["delegates"] = [_xml(d.to_xml(version)) for d in delegates if isinstance(d, DelegateUser)]
        out["deliver_meeting_requests"] = deliver
    ids = list(folder_ids)
    permissions: Dict[str, str] = {}
    configurations: Dict[str, Dict[str, str]] = {}
    folders = _fetch_folders(account, ids)
    pairs = list(zip(ids, folders))
    if mailbox_settings:  # the root holds mailbox-wide configurations (OWA's options...) outside the backup tree
        pairs.append((ROOT_KEY, account.root))
    for fid, folder in pairs:
        if isinstance(folder, Exception) or folder is None:
            log.warning("Could not read the settings of folder %s: %s", fid, folder)
            continue
        ps = getattr(folder, "permission_set", None)
        if ps is not None and fid != ROOT_KEY:
            permissions[fid] = _xml(ps.to_xml(version))
        try:
            names = folder.user_configuration_names()
        except EWSError as e:
            log.warning("Could not list the user configurations of folder %s: %s", fid, e)
            continue
        for name in names:
            conf = folder.get_user_configuration(name)
            holder = etree.Element(f"{_T}UserConfiguration")
            conf.fill_xml(holder, etree.Element(f"{_T}UserConfigurationName", Name=name))
            configurations.setdefault(fid, {})[name] = _xml(holder)
    out["permissions"] = permissions
    out["user_configurations"] = configurations
    if mailbox_settings:
        out["search_folders"] = _search_folders(account)
    return out


def _search_folders(account: Any) -> List[Dict[str, Any]]:
    """Definitions of the search folders users made (in Finder; the well-known ones are left out)."""
    out = []
    finder = account.search_folders
    for f in FindFolder(account=account).call(finder, shape=ALL_PROPERTIES):
        params = getattr(f, "search_parameters", None)
        if not isinstance(f, SearchFolder) or not params or getattr(f, "distinguished_folder_id", None):
            continue
        out.append({"name": f.name, "folder_class": f.folder_class, "parameters": params})
    return out


def _fetch_folders(account: Any, ids: List[str]) -> List[Any]:
    if not ids:
        return []
    field_ = Folder.FIELDS["permission_set"]
    objs = [Folder(account=account, folder_id=fid) for fid in ids]
    return list(GetFolder(account=account).call(objs, shape=ID_ONLY, additional_fields=[field_]))


def read_settings(data: Optional[bytes]) -> Optional[Dict[str, Any]]:
    """The settings document from the bytes of ``settings.json`` (None: the backup has none)."""
    if data is None:
        return None
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("format") != SETTINGS_FORMAT:
        raise ValueError(f"{SETTINGS} is not a settings file of this version")
    return doc


# --- restore ---------------------------------------------------------------------------------------------
@dataclass
class SettingsRestoreStats:
    """What restoring the settings did."""

    search_folders: int = 0
    rules_created: int = 0
    rules_updated: int = 0
    delegates_added: int = 0
    delegates_updated: int = 0
    permission_sets: int = 0
    user_configurations: int = 0
    unmapped: List[str] = field(default_factory=list)   # addresses/folders the target couldn't take
    errors: List[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"rules {self.rules_created} created/{self.rules_updated} updated, delegates {self.delegates_added} "
                f"added/{self.delegates_updated} updated, {self.permission_sets} permission sets, "
                f"{self.user_configurations} user configurations, {self.search_folders} search folders")
        if self.unmapped:
            text += f"; not mapped: {', '.join(sorted(set(self.unmapped)))}"
        return text


class _Restorer:
    def __init__(self, account: Any, folder_map: Dict[str, Any], address_map: Optional[Dict[str, str]]):
        self.account = account
        self.folder_map = folder_map
        self.address_map = {k.lower(): v for k, v in (address_map or {}).items()}
        self.stats = SettingsRestoreStats()

    def address(self, value: Optional[str]) -> Optional[str]:
        if not value:
            return value
        return self.address_map.get(value.lower(), value)

    def unmapped(self, what: str) -> None:
        if what not in self.stats.unmapped:
            self.stats.unmapped.append(what)

    # -- permissions --
    def permissions(self, permissions: Dict[str, str]) -> None:
        for fid, text in permissions.items():
            target = self.folder_map.get(fid)
            if target is None:
                continue
            ps = PermissionSet.from_xml(_elem(text))
            entries = ps.calendar_permissions or ps.permissions or []
            for p in entries:
                uid = p.user_id
                if uid is not None and uid.primary_smtp_address:
                    uid.primary_smtp_address = self.address(uid.primary_smtp_address)
                    uid.sid = None
                    uid.display_name = None
            ps.__dict__.pop("unknown_entries", None)  # users the source could no longer resolve
            self._save_permissions(target, ps, entries)

    def _save_permissions(self, target: Any, ps: PermissionSet, entries: List[Any]) -> None:
        folder = type(target)(account=self.account, folder_id=target.id)
        folder.permission_set = ps
        try:
            folder.save(update_fields=["permission_set"])
            self.stats.permission_sets += 1
            return
        except EWSError as e:
            first_error = e
        # Find the entries the target refuses (users it doesn't know), report them, save the rest.
        kept = [p for p in entries if p.user_id is None or not p.user_id.primary_smtp_address]
        for p in entries:
            if p in kept:
                continue
            trial = PermissionSet(**{_kind(ps): kept + [p]})
            folder.permission_set = trial
            try:
                folder.save(update_fields=["permission_set"])
                kept.append(p)
            except EWSError:
                self.unmapped(p.user_id.primary_smtp_address)
        folder.permission_set = PermissionSet(**{_kind(ps): kept})
        try:
            folder.save(update_fields=["permission_set"])
            self.stats.permission_sets += 1
        except EWSError as e:
            self.stats.errors.append(f"permissions of {target.name!r}: {first_error}; {e}")

    # -- delegates --
    def delegates(self, delegates: List[str], deliver: Optional[str]) -> None:
        existing, _ = GetDelegate(account=self.account).call(include_permissions=False)
        have = {d.user_id.primary_smtp_address.lower() for d in existing if isinstance(d, DelegateUser)}
        for text in delegates:
            d = DelegateUser.from_xml(_elem(text))
            address = self.address(d.user_id.primary_smtp_address)
            d.user_id = address
            if address and address.lower() in have:
                (res,) = self.account.update_delegate(d)
                counter = "delegates_updated"
            else:
                (res,) = self.account.add_delegate(d)
                counter = "delegates_added"
            if isinstance(res, Exception):
                if type(res).__name__ in ("ErrorDelegateNoUser", "ErrorInvalidUserInfo", "ErrorNotDelegate"):
                    self.unmapped(address or "?")
                else:
                    self.stats.errors.append(f"delegate {address}: {res}")
                continue
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        if deliver:
            try:
                self.account.deliver_meeting_requests = deliver
            except EWSError as e:
                self.stats.errors.append(f"DeliverMeetingRequests: {e}")

    # -- rules --
    def rules(self, rules: List[str]) -> None:
        existing = {r.display_name: r for r in self.account.rules}
        parsed = sorted((Rule.from_xml(_elem(t)) for t in rules), key=lambda r: r.priority or 0)
        for rule in parsed:
            for name in ("id", "is_not_supported", "is_in_error"):
                rule.__dict__.pop(name, None)
            if not self._map_rule(rule):
                continue
            old = existing.get(rule.display_name)
            try:
                if old is not None:
                    rule._set_field("id", old.id)
                    self.account.set_rule(rule)
                    self.stats.rules_updated += 1
                else:
                    self.account.create_rule(rule)
                    self.stats.rules_created += 1
            except EWSError as e:
                self.stats.errors.append(f"rule {rule.display_name!r}: {e}")

    def _map_rule(self, rule: Rule) -> bool:
        for part in (rule.conditions, rule.exceptions):
            if isinstance(part, Conditions):
                for name in ("from_addresses", "sent_to_addresses"):
                    self._map_addresses(part, name)
        actions = rule.actions
        if isinstance(actions, Actions):
            for name in ("forward_as_attachment_to_recipients", "forward_to_recipients", "redirect_to_recipients",
                         "send_sms_alert_to_recipients"):
                self._map_addresses(actions, name)
            for name in ("copy_to_folder", "move_to_folder"):
                target = getattr(actions, name)
                if isinstance(target, CopyToFolder) and target.folder_id is not None:
                    mapped = self.folder_map.get(target.folder_id.id)
                    if mapped is None:
                        self.unmapped(f"folder of rule {rule.display_name!r}")
                        return False
                    target.folder_id = FolderId(id=mapped.id)
        return True

    def _map_addresses(self, obj: Any, name: str) -> None:
        values = getattr(obj, name)
        if values:
            setattr(obj, name, [Address(name=a.name, email_address=self.address(a.email_address)) for a in values])

    # -- search folders --
    def search_folders(self, definitions: List[Dict[str, Any]]) -> None:
        finder = self.account.search_folders
        have = {f.name for f in FindFolder(account=self.account).call(finder, shape=ID_ONLY,
                                                                      additional_fields=[Folder.FIELDS["name"]])}
        for d in definitions:
            name = d.get("name")
            if not name or name in have:
                continue
            params = _elem(d["parameters"])
            unmapped = False
            for fid in params.iter(f"{_T}FolderId"):
                target = self.folder_map.get(fid.get("Id"))
                if target is None:
                    unmapped = True
                    break
                fid.set("Id", target.id)
                fid.attrib.pop("ChangeKey", None)
            if unmapped:
                self.unmapped(f"folders of search folder {name!r}")
                continue
            new = SearchFolder(name=name, search_parameters=_xml(params))
            if d.get("folder_class"):
                new.folder_class = d["folder_class"]
            res = next(CreateFolder(account=self.account).call(finder, [new]))
            if isinstance(res, Exception):
                self.stats.errors.append(f"search folder {name!r}: {res}")
                continue
            self.stats.search_folders += 1

    # -- user configurations --
    def user_configurations(self, configurations: Dict[str, Dict[str, str]]) -> None:
        for fid, by_name in configurations.items():
            target = self.account.root if fid == ROOT_KEY else self.folder_map.get(fid)
            if target is None:
                continue
            for name, text in by_name.items():
                conf = UserConfiguration.from_xml(_elem(text))
                kwargs = dict(dictionary=conf.dictionary, xml_data=conf.xml_data, binary_data=conf.binary_data)
                try:
                    try:
                        target.update_user_configuration(name, **kwargs)
                    except ErrorItemNotFound:
                        target.create_user_configuration(name, **kwargs)
                    self.stats.user_configurations += 1
                except EWSError as e:
                    self.stats.errors.append(f"user configuration {name!r}: {e}")


def _kind(ps: PermissionSet) -> str:
    return "calendar_permissions" if ps.calendar_permissions else "permissions"


def restore_settings(account: Any, settings: Dict[str, Any], folder_map: Dict[str, Any],
                     address_map: Optional[Dict[str, str]] = None) -> SettingsRestoreStats:
    """Re-create backed-up settings in ``account``'s mailbox; ``folder_map``: backed-up folder id -> target
    folder. Safe to run again: nothing is duplicated."""
    r = _Restorer(account, folder_map, address_map)
    r.permissions(settings.get("permissions") or {})
    if "delegates" in settings:
        r.delegates(settings.get("delegates") or [], settings.get("deliver_meeting_requests"))
    if "rules" in settings:
        r.rules(settings.get("rules") or [])
    r.user_configurations(settings.get("user_configurations") or {})
    r.search_folders(settings.get("search_folders") or [])
    return r.stats


__all__ = ["SETTINGS", "collect_settings", "restore_settings", "SettingsRestoreStats", "read_address_map",
           "read_settings"]
