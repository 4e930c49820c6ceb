"""Sigma condition expressions parsed into a small tree over detection names.

Our own recursive-descent parser: pySigma's pyparsing grammar costs ~0.1 ms per rule, which is a
sixth of the cold-load budget for the whole SigmaHQ folder. Grammar (Sigma specification v2.1)::

    expr   := term ("or" term)*
    term   := factor ("and" factor)*
    factor := "not" factor | "(" expr ")" | quant | NAME
    quant  := ("1" | "any" | "all") "of" (PATTERN | "them")

NAME may contain ``*`` (a pattern) only after "of". ``them`` means every detection whose name does
not start with an underscore. The deprecated aggregation form (``| count() > 5``) is refused: the
correlation rules of v2 replaced it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Any

from secaudit.detect.model import UnsupportedRule

# Condition trees: ("and", (nodes...)), ("or", (nodes...)), ("not", node), ("ref", name).
Cond = tuple[Any, ...]

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # only trailing whitespace can fail to match, and it was stripped
            raise UnsupportedRule(f"condition {text!r}: cannot read at column {pos + 1}")
        out.append(m.group(1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, names: Sequence[str]) -> None:
        if "|" in text:
            raise UnsupportedRule(
                f"condition {text!r} uses the deprecated aggregation form ('| count() ...'); "
                "write it as a Sigma correlation rule"
            )
        self.text = text
        self.names = list(names)
        self.toks = _tokens(text)
        self.pos = 0

    def fail(self, what: str) -> UnsupportedRule:
        return UnsupportedRule(f"condition {self.text!r}: {what}")

    def peek(self) -> str | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise self.fail("ends too early")
        self.pos += 1
        return tok

    def parse(self) -> Cond:
        if not self.toks:
            raise self.fail("is empty")
        node = self.expr()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()!r}")
        return node

    def expr(self) -> Cond:
        items = [self.term()]
        while (tok := self.peek()) is not None and tok.lower() == "or":
            self.pos += 1
            items.append(self.term())
        return items[0] if len(items) == 1 else ("or", tuple(items))

    def term(self) -> Cond:
        items = [self.factor()]
        while (tok := self.peek()) is not None and tok.lower() == "and":
            self.pos += 1
            items.append(self.factor())
        return items[0] if len(items) == 1 else ("and", tuple(items))

    def factor(self) -> Cond:
        tok = self.take()
        low = tok.lower()
        if low == "not":
            return ("not", self.factor())
        if tok == "(":
            node = self.expr()
            if self.take() != ")":
                raise self.fail("missing ')'")
            return node
        if low in ("1", "any", "all") and (nxt := self.peek()) is not None and nxt.lower() == "of":
            self.pos += 1
            return self.quantified(low, self.take())
        if tok == ")" or low in ("and", "or", "of"):
            raise self.fail(f"unexpected {tok!r}")
        if "*" in tok:
            raise self.fail(f"pattern {tok!r} needs '1 of' or 'all of'")
        if tok not in self.names:
            raise self.fail(f"refers to {tok!r}, which the detection does not define")
        return ("ref", tok)

    def quantified(self, quant: str, pattern: str) -> Cond:
        if pattern.lower() == "them":
            chosen = [n for n in self.names if not n.startswith("_")]
        else:
            chosen = [n for n in self.names if fnmatch.fnmatchcase(n, pattern)]
        if not chosen:
            raise self.fail(f"'{quant} of {pattern}' matches no detection")
        refs = tuple(("ref", n) for n in chosen)
        if len(refs) == 1:
            return refs[0]
        return ("and" if quant == "all" else "or", refs)


def parse_condition(text: str, names: Sequence[str]) -> Cond:
    """Parse one condition over the detection ``names``; raises UnsupportedRule with the reason."""
    return _Parser(text, names).parse()
