"""A scan's hosts reach history as nmap finishes them, so a stopped scan loses none of them.

A real ``secaudit scan`` (the CLI in its own process, root, ot-safe: one probe in flight, 50 ms
apart, host groups of 4) of a loopback /28 (14 addresses, all answering) takes about 20 s. The
test waits until history holds the first hosts, then stops the scan three ways: SIGTERM to
secaudit (exit 130), SIGKILL to secaudit (nothing of ours runs after it; nmap dies with it), SIGKILL to nmap
(exit 3). Each time the hosts nmap finished before the cut are in history, the scan is marked
incomplete with the reason, and it was cut mid-way (fewer than 14 hosts)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from secaudit.app.scan import UNFINISHED
from secaudit.scan import read_nmap_xml

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the ot-safe profile's SYN and UDP scans need root"),
]

PROFILE = """version: 1
organisation: Streaming test
authorization:
  reference: PKT-STREAM-1
  approver: CISO
  valid_from: 2026-01-01
  valid_until: 2099-12-31
segments:
  - name: signals
    cidrs: [{cidr}]
    kind: ot
    owner: city
    criticality: high
report:
  output_dir: {out}
"""


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _zombie_or_gone(pid: int, wait_s: float = 5.0) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def _recorded(history: Path) -> tuple[list[str], str, list[str]]:
    """(addresses, status, errors) of the one scan in ``history``; ([], "", []) before it exists."""
    if not history.exists():
        return [], "", []
    try:
        with sqlite3.connect(f"file:{history}?mode=ro", uri=True, timeout=10) as db:
            scan = db.execute("SELECT id, status, errors FROM scans").fetchone()
            if scan is None:
                return [], "", []
            rows = db.execute("SELECT address FROM scan_hosts WHERE scan_id = ?", (scan[0],)).fetchall()
    except sqlite3.OperationalError:  # the database is being created (no table yet)
        return [], "", []
    return sorted(r[0] for r in rows), scan[1], json.loads(scan[2])


@pytest.mark.parametrize(
    ("cut", "exit_code", "reason"),
    [
        ("sigterm", 130, "interrupted (Ctrl-C or SIGTERM)"),
        ("kill-secaudit", -9, UNFINISHED),
        ("kill-nmap", 3, "nmap failed (exit -9)"),
    ],
)
def test_hosts_scanned_before_the_cut_are_in_history(
    cut: str, exit_code: int, reason: str, tmp_path: Path
) -> None:
    cidr = {"sigterm": "127.28.1.0/28", "kill-secaudit": "127.28.2.0/28", "kill-nmap": "127.28.3.0/28"}[cut]
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE.format(cidr=cidr, out=tmp_path / "reports"), encoding="utf-8")
    history, out = tmp_path / "history.sqlite", tmp_path / "run"
    code = "from secaudit.cli.main import main; main()"
    argv = ["scan", "--profile", str(profile), "--output", str(out), "--history", str(history)]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    nmaps: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while not _recorded(history)[0]:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no host recorded while the scan ran"
            time.sleep(0.2)
        nmaps = _children(proc.pid)
        assert len(nmaps) == 1
        if cut == "sigterm":
            proc.send_signal(signal.SIGTERM)
        elif cut == "kill-secaudit":
            proc.kill()
        else:
            os.kill(nmaps[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        # nmap runs in its own session, yet dies with secaudit (parent-death signal)
        nmap_gone = _zombie_or_gone(nmaps[0])
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()  # reaps it and closes its pipes
        for pid in nmaps:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert proc.returncode == exit_code, err.decode()
    assert nmap_gone
    hosts, status, errors = _recorded(history)
    assert status == "incomplete"
    assert any(reason in e for e in errors), errors
    kept = read_nmap_xml(out / "scan" / "signals.xml")  # nmap's output up to the cut
    assert hosts == sorted(h.ip for h in kept.up_hosts())
    assert 1 <= len(hosts) < 14
