"""``secaudit logs``: hunt in logs with Sigma rules."""

from __future__ import annotations

import heapq
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Protocol, TextIO

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from secaudit.app.es import time_range
from secaudit.app.hunt import Hit, HuntOptions, HuntSummary, describe, hunt, load_placeholders
from secaudit.cli.common import (
    SEVERITY_STYLE,
    CliState,
    ExitWith,
    RegistryChoice,
    fail_on_option,
    fail_on_severity,
    json_option,
    pass_state,
)
from secaudit.cli.es_options import es_hunt_options, es_requested, es_summary_dict, run_es_hunt
from secaudit.core.errors import ExitCode, OperationalError, UsageError
from secaudit.core.events import LogEvent, LogKind
from secaudit.core.model import Severity
from secaudit.detect.model import LEVELS, RuleHit, RuleProblem
from secaudit.logs.formats import LOG_FORMATS
from secaudit.report.hitdigest import HitDigest, top_hosts
from secaudit.report.hits import CsvHitWriter, JsonlHitWriter, TimelineWriter, event_host

_LEVEL_STYLE = {**SEVERITY_STYLE, "informational": "dim"}


class _Writer(Protocol):
    def write(self, hit: Hit) -> None: ...
    def close(self) -> None: ...


@click.group()
def logs() -> None:
    """Hunt in Windows, Linux, network-device, web and Zeek logs with Sigma rules."""


def parse_logsource(text: str) -> LogKind:
    """``product=windows,category=process_creation,service=sysmon`` → LogKind (usage error if malformed)."""
    product, categories, services = "", set(), set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip().lower()
        if not sep or not value or key not in ("product", "category", "service"):
            raise UsageError(
                f"bad --logsource part {part!r}",
                hint="write product=NAME,category=NAME,service=NAME (any of the three)",
            )
        if key == "product":
            product = value
        elif key == "category":
            categories.add(value)
        else:
            services.add(value)
    return LogKind(product=product, categories=frozenset(categories), services=frozenset(services))


class _TableWriter:
    """Hits on the terminal in time order, one line each where the terminal allows: time, level, host,
    rule and the file (its name) with the record; -v adds the matched fields. At most ``max_rows``
    are shown (0: all): the most severe are kept, then the earliest; the summary still counts every
    hit, and --output writes them all with full paths."""

    def __init__(self, state: CliState, *, max_rows: int) -> None:
        self._state = state
        self._max_rows = max_rows
        self._kept: list[tuple[tuple[int, float, int], tuple[str, ...]]] = []  # a min-heap when capped
        self.rows = 0

    def write(self, hit: Hit) -> None:
        self.rows += 1
        event: LogEvent | None
        if isinstance(hit, RuleHit):
            when, event, matched = hit.event.timestamp, hit.event, dict(hit.matched_fields)
        else:
            when, event = hit.first, hit.events[0] if hit.events else None
            matched = {**dict(hit.group), hit.rule.correlation: hit.value}
        level = hit.rule.level or "-"
        # what to keep when capped: a higher level, then an earlier time, then an earlier hit
        order = when.timestamp() if when else float("inf")
        keep = (_LEVEL_RANK.get(level, -1), -order, -self.rows)
        short = _SHORT_LEVEL.get(level, level)
        row = (
            when.strftime("%Y-%m-%d %H:%M:%S") if when else "-",
            f"[{_LEVEL_STYLE[level]}]{short}[/]" if level in _LEVEL_STYLE else escape(short),
            escape(event_host(event.fields) if event else "") or "-",
            escape(hit.rule.title),
            escape(f"{Path(event.source).name}:{event.record}" if event else ""),
            *((escape(describe(matched)),) if self._state.verbose else ()),
        )
        if not self._max_rows:
            self._kept.append((keep, row))
        elif len(self._kept) < self._max_rows:
            heapq.heappush(self._kept, (keep, row))
        elif keep > self._kept[0][0]:
            heapq.heapreplace(self._kept, (keep, row))

    def close(self) -> None:
        if not self.rows:
            return
        table = Table(title=self._title(), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("time", no_wrap=True)
        table.add_column("level", no_wrap=True)
        for name in ("host", "rule", "file:record", *(("matched",) if self._state.verbose else ())):
            table.add_column(name, overflow="fold")
        # time order (undated last), arrival order among equal times
        for _key, row in sorted(self._kept, key=lambda item: (-item[0][1], -item[0][2])):
            table.add_row(*row)
        self._state.out.print(table)

    def _title(self) -> str:
        if len(self._kept) == self.rows:
            return f"{self.rows} hits in time order"
        return (
            f"{len(self._kept)} of {self.rows} hits in time order (the most severe kept; "
            "--max-rows 0 shows all, --output FILE writes every hit)"
        )


_LEVEL_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}
_SHORT_LEVEL = {"informational": "info", "critical": "crit", "medium": "med"}
TOP_RULES = 10  # rules listed in the summary without -v


