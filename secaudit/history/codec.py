"""How history stores times, runs, stages and findings as SQLite text.

Times are stored as ISO 8601 UTC text with a fixed width (``2026-08-05T01:02:03.000004Z``) so
that comparing the text compares the instants; ``ORDER BY started_at`` relies on it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from secaudit.core.model import Finding, Run, RunStatus, Source, StageResult, WaivedFinding, WaiverKind
from secaudit.core.serialize import finding_from_dict, finding_to_dict, stage_from_dict, stage_to_dict


def to_db_time(moment: datetime) -> str:
    """Fixed-width UTC text for an aware datetime; a naive one is a caller bug."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"history needs timezone-aware datetimes, got naive {moment.isoformat()}")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def dump_json(data: Any) -> str:
    """Compact, key-sorted JSON: the same value always gives the same text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def finding_to_json(finding: Finding) -> str:
    return dump_json(finding_to_dict(finding))


def finding_from_json(text: str) -> Finding:
    return finding_from_dict(json.loads(text))


def waived_to_row(waived: WaivedFinding) -> tuple[str, str, str, str, str | None, str, str]:
    """(fingerprint, kind, justification, approved_by, expires, source, finding JSON) for ``run_waived``.

    The expiry keeps the offset it was written with (ISO 8601), so a rebuilt report shows the same
    moment the same way; it is never compared in SQL.
    """
    return (
        waived.finding.fingerprint,
        waived.kind.value,
        waived.justification,
        waived.approved_by,
        waived.expires.isoformat() if waived.expires else None,
        waived.source,
        finding_to_json(waived.finding),
    )


def waived_from_row(row: sqlite3.Row) -> WaivedFinding:
    """Inverse of :func:`waived_to_row`, from a row with those column names."""
    return WaivedFinding(
        finding=finding_from_json(row["finding"]),
        kind=WaiverKind(row["kind"]),
        justification=row["justification"],
        approved_by=row["approved_by"],
        expires=datetime.fromisoformat(row["expires"]) if row["expires"] else None,
        source=row["source"],
    )


def stages_to_json(stages: Iterable[StageResult]) -> str:
    return dump_json([stage_to_dict(s) for s in stages])


def stages_from_json(text: str) -> tuple[StageResult, ...]:
    return tuple(stage_from_dict(d) for d in json.loads(text))


def sources_to_json(sources: Iterable[Source]) -> str:
    return dump_json(sorted({s.value for s in sources}))


def sources_from_json(text: str | None) -> frozenset[Source]:
    return frozenset(Source(v) for v in json.loads(text)) if text else frozenset()


RUN_COLUMNS = (
    "id, profile_path, organisation, started_at, finished_at, status, tool_version, risk_model,"
    " authorization_ref, stages"
)


def run_from_row(row: sqlite3.Row) -> Run:
    """A :class:`Run` from a row selected with :data:`RUN_COLUMNS`."""
    return Run(
        id=row["id"],
        profile_path=row["profile_path"],
        organisation=row["organisation"],
        started_at=from_db_time(row["started_at"]),
        finished_at=from_db_time(row["finished_at"]) if row["finished_at"] else None,
        status=RunStatus(row["status"]),
        tool_version=row["tool_version"],
        risk_model=row["risk_model"],
        authorization_ref=row["authorization_ref"],
        stages=stages_from_json(row["stages"]),
    )
