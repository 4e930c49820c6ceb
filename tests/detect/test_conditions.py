"""Every condition form, through both matchers, and the condition parser's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.detect.condition import parse_condition
from secaudit.detect.model import UnsupportedRule

from .helpers import both, event, load_text, rule_text

RID = "11111111-1111-4111-8111-111111111111"
DETECTIONS = """
sel_a:
  Image|endswith: '\\a.exe'
sel_b:
  CommandLine|contains: 'bee'
filter_x:
  User: 'SYSTEM'
_private:
  User: 'root'
"""
EVENTS = [
    {"Image": "c:\\a.exe", "CommandLine": "bee", "User": "bob"},  # 1: a b
    {"Image": "c:\\a.exe", "CommandLine": "-", "User": "SYSTEM"},  # 2: a x
    {"Image": "c:\\z.exe", "CommandLine": "bee", "User": "root"},  # 3: b private
    {"Image": "c:\\z.exe", "CommandLine": "-", "User": "bob"},  # 4: none
]
CONDITIONS = [
    ("sel_a", {1, 2}),
    ("sel_a and sel_b", {1}),
    ("sel_a or sel_b", {1, 2, 3}),
    ("not sel_a", {3, 4}),
    ("sel_a and not filter_x", {1}),
    ("(sel_a or sel_b) and not filter_x", {1, 3}),
    ("not (sel_a or sel_b)", {4}),
    ("sel_a or sel_b and filter_x", {1, 2}),  # and binds tighter than or
    ("1 of sel_*", {1, 2, 3}),
    ("all of sel_*", {1}),
    ("any of sel_*", {1, 2, 3}),
    ("1 of them", {1, 2, 3}),  # them skips names starting with "_"
    ("all of them", set()),
    ("1 of sel_* and not 1 of filter_*", {1, 3}),
    ("all of sel_* or _private", {1, 3}),
    ("NOT sel_a AND sel_b", {3}),  # keywords in any case
    ("not not sel_a", {1, 2}),
]


@pytest.mark.parametrize(("condition", "records"), CONDITIONS, ids=[c[0] for c in CONDITIONS])
def test_condition_forms(tmp_path: Path, condition: str, records: set[int]) -> None:
    ruleset = load_text(tmp_path, rule_text(f"{DETECTIONS}condition: {condition}"))
    assert ruleset.problems == ()
    events = [event(f, record=i) for i, f in enumerate(EVENTS, start=1)]
    assert both(ruleset, events) == {(RID, r) for r in records}


def test_condition_list_is_or(tmp_path: Path) -> None:
    ruleset = load_text(
        tmp_path, rule_text(f"{DETECTIONS}condition:\n  - sel_a and filter_x\n  - sel_b and sel_a")
    )
    events = [event(f, record=i) for i, f in enumerate(EVENTS, start=1)]
    assert both(ruleset, events) == {(RID, 1), (RID, 2)}


def test_selection_as_list_of_maps_is_or(tmp_path: Path) -> None:
    detection = "sel:\n  - Image|endswith: '\\a.exe'\n  - CommandLine: bee\ncondition: sel"
    ruleset = load_text(tmp_path, rule_text(detection))
    events = [event(f, record=i) for i, f in enumerate(EVENTS, start=1)]
    assert both(ruleset, events) == {(RID, 1), (RID, 2), (RID, 3)}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sel | count() > 5", "deprecated aggregation"),
        ("sel and", "ends too early"),
        ("sel other", "unexpected 'other'"),
        ("(sel", "ends too early"),
        ("missing", "does not define"),
        ("1 of nothing_*", "matches no detection"),
        ("sel_*", "needs '1 of' or 'all of'"),
        ("", "is empty"),
    ],
)
def test_bad_conditions_are_unsupported(text: str, reason: str) -> None:
    with pytest.raises(UnsupportedRule, match=reason):
        parse_condition(text, ["sel", "sel_2"])


def test_bad_condition_becomes_a_problem_with_location(tmp_path: Path) -> None:
    ruleset = load_text(
        tmp_path, "# leading comment\n" + rule_text("sel:\n  Image: x\ncondition: sel or nope")
    )
    [problem] = ruleset.problems
    assert problem.location == f"{tmp_path / 'rules' / 'rule.yml'}:2"
    assert problem.rule_id == RID
    assert "'nope'" in problem.reason
