"""``logs es-check`` names the engine and its version, and exits 3 on one secaudit does not support.

On the scripted loopback server (tests/elastic/fault_server.py, not a cluster): it answers ``GET /`` as
each engine does (OpenSearch: ``version.distribution``, no ``X-Elastic-Product`` header).
"""

from __future__ import annotations

import pytest

from secaudit.cli.main import run
from tests.elastic.fault_server import Script, serve

OPENSEARCH = {
    "version": {"distribution": "opensearch", "number": "2.11.0"},
    "tagline": "The OpenSearch Project",
}


@pytest.mark.parametrize(
    ("script", "code", "words"),
    [
        (Script(), 0, "Elasticsearch 8.15.3"),
        (Script(info={"version": {"number": "8.2.0"}}), 3, "Elasticsearch 8.2.0 is older than 8.3"),
        (Script(info=OPENSEARCH, product_header=False), 3, "OpenSearch 2.11.0 is not supported yet"),
        (Script(info={"version": {"number": "1.0"}}, product_header=False), 3, "unknown server"),
    ],
)
def test_es_check_names_the_engine_and_refuses_an_unsupported_one(
    script: Script, code: int, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(script) as url:
        assert run(["logs", "es-check", url, "--index", "secaudit-logs-fault"]) == code
    printed = capsys.readouterr()
    assert words in printed.out + printed.err
