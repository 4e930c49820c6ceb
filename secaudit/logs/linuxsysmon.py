"""Sysmon for Linux: its events arrive through syslog as one XML ``<Event>`` per message.

Mapped like Windows Sysmon events (EventData values by name, ``EventID`` as int, ``Channel``,
``Provider_Name``, ``Computer``, ``EventRecordID``, ``TimeCreated``), with product ``linux``, service
``sysmon`` and the categories of the Sysmon event id (1 process_creation, 3 network_connection,
11 file_event, 23 file_delete...), which SigmaHQ's rules/linux process_creation, network_connection and
file_event rules are written for. The XML is parsed with defusedxml (no entities, no external references).
"""

from __future__ import annotations

from datetime import datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.context import KIND_CACHE_MAX
from secaudit.logs.windows import event_id_of, parse_time, sysmon_categories

_KINDS: dict[int, LogKind] = {}


def sysmon_linux_kind(event_id: int) -> LogKind:
    kind = _KINDS.get(event_id)
    if kind is None:
        categories = frozenset(sysmon_categories().get(event_id, ()))
        if len(_KINDS) >= KIND_CACHE_MAX:  # hostile input with endless distinct names
            _KINDS.clear()
        kind = _KINDS[event_id] = LogKind("linux", categories, frozenset({"sysmon"}))
    return kind


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def sysmon_linux_event(
    xml: str, *, source: str, record: int, kind: LogKind | None
) -> tuple[LogEvent | None, str | None]:
    """(event, None), or (None, why) when the XML is broken or not an event."""
    try:
        root: Element = DET.fromstring(xml)
    except (ParseError, DefusedXmlException) as e:
        return None, f"Sysmon for Linux XML unreadable: {e}"
    if _local(root.tag) != "Event":
        return None, "Sysmon for Linux message is not an <Event>"
    fields: dict[str, object] = {}
    system: dict[str, object] = {}
    timestamp: datetime | None = None
    for part in root:
        name = _local(part.tag)
        if name == "EventData":
            for data in part:
                key = data.get("Name")
                if key:
                    fields[key] = data.text or ""
        elif name == "System":
            for item in part:
                item_name = _local(item.tag)
                if item_name == "Provider":
                    system["Provider_Name"] = item.get("Name", "")
                elif item_name == "TimeCreated":
                    system["TimeCreated"] = item.get("SystemTime")
                    timestamp = parse_time(item.get("SystemTime"))
                elif item.text is not None:
                    system[item_name] = item.text
    event_id = event_id_of(system.get("EventID"))
    fields["EventID"] = event_id
    for key in ("Channel", "Provider_Name", "Computer", "Level", "Task", "Opcode", "Keywords", "TimeCreated"):
        fields[key] = system.get(key)
    record_id = system.get("EventRecordID")
    fields["EventRecordID"] = (
        int(record_id) if isinstance(record_id, str) and record_id.isdigit() else record_id
    )
    return LogEvent(fields, kind or sysmon_linux_kind(event_id), source, record, timestamp), None
