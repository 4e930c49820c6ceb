"""Reading inputs: files, folders (recursive, sorted), ``-`` for stdin, gzip transparently; shards of them.

Bad content never raises: a record that cannot be read is skipped and counted, a file of no known
format is counted as unreadable (:class:`ReadStats`). Only an input the user named that cannot be
opened raises :class:`OperationalError`.
"""

from __future__ import annotations

import atexit
import gzip
import io
import itertools
import os
import select
import stat
import sys
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, cast

from secaudit.core.errors import OperationalError, UsageError
from secaudit.core.events import LogEvent, LogKind
from secaudit.logs import _fast
from secaudit.logs.context import MAX_LINE_BYTES, Context
from secaudit.logs.evtxfile import chunk_cuts, read_evtx, read_evtx_range
from secaudit.logs.formats import format_names, get_format
from secaudit.logs.lines import iter_lines
from secaudit.logs.objects import iter_objects
from secaudit.logs.sniff import SNIFF_BYTES, sniff
from secaudit.logs.stats import ReadStats
from secaudit.logs.transcode import is_utf16, utf16_head, utf16_stream

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(head: bytes) -> bool:
    """A gzip member header: magic, method 8 (deflate), no reserved flag bits. Two bytes alone are
    not enough: a text log may start with them, and reading it as gzip would lose all of it."""
    return head[:3] == GZIP_MAGIC + b"\x08" and len(head) >= 10 and not head[3] & 0xE0


EVTX_IN_MEMORY = 256 << 20  # a compressed or piped EVTX beyond this is spilled to a temporary file
MIN_SHARD_BYTES = 1 << 20  # smaller pieces cost more in process hand-over than they gain


@dataclass(frozen=True, slots=True)
class Shard:
    """A piece of one input file that one process can read on its own (picklable).

    ``source`` is the path as the user gave it (or found under a folder they gave; "-" for stdin).
    Bytes ``start``..``end`` (None: to the end) begin at line ``first_line`` (for EVTX: a run of whole
    chunks); ``first`` is the piece that counts the file in ReadStats. ``header`` holds a Zeek TSV
    file's ``#`` lines for later pieces. ``data`` is the piece's bytes when it came from stdin.
    ``problem`` says why the file cannot be read; ``note`` is a problem met while reading it that cost
    no record (a FIFO or device given up at a bound), recorded once with the first piece. ``path`` is
    the temporary file holding what came from stdin or a FIFO (see :func:`plan_shards`).
    """

    source: str
    fmt: str | None
    start: int = 0
    end: int | None = None
    first_line: int = 1
    first: bool = True
    header: tuple[bytes, ...] = ()
    data: bytes | None = None
    mtime: float | None = None
    problem: str | None = None
    note: str | None = None
    path: str | None = None  # where the bytes are when not at ``source`` (stdin or a FIFO, spilled)

    @property
    def location(self) -> str:
        return self.path or self.source


# -- opening ------------------------------------------------------------------------------------

#: At most this much is read from stdin or from a device or FIFO named on the command line (/dev/zero
#: never ends); the hunt copies it to a temporary file, so it costs disk, not memory.
MAX_PIPED_BYTES = 4 << 30

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def special_kind(path: str) -> str:
    """What ``path`` (followed through links) is when it is not a regular file or folder, else ``""``."""
    try:
        mode = Path(path).stat().st_mode
        linked = Path(path).is_symlink()
    except OSError:
        return ""  # opening it says why
    for test, kind in _SPECIAL_KINDS:
        if test(mode):
            return f"a link to {kind.split(' ', 1)[1]}" if linked else kind
    return ""


#: ... and given up after this many seconds without a byte: a FIFO nobody writes to would block forever.
SPECIAL_IDLE_SECONDS = 60.0


_STOPPED = "{}: stopped reading there; the events before are kept"


