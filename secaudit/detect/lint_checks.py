"""The checks of one Sigma rule document: fields, tags, modifiers, conditions, pySigma's parser and
its offline validators. Problems land on the document (``Doc.problems``) at the line they concern."""

from __future__ import annotations

import difflib
import fnmatch
import re
import uuid
from collections.abc import Iterator
from typing import Any

from secaudit.catalog.compliance import compliance_references
from secaudit.catalog.localtext import RULE_KEYS as THAI_KEYS
from secaudit.catalog.localtext import thai_problem
from secaudit.detect.lint_yaml import Doc, LintProblem, LList, LMap, plain
from secaudit.detect.model import LEVELS

STATUSES = ("stable", "test", "experimental", "deprecated", "unsupported")
TACTICS = frozenset(
    {
        "reconnaissance", "resource-development", "initial-access", "execution", "persistence",
        "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
        "stealth", "defense-impairment",  # ATT&CK v18 split defense-evasion in two
        "collection", "command-and-control", "exfiltration", "impact",
        # ATT&CK for ICS
        "evasion", "inhibit-response-function", "impair-process-control",
    }
)  # fmt: skip
TAG_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "attack": (
        re.compile(r"(t\d{4}(\.\d{3})?|[gsm]\d{4}|ds\d{4}|[a-z]+(-[a-z]+)*)"),
        "attack.tNNNN, attack.tNNNN.NNN, attack.gNNNN, attack.sNNNN or a tactic such as attack.persistence",
    ),
    "cve": (re.compile(r"\d{4}-\d{4,}"), "cve.YYYY-NNNN"),
    "car": (re.compile(r"\d{4}-\d{2}-\d{3}"), "car.YYYY-MM-NNN"),
    "tlp": (
        re.compile(r"clear|white|green|amber|amber-strict|red"),
        "tlp.clear, tlp.green, tlp.amber or tlp.red",
    ),
    "detection": (
        re.compile(r"dfir|emerging-threats|threat-hunting"),
        "detection.dfir|emerging-threats|threat-hunting",
    ),
    "stp": (re.compile(r"[1-5][auk]?"), "stp.1 to stp.5, optionally with a, u or k"),
    "d3fend": (re.compile(r"[a-z0-9][a-z0-9.-]*"), "d3fend.<lowercase id>"),
}
CORRELATION_TYPES = (
    "event_count", "value_count", "temporal", "temporal_ordered",
    "value_sum", "value_avg", "value_percentile", "value_median",
)  # fmt: skip
DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}/\d{2}/\d{2}")
CONDITION_WORDS = frozenset({"and", "or", "not", "of", "them", "all"})
IDENTIFIER = re.compile(r"[A-Za-z_*][\w*.-]*|\d+")


