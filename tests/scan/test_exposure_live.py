"""Exposure rules against real daemons on loopback: redis, memcached, mosquitto and vsftpd, each
once open (no password, anonymous allowed) and once closed. The real scan stage runs nmap with
the standard profile's scripts; the rule must fire on the open daemon and not on the closed one."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.scan import PROFILES, ScanOptions, scan_segments
from tests.fixtures.nmap.daemons import Daemon, available, running
from tests.scan.conftest import make_profile

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="vsftpd binds port 21 and the scan uses SYN probes"),
    pytest.mark.skipif(
        not all(available(k) for k in ("redis", "memcached", "mosquitto", "vsftpd")),
        reason="apt-get install redis-server memcached mosquitto vsftpd (scripts/system-packages.txt)",
    ),
]

# rule -> (open daemon, closed daemon); addresses in the test profile's city-data (IT) and DMZ.
CASES = {
    "EXP-REDIS-NO-AUTH": (
        Daemon("127.20.4.2", 6379, "redis"),
        Daemon("127.20.4.3", 6379, "redis", open=False),
    ),
    "EXP-MEMCACHED-NO-AUTH": (Daemon("127.20.4.4", 11211, "memcached"), None),
    "EXP-MQTT-ANONYMOUS": (
        Daemon("127.20.4.6", 1883, "mosquitto"),
        Daemon("127.20.4.7", 1883, "mosquitto", open=False),
    ),
    "EXP-FTP-ANONYMOUS": (Daemon("127.20.5.2", 21, "vsftpd"), Daemon("127.20.5.3", 21, "vsftpd", open=False)),
}


@pytest.mark.slow
def test_rules_fire_on_open_daemons_and_not_on_closed_ones(tmp_path: Path) -> None:
    daemons = [d for pair in CASES.values() for d in pair if d is not None]
    profiles = dict(PROFILES)
    profiles["standard"] = replace(PROFILES["standard"], tcp_ports="21,1883,6379,11211", udp_ports="")
    with running(daemons, tmp_path / "daemons"):
        out = scan_segments(
            make_profile(),
            run_dir=tmp_path / "run",
            now=datetime.now(UTC),
            progress=lambda e: None,
            segments=["city-data", "dmz"],
            targets=[d.address for d in daemons],
            options=ScanOptions(profiles=profiles, privileged=True),
        )
    assert out.result.errors == ()
    found = {(f.rule_id, f.asset.address, f.evidence_key) for f in out.findings if f.rule_id in CASES}
    assert found == {(rule, d.address, f"tcp/{d.port}") for rule, (d, _closed) in CASES.items()}
    redis = next(f for f in out.findings if f.rule_id == "EXP-REDIS-NO-AUTH")
    assert redis.evidence[0].excerpt.startswith("Version: 7.")
