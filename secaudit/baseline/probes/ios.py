"""Cisco IOS running-config, read as the hierarchy IOS prints: top-level lines and their indented
children (``line vty 0 4`` / `` transport input telnet``); banner bodies are skipped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from secaudit.baseline.model import Observation
from secaudit.baseline.probes.base import Param, probe
from secaudit.baseline.target import FileTarget, NotApplicable, Target

_BANNER = re.compile(r"^banner\s+\S+\s+(\^C|\S)(.*)$", re.IGNORECASE)


@dataclass(slots=True)
class Node:
    text: str
    line: int
    children: list[Node] = field(default_factory=list)


def parse_ios(text: str) -> list[Node]:
    """Top-level nodes with their children; ``!`` comments and banner bodies dropped."""
    roots: list[Node] = []
    stack: list[tuple[int, Node]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        number = i + 1
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("!"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        node = Node(stripped, number)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            stack[-1][1].children.append(node)
        else:
            roots.append(node)
        stack.append((indent, node))
        m = _BANNER.match(stripped)
        if m:
            delim, rest = m.group(1), m.group(2)
            if delim not in rest:
                while i < len(lines) and delim not in lines[i]:
                    i += 1
                i += 1
            stack.pop()
    return roots


def _walk(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for n in nodes:
        out.append(n)
        out.extend(_walk(n.children))
    return out


# What every running-config (``show running-config``) has; a file without them is a fragment.
FULL_CONFIG_MARKS = {
    "hostname": re.compile(r"^hostname\s", re.IGNORECASE),
    "version": re.compile(r"^version\s", re.IGNORECASE),
    "line sections": re.compile(r"^line\s", re.IGNORECASE),
}


def fragment_gaps(tree: list[Node]) -> list[str]:
    """What a full running-config would have and this one lacks (empty: a full config)."""
    return [name for name, rx in FULL_CONFIG_MARKS.items() if not any(rx.search(n.text) for n in tree)]


def fragment_notice(where: str, gaps: list[str]) -> str:
    return (
        f"{where} is not a full running-config (no {', no '.join(gaps)}): a setting absent from a "
        "fragment may be set elsewhere, so checks that need a line to be present are not applicable"
    )


def _value(m: re.Match[str]) -> str:
    return (m.group(1) if m.re.groups and m.group(1) is not None else m.group(0)).strip()


@probe(
    "ios_config",
    targets=("file",),
    params=(
        Param(name="line", type=str, required=True),
        Param(name="section", type=str, default=""),
        Param(name="anywhere", type=bool, default=False),
    ),
)
def ios_config(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Lines matching ``line`` (case-insensitive regex; value is its first capture group, else the line).
    With ``section``, one observation per matching section (``line vty 0 4``): the first matching child,
    unset when the section has none. Without it, top-level lines (``anywhere``: any depth), one unset
    observation when none match."""
    if not isinstance(target, FileTarget):
        raise NotApplicable("IOS checks read a running-config dump: use a file: target")
    where = str(target.path)
    tree = target.memo("ios", lambda: parse_ios(target.dump()))
    if not tree:
        raise NotApplicable(f"{where} holds no configuration lines")
    gaps = fragment_gaps(tree)
    if gaps:
        target.note(fragment_notice(where, gaps))
    rx = re.compile(p["line"], re.IGNORECASE)
    if p.get("section"):
        srx = re.compile(p["section"], re.IGNORECASE)
        out = []
        for node in tree:
            if not srx.search(node.text):
                continue
            hit = next(((c, m) for c in _walk(node.children) if (m := rx.search(c.text))), None)
            if hit:
                out.append(Observation(subject=node.text, value=_value(hit[1]), file=where, line=hit[0].line))
            else:
                out.append(Observation(subject=node.text, value=None, file=where, line=node.line))
        if not out and gaps:
            raise NotApplicable(fragment_notice(where, gaps))
        return out
    nodes = _walk(tree) if p.get("anywhere") else tree
    out = [
        Observation(subject=n.text, value=_value(m), file=where, line=n.line)
        for n in nodes
        if (m := rx.search(n.text))
    ]
    if not out and gaps:  # absence in a fragment proves nothing
        raise NotApplicable(fragment_notice(where, gaps))
    return out or [Observation(subject=p["line"], value=None, file=where, note="no matching line")]
