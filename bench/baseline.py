"""Baseline benchmarks: checks against a real offline Debian 12 root, and the IOS baseline over 100
real IOS configurations (../shared/fixtures/ios-batfish).

Targets: >= 200 checks against the offline root in <= 1 s (OpenSCAP needs about 7 s for 403 rules),
100 IOS configs in <= 2 s. Run alone with ``python -m bench.baseline``; ``python -m bench`` runs it
after the foundation cases. The Debian root is the test suite's debootstrap root (built and cached
on first use, about a minute; needs debootstrap and the Debian mirror of the machine's apt sources).
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from secaudit.baseline import CheckStatus, FileTarget, OfflineTarget, load_baseline, run_baseline
from tests.baseline.debroot import build_root

REPO = Path(__file__).resolve().parents[1]
IOS = REPO.parent / "shared" / "fixtures" / "ios-batfish"
ROOT_BASELINES = ("debian12-server", "ubuntu-server", "postgresql", "docker-host")
IOS_CONFIGS = 100


def _line(label: str, seconds: float, note: str) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {label:<44} | {seconds:8.3f} s | {peak:7.0f} MB | {note}", flush=True)


def ios_configs(count: int = IOS_CONFIGS) -> list[Path]:
    """The 26 network configs (13 routers, live and candidate), then single-feature test configs."""
    networks = sorted((IOS / "networks").rglob("*.cfg"))
    tests = sorted(p for p in (IOS / "projects").rglob("testconfigs/*") if p.is_file())
    return (networks + tests)[:count]


def bench_offline_root(root: Path) -> None:
    baselines = [load_baseline(b) for b in ROOT_BASELINES]
    debian = baselines[0]
    start = time.perf_counter()
    run = run_baseline(debian, OfflineTarget(root))
    seconds = time.perf_counter() - start
    decided = run.count(CheckStatus.PASS) + run.count(CheckStatus.FAIL)
    _line(f"baseline: debian12-server, {len(run.results)} checks", seconds, f"{decided} decided, cold target")
    start = time.perf_counter()
    target = OfflineTarget(root)  # one target for all baselines, as an audit does
    runs = [run_baseline(b, target) for b in baselines]
    seconds = time.perf_counter() - start
    checks = sum(len(r.results) for r in runs)
    decided = sum(r.count(CheckStatus.PASS) + r.count(CheckStatus.FAIL) for r in runs)
    errors = sum(r.count(CheckStatus.ERROR) for r in runs)
    _line(
        f"baseline: {checks} checks, offline Debian 12 root",
        seconds,
        f"{len(baselines)} baselines, {decided} decided, {errors} errors (target <= 1 s for >= 200)",
    )


def bench_ios(count: int = IOS_CONFIGS) -> None:
    configs = ios_configs(count)
    baseline = load_baseline("cisco-ios")
    start = time.perf_counter()
    runs = [run_baseline(baseline, FileTarget(path)) for path in configs]
    seconds = time.perf_counter() - start
    checks = sum(len(r.results) for r in runs)
    errors = sum(r.count(CheckStatus.ERROR) for r in runs)
    _line(
        f"baseline: cisco-ios on {len(configs)} IOS configs",
        seconds,
        f"{checks} check results, {errors} errors (target <= 2 s)",
    )


def run() -> None:
    """Both baseline benchmarks, one table line each."""
    bench_offline_root(build_root())
    bench_ios()


if __name__ == "__main__":
    print("| case | time | peak RSS | notes |\n| --- | --- | --- | --- |")
    run()
