"""A raw capture-file reader: pcap (both byte orders, micro- and nanosecond) and pcapng.

It yields each record's time and bytes, nothing decoded: passive discovery decodes only the
packets that matter, which keeps a million-packet capture to seconds (scapy's ``rdpcap``
builds a full object tree per packet, about 4,000 packets a second). The file is memory-mapped.

A capture cut short (a killed tcpdump, a copy interrupted) yields every complete record and
then says so in :attr:`CaptureFile.truncated`; a file that is not a capture raises
:class:`CaptureError`. Link types we cannot decode are reported, not guessed.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from secaudit.core.errors import OperationalError
from secaudit.core.files import special_kind

#: Link-layer types passive discovery decodes (LINKTYPE_* values from tcpdump.org).
LINK_ETHERNET = 1
LINK_RAW = 101  # raw IPv4/IPv6
LINK_LINUX_SLL = 113  # "any" interface, cooked v1
LINK_LINUX_SLL2 = 276  # cooked v2
LINK_NULL = 0  # BSD loopback (host-order address family)
LINK_LOOP = 108  # OpenBSD loopback (network-order family)
LINK_IPV4 = 228
LINK_IPV6 = 229
SUPPORTED_LINKS = {
    LINK_ETHERNET: "Ethernet",
    LINK_RAW: "raw IP",
    LINK_LINUX_SLL: "Linux cooked",
    LINK_LINUX_SLL2: "Linux cooked v2",
    LINK_NULL: "BSD loopback",
    LINK_LOOP: "OpenBSD loopback",
    LINK_IPV4: "raw IPv4",
    LINK_IPV6: "raw IPv6",
}

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
MAX_RECORD = 256 * 1024  # larger than any real snap length: a bigger length means damage
#: The smallest whole block of each type read here: header, fixed fields, trailing length.
_PCAPNG_MIN = {1: 20, 3: 16, 6: 32, 0x0A0D0D0A: 28}


class CaptureError(OperationalError):
    """The file is not a capture we can read (or cannot be opened)."""


@dataclass
class CaptureFile:
    """One open capture. Iterate :meth:`records`; then read ``truncated``/``problems``."""

    path: Path
    linktype: int = LINK_ETHERNET
    records_read: int = 0
    truncated: str = ""  # why reading stopped early, "" when the file ended cleanly
    problems: list[str] = field(default_factory=list)  # e.g. records of an unsupported link type
    _data: mmap.mmap | bytes = b""
    _pcapng: bool = False
    _order: str = "<"
    _scale: float = 1e-6

    @classmethod
    def open(cls, path: Path) -> CaptureFile:
        if kind := special_kind(path):  # a FIFO blocks the open, a device never ends: captures are files
            raise CaptureError(
                f"is {kind}, not a capture file",
                location=str(path),
                hint="write the capture to a file first (tcpdump -w FILE), then give that file",
            )
        try:
            with path.open("rb") as fh:
                size = path.stat().st_size
                data: mmap.mmap | bytes = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        except OSError as e:
            raise CaptureError(
                f"cannot open the capture: {e.strerror or e}",
                location=str(path),
                hint="check the path and that this user may read it",
            ) from e
        capture = cls(path=path, _data=data)
        capture._read_header()
        return capture

    def close(self) -> None:
        if isinstance(self._data, mmap.mmap):
            self._data.close()
        self._data = b""

    def __enter__(self) -> CaptureFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _read_header(self) -> None:
        data = self._data
        magic = bytes(data[:4])
        if magic == _PCAPNG_SHB:
            self._pcapng = True
            self.linktype = -1  # per interface, known once its description block is read
            return
        if magic not in _PCAP_MAGIC:
            self.close()
            raise CaptureError(
                f"not a pcap or pcapng capture (unknown magic number {magic.hex() or 'in an empty file'})",
                location=str(self.path),
                hint="give a file written by tcpdump, dumpcap or Wireshark (pcap or pcapng)",
            )
        if len(data) < 24:
            size = len(data)  # read before closing: a closed map has no length
            self.close()
            raise CaptureError(
                f"the pcap file header is cut short ({size} of 24 bytes)",
                location=str(self.path),
                hint="the capture was interrupted before any packet; capture again",
            )
        self._order, self._scale = _PCAP_MAGIC[magic]
        self.linktype = struct.unpack_from(self._order + "I", data, 20)[0] & 0x0FFFFFFF
        if self.linktype not in SUPPORTED_LINKS:
            self.close()
            raise CaptureError(
                f"link type {self.linktype} is not one passive discovery decodes",
                location=str(self.path),
                hint="capture on an Ethernet interface or 'any' (tcpdump -i any); supported: "
                + ", ".join(f"{n} ({k})" for k, n in sorted(SUPPORTED_LINKS.items())),
            )

    def records(self) -> Iterator[tuple[float, int, bytes]]:
        """``(timestamp, linktype, bytes)`` per packet, in file order."""
        if self._pcapng:
            yield from self._pcapng_records()
            return
        data, scale, linktype = self._data, self._scale, self.linktype
        header = struct.Struct(self._order + "IIII")
        unpack = header.unpack_from
        end = len(data)
        pos = 24
        n = 0
        while pos + 16 <= end:
            sec, frac, caplen, _ = unpack(data, pos)
            start = pos + 16
            if caplen > MAX_RECORD:
                self.truncated = (
                    f"record {n + 1} at byte {pos} claims {caplen} bytes: the file is damaged there"
                )
                break
            pos = start + caplen
            if pos > end:
                self.truncated = (
                    f"record {n + 1} at byte {start - 16} is cut short ({end - start} of {caplen} bytes)"
                )
                break
            n += 1
            yield sec + frac * scale, linktype, data[start:pos]
        else:
            if pos != end:
                self.truncated = (
                    f"{end - pos} stray bytes after record {n}: the last record header is cut short"
                )
        self.records_read = n

    def _pcapng_records(self) -> Iterator[tuple[float, int, bytes]]:
        data = self._data
        end = len(data)
        pos = 0
        order = "<"
        links: list[tuple[int, float]] = []  # per interface: (linktype, seconds per tick)
        n = 0
        while pos + 12 <= end:
            block_type_raw = bytes(data[pos : pos + 4])
            if block_type_raw == _PCAPNG_SHB:
                bom = bytes(data[pos + 8 : pos + 12])
                order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                links = []
            block_type, length = struct.unpack_from(order + "II", data, pos)
            if length < 12 or length % 4 or pos + length > end:
                self.truncated = f"block at byte {pos} is cut short or damaged (length {length})"
                break
            body = pos + 8
            if length < _PCAPNG_MIN.get(block_type, 12):
                self.truncated = (
                    f"block at byte {pos} is too short for its type {block_type} (length {length})"
                )
                break
            if block_type == 1:  # interface description
                linktype = struct.unpack_from(order + "H", data, body)[0]
                links.append((linktype, _tsresol(data, body + 8, pos + length - 4, order)))
            elif block_type in (6, 3):  # enhanced / simple packet
                if block_type == 6:
                    iface, high, low, caplen = struct.unpack_from(order + "IIII", data, body)
                    start = body + 20
                else:
                    iface, high, low = 0, 0, 0
                    caplen = min(struct.unpack_from(order + "I", data, body)[0], length - 16)
                    start = body + 4
                if iface >= len(links):
                    self.truncated = f"packet block at byte {pos} names interface {iface}, never described"
                    break
                linktype, tick = links[iface]
                if start + caplen > pos + length:
                    self.truncated = f"packet block at byte {pos} is damaged (captured length {caplen})"
                    break
                n += 1
                if linktype in SUPPORTED_LINKS:
                    yield ((high << 32) | low) * tick, linktype, data[start : start + caplen]
                elif f"link type {linktype}" not in " ".join(self.problems):
                    self.problems.append(f"link type {linktype} is not decoded; its packets were skipped")
            pos += length
        else:
            if pos != end:
                self.truncated = f"{end - pos} stray bytes after the last complete block"
        self.records_read = n


def _tsresol(data: mmap.mmap | bytes, pos: int, end: int, order: str) -> float:
    """Seconds per timestamp tick from an interface block's options (default microseconds)."""
    while pos + 4 <= end:
        code, length = struct.unpack_from(order + "HH", data, pos)
        if code == 0:
            break
        if code == 9 and length >= 1 and pos + 5 <= end:
            value = data[pos + 4]
            return float(2 ** -(value & 0x7F)) if value & 0x80 else float(10**-value)
        pos += 4 + (length + 3) // 4 * 4
    return 1e-6