@contextmanager
def _open_output(path: Path | None) -> Iterator[TextIO]:
    if path is None or str(path) == "-":
        yield sys.stdout
        return
    try:
        stream = path.open("w", encoding="utf-8", newline="")
    except OSError as e:
        raise OperationalError(f"cannot write {path}: {e.strerror}", location=str(path)) from e
    with stream:
        yield stream


@logs.command("hunt")
@click.argument("inputs", nargs=-1, metavar="LOG...")
@click.option(
    "--rules",
    "rules",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A Sigma rule file or folder (repeatable). Default: secaudit's own rules.",
)
@click.option("--min-level", type=click.Choice(LEVELS), help="Only rules of this level and above.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "table"]),
    help="Hit output format. Default: table on a terminal without --output, else jsonl.",
)
@click.option(
    "--output", "-o", type=click.Path(path_type=Path), help="Write hits to this file ('-': stdout)."
)
@click.option("--timeline", type=click.Path(path_type=Path), help="Also write a timeline CSV sorted by time.")
@click.option(
    "--max-rows",
    type=click.IntRange(0),
    default=10,
    show_default=True,
    help="Hits shown in the terminal table (the most severe kept); 0 shows all.",
)
@click.option(
    "--input-format",
    type=RegistryChoice(LOG_FORMATS),
    help="Read every input as this format (default: detect).",
)
@click.option(
    "--logsource",
    metavar="product=..,category=..,service=..",
    help="Treat every event as this Sigma logsource (for CSV or JSON of known origin).",
)
@click.option(
    "--placeholders",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML mapping of |expand placeholder names to values.",
)
@click.option(
    "--workers", type=click.IntRange(0, 64), default=0, show_default=True, help="Processes; 0 = one per CPU."
)
@fail_on_option(
    "Exit 1 if any hit is of this level or above, or a rule of this level or above could not run "
    "('info' and 'informational' are one level; 'none': never)."
)
@click.option(
    "--allow-skipped-rules",
    is_flag=True,
    help="Let --fail-on pass although rules at or above its level could not run (they are still listed).",
)
@es_hunt_options
@json_option
@pass_state
def hunt_command(
    state: CliState,
    inputs: tuple[str, ...],
    rules: tuple[Path, ...],
    min_level: str | None,
    fmt: str | None,
    output: Path | None,
    timeline: Path | None,
    max_rows: int,
    input_format: str | None,
    logsource: str | None,
    placeholders: Path | None,
    workers: int,
    fail_on: str | None,
    allow_skipped_rules: bool,
    es_url: str | None,
    es_index: str | None,
    es_since: str | None,
    es_from: str | None,
    es_to: str | None,
    es_hit_cap: int | None,
    es_timeout: float | None,
    es_rules_per_request: int | None,
    es_allow_partial: bool | None,
    es_layout: str | None,
    es_profile: Path | None,
    skip_undated: bool | None,
) -> None:
    """Match Sigma rules (and correlations) against LOG files, folders (recursive), .gz or '-' (stdin).

    Formats are detected per file: EVTX, evtx_dump / Winlogbeat-ECS / flat JSON, syslog (RFC 3164
    and 5424), auditd, nginx/Apache access logs, Zeek JSON and TSV, CSV with a header. Unreadable
    records are skipped and counted; exit 3 only when nothing could be read.

    \b
    Examples:
      secaudit logs hunt /var/log/auth.log /var/log/nginx/access.log.1.gz
      secaudit logs hunt --rules ../sigma/rules --format jsonl -o hits.jsonl evtx/
      secaudit logs hunt --min-level high --fail-on high --timeline timeline.csv logs/
      secaudit logs hunt --es https://es.cc.example:9200 --index 'city-logs*' --since 24h
    """
    gate = fail_on_severity(fail_on)
    fail_on = None if gate is None else ("informational" if gate is Severity.INFO else gate.label)
    if state.json and (fmt == "table" or output is None or str(output) == "-"):
        raise UsageError(
            "--json prints the hunt's summary as one JSON document on stdout, so the hits need a file",
            hint="add --output hits.jsonl (or leave out --json to get JSON Lines of hits on stdout)",
        )
    es = {
        "es_url": es_url,
        "es_index": es_index,
        "es_since": es_since,
        "es_from": es_from,
        "es_to": es_to,
        "es_hit_cap": es_hit_cap,
        "es_timeout": es_timeout,
        "es_rules_per_request": es_rules_per_request,
        "es_allow_partial": es_allow_partial,
        "es_layout": es_layout,
        "es_profile": es_profile,
        "skip_undated": skip_undated,
    }
    on_cluster = es_requested(es, inputs, input_format=input_format, logsource=logsource)
    if "-" in inputs and inputs.count("-") > 1:
        raise UsageError("'-' (stdin) may be given once")
    kind = parse_logsource(logsource) if logsource else None
    window = time_range(es_since, es_from, es_to)
    if skip_undated and window.start is None and window.end is None:
        raise UsageError("--skip-undated goes with a time range", hint="add --since, --from or --to")
    fmt = fmt or ("table" if output is None and state.out.is_terminal and not state.json else "jsonl")
    options = HuntOptions(
        inputs=inputs,
        rules=rules,
        input_format=input_format,
        kind=kind,
        min_level=min_level,
        placeholders=load_placeholders(placeholders) if placeholders else None,
        workers=workers,
        start=window.start,
        end=window.end,
        skip_undated=bool(skip_undated),
    )
    hits_to_stdout = fmt != "table" and (output is None or str(output) == "-")
    digest = HitDigest()
    on_es: dict[str, object] | None = None  # what --json adds for a hunt on the cluster
    with ExitStack() as stack:
        writers: list[_Writer] = [digest]
        if fmt == "table":
            writers.append(_TableWriter(state, max_rows=max_rows))
        else:
            stream = stack.enter_context(_open_output(output))
            writers.append(JsonlHitWriter(stream) if fmt == "jsonl" else CsvHitWriter(stream))
        if timeline is not None:
            writers.append(TimelineWriter(stack.enter_context(_open_output(timeline))))

        def on_hit(hit: Hit) -> None:
            for writer in writers:
                writer.write(hit)

        try:
            with state.progress() as progress:
                if on_cluster:
                    result = run_es_hunt(
                        state,
                        es,
                        rules=rules,
                        min_level=min_level,
                        placeholders=options.placeholders,
                        on_hit=on_hit,
                        progress=progress,
                        to_stderr=hits_to_stdout,
                    )
                    summary, on_es = result.summary, es_summary_dict(result)
                else:
                    summary = hunt(options, on_hit=on_hit, progress=progress)
        finally:
            for writer in writers:
                writer.close()
    if state.json and not hits_to_stdout:
        state.emit_json({**summary_dict(summary, digest), **({"elasticsearch": on_es} if on_es else {})})
    elif not state.quiet:
        _print_summary(state, summary, digest, to_stderr=hits_to_stdout)
    if summary.skipped_rules and (state.quiet or state.json):
        _print_skipped(state, summary)  # even under -q and --json (on stderr): a hunt that lost rules says so
    if summary.nothing_read:
        raise OperationalError(
            f"no event could be read from {len(inputs)} input(s): {summary.read.skipped} records skipped, "
            f"{summary.read.unreadable_files} files unreadable, {summary.read.not_logs} files not logs",
            location=summary.read.errors[0][0] if summary.read.errors else None,
            hint=summary.read.errors[0][1] if summary.read.errors else "check the paths and --input-format",
        )
    if fail_on and any(summary.by_level[lvl] for lvl in LEVELS[LEVELS.index(fail_on) :]):
        raise ExitWith(ExitCode.FINDINGS)
    gate_skipped = summary.skipped_at_or_above(fail_on) if fail_on else ()
    if gate_skipped and not allow_skipped_rules:
        state.err.print(
            f"[red]exit 1: {len(gate_skipped)} rule(s) at or above {fail_on} could not run, so the hunt "
            "cannot show there is nothing at that level[/red] (fix them, or pass --allow-skipped-rules)",
            highlight=False,
        )
        raise ExitWith(ExitCode.FINDINGS)


