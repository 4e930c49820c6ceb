"""The report-writer registry: each output format registers itself in the module that writes it.

A writer is a pure ``render(report, stream)`` (``render(report, stream, lang=...)`` when it is
``localized``) decorated with :func:`report_writer`, in a module of ``secaudit.report`` or of an
installed plugin (entry-point group ``secaudit.report_writers``). The CLI's ``--format`` choices, the
profile's ``report.formats`` validation, ``audit`` and ``report`` (rebuild) all read the registry
(``secaudit.core.registry.REPORT_WRITERS``); see docs/extending.md.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, TypeVar

from secaudit.core.registry import REPORT_WRITERS
from secaudit.core.report import Report

__all__ = ["REPORT_WRITERS", "ReportWriter", "get_writer", "report_writer", "writer_names"]

R = TypeVar("R", bound=Callable[..., None])


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportWriter:
    """One format: its file name in a run folder, whether it writes bytes, whether it has a language."""

    name: str
    file_name: str
    render: Callable[..., None]
    binary: bool = False
    localized: bool = False
    doc: str = ""

    def file_for(self, lang: str | None = None) -> str:
        """``report.html``, or ``report.th.html`` for an extra language of a localized format."""
        if lang is None:
            return self.file_name
        path = PurePath(self.file_name)
        return f"{path.stem}.{lang}{path.suffix}"

    def bound(self, lang: str) -> Callable[[Report, Any], None]:
        """``render`` with the language fixed (for localized formats)."""
        if not self.localized:
            return self.render

        def render(report: Report, stream: Any) -> None:
            self.render(report, stream, lang=lang)

        return render


def report_writer(
    name: str, *, file_name: str, binary: bool = False, localized: bool = False
) -> Callable[[R], R]:
    """Register the decorated ``render`` as report format ``name``, written to ``file_name``."""

    def register(render: R) -> R:
        doc = (render.__doc__ or "").strip().splitlines()
        REPORT_WRITERS.register(
            name,
            ReportWriter(
                name=name,
                file_name=file_name,
                render=render,
                binary=binary,
                localized=localized,
                doc=doc[0] if doc else "",
            ),
        )
        return render

    return register


def writer_names() -> tuple[str, ...]:
    return REPORT_WRITERS.names()


def get_writer(name: str) -> ReportWriter:
    spec: ReportWriter = REPORT_WRITERS.get(name)
    return spec


def _import_builtin() -> None:
    """Import every module of this package: the ones that define a format register it."""
    for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        importlib.import_module(f"secaudit.report.{module.name}")


REPORT_WRITERS.on_first_use(_import_builtin)
