"""Bounded YAML: alias bombs, deep nesting and recursive aliases are refused with file:line, fast,
in every kind of content file (profiles, waivers, baselines, Sigma rules)."""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest

from secaudit.catalog.yamlload import ALIAS_BUDGET, MAX_DEPTH, parse_yaml
from secaudit.cli.main import run as cli_run
from secaudit.core.errors import ConfigError


def _laughs(levels: int = 9) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "alias bomb": (_laughs(), 1, "alias bomb"),
    "merge-key bomb": (
        "a: &a {x: 1, y: 2, z: 3, w: 4, v: 5, u: 6, t: 7, s: 8, r: 9, q: 10}\n"
        + "".join(
            f"m{i}: &m{i} [" + ", ".join([f"*{'a' if i == 0 else f'm{i - 1}'}"] * 10) + "]\n"
            for i in range(6)
        ),
        1,
        "alias bomb",
    ),
    "10,000 nested lists": ("[" * 10_000 + "]" * 10_000, 1, "nesting deeper"),
    "3,000 nested maps": (
        "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 3000)),
        MAX_DEPTH,
        "nesting deeper",
    ),
    "recursive alias": ("x: 1\na: &a [1, 2, *a]\n", 2, "recursive alias"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_yaml_is_refused_quickly_with_a_line(case: str) -> None:
    text, line, words = HOSTILE[case]
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ConfigError) as caught:
            parse_yaml(text, "hostile.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert peak < 200 * 1024 * 1024
    assert caught.value.location == f"hostile.yaml:{line}"
    assert words in caught.value.message


def test_aliases_within_the_budget_still_work() -> None:
    data = parse_yaml(
        "base: &b {port: 22, proto: tcp}\nrules:\n  - <<: *b\n    id: A\n  - <<: *b\n    id: B\n"
    )
    assert data["rules"] == [{"port": 22, "proto": "tcp", "id": "A"}, {"port": 22, "proto": "tcp", "id": "B"}]
    nested = "x: " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2) + "\n"
    assert parse_yaml(nested)["x"] is not None
    assert ALIAS_BUDGET >= 1000


@pytest.mark.parametrize(
    "command",
    [
        ["profile", "validate", "{file}"],
        ["rules", "check", "{file}"],
        ["logs", "hunt", "--rules", "{file}", "--format", "jsonl", "{log}"],
        ["baseline", "check", "--baseline", "{file}", "--target", "offline:{root}"],
    ],
    ids=["profile", "rules check", "hunt rules", "baseline"],
)
def test_every_content_loader_refuses_an_alias_bomb(
    tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_laughs(), encoding="utf-8")
    log = tmp_path / "events.jsonl"
    log.write_text('{"message": "x"}\n', encoding="utf-8")
    (tmp_path / "root").mkdir()
    args = [a.format(file=bomb, log=log, root=tmp_path / "root") for a in command]
    started = time.monotonic()
    code = cli_run(args)
    captured = capsys.readouterr()
    assert time.monotonic() - started < 20
    assert code in (1, 2), captured.err  # rules check reports problems with 1, loaders refuse with 2
    assert f"{bomb}:1" in captured.out + captured.err
    assert "Traceback" not in captured.err and "internal error" not in captured.err


@pytest.mark.parametrize("kind", ["fifo", "dev-zero-link", "dev-urandom-link"])
@pytest.mark.parametrize(
    "command",
    [
        ["profile", "validate", "{file}"],
        ["audit", "--profile", "{file}"],
        ["baseline", "check", "--baseline", "{file}", "--target", "offline:{root}"],
        [
            "baseline",
            "check",
            "--baseline",
            "debian12-server",
            "--waivers",
            "{file}",
            "--target",
            "offline:{root}",
        ],
        ["kev", "import", "{file}"],
    ],
    ids=["profile", "audit", "baseline", "waivers", "kev"],
)
def test_a_fifo_or_device_given_as_a_content_file_is_refused_at_once(
    tmp_path: Path, kind: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Given as a profile, a FIFO held the run until it was killed and /dev/zero filled the memory;
    now each is refused at once, naming the path and what it is."""
    path = tmp_path / "content.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero" if kind == "dev-zero-link" else "/dev/urandom")
    (tmp_path / "root").mkdir()
    args = [a.format(file=path, root=tmp_path / "root") for a in command]
    started = time.monotonic()
    code = cli_run(args)
    captured = capsys.readouterr()
    assert time.monotonic() - started < 20
    assert code == 2, captured.err
    what = "a FIFO" if kind == "fifo" else "a character device"
    assert f"{path}: is {what}, not a regular file" in " ".join(captured.err.split())
    assert "Traceback" not in captured.err and "internal error" not in captured.err


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["discover", "--pcap", "{file}"], "is a FIFO, not a capture file"),
        (["vuln", "import", "--store", "{store}", "{file}"], "is a FIFO, not a feed file"),
    ],
    ids=["pcap", "vuln feed"],
)
def test_a_fifo_given_as_a_capture_or_a_feed_is_refused_at_once(
    tmp_path: Path, command: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "input"
    os.mkfifo(fifo)
    started = time.monotonic()
    code = cli_run([a.format(file=fifo, store=tmp_path / "vuln.sqlite") for a in command])
    captured = capsys.readouterr()
    assert time.monotonic() - started < 20  # was: blocked in open() until killed
    assert code in (2, 3), captured.err
    assert words in " ".join(captured.err.split())
    assert "Traceback" not in captured.err