class _Special(io.RawIOBase):
    """A FIFO or device named on the command line, read until it ends, :data:`MAX_PIPED_BYTES`, or
    :data:`SPECIAL_IDLE_SECONDS` without data, whichever comes first; a bound that ended it is recorded
    in ``stats`` (the events before it are kept).

    Opened without blocking (opening a FIFO blocks until a writer comes) and read only when ``poll``
    says so. On Linux a FIFO no writer has opened yet reports nothing, so it is waited for like silence;
    once every writer has closed it reports a hang-up and the read returns end of file.
    """

    def __init__(self, source: str, stats: ReadStats) -> None:
        super().__init__()
        self._fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
        self._poll = select.poll()
        self._poll.register(self._fd, select.POLLIN)
        self._source = source
        self._stats = stats
        self._left = MAX_PIPED_BYTES

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self._left)]
        while True:
            if not self._poll.poll(SPECIAL_IDLE_SECONDS * 1000):
                self._stop(f"no data for {SPECIAL_IDLE_SECONDS:g} s")
                return 0
            try:
                count = os.readv(self._fd, [view])
            except BlockingIOError:  # woken without data (another reader took it): wait again
                continue
            self._left -= count
            if self._left <= 0:
                self._stop(f"{MAX_PIPED_BYTES >> 20} MiB read")
            return count

    def _stop(self, reason: str) -> None:
        self._left = 0
        self._stats.error(self._source, _STOPPED.format(reason))

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def read_special(source: str, stats: ReadStats) -> bytes:
    """All of a FIFO or device named on the command line, within the bounds of :class:`_Special`."""
    with _Special(source, stats) as stream:
        return stream.readall() or b""


def _files(inputs: Sequence[str]) -> Iterator[tuple[str, str | None]]:
    """(path, problem) of every file the inputs name; folders are walked recursively in sorted order
    (symbolic links to folders are not followed); "-" passes through. A folder inside a named folder that
    cannot be listed comes out with its problem; a named input that does not exist raises."""
    for name in inputs:
        if name == "-":
            yield name, None
            continue
        if Path(name).is_dir():
            problems: list[OSError] = []
            for root, dirs, files in os.walk(name, onerror=problems.append):
                while problems:
                    error = problems.pop(0)
                    if error.filename == name:
                        raise OperationalError(
                            f"cannot list log folder: {error.strerror}",
                            location=name,
                            hint="check the folder's permissions",
                        ) from error
                    yield str(error.filename), f"cannot list folder: {error.strerror}"
                dirs.sort()
                for file in sorted(files):
                    path = str(Path(root) / file)
                    kind = special_kind(path)
                    # a FIFO would block the read forever, /dev/zero never end: only regular files
                    # are read from a folder (name a device or FIFO explicitly to read it)
                    yield path, (f"not a regular file ({kind}); skipped" if kind else None)
            for error in problems:
                if error.filename == name:
                    raise OperationalError(
                        f"cannot list log folder: {error.strerror}",
                        location=name,
                        hint="check its permissions",
                    ) from error
                yield str(error.filename), f"cannot list folder: {error.strerror}"
            continue
        if not Path(name).exists():
            raise OperationalError(
                "log input not found", location=name, hint="check the path; use - to read standard input"
            )
        yield name, None


def _open(
    source: str, *, named: bool, stats: ReadStats, path: str | None = None
) -> tuple[IO[bytes], float | None] | None:
    """The file's binary stream (decompressed if gzip) and mtime; None if it is counted unreadable.
    ``path`` is where the bytes are when not at ``source`` (a spilled stdin or FIFO)."""
    at = path or source
    try:
        if special_kind(at):  # named explicitly: read like stdin, within bounds
            special = _Special(at, stats)
            return io.BufferedReader(special), os.fstat(special.fileno()).st_mtime
        handle: IO[bytes] = Path(at).open("rb")  # noqa: SIM115 (closed by the caller)
        mtime = os.fstat(handle.fileno()).st_mtime
    except OSError as e:
        if named:
            raise OperationalError(
                f"cannot open log input: {e.strerror}",
                location=source,
                hint="check the path and its permissions",
            ) from e
        stats.files += 1
        stats.unreadable(source, f"cannot open: {e.strerror}")
        return None
    stream: IO[bytes] = handle
    if is_gzip(handle.read(10)):
        handle.close()
        stream = cast(IO[bytes], gzip.GzipFile(at, mode="rb"))
    stream.seek(0)
    try:
        bom = stream.read(2)
        stream.seek(0)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        return stream, mtime  # the damage is met (and counted) when the content is read
    if is_utf16(bom):
        return utf16_stream(stream), mtime
    return stream, mtime


