"""The terminal summary after an audit: how the run went, the counts, and the top risks.

Labels come from the report catalogue, so ``--lang th`` prints the same Thai words as the Thai
HTML report. Text from the findings (titles, asset names) passes
:func:`~secaudit.report.text.terminal_safe` and is handed to rich as :class:`~rich.text.Text`, never
as markup: a banner holding ``\\x1b[2J`` or ``[bold]`` prints as those characters.

Thai in a table: rich (15.x) gives Thai combining vowel and tone marks (U+0E31, U+0E34-U+0E3A,
U+0E47-U+0E4E) zero width, as wcwidth and most terminals (xterm, VTE, Windows Terminal) do, and
keeps each mark with its letter when it wraps or crops a cell; so the columns line up (the tests
measure every line with their own wcwidth count). Terminals that draw those marks in a cell of
their own (Kitty, Ghostty; rich issue 3957) show ragged Thai rows: nothing a program can fix
without knowing the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from secaudit.core.model import RunStatus, Severity
from secaudit.core.report import Decision, Report, ReportRow
from secaudit.report.i18n import labels
from secaudit.report.summary import at_or_above, summarize
from secaudit.report.text import terminal_safe

TOP = 10

DECISION_STYLE = {
    Decision.ACT: "bold white on red",
    Decision.ATTEND: "bold red",
    Decision.TRACK_STAR: "yellow",
    Decision.TRACK: "cyan",
}


def _fill(template: str, **values: object) -> str:
    for key, value in values.items():
        template = template.replace(f"{{{key}}}", str(value))
    return template


def _asset(row: ReportRow, L: Mapping[str, str]) -> str:
    assets = row.assets or (row.finding.asset,)
    text = terminal_safe(assets[0].display)
    if len(assets) > 1:
        text += " " + _fill(L["more_assets"], n=len(assets) - 1)
    return text


SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def top_risks(report: Report, lang: str, *, top: int = TOP) -> Table:
    """The ``top`` highest-ranked rows: rank, decision, score, severity, title and asset.

    Titles and assets fold onto more lines rather than being cut: an address or identifier is
    printed whole at any width, on a terminal or piped.
    """
    L = labels(lang)
    rows = sorted(report.rows, key=lambda r: r.rank)[:top]
    table = Table(
        title=_fill(L["top_risks"], n=len(rows), total=len(report.rows)),
        title_justify="left",
        highlight=False,
    )
    table.add_column(L["rank"], justify="right", no_wrap=True)
    table.add_column(L["decision"], overflow="fold")
    table.add_column(L["score"], justify="right", no_wrap=True)
    table.add_column(L["severity"], overflow="fold")
    table.add_column(L["finding"], ratio=3, overflow="fold")
    table.add_column(L["asset"], ratio=2, overflow="fold")
    for row in rows:
        severity = row.finding.severity
        table.add_row(
            str(row.rank),
            Text(L[f"decision.{row.decision.value}"], style=DECISION_STYLE[row.decision]),
            f"{row.score:.1f}",
            Text(L[f"severity.{severity.label}"], style=SEVERITY_STYLE[severity]),
            Text(terminal_safe(row.finding.text_in(lang).title)),
            Text(_asset(row, L)),
        )
    return table


def _not_assessed(missing: tuple[str, ...], L: dict[str, str]) -> str:
    """The posture's caveat when a stage did not complete: never a clean score on its own."""
    return f" ({L['posture_not_assessed']}: {', '.join(missing)})" if missing else ""


def count_lines(report: Report, lang: str) -> list[str]:
    """Findings and rows (both named), rows by decision, the posture score, waivers, and the trend
    against the previous run (in findings)."""
    L = labels(lang)
    summary = summarize(report)
    parts = [f"{L[f'decision.{d.value}']} {n}" for d, n in summary.by_decision]
    lines = [
        f"{L['total_findings']}: "
        + _fill(L["findings_in_rows"], findings=summary.findings, rows=summary.rows),
        f"{L['rows_by_decision']}: {', '.join(parts)}",
        f"{L['posture_score']}: {report.posture_score:.1f} / 100" + _not_assessed(summary.not_assessed, L),
    ]
    if report.waived:
        lines.append(f"{L['waived_or_accepted']}: {_fill(L['n_findings'], n=len(report.waived))}")
    trend = report.trend
    if trend.previous_run_id:
        lines.append(
            f"{_fill(L['trend_in_findings'], run=terminal_safe(trend.previous_run_id))}: "
            f"{L['status.new']} {trend.new}, {L['status.persisting']} {trend.persisting}, "
            f"{L['status.fixed']} {trend.fixed}"
        )
    return lines


def gate_line(report: Report, lang: str, threshold: Severity | None) -> str:
    """Whether the --fail-on gate tripped and why, as the exit code says it (see ``exit_code_for``)."""
    L = labels(lang)
    if report.run.status is not RunStatus.COMPLETED:
        return L["gate_incomplete"]
    if threshold is None:
        return L["gate_off"]
    severity = L[f"severity.{threshold.label}"]
    n = at_or_above(report, threshold)
    return _fill(L["gate_tripped"] if n else L["gate_clear"], n=n, severity=severity)


def print_audit_summary(
    console: Console,
    report: Report,
    *,
    lang: str,
    files: Mapping[str, Path],
    threshold: Severity | None,
    quiet: bool = False,
    top: int = TOP,
) -> None:
    """What ``secaudit audit`` prints: the run and its stages, counts, top risks, files, and last
    the gate: which exit code and why.

    Under ``quiet`` only the report files are printed.
    """
    L = labels(lang)
    if not quiet:
        run = report.run
        console.print(Text(f"{L['run_id']} {terminal_safe(run.id)}: {L[f'run.{run.status.value}']}"))
        for stage in run.stages:
            _print_stage(
                console, L, stage.name, stage.status, stage.findings, stage.items, stage.seconds, stage.errors
            )
        if not run.stages:
            console.print(Text(f"  {L['no_stages']}"))
        for line in count_lines(report, lang):
            console.print(Text(line))
        if report.rows:
            console.print(top_risks(report, lang, top=top))
    for fmt, path in files.items():
        console.print(Text(_fill(L["report_file"], format=fmt, path=path)), soft_wrap=True)
    if not quiet:
        console.print(Text(gate_line(report, lang, threshold)), soft_wrap=True)


def _print_stage(
    console: Console,
    L: Mapping[str, str],
    name: str,
    status: RunStatus,
    findings: int,
    items: int,
    seconds: float,
    errors: Sequence[str],
) -> None:
    line = Text("  ")
    line.append(L[f"run.{status.value}"], style="green" if status is RunStatus.COMPLETED else "red")
    line.append(f" {terminal_safe(name)}: ")
    line.append(_fill(L["stage_line"], findings=findings, items=items, seconds=f"{seconds:.1f}"))
    console.print(line)
    for error in errors[:5]:
        message = Text("    ")
        message.append(L["stage_error"], style="red")
        message.append(f" {terminal_safe(error)}")
        console.print(message)
