"""Reading vulnerability feeds in their published formats into plain records.

Each reader validates the shape it relies on and collects every problem with ``file:line`` (the
line of the record that is wrong) before refusing the file whole: a truncated or hand-edited feed
never imports half-way. Fields a publisher adds later are ignored.

Formats:

- Debian Security Tracker JSON (``https://security-tracker.debian.org/tracker/data/json``):
  ``{source package: {CVE id: {"releases": {release: {"status", "fixed_version", "urgency"}}}}}``.
  ``fixed_version`` is a *source* package version; ``"0"`` means the release was never affected;
  status ``open`` is "no fix yet"; ``undetermined`` is kept apart and never counted as vulnerable.
- NVD CVE API 2.0 JSON (an API response page or a feed file of the same shape): CVSS (v4.0, v3.1,
  v3.0 in that preference), CWE, and the CPE match criteria with version ranges. A record whose
  ``vulnStatus`` is ``Rejected`` is a withdrawn CVE.
- FIRST EPSS CSV (``epss_scores-YYYY-MM-DD.csv``): a ``#model_version:...,score_date:...`` line,
  then ``cve,epss,percentile``.
- CISA KEV JSON: read by :mod:`secaudit.catalog.kev` (one validator), due dates kept here.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import orjson

from secaudit.core.errors import ConfigError

if TYPE_CHECKING:
    from secaudit.vuln.osv import OsvAffected

CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
_SHOWN = 10


class FeedKind(Enum):
    DEBIAN_TRACKER = "debian-tracker"
    DEBIAN_OVAL = "debian-oval"
    UBUNTU_OVAL = "ubuntu-oval"
    OSV = "osv"
    NVD = "nvd"
    EPSS = "epss"
    KEV = "kev"


@dataclass(frozen=True, slots=True, kw_only=True)
class DistroFix:
    """What a distribution says about one CVE in one source package of one release.

    ``fixed`` is the first fixed source version, ``None`` when no fix exists yet (status open).
    Records of releases never affected (fixed version ``0``) are not kept. ``binaries`` is empty
    when the feed speaks of the source package as a whole (the tracker, Debian's OVAL); Ubuntu's
    OVAL names the binary packages its test checks, each compared by its own installed version.
    """

    release: str
    package: str  # source package
    cve: str
    fixed: str | None
    status: str  # resolved, open, undetermined
    urgency: str = ""
    binaries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CpeRange:
    """One vulnerable CPE match criterion of a CVE: vendor/product and a version range.

    ``version`` is the CPE's own version (``*`` or ``-`` when it names none); the four bounds come
    from NVD's ``versionStart*``/``versionEnd*`` (empty when absent). ``platforms`` is the
    "running on" condition of an ``AND`` configuration: every group must hold, by any of its CPEs.
    """

    cve: str
    part: str
    vendor: str
    product: str
    version: str
    start_incl: str = ""
    start_excl: str = ""
    end_incl: str = ""
    end_excl: str = ""
    platforms: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CveInfo:
    cve: str
    published: str
    modified: str
    status: str  # NVD vulnStatus; "Rejected" is a withdrawn CVE
    vector: str = ""  # the preferred CVSS vector
    score: float | None = None  # its base score as NVD published it
    cwes: tuple[str, ...] = ()
    summary: str = ""

    @property
    def withdrawn(self) -> bool:
        return self.status.lower() == "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class EpssScore:
    cve: str
    probability: float
    percentile: float


@dataclass(slots=True, kw_only=True)
class Feed:
    """One parsed feed file: its kind, the date its publisher gives it, and its records."""

    kind: FeedKind
    location: str
    published: datetime | None  # None: the format carries no date (the file's time stands in)
    version: str = ""
    fixes: list[DistroFix] = field(default_factory=list)
    cves: list[CveInfo] = field(default_factory=list)
    ranges: list[CpeRange] = field(default_factory=list)
    epss: list[EpssScore] = field(default_factory=list)
    osv: list[OsvAffected] = field(default_factory=list)
    skipped: int = 0  # records outside what secaudit uses (TEMP- ids, non-CVE entries)

    @property
    def records(self) -> int:
        return len(self.fixes) + len(self.cves) + len(self.epss) + len(self.osv)


class _Problems:
    """Collects problems; the line of a problem is found from a needle in the text, when given."""

    def __init__(self, text: str, location: str, hint: str) -> None:
        self.text, self.location, self.hint = text, location, hint
        self.found: list[tuple[str, str]] = []

    def line_of(self, *needles: str) -> str:
        offset = 0
        for needle in needles:
            at = self.text.find(needle, offset)
            if at < 0:
                break
            offset = at
        return f"{self.location}:{self.text.count(chr(10), 0, offset) + 1}"

    def add(self, message: str, *needles: str) -> None:
        self.found.append((self.line_of(*needles) if needles else self.location, message))

    def raise_if_any(self) -> None:
        if not self.found:
            return
        where, message = self.found[0]
        rest = "".join(f"\n  {loc}: {msg}" for loc, msg in self.found[1:_SHOWN])
        more = len(self.found) - _SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        count = f" ({len(self.found)} problems, the feed is refused whole)" if len(self.found) > 1 else ""
        raise ConfigError(message + count + rest + tail, location=where, hint=self.hint)


def _json(text: str, location: str, hint: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as e:
        line = text.count("\n", 0, e.pos) + 1
        raise ConfigError(f"not valid JSON: {e.msg}", location=f"{location}:{line}", hint=hint) from e


def detect_kind(text: str, name: str) -> FeedKind:
    """Which feed a file is, from its content (the name only breaks no ties)."""
    head = text.lstrip()[:4096]
    if head.startswith("#model_version") or head.lower().startswith("cve,epss"):
        return FeedKind.EPSS
    if head.startswith("[") or (head.startswith("{") and '"id"' in head and '"affected"' in text[:65536]):
        return FeedKind.OSV  # one OSV record, or a list of them
    if head.startswith("{"):
        if '"catalogVersion"' in head or '"knownRansomwareCampaignUse"' in text[:65536]:
            return FeedKind.KEV
        if '"format"' in head and '"NVD_CVE"' in head:
            return FeedKind.NVD
        if '"vulnerabilities"' in head and '"resultsPerPage"' in head:
            return FeedKind.NVD
        return FeedKind.DEBIAN_TRACKER
    raise ConfigError(
        "not a feed secaudit reads (Debian Security Tracker JSON, Debian or Ubuntu OVAL XML, NVD CVE "
        "API 2.0 JSON, CISA KEV JSON, FIRST EPSS CSV or OSV JSON)",
        location=f"{name}:1",
        hint="import the file as its publisher serves it, decompressed",
    )


# -- Debian Security Tracker -------------------------------------------------------------------

_TRACKER_HINT = "download https://security-tracker.debian.org/tracker/data/json again and import it unchanged"
_TRACKER_STATUS = frozenset({"resolved", "open", "undetermined"})


def read_debian_tracker(text: str, location: str) -> Feed:
    data = _json(text, location, _TRACKER_HINT)
    problems = _Problems(text, location, _TRACKER_HINT)
    feed = Feed(kind=FeedKind.DEBIAN_TRACKER, location=location, published=None)
    if not isinstance(data, dict):
        problems.add(f"the top level is {type(data).__name__}, not the tracker's package object")
        problems.raise_if_any()
    for package, issues in data.items():
        if not isinstance(issues, dict):
            problems.add(
                f"package '{package}' maps to {type(issues).__name__}, not CVE entries", f'"{package}"'
            )
            continue
        for cve, entry in issues.items():
            if not CVE_ID.match(cve):
                feed.skipped += 1  # TEMP-... ids: no CVE assigned yet
                continue
            releases = entry.get("releases") if isinstance(entry, dict) else None
            if not isinstance(releases, dict):
                problems.add(f"{package}/{cve}: 'releases' must be an object", f'"{package}"', f'"{cve}"')
                continue
            for release, state in releases.items():
                fix = _tracker_release(package, cve, release, state, problems)
                if fix is not None:
                    feed.fixes.append(fix)
    problems.raise_if_any()
    return feed


def _tracker_release(
    package: str, cve: str, release: str, state: Any, problems: _Problems
) -> DistroFix | None:
    where = (f'"{package}"', f'"{cve}"', f'"{release}"')
    if not isinstance(state, dict):
        problems.add(f"{package}/{cve}/{release}: must be an object", *where)
        return None
    status = state.get("status")
    if status not in _TRACKER_STATUS:
        problems.add(
            f"{package}/{cve}/{release}: status {status!r} is not one of "
            + ", ".join(sorted(_TRACKER_STATUS)),
            *where,
        )
        return None
    fixed = state.get("fixed_version")
    if fixed is not None and (not isinstance(fixed, str) or not fixed.strip()):
        problems.add(f"{package}/{cve}/{release}: 'fixed_version' must be a version", *where)
        return None
    if status == "resolved":
        if fixed is None:
            problems.add(f"{package}/{cve}/{release}: resolved without a 'fixed_version'", *where)
            return None
        if fixed == "0":
            return None  # never affected in this release
    urgency = state.get("urgency", "")
    return DistroFix(
        release=release,
        package=package,
        cve=cve,
        fixed=fixed if status == "resolved" else None,
        status=status,
        urgency=urgency if isinstance(urgency, str) else "",
    )


# -- NVD CVE API 2.0 ---------------------------------------------------------------------------

_NVD_HINT = "save the NVD CVE API 2.0 response (or feed file) unchanged and import it"
_METRIC_KEYS = ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30")


def _nvd_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_VULNERABILITIES = re.compile(r'"vulnerabilities"\s*:\s*\[')
_BLANK = re.compile(r"\s*")
_DECODER = json.JSONDecoder()


class _Items:
    """The items of the top-level ``vulnerabilities`` array, decoded one at a time, so a full NVD
    (hundreds of megabytes) never exists as one tree of Python objects; ``end`` is the offset
    after the closing bracket once every item has been read."""

    def __init__(self, text: str, start: int, location: str) -> None:
        self.text, self.pos, self.location, self.end = text, start, location, -1

    def _fail(self, message: str, pos: int) -> ConfigError:
        line = self.text.count("\n", 0, pos) + 1
        return ConfigError(f"not valid JSON: {message}", location=f"{self.location}:{line}", hint=_NVD_HINT)

    def __iter__(self) -> Iterator[Any]:
        text = self.text
        pos = _BLANK.match(text, self.pos).end()  # type: ignore[union-attr]
        if text.startswith("]", pos):
            self.end = pos + 1
            return
        while True:
            try:
                item, pos = _DECODER.raw_decode(text, pos)
            except json.JSONDecodeError as e:
                raise self._fail(e.msg, e.pos) from e
            yield item
            pos = _BLANK.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith("]", pos):
                self.end = pos + 1
                return
            if not text.startswith(",", pos):
                raise self._fail("expected ',' or ']' after an item of 'vulnerabilities'", pos)
            pos = _BLANK.match(text, pos + 1).end()  # type: ignore[union-attr]


def read_nvd(text: str, location: str) -> Feed:
    problems = _Problems(text, location, _NVD_HINT)
    found = _VULNERABILITIES.search(text)
    if found is None:
        data = _json(text, location, _NVD_HINT)
        problems.add("not an NVD CVE API 2.0 document: no 'vulnerabilities' list")
        problems.raise_if_any()
    assert found is not None
    items = _Items(text, found.end(), location)
    cves: list[CveInfo] = []
    ranges: list[CpeRange] = []
    for index, item in enumerate(items):
        cve = item.get("cve") if isinstance(item, dict) else None
        ident = cve.get("id") if isinstance(cve, dict) else None
        if not isinstance(ident, str) or not CVE_ID.match(ident):
            problems.add(
                f"vulnerabilities[{index}]: no CVE id in 'cve.id'", *([f'"{ident}"'] if ident else [])
            )
            continue
        assert isinstance(cve, dict)
        info = _nvd_cve(ident, cve, problems)
        if info is None:
            continue
        cves.append(info)
        ranges.extend(_nvd_ranges(ident, cve, problems))
    # the envelope: everything but the items, parsed as one small document
    data = _json(text[: found.end()] + "]" + text[items.end :], location, _NVD_HINT)
    if not isinstance(data, dict):
        problems.add("not an NVD CVE API 2.0 document: the top level is not an object")
        problems.raise_if_any()
    if data.get("format") not in (None, "NVD_CVE"):
        problems.add(f"format {data.get('format')!r} is not NVD_CVE", '"format"')
    if str(data.get("version", "2.0")) != "2.0":
        problems.add(f"version {data.get('version')!r} is not the CVE API 2.0 format", '"version"')
    stamp = _nvd_time(data.get("timestamp"))
    if "timestamp" in data and stamp is None:
        problems.add(f"'timestamp' {data.get('timestamp')!r} is not an ISO 8601 time", '"timestamp"')
    feed = Feed(kind=FeedKind.NVD, location=location, published=stamp, version=str(data.get("version", "")))
    feed.cves, feed.ranges = cves, ranges
    problems.raise_if_any()
    return feed


def _nvd_cve(ident: str, cve: dict[str, Any], problems: _Problems) -> CveInfo | None:
    vector, score = "", None
    metrics = cve.get("metrics", {})
    if not isinstance(metrics, dict):
        problems.add(f"{ident}: 'metrics' must be an object", f'"{ident}"', '"metrics"')
        return None
    for key in _METRIC_KEYS:
        entries = metrics.get(key) or []
        if not isinstance(entries, list):
            problems.add(f"{ident}: '{key}' must be a list", f'"{ident}"', f'"{key}"')
            return None
        # NVD's own ("Primary") score first, else the CNA's
        chosen = sorted(
            (e for e in entries if isinstance(e, dict) and isinstance(e.get("cvssData"), dict)),
            key=lambda e: e.get("type") != "Primary",
        )
        if chosen:
            data = chosen[0]["cvssData"]
            vector = data.get("vectorString", "")
            base = data.get("baseScore")
            if not isinstance(vector, str) or not vector.startswith("CVSS:"):
                problems.add(f"{ident}: {key} has no CVSS vectorString", f'"{ident}"', f'"{key}"')
                return None
            if not isinstance(base, int | float) or isinstance(base, bool) or not 0 <= base <= 10:
                problems.add(f"{ident}: {key} baseScore must be 0..10", f'"{ident}"', f'"{key}"')
                return None
            score = float(base)
            break
    cwes = sorted(
        {
            d.get("value", "")
            for w in cve.get("weaknesses", []) or []
            if isinstance(w, dict)
            for d in w.get("description", []) or []
            if isinstance(d, dict) and str(d.get("value", "")).startswith("CWE-")
        }
    )
    summary = next(
        (
            d.get("value", "")
            for d in cve.get("descriptions", []) or []
            if isinstance(d, dict) and d.get("lang") == "en"
        ),
        "",
    )
    return CveInfo(
        cve=ident,
        published=str(cve.get("published", "")),
        modified=str(cve.get("lastModified", "")),
        status=str(cve.get("vulnStatus", "")),
        vector=vector,
        score=score,
        cwes=tuple(cwes),
        summary=summary if isinstance(summary, str) else "",
    )


def _cpe_parts(criteria: Any) -> list[str] | None:
    parts = criteria.split(":") if isinstance(criteria, str) else []
    return parts if len(parts) == 13 and parts[:2] == ["cpe", "2.3"] else None


def _nvd_ranges(ident: str, cve: dict[str, Any], problems: _Problems) -> Iterator[CpeRange]:
    """The vulnerable CPE ranges of every configuration; in an ``AND`` configuration, the nodes
    whose matches are all ``vulnerable: false`` are the platform the software must run on, kept
    with each range as groups (every group must hold, any CPE of a group)."""
    for config in cve.get("configurations", []) or []:
        nodes = config.get("nodes", []) if isinstance(config, dict) else None
        if not isinstance(nodes, list):
            problems.add(f"{ident}: a configuration without 'nodes'", f'"{ident}"', '"configurations"')
            continue
        platforms: tuple[tuple[str, ...], ...] = ()
        if str(config.get("operator", "OR")).upper() == "AND":
            groups = []
            for node in nodes:
                if not isinstance(node, dict) or node.get("negate"):
                    continue
                matches = [m for m in (node.get("cpeMatch", []) or []) if isinstance(m, dict)]
                if matches and not any(m.get("vulnerable") for m in matches):
                    groups.append(tuple(sorted({str(m.get("criteria", "")) for m in matches})))
            platforms = tuple(groups)
        for node in nodes:
            if not isinstance(node, dict) or node.get("negate"):
                continue  # a negated node says what is *not* affected: no range to match
            for match in node.get("cpeMatch", []) or []:
                if not isinstance(match, dict) or not match.get("vulnerable"):
                    continue  # "running on" platforms of an AND configuration, kept above
                criteria = match.get("criteria", "")
                parts = _cpe_parts(criteria)
                if parts is None:
                    problems.add(f"{ident}: criteria {criteria!r} is not a CPE 2.3 name", f'"{ident}"')
                    continue
                yield CpeRange(
                    cve=ident,
                    part=parts[2],
                    vendor=parts[3],
                    product=parts[4],
                    version=parts[5],
                    start_incl=str(match.get("versionStartIncluding", "")),
                    start_excl=str(match.get("versionStartExcluding", "")),
                    end_incl=str(match.get("versionEndIncluding", "")),
                    end_excl=str(match.get("versionEndExcluding", "")),
                    platforms=platforms,
                )


# -- FIRST EPSS --------------------------------------------------------------------------------

_EPSS_HINT = "download epss_scores-YYYY-MM-DD.csv.gz from https://epss.cyentia.com, gunzip it, import the CSV"
_EPSS_HEAD = re.compile(r"^#model_version:(?P<model>[^,]*),score_date:(?P<date>\S+)\s*$")


def read_epss(text: str, location: str) -> Feed:
    problems = _Problems(text, location, _EPSS_HINT)
    lines = text.splitlines()
    published, model, start = None, "", 0
    if lines and lines[0].startswith("#"):
        head = _EPSS_HEAD.match(lines[0])
        published = _nvd_time(head.group("date")) if head else None
        if head is None or published is None:
            problems.found.append(
                (f"{location}:1", "the first line must read '#model_version:...,score_date:<ISO time>'")
            )
            problems.raise_if_any()
        assert head is not None
        model, start = head.group("model"), 1
    if len(lines) <= start or lines[start].strip().lower() != "cve,epss,percentile":
        problems.found.append((f"{location}:{start + 1}", "the header must be 'cve,epss,percentile'"))
        problems.raise_if_any()
    feed = Feed(kind=FeedKind.EPSS, location=location, published=published, version=model)
    reader = csv.reader(io.StringIO("\n".join(lines[start + 1 :])))
    for offset, row in enumerate(reader, start=start + 2):
        if not row:
            continue
        where = f"{location}:{offset}"
        if len(row) != 3 or not CVE_ID.match(row[0]):
            problems.found.append((where, f"expected 'CVE-id,probability,percentile', got {','.join(row)!r}"))
            continue
        try:
            probability, percentile = float(row[1]), float(row[2])
        except ValueError:
            problems.found.append((where, f"{row[0]}: probability and percentile must be numbers"))
            continue
        if not (0 <= probability <= 1 and 0 <= percentile <= 1):
            problems.found.append((where, f"{row[0]}: probability and percentile must lie in 0..1"))
            continue
        feed.epss.append(EpssScore(cve=row[0], probability=probability, percentile=percentile))
    problems.raise_if_any()
    return feed
