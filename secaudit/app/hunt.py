"""Log hunting: read logs, match Sigma rules, correlate, hand every hit to a sink.

The one path every hunt takes, from ``secaudit logs hunt``, the audit's detect stage, the
conformance tests and the benchmark. Inputs are cut into shards that two (or ``workers``) forked
processes read and match in parallel; results come back in shard order, so the output is the same
as a single-process run, byte for byte.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secaudit.app.forkpool import ordered_map
from secaudit.app.locations import default_rules_dir
from secaudit.catalog.yamlload import YDict, YList, load_yaml, located
from secaudit.core.errors import ConfigError
from secaudit.core.events import LogEvent, LogKind
from secaudit.core.report import ProgressCallback, ProgressEvent, no_progress
from secaudit.detect.correlate import Correlator
from secaudit.detect.engine import Engine
from secaudit.detect.loader import RuleSet, load_rules
from secaudit.detect.model import LEVELS, CorrelationHit, RuleHit, RuleInfo, RuleProblem
from secaudit.logs import (
    ReadStats,
    Shard,
    copies_streams,
    load_windows_tables,
    plan_shards,
    read_shard,
    release_spilled,
)

Hit = RuleHit | CorrelationHit
HitSink = Callable[[Hit], None]

# small shards keep both workers busy to the end and results flowing in order: with 8 per worker, the
# last shard of a 1M-event file left a core idle for about 1.5 s of 22 (1.61-1.92 cores busy in four
# runs; 1.93-1.94 with 24)
SHARDS_PER_WORKER = 24


@dataclass(frozen=True, slots=True, kw_only=True)
class HuntOptions:
    """What to hunt in and with what. ``workers`` 0 means one per CPU.

    ``start``/``end`` (aware, inclusive; None leaves a side open): events whose time lies outside are
    read and counted (``read.outside_range``) but not evaluated; events without a time are counted
    (``read.undated``) and evaluated, unless ``skip_undated``.
    """

    inputs: tuple[str, ...]
    rules: tuple[Path, ...] = ()
    input_format: str | None = None
    kind: LogKind | None = None
    min_level: str | None = None
    placeholders: Mapping[str, Sequence[str]] | None = None
    workers: int = 0
    cache_dir: Path | None = None
    start: datetime | None = None
    end: datetime | None = None
    skip_undated: bool = False

    @property
    def windowed(self) -> bool:
        return self.start is not None or self.end is not None


@dataclass(slots=True, kw_only=True)
class HuntSummary:
    """How a hunt went: rules, inputs, hits. Mutable while the hunt runs; read it afterwards."""

    rules: int = 0
    correlations: int = 0
    rule_files: int = 0
    problems: tuple[RuleProblem, ...] = ()
    read: ReadStats = field(default_factory=ReadStats)
    # ids of the rules some event of their log source reached; a rule outside it looked at nothing
    fed_rules: set[str] = field(default_factory=set)
    hits: int = 0
    correlation_hits: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    by_level: Counter[str] = field(default_factory=Counter)
    rule_info: dict[str, RuleInfo] = field(default_factory=dict)
    untimed: int = 0  # rule hits a correlation could not place in time (no timestamp)
    ungrouped: int = 0  # rule hits a correlation could not group (a group-by field missing)
    workers: int = 1
    # the time range asked for (start, end; None: open), and whether undated events were left out
    window: tuple[datetime | None, datetime | None] | None = None
    skip_undated: bool = False
    load_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def skipped_rules(self) -> tuple[RuleProblem, ...]:
        """The rules that did not run at all (a construct the engine lacks, a placeholder without values,
        a broken document): a hunt with these is not the hunt that was asked for."""
        return tuple(p for p in self.problems if p.skipped)

    def skipped_at_or_above(self, level: str) -> tuple[RuleProblem, ...]:
        """Skipped rules whose declared level is ``level`` or higher (a --fail-on gate)."""
        wanted = set(LEVELS[LEVELS.index(level) :])
        return tuple(p for p in self.skipped_rules if p.level in wanted)

    @property
    def nothing_read(self) -> bool:
        """True when no event could be read and something was wrong with the inputs (exit 3)."""
        bad = self.read.skipped or self.read.unreadable_files
        return self.read.events == 0 and bool(bad or self.read.files == 0)


def load_hunt_rules(options: HuntOptions) -> RuleSet:
    """Load the rules a hunt uses; refuse a hunt that would have none (a usage error, exit 2)."""
    paths = options.rules or (default_rules_dir(),)
    for path in paths:
        if not path.exists():
            raise ConfigError(
                f"rules path does not exist: {path}",
                location=str(path),
                hint="pass --rules with a Sigma rule file or a folder of rules",
            )
    ruleset = load_rules(
        list(paths),
        cache_dir=options.cache_dir,
        placeholders=options.placeholders,
        min_level=options.min_level,
    )
    if not ruleset.rules and not ruleset.correlations:
        first = ruleset.problems[0] if ruleset.problems else None
        where = f"; first problem: {first.location}: {first.reason}" if first else ""
        raise ConfigError(
            f"no usable Sigma rule in {', '.join(str(p) for p in paths)}{where}",
            hint="check the rules with `secaudit rules check PATH`, or lower --min-level",
        )
    return ruleset


def load_placeholders(path: Path) -> dict[str, tuple[str, ...]]:
    """Values for Sigma ``|expand`` placeholders: a YAML mapping of name to a list of values.

    Names may be written with or without the surrounding ``%`` (``Admins_Workstations`` or
    ``%Admins_Workstations%``).
    """
    data = load_yaml(path)
    if not isinstance(data, YDict):
        raise ConfigError(
            "placeholders must be a mapping of name to a list of values",
            location=located(path, data),
            hint="write e.g.  engineering_workstations: [10.20.2.5, 10.20.2.6]",
        )
    out: dict[str, tuple[str, ...]] = {}
    for name, values in data.items():
        items = values if isinstance(values, YList) else [values]
        if not items or any(isinstance(v, (dict, list)) or v is None for v in items):
            raise ConfigError(
                f"placeholder '{name}' needs one value or a list of plain values",
                location=located(path, data, name),
                hint="write the values as a YAML list of strings",
            )
        out[str(name).strip("%")] = tuple(str(v) for v in items)
    return out


# -- worker side ---------------------------------------------------------------------------------
# Set in the parent before forking; the forked workers inherit the compiled engine copy-on-write.
_ENGINE: Engine | None = None
_RULE_INDEX: dict[int, int] = {}
_FED_SENT: set[str] = set()  # fed rules this process has reported (_EngineNotes), emptied per hunt
_KIND: LogKind | None = None
_WINDOW: HuntOptions | None = None  # set when the hunt has a time range

Compact = tuple[int, LogEvent, dict[str, object]]


def in_range(events: Iterable[LogEvent], options: HuntOptions, stats: ReadStats) -> Iterator[LogEvent]:
    """The events to evaluate under ``options``' time range; the others are counted in ``stats``."""
    start, end, skip_undated = options.start, options.end, options.skip_undated
    for event in events:
        when = event.timestamp
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)  # readers give UTC; a naive time is taken as UTC too
        if when is None:
            stats.undated += 1
            if skip_undated:
                continue
        elif (start is not None and when < start) or (end is not None and when > end):
            stats.outside_range += 1
            continue
        yield event


