"""Values an ECS or Wazuh index did not keep searchable (over a keyword field's ``ignore_above``).

Winlogbeat's template gives ECS keyword fields ``ignore_above: 1024``: a longer value (a long command
line) stays in ``_source`` but no query matches it. Elasticsearch names such fields in each document's
``_ignored`` metadata field; the hunt asks for the documents whose ``_ignored`` holds a field some rule
reads, leaves them out of the rule queries and matches them with the embedded engine. OpenSearch keeps
no ``_ignored`` entry for them: the hunt says it cannot find them.

The server is the scripted loopback server (tests/elastic/fault_server.py): it shows the requests'
shape and secaudit's handling of the answers, not what a cluster would find.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from secaudit.app.es import EsHuntOptions, hunt_es, ignored_values_query
from secaudit.cli.main import run
from secaudit.core.events import LogEvent
from secaudit.detect.model import RuleHit
from secaudit.elastic.check import IndexInfo, has_ignore_above
from secaudit.elastic.layouts import ECS, WAZUH, to_layout_document
from secaudit.elastic.settings import EsSettings
from secaudit.logs.windows import windows_event
from tests.elastic.fault_server import INDEX, Script, serve

RULE = """title: whoami from cmd
id: 0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a09
level: high
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\\\\cmd.exe'
        CommandLine|contains: 'WHOAMI /all'
    condition: sel
