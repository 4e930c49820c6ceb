"""``secaudit rules check``: broken rules give the exact file:line and a hint; clean rules exit 0."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from secaudit.cli.main import cli
from secaudit.cli.main import run as cli_run
from secaudit.cli.rules import rules
from secaudit.detect.lint import lint_paths
from secaudit.detect.lint_checks import tag_problem

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"

GOOD = """\
title: Good rule
id: 9f0c2d5e-6f61-4a8e-9c4b-0d6f7a1e2b3c
name: good_rule
status: experimental
description: A rule with nothing wrong.
author: secaudit
date: 2026-11-21
tags:
    - attack.persistence
    - attack.t1098
    - cve.2021-44228
logsource:
    product: linux
    service: auth
detection:
    selection:
        message|contains: 'to group sudo'
    condition: selection
falsepositives:
    - None
level: high
"""


@pytest.fixture(autouse=True)
def _registered() -> None:
    cli.add_command(rules)  # the lead registers it in cli/main.py; idempotent


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(*paths: Path) -> list[str]:
    return [str(p) for p in lint_paths(list(paths)).problems]


def test_clean_rule_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "good.yml", GOOD)
    assert problems(path) == []
    assert cli_run(["rules", "check", str(path)]) == 0
    assert "no problems" in capsys.readouterr().err


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "broken.yml", GOOD.replace("    condition: selection", "    condition: [selection")
    )
    assert problems(path) == [
        f"{path}:19: YAML: did not find expected ',' or ']' "
        "(check indentation, colons and quoting on or just above this line)"
    ]


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yml", GOOD.replace("level: high\n", "level: high\nlevel: low\n"))
    assert problems(path) == [
        f"{path}:22: duplicate key 'level' (first at line 21) (YAML keeps only the last one: remove or merge them)"
    ]


def test_required_and_invalid_fields(tmp_path: Path) -> None:
    text = (
        GOOD.replace("id: 9f0c2d5e-6f61-4a8e-9c4b-0d6f7a1e2b3c", "id: 1234")
        .replace("status: experimental", "status: testing")
        .replace("level: high", "level: severe")
        .replace("date: 2026-11-21", "date: 21.11.2026")
    )
    found = problems(write(tmp_path, "bad.yml", text))
    lines = [(p.split(":")[1], p.split(": ", 1)[1]) for p in found]
    assert ("2", "id '1234' is not a UUID") in [(n, m.split(" (")[0]) for n, m in lines]
    assert ("4", "unknown status 'testing'") in [(n, m.split(" (")[0]) for n, m in lines]
    assert ("7", "date '21.11.2026' is not a date") in [(n, m.split(" (")[0]) for n, m in lines]
    assert ("21", "unknown level 'severe'") in [(n, m.split(" (")[0]) for n, m in lines]


def test_missing_fields_point_at_the_document(tmp_path: Path) -> None:
    text = "\n".join(
        line
        for line in GOOD.splitlines()
        if not line.startswith(("id:", "level:", "status:", "logsource:", "    product:", "    service:"))
    )
    path = write(tmp_path, "missing.yml", "# a comment first\n" + text + "\n")
    found = problems(path)
    assert f"{path}:2: missing 'id'" in [p.split(" (")[0] for p in found]
    assert f"{path}:2: missing 'status'" in [p.split(" (")[0] for p in found]
    assert f"{path}:2: missing 'level'" in [p.split(" (")[0] for p in found]
    assert f"{path}:2: missing 'logsource' with a product, category or service" in [
        p.split(" (")[0] for p in found
    ]


def test_missing_condition(tmp_path: Path) -> None:
    path = write(tmp_path, "nocond.yml", GOOD.replace("    condition: selection\n", ""))
    assert f"{path}:16: detection has no 'condition' (add e.g. 'condition: selection')" in problems(path)


@pytest.mark.parametrize(
    ("tag", "line_text"),
    [
        ("attack.T1098", "tag 'attack.T1098' is not 'namespace.name' in lowercase"),
        ("attack.persistance", "'persistance' is not an ATT&CK tactic (did you mean 'attack.persistence'?)"),
        ("attack.t10988", "tag 'attack.t10988' does not have the form of a attack tag"),
        ("cve.21-44228", "tag 'cve.21-44228' does not have the form of a cve tag (cve.YYYY-NNNN)"),
        ("mitre.t1098", "unknown tag namespace 'mitre'"),
    ],
)
def test_tag_syntax(tmp_path: Path, tag: str, line_text: str) -> None:
    path = write(tmp_path, "tags.yml", GOOD.replace("    - cve.2021-44228", f"    - {tag}"))
    assert [p for p in problems(path) if p.startswith(f"{path}:11: {line_text}")], problems(path)


def test_good_tags() -> None:
    for tag in ("attack.t1059.001", "attack.g0016", "attack.s0154", "attack.stealth", "attack.t0855",
                "attack.impair-process-control", "car.2016-04-005", "tlp.amber", "detection.threat-hunting", "stp.2a"):  # fmt: skip
        assert tag_problem(tag) is None, tag


def test_unknown_modifier_with_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "mod.yml", GOOD.replace("message|contains:", "message|contain:"))
    found = problems(path)
    assert (
        found[0] == f"{path}:17: unknown modifier 'contain' in 'message|contain' (did you mean 'contains'?)"
    )


def test_condition_names_an_undefined_selection(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cond.yml",
        GOOD.replace("    condition: selection", "    condition: selection and not filter"),
    )
    assert problems(path)[0] == (
        f"{path}:18: condition names 'filter', which the detection does not define (defined: selection)"
    )
    path = write(
        tmp_path, "pattern.yml", GOOD.replace("    condition: selection", "    condition: 1 of sel_*")
    )
    assert f"{path}:18: condition pattern 'sel_*' matches no selection (defined: selection)" in problems(path)


def test_unused_selection_from_pysigma_validator(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    condition: selection", "    unused:\n        message: x\n    condition: selection"
    )
    path = write(tmp_path, "dangling.yml", text)
    (only,) = problems(path)
    assert only == (
        f"{path}:18: Rule defines detection that is not referenced from condition: unused "
        "(use the selection in the condition or remove it)"
    )


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a/first.yml", GOOD)
    second = write(
        tmp_path, "b/second.yml", GOOD.replace("Good rule", "Other rule").replace("good_rule", "other")
    )
    found = problems(tmp_path)
    assert len(found) == 1
    assert found[0].startswith(
        f"{second}:2: duplicate id '9f0c2d5e-6f61-4a8e-9c4b-0d6f7a1e2b3c' (also at {first}:2)"
    )


CORRELATION = """\
---
title: Many sudo group additions
id: 0b7e2a61-5d0f-4a59-8d43-6a1c9e3f2b10
status: experimental
author: secaudit
date: 2026-11-21
tags:
    - attack.persistence
