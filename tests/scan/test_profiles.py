from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.core.errors import ConfigError, OperationalError
from secaudit.scan import ALLOWED_SCRIPTS, PROFILES, build_args, check_args, find_nmap


def args_for(name: str, *, privileged: bool = True, ipv6: bool = False) -> tuple[list[str], tuple[str, ...]]:
    plan = build_args(
        PROFILES[name],
        targets_file=Path("/run/x/seg.targets"),
        exclude_file=Path("/run/x/seg.exclude"),
        ipv6=ipv6,
        privileged=privileged,
    )
    return list(plan.args), plan.notes


def value(args: list[str], option: str) -> str:
    return args[args.index(option) + 1]


def test_ot_safe_has_no_version_or_os_detection_and_only_read_only_scripts() -> None:
    args, notes = args_for("ot-safe")
    assert "-sV" not in args and "-O" not in args
    assert value(args, "--script").split(",") == [
        "modbus-discover",
        "s7-info",
        "enip-info",
        "bacnet-info",
        "snmp-info",
        "snmp-sysdescr",
    ]
    ports = value(args, "-p")
    for port in ("102", "502", "1883", "2404", "4840", "8883", "20000", "44818", "1911", "4911"):
        assert port in ports.split(":")[1].split(",")
    assert ports.endswith("U:161,2222,47808")
    assert value(args, "--max-parallelism") == "1"
    assert value(args, "--scan-delay") == "50ms"
    assert value(args, "--max-rate") == "20"
    assert args[:3] == ["-n", "--reason", "--noninteractive"]  # -n: no DNS traffic, ever
    assert value(args, "-iL") == "/run/x/seg.targets"
    assert value(args, "--excludefile") == "/run/x/seg.exclude"
    assert notes == ()


def test_standard_adds_light_version_detection_and_safe_scripts() -> None:
    args, _ = args_for("standard")
    assert "-sV" in args and "--version-light" in args
    assert set(value(args, "--script").split(",")) >= {"ssl-enum-ciphers", "ssh2-enum-algos", "http-title"}
    assert value(args, "-p").startswith("T:1-1024,")


def test_without_root_connect_scans_and_says_what_needs_root() -> None:
    args, notes = args_for("deep", privileged=False)
    assert "-sT" in args and "-sS" not in args and "-sU" not in args and "-O" not in args
    assert "U:" not in value(args, "-p")
    assert any("UDP ports" in n and "root" in n for n in notes)
    assert any("OS detection skipped" in n for n in notes)
    assert "-6" in args_for("standard", ipv6=True)[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-oN", "/etc/passwd"], "'-oN' is not allowed"),
        (["--script", "vuln"], "not in the read-only allow-list"),
        (["--script", "modbus-discover,broadcast-dhcp-discover"], "broadcast-dhcp-discover"),
        (["--script=all"], "not allowed"),
        (["-p", "22;id"], "not allowed"),
        (["-iL", "-"], "not allowed"),
        (["--scan-delay"], "needs a value"),
        (["10.0.0.1"], "not allowed"),
        (["--datadir", "/tmp"], "not allowed"),
    ],
)
def test_allow_list_refuses_everything_else(args: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        check_args(args)


def test_every_profile_script_is_allowed() -> None:
    for profile in PROFILES.values():
        assert set(profile.scripts) <= ALLOWED_SCRIPTS


def test_missing_nmap_is_operational_with_install_hint() -> None:
    with pytest.raises(OperationalError) as info:
        find_nmap("nmap-not-installed-here")
    assert info.value.exit_code == 3
    assert "apt-get install -y nmap" in (info.value.hint or "")
