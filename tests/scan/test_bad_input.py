"""Bad input around scans: unresolvable hostnames are refused before any packet; a truncated or
malformed nmap XML keeps what it holds (stage and inventory), with the error said plainly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.app.scan import history_scope, record_scan_inventory
from secaudit.core.errors import ScopeError
from secaudit.core.model import RunStatus, StageOutput, StageResult
from secaudit.history import HistoryStore
from secaudit.scan import NmapOutput, ScanOptions, scan_segments
from tests.scan.conftest import FIXTURES, make_profile

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
XML = (FIXTURES / "demo-traffic-control.xml").read_bytes()


class RecordedRunner:
    """Hands back recorded nmap output (real nmap XML, cut or damaged as a crash would leave it)."""

    def __init__(self, xml: bytes, error: str = "") -> None:
        self.xml, self.error = xml, error
        self.calls: list[tuple[str, ...]] = []

    def run(self, args: Sequence[str], *, timeout_s: int, on_output: object = None) -> NmapOutput:
        self.calls.append(tuple(args))
        return NmapOutput(argv=("nmap", *args), xml=self.xml, duration_s=0.1, error=self.error)


def _unresolvable(name: str) -> list[str]:
    raise OSError(-2, "Name or service not known")


def test_an_unresolvable_hostname_is_refused_before_any_packet(tmp_path: Path) -> None:
    runner = RecordedRunner(XML)
    with pytest.raises(ScopeError) as info:
        scan_segments(
            make_profile(),
            run_dir=tmp_path,
            now=NOW,
            progress=lambda e: None,
            targets=["127.20.2.10", "plc-07.tc.city.invalid"],
            options=ScanOptions(runner=runner, resolver=_unresolvable, who="t"),
        )
    assert "plc-07.tc.city.invalid: refused: hostname does not resolve" in info.value.message
    assert runner.calls == []
    (entry,) = [json.loads(x) for x in (tmp_path / "scan-audit.jsonl").read_text().splitlines()]
    assert (entry["result"], entry["targets"]) == ("refused", ["127.20.2.10", "plc-07.tc.city.invalid"])


def test_a_hostname_resolving_outside_scope_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScopeError) as info:
        scan_segments(
            make_profile(),
            run_dir=tmp_path,
            now=NOW,
            progress=lambda e: None,
            targets=["signal-gw.city.test"],
            options=ScanOptions(
                discover_first=False,
                runner=RecordedRunner(XML),
                resolver=lambda n: ["127.20.2.10", "127.99.0.1"],
            ),
        )
    assert "127.99.0.1 is not in any authorized segment" in info.value.message


def test_a_cut_xml_keeps_its_complete_hosts_in_findings_and_inventory(tmp_path: Path) -> None:
    cut = XML[: XML.rindex(b"<host ")]  # the last host is lost mid-way, as when nmap is killed
    out = scan_segments(
        make_profile(),
        run_dir=tmp_path,
        now=NOW,
        progress=lambda e: None,
        segments=["traffic-control"],
        options=ScanOptions(discover_first=False, runner=RecordedRunner(cut), who="t"),
    )
    assert out.result.status is RunStatus.INCOMPLETE
    assert out.result.errors == (
        "segment traffic-control: traffic-control.xml: XML ends or breaks at line 148, column 0: "
        "12 complete host(s) kept",
    )
    assert out.findings  # the hosts before the cut still produce their findings
    with HistoryStore.open(tmp_path / "h.sqlite") as store:
        hosts = record_scan_inventory(
            store, make_profile(), scan_id="s1", started_at=NOW, output=out, coverage=["127.20.2.0/28"]
        )
        (scan,) = store.inventory.list_scans(history_scope(make_profile()))
    assert len(hosts) == 12 and scan.status == "incomplete"
    assert "12 complete host(s) kept" in scan.errors[0]


def test_malformed_xml_is_an_error_not_a_crash(tmp_path: Path) -> None:
    out = scan_segments(
        make_profile(),
        run_dir=tmp_path,
        now=NOW,
        progress=lambda e: None,
        segments=["traffic-control"],
        options=ScanOptions(
            discover_first=False, runner=RecordedRunner(b"<nmaprun><host><<<garbage"), who="t"
        ),
    )
    assert out.result.status is RunStatus.FAILED
    assert out.findings == ()
    assert "traffic-control" in out.result.errors[0]
    trail = json.loads((tmp_path / "scan-audit.jsonl").read_text())
    assert trail["result"] in ("failed", "partial")
    # The inventory records the failure, and nothing invented.
    bad = StageOutput(
        findings=(),
        result=StageResult(name="scan", status=RunStatus.FAILED),
        artifacts=(str(tmp_path / "scan" / "traffic-control.xml"),),
    )
    with HistoryStore.open(tmp_path / "h.sqlite") as store:
        assert (
            record_scan_inventory(
                store, make_profile(), scan_id="s2", started_at=NOW, output=bad, coverage=[]
            )
            == []
        )
