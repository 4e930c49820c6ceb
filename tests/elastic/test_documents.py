"""The document each event becomes: shape, deterministic ids, and the LogEvent rebuilt from it."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from secaudit.core.events import LogEvent, LogKind
from secaudit.elastic.documents import (
    document_id,
    escape_name,
    from_source,
    has_secaudit_mapping,
    index_template,
    logsource_query,
    names_escaped,
    to_document,
    unescape_name,
)
from secaudit.logs import ReadStats, read_events

REPO = Path(__file__).resolve().parents[2]
REGRESSION = REPO / ".." / "shared" / "sigmahq" / "regression_data"
KIND = LogKind("windows", frozenset({"process_creation"}), frozenset({"sysmon", "windows-sysmon"}))
WHEN = datetime(2026, 11, 21, 1, 2, 3, 456000, tzinfo=UTC)


def _event(**fields: object) -> LogEvent:
    return LogEvent(dict(fields), KIND, "logs/sysmon.evtx", 42, WHEN)


def test_document_shape() -> None:
    event = _event(
        EventID=1, Computer="ws-01.cc.example", Image="C:\\Windows\\cmd.exe", **{"Threat Name": "x"}
    )
    doc = to_document(event, seq=2)
    assert doc["@timestamp"] == "2026-11-21T01:02:03.456000+00:00"
    assert doc["event"] == {"code": "1"}
    assert doc["host"] == {"name": "ws-01.cc.example"}
    assert doc["log"] == {"file": {"path": os.path.abspath("logs/sysmon.evtx")}}
    assert doc["secaudit"] == {
        "source": "logs/sysmon.evtx",
        "record": 42,
        "seq": 2,
        "product": "windows",
        "categories": ["process_creation"],
        "services": ["sysmon", "windows-sysmon"],
        "aliases": ["ThreatName"],
    }
    assert doc["sigma"] == {
        "EventID": 1,
        "Computer": "ws-01.cc.example",
        "Image": "C:\\Windows\\cmd.exe",
        "Threat Name": "x",
        "ThreatName": "x",
    }


def test_the_event_comes_back_from_its_document_through_json() -> None:
    event = _event(EventID=4625, Tags=["a", "b"], Ratio=0.5, Flag=True, Empty=None, **{"Threat Name": "x"})
    rebuilt = from_source(orjson.loads(orjson.dumps(to_document(event))))
    assert rebuilt == event
    undated = event._replace(timestamp=None)
    assert from_source(orjson.loads(orjson.dumps(to_document(undated)))) == undated


def test_ids_are_deterministic_and_distinct() -> None:
    event = _event(EventID=1)
    assert document_id(event) == document_id(event._replace(source=os.path.abspath(event.source)))
    assert document_id(event) != document_id(event, seq=1)
    assert document_id(event) != document_id(event._replace(record=43))
    assert document_id(event) != document_id(event._replace(source="logs/other.evtx"))
    assert len(document_id(event)) == 64


def test_every_regression_event_gets_its_own_id() -> None:
    if not REGRESSION.is_dir():
        pytest.skip(f"regression data not found at {REGRESSION}")
    stats = ReadStats()
    events = list(read_events([str(REGRESSION)], stats=stats))
    assert stats.events == len(events) > 400  # the .evtx and the .json copy of each sample
    ids = set()
    previous, seq = None, 0
    for event in events:
        key = (event.source, event.record)
        seq = seq + 1 if key == previous else 0
        previous = key
        ids.add(document_id(event, seq))
    assert len(ids) == len(events)


def test_logsource_condition_follows_logkind_covers() -> None:
    assert logsource_query("Windows", "process_creation", None) == (
        'secaudit.product:"windows" AND secaudit.categories:"process_creation"'
    )
    assert logsource_query(None, None, "sshd") == 'secaudit.services:"sshd"'
    assert logsource_query(None, None, None) == ""


def test_template_maps_sigma_fields_flat_and_case_insensitive() -> None:
    body = index_template("city-logs")
    assert body["index_patterns"] == ["city-logs"]
    mappings = body["template"]["mappings"]
    assert mappings["properties"]["sigma"] == {"type": "object"}  # no subobjects: OpenSearch has none
    assert mappings["_meta"] == {"secaudit_field_names": "escaped"}
    dynamic = mappings["dynamic_templates"][0]["sigma_fields"]
    assert dynamic["path_match"] == "sigma.*"
    assert dynamic["mapping"]["normalizer"] == "secaudit_lowercase"
    assert dynamic["mapping"]["copy_to"] == "secaudit.values"
    assert set(dynamic["mapping"]["fields"]) == {"cased", "num", "ip"}
    assert has_secaudit_mapping(mappings)
    assert names_escaped(mappings)
    assert not has_secaudit_mapping({"properties": {"sigma": {"properties": {}}}})
    # the earlier shape (dotted names under subobjects: false) is still recognised, as such
    earlier = {**mappings, "properties": {"sigma": {"type": "object", "subobjects": False}}}
    del earlier["_meta"]
    assert has_secaudit_mapping(earlier)
    assert not names_escaped(earlier)


@pytest.mark.parametrize(
    "name", ["id.orig_h", "a..b", ".x.", "100%.done", "%2E", "%25", "%", "Threat Name", "plain"]
)
def test_field_names_are_escaped_without_dots_and_come_back(name: str) -> None:
    escaped = escape_name(name)
    assert "." not in escaped
    assert unescape_name(escaped) == name


def test_dotted_fields_become_single_escaped_fields_and_come_back() -> None:
    event = _event(**{"id.orig_h": "10.0.0.5", "id": "x", "id.resp_p": 22, "50%": "half"})
    doc = to_document(event)
    assert doc["sigma"] == {"id%2Eorig_h": "10.0.0.5", "id": "x", "id%2Eresp_p": 22, "50%25": "half"}
    assert from_source(orjson.loads(orjson.dumps(doc))) == event


def test_values_over_the_keyword_limit_are_listed_as_Elasticsearch_counts_them() -> None:
    from secaudit.elastic.documents import MAX_TERM_CHARS, long_fields

    view = {
        "ScriptBlockText": "x" * (MAX_TERM_CHARS + 1),
        "CommandLine": "y" * MAX_TERM_CHARS,  # at the limit: indexed
        "Payload": ["short", "\U0001f600" * (MAX_TERM_CHARS // 2 + 1)],  # 2 UTF-16 units each
        "EventID": 4104,
    }
    assert long_fields(view) == ["Payload", "ScriptBlockText"]
