"""Every shipped check against its own pass fixture and fail fixture."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from secaudit.baseline import Baseline, CheckStatus, baseline_ids, run_baseline, run_check
from secaudit.baseline import load_baseline as _load
from tests.baseline.fixtures import build_case, load_fixtures

SHIPPED = baseline_ids()


@functools.cache
def load_baseline(baseline_id: str) -> Baseline:
    return _load(baseline_id)


CASES = [
    pytest.param(bid, cid, verdict, id=f"{cid}-{verdict}")
    for bid in SHIPPED
    for cid in load_fixtures(bid)["checks"]
    for verdict in ("pass", "fail")
]


def test_every_shipped_baseline_has_fixtures_for_every_own_check() -> None:
    for bid in SHIPPED:
        fixtures = load_fixtures(bid)["checks"]
        baseline = load_baseline(bid)
        own = {c.id for c in baseline.checks if c.location.startswith(baseline.path)}
        assert own - set(fixtures) == set(), f"{bid}: checks without fixtures"
        assert set(fixtures) - {c.id for c in baseline.checks} == set(), f"{bid}: fixtures for unknown checks"
        for cid, cases in fixtures.items():
            assert set(cases) == {"pass", "fail"}, f"{bid}/{cid} needs exactly a pass and a fail case"


@pytest.mark.parametrize(("baseline_id", "check_id", "verdict"), CASES)
def test_check_on_its_fixture(baseline_id: str, check_id: str, verdict: str, tmp_path: Path) -> None:
    data = load_fixtures(baseline_id)
    check = load_baseline(baseline_id).check(check_id)
    assert check is not None
    target = build_case(data, data["checks"][check_id][verdict], tmp_path)
    result = run_check(check, target)
    wanted = CheckStatus.PASS if verdict == "pass" else CheckStatus.FAIL
    assert result.status is wanted, (
        f"{check_id} on its {verdict} fixture: {result.status.value}: {result.reason}"
    )
    if wanted is CheckStatus.FAIL:
        assert result.reason, "a failure must say why"


@pytest.mark.parametrize("baseline_id", SHIPPED)
def test_hardened_base_passes_every_check(baseline_id: str, tmp_path: Path) -> None:
    data = load_fixtures(baseline_id)
    run = run_baseline(load_baseline(baseline_id), build_case(data, {"base": "hardened"}, tmp_path))
    # Checks gated by applies_if (a package the hardened server does not have) may not apply, nor
    # checks of a running host (their fixtures are live cases).
    bad = [
        (r.check.id, r.status.value, r.reason)
        for r in run.results
        if r.status is not CheckStatus.PASS
        and not (
            r.status is CheckStatus.NOT_APPLICABLE
            and (r.check.applies_if is not None or "offline" not in r.check.targets)
        )
    ]
    assert bad == []
    assert run.score.percent == 100.0
    # the rest are gated on choices the hardened server did not make (ufw or iptables when nftables is
    # the firewall, journald-only logging when rsyslog is there): each said "does not apply" above
    assert run.score.passed + run.count(CheckStatus.NOT_APPLICABLE) == len(run.results)
