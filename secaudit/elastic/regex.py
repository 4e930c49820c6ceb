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

Case: without the ``i`` flag the regex runs on the field's case-preserving sub-field; with it, the
translated pattern is lowercased and runs on the lowercase-normalized field (only letters change:
escapes are only ever put before punctuation, and classes built here contain no letter escapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    whether it must run on the lowercase-normalized field (case-insensitive) or the cased one."""

    pattern: str
    insensitive: bool


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
    out: list[str] = []
    depth = 0
    top_alternation = False
    anchored_start = anchored_end = False
    i = 0
    n = len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            if i + 1 >= n:
                raise RegexNotSupported("pattern ends with a lone backslash")
            nxt = pattern[i + 1]
            if nxt in _CLASS_ESCAPES:
                out.append(_class("[\\" + nxt + "]", 0)[0])
                i += 2
            elif nxt in "DWS":
                out.append("[^" + _class("[\\" + nxt.lower() + "]", 0)[0][1:])
                i += 2
            elif nxt in _CONTROL:
                out.append(_CONTROL[nxt])
                i += 2
            elif nxt in "xuU":
                value, i = _hex_escape(pattern, i, nxt.lower() if nxt != "U" else "U")
                out.append(_literal(value))
            elif nxt in _UNSUPPORTED_ESCAPES:
                raise RegexNotSupported(_UNSUPPORTED_ESCAPES[nxt])
            elif nxt.isdigit():
                raise RegexNotSupported(f"backreference \\{nxt}")
            elif nxt.isalnum():
                raise RegexNotSupported(f"escape \\{nxt}")
            else:
                out.append("\\" + nxt)
                i += 2
            continue
        if char == "[":
            text, i = _class(pattern, i)
            out.append(text)
            continue
        if char == "(":
            if pattern.startswith("(?", i):
                if pattern.startswith("(?:", i):
                    i += 3
                elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
                    raise RegexNotSupported("lookaround (?=, (?!, (?<= or (?<!")
                elif pattern.startswith(("(?P<", "(?<"), i):
                    close = pattern.find(">", i)
                    if close == -1:
                        raise RegexNotSupported("unterminated group name")
                    i = close + 1
                elif pattern.startswith("(?#", i):
                    raise RegexNotSupported("comment group (?#...)")
                else:
                    raise RegexNotSupported("inline flags or a group option other than at the start")
            else:
                i += 1
            depth += 1
            out.append("(")
            continue
        if char == ")":
            depth -= 1
            if depth < 0:
                raise RegexNotSupported("unbalanced parenthesis")
            out.append(")")
            i += 1
            continue
        if char == "|":
            if depth == 0:
                top_alternation = True
            out.append("|")
            i += 1
            continue
        if char == "^":
            if i != 0:
                raise RegexNotSupported("anchor ^ inside the pattern")
            anchored_start = True
            i += 1
            continue
        if char == "$":
            if i != n - 1:
                raise RegexNotSupported("anchor $ inside the pattern")
            anchored_end = True
            i += 1
            continue
        if char in "*+?":
            if not out:
                raise RegexNotSupported(f"quantifier {char} with nothing to repeat")
            out.append(char)
            i += 1
            i = _after_quantifier(pattern, i)
            continue
        if char == "{":
            match = _QUANTIFIER.match(pattern, i)
            if match and (match.group(1) or match.group(3)) and out:
                low = match.group(1) or "0"
                if match.group(2):
                    out.append("{" + low + "," + match.group(3) + "}")
                else:
                    out.append("{" + low + "}")
                i = _after_quantifier(pattern, match.end())
                continue
            out.append("\\{")
            i += 1
            continue
        out.append("." if char == "." else _literal(char))
        i += 1
    if depth:
        raise RegexNotSupported("unbalanced parenthesis")
    if "m" in active and (anchored_start or anchored_end):
        raise RegexNotSupported("line anchors with the multi-line flag")
    if top_alternation and (anchored_start or anchored_end):
        raise RegexNotSupported("an anchor applying to one branch of a top-level alternation")
    body = "".join(out)
    if top_alternation:
        body = "(" + body + ")"
    text = ("" if anchored_start else ".*") + body + ("" if anchored_end else ".*")
    insensitive = "i" in active
    return LuceneRegex(text.lower() if insensitive else text, insensitive)


def _after_quantifier(pattern: str, i: int) -> int:
    """Skip a lazy marker after a quantifier; refuse a possessive one."""
    if i < len(pattern) and pattern[i] == "?":
        return i + 1
    if i < len(pattern) and pattern[i] == "+":
        raise RegexNotSupported("possessive quantifier")
    return i
