"""The audit's baseline stage: every profile baseline target, every failed check a Finding."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from secaudit.baseline.engine import run_baseline
from secaudit.baseline.loader import load_baseline
from secaudit.baseline.model import Baseline, BaselineRun, CheckResult, CheckStatus
from secaudit.baseline.results import RESULTS_SCHEMA, run_to_dict
from secaudit.baseline.target import Target, open_target
from secaudit.baseline.waivers import WaiverSet, apply_waivers, unused_waivers
from secaudit.core.errors import ScopeError, SecauditError
from secaudit.core.model import (
    Asset,
    BaselineTally,
    CheckedItem,
    CheckOutcome,
    Evidence,
    Finding,
    LocalText,
    RunStatus,
    Source,
    StageOutput,
    StageResult,
    WaivedFinding,
)
from secaudit.core.profile import BaselineTarget, Profile
from secaudit.core.report import ProgressCallback, ProgressEvent
from secaudit.scope import AuditEntry, AuditTrail, ScopeGuard, current_user

RESULTS_FILE = "baseline-results.json"
AUDIT_FILE = "baseline-audit.jsonl"  # one line per ssh connection attempt, refused ones included
STAGE = "baseline"


def target_asset(profile: Profile, entry: BaselineTarget) -> Asset:
    """The inventory asset a target belongs to, else an asset keyed by the target string."""
    inv = profile.asset(entry.asset) if entry.asset else None
    if inv is None:
        return Asset(key=entry.target, hostname=entry.asset or entry.target)
    return profile.inventory_asset(inv, hostname=inv.name)


def result_finding(result: CheckResult, run: BaselineRun, asset: Asset, now: datetime) -> Finding:
    """A failed check as a Finding; ``evidence_key`` is the check's subject, so the identity is stable."""
    check = result.check
    attrs = (("baseline", run.baseline.id), ("expected", result.expectation), ("target", run.target))
    evidence = tuple(
        Evidence(
            kind="config",
            summary=f"{o.subject} = {o.value if o.value is not None else '(not set)'}"
            + (f" [{o.note}]" if o.note else ""),
            location=o.location,
            excerpt=o.value or "",
            attributes=attrs,
        )
        for o in result.evidence
    ) or (
        Evidence(
            kind="config",
            summary=result.reason,
            attributes=attrs,
        ),
    )
    expired = expired_th = ""
    if result.waiver is not None and result.waiver_expired:
        w = result.waiver
        expired = f" The waiver at {w.location} expired on {w.expires.date().isoformat()}."
        expired_th = f" การยกเว้นที่ {w.location} หมดอายุแล้วเมื่อ {w.expires.date().isoformat()}"
    texts = tuple(
        LocalText(
            lang=t.lang,
            title=f"ไม่ผ่าน: {t.title}",
            description=f"{t.description} สิ่งที่พบ: {result.reason}{expired_th}",
            remediation=t.remediation,
        )
        for t in check.texts
    )
    return Finding(
        rule_id=check.id,
        source=Source.BASELINE,
        severity=check.severity,
        title=f"Not met: {check.title}",  # check titles state the wanted setting
        asset=asset,
        description=f"{check.rationale} Observed: {result.reason}{expired}",
        remediation=check.remediation,
        evidence_key=check.subject,
        evidence=evidence,
        references=check.references,
        observed_at=now,
        producer=f"baseline:{run.baseline.id}",
        texts=texts,
    )


def waived_finding(result: CheckResult, run: BaselineRun, asset: Asset, now: datetime) -> WaivedFinding:
    """A waived failure as the report lists it: the finding, with the waiver that covers it."""
    w = result.waiver
    assert w is not None
    return WaivedFinding(
        finding=result_finding(result, run, asset, now),
        kind=w.kind,
        justification=w.justification,
        approved_by=w.approver,
        expires=w.expires,
        source=w.location,
    )


def checked_item(result: CheckResult, run: BaselineRun, asset: Asset, now: datetime) -> CheckedItem:
    """A passed or not-applicable check as the report lists it: the check on its asset with the
    evidence it saw (the same evidence a failure would carry), never counted as a finding."""
    passed = result.status is CheckStatus.PASS
    word, word_th = ("Met", "ผ่าน") if passed else ("Not applicable", "ไม่เกี่ยวข้อง")
    check = result.check
    base = result_finding(result, run, asset, now)
    texts = tuple(
        LocalText(
            lang=t.lang,
            title=f"{word_th}: {t.title}",
            description=f"{t.description} สิ่งที่พบ: {result.reason}",
            remediation=t.remediation,
        )
        for t in check.texts
    )
    return CheckedItem(
        finding=replace(
            base,
            title=f"{word}: {check.title}",
            description=f"{check.rationale} Observed: {result.reason}",
            texts=texts,
        ),
        outcome=CheckOutcome.PASSED if passed else CheckOutcome.NOT_APPLICABLE,
        baseline=run.baseline.id,
        reason=result.reason,
    )


