"""A run's report figures as history stores them: worked out once, read back exactly.

When an audit completes, everything its report shows beyond the findings themselves (each row's
rank, instances, status, first and last seen, score, decision, factors and heat-map axes; the
trend, the fixed findings as they were last seen, compliance and the posture score) is stored in
``run_reports`` as one JSON document, with the audit profile as the run used it (organisation,
authorization, segments and their criticality, inventory, time zone, report settings and gate).
``secaudit report --run`` reads it back with the run's own findings and waived findings, so a
rebuilt report is the original report: nothing is scored again against a newer KEV catalogue, a
later history, and nothing is read from the profile file, which may have been edited since.

The document's ``format`` is :data:`RECORD_FORMAT`; a reader that meets a format it does not know
treats the run as having no stored figures.
"""

from __future__ import annotations

import ipaddress
import json
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from secaudit.core.errors import HistoryError
from secaudit.core.model import BaselineTally, CheckedItem, CheckOutcome, Finding, Run, Status, WaivedFinding
from secaudit.core.profile import Profile
from secaudit.core.report import ControlCoverage, Decision, Report, ReportRow, RiskFactor, Trend
from secaudit.core.serialize import finding_from_dict, finding_to_dict
from secaudit.history.codec import dump_json

RECORD_FORMAT = 1


def _row(row: ReportRow) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "fingerprints": [f.fingerprint for f in row.all_instances],
        "status": row.status.value,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
        "score": row.score,
        "decision": row.decision.value,
        "factors": [_factor(f) for f in row.factors],
        "likelihood": row.likelihood,
        "impact": row.impact,
    }


def _factor(factor: RiskFactor) -> list[Any]:
    """``[name, value, points]``, then the message key and arguments a translated report words it by."""
    out: list[Any] = [factor.name, factor.value, factor.points]
    if factor.key:
        out += [factor.key, [list(pair) for pair in factor.args]]
    return out


def _factor_back(entry: Sequence[Any]) -> RiskFactor:
    name, value, points = entry[0], entry[1], entry[2]
    if len(entry) < 5:
        return RiskFactor(name=name, value=value, points=points)
    args = tuple((str(k), str(v)) for k, v in entry[4])
    return RiskFactor(name=name, value=value, points=points, key=str(entry[3]), args=args)


def _control(control: ControlCoverage) -> dict[str, Any]:
    return {f.name: getattr(control, f.name) for f in fields(ControlCoverage)}


def _encode(value: Any) -> Any:
    """A profile value as JSON: dataclasses as objects, tuples as lists, times as ISO 8601,
    networks and enums as their text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _decode(kind: Any, value: Any) -> Any:
    """The inverse of :func:`_encode` for a value of type ``kind`` (a type hint of the profile)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if all(a in (ipaddress.IPv4Network, ipaddress.IPv6Network) for a in options):
            return ipaddress.ip_network(value)
        return _decode(options[0], value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))
    if kind is datetime:
        return datetime.fromisoformat(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    if isinstance(kind, type) and is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{name: _decode(hints[name], v) for name, v in value.items() if name in hints})
    return value


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """The audit profile as a run used it, as JSON (stored with the run's report)."""
    encoded: dict[str, Any] = _encode(profile)
    return encoded


def profile_from_dict(data: Mapping[str, Any]) -> Profile:
    """The profile :func:`profile_to_dict` stored."""
    decoded: Profile = _decode(Profile, dict(data))
    return decoded


