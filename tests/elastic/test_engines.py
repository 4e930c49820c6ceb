"""Both engines behind one client: ``es-check`` names the engine and its version and exits 3 on one
secaudit does not support; requests carry the media types each engine accepts; point in time goes to
each engine's endpoint.

On the scripted loopback server (tests/elastic/fault_server.py, not a cluster): it answers ``GET /`` as
each engine's root endpoint does (OpenSearch: ``version.distribution``, no ``X-Elastic-Product``
header; in compatibility mode a 7.10.2 version and the OpenSearch tagline), refuses what each engine
refuses (OpenSearch: any ``vnd.elasticsearch`` media type, HTTP 406; Elasticsearch 8: a
``compatible-with=9``) and records every request. That shows the protocol handling only, never that a
query finds anything on a real engine (tests/elastic/test_integration.py does, against real clusters).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secaudit.app.es import EsHuntOptions, hunt_es, ingest_logs
from secaudit.cli.main import run
from secaudit.detect.model import RuleHit
from secaudit.elastic.settings import EsSettings
from tests.elastic.fault_server import INDEX, Script, serve
from tests.elastic.test_faults import ALPHA, FAST, _document


def _opensearch(number: str, **root: Any) -> dict[str, Any]:
    return {
        "version": {"distribution": "opensearch", "number": number},
        "tagline": "The OpenSearch Project: https://opensearch.org/",
        **root,
    }


COMPATIBILITY_MODE = {
    "version": {"number": "7.10.2"},
    "tagline": "The OpenSearch Project: https://opensearch.org/",
}


@pytest.mark.parametrize(
    ("script", "code", "words"),
    [
        (Script(), 0, "Elasticsearch 8.15.3, cluster scripted"),
        (Script(info={"version": {"number": "9.1.2"}}), 0, "Elasticsearch 9.1.2"),
        (Script(info={"version": {"number": "7.17.9"}}), 3, "Elasticsearch 7.17.9 is not supported"),
        (Script(info={"version": {"number": "10.0.0"}}), 3, "Elasticsearch 10.0.0 is not supported"),
        (Script(info=_opensearch("2.11.0"), opensearch=True), 0, "OpenSearch 2.11.0, cluster scripted"),
        (Script(info=_opensearch("3.2.0"), opensearch=True), 0, "OpenSearch 3.2.0"),
        (Script(info=_opensearch("2.3.0"), opensearch=True), 3, "OpenSearch 2.3.0 is not supported"),
        (Script(info=_opensearch("1.3.19"), opensearch=True), 3, "OpenSearch 1.3.19 is not supported"),
        (
            Script(info=_opensearch("2.19.1", name="wazuh-indexer-1"), opensearch=True),
            0,
            "Wazuh indexer (OpenSearch) 2.19.1",
        ),
        (
            Script(info=COMPATIBILITY_MODE, opensearch=True, node_version="2.19.1"),
            0,
            "OpenSearch 2.19.1 (compatibility mode: GET / says 7.10.2)",
        ),
        (
            Script(info=COMPATIBILITY_MODE, opensearch=True),
            0,
            "OpenSearch (version not readable) (compatibility mode: GET / says 7.10.2, real version",
        ),
        (Script(info={"version": {"number": "8.15.3"}}, product_header=False), 3, "unknown server"),
    ],
)
def test_es_check_names_the_engine_and_refuses_an_unsupported_one(
    script: Script, code: int, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(script) as url:
        assert run(["logs", "es-check", url, "--index", "secaudit-logs-fault"]) == code
    printed = capsys.readouterr()
    assert words in " ".join((printed.out + printed.err).split())
    if code == 3:
        said = " ".join(printed.err.split())
        assert "secaudit works with Elasticsearch 8.x and 9.x, OpenSearch 2.4 or later" in said
    else:
        assert INDEX in printed.out  # the indices were listed with the engine's own calls


def test_es_check_json_names_product_version_and_problem(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(Script(info=_opensearch("2.3.0"), opensearch=True)) as url:
        assert run(["logs", "es-check", url, "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert (data["engine"], data["product"], data["version"]) == ("OpenSearch", "OpenSearch", "2.3.0")
    assert data["supported"] is False and "2.4 or later" in data["problem"]


def _hunt(url: str, rules: Path) -> tuple[Any, list[RuleHit]]:
    hits: list[RuleHit] = []
    options = EsHuntOptions(settings=EsSettings(url=url), index=INDEX, rules=(rules,), backoff=FAST)
    result = hunt_es(options, on_hit=hits.append)  # type: ignore[arg-type]
    return result, hits


def _rule(tmp_path: Path) -> Path:
    rule = tmp_path / "alpha.yml"
    rule.write_text(
        f"title: alpha\nid: {ALPHA}\nlogsource: {{product: linux}}\ndetection:\n    k: [alpha]\n"
        "    condition: k\nlevel: high\n",
        encoding="utf-8",
    )
    return rule


def test_a_hunt_on_opensearch_sends_plain_media_types_and_its_point_in_time_endpoints(
    tmp_path: Path,
) -> None:
    script = Script(info=_opensearch("2.19.1"), opensearch=True, documents=[_document()])
    with serve(script) as url:
        result, hits = _hunt(url, _rule(tmp_path))
    assert [h.rule.id for h in hits] == [ALPHA]
    assert (result.engine, result.version) == ("OpenSearch", "2.19.1")
    sent = " ".join(accept + kind for _, _, accept, kind in script.headers)
    assert "vnd.elasticsearch" not in sent and "application/json" in sent
    assert ("POST", f"/{INDEX}/_search/point_in_time") in script.requests
    assert ("DELETE", "/_search/point_in_time") in script.requests
    assert not any(path.endswith("/_pit") for _, path in script.requests)


def test_a_hunt_on_elasticsearch_8_asks_for_the_8_compatibility_and_its_pit_endpoints(
    tmp_path: Path,
) -> None:
    script = Script(documents=[_document()])  # 8.15.3: refuses compatible-with=9 (HTTP 400)
    with serve(script) as url:
        result, hits = _hunt(url, _rule(tmp_path))
    assert [h.rule.id for h in hits] == [ALPHA]
    assert (result.engine, result.version) == ("Elasticsearch", "8.15.3")
    vendored = [
        accept + kind for _, _, accept, kind in script.headers if "vnd.elasticsearch" in accept + kind
    ]
    assert vendored and all("compatible-with=8" in v and "compatible-with=9" not in v for v in vendored)
    assert ("POST", f"/{INDEX}/_pit") in script.requests and ("DELETE", "/_pit") in script.requests


def test_opensearch_without_the_monitor_privilege_is_still_told_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = Script(info=_opensearch("2.19.1"), opensearch=True, documents=[_document()], forbidden=("/",))
    out = tmp_path / "hits.jsonl"
    with serve(script) as url:
        argv = [
            "logs",
            "hunt",
            "--es",
            url,
            "--index",
            INDEX,
            "--rules",
            str(_rule(tmp_path)),
            "-o",
            str(out),
        ]
        assert run(argv) == 0
    assert ALPHA in out.read_text(encoding="utf-8")
    printed = capsys.readouterr()
    said = " ".join((printed.out + printed.err).split())
    assert "OpenSearch (version not readable: no monitor privilege)" in said
    assert ("POST", f"/{INDEX}/_search/point_in_time") in script.requests


def test_an_unsupported_engine_is_refused_before_a_hunt_or_ingest_sends_anything_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "auth.log"
    log.write_text("Nov 21 01:02:03 host sshd[1]: alpha\n", encoding="utf-8")
    script = Script(info=_opensearch("1.3.19"), opensearch=True, documents=[_document()])
    with serve(script) as url:
        assert run(["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(_rule(tmp_path))]) == 3
        assert run(["logs", "ingest", str(log), "--es", url, "--index", "city-logs"]) == 3
    assert {path for _, path in script.requests} == {"/"}
    assert "OpenSearch 1.3.19 is not supported" in " ".join(capsys.readouterr().err.split())


def test_ingest_into_opensearch_sends_escaped_documents_as_plain_ndjson(tmp_path: Path) -> None:
    log = tmp_path / "conn.log"
    log.write_text(
        '{"ts": 1700000000.5, "uid": "C1", "id.orig_h": "10.0.0.5", "id.resp_p": 22}\n', encoding="utf-8"
    )
    script = Script(info=_opensearch("2.19.1"), opensearch=True, indices=set())
    with serve(script) as url:
        result, _ = ingest_logs(EsSettings(url=url), "city-logs", [str(log)], input_format="zeek-json")
    assert (result.events, result.created, result.failed) == (1, 1, 0)
    assert result.template_created and result.index_created
    sigma = script.bulk[0]["sigma"]
    assert sigma["id%2Eorig_h"] == "10.0.0.5" and not any("." in name for name in sigma)
    template = script.templates["secaudit-logs-city-logs"]["template"]["mappings"]
    assert "subobjects" not in json.dumps(template)
    bulk = [kind for _, path, _, kind in script.headers if path == "/_bulk"]
    assert bulk and all(kind.startswith("application/x-ndjson") for kind in bulk)


def test_an_opensearch_point_in_time_created_without_some_shards_makes_every_rule_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = Script(info=_opensearch("2.19.1"), opensearch=True, documents=[_document()], pit_failed_shards=2)
    with serve(script) as url:
        result, hits = _hunt(url, _rule(tmp_path))
        assert [h.rule.id for h in hits] == [ALPHA]  # still written
        assert result.partial == [ALPHA] and result.faults.shard_failures == 2 and result.incomplete
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(_rule(tmp_path))]
        assert run([*argv, "-o", str(tmp_path / "h.jsonl")]) == 3
    assert "2 failed shards" in " ".join(capsys.readouterr().err.split())
