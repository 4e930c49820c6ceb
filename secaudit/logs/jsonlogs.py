"""JSON logs of Windows events: evtx_dump JSON, Winlogbeat/ECS JSON lines, flat (NXLog-style) JSON lines.

* ``evtx-json``: evtx_dump's output, one object per line (``-o jsonl``) or pretty-printed objects one after
  another (``-o json``, optionally with its ``Record N`` lines). ``record`` is EventRecordID.
* ``ecs-json``: Winlogbeat events (``winlog.event_data.*``, ``winlog.channel``, ``winlog.event_id``,
  ``@timestamp``), nested or with dotted keys. ``record`` is the line number.
* ``flat-json``: one object per line with EventData fields and ``EventID``/``Channel`` at top level (NXLog's
  ``to_json``, many SIEM exports). journald entries (``journalctl -o json``: ``MESSAGE``,
  ``__REALTIME_TIMESTAMP``) get the syslog fields and kind. Other objects are events of unknown origin:
  their keys are their fields (nested objects as dotted names), their kind is empty unless the caller
  names one. ``record`` is the line number.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import orjson

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs import _fast
from secaudit.logs.context import Context, Lines
from secaudit.logs.formats import Sample, log_format, sniffer
from secaudit.logs.linuxsysmon import sysmon_linux_event
from secaudit.logs.syslog import linux_kind
from secaudit.logs.windows import (
    aliases_loaded,
    data_fields,
    event_id_of,
    flat_windows_step,
    from_evtx_dict,
    parse_time,
    windows_event,
)

EMPTY_KIND = LogKind()


def json_flavour(obj: object) -> str | None:
    """Which JSON format an object belongs to, by its keys; None if it is not an object."""
    if not isinstance(obj, dict):
        return None
    event = obj.get("Event")
    if isinstance(event, dict) and "System" in event:
        return "evtx-json"
    winlog = obj.get("winlog")
    if isinstance(winlog, dict) or any(key.startswith("winlog.") for key in obj):
        return "ecs-json"
    if "id.orig_h" in obj or "id.resp_h" in obj or ("uid" in obj and "ts" in obj) or "_path" in obj:
        return "zeek-json"
    if isinstance(obj.get("id"), dict) and "orig_h" in obj["id"]:
        return "zeek-json"
    return "flat-json"


def flatten(obj: dict[str, object], prefix: str, out: dict[str, object]) -> None:
    """Nested objects as dotted names into ``out``."""
    for key, value in obj.items():
        if isinstance(value, dict):
            flatten(value, f"{prefix}{key}.", out)
        else:
            out[prefix + key] = value


def epoch_time(value: object) -> datetime | None:
    """Seconds (or milliseconds, when too large for seconds) since 1970 as an aware UTC datetime."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    seconds = value / 1000 if value > 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


# -- evtx_dump JSON -----------------------------------------------------------------------------


_SNIFF_LINES = 10


def _json_format(lines: tuple[bytes, ...], head: bytes) -> str:
    """The JSON format of the first parseable line, or ``""`` (of JSON shape, but no format fits)."""
    first = lines[0].strip()
    if first == b"{" or first.startswith(b"Record "):
        # Pretty-printed objects one after another: only evtx_dump writes them.
        return "evtx-json" if b'"System"' in head else ""
    for line in lines[:_SNIFF_LINES]:
        try:
            return json_flavour(orjson.loads(line)) or ""
        except orjson.JSONDecodeError:
            continue
    return ""


@sniffer("document", rank=20)
def sniff_json_document(sample: Sample, first: bytes) -> str | None:
    if first[:1] == b"{" or first.startswith(b"Record "):
        return _json_format(sample.lines, sample.head)
    return None


@sniffer("line", rank=50)
def sniff_json_line(sample: Sample, line: bytes) -> str | None:
    return _json_format((line,), sample.head) if line[:1] == b"{" else None


@log_format("evtx-json", records="objects", split_after=b"\n{")
def parse_evtx_json(units: Lines, ctx: Context) -> Iterator[LogEvent]:
    """Events from evtx_dump JSON cut into objects by :func:`secaudit.logs.objects.iter_objects`."""
    for number, unit in units:
        stripped = unit.strip()
        if stripped[:1] == b"{" and stripped[-1:] == b"}":
            event = _evtx_object(ctx, number, stripped)
            if event is not None:
                yield event
        else:
            ctx.skip(number, "not part of an evtx_dump JSON object")


