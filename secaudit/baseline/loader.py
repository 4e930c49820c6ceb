"""Read and validate baseline files (``baselines/*.yaml``); every error names file:line.

A baseline::

    id: openssh-server
    title: OpenSSH server
    version: "1.0"
    applies_to: OpenSSH 8.4-9.x on Debian and Ubuntu
    include: [other-baseline]          # optional: its checks are part of this one
    checks:
      - id: ssh-permit-root-login      # stable; never reused for a different meaning
        title: ...                     # our own words
        rationale: ...
        section: "5.1 SSH server"
        severity: high
        references: {cis: [...], nist: [...], iso27001: [...], cis-controls: [...]}
        probe: {type: sshd_setting, setting: permitrootlogin}
        expect: {equals: "no"}         # or all:/any:/none: lists of {probe, expect} nodes
        applies_if: {probe: ..., expect: ...}   # optional: otherwise not applicable
        profiles: [l1_server, l1_workstation]   # CIS profiles; must match the cited recommendation
        targets: [offline, file]       # optional: narrows what the probes support
        remediation: ...
        th: {title: ..., rationale: ..., remediation: ...}   # the same in Thai (optional; see
                                       # secaudit.catalog.localtext)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from secaudit.baseline.benchmarks import PREFIXES, PROFILES, benchmark, profiles_of
from secaudit.baseline.model import (
    TARGET_KINDS,
    Baseline,
    Check,
    CheckStatus,
    Condition,
    Expectation,
    ProbeCall,
)
from secaudit.baseline.probes import REGISTRY, ProbeSpec
from secaudit.catalog.localtext import CHECK_KEYS as THAI_KEYS
from secaudit.catalog.localtext import read_thai
from secaudit.catalog.yamlload import check_keys, load_yaml, located, suggest
from secaudit.core.errors import ConfigError
from secaudit.core.model import Reference, RefKind, Severity

ID_RX = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)+$")
BASELINE_KEYS = {"id", "title", "version", "applies_to", "description", "include", "checks", "benchmark"}
CHECK_KEYS = {
    "id",
    "title",
    "rationale",
    "section",
    "severity",
    "references",
    "probe",
    "expect",
    "all",
    "any",
    "none",
    "applies_if",
    "targets",
    "remediation",
    "subject",
    "profiles",
    "th",
}
EXPECT_KEYS = {
    "present",
    "equals",
    "one_of",
    "none_of",
    "matches",
    "not_matches",
    "lte",
    "gte",
    "has_all",
    "has_none",
    "mode_at_most",
    "owner",
    "group",
    "missing",
    "case_sensitive",
}
REF_KINDS = {"cis": RefKind.CIS, "nist": RefKind.NIST, "iso27001": RefKind.ISO27001}
REF_KINDS["cis-controls"] = RefKind.CIS_CONTROLS
REF_KINDS["cwe"] = RefKind.CWE
REF_KINDS["url"] = RefKind.URL
REF_KINDS["nist-csf"] = RefKind.NIST_CSF
REF_KINDS["th-cii"] = RefKind.TH_CII


def default_dir() -> Path:
    """The shipped baselines: ``baselines/`` in a checkout, ``secaudit/_content/baselines`` installed."""
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "baselines"
    return checkout if checkout.is_dir() else here.parents[1] / "_content" / "baselines"


class _Ctx:
    def __init__(self, path: str) -> None:
        self.path = path

    def err(
        self, message: str, node: Any, key: str | int | None = None, hint: str | None = None
    ) -> ConfigError:
        return ConfigError(message, location=located(self.path, node, key), hint=hint)


def _text(ctx: _Ctx, node: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = node.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool) or not str(value).strip():
        raise ctx.err(f"'{key}' must be non-empty text", node, key)
    return str(value).strip()


def _strings(ctx: _Ctx, node: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = node.get(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise ctx.err(f"'{key}' must be text or a list of text", node, key)
    return tuple(str(i) for i in items)


def _probe(ctx: _Ctx, node: Any) -> tuple[ProbeCall, ProbeSpec]:
    if not isinstance(node, dict):
        raise ctx.err("'probe' must be a mapping with a 'type'", node)
    kind = node.get("type")
    if not isinstance(kind, str):
        raise ctx.err("probe needs 'type'", node, hint=f"one of: {', '.join(sorted(REGISTRY))}")
    spec = REGISTRY.get(kind)
    if spec is None:
        raise ctx.err(
            f"unknown probe '{kind}'{suggest(kind, REGISTRY)}",
            node,
            "type",
            hint=f"probes: {', '.join(sorted(REGISTRY))}",
        )
    names = {p.name for p in spec.params}
    check_keys(
        node, allowed=names | {"type"}, required=[p.name for p in spec.params if p.required], where=kind
    )
    params: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in node:
            if param.default is not None:
                params[param.name] = param.default
            continue
        value = node[param.name]
        if not isinstance(value, param.type) or (isinstance(value, bool) and param.type in (int, (int, str))):
            wanted = (
                param.type.__name__
                if isinstance(param.type, type)
                else "/".join(t.__name__ for t in param.type)
            )
            raise ctx.err(f"probe '{kind}' parameter '{param.name}' must be {wanted}", node, param.name)
        if param.choices and value not in param.choices:
            raise ctx.err(
                f"probe '{kind}' parameter '{param.name}' is '{value}'{suggest(str(value), param.choices)}",
                node,
                param.name,
                hint=f"choose one of: {', '.join(param.choices)}",
            )
        if param.name in {"regex", "line", "section", "arg"}:
            _regex(ctx, node, param.name, str(value))
        params[param.name] = list(value) if isinstance(value, list) else value
    return ProbeCall(type=kind, params=params, location=located(ctx.path, node)), spec


def _regex(ctx: _Ctx, node: Any, key: str, value: str) -> None:
    try:
        re.compile(value)
    except re.error as e:
        raise ctx.err(f"invalid regular expression in '{key}': {e}", node, key) from e


def _expect(ctx: _Ctx, node: Any) -> Expectation:
    if not isinstance(node, dict) or not node:
        raise ctx.err("'expect' must be a non-empty mapping", node)
    check_keys(node, allowed=EXPECT_KEYS, where="expect")
    kw: dict[str, Any] = {}
    for key in ("present", "case_sensitive"):
        if key in node:
            if not isinstance(node[key], bool):
                raise ctx.err(f"'{key}' must be true or false", node, key)
            kw[key] = node[key]
    for key in ("equals", "matches", "not_matches"):
        if isinstance(node.get(key), bool):
            raise ctx.err(f"'{key}' is a boolean here", node, key, hint='quote it: "yes" / "no"')
        if key in node:
            kw[key] = _text(ctx, node, key) if key != "equals" else str(node[key])
            if key != "equals":
                _regex(ctx, node, key, kw[key])
    for key in ("one_of", "none_of", "has_all", "has_none", "owner", "group"):
        if key in node:
            kw[key] = _strings(ctx, node, key)
    for key in ("lte", "gte"):
        if key in node:
            if not isinstance(node[key], int | float) or isinstance(node[key], bool):
                raise ctx.err(f"'{key}' must be a number", node, key)
            kw[key] = float(node[key])
    if "mode_at_most" in node:
        raw = str(node["mode_at_most"])
        if not re.fullmatch(r"0?[0-7]{3,4}", raw):
            raise ctx.err("'mode_at_most' must be an octal mode like \"0640\" (quoted)", node, "mode_at_most")
        kw["mode_at_most"] = int(raw, 8)
    if "missing" in node:
        choices = {
            "pass": CheckStatus.PASS,
            "fail": CheckStatus.FAIL,
            "notapplicable": CheckStatus.NOT_APPLICABLE,
        }
        if node["missing"] not in choices:
            raise ctx.err("'missing' must be pass, fail or notapplicable", node, "missing")
        kw["missing"] = choices[node["missing"]]
    if set(kw) <= {"missing", "case_sensitive"}:
        raise ctx.err("'expect' says nothing to check", node, hint="add present, equals, lte, has_none, ...")
    return Expectation(**kw)


def _condition(ctx: _Ctx, node: Any, kinds: set[str], *, top: bool = False) -> Condition:
    if not isinstance(node, dict):
        raise ctx.err("a condition must be a mapping: {probe, expect} or all/any/none", node)
    ops = [k for k in ("probe", "all", "any", "none") if k in node]
    if len(ops) != 1:
        raise ctx.err("a condition needs exactly one of probe, all, any, none", node)
    if not top:
        check_keys(node, allowed={"probe", "expect", "all", "any", "none"}, where="condition")
    op = ops[0]
    if op == "probe":
        if "expect" not in node:
            raise ctx.err("a probe needs an 'expect'", node, "probe")
        call, spec = _probe(ctx, node["probe"])
        kinds &= set(spec.targets)
        return Condition(op="probe", probe=call, expect=_expect(ctx, node["expect"]))
    if "expect" in node:
        raise ctx.err(f"'expect' belongs inside each item of '{op}'", node, "expect")
    items = node[op]
    if not isinstance(items, list) or not items:
        raise ctx.err(f"'{op}' must be a non-empty list of conditions", node, op)
    return Condition(op=op, children=tuple(_condition(ctx, item, kinds) for item in items))


def _references(ctx: _Ctx, node: Any) -> tuple[Reference, ...]:
    if node is None:
        return ()
    if not isinstance(node, dict):
        raise ctx.err("'references' must map a kind (cis, nist, iso27001, cis-controls) to ids", node)
    check_keys(node, allowed=set(REF_KINDS), where="references")
    return tuple(Reference(kind=REF_KINDS[k], id=i) for k in node for i in _strings(ctx, node, k))


def _check(ctx: _Ctx, node: Any, seen: dict[str, str]) -> Check:
    if not isinstance(node, dict):
        raise ctx.err("each check must be a mapping", node)
    check_keys(
        node,
        allowed=CHECK_KEYS,
        required=["id", "title", "rationale", "severity", "remediation"],
        where="check",
    )
    cid = _text(ctx, node, "id")
    if not ID_RX.match(cid):
        raise ctx.err(f"check id '{cid}' must be lower-case words joined by '-'", node, "id")
    if cid in seen:
        raise ctx.err(f"duplicate check id '{cid}' (first at {seen[cid]})", node, "id")
    seen[cid] = located(ctx.path, node, "id")
    try:
        severity = Severity.parse(_text(ctx, node, "severity"))
    except ValueError as e:
        raise ctx.err(str(e), node, "severity") from e
    kinds = set(TARGET_KINDS)
    condition = _condition(ctx, node, kinds, top=True)
    applies_if = _condition(ctx, node["applies_if"], kinds) if "applies_if" in node else None
    targets = _strings(ctx, node, "targets")
    for t in targets:
        if t not in TARGET_KINDS:
            raise ctx.err(f"unknown target kind '{t}'{suggest(t, TARGET_KINDS)}", node, "targets")
        if t not in kinds:
            raise ctx.err(f"target kind '{t}' is not supported by this check's probes", node, "targets")
    refs = _references(ctx, node.get("references"))
    if not any(r.kind in (RefKind.CIS, RefKind.CIS_CONTROLS) for r in refs):
        raise ctx.err(
            "a check must cite a CIS benchmark recommendation or a CIS Control",
            node,
            hint="references: {cis: [...]} or {cis-controls: [...]}",
        )
    profiles = _profiles(ctx, node, refs)
    probes = condition.probes()
    return Check(
        id=cid,
        title=_text(ctx, node, "title"),
        rationale=_text(ctx, node, "rationale"),
        section=_text(ctx, node, "section", required=False) or "general",
        severity=severity,
        condition=condition,
        remediation=_text(ctx, node, "remediation"),
        targets=targets or tuple(k for k in TARGET_KINDS if k in kinds),
        references=refs,
        applies_if=applies_if,
        subject=_text(ctx, node, "subject", required=False) or probes[0].subject,
        location=located(ctx.path, node),
        profiles=profiles,
        texts=read_thai(node, THAI_KEYS, f"check {cid}"),
    )


def _profiles(ctx: _Ctx, node: Mapping[str, Any], refs: tuple[Reference, ...]) -> tuple[str, ...]:
    """The declared CIS profiles; where the cited benchmark is known, every id must exist in it and
    the declared profiles must be the recommendation's (derived from it when not declared)."""
    declared = _strings(ctx, node, "profiles")
    for p in declared:
        if p not in PROFILES:
            raise ctx.err(f"unknown profile '{p}'{suggest(p, PROFILES)}", node, "profiles")
    try:
        cited = profiles_of(r.id for r in refs if r.kind is RefKind.CIS)
    except ValueError as e:
        raise ctx.err(str(e), node, "references") from e
    ordered = tuple(p for p in PROFILES if p in declared)
    if cited is not None and declared and ordered != cited:
        raise ctx.err(
            f"profiles {', '.join(ordered)} differ from the cited recommendation's: {', '.join(cited)}",
            node,
            "profiles",
            hint=f"profiles: [{', '.join(cited)}]",
        )
    return ordered or cited or ("l1_server", "l1_workstation")


