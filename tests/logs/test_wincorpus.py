"""The realistic Windows benchmark corpus (bench/wincorpus.py) has the shape it promises, is read by
the hunt's own reader as Windows events of the four channels, and is the same for the same seed."""

from __future__ import annotations

from pathlib import Path

from bench import wincorpus
from secaudit.logs.reader import read_events
from secaudit.logs.stats import ReadStats


def test_shape_of_the_realistic_corpus(tmp_path: Path) -> None:
    path = tmp_path / "windows.jsonl"
    wincorpus.write(path, 4000)
    shape = wincorpus.shape(path)
    assert 2000 <= shape["mean_bytes"] <= 3200  # about 2.4 KB, as measured on real recordings
    assert shape["p99_bytes"] > 4 * shape["median_bytes"]  # the long tail of script blocks
    assert 30 <= shape["mean_fields"] <= 60
    assert 0.35 <= shape["share Security"] <= 0.55
    assert 0.25 <= shape["share Microsoft-Windows-Sysmon/Operational"] <= 0.45
    stats = ReadStats()
    events = list(read_events([str(path)], stats=stats))
    assert stats.events == 4000
    assert stats.skipped == 0
    assert {e.kind.product for e in events} == {"windows"}
    assert all(e.timestamp is not None and e.fields.get("Message") for e in events)
    again = tmp_path / "again.jsonl"
    wincorpus.write(again, 4000)
    assert again.read_bytes() == path.read_bytes()
