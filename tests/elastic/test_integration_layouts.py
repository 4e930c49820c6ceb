"""Against real clusters: hunting ECS and Wazuh indices as a SOC has them (secaudit.elastic.layouts).

Runs when SECAUDIT_TEST_ES_URL and/or SECAUDIT_TEST_OPENSEARCH_URL point at clusters (the same variables
and fixtures as test_integration.py; skipped, saying why, otherwise: ``pytest -rs``). The SigmaHQ
regression events are indexed as Winlogbeat/Elastic Agent (ECS) and as Wazuh's manager would index them
(layouts.to_layout_document, into an index mapped as those shippers map it), then hunted with
``--layout ecs`` / ``--layout wazuh`` and with ``auto``: the hits must be the embedded engine's for
every rule that runs on the layout (Defender's space-named fields included), with no query refused,
no partial result, no rule unanswered.
Linux audit events are indexed as Wazuh documents and hunted with the Linux rules the same way (the
differences named in test_linux_layouts.LOST).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import helpers

from secaudit.app.es import EsHuntOptions, hunt_es
from secaudit.app.hunt import HuntOptions, collect, hit_key
from secaudit.detect.model import RuleHit
from secaudit.elastic.layouts import AUTO, ECS, OTHER_SOURCE, WAZUH, to_layout_document
from secaudit.elastic.settings import EsSettings
from secaudit.elastic.transport import ELASTICSEARCH
from secaudit.logs import ReadStats, read_events
from tests.elastic import test_layout_long_values as long_values
from tests.elastic.test_integration import (  # noqa: F401 (fixtures)
    REGRESSION,
    RULES,
    Cluster,
    _client,
    cluster,
    settings,
)
from tests.elastic.test_linux_layouts import AUDIT_LOGS, linux_events, lost_on_wazuh
from tests.elastic.test_linux_layouts import RULES as LINUX_RULES

KEYWORD = {"type": "keyword", "ignore_above": 1024}


def _ecs_mapping(product: str) -> dict[str, Any]:
    """Winlogbeat 8's mapping where it matters for the rules: strings as keywords (ignore_above 1,024),
    the typed ECS fields, the command lines as wildcard fields (keyword on OpenSearch, which has none),
    with libbeat's default ignore_above of 1,024 too (libbeat/template/processor.go)."""
    text = {"type": "wildcard" if product == ELASTICSEARCH else "keyword", "ignore_above": 1024}
    long = {"type": "long"}
    return {
        "dynamic_templates": [{"strings": {"match_mapping_type": "string", "mapping": KEYWORD}}],
        "properties": {
            "@timestamp": {"type": "date"},
            "ecs": {"properties": {"version": {"type": "keyword"}}},
            "process": {
                "properties": {
                    "pid": long,
                    "command_line": text,
                    "parent": {"properties": {"pid": long, "command_line": text}},
                    "thread": {"properties": {"id": long}},
                }
            },
            "source": {"properties": {"ip": {"type": "ip"}, "port": long}},
            "destination": {"properties": {"ip": {"type": "ip"}, "port": long}},
            "file": {"properties": {"code_signature": {"properties": {"signed": {"type": "boolean"}}}}},
            "sysmon": {
                "properties": {
                    "file": {
                        "properties": {"is_executable": {"type": "boolean"}, "archived": {"type": "boolean"}}
                    }
                }
            },
        },
    }


def _wazuh_mapping() -> dict[str, Any]:
    """Wazuh's index template (wazuh-template.json) where it matters: every string a keyword."""
    return {
        "date_detection": False,
        "dynamic_templates": [
            {"string_as_keyword": {"match_mapping_type": "string", "mapping": {"type": "keyword"}}}
        ],
        "properties": {
            "@timestamp": {"type": "date"},
            "timestamp": {"type": "date", "format": "date_optional_time||epoch_millis"},
            "agent": {"properties": {"name": {"type": "keyword"}}},
            "data": {"properties": {"win": {"properties": {"system": {"properties": {}}}}}},
        },
    }


@pytest.fixture(params=[ECS, WAZUH])
def layout_index(request: pytest.FixtureRequest, cluster: Cluster) -> Iterator[tuple[str, str]]:  # noqa: F811
    layout = str(request.param)
    name = f"secaudit-test-{layout}-{uuid.uuid4().hex[:10]}"
    client = _client(cluster.settings)
    mapping = _ecs_mapping(cluster.product) if layout == ECS else _wazuh_mapping()
    client.indices.create(index=name, mappings=mapping)
    try:
        events = [e for e in read_events([str(REGRESSION)], stats=ReadStats()) if e.kind.product == "windows"]
        actions = ({"_index": name, "_source": to_layout_document(layout, e)} for e in events)
        indexed, errors = helpers.bulk(client, actions, raise_on_error=False)
        assert errors == [] and indexed == len(events)
        client.indices.refresh(index=name)
        yield layout, name
    finally:
        client.options(ignore_status=404).indices.delete(index=name)


