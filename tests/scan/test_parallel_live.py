"""Segments scanned at the same time, each by its own nmap with its own rate, under a global cap.

Three OT segments on loopback (127.27.x.0/30), each a real nmap ot-safe scan of 40 closed ports
on two hosts (about 4 s at 20 probes/s). Run together they overlap in time and the stage takes
about as long as one; a global cap of 30 packets/s gives each running segment 10."""

from __future__ import annotations

import ipaddress
import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.core.model import Criticality, RunStatus, SegmentKind
from secaudit.core.profile import Authorization, Profile, Segment
from secaudit.scan import PROFILES, ScanOptions, scan_segments


def _profile() -> Profile:
    return Profile(
        path="parallel.yaml",
        organisation="Parallel test",
        authorization=Authorization(
            reference="PKT-PAR-1",
            approver="CISO",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=datetime(2099, 12, 31, tzinfo=UTC),
        ),
        segments=tuple(
            Segment(
                name=f"plant-{i}",
                cidrs=(ipaddress.ip_network(f"127.27.{i}.0/30"),),
                kind=SegmentKind.OT,
                owner="city",
                criticality=Criticality.HIGH,
                scan_profile="ot-safe",
            )
            for i in (1, 2, 3)
        ),
    )


def _scan(tmp_path: Path, **options: int) -> tuple[float, list[dict[str, object]], RunStatus]:
    profiles = dict(PROFILES)
    profiles["ot-safe"] = replace(PROFILES["ot-safe"], tcp_ports="1-40", udp_ports="", scripts=())
    started = time.monotonic()
    out = scan_segments(
        _profile(),
        run_dir=tmp_path,
        now=datetime.now(UTC),
        progress=lambda e: None,
        options=ScanOptions(profiles=profiles, privileged=False, **options),
    )
    wall = time.monotonic() - started
    trail = [json.loads(x) for x in (tmp_path / "scan-audit.jsonl").read_text().splitlines()]
    pings = [e for e in trail if "-sn" in e["argv"]]
    assert sorted(e["segment"] for e in pings) == ["plant-1", "plant-2", "plant-3"]
    assert {_rate(e) for e in pings} == {_rate(e) for e in trail if e not in pings}  # paced alike
    return wall, [e for e in trail if e not in pings], out.result.status  # the port scans


def _rate(entry: dict[str, object]) -> str:
    argv = list(entry["argv"])  # type: ignore[call-overload]
    return str(argv[argv.index("--max-rate") + 1])


@pytest.mark.slow
def test_segments_run_at_once_each_with_its_rate_under_the_global_cap(tmp_path: Path) -> None:
    wall, trail, status = _scan(tmp_path / "together", parallel_segments=3)
    assert status is RunStatus.COMPLETED
    assert sorted(e["segment"] for e in trail) == ["plant-1", "plant-2", "plant-3"]
    assert {_rate(e) for e in trail} == {"20"}  # each keeps ot-safe's own 20 packets/s
    durations = [float(e["duration_s"]) for e in trail]  # type: ignore[arg-type]
    assert min(durations) > 2.0
    assert wall < 0.7 * sum(durations)  # overlapped: far less than one after the other
    starts = sorted(datetime.fromisoformat(str(e["when"])).timestamp() for e in trail)
    assert starts[-1] - starts[0] < min(durations)  # all three began before the first ended

    _, capped, _ = _scan(tmp_path / "capped", parallel_segments=3, max_total_rate=30)
    assert {_rate(e) for e in capped} == {"10"}  # 30 packets/s shared by three segments

    wall_one, one_by_one, _ = _scan(tmp_path / "sequential", parallel_segments=1)
    starts = [datetime.fromisoformat(str(e["when"])).timestamp() for e in one_by_one]
    ends = [s + float(e["duration_s"]) for s, e in zip(starts, one_by_one, strict=True)]  # type: ignore[arg-type]
    assert all(ends[i] <= starts[i + 1] + 0.05 for i in range(2))  # strictly one after the other
    assert wall_one > wall
