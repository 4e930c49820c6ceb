"""Hunting the indices a SOC already has: the ECS and Wazuh layouts (secaudit.elastic.layouts).

The mapping is read before any rule runs: an index of an unknown layout, or of another layout than
--layout names, is refused with exit 2 naming what was found and what to pass. On an ECS or Wazuh
index the rules are converted for that layout, rules it cannot express are named as not runnable,
and each hit's host, time and record come from the layout's own fields.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from secaudit.app.es import hunted_layout
from secaudit.cli.main import run
from secaudit.core.errors import UsageError
from secaudit.core.events import LogEvent
from secaudit.elastic.check import IndexInfo, layout_of
from secaudit.elastic.convert import convert_rules
from secaudit.elastic.documents import index_template
from secaudit.elastic.layouts import (
    AUTO,
    ECS,
    SECAUDIT,
    UNKNOWN,
    WAZUH,
    ecs_conflict,
    event_from_source,
    fold_case,
    to_layout_document,
    widen_backslashes,
)
from secaudit.logs.windows import windows_event
from tests.elastic.fault_server import INDEX, Script, serve

ECS_MAPPING = {
    "properties": {
        "ecs": {"properties": {"version": {"type": "keyword"}}},
        "winlog": {"properties": {"event_data": {"properties": {"CommandLine": {"type": "keyword"}}}}},
        "process": {"properties": {"command_line": {"type": "wildcard"}}},
    }
}
WAZUH_MAPPING = {
    "properties": {
        "agent": {"properties": {"name": {"type": "keyword"}}},
        "rule": {"properties": {"level": {"type": "long"}}},
        "data": {"properties": {"win": {"properties": {"eventdata": {"properties": {}}}}}},
    }
}
OTHER_MAPPING = {"properties": {"message": {"type": "text"}, "level": {"type": "keyword"}}}

RULE = """title: whoami from cmd
id: 0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a09
level: high
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\\cmd.exe'
        CommandLine|contains: 'WHOAMI /all'
    condition: sel
"""
LINUX_RULE = """title: linux only
id: 5d1c8a0e-3f0e-4d5e-8f55-0c1e2f3a4b5c
logsource: {product: linux, service: sshd}
detection:
    sel: {message: 'Failed password*'}
    condition: sel
