"""Inventory and drift with real scans: ``secaudit scan`` twice, a port opened in between,
``secaudit scan diff`` reports it (exit 1), and a scan compared with itself is the same (exit 0)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from secaudit.cli.main import run
from secaudit.cli.scan import scan
from secaudit.history import HistoryStore, ScanRecord
from tests.scan.test_stage_live import _demo_net

PROFILE = """version: 1
organisation: Drift test
authorization:
  reference: PKT-DRIFT-1
  approver: CISO
  valid_from: 2026-01-01
  valid_until: 2099-12-31
segments:
  - name: office
    cidrs: [127.23.1.0/30]
    kind: it
    owner: city
    criticality: high
  - name: plant
    cidrs: [127.23.2.0/30]
    kind: it
    owner: city
    criticality: high
report:
  output_dir: {out}
"""


def _scan(profile: Path, out: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(scan, ["--profile", str(profile), "--output", str(out), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def _diff(profile: Path, *ids: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(scan, ["diff", "--profile", str(profile), *ids, "--json"])
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else {}


@pytest.mark.skipif(os.geteuid() != 0, reason="SYN scans need root")
def test_a_port_opened_between_two_scans_is_drift(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE.format(out=tmp_path / "reports"))
    demo = _demo_net()
    first = demo.start([demo.Spec("127.23.1.1", 1883, "mqtt")])
    second = None
    try:
        one = _scan(profile, tmp_path / "one")
        second = demo.start([demo.Spec("127.23.1.1", 8080, "camera-http")])
        two = _scan(profile, tmp_path / "two")
        # A scan of one segment only: the other segment's hosts must not look gone.
        three = _scan(profile, tmp_path / "three", "--segment", "plant")
    finally:
        first.stop()
        if second is not None:
            second.stop()

    code, diff = _diff(profile, one["run_id"], two["run_id"])
    assert code == 1
    assert diff["a"]["scan"] == one["run_id"] and diff["b"]["scan"] == two["run_id"]
    assert [(o["address"], o["port"], o["state"]) for o in diff["opened"]] == [
        ("127.23.1.1", "tcp/8080", "open")
    ]
    assert "http" in diff["opened"][0]["service"]
    assert diff["closed"] == diff["changed"] == diff["new_hosts"] == diff["gone_hosts"] == []

    same_code, same = _diff(profile, two["run_id"], two["run_id"])
    assert (same_code, same["same"]) == (0, True)

    # Default: the last two scans (two, three); plant, which both covered, did not change.
    last_code, last = _diff(profile)
    assert (last_code, last["a"]["scan"], last["b"]["scan"]) == (0, two["run_id"], three["run_id"])
    with HistoryStore.open(tmp_path / "reports" / "history.sqlite") as store:
        assets = {a.host.address: a for a in store.inventory.assets(str(profile.resolve()))}
    # Every loopback address answers, so all four are hosts; only .1 has services.
    assert sorted(assets) == ["127.23.1.1", "127.23.1.2", "127.23.2.1", "127.23.2.2"]
    asset = assets["127.23.1.1"]
    assert asset.host.segment == "office" and assets["127.23.2.2"].host.services == ()
    assert [s.key for s in asset.host.services] == ["tcp/1883", "tcp/8080"]
    assert asset.first_scan_id == one["run_id"] and asset.last_scan_id == two["run_id"]
    assert asset.first_seen <= asset.last_seen

    listed = CliRunner().invoke(scan, ["inventory", "--profile", str(profile), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["address"]: r for r in json.loads(listed.output)}
    assert list(rows) == ["127.23.1.1", "127.23.1.2", "127.23.2.1", "127.23.2.2"]
    assert [p["port"] for p in rows["127.23.1.1"]["services"]] == ["tcp/1883", "tcp/8080"]
    assert (rows["127.23.1.1"]["first_scan"], rows["127.23.1.1"]["last_scan"]) == (
        one["run_id"],
        two["run_id"],
    )
    assert rows["127.23.2.1"]["last_scan"] == three["run_id"]


def test_diff_errors_exit_2_like_ndiff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE.format(out=tmp_path / "reports"))
    history = tmp_path / "reports" / "history.sqlite"

    def diff(*argv: str) -> tuple[int, str]:
        code = run(["scan", "diff", "--profile", str(profile), *argv])
        return code, " ".join(capsys.readouterr().err.split())

    assert diff() == (
        2,
        f"error: {history}: no history database here hint: run `secaudit scan --profile FILE` "
        "twice first, or point --history at its history.sqlite",
    )
    HistoryStore.open(history).close()
    code, err = diff()
    assert code == 2 and "holds 0 completed scan(s) of this profile; drift needs two" in err
    code, err = diff("nope-a", "nope-b")
    assert code == 2 and "no scan 'nope-a' in this history" in err
    code, err = diff("only-one")
    assert code == 2 and "give two scan ids" in err
    history.write_bytes(b"not a database at all" * 100)
    code, err = diff()
    assert code == 2 and "not an intact SQLite database" in err  # a HistoryError (3) becomes 2 here


def test_scans_with_no_address_in_common_are_not_called_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two scans of different segments have nothing to compare: exit 2, not "no change"."""
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE.format(out=tmp_path / "reports"))
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with HistoryStore.open(tmp_path / "reports" / "history.sqlite") as store:
        for n, cidr in ((1, "127.23.1.0/30"), (2, "127.23.2.0/30")):
            store.inventory.record_scan(
                ScanRecord(
                    id=f"scan-{n}",
                    scope=str(profile.resolve()),
                    source="scan",
                    started_at=at + timedelta(hours=n),
                    status="completed",
                    coverage=(cidr,),
                ),
                [],
            )
    for argv in ((), ("scan-1", "scan-2")):
        code = run(["scan", "diff", "--profile", str(profile), *argv])
        text = " ".join(capsys.readouterr().err.split())
        assert code == 2, text
        assert "scans scan-1 and scan-2 covered no address in common (127.23.1.0/30 vs 127.23.2.0/30)" in text
