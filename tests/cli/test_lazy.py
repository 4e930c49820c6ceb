"""Commands are imported when used: light commands never load the heavy libraries.

Each case runs the real entry point in a fresh interpreter and reads which modules it imported (not a
timing test: timings are in `python -m bench startup`). The root group's summaries are held equal to
each command's own help, so the lazy listing cannot drift from the commands.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from secaudit.cli.main import COMMANDS, cli

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import contextlib, io, json, sys
from secaudit.cli.main import run
with contextlib.redirect_stdout(io.StringIO()):
    code = run(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

# what a command that neither hunts, scans nor talks to a cluster must not pull in
HEAVY = ("elasticsearch", "elastic_transport", "sigma", "scapy", "nmap", "jinja2", "evtx", "paramiko")


def imported(*argv: str) -> tuple[int, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    return result["code"], {name.split(".")[0] for name in result["modules"]}


@pytest.mark.parametrize(
    "argv",
    [
        ("--version",),
        ("--help",),
        ("profile", "validate", "samples/phuket-demo.yaml"),
        (
            "baseline",
            "check",
            "--baseline",
            "cisco-ios",
            "--target",
            "file:samples/snapshots/cc-core-rtr01.cfg",
        ),
    ],
    ids=["version", "help", "profile-validate", "baseline-check-ios"],
)
def test_light_commands_import_no_heavy_library(argv: tuple[str, ...]) -> None:
    code, packages = imported(*argv)
    assert code in (0, 1)  # the IOS sample has failing checks: exit 1
    assert not packages & set(HEAVY), sorted(packages & set(HEAVY))


def test_the_hunt_does_load_the_sigma_engine() -> None:
    """The probe sees imports at all: a hunt's help pulls in pySigma through the hunt module."""
    code, packages = imported("logs", "hunt", "--help")
    assert code == 0
    assert "sigma" in packages


def test_version_and_help_load_no_command_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    modules = json.loads(proc.stdout.splitlines()[-1])["modules"]
    command_modules = {
        target.partition(":")[0] for entry in COMMANDS.values() for target in (entry.target, *entry.extra)
    }
    assert command_modules
    assert not command_modules & set(modules)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_the_commands_own(name: str) -> None:
    command = COMMANDS[name].load()
    assert command.short_help is None  # summaries come from the help's first paragraph
    for limit in (30, 45, 80, 200):
        assert COMMANDS[name].short_help(limit) == command.get_short_help_str(limit)


def test_every_command_is_listed_and_resolves() -> None:
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        assert cli.get_command(ctx, name) is not None
    assert cli.get_command(ctx, "no-such-command") is None
    logs = cli.get_command(ctx, "logs")
    assert isinstance(logs, click.Group)
    assert {"hunt", "ingest", "es-check"} <= set(logs.list_commands(ctx))
