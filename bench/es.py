"""Elasticsearch benchmark: bulk ingest events/s and hunt seconds per 1,000 rules on a real cluster.

`python -m bench.es [--events N] [--keep]` with SECAUDIT_TEST_ES_URL (and optional
SECAUDIT_TEST_ES_API_KEY / _USER / _PASSWORD / _CA, as the integration tests) pointing at a local
single-node cluster (docs/elasticsearch.md). Without it the benchmark says so and does nothing.

Ingest: N events (default 200,000) built from SigmaHQ's regression events, each copy with its own
source file name and record number (so every one is a new document), sent by the same
ingest_events as `secaudit logs ingest`; a second pass of the first 10% measures the re-ingest path
(every document answered 409). Hunt: the whole ../shared/sigmahq/rules folder, converted and run
with point in time + search_after over the index, as `secaudit logs hunt --es`; reported per 1,000
rules run. The index is deleted afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from secaudit.app.es import EsHuntOptions, hunt_es
from secaudit.core.events import LogEvent
from secaudit.elastic.client import open_cluster
from secaudit.elastic.ingest import ensure_index, ingest_events, template_name
from secaudit.elastic.settings import EsSettings, Secret
from secaudit.logs import ReadStats, read_events

REPO = Path(__file__).resolve().parents[1]
SIGMAHQ = REPO.parent / "shared" / "sigmahq"


def settings_from_env() -> EsSettings | None:
    env = os.environ
    url = env.get("SECAUDIT_TEST_ES_URL")
    if not url:
        return None
    return EsSettings(
        url=url.rstrip("/"),
        api_key=Secret(env["SECAUDIT_TEST_ES_API_KEY"]) if env.get("SECAUDIT_TEST_ES_API_KEY") else None,
        username=env.get("SECAUDIT_TEST_ES_USER") or None,
        password=Secret(env["SECAUDIT_TEST_ES_PASSWORD"]) if env.get("SECAUDIT_TEST_ES_PASSWORD") else None,
        ca_cert=Path(env["SECAUDIT_TEST_ES_CA"]) if env.get("SECAUDIT_TEST_ES_CA") else None,
    )


def events(count: int) -> Iterator[LogEvent]:
    """``count`` events: the regression events again and again, each copy a distinct (source, record)."""
    stats = ReadStats()
    seeds = list(read_events([str(SIGMAHQ / "regression_data")], stats=stats))
    for n in range(count):
        seed = seeds[n % len(seeds)]
        shift = timedelta(seconds=n)
        yield seed._replace(
            source=f"bench/host-{n // 10_000:03d}/Sysmon.evtx",
            record=n + 1,
            timestamp=seed.timestamp + shift if seed.timestamp else None,
        )


def line(label: str, value: str) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {label:<52} | {value:>16} | {peak:7.0f} MB |", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.es", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark index")
    args = parser.parse_args(argv)
    settings = settings_from_env()
    if settings is None:
        print("bench.es: skipped, SECAUDIT_TEST_ES_URL is not set (docs/elasticsearch.md: start a cluster)")
        return 0
    client, engine = open_cluster(settings, "benchmarking", timeout=120)
    index = f"secaudit-bench-{uuid.uuid4().hex[:8]}"
    print(f"{engine.describe()} at {settings.url}; index {index}; {args.events} events")
    try:
        ensure_index(client, index)
        start = time.perf_counter()
        result = ingest_events(client, index, events(args.events))
        seconds = time.perf_counter() - start
        client.indices.refresh(index=index)
        assert result.created == args.events, result
        line(f"ingest: {args.events:,} new documents", f"{args.events / seconds:,.0f} ev/s")
        again = args.events // 10
        start = time.perf_counter()
        repeat = ingest_events(client, index, itertools.islice(events(args.events), again))
        seconds = time.perf_counter() - start
        assert repeat.existing == again, repeat
        line(f"ingest again: {again:,} documents already there", f"{again / seconds:,.0f} ev/s")
        hits: list[object] = []
        start = time.perf_counter()
        hunt = hunt_es(
            EsHuntOptions(settings=settings, index=index, rules=(SIGMAHQ / "rules",)), on_hit=hits.append
        )
        seconds = time.perf_counter() - start
        per_thousand = seconds / (hunt.converted / 1000)
        line(f"hunt: {hunt.converted:,} rules, {len(hits):,} hits", f"{per_thousand:,.1f} s/1k rules")
    finally:
        if not args.keep:
            client.options(ignore_status=404).indices.delete(index=index)
            client.options(ignore_status=404).indices.delete_index_template(name=template_name(index))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
