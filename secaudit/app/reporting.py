"""Build the immutable Report of a run and write its files atomically into the run folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from secaudit.app import stages as stages_module
from secaudit.app.locations import default_rules_dir
from secaudit.catalog.compliance import Framework, load_frameworks
from secaudit.catalog.kev import Kev
from secaudit.core.errors import OperationalError
from secaudit.core.model import (
    BaselineTally,
    CheckedItem,
    CheckOutcome,
    Finding,
    Reference,
    Run,
    RunStatus,
    Source,
    Status,
    WaivedFinding,
    WaiverKind,
)
from secaudit.core.profile import Profile
from secaudit.core.report import Report, Trend
from secaudit.detect.documents import rule_compliance
from secaudit.report.writers import get_writer
from secaudit.risk.aggregate import posture_score, ranked_rows
from secaudit.risk.compliance import Outcome, Result, coverage
from secaudit.risk.model import RiskContext, detections_by_asset, with_kev
from secaudit.scan.rules import load_rules

Writer = Callable[[Report, Any], None]  # writes to a text stream, or to a binary one for binary formats


RanRules = Mapping[str, tuple[tuple[Reference, ...], Outcome]]  # rule id -> (its references, outcome)


def rules_that_ran(
    run: Run, profile: Profile, *, fed: frozenset[str] | None = None
) -> dict[str, tuple[tuple[Reference, ...], Outcome]]:
    """The exposure rules and own Sigma rules that ran to completion in ``run``, with the controls
    each cites and what running without a finding means for them: passed, or not applicable for an
    exposure rule limited to segment kinds the profile does not have (an OT-only rule in a city
    profile without an OT segment looked at nothing).

    Exposure rules count when the scan stage completed, Sigma rules (the profile's, else our own)
    when a detection stage completed: passed when some event of their log source reached them
    (``fed``, from the hunt), not applicable when none did (they looked at nothing). Baseline
    checks are not here: each one that ran left a finding or a passed / not-applicable result of
    its own. Content that no longer loads counts as not run.
    """
    sources = {stage.name: stage.source for stage in stages_module.STAGES}
    done = {sources.get(s.name) for s in run.stages if s.status is RunStatus.COMPLETED}
    ran: dict[str, tuple[tuple[Reference, ...], Outcome]] = {}
    if Source.SCAN in done:
        kinds = {segment.kind for segment in profile.segments}
        for rule in load_rules()[0]:
            wanted = kinds & set(rule.match.segment_kinds) if rule.match.segment_kinds else kinds
            applies = bool(wanted - set(rule.match.not_segment_kinds))
            ran[rule.id] = (rule.references, Outcome.PASSED if applies else Outcome.NOT_APPLICABLE)
    if Source.DETECTION in done:
        paths = [Path(p) for p in profile.detection.rules] or [default_rules_dir()]
        # a rule folder that is gone: its rules count as not run
        ran |= {
            rule_id: (refs, Outcome.PASSED if fed is None or rule_id in fed else Outcome.NOT_APPLICABLE)
            for rule_id, refs in rule_compliance(paths).items()
        }
    return ran


def coverage_results(
    findings: Iterable[Finding],
    waived: Iterable[WaivedFinding],
    checked: Iterable[CheckedItem],
    ran: RanRules,
) -> list[Result]:
    """Every result of the run as control coverage counts it: open findings and accepted risks
    failed; waived findings and checks that did not apply not applicable; passed checks passed;
    rules that ran without a finding as :func:`rules_that_ran` says."""
    results: list[Result] = [(f.rule_id, f.references, Outcome.FAILED) for f in findings]
    results += [
        (
            w.finding.rule_id,
            w.finding.references,
            Outcome.FAILED if w.kind is WaiverKind.ACCEPTED else Outcome.NOT_APPLICABLE,
        )
        for w in waived
    ]
    results += [
        (
            c.finding.rule_id,
            c.finding.references,
            Outcome.PASSED if c.outcome is CheckOutcome.PASSED else Outcome.NOT_APPLICABLE,
        )
        for c in checked
    ]
    results += [(rule_id, refs, outcome) for rule_id, (refs, outcome) in ran.items()]
    return results


def distinct_findings(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per fingerprint, the first of each, in the order given (history stores the same)."""
    first: dict[str, Finding] = {}
    for finding in findings:
        first.setdefault(finding.fingerprint, finding)
    return list(first.values())


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
    waived: Sequence[WaivedFinding] = (),
    frameworks: Sequence[Framework] | None = None,
    ran: RanRules | None = None,
    kev: Kev | None = None,
    checked: Sequence[CheckedItem] = (),
    tallies: Sequence[BaselineTally] = (),
) -> Report:
    """Score, aggregate and rank the findings (risk model, with the KEV catalogue when given),
    attach each row's history, and add the waived findings, control coverage and posture score.
    ``ran`` are the rules that ran, with their references (default: :func:`rules_that_ran`)."""
    findings = distinct_findings(findings)
    ctx = with_kev(RiskContext(profile=profile, attacked=detections_by_asset(findings)), kev)

    def history(fp: str) -> tuple[Status, datetime, datetime]:
        first, last = dates.get(fp, (run.started_at, run.started_at))
        return (Status.NEW if fp in new else Status.PERSISTING), first, last

    rows = ranked_rows(findings, ctx, history)
    if frameworks is None:
        frameworks = load_frameworks()[0]
    if ran is None:
        ran = rules_that_ran(run, profile)
    instances = [fp for row in rows for fp in row.fingerprints]
    trend = Trend(
        previous_run_id=previous_run_id,
        new=sum(1 for fp in instances if fp in new),
        persisting=sum(1 for fp in instances if fp not in new),
        fixed=len(fixed),
    )
    return Report(
        run=run,
        profile=profile,
        rows=tuple(rows),
        fixed=tuple(fixed),
        waived=tuple(waived),
        trend=trend,
        compliance=coverage(frameworks, coverage_results(findings, waived, checked, ran)),
        posture_score=posture_score(rows),
        generated_at=generated_at,
        checked=tuple(checked),
        tallies=tuple(tallies),
    )


