"""The audit profile: the demo loads, and every kind of broken profile names file:line and the fix."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.catalog.profile import load_profile
from secaudit.core.errors import ConfigError, ExitCode
from secaudit.core.model import Criticality, SegmentKind
from tests.conftest import DEMO_PROFILE

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_demo_profile_loads_with_derived_values() -> None:
    profile = load_profile(DEMO_PROFILE, now=NOW)
    assert profile.organisation.startswith("Phuket")
    names = [s.name for s in profile.segments]
    assert names == ["command-center", "traffic-control", "cctv", "city-data", "dmz", "mgmt"]
    tc = profile.segment("traffic-control")
    assert tc is not None and tc.kind is SegmentKind.OT and tc.scan_profile == "ot-safe"
    assert tc.criticality is Criticality.PUBLIC_SAFETY_CRITICAL
    assert tc.exclusions == (ipaddress.ip_network("127.20.2.14/32"),)
    cctv = profile.segment("cctv")
    assert cctv is not None and cctv.scan_profile == "ot-safe"  # default for cctv
    signal = profile.asset("signal-ctl-01")
    assert signal is not None and signal.segment == "traffic-control"
    # every network of the demo is loopback: the demo never sends a packet elsewhere
    assert all(net.is_loopback for s in profile.segments for net in s.cidrs)
    for target in profile.baseline_targets:
        if target.target.startswith(("offline:", "file:")):
            assert Path(target.target.split(":", 1)[1]).exists(), target.target


BASE = """\
version: 1
organisation: Test City
authorization:
  reference: AUTH-1
  approver: Someone
  valid_from: 2026-01-01
  valid_until: 2027-01-01
segments:
  - name: a
    cidrs: [10.1.0.0/24]
    kind: it
    owner: IT
    criticality: high
    exclusions: [10.1.0.5/32]
  - name: b
    cidrs: [10.2.0.0/24]
    kind: ot
    owner: OT
    criticality: public-safety critical
assets:
  - name: h1
    address: 10.1.0.10
    role: server
    criticality: low
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def test_minimal_profile_loads(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, BASE), now=NOW)
    assert profile.segment_of("10.2.0.7") is profile.segment("b")
    assert profile.segment_of("192.0.2.1") is None
    assert profile.assets[0].segment == "a"
    assert profile.authorization.valid_until == datetime(2027, 1, 1, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("old", "new", "line", "message", "hint"),
    [
        ("kind: ot", "kind: scada", 17, "unknown kind 'scada'", "use one of: it, ot, cctv, dmz, mgmt"),
        (
            "10.2.0.0/24",
            "10.2.0.1/24",
            16,
            "'10.2.0.1/24' is not a valid network",
            "did you mean 10.2.0.0/24",
        ),
        ("10.2.0.0/24", "10.2.0/33", 16, "is not a valid network", "CIDR such as"),
        (
            "    owner: OT",
            "    ownr: OT",
            18,
            "unknown key 'ownr' in segment (did you mean 'owner'?)",
            "allowed",
        ),
        ("  - name: b", "  - name: a", 15, "duplicate segment name 'a' (first at line 9)", "rename"),
        ("valid_until: 2027-01-01", "valid_until: 2026-06-01", 7, "AUTH-1 expired on 2026-06-01", "renew"),
        ("[10.1.0.5/32]", "[10.3.0.5/32]", 14, "exclusion 10.3.0.5/32 is not inside", "fix"),
        (
            "criticality: low",
            "criticality: lowest",
            24,
            "unknown criticality 'lowest'",
            "public-safety-critical",
        ),
        ("address: 10.1.0.10", "address: ten", 22, "'ten' is not an IP address", "hostname"),
        (
            "organisation: Test City",
            "organisation: Test City\nsegmentz: []",
            3,
            "did you mean 'segments'",
            None,
        ),
        (
            "    role: server",
            "    role: server\n    segment: c",
            24,
            "unknown segment 'c'",
            "use one of: a, b",
        ),
        ("    role: server", "    role: server\n    segment: b", 24, "lies in segment 'a', not 'b'", None),
        ("[10.2.0.0/24]", "[10.1.0.0/24]", 16, "already the CIDR of segment 'a'", None),
    ],
)
def test_broken_profiles_name_file_line_and_fix(
    tmp_path: Path, old: str, new: str, line: int, message: str, hint: str | None
) -> None:
    assert old in BASE
    path = _write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_profile(path, now=NOW)
    err = info.value
    assert err.exit_code is ExitCode.USAGE
    assert err.location == f"{path}:{line}", str(err)
    assert message in err.message, str(err)
    if hint:
        assert err.hint and hint in err.hint, str(err)


