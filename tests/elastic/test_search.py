"""The query each rule runs as on the cluster, and the time range it is bounded by (no cluster needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from secaudit.app.es import parse_duration, time_range
from secaudit.core.errors import UsageError
from secaudit.elastic.search import KEYWORD_FIELD, SORT, TimeRange, search_body

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def test_since_from_and_to() -> None:
    assert time_range("24h", None, None, now=NOW) == TimeRange(NOW - timedelta(hours=24), None)
    assert time_range("2w", None, None, now=NOW).start == NOW - timedelta(weeks=2)
    window = time_range(None, "2026-11-20T01:00:00+07:00", "2026-11-21", now=NOW)
    assert window.start == datetime(2026, 11, 19, 18, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    assert time_range(None, None, None) == TimeRange()
    assert parse_duration("30m") == timedelta(minutes=30)
    for bad in ("0h", "3 days", "h", "-1d"):
        with pytest.raises(UsageError):
            parse_duration(bad)
    with pytest.raises(UsageError, match="after"):
        time_range(None, "2026-11-21", "2026-11-20")


def test_query_in_filter_context_with_the_range_on_timestamp() -> None:
    window = TimeRange(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))
    body = search_body('secaudit.product:"linux" AND (*evil*)', window)
    query, bounds = body["bool"]["filter"]
    assert query["query_string"]["query"] == 'secaudit.product:"linux" AND (*evil*)'
    assert query["query_string"]["default_field"] == KEYWORD_FIELD == "secaudit.values"
    assert bounds == {
        "range": {"@timestamp": {"gte": "2026-11-20T00:00:00+00:00", "lte": "2026-11-21T00:00:00+00:00"}}
    }
    assert len(search_body("x", TimeRange())["bool"]["filter"]) == 1  # no range: undated events too
    assert [next(iter(s)) for s in SORT] == [
        "@timestamp",
        "secaudit.source",
        "secaudit.record",
        "secaudit.seq",
    ]
