"""The benchmark's own EVTX writer (bench/evtxgen.py): what it writes reads back, through secaudit's EVTX
reader and the evtx parser with checksum validation, as exactly the events given, the same LogEvents as
their flat-JSON form, in chunks packed as full as they go."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import evtx
import orjson
import pytest

from bench.evtxgen import (
    CHUNK_HEADER_SIZE,
    CHUNK_SIZE,
    FILE_HEADER_SIZE,
    SYSTEM_KEYS,
    sysmon_events,
    typed,
    write_evtx,
)
from bench.hunt import generate
from secaudit.core.events import LogEvent
from secaudit.logs import ReadStats, read_events

REGRESSION = Path(__file__).resolve().parents[2] / ".." / "shared" / "sigmahq" / "regression_data"
# 20 events per regression event: the first 60 regression events (three Security and other channels
# among them) with their benign neighbours.
COUNT = 1200


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(sysmon_events(COUNT, seed=7, first_record=5001))


@pytest.fixture(scope="module")
def generated(events: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evtxgen") / "sysmon.evtx"
    write_evtx(path, events)
    return path


def _read(path: Path) -> tuple[list[LogEvent], ReadStats]:
    stats = ReadStats()
    return list(read_events([str(path)], stats=stats)), stats


def _crc_problems(data: bytes) -> list[str]:
    """Every header and records checksum of an EVTX file that does not hold, by location."""
    problems = []
    if struct.unpack_from("<I", data, 124)[0] != zlib.crc32(data[:120]):
        problems.append("file header")
    for at in range(FILE_HEADER_SIZE, len(data), CHUNK_SIZE):
        chunk = data[at : at + CHUNK_SIZE]
        free, records_crc = struct.unpack_from("<II", chunk, 48)
        if records_crc != zlib.crc32(chunk[CHUNK_HEADER_SIZE:free]):
            problems.append(f"records of chunk at {at}")
        if struct.unpack_from("<I", chunk, 124)[0] != zlib.crc32(chunk[:120] + chunk[128:CHUNK_HEADER_SIZE]):
            problems.append(f"header of chunk at {at}")
    return problems


def test_read_back_gives_exactly_the_events_written(events: list[dict[str, Any]], generated: Path) -> None:
    read, stats = _read(generated)
    assert stats.skipped == 0 and not stats.errors
    assert [e.record for e in read] == list(range(5001, 5001 + COUNT))
    for event, written in zip(read, events, strict=True):
        assert event.source == str(generated)
        for key in ("EventID", "Channel", "Computer", "EventRecordID", "TimeCreated"):
            assert event.fields[key] == written[key], key
        # every EventData field, and nothing else than what was written
        assert event.fields == written
    channels = {e.fields["Channel"] for e in read}
    assert {"Microsoft-Windows-Sysmon/Operational", "Security"} <= channels


def test_same_log_events_as_the_flat_json_form(
    events: list[dict[str, Any]], generated: Path, tmp_path: Path
) -> None:
    flat = tmp_path / "sysmon.jsonl"
    flat.write_bytes(b"".join(orjson.dumps(e, option=orjson.OPT_APPEND_NEWLINE) for e in events))
    from_evtx, _ = _read(generated)
    from_json, stats = _read(flat)
    assert stats.events == COUNT
    for a, b in zip(from_evtx, from_json, strict=True):
        assert (a.fields, a.kind, a.timestamp) == (b.fields, b.kind, b.timestamp)
        assert b.record == a.record - 5000  # line numbers there, record ids here


def test_parser_validates_checksums_and_reports_no_errors(generated: Path) -> None:
    parser = evtx.PyEvtxParser(str(generated), validate_checksums=True, skip_errors=False)
    ids = [r["event_record_id"] for r in parser.records_json()]
    assert ids == list(range(5001, 5001 + COUNT))
    assert _crc_problems(generated.read_bytes()) == []


def test_checksums_are_checked_for_real(generated: Path, tmp_path: Path) -> None:
    """Our CRC reading accepts a real file and both it and the parser refuse one flipped bit."""
    real = sorted(REGRESSION.rglob("*.evtx"))[0].read_bytes()
    assert _crc_problems(real) == []
    damaged = bytearray(generated.read_bytes())
    damaged[FILE_HEADER_SIZE + CHUNK_SIZE + 600] ^= 0x20
    assert _crc_problems(bytes(damaged)) == [f"records of chunk at {FILE_HEADER_SIZE + CHUNK_SIZE}"]
    path = tmp_path / "damaged.evtx"
    path.write_bytes(damaged)
    records = evtx.PyEvtxParser(str(path), validate_checksums=True, skip_errors=False).records_json()
    with pytest.raises(RuntimeError, match="chunk number 1: chunk data CRC32 invalid"):
        for _ in records:
            pass


def test_chunks_are_packed_full(generated: Path) -> None:
    data = generated.read_bytes()
    chunks = [data[at : at + CHUNK_SIZE] for at in range(FILE_HEADER_SIZE, len(data), CHUNK_SIZE)]
    header = struct.unpack_from("<8sQQQIHHHH", data, 0)
    assert header[0] == b"ElfFile\x00" and header[3] == 5001 + COUNT and header[8] == len(chunks)
    expected_first = 5001
    for chunk, following in zip(chunks, [*chunks[1:], None], strict=True):
        first, last = struct.unpack_from("<QQ", chunk, 24)
        last_offset, free = struct.unpack_from("<II", chunk, 44)
        assert first == expected_first
        expected_first = last + 1
        # the records fill the chunk from 512 to its free-space offset, one after the other
        at, ids = CHUNK_HEADER_SIZE, []
        while at < free:
            magic, size, record_id = struct.unpack_from("<4sIQ", chunk, at)
            assert magic == b"**\x00\x00" and struct.unpack_from("<I", chunk, at + size - 4)[0] == size
            assert size % 8 == 0
            ids.append(record_id)
            last_seen, at = at, at + size
        assert at == free and last_seen == last_offset and ids == list(range(first, last + 1))
        if following is not None:
            # what is left is less than a record (records here run from about 700 bytes to a few KiB)
            assert CHUNK_SIZE - free < 4096
            assert last - first + 1 >= 30


def test_one_template_per_event_shape_in_each_chunk(events: list[dict[str, Any]], generated: Path) -> None:
    """The System template and one EventData template per shape (names and value types) of the events
    the chunk holds, each defined once in the chunk and listed in its template table."""
    by_id = {e["EventRecordID"]: e for e in events}
    data = generated.read_bytes()
    for at in range(FILE_HEADER_SIZE, len(data), CHUNK_SIZE):
        chunk = data[at : at + CHUNK_SIZE]
        first, last = struct.unpack_from("<QQ", chunk, 24)
        listed = set()
        for bucket in struct.unpack_from("<32I", chunk, 384):
            offset = bucket
            while offset:
                listed.add(offset)
                offset = struct.unpack_from("<I", chunk, offset)[0]
        shapes = {
            tuple((k, typed(v)[0]) for k, v in by_id[i].items() if k not in SYSTEM_KEYS)
            for i in range(first, last + 1)
        }
        assert len(listed) == len(shapes) + 1


def test_events_are_the_jsonl_benchmarks_events(tmp_path: Path) -> None:
    """The EVTX data holds the JSONL benchmark's events (same seed, same values), times to the microsecond."""
    jsonl = tmp_path / "sysmon.jsonl"
    generate(jsonl, 300)
    flat = [orjson.loads(line) for line in jsonl.read_bytes().splitlines()]
    ours = list(sysmon_events(300))
    assert [e["TimeCreated"][:19] for e in ours] == [e["TimeCreated"][:19] for e in flat]
    assert all(e["TimeCreated"][19] == "." and e["TimeCreated"][-1] == "Z" for e in ours)
    assert [{**e, "TimeCreated": ""} for e in ours] == [{**e, "TimeCreated": ""} for e in flat]
