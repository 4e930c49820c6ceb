"""Waivers: written, expiring exceptions for failed checks (``waivers.yaml``).

A waivers file::

    version: 1                          # optional; the only version is 1
    waivers:
      - check: ios-cdp-off              # a check id, exactly
        target: "file:configs/as2*.cfg" # the target string as given to secaudit, or a glob of it
        asset: cc-core-rtr01            # optional: only targets of this inventory asset
        baseline: cisco-ios             # optional: only in this baseline
        kind: waived                    # waived (does not apply / compensated) | accepted (risk owned)
        justification: IP phones on this segment need CDP; the port is an access port.
        approver: Head of Network Operations
        expires: 2026-12-31             # a date (end of that day, UTC) or a date-time with an offset

A waiver only covers a *failed* check: the result keeps its evidence, its status becomes
``waived`` and it names the waiver's file:line. After the expiry the check fails again and is
reported as expired. Passing, not-applicable and errored checks are never changed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from secaudit.baseline.model import BaselineRun, CheckResult, CheckStatus, Waiver
from secaudit.catalog.yamlload import YDict, YList, check_keys, load_yaml, located, suggest
from secaudit.core.errors import ConfigError
from secaudit.core.model import WaiverKind

FILE_KEYS = {"version", "waivers"}
WAIVER_KEYS = {"check", "target", "asset", "baseline", "kind", "justification", "approver", "expires"}
REQUIRED = ("check", "target", "justification", "expires")
MIN_JUSTIFICATION = 10


@dataclass(frozen=True, slots=True)
class WaiverSet:
    """The waivers of one file, in file order."""

    waivers: tuple[Waiver, ...]
    path: str = ""

    def match(self, check_id: str, names: Iterable[str], *, baseline: str, asset: str) -> Waiver | None:
        """The first waiver for ``check_id`` whose target matches one of ``names`` (exactly or as a glob)."""
        candidates = [n for n in names if n]
        for w in self.waivers:
            if w.check != check_id:
                continue
            if w.baseline and w.baseline != baseline:
                continue
            if w.asset and w.asset != asset:
                continue
            if any(_target_matches(w.target, n) for n in candidates):
                return w
        return None


def _target_matches(pattern: str, name: str) -> bool:
    if pattern == name:
        return True
    return any(ch in pattern for ch in "*?[") and fnmatch.fnmatchcase(name, pattern)


def _text(node: YDict, key: str, path: str, *, required: bool = False) -> str:
    value = node.get(key)
    if value is None:
        if required:
            raise ConfigError(f"waiver needs '{key}'", location=located(path, node), hint=f"add '{key}:'")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ConfigError(
            f"'{key}' must be text, got {type(value).__name__}",
            location=located(path, node, key),
            hint="quote the value",
        )
    return str(value).strip()


def _expiry(node: YDict, path: str) -> datetime:
    value = node.get("expires")
    where = located(path, node, "expires")
    hint = "write a date such as 2026-12-31, or a date-time with an offset: 2026-12-31T18:00:00+07:00"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigError("'expires' has no UTC offset", location=where, hint=hint)
        return value
    if isinstance(value, date):
        return datetime.combine(value, time.max, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as e:
            raise ConfigError(f"'expires' is not a date: {value!r}", location=where, hint=hint) from e
        if parsed.tzinfo is None:
            if len(value.strip()) == 10:
                return datetime.combine(parsed.date(), time.max, tzinfo=UTC)
            raise ConfigError("'expires' has no UTC offset", location=where, hint=hint)
        return parsed
    raise ConfigError(f"'expires' is not a date: {value!r}", location=where, hint=hint)


def _waiver(node: Any, path: str, where: str) -> Waiver:
    if not isinstance(node, YDict):
        raise ConfigError(
            "a waiver must be a mapping", location=where, hint="start the item with '- check: ID'"
        )
    check_keys(node, allowed=WAIVER_KEYS, required=REQUIRED, where="waiver")
    kind_text = _text(node, "kind", path) or WaiverKind.WAIVED.value
    kinds = [k.value for k in WaiverKind]
    if kind_text not in kinds:
        raise ConfigError(
            f"unknown waiver kind '{kind_text}'{suggest(kind_text, kinds)}",
            location=located(path, node, "kind"),
            hint=f"use one of: {', '.join(kinds)}",
        )
    justification = _text(node, "justification", path, required=True)
    if len(justification) < MIN_JUSTIFICATION:
        raise ConfigError(
            f"the justification {justification!r} is too short to tell an auditor why",
            location=located(path, node, "justification"),
            hint="say why the check does not apply or which control compensates, in a sentence",
        )
    return Waiver(
        check=_text(node, "check", path, required=True),
        target=_text(node, "target", path, required=True),
        asset=_text(node, "asset", path),
        baseline=_text(node, "baseline", path),
        kind=WaiverKind(kind_text),
        justification=justification,
        approver=_text(node, "approver", path),
        expires=_expiry(node, path),
        location=located(path, node),
    )


def load_waivers(path: Path) -> WaiverSet:
    """Read and validate a waivers file; every error names file:line and what to change."""
    data = load_yaml(path)
    name = str(path)
    if not isinstance(data, YDict):
        raise ConfigError(
            "a waivers file is a mapping with a 'waivers:' list", location=name, hint="start with 'waivers:'"
        )
    check_keys(data, allowed=FILE_KEYS, required=("waivers",), where="the waivers file")
    if data.get("version", 1) != 1:
        raise ConfigError(
            f"unknown waivers file version {data['version']!r}",
            location=located(name, data, "version"),
            hint="the only version is 1",
        )
    items = data["waivers"]
    if items is None:
        items = YList(name, data.line_of("waivers"))
    if not isinstance(items, YList):
        raise ConfigError(
            "'waivers' must be a list",
            location=located(name, data, "waivers"),
            hint="write '- check: ID' items",
        )
    waivers: list[Waiver] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for index, node in enumerate(items):
        w = _waiver(node, name, located(name, items, index))
        key = (w.check, w.target, w.asset, w.baseline)
        if key in seen:
            raise ConfigError(
                f"a second waiver for check '{w.check}' on '{w.target}' (the first is at {seen[key]})",
                location=w.location,
                hint="keep one waiver per check and target",
            )
        seen[key] = w.location
        waivers.append(w)
    return WaiverSet(waivers=tuple(waivers), path=name)


def apply_waivers(
    run: BaselineRun,
    waivers: WaiverSet,
    *,
    now: datetime,
    names: Sequence[str] = (),
    asset: str = "",
) -> BaselineRun:
    """``run`` with each failed check that a waiver covers marked WAIVED (or, once expired, kept
    FAIL with the waiver attached). ``names`` are the target strings the waivers may name (the
    target as written in the profile or on the command line, and its label)."""
    targets = (*names, run.target)
    results: list[CheckResult] = []
    for r in run.results:
        if r.status is not CheckStatus.FAIL:
            results.append(r)
            continue
        w = waivers.match(r.check.id, targets, baseline=run.baseline.id, asset=asset)
        if w is None:
            results.append(r)
        elif w.expired(now):
            results.append(replace(r, waiver=w))
        else:
            results.append(replace(r, status=CheckStatus.WAIVED, waiver=w))
    return replace(run, results=tuple(results))


def unused_waivers(waivers: WaiverSet, runs: Sequence[BaselineRun]) -> list[str]:
    """Waivers that matched no failed check: stale, or a typo (with a did-you-mean when one is close)."""
    used = {r.waiver.location for run in runs for r in run.results if r.waiver is not None}
    ids = {c.id for run in runs for c in run.baseline.checks}
    out = []
    for w in waivers.waivers:
        if w.location in used:
            continue
        hint = suggest(w.check, ids) if ids and w.check not in ids else ""
        out.append(f"{w.location}: waiver for '{w.check}' on '{w.target}' matched no failed check{hint}")
    return out
