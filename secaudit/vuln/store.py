"""The local feed store: one SQLite file holding every imported vulnerability feed.

It lives beside the KEV copy, in secaudit's data folder (``$XDG_DATA_HOME/secaudit/vuln.sqlite``,
else ``~/.local/share/secaudit/vuln.sqlite``), or wherever a profile's ``vuln.store`` says.

An import is one transaction: a Debian tracker, EPSS or KEV file replaces that feed's earlier
records; an OVAL file (one release of Debian or Ubuntu) replaces that feed's records of its
release; NVD files (pages) replace the records of the CVEs they carry. Distribution records keep
the feed they came from (``origin``), so a release's tracker and OVAL records never mix.
``feeds`` remembers what was imported, from where, its SHA-256, the publisher's date and when it
was imported, so every report can say how old its vulnerability data is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from secaudit.catalog.kev import Kev, KevEntry, default_kev_path
from secaudit.core.errors import OperationalError
from secaudit.vuln.feeds import CpeRange, CveInfo, DistroFix, EpssScore, Feed, FeedKind
from secaudit.vuln.osv import OsvAffected, decode_ranges, encode_ranges

STORE_FILE_NAME = "vuln.sqlite"
SCHEMA_VERSION = 4  # 2: distro_fix keeps feed and binaries; 3: NVD "running on" platforms; 4: OSV
DISTRIBUTION_FEEDS = frozenset({FeedKind.DEBIAN_TRACKER, FeedKind.DEBIAN_OVAL, FeedKind.UBUNTU_OVAL})
DEFAULT_MAX_AGE = timedelta(days=7)  # the tracker and EPSS change daily; a week-old copy misses fixes

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    kind TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, sha256 TEXT NOT NULL,
    published TEXT, dated_by TEXT NOT NULL, imported_at TEXT NOT NULL, records INTEGER NOT NULL,
    version TEXT NOT NULL DEFAULT '', PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS distro_fix (
    origin TEXT NOT NULL, release TEXT NOT NULL, package TEXT NOT NULL, cve TEXT NOT NULL, fixed TEXT,
    status TEXT NOT NULL, urgency TEXT NOT NULL, binaries TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (origin, release, package, cve)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cve (
    cve TEXT PRIMARY KEY, published TEXT, modified TEXT, status TEXT, vector TEXT, score REAL,
    cwes TEXT, summary TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cpe_range (
    cve TEXT NOT NULL, part TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL,
    version TEXT NOT NULL, start_incl TEXT NOT NULL, start_excl TEXT NOT NULL, end_incl TEXT NOT NULL,
    end_excl TEXT NOT NULL, platforms TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS cpe_range_cve ON cpe_range (cve);
CREATE INDEX IF NOT EXISTS cpe_range_product ON cpe_range (vendor, product);
CREATE TABLE IF NOT EXISTS osv (
    osv_id TEXT NOT NULL, cve TEXT NOT NULL, ecosystem TEXT NOT NULL, package TEXT NOT NULL,
    ranges TEXT NOT NULL, versions TEXT NOT NULL, summary TEXT NOT NULL, withdrawn INTEGER NOT NULL,
    vector TEXT NOT NULL, PRIMARY KEY (ecosystem, package, osv_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS osv_id ON osv (osv_id);
CREATE TABLE IF NOT EXISTS epss (cve TEXT PRIMARY KEY, probability REAL, percentile REAL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kev (
    cve TEXT PRIMARY KEY, name TEXT, date_added TEXT, due_date TEXT, ransomware TEXT) WITHOUT ROWID;
"""


_V1_DISTRO_FIX = "release, package, cve, fixed, status, urgency"


def _migrate(conn: sqlite3.Connection) -> None:
    """Schema 1 -> 2: the tracker's records move into the table that names each record's feed;
    2 -> 3: NVD ranges get their "running on" platforms (empty for ranges imported before: import
    the NVD files again to have them)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" not in tables:
        return
    found = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if found is None or found[0] not in ("1", "2", "3"):
        return  # 3 -> 4 only adds the osv table, which the schema script creates
    with conn:
        if found[0] == "1":
            conn.execute("ALTER TABLE distro_fix RENAME TO distro_fix_v1")
            conn.executescript(_SCHEMA)  # the new distro_fix; the other tables exist
            conn.execute(
                f"INSERT INTO distro_fix SELECT 'debian-tracker', {_V1_DISTRO_FIX}, '' "  # noqa: S608 (our names)
                "FROM distro_fix_v1"
            )
            conn.execute("DROP TABLE distro_fix_v1")
        columns = {r[1] for r in conn.execute("PRAGMA table_info(cpe_range)")}
        if "platforms" not in columns:
            conn.execute("ALTER TABLE cpe_range ADD COLUMN platforms TEXT NOT NULL DEFAULT ''")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))


def default_store_path(environ: Mapping[str, str] | None = None) -> Path:
    """``vuln.sqlite`` in secaudit's data folder, beside the KEV copy."""
    return default_kev_path(environ).with_name(STORE_FILE_NAME)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedStatus:
    """One imported feed file as the store remembers it."""

    kind: FeedKind
    name: str
    source: str
    sha256: str
    published: datetime | None  # the publisher's date, else the file's modification time
    dated_by: str  # "publisher" or "file time"
    imported_at: datetime
    records: int
    version: str = ""

    def age(self, now: datetime) -> timedelta:
        return now - (self.published or self.imported_at)