class Checker:
    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.data: LMap = doc.data
        self.rule_id = str(self.data.get("id", "")) if isinstance(self.data, dict) else ""

    def add(self, line: int, message: str, hint: str = "", check: str = "") -> None:
        self.doc.problems.append(
            LintProblem(
                path=self.doc.path, line=line, message=message, hint=hint, check=check, rule_id=self.rule_id
            )
        )

    def line(self, *keys: str) -> int:
        """The line of a nested key (``"detection", "condition"``), or of the deepest present parent."""
        node: Any = self.data
        line = self.doc.line
        for key in keys:
            if not isinstance(node, LMap) or key not in node:
                break
            line = node.line_of(key)
            node = node[key]
        return line

    def run(self) -> None:
        data = self.data
        if not isinstance(data, dict):
            self.add(self.doc.line, "a rule document must be a mapping", check="structure")
            return
        if "action" in data:
            return  # Sigma 1 collection actions (global/reset/repeat): pySigma merges them
        kind = "correlation" if "correlation" in data else "filter" if "filter" in data else "rule"
        self.metadata(kind)
        if kind == "rule":
            self.logsource()
            self.detection()
        elif kind == "filter":
            self.logsource()
        else:
            self.correlation()
        self.pysigma(kind)

    def metadata(self, kind: str) -> None:
        data = self.data
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            self.add(
                self.line("title"),
                "missing or empty 'title'",
                "add a short title saying what is detected",
                "required",
            )
        rid = data.get("id")
        if rid is None:
            self.add(
                self.doc.line, "missing 'id'", f"add 'id: {uuid.uuid4()}' (a new random UUID)", "required"
            )
        elif not _is_uuid(rid):
            self.add(
                self.line("id"), f"id '{rid}' is not a UUID", f"use a random UUID, e.g. {uuid.uuid4()}", "id"
            )
        if "status" not in data:
            if kind != "filter":
                self.add(
                    self.doc.line,
                    "missing 'status'",
                    f"add 'status:' with one of {', '.join(STATUSES)}",
                    "required",
                )
        elif str(data["status"]) not in STATUSES:
            self.add(
                self.line("status"),
                f"unknown status '{data['status']}'",
                f"use one of {', '.join(STATUSES)}",
                "value",
            )
        if "level" not in data:
            if kind != "filter":
                self.add(
                    self.doc.line,
                    "missing 'level'",
                    f"add 'level:' with one of {', '.join(LEVELS)}",
                    "required",
                )
        elif str(data["level"]) not in LEVELS:
            self.add(
                self.line("level"),
                f"unknown level '{data['level']}'",
                f"use one of {', '.join(LEVELS)}",
                "value",
            )
        for key in ("date", "modified"):
            if key in data and not DATE.fullmatch(str(data[key])):
                self.add(
                    self.line(key), f"{key} '{data[key]}' is not a date", "write it as YYYY-MM-DD", "value"
                )
        if "th" in data:  # our custom attribute: the rule's Thai (secaudit.catalog.localtext)
            problem = thai_problem(data["th"], THAI_KEYS)
            if problem is not None:
                message, wrong, hint = problem
                line = self.line("th", wrong) if wrong else self.line("th")
                self.add(line, message, hint, "thai")
        if "compliance" in data:  # our custom attribute: the controls the rule assesses
            _refs, wrong = compliance_references(data["compliance"])
            if wrong:
                self.add(
                    self.line("compliance"),
                    wrong,
                    "write compliance: {cis-controls: ['8.11'], iso27001: [A.8.16], nist-csf: [DE.CM-03], "
                    "th-cii: [detect]}",
                    "compliance",
                )
        self.tags()

    def tags(self) -> None:
        tags = self.data.get("tags")
        if tags is None:
            return
        if not isinstance(tags, LList):
            self.add(self.line("tags"), "'tags' must be a list", "one tag per line: '- attack.t1098'", "tag")
            return
        seen: dict[str, int] = {}
        for index, tag in enumerate(tags):
            line = tags.line_of(index)
            text = str(tag)
            if text in seen:
                self.add(line, f"tag '{text}' repeats line {seen[text]}", "remove the duplicate", "tag")
                continue
            seen[text] = line
            problem = tag_problem(text)
            if problem:
                self.add(line, problem[0], problem[1], "tag")

    def logsource(self) -> None:
        source = self.data.get("logsource")
        if not isinstance(source, dict) or not any(k in source for k in ("product", "category", "service")):
            self.add(
                self.line("logsource"),
                "missing 'logsource' with a product, category or service",
                "say which logs the rule reads, e.g. 'logsource: {product: linux, service: sshd}'",
                "required",
            )

    def detection(self) -> None:
        detection = self.data.get("detection")
        if not isinstance(detection, LMap):
            self.add(
                self.line("detection"),
                "missing 'detection' mapping",
                "add selections and a 'condition'",
                "required",
            )
            return
        names = [k for k in detection if k not in {"condition", "timeframe"}]
        for name in names:
            for key, line in _field_keys(detection[name], detection.line_of(name)):
                self.modifiers(key, line)
        condition = detection.get("condition")
        if condition is None:
            self.add(
                detection.line, "detection has no 'condition'", "add e.g. 'condition: selection'", "required"
            )
            return
        conditions = condition if isinstance(condition, list) else [condition]
        for index, text in enumerate(conditions):
            line = (
                condition.line_of(index) if isinstance(condition, LList) else detection.line_of("condition")
            )
            self.condition(str(text), names, line)

    def modifiers(self, key: str, line: int) -> None:
        from sigma.modifiers import modifier_mapping  # noqa: PLC0415 (pySigma import is slow)

        for modifier in key.split("|")[1:]:
            if modifier not in modifier_mapping:
                close = difflib.get_close_matches(modifier, list(modifier_mapping), n=1)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"known: {', '.join(sorted(modifier_mapping))}"
                )
                self.add(line, f"unknown modifier '{modifier}' in '{key}'", hint, "modifier")

    def condition(self, text: str, names: list[str], line: int) -> None:
        tokens = IDENTIFIER.findall(text)
        for i, token in enumerate(tokens):
            if token.lower() in CONDITION_WORDS or token.isdigit():
                continue
            quantified = i > 0 and tokens[i - 1].lower() == "of"
            if "*" in token and quantified:
                if not fnmatch.filter(names, token):
                    self.add(
                        line,
                        f"condition pattern '{token}' matches no selection",
                        _defined(names),
                        "condition",
                    )
            elif token not in names:
                close = difflib.get_close_matches(token, names, n=1)
                hint = f"did you mean '{close[0]}'?" if close else _defined(names)
                self.add(
                    line, f"condition names '{token}', which the detection does not define", hint, "condition"
                )

    def correlation(self) -> None:
        body = self.data.get("correlation")
        if not isinstance(body, LMap):
            self.add(
                self.line("correlation"),
                "'correlation' must be a mapping",
                "add type, rules, timespan",
                "required",
            )
            return
        kind = body.get("type")
        if kind not in CORRELATION_TYPES:
            self.add(
                body.line_of("type") if "type" in body else body.line,
                f"unknown correlation type '{kind}'" if kind is not None else "correlation has no 'type'",
                f"use one of {', '.join(CORRELATION_TYPES)}",
                "correlation",
            )
        if "timespan" not in body:
            self.add(body.line, "correlation has no 'timespan'", "add e.g. 'timespan: 5m'", "correlation")
        elif not re.fullmatch(r"[1-9]\d*[smhdwMy]", str(body["timespan"])):
            self.add(
                body.line_of("timespan"),
                f"timespan '{body['timespan']}' is invalid",
                "write a number and s, m, h, d, w, M or y",
                "correlation",
            )
        condition = body.get("condition")
        if kind == "value_percentile" and isinstance(condition, dict) and "percentile" not in condition:
            self.add(
                body.line_of("condition"),
                "value_percentile condition has no 'percentile'",
                "add e.g. 'percentile: 95'",
                "correlation",
            )

    def pysigma(self, kind: str) -> None:
        """pySigma's own parse errors, at the line of the key they concern (once per line)."""
        from sigma.correlations import SigmaCorrelationRule  # noqa: PLC0415
        from sigma.exceptions import SigmaError  # noqa: PLC0415
        from sigma.filters import SigmaFilter  # noqa: PLC0415
        from sigma.rule import SigmaRule  # noqa: PLC0415

        cls: Any = {"rule": SigmaRule, "filter": SigmaFilter, "correlation": SigmaCorrelationRule}[kind]
        errors: list[Exception] = []
        rule = None
        try:
            rule = cls.from_dict(plain(self.data), collect_errors=True)
            errors.extend(getattr(rule, "errors", []))
            if kind == "rule" and not errors:
                for parsed in rule.detection.parsed_condition:
                    _ = parsed.parsed
        except SigmaError as e:
            errors.append(e)
        except Exception as e:  # a malformed document can make pySigma fail in other ways
            errors.append(e)
        taken = {p.line for p in self.doc.problems}
        checks = {p.check for p in self.doc.problems}
        for error in errors:
            name = type(error).__name__
            line = self.line(*_error_keys(name))
            if line not in taken and not checks & COVERED.get(name, set()):
                taken.add(line)
                message = (
                    getattr(error, "args", [str(error)])[0] if getattr(error, "args", None) else str(error)
                )
                self.add(line, f"Sigma: {message}", "see the Sigma specification for this field", "sigma")
        if rule is not None and not errors and kind != "filter":
            self.doc.parsed = rule
            self.validators(rule, taken)

    def validators(self, rule: Any, taken: set[int]) -> None:
        for validator in offline_validators():
            try:
                issues = validator.validate(rule)
            except Exception:  # noqa: S112 - a validator that cannot handle a rule says nothing about it
                continue
            for issue in issues:
                line = self.issue_line(issue)
                if line in taken and type(issue).__name__ in {"DanglingConditionIssue"}:
                    continue
                detail = _issue_detail(issue)
                self.add(
                    line,
                    f"{issue.description}{detail}",
                    VALIDATOR_HINTS.get(type(issue).__name__, ""),
                    "pysigma",
                )

    def issue_line(self, issue: Any) -> int:
        detection = self.data.get("detection")
        if hasattr(issue, "tag"):
            tags = self.data.get("tags")
            if isinstance(tags, LList):
                for index, tag in enumerate(tags):
                    if str(tag) == str(issue.tag):
                        return tags.line_of(index)
            return self.line("tags")
        if hasattr(issue, "detection_name") and isinstance(detection, LMap):
            return detection.line_of(issue.detection_name)
        if hasattr(issue, "condition_name") or "Them" in type(issue).__name__:
            return self.line("detection", "condition")
        if hasattr(issue, "detection_item") and isinstance(detection, LMap):
            name = issue.detection_item.field or ""
            for sel in detection:
                for key, line in _field_keys(detection[sel], detection.line_of(sel)):
                    if key.split("|")[0] == name:
                        return line
        if hasattr(issue, "string") and isinstance(detection, LMap):
            return _value_line(detection, str(issue.string)) or self.line("detection")
        if hasattr(issue, "reference"):
            return self.line("references")
        return self.doc.line


