"""The profile's timezone and report.thai_era keys: validated, with file:line and the fix."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.catalog.profile import load_profile
from secaudit.core.errors import ConfigError
from secaudit.core.profile import Profile
from tests.catalog.test_profile import BASE, NOW
from tests.conftest import DEMO_PROFILE


def _load(tmp_path: Path, text: str) -> Profile:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return load_profile(path, now=NOW)


def test_default_is_utc_and_gregorian(tmp_path: Path) -> None:
    profile = _load(tmp_path, BASE)
    assert profile.timezone == "UTC"
    assert profile.report.thai_era == "gregorian"
    assert profile.authorization.valid_from == datetime(2026, 1, 1, tzinfo=UTC)


def test_dates_without_a_time_are_days_in_the_profile_zone(tmp_path: Path) -> None:
    profile = _load(tmp_path, "timezone: Asia/Bangkok\n" + BASE)
    auth = profile.authorization
    assert profile.timezone == "Asia/Bangkok"
    # 2026-01-01 00:00 in Bangkok is 2025-12-31 17:00 UTC; valid_until ends at 23:59:59 there
    assert auth.valid_from == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert auth.valid_until == datetime(2027, 1, 1, 16, 59, 59, tzinfo=UTC)


def test_demo_profile_is_in_bangkok_with_buddhist_era() -> None:
    profile = load_profile(DEMO_PROFILE, now=NOW)
    assert profile.timezone == "Asia/Bangkok"
    assert profile.report.thai_era == "buddhist"


@pytest.mark.parametrize(
    ("line", "message", "hint"),
    [
        ("timezone: Asia/Bangkk\n", "unknown time zone 'Asia/Bangkk' (did you mean 'Asia/Bangkok'?)", "IANA"),
        ("timezone: +07:00\n", "unknown time zone", "Asia/Bangkok"),
        ("timezone: ../../etc/passwd\n", "unknown time zone", "Asia/Bangkok"),
    ],
)
def test_bad_timezone_names_file_line_and_fix(tmp_path: Path, line: str, message: str, hint: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, line + BASE)
    assert info.value.location == f"{tmp_path / 'p.yaml'}:1"
    assert message in info.value.message
    assert info.value.hint and hint in info.value.hint


def test_bad_thai_era_is_refused(tmp_path: Path) -> None:
    text = BASE + "report:\n  formats: [html]\n  thai_era: buddist\n"
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    line = text.splitlines().index("  thai_era: buddist") + 1
    assert info.value.location == f"{tmp_path / 'p.yaml'}:{line}"
    assert "unknown thai_era 'buddist' (did you mean 'buddhist'?)" in info.value.message
    assert info.value.hint == "use one of: gregorian, buddhist"
