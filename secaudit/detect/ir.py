"""A rule's detection compiled once into a plain, picklable tree: the IR both matchers evaluate.

Nodes (tuples, so the cache can pickle thousands of them cheaply)::

    ("and", (node, ...))   ("or", (node, ...))   ("not", node)   ("const", bool)
    ("sel", name, node)            a named detection of the rule (matched_fields come from these)
    ("field", name, test)          the event field ``name`` passes ``test``
    ("kw", test)                   some value of some field passes ``test`` (keyword detection)

Tests::

    ("eq" | "contains" | "startswith" | "endswith", text, cased)   text lowercased unless cased
    ("glob", parts, cased)     parts: literal strings and the markers "*" / "?" as ("*",) / ("?",)
    ("re", pattern, flags, bounded)   flags: "i", "m", "s"; case-sensitive unless "i"; bounded when
                               RE2 cannot compile it (lookaround, backreferences): Python re over
                               the first values.BOUNDED_REGEX_INPUT characters
    ("num", op, number)        op: gt gte lt lte neq, on the value as a number
    ("null",)                  the field is absent or null
    ("exists", bool)           the field is present (True) / absent (False)
    ("cidr", network)          the value is an IP address inside the network
    ("fieldref", other, mode)  the value equals / startswith / endswith / contains field ``other``
    ("time", part, number)     minute/hour/day/week/month/year of the value as a timestamp

Values are compared as text: a string as is, a number as ``str(n)``, a bool as "true"/"false",
so ``EventID: 4688`` matches both 4688 and "4688".
"""

from __future__ import annotations

import itertools
import re
import re._constants as _c  # type: ignore[import-not-found]
import re._parser as _re_parser  # type: ignore[import-not-found]
from collections.abc import Mapping, Sequence
from typing import Any

import re2  # type: ignore[import-untyped]
from sigma.conditions import ConditionAND
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from secaudit.detect.condition import Cond, parse_condition
from secaudit.detect.model import UnsupportedRule
from secaudit.detect.values import regex_flags

Node = tuple[Any, ...]
Test = tuple[Any, ...]

STAR: tuple[str] = ("*",)
QMARK: tuple[str] = ("?",)

_OPS = {
    CompareOperators.GT: "gt",
    CompareOperators.GTE: "gte",
    CompareOperators.LT: "lt",
    CompareOperators.LTE: "lte",
    CompareOperators.NEQ: "neq",
}
_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


def string_test(parts: Sequence[str | tuple[str]], cased: bool) -> Test:
    """The cheapest test equivalent to a wildcard pattern (literal strings and STAR/QMARK markers)."""
    merged: list[str | tuple[str]] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
                continue
        elif part == STAR and merged and merged[-1] == STAR:
            continue
        merged.append(part)

    def norm(text: str) -> str:
        return text if cased else text.lower()

    literal = [p for p in merged if isinstance(p, str)]
    specials = [p for p in merged if not isinstance(p, str)]
    if not specials:
        return ("eq", norm(literal[0] if literal else ""), cased)
    if QMARK not in specials and len(literal) <= 1:
        text = norm(literal[0]) if literal else ""
        lead, trail = merged[0] == STAR, merged[-1] == STAR
        if not literal:
            return ("glob", (STAR,), cased)  # "*": any value, including ""
        if lead and trail and len(merged) == 3:
            return ("contains", text, cased)
        if trail and len(merged) == 2:
            return ("startswith", text, cased)
        if lead and len(merged) == 2:
            return ("endswith", text, cased)
    return ("glob", tuple(norm(p) if isinstance(p, str) else p for p in merged), cased)