# pySigma errors that a check here has already reported better (with the exact line and a hint).
COVERED: dict[str, set[str]] = {
    "SigmaModifierError": {"modifier"},
    "SigmaConditionError": {"condition"},
    "SigmaIdentifierError": {"id", "required"},
    "SigmaTitleError": {"required"},
    "SigmaLevelError": {"value", "required"},
    "SigmaStatusError": {"value", "required"},
    "SigmaDateError": {"value"},
    "SigmaModifiedError": {"value"},
    "SigmaLogsourceError": {"required"},
    "SigmaDetectionError": {"required"},
    "SigmaCorrelationTypeError": {"correlation"},
    "SigmaTimespanError": {"correlation"},
    "SigmaCorrelationRuleError": {"correlation"},
    "SigmaCorrelationConditionError": {"correlation"},
}

VALIDATOR_HINTS = {
    "DanglingDetectionIssue": "use the selection in the condition or remove it",
    "DanglingConditionIssue": "define the selection under detection or fix its name",
    "AllWithoutContainsModifierIssue": "|all on plain values needs |contains to mean anything",
    "Base64OffsetWithoutContainsModifierIssue": "add |contains after |base64offset",
    "WindowsDashCombinedWithAllModifierIssue": "|windash with |all rarely means what it says",
    "ModifierAppliedMultipleIssue": "keep each modifier once",
    "DoubleWildcardIssue": "one * is enough",
    "NumberAsStringIssue": "write the number without quotes",
    "ControlCharacterIssue": "write a backslash as \\\\ or use single quotes",
    "WildcardsInsteadOfContainsModifierIssue": "use |contains instead of * at both ends",
    "WildcardInsteadOfStartswithIssue": "use |startswith instead of a trailing *",
    "WildcardInsteadOfEndswithIssue": "use |endswith instead of a leading *",
    "EscapedWildcardIssue": "check that the escaped * or ? is meant literally",
    "ThemConditionWithSingleDetectionIssue": "name the one selection instead of 'them'",
    "AllOfThemConditionIssue": "'all of them' is usually 'all of selection_*'",
    "DuplicateReferencesIssue": "remove the duplicate reference",
}


