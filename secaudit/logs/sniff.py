"""Which format a file is in, from its first bytes (never from its name)."""

from __future__ import annotations

import csv
import re

import orjson

from secaudit.logs.jsonlogs import json_flavour

SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 10

_AUDITD = re.compile(rb"^(?:node=\S+ )?type=[A-Z_0-9]+ msg=audit\(\d+\.\d+:\d+\):")
_SYSLOG_5424 = re.compile(rb"^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ ")
_SYSLOG_3164 = re.compile(rb"^(?:<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S")
_SYSLOG_ISO = re.compile(
    rb"^(?:<\d{1,3}>)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d) \S+ \S"
)
_ACCESS = re.compile(rb'^(?:\S+ )?\S+ \S+ \S+ \[[^\]]+\] "')
_LINE_END = re.compile(rb"\r?\n|\r")
_CISCO = re.compile(rb"%[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*?-[0-7]-[A-Z0-9_]+: ")


def _binary(head: bytes) -> bool:
    """Text logs have few NUL bytes and control characters.

    One damaged line (a NUL or two among text) does not make a log binary: its good lines are still
    read and the bad one is skipped and counted. Random bytes hold about 10 % control bytes, UTF-16
    text about 50 % NULs.
    """
    sample = head[:4096]
    controls = sum(1 for byte in sample if byte < 9 or 13 < byte < 32)
    return controls > len(sample) // 20


def _json_format(lines: list[bytes], head: bytes) -> str | None:
    first = lines[0].strip()
    if first == b"{" or first.startswith(b"Record "):
        # Pretty-printed objects one after another: only evtx_dump writes them.
        return "evtx-json" if b'"System"' in head else None
    for line in lines[:SNIFF_LINES]:
        try:
            return json_flavour(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return None


def _csv_format(lines: list[bytes]) -> str | None:
    """CSV when a header of two or more named columns is followed by a row of as many values; one
    ragged row (or a stray byte that is not UTF-8) among the first rows does not hide the file."""
    if len(lines) < 2:
        return None
    header = lines[0].decode("utf-8-sig", "replace")
    rows = [line.decode("utf-8", "replace") for line in lines[1:SNIFF_LINES]]
    for delimiter in (",", ";", "\t"):
        try:
            names = next(csv.reader([header], delimiter=delimiter))
        except (csv.Error, StopIteration):
            continue
        if len(names) < 2 or any(not name.strip() for name in names):
            continue
        for row in rows:
            try:
                values = next(csv.reader([row], delimiter=delimiter))
            except (csv.Error, StopIteration):
                continue
            if len(values) == len(names):
                return "csv"
    return None


def sniff(head: bytes) -> str | None:
    """The format of a file starting with ``head`` (up to :data:`SNIFF_BYTES`), or None if none fits."""
    if head[:8] == b"ElfFile\x00" or (_binary(head) and b"ElfChnk\x00" in head):
        return "evtx"  # a file header, or chunks without one (header overwritten, carved out)
    if not head or _binary(head):
        return None
    # CR-only line ends (old exports) and a bare CR inside a line count as line ends here
    lines = [line for line in _LINE_END.split(head)[: SNIFF_LINES * 4] if line.strip()][:SNIFF_LINES]
    if not lines:
        return None
    if len(head) >= SNIFF_BYTES and not head.endswith(b"\n") and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the sniff window
    first = lines[0].lstrip(b"\xef\xbb\xbf")
    lines[0] = first
    if first.startswith(b"#separator"):
        return "zeek-tsv"
    if first[:1] in (b"{", b"R") and (first[:1] == b"{" or first.startswith(b"Record ")):
        return _json_format(lines, head)
    for line in lines:
        if _AUDITD.match(line):
            return "auditd"
        if _SYSLOG_5424.match(line) or _SYSLOG_3164.match(line) or _SYSLOG_ISO.match(line):
            return "syslog"
        if _ACCESS.match(line):
            return "access-log"
        if _CISCO.search(line):
            return "syslog"
        if line[:1] == b"{":
            return _json_format([line], head)
    return _csv_format(lines)
