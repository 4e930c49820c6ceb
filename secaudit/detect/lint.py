"""``secaudit rules check``: validate Sigma rule files offline, every problem as ``file:line: message``.

What is checked, per document: YAML syntax and duplicate keys; required fields (title, id as a UUID,
status, level, logsource, detection with a condition; for correlations the correlation section);
allowed values (status, level, dates); tag syntax per namespace (attack, cve, car, tlp, detection,
stp, d3fend); our custom ``th:`` attribute (title, description and remediation, each with Thai
script); value modifiers pySigma knows; selections a condition names but the detection lacks;
everything pySigma's parser reports; and pySigma's own offline validators (dangling detections,
modifier combinations, wildcards, duplicate tags...). Across files: duplicate ids and names, and
correlation references to rules not among the checked files. Nothing is downloaded: the validators
that fetch MITRE ATT&CK or D3FEND data are not run; the tag syntax check replaces them.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from secaudit.core.errors import UsageError
from secaudit.detect.lint_checks import Checker
from secaudit.detect.lint_yaml import Doc, LintProblem, LList, LMap, documents
from secaudit.detect.model import RuleInfo, UnsupportedRule

__all__ = ["LintProblem", "LintReport", "default_rules_path", "lint_paths", "rule_files"]


@dataclass(frozen=True, slots=True)
class LintReport:
    files: int
    documents: int
    problems: tuple[LintProblem, ...]

    @property
    def clean(self) -> bool:
        return not self.problems


def default_rules_path() -> Path:
    """Our own Sigma rules: ``rules/sigma`` in a checkout, the installed copy otherwise."""
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "rules" / "sigma"
    return checkout if checkout.is_dir() else here.parents[1] / "_content" / "rules" / "sigma"


def rule_files(paths: Sequence[Path]) -> list[Path]:
    """Files named, and *.yml / *.yaml under folders named, sorted; a missing path is a UsageError."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file()))
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(
                f"no such file or folder: {path}", hint="give Sigma rule files or folders holding them"
            )
    return out


# -- whole runs ----------------------------------------------------------------------------------


def lint_paths(paths: Sequence[Path]) -> LintReport:
    """Check every rule file under ``paths`` (files or folders); problems sorted by file and line."""
    files = rule_files(paths)
    problems: list[LintProblem] = []
    docs: list[Doc] = []
    for path in files:
        shown = str(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            line = path.read_bytes()[: e.start].count(b"\n") + 1
            problems.append(
                LintProblem(
                    path=shown, line=line, message="not valid UTF-8", hint="save as UTF-8", check="yaml"
                )
            )
            continue
        except OSError as e:
            problems.append(LintProblem(path=shown, line=1, message=f"cannot read: {e.strerror}", check="io"))
            continue
        for doc in documents(shown, text, problems):
            Checker(doc).run()
            docs.append(doc)
    problems.extend(_cross_file(docs))
    problems.extend(_correlation_support(docs))
    for doc in docs:
        problems.extend(doc.problems)
    return LintReport(files=len(files), documents=len(docs), problems=tuple(sorted(set(problems))))


def _cross_file(docs: list[Doc]) -> list[LintProblem]:
    out: list[LintProblem] = []
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    for doc in docs:
        data = doc.data
        if not isinstance(data, LMap):
            continue
        for key, table in (("id", ids), ("name", names)):
            if key not in data:
                continue
            value, where = str(data[key]), f"{doc.path}:{data.line_of(key)}"
            if value in table:
                out.append(
                    LintProblem(
                        path=doc.path,
                        line=data.line_of(key),
                        message=f"duplicate {key} '{value}' (also at {table[value]})",
                        hint=f"every rule needs its own {key}"
                        + (f", e.g. {uuid.uuid4()}" if key == "id" else ""),
                        check=f"duplicate-{key}",
                        rule_id=str(data.get("id", "")),
                    )
                )
            else:
                table[value] = where
    known = set(ids) | set(names)
    for doc in docs:
        data = doc.data
        body = data.get("correlation") if isinstance(data, LMap) else None
        if not isinstance(body, LMap):
            continue
        refs: list[tuple[str, int]] = []
        rules = body.get("rules")
        if isinstance(rules, LList):
            refs += [(str(r), rules.line_of(i)) for i, r in enumerate(rules)]
        elif isinstance(rules, str):
            refs.append((rules, body.line_of("rules")))
        aliases = body.get("aliases")
        if isinstance(aliases, LMap):
            for alias in aliases.values():
                if isinstance(alias, LMap):
                    refs += [(str(r), alias.line_of(r)) for r in alias]
        for ref, line in refs:
            if ref not in known:
                close = difflib.get_close_matches(ref, sorted(names), n=1)
                out.append(
                    LintProblem(
                        path=doc.path,
                        line=line,
                        message=f"correlation references unknown rule '{ref}'",
                        hint=f"did you mean '{close[0]}'?"
                        if close
                        else "name a rule id or name defined in the checked files (check them together)",
                        check="reference",
                        rule_id=str(data.get("id", "")),
                    )
                )
    return out


def _correlation_support(docs: list[Doc]) -> list[LintProblem]:
    """Correlations that parse but that secaudit's correlator would refuse, with its reason."""
    from sigma.collection import SigmaCollection  # noqa: PLC0415 (pySigma import is slow)
    from sigma.correlations import SigmaCorrelationRule  # noqa: PLC0415

    from secaudit.detect.correlate import compile_correlation, rule_key  # noqa: PLC0415

    parsed = [doc for doc in docs if doc.parsed is not None]
    correlations = [doc for doc in parsed if isinstance(doc.parsed, SigmaCorrelationRule)]
    if not correlations:
        return []
    collection = SigmaCollection([doc.parsed for doc in parsed], resolve_references=False)
    out: list[LintProblem] = []
    for doc in correlations:
        rule = doc.parsed
        line = doc.data.line_of("correlation") if isinstance(doc.data, LMap) else doc.line
        try:
            rule.resolve_rule_references(collection)
        except Exception:  # noqa: S112 - unknown references are reported by _cross_file
            continue
        info = RuleInfo(id=rule_key(rule), title=rule.title or "")
        try:
            compile_correlation(rule, info, location=f"{doc.path}:{line}")
        except UnsupportedRule as e:
            out.append(
                LintProblem(
                    path=doc.path,
                    line=line,
                    message=f"secaudit cannot evaluate this correlation: {e.reason}",
                    hint="a hunt would skip it; change the type or condition",
                    check="correlation",
                    rule_id=info.id,
                )
            )
    return out
