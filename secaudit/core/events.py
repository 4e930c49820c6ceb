"""Log events as every reader hands them to every detection engine.

A reader maps each raw record once, at ingest, to the Sigma field taxonomy and to the kind of log it is
(Sigma's logsource: product, categories, services). Engines only ever see :class:`LogEvent`.
Standard library only; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class LogKind:
    """What kind of log an event belongs to, in Sigma logsource terms.

    An event may belong to several categories (a Sysmon registry value set is both ``registry_set``
    and ``registry_event``) and several services (``sysmon`` and ``windows-sysmon``...). Names are
    lowercase. An empty ``product`` means the reader could not tell (e.g. a CSV of unknown origin).
    """

    product: str = ""
    categories: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    def covers(self, product: str | None, category: str | None, service: str | None) -> bool:
        """True if a rule whose logsource is (product, category, service) applies to this kind of event.

        ``None`` in the rule's logsource means "any"; a named part must be one this event has.
        """
        if product is not None and product.lower() != self.product:
            return False
        if category is not None and category.lower() not in self.categories:
            return False
        return service is None or service.lower() in self.services


class LogEvent(NamedTuple):
    """One event, mapped.

    ``fields`` uses Sigma taxonomy names (``Image``, ``CommandLine``, ``EventID``, ``c-uri``...) with
    values as read: str, int, float, bool, None, or a list of those. ``source`` is the input path as the
    user gave it ("-" for stdin); ``record`` the EVTX record id, or the 1-based line where the event
    starts in a text log. ``timestamp`` is timezone-aware (UTC) when the log says when. ``text`` is the
    JSON text the event was read from, set by a reader only when every value in ``fields`` is a
    string, int, boolean or null of that text, as written there (or a copy of one): keyword gates
    search it instead of the values when it is plain enough (ASCII, no \\u or \\/ escape).
    """

    fields: dict[str, object]
    kind: LogKind
    source: str
    record: int
    timestamp: datetime | None
    text: bytes | None = None
