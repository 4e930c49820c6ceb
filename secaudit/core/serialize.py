"""JSON-safe dictionaries for the core model, and back. Pure functions; no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    LocalText,
    Reference,
    RefKind,
    RunStatus,
    Severity,
    Source,
    StageResult,
)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def asset_to_dict(asset: Asset) -> dict[str, Any]:
    return {
        "key": asset.key,
        "address": asset.address,
        "hostname": asset.hostname,
        "role": asset.role,
        "segment": asset.segment,
        "criticality": asset.criticality.label,
        "tags": list(asset.tags),
    }


def asset_from_dict(data: Mapping[str, Any]) -> Asset:
    return Asset(
        key=data["key"],
        address=data.get("address", ""),
        hostname=data.get("hostname", ""),
        role=data.get("role", ""),
        segment=data.get("segment", ""),
        criticality=Criticality.parse(data.get("criticality", "medium")),
        tags=tuple(data.get("tags", ())),
    )


def _attributes_to_dict(pairs: tuple[tuple[str, str], ...]) -> dict[str, str | list[str]]:
    """Evidence attributes as a JSON object; a name given more than once (a service's several
    ``cpe``) keeps every value, as a list in the order given."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}


def _attributes_from_dict(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    pairs = [
        (str(name), str(item))
        for name, value in data.items()
        for item in (value if isinstance(value, list) else (value,))
    ]
    return tuple(sorted(pairs))


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """Every field of a finding, plus its fingerprint, as JSON-safe values."""
    return {
        "fingerprint": finding.fingerprint,
        "rule_id": finding.rule_id,
        "source": finding.source.value,
        "severity": finding.severity.label,
        "title": finding.title,
        "description": finding.description,
        "remediation": finding.remediation,
        "evidence_key": finding.evidence_key,
        "asset": asset_to_dict(finding.asset),
        "evidence": [
            {
                "kind": e.kind,
                "summary": e.summary,
                "location": e.location,
                "excerpt": e.excerpt,
                "attributes": _attributes_to_dict(e.attributes),
            }
            for e in finding.evidence
        ],
        "references": [{"kind": r.kind.value, "id": r.id, "url": r.url} for r in finding.references],
        "observed_at": _time(finding.observed_at),
        "producer": finding.producer,
        **({"texts": texts_to_dict(finding.texts)} if finding.texts else {}),
    }


def texts_to_dict(texts: tuple[LocalText, ...]) -> dict[str, dict[str, str]]:
    """``{"th": {"title": ..., "description": ..., "remediation": ...}}``."""
    return {
        t.lang: {"title": t.title, "description": t.description, "remediation": t.remediation} for t in texts
    }


def texts_from_dict(data: Mapping[str, Any] | None) -> tuple[LocalText, ...]:
    return tuple(
        LocalText(
            lang=str(lang),
            title=str(text.get("title", "")),
            description=str(text.get("description", "")),
            remediation=str(text.get("remediation", "")),
        )
        for lang, text in sorted((data or {}).items())
    )


def finding_from_dict(data: Mapping[str, Any]) -> Finding:
    """Inverse of :func:`finding_to_dict` (the fingerprint is recomputed, not trusted)."""
    return Finding(
        rule_id=data["rule_id"],
        source=Source(data["source"]),
        severity=Severity.parse(data["severity"]),
        title=data["title"],
        description=data.get("description", ""),
        remediation=data.get("remediation", ""),
        evidence_key=data.get("evidence_key", ""),
        asset=asset_from_dict(data["asset"]),
        evidence=tuple(
            Evidence(
                kind=e["kind"],
                summary=e["summary"],
                location=e.get("location", ""),
                excerpt=e.get("excerpt", ""),
                attributes=_attributes_from_dict(e.get("attributes", {})),
            )
            for e in data.get("evidence", ())
        ),
        references=tuple(
            Reference(kind=RefKind(r["kind"]), id=r["id"], url=r.get("url", ""))
            for r in data.get("references", ())
        ),
        observed_at=_parse_time(data.get("observed_at")),
        producer=data.get("producer", ""),
        texts=texts_from_dict(data.get("texts")),
    )


def stage_to_dict(stage: StageResult) -> dict[str, Any]:
    return {
        "name": stage.name,
        "status": stage.status.value,
        "findings": stage.findings,
        "items": stage.items,
        "skipped": stage.skipped,
        "errors": list(stage.errors),
        "seconds": round(stage.seconds, 3),
    }


def stage_from_dict(data: Mapping[str, Any]) -> StageResult:
    return StageResult(
        name=data["name"],
        status=RunStatus(data["status"]),
        findings=int(data.get("findings", 0)),
        items=int(data.get("items", 0)),
        skipped=int(data.get("skipped", 0)),
        errors=tuple(data.get("errors", ())),
        seconds=float(data.get("seconds", 0.0)),
    )