"""


def _sysmon_event() -> LogEvent:
    fields: dict[str, Any] = {
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": "cmd.exe /c whoami /all",
        "ParentImage": "C:\\Windows\\explorer.exe",
        "ProcessId": 4242,
        "User": "CITY\\analyst",
        "EventID": 1,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "Computer": "ws-07.cc.phuket.example",
        "EventRecordID": 90210,
    }
    stamp = datetime(2026, 11, 21, 1, 2, 3, tzinfo=UTC)
    return windows_event(
        fields,
        channel=fields["Channel"],
        provider=fields["Provider_Name"],
        event_id=1,
        source="Sysmon.evtx",
        record=90210,
        timestamp=stamp,
    )


def test_each_layout_is_recognised_from_the_mapping() -> None:
    assert layout_of(index_template("x")["template"]["mappings"]) == SECAUDIT
    assert layout_of(ECS_MAPPING) == ECS
    assert layout_of(WAZUH_MAPPING) == WAZUH
    assert layout_of(OTHER_MAPPING) == UNKNOWN
    assert layout_of({}) == UNKNOWN


def _info(name: str, layout: str) -> IndexInfo:
    return IndexInfo(name=name, health="", documents=0, size="", secaudit_mapping=False, layout=layout)


def test_the_layout_hunted_is_the_one_asked_or_the_one_every_index_shows() -> None:
    assert hunted_layout([_info("a", ECS), _info("b", ECS)], "a*", AUTO, "u") == ECS
    assert hunted_layout([_info("a", WAZUH)], "a*", WAZUH, "u") == WAZUH
    with pytest.raises(UsageError) as mixed:
        hunted_layout([_info("a", ECS), _info("w", WAZUH)], "*", AUTO, "u")
    assert "do not share one field layout" in mixed.value.message and "w: Wazuh" in mixed.value.message
    with pytest.raises(UsageError) as unknown:
        hunted_layout([_info("m", UNKNOWN)], "m", AUTO, "u")
    assert "not one secaudit knows" in unknown.value.message
    with pytest.raises(UsageError) as other:
        hunted_layout([_info("a", ECS)], "a", WAZUH, "u")
    assert "--layout wazuh" in other.value.message and "a: ECS" in other.value.message
    assert "--layout" in (other.value.hint or "")


@pytest.mark.parametrize(
    ("mapping", "argv", "words"),
    [
        (OTHER_MAPPING, [], "not one secaudit knows"),
        (ECS_MAPPING, ["--layout", "secaudit"], "ECS"),
        (WAZUH_MAPPING, ["--layout", "ecs"], "Wazuh"),
        (index_template(INDEX)["template"]["mappings"], ["--layout", "wazuh"], "secaudit's own"),
    ],
)
def test_a_hunt_on_an_index_of_another_layout_exits_2_naming_it(
    mapping: dict, argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(RULE, encoding="utf-8")
    script = Script(mapping=mapping)
    with serve(script) as url:
        assert run(["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rule), *argv]) == 2
    err = capsys.readouterr().err
    assert "field layout" in err and INDEX in err and words in err
    assert not any(path.endswith(("/_pit", "/_msearch", "/_search")) for _, path in script.requests)


@pytest.mark.parametrize(("layout", "mapping"), [(ECS, ECS_MAPPING), (WAZUH, WAZUH_MAPPING)])
def test_a_hunt_on_an_ecs_or_wazuh_index_reports_host_time_and_record_from_its_fields(
    layout: str, mapping: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(RULE, encoding="utf-8")
    (rules / "linux.yml").write_text(LINUX_RULE, encoding="utf-8")
    document = to_layout_document(layout, _sysmon_event())
    bodies: list[str] = []

    def record(kind: str, body: str) -> tuple[int, Any, float] | None:
        if kind == "item":
            bodies.append(body)
        return None  # answered normally

    script = Script(mapping=mapping, documents=[document], fault=record)
    out = tmp_path / "hits.jsonl"
    with serve(script) as url:
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules), "-o", str(out)]
        assert run([*argv, "--layout", layout]) == 0
        captured = capsys.readouterr()
        err = captured.out + captured.err
    assert f"({'ECS' if layout == ECS else 'Wazuh'}" in err
    # the index holds Windows events only: the Linux rule is not applicable (not a rule that could not run)
    assert "1 not applicable to this layout, 0 cannot run on it" in err and "could not run" not in err
    with serve(script) as url:
        argv = ["-v", *argv[:3], url, *argv[4:]]
        assert run([*argv, "--layout", layout]) == 0
    assert "not applicable: linux only" in capsys.readouterr().out  # -v names it
    bodies = bodies[:1]
    [query] = [json.loads(b)["query"]["bool"]["filter"][0]["query_string"]["query"] for b in bodies]
    if layout == ECS:
        assert "process.command_line:/.*[wW][hH][oO][aA][mM][iI] \\/[aA][lL][lL].*/" in query
        assert "winlog.channel:" in query and "event.code:1" in query
    else:
        assert "data.win.eventdata.commandLine:" in query and "data.win.system.eventID:1" in query
    [hit] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert hit["rule_id"] == "0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a09"
    assert hit["source"] == "ws-07.cc.phuket.example/Microsoft-Windows-Sysmon/Operational"
    assert hit["record"] == 90210
    assert hit["timestamp"].startswith("2026-11-21T01:02:03")
    assert hit["matched_fields"] == {  # Wazuh's doubled backslashes halved back
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": "cmd.exe /c whoami /all",
    }
    assert hit["event"]["Computer"] == "ws-07.cc.phuket.example"
    # the event shows the rule's names and the usual ones, not every name ECS keeps under one field
    assert "HostApplication" not in hit["event"] and "SourceImage" not in hit["event"]
    assert "commandLine" not in hit["event"]


def test_layout_documents_read_back_as_the_event_they_were_made_from() -> None:
    event = _sysmon_event()
    for layout in (ECS, WAZUH):
        document = to_layout_document(layout, event)
        back = event_from_source(layout, document)
        assert back.kind == event.kind
        assert back.timestamp == event.timestamp
        assert back.record == 90210
        for name in ("Image", "CommandLine", "ParentImage", "User", "Computer"):
            assert back.fields[name] == event.fields[name], (layout, name)
        assert str(back.fields["ProcessId"]) == "4242"
    ecs = to_layout_document(ECS, event)
    assert ecs["process"]["executable"] == "C:\\Windows\\System32\\cmd.exe"
    assert ecs["event"]["code"] == "1" and ecs["winlog"]["channel"] == "Microsoft-Windows-Sysmon/Operational"
    wazuh = to_layout_document(WAZUH, event)
    assert wazuh["data"]["win"]["eventdata"]["image"] == "C:\\\\Windows\\\\System32\\\\cmd.exe"
    assert wazuh["data"]["win"]["system"]["eventID"] == "1"


def test_values_become_case_insensitive_regexes_and_wazuh_backslashes_match_one_or_two(
    tmp_path: Path,
) -> None:
    (tmp_path / "r.yml").write_text(RULE, encoding="utf-8")
    ecs = convert_rules([tmp_path], layout=ECS).converted[0]
    assert ecs.exact
    assert "process.executable:/.*\\\\[cC][mM][dD]\\.[eE][xX][eE]/" in ecs.query
    wazuh = convert_rules([tmp_path], layout=WAZUH).converted[0]
    assert not wazuh.exact  # a backslash matches one or two: the engine confirms each document
    assert "data.win.eventdata.image:/.*(\\\\{1,2})[cC][mM][dD]\\.[eE][xX][eE]/" in wazuh.query
    assert fold_case("a[b-d0-9]\\.x") == "[aA][b-d0-9B-D0-9]\\.[xX]"
    assert fold_case("[^a]") == "[^aA]"
    # every atom that can match a backslash may match a pair; [^\\] cannot, so it stays
    assert widen_backslashes("a\\\\b.c[^x][^\\\\]") == "a(\\\\{1,2})b(.|\\\\\\\\)c([^x]|\\\\\\\\)[^\\\\]"


def test_rules_a_layout_cannot_express_are_named_not_runnable(tmp_path: Path) -> None:
    docs = {
        "keyword.yml": "logsource: {product: windows, service: security}\ndetection:\n"
        "    k: [mimikatz]\n    condition: k\n",
        "script.yml": "logsource: {product: windows, category: ps_script}\ndetection:\n"
        "    s: {ScriptBlockText|contains: Invoke-Mimikatz}\n    condition: s\n",
        "compare.yml": "logsource: {product: windows, service: security}\ndetection:\n"
        "    s: {LogonType|gt: 3}\n    condition: s\n",
        "linux.yml": "logsource: {product: linux, service: auditd}\ndetection:\n"
        "    s: {type: EXECVE}\n    condition: s\n",
    }
    for n, (name, body) in enumerate(docs.items()):
        (tmp_path / name).write_text(f"title: r{n}\nid: 00000000-0000-4000-8000-00000000000{n}\n{body}")
    reasons = {
        Path(f.location).name.split(":")[0]: f.reason
        for f in convert_rules([tmp_path], layout=ECS).failures
        if f.unrunnable
    }
    assert "keyword search" in reasons["keyword.yml"]
    assert "powershell.file.script_block_text is analysed text" in reasons["script.yml"]
    assert "numeric comparison on winlog.event_data.LogonType" in reasons["compare.yml"]
    assert "each audit record as a document of its own" in reasons["linux.yml"]
    # ECS names SubjectUserName by logsource: a rule on every Windows event cannot know which name
    assert ecs_conflict("SubjectUserName", "windows", None, None) is not None
    assert ecs_conflict("SubjectUserName", "windows", None, "security") is None
