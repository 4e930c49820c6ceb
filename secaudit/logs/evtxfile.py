"""EVTX files through the ``evtx`` package (Rust), robust to truncated and damaged chunks.

An EVTX file is a 4 KiB header and 64 KiB chunks. A file cut in the middle of a chunk is read as if the
rest of the chunk were zeros, with the chunk header told that its records end after the last complete
one, so every record before the cut is still read and no half record comes out. The chunk headers say which
record ids each chunk holds; ids that did not come out (cut off, or after damage the parser cannot
step over) are counted as skipped with the first missing id as location. A chunk whose header is damaged
(its checksum fails) is walked record by record to learn which ids it holds.

Where the parser cannot start at all (file header cut, overwritten or missing; chunks carved out of a
disk image), the file is scanned for chunk signatures and the chunks found are read behind a file header
of our own, so every intact chunk before and after the damage still comes out.
"""

from __future__ import annotations

import io
import itertools
import os
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import orjson

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.formats import Sample, container_format, sniffer
from secaudit.logs.stats import ReadStats
from secaudit.logs.windows import from_evtx_dict

if TYPE_CHECKING:  # the Rust parser loads when an EVTX file is read, not when formats are listed
    import evtx

FILE_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
RECORD_MAGIC = b"**\x00\x00"
HEADER_SIZE = 4096
CHUNK_SIZE = 65536
CHUNK_HEADER_SIZE = 512


container_format("evtx", doc="Windows event log files (.evtx), whole or carved chunks")


@sniffer("binary", rank=10)
def sniff_evtx(sample: Sample, _: bytes) -> str | None:
    """A file header, or chunks without one (header overwritten, carved out)."""
    head = sample.head
    return "evtx" if head[:8] == b"ElfFile\x00" or (sample.binary and b"ElfChnk\x00" in head) else None


class _Virtual(io.RawIOBase):
    """A seekable read-only stream of ``_size`` bytes made up by a subclass's ``readinto``."""

    _size = 0
    _pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos


