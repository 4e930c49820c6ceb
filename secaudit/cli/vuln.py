"""``secaudit vuln``: import vulnerability feeds into the local store and show how old they are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from secaudit.cli.common import CliState, ExitWith, json_option, pass_state
from secaudit.core.errors import ExitCode
from secaudit.vuln.feeds import FeedKind
from secaudit.vuln.importer import ImportResult, import_files, update
from secaudit.vuln.store import DEFAULT_MAX_AGE, FeedStatus, VulnStore, default_store_path, stale_feeds

_store_option = click.option(
    "--store",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Use this feed store, not $XDG_DATA_HOME/secaudit/vuln.sqlite (e.g. the profile's vuln.store).",
)


@click.group()
def vuln() -> None:
    """Known-vulnerability feeds, kept in a local store that the audit's vuln stage matches against.

    Feeds are files you download (or fetch from a mirror you name with `update`): the Debian
    Security Tracker JSON, Debian and Ubuntu OVAL (one file per release, .bz2 as published),
    NVD CVE API 2.0 JSON, CISA KEV JSON, FIRST EPSS CSV, and OSV JSON (a record, a list, or an
    ecosystem's all.zip) for Python packages installed outside the distribution and for Rocky
    Linux / AlmaLinux rpm packages. secaudit never downloads anything by itself.

    \b
    Examples:
      secaudit vuln import tracker.json nvd-2024.json known_exploited_vulnerabilities.json epss.csv
      secaudit vuln import com.ubuntu.jammy.cve.oval.xml.bz2 oval-definitions-bookworm.xml.bz2
      secaudit vuln status
      secaudit vuln update https://mirror.example/debian-tracker.json
    """


def _facts(feed: FeedStatus, now: datetime) -> dict[str, Any]:
    return {
        "kind": feed.kind.value,
        "name": feed.name,
        "source": feed.source,
        "sha256": feed.sha256,
        "published": feed.published.isoformat() if feed.published else None,
        "dated_by": feed.dated_by,
        "age_days": feed.age(now).days,
        "imported_at": feed.imported_at.isoformat(),
        "records": feed.records,
        "version": feed.version,
    }


def _line(feed: FeedStatus, now: datetime) -> str:
    when = f"{feed.published:%Y-%m-%d}" if feed.published else "undated"
    return (
        f"{feed.kind.value:<15} {escape(feed.name)}: {feed.records:,} records, {when} "
        f"({feed.age(now).days} days old, dated by {feed.dated_by})"
    )


def _report(state: CliState, result: ImportResult, store: Path, now: datetime, max_age: timedelta) -> None:
    if state.json:
        state.emit_json(
            {
                "store": str(store),
                "imported": [_facts(f, now) for f in result.imported],
                "errors": [str(e) for e in result.errors],
            }
        )
    else:
        for feed in result.imported:
            state.out.print(f"imported {_line(feed, now)}", highlight=False)
        for warning in stale_feeds(result.imported, now, max_age):
            state.err.print(f"[yellow]{escape(warning)}[/yellow]", highlight=False)
        for error in result.errors:
            state.err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        state.info(f"store: {escape(str(store))}")
    if result.errors:
        # every refused file is a usage problem unless a download failed
        codes = {e.exit_code for e in result.errors}
        raise ExitWith(ExitCode.OPERATIONAL if ExitCode.OPERATIONAL in codes else ExitCode.USAGE)


_age_option = click.option(
    "--max-age-days",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_AGE.days,
    show_default=True,
    help="Warn about feeds older than this.",
)


@vuln.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@_store_option
@_age_option
@json_option
@pass_state
def import_command(state: CliState, files: tuple[Path, ...], store: Path | None, max_age_days: int) -> None:
    """Validate feed files (format recognised from content, .gz accepted) and store them.

    A refused file is reported with file:line and nothing of it is stored; the other files are
    still imported. Exit code 2 when a file was refused.

    \b
    Examples:
      secaudit vuln import ~/Downloads/json ~/Downloads/epss_scores-2026-12-06.csv.gz
      secaudit vuln import nvdcve-2.0-2024.json --store /var/lib/secaudit/vuln.sqlite --json
    """
    now = datetime.now(UTC)
    with VulnStore.open(store) as opened:
        result = import_files(opened, files, now=now)
        _report(state, result, opened.path, now, timedelta(days=max_age_days))


@vuln.command("update")
@click.argument("urls", nargs=-1, required=True)
@_store_option
@_age_option
@click.option(
    "--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True, help="Seconds per URL."
)
@json_option
@pass_state
def update_command(
    state: CliState, urls: tuple[str, ...], store: Path | None, max_age_days: int, timeout: float
) -> None:
    """Download feeds from the URLs you name (a local mirror, or the publishers where allowed) and
    import them. This is the only secaudit command that fetches feeds; an audit never does.

    \b
    Examples:
      secaudit vuln update http://mirror.cc.local/feeds/debian-tracker.json
      secaudit vuln update https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json
    """
    now = datetime.now(UTC)
    with VulnStore.open(store) as opened:
        result = update(opened, urls, now=now, timeout=timeout)
        _report(state, result, opened.path, now, timedelta(days=max_age_days))


@vuln.command("status")
@_store_option
@_age_option
@json_option
@pass_state
def status_command(state: CliState, store: Path | None, max_age_days: int) -> None:
    """Show every imported feed: records, publisher's date, age; warn about old ones.

    \b
    Examples:
      secaudit vuln status
      secaudit vuln status --json --max-age-days 3
    """
    now = datetime.now(UTC)
    where = store or default_store_path()
    if not where.exists():
        if state.json:
            state.emit_json({"present": False, "store": str(where), "feeds": []})
            return
        state.out.print(f"no feed store at {escape(str(where))}", highlight=False)
        state.info("  hint: secaudit vuln import FILE...")
        return
    with VulnStore.open(where, create=False) as opened:
        feeds = opened.feeds()
        releases = opened.releases(FeedKind.DEBIAN_TRACKER) + opened.releases(FeedKind.DEBIAN_OVAL)
        releases = sorted(set(releases))
        ubuntu = opened.releases(FeedKind.UBUNTU_OVAL)
    warnings = stale_feeds(feeds, now, timedelta(days=max_age_days))
    if state.json:
        state.emit_json(
            {
                "present": True,
                "store": str(where),
                "feeds": [_facts(f, now) for f in feeds],
                "debian_releases": releases,
                "ubuntu_releases": ubuntu,
                "warnings": warnings,
            }
        )
        return
    for feed in feeds:
        state.out.print(_line(feed, now), highlight=False)
    if releases:
        state.out.print(f"Debian releases: {', '.join(releases)}", highlight=False)
    if ubuntu:
        state.out.print(f"Ubuntu releases: {', '.join(ubuntu)}", highlight=False)
    if not feeds:
        state.out.print("the store holds no feeds yet", highlight=False)
    for warning in warnings:
        state.err.print(f"[yellow]{escape(warning)}[/yellow]", highlight=False)
    state.info(f"store: {escape(str(where))}")
