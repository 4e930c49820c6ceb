"""A hunt on the cluster hands every page of hits on before it asks for the next (no list of hits is
held, whatever their number), and the hit cap names the correlations whose input it cut.

On the scripted loopback server (tests/elastic/fault_server.py, not a cluster): it serves scripted
pages of documents to the search_after requests and tells the test when each request arrives, so the
test sees the order of fetching and writing, not what a cluster would find.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from secaudit.app.es import EsHuntOptions, hunt_es
from secaudit.cli.main import run
from secaudit.core.events import LogEvent
from secaudit.detect.model import CorrelationHit, RuleHit
from secaudit.elastic.documents import from_source, to_document
from secaudit.elastic.search import FIRST_PAGE, PAGE
from secaudit.elastic.settings import EsSettings
from tests.elastic.fault_server import INDEX, Script, serve
from tests.elastic.test_faults import ALPHA, FAST, _document

CORRELATION = """title: alpha again and again
id: 0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a99
correlation:
    type: event_count
    rules: [{alpha}]
    timespan: 1h
    condition: {{gte: 3}}
level: high
"""


def _documents(count: int, first: int = 0) -> list[dict[str, Any]]:
    base = from_source(_document())
    out = []
    for n in range(first, first + count):
        stamp = base.timestamp + timedelta(seconds=n) if base.timestamp else None
        event: LogEvent = base._replace(record=n, timestamp=stamp)
        out.append(to_document(event))
    return out


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "alpha.yml").write_text(
        f"title: alpha\nid: {ALPHA}\nlogsource: {{product: linux}}\ndetection:\n    k: [alpha]\n"
        "    condition: k\nlevel: high\n",
        encoding="utf-8",
    )
    return folder


def test_each_page_is_written_before_the_next_is_fetched(rules: Path) -> None:
    pages = 4
    searches: list[int] = []  # the number of the latest search_after request, as the server saw it
    script = Script(
        documents=_documents(FIRST_PAGE),
        pages=[_documents(PAGE, FIRST_PAGE + PAGE * p) for p in range(pages)],
        on_search=searches.append,
    )
    seen: list[tuple[int, int]] = []  # (record, search requests made when the hit was handed on)

    def on_hit(hit: Any) -> None:
        assert isinstance(hit, RuleHit)
        seen.append((hit.event.record, len(searches)))

    options = EsHuntOptions(settings=EsSettings(url=""), index=INDEX, rules=(rules,), backoff=FAST)
    with serve(script) as url:
        result = hunt_es(replace(options, settings=EsSettings(url=url)), on_hit=on_hit)
    total = FIRST_PAGE + PAGE * pages
    assert [record for record, _ in seen] == list(range(total))  # every hit, in the cluster's order
    assert not result.capped and not result.incomplete
    for record, fetched in seen:
        page = 0 if record < FIRST_PAGE else 1 + (record - FIRST_PAGE) // PAGE
        # a hit of page p (0: the multi-search's first page) is handed on after p search_after
        # requests and before the next one: pages go to the sink as they come
        assert fetched == page, (record, fetched)
    assert searches == list(range(1, pages + 2))  # the last request found the end


def test_the_hit_cap_names_the_correlations_whose_input_it_cut(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (rules / "again.yml").write_text(CORRELATION.format(alpha=ALPHA), encoding="utf-8")
    script = Script(documents=_documents(FIRST_PAGE))
    with serve(script) as url:
        hits: list[Any] = []
        options = EsHuntOptions(
            settings=EsSettings(url=url), index=INDEX, rules=(rules,), backoff=FAST, hit_cap=5
        )
        result = hunt_es(options, on_hit=hits.append)
        assert result.capped == {ALPHA: 5}
        assert result.truncated_correlations == {"0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a99": [ALPHA]}
        # the correlation ran on the 5 hits it had (its base rule is not emitted by itself)
        assert [len(h.events) for h in hits if isinstance(h, CorrelationHit)] == [5]

        argv = ["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rules), "--hit-cap", "5"]
        assert run([*argv, "-o", str(tmp_path / "h.jsonl")]) == 0
    printed = capsys.readouterr()
    said = " ".join((printed.out + printed.err).split())
    assert "correlation alpha again and again may miss matches" in said
