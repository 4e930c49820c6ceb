"""The reference matcher: a direct, obviously correct walk of the IR for one rule and one event.

Slow on purpose and written for reading: it defines what a match is. The fast engine must agree
with it on every (rule, event); the differential tests check that. The engine also uses
:func:`matched_fields` to describe the hits it found (hits are rare, clarity wins).
"""

from __future__ import annotations

import ipaddress
import re

from secaudit.core.events import LogEvent
from secaudit.detect.ir import Node, Test
from secaudit.detect.values import (
    BOUNDED_REGEX_INPUT,
    compare,
    in_network,
    number_of,
    regex_flags,
    sigma_view,
    texts,
    time_part,
    timestamp_of,
)


def reference_matches(node: Node, event: LogEvent) -> bool:
    """True if the rule whose compiled condition is ``node`` matches ``event``."""
    return _matches(node, sigma_view(event.fields), event)


def _matches(node: Node, fields: dict[str, object], event: LogEvent) -> bool:
    kind = node[0]
    if kind == "and":
        return all(_matches(child, fields, event) for child in node[1])
    if kind == "or":
        return any(_matches(child, fields, event) for child in node[1])
    if kind == "not":
        return not _matches(node[1], fields, event)
    if kind == "const":
        return bool(node[1])
    if kind == "sel":
        return _matches(node[2], fields, event)
    if kind == "kw":
        return any(_text_passes(node[1], text) for value in event.fields.values() for text in texts(value))
    if kind == "field":
        return _field_passes(node[1], node[2], fields, event)
    raise ValueError(f"unknown IR node {kind!r}")


def _field_passes(name: str, test: Test, fields: dict[str, object], event: LogEvent) -> bool:
    op = test[0]
    if op == "null":
        return fields.get(name) is None
    if op == "exists":
        return (name in fields) is test[1]
    if op == "time":  # the field as a timestamp, or the event's own timestamp without the field
        stamp = timestamp_of(fields.get(name), event)
        return stamp is not None and time_part(stamp, test[1]) == test[2]
    if name not in fields:
        return False
    value = fields[name]
    if op == "num":
        values = value if isinstance(value, (list, tuple)) else [value]
        numbers = [n for n in map(number_of, values) if n is not None]
        return any(compare(test[1], n, float(test[2])) for n in numbers)
    if op == "fieldref":
        others = [t.lower() for t in texts(fields.get(test[1]))]
        mine = [t.lower() for t in texts(value)]
        return any(_string_passes(test[2], other, m) for m in mine for other in others)
    return any(_text_passes(test, text) for text in texts(value))


def _text_passes(test: Test, text: str) -> bool:
    op = test[0]
    if op == "re":
        pattern, flags, bounded = test[1], test[2], test[3]
        subject = text[:BOUNDED_REGEX_INPUT] if bounded else text
        return re.search(pattern, subject, regex_flags(flags)) is not None
    if op == "cidr":
        return in_network(text, ipaddress.ip_network(test[1]))
    if op == "glob":
        parts, cased = test[1], test[2]
        regex = "".join(".*" if p == ("*",) else "." if p == ("?",) else re.escape(p) for p in parts)
        return re.fullmatch(regex, text if cased else text.lower(), re.DOTALL) is not None
    if op in ("eq", "contains", "startswith", "endswith"):
        return _string_passes(op, test[1], text if test[2] else text.lower())
    raise ValueError(f"test {op!r} does not apply to a single text")


def _string_passes(op: str, pattern: str, text: str) -> bool:
    if op == "eq":
        return text == pattern
    if op == "contains":
        return pattern in text
    if op == "startswith":
        return text.startswith(pattern)
    return text.endswith(pattern)


def fields_of(node: Node, fields: dict[str, object], event: LogEvent, out: dict[str, object]) -> None:
    """Add to ``out`` the fields ``node`` refers to that the event has (keywords: the fields that match)."""
    kind = node[0]
    if kind in ("and", "or"):
        for child in node[1]:
            fields_of(child, fields, event, out)
    elif kind == "sel":
        fields_of(node[2], fields, event, out)
    elif kind == "field":
        test = node[2]
        for name in (node[1], test[1]) if test[0] == "fieldref" else (node[1],):
            if name in fields:
                out[name] = fields[name]
    elif kind == "kw":
        for name, value in event.fields.items():
            if any(_text_passes(node[1], text) for text in texts(value)):
                out[name] = value
    # below a "not" nothing matched: the fields there are the ones that did not match


def matched_fields(node: Node, event: LogEvent) -> dict[str, object]:
    """The event fields that the rule's satisfied selections (outside any negation) refer to."""
    out: dict[str, object] = {}
    fields = sigma_view(event.fields)
    for sel in positive_selections(node):
        if _matches(sel, fields, event):
            fields_of(sel[2], fields, event, out)
    return out


def positive_selections(node: Node) -> list[Node]:
    kind = node[0]
    if kind == "sel":
        return [node]
    if kind in ("and", "or"):
        return [s for child in node[1] for s in positive_selections(child)]
    return []
