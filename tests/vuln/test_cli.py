"""`secaudit vuln import/status` through the real CLI (exit codes mapped in cli.main)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secaudit.cli.main import run
from tests.vuln.helpers import DEMO_FEEDS, FEEDS


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def test_import_then_status(data_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["vuln", "import", "--json", *map(str, DEMO_FEEDS)]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["store"] == str(data_home / "secaudit" / "vuln.sqlite")
    assert sorted(f["kind"] for f in imported["imported"]) == ["debian-tracker", "epss", "kev", "nvd"]
    assert imported["errors"] == []
    assert run(["vuln", "status", "--json", "--max-age-days", "3650"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["present"] and status["debian_releases"] == ["bookworm", "bullseye", "sid"]
    assert {f["kind"]: f["records"] for f in status["feeds"]} == {
        "debian-tracker": 16,
        "epss": 6,
        "kev": 2,
        "nvd": 6,
    }
    assert status["warnings"] == []


def test_a_refused_file_exits_2_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "epss.csv"
    bad.write_text("cve,epss,percentile\nCVE-2024-6387,2,0.5\n")
    assert run(["vuln", "import", str(bad), str(FEEDS / "nvd-cves.json")]) == 2
    captured = capsys.readouterr()
    assert "imported nvd" in captured.out
    assert f"{bad}:2" in captured.err and "0..1" in captured.err


def test_status_without_a_store(data_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["vuln", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["present"] is False
