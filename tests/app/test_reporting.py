"""The audit's reports end to end: risk-ranked, aggregated, waived, compliance-mapped, every format
and language written, and rebuilt from history with `secaudit report`."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest

from secaudit.app.audit import AuditOptions, run_audit
from secaudit.app.stages import Stage, StageContext
from secaudit.catalog.profile import load_profile
from secaudit.cli.main import run as cli_run
from secaudit.core.errors import ConfigError
from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    Reference,
    RefKind,
    RunStatus,
    Severity,
    Source,
    StageOutput,
    StageResult,
    WaivedFinding,
    WaiverKind,
)
from secaudit.report.json_writer import json_schema

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "report" / "schema" / "sarif-schema-2.1.0.json"

PROFILE = """\
version: 1
organisation: Test City
authorization:
  reference: AUTH-9
  approver: Test approver
  valid_from: 2026-01-01
  valid_until: 2099-01-01
segments:
  - name: lab
    cidrs: [127.0.0.0/29]
    kind: it
    owner: Lab
    criticality: high
  - name: signals
    cidrs: [127.0.1.0/29]
    kind: ot
    owner: Traffic
    criticality: public-safety-critical
assets:
  - name: app-1
    role: test host
    address: 127.0.0.2
    criticality: critical
  - name: app-2
    role: test host
    address: 127.0.0.3
    criticality: high
  - name: signal-1
    role: test host
    address: 127.0.1.2
    criticality: public-safety-critical
baseline_targets:
  - target: offline:snap
    baselines: [openssh-server]
    asset: app-1
report:
  languages: [en, th]
  formats: [html, json, sarif, junit, csv, md]
  fail_on: high
