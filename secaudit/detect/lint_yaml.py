"""YAML for rule checking: every document of a file, with the line of every key and item.

Unlike the engine's loader, the checker wants all of a broken file it can get: duplicate keys are
reported (YAML silently keeps the last) and a syntax error ends the file at its line, keeping the
documents before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from secaudit.catalog.yamlload import node_problem


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class LintProblem:
    """One problem, at ``path:line``; ``check`` names the check that found it."""

    path: str
    line: int
    message: str
    hint: str = ""
    check: str = ""
    rule_id: str = ""

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" + (f" ({self.hint})" if self.hint else "")

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "location": self.location,
            "message": self.message,
            "hint": self.hint,
            "check": self.check,
            "rule_id": self.rule_id,
        }


class LMap(dict[str, Any]):
    """A mapping that knows its line and the line of each key."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LList(list[Any]):
    """A sequence that knows its line and the line of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


@dataclass
class Doc:
    path: str
    index: int
    line: int
    data: Any
    problems: list[LintProblem] = field(default_factory=list)
    parsed: Any = None  # the pySigma rule object, when it parsed without errors


def documents(path: str, text: str, problems: list[LintProblem]) -> list[Doc]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    scalars = loader("")
    docs: list[Doc] = []
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=loader)):
            if node is None:
                continue
            problem = node_problem(node)
            if problem is not None:  # an alias bomb or deep nesting: never built
                message, where = problem
                problems.append(
                    LintProblem(path=path, line=where.line + 1, message=f"YAML: {message}", check="yaml")
                )
                continue
            doc = Doc(path, index, node.start_mark.line + 1, None)
            doc.data = construct(node, scalars, doc)
            docs.append(doc)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problems.append(
            LintProblem(
                path=path,
                line=mark.line + 1 if mark else 1,
                message=f"YAML: {e.problem or e.context}",
                hint="check indentation, colons and quoting on or just above this line",
                check="yaml",
            )
        )
    except yaml.YAMLError as e:
        problems.append(LintProblem(path=path, line=1, message=f"YAML: {e}", check="yaml"))
    return docs


def construct(node: yaml.Node, scalars: Any, doc: Doc) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        scalars.flatten_mapping(node)
        out = LMap(line)
        for key_node, value_node in node.value:
            key = str(construct(key_node, scalars, doc))
            key_line = key_node.start_mark.line + 1
            if key in out:
                doc.problems.append(
                    LintProblem(
                        path=doc.path,
                        line=key_line,
                        message=f"duplicate key '{key}' (first at line {out.key_lines[key]})",
                        hint="YAML keeps only the last one: remove or merge them",
                        check="yaml",
                    )
                )
            out[key] = construct(value_node, scalars, doc)
            out.key_lines[key] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LList(line)
        for item in node.value:
            seq.append(construct(item, scalars, doc))
            seq.item_lines.append(item.start_mark.line + 1)
        return seq
    return scalars.construct_object(node, deep=True)


def plain(value: Any) -> Any:
    """Plain dicts and lists, as pySigma expects them."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
