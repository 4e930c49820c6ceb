"""From findings to ranked report rows: assess, aggregate identical findings, rank, posture.

Aggregation: findings with the same rule id and the same title (compared case- and
space-insensitively; titles never carry the evidence key) on several assets are one row. The
row's ``finding`` is its highest-scoring instance, ``assets``/``fingerprints``/``instances`` list
every instance, highest score first. A row is ``new`` when any instance is new (someone must look
at it), ``first_seen`` is the earliest instance's, ``last_seen`` the latest.

Ranking is total and stable between runs: the decision first (Act, Attend, Track*, Track: what to
do first), then score (desc), severity (desc), asset criticality (desc), then rule id, asset key
and evidence key; the order findings arrive in never matters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from secaudit.core.model import Finding, Severity, Status, normalize_key
from secaudit.core.report import Decision, ReportRow
from secaudit.risk.model import Assessment, RiskContext, assess, assessment_key

HistoryLookup = Callable[[str], tuple[Status, datetime, datetime]]  # fingerprint -> status, first, last

# Posture: each open instance weighs by its row's decision; 100 * K / (K + total weight).
DECISION_WEIGHT = {Decision.ACT: 10.0, Decision.ATTEND: 5.0, Decision.TRACK_STAR: 2.0, Decision.TRACK: 0.5}
POSTURE_K = 50.0


def group_key(finding: Finding) -> tuple[str, str]:
    return finding.rule_id, normalize_key(finding.title)


def _instance_order(item: tuple[Finding, Assessment]) -> tuple[float, str, str]:
    finding, assessment = item
    return (-assessment.score, finding.asset.key, finding.evidence_key)


DECISION_ORDER = (Decision.ACT, Decision.ATTEND, Decision.TRACK_STAR, Decision.TRACK)
_DECISION_POSITION = {decision: position for position, decision in enumerate(DECISION_ORDER)}


def _group_order(members: list[tuple[Finding, Assessment]]) -> tuple[int, float, int, int, str, str, str]:
    top, verdict = members[0]
    return (
        _DECISION_POSITION[verdict.decision],
        -verdict.score,
        -int(top.severity),
        -int(top.asset.criticality),
        top.rule_id,
        top.asset.key,
        top.evidence_key,
    )


def ranked_rows(findings: Iterable[Finding], ctx: RiskContext, history: HistoryLookup) -> list[ReportRow]:
    """Assess every finding, aggregate identical ones, and rank the rows (``rank`` from 1).

    ``history`` maps an instance's fingerprint to its status, first and last seen.
    """
    groups: dict[tuple[str, str], list[tuple[Finding, Assessment]]] = {}
    verdicts: dict[tuple[object, ...], Assessment] = {}  # many findings share every input of the model
    for finding in findings:
        key = assessment_key(finding)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = assess(finding, ctx)
        groups.setdefault(group_key(finding), []).append((finding, verdict))
    ordered = []
    for members in groups.values():
        members.sort(key=_instance_order)
        ordered.append(members)
    ordered.sort(key=_group_order)
    rows = []
    for rank, members in enumerate(ordered, start=1):
        top, verdict = members[0]
        fingerprints = tuple(f.fingerprint for f, _ in members)
        seen = [history(fp) for fp in fingerprints]
        rows.append(
            ReportRow(
                rank=rank,
                finding=top,
                status=Status.NEW if any(s is Status.NEW for s, _, _ in seen) else Status.PERSISTING,
                first_seen=min(first for _, first, _ in seen),
                last_seen=max(last for _, _, last in seen),
                score=verdict.score,
                decision=verdict.decision,
                factors=verdict.factors,
                likelihood=verdict.likelihood,
                impact=verdict.impact_level,
                assets=tuple(f.asset for f, _ in members),
                fingerprints=fingerprints,
                instances=tuple(f for f, _ in members),
            )
        )
    return rows


def posture_score(rows: Sequence[ReportRow]) -> float:
    """0..100, higher is better: ``100 * K / (K + W)``, W the decision weights of open instances.

    Informational findings weigh nothing. One Act instance gives 83.3, five give 50.0, no open
    findings 100. Waived findings are not rows and never count.
    """
    weight = sum(
        DECISION_WEIGHT[row.decision] * len(row.all_instances)
        for row in rows
        if row.finding.severity is not Severity.INFO
    )
    return round(100.0 * POSTURE_K / (POSTURE_K + weight), 1)
