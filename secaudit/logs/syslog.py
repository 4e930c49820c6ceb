"""Syslog: RFC 3164 (BSD), RFC 5424 (structured data), rsyslog's ISO-time file format, Cisco IOS messages.

Fields of a Linux (or other host) message: ``timestamp`` (as written), ``hostname`` and ``Computer`` (the
same), ``program`` (RFC 3164 tag or RFC 5424 APP-NAME), ``pid`` (int when numeric), ``message`` (the text
after ``program[pid]:``, the field Sigma's keyword rules search), ``facility``/``severity`` when a PRI is
given, and for RFC 5424 ``msgid`` plus each structured-data parameter as ``<SD-ID>.<name>``.
Kind: product ``linux``, services ``syslog`` and the program's (sshd -> sshd + auth, sudo -> sudo + auth,
su, cron, kernel, systemd, ...; see :data:`PROGRAM_SERVICES`).

Audit records forwarded through syslog (``audisp-syslog``: ``type=... msg=audit(...)`` as the message)
become auditd events, one per record (:func:`secaudit.logs.auditd.audit_record_event`).
Sysmon for Linux messages (an XML ``<Event>``) become Sysmon events of product ``linux``
(:mod:`secaudit.logs.linuxsysmon`).

Network-device messages (``%FACILITY-SEVERITY-MNEMONIC: text``, Cisco IOS style, with or without a syslog
header) get product ``cisco`` (as SigmaHQ's rules/network/cisco name it) and service ``aaa`` for login,
command-accounting and configuration messages (``bgp``, ``ldp`` for those facilities), with ``facility``,
``severity`` (int), ``mnemonic``, ``message`` (the whole ``%...: text``) and, where the message says,
``user``, ``src_ip``, ``local_port``, ``reason``, ``command``.

Years: RFC 3164 timestamps have none. The year is inferred from the reference date (the file's
modification time; the start of the read for stdin): the reference's year, or the year before when
that would put the event more than a day after the reference (a December line in a file written in
January). Times without a zone (RFC 3164, Cisco) are taken as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.auditd import audit_record_event
from secaudit.logs.context import KIND_CACHE_MAX, Context, Lines
from secaudit.logs.formats import Sample, log_format, sniffer
from secaudit.logs.linuxsysmon import sysmon_linux_event
from secaudit.logs.windows import parse_time

MONTHS = {
    month: number
    for number, month in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}

PROGRAM_SERVICES: dict[str, tuple[str, ...]] = {
    "sshd": ("sshd", "auth"),
    "sudo": ("sudo", "auth"),
    "su": ("su", "auth"),
    "login": ("login", "auth"),
    "passwd": ("passwd", "auth"),
    "useradd": ("useradd", "auth"),
    "userdel": ("userdel", "auth"),
    "usermod": ("usermod", "auth"),
    "groupadd": ("groupadd", "auth"),
    "gpasswd": ("gpasswd", "auth"),
    "chpasswd": ("chpasswd", "auth"),
    "systemd-logind": ("systemd-logind", "auth"),
    "cron": ("cron",),
    "crond": ("cron",),
    "anacron": ("cron",),
    "kernel": ("kernel",),
    "systemd": ("systemd",),
    "vsftpd": ("vsftpd",),
    "clamd": ("clamav",),
    "freshclam": ("clamav",),
    "clamav": ("clamav",),
    "guacd": ("guacamole",),
    "guacamole": ("guacamole",),
    "named": ("named",),
    "auditd": ("auditd",),
    "audit": ("auditd",),
}

CISCO_SERVICES = {
    "SEC_LOGIN": "aaa",
    "PARSER": "aaa",
    "AAA": "aaa",
    "SSH": "aaa",
    "SYS": "aaa",
    "LOGIN": "aaa",
    "BGP": "bgp",
    "LDP": "ldp",
}

_CISCO_TAG = re.compile(r"%([A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*?)-([0-7])-([A-Z0-9_]+):\s?")
_BRACKETS = re.compile(r"\[([A-Za-z ]+): ([^\]]*)\]")
_CFGLOG = re.compile(r"User:\s*(\S+)\s+logged command:\s*(.*)$")
_CONFIG_I = re.compile(r"Configured from (\S+) by (\S+)(?: on \S+)?(?: \(([0-9a-fA-F.:]+)\))?")
_SSH_AUTH = re.compile(r"User '([^']*)' authentication for SSH\d? Session from ([0-9a-fA-F.:]+)")
_FROM_IP = re.compile(r"\bfrom ([0-9]{1,3}(?:\.[0-9]{1,3}){3})\b")

_KINDS: dict[str, LogKind] = {}


def linux_kind(program: str) -> LogKind:
    kind = _KINDS.get(program)
    if kind is None:
        base = program.lower()
        services = {"syslog", *PROGRAM_SERVICES.get(base, ())}
        if base.startswith("systemd-") and base not in PROGRAM_SERVICES:
            services.add("systemd")
        if len(_KINDS) >= KIND_CACHE_MAX:  # hostile input with endless distinct names
            _KINDS.clear()
        kind = _KINDS[program] = LogKind("linux", frozenset(), frozenset(services))
    return kind


def cisco_kind(facility: str) -> LogKind:
    key = "cisco:" + facility
    kind = _KINDS.get(key)
    if kind is None:
        first, _, _ = facility.partition("-")
        service = CISCO_SERVICES.get(facility.rpartition("-")[2]) or CISCO_SERVICES.get(first)
        if len(_KINDS) >= KIND_CACHE_MAX:  # hostile input with endless distinct names
            _KINDS.clear()
        kind = _KINDS[key] = LogKind("cisco", frozenset(), frozenset({service} if service else ()))
    return kind


def infer_year(
    month: int, day: int, clock: tuple[int, int, int, int], reference: datetime
) -> datetime | None:
    """The datetime of an RFC 3164 stamp (month, day, h:m:s + micro) given the reference date."""
    hour, minute, second, micro = clock
    try:
        stamp = datetime(reference.year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        try:  # 29 February of a year before a leap year's reference, and the like
            stamp = datetime(reference.year - 1, month, day, hour, minute, second, micro, tzinfo=UTC)
        except ValueError:
            return None
        return stamp
    if stamp - reference > timedelta(days=1):
        try:
            stamp = stamp.replace(year=reference.year - 1)
        except ValueError:
            return None
    return stamp


def _clock(text: str) -> tuple[int, int, int, int] | None:
    """HH:MM:SS[.fff] -> (h, m, s, microseconds)."""
    main, _, fraction = text.partition(".")
    parts = main.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    micro = int((fraction[:6]).ljust(6, "0")) if fraction.isdigit() else 0
    return int(parts[0]), int(parts[1]), int(parts[2]), micro


def _bsd_time(text: str, reference: datetime) -> datetime | None:
    """'Nov  2 03:15:42' (optionally with .fff) -> datetime."""
    parts = text.split()
    if len(parts) < 3 or parts[0] not in MONTHS or not parts[1].isdigit():
        return None
    clock = _clock(parts[2])
    if clock is None:
        return None
    return infer_year(MONTHS[parts[0]], int(parts[1]), clock, reference)


def _pri(fields: dict[str, object], text: str) -> str:
    """Strip a leading <PRI>, setting facility and severity."""
    if text[:1] == "<":
        end = text.find(">", 1, 5)
        if end > 1 and text[1:end].isdigit():
            value = int(text[1:end])
            fields["facility"] = value >> 3
            fields["severity"] = value & 7
            return text[end + 1 :]
    return text


def _program(fields: dict[str, object], rest: str) -> str:
    """'prog[pid]: message' -> sets program/pid, returns the message ('' program when there is no tag)."""
    colon = rest.find(": ")
    tag = rest[:colon] if colon != -1 else rest.rstrip(":")
    if colon == -1 or " " in tag or not tag:
        fields["program"] = ""
        return rest
    message = rest[colon + 2 :].lstrip(" ")
    bracket = tag.find("[")
    if bracket != -1 and tag.endswith("]"):
        pid = tag[bracket + 1 : -1]
        tag = tag[:bracket]
        fields["pid"] = int(pid) if pid.isdigit() else pid
    fields["program"] = tag
    return message


def _sd(text: str, fields: dict[str, object]) -> str:
    """Parse RFC 5424 STRUCTURED-DATA at the start of ``text`` into fields; return the rest (the MSG)."""
    if text.startswith("- ") or text == "-":
        return text[2:]
    pos = 0
    while pos < len(text) and text[pos] == "[":
        end_id = pos + 1
        while end_id < len(text) and text[end_id] not in " ]":
            end_id += 1
        sd_id = text[pos + 1 : end_id]
        pos = end_id
        while pos < len(text) and text[pos] == " ":
            eq = text.find("=", pos)
            if eq == -1 or eq + 1 >= len(text) or text[eq + 1] != '"':
                return text[pos:]
            name = text[pos + 1 : eq]
            value, pos = _sd_value(text, eq + 2)
            fields[f"{sd_id}.{name}"] = value
        if pos < len(text) and text[pos] == "]":
            pos += 1
    return text[pos + 1 :] if text[pos : pos + 1] == " " else text[pos:]


def _sd_value(text: str, pos: int) -> tuple[str, int]:
    out = []
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text) and text[pos + 1] in '"\\]':
            out.append(text[pos + 1])
            pos += 2
            continue
        if char == '"':
            return "".join(out), pos + 1
        out.append(char)
        pos += 1
    return "".join(out), pos


def _host_fields(fields: dict[str, object], host: str) -> None:
    fields["hostname"] = host
    fields["Computer"] = host


def parse_line(text: str, ctx: Context, number: int) -> LogEvent | None:
    """One syslog line as an event, or None when it has no syslog or Cisco shape."""
    reference = ctx.reference or datetime.now(UTC)
    fields: dict[str, object] = {}
    body = _pri(fields, text)
    stamp: datetime | None = None
    if body[:2] == "1 " and "facility" in fields:  # RFC 5424
        parts = body.split(" ", 6)
        if len(parts) < 7:
            parts += ["-"] * (7 - len(parts))
        _, time_text, host, app, procid, msgid, rest = parts
        fields["timestamp"] = time_text
        stamp = parse_time(time_text) if time_text != "-" else None
        _host_fields(fields, "" if host == "-" else host)
        fields["program"] = "" if app == "-" else app
        if procid != "-":
            fields["pid"] = int(procid) if procid.isdigit() else procid
        if msgid != "-":
            fields["msgid"] = msgid
        message = _sd(rest, fields).removeprefix("\ufeff")
    elif body[:3] in MONTHS and body[3:4] == " ":  # RFC 3164
        time_text = body[:15]
        stamp = _bsd_time(time_text, reference)
        if stamp is None:
            return _cisco(text, ctx, number, {}, None)
        rest = body[16:]
        host, _, rest = rest.partition(" ")
        fields["timestamp"] = time_text
        _host_fields(fields, host)
        message = _program(fields, rest)
    elif body[:4].isdigit() and body[4:5] == "-" and body[10:11] == "T":  # rsyslog ISO file format
        time_text, _, rest = body.partition(" ")
        stamp = parse_time(time_text)
        host, _, rest = rest.partition(" ")
        fields["timestamp"] = time_text
        _host_fields(fields, host)
        message = _program(fields, rest)
    else:
        return _cisco(text, ctx, number, {}, None)
    fields["message"] = message
    if (message[:5] == "type=" or message[:5] == "node=") and "msg=audit(" in message:
        audit = audit_record_event(message, ctx, number)
        if audit is not None:
            if "hostname" in fields:
                audit.fields.setdefault("hostname", fields["hostname"])
                audit.fields.setdefault("Computer", fields["hostname"])
            return audit
    if message[:7] == "<Event>" or message[:7] == "<Event ":
        event, why = sysmon_linux_event(message, source=ctx.source, record=number, kind=ctx.kind)
        if event is not None:
            return event
        # Kept as a plain syslog message (keyword rules still see it); the problem is noted.
        ctx.stats.error(ctx.where(number), str(why))
    if "%" in message and _CISCO_TAG.search(message):
        return _cisco(message, ctx, number, fields, stamp)
    if fields["program"] == "sshd":
        _sshd_fields(fields, message)
    kind = ctx.kind or linux_kind(str(fields["program"]))
    return LogEvent(fields, kind, ctx.source, number, stamp)


_SSHD_AUTH = re.compile(r"^(Accepted|Failed) (\S+) for (?:invalid user )?(\S+) from (\S+) port (\d+)")
_SSHD_FROM = re.compile(r"(?:[Uu]ser (\S+) )?from (\S+?)(?: port (\d+))?(?:$|[ :])")


def _sshd_fields(fields: dict[str, object], message: str) -> None:
    """sshd's client address, user, port, method and outcome, for correlations grouped per source."""
    found = _SSHD_AUTH.match(message)
    if found:
        outcome, method, user, address, port = found.groups()
        fields["outcome"] = "success" if outcome == "Accepted" else "failure"
        fields["auth_method"] = method
        fields["user"], fields["src_ip"], fields["src_port"] = user, address, int(port)
        return
    if " from " not in message:
        return
    found = _SSHD_FROM.search(message)
    if found and any(c.isdigit() or c == ":" for c in found.group(2)):
        if found.group(1):
            fields["user"] = found.group(1)
        fields["src_ip"] = found.group(2)
        if found.group(3):
            fields["src_port"] = int(found.group(3))


