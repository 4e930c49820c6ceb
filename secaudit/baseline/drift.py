"""Accepted baselines and drift for CI.

``accept`` turns baseline results (the ``baseline check --format json`` output, or an audit's
``baseline-results.json``) into an *accepted* file: per target, baseline and check, the status
and a sha256 of the normalised evidence. ``compare`` holds current results against it:

- **new failure**: a check fails now that did not fail when accepted (or a target never accepted);
- **changed**: a check failed then and fails now, but on different evidence;
- **expired waiver**: a failure whose waiver has expired.

Any of these is drift (CI fails), and so is an accepted target absent from the current results
(one "target not checked" row per target; not drift with ``allow_missing_targets``). Failures
accepted as they are, waived failures, fixed checks and single checks no longer reported on a
target that was checked are reported, and are not drift.

The accepted file keeps, beside each hash, a short redacted summary of the evidence (``subject =
value (file:line)``, secrets and password hashes masked), so a "changed" row shows what the
evidence was when accepted and what it is now.

Normalised evidence is what was observed, not where the file sat: each observation's subject,
value (whitespace collapsed), note, attributes and file inside the target; line numbers and the
dump's own path are left out, so inserting an unrelated line or checking the same config from
another checkout is not drift, while a changed value, a new offending entry or one gone is.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from secaudit.baseline.results import RESULTS_SCHEMA
from secaudit.core.errors import ConfigError
from secaudit.core.model import Asset, Evidence, Finding, Severity, Source

ACCEPTED_SCHEMA = "secaudit.baseline-accepted/1"
MAX_INPUT_BYTES = 256 * 1024 * 1024
_SPACES = re.compile(r"\s+")
RESULTS_HINT = (
    "give the output of 'secaudit baseline check --format json' or an audit's baseline-results.json"
)

Key = tuple[str, str, str]  # target, baseline id, check id


class DriftKind(Enum):
    NEW_FAILURE = "new-failure"
    CHANGED = "changed"
    EXPIRED_WAIVER = "expired-waiver"
    ACCEPTED = "accepted"  # failing exactly as accepted
    WAIVED = "waived"
    FIXED = "fixed"
    ERROR = "error"  # the check could not be evaluated now
    MISSING = "missing"  # accepted, but not in the current results (its target was checked)
    TARGET_MISSING = "target-not-checked"  # no current result at all for an accepted target

    @property
    def is_drift(self) -> bool:
        return self in (DriftKind.NEW_FAILURE, DriftKind.CHANGED, DriftKind.EXPIRED_WAIVER)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultRecord:
    """One check result read back from a results file."""

    target: str  # the target as written (profile or command line)
    baseline: str
    check: str
    status: str
    title: str
    severity: Severity
    evidence_sha256: str
    data: Mapping[str, Any] = field(compare=False, repr=False)  # the result as written
    label: str = ""  # the target label the run recorded (e.g. file:/abs/path)
    asset: str = ""
    source: str = ""  # results file it came from

    @property
    def key(self) -> Key:
        return (self.target, self.baseline, self.check)

    @property
    def waiver_expired(self) -> bool:
        waiver = self.data.get("waiver")
        return isinstance(waiver, Mapping) and bool(waiver.get("expired")) and self.status == "fail"

    def locations(self) -> list[tuple[str, int]]:
        """(host path, line) of each piece of evidence; an offline root's files under that root."""
        out: list[tuple[str, int]] = []
        for o in self.data.get("evidence", []):
            if isinstance(o, Mapping) and o.get("file"):
                out.append((host_path(self.label, str(o["file"])), int(o.get("line") or 0)))
        return out

    def default_file(self) -> str:
        """A file to point at when the evidence names none: the dump itself, else the results file."""
        kind, _, rest = self.label.partition(":")
        if kind == "file" and rest:
            return rest
        return self.source


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptedEntry:
    target: str
    baseline: str
    check: str
    status: str
    evidence_sha256: str
    title: str = ""
    severity: str = ""
    evidence: tuple[str, ...] | None = None  # redacted summary; None in files accepted before it existed

    @property
    def key(self) -> Key:
        return (self.target, self.baseline, self.check)


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftItem:
    kind: DriftKind
    key: Key
    current: ResultRecord | None
    accepted: AcceptedEntry | None
    checks: int = 0  # TARGET_MISSING: how many accepted results the target had

    @property
    def why(self) -> str:
        was = self.accepted.status if self.accepted else "not accepted"
        if self.kind is DriftKind.NEW_FAILURE:
            return f"fails now; accepted status: {was}"
        if self.kind is DriftKind.CHANGED:
            before = (
                "; ".join(self.accepted.evidence) or "(none)"
                if self.accepted is not None and self.accepted.evidence is not None
                else "(not kept: accepted before evidence summaries; accept again)"
            )
            now = "; ".join(evidence_summary(self.current.data.get("evidence", []))) if self.current else ""
            return f"still fails, on different evidence. accepted: {before} | now: {now or '(none)'}"
        if self.kind is DriftKind.TARGET_MISSING:
            return (
                f"target not checked: none of its {self.checks} accepted results is in the current "
                "results (unreachable, dropped from the profile, or the wrong results file?)"
            )
        if self.kind is DriftKind.EXPIRED_WAIVER and self.current is not None:
            waiver = self.current.data.get("waiver") or {}
            return f"waiver at {waiver.get('source', '?')} expired on {str(waiver.get('expires', '?'))[:10]}"
        if self.kind is DriftKind.MISSING:
            return f"accepted as {was}, not in the current results"
        if self.kind is DriftKind.FIXED:
            return f"passes now; accepted status: {was}"
        if self.kind is DriftKind.ERROR and self.current is not None:
            return str(self.current.data.get("reason", ""))
        return f"as accepted ({was})" if self.kind is DriftKind.ACCEPTED else self.kind.value


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftReport:
    items: tuple[DriftItem, ...]  # every current result that is not a plain pass/n-a, and every missing one
    compared: int  # current results compared
    allow_missing_targets: bool = False

    def is_drift(self, item: DriftItem) -> bool:
        if item.kind is DriftKind.TARGET_MISSING:
            return not self.allow_missing_targets
        return item.kind.is_drift

    @property
    def drift(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if self.is_drift(i))

    def count(self, kind: DriftKind) -> int:
        return sum(1 for i in self.items if i.kind is kind)