def offline_validators() -> list[Any]:
    """pySigma's core validators that need no downloaded data, fresh (some keep state across rules).

    Left out: the ATT&CK and D3FEND tag validators (they download data; :func:`tag_problem` checks
    the syntax instead), the tag-format ones the same function covers, identifier checks done across
    files here with file:line, and the style-only escaped_wildcard and number_as_string (SigmaHQ's own
    rules trip them on purpose)."""
    from sigma.validators.core import validators  # noqa: PLC0415

    wanted = (
        "dangling_detection",
        "dangling_condition",
        "them_condition_with_single_detection",
        "all_of_them_condition",
        "invalid_modifier_combinations",
        "double_wildcard",
        "control_character",
        "wildcards_instead_of_modifiers",
        "duplicate_references",
    )
    return [validators[name]() for name in wanted if name in validators]


def tag_problem(tag: str) -> tuple[str, str] | None:
    """(message, hint) when a tag's syntax is wrong; None when it is right."""
    namespace, dot, name = tag.partition(".")
    if not dot or not name or tag != tag.lower() or " " in tag:
        return f"tag '{tag}' is not 'namespace.name' in lowercase", "e.g. attack.t1098 or attack.persistence"
    if namespace not in TAG_PATTERNS:
        return f"unknown tag namespace '{namespace}'", f"use one of {', '.join(sorted(TAG_PATTERNS))}"
    pattern, shape = TAG_PATTERNS[namespace]
    if not pattern.fullmatch(name):
        return f"tag '{tag}' does not have the form of a {namespace} tag", shape
    if (
        namespace == "attack"
        and name[0].isalpha()
        and not re.fullmatch(r"[tgsm]\d{4}(\.\d{3})?|ds\d{4}", name)
    ) and name not in TACTICS:
        close = difflib.get_close_matches(name, sorted(TACTICS), n=1)
        hint = f"did you mean 'attack.{close[0]}'?" if close else shape
        return f"'{name}' is not an ATT&CK tactic", hint
    return None


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return len(str(value)) == 36


