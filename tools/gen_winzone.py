#!/usr/bin/env python3
"""Generate exchangelib/winzone.py from CLDR's windowsZones.xml.

Usage (from the repository root)::

    python3 tools/gen_winzone.py [path/to/windowsZones.xml] [-o exchangelib/winzone.py]

The default input is ``tools/data/windowsZones.xml`` (CLDR's file, kept in the repository). With ``-o -`` the module
is written to stdout. The input carries a DOCTYPE; it is parsed without loading the DTD or touching the network.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Dict, List, Tuple

from lxml import etree

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_INPUT = os.path.join(REPO_ROOT, "tools", "data", "windowsZones.xml")
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, "exchangelib", "winzone.py")

# IANA names that CLDR does not list (newer canonical names, and backward-compatibility links) mapped to a name
# that CLDR does list. Facts from the IANA tz database's 'backward' file and its 2022-2024 renames.
IANA_ALIASES: Tuple[Tuple[str, str], ...] = (
    ("UTC", "Etc/UTC"),
    ("Etc/UCT", "Etc/UTC"),
    ("Etc/Universal", "Etc/UTC"),
    ("Etc/Zulu", "Etc/UTC"),
    ("UCT", "Etc/UTC"),
    ("Universal", "Etc/UTC"),
    ("Zulu", "Etc/UTC"),
    ("GMT", "Etc/GMT"),
    ("GMT+0", "Etc/GMT"),
    ("GMT-0", "Etc/GMT"),
    ("GMT0", "Etc/GMT"),
    ("Greenwich", "Etc/GMT"),
    ("Etc/GMT+0", "Etc/GMT"),
    ("Etc/GMT-0", "Etc/GMT"),
    ("Etc/GMT0", "Etc/GMT"),
    ("Etc/Greenwich", "Etc/GMT"),
    ("Africa/Asmara", "Africa/Asmera"),
    ("Africa/Timbuktu", "Africa/Bamako"),
    ("America/Argentina/Buenos_Aires", "America/Buenos_Aires"),
    ("America/Argentina/Catamarca", "America/Catamarca"),
    ("America/Argentina/ComodRivadavia", "America/Catamarca"),
    ("America/Argentina/Cordoba", "America/Cordoba"),
    ("America/Argentina/Jujuy", "America/Jujuy"),
    ("America/Argentina/Mendoza", "America/Mendoza"),
    ("America/Atikokan", "America/Coral_Harbour"),
    ("America/Atka", "America/Adak"),
    ("America/Ensenada", "America/Tijuana"),
    ("America/Fort_Wayne", "America/Indianapolis"),
    ("America/Indiana/Indianapolis", "America/Indianapolis"),
    ("America/Kentucky/Louisville", "America/Louisville"),
    ("America/Knox_IN", "America/Indiana/Knox"),
    ("America/Montreal", "America/Toronto"),
    ("America/Nipigon", "America/Toronto"),
    ("America/Nuuk", "America/Godthab"),
    ("America/Pangnirtung", "America/Iqaluit"),
    ("America/Porto_Acre", "America/Rio_Branco"),
    ("America/Rainy_River", "America/Winnipeg"),
    ("America/Rosario", "America/Cordoba"),
    ("America/Santa_Isabel", "America/Tijuana"),
    ("America/Shiprock", "America/Denver"),
    ("America/Thunder_Bay", "America/Toronto"),
    ("America/Virgin", "America/St_Thomas"),
    ("America/Yellowknife", "America/Edmonton"),
    ("Antarctica/South_Pole", "Antarctica/McMurdo"),
    ("Asia/Ashkhabad", "Asia/Ashgabat"),
    ("Asia/Choibalsan", "Asia/Ulaanbaatar"),
    ("Asia/Chongqing", "Asia/Shanghai"),
    ("Asia/Chungking", "Asia/Shanghai"),
    ("Asia/Dacca", "Asia/Dhaka"),
    ("Asia/Harbin", "Asia/Shanghai"),
    ("Asia/Ho_Chi_Minh", "Asia/Saigon"),
    ("Asia/Istanbul", "Europe/Istanbul"),
    ("Asia/Kashgar", "Asia/Urumqi"),
    ("Asia/Kathmandu", "Asia/Katmandu"),
    ("Asia/Kolkata", "Asia/Calcutta"),
    ("Asia/Macao", "Asia/Macau"),
    ("Asia/Tel_Aviv", "Asia/Jerusalem"),
    ("Asia/Thimbu", "Asia/Thimphu"),
    ("Asia/Ujung_Pandang", "Asia/Makassar"),
    ("Asia/Ulan_Bator", "Asia/Ulaanbaatar"),
    ("Asia/Yangon", "Asia/Rangoon"),
    ("Atlantic/Faroe", "Atlantic/Faeroe"),
    ("Atlantic/Jan_Mayen", "Arctic/Longyearbyen"),
    ("Australia/ACT", "Australia/Sydney"),
    ("Australia/Canberra", "Australia/Sydney"),
    ("Australia/Currie", "Australia/Hobart"),
    ("Australia/LHI", "Australia/Lord_Howe"),
    ("Australia/NSW", "Australia/Sydney"),
    ("Australia/North", "Australia/Darwin"),
    ("Australia/Queensland", "Australia/Brisbane"),
    ("Australia/South", "Australia/Adelaide"),
    ("Australia/Tasmania", "Australia/Hobart"),
    ("Australia/Victoria", "Australia/Melbourne"),
    ("Australia/West", "Australia/Perth"),
    ("Australia/Yancowinna", "Australia/Broken_Hill"),
    ("Brazil/Acre", "America/Rio_Branco"),
    ("Brazil/DeNoronha", "America/Noronha"),
    ("Brazil/East", "America/Sao_Paulo"),
    ("Brazil/West", "America/Manaus"),
    ("Canada/Atlantic", "America/Halifax"),
    ("Canada/Central", "America/Winnipeg"),
    ("Canada/Eastern", "America/Toronto"),
    ("Canada/Mountain", "America/Edmonton"),
    ("Canada/Newfoundland", "America/St_Johns"),
    ("Canada/Pacific", "America/Vancouver"),
    ("Canada/Saskatchewan", "America/Regina"),
    ("Canada/Yukon", "America/Whitehorse"),
    ("CET", "Europe/Brussels"),
    ("Chile/Continental", "America/Santiago"),
    ("Chile/EasterIsland", "Pacific/Easter"),
    ("CST6CDT", "America/Chicago"),
    ("Cuba", "America/Havana"),
    ("EET", "Europe/Athens"),
    ("Egypt", "Africa/Cairo"),
    ("Eire", "Europe/Dublin"),
    ("EST", "America/Panama"),
    ("EST5EDT", "America/New_York"),
    ("Europe/Belfast", "Europe/London"),
    ("Europe/Kyiv", "Europe/Kiev"),
    ("Europe/Nicosia", "Asia/Nicosia"),
    ("Europe/Tiraspol", "Europe/Chisinau"),
    ("Europe/Uzhgorod", "Europe/Kiev"),
    ("Europe/Zaporozhye", "Europe/Kiev"),
    ("GB", "Europe/London"),
    ("GB-Eire", "Europe/London"),
    ("Hongkong", "Asia/Hong_Kong"),
    ("HST", "Pacific/Honolulu"),
    ("Iceland", "Atlantic/Reykjavik"),
    ("Iran", "Asia/Tehran"),
    ("Israel", "Asia/Jerusalem"),
    ("Jamaica", "America/Jamaica"),
    ("Japan", "Asia/Tokyo"),
    ("Kwajalein", "Pacific/Kwajalein"),
    ("Libya", "Africa/Tripoli"),
    ("MET", "Europe/Brussels"),
    ("Mexico/BajaNorte", "America/Tijuana"),
    ("Mexico/BajaSur", "America/Mazatlan"),
    ("Mexico/General", "America/Mexico_City"),
    ("MST", "America/Phoenix"),
    ("MST7MDT", "America/Denver"),
    ("Navajo", "America/Denver"),
    ("NZ", "Pacific/Auckland"),
    ("NZ-CHAT", "Pacific/Chatham"),
    ("Pacific/Chuuk", "Pacific/Truk"),
    ("Pacific/Johnston", "Pacific/Honolulu"),
    ("Pacific/Kanton", "Pacific/Enderbury"),
    ("Pacific/Pohnpei", "Pacific/Ponape"),
    ("Pacific/Samoa", "Pacific/Pago_Pago"),
    ("Pacific/Yap", "Pacific/Truk"),
    ("Poland", "Europe/Warsaw"),
    ("Portugal", "Europe/Lisbon"),
    ("PRC", "Asia/Shanghai"),
    ("PST8PDT", "America/Los_Angeles"),
    ("ROC", "Asia/Taipei"),
    ("ROK", "Asia/Seoul"),
    ("Singapore", "Asia/Singapore"),
    ("Turkey", "Europe/Istanbul"),
    ("US/Alaska", "America/Anchorage"),
    ("US/Aleutian", "America/Adak"),
    ("US/Arizona", "America/Phoenix"),
    ("US/Central", "America/Chicago"),
    ("US/East-Indiana", "America/Indianapolis"),
    ("US/Eastern", "America/New_York"),
    ("US/Hawaii", "Pacific/Honolulu"),
    ("US/Indiana-Starke", "America/Indiana/Knox"),
    ("US/Michigan", "America/Detroit"),
    ("US/Mountain", "America/Denver"),
    ("US/Pacific", "America/Los_Angeles"),
    ("US/Samoa", "Pacific/Pago_Pago"),
    ("W-SU", "Europe/Moscow"),
    ("WET", "Europe/Lisbon"),
)

# Windows ids that Exchange's GetServerTimeZones still lists (Windows keeps them as "- Old" zones) but CLDR
# dropped: (Windows id, IANA zone with the same offsets today, Windows display name). They map to IANA
# only one way: the IANA zones keep their CLDR Windows ids.
WINDOWS_ONLY_ZONES: Tuple[Tuple[str, str, str], ...] = (
    ("Mid-Atlantic Standard Time", "Etc/GMT+2", "(UTC-02:00) Mid-Atlantic - Old"),
    ("Kamchatka Standard Time", "Asia/Kamchatka", "(UTC+12:00) Petropavlovsk-Kamchatsky - Old"),
)

_DISPLAY_NAME_RE = re.compile(r"^\((UTC|GMT)([+-]\d\d:\d\d)?\) ")


def read_table(path: str) -> Tuple[Dict[str, str], Dict[str, str], Dict[str, str]]:
    """Return (ms_to_iana, iana_to_ms, display_names) read from a windowsZones.xml file."""
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False, dtd_validation=False,
                             remove_comments=False)
    with open(path, "rb") as f:
        root = etree.parse(f, parser).getroot()
    map_timezones = root.find("windowsZones/mapTimezones")
    if map_timezones is None:
        raise ValueError(f"{path}: no windowsZones/mapTimezones element")
    ms_to_iana: Dict[str, str] = {}
    iana_to_ms: Dict[str, str] = {}
    display_names: Dict[str, str] = {}
    pending_display_name = None
    for node in map_timezones:
        if isinstance(node, etree._Comment):
            text = " ".join((node.text or "").split())
            # Only comments of the form '(UTC+01:00) Amsterdam, ...' are display names; others are notes.
            if _DISPLAY_NAME_RE.match(text):
                pending_display_name = text
            continue
        if node.tag != "mapZone":
            continue
        ms_id, territory, types = node.get("other"), node.get("territory"), node.get("type", "").split()
        if not ms_id or not types:
            raise ValueError(f"{path}: malformed mapZone row on line {node.sourceline}")
        if pending_display_name is not None:
            if ms_id in display_names:
                raise ValueError(f"{path}: second display name for {ms_id!r} on line {node.sourceline}")
            display_names[ms_id] = pending_display_name
            pending_display_name = None
        if territory == "001":
            ms_to_iana[ms_id] = types[0]
        for name in types:
            previous = iana_to_ms.setdefault(name, ms_id)
            if previous != ms_id:
                raise ValueError(f"{path}: {name!r} maps to both {previous!r} and {ms_id!r}")
    missing = sorted(set(iana_to_ms.values()) - set(ms_to_iana))
    if missing:
        raise ValueError(f"{path}: Windows zones without a territory='001' row: {missing}")
    for alias, target in IANA_ALIASES:
        if alias in iana_to_ms:
            continue  # CLDR lists it itself; its mapping wins
        if target not in iana_to_ms:
            raise ValueError(f"Alias target {target!r} (for {alias!r}) is not in {path}")
        iana_to_ms[alias] = iana_to_ms[target]
    for ms_id, iana, display in WINDOWS_ONLY_ZONES:
        if ms_id in ms_to_iana:
            continue  # CLDR lists it again; its mapping wins
        if iana not in iana_to_ms:
            raise ValueError(f"{iana!r} (for the Windows-only zone {ms_id!r}) is not in {path}")
        ms_to_iana[ms_id] = iana
        display_names[ms_id] = display
    return ms_to_iana, iana_to_ms, display_names


def _dict_source(name: str, comment: str, data: Dict[str, str]) -> List[str]:
    lines = [f"# {comment}", f"{name}: Dict[str, str] = {{"]
    lines.extend(f"    {k!r}: {v!r}," for k, v in data.items())
    lines.append("}")
    return lines


def render(ms_to_iana: Dict[str, str], iana_to_ms: Dict[str, str], display_names: Dict[str, str],
           source_name: str) -> str:
    """Render the generated module as text."""
    lines = [
        '"""Windows <-> IANA time zone tables.',
        "",
        f"GENERATED FILE, DO NOT EDIT. Generated by tools/gen_winzone.py from CLDR's {source_name}.",
        "Regenerate with: python3 tools/gen_winzone.py",
        '"""',
        "from __future__ import annotations",
        "",
        "from typing import Dict",
        "",
        "",
    ]
    lines += _dict_source("MS_TO_IANA", "Windows time zone id -> canonical IANA name (CLDR territory '001').",
                          ms_to_iana)
    lines += ["", ""]
    lines += _dict_source("IANA_TO_MS", "IANA name (including well-known aliases) -> Windows time zone id.",
                          iana_to_ms)
    lines += ["", ""]
    lines += _dict_source("MS_DISPLAY_NAMES", "Windows time zone id -> Windows display name.", display_names)
    lines += ["", "# exchangelib 5.x's name for MS_TO_IANA.", "MS_TIMEZONE_TO_IANA_MAP = MS_TO_IANA"]
    return "\n".join(lines) + "\n"


def generate(path: str = DEFAULT_INPUT) -> str:
    """Read ``path`` and return the text of the generated module."""
    return render(*read_table(path), source_name=os.path.basename(path))


def main(argv: List[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default=DEFAULT_INPUT, help="path to windowsZones.xml")
    ap.add_argument("-o", "--output", default=DEFAULT_OUTPUT, help="output module path, or '-' for stdout")
    args = ap.parse_args(argv)
    text = generate(args.input)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
