"""The document each log event becomes in Elasticsearch, its id, and the index template.

Shape (one document per :class:`LogEvent`)::

    {"@timestamp": "2026-11-21T01:02:03+00:00",          # when the log says when; absent otherwise
     "event": {"code": "4625"},                           # ECS, from EventID when there is one
     "host": {"name": "ws-01"},                           # ECS, from Computer/hostname/host
     "log": {"file": {"path": "/abs/path/Security.evtx"}},
     "secaudit": {"source": "logs/Security.evtx",          # the input path as the user gave it
                  "record": 1234, "seq": 0,                # EVTX record id or line; seq: events of one record
                  "product": "windows", "categories": [...], "services": [...],
                  "aliases": []},                          # names sigma_view added (see below)
     "sigma": {"EventID": 4625, "TargetUserName": "admin", "id.orig_h": "10.0.0.5", ...}}

``sigma`` holds the event's fields exactly as the embedded engine's readers mapped them (the Sigma
taxonomy), plus the space-less aliases the engine's rule view adds ("Threat Name" → ThreatName). Their
names are escaped (:func:`escape_name`: ``.`` becomes ``%2E``, ``%`` becomes ``%25``), so dotted
names like Zeek's ``id.orig_h`` stay single fields (``sigma.id%2Eorig_h``) and cannot collide with
other names on any engine: OpenSearch 2.x has no ``subobjects: false``, which earlier versions of this
shape used (Elasticsearch 8.3+ only; such indices are still recognised, see :func:`names_escaped`).
The query pipeline escapes rule field names the same way. Every ``sigma`` field is mapped by one
dynamic template: a keyword with a lowercase normalizer (Sigma matches case-insensitively, and the
normalizer also applies to wildcard and prefix queries), copied into ``secaudit.values`` (the
keyword-search field: any value of the event), with sub-fields ``cased`` (as read: ``|cased`` and
case-sensitive regexes), ``num`` (double: ``|gt``, ``|lt``...) and ``ip`` (``|cidr``). Values longer
than :data:`MAX_TERM_CHARS` are kept in ``_source`` but not indexed (a Lucene term limit); their fields
are listed in ``secaudit.long_fields``, so ingest counts them and a hunt reports the documents no query
can fully match.

The ``_id`` is the SHA-256 of the absolute source path, the record and ``seq``: the same file ingested
again gives the same ids, so nothing is added twice and an interrupted ingest is simply run again.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, datetime
from typing import Any

from secaudit.core.events import LogEvent, LogKind
from secaudit.detect.values import sigma_view

TEMPLATE_VERSION = 3  # 2: secaudit.long_fields; 3: escaped field names, no subobjects (OpenSearch)
ESCAPED = {"secaudit_field_names": "escaped"}  # the mapping's _meta of an index with escaped names
MAX_TERM_CHARS = 8191  # 4 bytes per character at most: stays under Lucene's 32,766-byte term limit
NORMALIZER = "secaudit_lowercase"
_HOST_FIELDS = ("Computer", "hostname", "Hostname", "host", "dvc")
_ID_FIELDS = ("EventID", "event_id", "EventId")


def escape_name(name: str) -> str:
    """A field name without dots, reversibly (:func:`unescape_name`)."""
    return name.replace("%", "%25").replace(".", "%2E")


_ESCAPE = re.compile("%(25|2E)")


def unescape_name(name: str) -> str:
    return _ESCAPE.sub(lambda m: "%" if m.group(1) == "25" else ".", name)


def document_id(event: LogEvent, seq: int = 0) -> str:
    """The deterministic ``_id`` of an event (see the module doc)."""
    path = event.source if event.source == "-" else os.path.abspath(event.source)  # noqa: PTH100
    key = f"{path}\0{event.record}\0{seq}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(key).hexdigest()


def _first_text(fields: dict[str, object], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = fields.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != "":
            return str(value)
    return None


def _stamp(value: datetime) -> str:
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()


def _utf16_length(text: str) -> int:
    """A string's length as Elasticsearch's ignore_above counts it (Java UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def long_fields(view: dict[str, Any]) -> list[str]:
    """The sigma fields with a text value longer than :data:`MAX_TERM_CHARS`: kept in ``_source`` but
    not indexed, so no query on the cluster can match them (the hunt reports how many documents)."""
    out = []
    for name, value in view.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and _utf16_length(v) > MAX_TERM_CHARS for v in values):
            out.append(name)
    return sorted(out)


