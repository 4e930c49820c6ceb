"""Converted rules run on the cluster: point-in-time + search_after paging, a time range, a hit cap.

All rules of a hunt search one point in time (a consistent view of the indices, however long the hunt
takes). Each rule's Lucene query runs in filter context with the time range on ``@timestamp``; first
pages come a hundred rules per multi-search request, later pages rule by rule. Pages are sorted by
time, source, record and sequence (the point in time adds its own tie-breaker), and a rule stops at
its hit cap (one document more is asked for, to tell "exactly the cap" from "capped").
Every document found becomes the same :class:`RuleHit` the embedded engine makes: the LogEvent is
rebuilt from the document and the matched fields are computed by the engine's own reference code.

What the cluster did not fully answer is counted in :class:`Faults`, never passed over: a response with
failed shards or ``timed_out`` marks its query partial; a 429, a 502/503/504 or a request timeout is
retried after a growing pause (:data:`BACKOFF`), a multi-search that still fails leaves its queries to
run one by one, and a query that still fails raises to the caller, which goes on with the next rule.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import elastic_transport
from elasticsearch import ApiError, Elasticsearch

from secaudit.core.events import LogEvent
from secaudit.detect.ir import Node
from secaudit.detect.model import RuleHit, RuleInfo
from secaudit.detect.reference import matched_fields
from secaudit.elastic.client import describe_error
from secaudit.elastic.documents import from_source
from secaudit.elastic.transport import close_point_in_time, open_point_in_time

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
RETRY_STATUS = (429, 502, 503, 504)  # busy or a proxy in trouble: worth asking again after a pause
BACKOFF = (1.0, 2.0, 4.0, 8.0)  # pauses (seconds) before the 2nd, 3rd... try of a search request
T = TypeVar("T")
KEYWORD_FIELD = "secaudit.values"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``start`` <= @timestamp <= ``end``; None on a side leaves it open. Both None: every document,
    undated ones included."""

    start: datetime | None = None
    end: datetime | None = None

    def filter(self, time_field: str = "@timestamp") -> dict[str, Any] | None:
        if self.start is None and self.end is None:
            return None
        bounds: dict[str, str] = {}
        if self.start is not None:
            bounds["gte"] = self.start.isoformat()
        if self.end is not None:
            bounds["lte"] = self.end.isoformat()
        return {"range": {time_field: bounds}}


Query = str | dict[str, Any]  # a converted Lucene query string, or a query clause of the search DSL


def query_key(query: Query) -> str:
    """``query`` as the key its faults are counted under (:class:`Faults`)."""
    return query if isinstance(query, str) else json.dumps(query, sort_keys=True)


def search_body(
    query: Query,
    window: TimeRange,
    *,
    without: dict[str, Any] | None = None,
    time_field: str = "@timestamp",
) -> dict[str, Any]:
    """The query clause a converted Lucene query runs as (keyword searches go to secaudit.values), or
    ``query`` itself when it is a clause; ``without``: a clause whose documents are left out (those the
    hunt matches itself); ``time_field``: the field a time range applies to (the index layout's)."""
    clauses: list[dict[str, Any]] = [
        query
        if isinstance(query, dict)
        else {
            "query_string": {
                "query": query,
                "default_field": KEYWORD_FIELD,
                "allow_leading_wildcard": True,
                "analyze_wildcard": True,
            }
        }
    ]
    bounds = window.filter(time_field)
    if bounds is not None:
        clauses.append(bounds)
    body: dict[str, Any] = {"bool": {"filter": clauses}}
    if without is not None:
        body["bool"]["must_not"] = [without]
    return body


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
class Faults:
    """What the cluster did not fully answer during a hunt (module doc)."""

    shard_failures: int = 0  # failed shards, summed over responses
    timed_out: int = 0  # responses that said timed_out
    retries: int = 0  # requests asked again after a 429, 5xx or timeout
    partial: set[str] = field(default_factory=set)  # queries whose results miss part of the data
    everything: bool = False  # the point in time misses shards: every query's results do

    def missed(self, query: Query) -> bool:
        """The results of ``query`` miss part of the data."""
        return self.everything or query_key(query) in self.partial

    def note(self, query: Query, body: Any) -> None:
        """Count a search response's failed shards and timeout against ``query``."""
        shards = body.get("_shards") if isinstance(body, dict) else None
        failed = int(shards.get("failed") or 0) if isinstance(shards, dict) else 0
        late = bool(body.get("timed_out")) if isinstance(body, dict) else False
        self.shard_failures += failed
        self.timed_out += late
        if failed or late:
            self.partial.add(query_key(query))


def retryable(error: Exception) -> bool:
    """A 429, 502/503/504 or a transport failure (timeout, connection): worth another try."""
    if isinstance(error, ApiError):
        return error.status_code in RETRY_STATUS
    return isinstance(error, elastic_transport.TransportError)