"""
RULE_ID = "0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a09"
KEYWORD = {"type": "keyword", "ignore_above": 1024}
# Winlogbeat 8's template where it matters here: keywords (and the wildcard command line) with
# libbeat's default ignore_above of 1,024
ECS_MAPPING = {
    "dynamic_templates": [{"strings_as_keyword": {"match_mapping_type": "string", "mapping": KEYWORD}}],
    "properties": {
        "ecs": {"properties": {"version": KEYWORD}},
        "winlog": {"properties": {"channel": KEYWORD}},
        "process": {
            "properties": {"executable": KEYWORD, "command_line": {"type": "wildcard", "ignore_above": 1024}}
        },
    },
}
# Wazuh's template: every string a keyword, no ignore_above
WAZUH_MAPPING = {
    "dynamic_templates": [
        {"string_as_keyword": {"match_mapping_type": "string", "mapping": {"type": "keyword"}}}
    ],
    "properties": {
        "agent": {"properties": {"name": {"type": "keyword"}}},
        "data": {"properties": {"win": {"properties": {"system": {"properties": {}}}}}},
    },
}
OPENSEARCH = {
    "version": {"number": "2.19.1", "distribution": "opensearch"},
    "tagline": "The OpenSearch Project",
}


def event(record: int, command_line: str) -> LogEvent:
    fields: dict[str, Any] = {
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": command_line,
        "EventID": 1,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "Computer": "ws-07.cc.phuket.example",
        "EventRecordID": record,
    }
    return windows_event(
        fields,
        channel=fields["Channel"],
        provider=fields["Provider_Name"],
        event_id=1,
        source="Sysmon.evtx",
        record=record,
        timestamp=datetime(2026, 11, 21, 1, 2, 3, tzinfo=UTC),
    )


LONG_LINE = "cmd.exe /c " + "x" * 3000 + " & whoami /all"


def _rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "r.yml").write_text(RULE, encoding="utf-8")
    return folder


def _hunt(url: str, rules: Path, layout: str) -> tuple[Any, list[RuleHit]]:
    hits: list[RuleHit] = []
    options = EsHuntOptions(
        settings=EsSettings(url=url), index=INDEX, rules=(rules,), layout=layout, backoff=(0.01,)
    )
    return hunt_es(options, on_hit=hits.append), hits  # type: ignore[arg-type]


@pytest.mark.parametrize(("layout", "mapping"), [(ECS, ECS_MAPPING), (WAZUH, WAZUH_MAPPING)])
def test_on_elasticsearch_documents_with_ignored_values_are_matched_by_the_embedded_engine(
    layout: str, mapping: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _rules(tmp_path)
    short = to_layout_document(layout, event(7, "cmd.exe /c whoami /all"))
    long = to_layout_document(layout, event(8, LONG_LINE))
    items: list[dict[str, Any]] = []
    searches: list[dict[str, Any]] = []

    def record(kind: str, body: str) -> tuple[int, Any, float] | None:
        if kind == "item":
            items.append(json.loads(body))
        elif kind == "search":
            searches.append(json.loads(body))
        return None

    # the rule query (multi-search) answers the short document; the search for documents with values
    # the index ignored (search_after) answers the long one
    script = Script(mapping=mapping, documents=[short], pages=[[long]], fault=record, ignored=1)
    with serve(script) as url:
        result, hits = _hunt(url, rules, layout)
        assert (result.long_value_documents, result.long_value_matched, result.long_value_note) == (1, 1, "")
        assert sorted((h.rule.id, h.event.record) for h in hits) == [(RULE_ID, 7), (RULE_ID, 8)]
        [long_hit] = [h for h in hits if h.event.record == 8]
        assert long_hit.matched_fields["CommandLine"] == LONG_LINE  # single backslashes on Wazuh too
        assert not result.incomplete
        # counted, left out of the rule queries and fetched by one and the same clause: the fields the
        # rule reads, as the layout names them, in _ignored
        wanted = (
            {"process.executable", "process.command_line"}
            if layout == ECS
            else {"data.win.eventdata.image", "data.win.eventdata.commandLine"}
        )
        [counted] = [c["query"] for c in script.counts if "_ignored" in json.dumps(c)]
        clause = counted if "terms" in counted else counted["bool"]["filter"][0]
        assert set(clause["terms"]["_ignored"]) == wanted
        assert items and all(i["query"]["bool"]["must_not"] == [clause] for i in items)
        assert [s["query"]["bool"]["filter"][0] for s in searches] == [clause]
        script.requests.clear()  # the scripted pages are served again from the first
        assert (
            run(
                [
                    "logs",
                    "hunt",
                    "--es",
                    url,
                    "--index",
                    INDEX,
                    "--rules",
                    str(rules),
                    "-o",
                    str(tmp_path / "h"),
                ]
            )
            == 0
        )
    printed = capsys.readouterr()
    said = " ".join((printed.out + printed.err).split())
    assert "1 documents in range hold a value the index did not keep searchable" in said
    assert "1 of them fetched and matched here by the embedded engine" in said


def test_on_opensearch_values_over_ignore_above_cannot_be_found_and_the_hunt_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _rules(tmp_path)
    short = to_layout_document(ECS, event(7, "cmd.exe /c whoami /all"))
    items: list[dict[str, Any]] = []

    def record(kind: str, body: str) -> tuple[int, Any, float] | None:
        if kind == "item":
            items.append(json.loads(body))
        return None

    script = Script(mapping=ECS_MAPPING, documents=[short], fault=record, opensearch=True, info=OPENSEARCH)
    with serve(script) as url:
        result, hits = _hunt(url, rules, ECS)
        assert [h.event.record for h in hits] == [7]
        assert result.long_value_documents == 0
        assert "cannot be found or counted" in result.long_value_note and INDEX in result.long_value_note
        assert not any("ignore_above" in p.reason for p in result.summary.problems)  # not a rule
        assert not any("_ignored" in json.dumps(c) for c in script.counts)  # OpenSearch would count 0
        assert items and all("must_not" not in i["query"]["bool"] for i in items)
        assert (
            run(["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules), "--layout", "ecs"])
            == 0
        )
    printed = capsys.readouterr()
    said = " ".join((printed.out + printed.err).split())
    assert "OpenSearch does not list such values in _ignored" in said
    assert "run with a limit" not in said  # a note about documents on its own line, not a rule


def test_which_indices_can_hide_long_values() -> None:
    assert has_ignore_above(ECS_MAPPING) and not has_ignore_above(WAZUH_MAPPING)

    def info(name: str, limited: bool) -> IndexInfo:
        return IndexInfo(
            name=name,
            health="",
            documents=0,
            size="",
            secaudit_mapping=False,
            layout=ECS,
            ignore_above=limited,
        )

    targets = {"process.command_line", "winlog.event_data.Threat Name"}
    query, note = ignored_values_query(False, [info("a", True)], targets)
    assert (query, note) == ({"terms": {"_ignored": sorted(targets)}}, "")
    assert ignored_values_query(True, [info("a", False)], targets) == (None, "")  # Wazuh's template
    query, note = ignored_values_query(True, [info("a", False), info("b", True)], targets)
    assert query is None and "mapping of b sets ignore_above" in note
    assert ignored_values_query(False, [info("a", True)], set()) == (None, "")


def test_a_hit_matched_by_the_engine_shows_the_fields_a_query_hit_shows(tmp_path: Path) -> None:
    """The event of an ECS hit found through _ignored carries the rule's names and the usual ones, as
    a rule query's hit does, not every Sigma name process.executable stands for (NewProcessName...)."""
    rules = _rules(tmp_path)
    long = to_layout_document(ECS, event(8, LONG_LINE))
    script = Script(mapping=ECS_MAPPING, documents=[], pages=[[long]], ignored=1)
    with serve(script) as url:
        _, hits = _hunt(url, rules, ECS)
    [hit] = hits
    assert hit.event.fields["Image"] == "C:\\Windows\\System32\\cmd.exe"
    assert "NewProcessName" not in hit.event.fields and "SourceImage" not in hit.event.fields
