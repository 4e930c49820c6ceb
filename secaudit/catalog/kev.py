"""CISA's Known Exploited Vulnerabilities (KEV) catalogue, supplied by the user.

No registry this project installs from carries a KEV snapshot, and secaudit makes no network call of
its own (command centers are air-gapped), so the user downloads CISA's
``known_exploited_vulnerabilities.json`` and imports it::

    secaudit kev import known_exploited_vulnerabilities.json

:func:`import_kev` validates the file against CISA's published shape and stores a compact copy
(:func:`default_kev_path`: ``$XDG_DATA_HOME/secaudit/kev.json``, else
``~/.local/share/secaudit/kev.json``). The copy is itself a CISA-shaped file, one entry per line,
with only the fields secaudit reads plus a ``secaudit`` member saying where it came from, so
:func:`load_kev` reads the copy and an original download alike.

The shape checked (CISA's schema; fields added later by CISA are accepted and ignored)::

    {"catalogVersion": "2026.11.18", "dateReleased": "2026-11-18T15:00:01.1234Z", "count": 2,
     "vulnerabilities": [{"cveID": "CVE-2099-0001", "vendorProject": "...", "product": "...",
                          "vulnerabilityName": "...", "dateAdded": "2026-11-18",
                          "knownRansomwareCampaignUse": "Unknown", ...}, ...]}

Every problem names ``file:line``; all problems are collected and the file is refused whole, so a
truncated or edited catalogue never silently drops entries. A CVE listed twice is kept once.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import json.decoder
import json.scanner
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from secaudit.core.errors import ConfigError, OperationalError
from secaudit.core.files import read_regular

KEV_FILE_NAME = "kev.json"
STALE_AFTER = timedelta(days=30)  # CISA adds entries most weeks; a month-old copy misses some
MAX_BYTES = 64 * 1024 * 1024  # CISA's file is ~1.3 MB; anything this big is not it
COPY_FORMAT = 1  # the ``secaudit.format`` of the compact copy
KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REQUIRED_TEXT = ("vendorProject", "product", "vulnerabilityName")
_OPTIONAL_TEXT = ("shortDescription", "requiredAction", "notes", "knownRansomwareCampaignUse")
_SHOWN_PROBLEMS = 10
_DOWNLOAD_HINT = f"download the JSON feed again from {KEV_URL} and import it unchanged"


@dataclass(frozen=True, slots=True, kw_only=True)
class KevEntry:
    """One catalogue entry, as much of it as secaudit uses."""

    cve: str  # upper-case
    vendor: str
    product: str
    name: str
    date_added: date
    ransomware: str = "Unknown"  # CISA's knownRansomwareCampaignUse: "Known" or "Unknown"
    due_date: date | None = None  # CISA's dueDate: when US federal agencies must have remediated


@dataclass(frozen=True, slots=True, kw_only=True)
class Kev:
    """A KEV catalogue: its version, release date and entries.

    ``date`` is CISA's ``dateReleased`` (UTC). ``imported_at`` and ``source`` say when and from
    which file a compact copy was made (unset when reading an original download).
    """

    version: str
    date: datetime
    entries: Mapping[str, KevEntry] = field(compare=False)
    path: str = field(default="", compare=False)
    imported_at: datetime | None = field(default=None, compare=False)
    source: str = field(default="", compare=False)
    source_sha256: str = field(default="", compare=False)

    def contains(self, cve: str) -> bool:
        """Is ``cve`` (any case, surrounding spaces ignored) in the catalogue?"""
        return cve.strip().upper() in self.entries

    def get(self, cve: str) -> KevEntry | None:
        return self.entries.get(cve.strip().upper())

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def label(self) -> str:
        """How the risk model names this catalogue in a factor: ``KEV 2026.11.18``."""
        return f"KEV {self.version}"

    @property
    def description(self) -> str:
        """``KEV 2026.11.18, released 2026-11-18``: what a report's methodology shows."""
        return f"KEV {self.version}, released {self.date:%Y-%m-%d}"

    def age(self, now: datetime) -> timedelta:
        return now - self.date

    def stale(self, now: datetime) -> bool:
        """Older than :data:`STALE_AFTER`: CISA has most likely added entries since."""
        return self.age(now) > STALE_AFTER


