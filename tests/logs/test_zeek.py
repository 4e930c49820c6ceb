"""Zeek TSV and JSON: typed values, unset/empty, the log type as service."""

from __future__ import annotations

from datetime import UTC, datetime

from secaudit.core.events import LogKind

MODBUS = LogKind("zeek", frozenset(), frozenset({"modbus"}))


def test_tsv_with_types_unset_empty_and_escapes(read, fixtures) -> None:
    events, stats = read(fixtures / "zeek" / "modbus.log")
    assert stats.by_format == {"zeek-tsv": 1} and stats.skipped == 0
    read_regs, write_coil, write_regs = events
    assert [e.record for e in events] == [9, 10, 11]
    assert {e.kind for e in events} == {MODBUS}
    assert read_regs.timestamp == datetime.fromtimestamp(1793674800.25, UTC)
    assert write_coil.fields == {
        "ts": 1793674801.5,
        "uid": "C4kq9c2Wv0G8p1Xb7",
        "id.orig_h": "127.20.9.99",
        "id.orig_p": 50877,
        "id.resp_h": "127.20.2.10",
        "id.resp_p": 502,
        "unit_id": 1,
        "func": "WRITE_SINGLE_COIL",
        "exception": None,
        "track_address": 1,
    }
    assert write_regs.fields["unit_id"] == ""
    assert write_regs.fields["exception"] == "ILLEGAL ADDRESS"


def test_json_service_from_file_name_path_key_and_nested_id(read, fixtures) -> None:
    events, stats = read(fixtures / "zeek" / "dns.log", fixtures / "zeek" / "stream.json")
    assert stats.by_format == {"zeek-json": 2}
    dns1, dns2, dnp3, conn = events
    assert dns1.kind == LogKind("zeek", frozenset({"dns"}), frozenset({"dns"}))
    assert dns1.fields["query"] == "pool.minexmr.example" and dns1.fields["answers"] == ["127.0.0.9"]
    assert dns2.fields["id.orig_h"] == "127.20.1.22"  # nested {"id": {...}} flattened
    assert dns2.timestamp == datetime(2026, 11, 2, 3, 21, 41, 500000, tzinfo=UTC)
    assert dnp3.kind == LogKind("zeek", frozenset(), frozenset({"dnp3"}))
    assert dnp3.fields["fc_request"] == "DIRECT_OPERATE"
    assert conn.kind.services == {"conn"} and conn.record == 2


def test_tsv_vectors_and_sets(read, tmp_path) -> None:
    path = tmp_path / "dns.log"
    lines = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tdns",
        "#fields\tts\tquery\tanswers\tTTLs\tAA",
        "#types\ttime\tstring\tvector[string]\tvector[interval]\tbool",
        "1793674900.000000\tportal.phuket.example\t127.0.0.5,127.0.0.6\t60.000000,30.000000\tT",
        "1793674901.000000\tnx.phuket.example\t(empty)\t-\tF",
    ]
    path.write_text("\n".join(lines) + "\n")
    first, second = read(path)[0]
    assert first.fields["answers"] == ["127.0.0.5", "127.0.0.6"]
    assert first.fields["TTLs"] == [60.0, 30.0]
    assert first.fields["AA"] is True and second.fields["AA"] is False
    assert second.fields["answers"] == [] and second.fields["TTLs"] is None
    assert first.kind.categories == {"dns"}