def load_baseline_file(path: Path, *, _stack: tuple[str, ...] = ()) -> Baseline:
    """Load and validate one baseline file (and the baselines it includes, from the same folder)."""
    data = load_yaml(path)
    ctx = _Ctx(str(path))
    if not isinstance(data, dict):
        raise ConfigError("a baseline file must be a mapping", location=str(path))
    check_keys(
        data,
        allowed=BASELINE_KEYS,
        required=["id", "title", "version", "applies_to", "checks"],
        where="baseline",
    )
    bid = _text(ctx, data, "id")
    if path.stem != bid:
        raise ctx.err(f"baseline id '{bid}' must match the file name '{path.stem}'", data, "id")
    checks: list[Check] = []
    seen: dict[str, str] = {}
    for inc in _strings(ctx, data, "include"):
        if inc in _stack or inc == bid:
            raise ctx.err(f"baseline '{inc}' includes itself", data, "include")
        inc_path = path.parent / f"{inc}.yaml"
        if not inc_path.is_file():
            raise ctx.err(f"included baseline '{inc}' not found next to this file", data, "include")
        for c in load_baseline_file(inc_path, _stack=(*_stack, bid)).checks:
            seen[c.id] = c.location
            checks.append(c)
    items = data["checks"]
    if not isinstance(items, list):
        raise ctx.err("'checks' must be a list", data, "checks")
    checks.extend(_check(ctx, item, seen) for item in items)
    if not checks:
        raise ctx.err("a baseline needs at least one check", data, "checks")
    bench = _text(ctx, data, "benchmark", required=False)
    if bench and benchmark(bench) is None:
        raise ctx.err(
            f"unknown benchmark '{bench}'{suggest(bench, PREFIXES)}",
            data,
            "benchmark",
            hint=f"one of: {', '.join(PREFIXES)}",
        )
    return Baseline(
        id=bid,
        title=_text(ctx, data, "title"),
        benchmark=bench,
        version=_text(ctx, data, "version"),
        applies_to=_text(ctx, data, "applies_to"),
        checks=tuple(checks),
        path=str(path),
    )


def baseline_ids(folder: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (folder or default_dir()).glob("*.yaml"))


def load_baseline(name: str, folder: Path | None = None) -> Baseline:
    """A shipped baseline by id, or a baseline file by path (anything ending in .yaml/.yml)."""
    if name.endswith((".yaml", ".yml")):
        return load_baseline_file(Path(name))
    folder = folder or default_dir()
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = baseline_ids(folder)
        raise ConfigError(
            f"unknown baseline '{name}'{suggest(name, known)}",
            hint=f"shipped baselines: {', '.join(known)}; or give a path to a .yaml file",
        )
    return load_baseline_file(path)
