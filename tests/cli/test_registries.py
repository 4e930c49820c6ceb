"""Extensions register in one place (issue 17, item 6): a log format, a report writer and a baseline probe
defined in a module of their own, outside the package, are seen by the CLI, profile validation,
sniffing, shard planning, report rebuild and baseline validation with no other edit; plugins declared
as entry points are loaded on first use. What docs/extending.md tells an engineer to write is what
these tests write.
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from secaudit.baseline.probes import REGISTRY as PROBES
from secaudit.catalog.profile import load_profile
from secaudit.cli.main import run as cli_run
from secaudit.core.errors import ConfigError, OperationalError, UsageError
from secaudit.core.registry import LOG_FORMATS, REPORT_WRITERS, Registry
from secaudit.logs import ReadStats, plan_shards, read_events, read_shard
from secaudit.logs.formats import SNIFFERS
from secaudit.logs.sniff import sniff
from tests.app.test_reporting import PROFILE, audited  # noqa: F401  (the fixture, reused)

PUMP_FORMAT = '''
"""Pump controller key=value log: one event a line, ``pumpctl ts=... host=... action=...``."""

from collections.abc import Iterator
from datetime import datetime

from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.context import Context, Lines
from secaudit.logs.formats import Sample, log_format, sniffer

PUMP = LogKind("pumpctl", frozenset(), frozenset({"pumpctl"}))


@sniffer("line", rank=5)
def sniff_pump(sample: Sample, line: bytes) -> str | None:
    return "pump-kv" if line.startswith(b"pumpctl ts=") else None


@log_format("pump-kv", split_after=b"\\n")
def parse_pump(lines: Lines, ctx: Context) -> Iterator[LogEvent]:
    """Pump controller key=value lines."""
    for number, raw in lines:
        pairs = dict(p.split("=", 1) for p in ctx.text(number, raw).split()[1:] if "=" in p)
        when = datetime.fromisoformat(pairs["ts"]) if "ts" in pairs else None
        yield LogEvent(dict(pairs), ctx.kind or PUMP, ctx.source, number, when)
'''

TSV_WRITER = '''
"""Findings as tab-separated rule id, severity and asset: for a spreadsheet macro."""

from typing import TextIO

from secaudit.core.report import Report
from secaudit.report.writers import report_writer


@report_writer("tsv", file_name="findings.tsv")
def render_tsv(report: Report, stream: TextIO) -> None:
    """Findings as tab-separated values."""
    stream.write("rule\\tseverity\\tasset\\n")
    for f in sorted((row.finding for row in report.rows), key=lambda f: (f.rule_id, f.asset.key)):
        stream.write(f"{f.rule_id}\\t{f.severity.name.lower()}\\t{f.asset.key}\\n")
'''

SIZE_PROBE = '''
"""A probe of file sizes."""

from collections.abc import Mapping
from typing import Any

from secaudit.baseline.model import Observation
from secaudit.baseline.probes.base import TREES, Param, probe
from secaudit.baseline.target import Target


@probe("file_size", targets=TREES, params=(Param(name="path", type=str, required=True),))
def file_size(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """The size in bytes of a file; unset when it is missing."""
    text = target.read_text(p["path"])
    size = None if text is None else str(len(text.encode()))
    return [Observation(subject=p["path"], value=size, file=p["path"])]
'''

PUMP_RULE = """\
title: Valve opened from the pump controller by hand
id: 6c0b7d8e-1f2a-4b3c-9d4e-5f6a7b8c9d0e
status: test
logsource:
  product: pumpctl
detection:
  selection:
    action: open_valve
  condition: selection
