"""Compliance catalogues as data: ``compliance/*.yaml``, one file per framework.

A catalogue names a framework's controls (their ids and our own short names, never the
framework's text) and points each control at what secaudit checks for it::

    framework: cis-controls-v8          # must match the file name
    title: CIS Critical Security Controls v8
    controls:
      - id: "4.1"
        name: Keep a secure configuration process
        checks: [ssh-permit-root-login]  # baseline check ids (baselines/*.yaml)
        exposure: [EXP-TELNET]           # exposure rule ids (rules/exposure/*.yaml)
        sigma: [attack.t1110]            # Sigma rule ids (UUIDs) or tags (attack.t1110)

Every error names ``file:line``. Whether referenced ids exist is checked by the tests against
the shipped baselines and rules (the catalogue loader does not load them: that is other layers'
content).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secaudit.catalog.yamlload import YDict, YList, check_keys, load_yaml, located
from secaudit.core.errors import ConfigError

FRAMEWORK_KEYS = ("framework", "title", "version", "source", "framework_controls", "controls")
CONTROL_KEYS = ("id", "name", "checks", "exposure", "sigma")
_SIGMA_TAG = re.compile(r"^[a-z][a-z0-9_-]*\.[a-z0-9_.-]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Control:
    """One control of a framework and what secaudit checks for it."""

    framework: str
    id: str
    name: str
    checks: tuple[str, ...] = ()
    exposure: tuple[str, ...] = ()
    sigma: tuple[str, ...] = ()
    location: str = ""

    @property
    def mapped(self) -> tuple[str, ...]:
        """Every id this control points at: check ids, exposure rule ids, Sigma ids and tags."""
        return (*self.checks, *self.exposure, *self.sigma)


@dataclass(frozen=True, slots=True, kw_only=True)
class Framework:
    id: str
    title: str
    version: str
    controls: tuple[Control, ...]
    path: str = ""
    size: int = 0  # controls in the whole framework (framework_controls); 0: only those listed


def default_dir() -> Path:
    """The shipped catalogues: ``compliance/`` in a checkout, package data when installed."""
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "compliance"
    return checkout if checkout.is_dir() else here.parents[1] / "_content" / "compliance"


def _text(node: YDict, key: str, path: str, *, required: bool = True) -> str:
    value = node.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool) or not str(value).strip():
        raise ConfigError(
            f"'{key}' must be non-empty text",
            location=located(path, node, key),
            hint=f'write {key}: "..." (quote ids such as "4.1")',
        )
    return str(value).strip()


def _ids(node: YDict, key: str, path: str) -> tuple[str, ...]:
    value = node.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(
            f"'{key}' must be a list of ids",
            location=located(path, node, key),
            hint=f"write {key}: [id-one, id-two]",
        )
    if len(set(value)) != len(value):
        raise ConfigError(
            f"'{key}' lists an id twice", location=located(path, node, key), hint="remove the repeat"
        )
    return tuple(v.strip() for v in value)


def _control(node: Any, framework: str, path: str, where: str) -> Control:
    if not isinstance(node, YDict):
        raise ConfigError("a control must be a mapping", location=where, hint="write - id: ...\\n  name: ...")
    check_keys(node, allowed=CONTROL_KEYS, required=("id", "name"), where="control")
    sigma = _ids(node, "sigma", path)
    for value in sigma:
        if not (_SIGMA_TAG.match(value) or _UUID.match(value)):
            raise ConfigError(
                f"sigma entry '{value}' is neither a Sigma rule id (UUID) nor a tag",
                location=located(path, node, "sigma"),
                hint="use a rule's id or a lower-case tag such as attack.t1110",
            )
    return Control(
        framework=framework,
        id=_text(node, "id", path),
        name=_text(node, "name", path),
        checks=_ids(node, "checks", path),
        exposure=_ids(node, "exposure", path),
        sigma=sigma,
        location=located(path, node),
    )


def load_framework(path: Path) -> Framework:
    """Load and validate one catalogue file; raise ConfigError with ``file:line``."""
    data = load_yaml(path)
    spath = str(path)
    if not isinstance(data, YDict):
        raise ConfigError(
            "a compliance catalogue must be a mapping", location=spath, hint="start with framework: ..."
        )
    check_keys(data, allowed=FRAMEWORK_KEYS, required=("framework", "title", "controls"), where="catalogue")
    framework = _text(data, "framework", spath)
    if framework != path.stem:
        raise ConfigError(
            f"framework '{framework}' must match the file name '{path.stem}'",
            location=located(spath, data, "framework"),
            hint=f"rename the file to {framework}.yaml or fix the id",
        )
    items = data["controls"]
    if not isinstance(items, YList) or not items:
        raise ConfigError(
            "'controls' must be a non-empty list",
            location=located(spath, data, "controls"),
            hint="add - id: ...",
        )
    controls: list[Control] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(items):
        control = _control(item, framework, spath, located(spath, items, index))
        if control.id in seen:
            raise ConfigError(
                f"control '{control.id}' appears twice (first at {seen[control.id]})",
                location=control.location,
                hint="merge the two entries",
            )
        seen[control.id] = control.location
        controls.append(control)
    size = data.get("framework_controls", 0)
    if "framework_controls" in data and (
        not isinstance(size, int) or isinstance(size, bool) or size < len(controls)
    ):
        raise ConfigError(
            f"framework_controls must be the number of controls in the whole framework, at least the "
            f"{len(controls)} listed here",
            location=located(spath, data, "framework_controls"),
            hint="count the framework's controls (e.g. 153 CIS Controls v8 safeguards)",
        )
    return Framework(
        size=size,
        id=framework,
        title=_text(data, "title", spath),
        version=_text(data, "version", spath, required=False),
        controls=tuple(controls),
        path=spath,
    )


def load_frameworks(folder: Path | None = None) -> tuple[list[Framework], list[ConfigError]]:
    """Every ``*.yaml`` catalogue in ``folder`` (default: shipped), in file-name order.

    A broken file costs only itself: its error is returned and the others still load.
    """
    frameworks: list[Framework] = []
    errors: list[ConfigError] = []
    folder = folder or default_dir()
    for path in sorted(folder.glob("*.yaml")):
        try:
            frameworks.append(load_framework(path))
        except ConfigError as e:
            errors.append(e)
    return frameworks, errors
