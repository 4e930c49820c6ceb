"""Sigma regular expressions (Python/PCRE flavour, unanchored search) as Lucene regular expressions.

Elasticsearch's ``regexp`` syntax (Lucene RegExp) differs from the regexes Sigma rules are written in:
it always matches the whole term (no search), has no anchors, no lookaround, no backreferences, no
inline flags, and treats ``@ & < > ~ # "`` as operators. A Sigma regex is translated token by token:
``.*`` is added on each side unless the pattern is anchored there, ``\\d \\w \\s`` become explicit
ASCII character classes (RE2's, which the embedded engine uses), ``(?:`` becomes a plain group, lazy
quantifiers lose their ``?`` (laziness never changes whether a match exists), and every literal that
is not a letter or digit is escaped. Lucene's ``.`` also matches a newline. A
construct Lucene cannot express raises :class:`RegexNotSupported` with the reason; the rule is then
reported as not converted instead of running with a different meaning.

Lucene refuses an empty alternative (``(x|)``): a group with empty branches becomes its other
branches made optional (``(x)?``). Lucene determinizes every regex and Elasticsearch refuses one over
10,000 states; a bounded repeat with a wide upper bound (``.{2,128}``) between ``.*`` easily needs more.
Such a repeat, ``{m,n}`` with ``n`` over :data:`RELAX_ABOVE`, is relaxed to ``{m,}``: the Lucene regex
then matches a superset, :attr:`LuceneRegex.exact` is False, and the hunt checks each document the
cluster returns with the embedded engine before it counts as a hit.

Case: without the ``i`` flag the regex runs on the field's case-preserving sub-field; with it, the
translated pattern is lowercased and runs on the lowercase-normalized field (only letters change:
escapes are only ever put before punctuation, and classes built here contain no letter escapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_DIGIT = "0-9"
_WORD = "0-9A-Za-z_"
_SPACE = " \t\n\r\f"  # RE2's \s, as the embedded engine matches it (no \v)
_CLASS_ESCAPES = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_CONTROL = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "0": "\0"}
_UNSUPPORTED_ESCAPES = {
    "b": "word boundary \\b",
    "B": "non-boundary \\B",
    "A": "anchor \\A",
    "Z": "anchor \\Z",
    "z": "anchor \\z",
    "G": "anchor \\G",
    "p": "Unicode property \\p",
    "P": "Unicode property \\P",
    "k": "named backreference \\k",
    "N": "named character \\N",
}
RELAX_ABOVE = 8  # a bounded repeat with a higher upper bound is relaxed to {m,} (module doc)
_QUANTIFIER = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")
_LEADING_FLAGS = re.compile(r"^\(\?([imsx]+)\)")


class RegexNotSupported(ValueError):
    """The regex uses a construct Lucene's regular expressions cannot express; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LuceneRegex:
    """A translated regex: the Lucene pattern (escaped for use between ``/`` in a query string) and
    whether it must run on the lowercase-normalized field (case-insensitive) or the cased one;
    ``exact`` False when a bounded repeat was relaxed (the pattern matches a superset: module doc)."""

    pattern: str
    insensitive: bool
    exact: bool = True


def _literal(char: str) -> str:
    if char.isalnum() or char in " \t\n\r\f\v" or ord(char) > 127:
        return char
    return "\\" + char


def _class_literal(char: str) -> str:
    return char if char.isalnum() or ord(char) > 127 else "\\" + char


def _hex_escape(pattern: str, i: int, kind: str) -> tuple[str, int]:
    width = 2 if kind == "x" else 4 if kind == "u" else 8
    digits = pattern[i + 2 : i + 2 + width]
    if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise RegexNotSupported(f"malformed escape \\{kind}{digits}")
    return chr(int(digits, 16)), i + 2 + width