def _evtx_object(ctx: Context, number: int, raw: bytes) -> LogEvent | None:
    obj = ctx.json(number, raw)
    if obj is None:
        return None
    try:
        return from_evtx_dict(obj, ctx.source, ctx.kind, number, raw)  # type: ignore[arg-type]
    except (KeyError, TypeError, AttributeError):
        ctx.skip(number, "JSON object is not an evtx_dump event (no Event.System)")
        return None


# -- Winlogbeat / ECS ---------------------------------------------------------------------------


def _dotted(obj: dict[str, object], prefix: str) -> dict[str, object]:
    """Keys under ``prefix.`` whether nested ({"winlog": {"channel": ..}}) or dotted ("winlog.channel")."""
    nested = obj.get(prefix)
    out: dict[str, object] = dict(nested) if isinstance(nested, dict) else {}
    cut = len(prefix) + 1
    for key, value in obj.items():
        if key.startswith(prefix) and key[cut - 1 : cut] == ".":
            out[key[cut:]] = value
    return out


def ecs_event(obj: dict[str, object], ctx: Context, number: int) -> LogEvent:
    winlog = _dotted(obj, "winlog")
    event_data = winlog.get("event_data")
    if not isinstance(event_data, dict):
        event_data = _dotted(winlog, "event_data")
    user_data = winlog.get("user_data")
    fields = data_fields(event_data, {"_": user_data} if isinstance(user_data, dict) else None)
    channel = str(winlog.get("channel") or "")
    provider = str(winlog.get("provider_name") or "")
    raw_id = winlog.get("event_id")
    if raw_id is None:  # older Winlogbeat and Elastic Agent put it in event.code only
        raw_id = _dotted(obj, "event").get("code")
    event_id = event_id_of(raw_id)
    time_text = obj.get("@timestamp")
    fields["EventID"] = event_id
    fields["Channel"] = channel
    fields["Provider_Name"] = provider
    computer = winlog.get("computer_name")
    if computer is None:
        host = _dotted(obj, "host")
        computer = host.get("name") or host.get("hostname")
    fields["Computer"] = computer
    log = _dotted(obj, "log")
    fields["Level"] = log.get("level")
    fields["Task"] = winlog.get("task")
    fields["Opcode"] = winlog.get("opcode")
    keywords = winlog.get("keywords")
    fields["Keywords"] = keywords
    fields["EventRecordID"] = winlog.get("record_id")
    fields["TimeCreated"] = time_text
    return windows_event(
        fields,
        channel=channel,
        provider=provider,
        event_id=event_id,
        source=ctx.source,
        record=number,
        timestamp=parse_time(time_text),
        kind=ctx.kind,
    )


@log_format("ecs-json", split_after=b"\n")
def parse_ecs_json(lines: Lines, ctx: Context) -> Iterator[LogEvent]:
    for number, line in lines:
        if not line.strip():
            continue
        obj = ctx.json(number, line)
        if obj is None:
            continue
        if not isinstance(obj, dict):
            ctx.skip(number, "JSON value is not an object")
            continue
        yield ecs_event(obj, ctx, number)


# -- flat JSON ----------------------------------------------------------------------------------

_TIME_KEYS = ("TimeCreated", "EventTime", "@timestamp", "timestamp", "UtcTime", "time", "ts")
_PROVIDER_KEYS = ("Provider_Name", "ProviderName", "SourceName")
_COMPUTER_KEYS = ("Computer", "Hostname", "ComputerName")


