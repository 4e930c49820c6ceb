"""Ranking: one deterministic order across every producer's findings.

The first risk model (``rank-1``) is a total order, not a score: severity first, then how
much the city depends on the asset, then fixed tie-breakers so two runs over the same
findings always print the same ranking. Later models add exposure, exploitability and
active-attack evidence; each gets a new :data:`RISK_MODEL_VERSION`, which is stored with
every run so a report always says which model ordered it.
"""

from __future__ import annotations

from collections.abc import Iterable

from secaudit.core.model import Finding, Source

RISK_MODEL_VERSION = "rank-1"

# Among findings of equal severity on equally critical assets, evidence of activity comes
# first (a detection means someone may be acting on the weakness now), then what is
# reachable on the network, then what was only observed passively, then configuration.
SOURCE_ORDER: tuple[Source, ...] = (
    Source.DETECTION,
    Source.SCAN,
    Source.VULN,
    Source.PASSIVE,
    Source.BASELINE,
)
_SOURCE_POSITION = {source: position for position, source in enumerate(SOURCE_ORDER)}


def rank_key(finding: Finding) -> tuple[int, int, int, str, str, str]:
    """The sort key of ``rank-1``: smaller sorts first.

    Severity and criticality are negated so the highest comes first; the strings end the
    tie so the order never depends on the order findings arrived in.
    """
    return (
        -int(finding.severity),
        -int(finding.asset.criticality),
        _SOURCE_POSITION[finding.source],
        finding.rule_id,
        finding.asset.key,
        finding.evidence_key,
    )


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in ``rank-1`` order: severity desc, asset criticality desc, source, rule id,
    asset key, evidence key. Pure: the input is not changed; equal keys keep input order."""
    return sorted(findings, key=rank_key)
