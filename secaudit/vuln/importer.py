"""Importing feed files into the store, and fetching them from a mirror when the user asks.

``import_files`` reads each file, recognises its format from its content, validates it whole and
stores it; one bad file is reported with ``file:line`` and the others are still imported (the
result lists both). ``update`` downloads each URL the user names (a local mirror, or the
publisher where the network allows) into a temporary file and imports it the same way; secaudit
never fetches anything on its own.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from secaudit.catalog.kev import parse_kev
from secaudit.core.errors import ConfigError, OperationalError, SecauditError, UsageError
from secaudit.core.files import special_kind
from secaudit.vuln.feeds import Feed, FeedKind, detect_kind, read_debian_tracker, read_epss, read_nvd
from secaudit.vuln.osv import read_osv
from secaudit.vuln.oval import looks_like_oval, read_oval
from secaudit.vuln.store import FeedStatus, VulnStore

MAX_BYTES = 2 * 1024**3  # the full NVD set as one file is ~2 GB; anything larger is not a feed
TIMEOUT = 60.0


@dataclass(slots=True)
class ImportResult:
    imported: list[FeedStatus] = field(default_factory=list)
    errors: list[SecauditError] = field(default_factory=list)


def _read(path: Path) -> tuple[str, bytes]:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(f"{size:,} bytes is larger than any feed", location=str(path))
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError("no such feed file", location=str(path), hint="correct the path") from e
    except IsADirectoryError as e:
        raise ConfigError("a folder, not a feed file", location=str(path), hint="name the files") from e
    except OSError as e:
        raise OperationalError(f"cannot read the feed: {e.strerror or e}", location=str(path)) from e
    data = (
        gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else bz2.decompress(raw) if raw[:3] == b"BZh" else raw
    )
    try:
        return data.decode("utf-8-sig"), raw
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(
            f"byte {e.start} is not UTF-8: not a feed secaudit reads",
            location=f"{path}:{line}",
            hint="import the feed as its publisher serves it",
        ) from e


def _open_stream(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed as they are read (OVAL files are read as a stream)."""
    with path.open("rb") as probe:
        magic = probe.read(3)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if magic == b"BZh":
        return bz2.open(path, "rb")
    return path.open("rb")


def _sniff_oval(path: Path) -> bool:
    try:
        with _open_stream(path) as stream:
            return looks_like_oval(stream.read(4096))
    except FileNotFoundError as e:
        raise ConfigError("no such feed file", location=str(path), hint="correct the path") from e
    except IsADirectoryError as e:
        raise ConfigError("a folder, not a feed file", location=str(path), hint="name the files") from e
    except (OSError, EOFError) as e:
        raise OperationalError(f"cannot read the feed: {e}", location=str(path)) from e


def _is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as probe:
            return probe.read(4) == b"PK\x03\x04"
    except OSError:
        return False  # reported by the reader that follows


