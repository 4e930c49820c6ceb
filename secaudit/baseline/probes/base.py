"""The probe registry: each probe is a typed function with declared parameters and targets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from secaudit.baseline.model import Observation
from secaudit.baseline.target import FileTarget, NotApplicable, Target

ProbeFn = Callable[[Target, Mapping[str, Any]], list[Observation]]

# Target kinds with a file tree: an offline root, the running host, a host over ssh.
TREES = ("offline", "local", "ssh")
# ... and those plus a single config dump.
CONFIGS = ("offline", "file", "local", "ssh")
# Live systems only: commands, processes, the running kernel.
LIVE = ("local", "ssh")


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    name: str
    type: type | tuple[type, ...]
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeSpec:
    name: str
    params: tuple[Param, ...]
    targets: tuple[str, ...]
    run: ProbeFn
    doc: str

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


REGISTRY: dict[str, ProbeSpec] = {}


def probe(name: str, *, targets: tuple[str, ...], params: tuple[Param, ...]) -> Callable[[ProbeFn], ProbeFn]:
    """Register ``fn`` as probe ``name``; its docstring is the user documentation."""

    def register(fn: ProbeFn) -> ProbeFn:
        REGISTRY[name] = ProbeSpec(name=name, params=params, targets=targets, run=fn, doc=fn.__doc__ or "")
        return fn

    return register


def config_text(target: Target, path: str, *, what: str) -> tuple[str, str]:
    """(label, text) of a config file: the dump on a file target, ``path`` inside an offline root.

    A missing file means the product is not there: the check is not applicable.
    """
    if isinstance(target, FileTarget):
        return str(target.path), target.dump()
    text = target.read_text(path)
    if text is None:
        raise NotApplicable(f"no {path} in the target ({what} not installed or not collected)")
    return path, text


def logical_lines(text: str, comment: str = "#") -> list[tuple[int, str]]:
    """Non-empty, non-comment lines with their 1-based numbers, stripped."""
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not (comment and line.startswith(comment)):
            out.append((number, line))
    return out


def uid_names(target: Target) -> dict[int, str]:
    """uid -> name from the target's own /etc/passwd (never the host's)."""

    def build() -> dict[int, str]:
        names: dict[int, str] = {}
        for _, line in logical_lines(target.read_text("/etc/passwd") or ""):
            f = line.split(":")
            if len(f) >= 3 and f[2].isdigit():
                names.setdefault(int(f[2]), f[0])
        names.setdefault(0, "root")  # uid 0 is root everywhere, even without a passwd file
        return names

    return target.memo("uid_names", build)


def gid_names(target: Target) -> dict[int, str]:
    def build() -> dict[int, str]:
        names: dict[int, str] = {}
        for _, line in logical_lines(target.read_text("/etc/group") or ""):
            f = line.split(":")
            if len(f) >= 3 and f[2].isdigit():
                names.setdefault(int(f[2]), f[0])
        names.setdefault(0, "root")
        return names

    return target.memo("gid_names", build)


def owner_attrs(target: Target, uid: int, gid: int) -> tuple[tuple[str, str], ...]:
    return (
        ("owner", uid_names(target).get(uid, str(uid))),
        ("group", gid_names(target).get(gid, str(gid))),
        ("uid", str(uid)),
        ("gid", str(gid)),
    )
