"""Values the shippers leave out: a rule comparing a field with one runs with a limit, said.

Winlogbeat does not add an empty event value to the document, and Wazuh's eventchannel decoder does
not add one that is empty, '-' or '(NULL)': the field is absent there. A comparison with such a value
never holds on the cluster (``IpAddress: '-'`` under a ``not`` excludes nothing; in a selection it
misses) and a null test holds where the value was dropped. Absence cannot be told from an event that
never had the field, so no query is exact: the rule runs as converted and the hunt lists it as run
with a limit, naming the field, the value and the shipper.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from secaudit.cli.main import run
from secaudit.elastic.convert import Converted, convert_rules
from secaudit.elastic.layouts import ECS, WAZUH
from tests.elastic.fault_server import INDEX, Script, serve
from tests.elastic.test_layouts import WAZUH_MAPPING

WINDOWS = Path(__file__).resolve().parents[3] / "shared" / "sigmahq" / "rules" / "windows"
RDP = WINDOWS / "builtin/security/account_management/win_security_successful_external_remote_rdp_login.yml"
FIREWALL = WINDOWS / "builtin/firewall_as/win_firewall_as_add_rule.yml"
OWN = """title: process without an image
id: 2c4e6a8c-0e1f-4d5f-9a7c-1e3f5a7c9e0b
level: high
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: 'rundll32'
    no_image:
        Image: null
    condition: sel and not no_image
"""

DASH = """title: network logon without a workstation name
id: 7e9a1c3e-5f7b-4d9f-8b1d-3f5b7d9f1b3d
level: low
logsource: {product: windows, service: security}
detection:
    sel:
        EventID: 4624
        LogonType: 3
    named:
        WorkstationName: '-'
    condition: sel and not named
"""

needs_sigmahq = pytest.mark.skipif(not RDP.is_file(), reason="the SigmaHQ rules are not in ../shared")


def _converted(path: Path, layout: str) -> Converted:
    conversion = convert_rules([path], layout=layout)
    assert not conversion.failures
    [converted] = conversion.converted
    return converted


@needs_sigmahq
@pytest.mark.parametrize(
    ("layout", "rule", "limit"),
    [
        (
            ECS,
            FIREWALL,
            "winlog.event_data.ApplicationPath is compared with '', which never matches on this layout: "
            "Winlogbeat leaves empty event values out of the document",
        ),
        (
            WAZUH,
            RDP,
            "data.win.eventdata.ipAddress is compared with '-', which never matches on this layout: "
            "Wazuh's eventchannel decoder leaves values that are empty, '-' or '(NULL)' out of the document",
        ),
        (
            WAZUH,
            FIREWALL,
            "data.win.eventdata.applicationPath is compared with '', which never matches on this layout: "
            "Wazuh's eventchannel decoder leaves values that are empty, '-' or '(NULL)' out of the document",
        ),
    ],
)
def test_a_comparison_with_a_value_the_shipper_drops_is_a_limit_of_the_rule(
    layout: str, rule: Path, limit: str
) -> None:
    converted = _converted(rule, layout)
    assert limit in converted.limits
    assert converted.query  # it still runs, as converted


def test_winlogbeat_keeps_a_dash_so_a_comparison_with_one_has_no_limit_on_ecs(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text(DASH, encoding="utf-8")
    assert _converted(tmp_path / "r.yml", ECS).limits == ()
    [limit] = _converted(tmp_path / "r.yml", WAZUH).limits
    assert limit.startswith("data.win.eventdata.workstationName is compared with '-'")


@pytest.mark.parametrize("layout", [ECS, WAZUH])
def test_a_null_test_is_a_limit_too(layout: str, tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text(OWN, encoding="utf-8")
    [limit] = _converted(tmp_path / "r.yml", layout).limits
    assert "is tested for null, which on this layout also holds where the value was ''" in limit
    assert limit.startswith("process.executable" if layout == ECS else "data.win.eventdata.image")


@needs_sigmahq
def test_the_hunt_lists_the_rule_as_run_with_a_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "300")
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(RDP, rules / RDP.name)
    with serve(Script(mapping=WAZUH_MAPPING, documents=[])) as url:
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules), "--layout", WAZUH]
        out = ["-o", str(tmp_path / "hits.jsonl")]
        # it ran: a limit is said, it does not fail a gate at the rule's level
        assert run(["-v", *argv, *out, "--fail-on", "medium"]) == 0
        said = " ".join("".join(capsys.readouterr()).split())
        assert "1 rules run with a limit" in said
        assert "data.win.eventdata.ipAddress is compared with '-'" in said
        assert run([*argv, *out, "--json"]) == 0
        [problem] = json.loads(capsys.readouterr().out)["rule_problems"]
        assert (problem["skipped"], problem["level"]) == (False, "medium")
        assert problem["title"] == "External Remote RDP Logon from Public IP"
        assert problem["reason"].startswith("runs with a limit on the Wazuh alerts/archives layout:")
