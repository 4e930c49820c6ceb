"""``baseline check``, ``import-sca`` and ``drift`` as JUnit and SARIF: valid documents, and a file
location on every result and case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from defusedxml import ElementTree

from secaudit.cli.main import run

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = REPO / "tests" / "report" / "schema" / "sarif-schema-2.1.0.json"
EXAMPLE = REPO / ".." / "shared" / "fixtures" / "ios-batfish" / "networks" / "example"
ACL = REPO / "tests" / "fixtures" / "baseline" / "drift" / "ios-interface-acl.yaml"


def _sarif(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    for result in doc["runs"][0]["results"]:
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], result
    return doc


def _junit(text: str) -> list[Any]:
    root = ElementTree.fromstring(text.encode("utf-8"))
    cases = list(root.iter("testcase"))
    assert cases and all(c.get("file") for c in cases)
    return cases


def _outcome(case: Any) -> str:
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "pass"


def test_check_as_sarif_and_junit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    args = [
        "baseline",
        "check",
        "--baseline",
        "cisco-ios",
        "--target",
        "file:samples/snapshots/cc-core-rtr01.cfg",
    ]
    assert run([*args, "--format", "json"]) == 1
    statuses = {r["id"]: r["status"] for r in json.loads(capsys.readouterr().out)["results"]}
    failing = {k for k, v in statuses.items() if v == "fail"}

    assert run([*args, "--format", "sarif"]) == 1
    doc = _sarif(capsys.readouterr().out)
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == failing
    vty = next(r for r in results if r["ruleId"] == "ios-vty-ssh-only")
    location = vty["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "samples/snapshots/cc-core-rtr01.cfg"},
        "region": {"startLine": 47},
    }

    assert run([*args, "--format", "junit"]) == 1
    cases = _junit(capsys.readouterr().out)
    by_check = {c.get("name").split(":", 1)[0]: c for c in cases}
    assert set(by_check) == set(statuses)
    assert {k for k, c in by_check.items() if _outcome(c) == "failure"} == failing
    assert _outcome(by_check["ios-ssh-version-2"]) == "pass"
    assert by_check["ios-vty-ssh-only"].get("file") == "samples/snapshots/cc-core-rtr01.cfg"
    assert by_check["ios-vty-ssh-only"].get("line") == "47"


def test_offline_evidence_points_into_the_root(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    args = [
        "baseline",
        "check",
        "--baseline",
        "openssh-server",
        "--target",
        "offline:samples/snapshots/cc-app01",
    ]
    assert run([*args, "--format", "sarif"]) == 1
    results = _sarif(capsys.readouterr().out)["runs"][0]["results"]
    root_login = next(r for r in results if r["ruleId"] == "ssh-permit-root-login")
    uri = root_login["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "samples/snapshots/cc-app01/etc/ssh/sshd_config" and (REPO / uri).is_file()


def _check_network(
    network: str, out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    monkeypatch.chdir(EXAMPLE / network)
    run(
        [
            "baseline",
            "check",
            "--baseline",
            str(ACL),
            "--target",
            "file:configs/as2dept1.cfg",
            "--format",
            "json",
        ]
    )
    out.write_text(capsys.readouterr().out, encoding="utf-8")
    return out


def test_drift_as_sarif_and_junit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _check_network("live", tmp_path / "live.json", monkeypatch, capsys)
    candidate = _check_network("candidate", tmp_path / "candidate.json", monkeypatch, capsys)
    accepted = tmp_path / "accepted.json"
    assert run(["baseline", "accept", str(live), "--out", str(accepted)]) == 0
    capsys.readouterr()
    # CI runs from the checkout: the candidate's evidence paths are relative to it
    args = ["baseline", "drift", "--accepted", str(accepted), "--current", str(candidate)]
    assert run([*args, "--format", "sarif"]) == 1
    results = _sarif(capsys.readouterr().out)["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["acl-egress-filter", "acl-out-direction-matches-name"]
    wrong_way = next(r for r in results if r["ruleId"] == "acl-out-direction-matches-name")
    assert wrong_way["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "configs/as2dept1.cfg"},
        "region": {"startLine": 73},
    }
    assert wrong_way["message"]["text"].startswith("New failure: No ACL named for inbound traffic")

    assert run([*args, "--format", "junit"]) == 1
    cases = _junit(capsys.readouterr().out)
    outcomes = {c.get("name").split(":", 1)[0]: _outcome(c) for c in cases}
    assert outcomes == {
        "acl-out-direction-matches-name": "failure",
        "acl-egress-filter": "failure",
        "acl-no-ip-redirects": "pass",  # failing exactly as accepted
    }

    assert (
        run(["baseline", "drift", "--accepted", str(accepted), "--current", str(live), "--format", "sarif"])
        == 0
    )
    assert _sarif(capsys.readouterr().out)["runs"][0]["results"] == []


def test_import_sca_as_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "issue").write_text("Authorized use only\n", encoding="utf-8")
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "policy: {id: banner}\n"
        "checks:\n"
        "  - {id: 1, title: Banner warns, condition: all, rules: ['f:/etc/issue -> r:authorized']}\n"
        "  - {id: 2, title: No motd, condition: all, rules: ['not f:/etc/issue']}\n"
        "  - {id: 3, title: Runs, condition: all, rules: ['p:sshd']}\n",
        encoding="utf-8",
    )
    assert (
        run(["baseline", "import-sca", str(policy), "--target", f"offline:{root}", "--format", "junit"]) == 1
    )
    cases = {c.get("name").split(":", 1)[0]: c for c in _junit(capsys.readouterr().out)}
    assert {k: _outcome(c) for k, c in cases.items()} == {
        "sca.banner.1": "pass",
        "sca.banner.2": "failure",
        "sca.banner.3": "skipped",
    }
    assert cases["sca.banner.1"].get("file") == f"{root}/etc/issue"
    assert cases["sca.banner.3"].get("file") == str(policy)  # nothing observed: the policy file
