"""Sigma rules converted for Elasticsearch with pySigma's Elasticsearch backend.

Detection rules become Lucene query strings (the stock backend adjusted to secaudit's documents, see
:mod:`secaudit.elastic.backend`), each prefixed with its logsource condition on the ``secaudit.*``
fields, so a rule only sees documents of its logsource as in the embedded engine. Correlation rules
are converted to ES|QL (event_count, value_count, temporal, value_sum...) or EQL (temporal_ordered:
an ordered sequence) where the backend supports them; the language is said per rule.

Every rule is parsed afresh for each backend (processing pipelines mutate rules in place). Meta
filters are applied to the rules they target, as the embedded loader does. A rule the backend
cannot convert becomes a :class:`Failure` with ``file:line``, the rule id and the reason; the
conversion goes on.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sigma.backends.elasticsearch.elasticsearch_eql import EqlBackend
from sigma.backends.elasticsearch.elasticsearch_esql import ESQLBackend
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from secaudit.detect.documents import split_documents
from secaudit.detect.loader import info_of, rule_files
from secaudit.detect.model import RuleInfo
from secaudit.elastic import layouts
from secaudit.elastic.backend import SecauditLuceneBackend, pipeline
from secaudit.elastic.documents import logsource_query
from secaudit.elastic.layouts import SECAUDIT, LayoutLuceneBackend, NotRunnable

LUCENE = "lucene"
ESQL = "esql"
EQL = "eql"
LANGUAGE_NAMES = {LUCENE: "Lucene", ESQL: "ES|QL", EQL: "EQL"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Converted:
    """A rule as Elasticsearch runs it: ``query`` in ``language`` (lucene, esql or eql). ``exact`` is
    False when the query matches a superset of the rule (a relaxed regex, see
    :mod:`secaudit.elastic.regex`): each document it finds must be checked by the embedded engine."""

    info: RuleInfo
    language: str
    query: str
    exact: bool = True
    # When the rule has an OR list too long for one query: the queries (each within the clause
    # limit) whose hits together are the rule's; ``query`` is then their disjunction, for reading.
    parts: tuple[str, ...] = ()
    # the Sigma field names the rule uses (ECS/Wazuh layouts: the hit's event carries them)
    fields: tuple[str, ...] = ()
    # the index fields its query reads (ECS/Wazuh layouts: a value the index did not keep searchable
    # there, listed in _ignored, sends the document to the embedded engine instead)
    targets: tuple[str, ...] = ()
    # what the query cannot ask on this layout although the rule runs (ECS/Wazuh: a comparison with a
    # value the shipper leaves out of the document), each said: the hunt lists the rule as run with a limit
    limits: tuple[str, ...] = ()

    @property
    def runs(self) -> tuple[str, ...]:
        """The queries to run for this rule (one, or its parts)."""
        return self.parts or (self.query,)


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """A rule (or document) the backend could not convert, and why."""

    location: str
    rule_id: str
    title: str
    language: str
    reason: str
    # True when the rule converts but the index layout cannot express it (secaudit.elastic.layouts)
    unrunnable: bool = False
    # for such a rule, the NotRunnable kind: layouts.BLIND_SPOT (the layout holds the rule's log
    # source) or layouts.OTHER_SOURCE (its queries select no event of that source)
    scope: str = ""

    @property
    def kind(self) -> str:
        """The reason without the rule's own names and values, to group failures by."""
        return _QUOTED.sub("'…'", self.reason)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_WHILE = re.compile(r"\s*\(while (?:converting|processing) rule.*\)\s*$", re.DOTALL)


@dataclass(slots=True)
class Conversion:
    """Everything a conversion produced, in file order."""

    files: int = 0
    converted: list[Converted] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def by_location(self) -> dict[str, Converted]:
        return {c.info.location: c for c in self.converted}

    def reasons(self) -> Counter[str]:
        """Failures counted by :attr:`Failure.kind`."""
        return Counter(f.kind for f in self.failures)

    def languages(self) -> Counter[str]:
        return Counter(c.language for c in self.converted)


def _reason(error: Exception) -> str:
    text = _WHILE.sub("", str(error)).strip() or type(error).__name__
    return f"{type(error).__name__}: {text}"


@dataclass(slots=True)
class _Doc:
    path: str
    line: int
    doc: dict[str, Any]


