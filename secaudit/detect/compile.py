"""IR nodes compiled into Python closures: the fast engine's exact evaluation of one candidate rule.

A predicate is ``pred(fields, low, event) -> bool``: ``fields`` the event's fields as read, ``low``
the same fields as lowercased text (a str, or a tuple of str for a list value; null fields absent),
computed once per event by the engine. Case-insensitive tests use ``low`` with plain str methods; only
regex, ``?`` wildcards, CIDR, numbers and time parts look further.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

import regex  # type: ignore[import-untyped]

from secaudit.core.events import LogEvent
from secaudit.detect.ir import QMARK, STAR, Node, Test, compile_re2
from secaudit.detect.values import (
    BOUNDED_REGEX_INPUT,
    REGEX_TIME_BUDGET,
    RegexBudgetExceeded,
    address_number,
    compare,
    in_network,
    number_of,
    regex_flags,
    texts,
    time_part,
    timestamp_of,
)

Pred = Callable[[dict[str, object], dict[str, Any], LogEvent], bool]
TextPred = Callable[[str], bool]


def compile_node(node: Node) -> Pred:
    kind = node[0]
    if kind == "sel":
        return compile_node(node[2])
    if kind == "and":
        return _all(tuple(compile_node(c) for c in sorted(node[1], key=cost)))
    if kind == "or":
        return _any(_grouped(tuple(sorted(node[1], key=cost))))
    if kind == "not":
        inner = compile_node(node[1])
        return lambda d, low, e: not inner(d, low, e)
    if kind == "const":
        value = bool(node[1])
        return lambda d, low, e: value
    if kind == "kw":
        return _keyword(node[1])
    if kind == "field":
        return _field(node[1], node[2])
    raise ValueError(f"unknown IR node {kind!r}")


_TEST_COST = {"re": 12, "glob": 3, "cidr": 8, "num": 3, "time": 10, "fieldref": 4}


def cost(node: Node) -> int:
    """A rough relative price of evaluating ``node``: cheap tests go first in AND and OR, which
    changes nothing but the time (the predicates have no side effects)."""
    kind = node[0]
    if kind in ("and", "or"):
        return sum(cost(c) for c in node[1])
    if kind == "not":
        return cost(node[1])
    if kind == "sel":
        return cost(node[2])
    if kind == "kw":
        return 30 + _TEST_COST.get(node[1][0], 1)
    if kind == "field":
        return _TEST_COST.get(node[2][0], 1)
    return 0


def _all(preds: tuple[Pred, ...]) -> Pred:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda d, low, e: a(d, low, e) and b(d, low, e)

    def every(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
        for p in preds:  # noqa: SIM110 - a plain loop: no generator on the hot path
            if not p(d, low, e):
                return False
        return True

    return every


def _any(preds: tuple[Pred, ...]) -> Pred:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda d, low, e: a(d, low, e) or b(d, low, e)

    def some(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
        for p in preds:  # noqa: SIM110 - a plain loop: no generator on the hot path
            if p(d, low, e):
                return True
        return False

    return some


_GROUPABLE = ("eq", "contains", "startswith", "endswith")


def _grouped(children: tuple[Node, ...]) -> tuple[Pred, ...]:
    """OR-ed children, with case-insensitive string tests of one field and one operation merged into
    a single test (a value list: ``endswith`` over a tuple, ``eq`` as a set lookup)."""
    groups: dict[tuple[str, str], list[str]] = {}
    networks: dict[str, list[str]] = {}
    others: list[Node] = []
    for child in children:
        if child[0] == "field" and child[2][0] in _GROUPABLE and not child[2][2]:
            groups.setdefault((child[1], child[2][0]), []).append(child[2][1])
        elif child[0] == "field" and child[2][0] == "cidr":
            networks.setdefault(child[1], []).append(child[2][1])
        else:
            others.append(child)
    preds = [
        _field(name, (op, pats[0], False)) if len(pats) == 1 else _field_many(name, op, tuple(pats))
        for (name, op), pats in groups.items()
    ]
    cidrs = [_cidr_many(name, tuple(nets)) for name, nets in networks.items()]
    return (*preds, *cidrs, *(compile_node(c) for c in others))


def _cidr_many(name: str, cidrs: tuple[str, ...]) -> Pred:
    """OR-ed ``|cidr`` tests of one field: each value parsed as an address once, then compared with
    every network's range (``address in network``, without parsing it again per network)."""
    ranges = []
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr)
        ranges.append((network.version, int(network.network_address), int(network.broadcast_address)))

    def in_any(text: str) -> bool:
        found = address_number(text)
        if found is None:
            return False
        version, number = found
        for net_version, low, high in ranges:  # noqa: SIM110 - a plain loop: no generator on the hot path
            if net_version == version and low <= number <= high:
                return True
        return False

    return _raw_any(name, in_any)


