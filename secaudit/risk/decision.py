"""The SSVC-style decision table: (exploitation, exposure, impact) -> Act / Attend / Track* / Track.

The table is data: every one of the 27 combinations is written out below, so a reader (or an
auditor) checks a decision by looking it up, not by reading code. docs/risk-model.md explains the
three inputs and why the table is shaped as it is.
"""

from __future__ import annotations

from enum import Enum

from secaudit.core.report import Decision


class Exploitation(Enum):
    """Is someone exploiting this weakness? (SSVC: none, public PoC, active)."""

    NONE = "none"  # no sign
    POC = "poc"  # exploit code is known to exist (CVSS exploit maturity P/F/H)
    ACTIVE = "active"  # in CISA KEV, CVSS 4 E:A, or a detection on the same asset


class Exposure(Enum):
    """How reachable is the weak system?"""

    SMALL = "small"  # a configuration-only weakness on a system that is not open
    CONTROLLED = "controlled"  # reachable on an internal segment (IT, OT, CCTV, management)
    OPEN = "open"  # DMZ, internet-facing, or reached across a segment boundary


class Impact(Enum):
    """What the city loses if it is exploited: the asset's criticality, moved by the severity."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


A, AT, TS, T = Decision.ACT, Decision.ATTEND, Decision.TRACK_STAR, Decision.TRACK
_E, _X, _I = Exploitation, Exposure, Impact

DECISION_TABLE: dict[tuple[Exploitation, Exposure, Impact], Decision] = {
    # exploitation, exposure,        impact       -> decision
    (_E.ACTIVE, _X.OPEN, _I.HIGH): A,
    (_E.ACTIVE, _X.OPEN, _I.MEDIUM): A,
    (_E.ACTIVE, _X.OPEN, _I.LOW): AT,
    (_E.ACTIVE, _X.CONTROLLED, _I.HIGH): A,
    (_E.ACTIVE, _X.CONTROLLED, _I.MEDIUM): AT,
    (_E.ACTIVE, _X.CONTROLLED, _I.LOW): AT,
    (_E.ACTIVE, _X.SMALL, _I.HIGH): AT,
    (_E.ACTIVE, _X.SMALL, _I.MEDIUM): AT,
    (_E.ACTIVE, _X.SMALL, _I.LOW): TS,
    (_E.POC, _X.OPEN, _I.HIGH): A,
    (_E.POC, _X.OPEN, _I.MEDIUM): AT,
    (_E.POC, _X.OPEN, _I.LOW): TS,
    (_E.POC, _X.CONTROLLED, _I.HIGH): AT,
    (_E.POC, _X.CONTROLLED, _I.MEDIUM): TS,
    (_E.POC, _X.CONTROLLED, _I.LOW): TS,
    (_E.POC, _X.SMALL, _I.HIGH): TS,
    (_E.POC, _X.SMALL, _I.MEDIUM): TS,
    (_E.POC, _X.SMALL, _I.LOW): T,
    (_E.NONE, _X.OPEN, _I.HIGH): AT,
    (_E.NONE, _X.OPEN, _I.MEDIUM): TS,
    (_E.NONE, _X.OPEN, _I.LOW): T,
    (_E.NONE, _X.CONTROLLED, _I.HIGH): AT,
    (_E.NONE, _X.CONTROLLED, _I.MEDIUM): TS,
    (_E.NONE, _X.CONTROLLED, _I.LOW): T,
    (_E.NONE, _X.SMALL, _I.HIGH): TS,
    (_E.NONE, _X.SMALL, _I.MEDIUM): T,
    (_E.NONE, _X.SMALL, _I.LOW): T,
}


def decide(
    exploitation: Exploitation, exposure: Exposure, impact: Impact, *, informational: bool = False
) -> Decision:
    """Look the decision up in :data:`DECISION_TABLE`; informational findings are always Track."""
    if informational:
        return Decision.TRACK
    return DECISION_TABLE[(exploitation, exposure, impact)]
