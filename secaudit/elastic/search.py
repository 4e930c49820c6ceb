"""Converted rules run on the cluster: point-in-time + search_after paging, a time range, a hit cap.

All rules of a hunt search one point in time (a consistent view of the indices, however long the hunt
takes). Each rule's Lucene query runs in filter context with the time range on ``@timestamp``; first
pages come a hundred rules per multi-search request, later pages rule by rule. Pages are sorted by
time, source, record and sequence (the point in time adds its own tie-breaker), and a rule stops at
its hit cap (one document more is asked for, to tell "exactly the cap" from "capped").
Every document found becomes the same :class:`RuleHit` the embedded engine makes: the LogEvent is
rebuilt from the document and the matched fields are computed by the engine's own reference code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from secaudit.core.events import LogEvent
from secaudit.detect.ir import Node
from secaudit.detect.model import RuleHit, RuleInfo
from secaudit.detect.reference import matched_fields
from secaudit.elastic.client import describe_error
from secaudit.elastic.documents import from_source

SORT: list[dict[str, Any]] = [
    {"@timestamp": {"order": "asc", "unmapped_type": "date", "missing": "_first"}},
    {"secaudit.source": {"order": "asc", "unmapped_type": "keyword"}},
    {"secaudit.record": {"order": "asc", "unmapped_type": "long"}},
    {"secaudit.seq": {"order": "asc", "unmapped_type": "integer"}},
]
SOURCE_FIELDS = ["@timestamp", "secaudit", "sigma"]  # whole objects: sigma holds dotted names
PAGE = 1000
BATCH = 100  # queries per multi-search request
FIRST_PAGE = 100  # hits per query in a multi-search; a rule with more goes on with search_after
KEEP_ALIVE = "5m"
KEYWORD_FIELD = "secaudit.values"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``start`` <= @timestamp <= ``end``; None on a side leaves it open. Both None: every document,
    undated ones included."""

    start: datetime | None = None
    end: datetime | None = None

    def filter(self) -> dict[str, Any] | None:
        if self.start is None and self.end is None:
            return None
        bounds: dict[str, str] = {}
        if self.start is not None:
            bounds["gte"] = self.start.isoformat()
        if self.end is not None:
            bounds["lte"] = self.end.isoformat()
        return {"range": {"@timestamp": bounds}}


def search_body(query: str, window: TimeRange) -> dict[str, Any]:
    """The query clause a converted Lucene query runs as (keyword searches go to secaudit.values)."""
    clauses: list[dict[str, Any]] = [
        {
            "query_string": {
                "query": query,
                "default_field": KEYWORD_FIELD,
                "allow_leading_wildcard": True,
                "analyze_wildcard": True,
            }
        }
    ]
    bounds = window.filter()
    if bounds is not None:
        clauses.append(bounds)
    return {"bool": {"filter": clauses}}


@dataclass(frozen=True, slots=True)
class FirstPage:
    """A query's first page from a multi-search: ``hits``, or ``error`` (refused), or neither (not run)."""

    hits: list[dict[str, Any]] | None = None
    error: str | None = None


def _item_error(item: dict[str, Any]) -> str:
    error = item.get("error")
    if not isinstance(error, dict):
        return f"HTTP {item.get('status')}: {error}"
    roots = error.get("root_cause")
    root = roots[0] if isinstance(roots, list) and roots and isinstance(roots[0], dict) else error
    kind = root.get("type") or error.get("type") or ""
    reason = root.get("reason") or error.get("reason") or ""
    return f"HTTP {item.get('status')} {kind}: {reason}"