def host_path(label: str, file: str) -> str:
    """Where an evidence file lies on this machine: inside the root of an ``offline:`` target."""
    kind, _, rest = label.partition(":")
    if kind == "offline" and rest and file.startswith("/"):
        return posixpath.join(rest, file.lstrip("/"))
    return file


def normalised_evidence(evidence: Iterable[Mapping[str, Any]], label: str) -> list[dict[str, Any]]:
    own = label.partition(":")[2] if label.startswith("file:") else None
    out = []
    for o in evidence:
        value = o.get("value")
        file = str(o.get("file") or "")
        out.append(
            {
                "subject": _SPACES.sub(" ", str(o.get("subject", "")).strip()),
                "value": None if value is None else _SPACES.sub(" ", str(value).strip()),
                "note": str(o.get("note", "")),
                "attrs": {str(k): str(v) for k, v in sorted(dict(o.get("attrs") or {}).items())},
                "file": "" if own is not None and file == own else file,
            }
        )
    return sorted(out, key=lambda d: json.dumps(d, sort_keys=True))


_SECRET = re.compile(
    r"(?i)\b(password|passwd|secret|community|key|token|pbkdf2)\b(\s+\d\s+|\s*[=:]?\s*(?!\d\s))(?!<hash)(\S+)"
)
_HASH = re.compile(r"\$(?:1|2[aby]?|5|6|7|8|9|y|gy)\$\S+|grub\.pbkdf2\.\S+")
MAX_SUMMARY = 10


def redact(text: str) -> str:
    """Mask password hashes and the value after secret-ish words (kept: the word, so it reads)."""
    text = _HASH.sub("<hash redacted>", text)
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}<redacted>", text)


def evidence_summary(evidence: Iterable[Any]) -> tuple[str, ...]:
    """What a reviewer reads: ``subject = value [note] (file:line)``, redacted, at most 10."""
    out = []
    for o in evidence:
        if not isinstance(o, Mapping):
            continue
        value = o.get("value")
        shown = "(not set)" if value is None else _SPACES.sub(" ", str(value).strip())
        note = f" [{o['note']}]" if o.get("note") else ""
        where = f"{o.get('file')}:{o.get('line')}" if o.get("line") else str(o.get("file") or "")
        out.append(redact(f"{o.get('subject', '')} = {shown}{note}" + (f" ({where})" if where else "")))
    return tuple(out[:MAX_SUMMARY]) + (
        (f"... {len(out) - MAX_SUMMARY} more",) if len(out) > MAX_SUMMARY else ()
    )