def _check_format(input_format: str | None) -> None:
    if input_format is not None and input_format not in format_names():
        raise UsageError(
            f"unknown input format {input_format!r}", hint=f"use one of: {', '.join(format_names())}"
        )


def _head(stream: IO[bytes]) -> bytes:
    if not stream.seekable():  # a UTF-16 file seen as UTF-8
        return stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]  # type: ignore[attr-defined,no-any-return]
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    return head


def _reference(mtime: float | None) -> datetime:
    if mtime is None:
        return datetime.now(UTC)
    return datetime.fromtimestamp(mtime, UTC)


# -- events -------------------------------------------------------------------------------------


def _guarded(events: Iterator[LogEvent], stats: ReadStats, source: str) -> Iterator[LogEvent]:
    """The events of one file, counted; whatever stops its reader ends that file only.

    Readers count what they cannot read and go on; this is the backstop for what they did not foresee
    (a parser library's own exception on bytes no one expected): the events before it are kept, the
    file's loss is counted and located, and the next file is read as if nothing happened.
    """
    try:
        for event in events:  # one generator layer less than counting in a generator of its own
            stats.events += 1
            yield event
    except OperationalError:
        raise  # a named input that cannot be read: the user must hear it
    except (OSError, EOFError, zlib.error) as e:
        stats.skip(
            source, f"reading stopped: {getattr(e, 'strerror', None) or e}; the events before it are kept"
        )
    except Exception as e:
        stats.skip(
            source, f"reading stopped by {type(e).__name__}: {str(e)[:200]}; the events before it are kept"
        )


def _parse(
    fmt: str, stream: IO[bytes], ctx: Context, *, first_line: int = 1, length: int | None = None
) -> Iterator[LogEvent]:
    """The parser's events (parsers are generators: nothing is read before the first event is asked for;
    handed on as they are, not through one more generator)."""
    spec = get_format(fmt)
    if spec.parser is None:  # a container with its own reader: EVTX is the only one
        return _read_evtx_stream(stream, ctx)
    cut = iter_objects if spec.records == "objects" else iter_lines
    return spec.parser(cut(stream, ctx, first_line=first_line, length=length), ctx)


def _read_evtx_stream(stream: IO[bytes], ctx: Context) -> Iterator[LogEvent]:
    if isinstance(stream, io.BufferedReader) and stream.seekable():
        yield from read_evtx(stream, source=ctx.source, kind=ctx.kind, stats=ctx.stats, path=stream.name)
        return
    if isinstance(stream, io.BytesIO):
        yield from read_evtx(stream, source=ctx.source, kind=ctx.kind, stats=ctx.stats)
        return
    # gzip or stdin: the parser needs random access. Up to 256 MiB in memory, beyond that a temporary file.
    memory = io.BytesIO()
    with tempfile.NamedTemporaryFile(prefix="secaudit-evtx-") as spill:
        target: IO[bytes] = memory
        # read1: a damaged or cut .gz raises at its end, and what one call had decompressed before
        # that is lost; small reads keep all but the last few KiB
        read = getattr(stream, "read1", stream.read)
        try:
            while block := read(1 << 16):
                if target is memory and memory.tell() + len(block) > EVTX_IN_MEMORY:
                    spill.write(memory.getbuffer())
                    memory = io.BytesIO()
                    target = spill
                target.write(block)
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            ctx.stats.error(ctx.source, f"compressed data damaged; reading what came out: {e}")
        if target is spill:
            spill.flush()
            spill.seek(0)
            yield from read_evtx(spill, source=ctx.source, kind=ctx.kind, stats=ctx.stats, path=spill.name)
        else:
            yield from read_evtx(memory, source=ctx.source, kind=ctx.kind, stats=ctx.stats)


