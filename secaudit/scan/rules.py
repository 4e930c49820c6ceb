"""Exposure rules: YAML data saying which observed ports are problems, validated at load.

A rule file (``rules/exposure/*.yaml``) holds ``rules:``, a list of rules::

    - id: EXP-TELNET                 # EXP-[A-Z0-9-]+, unique over all files
      title: Telnet login service reachable
      severity: high                 # info | low | medium | high | critical
      description: ...
      remediation: ...               # required: what to change
      references: [{kind: cwe, id: CWE-319}]
      th: {title: ..., description: ..., remediation: ...}   # the same in Thai (optional)
      match:                         # every given condition must hold for one port
        protocol: tcp                # tcp | udp
        services: [telnet]           # names nmap *probed*; a probed other name never matches
        ports: [23]                  # numbers; used alone, or when the service was not probed
        tunnel: none                 # none | ssl (default: either)
        segment_kinds: [it, dmz]     # host's segment kind is one of these
        not_segment_kinds: [mgmt]    # ... or not one of these
        script:                      # an NSE result on the port
          id: ssl-enum-ciphers
          keys: [TLSv1.0]            # any of these keys appears in its structured output
          under: [least strength]    # values of these keys (or of elems below these tables)...
          values: [D, E, F]          # ... equal one of these (case-insensitive)
          pattern: "(?i)admin"       # regex searched in the text output
          before_scan: [notAfter]    # a date-time under these keys lies before the scan (expired)
                                     # host scripts (smb-protocols, ...) count for ports listed
        not_script:                  # ... unless an NSE result on the port matches this (same keys)
          id: snmp-brute

Matching needs the port state ``open`` (UDP also ``open|filtered`` when a script answered).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secaudit.catalog.localtext import RULE_KEYS as THAI_KEYS
from secaudit.catalog.localtext import read_thai
from secaudit.catalog.yamlload import YDict, YList, check_keys, load_yaml, located, suggest
from secaudit.core.errors import ConfigError
from secaudit.core.model import LocalText, Reference, RefKind, SegmentKind, Severity
from secaudit.scan.nmapxml import Port, Script

RULE_ID = re.compile(r"^EXP-[A-Z0-9]+(?:-[A-Z0-9]+)*$")
_RULE_KEYS = ("id", "title", "severity", "description", "remediation", "references", "match", "th")
_MATCH_KEYS = (
    "protocol",
    "services",
    "ports",
    "tunnel",
    "segment_kinds",
    "not_segment_kinds",
    "script",
    "not_script",
)
_SCRIPT_KEYS = ("id", "keys", "under", "values", "pattern", "before_scan")
_KINDS = [k.value for k in SegmentKind]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptCondition:
    id: str
    keys: tuple[str, ...] = ()
    under: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    before_scan: tuple[str, ...] = ()

    def matches(self, script: Script, at: datetime | None = None) -> str | None:
        """The excerpt that proves the match, or None. ``at``: when the host was scanned (dates
        under ``before_scan`` keys must lie before it; without it they never match)."""
        if script.id != self.id or script.output.lstrip().startswith("ERROR"):
            return None
        hits: list[str] = []
        if self.before_scan:
            past = [v for key in self.before_scan for v in script.table.under(key) if _before(v, at)]
            if not past:
                return None
            hits += [f"{key} {v}" for key in self.before_scan for v in script.table.under(key) if v in past]
        if self.keys:
            found = [k for k in self.keys if script.table.has_key(k)]
            if not found:
                return None
            hits += found
        if self.under:
            wanted = {v.lower() for v in self.values}
            seen = [v for key in self.under for v in script.table.under(key)]
            matched = [v for v in seen if v.lower() in wanted] if wanted else seen
            if not matched:
                return None
            hits += [f"{v}" for v in dict.fromkeys(matched)]
        if self.pattern is not None:
            m = self.pattern.search(script.output)
            if m is None:
                return None
            hits.append(m.group(0))
        if not (self.keys or self.under or self.pattern or self.before_scan) and not script.output.strip():
            return None
        return ", ".join(hits) if hits else script.output.strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    protocol: str = ""
    services: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    tunnel: str = ""  # "", "none", "ssl"
    segment_kinds: tuple[SegmentKind, ...] = ()
    not_segment_kinds: tuple[SegmentKind, ...] = ()
    script: ScriptCondition | None = None
    #: the port must carry no script result matching this (e.g. an answer that shows the
    #: ``script`` result came through another way than the rule claims)
    not_script: ScriptCondition | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureRule:
    id: str
    title: str
    severity: Severity
    description: str
    remediation: str
    references: tuple[Reference, ...]
    match: Match
    location: str  # file:line of the rule, for messages
    texts: tuple[LocalText, ...] = ()  # title, description and remediation in Thai

    def matches(
        self,
        port: Port,
        segment_kind: SegmentKind | None,
        at: datetime | None = None,
        host_scripts: Sequence[Script] = (),
    ) -> tuple[bool, str]:
        """Whether this rule flags ``port`` on a host of ``segment_kind`` scanned at ``at``, and
        the script excerpt. ``host_scripts``: the host's own NSE results (SMB facts are host
        scripts in nmap), read for a port the rule names by number."""
        m = self.match
        if m.protocol and port.protocol != m.protocol:
            return False, ""
        if m.segment_kinds and segment_kind not in m.segment_kinds:
            return False, ""
        if m.not_segment_kinds and segment_kind in m.not_segment_kinds:
            return False, ""
        service = port.service
        if m.services:
            if service is not None and service.probed:
                if service.name not in m.services:
                    return False, ""
            elif port.number not in m.ports:
                return False, ""
        elif m.ports and port.number not in m.ports:
            return False, ""
        tunnel = service.tunnel if service is not None else ""
        if m.tunnel == "none" and tunnel == "ssl":
            return False, ""
        if m.tunnel == "ssl" and tunnel != "ssl":
            return False, ""
        excerpt = ""
        if m.script is not None:
            scripts = (*port.scripts, *(host_scripts if port.number in m.ports else ()))
            found = next((x for s in scripts if (x := m.script.matches(s, at)) is not None), None)
            if found is None:
                return False, ""
            excerpt = found
        if m.not_script is not None and any(m.not_script.matches(s, at) is not None for s in port.scripts):
            return False, ""
        if port.state != "open" and not (port.state == "open|filtered" and excerpt):
            return False, ""
        return True, excerpt


def _before(value: str, at: datetime | None) -> bool:
    """Whether the date-time ``value`` (nmap writes UTC without an offset) lies before ``at``."""
    if at is None:
        return False
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment < at


# ------------------------------------------------------------------------------------- loading
def _texts(node: Any, key: str, where: str, path: str) -> tuple[str, ...]:
    value = node[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value
    ):
        raise ConfigError(f"'{key}' in {where} must be a list of text", location=located(path, node, key))
    return tuple(str(v) for v in value)


def _kinds(node: YDict, key: str, path: str) -> tuple[SegmentKind, ...]:
    out = []
    for text in _texts(node, key, "match", path):
        if text not in _KINDS:
            raise ConfigError(
                f"unknown segment kind '{text}'{suggest(text, _KINDS)}",
                location=located(path, node, key),
                hint=f"use: {', '.join(_KINDS)}",
            )
        out.append(SegmentKind(text))
    return tuple(out)


def _script(node: Any, path: str) -> ScriptCondition:
    if not isinstance(node, YDict):
        raise ConfigError("'script' must be a mapping", location=located(path, node))
    check_keys(node, allowed=_SCRIPT_KEYS, required=("id",), where="script")
    pattern = None
    if "pattern" in node:
        try:
            pattern = re.compile(str(node["pattern"]))
        except re.error as e:
            raise ConfigError(f"bad pattern: {e}", location=located(path, node, "pattern")) from e
    cond = ScriptCondition(
        id=str(node["id"]),
        keys=_texts(node, "keys", "script", path) if "keys" in node else (),
        under=_texts(node, "under", "script", path) if "under" in node else (),
        values=_texts(node, "values", "script", path) if "values" in node else (),
        pattern=pattern,
        before_scan=_texts(node, "before_scan", "script", path) if "before_scan" in node else (),
    )
    if cond.values and not cond.under:
        raise ConfigError(
            "'values' needs 'under' (which keys' values to compare)", location=located(path, node, "values")
        )
    return cond


def _match(node: Any, path: str) -> Match:
    if not isinstance(node, YDict):
        raise ConfigError("'match' must be a mapping", location=located(path, node))
    check_keys(node, allowed=_MATCH_KEYS, where="match")
    ports: list[int] = []
    for text in _texts(node, "ports", "match", path) if "ports" in node else ():
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise ConfigError(f"'{text}' is not a port number", location=located(path, node, "ports"))
        ports.append(int(text))
    protocol = str(node.get("protocol", ""))
    if protocol not in ("", "tcp", "udp"):
        raise ConfigError("protocol must be tcp or udp", location=located(path, node, "protocol"))
    tunnel = str(node.get("tunnel", ""))
    if tunnel not in ("", "none", "ssl"):
        raise ConfigError("tunnel must be none or ssl", location=located(path, node, "tunnel"))
    services = _texts(node, "services", "match", path) if "services" in node else ()
    script = _script(node["script"], path) if "script" in node else None
    if not (services or ports or script):
        raise ConfigError(
            "a match needs at least one of services, ports or script",
            location=located(path, node),
            hint="a rule that matches every open port is not an exposure rule",
        )
    return Match(
        protocol=protocol,
        services=services,
        ports=tuple(ports),
        tunnel=tunnel,
        segment_kinds=_kinds(node, "segment_kinds", path) if "segment_kinds" in node else (),
        not_segment_kinds=_kinds(node, "not_segment_kinds", path) if "not_segment_kinds" in node else (),
        script=script,
        not_script=_script(node["not_script"], path) if "not_script" in node else None,
    )


_CSF_ID = re.compile(r"^(GV|ID|PR|DE|RS|RC)\.[A-Z]{2}-\d{2}$")  # a NIST CSF 2.0 subcategory, e.g. PR.IR-01


def _references(node: Any, path: str) -> tuple[Reference, ...]:
    if not isinstance(node, YList):
        raise ConfigError("'references' must be a list", location=located(path, node))
    kinds = [k.value for k in RefKind]
    out = []
    for i, item in enumerate(node):
        if not isinstance(item, YDict):
            raise ConfigError("a reference is a mapping {kind, id}", location=located(path, node, i))
        check_keys(item, allowed=("kind", "id", "url"), required=("kind", "id"), where="reference")
        kind = str(item["kind"])
        if kind not in kinds:
            raise ConfigError(
                f"unknown reference kind '{kind}'{suggest(kind, kinds)}",
                location=located(path, item, "kind"),
                hint=f"use: {', '.join(kinds)}",
            )
        if kind == RefKind.NIST.value and _CSF_ID.match(str(item["id"])):
            raise ConfigError(
                f"'{item['id']}' is a NIST CSF subcategory, not a NIST SP 800-53 control",
                location=located(path, item, "kind"),
                hint="write {kind: nist-csf, id: ...} (compliance/nist-csf-2.0.yaml); kind nist is SP 800-53",
            )
        out.append(Reference(kind=RefKind(kind), id=str(item["id"]), url=str(item.get("url", ""))))
    return tuple(out)


def _rule(node: Any, path: str) -> ExposureRule:
    if not isinstance(node, YDict):
        raise ConfigError("a rule must be a mapping", location=located(path, node))
    check_keys(
        node, allowed=_RULE_KEYS, required=("id", "title", "severity", "remediation", "match"), where="rule"
    )
    rule_id = str(node["id"])
    if not RULE_ID.match(rule_id):
        raise ConfigError(
            f"rule id '{rule_id}' does not look like EXP-NAME",
            location=located(path, node, "id"),
            hint="e.g. EXP-TELNET",
        )
    try:
        severity = Severity.parse(str(node["severity"]))
    except ValueError as e:
        raise ConfigError(str(e), location=located(path, node, "severity")) from e
    for key in ("title", "remediation"):
        if not str(node[key]).strip():
            raise ConfigError(f"'{key}' must not be empty", location=located(path, node, key))
    return ExposureRule(
        id=rule_id,
        title=str(node["title"]).strip(),
        severity=severity,
        description=" ".join(str(node.get("description", "")).split()),
        remediation=" ".join(str(node["remediation"]).split()),
        references=_references(node["references"], path) if "references" in node else (),
        match=_match(node["match"], path),
        location=located(path, node),
        texts=read_thai(node, THAI_KEYS, f"rule {rule_id}"),
    )


def load_rule_file(path: Path) -> list[ExposureRule]:
    """Load one rule file; :class:`ConfigError` naming file:line on the first problem."""
    root = load_yaml(path)
    if not isinstance(root, YDict):
        raise ConfigError("a rule file is a mapping with 'rules:'", location=str(path))
    check_keys(root, allowed=("rules",), required=("rules",), where="the rule file")
    rules = root["rules"]
    if not isinstance(rules, YList):
        raise ConfigError("'rules' must be a list", location=located(str(path), root, "rules"))
    return [_rule(item, str(path)) for item in rules]


def default_rules_dir() -> Path:
    """The shipped exposure rules: ``rules/exposure`` in a checkout, package data when installed."""
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "rules" / "exposure"
    return checkout if checkout.is_dir() else here.parents[1] / "_content" / "rules" / "exposure"


def load_rules(paths: Iterable[Path] | None = None) -> tuple[list[ExposureRule], list[ConfigError]]:
    """Load every ``*.yaml`` under the given files/folders (default: shipped), collecting errors.

    A broken file costs only its own rules; duplicate ids keep the first and report the second.
    """
    files: list[Path] = []
    for p in paths if paths is not None else [default_rules_dir()]:
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    rules: list[ExposureRule] = []
    errors: list[ConfigError] = []
    seen: dict[str, str] = {}
    for file in files:
        try:
            loaded = load_rule_file(file)
        except ConfigError as e:
            errors.append(e)
            continue
        for rule in loaded:
            if rule.id in seen:
                errors.append(
                    ConfigError(
                        f"duplicate rule id {rule.id} (first at {seen[rule.id]})",
                        location=rule.location,
                        hint="rename one of them",
                    )
                )
                continue
            seen[rule.id] = rule.location
            rules.append(rule)
    if not files:
        errors.append(ConfigError("no exposure rule files found", location=", ".join(map(str, paths or []))))
    return rules, errors


def rule_ids(rules: Sequence[ExposureRule]) -> list[str]:
    return [r.id for r in rules]
