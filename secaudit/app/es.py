"""Elasticsearch use cases: ingest logs, hunt with Sigma on the cluster, publish findings, check it.

The embedded engine stays the default; these run the same rules and the same readers against a
cluster. A hunt on the cluster hands on the same :class:`RuleHit` objects as :func:`hunt` (so every
output format and the summary work unchanged): the rule descriptions come from the embedded loader,
the queries from pySigma's Elasticsearch backend, and correlation rules are evaluated by secaudit's
own correlator over their base rules' hits from the cluster (the ES|QL/EQL forms the backend makes
bucket time in fixed windows, not Sigma's sliding timespan; their conversion is still reported).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError

from secaudit.app.history import load_run_report
from secaudit.app.hunt import (
    HitDelivery,
    HitSink,
    HuntOptions,
    HuntSummary,
    load_hunt_rules,
)
from secaudit.app.locations import default_rules_dir
from secaudit.catalog.yamlload import YDict, load_yaml
from secaudit.core.errors import OperationalError, UsageError
from secaudit.core.events import LogKind
from secaudit.core.report import ProgressCallback, ProgressEvent, no_progress
from secaudit.detect.engine import Engine as LocalEngine
from secaudit.detect.model import RuleHit, RuleInfo, RuleProblem
from secaudit.detect.plans import RulePlan, RuleSet
from secaudit.detect.reference import matched_fields, reference_matches
from secaudit.elastic.check import (
    ClusterCheck,
    IndexInfo,
    check_cluster,
    mapped_indices,
)
from secaudit.elastic.client import cluster_errors, connect, describe_error, open_cluster
from secaudit.elastic.convert import LUCENE, Conversion, Converted, Failure, convert_rules
from secaudit.elastic.documents import from_source
from secaudit.elastic.findings import FINDINGS_INDEX, PublishResult, ensure_findings_index, publish
from secaudit.elastic.ingest import IngestResult, check_index_name, ensure_index, ingest_events
from secaudit.elastic.layouts import (
    AUTO,
    LAYOUT_NAMES,
    LAYOUTS,
    OTHER_SOURCE,
    SECAUDIT,
    UNKNOWN,
    event_from_source,
)
from secaudit.elastic.search import (
    BACKOFF,
    BATCH,
    SOURCE_FIELDS,
    Faults,
    Place,
    PointInTime,
    RuleQueryError,
    TimeRange,
    hit_from_document,
    sort_key,
)
from secaudit.elastic.settings import EsSettings, parse_settings, resolve
from secaudit.logs import ReadStats, read_events

DEFAULT_HIT_CAP = 10_000
LONG_SCAN_CAP = 1 << 62  # documents with long values are all matched (page by page)
LONG_FIELDS = "secaudit.long_fields"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


# -- settings and time --------------------------------------------------------------------------


def es_settings(url: str | None, *, profile: Path | None = None) -> EsSettings:
    """The connection settings of a command: --es, the environment, the profile's ``elasticsearch:``."""
    from_profile = None
    if profile is not None:
        root = load_yaml(profile)
        node = root.get("elasticsearch") if isinstance(root, YDict) else None
        if node is not None:
            from_profile = parse_settings(node, profile)
    return resolve(url, profile=from_profile)


