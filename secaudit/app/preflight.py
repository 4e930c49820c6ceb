"""What a profile needs before its first nightly audit, checked without scanning or writing anything.

``load_profile`` proves the profile well formed; :func:`preflight` goes on to what the audit will
touch: each named baseline loads, log and rule paths exist, the waivers file parses, the history and
report folders can be written, every placeholder the detection rules use has values, the vuln
stage's feed store exists and its feeds are younger than the profile's limit, and the
authorization does not end within the warning period. Each problem names ``file:line`` of the profile
entry it concerns and what to change. Light on purpose: no Sigma engine, no scanner is imported.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from secaudit.app.locations import default_rules_dir, history_location
from secaudit.baseline.loader import load_baseline
from secaudit.baseline.waivers import load_waivers
from secaudit.catalog.yamlload import YDict, YList, load_yaml, located
from secaudit.core.errors import ConfigError, OperationalError
from secaudit.core.profile import Profile
from secaudit.detect.documents import split_documents
from secaudit.vuln.store import DISTRIBUTION_FEEDS, VulnStore, default_store_path, stale_feeds

WARN_DAYS = 14  # an authorization ending sooner than this is worth a warning
_PLACEHOLDER = re.compile(r"%([A-Za-z0-9_.\-]+)%")
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing the audit would trip over (``error``) or that needs attention soon (``warning``)."""

    severity: str  # "error" | "warning"
    location: str  # profile file:line, or the file concerned
    message: str
    hint: str = ""


def preflight(profile: Profile, *, now: datetime, warn_days: int = WARN_DAYS) -> list[Problem]:
    """Every problem found, errors first; an empty list means the audit has what it needs."""
    root = load_yaml(Path(profile.path))
    root = root if isinstance(root, YDict) else YDict(profile.path, 0)
    problems = [
        *_authorization(profile, root, now, warn_days),
        *_baselines(profile, root),
        *_log_paths(profile, root),
        *_waivers(profile, root),
        *_placeholders(profile, root),
        *_writable(profile, root),
        *_vuln_store(profile, root, now),
    ]
    return sorted(problems, key=lambda p: p.severity != "error")


def _child(node: Any, step: str | int) -> Any:
    if isinstance(node, YDict) and isinstance(step, str):
        return node.get(step)
    if isinstance(node, YList) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


def _node(root: Any, *path: str | int) -> tuple[Any, str | int | None]:
    """The deepest node on ``path`` and the key within it (for ``located``), as far as the path exists."""
    node: Any = root
    for i, step in enumerate(path):
        child = _child(node, step)
        if child is None or i == len(path) - 1 or not isinstance(child, YDict | YList):
            return node, step
        node = child
    return node, None


def _where(profile: Profile, root: Any, *path: str | int) -> str:
    node, key = _node(root, *path)
    return located(profile.path, node, key)


def _authorization(profile: Profile, root: YDict, now: datetime, warn_days: int) -> Iterator[Problem]:
    left = profile.authorization.valid_until - now
    if left.days < warn_days:
        yield Problem(
            "warning",
            _where(profile, root, "authorization", "valid_until"),
            f"the authorization ends in {max(left.days, 0)} day(s), on "
            f"{profile.authorization.valid_until:%Y-%m-%d}",
            "renew the written authorization and update valid_until before scheduled audits are refused",
        )


def _baselines(profile: Profile, root: YDict) -> Iterator[Problem]:
    base = Path(profile.path).parent
    for i, target in enumerate(profile.baseline_targets):
        for j, name in enumerate(target.baselines):
            is_file = name.endswith((".yaml", ".yml"))
            resolved = str(base / name) if is_file and not Path(name).is_absolute() else name
            try:
                load_baseline(resolved if is_file and Path(resolved).is_file() else name)
            except ConfigError as e:
                yield Problem(
                    "error",
                    _where(profile, root, "baseline_targets", i, "baselines", j),
                    f"baseline '{name}' of target {target.target}: {e.message}",
                    e.hint or "",
                )


def _exists(path: str) -> bool:
    return bool(glob.glob(path)) if _GLOB.search(path) else Path(path).exists()  # noqa: PTH207 (absolute patterns)


def _log_paths(profile: Profile, root: YDict) -> Iterator[Problem]:
    for i, source in enumerate(profile.log_sources):
        for j, path in enumerate(source.paths):
            if path != "-" and not _exists(path):
                yield Problem(
                    "error",
                    _where(profile, root, "log_sources", i, "paths", j),
                    f"log source '{source.name}': {path} does not exist",
                    "fix the path (relative paths are relative to the profile), or remove it",
                )


