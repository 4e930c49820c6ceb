"""Server software configuration: PostgreSQL (postgresql.conf, pg_hba.conf) and Docker's daemon.json."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from secaudit.baseline.model import Observation
from secaudit.baseline.probes.base import CONFIGS, Param, config_text, logical_lines, probe
from secaudit.baseline.target import FileTarget, NotApplicable, ProbeError, Target

PG_CONF = "/etc/postgresql/*/main/postgresql.conf"
PG_HBA = "/etc/postgresql/*/main/pg_hba.conf"
DOCKER_DAEMON = "/etc/docker/daemon.json"
_PG_LINE = re.compile(r"^([A-Za-z_.][\w.]*)\s*=?\s*(.*)$")


def _first(target: Target, pattern: str, what: str) -> str:
    if isinstance(target, FileTarget):
        return str(target.path)
    paths = target.glob(pattern) if any(c in pattern for c in "*?[") else [pattern]
    if not paths:
        raise NotApplicable(f"no {pattern} in the target ({what} not installed or not collected)")
    return paths[-1]  # the highest version when several clusters exist


def _pg_value(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith("'"):
        end = raw.find("'", 1)
        while end != -1 and raw[end + 1 : end + 2] == "'":
            end = raw.find("'", end + 2)
        return raw[1:end].replace("''", "'") if end != -1 else raw[1:]
    return raw.split("#", 1)[0].strip()


def _pg_settings(target: Target, path: str) -> dict[str, Observation]:
    values: dict[str, Observation] = {}

    def read(file: str, text: str, depth: int) -> None:
        if depth > 10:
            raise ProbeError(f"{file}: include nested more than 10 deep (a loop?)")
        for number, line in logical_lines(text):
            m = _PG_LINE.match(line)
            if not m:
                continue
            key, value = m.group(1).lower(), _pg_value(m.group(2))
            if key in {"include", "include_if_exists", "include_dir"}:
                if isinstance(target, FileTarget):
                    continue
                ref = value if value.startswith("/") else posixpath.join(posixpath.dirname(file), value)
                refs = (
                    [f"{ref}/{n}" for n in target.listdir(ref) or [] if n.endswith(".conf")]
                    if key == "include_dir"
                    else [ref]
                )
                for r in refs:
                    sub = target.read_text(r)
                    if sub is None and key == "include":
                        raise ProbeError(f"{file}:{number}: included file {r} does not exist")
                    if sub is not None:
                        read(r, sub, depth + 1)
                continue
            values[key] = Observation(subject=key, value=value, file=file, line=number)

    label, text = config_text(target, path, what="PostgreSQL")
    read(label, text, 0)
    return values


@probe(
    "pg_setting",
    targets=CONFIGS,
    params=(
        Param(name="name", type=str, required=True),
        Param(name="default", type=str, default=None),
        Param(name="path", type=str, default=PG_CONF),
    ),
)
def pg_setting(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """A postgresql.conf parameter after include/include_dir (the last assignment wins); ``default``
    when unset (PostgreSQL's built-in default for that parameter), else unset."""
    path = _first(target, p.get("path", PG_CONF), "PostgreSQL")
    settings = target.memo(("pg", path), lambda: _pg_settings(target, path))
    key = p["name"].lower()
    if key in settings:
        return [settings[key]]
    default = p.get("default")
    return [Observation(subject=key, value=default, file=path, note="PostgreSQL default" if default else "")]


@probe(
    "pg_hba",
    targets=CONFIGS,
    params=(
        Param(name="path", type=str, default=PG_HBA),
        Param(name="entry_type", type=str, default=""),
        Param(name="field", type=str, default="method", choices=("method", "address", "entry")),
    ),
)
def pg_hba(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Every pg_hba.conf entry (only those of ``entry_type`` when given: local, host, hostssl...).
    Value: the authentication method, the client address (``field: address``; with a separate
    netmask as ADDRESS/MASK; empty for local) or the whole entry up to the method (``field:
    entry``); subject: the entry's type, database, user and address."""
    path = _first(target, p.get("path", PG_HBA), "PostgreSQL")
    label, text = config_text(target, path, what="PostgreSQL")
    out = []
    for number, line in logical_lines(text):
        words = line.split("#", 1)[0].split()
        if not words or words[0].startswith("include"):
            continue
        kind = words[0]
        fixed = 3 if kind == "local" else 4
        if len(words) <= fixed:
            raise ProbeError(f"{label}:{number}: entry has too few fields")
        if p.get("entry_type") and kind != p["entry_type"]:
            continue
        address = "" if kind == "local" else words[3]
        method = words[fixed]
        if kind != "local" and "/" not in words[3] and len(words) > 5 and re.match(r"^[\d.:a-f]+$", words[4]):
            method = words[5]  # address followed by a separate netmask
            address = f"{words[3]}/{words[4]}"
        entry = " ".join([*words[:3], address]).strip()
        value = {"method": method, "address": address, "entry": entry}[p.get("field", "method")]
        out.append(
            Observation(
                subject=" ".join(words[:fixed]),
                value=value,
                file=label,
                line=number,
                attrs=(("type", kind), ("method", method)),
            )
        )
    return out or [Observation(subject="pg_hba.conf", value=None, file=label, note="no matching entry")]


@probe(
    "docker_daemon",
    targets=CONFIGS,
    params=(Param(name="key", type=str, required=True), Param(name="default", type=str, default=None)),
)
def docker_daemon(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """A daemon.json setting (dotted keys reach into objects); JSON true/false/null as text, lists and
    objects as compact JSON. Unset keys take ``default`` (Docker's built-in value)."""
    if isinstance(target, FileTarget):
        label, text = str(target.path), target.dump()
    else:
        if target.info("/usr/bin/dockerd") is None and target.info("/etc/docker") is None:
            raise NotApplicable("Docker is not installed in the target (no /usr/bin/dockerd, no /etc/docker)")
        label, text = DOCKER_DAEMON, target.read_text(DOCKER_DAEMON) or "{}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProbeError(f"{label}:{e.lineno}: invalid JSON: {e.msg}") from e
    node: Any = data
    for part in p["key"].split("."):
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            break
    if node is None:
        default = p.get("default")
        return [
            Observation(subject=p["key"], value=default, file=label, note="Docker default" if default else "")
        ]
    if isinstance(node, bool):
        value = "true" if node else "false"
    elif isinstance(node, (dict, list)):
        value = json.dumps(node, separators=(",", ":"), sort_keys=True)
    else:
        value = str(node)
    line = next((i for i, t in enumerate(text.splitlines(), 1) if f'"{p["key"].split(".")[-1]}"' in t), 0)
    return [Observation(subject=p["key"], value=value, file=label, line=line)]
