"""The compiled forms the loader caches and the engine runs: rule plans, meta filters, rule sets."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from secaudit.detect.ir import Gate, Node
from secaudit.detect.model import LEVELS, RuleInfo, RuleProblem


@dataclass(frozen=True, slots=True)
class RulePlan:
    """A detection rule compiled for matching: its IR and its prefilter gate (None: always evaluate),
    with a second gate checked on the events the first one lets through (ir.gates)."""

    info: RuleInfo
    node: Node
    gate: Gate | None
    name: str = ""  # the rule's Sigma "name", which correlations may reference instead of the id
    second: Gate | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    """What :func:`load_rules` returns. ``rules[i]`` describes ``plans[i]``."""

    rules: tuple[RuleInfo, ...]
    plans: tuple[RulePlan, ...]
    correlations: tuple[Any, ...]  # correlate.CorrelationPlan
    correlation_rules: tuple[RuleInfo, ...]  # correlation_rules[i] describes correlations[i]
    problems: tuple[RuleProblem, ...]
    files: int


@dataclass(frozen=True, slots=True)
class FilterPlan:
    """A Sigma meta filter: its condition is AND-ed onto every rule it targets."""

    id: str
    title: str
    product: str | None
    category: str | None
    service: str | None
    targets: tuple[str, ...] | None  # rule ids or names; None for "any"
    node: Node


class RuleCache:
    def __init__(self, root: Path | None) -> None:
        self.root = root

    def get(self, kind: str, key: str) -> Any:
        if self.root is None:
            return None
        try:
            with (self.root / kind / f"{key}.pickle").open("rb") as fh:
                # Our own cache folder, written only by this function's twin below.
                return pickle.load(fh)  # noqa: S301
        except Exception:  # absent, truncated, from another version: rebuild it
            return None

    def put(self, kind: str, key: str, value: Any) -> None:
        if self.root is None:
            return
        folder = self.root / kind
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            Path(tmp).replace(folder / f"{key}.pickle")
        except OSError:
            pass  # a read-only cache folder only costs speed


def digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def level_index(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else -1


@dataclass(frozen=True, slots=True)
class Assembled:
    plans: tuple[RulePlan, ...]
    correlations: tuple[Any, ...]
    correlation_rules: tuple[RuleInfo, ...]
    # for each rule: indexes (into correlation_rules) of the correlations that need its hits
    needed_by: tuple[tuple[int, ...], ...]
    problems: tuple[RuleProblem, ...]

    def select(self, min_level: str | None, files: int) -> RuleSet:
        floor = -1 if min_level is None else level_index(min_level)
        keep_corr = [level_index(info.level) >= floor for info in self.correlation_rules]
        plans: list[RulePlan] = []
        for plan, needed in zip(self.plans, self.needed_by, strict=True):
            wanted = level_index(plan.info.level) >= floor
            used = any(keep_corr[i] for i in needed)
            if not wanted and not used:
                continue
            if not wanted and plan.info.emit:
                plans.append(replace(plan, info=replace(plan.info, emit=False)))
            else:
                plans.append(plan)
        return RuleSet(
            rules=tuple(p.info for p in plans),
            plans=tuple(plans),
            correlations=tuple(c for c, keep in zip(self.correlations, keep_corr, strict=True) if keep),
            correlation_rules=tuple(
                c for c, keep in zip(self.correlation_rules, keep_corr, strict=True) if keep
            ),
            problems=self.problems,
            files=files,
        )
