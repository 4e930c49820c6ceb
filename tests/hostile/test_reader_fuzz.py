"""Every reader is total: any bytes given as any supported format end in events plus counted skips,
never an exception; and a valid event planted after the garbage is still read.

Property-based (hypothesis) with a fixed seed and a fixed budget per format, so a failure is
reproducible and the suite's time is bounded.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from secaudit.logs.formats import format_names
from secaudit.logs.reader import plan_shards, read_events, read_shard
from secaudit.logs.stats import ReadStats

# format -> (header the format needs first, one valid event holding the word "planted")
PLANTED: dict[str, tuple[bytes, bytes]] = {
    "syslog": (b"", b"Nov  5 03:15:40 host sshd[42]: planted marker\n"),
    "auditd": (
        b"",
        b"type=USER_LOGIN msg=audit(1700000000.123:42): pid=1 uid=0 msg='op=login acct=\"planted\" res=failed'\n",
    ),
    "access-log": (
        b"",
        b'127.0.0.1 - - [05/Nov/2026:03:15:40 +0000] "GET /planted HTTP/1.1" 200 12 "-" "curl"\n',
    ),
    "flat-json": (b"", b'{"EventID": 1, "Channel": "Security", "marker": "planted"}\n'),
    "ecs-json": (
        b"",
        b'{"@timestamp": "2026-01-01T00:00:00Z", "winlog": {"channel": "Security", "event_id": 4625, '
        b'"event_data": {"TargetUserName": "planted"}}}\n',
    ),
    "zeek-json": (b"", b'{"ts": 1700000000.0, "uid": "C1", "id.orig_h": "127.0.0.1", "host": "planted"}\n'),
    "csv": (b"time,marker\n", b"2026-01-01T00:00:00Z,planted\n"),
    "zeek-tsv": (
        b"#separator \\x09\n#path\tconn\n#fields\tts\tuid\tmarker\n#types\ttime\tstring\tstring\n",
        b"1700000000.0\tC1\tplanted\n",
    ),
}
# Garbage that would legitimately swallow the planted line is left out: an open CSV quote spans
# lines by design, and a Zeek '#' line is a header that may redefine the columns.
KEEPS_NEXT_LINE = {"csv": b'"', "zeek-tsv": b"#"}

GARBAGE = st.lists(st.binary(max_size=200), min_size=1, max_size=6)


def _read(data: bytes, fmt: str | None) -> tuple[list[str], ReadStats]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.log"
        path.write_bytes(data)
        stats = ReadStats()
        return [repr(e.fields) for e in read_events([str(path)], input_format=fmt, stats=stats)], stats


def _clean(lines: list[bytes], fmt: str) -> list[bytes]:
    banned = KEEPS_NEXT_LINE.get(fmt)
    out = []
    for line in lines:
        for piece in line.split(b"\n"):
            if banned is None or (banned not in piece and not piece.startswith(banned)):
                out.append(piece)
    return out


@pytest.mark.parametrize("fmt", sorted(PLANTED))
def test_garbage_then_a_planted_event_in_every_line_format(fmt: str) -> None:
    header, planted = PLANTED[fmt]

    @seed(20261207)
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(GARBAGE)
    def check(garbage: list[bytes]) -> None:
        lines = _clean(garbage, fmt)
        data = header + b"".join(line + b"\n" for line in lines) + planted
        events, stats = _read(data, fmt)
        assert any("planted" in e for e in events), (lines, stats.errors)
        assert stats.events == len(events)

    check()


@pytest.mark.parametrize("fmt", [None, *format_names()])
def test_any_bytes_as_any_format_end_in_counts(fmt: str | None) -> None:
    @seed(7)
    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=4096))
    def check(data: bytes) -> None:
        tracemalloc.start()
        started = time.monotonic()
        try:
            events, stats = _read(data, fmt)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert stats.files == 1 and stats.events == len(events)
        assert time.monotonic() - started < 10
        assert peak < 64 * 1024 * 1024

    check()


@pytest.mark.parametrize("fmt", ["evtx", "csv", "flat-json", "auditd"])
@pytest.mark.parametrize("size", [1, 8, 100, 2048, 70_000])
def test_binary_garbage_forced_as_a_format_is_a_counted_skip(fmt: str, size: int) -> None:
    data = bytes((i * 131 + 7) % 256 for i in range(size))
    events, stats = _read(data, fmt)
    assert events == [] or stats.skipped or stats.unreadable_files
    assert stats.skipped + stats.unreadable_files >= 1


@pytest.mark.parametrize(
    ("name", "data", "count"),
    [
        (
            "first JSON event over 64 KiB",
            orjson.dumps(
                {"EventID": 4104, "Channel": "Microsoft-Windows-PowerShell/Operational", "S": "A" * 75_000}
            )
            + b"\n"
            + orjson.dumps({"EventID": 1, "Channel": "Security"})
            + b"\n",
            2,
        ),
        (
            "a byte that is not UTF-8 in the CSV header",
            b"time,us\xffer,msg\n2026-01-01,a,b\n2026-01-02,c,d\n",
            2,
        ),
        ("a ragged first CSV row", b"time,user,msg\n2026-01-01,a\n2026-01-02,b,c\n2026-01-03,d,e\n", 2),
    ],
)
def test_format_detection_keeps_valid_files(name: str, data: bytes, count: int) -> None:
    for parts in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "input.log"
            path.write_bytes(data)
            stats = ReadStats()
            if parts == 1:
                events = list(read_events([str(path)], stats=stats))
            else:
                events = [e for s in plan_shards([str(path)], parts=2) for e in read_shard(s, stats=stats)]
        assert len(events) == count, (name, stats.errors)
        assert stats.unreadable_files == 0


def test_auditd_events_of_two_hosts_with_one_serial_stay_apart() -> None:
    data = (
        b'node=cc-app-01 type=SYSCALL msg=audit(1700000000.100:42): syscall=59 exe="/usr/bin/id"\n'
        b'node=cc-web-02 type=SYSCALL msg=audit(1700000000.100:42): syscall=59 exe="/usr/bin/curl"\n'
        b'node=cc-web-02 type=EXECVE msg=audit(1700000000.100:42): argc=1 a0="curl"\n'
    )
    events, stats = _read(data, "auditd")
    assert len(events) == 2 and stats.skipped == 0
    assert "cc-app-01" in events[0] and "/usr/bin/id" in events[0] and "curl" not in events[0]
    assert "cc-web-02" in events[1] and "/usr/bin/curl" in events[1]
