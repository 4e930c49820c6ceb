"""Every converted query checked by real Lucene, and its hits compared with the embedded engine's.

No Elasticsearch server can be installed here, but the engine under it can: Lucene 8 from Debian
(liblucene8-java, on openjdk-17; see docs/elasticsearch.md for why this one). ``lucene_check`` parses
each query with Lucene's classic query parser as Elasticsearch's ``query_string`` does for our
mapping, refuses what a cluster refuses (regex over 1,000 characters or 10,000 determinized states,
over 1,024 clauses, a syntax error), and runs the rest over the SigmaHQ regression data indexed in an
in-memory Lucene index, each document exactly as ``logs ingest`` sends it. The hits must be the
embedded engine's, rule by rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secaudit.app.hunt import HuntOptions, collect, hit_key, load_hunt_rules
from secaudit.core.events import LogEvent
from secaudit.detect.model import RuleHit
from secaudit.detect.reference import reference_matches
from secaudit.elastic.convert import LUCENE, Conversion, convert_rules
from secaudit.elastic.documents import from_source
from secaudit.elastic.ingest import IngestResult, bulk_actions
from secaudit.elastic.layouts import ECS, WAZUH, event_from_source, spaced_name, to_layout_document
from secaudit.logs import ReadStats, read_events
from secaudit.logs.windows import windows_event
from tests.elastic import lucene_check

REPO = Path(__file__).resolve().parents[2]
SIGMAHQ = REPO.parent / "shared" / "sigmahq"
REGRESSION = SIGMAHQ / "regression_data"
RULES = (
    *(SIGMAHQ / f for f in ("rules", "rules-emerging-threats", "rules-threat-hunting")),
    REPO / "rules" / "sigma",
)


@dataclass
class Checked:
    conversion: Conversion
    documents: list[dict[str, Any]]
    answers: dict[str, list[lucene_check.Answer]]  # rule location -> Lucene's answer to each query
    embedded: set[tuple[str, str, int]]


def _documents() -> list[dict[str, Any]]:
    stats = ReadStats()
    events = read_events([str(REGRESSION)], stats=stats)
    docs = [json.loads(body) for _, body in bulk_actions("check", events, IngestResult(), {})]
    assert docs and stats.skipped == 0
    return docs


@pytest.fixture(scope="module")
def checked() -> Checked:
    if not REGRESSION.is_dir():
        pytest.skip(f"SigmaHQ regression data not found at {REGRESSION} (../shared beside the repository)")
    conversion = convert_rules(list(RULES))
    documents = _documents()
    runs = [(c.info.location, q) for c in conversion.converted if c.language == LUCENE for q in c.runs]
    answers = lucene_check.run(documents, [q for _, q in runs])
    hits, _ = collect(HuntOptions(inputs=(str(REGRESSION),), rules=RULES))
    embedded = {hit_key(h) for h in hits if isinstance(h, RuleHit)}
    by_rule: dict[str, list[lucene_check.Answer]] = {}
    for (location, _), answer in zip(runs, answers, strict=True):
        by_rule.setdefault(location, []).append(answer)
    return Checked(conversion, documents, by_rule, embedded)


@pytest.mark.slow
def test_lucene_accepts_every_converted_query(checked: Checked) -> None:
    assert len(checked.answers) > 3700
    refused = {
        f"{loc} ({a.error})"
        for loc, answers in checked.answers.items()
        for a in answers
        if a.error is not None
    }
    assert refused == set()
    # OR lists over the clause limit run as several queries, each within it
    split = {Path(loc).name: len(answers) for loc, answers in checked.answers.items() if len(answers) > 1}
    assert split == {
        "driver_load_win_vuln_drivers.yml:1": 5,
        "proc_creation_lnx_mal_shai_hulud_malicious_npm_package_installation.yml:1": 2,
        "proc_creation_win_mal_shai_hulud_malicious_npm_package_installation.yml:1": 2,
    }
    assert max(a.clauses for answers in checked.answers.values() for a in answers) <= 1024


@pytest.mark.slow
def test_hits_on_lucene_equal_the_embedded_engine_s(checked: Checked) -> None:
    by_location = checked.conversion.by_location()
    nodes = {p.info.location: p.node for p in load_hunt_rules(HuntOptions(inputs=(), rules=RULES)).plans}
    found = set()
    relaxed = 0
    for location, answers in checked.answers.items():
        converted = by_location[location]
        relaxed += not converted.exact
        for number in {n for answer in answers for n in answer.documents}:
            document = checked.documents[number]
            # a relaxed query finds a superset; the hunt keeps what the engine confirms (as here)
            if converted.exact or reference_matches(nodes[location], from_source(document)):
                meta = document["secaudit"]
                found.add((converted.info.id, meta["source"], meta["record"]))
    assert relaxed >= 4
    # rules pySigma cannot convert (field references, \b, placeholders: test_convert lists them) run
    # nowhere on the cluster; the hunt reports them as not converted
    ran = {by_location[location].info.id for location in checked.answers}
    expected = {key for key in checked.embedded if key[0] in ran}
    assert len(expected) == 699
    missing = sorted(expected - found)
    extra = sorted(found - expected)
    assert (missing, extra) == ([], [])


# The checker itself: it must be able to say no.

DOC = {
    "secaudit": {"product": "windows", "categories": ["process_creation"], "services": []},
    "sigma": {
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": "cmd /c whoami",
        "ProcessId": 4242,
        "Elevated": True,
        "ParentImage": None,
        "Tags": ["a", "b"],
        "DestinationIp": "10.20.3.4",
        "Payload": "x" * 9000,
    },
}
OTHER = {"secaudit": {"product": "linux", "categories": [], "services": []}, "sigma": {"Image": "/bin/sh"}}


def _answers(*queries: str) -> list[lucene_check.Answer]:
    return lucene_check.run([DOC, OTHER], list(queries))


def test_the_checker_matches_as_the_mapping_says() -> None:
    answers = _answers(
        "sigma.Image:*\\\\CMD.EXE",  # normalized keyword: case-insensitive
        "sigma.Image.cased:*\\\\CMD.EXE",  # the cased sub-field: not
        "sigma.ProcessId.num:>4000",
        "sigma.ProcessId.num:<4000",
        "sigma.DestinationIp.ip:10.20.0.0\\/16",
        "sigma.Elevated:true",
        "sigma.Tags:b",
        "NOT _exists_:sigma.ParentImage",  # null: not indexed
        "NOT _exists_:sigma.Payload",  # over ignore_above: not indexed
        "whoami",  # no field: secaudit.values
        "*whoami",
        'secaudit.product:"linux"',
    )
    assert [a.error for a in answers] == [None] * len(answers)
    assert [a.documents for a in answers] == [
        (0,),
        (),
        (0,),
        (),
        (0,),
        (0,),
        (0,),
        (0, 1),
        (0, 1),
        (),
        (0,),
        (1,),
    ]


def test_the_checker_refuses_what_a_cluster_refuses() -> None:
    many = " OR ".join(f"v{n}" for n in range(1025))
    answers = _answers(
        "sigma.CommandLine:/(a|)b/",  # an empty alternative: a Lucene syntax error
        "sigma.CommandLine:/.*a.{2,128}b.{1,32}c.*/",  # over 10,000 determinized states
        "sigma.CommandLine:/" + "a" * 1001 + "/",  # over index.max_regex_length
        f"sigma.CommandLine:({many})",  # over 1,024 clauses
        "sigma.CommandLine:(a",
        "sigma.ProcessId.num:abc",
        "sigma.DestinationIp.ip:not-an-address",
    )
    reasons = [a.error or "" for a in answers]
    assert "expected ')'" in reasons[0] or "invalid regex" in reasons[0]
    assert "too complex to determinize" in reasons[1]
    assert "index.max_regex_length" in reasons[2]
    assert "too many clauses: 1025" in reasons[3]
    assert reasons[4].startswith("parse error")
    assert "not a number" in reasons[5]
    assert "not an IP address" in reasons[6]


# -- the ECS and Wazuh layouts (secaudit.elastic.layouts) ---------------------------------------------

LAYOUTS = (ECS, WAZUH)


@dataclass
class LayoutChecked:
    conversions: dict[str, Conversion]
    events: list[LogEvent]
    documents: dict[str, list[dict[str, Any]]]
    answers: dict[str, dict[str, list[lucene_check.Answer]]]  # layout -> rule location -> answers
    embedded: set[tuple[str, str, int]]


@pytest.fixture(scope="module")
def layouts_checked() -> LayoutChecked:
    """The regression events as ECS and Wazuh documents (layouts.to_layout_document), every query of
    both layouts answered by Lucene in one JVM (each layout's documents numbered apart)."""
    if not REGRESSION.is_dir():
        pytest.skip(f"SigmaHQ regression data not found at {REGRESSION} (../shared beside the repository)")
    events = [e for e in read_events([str(REGRESSION)], stats=ReadStats()) if e.kind.product == "windows"]
    conversions = {name: convert_rules(list(RULES), layout=name) for name in LAYOUTS}
    documents = {name: [to_layout_document(name, e) for e in events] for name in LAYOUTS}
    runs = [
        (name, c.info.location, q)
        for name in LAYOUTS
        for c in conversions[name].converted
        if c.language == LUCENE
        for q in c.runs
    ]
    answers = lucene_check.run([], [q for _, _, q in runs], layouts=[(n, documents[n]) for n in LAYOUTS])
    by_rule: dict[str, dict[str, list[lucene_check.Answer]]] = {name: {} for name in LAYOUTS}
    for (name, location, _), answer in zip(runs, answers, strict=True):
        by_rule[name].setdefault(location, []).append(answer)
    hits, _ = collect(HuntOptions(inputs=(str(REGRESSION),), rules=RULES))
    embedded = {hit_key(h) for h in hits if isinstance(h, RuleHit)}
    return LayoutChecked(conversions, events, documents, by_rule, embedded)


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_query_of_the_layout_is_accepted_and_finds_the_embedded_engine_s_hits(
    layout: str, layouts_checked: LayoutChecked
) -> None:
    checked = layouts_checked
    conversion = checked.conversions[layout]
    answers = checked.answers[layout]
    assert len(answers) > 2500  # the Windows rules; the others are named as not runnable
    unrunnable = [f for f in conversion.failures if f.unrunnable]
    assert len(unrunnable) > 900 and all("not runnable on the" in f.reason for f in unrunnable)
    refused = {f"{loc} ({a.error})" for loc, found in answers.items() for a in found if a.error}
    assert refused == set()
    assert max(a.clauses for found in answers.values() for a in found) <= 1024
    offset = LAYOUTS.index(layout) * len(checked.events)
    nodes = {p.info.location: p.node for p in load_hunt_rules(HuntOptions(inputs=(), rules=RULES)).plans}
    by_location = conversion.by_location()
    # as the hunt does: documents whose _ignored names a field some rule reads (a value over the
    # keyword limit, unindexed) are left out of the rule queries and matched by the embedded engine
    targets = {t for location in answers for t in by_location[location].targets}
    held = {
        n
        for n, document in enumerate(checked.documents[layout])
        if lucene_check.ignored_fields(document, layout) & targets
    }
    found = set()
    for n in held:
        event = event_from_source(layout, checked.documents[layout][n])
        for location in answers.keys() & nodes.keys():  # the hunt runs the rules the engine loads
            if reference_matches(nodes[location], event):
                original = checked.events[n]
                found.add((by_location[location].info.id, original.source, original.record))
    for location, rule_answers in answers.items():
        converted = by_location[location]
        for number in {n for answer in rule_answers for n in answer.documents} - {h + offset for h in held}:
            assert offset <= number < offset + len(checked.events)  # never another layout's document
            document = checked.documents[layout][number - offset]
            # an inexact query (a relaxed regex; on Wazuh a backslash matching one or two) finds a
            # superset: the hunt keeps what the engine confirms on the document read back, as here
            if converted.exact or reference_matches(nodes[location], event_from_source(layout, document)):
                event = checked.events[number - offset]
                found.add((converted.info.id, event.source, event.record))
    ran = {by_location[location].info.id for location in answers}
    expected = {key for key in checked.embedded if key[0] in ran}
    assert len(expected) == 698
    # every hit, Defender's space-named fields included (Threat Name, asked as ThreatName too)
    assert (expected - found, found - expected) == (set(), set())
    inexact = sum(not c.exact for c in conversion.converted)
    assert inexact >= (2000 if layout == WAZUH else 4)
    # two ECS documents (a scheduled task's TaskContent over 1,024 characters, .evtx and .json) take
    # that path; Wazuh's template has no ignore_above
    assert len(held) == (2 if layout == ECS else 0)


# Defender names its fields with spaces; rules write them without (layouts.spaced_name)

DEFENDER_RULE = """title: defender detection of a test file
id: 6f1d3c2a-0b4e-4f7a-9c8d-2e5b1a7c9d0e
logsource: {product: windows, service: windefend}
detection:
    sel:
        EventID: 1116
        ThreatName|endswith: 'EICAR_Test_File'
        ProcessName|endswith: '\\\\explorer.exe'
    condition: sel
"""
SYSMON_RULE = """title: whoami
id: 2a9e6c41-5d3b-4b8e-a1f0-7c6d5e4b3a21
logsource: {product: windows, category: process_creation}
detection:
    sel: {OriginalFileName: whoami.exe}
    condition: sel
"""


def _defender_event(name: str) -> LogEvent:
    fields: dict[str, Any] = {
        "EventID": 1116,
        "Channel": "Microsoft-Windows-Windows Defender/Operational",
        "Provider_Name": "Microsoft-Windows-Windows Defender",
        "Computer": "ws-07",
        "Threat Name": name,
        "Process Name": "C:\\Windows\\explorer.exe",
        "Detection ID": "{B22D8A5F-600C-45FE-88B8-AB70561B9DCD}",
    }
    return windows_event(
        fields,
        channel=fields["Channel"],
        provider=fields["Provider_Name"],
        event_id=1116,
        source="defender.evtx",
        record=7,
        timestamp=None,
    )


DEFENDER_ABSENT_RULE = """title: defender detection outside a named process
id: 0c6e2f4b-3a1d-4e8f-9b7a-5d2c1e0f3a4b
logsource: {product: windows, service: windefend}
detection:
    sel:
        ThreatName|endswith: 'EICAR_Test_File'
    unnamed:
        ProcessName: null
    condition: sel and not unnamed
"""


def test_a_spaced_field_is_absent_only_when_absent_under_both_names(tmp_path: Path) -> None:
    """``ProcessName: null`` means absent under either name: an AND of the two absences (an OR made
    ``not unnamed`` false on every event, which holds the field under one name at most)."""
    (tmp_path / "absent.yml").write_text(DEFENDER_ABSENT_RULE, encoding="utf-8")
    named = _defender_event("Virus:DOS/EICAR_Test_File")
    unnamed_fields = {k: v for k, v in named.fields.items() if k != "Process Name"}
    unnamed = windows_event(
        unnamed_fields,
        channel=named.fields["Channel"],
        provider=named.fields["Provider_Name"],
        event_id=1116,
        source="defender.evtx",
        record=8,
        timestamp=None,
    )
    plan = load_hunt_rules(HuntOptions(inputs=(), rules=(tmp_path,))).plans[0]
    assert [reference_matches(plan.node, e) for e in (named, unnamed)] == [True, False]
    queries = [convert_rules([tmp_path], layout=layout).converted[0].query for layout in (ECS, WAZUH)]
    answers = lucene_check.run(
        [],
        queries,
        layouts=[
            (layout, [to_layout_document(layout, e) for e in (named, unnamed)]) for layout in (ECS, WAZUH)
        ],
    )
    assert [(a.error, a.documents) for a in answers] == [(None, (0,)), (None, (2,))]


def test_space_named_fields_are_asked_under_both_names_and_lucene_finds_them(tmp_path: Path) -> None:
    assert spaced_name("ThreatName") == "Threat Name"
    assert spaced_name("DetectionID") == "Detection ID"
    assert spaced_name("PreExecutionStatus") == "Pre Execution Status"
    assert [spaced_name(n) for n in ("Path", "Feature_Name", "EventID", "process.pid")] == [None] * 4
    (tmp_path / "defender.yml").write_text(DEFENDER_RULE, encoding="utf-8")
    (tmp_path / "sysmon.yml").write_text(SYSMON_RULE, encoding="utf-8")
    queries = {}
    for layout, spaced, plain in (
        (ECS, "winlog.event_data.Threat\\ Name:", "winlog.event_data.ThreatName:"),
        (WAZUH, "data.win.eventdata.threat\\ Name:", "data.win.eventdata.threatName:"),
    ):
        converted = {
            Path(c.info.location).name: c for c in convert_rules([tmp_path], layout=layout).converted
        }
        query = converted["defender.yml:1"].query
        assert spaced in query and plain in query, query
        assert "\\ " not in converted["sysmon.yml:1"].query  # Sysmon names no field with a space
        queries[layout] = query
    # each shipper keeps the name with its space (Winlogbeat as written, Wazuh first letter lowered)
    hit, miss = _defender_event("Virus:DOS/EICAR_Test_File"), _defender_event("Trojan:Win32/Other")
    ecs_docs = [to_layout_document(ECS, e) for e in (hit, miss)]
    wazuh_docs = [to_layout_document(WAZUH, e) for e in (hit, miss)]
    assert ecs_docs[0]["winlog"]["event_data"]["Threat Name"] == "Virus:DOS/EICAR_Test_File"
    assert wazuh_docs[0]["data"]["win"]["eventdata"]["threat Name"] == "Virus:DOS/EICAR_Test_File"
    answers = lucene_check.run(
        [], [queries[ECS], queries[WAZUH]], layouts=[(ECS, ecs_docs), (WAZUH, wazuh_docs)]
    )
    assert [(a.error, a.documents) for a in answers] == [(None, (0,)), (None, (2,))]
