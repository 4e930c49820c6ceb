"""Opening the history database, and turning SQLite failures into errors that say what to do."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from secaudit.core.errors import HistoryError
from secaudit.history.schema import check_identity, migrate

_MOVE_ASIDE = (
    "move the file (and its -wal and -shm companions) aside so history starts afresh, or restore "
    "it from a backup; `sqlite3 FILE .recover` may salvage its contents"
)


def _hint_for(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return (
            "make the history file and its folder writable by this user (SQLite also creates "
            "FILE-wal and FILE-shm beside it), or set another history path"
        )
    if "unable to open" in text or "cannot open" in text:
        return (
            "check that the history folder exists and this user may create files in it, "
            "or set another history path"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return f"the file is not an intact SQLite database: {_MOVE_ASIDE}"
    if "locked" in text or "busy" in text:
        return "another secaudit process is writing this history; let it finish, then retry"
    if "disk" in text or "full" in text or "i/o" in text:
        return "check the free space and health of the disk that holds the history"
    return f"check the history file; if it cannot be repaired, {_MOVE_ASIDE}"


def database_error(exc: sqlite3.Error, location: str, action: str) -> HistoryError:
    """A :class:`HistoryError` for a failed SQLite call; raise it ``from exc``."""
    return HistoryError(f"cannot {action}: {exc}", location=location, hint=_hint_for(exc))


def _not_world_writable(path: Path) -> None:
    """History is evidence: readable as the umask allows, never writable by others (a umask of 0
    would make it so). The write-ahead log and shared-memory files follow the database."""
    for item in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            info = item.stat()
            if info.st_mode & 0o002 and info.st_uid == os.geteuid():
                item.chmod(info.st_mode & 0o7775)
        except FileNotFoundError:
            continue
        except OSError as e:
            raise HistoryError(
                f"cannot restrict the permissions of {item.name}: {e.strerror}",
                location=str(path),
                hint="check who owns the history file",
            ) from e


def connect(path: Path, *, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open (creating if needed), check and migrate the history at ``path``.

    The connection is in autocommit mode: every write goes through an explicit transaction.
    """
    location = str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        if path.parent.exists() and not path.parent.is_dir():
            raise HistoryError(
                f"cannot create the history folder {path.parent}: a file of that name is in the way",
                location=location,
                hint="choose a history path whose folder can be created, or move that file aside",
            ) from e
        # Otherwise it exists but cannot be inspected (no search permission): SQLite says so below.
    except OSError as e:
        raise HistoryError(
            f"cannot create the history folder {path.parent}: {e.strerror or e}",
            location=location,
            hint="choose a history path whose folder can be created and written by this user",
        ) from e
    if path.is_dir():
        raise HistoryError(
            "the history path is a folder, not a database file",
            location=location,
            hint=f"name a file inside it, e.g. {path / 'history.sqlite'}",
        )
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_ms / 1000)
    except sqlite3.Error as e:
        raise database_error(e, location, "open the history database") from e
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        # Look before writing anything: another program's database must stay untouched.
        check_identity(conn, location)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise HistoryError(
                f"SQLite refused write-ahead logging (journal mode stays {mode!r})",
                location=location,
                hint="keep the history on a local filesystem (WAL does not work over network shares)",
            )
        migrate(conn, location)
        _not_world_writable(path)
    except sqlite3.Error as e:
        conn.close()
        raise database_error(e, location, "open the history database") from e
    except BaseException:
        conn.close()
        raise
    return conn
