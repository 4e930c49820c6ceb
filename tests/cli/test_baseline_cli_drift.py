"""``secaudit baseline accept`` and ``baseline drift`` on the batfish live vs candidate pair, as CI runs them.

The same relative target (``file:configs/<router>.cfg``) is checked in the live and in the candidate
network folder, as a CI job checks the same path on the main branch and on a merge request.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from secaudit.cli.main import run

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / ".." / "shared" / "fixtures" / "ios-batfish" / "networks" / "example"
ACL = REPO / "tests" / "fixtures" / "baseline" / "drift" / "ios-interface-acl.yaml"
ROUTERS = sorted(p.stem for p in (EXAMPLE / "live" / "configs").glob("*.cfg"))


def _check_all(
    network: str,
    baseline: str,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[Path]:
    """``baseline check --format json`` of every router of one network folder; the result files."""
    monkeypatch.chdir(EXAMPLE / network)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for router in ROUTERS:
        code = run(
            [
                "baseline",
                "check",
                "--baseline",
                baseline,
                "--target",
                f"file:configs/{router}.cfg",
                "--format",
                "json",
            ]
        )
        assert code in (0, 1)
        path = out / f"{router}.json"
        path.write_text(capsys.readouterr().out, encoding="utf-8")
        files.append(path)
    monkeypatch.chdir(REPO)
    return files


def _current(files: list[Path]) -> list[str]:
    return [a for f in files for a in ("--current", str(f))]


def test_live_vs_candidate_shows_which_checks_drift_on_which_router(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(ROUTERS) == 13
    live = _check_all("live", str(ACL), tmp_path / "live", monkeypatch, capsys)
    candidate = _check_all("candidate", str(ACL), tmp_path / "candidate", monkeypatch, capsys)
    accepted = tmp_path / "accepted.json"
    assert run(["baseline", "accept", *map(str, live), "--out", str(accepted)]) == 0
    assert "accepted 39 results" in capsys.readouterr().out
    entries = json.loads(accepted.read_text(encoding="utf-8"))["entries"]
    assert {e["target"] for e in entries} == {f"file:configs/{r}.cfg" for r in ROUTERS}
    assert all(len(e["evidence_sha256"]) == 64 for e in entries)

    # the live network against itself: no drift
    assert run(["baseline", "drift", "--accepted", str(accepted), *_current(live), "--json"]) == 0
    same = json.loads(capsys.readouterr().out)
    assert same["drift"] == 0 and same["counts"]["accepted"] > 0 and same["compared"] == 39

    # the candidate: as2dept1 applies RESTRICT_HOST_TRAFFIC_IN outbound (new failure) and gains
    # outbound filters on two interfaces (the failing egress check now fails on other evidence)
    assert run(["baseline", "drift", "--accepted", str(accepted), *_current(candidate), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    drifted = {(i["target"], i["check"], i["kind"]) for i in data["items"] if i["drift"]}
    assert drifted == {
        ("file:configs/as2dept1.cfg", "acl-out-direction-matches-name", "new-failure"),
        ("file:configs/as2dept1.cfg", "acl-egress-filter", "changed"),
    }
    new = next(i for i in data["items"] if i["kind"] == "new-failure")
    assert new["locations"] == ["configs/as2dept1.cfg:73"]
    assert new["evidence"][0]["value"] == "RESTRICT_HOST_TRAFFIC_IN"
    assert new["evidence"][0]["subject"] == "interface GigabitEthernet2/0"
    # lines moved down by the inserted ACL lines on as2dept1: not drift for the redirects check
    unchanged = {(i["target"], i["check"]) for i in data["items"] if i["kind"] == "accepted"}
    assert ("file:configs/as2dept1.cfg", "acl-no-ip-redirects") in unchanged

    assert run(["baseline", "drift", "--accepted", str(accepted), *_current(candidate)]) == 1
    captured = capsys.readouterr()
    assert "new-failure" in captured.out and "changed" in captured.out
    assert "2 drifted of 39 results compared" in captured.err


def test_shipped_ios_baseline_sees_no_drift_when_only_line_numbers_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _check_all("live", "cisco-ios", tmp_path / "live", monkeypatch, capsys)
    candidate = _check_all("candidate", "cisco-ios", tmp_path / "candidate", monkeypatch, capsys)
    accepted = tmp_path / "accepted.json"
    assert run(["baseline", "accept", *map(str, live), "--out", str(accepted), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"out": str(accepted), "entries": 13 * 24, "targets": 13}
    assert run(["baseline", "drift", "--accepted", str(accepted), *_current(candidate), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["drift"] == 0
    # as2dept1's vty lines moved from line 150 to 152, and its failure is still the accepted one
    vty = next(
        i
        for i in data["items"]
        if i["target"] == "file:configs/as2dept1.cfg" and i["check"] == "ios-vty-ssh-only"
    )
    assert vty["kind"] == "accepted" and vty["locations"] == ["configs/as2dept1.cfg:152"]


def _router_copy(tmp_path: Path, *, replace: tuple[str, str] | None = None) -> Path:
    text = (EXAMPLE / "live" / "configs" / "as1border1.cfg").read_text(encoding="utf-8")
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / "configs" / "as1border1.cfg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, *extra: str) -> Path:
    run(
        [
            "baseline",
            "check",
            "--baseline",
            "cisco-ios",
            "--target",
            "file:configs/as1border1.cfg",
            "--json",
            *extra,
        ]
    )
    path = tmp_path / f"{name}.json"
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    return path


def test_expired_waiver_is_drift_and_fixed_and_missing_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _router_copy(tmp_path)
    today = date.today()
    waivers = tmp_path / "waivers.yaml"

    def waive(expires: date) -> None:
        waivers.write_text(
            "waivers:\n"
            "  - check: ios-cdp-off\n"
            "    target: file:configs/as1border1.cfg\n"
            "    justification: CDP feeds the lab's topology discovery until the next design review.\n"
            "    approver: Network architect\n"
            f"    expires: {expires}\n",
            encoding="utf-8",
        )

    waive(today + timedelta(days=30))
    before = _check(tmp_path, capsys, "before", "--waivers", str(waivers))
    accepted = tmp_path / "accepted.json"
    assert run(["baseline", "accept", str(before), "--out", str(accepted)]) == 0
    capsys.readouterr()
    assert run(["baseline", "drift", "--accepted", str(accepted), "--current", str(before)]) == 0
    capsys.readouterr()

    waive(today - timedelta(days=1))
    after = _check(tmp_path, capsys, "after", "--waivers", str(waivers))
    assert run(["baseline", "drift", "--accepted", str(accepted), "--current", str(after), "--json"]) == 1
    items = json.loads(capsys.readouterr().out)["items"]
    expired = [i for i in items if i["drift"]]
    assert [(i["check"], i["kind"]) for i in expired] == [("ios-cdp-off", "expired-waiver")]
    assert expired[0]["why"] == f"waiver at {waivers}:2 expired on {today - timedelta(days=1)}"

    # fixing a failure is reported, not drift; a target no longer checked is reported as missing
    _router_copy(
        tmp_path, replace=("hostname as1border1", "hostname as1border1\nservice password-encryption")
    )
    waive(today + timedelta(days=60))
    fixed = _check(tmp_path, capsys, "fixed", "--waivers", str(waivers))
    assert run(["baseline", "drift", "--accepted", str(accepted), "--current", str(fixed), "--json"]) == 0
    kinds = {i["check"]: i["kind"] for i in json.loads(capsys.readouterr().out)["items"]}
    assert kinds["ios-password-encryption"] == "fixed"
    assert kinds["ios-cdp-off"] == "waived"
    # without its waiver, the once-waived failure is a new failure
    unwaived = _check(tmp_path, capsys, "unwaived")
    assert run(["baseline", "drift", "--accepted", str(accepted), "--current", str(unwaived), "--json"]) == 1
    drifted = [(i["check"], i["kind"]) for i in json.loads(capsys.readouterr().out)["items"] if i["drift"]]
    assert drifted == [("ios-cdp-off", "new-failure")]
    # a target no longer checked is one row, not one per check, and is drift unless allowed
    other = _check(tmp_path, capsys, "other")
    data = json.loads(other.read_text(encoding="utf-8"))
    data["target"] = "file:configs/renamed.cfg"
    data["results"] = [r for r in data["results"] if r["status"] != "fail"]  # the renamed one is clean
    other.write_text(json.dumps(data), encoding="utf-8")
    args = ["baseline", "drift", "--accepted", str(accepted), "--current", str(other), "--json"]
    assert run(args) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["missing"] == 0
    lost = [i for i in report["items"] if i["kind"] == "target-not-checked"]
    assert [(i["target"], i["check"], i["drift"]) for i in lost] == [
        ("file:configs/as1border1.cfg", "*", True)
    ]
    assert "none of its 24 accepted results" in lost[0]["why"]
    assert report["drift"] == 1
    assert run([*args, "--allow-missing-targets"]) == 0
    lost = [i for i in json.loads(capsys.readouterr().out)["items"] if i["kind"] == "target-not-checked"]
    assert [i["drift"] for i in lost] == [False]


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "schema": "secaudit.baseline-results/1",
                "target": "file:r1.cfg",
                "baseline": {"id": "cisco-ios"},
                "results": [{"id": "ios-cdp-off", "status": "fail", "severity": "low", "evidence": []}],
            }
        ),
        encoding="utf-8",
    )
    accepted = tmp_path / "accepted.json"
    assert run(["baseline", "accept", str(good), "--out", str(accepted)]) == 0
    capsys.readouterr()
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "schema": "secaudit.baseline-results/1",\n  "target": \n}\n', encoding="utf-8")
    assert run(["baseline", "drift", "--accepted", str(accepted), "--current", str(broken)]) == 2
    assert f"{broken}:4: not valid JSON" in capsys.readouterr().err
    assert run(["baseline", "drift", "--accepted", str(good), "--current", str(good)]) == 2
    assert "not an accepted-baseline file" in capsys.readouterr().err
    assert run(["baseline", "drift", "--accepted", str(accepted), "--current", str(accepted)]) == 2
    assert "not baseline results" in capsys.readouterr().err
    assert (
        run(
            ["baseline", "drift", "--accepted", str(accepted), "--current", str(good), "--current", str(good)]
        )
        == 2
    )
    assert "appears twice" in capsys.readouterr().err
    assert run(["baseline", "drift", "--accepted", str(tmp_path / "nope.json"), "--current", str(good)]) == 2
    assert "file not found" in capsys.readouterr().err
    no_results = tmp_path / "no-results.json"
    no_results.write_text(
        good.read_text(encoding="utf-8").replace('"results"', '"resultz"'), encoding="utf-8"
    )
    assert run(["baseline", "accept", str(no_results), "--out", str(tmp_path / "x.json")]) == 2
    assert "'results' is missing" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