class IRCompiler:
    """Turns pySigma's parsed detections into IR; ``placeholders`` feed the expand modifier."""

    def __init__(self, placeholders: Mapping[str, Sequence[str]] | None = None) -> None:
        self.placeholders = {k: list(v) for k, v in (placeholders or {}).items()}

    def rule(self, rule: SigmaRule) -> Node:
        """The rule's whole condition as one node (several conditions are OR-ed, as pySigma does)."""
        return self.detections(rule.detection.detections, rule.detection.condition)

    def detections(self, detections: Mapping[str, SigmaDetection], conditions: Sequence[str]) -> Node:
        names = list(detections)
        compiled: dict[str, Node] = {}

        def resolve(cond: Cond) -> Node:
            kind = cond[0]
            if kind == "ref":
                name = cond[1]
                if name not in compiled:
                    compiled[name] = ("sel", name, self.detection(detections[name]))
                return compiled[name]
            if kind == "not":
                return ("not", resolve(cond[1]))
            return (kind, tuple(resolve(c) for c in cond[1]))

        roots = [resolve(parse_condition(text, names)) for text in conditions]
        if not roots:
            raise UnsupportedRule("the detection has no condition")
        return roots[0] if len(roots) == 1 else ("or", tuple(roots))

    def detection(self, det: SigmaDetection) -> Node:
        items = [
            self.item(i) if isinstance(i, SigmaDetectionItem) else self.detection(i)
            for i in det.detection_items
        ]
        if len(items) == 1:
            return items[0]
        return ("and" if det.item_linking is ConditionAND else "or", tuple(items))

    def item(self, item: SigmaDetectionItem) -> Node:
        field = item.field
        nodes = [self.value(field, v) for v in item.value]
        if not nodes:
            raise UnsupportedRule(f"field {field!r} has an empty list of values")
        node = (
            nodes[0]
            if len(nodes) == 1
            else ("and" if item.value_linking is ConditionAND else "or", tuple(nodes))
        )
        return ("not", node) if item.negated else node

    def value(self, field: str | None, value: Any) -> Node:
        if isinstance(value, SigmaExpansion):
            nodes = tuple(self.value(field, v) for v in value.values)
            return nodes[0] if len(nodes) == 1 else ("or", nodes)
        if isinstance(value, SigmaString) and value.contains_placeholder():
            nodes = tuple(self.leaf(field, v) for v in self.expand(value))
            return nodes[0] if len(nodes) == 1 else ("or", nodes)
        return self.leaf(field, value)

    def expand(self, value: SigmaString) -> list[SigmaString]:
        choices: list[list[list[Any]]] = []
        for part in value.s:
            if isinstance(part, Placeholder):
                if part.name not in self.placeholders:
                    raise UnsupportedRule(
                        f"placeholder %{part.name}% has no values: "
                        "set it under the hunt configuration's placeholders"
                    )
                choices.append([list(SigmaString(v).s) for v in self.placeholders[part.name]])
            else:
                choices.append([[part]])
        out = []
        for combo in itertools.product(*choices):
            text = SigmaString()
            text.s = [p for chunk in combo for p in chunk]
            out.append(text)
        if not out:
            raise UnsupportedRule(f"placeholder in {value.original!r} expands to no values")
        return out

    def leaf(self, field: str | None, value: Any) -> Node:
        test = self.test(field, value)
        if field is None:
            # Keywords are a full-text search: a plain value is found anywhere inside a field value.
            if test[0] in ("null", "exists", "fieldref", "time", "num", "cidr"):
                raise UnsupportedRule(f"keyword detection with a {test[0]} value has no field to apply to")
            if test[0] == "eq":
                test = ("contains", test[1], test[2])
            elif test[0] in ("startswith", "endswith", "glob"):
                parts = test[1] if test[0] == "glob" else (test[1],)
                test = string_test((STAR, *parts, STAR), test[-1])
            return ("kw", test)
        return ("field", field, test)

    def test(self, field: str | None, value: Any) -> Test:
        if isinstance(value, SigmaString):
            cased = isinstance(value, SigmaCasedString)
            parts: list[str | tuple[str]] = []
            for part in value.s:
                if isinstance(part, str):
                    parts.append(part)
                elif part is SpecialChars.WILDCARD_MULTI:
                    parts.append(STAR)
                elif part is SpecialChars.WILDCARD_SINGLE:
                    parts.append(QMARK)
                else:
                    raise UnsupportedRule(f"value {value.original!r}: unresolved placeholder")
            return string_test(parts, cased)
        if isinstance(value, SigmaTimestampPart):
            return ("time", value.timestamp_part.name.lower(), int(value.number))
        if isinstance(value, SigmaNumber):
            return ("eq", str(value.number).lower(), False)
        if isinstance(value, SigmaBool):
            return ("eq", "true" if value.boolean else "false", False)
        if isinstance(value, SigmaNull):
            return ("null",)
        if isinstance(value, SigmaExists):
            return ("exists", bool(value.exists))
        if isinstance(value, SigmaRegularExpression):
            if value.regexp.contains_placeholder():
                raise UnsupportedRule("placeholders inside a regular expression are not supported")
            flags = "".join(sorted(_FLAGS[f] for f in value.flags))
            pattern = str(value.regexp)
            bounded = not re2_compiles(pattern, flags)
            risk = backtracking_risk(pattern, flags) if bounded else ""
            if risk:
                raise UnsupportedRule(
                    f"regex {pattern[:120]!r} needs Python's engine (RE2 has no lookaround or "
                    f"backreference) and could backtrack without end there ({risk}): rule disabled"
                )
            return ("re", pattern, flags, bounded)
        if isinstance(value, SigmaCIDRExpression):
            return ("cidr", str(value.network))
        if isinstance(value, SigmaCompareExpression):
            return ("num", _OPS[value.op], value.number.number)
        if isinstance(value, SigmaFieldReference):
            mode = {(False, False): "eq", (True, False): "startswith", (False, True): "endswith"}.get(
                (value.starts_with, value.ends_with), "contains"
            )
            return ("fieldref", value.field, mode)
        raise UnsupportedRule(f"value type {type(value).__name__} is not supported")


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def re2_pattern(pattern: str, flags: str) -> str:
    return f"(?{flags}){pattern}" if flags else pattern