def _cisco(
    text: str, ctx: Context, number: int, fields: dict[str, object], stamp: datetime | None
) -> LogEvent | None:
    """A Cisco IOS message: '[seq:] [*]Mmm dd hh:mm:ss.fff: %FAC-SEV-MNEM: text', syslog header optional."""
    tag = _CISCO_TAG.search(text)
    if tag is None:
        return None
    head = text[: tag.start()].strip().rstrip(":").strip()
    if stamp is None or "timestamp" not in fields:
        # The device's own clock before the tag: 'seq: *Nov  2 03:15:41.123 ICT' or 'host seq: Nov ...'.
        for start in range(len(head)):
            if head[start : start + 3] in MONTHS and (start == 0 or head[start - 1] in " *."):
                device_time = head[start:]
                parsed = _bsd_time(device_time, ctx.reference or datetime.now(UTC))
                if parsed is not None:
                    stamp = parsed
                    fields["timestamp"] = device_time
                    prefix = head[:start].strip(" *.:")
                    words = prefix.split()
                    if words and not words[0].rstrip(":").isdigit():
                        _host_fields(fields, words[0])
                    if words and words[-1].rstrip(":").isdigit():
                        fields["sequence"] = int(words[-1].rstrip(":"))
                break
    program = fields.get("program")
    if isinstance(program, str) and program.isdigit():  # 'host 2231: *Nov ...': the device's sequence number
        del fields["program"]
        fields["sequence"] = int(program)
    message = text[tag.start() :]
    body = text[tag.end() :]
    facility, severity, mnemonic = tag.group(1), int(tag.group(2)), tag.group(3)
    fields["facility"] = facility
    fields["severity"] = severity
    fields["mnemonic"] = mnemonic
    fields["message"] = message
    for name, value in _BRACKETS.findall(body):
        key = name.strip().lower().replace(" ", "_")
        key = {"source": "src_ip", "localport": "local_port"}.get(key, key)
        fields[key] = int(value) if value.isdigit() else value.strip()
    if mnemonic == "CFGLOG_LOGGEDCMD":
        found = _CFGLOG.search(body)
        if found:
            fields["user"], fields["command"] = found.group(1), found.group(2).strip()
    elif mnemonic == "CONFIG_I":
        found = _CONFIG_I.search(body)
        if found:
            fields["user"] = found.group(2)
            if found.group(3):
                fields["src_ip"] = found.group(3)
    elif facility == "SSH" or mnemonic.startswith("SSH2_"):
        found = _SSH_AUTH.search(body)
        if found:
            fields["user"], fields["src_ip"] = found.group(1), found.group(2)
    if "src_ip" not in fields:
        found = _FROM_IP.search(body)
        if found:
            fields["src_ip"] = found.group(1)
    kind = ctx.kind or cisco_kind(facility)
    return LogEvent(fields, kind, ctx.source, number, stamp)


_SNIFF_5424 = re.compile(rb"^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ ")
_SNIFF_3164 = re.compile(rb"^(?:<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S")
_SNIFF_ISO = re.compile(
    rb"^(?:<\d{1,3}>)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d) \S+ \S"
)
_SNIFF_CISCO = re.compile(rb"%[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*?-[0-7]-[A-Z0-9_]+: ")


@sniffer("line", rank=20)
def sniff_syslog(sample: Sample, line: bytes) -> str | None:
    if _SNIFF_5424.match(line) or _SNIFF_3164.match(line) or _SNIFF_ISO.match(line):
        return "syslog"
    return None


@sniffer("line", rank=40)  # after access logs: a Cisco tag may sit anywhere in a line
def sniff_cisco(sample: Sample, line: bytes) -> str | None:
    return "syslog" if _SNIFF_CISCO.search(line) else None


@log_format("syslog", split_after=b"\n")
def parse_syslog(lines: Lines, ctx: Context) -> Iterator[LogEvent]:
    for number, raw in lines:
        text = ctx.text(number, raw).rstrip("\r\n")
        if not text.strip():
            continue
        event = parse_line(text, ctx, number)
        if event is None:
            ctx.skip(number, "not a syslog line")
            continue
        yield event
