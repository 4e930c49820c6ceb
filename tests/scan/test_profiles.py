from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.core.errors import ConfigError, OperationalError
from secaudit.scan import ALLOWED_SCRIPTS, PROFILES, build_args, check_args, find_nmap
from secaudit.scan.profiles import SCRIPT_ARGS, SNMP_COMMUNITIES_FILE, build_discovery_args, snmp_communities


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
        (["-PS"], "not allowed"),
        (["-PS80,x"], "not allowed"),
        (["-PS80;id"], "not allowed"),
        (["-PA80"], "not allowed"),
        # snmp-brute only with the shipped short community list, never nmap's own list
        (["--script", "snmp-brute"], "--script-args '\\(none\\)' is not the one allowed"),
        (["--script", "snmp-brute", "--script-args", "snmp-brute.communitiesdb=/etc/x"], "not the one"),
        (["--script", "snmp-info", "--script-args", SCRIPT_ARGS["snmp-brute"]], "not the one"),
        (["--script-args", "unpwdb.passlimit=100000"], "not the one"),
        (["--script-args"], "needs a value"),
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


def _ping(name: str, *, local: bool, privileged: bool = True, ipv6: bool = False) -> list[str]:
    plan = build_discovery_args(
        PROFILES[name],
        targets_file=Path("/run/x/seg.targets"),
        exclude_file=Path("/run/x/seg.exclude"),
        ipv6=ipv6,
        privileged=privileged,
        local=local,
    )
    return list(plan.args)


def test_discovery_on_a_local_segment_asks_by_arp_with_short_timeouts() -> None:
    args = _ping("ot-safe", local=True)
    assert args[:4] == ["-n", "--reason", "--noninteractive", "-sn"]
    assert "-PR" in args and value(args, "--max-rtt-timeout") == "250ms"
    assert value(args, "--initial-rtt-timeout") == "100ms"
    assert value(args, "--max-rate") == "20" and value(args, "--scan-delay") == "50ms"  # paced like the scan
    assert not {"-PE", "-p", "--script", "-sS", "-sU"} & set(args)


def test_discovery_on_a_routed_segment_sends_only_the_profiles_probes() -> None:
    ot = _ping("ot-safe", local=False)
    assert "-PE" in ot and "-PS80,102,443,502,44818" in ot and "-PR" not in ot
    assert "--max-rtt-timeout" not in ot  # a routed link may be slow: nmap's own timeouts
    standard = _ping("standard", local=False)
    assert not [a for a in standard if a.startswith("-P")]  # nmap's default probes
    unprivileged = _ping("ot-safe", local=True, privileged=False)  # no raw packets: no ARP, no ICMP
    assert "--unprivileged" in unprivileged and "-PR" not in unprivileged and "-PE" not in unprivileged
    assert "-PR" not in _ping("ot-safe", local=True, ipv6=True)  # IPv6 has no ARP


def test_the_port_scan_after_discovery_skips_its_own() -> None:
    plan = build_args(
        PROFILES["ot-safe"],
        targets_file=Path("/run/x/seg.up"),
        exclude_file=None,
        ipv6=False,
        privileged=True,
        discovered=True,
    )
    assert "-Pn" in plan.args


def test_snmp_brute_runs_only_in_profiles_that_list_it_and_always_with_the_short_list() -> None:
    ot, _ = args_for("ot-safe")  # OT and CCTV segments' default: no guessing at all
    assert "snmp-brute" not in value(ot, "--script") and "--script-args" not in ot
    for name in ("standard", "deep"):
        args, _ = args_for(name)
        assert "snmp-brute" in value(args, "--script").split(",")
        assert value(args, "--script-args") == f"snmp-brute.communitiesdb={SNMP_COMMUNITIES_FILE}"
        assert args.count("--script-args") == 1
    communities = snmp_communities()
    assert "public" in communities and {"private", "community", "snmp", "admin"} <= set(communities)
    assert len(communities) <= 16


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("private\n# vendor defaults\n", ":2: SNMP community '# vendor defaults' is not a plain word"),
        ("private\n\nadmin\n", ":2: SNMP community '' is not a plain word"),
        ("".join(f"c{i}\n" for i in range(17)), "holds 17 communities; 1 to 16"),
    ],
)
def test_a_bad_community_list_is_refused_with_its_line(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "communities.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        snmp_communities(path)
    assert needle in f"{info.value.location}: {info.value}" or needle in str(info.value)
