"""OSV records (https://ossf.github.io/osv-schema/) for ecosystems no distribution feed covers.

OSV publishes one JSON document per advisory, in bulk as a zip per ecosystem
(``https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip``); a file holding one record,
a JSON list of records, or such a zip is read. Each ``affected`` entry names an ecosystem and a
package; it is affected at a version listed in ``versions``, or inside a range: the ``events``
(``introduced``, ``fixed``, ``last_affected``, ``limit``) are sorted by the ecosystem's ordering
and read in turn, as the OSV schema prescribes, so one range can hold several intervals.

Versions are compared as the ecosystem does: PyPI by PEP 440 (``packaging``), Debian and Ubuntu
by dpkg, Rocky Linux and AlmaLinux by rpm's EVR ordering (:mod:`secaudit.vuln.rpmver`). Ranges
of type ``GIT`` name commits, not versions: skipped. Records of ecosystems
secaudit cannot order are kept (and counted) but never matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from packaging.version import InvalidVersion, Version

from secaudit.core.errors import ConfigError
from secaudit.vuln.feeds import CVE_ID, Feed, FeedKind, _json, _Problems
from secaudit.vuln.rpmver import EvrKey
from secaudit.vuln.version import VersionError, sort_key

RPM_ECOSYSTEMS = ("Rocky Linux", "AlmaLinux")  # rpm's EVR ordering
_HINT = "import OSV records as osv.dev publishes them (one JSON record, a list, or an ecosystem's all.zip)"
_PYPI_NAME = re.compile(r"[-_.]+")


def normalize(ecosystem: str, name: str) -> str:
    """The package name as the ecosystem compares it (PyPI: PEP 503 normalisation)."""
    return _PYPI_NAME.sub("-", name).lower() if ecosystem == "PyPI" else name


def _pep440(version: str) -> object:
    return Version(version)


def _dpkg(version: str) -> object:
    return sort_key(version)


def ordering(ecosystem: str) -> Callable[[str], Any] | None:
    """A sort key for the ecosystem's versions, None where secaudit has none."""
    base = ecosystem.split(":", 1)[0]
    if base == "PyPI":
        return _pep440
    if base in ("Debian", "Ubuntu"):
        return _dpkg
    if base in RPM_ECOSYSTEMS:
        return EvrKey
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class OsvAffected:
    """One package of one OSV record: where it is affected."""

    osv_id: str
    cve: str  # the CVE alias when the record has one, else ""
    ecosystem: str
    package: str  # normalised
    ranges: tuple[tuple[tuple[str, str], ...], ...]  # per ECOSYSTEM/SEMVER range: (event, version)...
    versions: tuple[str, ...]
    summary: str = ""
    withdrawn: bool = False
    vector: str = ""  # a CVSS vector from the record's severity, when given

    @property
    def rule_id(self) -> str:
        return self.cve or self.osv_id


def affected(item: OsvAffected, version: str) -> bool:
    """Whether ``version`` is affected by ``item``; :class:`ValueError` when the ecosystem cannot
    order it (unknown ecosystem or an invalid version)."""
    key = ordering(item.ecosystem)
    if key is None:
        raise ValueError(f"no version ordering for ecosystem {item.ecosystem}")
    try:
        have = key(version)
        if version in item.versions:
            return True
        for events in item.ranges:
            if _in_range(have, events, key):
                return True
    except (InvalidVersion, VersionError) as e:
        raise ValueError(str(e)) from e
    return False


def _in_range(have: Any, events: tuple[tuple[str, str], ...], key: Callable[[str], Any]) -> bool:
    def order(event: tuple[str, str]) -> tuple[int, Any]:
        kind, value = event
        return (0, None) if kind == "introduced" and value == "0" else (1, key(value))

    state = False
    for kind, value in sorted(events, key=order):
        if kind == "introduced" and (value == "0" or have >= key(value)):
            state = True
        elif (
            (kind == "fixed" and have >= key(value))
            or (kind == "last_affected" and have > key(value))
            or (kind == "limit" and have >= key(value))
        ):
            state = False
    return state


