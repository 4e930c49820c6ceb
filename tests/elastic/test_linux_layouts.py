"""Linux audit events on a Wazuh index, checked against real Lucene like the Windows layouts.

``linux/audit.log`` holds realistic auditd events (EXECVE arguments, SYSCALL exe/comm/key, PATH
records as a file or a directory, user-space records), each family with events SigmaHQ's auditd rules
must find and events they must not; the reader's fixture ``tests/fixtures/logs/linux/audit.log`` is
added. Each event is written as Wazuh indexes it (:func:`secaudit.elastic.layouts.to_layout_document`
from its records joined as Wazuh's log collector joins them), every converted Linux query of the
Wazuh layout runs over those documents in Lucene (one JVM), and the hits must be the embedded
engine's on the same files, rule by rule: the only difference is named (an EXECVE argument auditd
hex-encoded, which Wazuh's decoder does not keep).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secaudit.app.hunt import HuntOptions, collect, hit_key, load_hunt_rules
from secaudit.cli.main import run
from secaudit.core.events import LogEvent
from secaudit.detect.model import RuleHit
from secaudit.detect.reference import reference_matches
from secaudit.elastic.check import layout_of
from secaudit.elastic.convert import LUCENE, Conversion, convert_rules
from secaudit.elastic.layouts import (
    ECS,
    WAZUH,
    audit_records,
    event_from_source,
    to_layout_document,
    wazuh_audit_fields,
)
from secaudit.logs import ReadStats, read_events
from tests.elastic import lucene_check
from tests.elastic.fault_server import INDEX, Script, serve

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SIGMAHQ = REPO.parent / "shared" / "sigmahq"
AUDIT_LOGS = (HERE / "linux" / "audit.log", REPO / "tests" / "fixtures" / "logs" / "linux" / "audit.log")
RULES = (
    SIGMAHQ / "rules" / "linux",
    SIGMAHQ / "rules-threat-hunting" / "linux",
    SIGMAHQ / "rules-emerging-threats" / "2026" / "Exploits" / "CVE-2026-31431",
    REPO / "rules" / "sigma" / "linux",
)
AGENT = "pkt-cc-jump01"
EXFIL_WGET = "cb39d16b-b3b6-4a7a-8222-1cf24b686ffc"  # data exfiltration with wget --post-file
SUSP_EXE_FOLDERS = "a39d7fa7-3fbd-4dc2-97e1-d87f546b1bbc"  # program run from /tmp/, web folders...

# The hits Wazuh's decoding cannot give (a value auditd hex-encoded: Wazuh does not keep it)
LOST = {
    (EXFIL_WGET, "a1", "--post-file=/etc/ssl/private/city key.pem"),
    (SUSP_EXE_FOLDERS, "exe", "/tmp/my tool/run"),
}


def lost_on_wazuh(rule_id: str, event: LogEvent) -> bool:
    return any(rule_id == rule and event.fields.get(name) == value for rule, name, value in LOST)


def linux_events() -> tuple[list[LogEvent], list[dict[str, Any]]]:
    """The test's audit events, and each as a Wazuh document (agent AGENT)."""
    events, documents = [], []
    for path in AUDIT_LOGS:
        joined = joined_records(path)
        for event in read_events([str(path)], stats=ReadStats()):
            events.append(event)
            documents.append(to_layout_document(WAZUH, event, full_log=joined[event.record], agent=AGENT))
    return events, documents


_HEADER = re.compile(r"^(?:node=\S+ )?type=([A-Z_0-9]+) msg=audit\(([^)]*)\):")


def joined_records(path: Path) -> dict[int, str]:
    """Each event's records joined by spaces as Wazuh's ``audit`` log format sends them, by the line
    of its first record (the reader's record number); EOE records end an event and are not sent."""
    out: dict[int, str] = {}
    key, first, parts = None, 0, []
    for number, line in enumerate(path.read_text().split("\n"), start=1):
        found = _HEADER.match(line)
        if found is None:
            continue
        if found.group(2) != key:
            if parts:
                out[first] = " ".join(parts)
            key, first, parts = found.group(2), number, []
        if found.group(1) != "EOE":
            parts.append(line)
    if parts:
        out[first] = " ".join(parts)
    return out


