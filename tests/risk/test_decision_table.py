"""Every cell of the decision table is the one docs/risk-model.md gives auditors, and findings reach
each of the 27 cells through the model and get that cell's decision (issue 17, item 8). Before these
tests, 11 of the 81 single-cell mutants (each cell changed to each other decision) passed tests/risk,
those that keep the table monotone, e.g. active/open/low Attend -> Act; each test here fails on all 81.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from secaudit.core.model import Criticality, Severity, Source
from secaudit.core.report import Decision
from secaudit.risk.decision import DECISION_TABLE, Exploitation, Exposure, Impact
from secaudit.risk.model import assess
from tests.risk.test_calibration import DECISIONS, Case, build

DOC = Path(__file__).resolve().parents[2] / "docs" / "risk-model.md"
Cell = tuple[Exploitation, Exposure, Impact]


def documented_table() -> dict[Cell, Decision]:
    """The table under "The decision is then looked up in this table" in docs/risk-model.md."""
    text = DOC.read_text(encoding="utf-8")
    lines = text.split("The decision is then looked up in this table", 1)[1].splitlines()
    rows = [line for line in lines if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header == ["exploitation", "exposure", "impact high", "impact medium", "impact low"]
    table: dict[Cell, Decision] = {}
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) != len(header):
            break
        for column, word in zip(header[2:], cells[2:], strict=True):
            key = (Exploitation(cells[0]), Exposure(cells[1]), Impact(column.removeprefix("impact ")))
            table[key] = DECISIONS[re.sub(r"\\", "", word)]
    return table


DOCUMENTED = documented_table()


def test_the_table_in_the_code_is_the_table_in_the_docs() -> None:
    assert len(DOCUMENTED) == 27
    differ = {
        cell: (DECISION_TABLE[cell], DOCUMENTED[cell])
        for cell in DOCUMENTED
        if DECISION_TABLE[cell] != DOCUMENTED[cell]
    }
    assert differ == {}


def test_findings_reach_every_cell_and_get_its_documented_decision() -> None:
    reached: dict[Cell, int] = {}
    grid = itertools.product(
        (Source.SCAN, Source.BASELINE),
        ("internet", "unknown"),
        (frozenset(), frozenset({"poc"}), frozenset({"kev"}), frozenset({"from-it"})),
        (Severity.LOW, Severity.MEDIUM),
        (Criticality.LOW, Criticality.HIGH, Criticality.PUBLIC_SAFETY_CRITICAL),
    )
    for number, (source, where, signals, severity, criticality) in enumerate(grid, start=1):
        case = Case(
            number=str(number),
            title="grid finding",
            source=source,
            severity=severity,
            criticality=criticality,
            where=where,
            signals=signals,
            decision=Decision.TRACK,  # not used: the expected decision is the documented cell's
        )
        verdict = assess(*build(case))
        cell = (verdict.exploitation, verdict.exposure, verdict.impact)
        assert verdict.decision is DOCUMENTED[cell], (case, cell, verdict.decision)
        assert verdict.factors[-1].args[:1] == (("decision", verdict.decision.value),)
        reached[cell] = reached.get(cell, 0) + 1
    assert sorted(reached, key=str) == sorted(DOCUMENTED, key=str)