@pytest.mark.parametrize("asked", ["layout", AUTO])
def test_a_hunt_on_an_ecs_or_wazuh_index_finds_what_the_embedded_engine_finds(
    settings: EsSettings,  # noqa: F811
    layout_index: tuple[str, str],
    asked: str,
) -> None:
    layout, index = layout_index
    found: list[RuleHit] = []
    options = EsHuntOptions(
        settings=settings, index=index, rules=RULES, layout=layout if asked == "layout" else AUTO
    )
    es = hunt_es(options, on_hit=found.append)
    assert es.layout == layout
    assert es.query_errors == []  # a refused query fails the test
    assert (es.partial, es.unfinished, es.capped) == ([], [], {})
    assert len(es.unrunnable) > 900  # named, with their reasons
    # Windows events only: every rule of another log source is not applicable, the rest blind spots
    assert es.other_documents == 0
    assert es.not_applicable == [f for f in es.unrunnable if f.scope == OTHER_SOURCE]
    embedded, _ = collect(HuntOptions(inputs=(str(REGRESSION),), rules=RULES))
    skipped = {f.rule_id for f in (*es.not_converted, *es.unrunnable)}
    expected = {
        (rule, Path(source).name, record)
        for rule, source, record in (hit_key(h) for h in embedded if isinstance(h, RuleHit))
        if rule not in skipped
    }
    # on the cluster a hit's source is host/channel: compare by rule, record and host
    on_cluster = {(h.rule.id, h.event.record, str(h.event.fields.get("Computer"))) for h in found}
    wanted = {
        (h.rule.id, h.event.record, str(h.event.fields.get("Computer")))
        for h in embedded
        if isinstance(h, RuleHit) and (h.rule.id, Path(h.event.source).name, h.event.record) in expected
    }
    assert (wanted - on_cluster, on_cluster - wanted) == (set(), set())


@pytest.mark.parametrize("layout", [ECS, WAZUH])
def test_a_command_line_over_the_keyword_limit_is_found_where_the_cluster_lets_it_be(
    cluster: Cluster,  # noqa: F811
    settings: EsSettings,  # noqa: F811
    layout: str,
    tmp_path: Path,
) -> None:
    """A command line of 3,000 characters beside a short one: on ECS (ignore_above 1,024) Elasticsearch
    lists it in _ignored and the hunt matches it with the embedded engine; OpenSearch does not, and the
    hunt says it cannot find such values; Wazuh's template indexes it, and the query finds it."""
    name = f"secaudit-test-{layout}-long-{uuid.uuid4().hex[:10]}"
    client = _client(settings)
    client.indices.create(
        index=name, mappings=_ecs_mapping(cluster.product) if layout == ECS else _wazuh_mapping()
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(long_values.RULE, encoding="utf-8")
    try:
        events = [long_values.event(7, "cmd.exe /c whoami /all"), long_values.event(8, long_values.LONG_LINE)]
        actions = ({"_index": name, "_source": to_layout_document(layout, e)} for e in events)
        indexed, errors = helpers.bulk(client, actions, raise_on_error=False)
        assert errors == [] and indexed == 2
        client.indices.refresh(index=name)
        found: list[RuleHit] = []
        es = hunt_es(
            EsHuntOptions(settings=settings, index=name, rules=(rules,), layout=layout), on_hit=found.append
        )
        records = sorted(h.event.record for h in found)
        if layout == WAZUH:  # no ignore_above: the long value is indexed, and the query finds it
            assert (records, es.long_value_documents, es.long_value_note) == ([7, 8], 0, "")
        elif cluster.product == ELASTICSEARCH:  # in _ignored: left to the embedded engine
            assert (records, es.long_value_documents, es.long_value_matched) == ([7, 8], 1, 1)
        else:  # OpenSearch lists no value skipped by ignore_above in _ignored
            assert records == [7] and "cannot be found or counted" in es.long_value_note
    finally:
        client.options(ignore_status=404).indices.delete(index=name)


# -- Linux audit on a Wazuh index (tests/elastic/test_linux_layouts.py checks the same on Lucene) -------


@pytest.fixture
def wazuh_audit_index(cluster: Cluster) -> Iterator[str]:  # noqa: F811
    """The Linux audit events of test_linux_layouts as Wazuh documents, in an index mapped as Wazuh's
    template maps them (every string a keyword, full_log analysed text)."""
    name = f"secaudit-test-wazuh-audit-{uuid.uuid4().hex[:10]}"
    client = _client(cluster.settings)
    mapping = _wazuh_mapping()
    mapping["properties"]["full_log"] = {"type": "text"}
    mapping["properties"]["data"]["properties"]["audit"] = {"properties": {"type": {"type": "keyword"}}}
    client.indices.create(index=name, mappings=mapping)
    try:
        _, documents = linux_events()
        actions = ({"_index": name, "_source": d} for d in documents)
        indexed, errors = helpers.bulk(client, actions, raise_on_error=False)
        assert errors == [] and indexed == len(documents)
        client.indices.refresh(index=name)
        yield name
    finally:
        client.options(ignore_status=404).indices.delete(index=name)


def test_a_hunt_on_wazuh_linux_audit_alerts_finds_what_the_embedded_engine_finds(
    settings: EsSettings,  # noqa: F811
    wazuh_audit_index: str,
) -> None:
    found: list[RuleHit] = []
    options = EsHuntOptions(settings=settings, index=wazuh_audit_index, rules=LINUX_RULES, layout=AUTO)
    es = hunt_es(options, on_hit=found.append)
    assert es.layout == WAZUH
    assert es.query_errors == []
    assert (es.partial, es.unfinished, es.capped) == ([], [], {})
    assert len(es.unrunnable) > 200  # the Linux rules Wazuh keeps no fields for, named
    # audit events are no Windows events: the rules of other sources cannot be called not applicable
    assert es.other_documents and es.not_applicable == []
    embedded, _ = collect(HuntOptions(inputs=tuple(map(str, AUDIT_LOGS)), rules=LINUX_RULES))
    skipped = {f.rule_id for f in (*es.not_converted, *es.unrunnable)}
    # a hit on the cluster has source agent/location and the audit serial: compare by rule and time
    wanted = {
        (h.rule.id, h.event.timestamp)
        for h in embedded
        if isinstance(h, RuleHit) and h.rule.id not in skipped and not lost_on_wazuh(h.rule.id, h.event)
    }
    assert len(wanted) > 10
    assert {(h.rule.id, h.event.timestamp) for h in found} == wanted