@dataclass(frozen=True, slots=True)
class _EngineNotes:
    """What a process's engine has learnt: rules it disabled while matching so far (id -> reason) and
    the rules some event of their log source reached since the process last reported (the parent
    keeps the union: a folder of 200 files had sent the same 2,500 ids 200 times)."""

    disabled: dict[str, str]
    fed: frozenset[str]


def _match_shard(shard: Shard) -> tuple[list[Compact], ReadStats, _EngineNotes]:
    """A shard's hits, its read counts, and what this process's engine has learnt so far."""
    assert _ENGINE is not None
    stats = ReadStats()
    index = _RULE_INDEX
    events: Iterable[LogEvent] = read_shard(shard, kind=_KIND, stats=stats)
    if _WINDOW is not None:
        events = in_range(events, _WINDOW, stats)
    out = [
        # an event's line (LogEvent.text) served the gates: the parent does not need it sent
        (
            index[id(hit.rule)],
            hit.event if hit.event.text is None else hit.event._replace(text=None),
            hit.matched_fields,
        )
        for hit in _ENGINE.match(events)
    ]
    fed = _ENGINE.fed_rules - _FED_SENT
    _FED_SENT.update(fed)
    return out, stats, _EngineNotes(dict(_ENGINE.disabled), fed)


def _run_shards(
    shards: Sequence[Shard], workers: int, rules: Sequence[RuleInfo]
) -> Generator[tuple[list[RuleHit], ReadStats, _EngineNotes], None, None]:
    def expand(
        result: tuple[list[Compact], ReadStats, _EngineNotes],
    ) -> tuple[list[RuleHit], ReadStats, _EngineNotes]:
        compact, stats, disabled = result
        return [RuleHit(rules[i], event, fields) for i, event, fields in compact], stats, disabled

    if workers <= 1 or len(shards) <= 1:
        for shard in shards:
            yield expand(_match_shard(shard))
        return
    for result in ordered_map(
        lambda i: _match_shard(shards[i]), len(shards), workers, describe=lambda i: _where(shards[i])
    ):
        yield expand(result)