def test_duplicate_key_and_invalid_yaml(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("    owner: IT\n", "    owner: IT\n    owner: Ops\n", 1))
    with pytest.raises(ConfigError, match="duplicate key 'owner'") as info:
        load_profile(path, now=NOW)
    assert info.value.location == f"{path}:13"
    path = _write(tmp_path, BASE.replace("kind: it", "kind: [it", 1))
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_profile(path, now=NOW)


def test_expired_authorization_may_be_read_for_history(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    later = datetime(2028, 1, 1, tzinfo=UTC)
    with pytest.raises(ConfigError, match="expired"):
        load_profile(path, now=later)
    assert load_profile(path, now=later, require_valid_authorization=False).organisation == "Test City"


def test_naive_datetime_and_deep_without_window_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("valid_from: 2026-01-01", "valid_from: 2026-01-01T08:00:00"))
    with pytest.raises(ConfigError, match="no time zone"):
        load_profile(path, now=NOW)
    path = _write(
        tmp_path,
        BASE.replace("    criticality: high\n", "    criticality: high\n    scan_profile: deep\n", 1),
    )
    with pytest.raises(ConfigError, match="no maintenance window"):
        load_profile(path, now=NOW)


def test_relative_content_paths_resolve_against_the_profile(tmp_path: Path) -> None:
    (tmp_path / "snap").mkdir()
    text = BASE + "baseline_targets:\n  - target: offline:snap\n    baselines: [x]\n    asset: h1\n"
    profile = load_profile(_write(tmp_path, text), now=NOW)
    assert profile.baseline_targets[0].target == f"offline:{tmp_path / 'snap'}"
    text = BASE + "baseline_targets:\n  - target: offline:snap\n    baselines: [x]\n    asset: h2\n"
    with pytest.raises(ConfigError, match="unknown asset 'h2'"):
        load_profile(_write(tmp_path, text), now=NOW)


def test_detection_settings_load_and_bad_ones_name_their_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    text = (
        BASE
        + "detection:\n  rules: [rules]\n  placeholders:\n    ot_engineering_workstations: [10.2.0.5, 10.2.0.6]\n"
    )
    text += "    '%jump_hosts%': 10.1.0.9\n"
    profile = load_profile(_write(tmp_path, text), now=NOW)
    assert profile.detection.rules == (str(rules.resolve()),)
    assert profile.detection.placeholders == (
        ("ot_engineering_workstations", ("10.2.0.5", "10.2.0.6")),
        ("jump_hosts", ("10.1.0.9",)),
    )
    broken = {
        "detection:\n  rules: [missing]\n": (26, "rules path does not exist"),
        "detection:\n  placeholders:\n    hosts: []\n": (27, "placeholder 'hosts' needs a value"),
        "detection:\n  rule: [rules]\n": (26, "did you mean 'rules'"),
    }
    for extra, (line, message) in broken.items():
        path = _write(tmp_path, BASE + extra)
        with pytest.raises(ConfigError) as info:
            load_profile(path, now=NOW)
        assert info.value.location == f"{path}:{line}", str(info.value)
        assert message in str(info.value)


def test_log_source_format_is_checked_against_the_registered_formats(tmp_path: Path) -> None:
    source = "log_sources:\n  - name: fw\n    paths: [fw.log]\n    format: {}\n"
    profile = load_profile(_write(tmp_path, BASE + source.format("zeek-tsv")), now=NOW)
    assert profile.log_sources[0].format == "zeek-tsv"
    with pytest.raises(ConfigError) as info:
        load_profile(_write(tmp_path, BASE + source.format("zeek-tvs")), now=NOW)
    assert "did you mean 'zeek-tsv'" in str(info.value)


def test_baseline_waivers_path_resolves_or_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "waivers.yaml").write_text("version: 1\nwaivers: []\n")
    profile = load_profile(_write(tmp_path, BASE + "baseline_waivers: waivers.yaml\n"), now=NOW)
    assert profile.baseline_waivers == str((tmp_path / "waivers.yaml").resolve())
    path = _write(tmp_path, BASE + "baseline_waivers: nope.yaml\n")
    with pytest.raises(ConfigError) as info:
        load_profile(path, now=NOW)
    assert info.value.location == f"{path}:25"
    assert "waivers file not found" in info.value.message
    demo = load_profile(DEMO_PROFILE, now=NOW)
    assert Path(demo.baseline_waivers).name == "waivers.yaml"
