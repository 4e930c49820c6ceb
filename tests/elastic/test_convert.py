"""Conversion with pySigma's Elasticsearch backend: the whole SigmaHQ folder, our rules, field mapping.

No cluster needed: these check the queries, not their results (tests/elastic/test_integration.py runs
them on a real cluster).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secaudit.elastic.convert import EQL, ESQL, LUCENE, convert_rules

REPO = Path(__file__).resolve().parents[2]
SIGMAHQ = REPO / ".." / "shared" / "sigmahq" / "rules"
OURS = REPO / "rules" / "sigma"


@pytest.fixture(scope="module")
def sigmahq():
    if not SIGMAHQ.is_dir():
        pytest.skip(f"SigmaHQ rules not found at {SIGMAHQ} (../shared beside the repository)")
    return convert_rules([SIGMAHQ])


def test_the_whole_sigmahq_folder_converts_or_says_why(sigmahq) -> None:
    assert sigmahq.files == 3141
    assert len(sigmahq.converted) + len(sigmahq.failures) == 3141  # one document per file there
    assert len(sigmahq.converted) == 3135
    assert {c.language for c in sigmahq.converted} == {LUCENE}
    assert dict(sigmahq.reasons()) == {
        "SigmaFeatureNotSupportedByBackendError: ES Lucene backend can't handle field references.": 4,
        "SigmaFeatureNotSupportedByBackendError: regex uses word boundary \\b, which Lucene regular "
        "expressions cannot express": 2,
    }
    for failure in sigmahq.failures:
        path, _, line = failure.location.rpartition(":")
        assert Path(path).is_file() and int(line) >= 1
        assert re.fullmatch(r"[0-9a-f-]{36}", failure.rule_id)


def test_a_fieldref_rule_fails_lucene_with_its_reason(sigmahq) -> None:
    failure = next(f for f in sigmahq.failures if f.location.endswith("aws_update_login_profile.yml:1"))
    assert failure.rule_id == "055fb148-60f8-462d-ad16-26926ce050f1"
    assert failure.language == LUCENE
    assert "field references" in failure.reason


def test_a_keyword_rule_converts_to_lucene_on_its_logsource(sigmahq) -> None:
    by_location = sigmahq.by_location()
    rule = by_location[f"{SIGMAHQ / 'linux' / 'builtin' / 'lnx_shell_susp_commands.yml'}:1"]
    assert rule.info.id == "2aa1440c-9ae9-4d92-84a7-a9e5f5e31695"
    assert rule.language == LUCENE
    assert rule.query.startswith('secaudit.product:"linux" AND (*wget\\ *\\ \\-\\ http*\\ \\|\\ perl* OR ')


def test_every_field_is_under_sigma_and_each_modifier_finds_its_sub_field(tmp_path: Path) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(
        """title: Modifiers
id: 0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a11
logsource: {product: windows, category: process_creation, service: sysmon}
detection:
    sel:
        Image|endswith: '\\cmd.exe'
        DestinationIp|cidr: 10.20.0.0/16
        ProcessId|gt: 4
        User|cased: SYSTEM
        CommandLine|re: '^C:\\\\Win.*\\.exe'
        ParentImage|re|i: 'PowerShell'
        Threat Name: x
    condition: sel
level: high
""",
        encoding="utf-8",
    )
    result = convert_rules([rule])
    assert not result.failures
    query = result.converted[0].query
    assert query == (
        'secaudit.product:"windows" AND secaudit.categories:"process_creation" AND '
        'secaudit.services:"sysmon" AND (sigma.Image:*\\\\cmd.exe AND sigma.DestinationIp.ip:10.20.0.0\\/16 '
        "AND sigma.ProcessId.num:>4 AND sigma.User.cased:SYSTEM AND "
        "sigma.CommandLine.cased:/C\\:\\\\Win.*\\.exe.*/ AND sigma.ParentImage:/.*powershell.*/ AND "
        "sigma.Threat\\ Name:x)"
    )


def test_our_rules_say_which_language_each_correlation_would_take() -> None:
    result = convert_rules([OURS])
    failed = {f.rule_id: f for f in result.failures}
    # the two Modbus/DNP3 rules need their |expand placeholders
    assert "placeholder" in failed["c6b3f9f1-acac-48b6-82b5-a3ce6c1f40fe"].reason
    # temporal_ordered -> EQL sequence; its aliases are beyond the backend
    chained = failed["a1eb8189-4b4c-44b2-a63f-45f2c23ba41c"]
    assert chained.language == EQL
    assert "Correlation field normalization" in chained.reason
    # event_count -> ES|QL; its base rules are keyword searches, which ES|QL cannot express
    brute = failed["d8799089-716c-485d-ab3d-fe9861f238f1"]
    assert brute.language == ESQL
    assert "String value expressions" in brute.reason
    assert all(c.language == LUCENE for c in result.converted)
    assert len(result.converted) == 17


def test_placeholders_are_expanded_as_the_embedded_engine_expands_them() -> None:
    rule = OURS / "ot" / "zeek_modbus_write_unexpected_host.yml"
    result = convert_rules([rule], placeholders={"ot_engineering_workstations": ["10.20.2.5", "10.20.2.6"]})
    assert not result.failures
    assert "10.20.2.5" in result.converted[0].query and "10.20.2.6" in result.converted[0].query


def test_a_broken_document_is_a_failure_with_its_line_and_the_rest_converts(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("title: [unclosed\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text(
        "\ufefftitle: fine\nlogsource: {product: linux}\ndetection:\n    k: [evil]\n    condition: k\n",
        encoding="utf-8",
    )
    result = convert_rules([tmp_path])
    assert [f.location for f in result.failures] == [f"{tmp_path / 'a.yml'}:2"]
    assert result.failures[0].reason.startswith("YAML")
    assert [c.query for c in result.converted] == ['secaudit.product:"linux" AND (*evil*)']
