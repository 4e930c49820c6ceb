"""`profile validate` checks what the audit will need, and `profile init` writes a starter that
validates once the authorization is filled in (issue 17, item 2)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from secaudit.cli.main import run
from secaudit.cli.main import run as run_cli

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
DEMO_FEEDS = sorted([*(SAMPLES / "feeds").glob("*.json"), *(SAMPLES / "feeds").glob("*.csv")])
_STORE: list[Path] = []  # the demo's feed store, imported once for the module (as `make demo` does)


@pytest.fixture(scope="module", autouse=True)
def _vuln_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    store = tmp_path_factory.mktemp("vuln") / "demo-vuln.sqlite"
    assert run(["vuln", "import", "--store", str(store), *map(str, DEMO_FEEDS)]) == 0
    _STORE[:] = [store]


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SECAUDIT_HISTORY", raising=False)


def demo() -> dict[str, Any]:
    """The demo profile with every path made absolute, so a copy can live anywhere."""
    data: dict[str, Any] = yaml.safe_load((SAMPLES / "phuket-demo.yaml").read_text(encoding="utf-8"))
    for target in data["baseline_targets"]:
        scheme, _, rest = target["target"].partition(":")
        target["target"] = f"{scheme}:{SAMPLES / rest}"
    for source in data["log_sources"]:
        source["paths"] = [str(SAMPLES / p) for p in source["paths"]]
    data["baseline_waivers"] = str(SAMPLES / data["baseline_waivers"])
    data["vuln"]["store"] = str(_STORE[0])
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "profile.yaml") -> Path:
    data.setdefault("report", {})["output_dir"] = str(tmp_path / "reports")
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_the_demo_profile_has_what_its_audit_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, demo())
    assert run(["profile", "validate", "--json", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is True
    assert out["problems"] == []


def test_a_misspelled_baseline_is_refused_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = demo()
    data["baseline_targets"][1]["baselines"] = ["cisco-iso"]
    path = write(tmp_path, data)
    assert run(["profile", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line_of(path, 'cisco-iso')}: baseline 'cisco-iso'" in err
    assert "cisco-ios" in err  # the suggestion


def test_a_missing_log_path_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = demo()
    data["log_sources"][0]["paths"] = [str(tmp_path / "nowhere" / "auth.log")]
    path = write(tmp_path, data)
    assert run(["profile", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line_of(path, 'nowhere')}: log source 'cc-app-01-auth'" in err
    assert "does not exist" in err


def test_rules_needing_placeholder_values_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = demo()
    del data["detection"]
    path = write(tmp_path, data)
    assert run(["profile", "validate", "--json", str(path)]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert len(problems) == 1
    assert "%ot_engineering_workstations%" in problems[0]["message"]
    assert (
        "Modbus Write from a Host Other Than an Engineering Workstation (critical)" in problems[0]["message"]
    )
    assert "detection.placeholders" in problems[0]["hint"]


def test_an_unwritable_report_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    data = demo()
    path = write(tmp_path, data)
    data["report"]["output_dir"] = str(blocker / "reports")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert run(["profile", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "report folder" in err
    assert "history folder" in err  # the history lives beside the reports by default


def test_a_broken_waivers_file_is_refused_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - check: deb12-x\n    reason: x\n    expires: not-a-date\n", encoding="utf-8"
    )
    data = demo()
    data["baseline_waivers"] = str(waivers)
    path = write(tmp_path, data)
    assert run(["profile", "validate", str(path)]) == 2
    assert str(waivers) in capsys.readouterr().err


def test_an_authorization_ending_soon_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = demo()
    data["authorization"]["valid_until"] = (datetime.now(UTC) + timedelta(days=5)).date()
    data["authorization"].pop("maintenance_windows")  # the demo's window lies past that date
    path = write(tmp_path, data)
    assert run(["profile", "validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {path}:{line_of(path, 'valid_until')}: the authorization ends in" in err
    assert run(["profile", "validate", "--warn-days", "3", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_init_writes_a_starter_that_validates_once_authorized(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    segments = ["--segment", "cc=10.10.1.0/24", "--segment", "signals=10.20.0.0/24,10.20.1.0/24:ot"]
    bare = tmp_path / "bare.yaml"
    assert run(["profile", "init", "--organisation", "Phuket City", *segments, "-o", str(bare)]) == 0
    assert run(["profile", "validate", str(bare)]) == 2  # no written authorization yet
    assert f"{bare}:{line_of(bare, 'valid_until:')}" in capsys.readouterr().err

    until = (datetime.now(UTC) + timedelta(days=200)).date().isoformat()
    full = tmp_path / "full.yaml"
    auth = ["--authorization", "PKT-2027-01", "--approver", "Director", "--valid-until", until]
    assert run(["profile", "init", "--organisation", "Phuket City", *segments, *auth, "-o", str(full)]) == 0
    assert run(["profile", "validate", "--json", str(full)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is True
    kinds = {s["name"]: (s["kind"], s["scan_profile"], s["cidrs"]) for s in out["segments"]}
    assert kinds == {
        "cc": ("it", "standard", ["10.10.1.0/24"]),
        "signals": ("ot", "ot-safe", ["10.20.0.0/24", "10.20.1.0/24"]),
    }
    text = full.read_text(encoding="utf-8")
    assert "ขอบเขตการตรวจ" in text  # a Thai line beside each section

    assert run(["profile", "init", "--organisation", "X", *segments, "-o", str(full)]) == 2  # no overwrite
    assert run(["profile", "init", "--organisation", "X", "--segment", "bad=10.1.1.1/24", "-o", "-"]) == 2
    assert run(["profile", "init", "--organisation", "X", "--segment", "a=10.1.0.0/24:plc", "-o", "-"]) == 2


def test_history_commands_find_the_history_the_profile_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One rule for where history lives (issue 17, item 5): with `history:` in the profile, `history
    runs --profile` reads the database the audit wrote there; without it the default is searched."""
    from secaudit.history.store import HistoryStore
    from tests.history.history_builders import done, finding, run

    data = demo()
    data["history"] = str(tmp_path / "city" / "history.sqlite")
    path = write(tmp_path, data)
    (tmp_path / "city").mkdir()
    with HistoryStore.open(tmp_path / "city" / "history.sqlite") as store:
        first = run("20260805T010000Z-aaaa", 0)
        store.begin_run(first, "scope")
        store.complete_run(done(first), "scope", [finding("R1", "a")], complete_sources=())
    monkeypatch.chdir(tmp_path)
    assert run_cli(["history", "runs", "--json", "--profile", str(path)]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["20260805T010000Z-aaaa"]
    assert run_cli(["history", "runs", "--json"]) == 2  # reports/history.sqlite: nothing there
    assert "--profile" in capsys.readouterr().err


def test_a_rule_file_with_an_alias_bomb_does_not_hang_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    levels = ["x0: &a0 ['%p%', '%p%', '%p%', '%p%', '%p%', '%p%', '%p%', '%p%', '%p%']"]
    levels += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    # 9^10 placeholder values under an |expand key if the aliases were expanded by walking the document
    bomb = "\n".join(levels) + "\ntitle: bomb\nlevel: high\ndetection:\n  sel:\n    CommandLine|expand: *a9\n"
    (rules / "bomb.yml").write_text(bomb, encoding="utf-8")
    data = demo()
    data["detection"]["rules"] = [str(rules)]
    path = write(tmp_path, data)
    assert run(["profile", "validate", "--json", str(path)]) == 0  # the bomb is no rule: nothing needed
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_the_vuln_store_must_exist_and_its_feeds_be_young(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = demo()
    data["vuln"]["store"] = str(tmp_path / "none.sqlite")
    path = write(tmp_path, data)
    assert run(["profile", "validate", str(path)]) == 0
    err = " ".join(capsys.readouterr().err.split())  # long temporary paths wrap
    assert f"warning: {path}:{line_of(path, 'none.sqlite')}: the vuln stage's feed store" in err
    assert "does not exist: the audit's vuln stage fails until feeds are imported" in err
    assert "secaudit vuln import --store" in err
    store = tmp_path / "old.sqlite"
    shutil.copy(_STORE[0], store)
    old_epss = tmp_path / "epss.csv"  # SYNTHETIC scores, dated by their first line a year back
    old_epss.write_text("#model_version:synthetic,score_date:2025-12-01T00:00:00+0000\ncve,epss,percentile\n")
    assert run(["vuln", "import", "--store", str(store), str(old_epss)]) == 0
    data["vuln"]["store"] = str(store)
    data["vuln"]["max_feed_age_days"] = 30
    path = write(tmp_path, data)
    capsys.readouterr()
    assert run(["profile", "validate", "--json", str(path)]) == 0  # an old feed: a warning, not an error
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [(p["severity"], p["location"]) for p in problems] == [
        ("warning", f"{path}:{line_of(path, 'max_feed_age_days')}")
    ]
    assert (
        problems[0]["message"].startswith("feed epss epss.csv is ") and "limit 30" in problems[0]["message"]
    )
