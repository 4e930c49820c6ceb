"""Dense EVTX files for the benchmarks: our own minimal EVTX writer and a Sysmon-style event source.

Written from the format as libyal's "Windows XML Event Log (EVTX)" documentation describes it and as
the ``evtx`` package (the crate behind secaudit's reader) parses it:

* a 4 KiB file header ("ElfFile", chunk count, next record id, CRC32 of its first 120 bytes);
* 64 KiB chunks: a 512-byte header (first/last record numbers and ids, offset of the last record,
  free-space offset, CRC32 of the records, CRC32 of the header without its flags and checksum, the
  64-bucket string table and the 32-bucket template table), then records packed as densely as they fit;
* records: signature ``**\\0\\0``, size, record id, FILETIME, BinXML, the size again.

The BinXML is written the way Windows writes Sysmon events: every record is an instance of a System
template whose last substitution is a BinXML fragment holding an instance of the event shape's own
EventData template (one per set of EventData names and value types). A template is defined inline by
the first record of each chunk that uses it and referenced by offset afterwards; the values travel as
typed substitutions (strings as UTF-16, EventID/Task as UInt16, Level/Opcode/Version as UInt8, Keywords
as HexInt64, TimeCreated as FILETIME, EventRecordID as UInt64, the user as a SID, integers of EventData
as UInt32/UInt64). Element and attribute names are written inline once per chunk, referenced by offset
after that and listed in the chunk's string table; records are padded to 8 bytes. Where real Sysmon
logs type ProcessGuid as a GUID and ports as UInt16, values here keep the type of their flat-JSON form
(string, integer), so both forms read as the same events.

The event source mirrors bench/hunt.py's JSONL: every 20th event is a SigmaHQ regression event with
fresh process ids, GUIDs, host names and times, the rest benign noise built on the same Sysmon shapes.
"""

from __future__ import annotations

import hashlib
import random
import struct
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

FILE_HEADER_SIZE = 4096
CHUNK_SIZE = 65536
CHUNK_HEADER_SIZE = 512
MAX_CHUNKS = 0xFFFF  # the file header counts chunks in 16 bits

# BinXML tokens
EOF = 0x00
OPEN_START = 0x01
CLOSE_START = 0x02
CLOSE_EMPTY = 0x03
END_ELEMENT = 0x04
VALUE = 0x05
ATTRIBUTE = 0x06
TEMPLATE_INSTANCE = 0x0C
OPTIONAL_SUBSTITUTION = 0x0E
FRAGMENT_HEADER = b"\x0f\x01\x01\x00"
MORE = 0x40  # set on OPEN_START when the element has attributes, on ATTRIBUTE when another follows

# BinXML value types
STRING, UINT8, UINT16, UINT32, UINT64, INT64 = 0x01, 0x04, 0x06, 0x08, 0x0A, 0x09
BOOL, GUID, FILETIME, SID, HEXINT64, BINXML = 0x0D, 0x0F, 0x11, 0x13, 0x15, 0x21
SYSTEM_VALUES = 15  # substitutions of the System template before the EventData fragment

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
SYSMON_PROVIDER_GUID = uuid.UUID("5770385F-C22A-43E0-BF4C-06F5698FFBD9")
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
# Flat-form keys that live in System; every other key of an event is an EventData field.
SYSTEM_KEYS = frozenset(
    {"EventID", "Channel", "Provider_Name", "Computer", "Level", "Task", "Opcode", "Keywords"}
    | {"EventRecordID", "TimeCreated"}
)


def name_hash(text: str) -> int:
    """The 16-bit name hash EVTX stores beside each name (multiply by 65599, add each UTF-16 unit)."""
    value = 0
    for unit in struct.unpack(f"<{len(text.encode('utf-16-le')) // 2}H", text.encode("utf-16-le")):
        value = (value * 65599 + unit) & 0xFFFFFFFF
    return value & 0xFFFF


