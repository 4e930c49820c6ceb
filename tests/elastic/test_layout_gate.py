"""--fail-on does not pass over what a hunt on an ECS or Wazuh index could not look at.

A rule the layout cannot express is one of two things. Not applicable: its log source is not among
the events the layout's queries select (a Linux rule on a Windows index) and no document in range is
of another source; listed and counted, never a reason to fail. A blind spot: the indices may hold its
events but its test cannot be asked of them (a keyword search, a field kept as analysed text...), or
its source is another one and the indices do hold documents that are not Windows events; a skipped
rule with its declared level, so --fail-on at or below it exits 1 as a local hunt does, unless
--allow-skipped-rules.

The server is the scripted loopback server (tests/elastic/fault_server.py); its count of documents
without the layout's channel field is computed from its documents.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from secaudit.app.es import EsHuntOptions
from secaudit.cli import es_options
from secaudit.cli.main import run
from secaudit.core.events import LogEvent
from secaudit.elastic.layouts import ECS, WAZUH, to_layout_document
from secaudit.logs.windows import windows_event
from tests.elastic.fault_server import INDEX, Script, serve
from tests.elastic.test_faults import ALPHA, BRAVO
from tests.elastic.test_faults import RULE as FAULT_RULE
from tests.elastic.test_faults import _document as fault_document
from tests.elastic.test_layouts import ECS_MAPPING, WAZUH_MAPPING

MAPPINGS = {ECS: ECS_MAPPING, WAZUH: WAZUH_MAPPING}
# a keyword search: no field of either layout holds every value (a blind spot)
KEYWORDS = """title: mimikatz named anywhere
id: 9a3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f0a2b
level: high
logsource: {product: windows, service: security}
detection:
    words: ['sekurlsa::logonpasswords']
    condition: words
"""
# a Linux rule: on a Windows index not applicable
LINUX = """title: ssh login from a revoked key
id: 4e6a8c0e-1f3b-4d5f-9a7c-2e4f6a8c0e1f
level: high
logsource: {product: linux, service: sshd}
detection:
    sel: {message|contains: 'revoked key'}
    condition: sel
"""
RUNS = """title: whoami from cmd
id: 0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a09
level: low
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\\cmd.exe'
        CommandLine|contains: 'whoami'
    condition: sel
"""


def _event() -> LogEvent:
    fields: dict[str, Any] = {
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": "cmd.exe /c whoami",
        "EventID": 1,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "Computer": "ws-07.cc.phuket.example",
        "EventRecordID": 11,
    }
    return windows_event(
        fields,
        channel=fields["Channel"],
        provider=fields["Provider_Name"],
        event_id=1,
        source="Sysmon.evtx",
        record=11,
        timestamp=datetime(2026, 11, 21, 1, 2, 3, tzinfo=UTC),
    )


def _rules(tmp_path: Path, *texts: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    for n, text in enumerate(texts):
        (folder / f"r{n}.yml").write_text(text, encoding="utf-8")
    return folder


def _hunt(url: str, rules: Path, layout: str, tmp_path: Path, *extra: str) -> int:
    return run(
        [
            "logs",
            "hunt",
            "--es",
            url,
            "--index",
            INDEX,
            "--layout",
            layout,
            "--rules",
            str(rules),
            "-o",
            str(tmp_path / "hits.jsonl"),
            "--fail-on",
            "high",
            *extra,
        ]
    )


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize("layout", [ECS, WAZUH])
def test_a_high_rule_that_cannot_run_trips_fail_on_high_unless_allowed(
    layout: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _rules(tmp_path, KEYWORDS, RUNS)
    script = Script(mapping=MAPPINGS[layout], documents=[to_layout_document(layout, _event())])
    with serve(script) as url:
        assert _hunt(url, rules, layout, tmp_path) == 1
        said = " ".join("".join(capsys.readouterr()).split())
        # the low rule ran and hit (below the gate): the exit 1 is the blind spot's
        assert "1 rules run as Lucene queries" in said and "whoami from cmd" in said
        assert "0 not applicable to this layout, 1 cannot run on it" in said
        assert "1 rules could not run (1 high)" in said and "mimikatz named anywhere" in said
        assert "exit 1: 1 rule(s) at or above high could not run" in said  # the local hunt's words
        assert _hunt(url, rules, layout, tmp_path, "--json") == 1
        summary = json.loads(capsys.readouterr().out)
        [problem] = [p for p in summary["rule_problems"] if p["skipped"]]
        assert (problem["title"], problem["level"]) == ("mimikatz named anywhere", "high")
        assert "keyword search" in problem["reason"]
        es = summary["elasticsearch"]
        assert (es["rules_not_applicable"], es["rules_cannot_run"], es["not_applicable"]) == (0, 1, [])
        assert _hunt(url, rules, layout, tmp_path, "--allow-skipped-rules") == 0
        said = " ".join("".join(capsys.readouterr()).split())
        assert "1 rules could not run (1 high)" in said and "mimikatz named anywhere" in said  # still listed


@pytest.mark.parametrize("layout", [ECS, WAZUH])
def test_a_linux_rule_on_an_index_of_windows_events_is_not_applicable_and_never_trips_the_gate(
    layout: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _rules(tmp_path, LINUX, RUNS)
    script = Script(mapping=MAPPINGS[layout], documents=[to_layout_document(layout, _event())])
    with serve(script) as url:
        assert _hunt(url, rules, layout, tmp_path) == 0
        said = " ".join("".join(capsys.readouterr()).split())
        assert "1 not applicable to this layout, 0 cannot run on it" in said
        assert "1 not applicable (no document in range is of their log source)" in said
        assert "could not run" not in said
        assert _hunt(url, rules, layout, tmp_path, "--json") == 0
        es = json.loads(capsys.readouterr().out)["elasticsearch"]
        assert (es["rules_not_applicable"], es["rules_cannot_run"], es["other_documents"]) == (1, 0, 0)
        [named] = es["not_applicable"]
        assert (
            named["title"] == "ssh login from a revoked key"
            and "logsource (product: linux" in named["reason"]
        )


@pytest.mark.parametrize("layout", [ECS, WAZUH])
def test_the_same_linux_rule_is_a_blind_spot_when_the_indices_hold_other_events(
    layout: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A document that is not a Windows event (no channel: a syslog line, a Filebeat auditd record...)
    may be of the Linux rule's source: the hunt cannot call the rule not applicable."""
    rules = _rules(tmp_path, LINUX, RUNS)
    syslog = {"@timestamp": "2026-11-21T01:02:04Z", "timestamp": "2026-11-21T01:02:04Z", "message": "sshd"}
    documents = [to_layout_document(layout, _event()), syslog]
    with serve(Script(mapping=MAPPINGS[layout], documents=documents)) as url:
        assert _hunt(url, rules, layout, tmp_path) == 1
        said = " ".join("".join(capsys.readouterr()).split())
        assert "0 not applicable to this layout, 1 cannot run on it" in said
        assert "1 documents in range are not Windows events" in said
        assert "1 rules could not run (1 high)" in said and "ssh login from a revoked key" in said
        assert "exit 1: 1 rule(s) at or above high could not run" in said


