"""The baseline model: checks as data, what a probe observed, and what a check concluded.

Frozen dataclasses only; loading lives in :mod:`secaudit.baseline.loader`, evaluation in
:mod:`secaudit.baseline.engine`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

from secaudit.core.model import LocalText, Reference, Severity, WaiverKind

TARGET_KINDS = ("offline", "file", "local", "ssh")


class CheckStatus(Enum):
    """The outcome of one check on one target."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    NOT_APPLICABLE = "notapplicable"
    ERROR = "error"
    WAIVED = "waived"


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One thing a probe saw: a setting, a file, a line, an account.

    ``value`` None means "looked for and not set" (a missing setting, a section without the
    wanted child); ``file``/``line`` say where, inside the target, so a reader can verify.
    """

    subject: str
    value: str | None
    file: str = ""
    line: int = 0
    note: str = ""  # e.g. "OpenSSH default", "inherited from http"
    attrs: tuple[tuple[str, str], ...] = ()

    def attr(self, name: str) -> str | None:
        return next((v for k, v in self.attrs if k == name), None)

    @property
    def location(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeCall:
    """A typed probe with its validated parameters."""

    type: str
    params: Mapping[str, Any]
    location: str = ""  # baseline file:line, for messages

    @property
    def subject(self) -> str:
        """A short stable text naming what the probe looks at, e.g. ``sshd_setting:permitrootlogin``."""
        main = [
            str(v)
            for k, v in sorted(self.params.items())
            if k not in {"default", "comments", "regex_type"}
            and isinstance(v, str)
            and not isinstance(v, bool)
        ]
        return f"{self.type}:{' '.join(main)}" if main else self.type


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    """What the observations must look like; ``describe()`` gives the human text."""

    present: bool | None = None
    equals: str | None = None
    one_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    matches: str | None = None
    not_matches: str | None = None
    lte: float | None = None
    gte: float | None = None
    has_all: tuple[str, ...] = ()
    has_none: tuple[str, ...] = ()
    mode_at_most: int | None = None
    owner: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    missing: CheckStatus = CheckStatus.FAIL  # what "not set anywhere" means
    case_sensitive: bool = False

    def describe(self) -> str:
        parts: list[str] = []
        if self.present is not None:
            parts.append("present" if self.present else "absent")
        if self.equals is not None:
            parts.append(f"= {self.equals}")
        if self.one_of:
            parts.append(f"one of {', '.join(self.one_of)}")
        if self.none_of:
            parts.append(f"none of {', '.join(self.none_of)}")
        if self.matches is not None:
            parts.append(f"matches /{self.matches}/")
        if self.not_matches is not None:
            parts.append(f"does not match /{self.not_matches}/")
        if self.gte is not None:
            parts.append(f">= {_num(self.gte)}")
        if self.lte is not None:
            parts.append(f"<= {_num(self.lte)}")
        if self.has_all:
            parts.append(f"includes {', '.join(self.has_all)}")
        if self.has_none:
            parts.append(f"excludes {', '.join(self.has_none)}")
        if self.mode_at_most is not None:
            parts.append(f"mode {self.mode_at_most:04o} or stricter")
        if self.owner:
            parts.append(f"owner {'/'.join(self.owner)}")
        if self.group:
            parts.append(f"group {'/'.join(self.group)}")
        if self.missing is not CheckStatus.FAIL and self.present is None:
            parts.append(f"unset is {self.missing.value}")
        return "; ".join(parts) or "any value"


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """A node of a check's logic: a probe with its expectation, or all/any/none of children."""

    op: str  # "probe", "all", "any", "none"
    probe: ProbeCall | None = None
    expect: Expectation | None = None
    children: tuple[Condition, ...] = ()

    def probes(self) -> tuple[ProbeCall, ...]:
        if self.probe is not None:
            return (self.probe,)
        return tuple(p for c in self.children for p in c.probes())

    def describe(self) -> str:
        if self.op == "probe" and self.probe is not None and self.expect is not None:
            return f"{self.probe.subject}: {self.expect.describe()}"
        return f"{self.op} of ({'; '.join(c.describe() for c in self.children)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One baseline check. ``id`` is stable and never reused for a different meaning."""

    id: str
    title: str
    rationale: str
    section: str
    severity: Severity
    condition: Condition
    remediation: str
    targets: tuple[str, ...]  # target kinds the check can run on
    references: tuple[Reference, ...] = ()
    applies_if: Condition | None = None
    subject: str = ""  # evidence key: what the check is about (stable across runs)
    location: str = ""  # baseline file:line
    # CIS profiles the check belongs to (l1_server, l2_server, l1_workstation, l2_workstation)
    profiles: tuple[str, ...] = ("l1_server", "l1_workstation")
    # title, rationale (as description) and remediation in Thai: the check's ``th:`` block
    texts: tuple[LocalText, ...] = ()

    def level(self, kind: str = "server") -> int | None:
        """The check's CIS level in the server or workstation profile; None when not in that profile."""
        levels = [int(p[1]) for p in self.profiles if p.endswith(f"_{kind}")]
        return min(levels) if levels else None

    @property
    def cis_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.references if r.kind.value == "cis")


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    id: str
    title: str
    version: str
    applies_to: str
    checks: tuple[Check, ...]
    path: str = ""
    benchmark: str = ""  # the CIS benchmark (a cis: prefix such as "Debian 12") this baseline implements

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def at_level(self, level: int, kind: str = "server") -> Baseline:
        """Only the checks of the ``kind`` profile up to ``level``: a Level 1 run holds no Level 2 control."""
        keep = tuple(c for c in self.checks if (lv := c.level(kind)) is not None and lv <= level)
        return replace(self, checks=keep)


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiver:
    """A written exception for one check on the targets ``target`` names (a target string or a glob).

    Loaded from a waivers file by :mod:`secaudit.baseline.waivers`; ``location`` is its file:line.
    """

    check: str
    target: str
    justification: str
    expires: datetime  # aware; the waiver stops covering the check after this instant
    kind: WaiverKind = WaiverKind.WAIVED
    approver: str = ""
    asset: str = ""  # only on targets of this inventory asset
    baseline: str = ""  # only in this baseline
    location: str = ""

    def expired(self, now: datetime) -> bool:
        return now > self.expires


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """What one check concluded on one target, with the evidence it saw.

    ``waiver`` is the waiver that matched a failed check: with status WAIVED it covers the
    failure; with status FAIL it had expired (the failure counts again, reported as expired).
    """

    check: Check
    status: CheckStatus
    evidence: tuple[Observation, ...] = ()
    reason: str = ""  # why not applicable / error; or a short verdict text
    waiver: Waiver | None = None

    @property
    def expectation(self) -> str:
        return self.check.condition.describe()

    @property
    def waiver_expired(self) -> bool:
        return self.waiver is not None and self.status is CheckStatus.FAIL


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionScore:
    section: str
    passed: int
    failed: int
    other: int  # not applicable, error, waived

    @property
    def percent(self) -> float | None:
        """CIS-CAT style: pass / (pass + fail); None when nothing was decided."""
        decided = self.passed + self.failed
        return round(100.0 * self.passed / decided, 1) if decided else None


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineRun:
    """One baseline evaluated against one target."""

    baseline: Baseline
    target: str
    results: tuple[CheckResult, ...]
    seconds: float = field(default=0.0, compare=False)
    # why the run as a whole decided nothing it was meant to (e.g. an SCA policy's requirements
    # cannot be evaluated on this target); empty when the run went as designed
    incomplete: str = ""

    @property
    def decided(self) -> int:
        """Checks that reached a verdict (pass, fail or waived)."""
        return sum(
            1 for r in self.results if r.status in (CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.WAIVED)
        )

    def count(self, status: CheckStatus) -> int:
        return sum(1 for r in self.results if r.status is status)

    def sections(self) -> tuple[SectionScore, ...]:
        order: dict[str, list[int]] = {}
        for r in self.results:
            tally = order.setdefault(r.check.section, [0, 0, 0])
            if r.status is CheckStatus.PASS:
                tally[0] += 1
            elif r.status is CheckStatus.FAIL:
                tally[1] += 1
            else:
                tally[2] += 1
        return tuple(
            SectionScore(section=s, passed=t[0], failed=t[1], other=t[2])
            for s, t in sorted(order.items(), key=lambda kv: _section_key(kv[0]))
        )

    @property
    def score(self) -> SectionScore:
        return SectionScore(
            section="overall",
            passed=self.count(CheckStatus.PASS),
            failed=self.count(CheckStatus.FAIL),
            other=len(self.results) - self.count(CheckStatus.PASS) - self.count(CheckStatus.FAIL),
        )


def _section_key(section: str) -> tuple[tuple[int, str], ...]:
    head = section.split(" ", 1)[0]
    parts = [(int(p), "") if p.isdigit() else (1 << 30, p) for p in head.split(".")]
    return (*parts, (0, section))
