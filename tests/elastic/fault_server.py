"""A scripted loopback HTTP server that answers the few Elasticsearch requests a hunt makes, with
faults on demand (a 429, failed shards, a slow answer, no product header), as Elasticsearch or as
OpenSearch (``Script.opensearch``: no product header, HTTP 406 to Elasticsearch's vendor media types,
point in time at ``_search/point_in_time``).

It is NOT a cluster and shows nothing about queries or results: every search gets the same scripted
documents, whatever its query. It exists to check how secaudit reacts to the protocol's faults and
differences. It binds 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from secaudit.elastic.documents import index_template
from secaudit.elastic.layouts import dotted_value

INDEX = "secaudit-logs-fault"


@dataclass
class Script:
    """What the server does. ``fault(kind, body)`` may return (status, body, delay seconds) to answer a
    search (kind "msearch" or "search") differently; None answers normally."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    product_header: bool = True
    fault: Callable[[str, str], tuple[int, Any, float] | None] = lambda kind, body: None
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) received
    mapping: dict[str, Any] | None = None  # the index's mappings; None: secaudit's template
    other_mappings: dict[str, Any] = field(default_factory=dict)  # more indices matching (name: mappings)
    info: dict[str, Any] = field(
        default_factory=lambda: {"version": {"number": "8.15.3"}, "tagline": "You Know, for Search"}
    )  # what GET / answers
    forbidden: tuple[str, ...] = ()  # path prefixes answered 403 (credentials without that privilege)
    # index templates by name (GET/PUT /_index_template/NAME) and indices that exist (HEAD/PUT /NAME)
    templates: dict[str, Any] = field(default_factory=dict)
    indices: set[str] = field(default_factory=lambda: {INDEX})
    opensearch: bool = False  # answer as OpenSearch does (module doc)
    # (method, path, accept, content-type) of every request
    headers: list[tuple[str, str, str, str]] = field(default_factory=list)
    # documents of the successive /_search pages (search_after); empty: every later page is empty
    pages: list[list[dict[str, Any]]] = field(default_factory=list)
    on_search: Callable[[int], None] = lambda number: None  # told the number of each /_search call
    pit_failed_shards: int = 0  # OpenSearch: shards the point in time was created without
    node_version: str | None = None  # what GET /_nodes/_local tells; None: 403
    bulk: list[dict[str, Any]] = field(default_factory=list)  # documents received by /_bulk
    ignored: int = 0  # what /_count answers to a query on _ignored (documents with values not indexed)
    counts: list[dict[str, Any]] = field(default_factory=list)  # bodies received by /_count


def _hits(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "took": 1,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "pit_id": "pit-1",
        "hits": {"hits": [{"_id": str(n), "_source": d, "sort": [n]} for n, d in enumerate(documents)]},
    }


def _absent_field(body: dict[str, Any]) -> str | None:
    """The field a count asks to be absent (``must_not`` of one ``exists``, maybe in a filter), or None."""
    query = body.get("query") or {}
    for clause in [query, *(query.get("bool", {}).get("filter") or [])]:
        must_not = clause.get("bool", {}).get("must_not") if isinstance(clause, dict) else None
        if isinstance(must_not, list) and len(must_not) == 1 and "exists" in must_not[0]:
            return str(must_not[0]["exists"]["field"])
    return None


def normal_search(script: Script) -> dict[str, Any]:
    return _hits(script.documents)


