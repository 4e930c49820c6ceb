"""Windows events to the Sigma taxonomy: one mapping for EVTX, evtx_dump JSON, Winlogbeat/ECS and flat JSON.

Every reader brings an event down to (System values, EventData values) and calls :func:`windows_event`.

* Fields: EventData (and UserData) values at top level by their own names, plus the System values
  ``EventID`` (int), ``Channel``, ``Provider_Name``, ``Computer``, ``Level``, ``Task``, ``Opcode``,
  ``Keywords``, ``EventRecordID``, ``TimeCreated``.
* Services come from the channel, through pySigma's own table of Sigma service names to Windows
  channels (``sigma.pipelines.common.windows_logsource_mapping``, used by ``sigma.pipelines.windows``),
  plus the few SigmaHQ services that table lacks.
* Categories come from (channel, EventID): Sysmon event ids as the pySigma Sysmon pipeline maps them,
  PowerShell ids from ``sigma.pipelines.windows``, and Security 4688/4657 as the windows-audit pipeline
  maps them. The windows-audit pipeline's field mapping (Sigma name -> Security name) is applied in
  reverse, so a Security 4688 event also carries ``Image``, ``ParentImage`` and ``LogonId``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import cast

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs import _fast
from secaudit.logs.context import KIND_CACHE_MAX

SYSMON_CHANNEL = "microsoft-windows-sysmon/operational"
SYSMON_PROVIDER = "microsoft-windows-sysmon"


@lru_cache(maxsize=1)
def sysmon_categories() -> dict[int, tuple[str, ...]]:
    """Sysmon event ids -> Sigma categories: pySigma's Sysmon pipeline (pysigma-pipeline-sysmon) maps
    generic categories to event ids; this is that table read the other way.

    The pipeline maps registry_add and registry_delete both to event 12 without looking at EventType:
    rules of those categories select the EventType themselves. One addition: SigmaHQ's file_delete rules
    also cover Sysmon 26 (FileDeleteDetected), which the pipeline maps to file_delete_detected only.
    """
    from sigma.pipelines.sysmon.sysmon import (  # noqa: PLC0415 (pySigma import: only when Sysmon events come)
        sysmon_generic_logsource_eventid_mapping,
    )

    out: dict[int, set[str]] = {}
    for category, ids in sysmon_generic_logsource_eventid_mapping.items():
        for event_id in ids if isinstance(ids, list) else [ids]:
            if isinstance(event_id, int):
                out.setdefault(event_id, set()).add(category)
    out.setdefault(26, set()).add("file_delete")
    return {event_id: tuple(sorted(names)) for event_id, names in sorted(out.items())}


# SigmaHQ services whose channel the installed pySigma table does not list.
EXTRA_SERVICES: dict[str, tuple[str, ...]] = {
    "iis-configuration": ("Microsoft-IIS-Configuration/Operational",),
    "smbserver-connectivity": ("Microsoft-Windows-SmbServer/Connectivity",),
    "ldap": ("Microsoft-Windows-LDAP-Client/Debug",),
}

# Security 4657 OperationType, raw (%%1904/%%1905 before message rendering) and rendered.
_REGISTRY_OPERATIONS = {
    "%%1904": "registry_add",
    "new registry value created": "registry_add",
    "%%1905": "registry_set",
    "existing registry value modified": "registry_set",
}

SYSTEM_FIELDS = (
    "EventID",
    "Channel",
    "Provider_Name",
    "Computer",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "EventRecordID",
    "TimeCreated",
)


@lru_cache(maxsize=1)
def channel_services() -> dict[str, frozenset[str]]:
    """Lower-case channel name -> Sigma service names, from pySigma's table (imported on first use)."""
    from sigma.pipelines.common import windows_logsource_mapping  # noqa: PLC0415 (140 ms import)

    table: dict[str, set[str]] = {}
    items: list[tuple[str, object]] = list(windows_logsource_mapping.items())
    items += list(EXTRA_SERVICES.items())
    for service, channels in items:
        names = [channels] if isinstance(channels, str) else list(channels)  # type: ignore[call-overload]
        for channel in names:
            table.setdefault(str(channel).lower(), set()).add(service)
    return {channel: frozenset(services) for channel, services in table.items()}


@lru_cache(maxsize=1)
def category_by_service_event() -> dict[tuple[str, int], str]:
    """(service, EventID) -> category for the PowerShell categories pySigma's windows pipeline defines."""
    from sigma.pipelines.windows.windows import windows_generic_category_channel_mapping  # noqa: PLC0415

    out: dict[tuple[str, int], str] = {}
    for category, info in windows_generic_category_channel_mapping.items():
        out[(str(info["service"]), int(str(info["EventID"])))] = category
    return out


def load_tables() -> None:
    """Build the Windows mapping tables now (about 0.15 s of pySigma), in a process about to fork
    hunt workers, so that each inherits them instead of building its own."""
    sysmon_categories()
    channel_services()
    category_by_service_event()
    security_aliases()


