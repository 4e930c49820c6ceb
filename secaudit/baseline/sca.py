"""Run a user-supplied Wazuh SCA policy (YAML) against our targets.

Wazuh's policy files are GPL-2.0 and carry CIS text, so secaudit never ships one: the user gives
the file at run time and this module reads it. A policy has ``policy`` (id, name), optional
``requirements`` (a condition that must hold, else every check is not applicable), optional
``variables`` (``$name: value``, a comma-separated value is a list of paths) and ``checks``,
each with a ``condition`` (all / any / none) over ``rules``:

- ``f:/path`` a file exists (``f:/a,/b``: any of them); ``f:/path -> CONTENT`` a line matches;
- ``d:/dir`` a directory exists; ``d:/dir -> NAME [-> CONTENT]`` a file below it (NAME literal or
  ``r:REGEX``, searched recursively) exists and has a line matching CONTENT;
- ``c:command [-> CONTENT]`` (local and ssh targets only) the command, run as a fixed argv and never
  through a shell, exits 0 or prints a line matching CONTENT;
- ``p:name`` (local and ssh targets only) a process runs;
- ``r:HKEY...`` the Windows registry: not applicable (secaudit audits no live Windows target).

CONTENT is one or more expressions joined by `` && `` that must all hold on the *same* line:
``r:REGEX`` (case-insensitive; read with Wazuh's OS_Regex unless the check, or else the policy,
says ``regex_type: pcre2``, as Wazuh 4.x does), ``n:REGEX compare OP NUMBER`` (the
first capture group compared with ``<  <=  ==  !=  >=  >``), or a literal line; ``!`` negates an
expression, a leading ``not`` negates the rule. A rule that cannot be decided here (a missing file
whose content is asked for, a command on an offline root) makes its check "not applicable" with
the reason, as Wazuh does; a construct we do not support (shell syntax in a command, a bad regex,
an unknown rule type or operator) makes that check "error" with the reason. Other checks go on.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secaudit.baseline.model import (
    Baseline,
    BaselineRun,
    Check,
    CheckResult,
    CheckStatus,
    Condition,
    Expectation,
    Observation,
    ProbeCall,
)
from secaudit.baseline.pcre import PcreUnsupported, compile_osregex, compile_pcre
from secaudit.baseline.probes import REGISTRY
from secaudit.baseline.target import CommandNotFound, FileTarget, NotApplicable, ProbeError, Target
from secaudit.catalog.yamlload import YDict, YList, check_keys, load_yaml, located
from secaudit.core.errors import ConfigError, UsageError
from secaudit.core.model import Reference, RefKind, Severity

CONDITIONS = ("all", "any", "none")
MAX_DIR_DEPTH = 8
MAX_DIR_ENTRIES = 100_000
MAX_EVIDENCE = 20
SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "busybox"}
SHELL_CHARS = set("|;&<>()")
OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}
COMPLIANCE = {
    "cis": RefKind.CIS,
    "cis_csc": RefKind.CIS_CONTROLS,
    "cis_csc_v7": RefKind.CIS_CONTROLS,
    "cis_csc_v8": RefKind.CIS_CONTROLS,
    "nist_sp_800-53": RefKind.NIST,
    "nist_800_53": RefKind.NIST,
    "iso_27001-2013": RefKind.ISO27001,
    "iso_27001": RefKind.ISO27001,
    "iso_27001-2022": RefKind.ISO27001,
    "mitre_techniques": RefKind.ATTACK,
}
# the operator may touch its number (stock policies write "compare <=3")
_COMPARE = re.compile(r"^(?P<rx>.*?)\s+compare\s+(?P<op>[<>=!]+|\S+)\s*(?P<num>\S+)\s*$")


class Unsupported(Exception):
    """A construct secaudit does not run: the check becomes ERROR with this reason."""


@dataclass(frozen=True, slots=True)
class _Verdict:
    """A rule's outcome: True/False, or None (undecidable: ``reason`` says why)."""

    value: bool | None
    evidence: tuple[Observation, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ScaPolicy:
    id: str
    name: str
    path: str
    baseline: Baseline  # the checks, for results and reports
    requirements: Condition | None
    requirements_text: str
    variables: Mapping[str, str]
    problems: Mapping[str, str]  # check id -> why it cannot run (ERROR)


# ---------------------------------------------------------------- content expressions


@dataclass(frozen=True, slots=True)
class _Expr:
    negate: bool
    kind: str  # "r", "n", "literal"
    rx: re.Pattern[str] | None = None
    op: str = ""
    number: float = 0.0
    literal: str = ""

    def holds(self, line: str) -> bool:
        if self.kind == "literal":
            hit = line.strip() == self.literal
        elif self.kind == "r":
            assert self.rx is not None
            hit = self.rx.search(line) is not None
        else:
            assert self.rx is not None
            m = self.rx.search(line)
            hit = False
            if m is not None and m.groups() and m.group(1) is not None:
                try:
                    hit = OPS[self.op](float(m.group(1)), self.number)
                except ValueError:
                    hit = False
        return hit != self.negate


#: The regex engine of the rule being read: a check's (or the policy's) ``regex_type``; Wazuh 4.x
#: reads a policy that names none with OS_Regex, where ``\.`` is any character and ``.`` a dot.
_ENGINE: ContextVar[str] = ContextVar("sca_regex_type", default="osregex")
REGEX_TYPES = ("osregex", "pcre2")


def _regex(text: str) -> re.Pattern[str]:
    """The rule's pattern (caseless, as Wazuh runs it) in its engine's syntax, for Python's ``re``."""
    try:
        if _ENGINE.get() == "pcre2":
            return compile_pcre(text)
        return compile_osregex(text)
    except PcreUnsupported as e:
        raise Unsupported(str(e)) from e


def parse_content(text: str) -> tuple[_Expr, ...]:
    """``r:a && !r:b && n:^x (\\d+) compare <= 4`` as expressions; Unsupported when malformed."""
    out = []
    for raw in text.split(" && "):
        part = raw.strip()
        negate = part.startswith("!")
        body = part[1:] if negate else part
        if body.startswith("r:"):
            out.append(_Expr(negate, "r", rx=_regex(body[2:])))
        elif body.startswith("n:"):
            m = _COMPARE.match(body[2:])
            if not m:
                raise Unsupported(f"numeric expression '{part}' needs 'n:REGEX compare OP NUMBER'")
            if m["op"] not in OPS:
                raise Unsupported(f"unknown compare operator '{m['op']}' (use one of {' '.join(OPS)})")
            rx = _regex(m["rx"])
            if not rx.groups:
                raise Unsupported(f"numeric expression '{part}' needs a capture group around the number")
            try:
                number = float(m["num"])
            except ValueError as e:
                raise Unsupported(f"'{m['num']}' in '{part}' is not a number") from e
            out.append(_Expr(negate, "n", rx=rx, op=m["op"], number=number))
        elif not body:
            raise Unsupported(f"empty expression in '{text}'")
        else:
            out.append(_Expr(negate, "literal", literal=body))
    return tuple(out)


def _matching_lines(text: str, exprs: tuple[_Expr, ...]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        if all(e.holds(line) for e in exprs):
            yield number, line.strip()


# ---------------------------------------------------------------- rules


def _split_rule(rule: str) -> tuple[bool, str, list[str]]:
    text = rule.strip()
    negate = False
    if text.startswith("not "):
        negate, text = True, text[4:].strip()
    kind, sep, rest = text.partition(":")
    if not sep or kind not in {"f", "d", "c", "p", "r"}:
        raise Unsupported(f"unknown rule type in '{rule}' (secaudit reads f:, d:, c:, p: and r: rules)")
    return negate, kind, [p.strip() for p in rest.split(" -> ")]


def _expand(text: str, variables: Mapping[str, str], *, strict: bool = False) -> str:
    """Substitute the policy's ``$variables``. Only defined names are variables: ``\\$word`` is an
    escaped dollar in a regex and an undefined ``$word`` in content stays as written, as in
    Wazuh. ``strict`` (what a rule looks at: a path or command) refuses an undefined one, which
    is a typo there, not a file named ``$word``."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1):  # escaped: a literal dollar sign
            return m.group(0)
        if strict and m.group(2) not in variables:
            raise Unsupported(f"variable {m.group(2)} is not defined in the policy's variables")
        return variables.get(m.group(2), m.group(2))

    return re.sub(r"(\\)?(\$[A-Za-z_][A-Za-z0-9_]*)", sub, text)


# A Linux root filesystem read offline has no /proc; what these files would say is known.
OFFLINE_EQUIVALENTS = {"/proc/sys/kernel/ostype": "Linux"}
LINUX_ROOT_MARKS = ("/etc/os-release", "/usr/lib/os-release", "/etc/passwd")


def _offline_equivalent(target: Target, rule: str, path: str, exprs: tuple[_Expr, ...]) -> _Verdict | None:
    """The verdict on a /proc file an offline Linux root cannot have but whose content is known."""
    known = OFFLINE_EQUIVALENTS.get(path)
    if known is None or target.kind != "offline" or target.info(path) is not None:
        return None
    mark = next((m for m in LINUX_ROOT_MARKS if target.info(m) is not None), None)
    if mark is None:
        return None
    note = (
        f"offline root: no /proc; a Linux root filesystem ({mark} present) runs a kernel whose {path} reads"
    )
    hit = all(e.holds(known) for e in exprs)
    return _Verdict(
        hit,
        (Observation(subject=rule, value=known if hit else None, file=path, note=f"{note} '{known}'"),),
    )


def _file_rule(target: Target, rule: str, paths: list[str], content: str | None) -> _Verdict:
    exprs = parse_content(content) if content is not None else ()
    if len(paths) == 1 and (known := _offline_equivalent(target, rule, paths[0], exprs)) is not None:
        return known
    evidence: list[Observation] = []
    missing = []
    for path in paths:
        info = target.info(path)
        if info is None or info.kind == "dir":
            missing.append(path)
            continue
        if content is None:
            return _Verdict(True, (Observation(subject=rule, value=info.kind, file=path),))
        text = target.read_text(path)
        if text is None:
            missing.append(path)
            continue
        for number, line in _matching_lines(text, exprs):
            evidence.append(Observation(subject=rule, value=line, file=path, line=number))
        if evidence:
            return _Verdict(True, tuple(evidence[:MAX_EVIDENCE]))
    if content is None:
        return _Verdict(
            False, tuple(Observation(subject=rule, value=None, file=p, note="no such file") for p in paths)
        )
    if len(missing) == len(paths):
        return _Verdict(None, reason=f"{', '.join(paths)}: no such file, its content cannot be checked")
    looked = [p for p in paths if p not in missing]
    return _Verdict(
        False, tuple(Observation(subject=rule, value=None, file=p, note="no matching line") for p in looked)
    )


def _walk(target: Target, root: str) -> Iterator[str]:
    todo = [(root, 0)]
    seen = 0
    while todo:
        base, depth = todo.pop()
        for name in target.listdir(base) or []:
            path = posixpath.join(base, name)
            seen += 1
            if seen > MAX_DIR_ENTRIES:
                raise ProbeError(f"{root}: more than {MAX_DIR_ENTRIES} entries, scan stopped")
            info = target.info(path, follow=False)
            if info is None:
                continue
            if info.kind == "dir" and depth < MAX_DIR_DEPTH:
                todo.append((path, depth + 1))
            elif info.kind == "file":
                yield path


def _dir_rule(target: Target, rule: str, parts: list[str]) -> _Verdict:
    roots = [p.strip() for p in parts[0].split(",")]
    existing = [r for r in roots if (i := target.info(r)) is not None and i.kind == "dir"]
    if len(parts) == 1:
        if existing:
            return _Verdict(True, tuple(Observation(subject=rule, value="dir", file=r) for r in existing))
        return _Verdict(
            False,
            tuple(Observation(subject=rule, value=None, file=r, note="no such directory") for r in roots),
        )
    if not existing:
        return _Verdict(None, reason=f"{', '.join(roots)}: no such directory, its files cannot be checked")
    name = parts[1]
    name_rx = _regex(name[2:]) if name.startswith("r:") else None
    exprs = parse_content(parts[2]) if len(parts) > 2 else None
    files: list[str] = []
    evidence: list[Observation] = []
    for root in existing:
        for path in _walk(target, root):
            base = posixpath.basename(path)
            wanted = name_rx.search(base) is not None if name_rx is not None else base == name
            if not wanted:
                continue
            files.append(path)
            if exprs is None:
                evidence.append(Observation(subject=rule, value="file", file=path))
                continue
            text = target.read_text(path)
            for number, line in _matching_lines(text or "", exprs):
                evidence.append(Observation(subject=rule, value=line, file=path, line=number))
    if evidence:
        return _Verdict(True, tuple(evidence[:MAX_EVIDENCE]))
    note = "no matching line" if files else "no matching file"
    return _Verdict(
        False, tuple(Observation(subject=rule, value=None, file=f, note=note) for f in files or existing)
    )


def command_argv(command: str) -> list[str]:
    """The fixed argv of a ``c:`` rule; Unsupported for anything that needs a shell.

    Words are split as a POSIX shell would quote them, with shell operators (``| ; & < > ( )``)
    split off as tokens of their own, so any pipe, list, redirection or substitution outside
    quotes is seen and refused."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        argv = list(lexer)
    except ValueError as e:
        raise Unsupported(f"command '{command}' cannot be split into words: {e}") from e
    if not argv:
        raise Unsupported("empty command")
    bad = [t for t in argv if set(t) <= SHELL_CHARS or t == "$" or "`" in t]
    if bad:
        raise Unsupported(
            f"command '{command}' uses shell syntax ({' '.join(bad)}); secaudit runs commands as a "
            "fixed argv, never through a shell"
        )
    if posixpath.basename(argv[0]) in SHELLS:
        raise Unsupported(f"command '{command}' runs a shell; secaudit never runs commands through a shell")
    return argv


def _command_rule(target: Target, rule: str, parts: list[str]) -> _Verdict:
    argv = command_argv(parts[0])
    exprs = parse_content(parts[1]) if len(parts) > 1 else None
    try:
        result = target.run(argv)
    except NotApplicable as e:
        return _Verdict(None, reason=str(e))
    except CommandNotFound as e:  # not installed here: undecidable, as in Wazuh
        return _Verdict(None, reason=f"'{parts[0]}': {e}")
    shown = result.shown
    if exprs is None:
        return _Verdict(
            result.status == 0, (Observation(subject=rule, value=f"exit {result.status}", file=shown),)
        )
    hits = [
        Observation(subject=rule, value=line, file=shown, line=number)
        for number, line in _matching_lines(result.stdout, exprs)
    ]
    if hits:
        return _Verdict(True, tuple(hits[:MAX_EVIDENCE]))
    return _Verdict(
        False, (Observation(subject=rule, value=None, file=shown, note="no matching output line"),)
    )


def _process_rule(target: Target, rule: str, parts: list[str]) -> _Verdict:
    if len(parts) > 1:
        raise Unsupported(f"'{rule}': p: rules take a process name only")
    spec = REGISTRY["process"]
    if target.kind not in spec.targets:
        return _Verdict(
            None, reason=f"p: rules need a live system (local or ssh); this is a {target.kind} target"
        )
    try:
        found = spec.run(target, {"name": parts[0]})
    except NotApplicable as e:
        return _Verdict(None, reason=str(e))
    running = [o for o in found if o.value is not None]
    shown = tuple(Observation(subject=rule, value=o.value, file=o.file, note=o.note) for o in found)
    return _Verdict(bool(running), shown[:MAX_EVIDENCE])


def eval_rule(target: Target, rule: str, variables: Mapping[str, str]) -> _Verdict:
    """One rule on one target. Raises Unsupported for constructs we do not run, ProbeError for
    what could not be read (binary, too large, permission denied, a command that timed out)."""
    negate, kind, parts = _split_rule(rule)
    parts = [_expand(part, variables, strict=index == 0) for index, part in enumerate(parts)]
    if kind == "r":
        return _Verdict(
            None, reason="registry rules need a live Windows target, which secaudit does not audit"
        )
    if not parts[0]:
        raise Unsupported(f"'{rule}' names nothing to look at")
    if kind == "f":
        if len(parts) > 2:
            raise Unsupported(f"'{rule}': f: rules take at most one '->' content part")
        paths = [p.strip() for p in parts[0].split(",")]
        verdict = _file_rule(target, rule, paths, parts[1] if len(parts) > 1 else None)
    elif kind == "d":
        verdict = _dir_rule(target, rule, parts)
    elif kind == "c":
        verdict = _command_rule(target, rule, parts)
    else:
        verdict = _process_rule(target, rule, parts)
    if negate and verdict.value is not None:
        return _Verdict(not verdict.value, verdict.evidence, verdict.reason)
    return verdict


# ---------------------------------------------------------------- checks


def _combine(
    op: str, verdicts: list[tuple[str, _Verdict]]
) -> tuple[CheckStatus, tuple[Observation, ...], str]:
    true = [(r, v) for r, v in verdicts if v.value is True]
    false = [(r, v) for r, v in verdicts if v.value is False]
    unknown = [(r, v) for r, v in verdicts if v.value is None]

    def ev(items: list[tuple[str, _Verdict]]) -> tuple[Observation, ...]:
        return tuple(o for _, v in items for o in v.evidence)[:MAX_EVIDENCE]

    def why(items: list[tuple[str, _Verdict]], say: str) -> str:
        return "; ".join(v.reason or f"{say}: {r}" for r, v in items)

    if op == "all":
        if false:
            return CheckStatus.FAIL, ev(false), why(false, "does not hold")
        if unknown:
            return CheckStatus.NOT_APPLICABLE, ev(true), why(unknown, "undecided")
        return CheckStatus.PASS, ev(true), ""
    if op == "any":
        if true:
            return CheckStatus.PASS, ev(true), ""
        if unknown:
            return CheckStatus.NOT_APPLICABLE, ev(false), why(unknown, "undecided")
        return CheckStatus.FAIL, ev(false), "none of the rules holds: " + why(false, "does not hold")
    if true:  # none
        return CheckStatus.FAIL, ev(true), "forbidden: " + why(true, "holds")
    if unknown:
        return CheckStatus.NOT_APPLICABLE, ev(false), why(unknown, "undecided")
    return CheckStatus.PASS, ev(false), ""


def _rules(cond: Condition) -> list[tuple[str, str]]:
    return [
        (str(c.probe.params["rule"]), str(c.probe.params.get("regex_type", "osregex")))
        for c in cond.children
        if c.probe is not None
    ]


def evaluate(
    cond: Condition, target: Target, variables: Mapping[str, str]
) -> tuple[CheckStatus, tuple[Observation, ...], str]:
    verdicts = []
    for rule, engine in _rules(cond):
        token = _ENGINE.set(engine)
        try:
            verdicts.append((rule, eval_rule(target, rule, variables)))
        finally:
            _ENGINE.reset(token)
    return _combine(cond.op, verdicts)


def run_policy(policy: ScaPolicy, target: Target) -> BaselineRun:
    """Every check of ``policy`` on ``target``; requirements first (unmet: all not applicable)."""
    if isinstance(target, FileTarget):
        raise UsageError(
            "an SCA policy reads files by path; a file: target is a single config dump",
            hint="give offline:DIR (a root or snapshot), local or ssh://user@host",
        )
    started = time.perf_counter()
    gate = incomplete = ""
    if policy.requirements is not None:
        try:
            status, _, reason = evaluate(policy.requirements, target, policy.variables)
        except (Unsupported, ProbeError) as e:
            status, reason = CheckStatus.ERROR, str(e)
        said = f": {reason}" if reason else ""
        if status is CheckStatus.FAIL:
            gate = f"the policy's requirements ({policy.requirements_text}) are not met{said}"
        elif status is not CheckStatus.PASS:
            gate = (
                f"the policy's requirements ({policy.requirements_text}) cannot be evaluated on this "
                f"{target.kind} target{said}"
            )
        if gate:
            incomplete = f"{gate}; no check of the policy was run"
    results = []
    for check in policy.baseline.checks:
        if check.id in policy.problems:
            results.append(
                CheckResult(check=check, status=CheckStatus.ERROR, reason=policy.problems[check.id])
            )
            continue
        if gate:
            results.append(CheckResult(check=check, status=CheckStatus.NOT_APPLICABLE, reason=gate))
            continue
        try:
            status, evidence, reason = evaluate(check.condition, target, policy.variables)
        except (Unsupported, ProbeError) as e:
            status, evidence, reason = CheckStatus.ERROR, (), str(e)
        except Exception as e:  # a bug must not end the run: the check shows it
            status, evidence, reason = CheckStatus.ERROR, (), f"{type(e).__name__}: {e}"
        results.append(CheckResult(check=check, status=status, evidence=evidence, reason=reason))
    return BaselineRun(
        baseline=policy.baseline,
        target=target.label,
        results=tuple(results),
        seconds=time.perf_counter() - started,
        incomplete=incomplete,
    )


# ---------------------------------------------------------------- loading


def _condition(op: Any, rules: Any, where: str, regex_type: Any = "osregex") -> Condition:
    if regex_type not in REGEX_TYPES:
        raise Unsupported(f"regex_type {regex_type!r} is not one of {', '.join(REGEX_TYPES)}")
    if op not in CONDITIONS:
        raise Unsupported(f"condition {op!r} is not one of {', '.join(CONDITIONS)}")
    if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
        raise Unsupported("'rules' must be a non-empty list of rule strings")
    for rule in rules:
        _split_rule(rule)  # the type is known; the rest is checked when it runs
    return Condition(
        op=op,
        children=tuple(
            Condition(
                op="probe",
                probe=ProbeCall(type="sca", params={"rule": r, "regex_type": regex_type}, location=where),
                expect=Expectation(present=True),
            )
            for r in rules
        ),
    )


def _references(node: YDict) -> tuple[Reference, ...]:
    refs: list[Reference] = []
    compliance = node.get("compliance")
    entries = [compliance] if isinstance(compliance, dict) else compliance
    mitre = node.get("mitre")  # current policies: mitre: {technique: {id: [...], name: [...]}}
    if isinstance(mitre, dict) and isinstance(mitre.get("technique"), dict):
        ids = mitre["technique"].get("id")
        refs.extend(Reference(kind=RefKind.ATTACK, id=str(t)) for t in ids if isinstance(ids, list))
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        for key, values in entry.items():
            kind = COMPLIANCE.get(str(key))
            if kind is None:
                continue
            for v in values if isinstance(values, list) else [values]:
                refs.append(Reference(kind=kind, id=str(v)))
    urls = node.get("references")
    for url in urls if isinstance(urls, list) else []:
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            refs.append(Reference(kind=RefKind.URL, id=url, url=url))
    return tuple(refs)


def load_policy(path: Path) -> ScaPolicy:
    """Read a Wazuh SCA policy; structural errors name file:line, a bad check becomes an ERROR result."""
    data = load_yaml(path)
    name = str(path)
    if not isinstance(data, YDict):
        raise ConfigError("an SCA policy is a mapping with 'policy' and 'checks'", location=name)
    check_keys(
        data,
        allowed={"policy", "requirements", "variables", "checks"},
        required=("policy", "checks"),
        where="the SCA policy",
    )
    meta = data["policy"]
    # The engine for a check that names none (Wazuh: the check's regex_type wins over the policy's)
    policy_regex = meta.get("regex_type", "osregex") if isinstance(meta, dict) else "osregex"
    if not isinstance(meta, YDict) or not isinstance(meta.get("id"), str):
        raise ConfigError(
            "'policy' needs an 'id'",
            location=located(name, data, "policy"),
            hint="policy: {id: my_policy, name: ...}",
        )
    policy_id = meta["id"]
    variables: dict[str, str] = {}
    raw_vars = data.get("variables") or {}
    if not isinstance(raw_vars, dict):
        raise ConfigError("'variables' must be a mapping", location=located(name, data, "variables"))
    for key, value in raw_vars.items():
        if not str(key).startswith("$"):
            raise ConfigError(
                f"variable '{key}' must start with '$'",
                location=located(name, raw_vars, key),
                hint=f"write ${key}",
            )
        variables[str(key)] = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
    requirements = None
    requirements_text = ""
    req = data.get("requirements")
    if req is not None:
        if not isinstance(req, YDict):
            raise ConfigError(
                "'requirements' must be a mapping", location=located(name, data, "requirements")
            )
        try:
            requirements = _condition(
                req.get("condition"),
                req.get("rules"),
                located(name, req),
                req.get("regex_type", policy_regex),
            )
        except Unsupported as e:
            raise ConfigError(
                f"requirements: {e}", location=located(name, req), hint="fix the requirements"
            ) from e
        requirements_text = str(req.get("name") or req.get("title") or "requirements")
    checks_node = data["checks"]
    if not isinstance(checks_node, YList):
        raise ConfigError("'checks' must be a list", location=located(name, data, "checks"))
    checks: list[Check] = []
    problems: dict[str, str] = {}
    seen: dict[str, str] = {}
    for index, node in enumerate(checks_node):
        where = located(name, checks_node, index)
        if not isinstance(node, YDict) or "id" not in node:
            raise ConfigError(
                "a check needs an 'id'", location=where, hint="write '- id: 1000' and the check"
            )
        check_id = f"sca.{policy_id}.{node['id']}"
        if check_id in seen:
            raise ConfigError(f"check id {node['id']} repeats (first at {seen[check_id]})", location=where)
        seen[check_id] = where
        try:
            condition = _condition(
                node.get("condition"), node.get("rules"), where, node.get("regex_type", policy_regex)
            )
        except Unsupported as e:
            problems[check_id] = f"{where}: {e}"
            condition = Condition(op="all")
        checks.append(
            Check(
                id=check_id,
                title=str(node.get("name") or node.get("title") or check_id),
                rationale=str(node.get("rationale") or node.get("description") or ""),
                section=str(meta.get("name") or policy_id),
                severity=Severity.MEDIUM,  # SCA policies carry no severity
                condition=condition,
                remediation=str(node.get("remediation") or ""),
                targets=("offline", "local", "ssh"),
                references=_references(node),
                subject=f"sca:{policy_id}:{node['id']}",
                location=where,
            )
        )
    baseline = Baseline(
        id=f"sca.{policy_id}",
        title=str(meta.get("name") or policy_id),
        version=str(meta.get("version") or "sca"),
        applies_to=str(meta.get("description") or "Wazuh SCA policy"),
        checks=tuple(checks),
        path=name,
    )
    return ScaPolicy(
        id=policy_id,
        name=baseline.title,
        path=name,
        baseline=baseline,
        requirements=requirements,
        requirements_text=requirements_text,
        variables=variables,
        problems=problems,
    )
