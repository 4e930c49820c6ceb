"""The log-format registry: each format registers itself, with its sniffers, in the module that parses it.

A line- or record-based format is one module of ``secaudit.logs`` (or of an installed plugin, entry-point
group ``secaudit.log_formats``) with a parser decorated by :func:`log_format` and, so that files are
recognised by content, one or more functions decorated by :func:`sniffer`. Nothing else names it: the CLI's
``--input-format`` choices, the profile's ``log_sources[].format`` validation, sniffing and shard planning
all read the registry (``secaudit.core.registry.LOG_FORMATS``). The modules of this package are imported
on first use of the registry; see docs/extending.md.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from secaudit.core.registry import LOG_FORMATS
from secaudit.logs.context import Parser

#: When a sniffer runs: ``binary`` on the raw head before text is required (container formats with a
#: magic number); ``document`` on the first non-empty line and the head; ``line`` on each of the first
#: lines in turn (the first line any ``line`` sniffer claims decides); ``fallback`` when nothing else did.
Stage = Literal["binary", "document", "line", "fallback"]
STAGES: tuple[Stage, ...] = ("binary", "document", "line", "fallback")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """What sniffers see: the head of a file (up to 64 KiB) and its first non-empty lines (a BOM removed)."""

    head: bytes
    lines: tuple[bytes, ...]
    binary: bool


#: A sniffer gets the sample (and, at the ``line`` stage, one line) and returns a format name or None.
SniffFn = Callable[[Sample, bytes], str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sniffer:
    stage: Stage
    rank: int
    run: SniffFn
    module: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LogFormat:
    """One format: how its records are cut (lines, or pretty-printed objects), its parser, and where a
    plain file of it may be split for parallel reading (None: read whole)."""

    name: str
    parser: Parser | None
    records: Literal["lines", "objects", "container"] = "lines"
    split_after: bytes | None = None
    doc: str = ""


SNIFFERS: list[Sniffer] = []

__all__ = ["LOG_FORMATS", "LogFormat", "Sample", "Sniffer", "format_names", "log_format", "sniffer"]


def log_format(
    name: str,
    *,
    records: Literal["lines", "objects"] = "lines",
    split_after: bytes | None = None,
) -> Callable[[Parser], Parser]:
    """Register the decorated parser as format ``name``; its docstring's first line describes it.

    ``split_after``: the bytes a cut between shards must follow (``b"\\n"`` for one record a line); leave
    it None when a record may span lines (auditd, CSV with quoted line breaks).
    """

    def register(parser: Parser) -> Parser:
        doc = (parser.__doc__ or "").strip().splitlines()
        LOG_FORMATS.register(
            name,
            LogFormat(
                name=name, parser=parser, records=records, split_after=split_after, doc=doc[0] if doc else ""
            ),
        )
        return parser

    return register


def container_format(name: str, *, doc: str) -> None:
    """Register a binary container format read by its own reader in ``secaudit.logs.reader`` (EVTX)."""
    LOG_FORMATS.register(name, LogFormat(name=name, parser=None, records="container", doc=doc))


def sniffer(stage: Stage, *, rank: int = 50) -> Callable[[SniffFn], SniffFn]:
    """Register the decorated function as a content sniffer; lower ``rank`` runs first within a stage."""

    def register(fn: SniffFn) -> SniffFn:
        SNIFFERS.append(Sniffer(stage=stage, rank=rank, run=fn, module=fn.__module__))
        return fn

    return register


def sniffers(stage: Stage) -> list[Sniffer]:
    LOG_FORMATS.ensure_loaded()
    return sorted((s for s in SNIFFERS if s.stage == stage), key=lambda s: (s.rank, s.module, s.run.__name__))


def format_names() -> tuple[str, ...]:
    """Every registered format, built-in ones first (in module order), then plugins'."""
    return LOG_FORMATS.names()


def get_format(name: str) -> LogFormat:
    spec: LogFormat = LOG_FORMATS.get(name)
    return spec


def _import_builtin() -> None:
    """Import every module of this package: the ones that define a format register it."""
    for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        importlib.import_module(f"secaudit.logs.{module.name}")


LOG_FORMATS.on_first_use(_import_builtin)