def re2_compiles(pattern: str, flags: str) -> bool:
    try:
        re2.compile(re2_pattern(pattern, flags), options=_RE2_OPTIONS)
    except re2.error:
        return False
    return True


def compile_re2(pattern: str, flags: str) -> Any:
    return re2.compile(re2_pattern(pattern, flags), options=_RE2_OPTIONS)


def bounded_regexes(node: Node) -> list[str]:
    """The regular expressions under ``node`` that RE2 cannot run (a bounded backtracking engine does)."""
    kind = node[0]
    if kind in ("and", "or"):
        return [p for child in node[1] for p in bounded_regexes(child)]
    if kind == "not":
        return bounded_regexes(node[1])
    if kind == "sel":
        return bounded_regexes(node[2])
    test = node[-1] if kind in ("field", "kw") else ()
    return [test[1]] if test and test[0] == "re" and test[3] else []


# A gate is what the prefilter checks before a rule is evaluated exactly: the rule can only match
# an event that contains one of the literals in its lowercased values, or has one of the
# (field, lowercased value) pairs. None: no gate, always evaluate.
Gate = tuple[frozenset[str], frozenset[tuple[str, str]]]

# Substrings found in most Windows process events: as a rule's only literal they let almost every
# event through, so an AND prefers any other child.
COMMON_LITERALS = frozenset(
    (
        "\\explorer.exe",
        "explorer.exe",
        "\\svchost.exe",
        "svchost.exe",
        "\\conhost.exe",
        "c:\\windows\\",
        "\\windows\\",
        "\\system32\\",
        "\\windows\\system32\\",
        "c:\\windows\\system32\\",
        "c:\\program files",
        "\\program files",
        "\\appdata\\",
        "\\users\\",
        "c:\\users\\",
        ".exe",
        ".dll",
    )
)
# Fields whose values are shared by whole classes of events: an equality there is a weak gate.
GENERIC_FIELDS = frozenset(
    ("EventID", "Channel", "Provider_Name", "Level", "Task", "Opcode", "Keywords", "IntegrityLevel", "Signed")
)
# A folder path as a literal: every file in it shares it, so a program name ("\\hh.exe") beats it.
FOLDER_SCORE = 6
MIN_REGEX_LITERAL = 1  # even one rare character ("`") beats evaluating the regex on every event