def _read_osv_zip(path: Path) -> Feed:
    """OSV's bulk form: a zip of one JSON record per member (an ecosystem's all.zip)."""
    feed = Feed(kind=FeedKind.OSV, location=str(path), published=None)
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                if member.is_dir() or not member.filename.endswith(".json"):
                    continue
                total += member.file_size
                if total > MAX_BYTES:
                    raise ConfigError(
                        f"more than {MAX_BYTES:,} bytes once unpacked: not an OSV export", location=str(path)
                    )
                text = archive.read(member).decode("utf-8-sig")
                part = read_osv(text, f"{path}!{member.filename}")
                feed.osv.extend(part.osv)
                feed.skipped += part.skipped
    except (zipfile.BadZipFile, UnicodeDecodeError) as e:
        raise ConfigError(
            f"not a readable OSV zip: {e}", location=str(path), hint="download the zip again"
        ) from e
    feed.version = ",".join(sorted({a.ecosystem for a in feed.osv}))
    return feed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        while chunk := raw.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(
    store: VulnStore, path: Path, *, now: datetime, name: str = "", source: str = ""
) -> FeedStatus:
    """Validate one feed file and store it; raises (nothing stored) when it is refused."""
    if special := special_kind(path):  # a FIFO would block the read, a device never end
        raise ConfigError(
            f"is {special}, not a feed file", location=str(path), hint="download the feed to a file first"
        )
    label, origin = name or path.name, source or str(path.resolve())
    if _is_zip(path):
        feed = _read_osv_zip(path)
        file_time = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return store.import_feed(
            feed, name=label, source=origin, sha256=_sha256(path), file_time=file_time, imported_at=now
        )
    if _sniff_oval(path):
        try:
            with _open_stream(path) as stream:
                feed = read_oval(stream, str(path))
        except (OSError, EOFError) as e:
            raise OperationalError(f"cannot read the feed: {e}", location=str(path)) from e
        file_time = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return store.import_feed(
            feed, name=label, source=origin, sha256=_sha256(path), file_time=file_time, imported_at=now
        )
    text, raw = _read(path)
    sha = hashlib.sha256(raw).hexdigest()
    del raw  # a full NVD file: the bytes need not live beside their text while it is parsed
    location = str(path)
    kind = detect_kind(text, location)
    file_time = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    if kind is FeedKind.KEV:
        kev = parse_kev(text, location)
        return store.import_kev(
            kev, name=label, source=origin, sha256=sha, file_time=file_time, imported_at=now
        )
    reader = {
        FeedKind.DEBIAN_TRACKER: read_debian_tracker,
        FeedKind.NVD: read_nvd,
        FeedKind.EPSS: read_epss,
        FeedKind.OSV: read_osv,
    }[kind]
    feed = reader(text, location)
    return store.import_feed(
        feed, name=label, source=origin, sha256=sha, file_time=file_time, imported_at=now
    )


def import_files(store: VulnStore, paths: Sequence[Path], *, now: datetime) -> ImportResult:
    result = ImportResult()
    for path in paths:
        try:
            result.imported.append(import_file(store, path, now=now))
        except SecauditError as e:
            result.errors.append(e)
    return result


def _fetch(url: str, into: Path, timeout: float) -> None:
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise UsageError(
            f"cannot fetch {url!r}: only http and https URLs", hint="name a mirror's http(s) URL"
        )
    request = urllib.request.Request(url, headers={"User-Agent": "secaudit-vuln-update"})  # noqa: S310 (scheme checked)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, into.open("wb") as out:  # noqa: S310
            total = 0
            while chunk := response.read(1 << 20):
                total += len(chunk)
                if total > MAX_BYTES:
                    raise OperationalError(f"{url}: more than {MAX_BYTES:,} bytes, not a feed")
                out.write(chunk)
    except urllib.error.HTTPError as e:
        e.close()  # the error holds the open response; keeping it open leaks a socket
        raise OperationalError(f"{url}: the server answered {e.code} {e.reason}", hint="check the URL") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise OperationalError(
            f"{url}: cannot download: {reason}",
            hint="check the mirror's address, or import a downloaded file",
        ) from e


def update(store: VulnStore, urls: Sequence[str], *, now: datetime, timeout: float = TIMEOUT) -> ImportResult:
    """Download each URL and import it; one failed URL does not stop the others."""
    result = ImportResult()
    with tempfile.TemporaryDirectory(prefix="secaudit-vuln-") as folder:
        for index, url in enumerate(urls):
            target = Path(folder) / f"feed-{index}"
            name = Path(urllib.parse.urlsplit(url).path).name or f"feed-{index}"
            try:
                _fetch(url, target, timeout)
                result.imported.append(import_file(store, target, now=now, name=name, source=url))
            except SecauditError as e:
                if isinstance(e, ConfigError) and e.location and e.location.startswith(str(target)):
                    e.location = url + e.location[len(str(target)) :]
                result.errors.append(e)
    return result