level: high
"""


def _import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> None:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module(name)


@pytest.fixture
def pump_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    LOG_FORMATS.ensure_loaded()
    sniffers = list(SNIFFERS)
    folder = tmp_path / "plugin"
    folder.mkdir()
    try:
        _import(folder, monkeypatch, "pump_format_plugin", PUMP_FORMAT)
        yield tmp_path
    finally:
        LOG_FORMATS.remove("pump-kv")
        SNIFFERS[:] = sniffers
        sys.modules.pop("pump_format_plugin", None)


def _pump_log(path: Path, lines: int) -> Path:
    rows = [
        f"pumpctl ts=2026-12-01T10:{i % 60:02d}:00+00:00 host=pump-{i % 3} action="
        + ("open_valve" if i % 50 == 7 else "status")
        for i in range(lines)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_log_format_in_its_own_module_is_sniffed_read_and_split(
    pump_format: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _pump_log(pump_format / "station.txt", 3000)
    assert sniff(log.read_bytes()[:65536]) == "pump-kv"
    stats = ReadStats()
    events = list(read_events([str(log)], stats=stats))
    assert len(events) == 3000 and stats.by_format == {"pump-kv": 1}
    assert events[7].fields["action"] == "open_valve" and events[7].kind.product == "pumpctl"
    assert events[7].timestamp is not None and events[7].timestamp.minute == 7
    # its split_after lets a large file be read in shards, the same events as one read
    monkeypatch.setattr("secaudit.logs.reader.MIN_SHARD_BYTES", 4096)
    shards = plan_shards([str(log)], parts=4)
    assert len(shards) > 1 and {s.fmt for s in shards} == {"pump-kv"}
    sharded = [e for shard in shards for e in read_shard(shard, stats=ReadStats())]
    assert [(e.record, e.fields) for e in sharded] == [(e.record, e.fields) for e in events]


def test_a_log_format_in_its_own_module_is_offered_by_the_cli_and_hunted(
    pump_format: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_run(["logs", "hunt", "--help"]) == 0
    assert "pump-kv" in capsys.readouterr().out
    rules = pump_format / "rules"
    rules.mkdir()
    (rules / "valve.yml").write_text(PUMP_RULE, encoding="utf-8")
    log = _pump_log(pump_format / "station.log", 120)
    argv = ["logs", "hunt", "--json", "--rules", str(rules), "-o", str(pump_format / "h.jsonl"), str(log)]
    assert cli_run([*argv, "--input-format", "pump-kv"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["hits"], data["events"], data["formats"]) == (3, 120, {"pump-kv": 1})  # lines 8, 58, 108
    assert cli_run([*argv, "--input-format", "pump-kvv"]) == 2
    assert "pump-kv" in capsys.readouterr().err


def test_a_log_format_in_its_own_module_is_accepted_by_profile_validation(
    pump_format: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "city.yaml"
    (tmp_path / "snap").mkdir(exist_ok=True)
    sources = "log_sources:\n  - name: pumps\n    paths: [pumps/]\n    format: {}\n"
    profile.write_text(PROFILE + sources.format("pump-kv"), encoding="utf-8")
    assert load_profile(profile).log_sources[0].format == "pump-kv"
    LOG_FORMATS.remove("pump-kv")
    with pytest.raises(ConfigError, match="pump-kv"):
        load_profile(profile)


def test_a_report_writer_in_its_own_module_writes_through_report_and_validates_in_profiles(
    audited: tuple[object, Path],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, tmp_path = audited
    REPORT_WRITERS.ensure_loaded()
    folder = tmp_path / "plugin"
    folder.mkdir()
    try:
        _import(folder, monkeypatch, "tsv_writer_plugin", TSV_WRITER)
        assert cli_run(["audit", "--help"]) == 0
        assert "tsv" in capsys.readouterr().out
        out = tmp_path / "one.tsv"
        history = str(tmp_path / "h.sqlite")
        assert cli_run(["report", "--history", history, "--format", "tsv", "--output", str(out)]) == 0
        rows = out.read_text().splitlines()
        assert rows[0] == "rule\tseverity\tasset"
        assert (
            "EXP-TELNET\thigh\tsignal-1" in rows and len(rows) == 4
        )  # header, telnet, root login (one row, two assets), spraying
        rebuilt = tmp_path / "rebuilt"
        argv = [
            "report",
            "--history",
            history,
            "--format",
            "tsv",
            "--format",
            "md",
            "--output-dir",
            str(rebuilt),
        ]
        assert cli_run(argv) == 0
        assert sorted(p.name for p in next(rebuilt.iterdir()).iterdir()) == ["findings.tsv", "summary.md"]
        profile = tmp_path / "with-tsv.yaml"
        profile.write_text(
            (tmp_path / "city.yaml")
            .read_text()
            .replace("formats: [html, json, sarif", "formats: [html, tsv, sarif"),
            encoding="utf-8",
        )
        assert load_profile(profile).report.formats[:3] == ("html", "tsv", "sarif")
    finally:
        REPORT_WRITERS.remove("tsv")
        sys.modules.pop("tsv_writer_plugin", None)
    with pytest.raises(ConfigError, match="unknown report format 'tsv'"):
        load_profile(profile)


def test_a_probe_in_its_own_module_is_validated_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "sizes.yaml"
    baseline.write_text(
        textwrap.dedent(
            """\
            id: sizes
            title: Sizes
            version: '1'
            applies_to: tests
            checks:
              - id: t-motd-empty
                title: The login banner file is empty
                rationale: test
                section: "1 Banners"
                severity: low
                references: {cis-controls: ["4.1"]}
                probe: {type: file_size, path: /etc/motd}
                expect: {equals: "0"}
                remediation: empty it
            """
        ),
        encoding="utf-8",
    )
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "motd").write_text("welcome\n")
    argv = [
        "baseline",
        "check",
        "--baseline",
        str(baseline),
        "--target",
        f"offline:{root}",
        "--format",
        "json",
    ]
    assert cli_run(argv) == 2
    assert "unknown probe 'file_size'" in capsys.readouterr().err
    folder = tmp_path / "plugin"
    folder.mkdir()
    try:
        _import(folder, monkeypatch, "size_probe_plugin", SIZE_PROBE)
        assert cli_run(argv) == 1
        result = json.loads(capsys.readouterr().out)["results"][0]
        assert (result["id"], result["status"]) == ("t-motd-empty", "fail")
        assert result["evidence"][0]["value"] == "8"
    finally:
        PROBES.pop("file_size", None)
        sys.modules.pop("size_probe_plugin", None)


def test_entry_point_plugins_load_on_first_use_and_a_broken_one_names_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = tmp_path / "things_registry.py"
    holder.write_text("REGISTRY = None\n")
    (tmp_path / "acme_things.py").write_text(
        "import things_registry\nthings_registry.REGISTRY.register('acme', 42)\n"
    )
    dist = tmp_path / "acme_things-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-things\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[secaudit.test_things]\nacme = acme_things\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import things_registry  # type: ignore[import-not-found]

    registry: Registry[int] = Registry("thing", group="test_things")
    things_registry.REGISTRY = registry
    try:
        assert registry.names() == ("acme",) and registry.get("acme") == 42
        with pytest.raises(UsageError, match="did you mean 'acme'"):
            registry.get("acne")
        (dist / "entry_points.txt").write_text("[secaudit.test_broken]\nbroken = acme_missing_module\n")
        broken: Registry[int] = Registry("thing", group="test_broken")
        with pytest.raises(OperationalError, match=r"plugin 'broken' .*acme_missing_module"):
            broken.names()
    finally:
        for name in ("things_registry", "acme_things"):
            sys.modules.pop(name, None)