def record_report(report: Report) -> str:
    """The JSON text stored for ``report`` (compact, key-sorted: the same report gives the same text)."""
    trend = report.trend
    return dump_json(
        {
            "format": RECORD_FORMAT,
            "generated_at": report.generated_at.isoformat(),
            "risk_model": report.run.risk_model,
            # the profile's path as the run resolved it: a relative one means nothing from elsewhere
            "profile": profile_to_dict(
                replace(report.profile, path=report.run.profile_path or report.profile.path)
            ),
            "posture_score": report.posture_score,
            "trend": {
                "previous_run_id": trend.previous_run_id,
                "new": trend.new,
                "persisting": trend.persisting,
                "fixed": trend.fixed,
            },
            "rows": [_row(row) for row in report.rows],
            "fixed": [finding_to_dict(f) for f in report.fixed],
            "compliance": [_control(c) for c in report.compliance],
            "checked": [
                {
                    "finding": finding_to_dict(c.finding),
                    "outcome": c.outcome.value,
                    "baseline": c.baseline,
                    "reason": c.reason,
                }
                for c in report.checked
            ],
            "tallies": [{f.name: getattr(t, f.name) for f in fields(BaselineTally)} for t in report.tallies],
        }
    )


def record_format(text: str) -> int:
    """The ``format`` of a stored document (0 when it has none)."""
    data = json.loads(text)
    return int(data.get("format", 0)) if isinstance(data, dict) else 0


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


def stored_profile(text: str) -> Profile | None:
    """The profile stored with a run's report document, None when it was stored without one."""
    data = json.loads(text)
    return profile_from_dict(data["profile"]) if isinstance(data.get("profile"), dict) else None


def report_from_record(
    text: str,
    *,
    run: Run,
    profile: Profile | None,
    findings: Mapping[str, Finding],
    waived: Sequence[WaivedFinding],
    location: str,
) -> Report:
    """The report of ``run`` from its stored document, its findings (by fingerprint) and its
    waived findings, with the profile stored in the document (``profile`` only for a document
    stored without one). A row naming a fingerprint the run did not record is a damaged history."""
    data = json.loads(text)
    if isinstance(data.get("profile"), dict):
        profile = profile_from_dict(data["profile"])
    if profile is None:
        raise HistoryError(
            f"the stored report of run {run.id} holds no profile",
            location=location,
            hint="rebuild it with the run's profile file in place",
        )
    rows = []
    for entry in data["rows"]:
        try:
            instances = tuple(findings[fp] for fp in entry["fingerprints"])
        except KeyError as e:
            raise HistoryError(
                f"the stored report of run {run.id} names finding {e.args[0]} that the run did not record",
                location=location,
                hint="the history is damaged; restore it from a backup",
            ) from e
        rows.append(
            ReportRow(
                rank=entry["rank"],
                finding=instances[0],
                status=Status(entry["status"]),
                first_seen=datetime.fromisoformat(entry["first_seen"]),
                last_seen=datetime.fromisoformat(entry["last_seen"]),
                score=entry["score"],
                decision=Decision(entry["decision"]),
                factors=tuple(_factor_back(f) for f in entry["factors"]),
                likelihood=entry["likelihood"],
                impact=entry["impact"],
                assets=tuple(f.asset for f in instances),
                fingerprints=tuple(f.fingerprint for f in instances),
                instances=instances,
            )
        )
    trend = data["trend"]
    return Report(
        run=run,
        profile=profile,
        rows=tuple(rows),
        fixed=tuple(finding_from_dict(f) for f in data["fixed"]),
        waived=tuple(waived),
        trend=Trend(
            previous_run_id=trend["previous_run_id"],
            new=trend["new"],
            persisting=trend["persisting"],
            fixed=trend["fixed"],
        ),
        compliance=tuple(
            ControlCoverage(**{k: _tupled(v) for k, v in c.items()}) for c in data["compliance"]
        ),
        posture_score=data["posture_score"],
        generated_at=datetime.fromisoformat(data["generated_at"]),
        checked=tuple(
            CheckedItem(
                finding=finding_from_dict(c["finding"]),
                outcome=CheckOutcome(c["outcome"]),
                baseline=c["baseline"],
                reason=c["reason"],
            )
            for c in data.get("checked", ())
        ),
        tallies=tuple(BaselineTally(**t) for t in data.get("tallies", ())),
    )
