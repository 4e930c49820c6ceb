"""Hits from documents are the embedded engine's hits: same JSONL lines, same order, same correlations.

The cluster decides which documents match (tests/elastic/test_integration.py); everything after that
needs none. Here the embedded engine picks the matching events, each event goes through its document
and JSON (as it would to the cluster and back), and what `logs hunt --es` hands on must equal, line
for line, what a local hunt of the same files writes, correlations included (secaudit's own rules: SSH
brute force and login after failures over the demo's logs).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from secaudit.app.es import deliver
from secaudit.app.hunt import Hit, HuntOptions, HuntSummary, collect, load_hunt_rules
from secaudit.detect.engine import Engine
from secaudit.detect.model import CorrelationHit
from secaudit.elastic.documents import to_document
from secaudit.elastic.search import hit_from_document
from secaudit.logs import ReadStats, read_events
from secaudit.report.hits import hit_record

REPO = Path(__file__).resolve().parents[2]
LOGS = str(REPO / "samples" / "logs")
RULES = (REPO / "rules" / "sigma",)


def _lines(hits: list[Hit]) -> list[bytes]:
    return [orjson.dumps(hit_record(h), option=orjson.OPT_NON_STR_KEYS) for h in hits]


def _layout(tmp_path: Path) -> str:
    """The demo's logs in a folder whose walk order differs from the order of its path strings: a
    local hunt reads a folder's files before its sub-folders."""
    root = tmp_path / "logs"
    (root / "aa").mkdir(parents=True)
    (root / "zz-auth.log").write_bytes((REPO / "samples/logs/cc-app-01/auth.log").read_bytes())
    (root / "aa" / "access.log").write_bytes((REPO / "samples/logs/citizen-portal/access.log").read_bytes())
    for name in ("core-rtr-01/syslog", "ops-ws-01/sysmon.json", "traffic-control/modbus.log"):
        (root / "aa" / name.replace("/", "-")).write_bytes((REPO / "samples/logs" / name).read_bytes())
    return str(root)


@pytest.mark.parametrize("layout", ["samples", "files before folders"])
def test_documents_give_the_local_hunts_lines_in_its_order(tmp_path: Path, layout: str) -> None:
    logs = LOGS if layout == "samples" else _layout(tmp_path)
    options = HuntOptions(inputs=(logs,), rules=RULES, workers=1, cache_dir=tmp_path / "cache")
    local, local_summary = collect(options)
    assert any(isinstance(h, CorrelationHit) for h in local)  # the demo's brute force is there

    ruleset = load_hunt_rules(options)
    index = {id(info): i for i, info in enumerate(ruleset.rules)}
    events = list(read_events([logs], stats=ReadStats()))
    seqs, previous, seq = {}, None, 0
    for event in events:
        key = (event.source, event.record)
        seq = seq + 1 if key == previous else 0
        previous = key
        seqs[id(event)] = seq
    found = []
    for hit in Engine(ruleset).match(events):
        source = orjson.loads(orjson.dumps(to_document(hit.event, seqs[id(hit.event)])))
        i = index[id(hit.rule)]
        where, rebuilt = hit_from_document(ruleset.rules[i], ruleset.plans[i].node, source)
        found.append((where, i, rebuilt))

    summary = HuntSummary()
    from_cluster: list[Hit] = []
    deliver(found, ruleset, summary, from_cluster.append)

    assert _lines(from_cluster) == _lines(local)
    assert summary.by_rule == local_summary.by_rule
    assert (summary.hits, summary.correlation_hits) == (local_summary.hits, local_summary.correlation_hits)