def test_a_correlation_the_backend_cannot_convert_is_not_a_rule_that_could_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Correlations are evaluated here over their rules' hits from the cluster: the ES|QL/EQL form the
    backend refuses for our SSH correlations (keyword base rules) is no blind spot."""
    rules = Path(__file__).resolve().parents[2] / "rules" / "sigma" / "linux"
    with serve(Script(documents=[])) as url:
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules)]
        assert run([*argv, "-o", str(tmp_path / "hits.jsonl"), "--json", "--fail-on", "low"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["correlations"] >= 2  # SSH Brute Force from One Source, Login After Repeated Failures
    assert summary["rule_problems"] == [] and summary["rules_skipped"] == 0
    assert summary["elasticsearch"]["rules_not_converted"] == 0


def test_a_high_rule_whose_query_the_cluster_refuses_trips_fail_on_high(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A query refused by the cluster (a regex too complex...) is a rule that did not run: it carries
    its level, as a rule the embedded engine cannot run does."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "alpha.yml").write_text(FAULT_RULE.format(word="alpha", uid=ALPHA), encoding="utf-8")
    (rules / "bravo.yml").write_text(FAULT_RULE.format(word="bravo", uid=BRAVO), encoding="utf-8")
    refused = {"error": {"type": "query_shard_exception", "reason": "too complex to determinize"}}

    def fault(kind: str, body: str) -> tuple[int, Any, float] | None:
        return (400, {**refused, "status": 400}, 0.0) if kind == "item" and "bravo" in body else None

    with serve(Script(documents=[], fault=fault)) as url:  # no hits: an exit 1 is the gate's
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules)]
        argv += ["-o", str(tmp_path / "hits.jsonl"), "--fail-on", "critical"]
        assert run(argv) == 0  # the gate above the rule's level: the refusal is said, no exit 1
        said = " ".join("".join(capsys.readouterr()).split())
        assert "1 rules could not run (1 high)" in said and "too complex to determinize" in said
        argv[-1] = "high"
        assert run(argv) == 1
        assert "exit 1: 1 rule(s) at or above high could not run" in " ".join(capsys.readouterr().err.split())


def test_long_documents_the_cluster_did_not_return_are_not_called_a_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the CLI's pauses between tries (1, 2, 4, 8 s) made short
    monkeypatch.setattr(es_options, "EsHuntOptions", partial(EsHuntOptions, backoff=(0.01,)))
    long = fault_document()
    long["secaudit"]["long_fields"] = ["message"]
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "alpha.yml").write_text(FAULT_RULE.format(word="alpha", uid=ALPHA), encoding="utf-8")

    def fault(kind: str, body: str) -> tuple[int, Any, float] | None:
        return (503, {"error": "unavailable", "status": 503}, 0.0) if kind == "search" else None

    with serve(Script(documents=[fault_document()], pages=[[long]], fault=fault)) as url:
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules)]
        assert run([*argv, "-o", str(tmp_path / "hits.jsonl"), "--timeout", "1"]) == 3
    said = " ".join("".join(capsys.readouterr()).split())
    assert "documents with values over the keyword limit: the cluster did not answer" in said
    assert (
        "0 rule(s) got no answer; documents with values over the keyword limit were not all matched" in said
    )
    assert "could not run" not in said and "rule documents" not in said
