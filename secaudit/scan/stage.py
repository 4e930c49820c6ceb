"""The scan stage of an audit: every segment, through the scope guard, with its scan profile.

Per segment: the guard turns the segment into explicit in-scope addresses (exclusions removed,
authorization checked at ``now``); ``deep`` needs a maintenance window covering ``now``; nmap
runs with an ``-iL`` file of those addresses and an ``--excludefile`` of the exclusions; the raw
XML is kept in the run folder; the exposure rules turn open ports into findings. Each attempt,
refused ones included, is appended to the audit trail. A failed segment is an error in the
stage result; the other segments still run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from secaudit.core.errors import ConfigError, OperationalError, ScopeError, SecauditError, UsageError
from secaudit.core.model import Finding, RunStatus, StageOutput, StageResult
from secaudit.core.profile import Profile, Segment
from secaudit.core.report import ProgressCallback, ProgressEvent
from secaudit.scan.findings import findings_for
from secaudit.scan.nmapxml import parse_nmap_xml
from secaudit.scan.profiles import PROFILES, ScanProfile, build_args
from secaudit.scan.rules import ExposureRule, load_rules
from secaudit.scan.runner import NmapRunner, PythonNmapRunner, is_privileged
from secaudit.scope import (
    AuditEntry,
    AuditTrail,
    Resolver,
    ScopedAddress,
    ScopeGuard,
    current_user,
    system_resolver,
)

STAGE = "scan"
SCAN_DIR = "scan"
AUDIT_FILE = "scan-audit.jsonl"


@dataclass
class ScanOptions:
    """What the caller may inject; defaults are the real thing."""

    runner: NmapRunner | None = None
    rules: Sequence[ExposureRule] | None = None
    privileged: bool | None = None
    profiles: dict[str, ScanProfile] = field(default_factory=lambda: dict(PROFILES))
    audit: AuditTrail | None = None
    who: str = ""
    timeout_s: int = 4 * 3600
    resolver: Resolver | None = None  # hostname targets; default: the operating system


@dataclass
class _Segment:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    hosts: int = 0
    unusable: bool = False  # some nmap output held nothing usable (failed, not partial)


def scan_segments(
    profile: Profile,
    *,
    run_dir: Path,
    now: datetime,
    progress: ProgressCallback,
    segments: Sequence[str] = (),
    targets: Sequence[str] = (),
    options: ScanOptions | None = None,
) -> StageOutput:
    """Scan the named segments (all when empty) and return findings and how it went.

    With ``targets`` (addresses, CIDRs, ranges, hostnames), only those are scanned, each with
    the scan profile of the segment it lies in; every target must be in scope or nothing is
    sent (:class:`ScopeError`, recorded in the audit trail as refused).

    Raises only for problems that stop every segment before any packet: an unknown segment name
    (:class:`UsageError`), a refused target (:class:`ScopeError`), missing nmap
    (:class:`OperationalError`). Segment refusals, failed or partial scans are collected per
    segment.
    """
    opts = options or ScanOptions()
    started = time.monotonic()
    guard = ScopeGuard(profile, resolver=opts.resolver or system_resolver)
    trail = opts.audit or AuditTrail(run_dir / AUDIT_FILE)
    who = opts.who or current_user()
    chosen = [s.name for s in guard.select_segments(segments)]  # validates names first
    only: dict[str, list[ScopedAddress]] | None = None
    if targets:
        only = _target_groups(profile, guard, targets, now, trail, who)
        outside = sorted(set(only) - set(chosen))
        if outside:
            raise UsageError(
                f"targets lie in segment(s) {', '.join(outside)}, which --segment leaves out",
                location=profile.path,
                hint="drop --segment, or name the segments of every target",
            )
        chosen = [name for name in chosen if name in only]
    errors: list[str] = []
    rules = list(opts.rules) if opts.rules is not None else _shipped_rules(errors)
    runner = opts.runner or PythonNmapRunner()
    privileged = is_privileged() if opts.privileged is None else opts.privileged
    scan_dir = run_dir / SCAN_DIR
    try:
        scan_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OperationalError(f"cannot create the run folder: {e.strerror}", location=str(scan_dir)) from e

    findings: list[Finding] = []
    artifacts: list[str] = []
    hosts = skipped = failed = 0
    for i, name in enumerate(chosen):
        progress(ProgressEvent(task=STAGE, done=i, total=len(chosen), message=name))
        segment = profile.segment(name)
        assert segment is not None
        context = _Context(profile, guard, opts, runner, trail, who, scan_dir, now, privileged)
        try:
            result = context.scan(segment, rules, None if only is None else only[name])
        except SecauditError as e:
            failed += 1
            errors.append(f"segment {name}: {_one_line(e)}")
            continue
        if not result.artifacts and not result.errors:
            skipped += 1
        if result.errors and (not result.artifacts or result.unusable):
            failed += 1
        findings.extend(result.findings)
        errors.extend(f"segment {name}: {m}" for m in result.errors)
        artifacts.extend(result.artifacts)
        hosts += result.hosts
    progress(ProgressEvent(task=STAGE, done=len(chosen), total=len(chosen), message="done"))
    if failed == len(chosen) and chosen:
        status = RunStatus.FAILED
    elif errors:
        status = RunStatus.INCOMPLETE
    else:
        status = RunStatus.COMPLETED
    return StageOutput(
        findings=tuple(findings),
        result=StageResult(
            name=STAGE,
            status=status,
            findings=len(findings),
            items=hosts,
            skipped=skipped,
            errors=tuple(errors),
            seconds=round(time.monotonic() - started, 3),
        ),
        artifacts=tuple(artifacts),
    )


def _target_groups(
    profile: Profile,
    guard: ScopeGuard,
    targets: Sequence[str],
    now: datetime,
    trail: AuditTrail,
    who: str,
) -> dict[str, list[ScopedAddress]]:
    """The in-scope addresses of ``targets`` by segment, or :class:`ScopeError` before any packet."""
    try:
        plan = guard.authorize(targets, now=now)
    except ScopeError as e:
        trail.append(
            AuditEntry(
                who=who,
                when=now,
                authorization=profile.authorization.reference,
                argv=(),
                targets=tuple(targets),
                duration_s=0.0,
                result="refused",
                detail=e.message,
            )
        )
        raise
    groups: dict[str, list[ScopedAddress]] = {}
    for scoped in plan.addresses:
        groups.setdefault(scoped.segment.name, []).append(scoped)
    return groups


def _shipped_rules(errors: list[str]) -> list[ExposureRule]:
    rules, problems = load_rules()
    errors.extend(f"exposure rules: {_one_line(p)}" for p in problems)
    return rules


def _one_line(error: SecauditError) -> str:
    text = f"{error.location}: {error.message}" if error.location else error.message
    return text + (f" (hint: {error.hint})" if error.hint else "")


@dataclass
class _Context:
    profile: Profile
    guard: ScopeGuard
    opts: ScanOptions
    runner: NmapRunner
    trail: AuditTrail
    who: str
    scan_dir: Path
    now: datetime
    privileged: bool

    def refuse(self, segment: Segment, targets: Sequence[str], reason: str) -> None:
        self.trail.append(
            AuditEntry(
                who=self.who,
                when=self.now,
                authorization=self.profile.authorization.reference,
                argv=(),
                targets=tuple(targets),
                duration_s=0.0,
                result="refused",
                segment=segment.name,
                detail=reason,
            )
        )

    def scan(
        self, segment: Segment, rules: Sequence[ExposureRule], only: list[ScopedAddress] | None
    ) -> _Segment:
        out = _Segment()
        targets = [str(c) for c in segment.cidrs] if only is None else [str(a.address) for a in only]
        addresses: tuple[ScopedAddress, ...] = tuple(only or ())
        if only is None:
            try:
                addresses = self.guard.segment_plan([segment.name], now=self.now).addresses
            except ScopeError as e:
                self.refuse(segment, targets, e.message)
                raise
        scan_profile = self.opts.profiles.get(segment.scan_profile)
        if scan_profile is None:
            raise ConfigError(f"unknown scan profile '{segment.scan_profile}'", location=self.profile.path)
        if scan_profile.needs_maintenance_window and self.guard.maintenance_window(self.now) is None:
            reason = (
                f"scan profile '{scan_profile.name}' is allowed only inside a maintenance window of "
                f"authorization {self.profile.authorization.reference}, "
                f"and none covers {self.now.isoformat()}"
            )
            self.refuse(segment, targets, reason)
            raise ScopeError(
                reason + "; nothing was sent",
                location=self.profile.path,
                hint="run in a maintenance window, or set the segment's scan_profile to 'standard'",
            )
        if not addresses:
            out.errors.append("no address left to scan after exclusions")
            return out
        for version in (4, 6):
            group = [a for a in addresses if a.address.version == version]
            if group:
                self._run(segment, scan_profile, group, version, rules, out)
        return out

    def _run(
        self,
        segment: Segment,
        scan_profile: ScanProfile,
        group: list[ScopedAddress],
        version: int,
        rules: Sequence[ExposureRule],
        out: _Segment,
    ) -> None:
        stem = segment.name + ("-v6" if version == 6 else "")
        targets_file = self.scan_dir / f"{stem}.targets"
        addresses = [str(a.address) for a in group]
        exclusions = [str(n) for n in segment.exclusions if n.version == version]
        exclude_file = self.scan_dir / f"{stem}.exclude" if exclusions else None
        try:
            targets_file.write_text("\n".join(addresses) + "\n", encoding="utf-8")
            if exclude_file is not None:
                exclude_file.write_text("\n".join(exclusions) + "\n", encoding="utf-8")
        except OSError as e:
            raise OperationalError(
                f"cannot write scan inputs: {e.strerror}", location=str(targets_file)
            ) from e
        plan = build_args(
            scan_profile,
            targets_file=targets_file,
            exclude_file=exclude_file,
            ipv6=version == 6,
            privileged=self.privileged,
        )
        out.errors.extend(plan.notes)
        output = self.runner.run(plan.args, timeout_s=self.opts.timeout_s)
        xml_path = self.scan_dir / f"{stem}.xml"
        if output.xml:
            xml_path.write_bytes(output.xml)
            out.artifacts.append(str(xml_path))
        result = "completed"
        detail = output.error
        if output.xml:
            try:
                run = parse_nmap_xml(output.xml, source=str(xml_path))
            except OperationalError as e:
                out.errors.append(_one_line(e))
                result, detail = "failed", e.message
                out.unusable = True
            else:
                if run.error:
                    out.errors.append(f"{xml_path.name}: {run.error}")
                    result, detail = ("partial" if run.hosts else "failed"), run.error
                    out.unusable = out.unusable or not run.hosts
                out.hosts += len(run.up_hosts())
                out.findings.extend(findings_for(run, self.profile, rules, observed_at=self.now))
        else:
            result = "failed"
        if output.error:
            out.errors.append(output.error)
            result = "failed" if result != "partial" else result
        self.trail.append(
            AuditEntry(
                who=self.who,
                when=self.now,
                authorization=self.profile.authorization.reference,
                argv=output.argv,
                targets=tuple(addresses),
                duration_s=output.duration_s,
                result=result,
                segment=segment.name,
                detail="; ".join(x for x in (detail, *output.stderr_lines) if x)[:2000],
            )
        )
