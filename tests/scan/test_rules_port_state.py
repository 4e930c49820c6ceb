"""Exposure rules need an open port (issue 17, item 8: a mutant that treats closed ports as open
survived the suite). Every shipped rule's own match fixture, with its ports closed or filtered,
must give no finding of that rule; open|filtered counts only with a script's answer as proof."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secaudit.core.profile import Profile
from secaudit.scan import findings_for, load_rules, read_nmap_xml
from secaudit.scan.nmapxml import Port, Script, Service

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nmap" / "rules"
RULES, _ = load_rules()
OPEN = re.compile(r'<state state="open(\|filtered)?"')


@pytest.mark.parametrize("state", ["closed", "filtered", "unfiltered", "closed|filtered"])
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_a_port_that_is_not_open_matches_no_rule(rule, state: str, profile: Profile, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = (FIXTURES / rule.id / "match.xml").read_text(encoding="utf-8")
    assert OPEN.search(source), f"{rule.id}'s match fixture has no open port"
    shut = tmp_path / "shut.xml"
    shut.write_text(OPEN.sub(f'<state state="{state}"', source), encoding="utf-8")
    assert [
        f.rule_id for f in findings_for(read_nmap_xml(shut), profile, RULES) if f.rule_id == rule.id
    ] == []


def _telnet() -> object:
    return next(r for r in RULES if r.id == "EXP-TELNET")


@pytest.mark.parametrize(
    ("state", "expected"), [("open", True), ("closed", False), ("filtered", False), ("open|filtered", False)]
)
def test_port_states_for_a_rule_without_script(state: str, expected: bool) -> None:
    rule = _telnet()
    port = Port(protocol="tcp", number=23, state=state, service=Service(name="telnet", method="probed"))
    assert rule.matches(port, None)[0] is expected  # type: ignore[attr-defined]


def test_open_filtered_counts_only_with_a_scripts_answer() -> None:
    snmp = next(r for r in RULES if r.id == "EXP-SNMP-DEFAULT-COMMUNITY")
    fixture = read_nmap_xml(FIXTURES / snmp.id / "match.xml")
    port = next(p for h in fixture.up_hosts() for p in h.ports if p.state == "open")
    answered = Port(
        protocol=port.protocol,
        number=port.number,
        state="open|filtered",
        service=port.service,
        scripts=port.scripts,
    )
    silent = Port(protocol=port.protocol, number=port.number, state="open|filtered", service=port.service)
    assert snmp.matches(answered, None)[0] is True
    assert snmp.matches(silent, None)[0] is False
    assert isinstance(port.scripts[0], Script)
