"""City-lab scan benchmark: a whole city scanned at once against the same scans one by one.

Builds a network-namespace lab (root): one scanner namespace joined by its own veth pair to each of
8 segment namespaces, 10.213.<n>.0/26 each, 100 live hosts in all (12 or 13 a segment), half the
segments OT (ot-safe profile), half IT (standard profile). Nothing has a default route; every
packet stays in namespaces this benchmark made, and they are removed at the end.

Four runs of the same scan plan:

1. ``secaudit scan --parallel 8`` (the whole city at once; per segment host discovery first,
   then the port scan of the hosts found up),
2. the same with one nmap per segment doing both (how the scan ran before; ``discover_first``
   off, through the API the CLI calls),
3. ``secaudit scan --parallel 1`` (segment by segment through secaudit),
4. nmap alone, segment by segment, with exactly the argv secaudit ran (read from its audit trail).

For each: wall time, and per segment the packets the scanner sent into it (the veth's tx
counter), the segment's nmap time, packets per second per segment and per live host. Run:
``python -m bench.citylab`` (``--quick``: runs 1 and 2 only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECAUDIT = REPO / ".venv" / "bin" / "secaudit"
SEGMENTS = 8
LIVE = [13, 13, 13, 13, 12, 12, 12, 12]  # 100 live hosts
FIRST_HOST = 10


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True, text=True)


@dataclass
class Lab:
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000:05d}")
    namespaces: list[str] = field(default_factory=list)

    @property
    def scanner(self) -> str:
        return f"sa-cl{self.tag}-scan"

    def segment_ns(self, i: int) -> str:
        return f"sa-cl{self.tag}-s{i}"

    def scanner_if(self, i: int) -> str:
        return f"cl{self.tag}a{i}"

    def subnet(self, i: int) -> str:
        return f"10.213.{240 + i}"

    def build(self) -> None:
        for ns in [self.scanner, *(self.segment_ns(i) for i in range(SEGMENTS))]:
            _ip("netns", "add", ns)
            self.namespaces.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            self.run(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        for i in range(SEGMENTS):
            ours, theirs = self.scanner_if(i), f"cl{self.tag}b{i}"
            _ip("link", "add", ours, "netns", self.scanner, "type", "veth", "peer", "name", theirs,
                "netns", self.segment_ns(i))  # fmt: skip
            _ip("-n", self.scanner, "addr", "add", f"{self.subnet(i)}.1/26", "dev", ours)
            for h in range(FIRST_HOST, FIRST_HOST + LIVE[i]):
                _ip("-n", self.segment_ns(i), "addr", "add", f"{self.subnet(i)}.{h}/26", "dev", theirs)
            _ip("-n", self.scanner, "link", "set", ours, "up")
            _ip("-n", self.segment_ns(i), "link", "set", theirs, "up")
        time.sleep(0.5)

    def close(self) -> None:
        for ns in self.namespaces:
            with suppress(subprocess.CalledProcessError):
                _ip("netns", "del", ns)

    def run(self, ns: str, *argv: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, timeout=timeout, check=False
        )

    def tx_packets(self) -> list[int]:
        out = []
        for i in range(SEGMENTS):
            done = self.run(self.scanner, "cat", f"/sys/class/net/{self.scanner_if(i)}/statistics/tx_packets")
            out.append(int(done.stdout.strip()))
        return out

    def flush_neighbours(self) -> None:
        for i in range(SEGMENTS):
            self.run(self.scanner, "ip", "neigh", "flush", "dev", self.scanner_if(i))

    def profile(self, folder: Path) -> Path:
        lines = [
            "version: 1",
            "organisation: City lab",
            "authorization:",
            "  reference: BENCH-CITYLAB",
            "  approver: bench",
            "  valid_from: 2026-01-01",
            "  valid_until: 2099-12-31",
            "segments:",
        ]
        for i in range(SEGMENTS):
            kind = "ot" if i % 2 == 0 else "it"
            lines += [
                f"  - name: seg{i}-{kind}",
                f"    cidrs: [{self.subnet(i)}.0/26]",
                f"    kind: {kind}",
                "    owner: bench",
                "    criticality: high",
                f"    exclusions: [{self.subnet(i)}.1/32]",  # the scanner's own address
            ]
        lines += ["report:", f"  output_dir: {folder}"]
        path = folder / "citylab.yaml"
        path.write_text("\n".join(lines) + "\n")
        return path


@dataclass
class Result:
    name: str
    wall_s: float
    segment_s: list[float]
    packets: list[int]


#: The scan as it ran before host discovery got its own run: one nmap per segment doing both
#: (ScanOptions(discover_first=False)), through the same API the CLI calls.
_COMBINED = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from secaudit.app.scan import scan
from secaudit.catalog.profile import load_profile
from secaudit.scan import ScanOptions
now = datetime.now(UTC)
out = Path(sys.argv[2])
profile = load_profile(Path(sys.argv[1]), now=now)
options = ScanOptions(parallel_segments=int(sys.argv[3]), discover_first=False)
result = scan(profile, now=now, progress=lambda e: None, output=out, options=options,
              history=out / "history.sqlite")
print('{"status": "%s"}' % result.output.result.status.value)
"""


