"""The ranking of a fixed input is pinned: the same rows, scores, decisions and factors as the model
gave before it was made faster (tests/risk/golden/ranking.json, written once from that code).

If the model changes on purpose, it gets a new RISK_MODEL_VERSION and the golden file is written
again with ``python -m tests.risk.test_ranking_pinned`` (and the diff reviewed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secaudit.risk.model import RiskContext, assess, assess_all, detections_by_asset, with_kev
from tests.report.conftest import make_profile
from tests.risk.ranking_input import KEV, compact, digest, distinct, fixed_findings, rank

GOLDEN = Path(__file__).resolve().parent / "golden" / "ranking.json"


def current() -> dict[str, Any]:
    findings = fixed_findings()
    return {
        "aggregated": digest(rank(findings)),
        "aggregated_without_kev": digest(rank(findings, kev=False)),
        "distinct": compact(rank(distinct(findings))),
    }


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    data = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("part", ["aggregated", "aggregated_without_kev", "distinct"])
def test_the_ranking_of_the_fixed_input_has_not_moved(golden: dict[str, Any], part: str) -> None:
    now = current()[part]
    assert now["posture"] == golden[part]["posture"]
    assert len(now["rows"]) == len(golden[part]["rows"])
    for got, want in zip(now["rows"], golden[part]["rows"], strict=True):
        assert got == want


def test_the_golden_file_covers_what_it_claims(golden: dict[str, Any]) -> None:
    """Guard against a golden file that pins too little: it reaches the paths the input aims at."""
    rows = golden["aggregated"]["rows"]
    factors = [tuple(f[:2]) for row in rows for f in row["factors"]]
    values = " | ".join(value for _, value in factors)
    assert {r["decision"] for r in rows} == {"act", "attend", "track*", "track"}
    assert "score capped at 100" in values and "unreadable CVSS vector ignored" in values
    assert "in KEV 2099.01.02" in values and "SIGMA-0, SIGMA-1, SIGMA-2 +2" in values
    assert any(len(r["assets"]) > 1 for r in rows) and any(
        len(set(r["instances"])) < len(r["instances"]) for r in rows
    )
    assert len(golden["distinct"]["rows"]) == len(fixed_findings())


def test_the_order_findings_arrive_in_never_matters() -> None:
    findings = fixed_findings()
    assert digest(rank(list(reversed(findings)))) == digest(rank(findings))


if __name__ == "__main__":
    GOLDEN.write_text(
        json.dumps(current(), indent=0, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def test_one_finding_at_a_time_agrees_with_the_batch() -> None:
    """assess() on a fresh context and assess_all() (which shares verdicts between findings) agree on
    every finding; a context made from another by with_kev() never reuses its remembered answers."""
    findings = fixed_findings()
    ctx = RiskContext(profile=make_profile(), attacked=detections_by_asset(findings))
    batch = assess_all(findings, with_kev(ctx, KEV))
    assert [f for f, _ in batch] == findings
    for finding, verdict in batch:
        assert (
            assess(finding, with_kev(RiskContext(profile=ctx.profile, attacked=ctx.attacked), KEV)) == verdict
        )
    assess_all(findings, ctx)  # fills ctx's memos without KEV...
    listed = next(f for f, v in batch if any(" in KEV " in x.value for x in v.factors))
    assert assess(listed, with_kev(ctx, KEV)) == dict(batch)[listed]  # ...which the KEV context does not see
    assert all(" in KEV " not in x.value for x in assess(listed, ctx).factors)
