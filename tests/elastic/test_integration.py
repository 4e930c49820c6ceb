"""Against real clusters: Elasticsearch 8.x/9.x when SECAUDIT_TEST_ES_URL points at one, OpenSearch
2.4+/3.x (or the Wazuh indexer) when SECAUDIT_TEST_OPENSEARCH_URL does. Each test runs once per engine
whose URL is set and is skipped, saying why, for the others (``pytest -rs``).

Per engine (prefix SECAUDIT_TEST_ES_ or SECAUDIT_TEST_OPENSEARCH_): URL, and if the cluster wants them
API_KEY, or USER and PASSWORD, and CA (the CA's PEM file) or FINGERPRINT (of the server certificate). The URL must answer as the engine its variable
names (checked first). docs/elasticsearch.md shows how to start a local single-node cluster of each.
Each test works in indices named secaudit-test-<random> and deletes them (and their templates, and any
key, role or user it made) afterwards.

What they show: the SigmaHQ regression data ingested, then hunted on the cluster, gives the same
(rule id, source, record) hits as the embedded engine for every rule that converts, with no query
refused, no partial result and no rule unanswered (a refused query fails the test, never subtracted from
the expectation); a synthetic data set does the same where one rule has more hits than a page (paging
runs), values are lists, booleans, nulls, numbers and values over the keyword limit, and with a time
range; a hunt with credentials limited to the documented hunting role (an API key on Elasticsearch, a
security-plugin user on OpenSearch) finds the same; ingesting the same files again adds no document; a
bulk stopped halfway completes on a re-run with the exact count; a run's findings are published
idempotently and an older run cannot overwrite a newer one.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import ApiError, Elasticsearch

from secaudit.app.es import EsHuntOptions, hunt_es, ingest_logs
from secaudit.app.hunt import Hit, HuntOptions, collect, hit_key
from secaudit.app.reporting import build_report
from secaudit.catalog.profile import load_profile
from secaudit.core.events import LogKind
from secaudit.core.model import Asset, Finding, Run, RunStatus, Severity, Source
from secaudit.core.report import Report
from secaudit.detect.model import RuleHit
from secaudit.elastic.client import open_cluster
from secaudit.elastic.documents import MAX_TERM_CHARS
from secaudit.elastic.findings import ensure_findings_index, publish
from secaudit.elastic.ingest import ensure_index, ingest_events, template_name
from secaudit.elastic.search import FIRST_PAGE, PAGE, TimeRange
from secaudit.elastic.settings import EsSettings, Secret
from secaudit.elastic.transport import ELASTICSEARCH, OPENSEARCH
from secaudit.logs import ReadStats, read_events

REPO = Path(__file__).resolve().parents[2]
SIGMAHQ = REPO / ".." / "shared" / "sigmahq"
REGRESSION = SIGMAHQ / "regression_data"
RULES = tuple(SIGMAHQ / f for f in ("rules", "rules-emerging-threats", "rules-threat-hunting"))
ENGINES = {ELASTICSEARCH: "SECAUDIT_TEST_ES_", OPENSEARCH: "SECAUDIT_TEST_OPENSEARCH_"}


@dataclass(frozen=True, slots=True)
class Cluster:
    product: str  # what the URL must answer as
    prefix: str  # of its environment variables
    settings: EsSettings


def _settings(prefix: str) -> EsSettings | None:
    env = os.environ
    url = env.get(prefix + "URL", "")
    if not url:
        return None
    return EsSettings(
        url=url.rstrip("/"),
        api_key=Secret(env[prefix + "API_KEY"]) if env.get(prefix + "API_KEY") else None,
        username=env.get(prefix + "USER") or None,
        password=Secret(env[prefix + "PASSWORD"]) if env.get(prefix + "PASSWORD") else None,
        ca_cert=Path(env[prefix + "CA"]) if env.get(prefix + "CA") else None,
        fingerprint=env.get(prefix + "FINGERPRINT") or None,
    )


@pytest.fixture(params=sorted(ENGINES))
def cluster(request: pytest.FixtureRequest) -> Cluster:
    product, prefix = request.param, ENGINES[request.param]
    settings = _settings(prefix)
    if settings is None:
        pytest.skip(
            f"{prefix}URL is not set: no {product} cluster to run the integration tests against "
            "(docs/elasticsearch.md shows how to start one)"
        )
    _, engine = open_cluster(settings, "checking the test cluster")
    assert engine.product == product, f"{prefix}URL answers as {engine.describe()}, not {product}"
    return Cluster(product, prefix, settings)


@pytest.fixture
def settings(cluster: Cluster) -> EsSettings:
    return cluster.settings


def _client(settings: EsSettings) -> Elasticsearch:
    return open_cluster(settings, "testing")[0]


@pytest.fixture
def index(settings: EsSettings) -> Iterator[str]:
    name = f"secaudit-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = _client(settings)
    client.options(ignore_status=404).indices.delete(index=name)
    client.options(ignore_status=404).indices.delete_index_template(name=template_name(name))


def _count(settings: EsSettings, index: str) -> int:
    client = _client(settings)
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
    assert (es.partial, es.unfinished) == ([], [])
    skipped = {f.rule_id for f in es.not_converted}  # pySigma cannot convert them (docs: Conversion)
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
    client = _client(settings)
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
    client = _client(settings)
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


# -- a synthetic data set: paging, value types, long values, a time range ---------------------------

KIND = LogKind("secaudittest", frozenset(), frozenset())
START = datetime(2026, 11, 1, tzinfo=UTC)
MANY = PAGE + FIRST_PAGE + 250  # hits of one rule: its first page, a full page of 1,000 and more
SYNTHETIC_RULES = {
    "many": "Kind: bulk",
    "listed": "Tags: beta",
    "enabled": "Enabled: true",
    "nulled": "Kind: flags\n        Missing: null",
    "numbers": "N|gt: 3",
    "long": "Script|contains: needle",
}


def _synthetic(folder: Path) -> tuple[Path, Path]:
    """(log file, rule folder) of the synthetic data set."""
    lines: list[dict[str, Any]] = []
    for n in range(MANY):
        lines.append({"@timestamp": (START + timedelta(minutes=n)).isoformat(), "Kind": "bulk", "N": n % 7})
    lines += [{"Kind": "bulk", "N": 9}] * 3  # no time: found without a range, never with one
    for n in range(60):
        event: dict[str, Any] = {
            "@timestamp": (START + timedelta(days=n % 10, hours=n)).isoformat(),
            "Kind": "flags",
            "Tags": ["alpha", "beta"] if n % 3 == 0 else ["alpha"],
            "Enabled": n % 2 == 0,
            "N": n,
        }
        if n % 4 == 0:
            event["Missing"] = None
        elif n % 4 == 1:
            event["Missing"] = "here"
        lines.append(event)
    for n in range(4):  # values over the keyword limit, the needle at their end
        lines.append(
            {
                "@timestamp": (START + timedelta(days=2 * n)).isoformat(),
                "Kind": "long",
                "Script": "x" * (MAX_TERM_CHARS + 100) + f" needle {n}",
            }
        )
    log = folder / "synthetic.json"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    rules = folder / "rules"
    rules.mkdir()
    for n, (name, selection) in enumerate(SYNTHETIC_RULES.items()):
        (rules / f"{name}.yml").write_text(
            f"title: synthetic {name}\nid: 5ec0a0d1-0000-4000-8000-{n:012d}\n"
            "logsource: {product: secaudittest}\n"
            f"detection:\n    sel:\n        {selection}\n    condition: sel\nlevel: low\n",
            encoding="utf-8",
        )
    return log, rules


def _keys(hits: list[Hit]) -> set[tuple[str, str, int]]:
    return {hit_key(h) for h in hits if isinstance(h, RuleHit)}


def test_paging_value_types_long_values_and_a_time_range_match_the_embedded_engine(
    settings: EsSettings, index: str, tmp_path: Path
) -> None:
    log, rules = _synthetic(tmp_path)
    result, stats = ingest_logs(settings, index, [str(log)], input_format="flat-json", kind=KIND)
    assert result.failed == 0 and result.created == stats.events
    assert result.long_values == 4

    embedded, _ = collect(
        HuntOptions(inputs=(str(log),), rules=(rules,), input_format="flat-json", kind=KIND)
    )
    per_rule = {name: 0 for name in SYNTHETIC_RULES}
    for hit in embedded:
        per_rule[str(hit.rule.title).removeprefix("synthetic ")] += 1
    # the data set means something: every rule finds, and one finds more than a page
    assert per_rule["many"] == MANY + 3 and min(per_rule.values()) >= 4

    found: list[Hit] = []
    options = EsHuntOptions(settings=settings, index=index, rules=(rules,))
    es = hunt_es(options, on_hit=found.append)
    assert (es.not_converted, es.query_errors, es.partial, es.unfinished) == ([], [], [], [])
    assert es.capped == {}
    assert (es.long_value_documents, es.long_value_matched) == (4, 4)
    assert _keys(found) == _keys(embedded)
    assert len(found) == len(embedded)  # no hit twice

    window = TimeRange(START + timedelta(days=2), START + timedelta(days=5, hours=12))
    in_range: list[Hit] = []
    es = hunt_es(replace(options, window=window), on_hit=in_range.append)
    assert (es.query_errors, es.partial, es.unfinished) == ([], [], [])
    expected = {
        hit_key(h)
        for h in embedded
        if isinstance(h, RuleHit)
        and h.event.timestamp is not None
        and window.start <= h.event.timestamp <= window.end  # type: ignore[operator]
    }
    assert expected and expected != _keys(embedded)
    assert _keys(in_range) == expected


# -- least privilege: the documented hunting role is enough -------------------------------------------


def _limited(cluster: Cluster, client: Elasticsearch, index: str) -> tuple[EsSettings, Any]:
    """Credentials holding only the documented hunting role on ``index``, and how to remove them."""
    name = f"secaudit-test-hunt-{uuid.uuid4().hex[:8]}"
    if cluster.product == ELASTICSEARCH:
        role = {"cluster": [], "indices": [{"names": [index], "privileges": ["read", "view_index_metadata"]}]}
        try:
            key = client.security.create_api_key(name=name, role_descriptors={name: role}, expiration="1h")
        except ApiError as e:
            pytest.skip(f"{cluster.prefix}URL: no API key could be made ({e.status_code}): security is off")
        limited = replace(cluster.settings, api_key=Secret(str(key["encoded"])), username=None, password=None)
        return limited, lambda: client.security.invalidate_api_key(ids=[str(key["id"])])
    api = "/_plugins/_security/api"
    headers = {"accept": "application/json", "content-type": "application/json"}
    role = {
        "cluster_permissions": ["indices:data/read/msearch"],
        "index_permissions": [
            {"index_patterns": [index], "allowed_actions": ["read", "indices:admin/mappings/get"]}
        ],
    }
    try:
        client.perform_request("PUT", f"{api}/roles/{name}", body=role, headers=headers)
    except ApiError as e:
        pytest.skip(f"{cluster.prefix}URL: no role could be made ({e.status_code}): no security plugin")
    password = secrets.token_urlsafe(24) + "aA1!"
    user = {"password": password, "opendistro_security_roles": [name]}
    client.perform_request("PUT", f"{api}/internalusers/{name}", body=user, headers=headers)

    def remove() -> None:
        client.perform_request("DELETE", f"{api}/internalusers/{name}", headers=headers)
        client.perform_request("DELETE", f"{api}/roles/{name}", headers=headers)

    limited = replace(cluster.settings, api_key=None, username=name, password=Secret(password))
    return limited, remove


def test_a_hunt_needs_only_the_documented_hunting_role(
    cluster: Cluster, settings: EsSettings, index: str, tmp_path: Path
) -> None:
    log, rules = _synthetic(tmp_path)
    ingest_logs(settings, index, [str(log)], input_format="flat-json", kind=KIND)
    options = EsHuntOptions(settings=settings, index=index, rules=(rules,))
    full: list[Hit] = []
    hunt_es(options, on_hit=full.append)
    client = _client(settings)
    limited, remove = _limited(cluster, client, index)
    try:
        found: list[Hit] = []
        es = hunt_es(replace(options, settings=limited), on_hit=found.append)
    finally:
        remove()
    assert (es.query_errors, es.partial, es.unfinished) == ([], [], [])
    assert _keys(found) == _keys(full) and found