def evidence_sha256(evidence: Iterable[Mapping[str, Any]], label: str) -> str:
    canonical = json.dumps(normalised_evidence(evidence, label), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _read_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise ConfigError(f"file is {size} bytes, too large for a results file", location=str(path))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError("file not found", location=str(path), hint="check the path") from e
    except UnicodeDecodeError as e:
        raise ConfigError("not UTF-8 text", location=str(path), hint="give a JSON results file") from e
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", location=str(path)) from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"not valid JSON: {e.msg}",
            location=f"{path}:{e.lineno}",
            hint=RESULTS_HINT,
        ) from e


def _need(data: Any, key: str, kind: type, path: Path, where: str) -> Any:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, kind):
        raise ConfigError(
            f"{where}: '{key}' is missing or not a {kind.__name__}",
            location=str(path),
            hint="the file is not secaudit baseline results (or was edited by hand)",
        )
    return value


def read_results(path: Path) -> list[ResultRecord]:
    """Every result in a results file: one run (``check --format json``) or an audit's runs."""
    return records_from_dict(_read_json(path), path)


def records_from_dict(data: Any, path: Path) -> list[ResultRecord]:
    """The results of ``data`` (parsed results JSON); ``path`` names it in errors and locations."""
    if not isinstance(data, dict) or data.get("schema") != RESULTS_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ConfigError(
            f"not baseline results (schema {found!r}, expected {RESULTS_SCHEMA!r})",
            location=str(path),
            hint=RESULTS_HINT,
        )
    runs = _need(data, "runs", list, path, "results") if "runs" in data else [data]
    out: list[ResultRecord] = []
    for n, run in enumerate(runs, 1):
        where = f"run {n}"
        label = str(_need(run, "target", str, path, where))
        baseline = str(_need(_need(run, "baseline", dict, path, where), "id", str, path, where))
        target = str(run.get("target_spec") or label)
        for r in _need(run, "results", list, path, where):
            check = str(_need(r, "id", str, path, f"{where} result"))
            evidence = _need(r, "evidence", list, path, f"{where} {check}")
            try:
                severity = Severity.parse(str(r.get("severity", "info")))
            except ValueError as e:
                raise ConfigError(f"{where} {check}: {e}", location=str(path)) from e
            out.append(
                ResultRecord(
                    target=target,
                    baseline=baseline,
                    check=check,
                    status=str(_need(r, "status", str, path, f"{where} {check}")),
                    title=str(r.get("title", "")),
                    severity=severity,
                    evidence_sha256=evidence_sha256(evidence, label),
                    data=r,
                    label=label,
                    asset=str(run.get("asset", "")),
                    source=str(path),
                )
            )
    return out


def read_all(paths: Sequence[Path]) -> list[ResultRecord]:
    """Results of several files; the same target, baseline and check twice is an error."""
    records: list[ResultRecord] = []
    seen: dict[Key, str] = {}
    for path in paths:
        for r in read_results(path):
            if r.key in seen:
                raise ConfigError(
                    f"check {r.check} of {r.baseline} on {r.target} appears twice (also in {seen[r.key]})",
                    location=str(path),
                    hint="give each target's results once",
                )
            seen[r.key] = str(path)
            records.append(r)
    return records


def accept(records: Sequence[ResultRecord], *, now: datetime, sources: Sequence[str] = ()) -> dict[str, Any]:
    """The accepted file's content: per target, baseline and check, status and evidence hash."""
    entries = [
        {
            "target": r.target,
            "baseline": r.baseline,
            "check": r.check,
            "status": r.status,
            "evidence_sha256": r.evidence_sha256,
            "title": r.title,
            "severity": r.severity.label,
            "evidence": list(evidence_summary(r.data.get("evidence", []))),
        }
        for r in sorted(records, key=lambda r: r.key)
    ]
    return {
        "schema": ACCEPTED_SCHEMA,
        "accepted_at": now.isoformat(),
        "sources": list(sources),
        "entries": entries,
    }


