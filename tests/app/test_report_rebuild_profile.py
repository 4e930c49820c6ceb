"""A rebuilt report does not change when the profile is edited (or removed) after the run: what the
report shows about the run (organisation, assets and their criticality, segments, time zone, gate,
languages and formats) comes from what the run stored in history, not from the profile file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from secaudit.app.history import load_run_report
from secaudit.catalog.profile import load_profile
from secaudit.cli.main import run as cli_run
from tests.app.test_report_rebuild_all import FILES, PROFILE, audit, city

__all__ = ["city"]  # the fixture, used by name

EDITED = (
    PROFILE.replace("Rebuild City", "Renamed City")
    .replace("AUTH-REBUILD-2", "AUTH-LATER-9")
    .replace("criticality: critical", "criticality: low")
    .replace("owner: Web team", "owner: Someone else")
    .replace("role: citizen portal", "role: retired portal")
    .replace("  fail_on: critical", "  fail_on: low")
    .replace("  languages: [en, th]", "  languages: [th, en]")
    .replace("version: 1\n", "version: 1\ntimezone: America/New_York\n")
)


def _rebuild(city: Path, run_id: str, out: Path) -> None:
    argv = ["report", "--run", run_id, "--history", str(city / "h.sqlite"), "--output-dir", str(out)]
    assert cli_run(argv) == 0


def test_editing_or_removing_the_profile_after_the_run_changes_nothing_in_the_rebuilt_report(
    city: Path,
) -> None:
    first = audit(city)
    profile = city / "city.yaml"
    assert EDITED != PROFILE and EDITED.count("criticality: low") == 3
    profile.write_text(EDITED)
    assert load_profile(profile).organisation == "Renamed City"  # the edited profile loads
    _rebuild(city, first.run.id, city / "edited")
    profile.unlink()
    _rebuild(city, first.run.id, city / "removed")
    for out in (city / "edited", city / "removed"):
        for name in FILES:
            original = (first.run_dir / name).read_bytes()
            again = (out / first.run.id / name).read_bytes()
            assert again == original, f"{name} changed when rebuilt after the profile was {out.name}"
    rebuilt = load_run_report(city / "h.sqlite", first.run.id)
    assert rebuilt.profile == first.report.profile
    assert rebuilt.profile.organisation == "Rebuild City" and rebuilt.profile.report.fail_on == "critical"
    assert {a.criticality.name for a in rebuilt.profile.assets} == {"HIGH", "CRITICAL"}

    # A history written before the profile was stored with the run: the profile file stands in.
    with sqlite3.connect(city / "h.sqlite") as conn:
        conn.execute(
            "UPDATE run_reports SET report = json_remove(report, '$.profile') WHERE run_id = ?",
            (first.run.id,),
        )
    profile.write_text(EDITED)
    assert load_run_report(city / "h.sqlite", first.run.id).profile.organisation == "Renamed City"
