"""The core model: what secaudit finds, where, and in which run.

Frozen, keyword-only dataclasses and enums; standard library only; no I/O. Every producer
(scan, passive discovery, baselines, detections) emits :class:`Finding` objects; history,
risk and report writers consume them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, IntEnum

from secaudit.core.redact import redact

_SPACES = re.compile(r"\s+")


class Severity(IntEnum):
    """How bad a finding is on its own, before asset and exposure are weighed."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read ``"high"``, ``"HIGH"`` or ``"informational"``; raise ValueError with the choices."""
        key = text.strip().lower()
        if key == "informational":
            key = "info"
        for member in cls:
            if member.name.lower() == key:
                return member
        raise ValueError(f"unknown severity {text!r}; use one of: {', '.join(cls.names())}")

    @classmethod
    def names(cls) -> list[str]:
        return [m.name.lower() for m in cls]

    @property
    def label(self) -> str:
        return self.name.lower()


class Criticality(IntEnum):
    """How much the city depends on an asset or segment."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4
    PUBLIC_SAFETY_CRITICAL = 5

    @classmethod
    def parse(cls, text: str) -> Criticality:
        key = _SPACES.sub("-", text.strip().lower()).replace("_", "-")
        for member in cls:
            if member.label == key:
                return member
        raise ValueError(f"unknown criticality {text!r}; use one of: {', '.join(cls.names())}")

    @classmethod
    def names(cls) -> list[str]:
        return [m.label for m in cls]

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class SegmentKind(Enum):
    """What lives in a network segment; decides how gently it is scanned."""

    IT = "it"
    OT = "ot"
    CCTV = "cctv"
    DMZ = "dmz"
    MGMT = "mgmt"


class Source(Enum):
    """Which kind of producer made a finding."""

    SCAN = "scan"
    PASSIVE = "passive"
    BASELINE = "baseline"
    DETECTION = "detection"
    VULN = "vuln"  # a known vulnerability of an installed package or a scanned service


class Status(Enum):
    """A finding's state across runs, as history sees it."""

    NEW = "new"  # first seen in this run
    PERSISTING = "persisting"  # seen before and again now
    FIXED = "fixed"  # seen before, absent now
    WAIVED = "waived"  # present, covered by a valid waiver


class RunStatus(Enum):
    """How a run ended."""

    RUNNING = "running"
    COMPLETED = "completed"  # every stage finished
    INCOMPLETE = "incomplete"  # some stage failed; partial results kept
    FAILED = "failed"  # nothing usable was produced
    INTERRUPTED = "interrupted"


