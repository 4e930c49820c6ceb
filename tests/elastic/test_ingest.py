"""What an ingest sends, without a cluster: one create per event, ids that a re-read reproduces.

Re-ingesting adds nothing and an interrupted ingest completes on a re-run only because every read of
the same files gives the same ids; here the regression data is read twice, once by a relative and once
by an absolute path, from another working directory.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from secaudit.core.errors import UsageError
from secaudit.elastic.documents import from_source
from secaudit.elastic.ingest import IngestResult, bulk_actions, check_index_name
from secaudit.logs import ReadStats, read_events

REPO = Path(__file__).resolve().parents[2]
REGRESSION = (REPO / ".." / "shared" / "sigmahq" / "regression_data").resolve()


def _actions(inputs: list[str]) -> tuple[list[tuple[dict, bytes]], IngestResult, dict[str, str]]:
    result, where = IngestResult(), {}
    events = read_events(inputs, stats=ReadStats())
    return list(bulk_actions("city-logs", events, result, where)), result, where


def test_one_create_per_event_with_ids_a_reread_reproduces(monkeypatch: pytest.MonkeyPatch) -> None:
    if not REGRESSION.is_dir():
        pytest.skip(f"regression data not found at {REGRESSION}")
    monkeypatch.chdir(REGRESSION.parent)
    first, result, where = _actions(["regression_data"])
    monkeypatch.chdir(REPO)
    again, _, _ = _actions([str(REGRESSION)])
    ids = [action["create"]["_id"] for action, _ in first]
    assert ids == [action["create"]["_id"] for action, _ in again]
    assert len(set(ids)) == len(ids) == result.events > 400
    assert {action["create"]["_index"] for action, _ in first} == {"city-logs"}
    assert result.failed == 0
    action, body = first[0]
    event = from_source(orjson.loads(body))
    assert where[action["create"]["_id"]] == f"{event.source}:{event.record}"
    assert event.source.startswith("regression_data/")


@pytest.mark.parametrize("name", ["", "Logs", "logs-*", "-logs", "a,b", "a b", "..", "logs:x"])
def test_index_names_elasticsearch_would_refuse_are_usage_errors(name: str) -> None:
    with pytest.raises(UsageError):
        check_index_name(name)
    assert check_index_name("city-logs.2026_11") == "city-logs.2026_11"