def summary_dict(summary: HuntSummary, digest: HitDigest | None = None) -> dict[str, object]:
    """The hunt summary as JSON-safe data (``--json``); with the digest, hits by level, host and day."""
    read = summary.read
    return {
        "rules": summary.rules,
        "correlations": summary.correlations,
        "rule_files": summary.rule_files,
        "rule_problems": [
            {
                "location": p.location,
                "rule_id": p.rule_id,
                "title": p.title,
                "level": p.level,
                "skipped": p.skipped,
                "reason": p.reason,
            }
            for p in summary.problems
        ],
        "rules_skipped": len(summary.skipped_rules),
        "files": read.files,
        "events": read.events,
        "skipped": read.skipped,
        "unreadable_files": read.unreadable_files,
        "not_logs": read.not_logs,
        "formats": dict(read.by_format),
        **_window_dict(summary),
        "read_errors": [{"location": loc, "reason": why} for loc, why in read.errors],
        "hits": summary.hits,
        "correlation_hits": summary.correlation_hits,
        "correlation_untimed": summary.untimed,
        "correlation_ungrouped": summary.ungrouped,
        "by_level": dict(summary.by_level),
        "by_rule": [
            {
                "rule_id": rule_id,
                "title": summary.rule_info[rule_id].title if rule_id in summary.rule_info else "",
                "level": summary.rule_info[rule_id].level if rule_id in summary.rule_info else "",
                "hits": count,
            }
            for rule_id, count in summary.by_rule.most_common()
        ],
        "workers": summary.workers,
        "load_seconds": round(summary.load_seconds, 3),
        "seconds": round(summary.seconds, 3),
        **({"digest": digest.to_dict()} if digest is not None else {}),
    }


