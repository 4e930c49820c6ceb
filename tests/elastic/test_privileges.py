"""Least privilege: a hunt needs neither the ``monitor`` cluster privilege nor ``GET /``; templates are
read, and written only when missing or older, and not touched at all once the index exists.

On the scripted loopback server (tests/elastic/fault_server.py, not a cluster): it answers 403 where the
credentials would lack a privilege, and records every request, so the tests show which calls secaudit
makes, not what a cluster would find.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.cli.main import run
from secaudit.elastic.client import connect
from secaudit.elastic.documents import TEMPLATE_VERSION, index_template
from secaudit.elastic.findings import ensure_findings_index
from secaudit.elastic.ingest import ensure_index, template_name
from secaudit.elastic.settings import EsSettings
from tests.elastic.fault_server import INDEX, Script, serve
from tests.elastic.test_faults import ALPHA, _document


def test_a_hunt_runs_without_the_monitor_privilege(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = tmp_path / "alpha.yml"
    rule.write_text(
        f"title: alpha\nid: {ALPHA}\nlogsource: {{product: linux}}\ndetection:\n    k: [alpha]\n"
        "    condition: k\nlevel: high\n",
        encoding="utf-8",
    )
    out = tmp_path / "hits.jsonl"
    script = Script(documents=[_document()], forbidden=("/", "/_cat", "/_cluster", "/_nodes"))
    with serve(script) as url:
        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rule), "-o", str(out)]
        assert run(argv) == 0
    assert ALPHA in out.read_text(encoding="utf-8")
    printed = capsys.readouterr()
    assert "no monitor privilege" in printed.out + printed.err
    assert not any(path.startswith("/_cat") for _, path in script.requests)


def _template_calls(script: Script) -> list[tuple[str, str]]:
    return [r for r in script.requests if r[1].startswith("/_index_template")]


def test_an_existing_index_needs_no_template_call() -> None:
    script = Script()
    with serve(script) as url:
        ensure_index(connect(EsSettings(url=url)), INDEX)
    assert _template_calls(script) == []


def test_a_template_is_written_only_when_missing_or_older() -> None:
    script = Script()
    with serve(script) as url:
        client = connect(EsSettings(url=url))
        ensure_index(client, "logs-a")  # missing: written
        name = template_name("logs-a")
        assert _template_calls(script) == [
            ("GET", f"/_index_template/{name}"),
            ("PUT", f"/_index_template/{name}"),
        ]
        assert script.templates[name]["_meta"]["version"] == TEMPLATE_VERSION

        other = template_name("logs-b")
        script.templates[other] = {**index_template("logs-b"), "_meta": {"version": TEMPLATE_VERSION}}
        script.requests.clear()
        ensure_index(client, "logs-b")  # up to date: read, not written
        assert _template_calls(script) == [("GET", f"/_index_template/{other}")]

        script.templates[other] = {"_meta": {"version": TEMPLATE_VERSION - 1}}
        script.requests.clear()
        script.indices.discard("logs-b")
        ensure_index(client, "logs-b")  # older: written again
        assert _template_calls(script)[-1] == ("PUT", f"/_index_template/{other}")


def test_publishing_into_an_existing_findings_index_needs_no_template_call() -> None:
    script = Script(indices={"secaudit-findings"})
    with serve(script) as url:
        ensure_findings_index(connect(EsSettings(url=url)))
    assert _template_calls(script) == []
    script = Script(indices=set())
    with serve(script) as url:
        ensure_findings_index(connect(EsSettings(url=url)))
    assert [m for m, _ in _template_calls(script)] == ["GET", "PUT"]
