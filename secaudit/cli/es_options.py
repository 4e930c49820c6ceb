"""The Elasticsearch options other commands carry: ``logs hunt --es ...`` and ``report --to-es URL``.

Kept apart from :mod:`secaudit.cli.es` (which registers its commands on the ``logs`` group) so the
modules that define those commands can import these without an import cycle.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape

from secaudit.app.es import (
    DEFAULT_HIT_CAP,
    EsHunt,
    EsHuntOptions,
    es_settings,
    hunt_es,
    publish_findings,
    time_range,
)
from secaudit.app.hunt import HitSink
from secaudit.cli.common import CliState
from secaudit.core.errors import OperationalError, UsageError
from secaudit.core.report import ProgressCallback
from secaudit.elastic.convert import LANGUAGE_NAMES
from secaudit.elastic.layouts import AUTO, ECS, LAYOUT_NAMES, SECAUDIT, WAZUH
from secaudit.elastic.search import BATCH

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_PATTERN = "secaudit-logs*"
_WINDOW_KEYS = (
    "es_hit_cap",
    "es_timeout",
    "es_rules_per_request",
    "es_allow_partial",
    "es_layout",
)


def es_hunt_options(func: F) -> F:
    """``--es URL --index PATTERN [--since D | --from T --to T] [--hit-cap N] [--es-profile FILE]``.

    The time range applies to hunts in files too (``--skip-undated`` only there)."""
    options = (
        click.option(
            "--es",
            "es_url",
            metavar="URL",
            help="Hunt in an Elasticsearch cluster instead of LOG files (with --index; the URL may also "
            "come from SECAUDIT_ES_URL or --es-profile).",
        ),
        click.option(
            "--index",
            "es_index",
            metavar="PATTERN",
            help=f"Index pattern to hunt in on the cluster (default {DEFAULT_PATTERN}).",
        ),
        click.option(
            "--since",
            "es_since",
            metavar="DURATION",
            help="Only events of the last 30m, 24h, 7d... (in files, the others are counted, not evaluated).",
        ),
        click.option("--from", "es_from", metavar="TIME", help="Only events from this ISO date-time on."),
        click.option("--to", "es_to", metavar="TIME", help="Only events up to this ISO date-time."),
        click.option(
            "--skip-undated",
            is_flag=True,
            default=None,
            help="With a time range, in files: leave out events without a time (default: evaluate them, "
            "counted and said).",
        ),
        click.option(
            "--hit-cap",
            "es_hit_cap",
            type=click.IntRange(1, 10_000_000),
            help=f"[--es] Stop a rule after this many hits (default {DEFAULT_HIT_CAP}; said when reached).",
        ),
        click.option(
            "--timeout",
            "es_timeout",
            type=click.FloatRange(1, 3600),
            help="[--es] Seconds to wait for one request (default 30); a late one is asked again after a "
            "pause, then its rule is reported unfinished.",
        ),
        click.option(
            "--rules-per-request",
            "es_rules_per_request",
            type=click.IntRange(1, 1000),
            help=f"[--es] Rule queries per multi-search request (default {BATCH}).",
        ),
        click.option(
            "--allow-partial",
            "es_allow_partial",
            is_flag=True,
            default=None,
            help="[--es] Exit 0/1 even when shards failed, a search timed out or a rule got no answer "
            "(said in any case; without it such a hunt exits 3 after writing its hits).",
        ),
        click.option(
            "--layout",
            "es_layout",
            type=click.Choice([AUTO, SECAUDIT, ECS, WAZUH]),
            help="[--es] The indices' field layout: secaudit's own (logs ingest), ecs (Winlogbeat, Elastic "
            "Agent), wazuh (Wazuh alerts/archives), or auto (default: read from the mappings). An index of "
            "another or unknown layout is refused (exit 2).",
        ),
        click.option(
            "--es-profile",
            "es_profile",
            type=click.Path(path_type=Path, dir_okay=False),
            help="[--es] A profile whose elasticsearch: section gives the URL, credentials and TLS settings.",
        ),
    )
    for option in reversed(options):
        func = option(func)
    return func


def es_requested(
    values: Mapping[str, Any],
    inputs: tuple[str, ...],
    *,
    input_format: str | None = None,
    logsource: str | None = None,
) -> bool:
    """True for a hunt on the cluster; usage errors for mixed or missing inputs, and for options that
    only mean something when reading files."""
    wanted = bool(values.get("es_url") or values.get("es_index") or values.get("es_profile"))
    if wanted and inputs:
        raise UsageError(
            "give LOG files or --es, not both",
            hint="ingest files into the cluster with `secaudit logs ingest LOG... --es URL`",
        )
    if wanted and values.get("skip_undated"):
        raise UsageError(
            "--skip-undated applies when reading LOG files",
            hint="on a cluster a time range already leaves out documents without @timestamp",
        )
    if wanted and (input_format or logsource):
        raise UsageError(
            "--input-format and --logsource apply when reading LOG files",
            hint="give them to `secaudit logs ingest`: documents on the cluster carry their logsource",
        )
    if not wanted:
        extra = [key for key in _WINDOW_KEYS if values.get(key) is not None]
        if extra:
            names = ", ".join("--" + key.removeprefix("es_").replace("_", "-") for key in extra)
            raise UsageError(f"{names}: for a hunt on Elasticsearch only", hint="add --es URL")
        if not inputs:
            raise UsageError("give LOG files, folders or '-' to hunt in, or --es URL to hunt on a cluster")
    return wanted


def run_es_hunt(
    state: CliState,
    values: Mapping[str, Any],
    *,
    rules: tuple[Path, ...],
    min_level: str | None,
    placeholders: Mapping[str, Sequence[str]] | None,
    on_hit: HitSink,
    progress: ProgressCallback,
    to_stderr: bool,
) -> EsHunt:
    """Run ``logs hunt --es`` and say what happened on the cluster; the caller prints the summary
    (``result.summary``; with --json also :func:`es_summary_dict`)."""
    settings = es_settings(values.get("es_url"), profile=values.get("es_profile"))
    state.debug(f"Elasticsearch: {escape(settings.describe())}")
    options = EsHuntOptions(
        settings=settings,
        index=values.get("es_index") or DEFAULT_PATTERN,
        window=time_range(values.get("es_since"), values.get("es_from"), values.get("es_to")),
        rules=rules,
        min_level=min_level,
        placeholders=placeholders,
        hit_cap=values.get("es_hit_cap") or DEFAULT_HIT_CAP,
        timeout=values.get("es_timeout") or 30.0,
        rules_per_request=values.get("es_rules_per_request") or BATCH,
        layout=values.get("es_layout") or AUTO,
    )
    result = hunt_es(options, on_hit=on_hit, progress=progress)
    if not state.quiet and not state.json:
        _print_es(state, options, result, to_stderr=to_stderr)
    if result.incomplete:
        faults = result.faults
        long_unmatched = any(not u.rule_id for u in result.unfinished)
        what = (
            f"{len(result.partial)} rule(s) got partial results ({faults.shard_failures} failed shards, "
            f"{faults.timed_out} timed-out searches), "
            f"{sum(1 for u in result.unfinished if u.rule_id)} rule(s) got no answer"
            + (
                "; documents with values over the keyword limit were not all matched"
                if long_unmatched
                else ""
            )
        )
        if not values.get("es_allow_partial"):
            raise OperationalError(
                f"the hunt on the cluster is incomplete: {what}; the hits found were written",
                location=options.settings.url,
                hint="check the cluster's health (secaudit logs es-check), raise --timeout, or pass "
                "--allow-partial to accept incomplete results",
            )
        state.err.print(
            f"[yellow]incomplete hunt accepted (--allow-partial): {what}[/yellow]", highlight=False
        )
    return result


def es_summary_dict(result: EsHunt) -> dict[str, object]:
    """What --json adds for a hunt on the cluster: the engine, the layout, and the rules that did not
    run there, the not applicable ones named here (the blind spots are skipped rule problems)."""
    return {
        "engine": result.engine,
        "version": result.version,
        "indices": result.indices,
        "layout": result.layout,
        "rules_run": result.converted,
        "rules_not_converted": len(result.not_converted),
        "rules_not_applicable": len(result.not_applicable),
        "rules_cannot_run": len(result.cannot_run),
        "other_documents": result.other_documents,
        "not_applicable": [
            {"location": f.location, "rule_id": f.rule_id, "title": f.title, "reason": f.reason}
            for f in result.not_applicable
        ],
        "long_value_documents": result.long_value_documents,
        "long_value_matched": result.long_value_matched,
        "long_value_note": result.long_value_note,
    }


def _print_es(state: CliState, options: EsHuntOptions, result: EsHunt, *, to_stderr: bool) -> None:
    console = state.err if to_stderr else state.out
    console.print(
        f"{escape(result.engine or 'Elasticsearch')} "
        f"{result.version or '(version not readable: no monitor privilege)'} at "
        f"{escape(options.settings.url)}: {result.indices} indices "
        f"matching {escape(options.index)} ({escape(LAYOUT_NAMES[result.layout])} layout), "
        f"{result.summary.read.events} documents in range; "
        f"{result.converted} rules run as Lucene queries, {len(result.not_converted)} not converted"
        + (
            f", {len(result.not_applicable)} not applicable to this layout, {len(result.cannot_run)} "
            "cannot run on it"
            if result.unrunnable
            else ""
        ),
        highlight=False,
    )
    if result.other_documents:
        console.print(
            f"[yellow]{result.other_documents:,} documents in range are not Windows events: the rules "
            "of other log sources that cannot run here are counted as cannot run, not as not "
            "applicable[/yellow]",
            highlight=False,
        )
    for failures, what in (
        (result.not_applicable, "not applicable (no document in range is of their log source)"),
        (result.cannot_run, "cannot run on this layout (listed with their levels below)"),
    ):
        if not failures:
            continue
        console.print(f"{len(failures)} {what}:", highlight=False)
        reasons = Counter(_short(f.reason) for f in failures)
        for reason, count in reasons.most_common(None if state.verbose else 5):
            console.print(f"  {count} x {escape(reason)}", highlight=False)
        if not state.verbose and len(reasons) > 5:
            console.print("  (-v lists every reason; the JSON summary names each rule)", highlight=False)
    for failure in result.not_applicable if state.verbose else ():
        console.print(
            f"  not applicable: {escape(failure.title or failure.rule_id)} ({escape(failure.location)})",
            highlight=False,
        )
    for rule_id, cap in sorted(result.capped.items()):
        info = result.summary.rule_info.get(rule_id)
        console.print(
            f"[yellow]rule {escape(info.title if info else rule_id)} stopped at the hit cap of {cap}[/yellow]"
            " (raise --hit-cap to see more)",
            highlight=False,
        )
    for rule_id, language in sorted(result.correlation_languages.items()):
        name = LANGUAGE_NAMES.get(language, language)
        state.debug(
            f"correlation {escape(rule_id)}: {escape(name)} on Elasticsearch; "
            "evaluated here over its rules' hits from the cluster"
        )
    if result.long_value_documents:
        what = (
            "a value over 8,191 characters, which the cluster cannot index"
            if result.layout == SECAUDIT
            else "a value the index did not keep searchable (over its field's ignore_above, or "
            "malformed for its type; listed in _ignored) in a field the rules read"
        )
        console.print(
            f"{result.long_value_documents} documents in range hold {what}: {result.long_value_matched} of "
            "them fetched and matched here by the embedded engine",
            highlight=False,
        )
    if result.long_value_note:
        console.print(f"[yellow]{escape(result.long_value_note)}[/yellow]", highlight=False)
    for correlation, rules in sorted(result.truncated_correlations.items()):
        info = result.summary.rule_info.get(correlation)
        console.print(
            f"[yellow]correlation {escape(info.title if info else correlation)} may miss matches: "
            f"its input rule(s) {escape(', '.join(rules))} stopped at the hit cap[/yellow]",
            highlight=False,
        )
    for rule_id in result.partial:
        info = result.summary.rule_info.get(rule_id)
        console.print(
            f"[yellow]rule {escape(info.title if info else rule_id)}: partial results (failed shards or "
            "a timed-out search)[/yellow]",
            highlight=False,
        )
    for problem in result.unfinished:
        what = f"rule {problem.title or problem.rule_id}" if problem.rule_id else problem.title
        console.print(f"[yellow]{escape(what)}: {escape(problem.reason)}[/yellow]", highlight=False)
    if result.faults.retries:
        state.debug(f"{result.faults.retries} search request(s) asked again after a 429, 5xx or timeout")
    if result.query_errors:
        console.print(
            f"[yellow]{len(result.query_errors)} rule queries refused by the cluster[/yellow]"
            + ("" if state.verbose else " (-v lists them)"),
            highlight=False,
        )


def _short(reason: str) -> str:
    """A not-runnable reason without the layout prefix and the rule's own values, to group by."""
    text = reason.split(" layout: ", 1)[-1]
    return re.sub(r"(?<![A-Za-z])'[^']*'", "'…'", text)  # a quoted value, not an apostrophe (Sigma's)


def to_es_option(func: F) -> F:
    return click.option(
        "--to-es",
        "to_es",
        metavar="URL",
        help="Publish the run's findings to the secaudit-findings index of this Elasticsearch cluster "
        "(credentials from SECAUDIT_ES_*); no report files unless --format or --output is also given.",
    )(func)


def publish_to_es(state: CliState, url: str, history: Path, run_id: str | None) -> None:
    """``report --to-es URL``: the run's findings into the findings index, and what was written."""
    settings = es_settings(url)
    rid, result = publish_findings(settings, history, run_id)
    state.out.print(
        f"run {rid}: {result.written} findings written to {result.index} at {escape(settings.url)}"
        + (f", {result.outdated} already newer there" if result.outdated else "")
        + (f", [red]{result.failed} failed[/red]" if result.failed else ""),
        highlight=False,
    )
    for reason, count in result.failures.most_common(5):
        state.err.print(f"  {count} x {escape(reason)}", highlight=False)
    if result.failed:
        raise OperationalError(
            f"{result.failed} of {result.documents} findings could not be written",
            location=settings.url,
            hint="see the reasons above",
        )
