"""The user-supplied KEV catalogue: CISA's JSON shape validated with file:line, a compact copy stored
in the data dir, read back the same. Every catalogue here is synthetic (tests/risk/kev_files.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from secaudit.catalog.kev import (
    STALE_AFTER,
    KevEntry,
    default_kev_path,
    import_kev,
    load_kev,
    parse_kev,
    read_kev,
)
from secaudit.core.errors import ConfigError, ExitCode
from tests.risk.kev_files import catalogue, entry, write

NOW = datetime(2099, 1, 10, 12, 0, tzinfo=UTC)


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """The line of the ``nth`` line of ``path`` containing ``needle``."""
    hits = [n for n, text in enumerate(path.read_text().splitlines(), start=1) if needle in text]
    return hits[nth - 1]


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def test_the_default_place_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_kev_path({"XDG_DATA_HOME": "/srv/data"}) == Path("/srv/data/secaudit/kev.json")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # Unset, empty or relative XDG_DATA_HOME: the XDG default under the home folder.
    for env in ({}, {"XDG_DATA_HOME": ""}, {"XDG_DATA_HOME": "rel/data"}):
        assert default_kev_path(env) == tmp_path / "home" / ".local" / "share" / "secaudit" / "kev.json"


def test_a_cisa_shaped_catalogue_reads_whole(tmp_path: Path) -> None:
    path = write(tmp_path / "known_exploited_vulnerabilities.json", catalogue())
    kev = read_kev(path)
    assert kev.version == "2099.01.02"
    assert kev.date == datetime(2099, 1, 2, 15, 0, 1, 123400, tzinfo=UTC)
    assert kev.count == 3 and sorted(kev.entries) == ["CVE-2099-0001", "CVE-2099-0002", "CVE-2099-0003"]
    assert kev.contains("CVE-2099-0002") and kev.contains(" cve-2099-0002 ")
    assert not kev.contains("CVE-2099-0004") and not kev.contains("")
    assert kev.get("cve-2099-0001") == KevEntry(
        cve="CVE-2099-0001",
        vendor="Example Vendor (synthetic)",
        product="Widget 1",
        name="Example Widget 1 synthetic flaw",
        date_added=date(2099, 1, 1),
        ransomware="Known",
        due_date=date(2099, 2, 1),
    )
    assert kev.label == "KEV 2099.01.02"
    assert kev.description == "KEV 2099.01.02, released 2099-01-02"
    assert kev.path == str(path) and kev.imported_at is None


def test_fields_cisa_may_add_later_are_accepted_and_a_cve_listed_twice_is_kept_once(tmp_path: Path) -> None:
    data = catalogue(entry(1, epss="0.97"), entry(1, added="2099-01-05"), entry(2))
    data["schemaVersion"] = "9.9"
    older_release = catalogue(entry(1), released="2099-01-02")  # no time, no zone: midnight UTC
    kev = read_kev(write(tmp_path / "k.json", data))
    assert kev.count == 2 and kev.get("CVE-2099-0001") is not None
    assert kev.get("CVE-2099-0001").date_added == date(2099, 1, 1)  # type: ignore[union-attr]
    assert read_kev(write(tmp_path / "d.json", older_release)).date == datetime(2099, 1, 2, tzinfo=UTC)
    # Catalogues from before CISA added knownRansomwareCampaignUse still read.
    old = entry(3)
    del old["knownRansomwareCampaignUse"], old["cwes"], old["notes"]
    assert read_kev(write(tmp_path / "o.json", catalogue(old))).get("CVE-2099-0003").ransomware == "Unknown"  # type: ignore[union-attr]


def test_import_stores_a_compact_copy_that_reads_back_the_same(tmp_path: Path, data_home: Path) -> None:
    many = [entry(n) for n in range(1, 41)]
    source = write(tmp_path / "dl" / "known_exploited_vulnerabilities.json", catalogue(*many))
    stored = import_kev(source, now=NOW)
    target = data_home / "secaudit" / "kev.json"
    assert stored.path == str(target)
    loaded = load_kev()
    assert loaded is not None
    original = read_kev(source)
    assert loaded == original and dict(loaded.entries) == dict(original.entries)
    assert loaded.imported_at == NOW and loaded.source == str(source.resolve())
    assert loaded.source_sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    # Compact: only the fields secaudit reads, one entry per line, still CISA's shape.
    text = target.read_text()
    data = json.loads(text)
    assert data["catalogVersion"] == "2099.01.02" and data["count"] == 40
    assert set(data["vulnerabilities"][0]) == {
        "cveID",
        "vendorProject",
        "product",
        "vulnerabilityName",
        "dateAdded",
        "knownRansomwareCampaignUse",
        "dueDate",
    }
    assert [line.count("cveID") for line in text.splitlines() if "CVE-2099" in line] == [1] * 40
    assert len(text) < len(source.read_text()) / 2
    # No temporary file is left beside it.
    assert sorted(p.name for p in target.parent.iterdir()) == ["kev.json"]


def test_import_to_an_explicit_path_and_load_it_there(tmp_path: Path) -> None:
    source = write(tmp_path / "k.json", catalogue(entry(7)))
    target = tmp_path / "var" / "lib" / "secaudit" / "kev.json"
    import_kev(source, target, now=NOW)
    assert load_kev() is None  # the default place holds nothing
    kev = load_kev(target)
    assert kev is not None and kev.contains("CVE-2099-0007")


def test_without_a_catalogue_there_is_none_but_a_named_missing_file_is_an_error(tmp_path: Path) -> None:
    assert load_kev() is None
    with pytest.raises(ConfigError) as caught:
        load_kev(tmp_path / "nowhere.json")
    assert caught.value.location == str(tmp_path / "nowhere.json")
    assert "secaudit kev import" in (caught.value.hint or "")
    assert caught.value.exit_code is ExitCode.USAGE


def test_age_and_staleness() -> None:
    kev = parse_kev(json.dumps(catalogue(released="2099-01-01T00:00:00Z")), "k.json")
    assert kev.age(datetime(2099, 1, 31, tzinfo=UTC)) == STALE_AFTER
    assert not kev.stale(datetime(2099, 1, 31, tzinfo=UTC))
    assert kev.stale(datetime(2099, 1, 31, tzinfo=UTC) + timedelta(seconds=1))


def _problem(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "known_exploited_vulnerabilities.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_kev(path)
    return caught.value


def test_not_json_names_the_line(tmp_path: Path) -> None:
    text = json.dumps(catalogue(), indent=4).replace('"product": "Widget 2",', '"product": "Widget 2"', 1)
    error = _problem(tmp_path, text)
    path = tmp_path / "known_exploited_vulnerabilities.json"
    assert error.location == f"{path}:{line_of(path, 'Widget 2') + 1}"
    assert error.message.startswith("not valid JSON: Expecting ',' delimiter")


def test_a_saved_web_page_says_so(tmp_path: Path) -> None:
    error = _problem(tmp_path, "<!DOCTYPE html>\n<html><body>Access denied</body></html>\n")
    assert error.location is not None and error.location.endswith(":1")
    assert "web page" in (error.hint or "") and "known_exploited_vulnerabilities.json" in (error.hint or "")


def test_bytes_that_are_not_utf8_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_bytes(b'{\n "catalogVersion": "x",\n "bad": "\xff"\n}\n')
    with pytest.raises(ConfigError) as caught:
        read_kev(path)
    assert caught.value.location == f"{path}:3" and "not UTF-8" in caught.value.message


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        (lambda d: d.pop("catalogVersion"), None, "'catalogVersion' must be non-empty text, got None"),
        (lambda d: d.update(catalogVersion=""), '"catalogVersion"', "'catalogVersion' must be non-empty"),
        (
            lambda d: d.update(dateReleased="yesterday"),
            '"dateReleased"',
            "'dateReleased' must be an ISO 8601",
        ),
        (lambda d: d.update(count=2), '"count"', "'count' says 2 entries but 'vulnerabilities' holds 3"),
        (lambda d: d.update(count="3"), '"count"', "'count' must be a whole number, got '3'"),
        (lambda d: d.update(vulnerabilities={}), '"vulnerabilities"', "'vulnerabilities' must be the list"),
        (
            lambda d: d["vulnerabilities"][1].update(cveID="CVE-99-1"),
            '"CVE-99-1"',
            "vulnerabilities[1] (CVE-99-1): 'cveID' must be a CVE id (CVE-YYYY-NNNN), got 'CVE-99-1'",
        ),
        (
            lambda d: d["vulnerabilities"][2].update(dateAdded="2099-02-30"),
            '"2099-02-30"',
            "vulnerabilities[2] (CVE-2099-0003): 'dateAdded' must be a date YYYY-MM-DD, got '2099-02-30'",
        ),
        (
            lambda d: d["vulnerabilities"][0].update(product=7),
            '"product": 7',
            "vulnerabilities[0] (CVE-2099-0001): 'product' is missing or not text",
        ),
        (
            lambda d: d["vulnerabilities"][1].update(cwes="CWE-78"),
            '"cwes": "CWE-78"',
            "vulnerabilities[1] (CVE-2099-0002): 'cwes' must be a list of CWE ids",
        ),
    ],
)
def test_each_problem_names_its_line(tmp_path: Path, change, needle: str | None, message: str) -> None:  # type: ignore[no-untyped-def]
    data = catalogue()
    change(data)
    path = write(tmp_path / "known_exploited_vulnerabilities.json", data)
    with pytest.raises(ConfigError) as caught:
        read_kev(path)
    line = line_of(path, needle) if needle else 1
    assert caught.value.location == f"{path}:{line}"
    assert caught.value.message.startswith(message)
    assert "known_exploited_vulnerabilities.json" in (caught.value.hint or "")


def test_an_entry_without_a_key_points_at_the_entry(tmp_path: Path) -> None:
    broken = entry(2)
    del broken["vendorProject"]
    path = write(tmp_path / "k.json", catalogue(entry(1), broken))
    with pytest.raises(ConfigError) as caught:
        read_kev(path)
    # The entry's opening brace: the line before its cveID.
    assert caught.value.location == f"{path}:{line_of(path, 'CVE-2099-0002') - 1}"
    assert "vulnerabilities[1] (CVE-2099-0002): 'vendorProject' is missing" in caught.value.message


def test_every_problem_is_listed_and_nothing_is_stored(tmp_path: Path, data_home: Path) -> None:
    good = write(tmp_path / "good.json", catalogue(entry(1)))
    import_kev(good, now=NOW)
    before = (data_home / "secaudit" / "kev.json").read_bytes()
    items = [entry(n) for n in range(1, 15)]
    for item in items[1:]:
        item["dateAdded"] = "soon"
    path = write(tmp_path / "bad.json", catalogue(*items))
    with pytest.raises(ConfigError) as caught:
        import_kev(path, now=NOW)
    message = caught.value.message
    assert "(13 problems, the catalogue is refused whole)" in message
    soon = '"soon"'
    assert caught.value.location == f"{path}:{line_of(path, soon, 1)}"
    assert f"{path}:{line_of(path, soon, 2)}: vulnerabilities[2] (CVE-2099-0003)" in message
    assert message.endswith("... and 3 more")
    assert (data_home / "secaudit" / "kev.json").read_bytes() == before
    assert sorted(p.name for p in (data_home / "secaudit").iterdir()) == ["kev.json"]


def test_an_edited_copy_is_refused_when_loaded(tmp_path: Path, data_home: Path) -> None:
    import_kev(write(tmp_path / "k.json", catalogue()), now=NOW)
    target = data_home / "secaudit" / "kev.json"
    lines = target.read_text().splitlines()
    cut = [line for line in lines if "CVE-2099-0003" not in line]
    cut[-3] = cut[-3].rstrip(",")  # keep it valid JSON: a hand-deleted entry
    target.write_text("\n".join(cut) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_kev()
    count = '"count"'
    assert caught.value.location == f"{target}:{line_of(target, count)}"
    assert "'count' says 3 entries but 'vulnerabilities' holds 2" in caught.value.message


def test_a_folder_or_a_huge_file_is_not_a_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="folder"):
        read_kev(tmp_path)
    path = write(tmp_path / "k.json", catalogue())
    monkeypatch.setattr("secaudit.catalog.kev.MAX_BYTES", 100)
    with pytest.raises(ConfigError, match="far larger"):
        read_kev(path)
