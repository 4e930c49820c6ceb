"""CIS benchmark reference data: which recommendation ids a benchmark version has, their profiles
(Level 1/2, server/workstation) and whether CIS rates them automated or manual.

The data (``baselines/cis/*.tsv``) holds ids and profiles only, never CIS's wording. A baseline's
``cis:`` reference names its benchmark by a prefix (``Debian 12 1.1.1.9``); the prefixes below say
which version that is. References to benchmarks without data here (Cisco IOS, NGINX) cannot be
verified and are reported as such by :func:`coverage`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from secaudit.baseline.model import Baseline
from secaudit.core.errors import ConfigError

PROFILES = ("l1_server", "l2_server", "l1_workstation", "l2_workstation")
# cis: reference prefix -> benchmark data file (stem) and the name an auditor reads.
PREFIXES: dict[str, tuple[str, str]] = {
    "Debian 12": ("debian12-v1.1.0", "CIS Debian Linux 12 Benchmark v1.1.0"),
    "Ubuntu 24.04": ("ubuntu2404-v1.0.0", "CIS Ubuntu Linux 24.04 LTS Benchmark v1.0.0"),
    "Ubuntu 22.04": ("ubuntu2204-v2.0.0", "CIS Ubuntu Linux 22.04 LTS Benchmark v2.0.0"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Recommendation:
    id: str
    profiles: tuple[str, ...]
    automated: bool

    def level(self, kind: str = "server") -> int | None:
        """The recommendation's level in the server or workstation profile; None if not in it."""
        levels = [int(p[1]) for p in self.profiles if p.endswith(f"_{kind}")]
        return min(levels) if levels else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Benchmark:
    key: str
    name: str
    prefix: str
    recommendations: dict[str, Recommendation]

    def scope(self, *, level: int = 1, kind: str = "server", automated: bool = True) -> list[Recommendation]:
        """Recommendations of the profile up to ``level`` (automated ones only by default)."""
        return [
            r
            for r in self.recommendations.values()
            if (lv := r.level(kind)) is not None and lv <= level and (r.automated or not automated)
        ]


def data_dir() -> Path:
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "baselines" / "cis"
    return checkout if checkout.is_dir() else here.parents[1] / "_content" / "baselines" / "cis"


@functools.cache
def benchmark(prefix: str) -> Benchmark | None:
    """The reference data for a ``cis:`` prefix, or None when we have none for it."""
    entry = PREFIXES.get(prefix)
    if entry is None:
        return None
    key, name = entry
    path = data_dir() / f"{key}.tsv"
    recs: dict[str, Recommendation] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"cannot read CIS reference data: {e.strerror}", location=str(path)) from e
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#") or line.startswith("id\t"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or fields[2] not in {"automated", "manual"}:
            raise ConfigError("expected: id, profiles, automated|manual", location=f"{path}:{number}")
        profiles = tuple(p for p in fields[1].split(",") if p)
        if not profiles or any(p not in PROFILES for p in profiles):
            raise ConfigError(f"unknown profile in '{fields[1]}'", location=f"{path}:{number}")
        recs[fields[0]] = Recommendation(id=fields[0], profiles=profiles, automated=fields[2] == "automated")
    return Benchmark(key=key, name=name, prefix=prefix, recommendations=recs)


def split_reference(ref: str) -> tuple[str, str]:
    """``"Debian 12 1.1.1.9"`` -> (``"Debian 12"``, ``"1.1.1.9"``); the id is the last word."""
    prefix, _, rec = ref.rpartition(" ")
    return prefix, rec


def resolve(ref: str) -> tuple[Benchmark | None, Recommendation | None]:
    """The benchmark a reference names and the recommendation in it (None if it has no such id)."""
    prefix, rec = split_reference(ref)
    bench = benchmark(prefix)
    return bench, (bench.recommendations.get(rec) if bench else None)


def profiles_of(refs: Iterable[str]) -> tuple[str, ...] | None:
    """The profiles every verifiable reference agrees on (sorted as PROFILES), None when none is
    verifiable; raises ValueError when the references disagree or one does not exist."""
    found: set[tuple[str, ...]] = set()
    for ref in refs:
        bench, rec = resolve(ref)
        if bench is None:
            continue
        if rec is None:
            raise ValueError(f"'{ref}': {bench.name} has no recommendation {split_reference(ref)[1]}")
        found.add(tuple(p for p in PROFILES if p in rec.profiles))
    if len(found) > 1:
        raise ValueError(f"the cited recommendations have different profiles: {sorted(found)}")
    return found.pop() if found else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """How many of a benchmark's automated recommendations of one profile level a baseline decides."""

    benchmark: Benchmark
    level: int
    kind: str
    covered: tuple[str, ...]  # recommendation ids with at least one check
    missing: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.covered) + len(self.missing)

    def describe(self) -> str:
        return (
            f"{self.benchmark.name}: {len(self.covered)} of {self.total} automated Level {self.level} "
            f"{self.kind} recommendations"
        )


def coverage(cis_refs: Iterable[str], *, level: int = 1, kind: str = "server") -> list[Coverage]:
    """Per benchmark the references name: which automated recommendations up to ``level`` of the
    ``kind`` profile have a check, and which have none."""
    cited: dict[str, set[str]] = {}
    for ref in cis_refs:
        prefix, rec = split_reference(ref)
        if benchmark(prefix) is not None:
            cited.setdefault(prefix, set()).add(rec)
    out = []
    for prefix, ids in sorted(cited.items()):
        bench = benchmark(prefix)
        assert bench is not None
        scope = [r.id for r in bench.scope(level=level, kind=kind)]
        out.append(
            Coverage(
                benchmark=bench,
                level=level,
                kind=kind,
                covered=tuple(i for i in scope if i in ids),
                missing=tuple(i for i in scope if i not in ids),
            )
        )
    return out


def baseline_coverage(baseline: Baseline, *, level: int = 1, kind: str = "server") -> Coverage | None:
    """Coverage of the benchmark a baseline declares (``benchmark:``), None when it declares none."""
    if not baseline.benchmark:
        return None
    refs = [r for c in baseline.checks for r in c.cis_ids if split_reference(r)[0] == baseline.benchmark]
    found = coverage(refs, level=level, kind=kind)
    if found:
        return found[0]
    bench = benchmark(baseline.benchmark)
    assert bench is not None
    scope = tuple(r.id for r in bench.scope(level=level, kind=kind))
    return Coverage(benchmark=bench, level=level, kind=kind, covered=(), missing=scope)
