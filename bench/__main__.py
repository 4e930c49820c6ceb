"""Foundation benchmarks: history writes and report rendering at realistic and large sizes.

Run with `make bench`. Prints one line per case with the machine it ran on; copy the table into
the README when the figures change. Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from bench.baseline import run as run_baseline_bench
from bench.hunt import main as hunt_bench
from bench.risk import run as run_risk_bench
from bench.scan import run as run_scan_bench
from bench.startup import main as startup_bench
from bench.startup import run as run_startup_bench
from bench.vuln import main as vuln_bench
from secaudit.app.reporting import build_report
from secaudit.catalog.profile import load_profile
from secaudit.core.model import Asset, Criticality, Evidence, Finding, Run, RunStatus, Severity, Source
from secaudit.core.report import Report
from secaudit.history.store import HistoryStore, RunDiff
from secaudit.report.html import render_html
from secaudit.report.json_writer import render_json

REPO = Path(__file__).resolve().parents[1]
SOURCES = list(Source)
SEVERITIES = list(Severity)


def findings(count: int, salt: int = 0) -> list[Finding]:
    out = []
    for i in range(count):
        host = i % 500
        out.append(
            Finding(
                rule_id=f"BENCH-{i % 97:03d}",
                source=SOURCES[i % len(SOURCES)],
                severity=SEVERITIES[i % len(SEVERITIES)],
                title=f"Benchmark finding {i % 97}",
                description="A synthetic finding used to measure history and report speed.",
                remediation="Nothing to do: synthetic.",
                asset=Asset(
                    key=f"host-{host}",
                    address=f"127.30.{host // 250}.{host % 250 + 1}",
                    criticality=Criticality((i % 5) + 1),
                    segment="bench",
                ),
                evidence_key=f"item-{i}-{salt if i % 10 == 0 else 0}",
                evidence=(
                    Evidence(
                        kind="file", summary="observed", location=f"/etc/x.conf:{i % 300}", excerpt="x" * 80
                    ),
                ),
            )
        )
    return out


def record(store: HistoryStore, run: Run, batch: list[Finding], diffs: list[RunDiff]) -> None:
    diffs.append(store.complete_run(run, "bench", batch, complete_sources=SOURCES))


def timed(label: str, func: Callable[[], object]) -> None:
    start = time.perf_counter()
    func()
    line(label, time.perf_counter() - start)


def line(label: str, seconds: float) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {label:<44} | {seconds:8.3f} s | {peak:7.0f} MB |", flush=True)


def html_report(report: Report, size: int, lang: str) -> None:
    """Render the HTML report; the label says how big the page came out."""
    out = io.StringIO()
    start = time.perf_counter()
    render_html(report, out, lang=lang)
    seconds = time.perf_counter() - start
    megabytes = len(out.getvalue().encode("utf-8")) / 1e6
    line(f"report: HTML ({lang}, {megabytes:.0f} MB) of {size:,} rows", seconds)


def main() -> None:
    if sys.argv[1:2] == ["hunt"]:  # python -m bench hunt [options]: only the log-hunting benchmark
        return hunt_bench(sys.argv[2:])
    if sys.argv[1:2] == ["startup"]:  # python -m bench startup [--repeat N]: start-up per command
        return startup_bench(sys.argv[2:])
    if sys.argv[1:2] == ["vuln"]:  # python -m bench vuln [--nvd N]: known-vulnerability feeds and matching
        return vuln_bench(sys.argv[2:])
    if sys.argv[1:2] == ["es"]:  # python -m bench es: Elasticsearch, when SECAUDIT_ES_URL points at a cluster
        from bench.es import main as es_bench  # noqa: PLC0415 - only this case needs the client

        sys.exit(es_bench(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated finding counts")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print("| case | time | peak RSS |\n| --- | --- | --- |")
    profile = load_profile(REPO / "samples" / "phuket-demo.yaml")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            batch_a, batch_b = findings(size), findings(size, salt=1)
            store = HistoryStore.open(Path(tmp) / f"h{size}.sqlite")
            runs: list[RunDiff] = []
            for n, batch in enumerate((batch_a, batch_b)):
                run = Run(
                    id=f"r{size}-{n}",
                    profile_path="p",
                    organisation="o",
                    started_at=start + timedelta(hours=n),
                )
                store.begin_run(run, "bench")
                done = Run(
                    id=run.id,
                    profile_path="p",
                    organisation="o",
                    started_at=run.started_at,
                    finished_at=run.started_at,
                    status=RunStatus.COMPLETED,
                )
                label = f"history: record run {n + 1} of {size:,} findings"
                timed(label, partial(record, store, done, batch, runs))
            store.close()
            report = build_report(
                run=done,
                profile=profile,
                findings=batch_b,
                new=set(runs[-1].new),
                dates={},
                fixed=runs[-1].fixed,
                previous_run_id="r0",
                generated_at=start,
            )
            # The HTML's worst case: no two findings aggregate (each title its own), one row each.
            distinct = build_report(
                run=done,
                profile=profile,
                findings=[replace(f, title=f"{f.title} #{i}") for i, f in enumerate(batch_b)],
                new=set(runs[-1].new),
                dates={},
                fixed=runs[-1].fixed,
                previous_run_id="r0",
                generated_at=start,
            )
            for lang in ("en", "th"):
                html_report(distinct, size, lang)
            timed(f"report: JSON of {size:,} findings", lambda r=report: render_json(r, io.StringIO()))
    run_risk_bench()
    hunt_bench([])
    run_baseline_bench()
    run_scan_bench()
    run_startup_bench()
    vuln_bench([])


if __name__ == "__main__":
    main()