def load_accepted(path: Path) -> dict[Key, AcceptedEntry]:
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("schema") != ACCEPTED_SCHEMA:
        raise ConfigError(
            f"not an accepted-baseline file (expected schema {ACCEPTED_SCHEMA!r})",
            location=str(path),
            hint="write it with 'secaudit baseline accept RESULT --out accepted.json'",
        )
    out: dict[Key, AcceptedEntry] = {}
    for n, e in enumerate(_need(data, "entries", list, path, "accepted file"), 1):
        where = f"entry {n}"
        entry = AcceptedEntry(
            target=_need(e, "target", str, path, where),
            baseline=_need(e, "baseline", str, path, where),
            check=_need(e, "check", str, path, where),
            status=_need(e, "status", str, path, where),
            evidence_sha256=_need(e, "evidence_sha256", str, path, where),
            title=str(e.get("title", "")),
            severity=str(e.get("severity", "")),
            evidence=tuple(str(x) for x in e["evidence"]) if isinstance(e.get("evidence"), list) else None,
        )
        if entry.key in out:
            raise ConfigError(
                f"{where} repeats {entry.key}", location=str(path), hint="accept the results again"
            )
        out[entry.key] = entry
    return out


def _kind(current: ResultRecord, accepted: AcceptedEntry | None) -> DriftKind | None:
    if current.waiver_expired:
        return DriftKind.EXPIRED_WAIVER
    if current.status == "fail":
        if accepted is None or accepted.status != "fail":
            return DriftKind.NEW_FAILURE
        if accepted.evidence_sha256 != current.evidence_sha256:
            return DriftKind.CHANGED
        return DriftKind.ACCEPTED
    if current.status == "waived":
        return DriftKind.WAIVED
    if current.status == "error":
        return DriftKind.ERROR
    if accepted is not None and accepted.status in ("fail", "waived") and current.status == "pass":
        return DriftKind.FIXED
    return None


def compare(
    accepted: Mapping[Key, AcceptedEntry],
    current: Sequence[ResultRecord],
    *,
    allow_missing_targets: bool = False,
) -> DriftReport:
    """Hold ``current`` against ``accepted``; see the module docstring for what counts as drift."""
    items: list[DriftItem] = []
    seen: set[Key] = set()
    for r in current:
        seen.add(r.key)
        was = accepted.get(r.key)
        kind = _kind(r, was)
        if kind is not None:
            items.append(DriftItem(kind=kind, key=r.key, current=r, accepted=was))
    checked = {r.target for r in current}
    lost: dict[str, list[Key]] = {}
    for key in sorted(set(accepted) - seen):
        if key[0] in checked:
            items.append(DriftItem(kind=DriftKind.MISSING, key=key, current=None, accepted=accepted[key]))
        else:
            lost.setdefault(key[0], []).append(key)
    for target, keys in lost.items():  # one row per target, not one per check
        baselines = ",".join(sorted({k[1] for k in keys}))
        items.append(
            DriftItem(
                kind=DriftKind.TARGET_MISSING,
                key=(target, baselines, "*"),
                current=None,
                accepted=None,
                checks=len(keys),
            )
        )
    order = {k: i for i, k in enumerate(DriftKind)}
    report = DriftReport(items=(), compared=len(current), allow_missing_targets=allow_missing_targets)
    items.sort(key=lambda i: (not report.is_drift(i), order[i.kind], i.key))  # drift first
    return replace(report, items=tuple(items))


def _shown(value: Any) -> str:
    return "(not set)" if value is None else str(value)


def record_finding(record: ResultRecord, *, title: str = "", description: str = "") -> Finding:
    """A result as a Finding whose evidence points at host files (``path:line``) for SARIF."""
    data = record.data
    evidence = tuple(
        Evidence(
            kind="config",
            summary=f"{o.get('subject', '')} = {_shown(o.get('value'))}",
            location=f"{path}:{line}" if line else path,
            excerpt=str(o.get("value") or ""),
        )
        for o, (path, line) in zip(
            [o for o in data.get("evidence", []) if isinstance(o, Mapping) and o.get("file")],
            record.locations(),
            strict=True,
        )
    ) or (Evidence(kind="config", summary=str(data.get("reason", "")), location=record.default_file()),)
    return Finding(
        rule_id=record.check,
        source=Source.BASELINE,
        severity=record.severity,
        title=title or f"Not met: {record.title}",
        asset=Asset(key=record.target, hostname=record.asset or record.target),
        description=description or str(data.get("reason", "")),
        remediation=str(data.get("remediation", "")),
        evidence_key=record.check,
        evidence=evidence,
        producer=f"baseline:{record.baseline}",
    )
