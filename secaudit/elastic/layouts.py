"""The field layouts a hunt on the cluster can read: secaudit's own, ECS and Wazuh.

A SOC's cluster already holds Windows events in one of two shapes, and ``logs hunt --es --layout``
runs the Sigma rules on them as they are:

* **ECS** (Winlogbeat 7+/8.x, the Elastic Agent Windows and Sysmon integrations): rule fields are
  mapped by pySigma's own ``ecs_windows`` pipeline (pysigma-backend-elasticsearch): EventID to
  ``event.code``, Image to ``process.executable``, CommandLine to ``process.command_line`` (by
  logsource), every other EventData name under ``winlog.event_data.*``. Three changes are ours: the
  pipeline's ``*.caseless`` names (which only Elastic Defend's indices have) are read on the plain ECS
  field, ``Computer``/``EventRecordID`` go to ``winlog.computer_name``/``winlog.record_id``, and the
  logsource condition is ours (below).
* **Wazuh** alerts and archives (``wazuh-alerts-4.x-*``, ``wazuh-archives-4.x-*``): our own
  pipeline, after Wazuh's Windows eventchannel decoder and index template: System values under
  ``data.win.system.*`` (``eventID``, ``channel``, ``providerName``, ``computer``, ``eventRecordID``,
  ``level``, ``task``, ``opcode``, ``keywords``, ``systemTime``), EventData under
  ``data.win.eventdata.*`` with the name's first letter lowered (``CommandLine`` ->
  ``commandLine``), every value a keyword string. Wazuh writes each backslash of these values twice
  (wazuh/wazuh issue 4509), so a backslash in a rule matches one or two, the query then finds a superset
  and the hunt keeps only what the embedded engine confirms on the event rebuilt with single backslashes.
  Linux audit events (Wazuh's auditd decoders, ``data.audit.*``): Sigma's auditd fields by the names
  those decoders keep (``exe``, ``command`` for comm, ``execve.a0``..``a7``, PATH ``name`` as
  ``file.name`` or ``directory.name``, the first record's ``type``...); what they do not keep makes
  the rule not runnable. Their decoding is lossy, so these queries are inexact: the hunt reads each
  document's ``full_log`` (the event's records) with secaudit's own auditd reader and keeps what the
  embedded engine confirms. Syslog-based and category Linux rules are not runnable on Wazuh.

Neither layout normalizes case, and Sigma matches case-insensitively: a value with letters becomes a
Lucene regex with each letter as a class (``cmd`` -> ``[cC][mM][dD]``), a ``|i`` regex gets the same
classes; numbers, addresses and booleans keep their field types (``source.ip`` is an ``ip`` field:
a ``|cidr`` runs natively there and as prefix wildcards on keyword fields).

A rule the layout cannot express is never run with another meaning: it is *not runnable* on that
layout, named with the reason (a logsource the layout has no events for, a keyword search with no
field to search, a numeric comparison on a keyword field, a field ECS keeps as analysed text or as
rendered text, a value too long for a regex...). The logsource condition is built from the same
tables the embedded engine uses to give Windows events their categories and services
(:mod:`secaudit.logs.windows`), so a rule sees the documents of its logsource and no others.

:func:`to_layout_document` writes an event as each layout holds it and :func:`event_from_source`
reads a document back into the LogEvent the embedded engine would have made: the tests index the
regression events through the first and compare every rule's hits with the embedded engine's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sigma.conditions import ConditionAND, ConditionFieldEqualsValueExpression, ConditionNOT, ConditionOR
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.processing.conditions import LogsourceCondition, RuleProcessingCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    FieldFunctionTransformation,
    FieldMappingTransformation,
    ValueListPlaceholderTransformation,
)
from sigma.processing.transformations.base import FieldMappingTransformationBase
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import (
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaNull,
    SigmaRegularExpression,
    SigmaString,
    SpecialChars,
)

from secaudit.core.events import LogEvent, LogKind
from secaudit.elastic.backend import SecauditLuceneBackend
from secaudit.elastic.regex import RegexNotSupported, to_lucene
from secaudit.logs.windows import (
    SYSMON_CHANNEL,
    SYSMON_PROVIDER,
    category_by_service_event,
    channel_services,
    event_id_of,
    parse_time,
    security_aliases,
    sysmon_categories,
    windows_event,
)

SECAUDIT = "secaudit"
ECS = "ecs"
WAZUH = "wazuh"
UNKNOWN = "unknown"
AUTO = "auto"
LAYOUT_NAMES = {
    SECAUDIT: "secaudit's own (logs ingest)",
    ECS: "ECS (Winlogbeat, Elastic Agent, Filebeat)",
    WAZUH: "Wazuh alerts/archives",
    UNKNOWN: "not one secaudit knows",
}

# Field types a layout's index template gives (anything not listed is a keyword)
KEYWORD = "keyword"
NUMBER = "number"
ADDRESS = "ip"
BOOLEAN = "boolean"
TEXT = "text"  # analysed: Sigma's whole-value matching cannot be expressed on it
RENDERED = "rendered"  # the layout keeps a rendered text where Sigma means the raw value

MAX_REGEX = 1000  # index.max_regex_length


# What a rule the layout cannot run means for a hunt (NotRunnable.kind). A blind spot: the layout
# holds events of the rule's log source but cannot ask the rule's test of them (a keyword search, a
# field kept as analysed text, a field the shipper does not keep...), so the hunt cannot show there is
# nothing to find: a --fail-on gate at or below the rule's level fails on it. Another source: the rule's
# log source is not among the events the layout's queries select (a Linux rule on a Windows index);
# the hunt counts the documents in range the layout does not recognise, and the rule is not applicable
# only when there are none (app.es), a blind spot otherwise.
BLIND_SPOT = "blind spot"
OTHER_SOURCE = "other source"


class NotRunnable(SigmaFeatureNotSupportedByBackendError):
    """The rule cannot be expressed on this layout (module doc); ``reason`` says why, ``kind`` whether
    the layout holds the rule's log source (BLIND_SPOT) or not (OTHER_SOURCE)."""

    def __init__(self, reason: str, *, kind: str = BLIND_SPOT) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Layout:
    """What a hunt needs to know of an index layout."""

    name: str
    time_field: str
    channel: str
    provider: str
    event_code: str
    computer: str
    record: str
    operation_type: str  # Security 4657's OperationType (registry_add / registry_set)
    kinds: Mapping[str, str] = field(default_factory=dict)
    doubled_backslashes: bool = False
    # event values the shipper leaves out of the document (the field is then absent), and who does
    dropped_values: frozenset[str] = frozenset()
    dropped_by: str = ""

    @property
    def title(self) -> str:
        return LAYOUT_NAMES[self.name]

    def kind(self, name: str) -> str:
        return self.kinds.get(name, KEYWORD)


# ECS field types (ECS 8 and Winlogbeat's module fields) of the names the ecs_windows pipeline maps to
_ECS_KINDS = {
    **dict.fromkeys(
        (
            "process.pid",
            "process.parent.pid",
            "source.port",
            "destination.port",
            "process.thread.id",
            "event.sequence",
            "powershell.sequence",
            "powershell.total",
        ),
        NUMBER,
    ),
    "source.ip": ADDRESS,
    "destination.ip": ADDRESS,
    **dict.fromkeys(
        ("file.code_signature.signed", "sysmon.file.is_executable", "sysmon.file.archived"), BOOLEAN
    ),
    # Winlogbeat's PowerShell module maps these as text (analysed words, not the whole value)
    "powershell.command.value": TEXT,
    "powershell.file.script_block_text": TEXT,
    # Winlogbeat renders these System values as text ("information", "Process Creation", "Info")
    **dict.fromkeys(
        (
            "winlog.event_data.Level",
            "winlog.event_data.Task",
            "winlog.event_data.Opcode",
            "winlog.event_data.Keywords",
            "winlog.event_data.TimeCreated",
        ),
        RENDERED,
    ),
}