@lru_cache(maxsize=1)
def security_aliases() -> tuple[dict[str, str], dict[str, str]]:
    """(all Security events, event 4657 only): Security field name -> Sigma taxonomy name.

    Read from pySigma's windows-audit pipeline, whose field mappings go the other way.
    """
    from sigma.pipelines.windows.windows import (  # noqa: PLC0415
        windows_audit_pipeline,
        windows_audit_registry_fieldmappings,
    )

    general: dict[str, str] = {}
    for item in windows_audit_pipeline().items:
        if item.identifier == "windows_audit_fieldmappings":
            mapping = getattr(item.transformation, "mapping", {})
            for sigma_name, targets in mapping.items():
                for target in [targets] if isinstance(targets, str) else targets:
                    general[str(target)] = str(sigma_name)
    registry = {str(target): str(name) for name, target in windows_audit_registry_fieldmappings.items()}
    return general, registry


_KINDS: dict[tuple[str, str, int, str], LogKind] = {}


def windows_kind(channel: str, provider: str, event_id: int, subtype: str = "") -> LogKind:
    """The LogKind of a Windows event, cached per (channel, provider, EventID, subtype)."""
    key = (channel, provider, event_id, subtype)
    kind = _KINDS.get(key)
    if kind is None:
        if len(_KINDS) >= KIND_CACHE_MAX:  # hostile input with endless distinct names
            _KINDS.clear()
        kind = _KINDS[key] = _make_kind(channel, provider, event_id, subtype)
    return kind


def _make_kind(channel: str, provider: str, event_id: int, subtype: str) -> LogKind:
    low_channel = channel.lower()
    services = set(channel_services().get(low_channel, ()))
    categories: set[str] = set()
    if low_channel == SYSMON_CHANNEL or provider.lower() == SYSMON_PROVIDER:
        services.add("sysmon")
        categories.update(sysmon_categories().get(event_id, ()))
    for service in services:
        category = category_by_service_event().get((service, event_id))
        if category:
            categories.add(category)
    if "security" in services:
        if event_id == 4688:
            categories.add("process_creation")
        elif event_id == 4657:
            categories.add("registry_event")
            operation = _REGISTRY_OPERATIONS.get(subtype.lower())
            if operation:
                categories.add(operation)
    return LogKind(product="windows", categories=frozenset(categories), services=frozenset(services))


def event_id_of(value: object) -> int:
    """EventID as an int: evtx gives 4688 or {"#text": 4688, "#attributes": {...}}; JSON may give "4688"."""
    if isinstance(value, Mapping):
        value = value.get("#text")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return -1


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime; a time without zone is taken as UTC. None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    stamp: datetime | None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        stamp = _parse_time_slow(text)
        if stamp is None:
            return None
    zone = stamp.tzinfo
    if zone is UTC:  # "...Z" (what Windows writes): already what astimezone would give
        return stamp
    if zone is None:
        return stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def _parse_time_slow(text: str) -> datetime | None:
    # More than 6 fractional digits (Windows keeps 100 ns ticks) or a trailing " UTC".
    text = text.removesuffix(" UTC").replace(" ", "T", 1)
    dot = text.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        text = text[: dot + 7] + text[end:] if end - dot > 7 else text
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def plain(value: object) -> object:
    """An evtx value as a plain value: {"#text": x} -> x; other mappings keep their non-attribute keys."""
    if isinstance(value, dict):
        if "#text" in value:
            return plain(value["#text"])
        return {k: plain(v) for k, v in value.items() if not k.startswith("#")} or None
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def data_fields(event_data: object, user_data: object = None) -> dict[str, object]:
    """EventData and UserData values at top level by name (attribute keys dropped)."""
    fields: dict[str, object]
    if isinstance(event_data, dict):
        kinds = set(map(type, event_data.values()))
        if dict in kinds or list in kinds:
            fields = {name: plain(value) for name, value in event_data.items() if name[:1] != "#"}
            if "#text" in event_data:
                fields["Data"] = plain(event_data["#text"])
        else:
            fields = dict(event_data)
            fields.pop("#attributes", None)
            if "#text" in fields:
                fields["Data"] = fields.pop("#text")
    else:
        fields = {}
        if event_data is not None and event_data != "":
            fields["Data"] = plain(event_data)
    if isinstance(user_data, dict):
        # UserData holds one element named after the event (LogFileCleared...); its children are the values.
        for outer, inner in user_data.items():
            if outer[:1] == "#":
                continue
            if isinstance(inner, dict):
                for name, value in inner.items():
                    if name[:1] != "#":
                        fields.setdefault(name, plain(value))
            else:
                fields.setdefault(outer, plain(inner))
    return fields