"""

APP1 = Asset(key="app-1", address="127.0.0.2", segment="lab", criticality=Criticality.CRITICAL)
APP2 = Asset(key="app-2", address="127.0.0.3", segment="lab", criticality=Criticality.HIGH)
SIGNAL = Asset(
    key="signal-1", address="127.0.1.2", segment="signals", criticality=Criticality.PUBLIC_SAFETY_CRITICAL
)


def _root_login(asset: Asset, line: int) -> Finding:
    return Finding(
        rule_id="ssh-permit-root-login",
        source=Source.BASELINE,
        severity=Severity.HIGH,
        title="Not met: root cannot log in over SSH",
        asset=asset,
        evidence_key="PermitRootLogin",
        evidence=(
            Evidence(
                kind="config", summary="PermitRootLogin yes", location=f"snap/etc/ssh/sshd_config:{line}"
            ),
        ),
        remediation="Set PermitRootLogin no.",
        references=(  # as the shipped check cites them
            Reference(kind=RefKind.CIS_CONTROLS, id="5.4"),
            Reference(kind=RefKind.ISO27001, id="A.8.2"),
            Reference(kind=RefKind.NIST_CSF, id="PR.AA-05"),
            Reference(kind=RefKind.TH_CII, id="protect"),
        ),
    )


TELNET = Finding(
    rule_id="EXP-TELNET",
    source=Source.SCAN,
    severity=Severity.HIGH,
    title="Telnet login service reachable",
    asset=SIGNAL,
    evidence_key="tcp/23",
    evidence=(
        Evidence(
            kind="network", summary="telnet open", location="127.0.1.2:23/tcp", excerpt="<script>x</script>"
        ),
    ),
)
SPRAY = Finding(
    rule_id="0f06a3a5-6a09-413f-8743-e6cf35561297",
    source=Source.DETECTION,
    severity=Severity.MEDIUM,
    title="Password spraying",
    asset=APP2,
    evidence_key="burst-1",
    references=(Reference(kind=RefKind.ATTACK, id="T1110.003"),),
    evidence=(Evidence(kind="log", summary="41 failures", location="logs/auth.log#812"),),
)
WAIVED = WaivedFinding(
    finding=_root_login(SIGNAL, 9),
    kind=WaiverKind.ACCEPTED,
    justification="vendor maintenance access until the controller is replaced",
    approved_by="Traffic Engineering",
    expires=datetime(2099, 1, 1, tzinfo=UTC),
    source="waivers.yaml:3",
)


class Producer:
    def __init__(
        self, name: str, source: Source, findings: list[Finding], waived: tuple[WaivedFinding, ...] = ()
    ):
        self.name, self.source, self.findings, self.waived = name, source, findings, waived

    def __call__(self, ctx: StageContext) -> StageOutput:
        return StageOutput(
            findings=tuple(self.findings),
            result=StageResult(name=self.name, status=RunStatus.COMPLETED, findings=len(self.findings)),
            waived=self.waived,
        )

    def stage(self) -> Stage:
        return Stage(name=self.name, source=self.source, run=self, description="test producer")


@pytest.fixture
def audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    (tmp_path / "snap").mkdir()
    profile = tmp_path / "city.yaml"
    profile.write_text(PROFILE)
    registry = (
        Producer("scan", Source.SCAN, [TELNET]).stage(),
        Producer(
            "baseline", Source.BASELINE, [_root_login(APP2, 12), _root_login(APP1, 32)], (WAIVED,)
        ).stage(),
        Producer("hunt", Source.DETECTION, [SPRAY]).stage(),
    )
    monkeypatch.setattr("secaudit.app.stages.STAGES", registry)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # no KEV catalogue from the machine
    options = AuditOptions(
        profile_path=profile, output_dir=tmp_path / "reports", history_path=tmp_path / "h.sqlite"
    )
    return run_audit(options, registry=registry), tmp_path


def test_the_audit_writes_every_format_and_language(audited) -> None:  # type: ignore[no-untyped-def]
    result, _ = audited
    folder = result.run_dir
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "findings.csv",
        "findings.json",
        "findings.sarif",
        "junit.xml",
        "report.html",
        "report.th.html",
        "summary.md",
    ]
    assert set(result.files) == {"html", "html.th", "json", "sarif", "junit", "csv", "md"}
    assert result.run.risk_model == "risk-3 (no KEV catalogue)"

    data = json.loads((folder / "findings.json").read_text())
    jsonschema.Draft202012Validator(json_schema()).validate(data)
    sarif = json.loads((folder / "findings.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    ElementTree.fromstring((folder / "junit.xml").read_bytes())
    rows = list(
        csv.DictReader(io.StringIO((folder / "findings.csv").read_text(encoding="utf-8"), newline=""))
    )
    assert "**Posture score:" in (folder / "summary.md").read_text()
    assert 'lang="th"' in (folder / "report.th.html").read_text()
    assert 'lang="en"' in (folder / "report.html").read_text()

    # ranking: the detection's asset, app-2, is under attack: its root-login finding leads the aggregated
    # row, raised to track* (a configuration weakness of an attacked host: poc), below the two Attend rows
    ranked = [(e["rule_id"], [a["key"] for a in e["assets"]], e["decision"]) for e in data["findings"]]
    assert ranked == [
        ("EXP-TELNET", ["signal-1"], "attend"),
        ("0f06a3a5-6a09-413f-8743-e6cf35561297", ["app-2"], "attend"),
        ("ssh-permit-root-login", ["app-2", "app-1"], "track*"),
    ]
    top = data["findings"][2]
    assert {
        "name": "active_attack",
        "value": "detection on the same asset: 0f06a3a5-6a09-413f-8743-e6cf35561297",
        "points": 15.0,
    } in top["factors"]
    assert data["summary"]["instances"] == 4
    assert [w["finding"]["asset"]["key"] for w in data["waived"]] == ["signal-1"]
    assert [(r["asset"], r["status"]) for r in rows] == [
        ("signal-1", "new"),
        ("app-2", "new"),
        ("app-2", "new"),
        ("app-1", "new"),
        ("signal-1", "waived"),
    ]
    coverage = {
        (c["framework"], c["control"]): (c["status"], c["checked"], c["failing"], c["passing"])
        for c in data["compliance"]
    }
    # CIS 5.4: ssh-permit-root-login failed (open findings, and an accepted risk), and the five own
    # Sigma rules citing it ran with the hunt and found nothing
    assert coverage[("cis-controls-v8", "5.4")] == ("failed", 6, 1, 5)
    # EXP-TELNET cites 3.10 and 4.6: its finding fails them; the other exposure rules citing them passed
    assert coverage[("cis-controls-v8", "4.6")] == ("failed", 1, 1, 0)
    transit = coverage[("cis-controls-v8", "3.10")]
    assert transit[:3] == ("failed", transit[1], 1) and transit[3] == transit[1] - 1 >= 10
    # only the two Zeek rules cite 13.3; nothing this run assessed cites 17.1
    assert coverage[("cis-controls-v8", "13.3")] == ("passed", 2, 0, 2)
    assert coverage[("cis-controls-v8", "17.1")] == ("unassessed", 0, 0, 0)
    # the spraying detection comes from a rule without a compliance block: it counts toward nothing
    assert coverage[("cis-controls-v8", "8.11")][2] == 0
    summary = {s["framework"]: s for s in data["compliance_summary"]}
    cis = summary["cis-controls-v8"]
    assert cis["controls"] == 153 and cis["assessed"] + cis["unassessed"] == 153
    assert cis["assessed"] == sum(1 for (fw, _), c in coverage.items() if fw == "cis-controls-v8" and c[1])
    assert cis["failed"] >= 3 and "17.1" in cis["unassessed_controls"]
    junit = ElementTree.fromstring((folder / "junit.xml").read_bytes()).find("testsuite")
    assert junit is not None and junit.get("failures") == "3" and junit.get("skipped") == "1"
    locations = {
        r["partialFingerprints"]["secaudit/v1"]: r["locations"][0]["physicalLocation"]
        for r in sarif["runs"][0]["results"]
    }
    assert locations[_root_login(APP1, 32).fingerprint]["region"] == {"startLine": 32}
    assert locations[TELNET.fingerprint]["artifactLocation"]["uri"].endswith("city.yaml")


def test_report_command_rebuilds_any_format_from_history(audited, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    result, tmp_path = audited
    history = str(tmp_path / "h.sqlite")
    out = tmp_path / "again" / "one.sarif"
    out.parent.mkdir()
    assert cli_run(["report", "--history", history, "--format", "sarif", "--output", str(out)]) == 0
    again = json.loads(out.read_text())
    original = json.loads((result.run_dir / "findings.sarif").read_text())
    assert again["runs"][0]["results"] == original["runs"][0]["results"]
    target = tmp_path / "rebuilt"
    code = cli_run(
        [
            "report",
            "--run",
            result.run.id,
            "--history",
            history,
            "--format",
            "md",
            "--format",
            "html",
            "--lang",
            "th",
            "--output-dir",
            str(target),
        ]
    )
    assert code == 0
    rebuilt = target / result.run.id
    assert sorted(p.name for p in rebuilt.iterdir()) == ["report.html", "summary.md"]
    assert 'lang="th"' in (rebuilt / "report.html").read_text()
    capsys.readouterr()
    assert (
        cli_run(["report", "--history", history, "--format", "md", "--format", "csv", "--output", str(out)])
        == 2
    )
    assert "exactly one --format" in capsys.readouterr().err
    assert (
        cli_run(
            ["report", "--history", history, "--run", "nope", "--format", "json", "--output-dir", str(target)]
        )
        != 0
    )


@pytest.mark.parametrize(
    ("report_section", "line", "message"),
    [
        ("report:\n  language: en\n  languages: [en, th]\n", 21, "either 'language' or 'languages'"),
        ("report:\n  languages: [en, fr]\n", 20, "unknown report language 'fr'"),
        ("report:\n  languages: []\n", 20, "'languages' is empty"),
        ("report:\n  formats: [html, docx]\n", 20, "unknown report format 'docx'"),
    ],
)
def test_report_settings_are_validated_with_file_and_line(
    tmp_path: Path, report_section: str, line: int, message: str
) -> None:
    head = PROFILE.split("assets:", maxsplit=1)[0]
    path = tmp_path / "p.yaml"
    path.write_text(head + report_section)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    assert caught.value.location == f"{path}:{line}"
    assert message in caught.value.message
    path.write_text(head + "report:\n  languages: [th, en, th]\n  formats: [md, sarif]\n")
    settings = load_profile(path).report
    assert (settings.language, settings.languages, settings.formats) == ("th", ("th", "en"), ("md", "sarif"))


def test_a_rule_that_ran_counts_as_passed_only_where_it_could_apply() -> None:
    from dataclasses import replace as dc_replace

    from secaudit.app.reporting import rules_that_ran
    from secaudit.core.model import Run, SegmentKind, StageResult
    from secaudit.risk.compliance import Outcome
    from tests.report.conftest import make_profile

    city = make_profile()
    mgmt_only = dc_replace(
        city, segments=tuple(dc_replace(s, kind=SegmentKind.MGMT) for s in city.segments[:1])
    )
    run = Run(
        id="r",
        profile_path="p.yaml",
        organisation="o",
        started_at=datetime(2026, 3, 1, tzinfo=UTC),
        stages=(
            StageResult(name="scan", status=RunStatus.COMPLETED),
            StageResult(name="detect", status=RunStatus.FAILED),
        ),
    )
    ran = rules_that_ran(run, mgmt_only)
    assert ran["EXP-TELNET"][1] is Outcome.PASSED
    assert ran["EXP-HTTP-DEVICE-CLEARTEXT"][1] is Outcome.PASSED  # ot, cctv or mgmt
    # remote desktop outside mgmt, and ICS protocols in IT or DMZ: no such segment to look at
    assert ran["EXP-REMOTE-DESKTOP-OUTSIDE-MGMT"][1] is Outcome.NOT_APPLICABLE
    assert ran["EXP-ICS-IN-IT-OR-DMZ"][1] is Outcome.NOT_APPLICABLE
    assert "d8799089-716c-485d-ab3d-fe9861f238f1" not in ran  # the hunt did not complete: no Sigma rule ran
    everywhere = rules_that_ran(
        dc_replace(run, stages=(StageResult(name="detect", status=RunStatus.COMPLETED),)), city
    )
    assert everywhere["d8799089-716c-485d-ab3d-fe9861f238f1"][1] is Outcome.PASSED  # SSH brute force
    assert not any(rule_id.startswith("EXP-") for rule_id in everywhere)  # the scan did not run


def test_an_own_sigma_rule_counts_as_passed_only_when_events_of_its_log_source_reached_it(
    tmp_path: Path,
) -> None:
    """A Sigma rule whose log source the hunt never read looked at nothing: its silence passes no
    control. The hunt says which rules some event reached (one and two workers alike), and the
    compliance count follows it."""
    import json as json_module

    from secaudit.app.hunt import HuntOptions, hunt
    from secaudit.app.reporting import rules_that_ran
    from secaudit.core.events import LogKind
    from secaudit.core.model import Run, StageResult
    from secaudit.risk.compliance import Outcome
    from tests.report.conftest import make_profile

    rules = tmp_path / "rules"
    rules.mkdir()
    linux_id, windows_id = "6c1d3e9a-0000-4000-8000-00000000a001", "6c1d3e9a-0000-4000-8000-00000000a002"
    for rule_id, logsource in ((linux_id, "{product: linux}"), (windows_id, "{product: windows}")):
        (rules / f"{rule_id}.yml").write_text(
            f"title: R {rule_id[-1]}\nid: {rule_id}\nstatus: test\nlogsource: {logsource}\n"
            "detection: {sel: {message: never-there}, condition: sel}\nlevel: high\n",
            encoding="utf-8",
        )
    log = tmp_path / "auth.jsonl"
    log.write_text(
        "".join(json_module.dumps({"message": f"ordinary {i}"}) + "\n" for i in range(60_000)),
        encoding="utf-8",
    )
    for workers in (1, 2):
        summary = hunt(
            HuntOptions(inputs=(str(log),), rules=(rules,), kind=LogKind(product="linux"), workers=workers),
            on_hit=lambda hit: None,
        )
        assert summary.fed_rules == {linux_id}, workers
        assert summary.workers == workers  # two pieces of the file, one per worker

    own = "d8799089-716c-485d-ab3d-fe9861f238f1"  # our SSH brute-force rule (linux auth logs)
    run = Run(
        id="r",
        profile_path="p.yaml",
        organisation="o",
        started_at=datetime(2026, 3, 1, tzinfo=UTC),
        stages=(StageResult(name="detect", status=RunStatus.COMPLETED),),
    )
    assert rules_that_ran(run, make_profile(), fed=frozenset({own}))[own][1] is Outcome.PASSED
    assert rules_that_ran(run, make_profile(), fed=frozenset())[own][1] is Outcome.NOT_APPLICABLE
