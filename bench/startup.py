"""Start-up of the command line: wall and CPU time of whole `secaudit` processes, per command.

Each case runs the installed entry point as a fresh process (as a CI job calling secaudit per file
does) several times and reports the median wall time and the median CPU time of the child (user +
system), so a busy machine shows up as wall > CPU. Targets (issue 16): `secaudit --version` under
0.3 s, one baseline check of a config file under 0.5 s end to end. Run alone with
``python -m bench startup [--repeat N]``. Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECAUDIT = str(Path(sys.executable).with_name("secaudit"))
IOS_FILE = "file:samples/snapshots/cc-core-rtr01.cfg"
NGINX_FILE = "file:samples/snapshots/portal-nginx.conf"

CASES: list[tuple[str, list[str], str]] = [
    ("python -c pass (interpreter alone)", [sys.executable, "-c", "pass"], ""),
    ("secaudit --version", [SECAUDIT, "--version"], "target < 0.3 s"),
    ("secaudit --help", [SECAUDIT, "--help"], ""),
    ("secaudit profile validate (demo)", [SECAUDIT, "profile", "validate", "samples/phuket-demo.yaml"], ""),
    (
        "secaudit baseline check (one IOS file)",
        [SECAUDIT, "baseline", "check", "--baseline", "cisco-ios", "--target", IOS_FILE],
        "target < 0.5 s",
    ),
    (
        "secaudit baseline check (nginx file)",
        [SECAUDIT, "baseline", "check", "--baseline", "nginx", "--target", NGINX_FILE],
        "",
    ),
    ("secaudit logs hunt --help (loads pySigma)", [SECAUDIT, "logs", "hunt", "--help"], ""),
    ("secaudit audit --help (loads every stage)", [SECAUDIT, "audit", "--help"], ""),
]


def measure(argv: list[str], repeat: int) -> tuple[float, float]:
    walls: list[float] = []
    cpus: list[float] = []
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        quiet = subprocess.DEVNULL
        subprocess.run(argv, cwd=REPO, env=env, stdout=quiet, stderr=quiet, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(walls), statistics.median(cpus)


def run(repeat: int = 7) -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"| start-up (median of {repeat}) | wall | CPU | note |\n| --- | --- | --- | --- |")
    for label, argv, note in CASES:
        measure(argv, 1)  # warm the page cache and the .pyc files
        wall, cpu = measure(argv, repeat)
        print(f"| {label:<44} | {wall:6.3f} s | {cpu:6.3f} s | {note}", flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench startup")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    run(args.repeat)


if __name__ == "__main__":
    main(sys.argv[1:])
