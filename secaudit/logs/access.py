"""nginx and Apache access logs: common, combined, and combined with a leading virtual host.

Fields, as SigmaHQ's rules/web use them: ``c-ip``, ``cs-username`` (when not "-"), ``date`` (as written),
``cs-method``, ``c-uri`` and ``cs-uri`` (the request target as sent, query included), ``cs-uri-stem`` and
``c-uri-stem`` (the path), ``cs-uri-query`` and ``c-uri-query`` (after "?", without it),
``c-uri-extension`` (the path's file extension), ``cs-version``, ``sc-status`` (int), ``sc-bytes`` (int),
``cs-referer`` and ``c-useragent`` / ``cs-user-agent`` (combined format), ``cs-host`` (vhost format).
Kind: category ``webserver`` (the product, nginx or Apache, cannot be told from the line).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.context import Context, Lines
from secaudit.logs.formats import Sample, log_format, sniffer

WEBSERVER = LogKind("", frozenset({"webserver"}), frozenset())

_DATE_FORMAT = "%d/%b/%Y:%H:%M:%S %z"


def _quoted(text: str, pos: int) -> tuple[str, int] | None:
    """The quoted string starting at ``text[pos] == '"'`` (backslash escapes kept) and the index after it."""
    if text[pos : pos + 1] != '"':
        return None
    end = pos + 1
    while True:
        end = text.find('"', end)
        if end == -1:
            return None
        if text[end - 1] != "\\" or text[end - 2 : end] == "\\\\":
            value = text[pos + 1 : end]
            if "\\" in value:  # Apache writes \" and \\; nginx writes \xHH, which stays as written
                value = value.replace('\\"', '"').replace("\\\\", "\\")
            return value, end + 1
        end += 1


def _request(fields: dict[str, object], request: str) -> None:
    parts = request.split(" ")
    if len(parts) >= 2 and parts[0].isalpha() and parts[0].isupper():
        fields["cs-method"] = parts[0]
        target = " ".join(parts[1:-1]) if len(parts) > 2 else parts[1]
        if len(parts) > 2:
            fields["cs-version"] = parts[-1]
    else:
        target = request
    fields["c-uri"] = target
    fields["cs-uri"] = target
    stem, mark, query = target.partition("?")
    fields["cs-uri-stem"] = stem
    fields["c-uri-stem"] = stem
    if mark:
        fields["cs-uri-query"] = query
        fields["c-uri-query"] = query
    name = stem.rsplit("/", 1)[-1]
    if "." in name:
        fields["c-uri-extension"] = name.rsplit(".", 1)[-1]


class _Dates:
    """strptime is slow; consecutive lines usually share a second."""

    __slots__ = ("stamp", "text")

    def __init__(self) -> None:
        self.text = ""
        self.stamp: datetime | None = None

    def parse(self, text: str) -> datetime | None:
        if text != self.text:
            self.text = text
            try:
                self.stamp = datetime.strptime(text, _DATE_FORMAT).astimezone(UTC)
            except ValueError:
                self.stamp = None
        return self.stamp


def parse_line(text: str, ctx: Context, number: int, dates: _Dates) -> LogEvent | None:
    open_bracket = text.find(" [")
    close_bracket = text.find("] ", open_bracket)
    if open_bracket == -1 or close_bracket == -1:
        return None
    head = text[:open_bracket].split(" ")
    fields: dict[str, object] = {}
    if len(head) == 4:  # vhost_combined: "host:port ip ident user"
        fields["cs-host"] = head[0].rsplit(":", 1)[0] if head[0].count(":") == 1 else head[0]
        head = head[1:]
    if len(head) != 3:
        return None
    fields["c-ip"] = head[0]
    if head[2] != "-":
        fields["cs-username"] = head[2]
    date_text = text[open_bracket + 2 : close_bracket]
    fields["date"] = date_text
    quoted = _quoted(text, close_bracket + 2)
    if quoted is None:
        return None
    request, pos = quoted
    _request(fields, request)
    rest = text[pos:].lstrip(" ")
    status, _, rest = rest.partition(" ")
    size, _, rest = rest.partition(" ")
    if not status.isdigit():
        return None
    fields["sc-status"] = int(status)
    if size.isdigit():
        fields["sc-bytes"] = int(size)
    rest = rest.lstrip(" ")
    referer = _quoted(rest, 0)
    if referer is not None:
        fields["cs-referer"] = referer[0]
        agent = _quoted(rest, referer[1] + 1) if rest[referer[1] : referer[1] + 1] == " " else None
        if agent is not None:
            fields["c-useragent"] = agent[0]
            fields["cs-user-agent"] = agent[0]
    return LogEvent(fields, ctx.kind or WEBSERVER, ctx.source, number, dates.parse(date_text))


_SNIFF = re.compile(rb'^(?:\S+ )?\S+ \S+ \S+ \[[^\]]+\] "')


@sniffer("line", rank=30)
def sniff_access(sample: Sample, line: bytes) -> str | None:
    return "access-log" if _SNIFF.match(line) else None


@log_format("access-log", split_after=b"\n")
def parse_access(lines: Lines, ctx: Context) -> Iterator[LogEvent]:
    dates = _Dates()
    for number, raw in lines:
        text = ctx.text(number, raw).rstrip("\r\n")
        if not text.strip():
            continue
        event = parse_line(text, ctx, number, dates)
        if event is None:
            ctx.skip(number, "not an access-log line (common or combined format)")
            continue
        yield event
