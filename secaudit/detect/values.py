"""How event values read as text, numbers, timestamps and addresses: one definition for both matchers."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from functools import lru_cache

from secaudit.core.events import LogEvent

# A regex RE2 cannot compile (lookaround, backreference) runs on a backtracking engine over at most
# this many characters of a value, and for at most REGEX_TIME_BUDGET seconds per value.
BOUNDED_REGEX_INPUT = 4096
REGEX_TIME_BUDGET = 0.25


class RegexBudgetExceeded(Exception):
    """A backtracking regex ran over its time budget on one value: its rule is disabled for the run."""

    def __init__(self, pattern: str) -> None:
        super().__init__(
            f"regex {pattern[:120]!r} ran over its budget of {REGEX_TIME_BUDGET:g} s on one value "
            f"({BOUNDED_REGEX_INPUT:,} characters at most): rule disabled for the rest of the run, "
            "hits before kept"
        )
        self.pattern = pattern


def text_of(value: object) -> str | None:
    """A scalar as Sigma compares it: str as is, bool as "true"/"false", numbers via str(); None stays."""
    if isinstance(value, str):
        return value
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def texts(value: object) -> list[str]:
    """Every text of a field value (a list value gives one per non-null element)."""
    if isinstance(value, (list, tuple)):
        return [t for t in map(text_of, value) if t is not None]
    text = text_of(value)
    return [] if text is None else [text]


def number_of(value: object) -> float | None:
    """A value as a number: ints and floats, and strings holding one; bools and the rest are not."""
    if value is True or value is False or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def compare(op: str, value: float, number: float) -> bool:
    if op == "gt":
        return value > number
    if op == "gte":
        return value >= number
    if op == "lt":
        return value < number
    if op == "lte":
        return value <= number
    return value != number  # neq


def address_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


@lru_cache(maxsize=8192)
def address_number(text: str) -> tuple[int, int] | None:
    """(IP version, the address as an int) of the address ``text`` holds, or None. Remembered for
    the 8,192 texts last asked: the same hosts recur event after event, and parsing one with
    ``ipaddress`` costs microseconds."""
    addr = address_of(text)
    return None if addr is None else (addr.version, int(addr))


def in_network(text: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    addr = address_of(text)
    return addr is not None and addr.version == network.version and addr in network


def timestamp_of(value: object, event: LogEvent) -> datetime | None:
    """The field value as a timestamp (ISO 8601, "YYYY-MM-DD HH:MM:SS.fff" as Sysmon writes it, or a
    datetime); the event's own timestamp when the field is absent."""
    if value is None:
        return event.timestamp
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def time_part(stamp: datetime, part: str) -> int:
    if part == "week":
        return stamp.isocalendar().week
    return int(getattr(stamp, part))


def regex_flags(flags: str) -> int:
    out = 0
    if "i" in flags:
        out |= re.IGNORECASE
    if "m" in flags:
        out |= re.MULTILINE
    if "s" in flags:
        out |= re.DOTALL
    return out


def sigma_view(fields: dict[str, object]) -> dict[str, object]:
    """The fields a rule sees: as read, plus each name containing spaces again without them, unless
    the event has that name already (Defender writes "Threat Name"; SigmaHQ rules say ThreatName)."""
    extra = {k.replace(" ", ""): v for k, v in fields.items() if " " in k}
    if not extra:
        return fields
    view = dict(fields)
    for key, value in extra.items():
        view.setdefault(key, value)
    return view