class RuleQueryError(Exception):
    """The cluster refused one rule's query (a regex too complex, too many clauses...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class PointInTime:
    """An open point in time over an index pattern; ``id`` follows what each response returns."""

    client: Elasticsearch
    id: str

    @classmethod
    def open(cls, client: Elasticsearch, index: str) -> PointInTime:
        response = client.open_point_in_time(index=index, keep_alive=KEEP_ALIVE, ignore_unavailable=True)
        return cls(client, str(response["id"]))

    def close(self) -> None:
        with contextlib.suppress(ApiError):  # it expires by itself within KEEP_ALIVE anyway
            self.client.close_point_in_time(id=self.id)

    def first_pages(self, queries: Sequence[str], window: TimeRange, cap: int) -> Iterator[FirstPage]:
        """The first page of every query, in order, :data:`BATCH` queries per multi-search request
        (most rules find nothing: one round trip per batch instead of one per rule), a batch fetched
        when the previous one has been consumed. Per query: the hits, or the reason the cluster
        refused it, or neither when it was too busy to answer (429, 503...: the query is then simply
        run again on its own)."""
        size = min(FIRST_PAGE, cap + 1)
        for start in range(0, len(queries), BATCH):
            out: list[FirstPage] = []
            searches: list[dict[str, Any]] = []
            for query in queries[start : start + BATCH]:
                searches.append({})
                searches.append(
                    {
                        "query": search_body(query, window),
                        "size": size,
                        "sort": SORT,
                        "pit": {"id": self.id, "keep_alive": KEEP_ALIVE},
                        "track_total_hits": False,
                        "_source": {"includes": SOURCE_FIELDS},
                    }
                )
            try:
                response = self.client.msearch(searches=searches)
            except ApiError as e:
                if e.status_code in (400, 413):  # the batch as a whole: run its queries one by one
                    yield from (FirstPage() for _ in queries[start : start + BATCH])
                    continue
                raise
            for item in response["responses"]:
                if "error" in item:
                    status = int(item.get("status", 500))
                    refused = status in (400, 500)
                    out.append(FirstPage(error=_item_error(item) if refused else None))
                    continue
                self.id = str(item.get("pit_id", self.id))
                out.append(FirstPage(hits=list(item["hits"]["hits"])))
            yield from out

    def documents(
        self, query: str, window: TimeRange, cap: int, first: FirstPage | None = None
    ) -> Iterator[dict[str, Any]]:
        """The ``_source`` of up to ``cap + 1`` matching documents in sort order (module doc),
        continuing after ``first`` (from :meth:`first_pages`) when it is given.

        Raises RuleQueryError when the cluster refuses the query; transport errors propagate."""
        body = search_body(query, window)
        after: list[Any] | None = None
        wanted = cap + 1
        seen = 0
        if first is not None and first.error is not None:
            raise RuleQueryError(first.error)
        if first is not None and first.hits is not None:
            for hit in first.hits:
                yield hit["_source"]
            seen = len(first.hits)
            if seen < min(FIRST_PAGE, wanted) or seen == 0:
                return
            after = first.hits[-1]["sort"]
        while seen < wanted:
            size = min(PAGE, wanted - seen)
            try:
                response = self.client.search(
                    query=body,
                    size=size,
                    sort=SORT,
                    pit={"id": self.id, "keep_alive": KEEP_ALIVE},
                    search_after=after,
                    track_total_hits=False,
                    source_includes=SOURCE_FIELDS,
                )
            except ApiError as e:
                if e.status_code in (400, 500):
                    raise RuleQueryError(describe_error(e)) from e
                raise
            self.id = str(response.body.get("pit_id", self.id))
            hits = response["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]
            seen += len(hits)
            if len(hits) < size:
                return
            after = hits[-1]["sort"]


Place = tuple[tuple[tuple[int, str], ...], int, int]


def sort_key(event: LogEvent, seq: int) -> Place:
    """Where an event stands among the inputs, in the order a local hunt reads them: a folder's files
    (sorted) before its sub-folders (sorted, each walked the same way), then record, then seq."""
    parts = event.source.split("/")
    walk = (*((1, part) for part in parts[:-1]), (0, parts[-1]))
    return walk, event.record, seq


def hit_from_document(rule: RuleInfo, node: Node, source: dict[str, Any]) -> tuple[Place, RuleHit]:
    """The hit a matching document makes: the LogEvent rebuilt from it, the matched fields computed by the
    embedded engine's reference code; with the event's place in its input."""
    event = from_source(source)
    seq = int((source.get("secaudit") or {}).get("seq", 0))
    return sort_key(event, seq), RuleHit(rule, event, matched_fields(node, event))
