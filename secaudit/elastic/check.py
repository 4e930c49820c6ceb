"""What ``secaudit logs es-check`` reports: the cluster's version and health, and matching indices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from secaudit.elastic.documents import has_secaudit_mapping, names_escaped
from secaudit.elastic.layouts import ECS, LAYOUT_NAMES, SECAUDIT, UNKNOWN, WAZUH
from secaudit.elastic.transport import ELASTICSEARCH, identify


def _has(properties: dict[str, Any], path: str) -> bool:
    node: Any = {"properties": properties}
    for part in path.split("."):
        props = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(props, dict) or part not in props:
            return False
        node = props[part]
    return True


def layout_of(mapping: dict[str, Any]) -> str:
    """The field layout an index's mapping (``mappings`` of get_mapping) shows: secaudit's own, ECS
    (``ecs.version``, ``winlog.*``, ``process.command_line``...), Wazuh (``data.win.*``, ``rule.level``
    with ``agent.name``...) or unknown."""
    if has_secaudit_mapping(mapping):
        return SECAUDIT
    props = mapping.get("properties") or {}
    if not isinstance(props, dict):
        return UNKNOWN
    if (
        _has(props, "data.win")
        or _has(props, "data.audit")
        or (_has(props, "rule.level") and _has(props, "agent.name"))
    ):
        return WAZUH
    if _has(props, "ecs.version") or _has(props, "winlog") or _has(props, "event.category"):
        return ECS
    return UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexInfo:
    name: str
    health: str
    documents: int
    size: str
    secaudit_mapping: bool
    layout: str = UNKNOWN
    escaped_names: bool = True  # secaudit layout: field names escaped (False: the earlier dotted shape)
    # some field of the mapping (or a dynamic template) sets ignore_above: a longer value is kept in
    # _source but not searchable
    ignore_above: bool = False


@dataclass(slots=True, kw_only=True)
class ClusterCheck:
    url: str
    version: str
    cluster_name: str
    health: str
    nodes: int
    supported: bool
    indices: list[IndexInfo] = field(default_factory=list)
    engine: str = ELASTICSEARCH  # its name: Elasticsearch, OpenSearch, Wazuh indexer (OpenSearch)...
    product: str = ELASTICSEARCH
    problem: str | None = None  # why it is not supported
    note: str = ""  # how the version was found, when not plainly

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "engine": self.engine,
            "product": self.product,
            "version": self.version,
            "version_note": self.note,
            "problem": self.problem,
            "cluster_name": self.cluster_name,
            "health": self.health,
            "nodes": self.nodes,
            "supported": self.supported,
            "indices": [
                {
                    "name": i.name,
                    "health": i.health,
                    "documents": i.documents,
                    "size": i.size,
                    "secaudit_mapping": i.secaudit_mapping,
                    "layout": i.layout,
                }
                for i in self.indices
            ],
        }


def has_ignore_above(node: Any) -> bool:
    """Whether a mapping (or any part of it) sets ``ignore_above`` anywhere."""
    if isinstance(node, dict):
        return "ignore_above" in node or any(has_ignore_above(v) for v in node.values())
    if isinstance(node, list):
        return any(has_ignore_above(v) for v in node)
    return False


def matching_indices(client: Elasticsearch, pattern: str) -> list[IndexInfo]:
    """Open indices matching ``pattern`` (a name, a wildcard pattern or a comma list), sorted by name."""
    try:
        rows = client.cat.indices(index=pattern, format="json", h="index,health,docs.count,store.size")
    except ApiError as e:
        if e.status_code == 404:
            return []
        raise
    table: list[dict[str, Any]] = [r for r in rows.body if isinstance(r, dict)]
    names = [str(r["index"]) for r in table]
    mappings = client.indices.get_mapping(index=",".join(names)).body if names else {}
    out = []
    for row in table:
        name = str(row["index"])
        mapping = (mappings.get(name) or {}).get("mappings") or {}
        out.append(
            IndexInfo(
                name=name,
                health=str(row.get("health") or ""),
                documents=int(row.get("docs.count") or 0),
                size=str(row.get("store.size") or ""),
                secaudit_mapping=has_secaudit_mapping(mapping),
                layout=layout_of(mapping),
                escaped_names=names_escaped(mapping),
            )
        )
    return sorted(out, key=lambda i: i.name)


def mapped_indices(client: Elasticsearch, pattern: str) -> list[IndexInfo]:
    """Indices matching ``pattern`` with their layout, from their mappings alone: what a hunt needs,
    asked with the ``view_index_metadata`` index privilege only (no ``monitor``)."""
    try:
        found = client.indices.get_mapping(index=pattern, allow_no_indices=True, ignore_unavailable=True)
    except ApiError as e:
        if e.status_code == 404:
            return []
        raise
    body: dict[str, Any] = found.body if isinstance(found.body, dict) else {}
    out = []
    for name, entry in body.items():
        mapping = (entry or {}).get("mappings") or {}
        out.append(
            IndexInfo(
                name=str(name),
                health="",
                documents=0,
                size="",
                secaudit_mapping=has_secaudit_mapping(mapping),
                layout=layout_of(mapping),
                escaped_names=names_escaped(mapping),
                ignore_above=has_ignore_above(mapping),
            )
        )
    return sorted(out, key=lambda i: i.name)


__all__ = ["ECS", "LAYOUT_NAMES", "SECAUDIT", "UNKNOWN", "WAZUH", "layout_of"]


def check_cluster(client: Elasticsearch, url: str, pattern: str | None) -> ClusterCheck:
    engine = identify(client)
    problem = engine.problem()
    check = ClusterCheck(
        url=url,
        version=engine.version,
        cluster_name="",
        health="",
        nodes=0,
        supported=problem is None,
        engine=engine.name,
        product=engine.product,
        problem=problem,
        note=engine.note,
    )
    if problem is not None:  # the client's calls would be refused or mean something else
        return check
    info = client.info()
    health = client.cluster.health()
    check.cluster_name = str(info.get("cluster_name", ""))
    check.health = str(health.get("status", ""))
    check.nodes = int(health.get("number_of_nodes", 0))
    if pattern:
        check.indices = matching_indices(client, pattern)
    return check
