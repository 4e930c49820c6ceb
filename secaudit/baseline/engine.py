"""Evaluate checks against a target: run probes, judge observations, compose all/any/none, score.

Nothing here raises for a bad check or an unreadable file: each becomes a result with status
ERROR (or NOT APPLICABLE with the reason) and the run goes on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from secaudit.baseline.model import (
    Baseline,
    BaselineRun,
    Check,
    CheckResult,
    CheckStatus,
    Condition,
    Expectation,
    Observation,
)
from secaudit.baseline.probes import REGISTRY
from secaudit.baseline.target import NotApplicable, ProbeError, Target

MAX_EVIDENCE = 50
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_TOKENS = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: CheckStatus
    evidence: tuple[Observation, ...] = ()
    reason: str = ""


def _fold(text: str, exp: Expectation) -> str:
    return text if exp.case_sensitive else text.casefold()


def _problem(exp: Expectation, obs: Observation) -> str | None:
    """Why one observed value breaks the expectation, or None when it meets it."""
    value = obs.value
    assert value is not None
    v = _fold(value, exp)
    flags = 0 if exp.case_sensitive else re.IGNORECASE
    if exp.equals is not None and v != _fold(exp.equals, exp):
        return f"is '{value}', expected '{exp.equals}'"
    if exp.one_of and v not in {_fold(x, exp) for x in exp.one_of}:
        return f"is '{value}', expected one of {', '.join(exp.one_of)}"
    if exp.none_of and v in {_fold(x, exp) for x in exp.none_of}:
        return f"is '{value}', which is not allowed"
    if exp.matches is not None and not re.search(exp.matches, value, flags):
        return f"'{value}' does not match /{exp.matches}/"
    if exp.not_matches is not None and re.search(exp.not_matches, value, flags):
        return f"'{value}' matches /{exp.not_matches}/"
    if exp.lte is not None or exp.gte is not None:
        m = _NUMBER.search(value)
        if not m:
            return f"'{value}' is not a number"
        n = float(m.group(0))
        if exp.lte is not None and n > exp.lte:
            return f"{m.group(0)} is more than {exp.lte:g}"
        if exp.gte is not None and n < exp.gte:
            return f"{m.group(0)} is less than {exp.gte:g}"
    if exp.has_all or exp.has_none:
        tokens = {_fold(t, exp) for t in _TOKENS.split(value) if t}
        lacking = [t for t in exp.has_all if _fold(t, exp) not in tokens]
        if lacking:
            return f"'{value}' lacks {', '.join(lacking)}"
        banned = [t for t in exp.has_none if _fold(t, exp) in tokens]
        if banned:
            return f"'{value}' includes {', '.join(banned)}"
    if exp.mode_at_most is not None:
        try:
            mode = int(value, 8)
        except ValueError:
            return f"'{value}' is not a file mode"
        extra = mode & ~exp.mode_at_most & 0o7777
        if extra:
            return f"mode {mode:04o} is more permissive than {exp.mode_at_most:04o}"
    if exp.owner and obs.attr("owner") not in exp.owner and obs.attr("uid") not in exp.owner:
        return f"owner is {obs.attr('owner')}, expected {'/'.join(exp.owner)}"
    if exp.group and obs.attr("group") not in exp.group and obs.attr("gid") not in exp.group:
        return f"group is {obs.attr('group')}, expected {'/'.join(exp.group)}"
    return None


def _has_value_test(exp: Expectation) -> bool:
    return any(
        (
            exp.equals is not None,
            exp.one_of,
            exp.none_of,
            exp.matches is not None,
            exp.not_matches is not None,
            exp.lte is not None,
            exp.gte is not None,
            exp.has_all,
            exp.has_none,
            exp.mode_at_most is not None,
            exp.owner,
            exp.group,
        )
    )


def judge(exp: Expectation, observations: list[Observation]) -> _Outcome:
    """Judge a probe's observations against an expectation."""
    found = [o for o in observations if o.value is not None]
    unset = [o for o in observations if o.value is None]
    failing: list[tuple[Observation, str]] = []
    if exp.present is True and (not found or unset):
        if not found and not unset:
            return _Outcome(CheckStatus.FAIL, (), "not present")
        failing.extend((o, "not present") for o in unset)
    if exp.present is False:
        failing.extend((o, "present") for o in found)
    if _has_value_test(exp):
        if not observations or unset:
            if exp.missing is CheckStatus.FAIL:
                if not observations:
                    return _Outcome(CheckStatus.FAIL, (), "not set anywhere")
                failing.extend((o, "not set") for o in unset if (o, "not present") not in failing)
            elif exp.missing is CheckStatus.NOT_APPLICABLE and not found:
                return _Outcome(
                    CheckStatus.NOT_APPLICABLE, tuple(unset), "nothing to check: not set or not found"
                )
        for o in found:
            problem = _problem(exp, o)
            if problem:
                failing.append((o, problem))
    if failing:
        reason = "; ".join(_say(o, why) for o, why in failing)
        return _Outcome(CheckStatus.FAIL, tuple(o for o, _ in failing)[:MAX_EVIDENCE], reason)
    return _Outcome(CheckStatus.PASS, tuple(observations)[:MAX_EVIDENCE])


