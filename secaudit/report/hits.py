"""Writers for log-hunt hits: JSON lines, CSV, and a timeline CSV. One writer per format.

A hit's record is the same in every format: the rule (id, title, level, author, tags: the Sigma
licence asks that a rule's author travel with every alert it produces), where the event came from
(``source`` as given, ``record``), when, its logsource, the mapped event and the matched fields.
Correlation hits add the correlation type, group, value and their contributing events.

Every writer passes what it writes through the one redaction layer (:mod:`secaudit.core.redact`):
a password in a logged URL or command line, an ``Authorization`` header in a proxy log, or a
secret secaudit itself holds (an Elasticsearch API key an audit log repeats) is written as ``***``,
with its name kept, so a hit file can travel to people who must not see credentials. The hit still
says which rule matched and where the event is (source and record) for whoever may read the original.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO

import orjson

from secaudit.core.events import LogEvent, LogKind
from secaudit.core.redact import redact, redact_data
from secaudit.detect.model import CorrelationHit, RuleHit, RuleInfo

Hit = RuleHit | CorrelationHit

CSV_COLUMNS = (
    "timestamp",
    "rule_level",
    "rule_id",
    "rule_title",
    "rule_author",
    "source",
    "record",
    "computer",
    "matched_fields",
    "tags",
)
TIMELINE_COLUMNS = (
    "timestamp",
    "rule_level",
    "rule_title",
    "rule_id",
    "computer",
    "source",
    "record",
    "details",
)
_HOST_FIELDS = ("Computer", "hostname", "host", "Hostname", "dvc", "id.orig_h")


def _kind(kind: LogKind) -> dict[str, Any]:
    return {
        "product": kind.product or None,
        "categories": sorted(kind.categories),
        "services": sorted(kind.services),
    }


def _rule(rule: RuleInfo) -> dict[str, Any]:
    return {
        "rule_id": rule.id,
        "rule_title": rule.title,
        "rule_level": rule.level,
        "rule_author": rule.author,
        "tags": list(rule.tags),
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _event_ref(event: LogEvent) -> dict[str, Any]:
    return {"source": event.source, "record": event.record, "timestamp": _time(event.timestamp)}


def hit_record(hit: Hit) -> dict[str, Any]:
    """The JSON-safe record of one hit (see the module doc)."""
    if isinstance(hit, RuleHit):
        event = hit.event
        return {
            **_rule(hit.rule),
            "source": event.source,
            "record": event.record,
            "timestamp": _time(event.timestamp),
            "logsource": _kind(event.kind),
            "event": event.fields,
            "matched_fields": hit.matched_fields,
        }
    first = hit.events[0] if hit.events else None
    return {
        **_rule(hit.rule),
        "correlation": hit.rule.correlation,
        "source": first.source if first else None,
        "record": first.record if first else None,
        "timestamp": _time(hit.first),
        "last_timestamp": _time(hit.last),
        "logsource": _kind(first.kind) if first else None,
        "group": dict(hit.group),
        "value": hit.value,
        "event": None,
        "matched_fields": dict(hit.group),
        "events": [_event_ref(e) for e in hit.events],
    }


def _dumps(record: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        # A value orjson refuses (a lone surrogate from a badly encoded log): escape instead of losing it.
        return json.dumps(record, ensure_ascii=True, default=str).encode("ascii")


class JsonlHitWriter:
    """One JSON object per line, in the order hits arrive."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, hit: Hit) -> None:
        self._stream.write(_dumps(redact_data(hit_record(hit))).decode("utf-8"))
        self._stream.write("\n")

    def close(self) -> None:
        self._stream.flush()


def _cell(value: object) -> str:
    """A CSV cell without secrets that a spreadsheet will not execute (formula injection)."""
    text = "" if value is None else redact(str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def event_host(fields: Mapping[str, object]) -> str:
    """The host an event was logged on (Computer, hostname, ...), or "" when it names none."""
    for name in _HOST_FIELDS:
        value = fields.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def _json_text(value: object) -> str:
    return _dumps({"v": value})[5:-1].decode("utf-8")


class CsvHitWriter:
    """A CSV row per hit with the columns in CSV_COLUMNS."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(CSV_COLUMNS)
        self._stream = stream

    def write(self, hit: Hit) -> None:
        rec = hit_record(hit)
        fields = hit.event.fields if isinstance(hit, RuleHit) else {}
        row = (
            rec["timestamp"],
            rec["rule_level"],
            rec["rule_id"],
            rec["rule_title"],
            rec["rule_author"],
            rec["source"],
            rec["record"],
            event_host(fields),
            _json_text(rec["matched_fields"]),
            " ".join(rec["tags"]),
        )
        self._writer.writerow([_cell(v) for v in row])

    def close(self) -> None:
        self._stream.flush()


class TimelineWriter:
    """A timeline CSV: every hit sorted by time (undated hits last), for the incident write-up."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._rows: list[tuple[str, tuple[object, ...]]] = []

    def write(self, hit: Hit) -> None:
        if isinstance(hit, RuleHit):
            when, fields, details = hit.event.timestamp, hit.event.fields, hit.matched_fields
            source, record = hit.event.source, hit.event.record
        else:
            first = hit.events[0] if hit.events else None
            when, fields = hit.first, first.fields if first else {}
            details = {**dict(hit.group), "value": hit.value, "events": len(hit.events)}
            source, record = (first.source, first.record) if first else ("", 0)
        stamp = _time(when) or ""
        row = (
            stamp,
            hit.rule.level,
            hit.rule.title,
            hit.rule.id,
            event_host(fields),
            source,
            record,
            _json_text(details),
        )
        self._rows.append((stamp or "\uffff", row))

    def close(self) -> None:
        writer = csv.writer(self._stream, lineterminator="\n")
        writer.writerow(TIMELINE_COLUMNS)
        for _key, row in sorted(self._rows, key=lambda item: item[0]):
            writer.writerow([_cell(v) for v in row])
        self._stream.flush()
