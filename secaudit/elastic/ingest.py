"""Log events into an Elasticsearch index: the index template on first use, then streaming bulk.

Each event is a ``create`` with its deterministic ``_id`` (:func:`document_id`): a document that is
already there answers 409 and is counted as ``existing``, so ingesting the same files again adds
nothing and an interrupted ingest is finished by running it again. Documents the cluster rejects
for a while (429, 5xx) are retried with exponential backoff (the helper's retries per document, and
the client's per request); every other rejection is counted by reason with the first locations.
``events == created + existing + failed`` always: nothing is dropped silently.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

from secaudit.core.errors import ConfigError, UsageError
from secaudit.core.events import LogEvent
from secaudit.core.report import ProgressCallback, ProgressEvent, no_progress
from secaudit.elastic.client import RETRY_STATUS
from secaudit.elastic.documents import (
    TEMPLATE_VERSION,
    document_id,
    has_secaudit_mapping,
    index_template,
    names_escaped,
    to_document,
)

MAX_EXAMPLES = 20
_DOC_ID = re.compile(r"\s*in document with id '[^']*'\.?")
_BAD_INDEX = re.compile(r'[\\/*?"<>| ,#:A-Z]')


@dataclass(slots=True)
class IngestResult:
    """What an ingest did. ``failures`` counts rejected documents by reason; ``examples`` holds the
    first :data:`MAX_EXAMPLES` as (source:record, reason)."""

    index: str = ""
    events: int = 0
    created: int = 0
    existing: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[str, str]] = field(default_factory=list)
    template_created: bool = False
    index_created: bool = False
    long_values: int = 0  # events with a value over the keyword limit (not searchable on the cluster)
    seconds: float = 0.0

    def fail(self, where: str, reason: str) -> None:
        self.failed += 1
        self.failures[reason] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append((where, reason))


def check_index_name(index: str) -> str:
    """An index name Elasticsearch accepts for writing (no wildcard, lowercase); else a usage error."""
    if not index or index in (".", "..") or index[0] in "-_+" or _BAD_INDEX.search(index):
        raise UsageError(
            f"not a valid index name to write to: {index!r}",
            hint="use lowercase letters, digits, '-', '_' and '.', no wildcard; e.g. secaudit-logs",
        )
    return index


def template_name(index: str) -> str:
    return f"secaudit-logs-{index}"


def template_version(client: Elasticsearch, name: str) -> int | None:
    """The ``_meta.version`` of an index template (0 when it has none); None when it does not exist."""
    found = client.options(ignore_status=404).indices.get_index_template(name=name)
    entries = found.body.get("index_templates") if isinstance(found.body, dict) else None
    if not entries:
        return None
    meta = (entries[0].get("index_template") or {}).get("_meta") or {}
    version = meta.get("version")
    return int(version) if isinstance(version, int) else 0


def ensure_template(client: Elasticsearch, name: str, body: dict[str, Any], version: int) -> bool:
    """Put an index template only when it is missing or older than ``version`` (so a run with an up to
    date template needs no template privilege); True when it was written."""
    current = template_version(client, name)
    if current is not None and current >= version:
        return False
    client.indices.put_index_template(name=name, **body)
    return True


def ensure_index(client: Elasticsearch, index: str, result: IngestResult | None = None) -> None:
    """Create the index template and the index on first use; refuse an index made without it. An index
    that exists already with secaudit's mapping needs no template call at all (least privilege)."""
    exists = bool(client.indices.exists(index=index))
    if not exists:
        written = ensure_template(client, template_name(index), index_template(index), TEMPLATE_VERSION)
        if result is not None:
            result.template_created = written
    if exists:
        mappings = client.indices.get_mapping(index=index)
        found: dict[str, Any] = next(iter(mappings.body.values()), {})
        mapping = found.get("mappings") or {}
        if not has_secaudit_mapping(mapping):
            raise ConfigError(
                f"index {index} exists but was not created by secaudit (its sigma fields are not mapped)",
                location=index,
                hint="ingest into a new index name, or delete this one so it is created with the template",
            )
        if not names_escaped(mapping):
            raise ConfigError(
                f"index {index} was made by an earlier secaudit (field names with dots, mapped with "
                "subobjects: false); documents now escape the dots, and one index cannot hold both",
                location=index,
                hint="ingest into a new index name (hunts read the old one as before)",
            )
        return
    client.indices.create(index=index)
    if result is not None:
        result.index_created = True