def _class(pattern: str, start: int) -> tuple[str, int]:
    """Translate the character class starting at ``pattern[start] == '['``; returns (class, next index)."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] == "^"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            body = "".join(items)
            return ("[^" if negate else "[") + body + "]", i + 1
        first = False
        if char == "\\":
            if i + 1 >= len(pattern):
                raise RegexNotSupported("pattern ends with a lone backslash")
            nxt = pattern[i + 1]
            if nxt in _CLASS_ESCAPES:
                items.append(
                    "".join(_class_literal(c) if c in "\t\n\r\f\v" else c for c in _CLASS_ESCAPES[nxt])
                )
                i += 2
            elif nxt in "DWS":
                raise RegexNotSupported(f"negated class \\{nxt} inside a character class")
            elif nxt in _CONTROL:
                items.append(_CONTROL[nxt])
                i += 2
            elif nxt in "xuU":
                value, i = _hex_escape(pattern, i, nxt.lower() if nxt != "U" else "U")
                items.append(_class_literal(value))
            elif nxt.isalnum():
                raise RegexNotSupported(f"escape \\{nxt} inside a character class")
            else:
                items.append("\\" + nxt)
                i += 2
            continue
        if char == "[" and pattern.startswith("[:", i):
            raise RegexNotSupported("POSIX character class [:...:]")
        if char == "-" and items and i + 1 < len(pattern) and pattern[i + 1] != "]":
            items.append("-")
        else:
            items.append(_class_literal(char))
        i += 1
    raise RegexNotSupported("unterminated character class")


def to_lucene(regex: str, flags: str = "") -> LuceneRegex:
    """Translate a Sigma regex with Sigma flags (``i``, ``m``, ``s``) into a Lucene regex."""
    active = set(flags)
    pattern = regex
    while match := _LEADING_FLAGS.match(pattern):
        active |= set(match.group(1))
        pattern = pattern[match.end() :]
    if "x" in active:
        raise RegexNotSupported("verbose flag (?x)")
    tokens = _tokens(pattern)
    if "m" in active and any(kind in ("caret", "dollar") for kind, _ in tokens):
        raise RegexNotSupported("line anchors with the multi-line flag")
    tree, end = _parse_alt(tokens, 0)
    if end != len(tokens):
        raise RegexNotSupported("unbalanced parenthesis")
    text = _alt(tree, lead=True, trail=True)
    insensitive = "i" in active
    exact = not any(kind == "quant" and _relaxed(quant) != quant for kind, quant in tokens)
    if not exact:
        text = _relax_all(tree)
    return LuceneRegex(text.lower() if insensitive else text, insensitive, exact)


def _relaxed(quantifier: str) -> str:
    """``{m,n}`` with n over RELAX_ABOVE as ``{m,}``; any other quantifier as it is."""
    match = _QUANTIFIER.fullmatch(quantifier)
    if match and match.group(2) and match.group(3) and int(match.group(3)) > RELAX_ABOVE:
        return "{" + (match.group(1) or "0") + ",}"
    return quantifier


def _relax_all(tree: list[list[Item]]) -> str:
    def relax(branches: list[list[Item]]) -> list[list[Item]]:
        return [
            [
                (kind, relax(value) if kind == "group" else value, _relaxed(quantifier))
                for kind, value, quantifier in branch
            ]
            for branch in branches
        ]

    return _alt(relax(tree), lead=True, trail=True)


# -- tokens -------------------------------------------------------------------------------------
# ("atom", lucene text) ("quant", text) ("open", "") ("close", "") ("alt", "") ("caret", "") ("dollar", "")
Token = tuple[str, str]


def _tokens(pattern: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    n = len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            if i + 1 >= n:
                raise RegexNotSupported("pattern ends with a lone backslash")
            nxt = pattern[i + 1]
            if nxt in _CLASS_ESCAPES:
                out.append(("atom", _class("[\\" + nxt + "]", 0)[0]))
                i += 2
            elif nxt in "DWS":
                out.append(("atom", "[^" + _class("[\\" + nxt.lower() + "]", 0)[0][1:]))
                i += 2
            elif nxt in _CONTROL:
                out.append(("atom", _CONTROL[nxt]))
                i += 2
            elif nxt in "xuU":
                value, i = _hex_escape(pattern, i, nxt.lower() if nxt != "U" else "U")
                out.append(("atom", _literal(value)))
            elif nxt in _UNSUPPORTED_ESCAPES:
                raise RegexNotSupported(_UNSUPPORTED_ESCAPES[nxt])
            elif nxt.isdigit():
                raise RegexNotSupported(f"backreference \\{nxt}")
            elif nxt.isalnum():
                raise RegexNotSupported(f"escape \\{nxt}")
            else:
                out.append(("atom", "\\" + nxt))
                i += 2
            continue
        if char == "[":
            text, i = _class(pattern, i)
            out.append(("atom", text))
            continue
        if char == "(":
            i = _open_group(pattern, i)
            out.append(("open", ""))
            continue
        simple = {")": "close", "|": "alt", "^": "caret", "$": "dollar"}
        if char in simple:
            out.append((simple[char], ""))
            i += 1
            continue
        if char in "*+?":
            out.append(("quant", char))
            i = _after_quantifier(pattern, i + 1)
            continue
        if char == "{":
            match = _QUANTIFIER.match(pattern, i)
            if match and (match.group(1) or match.group(3)):
                low = match.group(1) or "0"
                text = "{" + low + ("," + match.group(3) if match.group(2) else "") + "}"
                out.append(("quant", text))
                i = _after_quantifier(pattern, match.end())
                continue
            out.append(("atom", "\\{"))
            i += 1
            continue
        out.append(("atom", "." if char == "." else _literal(char)))
        i += 1
    return out


def _open_group(pattern: str, i: int) -> int:
    """The index after a group opening at ``i``; named and non-capturing groups become plain ones."""
    if not pattern.startswith("(?", i):
        return i + 1
    if pattern.startswith("(?:", i):
        return i + 3
    if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
        raise RegexNotSupported("lookaround (?=, (?!, (?<= or (?<!")
    if pattern.startswith(("(?P<", "(?<"), i):
        close = pattern.find(">", i)
        if close == -1:
            raise RegexNotSupported("unterminated group name")
        return close + 1
    if pattern.startswith("(?#", i):
        raise RegexNotSupported("comment group (?#...)")
    raise RegexNotSupported("inline flags or a group option other than at the start")


# -- tree ---------------------------------------------------------------------------------------
# An alternation is a list of sequences; a sequence a list of items:
#   ("atom", text, quantifier) ("group", alternation, quantifier) ("caret", "", "") ("dollar", "", "")
Item = tuple[str, Any, str]


def _parse_alt(tokens: list[Token], i: int) -> tuple[list[list[Item]], int]:
    branches: list[list[Item]] = [[]]
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "close":
            return branches, i
        if kind == "alt":
            branches.append([])
            i += 1
            continue
        if kind == "open":
            inner, end = _parse_alt(tokens, i + 1)
            if end >= len(tokens):
                raise RegexNotSupported("unbalanced parenthesis")
            branches[-1].append(("group", inner, ""))
            i = end + 1
            continue
        if kind == "quant":
            current = branches[-1]
            if not current or current[-1][0] in ("caret", "dollar"):
                raise RegexNotSupported(f"quantifier {text} with nothing to repeat")
            last = current[-1]
            if last[2]:
                raise RegexNotSupported("a quantifier on a quantifier")
            current[-1] = (last[0], last[1], text)
            i += 1
            continue
        branches[-1].append((kind, text, ""))
        i += 1
    return branches, i


# -- Lucene -------------------------------------------------------------------------------------
# A Sigma regex searches: it may match anywhere unless anchored. Lucene matches the whole term. So
# every place where a match may begin (the start of the pattern, and the start of each branch of a
# group that itself stands at such a place) gets ``.*`` unless a ``^`` stands there, and likewise
# ``.*`` at every place where a match may end unless a ``$`` does. An anchor anywhere else (inside,
# or in a repeated group) has no Lucene equivalent and is refused.


def _alt(branches: list[list[Item]], *, lead: bool, trail: bool) -> str:
    parts = [_seq(branch, lead=lead, trail=trail) for branch in branches]
    if "" in parts:  # Lucene refuses an empty branch: the others become optional instead
        kept = list(dict.fromkeys(p for p in parts if p))
        return "(" + "|".join(kept) + ")?" if kept else ""
    return "|".join(parts)


def _seq(items: list[Item], *, lead: bool, trail: bool) -> str:
    items = list(items)
    anchored_start = lead and bool(items) and items[0][0] == "caret"
    if anchored_start:
        items = items[1:]
    anchored_end = trail and bool(items) and items[-1][0] == "dollar"
    if anchored_end:
        items = items[:-1]
    delegate_start = lead and not anchored_start and bool(items) and _open_group_item(items[0])
    delegate_end = trail and not anchored_end and bool(items) and _open_group_item(items[-1])
    prefix = ".*" if lead and not anchored_start and not delegate_start else ""
    suffix = ".*" if trail and not anchored_end and not delegate_end else ""
    if not items:
        return ".*" if prefix or suffix else ""
    parts = []
    for index, (kind, value, quantifier) in enumerate(items):
        if kind == "caret":
            raise RegexNotSupported("anchor ^ inside the pattern")
        if kind == "dollar":
            raise RegexNotSupported("anchor $ inside the pattern")
        if kind == "atom":
            parts.append(value + quantifier)
            continue
        inner = _alt(
            value,
            lead=delegate_start and index == 0,
            trail=delegate_end and index == len(items) - 1,
        )
        parts.append("(" + inner + ")" + quantifier)
    return prefix + "".join(parts) + suffix


def _open_group_item(item: Item) -> bool:
    """A group without a quantifier: the anchors of its branches may stand for the whole pattern's."""
    return item[0] == "group" and not item[2]


def _after_quantifier(pattern: str, i: int) -> int:
    """Skip a lazy marker after a quantifier; refuse a possessive one."""
    if i < len(pattern) and pattern[i] == "?":
        return i + 1
    if i < len(pattern) and pattern[i] == "+":
        raise RegexNotSupported("possessive quantifier")
    return i
