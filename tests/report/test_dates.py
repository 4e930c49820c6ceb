"""Times in human-readable reports: the profile's zone with its offset; Buddhist-era years in Thai."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from secaudit.app.reporting import with_thai_era
from secaudit.core.report import Report
from secaudit.report.csv_writer import render_csv
from secaudit.report.dates import TimeFormat
from tests.report.htmlreport import Dom, render

MOMENT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "lang", "era", "expected"),
    [
        ("UTC", "en", "gregorian", "2026-03-01 02:00 UTC"),
        ("Asia/Bangkok", "en", "gregorian", "2026-03-01 09:00 +07:00"),
        ("Asia/Bangkok", "th", "gregorian", "2026-03-01 09:00 +07:00"),
        ("Asia/Bangkok", "en", "buddhist", "2026-03-01 09:00 +07:00"),  # English stays Gregorian
        ("Asia/Bangkok", "th", "buddhist", "1 มี.ค. 2569 09:00 น. (UTC+07:00)"),
        ("America/St_Johns", "en", "gregorian", "2026-02-28 22:30 -03:30"),
    ],
)
def test_a_moment_in_the_zone_language_and_era(zone: str, lang: str, era: str, expected: str) -> None:
    assert TimeFormat(zone, lang=lang, era=era)(MOMENT) == expected


def test_buddhist_era_turns_the_year_at_local_midnight() -> None:
    # 31 Dec 2026 17:30 UTC is already 1 Jan 2027 in Bangkok: B.E. 2570, not 2569
    fmt = TimeFormat("Asia/Bangkok", lang="th", era="buddhist")
    assert fmt(datetime(2026, 12, 31, 17, 30, tzinfo=UTC)) == "1 ม.ค. 2570 00:30 น. (UTC+07:00)"
    assert fmt(datetime(2026, 12, 31, 16, 59, tzinfo=UTC)) == "31 ธ.ค. 2569 23:59 น. (UTC+07:00)"


def test_offsets_follow_daylight_saving() -> None:
    fmt = TimeFormat("Europe/Berlin")
    assert fmt(datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) == "2026-01-15 13:00 +01:00"
    assert fmt(datetime(2026, 7, 15, 12, 0, tzinfo=UTC)) == "2026-07-15 14:00 +02:00"


def test_unbounded_moments_do_not_overflow() -> None:
    assert TimeFormat("Asia/Bangkok")(datetime.max.replace(tzinfo=UTC)) == "9999-12-31 23:59 UTC"


def _header(page: str) -> str:
    return " ".join(Dom(page.split("<main>", maxsplit=1)[0]).flat().split())


def test_the_html_report_shows_every_time_in_the_profile_zone(full_report: Report) -> None:
    utc_report = replace(full_report, profile=replace(full_report.profile, timezone="UTC"))
    bangkok = render(full_report)
    utc = render(utc_report)
    assert "Times shown in Asia/Bangkok (UTC+07:00)" in _header(bangkok)
    assert "Times shown in UTC" in _header(utc)
    # the fixture's run started 2026-03-01 02:00 +07:00 = 2026-02-28 19:00 UTC
    assert "Started 2026-03-01 02:00 +07:00" in _header(bangkok)
    assert "Started 2026-02-28 19:00 UTC" in _header(utc)
    # no time anywhere on the page (rows, details, waivers, scope) is in another zone
    stamps = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d (\S+)", Dom(bangkok).flat())
    assert stamps and set(stamps) == {"+07:00"}
    assert set(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d (\S+)", Dom(utc).flat())) == {"UTC"}


def test_thai_report_with_buddhist_era(full_report: Report) -> None:
    page = render(with_thai_era(full_report, "buddhist"), "th")
    header = _header(page)
    assert "เริ่มตรวจ 1 มี.ค. 2569 02:00 น. (UTC+07:00)" in header
    assert "ปีเป็นพุทธศักราช (พ.ศ.)" in header
    text = Dom(page).flat()
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text.replace(full_report.run.id, ""))
    assert "2569" in text
    # the English page of the same report stays Gregorian
    assert "2026-03-01 02:00 +07:00" in render(with_thai_era(full_report, "buddhist"), "en")


def test_csv_times_carry_the_profile_offset(full_report: Report) -> None:
    out = io.StringIO()
    render_csv(full_report, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    seen = [datetime.fromisoformat(r["first_seen"]) for r in rows if r["first_seen"]]
    assert seen and {s.utcoffset() for s in seen} == {timedelta(hours=7)}
    # same instants as the report holds
    assert {s.astimezone(UTC) for s in seen} <= {r.first_seen.astimezone(UTC) for r in full_report.rows}