def parse_duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``, ``2w`` (also ``s``) as a timedelta; a usage error otherwise."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"not a duration: {text!r}", hint="write a number and a unit: 30m, 24h, 7d, 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_moment(text: str, option: str) -> datetime:
    """An ISO 8601 date or date-time; naive values are UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise UsageError(
            f"{option}: not a date or date-time: {text!r}", hint="write e.g. 2026-11-21T01:00:00+07:00"
        ) from e
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def time_range(
    since: str | None, start: str | None, end: str | None, *, now: datetime | None = None
) -> TimeRange:
    """--since DURATION, or --from T [--to T]; neither: no bound (undated documents included)."""
    if since and (start or end):
        raise UsageError("give --since, or --from/--to, not both")
    if since:
        moment = now or datetime.now(UTC)
        return TimeRange(moment - parse_duration(since), None)
    window = TimeRange(
        parse_moment(start, "--from") if start else None, parse_moment(end, "--to") if end else None
    )
    if window.start and window.end and window.start > window.end:
        raise UsageError("--from is after --to")
    return window


# -- ingest -------------------------------------------------------------------------------------


def ingest_logs(
    settings: EsSettings,
    index: str,
    inputs: Sequence[str],
    *,
    input_format: str | None = None,
    kind: LogKind | None = None,
    progress: ProgressCallback = no_progress,
) -> tuple[IngestResult, ReadStats]:
    """Read the inputs with the embedded engine's readers and ingest every event (see elastic.ingest)."""
    check_index_name(index)
    if "-" in inputs:
        raise UsageError(
            "ingest needs files: a document's id is made from its file path and record",
            hint="save standard input to a file first",
        )
    for name in inputs:
        if not Path(name).exists():
            raise OperationalError(
                "log input not found", location=name, hint="check the path (ingest reads files and folders)"
            )
    stats = ReadStats()
    result = IngestResult(index=index)
    client, _ = open_cluster(settings, f"preparing index {index}")
    with cluster_errors(settings, f"preparing index {index}"):
        ensure_index(client, index, result)
    events = read_events(list(inputs), input_format=input_format, kind=kind, stats=stats)
    try:
        with cluster_errors(settings, f"ingesting into {index}"):
            ingest_events(client, index, events, progress=progress, result=result)
            client.indices.refresh(index=index)
    except OperationalError as e:
        if e.location != settings.url:
            raise  # a log input that could not be read, not the cluster
        done = result.created + result.existing + result.failed
        raise OperationalError(
            f"{e.message}; {done} of {result.events} events were answered before it stopped",
            location=e.location,
            hint="run the same ingest again: documents already there are recognised and not added twice",
        ) from e
    return result, stats


# -- hunt ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EsHuntOptions:
    settings: EsSettings
    index: str
    window: TimeRange = field(default_factory=TimeRange)
    rules: tuple[Path, ...] = ()
    min_level: str | None = None
    placeholders: Mapping[str, Sequence[str]] | None = None
    hit_cap: int = DEFAULT_HIT_CAP
    cache_dir: Path | None = None
    timeout: float = 30.0  # seconds per request
    rules_per_request: int = BATCH  # queries per multi-search
    backoff: tuple[float, ...] = BACKOFF  # pauses between the tries of a search request
    layout: str = AUTO  # secaudit | ecs | wazuh | auto (the one the mappings show)


@dataclass(slots=True, kw_only=True)
class EsHunt:
    """How a hunt on the cluster went, beyond the common :class:`HuntSummary`."""

    summary: HuntSummary
    version: str = ""
    indices: int = 0
    layout: str = SECAUDIT  # the field layout hunted
    converted: int = 0
    not_converted: list[Failure] = field(default_factory=list)
    unrunnable: list[Failure] = field(default_factory=list)  # rules the layout cannot express
    # of those, the rules whose log source the hunted indices hold no event of (never gated); the
    # others are blind spots, skipped rule problems with their level (a --fail-on gate fails on them)
    not_applicable: list[Failure] = field(default_factory=list)
    # documents in range that are not of a log source the layout's queries select (counted when a
    # rule's source is another one: it is not applicable only when there are none), or None
    other_documents: int | None = None
    query_errors: list[RuleProblem] = field(default_factory=list)
    capped: dict[str, int] = field(default_factory=dict)  # rule id -> the cap it reached
    correlation_languages: dict[str, str] = field(default_factory=dict)  # rule id -> esql | eql | ""
    engine: str = ""  # Elasticsearch, OpenSearch, Wazuh indexer (OpenSearch)
    partial: list[str] = field(default_factory=list)  # rule ids whose results miss shards or timed out
    unfinished: list[RuleProblem] = field(default_factory=list)  # rules the cluster never answered
    faults: Faults = field(default_factory=Faults)
    # correlation id -> the capped rules it takes its input from (its result may be incomplete)
    truncated_correlations: dict[str, list[str]] = field(default_factory=dict)
    # documents in range with a value over the keyword limit: no query can match that value on the
    # cluster, so they are fetched and matched by the embedded engine (long_value_matched of them)
    long_value_documents: int = 0
    long_value_matched: int = 0
    # why such documents cannot be found on this cluster (OpenSearch keeps no _ignored for them), or ""
    long_value_note: str = ""

    @property
    def cannot_run(self) -> list[Failure]:
        """The rules the layout cannot express although the indices may hold their events."""
        return [f for f in self.unrunnable if f not in self.not_applicable]

    @property
    def incomplete(self) -> bool:
        """Some rule's results miss part of the data (partial shards, a timeout, no answer)."""
        return bool(self.partial or self.unfinished)


