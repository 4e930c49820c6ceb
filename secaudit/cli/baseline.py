"""``secaudit baseline``: run configuration baselines against offline roots and config files."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from secaudit.app.baseline import (
    CheckOutcome,
    accept_results,
    baseline_drift,
    check_baseline,
    check_sca,
    drift_to_dict,
    render_check,
    render_drift,
)
from secaudit.baseline import Baseline, BaselineRun, CheckStatus, baseline_ids, load_baseline, run_to_dict
from secaudit.baseline.benchmarks import baseline_coverage
from secaudit.baseline.drift import DriftKind, DriftReport
from secaudit.cli.common import SEVERITY_STYLE, CliState, ExitWith, F, json_option, pass_state
from secaudit.core.errors import ExitCode
from secaudit.core.model import Severity

STATUS_STYLE = {
    CheckStatus.PASS: "green",
    CheckStatus.FAIL: "bold red",
    CheckStatus.ERROR: "bold magenta",
    CheckStatus.NOT_APPLICABLE: "dim",
    CheckStatus.WAIVED: "cyan",
}
STATUS_LABEL = {CheckStatus.NOT_APPLICABLE: "n/a"}
DRIFT_FORMATS = ["table", "json", "junit", "sarif"]
CHECK_FORMATS = ["table", "json", "junit", "sarif"]


@click.group()
def baseline() -> None:
    """Configuration baselines: CIS-style checks of servers, routers and web fronts."""


@baseline.command("list")
@json_option
@pass_state
def list_baselines(state: CliState) -> None:
    """List the shipped baselines with their check counts and, for a baseline that implements a CIS
    benchmark, how many of its automated Level 1 server recommendations have a check.

    \b
    Examples:
      secaudit baseline list
      secaudit baseline list --json
    """
    loaded = [load_baseline(bid) for bid in baseline_ids()]
    if state.json:
        state.emit_json(
            [
                {
                    "id": b.id,
                    "title": b.title,
                    "version": b.version,
                    "applies_to": b.applies_to,
                    "checks": len(b.checks),
                    "targets": sorted({k for c in b.checks for k in c.targets}),
                    "coverage": _coverage_dict(b),
                }
                for b in loaded
            ]
        )
        return
    table = Table(title_justify="left")
    for column in ("id", "checks", "targets", "CIS coverage", "title", "applies to"):
        table.add_column(column)
    for b in loaded:
        kinds = ", ".join(sorted({k for c in b.checks for k in c.targets}))
        cov = baseline_coverage(b)
        shown = f"{len(cov.covered)}/{cov.total} automated L1 server" if cov else "-"
        table.add_row(b.id, str(len(b.checks)), kinds, shown, escape(b.title), escape(b.applies_to))
    state.out.print(table)
    for b in loaded:
        if (cov := baseline_coverage(b)) is not None:
            state.info(f"{b.id}: {escape(cov.describe())} have a check")


def _coverage_dict(b: Baseline) -> dict[str, object] | None:
    cov = baseline_coverage(b)
    if cov is None:
        return None
    return {
        "benchmark": cov.benchmark.name,
        "level": cov.level,
        "profile": cov.kind,
        "automated": cov.total,
        "decided": len(cov.covered),
        "missing": list(cov.missing),
    }


def _fail_on(value: str) -> Severity | None:
    return None if value == "none" else Severity.parse(value)


def _result_options(*, format_help: str, fail_on_help: str, waivers_help: str) -> Callable[[F], F]:
    """The options every command that runs checks shares: --format, --fail-on, --waivers, --all, --json."""

    def decorate(func: F) -> F:
        for option in reversed(
            (
                click.option(
                    "--format",
                    "fmt",
                    type=click.Choice(CHECK_FORMATS),
                    default="table",
                    show_default=True,
                    help=format_help,
                ),
                click.option(
                    "--fail-on",
                    default="info",
                    show_default=True,
                    type=click.Choice([*Severity.names(), "none"]),
                    help=fail_on_help,
                ),
                click.option("--waivers", type=click.Path(dir_okay=False, path_type=Path), help=waivers_help),
                click.option(
                    "--all", "show_all", is_flag=True, help="Table: list passing and n/a checks too."
                ),
                json_option,
                pass_state,
            )
        ):
            func = option(func)
        return func

    return decorate


@baseline.command("check")
@click.option("--baseline", "baseline_id", required=True, help="A shipped baseline id or a .yaml file.")
@click.option(
    "--target",
    required=True,
    help="offline:DIR (a root filesystem or snapshot, read-only), file:PATH (one config dump), "
    "local (this host) or ssh://user@host[:port][?key=..&known_hosts=..|fingerprint=SHA256:..] "
    "(agentless, key auth).",
)
@click.option(
    "--level",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="CIS profile level: 1 runs only Level 1 controls; 2 adds the Level 2 ones.",
)
@click.option(
    "--profile",
    "kind",
    type=click.Choice(["server", "workstation"]),
    default="server",
    show_default=True,
    help="CIS profile the level refers to.",
)
@_result_options(
    format_help="table for people; json (every result, with evidence and scores), junit or sarif for CI.",
    fail_on_help="Exit 1 when a check of at least this severity fails; 'none' never does.",
    waivers_help="A waivers.yaml: failed checks it covers are 'waived'; expired waivers fail again.",
)
def check(
    state: CliState,
    baseline_id: str,
    target: str,
    level: int,
    kind: str,
    fmt: str,
    fail_on: str,
    waivers: Path | None,
    show_all: bool,
) -> None:
    """Run one baseline against one target and show each check's status and evidence.

    Only the controls of the chosen CIS profile and level run (default: Level 1 server); a Level 1
    run never reports a Level 2 control.

    Offline roots are read strictly read-only: nothing is written or executed, and every symlink
    resolves inside the root. Exit 0 when nothing failed, 1 when a check at or above --fail-on
    failed, 2 on a bad baseline or target, 3 when some check could not be evaluated (error).

    \b
    Examples:
      secaudit baseline check --baseline debian12-server --target offline:samples/snapshots/cc-app01
      secaudit baseline check --baseline debian12-server --target offline:/srv/roots/app01 --level 2
      secaudit baseline check --baseline cisco-ios --target file:samples/snapshots/cc-core-rtr01.cfg
      secaudit baseline check --baseline nginx --target file:samples/snapshots/portal-nginx.conf --format json
      secaudit baseline check --baseline cisco-ios --target file:rtr01.cfg --waivers waivers.yaml
      secaudit baseline check --baseline openssh-server --target local
      secaudit baseline check --baseline debian12-server --target 'ssh://audit@cc-app-01?key=~/.ssh/audit_ed25519'
    """
    outcome = check_baseline(baseline_id, target, waivers=waivers, level=level, kind=kind)
    _emit(state, outcome, fmt=fmt, show_all=show_all, waivers=waivers is not None)
    if outcome.run.incomplete:
        state.err.print(
            f"[bold yellow]WARNING:[/bold yellow] {escape(outcome.run.incomplete)}", highlight=False
        )
    raise ExitWith(exit_code(outcome.run, _fail_on(fail_on)))


@baseline.command("import-sca")
@click.argument("policy", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--target", required=True, help="offline:DIR, local or ssh://user@host (not file:).")
@click.option(
    "--allow-undecided",
    is_flag=True,
    help="Exit as the results say even when the policy's requirements cannot be evaluated here or "
    "no check reached a verdict (default: exit 3, since nothing was checked).",
)
@_result_options(
    format_help="table for people; json (every result, with evidence), junit or sarif for CI.",
    fail_on_help="Exit 1 when a check of at least this severity fails (SCA checks are all 'medium').",
    waivers_help="A waivers.yaml; SCA check ids read sca.<policy id>.<check id>.",
)
def import_sca(
    state: CliState,
    policy: Path,
    target: str,
    allow_undecided: bool,
    fmt: str,
    fail_on: str,
    waivers: Path | None,
    show_all: bool,
) -> None:
    """Run a Wazuh SCA policy file (YAML) you supply against a target.

    Rule types f: (file, content with r:/n:/!/compare), d: (directory), c: (command; local and
    ssh targets only, never through a shell) and p: (process; live only) map onto secaudit's
    targets; r: (registry) is not applicable. A construct secaudit does not run makes that check
    "error" with the reason. Wazuh's own policies are GPL-2.0: secaudit reads them, never ships them.
    Checks are named by 'name' (current Wazuh) or 'title' (older policies); regexes are read as
    Wazuh reads them: OS_Regex (\\. any character, a plain dot a dot) unless the check or the
    policy says 'regex_type: pcre2' (PCRE2, translated: \\h, \\H, POSIX classes, ...). On an
    offline Linux root the requirement
    'f:/proc/sys/kernel/ostype -> r:Linux' holds (the root's kernel type is known).
    Exit codes as for 'baseline check'; and 3 when the requirements cannot be evaluated or no
    check reached a verdict, unless --allow-undecided.

    \b
    Examples:
      secaudit baseline import-sca my-policy.yml --target offline:/srv/snapshots/cc-app01
      secaudit baseline import-sca my-policy.yml --target local --format json
    """
    outcome = check_sca(policy, target, waivers=waivers)
    _emit(state, outcome, fmt=fmt, show_all=show_all, waivers=waivers is not None)
    run = outcome.run
    undecided = run.incomplete or (
        "" if run.decided else f"none of the {len(run.results)} checks reached a pass or fail verdict"
    )
    if undecided:
        where = "ignored (--allow-undecided)" if allow_undecided else "exit 3"
        state.err.print(
            f"[bold red]NOTHING CHECKED:[/bold red] {escape(undecided)}. {where}", highlight=False
        )
        if not allow_undecided:
            raise ExitWith(ExitCode.OPERATIONAL)
    raise ExitWith(exit_code(run, _fail_on(fail_on)))


def _emit(state: CliState, outcome: CheckOutcome, *, fmt: str, show_all: bool, waivers: bool) -> None:
    run = outcome.run
    if fmt == "json" or state.json:
        data = run_to_dict(run)
        if waivers:
            data["unused_waivers"] = list(outcome.unused_waivers)
        state.emit_json(data)
    elif fmt in ("junit", "sarif"):
        stream = sys.stdout
        render_check(run, fmt, stream, source=run.baseline.path or run.target)
        stream.flush()
        for note in outcome.unused_waivers:
            state.info(f"note: {escape(note)}")
    else:
        _table(state, run, show_all=show_all)
        for note in outcome.unused_waivers:
            state.info(f"[yellow]note:[/yellow] {escape(note)}")


def exit_code(run: BaselineRun, fail_on: Severity | None) -> ExitCode:
    """3 when a check errored (the result is incomplete), else 1 when a failure reaches ``fail_on``."""
    if run.count(CheckStatus.ERROR):
        return ExitCode.OPERATIONAL
    worst = max((r.check.severity for r in run.results if r.status is CheckStatus.FAIL), default=None)
    if fail_on is not None and worst is not None and worst >= fail_on:
        return ExitCode.FINDINGS
    return ExitCode.OK


def _table(state: CliState, run: BaselineRun, *, show_all: bool) -> None:
    title = f"{run.baseline.id} {run.baseline.version} on {escape(run.target)}"
    table = Table(title=title, title_justify="left")
    for column in ("status", "severity", "check", "evidence / reason"):
        table.add_column(column, overflow="fold")
    shown = [
        r
        for r in run.results
        if show_all or r.status in (CheckStatus.FAIL, CheckStatus.ERROR, CheckStatus.WAIVED)
    ]
    for r in shown:
        label = STATUS_LABEL.get(r.status, r.status.value)
        sev = r.check.severity.label
        detail = r.reason or "; ".join(f"{o.subject} = {o.value} ({o.location})" for o in r.evidence[:3])
        if r.waiver is not None:
            w = r.waiver
            until = "expired" if r.waiver_expired else f"{w.kind.value} until"
            detail += (
                f"\nwaiver {until} {w.expires.date().isoformat()}, approved by {w.approver or '-'}"
                f" ({w.location}): {w.justification}"
            )
            if r.waiver_expired:
                label = "expired"
        table.add_row(
            f"[{STATUS_STYLE[r.status]}]{label}[/]",
            f"[{SEVERITY_STYLE[sev]}]{sev}[/]",
            f"{r.check.id}\n[dim]{escape(r.check.title)}[/dim]",
            escape(detail),
        )
    if shown:
        state.out.print(table)
    if state.quiet:
        return
    scores = Table(title="Score (pass / (pass + fail))", title_justify="left")
    for column in ("section", "pass", "fail", "other", "score"):
        scores.add_column(column, justify="right" if column != "section" else "left")
    for s in (*run.sections(), run.score):
        pct = "-" if s.percent is None else f"{s.percent:.1f}%"
        scores.add_row(escape(s.section), str(s.passed), str(s.failed), str(s.other), pct)
    state.out.print(scores)
    state.info(
        f"{run.count(CheckStatus.FAIL)} failed, {run.count(CheckStatus.WAIVED)} waived, "
        f"{run.count(CheckStatus.PASS)} passed, "
        f"{run.count(CheckStatus.NOT_APPLICABLE)} not applicable, {run.count(CheckStatus.ERROR)} errors "
        f"in {run.seconds:.2f}s"
    )


@baseline.command("accept")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    "--out",  # the name before docs/cli.md's convention; still read
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The accepted-baseline file to write (JSON; commit it next to the configs).",
)
@json_option
@pass_state
def accept_cmd(state: CliState, results: tuple[Path, ...], out: Path) -> None:
    """Accept baseline results as they are: record, per target and check, the status and a sha256 of
    the normalised evidence. 'baseline drift' then reports only what changes.

    RESULTS are 'baseline check --format json' outputs or an audit's baseline-results.json.

    \b
    Examples:
      secaudit baseline check --baseline cisco-ios --target file:configs/r1.cfg --format json > r1.json
      secaudit baseline accept r1.json r2.json --output accepted.json
    """
    data = accept_results(list(results), out)
    entries = data["entries"]
    if state.json:
        state.emit_json(
            {"out": str(out), "entries": len(entries), "targets": len({e["target"] for e in entries})}
        )
        return
    failing = sum(1 for e in entries if e["status"] == "fail")
    state.out.print(
        f"accepted {len(entries)} results ({failing} failing) of "
        f"{len({e['target'] for e in entries})} targets into {escape(str(out))}",
        highlight=False,
    )


DRIFT_STYLE = {
    DriftKind.NEW_FAILURE: "bold red",
    DriftKind.CHANGED: "bold red",
    DriftKind.EXPIRED_WAIVER: "bold red",
    DriftKind.ERROR: "bold magenta",
    DriftKind.FIXED: "green",
    DriftKind.WAIVED: "cyan",
    DriftKind.ACCEPTED: "dim",
    DriftKind.MISSING: "yellow",
    DriftKind.TARGET_MISSING: "bold red",
}


@baseline.command("drift")
@click.option(
    "--accepted",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file 'baseline accept' wrote.",
)
@click.option(
    "--current",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Current results (repeat for several files).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(DRIFT_FORMATS),
    default="table",
    show_default=True,
    help="table for people; json, junit or sarif for CI.",
)
@click.option("--all", "show_all", is_flag=True, help="Table: list accepted failures too.")
@click.option(
    "--allow-missing-targets",
    is_flag=True,
    help="An accepted target with no current results is reported but is not drift.",
)
@json_option
@pass_state
def drift(
    state: CliState,
    accepted: Path,
    current: tuple[Path, ...],
    fmt: str,
    show_all: bool,
    allow_missing_targets: bool,
) -> None:
    """Compare current baseline results with the accepted ones, for CI.

    Exit 1 on drift: a new failure, a failing check whose evidence changed (shown before and
    after), an expired waiver, or an accepted target with no current results at all (one
    "target-not-checked" row; not drift with --allow-missing-targets). Exit 0 otherwise
    (accepted failures, waived, fixed and single missing checks are reported). Exit 2 on bad input.

    \b
    Examples:
      secaudit baseline drift --accepted accepted.json --current r1.json --current r2.json
      secaudit baseline drift --accepted accepted.json --current results.json --format sarif > drift.sarif
    """
    report = baseline_drift(accepted, list(current), allow_missing_targets=allow_missing_targets)
    if fmt == "json" or state.json:
        state.emit_json(drift_to_dict(report))
    elif fmt in ("junit", "sarif"):
        stream = sys.stdout
        render_drift(report, fmt, stream, accepted=accepted)
        stream.flush()
    else:
        _drift_table(state, report, show_all=show_all)
    raise ExitWith(ExitCode.FINDINGS if report.drift else ExitCode.OK)


def _drift_table(state: CliState, report: DriftReport, *, show_all: bool) -> None:
    shown = [i for i in report.items if show_all or i.kind is not DriftKind.ACCEPTED]
    if shown:
        table = Table(title="Baseline drift", title_justify="left")
        for column in ("kind", "target", "check", "why / evidence"):
            table.add_column(column, overflow="fold")
        for i in shown:
            target, baseline_id, check_id = i.key
            detail = i.why
            if i.current is not None and report.is_drift(i):
                where = ", ".join(f"{p}:{n}" if n else p for p, n in i.current.locations()[:3])
                detail += f"\n{where}" if where else ""
            table.add_row(
                f"[{DRIFT_STYLE[i.kind]}]{i.kind.value}[/]",
                escape(target),
                f"{escape(check_id)}\n[dim]{escape(baseline_id)}[/dim]",
                escape(detail),
            )
        state.out.print(table)
    counts = ", ".join(f"{report.count(k)} {k.value}" for k in DriftKind if report.count(k))
    verdict = f"{len(report.drift)} drifted" if report.drift else "no drift"
    state.info(f"{verdict} of {report.compared} results compared ({counts or 'all as accepted'})")
