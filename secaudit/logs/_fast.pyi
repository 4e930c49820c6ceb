"""Types of the compiled module secaudit/logs/_fast.c (see there)."""

from collections.abc import Callable
from datetime import datetime

from secaudit.core.events import LogEvent, LogKind

HAS_DICT: int
NOT_TEXT: int

def count_range(fd: int, start: int, end: int, /) -> int: ...
def value_kinds(d: dict[str, object], /) -> int: ...
def flat_windows_event(
    kinds: dict[tuple[str, str, int, str], LogKind],
    aliases: dict[str, str] | None,
    parse_time: Callable[[str], datetime | None],
    event_type: type[LogEvent],
    kind: LogKind | None,
    source: str,
    fields: dict[str, object],
    line: bytes,
    record: int,
    /,
) -> LogEvent | None: ...
