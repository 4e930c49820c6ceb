"""An exclusive lock so two scheduled audits on the same history never overlap.

``fcntl.flock`` on a lock file next to the history database: the kernel drops the lock when
the holder exits or is killed, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from secaudit.core.errors import LockedError, OperationalError


@contextmanager
def audit_lock(path: Path, *, run_id: str) -> Iterator[None]:
    """Hold ``path`` exclusively for the block, or raise LockedError naming the holder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise OperationalError(
            f"cannot create the audit lock: {e.strerror}",
            location=str(path),
            hint="make the history folder writable, or choose another with --history",
        ) from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise LockedError(
                f"another audit is running on this history{holder}",
                location=str(path),
                hint="wait for it to finish; scheduled runs must not overlap",
            ) from None
        os.ftruncate(fd, 0)
        info = {
            "pid": os.getpid(),
            "run_id": run_id,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.write(fd, json.dumps(info).encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096) or b"{}")
    except (OSError, ValueError):
        return ""
    if not info:
        return ""
    return f" (pid {info.get('pid')}, run {info.get('run_id')}, since {info.get('since')})"
