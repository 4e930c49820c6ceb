"""The scan stage of an audit: every segment, through the scope guard, with its scan profile.

Per segment: the guard turns the segment into explicit in-scope addresses (exclusions removed,
authorization checked at ``now``); ``deep`` needs a maintenance window covering ``now``; nmap
runs with an ``-iL`` file of those addresses and an ``--excludefile`` of the exclusions; the raw
XML is kept in the run folder; the exposure rules turn open ports into findings. Each attempt,
refused ones included, is appended to the audit trail. A failed segment is an error in the
stage result; the other segments still run.

The authorization holds for the whole scan, not only its start: each nmap run is given the time
left until ``valid_until`` (and, for ``deep``, until its maintenance window closes), less a safety
margin, and is stopped (SIGKILL) when it runs out. The hosts nmap finished by then are kept; the
stage says why it stopped, and segments not yet begun are not started. Time is measured from the
injected ``now`` with a monotonic clock, so a scan started at ``now`` ends where it should even if
the wall clock jumps.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from secaudit.core.errors import ConfigError, OperationalError, ScopeError, SecauditError, UsageError
from secaudit.core.model import Finding, RunStatus, StageOutput, StageResult
from secaudit.core.profile import Profile, Segment
from secaudit.core.report import ProgressCallback, ProgressEvent
from secaudit.scan.findings import findings_for
from secaudit.scan.nmapxml import Host, NmapRun, parse_nmap_xml
from secaudit.scan.profiles import PROFILES, ScanProfile, build_args, build_discovery_args
from secaudit.scan.rules import ExposureRule, load_rules
from secaudit.scan.runner import NmapRunner, ProcessNmapRunner, is_privileged
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


def route_is_direct(address: str) -> bool:
    """Whether the kernel reaches ``address`` without a gateway (``ip route get``): nmap then
    asks by ARP. False when it cannot tell (a routed segment's probes are the careful choice)."""
    try:
        done = subprocess.run(
            ["ip", "-o", "route", "get", address], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    words = done.stdout.split()
    return done.returncode == 0 and bool(words) and "via" not in words and words[0] != "local"


@dataclass
class ScanOptions:
    """What the caller may inject; defaults are the real thing."""

    runner: NmapRunner | None = None
    rules: Sequence[ExposureRule] | None = None
    privileged: bool | None = None
    profiles: dict[str, ScanProfile] = field(default_factory=lambda: dict(PROFILES))
    audit: AuditTrail | None = None
    who: str = ""
    timeout_s: float = 4 * 3600
    resolver: Resolver | None = None  # hostname targets; default: the operating system
    #: nmap is stopped this long before the authorization or maintenance window ends, so packets
    #: already queued leave before the end, never after it.
    stop_margin_s: float = 1.0
    #: Segments scanned at the same time, each by its own nmap with its own profile's rate limit.
    parallel_segments: int = 4
    #: Packets per second for all segments together (0: no cap beyond each profile's own). Each
    #: running segment gets an equal share; a profile's own lower rate still applies.
    max_total_rate: int = 0
    #: Told of each segment's hosts as nmap finishes them (segment name, the hosts up), from the
    #: segment's worker thread, so a caller can record them before the scan ends: a timeout, the
    #: end of the authorization, Ctrl-C or a killed process then loses none of them. Calls for
    #: different segments may overlap. Each host is told once.
    on_hosts: Callable[[str, tuple[Host, ...]], None] | None = None
    #: Find the hosts up first (``nmap -sn``: ARP with short timeouts on a segment the scanner
    #: sits on, the profile's own probes elsewhere), then port-scan only those (``-Pn``). False:
    #: one nmap run per segment doing both, as before (benchmarks compare the two).
    discover_first: bool = True
    #: Whether an address is on a link of the scanner (no gateway); default: ``ip route get``.
    on_link: Callable[[str], bool] = route_is_direct


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
    _refuse_if_no_window(profile, guard, opts, chosen, now, trail, who)
    errors: list[str] = []
    rules = list(opts.rules) if opts.rules is not None else _shipped_rules(errors)
    runner = opts.runner or ProcessNmapRunner()
    privileged = is_privileged() if opts.privileged is None else opts.privileged
    scan_dir = run_dir / SCAN_DIR
    try:
        scan_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OperationalError(f"cannot create the run folder: {e.strerror}", location=str(scan_dir)) from e

    findings: list[Finding] = []
    artifacts: list[str] = []
    hosts = skipped = failed = 0
    clock = _Clock(now)
    workers = max(1, min(opts.parallel_segments, len(chosen)))
    rate_cap = max(1, opts.max_total_rate // workers) if opts.max_total_rate else 0
    stopping = threading.Event()

    def scan_one(name: str) -> tuple[_Segment | SecauditError, bool]:
        segment = profile.segment(name)
        assert segment is not None
        if stopping.is_set():
            return _Segment(errors=["interrupted before this segment started: not scanned"]), True
        context = _Context(profile, guard, opts, runner, trail, who, scan_dir, clock, privileged, rate_cap)
        try:
            return context.scan(segment, rules, None if only is None else only[name]), False
        except SecauditError as e:
            return e, False
        except KeyboardInterrupt:
            return context.last, True

    interrupted = False
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan-segment") as pool:
        futures = [pool.submit(scan_one, name) for name in chosen]
        for i, (name, future) in enumerate(zip(chosen, futures, strict=True)):
            try:
                outcome, cut = future.result()
            except KeyboardInterrupt:  # Ctrl-C reaches the main thread: stop every nmap, keep output
                interrupted = True
                stopping.set()
                _stop_all(runner)
                outcome, cut = future.result()
            progress(ProgressEvent(task=STAGE, done=i + 1, total=len(chosen), message=name))
            interrupted = interrupted or cut
            if isinstance(outcome, SecauditError):
                failed += 1
                errors.append(f"segment {name}: {_one_line(outcome)}")
                continue
            result = outcome
            if not result.artifacts and not result.errors:
                skipped += 1
            if result.errors and (not result.artifacts or result.unusable):
                failed += 1
            findings.extend(result.findings)
            errors.extend(f"segment {name}: {m}" for m in result.errors)
            artifacts.extend(result.artifacts)
            hosts += result.hosts
            if interrupted:
                stopping.set()
                _stop_all(runner)
    progress(ProgressEvent(task=STAGE, done=len(chosen), total=len(chosen), message="done"))
    if interrupted:
        status = RunStatus.INTERRUPTED
    elif failed == len(chosen) and chosen:
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


def _stop_all(runner: NmapRunner) -> None:
    """Stop every nmap the runner has running (Ctrl-C while segments run in worker threads)."""
    stop = getattr(runner, "stop_all", None)
    if callable(stop):
        stop()


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


def _refuse_if_no_window(
    profile: Profile,
    guard: ScopeGuard,
    opts: ScanOptions,
    chosen: Sequence[str],
    now: datetime,
    trail: AuditTrail,
    who: str,
) -> None:
    """:class:`ScopeError` before any packet when every chosen segment needs a maintenance
    window and none is open (with some segments allowed, the others are refused one by one)."""
    if not chosen or guard.maintenance_window(now) is not None:
        return
    needing = [
        name
        for name in chosen
        if (seg := profile.segment(name)) is not None
        and (p := opts.profiles.get(seg.scan_profile)) is not None
        and p.needs_maintenance_window
    ]
    if len(needing) < len(chosen):
        return
    reason = (
        f"segment(s) {', '.join(needing)} use a scan profile allowed only inside a maintenance window "
        f"of authorization {profile.authorization.reference}, and none covers {now.isoformat()}"
    )
    trail.append(
        AuditEntry(
            who=who,
            when=now,
            authorization=profile.authorization.reference,
            argv=(),
            targets=tuple(needing),
            duration_s=0.0,
            result="refused",
            detail=reason,
        )
    )
    windows = profile.authorization.maintenance_windows
    upcoming = sorted(w.start for w in windows if w.start > now)
    raise ScopeError(
        reason + "; nothing was sent",
        location=profile.path,
        hint=(f"run from {upcoming[0].isoformat()} (next window)" if upcoming else "add a maintenance window")
        + ", or set the segment's scan_profile to 'standard'",
    )


def _shipped_rules(errors: list[str]) -> list[ExposureRule]:
    rules, problems = load_rules()
    errors.extend(f"exposure rules: {_one_line(p)}" for p in problems)
    return rules


def _one_line(error: SecauditError) -> str:
    text = f"{error.location}: {error.message}" if error.location else error.message
    return text + (f" (hint: {error.hint})" if error.hint else "")


class _Clock:
    """The moment of the scan: the injected start plus monotonic time elapsed since."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


@dataclass
class _Context:
    profile: Profile
    guard: ScopeGuard
    opts: ScanOptions
    runner: NmapRunner
    trail: AuditTrail
    who: str
    scan_dir: Path
    clock: _Clock
    privileged: bool
    rate_cap: int = 0  # packets per second for this segment's nmap (0: the profile's own)
    last: _Segment = field(default_factory=_Segment)  # kept when a Ctrl-C cuts scan() short

    def refuse(self, segment: Segment, targets: Sequence[str], reason: str) -> None:
        self.trail.append(
            AuditEntry(
                who=self.who,
                when=self.clock.now(),
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
        out = self.last = _Segment()
        now = self.clock.now()
        targets = [str(c) for c in segment.cidrs] if only is None else [str(a.address) for a in only]
        addresses: tuple[ScopedAddress, ...] = tuple(only or ())
        problem = self.guard.authorization_problem(now)
        if problem:  # the authorization ran out while earlier segments were scanned
            self.refuse(segment, targets, problem)
            raise ScopeError(
                f"not scanned, nothing was sent: {problem}",
                location=self.profile.path,
                hint=self.guard.authorization_hint(now),
            )
        if only is None:
            try:
                addresses = self.guard.segment_plan([segment.name], now=now).addresses
            except ScopeError as e:
                self.refuse(segment, targets, e.message)
                raise
        scan_profile = self.opts.profiles.get(segment.scan_profile)
        if scan_profile is None:
            raise ConfigError(f"unknown scan profile '{segment.scan_profile}'", location=self.profile.path)
        if self.rate_cap and (not scan_profile.max_rate or scan_profile.max_rate > self.rate_cap):
            scan_profile = scan_profile.with_timing(max_rate=self.rate_cap)
        auth = self.profile.authorization
        end, why = auth.valid_until, f"authorization {auth.reference} ends at {auth.valid_until.isoformat()}"
        window = self.guard.maintenance_window(now)
        if scan_profile.needs_maintenance_window and window is None:
            reason = (
                f"scan profile '{scan_profile.name}' is allowed only inside a maintenance window of "
                f"authorization {self.profile.authorization.reference}, "
                f"and none covers {now.isoformat()}"
            )
            self.refuse(segment, targets, reason)
            raise ScopeError(
                reason + "; nothing was sent",
                location=self.profile.path,
                hint="run in a maintenance window, or set the segment's scan_profile to 'standard'",
            )
        if scan_profile.needs_maintenance_window and window is not None and window.end < end:
            end, why = window.end, f"the maintenance window ends at {window.end.isoformat()}"
        if not addresses:
            out.errors.append("no address left to scan after exclusions")
            return out
        for version in (4, 6):
            group = [a for a in addresses if a.address.version == version]
            if group:
                self._run(segment, scan_profile, group, version, rules, out, end=end, why=why)
        return out

    def _run(
        self,
        segment: Segment,
        scan_profile: ScanProfile,
        group: list[ScopedAddress],
        version: int,
        rules: Sequence[ExposureRule],
        out: _Segment,
        *,
        end: datetime,
        why: str,
    ) -> None:
        stem = segment.name + ("-v6" if version == 6 else "")
        targets_file = self.scan_dir / f"{stem}.targets"
        addresses = [str(a.address) for a in group]
        exclusions = [str(n) for n in segment.exclusions if n.version == version]
        exclude_file = self.scan_dir / f"{stem}.exclude" if exclusions else None
        _write_lines(targets_file, addresses)
        if exclude_file is not None:
            _write_lines(exclude_file, exclusions)
        if self.opts.discover_first:
            local = version == 4 and self.opts.on_link(addresses[0])
            ping = build_discovery_args(
                scan_profile,
                targets_file=targets_file,
                exclude_file=exclude_file,
                ipv6=version == 6,
                privileged=self.privileged,
                local=local,
            )
            found = self._invoke(
                segment, ping.args, addresses, self.scan_dir / f"{stem}.discovery.xml", out, end=end, why=why
            )
            if found is None:
                return  # stopped, refused or failed: said in the errors and the trail
            wanted = set(addresses)
            addresses = [h.ip for h in found.up_hosts() if h.ip in wanted]
            if not addresses:
                return  # no host up: nothing to port-scan
            targets_file = self.scan_dir / f"{stem}.up"
            _write_lines(targets_file, addresses)
        plan = build_args(
            scan_profile,
            targets_file=targets_file,
            exclude_file=exclude_file,
            ipv6=version == 6,
            privileged=self.privileged,
            discovered=self.opts.discover_first,
        )
        out.errors.extend(plan.notes)
        started_at = self.clock.now()
        xml_path = self.scan_dir / f"{stem}.xml"
        stream = _Stream(segment.name, xml_path, self.opts.on_hosts, out)
        run = self._invoke(segment, plan.args, addresses, xml_path, out, end=end, why=why, stream=stream)
        if run is not None:
            out.hosts += len(run.up_hosts())
            stream.tell(run)
            out.findings.extend(findings_for(run, self.profile, rules, observed_at=started_at))

    def _invoke(
        self,
        segment: Segment,
        args: Sequence[str],
        addresses: list[str],
        xml_path: Path,
        out: _Segment,
        *,
        end: datetime,
        why: str,
        stream: _Stream | None = None,
    ) -> NmapRun | None:
        """Run nmap once, within the authorization; keep its XML and record it in the trail.
        ``stream``: the port scan (its XML is an artifact, its hosts are told as they come);
        without it, host discovery. The parsed run, or None when nothing usable came back."""
        started_at = self.clock.now()
        left = (end - started_at).total_seconds() - self.opts.stop_margin_s
        cut = left < self.opts.timeout_s  # the authorization, not the timeout, bounds this run
        if left <= 0:
            reason = f"not scanned, nothing was sent: {why}"
            self.refuse(segment, addresses, reason)
            out.errors.append(reason)
            out.unusable = True
            return None
        try:
            output = self.runner.run(
                args,
                timeout_s=min(left, self.opts.timeout_s),
                on_output=stream.partial if stream is not None else None,
            )
        except KeyboardInterrupt:
            out.errors.append("interrupted (Ctrl-C or SIGTERM) before nmap returned its output")
            raise
        what = "host discovery" if stream is None else "port scan"
        if output.stopped and not output.interrupted and cut:
            kept = "hosts finished before the stop are kept" if stream else "no port was scanned"
            output = replace(
                output,
                error=f"{what} stopped at {self.clock.now().isoformat(timespec='seconds')}, before the "
                f"end of the authorization: {why}; {kept}",
            )
        if output.xml:
            try:
                xml_path.write_bytes(output.xml)
            except OSError as e:
                message = f"cannot keep nmap's output: {e.strerror}"
                raise OperationalError(message, location=str(xml_path)) from e
            if stream is not None and str(xml_path) not in out.artifacts:
                out.artifacts.append(str(xml_path))
        result = "completed"
        detail = output.error
        run: NmapRun | None = None
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
        else:
            result = "failed"
        if output.error:
            out.errors.append(output.error)
            result = "failed" if result != "partial" else result
        if output.stopped and output.xml and result != "failed":
            result = "partial"
        if output.interrupted:
            result = "interrupted"
        if stream is None and run is not None:
            detail = f"host discovery: {len(run.up_hosts())} of {len(addresses)} addresses up" + (
                f"; {detail}" if detail else ""
            )
        self.trail.append(
            AuditEntry(
                who=self.who,
                when=started_at,
                authorization=self.profile.authorization.reference,
                argv=output.argv,
                targets=tuple(addresses),
                duration_s=output.duration_s,
                result=result,
                segment=segment.name,
                detail="; ".join(x for x in (output.error or detail, *output.stderr_lines) if x)[:2000],
            )
        )
        if output.interrupted:
            raise KeyboardInterrupt
        if stream is None and (output.stopped or output.error or (run is not None and run.error)):
            return None  # a cut or failed discovery: no port scan of a partial host list
        return run


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as e:
        raise OperationalError(f"cannot write scan inputs: {e.strerror}", location=str(path)) from e


class _Stream:
    """Keeps what a running nmap has finished: its XML so far in the run folder, and its new
    hosts told to ``on_hosts``. nmap writes each host group whole when it is done, so the
    complete ``<host>`` elements of the output so far are final."""

    def __init__(
        self,
        segment: str,
        xml_path: Path,
        on_hosts: Callable[[str, tuple[Host, ...]], None] | None,
        out: _Segment,
    ) -> None:
        self.segment = segment
        self.xml_path = xml_path
        self.on_hosts = on_hosts
        self.out = out
        self.told: set[str] = set()
        self.closed_hosts = 0
        self.failed: set[str] = set()  # what went wrong once (told once, not per host group)

    def partial(self, xml: bytes) -> None:
        closed = xml.count(b"</host>")
        if closed == self.closed_hosts:
            return
        self.closed_hosts = closed
        try:
            self.xml_path.write_bytes(xml)
        except OSError as e:
            self._fail("write", f"cannot keep nmap's output so far: {e.strerror}")
        else:
            if str(self.xml_path) not in self.out.artifacts:
                self.out.artifacts.append(str(self.xml_path))
        try:
            run = parse_nmap_xml(xml, source=str(self.xml_path))
        except OperationalError:
            return  # nothing whole yet; the final output is parsed again
        self.tell(run)

    def tell(self, run: NmapRun) -> None:
        """Hand the hosts of ``run`` not yet told to ``on_hosts``."""
        if self.on_hosts is None or "record" in self.failed:
            return
        new = tuple(h for h in run.up_hosts() if h.ip and h.ip not in self.told)
        if not new:
            return
        try:
            self.on_hosts(self.segment, new)
        except SecauditError as e:
            self._fail("record", f"hosts not recorded as they were scanned: {_one_line(e)}")
            return
        self.told.update(h.ip for h in new)

    def _fail(self, what: str, message: str) -> None:
        if what not in self.failed:
            self.out.errors.append(message)
        self.failed.add(what)
