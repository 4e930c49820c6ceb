"""The ranked findings as data for the report page: compact rows over one string table.

The HTML report renders its first page of findings on the server and embeds every row as JSON
for the page's script, which filters, sorts and pages through them. 50,000 findings must render
in seconds and open without freezing the browser, so rows are arrays, not objects, and every
text is stored once in a string table (``s``) that rows point into: titles, remediations and
segment names repeat across thousands of rows. The layout of a row is :data:`ROW_FIELDS`; the
script (``templates/report.js``) reads the same positions.

Every text passes :func:`~secaudit.report.text.printable` (no lone surrogates, no control
characters) and is cut to a size a reader can use; a cut evidence excerpt keeps its full length
so the page can say how much was left out. The JSON is made safe for a ``<script>`` element by
:func:`script_json`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from secaudit.core.model import Asset, Evidence, Finding, Reference, Severity, Source, Status
from secaudit.core.profile import Profile
from secaudit.core.report import Decision, ReportRow, RiskFactor
from secaudit.report.i18n import factor_text
from secaudit.report.text import clip, printable

DECISIONS: tuple[Decision, ...] = tuple(Decision)  # act, attend, track*, track: most urgent first
SOURCES: tuple[Source, ...] = tuple(Source)
STATUSES: tuple[Status, ...] = tuple(Status)
SEVERITY_KEYS: tuple[str, ...] = tuple(s.label for s in sorted(Severity))  # index = int(severity)

ROW_FIELDS = (
    "rank",
    "decision",  # index into DECISIONS
    "score",  # number, for sorting
    "score_text",  # s index
    "severity",  # int(Severity)
    "source",  # index into SOURCES
    "status",  # index into STATUSES
    "likelihood",  # 1..5
    "impact",  # 1..5
    "title",
    "rule_id",
    "fingerprint",  # plain hex, not in the string table
    "assets",  # [[display, key, segment, criticality (int), role], ...]
    "description",
    "remediation",
    "evidence",  # [[kind, summary, location, excerpt, excerpt full length or 0, [[name, value], ...]], ...]
    "factors",  # [[name, value, points text], ...]; name is the risk model's factor key
    "references",  # [[kind, id, url], ...]
    "first_seen",
    "last_seen",
    "instances",  # how many findings this row aggregates
)
COLUMN = {name: position for position, name in enumerate(ROW_FIELDS)}

# Sizes past which text is cut (characters). An excerpt is what an auditor checks the finding
# against, so it keeps the most; one-line fields keep less.
LINE = 2_000
PROSE = 20_000
EXCERPT = 65_536


def clamp_level(value: int) -> int:
    """A heat-map axis value within 1..5, whatever the risk model handed over."""
    return min(5, max(1, int(value)))


def score_text(score: float) -> str:
    return f"{score:.1f}"


def points_text(points: float) -> str:
    return f"{points:+.1f}"


EVIDENCE_INSTANCES = 20  # instances of an aggregated row whose evidence the report shows


def row_assets(row: ReportRow) -> tuple[Asset, ...]:
    """The assets a row stands for: the aggregated list, or the finding's own asset."""
    return row.assets or (row.finding.asset,)


@dataclass
class Strings:
    """The string table: each distinct text once, cleaned and cut, addressed by position."""

    cut_note: Callable[[int, int], str]  # (shown, total) -> "truncated: 2,000 of 9,000 characters"
    table: list[str] = field(default_factory=list)
    _index: dict[tuple[str, int], int] = field(default_factory=dict)
    _clean: dict[str, int] = field(default_factory=dict)

    def __call__(self, text: str, limit: int = LINE) -> int:
        """The position of ``text`` (cleaned, cut at ``limit`` with a note saying so)."""
        key = (text, limit)
        found = self._index.get(key)
        if found is not None:
            return found
        kept, size = clip(text, limit)
        clean = printable(kept)
        if size > len(kept):
            clean = f"{clean} … [{self.cut_note(len(kept), size)}]"
        position = self._clean.get(clean)
        if position is None:
            position = self._clean[clean] = len(self.table)
            self.table.append(clean)
        self._index[key] = position
        return position

    def excerpt(self, text: str) -> tuple[int, int]:
        """An evidence excerpt: its position and, when it was cut, its full length (else 0)."""
        kept, size = clip(text, EXCERPT)
        if size == len(kept):
            return self(text, EXCERPT + 1), 0
        return self(kept, EXCERPT + 1), size


