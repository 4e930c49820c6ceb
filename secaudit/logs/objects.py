"""Cut evtx_dump JSON into objects without walking it line by line in Python.

evtx_dump writes one object per line (``-o jsonl``) or pretty-printed objects (``-o json``), each opened by
a line ``{`` and closed by a line ``}`` at column 0 (nested braces are indented, and JSON strings hold no
raw newlines), optionally preceded by ``Record N`` lines. A pretty object is found with one ``find`` for
``\\n}`` in a block of bytes, so a 60-line event costs one step instead of sixty.
"""

from __future__ import annotations

import gzip
import zlib
from typing import IO

from secaudit.core.errors import OperationalError
from secaudit.logs.context import MAX_LINE_BYTES, MAX_RECORD_BYTES, Context, Lines

BLOCK = 1 << 20
UNCLOSED = "JSON object not closed (the next object or the end of the input came first)"


def iter_objects(stream: IO[bytes], ctx: Context, *, first_line: int = 1, length: int | None = None) -> Lines:
    """(first line number, bytes) of each object or other non-blank line; blank and ``Record N`` lines go.

    Over-long lines and objects are skipped and counted; at most ``length`` bytes are read.
    """
    left = length if length is not None else 1 << 62
    buf = b""
    pos = 0
    number = first_line
    eof = False
    while True:
        if not eof and (pos >= len(buf) or buf.find(b"\n", pos) == -1 or _pretty_open(buf, pos)):
            block = _read(stream, ctx, number, min(BLOCK, left)) if left > 0 else b""
            left -= len(block)
            if block:
                buf = buf[pos:] + block
                pos = 0
                if len(buf) <= MAX_RECORD_BYTES + BLOCK:
                    continue
            else:
                eof = True
        if pos >= len(buf):
            return
        newline = buf.find(b"\n", pos)
        end = len(buf) if newline == -1 else newline + 1
        if newline == -1 and not eof:  # a line longer than everything buffered
            ctx.skip(number, f"line longer than {MAX_LINE_BYTES} bytes")
            buf, pos, number = b"", 0, number + 1
            left -= _discard_line(stream, ctx, number, left)
            continue
        line = buf[pos:end]
        stripped = line.strip()
        if stripped == b"{":
            close = buf.find(b"\n}", end - 1)
            close_end = -1 if close == -1 else buf.find(b"\n", close + 2)
            reopen = buf.find(b"\n{", end - 1)
            if reopen != -1 and (close == -1 or reopen < close):
                # Another object starts (a "{" at column 0) before this one closes: this one is broken.
                # Damage stays between two object starts, which is also where shards are cut.
                ctx.skip(number, UNCLOSED)
                number += buf.count(b"\n", pos, reopen + 1)
                pos = reopen + 1
                continue
            if close_end == -1 and not eof:
                # Not complete within the buffered bytes, which hold more than the record cap.
                ctx.skip(number, f"JSON object larger than {MAX_RECORD_BYTES} bytes")
                number += buf.count(b"\n", pos)
                skipped, left, pending = _skip_object(stream, ctx, number, left)
                buf, pos, number = pending, 0, number + skipped
                continue
            stop = len(buf) if close_end == -1 else close_end + 1
            if close == -1:
                ctx.skip(number, UNCLOSED)
                return
            obj = buf[pos:stop]
            if len(obj) > MAX_RECORD_BYTES:
                ctx.skip(number, f"JSON object larger than {MAX_RECORD_BYTES} bytes")
            else:
                yield number, obj
            number += obj.count(b"\n")
            pos = stop
            continue
        if len(line) > MAX_LINE_BYTES:
            ctx.skip(number, f"line longer than {MAX_LINE_BYTES} bytes")
        elif stripped and not stripped.startswith(b"Record "):
            yield number, line
        pos, number = end, number + 1


def _pretty_open(buf: bytes, pos: int) -> bool:
    """True when the next unit is a pretty object whose end (its closing line, or the start of the next
    object) is not buffered yet."""
    newline = buf.find(b"\n", pos)
    if buf[pos:newline].strip() != b"{":
        return False
    if buf.find(b"\n{", newline) != -1:
        return False
    close = buf.find(b"\n}", newline)
    return close == -1 or buf.find(b"\n", close + 2) == -1


def _read(stream: IO[bytes], ctx: Context, number: int, size: int) -> bytes:
    try:
        return stream.read(size)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        ctx.skip(number, f"compressed data damaged, rest of file not read: {e}")
        return b""
    except OSError as e:
        raise OperationalError(f"read failed: {e.strerror or e}", location=ctx.where(number)) from e


def _discard_line(stream: IO[bytes], ctx: Context, number: int, left: int) -> int:
    """Read past the rest of an over-long line (at most ``left`` bytes); return the bytes read."""
    consumed = 0
    while consumed < left:
        try:
            chunk = stream.readline(min(BLOCK, left - consumed))
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            ctx.skip(number, f"compressed data damaged, rest of file not read: {e}")
            break
        consumed += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            break
    return consumed


def _skip_object(stream: IO[bytes], ctx: Context, number: int, left: int) -> tuple[int, int, bytes]:
    """Read past the rest of an over-large pretty object: through its closing ``}`` line, or up to the
    next line opening an object (returned, to be read next). Returns (lines passed, bytes left, pending)."""
    lines = 0
    at_start = True  # the next read begins a line (readline stops at BLOCK bytes inside long lines)
    while left > 0:
        try:
            line = stream.readline(min(BLOCK, left))
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            ctx.skip(number, f"compressed data damaged, rest of file not read: {e}")
            break
        if not line:
            break
        left -= len(line)
        whole = line.endswith(b"\n")
        if at_start and whole and line[:1] == b"{":
            return lines, left, line
        if whole:
            lines += 1
            if at_start and line[:1] == b"}":
                break
        at_start = whole
    return lines, left, b""