def _problem(failure: Failure, level: str = "", extra: str = "") -> RuleProblem:
    """A rule that does not run on the cluster, with its declared ``level`` when it is a blind spot
    (so a --fail-on gate at or below it fails, as in a local hunt)."""
    return RuleProblem(
        location=failure.location,
        reason=(
            failure.reason
            if failure.unrunnable
            else f"not converted for Elasticsearch ({failure.language}): {failure.reason}"
        )
        + extra,
        rule_id=failure.rule_id,
        title=failure.title,
        level=level,
    )


def _limited(ruleset: RuleSet, by_location: Mapping[str, Converted], layout: str) -> tuple[RuleProblem, ...]:
    """The rules that run on this layout with a limit their query cannot lift (a comparison with a value
    the shipper leaves out: layouts.LayoutLuceneBackend), each a problem that does not skip it."""
    out = []
    for plan in ruleset.plans:
        converted = by_location.get(plan.info.location)
        if converted is not None and converted.language == LUCENE and converted.limits:
            out.append(
                RuleProblem(
                    location=plan.info.location,
                    reason=f"runs with a limit on the {LAYOUT_NAMES[layout]} layout: "
                    + "; ".join(converted.limits),
                    rule_id=plan.info.id,
                    title=plan.info.title,
                    level=plan.info.level,
                    skipped=False,
                )
            )
    return tuple(out)


def other_documents_query(layout: str) -> dict[str, Any]:
    """The documents of an ECS or Wazuh index that are not Windows events (no channel): the only ones
    a rule whose log source the layout's queries do not select (layouts.OTHER_SOURCE) could be about."""
    return {"bool": {"must_not": [{"exists": {"field": LAYOUTS[layout].channel}}]}}


def _split_unrunnable(
    result: EsHunt, client: Any, index: str, bounds: dict[str, Any] | None, levels: Mapping[str, str]
) -> tuple[RuleProblem, ...]:
    """Sort the rules the layout cannot run into not applicable and blind spots (the problems)."""
    others = [f for f in result.unrunnable if f.scope == OTHER_SOURCE]
    if others:
        query = other_documents_query(result.layout)
        counted = {"bool": {"filter": [query, bounds]}} if bounds else query
        result.other_documents = int(client.count(index=index, query=counted)["count"])
        if not result.other_documents:
            result.not_applicable = others
    extra = (
        f"; and {result.other_documents:,} documents in range are not Windows events, which may be of "
        "this rule's log source"
        if result.other_documents
        else ""
    )
    return tuple(
        _problem(f, levels.get(f.location, ""), extra if f.scope == OTHER_SOURCE else "")
        for f in result.cannot_run
    )


def _correlation_languages(conversion: Conversion, rules: Sequence[RuleInfo]) -> dict[str, str]:
    by_location = conversion.by_location()
    failed = {f.location: f.language for f in conversion.failures}
    out = {}
    for info in rules:
        converted = by_location.get(info.location)
        out[info.id] = converted.language if converted else f"{failed.get(info.location, '')} (failed)"
    return out


