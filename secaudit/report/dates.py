"""How human-readable reports write a moment: in the profile's time zone, always with its offset.

``2026-03-01 09:00 +07:00`` in English (and in Thai with Gregorian years); with the Buddhist era
the Thai report writes dates as Thai government documents do: ``1 มี.ค. 2569 09:00 น. (UTC+07:00)``
(พ.ศ. = Gregorian year + 543). Machine formats (JSON, SARIF, JUnit) keep ISO 8601 in UTC.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta, tzinfo

from secaudit.core.errors import ConfigError
from secaudit.core.profile import Profile

BUDDHIST_ERA_OFFSET = 543
THAI_MONTHS = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)


def zone_of(name: str) -> tzinfo:
    """The time zone called ``name`` (IANA); UTC needs no time zone database."""
    if name == "UTC":
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(
            f"unknown time zone '{name}'",
            hint="set the profile's timezone to an IANA name such as Asia/Bangkok (tzdata must be installed)",
        ) from e


def offset_text(offset: timedelta | None) -> str:
    """``+07:00``, ``-03:30``; ``UTC`` for a zero offset."""
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


class TimeFormat:
    """Writes moments for one report: its zone, language and (for Thai) year numbering."""

    def __init__(self, zone: str = "UTC", *, lang: str = "en", era: str = "gregorian") -> None:
        self.zone_name = zone
        self.zone = zone_of(zone)
        self.buddhist = lang == "th" and era == "buddhist"

    @classmethod
    def for_report(cls, profile: Profile, lang: str) -> TimeFormat:
        return cls(profile.timezone, lang=lang, era=profile.report.thai_era)

    def local(self, value: datetime) -> datetime:
        """``value`` in the report's zone (a naive value is taken as UTC, as the store keeps it)."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value.year in (1, 9999):
            return value  # datetime.min / max (no bound) cannot move to another zone
        return value.astimezone(self.zone)

    def __call__(self, value: datetime | None) -> str:
        """One moment to the minute: a reader needs no seconds; the JSON keeps the rest."""
        if value is None:
            return ""
        moment = self.local(value)
        offset = offset_text(moment.utcoffset())
        if self.buddhist:
            day = f"{moment.day} {THAI_MONTHS[moment.month - 1]} {moment.year + BUDDHIST_ERA_OFFSET}"
            zone = "UTC" if offset == "UTC" else f"UTC{offset}"
            return f"{day} {moment:%H:%M} น. ({zone})"
        return f"{moment:%Y-%m-%d %H:%M} {offset}"

    def zone_label(self, at: datetime, template: str = "{zone} (UTC{offset})") -> str:
        """``Asia/Bangkok (UTC+07:00)``: the zone every time in the report is written in (its
        offset at ``at``); ``template`` is the report language's way of writing it."""
        if self.zone_name == "UTC":
            return "UTC"
        offset = offset_text(self.local(at).utcoffset())
        return template.replace("{zone}", self.zone_name).replace(
            "{offset}", "" if offset == "UTC" else offset
        )
