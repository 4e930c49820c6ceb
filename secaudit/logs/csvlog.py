"""CSV with a header row (comma, semicolon or tab; quoted values may span lines).

Fields by header names, values as text (empty cells left out). A file whose header has ``EventID`` and
``Channel`` (or a provider column) is Windows events: mapped like flat JSON (EventID as int, services and
categories from the channel). Otherwise the kind is the one the caller names, or empty. ``record`` is the
line the row starts on; ``timestamp`` comes from the first of the usual time columns that parses.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from secaudit.core.events import LogEvent
from secaudit.logs.context import Context, Lines
from secaudit.logs.formats import Sample, log_format, sniffer
from secaudit.logs.jsonlogs import flat_event

_DELIMITERS = (",", ";", "\t")


def _delimiter(header: str) -> str:
    best = max(_DELIMITERS, key=header.count)
    return best if header.count(best) else ","


_BARE_CR = re.compile(r"\r(?!\n)")


def _split_cr(texts: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Lines ended by a bare CR (old exports, or one stray CR) split there, as the csv module wants:
    it refuses a bare CR in an unquoted field. The pieces keep the line number of their LF line."""
    for number, text in texts:
        if "\r" not in text or not _BARE_CR.search(text):
            yield number, text
            continue
        body = text.removesuffix("\n")
        for piece in _BARE_CR.split(body):
            yield number, piece + "\n"


_SNIFF_ROWS = 10


@sniffer("fallback")
def sniff_csv(sample: Sample, _: bytes) -> str | None:
    """CSV when a header of two or more named columns is followed by a row of as many values; one
    ragged row (or a stray byte that is not UTF-8) among the first rows does not hide the file."""
    if len(sample.lines) < 2:
        return None
    header = sample.lines[0].decode("utf-8-sig", "replace")
    rows = [line.decode("utf-8", "replace") for line in sample.lines[1:_SNIFF_ROWS]]
    for delimiter in _DELIMITERS:
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


@log_format("csv")  # a quoted value may span lines: never cut
def parse_csv(lines: Lines, ctx: Context) -> Iterator[LogEvent]:
    texts = _split_cr((number, ctx.text(number, raw)) for number, raw in lines)
    first = next(texts, None)
    if first is None:
        return
    header_line, header = first[0], first[1].lstrip("\ufeff").rstrip("\r\n")
    delimiter = _delimiter(header)
    try:
        names = [name.strip() for name in next(csv.reader([header], delimiter=delimiter))]
    except (csv.Error, StopIteration) as e:
        ctx.skip(header_line, f"CSV header unreadable: {e}")
        return
    if len(names) < 2:
        ctx.skip(header_line, "CSV header has fewer than two columns")
        return
    state = {"row": header_line + 1, "quotes": 0}

    def feed() -> Iterator[str]:
        # Remember the line each row starts on: a row ends with a line that closes every quote it opened.
        at_start = True
        for number, text in texts:
            if at_start:
                state["row"] = number
            yield text
            state["quotes"] += text.count('"')
            at_start = state["quotes"] % 2 == 0
            if at_start:
                state["quotes"] = 0

    reader = csv.reader(feed(), delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            ctx.skip(state["row"], f"broken CSV row: {e}")
            continue
        number = state["row"]
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(names):
            ctx.skip(number, f"CSV row has {len(row)} values, the header {len(names)}")
            continue
        fields: dict[str, object] = {
            name: value for name, value in zip(names, row, strict=True) if value != ""
        }
        yield flat_event(fields, ctx, number)
