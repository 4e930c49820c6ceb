"""Waivers: the file format (errors with file:line), matching, waived and expired results, the stage."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from secaudit.app.baseline import check_baseline, run_baseline_stage
from secaudit.baseline import CheckStatus, load_baseline, open_target, result_to_dict, run_baseline
from secaudit.baseline.waivers import apply_waivers, load_waivers, unused_waivers
from secaudit.core.errors import ConfigError
from secaudit.core.model import Criticality, SegmentKind, WaiverKind
from secaudit.core.profile import Authorization, BaselineTarget, InventoryAsset, Profile, Segment

REPO = Path(__file__).resolve().parents[2]
WAIVERS = REPO / "tests" / "fixtures" / "baseline" / "waivers" / "router-waivers.yaml"
ROUTER = REPO / "samples" / "snapshots" / "cc-core-rtr01.cfg"
NOW = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_load_keeps_every_field_and_location() -> None:
    ws = load_waivers(WAIVERS)
    text = WAIVERS.read_text(encoding="utf-8")
    cdp, http, ntp, stale = ws.waivers
    assert cdp.check == "ios-cdp-off" and cdp.kind is WaiverKind.WAIVED
    assert cdp.location == f"{WAIVERS}:{_line_of(text, 'check: ios-cdp-off')}"
    assert cdp.approver == "Head of Network Operations"
    # a date expires at the end of that day, UTC
    assert http.expires == datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert http.kind is WaiverKind.ACCEPTED
    assert ntp.baseline == "nginx" and stale.approver == ""


def test_waived_expired_and_untouched_results() -> None:
    run = run_baseline(load_baseline("cisco-ios"), open_target(f"file:{ROUTER}"))
    before = {r.check.id: r for r in run.results}
    after = apply_waivers(run, load_waivers(WAIVERS), now=NOW)
    res = {r.check.id: r for r in after.results}
    text = WAIVERS.read_text(encoding="utf-8")

    cdp = res["ios-cdp-off"]
    assert cdp.status is CheckStatus.WAIVED
    assert cdp.evidence == before["ios-cdp-off"].evidence  # the evidence stays visible
    assert cdp.waiver is not None and cdp.waiver.location.endswith(f":{_line_of(text, 'check: ios-cdp-off')}")
    assert not cdp.waiver_expired

    http = res["ios-http-server-off"]  # expired on 2026-12-31: the check fails again
    assert http.status is CheckStatus.FAIL and http.waiver_expired
    data = result_to_dict(http)
    assert data["status"] == "fail" and data["waiver"]["expired"] is True
    assert data["waiver"]["source"].endswith(f":{_line_of(text, 'check: ios-http-server-off')}")

    assert res["ios-ntp-server"].status is CheckStatus.FAIL  # waiver limited to another baseline
    assert res["ios-ntp-server"].waiver is None
    assert res["ios-no-ip-source-route"].status is CheckStatus.PASS  # never touched when passing
    assert after.count(CheckStatus.WAIVED) == 1
    assert after.count(CheckStatus.FAIL) == run.count(CheckStatus.FAIL) - 1
    # waived results leave the score: pass / (pass + fail)
    assert after.score.failed == run.score.failed - 1 and after.score.other == run.score.other + 1

    unused = unused_waivers(load_waivers(WAIVERS), [after])
    assert [u.split(": ", 1)[1] for u in unused] == [
        "waiver for 'ios-ntp-server' on 'file:*cc-core-rtr01.cfg' matched no failed check",
        "waiver for 'ios-no-ip-source-route' on 'file:*cc-core-rtr01.cfg' matched no failed check",
    ]


def test_before_expiry_the_accepted_risk_is_waived() -> None:
    outcome = check_baseline(
        "cisco-ios", f"file:{ROUTER}", waivers=WAIVERS, now=datetime(2026, 12, 31, tzinfo=UTC)
    )
    res = {r.check.id: r for r in outcome.run.results}
    assert res["ios-http-server-off"].status is CheckStatus.WAIVED
    assert res["ios-http-server-off"].waiver is not None
    assert res["ios-http-server-off"].waiver.kind is WaiverKind.ACCEPTED


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = """\
waivers:
  - check: ios-cdp-off
    target: file:r1.cfg
    justification: CDP feeds the phone system inventory on this router.
    expires: 2027-01-01T00:00:00+07:00