@dataclass
class Checked:
    conversion: Conversion
    events: list[LogEvent]
    documents: list[dict[str, Any]]
    answers: dict[str, list[lucene_check.Answer]]
    embedded: set[tuple[str, str, int]]


@pytest.fixture(scope="module")
def checked() -> Checked:
    if not SIGMAHQ.is_dir():
        pytest.skip(f"SigmaHQ rules not found at {SIGMAHQ} (../shared beside the repository)")
    conversion = convert_rules(list(RULES), layout=WAZUH)
    events, documents = linux_events()
    runs = [(c.info.location, q) for c in conversion.converted if c.language == LUCENE for q in c.runs]
    answers = lucene_check.run([], [q for _, q in runs], layouts=[(WAZUH, documents)])
    by_rule: dict[str, list[lucene_check.Answer]] = {}
    for (location, _), answer in zip(runs, answers, strict=True):
        by_rule.setdefault(location, []).append(answer)
    hits, _ = collect(HuntOptions(inputs=tuple(map(str, AUDIT_LOGS)), rules=RULES))
    embedded = {hit_key(h) for h in hits if isinstance(h, RuleHit)}
    return Checked(conversion, events, documents, by_rule, embedded)


def test_wazuh_audit_documents_read_back_as_the_reader_reads_the_log() -> None:
    events, documents = linux_events()
    assert len(events) == len(documents) > 25
    for event, document in zip(events, documents, strict=True):
        back = event_from_source(WAZUH, document)
        assert (back.fields, back.kind, back.timestamp) == (event.fields, event.kind, event.timestamp)
        assert back.source == f"{AGENT}//var/log/audit/audit.log"
        assert back.record == int(document["data"]["audit"]["id"])
    # without full_log, what Wazuh kept, under the Sigma names
    document = dict(documents[0])
    del document["full_log"]
    partial = event_from_source(WAZUH, document).fields
    assert (partial["a0"], partial["a1"], partial["exe"], partial["comm"]) == (
        "chmod",
        "777",
        "/usr/bin/chmod",
        "chmod",
    )
    assert partial["name"] == "/usr/bin/chmod"


def test_what_wazuh_s_auditd_decoder_keeps() -> None:
    joined = joined_records(AUDIT_LOGS[0])
    texts = list(joined.values())
    exfil = wazuh_audit_fields(next(t for t in texts if 'a0="wget"' in t and 'a1="' not in t))
    assert exfil["execve.a0"] == "wget" and "execve.a1" not in exfil  # hex-encoded: not kept
    assert exfil["execve.a2"] == "http://127.0.0.1:8080/drop"
    assert exfil["type"] == "SYSCALL" and exfil["command"] == "wget" and exfil["key"] == "exec"
    assert exfil["file.name"] == "/usr/bin/wget" and "directory.name" not in exfil
    preload = wazuh_audit_fields(next(t for t in texts if "ld.so.preload" in t))
    assert (preload["directory.name"], preload["file.name"]) == ("/etc/", "/etc/ld.so.preload")
    audit_dir = wazuh_audit_fields(next(t for t in texts if 'key="audit_cfg"' in t))
    assert audit_dir["directory.name"] == "/etc/audit/" and "file.name" not in audit_dir
    pam = wazuh_audit_fields(next(t for t in texts if "common-account" in t))
    assert pam["file.name"] == "/etc/pam.d/common-auth"  # a third PATH record is not kept
    hexed = wazuh_audit_fields(next(t for t in texts if "2F746D702F6D7920746F6F6C2F72756E" in t))
    assert "exe" not in hexed and hexed["command"] == "run" and "session" not in hexed
    tar = wazuh_audit_fields(next(t for t in texts if 'a0="tar"' in t))
    assert "cwd" not in tar  # hex-encoded working directory
    chmod = wazuh_audit_fields(texts[0])
    assert chmod["cwd"] == "/home/operator7" and chmod["session"] == "7" and chmod["euid"] == "0"
    user = wazuh_audit_fields(next(t for t in texts if t.startswith("type=USER_AUTH")))
    assert user["type"] == "USER_AUTH" and user["acct"] == "root" and "res" not in user
    added = wazuh_audit_fields(next(t for t in texts if t.startswith("type=ADD_USER")))
    assert (added["type"], added["res"], added["exe"]) == ("ADD_USER", "success", "/usr/sbin/useradd")
    assert len(audit_records(texts[0])) == 6  # SYSCALL EXECVE CWD PATH PATH PROCTITLE
    # the decoders' patterns end with a space: an argument that ends the line is not kept
    syscall = texts[0].split(" type=EXECVE", 1)[0]
    last = wazuh_audit_fields(f'{syscall} type=EXECVE msg=audit(1796947207.101:7101): argc=2 a0="ls" a1="-l"')
    assert (last["execve.a0"], "execve.a1" in last) == ("ls", False)
    # the reader's fixture: its second SYSCALL record lacks fields the first pattern wants
    other = wazuh_audit_fields(joined_records(AUDIT_LOGS[1])[9])
    assert (other["command"], other["exe"], other["key"]) == ("python3", "/usr/bin/python3.11", "fileless")
    assert "syscall" not in other


