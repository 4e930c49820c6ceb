"""Compliance catalogues as data: ``compliance/*.yaml``, one file per framework.

A catalogue lists EVERY control of its framework (coverage is counted against all of them), each
with its id and our own short name in English and Thai, never the framework's text::

    framework: cis-controls-v8          # must match the file name
    cited_as: cis-controls              # the reference kind checks and rules cite its controls by
    title: CIS Critical Security Controls v8
    controls:
      - {id: "4.1", name: Keep a secure configuration process, th: มีกระบวนการตั้งค่าที่ปลอดภัย}

Which check or rule assesses which control is written in ONE place: the check's or rule's own
``references`` (``cis-controls: ["4.8"]`` in a baseline, ``{kind: cis-controls, id: "4.8"}`` in an
exposure rule, ``compliance: {cis-controls: ["8.11"]}`` in an own Sigma rule). A catalogue holds no
mapping. ``compliance/unmapped.yaml`` names the checks and rules that assess no control of a
framework, each with the reason (:func:`load_unmapped`).

Every error names ``file:line``. Whether the ids cited in references exist in the catalogues, and
whether every shipped check and rule is mapped or excused, is checked by tests/risk/test_compliance.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secaudit.catalog.localtext import has_thai
from secaudit.catalog.yamlload import YDict, YList, check_keys, load_yaml, located
from secaudit.core.errors import ConfigError
from secaudit.core.model import Reference, RefKind

FRAMEWORK_KEYS = ("framework", "cited_as", "title", "version", "source", "controls")
CONTROL_KEYS = ("id", "name", "th")
UNMAPPED_FILE = "unmapped.yaml"  # not a catalogue: the excused checks and rules (load_unmapped)
UNMAPPED_KEYS = ("id", "frameworks", "reason")
_CITABLE = (RefKind.CIS_CONTROLS, RefKind.ISO27001, RefKind.NIST_CSF, RefKind.TH_CII)


@dataclass(frozen=True, slots=True, kw_only=True)
class Control:
    """One control of a framework, with our own short name in English and Thai."""

    framework: str
    id: str
    name: str
    th: str = ""
    location: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Framework:
    id: str
    title: str
    version: str
    controls: tuple[Control, ...]  # every control of the framework
    cited_as: RefKind = RefKind.CIS_CONTROLS  # the reference kind that cites these controls
    path: str = ""

    @property
    def size(self) -> int:
        """Controls in the whole framework."""
        return len(self.controls)

    def control(self, control_id: str) -> Control | None:
        return next((c for c in self.controls if c.id == control_id), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unmapped:
    """A check or rule that assesses no control of ``frameworks``, and why."""

    id: str
    frameworks: tuple[str, ...]
    reason: str
    location: str = ""


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
    return " ".join(str(value).split())


def _control(node: Any, framework: str, path: str, where: str) -> Control:
    if not isinstance(node, YDict):
        raise ConfigError(
            "a control must be a mapping", location=where, hint='write - {id: "...", name: "...", th: "..."}'
        )
    check_keys(node, allowed=CONTROL_KEYS, required=CONTROL_KEYS, where="control")
    thai = _text(node, "th", path)
    if not has_thai(thai):
        raise ConfigError(
            f"the Thai name '{thai}' has no Thai script",
            location=located(path, node, "th"),
            hint="write the control's short name in Thai (see THAI-GLOSSARY.md)",
        )
    return Control(
        framework=framework,
        id=_text(node, "id", path),
        name=_text(node, "name", path),
        th=thai,
        location=located(path, node),
    )


def _cited_as(data: YDict, path: str) -> RefKind:
    value = data.get("cited_as")
    kinds = {k.value: k for k in _CITABLE}
    if value not in kinds:
        raise ConfigError(
            f"cited_as must be the reference kind that cites this framework, not {value!r}",
            location=located(path, data, "cited_as") if "cited_as" in data else located(path, data),
            hint=f"use one of: {', '.join(kinds)}",
        )
    return kinds[str(value)]


def load_framework(path: Path) -> Framework:
    """Load and validate one catalogue file; raise ConfigError with ``file:line``."""
    data = load_yaml(path)
    spath = str(path)
    if not isinstance(data, YDict):
        raise ConfigError(
            "a compliance catalogue must be a mapping", location=spath, hint="start with framework: ..."
        )
    check_keys(
        data,
        allowed=FRAMEWORK_KEYS,
        required=("framework", "cited_as", "title", "controls"),
        where="catalogue",
    )
    framework = _text(data, "framework", spath)
    if framework != path.stem:
        raise ConfigError(
            f"framework '{framework}' must match the file name '{path.stem}'",
            location=located(spath, data, "framework"),
            hint=f"rename the file to {framework}.yaml or fix the id",
        )
    cited_as = _cited_as(data, spath)
    items = data["controls"]
    if not isinstance(items, YList) or not items:
        raise ConfigError(
            "'controls' must be a non-empty list",
            location=located(spath, data, "controls"),
            hint="add - {id: ..., name: ..., th: ...}",
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
    return Framework(
        id=framework,
        title=_text(data, "title", spath),
        version=_text(data, "version", spath, required=False),
        controls=tuple(controls),
        cited_as=cited_as,
        path=spath,
    )


def load_frameworks(folder: Path | None = None) -> tuple[list[Framework], list[ConfigError]]:
    """Every ``*.yaml`` catalogue in ``folder`` (default: shipped), in file-name order.

    A broken file costs only itself: its error is returned and the others still load. Two
    catalogues cited by the same reference kind are an error of the second.
    """
    frameworks: list[Framework] = []
    errors: list[ConfigError] = []
    folder = folder or default_dir()
    for path in sorted(folder.glob("*.yaml")):
        if path.name == UNMAPPED_FILE:
            continue
        try:
            framework = load_framework(path)
        except ConfigError as e:
            errors.append(e)
            continue
        twin = next((f for f in frameworks if f.cited_as is framework.cited_as), None)
        if twin is not None:
            errors.append(
                ConfigError(
                    f"{framework.id} and {twin.id} are both cited as '{framework.cited_as.value}'",
                    location=str(path),
                    hint="give each catalogue its own reference kind",
                )
            )
            continue
        frameworks.append(framework)
    return frameworks, errors


def load_unmapped(path: Path | None = None, frameworks: tuple[str, ...] | None = None) -> list[Unmapped]:
    """``compliance/unmapped.yaml``: the checks and rules that assess no control of a framework.

    Each entry names the check or rule, the frameworks it maps to nothing of, and why (text of at
    least a few words); ``frameworks`` (when given) are the framework ids an entry may name.
    A missing file is an empty list.
    """
    path = path or default_dir() / UNMAPPED_FILE
    if not path.is_file():
        return []
    spath = str(path)
    data = load_yaml(path)
    if not isinstance(data, YDict):
        raise ConfigError(
            "unmapped.yaml must be a mapping", location=spath, hint="start with unmapped: [...]"
        )
    check_keys(data, allowed=("unmapped",), required=("unmapped",), where="unmapped.yaml")
    items = data["unmapped"]
    if not isinstance(items, YList):
        raise ConfigError("'unmapped' must be a list", location=located(spath, data, "unmapped"))
    out: list[Unmapped] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, YDict):
            raise ConfigError("an entry must be a mapping", location=located(spath, items), hint="- id: ...")
        check_keys(item, allowed=UNMAPPED_KEYS, required=UNMAPPED_KEYS, where="unmapped entry")
        names = item["frameworks"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ConfigError(
                "'frameworks' must be a non-empty list of framework ids",
                location=located(spath, item, "frameworks"),
                hint="e.g. frameworks: [cis-controls-v8]",
            )
        unknown = [n for n in names if frameworks is not None and n not in frameworks]
        if unknown:
            raise ConfigError(
                f"unknown framework '{unknown[0]}'",
                location=located(spath, item, "frameworks"),
                hint=f"use one of: {', '.join(frameworks or ())}",
            )
        reason = _text(item, "reason", spath)
        if len(reason.split()) < 4:
            raise ConfigError(
                "the reason must say why in a sentence",
                location=located(spath, item, "reason"),
                hint="say why no control of the framework applies to this check or rule",
            )
        entry = Unmapped(
            id=_text(item, "id", spath), frameworks=tuple(names), reason=reason, location=located(spath, item)
        )
        if entry.id in seen:
            raise ConfigError(
                f"'{entry.id}' is listed twice", location=entry.location, hint="merge the two entries"
            )
        seen.add(entry.id)
        out.append(entry)
    return out


def compliance_references(block: Any) -> tuple[tuple[Reference, ...], str]:
    """An own Sigma rule's ``compliance:`` attribute (``{cis-controls: ["8.11"], iso27001: [A.8.16],
    nist-csf: [DE.CM-03], th-cii: [detect]}``) as references, and what is wrong with it ("" when
    nothing). A rule without the attribute has none."""
    if block is None:
        return (), ""
    kinds = {k.value: k for k in _CITABLE}
    if not isinstance(block, dict):
        return (), "'compliance' must map a reference kind to a list of control ids"
    refs: list[Reference] = []
    for key, ids in block.items():
        if key not in kinds:
            return (), f"unknown compliance kind '{key}' (use {', '.join(kinds)})"
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str | int | float) for i in ids):
            return (), f"'compliance: {key}' must be a non-empty list of control ids"
        refs.extend(Reference(kind=kinds[key], id=str(i).strip()) for i in ids)
    return tuple(refs), ""