def _where(shard: Shard) -> str:
    """A shard as a user finds it: the input as given and its byte range."""
    end = "its end" if shard.end is None else str(shard.end)
    return f"{shard.source} (bytes {shard.start} to {end})"


def hunt(options: HuntOptions, *, on_hit: HitSink, progress: ProgressCallback = no_progress) -> HuntSummary:
    """Run a hunt to the end, calling ``on_hit`` for every hit in input order, correlations last.

    Rule problems and unreadable records are counted in the summary, never raised; a missing rules
    path or a rule set with no usable rule raises ConfigError.
    """
    global _ENGINE, _KIND, _WINDOW
    started = time.perf_counter()
    workers = options.workers or (os.cpu_count() or 1)  # 0: one per CPU
    planning = _Planning(
        lambda: plan_shards(
            list(options.inputs), parts=max(1, workers * SHARDS_PER_WORKER), input_format=options.input_format
        ),
        in_thread=not copies_streams(options.inputs),
    )
    ruleset = load_hunt_rules(options)
    loaded = time.perf_counter()
    summary = HuntSummary(
        rules=len(ruleset.rules),
        correlations=len(ruleset.correlations),
        rule_files=ruleset.files,
        problems=tuple(ruleset.problems),
        load_seconds=loaded - started,
        window=(options.start, options.end) if options.windowed else None,
        skip_undated=options.skip_undated,
    )
    for info in ruleset.rules:
        summary.rule_info[info.id] = info
    engine = Engine(ruleset)
    delivery = HitDelivery(ruleset, summary, on_hit)
    if workers > 1 and any(info.product == "windows" for info in ruleset.rules):
        load_windows_tables()  # once here, not once per worker
    shards = planning.result()
    summary.workers = workers if len(shards) > 1 else 1
    _ENGINE, _KIND, _WINDOW = engine, options.kind, options if options.windowed else None
    _RULE_INDEX.clear()
    _RULE_INDEX.update({id(info): i for i, info in enumerate(ruleset.rules)})
    _FED_SENT.clear()
    runs = _run_shards(shards, workers, ruleset.rules)
    try:
        for done, (hits, stats, notes) in enumerate(runs, start=1):
            summary.read.merge(stats)
            summary.fed_rules |= notes.fed
            _note_disabled(summary, notes.disabled)
            for hit in hits:
                delivery.deliver(hit)
            progress(
                ProgressEvent(
                    task="hunt", done=done, total=len(shards), message=f"{summary.read.events} events"
                )
            )
        delivery.finish()
    finally:
        # stop the pool now, also when a sink raised (a closed stdout): not whenever the suspended
        # generator happens to be collected, which may be at interpreter exit, mid-teardown
        runs.close()
        _ENGINE, _KIND, _WINDOW = None, None, None
        _RULE_INDEX.clear()
        _FED_SENT.clear()
        release_spilled()
    summary.seconds = time.perf_counter() - started
    return summary