@pytest.mark.slow
def test_every_linux_query_of_the_wazuh_layout_is_accepted_and_finds_the_embedded_engine_s_hits(
    checked: Checked,
) -> None:
    conversion = checked.conversion
    refused = {f"{loc} ({a.error})" for loc, found in checked.answers.items() for a in found if a.error}
    assert refused == set()
    nodes = {p.info.location: p.node for p in load_hunt_rules(HuntOptions(inputs=(), rules=RULES)).plans}
    by_location = conversion.by_location()
    raw, found = set(), set()
    for location, answers in checked.answers.items():
        converted = by_location[location]
        assert not converted.exact  # Wazuh's audit fields are a lossy decoding: the engine confirms
        for number in {n for answer in answers for n in answer.documents}:
            event = checked.events[number]
            key = (converted.info.id, event.source, event.record)
            raw.add(key)
            if reference_matches(nodes[location], event_from_source(WAZUH, checked.documents[number])):
                found.add(key)
    ran = {by_location[location].info.id for location in checked.answers}
    assert len(ran) > 35
    expected = {key for key in checked.embedded if key[0] in ran}
    # what auditd hex-encodes (a value with a space) Wazuh's decoder does not keep: an EXECVE argument
    # (wget --post-file=".../city key.pem") and an exe ("/tmp/my tool/run"), so these two are missed
    by_place = {(e.source, e.record): e for e in checked.events}
    lost = {key for key in expected if lost_on_wazuh(key[0], by_place[key[1:]])}
    assert len(lost) == 2
    # the queries alone find exactly the engine's hits on these events (no superset to trim here)
    assert (expected - lost - raw, raw - expected) == (set(), set())
    assert found == expected - lost
    hit_rules = {Path(by_location[loc].info.location).name.split(":")[0] for loc in checked.answers}
    matched = {r for r, _, _ in found}
    # every mapped field family finds something here: EXECVE arguments, exe, comm, key, PATH names
    # (a file and a directory), the first record's type
    families = {
        "lnx_auditd_susp_cmds.yml",
        "lnx_auditd_coinminer.yml",
        "lnx_auditd_load_module_insmod.yml",
        "lnx_auditd_split_file_into_pieces.yml",
        "lnx_auditd_susp_c2_commands.yml",
        "lnx_auditd_ld_so_preload_mod.yml",
        "lnx_auditd_auditing_config_change.yml",
        "lnx_auditd_logging_config_change.yml",
        "lnx_auditd_create_account.yml",
        "lnx_auditd_susp_exe_folders.yml",
    }
    assert families <= hit_rules
    names = {
        Path(by_location[loc].info.location).name.split(":")[0]: by_location[loc].info.id
        for loc in checked.answers
    }
    assert {names[f] for f in families} <= matched
    # and the events of each family that must not match do not (checked through the equality above;
    # here the count): 25 events in the new file, 28 with the reader's fixture
    assert len(checked.events) == 28


