"""The audit's detect stage: hunt in the profile's log sources and turn hits into findings.

Every hit of a rule on an asset is the same finding (fingerprint: rule id + asset), so a brute force
of 5,000 failed logins is one finding with its count and first events as evidence, and history can
tell when it stops. The full hit list is kept in the run folder as ``hits.jsonl``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from secaudit.app.hunt import Hit, HuntOptions, describe, hunt
from secaudit.core.errors import SecauditError
from secaudit.core.events import LogEvent
from secaudit.core.model import (
    Asset,
    Evidence,
    Finding,
    LocalText,
    Reference,
    RefKind,
    RunStatus,
    Severity,
    Source,
    StageOutput,
    StageResult,
)
from secaudit.core.profile import LogSource, Profile
from secaudit.core.report import ProgressCallback, ProgressEvent
from secaudit.detect.explain import explain_th
from secaudit.detect.model import RuleHit, RuleInfo
from secaudit.report.dates import zone_of
from secaudit.report.hits import JsonlHitWriter

STAGE = "detect"
HITS_FILE = "hits.jsonl"
EVIDENCE_EVENTS = 5  # events quoted per finding; the count covers all of them
_HOST_FIELDS = ("Computer", "hostname", "host", "Hostname", "dvc")

_LEVEL_SEVERITY = {
    "informational": Severity.INFO,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


def level_severity(level: str) -> Severity:
    return _LEVEL_SEVERITY.get(level, Severity.MEDIUM)


def rule_references(rule: RuleInfo) -> tuple[Reference, ...]:
    """ATT&CK techniques and CVEs from a rule's tags, its reference links, then the controls its
    ``compliance:`` block cites."""
    refs: list[Reference] = []
    for tag in rule.tags:
        lower = tag.lower()
        if lower.startswith("attack.t") and lower[8:9].isdigit():
            tid = tag[7:].upper()
            refs.append(
                Reference(
                    kind=RefKind.ATTACK,
                    id=tid,
                    url=f"https://attack.mitre.org/techniques/{tid.replace('.', '/')}/",
                )
            )
        elif lower.startswith("cve."):
            refs.append(Reference(kind=RefKind.CVE, id=tag[4:].upper()))
    refs.extend(Reference(kind=RefKind.URL, id=url, url=url) for url in rule.references[:5])
    refs.extend(rule.compliance)  # the controls the rule cites (control coverage counts them)
    return tuple(refs)


def _host_of(event: LogEvent) -> str:
    for name in _HOST_FIELDS:
        value = event.fields.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _inventory_asset(profile: Profile, name: str) -> Asset | None:
    """The inventory asset named ``name`` (its name, hostname, short hostname or address)."""
    lowered = name.lower()
    for inv in profile.assets:
        names = {inv.name.lower(), inv.hostname.lower(), inv.address}
        short = inv.hostname.lower().split(".")[0] if inv.hostname else ""
        if lowered in names or (short and lowered.split(".")[0] == short):
            return profile.inventory_asset(inv, hostname=inv.name)
    return None


def hit_asset(profile: Profile, source: LogSource, event: LogEvent | None) -> Asset:
    """The asset a hit is about: the log source's inventory asset, else the event's host, else the source."""
    if source.asset and (asset := _inventory_asset(profile, source.asset)) is not None:
        return asset
    host = _host_of(event) if event is not None else ""
    if host and (asset := _inventory_asset(profile, host)) is not None:
        return asset
    return Asset(key=source.asset or host or f"logs:{source.name}", hostname=source.asset or host)


@dataclass(slots=True)
class _Group:
    rule: RuleInfo
    asset: Asset
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (location, summary, excerpt)


def _event_excerpt(event: LogEvent) -> str:
    text = json.dumps(event.fields, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= 2000 else text[:2000] + f"... ({len(text)} characters)"


def _add(group: _Group, hit: Hit) -> None:
    group.count += 1
    if isinstance(hit, RuleHit):
        when, loc = hit.event.timestamp, f"{hit.event.source}:{hit.event.record}"
        summary, excerpt = describe(hit.matched_fields), _event_excerpt(hit.event)
    else:
        when = hit.first
        first = hit.events[0] if hit.events else None
        loc = f"{first.source}:{first.record}" if first else ""
        group_text = describe(dict(hit.group))
        summary = f"{hit.rule.correlation} {group_text} reached {hit.value:g} over {len(hit.events)} events"
        excerpt = "\n".join(
            f"{e.source}:{e.record} {e.timestamp.isoformat() if e.timestamp else ''}" for e in hit.events[:20]
        )
    if when is not None:
        group.first = when if group.first is None or when < group.first else group.first
        group.last = when if group.last is None or when > group.last else group.last
    if len(group.events) < EVIDENCE_EVENTS:
        group.events.append((loc, summary, excerpt))


def _remediation(rule: RuleInfo) -> str:
    text = "Investigate the matched events; if they are expected, tune or waive the rule with a reason."
    if rule.falsepositives:
        text += f" Known false positives: {'; '.join(rule.falsepositives)}."
    return text


def _span(group: _Group, zone: tzinfo, between: str, and_: str) -> str:
    """`` between <first> and <last>`` in the profile's time zone (ISO 8601, with its offset)."""
    if not (group.first and group.last):
        return ""
    first, last = group.first.astimezone(zone).isoformat(), group.last.astimezone(zone).isoformat()
    return f" {between} {first} {and_} {last}"