class RefKind(Enum):
    """Kinds of references a finding can cite."""

    CIS = "cis"
    CIS_CONTROLS = "cis-controls"
    ATTACK = "attack"
    CVE = "cve"
    CWE = "cwe"
    NIST = "nist"
    ISO27001 = "iso27001"
    NIST_CSF = "nist-csf"  # a NIST Cybersecurity Framework 2.0 subcategory, e.g. PR.AA-01
    TH_CII = "th-cii"  # a function of Thailand's CII minimum standard (compliance/th-cii-2562.yaml)
    URL = "url"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """A pointer to an external catalogue entry, e.g. ``CIS 5.2.10`` or ``ATT&CK T1110``."""

    kind: RefKind
    id: str
    url: str = ""

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset:
    """Something a finding is about: a host, a device, a config file's owner.

    ``key`` is the stable identity used in fingerprints: the inventory name when the
    asset is in the profile's inventory, otherwise the address or hostname.
    """

    key: str
    address: str = ""
    hostname: str = ""
    role: str = ""
    segment: str = ""
    criticality: Criticality = Criticality.MEDIUM
    tags: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        if self.hostname and self.address and self.hostname != self.address:
            return f"{self.hostname} ({self.address})"
        return self.hostname or self.address or self.key


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What was observed, and where, so a reader can check the finding for themselves.

    ``location`` is a file:line, host:port/proto, or log record pointer. ``excerpt`` is
    the observed text (attacker-controlled: writers must escape it). ``attributes`` holds
    extra structured facts as sorted (name, value) pairs.
    """

    kind: str
    summary: str
    location: str = ""
    excerpt: str = ""
    attributes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Observed text is where secrets hide (a URL with a password, a token in a banner):
        # masking it here keeps it out of history and every report at once.
        _redact_fields(self, ("summary", "location", "excerpt"))
        if self.attributes:
            object.__setattr__(self, "attributes", tuple((k, redact(v)) for k, v in self.attributes))


def _redact_fields(obj: object, names: tuple[str, ...]) -> None:
    """Mask secrets in the text fields ``names`` of a frozen instance (see core.redact)."""
    for name in names:
        text = getattr(obj, name)
        if text:
            clean = redact(text)
            if clean != text:
                object.__setattr__(obj, name, clean)


def normalize_key(text: str) -> str:
    """Normalize an evidence key so cosmetic differences never change a fingerprint."""
    return _SPACES.sub(" ", text.strip().lower())


def fingerprint(rule_id: str, asset_key: str, evidence_key: str) -> str:
    """Stable identity of a finding: rule or check id + asset key + normalized evidence key."""
    material = "\x1f".join((rule_id.strip(), asset_key.strip().lower(), normalize_key(evidence_key)))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalText:
    """A finding's words in one more language than English (``lang`` is ``th``), written beside the
    English in the content file that made the finding. ``description`` is the "why it matters"
    text; commands and configuration lines in ``remediation`` stay as the English has them."""

    lang: str
    title: str
    description: str = ""
    remediation: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem on one asset, produced by one rule or check.

    ``evidence_key`` names *which* instance on the asset this is (``tcp/23``,
    ``PermitRootLogin``, a log record's logon id) and goes into the fingerprint;
    the evidence itself may change between runs without changing the identity.
    """

    rule_id: str
    source: Source
    severity: Severity
    title: str
    asset: Asset
    description: str = ""
    remediation: str = ""
    evidence_key: str = ""
    evidence: tuple[Evidence, ...] = ()
    references: tuple[Reference, ...] = ()
    observed_at: datetime | None = field(default=None, compare=False)
    producer: str = field(default="", compare=False)
    # The same title, description and remediation in other languages; presentation only, so
    # not part of a finding's identity.
    texts: tuple[LocalText, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        _redact_fields(self, ("title", "description", "evidence_key"))

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.asset.key, self.evidence_key)

    def text_in(self, lang: str) -> LocalText:
        """Title, description and remediation in ``lang``: its own text where the content has one,
        else the English (a missing part of a translation falls back part by part)."""
        for text in self.texts:
            if text.lang == lang:
                return LocalText(
                    lang=lang,
                    title=text.title or self.title,
                    description=text.description or self.description,
                    remediation=text.remediation or self.remediation,
                )
        return LocalText(
            lang="en", title=self.title, description=self.description, remediation=self.remediation
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StageResult:
    """What one stage of an audit did: findings made, items it could not process."""

    name: str
    status: RunStatus
    findings: int = 0
    items: int = 0  # targets, files, events or hosts processed
    skipped: int = 0
    errors: tuple[str, ...] = ()
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.errors:
            object.__setattr__(self, "errors", tuple(redact(e) for e in self.errors))


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One audit run, as recorded in history."""

    id: str
    profile_path: str
    organisation: str
    started_at: datetime
    status: RunStatus = RunStatus.RUNNING
    finished_at: datetime | None = None
    tool_version: str = ""
    risk_model: str = ""
    authorization_ref: str = ""
    stages: tuple[StageResult, ...] = ()


class WaiverKind(Enum):
    """Why a present finding is not counted against the posture."""

    WAIVED = "waived"  # the check does not apply here, or a compensating control covers it
    ACCEPTED = "accepted"  # the risk is known and accepted by its owner until the expiry


@dataclass(frozen=True, slots=True, kw_only=True)
class WaivedFinding:
    """A finding that is present but covered by a valid waiver or risk acceptance.

    Reports list these apart, with the justification and expiry; they never count as open findings.
    ``source`` is where the waiver is written ("waivers.yaml:12").
    """

    finding: Finding
    kind: WaiverKind
    justification: str
    approved_by: str = ""
    expires: datetime | None = None
    source: str = ""

    def __post_init__(self) -> None:
        _redact_fields(self, ("justification",))


class CheckOutcome(Enum):
    """How a baseline check ended when it produced no finding."""

    PASSED = "pass"
    NOT_APPLICABLE = "notapplicable"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedItem:
    """A baseline check that passed or did not apply on one asset: no finding, but evidence an
    auditor needs as much as the failures. ``finding`` carries the check on its asset (id, title,
    severity, the evidence it saw) in the shape every writer already knows; it is never counted
    as a finding. ``reason`` says why a check did not apply (or the verdict text)."""

    finding: Finding
    outcome: CheckOutcome
    baseline: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineTally:
    """The result counts of one baseline on one asset, as OpenSCAP's rule-result summary gives them."""

    asset: str
    baseline: str
    target: str
    passed: int = 0
    failed: int = 0
    not_applicable: int = 0
    waived: int = 0
    errors: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StageOutput:
    """What a producer stage hands back to the audit: its findings and how it went.

    ``artifacts`` are files the stage wrote into the run folder (raw nmap XML, results JSON).
    """

    findings: tuple[Finding, ...]
    result: StageResult
    artifacts: tuple[str, ...] = ()
    waived: tuple[WaivedFinding, ...] = ()
    checked: tuple[CheckedItem, ...] = ()  # baseline checks that passed or did not apply
    tallies: tuple[BaselineTally, ...] = ()  # per asset and baseline: pass / fail / n/a counts
    # detection: the ids of the rules some event of their log source reached (None: not a hunt);
    # a rule outside it looked at nothing, so its silence is no pass for the controls it cites
    rules_with_input: frozenset[str] | None = None