def _defined(names: list[str]) -> str:
    return f"defined: {', '.join(names)}" if names else "the detection defines no selection"


def _field_keys(selection: Any, line: int) -> Iterator[tuple[str, int]]:
    if isinstance(selection, LMap):
        for key in selection:
            yield key, selection.line_of(key)
    elif isinstance(selection, LList):
        for index, item in enumerate(selection):
            if isinstance(item, LMap):
                yield from _field_keys(item, selection.line_of(index))


def _value_line(node: Any, text: str) -> int:
    if isinstance(node, LMap):
        for key, value in node.items():
            if not isinstance(value, LMap | LList) and str(value) == text:
                return node.line_of(key)
            found = _value_line(value, text)
            if found:
                return found
    elif isinstance(node, LList):
        for index, value in enumerate(node):
            if not isinstance(value, LMap | LList) and str(value) == text:
                return node.line_of(index)
            found = _value_line(value, text)
            if found:
                return found
    return 0


def _error_keys(name: str) -> tuple[str, ...]:
    table = {
        "SigmaIdentifierError": ("id",),
        "SigmaTitleError": ("title",),
        "SigmaLevelError": ("level",),
        "SigmaStatusError": ("status",),
        "SigmaDateError": ("date",),
        "SigmaModifiedError": ("modified",),
        "SigmaLogsourceError": ("logsource",),
        "SigmaTagError": ("tags",),
        "SigmaReferencesError": ("references",),
        "SigmaFalsePositivesError": ("falsepositives",),
        "SigmaAuthorError": ("author",),
        "SigmaDescriptionError": ("description",),
        "SigmaRelatedError": ("related",),
        "SigmaConditionError": ("detection", "condition"),
        "SigmaCorrelationTypeError": ("correlation", "type"),
        "SigmaTimespanError": ("correlation", "timespan"),
        "SigmaCorrelationConditionError": ("correlation", "condition"),
        "SigmaCorrelationRuleError": ("correlation",),
    }
    return table.get(
        name, ("detection",) if "Detection" in name or "Modifier" in name or "Value" in name else ()
    )


def _issue_detail(issue: Any) -> str:
    for attr in ("detection_name", "condition_name", "tag", "string", "reference", "title"):
        if hasattr(issue, attr):
            return f": {getattr(issue, attr)}"
    if hasattr(issue, "detection_item"):
        return f": {issue.detection_item.field}"
    return ""
