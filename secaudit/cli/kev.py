"""``secaudit kev``: import CISA's Known Exploited Vulnerabilities catalogue and show how old it is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from secaudit.catalog.kev import KEV_URL, STALE_AFTER, Kev, default_kev_path, import_kev, load_kev
from secaudit.cli.common import CliState, json_option, pass_state
from secaudit.core.errors import SecauditError


@click.group()
def kev() -> None:
    """CISA's Known Exploited Vulnerabilities (KEV) catalogue, which the risk model reads.

    secaudit never downloads it: fetch the JSON feed yourself, then import it.

    \b
    Examples:
      secaudit kev import known_exploited_vulnerabilities.json
      secaudit kev status
    """


def _facts(catalogue: Kev, now: datetime) -> dict[str, Any]:
    return {
        "path": catalogue.path,
        "version": catalogue.version,
        "released": catalogue.date.isoformat(),
        "count": catalogue.count,
        "age_days": catalogue.age(now).days,
        "stale": catalogue.stale(now),
        "imported_at": catalogue.imported_at.isoformat() if catalogue.imported_at else None,
        "source": catalogue.source or None,
    }


def _summary(catalogue: Kev, now: datetime) -> str:
    return (
        f"KEV {escape(catalogue.version)}, released {catalogue.date:%Y-%m-%d} "
        f"({catalogue.age(now).days} days ago), {catalogue.count:,} CVEs"
    )


def _warn_if_stale(state: CliState, catalogue: Kev, now: datetime) -> None:
    if catalogue.stale(now) and not state.json:
        state.err.print(
            f"[yellow]warning:[/yellow] the catalogue is {catalogue.age(now).days} days old (more than "
            f"{STALE_AFTER.days}): CISA has most likely added entries since\n"
            f"  hint: download {KEV_URL} and run `secaudit kev import FILE`",
            highlight=False,
        )


@kev.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--to",
    "target",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Store the copy here instead of $XDG_DATA_HOME/secaudit/kev.json (e.g. the profile's kev: path).",
)
@json_option
@pass_state
def import_command(state: CliState, file: Path, target: Path | None) -> None:
    """Validate a downloaded known_exploited_vulnerabilities.json and store a compact copy.

    The file must have CISA's JSON shape (catalogVersion, dateReleased, count, vulnerabilities);
    every problem is shown with file:line and nothing is stored. An earlier copy is replaced
    atomically.

    \b
    Examples:
      secaudit kev import ~/Downloads/known_exploited_vulnerabilities.json
      secaudit kev import kev.json --to /var/lib/secaudit/kev.json --json
    """
    now = datetime.now(UTC)
    destination = target or default_kev_path()
    try:
        previous = load_kev(destination) if destination.exists() else None
    except SecauditError:
        previous = None  # a broken earlier copy is exactly what an import replaces
    stored = import_kev(file, destination, now=now)
    older = previous is not None and previous.date > stored.date
    if state.json:
        replaced = _facts(previous, now) if previous else None
        state.emit_json({**_facts(stored, now), "replaced": replaced, "older_than_replaced": older})
        return
    state.out.print(f"imported {_summary(stored, now)} into {escape(str(destination))}", highlight=False)
    if previous is not None:
        state.info(f"replaced {_summary(previous, now)}")
    if older:
        state.err.print(
            "[yellow]warning:[/yellow] the imported catalogue is older than the one it replaced",
            highlight=False,
        )
    _warn_if_stale(state, stored, now)


@kev.command("status")
@click.option(
    "--path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A catalogue file to check instead of the imported copy.",
)
@json_option
@pass_state
def status(state: CliState, path: Path | None) -> None:
    """Show the KEV catalogue the risk model uses: version, release date, age and size.

    Warns when it is older than 30 days. Without a catalogue the risk model still runs, and
    reports say "no KEV catalogue".

    \b
    Examples:
      secaudit kev status
      secaudit kev status --json
      secaudit kev status --path /var/lib/secaudit/kev.json
    """
    now = datetime.now(UTC)
    catalogue = load_kev(path)
    if catalogue is None:
        where = str(default_kev_path())
        if state.json:
            state.emit_json({"present": False, "path": where})
            return
        state.out.print(
            f"no KEV catalogue at {escape(where)}: the risk model runs without one", highlight=False
        )
        state.info(f"  hint: download {KEV_URL} and run `secaudit kev import FILE`")
        return
    if state.json:
        state.emit_json({"present": True, **_facts(catalogue, now)})
        return
    state.out.print(_summary(catalogue, now), highlight=False)
    state.out.print(f"file: {escape(catalogue.path)}", highlight=False)
    if catalogue.imported_at is not None:
        source = f" from {escape(catalogue.source)}" if catalogue.source else ""
        state.out.print(f"imported {catalogue.imported_at:%Y-%m-%d %H:%M} UTC{source}", highlight=False)
    _warn_if_stale(state, catalogue, now)
