"""Risk benchmark: score, aggregate and rank 10k / 50k / 100k findings with the risk model.

The input is a city-sized mix built by arithmetic (same on every run): 5,000 hosts in the demo
profile's segments and outside them, every source, 400 rules, 3,000 CVEs (a third of them in a
synthetic KEV catalogue of year-2099 ids), each with its CVSS 3.1 or 4.0 vector (240 distinct),
cross-segment paths, and detections on 2 % of the hosts. Two shapes:

- *aggregated*: findings of one rule share a title, as producers write them (about 400 rows);
- *distinct*: every finding its own row (the worst case for ranking).

Measured: :func:`secaudit.risk.aggregate.ranked_rows` plus the posture score, i.e. everything the
risk layer does for a report. Run alone with ``python -m bench.risk [--sizes 10000,50000]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

from secaudit.catalog.kev import Kev, parse_kev
from secaudit.catalog.profile import load_profile
from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    Reference,
    RefKind,
    Severity,
    Source,
    Status,
)
from secaudit.core.profile import Profile
from secaudit.risk.aggregate import posture_score, ranked_rows
from secaudit.risk.model import RiskContext, detections_by_asset, with_kev

REPO = Path(__file__).resolve().parents[1]
SIZES = (10_000, 50_000, 100_000)
HOSTS = 5_000
RULES = 400
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_SEGMENTS = ("command-center", "city-data", "traffic-control", "cctv", "dmz", "iot-gateways")
_SOURCES = (Source.SCAN, Source.BASELINE, Source.BASELINE, Source.PASSIVE, Source.SCAN)
_AV = ("N", "A", "L", "P")
_CIA = ("H", "L", "N")


def _vector(n: int) -> str:
    """One of 240 distinct, valid CVSS vectors (3.1 and 4.0, some with exploit maturity)."""
    av, c, i, a = _AV[n % 4], _CIA[(n // 4) % 3], _CIA[(n // 12) % 3], _CIA[(n // 36) % 3]
    if n % 2:
        maturity = ("", "/E:P", "/E:A", "/E:U")[(n // 2) % 4]
        return f"CVSS:4.0/AV:{av}/AC:L/AT:N/PR:N/UI:N/VC:{c}/VI:{i}/VA:{a}/SC:N/SI:N/SA:N{maturity}"
    maturity = ("", "/E:P", "/E:F", "/E:H")[(n // 2) % 4]
    return f"CVSS:3.1/AV:{av}/AC:L/PR:N/UI:N/S:U/C:{c}/I:{i}/A:{a}{maturity}"


def kev_catalogue() -> Kev:
    """A synthetic catalogue: CVE-2099-<n> for every n divisible by 3 below 3,000."""
    items = [
        {
            "cveID": f"CVE-2099-{n:04d}",
            "vendorProject": "Synthetic",
            "product": f"Product {n}",
            "vulnerabilityName": "synthetic",
            "dateAdded": "2099-01-01",
        }
        for n in range(0, 3_000, 3)
    ]
    data = {"catalogVersion": "bench", "dateReleased": "2099-01-02T00:00:00Z", "count": len(items)}
    return parse_kev(json.dumps({**data, "vulnerabilities": items}), "bench-kev.json")


def _host(n: int) -> Asset:
    segment = _SEGMENTS[n % len(_SEGMENTS)]
    inside = n % 10 < 7  # most hosts inside a demo segment, the rest where the profile has none
    address = f"127.20.{n % 6 + 1}.{n % 14 + 1}" if inside else f"127.21.{n // 250 % 250}.{n % 250 + 1}"
    return Asset(
        key=f"host-{n:05d}",
        address=address,
        segment=segment if n % 3 == 0 else "",
        criticality=Criticality(n % 5 + 1),
        tags=("internet-facing",) if n % 97 == 0 else (),
    )


def city_findings(count: int, *, distinct: bool = False) -> list[Finding]:
    hosts = [_host(n) for n in range(HOSTS)]
    out = []
    for i in range(count):
        host = hosts[(i * 7919) % HOSTS]
        rule = i % RULES
        source = Source.DETECTION if host.key.endswith(("00", "50")) and i % 4 == 0 else _SOURCES[rule % 5]
        references: tuple[Reference, ...] = ()
        attributes: list[tuple[str, str]] = []
        if source is Source.SCAN and rule % 2 == 0:  # a CVE, with its own CVSS vector
            cve = (rule * 13 + i) % 3_000
            references = (Reference(kind=RefKind.CVE, id=f"CVE-2099-{cve:04d}"),)
            attributes.append(("cvss", _vector(cve % 240)))
        if i % 11 == 0:
            attributes.append(("reachable_from", _SEGMENTS[i % len(_SEGMENTS)]))
        attributes.append(("port", str(1 + rule % 1024)))
        out.append(
            Finding(
                rule_id=f"RULE-{rule:03d}",
                source=source,
                severity=Severity(rule % 5),
                title=f"Synthetic weakness {rule}" + (f" #{i}" if distinct else ""),
                asset=host,
                description="A synthetic finding for the risk benchmark.",
                evidence_key=f"item-{i}",
                evidence=(
                    Evidence(
                        kind="network" if source is Source.SCAN else "config",
                        summary="observed",
                        location=f"{host.address}:{rule}",
                        attributes=tuple(sorted(attributes)),
                    ),
                ),
                references=references,
            )
        )
    return out


def _history(fp: str) -> tuple[Status, datetime, datetime]:
    return Status.NEW, T0, T0


def score(findings: list[Finding], profile: Profile, kev: Kev) -> tuple[int, float]:
    ctx = with_kev(RiskContext(profile=profile, attacked=detections_by_asset(findings)), kev)
    rows = ranked_rows(findings, ctx, _history)
    return len(rows), posture_score(rows)


def _line(label: str, seconds: float, note: str) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {label:<44} | {seconds:8.3f} s | {peak:7.0f} MB | {note}", flush=True)


def run(sizes: tuple[int, ...] = SIZES) -> None:
    profile = load_profile(REPO / "samples" / "phuket-demo.yaml", require_valid_authorization=False)
    kev = kev_catalogue()
    for size in sizes:
        for distinct in (False, True):
            findings = city_findings(size, distinct=distinct)
            start = time.perf_counter()
            rows, _ = score(findings, profile, kev)
            seconds = time.perf_counter() - start
            shape = "distinct" if distinct else "aggregated"
            _line(f"risk: score + rank {size:,} findings, {shape}", seconds, f"{rows:,} rows")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.risk")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated finding counts")
    args = parser.parse_args()
    print("| case | time | peak RSS | note |\n| --- | --- | --- | --- |")
    run(tuple(int(s) for s in args.sizes.split(",")))


if __name__ == "__main__":
    main()
