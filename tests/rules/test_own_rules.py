"""Our own Sigma rules (rules/sigma) against their own sample events, through the hunt path the CLI uses.

Every rule file has ``tests/fixtures/rules/<file stem>/match.<ext>`` and ``nomatch.<ext>``, real raw log
text (auth.log lines, access.log lines, Zeek JSON, evtx_dump JSON, Cisco syslog). On the match sample
every reported rule of the file fires, each at its expected record(s); on the nomatch sample none
does. Rules load from the whole rules/sigma folder, as a default hunt loads them, so correlation rules
find their base rules; a base rule that only feeds correlations is checked alone (loaded on its own
it reports its hits).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from secaudit.app.hunt import HuntOptions, hunt
from secaudit.detect.lint import lint_paths
from secaudit.detect.model import CorrelationHit, RuleHit

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules" / "sigma"
SAMPLES = REPO / "tests" / "fixtures" / "rules"
# Site settings the OT rules need: the engineering workstations allowed to write to controllers.
PLACEHOLDERS = {"ot_engineering_workstations": ["127.20.2.5", "127.20.6.10"]}

# For each rule file: the records (line numbers, or EventRecordID) its match sample must fire at,
# per rule id. A correlation rule fires once, at the first record of the events it lists.
EXPECTED: dict[str, dict[str, list[int]]] = {
    "win_security_admin_group_member_added": {"2bbb846f-cc18-4f34-b52b-82bc0d04d20d": [184201]},
    "win_registry_run_key_persistence": {"f23913c0-630c-48f7-ab7b-e88561a7ca09": [902114]},
    "win_security_scheduled_task_created": {"ec9ec339-1799-4a85-8bef-3e7d920804d4": [184233]},
    "win_schtasks_create": {"610b9bd0-010b-43a1-a648-f7eec5e92f51": [902140]},
    "win_system_new_service_installed": {"083d7add-c8d0-46ee-9b31-6d2f31a8b49b": [51877]},
    "web_sql_injection_city_portal": {"393accfb-b023-47bb-a049-b62782fee00d": [2]},
    "web_path_traversal_city_portal": {"c2bf6ca2-bd47-4fe7-99cc-5dfc691603c7": [1]},
    "web_scanner_user_agent_city_portal": {"39783441-4809-4b23-8e44-447b3073470b": [1]},
    "zeek_modbus_write_unexpected_host": {"c6b3f9f1-acac-48b6-82b5-a3ce6c1f40fe": [2]},
    "zeek_dnp3_control_unexpected_host": {"cad27d9e-3806-40be-8069-1bbfe9bf1d97": [1]},
    "cisco_login_outside_mgmt_segment": {"bab38fce-17d3-471b-b013-2f204092a62f": [1]},
    "lnx_sudo_shell": {"6abdcf8c-a248-430a-a6f6-514f02c90589": [2]},
    "lnx_sudo_user_not_in_sudoers": {"4a7f723c-0f76-4eaa-b7c5-9d4ae82fb71c": [1]},
    "lnx_user_added_to_admin_group": {"b807e713-4d9c-4427-a41d-83ce902d3555": [2, 3]},
    "lnx_auditd_user_added_to_admin_group": {"b08ab8d3-273f-4ec0-84e0-e1efed502711": [2, 3]},
    "lnx_auditd_sshd_auth_failed": {"5452ebf9-3e8c-4b2c-92ce-31ce87c3af7a": [2]},
    "lnx_auditd_sshd_login": {"e1d36c2b-e3db-4da7-b99b-733191ab94e6": [2]},
    "lnx_sshd_failed_password": {"04c1778f-fc1c-453c-99aa-4ee6e149acf8": [1, 2]},
    "lnx_sshd_accepted_login": {"0688b29c-7eb1-4e9e-8f6d-b291e272173c": [1]},
    "lnx_sshd_brute_force": {"d8799089-716c-485d-ab3d-fe9861f238f1": [2]},
    "lnx_sshd_login_after_failures": {"a1eb8189-4b4c-44b2-a63f-45f2c23ba41c": [1]},
}

BASE_ONLY = {  # rules that only feed correlations: checked alone, where they report their own hits
    "lnx_sshd_failed_password",
    "lnx_sshd_accepted_login",
    "lnx_auditd_sshd_auth_failed",
    "lnx_auditd_sshd_login",
}  # feed correlations; checked alone


def rule_files() -> list[Path]:
    return sorted(p for p in RULES.rglob("*") if p.suffix in {".yml", ".yaml"})


def sample(stem: str, which: str) -> Path:
    found = sorted(p for p in (SAMPLES / stem).glob(f"{which}.*")) if (SAMPLES / stem).is_dir() else []
    assert len(found) == 1, f"rule {stem} needs exactly one tests/fixtures/rules/{stem}/{which}.<ext> sample"
    return found[0]


def fired(rule_file: Path, log: Path) -> dict[str, list[int]]:
    """rule id -> records it fired at (first listed event for a correlation), via app.hunt."""
    rules = (rule_file,) if rule_file.stem in BASE_ONLY else (RULES,)
    out: dict[str, list[int]] = {}

    def on_hit(hit: RuleHit | CorrelationHit) -> None:
        if isinstance(hit, RuleHit):
            out.setdefault(hit.rule.id, []).append(hit.event.record)
        else:
            out.setdefault(hit.rule.id, []).append(hit.events[0].record)

    summary = hunt(
        HuntOptions(inputs=(str(log),), rules=rules, placeholders=PLACEHOLDERS, workers=1),
        on_hit=on_hit,
    )
    assert summary.read.skipped == 0, summary.read.errors
    assert summary.read.events > 0
    assert not [p for p in summary.problems if p.location.startswith(str(rule_file))], summary.problems
    return out


def test_every_rule_file_has_samples_and_expectations() -> None:
    stems = [p.stem for p in rule_files()]
    assert stems, "no rules under rules/sigma"
    for stem in stems:
        sample(stem, "match")
        sample(stem, "nomatch")
    assert sorted(stems) == sorted(EXPECTED)


def test_own_rules_check_clean() -> None:
    report = lint_paths([RULES])
    assert [str(p) for p in report.problems] == []
    assert report.documents == sum(
        len(list(yaml.safe_load_all(p.read_text(encoding="utf-8")))) for p in rule_files()
    )


def test_own_rules_are_ours() -> None:
    for path in rule_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert doc["author"] == "secaudit", path
            assert doc["tags"] and all(t.startswith("attack.") for t in doc["tags"]), path
            assert doc["falsepositives"] and doc["description"], path


@pytest.mark.parametrize("rule_file", rule_files(), ids=lambda p: p.stem)
def test_rule_fires_on_its_match_sample(rule_file: Path) -> None:
    got = fired(rule_file, sample(rule_file.stem, "match"))
    for rule_id, records in EXPECTED[rule_file.stem].items():
        assert got.get(rule_id) == records, got


@pytest.mark.parametrize("rule_file", rule_files(), ids=lambda p: p.stem)
def test_rule_stays_silent_on_its_nomatch_sample(rule_file: Path) -> None:
    got = fired(rule_file, sample(rule_file.stem, "nomatch"))
    for rule_id in EXPECTED[rule_file.stem]:
        assert rule_id not in got, got
