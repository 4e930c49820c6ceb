"""What reading the inputs did: files, events, skipped records, and where things went wrong."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_ERRORS = 20  # locations kept in full; every error still counts in ``error_count``


@dataclass(slots=True)
class ReadStats:
    """Counts of one read, mutable while reading; ``merge`` adds another read's counts (shards, workers).

    ``files``: input files opened (a file read in several shards counts once). ``events``: events handed
    on. ``skipped``: records that could not be read (broken JSON, over-long lines, truncated EVTX
    records...). ``unreadable_files``: files of no known format, empty files, files that vanished
    while reading. ``replaced``: records with invalid UTF-8, decoded with U+FFFD and still handed on.
    ``not_logs``: files of no log format whose names say they are something else (rule metadata,
    documents, images: ``info.yml`` beside a sample), left out without counting as a problem and not
    counted in ``files``. ``by_format``: files per detected format. ``errors``: the first
    :data:`MAX_ERRORS` problems as (location, reason), location being ``path:line`` or
    ``path:record N``; ``error_count`` counts them all. With a time range (``logs hunt --since/--from/
    --to``): ``outside_range`` counts the events read but not evaluated because their time lies outside
    it, ``undated`` the events without a time (evaluated unless the hunt was told to leave them out).
    """

    files: int = 0
    events: int = 0
    skipped: int = 0
    unreadable_files: int = 0
    replaced: int = 0
    not_logs: int = 0
    by_format: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)
    error_count: int = 0
    outside_range: int = 0
    undated: int = 0

    def error(self, location: str, reason: str) -> None:
        """Record a problem (without counting it as skipped)."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append((location, reason))

    def skip(self, location: str, reason: str, count: int = 1) -> None:
        """Count ``count`` records that could not be read, remembering where."""
        self.skipped += count
        self.error(location, reason)

    def unreadable(self, location: str, reason: str) -> None:
        """Count a whole file that could not be read."""
        self.unreadable_files += 1
        self.error(location, reason)

    def merge(self, other: ReadStats) -> None:
        """Add ``other``'s counts; errors keep input order (self's first), up to the cap."""
        self.files += other.files
        self.events += other.events
        self.skipped += other.skipped
        self.unreadable_files += other.unreadable_files
        self.replaced += other.replaced
        self.not_logs += other.not_logs
        self.by_format.update(other.by_format)
        room = MAX_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(other.errors[:room])
        self.error_count += other.error_count
        self.outside_range += other.outside_range
        self.undated += other.undated
