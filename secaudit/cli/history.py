"""``secaudit history`` and ``secaudit report``: what earlier runs found, and their reports again."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from secaudit.app.history import list_runs, load_run_report, rebuild_report
from secaudit.app.locations import history_location
from secaudit.catalog.profile import load_profile
from secaudit.cli.common import (
    SEVERITY_STYLE,
    CliState,
    F,
    RegistryChoice,
    json_option,
    pass_state,
    thai_era_option,
)
from secaudit.cli.es_options import publish_to_es, to_es_option
from secaudit.core.profile import LANGUAGES
from secaudit.core.serialize import finding_to_dict, stage_to_dict
from secaudit.report.writers import REPORT_WRITERS


def history_option(func: F) -> F:
    """``--history`` and ``--profile``: the history database, found by the same rule as `audit`."""
    func = click.option(
        "--profile",
        "history_profile",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        help="The audit profile whose history to read (its 'history', else its report folder's).",
    )(func)
    return click.option(
        "--history",
        "history_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="History database (default: $SECAUDIT_HISTORY, else --profile's, else reports/history.sqlite).",
    )(func)


def resolve_history(history_path: Path | None, profile_path: Path | None) -> Path:
    """Where the history is: the rule `audit` writes by (app.locations.history_location)."""
    profile = None
    if profile_path is not None and history_path is None:
        profile = load_profile(profile_path, require_valid_authorization=False)
    return history_location(profile, None, history_path)


@click.group()
def history() -> None:
    """Earlier runs and their findings, from the history database."""


@history.command("runs")
@history_option
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@pass_state
def runs(state: CliState, history_path: Path | None, history_profile: Path | None, limit: int) -> None:
    """List the latest runs, newest first.

    \b
    Examples:
      secaudit history runs
      secaudit history runs --json --limit 5 --history /var/lib/secaudit/history.sqlite
      secaudit history runs --profile samples/phuket-demo.yaml
    """
    found = list_runs(resolve_history(history_path, history_profile), limit=limit)
    if state.json:
        state.emit_json(
            [
                {
                    "id": r.id,
                    "status": r.status.value,
                    "organisation": r.organisation,
                    "profile": r.profile_path,
                    "started_at": r.started_at.isoformat(),
                    "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                    "stages": [stage_to_dict(s) for s in r.stages],
                    "findings": sum(s.findings for s in r.stages),
                }
                for r in found
            ]
        )
        return
    table = Table()
    for column in ("run", "status", "started (UTC)", "findings"):
        table.add_column(column, no_wrap=True)
    table.add_column("profile")
    for r in found:
        table.add_row(
            r.id,
            r.status.value,
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(sum(s.findings for s in r.stages)),
            escape(r.profile_path),
        )
    state.out.print(table)


@history.command("show")
@click.argument("run_id", required=False)
@history_option
@json_option
@pass_state
def show(
    state: CliState, run_id: str | None, history_path: Path | None, history_profile: Path | None
) -> None:
    """Show the ranked findings of RUN_ID (default: the latest run) with their status.

    \b
    Examples:
      secaudit history show
      secaudit history show --json 20261121T020000Z-1a2b
    """
    report = load_run_report(resolve_history(history_path, history_profile), run_id)
    if state.json:
        state.emit_json(
            {
                "run_id": report.run.id,
                "status": report.run.status.value,
                "findings": [
                    {
                        "rank": row.rank,
                        "status": row.status.value,
                        "first_seen": row.first_seen.isoformat(),
                        "last_seen": row.last_seen.isoformat(),
                        **finding_to_dict(row.finding),
                    }
                    for row in report.rows
                ],
                "fixed": [finding_to_dict(f) for f in report.fixed],
            }
        )
        return
    state.out.print(
        f"run {report.run.id}: {report.run.status.value}, {len(report.rows)} findings", highlight=False
    )
    table = Table()
    for column in ("#", "severity", "finding", "asset", "status", "first seen"):
        table.add_column(column)
    for row in report.rows:
        sev = row.finding.severity.label
        table.add_row(
            str(row.rank),
            f"[{SEVERITY_STYLE[sev]}]{sev}[/]",
            escape(row.finding.title),
            escape(row.finding.asset.display),
            row.status.value,
            row.first_seen.strftime("%Y-%m-%d"),
        )
    state.out.print(table)
    if report.fixed:
        state.out.print(f"{len(report.fixed)} fixed since the previous run", highlight=False)


@click.command()
@click.argument("run_id", required=False)
@click.option("--run", "run_option", metavar="ID", help="The run to report (default: the latest).")
@history_option
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Write into OUTPUT_DIR/<run id>/ under the usual file names.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write one format (give exactly one --format) to this file instead ('-': stdout).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=RegistryChoice(REPORT_WRITERS),
    help="Format to write (repeatable; default: the profile's report.formats).",
)
@click.option("--lang", type=click.Choice(LANGUAGES), help="Language of the HTML report.")
@thai_era_option
@to_es_option
@pass_state
def report(
    state: CliState,
    run_id: str | None,
    run_option: str | None,
    history_path: Path | None,
    history_profile: Path | None,
    output_dir: Path,
    output: Path | None,
    formats: tuple[str, ...],
    lang: str | None,
    thai_era: str | None,
    to_es: str | None,
) -> None:
    """Write the report of a recorded run (default: the latest) again from history.

    \b
    Formats: html, json, sarif (GitHub code scanning), junit, csv (working papers), md (CI summary),
    pdf (A4, printed by headless Chromium).
    \b
    Examples:
      secaudit report --lang th
      secaudit report --run 20261121T020000Z-1a2b --format json --output-dir /tmp/out
      secaudit report --format sarif --output findings.sarif
      secaudit report --format pdf --lang th --thai-era buddhist
      secaudit report --to-es https://es.cc.example:9200
    """
    if run_id and run_option and run_id != run_option:
        raise click.UsageError("give the run once: as an argument or with --run")
    if to_es is not None:
        publish_to_es(state, to_es, resolve_history(history_path, history_profile), run_option or run_id)
        if not formats and output is None:
            return
    to_stdout = output is not None and str(output) == "-"
    with tempfile.TemporaryDirectory(prefix="secaudit-report-") as tmp:
        files = rebuild_report(
            resolve_history(history_path, history_profile),
            run_option or run_id,
            output_dir=output_dir,
            formats=formats,
            lang=lang,
            output=Path(tmp) / "report" if to_stdout else output,
            thai_era=thai_era,
        )
        if to_stdout:  # '-' is stdout, as for every --output (docs/cli.md)
            for path in files.values():
                sys.stdout.buffer.write(path.read_bytes())
            sys.stdout.flush()
            return
    for fmt, path in files.items():
        state.out.print(f"{fmt} report: {escape(str(path))}", highlight=False)
