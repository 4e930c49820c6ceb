"""Drift: normalised evidence hashes, reading both results shapes, and what counts as drift."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.app.baseline import run_baseline_stage
from secaudit.baseline.drift import (
    AcceptedEntry,
    DriftKind,
    accept,
    compare,
    evidence_sha256,
    evidence_summary,
    host_path,
    read_all,
    read_results,
    record_finding,
    redact,
)
from secaudit.core.errors import ConfigError
from secaudit.core.profile import Authorization, BaselineTarget, Profile

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 1, 10, tzinfo=UTC)
OBS = {"subject": "line vty 0 4", "value": "telnet  ssh", "file": "/n/r1.cfg", "line": 150}


def test_hash_ignores_lines_whitespace_order_and_the_dumps_own_path() -> None:
    base = evidence_sha256([OBS, {**OBS, "subject": "line vty 5 15"}], "file:/n/r1.cfg")
    moved = [{**OBS, "subject": "line vty 5 15", "line": 9}, {**OBS, "line": 152, "value": "telnet ssh"}]
    assert evidence_sha256(moved, "file:/n/r1.cfg") == base
    elsewhere = [{**o, "file": "/ci/r1.cfg"} for o in moved]
    assert evidence_sha256(elsewhere, "file:/ci/r1.cfg") == base
    # a different value, one entry more or less, or another file inside a root is a change
    assert (
        evidence_sha256([{**OBS, "value": "telnet"}, {**OBS, "subject": "line vty 5 15"}], "file:/n/r1.cfg")
        != base
    )
    assert evidence_sha256([OBS], "file:/n/r1.cfg") != base
    inside = {"subject": "/etc/ssh/sshd_config", "value": "yes", "file": "/etc/ssh/sshd_config", "line": 3}
    assert evidence_sha256([inside], "offline:a") == evidence_sha256([inside], "offline:b")
    assert evidence_sha256([inside], "offline:a") != evidence_sha256(
        [{**inside, "file": "/etc/x"}], "offline:a"
    )


def test_host_path_maps_offline_files_under_the_root() -> None:
    assert host_path("offline:snap/cc-app01", "/etc/ssh/sshd_config") == "snap/cc-app01/etc/ssh/sshd_config"
    assert host_path("file:r1.cfg", "r1.cfg") == "r1.cfg"


def _profile() -> Profile:
    return Profile(
        path=str(REPO / "samples" / "stage-test.yaml"),
        organisation="t",
        segments=(),
        authorization=Authorization(
            reference="T", approver="t", valid_from=datetime(2026, 1, 1, tzinfo=UTC), valid_until=NOW
        ),
        baseline_targets=(
            BaselineTarget(
                target="offline:snapshots/cc-app01", baselines=("openssh-server",), asset="cc-app-01"
            ),
            BaselineTarget(target="file:snapshots/portal-nginx.conf", baselines=("nginx",)),
        ),
    )


def test_audit_results_file_is_read_by_target_as_written(tmp_path: Path) -> None:
    run_baseline_stage(_profile(), run_dir=tmp_path, now=NOW, progress=lambda e: None)
    records = read_results(tmp_path / "baseline-results.json")
    targets = {r.target for r in records}
    assert targets == {"offline:snapshots/cc-app01", "file:snapshots/portal-nginx.conf"}
    root_login = next(r for r in records if r.check == "ssh-permit-root-login")
    assert root_login.status == "fail" and root_login.baseline == "openssh-server"
    (path, line), *_ = root_login.locations()
    assert (
        path == str(REPO / "samples" / "snapshots" / "cc-app01" / "etc" / "ssh" / "sshd_config") and line > 0
    )
    assert Path(path).is_file()
    finding = record_finding(root_login)
    assert (
        finding.evidence[0].location == f"{path}:{line}" and finding.asset.key == "offline:snapshots/cc-app01"
    )

    data = accept(records, now=NOW, sources=["x"])
    accepted = {
        (e["target"], e["baseline"], e["check"]): AcceptedEntry(
            **{k: e[k] for k in AcceptedEntry.__slots__ if k != "evidence"}, evidence=tuple(e["evidence"])
        )
        for e in data["entries"]
    }
    report = compare(accepted, records)
    assert report.drift == () and report.count(DriftKind.ACCEPTED) == sum(r.status == "fail" for r in records)


def test_drift_kinds(tmp_path: Path) -> None:
    def results(status: str, value: str, *, expired: bool = False) -> Path:
        result = {"id": "c1", "status": status, "severity": "high", "evidence": [{**OBS, "value": value}]}
        if expired:
            result["waiver"] = {"expired": True, "source": "w.yaml:2", "expires": "2026-01-01T23:59:59+00:00"}
        path = tmp_path / f"{status}-{value}-{expired}.json"
        path.write_text(
            json.dumps(
                {
                    "schema": "secaudit.baseline-results/1",
                    "target": "file:/n/r1.cfg",
                    "baseline": {"id": "b"},
                    "results": [result],
                }
            ),
            encoding="utf-8",
        )
        return path

    def kind(before: tuple[str, str], now: Path) -> DriftKind | None:
        accepted = {r.key: r for r in read_all([results(*before)])}
        entries = {
            k: AcceptedEntry(
                **{f: getattr(r, f) for f in AcceptedEntry.__slots__ if f != "evidence"},
                evidence=evidence_summary(r.data["evidence"]),
            )
            for k, r in accepted.items()
        }
        items = compare(entries, read_all([now])).items
        return items[0].kind if items else None

    assert kind(("pass", "ssh"), results("fail", "telnet")) is DriftKind.NEW_FAILURE
    assert kind(("fail", "telnet"), results("fail", "telnet")) is DriftKind.ACCEPTED
    assert kind(("fail", "telnet"), results("fail", "telnet ssh")) is DriftKind.CHANGED
    assert kind(("fail", "telnet"), results("fail", "telnet", expired=True)) is DriftKind.EXPIRED_WAIVER
    assert kind(("fail", "telnet"), results("waived", "telnet")) is DriftKind.WAIVED
    assert kind(("fail", "telnet"), results("pass", "ssh")) is DriftKind.FIXED
    assert kind(("pass", "ssh"), results("error", "x")) is DriftKind.ERROR
    assert kind(("pass", "ssh"), results("pass", "ssh")) is None
    assert kind(("notapplicable", "x"), results("fail", "x")) is DriftKind.NEW_FAILURE


def test_results_of_another_kind_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    path.write_text(json.dumps({"schema": "secaudit.findings/1", "findings": []}), encoding="utf-8")
    with pytest.raises(ConfigError, match="not baseline results") as info:
        read_results(path)
    assert info.value.location == str(path) and info.value.hint and "--format json" in info.value.hint


def test_a_changed_row_shows_the_accepted_and_the_current_evidence(tmp_path: Path) -> None:
    def results(value: str) -> Path:
        path = tmp_path / f"{value}.json"
        result = {"id": "c1", "status": "fail", "severity": "high", "evidence": [{**OBS, "value": value}]}
        run = {"schema": "secaudit.baseline-results/1", "target": "file:/n/r1.cfg", "baseline": {"id": "b"}}
        path.write_text(json.dumps({**run, "results": [result]}), encoding="utf-8")
        return path

    data = accept(read_all([results("telnet")]), now=NOW)
    assert data["entries"][0]["evidence"] == ["line vty 0 4 = telnet (/n/r1.cfg:150)"]
    path = tmp_path / "accepted.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    from secaudit.baseline.drift import load_accepted

    (item,) = compare(load_accepted(path), read_all([results("telnet rlogin")])).items
    assert item.kind is DriftKind.CHANGED
    assert item.why == (
        "still fails, on different evidence. accepted: line vty 0 4 = telnet (/n/r1.cfg:150)"
        " | now: line vty 0 4 = telnet rlogin (/n/r1.cfg:150)"
    )


def test_the_evidence_summary_is_redacted() -> None:
    assert redact("enable secret 5 $1$abcd$efghijklmnop") == "enable secret 5 <hash redacted>"
    assert redact("username admin password 7 0822455D0A16") == "username admin password 7 <redacted>"
    assert redact("snmp-server community public RO") == "snmp-server community <redacted> RO"
    assert redact("root:$y$j9T$salt$hash:19000:0") == "root:<hash redacted>"
    assert "grub.pbkdf2" not in redact("password_pbkdf2 admin grub.pbkdf2.sha512.10000.AB")
    summary = evidence_summary(
        [{"subject": "enable", "value": "secret 9 $9$xyz", "file": "r1.cfg", "line": 4}]
    )
    assert summary == ("enable = secret 9 <hash redacted> (r1.cfg:4)",)
    many = evidence_summary([{"subject": str(n), "value": "x"} for n in range(13)])
    assert len(many) == 11 and many[-1] == "... 3 more"