LAYOUTS = {
    ECS: Layout(
        name=ECS,
        time_field="@timestamp",
        channel="winlog.channel",
        provider="winlog.provider_name",
        event_code="event.code",
        computer="winlog.computer_name",
        record="winlog.record_id",
        operation_type="winlog.event_data.OperationType",
        kinds=_ECS_KINDS,
        # elastic/beats winlogbeat/sys/winevent/maputil.go, AddPairs: an empty value is not added
        dropped_values=frozenset({""}),
        dropped_by="Winlogbeat leaves empty event values out of the document",
    ),
    WAZUH: Layout(
        name=WAZUH,
        time_field="timestamp",
        channel="data.win.system.channel",
        provider="data.win.system.providerName",
        event_code="data.win.system.eventID",
        computer="data.win.system.computer",
        record="data.win.system.eventRecordID",
        operation_type="data.win.eventdata.operationType",
        doubled_backslashes=True,
        # wazuh/wazuh src/analysisd/decoders/winevtchannel.c: such values are not added
        dropped_values=frozenset({"", "-", "(NULL)"}),
        dropped_by="Wazuh's eventchannel decoder leaves values that are empty, '-' or '(NULL)' out of "
        "the document",
    ),
}


def layout(name: str) -> Layout:
    return LAYOUTS[name]


# -- field names ----------------------------------------------------------------------------------

# ours, before pySigma's ecs_windows items (which leave these under winlog.event_data)
_ECS_SYSTEM: dict[str | None, str | list[str]] = {
    "Computer": "winlog.computer_name",
    "EventRecordID": "winlog.record_id",
}
_CASELESS: dict[str | None, str | list[str]] = {
    "process.executable.caseless": "process.executable",
    "process.parent.executable.caseless": "process.parent.executable",
    "process.parent.name.caseless": "process.parent.name",
}
_WAZUH_SYSTEM = {
    "EventID": "eventID",
    "Channel": "channel",
    "Provider_Name": "providerName",
    "Computer": "computer",
    "EventRecordID": "eventRecordID",
    "Level": "level",
    "Task": "task",
    "Opcode": "opcode",
    "Keywords": "keywords",
    "TimeCreated": "systemTime",
}


def _plain(name: str) -> str:
    return str(_CASELESS.get(name, name))


@cache
def _ecs_tables() -> tuple[dict[str, str], dict[str, tuple[tuple[str, str, str], ...]]]:
    """(fixed, variable) field mappings of pySigma's ecs_windows pipeline, with our changes."""
    from sigma.pipelines.elasticsearch import windows  # noqa: PLC0415 (only for ECS hunts)

    fixed: dict[str, str] = {str(k): str(v) for k, v in _ECS_SYSTEM.items()}
    for item in windows.ecs_windows().items:
        if item.identifier == "ecs_windows_field_mapping":
            for name, target in getattr(item.transformation, "mapping", {}).items():
                fixed.setdefault(str(name), _plain(str(target)))
    variable = {
        str(name): tuple((str(a), str(b), _plain(str(c))) for a, b, c in entries)
        for name, entries in windows.ecs_windows_variable_mappings.items()
    }
    return fixed, variable


def ecs_field(name: str, categories: Iterable[str], services: Iterable[str]) -> str:
    """Where ECS keeps the Sigma field ``name`` of a Windows event (or a rule's logsource) with these
    categories and services: as the ecs_windows pipeline maps it (module doc)."""
    fixed, variable = _ecs_tables()
    cats, servs = set(categories), set(services)
    for kind, value, target in variable.get(name, ()):
        if (kind == "category" and value in cats) or (kind == "service" and value in servs):
            return target
    if name in fixed:
        return fixed[name]
    return name if re.search(r"\w+\.", name) else f"winlog.event_data.{name}"


def wazuh_field(name: str) -> str:
    """Where Wazuh's eventchannel decoder keeps the Sigma field ``name`` of a Windows event."""
    if name in _WAZUH_SYSTEM:
        return f"data.win.system.{_WAZUH_SYSTEM[name]}"
    return f"data.win.eventdata.{name[:1].lower()}{name[1:]}"


def _wazuh_name(name: str | None) -> str:
    return wazuh_field(name or "")


# -- field names with spaces -----------------------------------------------------------------------
# A few providers name EventData fields with spaces (Defender: "Threat Name", "Process Name",
# "Source Name"...). Winlogbeat keeps a name as the event's XML writes it (winevent.AddPairs:
# winlog.event_data.Threat Name); Wazuh's eventchannel decoder lowers its first letter and keeps the
# spaces (data.win.eventdata.threat Name). The embedded engine also answers to the name without its
# spaces (detect.values.sigma_view), which is how rules write it (ThreatName): on these layouts such
# a rule field is asked under both names, the rule's and the one with a space between its words.

_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+")
# Channels whose events name no field with a space (the Sysmon, Security auditing and PowerShell
# schemas): a rule that sees only these keeps one name per field, and its query its size
_UNSPACED_CHANNELS = frozenset(
    {
        SYSMON_CHANNEL,
        "security",
        "microsoft-windows-powershell/operational",
        "powershellcore/operational",
        "windows powershell",
    }
)


def spaced_name(name: str) -> str | None:
    """The EventData name ``name`` stands for with a space between its words (``ThreatName`` ->
    ``Threat Name``, ``DetectionID`` -> ``Detection ID``); None when it has one word, or is a System
    field or a name with other characters (``Feature_Name``, ``process.pid``)."""
    if name in _WAZUH_SYSTEM or not _PLAIN_NAME.fullmatch(name):
        return None
    spaced = _WORD_BREAK.sub(" ", name)
    return spaced if spaced != name else None


def rule_channels(category: str | None, service: str | None) -> set[str] | None:
    """The (lower-case) channels whose events a Windows rule of this logsource sees (logsource_query);
    None when it sees every channel (``product: windows`` alone)."""
    channels: set[str] | None = None
    if service is not None:
        channels = set(_channels_of_service().get(service.lower(), ()))
    if category is not None:
        found = {c for chans, _, _ in _category_selectors(category.lower()) for c in chans}
        channels = found if channels is None else channels & found
    return channels


@dataclass
class _MaySeeSpacedNames(RuleProcessingCondition):
    """A detection rule whose logsource reaches a channel that may name fields with spaces."""

    def match(self, rule: Any) -> bool:
        if not isinstance(rule, SigmaRule):
            return False  # a correlation's group-by names its base rules' fields as they are
        source = rule.logsource
        channels = rule_channels(source.category, source.service)
        return channels is None or bool(channels - _UNSPACED_CHANNELS)


@dataclass
class _SpacedNames(FieldMappingTransformationBase):
    """A rule field name also asked under its spaced form (:func:`spaced_name`): an OR of both, for
    a value the field holds; an AND for its absence (``null``, ``|exists: false``): an event carries
    the field under one name at most, so "absent" must hold under both."""

    def apply_field_name(self, field: str | None) -> str | list[str] | None:
        spaced = spaced_name(field) if field else None
        return None if spaced is None else [field or "", spaced]

    def apply_detection_item(
        self, detection_item: SigmaDetectionItem
    ) -> SigmaDetection | SigmaDetectionItem | None:
        absent = bool(detection_item.value) and all(
            isinstance(v, SigmaNull) or (isinstance(v, SigmaExists) and not v.exists)
            for v in detection_item.value
        )
        result = super().apply_detection_item(detection_item)
        if absent and isinstance(result, SigmaDetection):
            result.item_linking = ConditionAND
        return result


def _spaced_item() -> ProcessingItem:
    return ProcessingItem(
        _SpacedNames(), rule_conditions=[_MaySeeSpacedNames()], identifier="secaudit_spaced_names"
    )