def first_fix(item: OsvAffected, version: str) -> str | None:
    """The lowest ``fixed`` version above ``version``, None when no range offers one."""
    key = ordering(item.ecosystem)
    if key is None:
        return None
    have = key(version)
    fixes = [v for events in item.ranges for kind, v in events if kind == "fixed" and key(v) > have]
    return min(fixes, key=key) if fixes else None


def _records(data: Any) -> Iterable[Any]:
    return data if isinstance(data, list) else [data]


def read_osv(text: str, location: str) -> Feed:
    """Every affected package of the OSV record(s) in ``text``; problems name ``file:line``."""
    data = _json(text, location, _HINT)
    problems = _Problems(text, location, _HINT)
    feed = Feed(kind=FeedKind.OSV, location=location, published=None)
    ecosystems: set[str] = set()
    for record in _records(data):
        for item in _affected(record, problems):
            ecosystems.add(item.ecosystem)
            if ordering(item.ecosystem) is None:
                feed.skipped += 1
            feed.osv.append(item)
    problems.raise_if_any()
    feed.version = ",".join(sorted(ecosystems))
    return feed


def _affected(record: Any, problems: _Problems) -> Iterable[OsvAffected]:
    ident = record.get("id") if isinstance(record, dict) else None
    if not isinstance(ident, str) or not ident:
        problems.add("an OSV record without an 'id'")
        return
    where = (f'"{ident}"',)
    if not isinstance(record.get("affected", []), list):
        problems.add(f"{ident}: 'affected' must be a list", *where)
        return
    # a CVE among the aliases, else among "related" (where AlmaLinux's records name theirs)
    aliases = [a for key in ("aliases", "related") for a in record.get(key, []) or [] if isinstance(a, str)]
    cve = ident if CVE_ID.match(ident) else next((a for a in aliases if CVE_ID.match(a)), "")
    vector = next(
        (
            str(s.get("score", ""))
            for s in record.get("severity", []) or []
            if isinstance(s, dict) and str(s.get("score", "")).startswith("CVSS:")
        ),
        "",
    )
    for entry in record.get("affected", []):
        package = entry.get("package") if isinstance(entry, dict) else None
        if not isinstance(package, dict) or not package.get("ecosystem") or not package.get("name"):
            problems.add(f"{ident}: an affected entry without package.ecosystem and package.name", *where)
            continue
        ecosystem, name = str(package["ecosystem"]), str(package["name"])
        key = ordering(ecosystem)
        ranges = []
        for span in entry.get("ranges", []) or []:
            if not isinstance(span, dict) or span.get("type") not in ("ECOSYSTEM", "SEMVER", "GIT"):
                problems.add(f"{ident}: a range without a known 'type'", *where)
                continue
            if span["type"] == "GIT":
                continue  # commits, not versions
            events = []
            for event in span.get("events", []) or []:
                pairs = list(event.items()) if isinstance(event, dict) else []
                if len(pairs) != 1 or pairs[0][0] not in ("introduced", "fixed", "last_affected", "limit"):
                    problems.add(
                        f"{ident}: event {event!r} is not one of introduced/fixed/last_affected/limit", *where
                    )
                    continue
                kind, value = pairs[0][0], str(pairs[0][1])
                if key is not None and not (kind == "introduced" and value == "0"):
                    try:
                        key(value)
                    except (InvalidVersion, VersionError):
                        problems.add(f"{ident}: {name} {kind} {value!r} is not a {ecosystem} version", *where)
                        continue
                events.append((kind, value))
            ranges.append(tuple(events))
        versions = tuple(str(v) for v in entry.get("versions", []) or [])
        yield OsvAffected(
            osv_id=ident,
            cve=cve,
            ecosystem=ecosystem,
            package=normalize(ecosystem, name),
            ranges=tuple(ranges),
            versions=versions,
            summary=str(record.get("summary", "") or "")[:500],
            withdrawn=bool(record.get("withdrawn")),
            vector=vector,
        )


def encode_ranges(ranges: tuple[tuple[tuple[str, str], ...], ...]) -> str:
    return orjson.dumps([[list(e) for e in events] for events in ranges]).decode()


def decode_ranges(text: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    try:
        return tuple(tuple((str(k), str(v)) for k, v in events) for events in orjson.loads(text))
    except (orjson.JSONDecodeError, ValueError, TypeError) as e:
        raise ConfigError(f"a damaged OSV range in the store: {e}") from e