# Names of files that are not logs: met in folders of samples (SigmaHQ's info.yml beside each .evtx).
# A file of no log format with one of these suffixes is left out quietly (counted as not a log).
NOT_LOG_SUFFIXES = frozenset(
    {".yml", ".yaml", ".md", ".rst", ".html", ".htm", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg"}
)


def _not_a_log(stats: ReadStats, source: str, fmt: str | None) -> bool:
    """True (and counted) when ``source`` has no log format and its name says it is something else."""
    if fmt is None and Path(source).suffix.lower() in NOT_LOG_SUFFIXES:
        stats.not_logs += 1
        return True
    return False


def _begin(stats: ReadStats, source: str, fmt: str | None, head: bytes) -> bool:
    """Count a file; False (and counted unreadable) when it is empty or of no known format."""
    if head and _not_a_log(stats, source, fmt):
        return False
    stats.files += 1
    if not head:
        stats.unreadable(source, "empty file")
        return False
    if fmt is None:
        stats.unreadable(source, "format not recognised; name it with --input-format if it is a log")
        return False
    stats.by_format[fmt] += 1
    return True


# -- public -------------------------------------------------------------------------------------


def read_events(
    inputs: Sequence[str],
    *,
    input_format: str | None = None,
    kind: LogKind | None = None,
    stats: ReadStats,
) -> Iterator[LogEvent]:
    """Every event of every input, in input order, mapped to the Sigma taxonomy.

    Formats are detected per file from content; ``input_format`` forces one; ``kind`` replaces every
    event's LogKind. Raises OperationalError only for a named input that cannot be opened or read.
    """
    _check_format(input_format)
    named = set(inputs)
    for source, problem in _files(inputs):
        mtime: float | None = None
        if problem is not None:
            stats.files += 1
            stats.unreadable(source, problem)
            continue
        if source == "-":
            stdin = sys.stdin.buffer
            head = stdin.read(SNIFF_BYTES)
            stream: IO[bytes] = io.BufferedReader(_Prefixed(head, stdin))
            if is_gzip(head):
                stream = cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
                head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]  # type: ignore[attr-defined]
            if is_utf16(head):
                stream = utf16_stream(stream)
                head = _head(stream)
        else:
            opened = _open(source, named=source in named, stats=stats)
            if opened is None:
                continue
            stream, mtime = opened
            head = _safe_head(stream, source, stats)
        with stream:
            fmt = input_format or sniff(head) or _sniff_long(head, stream)
            if not _begin(stats, source, fmt, head):
                continue
            assert fmt is not None
            ctx = Context(source, stats, kind, _reference(mtime), name=Path(source).name)
            yield from _guarded(_parse(fmt, stream, ctx), stats, source)


def _cut_json(head: bytes) -> bool:
    """The sniff window ends inside a first JSON line (a 75 KB PowerShell 4104 event)."""
    return len(head) >= SNIFF_BYTES and b"\n" not in head and head.lstrip(b"\xef\xbb\xbf \t")[:1] == b"{"


def _sniff_long(head: bytes, stream: IO[bytes]) -> str | None:
    """:func:`sniff` again over a whole first line when the window cut it, else None."""
    if not _cut_json(head) or not stream.seekable():
        return None
    try:
        longer = stream.read(MAX_LINE_BYTES + 1)
        stream.seek(0)
    except (OSError, EOFError, zlib.error):
        return None
    return sniff(longer)


def _safe_head(stream: IO[bytes], source: str, stats: ReadStats) -> bytes:
    try:
        return _head(stream)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        stats.error(source, f"compressed data damaged: {e}")
        return b""


