"""A FIFO or device named on the command line, and stdin, are read within bounds: a FIFO nobody writes
to ends the read after a silence instead of hanging, /dev/zero ends at a size, and neither is held in
memory (the hunt copies them to a temporary file its workers read). The bound that ended a read is
said in the summary; the events before it are kept and evaluated."""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from secaudit.cli.main import run as cli_run
from secaudit.logs import ReadStats, read_events, reader

RULE = (
    "title: Planted\nid: 3f1c8a4e-55aa-4e39-8c1b-0d6d8f2f9a10\nstatus: test\nlogsource: {product: linux}\n"
    "detection: {sel: {message: planted}, condition: sel}\nlevel: high\n"
)
PLANTED = json.dumps({"@timestamp": "2026-01-01T00:00:00Z", "message": "planted", "host": "h"}) + "\n"


@pytest.fixture
def rule(tmp_path: Path) -> Path:
    path = tmp_path / "rule.yml"
    path.write_text(RULE, encoding="utf-8")
    return path


def _hunt(rule: Path, source: str, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str, str]:
    code = cli_run(
        [
            "logs",
            "hunt",
            "--rules",
            str(rule),
            "--logsource",
            "product=linux",
            "--format",
            "jsonl",
            *flags,
            source,
        ]
    )
    out, err = capsys.readouterr()
    return code, out, err


def _writer(fifo: Path, data: str, hold: float) -> threading.Thread:
    """Opens the FIFO after a moment, writes ``data``, and keeps it open ``hold`` seconds more."""

    def write() -> None:
        time.sleep(0.3)
        with fifo.open("w", encoding="utf-8") as out:
            out.write(data)
            out.flush()
            time.sleep(hold)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_fifo_nobody_writes_to_ends_after_the_silence(
    tmp_path: Path, rule: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "SPECIAL_IDLE_SECONDS", 1.0)
    fifo = tmp_path / "silent.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    code, out, err = _hunt(rule, str(fifo), capsys)
    assert time.monotonic() - started < 30  # was: blocked in open() until killed
    assert code == 3 and out == ""  # nothing could be read, said as such
    assert "no event could be read" in err


def test_a_fifo_whose_writer_goes_quiet_keeps_what_came_and_says_why_it_stopped(
    tmp_path: Path, rule: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "SPECIAL_IDLE_SECONDS", 1.0)
    monkeypatch.setenv("COLUMNS", "200")
    fifo = tmp_path / "quiet.fifo"
    os.mkfifo(fifo)
    writer = _writer(fifo, PLANTED * 3, hold=5.0)  # keeps the FIFO open, silent, past the bound
    code, out, err = _hunt(rule, str(fifo), capsys)
    assert code == 0, err
    assert [json.loads(line)["record"] for line in out.splitlines()] == [1, 2, 3]
    assert f"{fifo}: no data for 1 s: stopped reading there; the events before are kept" in err
    writer.join(timeout=10)


def test_a_fifo_read_to_its_end_has_no_note(tmp_path: Path) -> None:
    fifo = tmp_path / "whole.fifo"
    os.mkfifo(fifo)
    writer = _writer(fifo, PLANTED * 2, hold=0.0)
    stats = ReadStats()
    events = list(read_events([str(fifo)], stats=stats))  # the streaming reader (ingest), same bounds
    writer.join(timeout=10)
    assert [e.fields["message"] for e in events] == ["planted", "planted"]
    assert stats.errors == []


@pytest.mark.parametrize("how", ["named", "stdin"])
def test_dev_zero_ends_at_the_size_bound_in_bounded_memory(
    how: str, tmp_path: Path, rule: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real bound is 4 GiB of disk; 64 MiB here keeps the test short. The memory bound of every
    # hostile case (conftest.py, 500 MB) holds because the bytes go to a file, not to memory.
    monkeypatch.setattr(reader, "MAX_PIPED_BYTES", 64 << 20)
    spill = tmp_path / "spill"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    monkeypatch.setenv("COLUMNS", "200")
    if how == "stdin":
        zero = Path("/dev/zero").open("rb")  # noqa: SIM115 (closed below)
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(zero))
        source = "-"
    else:
        source = "/dev/zero"
    code, out, err = _hunt(rule, source, capsys, "--input-format", "flat-json")
    if how == "stdin":
        zero.close()
    assert out == ""
    assert code == 3  # 64 MiB of NUL bytes hold no event: nothing could be read
    assert "64 MiB read: stopped reading there; the events before are kept" in err
    assert "no event could be read" in err
    assert list(spill.iterdir()) == []  # the temporary copy is removed
