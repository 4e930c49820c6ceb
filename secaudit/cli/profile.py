"""``secaudit profile``: check an audit profile before it is used."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from secaudit.catalog.profile import load_profile
from secaudit.cli.common import CliState, json_option, pass_state


@click.group()
def profile() -> None:
    """Audit profiles: the authorization, segments, inventory and targets of an audit."""


@profile.command("validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@json_option
@pass_state
def validate(state: CliState, file: Path) -> None:
    """Validate FILE and summarize it; exit 2 with file:line and the fix if it is broken.

    The authorization must be valid now; segments, exclusions, inventory and targets must be
    consistent. Nothing is scanned and nothing is written.

    \b
    Examples:
      secaudit profile validate samples/phuket-demo.yaml
      secaudit profile validate --json samples/phuket-demo.yaml
    """
    now = datetime.now(UTC)
    prof = load_profile(file, now=now)
    auth = prof.authorization
    days_left = (auth.valid_until - now).days
    if state.json:
        state.emit_json(
            {
                "valid": True,
                "path": str(file),
                "organisation": prof.organisation,
                "authorization": {
                    "reference": auth.reference,
                    "approver": auth.approver,
                    "valid_from": auth.valid_from.isoformat(),
                    "valid_until": auth.valid_until.isoformat(),
                    "days_left": days_left,
                },
                "segments": [
                    {
                        "name": s.name,
                        "kind": s.kind.value,
                        "cidrs": [str(c) for c in s.cidrs],
                        "exclusions": [str(c) for c in s.exclusions],
                        "criticality": s.criticality.label,
                        "scan_profile": s.scan_profile,
                        "owner": s.owner,
                    }
                    for s in prof.segments
                ],
                "assets": len(prof.assets),
                "baseline_targets": len(prof.baseline_targets),
                "log_sources": len(prof.log_sources),
            }
        )
        return
    state.out.print(f"[green]valid[/green]: {file}  ({prof.organisation})", highlight=False)
    state.out.print(
        f"authorization {auth.reference}, approved by {auth.approver}, valid until "
        f"{auth.valid_until.date().isoformat()} ({days_left} days left)",
        highlight=False,
    )
    if state.quiet:
        return
    table = Table(title="Segments", title_justify="left")
    for column in ("name", "kind", "CIDRs", "exclusions", "criticality", "scan profile", "owner"):
        table.add_column(column)
    for s in prof.segments:
        table.add_row(
            s.name,
            s.kind.value,
            ", ".join(map(str, s.cidrs)),
            ", ".join(map(str, s.exclusions)) or "-",
            s.criticality.label,
            s.scan_profile,
            s.owner,
        )
    state.out.print(table)
    state.out.print(
        f"{len(prof.assets)} inventory assets, {len(prof.baseline_targets)} baseline targets, "
        f"{len(prof.log_sources)} log sources",
        highlight=False,
    )