class _Handler(BaseHTTPRequestHandler):
    script: Script

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, delay: float = 0.0) -> None:
        if delay:
            time.sleep(delay)
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if self.script.product_header and not self.script.opensearch:
                self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def _route(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        body = self._body()
        self.script.requests.append((method, path))
        accept, kind = self.headers.get("Accept") or "", self.headers.get("Content-Type") or ""
        self.script.headers.append((method, path, accept, kind))
        if self.script.opensearch and "vnd.elasticsearch" in accept + kind:
            # OpenSearch knows no Elasticsearch vendor media type
            reason = f"Content-Type header [{kind or accept}] is not supported"
            self._send(406, {"error": reason, "status": 406})
        elif not self.script.opensearch and "compatible-with=9" in accept + kind and self._major() < 9:
            reason = "A compatible version is required on both Content-Type and Accept headers"
            self._send(400, {"error": {"type": "media_type_header_exception", "reason": reason}})
        elif self.script.opensearch and (path.endswith("/_pit") or path == "/_pit"):
            self._send(400, {"error": {"type": "illegal_argument_exception", "reason": "no _pit"}})
        elif any(path == p or path.startswith(p + "/") for p in self.script.forbidden):
            reason = f"action [{path}] is unauthorized for API key"
            self._send(403, {"error": {"type": "security_exception", "reason": reason}, "status": 403})
        elif path.startswith("/_index_template/"):
            name = path.rsplit("/", 1)[1]
            if method == "PUT":
                self.script.templates[name] = json.loads(body)
                self._send(200, {"acknowledged": True})
            elif name in self.script.templates:
                entry = {"name": name, "index_template": self.script.templates[name]}
                self._send(200, {"index_templates": [entry]})
            else:
                self._send(
                    404, {"error": {"type": "resource_not_found_exception", "reason": name}, "status": 404}
                )
        elif method in ("HEAD", "PUT") and path.count("/") == 1 and not path.startswith("/_"):
            name = path[1:]
            if method == "PUT":
                self.script.indices.add(name)
                self._send(200, {"acknowledged": True, "index": name})
            else:
                self._send(200 if name in self.script.indices else 404, {})
        elif path == "/":
            self._send(200, {"cluster_name": "scripted", **self.script.info})
        elif path == "/_nodes/_local":
            if self.script.node_version is None:
                self._send(403, {"error": {"type": "security_exception", "reason": "no"}, "status": 403})
            else:
                self._send(200, {"nodes": {"n1": {"version": self.script.node_version}}})
        elif path == "/_bulk":
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            items = []
            for action, document in zip(lines[::2], lines[1::2], strict=True):
                self.script.bulk.append(document)
                items.append({"create": {"_id": action["create"]["_id"], "status": 201}})
            self._send(200, {"took": 1, "errors": False, "items": items})
        elif path.endswith("/_refresh"):
            self._send(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})
        elif path == "/_cluster/health":
            self._send(200, {"status": "green", "number_of_nodes": 1})
        elif path.startswith("/_cat/indices"):
            self._send(200, [{"index": INDEX, "health": "green", "docs.count": "1", "store.size": "1kb"}])
        elif path.endswith("/_mapping"):
            mapping = self.script.mapping
            if mapping is None:
                mapping = index_template(INDEX)["template"]["mappings"]
            others = {name: {"mappings": m} for name, m in self.script.other_mappings.items()}
            self._send(200, {INDEX: {"mappings": mapping}, **others})
        elif path.endswith("/_count"):
            self.script.counts.append(json.loads(body) if body else {})
            documents = self.script.documents + [d for page in self.script.pages for d in page]
            if "secaudit.long_fields" in body:
                documents = [d for d in documents if "long_fields" in d.get("secaudit", {})]
            if '"_ignored"' in body:
                self._send(200, {"count": self.script.ignored})
                return
            absent = _absent_field(json.loads(body)) if body else None
            if absent is not None:  # documents without a field (a layout's channel): counted for real
                documents = [d for d in documents if dotted_value(d, absent) is None]
            self._send(200, {"count": len(documents)})
        elif path.endswith("/_pit") and method == "POST":
            self._send(200, {"id": "pit-1"})
        elif path == "/_pit" and method == "DELETE":
            self._send(200, {"succeeded": True, "num_freed": 1})
        elif self.script.opensearch and path.endswith("/_search/point_in_time") and method == "POST":
            failed = self.script.pit_failed_shards
            shards = {"total": 1 + failed, "successful": 1, "failed": failed}
            self._send(200, {"pit_id": "pit-1", "_shards": shards})
        elif self.script.opensearch and path == "/_search/point_in_time" and method == "DELETE":
            self._send(200, {"pits": [{"successful": True, "pit_id": "pit-1"}]})
        elif path == "/_msearch":
            fault = self.script.fault("msearch", body)
            if fault is not None:
                self._send(fault[0], fault[1], fault[2])
                return
            searches = [line for line in body.splitlines() if line.strip()][1::2]
            items = []
            for search in searches:
                item = self.script.fault("item", search)
                items.append(item[1] if item is not None else {**_hits(self.script.documents), "status": 200})
            self._send(200, {"took": 1, "responses": items})
        elif path == "/_search":
            fault = self.script.fault("search", body)
            if fault is not None:
                self._send(fault[0], fault[1], fault[2])
                return
            number = sum(1 for _, p in self.script.requests if p == "/_search")
            self.script.on_search(number)
            pages = self.script.pages
            self._send(200, _hits(pages[number - 1] if number <= len(pages) else []))
        else:
            self._send(
                404, {"error": {"type": "not_found", "reason": f"no route {method} {path}"}, "status": 404}
            )

    def _major(self) -> int:
        major = str((self.script.info.get("version") or {}).get("number", "0")).partition(".")[0]
        return int(major) if major.isdigit() else 0

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_HEAD(self) -> None:
        self._route("HEAD")

    def do_PUT(self) -> None:
        self._route("PUT")


@contextmanager
def serve(script: Script) -> Iterator[str]:
    """The server running on 127.0.0.1 (a free port) with ``script``; yields its URL."""
    handler = type("Handler", (_Handler,), {"script": script})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