def _window_dict(summary: HuntSummary) -> dict[str, object]:
    if summary.window is None:
        return {}
    start, end = summary.window
    read = summary.read
    return {
        "time_range": {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "outside_range": read.outside_range,
            "undated": read.undated,
            "undated_evaluated": not summary.skip_undated,
        }
    }


def _print_window(console: Console, summary: HuntSummary) -> None:
    """What the time range left out, and what it could not place (said: a hunt that skipped events
    must not look like one that saw them)."""
    if summary.window is None:
        return
    start, end = summary.window
    span = f"from {_when(start) if start else 'the start'} to {_when(end) if end else 'the end'}"
    read = summary.read
    line = f"Time range {span}: {read.outside_range:,} events outside it, not evaluated"
    if read.undated:
        how = "left out (--skip-undated)" if summary.skip_undated else "evaluated all the same"
        line += f"; [yellow]{read.undated:,} events without a time, {how}[/yellow]"
    console.print(line, highlight=False)


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _print_summary(state: CliState, summary: HuntSummary, digest: HitDigest, *, to_stderr: bool) -> None:
    """The hunt at a glance (what Hayabusa and Chainsaw analysts expect), in about 40 lines whatever
    the number of hits: what was read, hits and rules by level with their top hosts, the share of
    events with hits, the time span and busiest days, the top rules; then what went wrong."""
    console = state.err if to_stderr else state.out
    read = summary.read
    rate = read.events / summary.seconds if summary.seconds > 0 else 0.0
    not_logs = f"; {read.not_logs:,} other files are not logs (left out)" if read.not_logs else ""
    console.print(
        f"Read {read.events:,} events from {read.files:,} files in {summary.seconds:.1f} s "
        f"({rate:,.0f} events/s, {summary.workers} worker(s)){not_logs}",
        highlight=False,
    )
    console.print(
        f"Rules: {summary.rules:,} rules and {summary.correlations:,} correlations "
        f"from {summary.rule_files:,} files",
        highlight=False,
    )
    _print_window(console, summary)
    if digest.hits:
        with_hits = len(digest.events_with_hits)
        evaluated = read.events - read.outside_range - (read.undated if summary.skip_undated else 0)
        share = f" ({100 * with_hits / evaluated:.1f} %)" if evaluated > 0 else ""
        label = f"{evaluated:,} evaluated" if summary.window is not None else f"{evaluated:,}"
        console.print(f"Events with hits: {with_hits:,} of {label}{share}", highlight=False)
        if digest.first and digest.last:
            untimed = f"; {digest.untimed:,} hits without a time" if digest.untimed else ""
            console.print(
                f"Hits from {_when(digest.first)} to {_when(digest.last)}{untimed}", highlight=False
            )
        _print_levels(console, digest)
        days = ", ".join(f"{day.isoformat()} ({count:,})" for day, count in digest.top_days(3))
        if days:
            console.print(f"Days with most hits: {days}", highlight=False)
        _print_top_rules(state, console, summary)
    else:
        console.print("no hits", highlight=False)
    if read.error_count:  # records lost, or an input given up at a bound (a silent FIFO) with none lost
        console.print(
            f"[yellow]{read.skipped} records skipped, {read.unreadable_files} files unreadable[/yellow];"
            f" {read.error_count} problem(s) while reading, first:",
            highlight=False,
        )
        for location, reason in read.errors[:5]:
            console.print(f"  {escape(location)}: {escape(reason)}", highlight=False)
    if summary.untimed or summary.ungrouped:
        console.print(
            f"[yellow]correlations left out {summary.untimed} hits without a timestamp and "
            f"{summary.ungrouped} without their group-by field[/yellow]",
            highlight=False,
        )
    if summary.skipped_rules:
        _print_skipped(state, summary, console=console)
    limited = [p for p in summary.problems if not p.skipped]
    if limited:
        console.print(
            f"[yellow]{len(limited)} rules run with a limit, or filters that apply to nothing[/yellow]"
            + ("" if state.verbose else " (-v lists them)"),
            highlight=False,
        )
        for problem in limited if state.verbose else ():
            console.print(f"  {escape(problem.location)}: {escape(problem.reason)}", highlight=False)


