"""Where checks read from: ``offline:DIR`` (a root filesystem or snapshot) and ``file:PATH``.

The offline target is strictly read-only and never leaves its root: every path is walked one
component at a time, every symlink is resolved *inside* the root (a link to ``/etc/shadow``
means ``DIR/etc/shadow``), files are opened ``O_RDONLY | O_NOFOLLOW`` (with ``O_NOATIME`` where
the kernel allows, so not even access times change) and nothing is ever executed.
"""

# ruff: noqa: PTH115, PTH118, PTH208 - os-level walking on purpose: lstat per component, no following
from __future__ import annotations

import errno
import fnmatch
import os
import posixpath
import stat as statmod
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from secaudit.core.errors import UsageError

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_SYMLINKS = 40
_T = TypeVar("_T")


class ProbeError(Exception):
    """A probe could not read what it needed: the check becomes ERROR with this reason."""


class NotApplicable(Exception):
    """The check cannot be decided on this target: the check becomes NOT APPLICABLE."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: str  # inside the target
    mode: int
    uid: int
    gid: int
    kind: str  # "file", "dir", "link", "other"
    size: int


class Target(ABC):
    """The interface probes use. Paths are absolute paths *inside* the target."""

    kind = ""
    label = ""

    def __init__(self) -> None:
        self._memo: dict[Any, Any] = {}

    def memo(self, key: Any, build: Callable[[], _T]) -> _T:
        """Cache a parsed view (dpkg status, sshd config) for the life of this target."""
        if key not in self._memo:
            try:
                self._memo[key] = build()
            except (ProbeError, NotApplicable) as e:
                self._memo[key] = e
        value = self._memo[key]
        if isinstance(value, (ProbeError, NotApplicable)):
            raise value
        return value  # type: ignore[no-any-return]

    @abstractmethod
    def read_text(self, path: str) -> str | None:
        """The file's text, or None when it does not exist; ProbeError when it cannot be read."""

    @abstractmethod
    def info(self, path: str, *, follow: bool = True) -> FileInfo | None:
        """Mode, owner and kind of ``path`` (following a final symlink unless ``follow`` is false)."""

    @abstractmethod
    def listdir(self, path: str) -> list[str] | None:
        """Sorted names in a directory, or None when it does not exist."""

    @abstractmethod
    def readlink(self, path: str) -> str | None:
        """The text of a symlink, or None when ``path`` is not one."""

    def glob(self, pattern: str) -> list[str]:
        """Expand ``*``/``?``/``[...]`` per path component, sorted; no ``**``."""
        parts = [p for p in pattern.split("/") if p]
        found = ["/"]
        for part in parts:
            nxt: list[str] = []
            for base in found:
                if any(ch in part for ch in "*?["):
                    names = self.listdir(base) or []
                    nxt.extend(posixpath.join(base, n) for n in sorted(names) if fnmatch.fnmatchcase(n, part))
                else:
                    nxt.append(posixpath.join(base, part))
            found = nxt
        return sorted(p for p in found if self.info(p) is not None)


def _decode(raw: bytes, where: str) -> str:
    if b"\x00" in raw[:65536]:
        raise ProbeError(f"{where} is binary, expected a text file")
    return raw.decode("utf-8", errors="replace")


