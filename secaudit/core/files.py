"""Reading a named content file (a profile, baseline, waivers, a catalogue) within bounds.

Only a regular file is read. A FIFO would block the read until something writes to it, and
``/dev/zero`` never ends: given as a profile, either held a scheduled audit until it was killed.
The file is opened without blocking and judged by ``fstat`` on the opened descriptor, so a path
swapped for a FIFO after a check cannot slip through.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from secaudit.core.errors import ConfigError

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def special_kind(path: Path) -> str:
    """What ``path`` (links followed) is when it exists and is neither a regular file nor a folder
    ("a FIFO", "a character device", ...), else ``""``. ``stat`` never blocks, even on a FIFO."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return ""  # opening it says why
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return ""


def read_regular(path: Path, *, limit: int, what: str = "file", hint: str = "") -> bytes:
    """All bytes of the regular file ``path`` (links followed), refused with ConfigError when it is
    missing, a folder, not a regular file, or larger than ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as e:
        raise ConfigError(f"{what} not found", location=str(path), hint=hint or "check the path") from e
    except IsADirectoryError as e:
        raise ConfigError(f"is a folder, not a {what}", location=str(path), hint=hint) from e
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", location=str(path), hint=hint) from e
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"is a folder, not a {what}", location=str(path), hint=hint)
        for test, kind in _KINDS:
            if test(mode):
                raise ConfigError(
                    f"is {kind}, not a regular file",
                    location=str(path),
                    hint=hint or f"give the {what} itself (a FIFO or device would block or never end)",
                )
        size = os.fstat(fd).st_size
        data = handle.read(limit + 1) if size <= limit else b""
        if size > limit or len(data) > limit:
            raise ConfigError(
                f"file is {max(size, len(data)):,} bytes or more, over the {limit:,} a {what} may have",
                location=str(path),
                hint=hint or "split the file",
            )
        return data