def _documents(files: Sequence[Path], conversion: Conversion) -> list[_Doc]:
    out: list[_Doc] = []
    for file in files:
        conversion.files += 1
        try:
            text = file.read_text(encoding="utf-8-sig")  # a byte-order mark is not part of the rule
        except (OSError, UnicodeDecodeError) as e:
            conversion.failures.append(
                Failure(location=f"{file}:1", rule_id="", title="", language=LUCENE, reason=_reason(e))
            )
            continue
        for line, doc in split_documents(text):
            if not isinstance(doc, dict):
                reason = f"YAML: {getattr(doc, 'problem', None) or doc}" if isinstance(doc, Exception) else ""
                conversion.failures.append(
                    Failure(
                        location=f"{file}:{line}",
                        rule_id="",
                        title="",
                        language=LUCENE,
                        reason=reason or "a rule document must be a mapping",
                    )
                )
                continue
            out.append(_Doc(str(file), line, doc))
    return out


def _failure(item: _Doc, language: str, error: Exception, layout: str = SECAUDIT) -> Failure:
    if isinstance(error, NotRunnable):
        return Failure(
            location=f"{item.path}:{item.line}",
            rule_id=str(item.doc.get("id", "")),
            title=str(item.doc.get("title", "")),
            language=language,
            reason=f"not runnable on the {layouts.LAYOUT_NAMES[layout]} layout: {error.reason}",
            unrunnable=True,
            scope=error.kind,
        )
    return Failure(
        location=f"{item.path}:{item.line}",
        rule_id=str(item.doc.get("id", "")),
        title=str(item.doc.get("title", "")),
        language=language,
        reason=_reason(error),
    )


def _filters(docs: Iterable[_Doc], conversion: Conversion) -> list[SigmaFilter]:
    out = []
    for item in docs:
        if "filter" in item.doc and "detection" not in item.doc:
            try:
                out.append(SigmaFilter.from_dict(item.doc))
            except Exception as e:  # pySigma's errors, and whatever a malformed document provokes
                conversion.failures.append(_failure(item, LUCENE, e))
    return out


def convert_rules(
    paths: Sequence[Path],
    *,
    placeholders: Mapping[str, Sequence[str]] | None = None,
    layout: str = SECAUDIT,
    escape_names: bool = True,
) -> Conversion:
    """Convert every rule under ``paths`` (files or folders of *.yml/*.yaml) for indices of ``layout``
    (secaudit's own, ECS or Wazuh: :mod:`secaudit.elastic.layouts`); never raises for a rule. A rule
    the layout cannot express is a Failure with ``unrunnable`` set. ``escape_names`` False: for
    secaudit indices of the earlier dotted shape (see elastic.documents)."""
    conversion = Conversion()
    docs = _documents(rule_files(paths), conversion)
    filters = _filters(docs, conversion)
    if layout == SECAUDIT:
        backend: SecauditLuceneBackend = SecauditLuceneBackend(
            pipeline(placeholders, escape_names=escape_names)
        )
    else:
        backend = LayoutLuceneBackend(layout, layouts.layout_pipeline(layout, placeholders))
    correlations: list[_Doc] = []
    for item in docs:
        doc = item.doc
        if "correlation" in doc:
            correlations.append(item)
            continue
        if "filter" in doc and "detection" not in doc:
            continue
        try:
            rule: Any = _parsed(doc, filters)
            names = _field_names(rule) if layout != SECAUDIT else set()  # before the pipeline renames
            if isinstance(backend, LayoutLuceneBackend):
                where = layout_where(backend, layout, rule)
            backend.relaxed = False
            backend.start_rule()
            texts = [str(q) for q in backend.convert_rule(rule)]
            targets = _field_names(rule) if layout != SECAUDIT else set()  # renamed by the pipeline
            info = info_of(rule)
            split = []
            for chunk in backend.split_plan():  # an OR list over the clause limit: one query per chunk
                backend.start_rule(chunk)
                split.append([str(q) for q in backend.convert_rule(_parsed(doc, filters))])
        except Exception as e:  # pySigma's errors, and whatever a malformed document provokes
            conversion.failures.append(_failure(item, LUCENE, _cause(e), layout))
            continue
        if not isinstance(backend, LayoutLuceneBackend):
            where = logsource_query(info.product, info.category, info.service)
        parts = tuple(_query(where, part) for part in split)
        conversion.converted.append(
            Converted(
                info=_located(info, item),
                language=LUCENE,
                query=rule_query(where, texts, split),
                exact=not backend.relaxed,
                parts=parts,
                fields=tuple(sorted(names)),
                targets=tuple(sorted(targets)),
                limits=tuple(sorted(backend.limits)) if isinstance(backend, LayoutLuceneBackend) else (),
            )
        )
    if correlations:
        make = (
            (lambda: pipeline(placeholders, escape_names=escape_names))
            if layout == SECAUDIT
            else (lambda: layouts.layout_pipeline(layout, placeholders))
        )
        _convert_correlations(docs, correlations, conversion, make)
    return conversion


