"""The formats we read, the parser of each line-based one, and where each may be cut into shards."""

from __future__ import annotations

from secaudit.logs.access import parse_access
from secaudit.logs.auditd import parse_auditd
from secaudit.logs.context import Parser
from secaudit.logs.csvlog import parse_csv
from secaudit.logs.jsonlogs import parse_ecs_json, parse_evtx_json, parse_flat_json
from secaudit.logs.syslog import parse_syslog
from secaudit.logs.zeek import parse_zeek_json, parse_zeek_tsv

FORMATS: tuple[str, ...] = (
    "evtx",
    "evtx-json",
    "ecs-json",
    "flat-json",
    "syslog",
    "auditd",
    "access-log",
    "zeek-json",
    "zeek-tsv",
    "csv",
)

LINE_PARSERS: dict[str, Parser] = {
    "evtx-json": parse_evtx_json,
    "ecs-json": parse_ecs_json,
    "flat-json": parse_flat_json,
    "syslog": parse_syslog,
    "auditd": parse_auditd,
    "access-log": parse_access,
    "zeek-json": parse_zeek_json,
    "zeek-tsv": parse_zeek_tsv,
    "csv": parse_csv,
}

# Formats a plain file of may be split for parallel reading, and the bytes a cut must follow. auditd
# (records of one event span lines) and CSV (quoted values may span lines) stay whole.
SPLIT_AFTER: dict[str, bytes] = {
    "evtx-json": b"\n{",
    "ecs-json": b"\n",
    "flat-json": b"\n",
    "zeek-json": b"\n",
    "zeek-tsv": b"\n",
    "syslog": b"\n",
    "access-log": b"\n",
}
