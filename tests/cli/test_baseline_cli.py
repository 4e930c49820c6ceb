"""``secaudit baseline list/check`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secaudit.cli.baseline import baseline
from secaudit.cli.main import cli, run

REPO = Path(__file__).resolve().parents[2]
if "baseline" not in cli.commands:  # until the lead registers the group in cli/main.py
    cli.add_command(baseline)


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["baseline", "list", "--json"]) == 0
    listed = {b["id"]: b for b in json.loads(capsys.readouterr().out)}
    assert listed["debian12-server"]["checks"] >= 180
    assert listed["cisco-ios"]["targets"] == ["file"]


def test_check_json_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    target = f"file:{REPO / 'samples/snapshots/cc-core-rtr01.cfg'}"
    assert run(["baseline", "check", "--baseline", "cisco-ios", "--target", target, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    results = {r["id"]: r for r in data["results"]}
    assert results["ios-vty-ssh-only"]["status"] == "fail"
    assert results["ios-vty-ssh-only"]["evidence"][0]["line"] == 47
    assert results["ios-ssh-version-2"]["status"] == "pass"
    assert data["score"]["score"] == round(
        100 * data["score"]["pass"] / (data["score"]["pass"] + data["score"]["fail"]), 1
    )
    assert run(["baseline", "check", "--baseline", "cisco-ios", "--target", target, "--fail-on", "none"]) == 0


def test_check_table_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    target = f"file:{REPO / 'samples/snapshots/portal-nginx.conf'}"
    assert run(["baseline", "check", "--baseline", "nginx", "--target", target]) == 1
    out = capsys.readouterr().out
    assert "nginx-server-tokens-off" in out and "overall" in out
    assert run(["baseline", "check", "--baseline", "nginx", "--target", "ssh://a@127.0.0.1"]) == 2
    assert "not supported yet" in capsys.readouterr().err
    assert run(["baseline", "check", "--baseline", "ngnix", "--target", target]) == 2
    assert "did you mean 'nginx'" in capsys.readouterr().err
