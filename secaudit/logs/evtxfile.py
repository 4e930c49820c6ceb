"""EVTX files through the ``evtx`` package (Rust), robust to truncated and damaged chunks.

An EVTX file is a 4 KiB header and 64 KiB chunks. A file cut in the middle of a chunk is read as if the
rest of the chunk were zeros, with the chunk header told that its records end after the last complete
one, so every record before the cut is still read and no half record comes out. The chunk headers say which
record ids each chunk holds; ids that did not come out (cut off, or after damage the parser cannot
step over) are counted as skipped with the first missing id as location.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import evtx
import orjson

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.stats import ReadStats
from secaudit.logs.windows import from_evtx_dict

FILE_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
HEADER_SIZE = 4096
CHUNK_SIZE = 65536


class _ZeroPadded(io.RawIOBase):
    """A seekable binary stream that reads as ``size`` bytes: the real bytes, then zeros; ``patches``
    (offset -> bytes) overlay the real bytes."""

    def __init__(self, raw: IO[bytes], real: int, size: int, patches: dict[int, bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._real = real
        self._size = size
        self._pos = 0
        self._patches = patches

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


def _cut_chunk_patch(raw: IO[bytes], real: int) -> tuple[int, dict[int, bytes]]:
    """For a file cut inside its last chunk: (padded size, header patches ending that chunk's records at
    the last complete one). A chunk whose own header is cut is left out."""
    start = real - (real - HEADER_SIZE) % CHUNK_SIZE
    raw.seek(start)
    chunk = raw.read(real - start)
    if len(chunk) < 512 or chunk[:8] != CHUNK_MAGIC:
        return start, {}
    offset, last = 512, 0
    while offset + 24 <= len(chunk) and chunk[offset : offset + 4] == b"**\x00\x00":
        (size,) = struct.unpack_from("<I", chunk, offset + 4)
        if size < 24 or offset + size > len(chunk):
            break
        last, offset = offset, offset + size
    if not last:
        return start, {}
    return start + CHUNK_SIZE, {start + 44: struct.pack("<II", last, offset)}


def _chunk_ranges(raw: IO[bytes], real: int) -> list[tuple[int, int, int]]:
    """(chunk index, first record id, last record id) of every chunk whose header is intact."""
    out = []
    offset = HEADER_SIZE
    index = 0
    while offset + 40 <= real:
        raw.seek(offset)
        head = raw.read(40)
        if head[:8] == CHUNK_MAGIC:
            first, last = struct.unpack_from("<QQ", head, 24)
            if 0 < first <= last and last - first < CHUNK_SIZE:
                out.append((index, first, last))
        offset += CHUNK_SIZE
        index += 1
    return out


def read_evtx(
    raw: IO[bytes],
    *,
    source: str,
    kind: LogKind | None,
    stats: ReadStats,
    path: str | None = None,
    skipped_chunks: int = 0,
) -> Iterator[LogEvent]:
    """Every readable record of the EVTX stream ``raw`` (seekable), mapped; damage is counted in ``stats``.

    ``path`` names the same bytes on disk: the parser reads a path in Rust, twice as fast as through a
    Python file object. ``skipped_chunks``: the stream holds the source's chunks from this index on (a
    shard), so locations name the source's own bytes and chunks.
    """
    raw.seek(0, io.SEEK_END)
    real = raw.tell()
    raw.seek(0)
    size, patches = real, dict[int, bytes]()
    if real > HEADER_SIZE and (real - HEADER_SIZE) % CHUNK_SIZE:
        size, patches = _cut_chunk_patch(raw, real)
        stats.error(
            f"{source}:byte {real + skipped_chunks * CHUNK_SIZE}",
            "EVTX file is truncated inside a chunk; records before the cut are read",
        )
    chunks = _chunk_ranges(raw, real)
    if size == real:
        raw.seek(0)
        target: object = path if path is not None else raw
    else:
        target = io.BufferedReader(_ZeroPadded(raw, real, size, patches))
    parser = evtx.PyEvtxParser(target, number_of_threads=1)
    tally = _Tally(chunks)
    failures: list[str] = []
    records = parser.records_json()
    while True:
        try:
            item = next(records)
        except StopIteration:
            break
        except RuntimeError as e:
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
            event = orjson.loads(item["data"])
            yield from_evtx_dict(event, source, kind, header_id if isinstance(header_id, int) else 0)
        except (orjson.JSONDecodeError, KeyError, TypeError) as e:
            stats.skip(f"{source}:record {header_id}", f"EVTX record of unexpected shape: {e}")
    tally.count_missing(failures, source, stats, skipped_chunks)


class _Tally:
    """Which record ids of each intact chunk came out, kept per chunk (not per record).

    Records come out in chunk order, so a pointer follows the chunks: a record belongs to the current
    chunk while its id fits there and moves on, else to the next chunk whose range holds it.
    """

    def __init__(self, chunks: list[tuple[int, int, int]]) -> None:
        self.chunks = chunks
        self.current = 0
        self.counts = [0] * len(chunks)
        self.expected = [first for _, first, _ in chunks]
        self.first_gap: list[int | None] = [None] * len(chunks)

    def saw(self, record_id: int) -> None:
        at = self.current
        while at < len(self.chunks):
            _, first, last = self.chunks[at]
            if first <= record_id <= last and record_id >= self.expected[at]:
                break
            at += 1
        else:
            return  # from a chunk whose header was unreadable
        self.current = at
        self.counts[at] += 1
        if self.first_gap[at] is None and record_id != self.expected[at]:
            self.first_gap[at] = self.expected[at]
        self.expected[at] = record_id + 1

    def count_missing(self, failures: list[str], source: str, stats: ReadStats, skipped_chunks: int) -> None:
        reasons = iter(failures)
        for at, (index, first, last) in enumerate(self.chunks):
            missing = last - first + 1 - self.counts[at]
            if missing > 0:
                gap = self.first_gap[at]
                why = next(reasons, "record cut off or damaged")
                stats.skip(
                    f"{source}:record {gap if gap is not None else self.expected[at]}",
                    f"{missing} EVTX record(s) of chunk {index + skipped_chunks} unreadable: {why}",
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
