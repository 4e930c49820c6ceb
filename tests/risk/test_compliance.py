"""Compliance catalogues: they load, every id they point at exists, and the mapper counts right."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.baseline.loader import baseline_ids, load_baseline
from secaudit.catalog.compliance import load_framework, load_frameworks
from secaudit.core.errors import ConfigError
from secaudit.core.model import Asset, Finding, Reference, RefKind, Severity, Source
from secaudit.risk.compliance import coverage
from secaudit.scan.rules import load_rules

SHIPPED = {"cis-controls-v8", "nist-csf-2.0", "iso27001-2022", "th-cii-2562"}


def test_the_four_catalogues_load() -> None:
    frameworks, errors = load_frameworks()
    assert errors == []
    assert {f.id for f in frameworks} == SHIPPED
    thai = next(f for f in frameworks if f.id == "th-cii-2562")
    assert [c.id for c in thai.controls] == ["identify", "protect", "detect", "respond", "recover"]
    nist = next(f for f in frameworks if f.id == "nist-csf-2.0")
    assert {c.id.split(".")[0] for c in nist.controls} >= {"ID", "PR", "DE", "RS", "RC"}


def test_every_referenced_check_and_rule_exists() -> None:
    checks: set[str] = set()
    for name in (
        "debian12-server",
        "openssh-server",
        "cisco-ios",
        "nginx",
    ):  # the baselines the catalogues use
        assert name in baseline_ids()
        checks |= {c.id for c in load_baseline(name).checks}
    rules, errors = load_rules()
    assert errors == []
    exposure = {r.id for r in rules}
    frameworks, _ = load_frameworks()
    missing = [
        (f.id, c.id, i) for f in frameworks for c in f.controls for i in c.checks if i not in checks
    ] + [(f.id, c.id, i) for f in frameworks for c in f.controls for i in c.exposure if i not in exposure]
    assert missing == []
    used = {i for f in frameworks for c in f.controls for i in (*c.checks, *c.exposure)}
    assert "EXP-TELNET" in used and "ssh-permit-root-login" in used
    for f in frameworks:
        for c in f.controls:
            assert c.mapped, f"{f.id} {c.id} maps to nothing"
            for tag in c.sigma:
                assert tag.startswith("attack.t") and tag[8:].replace(".", "").isdigit(), tag


def test_coverage_counts_checked_and_failing() -> None:
    frameworks, _ = load_frameworks()
    cis = next(f for f in frameworks if f.id == "cis-controls-v8")
    asset = Asset(key="cc-app-01")
    findings = [
        Finding(rule_id="EXP-TELNET", source=Source.SCAN, severity=Severity.HIGH, title="t", asset=asset),
        Finding(
            rule_id="3b1c0d5e-0000-4000-8000-000000000001",
            source=Source.DETECTION,
            severity=Severity.HIGH,
            title="spray",
            asset=asset,
            references=(Reference(kind=RefKind.ATTACK, id="T1110.003"),),
        ),
    ]
    ran = {"EXP-TELNET", "EXP-HTTP-ADMIN-CLEARTEXT", "ios-vty-ssh-only", "attack.t1110"}
    result = {(c.framework, c.control): c for c in coverage([cis], findings, ran)}
    assert len(result) == len(cis.controls)
    manage = result[("cis-controls-v8", "4.6")]
    assert (manage.name, manage.checked, manage.failing) == (
        "Manage devices over secure protocols only",
        3,
        1,
    )
    passwords = result[("cis-controls-v8", "5.2")]
    assert (passwords.checked, passwords.failing) == (1, 1)  # attack.t1110: the sub-technique's parent
    firewall = result[("cis-controls-v8", "4.4")]
    assert (firewall.checked, firewall.failing) == (0, 0)  # nothing mapped to it ran


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("framework: x\ntitle: t\ncontrols:\n  - id: a\n    name: n\n", 1, "must match the file name"),
        (
            "framework: bad\ntitle: t\ncontrols:\n  - id: a\n    name: n\n    sigma: [Not A Tag]\n",
            6,
            "neither",
        ),
        ("framework: bad\ntitle: t\ncontrols:\n  - id: a\n    name: n\n  - id: a\n    name: m\n", 6, "twice"),
        ("framework: bad\ntitle: t\ncontrols:\n  - id: a\n    nmae: n\n", 5, "unknown key 'nmae'"),
        ("framework: bad\ntitle: t\ncontrols:\n  - id: a\n    name: n\n    checks: [x, x]\n", 6, "twice"),
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
    good.write_text("framework: good\ntitle: t\ncontrols:\n  - id: a\n    name: n\n", encoding="utf-8")
    frameworks, errors = load_frameworks(tmp_path)
    assert [f.id for f in frameworks] == ["good"] and len(errors) == 1


def test_coverage_is_counted_against_the_whole_framework() -> None:
    from secaudit.catalog.compliance import load_frameworks
    from secaudit.risk.compliance import coverage

    frameworks, errors = load_frameworks()
    assert not errors
    sizes = {fw.id: fw.size for fw in frameworks}
    assert sizes == {"cis-controls-v8": 153, "iso27001-2022": 93, "nist-csf-2.0": 106, "th-cii-2562": 5}
    everything = {i for fw in frameworks for control in fw.controls for i in control.mapped}
    for fw in frameworks:
        rows = [c for c in coverage([fw], [], everything) if c.checked]
        assert all(c.framework_controls == fw.size for c in rows)
        # every mapped id ran: still only the listed controls are assessed, short of the whole framework
        assert len(rows) <= len(fw.controls) <= fw.size