def _few_values(value: str) -> bool:
    """A flag or a number (``true``, ``3``, ``445``): an equality on it is shared by whole classes of
    events, whatever the field (Initiated, LogonType, DestinationPort)."""
    return value.isdigit() or value in ("true", "false")


def gate(node: Node) -> Gate | None:
    """The prefilter gate of ``node``: AND takes its most selective child, OR the union of its
    children; NOT, numbers, null/exists, CIDR and field references give none."""
    kind = node[0]
    if kind == "sel":
        return gate(node[2])
    if kind in ("field", "kw"):
        return _leaf_gate(node[1] if kind == "field" else None, node[-1])
    if kind == "const":
        return None if node[1] else (frozenset(), frozenset())
    if kind == "or":
        lits: set[str] = set()
        keys: set[tuple[str, str]] = set()
        for child in node[1]:
            sub = gate(child)
            if sub is None:
                return None
            lits |= sub[0]
            keys |= sub[1]
        return frozenset(lits), frozenset(keys)
    if kind == "and":
        best: Gate | None = None
        for child in node[1]:
            sub = gate(child)
            if sub is not None and (best is None or _score(sub) > _score(best)):
                best = sub
        return best
    return None


SECOND_GATE_MEMBERS = 8  # a second gate is checked member by member: only a short one pays


def gates(node: Node) -> tuple[Gate | None, Gate | None]:
    """The prefilter gate of ``node`` (:func:`gate`) and a second one, or None: both must hold for the
    node to match, so an event must pass both. The second one is checked by the engine only on the
    rules the first one let through.

    For an AND, the second gate is the next most selective gate of its other conjuncts. When there is
    none and the first gate is an OR's (the union of its branches' gates: "1 of selection_*"), it is
    the union of the branches' own second gates: a matching OR has a matching branch, which holds
    its first gate and its second, so the event holds one of the firsts and one of the seconds.
    """
    first = gate(node)
    if first is None:
        return None, None
    conjuncts = sorted(_conjunct_gates(node), key=_score, reverse=True)
    if len(conjuncts) >= 2 and first in conjuncts:
        rest = list(conjuncts)
        rest.remove(first)
        fitting = [g for g in rest if _members(g) <= SECOND_GATE_MEMBERS]
        if fitting:
            return first, next((g for g in fitting if _disjoint(g, first)), fitting[0])
    return first, _branches_second(node, first)


def _disjoint(g: Gate, first: Gate) -> bool:
    """``g`` shares no member with ``first``: an event that passed ``first`` on a member need not
    pass ``g`` on the same one."""
    return g[0].isdisjoint(first[0]) and g[1].isdisjoint(first[1])


def _members(g: Gate) -> int:
    return len(g[0]) + len(g[1])


def _branches_second(node: Node, first: Gate) -> Gate | None:
    """The union of the second gates of the branches of the OR that gives ``first`` (``node`` itself,
    or one of its conjuncts), or None when a branch has none or the union is too long to check."""
    choice = next((n for n in _conjunct_nodes(node) if n[0] == "or" and gate(n) == first), None)
    if choice is None:
        return None
    lits: set[str] = set()
    keys: set[tuple[str, str]] = set()
    for branch in choice[1]:
        second = _branch_second(branch, first)
        if second is None:
            return None
        lits |= second[0]
        keys |= second[1]
        if len(lits) + len(keys) > SECOND_GATE_MEMBERS:
            return None
    return frozenset(lits), frozenset(keys)