def hunt_es(options: EsHuntOptions, *, on_hit: HitSink, progress: ProgressCallback = no_progress) -> EsHunt:
    """Run the rules' converted queries on the cluster and hand every hit to ``on_hit`` as its page
    arrives (memory stays bounded whatever the number of hits): rule by rule, each rule's hits in time
    order (then source, record); correlations last, over their rules' hits (at most the hit cap each)."""
    started = time.perf_counter()
    settings = options.settings
    client, engine = open_cluster(settings, f"hunting in {options.index}", timeout=options.timeout)
    with cluster_errors(settings, f"hunting in {options.index}"):
        indices = mapped_indices(client, options.index)
    if not indices:
        raise OperationalError(
            f"no index matches {options.index!r}",
            location=settings.url,
            hint="ingest logs first (secaudit logs ingest LOG... --index NAME) or check --index",
        )
    layout = hunted_layout(indices, options.index, options.layout, settings.url)
    shapes = {i.escaped_names for i in indices}
    if layout == SECAUDIT and len(shapes) > 1:
        older = [i.name for i in indices if not i.escaped_names]
        raise UsageError(
            f"the indices matching {options.index!r} mix two versions of secaudit's documents "
            f"({', '.join(older[:5])} keep dots in field names, the others escape them), which one "
            "query cannot serve",
            location=settings.url,
            hint="hunt them with two --index patterns, one per version",
        )
    ruleset = load_hunt_rules(
        HuntOptions(
            inputs=(),
            rules=options.rules,
            min_level=options.min_level,
            placeholders=options.placeholders,
            cache_dir=options.cache_dir,
        )
    )
    conversion = convert_rules(
        list(options.rules or (default_rules_dir(),)),
        placeholders=options.placeholders,
        layout=layout,
        escape_names=shapes == {True},
    )
    by_location = conversion.by_location()
    relevant = {p.info.location for p in ruleset.plans} | {i.location for i in ruleset.correlation_rules}
    not_converted = [f for f in conversion.failures if f.location in relevant]
    unrunnable = [f for f in not_converted if f.unrunnable]
    # a correlation is evaluated here over its rules' hits whatever its ES|QL/EQL conversion gave
    # (correlation_languages keeps that, for -v): only detection rules that did not convert are missing
    correlations = {i.location for i in ruleset.correlation_rules}
    not_converted = [f for f in not_converted if not f.unrunnable and f.location not in correlations]
    # the declared level of each detection rule: one that does not run on the cluster is a blind spot
    levels = {p.info.location: p.info.level for p in ruleset.plans}
    summary = HuntSummary(
        rules=len(ruleset.rules),
        correlations=len(ruleset.correlations),
        rule_files=ruleset.files,
        problems=tuple(ruleset.problems)
        + tuple(_problem(f, levels.get(f.location, "")) for f in not_converted),
        load_seconds=time.perf_counter() - started,
    )
    result = EsHunt(
        summary=summary,
        layout=layout,
        not_converted=not_converted,
        unrunnable=unrunnable,
        correlation_languages=_correlation_languages(conversion, ruleset.correlation_rules),
    )
    for info in ruleset.rules:
        summary.rule_info[info.id] = info
    result.version = engine.version
    result.engine = engine.name
    delivery = HitDelivery(ruleset, summary, on_hit)
    with cluster_errors(settings, f"hunting in {options.index}"):
        result.indices = summary.read.files = len(indices)
        time_field = LAYOUTS[layout].time_field if layout in LAYOUTS else "@timestamp"
        bounds = options.window.filter(time_field)
        counted = client.count(index=options.index, query=bounds or {"match_all": {}})
        summary.read.events = int(counted["count"])
        summary.problems += _split_unrunnable(result, client, options.index, bounds, levels)
        runnable: list[tuple[int, RulePlan, str, bool]] = []
        for i, plan in enumerate(ruleset.plans):
            converted = by_location.get(plan.info.location)
            if converted is not None and converted.language == LUCENE:
                # a rule with an OR list over the clause limit runs as several queries (its parts)
                runnable.extend((i, plan, query, converted.exact) for query in converted.runs)
        result.converted = len({i for i, _, _, _ in runnable})
        summary.problems += _limited(ruleset, by_location, layout)
        long_query: dict[str, Any] | None = None
        if layout == SECAUDIT:  # secaudit's documents list their values over the keyword limit
            long_query = {"exists": {"field": LONG_FIELDS}}
        else:
            targets = {t for _, plan, _, _ in runnable for t in by_location[plan.info.location].targets}
            long_query, note = ignored_values_query(engine.opensearch, indices, targets)
            result.long_value_note = note  # about documents, not a rule: said on its own line
        if long_query is not None:
            counted_query = {"bool": {"filter": [long_query, bounds]}} if bounds else long_query
            result.long_value_documents = int(client.count(index=options.index, query=counted_query)["count"])
        pit = PointInTime.open(
            client,
            options.index,
            batch=options.rules_per_request,
            backoff=options.backoff,
            time_field=time_field,
            source_fields=SOURCE_FIELDS if layout == SECAUDIT else None,
        )
        result.faults = pit.faults
        if result.long_value_documents:
            pit.without = long_query  # matched here instead (_match_long_documents)
        failing = 0  # rules in a row the cluster did not answer
        try:
            firsts = pit.first_pages([q for _, _, q, _ in runnable], options.window, options.hit_cap)
            pages = zip(runnable, firsts, strict=True)
            taken: set[Place] = set()  # the current rule's documents already handed on (parts overlap)
            current = -1
            for done, ((i, plan, query, exact), first) in enumerate(pages, start=1):
                found = 0
                if i != current:
                    taken, current = set(), i
                try:
                    for source in pit.documents(query, options.window, options.hit_cap, first):
                        found += 1
                        if found > options.hit_cap:
                            result.capped[plan.info.id] = options.hit_cap
                            break
                        key, hit = (
                            hit_from_document(plan.info, plan.node, source)
                            if layout == SECAUDIT
                            else layout_hit(layout, plan, source, by_location[plan.info.location].fields)
                        )
                        # a relaxed query (Converted.exact) finds a superset: the engine decides; the
                        # cap counts the documents the cluster returned, so it never hides a hit
                        if key not in taken and (exact or reference_matches(plan.node, hit.event)):
                            taken.add(key)
                            delivery.deliver(hit)  # straight to the sink: no hit list is kept
                    failing = 0
                except RuleQueryError as e:
                    result.query_errors.append(
                        RuleProblem(
                            location=plan.info.location,
                            reason=f"the cluster refused the query: {e.reason}",
                            rule_id=plan.info.id,
                            title=plan.info.title,
                            level=plan.info.level,  # it did not run: a --fail-on gate counts it
                        )
                    )
                except (ApiError, TransportError) as e:
                    # no answer after every try: this rule is unfinished, the hunt goes on; a cluster
                    # that answers nothing three rules in a row is not asked about the others
                    failing += 1
                    result.unfinished.append(_unfinished(plan.info, describe_error(e)))
                    if failing >= 3:
                        for _, other, _, _ in runnable[done:]:
                            if all(u.location != other.info.location for u in result.unfinished):
                                result.unfinished.append(
                                    _unfinished(other.info, "not run: the cluster stopped answering")
                                )
                        break
                if pit.faults.missed(query) and plan.info.id not in result.partial:
                    result.partial.append(plan.info.id)
                progress(ProgressEvent(task="hunt", done=done, total=len(runnable), message="rules"))
            if pit.without is not None:
                names = {location: c.fields for location, c in by_location.items()}
                _match_long_documents(pit, ruleset, runnable, options, delivery, result, layout, names)
        except Exception:
            # stopped (the cluster failed outside a rule's search): the hits found so far are out
            # already; the correlations over them too, before the error goes up
            delivery.finish()
            raise
        finally:
            pit.close()
    # the documents with long values the cluster did not all return are no rule: said on their own
    summary.problems += tuple(result.query_errors) + tuple(u for u in result.unfinished if u.rule_id)
    for plan in ruleset.correlations:
        truncated = [rule for rule in plan.rules if rule in result.capped]
        if truncated:
            result.truncated_correlations[plan.info.id] = truncated
    delivery.finish()
    summary.seconds = time.perf_counter() - started
    return result


