"""CSV with a header: fields by column, Windows columns mapped, multi-line quoted values, bad rows counted."""

from __future__ import annotations

from datetime import UTC, datetime

from secaudit.core.events import LogKind


def test_windows_csv_maps_like_flat_json(read, fixtures) -> None:
    events, stats = read(fixtures / "csv" / "sysmon.csv")
    assert stats.by_format == {"csv": 1}
    whoami, reg = events
    assert whoami.kind == LogKind("windows", frozenset({"process_creation"}), frozenset({"sysmon"}))
    assert whoami.fields["EventID"] == 1
    assert whoami.fields["CommandLine"] == 'cmd.exe /c "whoami /all"'
    assert whoami.record == 2
    assert whoami.timestamp == datetime(2026, 11, 2, 4, 10, tzinfo=UTC)
    assert reg.record == 3  # the row starts on line 3 and continues on line 4
    assert reg.fields["CommandLine"].endswith("TrafficSync\n /d C:\\Users\\Public\\sync.exe")
    # The short row on line 5 is skipped and counted.
    assert stats.skipped == 1 and stats.errors == [
        (f"{fixtures / 'csv' / 'sysmon.csv'}:5", "CSV row has 5 values, the header 7")
    ]


def test_csv_of_unknown_origin_has_an_empty_kind_unless_named(read, fixtures) -> None:
    events, _ = read(fixtures / "csv" / "signals.csv")
    assert [e.kind for e in events] == [LogKind(), LogKind()]
    assert events[0].fields == {
        "time": "2026-11-02 04:00:00",
        "junction": "J-0412",
        "controller": "127.20.2.10",
        "plan": "peak-am",
        "operator": "operator7",
    }
    assert "plan" not in events[1].fields
    named = LogKind("traffic", frozenset({"signal_plan"}), frozenset())
    events, _ = read(fixtures / "csv" / "signals.csv", kind=named)
    assert {e.kind for e in events} == {named}


def test_utf16_csv_from_powershell_is_read_as_text(read, fixtures, tmp_path) -> None:
    """Windows PowerShell 5 writes UTF-16 LE with a BOM and CRLF line ends."""
    import gzip

    text = (fixtures / "csv" / "sysmon.csv").read_text().replace("\n", "\r\n").replace("whoami", "whoami ไทย")
    plain = tmp_path / "export.csv"
    plain.write_bytes(text.encode("utf-16"))
    packed = tmp_path / "export.csv.gz"
    packed.write_bytes(gzip.compress(("\ufeff" + text).encode("utf-16-be")))  # big-endian, compressed
    for path in (plain, packed):
        events, stats = read(path)
        assert stats.by_format == {"csv": 1}, path
        assert [e.record for e in events] == [2, 3]
        assert events[0].fields["CommandLine"] == 'cmd.exe /c "whoami ไทย /all"'
        assert events[0].kind.categories == {"process_creation"}
        assert stats.skipped == 1 and stats.replaced == 0