class _Prefixed(io.RawIOBase):
    """Bytes already read (the sniffed head), then the rest of a stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# -- shards -------------------------------------------------------------------------------------


def plan_shards(inputs: Sequence[str], *, parts: int, input_format: str | None = None) -> list[Shard]:
    """Cut the inputs into about ``parts`` pieces for parallel reading; reading them all in order with
    :func:`read_shard` gives exactly the events of :func:`read_events`.

    Plain line-based files are split at line (or record) boundaries, plain EVTX files at chunk boundaries;
    gzip, auditd and CSV files stay whole; stdin is read into memory here (worker processes cannot read it)
    and split like a file.
    """
    _check_format(input_format)
    named = set(inputs)
    planned: list[tuple[str, str | None, int, bytes | None, float | None, str | None]] = []
    notes: dict[str, str] = {}
    paths: dict[str, str] = {}
    for source, listing in _files(inputs):
        if listing is not None:
            planned.append((source, None, 0, None, None, listing))
            continue
        at = source
        if source == "-" or special_kind(source):  # copied here: workers read files, not streams
            bounds = ReadStats()
            at = _spill(source, bounds)
            if bounds.errors:
                notes[source] = bounds.errors[0][1]
            paths[source] = at
        try:
            size = Path(at).stat().st_size
            with Path(at).open("rb") as handle:
                head = handle.read(SNIFF_BYTES)
                mtime = os.fstat(handle.fileno()).st_mtime
        except OSError as e:
            if source in named:
                raise OperationalError(
                    f"cannot open log input: {e.strerror}",
                    location=source,
                    hint="check the path and its permissions",
                ) from e
            planned.append((source, None, 0, None, None, f"cannot open: {e.strerror}"))
            continue
        if is_gzip(head):
            planned.append((source, input_format or _sniff_gzip(at), -1, None, mtime, None))
            continue
        if is_utf16(head):  # read whole, through the UTF-8 view
            planned.append((source, input_format or sniff(utf16_head(head)), -1, None, mtime, None))
            continue
        problem = None if head else "empty input" if source == "-" else "empty file"
        fmt = input_format or sniff(head)
        if fmt is None and _cut_json(head):
            with Path(at).open("rb") as handle:
                fmt = sniff(handle.read(MAX_LINE_BYTES + 1))
        planned.append((source, fmt, size, None, mtime, problem))
    splittable = sum(
        size
        for _, fmt, size, data, _, _ in planned
        if (_split_after(fmt) is not None or (fmt == "evtx" and data is None)) and size > 0
    )
    target = max(MIN_SHARD_BYTES, -(-splittable // max(1, parts)))
    shards: list[Shard] = []
    for source, fmt, size, data, stamp, problem in planned:
        path = paths.get(source)
        if problem is None and fmt is not None and _split_after(fmt) is not None and size > target:
            shards.extend(_split(source, fmt, size, target, data, stamp, path))
        elif problem is None and fmt == "evtx" and data is None and size > target:
            cuts = chunk_cuts(size, target)
            shards.extend(
                Shard(source, fmt, start, end, 1, index == 0, mtime=stamp, path=path)
                for index, (start, end) in enumerate(itertools.pairwise(cuts))
            )
        else:
            shards.append(Shard(source, fmt, data=data, mtime=stamp, problem=problem, path=path))
    return [replace(s, note=notes[s.source]) if s.first and s.source in notes else s for s in shards]


def copies_streams(inputs: Sequence[str]) -> bool:
    """Whether :func:`plan_shards` copies an input first: stdin ("-"), or a FIFO or device named in
    ``inputs`` (one inside a named folder is skipped, never read)."""
    return any(name == "-" or special_kind(name) for name in inputs)


_SPILLED: list[str] = []


def _spill(source: str, stats: ReadStats) -> str:
    """Copy stdin or a FIFO/device named on the command line to a temporary file, up to
    :data:`MAX_PIPED_BYTES` (a bound that ended it is recorded in ``stats``); its path. The hunt's
    workers then read it like any file, in parallel and without holding it in memory. Removed by
    :func:`release_spilled` (and at exit)."""
    stream: IO[bytes] = sys.stdin.buffer if source == "-" else io.BufferedReader(_Special(source, stats))
    fd, path = tempfile.mkstemp(prefix="secaudit-input-")
    if not _SPILLED:
        atexit.register(release_spilled)
    _SPILLED.append(path)
    left = MAX_PIPED_BYTES
    try:
        with os.fdopen(fd, "wb") as out:
            while left > 0 and (block := stream.read(min(1 << 20, left))):
                out.write(block)
                left -= len(block)
            if source == "-" and left <= 0 and stream.read(1):
                stats.error(
                    source,
                    f"{MAX_PIPED_BYTES >> 20} MiB read: stopped reading there; the events before are kept",
                )
    finally:
        if source != "-":
            stream.close()
    return path


def release_spilled() -> None:
    """Remove the temporary copies :func:`plan_shards` made of stdin and FIFOs."""
    while _SPILLED:
        Path(_SPILLED.pop()).unlink(missing_ok=True)


def _split_after(fmt: str | None) -> bytes | None:
    """Where a plain file of ``fmt`` may be cut for parallel reading (None: read it whole)."""
    return get_format(fmt).split_after if fmt is not None and fmt in format_names() else None


def _gunzip(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        out = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return out.decompress(data)


def _sniff_gzip(source: str) -> str | None:
    try:
        with gzip.open(source, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
            return sniff(utf16_head(head) if is_utf16(head) else head)
    except (OSError, EOFError, zlib.error):
        return None


def _split(
    source: str,
    fmt: str,
    size: int,
    target: int,
    data: bytes | None,
    mtime: float | None,
    path: str | None = None,
) -> list[Shard]:
    marker = _split_after(fmt)
    assert marker is not None
    with io.BytesIO(data) if data is not None else Path(path or source).open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        header = _zeek_header(head) if fmt == "zeek-tsv" else ()
        cuts = [0]
        while cuts[-1] + target < size:
            cut = _boundary(handle, cuts[-1] + target, marker)
            if cut is None or cut >= size:
                break
            cuts.append(cut)
        cuts.append(size)
        shards = []
        line = 1
        for index, (start, end) in enumerate(itertools.pairwise(cuts)):
            piece = data[start:end] if data is not None else None
            shards.append(
                Shard(
                    source,
                    fmt,
                    start,
                    end,
                    line,
                    index == 0,
                    header if index else (),
                    piece,
                    mtime,
                    path=path,
                )
            )
            line += _count_newlines(handle, start, end)
    return shards


def _boundary(handle: IO[bytes], offset: int, marker: bytes) -> int | None:
    """The first offset at or after ``offset`` that follows ``marker`` (a newline, or newline + "{")."""
    handle.seek(max(0, offset - len(marker)))
    position = handle.tell()
    tail = b""
    while block := handle.read(1 << 16):
        window = tail + block
        found = window.find(marker)
        if found != -1:
            return position - len(tail) + found + 1
        tail = window[-len(marker) :]
        position += len(block)
    return None


def _count_newlines(handle: IO[bytes], start: int, end: int) -> int:
    """The newlines in bytes ``start``..``end`` of ``handle``: a file's counted in C without the GIL
    (:func:`_fast.count_range`), an in-memory copy's by ``bytes.count``."""
    if isinstance(handle, io.BytesIO):
        return handle.getbuffer()[start:end].tobytes().count(b"\n")
    return _fast.count_range(handle.fileno(), start, end)