class SegmentResolver:
    """The segment an asset belongs to: the one it names, else the one holding its address."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._cache: dict[tuple[str, str], str] = {}

    def __call__(self, asset: Asset) -> str:
        key = (asset.segment, asset.address)
        name = self._cache.get(key)
        if name is None:
            segment = self.profile.segment(asset.segment) if asset.segment else None
            if segment is None and asset.address:
                segment = self.profile.segment_of(asset.address)
            name = self._cache[key] = segment.name if segment else asset.segment
        return name


class RowEncoder:
    """Turns report rows into compact arrays (see :data:`ROW_FIELDS`)."""

    def __init__(
        self,
        strings: Strings,
        segment_of: SegmentResolver,
        format_time: Callable[[Any], str],
        lang: str = "en",
    ):
        self.s = strings
        self.segment_of = segment_of
        self.format_time = format_time
        self.lang = lang  # title, description and remediation in this language where the content has it
        self._times: dict[Any, int] = {}
        # Assets, factor lists and references repeat across rows: encode each once.
        self._assets: dict[Asset, list[Any]] = {}
        self._factors: dict[Any, list[Any]] = {}
        self._refs: dict[Any, list[Any]] = {}

    def _time(self, value: Any) -> int:
        found = self._times.get(value)
        if found is None:
            found = self._times[value] = self.s(self.format_time(value))
        return found

    def _evidence(self, item: Evidence, asset: str = "") -> list[Any]:
        s = self.s
        excerpt, full = s.excerpt(item.excerpt)
        return [
            s(item.kind),
            s(f"{asset}: {item.summary}" if asset else item.summary, PROSE),
            s(item.location),
            excerpt,
            full,
            [[s(name), s(value, PROSE)] for name, value in item.attributes],
        ]

    def _asset(self, asset: Asset) -> list[Any]:
        found = self._assets.get(asset)
        if found is None:
            s = self.s
            found = [
                s(asset.display),
                s(asset.key),
                s(self.segment_of(asset)),
                int(asset.criticality),
                s(asset.role),
            ]
            self._assets[asset] = found
        return found

    def _factor_list(self, factors: tuple[RiskFactor, ...]) -> list[Any]:
        found = self._factors.get(factors)
        if found is None:
            s = self.s
            found = self._factors[factors] = [
                [s(f.name), s(factor_text(f, self.lang)), s(points_text(f.points))] for f in factors
            ]
        return found

    def _references(self, refs: tuple[Reference, ...]) -> list[Any]:
        found = self._refs.get(refs)
        if found is None:
            s = self.s
            found = self._refs[refs] = [[s(r.kind.value), s(r.id), s(r.url)] for r in refs]
        return found

    def encode(self, row: ReportRow) -> list[Any]:
        s, finding = self.s, row.finding
        words = finding.text_in(self.lang)
        # tuple.index compares enum members by identity, in C: cheaper than hashing them.
        return [
            row.rank,
            DECISIONS.index(row.decision),
            round(row.score, 3),
            s(score_text(row.score)),
            int(finding.severity),
            SOURCES.index(finding.source),
            STATUSES.index(row.status),
            min(5, max(1, row.likelihood)),
            min(5, max(1, row.impact)),
            s(words.title),
            s(finding.rule_id),
            row.fingerprints[0] if row.fingerprints else finding.fingerprint,
            [self._asset(a) for a in row_assets(row)],
            s(words.description, PROSE),
            s(words.remediation, PROSE),
            self._row_evidence(row),
            self._factor_list(row.factors),
            self._references(finding.references),
            self._time(row.first_seen),
            self._time(row.last_seen),
            max(1, len(row.fingerprints)),
        ]

    def _row_evidence(self, row: ReportRow) -> list[list[Any]]:
        """The evidence of every instance of an aggregated row (up to EVIDENCE_INSTANCES of them), each
        summary led by its asset, so an auditor sees where each one was found; a single finding's as is."""
        instances = row.all_instances
        if len(instances) == 1:
            return [self._evidence(e) for e in row.finding.evidence]
        return [
            self._evidence(e, asset=instance.asset.key)
            for instance in instances[:EVIDENCE_INSTANCES]
            for e in instance.evidence
        ]

    def encode_all(self, rows: Iterable[ReportRow]) -> list[list[Any]]:
        """Every row, encoded. The cyclic garbage collector is paused meanwhile: the rows are
        hundreds of thousands of new lists that hold no cycles, and its full passes over a heap
        that large cost more than the encoding itself."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return [self.encode(row) for row in rows]
        finally:
            if paused:
                gc.enable()


def expand(encoded: list[Any], strings: list[str]) -> dict[str, Any]:
    """One compact row back as named plain values, for the server-rendered first page."""
    row = dict(zip(ROW_FIELDS, encoded, strict=True))
    for name in ("score_text", "title", "rule_id", "description", "remediation", "first_seen", "last_seen"):
        row[name] = strings[row[name]]
    row["decision_key"] = DECISIONS[row["decision"]].value
    row["severity_key"] = SEVERITY_KEYS[row["severity"]]
    row["source_key"] = SOURCES[row["source"]].value
    row["status_key"] = STATUSES[row["status"]].value
    row["assets"] = [
        {
            "display": strings[a[0]],
            "key": strings[a[1]],
            "segment": strings[a[2]],
            "criticality": a[3],
            "role": strings[a[4]],
        }
        for a in row["assets"]
    ]
    row["evidence"] = [
        {
            "kind": strings[e[0]],
            "summary": strings[e[1]],
            "location": strings[e[2]],
            "excerpt": strings[e[3]],
            "full": e[4],
            "attributes": [(strings[k], strings[v]) for k, v in e[5]],
        }
        for e in row["evidence"]
    ]
    row["factors"] = [
        {"name": strings[n], "value": strings[v], "points": strings[p]} for n, v, p in row["factors"]
    ]
    row["references"] = [
        {"kind": strings[k], "id": strings[i], "url": strings[u]} for k, i, u in row["references"]
    ]
    return row


def finding_line(
    finding: Finding, strings: Strings, segment_of: SegmentResolver, lang: str = "en"
) -> dict[str, Any]:
    """The few facts a list of fixed or waived findings shows, cleaned and cut like the rows."""
    table = strings.table
    asset = finding.asset
    return {
        "title": table[strings(finding.text_in(lang).title)],
        "rule_id": table[strings(finding.rule_id)],
        "severity_key": finding.severity.label,
        "source_key": finding.source.value,
        "asset": table[strings(asset.display)],
        "asset_key": table[strings(asset.key)],
        "segment": table[strings(segment_of(asset))],
        "fingerprint": finding.fingerprint,
    }


def script_json(data: Any) -> str:
    """``data`` as JSON that can sit inside a ``<script>`` element as it is.

    ``<``, ``>`` and ``&`` only ever occur inside JSON strings, where ``\\u003c`` means the same
    to ``JSON.parse``: no ``</script>``, ``<!--`` or ``<script`` can end or reopen the element.
    U+2028 and U+2029 are escaped too, for older script parsers.
    """
    text = orjson.dumps(data).decode("utf-8")
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
