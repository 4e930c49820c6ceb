"""PCRE2 patterns, as Wazuh SCA policies write them, translated into Python's ``re`` dialect.

Wazuh matches content with PCRE2 (caseless). Python's ``re`` has most of it (possessive
quantifiers and atomic groups since 3.11) but not: ``\\h``/``\\H`` (horizontal white space),
``\\v``/``\\V`` (vertical white space; ``\\v`` is a single character in Python), ``\\R``,
``\\z``, ``\\k<name>``, ``\\Q...\\E``, ``\\e``, ``\\x{...}``, POSIX classes (``[[:digit:]]``),
``(?<name>...)`` and a ``(?i)`` in mid-pattern. :func:`translate` rewrites those; what it cannot express
(``\\K``, a negated class inside brackets such as ``[\\H]``) raises :class:`PcreUnsupported`,
so the check becomes an ERROR with the reason instead of silently matching something else. A ``*`` or
``+`` with nothing before it to repeat (``r:* hard core 0`` in the OS_Regex-era stock policies) is the
character itself, as those policies mean it; ``x**`` is read as ``x*``, and a bare ``\\p`` (no property
name) as OS_Regex's punctuation class.
"""

from __future__ import annotations

import re
import warnings

HSPACE = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"
VSPACE = "\\n\\x0b\\f\\r\\x85\\u2028\\u2029"
POSIX = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\x0b",
    "blank": " \\t",
    "xdigit": "0-9A-Fa-f",
    "word": "\\w",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "cntrl": "\\x00-\\x1f\\x7f",
    "print": "\\x20-\\x7e",
    "graph": "\\x21-\\x7e",
}
# Outside a class: PCRE escape -> Python text.
OUTSIDE = {
    "h": f"[{HSPACE}]",
    "H": f"[^{HSPACE}]",
    "v": f"[{VSPACE}]",
    "V": f"[^{VSPACE}]",
    "R": f"(?:\\r\\n|[{VSPACE}])",
    "z": "\\Z",
    "Z": "(?=\\n?\\Z)",
    "e": "\\x1b",
}
INSIDE = {"h": HSPACE, "v": VSPACE, "e": "\\x1b"}
# OS_Regex \\p: the punctuation characters ()*+,-.:;<=>?[]!"'#$%&|{}
OSREGEX_PUNCT = re.escape("()*+,-.:;<=>?[]!\"'#$%&|{}")


class PcreUnsupported(ValueError):
    """A PCRE construct with no faithful Python equivalent."""


def _hex_brace(text: str, i: int) -> tuple[str, int]:
    """``\\x{HHHH}`` starting at ``text[i] == 'x'`` -> (escaped char, index after)."""
    end = text.find("}", i)
    digits = text[i + 2 : end] if end != -1 else ""
    if not digits or not re.fullmatch(r"[0-9A-Fa-f]{1,6}", digits):
        raise PcreUnsupported(f"bad \\x{{...}} escape in /{text}/")
    return re.escape(chr(int(digits, 16))), end + 1