def with_thai_era(report: Report, era: str) -> Report:
    """``report`` with the Thai report's year numbering set to ``era`` (a CLI override)."""
    settings = replace(report.profile.report, thai_era=era)
    return replace(report, profile=replace(report.profile, report=settings))


def writer_for(fmt: str, lang: str) -> Writer:
    """The writer of one registered format (a localized one, such as ``html``, in ``lang``)."""
    return get_writer(fmt).bound(lang)


def is_binary(fmt: str) -> bool:
    return get_writer(fmt).binary


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


def process_umask() -> int:
    """The process umask (read by setting it and putting it back: there is no other portable way)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a plain ``open()`` gives a new file: 0o666 less the umask (0o644 under umask 022),
    as the evidence and history files beside the reports get; never writable by others."""
    return 0o666 & ~process_umask() & 0o7775


def not_world_writable(path: Path) -> None:
    """Take write permission for others off ``path`` when it has it (a umask of 0 gives it)."""
    try:
        mode = path.stat().st_mode
        if mode & 0o002:
            path.chmod(mode & 0o7775)
    except OSError as e:
        raise OperationalError(
            f"cannot restrict the permissions of {path.name}: {e.strerror}",
            location=str(path),
            hint="check who owns the report folder",
        ) from e


def write_file(report: Report, target: Path, writer: Writer, *, binary: bool = False) -> Path:
    """Write one report file through a temporary file in the same folder, then rename it into place.

    The file gets the mode ``open()`` would give it (:func:`file_mode`), not a temporary file's
    private 0o600, so the auditor's account or a web server can read what a root job wrote.
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            writer(report, stream)
            stream.flush()
            os.fsync(stream.fileno())
        Path(tmp).replace(target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OperationalError(
            f"cannot write {target.name}: {e.strerror}",
            location=str(target),
            hint="check free space and permissions of the report folder",
        ) from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_reports(
    report: Report,
    folder: Path,
    *,
    formats: Sequence[str],
    lang: str,
    extra_languages: Sequence[str] = (),
) -> dict[str, Path]:
    """Write each format to a temporary file, then rename: a killed run never leaves half a report.

    Files: report.html (in ``lang``), findings.json, findings.sarif, junit.xml, findings.csv,
    summary.md, report.pdf; with ``html`` (``pdf``) also report.<xx>.html (report.<xx>.pdf) for
    each of ``extra_languages`` other than ``lang``. The result maps ``html``, ``html.<xx>``,
    ``json``, ``pdf.<xx>``... to the written paths.
    """
    ensure_writable(folder)
    specs = [get_writer(fmt) for fmt in formats]  # an unknown format fails before any file is written
    written: dict[str, Path] = {}
    # binary formats (the PDF) last: it needs a browser, and a missing one must not cost the other files
    for spec in sorted(specs, key=lambda s: s.binary):
        written[spec.name] = write_file(report, folder / spec.file_name, spec.bound(lang), binary=spec.binary)
        if spec.localized:
            for extra in dict.fromkeys(extra_languages):
                if extra != lang:
                    written[f"{spec.name}.{extra}"] = write_file(
                        report, folder / spec.file_for(extra), spec.bound(extra), binary=spec.binary
                    )
    return written
