"""The Thai beside the English in content files: one ``th:`` block per check or rule, validated at load.

The agreed schema (every content file uses it)::

    # a baseline check
    th: {title: ..., rationale: ..., remediation: ...}
    # an exposure rule, an own Sigma rule
    th: {title: ..., description: ..., remediation: ...}

Every key is required, nothing else is allowed, and every value must be text containing Thai
script (commands, paths and configuration lines inside it stay in Latin script as the English has
them). The block itself is optional for a user's own file; the shipped content has one on every
item, which ``tests/content/test_thai.py`` proves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from secaudit.catalog.yamlload import YDict, check_keys, located
from secaudit.core.errors import ConfigError
from secaudit.core.model import LocalText

THAI_SCRIPT = re.compile("[\u0e01-\u0e5b]")  # the Thai block's letters, vowels, tone marks and digits
CHECK_KEYS = ("title", "rationale", "remediation")
RULE_KEYS = ("title", "description", "remediation")


def has_thai(text: str) -> bool:
    """Whether ``text`` holds at least one Thai character."""
    return THAI_SCRIPT.search(text) is not None


def thai_problem(block: Any, keys: Sequence[str]) -> tuple[str, str | None, str] | None:
    """What is wrong with a ``th:`` block, as (message, key or None, hint); None when it is right.

    For content that is not read through :func:`~secaudit.catalog.yamlload.load_yaml` (Sigma
    rules), so the caller can report the problem its own way.
    """
    shape = f"th: {{{', '.join(f'{k}: ...' for k in keys)}}}"
    if not isinstance(block, Mapping):
        return "'th' must be a mapping", None, shape
    for key in block:
        if key not in keys:
            return f"unknown key '{key}' in th", str(key), f"allowed keys: {', '.join(keys)}"
    for key in keys:
        if key not in block:
            return f"missing key '{key}' in th", None, shape
        value = block[key]
        if not isinstance(value, str) or not value.strip():
            return f"th {key} must be non-empty text", key, "write the Thai text"
        if not has_thai(value):
            return (
                f"th {key} has no Thai script",
                key,
                "write it in Thai; keep only commands, paths and configuration lines in Latin script",
            )
    return None


def read_thai(node: Mapping[str, Any], keys: Sequence[str], where: str) -> tuple[LocalText, ...]:
    """The ``th:`` block of ``node`` (a check or rule read by ``load_yaml``) as a :class:`LocalText`;
    ``()`` when there is none; :class:`ConfigError` at the block's file:line when it is wrong."""
    if "th" not in node:
        return ()
    block = node["th"]
    path = node.path if isinstance(node, YDict) else where
    if isinstance(block, YDict):
        check_keys(block, allowed=keys, required=keys, where=f"th of {where}")
    problem = thai_problem(block, keys)
    if problem is not None:
        message, key, hint = problem
        at = located(path, block, key) if isinstance(block, YDict) else located(path, node, "th")
        raise ConfigError(message, location=at, hint=hint)
    return (
        LocalText(
            lang="th",
            title=_clean(block["title"]),
            description=_clean(block[keys[1]]),
            remediation=_clean(block["remediation"]),
        ),
    )


def _clean(text: str) -> str:
    """Folded YAML leaves line breaks and runs of spaces; the English is joined the same way."""
    return " ".join(text.split())
