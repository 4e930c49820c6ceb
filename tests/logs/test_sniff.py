"""Formats are detected from content, whatever the file is called; --input-format overrides."""

from __future__ import annotations

import shutil

import pytest

from secaudit.core.errors import UsageError
from secaudit.logs import ReadStats, format_names, read_events
from secaudit.logs.sniff import sniff

SAMPLES = {
    "windows/security.json": "evtx-json",
    "windows/powershell.jsonl": "evtx-json",
    "windows/winlogbeat.jsonl": "ecs-json",
    "windows/nxlog.jsonl": "flat-json",
    "linux/auth.log": "syslog",
    "linux/rfc5424.log": "syslog",
    "linux/sysmon-linux.log": "syslog",
    "linux/journal.json": "flat-json",
    "network/cisco.log": "syslog",
    "linux/audit.log": "auditd",
    "web/access.log": "access-log",
    "zeek/modbus.log": "zeek-tsv",
    "zeek/dns.log": "zeek-json",
    "zeek/stream.json": "zeek-json",
    "csv/sysmon.csv": "csv",
    "csv/signals.csv": "csv",
}


def test_formats_are_the_published_names() -> None:
    assert format_names() == (
        "access-log",
        "auditd",
        "csv",
        "ecs-json",
        "evtx",
        "evtx-json",
        "flat-json",
        "syslog",
        "zeek-json",
        "zeek-tsv",
    )


@pytest.mark.parametrize(("name", "fmt"), sorted(SAMPLES.items()))
def test_every_sample_is_detected_by_content_under_any_name(read, fixtures, tmp_path, name, fmt) -> None:
    assert sniff((fixtures / name).read_bytes()[:65536]) == fmt
    renamed = tmp_path / "data.txt"
    shutil.copy(fixtures / name, renamed)
    _, stats = read(renamed)
    assert stats.by_format == {fmt: 1}


def test_evtx_is_detected_by_magic(regression) -> None:
    sample = next(iter(sorted(regression.rglob("*.evtx"))))
    assert sniff(sample.read_bytes()[:65536]) == "evtx"


def test_first_line_broken_json_still_detected(tmp_path) -> None:
    assert sniff(b'{"EventID": 1, "Chan\n{"EventID": 1, "Channel": "Security"}\n') == "flat-json"


def test_input_format_overrides_detection(read, tmp_path) -> None:
    path = tmp_path / "lines.txt"
    path.write_text("Nov  2 03:15:40 host sshd[1]: hello\n")
    events, stats = read(path, input_format="csv")
    assert stats.by_format == {"csv": 1} and events == []  # a one-line CSV is only a header


def test_unknown_input_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        list(read_events(["x"], input_format="pcap", stats=ReadStats()))


def test_folders_are_read_recursively_in_sorted_order(read, fixtures) -> None:
    events, stats = read(fixtures)
    sources = [e.source for e in events]
    files = sorted({s for s in sources}, key=sources.index)
    assert files == sorted(files)
    assert stats.files == len(SAMPLES) and stats.unreadable_files == 0
    assert sum(stats.by_format.values()) == len(SAMPLES)