def _branch_second(branch: Node, first: Gate) -> Gate | None:
    """A gate of one of ``branch``'s conjuncts other than its own first: the most selective one that
    shares no member with the OR's ``first`` gate if there is one ("new-object" is no second gate of a
    branch when it is another branch's first: an event that passed on it passes again). Any of a
    branch's conjuncts holds when the branch matches."""
    own = gate(branch)
    rest = sorted(_conjunct_gates(branch), key=_score, reverse=True)
    if own is None or own not in rest:
        return gates(branch)[1]
    rest.remove(own)
    fitting = [g for g in rest if _members(g) <= SECOND_GATE_MEMBERS]
    return next((g for g in fitting if _disjoint(g, first)), fitting[0] if fitting else gates(branch)[1])


def _conjunct_nodes(node: Node) -> list[Node]:
    """The terms of ``node`` seen as a conjunction (nested ANDs and selections flattened)."""
    kind = node[0]
    if kind == "sel":
        return _conjunct_nodes(node[2])
    if kind == "and":
        return [n for child in node[1] for n in _conjunct_nodes(child)]
    return [node]


def _conjunct_gates(node: Node) -> list[Gate]:
    """The gates of the terms of ``node`` seen as a conjunction (:func:`_conjunct_nodes`)."""
    return [g for term in _conjunct_nodes(node) if (g := gate(term)) is not None]


def _literal(text: str, cased: bool) -> Gate | None:
    if cased and not text.isascii():
        return None  # lowering a cased non-ASCII pattern need not give a substring of the lowered value
    low = text.lower()
    return (frozenset((low,)), frozenset()) if low else None


def _leaf_gate(field: str | None, test: Test) -> Gate | None:
    op = test[0]
    if op == "eq" and field is not None:
        text = test[1]
        if test[2] and not text.isascii():
            return None
        return frozenset(), frozenset(((field, text.lower()),))
    if op in ("eq", "contains", "startswith", "endswith"):
        return _literal(test[1], test[2])
    if op == "glob":
        parts = [p for p in test[1] if isinstance(p, str)]
        return _literal(max(parts, key=len, default=""), test[2])
    if op == "re":
        found = regex_literals(test[1], test[2])
        return (found, frozenset()) if found else None
    return None


def _member_score(member: str | tuple[str, str]) -> int:
    if isinstance(member, tuple):
        field, value = member
        if field in GENERIC_FIELDS or _few_values(value):
            return 3
        return 20 + len(value)
    if any(member in common for common in COMMON_LITERALS):
        return 2
    if member.endswith("\\") and len(member) > FOLDER_SCORE:
        return FOLDER_SCORE  # a folder ("\\appdata\\local\\temp\\") holds many programs' files
    return len(member)


def _score(g: Gate) -> tuple[int, int]:
    members: list[str | tuple[str, str]] = [*g[0], *g[1]]
    return (min((_member_score(m) for m in members), default=1_000_000), -len(members))


