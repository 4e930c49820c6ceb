"""``logs hunt --since/--from/--to`` on files (issue 17): events outside the range are read, counted and
not evaluated; events without a time are counted and evaluated unless --skip-undated; the summary says
both, on the terminal and in --json.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secaudit.app.hunt import HuntOptions, collect
from secaudit.cli.main import run as cli_run

RULE = """\
title: Failed logon
id: 1f3d5c2a-7b9e-4e61-9a0c-2d4b6e8f0a13
status: test
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
level: medium
"""


def _event(when: str | None, user: str) -> str:
    stamp = f', "TimeCreated": "{when}"' if when else ""
    return f'{{"EventID": 4625, "Channel": "Security", "TargetUserName": "{user}"{stamp}}}\n'


@pytest.fixture
def logs(tmp_path: Path) -> tuple[Path, Path]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "failed.yml").write_text(RULE, encoding="utf-8")
    log = tmp_path / "security.jsonl"
    log.write_text(
        _event("2026-11-30T23:59:59Z", "before")
        + _event("2026-12-01T00:00:00Z", "first")
        + _event("2026-12-01T12:00:00+07:00", "noon-bangkok")
        + _event("2026-12-02T00:00:00Z", "last")
        + _event("2026-12-02T00:00:01Z", "after")
        + _event(None, "undated"),
        encoding="utf-8",
    )
    return rules, log


def _users(hits: list[object]) -> list[str]:
    return [str(h.event.fields["TargetUserName"]) for h in hits]  # type: ignore[attr-defined]


def test_the_range_is_inclusive_and_undated_events_are_evaluated_by_default(logs: tuple[Path, Path]) -> None:
    rules, log = logs
    start, end = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    options = HuntOptions(inputs=(str(log),), rules=(rules,), workers=1, start=start, end=end)
    hits, summary = collect(options)
    assert _users(hits) == ["first", "noon-bangkok", "last", "undated"]
    assert (summary.read.events, summary.read.outside_range, summary.read.undated) == (6, 2, 1)
    hits, summary = collect(
        HuntOptions(inputs=(str(log),), rules=(rules,), workers=1, start=start, end=end, skip_undated=True)
    )
    assert _users(hits) == ["first", "noon-bangkok", "last"] and summary.read.undated == 1
    hits, summary = collect(HuntOptions(inputs=(str(log),), rules=(rules,), workers=1, end=start))
    assert _users(hits) == ["before", "first", "undated"] and summary.read.outside_range == 3
    hits, summary = collect(HuntOptions(inputs=(str(log),), rules=(rules,), workers=1))
    assert len(hits) == 6 and summary.read.outside_range == summary.read.undated == 0  # no range: all


def test_the_cli_takes_the_range_for_files_and_says_what_it_left_out(
    logs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules, log = logs
    out = tmp_path / "hits.jsonl"
    argv = ["logs", "hunt", "--rules", str(rules), str(log), "-o", str(out), "--workers", "1"]
    window = ["--from", "2026-12-01", "--to", "2026-12-02T00:00:00+00:00"]
    assert cli_run([*argv, "--json", *window]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["time_range"] == {
        "from": "2026-12-01T00:00:00+00:00",
        "to": "2026-12-02T00:00:00+00:00",
        "outside_range": 2,
        "undated": 1,
        "undated_evaluated": True,
    }
    assert data["hits"] == 4 and data["events"] == 6
    assert len(out.read_text().splitlines()) == 4
    assert cli_run([*argv, *window, "--skip-undated"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "Time range from 2026-12-01 00:00:00 UTC to 2026-12-02 00:00:00 UTC: 2 events outside it, not evaluated"
        in text
    )
    assert "1 events without a time, left out (--skip-undated)" in text
    assert "Events with hits: 3 of 3 evaluated (100.0 %)" in text
    # --since counts back from now
    now = datetime.now(UTC)
    recent = tmp_path / "recent.jsonl"
    recent.write_text(
        _event((now - timedelta(hours=3)).isoformat(), "old")
        + _event((now - timedelta(minutes=20)).isoformat(), "new")
    )
    assert cli_run([*argv[:4], str(recent), *argv[5:], "--json", "--since", "1h"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["hits"], data["time_range"]["outside_range"]) == (1, 1)
    assert json.loads(out.read_text())["event"]["TargetUserName"] == "new"
    since = datetime.fromisoformat(data["time_range"]["from"])
    assert abs(now - timedelta(hours=1) - since) < timedelta(minutes=5)


def test_range_options_that_cannot_work_are_refused(
    logs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rules, log = logs
    argv = ["logs", "hunt", "--rules", str(rules), str(log), "-o", "/dev/null"]
    assert cli_run([*argv, "--skip-undated"]) == 2
    assert "--skip-undated goes with a time range" in capsys.readouterr().err
    assert cli_run([*argv, "--since", "7d", "--from", "2026-12-01"]) == 2
    assert "not both" in capsys.readouterr().err
    assert cli_run([*argv, "--from", "2026-12-02", "--to", "2026-12-01"]) == 2
    assert "--from is after --to" in capsys.readouterr().err
    assert cli_run([*argv, "--from", "yesterday"]) == 2
    assert "not a date" in capsys.readouterr().err
