"""Every command has help with examples; the root lists only commands that work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from secaudit.cli.main import cli, run

SECAUDIT = str(Path(sys.executable).with_name("secaudit"))


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


ALL = _commands(cli)


def test_the_foundation_commands_are_there() -> None:
    assert {
        ("audit",),
        ("profile", "validate"),
        ("history", "runs"),
        ("history", "show"),
        ("report",),
    } <= set(ALL)
    assert ("schedule",) in ALL


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_every_command_has_help_with_examples(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([*path, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Examples:" in text
    assert "secaudit " + " ".join(path) in text or path[0] in text


def test_unknown_command_and_bad_option_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["frobnicate"]) == 2
    assert run(["audit"]) == 2  # --profile missing
    assert "Missing option '--profile'" in capsys.readouterr().err


def test_no_color_is_honoured(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("organisation: [\n")
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    coloured = subprocess.run(
        [SECAUDIT, "profile", "validate", str(bad)],
        env={**base, "FORCE_COLOR": "1", "TERM": "xterm-256color"},
        capture_output=True,
        text=True,
        check=False,
    )
    plain = subprocess.run(
        [SECAUDIT, "profile", "validate", str(bad)],
        env={**base, "FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert coloured.returncode == plain.returncode == 2
    assert "\x1b[" in coloured.stderr and "31" in coloured.stderr
    assert "\x1b[3" not in plain.stderr
    assert f"{bad}:" in plain.stderr and "Traceback" not in plain.stderr