def regex_literals(pattern: str, flags: str) -> frozenset[str] | None:
    """Lowercase literals one of which every match of the regex contains, or None.

    From Python's own parse of the pattern: runs of literal characters in sequence, through groups
    and repeats of at least one, the union over alternatives. Under case-insensitive matching only
    ASCII characters outside the Unicode case orbits of k and s (Kelvin sign, long s) are kept.
    """
    try:
        parsed = _re_parser.parse(pattern, regex_flags(flags))
    except Exception:  # a pattern Python cannot parse: no gate
        return None
    icase = bool(parsed.state.flags & re.IGNORECASE) or _has_local_icase(parsed)

    def clean(run: str) -> frozenset[str] | None:
        pieces = re.split(r"[^\x20-\x7e]|[kKsS]" if icase else r"[^\x00-\x7f]", run)
        best = max(pieces, key=len).lower()
        return frozenset((best,)) if len(best) >= MIN_REGEX_LITERAL else None

    def better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
        if b is None:
            return a
        if a is None:
            return b
        return b if _score((b, frozenset())) > _score((a, frozenset())) else a

    def required(items: Any) -> frozenset[str] | None:
        best: frozenset[str] | None = None
        run: list[str] = []
        for op, av in items:
            if op is _c.LITERAL:
                run.append(chr(av))
                continue
            if run:
                best = better(best, clean("".join(run)))
                run = []
            sub: frozenset[str] | None = None
            if op is _c.SUBPATTERN:
                sub = required(av[3])
            elif op is _c.ATOMIC_GROUP:
                sub = required(av)
            elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
                sub = required(av[2]) if av[0] >= 1 else None
            elif op is _c.BRANCH:
                subs = [required(branch) for branch in av[1]]
                sub = None if any(x is None for x in subs) else frozenset().union(*subs)  # type: ignore[arg-type]
            best = better(best, sub)
        if run:
            best = better(best, clean("".join(run)))
        return best

    return required(parsed)


#: Unbounded repeats in one pattern beyond which Python's engine may take polynomial time of this
#: degree on the bounded input (4,096 characters to the 3rd power is already minutes).
MAX_UNBOUNDED_REPEATS = 2
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT)


def backtracking_risk(pattern: str, flags: str) -> str:
    """Why ``pattern`` may backtrack catastrophically in Python's engine, or ``""``.

    Python's ``re`` has no time limit, so a pattern only it can run must be safe by shape: no
    variable repeat inside an unbounded one (``(a+)+``, ``(a{1,5})+``: exponential), no
    backreference beside an unbounded repeat, and at most two unbounded repeats in all
    (``.*a.*b.*c``: cubic on the bounded input). Possessive repeats and atomic groups never
    backtrack and are not counted.
    """
    try:
        parsed = _re_parser.parse(pattern, regex_flags(flags))
    except Exception:  # Python cannot parse it: compiling the rule reports that
        return ""
    unbounded = 0
    backref = False

    def walk(items: Any, inside_repeat: bool) -> str:
        nonlocal unbounded, backref
        for op, av in items:
            if op in _REPEATS:
                wide = av[1] is _c.MAXREPEAT or av[1] > 100
                if inside_repeat and av[0] != av[1]:  # (a+)+, (a{1,5})+: many ways to split a run
                    return "a variable repeat inside an unbounded one"
                if wide:
                    unbounded += 1
                found = walk(av[2], inside_repeat or wide)
                if found:
                    return found
            elif op is _c.SUBPATTERN:
                found = walk(av[3], inside_repeat)
                if found:
                    return found
            elif op is _c.BRANCH:
                for branch in av[1]:
                    found = walk(branch, inside_repeat)
                    if found:
                        return found
            elif op in (_c.ASSERT, _c.ASSERT_NOT):
                found = walk(av[1], inside_repeat)
                if found:
                    return found
            elif op is _c.GROUPREF or op is _c.GROUPREF_EXISTS:
                backref = True
        return ""

    found = walk(parsed, False)
    if found:
        return found
    if backref and unbounded:
        return "a backreference beside an unbounded repeat"
    if unbounded > MAX_UNBOUNDED_REPEATS:
        return f"{unbounded} unbounded repeats"
    return ""


def _has_local_icase(items: Any) -> bool:
    for op, av in items:
        if op is _c.SUBPATTERN and (av[1] & re.IGNORECASE or _has_local_icase(av[3])):
            return True
        if op is _c.BRANCH and any(_has_local_icase(b) for b in av[1]):
            return True
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and _has_local_icase(av[2]):
            return True
        if op is _c.ATOMIC_GROUP and _has_local_icase(av):
            return True
    return False