def _cause(error: Exception) -> Exception:
    """A NotRunnable that pySigma wrapped on its way up, or the error itself."""
    seen: Exception | None = error
    while seen is not None:
        if isinstance(seen, NotRunnable):
            return seen
        nxt = seen.__cause__ or seen.__context__
        seen = nxt if isinstance(nxt, Exception) else None
    return error


def _field_names(rule: Any) -> set[str]:
    """The field names a rule's detections use (before any pipeline renames them)."""
    out: set[str] = set()

    def visit(node: Any) -> None:
        items = getattr(node, "detection_items", None)
        if items is not None:
            for item in items:
                visit(item)
            return
        name = getattr(node, "field", None)
        if name:
            out.add(str(name))

    for detection in rule.detection.detections.values():
        visit(detection)
    return out


def _parsed(doc: dict[str, Any], filters: Sequence[SigmaFilter]) -> Any:
    rule: Any = SigmaRule.from_dict(doc)
    for flt in filters:
        rule = flt.apply_on_rule(rule)
    return rule


def layout_where(backend: LayoutLuceneBackend, layout: str, rule: Any) -> str:
    """The condition selecting ``rule``'s logsource on an ECS or Wazuh index (call it before the
    rule is converted: the pipeline renames its fields); NotRunnable when the layout cannot hold the
    rule's events or keeps one of its fields elsewhere (ECS)."""
    source = rule.logsource
    where = layouts.logsource_query(backend, source.product, source.category, source.service)
    if layout == layouts.ECS:
        for name in sorted(_field_names(rule)):
            conflict = layouts.ecs_conflict(name, source.product, source.category, source.service)
            if conflict:
                raise NotRunnable(f"ECS keeps {conflict}")
    return where


def rule_query(where: str, texts: Sequence[str], split: Sequence[Sequence[str]] = ()) -> str:
    """One rule's query: its condition's queries (or, for a rule split over the clause limit, each
    chunk's) behind the logsource condition ``where``; the sigma plugin prints the same."""
    parts = [_query(where, part) for part in split]
    return " OR ".join(f"({p})" for p in parts) if parts else _query(where, texts)


def _query(where: str, texts: Sequence[str]) -> str:
    query = texts[0] if len(texts) == 1 else " OR ".join(f"({q})" for q in texts)
    return f"{where} AND ({query})" if where else query


def _located(info: RuleInfo, item: _Doc) -> RuleInfo:
    return replace(info, location=f"{item.path}:{item.line}")


def correlation_language(kind: str) -> str:
    """EQL for an ordered temporal correlation (a sequence), ES|QL for every other type."""
    return EQL if kind == "temporal_ordered" else ESQL


def _convert_correlations(
    docs: list[_Doc],
    correlations: list[_Doc],
    conversion: Conversion,
    make_pipeline: Any,
) -> None:
    by_key: dict[str, _Doc] = {}
    for item in docs:
        for key in ("id", "name"):
            if item.doc.get(key) is not None:
                by_key.setdefault(str(item.doc[key]), item)
    for item in correlations:
        body = item.doc.get("correlation")
        kind = str(body.get("type", "")) if isinstance(body, dict) else ""
        language = correlation_language(kind)
        try:
            needed = _referenced(item, by_key)
            # Parsed afresh for this backend: its pipeline changes the rules it converts.
            collection = SigmaCollection.from_dicts([d.doc for d in needed] + [item.doc])
            rule = next(r for r in collection.rules if isinstance(r, SigmaCorrelationRule))
            backend = (ESQLBackend if language == ESQL else EqlBackend)(make_pipeline())
            for base in collection.rules:  # referenced rules first: the correlation query embeds them
                if isinstance(base, SigmaCorrelationRule):
                    if base is not rule:
                        backend.convert_correlation_rule(base)
                else:
                    backend.convert_rule(base)
            queries = backend.convert_correlation_rule(rule)
            info = info_of(rule, correlation=rule.type.name.lower())
        except Exception as e:  # pySigma's errors, and whatever a malformed document provokes
            conversion.failures.append(_failure(item, language, e))
            continue
        conversion.converted.append(
            Converted(info=_located(info, item), language=language, query="\n".join(str(q) for q in queries))
        )


def _referenced(item: _Doc, by_key: Mapping[str, _Doc]) -> list[_Doc]:
    """The documents a correlation refers to, through chained correlations too (referenced first)."""
    out: list[_Doc] = []
    seen: set[int] = {id(item)}

    def visit(doc: _Doc) -> None:
        body = doc.doc.get("correlation")
        refs = body.get("rules", []) if isinstance(body, dict) else []
        for ref in refs if isinstance(refs, list) else [refs]:
            target = by_key.get(str(ref))
            if target is None or id(target) in seen:
                continue
            seen.add(id(target))
            visit(target)
            out.append(target)

    visit(item)
    return out
