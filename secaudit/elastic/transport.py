"""The engines secaudit talks to, and every difference between them, in this one module.

Supported: Elasticsearch 8.x and 9.x, OpenSearch 2.4 and later (2.x, 3.x), so also the Wazuh indexer
(an OpenSearch distribution). One client serves all of them, the official Elasticsearch client, whose
requests the two engines understand alike (search, multi-search, bulk, count, mappings, index
templates, cat), except for what this module adapts:

- **Media types.** The pinned client (9.x) announces ``application/vnd.elasticsearch+json;
  compatible-with=9``. An 8.x cluster refuses 9 but both 8.x and 9.x accept ``compatible-with=8``
  (REST API compatibility covers the previous major version), so for Elasticsearch the header is
  rewritten to 8; OpenSearch answers HTTP 406 to any ``vnd.elasticsearch`` type, so for it the plain
  ``application/json`` / ``application/x-ndjson`` are sent.
- **Product check.** The client refuses a 2xx answer without ``X-Elastic-Product: Elasticsearch``.
  secaudit identifies the engine itself first (:func:`identify`, from ``GET /`` read below the client),
  refuses servers it does not know, and for a server identified as OpenSearch the transport answers the
  client's check (OpenSearch never sends that header).
- **Point in time.** Elasticsearch: ``POST /INDEX/_pit?keep_alive=`` answers ``{"id"}``, closed with
  ``DELETE /_pit {"id"}``. OpenSearch: ``POST /INDEX/_search/point_in_time?keep_alive=`` answers
  ``{"pit_id"}``, closed with ``DELETE /_search/point_in_time {"pit_id": [...]}``. Searches name it
  alike (``"pit": {"id", "keep_alive"}`` in the body) and return the id to use next as ``pit_id``.
- **Document shape.** Elasticsearch 8.3 has ``subobjects: false``; OpenSearch 2.x has no equivalent.
  secaudit's documents escape the dots in their field names instead (see
  :mod:`secaudit.elastic.documents`), one shape for both engines.

``GET /`` needs the ``monitor`` cluster privilege (``cluster:monitor/main``). Without it the engine is
still told apart: Elasticsearch sends its product header on every answer, a 403 included; a 403
without it comes from OpenSearch's security plugin. The version is then unknown (said as such).
An OpenSearch cluster in compatibility mode (``compatibility.override_main_response_version``, set
by older Wazuh installs) answers ``GET /`` as Elasticsearch 7.10.2 without a distribution: its
tagline names OpenSearch, and the real version is read from the local node's info when allowed.
The Wazuh indexer cannot be told from OpenSearch by any field; it is named when the cluster or node
name says ``wazuh`` (the Wazuh installers' default names), and behaves exactly as OpenSearch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from elastic_transport import HttpHeaders, Transport, TransportError
from elasticsearch import ApiError, Elasticsearch

ELASTICSEARCH = "Elasticsearch"
OPENSEARCH = "OpenSearch"
UNKNOWN = "unknown"
WAZUH = "Wazuh indexer"
COMPAT_FROM = "compatible-with=9"
COMPAT_TO = "compatible-with=8"
_VENDOR = re.compile(r"application/vnd\.elasticsearch\+([\w-]+)(\s*;\s*compatible-with=\d+)?")
# Supported versions: [first, beyond) per engine
SUPPORTED = {ELASTICSEARCH: ((8, 0), (10, 0)), OPENSEARCH: ((2, 4), (4, 0))}


def version_tuple(text: str) -> tuple[int, int]:
    """``8.15.3`` -> (8, 15); (0, 0) when unreadable."""
    parts = [*text.split("-", maxsplit=1)[0].split("."), "0", "0"][:2]
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        return 0, 0


@dataclass(frozen=True, slots=True)
class Engine:
    """What answers at the URL: ``product`` (ELASTICSEARCH, OPENSEARCH or UNKNOWN), its ``version``
    ("" when the credentials may not read it), and ``distribution`` (WAZUH when it shows)."""

    product: str
    version: str = ""
    distribution: str = ""
    note: str = ""  # how the version was found, when not plainly (compatibility mode, no privilege)

    @property
    def name(self) -> str:
        if self.product == UNKNOWN:
            return "an unknown server (neither Elasticsearch nor OpenSearch)"
        return f"{self.distribution} ({self.product})" if self.distribution else self.product

    def describe(self) -> str:
        version = self.version or "(version not readable)"
        return f"{self.name} {version}" + (f" ({self.note})" if self.note else "")

    @property
    def opensearch(self) -> bool:
        return self.product == OPENSEARCH

    def problem(self) -> str | None:
        """Why secaudit does not work with this engine, or None when it does (an unknown version of a
        known engine counts as supported: the credentials may simply not read it)."""
        if self.product not in SUPPORTED:
            return f"{self.name} is not supported: secaudit works with {supported_text()}"
        if not self.version:
            return None
        first, beyond = SUPPORTED[self.product]
        if not first <= version_tuple(self.version) < beyond:
            return f"{self.name} {self.version} is not supported: secaudit works with {supported_text()}"
        return None


def supported_text() -> str:
    return "Elasticsearch 8.x and 9.x, OpenSearch 2.4 or later (2.x, 3.x) and the Wazuh indexer built on it"


class EngineTransport(Transport):
    """The client's transport, adapted to the engine once :func:`identify` has set ``engine``
    (module doc: media types and the product check)."""

    engine: Engine | None = None

    def perform_request(self, method: str, target: str, **kwargs: Any) -> Any:
        headers = kwargs.get("headers")
        if isinstance(headers, (HttpHeaders, dict)) and headers:
            kwargs["headers"] = self._headers(HttpHeaders(headers))
        response = super().perform_request(method, target, **kwargs)
        engine = self.engine
        if engine is not None and engine.opensearch and "x-elastic-product" not in response.meta.headers:
            response.meta.headers["x-elastic-product"] = ELASTICSEARCH  # identified already (module doc)
        return response

    def _headers(self, headers: HttpHeaders) -> HttpHeaders:
        opensearch = self.engine is not None and self.engine.opensearch
        for name in ("accept", "content-type"):
            value = headers.get(name)
            if not isinstance(value, str):
                continue
            if opensearch:
                headers[name] = _VENDOR.sub(r"application/\1", value)
            elif COMPAT_FROM in value:
                headers[name] = value.replace(COMPAT_FROM, COMPAT_TO)
        return headers


def _transport(client: Elasticsearch) -> EngineTransport | None:
    transport = client.transport
    return transport if isinstance(transport, EngineTransport) else None


def _get(client: Elasticsearch, path: str) -> Any:
    """GET ``path`` through the transport, below the client's product check and status handling."""
    return client.transport.perform_request("GET", path, headers={"accept": "application/json"})