def _print_levels(console: Console, digest: HitDigest) -> None:
    table = Table(title="Hits by level", title_justify="left")
    table.add_column("level")
    table.add_column("hits", justify="right")
    table.add_column("rules", justify="right")
    table.add_column("top hosts", overflow="fold")
    for level, d in digest.ordered_levels():
        hosts = ", ".join(f"{escape(host)} ({count:,})" for host, count in top_hosts(d, 3))
        style = _LEVEL_STYLE.get(level)
        table.add_row(
            f"[{style}]{level}[/]" if style else escape(level), f"{d.hits:,}", f"{len(d.rules):,}", hosts
        )
    table.add_row("all", f"{digest.hits:,}", f"{sum(len(d.rules) for _, d in digest.ordered_levels()):,}", "")
    console.print(table)


def _print_top_rules(state: CliState, console: Console, summary: HuntSummary) -> None:
    order = {lvl: i for i, lvl in enumerate(reversed(LEVELS))}

    def level_of(rule_id: str) -> str:
        return summary.rule_info[rule_id].level if rule_id in summary.rule_info else ""

    ranked = sorted(
        summary.by_rule.items(), key=lambda item: (order.get(level_of(item[0]), 99), -item[1], item[0])
    )
    shown = ranked if state.verbose else ranked[:TOP_RULES]
    title = (
        "Rules with hits"
        if len(shown) == len(ranked)
        else f"Top {len(shown)} of {len(ranked)} rules (-v: all)"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("hits", justify="right")
    table.add_column("level")
    table.add_column("rule", overflow="fold")
    for rule_id, count in shown:
        info = summary.rule_info.get(rule_id)
        level = info.level if info else ""
        table.add_row(
            f"{count:,}",
            f"[{_LEVEL_STYLE[level]}]{level}[/]" if level in _LEVEL_STYLE else escape(level or "-"),
            escape(info.title if info else rule_id),
        )
    console.print(table)


def _most_severe_first(problem: RuleProblem) -> tuple[int, str]:
    return (-LEVELS.index(problem.level) if problem.level else 1, problem.location)


def _print_skipped(state: CliState, summary: HuntSummary, *, console: Console | None = None) -> None:
    """The rules that did not run, by level, the most severe first; each named (up to 10 without -v)."""
    console = console or state.err
    skipped = sorted(summary.skipped_rules, key=_most_severe_first)
    levels = Counter(p.level or "unknown level" for p in skipped)
    by_level = ", ".join(f"{count} {level}" for level, count in levels.items())
    console.print(f"[yellow]{len(skipped)} rules could not run ({by_level}):[/yellow]", highlight=False)
    shown = skipped if state.verbose else skipped[:10]
    for problem in shown:
        name = problem.title or problem.rule_id or "(unnamed)"
        level = f"{problem.level}: " if problem.level else ""
        console.print(
            f"  {level}{escape(name)} ({escape(problem.location)}): {escape(problem.reason)}", highlight=False
        )
    if len(shown) < len(skipped):
        console.print(f"  ... and {len(skipped) - len(shown)} more (-v lists them)", highlight=False)
