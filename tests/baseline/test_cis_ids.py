"""Every ``cis:`` reference of every shipped baseline exists in the benchmark version it names, and
the check's declared profiles are that recommendation's: an auditor can cite what we report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from secaudit.baseline import baseline_ids, load_baseline
from secaudit.baseline.benchmarks import PREFIXES, benchmark, data_dir, resolve, split_reference
from secaudit.baseline.loader import load_baseline_file
from secaudit.core.errors import ConfigError

SHIPPED = baseline_ids()
# Benchmarks we hold no reference data for: their ids cannot be verified here (said in the README).
UNVERIFIED = {"Cisco IOS 17", "NGINX"}
SHARED = Path(__file__).resolve().parents[3] / "shared" / "cis"


@pytest.mark.parametrize("baseline_id", SHIPPED)
def test_every_cis_reference_exists_with_the_checks_profiles(baseline_id: str) -> None:
    baseline = load_baseline(baseline_id)
    wrong = []
    for check in baseline.checks:
        for ref in check.cis_ids:
            prefix, _ = split_reference(ref)
            bench, rec = resolve(ref)
            if bench is None:
                assert prefix in UNVERIFIED, f"{check.id}: unknown benchmark in '{ref}'"
                continue
            if rec is None:
                wrong.append((check.id, ref, "no such recommendation"))
            elif set(rec.profiles) != set(check.profiles):
                wrong.append((check.id, ref, f"{check.profiles} != {rec.profiles}"))
    assert wrong == []


@pytest.mark.parametrize("baseline_id", SHIPPED)
def test_checks_citing_a_known_benchmark_declare_their_profiles(baseline_id: str) -> None:
    path = Path(load_baseline(baseline_id).path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    silent = [
        c["id"]
        for c in data["checks"]
        if any(benchmark(split_reference(r)[0]) for r in (c.get("references") or {}).get("cis", []))
        and "profiles" not in c
    ]
    assert silent == []


@pytest.mark.parametrize("baseline_id", SHIPPED)
def test_a_level_1_run_holds_no_level_2_control(baseline_id: str) -> None:
    level1 = load_baseline(baseline_id).at_level(1)
    for check in level1.checks:
        assert check.level("server") == 1, check.id
        for ref in check.cis_ids:
            _, rec = resolve(ref)
            assert rec is None or rec.level("server") == 1, (check.id, ref)


def test_the_ids_that_were_wrong_now_cite_debian_12_v1_1_0() -> None:
    debian = load_baseline("debian12-server")
    cited = {c.id: c.cis_ids for c in debian.checks}
    assert cited["deb12-kmod-usb-storage-disabled"] == ("Debian 12 1.1.1.9",)
    assert cited["deb12-aide-installed"] == ("Debian 12 6.3.1",)
    assert cited["deb12-aide-scheduled"] == ("Debian 12 6.3.2",)
    assert cited["deb12-journald-persistent"] == ("Debian 12 6.1.2.4",)
    assert cited["deb12-journald-compress"] == ("Debian 12 6.1.2.3",)
    assert cited["deb12-rsyslog-enabled"] == ("Debian 12 6.1.3.2",)
    assert cited["deb12-rsyslog-file-mode"] == ("Debian 12 6.1.3.4",)
    # prelink and apport have no recommendation in v1.1.0: kept as our own checks, citing none
    assert cited["deb12-prelink-absent"] == cited["deb12-apport-absent"] == ()
    # Level 2 server controls are declared so and left out of a Level 1 run
    level1 = {c.id for c in debian.at_level(1).checks}
    for l2 in (
        "deb12-kmod-dccp-disabled",
        "deb12-gdm-absent",
        "ssh-forwarding-disabled",
        "deb12-pass-min-days",
    ):
        assert debian.check(l2) is not None and debian.check(l2).level("server") == 2  # type: ignore[union-attr]
        assert l2 not in level1
    assert {c.id for c in debian.at_level(2).checks} == {c.id for c in debian.checks}


def test_reference_data_counts() -> None:
    deb = benchmark("Debian 12")
    assert deb is not None
    assert len(deb.recommendations) == 310
    assert len(deb.scope(level=1, automated=False)) == 249
    assert len(deb.scope(level=1)) == 230
    u24 = benchmark("Ubuntu 24.04")
    assert u24 is not None and len(u24.scope(level=1)) == 232


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/cis (the transcription we copied from) not here")
def test_reference_data_matches_the_transcription() -> None:
    for key, _ in PREFIXES.values():
        ours = {
            line.split("\t")[0]: line.split("\t")[1]
            for line in (data_dir() / f"{key}.tsv").read_text(encoding="utf-8").splitlines()[4:]
        }
        theirs = {}
        for line in (SHARED / f"{key}.tsv").read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if line.startswith("#") or fields[0] == "id":
                continue
            theirs[fields[0]] = fields[1]
            # what counts as automated is CIS's own rating, the suffix of the title
            assert re.search(r"\((Automated|Manual)\)\s*$", fields[3]) or fields[2] != "manual"
        assert ours == theirs, key


def _write(tmp_path: Path, cis: str, profiles: str = "") -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(
        "id: mini\ntitle: t\nversion: '1'\napplies_to: x\nchecks:\n"
        "- id: mini-one\n  title: t\n  rationale: r\n  severity: low\n"
        f"{profiles}"
        f"  references: {{cis: ['{cis}']}}\n"
        "  probe: {type: file_exists, path: /etc/x}\n  expect: {present: true}\n  remediation: r\n",
        encoding="utf-8",
    )
    return path


def test_the_loader_refuses_an_id_the_benchmark_does_not_have(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_baseline_file(_write(tmp_path, "Debian 12 1.5.4"))
    assert "has no recommendation 1.5.4" in str(e.value)
    assert "mini.yaml:10" in str(e.value)  # the references line


def test_the_loader_refuses_profiles_that_differ_from_the_benchmark(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_baseline_file(_write(tmp_path, "Debian 12 3.2.1", "  profiles: [l1_server]\n"))
    assert "differ from the cited recommendation's: l2_server, l2_workstation" in str(e.value)
    derived = load_baseline_file(_write(tmp_path, "Debian 12 3.2.1"))
    assert derived.checks[0].profiles == ("l2_server", "l2_workstation")
    assert derived.at_level(1).checks == ()
