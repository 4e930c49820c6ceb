"""Build the immutable Report of a run and write its files atomically into the run folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from secaudit.core.errors import OperationalError
from secaudit.core.model import Finding, Run, Status
from secaudit.core.profile import Profile
from secaudit.core.report import Report, ReportRow, Trend
from secaudit.report.html import render_html
from secaudit.report.json_writer import render_json
from secaudit.risk.rank import rank

Writer = Callable[[Report, TextIO], None]


def build_report(
    *,
    run: Run,
    profile: Profile,
    findings: Iterable[Finding],
    new: set[str],
    dates: dict[str, tuple[datetime, datetime]],
    fixed: Sequence[Finding],
    previous_run_id: str,
    generated_at: datetime,
) -> Report:
    """Rank the findings and attach each one's history (status, first and last seen)."""
    rows = []
    for position, finding in enumerate(rank(findings), start=1):
        fp = finding.fingerprint
        first, last = dates.get(fp, (run.started_at, run.started_at))
        rows.append(
            ReportRow(
                rank=position,
                finding=finding,
                status=Status.NEW if fp in new else Status.PERSISTING,
                first_seen=first,
                last_seen=last,
            )
        )
    trend = Trend(
        previous_run_id=previous_run_id,
        new=sum(1 for r in rows if r.status is Status.NEW),
        persisting=sum(1 for r in rows if r.status is Status.PERSISTING),
        fixed=len(fixed),
    )
    return Report(
        run=run,
        profile=profile,
        rows=tuple(rows),
        fixed=tuple(fixed),
        trend=trend,
        generated_at=generated_at,
    )


def _writers(lang: str) -> dict[str, tuple[str, Writer]]:
    def html(report: Report, stream: TextIO) -> None:
        render_html(report, stream, lang=lang)

    return {"html": ("report.html", html), "json": ("findings.json", render_json)}


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` and prove it is writable, before any work or history write is done."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-", delete=True):
            pass
    except OSError as e:
        raise OperationalError(
            f"cannot write the report folder: {e.strerror}",
            location=str(folder),
            hint="choose a writable folder with --output-dir, or fix its permissions",
        ) from e


def write_reports(report: Report, folder: Path, *, formats: Sequence[str], lang: str) -> dict[str, Path]:
    """Write each format to a temporary file, then rename: a killed run never leaves half a report."""
    ensure_writable(folder)
    writers = _writers(lang)
    written: dict[str, Path] = {}
    for fmt in formats:
        name, writer = writers[fmt]
        target = folder / name
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
                writer(report, stream)
                stream.flush()
                os.fsync(stream.fileno())
            Path(tmp).replace(target)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            raise OperationalError(f"cannot write {name}: {e.strerror}", location=str(target)) from e
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written[fmt] = target
    return written
