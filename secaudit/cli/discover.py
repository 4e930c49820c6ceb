"""``secaudit discover``: hosts, flows, ICS traffic and cleartext credentials from captures
(passive, nothing sent), or an ARP sweep of one authorized local segment (active, root)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from secaudit.app.discover import DiscoverRun, discover_pcap, passive_to_dict, sweep_segment
from secaudit.cli.common import (
    SEVERITY_STYLE,
    CliState,
    ExitWith,
    fail_on_option,
    fail_on_severity,
    json_option,
    pass_state,
)
from secaudit.core.errors import ExitCode, UsageError

_SHOWN = 25  # rows per table in the terminal; --json and --output hold everything


@click.command("discover")
@click.option(
    "--pcap",
    "pcaps",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="A pcap or pcapng capture to read (repeatable). Nothing is sent.",
)
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The audit profile: segments for flow checks and asset criticality; hosts go to its inventory.",
)
@click.option(
    "--flows",
    "flows_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Flow policy (allowed conduits between segments); default: the zone model by segment kind.",
)
@click.option(
    "--arp", "arp_segment", metavar="SEGMENT", help="ARP-sweep this local segment of --profile (root)."
)
@click.option("--interface", metavar="IFACE", help="Interface for --arp (default: the kernel's route).")
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the full results as JSON here.",
)
@click.option(
    "--history",
    type=click.Path(path_type=Path, dir_okay=False),
    help="History for the inventory (default as for `secaudit audit`).",
)
@fail_on_option("Exit 1 when a finding is at or above this severity ('none': never).")
@json_option
@pass_state
def discover(
    state: CliState,
    pcaps: tuple[Path, ...],
    profile_path: Path | None,
    flows_path: Path | None,
    arp_segment: str | None,
    interface: str | None,
    output: Path | None,
    history: Path | None,
    fail_on: str | None,
) -> None:
    """Discover hosts passively from captures, or actively with an ARP sweep.

    Passive (--pcap): hosts with MAC vendors, protocols and flows, Modbus function codes (writes
    flagged), cleartext logins (telnet, FTP, HTTP Basic) and SNMP communities, secrets redacted;
    with --profile also flows between segments that the flow policy does not allow, and the hosts
    are merged into the profile's inventory. A damaged or cut-short capture is reported and its
    readable packets are kept. Exit 0 done, 1 findings at or above --fail-on, 2 bad arguments or
    out of scope, 3 nothing could be read.

    \b
    Examples:
      secaudit discover --pcap span-port.pcap
      secaudit discover --pcap a.pcapng --pcap b.pcap --profile city.yaml --flows conduits.yaml --json
      secaudit discover --arp traffic-control --profile city.yaml
    """
    now = datetime.now(UTC)
    if arp_segment:
        if pcaps or profile_path is None:
            raise UsageError("--arp needs --profile and no --pcap", hint="sweep a segment, or read captures")
        run = sweep_segment(profile_path, arp_segment, now=now, interface=interface, history=history)
        if state.json:
            state.emit_json(
                {
                    "scan_id": run.scan_id,
                    "segment": run.sweep.segment,
                    "interface": run.sweep.interface,
                    "asked": run.sweep.asked,
                    "hosts": [
                        {"address": h.address, "mac": h.mac, "vendor": h.vendor} for h in run.sweep.hosts
                    ],
                    "ignored": run.sweep.ignored,
                    "interval_s": run.sweep.interval_s,
                    "stopped": run.sweep.stopped,
                }
            )
        else:
            table = Table(title=f"ARP sweep of {arp_segment} on {run.sweep.interface}")
            for column in ("address", "mac", "vendor"):
                table.add_column(column)
            for h in run.sweep.hosts:
                table.add_row(h.address, h.mac, escape(h.vendor))
            state.out.print(table)
            state.info(
                f"{len(run.sweep.hosts)} of {run.sweep.asked} addresses answered; inventory: {run.history}"
            )
            if run.sweep.stopped:
                state.err.print(f"[yellow]warning:[/yellow] {escape(run.sweep.stopped)}", highlight=False)
        if run.sweep.stopped:
            raise ExitWith(ExitCode.OPERATIONAL)  # cut short: the answers so far are kept
        return
    if not pcaps:
        raise UsageError("nothing to do", hint="give --pcap FILE (passive) or --arp SEGMENT --profile FILE")
    result = discover_pcap(
        pcaps, now=now, profile_path=profile_path, flows_path=flows_path, history=history, output=output
    )
    if state.json:
        state.emit_json(passive_to_dict(result))
    else:
        _print(state, result)
    for error in result.errors:
        if not state.json:
            state.err.print(f"[yellow]warning:[/yellow] {escape(error)}", highlight=False)
    gate = fail_on_severity(fail_on)
    if gate is not None and any(f.severity >= gate for f in result.findings):
        raise ExitWith(ExitCode.FINDINGS)


def _print(state: CliState, run: DiscoverRun) -> None:
    r = run.result
    out = state.out
    hosts = Table(title=f"Hosts ({len(r.hosts)})")
    for column in ("address", "mac", "vendor", "sent", "received", "services"):
        hosts.add_column(column)
    for h in r.hosts[:_SHOWN]:
        hosts.add_row(
            h.address, ", ".join(h.macs), escape(h.vendor), str(h.packets_sent), str(h.packets_received),
            ", ".join(h.services),
        )  # fmt: skip
    out.print(hosts)
    flows = Table(title=f"Flows ({len(r.flows)}, busiest first)")
    for column in ("client", "server", "service", "packets", "bytes"):
        flows.add_column(column)
    for flow in r.flows[:_SHOWN]:
        flows.add_row(
            flow.client, f"{flow.server}:{flow.port}/{flow.protocol}", flow.service, str(flow.packets),
            str(flow.bytes),
        )  # fmt: skip
    out.print(flows)
    if r.ics:
        ics = Table(title="ICS operations")
        for column in ("client", "server", "protocol", "unit", "function", "count", "write"):
            ics.add_column(column)
        for op in r.ics:
            ics.add_row(
                op.client, op.server, op.protocol, str(op.unit), f"{op.function} {op.name}", str(op.count),
                "[bold red]WRITE[/bold red]" if op.write else "",
            )  # fmt: skip
        out.print(ics)
    findings = Table(title=f"Findings ({len(run.findings)})")
    for column in ("severity", "rule", "asset", "what"):
        findings.add_column(column)
    for f in sorted(run.findings, key=lambda x: (-x.severity, x.rule_id, x.asset.key)):
        style = SEVERITY_STYLE.get(f.severity.label, "")
        findings.add_row(
            f"[{style}]{f.severity.label}[/{style}]" if style else f.severity.label,
            f.rule_id,
            escape(f.asset.key),
            escape(f.evidence[0].summary if f.evidence else f.title),
        )
    out.print(findings)
    state.info(f"{r.packets} packets read from {len(r.files)} file(s); {r.decoded} with an IP header")
