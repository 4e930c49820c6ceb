"""YAML for content files: fast C parsing, duplicate keys refused, and a line for every node.

Every content file secaudit reads (profiles, baselines, exposure rules, waivers, catalogues)
goes through :func:`load_yaml`, so any later validation error can name ``file:line``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml

from secaudit.core.errors import ConfigError
from secaudit.core.files import read_regular

try:  # PyYAML wheels ship libyaml; fall back to pure Python only where it is missing.
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

MAX_BYTES = 16 * 1024 * 1024
#: Nesting deeper than this is refused (no content file needs it; deeper would exhaust the stack).
MAX_DEPTH = 64
#: Nodes that aliases may add by repeating others (a "billion laughs" document adds billions).
ALIAS_BUDGET = 10_000


class YDict(dict[str, Any]):
    """A mapping that remembers the line of itself and of each key."""

    __slots__ = ("key_lines", "line", "path")

    def __init__(self, path: str, line: int) -> None:
        super().__init__()
        self.path = path
        self.line = line
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YList(list[Any]):
    """A sequence that remembers the line of itself and of each item."""

    __slots__ = ("item_lines", "line", "path")

    def __init__(self, path: str, line: int) -> None:
        super().__init__()
        self.path = path
        self.line = line
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def located(path: str | Path, node: Any = None, key: str | int | None = None) -> str:
    """``path:line`` for a node (or one of its keys/items) produced by :func:`load_yaml`."""
    line = 0
    if isinstance(node, YDict):
        line = node.line_of(key) if isinstance(key, str) else node.line
    elif isinstance(node, YList):
        line = node.line_of(key) if isinstance(key, int) else node.line
    return f"{path}:{line}" if line else str(path)


def node_problem(node: yaml.Node) -> tuple[str, yaml.Mark] | None:
    """Why a composed document cannot be built safely, and where; None when it can.

    Composing shares an aliased node; building the document copies it for every alias, so a few
    lines can expand to billions of nodes. This walks the node graph once (iteratively, so a deep
    document cannot exhaust the stack) and counts what building it would make.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(node, 1, False)]
    unique = 0
    while stack:
        current, depth, done = stack.pop()
        key = id(current)
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(current))
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            return "an alias refers to a node that contains it (a recursive alias)", current.start_mark
        if depth > MAX_DEPTH:
            return f"nesting deeper than {MAX_DEPTH} levels", current.start_mark
        unique += 1
        open_nodes.add(key)
        stack.append((current, depth, True))
        for child in reversed(_children(current)):
            if id(child) in open_nodes:
                return "an alias refers to a node that contains it (a recursive alias)", child.start_mark
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))
    expanded = sizes[id(node)]
    if expanded - unique > ALIAS_BUDGET:
        return (
            f"aliases would repeat {expanded - unique} nodes, more than the {ALIAS_BUDGET} allowed "
            "(an alias bomb?)",
            node.start_mark,
        )
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def bounded(node: yaml.Node, path: str) -> yaml.Node:
    """``node`` if it builds within the limits (see :func:`node_problem`), else ConfigError at file:line."""
    problem = node_problem(node)
    if problem is not None:
        message, mark = problem
        raise ConfigError(
            message,
            location=f"{path}:{mark.line + 1}",
            hint="content files need neither deep nesting nor aliases that repeat large parts",
        )
    return node


def _scalar_loader() -> yaml.SafeLoader:
    return _Loader("")


def _construct(node: yaml.Node, path: str, scalars: yaml.SafeLoader) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        scalars.flatten_mapping(node)  # resolves YAML merge keys (<<)
        out = YDict(path, line)
        for key_node, value_node in node.value:
            key = _construct(key_node, path, scalars)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool) or isinstance(key, bool):
                raise ConfigError(
                    f"mapping key must be text, got {type(key).__name__}",
                    location=f"{path}:{key_line}",
                    hint="quote the key",
                )
            skey = str(key)
            if skey in out:
                raise ConfigError(
                    f"duplicate key '{skey}' (first at line {out.key_lines[skey]})",
                    location=f"{path}:{key_line}",
                    hint="remove or rename one of the two entries",
                )
            out[skey] = _construct(value_node, path, scalars)
            out.key_lines[skey] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = YList(path, line)
        for item in node.value:
            seq.append(_construct(item, path, scalars))
            seq.item_lines.append(item.start_mark.line + 1)
        return seq
    return scalars.construct_object(node, deep=True)


def parse_yaml(text: str, path: str = "<string>") -> Any:
    """Parse one YAML document from text; see :func:`load_yaml`."""
    if len(text) > MAX_BYTES:
        raise ConfigError(
            f"document of {len(text)} characters, more than the {MAX_BYTES} a content file may have",
            location=path,
            hint="split the file",
        )
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path}:{mark.line + 1}" if mark else path
        raise ConfigError(
            f"invalid YAML: {e.problem or e.context}",
            location=where,
            hint="check indentation, colons and quoting on or just above this line",
        ) from e
    except yaml.YAMLError as e:
        raise ConfigError(f"invalid YAML: {e}", location=path) from e
    if node is None:
        return None
    bounded(node, path)
    try:
        return _construct(node, path, _scalar_loader())
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else path
        raise ConfigError(f"invalid YAML value: {e.problem}", location=where) from e


def load_yaml(path: Path) -> Any:
    """Read a YAML file into YDict/YList/scalars with lines; raise ConfigError with file:line."""
    raw = read_regular(path, limit=MAX_BYTES, what="YAML file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError("not valid UTF-8", location=f"{path}:{line}", hint="save the file as UTF-8") from e
    return parse_yaml(text, str(path))


def suggest(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` when a close choice exists, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def shown_key(key: str) -> str:
    """A key as an error may quote it: a name in quotes, anything else only described.

    A file that is not ours (``/etc/shadow`` given as a waivers file) parses as a mapping whose
    "keys" are its lines; quoting them would copy its content into messages, history and reports.
    """
    if _NAME.fullmatch(key):
        return f"'{key}'"
    return f"(a {len(key)}-character key that is not a name; is this the right file?)"


def check_keys(
    mapping: Mapping[str, Any],
    *,
    allowed: Collection[str],
    required: Collection[str] = (),
    where: str,
) -> None:
    """Refuse unknown keys and require the required ones; ``where`` names the section."""
    path = mapping.path if isinstance(mapping, YDict) else where
    for key in mapping:
        if key not in allowed:
            raise ConfigError(
                f"unknown key {shown_key(key)} in {where}{suggest(key, allowed)}",
                location=located(path, mapping, key),
                hint=f"allowed keys: {', '.join(sorted(allowed))}",
            )
    for key in required:
        if key not in mapping:
            raise ConfigError(
                f"missing key '{key}' in {where}",
                location=located(path, mapping),
                hint=f"add '{key}:' to {where}",
            )
