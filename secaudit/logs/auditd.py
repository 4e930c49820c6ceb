"""Linux auditd logs (``/var/log/audit/audit.log``, raw or ENRICHED format).

An audit event is written as several records (SYSCALL, EXECVE, CWD, PATH, PROCTITLE, ...) sharing
``msg=audit(<time>:<serial>)``; they are joined into one event per serial. Consecutive records with the
same serial, time and ``node=`` form an event; it ends at an ``EOE`` record or when another begins (two
hosts' logs merged into one file number their events independently).

Fields, as SigmaHQ's linux/auditd rules use them: every record's ``key=value`` pairs by their names
(``type``, ``syscall``, ``exe``, ``comm``, ``key``, ``name``, ``nametype``, ``a0``...), hex-encoded values
decoded (``proctitle`` with its NUL separators as spaces, EXECVE ``aN``, ``name``, ``cwd``, ``exe``...),
the ENRICHED part after the 0x1d separator (``SYSCALL``, ``UID``, ``AUID``...), and the inner
``msg='...'`` of user-space records (``op``, ``acct``, ``exe``, ``res``...). ``type`` is the list of the
event's record types (a single string for a one-record event). A name that several records give with
different values becomes a list (several PATH records), except EXECVE's ``aN`` which replace SYSCALL's
raw argument words. ``record`` is the line of the event's first record; ``timestamp`` the audit time.

Kind: product ``linux``, service ``auditd``; an event with an EXECVE record is also category
``process_creation`` with ``Image`` (the SYSCALL ``exe``), ``CommandLine`` (the EXECVE arguments joined by
spaces), ``CurrentDirectory`` (CWD), ``ProcessId``/``ParentProcessId``, and ``User`` when the ENRICHED
format names the user (``UID``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.context import MAX_RECORD_BYTES, Context, Lines
from secaudit.logs.formats import Sample, log_format, sniffer

AUDITD = LogKind("linux", frozenset(), frozenset({"auditd"}))
AUDITD_EXEC = LogKind("linux", frozenset({"process_creation"}), frozenset({"auditd"}))

_PAIR = re.compile(r"([A-Za-z_][\w-]*)=(\"[^\"]*\"|'[^']*'|\S*)")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_ENCODED = frozenset(
    {
        "proctitle",
        "name",
        "cwd",
        "exe",
        "comm",
        "path",
        "data",
        "cmd",
        "key",
        "acct",
        "ocomm",
        "old",
        "new",
        "dir",
    }
)
_ARG = re.compile(r"a\d+(?:\[\d+\])?")


def _decode(name: str, value: str, record_type: str) -> object:
    if value[:1] == '"' and value[-1:] == '"':
        return value[1:-1]
    if value[:1] == "'" and value[-1:] == "'":
        return value[1:-1]
    encodable = name in _ENCODED or (record_type == "EXECVE" and _ARG.fullmatch(name) is not None)
    if encodable and value != "(null)" and len(value) % 2 == 0 and value and _HEX.fullmatch(value):
        text = bytes.fromhex(value).decode("utf-8", "replace")
        return text.replace("\x00", " ").rstrip(" ") if name == "proctitle" else text
    numeric = value.isdigit() and (value[:1] != "0" or value == "0")  # 0100755 (a mode) stays text
    if numeric and name not in _ENCODED and _ARG.fullmatch(name) is None:
        return int(value)
    return value


def _pairs(text: str, record_type: str, out: dict[str, object]) -> None:
    for name, value in _PAIR.findall(text):
        if name == "msg" and value[:1] == "'":
            _pairs(value[1:-1], record_type, out)
            continue
        if name in {"msg", "type"}:
            continue
        out[name] = _decode(name, value, record_type)


def _header(text: str) -> tuple[str, str, float, int, str] | None:
    """(node, type, time, serial, rest) of one record line."""
    node = ""
    if text.startswith("node="):
        node, _, text = text[5:].partition(" ")
    if not text.startswith("type="):
        return None
    record_type, _, text = text[5:].partition(" ")
    if not text.startswith("msg=audit("):
        return None
    close = text.find("):", 10)
    if close == -1:
        return None
    stamp, _, serial = text[10:close].partition(":")
    try:
        return node, record_type, float(stamp), int(serial), text[close + 2 :]
    except ValueError:
        return None


class _Event:
    __slots__ = ("fields", "key", "line", "records", "serial", "size", "time", "types")

    def __init__(self, line: int, serial: int, time: float, node: str) -> None:
        self.line = line
        self.serial = serial
        # an event is its records with one serial, time and node: two hosts' logs merged into one
        # file (node=...) number their events independently, so a serial alone can repeat
        self.key = (node, time, serial)
        self.time = time
        self.types: list[str] = []
        self.records: list[tuple[str, dict[str, object]]] = []
        self.fields: dict[str, object] = {"node": node} if node else {}
        self.size = 0


def _finish(event: _Event, ctx: Context) -> LogEvent:
    fields = event.fields
    execve = None
    for record_type, values in event.records:
        if record_type == "EXECVE":
            execve = values
        for name, value in values.items():
            if record_type == "EXECVE" and _ARG.fullmatch(name):
                fields[name] = value
                continue
            if record_type == "SYSCALL" and execve is not None and _ARG.fullmatch(name):
                continue
            old = fields.get(name)
            if name not in fields:
                fields[name] = value
            elif isinstance(old, list):
                if value not in old:
                    old.append(value)
            elif old != value:
                fields[name] = [old, value]
    fields["type"] = event.types[0] if len(event.types) == 1 else list(event.types)
    kind = AUDITD
    if execve is not None:
        kind = AUDITD_EXEC
        argc = execve.get("argc")
        count = argc if isinstance(argc, int) else sum(1 for k in execve if _ARG.fullmatch(k))
        args = [str(execve.get(f"a{i}", "")) for i in range(count)]
        fields["CommandLine"] = " ".join(args)
        syscall = next((v for t, v in event.records if t == "SYSCALL"), {})
        if "exe" in syscall:
            fields["Image"] = syscall["exe"]
        for source_name, target in (("pid", "ProcessId"), ("ppid", "ParentProcessId")):
            if source_name in syscall:
                fields[target] = syscall[source_name]
        if "UID" in syscall:
            fields["User"] = syscall["UID"]
        cwd = next((v.get("cwd") for t, v in event.records if t == "CWD"), None)
        if cwd is not None:
            fields["CurrentDirectory"] = cwd
    timestamp = datetime.fromtimestamp(event.time, UTC)
    return LogEvent(fields, ctx.kind or kind, ctx.source, event.line, timestamp)


_SNIFF = re.compile(rb"^(?:node=\S+ )?type=[A-Z_0-9]+ msg=audit\(\d+\.\d+:\d+\):")


@sniffer("line", rank=10)
def sniff_auditd(sample: Sample, line: bytes) -> str | None:
    return "auditd" if _SNIFF.match(line) else None


@log_format("auditd")  # the records of one event span lines: never cut
def parse_auditd(lines: Lines, ctx: Context) -> Iterator[LogEvent]:
    current: _Event | None = None
    dropped: tuple[str, float, int] | None = None  # an over-large event whose other records are ignored
    for number, raw in lines:
        text = ctx.text(number, raw).rstrip("\r\n")
        if not text.strip():
            continue
        header = _header(text)
        if header is None:
            ctx.skip(number, "not an auditd record (type=... msg=audit(time:serial):)")
            continue
        node, record_type, stamp, serial, rest = header
        key = (node, stamp, serial)
        if key == dropped:
            continue
        if current is not None and current.key != key:
            yield _finish(current, ctx)
            current = None
        if record_type == "EOE":
            if current is not None:
                yield _finish(current, ctx)
                current = None
            continue
        if current is None:
            current = _Event(number, serial, stamp, node)
        current.size += len(raw)
        if current.size > MAX_RECORD_BYTES:
            ctx.skip(current.line, f"audit event larger than {MAX_RECORD_BYTES} bytes")
            current, dropped = None, key
            continue
        raw_part, _, enriched = rest.partition("\x1d")
        values: dict[str, object] = {}
        _pairs(raw_part, record_type, values)
        if enriched:
            _pairs(enriched, record_type, values)
        current.types.append(record_type)
        current.records.append((record_type, values))
    if current is not None:
        yield _finish(current, ctx)


def audit_record_event(text: str, ctx: Context, number: int) -> LogEvent | None:
    """One audit record forwarded through syslog (audisp-syslog) as an event of its own, or None.

    Records are not joined here: in a shared syslog file the lines of one audit event may lie far
    apart, and a file cut into shards must read the same as the whole. An EXECVE record alone still
    gives ``CommandLine`` (its arguments) and category process_creation.
    """
    header = _header(text)
    if header is None:
        return None
    node, record_type, stamp, serial, rest = header
    event = _Event(number, serial, stamp, node)
    raw_part, _, enriched = rest.partition("\x1d")
    values: dict[str, object] = {}
    _pairs(raw_part, record_type, values)
    if enriched:
        _pairs(enriched, record_type, values)
    event.types.append(record_type)
    event.records.append((record_type, values))
    return _finish(event, ctx)
