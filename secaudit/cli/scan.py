"""``secaudit scope check`` and ``secaudit scan``: authorized active scanning."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from secaudit.app.scan import ScanOptions, check_scope, diff_scans
from secaudit.app.scan import inventory as load_inventory
from secaudit.app.scan import scan as run_scan
from secaudit.catalog.profile import load_profile
from secaudit.cli.common import SEVERITY_STYLE, CliState, ExitWith, json_option, pass_state
from secaudit.core.errors import ExitCode, SecauditError, UsageError
from secaudit.core.model import RunStatus, Severity
from secaudit.history import ScanDiff, ServiceRecord

_PROFILE = click.option(
    "--profile",
    "profile_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The audit profile (authorization, segments, exclusions).",
)
_HISTORY = click.option(
    "--history",
    type=click.Path(path_type=Path, dir_okay=False),
    help="History database (default: $SECAUDIT_HISTORY, the profile's history, "
    "<report folder>/history.sqlite).",
)


@click.group()
def scope() -> None:
    """The scope guard: which targets the written authorization covers."""


@scope.command("check")
@_PROFILE
@click.argument("targets", nargs=-1, required=True)
@json_option
@pass_state
def scope_check(state: CliState, profile_path: Path, targets: tuple[str, ...]) -> None:
    """Explain for each TARGET whether it may be scanned; exit 0 if all may, 2 otherwise.

    A TARGET is an address, a CIDR, a range (127.20.1.1-9 or 127.20.1.1-127.20.1.9) or a
    hostname (resolved first; refused if any of its addresses is out of scope). Sends no packet
    except DNS lookups for hostnames.

    \b
    Examples:
      secaudit scope check --profile samples/phuket-demo.yaml 127.20.2.10 127.20.2.0/28
      secaudit scope check --profile city.yaml --json nvr-01.cctv.example
    """
    now = datetime.now(UTC)
    profile = load_profile(profile_path, now=now, require_valid_authorization=False)
    verdicts = check_scope(profile, targets, now=now)
    if state.json:
        state.emit_json(
            [
                {
                    "target": v.target,
                    "kind": v.kind,
                    "in_scope": v.allowed,
                    "reason": v.reason,
                    "addresses": [
                        {
                            "address": a.address,
                            "segment": a.segment,
                            "in_scope": a.allowed,
                            "reason": a.reason,
                        }
                        for a in v.addresses
                    ],
                    "explanation": v.explain(),
                }
                for v in verdicts
            ]
        )
    else:
        for v in verdicts:
            mark = "[green]in scope[/green]" if v.allowed else "[bold red]refused[/bold red]"
            state.out.print(f"{mark}  {escape(v.explain())}", highlight=False)
    if not all(v.allowed for v in verdicts):
        raise ExitWith(ExitCode.USAGE)


@click.group("scan", invoke_without_command=True)
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The audit profile (authorization, segments, exclusions); required to scan.",
)
@click.option(
    "--segment", "segments", multiple=True, metavar="NAME", help="Scan only this segment (repeatable)."
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="TARGET",
    help="Scan only this address, CIDR, range or hostname (repeatable); all must be in scope.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Run folder for results (default: <report folder>/<run-id>/).",
)
@click.option(
    "--fail-on",
    type=click.Choice(Severity.names(), case_sensitive=False),
    help="Exit 1 when a finding is at or above this severity.",
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1, max=64),
    default=4,
    show_default=True,
    help="Segments scanned at the same time, each with its own profile's rate limit.",
)
@click.option(
    "--max-total-rate",
    type=click.IntRange(min=0),
    default=0,
    metavar="PPS",
    help="Packets per second for all running segments together (shared equally; 0: no cap "
    "beyond each profile's own).",
)
@_HISTORY
@json_option
@click.pass_context
def scan(
    ctx: click.Context,
    profile_path: Path | None,
    segments: tuple[str, ...],
    targets: tuple[str, ...],
    output: Path | None,
    fail_on: str | None,
    parallel: int,
    max_total_rate: int,
    history: Path | None,
) -> None:
    """Scan the profile's segments with nmap, each with its scan profile, and report exposures.

    Every address is checked against the authorization first; exclusions are never scanned.
    OT and CCTV segments get the gentle ot-safe profile by default. Raw nmap XML, the audit
    trail (scan-audit.jsonl) and scan-findings.json are written into the run folder, and the
    hosts seen are merged into the inventory in history (see `secaudit scan diff`).
    Exit 0 done, 1 findings at or above --fail-on, 2 out of scope or bad profile, 3 scan failed
    or incomplete.

    \b
    Examples:
      secaudit scan --profile samples/phuket-demo.yaml
      secaudit scan --profile city.yaml --segment traffic-control --output /tmp/tc-scan
      secaudit scan --profile city.yaml --target 10.20.2.10 --target nvr-01.cctv.example
      secaudit scan --profile city.yaml --parallel 8 --max-total-rate 400
    """
    if ctx.invoked_subcommand is not None:
        return
    if profile_path is None:
        raise click.UsageError("Missing option '--profile'.", ctx=ctx)
    state = ctx.ensure_object(CliState)
    now = datetime.now(UTC)
    profile = load_profile(profile_path, now=now, require_valid_authorization=False)
    with state.progress() as progress:
        result = run_scan(
            profile,
            now=now,
            progress=progress,
            segments=segments,
            targets=targets,
            output=output,
            history=history,
            options=ScanOptions(parallel_segments=parallel, max_total_rate=max_total_rate),
        )
    stage = result.output.result
    findings = sorted(result.output.findings, key=lambda f: (-f.severity, f.asset.key, f.evidence_key))
    if state.json:
        state.emit_json(
            {
                "run_id": result.run_id,
                "run_dir": str(result.run_dir),
                "status": stage.status.value,
                "errors": list(stage.errors),
                "hosts_up": stage.items,
                "history": str(result.history) if result.history else None,
                "findings": [
                    {
                        "severity": f.severity.label,
                        "rule_id": f.rule_id,
                        "asset": f.asset.key,
                        "segment": f.asset.segment,
                        "criticality": f.asset.criticality.label,
                        "location": f.evidence[0].location if f.evidence else "",
                        "title": f.title,
                        "fingerprint": f.fingerprint,
                    }
                    for f in findings
                ],
            }
        )
    else:
        table = Table(title=f"Exposures found ({len(findings)})", show_lines=False)
        for column in ("severity", "rule", "asset", "segment", "where", "title"):
            table.add_column(column)
        for f in findings:
            style = SEVERITY_STYLE.get(f.severity.label, "")
            table.add_row(
                f"[{style}]{f.severity.label}[/{style}]" if style else f.severity.label,
                f.rule_id,
                escape(f.asset.key),
                f.asset.segment,
                escape(f.evidence[0].location if f.evidence else ""),
                escape(f.title),
            )
        state.out.print(table)
        state.info(f"{stage.items} host(s) up; results in {result.run_dir}")
        if result.history is not None:
            state.info(f"inventory: scan {result.run_id} in {result.history} (compare: secaudit scan diff)")
        for error in stage.errors:
            state.err.print(f"[yellow]warning:[/yellow] {escape(error)}", highlight=False)
    if stage.status is RunStatus.INTERRUPTED:
        raise ExitWith(ExitCode.INTERRUPTED)
    if stage.status is not RunStatus.COMPLETED:
        raise ExitWith(ExitCode.OPERATIONAL)
    if fail_on and any(f.severity >= Severity.parse(fail_on) for f in findings):
        raise ExitWith(ExitCode.FINDINGS)


@scan.command("diff")
@_PROFILE
@click.argument("scans", nargs=-1, metavar="[SCAN_A SCAN_B]")
@_HISTORY
@json_option
@pass_state
def scan_diff(state: CliState, profile_path: Path, scans: tuple[str, ...], history: Path | None) -> None:
    """What changed between two recorded scans: new and gone hosts, ports opened and closed,
    service or version changes. Without scan ids: the profile's last two completed scans.

    Only addresses both scans covered are compared. Exit 0 same, 1 different, 2 error (like
    ndiff), so CI can gate on drift.

    \b
    Examples:
      secaudit scan diff --profile samples/phuket-demo.yaml
      secaudit scan diff --profile city.yaml 20261120T010000Z-ab12 20261121T010000Z-cd34 --json
    """
    if len(scans) not in (0, 2):
        raise click.UsageError("give two scan ids (SCAN_A SCAN_B), or none for the last two scans")
    try:
        diff = diff_scans(
            profile_path,
            now=datetime.now(UTC),
            scan_a=scans[0] if scans else None,
            scan_b=scans[1] if scans else None,
            history=history,
        )
    except SecauditError as e:
        if e.exit_code == ExitCode.USAGE:
            raise
        raise UsageError(e.message, location=e.location, hint=e.hint) from e  # ndiff: any error is 2
    if state.json:
        state.emit_json(diff_to_dict(diff))
    else:
        _print_diff(state, diff)
    if not diff.same:
        raise ExitWith(ExitCode.FINDINGS)


@scan.command("inventory")
@_PROFILE
@_HISTORY
@json_option
@pass_state
def scan_inventory(state: CliState, profile_path: Path, history: Path | None) -> None:
    """Every host the profile's scans, ARP sweeps and captures have seen, merged: address, MAC
    and vendor, hostname, segment, open services with product, version and CPEs, first and last
    seen.

    \b
    Examples:
      secaudit scan inventory --profile samples/phuket-demo.yaml
      secaudit scan inventory --profile city.yaml --json
    """
    assets = load_inventory(profile_path, now=datetime.now(UTC), history=history)
    if state.json:
        state.emit_json(
            [
                {
                    "address": a.host.address,
                    "mac": a.host.mac,
                    "vendor": a.host.vendor,
                    "hostname": a.host.hostname,
                    "segment": a.host.segment,
                    "services": [_service(s) for s in a.host.services],
                    "cpes": list(a.host.cpes),
                    "first_seen": a.first_seen.isoformat(),
                    "last_seen": a.last_seen.isoformat(),
                    "first_scan": a.first_scan_id,
                    "last_scan": a.last_scan_id,
                }
                for a in assets
            ]
        )
        return
    table = Table(title=f"Inventory ({len(assets)} addresses)")
    for column in ("address", "mac / vendor", "segment", "services", "first seen", "last seen"):
        table.add_column(column)
    for a in assets:
        h = a.host
        table.add_row(
            escape(h.address),
            escape(" ".join(x for x in (h.mac, f"({h.vendor})" if h.vendor else "") if x)),
            h.segment,
            escape(", ".join(f"{s.key} {s.label}".strip() for s in h.services)),
            f"{a.first_seen:%Y-%m-%d %H:%M}",
            f"{a.last_seen:%Y-%m-%d %H:%M}",
        )
    state.out.print(table)


def _service(s: ServiceRecord) -> dict[str, object]:
    return {"port": s.key, "state": s.state, "service": s.label, "cpes": list(s.cpes)}


def diff_to_dict(diff: ScanDiff) -> dict[str, object]:
    return {
        "a": {"scan": diff.a.id, "started_at": diff.a.started_at.isoformat(), "status": diff.a.status},
        "b": {"scan": diff.b.id, "started_at": diff.b.started_at.isoformat(), "status": diff.b.status},
        "same": diff.same,
        "new_hosts": [
            {"address": h.address, "segment": h.segment, "ports": [_service(s) for s in h.services]}
            for h in diff.new_hosts
        ],
        "gone_hosts": [{"address": h.address, "segment": h.segment} for h in diff.gone_hosts],
        "opened": [{"address": a, **_service(s)} for a, s in diff.opened],
        "closed": [{"address": a, **_service(s)} for a, s in diff.closed],
        "changed": [
            {"address": c.address, "port": c.key, "before": c.before, "after": c.after} for c in diff.changed
        ],
    }


def _print_diff(state: CliState, diff: ScanDiff) -> None:
    out = state.out
    out.print(
        f"scan {diff.a.id} ({diff.a.started_at:%Y-%m-%d %H:%M} UTC) -> "
        f"scan {diff.b.id} ({diff.b.started_at:%Y-%m-%d %H:%M} UTC)",
        highlight=False,
    )
    if diff.same:
        out.print("no change", highlight=False)
        return
    for h in diff.new_hosts:
        ports = ", ".join(f"{s.key} {s.label}".strip() for s in h.services) or "no open port"
        out.print(f"[green]+ host {escape(h.address)}[/green] ({h.segment or '-'}): {escape(ports)}")
    for h in diff.gone_hosts:
        out.print(f"[red]- host {escape(h.address)}[/red] ({h.segment or '-'})")
    for address, s in diff.opened:
        out.print(f"[green]+ {escape(address)} {s.key} opened[/green] {escape(s.label)}")
    for address, s in diff.closed:
        out.print(f"[red]- {escape(address)} {s.key} closed[/red] {escape(s.label)}")
    for c in diff.changed:
        out.print(f"[yellow]~ {escape(c.address)} {c.key}[/yellow] {escape(c.before)} -> {escape(c.after)}")