class _Planning:
    """The hunt's shards. Cutting files reads them, to number each piece's first line (0.4 s for
    2.7 GB, in C without the GIL): that runs in a daemon thread while the rules load and compile, not
    after them. Standard input and named FIFOs are copied when :meth:`result` asks (after the rules
    loaded, as before): a thread left reading stdin would abort the interpreter at exit, and a hunt
    whose rules fail to load reads nothing."""

    def __init__(self, plan: Callable[[], list[Shard]], *, in_thread: bool) -> None:
        self._plan = plan
        self._shards: list[Shard] | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if in_thread:
            self._thread = threading.Thread(target=self._run, name="secaudit-plan", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._shards = self._plan()
        except BaseException as e:  # handed to the caller by result()
            self._error = e

    def result(self) -> list[Shard]:
        """The shards, once the thread (if any) has ended: workers may be forked then."""
        if self._thread is None:
            return self._plan()
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._shards is not None
        return self._shards


def _note_disabled(summary: HuntSummary, disabled: dict[str, str]) -> None:
    """Name each rule a worker disabled while matching (once), as a rule that could not run."""
    named = {p.rule_id for p in summary.problems if p.skipped}
    for rule_id, reason in disabled.items():
        if rule_id not in named:
            info = summary.rule_info[rule_id]
            summary.problems += (
                RuleProblem(
                    location=info.location, reason=reason, rule_id=rule_id, title=info.title, level=info.level
                ),
            )


class HitDelivery:
    """Hands rule hits on in order, as every hunt does (local or on a cluster): each hit feeds the
    correlator; emitted ones are counted and given to the sink; at the end, the correlations' hits."""

    def __init__(self, ruleset: RuleSet, summary: HuntSummary, on_hit: HitSink) -> None:
        self._summary = summary
        self._on_hit = on_hit
        self._correlator = Correlator(ruleset.correlations) if ruleset.correlations else None

    def deliver(self, hit: RuleHit) -> None:
        if self._correlator is not None:
            self._correlator.feed(hit)
        if hit.rule.emit:
            self._count(hit.rule)
            self._summary.hits += 1
            self._on_hit(hit)

    def finish(self) -> None:
        correlator, summary = self._correlator, self._summary
        if correlator is None:
            return
        for chit in correlator.finish():
            summary.rule_info.setdefault(chit.rule.id, chit.rule)
            self._count(chit.rule)
            summary.correlation_hits += 1
            self._on_hit(chit)
        summary.untimed = sum(correlator.untimed.values())
        summary.ungrouped = sum(correlator.ungrouped.values())
        summary.problems += tuple(correlator.problems)

    def _count(self, rule: RuleInfo) -> None:
        self._summary.by_rule[rule.id] += 1
        self._summary.by_level[rule.level or "unknown"] += 1


def collect(options: HuntOptions) -> tuple[list[Hit], HuntSummary]:
    """Run a hunt and keep every hit in memory (tests, small inputs)."""
    hits: list[Hit] = []
    summary = hunt(options, on_hit=hits.append)
    return hits, summary


def hit_key(hit: Hit) -> tuple[str, str, int]:
    """(rule id, source, record) of a rule hit; a correlation hit gives its first event's."""
    if isinstance(hit, RuleHit):
        return hit.rule.id, hit.event.source, hit.event.record
    first = hit.events[0] if hit.events else None
    return hit.rule.id, first.source if first else "", first.record if first else 0


def describe(values: Mapping[str, Any]) -> str:
    """A short ``key=value`` text of matched fields for tables and finding summaries."""
    parts = []
    for key, value in values.items():
        text = str(value)
        parts.append(f"{key}={text if len(text) <= 120 else text[:117] + '...'}")
    return ", ".join(parts)
