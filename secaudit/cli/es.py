"""``secaudit logs ingest`` and ``secaudit logs es-check``: logs into Elasticsearch, and the cluster's state.

``logs hunt --es`` (in :mod:`secaudit.cli.logs`) and ``report --to-es`` (in :mod:`secaudit.cli.history`)
take their options from :mod:`secaudit.cli.es_options`.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from secaudit.app.es import es_check, es_settings, ingest_logs
from secaudit.cli.common import CliState, ExitWith, RegistryChoice, json_option, pass_state
from secaudit.cli.logs import parse_logsource
from secaudit.core.errors import ExitCode, OperationalError
from secaudit.logs.formats import LOG_FORMATS

DEFAULT_INDEX = "secaudit-logs"

profile_option = click.option(
    "--profile",
    "profile",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A profile whose elasticsearch: section gives the URL, credentials and TLS settings.",
)


@click.command("ingest")
@click.argument("inputs", nargs=-1, required=True, metavar="LOG...")
@click.option(
    "--es", "es_url", metavar="URL", help="The cluster (default: SECAUDIT_ES_URL, else the profile)."
)
@click.option("--index", default=DEFAULT_INDEX, show_default=True, help="The index to write to.")
@click.option("--input-format", type=RegistryChoice(LOG_FORMATS), help="Read every input as this format.")
@click.option(
    "--logsource",
    metavar="product=..,category=..,service=..",
    help="Treat every event as this Sigma logsource (for CSV or JSON of known origin).",
)
@profile_option
@json_option
@pass_state
def ingest_command(
    state: CliState,
    inputs: tuple[str, ...],
    es_url: str | None,
    index: str,
    input_format: str | None,
    logsource: str | None,
    profile: Path | None,
) -> None:
    """Read LOG files and folders with the hunt's own readers and index every event in Elasticsearch.

    Each event becomes one document (Sigma taxonomy fields under sigma.*, ECS @timestamp, event.code,
    host.name, log.file.path) whose id is a hash of the file path and record: ingesting the same files
    again adds nothing, and an interrupted ingest is finished by running it again. The index template
    is created on first use. Credentials come from SECAUDIT_ES_API_KEY or SECAUDIT_ES_USER and
    SECAUDIT_ES_PASSWORD (or the variables a profile names); exit 3 when the cluster is unreachable or
    a document was refused.

    \b
    Examples:
      secaudit logs ingest /var/log/auth.log evtx/ --es https://es.cc.example:9200 --index city-logs
      SECAUDIT_ES_URL=http://127.0.0.1:9200 secaudit logs ingest --json logs/
    """
    settings = es_settings(es_url, profile=profile)
    kind = parse_logsource(logsource) if logsource else None
    with state.progress() as progress:
        result, stats = ingest_logs(
            settings, index, inputs, input_format=input_format, kind=kind, progress=progress
        )
    if state.json:
        state.emit_json(
            {
                "url": settings.url,
                "index": result.index,
                "files": stats.files,
                "events": result.events,
                "created": result.created,
                "existing": result.existing,
                "failed": result.failed,
                "failures": dict(result.failures),
                "failure_examples": [{"location": w, "reason": r} for w, r in result.examples],
                "skipped_records": stats.skipped,
                "unreadable_files": stats.unreadable_files,
                "read_errors": [{"location": loc, "reason": why} for loc, why in stats.errors],
                "template_created": result.template_created,
                "index_created": result.index_created,
                "long_values": result.long_values,
                "seconds": round(result.seconds, 3),
            }
        )
    elif not state.quiet:
        rate = result.events / result.seconds if result.seconds > 0 else 0.0
        state.out.print(
            f"{result.events} events from {stats.files} files into {escape(result.index)} at "
            f"{escape(settings.url)}: {result.created} added, {result.existing} already there, "
            f"{result.failed} refused ({result.seconds:.1f}s, {rate:,.0f} events/s)",
            highlight=False,
        )
        if result.long_values:
            state.out.print(
                f"{result.long_values} events hold a value over 8,191 characters, which the cluster "
                "cannot index: kept, and marked (secaudit.long_fields) so that `logs hunt --es` fetches "
                "and matches them with the embedded engine",
                highlight=False,
            )
        for reason, count in result.failures.most_common(10):
            state.out.print(f"  [red]{count} x {escape(reason)}[/red]", highlight=False)
        for where, reason in result.examples[:5]:
            state.out.print(f"    e.g. {escape(where)}: {escape(reason)}", highlight=False)
        if stats.skipped or stats.unreadable_files:
            state.out.print(
                f"[yellow]{stats.skipped} records skipped, "
                f"{stats.unreadable_files} files unreadable[/yellow]",
                highlight=False,
            )
            for location, reason in stats.errors[:5]:
                state.out.print(f"  {escape(location)}: {escape(reason)}", highlight=False)
    if result.events == 0 and (stats.skipped or stats.unreadable_files or stats.files == 0):
        raise OperationalError(
            f"no event could be read from {len(inputs)} input(s)",
            location=stats.errors[0][0] if stats.errors else None,
            hint=stats.errors[0][1] if stats.errors else "check the paths and --input-format",
        )
    if result.failed:
        raise ExitWith(ExitCode.OPERATIONAL)


@click.command("es-check")
@click.argument("url", required=False)
@click.option(
    "--index", "pattern", default="secaudit-*", show_default=True, help="Show the indices matching this."
)
@profile_option
@json_option
@pass_state
def es_check_command(state: CliState, url: str | None, pattern: str, profile: Path | None) -> None:
    """Check a cluster: its engine (Elasticsearch, OpenSearch, the Wazuh indexer), version and health,
    and the indices matching --index with their field layout.

    URL defaults to SECAUDIT_ES_URL, else the profile's elasticsearch: url. Exit 3 when the cluster
    cannot be reached, refuses the credentials, or is not a supported engine and version (it is named).

    \b
    Examples:
      secaudit logs es-check http://127.0.0.1:9200
      secaudit logs es-check --profile city.yaml --index 'city-logs*' --json
    """
    settings = es_settings(url, profile=profile)
    check = es_check(settings, pattern)
    if state.json:
        state.emit_json(check.as_dict())
    else:
        version = check.version or "(version not readable)"
        note = f" ({escape(check.note)})" if check.note else ""
        where = (
            f", cluster {escape(check.cluster_name)}, health {check.health}, {check.nodes} node(s)"
            if check.supported
            else ""
        )
        state.out.print(
            f"{escape(check.url)}: {escape(check.engine)} {escape(version)}{note}{where}",
            highlight=False,
        )
        if not check.supported:
            pass
        elif check.indices:
            table = Table(title=f"indices matching {pattern}")
            for column in ("index", "health", "documents", "size", "field layout"):
                table.add_column(column)
            for index in check.indices:
                table.add_row(
                    escape(index.name),
                    index.health,
                    str(index.documents),
                    index.size,
                    index.layout,
                )
            state.out.print(table)
        else:
            state.out.print(f"no index matches {escape(pattern)}", highlight=False)
    if not check.supported:
        state.err.print(f"[red]{escape(check.problem or 'not supported')}[/red]", highlight=False)
        raise ExitWith(ExitCode.OPERATIONAL)
