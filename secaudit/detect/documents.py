"""Rule files split into YAML documents with the line each starts on, parsed by libyaml.

Multi-document files are split on ``---`` lines (a document marker at column 0 always ends the
previous document in YAML, even inside a block scalar), so every document keeps its own line for
``path:line`` locations and a broken document does not hide its neighbours. Sigma v1 collection
actions are applied: ``action: global`` merges into the following documents, ``reset`` forgets it,
``repeat`` re-uses the previous document with changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from secaudit.catalog.compliance import compliance_references
from secaudit.catalog.yamlload import node_problem
from secaudit.core.model import Reference

_MARKER = re.compile(r"^---(?:[ \t].*)?$")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _chunks(text: str) -> list[tuple[int, int, str]]:
    """(0-based line the chunk starts at, 1-based line of its first content, text) per document;
    chunks holding only blank lines and comments are dropped."""
    pieces: list[tuple[int, list[str]]] = [(0, [])]
    for number, line in enumerate(text.splitlines(keepends=True)):
        if _MARKER.match(line.rstrip("\r\n")):
            pieces.append((number + 1, []))
        else:
            pieces[-1][1].append(line)
    out = []
    for offset, lines in pieces:
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and stripped != "...":
                out.append((offset, offset + i + 1, "".join(lines)))
                break
    return out


def _load(text: str) -> Any:
    """One document, built only when it stays within the content limits (no alias bomb, no deep
    nesting: see catalog.yamlload.node_problem); else a YAML error at the offending line."""
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problem = node_problem(node)
        if problem is not None:
            raise yaml.MarkedYAMLError(problem=problem[0], problem_mark=problem[1])
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _merge(base: Any, update: Any) -> Any:
    if isinstance(base, dict) and isinstance(update, dict):
        merged = dict(base)
        for key, value in update.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return update


def split_documents(text: str) -> list[tuple[int, Any]]:
    """(line, document) per rule document; a document that is not valid YAML comes back as the
    yaml.YAMLError, with the line of the error."""
    out: list[tuple[int, Any]] = []
    global_doc: dict[str, Any] | None = None
    previous: Any = None
    for offset, first, chunk in _chunks(text):
        try:
            doc = _load(chunk)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            out.append((offset + mark.line + 1 if mark is not None else first, e))
            continue
        if isinstance(doc, dict) and "action" in doc:
            action = doc["action"]
            body = {k: v for k, v in doc.items() if k != "action"}
            if action == "global":
                global_doc = body
                continue
            if action == "reset":
                global_doc = None
                continue
            if action == "repeat" and isinstance(previous, dict):
                doc = _merge(previous, body)
                previous = doc
                out.append((first, doc))
                continue
        if global_doc is not None and isinstance(doc, dict):
            doc = _merge(global_doc, doc)
        previous = doc
        out.append((first, doc))
    return out


def rule_compliance(paths: Sequence[Path]) -> dict[str, tuple[Reference, ...]]:
    """The controls each rule under ``paths`` (files, or folders of *.yml / *.yaml) cites in its
    ``compliance:`` block, by rule id, so control coverage can count the rules that ran and found
    nothing. Documents without an id or the block, and files that cannot be read, give nothing."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())
        elif path.is_file():
            files.append(path)
    out: dict[str, tuple[Reference, ...]] = {}
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for _line, doc in split_documents(text):
            if isinstance(doc, dict) and isinstance(doc.get("id"), str):
                refs = compliance_references(doc.get("compliance"))[0]
                if refs:
                    out[doc["id"]] = refs
    return out
