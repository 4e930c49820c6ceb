"""Feed readers: the published shapes accepted, problems refused whole with file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secaudit.core.errors import ConfigError
from secaudit.vuln.feeds import FeedKind, detect_kind, read_debian_tracker, read_epss, read_nvd
from tests.vuln.helpers import FEEDS, FIXTURES


def test_debian_tracker_keeps_fixed_and_open_and_drops_never_affected() -> None:
    text = (FIXTURES / "tracker-synthetic.json").read_text()
    feed = read_debian_tracker(text, "tracker.json")
    by_key = {(f.release, f.package, f.cve): f for f in feed.fixes}
    assert by_key[("bookworm", "synth-epoch", "CVE-2099-0001")].fixed == "1:1.0-1"
    assert by_key[("bookworm", "synth-nofix", "CVE-2099-0003")].fixed is None
    assert by_key[("bookworm", "synth-nofix", "CVE-2099-0003")].status == "open"
    assert by_key[("bookworm", "synth-nofix", "CVE-2099-0004")].status == "undetermined"
    assert ("bullseye", "synth-tilde", "CVE-2099-0002") not in by_key  # fixed_version "0"
    assert feed.skipped == 1  # the TEMP- id
    assert feed.published is None


def test_debian_tracker_real_records() -> None:
    feed = read_debian_tracker((FEEDS / "debian-tracker.json").read_text(), "t.json")
    fixes = {(f.release, f.package, f.cve): f.fixed for f in feed.fixes}
    assert fixes[("bookworm", "openssh", "CVE-2024-6387")] == "1:9.2p1-2+deb12u3"
    assert ("bullseye", "openssh", "CVE-2024-6387") not in fixes  # bullseye was never affected


def test_debian_tracker_problem_names_the_line_and_refuses_the_file() -> None:
    data = json.loads((FIXTURES / "tracker-synthetic.json").read_text())
    data["synth-nofix"]["CVE-2099-0003"]["releases"]["bookworm"]["status"] = "fixed"
    data["synth-epoch"]["CVE-2099-0001"]["releases"]["bookworm"]["fixed_version"] = 7
    text = json.dumps(data, indent=1)
    with pytest.raises(ConfigError) as caught:
        read_debian_tracker(text, "tracker.json")
    error = caught.value
    lines = text.splitlines()
    bad = next(n for n, line in enumerate(lines, 1) if '"fixed_version": 7' in line)
    assert error.location is not None
    assert "2 problems, the feed is refused whole" in str(error)
    assert "status 'fixed'" in str(error)
    # each problem points at the release's line or just before it
    where = int(error.location.rsplit(":", 1)[1])
    assert abs(where - bad) <= 3


def test_not_json_says_where() -> None:
    with pytest.raises(ConfigError, match="not valid JSON") as caught:
        read_debian_tracker('{"a": {\n  "CVE-2099-0001": [1,\n}', "broken.json")
    assert caught.value.location == "broken.json:3"


def test_nvd_reads_score_vector_cwe_and_ranges() -> None:
    feed = read_nvd((FEEDS / "nvd-cves.json").read_text(), "nvd.json")
    info = {c.cve: c for c in feed.cves}
    assert info["CVE-2024-6387"].score == 8.1
    assert info["CVE-2024-6387"].vector == "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert info["CVE-2024-6387"].cwes == ("CWE-364",)
    ranges = [
        (r.vendor, r.product, r.start_incl, r.end_excl) for r in feed.ranges if r.cve == "CVE-2024-6387"
    ]
    assert ("openbsd", "openssh", "8.5", "9.8") in ranges
    assert feed.published is not None and feed.published.year == 2026


def test_nvd_rejected_is_withdrawn_and_running_on_platforms_are_not_ranges() -> None:
    feed = read_nvd((FIXTURES / "nvd-synthetic.json").read_text(), "nvd.json")
    info = {c.cve: c for c in feed.cves}
    assert info["CVE-2099-0005"].withdrawn and not info["CVE-2099-0003"].withdrawn
    assert {(r.product, r.version) for r in feed.ranges} == {("synthd", "*"), ("synthd", "1.5")}


def test_nvd_bad_score_is_refused() -> None:
    data = json.loads((FIXTURES / "nvd-synthetic.json").read_text())
    data["vulnerabilities"][0]["cve"]["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = 12
    with pytest.raises(ConfigError, match=r"baseScore must be 0\.\.10"):
        read_nvd(json.dumps(data, indent=1), "nvd.json")


def test_epss_reads_model_and_date() -> None:
    feed = read_epss((FEEDS / "epss-synthetic.csv").read_text(), "epss.csv")
    assert feed.version == "synthetic-demo-not-real-scores"
    assert feed.published is not None and feed.published.isoformat().startswith("2026-12-07")
    assert {e.cve: e.probability for e in feed.epss}["CVE-2021-3156"] == 0.8


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("#model_version:v1,score_date:2026-12-07T00:00:00+0000\ncve,epss\n", "epss.csv:2", "header"),
        ("cve,epss,percentile\nCVE-2099-0001,1.5,0.2\n", "epss.csv:2", "0..1"),
        ("cve,epss,percentile\nCVE-2099-0001,0.5,0.2\nnot-a-cve,0.1,0.1\n", "epss.csv:3", "CVE-id"),
    ],
)
def test_epss_problems_name_the_line(text: str, where: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        read_epss(text, "epss.csv")
    assert caught.value.location == where


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("debian-tracker.json", FeedKind.DEBIAN_TRACKER),
        ("nvd-cves.json", FeedKind.NVD),
        ("known_exploited_vulnerabilities.json", FeedKind.KEV),
        ("epss-synthetic.csv", FeedKind.EPSS),
    ],
)
def test_kind_is_recognised_from_content(name: str, kind: FeedKind) -> None:
    assert detect_kind((FEEDS / name).read_text(), name) is kind


def test_unknown_content_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a feed secaudit reads"):
        detect_kind("<html>", "page.html")


def test_nvd_items_are_read_one_by_one_and_the_envelope_still_checked() -> None:
    text = (FEEDS / "nvd-cves.json").read_text()
    whole = read_nvd(text, "nvd.json")
    compact = json.dumps(json.loads(text), separators=(",", ":"))  # no whitespace at all
    assert [c.cve for c in read_nvd(compact, "nvd.json").cves] == [c.cve for c in whole.cves]
    # the envelope after the items is read too
    moved = json.loads(text)
    moved = {"vulnerabilities": moved.pop("vulnerabilities"), **moved, "format": "NVD_CPE"}
    with pytest.raises(ConfigError, match="format 'NVD_CPE' is not NVD_CVE"):
        read_nvd(json.dumps(moved, indent=1), "nvd.json")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ('{"vulnerabilities": [{"cve": {"id": "CVE-2024-0001"}} {"cve": {}}]}', "expected ',' or ']'"),
        ('{"vulnerabilities": [{"cve": {"id": "CVE-2024-0001"}},\n{"cve": ]}', "Expecting value"),
    ],
)
def test_nvd_bad_separators_are_refused_with_the_line(broken: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        read_nvd(broken, "nvd.json")
    assert caught.value.location == f"nvd.json:{broken.count(chr(10)) + 1}"