def default_kev_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/secaudit/kev.json``, else ``~/.local/share/secaudit/kev.json``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME") or ""
    root = Path(base) if Path(base).is_absolute() else Path.home() / ".local" / "share"  # the XDG rule
    return root / "secaudit" / KEV_FILE_NAME


# -- parsing with locations -------------------------------------------------------------------


class _Lines:
    """Line numbers of offsets in a text."""

    def __init__(self, text: str) -> None:
        self._breaks = [i for i, ch in enumerate(text) if ch == "\n"]

    def line(self, offset: int) -> int:
        return bisect.bisect_left(self._breaks, offset) + 1


def _decode_with_spans(text: str) -> tuple[Any, dict[int, tuple[int, int]]]:
    """Decode JSON, remembering where each object and array starts and ends (by ``id``).

    The pure-Python scanner is slower than ``json.loads``; it only runs once a problem has to be
    located, on text that ``json.loads`` already accepted.
    """
    spans: dict[int, tuple[int, int]] = {}
    decoder = json.JSONDecoder()

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        obj, end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
        spans[id(obj)] = (s_and_end[1] - 1, end)
        return obj, end

    def parse_array(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        arr, end = json.decoder.JSONArray(s_and_end, *args)  # type: ignore[attr-defined]
        spans[id(arr)] = (s_and_end[1] - 1, end)
        return arr, end

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.parse_array = parse_array  # type: ignore[attr-defined]
    scan = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    start = len(text) - len(text.lstrip())
    data, _ = scan(text, start)
    return data, spans


class _Locator:
    """``file:line`` of a place in the catalogue: the top level, an entry, or a key inside either."""

    def __init__(self, text: str, path: str) -> None:
        self._text, self._path = text, path
        self._parsed: tuple[Any, dict[int, tuple[int, int]], _Lines] | None = None

    def __call__(self, index: int | None = None, key: str | None = None) -> str:
        if self._parsed is None:
            data, spans = _decode_with_spans(self._text)
            self._parsed = (data, spans, _Lines(self._text))
        data, spans, lines = self._parsed
        node = data
        if index is not None and isinstance(data, dict):
            items = data.get("vulnerabilities")
            if isinstance(items, list) and 0 <= index < len(items):
                node = items[index]
        start, end = spans.get(id(node), (0, len(self._text)))
        offset = start
        if key is not None:
            # Entries are flat objects and the top level's keys come before or after the entry list;
            # the first '"key"' followed by a colon inside the node's span is the key.
            found = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(self._text, start, end)
            if found is not None:
                offset = found.start()
        return f"{self._path}:{lines.line(offset)}"


@dataclass(slots=True)
class _Problems:
    where: Callable[..., str]
    found: list[tuple[str, str, str]] = field(default_factory=list)  # location, message, hint

    def add(self, message: str, hint: str, index: int | None = None, key: str | None = None) -> None:
        self.found.append((self.where(index, key), message, hint))

    def raise_if_any(self) -> None:
        if not self.found:
            return
        location, message, hint = self.found[0]
        rest = [f"\n  {loc}: {msg}" for loc, msg, _ in self.found[1:_SHOWN_PROBLEMS]]
        more = len(self.found) - _SHOWN_PROBLEMS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        count = (
            f" ({len(self.found)} problems, the catalogue is refused whole)" if len(self.found) > 1 else ""
        )
        raise ConfigError(message + count + "".join(rest) + tail, location=location, hint=hint)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _released(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or not _DAY.match(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _entry(item: Any, index: int, problems: _Problems) -> KevEntry | None:
    if not isinstance(item, dict):
        problems.add(
            f"vulnerabilities[{index}] is {type(item).__name__}, not an object", _DOWNLOAD_HINT, index
        )
        return None
    before = len(problems.found)
    cve = item.get("cveID")
    label = f"vulnerabilities[{index}]" + (f" ({cve})" if isinstance(cve, str) and cve.strip() else "")
    if not isinstance(cve, str) or not _CVE.match(cve.strip()):
        problems.add(
            f"{label}: 'cveID' must be a CVE id (CVE-YYYY-NNNN), got {cve!r}",
            _DOWNLOAD_HINT,
            index,
            "cveID" if "cveID" in item else None,
        )
    for key in _REQUIRED_TEXT:
        if not _is_text(item.get(key)):
            problems.add(
                f"{label}: '{key}' is missing or not text",
                _DOWNLOAD_HINT,
                index,
                key if key in item else None,
            )
    for key in _OPTIONAL_TEXT:
        if key in item and not _is_text(item[key]):
            problems.add(f"{label}: '{key}' must be text", _DOWNLOAD_HINT, index, key)
    added = _day(item.get("dateAdded"))
    if added is None:
        problems.add(
            f"{label}: 'dateAdded' must be a date YYYY-MM-DD, got {item.get('dateAdded')!r}",
            _DOWNLOAD_HINT,
            index,
            "dateAdded" if "dateAdded" in item else None,
        )
    if "dueDate" in item and _day(item["dueDate"]) is None:
        problems.add(
            f"{label}: 'dueDate' must be a date YYYY-MM-DD, got {item['dueDate']!r}",
            _DOWNLOAD_HINT,
            index,
            "dueDate",
        )
    cwes = item.get("cwes", [])
    if not isinstance(cwes, list) or not all(isinstance(c, str) for c in cwes):
        problems.add(f"{label}: 'cwes' must be a list of CWE ids", _DOWNLOAD_HINT, index, "cwes")
    if len(problems.found) > before or added is None or not isinstance(cve, str):
        return None
    return KevEntry(
        cve=cve.strip().upper(),
        vendor=item["vendorProject"],
        product=item["product"],
        name=item["vulnerabilityName"],
        date_added=added,
        ransomware=str(item.get("knownRansomwareCampaignUse", "Unknown")),
        due_date=_day(item["dueDate"]) if "dueDate" in item else None,
    )


def _catalogue(data: Any, problems: _Problems) -> tuple[str, datetime | None, dict[str, KevEntry]]:
    if not isinstance(data, dict):
        problems.add(
            f"the top level is {type(data).__name__}, not CISA's catalogue object",
            f"{_DOWNLOAD_HINT} (the JSON feed, not the CSV one)",
        )
        return "", None, {}
    version = data.get("catalogVersion")
    if not isinstance(version, str) or not version.strip():
        problems.add(
            f"'catalogVersion' must be non-empty text, got {version!r}",
            _DOWNLOAD_HINT,
            key="catalogVersion" if "catalogVersion" in data else None,
        )
    released = _released(data.get("dateReleased"))
    if released is None:
        problems.add(
            f"'dateReleased' must be an ISO 8601 date-time, got {data.get('dateReleased')!r}",
            _DOWNLOAD_HINT,
            key="dateReleased" if "dateReleased" in data else None,
        )
    items = data.get("vulnerabilities")
    if not isinstance(items, list):
        problems.add(
            "'vulnerabilities' must be the list of entries",
            _DOWNLOAD_HINT,
            key="vulnerabilities" if "vulnerabilities" in data else None,
        )
        items = []
    count = data.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        problems.add(
            f"'count' must be a whole number, got {count!r}",
            _DOWNLOAD_HINT,
            key="count" if "count" in data else None,
        )
    elif count != len(items):
        problems.add(
            f"'count' says {count} entries but 'vulnerabilities' holds {len(items)}: "
            "the file is cut short or edited",
            _DOWNLOAD_HINT,
            key="count",
        )
    entries: dict[str, KevEntry] = {}
    for index, item in enumerate(items):
        entry = _entry(item, index, problems)
        if entry is not None:
            entries.setdefault(entry.cve, entry)
    return (version.strip() if isinstance(version, str) else ""), released, entries


def _read_text(path: Path) -> tuple[str, bytes]:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(
                f"{size:,} bytes is far larger than CISA's KEV catalogue",
                location=str(path),
                hint=_DOWNLOAD_HINT,
            )
        raw = read_regular(path, limit=MAX_BYTES, what="KEV catalogue file", hint=_DOWNLOAD_HINT)
    except FileNotFoundError as e:
        raise ConfigError(
            "no KEV catalogue file here",
            location=str(path),
            hint=f"download {KEV_URL} and run `secaudit kev import FILE`, or correct the path",
        ) from e
    except IsADirectoryError as e:
        raise ConfigError(
            "this is a folder, not a KEV catalogue file", location=str(path), hint="name the JSON file itself"
        ) from e
    except OSError as e:
        raise OperationalError(
            f"cannot read the KEV catalogue: {e.strerror or e}",
            location=str(path),
            hint="check the file's permissions",
        ) from e
    try:
        return raw.decode("utf-8-sig"), raw
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ConfigError(
            f"byte {e.start} is not UTF-8: this is not CISA's JSON catalogue",
            location=f"{path}:{line}",
            hint=_DOWNLOAD_HINT,
        ) from e


def parse_kev(text: str, location: str) -> Kev:
    """Validate a CISA-shaped KEV catalogue (an original download or a compact copy)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        looks_html = text.lstrip()[:1] == "<"
        hint = (
            f"this looks like a web page saved instead of the feed: {_DOWNLOAD_HINT}"
            if looks_html
            else _DOWNLOAD_HINT
        )
        raise ConfigError(f"not valid JSON: {e.msg}", location=f"{location}:{e.lineno}", hint=hint) from e
    problems = _Problems(_Locator(text, location))
    version, released, entries = _catalogue(data, problems)
    problems.raise_if_any()
    assert released is not None  # a missing date is a problem raised above
    meta = data.get("secaudit") if isinstance(data, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    return Kev(
        version=version,
        date=released,
        entries=entries,
        path=location,
        imported_at=_released(meta.get("imported_at")),
        source=str(meta.get("source", "")),
        source_sha256=str(meta.get("sha256", "")),
    )


def read_kev(path: Path) -> Kev:
    """Read and validate the catalogue at ``path``; :class:`ConfigError` (file:line) if unusable."""
    text, _ = _read_text(path)
    return parse_kev(text, str(path))


def load_kev(path: Path | None = None) -> Kev | None:
    """The KEV catalogue the risk model uses: ``path`` when given (it must exist), else the imported
    copy at :func:`default_kev_path`, or None when nothing was imported."""
    if path is None:
        path = default_kev_path()
        if not path.exists():
            return None
    return read_kev(path)


def _compact_text(kev: Kev, source: Path, sha256: str, imported_at: datetime) -> str:
    """The stored copy: CISA's shape with the fields secaudit reads, one entry per line."""
    head = {
        "catalogVersion": kev.version,
        "dateReleased": kev.date.isoformat().replace("+00:00", "Z"),
        "count": kev.count,
        "secaudit": {
            "format": COPY_FORMAT,
            "imported_at": imported_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "source": str(source),
            "sha256": sha256,
        },
    }
    lines = [
        json.dumps(
            {
                "cveID": e.cve,
                "vendorProject": e.vendor,
                "product": e.product,
                "vulnerabilityName": e.name,
                "dateAdded": e.date_added.isoformat(),
                "knownRansomwareCampaignUse": e.ransomware,
                **({"dueDate": e.due_date.isoformat()} if e.due_date else {}),
            },
            ensure_ascii=False,
        )
        for e in sorted(kev.entries.values(), key=lambda e: (e.date_added, e.cve))
    ]
    opening = json.dumps(head, ensure_ascii=False, indent=1)[:-2]  # drop the closing "\n}"
    return opening + ',\n "vulnerabilities": [\n' + ",\n".join(lines) + "\n ]\n}\n"


def import_kev(source: Path, target: Path | None = None, *, now: datetime | None = None) -> Kev:
    """Validate CISA's ``known_exploited_vulnerabilities.json`` at ``source`` and store a compact copy
    at ``target`` (default :func:`default_kev_path`), replacing any earlier one atomically.

    Nothing is written when the file is refused. Returns the stored catalogue as :func:`load_kev`
    will read it.
    """
    text, raw = _read_text(source)
    kev = parse_kev(text, str(source))
    target = default_kev_path() if target is None else target
    moment = now or datetime.now(UTC)
    copy = _compact_text(kev, source.resolve(), hashlib.sha256(raw).hexdigest(), moment)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(copy)
                stream.flush()
                os.fsync(stream.fileno())
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise OperationalError(
            f"cannot store the KEV catalogue: {e.strerror or e}",
            location=str(target),
            hint="make the folder writable, or set XDG_DATA_HOME (or --to) to a writable place",
        ) from e
    return parse_kev(copy, str(target))
