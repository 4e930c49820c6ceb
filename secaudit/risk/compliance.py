"""One generic mapper from a run's findings to control coverage, for every catalogue alike.

For each control: ``checked`` counts the ids it maps to that ran in this run (``ran`` is given by
the caller, who knows which stages completed with which rules); ``failing`` counts those of them
with at least one open finding. A finding matches a mapped id by its rule id, or, for Sigma tags
such as ``attack.t1110``, by an ATT&CK reference of the same technique.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from secaudit.catalog.compliance import Framework
from secaudit.core.model import Finding, RefKind
from secaudit.core.report import ControlCoverage


def finding_keys(finding: Finding) -> set[str]:
    """The ids a finding answers to: its rule id, and ``attack.<technique>`` per ATT&CK reference
    (a sub-technique such as T1110.003 also answers to its technique, attack.t1110)."""
    keys = {finding.rule_id}
    for ref in finding.references:
        if ref.kind is RefKind.ATTACK:
            technique = ref.id.strip().lower()
            keys |= {f"attack.{technique}", f"attack.{technique.split('.')[0]}"}
    return keys


def coverage(
    frameworks: Sequence[Framework], findings: Iterable[Finding], ran: Collection[str]
) -> tuple[ControlCoverage, ...]:
    """Coverage of every control of every framework, in catalogue order."""
    open_ids: set[str] = set()
    for finding in findings:
        open_ids |= finding_keys(finding)
    out = []
    for framework in frameworks:
        for control in framework.controls:
            checked = [i for i in control.mapped if i in ran]
            out.append(
                ControlCoverage(
                    framework=framework.id,
                    control=control.id,
                    name=control.name,
                    checked=len(checked),
                    failing=sum(1 for i in checked if i in open_ids),
                    framework_controls=framework.size or len(framework.controls),
                )
            )
    return tuple(out)