def identify(client: Elasticsearch) -> Engine:
    """The engine at the client's URL (module doc), remembered by its transport so that every later
    request is adapted to it. Raises ApiError for an answer that is neither 2xx nor a 403 (a 401:
    bad credentials); transport errors propagate."""
    response = _get(client, "/")
    status, body = response.meta.status, response.body
    elastic = response.meta.headers.get("x-elastic-product") == ELASTICSEARCH
    if status == 403:
        engine = Engine(ELASTICSEARCH if elastic else OPENSEARCH, note="no monitor privilege to read it")
    elif status >= 400:
        raise ApiError(message=f"GET / answered {status}", meta=response.meta, body=body)
    else:
        engine = _from_root(client, body, elastic)
    transport = _transport(client)
    if transport is not None:
        transport.engine = engine
    return engine


def _from_root(client: Elasticsearch, body: Any, elastic: bool) -> Engine:
    root: dict[str, Any] = body if isinstance(body, dict) else {}
    version: dict[str, Any] = root["version"] if isinstance(root.get("version"), dict) else {}
    number = str(version.get("number", ""))
    names = f"{root.get('cluster_name', '')} {root.get('name', '')}".lower()
    distribution = WAZUH if "wazuh" in names else ""
    if version.get("distribution") == "opensearch":
        return Engine(OPENSEARCH, number, distribution)
    if "opensearch" in str(root.get("tagline", "")).lower():
        # compatibility mode: GET / pretends to be Elasticsearch 7.10.2 (module doc)
        real = _node_version(client)
        note = "compatibility mode: GET / says " + number
        return Engine(OPENSEARCH, real, distribution, note if real else note + ", real version not readable")
    if elastic:
        return Engine(ELASTICSEARCH, number)
    return Engine(UNKNOWN, number)


def _node_version(client: Elasticsearch) -> str:
    try:
        response = _get(client, "/_nodes/_local?filter_path=nodes.*.version")
    except TransportError:  # only a better version is lost
        return ""
    body = response.body
    nodes = body.get("nodes") if response.meta.status == 200 and isinstance(body, dict) else None
    if isinstance(nodes, dict):
        for node in nodes.values():
            if isinstance(node, dict) and node.get("version"):
                return str(node["version"])
    return ""


def engine_of(client: Elasticsearch) -> Engine | None:
    """The engine :func:`identify` found for this client's transport, if it ran."""
    transport = _transport(client)
    return transport.engine if transport is not None else None


# -- point in time ------------------------------------------------------------------------------


def open_point_in_time(client: Elasticsearch, index: str, keep_alive: str) -> tuple[str, int]:
    """Open a point in time over ``index`` on either engine: its id, and how many shards it misses
    (OpenSearch creates a point in time without the shards it could not reach, and says so only in
    ``_shards.failed``; Elasticsearch refuses to by default)."""
    engine = engine_of(client)
    if engine is not None and engine.opensearch:
        response = client.perform_request(
            "POST",
            f"/{_quote(index)}/_search/point_in_time",
            params={"keep_alive": keep_alive},
            headers={"accept": "application/json"},
        )
        found = response.body
        pit = str(found["pit_id"])
    else:
        found = client.open_point_in_time(index=index, keep_alive=keep_alive, ignore_unavailable=True).body
        pit = str(found["id"])
    shards = found.get("_shards") if isinstance(found, dict) else None
    failed = int(shards.get("failed") or 0) if isinstance(shards, dict) else 0
    return pit, failed


def close_point_in_time(client: Elasticsearch, pit: str) -> None:
    """Close a point in time (it expires by itself within its keep-alive anyway)."""
    engine = engine_of(client)
    if engine is not None and engine.opensearch:
        client.perform_request(
            "DELETE",
            "/_search/point_in_time",
            body={"pit_id": [pit]},
            headers={"accept": "application/json", "content-type": "application/json"},
        )
    else:
        client.close_point_in_time(id=pit)


def _quote(index: str) -> str:
    return quote(index, safe=",*")
