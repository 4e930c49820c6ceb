"""Against a real Elasticsearch 8.3+ or 9.x cluster, when SECAUDIT_TEST_ES_URL points at one.

Set SECAUDIT_TEST_ES_URL (e.g. http://127.0.0.1:9200) and, if the cluster wants them,
SECAUDIT_TEST_ES_API_KEY, or SECAUDIT_TEST_ES_USER and SECAUDIT_TEST_ES_PASSWORD, and
SECAUDIT_TEST_ES_CA (the CA's PEM file). docs/elasticsearch.md shows how to start a local single-node
cluster. Each test works in indices named secaudit-test-<random> and deletes them (and their
templates) afterwards. Without the variable every test here is skipped, saying why (``pytest -rs``).

What they show: the SigmaHQ regression data ingested, then hunted on the cluster, gives the same
(rule id, source, record) hits as the embedded engine for every rule that converts; ingesting the same
files again adds no document; a bulk stopped halfway completes on a re-run with the exact count; a
run's findings are published idempotently and an older run cannot overwrite a newer one.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.app.es import EsHuntOptions, hunt_es, ingest_logs
from secaudit.app.hunt import HuntOptions, collect, hit_key
from secaudit.app.reporting import build_report
from secaudit.catalog.profile import load_profile
from secaudit.core.model import Asset, Finding, Run, RunStatus, Severity, Source
from secaudit.core.report import Report
from secaudit.detect.model import RuleHit
from secaudit.elastic.client import connect
from secaudit.elastic.findings import ensure_findings_index, publish
from secaudit.elastic.ingest import ensure_index, ingest_events, template_name
from secaudit.elastic.settings import EsSettings, Secret
from secaudit.logs import ReadStats, read_events

ES_URL = os.environ.get("SECAUDIT_TEST_ES_URL", "")
REPO = Path(__file__).resolve().parents[2]
SIGMAHQ = REPO / ".." / "shared" / "sigmahq"
REGRESSION = SIGMAHQ / "regression_data"
RULES = tuple(SIGMAHQ / f for f in ("rules", "rules-emerging-threats", "rules-threat-hunting"))

pytestmark = pytest.mark.skipif(
    not ES_URL,
    reason="SECAUDIT_TEST_ES_URL is not set: no Elasticsearch cluster to run the integration tests "
    "against (docs/elasticsearch.md shows how to start one)",
)


def _settings() -> EsSettings:
    env = os.environ
    return EsSettings(
        url=ES_URL.rstrip("/"),
        api_key=Secret(env["SECAUDIT_TEST_ES_API_KEY"]) if env.get("SECAUDIT_TEST_ES_API_KEY") else None,
        username=env.get("SECAUDIT_TEST_ES_USER") or None,
        password=Secret(env["SECAUDIT_TEST_ES_PASSWORD"]) if env.get("SECAUDIT_TEST_ES_PASSWORD") else None,
        ca_cert=Path(env["SECAUDIT_TEST_ES_CA"]) if env.get("SECAUDIT_TEST_ES_CA") else None,
    )


@pytest.fixture
def settings() -> EsSettings:
    return _settings()


@pytest.fixture
def index(settings: EsSettings) -> Iterator[str]:
    name = f"secaudit-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = connect(settings)
    client.options(ignore_status=404).indices.delete(index=name)
    client.options(ignore_status=404).indices.delete_index_template(name=template_name(name))


def _count(settings: EsSettings, index: str) -> int:
    client = connect(settings)
    client.indices.refresh(index=index)
    return int(client.count(index=index)["count"])


def _regression_events() -> list:
    stats = ReadStats()
    events = list(read_events([str(REGRESSION)], stats=stats))
    assert events and stats.skipped == 0
    return events


def test_hunt_on_the_cluster_finds_what_the_embedded_engine_finds(settings: EsSettings, index: str) -> None:
    result, stats = ingest_logs(settings, index, [str(REGRESSION)])
    assert result.failed == 0 and result.existing == 0
    assert result.created == result.events == stats.events
    assert _count(settings, index) == result.events

    on_cluster: list[RuleHit] = []
    es = hunt_es(EsHuntOptions(settings=settings, index=index, rules=RULES), on_hit=on_cluster.append)
    embedded, _ = collect(HuntOptions(inputs=(str(REGRESSION),), rules=RULES))

    assert es.query_errors == []  # a query the cluster refuses is a failure, never subtracted
    skipped = {f.rule_id for f in es.not_converted}
    expected = {hit_key(h) for h in embedded if isinstance(h, RuleHit) and h.rule.id not in skipped}
    found = {hit_key(h) for h in on_cluster}
    assert es.capped == {}
    assert len(expected) >= 202
    assert found == expected
    # the same record of each hit: rebuilt events give the embedded engine's matched fields
    embedded_fields = {hit_key(h): h.matched_fields for h in embedded if isinstance(h, RuleHit)}
    assert all(h.matched_fields == embedded_fields[hit_key(h)] for h in on_cluster)


def test_ingesting_the_same_files_again_adds_nothing(settings: EsSettings, index: str) -> None:
    first, _ = ingest_logs(settings, index, [str(REGRESSION)])
    again, _ = ingest_logs(settings, index, [str(REGRESSION)])
    assert again.created == 0
    assert again.existing == first.created == again.events
    assert _count(settings, index) == first.created


def test_an_interrupted_bulk_completes_on_rerun_with_the_exact_count(
    settings: EsSettings, index: str
) -> None:
    events = _regression_events()
    half = len(events) // 2
    client = connect(settings)
    ensure_index(client, index)
    stopped = ingest_events(client, index, itertools.islice(iter(events), half), chunk_size=50)
    assert (stopped.created, stopped.events) == (half, half)
    assert _count(settings, index) == half
    rerun = ingest_events(client, index, iter(events), chunk_size=50)
    assert rerun.created == len(events) - half
    assert rerun.existing == half
    assert rerun.failed == 0
    assert _count(settings, index) == len(events)


def test_findings_are_published_idempotently_and_newer_runs_win(settings: EsSettings, index: str) -> None:
    profile = load_profile(REPO / "samples" / "phuket-demo.yaml", require_valid_authorization=False)
    findings = [
        Finding(
            rule_id=f"test-rule-{n}",
            source=Source.SCAN,
            severity=Severity.HIGH,
            title=f"Test finding {n}",
            asset=Asset(key=f"host-{n}", address=f"127.20.0.{n}"),
            evidence_key=f"tcp/{20 + n}",
        )
        for n in range(1, 4)
    ]

    def report(started: datetime) -> Report:
        run = Run(
            id=f"run-{started:%H%M}",
            profile_path=str(REPO / "samples" / "phuket-demo.yaml"),
            organisation=profile.organisation,
            started_at=started,
            status=RunStatus.COMPLETED,
            finished_at=started,
        )
        return build_report(
            run=run,
            profile=profile,
            findings=findings,
            new={f.fingerprint for f in findings},
            dates={f.fingerprint: (started, started) for f in findings},
            fixed=(),
            previous_run_id="",
            generated_at=started,
        )

    findings_index = f"{index}-findings"
    client = connect(settings)
    try:
        ensure_findings_index(client, findings_index)
        newer = report(datetime(2026, 11, 21, 2, tzinfo=UTC))
        assert publish(client, newer, findings_index).written == 3
        assert publish(client, newer, findings_index).written == 3  # the same run again: same documents
        assert _count(settings, findings_index) == 3
        older = publish(client, report(datetime(2026, 11, 20, 2, tzinfo=UTC)), findings_index)
        assert (older.written, older.outdated) == (0, 3)
        docs = client.search(index=findings_index, size=10)["hits"]["hits"]
        assert {d["_id"] for d in docs} == {f.fingerprint for f in findings}
        assert {d["_source"]["run_id"] for d in docs} == {"run-0200"}
        assert json.dumps([d["_source"] for d in docs]).count('"decision"') == 3
    finally:
        client.options(ignore_status=404).indices.delete(index=findings_index)
        client.options(ignore_status=404).indices.delete_index_template(
            name=f"secaudit-findings-{findings_index}"
        )
