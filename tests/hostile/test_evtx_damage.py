"""A damaged EVTX keeps every intact record before and after the damage; what is lost is counted.

The file is written at test time by the benchmark's EVTX writer (bench/evtxgen.py, ten chunks). The
expected records come from this test's own walk of the intact file (record sizes chained from each
chunk's 512-byte header), not from the reader under test.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.evtxgen import sysmon_events, write_evtx
from secaudit.logs.reader import plan_shards, read_events, read_shard
from secaudit.logs.stats import ReadStats

HEADER, CHUNK = 4096, 65536


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("evtx") / "intact.evtx"
    assert write_evtx(path, sysmon_events(500, seed=11, first_record=1)) >= 8
    return path.read_bytes()


def _records(data: bytes) -> list[tuple[int, int, int, int]]:
    """(record id, chunk index, start, end) of every record of an intact file."""
    out = []
    for index, chunk_at in enumerate(range(HEADER, len(data), CHUNK)):
        offset = chunk_at + 512
        while data[offset : offset + 4] == b"**\x00\x00":
            size, record_id = struct.unpack_from("<IQ", data, offset + 4)
            out.append((record_id, index, offset, offset + size))
            offset += size
    return out


def _read(path: Path) -> tuple[list[int], ReadStats]:
    stats = ReadStats()
    return [e.record for e in read_events([str(path)], stats=stats)], stats


def _zero(data: bytes, start: int, end: int) -> bytes:
    return data[:start] + bytes(end - start) + data[end:]


Damage = Callable[[bytes], bytes]


def _chunk(n: int) -> int:
    return HEADER + n * CHUNK


# name -> (damage, which records must come out given the intact file's records)
CASES: dict[str, tuple[Damage, Callable[[tuple[int, int, int, int]], bool]]] = {
    "chunk 2 signature overwritten": (
        lambda d: d[: _chunk(2)] + b"XXXXXXXX" + d[_chunk(2) + 8 :],
        lambda r: True,
    ),
    "chunk 2 header zeroed": (lambda d: _zero(d, _chunk(2), _chunk(2) + 512), lambda r: True),
    "file header zeroed": (lambda d: _zero(d, 0, HEADER), lambda r: True),
    "file header missing": (lambda d: d[HEADER:], lambda r: True),
    "junk before the chunks": (lambda d: b"\x07" * 1000 + d[HEADER:], lambda r: True),
    "file header and chunk 3 signature zeroed": (
        lambda d: _zero(_zero(d, 0, HEADER), _chunk(3), _chunk(3) + 64),
        lambda r: True,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_damage_that_leaves_the_records_loses_none(intact: bytes, tmp_path: Path, case: str) -> None:
    damage, kept = CASES[case]
    path = tmp_path / "damaged.evtx"
    path.write_bytes(damage(intact))
    records, stats = _read(path)
    expected = [r[0] for r in _records(intact) if kept(r)]
    assert records == expected
    assert stats.skipped == 0
    assert stats.errors  # the damage is reported, located


@pytest.mark.parametrize(
    "cut", [8, 100, 2048, HEADER, HEADER + 300, HEADER + 3 * CHUNK + 20_000, HEADER + 5 * CHUNK]
)
def test_a_cut_file_keeps_every_record_before_the_cut(intact: bytes, tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.evtx"
    path.write_bytes(intact[:cut])
    records, stats = _read(path)
    all_records = _records(intact)
    assert records == [r[0] for r in all_records if r[3] <= cut]
    cut_chunk = (cut - HEADER) // CHUNK if cut > HEADER and (cut - HEADER) % CHUNK else None
    lost_in_chunk = [r for r in all_records if r[1] == cut_chunk and r[3] > cut]
    header_whole = cut_chunk is not None and cut - _chunk(cut_chunk) >= 512
    assert stats.skipped == (len(lost_in_chunk) if header_whole else 0)
    if cut < HEADER:
        assert stats.unreadable_files == 1 and "no EVTX chunk" in stats.errors[-1][1]
    else:  # the cut is reported where it is
        assert stats.unreadable_files == 0 and any(
            w.endswith(f"cut.evtx:byte {cut}") for w, _ in stats.errors
        )


def test_damaged_records_are_counted_and_later_chunks_read(intact: bytes, tmp_path: Path) -> None:
    all_records = _records(intact)
    in_chunk_1 = [r for r in all_records if r[1] == 1]
    hit = in_chunk_1[5]  # zero the sixth record of chunk 1: the parser stops in that chunk
    path = tmp_path / "records.evtx"
    path.write_bytes(_zero(intact, hit[2], hit[3]))
    records, stats = _read(path)
    lost = {r[0] for r in in_chunk_1 if r[0] >= hit[0]}
    assert set(records) == {r[0] for r in all_records} - lost  # every other chunk, before and after
    assert stats.skipped == len(lost)
    assert any(f"record {hit[0]}" in where for where, _ in stats.errors)


def test_a_cut_gzip_keeps_what_came_out(intact: bytes, tmp_path: Path) -> None:
    packed = gzip.compress(intact)
    path = tmp_path / "cut.evtx.gz"
    path.write_bytes(packed[: len(packed) // 2])
    records, stats = _read(path)
    all_ids = [r[0] for r in _records(intact)]
    assert len(records) > len(all_ids) // 4 and records == all_ids[: len(records)]
    assert stats.error_count >= 1


@pytest.mark.parametrize("workers", [1, 2])
def test_a_folder_with_good_logs_and_a_truncated_evtx_loses_no_good_event(
    intact: bytes, tmp_path: Path, workers: int
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    cut = HEADER + 4 * CHUNK + 30_000
    (folder / "a-truncated.evtx").write_bytes(intact[:cut])
    (folder / "b-magic-only.evtx").write_bytes(intact[:8])
    (folder / "c-cut-header.evtx").write_bytes(intact[:2048])
    good = [{"@timestamp": "2026-01-01T00:00:00Z", "message": f"good {i}"} for i in range(40)]
    (folder / "d-good.jsonl").write_text("".join(json.dumps(e) + "\n" for e in good), encoding="utf-8")
    stats = ReadStats()
    if workers == 1:
        events = list(read_events([str(folder)], stats=stats))
    else:
        events = []
        for shard in plan_shards([str(folder)], parts=workers):
            part = ReadStats()
            events.extend(read_shard(shard, stats=part))
            stats.merge(part)
    intact_before_cut = [r[0] for r in _records(intact) if r[3] <= cut]
    assert [e.record for e in events if e.source.endswith("a-truncated.evtx")] == intact_before_cut
    assert [e.fields.get("message") for e in events if e.source.endswith(".jsonl")] == [
        g["message"] for g in good
    ]
    assert stats.unreadable_files == 2
    places = " ".join(where for where, _ in stats.errors)
    assert f"a-truncated.evtx:byte {cut}" in places and "b-magic-only.evtx" in places
    assert "c-cut-header.evtx" in places


def test_a_folder_reads_only_regular_files(tmp_path: Path) -> None:
    """A FIFO would block forever and /dev/zero never end: in a folder both are skipped and counted."""
    folder = tmp_path / "logs"
    folder.mkdir()
    os.mkfifo(folder / "a-fifo.log")
    (folder / "b-zero.log").symlink_to("/dev/zero")
    (folder / "c-urandom.evtx").symlink_to("/dev/urandom")
    (folder / "d-good.jsonl").write_text(json.dumps({"message": "good"}) + "\n", encoding="utf-8")
    for parts in (1, 2):
        stats = ReadStats()
        if parts == 1:
            events = list(read_events([str(folder)], stats=stats))
        else:
            events = [e for s in plan_shards([str(folder)], parts=2) for e in read_shard(s, stats=stats)]
        assert [e.fields.get("message") for e in events] == ["good"]
        assert stats.unreadable_files == 3
        reasons = dict(stats.errors)
        assert reasons[str(folder / "a-fifo.log")] == "not a regular file (a FIFO); skipped"
        assert (
            reasons[str(folder / "b-zero.log")] == "not a regular file (a link to character device); skipped"
        )
