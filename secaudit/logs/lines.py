"""Cut a byte stream into numbered lines: blocks read at once and cut with ``bytes.find``.

``readline`` per line costs more than parsing a 2 KB JSON event does; reading a megabyte at a time and
finding the newlines in C leaves one slice per line. What a line is does not change: bytes up to and
including ``\\n`` (a ``\\r`` before it stays), the last line may lack it, and a line longer than
:data:`MAX_LINE_BYTES` (its newline included) is skipped and counted with its number, no more than
about that much of it held in memory.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable
from functools import partial
from typing import IO

from secaudit.core.errors import OperationalError
from secaudit.logs.context import MAX_LINE_BYTES, Context, Lines

LINE_BLOCK = 1 << 20
"""A plain file or bytes in memory are read this much at a time."""


def _blocks(stream: IO[bytes]) -> Callable[[], bytes]:
    """A function giving the stream's next block of bytes (``b""`` at its end).

    A plain file or bytes in memory: :data:`LINE_BLOCK` bytes per read. Any other stream (gzip, UTF-16
    seen as UTF-8, stdin, a FIFO) gives what one fill of its own buffer brings: the same reads of the
    layer below as ``readline`` made, so damaged compressed data loses exactly the lines it lost before
    (the line being read and the rest of the file), and a pipe's lines come as soon as they are written.
    """
    if isinstance(stream, io.BytesIO) or (
        isinstance(stream, io.BufferedReader) and isinstance(stream.raw, io.FileIO)
    ):
        return partial(stream.read1, LINE_BLOCK)
    peek = getattr(stream, "peek", None)
    if peek is None:  # pragma: no cover - every stream the reader opens is buffered
        return partial(stream.read, io.DEFAULT_BUFFER_SIZE)
    read = stream.read

    def fill() -> bytes:
        return read(len(peek(1)))

    return fill


def iter_lines(stream: IO[bytes], ctx: Context, *, first_line: int = 1, length: int | None = None) -> Lines:
    """(line number, bytes) of every line that starts within the first ``length`` bytes (all when None;
    the last one is read to its end); over-long lines are skipped and counted.

    Damaged compressed data ends the file (counted at the line being read); any other read failure
    raises :class:`OperationalError` located at that line.
    """
    read = _blocks(stream)
    cap = MAX_LINE_BYTES
    too_long = f"line longer than {cap} bytes"
    number = first_line
    stop = length if length is not None else 1 << 62  # lines starting at this offset or later are not read
    offset = 0  # where the current block starts, from the first line
    head: list[bytes] = []  # the start of a line that goes on in the next block
    held = 0  # bytes in ``head``
    dropping = False  # the line being read is over-long: its bytes are dropped up to its newline
    try:
        while True:
            block = read()
            if not block:
                break
            start = 0
            if head or dropping:
                newline = block.find(b"\n")
                if newline == -1:
                    offset += len(block)
                    if not dropping:
                        held += len(block)
                        if held > cap:
                            head, held, dropping = [], 0, True
                        else:
                            head.append(block)
                    continue
                start = newline + 1
                if dropping or held + start > cap:
                    ctx.skip(number, too_long)
                else:
                    head.append(block[:start])
                    yield number, b"".join(head)
                head, held, dropping = [], 0, False
                number += 1
            limit = min(len(block), stop - offset)  # lines starting before this index are read
            find = block.find
            while start < limit:
                newline = find(b"\n", start)
                if newline == -1:
                    held = len(block) - start
                    if held > cap:
                        held, dropping = 0, True
                    else:
                        head.append(block[start:])
                    break
                end = newline + 1
                if end - start > cap:
                    ctx.skip(number, too_long)
                else:
                    yield number, block[start:end]
                number += 1
                start = end
            else:
                if start >= stop - offset:
                    return  # the next line starts past the range
            offset += len(block)
        if dropping:
            ctx.skip(number, too_long)
        elif head:
            yield number, b"".join(head)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        ctx.skip(number, f"compressed data damaged, rest of file not read: {e}")
    except OSError as e:
        raise OperationalError(f"read failed: {e.strerror or e}", location=ctx.where(number)) from e