def _body(doc: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        # A value orjson refuses (a lone surrogate from a badly encoded log): escaped, never lost.
        return json.dumps(doc, ensure_ascii=True, default=str).encode("ascii")


def bulk_actions(
    index: str, events: Iterable[LogEvent], result: IngestResult, where: dict[str, str]
) -> Iterator[tuple[dict[str, Any], bytes]]:
    """(action, document bytes) per event, counting events in ``result`` and noting each id's
    ``source:record`` in ``where``. ``seq`` numbers the events of one record (consecutive, as readers
    hand them on), so every event gets its own id and a re-read gives the same ids."""
    previous: tuple[str, int] | None = None
    seq = 0
    for event in events:
        result.events += 1
        key = (event.source, event.record)
        seq = seq + 1 if key == previous else 0
        previous = key
        location = f"{event.source}:{event.record}"
        try:
            doc_id = document_id(event, seq)
            doc = to_document(event, seq)
            body = _body(doc)
        except (TypeError, ValueError) as e:
            result.fail(location, f"cannot encode the event: {e}")
            continue
        if "long_fields" in doc["secaudit"]:
            result.long_values += 1
        where[doc_id] = location
        yield {"create": {"_index": index, "_id": doc_id}}, body


def ingest_events(
    client: Elasticsearch,
    index: str,
    events: Iterable[LogEvent],
    *,
    chunk_size: int = 1000,
    max_retries: int = 6,
    initial_backoff: float = 1.0,
    max_backoff: float = 60.0,
    progress: ProgressCallback = no_progress,
    result: IngestResult | None = None,
) -> IngestResult:
    """Send every event to ``index`` (which :func:`ensure_index` prepared); see the module doc.

    Counts go into ``result`` as they come (pass one in to keep them when the cluster goes away and
    the client's error propagates)."""
    result = result if result is not None else IngestResult(index=index)
    result.index = index
    started = time.perf_counter()
    where: dict[str, str] = {}  # _id -> "source:record" of the documents in flight
    for ok, item in streaming_bulk(
        client,
        bulk_actions(index, events, result, where),  # type: ignore[arg-type]
        chunk_size=chunk_size,
        max_retries=max_retries,
        initial_backoff=initial_backoff,
        max_backoff=max_backoff,
        raise_on_error=False,
        raise_on_exception=False,
        retry_on_status=RETRY_STATUS,
        expand_action_callback=lambda action: action,  # type: ignore[arg-type,return-value]
    ):
        outcome = next(iter(item.values()))
        location = where.pop(str(outcome.get("_id")), str(outcome.get("_id")))
        if ok:
            result.created += 1
        elif outcome.get("status") == 409:
            result.existing += 1
        else:
            result.fail(location, _reason(outcome))
        done = result.created + result.existing + result.failed
        if done % chunk_size == 0:
            progress(ProgressEvent(task="ingest", done=done, total=None, message=f"{done} documents"))
    result.seconds = time.perf_counter() - started
    return result


def _reason(outcome: dict[str, Any]) -> str:
    error = outcome.get("error")
    status = outcome.get("status")
    if isinstance(error, dict):
        kind = error.get("type", "error")
        reason = _DOC_ID.sub("", str(error.get("reason", "")).split(" Preview of field's value")[0])
        caused = error.get("caused_by")
        if isinstance(caused, dict) and caused.get("reason"):
            reason += f" ({caused.get('type', '')}: {caused['reason']})"
        return f"HTTP {status} {kind}: {reason}"
    return f"HTTP {status}: {error}"
