"""What every line parser gets: where it reads, where it counts, and the shared decoding helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.stats import ReadStats

MAX_LINE_BYTES = 1 << 20
"""Lines longer than 1 MiB are skipped and counted (location ``path:line``); no real log line is that long,
and the cap bounds the memory a hostile or broken file can take."""

MAX_RECORD_BYTES = 4 << 20
"""A multi-line record (pretty-printed JSON, auditd) larger than 4 MiB is skipped and counted."""

KIND_CACHE_MAX = 4096
"""LogKinds are cached per distinct (channel, EventID), program, log type...; a cache this full is emptied."""

Lines = Iterator[tuple[int, bytes]]


@dataclass(slots=True)
class Context:
    """One file (or shard of one) being parsed.

    ``kind`` overrides the LogKind of every event; ``reference`` is the date RFC 3164 syslog years are
    inferred from (the file's modification time, or the time the read began for stdin); ``header``
    holds a shard's carried header lines (Zeek TSV) already fed before its first line.
    """

    source: str
    stats: ReadStats
    kind: LogKind | None = None
    reference: datetime | None = None
    name: str = ""  # the file's base name, for Zeek log types
    header: tuple[bytes, ...] = ()
    state: dict[str, object] = field(default_factory=dict)

    def where(self, line: int) -> str:
        return f"{self.source}:{line}"

    def skip(self, line: int, reason: str) -> None:
        self.stats.skip(self.where(line), reason)

    def text(self, line: int, raw: bytes) -> str:
        """``raw`` as text; invalid UTF-8 is replaced with U+FFFD and counted (the record is still used)."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.replaced(line)
            return raw.decode("utf-8", "replace")

    def replaced(self, line: int) -> None:
        self.stats.replaced += 1
        self.stats.error(self.where(line), "invalid UTF-8 replaced with U+FFFD; the event is still read")

    def json(self, line: int, raw: bytes) -> object:
        """Parse one JSON document; a broken one is counted as skipped and gives None."""
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            error = e
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            self.replaced(line)
            try:
                return orjson.loads(raw.decode("utf-8", "replace"))
            except orjson.JSONDecodeError as e:
                error = e
        self.skip(line, f"broken JSON: {str(error)[:120]}")
        return None


Parser = Callable[[Lines, Context], Iterator[LogEvent]]
