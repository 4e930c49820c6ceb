"""``secaudit audit``: run every stage of a profile and write the ranked report."""

from __future__ import annotations

from pathlib import Path

import click

from secaudit.app.audit import AuditOptions, AuditResult, run_audit
from secaudit.app.stages import STAGES
from secaudit.cli.common import (
    CliState,
    ExitWith,
    RegistryChoice,
    json_option,
    pass_state,
    thai_era_option,
)
from secaudit.cli.summary import print_audit_summary
from secaudit.core.errors import ExitCode
from secaudit.core.model import RunStatus, Severity
from secaudit.core.profile import LANGUAGES
from secaudit.core.serialize import stage_to_dict
from secaudit.report.summary import at_or_above, summarize
from secaudit.report.writers import REPORT_WRITERS


def exit_code_for(result: AuditResult, fail_on: Severity | None) -> ExitCode:
    """3 when the run is incomplete (results cannot be trusted whole), else 1 when a finding
    reaches ``fail_on``, else 0."""
    if result.run.status is not RunStatus.COMPLETED:
        return ExitCode.OPERATIONAL
    if fail_on is not None and at_or_above(result.report, fail_on):
        return ExitCode.FINDINGS
    return ExitCode.OK


def parse_fail_on(value: str | None) -> Severity | None:
    if value is None or value in ("", "none"):
        return None
    return Severity.parse(value)


@click.command()
@click.option(
    "--profile",
    "profile_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Audit profile (YAML).",
)
@click.option(
    "--output-dir", type=click.Path(path_type=Path, file_okay=False), help="Default: the profile's."
)
@click.option(
    "--history", "history_path", type=click.Path(path_type=Path, dir_okay=False), help="SQLite history."
)
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice([s.name for s in STAGES]) if STAGES else click.STRING,
    help="Run only this stage (repeatable).",
)
@click.option("--lang", type=click.Choice(LANGUAGES), help="Report language (default: the profile's).")
@click.option(
    "--format", "formats", multiple=True, type=RegistryChoice(REPORT_WRITERS), help="Report formats."
)
@thai_era_option
@click.option(
    "--fail-on",
    type=click.Choice([*Severity.names(), "none"]),
    help="Exit 1 when a finding reaches this severity (default: the profile's report.fail_on).",
)
@json_option
@pass_state
def audit(
    state: CliState,
    profile_path: Path,
    output_dir: Path | None,
    history_path: Path | None,
    stages: tuple[str, ...],
    lang: str | None,
    formats: tuple[str, ...],
    thai_era: str | None,
    fail_on: str | None,
) -> None:
    """Run every stage of an audit profile, record the run in history, write the report.

    Writes reports/<run-id>/report.html and findings.json (or the profile's choice), and
    tracks each finding across runs (new, persisting, fixed). A lock keeps two audits on the
    same history from overlapping.

    \b
    Exit codes: 0 ok; 1 findings at or above --fail-on; 2 bad profile or usage;
    3 a stage failed (partial results kept) or an operational error; 130 interrupted.

    \b
    Examples:
      secaudit audit --profile samples/phuket-demo.yaml
      secaudit audit --profile city.yaml --lang th --fail-on high
      secaudit --quiet audit --profile city.yaml --output-dir /var/lib/secaudit/reports
    """
    options = AuditOptions(
        profile_path=profile_path,
        output_dir=output_dir,
        history_path=history_path,
        stages=stages,
        lang=lang,
        formats=formats,
        thai_era=thai_era,
    )
    with state.progress() as progress:
        result = run_audit(options, progress=progress)
    threshold = parse_fail_on(fail_on if fail_on is not None else result.report.profile.report.fail_on)
    code = exit_code_for(result, threshold)
    if state.json:
        state.emit_json(_as_json(result, code))
    else:
        _print(state, result, threshold, lang or result.report.profile.report.language)
    if code is not ExitCode.OK:
        raise ExitWith(code)


def _as_json(result: AuditResult, code: ExitCode) -> dict[str, object]:
    report = result.report
    summary = summarize(report)
    return {
        "run_id": result.run.id,
        "status": result.run.status.value,
        "exit_code": int(code),
        "stages": [stage_to_dict(s) for s in result.run.stages],
        "findings": summary.findings,
        "rows": summary.rows,
        "by_severity": {s.label: n for s, n in summary.by_severity_findings},
        "trend": {
            "previous_run_id": report.trend.previous_run_id,
            "new": report.trend.new,
            "persisting": report.trend.persisting,
            "fixed": report.trend.fixed,
        },
        "files": {fmt: str(path) for fmt, path in result.files.items()},
    }


def _print(state: CliState, result: AuditResult, threshold: Severity | None, lang: str) -> None:
    print_audit_summary(
        state.out, result.report, lang=lang, files=result.files, threshold=threshold, quiet=state.quiet
    )
