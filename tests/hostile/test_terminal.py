"""Terminal-safe output: control characters from data never reach the terminal as themselves.

The planted sequences are what an attacker who writes a log line or a banner would use: clear the
screen (CSI 2J), set the window title (OSC 0), write the clipboard (OSC 52), move the cursor with
an 8-bit CSI (U+009B), overwrite the line with a bare CR, and reorder text with a bidi override.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from secaudit.cli.main import run as cli_run
from secaudit.report.text import terminal_safe

PLANTED = "\x1b[2J\x1b]0;owned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07\x9b31m\rX\u202egnp.exe"
# Nothing a terminal acts on may be left: C0 (but tab and newline), DEL, C1, bidi overrides.
_ACTIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _active(text: str) -> list[str]:
    # rich's own styling is ESC [ ... m; anything else that is active came from the data
    return _ACTIVE.findall(re.sub(r"\x1b\[[0-9;]*m", "", text))


def test_terminal_safe_shows_every_active_character() -> None:
    shown = terminal_safe(PLANTED + "\tok\nนายทะเบียน")
    assert _active(shown) == []
    assert shown.startswith("\\x1b[2J\\x1b]0;owned\\x07")
    assert "\\x9b31m\\x0dX\\u202egnp.exe" in shown
    assert shown.endswith("\tok\nนายทะเบียน")  # tab, newline and Thai marks stay


RULE = """\
title: "Hostile title \\e]0;t\\a\\e[2J"
id: 0e0a6a3d-4a2f-4c7e-9d61-7a9b8b0c1d2e
status: test
description: A rule whose title and matched event carry terminal escape sequences.
logsource:
  product: linux
detection:
  selection:
    message|contains: planted
  condition: selection
level: high
"""


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_hunt_output_on_a_terminal_carries_no_active_character(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per row, so the assertions see whole cells
    rule = tmp_path / "rule.yml"
    rule.write_text(RULE, encoding="utf-8")
    log = tmp_path / "events.jsonl"
    event = {"@timestamp": "2026-01-01T00:00:00Z", "message": f"planted {PLANTED}", "host": PLANTED}
    log.write_text(json.dumps(event) + "\n", encoding="utf-8")
    code = cli_run(
        ["logs", "hunt", "--rules", str(rule), "--format", fmt, "--logsource", "product=linux", str(log)]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    if fmt == "table":
        assert "Hostile title \\x1b]0;t\\x07\\x1b[2J" in captured.out
        assert "\\x1b[2J\\x1b]0;owned\\x07\\x1b]52;c;" in captured.out  # the host cell
        assert _active(captured.out) == []
    assert _active(captured.err) == []
