"""Every shipped exposure rule against its own real-nmap fixtures, and the loader's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.core.errors import ConfigError
from secaudit.core.model import Source
from secaudit.core.profile import Profile
from secaudit.scan import findings_for, load_rule_file, load_rules, read_nmap_xml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nmap"

RULES, ERRORS = load_rules()


def test_shipped_rules_load_without_errors() -> None:
    assert ERRORS == []
    assert len({r.id for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_matches_its_match_fixture_and_not_its_nomatch_fixture(rule, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    folder = FIXTURES / "rules" / rule.id
    assert (folder / "match.xml").is_file(), f"{rule.id} needs tests/fixtures/nmap/rules/{rule.id}/match.xml"
    hit = read_nmap_xml(folder / "match.xml")
    miss = read_nmap_xml(folder / "nomatch.xml")
    assert hit.complete and miss.complete
    found = [f for f in findings_for(hit, profile, RULES) if f.rule_id == rule.id]
    assert len(found) == 1
    finding = found[0]
    host = hit.up_hosts()[0]
    assert finding.asset.address == host.ip
    assert finding.severity is rule.severity
    assert finding.source is Source.SCAN
    assert finding.remediation
    assert finding.asset.segment == profile.segment_of(host.ip).name  # type: ignore[union-attr]
    assert finding.evidence[0].location.startswith(f"{host.ip}:")
    assert [f.rule_id for f in findings_for(miss, profile, RULES) if f.rule_id == rule.id] == []


def test_findings_carry_inventory_name_criticality_and_script_excerpt(profile: Profile) -> None:
    run = read_nmap_xml(FIXTURES / "demo-traffic-control.xml")
    by_rule = {f.rule_id: f for f in findings_for(run, profile, RULES)}
    modbus = by_rule["EXP-MODBUS-UNAUTHENTICATED"]
    assert modbus.asset.key == "signal-ctl-01"
    assert modbus.asset.criticality.label == "public-safety-critical"
    assert modbus.evidence_key == "tcp/502"
    assert "Phuket Demo Signals TSC-2000 v4.2.1" in modbus.evidence[0].excerpt
    snmp = by_rule["EXP-SNMP-DEFAULT-COMMUNITY"]
    assert snmp.asset.key == "127.20.2.11"  # not in this inventory: the address
    assert snmp.asset.segment == "traffic-control"
    assert snmp.asset.criticality.label == "public-safety-critical"  # from the segment
    assert snmp.evidence[0].location == "127.20.2.11:161/udp"
    assert "NTCIP 1202" in snmp.evidence[0].excerpt


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


GOOD = """rules:
  - id: EXP-X
    title: t
    severity: high
    remediation: r
    match:
      ports: [23]
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("severity: high", "severity: hihg", 4, "unknown severity 'hihg'"),
        ("    title: t\n", "    titel: t\n", 3, "unknown key 'titel' in rule (did you mean 'title'?)"),
        ("ports: [23]", "ports: [70000]", 7, "'70000' is not a port number"),
        ("ports: [23]", "ports: [23]\n      segment_kinds: [ics]", 8, "unknown segment kind 'ics'"),
        ("id: EXP-X", "id: telnet", 2, "does not look like EXP-NAME"),
        ("ports: [23]", "tunnel: none", 7, "needs at least one of services, ports or script"),
        (
            "    remediation: r\n",
            "    remediation: r\n    references:\n      - {kind: nist, id: PR.IR-01}\n",
            7,
            "'PR.IR-01' is a NIST CSF subcategory",
        ),
    ],
)
def test_loader_names_file_line_and_fix(tmp_path: Path, old: str, new: str, line: int, needle: str) -> None:
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_rule_file(path)
    assert needle in info.value.message
    assert info.value.location == f"{path}:{line}"


def test_duplicate_ids_and_broken_files_are_collected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    (tmp_path / "c.yaml").write_text("rules: [\n")
    rules, errors = load_rules([tmp_path])
    assert [r.id for r in rules] == ["EXP-X"]
    assert any("duplicate rule id EXP-X" in e.message for e in errors)
    assert any(str(e.location).startswith(str(tmp_path / "c.yaml")) for e in errors)


def test_a_guessed_community_is_not_reported_as_the_default_one(profile: Profile) -> None:
    """snmp-sysdescr asks with the community snmp-brute found: answering "private" only, the
    agent is flagged as guessable and not as answering "public" (real nmap runs on real snmpd)."""
    folder = FIXTURES / "rules" / "EXP-SNMP-GUESSABLE-COMMUNITY"
    private = read_nmap_xml(folder / "match.xml")
    public = read_nmap_xml(folder / "nomatch.xml")
    (port,) = [p for p in private.up_hosts()[0].ports if p.number == 161]
    sysdescr = next(s for s in port.scripts if s.id == "snmp-sysdescr")
    assert "City signal gateway" in sysdescr.output  # it answered, through "private"
    snmp = {"EXP-SNMP-DEFAULT-COMMUNITY", "EXP-SNMP-GUESSABLE-COMMUNITY"}
    assert [f.rule_id for f in findings_for(private, profile, RULES) if f.rule_id in snmp] == [
        "EXP-SNMP-GUESSABLE-COMMUNITY"
    ]
    assert [f.rule_id for f in findings_for(public, profile, RULES) if f.rule_id in snmp] == [
        "EXP-SNMP-DEFAULT-COMMUNITY"
    ]