def _waivers(profile: Profile, root: YDict) -> Iterator[Problem]:
    if not profile.baseline_waivers:
        return
    try:
        load_waivers(Path(profile.baseline_waivers))
    except ConfigError as e:
        yield Problem("error", e.location or profile.baseline_waivers, e.message, e.hint or "")


def _rule_files(paths: Sequence[str]) -> Iterator[Path]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        elif path.is_file():
            yield path


def _expand_values(node: Any, expanding: bool = False) -> Iterator[str]:
    """String values under detection keys carrying the ``|expand`` modifier."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _expand_values(value, expanding or "|expand" in str(key))
    elif isinstance(node, list):
        for item in node:
            yield from _expand_values(item, expanding)
    elif expanding and isinstance(node, str):
        yield node


def _placeholders(profile: Profile, root: YDict) -> Iterator[Problem]:
    """Placeholders (``%name%`` under ``|expand``) the detection rules use that the profile gives no
    values for: those rules would be skipped by every audit (the hunt names them, and a gate fails)."""
    if not profile.log_sources:
        return
    given = {name for name, _ in profile.detection.placeholders}
    rules = profile.detection.rules or (str(default_rules_dir()),)
    missing: dict[str, list[str]] = {}
    for file in _rule_files(rules):
        try:
            # the hunt's own bounded reader: an alias bomb or deep nesting is an error, not a hang
            docs = split_documents(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue  # a broken rule is `secaudit rules check`'s to report
        for _line, doc in docs:
            if not isinstance(doc, dict):
                continue
            used = {m for value in _expand_values(doc.get("detection")) for m in _PLACEHOLDER.findall(value)}
            for name in sorted(used - given):
                level = doc.get("level") if isinstance(doc.get("level"), str) else "?"
                missing.setdefault(name, []).append(f"{doc.get('title', file.name)} ({level})")
    for name, users in sorted(missing.items()):
        shown = "; ".join(users[:3]) + (f"; and {len(users) - 3} more" if len(users) > 3 else "")
        yield Problem(
            "error",
            _where(profile, root, "detection", "placeholders") if "detection" in root else profile.path,
            f"placeholder %{name}% has no values, so these rules would not run: {shown}",
            f"add under detection.placeholders: {name}: [value, ...]",
        )


def _writable_dir(path: Path) -> tuple[bool, Path]:
    """Whether ``path`` could be created or written: the nearest existing ancestor is a writable folder."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK), probe


def _writable(profile: Profile, root: YDict) -> Iterator[Problem]:
    output_dir = Path(profile.report.output_dir)
    history = history_location(profile, output_dir, None)
    checks = (
        (output_dir, ("report", "output_dir"), "report folder"),
        (history.parent, ("history",), "history folder"),
    )
    for folder, keys, what in checks:
        ok, probe = _writable_dir(folder)
        if not ok:
            yield Problem(
                "error",
                _where(profile, root, *keys) if keys[0] in root else profile.path,
                f"{what} {folder} cannot be written ({probe} is not a writable folder)",
                "point it at a folder the audit's account can write, or fix the permissions",
            )


def _vuln_store(profile: Profile, root: YDict, now: datetime) -> Iterator[Problem]:
    settings = profile.vuln
    if settings is None:
        return
    where = Path(settings.store) if settings.store else default_store_path()
    location = _where(profile, root, "vuln", "store") if settings.store else _where(profile, root, "vuln")
    if not where.exists():  # a warning: `make demo` and first installs import the feeds just before
        yield Problem(
            "warning",
            location,
            f"the vuln stage's feed store {where} does not exist: the audit's vuln stage fails until "
            "feeds are imported",
            f"import the feeds first: secaudit vuln import --store {where} FILE...",
        )
        return
    try:
        with VulnStore.open(where, create=False) as store:
            feeds = store.feeds()
    except OperationalError as e:
        yield Problem("error", location, f"the vuln stage's feed store: {e.message}", e.hint or "")
        return
    if not any(f.kind in DISTRIBUTION_FEEDS for f in feeds):
        yield Problem(
            "warning",
            location,
            f"the feed store {where} holds no distribution feed: installed packages will not be matched",
            "import the Debian Security Tracker JSON or the Debian/Ubuntu OVAL of your releases",
        )
    for warning in stale_feeds(feeds, now, timedelta(days=settings.max_feed_age_days)):
        yield Problem(
            "warning",
            _where(profile, root, "vuln", "max_feed_age_days") if "vuln" in root else location,
            warning.removeprefix("warning: "),
            "import a fresh copy (secaudit vuln import/update), or raise vuln.max_feed_age_days",
        )
