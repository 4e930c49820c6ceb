"""Lines cut from blocks are the lines ``readline`` gives: same bytes, numbers, skips and damage handling.

The reference below is the reader's former line loop (``readline`` with a size cap), kept as the
definition of what a line is. Small blocks and a small cap put every boundary case in a few bytes.
"""

from __future__ import annotations

import gzip
import io
import random
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secaudit.core.errors import OperationalError
from secaudit.logs import ReadStats, read_events
from secaudit.logs import lines as lines_module
from secaudit.logs.context import MAX_LINE_BYTES, Context, Lines
from secaudit.logs.lines import iter_lines
from secaudit.logs.transcode import utf16_stream

Result = tuple[list[tuple[int, bytes]], list[tuple[str, str]]]


def _readline_lines(
    stream: IO[bytes], ctx: Context, *, first_line: int = 1, length: int | None = None
) -> Lines:
    cap = lines_module.MAX_LINE_BYTES
    number = first_line
    left = length if length is not None else 1 << 62
    try:
        while left > 0:
            line = stream.readline(cap + 1)
            if not line:
                return
            left -= len(line)
            if len(line) > cap:
                while line and line[-1:] != b"\n":
                    line = stream.readline(cap)
                    left -= len(line)
                ctx.skip(number, f"line longer than {cap} bytes")
                number += 1
                continue
            yield number, line
            number += 1
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        ctx.skip(number, f"compressed data damaged, rest of file not read: {e}")


class _AllErrors(ReadStats):
    """Keeps every problem, not only the first few."""

    def error(self, location: str, reason: str) -> None:
        self.error_count += 1
        self.errors.append((location, reason))


def _run(cut: Callable[..., Lines], opener: Callable[[], IO[bytes]], **options: int) -> Result:
    stats = _AllErrors()
    with opener() as stream:
        got = list(cut(stream, Context("in", stats), **options))
    return got, stats.errors


def _agree(opener: Callable[[], IO[bytes]], **options: int) -> Result:
    expected = _run(_readline_lines, opener, **options)
    assert _run(iter_lines, opener, **options) == expected
    return expected


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], None]:
    """small(cap, block): lines over ``cap`` bytes are over-long; plain files are read ``block`` at a time."""

    def set_sizes(cap: int, block: int) -> None:
        monkeypatch.setattr(lines_module, "MAX_LINE_BYTES", cap)
        monkeypatch.setattr(lines_module, "LINE_BLOCK", block)

    return set_sizes


def _file(tmp_path: Path, data: bytes, name: str = "in.log") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_lines_across_blocks_at_the_cap_and_over_it(small, tmp_path) -> None:
    small(8, 5)
    data = b"ab\n" + b"1234567\n" + b"12345678\n" + b"x" * 20 + b"\n" + b"\r\n" + b"\n" + b"tail"
    expected = _agree(lambda: _file(tmp_path, data).open("rb"))
    # a line of exactly 8 bytes (newline included) is kept; 9 bytes, or 21 across five blocks, are not
    assert expected == (
        [(1, b"ab\n"), (2, b"1234567\n"), (5, b"\r\n"), (6, b"\n"), (7, b"tail")],
        [("in:3", "line longer than 8 bytes"), ("in:4", "line longer than 8 bytes")],
    )


def test_last_line_without_newline_at_the_cap_is_kept_one_more_byte_is_not(small, tmp_path) -> None:
    small(8, 3)
    assert _agree(lambda: io.BytesIO(b"a\n12345678")) == ([(1, b"a\n"), (2, b"12345678")], [])
    assert _agree(lambda: io.BytesIO(b"a\n123456789")) == (
        [(1, b"a\n")],
        [("in:2", "line longer than 8 bytes")],
    )


def test_crlf_stays_in_the_line(tmp_path) -> None:
    path = _file(
        tmp_path, b'{"EventID": 1, "Channel": "Security"}\r\n{"EventID": 2, "Channel": "Security"}\r\n'
    )
    stats = ReadStats()
    events = list(read_events([str(path)], stats=stats))
    assert [(e.record, e.fields["EventID"]) for e in events] == [(1, 1), (2, 2)]
    assert _agree(lambda: path.open("rb"))[0][0] == (1, b'{"EventID": 1, "Channel": "Security"}\r\n')


