"""The hunt at the terminal (issue 17, item 3): a summary screen like Hayabusa's and Chainsaw's over
SigmaHQ's regression data (hits and rules by level with top hosts, events with hits, time span, busiest
days, top rules), hits in time order with a host column and short file names, capped by --max-rows
(the most severe kept), and metadata files beside the samples left out as "not logs", not unreadable.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SIGMAHQ = REPO.parent / "shared" / "sigmahq"
REGRESSION = SIGMAHQ / "regression_data"
RULES = [
    arg
    for folder in ("rules", "rules-emerging-threats", "rules-threat-hunting")
    for arg in ("--rules", str(SIGMAHQ / folder))
]
SECAUDIT = str(Path(sys.executable).with_name("secaudit"))

pytestmark = [
    pytest.mark.skipif(not REGRESSION.is_dir(), reason="../shared/sigmahq is not beside the project"),
    pytest.mark.slow,  # four hunts with all of SigmaHQ's rules
]


def secaudit(*args: str, columns: int) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": str(columns), "HOME": str(Path.home())}
    return subprocess.run(
        [SECAUDIT, *args], capture_output=True, text=True, env=env, timeout=600, check=False, cwd=REPO
    )


@pytest.fixture(scope="module")
def table() -> list[str]:
    proc = secaudit("logs", "hunt", *RULES, str(REGRESSION), "--format", "table", columns=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.fixture(scope="module")
def as_json() -> dict[str, object]:
    proc = secaudit("logs", "hunt", "--json", *RULES, str(REGRESSION), "-o", "/dev/null", columns=80)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def test_the_default_terminal_view_fits_a_screen(table: list[str]) -> None:
    assert len(table) < 60, "\n".join(table)
    text = "\n".join(table)
    for heading in (
        "in time order",
        "Hits by level",
        "Events with hits:",
        "Days with most hits:",
        "Top 10 of",
    ):
        assert heading in text
    assert "203 other files are not logs (left out)" in text
    assert "unreadable" not in text


def test_hit_rows_are_in_time_order_with_host_and_short_file(table: list[str]) -> None:
    rows = [line.split() for line in table if line[:3] == " 20" and line[5:6] == "-"]
    assert len(rows) == 10  # --max-rows defaults to 10
    stamps = [f"{r[0]} {r[1]}" for r in rows]
    assert stamps == sorted(stamps)
    assert all(r[3] not in ("", "-") for r in rows)  # a host on every regression event
    assert not any(str(REGRESSION) in line for line in table)  # file names, not the long paths
    assert any(".evtx:" in line or ".json:" in line for line in table)


def test_the_cap_keeps_the_most_severe(tmp_path: Path) -> None:
    proc = secaudit(
        "logs", "hunt", *RULES, str(REGRESSION), "--format", "table", "--max-rows", "3", columns=200
    )
    rows = [line.split() for line in proc.stdout.splitlines() if line[:3] == " 20" and line[5:6] == "-"]
    assert "3 of 707 hits" in proc.stdout
    assert [r[2] for r in rows] == ["crit"] * 3


def test_summary_alone_fits_80_columns_and_counts_agree(as_json: dict[str, object]) -> None:
    proc = secaudit("logs", "hunt", *RULES, str(REGRESSION), "-o", "/dev/null", columns=80)
    summary = proc.stdout.splitlines()  # hits go to the file, so the summary to stdout
    assert len(summary) < 60, proc.stdout
    digest = as_json["digest"]
    assert isinstance(digest, dict)
    by_level = digest["by_level"]
    assert sum(v["hits"] for v in by_level.values()) == as_json["hits"] + as_json["correlation_hits"]
    assert {k: v["hits"] for k, v in by_level.items()} == {k: v for k, v in as_json["by_level"].items() if v}
    assert 0 < digest["events_with_hits"] <= as_json["events"]
    assert digest["first_hit"] <= digest["last_hit"]
    assert as_json["not_logs"] == 203
    assert as_json["unreadable_files"] == 0
    tops = digest["top_days"]
    assert [d["hits"] for d in tops] == sorted((d["hits"] for d in tops), reverse=True)
    assert f"Events with hits: {digest['events_with_hits']:,} of {as_json['events']:,}" in proc.stdout


def test_a_named_file_of_no_format_is_still_unreadable(tmp_path: Path) -> None:
    """Only metadata-like names are left out quietly; an unknown file named .log is a problem to show."""
    odd = tmp_path / "odd.log"
    odd.write_bytes(b"\x00\x01binary\x02")
    meta = tmp_path / "info.yml"
    meta.write_text("title: not a log\n", encoding="utf-8")
    proc = secaudit("logs", "hunt", "--json", str(tmp_path), "-o", "/dev/null", columns=80)
    assert proc.returncode == 3  # nothing readable at all
    assert "1 files unreadable, 1 files not logs" in proc.stderr
