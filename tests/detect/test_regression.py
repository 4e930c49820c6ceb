"""SigmaHQ's own conformance data: every regression rule reaches its match_count on its own sample.

../shared/sigmahq/regression_data holds, per rule, info.yml and the same events as .evtx and as
evtx_dump JSON. Rules load from the three SigmaHQ folders together (as `secaudit logs hunt` would),
events come through the readers' read_events, hits are counted by rule id. 202/202 for each format.
Also: loading the three folders never crashes, and each problem names file:line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from secaudit.detect.engine import Engine
from secaudit.detect.loader import RuleSet, load_rules
from secaudit.logs.reader import read_events
from secaudit.logs.stats import ReadStats

SIGMAHQ = Path(__file__).resolve().parents[2] / ".." / "shared" / "sigmahq"
FOLDERS = ("rules", "rules-emerging-threats", "rules-threat-hunting")


def _cases() -> list[tuple[str, int, Path]]:
    cases = []
    for info in sorted((SIGMAHQ / "regression_data").rglob("info.yml")):
        meta = yaml.safe_load(info.read_text(encoding="utf-8"))
        rule_id = meta["rule_metadata"][0]["id"]
        for test in meta.get("regression_tests_info") or []:
            cases.append((rule_id, int(test.get("match_count", 1)), SIGMAHQ / test["path"]))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def sigmahq(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    cache = tmp_path_factory.mktemp("rules-cache")
    return load_rules([SIGMAHQ / f for f in FOLDERS], cache_dir=cache)


@pytest.mark.parametrize("suffix", [".evtx", ".json"])
def test_every_regression_rule_matches_its_sample(sigmahq: RuleSet, suffix: str) -> None:
    assert len(CASES) == 202
    engine = Engine(sigmahq)
    loaded = {r.id for r in sigmahq.rules}
    passed, failed = [], []
    for rule_id, needed, evtx in CASES:
        sample = evtx.with_suffix(suffix)
        stats = ReadStats()
        events = list(read_events([str(sample)], stats=stats))
        assert events, f"{sample}: no events read ({stats.errors})"
        count = sum(1 for hit in engine.match(events) if hit.rule.id == rule_id)
        (passed if rule_id in loaded and count >= needed else failed).append(
            (rule_id, count, needed, sample.name)
        )
    assert failed == []
    assert len(passed) == 202


def test_sigmahq_folders_load_without_crashing(sigmahq: RuleSet) -> None:
    assert sigmahq.files == sum(
        1 for f in FOLDERS for p in (SIGMAHQ / f).rglob("*") if p.suffix in (".yml", ".yaml")
    )
    assert (
        len(sigmahq.rules) + len([p for p in sigmahq.problems if not p.reason.startswith("loaded;")])
        == sigmahq.files
    )  # every document either loads or is reported
    for problem in sigmahq.problems:
        path, line = problem.location.rsplit(":", 1)
        assert Path(path).is_file() and re.fullmatch(r"[1-9]\d*", line), problem
        assert problem.reason and problem.rule_id, problem
    # What SigmaHQ uses that a default configuration cannot evaluate: placeholders without values.
    assert {p.reason for p in sigmahq.problems} == {
        "unsupported: placeholder %known_cdcs% has no values: set it under the hunt configuration's placeholders"
    }
    ids = [r.id for r in sigmahq.rules]
    assert len(ids) == len(set(ids))


def test_compiled_gate_step_gives_the_python_steps_answer_on_every_sample(sigmahq: RuleSet) -> None:
    """engine._Group.compiled (secaudit/detect/_gates.c) against Engine._candidates, the Python step,
    on every regression event as both readers give it: the same lowered fields and candidates, and
    the Python step left only the events it must take (a field name with a space, a null or list
    read value)."""
    engine = Engine(sigmahq)
    compiled = python_only = 0
    for _, _, evtx in CASES:
        for suffix in (".evtx", ".json"):
            for event in read_events([str(evtx.with_suffix(suffix))], stats=ReadStats()):
                engine.candidates(event)
                group = engine._groups[event.kind]
                fast = group.compiled.candidates(event.fields, event.text)
                slow = engine._candidates(group, event.fields, event.text)
                read = [v for k, v in event.fields.items() if k in group.read]
                if fast is None:
                    python_only += 1
                    spaced = any(" " in name for name in event.fields)
                    assert spaced or any(type(v) not in (str, int, float, bool) for v in read), event.fields
                else:
                    compiled += 1
                    assert fast == slow, (evtx, event.record)
    assert compiled > 10 * python_only > 0, (compiled, python_only)
