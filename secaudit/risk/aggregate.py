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

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from secaudit.core.model import Asset, Finding, Severity, Status, normalize_key
from secaudit.core.report import Decision, ReportRow
from secaudit.risk.model import Assessment, RiskContext, assess_all

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


def _lead(verdict: Assessment, top: Finding) -> int:
    """Decision position, score (desc), severity (desc) and criticality (desc) as one integer that
    sorts exactly like that tuple: scores are multiples of 0.1 in 0..100, so ``round(score * 10)`` is
    exact and 0..1000; severity is 0..4, criticality 1..5."""
    tenths = round(verdict.score * 10)
    position = _DECISION_POSITION[verdict.decision]
    return (
        ((position * 1001 + 1000 - tenths) * 5 + 4 - int(top.severity)) * 5 + 5 - int(top.asset.criticality)
    )


def _group_order(members: list[tuple[Finding, Assessment]]) -> tuple[int, str, str, str]:
    top, verdict = members[0]
    return (_lead(verdict, top), top.rule_id, top.asset.key, top.evidence_key)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects.

    Ranking 100k findings allocates a few hundred thousand tuples and rows, none of them in a
    reference cycle; the collector's generation scans over them cost a fifth of the time and free
    nothing. Reference counting still frees everything; the collector's previous state is restored.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def ranked_rows(findings: Iterable[Finding], ctx: RiskContext, history: HistoryLookup) -> list[ReportRow]:
    """Assess every finding, aggregate identical ones, and rank the rows (``rank`` from 1).

    ``history`` maps an instance's fingerprint to its status, first and last seen.
    """
    with _cyclic_gc_paused():
        return _ranked_rows(findings, ctx, history)


def _ranked_rows(findings: Iterable[Finding], ctx: RiskContext, history: HistoryLookup) -> list[ReportRow]:
    groups: dict[tuple[str, str], list[tuple[Finding, Assessment]]] = {}
    titles: dict[str, str] = {}  # title -> normalized: producers repeat titles
    known_title, known_group = titles.get, groups.get  # bound once: this loop runs per finding
    for pair in assess_all(findings, ctx):
        finding = pair[0]
        title = known_title(finding.title)
        if title is None:
            title = titles[finding.title] = normalize_key(finding.title)
        key = (finding.rule_id, title)
        members = known_group(key)
        if members is None:
            groups[key] = [pair]
        else:
            members.append(pair)
    ordered = list(groups.values())
    for members in ordered:
        if len(members) > 1:
            members.sort(key=_instance_order)
    # One verdict always has the same severity and criticality (both are inputs of the model), so
    # the leading integer of the order is worked out once per verdict.
    leads: dict[int, int] = {}

    def order(members: list[tuple[Finding, Assessment]]) -> tuple[int, str, str, str]:
        top, verdict = members[0]
        lead = leads.get(id(verdict))
        if lead is None:
            lead = leads[id(verdict)] = _lead(verdict, top)
        return (lead, top.rule_id, top.asset.key, top.evidence_key)

    ordered.sort(key=order)
    new = Status.NEW
    rows = []
    for rank, members in enumerate(ordered, start=1):
        top, verdict = members[0]
        if len(members) == 1:  # most rows when findings do not aggregate: no lists to walk
            fingerprint = top.fingerprint
            status, first_seen, last_seen = history(fingerprint)
            fingerprints: tuple[str, ...] = (fingerprint,)
            assets: tuple[Asset, ...] = (top.asset,)
            instances: tuple[Finding, ...] = (top,)
            status = new if status is new else Status.PERSISTING
        else:
            instances = tuple([f for f, _ in members])
            fingerprints = tuple([f.fingerprint for f in instances])
            assets = tuple([f.asset for f in instances])
            # One pass for what any(), min() and max() would say (ties keep the first, as they do).
            seen = map(history, fingerprints)
            status, first_seen, last_seen = next(seen)
            for other, first, last in seen:
                if other is new:
                    status = new
                first_seen = min(first_seen, first)
                last_seen = max(last_seen, last)
            status = new if status is new else Status.PERSISTING
        rows.append(
            ReportRow(
                rank=rank,
                finding=top,
                status=status,
                first_seen=first_seen,
                last_seen=last_seen,
                score=verdict.score,
                decision=verdict.decision,
                factors=verdict.factors,
                likelihood=verdict.likelihood,
                impact=verdict.impact_level,
                assets=assets,
                fingerprints=fingerprints,
                instances=instances,
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
