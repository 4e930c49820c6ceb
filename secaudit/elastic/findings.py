"""A run's findings published to the ``secaudit-findings`` index, for Kibana.

One document per finding instance, its fingerprint as ``_id``: the index holds the latest known state
of every finding (open, persisting, fixed or waived) with the run that saw it, the risk score and
decision, severity, asset and rule. Documents carry the run's start time as an external version
(``external_gte``): publishing the same run again changes nothing, and publishing an older run after a
newer one cannot overwrite the newer state (counted as ``outdated``). Evidence excerpts are not
published (they can hold configuration text); the evidence key and locations are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

from secaudit.core.model import Finding
from secaudit.core.report import Report, ReportRow
from secaudit.elastic.client import RETRY_STATUS
from secaudit.elastic.ingest import ensure_template

FINDINGS_INDEX = "secaudit-findings"
TEMPLATE = "secaudit-findings"
TEMPLATE_VERSION = 1  # raise it when findings_template changes: existing templates are then updated


def _keyword() -> dict[str, str]:
    return {"type": "keyword"}


def findings_template(index: str = FINDINGS_INDEX) -> dict[str, Any]:
    """The index template of the findings index (put_index_template kwargs)."""
    text_and_keyword = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}}
    return {
        "index_patterns": [index],
        "priority": 500,
        "meta": {"managed_by": "secaudit", "version": TEMPLATE_VERSION},
        "template": {
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "@timestamp": {"type": "date"},
                    "run_id": _keyword(),
                    "organisation": _keyword(),
                    "profile": _keyword(),
                    "fingerprint": _keyword(),
                    "rule_id": _keyword(),
                    "title": text_and_keyword,
                    "source": _keyword(),
                    "severity": _keyword(),
                    "severity_level": {"type": "byte"},
                    "risk_score": {"type": "float"},
                    "decision": _keyword(),
                    "rank": {"type": "integer"},
                    "status": _keyword(),
                    "first_seen": {"type": "date"},
                    "last_seen": {"type": "date"},
                    "evidence_key": _keyword(),
                    "evidence_locations": _keyword(),
                    "waiver": _keyword(),
                    "asset": {
                        "properties": {
                            "key": _keyword(),
                            "address": _keyword(),
                            "hostname": _keyword(),
                            "role": _keyword(),
                            "segment": _keyword(),
                            "criticality": _keyword(),
                        }
                    },
                },
            }
        },
    }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _document(report: Report, finding: Finding, **extra: Any) -> dict[str, Any]:
    run = report.run
    asset = finding.asset
    return {
        "@timestamp": _iso(run.started_at),
        "run_id": run.id,
        "organisation": run.organisation,
        "profile": run.profile_path,
        "fingerprint": finding.fingerprint,
        "rule_id": finding.rule_id,
        "title": finding.title,
        "source": finding.source.value,
        "severity": finding.severity.label,
        "severity_level": int(finding.severity),
        "evidence_key": finding.evidence_key,
        "evidence_locations": sorted({e.location for e in finding.evidence if e.location}),
        "asset": {
            "key": asset.key,
            "address": asset.address,
            "hostname": asset.hostname,
            "role": asset.role,
            "segment": asset.segment,
            "criticality": asset.criticality.label,
        },
        **extra,
    }


def _row_extra(row: ReportRow) -> dict[str, Any]:
    return {
        "risk_score": round(row.score, 2),
        "decision": row.decision.value,
        "rank": row.rank,
        "status": row.status.value,
        "first_seen": _iso(row.first_seen),
        "last_seen": _iso(row.last_seen),
    }


def finding_documents(report: Report) -> Iterator[tuple[str, dict[str, Any]]]:
    """(fingerprint, document) of every finding instance of the run, fixed and waived ones included."""
    for row in report.rows:
        for finding in row.all_instances:
            yield finding.fingerprint, _document(report, finding, **_row_extra(row))
    for waived in report.waived:
        yield (
            waived.finding.fingerprint,
            _document(report, waived.finding, status="waived", waiver=waived.kind.value),
        )
    for finding in report.fixed:
        yield finding.fingerprint, _document(report, finding, status="fixed")


@dataclass(slots=True)
class PublishResult:
    index: str = FINDINGS_INDEX
    documents: int = 0
    written: int = 0
    outdated: int = 0  # a newer run's state is already there
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)


def ensure_findings_index(client: Elasticsearch, index: str = FINDINGS_INDEX) -> None:
    """The index, made on first use with the findings template (written only when missing or older)."""
    if client.indices.exists(index=index):
        return  # made already: no template call (a publisher needs no template privilege then)
    name = TEMPLATE if index == FINDINGS_INDEX else f"{TEMPLATE}-{index}"
    ensure_template(client, name, findings_template(index), TEMPLATE_VERSION)
    client.indices.create(index=index)


def publish(client: Elasticsearch, report: Report, index: str = FINDINGS_INDEX) -> PublishResult:
    """Write the run's findings (see the module doc)."""
    result = PublishResult(index=index)
    version = int(report.run.started_at.timestamp() * 1000)

    def actions() -> Iterator[dict[str, Any]]:
        for fingerprint, doc in finding_documents(report):
            result.documents += 1
            yield {
                "_op_type": "index",
                "_index": index,
                "_id": fingerprint,
                "_version": version,
                "_version_type": "external_gte",
                "_source": doc,
            }

    for ok, item in streaming_bulk(
        client,
        actions(),
        chunk_size=500,
        max_retries=6,
        initial_backoff=1.0,
        max_backoff=60.0,
        raise_on_error=False,
        raise_on_exception=False,
        retry_on_status=RETRY_STATUS,
    ):
        outcome = next(iter(item.values()))
        if ok:
            result.written += 1
        elif outcome.get("status") == 409:
            result.outdated += 1
        else:
            result.failed += 1
            error = outcome.get("error")
            reason = error.get("reason", "") if isinstance(error, dict) else str(error)
            result.failures[f"HTTP {outcome.get('status')}: {reason}"] += 1
    client.indices.refresh(index=index)
    return result
