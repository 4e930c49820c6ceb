"""Compiled files joined into one rule set: locations, meta filters, correlations and their base rules.

Runs on a cold or partly warm load only (the assembled set is cached whole). Meta filters are AND-ed
onto the rules they target; correlation rules are resolved against the loaded rules (by id or name),
their base rules marked ``emit=False`` unless a correlation says ``generate: true``, and compiled by
``secaudit.detect.correlate`` into picklable plans, themselves cached by the content of every file
they depend on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from secaudit.detect import correlate
from secaudit.detect.documents import split_documents
from secaudit.detect.ir import gate
from secaudit.detect.model import RuleInfo, RuleProblem, UnsupportedRule
from secaudit.detect.plans import Assembled, FilterPlan, RuleCache, RulePlan, digest


@dataclass(slots=True)
class _Corr:
    path: str
    digest: str
    line: int
    index: int
    doc: dict[str, Any]
    info: RuleInfo
    refs: list[str]
    generate: bool


def _refs(doc: Mapping[str, Any]) -> list[str]:
    body = doc.get("correlation")
    rules = body.get("rules") if isinstance(body, Mapping) else None
    if isinstance(rules, str):
        return [rules]
    if isinstance(rules, list):
        return [str(r) for r in rules]
    return []


def _applies(flt: FilterPlan, plan: RulePlan) -> bool:
    info = plan.info
    for want, have in (
        (flt.product, info.product),
        (flt.category, info.category),
        (flt.service, info.service),
    ):
        if want is not None and want != have:
            return False
    return flt.targets is None or info.id in flt.targets or (bool(plan.name) and plan.name in flt.targets)


def assemble(entries: Sequence[tuple[str, str, list[tuple[Any, ...]]]], cache: RuleCache) -> Assembled:
    """One rule set from compiled files given as (path, content digest, entries)."""
    plans: list[RulePlan] = []
    origin: list[tuple[str, str, int]] = []  # (path, digest, document index) per plan
    filters: list[tuple[str, FilterPlan]] = []
    corrs: list[_Corr] = []
    problems: list[RuleProblem] = []
    for path, file_digest, entry in entries:
        for item in entry:
            kind, line = item[0], item[1]
            location = f"{path}:{line}"
            if kind == "rule":
                plan = item[3]
                plans.append(replace(plan, info=replace(plan.info, location=location)))
                origin.append((path, file_digest, item[2]))
            elif kind == "filter":
                filters.append((location, item[2]))
            elif kind == "correlation":
                doc = item[3]
                body = doc.get("correlation") if isinstance(doc, Mapping) else None
                generate = bool(body.get("generate", False)) if isinstance(body, Mapping) else False
                info = replace(item[4], location=location)
                corrs.append(_Corr(path, file_digest, line, item[2], doc, info, _refs(doc), generate))
            else:
                problems.append(
                    RuleProblem(
                        location=location,
                        reason=item[2],
                        rule_id=item[3],
                        title=item[4],
                        level=item[5],
                        skipped=item[6],
                    )
                )

    for location, flt in filters:
        hit = False
        for i, plan in enumerate(plans):
            if _applies(flt, plan):
                node = ("and", (plan.node, ("sel", f"filter:{flt.id or flt.title}", flt.node)))
                plans[i] = replace(plan, node=node, gate=gate(node))
                hit = True
        if not hit:
            problems.append(
                RuleProblem(
                    location=location,
                    reason="meta filter targets no loaded rule",
                    rule_id=flt.id,
                    title=flt.title,
                    skipped=False,  # no detection is lost: the filter only narrows nothing
                )
            )

    correlations, corr_infos, needed_by = _correlations(plans, origin, corrs, cache, problems)
    return Assembled(
        plans=tuple(plans),
        correlations=tuple(correlations),
        correlation_rules=tuple(corr_infos),
        needed_by=tuple(tuple(sorted(n)) for n in needed_by),
        problems=tuple(problems),
    )


def _correlations(
    plans: list[RulePlan],
    origin: list[tuple[str, str, int]],
    corrs: list[_Corr],
    cache: RuleCache,
    problems: list[RuleProblem],
) -> tuple[list[Any], list[RuleInfo], list[set[int]]]:
    needed_by: list[set[int]] = [set() for _ in plans]
    if not corrs:
        return [], [], needed_by
    by_key: dict[str, tuple[str, int]] = {}
    for i, plan in enumerate(plans):
        for key in (plan.info.id, plan.name):
            if key:
                by_key.setdefault(key, ("rule", i))
    for i, corr in enumerate(corrs):
        name = corr.doc.get("name") if isinstance(corr.doc, Mapping) else None
        for key in (corr.info.id, str(name) if name else ""):
            if key:
                by_key.setdefault(key, ("corr", i))

    def closure(i: int, seen: set[int]) -> tuple[set[int], set[int], list[str]]:
        """Base rules, correlations and missing references reachable from correlation i."""
        rules: set[int] = set()
        chained: set[int] = set()
        missing: list[str] = []
        for ref in corrs[i].refs:
            target = by_key.get(ref)
            if target is None:
                missing.append(ref)
            elif target[0] == "rule":
                rules.add(target[1])
            elif target[1] not in seen:
                chained.add(target[1])
                sub_rules, sub_chained, sub_missing = closure(target[1], seen | {target[1]})
                rules |= sub_rules
                chained |= sub_chained
                missing += sub_missing
        return rules, chained, missing

    emit_base = [False] * len(plans)
    referenced = [False] * len(plans)
    corr_emit = [True] * len(corrs)
    for corr in corrs:
        for ref in corr.refs:
            target = by_key.get(ref)
            if target is None:
                continue
            if target[0] == "rule":
                referenced[target[1]] = True
                emit_base[target[1]] |= corr.generate
            elif not corr.generate:
                corr_emit[target[1]] = False
    for i, plan in enumerate(plans):
        if referenced[i] and not emit_base[i] and plan.info.emit:
            plans[i] = replace(plan, info=replace(plan.info, emit=False))

    out: list[Any] = []
    infos: list[RuleInfo] = []
    for i, corr in enumerate(corrs):
        info = replace(corr.info, emit=corr_emit[i])
        location = info.location
        rules, chained, missing = closure(i, {i})
        if missing:
            problems.append(_problem(info, f"correlation references unknown rule(s): {', '.join(missing)}"))
            continue
        deps = sorted({origin[r][1] for r in rules} | {corrs[c].digest for c in chained})
        key = digest(corr.digest.encode(), str(corr.index).encode(), *(d.encode() for d in deps))
        cached = cache.get("correlations", key)
        if isinstance(cached, tuple) and len(cached) == 2 and cached[0] in ("plan", "problem"):
            outcome = cached
        else:
            outcome = _compile(corr, info, location, rules, chained, plans, origin, corrs)
            cache.put("correlations", key, outcome)
        if outcome[0] == "problem":
            problems.append(_problem(info, outcome[1]))
            continue
        index = len(out)
        out.append(outcome[1])
        infos.append(info)
        for r in rules:
            needed_by[r].add(index)
    return out, infos, needed_by


def _problem(info: RuleInfo, reason: str) -> RuleProblem:
    return RuleProblem(
        location=info.location, reason=reason, rule_id=info.id, title=info.title, level=info.level
    )


def _compile(
    corr: _Corr,
    info: RuleInfo,
    location: str,
    rules: set[int],
    chained: set[int],
    plans: list[RulePlan],
    origin: list[tuple[str, str, int]],
    corrs: list[_Corr],
) -> tuple[str, Any]:
    docs: dict[str, list[tuple[int, Any]]] = {}

    def document(path: str, index: int) -> Any:
        if path not in docs:
            docs[path] = split_documents(Path(path).read_text(encoding="utf-8"))
        return docs[path][index][1]

    try:
        objects: list[Any] = [SigmaRule.from_dict(document(*origin[r][::2])) for r in sorted(rules)]
        objects += [SigmaCorrelationRule.from_dict(corrs[c].doc) for c in sorted(chained)]
        mine = SigmaCorrelationRule.from_dict(corr.doc)
        SigmaCollection([*objects, mine])
        return ("plan", correlate.compile_correlation(mine, info, location=location))
    except UnsupportedRule as e:
        return ("problem", f"unsupported: {e.reason}")
    except Exception as e:  # pySigma's reference errors and anything a malformed rule provokes
        return ("problem", f"{type(e).__name__}: {e}")