def filetime(text: str) -> int:
    """100 ns intervals since 1601 of an ISO 8601 UTC time."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    delta = moment - FILETIME_EPOCH
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def sid_bytes(text: str) -> bytes:
    parts = text.split("-")
    authority, subs = int(parts[2]), [int(p) for p in parts[3:]]
    return (
        struct.pack("<BB", int(parts[1]), len(subs))
        + authority.to_bytes(6, "big")
        + struct.pack(f"<{len(subs)}I", *subs)
    )


def typed(value: object) -> tuple[int, bytes]:
    """(BinXML value type, bytes) of one EventData value."""
    if isinstance(value, bool):
        return BOOL, struct.pack("<I", int(value))
    if isinstance(value, int):
        if 0 <= value < 1 << 32:
            return UINT32, struct.pack("<I", value)
        if 0 <= value < 1 << 64:
            return UINT64, struct.pack("<Q", value)
        return INT64, struct.pack("<q", value)
    return STRING, str(value).encode("utf-16-le", "surrogatepass")


def keywords_value(value: object) -> tuple[int, bytes]:
    text = str(value)
    if text.startswith("0x"):
        try:
            return HEXINT64, struct.pack("<Q", int(text, 16))
        except (ValueError, struct.error):
            pass
    return STRING, text.encode("utf-16-le")


def _small(value: object, fmt: str, kind: int, default: int) -> tuple[int, bytes]:
    number = value if isinstance(value, int) and not isinstance(value, bool) else default
    return kind, struct.pack(fmt, number)


def substitutions(event: dict[str, Any], *, thread: int = 0) -> list[tuple[int, bytes]]:
    """The typed values of one flat event: the System values in template order, then EventData."""
    provider = str(event.get("Provider_Name") or "")
    if provider.lower() == "microsoft-windows-sysmon":
        provider_guid = SYSMON_PROVIDER_GUID
    else:
        provider_guid = uuid.UUID(bytes=hashlib.blake2b(provider.encode(), digest_size=16).digest())
    values = [
        (STRING, provider.encode("utf-16-le")),
        (GUID, provider_guid.bytes_le),
        _small(event.get("EventID"), "<H", UINT16, 0),
        (UINT8, b"\x05"),
        _small(event.get("Level"), "<B", UINT8, 4),
        _small(event.get("Task"), "<H", UINT16, 0),
        _small(event.get("Opcode"), "<B", UINT8, 0),
        keywords_value(event.get("Keywords", "0x8000000000000000")),
        (FILETIME, struct.pack("<Q", filetime(str(event["TimeCreated"])))),
        (UINT64, struct.pack("<Q", int(event["EventRecordID"]))),
        (UINT32, struct.pack("<I", 3208)),
        (UINT32, struct.pack("<I", thread)),
        (STRING, str(event.get("Channel") or "").encode("utf-16-le")),
        (STRING, str(event.get("Computer") or "").encode("utf-16-le")),
        (SID, sid_bytes("S-1-5-18")),
    ]
    values.extend(typed(v) for k, v in event.items() if k not in SYSTEM_KEYS and v is not None)
    return values


def data_names(event: dict[str, Any]) -> tuple[str, ...]:
    return tuple(k for k, v in event.items() if k not in SYSTEM_KEYS and v is not None)


# -- chunks -------------------------------------------------------------------------------------


@dataclass
class _Tables:
    """Names and templates already in the current chunk, and the heads of its hash tables."""

    names: dict[str, int] = field(default_factory=dict)
    templates: dict[bytes, int] = field(default_factory=dict)
    strings: list[int] = field(default_factory=lambda: [0] * 64)
    template_heads: list[int] = field(default_factory=lambda: [0] * 32)

    def copy(self) -> _Tables:
        return _Tables(dict(self.names), dict(self.templates), list(self.strings), list(self.template_heads))


class _Builder:
    """Bytes of one record being built at a known chunk offset (names and offsets are chunk-absolute)."""

    def __init__(self, base: int, tables: _Tables) -> None:
        self.out = bytearray()
        self.base = base
        self.tables = tables

    @property
    def here(self) -> int:
        return self.base + len(self.out)

    def name(self, text: str) -> None:
        known = self.tables.names.get(text)
        if known is not None:
            self.out += struct.pack("<I", known)
            return
        offset = self.here + 4
        bucket = name_hash(text) % 64
        encoded = text.encode("utf-16-le")
        self.out += struct.pack(
            "<IIHH", offset, self.tables.strings[bucket], name_hash(text), len(encoded) // 2
        )
        self.out += encoded + b"\x00\x00"
        self.tables.names[text] = offset
        self.tables.strings[bucket] = offset

    def element(self, name: str, attrs: list[tuple[str, str | int]], content: str | int | None) -> int:
        """Open an element; attribute and content values are literal strings or substitution indexes.
        Returns where the element starts (close it with :meth:`end`)."""
        start = len(self.out)
        self.out += struct.pack("<BHI", OPEN_START | (MORE if attrs else 0), 0xFFFF, 0)
        self.name(name)
        if attrs:
            at = len(self.out)
            self.out += b"\x00\x00\x00\x00"
            for i, (attr, value) in enumerate(attrs):
                self.out.append(ATTRIBUTE | (MORE if i + 1 < len(attrs) else 0))
                self.name(attr)
                self.value(value)
            struct.pack_into("<I", self.out, at, len(self.out) - at - 4)
        if content is None:
            return start
        self.out.append(CLOSE_START)
        self.value(content)
        return start

    def value(self, value: str | int) -> None:
        if isinstance(value, str):
            encoded = value.encode("utf-16-le")
            self.out += struct.pack("<BBH", VALUE, STRING, len(encoded) // 2) + encoded
        else:
            index, kind = value >> 8, value & 0xFF
            self.out += struct.pack("<BHB", OPTIONAL_SUBSTITUTION, index, kind)

    def end(self, start: int, *, empty: bool = False) -> None:
        self.out.append(CLOSE_EMPTY if empty else END_ELEMENT)
        struct.pack_into("<I", self.out, start + 3, len(self.out) - start - 7)


def _sub(index: int, kind: int) -> int:
    return index << 8 | kind


def _system_body(b: _Builder, kinds: list[int]) -> None:
    """The outer template: Event with System from substitutions 0-14, then substitution 15 (BinXML)."""
    event = b.element("Event", [("xmlns", EVENT_NS)], None)
    b.out.append(CLOSE_START)
    system = b.element("System", [], None)
    b.out.append(CLOSE_START)
    b.end(b.element("Provider", [("Name", _sub(0, kinds[0])), ("Guid", _sub(1, kinds[1]))], None), empty=True)
    for tag, index in (("EventID", 2), ("Version", 3), ("Level", 4), ("Task", 5), ("Opcode", 6)):
        b.end(b.element(tag, [], _sub(index, kinds[index])))
    b.end(b.element("Keywords", [], _sub(7, kinds[7])))
    b.end(b.element("TimeCreated", [("SystemTime", _sub(8, kinds[8]))], None), empty=True)
    b.end(b.element("EventRecordID", [], _sub(9, kinds[9])))
    b.end(b.element("Correlation", [], None), empty=True)
    b.end(
        b.element("Execution", [("ProcessID", _sub(10, kinds[10])), ("ThreadID", _sub(11, kinds[11]))], None),
        empty=True,
    )
    b.end(b.element("Channel", [], _sub(12, kinds[12])))
    b.end(b.element("Computer", [], _sub(13, kinds[13])))
    b.end(b.element("Security", [("UserID", _sub(14, kinds[14]))], None), empty=True)
    b.end(system)
    b.value(_sub(SYSTEM_VALUES, BINXML))
    b.end(event)


def _data_body(b: _Builder, kinds: list[int], names: tuple[str, ...]) -> None:
    """The inner template: EventData with one Data element per name, each value a substitution."""
    data = b.element("EventData", [], None)
    b.out.append(CLOSE_START)
    for i, name in enumerate(names):
        b.end(b.element("Data", [("Name", name)], _sub(i, kinds[i])))
    b.end(data)


def _instance(b: _Builder, shape: bytes, body: Callable[[_Builder], None]) -> None:
    """A template instance header; the template is defined inline the first time the chunk uses it."""
    guid = hashlib.blake2b(shape, digest_size=16).digest()
    b.out += struct.pack("<BB4s", TEMPLATE_INSTANCE, 1, guid[:4])
    known = b.tables.templates.get(shape)
    if known is not None:
        b.out += struct.pack("<I", known)
        return
    offset = b.here + 4
    bucket = guid[0] % 32
    b.out += struct.pack("<II16sI", offset, b.tables.template_heads[bucket], guid, 0)
    start = len(b.out)
    b.out += FRAGMENT_HEADER
    body(b)
    b.out.append(EOF)
    struct.pack_into("<I", b.out, start - 4, len(b.out) - start)
    b.tables.templates[shape] = offset
    b.tables.template_heads[bucket] = offset


def _values(b: _Builder, values: list[tuple[int, bytes]]) -> None:
    b.out += struct.pack("<I", len(values))
    for kind, data in values:
        b.out += struct.pack("<HBB", len(data), kind, 0)
    for _, data in values:
        b.out += data


def record_bytes(
    base: int,
    tables: _Tables,
    record_id: int,
    written: int,
    names: tuple[str, ...],
    values: list[tuple[int, bytes]],
) -> bytes:
    """One record at chunk offset ``base``; ``tables`` is updated with the names and templates it defines.

    As Windows writes Sysmon events: the outer template (System) takes the EventData as its last
    substitution, a BinXML fragment holding an instance of the event shape's own template.
    """
    system, data = values[:SYSTEM_VALUES], values[SYSTEM_VALUES:]
    system_kinds, data_kinds = [k for k, _ in system], [k for k, _ in data]
    b = _Builder(base + 24, tables)
    b.out += FRAGMENT_HEADER
    _instance(b, repr(("System", system_kinds)).encode(), lambda t: _system_body(t, system_kinds))
    # The EventData fragment is the last value: it starts after the count, the descriptors and the
    # System values, and its names and template offsets are absolute in the chunk.
    inner = _Builder(b.here + 4 + 4 * (len(system) + 1) + sum(len(v) for _, v in system), tables)
    inner.out += FRAGMENT_HEADER
    _instance(
        inner, repr(("EventData", names, data_kinds)).encode(), lambda t: _data_body(t, data_kinds, names)
    )
    _values(inner, data)
    inner.out.append(EOF)
    _values(b, [*system, (BINXML, bytes(inner.out))])
    b.out.append(EOF)
    b.out += bytes(-(24 + len(b.out) + 4) % 8)  # records are 8-byte aligned
    size = 24 + len(b.out) + 4
    return (
        struct.pack("<4sIQQ", b"**\x00\x00", size, record_id, written)
        + bytes(b.out)
        + struct.pack("<I", size)
    )


class EvtxWriter:
    """Writes records into 64 KiB chunks, as many as fit, and the file header when closed."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.out.write(bytes(FILE_HEADER_SIZE))
        self.chunks = 0
        self.last_id = 0
        self._reset()

    def _reset(self) -> None:
        self.data = bytearray(CHUNK_SIZE)
        self.free = CHUNK_HEADER_SIZE
        self.last_offset = 0
        self.first_id = 0
        self.tables = _Tables()

    def add(self, event: dict[str, Any], *, thread: int = 0) -> None:
        record_id = int(event["EventRecordID"])
        names, values = data_names(event), substitutions(event, thread=thread)
        written = filetime(str(event["TimeCreated"]))
        tables = self.tables.copy()
        record = record_bytes(self.free, tables, record_id, written, names, values)
        if self.free + len(record) > CHUNK_SIZE:
            if not self.first_id:
                raise ValueError(f"event {record_id} does not fit in an empty chunk ({len(record)} bytes)")
            self._flush()
            tables = self.tables.copy()
            record = record_bytes(self.free, tables, record_id, written, names, values)
            if self.free + len(record) > CHUNK_SIZE:
                raise ValueError(f"event {record_id} does not fit in an empty chunk ({len(record)} bytes)")
        self.tables = tables
        self.data[self.free : self.free + len(record)] = record
        self.last_offset = self.free
        self.free += len(record)
        self.first_id = self.first_id or record_id
        self.last_id = record_id

    def _flush(self) -> None:
        if not self.first_id:
            return
        if self.chunks >= MAX_CHUNKS:
            raise ValueError(f"an EVTX file holds at most {MAX_CHUNKS} chunks")
        d = self.data
        struct.pack_into(
            "<8sQQQQIII", d, 0, b"ElfChnk\x00", self.first_id, self.last_id, self.first_id, self.last_id,
            128, self.last_offset, self.free,
        )  # fmt: skip
        struct.pack_into("<64I", d, 128, *self.tables.strings)
        struct.pack_into("<32I", d, 384, *self.tables.template_heads)
        struct.pack_into("<I", d, 52, zlib.crc32(d[CHUNK_HEADER_SIZE : self.free]))
        struct.pack_into("<I", d, 124, zlib.crc32(d[:120] + d[128:CHUNK_HEADER_SIZE]))
        self.out.write(d)
        self.chunks += 1
        self._reset()

    def close(self) -> None:
        self._flush()
        header = bytearray(FILE_HEADER_SIZE)
        struct.pack_into(
            "<8sQQQIHHHH", header, 0, b"ElfFile\x00", 0, max(self.chunks - 1, 0), self.last_id + 1,
            128, 2, 3, FILE_HEADER_SIZE, self.chunks,
        )  # fmt: skip
        struct.pack_into("<I", header, 124, zlib.crc32(header[:120]))
        self.out.seek(0)
        self.out.write(header)
        self.out.flush()