Found = tuple[Place, int, RuleHit]  # (where the event stands among the inputs, rule index, hit)


def _match_long_documents(
    pit: PointInTime,
    ruleset: RuleSet,
    runnable: Sequence[tuple[int, RulePlan, str, bool]],
    options: EsHuntOptions,
    delivery: HitDelivery,
    result: EsHunt,
    layout: str = SECAUDIT,
    fields: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """The documents in range holding a value over the keyword limit, which no query can match on the
    cluster (the value is not indexed) and which the rule queries therefore leave out (``pit.without``:
    secaudit's own ``secaudit.long_fields``, or on an ECS/Wazuh index the fields a rule reads listed in
    ``_ignored``): fetched page by page and matched here by the embedded engine on the event rebuilt
    from the document, for the rules that ran on the cluster (at most the hit cap of such documents per
    rule). Works on every engine, needs no ``wildcard`` field. On ECS/Wazuh, ``fields`` (rule location ->
    its Sigma field names): each hit is made as a rule query's hit is (:func:`layout_hit`: the event
    carries the rule's names and the usual ones where one index field stands for several, not every
    name), checked again on that event, so it reads as the same rule's hits from its query do."""
    ran = {plan.info.id for _, plan, _, _ in runnable}
    plans = {plan.info.id: plan for _, plan, _, _ in runnable}
    engine = LocalEngine(ruleset)
    counts: Counter[str] = Counter()
    query = pit.without or {"exists": {"field": LONG_FIELDS}}
    try:
        for source in pit.documents(query, options.window, LONG_SCAN_CAP, every=True):
            result.long_value_matched += 1
            event = from_source(source) if layout == SECAUDIT else event_from_source(layout, source)
            for found in engine.match([event]):
                rule = found.rule.id
                if rule not in ran:
                    continue
                hit = found
                if layout != SECAUDIT:
                    plan = plans[rule]
                    _, hit = layout_hit(layout, plan, source, (fields or {}).get(plan.info.location, ()))
                    if not reference_matches(plan.node, hit.event):
                        continue
                counts[rule] += 1
                if counts[rule] > options.hit_cap:
                    result.capped[rule] = options.hit_cap
                    continue
                delivery.deliver(hit)
    except (RuleQueryError, ApiError, TransportError) as e:
        reason = e.reason if isinstance(e, RuleQueryError) else describe_error(e)
        result.unfinished.append(
            RuleProblem(
                location=options.index,
                reason=f"the cluster did not answer: documents with values over the keyword limit "
                f"were not all matched ({reason})",
                rule_id="",
                title="documents with values over the keyword limit",
            )
        )
    if pit.faults.missed(query):
        result.partial.extend(sorted(ran - set(result.partial)))


def ignored_values_query(
    opensearch: bool, indices: Sequence[IndexInfo], targets: Collection[str]
) -> tuple[dict[str, Any] | None, str]:
    """On an ECS or Wazuh index: the query for the documents holding a value the index did not keep
    searchable in a field some rule reads (a value over the field's ``ignore_above``, or malformed for
    its type), and a note when such documents cannot be found. Elasticsearch lists those fields in each
    document's ``_ignored`` metadata field; OpenSearch does so only for malformed values, not for values
    over ``ignore_above``: if a matching index sets ``ignore_above`` somewhere, the hunt says it cannot
    find or count those documents (Wazuh's template sets none: there every value is indexed)."""
    if not targets:
        return None, ""
    if not opensearch:
        return {"terms": {"_ignored": sorted(targets)}}, ""
    limited = [i.name for i in indices if i.ignore_above]
    if not limited:
        return None, ""
    shown = ", ".join(limited[:3]) + (f" (and {len(limited) - 3} more)" if len(limited) > 3 else "")
    return None, (
        f"documents with a value over a keyword field's ignore_above cannot be found or counted: the "
        f"mapping of {shown} sets ignore_above (Winlogbeat's and ECS templates: 1,024 characters) and "
        "OpenSearch does not list such values in _ignored, so no query can match them and none is "
        "fetched for the embedded engine"
    )


def hunted_layout(indices: Sequence[IndexInfo], pattern: str, wanted: str, url: str) -> str:
    """The field layout to hunt the matching indices as: ``wanted``, or with ``auto`` the one their
    mappings show. A usage error (exit 2) when an index has another or an unknown layout, or (auto)
    the indices do not agree: hunted with fields the rules do not name, it would look clean."""
    found = sorted({i.layout for i in indices})
    chosen = found[0] if wanted == AUTO and len(found) == 1 else wanted
    other = [i for i in indices if i.layout != chosen]
    if chosen != UNKNOWN and not other:
        return chosen
    listed = "; ".join(f"{i.name}: {LAYOUT_NAMES[i.layout]}" for i in (other or indices)[:5])
    shown = other or indices
    more = f" (and {len(shown) - 5} more)" if len(shown) > 5 else ""
    if wanted == AUTO:
        problem = (
            f"the field layout of the indices matching {pattern!r} is not one secaudit knows: {listed}{more}"
            if found == [UNKNOWN]
            else f"the indices matching {pattern!r} do not share one field layout: {listed}{more}"
        )
        hint = (
            "narrow --index to indices of one layout (secaudit logs es-check --index PATTERN names each "
            "index's layout); secaudit hunts its own (logs ingest), ECS and Wazuh layouts"
        )
    else:
        problem = (
            f"{len(other)} of the {len(indices)} indices matching {pattern!r} do not have the field layout "
            f"--layout {wanted} names ({LAYOUT_NAMES[wanted]}), so the rules cannot be run on them: "
            f"{listed}{more}"
        )
        hint = "pass --layout with the layout shown (or --layout auto), or narrow --index"
    raise UsageError(problem, location=url, hint=hint)


def layout_hit(
    layout: str, plan: RulePlan, source: dict[str, Any], names: Sequence[str]
) -> tuple[Place, RuleHit]:
    """The hit an ECS or Wazuh document makes: its event as the embedded engine would read it
    (host, time and record from the layout's fields; ``names``, the rule's fields, among its
    fields), the matched fields computed by the engine."""
    event = event_from_source(layout, source, names)
    return sort_key(event, 0), RuleHit(plan.info, event, matched_fields(plan.node, event))


def _unfinished(info: RuleInfo, reason: str) -> RuleProblem:
    return RuleProblem(
        location=info.location,
        reason=f"the cluster did not answer: {reason}",
        rule_id=info.id,
        title=info.title,
        level=info.level,
    )


def deliver(found: list[Found], ruleset: RuleSet, summary: HuntSummary, on_hit: HitSink) -> None:
    """Hand collected hits on in a local hunt's order (by source, record and rule), each fed to the
    correlator, then the correlations' hits; counts go into ``summary``. The hunt itself streams
    (:func:`hunt_es`); this ordering is for comparing a cluster's hits with a local hunt's."""
    found.sort(key=lambda item: (item[0], item[1]))
    delivery = HitDelivery(ruleset, summary, on_hit)
    for _, _, hit in found:
        delivery.deliver(hit)
    delivery.finish()


# -- findings and checks ------------------------------------------------------------------------


def publish_findings(
    settings: EsSettings, history: Path, run_id: str | None, *, index: str = FINDINGS_INDEX
) -> tuple[str, PublishResult]:
    """A recorded run's findings into the findings index; returns (run id, result)."""
    report = load_run_report(history, run_id)
    client, _ = open_cluster(settings, f"publishing findings of run {report.run.id} to {index}")
    with cluster_errors(settings, f"publishing findings of run {report.run.id} to {index}"):
        ensure_findings_index(client, index)
        result = publish(client, report, index)
    return report.run.id, result


def es_check(settings: EsSettings, pattern: str | None) -> ClusterCheck:
    client = connect(settings, retries=1)
    with cluster_errors(settings, "checking the cluster"):
        return check_cluster(client, settings.url, pattern)


__all__ = [
    "DEFAULT_HIT_CAP",
    "EsHunt",
    "EsHuntOptions",
    "es_check",
    "es_settings",
    "hunt_es",
    "ingest_logs",
    "publish_findings",
    "time_range",
]