def translate(pattern: str) -> str:
    """The Python ``re`` pattern that matches what PCRE2 would match with ``pattern``."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = 0
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            if e == "Q":  # \Q...\E: everything literal
                end = pattern.find("\\E", i + 2)
                body = pattern[i + 2 : end if end != -1 else n]
                out.append(re.escape(body) if not in_class else "".join("\\" + ch for ch in body))
                i = end + 2 if end != -1 else n
                continue
            if e == "E":
                i += 2
                continue
            if e == "K":
                raise PcreUnsupported(f"\\K (match reset) in /{pattern}/ has no Python equivalent")
            if e == "k" and not in_class and i + 2 < n and pattern[i + 2] in "<{'":
                close = {"<": ">", "{": "}", "'": "'"}[pattern[i + 2]]
                end = pattern.find(close, i + 3)
                if end == -1:
                    raise PcreUnsupported(f"unterminated \\k back reference in /{pattern}/")
                out.append(f"(?P={pattern[i + 3 : end]})")
                i = end + 1
                continue
            if e == "x" and i + 2 < n and pattern[i + 2] == "{":
                text, i = _hex_brace(pattern, i + 1)
                out.append(text)
                continue
            if e == "p" and (i + 2 >= n or not (pattern[i + 2].isalpha() or pattern[i + 2] == "{")):
                # OS_Regex's punctuation class (older stock policies: r:^\\w+:\\p:); in PCRE2 a bare
                # \\p must name a property, so this reading cannot clash with one.
                out.append(OSREGEX_PUNCT if in_class else f"[{OSREGEX_PUNCT}]")
                i += 2
                continue
            if in_class:
                if e in INSIDE:
                    out.append(INSIDE[e])
                elif e in "HVR":
                    raise PcreUnsupported(f"\\{e} inside a character class in /{pattern}/")
                else:
                    out.append(pattern[i : i + 2])
            else:
                out.append(OUTSIDE.get(e, pattern[i : i + 2]))
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2 : end] if end != -1 else ""
                if name.startswith("^"):
                    raise PcreUnsupported(f"negated POSIX class [:{name}:] in /{pattern}/")
                if name not in POSIX:
                    raise PcreUnsupported(f"unknown POSIX class [:{name}:] in /{pattern}/")
                out.append(POSIX[name])
                i = end + 2
                continue
            if c == "[":
                out.append("\\[")
            elif c == "]" and i > class_start:
                out.append("]")
                in_class = False
            elif pattern[i : i + 2] in ("&&", "||", "--", "~~") and i > class_start:
                out.append("\\" + c)  # Python would read a set operation here
            else:
                out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append("[")
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            class_start = i  # a ']' right here is a literal member, as in PCRE
            if i < n and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if pattern.startswith("(?i)", i):  # the whole pattern is caseless anyway
            i += 4
            continue
        if pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        if c == "*" and out and out[-1] == "*":
            # '**' (stock policies: r:\\.**): PCRE2 refuses a repeated repeat; x** can only mean x*
            i += 1
            continue
        if c in "*+" and (not out or out[-1] in ("^", "(", "|")):
            # Nothing to repeat: policies written for Wazuh's older OS_Regex engine use a bare '*' as
            # the character itself (limits.conf's '* hard core 0'); PCRE2 would refuse to compile it.
            out.append("\\" + c)
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def compile_pcre(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Translate and compile; PcreUnsupported (a ValueError) when it cannot be done faithfully."""
    text = translate(pattern)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "possible nested set" etc. would change the meaning
            return re.compile(text, flags)
    except (re.error, FutureWarning, DeprecationWarning) as e:
        raise PcreUnsupported(f"regex /{pattern}/ is not valid here: {e}") from e


# OS_Regex, Wazuh's own engine and its default for SCA rules: only these escapes are special, a
# plain character (the dot included) is itself, "*" and "+" repeat what precedes them (a second one
# is the character), "^", "$", "|" and groups work as usual. Classes as Wazuh's documentation
# defines them.
_OS_ESCAPES = {
    "w": r"[A-Za-z0-9_@\-]",
    "W": r"[^A-Za-z0-9_@\-]",
    "d": r"[0-9]",
    "D": r"[^0-9]",
    "s": r"[ ]",
    "S": r"[^ ]",
    "t": r"\t",
    "p": r"[()*+,\-.:;<=>?\[\]!\"'#$%&|{}]",
    ".": r"(?s:.)",
}


def translate_osregex(pattern: str) -> str:
    """An OS_Regex pattern as a Python ``re`` pattern with the same meaning."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 == len(pattern):
                raise PcreUnsupported(f"OS_Regex pattern {pattern!r} ends in a lone backslash")
            nxt = pattern[i + 1]
            out.append(_OS_ESCAPES.get(nxt) or re.escape(nxt))
            i += 2
            continue
        if c in "*+":
            # a modifier needs something to repeat; after another one ("\.**" in iptables output
            # rules) it is the character itself
            out.append(c if out and out[-1] not in ("(", "|", "^", "*", "+") else re.escape(c))
        elif c in "^$|()":
            out.append(c)
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def compile_osregex(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Compile an OS_Regex pattern; PcreUnsupported when it cannot mean anything."""
    try:
        return re.compile(translate_osregex(pattern), flags)
    except re.error as e:
        raise PcreUnsupported(f"OS_Regex pattern {pattern!r} is not valid: {e}") from e