def _thai(group: _Group, zone: tzinfo = UTC) -> LocalText:
    """The finding in Thai: the rule's own ``th:`` text, else an explanation built from what the
    rule declares (:func:`~secaudit.detect.explain.explain_th`); the match count as in English."""
    rule = group.rule
    own = next((t for t in rule.texts if t.lang == "th"), None)
    text = own or explain_th(rule)
    span = _span(group, zone, "ระหว่าง", "ถึง")
    return LocalText(
        lang="th",
        title=text.title,
        description=f"{text.description}\n\nตรงกับกฎ {group.count} ครั้ง{span} "
        f"กฎโดย {rule.author or 'ไม่ทราบผู้เขียน'} ({rule.location})",
        remediation=text.remediation,
    )


def group_finding(group: _Group, zone: tzinfo = UTC) -> Finding:
    """One finding per rule and asset; the match span's times are in ``zone`` (the profile's)."""
    rule = group.rule
    span = _span(group, zone, "between", "and")
    evidence = tuple(
        Evidence(
            kind="log-event",
            summary=summary,
            location=loc,
            excerpt=excerpt,
            attributes=(("matches", str(group.count)), ("rule_author", rule.author)),  # sorted (core model)
        )
        for loc, summary, excerpt in group.events
    )
    description = rule.description or rule.title
    return Finding(
        rule_id=f"sigma:{rule.id}",
        source=Source.DETECTION,
        severity=level_severity(rule.level),
        title=rule.title,
        asset=group.asset,
        description=f"{description}\n\nMatched {group.count} time(s){span}. "
        f"Rule by {rule.author or 'unknown'} ({rule.location}).",
        remediation=_remediation(rule),
        evidence_key="",
        evidence=evidence,
        references=rule_references(rule),
        observed_at=group.last,
        producer="sigma",
        texts=(_thai(group, zone),),
    )


def run_detect_stage(
    profile: Profile,
    *,
    run_dir: Path,
    now: datetime,
    progress: ProgressCallback,
    rules: Sequence[Path] = (),
) -> StageOutput:
    """Hunt in every log source of the profile with ``rules`` (default: the profile's detection rules,
    else secaudit's own), with the profile's placeholder values."""
    started = time.perf_counter()
    groups: dict[tuple[str, str], _Group] = {}
    errors: list[str] = []
    events = skipped = 0
    rules_not_run: dict[str, str] = {}  # location -> message; the same rules for every log source
    fed: set[str] = set()  # rules some event of their log source reached, over all sources
    run_dir.mkdir(parents=True, exist_ok=True)
    hits_path = run_dir / HITS_FILE
    with hits_path.open("w", encoding="utf-8") as stream:
        writer = JsonlHitWriter(stream)
        for number, source in enumerate(profile.log_sources, start=1):
            progress(
                ProgressEvent(
                    task="detect", done=number - 1, total=len(profile.log_sources), message=source.name
                )
            )

            def on_hit(hit: Hit, source: LogSource = source) -> None:
                writer.write(hit)
                event = hit.event if isinstance(hit, RuleHit) else (hit.events[0] if hit.events else None)
                asset = hit_asset(profile, source, event)
                key = (hit.rule.id, asset.key)
                if key not in groups:
                    groups[key] = _Group(rule=hit.rule, asset=asset)
                _add(groups[key], hit)

            options = HuntOptions(
                inputs=source.paths,
                rules=tuple(rules) or tuple(Path(p) for p in profile.detection.rules),
                input_format=None if source.format == "auto" else source.format,
                placeholders=dict(profile.detection.placeholders) or None,
            )
            try:
                summary = hunt(options, on_hit=on_hit)
            except SecauditError as e:
                errors.append(f"log source {source.name}: {e}")
                continue
            events += summary.read.events
            skipped += summary.read.skipped
            fed |= summary.fed_rules
            for problem in summary.skipped_rules:
                name = problem.title or problem.rule_id or "(unnamed)"
                rules_not_run.setdefault(
                    problem.location,
                    f"rule could not run ({problem.level or 'unknown level'}): {name} "
                    f"({problem.location}): {problem.reason}",
                )
            if summary.nothing_read:
                errors.append(
                    f"log source {source.name}: no event could be read from {', '.join(source.paths)}"
                )
            errors.extend(f"{source.name}: {loc}: {why}" for loc, why in summary.read.errors[:3])
        writer.close()
    errors.extend(rules_not_run.values())
    zone = zone_of(profile.timezone)
    findings = tuple(group_finding(g, zone) for g in groups.values())
    hard_failures = sum(1 for e in errors if "no event could be read" in e or e.startswith("log source "))
    status = (
        RunStatus.COMPLETED if not hard_failures else RunStatus.FAILED if not events else RunStatus.INCOMPLETE
    )
    return StageOutput(
        findings=findings,
        result=StageResult(
            name=STAGE,
            status=status,
            findings=len(findings),
            items=events,
            skipped=skipped,
            errors=tuple(errors),
            seconds=time.perf_counter() - started,
        ),
        artifacts=(HITS_FILE,),
        rules_with_input=frozenset(fed),
    )
