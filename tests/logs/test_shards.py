"""Shards: reading every shard in order gives exactly the events of read_events, with true line numbers."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import orjson

from secaudit.logs import ReadStats, plan_shards, read_events, read_shard


def _by_shards(inputs: list[str], parts: int, **options: object) -> tuple[list, ReadStats, list]:
    shards = plan_shards(inputs, parts=parts)
    stats = ReadStats()
    events = []
    for shard in shards:
        part = ReadStats()
        events.extend(read_shard(pickle.loads(pickle.dumps(shard)), stats=part, **options))  # type: ignore[arg-type]
        stats.merge(part)
    return events, stats, shards


def _direct(inputs: list[str]) -> tuple[list, ReadStats]:
    stats = ReadStats()
    return list(read_events(inputs, stats=stats)), stats


def _flat_jsonl(path: Path, count: int) -> None:
    with path.open("wb") as out:
        for i in range(count):
            event = {
                "EventID": 1,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Image": f"C:\\Tools\\tool{i}.exe",
                "CommandLine": f"tool{i}.exe --junction J-{i:05d} " + "x" * (i % 50),
                "UtcTime": "2026-11-02 05:30:00.117",
            }
            out.write(orjson.dumps(event) + b"\n")
            if i % 997 == 0:
                out.write(b"{broken json line\n")


def test_split_flat_jsonl_gives_the_same_events_and_line_numbers(tmp_path) -> None:
    path = tmp_path / "sysmon.jsonl"
    _flat_jsonl(path, 30_000)
    expected, direct_stats = _direct([str(path)])
    got, stats, shards = _by_shards([str(path)], parts=4)
    assert len(shards) == 4
    assert [s.first for s in shards] == [True, False, False, False]
    assert [(e.record, e.fields) for e in got] == [(e.record, e.fields) for e in expected]
    assert got[-1].record == 30_000 + 31  # 31 broken lines before the last event
    assert stats.files == 1 and stats.by_format == {"flat-json": 1}
    assert stats.skipped == direct_stats.skipped == 31
    assert stats.errors == direct_stats.errors


def test_split_pretty_evtx_json_cuts_between_objects(regression, tmp_path) -> None:
    sample = next(iter(sorted(regression.rglob("*.json"))))
    path = tmp_path / "many.json"
    path.write_bytes(b"\n".join([sample.read_bytes().rstrip(b"\n")] * 1500) + b"\n")
    expected, _ = _direct([str(path)])
    got, stats, shards = _by_shards([str(path)], parts=3)
    assert len(shards) >= 2
    assert stats.skipped == 0
    assert [(e.record, e.fields) for e in got] == [(e.record, e.fields) for e in expected]


def test_small_gzip_and_evtx_files_stay_whole(regression, tmp_path) -> None:
    plain = tmp_path / "a.jsonl"
    _flat_jsonl(plain, 100)
    packed = tmp_path / "b.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    evtx = next(iter(sorted(regression.rglob("*.evtx"))))
    shards = plan_shards([str(plain), str(packed), str(evtx)], parts=8)
    assert [(s.source, s.fmt, s.end) for s in shards] == [
        (str(plain), "flat-json", None),
        (str(packed), "flat-json", None),
        (str(evtx), "evtx", None),
    ]
    got, stats, _ = _by_shards([str(plain), str(packed), str(evtx)], parts=8)
    expected, _ = _direct([str(plain), str(packed), str(evtx)])
    assert [(e.source, e.record) for e in got] == [(e.source, e.record) for e in expected]
    assert stats.files == 3


def test_split_zeek_tsv_carries_its_header_into_every_shard(fixtures, tmp_path) -> None:
    text = (fixtures / "zeek" / "modbus.log").read_text().splitlines(keepends=True)
    header, rows = text[:8], text[8:11]
    path = tmp_path / "modbus.log"
    path.write_text("".join(header) + "".join(rows) * 12_000 + "#close\t2026-11-02-04-00-00\n")
    expected, _ = _direct([str(path)])
    got, stats, shards = _by_shards([str(path)], parts=3)
    assert len(shards) == 3 and shards[1].header == tuple(line.encode() for line in header)
    assert len(got) == 36_000 and stats.skipped == 0
    assert [(e.record, e.fields, e.kind) for e in got] == [(e.record, e.fields, e.kind) for e in expected]


def test_split_syslog_keeps_line_numbers_and_years(fixtures, tmp_path) -> None:
    lines = (fixtures / "linux" / "auth.log").read_bytes()
    path = tmp_path / "auth.log"
    path.write_bytes(lines * 6000)
    expected, _ = _direct([str(path)])
    got, _, shards = _by_shards([str(path)], parts=2)
    assert len(shards) == 2 and shards[1].first_line > 1
    assert [(e.record, e.timestamp, e.fields) for e in got] == [
        (e.record, e.timestamp, e.fields) for e in expected
    ]


def test_stdin_is_read_once_in_the_planner_and_split(monkeypatch, tmp_path) -> None:
    import io
    import sys

    from secaudit.logs import release_spilled

    path = tmp_path / "sysmon.jsonl"
    _flat_jsonl(path, 20_000)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    got, stats, shards = _by_shards(["-"], parts=2)
    # copied once to one temporary file (not held in memory), which both pieces read
    assert len(shards) == 2 and all(s.data is None for s in shards)
    assert len({s.path for s in shards}) == 1 and Path(shards[0].location).read_bytes() == path.read_bytes()
    expected, _ = _direct([str(path)])
    assert [(e.record, e.fields) for e in got] == [(e.record, e.fields) for e in expected]
    assert {e.source for e in got} == {"-"} and stats.files == 1
    release_spilled()
    assert not Path(shards[0].location).exists()


def test_auditd_and_csv_stay_whole(fixtures, tmp_path) -> None:
    audit = tmp_path / "audit.log"
    audit.write_bytes((fixtures / "linux" / "audit.log").read_bytes() * 8000)
    shards = plan_shards([str(audit)], parts=4)
    assert [(s.fmt, s.start, s.end) for s in shards] == [("auditd", 0, None)]


def test_shards_and_read_events_count_bad_files_alike(fixtures, tmp_path) -> None:
    (tmp_path / "a.log").symlink_to(tmp_path / "gone")
    (tmp_path / "b.bin").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "c.log").write_bytes(b"")
    (tmp_path / "d.log").write_bytes((fixtures / "web" / "access.log").read_bytes())
    expected, direct = _direct([str(tmp_path)])
    got, sharded, _ = _by_shards([str(tmp_path)], parts=2)
    assert [(e.source, e.record) for e in got] == [(e.source, e.record) for e in expected]
    assert (
        (sharded.files, sharded.unreadable_files, sharded.events)
        == (direct.files, direct.unreadable_files, direct.events)
        == (4, 3, 5)
    )
    assert [loc for loc, _ in sharded.errors] == [loc for loc, _ in direct.errors]


def _multi_chunk_evtx(regression: Path, path: Path, cut: int = 0) -> None:
    """One EVTX file made of the first chunk of 40 regression samples (the parser reads chunks to EOF)."""
    samples = sorted(regression.rglob("*.evtx"))[:40]
    data = samples[0].read_bytes()[:4096] + b"".join(p.read_bytes()[4096 : 4096 + 65536] for p in samples)
    path.write_bytes(data[: len(data) - cut] if cut else data)


def test_big_evtx_is_split_at_chunk_boundaries(regression, tmp_path) -> None:
    path = tmp_path / "big.evtx"
    _multi_chunk_evtx(regression, path)
    shards = plan_shards([str(path)], parts=4)
    assert len(shards) == 3
    assert [(s.start - 4096) % 65536 for s in shards] == [0, 0, 0]
    expected, direct = _direct([str(path)])
    got, stats, _ = _by_shards([str(path)], parts=4)
    assert len(expected) > 40
    assert [(e.record, e.fields, e.kind) for e in got] == [(e.record, e.fields, e.kind) for e in expected]
    assert stats.files == direct.files == 1 and stats.by_format == {"evtx": 1}


def test_truncated_big_evtx_reports_the_same_locations_in_shards(regression, tmp_path) -> None:
    path = tmp_path / "cut.evtx"
    _multi_chunk_evtx(regression, path, cut=65536 - 700)  # keeps 700 bytes of the last chunk
    expected, direct = _direct([str(path)])
    got, stats, shards = _by_shards([str(path)], parts=4)
    assert len(shards) == 3
    assert [(e.record, e.fields) for e in got] == [(e.record, e.fields) for e in expected]
    assert stats.errors == direct.errors and stats.skipped == direct.skipped
    assert stats.errors[0][0] == f"{path}:byte {path.stat().st_size}"


def test_utf16_files_and_stdin_read_the_same_in_shards(fixtures, tmp_path, monkeypatch) -> None:
    import io
    import sys

    text = (fixtures / "linux" / "auth.log").read_text() * 3000
    path = tmp_path / "auth16.log"
    path.write_bytes(text.encode("utf-16"))
    expected, direct = _direct([str(path)])
    got, stats, shards = _by_shards([str(path)], parts=4)
    assert len(shards) == 1 and stats.by_format == direct.by_format == {"syslog": 1}
    assert len(got) == 24_000
    assert [(e.record, e.fields) for e in got] == [(e.record, e.fields) for e in expected]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-16"))))
    piped, _, _ = _by_shards(["-"], parts=4)
    assert [(e.record, e.fields["message"]) for e in piped] == [
        (e.record, e.fields["message"]) for e in expected
    ]