@dataclass(slots=True)
class PointInTime:
    """An open point in time over an index pattern; ``id`` follows what each response returns.
    ``batch`` queries go in one multi-search; ``backoff`` are the pauses between tries. ``time_field``
    is the field a time range applies to, ``source_fields`` what of each document is fetched (None: all
    of it), both set by the index layout (secaudit.elastic.layouts)."""

    client: Elasticsearch
    id: str
    batch: int = BATCH
    backoff: tuple[float, ...] = BACKOFF
    faults: Faults = field(default_factory=Faults)
    without: dict[str, Any] | None = None  # a clause whose documents rule queries leave out (search_body)
    time_field: str = "@timestamp"
    source_fields: list[str] | None = field(default_factory=lambda: list(SOURCE_FIELDS))

    @classmethod
    def open(
        cls,
        client: Elasticsearch,
        index: str,
        *,
        batch: int = BATCH,
        backoff: tuple[float, ...] = BACKOFF,
        time_field: str = "@timestamp",
        source_fields: list[str] | None = SOURCE_FIELDS,
    ) -> PointInTime:
        pit, failed = open_point_in_time(client, index, KEEP_ALIVE)
        opened = cls(client, pit, batch, backoff, time_field=time_field, source_fields=source_fields)
        if failed:  # the view itself misses shards: every query's results are partial
            opened.faults.shard_failures += failed
            opened.faults.everything = True
        return opened

    def _call(self, request: Callable[[Elasticsearch], T]) -> T:
        """``request`` on a client that does not retry by itself, tried again after each pause of
        ``backoff`` while the error is :func:`retryable`."""
        client = self.client.options(max_retries=0)
        for pause in (*self.backoff, None):
            try:
                return request(client)
            except (ApiError, elastic_transport.TransportError) as e:
                if pause is None or not retryable(e):
                    raise
            self.faults.retries += 1
            time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with contextlib.suppress(ApiError):  # it expires by itself within KEEP_ALIVE anyway
            close_point_in_time(self.client, self.id)

    def first_pages(self, queries: Sequence[str], window: TimeRange, cap: int) -> Iterator[FirstPage]:
        """The first page of every query, in order, :data:`BATCH` queries per multi-search request
        (most rules find nothing: one round trip per batch instead of one per rule), a batch fetched
        when the previous one has been consumed. Per query: the hits, or the reason the cluster
        refused it, or neither when it was too busy to answer (429, 503...: the query is then simply
        run again on its own)."""
        size = min(FIRST_PAGE, cap + 1)
        for start in range(0, len(queries), self.batch):
            out: list[FirstPage] = []
            searches: list[dict[str, Any]] = []
            batch = queries[start : start + self.batch]
            for query in batch:
                searches.append({})
                searches.append(
                    {
                        "query": search_body(query, window, without=self.without, time_field=self.time_field),
                        "size": size,
                        "sort": SORT,
                        "pit": {"id": self.id, "keep_alive": KEEP_ALIVE},
                        "track_total_hits": False,
                        **({"_source": {"includes": self.source_fields}} if self.source_fields else {}),
                    }
                )
            try:
                response = self._call(partial(_msearch, searches=searches))
            except (ApiError, elastic_transport.TransportError) as e:
                if retryable(e) or (isinstance(e, ApiError) and e.status_code in (400, 413)):
                    # the batch as a whole failed: its queries run one by one (each with its tries)
                    yield from (FirstPage() for _ in batch)
                    continue
                raise
            for query, item in zip(batch, response["responses"], strict=False):
                if "error" in item:
                    status = int(item.get("status", 500))
                    refused = status in (400, 500)
                    out.append(FirstPage(error=_item_error(item) if refused else None))
                    continue
                self.faults.note(query, item)
                self.id = str(item.get("pit_id", self.id))
                out.append(FirstPage(hits=list(item["hits"]["hits"])))
            out.extend(FirstPage() for _ in batch[len(out) :])  # items missing from the answer run alone
            yield from out

    def documents(
        self,
        query: Query,
        window: TimeRange,
        cap: int,
        first: FirstPage | None = None,
        *,
        every: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """The ``_source`` of up to ``cap + 1`` matching documents in sort order (module doc),
        continuing after ``first`` (from :meth:`first_pages`) when it is given.

        ``every``: documents :attr:`without` leaves out included.
        Raises RuleQueryError when the cluster refuses the query; transport errors propagate."""
        body = search_body(query, window, without=None if every else self.without, time_field=self.time_field)
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
                response = self._call(
                    partial(
                        _search, body=body, size=size, pit=self.id, after=after, fields=self.source_fields
                    )
                )
            except ApiError as e:
                if e.status_code in (400, 500):
                    raise RuleQueryError(describe_error(e)) from e
                raise
            self.faults.note(query, response.body)
            self.id = str(response.body.get("pit_id", self.id))
            hits = response["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]
            seen += len(hits)
            if len(hits) < size:
                return
            after = hits[-1]["sort"]


def _msearch(client: Elasticsearch, *, searches: list[dict[str, Any]]) -> Any:
    return client.msearch(searches=searches)


def _search(
    client: Elasticsearch,
    *,
    body: dict[str, Any],
    size: int,
    pit: str,
    after: list[Any] | None,
    fields: list[str] | None = SOURCE_FIELDS,
) -> Any:
    return client.search(
        query=body,
        size=size,
        sort=SORT,
        pit={"id": pit, "keep_alive": KEEP_ALIVE},
        search_after=after,
        track_total_hits=False,
        source_includes=fields or None,
    )


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