def field_of(layout_name: str, name: str, categories: Iterable[str], services: Iterable[str]) -> str:
    if layout_name == ECS:
        return ecs_field(name, categories, services)
    return wazuh_field(name)


# Linux audit on Wazuh (module doc): Sigma's auditd names -> data.audit.*, as Wazuh's auditd decoders
# (ruleset/decoders/0040-auditd_decoders.xml) name what they keep. Only names every decoder that can
# see the record keeps the same way are here; the others are in _AUDIT_NOT_KEPT or not kept at all.
AUDIT = "data.audit"
_AUDIT_FIELDS = {
    "type": "type",
    "exe": "exe",
    "comm": "command",
    "key": "key",
    "cwd": "cwd",
    "syscall": "syscall",  # the raw number (Wazuh does not keep the ENRICHED name, SYSCALL)
    "success": "success",
    "exit": "exit",
    "arch": "arch",
    "ppid": "ppid",
    "pid": "pid",
    "uid": "uid",
    "auid": "auid",
    "euid": "euid",
    "gid": "gid",
    "ses": "session",
    **{f"a{i}": f"execve.a{i}" for i in range(8)},
}
AUDIT_NAMES = ("file.name", "directory.name")  # Sigma's PATH ``name``: one of the two
_AUDIT_NOT_KEPT = {
    "SYSCALL": "the system call's name (the ENRICHED SYSCALL=...); it keeps the number (syscall)",
    "res": "res for USER_AUTH, USER_START, USER_ACCT, CRED_ACQ, CRED_REFR, CRYPTO_* and "
    "USER_ROLE_CHANGE records (its user_and_cred decoder skips it), only for a few other types",
    "op": "op except in CONFIG_CHANGE records",
    "nametype": "a PATH record's nametype",
    "proctitle": "the PROCTITLE record",
}
# Record types that are never an event's first record: Wazuh's data.audit.type (the first record's
# type) cannot hold them; the fields only their records fill say whether the event has one
_AUDIT_SECONDARY = {
    "EXECVE": f"_exists_:{AUDIT}.execve.a0",
    "CWD": f"_exists_:{AUDIT}.cwd",
    "PATH": f"(_exists_:{AUDIT}.file.name OR _exists_:{AUDIT}.directory.name)",
}


def wazuh_audit_field(name: str) -> str:
    """Where Wazuh's auditd decoders keep the Sigma auditd field ``name``; NotRunnable when they do
    not keep it (or keep it only for some record types)."""
    if name.startswith(AUDIT + "."):
        return name
    if name in _AUDIT_FIELDS:
        return f"{AUDIT}.{_AUDIT_FIELDS[name]}"
    if name.upper() in _AUDIT_SECONDARY or name.upper() == "PROCTITLE":
        raise NotRunnable(f"Wazuh's auditd decoder keeps no field {name!r}")
    kept = _AUDIT_NOT_KEPT.get(name)
    if kept:
        raise NotRunnable(f"Wazuh's auditd decoder does not keep {kept} (rule field {name!r})")
    if re.fullmatch(r"a\d+", name):
        raise NotRunnable(f"Wazuh's auditd decoder keeps the EXECVE arguments a0 to a7 only, not {name}")
    raise NotRunnable(f"Wazuh's auditd decoder does not keep the field {name!r}")


def _wazuh_audit_name(name: str | None) -> str:
    if name == "name":  # the pipeline item's mapping names both PATH fields (pySigma calls this first)
        return name
    return wazuh_audit_field(name or "")


# -- pipelines ------------------------------------------------------------------------------------


def layout_pipeline(name: str, placeholders: Mapping[str, Sequence[str]] | None = None) -> ProcessingPipeline:
    """The processing pipeline that names a rule's fields as the layout ``name`` holds them."""
    items: list[ProcessingItem] = []
    if placeholders:
        items.append(ProcessingItem(ValueListPlaceholderTransformation(), identifier="secaudit_expand"))
    if name == ECS:
        from sigma.pipelines.elasticsearch.windows import ecs_windows  # noqa: PLC0415

        items.append(_spaced_item())  # before the names are mapped: the spaced one goes to event_data
        items.append(
            ProcessingItem(FieldMappingTransformation(_ECS_SYSTEM), identifier="secaudit_ecs_system")
        )
        # the logsource condition is ours (logsource_query): pySigma's only covers services
        stock = ecs_windows()
        stock._clear_pipeline()  # its items join our pipeline
        items += [i for i in stock.items if not str(i.identifier).startswith("windows_logsource_")]
        items.append(
            ProcessingItem(FieldMappingTransformation(_CASELESS), identifier="secaudit_ecs_caseless")
        )
    elif name == WAZUH:
        items.append(_spaced_item())
        items.append(
            ProcessingItem(
                FieldFunctionTransformation(
                    mapping={"name": [f"{AUDIT}.{n}" for n in AUDIT_NAMES]},
                    transform_func=_wazuh_audit_name,
                ),
                rule_conditions=[LogsourceCondition(product="linux")],
                identifier="secaudit_wazuh_audit_fields",
            )
        )
        items.append(
            ProcessingItem(
                FieldFunctionTransformation(mapping={}, transform_func=_wazuh_name),
                rule_conditions=[LogsourceCondition(product="linux")],
                rule_condition_negation=True,
                identifier="secaudit_wazuh_fields",
            )
        )
    else:
        raise ValueError(f"no pipeline for layout {name!r}")
    return ProcessingPipeline(
        name=f"secaudit {name} layout",
        priority=20,
        items=items,
        vars={k.strip("%"): list(v) for k, v in (placeholders or {}).items()},
    )


# -- values ---------------------------------------------------------------------------------------

_REGEX_SPECIAL = set('.?+*|{}[]()"\\#@&<>~/')
_WILD_RE = re.compile(r"^\d+(\.\d+){0,2}\.$")


def _case_char(char: str) -> str:
    lower, upper = char.lower(), char.upper()
    if lower != upper and len(lower) == 1 and len(upper) == 1:
        return f"[{lower}{upper}]"
    return "\\" + char if char in _REGEX_SPECIAL else char


def _has_letters(text: str) -> bool:
    return any(c.lower() != c.upper() for c in text)


def fold_case(pattern: str) -> str:
    """A Lucene regex (as :func:`to_lucene` writes it, lowercased) made case-insensitive: each letter
    outside a class becomes ``[xX]``, each class gets the other case of its letters."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
        elif char == "[":
            end = _class_end(pattern, i)
            body = pattern[i + 1 : end]
            negated = body.startswith("^")
            content = body[1:] if negated else body
            swapped = "".join(c.swapcase() if c.isascii() and c.isalpha() else c for c in content)
            extra = swapped if swapped != content else ""
            out.append("[" + ("^" if negated else "") + content + extra + "]")
            i = end + 1
        else:
            out.append(_case_char(char) if char.isalpha() else char)
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i
        i += 1
    raise NotRunnable(f"unbalanced character class in {pattern!r}")


_PAIR = "\\\\\\\\"  # two literal backslashes in a Lucene regex


_UNBOUNDED = re.compile(r"[*+]|\{\d*,\}")


def widen_backslashes(pattern: str) -> str:
    """A Lucene regex that also matches the value with each backslash written twice (Wazuh): every
    atom that can match a backslash may match a pair instead, unless an unbounded repeat follows it
    (``.*``, ``[\\/]+``, ``.{9,}`` already match the doubled text). A superset: the engine confirms."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            atom, end = pattern[i : i + 2], i + 2
            wide = "(\\\\{1,2})" if atom == "\\\\" else atom
        elif char == "[":
            end = _class_end(pattern, i) + 1
            atom = pattern[i:end]
            holds = "\\\\" in atom
            wide = f"({atom}|{_PAIR})" if holds != atom.startswith("[^") else atom
        elif char == ".":
            atom, end, wide = ".", i + 1, f"(.|{_PAIR})"
        else:
            atom, end, wide = char, i + 1, char
        out.append(atom if _UNBOUNDED.match(pattern, end) else wide)
        i = end
    return "".join(out)