class _ZeroPadded(_Virtual):
    """A seekable binary stream that reads as ``size`` bytes: the real bytes, then zeros; ``patches``
    (offset -> bytes) overlay the real bytes."""

    def __init__(self, raw: IO[bytes], real: int, size: int, patches: dict[int, bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._real = real
        self._size = size
        self._pos = 0
        self._patches = patches

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        data = b""
        if self._pos < self._real:
            self._raw.seek(self._pos)
            data = self._raw.read(min(want, self._real - self._pos))
        view = memoryview(buffer)
        view[: len(data)] = data
        view[len(data) : want] = bytes(want - len(data))
        for offset, patch in self._patches.items():
            lo, hi = max(offset, self._pos), min(offset + len(patch), self._pos + want)
            if lo < hi:
                view[lo - self._pos : hi - self._pos] = patch[lo - offset : hi - offset]
        self._pos += want
        return want


def _records_end(chunk: bytes) -> bytes | None:
    """For a chunk whose bytes stop early: the header fields (at offset 44) ending its records at the
    last complete one; None when its header is cut or no record is whole."""
    if len(chunk) < CHUNK_HEADER_SIZE or chunk[:8] != CHUNK_MAGIC:
        return None
    offset, last = CHUNK_HEADER_SIZE, 0
    while offset + 24 <= len(chunk) and chunk[offset : offset + 4] == RECORD_MAGIC:
        (size,) = struct.unpack_from("<I", chunk, offset + 4)
        if size < 24 or offset + size > len(chunk):
            break
        last, offset = offset, offset + size
    if not last:
        return None
    return struct.pack("<II", last, offset)


def _cut_chunk_patch(raw: IO[bytes], real: int) -> tuple[int, dict[int, bytes]]:
    """For a file cut inside its last chunk: (padded size, header patches ending that chunk's records at
    the last complete one). A chunk whose own header is cut is left out."""
    start = real - (real - HEADER_SIZE) % CHUNK_SIZE
    raw.seek(start)
    patch = _records_end(raw.read(real - start))
    if patch is None:
        return start, {}
    return start + CHUNK_SIZE, {start + 44: patch}


@dataclass(frozen=True, slots=True)
class _Chunk:
    """One chunk as its bytes say: where it is, and which record ids it holds.

    ``ids`` is None when the header is intact (its range ``first..last`` is trusted), else the ids
    found by walking its records.
    """

    index: int
    first: int
    last: int
    ids: frozenset[int] | None = None
    patch: bytes = b""  # a header prefix replacing a damaged one (offset 0 of the chunk)

    def holds(self, record_id: int) -> bool:
        return self.first <= record_id <= self.last and (self.ids is None or record_id in self.ids)

    @property
    def expected(self) -> int:
        return self.last - self.first + 1 if self.ids is None else len(self.ids)


def _header_intact(head: bytes) -> bool:
    """A chunk header whose magic and checksum hold (CRC32 of bytes 0-120 and 128-512)."""
    if len(head) < CHUNK_HEADER_SIZE or head[:8] != CHUNK_MAGIC:
        return False
    (crc,) = struct.unpack_from("<I", head, 124)
    return bool(crc == zlib.crc32(head[:120] + head[128:CHUNK_HEADER_SIZE]))


def _walk(chunk: bytes) -> tuple[list[int], int, int]:
    """(ids, offset of the last, end of the last) of the records that stand whole in ``chunk`` (size at
    both ends), found by walking it; damage between records is stepped over to the next record signature
    (records are 8-byte aligned)."""
    ids: list[int] = []
    last = end = 0
    offset = CHUNK_HEADER_SIZE
    while offset + 28 <= len(chunk):
        if chunk[offset : offset + 4] == RECORD_MAGIC:
            (size,) = struct.unpack_from("<I", chunk, offset + 4)
            if (
                28 <= size <= len(chunk) - offset
                and struct.unpack_from("<I", chunk, offset + size - 4)[0] == size
            ):
                ids.append(struct.unpack_from("<Q", chunk, offset + 8)[0])
                last, end = offset, offset + size
                offset += size
                continue
        found = chunk.find(RECORD_MAGIC, offset + 8)
        if found < 0:
            break
        offset = found + (-found % 8)
    return ids, last, end


def _describe(raw: IO[bytes], index: int, offset: int, real: int) -> _Chunk | None:
    """The chunk at ``offset``: its header range if intact, else the ids of its whole records and a
    header for them (magic, record numbers, offsets) so the parser reads the chunk instead of refusing it."""
    raw.seek(offset)
    head = raw.read(CHUNK_HEADER_SIZE)
    if _header_intact(head):
        first, last = struct.unpack_from("<QQ", head, 24)
        if 0 < first <= last and last - first < CHUNK_SIZE:
            return _Chunk(index, first, last)
    raw.seek(offset)
    ids, last_offset, end = _walk(raw.read(min(CHUNK_SIZE, real - offset)))
    if not ids:
        return None
    low, high = min(ids), max(ids)
    patch = CHUNK_MAGIC + struct.pack("<QQQQIII", low, high, low, high, 128, last_offset, end)
    return _Chunk(index, low, high, frozenset(ids), patch)


def _chunk_ranges(raw: IO[bytes], real: int) -> list[_Chunk]:
    """Every chunk of a file laid out as EVTX files are (header, then 64 KiB chunks) that holds records."""
    out = []
    offset = HEADER_SIZE
    index = 0
    while offset + 40 <= real:
        chunk = _describe(raw, index, offset, real)
        if chunk is not None:
            out.append(chunk)
        offset += CHUNK_SIZE
        index += 1
    return out


def _find_chunks(raw: IO[bytes], real: int) -> list[int]:
    """Offsets of every chunk signature in the file, at any alignment (a carved or shifted file)."""
    found: list[int] = []
    block = 1 << 20
    position = 0
    while position < real:
        raw.seek(position)
        data = raw.read(block + len(CHUNK_MAGIC) - 1)
        at = data.find(CHUNK_MAGIC)
        while at >= 0:
            offset = position + at
            if not found or offset >= found[-1] + CHUNK_HEADER_SIZE:
                found.append(offset)
            at = data.find(CHUNK_MAGIC, at + 1)
        position += block
    return found


def _fill_gaps(found: list[int], raw: IO[bytes], real: int) -> list[int]:
    """``found`` with the chunks whose signature is gone: 64 KiB steps from a found chunk (before the
    first, between two found chunks, after the last) that hold whole records."""
    if not found:
        return found
    out = []
    candidates = [found[0] - step * CHUNK_SIZE for step in range(found[0] // CHUNK_SIZE, 0, -1)]
    for this, following in itertools.pairwise([*found, real]):
        candidates.append(this)
        candidates.extend(range(this + CHUNK_SIZE, following - CHUNK_HEADER_SIZE, CHUNK_SIZE))
    for offset in candidates:
        if offset in found:
            out.append(offset)
            continue
        raw.seek(offset)
        if _walk(raw.read(min(CHUNK_SIZE, real - offset)))[0]:
            out.append(offset)
    return out


def _file_header(chunks: int) -> bytes:
    """A file header for ``chunks`` chunks (EVTX 3.1, not dirty), as Windows writes one."""
    header = bytearray(HEADER_SIZE)
    header[:8] = FILE_MAGIC
    last = max(chunks - 1, 0)
    struct.pack_into("<QQQIHHHH", header, 8, 0, last, 0, 128, 1, 3, HEADER_SIZE, min(chunks, 0xFFFF))
    struct.pack_into("<I", header, 124, zlib.crc32(header[:120]))
    return bytes(header)


class _Spliced(_Virtual):
    """A seekable stream made of pieces: bytes of our own, or ranges of ``raw``; zeros in between."""

    def __init__(self, raw: IO[bytes], pieces: list[tuple[int, bytes | tuple[int, int]]], size: int) -> None:
        super().__init__()
        self._raw = raw
        self._pieces = pieces  # (virtual offset, bytes or (real offset, length)), in order
        self._size = size
        self._pos = 0

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        view = memoryview(buffer)
        view[:want] = bytes(want)
        lo, hi = self._pos, self._pos + want
        for start, piece in self._pieces:
            length = len(piece) if isinstance(piece, bytes) else piece[1]
            a, b = max(lo, start), min(hi, start + length)
            if a >= b:
                continue
            if isinstance(piece, bytes):
                data = piece[a - start : b - start]
            else:
                self._raw.seek(piece[0] + a - start)
                data = self._raw.read(b - a)
            view[a - lo : a - lo + len(data)] = data
        self._pos = hi
        return want


def _carve(raw: IO[bytes], real: int) -> tuple[IO[bytes], list[_Chunk], Callable[[int], str]] | None:
    """The chunks found anywhere in ``raw`` behind a file header of our own, their ranges, and a label
    naming each chunk by its byte offset in the real file; None when no chunk is there."""
    offsets = _fill_gaps(_find_chunks(raw, real), raw, real)
    pieces: list[tuple[int, bytes | tuple[int, int]]] = [(0, _file_header(len(offsets)))]
    chunks = []
    for index, offset in enumerate(offsets):
        start = HEADER_SIZE + index * CHUNK_SIZE
        length = min(CHUNK_SIZE, real - offset)
        if index + 1 < len(offsets):
            length = min(length, offsets[index + 1] - offset)
        pieces.append((start, (offset, length)))
        chunk = _describe(raw, index, offset, offset + length)
        if chunk is not None:
            chunks.append(chunk)
            if chunk.patch:
                pieces.append((start, chunk.patch))
        if length < CHUNK_SIZE:  # cut short: end its records at the last whole one, as for a cut file
            raw.seek(offset)
            end = _records_end(raw.read(length))
            if end is not None:
                pieces.append((start + 44, end))
    if not offsets:
        return None
    stream = io.BufferedReader(_Spliced(raw, pieces, HEADER_SIZE + len(offsets) * CHUNK_SIZE))
    return stream, chunks, lambda index: f"chunk at byte {offsets[index]}"


def read_evtx(
    raw: IO[bytes],
    *,
    source: str,
    kind: LogKind | None,
    stats: ReadStats,
    path: str | None = None,
    skipped_chunks: int = 0,
    whole: bool = True,
) -> Iterator[LogEvent]:
    """Every readable record of the EVTX stream ``raw`` (seekable), mapped; damage is counted in ``stats``.

    ``path`` names the same bytes on disk: the parser reads a path in Rust, twice as fast as through a
    Python file object. ``skipped_chunks``: the stream holds the source's chunks from this index on (a
    shard), so locations name the source's own bytes and chunks; ``whole`` is False for such a piece (the
    file header lists chunks the piece does not hold).
    """
    raw.seek(0, io.SEEK_END)
    real = raw.tell()
    raw.seek(0)
    magic = raw.read(8) == FILE_MAGIC
    laid_out = magic and real >= HEADER_SIZE
    parser = None
    if laid_out:
        size, patches = real, dict[int, bytes]()
        if real > HEADER_SIZE and (real - HEADER_SIZE) % CHUNK_SIZE:
            size, patches = _cut_chunk_patch(raw, real)
            stats.error(
                f"{source}:byte {real + skipped_chunks * CHUNK_SIZE}",
                "EVTX file is truncated inside a chunk; records before the cut are read",
            )
        chunks = _chunk_ranges(raw, real)
        raw.seek(42)
        (declared,) = struct.unpack("<H", raw.read(2))
        present = -(-(real - HEADER_SIZE) // CHUNK_SIZE)
        if whole and declared > present:
            stats.error(
                f"{source}:byte {real}",
                f"EVTX file header lists {declared} chunks, the file holds {present}: the rest is cut off",
            )
        for chunk in chunks:
            if chunk.patch:
                start = HEADER_SIZE + chunk.index * CHUNK_SIZE
                patches = {start: chunk.patch, **patches}  # a cut patch (offset 44) applies after
        if size == real and not patches:
            raw.seek(0)
            target: object = path if path is not None else raw
        else:
            target = io.BufferedReader(_ZeroPadded(raw, real, size, patches))
        parser = _parser(target)
        label: Callable[[int], str] = lambda index: f"chunk {index + skipped_chunks}"  # noqa: E731

    if parser is None:  # the file header is cut, damaged or missing: read the chunks that are there
        carved = _carve(raw, real)
        if carved is None:
            stats.unreadable(
                source,
                f"no EVTX chunk in {real} bytes"
                + (" (the file is cut inside its header)" if magic and real < HEADER_SIZE else ""),
            )
            return
        stream, chunks, label = carved
        stats.error(
            f"{source}:byte 0",
            "EVTX file header cut, damaged or missing; the chunks found in the file are read",
        )
        parser = _parser(stream)
        if parser is None:
            stats.unreadable(source, "EVTX chunks found but unreadable")
            return
    for chunk in chunks:
        if chunk.patch:
            stats.error(
                f"{source}:{label(chunk.index)}",
                f"EVTX chunk header damaged; read by walking its records ({len(chunk.ids or ())} found)",
            )
    tally = _Tally(chunks)
    failures: list[str] = []
    records = parser.records_json()
    while True:
        try:
            item = next(records)
        except StopIteration:
            break
        except (RuntimeError, OSError, ValueError) as e:
            failures.append(str(e).split(": ", 1)[-1][:200])
            if len(failures) > 10_000:
                break
            continue
        if item is None:
            continue
        header_id = item.get("event_record_id")
        if isinstance(header_id, int):
            tally.saw(header_id)
        try:
            data = item["data"]
            event = orjson.loads(data)
            text = data.encode("utf-8", "surrogatepass")  # for the keyword gates (LogEvent.text)
            yield from_evtx_dict(event, source, kind, header_id if isinstance(header_id, int) else 0, text)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as e:
            stats.skip(f"{source}:record {header_id}", f"EVTX record of unexpected shape: {e}")
    tally.count_missing(failures, source, stats, label)


def _parser(target: object) -> evtx.PyEvtxParser | None:
    """The parser over ``target``, or None when it refuses to start (it reads the file header first)."""
    import evtx  # noqa: PLC0415 - see TYPE_CHECKING above

    try:
        return evtx.PyEvtxParser(target, number_of_threads=1)
    except (OSError, RuntimeError, ValueError):
        return None


class _Tally:
    """Which record ids of each chunk came out, kept per chunk (not per record).

    Records come out in chunk order, so a pointer follows the chunks: a record belongs to the current
    chunk while its id fits there and moves on, else to the next chunk that holds it.
    """

    def __init__(self, chunks: list[_Chunk]) -> None:
        self.chunks = chunks
        self.current = 0
        self.counts = [0] * len(chunks)
        self.expected = [c.first for c in chunks]
        self.first_gap: list[int | None] = [None] * len(chunks)

    def saw(self, record_id: int) -> None:
        at = self.current
        while at < len(self.chunks):
            if self.chunks[at].holds(record_id) and record_id >= self.expected[at]:
                break
            at += 1
        else:
            return  # from a chunk that holds no whole record we could find
        self.current = at
        self.counts[at] += 1
        if self.first_gap[at] is None and record_id != self.expected[at]:
            self.first_gap[at] = self.expected[at]
        self.expected[at] = record_id + 1

    def count_missing(
        self, failures: list[str], source: str, stats: ReadStats, label: Callable[[int], str]
    ) -> None:
        reasons = iter(failures)
        for at, chunk in enumerate(self.chunks):
            missing = chunk.expected - self.counts[at]
            if missing > 0:
                gap = self.first_gap[at]
                why = next(reasons, "record cut off or damaged")
                damaged = "" if chunk.ids is None else " (chunk header damaged)"
                stats.skip(
                    f"{source}:record {gap if gap is not None else self.expected[at]}",
                    f"{missing} EVTX record(s) of {label(chunk.index)}{damaged} unreadable: {why}",
                    count=missing,
                )
        if not self.chunks and failures:
            stats.skip(f"{source}:record ?", f"EVTX records unreadable: {failures[0]}", count=len(failures))


def chunk_cuts(size: int, target: int) -> list[int]:
    """Byte offsets that cut an EVTX file of ``size`` bytes into pieces of about ``target`` bytes at
    chunk boundaries (the first piece starts after the file header)."""
    cuts = [HEADER_SIZE]
    per_piece = max(1, target // CHUNK_SIZE)
    while cuts[-1] + per_piece * CHUNK_SIZE < size:
        cuts.append(cuts[-1] + per_piece * CHUNK_SIZE)
    cuts.append(size)
    return cuts


def read_evtx_range(
    path: str, start: int, end: int, *, source: str, kind: LogKind | None, stats: ReadStats
) -> Iterator[LogEvent]:
    """The records of chunks ``start``..``end`` (byte offsets at chunk boundaries) of the EVTX file ``path``.

    The parser reads whole files only, so the file header and those chunks are copied (in the kernel) into
    a temporary file, which the parser then reads by path.
    """
    with Path(path).open("rb") as original, tempfile.NamedTemporaryFile(prefix="secaudit-evtx-") as piece:
        piece.write(original.read(HEADER_SIZE))
        piece.flush()
        _copy_range(original, piece, start, end - start)
        piece.seek(0)
        yield from read_evtx(
            piece,
            source=source,
            kind=kind,
            stats=stats,
            path=piece.name,
            skipped_chunks=(start - HEADER_SIZE) // CHUNK_SIZE,
            whole=False,
        )


def _copy_range(source: IO[bytes], target: IO[bytes], offset: int, count: int) -> None:
    copied = 0
    try:
        while copied < count:
            done = os.copy_file_range(
                source.fileno(), target.fileno(), count - copied, offset_src=offset + copied
            )
            if done == 0:
                return
            copied += done
    except OSError:
        source.seek(offset + copied)
        target.seek(0, io.SEEK_END)
        left = count - copied
        while left > 0 and (block := source.read(min(left, 1 << 20))):
            target.write(block)
            left -= len(block)
        target.flush()
