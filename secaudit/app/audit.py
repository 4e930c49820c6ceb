"""The audit use case: every stage that exists, one run in history, one ranked report.

Order matters for safety: the profile is validated and the output folder proven writable
before anything is recorded; history is written in transactions (begin, then complete in
one go); report files are renamed into place. A killed or interrupted run leaves history
consistent and every earlier report untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from secaudit import __version__
from secaudit.app import stages as stages_module
from secaudit.app.locations import history_location, history_scope, new_run_id
from secaudit.app.lock import audit_lock
from secaudit.app.reporting import (
    build_report,
    ensure_writable,
    not_world_writable,
    rules_that_ran,
    with_thai_era,
    write_reports,
)
from secaudit.app.scan import record_scan_inventory, scan_begun
from secaudit.app.stages import Stage, StageContext
from secaudit.app.vuln import stored_kev
from secaudit.catalog.kev import load_kev
from secaudit.catalog.profile import load_profile
from secaudit.core.errors import SecauditError, UsageError
from secaudit.core.model import Finding, Run, RunStatus, Severity, StageOutput, StageResult, WaivedFinding
from secaudit.core.profile import Profile
from secaudit.core.report import ProgressCallback, Report, no_progress
from secaudit.history.store import HistoryStore
from secaudit.risk.model import describe_model

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditOptions:
    profile_path: Path
    output_dir: Path | None = None  # default: the profile's report.output_dir
    history_path: Path | None = None  # default: profile 'history', else <output_dir>/history.sqlite
    stages: tuple[str, ...] = ()  # empty: every stage that applies
    lang: str | None = None
    formats: tuple[str, ...] = ()
    thai_era: str | None = None  # default: the profile's report.thai_era


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditResult:
    run: Run
    report: Report
    run_dir: Path
    files: dict[str, Path] = field(default_factory=dict)

    def worst(self) -> Severity | None:
        return max((row.finding.severity for row in self.report.rows), default=None)


def select_stages(
    profile: Profile, wanted: Sequence[str], registry: Sequence[Stage] | None = None
) -> list[Stage]:
    registry = stages_module.STAGES if registry is None else registry
    known = {s.name for s in registry}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise UsageError(
            f"unknown stage {', '.join(unknown)}",
            hint=f"stages: {', '.join(sorted(known)) or '(none installed)'}",
        )
    return [s for s in registry if (not wanted or s.name in wanted) and s.applies(profile)]


def _run_stage(stage: Stage, ctx: StageContext) -> StageOutput:
    """Run one stage; its failure is recorded, not raised, so the other stages still run."""
    started = time.monotonic()
    try:
        return stage.run(ctx)
    except SecauditError as e:
        message = str(e)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:  # a bug in one stage must not lose the others' results
        message = f"internal error in stage {stage.name}: {type(e).__name__}: {e}"
    return StageOutput(
        findings=(),
        result=StageResult(
            name=stage.name,
            status=RunStatus.FAILED,
            errors=(message,),
            seconds=time.monotonic() - started,
        ),
    )


def _rules_with_input(outputs: Sequence[StageOutput]) -> frozenset[str] | None:
    """The detection rules some event of their log source reached, over every hunting stage; None
    when no stage hunted."""
    fed = [out.rules_with_input for out in outputs if out.rules_with_input is not None]
    return frozenset().union(*fed) if fed else None


def _distinct(outputs: Sequence[StageOutput]) -> tuple[list[Finding], tuple[StageResult, ...]]:
    """The stages' findings, one per fingerprint (the first wins), and their results with each
    stage's count made a count of the distinct findings it added.

    Two baselines that share a check (debian12-server and openssh-server both test sshd) find the
    same thing on the same asset: one finding, counted once in the stage table, the summary, the
    trend and history alike.
    """
    seen: set[str] = set()
    findings: list[Finding] = []
    results = []
    for out in outputs:
        repeated = 0
        for finding in out.findings:
            if finding.fingerprint in seen:
                repeated += 1
            else:
                seen.add(finding.fingerprint)
                findings.append(finding)
        result = out.result
        if repeated:
            result = replace(result, findings=max(0, result.findings - repeated))
        results.append(result)
    return findings, tuple(results)


def run_audit(
    options: AuditOptions,
    *,
    progress: ProgressCallback = no_progress,
    clock: Clock = utc_now,
    registry: Sequence[Stage] | None = None,
) -> AuditResult:
    """Run every applicable stage of the profile, record the run, and write its reports."""
    started = clock()
    profile = load_profile(options.profile_path, now=started)
    # before anything is recorded: a broken catalogue is a configuration error
    kev = load_kev(Path(profile.kev_path) if profile.kev_path else None) or stored_kev(profile)
    stages = select_stages(profile, options.stages, registry)
    for stage in stages:
        stage.preflight(profile)
    output_dir = options.output_dir or Path(profile.report.output_dir)
    run_id = new_run_id(started, output_dir)
    run_dir = output_dir / run_id
    ensure_writable(run_dir)
    not_world_writable(run_dir)
    history_path = history_location(profile, output_dir, options.history_path)
    scope = history_scope(profile)
    run = Run(
        id=run_id,
        profile_path=str(Path(profile.path).resolve()),
        organisation=profile.organisation,
        started_at=started,
        tool_version=__version__,
        risk_model=describe_model(kev),
        authorization_ref=profile.authorization.reference,
    )
    with (
        audit_lock(history_path.with_name(history_path.name + ".lock"), run_id=run_id),
        HistoryStore.open(history_path) as store,
    ):
        store.abandon_stale_runs(scope)
        store.begin_run(run, scope)
        # Ctrl-C or SIGTERM (raised as KeyboardInterrupt by the CLI) anywhere before the run is
        # recorded, the history write included, marks it interrupted: never left 'running'.
        try:
            outputs = [
                _run_stage(
                    stage,
                    StageContext(
                        profile=profile,
                        run_dir=run_dir,
                        now=started,
                        progress=progress,
                        history=history_path,
                        run_id=run_id,
                    ),
                )
                for stage in stages
            ]
            findings, results = _distinct(outputs)
            waived: list[WaivedFinding] = [w for out in outputs for w in out.waived]
            checked = tuple(c for out in outputs for c in out.checked)
            tallies = tuple(t for out in outputs for t in out.tallies)
            complete_sources = {
                s.source
                for s, out in zip(stages, outputs, strict=True)
                if out.result.status is RunStatus.COMPLETED
            }
            if all(r.status is RunStatus.COMPLETED for r in results):
                status = RunStatus.COMPLETED
            elif findings or any(r.status is RunStatus.COMPLETED for r in results):
                status = RunStatus.INCOMPLETE
            else:
                status = RunStatus.FAILED
            run = replace(run, status=status, finished_at=clock(), stages=results)
            for stage, out in zip(stages, outputs, strict=True):
                if stage.name != "scan":
                    continue
                # The scan's hosts went into history as nmap finished them (begun); a failed
                # scan that recorded none is not recorded.
                begun = scan_begun(store, run_id)
                if begun or out.result.status is not RunStatus.FAILED:
                    # What the scan saw joins the profile's inventory, so `secaudit scan diff`
                    # covers audits too.
                    record_scan_inventory(
                        store,
                        profile,
                        scan_id=run_id,
                        started_at=started,
                        output=out,
                        coverage=[str(net) for seg in profile.segments for net in seg.cidrs],
                        begun=begun,
                    )
            previous = store.previous_completed_run(scope, run)
            diff = store.complete_run(run, scope, findings, complete_sources=complete_sources, waived=waived)
            dates = store.finding_dates(scope, [f.fingerprint for f in findings])
            # Computed once, here, and stored with the run: `secaudit report --run` reads these figures
            # back rather than working them out again, so a rebuilt report is this report.
            report = build_report(
                run=run,
                profile=profile,
                findings=findings,
                new=set(diff.new),
                dates=dates,
                fixed=diff.fixed,
                previous_run_id=previous.id if previous else "",
                generated_at=run.finished_at or started,
                waived=waived,
                kev=kev,
                checked=checked,
                tallies=tallies,
                ran=rules_that_ran(run, profile, fed=_rules_with_input(outputs)),
            )
            store.record_report(report)
        except KeyboardInterrupt:
            store.mark_interrupted(run_id)
            raise
    formats = options.formats or profile.report.formats
    if options.thai_era:
        report = with_thai_era(report, options.thai_era)
    files = write_reports(
        report,
        run_dir,
        formats=formats,
        lang=options.lang or profile.report.language,
        extra_languages=profile.report.languages,
    )
    return AuditResult(run=run, report=report, run_dir=run_dir, files=files)
