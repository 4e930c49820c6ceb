"""Indices of the earlier document shape (dotted sigma field names under ``subobjects: false``, before
OpenSearch was supported) are still hunted, with queries that keep the dots; new documents are never
added to them, and one hunt does not mix both shapes.

On the scripted loopback server (tests/elastic/fault_server.py, not a cluster): it records the query
bodies secaudit sends and answers mappings as scripted; it shows which field names the queries use, not
what a cluster would find.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secaudit.app.es import EsHuntOptions, hunt_es, ingest_logs
from secaudit.cli.main import run
from secaudit.core.errors import ConfigError
from secaudit.elastic.documents import index_template
from secaudit.elastic.settings import EsSettings
from tests.elastic.fault_server import INDEX, Script, serve
from tests.elastic.test_faults import FAST

ZEEK_RULE = """title: connection from the lab
id: 6b7c3a52-1d0e-4c53-9b0a-2f6a2b8e0c11
logsource: {product: zeek, service: conn}
detection:
    sel: {id.orig_h: 10.9.8.7}
    condition: sel
level: low
"""


def _earlier() -> dict[str, Any]:
    mapping = copy.deepcopy(index_template(INDEX)["template"]["mappings"])
    del mapping["_meta"]
    mapping["properties"]["sigma"] = {"type": "object", "subobjects": False}
    return mapping


def _queries(mapping: dict[str, Any] | None, rules: Path) -> list[str]:
    bodies: list[str] = []

    def fault(kind: str, body: str) -> tuple[int, Any, float] | None:
        if kind == "item":
            bodies.append(json.loads(body)["query"]["bool"]["filter"][0]["query_string"]["query"])
        return None

    with serve(Script(mapping=mapping, fault=fault)) as url:
        options = EsHuntOptions(settings=EsSettings(url=url), index=INDEX, rules=(rules,), backoff=FAST)
        hunt_es(options, on_hit=lambda hit: None)
    return bodies


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    (tmp_path / "zeek.yml").write_text(ZEEK_RULE, encoding="utf-8")
    return tmp_path / "zeek.yml"


def test_queries_escape_dotted_names_for_new_indices_and_keep_them_for_earlier_ones(rules: Path) -> None:
    (new,) = _queries(None, rules)
    assert "sigma.id%2Eorig_h:" in new and "sigma.id.orig_h" not in new
    (earlier,) = _queries(_earlier(), rules)
    assert "sigma.id.orig_h:" in earlier and "%2E" not in earlier


def test_one_hunt_does_not_mix_both_shapes(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = Script(other_mappings={"secaudit-logs-old": _earlier()})
    with serve(script) as url:
        assert run(["logs", "hunt", "--es", url, "--index", "secaudit-logs-*", "--rules", str(rules)]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "mix two versions of secaudit's documents (secaudit-logs-old keep dots" in said
    assert not any(path.endswith("/_msearch") for _, path in script.requests)


def test_no_document_is_added_to_an_index_of_the_earlier_shape(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("Nov 21 01:02:03 host sshd[1]: alpha\n", encoding="utf-8")
    script = Script(mapping=_earlier())
    with serve(script) as url, pytest.raises(ConfigError, match="made by an earlier secaudit"):
        ingest_logs(EsSettings(url=url), INDEX, [str(log)])
    assert not any(path == "/_bulk" for _, path in script.requests)
