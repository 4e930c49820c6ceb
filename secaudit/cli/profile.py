"""``secaudit profile``: check an audit profile before it is used."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from secaudit.app.preflight import WARN_DAYS, Problem, preflight
from secaudit.app.profile_init import parse_segment, starter_profile
from secaudit.catalog.profile import load_profile
from secaudit.cli.common import CliState, ExitWith, json_option, pass_state
from secaudit.core.errors import ExitCode, OperationalError, UsageError


@click.group()
def profile() -> None:
    """Audit profiles: the authorization, segments, inventory and targets of an audit."""


@profile.command("validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--warn-days",
    type=click.IntRange(0),
    default=WARN_DAYS,
    show_default=True,
    help="Warn when the authorization ends within this many days.",
)
@json_option
@pass_state
def validate(state: CliState, file: Path, warn_days: int) -> None:
    """Validate FILE and what the audit will need; exit 2 with file:line and the fix if it would fail.

    The authorization must be valid now; segments, exclusions, inventory and targets must be
    consistent. Then what the audit will touch: every named baseline loads, log and rule paths
    exist, the waivers file parses, the report and history folders can be written, and every
    placeholder the detection rules use has values. An authorization ending within --warn-days is
    a warning. Nothing is scanned and nothing is written.

    \b
    Examples:
      secaudit profile validate samples/phuket-demo.yaml
      secaudit profile validate --json samples/phuket-demo.yaml
    """
    now = datetime.now(UTC)
    prof = load_profile(file, now=now)
    problems = preflight(prof, now=now, warn_days=warn_days)
    errors = [p for p in problems if p.severity == "error"]
    auth = prof.authorization
    days_left = (auth.valid_until - now).days
    if state.json:
        state.emit_json(
            {
                "valid": not errors,
                "problems": [
                    {"severity": p.severity, "location": p.location, "message": p.message, "hint": p.hint}
                    for p in problems
                ],
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
        if errors:
            raise ExitWith(ExitCode.USAGE)
        return
    _print_problems(state, problems)
    if errors:
        state.err.print(
            f"[bold red]error:[/bold red] {escape(str(file))}: "
            f"{len(errors)} problem(s) the audit would fail on",
            highlight=False,
        )
        raise ExitWith(ExitCode.USAGE)
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
        table.add_column(column, overflow="fold")  # names and networks are never cut
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


def _print_problems(state: CliState, problems: list[Problem]) -> None:
    for p in problems:
        colour = "red" if p.severity == "error" else "yellow"
        state.err.print(
            f"[{colour}]{p.severity}:[/{colour}] {escape(p.location)}: {escape(p.message)}", highlight=False
        )
        if p.hint:
            state.err.print(f"  hint: {escape(p.hint)}", highlight=False)


@profile.command("init")
@click.option("--organisation", required=True, help="The organisation the audit is for.")
@click.option(
    "--segment",
    "segments",
    multiple=True,
    required=True,
    metavar="NAME=CIDR[,CIDR][:KIND]",
    help="A network segment (repeatable); KIND is it, ot, cctv, dmz or mgmt (default it).",
)
@click.option("--authorization", "reference", default="", help="The written authorization's reference.")
@click.option("--approver", default="", help="Who signed the authorization.")
@click.option(
    "--valid-until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The authorization's last day (YYYY-MM-DD).",
)
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone for report times.")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("-"),
    help="Write the profile here ('-': stdout, the default).",
)
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@pass_state
def init(
    state: CliState,
    organisation: str,
    segments: tuple[str, ...],
    reference: str,
    approver: str,
    valid_until: datetime | None,
    timezone: str,
    output: Path,
    force: bool,
) -> None:
    """Write a commented starter profile for a city's segments.

    Without --authorization, --approver and --valid-until the authorization is left empty, and the
    profile does not validate until the written authorization is filled in.

    \b
    Examples:
      secaudit profile init --organisation "Phuket City" --segment cc=10.10.1.0/24 \\
          --segment signals=10.20.0.0/24:ot -o phuket.yaml
      secaudit profile init --organisation "Phuket City" --segment dmz=203.0.113.0/28:dmz \\
          --authorization PKT-2027-01 --approver "Director" --valid-until 2027-12-31
    """
    specs = [parse_segment(text) for text in segments]
    today = date.today()
    until = valid_until.date() if valid_until else None
    if until is not None and until < today:
        raise UsageError(
            f"--valid-until {until.isoformat()} is in the past", hint="give the authorization's last day"
        )
    text = starter_profile(
        organisation=organisation,
        segments=specs,
        reference=reference,
        approver=approver,
        valid_from=today,
        valid_until=until,
        timezone=timezone,
    )
    if str(output) == "-":
        sys.stdout.write(text)
        return
    if output.exists() and not force:
        raise UsageError(f"{output} exists", hint="choose another --output, or pass --force to overwrite it")
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise OperationalError(f"cannot write {output}: {e.strerror}", location=str(output)) from e
    state.info(f"wrote {output}; fill in what it marks, then: secaudit profile validate {output}")