def write_evtx(path: Path, events: Iterable[dict[str, Any]]) -> int:
    """Write ``events`` (flat dicts with EventRecordID and TimeCreated) to ``path``; returns the number
    of chunks written."""
    with path.open("wb") as out:
        writer = EvtxWriter(out)
        for i, event in enumerate(events):
            writer.add(event, thread=1000 + i % 97 * 4)
        writer.close()
    return writer.chunks


# -- events -------------------------------------------------------------------------------------


def sysmon_events(count: int, seed: int = 20260314, first_record: int = 1) -> Iterator[dict[str, Any]]:
    """The JSONL benchmark's events (bench/hunt.py ``generate``, the same values for the same seed) as
    dicts, with times to the microsecond (the precision EVTX readers print) and record ids from
    ``first_record``."""
    from bench.hunt import NOISE_EVENT_IDS, SYSMON, _benign, regression_events  # noqa: PLC0415

    rng = random.Random(seed)
    fractions = random.Random(seed + 1)  # kept apart: ``rng`` draws exactly as the JSONL generator's
    base = regression_events()
    sysmon = [e for e in base if e.get("Channel") == SYSMON and e.get("EventID") in NOISE_EVENT_IDS]
    for i in range(count):
        attack = i % 20 == 0
        event = dict(base[(i // 20) % len(base)]) if attack else _benign(sysmon[i % len(sysmon)], rng, i)
        if "ProcessId" in event:
            event["ProcessId"] = rng.randint(100, 65000)
        if "ProcessGuid" in event:
            event["ProcessGuid"] = f"{{{rng.getrandbits(128):032X}}}"
        event["Computer"] = f"cc-ws-{i % 300:03d}.phuket.example"
        day, hour, minute = 1 + (i // 40000) % 28, (i // 1800) % 24, (i // 30) % 60
        micro = fractions.randrange(1_000_000)
        event["TimeCreated"] = f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:{i % 60:02d}.{micro:06d}Z"
        event["EventRecordID"] = first_record + i
        yield event