def _zeek_header(head: bytes) -> tuple[bytes, ...]:
    lines = []
    for line in head.splitlines(keepends=True):
        if not line.startswith(b"#"):
            break
        lines.append(line)
    return tuple(lines)


def read_shard(shard: Shard, *, kind: LogKind | None = None, stats: ReadStats) -> Iterator[LogEvent]:
    """The events of one shard; problems are counted in ``stats``, never raised for content."""
    if shard.problem is None and _not_a_log(stats, shard.source, shard.fmt):
        return
    if shard.first:
        stats.files += 1
        if shard.note is not None:
            stats.error(shard.source, shard.note)
    if shard.problem is not None:
        stats.unreadable(shard.source, shard.problem)
        return
    if shard.fmt is None:
        stats.unreadable(shard.source, "format not recognised; name it with --input-format if it is a log")
        return
    if shard.first:
        stats.by_format[shard.fmt] += 1
    if shard.fmt == "evtx" and shard.end is not None and shard.data is None:
        parsed = read_evtx_range(
            shard.location, shard.start, shard.end, source=shard.source, kind=kind, stats=stats
        )
        yield from _guarded(parsed, stats, shard.source)
        return
    stream: IO[bytes]
    if shard.data is not None:
        stream = io.BytesIO(shard.data)
    elif shard.source == "-" and shard.path is None:
        stream = io.BytesIO(b"")
    else:
        opened = _open(shard.source, named=False, stats=stats, path=shard.path)
        if opened is None:
            return
        stream = opened[0]
    with stream:
        ctx = Context(
            shard.source,
            stats,
            kind,
            _reference(shard.mtime),
            name=Path(shard.source).name,
            header=shard.header,
        )
        length = None
        if shard.end is not None and shard.data is None:
            stream.seek(shard.start)
            length = shard.end - shard.start
        parsed = _parse(shard.fmt, stream, ctx, first_line=shard.first_line, length=length)
        yield from _guarded(parsed, stats, shard.source)
