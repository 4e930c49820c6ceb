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
            holder, pid = _read_holder(fd)
            stop = f"kill {pid}" if pid else "stop that process"
            raise LockedError(
                f"another audit is running on this history{holder}",
                location=str(path),
                hint=f"wait for it to finish (scheduled runs must not overlap); if it hangs, {stop}: "
                "the run is marked interrupted and the lock released",
            ) from None
        info = {
            "pid": os.getpid(),
            "run_id": run_id,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _write_holder(fd, json.dumps(info).encode())
        try:
            yield
        finally:
            _write_holder(fd, b"")
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _write_holder(fd: int, data: bytes) -> None:
    """Say who holds the lock, for the message another run prints. Only informative: the kernel's
    lock is what counts, so a full disk (ENOSPC) or a read-only file costs the note, not the run."""
    try:
        os.ftruncate(fd, 0)
        if data:
            os.pwrite(fd, data, 0)
    except OSError:
        pass


def _read_holder(fd: int) -> tuple[str, int]:
    """`` (pid N, run R, since T)`` as the holder wrote it, and its pid (0 when unknown)."""
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return "", 0
    if not isinstance(info, dict) or not info:
        return "", 0
    pid = info.get("pid")
    pid = pid if isinstance(pid, int) and pid > 0 else 0
    # the note is data another process wrote: show only its expected shape
    run = str(info.get("run_id", ""))[:64]
    since = str(info.get("since", ""))[:32]
    return f" (pid {pid or '?'}, run {run}, since {since})", pid
