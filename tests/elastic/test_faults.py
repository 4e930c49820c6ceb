"""How a hunt on the cluster reacts to the protocol's faults: failed shards, a 429, a slow answer, a
server that is not Elasticsearch.

The server here is a scripted loopback HTTP server (tests/elastic/fault_server.py), not a cluster: it
answers every search with the same scripted document, so these tests show secaudit's reaction to
faults, never that a query finds anything (tests/elastic/test_lucene.py and the integration tests do).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from secaudit.app.es import EsHuntOptions, hunt_es
from secaudit.cli.main import run
from secaudit.core.errors import OperationalError
from secaudit.core.events import LogEvent, LogKind
from secaudit.detect.model import RuleHit
from secaudit.elastic.documents import to_document
from secaudit.elastic.settings import EsSettings
from tests.elastic.fault_server import INDEX, Script, serve

RULE = """title: {word} seen
id: {uid}
logsource: {{product: linux}}
detection:
    keywords: ['{word}']
    condition: keywords
level: high
"""
ALPHA = "0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a01"
BRAVO = "0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a02"
FAST = (0.01, 0.01)


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "alpha.yml").write_text(RULE.format(word="alpha", uid=ALPHA), encoding="utf-8")
    (folder / "bravo.yml").write_text(RULE.format(word="bravo", uid=BRAVO), encoding="utf-8")
    return folder


def _document() -> dict[str, Any]:
    event = LogEvent(
        {"message": "alpha went by"},
        LogKind(product="linux", categories=frozenset(), services=frozenset()),
        "auth.log",
        7,
        datetime(2026, 11, 21, 1, 2, 3, tzinfo=UTC),
    )
    return to_document(event)


def _hunt(url: str, rules: Path, **extra: Any) -> tuple[Any, list[RuleHit]]:
    hits: list[RuleHit] = []
    options = EsHuntOptions(settings=EsSettings(url=url), index=INDEX, rules=(rules,), backoff=FAST, **extra)
    result = hunt_es(options, on_hit=hits.append)  # type: ignore[arg-type]
    return result, hits


def test_failed_shards_make_the_rule_partial_and_the_run_exit_3_after_writing_its_hits(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def fault(kind: str, body: str) -> tuple[int, Any, float] | None:
        if kind == "item" and "alpha" in body:
            item = {
                "took": 1,
                "timed_out": False,
                "_shards": {"total": 3, "successful": 2, "skipped": 0, "failed": 1},
                "hits": {"hits": [{"_id": "1", "_source": _document(), "sort": [1]}]},
                "status": 200,
            }
            return 200, item, 0.0
        return None

    script = Script(documents=[], fault=fault)
    with serve(script) as url:
        result, hits = _hunt(url, rules)
        assert result.partial == [ALPHA]
        assert result.faults.shard_failures == 1
        assert result.incomplete
        assert [h.rule.id for h in hits] == [ALPHA]  # the hit still comes out

        out = tmp_path / "hits.jsonl"
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules), "-o", str(out)]
        assert run(argv) == 3
        err = capsys.readouterr().err
        assert "incomplete" in err and "1 failed shards" in err and "--allow-partial" in err
        written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [w["rule_id"] for w in written] == [ALPHA]

        assert run([*argv, "--allow-partial"]) == 0
        assert "incomplete hunt accepted" in capsys.readouterr().err


def test_a_429_is_asked_again_after_a_pause(rules: Path) -> None:
    busy = [True]

    def fault(kind: str, body: str) -> tuple[int, Any, float] | None:
        if kind == "msearch" and busy[0]:
            busy[0] = False
            return (
                429,
                {"error": {"type": "es_rejected_execution_exception", "reason": "busy"}, "status": 429},
                0.0,
            )
        return None

    script = Script(documents=[_document()], fault=fault)
    with serve(script) as url:
        result, hits = _hunt(url, rules)
    assert result.faults.retries == 1
    assert [r for r in script.requests if r[1] == "/_msearch"] == [("POST", "/_msearch")] * 2
    assert not result.incomplete
    assert {h.rule.id for h in hits} == {ALPHA, BRAVO}  # scripted: both rules get the document


def test_a_slow_rule_is_reported_unfinished_and_the_others_hits_are_kept(rules: Path) -> None:
    def fault(kind: str, body: str) -> tuple[int, Any, float] | None:
        if kind in ("msearch", "search") and "bravo" in body:
            return 200, {"responses": []}, 2.0  # later than the timeout
        return None

    script = Script(documents=[_document()], fault=fault)
    with serve(script) as url:
        result, hits = _hunt(url, rules, timeout=0.5, rules_per_request=1)
    assert [h.rule.id for h in hits] == [ALPHA]
    assert [u.rule_id for u in result.unfinished] == [BRAVO]
    assert "did not answer" in result.unfinished[0].reason
    assert result.faults.retries >= 2
    assert result.incomplete


def test_a_server_that_is_not_elasticsearch_is_refused_with_a_clear_error(
    rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = Script(documents=[_document()], product_header=False)
    with serve(script) as url:
        with pytest.raises(OperationalError) as caught:
            _hunt(url, rules)
        assert url in (caught.value.location or "")
        assert run(["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules)]) == 3
    err = capsys.readouterr().err
    assert "Elasticsearch" in err


def test_documents_with_values_over_the_keyword_limit_are_matched_by_the_embedded_engine(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = _document()
    long["secaudit"]["record"] = 8
    long["sigma"]["ScriptBlockText"] = "bravo " + "z" * 9000
    long["secaudit"]["long_fields"] = ["ScriptBlockText"]
    bodies: list[str] = []

    def fault(kind: str, body: str) -> tuple[int, Any, float] | None:
        if kind == "item":
            bodies.append(body)
        return None

    # the rule queries (multi-search) answer the ordinary document; the search for documents with
    # long values (search_after) answers the long one
    script = Script(documents=[_document()], pages=[[long]], fault=fault)
    with serve(script) as url:
        result, hits = _hunt(url, rules)
        assert (result.long_value_documents, result.long_value_matched) == (1, 1)
        # record 7: the scripted answer to both rule queries; record 8: matched here, by alpha
        # ("alpha went by") and by bravo in the long value only
        found = sorted((h.rule.id, h.event.record) for h in hits)
        assert found == [(ALPHA, 7), (ALPHA, 8), (BRAVO, 7), (BRAVO, 8)]
        assert [h.matched_fields for h in hits if (h.rule.id, h.event.record) == (BRAVO, 8)] == [
            {"ScriptBlockText": long["sigma"]["ScriptBlockText"]}
        ]
        assert not result.incomplete
        # the rule queries leave such documents out: they are matched here, never twice
        left_out = [{"exists": {"field": "secaudit.long_fields"}}]
        assert bodies and all(json.loads(b)["query"]["bool"]["must_not"] == left_out for b in bodies)
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules)]
        script.requests.clear()  # the scripted pages are served again from the first
        assert run([*argv, "-o", str(tmp_path / "h")]) == 0
    printed = capsys.readouterr()
    said = " ".join((printed.out + printed.err).split())
    assert "1 documents in range hold a value over 8,191 characters" in said
    assert "1 of them fetched and matched here by the embedded engine" in said
