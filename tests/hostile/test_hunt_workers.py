"""`secaudit logs hunt` with two workers stopped from outside: a reader that goes away, a worker killed
by the kernel, Ctrl-C. Each ends in bounded time with its exit code, and leaves no process behind
(every process of a run carries a marker in its environment; none may remain after it)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

RULE = (
    "title: Planted\nid: 3f1c8a4e-55aa-4e39-8c1b-0d6d8f2f9a10\nstatus: test\nlogsource: {product: linux}\n"
    "detection: {sel: {message: planted}, condition: sel}\nlevel: low\n"
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``one``: a file of 20,000 events (two shards); ``many``: a folder of 12 files (12 shards)."""
    folder = tmp_path_factory.mktemp("hunt-workers")
    line = {"@timestamp": "2026-01-01T00:00:00Z", "message": "planted", "host": "h"}
    events = [json.dumps({**line, "n": i}) + "\n" for i in range(20_000)]
    (folder / "events.jsonl").write_text("".join(events), encoding="utf-8")
    (folder / "many").mkdir()
    for part in range(12):
        text = "".join(events[part * 1500 : (part + 1) * 1500])
        (folder / "many" / f"events-{part:02}.jsonl").write_text(text, encoding="utf-8")
    (folder / "rule.yml").write_text(RULE, encoding="utf-8")
    return {"one": folder / "events.jsonl", "many": folder / "many", "rule": folder / "rule.yml"}


def _hunt(inputs: dict[str, Path], log: str, mark: str, **kwargs: object) -> subprocess.Popen[bytes]:
    code = "from secaudit.cli.main import main; main()"
    args = ["logs", "hunt", "--workers", "2", "--rules", str(inputs["rule"]), "--logsource", "product=linux"]
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-c", code, *args, "--format", "jsonl", str(inputs[log])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SECAUDIT_TEST_RUN": mark},
        **kwargs,
    )


def _left_behind(mark: str) -> list[int]:
    """Processes still running that a run with ``mark`` started (its workers inherit the marker)."""
    needle = f"SECAUDIT_TEST_RUN={mark}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if needle in (proc / "environ").read_bytes().split(b"\0"):
                    pids.append(int(proc.name))
            except OSError:  # gone meanwhile
                continue
    return pids


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(p) for p in (task / "children").read_text().split())
    return found


def _end(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes] | None:
    """The run's output once it ended; None if it hung (it and its workers are killed then)."""
    try:
        return proc.communicate(timeout=120)  # type: ignore[no-any-return]
    except subprocess.TimeoutExpired:
        for pid in [*_children(proc.pid), proc.pid]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        proc.communicate()
        return None


def _closed_reader_run(inputs: dict[str, Path], log: str) -> str:
    """One run read like `| head -1`; an empty string when it ended as it should."""
    mark = uuid.uuid4().hex
    proc = _hunt(inputs, log, mark)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    ended = _end(proc)  # a hang fails here; so does a worker left holding stderr
    if ended is None:
        return "hung"
    text = ended[1].decode(errors="replace")
    if proc.returncode != 0 or b"Planted" not in first or "Traceback" in text or "Exception ignored" in text:
        return f"exit {proc.returncode}: {text[-500:]}"
    if left := _left_behind(mark):
        return f"left behind: {left}"
    return ""


@pytest.mark.slow
def test_a_reader_that_goes_away_never_hangs_the_workers(inputs: dict[str, Path]) -> None:
    # the pool used to hang now and then here (2 in 24 runs under load): repeat, two runs at a time
    with ThreadPoolExecutor(2) as runs:
        outcomes = list(runs.map(lambda n: _closed_reader_run(inputs, ("one", "many")[n % 2]), range(20)))
    assert [o for o in outcomes if o] == []


def test_a_worker_killed_mid_run_fails_the_run_naming_its_shard(inputs: dict[str, Path]) -> None:
    mark = uuid.uuid4().hex
    proc = _hunt(inputs, "many", mark)
    assert proc.stdout is not None
    assert b"Planted" in proc.stdout.readline()  # running: both workers hold shards now
    workers = _children(proc.pid)
    assert len(workers) == 2
    os.kill(workers[-1], signal.SIGKILL)  # what the out-of-memory killer does
    ended = _end(proc)
    assert ended is not None, "the hunt hung"
    out, err = ended
    text = err.decode()
    assert proc.returncode == 3, text
    assert "a worker process was killed by SIGKILL while working on" in text
    assert re.search(r"events-\d\d\.jsonl \(bytes 0 to ", text.replace("\n", "")), text
    assert "Traceback" not in text
    assert len(out.splitlines()) < 18_000  # the run is incomplete, and said so
    assert _left_behind(mark) == []


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_an_interrupted_hunt_stops_its_workers(inputs: dict[str, Path], stop: str) -> None:
    mark = uuid.uuid4().hex
    proc = _hunt(inputs, "many", mark, start_new_session=True)  # its own process group, as a terminal's job
    assert proc.stdout is not None
    assert b"Planted" in proc.stdout.readline()
    assert len(_children(proc.pid)) == 2
    if stop == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches every process of the foreground group
    else:
        proc.send_signal(signal.SIGTERM)  # a service manager stopping the run: the parent only
    ended = _end(proc)
    assert ended is not None, "the hunt hung"
    text = ended[1].decode()
    assert proc.returncode == 130, text
    assert "interrupted" in text and "Traceback" not in text and "KeyboardInterrupt" not in text
    assert _left_behind(mark) == []
