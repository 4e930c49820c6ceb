"""An audit's scan stage streams its hosts into history as ``secaudit scan`` does.

A real ``secaudit audit`` (its own process, root, the ot-safe profile: one probe in flight,
host groups of 4) of a loopback /28 (14 addresses, all answering) is stopped with SIGTERM as
soon as history holds its first hosts. The audit exits 130 and its run is marked interrupted;
the hosts nmap finished before the cut stay in the inventory under the audit's run id, the scan
marked incomplete with the reason, and it was cut mid-way (fewer than 14 hosts)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from secaudit.app.scan import INTERRUPTED_AUDIT
from secaudit.scan import read_nmap_xml
from tests.scan.test_streaming_live import PROFILE, _children, _recorded, _zombie_or_gone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the ot-safe profile's SYN and UDP scans need root"),
]


def test_an_audit_stopped_mid_scan_keeps_the_hosts_scanned(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    reports = tmp_path / "reports"
    profile.write_text(PROFILE.format(cidr="127.28.4.0/28", out=reports), encoding="utf-8")
    history = tmp_path / "history.sqlite"
    code = "from secaudit.cli.main import main; main()"
    argv = ["audit", "--profile", str(profile), "--history", str(history)]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    nmaps: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not _recorded(history)[0]:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no host recorded while the audit's scan ran"
            time.sleep(0.2)
        nmaps = _children(proc.pid)
        assert len(nmaps) == 1  # the scan is still running
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        nmap_gone = _zombie_or_gone(nmaps[0])
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        for pid in nmaps:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 130, err.decode()
    assert nmap_gone
    hosts, status, errors = _recorded(history)
    assert status == "incomplete"
    assert errors == [INTERRUPTED_AUDIT]
    with sqlite3.connect(f"file:{history}?mode=ro", uri=True) as db:
        runs = db.execute("SELECT id, status FROM runs").fetchall()
        scans = db.execute("SELECT id FROM scans").fetchall()
        assets = {r[0] for r in db.execute("SELECT address FROM assets")}
    assert len(runs) == 1 and runs[0][1] == "interrupted"
    assert scans == [(runs[0][0],)]  # the scan is recorded under the audit's run id
    (xml,) = reports.glob(f"{runs[0][0]}/scan/signals.xml")
    kept = read_nmap_xml(xml)  # nmap's output up to the cut
    assert hosts == sorted(h.ip for h in kept.up_hosts())
    assert 1 <= len(hosts) < 14
    assert assets == set(hosts)  # and they joined the inventory