def _secaudit(
    lab: Lab, profile: Path, out: Path, parallel: int, *, combined: bool = False
) -> tuple[Result, list[dict[str, object]]]:
    lab.flush_neighbours()
    before = lab.tx_packets()
    start = time.monotonic()
    if combined:
        python = str(REPO / ".venv" / "bin" / "python")
        done = lab.run(lab.scanner, python, "-c", _COMBINED, str(profile), str(out), str(parallel))
    else:
        done = lab.run(
            lab.scanner, str(SECAUDIT), "scan", "--profile", str(profile), "--output", str(out),
            "--parallel", str(parallel), "--json", "--history", str(out / "history.sqlite"),
        )  # fmt: skip
    wall = time.monotonic() - start
    after = lab.tx_packets()
    if done.returncode not in (0, 1):
        raise RuntimeError(
            f"secaudit scan --parallel {parallel} exited {done.returncode}: {done.stderr[-2000:]}"
        )
    status = json.loads(done.stdout.splitlines()[-1] if combined else done.stdout)["status"]
    trail = [json.loads(x) for x in (out / "scan-audit.jsonl").read_text().splitlines()]
    by_segment: dict[str, float] = {}
    for e in trail:  # host discovery and port scan, one after the other
        name = str(e["segment"])
        by_segment[name] = by_segment.get(name, 0.0) + float(e["duration_s"])  # type: ignore[arg-type]
    names = [f"seg{i}-{'ot' if i % 2 == 0 else 'it'}" for i in range(SEGMENTS)]
    label = "one nmap per segment (before)" if combined else "discovery first"
    return (
        Result(
            name=f"secaudit --parallel {parallel}, {label} ({status})",
            wall_s=wall,
            segment_s=[by_segment.get(n, 0.0) for n in names],
            packets=[a - b for a, b in zip(after, before, strict=True)],
        ),
        trail,
    )


def _nmap_alone(lab: Lab, trail: list[dict[str, object]]) -> Result:
    names = [f"seg{i}-{'ot' if i % 2 == 0 else 'it'}" for i in range(SEGMENTS)]
    # Each segment's nmap runs in trail order (host discovery, then the port scan of the hosts
    # secaudit's discovery found up, from the same files).
    argv_of: dict[str, list[list[str]]] = {}
    for e in trail:
        argv_of.setdefault(str(e["segment"]), []).append(_nmap_argv(e["argv"]))  # type: ignore[arg-type]
    lab.flush_neighbours()
    before = lab.tx_packets()
    durations = []
    start = time.monotonic()
    for name in names:
        t = time.monotonic()
        for argv in argv_of[name]:
            done = lab.run(lab.scanner, *argv)
            if done.returncode != 0:
                raise RuntimeError(f"nmap alone on {name} exited {done.returncode}: {done.stderr[-1000:]}")
        durations.append(time.monotonic() - t)
    wall = time.monotonic() - start
    after = lab.tx_packets()
    return Result(
        name="nmap alone, segment by segment, same argv",
        wall_s=wall,
        segment_s=durations,
        packets=[a - b for a, b in zip(after, before, strict=True)],
    )


def _table(results: list[Result]) -> None:
    print(f"\nCity lab: {SEGMENTS} segments (/26), {sum(LIVE)} live hosts; machine: {_machine()}")
    print("| run | whole city | packets | max pps / segment | max pps / host | median pps / host |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        seg_rates = [p / s for p, s in zip(r.packets, r.segment_s, strict=True) if s > 0]
        host_rates = [rate / n for rate, n in zip(seg_rates, LIVE, strict=False)]
        host_sorted = sorted(host_rates)
        median = host_sorted[len(host_sorted) // 2] if host_sorted else 0.0
        print(
            f"| {r.name} | {r.wall_s:7.1f} s | {sum(r.packets):,} | {max(seg_rates, default=0):6.1f} "
            f"| {max(host_rates, default=0):5.2f} | {median:5.2f} |"
        )
    print("\nPer segment (seconds / packets):")
    for r in results:
        cells = ", ".join(f"{s:.1f}/{p}" for s, p in zip(r.segment_s, r.packets, strict=True))
        print(f"  {r.name}: {cells}")


def _machine() -> str:
    cpus = os.cpu_count() or 0
    nmap = subprocess.run(["nmap", "--version"], capture_output=True, text=True, check=False).stdout.split(
        "\n"
    )[0]
    return f"{platform.system()} {platform.release()}, {cpus} CPU, Python {platform.python_version()}, {nmap}"


def _nmap_argv(argv: list[object]) -> list[str]:
    """The nmap command of a trail entry without the setpriv wrapper the runner puts before it."""
    words = [str(a) for a in argv]
    return words[words.index("--") + 1 :] if words and words[0].endswith("setpriv") else words


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="only the two whole-city runs (discovery first and before)"
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("city lab: skipped (network namespaces need root)")
        return 0
    lab = Lab()
    try:
        lab.build()
        with tempfile.TemporaryDirectory(prefix="secaudit-citylab-") as tmp:
            folder = Path(tmp)
            profile = lab.profile(folder)
            together, trail = _secaudit(lab, profile, folder / "together", parallel=SEGMENTS)
            combined, _ = _secaudit(lab, profile, folder / "combined", parallel=SEGMENTS, combined=True)
            results = [together, combined]
            if not args.quick:
                one_by_one, _ = _secaudit(lab, profile, folder / "one-by-one", parallel=1)
                results += [one_by_one, _nmap_alone(lab, trail)]
            _table(results)
    finally:
        lab.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