def test_linux_rules_the_layouts_cannot_express_are_named() -> None:
    """Every Linux rule converts on Wazuh or is named, with the reason, never dropped."""
    if not SIGMAHQ.is_dir():
        pytest.skip(f"SigmaHQ rules not found at {SIGMAHQ}")
    wazuh = convert_rules(list(RULES), layout=WAZUH)
    reasons = {Path(f.location).name: f.reason for f in wazuh.failures if f.unrunnable}
    assert "full_log, an analysed text field" in reasons["lnx_sshd_failed_password.yml:1"]
    assert "system call's name" in reasons["lnx_auditd_web_rce.yml:1"]
    assert "res for USER_AUTH" in reasons["lnx_auditd_sshd_auth_failed.yml:1"]
    assert "nametype" in reasons["lnx_auditd_systemd_service_creation.yml:1"]
    assert "no Linux process_creation events" in reasons["proc_creation_lnx_base64_decode.yml:1"]
    assert "keyword search" in reasons["lnx_auditd_find_cred_in_files.yml:1"]
    ecs = convert_rules(list(RULES), layout=ECS)
    assert [c for c in ecs.converted if c.language == LUCENE] == []  # no Linux rule runs on ECS yet
    on_ecs = {Path(f.location).name: f.reason for f in ecs.failures if f.unrunnable}
    assert len(on_ecs) > 220
    assert "each audit record as a document of its own" in on_ecs["lnx_auditd_susp_cmds.yml:1"]
    assert "match_only_text" in on_ecs["lnx_sshd_failed_password.yml:1"]
    assert "Linux process_creation" in on_ecs["proc_creation_lnx_base64_decode.yml:1"]


def test_an_index_of_wazuh_audit_alerts_is_the_wazuh_layout() -> None:
    audit = {"properties": {"data": {"properties": {"audit": {"properties": {"exe": {"type": "keyword"}}}}}}}
    assert layout_of(audit) == WAZUH
    assert layout_of({"properties": {"full_log": {"type": "text"}}}) == "unknown"
    # a Filebeat auditd/system index is ECS (its Linux rules are then named not runnable)
    filebeat = {
        "properties": {
            "ecs": {"properties": {"version": {"type": "keyword"}}},
            "auditd": {"properties": {"log": {"properties": {"sequence": {"type": "long"}}}}},
            "event": {"properties": {"action": {"type": "keyword"}}},
        }
    }
    assert layout_of(filebeat) == ECS


WAZUH_AUDIT_MAPPING = {
    "properties": {
        "agent": {"properties": {"name": {"type": "keyword"}}},
        "full_log": {"type": "text"},
        "data": {"properties": {"audit": {"properties": {"type": {"type": "keyword"}}}}},
    }
}
AUDIT_RULES = {
    "chmod.yml": """title: chmod 777
id: 6b1f2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b
level: high
logsource: {product: linux, service: auditd}
detection:
    sel: {type: EXECVE, a0: chmod, a1: '777'}
    condition: sel
""",
    "getcap.yml": """title: getcap
id: 7c2a3b4d-5e6f-4a70-9b8c-0d1e2f3a4b5c
level: low
logsource: {product: linux, service: auditd}
detection:
    sel: {type: EXECVE, a0: getcap}
    condition: sel
""",
}


def test_a_wazuh_audit_hit_comes_from_full_log_and_the_engine_confirms_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the scripted server (it answers every rule with the same document): the chmod rule's hit
    is the event read back from full_log, with source agent/location and the audit serial; the getcap
    rule's query is inexact, so the engine drops the chmod document the server returns for it."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, text in AUDIT_RULES.items():
        (rules / name).write_text(text, encoding="utf-8")
    _, documents = linux_events()
    bodies: list[str] = []

    def record(kind: str, body: str) -> tuple[int, Any, float] | None:
        if kind == "item":
            bodies.append(body)
        return None

    out = tmp_path / "hits.jsonl"
    with serve(Script(mapping=WAZUH_AUDIT_MAPPING, documents=[documents[0]], fault=record)) as url:
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules), "-o", str(out)]
        assert run(argv) == 0
    err = capsys.readouterr()
    assert "(Wazuh" in err.out + err.err
    queries = [json.loads(b)["query"]["bool"]["filter"][0]["query_string"]["query"] for b in bodies]
    assert any("data.audit.execve.a1:777" in q and "_exists_:data.audit.execve.a0" in q for q in queries)
    [hit] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert hit["rule_id"] == "6b1f2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    assert hit["source"] == f"{AGENT}//var/log/audit/audit.log"
    assert hit["record"] == 7101
    # as a local hunt reports them: the event's record types, its arguments
    assert hit["matched_fields"] == {
        "type": ["SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE"],
        "a0": "chmod",
        "a1": "777",
    }
    assert hit["event"]["CommandLine"] == "chmod 777 /var/www/html/upload"  # as the reader makes it