class OfflineTarget(Target):
    """A directory holding a root filesystem or a collected snapshot; read-only, contained."""

    kind = "offline"

    def __init__(self, root: Path) -> None:
        super().__init__()
        try:
            st = root.stat()
        except OSError as e:
            raise UsageError(
                f"offline root {root} cannot be read: {e.strerror}",
                hint="give an existing directory: offline:/path/to/root",
            ) from e
        if not statmod.S_ISDIR(st.st_mode):
            raise UsageError(f"offline root {root} is not a directory", hint="offline:DIR takes a folder")
        self.root = os.path.realpath(root)
        self.label = f"offline:{root}"

    def _resolve(self, path: str, *, follow_last: bool = True) -> str:
        """Host path of ``path`` with every symlink resolved inside the root.

        Raises FileNotFoundError for a missing component, ProbeError for a symlink loop.
        """
        todo = [p for p in path.split("/") if p]
        done: list[str] = []
        hops = 0
        while todo:
            part = todo.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            host = os.path.join(self.root, *done, part)
            st = os.lstat(host)
            if statmod.S_ISLNK(st.st_mode) and (todo or follow_last):
                hops += 1
                if hops > MAX_SYMLINKS:
                    raise ProbeError(f"{path}: too many levels of symbolic links (a loop?)")
                link = os.readlink(host)
                if link.startswith("/"):
                    done = []
                todo = [p for p in link.split("/") if p] + todo
                continue
            done.append(part)
        return os.path.join(self.root, *done)

    def _host(self, path: str, *, follow_last: bool = True) -> str | None:
        try:
            return self._resolve(path, follow_last=follow_last)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except PermissionError as e:
            raise ProbeError(f"{path}: permission denied") from e

    def read_text(self, path: str) -> str | None:
        return self.memo(("read", path), lambda: self._read(path))

    def _read(self, path: str) -> str | None:
        host = self._host(path)
        if host is None:
            return None
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
        noatime = getattr(os, "O_NOATIME", 0)
        try:
            try:
                fd = os.open(host, flags | noatime)
            except PermissionError:
                fd = os.open(host, flags)  # O_NOATIME needs ownership or CAP_FOWNER
        except FileNotFoundError:
            return None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise ProbeError(f"{path}: changed into a symlink while reading") from e
            raise ProbeError(f"{path}: cannot open: {e.strerror}") from e
        try:
            st = os.fstat(fd)
            if statmod.S_ISDIR(st.st_mode):
                raise ProbeError(f"{path} is a directory, expected a file")
            if not statmod.S_ISREG(st.st_mode):
                raise ProbeError(f"{path} is not a regular file")
            if st.st_size > MAX_FILE_BYTES:
                raise ProbeError(f"{path} is {st.st_size} bytes, over the {MAX_FILE_BYTES} byte limit")
            chunks: list[bytes] = []
            total = 0
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
                total += len(chunk)
                if total > MAX_FILE_BYTES:
                    raise ProbeError(f"{path} is over the {MAX_FILE_BYTES} byte limit")
        except OSError as e:
            raise ProbeError(f"{path}: cannot read: {e.strerror}") from e
        finally:
            os.close(fd)
        return _decode(b"".join(chunks), path)

    def info(self, path: str, *, follow: bool = True) -> FileInfo | None:
        host = self._host(path, follow_last=follow)
        if host is None:
            return None
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise ProbeError(f"{path}: cannot stat: {e.strerror}") from e
        if statmod.S_ISREG(st.st_mode):
            kind = "file"
        elif statmod.S_ISDIR(st.st_mode):
            kind = "dir"
        elif statmod.S_ISLNK(st.st_mode):
            kind = "link"
        else:
            kind = "other"
        return FileInfo(path, statmod.S_IMODE(st.st_mode), st.st_uid, st.st_gid, kind, st.st_size)

    def listdir(self, path: str) -> list[str] | None:
        host = self._host(path)
        if host is None:
            return None
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            try:
                fd = os.open(host, flags | getattr(os, "O_NOATIME", 0))
            except PermissionError:
                fd = os.open(host, flags)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise ProbeError(f"{path}: cannot list: {e.strerror}") from e
        try:
            return sorted(os.listdir(fd))
        except OSError as e:
            raise ProbeError(f"{path}: cannot list: {e.strerror}") from e
        finally:
            os.close(fd)

    def readlink(self, path: str) -> str | None:
        host = self._host(path, follow_last=False)
        if host is None:
            return None
        try:
            return os.readlink(host)
        except OSError:
            return None


class FileTarget(Target):
    """A single configuration dump (a Cisco running-config, an nginx.conf, an sshd_config)."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        super().__init__()
        if not path.is_file():
            raise UsageError(f"{path} is not a readable file", hint="file:PATH takes one config file")
        self.path = path
        self.label = f"file:{path}"

    def dump(self) -> str:
        """The dump's text (probes on file targets read only this)."""
        return self.memo("dump", self._read)

    def _read(self) -> str:
        try:
            with self.path.open("rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            raise ProbeError(f"{self.path}: cannot read: {e.strerror}") from e
        if len(raw) > MAX_FILE_BYTES:
            raise ProbeError(f"{self.path} is over the {MAX_FILE_BYTES} byte limit")
        return _decode(raw, str(self.path))

    def read_text(self, path: str) -> str | None:
        return None

    def info(self, path: str, *, follow: bool = True) -> FileInfo | None:
        return None

    def listdir(self, path: str) -> list[str] | None:
        return None

    def readlink(self, path: str) -> str | None:
        return None


def open_target(spec: str, *, base: Path | None = None) -> Target:
    """Build a target from ``offline:DIR`` or ``file:PATH`` (relative paths against ``base``)."""
    kind, sep, rest = spec.partition(":")
    if kind in {"offline", "file"} and sep and rest:
        path = Path(rest)
        if not path.is_absolute() and base is not None:
            path = base / path
        return OfflineTarget(path) if kind == "offline" else FileTarget(path)
    if spec == "local" or spec.startswith("ssh://"):
        raise UsageError(
            f"target {spec!r} is not supported yet: this version checks offline roots and single files",
            hint="collect a snapshot and use offline:DIR, or file:PATH for one config dump",
        )
    raise UsageError(
        f"unknown target {spec!r}",
        hint="use offline:DIR (a root filesystem or snapshot) or file:PATH (one config file)",
    )
