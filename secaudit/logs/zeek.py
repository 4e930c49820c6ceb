"""Zeek logs, JSON and TSV (conn, dns, http, modbus, dnp3, ssh, ssl, ...).

Fields keep Zeek's names (``id.orig_h``, ``id.resp_p``, ``query``, ``func``, ``uri``...), as SigmaHQ's
rules/network/zeek use them; JSON written with nested ``id`` objects is flattened to the dotted names.
TSV values are typed from ``#types`` (count/int/port -> int, double/interval/time -> float, bool -> bool,
set/vector -> list); the unset field (``-``) becomes None, the empty field (``(empty)``) "" or [].
Kind: product ``zeek``, service = the log type: TSV ``#path``, else JSON ``_path``, else the file name
(``dns.log``, ``modbus.09:00:00-10:00:00.log.gz``), else a guess from the fields. A ``dns`` log is also
category ``dns`` (SigmaHQ's generic DNS rules use Zeek's ``query`` field). ``timestamp`` is ``ts``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.context import KIND_CACHE_MAX, Context, Lines
from secaudit.logs.formats import Sample, log_format, sniffer
from secaudit.logs.jsonlogs import epoch_time, flatten
from secaudit.logs.windows import parse_time

KNOWN_LOGS = frozenset(
    {
        "conn",
        "dns",
        "http",
        "modbus",
        "modbus_register_change",
        "dnp3",
        "dnp3_control",
        "dnp3_objects",
        "ssh",
        "ssl",
        "x509",
        "files",
        "smtp",
        "ftp",
        "dhcp",
        "rdp",
        "smb_files",
        "smb_mapping",
        "dce_rpc",
        "kerberos",
        "ntlm",
        "notice",
        "weird",
        "snmp",
        "sip",
        "radius",
        "tunnel",
        "software",
        "known_hosts",
        "known_services",
        "mqtt_connect",
        "mqtt_publish",
        "mqtt_subscribe",
        "s7comm",
        "enip",
        "bacnet",
        "ocsp",
        "pe",
        "syslog",
        "irc",
        "socks",
        "mysql",
        "traceroute",
    }
)

# (a field only that log has) -> log type, for JSON without _path in a file named otherwise.
_GUESS = (
    ("query", "dns"),
    ("func", "modbus"),
    ("fc_request", "dnp3"),
    ("method", "http"),
    ("auth_success", "ssh"),
    ("server_name", "ssl"),
    ("conn_state", "conn"),
)

_KINDS: dict[str, LogKind] = {}


def zeek_kind(service: str) -> LogKind:
    kind = _KINDS.get(service)
    if kind is None:
        categories = frozenset({"dns"}) if service == "dns" else frozenset()
        if len(_KINDS) >= KIND_CACHE_MAX:  # hostile input with endless distinct names
            _KINDS.clear()
        kind = _KINDS[service] = LogKind("zeek", categories, frozenset({service} if service else ()))
    return kind


def log_type_from_name(name: str) -> str:
    base = name.split(".", 1)[0].lower()
    return base if base in KNOWN_LOGS else ""


def _timestamp(value: object) -> datetime | None:
    return epoch_time(value) if not isinstance(value, str) else parse_time(value)


@log_format("zeek-json", split_after=b"\n")  # recognised by secaudit.logs.jsonlogs.json_flavour
def parse_zeek_json(lines: Lines, ctx: Context) -> Iterator[LogEvent]:
    by_name = log_type_from_name(ctx.name)
    for number, line in lines:
        if not line.strip():
            continue
        obj = ctx.json(number, line)
        if obj is None:
            continue
        if not isinstance(obj, dict):
            ctx.skip(number, "JSON value is not an object")
            continue
        fields: dict[str, object]
        if dict in set(map(type, obj.values())):
            fields = {}
            flatten(obj, "", fields)
        else:
            fields = obj
        service = str(fields.get("_path") or by_name or next((t for f, t in _GUESS if f in fields), ""))
        yield LogEvent(
            fields, ctx.kind or zeek_kind(service), ctx.source, number, _timestamp(fields.get("ts"))
        )


# -- TSV ----------------------------------------------------------------------------------------


def _unescape(value: str) -> str:
    if "\\x" not in value:
        return value
    out = []
    pos = 0
    while pos < len(value):
        if value.startswith("\\x", pos) and pos + 4 <= len(value):
            try:
                out.append(chr(int(value[pos + 2 : pos + 4], 16)))
                pos += 4
                continue
            except ValueError:
                pass
        out.append(value[pos])
        pos += 1
    return "".join(out)


def _scalar(zeek_type: str) -> Callable[[str], object]:
    if zeek_type in ("count", "int", "port"):
        return lambda v: int(v) if v.lstrip("-").isdigit() else v
    if zeek_type in ("double", "interval", "time"):

        def number(v: str) -> object:
            try:
                return float(v)
            except ValueError:
                return v

        return number
    if zeek_type == "bool":
        return lambda v: v == "T" if v in ("T", "F") else v
    return _unescape


class _Header:
    """The state a TSV file's '#' lines set."""

    def __init__(self) -> None:
        self.separator = "\t"
        self.set_separator = ","
        self.empty = "(empty)"
        self.unset = "-"
        self.path = ""
        self.names: list[str] = []
        self.converters: list[tuple[Callable[[str], object], bool]] = []

    def feed(self, line: str) -> None:
        if line.startswith("#separator"):
            sep = line[len("#separator") :].strip()
            self.separator = _unescape(sep) if sep.startswith("\\x") else (sep or "\t")
            return
        key, _, value = line[1:].partition(self.separator)
        if key == "set_separator":
            self.set_separator = value
        elif key == "empty_field":
            self.empty = value
        elif key == "unset_field":
            self.unset = value
        elif key == "path":
            self.path = value
        elif key == "fields":
            self.names = value.split(self.separator)
        elif key == "types":
            self.converters = []
            for zeek_type in value.split(self.separator):
                container = zeek_type.startswith(("set[", "vector["))
                inner = zeek_type[zeek_type.find("[") + 1 : -1] if container else zeek_type
                self.converters.append((_scalar(inner), container))

    def row(self, line: str) -> dict[str, object] | None:
        values = line.split(self.separator)
        if len(values) != len(self.names):
            return None
        fields: dict[str, object] = {}
        converters = self.converters or [(_unescape, False)] * len(self.names)
        for name, value, (convert, container) in zip(self.names, values, converters, strict=False):
            if value == self.unset:
                fields[name] = None
            elif value == self.empty:
                fields[name] = [] if container else ""
            elif container:
                fields[name] = [convert(item) for item in value.split(self.set_separator)]
            else:
                fields[name] = convert(value)
        return fields


@sniffer("document", rank=10)
def sniff_zeek_tsv(sample: Sample, first: bytes) -> str | None:
    return "zeek-tsv" if first.startswith(b"#separator") else None


@log_format("zeek-tsv", split_after=b"\n")  # shards carry the # header lines (secaudit.logs.reader)
def parse_zeek_tsv(lines: Lines, ctx: Context) -> Iterator[LogEvent]:
    header = _Header()
    for raw in ctx.header:
        header.feed(raw.decode("utf-8", "replace").rstrip("\r\n"))
    for number, raw in lines:
        text = ctx.text(number, raw).rstrip("\r\n")
        if not text:
            continue
        if text[:1] == "#":
            header.feed(text)
            continue
        if not header.names:
            ctx.skip(number, "Zeek TSV data before its #fields header")
            continue
        fields = header.row(text)
        if fields is None:
            ctx.skip(number, f"Zeek TSV row without the {len(header.names)} fields of #fields")
            continue
        service = header.path or log_type_from_name(ctx.name)
        yield LogEvent(
            fields, ctx.kind or zeek_kind(service), ctx.source, number, _timestamp(fields.get("ts"))
        )
