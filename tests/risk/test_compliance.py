"""Compliance as one source of truth: the catalogues list every control of their framework, each
check and rule cites its controls in its own references (or is excused with a reason), every cited
id exists, and the mapper counts assessed / passed / failed / not applicable controls honestly."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.baseline.loader import baseline_ids, load_baseline
from secaudit.catalog.compliance import Framework, load_framework, load_frameworks, load_unmapped
from secaudit.core.errors import ConfigError
from secaudit.core.model import Reference, RefKind
from secaudit.core.report import coverage_summary
from secaudit.detect.documents import rule_compliance
from secaudit.detect.lint import default_rules_path
from secaudit.risk.compliance import Outcome, coverage
from secaudit.scan.rules import load_rules

SIZES = {"cis-controls-v8": 153, "iso27001-2022": 93, "nist-csf-2.0": 106, "th-cii-2562": 5}
CITABLE = {RefKind.CIS_CONTROLS, RefKind.ISO27001, RefKind.NIST_CSF, RefKind.TH_CII}


def _frameworks() -> list[Framework]:
    frameworks, errors = load_frameworks()
    assert errors == []
    return frameworks


def _shipped_items() -> dict[str, tuple[str, tuple[Reference, ...]]]:
    """Every check of every baseline in baselines/, every exposure rule and every own Sigma rule:
    id -> (where, references)."""
    items: dict[str, tuple[str, tuple[Reference, ...]]] = {}
    ids = baseline_ids()
    assert len(ids) >= 7
    for name in ids:
        for check in load_baseline(name).checks:
            items[check.id] = (check.location, check.references)
    rules, errors = load_rules()
    assert errors == [] and rules
    items |= {rule.id: (rule.id, rule.references) for rule in rules}
    sigma = rule_compliance([default_rules_path()])
    assert len(sigma) == 23  # every own rule document, correlations included, has a compliance block
    items |= {rule_id: (f"sigma {rule_id}", refs) for rule_id, refs in sigma.items()}
    return items


def test_the_catalogues_list_every_control_of_their_framework_in_english_and_thai() -> None:
    frameworks = _frameworks()
    assert {f.id: f.size for f in frameworks} == SIZES
    thai = next(f for f in frameworks if f.id == "th-cii-2562")
    assert [c.id for c in thai.controls] == ["identify", "protect", "detect", "respond", "recover"]
    nist = next(f for f in frameworks if f.id == "nist-csf-2.0")
    assert {c.id[:2] for c in nist.controls} == {"GV", "ID", "PR", "DE", "RS", "RC"}
    iso = next(f for f in frameworks if f.id == "iso27001-2022")
    assert [sum(c.id.startswith(f"A.{n}.") for c in iso.controls) for n in (5, 6, 7, 8)] == [37, 8, 14, 34]
    for framework in frameworks:
        assert all(c.name and c.th and c.name != c.th for c in framework.controls), framework.id
    assert {f.cited_as for f in frameworks} == CITABLE


def test_no_catalogue_holds_a_mapping() -> None:
    for path in Path(load_frameworks()[0][0].path).parent.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "checks:" not in text and "exposure:" not in text and "sigma:" not in text, path


def test_every_shipped_check_and_rule_cites_existing_controls_of_every_framework_or_says_why() -> None:
    frameworks = _frameworks()
    excused = {u.id: u for u in load_unmapped(frameworks=tuple(f.id for f in frameworks))}
    items = _shipped_items()
    assert len(items) >= 390
    unknown, unmapped = [], []
    for item, (where, refs) in items.items():
        for framework in frameworks:
            cited = [r.id for r in refs if r.kind is framework.cited_as]
            unknown += [(where, framework.id, i) for i in cited if framework.control(i) is None]
            reason = excused.get(item)
            if reason is not None and framework.id in reason.frameworks:
                assert not cited, f"{item} is excused from {framework.id} but cites {cited}: drop the excuse"
            elif not cited:
                unmapped.append((where, framework.id))
    assert unknown == [], "cite ids the catalogues in compliance/ list"
    assert unmapped == [], (
        "every check and rule cites at least one control per framework in its references (kinds cis-controls, "
        "iso27001, nist-csf, th-cii; see baselines/README.md and rules/README.md), or is named with the reason "
        "in compliance/unmapped.yaml"
    )
    stale = set(excused) - set(items)
    assert stale == set(), f"compliance/unmapped.yaml names checks or rules that do not exist: {stale}"


def test_coverage_counts_assessed_passed_failed_and_not_applicable_per_control() -> None:
    cis = next(f for f in _frameworks() if f.id == "cis-controls-v8")

    def cc(*ids: str) -> tuple[Reference, ...]:
        return tuple(Reference(kind=RefKind.CIS_CONTROLS, id=i) for i in ids)

    results = [
        ("EXP-TELNET", cc("3.10", "4.6"), Outcome.PASSED),  # ran, found nothing ...
        ("EXP-TELNET", cc("3.10", "4.6"), Outcome.FAILED),  # ... but failed elsewhere: worst wins
        ("ssh-ciphers-strong", cc("3.10"), Outcome.PASSED),
        ("ssh-ciphers-strong", cc("3.10"), Outcome.PASSED),  # the same check on a second asset: counted once
        ("deb12-tmp-separate-mount", cc("4.1"), Outcome.NOT_APPLICABLE),
        ("deb12-aslr-enabled", cc("10.5"), Outcome.PASSED),
        (
            "user-rule",
            (Reference(kind=RefKind.CIS_CONTROLS, id="99.9"),),
            Outcome.FAILED,
        ),  # unknown id: ignored
    ]
    rows = {c.control: c for c in coverage([cis], results)}
    assert len(rows) == 153
    transit = rows["3.10"]
    assert (transit.checked, transit.failing, transit.passing, transit.status) == (2, 1, 1, "failed")
    assert rows["4.6"].status == "failed"
    assert (rows["4.1"].not_applicable, rows["4.1"].status) == (1, "notapplicable")
    assert rows["10.5"].status == "passed"
    assert rows["1.1"].status == "unassessed" and rows["1.1"].checked == 0
    assert rows["3.10"].name_th and rows["3.10"].framework_controls == 153
    summary = coverage_summary(list(rows.values()))
    assert summary == {
        "controls": 153,
        "assessed": 4,
        "passed": 1,
        "failed": 2,
        "not_applicable": 1,
        "unassessed": 149,
    }


def test_even_every_shipped_item_passing_does_not_reach_every_control() -> None:
    """What secaudit can assess is a part of each framework: "100 %" is never printed for it."""
    frameworks = _frameworks()
    results = [(item, refs, Outcome.PASSED) for item, (_where, refs) in _shipped_items().items()]
    for framework in frameworks:
        summary = coverage_summary([c for c in coverage(frameworks, results) if c.framework == framework.id])
        assert summary["controls"] == framework.size
        assert 0 < summary["assessed"] == summary["passed"]
        if framework.id != "th-cii-2562":
            assert summary["assessed"] < framework.size and summary["unassessed"] > 0


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "framework: x\ncited_as: iso27001\ntitle: t\ncontrols:\n  - {id: a, name: n, th: ก}\n",
            1,
            "file name",
        ),
        ("framework: bad\ncited_as: cwe\ntitle: t\ncontrols:\n  - {id: a, name: n, th: ก}\n", 2, "cited_as"),
        (
            "framework: bad\ncited_as: iso27001\ntitle: t\ncontrols:\n  - {id: a, name: n, th: thai}\n",
            5,
            "Thai",
        ),
        (
            "framework: bad\ncited_as: iso27001\ntitle: t\ncontrols:\n  - {id: a, name: n, th: ก}\n"
            "  - {id: a, name: m, th: ข}\n",
            6,
            "twice",
        ),
        ("framework: bad\ncited_as: iso27001\ntitle: t\ncontrols:\n  - {id: a, nmae: n, th: ก}\n", 5, "nmae"),
        (
            "framework: bad\ncited_as: iso27001\ntitle: t\ncontrols:\n  - {id: a, name: n, th: ก, checks: [x]}\n",
            5,
            "checks",
        ),
    ],
)
def test_loader_errors_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_framework(path)
    assert caught.value.location == f"{path}:{line}"
    assert message in caught.value.message
    good = tmp_path / "good.yaml"
    good.write_text(
        "framework: good\ncited_as: cis-controls\ntitle: t\ncontrols:\n  - {id: a, name: n, th: ก}\n"
    )
    frameworks, errors = load_frameworks(tmp_path)
    assert [f.id for f in frameworks] == ["good"] and len(errors) == 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  - {id: x, frameworks: [cis-controls-v8], reason: short}\n", "in a sentence"),
        ("  - {id: x, frameworks: [nope], reason: no control of it fits here}\n", "unknown framework"),
        ("  - {id: x, frameworks: [], reason: no control of it fits here}\n", "non-empty"),
    ],
)
def test_an_excuse_must_name_a_framework_and_say_why(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "unmapped.yaml"
    path.write_text("unmapped:\n" + entry, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_unmapped(path, frameworks=tuple(SIZES))
    assert message in caught.value.message and caught.value.location.startswith(f"{path}:2")


GOOD_BLOCK = "compliance:\n    cis-controls: ['8.11']\n    iso27001: [A.8.16]\n    th-cii: [detect]\n"


def test_a_sigma_rules_compliance_block_reaches_its_findings_and_coverage(tmp_path: Path) -> None:
    from secaudit.app.detect import rule_references
    from secaudit.detect.lint import lint_paths
    from tests.detect.helpers import load_text, rule_text

    ruleset = load_text(tmp_path, rule_text("sel:\n  Image|endswith: '\\a.exe'\ncondition: sel") + GOOD_BLOCK)
    [info] = [p.info for p in ruleset.plans]
    cited = {(r.kind.value, r.id) for r in rule_references(info)}
    assert {("cis-controls", "8.11"), ("iso27001", "A.8.16"), ("th-cii", "detect")} <= cited
    assert rule_compliance([tmp_path / "rules"]) == {info.id: info.compliance}
    assert lint_paths([tmp_path / "rules"]).problems == ()


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("compliance: [8.11]\n", "must map a reference kind"),
        ("compliance:\n    cis-control: ['8.11']\n", "unknown compliance kind 'cis-control'"),
        ("compliance:\n    iso27001: A.8.16\n", "non-empty list"),
    ],
)
def test_a_malformed_compliance_block_is_a_lint_problem_at_its_line(
    tmp_path: Path, block: str, message: str
) -> None:
    from secaudit.detect.lint import lint_paths
    from tests.detect.helpers import load_text, rule_text

    text = rule_text("sel:\n  Image|endswith: '\\a.exe'\ncondition: sel") + block
    ruleset = load_text(tmp_path, text)
    [info] = [p.info for p in ruleset.plans]
    assert info.compliance == ()  # the rule still runs; it counts toward no control
    [problem] = lint_paths([tmp_path / "rules"]).problems
    assert message in problem.message and problem.line == text.count("\n", 0, text.index("compliance")) + 1