def test_byte_ranges_read_the_lines_that_start_in_them(small, tmp_path) -> None:
    small(6, 4)
    data = b"a\nbb\n" + b"c" * 12 + b"\nddd\n\neeee\nf"
    path = _file(tmp_path, data)
    for start in range(len(data) + 1):
        for length in range(len(data) + 2 - start):

            def opener(at: int = start) -> IO[bytes]:
                handle = path.open("rb")
                handle.seek(at)
                return handle

            _agree(opener, first_line=3, length=length)
    # cut at line starts, the pieces give the whole file's lines and skips
    starts = [0] + [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    whole = _run(iter_lines, lambda: path.open("rb"))
    got: Result = ([], [])
    for index, (begin, end) in enumerate(zip(starts, [*starts[1:], len(data)], strict=True)):
        handle = path.open("rb")
        handle.seek(begin)
        part = _run(iter_lines, lambda h=handle: h, first_line=index + 1, length=end - begin)
        got[0].extend(part[0])
        got[1].extend(part[1])
    assert got == whole
    assert len(whole[0]) == 6 and whole[1] == [("in:3", "line longer than 6 bytes")]


def _sample(rng: random.Random, cap: int, count: int) -> bytes:
    sizes = [cap - 1, cap, cap + 1, 2 * cap + 3, 0, 1]
    return b"".join(
        bytes(rng.choice(b"ab{}\r ") for _ in range(rng.choice([*sizes, rng.randint(0, 3 * cap)]))) + b"\n"
        for _ in range(count)
    )


def _split(data: bytes) -> list[bytes]:
    *lines, last = data.split(b"\n")
    return [line + b"\n" for line in lines] + ([last] if last else [])


def test_gzip_whole_cut_and_damaged_loses_what_readline_lost(small, tmp_path) -> None:
    small(300, 7)
    rng = random.Random(16)
    data = _sample(rng, 300, 400) + b"last line, no newline"
    packed = gzip.compress(data)
    path = tmp_path / "in.log.gz"
    results = set()
    noticed = 0
    for trial in range(60):
        damaged = bytearray(packed)
        if trial % 2:
            damaged = damaged[: rng.randint(10, len(packed))]
        else:
            for _ in range(2):
                damaged[rng.randint(10, len(packed) - 1)] ^= 0x5A
        path.write_bytes(damaged)
        try:
            got = _agree(lambda: gzip.GzipFile(path, "rb"))
        except (EOFError, zlib.error, gzip.BadGzipFile):  # neither may raise
            pytest.fail("damaged gzip raised")
        results.add((len(got[0]), tuple(got[1])))
        noticed += bool(got[1]) and got[1][-1][1].startswith("compressed data damaged")
    path.write_bytes(packed)
    whole = _agree(lambda: gzip.GzipFile(path, "rb"))
    assert b"".join(line for _, line in whole[0]) == b"".join(
        line for line in _split(data) if len(line) <= 300
    )
    assert noticed >= 50 and len(results) > 10  # damage noticed, in many different places


def test_utf16_and_piped_streams(small, tmp_path) -> None:
    small(40, 9)
    data = _sample(random.Random(7), 40, 300).decode("ascii")
    path = _file(tmp_path, data.encode("utf-16"))
    utf16 = _agree(lambda: utf16_stream(path.open("rb")))
    kept = b"".join(line for line in _split(data.encode()) if len(line) <= 40)
    assert b"".join(line for _, line in utf16[0]) == kept
    # stdin and FIFOs come through a BufferedReader over a stream of their own
    piped = _agree(lambda: io.BufferedReader(io.BytesIO(data.encode())))  # type: ignore[arg-type]
    assert piped == _agree(lambda: io.BytesIO(data.encode()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pieces=st.lists(st.sampled_from([b"a", b"bb", b"\n", b"\r\n", b"x" * 9, b"{}"]), max_size=40),
    cap=st.integers(1, 12),
    block=st.integers(1, 16),
    start=st.integers(0, 60),
    length=st.one_of(st.none(), st.integers(0, 80)),
)
def test_any_lines_any_block_size_any_range(pieces, cap, block, start, length, monkeypatch) -> None:
    monkeypatch.setattr(lines_module, "MAX_LINE_BYTES", cap)
    monkeypatch.setattr(lines_module, "LINE_BLOCK", block)
    data = b"".join(pieces)

    def opener() -> IO[bytes]:
        stream = io.BytesIO(data)
        stream.seek(min(start, len(data)))
        return stream

    options = {"first_line": 5} if length is None else {"first_line": 5, "length": length}
    _agree(opener, **options)


def test_an_over_long_line_is_not_held_whole(tmp_path) -> None:
    path = _file(tmp_path, b"first\n" + b"A" * (12 * MAX_LINE_BYTES) + b"\nlast\n")
    tracemalloc.start()
    try:
        got = _run(iter_lines, lambda: path.open("rb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == ([(1, b"first\n"), (3, b"last\n")], [("in:2", f"line longer than {MAX_LINE_BYTES} bytes")])
    assert peak < 4 * MAX_LINE_BYTES


def test_a_read_failure_is_an_operational_error_at_the_line(tmp_path) -> None:
    class Failing(io.RawIOBase):
        def __init__(self) -> None:
            self.sent = False

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
            if self.sent:
                raise OSError(5, "Input/output error")
            self.sent = True
            buffer[:9] = b"one\ntwo\nt"
            return 9

    stats = ReadStats()
    lines = iter_lines(io.BufferedReader(Failing()), Context("disk.log", stats))
    assert next(lines) == (1, b"one\n") and next(lines) == (2, b"two\n")
    with pytest.raises(OperationalError) as caught:
        next(lines)
    assert caught.value.location == "disk.log:3"


def test_at_the_real_cap_across_real_blocks(tmp_path) -> None:
    # a JSON event of exactly MAX_LINE_BYTES (newline included) is read; one byte more is skipped;
    # both start mid-block, so each spans two of the 1 MiB blocks
    def event(size: int, n: int) -> bytes:
        head = b'{"EventID": 1, "Channel": "Security", "n": %d, "pad": "' % n
        return head + b"p" * (size - len(head) - 3) + b'"}\n'

    first = b'{"EventID": 1, "Channel": "Security", "n": 0}\n'
    at_cap = event(MAX_LINE_BYTES, 1)
    assert len(at_cap) == MAX_LINE_BYTES
    path = _file(tmp_path, first + at_cap + event(MAX_LINE_BYTES + 1, 2) + first)
    stats = ReadStats()
    events = list(read_events([str(path)], stats=stats))
    assert [(e.record, e.fields["n"]) for e in events] == [(1, 0), (2, 1), (4, 0)]
    assert events[1].fields["pad"] == "p" * (MAX_LINE_BYTES - at_cap.index(b"ppp") - 3)
    assert stats.errors == [(f"{path}:3", f"line longer than {MAX_LINE_BYTES} bytes")]