correlation:
    type: event_count
    rules:
        - good_rule
        - missing_rule
    group-by:
        - hostname
    timespan: 1h
    condition:
        gte: 3
falsepositives:
    - None
level: high
"""


def test_correlation_reference_to_unknown_rule_in_a_later_document(tmp_path: Path) -> None:
    path = write(tmp_path, "corr.yml", GOOD + CORRELATION)
    # the correlation document starts at line 22; its second rule reference is on line 34
    assert problems(path) == [
        f"{path}:34: correlation references unknown rule 'missing_rule' "
        "(name a rule id or name defined in the checked files (check them together))"
    ]


def test_bad_correlation_fields(tmp_path: Path) -> None:
    text = GOOD + CORRELATION.replace("type: event_count", "type: event_counts").replace(
        "timespan: 1h", "timespan: 1 hour"
    )
    path = write(tmp_path, "corr.yml", text.replace("        - missing_rule\n", ""))
    found = [p.split(" (")[0] for p in problems(path)]
    assert f"{path}:31: unknown correlation type 'event_counts'" in found
    assert f"{path}:36: timespan '1 hour' is invalid" in found


def test_correlation_the_engine_cannot_evaluate(tmp_path: Path) -> None:
    text = GOOD + CORRELATION.replace("type: event_count", "type: temporal_ordered").replace(
        "gte: 3", "lt: 2"
    )
    path = write(tmp_path, "corr.yml", text.replace("        - missing_rule\n", ""))
    assert problems(path) == [
        f"{path}:30: secaudit cannot evaluate this correlation: temporal_ordered takes a gt or gte condition "
        "(events in order, at least N rules) (a hunt would skip it; change the type or condition)"
    ]


def test_json_output_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "mod.yml", GOOD.replace("message|contains:", "message|contain:"))
    assert cli_run(["rules", "check", "--json", str(path)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["files"] == 1 and data["documents"] == 1
    assert [(p["location"], p["check"], p["rule_id"]) for p in data["problems"]] == [
        (f"{path}:17", "modifier", "9f0c2d5e-6f61-4a8e-9c4b-0d6f7a1e2b3c")
    ]


def test_text_output_is_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "mod.yml", GOOD.replace("message|contains:", "message|contain:"))
    assert cli_run(["rules", "check", str(path)]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        f"{path}:17: unknown modifier 'contain' in 'message|contain' (did you mean 'contains'?)"
    ]
    assert "1 problem(s) in 1 of 1 file(s)" in out.err


def test_missing_path_is_usage_error(tmp_path: Path) -> None:
    assert cli_run(["rules", "check", str(tmp_path / "nope.yml")]) == 2


def test_default_is_our_own_rules_and_they_are_clean() -> None:
    assert cli_run(["rules", "check"]) == 0


def test_sigmahq_rules_check_clean_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("rules check tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    folders = [SHARED / "sigmahq" / "rules" / name for name in ("linux", "network", "web", "cloud")]
    report = lint_paths(folders)
    assert report.documents > 300
    assert [str(p) for p in report.problems] == []
