"""Exposure rules against more real daemons on loopback, each once exposed and once not, through
the real scan stage (nmap, standard profile scripts): net-snmp's snmpd answering the community
"public", one answering only "private" (EXP-SNMP-GUESSABLE-COMMUNITY, found by snmp-brute's
short list, and not reported as "public") and one answering only a long random community
(EXP-SNMP-DEFAULT-COMMUNITY), and
openssl s_server with an expired self-signed certificate and with a valid CA-signed one
(EXP-TLS-CERT-EXPIRED, EXP-TLS-CERT-SELF-SIGNED), and OpenSSH's sshd offering SHA-1 key exchange,
CBC ciphers and SHA-1/MD5 MACs and one offering modern algorithms only (EXP-SSH-WEAK-ALGORITHMS)."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.scan import PROFILES, ScanOptions, scan_segments
from tests.fixtures.nmap.daemons import Daemon, running
from tests.scan.conftest import make_profile

pytestmark = [
    pytest.mark.root,
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="snmpd binds port 161 and the scan uses SYN/UDP probes"),
    pytest.mark.skipif(
        shutil.which("snmpd") is None, reason="apt-get install snmpd (scripts/system-packages.txt)"
    ),
]

SNMP_OPEN, SNMP_CLOSED = Daemon("127.20.4.12", 161, "snmpd"), Daemon("127.20.4.13", 161, "snmpd", open=False)
SNMP_GUESSABLE = Daemon("127.20.4.11", 161, "snmpd", community="private")
TLS_BAD, TLS_GOOD = Daemon("127.20.5.12", 443, "openssl"), Daemon("127.20.5.13", 443, "openssl", open=False)
SSH_WEAK, SSH_MODERN = Daemon("127.20.5.10", 2222, "sshd"), Daemon("127.20.5.11", 2222, "sshd", open=False)


def test_snmp_and_certificate_rules_on_real_daemons(tmp_path: Path) -> None:
    daemons = [SNMP_OPEN, SNMP_CLOSED, SNMP_GUESSABLE, TLS_BAD, TLS_GOOD, SSH_WEAK, SSH_MODERN]
    profiles = dict(PROFILES)
    # only the scripts these rules read (ssl-enum-ciphers alone would take most of a minute)
    scripts = ("ssl-cert", "snmp-sysdescr", "snmp-brute", "ssh2-enum-algos")
    assert set(scripts) <= set(PROFILES["standard"].scripts)
    profiles["standard"] = replace(
        PROFILES["standard"], tcp_ports="443,2222", udp_ports="161", scripts=scripts
    )
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
    wanted = {
        "EXP-SNMP-DEFAULT-COMMUNITY",
        "EXP-SNMP-GUESSABLE-COMMUNITY",
        "EXP-TLS-CERT-EXPIRED",
        "EXP-TLS-CERT-SELF-SIGNED",
        "EXP-SSH-WEAK-ALGORITHMS",
    }
    found = {(f.rule_id, f.asset.address, f.evidence_key) for f in out.findings if f.rule_id in wanted}
    assert found == {
        ("EXP-SNMP-DEFAULT-COMMUNITY", SNMP_OPEN.address, "udp/161"),
        ("EXP-SNMP-GUESSABLE-COMMUNITY", SNMP_GUESSABLE.address, "udp/161"),
        ("EXP-TLS-CERT-EXPIRED", TLS_BAD.address, "tcp/443"),
        ("EXP-TLS-CERT-SELF-SIGNED", TLS_BAD.address, "tcp/443"),
        ("EXP-SSH-WEAK-ALGORITHMS", SSH_WEAK.address, "tcp/2222"),
    }
    snmp = next(f for f in out.findings if f.rule_id == "EXP-SNMP-DEFAULT-COMMUNITY")
    assert "City signal gateway SG-200" in snmp.evidence[0].excerpt
    guessed = next(f for f in out.findings if f.rule_id == "EXP-SNMP-GUESSABLE-COMMUNITY")
    assert guessed.evidence[0].excerpt.strip() == "private - Valid credentials"
    ssh = next(f for f in out.findings if f.rule_id == "EXP-SSH-WEAK-ALGORITHMS")
    assert {"diffie-hellman-group14-sha1", "aes128-cbc", "hmac-md5"} <= set(
        ssh.evidence[0].excerpt.split(", ")
    )