def to_document(event: LogEvent, seq: int = 0) -> dict[str, Any]:
    """The document of one event (see the module doc)."""
    view = sigma_view(event.fields)
    aliases = sorted(k for k in view if k not in event.fields)
    doc: dict[str, Any] = {}
    if event.timestamp is not None:
        doc["@timestamp"] = _stamp(event.timestamp)
    code = _first_text(event.fields, _ID_FIELDS)
    if code is not None:
        doc["event"] = {"code": code}
    host = _first_text(event.fields, _HOST_FIELDS)
    if host is not None:
        doc["host"] = {"name": host}
    if event.source != "-":
        doc["log"] = {"file": {"path": os.path.abspath(event.source)}}  # noqa: PTH100
    doc["secaudit"] = {
        "source": event.source,
        "record": event.record,
        "seq": seq,
        "product": event.kind.product,
        "categories": sorted(event.kind.categories),
        "services": sorted(event.kind.services),
        "aliases": aliases,
    }
    too_long = long_fields(view)
    if too_long:
        doc["secaudit"]["long_fields"] = too_long
    doc["sigma"] = {escape_name(name): value for name, value in view.items()}
    return doc


def from_source(source: dict[str, Any]) -> LogEvent:
    """The LogEvent a document was made from (what a hit from the cluster reports)."""
    meta = source.get("secaudit") or {}
    fields = {unescape_name(name): value for name, value in (source.get("sigma") or {}).items()}
    for alias in meta.get("aliases") or ():
        fields.pop(alias, None)
    stamp = source.get("@timestamp")
    timestamp = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    kind = LogKind(
        product=str(meta.get("product") or ""),
        categories=frozenset(meta.get("categories") or ()),
        services=frozenset(meta.get("services") or ()),
    )
    return LogEvent(fields, kind, str(meta.get("source", "")), int(meta.get("record", 0)), timestamp)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def logsource_query(product: str | None, category: str | None, service: str | None) -> str:
    """The Lucene condition a rule's logsource puts on documents, as LogKind.covers decides it."""
    parts = []
    if product is not None:
        parts.append(f"secaudit.product:{_quoted(product.lower())}")
    if category is not None:
        parts.append(f"secaudit.categories:{_quoted(category.lower())}")
    if service is not None:
        parts.append(f"secaudit.services:{_quoted(service.lower())}")
    return " AND ".join(parts)


def _keyword(**extra: Any) -> dict[str, Any]:
    return {"type": "keyword", **extra}


def index_template(index: str) -> dict[str, Any]:
    """The body of the index template for a log index named ``index`` (put_index_template kwargs)."""
    lowered = _keyword(normalizer=NORMALIZER, ignore_above=MAX_TERM_CHARS)
    return {
        "index_patterns": [index],
        "priority": 500,
        "meta": {"managed_by": "secaudit", "version": TEMPLATE_VERSION},
        "template": {
            "settings": {
                "analysis": {"normalizer": {NORMALIZER: {"type": "custom", "filter": ["lowercase"]}}},
                "index.mapping.total_fields.limit": 20000,
            },
            "mappings": {
                "_meta": ESCAPED,
                "dynamic_templates": [
                    {
                        "sigma_fields": {
                            "path_match": "sigma.*",
                            "mapping": {
                                **lowered,
                                "copy_to": "secaudit.values",
                                "fields": {
                                    "cased": _keyword(ignore_above=MAX_TERM_CHARS),
                                    "num": {"type": "double", "ignore_malformed": True},
                                    "ip": {"type": "ip", "ignore_malformed": True},
                                },
                            },
                        }
                    }
                ],
                "properties": {
                    "@timestamp": {"type": "date"},
                    "event": {"properties": {"code": _keyword()}},
                    "host": {"properties": {"name": _keyword()}},
                    "log": {"properties": {"file": {"properties": {"path": _keyword()}}}},
                    "secaudit": {
                        "properties": {
                            "source": _keyword(),
                            "record": {"type": "long"},
                            "seq": {"type": "integer"},
                            "product": _keyword(),
                            "categories": _keyword(),
                            "services": _keyword(),
                            "aliases": _keyword(),
                            "long_fields": _keyword(),
                            "values": lowered,
                        }
                    },
                    "sigma": {"type": "object"},
                },
            },
        },
    }


def names_escaped(mapping: dict[str, Any]) -> bool:
    """True if an index's mapping is this version's (escaped field names); False for the earlier shape
    (dotted names under ``subobjects: false``)."""
    meta = mapping.get("_meta")
    return isinstance(meta, dict) and meta.get("secaudit_field_names") == "escaped"


def has_secaudit_mapping(mapping: dict[str, Any]) -> bool:
    """True if an index's mapping (``mappings`` of get_mapping) is one :func:`index_template` makes
    (this version's, or the earlier one with ``subobjects: false``)."""
    props = mapping.get("properties") or {}
    sigma = props.get("sigma") or {}
    templates = mapping.get("dynamic_templates") or []
    names = {name for entry in templates for name in entry}
    shaped = names_escaped(mapping) or sigma.get("subobjects") in (False, "false")
    return shaped and "sigma_fields" in names
