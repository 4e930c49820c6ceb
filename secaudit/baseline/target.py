"""Where checks read from: ``offline:DIR`` (a root filesystem or snapshot), ``file:PATH`` (one
config dump), ``local`` (the running host) and ``ssh://user@host[:port]`` (see
:mod:`secaudit.baseline.remote`).

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
import shutil
import stat as statmod
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from secaudit.core.errors import UsageError

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_SYMLINKS = 40
MAX_OUTPUT_BYTES = 4 * 1024 * 1024
COMMAND_TIMEOUT = 30.0
# Live commands run with a fixed, minimal environment: no PATH or locale from whoever runs the audit.
COMMAND_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
COMMAND_ENV = {"PATH": COMMAND_PATH, "LC_ALL": "C", "LANG": "C"}
_T = TypeVar("_T")


class ProbeError(Exception):
    """A probe could not read what it needed: the check becomes ERROR with this reason."""


class NotApplicable(Exception):
    """The check cannot be decided on this target: the check becomes NOT APPLICABLE."""


class CommandNotFound(ProbeError):
    """The program a live probe wants to run is not installed on the target."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a command printed; output is decoded as UTF-8 (errors replaced) and capped."""

    argv: tuple[str, ...]
    status: int
    stdout: str
    stderr: str

    @property
    def shown(self) -> str:
        return " ".join(self.argv)


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
        self._notices: list[str] = []

    def note(self, message: str) -> None:
        """Something about the whole target a reader must see once (e.g. a config fragment)."""
        if message not in self._notices:
            self._notices.append(message)

    @property
    def notices(self) -> tuple[str, ...]:
        return tuple(self._notices)

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

    def read_text(self, path: str) -> str | None:
        """The file's text, or None when it does not exist; ProbeError when it cannot be read
        (binary, over :data:`MAX_FILE_BYTES`, not a regular file, permission denied)."""
        return self.memo(("read", path), lambda: self._text(path))

    def _text(self, path: str) -> str | None:
        raw = self.read_bytes(path)
        return None if raw is None else _decode(raw, path)

    @abstractmethod
    def read_bytes(self, path: str) -> bytes | None:
        """The file's bytes (at most :data:`MAX_FILE_BYTES`), or None when it does not exist."""

    @abstractmethod
    def info(self, path: str, *, follow: bool = True) -> FileInfo | None:
        """Mode, owner and kind of ``path`` (following a final symlink unless ``follow`` is false)."""

    @abstractmethod
    def listdir(self, path: str) -> list[str] | None:
        """Sorted names in a directory, or None when it does not exist."""

    @abstractmethod
    def readlink(self, path: str) -> str | None:
        """The text of a symlink, or None when ``path`` is not one."""

    def scan(self, path: str) -> list[FileInfo] | None:
        """Every entry of a directory with its own (not followed) mode and owner, sorted by name;
        None when ``path`` is not a directory. Targets override this with one call per folder."""
        names = self.listdir(path)
        if names is None:
            return None
        infos = (self.info(posixpath.join(path, n), follow=False) for n in names)
        return [i for i in infos if i is not None]

    def run(self, argv: Sequence[str], *, timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        """Run a program with a fixed argument list (never through a shell) on a live target."""
        raise NotApplicable(
            f"running '{' '.join(argv)}' needs a live target (local or ssh); this is a {self.kind} target"
        )

    def close(self) -> None:  # noqa: B027 - most targets hold nothing to release
        """Release connections (ssh); nothing to do for files."""

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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


def file_info(path: str, mode: int, uid: int, gid: int, size: int) -> FileInfo:
    if statmod.S_ISREG(mode):
        kind = "file"
    elif statmod.S_ISDIR(mode):
        kind = "dir"
    elif statmod.S_ISLNK(mode):
        kind = "link"
    else:
        kind = "other"
    return FileInfo(path, statmod.S_IMODE(mode), uid, gid, kind, size)


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

    def read_bytes(self, path: str) -> bytes | None:
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
        return b"".join(chunks)

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
        return file_info(path, st.st_mode, st.st_uid, st.st_gid, st.st_size)

    def _opendir(self, path: str) -> int | None:
        host = self._host(path)
        if host is None:
            return None
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            try:
                return os.open(host, flags | getattr(os, "O_NOATIME", 0))
            except PermissionError:
                return os.open(host, flags)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            if e.errno == errno.ELOOP:
                return None  # a symlink where the folder should be: not a folder
            raise ProbeError(f"{path}: cannot list: {e.strerror}") from e

    def listdir(self, path: str) -> list[str] | None:
        fd = self._opendir(path)
        if fd is None:
            return None
        try:
            return sorted(os.listdir(fd))
        except OSError as e:
            raise ProbeError(f"{path}: cannot list: {e.strerror}") from e
        finally:
            os.close(fd)

    def scan(self, path: str) -> list[FileInfo] | None:
        # lstat relative to the opened folder: no path is resolved twice, nothing is followed
        fd = self._opendir(path)
        if fd is None:
            return None
        out = []
        try:
            for name in sorted(os.listdir(fd)):
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                out.append(
                    file_info(posixpath.join(path, name), st.st_mode, st.st_uid, st.st_gid, st.st_size)
                )
        except OSError as e:
            raise ProbeError(f"{path}: cannot list: {e.strerror}") from e
        finally:
            os.close(fd)
        return out

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

    def read_bytes(self, path: str) -> bytes | None:
        return None

    def info(self, path: str, *, follow: bool = True) -> FileInfo | None:
        return None

    def listdir(self, path: str) -> list[str] | None:
        return None

    def readlink(self, path: str) -> str | None:
        return None


class LocalTarget(OfflineTarget):
    """The running host: files are read exactly as from an offline root at ``/`` (read-only,
    ``O_NOFOLLOW``, capped), plus live commands run with a fixed argv, no shell, a minimal
    environment and a timeout."""

    kind = "local"

    def __init__(self) -> None:
        super().__init__(Path("/"))
        self.label = "local"

    def run(self, argv: Sequence[str], *, timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        args = _argv(argv)
        program = args[0] if "/" in args[0] else shutil.which(args[0], path=COMMAND_PATH)
        if program is None or not os.access(program, os.X_OK):
            raise CommandNotFound(f"{args[0]} is not installed on this host")
        try:
            proc = subprocess.run(
                [program, *args[1:]],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                env=COMMAND_ENV,
                timeout=timeout,
                check=False,
                shell=False,
            )
        except subprocess.TimeoutExpired as e:
            raise ProbeError(f"'{' '.join(args)}' did not finish within {timeout:g} s") from e
        except OSError as e:
            raise ProbeError(f"'{' '.join(args)}' could not be started: {e.strerror}") from e
        return CommandResult(
            argv=args,
            status=proc.returncode,
            stdout=_output(proc.stdout),
            stderr=_output(proc.stderr),
        )


def _argv(argv: Sequence[str]) -> tuple[str, ...]:
    args = tuple(argv)
    if not args or not all(isinstance(a, str) and a and "\x00" not in a for a in args):
        raise ProbeError(f"a command must be a non-empty list of words, got {list(argv)!r}")
    return args


def _output(raw: bytes) -> str:
    return raw[:MAX_OUTPUT_BYTES].decode("utf-8", errors="replace")


def open_target(
    spec: str,
    *,
    base: Path | None = None,
    scope: Callable[[str], None] | None = None,
) -> Target:
    """Build a target from ``offline:DIR``, ``file:PATH``, ``local`` or ``ssh://user@host[:port]``.

    Relative paths (including an ssh target's ``key=``/``known_hosts=`` options) are taken against
    ``base``. ``scope`` is called with every address an ssh target is about to connect to and
    raises :class:`~secaudit.core.errors.ScopeError` to refuse it (the profile's scope guard).
    """
    kind, sep, rest = spec.partition(":")
    if kind in {"offline", "file"} and sep and rest:
        path = Path(rest)
        if not path.is_absolute() and base is not None:
            path = base / path
        return OfflineTarget(path) if kind == "offline" else FileTarget(path)
    if spec == "local":
        return LocalTarget()
    if spec.startswith("ssh://"):
        # paramiko (and the cryptography it loads) only when an ssh target is really used
        from secaudit.baseline.remote import open_ssh  # noqa: PLC0415

        return open_ssh(spec, base=base, scope=scope)
    raise UsageError(
        f"unknown target {spec!r}",
        hint="use offline:DIR (a root filesystem or snapshot), file:PATH (one config file), local "
        "(this host) or ssh://user@host[:port]",
    )
