"""The generated Windows <-> IANA table: up to date with CLDR's windowsZones.xml and internally consistent."""
from __future__ import annotations

import os
import subprocess
import sys
import zoneinfo

import pytest

from exchangelib import winzone
from exchangelib.winzone import IANA_TO_MS, MS_DISPLAY_NAMES, MS_TO_IANA

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(REPO, "tools", "data", "windowsZones.xml")
GENERATOR = os.path.join(REPO, "tools", "gen_winzone.py")


def _load_generator():
    sys.path.insert(0, os.path.join(REPO, "tools"))
    try:
        import gen_winzone
    finally:
        sys.path.pop(0)
    return gen_winzone


@pytest.fixture(scope="module")
def source():
    return SOURCE


def test_committed_module_is_up_to_date(source):
    with open(winzone.__file__, encoding="utf-8") as f:
        committed = f.read()
    assert _load_generator().generate(source) == committed, "run: python3 tools/gen_winzone.py"


def test_generator_cli_writes_module(source, tmp_path):
    out = tmp_path / "winzone.py"
    subprocess.run([sys.executable, GENERATOR, source, "-o", str(out)], check=True, timeout=60)
    text = out.read_text(encoding="utf-8")
    assert text.startswith('"""Windows <-> IANA time zone tables.')
    assert "GENERATED FILE" in text and "tools/gen_winzone.py" in text
    namespace: dict = {}
    exec(compile(text, str(out), "exec"), namespace)
    assert namespace["MS_TO_IANA"] == MS_TO_IANA


def test_generator_refuses_broken_input(tmp_path):
    bad = tmp_path / "windowsZones.xml"
    bad.write_text('<supplementalData><windowsZones><mapTimezones>'
                   '<mapZone other="X Standard Time" territory="DE" type="Europe/Berlin"/>'
                   '</mapTimezones></windowsZones></supplementalData>')
    with pytest.raises(ValueError, match="001"):
        _load_generator().generate(str(bad))


def test_known_mappings():
    assert MS_TO_IANA["W. Europe Standard Time"] == "Europe/Berlin"
    assert MS_TO_IANA["Romance Standard Time"] == "Europe/Paris"
    assert MS_TO_IANA["Eastern Standard Time"] == "America/New_York"
    assert MS_TO_IANA["UTC"] == "Etc/UTC"
    assert IANA_TO_MS["Europe/Copenhagen"] == "Romance Standard Time"
    assert IANA_TO_MS["America/Detroit"] == "Eastern Standard Time"  # from a space-separated list
    assert IANA_TO_MS["UTC"] == "UTC" and IANA_TO_MS["Etc/UTC"] == "UTC"
    assert IANA_TO_MS["Europe/Kiev"] == IANA_TO_MS["Europe/Kyiv"] == "FLE Standard Time"
    assert MS_DISPLAY_NAMES["W. Europe Standard Time"] == "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"
    assert MS_DISPLAY_NAMES["UTC"] == "(UTC) Coordinated Universal Time"
    # The CLDR note about Kazakhstan is a comment but not a display name
    assert not any("Microsoft may" in v for v in MS_DISPLAY_NAMES.values())


def test_tables_are_consistent():
    # Windows-only ids (old zones Exchange still lists) map to an IANA zone that keeps its own Windows id.
    windows_only = {"Mid-Atlantic Standard Time", "Kamchatka Standard Time"}
    assert set(MS_DISPLAY_NAMES) == set(MS_TO_IANA)
    assert set(IANA_TO_MS.values()) == set(MS_TO_IANA) - windows_only
    for ms_id, iana in MS_TO_IANA.items():
        assert IANA_TO_MS[iana] == ms_id or ms_id in windows_only
    for display in MS_DISPLAY_NAMES.values():
        assert display.startswith("(UTC")


def test_every_iana_name_loads():
    available = zoneinfo.available_timezones()
    missing = sorted(k for k in IANA_TO_MS if k not in available)
    assert not missing, missing
