"""One generic mapper from a run's results to control coverage, for every catalogue alike.

A check or rule says which controls it assesses in its own ``references`` (kinds ``cis-controls``,
``iso27001``, ``nist-csf``, ``th-cii``: the catalogue's ``cited_as``). Each result of the run brings
those references along: an open finding (failed), a passed or not-applicable baseline check, a
waived finding (not applicable) or an accepted one (failed), and each exposure or own Sigma rule
that ran and found nothing (passed; not applicable for a Sigma rule no event of its log source
reached). Per control, every check or rule citing it counts once, with
its worst outcome over all assets (failed, then passed, then not applicable); a control nothing
cites is not assessed, never met.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum

from secaudit.catalog.compliance import Framework
from secaudit.core.model import Reference
from secaudit.core.report import ControlCoverage


class Outcome(IntEnum):
    """A check's or rule's result, ordered so that the worst wins."""

    NOT_APPLICABLE = 0
    PASSED = 1
    FAILED = 2


Result = tuple[str, tuple[Reference, ...], Outcome]  # (check or rule id, its references, outcome)


def coverage(frameworks: Sequence[Framework], results: Iterable[Result]) -> tuple[ControlCoverage, ...]:
    """Coverage of every control of every framework, in catalogue order."""
    worst: dict[str, Outcome] = {}
    cited: dict[tuple[str, str], set[str]] = {}  # (reference kind, control id) -> check and rule ids
    for item, refs, outcome in results:
        worst[item] = max(outcome, worst.get(item, outcome))
        for ref in refs:
            cited.setdefault((ref.kind.value, ref.id.strip()), set()).add(item)
    out = []
    for framework in frameworks:
        for control in framework.controls:
            items = cited.get((framework.cited_as.value, control.id), set())
            outcomes = [worst[i] for i in items]
            out.append(
                ControlCoverage(
                    framework=framework.id,
                    control=control.id,
                    name=control.name,
                    name_th=control.th,
                    checked=len(outcomes),
                    failing=outcomes.count(Outcome.FAILED),
                    passing=outcomes.count(Outcome.PASSED),
                    not_applicable=outcomes.count(Outcome.NOT_APPLICABLE),
                    framework_controls=framework.size,
                )
            )
    return tuple(out)