def tally(run: BaselineRun, asset: Asset, target: str) -> BaselineTally:
    """Pass / fail / n/a / waived / error counts of one baseline run on one asset."""
    counts = {status: 0 for status in CheckStatus}
    for result in run.results:
        counts[result.status] += 1
    return BaselineTally(
        asset=asset.key,
        baseline=run.baseline.id,
        target=target,
        passed=counts[CheckStatus.PASS],
        failed=counts[CheckStatus.FAIL],
        not_applicable=counts[CheckStatus.NOT_APPLICABLE],
        waived=counts[CheckStatus.WAIVED],
        errors=counts[CheckStatus.ERROR],
    )


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def run_baseline_stage(
    profile: Profile,
    *,
    run_dir: Path,
    now: datetime,
    progress: ProgressCallback,
    waivers: WaiverSet | None = None,
) -> StageOutput:
    """Run every ``profile.baseline_targets`` entry; failed checks become findings.

    With ``waivers``, failed checks a valid waiver covers go to ``StageOutput.waived`` instead;
    an expired waiver leaves the finding open and says so in its description.

    Relative target paths are taken against the profile's folder. A target that cannot be opened
    or a baseline that cannot be loaded is an error of that target; checks that end in ERROR are
    listed too; the other targets still run. All results (every status) go to
    ``run_dir/baseline-results.json``.
    """
    started = time.perf_counter()
    base = Path(profile.path).resolve().parent if profile.path else Path.cwd()
    baselines: dict[str, Baseline] = {}
    findings: list[Finding] = []
    waived: list[WaivedFinding] = []
    checked: list[CheckedItem] = []
    tallies: list[BaselineTally] = []
    done_runs: list[BaselineRun] = []
    errors: list[str] = []
    runs: list[dict[str, Any]] = []
    items = sum(len(t.baselines) for t in profile.baseline_targets)
    opened: list[Target] = []
    guard = ScopeGuard(profile)
    trail = AuditTrail(run_dir / AUDIT_FILE)
    who = current_user()
    approved: list[tuple[str, str]] = []  # (address, segment) an ssh target was let through to

    def record(spec: str, address: str, segment: str, seconds: float, result: str, detail: str) -> None:
        trail.append(
            AuditEntry(
                who=who,
                when=now,
                authorization=profile.authorization.reference,
                argv=("ssh", spec.split("?", 1)[0]),
                targets=(address,),
                duration_s=seconds,
                result=result,
                segment=segment,
                detail=detail,
            )
        )

    def scope(address: str) -> None:
        """An ssh target's address must lie in an authorized segment, like any scanned host."""
        verdict = guard.check(address, now=now)
        if verdict.allowed:
            approved.append((address, verdict.addresses[0].segment if verdict.addresses else ""))
        else:
            record(current, address, "", 0.0, "refused", verdict.explain())
            raise ScopeError(
                f"not connecting: {verdict.explain()}",
                location=profile.path,
                hint="add the host's network to an authorized segment, or remove this baseline target",
            )

    done = 0
    failed_targets = 0
    current = ""
    for entry in profile.baseline_targets:
        progress(ProgressEvent(task=STAGE, done=done, total=items, message=entry.target))
        current, began = entry.target, time.perf_counter()
        approved.clear()
        try:
            target = open_target(entry.target, base=base, scope=scope)
        except SecauditError as e:
            for address, segment in approved:  # let through, but the connection failed
                record(entry.target, address, segment, time.perf_counter() - began, "failed", str(e))
            errors.append(f"{entry.target}: {e}")
            failed_targets += 1
            done += len(entry.baselines)
            continue
        opened.append(target)
        asset = target_asset(profile, entry)
        for bid in entry.baselines:
            done += 1
            try:
                baseline = baselines.get(bid) or load_baseline(bid).at_level(1)  # CIS Level 1 server
            except SecauditError as e:
                errors.append(f"{entry.target}: baseline {bid}: {e}")
                continue
            baselines[bid] = baseline
            run = run_baseline(baseline, target)
            if waivers is not None:
                run = apply_waivers(run, waivers, now=now, names=(entry.target,), asset=entry.asset)
                done_runs.append(run)
            data = run_to_dict(run)
            data["asset"] = asset.key
            data["target_spec"] = entry.target
            runs.append(data)
            tallies.append(tally(run, asset, entry.target))
            for result in run.results:
                if result.status in (CheckStatus.PASS, CheckStatus.NOT_APPLICABLE):
                    checked.append(checked_item(result, run, asset, now))
                elif result.status is CheckStatus.FAIL:
                    findings.append(result_finding(result, run, asset, now))
                elif result.status is CheckStatus.WAIVED:
                    waived.append(waived_finding(result, run, asset, now))
                elif result.status is CheckStatus.ERROR:
                    errors.append(f"{entry.target}: {result.check.id}: {result.reason}")
            progress(ProgressEvent(task=STAGE, done=done, total=items, message=entry.target))
        for address, segment in approved:
            detail = f"baselines {', '.join(entry.baselines)}"
            record(entry.target, address, segment, time.perf_counter() - began, "completed", detail)
    for target in opened:
        target.close()  # ssh connections
    notes = unused_waivers(waivers, done_runs) if waivers is not None else []
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(
        run_dir / RESULTS_FILE,
        {
            "schema": RESULTS_SCHEMA,
            "generated_at": now.isoformat(),
            "runs": runs,
            "errors": errors,
            "unused_waivers": notes,
        },
    )
    if profile.baseline_targets and failed_targets == len(profile.baseline_targets):
        status = RunStatus.FAILED
    else:
        status = RunStatus.INCOMPLETE if errors else RunStatus.COMPLETED
    return StageOutput(
        findings=tuple(findings),
        result=StageResult(
            name=STAGE,
            status=status,
            findings=len(findings),
            items=len(profile.baseline_targets),
            skipped=failed_targets,
            errors=tuple(errors),
            seconds=round(time.perf_counter() - started, 3),
        ),
        artifacts=(RESULTS_FILE, AUDIT_FILE) if trail.path.exists() else (RESULTS_FILE,),
        waived=tuple(waived),
        checked=tuple(checked),
        tallies=tuple(tallies),
    )
