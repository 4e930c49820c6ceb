"""The feed store: imports replace what they should, bad files store nothing, KEV folded in,
`update` fetches only from the URLs named (here a loopback HTTP server serving the fixtures)."""

from __future__ import annotations

import bz2
import functools
import gzip
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from secaudit.core.errors import ConfigError, OperationalError
from secaudit.vuln.feeds import FeedKind
from secaudit.vuln.importer import import_files, update
from secaudit.vuln.store import VulnStore, default_store_path
from tests.vuln.helpers import DEMO_FEEDS, FEEDS, FIXTURES, NOW, filled_store


def test_default_store_sits_beside_the_kev_copy() -> None:
    assert default_store_path({"XDG_DATA_HOME": "/data"}) == Path("/data/secaudit/vuln.sqlite")


def test_import_every_demo_feed(tmp_path: Path) -> None:
    with VulnStore.open(filled_store(tmp_path / "v.sqlite")) as store:
        kinds = {f.kind: f for f in store.feeds()}
        assert set(kinds) == set(FeedKind) - {FeedKind.DEBIAN_OVAL, FeedKind.UBUNTU_OVAL, FeedKind.OSV}
        assert kinds[FeedKind.DEBIAN_TRACKER].dated_by == "file time"
        assert kinds[FeedKind.NVD].dated_by == "publisher"
        assert kinds[FeedKind.EPSS].version == "synthetic-demo-not-real-scores"
        assert store.releases() == ["bookworm", "bullseye", "sid"]
        fixes = store.distro_fixes("bookworm", ["openssh", "glibc"])
        assert ("CVE-2024-6387", "1:9.2p1-2+deb12u3", "resolved") in [
            (f.cve, f.fixed, f.status) for f in fixes["openssh"]
        ]
        kev = store.kev(["CVE-2023-4911", "CVE-2024-6387"])
        assert set(kev) == {"CVE-2023-4911"}
        assert kev["CVE-2023-4911"].due_date == date(2023, 12, 12)
        catalogue = store.kev_catalogue()
        assert catalogue is not None and catalogue.contains("CVE-2021-3156") and catalogue.count == 2
        assert store.epss(["CVE-2021-3156"])["CVE-2021-3156"].probability == 0.8


def test_reimport_replaces_tracker_and_keeps_other_feeds(tmp_path: Path) -> None:
    path = filled_store(tmp_path / "v.sqlite")
    with VulnStore.open(path) as store:
        result = import_files(store, [FIXTURES / "tracker-synthetic.json"], now=NOW)
        assert not result.errors
        assert store.distro_fixes("bookworm", ["openssh"]) == {}  # the demo tracker was replaced
        assert "synth-epoch" in store.distro_fixes("bookworm", ["synth-epoch"])
        assert store.cve_info(["CVE-2024-6387"])  # NVD untouched
        assert [f.name for f in store.feeds() if f.kind is FeedKind.DEBIAN_TRACKER] == [
            "tracker-synthetic.json"
        ]


def test_a_refused_file_stores_nothing_and_the_others_still_import(tmp_path: Path) -> None:
    broken = tmp_path / "tracker.json"
    data = json.loads((FEEDS / "debian-tracker.json").read_text())
    data["openssh"]["CVE-2024-6387"]["releases"]["bookworm"]["status"] = "patched"
    broken.write_text(json.dumps(data, indent=1))
    with VulnStore.open(tmp_path / "v.sqlite") as store:
        result = import_files(store, [broken, FEEDS / "epss-synthetic.csv"], now=NOW)
        assert [f.kind for f in result.imported] == [FeedKind.EPSS]
        assert len(result.errors) == 1 and isinstance(result.errors[0], ConfigError)
        assert str(result.errors[0].location).startswith(f"{broken}:")
        assert store.distro_fixes("bookworm", ["openssh"]) == {}


def test_gzip_feed_is_read(tmp_path: Path) -> None:
    packed = tmp_path / "epss.csv.gz"
    packed.write_bytes(gzip.compress((FEEDS / "epss-synthetic.csv").read_bytes()))
    with VulnStore.open(tmp_path / "v.sqlite") as store:
        result = import_files(store, [packed], now=NOW)
        assert [f.kind for f in result.imported] == [FeedKind.EPSS] and not result.errors


def test_missing_store_is_an_operational_error(tmp_path: Path) -> None:
    with (
        pytest.raises(OperationalError, match="no vulnerability feed store"),
        VulnStore.open(tmp_path / "none.sqlite", create=False),
    ):
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[str]:
    """A loopback HTTP server serving copies of the demo feeds."""
    root = tmp_path / "mirror"
    root.mkdir()
    for path in DEMO_FEEDS:
        shutil.copy(path, root / path.name)
    for oval in ("oval-definitions-bookworm.xml", "com.ubuntu.jammy.cve.oval.xml"):  # bz2, as published
        (root / f"{oval}.bz2").write_bytes(bz2.compress((FIXTURES / oval).read_bytes()))
    shutil.copy(FIXTURES / "osv-pypi.json", root / "osv-pypi.json")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def test_update_fetches_the_named_urls_from_a_loopback_mirror(tmp_path: Path, mirror: str) -> None:
    ovals = [f"{mirror}/oval-definitions-bookworm.xml.bz2", f"{mirror}/com.ubuntu.jammy.cve.oval.xml.bz2"]
    urls = [f"{mirror}/{p.name}" for p in DEMO_FEEDS] + [
        *ovals,
        f"{mirror}/osv-pypi.json",
        f"{mirror}/missing.json",
    ]
    with VulnStore.open(tmp_path / "v.sqlite") as store:
        result = update(store, urls, now=NOW, timeout=10)
        assert {f.kind for f in result.imported} == set(FeedKind)
        assert store.releases(FeedKind.UBUNTU_OVAL) == ["jammy"]
        assert all(f.source.startswith(mirror) for f in result.imported)
        assert len(result.errors) == 1 and "404" in str(result.errors[0])
        assert "CVE-2024-6387" in store.cve_info(["CVE-2024-6387"])


def test_update_refuses_other_schemes(tmp_path: Path) -> None:
    with VulnStore.open(tmp_path / "v.sqlite") as store:
        result = update(store, ["file:///etc/passwd"], now=NOW)
    assert not result.imported and "only http and https" in str(result.errors[0])
