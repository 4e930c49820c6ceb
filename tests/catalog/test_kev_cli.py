"""`secaudit kev import` and `secaudit kev status` through the real CLI (exit codes mapped in cli.main).
The catalogues are synthetic (tests/risk/kev_files.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secaudit.cli.main import run
from tests.risk.kev_files import catalogue, entry, write


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return home


def fresh(days_old: int = 2) -> datetime:
    return datetime.now(UTC) - timedelta(days=days_old)


def test_import_then_status(tmp_path: Path, data_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    released = fresh(2)
    source = write(
        tmp_path / "known_exploited_vulnerabilities.json", catalogue(version="2099.5", released=released)
    )
    assert run(["kev", "import", str(source)]) == 0
    out, err = capsys.readouterr()
    target = data_home / "secaudit" / "kev.json"
    assert out.splitlines() == [
        f"imported KEV 2099.5, released {released:%Y-%m-%d} (2 days ago), 3 CVEs into {target}"
    ]
    assert "warning" not in err

    assert run(["kev", "status"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"KEV 2099.5, released {released:%Y-%m-%d} (2 days ago), 3 CVEs"
    assert lines[1] == f"file: {target}"
    assert lines[2].startswith("imported ") and lines[2].endswith(f"UTC from {source.resolve()}")
    assert err == ""

    assert run(["kev", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["present"] is True and data["version"] == "2099.5" and data["count"] == 3
    assert data["age_days"] == 2 and data["stale"] is False and data["path"] == str(target)
    assert datetime.fromisoformat(data["released"]) == released


def test_a_stale_catalogue_is_imported_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(tmp_path / "k.json", catalogue(released=fresh(45)))
    assert run(["kev", "import", str(source)]) == 0
    err = capsys.readouterr().err
    assert "warning: the catalogue is 45 days old (more than 30)" in err
    assert "known_exploited_vulnerabilities.json" in err
    assert run(["kev", "status"]) == 0
    assert "45 days old" in capsys.readouterr().err
    assert run(["kev", "status", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["stale"] is True and captured.err == ""


def test_replacing_with_an_older_catalogue_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(["kev", "import", str(write(tmp_path / "new.json", catalogue(version="B", released=fresh(1))))])
        == 0
    )
    capsys.readouterr()
    older = write(tmp_path / "old.json", catalogue(entry(9), version="A", released=fresh(3)))
    assert run(["kev", "import", "--json", str(older)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        data["version"] == "A" and data["replaced"]["version"] == "B" and data["older_than_replaced"] is True
    )
    assert (
        run(["kev", "import", str(write(tmp_path / "newer.json", catalogue(version="C", released=fresh(0))))])
        == 0
    )
    captured = capsys.readouterr()
    assert "replaced KEV A" in captured.err and "older than the one it replaced" not in captured.err


def test_without_a_catalogue(data_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["kev", "status"]) == 0
    captured = capsys.readouterr()
    assert (
        captured.out.strip()
        == f"no KEV catalogue at {data_home / 'secaudit' / 'kev.json'}: the risk model runs without one"
    )
    assert "secaudit kev import FILE" in captured.err
    assert run(["kev", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "present": False,
        "path": str(data_home / "secaudit" / "kev.json"),
    }


def test_a_bad_file_exits_2_with_file_and_line_and_stores_nothing(
    tmp_path: Path, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = catalogue()
    data["vulnerabilities"][1]["cveID"] = "CVE-2099-X"
    source = write(tmp_path / "k.json", data)
    assert run(["kev", "import", str(source)]) == 2
    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(source.read_text().splitlines(), 1) if "CVE-2099-X" in text)
    assert f"error: {source}:{line}: vulnerabilities[1] (CVE-2099-X): 'cveID' must be a CVE id" in err
    assert "hint: download the JSON feed again" in err
    assert not (data_home / "secaudit").exists()
    assert run(["kev", "import", str(tmp_path / "missing.json")]) == 2
    assert "no KEV catalogue file here" in capsys.readouterr().err
    assert run(["kev", "status", "--path", str(source)]) == 2


def test_import_to_and_status_of_an_explicit_path(
    tmp_path: Path, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "lib" / "kev.json"
    source = write(tmp_path / "k.json", catalogue(entry(5), released=fresh(1)))
    assert run(["kev", "import", str(source), "--to", str(target)]) == 0
    assert target.exists() and not (data_home / "secaudit").exists()
    capsys.readouterr()
    assert run(["kev", "status", "--json", "--path", str(target)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["path"] == str(target) and data["count"] == 1


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for path in (["kev"], ["kev", "import"], ["kev", "status"]):
        assert run([*path, "--help"]) == 0
        assert "Examples:" in capsys.readouterr().out
