"""One grammar for every command (docs/cli.md), walked over every command the CLI has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from secaudit.cli.main import cli, hoist_global_flags, run
from tests.app.test_report_rebuild import audited  # noqa: F401 (the fixture)

REPO = Path(__file__).resolve().parents[2]
DEMO = str(REPO / "samples" / "phuket-demo.yaml")
SEVERITY_WORDS = {"info", "low", "medium", "high", "critical", "none"}


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from commands(command, path)
        else:
            yield " ".join(path), command


ALL = dict(commands())


def options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option)]


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


def test_every_fail_on_takes_the_same_words() -> None:
    gated = {name: o for name, c in ALL.items() for o in options(c) if "--fail-on" in o.opts}
    assert {"audit", "discover", "logs hunt", "baseline check"} <= set(gated)
    for name, option in gated.items():
        assert isinstance(option.type, click.Choice), name
        assert set(option.type.choices) >= SEVERITY_WORDS, (
            f"{name}: --fail-on misses {SEVERITY_WORDS - set(option.type.choices)}"
        )


def test_file_and_folder_outputs_are_named_alike() -> None:
    for name, command in ALL.items():
        for option in options(command):
            longs = [o for o in option.opts if o.startswith("--")]
            if any(o in ("--out", "--output-file", "--outdir", "--out-dir") for o in longs):
                assert "--output" in option.opts or "--output-dir" in option.opts, f"{name}: {option.opts}"
            if "--output-dir" in option.opts and isinstance(option.type, click.Path):
                assert not option.type.file_okay or option.type.dir_okay, name


def test_every_json_flag_is_a_flag() -> None:
    for name, command in ALL.items():
        for option in options(command):
            if "--json" in option.opts:
                assert option.is_flag, name


def test_quiet_and_verbose_work_anywhere(capsys: pytest.CaptureFixture[str]) -> None:
    assert hoist_global_flags(["profile", "validate", DEMO, "-q"]) == ["-q", "profile", "validate", DEMO]
    assert hoist_global_flags(["logs", "hunt", "--", "-v"]) == ["logs", "hunt", "--", "-v"]
    assert run(["profile", "validate", DEMO]) == 0
    loud = capsys.readouterr().out
    assert run(["profile", "validate", DEMO, "-q"]) == 0
    quiet = capsys.readouterr().out
    assert "Segments" in loud
    assert "Segments" not in quiet and "valid" in quiet


@pytest.mark.parametrize(
    "argv",
    [
        ["baseline", "list", "--json"],
        ["profile", "validate", "--json", DEMO],
        ["scope", "check", "--json", "--profile", DEMO, "127.20.1.10"],
    ],
)
def test_json_is_one_document(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    run(argv)
    json.loads(capsys.readouterr().out)  # exactly one document: a second one would not parse


@pytest.mark.parametrize(
    "argv",
    [
        ["logs", "hunt", "--json", str(REPO / "samples" / "logs")],
        ["logs", "hunt", "--json", "--format", "table", "-o", "x.jsonl", str(REPO / "samples" / "logs")],
        ["schedule", "--cron", "--profile", DEMO, "--output-dir", "units"],
        ["schedule", "--profile", DEMO],
        ["profile", "init", "--organisation", "X", "--segment", "a=10.0.0.0/24:plc"],
    ],
)
def test_conflicting_or_incomplete_options_are_refused(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(argv) == 2
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_schedule_writes_units_that_systemd_accepts(tmp_path: Path) -> None:
    import shutil
    import subprocess

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (package systemd)")
    assert run(["schedule", "--systemd", "--profile", DEMO, "--output-dir", str(tmp_path)]) == 0
    units = sorted(p.name for p in tmp_path.iterdir())
    assert units == ["secaudit-audit.service", "secaudit-audit.timer"]
    proc = subprocess.run(
        [analyze, "verify", *(f"./{u}" for u in units)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "man:" not in (tmp_path / "secaudit-audit.service").read_text(encoding="utf-8")


def test_report_output_dash_is_stdout(
    audited: tuple[object, Path],  # noqa: F811 (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, history = audited
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert run(["report", "--history", str(history), "--format", "json", "--output", "-"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["run"]["status"]
    assert not (tmp_path / "-").exists()
