"""Bad input is skipped and counted with its location; every valid event is still read; nothing raises."""

from __future__ import annotations

import gzip
import io
import os
import sys

import orjson
import pytest

from secaudit.core.errors import OperationalError
from secaudit.logs import ReadStats, read_events
from secaudit.logs.context import MAX_LINE_BYTES

GOOD = {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "C:\\x.exe"}


def _line(**extra: object) -> bytes:
    return orjson.dumps({**GOOD, **extra}) + b"\n"


def test_broken_json_lines_are_skipped_with_their_line(read, tmp_path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        _line(n=1) + b'{"EventID": 1, "Channel": \n' + b"[1, 2]\n" + _line(n=4) + b"\n" + _line(n=6)
    )
    events, stats = read(path)
    assert [(e.record, e.fields["n"]) for e in events] == [(1, 1), (4, 4), (6, 6)]
    assert stats.skipped == 2
    assert [loc for loc, _ in stats.errors] == [f"{path}:2", f"{path}:3"]
    assert stats.errors[0][1].startswith("broken JSON")


def test_invalid_utf8_is_replaced_counted_and_the_event_kept(read, tmp_path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        _line(n=1) + b'{"EventID": 1, "Channel": "Security", "TargetUserName": "op\xff\xfeerator"}\n'
    )
    events, stats = read(path)
    assert [e.record for e in events] == [1, 2]
    assert events[1].fields["TargetUserName"] == "op\ufffd\ufffderator"
    assert stats.replaced == 1 and stats.skipped == 0
    assert stats.errors == [(f"{path}:2", "invalid UTF-8 replaced with U+FFFD; the event is still read")]


def test_invalid_utf8_in_syslog(read, tmp_path) -> None:
    path = tmp_path / "auth.log"
    path.write_bytes(b"Nov  2 03:15:40 h sshd[1]: Failed password for \xc3\x28 from 127.0.0.1\n")
    (event,), stats = read(path)
    assert event.fields["message"] == "Failed password for \ufffd( from 127.0.0.1"
    assert stats.replaced == 1


def test_a_10_mb_line_is_skipped_and_counted(read, tmp_path) -> None:
    path = tmp_path / "events.jsonl"
    huge = orjson.dumps({**GOOD, "CommandLine": "A" * (10 * 1024 * 1024)}) + b"\n"
    assert len(huge) > MAX_LINE_BYTES
    path.write_bytes(_line(n=1) + huge + _line(n=3))
    events, stats = read(path)
    assert [e.record for e in events] == [1, 3]
    assert stats.skipped == 1
    assert stats.errors == [(f"{path}:2", f"line longer than {MAX_LINE_BYTES} bytes")]


def test_binary_garbage_and_empty_files_are_unreadable_not_fatal(read, tmp_path, fixtures) -> None:
    garbage = tmp_path / "a.bin"
    garbage.write_bytes(os.urandom(4096) + b"\x00" * 16)
    empty = tmp_path / "b.log"
    empty.write_bytes(b"")
    good = fixtures / "web" / "access.log"
    events, stats = read(garbage, empty, good)
    assert len(events) == 5 and {e.source for e in events} == {str(good)}
    assert stats.files == 3 and stats.unreadable_files == 2
    assert stats.errors[0] == (
        str(garbage),
        "format not recognised; name it with --input-format if it is a log",
    )
    assert stats.errors[1] == (str(empty), "empty file")
    assert stats.by_format == {"access-log": 1}


def test_garbage_inside_a_log_is_skipped_line_by_line(read, tmp_path) -> None:
    path = tmp_path / "access.log"
    good = b'127.0.0.1 - - [02/Nov/2026:10:15:42 +0700] "GET / HTTP/1.1" 200 1 "-" "curl/8"\n'
    path.write_bytes(good + b"\x13\x37 binary junk\x01\x02\n" + good)
    events, stats = read(path)
    assert [e.record for e in events] == [1, 3]
    assert stats.errors == [(f"{path}:2", "not an access-log line (common or combined format)")]


def test_truncated_gzip_keeps_what_came_out(read, tmp_path) -> None:
    path = tmp_path / "events.jsonl.gz"
    data = gzip.compress(b"".join(_line(n=i) for i in range(2000)))
    path.write_bytes(data[: len(data) // 2])
    events, stats = read(path)
    assert 0 < len(events) < 2000
    assert [e.fields["n"] for e in events] == list(range(len(events)))
    assert stats.skipped >= 1
    assert any("compressed data damaged" in why for _, why in stats.errors)


def test_a_named_input_that_does_not_exist_raises_operational_error(tmp_path) -> None:
    with pytest.raises(OperationalError) as caught:
        list(read_events([str(tmp_path / "missing.log")], stats=ReadStats()))
    assert caught.value.location == str(tmp_path / "missing.log")


def test_an_unreadable_file_inside_a_folder_is_counted(read, tmp_path, fixtures) -> None:
    if os.geteuid() == 0:
        # root reads everything: a dangling symlink is the unreadable file instead.
        (tmp_path / "a.log").symlink_to(tmp_path / "gone")
    else:  # pragma: no cover - the suite runs as root here
        (tmp_path / "a.log").write_text("x")
        (tmp_path / "a.log").chmod(0)
    (tmp_path / "b.log").write_bytes((fixtures / "web" / "access.log").read_bytes())
    events, stats = read(tmp_path)
    assert len(events) == 5
    assert stats.unreadable_files == 1 and stats.errors[0][0] == str(tmp_path / "a.log")


def test_stdin_is_read_and_sniffed(monkeypatch, fixtures) -> None:
    data = (fixtures / "linux" / "audit.log").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(data))))
    stats = ReadStats()
    events = list(read_events(["-"], stats=stats))
    assert [e.record for e in events] == [1, 8, 9]
    assert {e.source for e in events} == {"-"}
    assert stats.by_format == {"auditd": 1}
