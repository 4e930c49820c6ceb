"""``secaudit logs hunt`` end to end: real rules, real logs, the exact CLI path.

The SigmaHQ conformance test runs the issue's done-when command: all three SigmaHQ rule folders
over the whole regression data folder, and every regression rule must reach its match_count on its
own sample (the .evtx and the .json one), matched by rule id.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from secaudit.cli.main import run as cli_run

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SIGMAHQ = SHARED / "sigmahq"
REGRESSION = SIGMAHQ / "regression_data"

RULE = """\
title: Test cmd launched by Office
id: 5b0d1c9e-1111-4a35-9a3c-3d5f1c2b7a10
status: test
description: Our own rule for the CLI tests.
author: secaudit tests
date: 2026-11-21
tags:
  - attack.execution
  - attack.t1059.003
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    ParentImage|endswith: '\\winword.exe'
    Image|endswith: '\\cmd.exe'
  condition: selection
level: high
"""

LOW_RULE = """\
title: Test whoami
id: 5b0d1c9e-2222-4a35-9a3c-3d5f1c2b7a10
status: test
author: secaudit tests
date: 2026-11-21
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
level: low
"""


def _event(record: int, parent: str, image: str, cmd: str = "") -> dict[str, object]:
    return {
        "EventID": 1,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "Computer": "cc-ops-ws01.phuket.local",
        "EventRecordID": record,
        "UtcTime": f"2026-11-20 10:00:{record:02d}.000",
        "ParentImage": parent,
        "Image": image,
        "CommandLine": cmd or image,
    }


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "office_cmd.yml").write_text(RULE)
    (folder / "whoami.yml").write_text(LOW_RULE)
    return folder


@pytest.fixture
def flat_log(tmp_path: Path) -> Path:
    lines = [
        _event(
            1, r"C:\Program Files\Microsoft Office\WINWORD.EXE", r"C:\Windows\System32\cmd.exe", "cmd /c =1+1"
        ),
        _event(2, r"C:\Windows\explorer.exe", r"C:\Windows\System32\cmd.exe"),
        _event(3, r"C:\Windows\explorer.exe", r"C:\Windows\System32\whoami.exe"),
    ]
    path = tmp_path / "sysmon.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))
    return path


def _hunt(args: list[str]) -> int:
    return cli_run(["logs", "hunt", *args])


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_jsonl_hits_carry_rule_event_and_location(rules_dir: Path, flat_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "hits.jsonl"
    code = _hunt(["--rules", str(rules_dir), "--format", "jsonl", "--output", str(out), str(flat_log)])
    assert code == 0
    hits = _jsonl(out)
    assert sorted((h["rule_id"], h["record"]) for h in hits) == [
        ("5b0d1c9e-1111-4a35-9a3c-3d5f1c2b7a10", 1),
        ("5b0d1c9e-2222-4a35-9a3c-3d5f1c2b7a10", 3),
    ]
    office = next(h for h in hits if h["record"] == 1)
    assert office["rule_title"] == "Test cmd launched by Office"
    assert office["rule_level"] == "high"
    assert office["rule_author"] == "secaudit tests"
    assert office["tags"] == ["attack.execution", "attack.t1059.003"]
    assert office["source"] == str(flat_log)
    assert office["logsource"]["product"] == "windows"
    assert "process_creation" in office["logsource"]["categories"]
    assert office["event"]["Image"] == r"C:\Windows\System32\cmd.exe"
    assert set(office["matched_fields"]) == {"ParentImage", "Image"}


def test_min_level_and_fail_on(rules_dir: Path, flat_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "hits.jsonl"
    code = _hunt(
        [
            "--rules",
            str(rules_dir),
            "--min-level",
            "medium",
            "-o",
            str(out),
            "--fail-on",
            "high",
            str(flat_log),
        ]
    )
    assert code == 1
    assert [h["record"] for h in _jsonl(out)] == [1]
    assert _hunt(["--rules", str(rules_dir), "-o", str(out), "--fail-on", "critical", str(flat_log)]) == 0


def test_gzip_and_stdin_inputs(
    rules_dir: Path, flat_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gz = tmp_path / "sysmon.jsonl.gz"
    gz.write_bytes(gzip.compress(flat_log.read_bytes()))
    out = tmp_path / "gz.jsonl"
    assert _hunt(["--rules", str(rules_dir), "-o", str(out), str(gz)]) == 0
    assert sorted(h["record"] for h in _jsonl(out)) == [1, 3]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(flat_log.read_bytes()), encoding="utf-8"))
    out2 = tmp_path / "stdin.jsonl"
    assert _hunt(["--rules", str(rules_dir), "-o", str(out2), "-"]) == 0
    hits = _jsonl(out2)
    assert sorted(h["record"] for h in hits) == [1, 3]
    assert {h["source"] for h in hits} == {"-"}


def test_csv_output_is_formula_safe_and_timeline_sorted(rules_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "later-first.jsonl"
    events = [
        _event(9, r"C:\x\winword.exe", r"C:\Windows\System32\cmd.exe", "=cmd|' /c calc'!A0"),
        _event(3, r"C:\x\explorer.exe", r"C:\Windows\System32\whoami.exe"),
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in events))
    out, timeline = tmp_path / "hits.csv", tmp_path / "timeline.csv"
    code = _hunt(
        ["--rules", str(rules_dir), "--format", "csv", "-o", str(out), "--timeline", str(timeline), str(log)]
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["record"], r["rule_id"]) for r in rows] == [
        ("1", "5b0d1c9e-1111-4a35-9a3c-3d5f1c2b7a10"),
        ("2", "5b0d1c9e-2222-4a35-9a3c-3d5f1c2b7a10"),
    ]
    assert not any(cell.startswith("=") for r in rows for cell in r.values())
    times = [r["timestamp"] for r in csv.DictReader(io.StringIO(timeline.read_text(encoding="utf-8")))]
    assert times == sorted(times) and len(times) == 2


def test_nothing_readable_exits_3_and_bad_rules_path_exits_2(rules_dir: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 64)
    assert _hunt(["--rules", str(rules_dir), "-o", str(tmp_path / "x.jsonl"), str(garbage)]) == 3
    assert _hunt(["--rules", str(tmp_path / "missing"), str(garbage)]) == 2
    assert _hunt(["--rules", str(rules_dir), str(tmp_path / "no-such.log")]) == 3


def test_bad_records_are_skipped_counted_and_the_rest_evaluated(
    rules_dir: Path, flat_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mixed = tmp_path / "mixed.jsonl"
    good = flat_log.read_text().splitlines()
    mixed.write_bytes(
        (good[0] + "\n{broken json\n").encode() + b"\xff\xfe\x00 garbage\n" + (good[2] + "\n").encode()
    )
    out = tmp_path / "hits.jsonl"
    capsys.readouterr()
    code = _hunt(["--rules", str(rules_dir), "-o", str(out), "--json", str(mixed)])
    assert code == 0
    assert sorted(h["record"] for h in _jsonl(out)) == [1, 4]
    summary = json.loads(capsys.readouterr().out)
    assert summary["events"] == 2
    assert summary["skipped"] >= 1
    assert any(str(mixed) in e["location"] for e in summary["read_errors"])


def test_a_broken_rule_is_reported_and_the_others_run(
    rules_dir: Path, flat_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (rules_dir / "broken.yml").write_text(
        "title: broken\nid: not-a-uuid\nlogsource: {}\ndetection:\n  condition: nope\n"
    )
    out = tmp_path / "hits.jsonl"
    capsys.readouterr()
    assert _hunt(["--rules", str(rules_dir), "-o", str(out), "--json", str(flat_log)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert any(
        p["location"].startswith(str(rules_dir / "broken.yml") + ":") for p in summary["rule_problems"]
    )
    assert sorted(h["record"] for h in _jsonl(out)) == [1, 3]


def test_two_workers_give_the_same_output_as_one(rules_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "big.jsonl"
    with log.open("w") as f:
        for i in range(1, 20001):
            image = r"C:\Windows\System32\whoami.exe" if i % 997 == 0 else r"C:\Windows\notepad.exe"
            f.write(json.dumps(_event(i, r"C:\Windows\explorer.exe", image)) + "\n")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert _hunt(["--rules", str(rules_dir), "--workers", "1", "-o", str(one), str(log)]) == 0
    assert _hunt(["--rules", str(rules_dir), "--workers", "2", "-o", str(two), str(log)]) == 0
    assert one.read_bytes() == two.read_bytes()
    assert [h["record"] for h in _jsonl(one)] == [i for i in range(1, 20001) if i % 997 == 0]


def _regression_expectations() -> list[tuple[str, Path, int]]:
    cases = []
    for info in sorted(REGRESSION.rglob("info.yml")):
        data = yaml.load(info.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        rule_id = data["rule_metadata"][0]["id"]
        for test in data.get("regression_tests_info") or []:  # one folder (cisco dot1x) has no sample
            sample = info.parent / Path(test["path"]).name
            count = int(test.get("match_count", 1))
            cases.append((rule_id, sample, count))
            cases.append((rule_id, sample.with_suffix(".json"), count))
    return cases


@pytest.mark.skipif(
    not REGRESSION.is_dir(), reason="../shared/sigmahq/regression_data is not beside the repo"
)
def test_sigmahq_regression_data_all_rules_match_their_own_samples(tmp_path: Path) -> None:
    out = tmp_path / "hits.jsonl"
    args = []
    for folder in ("rules", "rules-emerging-threats", "rules-threat-hunting"):
        args += ["--rules", str(SIGMAHQ / folder)]
    code = _hunt([*args, "--format", "jsonl", "--output", str(out), str(REGRESSION)])
    assert code == 0
    found = Counter((h["rule_id"], Path(str(h["source"])).resolve()) for h in _jsonl(out))
    cases = _regression_expectations()
    rule_ids = {rule_id for rule_id, _, _ in cases}
    assert len(rule_ids) == 202
    missing = [
        f"{rule_id} on {sample.relative_to(REGRESSION)}: {found[(rule_id, sample.resolve())]} < {count}"
        for rule_id, sample, count in cases
        if found[(rule_id, sample.resolve())] < count
    ]
    assert not missing, f"{len(missing)} regression samples not matched:\n" + "\n".join(missing[:40])
