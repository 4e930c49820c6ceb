"""UTF-16 text logs (what Windows PowerShell 5 writes with ``>``, ``Out-File`` or ``Export-Csv -Encoding
Unicode``), read as UTF-8 so every parser sees one encoding. Recognised by their byte-order mark."""

from __future__ import annotations

import codecs
import io
from typing import IO

BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def is_utf16(head: bytes) -> bool:
    return head[:2] in BOMS


def utf16_head(head: bytes) -> bytes:
    """The UTF-8 form of the start of a UTF-16 file (for sniffing)."""
    return head[: len(head) - len(head) % 2].decode("utf-16", "replace").encode("utf-8")


def utf16_bytes(data: bytes) -> bytes:
    return data.decode("utf-16", "replace").encode("utf-8")


class _Utf16AsUtf8(io.RawIOBase):
    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-16")("replace")
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while len(self._pending) < len(buffer) and not self._done:
            block = self._raw.read(1 << 16)
            if not block:
                self._done = True
                self._pending += self._decoder.decode(b"", final=True).encode("utf-8")
                break
            self._pending += self._decoder.decode(block).encode("utf-8")
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def utf16_stream(raw: IO[bytes]) -> IO[bytes]:
    """A buffered UTF-8 view of the UTF-16 stream ``raw`` (BOM dropped; closing it closes ``raw``)."""
    return io.BufferedReader(_Utf16AsUtf8(raw), buffer_size=1 << 17)