def _leaf(cond: Condition, target: Target) -> _Outcome:
    assert cond.probe is not None and cond.expect is not None
    spec = REGISTRY[cond.probe.type]
    if target.kind not in spec.targets:
        return _Outcome(
            CheckStatus.NOT_APPLICABLE,
            reason=f"probe {spec.name} reads {'/'.join(spec.targets)} targets, not {target.kind}",
        )
    try:
        observations = spec.run(target, cond.probe.params)
    except NotApplicable as e:
        return _Outcome(CheckStatus.NOT_APPLICABLE, reason=str(e))
    except ProbeError as e:
        return _Outcome(CheckStatus.ERROR, reason=str(e))
    except Exception as e:  # a probe bug must not end the run: it becomes a visible ERROR result
        return _Outcome(CheckStatus.ERROR, reason=f"probe {spec.name} failed: {type(e).__name__}: {e}")
    return judge(cond.expect, observations)


def evaluate(cond: Condition, target: Target) -> _Outcome:
    """all: fails if any fails; any: passes if any passes; none: passes if none passes.

    Errors win over not-applicable, and a decided child wins over both where the logic allows.
    """
    if cond.op == "probe":
        return _leaf(cond, target)
    outs = [evaluate(c, target) for c in cond.children]
    by = {s: [o for o in outs if o.status is s] for s in CheckStatus}
    evidence = tuple(e for o in outs for e in o.evidence)[:MAX_EVIDENCE]

    def why(items: Iterable[_Outcome]) -> str:
        return "; ".join(o.reason for o in items if o.reason)

    fail, ok = by[CheckStatus.FAIL], by[CheckStatus.PASS]
    err, na = by[CheckStatus.ERROR], by[CheckStatus.NOT_APPLICABLE]
    if cond.op == "all":
        if fail:
            return _Outcome(
                CheckStatus.FAIL, tuple(e for o in fail for e in o.evidence)[:MAX_EVIDENCE], why(fail)
            )
        if err:
            return _Outcome(CheckStatus.ERROR, evidence, why(err))
        if na:
            return _Outcome(CheckStatus.NOT_APPLICABLE, evidence, why(na))
        return _Outcome(CheckStatus.PASS, evidence)
    if cond.op == "any":
        if ok:
            return _Outcome(CheckStatus.PASS, tuple(e for o in ok for e in o.evidence)[:MAX_EVIDENCE])
        if err:
            return _Outcome(CheckStatus.ERROR, evidence, why(err))
        if not fail:
            return _Outcome(CheckStatus.NOT_APPLICABLE, evidence, why(na))
        return _Outcome(CheckStatus.FAIL, evidence, "none of the alternatives holds: " + why(fail))
    # none
    if ok:
        hit = tuple(e for o in ok for e in o.evidence)[:MAX_EVIDENCE]
        found = "; ".join(_say(e, "found") for e in hit) or "; ".join(
            c.describe() for c, o in zip(cond.children, outs, strict=True) if o.status is CheckStatus.PASS
        )
        return _Outcome(CheckStatus.FAIL, hit, f"forbidden: {found}")
    if err:
        return _Outcome(CheckStatus.ERROR, evidence, why(err))
    if not fail:
        return _Outcome(CheckStatus.NOT_APPLICABLE, evidence, why(na))
    return _Outcome(CheckStatus.PASS, evidence)


def run_check(check: Check, target: Target) -> CheckResult:
    if target.kind not in check.targets:
        return CheckResult(
            check=check,
            status=CheckStatus.NOT_APPLICABLE,
            reason=f"runs on {', '.join(check.targets)} targets; this is a {target.kind} target",
        )
    if check.applies_if is not None:
        gate = evaluate(check.applies_if, target)
        if gate.status is CheckStatus.ERROR:
            return CheckResult(check=check, status=CheckStatus.ERROR, reason=gate.reason)
        if gate.status is not CheckStatus.PASS:
            reason = gate.reason or check.applies_if.describe()
            return CheckResult(
                check=check, status=CheckStatus.NOT_APPLICABLE, reason=f"does not apply: {reason}"
            )
    out = evaluate(check.condition, target)
    return CheckResult(check=check, status=out.status, evidence=out.evidence, reason=out.reason)


def run_baseline(
    baseline: Baseline,
    target: Target,
    *,
    on_check: Callable[[CheckResult], None] | None = None,
) -> BaselineRun:
    """Every check of ``baseline`` against ``target``, in baseline order."""
    started = time.perf_counter()
    results = []
    for check in baseline.checks:
        result = run_check(check, target)
        results.append(result)
        if on_check is not None:
            on_check(result)
    return BaselineRun(
        baseline=baseline,
        target=target.label,
        results=tuple(results),
        seconds=time.perf_counter() - started,
        incomplete="; ".join(target.notices),
    )


def _say(o: Observation, why: str) -> str:
    note = f" [{o.note}]" if o.note else ""
    where = f" ({o.location})" if o.location else ""
    return f"{o.subject}: {why}{note}{where}"
