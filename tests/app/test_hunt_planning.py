"""How a hunt cuts its inputs (files in a thread while the rules load, streams after the rules) and
what its shards report back."""

from __future__ import annotations

import io
import json
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import secaudit.app.hunt as hunt_module
from secaudit.app.hunt import HuntOptions, hunt
from secaudit.core.errors import ConfigError, OperationalError
from secaudit.core.events import LogKind
from secaudit.detect.model import RuleHit

RULE = """\
title: Planted word
id: 0c7e54a2-6a7e-4d0b-9d55-3b8f2f61b7a1
status: test
logsource: {product: linux}
detection: {sel: {message|contains: planted}, condition: sel}
level: low
"""


def _lines(count: int) -> bytes:
    return b"".join(
        json.dumps({"message": "planted" if i % 100 == 7 else "calm", "n": i}).encode() + b"\n"
        for i in range(count)
    )


def _watch(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(step, thread name) of each rule load and each input plan, in order."""
    seen: list[tuple[str, str]] = []
    plan, load = hunt_module.plan_shards, hunt_module.load_hunt_rules

    def watched_plan(*args: Any, **kwargs: Any) -> Any:
        seen.append(("plan", threading.current_thread().name))
        return plan(*args, **kwargs)

    def watched_load(options: HuntOptions) -> Any:
        seen.append(("load", threading.current_thread().name))
        return load(options)

    monkeypatch.setattr(hunt_module, "plan_shards", watched_plan)
    monkeypatch.setattr(hunt_module, "load_hunt_rules", watched_load)
    return seen


def _options(inputs: tuple[str, ...], rule: Path, workers: int = 2) -> HuntOptions:
    return HuntOptions(inputs=inputs, rules=(rule,), kind=LogKind(product="linux"), workers=workers)


def test_files_are_cut_in_a_thread_and_give_the_hits_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = tmp_path / "rule.yml"
    rule.write_text(RULE, encoding="utf-8")
    log = tmp_path / "big.jsonl"
    log.write_bytes(_lines(60_000))  # about 2 MB: cut into pieces (a piece is at least 1 MiB)
    seen = _watch(monkeypatch)
    hits: list[Any] = []
    summary = hunt(_options((str(log),), rule), on_hit=hits.append)
    assert ("plan", "secaudit-plan") in seen and ("load", "MainThread") in seen
    assert summary.workers == 2 and summary.read.events == 60_000
    alone: list[Any] = []
    hunt(_options((str(log),), rule, workers=1), on_hit=alone.append)
    records = [h.event.record for h in hits if isinstance(h, RuleHit)]
    assert records == [h.event.record for h in alone if isinstance(h, RuleHit)]
    assert records == [i + 1 for i in range(60_000) if i % 100 == 7]  # line numbers across the pieces


def test_standard_input_is_copied_after_the_rules_load_in_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread left reading stdin would abort the interpreter at exit (its buffer's lock held)."""
    rule = tmp_path / "rule.yml"
    rule.write_text(RULE, encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(_lines(500))))
    seen = _watch(monkeypatch)
    hits: list[Any] = []
    hunt(_options(("-",), rule), on_hit=hits.append)
    assert seen == [("load", "MainThread"), ("plan", "MainThread")]
    assert len(hits) == 5


def test_a_rules_error_wins_and_a_missing_input_is_raised_from_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = tmp_path / "rule.yml"
    rule.write_text(RULE, encoding="utf-8")
    missing = str(tmp_path / "nowhere.jsonl")
    seen = _watch(monkeypatch)
    with pytest.raises(OperationalError, match="log input not found"):
        hunt(_options((missing,), rule), on_hit=lambda hit: None)
    assert ("plan", "secaudit-plan") in seen
    with pytest.raises(ConfigError):  # as before: the rules are told about first
        hunt(_options((missing,), tmp_path / "no-rules-here"), on_hit=lambda hit: None)


def test_each_fed_rule_is_reported_once_however_many_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = RULE.replace("0c7e54a2-6a7e-4d0b-9d55-3b8f2f61b7a1", "1d8f65b3-7b8f-4e1c-8e66-4c9f3f72c8b2")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.yml").write_text(RULE, encoding="utf-8")
    (tmp_path / "rules" / "b.yml").write_text(other, encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    for n in range(6):
        (logs / f"{n}.jsonl").write_bytes(_lines(300))
    reported: list[frozenset[str]] = []
    match = hunt_module._match_shard

    def watched(shard: Any) -> Any:
        result = match(shard)
        reported.append(result[2].fed)
        return result

    monkeypatch.setattr(hunt_module, "_match_shard", watched)
    summary = hunt(_options((str(logs),), tmp_path / "rules", workers=1), on_hit=lambda hit: None)
    assert len(reported) == 6
    assert summary.fed_rules == reported[0] and len(summary.fed_rules) == 2
    assert all(not fed for fed in reported[1:])  # told once, by the first shard
    again: list[Any] = []
    hunt(_options((str(logs),), tmp_path / "rules", workers=1), on_hit=again.append)
    assert reported[6] == summary.fed_rules  # a new hunt reports them anew
