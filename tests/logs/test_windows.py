"""Windows events: EVTX, evtx_dump JSON, Winlogbeat/ECS and flat JSON all map to the same Sigma fields and kinds."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.windows import from_evtx_dict, windows_kind

CVE_DIR = "rules-emerging-threats/2025/Exploits/CVE-2025-55182/proc_creation_win_exploit_cve_2025_55182_susp_nodejs_server_child_process"
NETEXEC_DIR = "rules/windows/file/file_event/file_event_win_hktl_netexec_file_indicators"
NETEXEC = f"{NETEXEC_DIR}/efc21479-9e83-41da-8cf1-122e06ba8db3"
# Where each of the 7 records of the NetExec sample begins in its EVTX file (64 KiB chunk at 4096).
NETEXEC_RECORD_OFFSETS = (4608, 7080, 7864, 8648, 9416, 10216, 11024)


def _sample(regression: Path, folder: str, suffix: str) -> Path:
    (path,) = sorted((regression / folder).glob(f"*{suffix}"))
    return path


def test_evtx_sysmon_process_creation_maps_fields_kind_record_time(read, regression) -> None:
    events, stats = read(_sample(regression, CVE_DIR, ".evtx"))
    assert stats.files == 1 and stats.by_format == {"evtx": 1} and stats.skipped == 0
    first = events[0]
    assert first.record == 67583
    assert first.timestamp == datetime(2025, 12, 6, 21, 11, 2, 649150, tzinfo=UTC)
    assert first.kind == LogKind("windows", frozenset({"process_creation"}), frozenset({"sysmon"}))
    assert first.fields["EventID"] == 1
    assert first.fields["Image"] == "C:\\Windows\\System32\\cmd.exe"
    assert first.fields["CommandLine"] == 'C:\\WINDOWS\\system32\\cmd.exe /d /s /c "whoami"'
    assert first.fields["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert first.fields["Provider_Name"] == "Microsoft-Windows-Sysmon"
    assert first.fields["Computer"] == "swachchhanda"
    assert first.fields["EventRecordID"] == 67583
    assert first.fields["TimeCreated"] == "2025-12-06T21:11:02.649150Z"
    assert first.fields["Keywords"] == "0x8000000000000000"
    assert first.fields["TerminalSessionId"] == 1
    assert first.source == str(_sample(regression, CVE_DIR, ".evtx"))


def test_evtx_and_evtx_dump_json_of_every_regression_sample_agree(read, regression) -> None:
    """SigmaHQ ships each sample as EVTX and as evtx_dump JSON: both give the same events."""
    folders = sorted({p.parent for p in regression.rglob("*.evtx")})
    assert len(folders) == 202
    for folder in folders:
        from_evtx, _ = read(*folder.glob("*.evtx"))
        from_json, stats = read(*folder.glob("*.json"))
        assert stats.by_format == {"evtx-json": 1}, folder
        assert [(e.record, e.kind, e.timestamp) for e in from_evtx] == [
            (e.record, e.kind, e.timestamp) for e in from_json
        ], folder
        for a, b in zip(from_evtx, from_json, strict=True):
            assert a.fields.keys() == b.fields.keys(), folder
            assert a.fields["EventID"] == b.fields["EventID"]
            assert a.fields.get("Image") == b.fields.get("Image")


def test_evtx_json_one_object_per_line_equals_pretty_printed(read, regression, tmp_path) -> None:
    pretty = _sample(regression, NETEXEC_DIR, ".json")
    expected, _ = read(pretty)
    compact = tmp_path / "netexec.jsonl"
    # Re-serialize the sample one object per line, as `evtx_dump -o jsonl` writes it.
    text = pretty.read_text()
    decoder = json.JSONDecoder()
    objects, at = [], 0
    while text[at:].strip():
        obj, end = decoder.raw_decode(text, at + len(text[at:]) - len(text[at:].lstrip()))
        objects.append(obj)
        at = end
    compact.write_bytes(b"\n".join(orjson.dumps(o) for o in objects) + b"\n")
    got, stats = read(compact)
    assert stats.by_format == {"evtx-json": 1}
    assert [(e.record, e.fields, e.kind) for e in got] == [(e.record, e.fields, e.kind) for e in expected]
    assert len(got) == 7


def test_security_events_get_sigma_names_from_the_windows_audit_pipeline(read, fixtures) -> None:
    events, stats = read(fixtures / "windows" / "security.json")
    assert stats.skipped == 0 and stats.by_format == {"evtx-json": 1}
    creation, registry, cleared = events
    assert creation.record == 88101
    assert creation.kind == LogKind("windows", frozenset({"process_creation"}), frozenset({"security"}))
    assert creation.fields["Image"] == "C:\\Windows\\System32\\schtasks.exe"
    assert creation.fields["NewProcessName"] == "C:\\Windows\\System32\\schtasks.exe"
    assert creation.fields["ParentImage"] == "C:\\Windows\\System32\\cmd.exe"
    assert creation.fields["LogonId"] == "0x3e7a1"
    assert creation.fields["EventID"] == 4688
    # 100 ns precision in the file: kept to the microsecond.
    assert creation.timestamp == datetime(2026, 11, 2, 3, 15, 42, 123456, tzinfo=UTC)
    assert registry.kind.categories == {"registry_event", "registry_set"}
    assert registry.fields["TargetObject"].endswith("\\CurrentVersion\\Run")
    assert registry.fields["Image"] == "C:\\Windows\\regedit.exe"
    assert registry.fields["Details"] == "C:\\Users\\Public\\sync.exe"
    assert cleared.record == 88103
    assert cleared.fields["SubjectUserName"] == "operator7"  # from UserData/LogFileCleared
    assert cleared.kind.categories == frozenset()


def test_powershell_events_get_their_categories(read, fixtures) -> None:
    events, _ = read(fixtures / "windows" / "powershell.jsonl")
    script, module, classic = events
    assert script.kind == LogKind("windows", frozenset({"ps_script"}), frozenset({"powershell"}))
    assert script.fields["ScriptBlockText"].startswith("IEX (New-Object")
    assert script.timestamp == datetime(2026, 11, 2, 4, 0, 0, 1, tzinfo=UTC)
    assert module.kind.categories == {"ps_module"}
    assert classic.kind == LogKind(
        "windows", frozenset({"ps_classic_start"}), frozenset({"powershell-classic"})
    )
    assert classic.fields["EventID"] == 400
    assert classic.fields["Data"][2].startswith("NewEngineState=Available")
    assert classic.record == 77


def test_winlogbeat_nested_and_dotted_map_like_evtx(read, fixtures) -> None:
    events, stats = read(fixtures / "windows" / "winlogbeat.jsonl")
    assert stats.by_format == {"ecs-json": 1}
    nested, dotted, agent = events
    assert nested.kind == LogKind("windows", frozenset({"process_creation"}), frozenset({"sysmon"}))
    assert nested.fields["EventID"] == 1
    assert nested.fields["Image"] == "C:\\Windows\\System32\\certutil.exe"
    assert nested.fields["CommandLine"].startswith("certutil -urlcache")
    assert nested.fields["Computer"] == "pkt-cc-ops-ws07.city.local"
    assert nested.fields["EventRecordID"] == 120044
    assert nested.record == 1  # line number for JSON lines
    assert nested.timestamp == datetime(2026, 11, 2, 5, 10, 11, 250000, tzinfo=UTC)
    assert dotted.kind.categories == {"network_connection"}
    assert dotted.fields["DestinationIp"] == "127.0.0.1"
    assert dotted.fields["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert dotted.record == 2
    # EventID only in event.code (Elastic Agent); Security names get their Sigma aliases.
    assert agent.kind == LogKind("windows", frozenset({"process_creation"}), frozenset({"security"}))
    assert agent.fields["EventID"] == 4688
    assert agent.fields["Image"] == "C:\\Windows\\System32\\net.exe"
    assert agent.fields["ParentImage"] == "C:\\Windows\\System32\\cmd.exe"
    assert agent.fields["Computer"] == "pkt-cc-ops-ws08"


def test_flat_json_nxlog_style(read, fixtures) -> None:
    events, stats = read(fixtures / "windows" / "nxlog.jsonl")
    assert stats.by_format == {"flat-json": 1}
    registry, logon, other = events
    assert registry.kind == LogKind(
        "windows", frozenset({"registry_set", "registry_event"}), frozenset({"sysmon"})
    )
    assert registry.fields["TargetObject"].endswith("\\Run\\TrafficSync")
    assert registry.fields["Provider_Name"] == "Microsoft-Windows-Sysmon"
    assert registry.fields["Computer"] == "pkt-cc-ops-ws07.city.local"
    assert registry.fields["EventRecordID"] == 120101
    assert registry.timestamp == datetime(2026, 11, 2, 5, 30, tzinfo=UTC)  # no zone given: UTC
    assert logon.kind == LogKind("windows", frozenset(), frozenset({"security"}))
    assert logon.timestamp == datetime(2026, 11, 1, 22, 31, tzinfo=UTC)
    assert logon.record == 2
    assert other.kind == LogKind()
    assert other.fields["junction"] == "J-0412"


def test_kind_override_replaces_the_mapped_kind(read, fixtures) -> None:
    forced = LogKind("windows", frozenset({"process_creation"}), frozenset())
    events, _ = read(fixtures / "windows" / "nxlog.jsonl", kind=forced)
    assert {e.kind for e in events} == {forced}


@pytest.mark.parametrize(
    ("channel", "services"),
    [
        ("Microsoft-Windows-Windows Defender/Operational", {"windefend"}),
        ("Microsoft-Windows-TaskScheduler/Operational", {"taskscheduler"}),
        ("System", {"system"}),
        ("Microsoft-Windows-AppLocker/EXE and DLL", {"applocker"}),
        ("Microsoft-IIS-Configuration/Operational", {"iis-configuration"}),
        ("Some-Vendor/Operational", set()),
    ],
)
def test_services_come_from_pysigmas_channel_table(channel, services) -> None:
    assert windows_kind(channel, "", 1).services == services


def test_truncated_evtx_keeps_every_intact_record(read, regression, tmp_path) -> None:
    data = _sample(regression, NETEXEC_DIR, ".evtx").read_bytes()
    cut = NETEXEC_RECORD_OFFSETS[4] + 300  # inside the 5th record
    path = tmp_path / "cut.evtx"
    path.write_bytes(data[:cut])
    events, stats = read(path)
    assert [e.record for e in events] == [129825, 129826, 129827, 129828]
    assert stats.skipped == 3
    assert stats.errors[0] == (f"{path}:byte {cut}", stats.errors[0][1])
    assert any(loc == f"{path}:record 5" and "3 EVTX record(s)" in why for loc, why in stats.errors)


def test_damaged_evtx_chunk_header_area_loses_only_that_chunks_later_records(
    read, regression, tmp_path
) -> None:
    data = bytearray(_sample(regression, NETEXEC_DIR, ".evtx").read_bytes())
    start = NETEXEC_RECORD_OFFSETS[1]
    data[start : start + 400] = b"\xff" * 400  # the 2nd record's header and body
    damaged = tmp_path / "damaged.evtx"
    damaged.write_bytes(bytes(data))
    events, stats = read(damaged)
    assert [e.record for e in events] == [129825]
    assert stats.skipped == 6
    assert stats.errors[0][0] == f"{damaged}:record 2"


def test_damaged_evtx_record_is_counted_and_the_rest_of_the_file_read(read, regression, tmp_path) -> None:
    data = bytearray(_sample(regression, NETEXEC_DIR, ".evtx").read_bytes())
    data[NETEXEC_RECORD_OFFSETS[1] + 100 : NETEXEC_RECORD_OFFSETS[1] + 400] = b"\xff" * 300
    damaged = tmp_path / "damaged.evtx"
    damaged.write_bytes(bytes(data))
    good = tmp_path / "good.evtx"
    shutil.copy(_sample(regression, CVE_DIR, ".evtx"), good)
    events, stats = read(damaged, good)
    # The damaged record's header is intact, so the parser steps over it to the next record.
    assert [e.record for e in events if e.source == str(damaged)] == [129825, *range(129827, 129832)]
    assert stats.skipped == 1
    assert stats.errors[0][0] == f"{damaged}:record 2"
    assert "binxml" in stats.errors[0][1]
    assert next(e.record for e in events if e.source == str(good)) == 67583


def test_gzipped_evtx_is_read_transparently(read, regression, tmp_path) -> None:
    path = tmp_path / "sample.evtx.gz"
    path.write_bytes(gzip.compress(_sample(regression, NETEXEC_DIR, ".evtx").read_bytes()))
    events, stats = read(path)
    assert stats.by_format == {"evtx": 1}
    assert [e.record for e in events] == list(range(129825, 129832))


def test_large_gzipped_evtx_spills_to_a_temporary_file(read, regression, tmp_path, monkeypatch) -> None:
    from secaudit.logs import reader

    monkeypatch.setattr(reader, "EVTX_IN_MEMORY", 10_000)
    path = tmp_path / "sample.evtx.gz"
    path.write_bytes(gzip.compress(_sample(regression, NETEXEC_DIR, ".evtx").read_bytes()))
    events, stats = read(path)
    assert [e.record for e in events] == list(range(129825, 129832)) and stats.skipped == 0


def test_security_aliases_are_pysigmas_windows_audit_mapping_reversed() -> None:
    from secaudit.logs.windows import security_aliases

    general, registry = security_aliases()
    assert general == {
        "NewProcessName": "Image",
        "ParentProcessName": "ParentImage",
        "NewValue": "Details",
        "SubjectLogonId": "LogonId",
    }
    assert registry == {"ProcessName": "Image", "ObjectName": "TargetObject"}


def test_every_sysmon_category_sigmahq_uses_for_windows_is_mapped(regression) -> None:
    """Each category a SigmaHQ Windows rule names that Sysmon logs is one some Sysmon event id gets."""
    from secaudit.logs.windows import sysmon_categories

    rules = regression.parent / "rules" / "windows"
    used = set()
    for rule in rules.rglob("*.yml"):
        for line in rule.read_text(encoding="utf-8").splitlines():
            if line.startswith("    category: "):
                used.add(line.split(":", 1)[1].strip())
    mapped = {c for cats in sysmon_categories().values() for c in cats}
    not_sysmon = {
        "ps_script",
        "ps_module",
        "ps_classic_start",
        "ps_classic_provider_start",
        "ps_classic_script",
    }
    not_sysmon |= {"file_access", "file_rename"}  # from ETW providers, not Sysmon
    assert used - mapped - not_sysmon == set()


def test_kind_cache_stays_bounded_under_endless_distinct_event_ids() -> None:
    from secaudit.logs import windows
    from secaudit.logs.context import KIND_CACHE_MAX

    for event_id in range(100_000, 100_000 + 3 * KIND_CACHE_MAX):
        kind = windows_kind("Security", "", event_id)
    assert len(windows._KINDS) <= KIND_CACHE_MAX
    assert (
        kind
        == windows_kind("Security", "", event_id)
        == LogKind("windows", frozenset(), frozenset({"security"}))
    )


def test_windows_events_are_whole_log_events_with_utc_times(read, tmp_path) -> None:
    # windows_event builds the tuple directly (no NamedTuple __new__): every LogEvent field must be there
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        b'{"EventID": 4688, "Channel": "Security", "TimeCreated": "2026-11-01T00:00:01.5Z",'
        b' "NewProcessName": "C:\\\\x.exe"}\n'
        b'{"EventID": "1", "Channel": "security", "TimeCreated": "2026-11-01T07:00:01+07:00"}\n'
        b'{"EventID": 7, "Channel": "System", "TimeCreated": "2026-11-01 00:00:01.1234567 UTC"}\n'
    )
    events, _ = read(path)
    assert [len(event) for event in events] == [len(LogEvent._fields)] * 3
    assert events == [LogEvent(*event) for event in events]
    assert events[0].fields["Image"] == "C:\\x.exe" and events[0].text is not None
    assert [e.timestamp for e in events] == [
        datetime(2026, 11, 1, 0, 0, 1, 500000, tzinfo=UTC),
        datetime(2026, 11, 1, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 11, 1, 0, 0, 1, 123456, tzinfo=UTC),
    ]
    assert all(e.timestamp is not None and e.timestamp.tzinfo is UTC for e in events)
    assert [e.fields["EventID"] for e in events] == [4688, 1, 7]
    assert "process_creation" in events[0].kind.categories and "security" in events[1].kind.services


def test_evtx_events_keep_their_json_text_exactly_when_it_holds_every_value(read, regression) -> None:
    """LogEvent.text of an EVTX record (and of an evtx_dump object) is the record's JSON, kept only
    when every field value is a string, int, boolean or null taken from it: then each value's text
    is in it, as the keyword gates assume."""
    kept = 0
    for path in sorted(regression.rglob("*.evtx")) + sorted(regression.rglob("*.json"))[:40]:
        events, _ = read(path)
        for event in events:
            values = event.fields.values()
            plain = all(v is None or isinstance(v, (str, int)) for v in values)
            assert (event.text is not None) == plain, (path, event.record)
            if event.text is None:
                continue
            kept += 1
            document = orjson.loads(event.text)
            assert "Event" in document
            raw = event.text.decode()
            for value in values:
                if isinstance(value, str) and value.isascii() and "\\" not in value and '"' not in value:
                    assert value in raw, (path, value)
                elif isinstance(value, bool):
                    assert str(value).lower() in raw
                elif isinstance(value, int):
                    assert str(value) in raw
    assert kept > 200


@pytest.mark.parametrize(
    ("event_data", "event_id", "kept"),
    [
        ({"Image": "C:\\x.exe", "ProcessId": 4, "Elevated": True}, 1, True),
        ({"Image": "C:\\x.exe"}, {"#text": 1, "#attributes": {"Qualifiers": 0}}, True),
        ({"Data": ["a", "b"]}, 1, False),  # a list
        ({"Ratio": 1.5}, 1, False),  # a float
        ({"Image": "C:\\x.exe"}, "1", False),  # EventID read from a string
    ],
)
def test_an_evtx_record_keeps_its_text_only_with_plain_values(
    event_data: dict[str, object], event_id: object, kept: bool
) -> None:
    system = {"EventID": event_id, "Channel": "Microsoft-Windows-Sysmon/Operational", "EventRecordID": 9}
    text = orjson.dumps({"Event": {"System": system, "EventData": event_data}})
    event = from_evtx_dict(orjson.loads(text), "x.evtx", None, 0, text)
    assert (event.text == text) if kept else (event.text is None)
