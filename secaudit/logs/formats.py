"""The formats we read, the parser of each line-based one, and where each may be cut into shards."""

from __future__ import annotations

from secaudit.logs.context import Parser
from secaudit.logs.jsonlogs import parse_ecs_json, parse_evtx_json, parse_flat_json

FORMATS: tuple[str, ...] = ("evtx", "evtx-json", "ecs-json", "flat-json")

LINE_PARSERS: dict[str, Parser] = {
    "evtx-json": parse_evtx_json,
    "ecs-json": parse_ecs_json,
    "flat-json": parse_flat_json,
}

# Formats a plain file of may be split for parallel reading, and the bytes a cut must follow.
SPLIT_AFTER: dict[str, bytes] = {
    "evtx-json": b"\n{",
    "ecs-json": b"\n",
    "flat-json": b"\n",
}