def _backslash_or_single(value: SigmaString) -> bool:
    return any(
        part == SpecialChars.WILDCARD_SINGLE or (isinstance(part, str) and "\\" in part) for part in value.s
    )


def _regex_from_string(value: SigmaString, *, doubled: bool) -> tuple[str, bool]:
    """(Lucene regex, exact) matching a Sigma string value case-insensitively as a whole term."""
    parts: list[str] = []
    exact = True
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            parts.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            parts.append(f"(.|{_PAIR})" if doubled else ".")
            exact = exact and not doubled
        else:
            for char in str(part):
                if char == "\\" and doubled:
                    parts.append("(\\\\{1,2})")
                    exact = False
                elif char.isalpha():
                    parts.append(_case_char(char))
                elif char in _REGEX_SPECIAL:
                    parts.append("\\" + char)
                else:
                    parts.append(char)
    return "".join(parts), exact


class LayoutLuceneBackend(SecauditLuceneBackend):
    """Lucene queries on an ECS or Wazuh index (module doc): the stock backend's structure, values
    written case-insensitively for keyword fields, refusals as :class:`NotRunnable`."""

    name = "secaudit Lucene on ECS/Wazuh layouts"
    convert_or_as_in = False
    cidr_expression = "{field}:{network}\\/{prefixlen}"
    compare_op_expression = "{field}:{operator}{value}"
    case_sensitive_match_expression = "{field}:{value}"

    def __init__(self, layout_name: str, processing_pipeline: ProcessingPipeline | None = None) -> None:
        self.layout = LAYOUTS[layout_name]
        self.limits: set[str] = set()
        super().__init__(processing_pipeline)

    def start_rule(self, chunk: tuple[int, int, int] | None = None) -> None:
        super().start_rule(chunk)
        if chunk is None:  # a new rule (a chunk is the same rule again)
            self.limits = set()

    # -- values the shipper leaves out ------------------------------------------------------------
    # A field whose event value the shipper drops is absent from the document: a comparison with that
    # value never holds on the cluster (a ``not`` over it excludes nothing, a selection on it misses),
    # and a null test holds there too. Absence cannot be told from an event that never had the field,
    # so no query is exact: the rule runs as converted and ``limits`` (read after each rule) says so.

    def _dropped(self, field: str, value: Any) -> None:
        if field.startswith(AUDIT + "."):
            return  # Wazuh's auditd decoders, not the eventchannel decoder
        if isinstance(value, SigmaString) and not value.contains_special():
            text = str(value)
            if text in self.layout.dropped_values:
                self.limits.add(
                    f"{field} is compared with {text!r}, which never matches on this layout: "
                    f"{self.layout.dropped_by}"
                )

    def _null(self, field: str) -> None:
        if not field.startswith(AUDIT + ".") and self.layout.dropped_values:
            shown = " or ".join(repr(v) for v in sorted(self.layout.dropped_values))
            self.limits.add(
                f"{field} is tested for null, which on this layout also holds where the value was "
                f"{shown}: {self.layout.dropped_by}"
            )

    def convert_condition_field_eq_val_null(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        self._null(cond.field)
        return super().convert_condition_field_eq_val_null(cond, state)

    def convert_condition_not(self, cond: ConditionNOT, state: ConversionState) -> Any:
        inner = cond.args[0]
        # the stock backend writes a negated null test itself, without the null conversion
        if isinstance(inner, ConditionFieldEqualsValueExpression) and isinstance(inner.value, SigmaNull):
            self._null(inner.field)
        return super().convert_condition_not(cond, state)

    def _doubled(self, field: str) -> bool:
        """Whether the layout writes each backslash of this field's values twice (Wazuh's Windows
        eventchannel values; its auditd decoder keeps values as the log wrote them)."""
        return self.layout.doubled_backslashes and not field.startswith(AUDIT + ".")

    def _kind(self, field: str) -> str:
        if field.startswith(AUDIT + "."):
            # Wazuh's decoding of audit records is lossy (module doc): the hunt confirms each
            # document on the event read back from its full_log, as the embedded engine reads it
            self.relaxed = True
        kind = self.layout.kind(field)
        if kind == TEXT:
            raise NotRunnable(
                f"{field} is analysed text in this layout: Sigma's whole-value match cannot run on it"
            )
        if kind == RENDERED:
            raise NotRunnable(f"{field}: this layout keeps a rendered text, not the raw value the rule means")
        return kind

    def _regex(self, field: str, pattern: str) -> str:
        if len(pattern) > MAX_REGEX:
            raise NotRunnable(
                f"the case-insensitive form of a value on {field} is a regex of {len(pattern)} characters "
                f"(Elasticsearch refuses over {MAX_REGEX})"
            )
        trailing = len(pattern) - len(pattern.rstrip("\\"))
        if trailing and trailing % 2 == 0:
            # query_string would read the closing "\\/" as an escaped slash: the last backslash as a class
            pattern = pattern[:-2] + "[\\\\]"
        return f"{self.escape_and_quote_field(field)}:/{pattern}/"

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = cond.value
        if not isinstance(value, SigmaString):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        kind = self._kind(cond.field)
        self._dropped(cond.field, value)
        text = str(value)
        if cond.field == f"{AUDIT}.type":
            return self._audit_type(value)
        if kind == NUMBER:
            if value.contains_special() or not re.fullmatch(r"-?\d+(\.\d+)?", text):
                raise NotRunnable(
                    f"{cond.field} is numeric in this layout: the value {text!r} cannot be asked of it"
                )
            return f"{self.escape_and_quote_field(cond.field)}:{text}"
        if kind == BOOLEAN:
            if value.contains_special() or text.lower() not in ("true", "false"):
                raise NotRunnable(
                    f"{cond.field} is a boolean in this layout: the value {text!r} cannot be asked of it"
                )
            return f"{self.escape_and_quote_field(cond.field)}:{text.lower()}"
        if kind == ADDRESS:
            return self._address(cond.field, value)
        doubled = self._doubled(cond.field) and _backslash_or_single(value)
        if not _has_letters(text) and not doubled:
            return super().convert_condition_field_eq_val_str(cond, state)
        pattern, exact = _regex_from_string(value, doubled=self._doubled(cond.field))
        if not exact:
            self.relaxed = True
        return self._regex(cond.field, pattern)

    def _audit_type(self, value: SigmaString) -> str:
        """Sigma's auditd ``type`` names any record of the event; Wazuh keeps the first record's type
        (data.audit.type). A type that is never first (EXECVE, CWD, PATH) is asked as the fields only
        its record fills."""
        if value.contains_special():
            raise NotRunnable(f"a pattern on the audit record type ({str(value)!r}): Wazuh keeps one type")
        name = str(value).upper()
        if name == "PROCTITLE":
            raise NotRunnable("Wazuh's auditd decoder keeps nothing of PROCTITLE records (type PROCTITLE)")
        return _AUDIT_SECONDARY.get(name) or f'{AUDIT}.type:"{name}"'

    def _address(self, field: str, value: SigmaString) -> str:
        text = str(value)
        name = self.escape_and_quote_field(field)
        if not value.contains_special():
            try:
                ipaddress.ip_address(text)
            except ValueError as e:
                raise NotRunnable(f"{field} is an ip field in this layout: {text!r} is not an address") from e
            return f'{name}:"{text}"'
        head = text[:-1]
        if (
            value.s[-1] == SpecialChars.WILDCARD_MULTI
            and not value[:-1].contains_special()
            and _WILD_RE.match(head)
        ):
            octets = head.rstrip(".").split(".")
            network = ".".join(octets + ["0"] * (4 - len(octets)))
            return f"{name}:{network}\\/{8 * len(octets)}"
        raise NotRunnable(
            f"{field} is an ip field in this layout: the pattern {text!r} cannot be asked of it"
        )

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = cond.value
        kind = self._kind(cond.field)
        if kind != KEYWORD or not isinstance(value, SigmaString):
            raise NotRunnable(f"a case-sensitive match on the {kind} field {cond.field}")
        self._dropped(cond.field, value)
        if self._doubled(cond.field) and _backslash_or_single(value):
            parts = []
            for part in value.s:
                if part == SpecialChars.WILDCARD_MULTI:
                    parts.append(".*")
                elif part == SpecialChars.WILDCARD_SINGLE:
                    parts.append(f"(.|{_PAIR})")
                else:
                    parts.extend(
                        "(\\\\{1,2})" if c == "\\" else ("\\" + c if c in _REGEX_SPECIAL else c)
                        for c in str(part)
                    )
            self.relaxed = True
            return self._regex(cond.field, "".join(parts))
        return super().convert_condition_field_eq_val_str_case_sensitive(cond, state)

    def convert_condition_field_eq_val_re(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = cond.value
        if not isinstance(value, SigmaRegularExpression):
            raise TypeError(f"expected a regular expression, got {type(value).__name__}")
        if self._kind(cond.field) != KEYWORD:
            raise NotRunnable(
                f"a regular expression on the {self.layout.kind(cond.field)} field {cond.field}"
            )
        from secaudit.elastic.backend import _FLAG_LETTERS  # noqa: PLC0415

        flags = "".join(_FLAG_LETTERS.get(flag, "?") for flag in value.flags)
        try:
            lucene = to_lucene(str(value.regexp), flags)
        except RegexNotSupported as e:
            raise SigmaFeatureNotSupportedByBackendError(
                f"regex uses {e.reason}, which Lucene regular expressions cannot express"
            ) from e
        pattern = fold_case(lucene.pattern) if lucene.insensitive else lucene.pattern
        if not lucene.exact:
            self.relaxed = True
        if self._doubled(cond.field):
            widened = widen_backslashes(pattern)
            if widened != pattern:
                self.relaxed = True
            pattern = widened
        return self._regex(cond.field, pattern)

    def convert_condition_field_eq_val_cidr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = cond.value
        if not isinstance(value, SigmaCIDRExpression):
            raise TypeError(f"expected a CIDR expression, got {type(value).__name__}")
        kind = self._kind(cond.field)
        if kind == ADDRESS:
            return super().convert_condition_field_eq_val_cidr(cond, state)
        if kind != KEYWORD:
            raise NotRunnable(f"a |cidr on {cond.field}, which this layout keeps as a {kind}")
        name = self.escape_and_quote_field(cond.field)
        if value.network.version != 4:
            # an IPv6 network as text prefixes would miss other spellings of its addresses: every
            # value with a colon is asked for, and the engine keeps those in the network
            self.relaxed = True
            return f"{name}:*\\:*"
        # one wildcard per network (a /12 would otherwise be 16 terms, a rule's list over the clause
        # limit): the octet-aligned network around it, and the engine keeps the addresses in it
        octets = value.network.prefixlen // 8
        if value.network.prefixlen % 8:
            self.relaxed = True
        head = ".".join(str(value.network.network_address).split(".")[:octets])
        if octets == 4:
            return f'{name}:"{head}"'
        return f"{name}:{head}.*" if head else f"{name}:*"

    def convert_condition_field_compare_op_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        if not isinstance(cond.value, SigmaCompareExpression):
            raise TypeError("expected a comparison")
        if self._kind(cond.field) != NUMBER:
            raise NotRunnable(
                f"a numeric comparison on {cond.field}, a keyword in this layout (it would compare text)"
            )
        return super().convert_condition_field_compare_op_val(cond, state)

    def convert_condition_field_eq_expansion(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        # the stock Lucene backend passes ``cond`` instead of the OR it built (pySigma 1.5)
        expansion = cond.value
        or_cond = ConditionOR(
            [
                ConditionFieldEqualsValueExpression(cond.field, value)
                for value in getattr(expansion, "values", ())
            ],
            cond.source,
        )
        or_cond.parent = cond.parent
        return f"({self.convert_condition_or(or_cond, state)})"  # a group: its parent sees one item

    def convert_condition_val_str(self, cond: Any, state: ConversionState) -> Any:
        raise NotRunnable(
            "a keyword search (a value not bound to a field): this layout has no field holding every value"
        )

    def convert_condition_val_num(self, cond: Any, state: ConversionState) -> Any:
        raise NotRunnable(
            "a keyword search (a value not bound to a field): this layout has no field holding every value"
        )

    def convert_condition_val_re(self, cond: Any, state: ConversionState) -> Any:
        raise NotRunnable(
            "a keyword regex (not bound to a field): this layout has no field holding every value"
        )


# -- logsource ------------------------------------------------------------------------------------


@cache
def _channels_of_service() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for channel, services in channel_services().items():
        for service in services:
            out.setdefault(service, []).append(channel)
    return {service: tuple(sorted(channels)) for service, channels in out.items()}


Selector = tuple[tuple[str, ...], tuple[int, ...] | None, tuple[str, ...]]  # channels, event ids, op types

_OPERATIONS = {
    "registry_add": ("%%1904", "new registry value created"),
    "registry_set": ("%%1905", "existing registry value modified"),
}


def _category_selectors(category: str) -> list[Selector]:
    """The (channels, event ids, OperationType values) whose events carry ``category`` (windows_kind)."""
    out: list[Selector] = []
    sysmon = tuple(sorted(e for e, cats in sysmon_categories().items() if category in cats))
    if sysmon:
        out.append(((SYSMON_CHANNEL,), sysmon, ()))
    for (service, event_id), name in sorted(category_by_service_event().items()):
        if name == category:
            out.append((_channels_of_service().get(service, ()), (event_id,), ()))
    if category == "process_creation":
        out.append((("security",), (4688,), ()))
    if category == "registry_event":
        out.append((("security",), (4657,), ()))
    if category in _OPERATIONS:
        out.append((("security",), (4657,), _OPERATIONS[category]))
    return [s for s in out if s[0]]


@cache
def _canonical() -> dict[str, str]:
    """Lower-case Windows channel and provider names -> as Windows writes them (pySigma's table)."""
    from sigma.pipelines.common import windows_logsource_mapping  # noqa: PLC0415

    from secaudit.logs.windows import EXTRA_SERVICES  # noqa: PLC0415

    out = {"microsoft-windows-sysmon": "Microsoft-Windows-Sysmon"}
    for channels in (*windows_logsource_mapping.values(), *EXTRA_SERVICES.values()):
        for name in [channels] if isinstance(channels, str) else channels:
            out.setdefault(str(name).lower(), str(name))
    return out


class _Terms:
    def __init__(self, backend: LayoutLuceneBackend) -> None:
        self.backend = backend
        self.layout = backend.layout

    def text(self, field: str, value: str) -> str:
        pattern, _ = _regex_from_string(
            SigmaString(value.replace("*", "\\*").replace("?", "\\?")), doubled=False
        )
        return self.backend._regex(field, pattern) if _has_letters(value) else f'{field}:"{value}"'

    def any_text(self, field: str, values: Sequence[str]) -> str:
        terms = [self.text(field, v) for v in values]
        return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"

    def exact(self, field: str, values: Sequence[str]) -> str:
        """Channel and provider names as Windows writes them, and in lower case: plain terms (cheap on
        the cluster), where the embedded engine compares them case-insensitively."""
        names = sorted({form for v in values for form in (_canonical().get(v.lower(), v), v.lower())})
        terms = [f'{field}:"{name}"' for name in names]
        return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"

    def channel(self, channels: Sequence[str]) -> str:
        query = self.exact(self.layout.channel, channels)
        if SYSMON_CHANNEL in channels:  # the embedded engine: the Sysmon channel or provider
            query = f"({query} OR {self.exact(self.layout.provider, [SYSMON_PROVIDER])})"
        return query

    def codes(self, ids: Sequence[int]) -> str:
        field = self.layout.event_code
        return f"{field}:{ids[0]}" if len(ids) == 1 else f"{field}:(" + " OR ".join(map(str, ids)) + ")"


def logsource_query(
    backend: LayoutLuceneBackend, product: str | None, category: str | None, service: str | None
) -> str:
    """The Lucene condition that selects a rule's logsource on this layout (module doc); raises
    NotRunnable for a logsource the layout holds no events of."""
    what = ", ".join(
        f"{k}: {v}" for k, v in (("product", product), ("category", category), ("service", service)) if v
    )
    if product is not None and product.lower() == "linux":
        if backend.layout.name == WAZUH:
            return _wazuh_linux_logsource(category, service, what)
        raise NotRunnable(_ecs_linux_reason(category, service, what), kind=OTHER_SOURCE)
    if product is None or product.lower() != "windows":
        shown = what or "none"
        if backend.layout.name == WAZUH:
            raise NotRunnable(
                f"logsource ({shown}): Wazuh indices are hunted for Windows and Linux audit events only",
                kind=OTHER_SOURCE,
            )
        raise NotRunnable(
            f"logsource ({shown}) is not covered by pySigma's ECS Windows pipeline (ecs_windows)",
            kind=OTHER_SOURCE,
        )
    terms = _Terms(backend)
    parts: list[str] = []
    if service is not None:
        channels = _channels_of_service().get(service.lower())
        if not channels:
            raise NotRunnable(
                f"logsource service {service!r}: no Windows channel is known for it", kind=OTHER_SOURCE
            )
        parts.append(terms.channel(channels))
    if category is not None:
        selectors = _category_selectors(category.lower())
        if not selectors:
            raise NotRunnable(
                f"logsource category {category!r}: no Windows event carries it", kind=OTHER_SOURCE
            )
        options = []
        for channels, ids, operations in selectors:
            clause = [terms.channel(channels)]
            if ids:
                clause.append(terms.codes(ids))
            if operations:
                clause.append(terms.any_text(backend.layout.operation_type, operations))
            options.append(" AND ".join(clause))
        parts.append(options[0] if len(options) == 1 else "(" + " OR ".join(f"({o})" for o in options) + ")")
    if not parts:  # product windows alone: every Windows event
        parts.append(f"_exists_:{backend.layout.channel}")
    return " AND ".join(parts)


def _ecs_linux_reason(category: str | None, service: str | None, what: str) -> str:
    """Why a Linux rule does not run on an ECS index (docs/elasticsearch.md, the Linux part)."""
    if category is None and service is not None and service.lower() == "auditd":
        return (
            f"logsource ({what}): Filebeat's auditd module indexes each audit record as a document of "
            "its own, and Sigma's auditd rules (like the embedded engine) match the whole event"
        )
    if category is None:
        return (
            f"logsource ({what}): ECS keeps a syslog line's text in message, a match_only_text field "
            "(analysed words), where Sigma's match on any part of a value cannot be expressed"
        )
    return f"logsource ({what}): no ECS field mapping of Linux {category} events here yet"


def _wazuh_linux_logsource(category: str | None, service: str | None, what: str) -> str:
    """Linux rules on a Wazuh index: auditd's (on what its auditd decoders keep); the others are
    not runnable, with the reason (docs/elasticsearch.md, the Linux part of the layouts)."""
    if category is None and service is not None and service.lower() == "auditd":
        return f"_exists_:{AUDIT}.type"
    if category is not None:
        raise NotRunnable(
            f"logsource ({what}): Wazuh keeps no Linux {category} events with these fields (its auditd "
            "decoder keeps no command line or parent process; Sysmon for Linux is not decoded into them)",
            kind=OTHER_SOURCE,
        )
    raise NotRunnable(
        f"logsource ({what}): Wazuh keeps a syslog line's text only in full_log, an analysed text field "
        "(wazuh-template.json), where Sigma's match on any part of a value cannot be expressed",
        kind=OTHER_SOURCE,
    )


# -- expressibility (ECS names some fields by logsource) ------------------------------------------


@cache
def _kinds_of_channel(channel: str) -> tuple[LogKind, ...]:
    """Every LogKind an event of this (lower-case) channel can have, as windows_kind decides."""
    from secaudit.logs.windows import windows_kind  # noqa: PLC0415

    ids = {-1, 4688, 4657}
    ids.update(sysmon_categories())
    ids.update(event_id for (_, event_id) in category_by_service_event())
    kinds = {windows_kind(channel, "", event_id, op) for event_id in ids for op in ("", "%%1904", "%%1905")}
    return tuple(sorted(kinds, key=lambda k: (sorted(k.categories), sorted(k.services))))


def ecs_conflict(name: str, product: str | None, category: str | None, service: str | None) -> str | None:
    """When a rule's field is kept under another ECS name in some events of the rule's logsource than
    the one the rule is converted to (ecs_windows maps CommandLine, SubjectUserName... by logsource),
    the names; None when all agree."""
    _, variable = _ecs_tables()
    if name not in variable:
        return None
    rule_cats = [category.lower()] if category else []
    rule_servs = [service.lower()] if service else []
    wanted = ecs_field(name, rule_cats, rule_servs)
    channels: set[str] = set()
    if service:
        channels.update(_channels_of_service().get(service.lower(), ()))
    if category:
        for chans, _, _ in _category_selectors(category.lower()):
            channels.update(chans)
    if not channels:
        channels = set(channel_services()) | {SYSMON_CHANNEL}
    found = set()
    for channel in channels:
        for kind in _kinds_of_channel(channel):
            if kind.covers(product, category, service):
                found.add(ecs_field(name, kind.categories, kind.services))
    others = sorted(found - {wanted})
    return (
        None
        if not others
        else f"{name} is {wanted} for this rule but {', '.join(others)} in some of its events"
    )


# -- documents ------------------------------------------------------------------------------------


def _aliases(event: LogEvent) -> set[str]:
    """Sigma names windows_event added to a Security event (its own names stay in the document)."""
    if str(event.fields.get("Channel", "")).lower() != "security":
        return set()
    general, registry = security_aliases()
    out = set()
    for original, alias in (*general.items(), *registry.items()):
        if original in event.fields and alias in event.fields and original != alias:
            out.add(alias)
    return out


def _doubled(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\\", "\\\\")
    if isinstance(value, list):
        return [_doubled(v) for v in value]
    return value


def _halved(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\\\\", "\\")
    if isinstance(value, list):
        return [_halved(v) for v in value]
    return value


def _put(doc: dict[str, Any], dotted: str, value: Any) -> None:
    node = doc
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return
        node = child
    node.setdefault(parts[-1], value)


def _get(doc: Mapping[str, Any], dotted: str) -> Any:
    node: Any = doc
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return dotted_value(doc, dotted)
        node = node[part]
    return node


def dotted_value(doc: Mapping[str, Any], dotted: str) -> Any:
    """A value stored under a dotted key at some level ({"winlog": {"event_data.X": 1}})."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        head, rest = ".".join(parts[:cut]), parts[cut:]
        if head in doc:
            node = doc[head]
            if not rest:
                return node
            if isinstance(node, Mapping):
                return _get(node, ".".join(rest))
    return None


def _typed(kind: str, value: Any) -> Any:
    """A value as the field type stores it; None when the index would refuse or not index it."""
    values = value if isinstance(value, list) else [value]
    out: list[Any] = []
    for item in values:
        if item is None:
            continue
        text = str(item).lower() if isinstance(item, bool) else str(item)
        if kind == NUMBER:
            if not re.fullmatch(r"-?\d+", text.strip()):
                continue
            out.append(int(text))
        elif kind == ADDRESS:
            try:
                out.append(str(ipaddress.ip_address(text.strip())))
            except ValueError:
                continue
        elif kind == BOOLEAN:
            if text.lower() not in ("true", "false"):
                continue
            out.append(text.lower() == "true")
        else:
            out.append(item if isinstance(item, str) else text)
    if not out:
        return None
    return out if isinstance(value, list) else out[0]


# -- Linux audit documents (Wazuh) ----------------------------------------------------------------

AUDIT_LOCATION = "/var/log/audit/audit.log"
_RECORD = re.compile(r"(?:^|(?<= ))(?=(?:node=\S+ )?type=[A-Z_0-9]+ msg=audit\()")
_USER_AND_CRED = frozenset(
    {
        "USER_ACCT",
        "CRED_ACQ",
        "USER_START",
        "CRED_REFR",
        "CRYPTO_KEY_USER",
        "CRYPTO_SESSION",
        "USER_AUTH",
        "USER_ROLE_CHANGE",
    }
)
_SYSCALL_ORDER = tuple(
    re.findall(
        r"\w+",
        "arch syscall success exit a0 a1 a2 a3 items ppid pid auid uid gid euid suid fsuid egid sgid "
        "fsgid tty ses comm exe",
    )
)
# the SYSCALL record's fields in the order Wazuh's first SYSCALL pattern wants them all; it keeps
# them (under these names) only when the record has exactly this shape
_SYSCALL_FULL = " ".join(
    f'{n}="(\\S+)"'
    if n in ("comm", "exe")
    else (rf"{n}=\S+" if re.fullmatch(r"a\d|items", n) else rf"{n}=(\S+)")
    for n in _SYSCALL_ORDER
)
_SYSCALL_KEPT = tuple(
    {"ses": "session", "comm": "command"}.get(n, n)
    for n in _SYSCALL_ORDER
    if not re.fullmatch(r"a\d|items", n)
)


def audit_records(full_log: str) -> list[str]:
    """The records of one audit event as Wazuh's log collector joins them into one line (its
    ``audit`` log format: the records of one event separated by spaces), one per item."""
    starts = [m.start() for m in _RECORD.finditer(full_log)]
    return [full_log[a:b].strip() for a, b in zip(starts, [*starts[1:], len(full_log)], strict=True)]


def _after(record: str) -> str:
    return record.split("): ", 1)[1] if "): " in record else ""


def wazuh_audit_fields(full_log: str) -> dict[str, str]:
    """What Wazuh's auditd decoders (0040-auditd_decoders.xml, read, not copied) keep of one audit
    event, as data.audit.* names without the prefix: the documented mapping ``to_layout_document``
    writes Linux audit events with. Values are kept only where the decoder's pattern finds them:
    a hex-encoded (unquoted) exe, comm, cwd, name or EXECVE argument is not kept; EXECVE arguments a0
    to a7 only; of the PATH records, the first directory (mode 04...) and the next record."""
    records = audit_records(full_log)
    out: dict[str, str] = {}
    if not records:
        return out
    head = re.match(r"(?:node=\S+ )?type=(\S+) msg=audit\(\d{10}\.\d{3}:(\d+)\): ", records[0])
    if head is None or records[0].startswith("node="):
        return out  # the parent decoder wants ^type= (this ruleset version)
    kind, body = head.group(1), _after(records[0])
    out["type"], out["id"] = kind, head.group(2)

    def first(pattern: str, text: str, *names: str) -> bool:
        found = re.search(pattern, text)
        if found:
            for name, value in zip(names, found.groups(), strict=True):
                if value is not None:
                    out.setdefault(name, value)
        return found is not None

    if kind == "SYSCALL":
        found = re.match(_SYSCALL_FULL, body)
        if found:
            out.update(zip(_SYSCALL_KEPT, found.groups(), strict=True))
        first(r'comm="(\w+)"', body, "command")
        first(r'exe="(\S+)"', body, "exe")
        first(r'key=\((\S+)\)|key="(\S+)"|key=(\S+)', body, "key", "key", "key")
        # the decoders' patterns end with a space: the next record's, in the joined line (none after
        # the last record)
        spaced = [_after(r) + (" " if n < len(records) - 1 else "") for n, r in enumerate(records)]
        for record, rest in zip(records[1:], spaced[1:], strict=True):
            rtype = record.split(" ", 1)[0][5:]
            if rtype == "EXECVE":
                for i in range(8):
                    first(rf'(?:^| )a{i}="([^"]*)" ', rest, f"execve.a{i}")
            elif rtype == "CWD":
                first(r'^\s*cwd="([^"]*)" ', rest, "cwd")
        paths = [rest for r, rest in zip(records[1:], spaced[1:], strict=True) if r.startswith("type=PATH ")]
        shape = r'item=\S+ name=(?:"([^"]*)"|\((null)\)) inode=(\S+) dev=\S+ mode=(\S+) ouid=\S+ ogid=\S+ '
        start = 0
        for i, rest in enumerate(paths):
            found = re.match(shape, rest)
            if found and found.group(1) is not None and found.group(4).startswith("04"):
                out["directory.name"], out["directory.inode"] = found.group(1), found.group(3)
                out["directory.mode"] = found.group(4)
                start = i + 1
                break
        for rest in paths[start:]:
            found = re.match(shape, rest)
            if found:
                out["file.name"] = found.group(1) if found.group(1) is not None else "null"
                out["file.inode"], out["file.mode"] = found.group(3), found.group(4)
                break
    elif kind == "CONFIG_CHANGE":
        first(r'^auid=(\S+) ses=(\S+) op="([^"]*)"', body, "auid", "session", "op")
        first(r'key=\((\S+)\)|key="(\S+)"|key=(\S+)', body, "key", "key", "key")
        first(r"list=(\S+)", body, "list")
        first(r"res=(\S+)", body, "res")
    elif kind in _USER_AND_CRED:
        first(r"^pid=(\S+) uid=(\S+) auid=(\S+) ses=(\S+)", body, "pid", "uid", "auid", "session")
        first(r"subj=(\S+)", body, "subj")
        first(r'acct="(\S+)"', body, "acct")
        first(r'exe="(\S+)"', body, "exe")
        first(r"addr=(\S+)", body, "srcip")
    elif kind == "LOGIN":
        first(r"^pid=(\S+) uid=(\S+)", body, "pid", "uid")
        first(r"subj=(\S+)", body, "subj")
        first(
            r"old-auid=(\S+) auid=(\S+) old-ses=(\S+) ses=(\S+) res=(\S+)",
            body,
            "old-auid",
            "auid",
            "old-ses",
            "session",
            "res",
        )
    elif kind not in ("ANOM_PROMISCUOUS", "MAC_STATUS"):  # those two have decoders of their own
        for pattern, name in (
            (r"pid=(\S+)", "pid"),
            (r"auid=(\S+)", "auid"),
            (r" uid=(\S+)", "uid"),
            (r"gid=(\S+)", "gid"),
            (r"euid=(\S+)", "euid"),
            (r"ses=(\S+)", "session"),
            (r'comm="(\S+)"', "command"),
            (r'exe="(\S+)"', "exe"),
            (r"addr=(\S+)", "srcip"),
            (r"res=(\w+)", "res"),
        ):
            first(pattern, full_log, name)
    return out


def _audit_document(event: LogEvent, full_log: str, host: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if event.timestamp is not None:
        doc["timestamp"] = doc["@timestamp"] = event.timestamp.astimezone(UTC).isoformat()
    for name, value in wazuh_audit_fields(full_log).items():
        _put(doc, f"{AUDIT}.{name}", value)
    doc["full_log"] = full_log
    doc["location"] = AUDIT_LOCATION
    doc["agent"] = {"name": host or str(event.fields.get("node") or "")}
    doc["decoder"] = {"name": "auditd"}
    return doc


def to_layout_document(
    layout_name: str, event: LogEvent, *, full_log: str | None = None, agent: str | None = None
) -> dict[str, Any]:
    """An event as the layout's shipper would index it (module doc): the documented field mapping
    the Lucene check and the integration tests index the regression events with. A Linux audit
    event (Wazuh) is written from its records as Wazuh's log collector joins them (``full_log``)
    through :func:`wazuh_audit_fields`; ``agent`` is the Wazuh agent's name."""
    if event.kind.product == "linux":
        if layout_name != WAZUH or full_log is None:
            raise ValueError("Linux audit events are written for the Wazuh layout only, from full_log")
        return _audit_document(event, full_log, agent)
    lay = LAYOUTS[layout_name]
    doc: dict[str, Any] = {}
    stamp = event.timestamp.astimezone(UTC).isoformat() if event.timestamp is not None else None
    skip = _aliases(event)
    if layout_name == ECS:
        if stamp:
            doc["@timestamp"] = stamp
        event_id = event.fields.get("EventID")
        if event_id is not None:
            _put(doc, "winlog.event_id", str(event_id))
        for name, value in event.fields.items():
            if name in skip or value is None:
                continue
            target = ecs_field(name, event.kind.categories, event.kind.services)
            kind = lay.kind(target)
            if kind == RENDERED:
                continue  # Winlogbeat writes its rendered text there, not this value
            typed = _typed(KEYWORD if kind in (TEXT,) else kind, value)
            if typed is not None:
                _put(doc, target, typed)
        host = event.fields.get("Computer")
        if isinstance(host, str):
            _put(doc, "host.name", host)
        doc.setdefault("ecs", {"version": "8.11.0"})
    else:
        if stamp:
            doc["timestamp"] = stamp
            doc["@timestamp"] = stamp
        for name, value in event.fields.items():
            if name in skip or value is None:
                continue
            typed = _typed(KEYWORD, value)
            if typed is not None:
                _put(doc, wazuh_field(name), _doubled(typed))
        host = event.fields.get("Computer")
        if isinstance(host, str):
            doc["agent"] = {"name": host}
        doc["decoder"] = {"name": "windows_eventchannel"}
    return doc


def _stamp(value: Any) -> datetime | None:
    return parse_time(value) if isinstance(value, str) else None


# Sigma names an ECS event shows its ECS fields under when no rule asks for another: the usual name
# of each (process.executable is also NewProcessName, SourceImage... in the rules that say so)
DISPLAY = frozenset(
    {
        "Image",
        "CommandLine",
        "ParentImage",
        "ParentCommandLine",
        "ProcessId",
        "ParentProcessId",
        "CurrentDirectory",
        "User",
        "SourceIp",
        "SourcePort",
        "DestinationIp",
        "DestinationPort",
        "QueryName",
        "TargetObject",
    }
)


def event_from_source(
    layout_name: str, source: Mapping[str, Any], names: Collection[str] | None = None
) -> LogEvent:
    """The LogEvent of a document of this layout: its Windows fields under their Sigma names, host,
    time and record from the layout's fields, the kind from its channel and event id as the embedded
    engine decides it. Where the layout keeps several Sigma names under one field (ECS's
    process.executable is Image, NewProcessName, SourceImage...; Wazuh's ``commandLine`` may be asked
    as ``commandLine``), the event carries the names in ``names`` (the rule's) and :data:`DISPLAY`;
    ``names`` None: every such name."""
    lay = LAYOUTS[layout_name]
    if layout_name == WAZUH and isinstance(_get(source, AUDIT), Mapping):
        return audit_event(source)
    channel = str(_get(source, lay.channel) or "")
    provider = str(_get(source, lay.provider) or "")
    code = _get(source, lay.event_code)
    if code is None and layout_name == ECS:
        code = _get(source, "winlog.event_id")
    event_id = event_id_of(code)
    operation = _get(source, lay.operation_type)
    kind = _kind_of(channel, provider, event_id, str(_halved(operation) or ""))
    fields: dict[str, Any] = {}
    if layout_name == ECS:
        data = _get(source, "winlog.event_data")
        if isinstance(data, Mapping):
            for name, value in data.items():
                fields[str(name)] = value
        fixed, variable = _ecs_tables()
        for name in {*fixed, *variable}:
            if names is not None and name not in names and name not in DISPLAY:
                continue
            value = _get(source, ecs_field(name, kind.categories, kind.services))
            if value is not None and not isinstance(value, Mapping):
                fields.setdefault(name, value)
        record = _get(source, lay.record)
        computer = _get(source, lay.computer) or _get(source, "host.name")
        time_value = _get(source, lay.time_field)
    else:
        win = _get(source, "data.win")
        system = win.get("system") if isinstance(win, Mapping) else None
        data = win.get("eventdata") if isinstance(win, Mapping) else None
        back = {v: k for k, v in _WAZUH_SYSTEM.items()}
        for name, value in (system or {}).items():
            if str(name) in back:
                fields[back[str(name)]] = _halved(value)
        for name, value in (data or {}).items():
            text = str(name)
            fields.setdefault(text[:1].upper() + text[1:], _halved(value))
            if names is None or text in names:
                fields.setdefault(text, _halved(value))
        record = _get(source, lay.record)
        agent = _get(source, "agent.name")
        computer = fields.get("Computer") or agent
        time_value = _get(source, lay.time_field) or _get(source, "@timestamp")
    fields["EventID"] = event_id
    fields["Channel"] = channel
    fields["Provider_Name"] = provider
    if computer is not None:
        fields["Computer"] = computer
    number = event_id_of(record)
    host = str(computer or "")
    return windows_event(
        fields,
        channel=channel,
        provider=provider,
        event_id=event_id,
        source=f"{host}/{channel}" if host else channel,
        record=max(number, 0),
        timestamp=_stamp(time_value),
        kind=kind,
    )


def _kind_of(channel: str, provider: str, event_id: int, operation: str) -> LogKind:
    from secaudit.logs.windows import windows_kind  # noqa: PLC0415

    return windows_kind(channel, provider, event_id, operation)


def audit_event(source: Mapping[str, Any]) -> LogEvent:
    """The LogEvent of a Wazuh Linux audit document: its ``full_log`` (the event's records) read by
    secaudit's own auditd reader, so a rule sees the fields the embedded engine gives the event;
    source ``agent/location``, record the audit serial. Without ``full_log``, the data.audit.*
    fields under their Sigma names (what Wazuh kept)."""
    from secaudit.logs.auditd import AUDITD, parse_auditd  # noqa: PLC0415
    from secaudit.logs.context import Context  # noqa: PLC0415
    from secaudit.logs.stats import ReadStats  # noqa: PLC0415

    agent = str(_get(source, "agent.name") or "")
    location = str(_get(source, "location") or AUDIT_LOCATION)
    where = f"{agent}/{location}" if agent else location
    serial = event_id_of(_get(source, f"{AUDIT}.id"))
    full_log = _get(source, "full_log")
    if isinstance(full_log, str):
        lines = ((n, r.encode()) for n, r in enumerate(audit_records(full_log), start=1))
        for parsed in parse_auditd(lines, Context(where, ReadStats())):
            return LogEvent(parsed.fields, parsed.kind, where, max(serial, 0), parsed.timestamp)
    audit = _get(source, AUDIT)
    back = {v: k for k, v in _AUDIT_FIELDS.items()}
    fields: dict[str, Any] = {}
    for name, value in _flat_items(audit if isinstance(audit, Mapping) else {}):
        if name in back:
            fields[back[name]] = value
    names = [v for v in (_get(audit, n) for n in AUDIT_NAMES) if isinstance(v, str)]
    if names:
        fields["name"] = names[0] if len(names) == 1 else names
    time_value = _get(source, "timestamp") or _get(source, "@timestamp")
    return LogEvent(fields, AUDITD, where, max(serial, 0), _stamp(time_value))


def _flat_items(node: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in node.items():
        if isinstance(value, Mapping):
            yield from _flat_items(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