def stale_feeds(feeds: list[FeedStatus], now: datetime, max_age: timedelta) -> list[str]:
    """A warning per feed older than ``max_age`` (by its publisher's date, else its file time)."""
    return [
        f"warning: feed {f.kind.value} {f.name} is {f.age(now).days} days old (dated by {f.dated_by}; "
        f"limit {max_age.days}): import a fresh copy (secaudit vuln import/update)"
        for f in feeds
        if f.age(now) > max_age
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class KevFact:
    name: str
    date_added: date
    due_date: date | None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class VulnStore:
    """The feed store at one path; use :meth:`open` as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn, self.path = conn, path

    @classmethod
    @contextmanager
    def open(cls, path: Path | None = None, *, create: bool = True) -> Iterator[VulnStore]:
        where = path or default_store_path()
        if not create and not where.exists():
            raise OperationalError(
                "no vulnerability feed store here",
                location=str(where),
                hint="import feeds first: secaudit vuln import FILE...",
            )
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(where, timeout=30)
            _migrate(conn)
            conn.executescript(_SCHEMA)
            found = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if found is None:
                with conn:
                    conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif found[0] != str(SCHEMA_VERSION):
                raise OperationalError(
                    f"the feed store has schema {found[0]}, this secaudit reads {SCHEMA_VERSION}",
                    location=str(where),
                    hint="move the file aside and import the feeds again",
                )
        except sqlite3.Error as e:
            raise OperationalError(
                f"cannot open the vulnerability feed store: {e}",
                location=str(where),
                hint="check the folder's permissions, or name another store",
            ) from e
        try:
            yield cls(conn, where)
        finally:
            conn.close()

    # -- writing ---------------------------------------------------------------------------------

    def _record(
        self,
        kind: FeedKind,
        name: str,
        source: str,
        sha256: str,
        published: datetime | None,
        file_time: datetime,
        imported_at: datetime,
        records: int,
        version: str,
    ) -> FeedStatus:
        status = FeedStatus(
            kind=kind,
            name=name,
            source=source,
            sha256=sha256,
            published=published or file_time,
            dated_by="publisher" if published else "file time",
            imported_at=imported_at,
            records=records,
            version=version,
        )
        self._conn.execute(
            "INSERT OR REPLACE INTO feeds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                kind.value,
                name,
                source,
                sha256,
                status.published.isoformat() if status.published else None,
                status.dated_by,
                imported_at.isoformat(),
                records,
                version,
            ),
        )
        return status

    def import_feed(
        self, feed: Feed, *, name: str, source: str, sha256: str, file_time: datetime, imported_at: datetime
    ) -> FeedStatus:
        """Store one parsed feed in one transaction (see the module's replacement rules)."""
        try:
            with self._conn:
                conn = self._conn
                if feed.kind in DISTRIBUTION_FEEDS:
                    origin = feed.kind.value
                    if feed.kind is FeedKind.DEBIAN_TRACKER:
                        conn.execute("DELETE FROM distro_fix WHERE origin = ?", (origin,))
                        conn.execute("DELETE FROM feeds WHERE kind = ?", (origin,))
                    else:  # an OVAL file is one release: it replaces that release's earlier file
                        for release in feed.version.split(","):
                            conn.execute(
                                "DELETE FROM distro_fix WHERE origin = ? AND release = ?", (origin, release)
                            )
                            conn.execute(
                                "DELETE FROM feeds WHERE kind = ? AND version = ?", (origin, release)
                            )
                    conn.executemany(
                        "INSERT OR REPLACE INTO distro_fix VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                origin,
                                f.release,
                                f.package,
                                f.cve,
                                f.fixed,
                                f.status,
                                f.urgency,
                                " ".join(f.binaries),
                            )
                            for f in feed.fixes
                        ],
                    )
                elif feed.kind is FeedKind.NVD:
                    ids = [(c.cve,) for c in feed.cves]
                    conn.executemany("DELETE FROM cpe_range WHERE cve = ?", ids)
                    conn.executemany(
                        "INSERT OR REPLACE INTO cve VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                c.cve,
                                c.published,
                                c.modified,
                                c.status,
                                c.vector,
                                c.score,
                                ",".join(c.cwes),
                                c.summary,
                            )
                            for c in feed.cves
                        ],
                    )
                    conn.executemany(
                        "INSERT INTO cpe_range VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                r.cve,
                                r.part,
                                r.vendor,
                                r.product,
                                r.version,
                                r.start_incl,
                                r.start_excl,
                                r.end_incl,
                                r.end_excl,
                                ";".join("|".join(group) for group in r.platforms),
                            )
                            for r in feed.ranges
                        ],
                    )
                elif feed.kind is FeedKind.OSV:  # records replace those of the same ids
                    osv_ids = sorted({a.osv_id for a in feed.osv})
                    conn.executemany("DELETE FROM osv WHERE osv_id = ?", [(i,) for i in osv_ids])
                    conn.executemany(
                        "INSERT OR REPLACE INTO osv VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                a.osv_id,
                                a.cve,
                                a.ecosystem,
                                a.package,
                                encode_ranges(a.ranges),
                                "\n".join(a.versions),
                                a.summary,
                                int(a.withdrawn),
                                a.vector,
                            )
                            for a in feed.osv
                        ],
                    )
                elif feed.kind is FeedKind.EPSS:
                    conn.execute("DELETE FROM epss")
                    conn.execute("DELETE FROM feeds WHERE kind = ?", (feed.kind.value,))
                    conn.executemany(
                        "INSERT OR REPLACE INTO epss VALUES (?, ?, ?)",
                        [(e.cve, e.probability, e.percentile) for e in feed.epss],
                    )
                else:
                    raise ValueError(f"{feed.kind} is imported with import_kev")
                return self._record(
                    feed.kind,
                    name,
                    source,
                    sha256,
                    feed.published,
                    file_time,
                    imported_at,
                    feed.records,
                    feed.version,
                )
        except sqlite3.Error as e:
            raise OperationalError(
                f"cannot write the vulnerability feed store: {e}", location=str(self.path)
            ) from e

    def import_kev(
        self, kev: Kev, *, name: str, source: str, sha256: str, file_time: datetime, imported_at: datetime
    ) -> FeedStatus:
        """Store CISA's KEV catalogue (validated by :mod:`secaudit.catalog.kev`), replacing the last."""
        try:
            with self._conn:
                self._conn.execute("DELETE FROM kev")
                self._conn.execute("DELETE FROM feeds WHERE kind = ?", (FeedKind.KEV.value,))
                self._conn.executemany(
                    "INSERT INTO kev VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            e.cve,
                            e.name,
                            e.date_added.isoformat(),
                            e.due_date.isoformat() if e.due_date else None,
                            e.ransomware,
                        )
                        for e in kev.entries.values()
                    ],
                )
                return self._record(
                    FeedKind.KEV,
                    name,
                    source,
                    sha256,
                    kev.date,
                    file_time,
                    imported_at,
                    kev.count,
                    kev.version,
                )
        except sqlite3.Error as e:
            raise OperationalError(
                f"cannot write the vulnerability feed store: {e}", location=str(self.path)
            ) from e

    # -- reading ---------------------------------------------------------------------------------

    def feeds(self) -> list[FeedStatus]:
        rows = self._conn.execute("SELECT * FROM feeds ORDER BY kind, name").fetchall()
        return [
            FeedStatus(
                kind=FeedKind(kind),
                name=name,
                source=source,
                sha256=sha,
                published=_time(published),
                dated_by=dated_by,
                imported_at=datetime.fromisoformat(imported),
                records=records,
                version=version,
            )
            for kind, name, source, sha, published, dated_by, imported, records, version in rows
        ]

    def releases(self, origin: FeedKind | None = None) -> list[str]:
        """The releases the distribution feeds (or the one named) have records for."""
        query = "SELECT DISTINCT release FROM distro_fix"
        rows = (
            self._conn.execute(query + " WHERE origin = ? ORDER BY 1", (origin.value,))
            if origin
            else self._conn.execute(query + " ORDER BY 1")
        )
        return [r[0] for r in rows]

    def distro_fixes(
        self, release: str, packages: Sequence[str], origin: FeedKind = FeedKind.DEBIAN_TRACKER
    ) -> dict[str, list[DistroFix]]:
        """Source package -> what the distribution feed ``origin`` says of it in ``release``."""
        out: dict[str, list[DistroFix]] = {}
        wanted = sorted(set(packages))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT package, cve, fixed, status, urgency, binaries FROM distro_fix "
                "WHERE origin = ? AND release = ? AND package IN "
            )
            for package, cve, fixed, status, urgency, binaries in self._conn.execute(
                query + f"({marks})",  # only placeholders are formatted in
                (origin.value, release, *chunk),
            ):
                out.setdefault(package, []).append(
                    DistroFix(
                        release=release,
                        package=package,
                        cve=cve,
                        fixed=fixed,
                        status=status,
                        urgency=urgency,
                        binaries=tuple(binaries.split()),
                    )
                )
        return out

    def osv(self, ecosystem: str, packages: Sequence[str]) -> dict[str, list[OsvAffected]]:
        """Normalised package name -> the OSV records naming it in ``ecosystem`` (any release of it:
        ``Debian`` finds ``Debian:12`` too)."""
        out: dict[str, list[OsvAffected]] = {}
        wanted = sorted(set(packages))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                f"SELECT * FROM osv WHERE (ecosystem = ? OR ecosystem LIKE ?) AND package IN ({marks})",  # noqa: S608
                (ecosystem, ecosystem + ":%", *chunk),
            ):
                osv_id, cve, eco, package, ranges, versions, summary, withdrawn, vector = row
                out.setdefault(package, []).append(
                    OsvAffected(
                        osv_id=osv_id,
                        cve=cve,
                        ecosystem=eco,
                        package=package,
                        ranges=decode_ranges(ranges),
                        versions=tuple(v for v in versions.split("\n") if v),
                        summary=summary,
                        withdrawn=bool(withdrawn),
                        vector=vector,
                    )
                )
        return out

    def ranges(self, products: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[CpeRange]]:
        """(vendor, product) -> every vulnerable CPE range naming it."""
        out: dict[tuple[str, str], list[CpeRange]] = {}
        for vendor, product in sorted(set(products)):
            for row in self._conn.execute(
                "SELECT * FROM cpe_range WHERE vendor = ? AND product = ?", (vendor, product)
            ):
                item = CpeRange(
                    cve=row[0],
                    part=row[1],
                    vendor=row[2],
                    product=row[3],
                    version=row[4],
                    start_incl=row[5],
                    start_excl=row[6],
                    end_incl=row[7],
                    end_excl=row[8],
                    platforms=tuple(tuple(g.split("|")) for g in row[9].split(";") if g),
                )
                out.setdefault((vendor, product), []).append(item)
        return out

    def _by_cve(self, table: str, columns: str, cves: Sequence[str]) -> dict[str, tuple[object, ...]]:
        out: dict[str, tuple[object, ...]] = {}
        wanted = sorted(set(cves))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                f"SELECT cve, {columns} FROM {table} WHERE cve IN ({marks})",  # noqa: S608 (our own names)
                chunk,
            ):
                out[row[0]] = tuple(row[1:])
        return out

    def cve_info(self, cves: Sequence[str]) -> dict[str, CveInfo]:
        rows = self._by_cve("cve", "published, modified, status, vector, score, cwes, summary", cves)
        return {
            cve: CveInfo(
                cve=cve,
                published=str(r[0] or ""),
                modified=str(r[1] or ""),
                status=str(r[2] or ""),
                vector=str(r[3] or ""),
                score=float(r[4]) if isinstance(r[4], int | float) else None,
                cwes=tuple(c for c in str(r[5] or "").split(",") if c),
                summary=str(r[6] or ""),
            )
            for cve, r in rows.items()
        }

    def epss(self, cves: Sequence[str]) -> dict[str, EpssScore]:
        rows = self._by_cve("epss", "probability, percentile", cves)
        return {
            cve: EpssScore(cve=cve, probability=float(r[0]), percentile=float(r[1]))  # type: ignore[arg-type]
            for cve, r in rows.items()
        }

    def kev(self, cves: Sequence[str]) -> dict[str, KevFact]:
        rows = self._by_cve("kev", "name, date_added, due_date", cves)
        return {
            cve: KevFact(
                name=str(r[0]),
                date_added=date.fromisoformat(str(r[1])),
                due_date=date.fromisoformat(str(r[2])) if r[2] else None,
            )
            for cve, r in rows.items()
        }

    def kev_catalogue(self) -> Kev | None:
        """The stored KEV catalogue as :class:`~secaudit.catalog.kev.Kev`, for the risk model."""
        status = next((f for f in self.feeds() if f.kind is FeedKind.KEV), None)
        if status is None or status.published is None:
            return None
        entries = {
            cve: KevEntry(
                cve=cve,
                vendor="",
                product="",
                name=name,
                date_added=date.fromisoformat(added),
                ransomware=ransomware or "Unknown",
                due_date=date.fromisoformat(due) if due else None,
            )
            for cve, name, added, due, ransomware in self._conn.execute("SELECT * FROM kev")
        }
        return Kev(
            version=status.version,
            date=status.published.astimezone(UTC),
            entries=entries,
            path=str(self.path),
            imported_at=status.imported_at,
            source=status.source,
            source_sha256=status.sha256,
        )