def flat_event(obj: dict[str, object], ctx: Context, number: int, line: bytes | None = None) -> LogEvent:
    """A flat event; nested objects are flattened to dotted names ({"a": {"b": 1}} -> "a.b").

    ``line``, the JSON text ``obj`` was read from, becomes the event's ``text`` (LogEvent) when every
    value is a string, an int, a boolean or null.
    """
    fields = obj
    kinds = _fast.value_kinds(obj)  # set(map(type, obj.values())), told in C
    if kinds & _fast.HAS_DICT:
        fields = {}
        flatten(obj, "", fields)
    text = line if not kinds else None  # every value a str, int, bool or null
    time_value = fields.get("TimeCreated")  # the first of _TIME_KEYS, and the one Windows events have
    if time_value is None:
        for key in _TIME_KEYS:
            time_value = fields.get(key)
            if time_value is not None:
                break
    timestamp = parse_time(time_value) if isinstance(time_value, str) else epoch_time(time_value)
    if "MESSAGE" in fields and "__REALTIME_TIMESTAMP" in fields:
        return journald_event(fields, ctx, number)
    raw_id = fields.get("EventID")
    channel = fields.get("Channel")
    provider = fields.get("Provider_Name")
    provider_key = None
    if provider is None:
        provider_key = next((key for key in _PROVIDER_KEYS if key in fields), None)
        provider = fields.get(provider_key) if provider_key else None
    if raw_id is None or (channel is None and provider is None):
        return LogEvent(fields, ctx.kind or EMPTY_KIND, ctx.source, number, timestamp, text)
    if provider_key is not None:
        fields["Provider_Name"] = provider
    if type(raw_id) is int:
        event_id = raw_id
    else:
        event_id = fields["EventID"] = event_id_of(raw_id)
        if text is not None and str(event_id) not in str(raw_id):
            text = None  # "4_688" or "x" read as 4688 or -1: the value's text is not in the line
    if "Computer" not in fields:
        for key in _COMPUTER_KEYS:
            if key in fields:
                fields["Computer"] = fields[key]
                break
    if "EventRecordID" not in fields and "RecordNumber" in fields:
        fields["EventRecordID"] = fields["RecordNumber"]
    return windows_event(
        fields,
        channel=channel if type(channel) is str else str(channel or ""),
        provider=provider if type(provider) is str else str(provider or ""),
        event_id=event_id,
        source=ctx.source,
        record=number,
        timestamp=timestamp,
        kind=ctx.kind,
        text=text,
    )


def journald_event(fields: dict[str, object], ctx: Context, number: int) -> LogEvent:
    """A ``journalctl -o json`` entry: its own keys, plus the syslog fields (message, program, pid,
    hostname, Computer) and kind; a Sysmon for Linux entry becomes that Sysmon event."""
    message = fields["MESSAGE"]
    if isinstance(message, list):  # journald writes non-UTF-8 messages as a byte array
        message = bytes(b for b in message if isinstance(b, int) and 0 <= b < 256).decode("utf-8", "replace")
    text = str(message) if message is not None else ""
    program = str(fields.get("SYSLOG_IDENTIFIER") or fields.get("_COMM") or "")
    stamp = fields.get("__REALTIME_TIMESTAMP")
    timestamp = epoch_time(int(stamp) / 1_000_000) if isinstance(stamp, str) and stamp.isdigit() else None
    if text[:7] in ("<Event>", "<Event "):
        event, _ = sysmon_linux_event(text, source=ctx.source, record=number, kind=ctx.kind)
        if event is not None:
            return event
    fields["message"] = text
    fields["program"] = program
    pid = fields.get("SYSLOG_PID") or fields.get("_PID")
    if isinstance(pid, str) and pid.isdigit():
        fields["pid"] = int(pid)
    host = fields.get("_HOSTNAME")
    if host is not None:
        fields["hostname"] = host
        fields["Computer"] = host
    return LogEvent(fields, ctx.kind or linux_kind(program), ctx.source, number, timestamp)


@log_format("flat-json", split_after=b"\n")
def parse_flat_json(lines: Lines, ctx: Context) -> Iterator[LogEvent]:
    loads = orjson.loads
    windows, waiting = flat_windows_step(ctx.source, ctx.kind)  # flat_event's Windows path, in C
    for number, line in lines:
        try:
            obj = loads(line)
        except orjson.JSONDecodeError:
            if not line.strip():  # a blank line
                continue
            obj = ctx.json(number, line)  # counts it, or reads it with bad UTF-8 replaced
            if obj is None:
                continue
        if type(obj) is not dict:
            ctx.skip(number, "JSON value is not an object")
            continue
        event = windows(obj, line, number)
        if event is None:
            event = flat_event(obj, ctx, number, line)
            if waiting and aliases_loaded():  # the first Security event loaded pySigma's tables
                windows, waiting = flat_windows_step(ctx.source, ctx.kind)
        yield event