"""


@pytest.mark.parametrize(
    ("body", "line", "message", "hint"),
    [
        (GOOD.replace("justification:", "justfication:"), 4, "did you mean 'justification'", "allowed keys"),
        (
            GOOD.replace("    justification: CDP feeds the phone system inventory on this router.\n", ""),
            2,
            "missing key 'justification'",
            "add 'justification:'",
        ),
        (
            GOOD.replace("CDP feeds the phone system inventory on this router.", "ok"),
            4,
            "too short",
            "in a sentence",
        ),
        (GOOD.replace("2027-01-01T00:00:00+07:00", "next year"), 5, "not a date", "2026-12-31"),
        (GOOD.replace("2027-01-01T00:00:00+07:00", "2027-01-01T00:00:00"), 5, "no UTC offset", "offset"),
        (GOOD + "    kind: waved\n", 6, "did you mean 'waived'", "waived, accepted"),
        (GOOD + GOOD.replace("waivers:\n", ""), 6, "a second waiver for check 'ios-cdp-off'", "one waiver"),
        ("waivers:\n  - ios-cdp-off\n", 2, "must be a mapping", "check: ID"),
        ("version: 2\n" + GOOD, 1, "unknown waivers file version", "only version is 1"),
        ("waiver:\n  - check: x\n", 1, "unknown key 'waiver'", "allowed keys"),
    ],
)
def test_loader_errors_name_file_line_and_fix(
    tmp_path: Path, body: str, line: int, message: str, hint: str
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_waivers(path)
    err = info.value
    assert err.location == f"{path}:{line}", str(err)
    assert message in err.message and err.hint is not None and hint in err.hint


def test_offset_expiry_and_glob_and_asset_scope(tmp_path: Path) -> None:
    body = GOOD + (
        "  - check: ios-ntp-server\n"
        "    target: 'file:*.cfg'\n"
        "    asset: core-rtr-01\n"
        "    justification: The router takes time from the GPS clock on its console port.\n"
        "    expires: 2027-03-01\n"
    )
    ws = load_waivers(_write(tmp_path, body))
    first = ws.waivers[0]
    assert first.expires == datetime(2027, 1, 1, tzinfo=timezone(timedelta(hours=7)))
    assert first.expired(datetime(2026, 12, 31, 17, 0, 1, tzinfo=UTC))
    assert not first.expired(datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC))
    assert ws.match("ios-cdp-off", ["file:r1.cfg"], baseline="cisco-ios", asset="") is first
    assert (
        ws.match("ios-cdp-off", ["file:r2.cfg"], baseline="cisco-ios", asset="") is None
    )  # exact, not prefix
    assert ws.match("ios-ntp-server", ["file:x/r9.cfg"], baseline="b", asset="core-rtr-01") is ws.waivers[1]
    assert ws.match("ios-ntp-server", ["file:r9.cfg"], baseline="b", asset="other") is None
    assert ws.match("ios-ntp-server", ["offline:r9"], baseline="b", asset="core-rtr-01") is None


def _profile() -> Profile:
    return Profile(
        path=str(REPO / "samples" / "stage-test.yaml"),
        organisation="Phuket test",
        authorization=Authorization(
            reference="T-1", approver="tester", valid_from=datetime(2026, 1, 1, tzinfo=UTC), valid_until=NOW
        ),
        segments=(
            Segment(
                name="core",
                cidrs=(),
                kind=SegmentKind.MGMT,
                owner="x",
                criticality=Criticality.HIGH,
                scan_profile="standard",
            ),
        ),
        assets=(InventoryAsset(name="core-rtr-01", address="127.20.6.1", criticality=Criticality.CRITICAL),),
        baseline_targets=(
            BaselineTarget(
                target="file:snapshots/cc-core-rtr01.cfg", baselines=("cisco-ios",), asset="core-rtr-01"
            ),
        ),
    )


def test_stage_returns_waived_failures_apart(tmp_path: Path) -> None:
    out = run_baseline_stage(_profile(), run_dir=tmp_path, now=NOW, progress=lambda e: None, waivers=WAIVERS)
    open_rules = {f.rule_id for f in out.findings}
    assert [w.finding.rule_id for w in out.waived] == ["ios-cdp-off"]
    waived = out.waived[0]
    assert waived.kind is WaiverKind.WAIVED and waived.approved_by == "Head of Network Operations"
    assert waived.source.startswith(f"{WAIVERS}:") and waived.finding.asset.key == "core-rtr-01"
    assert waived.finding.evidence and waived.finding.evidence[0].location.endswith("cc-core-rtr01.cfg")
    assert "ios-cdp-off" not in open_rules
    assert "ios-http-server-off" in open_rules  # expired: open again, and says why
    http = next(f for f in out.findings if f.rule_id == "ios-http-server-off")
    assert "expired on 2026-12-31" in http.description
    data = json.loads((tmp_path / "baseline-results.json").read_text(encoding="utf-8"))
    results = {r["id"]: r for r in data["runs"][0]["results"]}
    assert results["ios-cdp-off"]["status"] == "waived"
    assert results["ios-http-server-off"]["waiver"]["expired"] is True
    assert data["runs"][0]["target_spec"] == "file:snapshots/cc-core-rtr01.cfg"
    assert len(data["unused_waivers"]) == 2


def test_stage_refuses_a_broken_waivers_file_before_running(tmp_path: Path) -> None:
    bad = _write(tmp_path, GOOD.replace("expires:", "expiry:"))
    with pytest.raises(ConfigError, match="did you mean 'expires'"):
        run_baseline_stage(
            _profile(), run_dir=tmp_path / "run", now=NOW, progress=lambda e: None, waivers=bad
        )
    assert not (tmp_path / "run").exists()