def _field_many(name: str, op: str, pats: tuple[str, ...]) -> Pred:
    if op == "eq":
        wanted = frozenset(pats)

        def eq_any(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
            v = low.get(name)
            if v.__class__ is str:
                return v in wanted
            return v is not None and not wanted.isdisjoint(v)

        return eq_any
    if op in ("startswith", "endswith"):
        method = str.startswith if op == "startswith" else str.endswith

        def ends_any(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
            v = low.get(name)
            if v.__class__ is str:
                return method(v, pats)
            return v is not None and any(method(x, pats) for x in v)

        return ends_any

    def contains_any(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
        v = low.get(name)
        if v.__class__ is str:
            for p in pats:  # noqa: SIM110 - a plain loop: no generator on the hot path
                if p in v:
                    return True
            return False
        return v is not None and any(p in x for x in v for p in pats)

    return contains_any


def _lowered_any(name: str, pred: TextPred) -> Pred:
    def run(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
        v = low.get(name)
        if v.__class__ is str:
            return pred(v)
        if v is None:
            return False
        return any(pred(x) for x in v)

    return run


def _raw_any(name: str, pred: TextPred) -> Pred:
    def run(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
        v = d.get(name)
        if isinstance(v, str):
            return pred(v)
        return any(pred(x) for x in texts(v))

    return run


def _field(name: str, test: Test) -> Pred:
    op = test[0]
    if op == "eq" and not test[2]:
        p = test[1]

        def eq(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
            v = low.get(name)
            if v.__class__ is str:
                return v == p  # type: ignore[no-any-return]
            return v is not None and p in v

        return eq
    if op == "contains" and not test[2]:
        p = test[1]

        def contains(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
            v = low.get(name)
            if v.__class__ is str:
                return p in v
            return v is not None and any(p in x for x in v)

        return contains
    if op in ("startswith", "endswith") and not test[2]:
        return _field_many(name, op, (test[1],))
    if op == "null":
        return lambda d, low, e: d.get(name) is None
    if op == "exists":
        want = bool(test[1])
        return lambda d, low, e: (name in d) is want
    if op == "num":
        cmp_op, number = test[1], float(test[2])

        def num(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
            v = d.get(name)
            values = v if isinstance(v, (list, tuple)) else (v,)
            return any(n is not None and compare(cmp_op, n, number) for n in map(number_of, values))

        return num
    if op == "time":
        part, want = test[1], test[2]

        def time(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
            stamp = timestamp_of(d.get(name), e)
            return stamp is not None and time_part(stamp, part) == want

        return time
    if op == "fieldref":
        other, mode = test[1], test[2]
        check = _string_op(mode)

        def fieldref(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
            mine, theirs = low.get(name), low.get(other)
            if mine is None or theirs is None:
                return False
            mine_t = (mine,) if mine.__class__ is str else mine
            theirs_t = (theirs,) if theirs.__class__ is str else theirs
            return any(check(m, t) for m in mine_t for t in theirs_t)

        return fieldref
    pred, lowered = text_pred(test)
    return _lowered_any(name, pred) if lowered else _raw_any(name, pred)


def _string_op(mode: str) -> Callable[[str, str], bool]:
    if mode == "eq":
        return str.__eq__
    if mode == "startswith":
        return str.startswith
    if mode == "endswith":
        return str.endswith
    return lambda text, pattern: pattern in text


def _keyword(test: Test) -> Pred:
    # ``low`` holds only the fields field tests read (see engine.lowered): keywords look at all values.
    pred, lowered = text_pred(test)
    if lowered:

        def kw_low(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
            return any(pred(t.lower()) for v in d.values() for t in texts(v))

        return kw_low

    def kw_raw(d: dict[str, object], low: dict[str, Any], e: LogEvent) -> bool:
        return any(pred(t) for v in d.values() for t in texts(v))

    return kw_raw


def text_pred(test: Test) -> tuple[TextPred, bool]:
    """A predicate over one text, and whether it expects that text already lowercased."""
    op = test[0]
    if op in ("eq", "contains", "startswith", "endswith"):
        p, cased = test[1], test[2]
        if op == "eq":
            return p.__eq__, not cased
        if op == "contains":
            return (lambda s: p in s), not cased
        if op == "startswith":
            return (lambda s: s.startswith(p)), not cased
        return (lambda s: s.endswith(p)), not cased
    if op == "glob":
        return _glob(test[1]), not test[2]
    if op == "re":
        pattern, flags, bounded = test[1], test[2], test[3]
        if bounded:
            return _bounded_search(pattern, flags), False
        return _re2_search(compile_re2(pattern, flags).search), False
    if op == "cidr":
        network = ipaddress.ip_network(test[1])
        return (lambda s: in_network(s, network)), False
    raise ValueError(f"test {op!r} does not apply to a single text")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _re2_search(fast: Callable[[str], Any]) -> TextPred:
    def search(s: str) -> bool:
        try:
            return fast(s) is not None
        except UnicodeEncodeError:  # lone surrogates (undecodable input): RE2 reads them as U+FFFD
            return fast(_SURROGATE.sub("\ufffd", s)) is not None

    return search


def _bounded_search(pattern: str, flags: str) -> TextPred:
    """A regex only a backtracking engine runs, held to a hard bound: the first
    :data:`BOUNDED_REGEX_INPUT` characters of a value and :data:`REGEX_TIME_BUDGET` seconds, past which
    :class:`RegexBudgetExceeded` tells the engine to disable the rule (``regex``'s timeout stops the
    match itself; Python's ``re`` has no way to stop one)."""
    search_ = regex.compile(pattern, regex_flags(flags)).search

    def search(s: str) -> bool:
        try:
            return search_(s[:BOUNDED_REGEX_INPUT], timeout=REGEX_TIME_BUDGET) is not None
        except TimeoutError:
            raise RegexBudgetExceeded(pattern) from None

    return search


def _glob(parts: tuple[Any, ...]) -> TextPred:
    if QMARK in parts:
        regex = "".join(".*" if p == STAR else "." if p == QMARK else re.escape(p) for p in parts)
        return _re2_search(compile_re2(regex, "s").fullmatch)
    # Only "*": the first literal is a prefix, the last a suffix, the middle ones are found in order.
    chunks: list[str] = [""]
    for part in parts:
        if part == STAR:
            chunks.append("")
        else:
            chunks[-1] += part
    prefix, middles, suffix = chunks[0], tuple(chunks[1:-1]), chunks[-1]
    need = len(prefix) + len(suffix)

    def glob(s: str) -> bool:
        if len(s) < need or not s.startswith(prefix) or not s.endswith(suffix):
            return False
        pos, end = len(prefix), len(s) - len(suffix)
        for m in middles:
            i = s.find(m, pos, end)
            if i < 0:
                return False
            pos = i + len(m)
        return True

    return glob
