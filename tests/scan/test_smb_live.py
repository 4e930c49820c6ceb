"""SMB exposure rules against a real Samba: smbd with SMBv1 on and signing optional, and smbd with
SMB 2.1 at least and signing required. smbd binds only to addresses an interface holds, so the
test makes a network namespace whose loopback holds the two addresses, and runs both smbd and the
real scan stage (nmap, standard profile scripts) inside it: nothing leaves that namespace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.nmap.daemons import namespace
from tests.scope.netlab import PYTHON

pytestmark = [
    pytest.mark.root,
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces and SYN probes need root"),
    pytest.mark.skipif(
        shutil.which("smbd") is None, reason="apt-get install samba (scripts/system-packages.txt)"
    ),
]

OPEN, CLOSED = "127.20.4.12", "127.20.4.13"  # the test profile's city-data segment

INSIDE = """
import json, sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from secaudit.scan import PROFILES, ScanOptions, scan_segments
from tests.fixtures.nmap.daemons import Daemon, running
from tests.scan.conftest import make_profile

folder = Path(sys.argv[1])
daemons = [Daemon(sys.argv[2], 445, "smbd"), Daemon(sys.argv[3], 445, "smbd", open=False)]
profiles = dict(PROFILES)
scripts = ("smb-protocols", "smb2-security-mode")  # what the rules read; the rest is slow
assert set(scripts) <= set(PROFILES["standard"].scripts)
profiles["standard"] = replace(PROFILES["standard"], tcp_ports="445", udp_ports="", scripts=scripts)
with running(daemons, folder / "daemons"):
    out = scan_segments(
        make_profile(), run_dir=folder / "run", now=datetime.now(UTC), progress=lambda e: None,
        segments=["city-data"], targets=[d.address for d in daemons],
        options=ScanOptions(profiles=profiles, privileged=True),
    )
print(json.dumps({
    "errors": list(out.result.errors),
    "findings": [[f.rule_id, f.asset.address, f.evidence_key, f.evidence[0].excerpt] for f in out.findings],
}))
"""


def test_smb_rules_fire_on_the_lax_samba_and_not_on_the_strict_one(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    with namespace(f"sa-smb{os.getpid() % 100000}", [OPEN, CLOSED]) as netns:
        done = subprocess.run(
            ["ip", "netns", "exec", netns, str(PYTHON), "-c", INSIDE, str(tmp_path), OPEN, CLOSED],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=repo,
            env={**os.environ, "PYTHONPATH": str(repo)},
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(done.stdout.splitlines()[-1])
    assert doc["errors"] == []
    smb = {(rule, address, where) for rule, address, where, _ in doc["findings"] if "SMB" in rule}
    assert smb == {
        ("EXP-SMBV1-ENABLED", OPEN, "tcp/445"),
        ("EXP-SMB-SIGNING-NOT-REQUIRED", OPEN, "tcp/445"),
        ("EXP-SMB-OUTSIDE-MGMT", OPEN, "tcp/445"),
        ("EXP-SMB-OUTSIDE-MGMT", CLOSED, "tcp/445"),  # reachable outside mgmt, whatever its settings
    }
    excerpts = {rule: excerpt for rule, address, _, excerpt in doc["findings"] if address == OPEN}
    assert excerpts["EXP-SMBV1-ENABLED"] == "NT LM 0.12 (SMBv1)"
    assert "not required" in excerpts["EXP-SMB-SIGNING-NOT-REQUIRED"]
