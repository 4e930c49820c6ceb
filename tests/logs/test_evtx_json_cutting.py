"""evtx_dump JSON cut into objects: pretty and compact mixed, Record lines, broken and oversized objects."""

from __future__ import annotations

import orjson
import pytest

from secaudit.logs.context import MAX_RECORD_BYTES


def _event(record: int, **data: object) -> dict:
    return {
        "Event": {
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                "EventID": 1,
                "EventRecordID": record,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "TimeCreated": {"#attributes": {"SystemTime": "2026-11-02T05:00:00.000000Z"}},
            },
            "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", **data},
        }
    }


def _pretty(record: int, **data: object) -> bytes:
    return orjson.dumps(_event(record, **data), option=orjson.OPT_INDENT_2) + b"\n"


def test_pretty_compact_and_record_lines_mixed(read, tmp_path) -> None:
    path = tmp_path / "dump.json"
    path.write_bytes(
        b"Record 1\n"
        + _pretty(11, CommandLine="cmd /c {\\n} braces")
        + b"\n"
        + orjson.dumps(_event(12))
        + b"\n"
        + b"Record 3\n"
        + _pretty(13)
    )
    events, stats = read(path)
    assert stats.by_format == {"evtx-json": 1} and stats.skipped == 0
    assert [e.record for e in events] == [11, 12, 13]
    assert events[0].fields["CommandLine"] == "cmd /c {\\n} braces"


def test_broken_object_in_the_middle_is_skipped_at_its_first_line(read, tmp_path) -> None:
    good = _pretty(1)
    broken = good.replace(b'"EventID": 1', b'"EventID": 1,,')
    path = tmp_path / "dump.json"
    path.write_bytes(good + broken + b"stray text\n" + _pretty(3))
    events, stats = read(path)
    assert [e.record for e in events] == [1, 3]
    lines = good.count(b"\n")
    assert [loc for loc, _ in stats.errors] == [f"{path}:{lines + 1}", f"{path}:{2 * lines + 1}"]
    assert stats.skipped == 2


def test_object_cut_at_end_of_file(read, tmp_path) -> None:
    path = tmp_path / "dump.json"
    whole = _pretty(1)
    path.write_bytes(whole + _pretty(2)[:200])
    events, stats = read(path)
    assert [e.record for e in events] == [1]
    assert stats.skipped == 1
    first = whole.count(b"\n") + 1
    assert stats.errors[0][0] == f"{path}:{first}"


@pytest.mark.parametrize("size", [MAX_RECORD_BYTES + 4096, 3 * MAX_RECORD_BYTES])
def test_oversized_pretty_object_is_skipped_and_reading_goes_on(read, tmp_path, size) -> None:
    path = tmp_path / "dump.json"
    first = _pretty(1)
    huge = _pretty(2, CommandLine="A" * size, ParentImage="C:\\x.exe")
    path.write_bytes(first + huge + b"oops\n" + _pretty(3))
    events, stats = read(path)
    assert [e.record for e in events] == [1, 3]
    lines, huge_lines = first.count(b"\n"), huge.count(b"\n")
    assert stats.skipped == 2
    assert stats.errors == [
        (f"{path}:{lines + 1}", f"JSON object larger than {MAX_RECORD_BYTES} bytes"),
        (f"{path}:{lines + huge_lines + 1}", "not part of an evtx_dump JSON object"),
    ]


def test_ten_megabyte_line_in_evtx_dump_jsonl(read, tmp_path) -> None:
    from secaudit.logs.context import MAX_LINE_BYTES

    path = tmp_path / "dump.jsonl"
    huge = orjson.dumps(_event(2, CommandLine="B" * (10 * 1024 * 1024))) + b"\n"
    path.write_bytes(orjson.dumps(_event(1)) + b"\n" + huge + orjson.dumps(_event(3)) + b"\n")
    events, stats = read(path)
    assert [e.record for e in events] == [1, 3]
    assert stats.errors == [(f"{path}:2", f"line longer than {MAX_LINE_BYTES} bytes")]
    assert stats.skipped == 1