_new_event = cast("Callable[[tuple[object, ...]], LogEvent]", partial(tuple.__new__, LogEvent))
"""``LogEvent(*values)`` without the Python-level ``__new__`` a NamedTuple goes through (once per event)."""


def windows_event(
    fields: dict[str, object],
    *,
    channel: str,
    provider: str,
    event_id: int,
    source: str,
    record: int,
    timestamp: datetime | None,
    kind: LogKind | None = None,
    text: bytes | None = None,
) -> LogEvent:
    """Finish a Windows event whose ``fields`` already hold EventData and the System values.

    Adds the Sigma taxonomy aliases of Security events (copies of values: ``text``, LogEvent.text,
    still holds them) and picks the LogKind (``kind`` overrides it).
    """
    subtype = ""
    if channel == "Security" or (len(channel) == 8 and channel.lower() == "security"):
        general, registry = security_aliases()
        if event_id == 4657:
            subtype = str(fields.get("OperationType", ""))
            for name, alias in registry.items():
                if name in fields and alias not in fields:
                    fields[alias] = fields[name]
        for name, alias in general.items():
            if name in fields and alias not in fields:
                fields[alias] = fields[name]
    if kind is None:
        kind = _KINDS.get((channel, provider, event_id, subtype)) or windows_kind(
            channel, provider, event_id, subtype
        )
    return _new_event((fields, kind, source, record, timestamp, text))


FlatStep = Callable[[dict[str, object], bytes, int], "LogEvent | None"]


def flat_windows_step(source: str, kind: LogKind | None) -> tuple[FlatStep, bool]:
    """``_fast.flat_windows_event`` bound to one reading: ``step(fields, line, record)`` gives what
    jsonlogs.flat_event gives for a flat Windows event in the usual shape, in one C call, or None
    (fields untouched) for flat_event to read. The flag is True when Security events are left to
    flat_event because their aliases are not loaded yet (pySigma's tables are loaded by the first
    one that needs them): bind again once :func:`security_aliases` has run."""
    loaded = aliases_loaded()
    aliases = security_aliases()[0] if loaded else None
    step = partial(_fast.flat_windows_event, _KINDS, aliases, parse_time, LogEvent, kind, source)
    return cast("FlatStep", step), not loaded


def aliases_loaded() -> bool:
    """Whether :func:`security_aliases` has run in this process."""
    return security_aliases.cache_info().currsize > 0


def from_evtx_dict(
    event: Mapping[str, object], source: str, kind: LogKind | None, fallback: int, text: bytes | None = None
) -> LogEvent:
    """An event as evtx and evtx_dump write it ({"Event": {"System": ..., "EventData": ...}}).

    ``record`` is EventRecordID (``fallback`` when the event has none); raises KeyError/TypeError on a
    dict of another shape (the caller counts it as skipped). ``text``, the JSON ``event`` was read
    from, becomes the event's ``text`` (LogEvent) when every value taken from it is a string, an int,
    a boolean or null of it.
    """
    root = event["Event"]
    if not isinstance(root, dict):
        raise TypeError("Event is not an object")
    system = root["System"]
    if not isinstance(system, dict):
        raise TypeError("Event.System is not an object")
    fields = data_fields(root.get("EventData"), root.get("UserData"))
    provider_info = system.get("Provider")
    provider = ""
    if isinstance(provider_info, dict):
        attrs = provider_info.get("#attributes")
        if isinstance(attrs, dict):
            provider = str(attrs.get("Name") or attrs.get("EventSourceName") or "")
    raw_id = system.get("EventID")
    event_id = event_id_of(raw_id)
    channel = str(system.get("Channel") or "")
    created = system.get("TimeCreated")
    time_text = None
    if isinstance(created, dict):
        attrs = created.get("#attributes")
        if isinstance(attrs, dict):
            time_text = attrs.get("SystemTime")
    record_id = system.get("EventRecordID")
    record = record_id if isinstance(record_id, int) and not isinstance(record_id, bool) else fallback
    fields["EventID"] = event_id
    fields["Channel"] = channel
    fields["Provider_Name"] = provider
    fields["Computer"] = system.get("Computer")
    fields["Level"] = plain(system.get("Level"))
    fields["Task"] = plain(system.get("Task"))
    fields["Opcode"] = plain(system.get("Opcode"))
    fields["Keywords"] = plain(system.get("Keywords"))
    fields["EventRecordID"] = record_id if record_id is not None else None
    fields["TimeCreated"] = time_text
    if text is not None and (
        _fast.value_kinds(fields)  # a value not a str, int, bool or null
        or not isinstance(raw_id.get("#text") if isinstance(raw_id, dict) else raw_id, int)
    ):
        text = None  # a float, a list, an object, or an EventID read from other text
    return windows_event(
        fields,
        channel=channel,
        provider=provider,
        event_id=event_id,
        source=source,
        record=record,
        timestamp=parse_time(time_text),
        kind=kind,
        text=text,
    )
